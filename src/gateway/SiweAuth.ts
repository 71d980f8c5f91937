import { createHash, randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type Address, getAddress, type Hex, isAddressEqual, type PublicClient, recoverMessageAddress } from "viem";
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

/**
 * Sign-in cannot be served right now — through no fault of the message: too many nonces outstanding, too many
 * signature checks in flight, or the chain did not answer in time. Worth a 503 with `Retry-After`, never a 401.
 */
export class SiweUnavailableError extends Error {
  override name = "SiweUnavailableError";
}

/** Too many sign-in nonces are outstanding (issued, unused, unexpired): the gateway refuses new ones for now. */
export class SiweCapacityError extends SiweUnavailableError {
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
  /** How long a nonce may wait for its signed message (default 600 s). */
  nonceTtlSeconds?: number;
  /** The longest session (default 86,400 s); a message's earlier `expirationTime` ends it sooner. */
  sessionTtlSeconds?: number;
  /** Longest accepted age of `issuedAt` when the message has no `expirationTime` (default 600 s). */
  maxMessageAgeSeconds?: number;
  /** Nonces outstanding at once, from all clients (default 10,000); past it `issueNonce` throws `SiweCapacityError`. */
  maxOutstandingNonces?: number;
  /** Live sessions a wallet may hold (default 20); a new sign-in past it ends the wallet's oldest session. */
  maxSessionsPerWallet?: number;
  /** Signature checks that may wait on the chain at once (default 64); past it `verify` throws `SiweUnavailableError`. */
  maxPendingSignatureChecks?: number;
  /** How long a signature check may wait on the chain (default 5,000 ms) before `verify` throws `SiweUnavailableError`. */
  signatureTimeoutMs?: number;
}

export interface SiweSession {
  wallet: Address;
  /** The bearer token, shown once; only its SHA-256 hash is stored. */
  session: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** The longest message read (EIP-4361 messages are a few hundred characters); the parser is not linear beyond. */
export const SIWE_MAX_MESSAGE_LENGTH = 4096;
/** Rows deleted per table and per `prune` call, so one prune cannot hold the database (or the event loop) for long. */
export const SIWE_PRUNE_BATCH = 5_000;
/** How far ahead of the gateway's clock a wallet's `Issued At` may be. */
const CLOCK_SKEW_SECONDS = 60;
const BAD_NONCE = "unknown, used or expired nonce: ask GET /v1/auth/nonce for a new one and sign again";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Sign-In with Ethereum (EIP-4361): single-use nonces from `node:crypto` (viem's `generateSiweNonce` uses
 * Math.random), every field checked with a cause per failure, the signature verified through the public client,
 * and opaque session tokens stored as SHA-256 hashes.
 *
 * What a stranger can cost: every field that costs nothing to check — the nonce included — is checked before the
 * signature, whose check may cost an `eth_call` (ERC-1271 / ERC-6492; a plain EOA signature is recovered locally and
 * costs none). A message that passes them spends its nonce, whatever its signature: one nonce buys at most one
 * `eth_call`, and nonces are capped (`maxOutstandingNonces`) and rate-limited by the HTTP layer. A wallet whose
 * signature was refused asks for a new nonce; nobody else can spend a nonce without knowing it (128 random bits,
 * given only to the client that asked).
 */
export class SiweAuth {
  readonly #p: Required<Omit<SiweAuthParameters, "db" | "client">> & Pick<SiweAuthParameters, "db" | "client">;
  readonly #sql: (sql: string) => StatementSync;
  readonly #origin: URL;
  #pendingChecks = 0;

