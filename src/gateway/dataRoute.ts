import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { formatUnits } from "viem";
import { TIER_NAMES } from "../chain/stakingLevel.ts";
import type { ApiKeyInfo } from "./ApiKeyStore.ts";
import { canonicalUrl, PathRefused } from "./canonicalPath.ts";
import type { PlansConfig, RouteRule } from "./plans.ts";
import { Problem } from "./problems.ts";
import type { TierTracker, WalletStanding } from "./TierTracker.ts";
import { ClientLeft, UpstreamFailure, type UpstreamGuard, UpstreamGuardRefused } from "./UpstreamGuard.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./upstreamHeaders.ts";
import { type Usage, type UsageDecision, type UsageStore, UsageStoreUnavailableError } from "./usageStore.ts";

/** What a route does while the usage store is unreachable: refuse (`closed`) or serve unmetered (`open`). */
export type OutageMode = "closed" | "open";

export interface DataRouteOptions {
  dataPrefix: string;
  plans: PlansConfig;
  matchRoute: (path: string) => RouteRule | undefined;
  tracker: TierTracker;
  store: UsageStore;
  outage: { paidRoutes: OutageMode; freeRoutes: OutageMode };
  guard: UpstreamGuard;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The key presented with the request (signed keys' signatures checked over `body`'s exact bytes). */
  authenticate: (request: FastifyRequest, body: Uint8Array | string) => Promise<ApiKeyInfo>;
  standingOf: (wallet: string, request: FastifyRequest, reply: FastifyReply) => Promise<WalletStanding>;
  onStoreError: () => void;
}

/** IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy and what is left. */
export function rateLimitHeaders(reply: FastifyReply, usage: Usage, nowSeconds: number) {
  reply.header(
    "RateLimit-Policy",
    `"minute";q=${usage.rate.limit};w=60, "month";q=${usage.quota.limit};w=${usage.quota.resetsAt - nowSeconds}`,
  );
  const minute = `"minute";r=${usage.rate.remaining};t=${Math.max(0, usage.rate.resetsAt - nowSeconds)}`;
  const month = `"month";r=${usage.quota.remaining};t=${Math.max(0, usage.quota.resetsAt - nowSeconds)}`;
  reply.header("RateLimit", `${minute}, ${month}`);
}

/** The veTMAI a tier starts at: the threshold of its lowest level (levels 1–3 Advanced, 4–6 Premium, 7+ VIP). */
function tierThreshold(tracker: TierTracker, tier: number): bigint | undefined {
  const firstLevel = [0, 1, 4, 7][tier];
  const thresholds = tracker.thresholds;
  return firstLevel === undefined || firstLevel === 0 || thresholds === undefined
    ? undefined
    : thresholds[firstLevel - 1];
}

/**
 * The metered data routes (`<dataPrefix>/*`), proxied to the upstream. In order: the URL is made canonical (one
 * decoding, dot-segments resolved; ambiguous forms refused), the key identified, the route rule matched on the
 * canonical path, its scope and tier checked, the upstream's circuit checked, the wallet's rate and quota charged,
 * and exactly the canonical path forwarded with an allow-list of headers. A request the upstream does not serve
 * (no answer, a timeout, a status of 400 or more) has its credits refunded: a charge is a reservation made before
 * the request is sent, so concurrent requests never overshoot a quota, and is kept only for a served answer.
 *
 * Registered in its own context: every body, whatever its type, is kept as its exact bytes — signed keys sign
 * those bytes, and the upstream receives them unchanged.
 */
