// duckdb: one shared in-process DuckDB (single-threaded, in memory) for
// tests that need a reference Parquet reader or writer.
//
//   const { names, types, rows } = await duckdbQuery('SELECT ...');
//
// rows are arrays of DuckDB's own JS values (bigint for BIGINT,
// DuckDBTimestampValue {micros}, DuckDBBlobValue {bytes}, ...); types are
// the DuckDB type names ("BIGINT", "TIMESTAMP_NS", "DECIMAL(9,2)").
// sqlString() quotes a literal, e.g. a path for read_parquet().
import { DuckDBInstance } from '@duckdb/node-api';

let connectionPromise = null;

function connection() {
  if (!connectionPromise) {
    connectionPromise = DuckDBInstance.create(':memory:', { threads: '1' }).then((db) => db.connect());
  }
  return connectionPromise;
}

export async function duckdbQuery(sql) {
  const con = await connection();
  const reader = await con.runAndReadAll(sql);
  return {
    names: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: reader.getRows(),
  };
}

export function sqlString(text) {
  return `'${String(text).replaceAll("'", "''")}'`;
}

// Close the shared connection so that node:test can exit promptly.
export async function duckdbClose() {
  if (!connectionPromise) return;
  const con = await connectionPromise;
  connectionPromise = null;
  con.closeSync();
}
