import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { GatewayConfigError, gatewayConfigFrom } from "../../src/gateway/config.ts";

const MAIN = fileURLToPath(new URL("../../src/gateway/main.ts", import.meta.url));

describe("gateway configuration (npm run gateway)", () => {
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
