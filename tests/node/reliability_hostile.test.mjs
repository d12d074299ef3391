// The hostile-input corpus (tests/hostile/): every case of manifest.json is
// run in a fresh local store through `collator process` (uploads) or
// `collator event` (Lambda events, which URL-decode keys), and what happened
// is compared exactly with the case's "expect": exit status, each key's
// outcome, rejected_entries / new_rows / coerced_nulls, the reason substring,
// the rejected record, the keys written, for a pre-existing (corrupt)
// history that its bytes did not change, and where a case lists "rows", the
// stored current's rows in those columns (read back with `collator cat`).
// Prints one line per case.
//
// HOSTILE_RECORD=1 prints the observed results as manifest JSON instead of
// failing, for reviewing new cases before their expectations are written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = process.env.COLLATOR_BIN || 'build/gcc/collator';
const HOSTILE = 'tests/hostile';
const NOW = '2026-11-24T12:00:00Z';
const manifest = JSON.parse(readFileSync(`${HOSTILE}/manifest.json`, 'utf8'));
const record = !!process.env.HOSTILE_RECORD;
const sha = (b) => createHash('sha256').update(b).digest('hex');

// Keys a filesystem cannot hold as given (the collator rejects them before
// reading, so the upload need not exist).
const placeable = (key) => !key.split('/').some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.collator-'))
  && !key.includes('\0') && key.split('/').every((s) => Buffer.byteLength(s) < 256);

function snapshot(dir) {
  const out = {};
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (r === '.collator-locks') continue;
      if (entry.isDirectory()) walk(r);
      else out[r] = sha(readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

function put(dir, key, bytes) {
  const file = path.join(dir, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

function currentKey(c) {
  const type = c.key.split('/')[5];
  return `collated_logs/current/${type}/user=100/logs.parquet`;
}

function runCase(c) {
  const store = mkdtempSync(path.join(tmpdir(), 'hostile-'));
  try {
    const uploads = c.input === 'event' ? c.uploads : [{ key: c.key, file: c.file }];
    for (const u of uploads) if (placeable(u.key)) put(store, u.key, readFileSync(`${HOSTILE}/${u.file}`));
    let history;
    if (c.history) {
      history = currentKey(c);
      put(store, history, readFileSync(`${HOSTILE}/${c.history.bytes}`));
    }
    const before = snapshot(store);
    const args = c.input === 'event'
      ? ['event', '--store', store, '--now', NOW, `${HOSTILE}/${c.file}`]
      : ['process', '--store', store, '--now', NOW, '--', c.key];
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000, env: { ...process.env, ...(c.env || {}) } });
    const after = snapshot(store);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{"key"')).map((l) => JSON.parse(l));
    const observed = {
      exit: r.status,
      signal: r.signal,
      outcomes: lines.map((l) => ({
        outcome: l.outcome, rejected_entries: l.rejected_entries, new_rows: l.new_rows,
        coerced_nulls: l.coerced_nulls, reason: l.reason,
      })),
      written: Object.keys(after).filter((k) => before[k] === undefined).sort(),
      changed: Object.keys(before).filter((k) => after[k] !== before[k]).sort(),
      stdout: r.stdout.trim(),
    };
    if (history) observed.history_unchanged = after[history] === before[history];
    if (c.expect.rows) {
      const columns = Object.keys(c.expect.rows[0]).join(',');
      const cat = spawnSync(BIN, ['cat', '--format', 'jsonl', '--columns', columns, path.join(store, currentKey(c))],
        { encoding: 'utf8' });
      observed.rows = cat.status === 0 ? cat.stdout.trim().split('\n').map((l) => JSON.parse(l)) : cat.stderr;
    }
    const rejected = observed.written.filter((k) => k.startsWith('collated_logs/rejected/'));
    observed.rejected_records = rejected.map((k) => JSON.parse(readFileSync(path.join(store, k), 'utf8')).reason);
    return { observed, stderr: r.stderr };
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

function check(c, observed) {
  const e = c.expect;
  assert.equal(observed.signal, null, 'killed by a signal');
  assert.equal(observed.exit, e.exit, 'exit status');
  assert.equal(observed.outcomes.length, e.outcomes.length, 'number of result lines');
  e.outcomes.forEach((want, i) => {
    const got = observed.outcomes[i];
    assert.equal(got.outcome, want.outcome, `outcome[${i}]`);
    // Rows of an upload that was not committed are never reported as new.
    if (want.outcome === 'rejected' || want.outcome === 'failed') assert.equal(got.new_rows, 0, `new_rows[${i}]`);
    for (const field of ['rejected_entries', 'new_rows', 'coerced_nulls'])
      if (want[field] !== undefined) assert.equal(got[field], want[field], `${field}[${i}]`);
    if (want.reason !== undefined) {
      assert.ok(got.reason && got.reason.includes(want.reason), `reason[${i}] ${JSON.stringify(got.reason)} lacks ${JSON.stringify(want.reason)}`);
    }
  });
  assert.deepEqual(observed.written, e.written, 'keys written');
  assert.deepEqual(observed.changed, [], 'pre-existing objects changed');
  if (e.history_unchanged !== undefined) assert.equal(observed.history_unchanged, e.history_unchanged);
  if (e.rows) assert.deepEqual(observed.rows, e.rows, 'stored rows');
  // A rejection is recorded with the same reason it was logged with.
  const reasons = observed.outcomes.filter((o) => o.outcome === 'rejected').map((o) => o.reason);
  assert.deepEqual([...observed.rejected_records].sort(), [...reasons].sort(), 'rejected records');
  if (e.stdout !== undefined) assert.ok(observed.stdout.includes(e.stdout), `stdout ${observed.stdout} lacks ${e.stdout}`);
}

test(`hostile corpus: ${manifest.cases.length} cases`, () => {
  assert.ok(manifest.cases.length >= 60);
  const failures = [];
  const recorded = [];
  for (const c of manifest.cases) {
    const { observed, stderr } = runCase(c);
    if (record) {
      recorded.push({ ...c, observed });
      continue;
    }
    try {
      check(c, observed);
      console.log(`ok   ${c.name}: exit ${observed.exit}, ${observed.outcomes.map((o) => o.outcome).join(',') || 'no key'}`);
    } catch (error) {
      console.log(`FAIL ${c.name}: ${error.message}\n${stderr}`);
      failures.push(c.name);
    }
  }
  if (record) {
    writeFileSync(process.env.HOSTILE_RECORD, JSON.stringify(recorded, null, 1));
    return;
  }
  console.log(`hostile: ${manifest.cases.length - failures.length} of ${manifest.cases.length} cases as expected`);
  assert.deepEqual(failures, []);
});
