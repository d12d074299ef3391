// Crash safety. For each scenario (first upload, an update with new rows, an
// update with deletions) on the local store and on S3, the number W of
// mutating store operations of one clean application is measured, then for
// every k in 0..W-1 the collator runs with COLLATOR_FAULT_AFTER_WRITES=k (it
// _exit(99)s right before write k+1), the same upload is replayed without
// the fault, and current, diff and txt must be byte-identical to those of
// one clean application. Byte identity is the right bar: ts_updated comes
// from --now, the writer is deterministic, and a replay rewrites diff, txt
// and current from the same inputs, so any difference would be a row added
// twice or lost. Then SIGKILL at seeded random times during a larger upload,
// and a replay of a fully applied upload, which must perform no write at all
// (it runs with COLLATOR_FAULT_AFTER_WRITES=0, so any write would kill it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { localStore, s3Store, currentKey, diffKey, catRows, prng, prepareScenario } from './lib/reliability.mjs';

const USER = 77;
const NOW_PRIOR = '2026-11-23T08:00:00Z';
const NOW = '2026-11-24T09:30:00Z';
const apps = (...names) => JSON.stringify(names.map((n) => ({ package_name: `com.example.${n}` })));
const key = (name, type = 'app_packages', device = 'd1') => `uploads/users/${USER}/serial/${device}/${type}/${name}`;
const sms = (from, to) => JSON.stringify(Array.from({ length: to - from }, (_, i) => ({
  item_id: from + i, datetime: 1700000000000 + (from + i) * 1000, message_body: `message ${from + i}`,
  sms_address: '+254700000001', sms_type: 1, thread_id: 3, contact_id: 0 })));

const SCENARIOS = [
  { name: 'first upload', prior: [], target: [key('first.json'), apps('a', 'b', 'c')] },
  { name: 'update with new rows', prior: [[key('first.json'), apps('a', 'b', 'c')]],
    target: [key('second.json'), apps('a', 'b', 'c', 'd', 'e')] },
  { name: 'update with deletions', prior: [[key('first.json'), apps('a', 'b', 'c', 'd')]],
    target: [key('third.json'), gzipSync(Buffer.from(apps('a', 'd')))] },
  { name: 'sms batch onto an existing history', prior: [[key('s1.json', 'sms_log'), sms(0, 50)]],
    target: [key('s2.json', 'sms_log'), sms(40, 120)] },
];

const prepare = (st, scenario) => prepareScenario(st, scenario, NOW_PRIOR);

