import { createClient } from "redis";
import type { Plan } from "./plans.ts";
import { monthOf, type UsageDecision } from "./SqliteUsageStore.ts";

/**
 * One atomic decision in Redis: read the month's credits and the minute's requests, refuse on rate then quota,
 * otherwise charge both — a single round trip, so gateway instances sharing the Redis never overshoot a quota.
 * KEYS: month counter, minute counter. ARGV: cost, monthly quota, per-minute limit, month expiry (Unix s).
 */
const DECIDE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local inMinute = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[1])
if inMinute + 1 > tonumber(ARGV[3]) then return {0, 1, used, inMinute} end
if used + cost > tonumber(ARGV[2]) then return {0, 2, used, inMinute} end
used = redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIREAT', KEYS[1], ARGV[4])
inMinute = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 120)
return {1, 0, used, inMinute}
`;

/** Redis could not be reached; the gateway decides what that means for a route (fail closed by default). */
export class UsageStoreUnavailableError extends Error {
  override name = "UsageStoreUnavailableError";
}

/** Usage per wallet shared by several gateway instances through Redis (node-redis), one Lua call per decision. */
export class RedisUsageStore {
  readonly #client: ReturnType<typeof createClient>;
  #sha: string | undefined;

  constructor(url: string) {
    // No endless reconnect loop behind the caller's back: an outage surfaces as UsageStoreUnavailableError.
    this.#client = createClient({ url, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
    this.#client.on("error", () => {
      // Reported to callers through the failed commands.
    });
  }

  async connect(): Promise<void> {
    try {
      await this.#client.connect();
      this.#sha = String(await this.#client.sendCommand(["SCRIPT", "LOAD", DECIDE]));
    } catch (error) {
      throw new UsageStoreUnavailableError(`cannot reach Redis: ${(error as Error).message}`);
    }
  }

  async decide(wallet: string, plan: Plan, cost: number, now: number): Promise<UsageDecision> {
    const { period, resetsAt } = monthOf(now);
    const minute = Math.floor(now / 60_000);
    const keys = [`tmai:usage:${wallet}:${period}`, `tmai:rate:${wallet}:${minute}`];
    const args = [String(cost), String(plan.monthlyQuota), String(plan.perMinute), String(resetsAt + 86_400)];
    let reply: number[];
    try {
      reply = (await this.#client.sendCommand(["EVALSHA", this.#sha ?? "", "2", ...keys, ...args])) as number[];
    } catch (error) {
      throw new UsageStoreUnavailableError(`Redis refused the usage decision: ${(error as Error).message}`);
    }
    const [allowed, reason, used, inMinute] = reply.map(Number) as [number, number, number, number];
    return {
      allowed: allowed === 1,
      ...(reason === 1 ? { refusedBy: "rate" as const } : reason === 2 ? { refusedBy: "quota" as const } : {}),
      quota: { limit: plan.monthlyQuota, used, remaining: Math.max(0, plan.monthlyQuota - used), resetsAt },
      rate: { limit: plan.perMinute, remaining: Math.max(0, plan.perMinute - inMinute), resetsAt: (minute + 1) * 60 },
    };
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.quit();
  }
}
