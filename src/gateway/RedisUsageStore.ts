import { createClient } from "redis";
import type { Plan } from "./plans.ts";
import {
  dayOf,
  daysBetween,
  type KeyDay,
  monthOf,
  type Usage,
  type UsageDecision,
  type UsageStore,
  UsageStoreUnavailableError,
  usageOf,
} from "./usageStore.ts";

/**
 * One atomic decision in Redis: read the month's credits and the minute's requests, refuse on rate then quota,
 * otherwise charge both, and count the request against the key's day — a single round trip, so gateway instances
 * sharing the Redis never overshoot a quota.
 * KEYS: month counter, minute counter, key-day hash. ARGV: cost, monthly quota, per-minute limit, month expiry (s).
 */
const DECIDE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local inMinute = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[1])
local refused = 0
if inMinute + 1 > tonumber(ARGV[3]) then refused = 1
elseif used + cost > tonumber(ARGV[2]) then refused = 2 end
if refused > 0 then
  redis.call('HINCRBY', KEYS[3], 'x', 1)
else
  used = redis.call('INCRBY', KEYS[1], cost)
  redis.call('EXPIREAT', KEYS[1], ARGV[4])
  inMinute = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], 120)
  redis.call('HINCRBY', KEYS[3], 'r', 1)
  redis.call('HINCRBY', KEYS[3], 'c', cost)
end
redis.call('EXPIRE', KEYS[3], 34560000)
return {refused == 0 and 1 or 0, refused, used, inMinute}
`;

/**
 * Gives credits back: the month's counter (only if it still exists) and the key-day's credits.
 * KEYS: month counter, key-day hash. ARGV: cost.
 */
const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[1]) end
if redis.call('HEXISTS', KEYS[2], 'c') == 1 then redis.call('HINCRBY', KEYS[2], 'c', -tonumber(ARGV[1])) end
return 1
`;

/**
 * Usage shared by several gateway instances through Redis (node-redis): one Lua call per decision. While Redis is
 * unreachable every call fails at once with `UsageStoreUnavailableError` (no offline queue, no hanging request) and
 * the client reconnects in the background (backoff up to 1 s); a restarted Redis that lost the script gets it again.
 */
export class RedisUsageStore implements UsageStore {
  readonly kind = "redis";
  readonly #client: ReturnType<typeof createClient>;
  readonly #prefix: string;
  #sha: string | undefined;
  #connecting: Promise<unknown> | undefined;