function assertSameOutputs(got, want, what) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: output keys`);
  for (const [k, bytes] of want) assert.ok(got.get(k).equals(bytes), `${what}: ${k} differs`);
}

async function crashPoints(t, st) {
  let exercised = 0;
  for (const scenario of SCENARIOS) {
    await prepare(st, scenario);
    const clean = await st.process(NOW, [scenario.target[0]]);
    assert.equal(clean.status, 0, clean.stderr);
    assert.equal(clean.lines[0].outcome, 'updated');
    const reference = await st.outputs();

    // W: the first k at which the run no longer dies.
    let writes = 0;
    for (;; writes++) {
      await prepare(st, scenario);
      const r = await st.process(NOW, [scenario.target[0]], { COLLATOR_FAULT_AFTER_WRITES: String(writes) });
      if (r.status !== 99) {
        assert.equal(r.status, 0, r.stderr);
        assertSameOutputs(await st.outputs(), reference, `${scenario.name}, no fault hit`);
        break;
      }
      // The crash at k is in place: replay the same upload as Lambda would.
      const replay = await st.process(NOW, [scenario.target[0]]);
      assert.equal(replay.status, 0, replay.stderr);
      assertSameOutputs(await st.outputs(), reference, `${scenario.name}, crash before write ${writes + 1}`);
      exercised++;
      assert.ok(writes < 20, 'too many writes');
    }
    assert.ok(writes >= 3, `${scenario.name}: W = ${writes}`);

    // A replay of the fully applied upload writes nothing.
    const before = st.mtimes ? await st.mtimes() : null;
    const requestsBefore = st.stack ? st.stack.requests.length : 0;
    const again = await st.process(NOW, [scenario.target[0]], { COLLATOR_FAULT_AFTER_WRITES: '0' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.lines[0].outcome, 'unchanged');
    if (before) assert.deepEqual(await st.mtimes(), before);
    if (st.stack) {
      const mutating = st.stack.requests.slice(requestsBefore).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
      assert.deepEqual(mutating, []);
    }
    assertSameOutputs(await st.outputs(), reference, `${scenario.name}, replay of an applied upload`);
    t.diagnostic(`${st.name} ${scenario.name}: W = ${writes}, every crash point replayed to identical outputs`);
  }
  return exercised;
}

test('crash before every write, then replay: local store', async (t) => {
  const st = localStore();
  try {
    const n = await crashPoints(t, st);
    t.diagnostic(`local: ${n} crash points exercised`);
  } finally { await st.close(); }
});

test('crash before every write, then replay: S3', async (t) => {
  const st = await s3Store({ bucket: 'crash' });
  try {
    const n = await crashPoints(t, st);
    t.diagnostic(`s3: ${n} crash points exercised`);
  } finally { await st.close(); }
});

// SIGKILL at random (seeded) times while a larger upload is applied onto an
// existing history, several kills in a row on the same store, then a replay.
async function randomKills(t, st, { runs, seed }) {
  const big = (n, offset) => apps(...Array.from({ length: n }, (_, i) => `pkg${offset + i}`));
  const scenario = { prior: [[key('base.json'), big(3000, 0)]], target: [key('big.json'), big(6000, 1500)] };
  await prepare(st, scenario);
  const started = Date.now();
  const clean = await st.process(NOW, [scenario.target[0]]);
  const duration = Date.now() - started;
  assert.equal(clean.status, 0, clean.stderr);
  const reference = await st.outputs();
  const random = prng(seed);
  let killed = 0;
  let completed = 0;
  for (let run = 0; run < runs; run++) {
    await prepare(st, scenario);
    // 1 to 3 kills in a row before the replay that is allowed to finish.
    const kills = 1 + Math.floor(random() * 3);
    for (let i = 0; i < kills; i++) {
      const r = await st.process(NOW, [scenario.target[0]], {}, { killAfterMs: Math.floor(random() * duration * 1.1) });
      if (r.signal === 'SIGKILL') killed++;
      else { assert.equal(r.status, 0, r.stderr); completed++; }
    }
    const replay = await st.process(NOW, [scenario.target[0]]);
    assert.equal(replay.status, 0, replay.stderr);
    const got = await st.outputs();
    assertSameOutputs(got, reference, `SIGKILL run ${run}`);
  }
  // Kills are drawn over 110% of a clean run's time, and about half land
  // mid-run (13 of 24 and 9 of 11 here); far fewer would mean the test
  // passed having interrupted almost nothing.
  assert.ok(killed >= runs / 2, `only ${killed} processes were killed in ${runs} runs`);
  const rows = catRows(reference.get(currentKey('app_packages', USER))).length;
  const diffRows = catRows(reference.get(diffKey('app_packages', '2026-11-24', USER))).length;
  if (st.orphans) t.diagnostic(`${st.name}: ${st.orphans.size} orphaned .collator-tmp-* files seen (invisible to the store)`);
  t.diagnostic(`${st.name}: ${runs} runs, ${killed} processes SIGKILLed, ${completed} finished before the kill; ` +
    `clean run ${duration} ms; current ${rows} rows, diff ${diffRows} rows identical after every replay`);
}

test('SIGKILL at random times during a larger upload, then replay: local store', async (t) => {
  const st = localStore();
  try { await randomKills(t, st, { runs: 12, seed: 20261124 }); } finally { await st.close(); }
});

test('SIGKILL at random times during a larger upload, then replay: S3', async (t) => {
  const st = await s3Store({ bucket: 'kills' });
  try { await randomKills(t, st, { runs: 5, seed: 7 }); } finally { await st.close(); }
});
