// Concurrency: 16 collator processes collate distinct uploads of one user and
// one log type at the same time, on the local store and on S3 through the
// proxy (which enforces If-Match). Afterwards current and diff hold every
// row exactly once, every txt matches the final current, and the attempts
// counters show that conflicting writes happened and were re-applied. A
// process that gives up (COLLATOR_MAX_ATTEMPTS rounds lost) is re-run, as
// Lambda would retry it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localStore, s3Store, catRows, currentKey, diffKey, txtKey } from './lib/reliability.mjs';

const NOW = '2026-11-24T10:00:00Z';
const DAY = '2026-11-24';
const PROCESSES = 16;
const PER_UPLOAD = 20;
const USER = 4242;

// app_packages from 16 devices (one upload each), or sms_log in 16 batches of
// one device (each batch new messages; sms never detects deletions).
function uploads(type) {
  const out = [];
  for (let p = 0; p < PROCESSES; p++) {
    const device = type === 'app_packages' ? `dev${p}` : 'phone';
    const entries = [];
    for (let i = 0; i < PER_UPLOAD; i++) {
      if (type === 'app_packages') entries.push({ package_name: `com.p${p}.app${i}` });
      else entries.push({ item_id: p * 1000 + i, datetime: 1700000000000 + p * 1000 + i, message_body: `batch ${p} message ${i}`, sms_address: '+254700000000', sms_type: 1, thread_id: p, contact_id: 0 });
    }
    out.push({ device, key: `uploads/users/${USER}/serial/${device}/${type}/batch${p}.json`, body: JSON.stringify(entries), entries });
  }
  return out;
}

async function scenario(t, st, type) {
  const ups = uploads(type);
  for (const u of ups) await st.put(u.key, u.body);
  const results = await Promise.all(ups.map((u) => st.process(NOW, [u.key], { COLLATOR_MAX_ATTEMPTS: '8' })));
  let attempts = 0;
  let retried = 0;
  for (const [i, r] of results.entries()) {
    assert.equal(r.signal, null);
    assert.equal(r.lines.length, 1, r.stderr);
    attempts += r.lines[0].attempts;
    if (r.status !== 0) {
      // Lost every round: fail and retry, as Lambda does.
      assert.equal(r.lines[0].outcome, 'failed', r.stderr);
      const again = await st.process(NOW, [ups[i].key]);
      assert.equal(again.status, 0, again.stderr);
      retried++;
    } else {
      assert.equal(r.lines[0].outcome, 'updated', r.stderr);
      assert.equal(r.lines[0].new_rows, PER_UPLOAD);
    }
  }
  const conflicts = attempts - results.length;
  const files = await st.outputs();
  const current = catRows(files.get(currentKey(type, USER)));
  const diff = catRows(files.get(diffKey(type, DAY, USER)));
  const rowsWanted = PROCESSES * PER_UPLOAD;
  const label = type === 'app_packages' ? (r) => `${r.device_id}/${r.package_name}` : (r) => `${r.device_id}/${r.item_id}`;
  const wanted = new Set(ups.flatMap((u) => u.entries.map((e) => label({ device_id: u.device, ...e }))));
  for (const [name, rows] of [['current', current], ['diff', diff]]) {
    assert.equal(rows.length, rowsWanted, `${name} rows`);
    assert.equal(new Set(rows.map((r) => r.id)).size, rowsWanted, `${name}: every id once`);
    assert.deepEqual(new Set(rows.map(label)), wanted, `${name}: every uploaded row`);
    assert.ok(rows.every((r) => r.is_deleted === false && r.user_id === BigInt(USER)));
  }
  // The txt of each device is what the final current says it is.
  for (const device of new Set(ups.map((u) => u.device))) {
    const txt = JSON.parse(files.get(txtKey(type, USER, device)).toString('utf8'));
    if (type === 'app_packages') {
      assert.deepEqual(new Set(txt.map((e) => e.package_name)),
        new Set(current.filter((r) => r.device_id === device).map((r) => r.package_name)), `txt of ${device}`);
    } else {
      assert.equal(txt.length, rowsWanted, 'sms txt holds every device row');
      assert.deepEqual(new Set(txt.map((e) => Number(e.item_id))), new Set(current.map((r) => Number(r.item_id))));
    }
  }
  const summary = `${st.name} ${type}: ${PROCESSES} processes, ${rowsWanted} rows checked in current and diff, ` +
    `${conflicts} conflicts re-applied, ${retried} process(es) re-run after giving up`;
  t.diagnostic(summary);
  assert.ok(conflicts > 0, 'conflicts happened');
}

test('16 processes on the local store: app_packages of 16 devices', async (t) => {
  const st = localStore();
  try { await scenario(t, st, 'app_packages'); } finally { await st.close(); }
});

test('16 processes on the local store: 16 sms batches of one device', async (t) => {
  const st = localStore();
  try { await scenario(t, st, 'sms_log'); } finally { await st.close(); }
});

test('16 processes on S3 with If-Match enforced: app_packages of 16 devices', async (t) => {
  const st = await s3Store({ bucket: 'concurrency' });
  try {
    await scenario(t, st, 'app_packages');
    const refused = st.stack.requests.filter((r) => r.status === 412).length;
    t.diagnostic(`conditional writes refused by the proxy (412): ${refused}`);
    assert.ok(refused > 0);
  } finally { await st.close(); }
});