export const dataRoute: FastifyPluginAsync<DataRouteOptions> = async (app, options) => {
  const { dataPrefix, plans, matchRoute, tracker, store, outage, guard, now } = options;
  const seconds = () => Math.floor(now() / 1000);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.all(`${dataPrefix}/*`, async (request, reply) => {
    let canonical: ReturnType<typeof canonicalUrl>;
    try {
      canonical = canonicalUrl(request.url);
    } catch (error) {
      if (error instanceof PathRefused) throw new Problem("bad-path", "Malformed URL", error.message);
      throw error;
    }
    const { path } = canonical;
    if (!path.startsWith(`${dataPrefix}/`))
      throw new Problem(
        "bad-path",
        "Malformed URL",
        `the path leaves ${dataPrefix}/ once its dot-segments are resolved`,
      );
    const body = Buffer.isBuffer(request.body) ? request.body : "";
    const key = await options.authenticate(request, body);
    const route = matchRoute(path);
    request.tmai.route = route?.prefix ?? `${dataPrefix}/*`;
    if (route === undefined) throw new Problem("not-found", "Not found", `no data route ${path}`);
    if (route.scope !== undefined && key.scopes.length > 0 && !key.scopes.includes(route.scope))
      throw new Problem("scope-missing", "Key not allowed here", `${path} needs a key with the scope ${route.scope}`, {
        extra: { requiredScope: route.scope },
      });
    const wallet = key.wallet;
    const standing = await options.standingOf(wallet, request, reply);
    if (standing.tier < route.minTier) {
      const needed = tierThreshold(tracker, route.minTier);
      const more = needed === undefined || needed <= standing.veTMAI ? undefined : needed - standing.veTMAI;
      throw new Problem(
        "tier-too-low",
        "Tier too low",
        `${path} needs the ${TIER_NAMES[route.minTier]} tier; your wallet is ${standing.tierName} (level ${standing.level})` +
          (more === undefined ? "" : `: lock ${formatUnits(more, 18)} more veTMAI to reach it`),
        {
          extra: {
            requiredTier: TIER_NAMES[route.minTier],
            currentTier: standing.tierName,
            ...(more === undefined ? {} : { veTMAINeeded: formatUnits(more, 18) }),
          },
        },
      );
    }
    const refusal = guard.refusal();
    if (refusal !== undefined) throw upstreamUnavailable(refusal);

    const plan = plans.plans[standing.tier] ?? plans.plans[0];
    const decidedAt = now();
    let decision: UsageDecision | undefined;
    try {
      decision = await store.decide(wallet, key.id, plan, route.cost, decidedAt);
    } catch (error) {
      if (!(error instanceof UsageStoreUnavailableError)) throw error;
      options.onStoreError();
      if ((route.minTier > 0 ? outage.paidRoutes : outage.freeRoutes) === "closed") throw error;
      reply.header("x-tmai-usage-unmetered", "true");
    }
    if (decision !== undefined) {
      rateLimitHeaders(reply, decision, seconds());
      if (!decision.allowed) {
        const window = decision.refusedBy === "rate" ? decision.rate : decision.quota;
        const retryAfter = Math.max(1, window.resetsAt - seconds());
        throw decision.refusedBy === "rate"
          ? new Problem(
              "rate-limited",
              "Too many requests this minute",
              `the ${plan.name} plan allows ${plan.perMinute} requests a minute; the next minute starts in ${retryAfter} s`,
              { headers: { "Retry-After": String(retryAfter) } },
            )
          : new Problem(
              "quota-exhausted",
              "Monthly quota used up",
              `the ${plan.name} plan allows ${plan.monthlyQuota} credits a month; it resets on ${new Date(window.resetsAt * 1000).toISOString()}`,
              { headers: { "Retry-After": String(retryAfter) } },
            );
      }
    }
    const charged = decision !== undefined;
    const refund = () => {
      if (!charged) return;
      store.refund(wallet, key.id, route.cost, decidedAt).catch(() => options.onStoreError());
    };

    const gatewayHeaders = {
      "x-tmai-wallet": wallet,
      "x-tmai-tier": standing.tierName,
      "x-tmai-route": route.prefix,
      "x-tmai-request-id": request.id,
    };
    let status: number;
    try {
      status = await guard.send(() => proxy(request, reply, canonical, gatewayHeaders));
    } catch (error) {
      refund();
      if (error instanceof ClientLeft) return reply; // nobody to answer
      if (error instanceof UpstreamGuardRefused) throw upstreamUnavailable(error.refusal);
      if (error instanceof UpstreamFailure) {
        throw error.kind === "timeout"
          ? new Problem("upstream-timeout", "The data API did not answer in time", "not charged; try again")
          : new Problem("upstream-failed", "The data API failed", "not charged; try again");
      }
      throw error;
    }
    if (status >= 400) refund();
    return reply;
  });

  /** Sends the request upstream; resolves with the status once the answer is on its way to the client. */
  function proxy(
    request: FastifyRequest,
    reply: FastifyReply,
    canonical: ReturnType<typeof canonicalUrl>,
    gatewayHeaders: Record<string, string>,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      // A client that leaves before the answer ends the wait (reply-from then sends nothing).
      reply.raw.once("close", () => reject(new ClientLeft("the client left before the upstream answered")));
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      reply.from(canonical.encodedPath.slice(dataPrefix.length), {
        queryString: () => canonical.query.slice(1),
        // The exact bytes received, under their own content type (reply-from would re-encode a JSON body).
        ...(body === undefined
          ? {}
          : { body, contentType: request.headers["content-type"] ?? "application/octet-stream" }),
        // No retries: reply-from would retry an upstream's 503 up to ten times, piling load on a failing upstream
        // (the circuit breaker decides when to try again).
        retryDelay: () => null,
        rewriteRequestHeaders: (_request, headers) => upstreamRequestHeaders(headers, gatewayHeaders),
        rewriteHeaders: (headers) => clientResponseHeaders(headers) as typeof headers,
        onResponse: (_request, proxied, response) => {
          resolve(response.statusCode ?? 502);
          proxied.send(response.stream);
        },
        onError: (_reply, { error }) => {
          const code = (error as { code?: string; statusCode?: number }).statusCode;
          reject(
            code === 504
              ? new UpstreamFailure("timeout", "the upstream did not answer in time")
              : new UpstreamFailure("failed", "the upstream could not be reached"),
          );
        },
      });
    });
  }
};

function upstreamUnavailable(refusal: UpstreamGuardRefused["refusal"]) {
  return new Problem(
    "upstream-unavailable",
    "The data API is unavailable",
    refusal === "circuit-open"
      ? "the data API is failing; requests are paused for a few seconds (not charged)"
      : "too many requests are waiting for the data API (not charged)",
    { headers: { "Retry-After": refusal === "circuit-open" ? "5" : "1" } },
  );
}
