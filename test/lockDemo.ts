import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { network } from "hardhat";
import { DEFAULT_THRESHOLDS, levelForBalance } from "../src/chain/stakingLevel.ts";
import { veBalanceAt, WEEK } from "../src/chain/veBalance.ts";
import { DEMO_LOCKS, formatLockDemo, runLockDemo } from "../src/demo/lockDemo.ts";

describe("npm run demo (the lock demonstration)", () => {
  it("locks for 1 week, 6 months, 12 months and permanently, and reads veTMAI and levels over time", async () => {
    const result = await runLockDemo(await network.create());
    expect(result.rows.map((row) => row.label)).to.deep.equal(DEMO_LOCKS.map((lock) => lock.label));
    expect(result.moments.map((m) => m.label)).to.deep.equal(["now", "after 3 months", "after expiry"]);

    for (const row of result.rows) {
      const permanent = row.end === 0n;
      expect(permanent).to.equal(row.label === "permanent");
      for (const [i, reading] of row.readings.entries()) {
        const at = result.moments[i]?.timestamp ?? 0n;
        expect(reading.veTMAI).to.equal(veBalanceAt({ amount: row.amount, end: row.end, permanent }, at));
        expect(reading.level).to.equal(levelForBalance(reading.veTMAI, DEFAULT_THRESHOLDS));
      }
    }
    const [oneWeek, sixMonths, twelveMonths, permanent] = result.rows;
    // The 1-week lock ends before 3 months; the timed locks are all gone after expiry; permanent never decays.
    expect(oneWeek?.readings.map((r) => r.level)).to.deep.equal([1, 0, 0]);
    expect(sixMonths?.readings.map((r) => r.level)).to.deep.equal([3, 2, 0]);
    expect(twelveMonths?.readings.map((r) => r.level)).to.deep.equal([5, 4, 0]);
    expect(permanent?.readings.map((r) => r.veTMAI)).to.deep.equal(Array(3).fill(4_000_000n * 10n ** 18n));
    expect((twelveMonths?.end ?? 0n) % WEEK).to.equal(0n);
    // The total supply is the sum of the balances at every moment.
    for (const [i, total] of result.totalSupply.entries()) {
      expect(total).to.equal(result.rows.reduce((sum, row) => sum + (row.readings[i]?.veTMAI ?? 0n), 0n));
    }
    const table = formatLockDemo(result);
    expect(table).to.include("never (permanent)");
    expect(table).to.include("4,000,000 veTMAI · level 7 VIP");
  });
});

describe("npm run demo (the command)", () => {
  it("prints the lock table from a separate process", async () => {
    const hardhatCli = fileURLToPath(new URL("../node_modules/hardhat/dist/src/cli.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [hardhatCli, "run", "scripts/demo.ts"], {
      timeout: 120_000,
    });
    for (const text of ["1 week", "6 months", "12 months", "permanent", "after 3 months", "after expiry"]) {
      expect(stdout).to.include(text);
    }
    expect(stdout).to.match(/4,000,000 veTMAI · level 7 VIP/);
  });
});
