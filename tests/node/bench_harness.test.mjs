// The benchmark harness checks itself: the generator is deterministic and
// writes valid uploads of every log type, measure reports what the child did,
// the DuckDB reference computes the legacy id / body_hash / normalised address
// byte for byte (legacy.md §8.4 vectors) and its anti-join drops rows the
// history has, and the Lambda start-up probe sees a client's first request.
// Figures are never asserted: a benchmark reports, it does not fail builds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';

let dir;
let gen;
let measure;
const flags = ['-std=c11', '-D_GNU_SOURCE', '-O1', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wvla'];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-harness-'));
  gen = join(dir, 'gen_uploads');
  measure = join(dir, 'measure');
  execFileSync('cc', [...flags, '-o', gen, 'bench/gen_uploads.c', '-lz']);
  execFileSync('cc', [...flags, '-o', measure, 'bench/measure.c']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function generate(args) {
  const run = spawnSync(gen, args, { maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr.toString());
  const meta = Object.fromEntries(run.stderr.toString().trim().split(' ').map((kv) => kv.split('=')));
  return { bytes: run.stdout, rows: Number(meta.rows), rawBytes: Number(meta.bytes) };
}

const expectedKeys = {
  sms_log: ['contact_id', 'datetime', 'item_id', 'message_body', 'sms_address', 'sms_type', 'thread_id'],
  call_log: ['cached_name', 'call_type', 'datetime', 'duration', 'item_id', 'phone_number'],
  contact_list: ['display_name', 'item_id', 'last_time_contacted', 'phone_numbers', 'photo_id',
    'times_contacted'],
  app_packages: ['package_name'],
};

for (const [type, keys] of Object.entries(expectedKeys)) {
  test(`gen_uploads ${type}: a JSON array of the type's objects, about the size asked`, () => {
    const { bytes, rows, rawBytes } = generate([type, '1', '42']);
    assert.equal(bytes.length, rawBytes);
    assert.ok(rawBytes >= 1 << 20 && rawBytes < (1 << 20) + 4096, `size ${rawBytes}`);
    const entries = JSON.parse(bytes.toString('utf8'));
    assert.equal(entries.length, rows);
    for (const entry of entries.slice(0, 200)) assert.deepEqual(Object.keys(entry), keys);
  });
}

test('gen_uploads: same seed same bytes, other seed other bytes, gzip of the same JSON', () => {
  const first = generate(['sms_log', '0', '7', '--rows', '300']);
  const again = generate(['sms_log', '0', '7', '--rows', '300']);
  const other = generate(['sms_log', '0', '8', '--rows', '300']);
  const zipped = generate(['sms_log', '0', '7', '--rows', '300', '--gzip']);
  assert.equal(first.rows, 300);
  assert.ok(first.bytes.equals(again.bytes));
  assert.ok(!first.bytes.equals(other.bytes));
  assert.ok(gunzipSync(zipped.bytes).equals(first.bytes));
  assert.equal(zipped.rawBytes, first.rawBytes);
});

test('gen_uploads sms_log: realistic bodies, addresses, types and item ids', () => {
  const entries = JSON.parse(generate(['sms_log', '0', '11', '--rows', '5000', '--item-base', '77'])
    .bytes.toString('utf8'));
  const lengths = entries.map((e) => [...e.message_body].length);
  assert.ok(Math.min(...lengths) >= 20 && Math.max(...lengths) <= 300,
    `body lengths ${Math.min(...lengths)}..${Math.max(...lengths)}`);
  assert.ok(entries.some((e) => /[^\x00-\x7f]/.test(e.message_body)), 'some non-ASCII bodies');
  assert.ok(entries.some((e) => /\p{Extended_Pictographic}/u.test(e.message_body)), 'some emoji');
  assert.ok(entries.some((e) => /^\+254 7\d\d \d{3} \d{3}$/.test(e.sms_address)), '+254 7xx addresses');
  assert.ok(entries.some((e) => /^[A-Za-z-]+$/.test(e.sms_address)), 'short-code senders');
  assert.deepEqual([...new Set(entries.map((e) => e.sms_type))].sort(), [1, 2]);
  assert.deepEqual(entries.map((e) => e.item_id), entries.map((_, i) => 77 + i));
  assert.ok(entries.some((e) => e.datetime % 1000 === 0) && entries.some((e) => e.datetime % 1000 !== 0));
});

test('gen_uploads: bad arguments are usage errors', () => {
  for (const args of [[], ['sms_log', '1'], ['bogus', '1', '1'], ['sms_log', 'x', '1'],
    ['sms_log', '1', '1', '--rows']]) {
    assert.equal(spawnSync(gen, args).status, 2, args.join(' '));
  }
});

test('measure: reports wall time, peak RSS and the exit status of the child', () => {
  const report = join(dir, 'measure.report');
  const run = spawnSync(measure, ['-o', report, '--', 'sh', '-c', 'exit 3']);
  assert.equal(run.status, 3);
  const fields = Object.fromEntries(readFileSync(report, 'utf8').trim().split(' ')
    .map((kv) => kv.split('=')));
  assert.equal(fields.exit, '3');
  assert.ok(Number(fields.wall_s) >= 0 && Number(fields.maxrss_kb) > 0);
  assert.equal(spawnSync(measure, ['-o', report, '--', join(dir, 'missing')]).status, 127);
  assert.equal(spawnSync(measure, ['-o']).status, 2);
});

async function duckdbRows(parquet) {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await connection.runAndReadAll(`SELECT id, body_hash, normalized_sms_address,
    sms_type, item_id, datetime::VARCHAR AS datetime FROM read_parquet('${parquet}') ORDER BY item_id`);
  return reader.getRowObjectsJson();
}

function collateWithDuckdb(upload, out, extra = []) {
  const stdout = execFileSync('node', ['bench/duckdb_collate.mjs', '--upload', upload, '--out', out,
    ...extra]).toString();
  assert.match(stdout, /^seconds=[0-9.]+ cpu_s=[0-9.]+ rows_written=\d+ maxrss_kb=\d+$/m);
  return Number(/rows_written=(\d+)/.exec(stdout)[1]);
}

test('duckdb_collate: the legacy SMS vectors, byte for byte', async () => {
  const upload = join(dir, 'vectors.json');
  writeFileSync(upload, JSON.stringify([
    { contact_id: 0, datetime: 1487722326477, item_id: 122, message_body: 'Jambo people',
      sms_address: '+075 40269 68', sms_type: 6, thread_id: 32 },
  ]));
  assert.equal(collateWithDuckdb(upload, join(dir, 'vectors.parquet'), ['--user', '123', '--device', '456']), 1);
  assert.deepEqual(await duckdbRows(join(dir, 'vectors.parquet')), [{
    id: '1846170e2c6acd9e66f747148519ec34', body_hash: '2e962e16e56aaed080779ea915252cb2',
    normalized_sms_address: '0754026968', sms_type: 'queued', item_id: '122',
    datetime: '2017-02-22 00:12:06.477',
  }]);
  // Seconds, no body, no address: the pre-image ends "...:7:" (empty body_hash kept).
  writeFileSync(upload, JSON.stringify([{ datetime: 1528237005, item_id: 7 }]));
  assert.equal(collateWithDuckdb(upload, join(dir, 'seconds.parquet'), ['--user', '100', '--device', '1']), 1);
  const [row] = await duckdbRows(join(dir, 'seconds.parquet'));
  assert.equal(row.id, 'd1b3ba89e2a2bc553e212b652edb4fc5');
});

test('duckdb_collate: duplicates written once, history rows anti-joined away', async () => {
  const upload = join(dir, 'sms.json');
  const entries = JSON.parse(generate(['sms_log', '0', '5', '--rows', '400']).bytes.toString('utf8'));
  writeFileSync(upload, JSON.stringify([...entries, ...entries.slice(0, 50)]));
  const history = join(dir, 'history.parquet');
  assert.equal(collateWithDuckdb(upload, history), 400);
  assert.equal(collateWithDuckdb(upload, join(dir, 'again.parquet'), ['--history', history]), 0);
  const more = join(dir, 'more.json');
  const fresh = JSON.parse(generate(['sms_log', '0', '6', '--rows', '30', '--item-base', '9000000'])
    .bytes.toString('utf8'));
  writeFileSync(more, JSON.stringify([...entries.slice(0, 10), ...fresh]));
  assert.equal(collateWithDuckdb(more, join(dir, 'more.parquet'), ['--history', history]), 30);
});

test('startup_probe: times the first invocation/next of a runtime client', () => {
  const probe = join(dir, 'startup_probe');
  execFileSync('cc', [...flags, '-o', probe, 'bench/startup_probe.c']);
  const client = join(dir, 'client.mjs');
  writeFileSync(client, '#!/usr/bin/env node\n' +
    "fetch(`http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next`);\n" +
    'setTimeout(() => {}, 10000);\n');
  chmodSync(client, 0o755);
  const ok = execFileSync(probe, ['-n', '2', '-b', '/bin/true', '--', client]).toString();
  assert.match(ok, /^startup_ms=[0-9.]+,[0-9.]+$/m);
  assert.match(ok, /^startup_cpu_ms=[0-9.]+,[0-9.]+$/m);
  assert.match(ok, /^baseline_ms=[0-9.]+,[0-9.]+$/m);
  const failing = spawnSync(probe, ['-n', '1', '--', '/bin/false']);
  assert.equal(failing.status, 1);
  assert.match(failing.stdout.toString(), /^startup_error=\/bin\/false exited with 1/m);
});

test('startup_probe -i: answers `next` with an S3 event and times the invocation\'s result', () => {
  const probe = join(dir, 'startup_probe_i');
  execFileSync('cc', [...flags, '-o', probe, 'bench/startup_probe.c']);
  const collator = resolve(process.env.COLLATOR_BIN || 'build/gcc/collator');
  const out = execFileSync(probe, ['-n', '2', '-i', '--', collator, 'lambda']).toString();
  const figures = (name) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)[1].split(',').map(Number);
  const next = figures('startup_ms');
  const invocation = figures('invocation_ms');
  assert.equal(invocation.length, 2);
  invocation.forEach((ms, run) => assert.ok(ms > next[run], `run ${run}: ${ms} ms after ${next[run]} ms`));
});
