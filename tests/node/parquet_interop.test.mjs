// Parquet interop: files written by the collator's writer (through
// tests/tools/parquet_gen, for every codec, dictionary/plain, null pattern,
// REQUIRED/OPTIONAL, row-group/page layout and the SMS schema) must read
// back with exactly the generated values in DuckDB, parquet-wasm (arrow-rs),
// hyparquet and `collator cat`. Timestamps are compared at the precision each
// reader gives (hyparquet: JS Dates, milliseconds rounded toward zero).
// Also covers the cat/schema CLI.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildParquetGen } from './lib/build.mjs';
import { duckdbClose } from './lib/duckdb.mjs';
import { parseJsonLines, runCollator } from './lib/collator.mjs';
import {
  canonicalValue, duckdbTimestampPrecision, readWithCollator, readWithDuckdb, readWithHyparquet,
  readWithParquetWasm,
} from './lib/parquet_readers.mjs';

const KIND = {
  bool: 'bool', int32: 'int32', int64: 'int64', float: 'float', double: 'double',
  string: 'string', binary: 'binary', ts_micros: 'timestamp', ts_int96: 'timestamp',
  ts_millis: 'timestamp', ts_nanos: 'timestamp', date: 'date', int8: 'int32', uint16: 'int32',
  uint32: 'int32', uint64: 'int64', fixed4: 'binary', null: 'int32',
};

const workDir = mkdtempSync(path.join(os.tmpdir(), 'collator-interop-'));
after(async () => {
  await duckdbClose();
  rmSync(workDir, { recursive: true, force: true });
});

