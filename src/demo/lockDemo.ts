import type { NetworkConnection } from "hardhat/types/network";
import { type Address, parseUnits } from "viem";
import { DEFAULT_THRESHOLDS, tierName } from "../chain/stakingLevel.ts";
import { MAXTIME, WEEK } from "../chain/veBalance.ts";
import { formatTable } from "../format/formatTable.ts";
import { formatDate, formatTokens } from "../format/formatTokens.ts";

/** One demonstration lock. */
export interface DemoLock {
  label: string;
  /** Whole TMAI. */
  amount: string;
  /** Lock length in weeks (a permanent lock starts as a 52-week lock). */
  weeks: bigint;
  permanent: boolean;
}

/** The veTMAI and Staking Score of one lock at one moment. */
export interface DemoReading {
  veTMAI: bigint;
  level: number;
  tier: string;
}

export interface DemoRow {
  label: string;
  account: Address;
  amount: bigint;
  /** Unlock time (0 for a permanent lock). */
  end: bigint;
  readings: DemoReading[];
}

export interface LockDemoReturnType {
  /** The moments read: now, after 3 months (13 weeks), after every timed lock expired (53 weeks). */
  moments: { label: string; timestamp: bigint }[];
  rows: DemoRow[];
  totalSupply: bigint[];
}

export const DEMO_LOCKS: readonly DemoLock[] = [
  { label: "1 week", amount: "50000", weeks: 1n, permanent: false },
  { label: "6 months", amount: "150000", weeks: 26n, permanent: false },
  { label: "12 months", amount: "500000", weeks: 52n, permanent: false },
  { label: "permanent", amount: "2000000", weeks: 52n, permanent: true },
];

/**
 * Deploys TMAI (test token), VotingEscrow and StakingScore on `connection`, locks `DEMO_LOCKS` from four wallets,
 * and reads veTMAI and levels now, after 3 months and after expiry (moving the chain's clock).
 */
export async function runLockDemo(connection: NetworkConnection): Promise<LockDemoReturnType> {
  const { viem, networkHelpers } = connection;
  const [deployer, ...wallets] = await viem.getWalletClients();
  if (deployer === undefined || wallets.length < DEMO_LOCKS.length) {
    throw new Error(`the demo needs ${DEMO_LOCKS.length + 1} accounts on the network`);
  }
  const tmai = await viem.deployContract("TestTMAI", [deployer.account.address]);
  const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
  const score = await viem.deployContract("StakingScore", [
    ve.address,
    [...DEFAULT_THRESHOLDS],
    deployer.account.address,
  ]);

  const start = BigInt(await networkHelpers.time.latest());
  const rows: DemoRow[] = [];
  for (const [i, lock] of DEMO_LOCKS.entries()) {
    const wallet = wallets[i];
    if (wallet === undefined) throw new Error("unreachable: wallets checked above");
    const amount = parseUnits(lock.amount, 18);
    await tmai.write.mint([wallet.account.address, amount]);
    await tmai.write.approve([ve.address, amount], { account: wallet.account });
    // Asking for `start + weeks` gets the week boundary at or before it (a 52-week ask is ≤ MAXTIME).
    await ve.write.createLock([amount, start + lock.weeks * WEEK], { account: wallet.account });
    if (lock.permanent) await ve.write.lockPermanent({ account: wallet.account });
    const [, end] = await ve.read.locked([wallet.account.address]);
    rows.push({ label: lock.label, account: wallet.account.address, amount, end, readings: [] });
  }

  const now = BigInt(await networkHelpers.time.latest());
  const moments = [
    { label: "now", timestamp: now },
    { label: "after 3 months", timestamp: now + 13n * WEEK },
    { label: "after expiry", timestamp: now + MAXTIME + WEEK },
  ];
  const totalSupply: bigint[] = [];
  for (const moment of moments) {
    if (moment.timestamp > now) await networkHelpers.time.increaseTo(moment.timestamp);
    for (const row of rows) {
      const veTMAI = await ve.read.balanceOf([row.account]);
      const level = await score.read.levelOf([row.account]);
      row.readings.push({ veTMAI, level, tier: tierName(level) });
    }
    totalSupply.push(await ve.read.totalSupply());
  }
  return { moments, rows, totalSupply };
}

/** The demo's result as a text table, veTMAI in whole tokens. */
export function formatLockDemo(result: LockDemoReturnType): string {
  const header = ["lock", "TMAI", "unlocks", ...result.moments.map((m) => `${m.label} (${formatDate(m.timestamp)})`)];
  const body = result.rows.map((row) => [
    row.label,
    formatTokens(row.amount),
    row.end === 0n ? "never (permanent)" : formatDate(row.end),
    ...row.readings.map((r) => `${formatTokens(r.veTMAI)} veTMAI · level ${r.level} ${r.tier}`),
  ]);
  const total = ["total supply", "", "", ...result.totalSupply.map((t) => `${formatTokens(t)} veTMAI`)];
  return formatTable([header, ...body, total]);
}
