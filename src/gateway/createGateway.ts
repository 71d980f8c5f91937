import type { DatabaseSync } from "node:sqlite";
import replyFrom from "@fastify/reply-from";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import { type Address, formatUnits, getAddress, isHex } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { TIER_NAMES } from "../chain/stakingLevel.ts";
import { type ApiKeyInfo, ApiKeyStore } from "./ApiKeyStore.ts";
import { AuditLog } from "./AuditLog.ts";
import { maskKeys } from "./logger.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { type PlansConfig, routeFor } from "./plans.ts";
import { type SiweAuth, SiweError } from "./SiweAuth.ts";
import { SqliteUsageStore } from "./SqliteUsageStore.ts";
import type { TierTracker, WalletStanding } from "./TierTracker.ts";
import { dayOf, type Usage, type UsageDecision, type UsageStore, UsageStoreUnavailableError } from "./usageStore.ts";
import { SIGNATURE_WINDOW, type SignatureFailure, verifySignedRequest } from "./verifySignedRequest.ts";

/** The vendor's API discount by level (1–10), in percent. */
export const API_DISCOUNT_BY_LEVEL = [0, 12, 13, 15, 18, 20, 23, 25, 28, 30, 35] as const;

/** What a route does while the usage store is unreachable: refuse (`closed`) or serve unmetered (`open`). */
export type OutageMode = "closed" | "open";

export interface GatewayOptions {
  /** Keys, sessions, SIWE nonces and the audit log (and usage, unless `store` is given). */
  db: DatabaseSync;
  tracker: TierTracker;
  siwe: SiweAuth;
  masterKey: Buffer;
  plans: PlansConfig;
  /** The data API the gateway fronts, e.g. `http://127.0.0.1:4000`. */
  upstream: string;
  /** Where usage counters and signed-request nonces live (default: SQLite in `db`; Redis for several instances). */
  store?: UsageStore;
  /**
   * While the store is unreachable: routes needing a paid tier (`minTier` > 0) and free routes. Default: paid
   * routes fail closed (503, nothing served unmetered), free routes fail open (served, marked unmetered).
   */
  storeOutage?: { paidRoutes: OutageMode; freeRoutes: OutageMode };
  /** The path prefix of the proxied data routes (default `/v1/data`); it is removed before the upstream. */
  dataPrefix?: string;
  /** Milliseconds since the epoch; tests move it to follow the chain's clock. */
  now?: () => number;
  /** A pino logger (see `createGatewayLogger`); none by default. */
  logger?: Logger;
}

/** The largest range `GET /v1/usage` returns, in days. */
export const MAX_USAGE_DAYS = 366;

const PROBLEM_BASE = "https://docs.tmai.dev/problems/";

/** IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy and what is left. */
function rateLimitHeaders(reply: FastifyReply, usage: Usage, nowSeconds: number) {
  reply.header(
    "RateLimit-Policy",
    `"minute";q=${usage.rate.limit};w=60, "month";q=${usage.quota.limit};w=${usage.quota.resetsAt - nowSeconds}`,
  );
  const minute = `"minute";r=${usage.rate.remaining};t=${Math.max(0, usage.rate.resetsAt - nowSeconds)}`;
  const month = `"month";r=${usage.quota.remaining};t=${Math.max(0, usage.quota.resetsAt - nowSeconds)}`;
  reply.header("RateLimit", `${minute}, ${month}`);
}

