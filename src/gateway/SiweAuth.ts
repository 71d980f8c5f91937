import { createHash, randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type Address, getAddress, type Hex, type PublicClient } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { statementCache } from "./statementCache.ts";

/** Why a sign-in was refused; each cause becomes its own problem `type` over HTTP. */
export type SiweFailure =
  | "invalid-message"
  | "wrong-domain"
  | "wrong-uri"
  | "wrong-chain"
  | "bad-nonce"
  | "expired"
  | "not-yet-valid"
  | "bad-signature";

export class SiweError extends Error {
  override name = "SiweError";
  readonly failure: SiweFailure;

  constructor(failure: SiweFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

/** Too many sign-in nonces are outstanding (issued, unused, unexpired): the gateway refuses new ones for now. */
export class SiweCapacityError extends Error {
  override name = "SiweCapacityError";
}

export interface SiweAuthParameters {
  db: DatabaseSync;
  /** Verifies signatures, smart wallets' included (ERC-1271 / ERC-6492). */
  client: PublicClient;
  /** The gateway's RFC 3986 authority, e.g. `api.example.com` — the message's `domain` must equal it. */
  domain: string;
  /** The gateway's origin, e.g. `https://api.example.com` — the message's `uri` must have exactly this origin. */
  origin: string;
  chainId: number;
  nonceTtlSeconds?: number;
  sessionTtlSeconds?: number;
  /** Longest accepted age of `issuedAt` when the message has no `expirationTime`. */
  maxMessageAgeSeconds?: number;
  /** Nonces outstanding at once, from all clients (default 10,000); past it `issueNonce` throws `SiweCapacityError`. */
  maxOutstandingNonces?: number;
  /** Live sessions a wallet may hold (default 20); a new sign-in past it ends the wallet's oldest session. */
  maxSessionsPerWallet?: number;
}

/** Rows deleted per statement when pruning, so one prune cannot hold the database (or the event loop) for long. */
const PRUNE_BATCH = 5_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Sign-In with Ethereum (EIP-4361): single-use nonces from `node:crypto` (viem's `generateSiweNonce` uses
 * Math.random), every field checked with a cause per failure, the signature verified through the public client,
 * and opaque session tokens stored as SHA-256 hashes.
 */
export class SiweAuth {
  readonly #p: Required<Omit<SiweAuthParameters, "db" | "client">> & Pick<SiweAuthParameters, "db" | "client">;
  readonly #sql: (sql: string) => StatementSync;
  readonly #origin: string;

  constructor(parameters: SiweAuthParameters) {
    this.#p = {
      nonceTtlSeconds: 600,
      sessionTtlSeconds: 86_400,
      maxMessageAgeSeconds: 600,
      maxOutstandingNonces: 10_000,
      maxSessionsPerWallet: 20,
      ...parameters,
    };
    this.#origin = new URL(this.#p.origin).origin;
    this.#p.db.exec(`
      CREATE TABLE IF NOT EXISTS siwe_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, wallet TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sessions_wallet ON sessions (wallet);
      CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
      CREATE INDEX IF NOT EXISTS siwe_nonces_expiry ON siwe_nonces (expires_at);
    `);
    this.#sql = statementCache(this.#p.db);
  }

  /**
   * A fresh nonce (128 random bits, hexadecimal), valid once for `nonceTtlSeconds`. Throws `SiweCapacityError` while
   * `maxOutstandingNonces` are outstanding.
   */
  issueNonce(now: number): string {
    const { live } = this.#sql("SELECT count(*) AS live FROM siwe_nonces WHERE expires_at > ?").get(now) as {
      live: number;
    };
    if (live >= this.#p.maxOutstandingNonces)
      throw new SiweCapacityError(
        `${live} sign-in nonces are outstanding, the most allowed at once: try again in a minute`,
      );
    const nonce = randomBytes(16).toString("hex");
    this.#sql("INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)").run(nonce, now + this.#p.nonceTtlSeconds);
    return nonce;
  }

  /**
   * Checks a signed SIWE message; on success consumes its nonce and returns a new session for the wallet, which ends
   * at the message's `expirationTime` if that comes before `sessionTtlSeconds`. Every field that costs nothing to
   * check — the nonce included — is checked before the signature, whose check may cost an RPC call (ERC-1271 /
   * ERC-6492): a stranger cannot spend the gateway's RPC budget without a live nonce. The nonce is consumed only by a
   * valid signature, so a forged attempt cannot burn someone else's nonce.
   */
  async verify(
    message: string,
    signature: Hex,
    now: number,
  ): Promise<{ wallet: Address; session: string; expiresAt: number }> {
    const fields = parseSiweMessage(message);
    if (!fields.address || !fields.domain || !fields.uri || !fields.nonce || !fields.chainId || !fields.issuedAt) {
      throw new SiweError(
        "invalid-message",
        "not an EIP-4361 message: address, domain, uri, nonce, chain id and issued-at are required",
      );
    }
    const issuedAt = secondsOf(fields.issuedAt, "Issued At");
    const expirationTime = fields.expirationTime ? secondsOf(fields.expirationTime, "Expiration Time") : undefined;
    const notBefore = fields.notBefore ? secondsOf(fields.notBefore, "Not Before") : undefined;
    if (fields.domain !== this.#p.domain) {
      throw new SiweError("wrong-domain", `the message is for ${fields.domain}, not ${this.#p.domain}`);
    }
    if (originOf(fields.uri) !== this.#origin) {
      throw new SiweError("wrong-uri", `the message's uri ${fields.uri} is not on ${this.#origin}`);
    }
    if (fields.chainId !== this.#p.chainId) {
      throw new SiweError(
        "wrong-chain",
        `the message is for chain ${fields.chainId}; sign in on chain ${this.#p.chainId}`,
      );
    }
    const expiresAt = expirationTime ?? issuedAt + this.#p.maxMessageAgeSeconds;
    if (issuedAt > now + 60)
      throw new SiweError("not-yet-valid", "the message was issued in the future: check your clock");
    if (notBefore !== undefined && notBefore > now) {
      throw new SiweError("not-yet-valid", "the message is not valid yet (notBefore)");
    }
    if (expiresAt <= now) throw new SiweError("expired", "the message has expired: sign a new one");
    const known = this.#sql("SELECT 1 FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").get(fields.nonce, now);
    if (known === undefined) throw new SiweError("bad-nonce", "unknown, used or expired nonce: ask for a new one");
    const valid = await this.#p.client
      .verifyMessage({ address: fields.address, message, signature })
      .catch(() => false);
    if (!valid) throw new SiweError("bad-signature", `the signature is not ${fields.address}'s`);
    // Consumed once: of two valid requests racing with one nonce, the second finds it gone.
    const consumed = this.#sql("DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").run(fields.nonce, now);
    if (consumed.changes !== 1) throw new SiweError("bad-nonce", "unknown, used or expired nonce: ask for a new one");
    const session = randomBytes(32).toString("base64url");
    const sessionExpiresAt = Math.min(now + this.#p.sessionTtlSeconds, expirationTime ?? Number.POSITIVE_INFINITY);
    const wallet = getAddress(fields.address);
    this.#sql("INSERT INTO sessions (hash, wallet, expires_at) VALUES (?, ?, ?)").run(
      sha256(session),
      wallet,
      sessionExpiresAt,
    );
    // The wallet's oldest sessions beyond the cap end now (insertion order: rowid).
    this.#sql(
      "DELETE FROM sessions WHERE wallet = ? AND rowid NOT IN (SELECT rowid FROM sessions WHERE wallet = ? AND expires_at > ? ORDER BY rowid DESC LIMIT ?)",
    ).run(wallet, wallet, now, this.#p.maxSessionsPerWallet);
    return { wallet, session, expiresAt: sessionExpiresAt };
  }

  /** Ends a session at once (sign-out); false when it was not live. */
  revokeSession(token: string): boolean {
    return this.#sql("DELETE FROM sessions WHERE hash = ?").run(sha256(token)).changes > 0;
  }

  /**
   * Deletes expired nonces and sessions, at most `PRUNE_BATCH` rows of each per call (the gateway calls it every
   * minute); returns how many rows went.
   */
  prune(now: number): number {
    let deleted = 0;
    for (const table of ["siwe_nonces", "sessions"]) {
      deleted += Number(
        this.#sql(
          `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at <= ? LIMIT ${PRUNE_BATCH})`,
        ).run(now).changes,
      );
    }
    return deleted;
  }

  /** The wallet of a live session token, or undefined. */
  session(token: string, now: number): Address | undefined {
    const row = this.#sql("SELECT wallet, expires_at FROM sessions WHERE hash = ?").get(sha256(token)) as
      | { wallet: string; expires_at: number }
      | undefined;
    return row && row.expires_at > now ? (row.wallet as Address) : undefined;
  }
}

/** Unix seconds of a message's time field; an unparseable one makes the message invalid (NaN passes no check). */
function secondsOf(date: Date, field: string): number {
  const time = date.getTime();
  if (!Number.isFinite(time)) throw new SiweError("invalid-message", `the message's ${field} is not an ISO 8601 date`);
  return Math.floor(time / 1000);
}

/** The origin of a message's `uri`, or undefined when it is not a URL (or not http(s)). */
function originOf(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
