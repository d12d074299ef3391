// Faults: with ~20% of S3 requests failing (500, 503 SlowDown, connection
// resets, delays; seeded) a run of 30 uploads (three devices, every log
// type, additions and deletions) ends with every upload collated, re-running
// an upload whose process failed as Lambda would retry it, and every output
// object intact: byte-identical to the same uploads collated on a local
// store without faults, and readable. The S3 runs go through `collator
// event` (the Lambda handler). Retries are bounded by
// COLLATOR_S3_MAX_ATTEMPTS and counted in the metrics line ("Retries") of
// each run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localStore, s3Store, catRows, run } from './lib/reliability.mjs';

// One upload through `collator event`, the Lambda handler, whose log has the
// metrics line with the store's retry count.
async function runEvent(s3, now, key, env) {
  const dir = mkdtempSync(path.join(tmpdir(), 'faults-event-'));
  try {
    const file = path.join(dir, 'event.json');
    writeFileSync(file, JSON.stringify({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: s3.stack.bucket }, object: { key: encodeURIComponent(key).replaceAll('%2F', '/') } } }] }));
    return await run(['event', '--store', s3.url, '--now', now, file], { ...s3.env, ...env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fixtures = JSON.parse(readFileSync('tests/fixtures/collate/uploads.json', 'utf8'));
const USER = 31;
const FAULTS = [
  { type: '503', probability: 0.07 },
  { type: '500', probability: 0.06 },
  { type: 'reset', probability: 0.05 },
  { type: 'delay', probability: 0.04, delayMs: 150 },
];

// 30 uploads in order, each with its --now (several per day).
function uploads() {
  const out = [];
  const devices = ['d1', 'd2', 'd3'];
  for (let i = 0; i < 30; i++) {
    const device = devices[i % 3];
    const now = `2026-11-${String(20 + Math.floor(i / 8)).padStart(2, '0')}T${String(8 + (i % 8)).padStart(2, '0')}:00:00Z`;
    const kind = i % 5;
    let type;
    let body;
    if (kind === 0 || kind === 3) { // app packages that grow and shrink
      type = 'app_packages';
      const n = 3 + ((i * 7) % 9);
      body = JSON.stringify(Array.from({ length: n }, (_, j) => ({ package_name: `com.${device}.p${(j * 3 + i) % 13}` })));
    } else if (kind === 1) {
      type = 'sms_log';
      body = JSON.stringify(Array.from({ length: 10 }, (_, j) => ({ ...fixtures.sms_log[0], item_id: i * 100 + j, message_body: `m${i}.${j}` })));
    } else if (kind === 2) {
      type = 'call_log';
      body = JSON.stringify(Array.from({ length: 6 }, (_, j) => ({ ...fixtures.call_log[0], item_id: (i % 4) * 10 + j, duration: String(i + j) })));
    } else {
      type = 'contact_list';
      body = JSON.stringify(Array.from({ length: 4 }, (_, j) => ({ ...fixtures.contact_list[0], item_id: 500 + j + (i % 2), times_contacted: i })));
    }
    out.push({ key: `uploads/users/${USER}/serial/${device}/${type}/u${String(i).padStart(2, '0')}.json${i % 4 === 0 ? '.gz' : ''}`,
      body: i % 4 === 0 ? gzipSync(Buffer.from(body)) : body, now });
  }
  return out;
}

test('30 uploads with ~20% of S3 requests failing end identical to a clean local run', async (t) => {
  const ups = uploads();
  const local = localStore();
  const s3 = await s3Store({ bucket: 'faults', faults: [], seed: 2026 });
  try {
    for (const u of ups) {
      await local.put(u.key, u.body);
      const r = await local.process(u.now, [u.key]);
      assert.equal(r.status, 0, r.stderr);
    }
    for (const u of ups) await s3.put(u.key, u.body);
    s3.stack.setFaults(FAULTS, 2026);
    let runs = 0;
    let failedRuns = 0;
    let retries = 0;
    for (const u of ups) {
      for (let attempt = 1; ; attempt++) {
        const r = await runEvent(s3, u.now, u.key, { COLLATOR_S3_MAX_ATTEMPTS: '2' });
        runs++;
        assert.equal(r.signal, null, r.stderr);
        for (const m of r.stderr.matchAll(/"Retries": (\d+)/g)) retries += Number(m[1]);
        if (r.status === 0) break;
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.lines[0].outcome, 'failed', r.stderr);
        failedRuns++;
        assert.ok(attempt < 12, `${u.key} still failing after ${attempt} runs: ${r.stderr}`);
      }
    }
    s3.stack.setFaults([]);
    const injected = s3.stack.requests.filter((r) => r.fault).length;
    const byType = {};
    for (const r of s3.stack.requests) if (r.fault) byType[r.fault] = (byType[r.fault] || 0) + 1;
    const want = await local.outputs();
    const got = await s3.outputs();
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    let rows = 0;
    for (const [k, bytes] of want) {
      assert.ok(got.get(k).equals(bytes), `${k} differs from the clean run`);
      if (k.endsWith('.parquet')) rows += catRows(got.get(k)).length;
      else JSON.parse(got.get(k).toString('utf8'));
    }
    const summary = `${ups.length} uploads, ${runs} runs (${failedRuns} failed and re-run), ` +
      `${s3.stack.requests.length} S3 requests, ${injected} faults injected ${JSON.stringify(byType)}, ` +
      `${retries} store retries logged, ${want.size} objects (${rows} Parquet rows) identical to the clean run`;
    t.diagnostic(summary);
    assert.ok(injected >= 0.1 * s3.stack.requests.length, 'about 20% of requests failed');
  } finally {
    await local.close();
    await s3.close();
  }
});

test('retries stop at COLLATOR_S3_MAX_ATTEMPTS and the upload fails transiently', async (t) => {
  const s3 = await s3Store({ bucket: 'bounded' });
  try {
    const key = `uploads/users/${USER}/serial/d1/app_packages/x.json`;
    await s3.put(key, JSON.stringify([{ package_name: 'a' }]));
    for (const attempts of [1, 4]) {
      s3.stack.setFaults([{ type: '503', probability: 1, key: 'uploads/' }]);
      const first = s3.stack.requests.length;
      const r = await runEvent(s3, '2026-11-24T00:00:00Z', key, { COLLATOR_S3_MAX_ATTEMPTS: String(attempts) });
      const seen = s3.stack.requests.slice(first).filter((q) => q.key === key);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.lines[0].outcome, 'failed');
      assert.match(r.lines[0].reason, /503|SlowDown/);
      assert.equal(seen.length, attempts, `requests for the upload with ${attempts} attempts`);
      assert.match(r.stderr, new RegExp(`"Retries": ${attempts - 1}\\b`));
      t.diagnostic(`COLLATOR_S3_MAX_ATTEMPTS=${attempts}: ${seen.length} requests, then failed: ${r.lines[0].reason}`);
    }
    s3.stack.setFaults([]);
    const ok = await s3.process('2026-11-24T00:00:00Z', [key]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.lines[0].outcome, 'updated');
  } finally {
    await s3.close();
  }
});
