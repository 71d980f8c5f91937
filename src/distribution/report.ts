import { readFileSync } from "node:fs";
import type { Address, Hex } from "viem";
import { keccak256, toBytes } from "viem";

/** A reward token's amounts: this epoch's and the cumulative total the tree promises. Base units, decimal strings. */
export interface TokenAmounts {
  token: Address;
  epochAmount: string;
  cumulative: string;
}

/** One account's line of the report. */
export interface AccountRow {
  account: Address;
  /** veTMAI·seconds over the epoch. */
  balanceSeconds: string;
  /** The account's fraction of the epoch's weight, 18 decimals, rounded down. */
  share: string;
  rewards: TokenAmounts[];
}

/**
 * The report of one epoch: everything needed to check it (inputs, the block read, every account's weight and
 * amounts) and the Merkle tree itself. Its `reportHash` is the keccak-256 of the file's exact bytes, and goes
 * on-chain with the root.
 */
export interface DistributionReport {
  version: 1;
  epoch: number;
  start: string;
  end: string;
  chainId: number;
  votingEscrow: Address;
  revenueDistributor: Address;
  /** Blocks scanned for stakers; every contract read is made at block `to`. */
  blocks: { from: string; to: string };
  inputs: {
    rewards: { token: Address; amount: string }[];
    exclude: Address[];
    previous: { epoch: number; root: Hex; reportHash: Hex } | null;
  };
  /** Per token, ascending by address (the order `proposeRoot` wants). */
  totals: TokenAmounts[];
  totalBalanceSeconds: string;
  /** Ascending by address; accounts with a cumulative amount or weight. */
  accounts: AccountRow[];
  root: Hex;
  /** `StandardMerkleTree.dump()` of leaves `[account, token, cumulativeAmount]`. */
  tree: unknown;
}

/** The report's canonical bytes: fixed key order, two-space indentation, one trailing newline. */
export function serializeReport(report: DistributionReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function reportHashOf(text: string): Hex {
  return keccak256(toBytes(text));
}

export class ReportError extends Error {
  override name = "ReportError";
}

/** Reads a report file; returns it with the hash of its exact bytes. */
export function readReport(file: string): { report: DistributionReport; reportHash: Hex; text: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ReportError(`cannot read the report ${file}: ${(error as Error).message}`);
  }
  const report = JSON.parse(text) as DistributionReport;
  if (report.version !== 1 || typeof report.root !== "string" || !Array.isArray(report.accounts)) {
    throw new ReportError(`${file} is not a distribution report (version 1)`);
  }
  return { report, reportHash: reportHashOf(text), text };
}

/** The report as CSV: one line per account and token. */
export function reportCsv(report: DistributionReport): string {
  const lines = ["account,token,epochAmount,cumulative,balanceSeconds,share"];
  for (const row of report.accounts) {
    for (const reward of row.rewards) {
      lines.push(
        [row.account, reward.token, reward.epochAmount, reward.cumulative, row.balanceSeconds, row.share].join(","),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
