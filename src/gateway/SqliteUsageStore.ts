import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Plan } from "./plans.ts";
import { statementCache } from "./statementCache.ts";
import { dayOf, type KeyDay, monthOf, type Usage, type UsageDecision, type UsageStore, usageOf } from "./usageStore.ts";

/**
 * Usage in SQLite (one file, durable; the embedded default): credits per wallet per calendar month (UTC), requests
 * per wallet per minute, per-key daily counts and signed-request nonces. Each decision is one transaction, and
 * node:sqlite is synchronous, so concurrent requests in this process are decided one after another: a quota is
 * never overshot. A tier change applies at once, and the month's usage carries over (usage belongs to the wallet).
 */
export class SqliteUsageStore implements UsageStore {
  readonly kind = "sqlite";
  readonly #db: DatabaseSync;
  readonly #sql: (sql: string) => StatementSync;
  /** Whether this store opened the database (and so closes it). */
  readonly #owned: boolean;
  #decisions = 0;

  /** @param source a database shared with the other gateway stores, or a file to open (default: in memory). */
  constructor(source: DatabaseSync | string = ":memory:") {
    this.#owned = typeof source === "string";
    this.#db = typeof source === "string" ? new DatabaseSync(source) : source;
    this.#sql = statementCache(this.#db);
    // WAL with synchronous=NORMAL: a commit survives a crash of the process; only a power cut may lose the last ones.
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS monthly_usage (wallet TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL,
        PRIMARY KEY (wallet, period));
      CREATE TABLE IF NOT EXISTS minute_usage (wallet TEXT NOT NULL, minute INTEGER NOT NULL, used INTEGER NOT NULL,
        PRIMARY KEY (wallet, minute));
      CREATE TABLE IF NOT EXISTS key_daily_usage (key_id TEXT NOT NULL, day TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0, credits INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day));
      CREATE TABLE IF NOT EXISTS request_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
    `);
  }

  async decide(wallet: string, keyId: string, plan: Plan, cost: number, now: number): Promise<UsageDecision> {
    return this.decideNow(wallet, keyId, plan, cost, now);
  }

  /** `decide`, synchronously: the whole decision is one transaction with nothing else in between. */
  decideNow(wallet: string, keyId: string, plan: Plan, cost: number, now: number): UsageDecision {
    const { period } = monthOf(now);
    const minute = Math.floor(now / 60_000);
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const { used, inMinute } = this.#counts(wallet, period, minute);
      let refusedBy: UsageDecision["refusedBy"];
      if (inMinute + 1 > plan.perMinute) refusedBy = "rate";
      else if (used + cost > plan.monthlyQuota) refusedBy = "quota";
      const allowed = refusedBy === undefined;
      if (allowed) {
        this.#sql(
          "INSERT INTO monthly_usage (wallet, period, used) VALUES (?, ?, ?) ON CONFLICT (wallet, period) DO UPDATE SET used = used + excluded.used",
        ).run(wallet, period, cost);
        this.#sql(
          "INSERT INTO minute_usage (wallet, minute, used) VALUES (?, ?, 1) ON CONFLICT (wallet, minute) DO UPDATE SET used = used + 1",
        ).run(wallet, minute);
      }
      this.#sql(
        "INSERT INTO key_daily_usage (key_id, day, requests, credits, refused) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, day) DO UPDATE SET requests = requests + excluded.requests, credits = credits + excluded.credits, refused = refused + excluded.refused",
      ).run(keyId, dayOf(now), allowed ? 1 : 0, allowed ? cost : 0, allowed ? 0 : 1);
      // Minute counters older than the previous minute are never read again: prune them now and then.
      if (++this.#decisions % 1_000 === 0) this.#sql("DELETE FROM minute_usage WHERE minute < ?").run(minute - 1);
      this.#db.exec("COMMIT");
      const usage = usageOf(plan, allowed ? used + cost : used, allowed ? inMinute + 1 : inMinute, now);
      return { allowed, ...(refusedBy === undefined ? {} : { refusedBy }), ...usage };
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  async peek(wallet: string, plan: Plan, now: number): Promise<Usage> {
    const { used, inMinute } = this.#counts(wallet, monthOf(now).period, Math.floor(now / 60_000));
    return usageOf(plan, used, inMinute, now);
  }

  async keyDays(keyIds: readonly string[], fromDay: string, toDay: string): Promise<KeyDay[]> {
    const rows: KeyDay[] = [];
    const select = this.#sql(
      "SELECT day, requests, credits, refused FROM key_daily_usage WHERE key_id = ? AND day BETWEEN ? AND ? ORDER BY day",
    );
    for (const keyId of keyIds) {
      for (const row of select.all(keyId, fromDay, toDay) as Omit<KeyDay, "keyId">[]) rows.push({ keyId, ...row });
    }
    return rows;
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

  /** Credits used this month and requests made this minute by `wallet`. */
  #counts(wallet: string, period: string, minute: number): { used: number; inMinute: number } {
    const month = this.#sql("SELECT used FROM monthly_usage WHERE wallet = ? AND period = ?").get(wallet, period) as
      | { used: number }
      | undefined;
    const recent = this.#sql("SELECT used FROM minute_usage WHERE wallet = ? AND minute = ?").get(wallet, minute) as
      | { used: number }
      | undefined;
    return { used: month?.used ?? 0, inMinute: recent?.used ?? 0 };
  }

  async close(): Promise<void> {
    if (this.#owned && this.#db.isOpen) this.#db.close();
  }
}
