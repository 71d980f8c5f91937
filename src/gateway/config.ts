import { z } from "zod";

const outage = z.enum(["closed", "open"]);
const url = (what: string) => z.url({ message: `${what} must be a URL such as http://127.0.0.1:8545` });

/** The gateway's settings, from the environment (`TMAI_…`); see the README's "Running the gateway". */
export const GatewayConfigSchema = z.object({
  TMAI_GATEWAY_HOST: z.string().default("127.0.0.1"),
  TMAI_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  TMAI_RPC_URL: url("TMAI_RPC_URL"),
  /** Addresses; by default those recorded for the RPC's chain in deploy/deployments/. */
  TMAI_VOTING_ESCROW: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be an address")
    .optional(),
  TMAI_STAKING_SCORE: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be an address")
    .optional(),
  TMAI_UPSTREAM: url("TMAI_UPSTREAM"),
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
  TMAI_SIWE_ORIGIN: z.url().optional(),
  TMAI_SYNC_INTERVAL_MS: z.coerce.number().int().min(100).default(2_000),
  TMAI_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

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
