import type { DatabaseSync } from "node:sqlite";
import replyFrom from "@fastify/reply-from";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { type Address, formatUnits, type Hex, isHex } from "viem";
import { TIER_NAMES } from "../chain/stakingLevel.ts";
import { ApiKeyStore } from "./ApiKeyStore.ts";
import { type PlansConfig, routeFor } from "./plans.ts";
import { type SiweAuth, SiweError } from "./SiweAuth.ts";
import { SqliteUsageStore, type UsageDecision } from "./SqliteUsageStore.ts";
import { statementCache } from "./statementCache.ts";
import type { TierTracker, WalletStanding } from "./TierTracker.ts";
import { createRequestNonceTable, verifySignedRequest } from "./verifySignedRequest.ts";

/** The vendor's API discount by level (1–10), in percent. */
export const API_DISCOUNT_BY_LEVEL = [0, 12, 13, 15, 18, 20, 23, 25, 28, 30, 35] as const;

export interface GatewayOptions {
  db: DatabaseSync;
  tracker: TierTracker;
  siwe: SiweAuth;
  masterKey: Buffer;
  plans: PlansConfig;
  /** The data API the gateway fronts, e.g. `http://127.0.0.1:4000`. */
  upstream: string;
  /** Milliseconds since the epoch; tests move it to follow the chain's clock. */
  now?: () => number;
  logger?: boolean;
}

const PROBLEM_BASE = "https://docs.tmai.dev/problems/";

/** Sends an RFC 9457 problem document. */
function problem(reply: FastifyReply, status: number, type: string, title: string, detail: string, extra: object = {}) {
  return reply
    .code(status)
    .type("application/problem+json")
    .send({ type: `${PROBLEM_BASE}${type}`, title, status, detail, ...extra });
}

/** IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy and what is left. */
function rateLimitHeaders(
  reply: FastifyReply,
  usage: Omit<UsageDecision, "allowed" | "refusedBy">,
  nowSeconds: number,
) {
  reply.header(
    "RateLimit-Policy",
    `"minute";q=${usage.rate.limit};w=60, "month";q=${usage.quota.limit};w=${usage.quota.resetsAt - nowSeconds}`,
  );
  const minute = `"minute";r=${usage.rate.remaining};t=${Math.max(0, usage.rate.resetsAt - nowSeconds)}`;
  const month = `"month";r=${usage.quota.remaining};t=${Math.max(0, usage.quota.resetsAt - nowSeconds)}`;
  reply.header("RateLimit", `${minute}, ${month}`);
}

