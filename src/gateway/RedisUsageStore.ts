import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import type { Plan } from "./plans.ts";
import {
  dayOf,
  type KeyDay,
  monthOf,
  monthsBetween,
  type Usage,
  type UsageDecision,
  type UsageStore,
  UsageStoreUnavailableError,
  usageOf,
} from "./usageStore.ts";

/**
 * One atomic decision in Redis: read the month's credits and the minute's requests, refuse on rate then quota,
 * otherwise charge both, and count the request against the key's day (fields `<DD>:r`, `<DD>:c`, `<DD>:x` of the
 * key's month hash) — a single round trip, so gateway instances sharing the Redis never overshoot a quota.
 * A decision that reaches Redis after its deadline (Redis time, ms; 0 for none) changes nothing: the gateway has
 * already answered 503 for it, so a stalled Redis that wakes up does not charge requests that were refused.
 * KEYS: month counter, minute counter, key-month hash.
 * ARGV: cost, monthly quota, per-minute limit, month expiry (s), day of the month (`DD`), deadline (ms).
 */
const DECIDE = `
local deadline = tonumber(ARGV[6])
if deadline > 0 then
  local time = redis.call('TIME')
  if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > deadline then return {0, 3, 0, 0} end
end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local inMinute = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[1])
local refused = 0
if inMinute + 1 > tonumber(ARGV[3]) then refused = 1
elseif used + cost > tonumber(ARGV[2]) then refused = 2 end
if refused > 0 then
  redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':x', 1)
else
  used = redis.call('INCRBY', KEYS[1], cost)
  redis.call('EXPIREAT', KEYS[1], ARGV[4])
  inMinute = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], 120)
  redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':r', 1)
  redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':c', cost)
end
redis.call('EXPIRE', KEYS[3], 34560000)
return {refused == 0 and 1 or 0, refused, used, inMinute}
`;

/**
 * Gives credits back: the month's counter (only if it still exists) and the key-day's credits.
 * KEYS: month counter, key-month hash. ARGV: cost, day of the month (`DD`).
 */
const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[1]) end
local credits = ARGV[2] .. ':c'
if redis.call('HEXISTS', KEYS[2], credits) == 1 then redis.call('HINCRBY', KEYS[2], credits, -tonumber(ARGV[1])) end
return 1
`;

/**
 * The marker of the counters' lifetime: written once (never expiring) by the first store to find it missing, so a
 * store that saw one marker and later finds another, or none, knows Redis lost its data in between.
 * KEYS: marker. ARGV: the marker to write when there is none. Returns the marker now in Redis.
 */
const MARKER = `
local marker = redis.call('GET', KEYS[1])
if marker then return marker end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

/** How many hashes one pipelined batch of a usage read asks for; the event loop gets a turn between batches. */
const READ_BATCH = 200;

/** A `RedisUsageStore`'s settings beyond the URL and prefix. */
export interface RedisUsageStoreOptions {
  /**
   * How long one command (or one batch of a usage read) may wait for Redis, in ms (default 2,000). Past it the call
   * fails with `UsageStoreUnavailableError` and the connection is replaced, which fails every command still waiting
   * on it at once: a stalled Redis is treated as an outage, and commands do not pile up behind it.
   */
  commandTimeoutMs?: number;
  /**
   * Called when the store finds the counters lost (see `countersLostAt`): at a reconnection, or at a `ping`, when
   * the marker written at the counters' first use is gone or has changed.
   */
  onCountersLost?: (at: number) => void;
}

/** The race a command lost against its timeout. */
class CommandTimedOut extends Error {}

/** A node-redis client that fails at once while disconnected and reconnects in the background (backoff ≤ 1 s). */
function redisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    // node-redis's own command timeout only covers commands not yet sent; the store's covers them all.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: 1_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
  });
}

type Client = ReturnType<typeof redisClient>;

/**
 * Usage shared by several gateway instances through Redis (node-redis): one Lua call per decision. While Redis is
 * unreachable every call fails at once with `UsageStoreUnavailableError` (no offline queue, no hanging request) and
 * the client reconnects in the background (backoff up to 1 s); a restarted Redis that lost the script gets it again.
 * A Redis that is connected but does not answer (stalled) fails each call after `commandTimeoutMs`, and then at once
 * until it answers again. Counters survive a restart of Redis only with `appendonly yes` (see `durable`); a loss is
 * detected and reported (`countersLostAt`, `onCountersLost`).
 *
 * Layout (every key under the prefix): `usage:<wallet>:<YYYY-MM>` credits of the month, `rate:<wallet>:<minute>`
 * requests of the minute, `keymonth:<keyId>:<YYYY-MM>` one hash per key and month with the fields `<DD>:r`
 * (requests), `<DD>:c` (credits), `<DD>:x` (refused) of each day, `nonce:<nonce>` signed-request nonces, and
 * `meta:counters` the marker of the counters' lifetime.
 */
