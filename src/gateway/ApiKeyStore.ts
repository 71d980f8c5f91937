import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { statementCache } from "./statementCache.ts";

/** What a key's owner sees of it: never the key itself after creation, never its hash or secret. */
export interface ApiKeyInfo {
  id: string;
  wallet: string;
  name: string;
  /** The first characters of the key, to recognise it (`tmai_AbCdEf12…`). */
  prefix: string;
  scopes: string[];
  signed: boolean;
  createdAt: number;
  /** Unix seconds; absent when the key does not expire. */
  expiresAt?: number;
  revokedAt?: number;
}

/** A new key: `key` (and `secret` for a signed key) are shown once and never stored in clear. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
  secret?: string;
}

export interface CreateKeyParameters {
  name: string;
  /** The route scopes the key may call (see the plans file); none (the default) means every route. */
  scopes?: string[];
  expiresAt?: number;
  signed?: boolean;
}

export type AuthenticationResult =
  | { ok: true; key: ApiKeyInfo }
  | { ok: false; reason: "unknown" | "revoked" | "expired" };

interface KeyRow {
  id: string;
  wallet: string;
  name: string;
  prefix: string;
  scopes: string;
  signed: number;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  secret: string | null;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The wallet already holds as many live keys as allowed. */
export class KeyLimitError extends Error {
  override name = "KeyLimitError";
}

export interface ApiKeyStoreOptions {
  /** Keys neither revoked nor expired a wallet may hold at once (default 100); a rotation counts its new key. */
  maxLivePerWallet?: number;
}

/**
 * API keys per wallet in SQLite. A key is `tmai_` + 192 random bits (base64url); only its SHA-256 and a short
 * display prefix are stored. Several active keys per wallet; revocation is immediate; rotation issues a key with
 * the same settings and lets the old one work until a grace period ends. A signed key's HMAC secret is stored
 * encrypted with AES-256-GCM under the master key (never hashed: the gateway needs it to check signatures).
 */
export class ApiKeyStore {
  readonly #sql: (sql: string) => StatementSync;
  readonly #masterKey: Buffer;
  readonly #maxLive: number;

  /** @param masterKey 32 bytes (e.g. from the environment, base64), used to encrypt signed keys' secrets. */
  constructor(db: DatabaseSync, masterKey: Buffer, options: ApiKeyStoreOptions = {}) {
    if (masterKey.length !== 32) throw new RangeError("the master key must be 32 bytes (AES-256)");
    this.#sql = statementCache(db);
    this.#masterKey = masterKey;
    this.#maxLive = options.maxLivePerWallet ?? 100;
    db.exec(`
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, wallet TEXT NOT NULL, name TEXT NOT NULL, prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, signed INTEGER NOT NULL, created_at INTEGER NOT NULL,
        expires_at INTEGER, revoked_at INTEGER, secret TEXT);
      CREATE INDEX IF NOT EXISTS api_keys_wallet ON api_keys (wallet);
    `);
  }

  /** A new key for `wallet`; throws `KeyLimitError` when the wallet already holds `maxLivePerWallet` live keys. */
  create(wallet: string, parameters: CreateKeyParameters, now: number): CreatedApiKey {
    this.#checkLimit(wallet, now, 0);
    return this.#insert(wallet, parameters, now);
  }

  /** Refuses a new key when the wallet's live keys, less `replacing` (a key being rotated out), reach the limit. */
  #checkLimit(wallet: string, now: number, replacing: number) {
    const { live } = this.#sql(
      "SELECT count(*) AS live FROM api_keys WHERE wallet = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
    ).get(wallet.toLowerCase(), now) as { live: number };
    if (live - replacing >= this.#maxLive)
      throw new KeyLimitError(
        `the wallet already holds ${live} live keys, the most allowed is ${this.#maxLive}: revoke one (DELETE /v1/keys/:id) first`,
      );
  }

