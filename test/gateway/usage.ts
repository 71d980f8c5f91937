import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULT_PLANS, loadPlans, PlansConfigError, routeMatcher } from "../../src/gateway/plans.ts";
import { dayOf, daysBetween, monthOf } from "../../src/gateway/usageStore.ts";

const [basic, advanced] = DEFAULT_PLANS.plans;
const JAN_31_LATE = Date.UTC(2027, 0, 31, 23, 59, 30);

describe("gateway plans and calendar", () => {
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
    const routeFor = routeMatcher(loadPlans(good));
    expect(routeFor("/v1/data/premium/x")).to.deep.equal({ prefix: "/v1/data/premium/", minTier: 2, cost: 5 });
    expect(routeFor("/v1/data/prices")?.cost).to.equal(1);
    expect(routeFor("/v1/me")).to.equal(undefined);
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

  it("matches route prefixes on whole path segments, the longest first, whatever the case", () => {
    const routeFor = routeMatcher({
      ...DEFAULT_PLANS,
      routes: [
        { prefix: "/v1/data/", minTier: 0, cost: 1 },
        { prefix: "/v1/data/research/", minTier: 2, cost: 5 },
        { prefix: "/v1/data/research/deep", minTier: 3, cost: 9 },
        { prefix: "/v1/data/signals", minTier: 1, cost: 1 },
      ],
    });
    const cost = (path: string) => routeFor(path)?.cost;
    expect(cost("/v1/data/research")).to.equal(5, "a prefix without its trailing slash is the same route");
    expect(cost("/v1/data/research/")).to.equal(5);
    expect(cost("/v1/data/research/x")).to.equal(5);
    expect(cost("/v1/data/researchers")).to.equal(1, "not the same segment");
    expect(cost("/v1/data/research/deep/1")).to.equal(9);
    expect(cost("/v1/data/research/deeper")).to.equal(5);
    expect(cost("/v1/data/SIGNALS")).to.equal(1);
    expect(routeFor("/v1/data/Signals")?.minTier).to.equal(1, "an upstream that ignores case is gated the same");
    expect(routeFor("/v1/datax")).to.equal(undefined);
  });

  it("counts calendar months and days in UTC", () => {
    expect(monthOf(JAN_31_LATE)).to.deep.equal({ period: "2027-01", resetsAt: Date.UTC(2027, 1, 1) / 1000 });
    expect(monthOf(Date.UTC(2027, 11, 31, 23, 59, 59)).resetsAt).to.equal(Date.UTC(2028, 0, 1) / 1000);
    expect(dayOf(JAN_31_LATE)).to.equal("2027-01-31");
    expect(daysBetween("2027-02-27", "2027-03-01")).to.deep.equal(["2027-02-27", "2027-02-28", "2027-03-01"]);
    expect(daysBetween("2027-03-02", "2027-03-01")).to.deep.equal([]);
  });
});
