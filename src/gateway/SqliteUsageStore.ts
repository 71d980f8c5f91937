import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Plan } from "./plans.ts";
import { statementCache } from "./statementCache.ts";

/** The outcome of one metered request for a wallet. */
export interface UsageDecision {
  allowed: boolean;
  /** Why it was refused. */
  refusedBy?: "rate" | "quota";
  quota: { limit: number; used: number; remaining: number; resetsAt: number };
  rate: { limit: number; remaining: number; resetsAt: number };
}

/** `YYYY-MM` of `now` (ms) and the start of the next calendar month, UTC, in seconds. */
export function monthOf(now: number): { period: string; resetsAt: number } {
  const date = new Date(now);
  const period = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
  const resetsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / 1000;
  return { period, resetsAt };
}

/**
 * Usage per wallet in SQLite (one file, durable): credits used per calendar month (UTC) and requests per minute.
 * Each decision is one transaction, and node:sqlite is synchronous, so concurrent requests in this process are
 * decided one after another: a quota is never overshot. A tier change applies at once, and the month's usage
 * carries over (usage belongs to the wallet, not to the plan).
 */
export class SqliteUsageStore {
  readonly #db: DatabaseSync;
  readonly #sql: (sql: string) => StatementSync;
  #decisions = 0;

  /** @param source a database shared with the other gateway stores, or a file to open (default: in memory). */
  constructor(source: DatabaseSync | string = ":memory:") {
    this.#db = typeof source === "string" ? new DatabaseSync(source) : source;
    this.#sql = statementCache(this.#db);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS monthly_usage (wallet TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL,
        PRIMARY KEY (wallet, period));
      CREATE TABLE IF NOT EXISTS minute_usage (wallet TEXT NOT NULL, minute INTEGER NOT NULL, used INTEGER NOT NULL,
        PRIMARY KEY (wallet, minute));
    `);
  }

  /** Charges `cost` credits to `wallet` under `plan` at `now` (ms) if both the minute's rate and the month's quota allow. */
  decide(wallet: string, plan: Plan, cost: number, now: number): UsageDecision {
    const { period, resetsAt } = monthOf(now);
    const minute = Math.floor(now / 60_000);
    const rateResetsAt = (minute + 1) * 60;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const { used, inMinute } = this.#counts(wallet, period, minute);
      let refusedBy: UsageDecision["refusedBy"];
      if (inMinute + 1 > plan.perMinute) refusedBy = "rate";
      else if (used + cost > plan.monthlyQuota) refusedBy = "quota";
      if (refusedBy === undefined) {
        this.#sql(
          "INSERT INTO monthly_usage (wallet, period, used) VALUES (?, ?, ?) ON CONFLICT (wallet, period) DO UPDATE SET used = used + excluded.used",
        ).run(wallet, period, cost);
        this.#sql(
          "INSERT INTO minute_usage (wallet, minute, used) VALUES (?, ?, 1) ON CONFLICT (wallet, minute) DO UPDATE SET used = used + 1",
        ).run(wallet, minute);
      }
      // Minute counters older than the previous minute are never read again: prune them now and then.
      if (++this.#decisions % 1_000 === 0) this.#sql("DELETE FROM minute_usage WHERE minute < ?").run(minute - 1);
      this.#db.exec("COMMIT");
      const usedAfter = refusedBy === undefined ? used + cost : used;
      const minuteAfter = refusedBy === undefined ? inMinute + 1 : inMinute;
      return {
        allowed: refusedBy === undefined,
        ...(refusedBy === undefined ? {} : { refusedBy }),
        quota: {
          limit: plan.monthlyQuota,
          used: usedAfter,
          remaining: Math.max(0, plan.monthlyQuota - usedAfter),
          resetsAt,
        },
        rate: { limit: plan.perMinute, remaining: Math.max(0, plan.perMinute - minuteAfter), resetsAt: rateResetsAt },
      };
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The wallet's usage under `plan` at `now` (ms), without charging anything. */
  peek(wallet: string, plan: Plan, now: number): Omit<UsageDecision, "allowed" | "refusedBy"> {
    const { period, resetsAt } = monthOf(now);
    const minute = Math.floor(now / 60_000);
    const { used, inMinute } = this.#counts(wallet, period, minute);
    return {
      quota: { limit: plan.monthlyQuota, used, remaining: Math.max(0, plan.monthlyQuota - used), resetsAt },
      rate: {
        limit: plan.perMinute,
        remaining: Math.max(0, plan.perMinute - inMinute),
        resetsAt: (minute + 1) * 60,
      },
    };
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

  close(): void {
    this.#db.close();
  }
}
