import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Plan } from "./plans.ts";
import { statementCache } from "./statementCache.ts";
import {
  dayOf,
  type KeyDay,
  monthOf,
  type Usage,
  type UsageDecision,
  type UsageStore,
  UsageStoreUnavailableError,
  usageOf,
} from "./usageStore.ts";

/** A decision's charge, waiting for the next group commit. */
interface PendingWrite {
  wallet: string;
  period: string;
  keyId: string;
  day: string;
  /** Credits charged (0 when refused). */
  credits: number;
  refused: boolean;
  decision: UsageDecision;
  resolve: (decision: UsageDecision) => void;
  reject: (error: Error) => void;
}

/** How many keys one query of a usage read covers (at most 366 rows each). */
const READ_BATCH = 20;

/** How many wallets' counters stay in memory by default before the least recent are dropped (and re-read). */
const MAX_WALLETS_IN_MEMORY = 100_000;

export class SqliteFileInUseError extends Error {
  override name = "SqliteFileInUseError";
}

/**
 * Usage in SQLite (one file, durable; the embedded default) for ONE gateway process: credits per wallet per
 * calendar month (UTC), per-key daily counts and signed-request nonces in the database; requests per minute in
 * memory. The store takes SQLite's exclusive lock on the file, so a second gateway on the same file is refused at
 * startup (several instances share usage through Redis instead).
 *
 * Decisions are made in memory, one after another (Node runs them on one thread), so a quota is never overshot;
 * the month's counter is read from the file the first time a wallet is seen. Charges are written by group commit:
 * every decision made in one turn of the event loop is written in one transaction, and each answer is given only
 * once its charge is committed. A tier change applies at once, and the month's usage carries over (usage belongs
 * to the wallet).
 */
export class SqliteUsageStore implements UsageStore {
  readonly kind = "sqlite";
  readonly #db: DatabaseSync;
  readonly #sql: (sql: string) => StatementSync;
  /** Whether this store opened the database (and so closes it). */
  readonly #owned: boolean;
  /** Each wallet's credits in the month it last used (committed or pending). */
  readonly #months = new Map<string, { period: string; used: number }>();
  /** Each wallet's requests in the minute it last used. */
  readonly #minutes = new Map<string, { minute: number; used: number }>();
  #writes: PendingWrite[] = [];

  readonly #maxWallets: number;

