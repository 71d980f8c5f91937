import { DatabaseSync } from "node:sqlite";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { type Address, createPublicClient, getAddress, http, type PublicClient } from "viem";
import { loadDeployment } from "../chain/deployments.ts";
import type { GatewayConfig } from "./config.ts";
import { createGateway } from "./createGateway.ts";
import { DEFAULT_PLANS, loadPlans } from "./plans.ts";
import { RedisUsageStore } from "./RedisUsageStore.ts";
import { SiweAuth } from "./SiweAuth.ts";
import { SqliteFileInUseError, SqliteUsageStore } from "./SqliteUsageStore.ts";
import { defaultConfirmations, TierTracker } from "./TierTracker.ts";
import type { UsageStore } from "./usageStore.ts";

export interface ShutdownParameters {
  /** How long `/readyz` answers 503, requests still served, before the server stops accepting connections (ms). */
  drainDelayMs: number;
  /** From the start of the shutdown, drain delay included: connections still open then are cut (ms). */
  timeoutMs: number;
}

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  tracker: TierTracker;
  store: UsageStore;
  /** `draining` turns true when a shutdown starts; `/readyz` then answers 503. */
  lifecycle: { draining: boolean };
  /** Stops now: the server, then the tracker and the stores (requests in flight are waited for, without a deadline). */
  close: () => Promise<void>;
  /**
   * Stops gracefully (what SIGTERM does): `/readyz` answers 503 for `drainDelayMs` while requests are still served,
   * so load balancers take the instance out; then the server stops accepting connections and waits for the
   * requests in flight; connections still open `timeoutMs` after the start are cut; then the tracker and the stores
   * stop. Resolves with `forced: true` when connections had to be cut. Called again while it runs, it skips what is
   * left of the drain delay and cuts the connections at once (a second Ctrl-C).
   */
  shutdown: (parameters?: Partial<ShutdownParameters>) => Promise<{ forced: boolean }>;
}

/** How long closing a store may take once the server has stopped (a Redis that does not answer is not waited for). */
const STORE_CLOSE_TIMEOUT_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Opens the gateway's SQLite file and its usage store, the store first: without Redis, the SQLite usage store
 * takes the file's exclusive lock before anything else touches it, so a second gateway on the file is refused at
 * once with `SqliteFileInUseError` (saying what to do), not a bare "database is locked" from the first table
 * created. With Redis, gateways may share the file: a busy timeout (set before anything else, WAL included) makes
 * one wait for another's write instead of failing; a file held for itself by a gateway without Redis is refused.
 */
