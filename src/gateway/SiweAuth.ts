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

export interface SiweAuthParameters {
  db: DatabaseSync;
  /** Verifies signatures, smart wallets' included (ERC-1271 / ERC-6492). */
  client: PublicClient;
  /** The gateway's RFC 3986 authority, e.g. `api.example.com` — the message's `domain` must equal it. */
  domain: string;
  /** The gateway's origin, e.g. `https://api.example.com` — the message's `uri` must start with it. */
  origin: string;
  chainId: number;
  nonceTtlSeconds?: number;
  sessionTtlSeconds?: number;
  /** Longest accepted age of `issuedAt` when the message has no `expirationTime`. */
  maxMessageAgeSeconds?: number;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Sign-In with Ethereum (EIP-4361): single-use nonces from `node:crypto` (viem's `generateSiweNonce` uses
 * Math.random), every field checked with a cause per failure, the signature verified through the public client,
 * and opaque session tokens stored as SHA-256 hashes.
 */
export class SiweAuth {
  readonly #p: Required<Omit<SiweAuthParameters, "db" | "client">> & Pick<SiweAuthParameters, "db" | "client">;
  readonly #sql: (sql: string) => StatementSync;

  constructor(parameters: SiweAuthParameters) {
    this.#p = { nonceTtlSeconds: 600, sessionTtlSeconds: 86_400, maxMessageAgeSeconds: 600, ...parameters };
    this.#p.db.exec(`
      CREATE TABLE IF NOT EXISTS siwe_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, wallet TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
    this.#sql = statementCache(this.#p.db);
  }

  /** A fresh nonce (128 random bits, hexadecimal), valid once for `nonceTtlSeconds`. */
  issueNonce(now: number): string {
    const nonce = randomBytes(16).toString("hex");
    this.#sql("DELETE FROM siwe_nonces WHERE expires_at <= ?").run(now);
    this.#sql("INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)").run(nonce, now + this.#p.nonceTtlSeconds);
    return nonce;
  }

  /** Checks a signed SIWE message; on success consumes its nonce and returns a new session for the wallet. */
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
    if (fields.domain !== this.#p.domain) {
      throw new SiweError("wrong-domain", `the message is for ${fields.domain}, not ${this.#p.domain}`);
    }
    if (!fields.uri.startsWith(this.#p.origin)) {
      throw new SiweError("wrong-uri", `the message's uri ${fields.uri} is not under ${this.#p.origin}`);
    }
    if (fields.chainId !== this.#p.chainId) {
      throw new SiweError(
        "wrong-chain",
        `the message is for chain ${fields.chainId}; sign in on chain ${this.#p.chainId}`,
      );
    }
    const issuedAt = Math.floor(fields.issuedAt.getTime() / 1000);
    const expiresAt = fields.expirationTime
      ? Math.floor(fields.expirationTime.getTime() / 1000)
      : issuedAt + this.#p.maxMessageAgeSeconds;
    if (issuedAt > now + 60)
      throw new SiweError("not-yet-valid", "the message was issued in the future: check your clock");
    if (fields.notBefore && fields.notBefore.getTime() / 1000 > now) {
      throw new SiweError("not-yet-valid", "the message is not valid yet (notBefore)");
    }
    if (expiresAt <= now) throw new SiweError("expired", "the message has expired: sign a new one");
    const valid = await this.#p.client
      .verifyMessage({ address: fields.address, message, signature })
      .catch(() => false);
    if (!valid) throw new SiweError("bad-signature", `the signature is not ${fields.address}'s`);
    // The nonce is consumed only by a valid message, so a forged attempt cannot burn someone else's nonce.
    const consumed = this.#sql("DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").run(fields.nonce, now);
    if (consumed.changes !== 1) throw new SiweError("bad-nonce", "unknown, used or expired nonce: ask for a new one");
    const session = randomBytes(32).toString("base64url");
    const sessionExpiresAt = now + this.#p.sessionTtlSeconds;
    const wallet = getAddress(fields.address);
    this.#sql("INSERT INTO sessions (hash, wallet, expires_at) VALUES (?, ?, ?)").run(
      sha256(session),
      wallet,
      sessionExpiresAt,
    );
    return { wallet, session, expiresAt: sessionExpiresAt };
  }

  /** The wallet of a live session token, or undefined. */
  session(token: string, now: number): Address | undefined {
    const row = this.#sql("SELECT wallet, expires_at FROM sessions WHERE hash = ?").get(sha256(token)) as
      | { wallet: string; expires_at: number }
      | undefined;
    return row && row.expires_at > now ? (row.wallet as Address) : undefined;
  }
}
