import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { GatewayConfigError, gatewayConfigFrom } from "../../src/gateway/config.ts";

const MAIN = fileURLToPath(new URL("../../src/gateway/main.ts", import.meta.url));
const KEY = randomBytes(32).toString("base64");

/** The message `read` throws (a GatewayConfigError), or fails the test if it throws none. */
function messageOf(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayConfigError);
    return (error as Error).message;
  }
  throw new Error("the configuration was accepted");
}

describe("gateway configuration (npm run gateway)", () => {
  it("defaults the upstream timeout, queue and per-client limits, and checks the trusted proxies", () => {
    const base = {
      TMAI_RPC_URL: "http://127.0.0.1:8545",
      TMAI_UPSTREAM: "http://127.0.0.1:8788",
      TMAI_MASTER_KEY: KEY,
    };
    expect(gatewayConfigFrom(base)).to.deep.include({
      TMAI_UPSTREAM_TIMEOUT_MS: 10_000,
      TMAI_STORE_TIMEOUT_MS: 2_000,
      TMAI_UPSTREAM_MAX_IN_FLIGHT: 1_024,
      TMAI_SIGNIN_PER_MINUTE: 30,
      TMAI_AUTH_FAILURES_PER_MINUTE: 30,
      TMAI_MAX_KEYS_PER_WALLET: 100,
      TMAI_AUDIT_RETENTION_DAYS: 90,
    });
    expect(gatewayConfigFrom({ ...base, TMAI_TRUST_PROXY: "10.0.0.0/8,127.0.0.1" }).TMAI_TRUST_PROXY).to.equal(
      "10.0.0.0/8,127.0.0.1",
    );
    expect(messageOf(() => gatewayConfigFrom({ ...base, TMAI_TRUST_PROXY: "everyone" }))).to.include(
      "TMAI_TRUST_PROXY: must be addresses or CIDRs",
    );
    expect(messageOf(() => gatewayConfigFrom({ ...base, TMAI_UPSTREAM_TIMEOUT_MS: "0" }))).to.include(
      "TMAI_UPSTREAM_TIMEOUT_MS",
    );
  });

  it("fills in defaults and names every missing or malformed variable", () => {
    const config = gatewayConfigFrom({
      TMAI_RPC_URL: "http://127.0.0.1:8545",
      TMAI_UPSTREAM: "http://127.0.0.1:8788",
      TMAI_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    expect(config).to.deep.include({
      TMAI_GATEWAY_HOST: "127.0.0.1",
      TMAI_GATEWAY_PORT: 8787,
      TMAI_DATA_PREFIX: "/v1/data",
      TMAI_STORE_OUTAGE_PAID: "closed",
      TMAI_STORE_OUTAGE_FREE: "open",
      TMAI_SYNC_INTERVAL_MS: 2_000,
      TMAI_DRAIN_DELAY_MS: 5_000,
      TMAI_SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    const error = (() => {
      try {
        gatewayConfigFrom({
          TMAI_UPSTREAM: "not a url",
          TMAI_MASTER_KEY: "c2hvcnQ=",
          TMAI_GATEWAY_PORT: "99999",
          TMAI_REDIS_URL: "http://127.0.0.1:6379",
          TMAI_STORE_OUTAGE_PAID: "maybe",
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).to.be.instanceOf(GatewayConfigError);
    for (const name of [
      "TMAI_RPC_URL",
      "TMAI_UPSTREAM",
      "TMAI_MASTER_KEY: must be 32 bytes",
      "TMAI_GATEWAY_PORT",
      "TMAI_REDIS_URL: must be a redis:// or rediss:// URL",
      "TMAI_STORE_OUTAGE_PAID",
    ]) {
      expect(error?.message).to.include(name);
    }
  });

  it("gives each URL variable an example of its own kind, saying whether it is missing or malformed", () => {
    const message = messageOf(() =>
      gatewayConfigFrom({ TMAI_UPSTREAM: "localhost:8788", TMAI_SIWE_ORIGIN: "api.example.com", TMAI_MASTER_KEY: KEY }),
    );
    expect(message).to.include("TMAI_RPC_URL: is required: a URL such as http://127.0.0.1:8545 (the chain's JSON-RPC)");
    expect(message).to.include(
      "TMAI_UPSTREAM: must be a URL such as http://127.0.0.1:8788 (the data API the gateway fronts)",
    );
    expect(message).to.include("TMAI_SIWE_ORIGIN: must be a URL such as https://api.example.com");
  });

  it("refuses a drain delay that leaves requests in flight no time before the shutdown deadline", () => {
    const base = {
      TMAI_RPC_URL: "http://127.0.0.1:8545",
      TMAI_UPSTREAM: "http://127.0.0.1:8788",
      TMAI_MASTER_KEY: KEY,
    };
    expect(gatewayConfigFrom({ ...base, TMAI_DRAIN_DELAY_MS: "0", TMAI_SHUTDOWN_TIMEOUT_MS: "100" })).to.deep.include({
      TMAI_DRAIN_DELAY_MS: 0,
      TMAI_SHUTDOWN_TIMEOUT_MS: 100,
    });
    expect(messageOf(() => gatewayConfigFrom({ ...base, TMAI_DRAIN_DELAY_MS: "25000" }))).to.include(
      "TMAI_DRAIN_DELAY_MS: must be shorter than TMAI_SHUTDOWN_TIMEOUT_MS",
    );
    expect(messageOf(() => gatewayConfigFrom({ ...base, TMAI_SHUTDOWN_TIMEOUT_MS: "3600000" }))).to.include(
      "TMAI_SHUTDOWN_TIMEOUT_MS",
    );
  });

  it("refuses to start without its configuration, saying what is missing, with exit code 1", async () => {
    const failure = await promisify(execFile)(process.execPath, [MAIN], { env: { PATH: process.env.PATH } }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).to.equal(1);
    expect(failure?.stderr).to.include("the gateway's configuration is incomplete");
    expect(failure?.stderr).to.include("TMAI_MASTER_KEY: is required");
  });
});
