import type { DatabaseSync, StatementSync } from "node:sqlite";

/** `sql → prepared statement`, each prepared once per database: the request path never re-parses SQL. */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}