export class RedisUsageStore implements UsageStore {
  readonly kind = "redis";
  readonly commandTimeoutMs: number;
  readonly #url: string;
  readonly #prefix: string;
  readonly #onCountersLost: ((at: number) => void) | undefined;
  #client: Client;
  #sha: string | undefined;
  #connecting: Promise<unknown> | undefined;
  /** The checks a new connection runs before the store reports it connected. */
  #checking: Promise<void> | undefined;
  #closed = false;
  /** The counters' marker this store saw last. */
  #marker: string | undefined;
  #countersLostAt: number | undefined;
  #durable: boolean | undefined;
  /** Redis's clock minus ours (ms), measured at each connection and ping; undefined when Redis would not say. */
  #clockOffset: number | undefined;

  /** @param prefix namespaces every key, so one Redis can serve several deployments (and tests). */
  constructor(url: string, prefix = "tmai:", options: RedisUsageStoreOptions = {}) {
    this.#url = url;
    this.#prefix = prefix;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
    if (!(this.commandTimeoutMs > 0 && this.commandTimeoutMs <= 60_000))
      throw new RangeError(`commandTimeoutMs must be from 1 to 60,000 ms, got ${this.commandTimeoutMs}`);
    this.#onCountersLost = options.onCountersLost;
    this.#client = this.#newClient();
  }

  /** Whether Redis keeps the counters across its restarts: `appendonly yes`, as `INFO persistence` said last. */
  get durable(): boolean | undefined {
    return this.#durable;
  }

  /** When (ms) this store last found that Redis had lost the counters (undefined if never). */
  get countersLostAt(): number | undefined {
    return this.#countersLostAt;
  }

  /** When (ms) the counters now in Redis began: the marker's time (a fresh Redis, or the last loss). */
  get countersSince(): number | undefined {
    return this.#marker === undefined ? undefined : Number(this.#marker.split("-")[0]);
  }

