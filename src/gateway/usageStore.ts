import type { Plan } from "./plans.ts";

/** A wallet's usage: credits this calendar month (UTC) and requests this minute. Times are Unix seconds. */
export interface Usage {
  quota: { limit: number; used: number; remaining: number; resetsAt: number };
  rate: { limit: number; remaining: number; resetsAt: number };
}

/** The outcome of one metered request for a wallet. */
export interface UsageDecision extends Usage {
  allowed: boolean;
  /** Why it was refused. */
  refusedBy?: "rate" | "quota";
}

/** One key's traffic on one UTC day: requests let through, credits charged, requests refused by rate or quota. */
export interface KeyDay {
  keyId: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  requests: number;
  credits: number;
  refused: number;
}

/**
 * Where the gateway keeps what must be shared by every request of a wallet: rate and quota counters (one atomic
 * decision per request), per-key daily counts, and the nonces of signed requests. `SqliteUsageStore` (one process,
 * one file) and `RedisUsageStore` (several gateway instances) implement it and pass the same tests.
 */
export interface UsageStore {
  readonly kind: "sqlite" | "redis";
  /** Charges `cost` credits to `wallet` (through `keyId`) under `plan` at `now` (ms) if rate and quota allow. */
  decide(wallet: string, keyId: string, plan: Plan, cost: number, now: number): Promise<UsageDecision>;
  /**
   * Gives back `cost` credits charged by `decide` at `decidedAt` (ms) for a request the upstream did not serve: the
   * month of `decidedAt` and the key's day lose the credits (the request still counts against the minute's rate).
   */
  refund(wallet: string, keyId: string, cost: number, decidedAt: number): Promise<void>;
  /** The wallet's usage under `plan` at `now` (ms), charging nothing. */
  peek(wallet: string, plan: Plan, now: number): Promise<Usage>;
  /** Daily counts of `keyIds` from `fromDay` to `toDay` (inclusive, `YYYY-MM-DD`); days with no traffic left out. */
  keyDays(keyIds: readonly string[], fromDay: string, toDay: string): Promise<KeyDay[]>;
  /** Records a signed request's nonce until `expiresAt` (s); false when it was already seen (a replay). */
  claimNonce(nonce: string, expiresAt: number, now: number): Promise<boolean>;
  /** Whether the store answers now. */
  ping(): Promise<boolean>;
  /**
   * Whether the counters survive a restart of the store: SQLite on a file yes, in memory no; Redis only with
   * `appendonly yes` (read from `INFO persistence` at each connection; `undefined` while unknown or when refused).
   */
  readonly durable?: boolean | undefined;
  /**
   * When (ms) the store last found its counters lost since it started — a Redis restarted without persistence,
   * flushed, or failed over to an empty replica: this month's quotas and the key histories restarted from zero.
   */
  readonly countersLostAt?: number | undefined;
  close(): Promise<void>;
}

/** The store could not be reached; the gateway decides what that means for a route (fail closed by default). */
export class UsageStoreUnavailableError extends Error {
  override name = "UsageStoreUnavailableError";
}

/** `YYYY-MM` of `now` (ms) and the start of the next calendar month, UTC, in seconds. */
export function monthOf(now: number): { period: string; resetsAt: number } {
  const date = new Date(now);
  const period = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
  const resetsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / 1000;
  return { period, resetsAt };
}

/** `YYYY-MM-DD` of `now` (ms), UTC. */
export function dayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Every `YYYY-MM-DD` from `fromDay` to `toDay`, inclusive. */
export function daysBetween(fromDay: string, toDay: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${toDay}T00:00:00Z`);
  // Loop bound: the caller limits the range (GET /v1/usage allows 366 days).
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= end; t += 86_400_000) days.push(dayOf(t));
  return days;
}

/** Every `YYYY-MM` from the month of `fromDay` to the month of `toDay`, inclusive. */
export function monthsBetween(fromDay: string, toDay: string): string[] {
  const [fromYear, fromMonth] = fromDay.split("-").map(Number) as [number, number];
  const [toYear, toMonth] = toDay.split("-").map(Number) as [number, number];
  const count = (toYear - fromYear) * 12 + toMonth - fromMonth + 1;
  // Bound: the caller limits the range (GET /v1/usage allows 366 days, so at most 13 months).
  return Array.from({ length: Math.max(0, count) }, (_, i) => monthOf(Date.UTC(fromYear, fromMonth - 1 + i, 1)).period);
}

/** The usage figures a decision or a peek reports, from the counts after it. */
export function usageOf(plan: Plan, used: number, inMinute: number, now: number): Usage {
  const minute = Math.floor(now / 60_000);
  return {
    quota: {
      limit: plan.monthlyQuota,
      used,
      remaining: Math.max(0, plan.monthlyQuota - used),
      resetsAt: monthOf(now).resetsAt,
    },
    rate: { limit: plan.perMinute, remaining: Math.max(0, plan.perMinute - inMinute), resetsAt: (minute + 1) * 60 },
  };
}
