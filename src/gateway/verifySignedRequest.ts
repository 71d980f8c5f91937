import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";

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

/** Creates the table of recently seen request nonces; once, when the gateway starts. */
export function createRequestNonceTable(db: DatabaseSync): void {
  db.exec("CREATE TABLE IF NOT EXISTS request_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
}

/**
 * Checks a signed key's request: timestamp within ±30 s, a nonce never seen in that window (kept in SQLite),
 * and the HMAC compared in constant time. Returns the failure, or undefined when the request is genuine.
 */
export function verifySignedRequest(
  sql: (sql: string) => StatementSync,
  secret: string,
  request: SignedRequest,
  now: number,
): SignatureFailure | undefined {
  const { timestamp, nonce, signature } = request;
  if (!timestamp || !nonce || !signature || !/^\d+$/.test(timestamp) || nonce.length > 128) return "signature-missing";
  if (Math.abs(Number(timestamp) - now) > SIGNATURE_WINDOW) return "signature-stale";
  const expected = Buffer.from(
    signRequest(secret, request.method, request.pathWithQuery, timestamp, nonce, request.body),
    "hex",
  );
  const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signature) ? signature : "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "signature-invalid";
  sql("DELETE FROM request_nonces WHERE expires_at <= ?").run(now);
  const inserted = sql("INSERT OR IGNORE INTO request_nonces (nonce, expires_at) VALUES (?, ?)").run(
    nonce,
    now + 2 * SIGNATURE_WINDOW,
  );
  return inserted.changes === 1 ? undefined : "signature-replayed";
}
