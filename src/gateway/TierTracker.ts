import {
  type Address,
  BlockNotFoundError,
  ContractFunctionExecutionError,
  ContractFunctionZeroDataError,
  type GetLogsReturnType,
  getAbiItem,
  getAddress,
  type Hash,
  isAddressEqual,
  type PublicClient,
  zeroHash,
} from "viem";
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
  /**
   * How far behind the chain's head the tracker stays: it applies block `head − confirmations` and older, and reads
   * first-seen wallets there (default: `defaultConfirmations` of the client's chain, read at `start()`). 0 follows
   * the head (a local chain that mines a block per transaction needs it: there, a lock is confirmed only by the next
   * transaction).
   */
  confirmations?: number;
  /**
   * Wallets kept in memory (default `DEFAULT_MAX_WALLETS`): past it, the one asked for least recently is forgotten
   * and read again from the chain the next time it is asked for.
   */
  maxWallets?: number;
  /**
   * Applied blocks remembered to find where a reorg forked (default `DEFAULT_REORG_WINDOW`); after a reorg deeper
   * than that, every wallet is forgotten (each is read again when next asked for) and the thresholds read again.
   */
  reorgWindow?: number;
  /** Blocks per `eth_getLogs` range when catching up more than `ONE_BY_ONE_DEPTH` blocks (after an outage). */
  chunkSize?: bigint;
}

/** 3 blocks: 6 s on Base, 36 s on Ethereum; deeper reorgs are still detected and undone at the next sync. */
export const DEFAULT_CONFIRMATIONS = 3;
/** Chains that mine a block per transaction (Hardhat and Anvil: 31337; Ganache and geth --dev: 1337). */
const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([31_337, 1_337]);

/**
 * The confirmations to follow on `chainId`: 0 on a local chain, where a lock would otherwise wait for the next
 * transaction to be confirmed; `DEFAULT_CONFIRMATIONS` elsewhere.
 */
export function defaultConfirmations(chainId: number): number {
  return LOCAL_CHAIN_IDS.has(chainId) ? 0 : DEFAULT_CONFIRMATIONS;
}

/** ≈ 245 bytes of heap per wallet (its address and lock), so ≈ 25 MB at this bound (measured with Node 22). */
export const DEFAULT_MAX_WALLETS = 100_000;
export const DEFAULT_REORG_WINDOW = 1_024;
/**
 * The newest blocks are read one by one, header first and then their logs by block hash: a node that does not have a
 * block cannot answer for its hash (it answers an error), so a node behind a load balancer that lags the one which
 * gave the head cannot make the tracker skip events. Blocks deeper than this under the target are read in ranges.
 */
export const ONE_BY_ONE_DEPTH = 64n;
/** Headers (then logs) requested at once when reading blocks one by one. */
const BLOCKS_AT_ONCE = 16n;

const lockUpdated = getAbiItem({ abi: votingEscrowAbi, name: "LockUpdated" });
const thresholdsUpdated = getAbiItem({ abi: stakingScoreAbi, name: "ThresholdsUpdated" });
const trackedEvents = [lockUpdated, thresholdsUpdated] as const;
type TrackedLogs = GetLogsReturnType<undefined, typeof trackedEvents>;

/** A block the tracker applied, or the last of a range it applied at once. */
interface AppliedBlock {
  number: bigint;
  hash: Hash;
  /** Wallets with a `LockUpdated` after the previous applied block, up to this one (known to the tracker or not). */
  wallets: readonly Address[];
  /** Whether a `ThresholdsUpdated` was among them. */
  thresholds: boolean;
}

/** Where catching up stopped: at the target, at what the RPC could prove, or at a block that is no longer the chain's. */
type CatchUp = "done" | "behind" | "reorg";

/** The tracker cannot start as configured; the message says what to change. */
export class TierTrackerError extends Error {
  override name = "TierTrackerError";
}

const NO_LOCK: Lock = { amount: 0n, end: 0n, permanent: false };

