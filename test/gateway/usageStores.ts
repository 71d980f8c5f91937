import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULT_PLANS } from "../../src/gateway/plans.ts";
import { RedisUsageStore } from "../../src/gateway/RedisUsageStore.ts";
import { SqliteFileInUseError, SqliteUsageStore } from "../../src/gateway/SqliteUsageStore.ts";
import type { UsageStore } from "../../src/gateway/usageStore.ts";
import { REDIS_URL } from "./helpers/redis.ts";

const [basic, advanced] = DEFAULT_PLANS.plans;
const JAN_31_LATE = Date.UTC(2027, 0, 31, 23, 59, 30);
const wallet = () => `0x${randomBytes(20).toString("hex")}`;

/**
 * Two gateways' view of one store kind: for Redis, two clients (as two gateway instances); for SQLite, the one store
 * of the one gateway process that owns the file (a second one is refused, see below). `reopen` is a new instance
 * after the first is closed, as after a restart.
 */
interface Kind {
  open: () => Promise<[UsageStore, UsageStore]>;
  reopen: (closed: UsageStore) => Promise<UsageStore>;
}
const files = new WeakMap<UsageStore, string>();
const prefixes = new WeakMap<UsageStore, string>();
const redisStore = async (prefix: string) => {
  const store = new RedisUsageStore(REDIS_URL, prefix);
  await store.connect();
  prefixes.set(store, prefix);
  return store;
};
const kinds: [string, Kind][] = [
  [
    "SQLite (one gateway process per file)",
    {
      open: async () => {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "usage-")), "usage.sqlite");
        const store = new SqliteUsageStore(file);
        files.set(store, file);
        return [store, store];
      },
      reopen: async (closed) => new SqliteUsageStore(files.get(closed) as string),
    },
  ],
  [
    "Redis (two clients)",
    {
      open: async () => {
        const prefix = `test:${randomBytes(6).toString("hex")}:`;
        return [await redisStore(prefix), await redisStore(prefix)];
      },
      reopen: async (closed) => redisStore(prefixes.get(closed) as string),
    },
  ],
];

