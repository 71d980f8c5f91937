import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { type Address, getAddress, type Hash, isAddress, isHash } from "viem";
import { z } from "zod";

/**
 * How far a staker scan got, so an interrupted scan resumes: the accounts found in blocks `fromBlock`…`scannedTo`,
 * and the hash of block `scannedTo`, which tells whether the chain still has the blocks scanned.
 */
export interface ScanCache {
  chainId: number;
  votingEscrow: Address;
  fromBlock: bigint;
  scannedTo: bigint;
  scannedToHash: Hash;
  stakers: Address[];
}

const blockNumber = z.string().regex(/^\d+$/);
const address = z
  .string()
  .refine((value) => isAddress(value))
  .transform((value) => getAddress(value));

const ScanCacheSchema = z.object({
  chainId: z.number().int().positive(),
  votingEscrow: address,
  fromBlock: blockNumber,
  scannedTo: blockNumber,
  scannedToHash: z.string().refine((value) => isHash(value)),
  stakers: z.array(address),
});

/**
 * The cache in `file`, or undefined when there is none or it cannot be used (unreadable, of an older format — without
 * the hash of its last block —, or invalid): a cache is only a shortcut, so the scan then starts from the beginning.
 */
export function readScanCache(file: string): ScanCache | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const parsed = ScanCacheSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const cache = parsed.data;
  return {
    chainId: cache.chainId,
    votingEscrow: cache.votingEscrow,
    fromBlock: BigInt(cache.fromBlock),
    scannedTo: BigInt(cache.scannedTo),
    scannedToHash: cache.scannedToHash as Hash,
    stakers: cache.stakers,
  };
}

/** Writes `cache` to `file` through a temporary file and a rename: an interrupted write leaves the previous cache. */
export function writeScanCache(file: string, cache: ScanCache): void {
  const text = JSON.stringify({
    ...cache,
    fromBlock: String(cache.fromBlock),
    scannedTo: String(cache.scannedTo),
  });
  writeFileSync(`${file}.partial`, text);
  renameSync(`${file}.partial`, file);
}