/**
 * Keeps every wallet's lock and the Staking Score thresholds in memory, fresh from contract events
 * (`LockUpdated` — which `withdraw` also emits with the cleared lock — and `ThresholdsUpdated`), and computes
 * veTMAI, level and tier locally at any second: a level lost by decay is lost on time with no RPC call.
 *
 * RPC calls happen only in `sync()` (new events) and on the first sight of a wallet (its lock); when the chain is
 * unreachable, the last known state keeps being served and marked stale — never an error.
 *
 * Finality: the tracker applies blocks `confirmations` behind the head, and a wallet's first read is made at the last
 * block it applied, so every wallet's state is "the chain at that block, plus the events applied since" — events
 * carry a lock's whole state, so applying one again is harmless. It remembers the hash of each block it applied
 * (and which wallets each touched): a sync whose chain no longer has them finds the fork point, reads again, at the
 * new target, the wallets and thresholds the removed blocks touched, and applies the new blocks from the fork on.
 */
export class TierTracker {
  readonly #parameters: TierTrackerParameters;
  #confirmations: bigint | undefined;
  readonly #maxWallets: number;
  readonly #reorgWindow: number;
  /** Known locks, least recently asked for first (a Map iterates in insertion order: an LRU). */
  readonly #locks = new Map<Address, Lock>();
  readonly #reading = new Map<Address, Promise<Lock | undefined>>();
  /** The applied blocks, oldest first; the last one is the tracker's cursor. */
  #applied: AppliedBlock[] = [];
  /** Bumped by a rollback: a first read started before it is not kept (it may have seen the removed blocks). */
  #generation = 0;
  #thresholds: readonly bigint[] | undefined;
  #stale = false;
  #syncing: Promise<unknown> = Promise.resolve();
  /** RPC requests made so far (for metrics and tests). */
  rpcCalls = 0;
  /** Standings answered from memory (`hit`) or after reading the wallet's lock (`miss`). */
  readonly lookups = { hit: 0, miss: 0 };
  /** Reorgs undone (the chain no longer had a block the tracker applied), and wallets forgotten for the bound. */
  readonly counters = { reorgs: 0, evictions: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(parameters: TierTrackerParameters) {
    this.#parameters = parameters;
    this.#confirmations = parameters.confirmations === undefined ? undefined : BigInt(parameters.confirmations);
    this.#maxWallets = parameters.maxWallets ?? DEFAULT_MAX_WALLETS;
    this.#reorgWindow = parameters.reorgWindow ?? DEFAULT_REORG_WINDOW;
    if ((this.#confirmations ?? 0n) < 0n || this.#maxWallets < 1 || this.#reorgWindow < 1)
      throw new RangeError("confirmations must be ≥ 0, and maxWallets and reorgWindow ≥ 1");
  }

  /** The Staking Score thresholds of levels 1–10 (undefined before `start()`). */
  get thresholds(): readonly bigint[] | undefined {
    return this.#thresholds;
  }

  /** Whether the last attempt to reach the chain failed. */
  get stale(): boolean {
    return this.#stale;
  }

  /** The last block applied (undefined before `start()`): the state served is the chain's at this block. */
  get appliedBlock(): { number: bigint; hash: Hash } | undefined {
    const cursor = this.#applied.at(-1);
    return cursor && { number: cursor.number, hash: cursor.hash };
  }

  /** How many wallets are in memory. */
  get size(): number {
    return this.#locks.size;
  }

  /** Reads the confirmed block (head − confirmations) and the thresholds there; `sync()` applies the blocks after it. */
  async start(): Promise<void> {
    if (this.#confirmations === undefined) {
      const { client } = this.#parameters;
      if (client.chain === undefined) this.rpcCalls += 1;
      this.#confirmations = BigInt(defaultConfirmations(client.chain?.id ?? (await client.getChainId())));
    }
    const target = await this.#target();
    this.rpcCalls += 1;
    const [block, thresholds] = await Promise.all([
      this.#parameters.client.getBlock({ blockNumber: target }),
      this.#readThresholds(target).catch((error: Error) => {
        if (!(error instanceof ContractFunctionExecutionError && error.cause instanceof ContractFunctionZeroDataError))
          throw error;
        throw new TierTrackerError(
          `StakingScore ${this.#parameters.stakingScore} has no code at block ${target}, ${this.#confirmations} ` +
            "confirmations behind the head: check the address (TMAI_STAKING_SCORE), or wait until its deployment is " +
            "that deep (TMAI_CONFIRMATIONS)",
        );
      }),
    ]);
    this.#thresholds = thresholds;
    this.#applied = [{ number: block.number, hash: block.hash, wallets: [], thresholds: false }];
  }

  /**
   * Applies the blocks confirmed since the last sync, after undoing any the chain no longer has. Returns false (and
   * keeps the state) when the chain is unreachable; true otherwise, also when the node answering lagged and only part
   * of the blocks could be proven (the rest is applied by a later sync). Syncs run one at a time, in call order.
   */
  sync(): Promise<boolean> {
    if (this.#applied.length === 0) return Promise.reject(new Error("call start() before sync()"));
    const run = this.#syncing.then(() => this.#syncOnce());
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  async #syncOnce(): Promise<boolean> {
    try {
      const target = await this.#target();
      // Loop bound: 2 rounds — a rollback, then catching up from the fork point (a second reorg waits for the next sync).
      for (let round = 0; round < 2; round++) {
        const outcome = await this.#catchUp(target);
        if (outcome !== "reorg" || !(await this.#rollBack(target))) break;
      }
      this.#stale = false;
      return true;
    } catch {
      this.#stale = true;
      return false;
    }
  }

  /** The block to apply up to: the head minus the confirmations (0 at least). */
  async #target(): Promise<bigint> {
    this.rpcCalls += 1;
    const head = await this.#parameters.client.getBlockNumber({ cacheTime: 0 });
    const confirmations = this.#confirmations ?? 0n;
    return head > confirmations ? head - confirmations : 0n;
  }

  get #cursor(): AppliedBlock {
    return this.#applied.at(-1) as AppliedBlock;
  }

  /** The chain's block `number`, or null when the node answering does not have it. */
  async #header(blockNumber: bigint): Promise<{ number: bigint; hash: Hash; parentHash: Hash } | null> {
    this.rpcCalls += 1;
    return this.#parameters.client.getBlock({ blockNumber }).then(
      (block) => ({ number: block.number, hash: block.hash, parentHash: block.parentHash }),
      (error) => {
        if (error instanceof BlockNotFoundError) return null;
        throw error;
      },
    );
  }

