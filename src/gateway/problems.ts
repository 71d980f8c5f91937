/**
 * RFC 9457 problems: every answer the gateway writes itself on failure is `application/problem+json` with a
 * `type` of its own under `PROBLEM_BASE`. Handlers throw a `Problem`; the error handler renders it once.
 */

export const PROBLEM_BASE = "https://docs.tmai.dev/problems/";

/** Every problem type the gateway sends, with its status and what it means (the README's table is this list). */
export const PROBLEM_TYPES = {
  "bad-path": [400, "the URL's path or query is malformed or ambiguous (encoded slash, backslash, double encoding, …)"],
  "invalid-request": [400, "the body, query or parameters do not match the route's schema"],
  "invalid-json": [400, "the body is not valid JSON"],
  "bad-range": [400, "GET /v1/usage: from is after to, or the range is longer than allowed"],
  "bad-request": [400, "a request the HTTP layer refused (bad header, bad content length, …)"],
  "key-missing": [401, "no API key was sent"],
  "key-unknown": [401, "the API key is not known"],
  "key-revoked": [401, "the API key was revoked"],
  "key-expired": [401, "the API key expired (or its rotation grace period ended)"],
  "session-required": [401, "key management needs Authorization: Bearer <session>"],
  "signature-missing": [401, "a signed key's request lacks x-tmai-timestamp, x-tmai-nonce or x-tmai-signature"],
  "signature-stale": [401, "the signed request's timestamp is more than 30 s from the gateway's clock"],
  "signature-invalid": [401, "the signature does not match the request"],
  "signature-replayed": [401, "the nonce was already used by this key"],
  "siwe-invalid-message": [401, "sign-in: not an EIP-4361 message, or a field cannot be read"],
  "siwe-wrong-domain": [401, "sign-in: the message names another domain"],
  "siwe-wrong-uri": [401, "sign-in: the message's uri is not on the gateway's origin"],
  "siwe-wrong-chain": [401, "sign-in: the message names another chain"],
  "siwe-bad-nonce": [401, "sign-in: unknown, used or expired nonce"],
  "siwe-expired": [401, "sign-in: the message has expired"],
  "siwe-not-yet-valid": [401, "sign-in: the message is not valid yet"],
  "siwe-bad-signature": [401, "sign-in: the signature is not the address's"],
  "tier-too-low": [403, "the route needs a higher tier (requiredTier, currentTier, veTMAINeeded)"],
  "scope-missing": [403, "the key's scopes do not include the route's"],
  "not-found": [404, "no such route"],
  "key-not-found": [404, "the signed-in wallet has no such live key"],
  "key-limit": [409, "the wallet has as many live keys as allowed: revoke one first"],
  "body-too-large": [413, "the body is larger than the gateway accepts"],
  "uri-too-long": [414, "the URL (or a path parameter) is too long"],
  "unsupported-media-type": [415, "the gateway's own routes take application/json bodies only"],
  "headers-too-large": [431, "the request's headers are too large"],
  "rate-limited": [429, "the wallet's requests this minute ran out (Retry-After)"],
  "quota-exhausted": [429, "the wallet's credits this month ran out (Retry-After)"],
  "client-rate-limited": [429, "too many sign-in or failed authentication attempts from this address (Retry-After)"],
  internal: [500, "an error inside the gateway (the answer carries the request id to quote)"],
  "upstream-failed": [502, "the data API failed to answer (not charged)"],
  "store-unavailable": [503, "the usage store is unreachable and the route fails closed (Retry-After)"],
  "upstream-unavailable": [
    503,
    "the data API is failing, its circuit is open, or too many requests wait for it (not charged; Retry-After)",
  ],
  "sign-in-unavailable": [
    503,
    "too many sign-ins pending, or the chain did not answer a signature check: try again shortly (Retry-After)",
  ],
  "upstream-timeout": [504, "the data API did not answer in time (not charged)"],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

/** A refusal, thrown by a handler or a hook and rendered as `application/problem+json` by the error handler. */
export class Problem extends Error {
  override name = "Problem";
  readonly status: number;
  readonly type: ProblemType;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    type: ProblemType,
    title: string,
    detail: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string>; status?: number } = {},
  ) {
    super(detail);
    this.type = type;
    this.status = options.status ?? PROBLEM_TYPES[type][0];
    this.title = title;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  /** The RFC 9457 document. */
  body(instance?: string): Record<string, unknown> {
    return {
      type: `${PROBLEM_BASE}${this.type}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance === undefined ? {} : { instance }),
      ...this.extra,
    };
  }
}