  /**
   * @param source a database shared with the other gateway stores, or a file to open (default: in memory).
   * @param options.maxWallets wallets whose counters stay in memory (default 100,000); the least recently used are
   *   forgotten first and read again from the file when needed.
   */
  constructor(source: DatabaseSync | string = ":memory:", options: { maxWallets?: number } = {}) {
    this.#maxWallets = options.maxWallets ?? MAX_WALLETS_IN_MEMORY;
    this.#owned = typeof source === "string";
    this.#db = typeof source === "string" ? new DatabaseSync(source) : source;
    this.#sql = statementCache(this.#db);
    // WAL with synchronous=NORMAL: a commit survives a crash of the process; only a power cut may lose the last ones.
    // The exclusive lock is taken by the first write below and kept until the database is closed.
    try {
      this.#db.exec(`
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 200;
        BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS monthly_usage (wallet TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL,
          PRIMARY KEY (wallet, period));
        CREATE TABLE IF NOT EXISTS key_daily_usage (key_id TEXT NOT NULL, day TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0, credits INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (key_id, day));
        CREATE TABLE IF NOT EXISTS request_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        COMMIT;
      `);
    } catch (error) {
      if (!/locked|busy/i.test((error as Error).message)) throw error;
      throw new SqliteFileInUseError(
        "another gateway already uses this database file; run one gateway per SQLite file, or share usage between instances through Redis (TMAI_REDIS_URL)",
      );
    }
  }

  /**
   * Decides in memory at once; the promise resolves once the charge is committed with the others of this turn of
   * the event loop (one transaction for all of them).
   */
  decide(wallet: string, keyId: string, plan: Plan, cost: number, now: number): Promise<UsageDecision> {
    const { period } = monthOf(now);
    const minute = Math.floor(now / 60_000);
    const used = this.#monthUsed(wallet, period);
    const inMinute = this.#minuteUsed(wallet, now);
    let refusedBy: UsageDecision["refusedBy"];
    if (inMinute + 1 > plan.perMinute) refusedBy = "rate";
    else if (used + cost > plan.monthlyQuota) refusedBy = "quota";
    const allowed = refusedBy === undefined;
    if (allowed) {
      this.#remember(this.#months, wallet, { period, used: used + cost });
      this.#remember(this.#minutes, wallet, { minute, used: inMinute + 1 });
    }
    const usage = usageOf(plan, allowed ? used + cost : used, allowed ? inMinute + 1 : inMinute, now);
    const decision: UsageDecision = { allowed, ...(refusedBy === undefined ? {} : { refusedBy }), ...usage };
    return new Promise((resolve, reject) => {
      this.#writes.push({
        wallet,
        period,
        keyId,
        day: dayOf(now),
        credits: allowed ? cost : 0,
        refused: !allowed,
        decision,
        resolve,
        reject,
      });
      if (this.#writes.length === 1) setImmediate(() => this.#commit());
    });
  }

  /** Sets `map[key]`, keeping the map to the most recently used wallets. */
  #remember<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#maxWallets) map.delete(map.keys().next().value as string);
  }

  /** Writes the pending charges in one transaction, then answers their requests. */
  #commit(): void {
    const writes = this.#writes;
    this.#writes = [];
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const write of writes) {
          if (write.credits > 0) {
            this.#sql(
              "INSERT INTO monthly_usage (wallet, period, used) VALUES (?, ?, ?) ON CONFLICT (wallet, period) DO UPDATE SET used = used + excluded.used",
            ).run(write.wallet, write.period, write.credits);
          }
          this.#sql(
            "INSERT INTO key_daily_usage (key_id, day, requests, credits, refused) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, day) DO UPDATE SET requests = requests + excluded.requests, credits = credits + excluded.credits, refused = refused + excluded.refused",
          ).run(write.keyId, write.day, write.refused ? 0 : 1, write.credits, write.refused ? 1 : 0);
        }
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      // Nothing of this group is on file: forget the counters (they are re-read) and refuse the requests.
      this.#months.clear();
      this.#minutes.clear();
      const unavailable = new UsageStoreUnavailableError(`SQLite could not record usage: ${(error as Error).message}`);
      for (const write of writes) write.reject(unavailable);
      return;
    }
    for (const write of writes) write.resolve(write.decision);
  }

  /** Runs once the charge is committed (`decide` answers only then), so the refund never precedes its charge. */
  async refund(wallet: string, keyId: string, cost: number, decidedAt: number): Promise<void> {
    const { period } = monthOf(decidedAt);
    try {
      this.#sql("UPDATE monthly_usage SET used = max(0, used - ?) WHERE wallet = ? AND period = ?").run(
        cost,
        wallet,
        period,
      );
      this.#sql("UPDATE key_daily_usage SET credits = max(0, credits - ?) WHERE key_id = ? AND day = ?").run(
        cost,
        keyId,
        dayOf(decidedAt),
      );
    } catch (error) {
      throw new UsageStoreUnavailableError(`SQLite could not refund usage: ${(error as Error).message}`);
    }
    const known = this.#months.get(wallet);
    if (known?.period === period) known.used = Math.max(0, known.used - cost);
  }

  /** Wallets whose month's counter is in memory now (at most `maxWallets`). */
  get walletsInMemory(): number {
    return this.#months.size;
  }

  async peek(wallet: string, plan: Plan, now: number): Promise<Usage> {
    return usageOf(plan, this.#monthUsed(wallet, monthOf(now).period), this.#minuteUsed(wallet, now), now);
  }

  /**
   * One indexed query per `READ_BATCH` keys (the keys passed as one JSON array), the event loop getting a turn
   * between them; rows in the order of `keyIds`, then by day.
   */
  async keyDays(keyIds: readonly string[], fromDay: string, toDay: string): Promise<KeyDay[]> {
    const select = this.#sql(
      "SELECT key_id AS keyId, day, requests, credits, refused FROM key_daily_usage WHERE key_id IN (SELECT value FROM json_each(?)) AND day BETWEEN ? AND ?",
    );
    const byKey = new Map<string, KeyDay[]>(keyIds.map((keyId) => [keyId, []]));
    // Bound: the caller bounds the keys and the range; READ_BATCH keys per query.
    for (let start = 0; start < keyIds.length; start += READ_BATCH) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const batch = JSON.stringify(keyIds.slice(start, start + READ_BATCH));
      for (const { keyId, day, requests, credits, refused } of select.all(batch, fromDay, toDay) as unknown as KeyDay[])
        byKey.get(keyId)?.push({ keyId, day, requests, credits, refused });
    }
    return [...byKey.values()].flatMap((days) => days.sort((a, b) => (a.day < b.day ? -1 : 1)));
  }

  async claimNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    this.#sql("DELETE FROM request_nonces WHERE expires_at <= ?").run(now);
    return (
      this.#sql("INSERT OR IGNORE INTO request_nonces (nonce, expires_at) VALUES (?, ?)").run(nonce, expiresAt)
        .changes === 1
    );
  }

  async ping(): Promise<boolean> {
    return this.#db.isOpen;
  }

  /** Whether the counters outlive the process: a database on a file, not in memory. */
  get durable(): boolean {
    return this.#db.isOpen && this.#db.location() !== null;
  }

  /** Credits `wallet` used in `period`: from memory, read from the database the first time (plus what is pending). */
  #monthUsed(wallet: string, period: string): number {
    const known = this.#months.get(wallet);
    if (known?.period === period) return known.used;
    const row = this.#sql("SELECT used FROM monthly_usage WHERE wallet = ? AND period = ?").get(wallet, period) as
      | { used: number }
      | undefined;
    let used = row?.used ?? 0;
    for (const write of this.#writes) if (write.wallet === wallet && write.period === period) used += write.credits;
    this.#remember(this.#months, wallet, { period, used });
    return used;
  }

  /** Requests `wallet` made in the minute of `now` (ms). */
  #minuteUsed(wallet: string, now: number): number {
    const known = this.#minutes.get(wallet);
    return known?.minute === Math.floor(now / 60_000) ? known.used : 0;
  }

  async close(): Promise<void> {
    if (this.#writes.length > 0) this.#commit();
    if (this.#owned && this.#db.isOpen) this.#db.close();
  }
}
