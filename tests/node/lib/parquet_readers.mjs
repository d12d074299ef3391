// parquet_readers: read one Parquet file with each independent reader
// (DuckDB, parquet-wasm/arrow-rs, hyparquet) and with `collator cat`, and
// bring every reader's values to one canonical form so they can be compared
// with assert.deepStrictEqual.
//
// Each read* function returns { names, columns } where columns maps a column
// name to the array of its raw values as that reader gives them; the
// canonicalValue() function below is the one place where representation
// differences are normalised.
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as parquetWasm from 'parquet-wasm/node';
import { duckdbQuery, sqlString } from './duckdb.mjs';
import { parseJsonLines, runCollator } from './collator.mjs';

export async function readWithDuckdb(file, columns) {
  const select = columns ? columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ') : '*';
  const r = await duckdbQuery(`SELECT ${select} FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`);
  const out = {};
  r.names.forEach((name, k) => { out[name] = r.rows.map((row) => row[k]); });
  const types = {};
  r.names.forEach((name, k) => { types[name] = r.types[k]; });
  return { names: r.names, types, columns: out };
}

// Arrow's get() turns timestamps into float milliseconds; the raw int64 in
// the column's unit is read instead so no precision is lost.
const ARROW_UNIT_NANOS = [1000000000n, 1000000n, 1000n, 1n]; // SECOND, MILLISECOND, MICROSECOND, NANOSECOND

export function readWithParquetWasm(file) {
  const bytes = new Uint8Array(readFileSync(file));
  const table = tableFromIPC(parquetWasm.readParquet(bytes).intoIPCStream());
  const out = {};
  const names = table.schema.fields.map((f) => f.name);
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name);
    const values = [];
    if (String(field.type) === 'Date32<DAY>') {
      // get() gives milliseconds as a Number; the raw int32 is the day.
      for (const data of vector.data) {
        for (let i = 0; i < data.length; i++) values.push(data.getValid(i) ? { days: data.values[data.offset + i] } : null);
      }
    } else if (String(field.type).startsWith('Timestamp')) {
      const scale = ARROW_UNIT_NANOS[field.type.unit];
      for (const data of vector.data) {
        for (let i = 0; i < data.length; i++) {
          values.push(data.getValid(i) ? { nanos: BigInt(data.values[data.offset + i]) * scale } : null);
        }
      }
    } else {
      for (let i = 0; i < vector.length; i++) values.push(vector.get(i));
    }
    out[field.name] = values;
  }
  return { names, columns: out };
}

export async function readWithHyparquet(file, { utf8 = false } = {}) {
  const bytes = readFileSync(file);
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(arrayBuffer);
  const names = metadata.schema.slice(1).map((e) => e.name);
  const rows = await parquetReadObjects({ file: arrayBuffer, compressors, utf8 });
  const out = {};
  for (const name of names) out[name] = rows.map((row) => row[name]);
  return { names, columns: out };
}

// `collator cat --format jsonl`, parsed without losing int64 precision.
export function readWithCollator(file, columns) {
  const args = ['cat', '--format', 'jsonl'];
  if (columns) args.push('--columns', columns.join(','));
  args.push(file);
  const r = runCollator(args);
  if (r.status !== 0) {
    throw new Error(`collator cat ${file} exited ${r.status} (signal ${r.signal}): ${r.stderr}`);
  }
  const rows = parseJsonLines(r.stdout);
  const names = rows.length ? Object.keys(rows[0]) : columns || [];
  const out = {};
  for (const name of names) out[name] = rows.map((row) => row[name]);
  return { names, columns: out, rows };
}

const TIMESTAMP_RE = /^(-?\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{6}|\d{9}))?$/;
const DATE_RE = /^(-?\d{4,})-(\d\d)-(\d\d)$/;

