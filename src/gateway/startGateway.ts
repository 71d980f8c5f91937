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
import { TierTracker } from "./TierTracker.ts";
import type { UsageStore } from "./usageStore.ts";

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  tracker: TierTracker;
  store: UsageStore | undefined;
  close: () => Promise<void>;
}

/**
 * Builds and starts the gateway from its configuration: the chain client and TierTracker (following events every
 * `TMAI_SYNC_INTERVAL_MS`), the SQLite database, Redis when configured, and the HTTP server. A Redis that does not
 * answer at startup is logged, not fatal: the client keeps reconnecting and the outage policy applies meanwhile.
 */
export async function startGateway(config: GatewayConfig, logger?: Logger): Promise<RunningGateway> {
  // Wallets first seen together have their locks read in one multicall; deployless, so no Multicall3 is needed.
  const client = createPublicClient({
    transport: http(config.TMAI_RPC_URL, { timeout: 5_000, retryCount: 1 }),
    batch: { multicall: { deployless: true } },
  });
  const chainId = await client.getChainId();
  const recorded = config.TMAI_VOTING_ESCROW && config.TMAI_STAKING_SCORE ? undefined : loadDeployment(chainId);
  const votingEscrow = getAddress((config.TMAI_VOTING_ESCROW ?? recorded?.votingEscrow) as Address);
  const stakingScore = getAddress((config.TMAI_STAKING_SCORE ?? recorded?.stakingScore) as Address);
  const tracker = new TierTracker({ client: client as PublicClient, votingEscrow, stakingScore });
  await tracker.start();
  tracker.follow(config.TMAI_SYNC_INTERVAL_MS);

  const db = new DatabaseSync(config.TMAI_GATEWAY_DB);
  let store: RedisUsageStore | undefined;
  if (config.TMAI_REDIS_URL) {
    store = new RedisUsageStore(config.TMAI_REDIS_URL);
    await store.connect().catch((error: Error) => {
      logger?.warn({ err: error }, "Redis is unreachable at startup; retrying in the background");
    });
  }
  const origin = config.TMAI_SIWE_ORIGIN ?? `http://${config.TMAI_GATEWAY_HOST}:${config.TMAI_GATEWAY_PORT}`;
  const app = await createGateway({
    db,
    tracker,
    siwe: new SiweAuth({
      db,
      client: client as PublicClient,
      domain: config.TMAI_SIWE_DOMAIN ?? new URL(origin).host,
      origin,
      chainId,
    }),
    masterKey: Buffer.from(config.TMAI_MASTER_KEY, "base64"),
    plans: config.TMAI_PLANS ? loadPlans(config.TMAI_PLANS) : DEFAULT_PLANS,
    upstream: config.TMAI_UPSTREAM,
    dataPrefix: config.TMAI_DATA_PREFIX,
    ...(store ? { store } : {}),
    storeOutage: { paidRoutes: config.TMAI_STORE_OUTAGE_PAID, freeRoutes: config.TMAI_STORE_OUTAGE_FREE },
    ...(logger ? { logger } : {}),
  });
  const url = await app.listen({ host: config.TMAI_GATEWAY_HOST, port: config.TMAI_GATEWAY_PORT });
  return {
    app,
    url,
    tracker,
    store,
    close: async () => {
      tracker.stop();
      await app.close();
      await store?.close();
      db.close();
    },
  };
}