/**
 * The access gateway as a Fastify app: SIWE sign-in, wallet-bound API keys, `/v1/me`, and the data routes proxied
 * to the upstream within the wallet's tier, monthly quota and per-minute rate. Errors are RFC 9457 problems; the
 * chain is never on the request path once a wallet is known.
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const seconds = () => Math.floor(now() / 1000);
  const keys = new ApiKeyStore(options.db, options.masterKey);
  const usage = new SqliteUsageStore(options.db);
  const sql = statementCache(options.db);
  createRequestNonceTable(options.db);
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  await app.register(replyFrom, { base: options.upstream });
  // Signed requests are checked against the body's exact bytes, so keep them next to the parsed JSON.
  const rawBodies = new WeakMap<object, string>();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    rawBodies.set(request, body as string);
    if (body === "") return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error("the body is not valid JSON"), { statusCode: 400 }), undefined);
    }
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    return problem(reply, status, status === 500 ? "internal" : "bad-request", "Request refused", error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    problem(reply, 404, "not-found", "Not found", `no route ${request.method} ${request.url}`),
  );

  /** The wallet behind a session (`Authorization: Bearer <session>`) — for key management. */
  function sessionWallet(request: FastifyRequest): Address | undefined {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    return bearer === undefined ? undefined : options.siwe.session(bearer, seconds());
  }

  /**
   * The wallet behind an API key (`x-api-key` or `Authorization: Bearer tmai_…`), or why there is none. A signed
   * key must also sign the request (`x-tmai-timestamp`, `x-tmai-nonce`, `x-tmai-signature`).
   */
  function keyWallet(request: FastifyRequest): { wallet: Address } | { refused: string } {
    const header = request.headers["x-api-key"];
    const bearer = /^Bearer (tmai_.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const key = typeof header === "string" ? header : bearer;
    if (key === undefined) return { refused: "missing" };
    const result = keys.authenticate(key, seconds());
    if (!result.ok) return { refused: result.reason };
    if (result.key.signed) {
      const one = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? value : undefined;
      };
      const body = rawBodies.get(request) ?? "";
      const failure = verifySignedRequest(
        sql,
        keys.secretOf(result.key.id) as string,
        {
          method: request.method,
          pathWithQuery: request.url,
          body,
          timestamp: one("x-tmai-timestamp"),
          nonce: one("x-tmai-nonce"),
          signature: one("x-tmai-signature"),
        },
        seconds(),
      );
      if (failure) return { refused: failure };
    }
    return { wallet: result.key.wallet as Address };
  }

  async function standingOf(wallet: Address, reply: FastifyReply): Promise<WalletStanding> {
    const standing = await options.tracker.standing(wallet, BigInt(seconds()));
    if (standing.stale) reply.header("x-tmai-tier-stale", "true");
    return standing;
  }

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/readyz", async (_request, reply) => {
    const chain = !options.tracker.stale;
    return reply.code(chain ? 200 : 503).send({ chain, store: true });
  });

  app.get("/v1/auth/nonce", async () => ({ nonce: options.siwe.issueNonce(seconds()) }));

  app.post<{ Body: { message: string; signature: string } }>(
    "/v1/auth/verify",
    {
      schema: {
        body: {
          type: "object",
          required: ["message", "signature"],
          additionalProperties: false,
          properties: { message: { type: "string", maxLength: 4096 }, signature: { type: "string", maxLength: 4096 } },
        },
      },
    },
    async (request, reply) => {
      const { message, signature } = request.body;
      if (!isHex(signature))
        return problem(reply, 400, "siwe-invalid-signature", "Sign-in refused", "signature must be hex");
      try {
        const session = await options.siwe.verify(message, signature as Hex, seconds());
        return { wallet: session.wallet, session: session.session, expiresAt: session.expiresAt };
      } catch (error) {
        if (error instanceof SiweError)
          return problem(reply, 401, `siwe-${error.failure}`, "Sign-in refused", error.message);
        throw error;
      }
    },
  );

  app.post<{ Body: { name: string; scopes?: string[]; expiresAt?: number; signed?: boolean } }>(
    "/v1/keys",
    {
      schema: {
        body: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: {
            name: { type: "string", minLength: 1, maxLength: 64 },
            scopes: { type: "array", items: { type: "string", maxLength: 32 }, maxItems: 8 },
            expiresAt: { type: "integer", minimum: 0 },
            signed: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) => {
      const wallet = sessionWallet(request);
      if (!wallet)
        return problem(reply, 401, "session-required", "Sign in first", "send Authorization: Bearer <session>");
      const { name, scopes, expiresAt, signed } = request.body;
      const created = keys.create(
        wallet,
        { name, ...(scopes ? { scopes } : {}), ...(expiresAt ? { expiresAt } : {}), ...(signed ? { signed } : {}) },
        seconds(),
      );
      return reply.code(201).send(created);
    },
  );

  app.get("/v1/keys", async (request, reply) => {
    const wallet = sessionWallet(request);
    if (!wallet)
      return problem(reply, 401, "session-required", "Sign in first", "send Authorization: Bearer <session>");
    return { keys: keys.list(wallet) };
  });

  app.delete<{ Params: { id: string } }>("/v1/keys/:id", async (request, reply) => {
    const wallet = sessionWallet(request);
    if (!wallet)
      return problem(reply, 401, "session-required", "Sign in first", "send Authorization: Bearer <session>");
    if (!keys.revoke(wallet, request.params.id, seconds())) {
      return problem(reply, 404, "key-not-found", "No such key", `you have no live key ${request.params.id}`);
    }
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { graceSeconds?: number } }>(
    "/v1/keys/:id/rotate",
    {
      schema: {
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { graceSeconds: { type: "integer", minimum: 0, maximum: 30 * 86_400 } },
        },
      },
    },
    async (request, reply) => {
      const wallet = sessionWallet(request);
      if (!wallet)
        return problem(reply, 401, "session-required", "Sign in first", "send Authorization: Bearer <session>");
      const rotated = keys.rotate(wallet, request.params.id, request.body?.graceSeconds ?? 3_600, seconds());
      if (!rotated)
        return problem(reply, 404, "key-not-found", "No such key", `you have no live key ${request.params.id}`);
      return reply.code(201).send(rotated);
    },
  );

  app.get("/v1/me", async (request, reply) => {
    let wallet = sessionWallet(request);
    if (!wallet) {
      const byKey = keyWallet(request);
      if ("refused" in byKey)
        return problem(reply, 401, `key-${byKey.refused}`, "Unauthorized", "send a session or an API key");
      wallet = byKey.wallet;
    }
    const standing = await standingOf(wallet, reply);
    const plan = options.plans.plans[standing.tier] ?? options.plans.plans[0];
    const used = usage.peek(wallet, plan, now());
    return {
      address: wallet,
      veTMAI: formatUnits(standing.veTMAI, 18),
      level: standing.level,
      tier: standing.tierName,
      lockEnd: standing.lock.permanent ? null : String(standing.lock.end),
      quota: used.quota,
      rateLimit: { perMinute: plan.perMinute, remaining: used.rate.remaining },
      apiDiscountPercent: API_DISCOUNT_BY_LEVEL[standing.level] ?? 0,
      stale: standing.stale,
    };
  });

  app.all("/v1/data/*", async (request, reply) => {
    const byKey = keyWallet(request);
    if ("refused" in byKey) {
      const detail = byKey.refused.startsWith("signature")
        ? `the request's signature is refused (${byKey.refused}): sign method, path, timestamp, nonce and body hash`
        : `the API key is ${byKey.refused}`;
      const type = byKey.refused.startsWith("signature") ? byKey.refused : `key-${byKey.refused}`;
      return problem(reply, 401, type, "API key refused", detail);
    }
    const path = request.url.split("?")[0] ?? request.url;
    const route = routeFor(options.plans, path);
    if (route === undefined) return problem(reply, 404, "not-found", "Not found", `no data route ${path}`);
    const standing = await standingOf(byKey.wallet, reply);
    if (standing.tier < route.minTier) {
      return problem(
        reply,
        403,
        "tier-too-low",
        "Tier too low",
        `${path} needs the ${TIER_NAMES[route.minTier]} tier; your wallet is ${standing.tierName} (level ${standing.level})`,
        { requiredTier: TIER_NAMES[route.minTier], currentTier: standing.tierName },
      );
    }
    const plan = options.plans.plans[standing.tier] ?? options.plans.plans[0];
    const decision = usage.decide(byKey.wallet, plan, route.cost, now());
    rateLimitHeaders(reply, decision, seconds());
    if (!decision.allowed) {
      const window = decision.refusedBy === "rate" ? decision.rate : decision.quota;
      reply.header("Retry-After", String(Math.max(1, window.resetsAt - seconds())));
      return decision.refusedBy === "rate"
        ? problem(
            reply,
            429,
            "rate-limited",
            "Too many requests this minute",
            `the ${plan.name} plan allows ${plan.perMinute} a minute`,
          )
        : problem(
            reply,
            429,
            "quota-exhausted",
            "Monthly quota used up",
            `the ${plan.name} plan allows ${plan.monthlyQuota} credits a month`,
          );
    }
    return reply.from(request.url.replace(/^\/v1\/data/, ""), {
      rewriteRequestHeaders: (_req, headers) => {
        const { "x-api-key": _key, authorization: _auth, ...rest } = headers;
        return { ...rest, "x-tmai-wallet": byKey.wallet, "x-tmai-tier": standing.tierName };
      },
    });
  });

  return app;
}
