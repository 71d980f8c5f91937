import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULT_PLANS, loadPlans, PlansConfigError, routeFor } from "../../src/gateway/plans.ts";
import { monthOf, SqliteUsageStore } from "../../src/gateway/SqliteUsageStore.ts";

const [basic, advanced] = DEFAULT_PLANS.plans;
const JAN_31_LATE = Date.UTC(2027, 0, 31, 23, 59, 30);

describe("gateway plans and usage (SQLite)", () => {
  it("has the vendor's monthly quotas by default and validates a plans file path by path", () => {
    expect(DEFAULT_PLANS.plans.map((p) => p.monthlyQuota)).to.deep.equal([50, 10_000, 50_000, 250_000]);
    const dir = mkdtempSync(path.join(tmpdir(), "plans-"));
    const good = path.join(dir, "plans.json");
    writeFileSync(
      good,
      JSON.stringify({
        ...DEFAULT_PLANS,
        routes: [
          { prefix: "/v1/data/premium/", minTier: 2, cost: 5 },
          { prefix: "/v1/data/", minTier: 0, cost: 1 },
        ],
      }),
    );
    const plans = loadPlans(good);
    expect(routeFor(plans, "/v1/data/premium/x")).to.deep.equal({ prefix: "/v1/data/premium/", minTier: 2, cost: 5 });
    expect(routeFor(plans, "/v1/data/prices")?.cost).to.equal(1);
    expect(routeFor(plans, "/v1/me")).to.equal(undefined);
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ plans: [basic, advanced], routes: [{ prefix: "data", minTier: 7, cost: 0 }] }));
    expect(() => loadPlans(bad))
      .to.throw(PlansConfigError)
      .with.property("message")
      .that.includes("plans:")
      .and.includes("routes.0.prefix")
      .and.includes("routes.0.minTier")
      .and.includes("routes.0.cost");
  });

  it("counts calendar months in UTC and minutes for the rate", () => {
    expect(monthOf(JAN_31_LATE)).to.deep.equal({ period: "2027-01", resetsAt: Date.UTC(2027, 1, 1) / 1000 });
    expect(monthOf(Date.UTC(2027, 11, 31, 23, 59, 59)).resetsAt).to.equal(Date.UTC(2028, 0, 1) / 1000);
    const store = new SqliteUsageStore();
    const wallet = "0xA11CE";
    for (let i = 0; i < 10; i++) expect(store.decide(wallet, basic, 1, JAN_31_LATE).allowed).to.equal(true);
    const limited = store.decide(wallet, basic, 1, JAN_31_LATE);
    expect(limited.allowed).to.equal(false);
    expect(limited.refusedBy).to.equal("rate");
    expect(limited.rate).to.deep.equal({
      limit: 10,
      remaining: 0,
      resetsAt: Math.floor(JAN_31_LATE / 60_000 + 1) * 60,
    });
    // The next minute is February: a new month and a new minute.
    const february = store.decide(wallet, basic, 1, JAN_31_LATE + 60_000);
    expect(february.allowed).to.equal(true);
    expect(february.quota.used).to.equal(1);
  });

  it("lets exactly 50 of 1,000 concurrent requests through a quota of 50, and carries usage across a tier change", async () => {
    const store = new SqliteUsageStore(path.join(mkdtempSync(path.join(tmpdir(), "usage-")), "usage.sqlite"));
    const plan = { name: "Basic", monthlyQuota: 50, perMinute: 1_000_000 };
    const now = Date.UTC(2027, 5, 15);
    const decisions = await Promise.all(
      Array.from({ length: 1_000 }, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return store.decide("0xB0B", plan, 1, now);
      }),
    );
    expect(decisions.filter((d) => d.allowed)).to.have.length(50);
    const refused = decisions.filter((d) => !d.allowed);
    expect(refused.every((d) => d.refusedBy === "quota" && d.quota.remaining === 0)).to.equal(true);
    // Staking more moves the wallet to Advanced at once; the month's 50 calls still count.
    const upgraded = store.decide("0xB0B", advanced, 1, now);
    expect(upgraded.allowed).to.equal(true);
    expect(upgraded.quota).to.deep.include({ limit: 10_000, used: 51, remaining: 9_949 });
    store.close();
  });
});
