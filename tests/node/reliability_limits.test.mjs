// Limits: going over each of COLLATOR_MAX_UPLOAD_BYTES, COLLATOR_MAX_ENTRIES,
// COLLATOR_MAX_HISTORY_ROWS, COLLATOR_MAX_STRING_BYTES and
// COLLATOR_MAX_JSON_DEPTH is a permanent rejection (exit 0, outcome
// rejected) with a reason naming the limit, recorded under
// collated_logs/rejected/, with no output written and the history as it
// was. A gzip bomb (10 GiB of JSON whitespace in 10 MiB of gzip members)
// stops at the default 2 GiB limit in seconds, with bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { localStore, BIN } from './lib/reliability.mjs';

const NOW = '2026-11-24T06:00:00Z';
const apps = (n, prefix = 'p') => JSON.stringify(Array.from({ length: n }, (_, i) => ({ package_name: `com.${prefix}${i}` })));

const CASES = [
  { limit: 'COLLATOR_MAX_UPLOAD_BYTES', value: '1000', body: apps(100), reason: /1000 bytes|over 1000|limit/ },
  { limit: 'COLLATOR_MAX_UPLOAD_BYTES (gzip)', env: 'COLLATOR_MAX_UPLOAD_BYTES', value: '1000', body: gzipSync(Buffer.from(apps(100))), reason: /1000/ },
  { limit: 'COLLATOR_MAX_ENTRIES', value: '10', body: apps(11), reason: /more than 10 entries/ },
  { limit: 'COLLATOR_MAX_HISTORY_ROWS', value: '5', history: apps(6, 'old'), body: apps(3), reason: /6 rows, over the limit of 5/ },
  { limit: 'COLLATOR_MAX_STRING_BYTES', value: '100', body: JSON.stringify([{ package_name: 'x'.repeat(101) }]), reason: /string longer than 100 bytes/ },
  { limit: 'COLLATOR_MAX_JSON_DEPTH', value: '3', body: JSON.stringify([{ package_name: 'a', extra: [[1]] }]), reason: /nesting deeper than 3/ },
];

for (const c of CASES) {
  test(`${c.limit}: a permanent rejection with a clear reason`, async () => {
    const st = localStore();
    try {
      const env = { [c.env || c.limit]: c.value };
      if (c.history) {
        const prior = 'uploads/users/9/s/d/app_packages/prior.json';
        await st.put(prior, c.history);
        assert.equal((await st.process('2026-11-23T00:00:00Z', [prior])).status, 0);
      }
      const before = await st.outputs();
      const key = 'uploads/users/9/s/d/app_packages/over.json';
      await st.put(key, c.body);
      const r = await st.process(NOW, [key], env);
      assert.equal(r.signal, null);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.lines[0].outcome, 'rejected');
      assert.match(r.lines[0].reason, c.reason);
      const after = await st.outputs();
      const recordKey = `collated_logs/rejected/2026-11-24/${key}.json`;
      const record = JSON.parse(after.get(recordKey).toString('utf8'));
      assert.equal(record.key, key);
      assert.equal(record.reason, r.lines[0].reason);
      after.delete(recordKey);
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), 'nothing else written');
      for (const [k, bytes] of before) assert.ok(after.get(k).equals(bytes), `${k} unchanged`);
    } finally {
      await st.close();
    }
  });
}

test('a gzip bomb stops at the upload limit quickly with bounded memory', async (t) => {
  const st = localStore();
  try {
    // Members of 1 MiB of spaces each (Python's gzip reads them as one
    // stream): "[" and 10 GiB of whitespace, never a complete document.
    const member = gzipSync(Buffer.alloc(1 << 20, 0x20), { level: 9 });
    const members = 10 * 1024;
    const key = 'uploads/users/9/s/d/app_packages/bomb.json.gz';
    const file = path.join(st.dir, key);
    mkdirSync(path.dirname(file), { recursive: true });
    const chunks = [gzipSync(Buffer.from('['))];
    for (let i = 0; i < members; i++) chunks.push(member);
    writeFileSync(file, Buffer.concat(chunks));
    const compressed = readFileSync(file).length;
    const started = Date.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', BIN, 'process', '--store', st.dir, '--now', NOW, key],
      { encoding: 'utf8', timeout: 60000 });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.status, 0, r.stderr);
    const line = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"key"')));
    assert.equal(line.outcome, 'rejected');
    assert.match(line.reason, /limit|2147483648/);
    const rss = Number(/maxrss_kb=(\d+)/.exec(r.stderr)[1]);
    t.diagnostic(`gzip bomb: ${(compressed / 1048576).toFixed(1)} MiB of gzip for 10 GiB; rejected after ` +
      `${seconds.toFixed(1)} s with peak RSS ${(rss / 1024).toFixed(1)} MiB: ${line.reason}`);
    assert.ok(rss < 200 * 1024, `peak RSS ${rss} KiB`);
    assert.ok(seconds < 30, `${seconds} s`);
    assert.ok(existsSync(path.join(st.dir, `collated_logs/rejected/2026-11-24/${key}.json`)));
  } finally {
    await st.close();
  }
});
