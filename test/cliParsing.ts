import { expect } from "chai";
import { levelLostAt } from "../src/chain/levelLostAt.ts";
import { DEFAULT_THRESHOLDS, levelForBalance } from "../src/chain/stakingLevel.ts";
import { veBalanceAt, WEEK } from "../src/chain/veBalance.ts";
import { CliError } from "../src/cli/CliError.ts";
import { parseAmount } from "../src/cli/parseAmount.ts";
import { parseDuration, parseUntil } from "../src/cli/parseDuration.ts";

const E18 = 10n ** 18n;

describe("CLI input parsing", () => {
  it("reads durations in weeks, months (52/12 weeks, whole weeks), days and years", () => {
    expect(parseDuration("52w")).to.equal(52n * WEEK);
    expect(parseDuration("12mo")).to.equal(52n * WEEK);
    expect(parseDuration("6mo")).to.equal(26n * WEEK);
    expect(parseDuration("3 months")).to.equal(13n * WEEK);
    expect(parseDuration("1mo")).to.equal(4n * WEEK);
    expect(parseDuration("30d")).to.equal(30n * 86_400n);
    expect(parseDuration("1y")).to.equal(52n * WEEK);
    for (const bad of ["", "12", "mo", "-3w", "1.5w", "12x"]) {
      expect(() => parseDuration(bad), bad).to.throw(CliError, "cannot read the duration");
    }
  });

  it("reads ISO dates as 00:00 UTC and ISO date-times as given", () => {
    expect(parseUntil("2027-06-01")).to.equal(BigInt(Date.UTC(2027, 5, 1) / 1000));
    expect(parseUntil("2027-06-01T12:30:00Z")).to.equal(BigInt(Date.UTC(2027, 5, 1, 12, 30) / 1000));
    for (const bad of ["June 1st", "01/06/2027", "2027-13-45"]) {
      expect(() => parseUntil(bad), bad).to.throw(CliError, "use the ISO form");
    }
  });

  it("reads amounts in whole tokens exactly, refusing extra decimals and zero", () => {
    expect(parseAmount("1000", 18, "TMAI")).to.equal(1000n * E18);
    expect(parseAmount("1_000.5", 18, "TMAI")).to.equal(1000n * E18 + E18 / 2n);
    expect(parseAmount("0.000000000000000001", 18, "TMAI")).to.equal(1n);
    expect(() => parseAmount("1.5", 0, "X")).to.throw(CliError, "X has 0 decimals");
    expect(() => parseAmount("0", 18, "TMAI")).to.throw(CliError, "more than 0");
    expect(() => parseAmount("1e3", 18, "TMAI")).to.throw(CliError, 'cannot read the amount "1e3"');
  });
});

describe("levelLostAt (when a level is lost by decay)", () => {
  it("finds the exact second the balance falls below the level's threshold", () => {
    const now = 1_800_000_000n;
    for (const tokens of [15_000n, 100_000n, 700_000n, 2_500_000n]) {
      const lock = { amount: tokens * E18, end: now + 51n * WEEK, permanent: false };
      const level = levelForBalance(veBalanceAt(lock, now), DEFAULT_THRESHOLDS);
      const lost = levelLostAt(lock, DEFAULT_THRESHOLDS, now);
      if (level === 0) {
        expect(lost).to.equal(null);
        continue;
      }
      expect(lost === null).to.equal(false, "a level above 0 is lost some day");
      const at = lost as bigint;
      expect(levelForBalance(veBalanceAt(lock, at - 1n), DEFAULT_THRESHOLDS)).to.equal(level);
      expect(levelForBalance(veBalanceAt(lock, at), DEFAULT_THRESHOLDS)).to.be.lessThan(level);
    }
  });

  it("is the end of the lock when the threshold is below the amount, and never for permanent locks", () => {
    const now = 1_800_000_000n;
    const lock = { amount: 30_000n * E18, end: now + 10n * WEEK, permanent: false };
    expect(levelLostAt(lock, DEFAULT_THRESHOLDS, now)).to.equal(lock.end);
    expect(levelLostAt({ ...lock, permanent: true, end: 0n }, DEFAULT_THRESHOLDS, now)).to.equal(null);
    expect(levelLostAt(lock, DEFAULT_THRESHOLDS, lock.end)).to.equal(null);
  });
});