  #newClient(): Client {
    const client = redisClient(this.#url);
    client.on("error", () => {
      // Reported to callers through the failed commands; the client keeps reconnecting.
    });
    client.on("ready", () => {
      if (client === this.#client) this.#checking = this.#checkConnection(client);
    });
    return client;
  }

  /** Connects, waiting at most `timeoutMs`; on failure it keeps trying in the background and throws. */
  async connect(timeoutMs = 2_000): Promise<void> {
    this.#connecting ??= this.#client.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.#connecting.then(() => this.#checking), timedOut]);
    clearTimeout(timer);
    if (!this.#client.isReady) throw new UsageStoreUnavailableError(`cannot reach Redis within ${timeoutMs} ms`);
  }

  /**
   * Sends one command on `client`, failing after `commandTimeoutMs`; a timeout replaces the connection (see
   * `#replace`). Redis's own error replies are passed on as they are.
   */
  async #send(args: string[], what: string, client = this.#client): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CommandTimedOut()), this.commandTimeoutMs);
    });
    try {
      return await Promise.race([client.sendCommand(args), timedOut]);
    } catch (error) {
      if (!(error instanceof CommandTimedOut)) throw error;
      this.#replace(client);
      throw new UsageStoreUnavailableError(
        `Redis did not answer the ${what} within ${this.commandTimeoutMs} ms (stalled or overloaded); calls fail at once until it answers again`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** `#send`, with every failure as `UsageStoreUnavailableError`. */
  async #command(args: string[], what: string, client = this.#client): Promise<unknown> {
    try {
      return await this.#send(args, what, client);
    } catch (error) {
      if (error instanceof UsageStoreUnavailableError) throw error;
      throw new UsageStoreUnavailableError(`Redis ${what} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Drops a connection that let a command time out, and opens a new one in the background: every command still
   * waiting on the old one fails at once, and until the new one is ready calls fail at once too (a stalled Redis
   * accepts the TCP connection but does not answer node-redis's handshake, `CLIENT SETINFO`), so commands never pile
   * up behind a Redis that does not answer.
   */
  #replace(stalled: Client): void {
    if (stalled !== this.#client || this.#closed) return;
    this.#client = this.#newClient();
    this.#checking = undefined;
    this.#connecting = this.#client.connect().catch(() => undefined);
    stalled.destroy();
  }

  /** What a new connection checks: the counters' marker, persistence, and the clock, none of them fatal. */
  async #checkConnection(client: Client): Promise<void> {
    await Promise.all([
      this.#checkMarker(client).catch(() => undefined),
      this.#measureClock(client).catch(() => undefined),
      this.#command(["INFO", "persistence"], "persistence check", client).then(
        (info) => {
          const aof = /^aof_enabled:(\d)/m.exec(String(info))?.[1];
          this.#durable = aof === undefined ? undefined : aof === "1";
        },
        () => {
          this.#durable = undefined;
        },
      ),
    ]);
  }

  /** Reads the counters' marker (writing one when there is none), and reports a loss when it changed. */
  async #checkMarker(client: Client): Promise<void> {
    const fresh = `${Date.now()}-${randomBytes(8).toString("hex")}`;
    const marker = String(await this.#command(["EVAL", MARKER, "1", this.#markerKey, fresh], "counter check", client));
    if (this.#marker !== undefined && marker !== this.#marker) {
      this.#countersLostAt = Date.now();
      this.#onCountersLost?.(this.#countersLostAt);
    }
    this.#marker = marker;
  }

  /** Redis's clock minus ours, within half a round trip, for the decisions' deadlines. */
  async #measureClock(client: Client): Promise<void> {
    const sent = Date.now();
    const [seconds, micros] = (await this.#command(["TIME"], "clock check", client)) as [string, string];
    this.#clockOffset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + Date.now()) / 2;
  }

  /** Runs the decision script by its hash, loading it first when Redis does not know it (a fresh or restarted Redis). */
  async #decideScript(keys: string[], args: string[]): Promise<number[]> {
    if (this.#sha !== undefined) {
      try {
        return (await this.#send(["EVALSHA", this.#sha, "3", ...keys, ...args], "usage decision")) as number[];
      } catch (error) {
        if (error instanceof UsageStoreUnavailableError) throw error;
        if (!String((error as Error).message).includes("NOSCRIPT"))
          throw new UsageStoreUnavailableError(`Redis usage decision failed: ${(error as Error).message}`);
      }
    }
    this.#sha = String(await this.#command(["SCRIPT", "LOAD", DECIDE], "script load"));
    return (await this.#command(["EVALSHA", this.#sha, "3", ...keys, ...args], "usage decision")) as number[];
  }

  async decide(wallet: string, keyId: string, plan: Plan, cost: number, now: number): Promise<UsageDecision> {
    const { period, resetsAt } = monthOf(now);
    const day = dayOf(now);
    const keys = [this.#monthKey(wallet, period), this.#minuteKey(wallet, now), this.#keyMonthKey(keyId, period)];
    // The deadline falls a quarter of the timeout before the gateway gives up: a decision Redis runs in time has
    // that long to get its answer back, so one the gateway refused (503) is one that charged nothing.
    const deadline =
      this.#clockOffset === undefined
        ? 0
        : Math.ceil(Date.now() + this.#clockOffset + this.commandTimeoutMs - Math.max(1, this.commandTimeoutMs / 4));
    const args = [
      String(cost),
      String(plan.monthlyQuota),
      String(plan.perMinute),
      String(resetsAt + 86_400),
      day.slice(8),
      String(deadline),
    ];
    const [allowed, reason, used, inMinute] = (await this.#decideScript(keys, args)).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    if (reason === 3)
      throw new UsageStoreUnavailableError(
        `Redis ran the usage decision after its ${this.commandTimeoutMs} ms deadline (stalled or overloaded); nothing was charged`,
      );
    return {
      allowed: allowed === 1,
      ...(reason === 1 ? { refusedBy: "rate" as const } : reason === 2 ? { refusedBy: "quota" as const } : {}),
      ...usageOf(plan, used, inMinute, now),
    };
  }

  async refund(wallet: string, keyId: string, cost: number, decidedAt: number): Promise<void> {
    const { period } = monthOf(decidedAt);
    const keys = [this.#monthKey(wallet, period), this.#keyMonthKey(keyId, period)];
    await this.#command(["EVAL", REFUND, "2", ...keys, String(cost), dayOf(decidedAt).slice(8)], "usage refund");
  }

  async peek(wallet: string, plan: Plan, now: number): Promise<Usage> {
    const [used, inMinute] = (await this.#command(
      ["MGET", this.#monthKey(wallet, monthOf(now).period), this.#minuteKey(wallet, now)],
      "usage read",
    )) as (string | null)[];
    return usageOf(plan, Number(used ?? 0), Number(inMinute ?? 0), now);
  }

  /**
   * One `HGETALL` per key and month (13 for 366 days), sent in pipelined batches of `READ_BATCH` awaited one after
   * another, each within the command timeout: other requests' commands go between the batches.
   */
  async keyDays(keyIds: readonly string[], fromDay: string, toDay: string): Promise<KeyDay[]> {
    const months = monthsBetween(fromDay, toDay);
    const wanted = keyIds.flatMap((keyId) => months.map((month) => ({ keyId, month })));
    const rows: KeyDay[] = [];
    // Bound: keys × months hashes (the caller bounds both), READ_BATCH at a time.
    for (let start = 0; start < wanted.length; start += READ_BATCH) {
      const batch = wanted.slice(start, start + READ_BATCH);
      const hashes = await Promise.all(
        batch.map(({ keyId, month }) => this.#command(["HGETALL", this.#keyMonthKey(keyId, month)], "usage read")),
      );
      for (const [i, { keyId, month }] of batch.entries()) {
        rows.push(...keyDaysOf(keyId, month, hashes[i] as Record<string, string> | string[], fromDay, toDay));
      }
    }
    return rows;
  }

  async claimNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    const ttl = String(Math.max(1, expiresAt - now));
    return (await this.#command(["SET", `${this.#prefix}nonce:${nonce}`, "1", "NX", "EX", ttl], "nonce")) === "OK";
  }

  /**
   * Whether Redis answers within the command timeout; also re-reads the counters' marker, so a flush or a failover
   * to an empty replica (no reconnection) is reported too, and re-measures the clock.
   */
  async ping(): Promise<boolean> {
    const client = this.#client;
    if (!client.isReady) return false;
    try {
      const [marker] = await Promise.all([
        this.#send(["GET", this.#markerKey], "ping", client),
        this.#measureClock(client),
      ]);
      if (marker !== this.#marker || marker === null) await this.#checkMarker(client);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the connection, waiting at most the command timeout for the commands still in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(resolve, this.commandTimeoutMs);
    });
    if (client.isReady) await Promise.race([client.close().catch(() => undefined), timedOut]);
    if (client.isOpen) client.destroy();
    await Promise.race([this.#connecting, timedOut]);
    clearTimeout(timer);
  }

  get #markerKey(): string {
    return `${this.#prefix}meta:counters`;
  }

  #monthKey(wallet: string, period: string): string {
    return `${this.#prefix}usage:${wallet}:${period}`;
  }

  #minuteKey(wallet: string, now: number): string {
    return `${this.#prefix}rate:${wallet}:${Math.floor(now / 60_000)}`;
  }

  #keyMonthKey(keyId: string, period: string): string {
    return `${this.#prefix}keymonth:${keyId}:${period}`;
  }
}

/** Two-digit days of the month, `01` … `31`. */
const DAYS_OF_MONTH = Array.from({ length: 31 }, (_, i) => String(i + 1).padStart(2, "0"));

/**
 * The days from `fromDay` to `toDay` of one key-month hash (fields `<DD>:r|c|x`, as an object or a flat array of
 * fields and values), in day order; a day is listed when it saw a request, let through or refused.
 */
function keyDaysOf(
  keyId: string,
  month: string,
  fields: Record<string, string> | string[],
  fromDay: string,
  toDay: string,
): KeyDay[] {
  const hash: Record<string, string | undefined> = Array.isArray(fields)
    ? Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]))
    : fields;
  const rows: KeyDay[] = [];
  for (const dd of DAYS_OF_MONTH) {
    const requests = hash[`${dd}:r`];
    const refused = hash[`${dd}:x`];
    if (requests === undefined && refused === undefined) continue;
    const day = `${month}-${dd}`;
    if (day < fromDay || day > toDay) continue;
    rows.push({
      keyId,
      day,
      requests: Number(requests ?? 0),
      credits: Number(hash[`${dd}:c`] ?? 0),
      refused: Number(refused ?? 0),
    });
  }
  return rows;
}
