import path from "node:path";
import { type Address, erc20Abi, getAbiItem, getAddress, isAddressEqual, type PublicClient, zeroHash } from "viem";
import { revenueDistributorAbi, votingEscrowAbi } from "../chain/abis.ts";
import { balanceSeconds, type UserCheckpoint } from "./balanceSeconds.ts";
import { buildStandardTree } from "./buildTree.ts";
import { epochBlock, FALLBACK_CONFIRMATIONS } from "./epochBlock.ts";
import type { EpochInput } from "./epochInput.ts";
import { type AccountRow, type DistributionReport, ReportError, readReport, type TokenAmounts } from "./report.ts";
import { readScanCache, writeScanCache } from "./scanCache.ts";
import { splitReward } from "./splitReward.ts";

export interface ScanProgress {
  fromBlock: bigint;
  toBlock: bigint;
  scannedTo: bigint;
  stakers: number;
}

export interface ComputeEpochParameters {
  client: PublicClient;
  chainId: number;
  votingEscrow: Address;
  revenueDistributor: Address;
  input: EpochInput;
  /** Directory the input's `previous` path is relative to. */
  inputDir: string;
  /**
   * Read the chain at this block (verification reuses the report's); default: the chain's finalized block (see
   * `epochBlock`), so no reorg can change the stakers found or the balances read.
   */
  atBlock?: bigint;
  /** Without `atBlock`: read the block this many under the head instead of the finalized one. */
  confirmations?: bigint;
  /** Blocks per `eth_getLogs` request. */
  chunkSize?: bigint;
  /**
   * Where to keep scan progress so an interrupted scan resumes; absent: no resume. A cache whose last block the chain
   * no longer has (a reorg below it) is discarded and the scan starts over.
   */
  scanCacheFile?: string;
  onProgress?: (progress: ScanProgress) => void;
}

const lockUpdated = getAbiItem({ abi: votingEscrowAbi, name: "LockUpdated" });
const E18 = 10n ** 18n;

/** Every account that ever changed a lock in `[fromBlock, toBlock]`, from `LockUpdated` logs, in chunks. */
async function scanStakers(parameters: ComputeEpochParameters, fromBlock: bigint, toBlock: bigint): Promise<Address[]> {
  const { client, votingEscrow, scanCacheFile, onProgress, chainId } = parameters;
  const chunk = parameters.chunkSize ?? 5_000n;
  const stakers = new Set<Address>();
  let next = fromBlock;
  const cache = scanCacheFile === undefined ? undefined : readScanCache(scanCacheFile);
  // A cache from the same escrow and start that has not gone past this scan's end resumes it, if the chain still
  // has the blocks it scanned: a reorg below its last block changes that block's hash.
  if (
    cache !== undefined &&
    cache.chainId === chainId &&
    isAddressEqual(cache.votingEscrow, votingEscrow) &&
    cache.fromBlock === fromBlock &&
    cache.scannedTo <= toBlock
  ) {
    const block = await client.getBlock({ blockNumber: cache.scannedTo });
    if (block.hash === cache.scannedToHash) {
      for (const staker of cache.stakers) stakers.add(staker);
      next = cache.scannedTo + 1n;
    }
  }
  // Loop bound: (toBlock − fromBlock) / chunk rounds of one request (two with a cache: the last block's hash).
  while (next <= toBlock) {
    const last = next + chunk - 1n < toBlock ? next + chunk - 1n : toBlock;
    const [logs, block] = await Promise.all([
      client.getLogs({ address: votingEscrow, event: lockUpdated, fromBlock: next, toBlock: last }),
      scanCacheFile === undefined ? undefined : client.getBlock({ blockNumber: last }),
    ]);
    for (const log of logs) if (log.args.account) stakers.add(getAddress(log.args.account));
    onProgress?.({ fromBlock, toBlock, scannedTo: last, stakers: stakers.size });
    if (scanCacheFile !== undefined && block !== undefined) {
      writeScanCache(scanCacheFile, {
        chainId,
        votingEscrow,
        fromBlock,
        scannedTo: last,
        scannedToHash: block.hash,
        stakers: [...stakers],
      });
    }
    next = last + 1n;
  }
  return [...stakers].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
}

