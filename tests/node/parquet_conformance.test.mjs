// Parquet conformance: `collator cat` against the apache/parquet-testing
// files. Every file in data/ must read back value for value like DuckDB
// reads it (flat columns only: nested ones are left out with --columns);
// every file in bad_data/ must be refused with exit status 1 and a message
// naming the file, without a crash or a hang.
//
// The test data directory is $COLLATOR_TESTDATA, else ../shared/testdata
// relative to the repository root.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { duckdbClose, duckdbQuery, sqlString } from './lib/duckdb.mjs';
import { runCollator } from './lib/collator.mjs';
import {
  canonicalValue, duckdbTimestampPrecision, kindOfDuckdbType, readWithCollator, readWithDuckdb,
} from './lib/parquet_readers.mjs';

const testdata = path.resolve(process.env.COLLATOR_TESTDATA || '../shared/testdata');
const dataDir = path.join(testdata, 'parquet-testing', 'data');
const badDir = path.join(testdata, 'parquet-testing', 'bad_data');
const parquetFiles = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort() : []);

after(() => duckdbClose());

// Top-level columns that are flat leaves, from DuckDB's view of the schema
// (a struct or list is one top-level column whose type is not a scalar).
async function flatColumns(file) {
  const r = await duckdbQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`);
  const nameIdx = r.names.indexOf('column_name');
  const typeIdx = r.names.indexOf('column_type');
  return r.rows
    .map((row) => ({ name: row[nameIdx], type: row[typeIdx] }))
    .filter((c) => !/[[\]]|^STRUCT|^MAP|^UNION|^VARIANT/.test(c.type));
}

test('parquet-testing data is present', () => {
  assert.ok(parquetFiles(dataDir).length > 0, `no files in ${dataDir}`);
  assert.ok(parquetFiles(badDir).length > 0, `no files in ${badDir}`);
});

// Files in data/ that are malformed on purpose. DuckDB reads past the end
// of the column chunk the footer declares; Arrow C++ (its test calls this
// file "truncated data page") and parquet-java refuse it, and so do we:
// a page that runs past its chunk is exactly what a hostile file does.
const MALFORMED_DATA = {
  'nation.dict-malformed.parquet': 'page runs past the end of the column chunk',
};

describe('parquet-testing data/: collator cat equals DuckDB', () => {
  for (const name of parquetFiles(dataDir)) {
    if (MALFORMED_DATA[name]) {
      test(`${name} (malformed on purpose: refused)`, () => {
        const file = path.join(dataDir, name);
        const r = runCollator(['cat', '--format', 'jsonl', file], { timeout: 20000 });
        assert.equal(r.status, 1, `cat exit status, stderr: ${r.stderr}`);
        assert.ok(r.stderr.includes(file), `message names the file: ${r.stderr}`);
        assert.ok(r.stderr.includes(MALFORMED_DATA[name]), `reason: ${r.stderr}`);
      });
      continue;
    }
    test(name, () => assertSameAsDuckdb(path.join(dataDir, name), name));
  }
});

// Files in bad_data/ that broke one implementation but that every reader
// here decodes the same way: refusing them would make us stricter than
// DuckDB, arrow-rs and hyparquet, so for these cat must instead agree with
// DuckDB.
const READABLE_BAD_DATA = {
  // Dictionary indices RLE-encoded with bit width 0 (a crash in Arrow C++):
  // DuckDB, parquet-wasm and hyparquet all read 21186 zeros.
  'ARROW-GH-43605.parquet': 'bit width 0 dictionary indices',
};

// An INT96 whose instant does not fit int64 microseconds: collator prints
// its 12 raw bytes ({"base64"}), DuckDB silently wraps the arithmetic
// around (int96_from_spark.parquet has one). Accepted only when DuckDB's
// value is exactly that wrap-around of the same bytes.
function isInt96Overflow(ours, duckdb) {
  if (!ours || typeof ours.base64 !== 'string' || !duckdb || !('micros' in duckdb)) return false;
  const bytes = Buffer.from(ours.base64, 'base64');
  if (bytes.length !== 12) return false;
  const micros = (BigInt(bytes.readUInt32LE(8)) - 2440588n) * 86400000000n + bytes.readBigInt64LE(0) / 1000n;
  const fits = micros >= -(1n << 63n) && micros < (1n << 63n);
  return !fits && BigInt.asIntN(64, micros) === BigInt(duckdb.micros);
}

async function assertSameAsDuckdb(file, name) {
  const columns = await flatColumns(file);
  const names = columns.map((c) => c.name);
  if (!names.length) {
    // Only nested columns: nothing cat can print, which it must say.
    const r = runCollator(['cat', file]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no flat column/);
    return;
  }
  const reference = await readWithDuckdb(file, names);
  const ours = readWithCollator(file, names);
  const rowCount = reference.columns[names[0]].length;
  assert.equal(ours.rows.length, rowCount, 'row count');
  if (rowCount) assert.deepStrictEqual(ours.names, names, 'column order');
  for (const { name: column, type } of columns) {
    const kind = kindOfDuckdbType(type);
    const precision = kind === 'timestamp' ? duckdbTimestampPrecision(type) : undefined;
    const bad = [];
    let expected;
    let actual;
    for (let i = 0; i < rowCount; i++) {
      const theirs = reference.columns[column][i];
      const mine = ours.columns[column][i];
      if (kind === 'timestamp' && isInt96Overflow(mine, theirs)) continue;
      expected = undefined;
      try {
        // truncate: DuckDB reads TIMESTAMP(NANOS) as microseconds rounded toward zero.
        expected = canonicalValue(theirs, kind, { precision, truncate: true });
        actual = canonicalValue(mine, kind, { precision, truncate: true });
        assert.deepStrictEqual(actual, expected);
      } catch (e) {
        bad.push(`row ${i}: collator ${JSON.stringify(mine, (k, v) => (typeof v === 'bigint' ? `${v}n` : v))}, ` +
          `duckdb ${String(expected)} (${e.message.split('\n')[0]})`);
      }
    }
    if (bad.length) {
      assert.fail(`${name} column ${column} (${type}): ${bad.length} of ${rowCount} differ\n  ${bad.slice(0, 5).join('\n  ')}`);
    }
  }
}

describe('parquet-testing bad_data/: refused cleanly', () => {
  for (const name of parquetFiles(badDir)) {
    test(name, async () => {
      const file = path.join(badDir, name);
      for (const args of [['cat', '--format', 'jsonl', file], ['schema', file]]) {
        const r = runCollator(args, { timeout: 20000 });
        assert.ok(!r.timedOut, `${args[0]} timed out`);
        assert.equal(r.signal, null, `${args[0]} killed by ${r.signal}`);
        assert.ok(r.status < 128, `${args[0]} exit ${r.status}`);
        if (args[0] === 'cat' && !READABLE_BAD_DATA[name]) {
          assert.equal(r.status, 1, `cat exit status, stderr: ${r.stderr}`);
          assert.ok(r.stderr.includes(file), `message names the file: ${r.stderr}`);
        }
      }
      if (READABLE_BAD_DATA[name]) await assertSameAsDuckdb(file, name);
    });
  }
});

// One TIMESTAMP(MICROS) column holding INT64_MIN, -1 and INT64_MAX, written
// by our writer: years of six digits and a sign (the unit tests check the
// same ends under UBSan).
test('cat and schema print timestamps at both ends of int64', () => {
  const file = path.resolve('tests/fixtures/parquet/timestamps_int64_ends.parquet');
  const ends = ['-290308-12-21 19:59:05.224192', '1969-12-31 23:59:59.999999',
    '294247-01-10 04:00:54.775807'];
  const cat = runCollator(['cat', '--format', 'jsonl', file]);
  assert.equal(cat.status, 0, cat.stderr);
  assert.deepStrictEqual(cat.stdout.trim().split('\n').map((line) => JSON.parse(line).ts), ends);
  const schema = runCollator(['schema', file]);
  assert.equal(schema.status, 0, schema.stderr);
  assert.match(schema.stdout, new RegExp(`min ${ends[0]}, max ${ends[2]}, nulls 0`));
});
