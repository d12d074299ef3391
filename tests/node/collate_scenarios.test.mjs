// Collation scenarios end to end: `collator process` on a local store, the
// outputs read back by DuckDB (an independent Parquet reader) and compared
// field by field with the legacy vectors of legacy.md §8, txt byte for byte
// with tests/fixtures/collate/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, statSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const BIN = process.env.COLLATOR_BIN || 'build/gcc/collator';
const FIXTURES = 'tests/fixtures/collate';
const uploads = JSON.parse(readFileSync(`${FIXTURES}/uploads.json`, 'utf8'));
const expected = JSON.parse(readFileSync(`${FIXTURES}/expected_rows.json`, 'utf8'));
const md5 = (s) => createHash('md5').update(s).digest('hex');

let store;
let db;
let conn;

before(async () => {
  store = mkdtempSync(path.join(tmpdir(), 'collate-scenarios-'));
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});

after(() => {
  rmSync(store, { recursive: true, force: true });
});

function put(key, body) {
  const file = path.join(store, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
}

function processKeys(now, ...keys) {
  const r = spawnSync(BIN, ['process', '--store', store, '--now', now, ...keys], { encoding: 'utf8' });
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return { status: r.status, lines };
}

async function rows(key) {
  const file = path.join(store, key).replaceAll("'", "''");
  // Every column as text so that values compare exactly (timestamps to the ms).
  const described = await conn.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
  const columns = described.getRowObjectsJson().map((c) => [c.column_name, c.column_type]);
  const select = columns.map(([name, type]) =>
    type === 'BLOB' ? `decode("${name}") AS "${name}"` : `CAST("${name}" AS VARCHAR) AS "${name}"`);
  const result = await conn.runAndReadAll(
    `SELECT ${select.join(', ')} FROM read_parquet('${file}', hive_partitioning = false)`);
  return { columns, rows: result.getRowObjectsJson() };
}

const current = (type, user) => `collated_logs/current/${type}/user=${user}/logs.parquet`;
const diff = (type, day, user) => `collated_logs/diff/${type}/ts_update=${day}/user=${user}/logs.parquet`;
const txt = (type, user, device) => `collated_logs/user-${user}/device-${device}/collated_${type}.txt`;

const COLUMN_TYPES = {
  user_id: 'BIGINT', device_id: 'VARCHAR', is_deleted: 'BOOLEAN', id: 'VARCHAR', row_hash: 'VARCHAR',
  message_body: 'BLOB', thread_id: 'BIGINT', contact_id: 'BIGINT', item_id: 'BIGINT', duration: 'BIGINT',
  times_contacted: 'BIGINT',
};

// The row_hash pre-images of legacy.md, joined with ':' as Python str()
// spells each value: an oracle independent of the collator's own code.
// last_time_contacted is Python's str(datetime), not DuckDB's rendering.
const ROW_HASH_PRE_IMAGE = {
  app_packages: (w) => [w.id, 'False'],
  sms_log: (w) => [w.id, w.sms_type, w.thread_id, w.contact_id, w.normalized_sms_address, 'False'],
  call_log: (w) => [w.id, w.cached_name, w.call_type, w.normalized_phone_number, w.duration, 'False'],
  contact_list: (w) => [w.id, w.display_name, '2017-11-13 16:21:45.792000', w.times_contacted,
    w.photo_id, w.phone_numbers, 'False'],
};

for (const type of ['app_packages', 'sms_log', 'call_log', 'contact_list']) {
  test(`${type}: first upload gives the legacy id, row_hash, types and txt`, async () => {
    const key = `uploads/users/123/unknown/456/${type}/first.json`;
    put(key, JSON.stringify(uploads[type]));
    const { status, lines } = processKeys('2026-11-20T10:00:00Z', key);
    assert.equal(status, 0);
    assert.equal(lines[0].outcome, 'updated');
    assert.equal(lines[0].new_rows, 1);
    const { columns, rows: got } = await rows(current(type, 123));
    assert.equal(got.length, 1);
    for (const [name, ctype] of columns) {
      if (COLUMN_TYPES[name]) assert.equal(ctype, COLUMN_TYPES[name], name);
      if (name === 'ts_updated' || name === 'datetime' || name === 'last_time_contacted')
        assert.match(ctype, /^TIMESTAMP/, name);
    }
    const want = expected[type];
    for (const [name, value] of Object.entries(want)) assert.equal(got[0][name], value, name);
    assert.equal(got[0].ts_updated, '2026-11-20 10:00:00');
    assert.equal(got[0].row_hash, md5(ROW_HASH_PRE_IMAGE[type](want).join(':')), 'row_hash');
    const { rows: diffRows } = await rows(diff(type, '2026-11-20', 123));
    assert.deepEqual(diffRows, got);
    const wantTxt = readFileSync(`${FIXTURES}/${type === 'contact_list' ? 'contacts' : type.split('_')[0]}_first.txt`);
    assert.deepEqual(readFileSync(path.join(store, txt(type, 123, 456))), wantTxt);
  });
}

test('app_packages: deletion marker, txt [] and an unchanged replay', async () => {
  const key = 'uploads/users/123/unknown/456/app_packages/second.json';
  put(key, gzipSync(Buffer.from('[]')));
  let r = processKeys('2026-11-21T09:30:00Z', key);
  assert.equal(r.lines[0].outcome, 'updated');
  assert.equal(r.lines[0].deleted_rows, 1);
  const { rows: got } = await rows(current('app_packages', 123));
  assert.equal(got.length, 2);
  assert.equal(got[1].is_deleted, 'true');
  assert.equal(got[1].id, expected.app_packages.id);
  assert.equal(got[1].row_hash, md5(`${expected.app_packages.id}:True`));
  assert.equal(got[1].ts_updated, '2026-11-21 09:30:00');
  const { rows: diffRows } = await rows(diff('app_packages', '2026-11-21', 123));
  assert.deepEqual(diffRows, [got[1]]);
  assert.deepEqual(readFileSync(path.join(store, txt('app_packages', 123, 456))),
    readFileSync(`${FIXTURES}/app_deleted.txt`));

  const mtime = statSync(path.join(store, current('app_packages', 123))).mtimeMs;
  r = processKeys('2026-11-21T09:40:00Z', key);
  assert.equal(r.status, 0);
  assert.equal(r.lines[0].outcome, 'unchanged');
  assert.equal(statSync(path.join(store, current('app_packages', 123))).mtimeMs, mtime);
});

test('bad uploads are rejected and recorded, exit status 0', async () => {
  const bad = 'uploads/users/123/unknown/456/call_log/bad.json';
  put(bad, '[{"item_id": 1,');
  const badUser = 'uploads/users/12a/unknown/456/call_log/x.json';
  put(badUser, '[]');
  const r = processKeys('2026-11-22T08:00:00Z', bad, badUser);
  assert.equal(r.status, 0);
  assert.deepEqual(r.lines.map((l) => l.outcome), ['rejected', 'rejected']);
  const record = JSON.parse(readFileSync(path.join(store, `collated_logs/rejected/2026-11-22/${bad}.json`), 'utf8'));
  assert.equal(record.key, bad);
  assert.match(record.reason, /Expecting|line 1/);
  assert.ok(existsSync(path.join(store, `collated_logs/rejected/2026-11-22/${badUser}.json`)));
  assert.ok(!existsSync(path.join(store, diff('call_log', '2026-11-22', 123))));
});

test('a corrupt current file fails the key (exit 1) and stays as it was', async () => {
  const file = path.join(store, current('app_packages', 999));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'PAR1garbagePAR1');
  const key = 'uploads/users/999/unknown/1/app_packages/a.json';
  put(key, '[{"package_name": "x"}]');
  const r = processKeys('2026-11-22T08:00:00Z', key);
  assert.equal(r.status, 1);
  assert.equal(r.lines[0].outcome, 'failed');
  assert.match(r.lines[0].reason, /current\/app_packages\/user=999/);
  assert.equal(readFileSync(file, 'utf8'), 'PAR1garbagePAR1');
});

