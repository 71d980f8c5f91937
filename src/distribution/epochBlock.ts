import type { Hash, PublicClient } from "viem";

/** Blocks under the head an epoch is read at where the RPC endpoint does not know the `finalized` tag. */
export const FALLBACK_CONFIRMATIONS = 64n;

export interface EpochBlock {
  number: bigint;
  hash: Hash;
  timestamp: bigint;
  /** Whether it is the chain's finalized block (else: the block `confirmations` under the head). */
  finalized: boolean;
}

/**
 * The block an epoch is computed at when none is given: the chain's finalized block, which no reorg can remove, so
 * the stakers found and the balances read are final. With `confirmations`, or where the endpoint does not know the
 * `finalized` tag (an older node), the block that many blocks under the head (`FALLBACK_CONFIRMATIONS` by default).
 */
export async function epochBlock(client: PublicClient, confirmations?: bigint): Promise<EpochBlock> {
  if (confirmations === undefined) {
    const finalized = await client.getBlock({ blockTag: "finalized" }).catch(() => undefined);
    if (finalized !== undefined && finalized.number !== null && finalized.hash !== null)
      return { number: finalized.number, hash: finalized.hash, timestamp: finalized.timestamp, finalized: true };
  }
  const depth = confirmations ?? FALLBACK_CONFIRMATIONS;
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const block = await client.getBlock({ blockNumber: head > depth ? head - depth : 0n });
  return { number: block.number, hash: block.hash, timestamp: block.timestamp, finalized: false };
}
