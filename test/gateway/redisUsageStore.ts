import { expect } from "chai";
import { createClient } from "redis";
import type { PrivateRedisOptions } from "../../scripts/privateRedis.ts";
import { RedisUsageStore, type RedisUsageStoreOptions } from "../../src/gateway/RedisUsageStore.ts";
import { UsageStoreUnavailableError } from "../../src/gateway/usageStore.ts";
import { PrivateRedis } from "./helpers/redis.ts";

const plan = { name: "Advanced", monthlyQuota: 10_000, perMinute: 1_000 };
const JUNE = Date.UTC(2027, 5, 15, 12);
const TIMEOUT_MS = 300;

/** Waits until `condition` holds, checking every 20 ms for at most `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  // Bound: ms / 20 checks.
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How long `promise` takes to settle (ms), and its rejection if any. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return { ms: Date.now() - start, error };
}

describe("gateway usage store: Redis stalls, restarts and lost counters", () => {
  let redis: PrivateRedis;
  const stores: RedisUsageStore[] = [];

  /** A private redis-server and a store on it (a command timeout of 300 ms unless told). */
  async function start(
    redisOptions: PrivateRedisOptions = {},
    storeOptions: RedisUsageStoreOptions = {},
  ): Promise<RedisUsageStore> {
    redis = await PrivateRedis.start(redisOptions);
    return open(storeOptions);
  }
  async function open(storeOptions: RedisUsageStoreOptions = {}): Promise<RedisUsageStore> {
    const store = new RedisUsageStore(redis.url, "t:", { commandTimeoutMs: TIMEOUT_MS, ...storeOptions });
    stores.push(store);
    await store.connect();
    return store;
  }
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await redis.stop();
  });

  describe("a stalled Redis (connected, not answering)", () => {
    it("fails a decision with UsageStoreUnavailableError within the command timeout", async () => {
      const store = await start();
      expect((await store.decide("0xa", "k", plan, 1, JUNE)).allowed).to.equal(true);
      await redis.stall();
      const { ms, error } = await timed(store.decide("0xa", "k", plan, 1, JUNE));
      expect(error).to.be.instanceOf(UsageStoreUnavailableError);
      expect((error as Error).message).to.include(`did not answer the usage decision within ${TIMEOUT_MS} ms`);
      expect(ms).to.be.within(TIMEOUT_MS - 20, TIMEOUT_MS + 400);
    });

    it("fails every later call at once while the stall lasts, and reports the store not ready", async () => {
      const store = await start();
      await redis.stall();
      await timed(store.decide("0xa", "k", plan, 1, JUNE));
      for (const call of [
        store.decide("0xa", "k", plan, 1, JUNE),
        store.peek("0xa", plan, JUNE),
        store.keyDays(["k"], "2027-06-01", "2027-06-30"),
        store.claimNonce("n", 100, 50),
        store.refund("0xa", "k", 1, JUNE),
      ]) {
        const { ms, error } = await timed(call);
        expect(error).to.be.instanceOf(UsageStoreUnavailableError);
        expect(ms).to.be.below(100);
      }
      expect(await store.ping()).to.equal(false);
    });

    it("fails the calls already waiting when one times out, instead of letting them pile up", async () => {
      const store = await start({}, { commandTimeoutMs: 1_000 });
      await redis.stall();
      const first = timed(store.decide("0xa", "k", plan, 1, JUNE));
      await new Promise((resolve) => setTimeout(resolve, 600));
      // Sent 600 ms later, failed with the first one (at 1,000 ms), not at its own timeout (1,600 ms).
      const second = await timed(store.decide("0xa", "k", plan, 1, JUNE));
      expect((await first).error).to.be.instanceOf(UsageStoreUnavailableError);
      expect(second.error).to.be.instanceOf(UsageStoreUnavailableError);
      expect(second.ms).to.be.below(700);
    });

    it("works again once Redis answers, with the counts it had", async () => {
      const store = await start();
      await store.decide("0xa", "k", plan, 2, JUNE);
      await redis.stall();
      await timed(store.decide("0xa", "k", plan, 1, JUNE));
      redis.wake();
      await until(() => store.ping());
      const after = await store.decide("0xa", "k", plan, 3, JUNE);
      expect(after).to.deep.include({ allowed: true });
      expect(after.quota.used).to.equal(5);
    });

    it("charges nothing for the decisions that timed out when the stalled Redis wakes up", async () => {
      const store = await start();
      await store.decide("0xa", "k", plan, 1, JUNE);
      await redis.stall();
      const failed = await Promise.all(Array.from({ length: 5 }, () => timed(store.decide("0xa", "k", plan, 1, JUNE))));
      expect(failed.every(({ error }) => error instanceof UsageStoreUnavailableError)).to.equal(true);
      redis.wake();
      await until(() => store.ping());
      // Redis has run the five decisions it was sent while stalled, each past its deadline, so each changed nothing.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await store.peek("0xa", plan, JUNE)).quota.used).to.equal(1);
      expect(await store.keyDays(["k"], "2027-06-15", "2027-06-15")).to.deep.equal([
        { keyId: "k", day: "2027-06-15", requests: 1, credits: 1, refused: 0 },
      ]);
    });

    it("closes within the command timeout", async () => {
      const store = await start();
      await redis.stall();
      const pending = store.decide("0xa", "k", plan, 1, JUNE).catch(() => undefined);
      const { ms } = await timed(store.close());
      expect(ms).to.be.below(TIMEOUT_MS + 200);
      await pending;
    });
  });

  describe("a large usage read", () => {
    it("lets another wallet's decision through while it reads 1,500 keys × 366 days, instead of queueing it behind", async () => {
      const store = await start({}, { commandTimeoutMs: 10_000 });
      const keyIds = Array.from({ length: 1_500 }, (_, k) => `key${k}`);
      await store.decide("0xa", "key7", plan, 3, Date.UTC(2027, 6, 4));
      const read = timed(store.keyDays(keyIds, "2027-01-01", "2028-01-01"));
      const other = await timed(store.decide("0xb", "k", plan, 1, JUNE));
      expect(other.error).to.equal(undefined);
      // One batch of hashes at most goes before it (a read of every day of every key: 549,000 commands, seconds).
      expect(other.ms).to.be.below(250);
      expect((await read).error).to.equal(undefined);
      expect(await store.keyDays(keyIds, "2027-01-01", "2028-01-01")).to.deep.equal([
        { keyId: "key7", day: "2027-07-04", requests: 1, credits: 3, refused: 0 },
      ]);
    });
  });

  describe("a restart of Redis", () => {
    it("keeps the counters across a crash with appendonly yes (appendfsync everysec), and reports no loss", async () => {
      const lost: number[] = [];
      const store = await start({ appendfsync: "everysec" }, { onCountersLost: (at) => lost.push(at) });
      expect(store.durable).to.equal(true);
      for (let i = 0; i < 3; i++) await store.decide("0xa", "k", plan, 2, JUNE);
      await redis.stop("SIGKILL");
      await redis.resume();
      await until(() => store.ping());
      expect((await store.peek("0xa", plan, JUNE)).quota.used).to.equal(6);
      expect(await store.keyDays(["k"], "2027-06-01", "2027-06-30")).to.deep.equal([
        { keyId: "k", day: "2027-06-15", requests: 3, credits: 6, refused: 0 },
      ]);
      expect(store.countersLostAt).to.equal(undefined);
      expect(lost).to.deep.equal([]);
    });

    it("reports the counters lost, to every instance, when a Redis without persistence restarts", async () => {
      const lost: string[] = [];
      const a = await start({}, { onCountersLost: () => lost.push("a") });
      const b = await open({ onCountersLost: () => lost.push("b") });
      expect(a.durable).to.equal(false);
      await a.decide("0xa", "k", plan, 2, JUNE);
      const before = Date.now();
      await redis.stop("SIGTERM");
      await redis.resume();
      await until(() => lost.length === 2);
      expect(lost.sort()).to.deep.equal(["a", "b"]);
      expect(a.countersLostAt).to.be.at.least(before);
      expect(b.countersLostAt).to.be.at.least(before);
      expect(a.countersSince).to.equal(b.countersSince).and.to.be.at.least(before);
      // They really were lost: the month starts again from zero.
      expect((await a.peek("0xa", plan, JUNE)).quota.used).to.equal(0);
    });

    it("reports the counters lost at the next ping when Redis is flushed without a restart", async () => {
      const store = await start({ appendfsync: "everysec" });
      await store.decide("0xa", "k", plan, 2, JUNE);
      const admin = createClient({ url: redis.url });
      await admin.connect();
      await admin.flushAll();
      await admin.close();
      expect(store.countersLostAt).to.equal(undefined);
      expect(await store.ping()).to.equal(true);
      expect(store.countersLostAt).to.be.a("number");
    });

    it("leaves durability unknown, and works, when Redis refuses INFO (as managed services may)", async () => {
      const store = await start({ args: ["--rename-command", "INFO", ""] });
      expect(store.durable).to.equal(undefined);
      expect((await store.decide("0xa", "k", plan, 1, JUNE)).allowed).to.equal(true);
    });
  });
});
