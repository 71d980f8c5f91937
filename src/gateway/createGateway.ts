import type { DatabaseSync } from "node:sqlite";
import replyFrom from "@fastify/reply-from";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import { type Address, formatUnits, getAddress, isHex } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { type ApiKeyInfo, ApiKeyStore, KeyLimitError } from "./ApiKeyStore.ts";
import { AuditLog } from "./AuditLog.ts";
import { ClientLimiter, clientKey } from "./ClientLimiter.ts";
import { PathRefused } from "./canonicalPath.ts";
import { dataRoute, type OutageMode } from "./dataRoute.ts";
import { maskKeys } from "./logger.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { type PlansConfig, routeMatcher } from "./plans.ts";
import { Problem, type ProblemType } from "./problems.ts";
import { type SiweAuth, SiweError, SiweUnavailableError } from "./SiweAuth.ts";
import { SqliteUsageStore } from "./SqliteUsageStore.ts";
import type { TierTracker, WalletStanding } from "./TierTracker.ts";
import { UpstreamGuard, type UpstreamGuardParameters } from "./UpstreamGuard.ts";
import { dayOf, monthOf, type UsageStore, UsageStoreUnavailableError } from "./usageStore.ts";
import { SIGNATURE_WINDOW, verifySignedRequest } from "./verifySignedRequest.ts";

export type { OutageMode } from "./dataRoute.ts";

/** The vendor's API discount by level (1–10), in percent. */
export const API_DISCOUNT_BY_LEVEL = [0, 12, 13, 15, 18, 20, 23, 25, 28, 30, 35] as const;

/** Limits on what anyone can do without credentials, per client address (see `ClientLimiter`). */
export interface ClientLimits {
  /** Sign-in requests (`GET /v1/auth/nonce` and `POST /v1/auth/verify` together) per client per minute (default 30). */
  signInPerMinute?: number;
  /** Failed authentications (unknown, revoked or expired keys, bad signatures, bad sessions) per client per minute
   *  (default 30); past it the client is refused with 429 and no more failures are written to the audit log. */
  failuresPerMinute?: number;
}

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
  /** The upstream's time to answer (headers, then each body chunk), in ms (default 10,000) → 504 `upstream-timeout`. */
  upstreamTimeoutMs?: number;
  /** The upstream's bounded queue and circuit breaker. */
  upstreamGuard?: UpstreamGuardParameters;
  /** Proxies whose `X-Forwarded-For` is believed (Fastify's `trustProxy`: addresses/CIDRs); none by default. */
  trustProxy?: string[];
  clientLimits?: ClientLimits;
  /** Live API keys a wallet may hold at once (default 100). */
  maxKeysPerWallet?: number;
  /** Days the audit log keeps its entries (default 90). */
  auditRetentionDays?: number;
  /** Set by the process while it shuts down: `/readyz` answers 503 so load balancers stop sending. */
  lifecycle?: { draining: boolean };
}

/** The largest range `GET /v1/usage` returns, in days. */
export const MAX_USAGE_DAYS = 366;

/** Per request: what the metrics and the access log label it with. */
interface RequestFacts {
  tier?: string;
  outcome?: string;
  route?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    tmai: RequestFacts;
  }
}

/** Fastify's own refusals, as problem types. */
const FASTIFY_ERRORS: Record<string, ProblemType> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported-media-type",
  FST_ERR_CTP_BODY_TOO_LARGE: "body-too-large",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid-json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid-json",
  FST_ERR_BAD_URL: "bad-path",
};