function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (setUTCFullYear, unlike
// Date.UTC, takes years 0..99 literally).
function daysFromCivil(y, m, d) {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return BigInt(Math.round(date.getTime() / 86400000));
}

function bytesOf(value) {
  if (value instanceof Uint8Array) return value;
  if (value && value.bytes instanceof Uint8Array) return value.bytes; // DuckDBBlobValue
  if (value && typeof value.base64 === 'string') return Buffer.from(value.base64, 'base64'); // collator cat
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new TypeError(`not binary: ${describe(value)}`);
}

function describe(value) {
  if (typeof value === 'bigint') return `${value}n`;
  try { return JSON.stringify(value) ?? String(value); } catch { return String(value); }
}

// A timestamp in nanoseconds since the epoch (BigInt) from any reader.
function timestampNanos(value) {
  if (value instanceof Date) return BigInt(value.getTime()) * 1000000n; // hyparquet: milliseconds
  if (typeof value === 'object' && value !== null) {
    if ('nanos' in value) return BigInt(value.nanos); // DuckDB TIMESTAMP_NS, parquet-wasm raw
    if ('micros' in value) return BigInt(value.micros) * 1000n; // DuckDB TIMESTAMP(_TZ)
    if ('millis' in value) return BigInt(value.millis) * 1000000n; // DuckDB TIMESTAMP_MS
    if ('seconds' in value) return BigInt(value.seconds) * 1000000000n; // DuckDB TIMESTAMP_S
  }
  if (typeof value === 'string') { // collator cat
    const m = TIMESTAMP_RE.exec(value);
    if (!m) throw new TypeError(`not a timestamp: ${value}`);
    const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
    const seconds = days * 86400n + BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
    const fraction = m[7] ? BigInt(m[7].padEnd(9, '0')) : 0n;
    return seconds * 1000000000n + fraction;
  }
  throw new TypeError(`not a timestamp: ${describe(value)}`);
}

const PRECISION_NANOS = { s: 1000000000n, ms: 1000000n, us: 1000n, ns: 1n };

/*
 * canonicalValue(value, kind, options): the one normalisation of reader
 * output. kind is the column's kind:
 *   bool, int32, int64, float, double, string, binary, timestamp, date,
 *   decimal (unscaled integer), other.
 * Canonical forms: null; booleans; int32 as Number; int64 and decimal as a
 * decimal string (BigInt, Number and numeric strings accepted); float and
 * double as Number with NaN/Infinity/-Infinity as those strings (float is
 * rounded to float32, because JSON carries the shortest float32 digits while
 * other readers widen to double); string as string; binary as lower-case hex
 * (Uint8Array, Buffer, DuckDBBlobValue, {"base64"} or a UTF-8 string);
 * timestamps as a decimal string of units of options.precision ('ms', 'us',
 * 'ns'; floored, so the coarser of two readers can be compared, or with
 * options.truncate rounded toward zero, as hyparquet's BigInt division
 * does before it builds a Date and as DuckDB turns TIMESTAMP(NANOS) into
 * its microsecond TIMESTAMP), from JS
 * Dates, DuckDB timestamp values, raw nanoseconds or collator's
 * "YYYY-MM-DD HH:MM:SS.ffffff"; dates as days since 1970-01-01 (Number,
 * from a day count, {days}, a JS Date or "YYYY-MM-DD").
 */
export function canonicalValue(value, kind, { precision = 'us', truncate = false } = {}) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bool':
      // Readers give booleans; 0/1 or "true"/"false" would hide a wrong type.
      if (typeof value !== 'boolean') throw new Error(`not a boolean: ${JSON.stringify(value)}`);
      return value;
    case 'int32':
      return Number(value);
    case 'int64':
      return BigInt(value).toString();
    case 'decimal': {
      if (value && typeof value === 'object' && 'scale' in value) return BigInt(value.value).toString(); // DuckDBDecimalValue
      if (typeof value === 'bigint' || typeof value === 'number') return BigInt(value).toString();
      const bytes = bytesOf(value); // big-endian two's complement
      let n = 0n;
      for (const b of bytes) n = (n << 8n) | BigInt(b);
      if (bytes.length && bytes[0] & 0x80) n -= 1n << BigInt(bytes.length * 8);
      return n.toString();
    }
    case 'float':
    case 'double': {
      const n = typeof value === 'string' ? Number(value) : Number(value);
      if (Number.isNaN(n)) return 'NaN';
      if (n === Infinity) return 'Infinity';
      if (n === -Infinity) return '-Infinity';
      return kind === 'float' ? Math.fround(n) : n;
    }
    case 'string':
      if (typeof value === 'string') return value;
      return new TextDecoder('utf-8', { fatal: true }).decode(bytesOf(value));
    case 'binary':
      return Buffer.from(bytesOf(value)).toString('hex');
    case 'timestamp':
      return truncate
        ? (timestampNanos(value) / PRECISION_NANOS[precision]).toString()
        : floorDiv(timestampNanos(value), PRECISION_NANOS[precision]).toString();
    case 'date': {
      if (typeof value === 'number') return value; // already days
      if (value instanceof Date) return Math.floor(value.getTime() / 86400000);
      if (typeof value === 'object' && 'days' in value) return Number(value.days);
      const m = DATE_RE.exec(value);
      if (!m) throw new TypeError(`not a date: ${describe(value)}`);
      return Number(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])));
    }
    default:
      return describe(value);
  }
}

// The column kind of a DuckDB type name, for canonicalValue().
export function kindOfDuckdbType(type) {
  if (type === 'BOOLEAN') return 'bool';
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT'].includes(type)) return 'int32';
  if (['BIGINT', 'UINTEGER', 'UBIGINT', 'HUGEINT', 'UHUGEINT'].includes(type)) return 'int64';
  if (type === 'FLOAT') return 'float';
  if (type === 'DOUBLE') return 'double';
  if (type === 'VARCHAR') return 'string';
  if (type === 'BLOB') return 'binary';
  if (type === 'DATE') return 'date';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  if (type.startsWith('DECIMAL')) return 'decimal';
  return 'other';
}

// The precision a DuckDB timestamp type carries.
export function duckdbTimestampPrecision(type) {
  if (type === 'TIMESTAMP_NS') return 'ns';
  if (type === 'TIMESTAMP_MS') return 'ms';
  if (type === 'TIMESTAMP_S') return 's';
  return 'us';
}
