// Disk errors on the local store. tests/tools/fault_shim.c (LD_PRELOAD)
// makes the k-th filesystem mutation of a run fail (write, pwrite, fsync,
// rename, linkat, mkdir, ...): once with EIO, as a failed flush does, or
// from then on with ENOSPC, as a full disk does; or the k-th read (read,
// pread, stat, fstatat, readdir), once with EIO. For each scenario and
// every k of one clean run:
//   - the run fails with the errno's text in its reason, unless the call
//     had a fallback (a failed link is a copy instead) and the outputs are
//     those of a clean run;
//   - nothing stored is lost: every output is byte-identical to itself
//     before the run or to the clean run's, and no temp file is left;
//   - replayed without the fault, the upload ends in the clean run's outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localStore, prepareScenario, run } from './lib/reliability.mjs';
import { buildFaultShim } from './lib/build.mjs';

const USER = 41;
const NOW_PRIOR = '2026-11-23T08:00:00Z';
const NOW = '2026-11-24T09:30:00Z';
const key = (name, type = 'app_packages') => `uploads/users/${USER}/serial/d1/${type}/${name}`;
const apps = (...names) => JSON.stringify(names.map((n) => ({ package_name: `com.example.${n}` })));
const sms = (from, to) => JSON.stringify(Array.from({ length: to - from }, (_, i) => ({
  item_id: from + i, datetime: 1700000000000 + (from + i) * 1000, message_body: `message ${from + i}`,
  sms_address: '+254700000001', sms_type: 1, thread_id: 3, contact_id: 0 })));

const SCENARIOS = [
  { name: 'first upload', prior: [], target: [key('first.json'), apps('a', 'b', 'c')] },
  { name: 'sms update', prior: [[key('s1.json', 'sms_log'), sms(0, 50)]],
    target: [key('s2.json', 'sms_log'), sms(40, 120)] },
  { name: 'update with deletions', prior: [[key('first.json'), apps('a', 'b', 'c', 'd')]],
    target: [key('third.json'), gzipSync(Buffer.from(apps('a', 'd')))] },
];

const STRERROR = { EIO: 'Input/output error', ENOSPC: 'No space left on device' };
// A mutation fails once (a flush's EIO) or from then on (a full disk); a read once.
const MODES = [
  { kind: 'write', errno: 'EIO', sticky: false },
  { kind: 'write', errno: 'ENOSPC', sticky: true },
  { kind: 'read', errno: 'EIO', sticky: false },
];
// Calls whose failure the collator works around rather than reports.
const FALLBACKS = new Set(['linkat']);

function copyStore(from, to) {
  rmSync(to.dir, { recursive: true, force: true });
  cpSync(from.dir, to.dir, { recursive: true });
}

// A message names each object once: the store names what it failed on, and
// the layers above add what they were doing without repeating it.
function assertNamesOnce(message, keys, what) {
  for (const k of new Set(keys)) {
    const times = message.split(k).length - 1;
    assert.ok(times <= 1, `${what}: names ${k} ${times} times: ${message}`);
  }
}

function report(file) {
  const [calls, fired, name] = readFileSync(file, 'utf8').trim().split(' ');
  return { calls: Number(calls), fired: fired === '1', name };
}

test('a failed read, write, flush, rename or mkdir loses nothing, and a replay completes', async (t) => {
  const shim = path.resolve(buildFaultShim());
  const work = mkdtempSync(path.join(tmpdir(), 'disk-faults-'));
  const reportFile = path.join(work, 'report');
  const template = localStore();
  const st = localStore();
  const env = (extra) => ({ COLLATOR_THREADS: '1', LD_PRELOAD: shim, FAULT_REPORT: reportFile, ...extra });
  try {
    let exercised = 0;
    for (const scenario of SCENARIOS) {
      await prepareScenario(template, scenario, NOW_PRIOR);
      const before = await template.outputs();

      const counted = {};
      let after;
      for (const kind of ['write', 'read']) {
        copyStore(template, st);
        const clean = await st.process(NOW, [scenario.target[0]], env({ FAULT_KIND: kind }));
        assert.equal(clean.status, 0, clean.stderr);
        counted[kind] = report(reportFile).calls;
        after = await st.outputs();
        assert.ok(counted[kind] >= 2, `${scenario.name}: ${counted[kind]} ${kind} calls counted`);
      }

      for (const mode of MODES) {
        for (let k = 1; k <= counted[mode.kind]; k++) {
          const { errno } = mode;
          const what = `${scenario.name}, ${mode.kind} call ${k} failing with ${errno}`;
          copyStore(template, st);
          st.orphans.clear();
          const r = await st.process(NOW, [scenario.target[0]], env({ FAULT_KIND: mode.kind,
            FAULT_AT: String(k), FAULT_ERRNO: errno, FAULT_STICKY: mode.sticky ? '1' : '0' }));
          const fault = report(reportFile);
          assert.ok(fault.fired, `${what}: the fault did not fire`);
          const got = await st.outputs();
          if (r.status === 0) {
            assert.ok(FALLBACKS.has(fault.name) && !mode.sticky, `${what} (${fault.name}) was not reported`);
            assert.deepEqual([...got.keys()].sort(), [...after.keys()].sort(), what);
            for (const [k2, bytes] of after) assert.ok(got.get(k2).equals(bytes), `${what}: ${k2}`);
          } else {
            assert.equal(r.status, 1, `${what}: ${r.stderr}`);
            // Opening the store (a stat of its root) fails before any upload's line.
            const reason = r.lines[0]?.reason ?? r.stderr;
            assert.match(reason, new RegExp(STRERROR[errno]), `${what} (${fault.name}): ${reason}`);
            assertNamesOnce(reason, [...before.keys(), ...after.keys()], `${what} (${fault.name})`);
            for (const [k2, bytes] of got) {
              const same = (before.get(k2) && bytes.equals(before.get(k2))) || (after.get(k2) && bytes.equals(after.get(k2)));
              assert.ok(same, `${what} (${fault.name}): ${k2} is neither as before nor as after`);
            }
            for (const k2 of before.keys()) assert.ok(got.has(k2), `${what}: ${k2} lost`);
          }
          assert.deepEqual([...st.orphans], [], `${what}: temp files left`);

          const replay = await st.process(NOW, [scenario.target[0]]);
          assert.equal(replay.status, 0, `${what}, replay: ${replay.stderr}`);
          const replayed = await st.outputs();
          assert.deepEqual([...replayed.keys()].sort(), [...after.keys()].sort(), `${what}, replay`);
          for (const [k2, bytes] of after) assert.ok(replayed.get(k2).equals(bytes), `${what}, replay: ${k2}`);
          exercised++;
        }
      }
      t.diagnostic(`${scenario.name}: ${counted.write} mutating calls, each failed with EIO and ` +
        `with ENOSPC; ${counted.read} reads, each failed with EIO`);
    }
    t.diagnostic(`${exercised} faults exercised`);
  } finally {
    await template.close();
    await st.close();
    rmSync(work, { recursive: true, force: true });
  }
});