let cases = [];
let setupError = null;
try {
  const gen = buildParquetGen();
  const out = execFileSync(gen, [workDir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  cases = out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
} catch (e) {
  setupError = e;
}

// The generated value in canonical form (see canonicalValue): generated
// binary is already hex and timestamps are microseconds.
function expectedValue(value, type, precision, truncate) {
  const kind = KIND[type];
  if (value === null) return null;
  if (kind === 'binary') return value;
  if (type === 'ts_nanos') return canonicalValue({ nanos: BigInt(value) }, 'timestamp', { precision, truncate });
  if (kind === 'timestamp') return canonicalValue({ micros: BigInt(value) }, 'timestamp', { precision, truncate });
  return canonicalValue(value, kind);
}

// Compare one column and report the first differing rows, not a huge diff.
function assertColumn(actual, expected, label) {
  assert.equal(actual.length, expected.length, `${label}: row count`);
  const bad = [];
  for (let i = 0; i < expected.length; i++) {
    try {
      assert.deepStrictEqual(actual[i], expected[i]);
    } catch {
      bad.push(i);
    }
  }
  if (bad.length) {
    const show = bad.slice(0, 5).map((i) => `row ${i}: got ${JSON.stringify(actual[i])}, expected ${JSON.stringify(expected[i])}`);
    assert.fail(`${label}: ${bad.length} of ${expected.length} values differ\n  ${show.join('\n  ')}`);
  }
}

// precision: the timestamp precision of the reader ('ms', 'us', 'ns'), or a
// function of the column name when it differs per column (DuckDB).
function checkReader(c, got, { precision, truncate = false, label }) {
  const names = c.columns.map((col) => col.name);
  if (c.rows > 0 || got.names.length) assert.deepStrictEqual(got.names, names, `${label}: column names`);
  for (const col of c.columns) {
    const kind = KIND[col.type];
    const p = typeof precision === 'function' ? precision(col.name) : precision;
    const actual = (got.columns[col.name] || []).map((v) => canonicalValue(v, kind, { precision: p, truncate }));
    const expected = c.values[col.name].map((v) => expectedValue(v, col.type, p, truncate));
    assertColumn(actual, expected, `${c.file} ${label} ${col.name} (${col.type})`);
  }
}

test('parquet_gen builds and writes every case', () => {
  assert.equal(setupError, null, setupError && String(setupError.stderr || setupError.message));
  assert.ok(cases.length >= 15, `only ${cases.length} cases`);
});

for (const c of cases) {
  const file = path.join(workDir, c.file);
  describe(`interop ${c.case} (${c.codec}, ${c.rows} rows, ${c.row_groups} row groups)`, () => {
    test('DuckDB', async () => {
      const got = await readWithDuckdb(file);
      // DuckDB reads TIMESTAMP(NANOS) as microseconds rounded toward zero.
      checkReader(c, got, { precision: (name) => duckdbTimestampPrecision(got.types[name]), truncate: true, label: 'duckdb' });
    });
    test('parquet-wasm (arrow-rs)', () => {
      checkReader(c, readWithParquetWasm(file), { precision: 'ns', label: 'parquet-wasm' });
    });
    test('hyparquet', async () => {
      checkReader(c, await readWithHyparquet(file, { utf8: false }), { precision: 'ms', truncate: true, label: 'hyparquet' });
    });
    test('collator cat --format jsonl', () => {
      const got = readWithCollator(file);
      assert.equal(got.rows.length, c.rows, 'row count');
      checkReader(c, got, { precision: 'ns', label: 'collator' });
    });
    test('collator schema', () => {
      const r = runCollator(['schema', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^rows: ${c.rows}$`, 'm'));
      assert.match(r.stdout, new RegExp(`^row groups: ${c.row_groups}$`, 'm'));
      for (const col of c.columns) assert.ok(r.stdout.includes(`. ${col.name}: `), `column ${col.name} listed`);
      assert.match(r.stdout, new RegExp(`case: ${c.case}`));
    });
  });
}

// A small RFC 4180 parser: records of fields, CRLF between records.
function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { record.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i += 2; continue; }
    field += ch; i++;
  }
  assert.equal(field, '', 'CSV ends with CRLF');
  assert.equal(record.length, 0, 'CSV ends with CRLF');
  return records;
}

describe('collator cat formats and usage', () => {
  const pick = (name) => cases.find((c) => c.case === name);

  test('--format csv is RFC 4180 with a header and matches jsonl', () => {
    const c = pick('mixed_snappy');
    const file = path.join(workDir, c.file);
    const r = runCollator(['cat', '--format', 'csv', file]);
    assert.equal(r.status, 0, r.stderr);
    const records = parseCsv(r.stdout);
    assert.deepStrictEqual(records[0], c.columns.map((col) => col.name));
    assert.equal(records.length, c.rows + 1);
    // Text columns: CSV holds the exact string, null is the empty field and
    // the empty string is "".
    const k = records[0].indexOf('text_unique');
    c.values.text_unique.forEach((v, row) => assert.equal(records[row + 1][k], v ?? ''));
    const lines = r.stdout.split('\r\n');
    const textColumn = records[0].indexOf('text');
    const emptyRow = c.values.text.findIndex((v) => v === '');
    const nullRow = c.values.text.findIndex((v) => v === null);
    assert.ok(emptyRow >= 0 && nullRow >= 0, 'the case has an empty and a null text');
    assert.equal(records[emptyRow + 1][textColumn], '');
    assert.ok(lines[emptyRow + 1].includes('""'), lines[emptyRow + 1]);
    const t = records[0].indexOf('ts_micros');
    c.values.ts_micros.forEach((v, row) => {
      if (v === null) assert.equal(records[row + 1][t], '');
      else assert.equal(canonicalValue(records[row + 1][t], 'timestamp'), v);
    });
  });

  test('--format table aligns columns and cuts long cells', () => {
    const c = pick('sms_int96_snappy');
    const r = runCollator(['cat', '--format', 'table', '--columns', 'user_id,id,message_body,datetime',
      path.join(workDir, c.file)]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, c.rows + 2);
    assert.match(lines[0], /^user_id +\| id +\| message_body +\| datetime/);
    assert.match(lines[1], /^-+-\+-/);
    const bar = lines[0].indexOf('| id');
    for (const line of lines.slice(2, 50)) assert.equal(line.indexOf('|'), bar, line);
  });

  test('--columns projects and orders columns', () => {
    const c = pick('mixed_zstd');
    const got = readWithCollator(path.join(workDir, c.file), ['ts_int96', 'i64']);
    assert.deepStrictEqual(got.names, ['ts_int96', 'i64']);
    assert.deepStrictEqual(got.columns.i64.map((v) => canonicalValue(v, 'int64')), c.values.i64);
  });

  test('a key in a store (--store DIR)', () => {
    const c = pick('sms_micros_snappy');
    const store = path.join(workDir, 'store');
    const key = 'collated_logs/current/sms_log/user=7/logs.parquet';
    mkdirSync(path.dirname(path.join(store, key)), { recursive: true });
    copyFileSync(path.join(workDir, c.file), path.join(store, key));
    const fromStore = runCollator(['cat', '--store', store, key]);
    const local = runCollator(['cat', path.join(store, key)]);
    assert.equal(fromStore.status, 0, fromStore.stderr);
    assert.equal(fromStore.stdout, local.stdout);
    assert.equal(parseJsonLines(fromStore.stdout).length, c.rows);
    const schema = runCollator(['schema', '--store', store, key]);
    assert.equal(schema.status, 0, schema.stderr);
    assert.match(schema.stdout, new RegExp(`^rows: ${c.rows}$`, "m"));
    const missing = runCollator(['cat', '--store', store, 'no/such/key.parquet']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no\/such\/key\.parquet/);
  });

  test('usage errors exit 2, unreadable files exit 1 naming the file', () => {
    const file = path.join(workDir, pick('mixed_none').file);
    for (const args of [['cat'], ['cat', '--format', 'xml', file], ['cat', '--bogus', file],
      ['cat', file, file], ['cat', '--columns', 'nope', file], ['cat', '--columns', 'i64,i64', file],
      ['cat', '--columns', '', file], ['cat', '--columns', 'i64,', file],
      ['schema'], ['schema', '--bogus', file]]) {
      const r = runCollator(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
    const missing = path.join(workDir, 'missing.parquet');
    for (const cmd of ['cat', 'schema']) {
      const r = runCollator([cmd, missing]);
      assert.equal(r.status, 1);
      assert.ok(r.stderr.includes(missing), r.stderr);
    }
    const notParquet = path.join(workDir, 'not.parquet');
    writeFileSync(notParquet, 'hello, this is not parquet at all');
    for (const cmd of ['cat', 'schema']) {
      const r = runCollator([cmd, notParquet]);
      assert.equal(r.status, 1);
      assert.ok(r.stderr.includes(notParquet), r.stderr);
    }
  });
});

// Damaged copies of our own files: truncated anywhere, or with a byte
// flipped in the footer or the pages. cat and schema may succeed (a flip in
// a value) or refuse (exit 1, naming the file), but never crash or hang.
describe('damaged files are refused cleanly', () => {
  const damaged = [];
  const source = cases.find((c) => c.case === 'mixed_snappy');
  if (source) {
    const bytes = readFileSync(path.join(workDir, source.file));
    let seed = 12345;
    const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (const cut of [0, 3, 4, 100, bytes.length >> 1, bytes.length - 9, bytes.length - 8, bytes.length - 1]) {
      damaged.push({ name: `truncated at ${cut}`, data: bytes.subarray(0, cut) });
    }
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    for (let i = 0; i < 16; i++) {
      const copy = Buffer.from(bytes);
      const inFooter = i % 2 === 0;
      const at = inFooter ? bytes.length - 8 - 1 - random(footerLength) : 4 + random(bytes.length - 12 - footerLength);
      copy[at] ^= 1 << random(8);
      damaged.push({ name: `bit flipped at ${at}${inFooter ? ' (footer)' : ''}`, data: copy });
    }
  }
  for (const { name, data } of damaged) {
    test(name, () => {
      const file = path.join(workDir, `damaged-${name.replace(/\W+/g, '_')}.parquet`);
      writeFileSync(file, data);
      for (const args of [['cat', file], ['cat', '--format', 'csv', file], ['schema', file]]) {
        const r = runCollator(args, { timeout: 20000 });
        assert.ok(!r.timedOut, `${args[0]} timed out`);
        assert.equal(r.signal, null, `${args.join(' ')}: killed by ${r.signal}`);
        assert.ok(r.status === 0 || r.status === 1, `${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
        if (r.status === 1) assert.ok(r.stderr.includes(file), r.stderr);
      }
    });
  }
});