  #insert(wallet: string, parameters: CreateKeyParameters, now: number): CreatedApiKey {
    const key = `tmai_${randomBytes(24).toString("base64url")}`;
    const id = randomBytes(8).toString("hex");
    const secret = parameters.signed ? randomBytes(32).toString("base64url") : undefined;
    const row: KeyRow = {
      id,
      wallet: wallet.toLowerCase(),
      name: parameters.name,
      prefix: key.slice(0, 13),
      scopes: JSON.stringify(parameters.scopes ?? []),
      signed: secret ? 1 : 0,
      created_at: now,
      expires_at: parameters.expiresAt ?? null,
      revoked_at: null,
      secret: secret ? this.#encrypt(secret) : null,
    };
    this.#sql(
      "INSERT INTO api_keys (id, wallet, name, prefix, hash, scopes, signed, created_at, expires_at, revoked_at, secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      row.id,
      row.wallet,
      row.name,
      row.prefix,
      sha256(key),
      row.scopes,
      row.signed,
      row.created_at,
      row.expires_at,
      null,
      row.secret,
    );
    return { ...toInfo(row), key, ...(secret ? { secret } : {}) };
  }

  list(wallet: string): ApiKeyInfo[] {
    const rows = this.#sql("SELECT * FROM api_keys WHERE wallet = ? ORDER BY created_at, id").all(
      wallet.toLowerCase(),
    ) as unknown as KeyRow[];
    return rows.map(toInfo);
  }

  /** Revokes the wallet's key `id` at once; false when the wallet has no such key. */
  revoke(wallet: string, id: string, now: number): boolean {
    const result = this.#sql(
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND wallet = ? AND revoked_at IS NULL",
    ).run(now, id, wallet.toLowerCase());
    return result.changes > 0;
  }

  /**
   * A new key with the settings of `id`; the old one keeps working for `graceSeconds` (then expires). Undefined
   * when the wallet has no such live key.
   */
  rotate(wallet: string, id: string, graceSeconds: number, now: number): CreatedApiKey | undefined {
    const old = this.#sql("SELECT * FROM api_keys WHERE id = ? AND wallet = ? AND revoked_at IS NULL").get(
      id,
      wallet.toLowerCase(),
    ) as KeyRow | undefined;
    if (old === undefined || (old.expires_at !== null && old.expires_at <= now)) return undefined;
    this.#checkLimit(wallet, now, 1);
    const graceEnd = now + graceSeconds;
    const created = this.#insert(
      wallet,
      {
        name: old.name,
        scopes: JSON.parse(old.scopes) as string[],
        signed: old.signed === 1,
        ...(old.expires_at === null ? {} : { expiresAt: old.expires_at }),
      },
      now,
    );
    const oldEnd = old.expires_at === null || old.expires_at > graceEnd ? graceEnd : old.expires_at;
    this.#sql("UPDATE api_keys SET expires_at = ? WHERE id = ?").run(oldEnd, id);
    return created;
  }

  /** The key presented by a client, if it is known, not revoked and not expired at `now`. */
  authenticate(key: string, now: number): AuthenticationResult {
    const row = this.#sql("SELECT * FROM api_keys WHERE hash = ?").get(sha256(key)) as KeyRow | undefined;
    if (row === undefined) return { ok: false, reason: "unknown" };
    if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
    if (row.expires_at !== null && row.expires_at <= now) return { ok: false, reason: "expired" };
    return { ok: true, key: toInfo(row) };
  }

  /** Deletes keys revoked or expired before `before` (Unix seconds): their usage can no longer be asked for. */
  prune(before: number): number {
    return Number(
      this.#sql(
        "DELETE FROM api_keys WHERE (revoked_at IS NOT NULL AND revoked_at < ?) OR (expires_at IS NOT NULL AND expires_at < ?)",
      ).run(before, before).changes,
    );
  }

  /** The HMAC secret of signed key `id`, decrypted. */
  secretOf(id: string): string | undefined {
    const row = this.#sql("SELECT secret FROM api_keys WHERE id = ?").get(id) as { secret: string | null } | undefined;
    return row?.secret ? this.#decrypt(row.secret) : undefined;
  }

  #encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#masterKey, iv);
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url")).join(".");
  }

  #decrypt(stored: string): string {
    const [iv, tag, body] = stored.split(".").map((part) => Buffer.from(part, "base64url"));
    if (!iv || !tag || !body) throw new Error("corrupted secret");
    const decipher = createDecipheriv("aes-256-gcm", this.#masterKey, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  }
}

function toInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    wallet: row.wallet,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as string[],
    signed: row.signed === 1,
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}