  async #catchUp(target: bigint): Promise<CatchUp> {
    const cursor = this.#cursor;
    if (target <= cursor.number) {
      // Nothing new to apply; the newest applied block the chain has reached must still be the chain's (a reorg at
      // the same height shows only there). A target below the cursor: the node answering lags, or the chain shrank.
      const newest = this.#applied.findLast((block) => block.number <= target);
      if (newest === undefined) return "behind";
      const header = await this.#header(newest.number);
      if (header === null) return "behind";
      return header.hash === newest.hash ? "done" : "reorg";
    }
    if (target - cursor.number > ONE_BY_ONE_DEPTH) {
      const header = await this.#header(cursor.number);
      if (header === null) return "behind";
      if (header.hash !== cursor.hash) return "reorg";
      const outcome = await this.#applyRanges(target - ONE_BY_ONE_DEPTH);
      if (outcome !== "done") return outcome;
    }
    return this.#applyOneByOne(target);
  }

  /** Applies the blocks after the cursor up to `last` in `eth_getLogs` ranges (deep blocks, after an outage). */
  async #applyRanges(last: bigint): Promise<CatchUp> {
    const { client, votingEscrow, stakingScore } = this.#parameters;
    const chunk = this.#parameters.chunkSize ?? 5_000n;
    // Loop bound: (last − cursor) / chunk rounds of two requests.
    while (this.#cursor.number < last) {
      const from = this.#cursor.number + 1n;
      const to = from + chunk - 1n < last ? from + chunk - 1n : last;
      this.rpcCalls += 1;
      const [logs, header] = await Promise.all([
        client.getLogs({ address: [votingEscrow, stakingScore], events: trackedEvents, fromBlock: from, toBlock: to }),
        this.#header(to),
      ]);
      if (header === null) return "behind";
      // A log of the range's last block from another block of that height: the two answers came from two forks.
      if (logs.some((log) => log.blockNumber === to && log.blockHash !== header.hash)) return "behind";
      this.#apply(header, logs);
    }
    return "done";
  }

  /**
   * Applies the blocks after the cursor up to `target` one by one: each header must extend the previous one (else the
   * cursor's block is no longer the chain's: a reorg), and its logs are asked for by block hash, which a node without
   * the block refuses; the first block that cannot be proven stops the sync there.
   */
  async #applyOneByOne(target: bigint): Promise<CatchUp> {
    const { client, votingEscrow, stakingScore } = this.#parameters;
    // Loop bound: (target − cursor) / BLOCKS_AT_ONCE rounds; at most ONE_BY_ONE_DEPTH blocks after a range catch-up.
    while (this.#cursor.number < target) {
      const from = this.#cursor.number + 1n;
      const to = from + BLOCKS_AT_ONCE - 1n < target ? from + BLOCKS_AT_ONCE - 1n : target;
      const numbers = Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i));
      const headers = await Promise.all(numbers.map((n) => this.#header(n)));
      const chained: { number: bigint; hash: Hash }[] = [];
      let parent = this.#cursor.hash;
      for (const header of headers) {
        // A zero parent hash never comes from a real chain: Hardhat's `hardhat_mine` gives one to the blocks inside a
        // batch it mines at once; their logs are still asked for by their own hash.
        if (header === null || (header.parentHash !== parent && header.parentHash !== zeroHash)) break;
        chained.push(header);
        parent = header.hash;
      }
      if (chained.length === 0) return headers[0] == null ? "behind" : "reorg";
      this.rpcCalls += chained.length;
      const logs = await Promise.allSettled(
        chained.map((header) =>
          client.getLogs({ address: [votingEscrow, stakingScore], events: trackedEvents, blockHash: header.hash }),
        ),
      );
      for (const [i, header] of chained.entries()) {
        const result = logs[i] as PromiseSettledResult<TrackedLogs>;
        if (result.status === "rejected") return "behind";
        this.#apply(header, result.value);
      }
      // Headers from two forks (or a reorg between the requests): the next sync sees which one the chain kept.
      if (chained.length < headers.length) return "behind";
    }
    return "done";
  }

  /** Applies one block's (or range's) logs, in order, and remembers the block. */
  #apply(block: { number: bigint; hash: Hash }, logs: TrackedLogs): void {
    const { votingEscrow, stakingScore } = this.#parameters;
    const wallets = new Set<Address>();
    let thresholds = false;
    for (const log of logs) {
      if (log.eventName === "LockUpdated" && isAddressEqual(log.address, votingEscrow)) {
        const { account, amount, end, permanent } = log.args;
        if (account === undefined || amount === undefined || end === undefined || permanent === undefined) continue;
        // Only wallets known or being read are kept; others are read on first sight, which sees this change too.
        const address = getAddress(account);
        wallets.add(address);
        if (this.#locks.has(address) || this.#reading.has(address)) this.#keep(address, { amount, end, permanent });
      } else if (log.eventName === "ThresholdsUpdated" && isAddressEqual(log.address, stakingScore)) {
        if (log.args.thresholds === undefined) continue;
        this.#thresholds = log.args.thresholds;
        thresholds = true;
      }
    }
    this.#applied.push({ number: block.number, hash: block.hash, wallets: [...wallets], thresholds });
    if (this.#applied.length > this.#reorgWindow) this.#applied.shift();
  }

  /**
   * Undoes the applied blocks the chain no longer has: finds the newest it still has (binary search: a block's hash
   * fixes its ancestors'), reads at `target` the wallets and thresholds the removed blocks touched, and moves the
   * cursor back to the fork point (the next catch-up applies the chain's blocks from there; events carry whole locks,
   * so a wallet read at `target` and then given the events of the blocks in between ends where the chain is).
   * Returns false when the node answering could not tell (it lacks one of the blocks): nothing was changed.
   */
  async #rollBack(target: bigint): Promise<boolean> {
    const candidates = this.#applied.filter((block) => block.number <= target);
    let low = 0;
    let high = candidates.length - 1;
    let fork = -1;
    // Loop bound: log2(reorgWindow) + 1 header requests.
    while (low <= high) {
      const middle = (low + high) >> 1;
      const applied = candidates[middle] as AppliedBlock;
      const header = await this.#header(applied.number);
      if (header === null) return false;
      if (header.hash === applied.hash) {
        fork = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    this.#generation++;
    if (fork === -1) return this.#forgetAll(target);

    const removed = this.#applied.slice(fork + 1);
    const touched = new Set(removed.flatMap((block) => block.wallets));
    const known = [...touched].filter((wallet) => this.#locks.has(wallet));
    const thresholdsTouched = removed.some((block) => block.thresholds);
    const [locks, thresholds] = await Promise.all([
      Promise.all(known.map((wallet) => this.#readLock(wallet, target))),
      thresholdsTouched ? this.#readThresholds(target) : undefined,
    ]);
    for (const [i, wallet] of known.entries()) {
      if (this.#locks.has(wallet)) this.#keep(wallet, locks[i] as Lock);
    }
    // Touched wallets first read while the locks above were read may have seen the removed blocks: read them again.
    for (const wallet of touched) if (!known.includes(wallet)) this.#locks.delete(wallet);
    if (thresholds !== undefined) this.#thresholds = thresholds;
    this.#applied = this.#applied.slice(0, fork + 1);
    this.counters.reorgs++;
    return true;
  }

  /** A reorg deeper than the window: forget every wallet, read the thresholds again, restart from `target`. */
  async #forgetAll(target: bigint): Promise<boolean> {
    const [header, thresholds] = await Promise.all([this.#header(target), this.#readThresholds(target)]);
    if (header === null) return false;
    this.#locks.clear();
    this.#thresholds = thresholds;
    this.#applied = [{ number: header.number, hash: header.hash, wallets: [], thresholds: false }];
    this.counters.reorgs++;
    return true;
  }

  /** Stores `lock` for `wallet`: a known wallet keeps its place; a new one past the bound evicts the least recent. */
  #keep(wallet: Address, lock: Lock): void {
    const known = this.#locks.has(wallet);
    this.#locks.set(wallet, lock);
    if (known || this.#locks.size <= this.#maxWallets) return;
    const oldest = this.#locks.keys().next().value as Address;
    this.#locks.delete(oldest);
    this.counters.evictions++;
  }

  #readLock(wallet: Address, blockNumber: bigint): Promise<Lock> {
    this.rpcCalls += 1;
    return this.#parameters.client
      .readContract({
        address: this.#parameters.votingEscrow,
        abi: votingEscrowAbi,
        functionName: "locked",
        args: [wallet],
        blockNumber,
      })
      .then(([amount, end, permanent]) => ({ amount, end, permanent }));
  }

  #readThresholds(blockNumber: bigint): Promise<readonly bigint[]> {
    this.rpcCalls += 1;
    return this.#parameters.client.readContract({
      address: this.#parameters.stakingScore,
      abi: stakingScoreAbi,
      functionName: "thresholds",
      blockNumber,
    });
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
   * with a batching client, in one multicall with the other wallets seen at the same moment) — at the last block
   * applied, so the events after it are exactly those the next syncs apply. Undefined when the chain cannot be read.
   */
  #firstRead(wallet: Address): Promise<Lock | undefined> {
    let reading = this.#reading.get(wallet);
    if (reading === undefined) {
      reading = this.#firstReadOnce(wallet).finally(() => this.#reading.delete(wallet));
      this.#reading.set(wallet, reading);
    }
    return reading;
  }

  async #firstReadOnce(wallet: Address): Promise<Lock | undefined> {
    // Loop bound: 2 reads — a rollback during the first makes it read again at the new cursor.
    for (let attempt = 0; attempt < 2; attempt++) {
      const generation = this.#generation;
      let read: Lock;
      try {
        read = await this.#readLock(wallet, this.#cursor.number);
      } catch {
        return undefined;
      }
      if (generation !== this.#generation) continue;
      // An event applied while the read was in flight wins: it is from a block after the one read.
      const lock = this.#locks.get(wallet) ?? read;
      this.#keep(wallet, lock);
      return lock;
    }
    return undefined;
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
    if (lock !== undefined) {
      this.lookups.hit++;
      // Most recently asked for: last in the LRU order.
      this.#locks.delete(wallet);
      this.#locks.set(wallet, lock);
    } else if (this.#stale) lock = NO_LOCK;
    else {
      this.lookups.miss++;
      const read = await this.#firstRead(wallet);
      lock = read ?? NO_LOCK;
      if (read === undefined) stale = true;
    }
    const thresholds = this.#thresholds;
    if (thresholds === undefined) throw new Error("call start() before asking for standings");
    const veTMAI = veBalanceAt(lock, now);
    const level = levelForBalance(veTMAI, thresholds);
    return { address: wallet, veTMAI, level, tier: tierOfLevel(level), tierName: tierName(level), lock, stale };
  }
}
