import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { DEFAULT_PLANS } from "../../src/gateway/plans.ts";
import { RedisUsageStore, UsageStoreUnavailableError } from "../../src/gateway/RedisUsageStore.ts";

/** `.ci/run` starts Debian's redis-server on 127.0.0.1:6379; REDIS_URL points elsewhere. */
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("gateway usage in Redis (several gateway instances)", () => {
  it("lets exactly 50 of 1,000 concurrent requests from two instances through a quota of 50", async () => {
    const [a, b] = [new RedisUsageStore(REDIS_URL), new RedisUsageStore(REDIS_URL)];
    await a.connect();
    await b.connect();
    try {
      const wallet = `0x${randomBytes(20).toString("hex")}`;
      const plan = { name: "Basic", monthlyQuota: 50, perMinute: 1_000_000 };
      const now = Date.UTC(2027, 5, 15);
      const decisions = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => (i % 2 ? a : b).decide(wallet, plan, 1, now)),
      );
      expect(decisions.filter((d) => d.allowed)).to.have.length(50);
      expect(decisions.filter((d) => !d.allowed).every((d) => d.refusedBy === "quota")).to.equal(true);
      // The same rules as the SQLite store: the minute's rate first, calendar months, usage kept across a tier change.
      const basic = DEFAULT_PLANS.plans[0];
      const other = `0x${randomBytes(20).toString("hex")}`;
      for (let i = 0; i < 10; i++) expect((await a.decide(other, basic, 1, now)).allowed).to.equal(true);
      expect((await b.decide(other, basic, 1, now)).refusedBy).to.equal("rate");
      const upgraded = await a.decide(wallet, DEFAULT_PLANS.plans[1], 1, now + 60_000);
      expect(upgraded.quota).to.deep.include({ limit: 10_000, used: 51 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("reports an unreachable Redis as UsageStoreUnavailableError instead of hanging or crashing", async () => {
    const store = new RedisUsageStore("redis://127.0.0.1:9");
    const error = await store.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(UsageStoreUnavailableError);
    expect((error as Error).message).to.include("cannot reach Redis");
    await store.close();
  });
});
