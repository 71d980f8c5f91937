import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Why a signed request was refused. */
export type SignatureFailure = "signature-missing" | "signature-stale" | "signature-replayed" | "signature-invalid";

export interface SignedRequest {
  method: string;
  /** Path with query, as sent. */
  pathWithQuery: string;
  body: string;
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

/** Seconds a signed request's timestamp may differ from the gateway's clock. */
export const SIGNATURE_WINDOW = 30;

/**
 * The string a signed key's HMAC-SHA256 covers: method, path with query, timestamp, nonce and the body's SHA-256,
 * one per line. Clients compute `hex(HMAC-SHA256(secret, canonical))` and send it in `x-tmai-signature`.
 */
export function canonicalRequest(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
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
  body: string,
) {
  return createHmac("sha256", secret)
    .update(canonicalRequest(method, pathWithQuery, timestamp, nonce, body))
    .digest("hex");
}

/**
 * Checks a signed key's request: timestamp within ±30 s and the HMAC compared in constant time. Returns the failure,
 * or undefined when the signature is genuine — the caller then claims the nonce in its store (once per window), so
 * a replay is refused by every gateway instance sharing that store.
 */
export function verifySignedRequest(secret: string, request: SignedRequest, now: number): SignatureFailure | undefined {
  const { timestamp, nonce, signature } = request;
  if (!timestamp || !nonce || !signature || !/^\d+$/.test(timestamp) || nonce.length > 128) return "signature-missing";
  if (Math.abs(Number(timestamp) - now) > SIGNATURE_WINDOW) return "signature-stale";
  const expected = Buffer.from(
    signRequest(secret, request.method, request.pathWithQuery, timestamp, nonce, request.body),
    "hex",
  );
  const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signature) ? signature : "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "signature-invalid";
  return undefined;
}