test('usage errors exit 2 and --help exits 0', () => {
  assert.equal(spawnSync(BIN, ['process']).status, 2);
  assert.equal(spawnSync(BIN, ['process', '--bogus', 'k']).status, 2);
  assert.equal(spawnSync(BIN, ['process', '--now', 'not-a-time', 'k']).status, 2);
  for (const command of ['process', 'event', 'lambda', 'backfill', 'cat', 'schema']) {
    const help = spawnSync(BIN, [command, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${command} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`usage: collator ${command}`));
    assert.equal(spawnSync(BIN, [command, '--bogus']).status, 2, `${command} --bogus`);
  }
  assert.equal(spawnSync(BIN, ['lambda', 'extra']).status, 2);
  // A bad setting is a usage error too (COLLATOR_LOG_LEVEL was ignored).
  const loud = spawnSync(BIN, ['cat', '--help'], { env: { ...process.env, COLLATOR_LOG_LEVEL: 'DEBUG' }, encoding: 'utf8' });
  assert.equal(loud.status, 2);
  assert.match(loud.stderr, /COLLATOR_LOG_LEVEL=DEBUG: expected debug, info, warn or error/);
  // So is an S3 attempt count that is not a number (strtol made "abc" one
  // attempt and "5x" five). The endpoint is never reached.
  for (const attempts of ['abc', '5x', '-1']) {
    const s3 = spawnSync(BIN, ['cat', '--store', 's3://bucket', 'k'], {
      env: {
        ...process.env, COLLATOR_S3_MAX_ATTEMPTS: attempts, AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b', S3_ENDPOINT: 'http://127.0.0.1:9',
      },
      encoding: 'utf8',
    });
    assert.equal(s3.status, 2, `${attempts}: ${s3.stderr}`);
    assert.match(s3.stderr, new RegExp(`COLLATOR_S3_MAX_ATTEMPTS=${attempts}: expected a non-negative integer`));
  }
});

