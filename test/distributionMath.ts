import { expect } from "chai";
import { veBalanceAt, WEEK } from "../src/chain/veBalance.ts";
import { balanceSeconds, type UserCheckpoint } from "../src/distribution/balanceSeconds.ts";
import { splitReward } from "../src/distribution/splitReward.ts";

/** Deterministic pseudo-random numbers. */
function rng(seed: number): (n: bigint) => bigint {
  let state = BigInt(seed);
  return (n: bigint) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    return (state >> 16n) % n;
  };
}

/** Second-by-second reference: the balance at t comes from the last checkpoint at or before t. */
function bruteForce(points: readonly UserCheckpoint[], start: bigint, end: bigint): bigint {
  let sum = 0n;
  for (let t = start; t < end; t++) {
    const point = [...points].reverse().find((p) => p.ts <= t);
    if (point) sum += veBalanceAt(point, t);
  }
  return sum;
}

describe("distribution maths", () => {
  it("integrates veTMAI exactly: the closed form equals the second-by-second sum on random histories", () => {
    const random = rng(3);
    for (let trial = 0; trial < 60; trial++) {
      const points: UserCheckpoint[] = [];
      let t = 1_000n + random(500n);
      for (let k = 0; k < 1 + Number(random(5n)); k++) {
        const permanent = random(4n) === 0n;
        const amount = random(3n) === 0n ? 0n : 31_449_600n * (1n + random(50n)) + random(1_000n);
        points.push({ amount, end: permanent ? 0n : t + random(3_000n), ts: t, permanent });
        t += 1n + random(900n);
      }
      const start = 900n + random(1_500n);
      const end = start + 1n + random(3_000n);
      expect(balanceSeconds(points, start, end), `trial ${trial}`).to.equal(bruteForce(points, start, end));
    }
  });

  it("gives half the weight to a staker who held the same balance for half the epoch", () => {
    const start = 10n * WEEK;
    const end = start + 4n * WEEK;
    const permanent = (ts: bigint): UserCheckpoint => ({ amount: 1_000n * 10n ** 18n, end: 0n, ts, permanent: true });
    const whole = balanceSeconds([permanent(start - 1n)], start, end);
    const half = balanceSeconds([permanent(start + 2n * WEEK)], start, end);
    expect(whole).to.equal(2n * half);
    expect(balanceSeconds([], start, end)).to.equal(0n);
    expect(() => balanceSeconds([], end, start)).to.throw(RangeError, "must end after it starts");
  });

  it("splits rewards pro rata with parts that sum exactly to the amount, deterministically", () => {
    const random = rng(9);
    for (let trial = 0; trial < 200; trial++) {
      const weights = Array.from({ length: 1 + Number(random(20n)) }, (_, i) => ({
        account: `0x${(0xabc000 + i).toString(16).padStart(40, "0")}`,
        weight: random(4n) === 0n ? 0n : 1n + random(10n ** 30n),
      }));
      if (weights.every((w) => w.weight === 0n)) weights[0] = { account: weights[0]?.account ?? "0x0", weight: 1n };
      const amount = random(10n ** 27n);
      const shares = splitReward(amount, weights);
      expect([...shares.values()].reduce((a, b) => a + b, 0n)).to.equal(amount);
      const total = weights.reduce((s, w) => s + w.weight, 0n);
      for (const { account, weight } of weights) {
        const share = shares.get(account) as bigint;
        const floor = (amount * weight) / total;
        expect(share === floor || share === floor + 1n, "the floor of the exact share, or one more").to.equal(true);
      }
      expect(splitReward(amount, [...weights].reverse())).to.deep.equal(shares);
    }
  });

  it("breaks ties by address and refuses to split among nobody", () => {
    const shares = splitReward(1n, [
      { account: "0xB", weight: 1n },
      { account: "0xa", weight: 1n },
    ]);
    expect(shares.get("0xa")).to.equal(1n);
    expect(shares.get("0xB")).to.equal(0n);
    expect(() => splitReward(5n, [{ account: "0xa", weight: 0n }])).to.throw(RangeError, "no staker has any weight");
    expect(splitReward(0n, []).size).to.equal(0);
  });
});