function openStores(config: GatewayConfig, logger?: Logger): { db: DatabaseSync; store: UsageStore } {
  const db = new DatabaseSync(config.TMAI_GATEWAY_DB);
  try {
    if (config.TMAI_REDIS_URL === undefined) return { db, store: new SqliteUsageStore(db) };
    try {
      db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;");
    } catch (error) {
      if (!/locked|busy/i.test((error as Error).message)) throw error;
      throw new SqliteFileInUseError(
        "another gateway holds this database file for itself (it keeps usage in SQLite, without TMAI_REDIS_URL): give every gateway sharing the file the same TMAI_REDIS_URL, or give this one a file of its own (TMAI_GATEWAY_DB)",
      );
    }
    const store = new RedisUsageStore(config.TMAI_REDIS_URL, "tmai:", {
      commandTimeoutMs: config.TMAI_STORE_TIMEOUT_MS,
      onCountersLost: (at) =>
        logger?.error(
          { countersLostAt: new Date(at).toISOString() },
          "Redis lost the usage counters (restarted without persistence, flushed or failed over): this month's quotas count from now; run Redis with appendonly yes",
        ),
    });
    return { db, store };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Builds and starts the gateway from its configuration: the SQLite database and the usage store (SQLite, or Redis
 * when configured), the chain client and TierTracker (following events every `TMAI_SYNC_INTERVAL_MS`), and the HTTP
 * server. A Redis that does not answer at startup is logged, not fatal: the client keeps reconnecting and the outage
 * policy applies meanwhile. Whatever fails at startup, what was opened is closed again.
 */
export async function startGateway(config: GatewayConfig, logger?: Logger): Promise<RunningGateway> {
  const { db, store } = openStores(config, logger);
  let tracker: TierTracker | undefined;
  const closeStores = async () => {
    tracker?.stop();
    await Promise.race([store.close(), sleep(STORE_CLOSE_TIMEOUT_MS)]);
    if (db.isOpen) db.close();
  };
  try {
    // Wallets first seen together have their locks read in one multicall; deployless, so no Multicall3 is needed.
    const client = createPublicClient({
      transport: http(config.TMAI_RPC_URL, { timeout: 5_000, retryCount: 1 }),
      batch: { multicall: { deployless: true } },
    }) as PublicClient;
    const chainId = await client.getChainId();
    const recorded = config.TMAI_VOTING_ESCROW && config.TMAI_STAKING_SCORE ? undefined : loadDeployment(chainId);
    const votingEscrow = getAddress((config.TMAI_VOTING_ESCROW ?? recorded?.votingEscrow) as Address);
    const stakingScore = getAddress((config.TMAI_STAKING_SCORE ?? recorded?.stakingScore) as Address);
    tracker = new TierTracker({
      client,
      votingEscrow,
      stakingScore,
      confirmations: config.TMAI_CONFIRMATIONS ?? defaultConfirmations(chainId),
      maxWallets: config.TMAI_MAX_TRACKED_WALLETS,
    });
    await tracker.start();
    tracker.follow(config.TMAI_SYNC_INTERVAL_MS);

    if (store instanceof RedisUsageStore) {
      await store.connect().catch((error: Error) => {
        logger?.warn({ err: error }, "Redis is unreachable at startup; retrying in the background");
      });
      if (store.durable === false)
        logger?.warn(
          "Redis runs without AOF (appendonly no): a restart of Redis resets every monthly quota; run it with appendonly yes",
        );
    }
    const lifecycle = { draining: false };
    const origin = config.TMAI_SIWE_ORIGIN ?? `http://${config.TMAI_GATEWAY_HOST}:${config.TMAI_GATEWAY_PORT}`;
    const app = await createGateway({
      db,
      tracker,
      siwe: new SiweAuth({
        db,
        client,
        domain: config.TMAI_SIWE_DOMAIN ?? new URL(origin).host,
        origin,
        chainId,
      }),
      masterKey: Buffer.from(config.TMAI_MASTER_KEY, "base64"),
      plans: config.TMAI_PLANS ? loadPlans(config.TMAI_PLANS) : DEFAULT_PLANS,
      upstream: config.TMAI_UPSTREAM,
      dataPrefix: config.TMAI_DATA_PREFIX,
      store,
      lifecycle,
      storeOutage: { paidRoutes: config.TMAI_STORE_OUTAGE_PAID, freeRoutes: config.TMAI_STORE_OUTAGE_FREE },
      upstreamTimeoutMs: config.TMAI_UPSTREAM_TIMEOUT_MS,
      upstreamGuard: { maxInFlight: config.TMAI_UPSTREAM_MAX_IN_FLIGHT },
      ...(config.TMAI_TRUST_PROXY ? { trustProxy: config.TMAI_TRUST_PROXY.split(",") } : {}),
      clientLimits: {
        signInPerMinute: config.TMAI_SIGNIN_PER_MINUTE,
        failuresPerMinute: config.TMAI_AUTH_FAILURES_PER_MINUTE,
      },
      maxKeysPerWallet: config.TMAI_MAX_KEYS_PER_WALLET,
      auditRetentionDays: config.TMAI_AUDIT_RETENTION_DAYS,
      ...(logger ? { logger } : {}),
    });
    const url = await app.listen({ host: config.TMAI_GATEWAY_HOST, port: config.TMAI_GATEWAY_PORT });
    return {
      app,
      url,
      tracker,
      store,
      lifecycle,
      close: async () => {
        await app.close();
        await closeStores();
      },
      shutdown: gracefulShutdown(app, lifecycle, closeStores, {
        drainDelayMs: config.TMAI_DRAIN_DELAY_MS,
        timeoutMs: config.TMAI_SHUTDOWN_TIMEOUT_MS,
      }),
    };
  } catch (error) {
    await closeStores();
    throw error;
  }
}

/** `RunningGateway.shutdown` for `app`: the first call stops, a later one hurries it. */
function gracefulShutdown(
  app: FastifyInstance,
  lifecycle: { draining: boolean },
  closeStores: () => Promise<void>,
  defaults: ShutdownParameters,
): RunningGateway["shutdown"] {
  let stopping: Promise<{ forced: boolean }> | undefined;
  let hurry = () => {};
  // Requests being answered, so a shutdown knows whether cutting the connections cut one of them.
  let running = 0;
  const finished = () => {
    running--;
  };
  app.server.on("request", (_request, response) => {
    running++;
    response.once("close", finished);
  });
  const stop = async ({ drainDelayMs, timeoutMs }: ShutdownParameters) => {
    const started = Date.now();
    lifecycle.draining = true;
    const hurried = new Promise<void>((resolve) => {
      hurry = resolve;
    });
    let delay: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        delay = setTimeout(resolve, Math.min(drainDelayMs, timeoutMs));
      }),
      hurried,
    ]);
    clearTimeout(delay);
    let forced = false;
    let cutter: NodeJS.Timeout | undefined;
    // Cut every connection (forced if a request was still running), and again every 100 ms, in case one was
    // accepted before the listener closed.
    const cut = () => {
      if (cutter !== undefined) return;
      forced = running > 0;
      app.server.closeAllConnections();
      cutter = setInterval(() => app.server.closeAllConnections(), 100);
    };
    const deadline = setTimeout(cut, Math.max(0, started + timeoutMs - Date.now()));
    void hurried.then(cut);
    // Fastify stops accepting connections, closes the idle keep-alive ones and waits for the requests in flight.
    // A connection whose request finishes afterwards stays open (keep-alive) until it is closed: close those too.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    await app.close();
    clearTimeout(deadline);
    clearInterval(reaper);
    clearInterval(cutter);
    hurry = () => {};
    await closeStores();
    return { forced };
  };
  return (parameters = {}) => {
    if (stopping !== undefined) {
      hurry();
      return stopping;
    }
    stopping = stop({ ...defaults, ...parameters });
    return stopping;
  };
}