function processAsync(now, key, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(BIN, ['process', '--store', store, '--now', now, key], {
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

test('concurrent uploads of one user lose no rows', async () => {
  const devices = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
  for (const d of devices)
    put(`uploads/users/555/unknown/${d}/app_packages/u.json`,
      JSON.stringify([{ package_name: `${d}.one` }, { package_name: `${d}.two` }]));
  const results = await Promise.all(devices.map((d) =>
    processAsync('2026-11-23T10:00:00Z', `uploads/users/555/unknown/${d}/app_packages/u.json`)));
  for (const r of results) assert.equal(r.status, 0, r.stderr);
  const { rows: got } = await rows(current('app_packages', 555));
  assert.equal(got.length, 12);
  assert.deepEqual(new Set(got.map((r) => r.package_name)),
    new Set(devices.flatMap((d) => [`${d}.one`, `${d}.two`])));
  const { rows: diffRows } = await rows(diff('app_packages', '2026-11-23', 555));
  assert.equal(diffRows.length, 12);
});

test('COLLATOR_TIMESTAMP=micros and COLLATOR_COMPRESSION=zstd', async () => {
  const key = 'uploads/users/777/unknown/9/sms_log/a.json';
  put(key, JSON.stringify(uploads.sms_log));
  const r = await processAsync('2026-11-23T10:00:00.123456Z', key,
    { COLLATOR_TIMESTAMP: 'micros', COLLATOR_COMPRESSION: 'zstd' });
  assert.equal(r.status, 0, r.stderr);
  const { columns, rows: got } = await rows(current('sms_log', 777));
  assert.equal(Object.fromEntries(columns).ts_updated, 'TIMESTAMP');
  assert.equal(got[0].ts_updated, '2026-11-23 10:00:00.123456');
  assert.equal(got[0].datetime, '2017-02-22 00:12:06.477');
  const meta = await conn.runAndReadAll(
    `SELECT compression FROM parquet_metadata('${path.join(store, current('sms_log', 777))}') LIMIT 1`);
  assert.equal(meta.getRowObjectsJson()[0].compression, 'ZSTD');
  const kv = await conn.runAndReadAll(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path.join(store, current('sms_log', 777))}')`);
  assert.ok(kv.getRowObjectsJson().some((m) => m.k === 'collator.version'));
});