// Runs `collator ARGS` under the fault shim once cleanly, then once for
// each read that run made, with that read failing (EIO): the clean run, its
// read count, and each faulted run with what the shim reported.
async function failEachRead(args) {
  const shim = path.resolve(buildFaultShim());
  const work = mkdtempSync(path.join(tmpdir(), 'disk-faults-read-'));
  const reportFile = path.join(work, 'report');
  const once = (extra) => run(args, { LD_PRELOAD: shim, FAULT_REPORT: reportFile, FAULT_KIND: 'read', ...extra });
  try {
    const clean = await once({});
    const reads = report(reportFile).calls;
    const faulted = [];
    for (let k = 1; k <= reads; k++) {
      const r = await once({ FAULT_AT: String(k), FAULT_ERRNO: 'EIO' });
      faulted.push({ k, r, fault: report(reportFile) });
    }
    return { clean, reads, faulted };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('collator cat names a stored key once when a read of it fails', async () => {
  const st = localStore();
  try {
    await prepareScenario(st, SCENARIOS[1], NOW_PRIOR);
    const current = [...(await st.outputs()).keys()].find((k) => k.includes('/current/'));
    assert.ok(current, 'a current file');
    const { clean, reads, faulted } = await failEachRead(['cat', '--store', st.url, current]);
    assert.equal(clean.status, 0, clean.stderr);
    assert.ok(reads >= 2, `${reads} reads`);
    for (const { k, r, fault } of faulted) {
      assert.ok(fault.fired, `read ${k}: the fault did not fire`);
      assert.notEqual(r.status, 0, `read ${k} failing was not reported`);
      assert.match(r.stderr, /Input\/output error/, `read ${k}: ${r.stderr}`);
      assertNamesOnce(r.stderr, [current], `read ${k}`);
    }
  } finally {
    await st.close();
  }
});

test('a listing whose directory read or stat fails reports it instead of skipping keys', async () => {
  const st = localStore();
  try {
    await st.put(key('a.json'), apps('a'));
    await st.put(key('b.json'), apps('a', 'b'));
    await st.put(key('s.json', 'sms_log'), sms(0, 3));
    await st.put(`uploads/users/${USER + 1}/serial/d2/app_packages/c.json`, apps('c'));
    const { clean, reads, faulted } = await failEachRead(['backfill', '--store', st.url, '--prefix',
      'uploads/users/', '--dry-run']);
    assert.equal(clean.status, 0, clean.stderr);
    assert.equal(JSON.parse(clean.stdout.trim().split('\n').at(-1)).uploads, 4, clean.stdout);
    assert.ok(reads >= 4, `${reads} reads`);
    const names = new Set();
    for (const { k, r, fault } of faulted) {
      assert.ok(fault.fired, `read ${k}: the fault did not fire`);
      names.add(fault.name);
      assert.notEqual(r.status, 0, `read ${k} (${fault.name}) failing was not reported: ${r.stdout}`);
      assert.match(r.stderr, /Input\/output error/, `read ${k} (${fault.name}): ${r.stderr}`);
    }
    // The walk reads every directory and stats every object it lists.
    assert.ok([...names].some((n) => n.startsWith('readdir')), [...names].join(' '));
    assert.ok([...names].some((n) => n.startsWith('stat')), [...names].join(' '));
  } finally {
    await st.close();
  }
});