/**
 * The access gateway as a Fastify app: SIWE sign-in, wallet-bound API keys, `/v1/me`, `/v1/usage`, and the data
 * routes proxied to the upstream within the wallet's tier, monthly quota and per-minute rate. Errors are RFC 9457
 * problems; the chain is never on the request path once a wallet is known; `/metrics` serves Prometheus.
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const seconds = () => Math.floor(now() / 1000);
  // Several gateways (sharing usage through Redis) may share this file on one host: WAL lets them read while one
  // writes, and a writer waits for another instead of failing.
  options.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
  const keys = new ApiKeyStore(options.db, options.masterKey);
  const store = options.store ?? new SqliteUsageStore(options.db);
  const outage = options.storeOutage ?? { paidRoutes: "closed", freeRoutes: "open" };
  const dataPrefix = (options.dataPrefix ?? "/v1/data").replace(/\/$/, "");
  const audit = new AuditLog(options.db, options.logger);
  const metrics = createGatewayMetrics(options.tracker);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 64 * 1024,
    // One access-log line per request, written when it completes (see the onResponse hook), instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse what does not match a schema (an unknown field, a number for a string) instead of bending it to fit.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
  await app.register(replyFrom, {
    base: options.upstream,
    undici: { connections: 128, pipelining: 1 },
    // The gateway writes one access line per request itself; reply-from's two extra lines would triple the cost.
    disableRequestLogging: true,
  });

  /** Per request: what the metrics label it with. */
  interface RequestFacts {
    tier?: string;
    outcome?: string;
    route?: string;
  }
  const facts = new WeakMap<FastifyRequest, RequestFacts>();
  const factsOf = (request: FastifyRequest) => {
    let known = facts.get(request);
    if (known === undefined) {
      known = {};
      facts.set(request, known);
    }
    return known;
  };

  /** Sends an RFC 9457 problem document (and labels the request's outcome with its type). */
  function problem(reply: FastifyReply, status: number, type: string, title: string, detail: string, extra = {}) {
    factsOf(reply.request).outcome = type;
    return reply
      .code(status)
      .type("application/problem+json")
      .send({ type: `${PROBLEM_BASE}${type}`, title, status, detail, ...extra });
  }

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

  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    if (error instanceof UsageStoreUnavailableError) {
      metrics.storeErrors.inc({ store: store.kind });
      reply.header("Retry-After", "5");
      return problem(reply, 503, "store-unavailable", "Try again shortly", "the usage store is unreachable");
    }
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, "request failed");
    return problem(reply, status, status === 500 ? "internal" : "bad-request", "Request refused", error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    problem(reply, 404, "not-found", "Not found", `no route ${request.method} ${request.url.split("?")[0]}`),
  );
  app.addHook("onResponse", async (request, reply) => {
    const known = facts.get(request);
    const route = known?.route ?? request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ route, tier: known?.tier ?? "none", outcome: known?.outcome ?? "ok" });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        url: maskKeys(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 1000) / 1000,
        ...(known?.tier === undefined ? {} : { tier: known.tier }),
        outcome: known?.outcome ?? "ok",
      },
      "request",
    );
  });

  const sessionRequired = (reply: FastifyReply) =>
    problem(
      reply,
      401,
      "session-required",
      "Sign in first",
      "send Authorization: Bearer <session> from /v1/auth/verify",
    );

  /** The wallet behind a session (`Authorization: Bearer <session>`) — for key management. */
  function sessionWallet(request: FastifyRequest): Address | undefined {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (bearer === undefined || bearer.startsWith("tmai_")) return undefined;
    const wallet = options.siwe.session(bearer, seconds());
    if (wallet === undefined)
      audit.record({ at: seconds(), event: "auth.failed", wallet: null, keyId: null, detail: "session-invalid" });
    return wallet;
  }

  /**
   * The key presented (`x-api-key` or `Authorization: Bearer tmai_…`), or why it is refused. A signed key must
   * also sign the request (`x-tmai-timestamp`, `x-tmai-nonce`, `x-tmai-signature`); its nonce is claimed in the
   * usage store, so a replay is refused by every instance sharing it.
   */
  async function presentedKey(request: FastifyRequest): Promise<ApiKeyInfo | { refused: string }> {
    const header = request.headers["x-api-key"];
    const bearer = /^Bearer (tmai_.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const key = typeof header === "string" ? header : bearer;
    if (key === undefined) return { refused: "key-missing" };
    const result = keys.authenticate(key, seconds());
    if (!result.ok) {
      audit.record({ at: seconds(), event: "auth.failed", wallet: null, keyId: null, detail: `key-${result.reason}` });
      return { refused: `key-${result.reason}` };
    }
    if (result.key.signed) {
      const one = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? value : undefined;
      };
      const signed = {
        method: request.method,
        pathWithQuery: request.url,
        body: rawBodies.get(request) ?? "",
        timestamp: one("x-tmai-timestamp"),
        nonce: one("x-tmai-nonce"),
        signature: one("x-tmai-signature"),
      };
      let failure: SignatureFailure | undefined = verifySignedRequest(
        keys.secretOf(result.key.id) as string,
        signed,
        seconds(),
      );
      if (
        failure === undefined &&
        !(await store.claimNonce(signed.nonce as string, seconds() + 2 * SIGNATURE_WINDOW, seconds()))
      )
        failure = "signature-replayed";
      if (failure !== undefined) {
        audit.record({
          at: seconds(),
          event: "auth.failed",
          wallet: result.key.wallet,
          keyId: result.key.id,
          detail: failure,
        });
        return { refused: failure };
      }
    }
    return result.key;
  }

  function keyRefused(reply: FastifyReply, refused: string) {
    const detail = refused.startsWith("signature")
      ? `the request's signature is refused (${refused}): sign method, path with query, timestamp, nonce and the body's SHA-256`
      : refused === "key-missing"
        ? "send the API key in x-api-key (or Authorization: Bearer tmai_…)"
        : `the API key is ${refused.slice(4)}`;
    return problem(reply, 401, refused, "API key refused", detail);
  }

  async function standingOf(wallet: Address, request: FastifyRequest, reply: FastifyReply): Promise<WalletStanding> {
    const standing = await options.tracker.standing(wallet, BigInt(seconds()));
    if (standing.stale) reply.header("x-tmai-tier-stale", "true");
    factsOf(request).tier = standing.tierName;
    return standing;
  }

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/readyz", async (_request, reply) => {
    const chain = !options.tracker.stale;
    const usageStore = await store.ping();
    return reply.code(chain && usageStore ? 200 : 503).send({ chain, store: usageStore });
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

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
      try {
        if (!isHex(signature)) throw new SiweError("bad-signature", "signature must be 0x-prefixed hex");
        const session = await options.siwe.verify(message, signature, seconds());
        return { wallet: session.wallet, session: session.session, expiresAt: session.expiresAt };
      } catch (error) {
        if (!(error instanceof SiweError)) throw error;
        const claimed = parseSiweMessage(message).address;
        audit.record({
          at: seconds(),
          event: "auth.failed",
          wallet: claimed ? claimed.toLowerCase() : null,
          keyId: null,
          detail: `siwe-${error.failure}`,
        });
        return problem(reply, 401, `siwe-${error.failure}`, "Sign-in refused", error.message);
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
            scopes: { type: "array", items: { type: "string", minLength: 1, maxLength: 32 }, maxItems: 8 },
            expiresAt: { type: "integer", minimum: 0 },
            signed: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) => {
      const wallet = sessionWallet(request);
      if (!wallet) return sessionRequired(reply);
      const { name, scopes, expiresAt, signed } = request.body;
      if (expiresAt !== undefined && expiresAt <= seconds())
        return problem(reply, 400, "bad-request", "Request refused", "expiresAt must be in the future (Unix seconds)");
      const created = keys.create(
        wallet,
        { name, ...(scopes ? { scopes } : {}), ...(expiresAt ? { expiresAt } : {}), ...(signed ? { signed } : {}) },
        seconds(),
      );
      audit.record({
        at: seconds(),
        event: "key.created",
        wallet: created.wallet,
        keyId: created.id,
        detail: created.prefix,
      });
      return reply.code(201).send(created);
    },
  );

  app.get("/v1/keys", async (request, reply) => {
    const wallet = sessionWallet(request);
    if (!wallet) return sessionRequired(reply);
    return { keys: keys.list(wallet) };
  });

  app.delete<{ Params: { id: string } }>("/v1/keys/:id", async (request, reply) => {
    const wallet = sessionWallet(request);
    if (!wallet) return sessionRequired(reply);
    if (!keys.revoke(wallet, request.params.id, seconds()))
      return problem(reply, 404, "key-not-found", "No such key", `you have no live key ${request.params.id}`);
    audit.record({
      at: seconds(),
      event: "key.revoked",
      wallet: wallet.toLowerCase(),
      keyId: request.params.id,
      detail: "",
    });
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
      if (!wallet) return sessionRequired(reply);
      const graceSeconds = request.body?.graceSeconds ?? 3_600;
      const rotated = keys.rotate(wallet, request.params.id, graceSeconds, seconds());
      if (!rotated)
        return problem(reply, 404, "key-not-found", "No such key", `you have no live key ${request.params.id}`);
      audit.record({
        at: seconds(),
        event: "key.rotated",
        wallet: rotated.wallet,
        keyId: request.params.id,
        detail: `replaced by ${rotated.id}; old key works for ${graceSeconds} s`,
      });
      return reply.code(201).send(rotated);
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    "/v1/usage",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { from: { type: "string", format: "date" }, to: { type: "string", format: "date" } },
        },
      },
    },
    async (request, reply) => {
      const wallet = sessionWallet(request);
      if (!wallet) return sessionRequired(reply);
      const to = request.query.to ?? dayOf(now());
      const from = request.query.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000);
      const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
      if (!(span >= 1 && span <= MAX_USAGE_DAYS))
        return problem(
          reply,
          400,
          "bad-range",
          "Bad date range",
          `from (${from}) must not be after to (${to}) and the range must not exceed ${MAX_USAGE_DAYS} days`,
        );
      const owned = keys.list(wallet);
      const days = await store.keyDays(
        owned.map((key) => key.id),
        from,
        to,
      );
      return {
        from,
        to,
        keys: owned.map((key) => ({
          id: key.id,
          name: key.name,
          prefix: key.prefix,
          days: days.filter((day) => day.keyId === key.id).map(({ keyId: _id, ...day }) => day),
        })),
      };
    },
  );

  app.get("/v1/me", async (request, reply) => {
    let wallet = sessionWallet(request);
    if (!wallet) {
      if (request.headers.authorization !== undefined && !/^Bearer tmai_/.test(request.headers.authorization))
        return sessionRequired(reply);
      const key = await presentedKey(request);
      if ("refused" in key) return keyRefused(reply, key.refused);
      wallet = key.wallet as Address;
    }
    const standing = await standingOf(wallet, request, reply);
    const plan = options.plans.plans[standing.tier] ?? options.plans.plans[0];
    const used = await store.peek(wallet.toLowerCase(), plan, now()).catch((error: unknown) => {
      if (!(error instanceof UsageStoreUnavailableError)) throw error;
      metrics.storeErrors.inc({ store: store.kind });
      return undefined;
    });
    return {
      address: getAddress(wallet),
      veTMAI: formatUnits(standing.veTMAI, 18),
      level: standing.level,
      tier: standing.tierName,
      lockEnd: standing.lock.permanent ? null : String(standing.lock.end),
      permanent: standing.lock.permanent,
      quota: used?.quota ?? null,
      rateLimit: { perMinute: plan.perMinute, remaining: used?.rate.remaining ?? null },
      apiDiscountPercent: API_DISCOUNT_BY_LEVEL[standing.level] ?? 0,
      stale: standing.stale,
    };
  });

  app.all(`${dataPrefix}/*`, async (request, reply) => {
    const path = request.url.split("?")[0] ?? request.url;
    const route = routeFor(options.plans, path);
    factsOf(request).route = route?.prefix ?? `${dataPrefix}/*`;
    const key = await presentedKey(request);
    if ("refused" in key) return keyRefused(reply, key.refused);
    if (route === undefined) return problem(reply, 404, "not-found", "Not found", `no data route ${path}`);
    if (route.scope !== undefined && key.scopes.length > 0 && !key.scopes.includes(route.scope))
      return problem(
        reply,
        403,
        "scope-missing",
        "Key not allowed here",
        `${path} needs a key with the scope ${route.scope}`,
        {
          requiredScope: route.scope,
        },
      );
    const wallet = key.wallet as Address;
    const standing = await standingOf(wallet, request, reply);
    if (standing.tier < route.minTier) {
      const needed = tierThreshold(options.tracker, route.minTier);
      const more = needed === undefined || needed <= standing.veTMAI ? undefined : needed - standing.veTMAI;
      return problem(
        reply,
        403,
        "tier-too-low",
        "Tier too low",
        `${path} needs the ${TIER_NAMES[route.minTier]} tier; your wallet is ${standing.tierName} (level ${standing.level})` +
          (more === undefined ? "" : `: lock ${formatUnits(more, 18)} more veTMAI to reach it`),
        {
          requiredTier: TIER_NAMES[route.minTier],
          currentTier: standing.tierName,
          ...(more === undefined ? {} : { veTMAINeeded: formatUnits(more, 18) }),
        },
      );
    }
    const plan = options.plans.plans[standing.tier] ?? options.plans.plans[0];
    let decision: UsageDecision | undefined;
    try {
      decision = await store.decide(wallet, key.id, plan, route.cost, now());
    } catch (error) {
      if (!(error instanceof UsageStoreUnavailableError)) throw error;
      metrics.storeErrors.inc({ store: store.kind });
      if ((route.minTier > 0 ? outage.paidRoutes : outage.freeRoutes) === "closed") throw error;
      reply.header("x-tmai-usage-unmetered", "true");
    }
    if (decision !== undefined) {
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
              `the ${plan.name} plan allows ${plan.perMinute} requests a minute; the next minute starts in ${Math.max(1, window.resetsAt - seconds())} s`,
            )
          : problem(
              reply,
              429,
              "quota-exhausted",
              "Monthly quota used up",
              `the ${plan.name} plan allows ${plan.monthlyQuota} credits a month; it resets on ${new Date(window.resetsAt * 1000).toISOString()}`,
            );
      }
    }
    return reply.from(request.url.slice(dataPrefix.length), {
      rewriteRequestHeaders: (_req, headers) => {
        const {
          "x-api-key": _key,
          authorization: _auth,
          "x-tmai-signature": _signature,
          "x-tmai-nonce": _nonce,
          "x-tmai-timestamp": _timestamp,
          ...rest
        } = headers;
        return { ...rest, "x-tmai-wallet": wallet, "x-tmai-tier": standing.tierName };
      },
    });
  });

  return app;
}

/** The veTMAI a tier starts at: the threshold of its lowest level (levels 1–3 Advanced, 4–6 Premium, 7+ VIP). */
function tierThreshold(tracker: TierTracker, tier: number): bigint | undefined {
  const firstLevel = [0, 1, 4, 7][tier];
  const thresholds = tracker.thresholds;
  return firstLevel === undefined || firstLevel === 0 || thresholds === undefined
    ? undefined
    : thresholds[firstLevel - 1];
}
