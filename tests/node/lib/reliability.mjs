// reliability: what the reliability_*.test.mjs suites share: a local store
// and an S3 store (through the verifying proxy) behind one interface, the
// collator run asynchronously (so many can run at once), and collated
// outputs read back as rows with `collator cat`.
//
//   const st = localStore();                 // or await s3Store()
//   await st.put(key, body);
//   const r = await st.process(now, [key], { COLLATOR_FAULT_AFTER_WRITES: '2' });
//   const files = await st.outputs();        // Map key -> Buffer under collated_logs/
//   const rows = catRows(files.get(currentKey));
//   await prepareScenario(st, { prior: [[key, body]], target: [key2, body2] }, now);
//   await st.close();
//
// Uploads are seeded and outputs read straight from s3rver, so the proxy's
// request log (st.stack.requests) holds the collator's requests alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collatorBin, parseJsonLines, spawnCollator } from './collator.mjs';
import { startS3Stack, s3rverRequest, encodeKey, unescapeXml } from './s3stack.mjs';

export const BIN = collatorBin;

// Run the collator (see spawnCollator in collator.mjs).
export const run = spawnCollator;

export function localStore() {
  const dir = mkdtempSync(path.join(tmpdir(), 'reliability-'));
  const orphans = new Set();
  const walk = (rel, found) => {
    let entries;
    try { entries = readdirSync(path.join(dir, rel), { withFileTypes: true }); } catch { return found; }
    for (const ent of entries) {
      const child = `${rel}/${ent.name}`;
      // The local store's own temp files (left by a SIGKILLed write) are not
      // objects: the store never lists or reads them.
      if (ent.name.startsWith('.collator-')) {
        if (ent.name.startsWith('.collator-tmp-')) orphans.add(child);
        continue;
      }
      if (ent.isDirectory()) walk(child, found);
      else found.set(child, readFileSync(path.join(dir, child)));
    }
    return found;
  };
  return {
    name: 'local',
    dir,
    url: dir,
    env: {},
    async put(key, body) {
      const file = path.join(dir, key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, body);
    },
    orphans,
    process: (now, keys, env = {}, opts = {}) => run(['process', '--store', dir, '--now', now, ...keys], env, opts),
    async outputs() { return walk('collated_logs', new Map()); },
    // mtimes of every output (to prove that nothing was written)
    async mtimes() {
      const out = new Map();
      for (const key of walk('collated_logs', new Map()).keys()) out.set(key, statSync(path.join(dir, key), { bigint: true }).mtimeNs);
      return out;
    },
    // Empty the store (uploads and outputs).
    async reset() {
      for (const ent of readdirSync(dir)) rmSync(path.join(dir, ent), { recursive: true, force: true });
    },
    async close() { rmSync(dir, { recursive: true, force: true }); },
  };
}



export async function s3Store({ bucket = 'reliability', faults = [], seed = 1 } = {}) {
  const stack = await startS3Stack({ bucket, faults, seed });
  return {
    name: 's3',
    stack,
    url: `s3://${bucket}`,
    env: stack.env,
    put: (key, body) => s3rverRequest(stack, 'PUT', `/${bucket}/${encodeKey(key)}`, Buffer.from(body)),
    process: (now, keys, env = {}, opts = {}) =>
      run(['process', '--store', `s3://${bucket}`, '--now', now, ...keys], { ...stack.env, ...env }, opts),
    async outputs() {
      const keys = await this.list('collated_logs/');
      const found = new Map();
      for (const key of keys) found.set(key, await s3rverRequest(stack, 'GET', `/${bucket}/${encodeKey(key)}`));
      return found;
    },
    async reset() {
      for (const key of await this.list('')) await s3rverRequest(stack, 'DELETE', `/${bucket}/${encodeKey(key)}`);
    },
    async list(prefix) {
      const keys = [];
      let token = null;
      do {
        const query = `list-type=2&prefix=${encodeURIComponent(prefix)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`;
        const xml = (await s3rverRequest(stack, 'GET', `/${bucket}?${query}`)).toString('utf8');
        for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unescapeXml(m[1]));
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)</.exec(xml)[1]) : null;
      } while (token);
      return keys;
    },
    close: () => stack.stop(),
  };
}

// Rows of a Parquet file given as bytes, read back by `collator cat`.
export function catRows(bytes) {
  const dir = mkdtempSync(path.join(tmpdir(), 'reliability-cat-'));
  try {
    const file = path.join(dir, 'f.parquet');
    writeFileSync(file, bytes);
    const r = spawnSync(BIN, ['cat', '--format', 'jsonl', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`collator cat: ${r.stderr}`);
    return parseJsonLines(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const currentKey = (type, user) => `collated_logs/current/${type}/user=${user}/logs.parquet`;
export const diffKey = (type, day, user) => `collated_logs/diff/${type}/ts_update=${day}/user=${user}/logs.parquet`;
export const txtKey = (type, user, device) => `collated_logs/user-${user}/device-${device}/collated_${type}.txt`;

// A seeded PRNG (mulberry32, the proxy's) so that random schedules repeat.
export { prng } from './s3proxy.mjs';

// A scenario's store: emptied, each prior upload collated at nowPrior, then
// the target upload put (not collated). scenario = { prior: [[key, body]...],
// target: [key, body] }.
export async function prepareScenario(st, scenario, nowPrior) {
  await st.reset();
  for (const [k, body] of scenario.prior) {
    await st.put(k, body);
    const r = await st.process(nowPrior, [k]);
    if (r.status !== 0) throw new Error(`prior upload ${k} failed: ${r.stderr}`);
  }
  await st.put(scenario.target[0], scenario.target[1]);
}