/** A status line and problem document written straight to a socket (for errors before Fastify has a request). */
function rawProblem(status: number, type: ProblemType, title: string, detail: string): string {
  const body = JSON.stringify(new Problem(type, title, detail, { status }).body());
  return `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * The access gateway as a Fastify app: SIWE sign-in, wallet-bound API keys, `/v1/me`, `/v1/usage`, and the data
 * routes proxied to the upstream within the wallet's tier, monthly quota and per-minute rate (see `dataRoute.ts`).
 * Every refusal is an RFC 9457 problem (`problems.ts`); the chain is never on the request path once a wallet is
 * known; `/metrics` serves Prometheus.
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const seconds = () => Math.floor(now() / 1000);
  // Several gateways (sharing usage through Redis) may share this file on one host: WAL lets them read while one
  // writes, and a writer waits for another instead of failing.
  options.db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;");
  const store: UsageStore = options.store ?? new SqliteUsageStore(options.db);
  const keys = new ApiKeyStore(options.db, options.masterKey, { maxLivePerWallet: options.maxKeysPerWallet ?? 100 });
  const outage = options.storeOutage ?? { paidRoutes: "closed", freeRoutes: "open" };
  const dataPrefix = (options.dataPrefix ?? "/v1/data").replace(/\/$/, "");
  const audit = new AuditLog(options.db, options.logger);
  const guard = new UpstreamGuard(options.upstreamGuard);
  const metrics = createGatewayMetrics(options.tracker, store, guard);
  const signIns = new ClientLimiter({ limit: options.clientLimits?.signInPerMinute ?? 30, windowSeconds: 60 });
  const failures = new ClientLimiter({ limit: options.clientLimits?.failuresPerMinute ?? 30, windowSeconds: 60 });
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 64 * 1024,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false,
    // Requests arriving while the server closes are answered (as problems) instead of Fastify's own 503 JSON.
    return503OnClosing: false,
    // One access-log line per request, written when it completes (see the onResponse hook), instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse what does not match a schema (an unknown field, a number for a string) instead of bending it to fit.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: (error, _request, reply) => {
      reply.request.tmai ??= {};
      return sendProblem(
        reply,
        error.code === "FST_ERR_BAD_URL"
          ? new Problem("bad-path", "Malformed URL", "the path has a malformed percent-encoding (%XX)")
          : error.code === "FST_ERR_MAX_PARAM_LENGTH"
            ? new Problem("uri-too-long", "URL too long", "a path parameter is longer than 200 characters")
            : new Problem("bad-request", "Request refused", "the request cannot be routed"),
      );
    },
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === "ECONNRESET" || !socket.writable) return;
      socket.end(
        error.code === "HPE_HEADER_OVERFLOW"
          ? rawProblem(431, "headers-too-large", "Request Header Fields Too Large", "the headers are too large")
          : rawProblem(400, "bad-request", "Bad Request", "the request is not valid HTTP/1.1"),
      );
    },
  });
  await app.register(replyFrom, {
    base: options.upstream,
    undici: {
      connections: 128,
      pipelining: 1,
      headersTimeout: upstreamTimeoutMs,
      bodyTimeout: upstreamTimeoutMs,
      connectTimeout: Math.min(upstreamTimeoutMs, 5_000),
    },
    // The gateway writes one access line per request itself; reply-from's two extra lines would triple the cost.
    disableRequestLogging: true,
  });
  app.decorateRequest("tmai", null as unknown as RequestFacts);
  app.addHook("onRequest", async (request) => {
    request.tmai = {};
  });
  app.addHook("onClose", async () => guard.close());
  const maintenance = setInterval(prune, 60_000).unref();
  app.addHook("onClose", async () => clearInterval(maintenance));
  prune();

  /** Forgets what is past its retention: audit entries, long-dead keys, expired sign-in rows. */
  function prune() {
    const at = seconds();
    audit.prune(at - (options.auditRetentionDays ?? 90) * 86_400);
    keys.prune(at - (MAX_USAGE_DAYS + 30) * 86_400);
    options.siwe.prune(at);
  }

  /** Renders a problem (and labels the request's outcome with its type). */
  function sendProblem(reply: FastifyReply, problem: Problem) {
    reply.request.tmai.outcome = problem.type;
    for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
    return reply.code(problem.status).type("application/problem+json").send(problem.body());
  }

  // The gateway's own routes take JSON; the data routes (their own context) take any body as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    if (body === "") return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new Problem("invalid-json", "Request refused", "the body is not valid JSON"), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError | Problem | Error, request, reply) => {
    if (error instanceof Problem) return sendProblem(reply, error);
    if (error instanceof UsageStoreUnavailableError) {
      metrics.storeErrors.inc({ store: store.kind });
      return sendProblem(
        reply,
        new Problem("store-unavailable", "Try again shortly", "the usage store is unreachable", {
          headers: { "Retry-After": "5" },
        }),
      );
    }
    if (error instanceof PathRefused)
      return sendProblem(reply, new Problem("bad-path", "Malformed URL", error.message));
    const fastifyError = error as FastifyError;
    if (fastifyError.validation)
      return sendProblem(reply, new Problem("invalid-request", "Request refused", fastifyError.message));
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const type = FASTIFY_ERRORS[fastifyError.code] ?? "bad-request";
      return sendProblem(reply, new Problem(type, "Request refused", fastifyError.message, { status }));
    }
    request.log.error({ err: error }, "request failed");
    return sendProblem(
      reply,
      new Problem("internal", "Internal error", `the gateway failed to answer; quote request id ${request.id}`),
    );
  });
  app.setNotFoundHandler((request) => {
    throw new Problem("not-found", "Not found", `no route ${request.method} ${request.url.split("?")[0]}`);
  });
  app.addHook("onResponse", async (request, reply) => {
    const known = request.tmai ?? {};
    const route = known.route ?? request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ route, tier: known.tier ?? "none", outcome: known.outcome ?? "ok" });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        url: maskKeys(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 1000) / 1000,
        ...(known.tier === undefined ? {} : { tier: known.tier }),
        outcome: known.outcome ?? "ok",
      },
      "request",
    );
  });

  /**
   * Records a failed authentication in the audit log — unless the client has failed too often this minute: then it
   * is refused with 429 and nothing is written, so no one address can fill the log.
   */
  function authFailed(request: FastifyRequest, wallet: string | null, keyId: string | null, detail: string) {
    const retryAfter = failures.hit(clientKey(request.ip), seconds());
    if (retryAfter > 0)
      throw new Problem(
        "client-rate-limited",
        "Too many failed attempts",
        `too many failed authentications from your address; try again in ${retryAfter} s`,
        { headers: { "Retry-After": String(retryAfter) } },
      );
    audit.record({ at: seconds(), event: "auth.failed", wallet, keyId, detail });
  }

  /** The wallet behind a session (`Authorization: Bearer <session>`) — for key management. */
  function sessionWallet(request: FastifyRequest): Address {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (bearer === undefined || bearer.startsWith("tmai_"))
      throw new Problem(
        "session-required",
        "Sign in first",
        "send Authorization: Bearer <session> from /v1/auth/verify",
      );
    const wallet = options.siwe.session(bearer, seconds());
    if (wallet === undefined) {
      authFailed(request, null, null, "session-invalid");
      throw new Problem(
        "session-required",
        "Sign in first",
        "the session is unknown or expired: sign in again (/v1/auth/verify)",
      );
    }
    return wallet;
  }

  function keyRefused(type: ProblemType): Problem {
    const detail = type.startsWith("signature")
      ? `the request's signature is refused (${type}): sign method, path with query, timestamp, nonce and the SHA-256 of the body's exact bytes`
      : type === "key-missing"
        ? "send the API key in x-api-key (or Authorization: Bearer tmai_…)"
        : `the API key is ${type.slice(4)}`;
    return new Problem(type, "API key refused", detail);
  }

  /**
   * The key presented (`x-api-key` or `Authorization: Bearer tmai_…`); throws the refusal. A signed key must also
   * sign the request (`x-tmai-timestamp`, `x-tmai-nonce`, `x-tmai-signature`) over the body's exact bytes; its nonce
   * is claimed per key in the usage store for as long as its timestamp is acceptable, so a replay is refused by
   * every instance sharing the store.
   */
  async function authenticate(request: FastifyRequest, body: Uint8Array | string): Promise<ApiKeyInfo> {
    const header = request.headers["x-api-key"];
    const bearer = /^Bearer (tmai_.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const key = typeof header === "string" ? header : bearer;
    if (key === undefined) throw keyRefused("key-missing");
    const at = seconds();
    const result = keys.authenticate(key, at);
    if (!result.ok) {
      authFailed(request, null, null, `key-${result.reason}`);
      throw keyRefused(`key-${result.reason}`);
    }
    if (!result.key.signed) return result.key;
    const one = (name: string) => {
      const value = request.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const signed = {
      method: request.method,
      pathWithQuery: request.url,
      body,
      timestamp: one("x-tmai-timestamp"),
      nonce: one("x-tmai-nonce"),
      signature: one("x-tmai-signature"),
    };
    let failure: ProblemType | undefined = verifySignedRequest(keys.secretOf(result.key.id) as string, signed, at);
    // Kept until the last second its timestamp is acceptable, plus one (Redis expires to the second).
    if (
      failure === undefined &&
      !(await store.claimNonce(`${result.key.id}:${signed.nonce}`, Number(signed.timestamp) + SIGNATURE_WINDOW + 2, at))
    )
      failure = "signature-replayed";
    if (failure !== undefined) {
      authFailed(request, result.key.wallet, result.key.id, failure);
      throw keyRefused(failure);
    }
    return result.key;
  }

  async function standingOf(wallet: string, request: FastifyRequest, reply: FastifyReply): Promise<WalletStanding> {
    const standing = await options.tracker.standing(wallet as Address, BigInt(seconds()));
    if (standing.stale) reply.header("x-tmai-tier-stale", "true");
    request.tmai.tier = standing.tierName;
    return standing;
  }

  /** Counts a sign-in request from the client; refuses it past the per-minute limit. */
  function signInAllowed(request: FastifyRequest) {
    const retryAfter = signIns.hit(clientKey(request.ip), seconds());
    if (retryAfter > 0)
      throw new Problem(
        "client-rate-limited",
        "Too many sign-in requests",
        `too many sign-in requests from your address; try again in ${retryAfter} s`,
        { headers: { "Retry-After": String(retryAfter) } },
      );
  }

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/livez", async () => ({ ok: true }));
  /**
   * Ready unless shutting down or not started: a chain or store outage makes the instance `degraded` (still 200 —
   * every instance sees the same outage, and serving from the last known tiers is the documented behaviour).
   */
  app.get("/readyz", async (_request, reply) => {
    const chain = !options.tracker.stale;
    const usageStore = await store.ping();
    if (options.lifecycle?.draining) return reply.code(503).send({ status: "draining", chain, store: usageStore });
    if (options.tracker.thresholds === undefined)
      return reply.code(503).send({ status: "starting", chain, store: usageStore });
    // Counters lost (a Redis restarted without persistence) this month: quotas restarted from zero.
    const lostAt = store.countersLostAt;
    const countersLost = lostAt !== undefined && monthOf(lostAt).period === monthOf(now()).period;
    return {
      status: chain && usageStore && !countersLost ? "ready" : "degraded",
      chain,
      store: usageStore,
      ...(store.durable === undefined ? {} : { storeDurable: store.durable }),
      ...(lostAt === undefined ? {} : { countersLostAt: new Date(lostAt).toISOString() }),
    };
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.get("/v1/auth/nonce", async (request) => {
    signInAllowed(request);
    try {
      return { nonce: options.siwe.issueNonce(seconds()) };
    } catch (error) {
      if (!(error instanceof SiweUnavailableError)) throw error;
      throw new Problem("sign-in-unavailable", "Sign-in busy", error.message, { headers: { "Retry-After": "60" } });
    }
  });

  /** Sign-out: the session presented ends at once. */
  app.delete("/v1/auth/session", async (request, reply) => {
    sessionWallet(request);
    options.siwe.revokeSession(/^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
    return reply.code(204).send();
  });

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
    async (request) => {
      signInAllowed(request);
      const { message, signature } = request.body;
      try {
        if (!isHex(signature)) throw new SiweError("bad-signature", "signature must be 0x-prefixed hex");
        const session = await options.siwe.verify(message, signature, seconds());
        return { wallet: session.wallet, session: session.session, expiresAt: session.expiresAt };
      } catch (error) {
        if (error instanceof SiweUnavailableError)
          throw new Problem("sign-in-unavailable", "Sign-in busy", error.message, { headers: { "Retry-After": "5" } });
        if (!(error instanceof SiweError)) throw error;
        const claimed = parseSiweMessage(message).address;
        authFailed(request, claimed ? claimed.toLowerCase() : null, null, `siwe-${error.failure}`);
        throw new Problem(`siwe-${error.failure}` as ProblemType, "Sign-in refused", error.message);
      }
    },
  );

  const keyId = { type: "object", properties: { id: { type: "string", pattern: "^[0-9a-f]{16}$" } } } as const;

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
      const { name, scopes, expiresAt, signed } = request.body;
      if (expiresAt !== undefined && expiresAt <= seconds())
        throw new Problem("invalid-request", "Request refused", "expiresAt must be in the future (Unix seconds)");
      const created = keyLimited(() =>
        keys.create(
          wallet,
          { name, ...(scopes ? { scopes } : {}), ...(expiresAt ? { expiresAt } : {}), ...(signed ? { signed } : {}) },
          seconds(),
        ),
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

  /** Runs a key creation, turning the wallet's key limit into a problem. */
  function keyLimited<T>(create: () => T): T {
    try {
      return create();
    } catch (error) {
      if (error instanceof KeyLimitError) throw new Problem("key-limit", "Too many keys", error.message);
      throw error;
    }
  }

  app.get("/v1/keys", async (request) => ({ keys: keys.list(sessionWallet(request)) }));

  app.delete<{ Params: { id: string } }>("/v1/keys/:id", { schema: { params: keyId } }, async (request, reply) => {
    const wallet = sessionWallet(request);
    if (!keys.revoke(wallet, request.params.id, seconds()))
      throw new Problem("key-not-found", "No such key", `you have no live key ${request.params.id}`);
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
        params: keyId,
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { graceSeconds: { type: "integer", minimum: 0, maximum: 30 * 86_400 } },
        },
      },
    },
    async (request, reply) => {
      const wallet = sessionWallet(request);
      const graceSeconds = request.body?.graceSeconds ?? 3_600;
      const rotated = keyLimited(() => keys.rotate(wallet, request.params.id, graceSeconds, seconds()));
      if (!rotated) throw new Problem("key-not-found", "No such key", `you have no live key ${request.params.id}`);
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
    async (request) => {
      const wallet = sessionWallet(request);
      const to = request.query.to ?? dayOf(now());
      const from = request.query.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000);
      const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
      if (!(span >= 1 && span <= MAX_USAGE_DAYS))
        throw new Problem(
          "bad-range",
          "Bad date range",
          `from (${from}) must not be after to (${to}) and the range must not exceed ${MAX_USAGE_DAYS} days`,
        );
      // Only the keys that could have been used in the range: at most the live-key limit plus the keys that ended
      // within it (pruned a month after the longest range), so one wallet's history cannot make a request unbounded.
      const fromSeconds = Date.parse(`${from}T00:00:00Z`) / 1000;
      const toSeconds = Date.parse(`${to}T00:00:00Z`) / 1000 + 86_400;
      const owned = keys
        .list(wallet)
        .filter(
          (key) =>
            key.createdAt < toSeconds && (key.revokedAt ?? key.expiresAt ?? Number.POSITIVE_INFINITY) >= fromSeconds,
        );
      const days = await store.keyDays(
        owned.map((key) => key.id),
        from,
        to,
      );
      const byKey = Map.groupBy(days, (day) => day.keyId);
      return {
        from,
        to,
        keys: owned.map((key) => ({
          id: key.id,
          name: key.name,
          prefix: key.prefix,
          days: (byKey.get(key.id) ?? []).map(({ keyId: _id, ...day }) => day),
        })),
      };
    },
  );

  app.get("/v1/me", async (request, reply) => {
    let wallet: Address;
    if (request.headers.authorization !== undefined && !/^Bearer tmai_/.test(request.headers.authorization))
      wallet = sessionWallet(request);
    else wallet = getAddress((await authenticate(request, "")).wallet);
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

  await app.register(dataRoute, {
    dataPrefix,
    plans: options.plans,
    matchRoute: routeMatcher(options.plans),
    tracker: options.tracker,
    store,
    outage,
    guard,
    now,
    authenticate,
    standingOf,
    onStoreError: () => metrics.storeErrors.inc({ store: store.kind }),
  });

  return app;
}
