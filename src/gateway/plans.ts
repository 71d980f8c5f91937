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

/** The route rule for `path`: the longest matching prefix, or undefined (not a metered route). */
export function routeFor(config: PlansConfig, path: string) {
  let best: PlansConfig["routes"][number] | undefined;
  for (const route of config.routes) {
    if (path.startsWith(route.prefix) && (best === undefined || route.prefix.length > best.prefix.length)) best = route;
  }
  return best;
}
