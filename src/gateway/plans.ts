import { z } from "zod";
import { TIER_NAMES } from "../chain/stakingLevel.ts";
import { readJsonFile } from "../format/readJsonFile.ts";

/** What a tier may do: calls (credits) per calendar month (UTC) and per minute, shared by all a wallet's keys. */
export interface Plan {
  name: string;
  monthlyQuota: number;
  perMinute: number;
}

export interface PlansConfig {
  /** By tier: 0 Basic, 1 Advanced, 2 Premium, 3 VIP. */
  plans: [Plan, Plan, Plan, Plan];
  /**
   * Data routes: the longest matching prefix sets the minimum tier, the cost in credits and, optionally, the scope a
   * key must carry (a key created without scopes may call every route).
   */
  routes: { prefix: string; minTier: number; cost: number; scope?: string }[];
}

/**
 * Defaults: the vendor's API plans (Basic 50 calls a month — the free tier —, Advanced 10,000, Premium 50,000,
 * VIP 250,000) and per-minute limits of our choice, about one day's fair share in a burst: 10, 60, 300, 1,200.
 */
export const DEFAULT_PLANS: PlansConfig = {
  plans: [
    { name: "Basic", monthlyQuota: 50, perMinute: 10 },
    { name: "Advanced", monthlyQuota: 10_000, perMinute: 60 },
    { name: "Premium", monthlyQuota: 50_000, perMinute: 300 },
    { name: "VIP", monthlyQuota: 250_000, perMinute: 1_200 },
  ],
  routes: [{ prefix: "/v1/data/", minTier: 0, cost: 1 }],
};

const plan = z
  .object({
    name: z.string().min(1),
    monthlyQuota: z.number().int().nonnegative(),
    perMinute: z.number().int().positive(),
  })
  .strict();

export const PlansSchema = z
  .object({
    plans: z.tuple([plan, plan, plan, plan]),
    routes: z
      .array(
        z
          .object({
            prefix: z.string().startsWith("/", { message: 'must start with "/"' }),
            minTier: z
              .number()
              .int()
              .min(0)
              .max(TIER_NAMES.length - 1),
            cost: z.number().int().positive(),
            scope: z.string().min(1).max(32).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export class PlansConfigError extends Error {
  override name = "PlansConfigError";
}

/** Reads and validates a plans file (`DEFAULT_PLANS`' shape); every problem is named with its path. */
export function loadPlans(file: string): PlansConfig {
  return readJsonFile(file, PlansSchema, "plans file", (message) => new PlansConfigError(message)) as PlansConfig;
}

/** A route rule as the gateway matches it. */
export type RouteRule = PlansConfig["routes"][number];

/**
 * The matcher of a plans file's routes: the rule for a canonical path (see `canonicalPath.ts`) is the one with the
 * longest prefix that matches it on whole path segments (`/v1/data/research` matches `/v1/data/research` and
 * `/v1/data/research/x`, not `/v1/data/researchers`), compared without regard to case — so an upstream that ignores
 * case cannot be reached on a cheaper rule. Undefined when no rule matches (not a metered route).
 */
export function routeMatcher(config: PlansConfig): (path: string) => RouteRule | undefined {
  // Longest prefix first, so the first match wins.
  const rules = config.routes
    .map((rule) => ({ rule, prefix: rule.prefix.replace(/\/+$/, "").toLowerCase() }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  return (path) => {
    const lower = path.toLowerCase();
    // Loop bound: the number of route rules in the plans file.
    for (const { rule, prefix } of rules) {
      if (lower === prefix || lower.startsWith(`${prefix}/`)) return rule;
    }
    return undefined;
  };
}
