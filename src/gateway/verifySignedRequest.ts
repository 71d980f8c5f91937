import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Why a signed request was refused. */
export type SignatureFailure = "signature-missing" | "signature-stale" | "signature-replayed" | "signature-invalid";

export interface SignedRequest {
  method: string;
  /** Path with query, as sent. */
  pathWithQuery: string;
  /** The body's exact bytes, whatever its content type ("" when there is none). */
  body: Uint8Array | string;
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

/** Seconds a signed request's timestamp may differ from the gateway's clock. */
export const SIGNATURE_WINDOW = 30;

/** A nonce: 1 to 128 characters from the URL-safe set (e.g. a UUID, or 16 random bytes in hex or base64url). */
export const NONCE_PATTERN = /^[A-Za-z0-9_.~-]{1,128}$/;

/**
 * The string a signed key's HMAC-SHA256 covers: method, path with query, timestamp, nonce and the body's SHA-256,
 * one per line. Clients compute `hex(HMAC-SHA256(secret, canonical))` and send it in `x-tmai-signature`.
 */
export function canonicalRequest(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: Uint8Array | string,
) {
  const bodyHash = createHash("sha256").update(body).digest("hex");
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${bodyHash}`;
}

export function signRequest(
  secret: string,
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: Uint8Array | string,
) {
  return createHmac("sha256", secret)
    .update(canonicalRequest(method, pathWithQuery, timestamp, nonce, body))
    .digest("hex");
}

/**
 * Checks a signed key's request: timestamp within ±30 s and the HMAC compared in constant time. Returns the failure,
 * or undefined when the signature is genuine — the caller then claims the nonce, per key, in its store until the
 * timestamp can no longer be accepted (timestamp + 30 s), so a replay is refused by every gateway instance sharing
 * that store.
 */
export function verifySignedRequest(secret: string, request: SignedRequest, now: number): SignatureFailure | undefined {
  const { timestamp, nonce, signature } = request;
  if (!timestamp || !nonce || !signature || !/^\d{1,12}$/.test(timestamp) || !NONCE_PATTERN.test(nonce))
    return "signature-missing";
  if (Math.abs(Number(timestamp) - now) > SIGNATURE_WINDOW) return "signature-stale";
  const expected = Buffer.from(
    signRequest(secret, request.method, request.pathWithQuery, timestamp, nonce, request.body),
    "hex",
  );
  const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signature) ? signature : "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "signature-invalid";
  return undefined;
}
