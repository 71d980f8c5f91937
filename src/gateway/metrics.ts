import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { TierTracker } from "./TierTracker.ts";

/** The gateway's Prometheus metrics, in a registry of its own (several gateways may share a process). */
export function createGatewayMetrics(tracker: TierTracker) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tmai_gateway_" });
  const requests = new Counter({
    name: "tmai_gateway_requests_total",
    help: "Requests by route, tier and outcome (ok or the problem type)",
    labelNames: ["route", "tier", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "tmai_gateway_request_duration_seconds",
    help: "Time from request to response, including the upstream for data routes",
    labelNames: ["route"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Counter({
    name: "tmai_gateway_tier_lookups_total",
    help: "Tier lookups answered from memory (hit) or needing the wallet's lock from the chain (miss)",
    labelNames: ["result"] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "hit" }, tracker.lookups.hit);
      this.inc({ result: "miss" }, tracker.lookups.miss);
    },
  });
  new Counter({
    name: "tmai_gateway_rpc_calls_total",
    help: "JSON-RPC requests made to the chain (event sync and first sight of a wallet)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(tracker.rpcCalls);
    },
  });
  const storeErrors = new Counter({
    name: "tmai_gateway_store_errors_total",
    help: "Usage store operations that failed (store unreachable)",
    labelNames: ["store"] as const,
    registers: [registry],
  });
  return { registry, requests, latency, storeErrors };
}
