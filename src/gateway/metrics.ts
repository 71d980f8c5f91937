import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { TierTracker } from "./TierTracker.ts";
import type { UpstreamGuard } from "./UpstreamGuard.ts";
import type { UsageStore } from "./usageStore.ts";

/** The gateway's Prometheus metrics, in a registry of its own (several gateways may share a process). */
export function createGatewayMetrics(tracker: TierTracker, store: UsageStore, guard: UpstreamGuard) {
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
  /** A gauge whose value is read when Prometheus scrapes. */
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value === undefined) this.reset();
        else this.set(value);
      },
    });
  gauge(
    "tmai_gateway_chain_applied_block",
    "The last block the tier tracker applied (alert when it stops moving)",
    () => (tracker.appliedBlock === undefined ? undefined : Number(tracker.appliedBlock.number)),
  );
  gauge("tmai_gateway_tracked_wallets", "Wallets whose lock the tier tracker keeps in memory", () => tracker.size);
  gauge("tmai_gateway_chain_reorgs", "Reorgs the tier tracker undid since it started", () => tracker.counters.reorgs);
  gauge(
    "tmai_gateway_tracked_wallet_evictions",
    "Wallets forgotten past the tracker's bound since it started",
    () => tracker.counters.evictions,
  );
  gauge("tmai_gateway_upstream_in_flight", "Requests waiting for the upstream", () => guard.inFlight);
  gauge("tmai_gateway_upstream_circuit_open", "1 while the upstream's circuit is open (requests refused)", () =>
    guard.state === "closed" ? 0 : 1,
  );
  gauge("tmai_gateway_store_durable", "1 when the usage store keeps counters across its restarts (Redis: AOF)", () =>
    store.durable === undefined ? undefined : store.durable ? 1 : 0,
  );
  gauge(
    "tmai_gateway_usage_counters_lost_timestamp_seconds",
    "When the usage store last found its counters lost (a Redis restarted without persistence)",
    () => (store.countersLostAt === undefined ? undefined : store.countersLostAt / 1000),
  );
  return { registry, requests, latency, storeErrors };
}
