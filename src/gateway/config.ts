import { z } from "zod";

const outage = z.enum(["closed", "open"]);
/**
 * An http(s) URL variable (so `localhost:8788`, a URL of scheme `localhost:`, is refused); its messages show a URL
 * of its own kind (the variable's name is printed before them).
 */
const url = (example: string) =>
  z.url({
    protocol: /^https?$/,
    error: (issue) =>
      issue.input === undefined ? `is required: a URL such as ${example}` : `must be a URL such as ${example}`,
  });

/** Every variable, each checked on its own. */
const GatewayVariables = z.object({
  TMAI_GATEWAY_HOST: z.string().default("127.0.0.1"),
  TMAI_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  TMAI_RPC_URL: url("http://127.0.0.1:8545 (the chain's JSON-RPC)"),
  /** Addresses; by default those recorded for the RPC's chain in deploy/deployments/. */
  TMAI_VOTING_ESCROW: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be an address")
    .optional(),
  TMAI_STAKING_SCORE: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be an address")
    .optional(),
  TMAI_UPSTREAM: url("http://127.0.0.1:8788 (the data API the gateway fronts)"),
  TMAI_DATA_PREFIX: z.string().startsWith("/", 'must start with "/"').default("/v1/data"),
  TMAI_GATEWAY_DB: z.string().min(1).default("gateway.sqlite"),
  TMAI_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  TMAI_STORE_OUTAGE_PAID: outage.default("closed"),
  TMAI_STORE_OUTAGE_FREE: outage.default("open"),
  TMAI_MASTER_KEY: z
    .string({ message: "is required: 32 random bytes in base64, e.g. `openssl rand -base64 32`" })
    .refine(
      (value) => Buffer.from(value, "base64").length === 32,
      "must be 32 bytes in base64 (openssl rand -base64 32)",
    ),
  TMAI_PLANS: z.string().min(1).optional(),
  /** The SIWE domain and origin sign-in messages must name (default: the gateway's own host and port). */
  TMAI_SIWE_DOMAIN: z.string().min(1).optional(),
  TMAI_SIWE_ORIGIN: url("https://api.example.com (the gateway's public origin)").optional(),
  TMAI_SYNC_INTERVAL_MS: z.coerce.number().int().min(100).default(2_000),
  /**
   * Blocks the tier tracker stays behind the chain's head; by default 0 on local chains (31337, 1337: a block per
   * transaction) and 3 elsewhere (`defaultConfirmations`). Reorgs deeper than this are still undone at the next sync.
   */
  TMAI_CONFIRMATIONS: z.coerce.number().int().min(0).max(1_000).optional(),
  /** Wallets the tier tracker keeps in memory; past it, the least recently asked for is read again when next asked. */
  TMAI_MAX_TRACKED_WALLETS: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * On SIGTERM/SIGINT: how long `/readyz` answers 503 while requests are still served, so load balancers stop
   * sending (a couple of their health-check periods), before the server stops accepting connections.
   */
  TMAI_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** From the signal to the exit, drain delay included: requests still running then are cut (and the exit code is 1). */
  TMAI_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(25_000),
  /** The longest wait for one Redis command (or one batch of a usage read) before the outage policy applies. */
  TMAI_STORE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(2_000),
  /** The upstream's time to answer (headers, then between body chunks) before a 504 `upstream-timeout`. */
  TMAI_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** Requests waiting for the upstream at once; more are refused with 503 `upstream-unavailable`. */
  TMAI_UPSTREAM_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(1_024),
  /**
   * The proxies (addresses or CIDRs, comma-separated) whose `X-Forwarded-For` is believed for the client address
   * the per-client limits use; none by default (the connection's address is used).
   */
  TMAI_TRUST_PROXY: z
    .string()
    .regex(/^[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*$/, "must be addresses or CIDRs separated by commas, e.g. 10.0.0.0/8")
    .optional(),
  /** Per client address and minute: sign-in requests, and failed authentications. */
  TMAI_SIGNIN_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  TMAI_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  /** Live API keys a wallet may hold at once. */
  TMAI_MAX_KEYS_PER_WALLET: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Days the audit log keeps its entries. */
  TMAI_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
  TMAI_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** The gateway's settings, from the environment (`TMAI_…`); see the README's "Running the gateway". */
export const GatewayConfigSchema = GatewayVariables.refine(
  (config) => config.TMAI_DRAIN_DELAY_MS < config.TMAI_SHUTDOWN_TIMEOUT_MS,
  {
    path: ["TMAI_DRAIN_DELAY_MS"],
    message:
      "must be shorter than TMAI_SHUTDOWN_TIMEOUT_MS (the deadline counts the drain delay), or requests in flight get no time to finish",
  },
);

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export class GatewayConfigError extends Error {
  override name = "GatewayConfigError";
}

/** Reads and checks the configuration; every problem is named with its variable. */
export function gatewayConfigFrom(env: Record<string, string | undefined>): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new GatewayConfigError(
    `the gateway's configuration is incomplete:\n${parsed.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n")}`,
  );
}
