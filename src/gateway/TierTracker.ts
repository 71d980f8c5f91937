import { type Address, getAbiItem, getAddress, type PublicClient } from "viem";
import { stakingScoreAbi, votingEscrowAbi } from "../chain/abis.ts";
import { levelForBalance, tierName, tierOfLevel } from "../chain/stakingLevel.ts";
import { type Lock, veBalanceAt } from "../chain/veBalance.ts";

/** A wallet's standing at one moment, as the gateway serves it. */
export interface WalletStanding {
  address: Address;
  veTMAI: bigint;
  level: number;
  tier: number;
  tierName: string;
  lock: Lock;
  /** True when the chain could not be read and this comes from the last known state (or none: level 0). */
  stale: boolean;
}

export interface TierTrackerParameters {
  client: PublicClient;
  votingEscrow: Address;
  stakingScore: Address;
  /** Blocks per `eth_getLogs` request when catching up on events. */
  chunkSize?: bigint;
}

const lockUpdated = getAbiItem({ abi: votingEscrowAbi, name: "LockUpdated" });
const thresholdsUpdated = getAbiItem({ abi: stakingScoreAbi, name: "ThresholdsUpdated" });

/**
 * Keeps every wallet's lock and the Staking Score thresholds in memory, fresh from contract events
 * (`LockUpdated` — which `withdraw` also emits with the cleared lock — and `ThresholdsUpdated`), and computes
 * veTMAI, level and tier locally at any second: a level lost by decay is lost on time with no RPC call.
 *
 * RPC calls happen only in `sync()` (new events) and on the first sight of a wallet (its lock); when the chain is
 * unreachable, the last known state keeps being served and marked stale — never an error.
 */
export class TierTracker {
  readonly #parameters: TierTrackerParameters;
  readonly #locks = new Map<Address, Lock>();
  readonly #reading = new Map<Address, Promise<Lock | undefined>>();
  #thresholds: readonly bigint[] | undefined;
  #syncedTo: bigint | undefined;
  #stale = false;
  /** RPC requests made so far (for metrics and tests). */
  rpcCalls = 0;
  /** Standings answered from memory (`hit`) or after reading the wallet's lock (`miss`). */
  readonly lookups = { hit: 0, miss: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(parameters: TierTrackerParameters) {
    this.#parameters = parameters;
  }

  /** The Staking Score thresholds of levels 1–10 (undefined before `start()`). */
  get thresholds(): readonly bigint[] | undefined {
    return this.#thresholds;
  }

  /** Whether the last attempt to reach the chain failed. */
  get stale(): boolean {
    return this.#stale;
  }

  /** Reads the thresholds and notes the current block; events after it are applied by `sync()`. */
  async start(): Promise<void> {
    const { client, stakingScore } = this.#parameters;
    this.rpcCalls += 2;
    const [blockNumber, thresholds] = await Promise.all([
      client.getBlockNumber({ cacheTime: 0 }),
      client.readContract({ address: stakingScore, abi: stakingScoreAbi, functionName: "thresholds" }),
    ]);
    this.#thresholds = thresholds;
    this.#syncedTo = blockNumber;
  }

  /** Applies the events since the last sync. Returns false (and keeps the state) when the chain is unreachable. */
  async sync(): Promise<boolean> {
    const { client, votingEscrow, stakingScore } = this.#parameters;
    if (this.#syncedTo === undefined) throw new Error("call start() before sync()");
    try {
      this.rpcCalls += 1;
      const latest = await client.getBlockNumber({ cacheTime: 0 });
      const chunk = this.#parameters.chunkSize ?? 5_000n;
      // Loop bound: (latest − syncedTo) / chunk requests.
      for (let from = this.#syncedTo + 1n; from <= latest; from += chunk) {
        const to = from + chunk - 1n < latest ? from + chunk - 1n : latest;
        this.rpcCalls += 2;
        const [locks, thresholds] = await Promise.all([
          client.getLogs({ address: votingEscrow, event: lockUpdated, fromBlock: from, toBlock: to }),
          client.getLogs({ address: stakingScore, event: thresholdsUpdated, fromBlock: from, toBlock: to }),
        ]);
        for (const log of locks) {
          const { account, amount, end, permanent } = log.args;
          if (account === undefined || amount === undefined || end === undefined || permanent === undefined) continue;
          // Only wallets known or being read are kept; others are read on first sight, which sees this change too.
          const address = getAddress(account);
          if (this.#locks.has(address) || this.#reading.has(address))
            this.#locks.set(address, { amount, end, permanent });
        }
        const newest = thresholds.at(-1)?.args.thresholds;
        if (newest !== undefined) this.#thresholds = newest;
        this.#syncedTo = to;
      }
      this.#stale = false;
      return true;
    } catch {
      this.#stale = true;
      return false;
    }
  }

  /**
   * Syncs every `intervalMs` until `stop()` (one sync at a time; a failed sync marks the state stale and the next
   * one retries). Returns `stop`.
   */
  follow(intervalMs: number): () => void {
    this.stop();
    const tick = async () => {
      await this.sync();
      if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalMs).unref();
    };
    this.#timer = setTimeout(tick, intervalMs).unref();
    return () => this.stop();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Reads `wallet`'s lock the first time it is seen — once, however many requests for it arrive meanwhile (and
   * with a batching client, in one multicall with the other wallets seen at the same moment). Undefined when the
   * chain cannot be read.
   */
  #firstRead(wallet: Address): Promise<Lock | undefined> {
    let reading = this.#reading.get(wallet);
    if (reading === undefined) {
      this.rpcCalls += 1;
      reading = this.#parameters.client
        .readContract({
          address: this.#parameters.votingEscrow,
          abi: votingEscrowAbi,
          functionName: "locked",
          args: [wallet],
        })
        .then(
          ([amount, end, permanent]) => {
            // An event applied while the read was in flight wins: if it is older than what the read saw, the newer
            // event is in the next sync's range, which applies it (syncs apply every event in block order).
            const lock = this.#locks.get(wallet) ?? { amount, end, permanent };
            this.#locks.set(wallet, lock);
            return lock;
          },
          () => undefined,
        )
        .finally(() => this.#reading.delete(wallet));
      this.#reading.set(wallet, reading);
    }
    return reading;
  }

  /** Whether `address`'s lock is already known (a request for it will make no RPC call). */
  knows(address: Address): boolean {
    return this.#locks.has(getAddress(address));
  }

  /**
   * `address`'s standing at `now` (Unix seconds). Reads its lock once, the first time it is seen; after that, and
   * whenever the chain is unreachable, it is computed from memory. While the last sync failed, a wallet never seen
   * is served as level 0 (stale) without trying the chain, so an outage adds no latency to requests.
   */
  async standing(address: Address, now: bigint): Promise<WalletStanding> {
    const wallet = getAddress(address);
    let lock = this.#locks.get(wallet);
    let stale = this.#stale;
    if (lock !== undefined) this.lookups.hit++;
    else if (this.#stale) lock = { amount: 0n, end: 0n, permanent: false };
    else {
      this.lookups.miss++;
      const read = await this.#firstRead(wallet);
      lock = read ?? { amount: 0n, end: 0n, permanent: false };
      if (read === undefined) stale = true;
    }
    const thresholds = this.#thresholds;
    if (thresholds === undefined) throw new Error("call start() before asking for standings");
    const veTMAI = veBalanceAt(lock, now);
    const level = levelForBalance(veTMAI, thresholds);
    return { address: wallet, veTMAI, level, tier: tierOfLevel(level), tierName: tierName(level), lock, stale };
  }
}