  constructor(parameters: SiweAuthParameters) {
    this.#p = {
      nonceTtlSeconds: 600,
      sessionTtlSeconds: 86_400,
      maxMessageAgeSeconds: 600,
      maxOutstandingNonces: 10_000,
      maxSessionsPerWallet: 20,
      maxPendingSignatureChecks: 64,
      signatureTimeoutMs: 5_000,
      ...parameters,
    };
    for (const [name, max] of [
      ["nonceTtlSeconds", 86_400],
      ["sessionTtlSeconds", 366 * 86_400],
      ["maxMessageAgeSeconds", 86_400],
      ["maxOutstandingNonces", 10_000_000],
      ["maxSessionsPerWallet", 10_000],
      ["maxPendingSignatureChecks", 100_000],
      ["signatureTimeoutMs", 600_000],
    ] as const) {
      const value = this.#p[name];
      if (!Number.isSafeInteger(value) || value < 1 || value > max)
        throw new RangeError(`SiweAuth ${name} must be an integer from 1 to ${max}, got ${value}`);
    }
    const origin = httpUrl(this.#p.origin);
    if (origin === undefined)
      throw new RangeError(
        `SiweAuth origin must be an http(s) origin such as https://api.example.com, got ${parameters.origin}`,
      );
    this.#origin = origin;
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
   * Checks a signed SIWE message and returns a new session for the wallet, which ends at the message's
   * `expirationTime` if that comes before `sessionTtlSeconds`. Throws `SiweError` (the message's fault) or
   * `SiweUnavailableError` (the gateway's: too many checks in flight, or the chain did not answer in time).
   *
   * A message refused by a cheap check (domain, uri, chain, times, unknown nonce) keeps its nonce — a message that is
   * not valid yet may be sent again later — and so does one refused because `maxPendingSignatureChecks` are in
   * flight; one whose signature is checked spends it, whatever the outcome.
   */
  async verify(message: string, signature: Hex, now: number): Promise<SiweSession> {
    if (message.length > SIWE_MAX_MESSAGE_LENGTH)
      throw new SiweError("invalid-message", `the message is longer than ${SIWE_MAX_MESSAGE_LENGTH} characters`);
    const fields = parseSiweMessage(message);
    if (!fields.address || !fields.domain || !fields.uri || !fields.nonce || !fields.chainId || !fields.issuedAt) {
      throw new SiweError(
        "invalid-message",
        "not an EIP-4361 message: address, domain, uri, nonce, chain id and issued-at are required",
      );
    }
    if (fields.version !== "1")
      throw new SiweError("invalid-message", `the message's Version is ${fields.version}; EIP-4361 defines only 1`);
    const issuedAt = secondsOf(fields.issuedAt, "Issued At");
    const expirationTime = fields.expirationTime ? secondsOf(fields.expirationTime, "Expiration Time") : undefined;
    const notBefore = fields.notBefore ? secondsOf(fields.notBefore, "Not Before") : undefined;
    if (notBefore !== undefined && expirationTime !== undefined && notBefore >= expirationTime)
      throw new SiweError("invalid-message", "the message's Not Before is not before its Expiration Time");

    if (fields.domain !== this.#p.domain)
      throw new SiweError("wrong-domain", `the message is for ${fields.domain}, not ${this.#p.domain}`);
    if (fields.scheme !== undefined && `${fields.scheme.toLowerCase()}:` !== this.#origin.protocol)
      throw new SiweError("wrong-domain", `the message is for ${fields.scheme}://, not ${this.#origin.protocol}//`);
    const uri = httpUrl(fields.uri);
    if (uri?.origin !== this.#origin.origin || uri.username !== "" || uri.password !== "")
      throw new SiweError(
        "wrong-uri",
        `the message's uri ${fields.uri} is not on ${this.#origin.origin} (exactly: same scheme, host and port, no user info)`,
      );
    if (fields.chainId !== this.#p.chainId)
      throw new SiweError(
        "wrong-chain",
        `the message is for chain ${fields.chainId}; sign in on chain ${this.#p.chainId}`,
      );

    if (issuedAt > now + CLOCK_SKEW_SECONDS)
      throw new SiweError("not-yet-valid", "the message was issued in the future: check your clock");
    if ((expirationTime ?? issuedAt + this.#p.maxMessageAgeSeconds) <= now)
      throw new SiweError("expired", "the message has expired: sign a new one");
    const nonce = this.#sql("SELECT expires_at FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").get(
      fields.nonce,
      now,
    ) as { expires_at: number } | undefined;
    if (nonce === undefined) throw new SiweError("bad-nonce", BAD_NONCE);
    if (notBefore !== undefined && notBefore > now) {
      throw new SiweError(
        "not-yet-valid",
        notBefore >= nonce.expires_at
          ? `the message is valid only from ${isoOf(notBefore)}, after its nonce expires (${isoOf(nonce.expires_at)}): sign one without Not Before, or one that starts sooner`
          : `the message is valid only from ${isoOf(notBefore)}: send it again then`,
      );
    }

    const wallet = getAddress(fields.address);
    // A plain EOA signature is recovered locally: no RPC call, and no wait behind smart wallets' checks.
    if (await recoversTo(wallet, message, signature)) this.#spendNonce(fields.nonce, now);
    else {
      if (this.#pendingChecks >= this.#p.maxPendingSignatureChecks)
        throw new SiweUnavailableError(
          `${this.#pendingChecks} sign-in signatures are being checked on chain, the most at once: try again in a few seconds (the nonce is kept)`,
        );
      this.#spendNonce(fields.nonce, now);
      if (!(await this.#chainSaysValid(wallet, message, signature)))
        throw new SiweError("bad-signature", `the signature is not ${wallet}'s: ask for a new nonce and sign again`);
    }

    const session = randomBytes(32).toString("base64url");
    const expiresAt = Math.min(now + this.#p.sessionTtlSeconds, expirationTime ?? Number.POSITIVE_INFINITY);
    this.#sql("INSERT INTO sessions (hash, wallet, expires_at) VALUES (?, ?, ?)").run(
      sha256(session),
      wallet,
      expiresAt,
    );
    // The wallet's oldest sessions beyond the cap end now (insertion order: rowid), and its expired ones go.
    this.#sql(
      "DELETE FROM sessions WHERE wallet = ? AND rowid NOT IN (SELECT rowid FROM sessions WHERE wallet = ? AND expires_at > ? ORDER BY rowid DESC LIMIT ?)",
    ).run(wallet, wallet, now, this.#p.maxSessionsPerWallet);
    return { wallet, session, expiresAt };
  }

  /** The wallet of a live session token, or undefined. */
  session(token: string, now: number): Address | undefined {
    const row = this.#sql("SELECT wallet, expires_at FROM sessions WHERE hash = ?").get(sha256(token)) as
      | { wallet: string; expires_at: number }
      | undefined;
    return row && row.expires_at > now ? (row.wallet as Address) : undefined;
  }

  /** Ends a session at once (sign-out); false when it was not live. */
  revokeSession(token: string): boolean {
    return this.#sql("DELETE FROM sessions WHERE hash = ?").run(sha256(token)).changes > 0;
  }

  /** Ends every session of a wallet (sign-out everywhere); returns how many ended. */
  revokeSessions(wallet: Address): number {
    return Number(this.#sql("DELETE FROM sessions WHERE wallet = ?").run(getAddress(wallet)).changes);
  }

  /**
   * Deletes expired nonces and sessions, at most `SIWE_PRUNE_BATCH` rows of each per call (the gateway calls it every
   * minute); returns how many rows went.
   */
  prune(now: number): number {
    let deleted = 0;
    for (const table of ["siwe_nonces", "sessions"]) {
      deleted += Number(
        this.#sql(
          `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at <= ? LIMIT ${SIWE_PRUNE_BATCH})`,
        ).run(now).changes,
      );
    }
    return deleted;
  }

  /** Spends a live nonce, before anything is asked of the chain; of two attempts racing with one nonce, one wins. */
  #spendNonce(nonce: string, now: number): void {
    if (this.#sql("DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").run(nonce, now).changes !== 1)
      throw new SiweError("bad-nonce", BAD_NONCE);
  }

  /**
   * Whether the chain says `signature` is `wallet`'s (ERC-1271, ERC-6492), within `signatureTimeoutMs`. A check that outlives its deadline still counts against
   * `maxPendingSignatureChecks` until the chain answers, so a hanging RPC cannot pile up calls.
   */
  async #chainSaysValid(wallet: Address, message: string, signature: Hex): Promise<boolean> {
    this.#pendingChecks += 1;
    const check = this.#p.client
      .verifyMessage({ address: wallet, message, signature })
      .then(
        (valid) => ({ valid }),
        (error: unknown) => ({ error }),
      )
      .finally(() => {
        this.#pendingChecks -= 1;
      });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(resolve, this.#p.signatureTimeoutMs, "timeout");
    });
    try {
      const outcome = await Promise.race([check, deadline]);
      if (outcome === "timeout")
        throw new SiweUnavailableError(
          `the chain did not answer the signature check within ${this.#p.signatureTimeoutMs} ms: ask for a new nonce and try again`,
        );
      if ("error" in outcome)
        throw new SiweUnavailableError(
          `the signature could not be checked (${(outcome.error as Error).message?.split("\n")[0]}): ask for a new nonce and try again`,
          { cause: outcome.error },
        );
      return outcome.valid;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Whether `signature` is a plain ECDSA signature of `message` by the key of `address` (computed locally). */
async function recoversTo(address: Address, message: string, signature: Hex): Promise<boolean> {
  try {
    return isAddressEqual(await recoverMessageAddress({ message, signature }), address);
  } catch {
    return false; // not a 65-byte ECDSA signature: a smart wallet's, for the chain to check
  }
}

/** Unix seconds of a message's time field; an unparseable one makes the message invalid (NaN passes no check). */
function secondsOf(date: Date, field: string): number {
  const time = date.getTime();
  if (!Number.isFinite(time)) throw new SiweError("invalid-message", `the message's ${field} is not an ISO 8601 date`);
  return Math.floor(time / 1000);
}

function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** `text` as an http(s) URL, or undefined when it is not one. */
function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}