  /** @param prefix namespaces every key, so one Redis can serve several deployments (and tests). */
  constructor(url: string, prefix = "tmai:") {
    this.#prefix = prefix;
    this.#client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
    });
    this.#client.on("error", () => {
      // Reported to callers through the failed commands; the client keeps reconnecting.
    });
  }

  /** Connects, waiting at most `timeoutMs`; on failure it keeps trying in the background and throws. */
  async connect(timeoutMs = 2_000): Promise<void> {
    this.#connecting ??= this.#client.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.#connecting, timedOut]);
    clearTimeout(timer);
    if (!this.#client.isReady) throw new UsageStoreUnavailableError(`cannot reach Redis within ${timeoutMs} ms`);
  }

  async #command(args: string[], what: string): Promise<unknown> {
    try {
      return await this.#client.sendCommand(args);
    } catch (error) {
      throw new UsageStoreUnavailableError(`Redis ${what} failed: ${(error as Error).message}`);
    }
  }

  /** Runs the decision script by its hash, loading it first when Redis does not know it (a fresh or restarted Redis). */
  async #decideScript(keys: string[], args: string[]): Promise<number[]> {
    if (this.#sha !== undefined) {
      try {
        return (await this.#client.sendCommand(["EVALSHA", this.#sha, "3", ...keys, ...args])) as number[];
      } catch (error) {
        if (!String((error as Error).message).includes("NOSCRIPT"))
          throw new UsageStoreUnavailableError(`Redis usage decision failed: ${(error as Error).message}`);
      }
    }
    this.#sha = String(await this.#command(["SCRIPT", "LOAD", DECIDE], "script load"));
    return (await this.#command(["EVALSHA", this.#sha, "3", ...keys, ...args], "usage decision")) as number[];
  }

  async decide(wallet: string, keyId: string, plan: Plan, cost: number, now: number): Promise<UsageDecision> {
    const { period, resetsAt } = monthOf(now);
    const keys = [this.#monthKey(wallet, period), this.#minuteKey(wallet, now), this.#dayKey(keyId, dayOf(now))];
    const args = [String(cost), String(plan.monthlyQuota), String(plan.perMinute), String(resetsAt + 86_400)];
    const [allowed, reason, used, inMinute] = (await this.#decideScript(keys, args)).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    return {
      allowed: allowed === 1,
      ...(reason === 1 ? { refusedBy: "rate" as const } : reason === 2 ? { refusedBy: "quota" as const } : {}),
      ...usageOf(plan, used, inMinute, now),
    };
  }

  async refund(wallet: string, keyId: string, cost: number, decidedAt: number): Promise<void> {
    const keys = [this.#monthKey(wallet, monthOf(decidedAt).period), this.#dayKey(keyId, dayOf(decidedAt))];
    await this.#command(["EVAL", REFUND, "2", ...keys, String(cost)], "usage refund");
  }

  async peek(wallet: string, plan: Plan, now: number): Promise<Usage> {
    const [used, inMinute] = (await this.#command(
      ["MGET", this.#monthKey(wallet, monthOf(now).period), this.#minuteKey(wallet, now)],
      "usage read",
    )) as (string | null)[];
    return usageOf(plan, Number(used ?? 0), Number(inMinute ?? 0), now);
  }

  async keyDays(keyIds: readonly string[], fromDay: string, toDay: string): Promise<KeyDay[]> {
    const days = daysBetween(fromDay, toDay);
    const wanted = keyIds.flatMap((keyId) => days.map((day) => ({ keyId, day })));
    // node-redis pipelines the commands issued in one tick: one round trip for the whole range.
    const hashes = await Promise.all(
      wanted.map(({ keyId, day }) => this.#command(["HGETALL", this.#dayKey(keyId, day)], "usage read")),
    );
    return wanted.flatMap(({ keyId, day }, i) => {
      const fields = hashes[i] as string[] | Record<string, string>;
      const hash: Record<string, string> = Array.isArray(fields)
        ? Object.fromEntries(fields.flatMap((_, j) => (j % 2 ? [] : [[fields[j], fields[j + 1]]])))
        : fields;
      if (hash.r === undefined && hash.x === undefined) return [];
      return [
        { keyId, day, requests: Number(hash.r ?? 0), credits: Number(hash.c ?? 0), refused: Number(hash.x ?? 0) },
      ];
    });
  }

  async claimNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    const ttl = String(Math.max(1, expiresAt - now));
    return (await this.#command(["SET", `${this.#prefix}nonce:${nonce}`, "1", "NX", "EX", ttl], "nonce")) === "OK";
  }

  async ping(): Promise<boolean> {
    if (!this.#client.isReady) return false;
    return this.#client.sendCommand(["PING"]).then(
      (reply) => String(reply) === "PONG",
      () => false,
    );
  }

  async close(): Promise<void> {
    if (this.#client.isReady) await this.#client.close();
    else if (this.#client.isOpen) this.#client.destroy();
    await this.#connecting;
  }

  #monthKey(wallet: string, period: string): string {
    return `${this.#prefix}usage:${wallet}:${period}`;
  }

  #minuteKey(wallet: string, now: number): string {
    return `${this.#prefix}rate:${wallet}:${Math.floor(now / 60_000)}`;
  }

  #dayKey(keyId: string, day: string): string {
    return `${this.#prefix}keyday:${keyId}:${day}`;
  }
}
