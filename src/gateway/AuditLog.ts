import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Logger } from "pino";
import { statementCache } from "./statementCache.ts";

/** What the audit log records: key lifecycle and refused authentications. */
export type AuditEvent = "key.created" | "key.rotated" | "key.revoked" | "auth.failed";

export interface AuditEntry {
  at: number;
  event: AuditEvent;
  wallet: string | null;
  keyId: string | null;
  /** The cause or context (e.g. `siwe-bad-signature`, `key-revoked`, the client's address); never a key or secret. */
  detail: string;
}

/**
 * The audit log: one SQLite row and one `audit` log line per event. Callers pass identifiers only (key ids and
 * display prefixes, wallets, causes) — never a key, a secret or a session token.
 */
export class AuditLog {
  readonly #sql: (sql: string) => StatementSync;
  readonly #logger: Logger | undefined;

  constructor(db: DatabaseSync, logger?: Logger) {
    db.exec(`CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL,
      wallet TEXT, key_id TEXT, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);`);
    this.#sql = statementCache(db);
    this.#logger = logger;
  }

  record(entry: AuditEntry): void {
    this.#sql("INSERT INTO audit_log (at, event, wallet, key_id, detail) VALUES (?, ?, ?, ?, ?)").run(
      entry.at,
      entry.event,
      entry.wallet,
      entry.keyId,
      entry.detail,
    );
    this.#logger?.info({ audit: entry }, entry.event);
  }

  /** Deletes the entries older than `before` (Unix seconds); returns how many. */
  prune(before: number): number {
    return Number(this.#sql("DELETE FROM audit_log WHERE at < ?").run(before).changes);
  }

  /** The latest `limit` entries, newest first (for a wallet, or all). */
  list(wallet?: string, limit = 100): AuditEntry[] {
    const rows = (
      wallet === undefined
        ? this.#sql("SELECT at, event, wallet, key_id, detail FROM audit_log ORDER BY id DESC LIMIT ?").all(limit)
        : this.#sql(
            "SELECT at, event, wallet, key_id, detail FROM audit_log WHERE wallet = ? ORDER BY id DESC LIMIT ?",
          ).all(wallet.toLowerCase(), limit)
    ) as { at: number; event: AuditEvent; wallet: string | null; key_id: string | null; detail: string }[];
    return rows.map(({ key_id, ...row }) => ({ ...row, keyId: key_id }));
  }
}