/** All checkpoints of `account` at `blockNumber`, in order. */
async function readCheckpoints(
  client: PublicClient,
  votingEscrow: Address,
  account: Address,
  blockNumber: bigint,
): Promise<UserCheckpoint[]> {
  const count = await client.readContract({
    address: votingEscrow,
    abi: votingEscrowAbi,
    functionName: "userPointEpoch",
    args: [account],
    blockNumber,
  });
  const indexes = Array.from({ length: Number(count) }, (_, i) => BigInt(i + 1));
  const points = await Promise.all(
    indexes.map((index) =>
      client.readContract({
        address: votingEscrow,
        abi: votingEscrowAbi,
        functionName: "userPointHistory",
        args: [account, index],
        blockNumber,
      }),
    ),
  );
  return points.map((p) => ({ amount: p.amount, end: BigInt(p.end), ts: BigInt(p.ts), permanent: p.permanent }));
}

const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

/**
 * Computes an epoch from chain data: finds the stakers, integrates each one's veTMAI over `[start, end)` exactly,
 * splits each reward with parts summing exactly to it, adds the previous epoch's cumulative amounts, and builds
 * the tree. Deterministic: the same inputs and block give the same report, byte for byte.
 */
export async function computeEpoch(parameters: ComputeEpochParameters): Promise<DistributionReport> {
  const { client, input, votingEscrow, revenueDistributor } = parameters;
  const block =
    parameters.atBlock === undefined
      ? await epochBlock(client, parameters.confirmations)
      : { ...(await client.getBlock({ blockNumber: parameters.atBlock })), finalized: false };
  const blockNumber = block.number;
  if (input.end > block.timestamp) {
    const read =
      parameters.atBlock !== undefined
        ? `block ${blockNumber}`
        : block.finalized
          ? `the chain's finalized block ${blockNumber}`
          : `block ${blockNumber}, ${parameters.confirmations ?? FALLBACK_CONFIRMATIONS} under the head`;
    throw new ReportError(
      `epoch ${input.epoch} ends at ${iso(input.end)}, after the time of ${read} (${iso(block.timestamp)}): ` +
        `compute it once it is over${block.finalized ? " and final (on Base, finality trails the head by tens of minutes)" : ""}`,
    );
  }

  // The previous epoch must be the one the distributor holds, and must end where this one starts (or before).
  const previousCumulative = new Map<string, bigint>(); // `${account}:${token}` → cumulative
  const previousTotals = new Map<Address, bigint>();
  let previous: DistributionReport["inputs"]["previous"] = null;
  const [onChainRoot, onChainHash] = await Promise.all([
    client.readContract({ address: revenueDistributor, abi: revenueDistributorAbi, functionName: "root", blockNumber }),
    client.readContract({
      address: revenueDistributor,
      abi: revenueDistributorAbi,
      functionName: "reportHash",
      blockNumber,
    }),
  ]);
  if (input.previous !== undefined) {
    const file = path.resolve(parameters.inputDir, input.previous);
    const { report, reportHash } = readReport(file);
    if (report.epoch + 1 !== input.epoch) {
      throw new ReportError(
        `epoch ${input.epoch} does not follow the previous report's epoch ${report.epoch} (${file})`,
      );
    }
    if (BigInt(Date.parse(report.end) / 1000) > input.start) {
      throw new ReportError(
        `epoch ${input.epoch} starts at ${iso(input.start)}, before epoch ${report.epoch} ended (${report.end}): epochs must not overlap`,
      );
    }
    if (report.root !== onChainRoot || reportHash !== onChainHash) {
      throw new ReportError(
        `the previous report ${file} (root ${report.root}) does not match the distributor's accepted root ${onChainRoot}: ` +
          "use the report of the root accepted on-chain, or wait until it is accepted",
      );
    }
    previous = { epoch: report.epoch, root: report.root, reportHash };
    for (const row of report.accounts) {
      for (const r of row.rewards) previousCumulative.set(`${row.account}:${r.token}`, BigInt(r.cumulative));
    }
    for (const t of report.totals) previousTotals.set(t.token, BigInt(t.cumulative));
  } else if (onChainRoot !== zeroHash) {
    throw new ReportError(
      `the distributor already has a root (${onChainRoot}): give the report it came from as "previous" so amounts stay cumulative`,
    );
  }

  for (const { token } of input.rewards) {
    await client.readContract({ address: token, abi: erc20Abi, functionName: "decimals", blockNumber }).catch(() => {
      throw new ReportError(`unknown reward token ${token}: it is not an ERC-20 on chain ${parameters.chainId}`);
    });
  }

  const stakers = await scanStakers(parameters, input.fromBlock, blockNumber);
  const excluded = new Set(input.exclude);
  const weights: { account: Address; weight: bigint }[] = [];
  // Loop bound: the stakers found; reads are issued per staker.
  for (const account of stakers) {
    if (excluded.has(account)) continue;
    const points = await readCheckpoints(client, votingEscrow, account, blockNumber);
    weights.push({ account, weight: balanceSeconds(points, input.start, input.end) });
  }
  const totalWeight = weights.reduce((sum, w) => sum + w.weight, 0n);
  const weightOf = new Map(weights.map((w) => [w.account, w.weight]));

  const tokens = [...new Set<Address>([...previousTotals.keys(), ...input.rewards.map((r) => r.token)])].sort((a, b) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : 1,
  );
  const epochShares = new Map<Address, Map<string, bigint>>();
  for (const reward of input.rewards) epochShares.set(reward.token, splitReward(reward.amount, weights));

  const accounts = new Set<Address>(weights.filter((w) => w.weight > 0n).map((w) => w.account));
  for (const key of previousCumulative.keys()) accounts.add(key.split(":")[0] as Address);
  const rows: AccountRow[] = [];
  const leaves: [Address, Address, string][] = [];
  for (const account of [...accounts].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
    const weight = weightOf.get(account) ?? 0n;
    const rewards: TokenAmounts[] = [];
    for (const token of tokens) {
      const epochAmount = epochShares.get(token)?.get(account) ?? 0n;
      const cumulative = (previousCumulative.get(`${account}:${token}`) ?? 0n) + epochAmount;
      if (cumulative === 0n) continue;
      rewards.push({ token, epochAmount: String(epochAmount), cumulative: String(cumulative) });
      leaves.push([account, token, String(cumulative)]);
    }
    const share = totalWeight === 0n ? 0n : (weight * E18) / totalWeight;
    rows.push({ account, balanceSeconds: String(weight), share: formatFraction(share), rewards });
  }
  if (leaves.length === 0) throw new ReportError(`epoch ${input.epoch} pays nobody: no staker had veTMAI during it`);

  const totals: TokenAmounts[] = tokens.map((token) => {
    const epochAmount = input.rewards.find((r) => r.token === token)?.amount ?? 0n;
    return {
      token,
      epochAmount: String(epochAmount),
      cumulative: String((previousTotals.get(token) ?? 0n) + epochAmount),
    };
  });
  const tree = buildStandardTree(leaves);
  return {
    version: 1,
    epoch: input.epoch,
    start: iso(input.start),
    end: iso(input.end),
    chainId: parameters.chainId,
    votingEscrow,
    revenueDistributor,
    blocks: { from: String(input.fromBlock), to: String(blockNumber) },
    inputs: {
      rewards: input.rewards.map((r) => ({ token: r.token, amount: String(r.amount) })),
      exclude: input.exclude,
      previous,
    },
    totals,
    totalBalanceSeconds: String(totalWeight),
    accounts: rows,
    root: tree.root,
    tree: tree.dump,
  };
}

/** A fraction with 18 decimals (`value / 10^18`) as a decimal string, e.g. `0.250000000000000000`. */
function formatFraction(value: bigint): string {
  return `${value / E18}.${String(value % E18).padStart(18, "0")}`;
}