for (const [kind, { open, reopen }] of kinds) {
  describe(`gateway usage store: ${kind}`, () => {
    let a: UsageStore;
    let b: UsageStore;
    beforeEach(async () => {
      [a, b] = await open();
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it("lets exactly 50 of 1,000 concurrent requests through a quota of 50", async () => {
      const payer = wallet();
      const plan = { name: "Basic", monthlyQuota: 50, perMinute: 1_000_000 };
      const now = Date.UTC(2027, 5, 15);
      const decisions = await Promise.all(
        Array.from({ length: 1_000 }, async (_, i) => {
          await new Promise((resolve) => setImmediate(resolve));
          return (i % 2 ? a : b).decide(payer, `key${i % 3}`, plan, 1, now);
        }),
      );
      expect(decisions.filter((d) => d.allowed)).to.have.length(50);
      const refused = decisions.filter((d) => !d.allowed);
      expect(refused.every((d) => d.refusedBy === "quota" && d.quota.remaining === 0)).to.equal(true);
      // Staking more moves the wallet to Advanced at once; the month's 50 calls still count.
      const upgraded = await a.decide(payer, "key0", advanced, 1, now);
      expect(upgraded.allowed).to.equal(true);
      expect(upgraded.quota).to.deep.include({ limit: 10_000, used: 51, remaining: 9_949 });
      expect((await b.peek(payer, advanced, now)).quota.used).to.equal(51);
    });

    it("refuses on the minute's rate first, counts calendar months in UTC, and reports exact reset times", async () => {
      const payer = wallet();
      for (let i = 0; i < 10; i++) expect((await a.decide(payer, "k", basic, 1, JAN_31_LATE)).allowed).to.equal(true);
      const limited = await b.decide(payer, "k", basic, 1, JAN_31_LATE);
      expect(limited).to.deep.include({ allowed: false, refusedBy: "rate" });
      expect(limited.rate).to.deep.equal({
        limit: 10,
        remaining: 0,
        resetsAt: Math.floor(JAN_31_LATE / 60_000 + 1) * 60,
      });
      expect(limited.quota).to.deep.equal({
        limit: 50,
        used: 10,
        remaining: 40,
        resetsAt: Date.UTC(2027, 1, 1) / 1000,
      });
      // The next minute is February: a new month and a new minute.
      const february = await a.decide(payer, "k", basic, 1, JAN_31_LATE + 60_000);
      expect(february.allowed).to.equal(true);
      expect(february.quota.used).to.equal(1);
      // A route costing more than what is left is refused by the quota, and charges nothing.
      const costly = await a.decide(payer, "k", basic, 50, JAN_31_LATE + 60_000);
      expect(costly).to.deep.include({ allowed: false, refusedBy: "quota" });
      expect((await b.peek(payer, basic, JAN_31_LATE + 60_000)).quota.used).to.equal(1);
    });

    it("keeps per-key daily counts of requests, credits and refusals", async () => {
      const payer = wallet();
      const plan = { name: "Small", monthlyQuota: 5, perMinute: 100 };
      const day1 = Date.UTC(2027, 2, 31, 23, 0);
      const day2 = Date.UTC(2027, 3, 1, 1, 0);
      await a.decide(payer, "laptop", plan, 2, day1);
      await b.decide(payer, "server", plan, 1, day1);
      // April is a new month: 2 + 2 credits fit in 5, a third call (6 > 5) is refused.
      await a.decide(payer, "laptop", plan, 2, day2);
      await a.decide(payer, "laptop", plan, 2, day2);
      await a.decide(payer, "laptop", plan, 2, day2);
      const days = await b.keyDays(["laptop", "server", "unused"], "2027-03-01", "2027-04-30");
      expect(days).to.deep.equal([
        { keyId: "laptop", day: "2027-03-31", requests: 1, credits: 2, refused: 0 },
        { keyId: "laptop", day: "2027-04-01", requests: 2, credits: 4, refused: 1 },
        { keyId: "server", day: "2027-03-31", requests: 1, credits: 1, refused: 0 },
      ]);
      expect(await a.keyDays(["laptop"], "2027-04-02", "2027-04-30")).to.deep.equal([]);
    });

    it("returns the daily counts of 200 keys over 366 days, in key then day order, and only the days asked for", async function () {
      this.timeout(60_000);
      const payer = wallet();
      const plan = { name: "Unlimited", monthlyQuota: 10_000_000, perMinute: 10_000_000 };
      const keyIds = Array.from({ length: 200 }, (_, k) => `many${k}`);
      const first = Date.UTC(2027, 0, 1);
      // Key k spends 1 + (k + d) % 5 credits on day d (one request), and key 0 is also refused once on 2027-03-01.
      const cost = (k: number, d: number) => 1 + ((k + d) % 5);
      const charges = keyIds.flatMap((keyId, k) => Array.from({ length: 366 }, (_, d) => ({ keyId, k, d })));
      // Bound: 73,200 decisions, 5,000 in flight at a time.
      for (let i = 0; i < charges.length; i += 5_000) {
        await Promise.all(
          charges
            .slice(i, i + 5_000)
            .map(({ keyId, k, d }, j) =>
              (j % 2 ? a : b).decide(payer, keyId, plan, cost(k, d), first + d * 86_400_000),
            ),
        );
      }
      await a.decide(payer, "many0", { ...plan, monthlyQuota: 0 }, 1, Date.UTC(2027, 2, 1));
      const line = (day: { keyId: string; day: string; requests: number; credits: number; refused: number }) =>
        `${day.keyId} ${day.day} ${day.requests} ${day.credits} ${day.refused}`;
      const expected = (fromDay: number, toDay: number) =>
        keyIds.flatMap((keyId, k) =>
          Array.from({ length: toDay - fromDay + 1 }, (_, i) => {
            const d = fromDay + i;
            const day = new Date(first + d * 86_400_000).toISOString().slice(0, 10);
            return `${keyId} ${day} 1 ${cost(k, d)} ${keyId === "many0" && day === "2027-03-01" ? 1 : 0}`;
          }),
        );
      const all = (await b.keyDays([...keyIds, "unused"], "2027-01-01", "2028-01-01")).map(line);
      expect(all).to.have.length(200 * 366);
      const wanted = expected(0, 365);
      const wrong = all.findIndex((row, i) => row !== wanted[i]);
      expect(wrong, `row ${wrong}: ${all[wrong]}`).to.equal(-1);
      // A range that starts and ends inside months (2027-03-15 is day 73, 2027-05-10 day 129).
      const part = (await a.keyDays(keyIds, "2027-03-15", "2027-05-10")).map(line);
      expect(part).to.deep.equal(expected(73, 129));
    });

    it("gives a refunded charge back to the month and to the key's day, keeping the request counted", async () => {
      const payer = wallet();
      const now = Date.UTC(2027, 5, 15, 10);
      await a.decide(payer, "k", advanced, 3, now);
      await a.decide(payer, "k", advanced, 2, now);
      await b.refund(payer, "k", 2, now);
      expect((await a.peek(payer, advanced, now)).quota.used).to.equal(3);
      expect(await b.keyDays(["k"], "2027-06-15", "2027-06-15")).to.deep.equal([
        { keyId: "k", day: "2027-06-15", requests: 2, credits: 3, refused: 0 },
      ]);
    });

    it("keeps every answered charge across a restart", async () => {
      const payer = wallet();
      const now = Date.UTC(2027, 5, 15);
      const answered = await Promise.all(Array.from({ length: 20 }, () => a.decide(payer, "k", advanced, 3, now)));
      expect(answered.every((d) => d.allowed)).to.equal(true);
      await a.close();
      await b.close();
      const after = await reopen(a);
      try {
        expect((await after.peek(payer, advanced, now)).quota.used).to.equal(60);
        expect(await after.keyDays(["k"], "2027-06-15", "2027-06-15")).to.deep.equal([
          { keyId: "k", day: "2027-06-15", requests: 20, credits: 60, refused: 0 },
        ]);
      } finally {
        await after.close();
      }
    });

    it("accepts a signed request's nonce once, in every instance, until it expires", async () => {
      const nonce = randomBytes(16).toString("hex");
      const now = Math.floor(Date.now() / 1000);
      expect(await a.claimNonce(nonce, now + 60, now)).to.equal(true);
      expect(await b.claimNonce(nonce, now + 60, now)).to.equal(false);
      expect(await a.claimNonce(randomBytes(16).toString("hex"), now + 60, now)).to.equal(true);
      expect(await a.ping()).to.equal(true);
    });
  });
}

describe("gateway usage store: SQLite file ownership", () => {
  it("refuses a second gateway on the same file, saying to use Redis for several instances", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "usage-")), "usage.sqlite");
    const first = new SqliteUsageStore(file);
    try {
      expect(() => new SqliteUsageStore(file))
        .to.throw(SqliteFileInUseError)
        .with.property("message")
        .that.includes("TMAI_REDIS_URL");
    } finally {
      await first.close();
    }
    // Once the first is closed, the file can be opened again.
    await new SqliteUsageStore(file).close();
  });

  it("reports its counters durable on a file, and not in memory", async () => {
    const onFile = new SqliteUsageStore(path.join(mkdtempSync(path.join(tmpdir(), "usage-")), "usage.sqlite"));
    const inMemory = new SqliteUsageStore();
    expect([onFile.durable, inMemory.durable]).to.deep.equal([true, false]);
    await onFile.close();
    await inMemory.close();
  });
});
