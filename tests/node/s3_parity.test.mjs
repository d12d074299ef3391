// S3 parity: the collation scenarios (first upload, unchanged re-upload,
// additions, deletions, re-add, a second device, gzip, bad JSON, a replay)
// run step by step with `collator process` against a local store and
// against S3 through the signature-verifying proxy, and every output object
// (current, diff, txt, rejected records) must be byte-identical after every
// step. Then the same steps against S3 with ~20% of requests failing (503
// SlowDown, 500, connection reset; seeded) must end with the same outputs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collatorBin, spawnCollator } from './lib/collator.mjs';
import { startS3Stack, s3rverRequest, encodeKey, unescapeXml } from './lib/s3stack.mjs';

const BIN = collatorBin;

// The default binary is built when missing; a COLLATOR_BIN is used as is.
function ensureBinary() {
  if (!process.env.COLLATOR_BIN && !existsSync(BIN))
    execFileSync('make', ['-s', 'BUILD=build/gcc', 'build/gcc/collator'], { stdio: 'inherit' });
}
const BUCKET = 'parity-test';
const fixtures = JSON.parse(readFileSync('tests/fixtures/collate/uploads.json', 'utf8'));
const apps = (...names) => JSON.stringify(names.map((n) => ({ package_name: `com.example.${n}` })));
const upload = (device, type, name) => `uploads/users/321/serial/${device}/${type}/${name}`;

// Each step: the uploads it adds, processed in order in one run at `now`.
const STEPS = [
  { name: 'first upload of every log type', now: '2026-11-20T10:00:00Z', uploads: [
    [upload('d1', 'app_packages', '01.json'), apps('a', 'b', 'c')],
    [upload('d1', 'sms_log', '01.json'), JSON.stringify(fixtures.sms_log)],
    [upload('d1', 'call_log', '01.json'), JSON.stringify(fixtures.call_log)],
    [upload('d1', 'contact_list', '01.json'), JSON.stringify(fixtures.contact_list)]],
  outcomes: ['updated', 'updated', 'updated', 'updated'] },
  { name: 're-upload unchanged', now: '2026-11-20T11:00:00Z',
    uploads: [[upload('d1', 'app_packages', '02.json'), apps('a', 'b', 'c')]], outcomes: ['unchanged'] },
  { name: 'additions', now: '2026-11-21T09:00:00Z',
    uploads: [[upload('d1', 'app_packages', '03.json'), apps('a', 'b', 'c', 'd', 'e')]], outcomes: ['updated'] },
  { name: 'deletions', now: '2026-11-21T15:00:00Z',
    uploads: [[upload('d1', 'app_packages', '04.json'), apps('a', 'e')]], outcomes: ['updated'] },
  { name: 're-add', now: '2026-11-22T09:00:00Z',
    uploads: [[upload('d1', 'app_packages', '05.json'), apps('a', 'b', 'e')]], outcomes: ['updated'] },
  { name: 'second device', now: '2026-11-22T10:00:00Z', uploads: [
    [upload('d2', 'app_packages', '01.json'), apps('a', 'x', 'y')],
    [upload('d2', 'sms_log', '01.json'), JSON.stringify([{ ...fixtures.sms_log[0], item_id: 900, message_body: 'from d2' }])]],
  outcomes: ['updated', 'updated'] },
  { name: 'gzip', now: '2026-11-23T09:00:00Z', uploads: [
    [upload('d1', 'app_packages', '06.json.gz'), gzipSync(Buffer.from(apps('a', 'b', 'e', 'f')))],
    [upload('d1', 'call_log', '02.json'), gzipSync(Buffer.from(JSON.stringify([...fixtures.call_log, { ...fixtures.call_log[0], item_id: 75, duration: '99' }])))]],
  outcomes: ['updated', 'updated'] },
  { name: 'bad JSON is rejected', now: '2026-11-23T10:00:00Z', uploads: [
    [upload('d1', 'app_packages', '07.json'), '[{"package_name": "com.example.a",'],
    [upload('d2', 'contact_list', '01.json'), gzipSync(Buffer.from('{"not": "a list"}'))]],
  outcomes: ['rejected', 'rejected'] },
  { name: 'replay of an earlier upload', now: '2026-11-23T12:00:00Z', replay: [upload('d1', 'app_packages', '03.json'), upload('d1', 'sms_log', '01.json')],
    outcomes: ['updated', 'unchanged'] },
];

// The S3 proxy lives in this process: never block the event loop.
const run = spawnCollator;

const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// The fields of a log line that depend on the data, not on the store or timing.
const comparable = ({ seconds, bytes_read, bytes_written, attempts, ...rest }) => rest; // eslint-disable-line no-unused-vars

// ---- the two stores ---------------------------------------------------------

function localStore(dir) {
  return {
    name: 'local',
    async put(key, body) {
      const file = path.join(dir, key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, body);
    },
    process: (now, keys) => run(['process', '--store', dir, '--now', now, ...keys]),
    async outputs() {
      const found = new Map();
      const walk = (rel) => {
        for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
          const child = `${rel}/${ent.name}`;
          if (ent.isDirectory()) walk(child);
          else found.set(child, readFileSync(path.join(dir, child)));
        }
      };
      walk('collated_logs');
      return found;
    },
  };
}



// The test seeds uploads and reads outputs straight from s3rver, so that the
// proxy's request log holds the collator's requests alone.
function s3Store(stack, env = {}) {
  return {
    name: 's3',
    put: (key, body) => s3rverRequest(stack, 'PUT', `/${BUCKET}/${encodeKey(key)}`, Buffer.from(body)),
    process: (now, keys) => run(['process', '--store', `s3://${BUCKET}`, '--now', now, ...keys], { ...stack.env, ...env }),
    async outputs() {
      const keys = [];
      let token = null;
      do {
        const query = `list-type=2&prefix=collated_logs%2F${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`;
        const xml = (await s3rverRequest(stack, 'GET', `/${BUCKET}?${query}`)).toString('utf8');
        for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unescapeXml(m[1]));
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)</.exec(xml)[1]) : null;
      } while (token);
      const found = new Map();
      for (const key of keys) found.set(key, await s3rverRequest(stack, 'GET', `/${BUCKET}/${encodeKey(key)}`));
      return found;
    },
  };
}

// Runs the steps; returns per step the log lines and the outputs after it.
async function runScenario(store) {
  const results = [];
  for (const step of STEPS) {
    for (const [key, body] of step.uploads || []) await store.put(key, body);
    const keys = step.replay || step.uploads.map(([key]) => key);
    const r = await store.process(step.now, keys);
    assert.equal(r.status, 0, `${store.name}: ${step.name}: ${r.stderr}`);
    const lines = jsonLines(r.stderr);
    assert.deepEqual(lines.map((l) => l.outcome), step.outcomes, `${store.name}: ${step.name}`);
    results.push({ lines, outputs: await store.outputs() });
  }
  return results;
}

function assertSameOutputs(got, want, what) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same output keys`);
  for (const [key, bytes] of want) assert.ok(bytes.equals(got.get(key)), `${what}: ${key} differs`);
}

function assertParity(got, want, label) {
  for (const [i, step] of STEPS.entries()) {
    assert.deepEqual(got[i].lines.map(comparable), want[i].lines.map(comparable), `${label}: ${step.name}: log lines`);
    assertSameOutputs(got[i].outputs, want[i].outputs, `${label}: ${step.name}`);
  }
}

let scratch;
let local;

before(async () => {
  ensureBinary();
  scratch = mkdtempSync(path.join(tmpdir(), 'collator-s3-parity-'));
  local = await runScenario(localStore(scratch));
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('local store: the scenarios produce every kind of output', () => {
  const last = local[local.length - 1].outputs;
  const kinds = ['collated_logs/current/', 'collated_logs/diff/', 'collated_logs/user-321/', 'collated_logs/rejected/'];
  for (const kind of kinds) assert.ok([...last.keys()].some((k) => k.startsWith(kind)), kind);
  // Deletions and the replay wrote deletion markers.
  assert.ok(local[3].lines[0].deleted_rows > 0);
  assert.ok(local[8].lines[0].deleted_rows > 0);
});

test('S3 through the verifying proxy: byte-identical outputs, every signature verified', async () => {
  const stack = await startS3Stack({ bucket: BUCKET });
  try {
    const s3 = await runScenario(s3Store(stack));
    assertParity(s3, local, 'S3');
    assert.ok(stack.requests.length > 0);
    const unverified = stack.requests.filter((q) => q.signatureOk !== true || q.status === 403);
    assert.deepEqual(unverified, [], 'every request signed correctly');
    assert.ok(stack.requests.every((q) => q.fault === null));
    // The writes of current and diff really were conditional: every PUT,
    // copy and CompleteMultipartUpload names the version it replaces
    // (If-Match) or that there is none (If-None-Match: *), never both.
    const writes = stack.requests.filter((q) => /^collated_logs\/(current|diff)\//.test(q.key) &&
      ((q.method === 'PUT' && !/partNumber=/.test(q.query)) || (q.method === 'POST' && /uploadId=/.test(q.query))));
    assert.ok(writes.some((q) => q.ifMatch) && writes.some((q) => q.ifNoneMatch), 'both kinds seen');
    for (const q of writes) {
      assert.ok(!q.ifMatch !== !q.ifNoneMatch, `${q.method} ${q.key}?${q.query}: one precondition`);
      if (q.ifNoneMatch) assert.equal(q.ifNoneMatch, '*', q.key);
    }
    // Every first upload's current was copied on the server from its diff,
    // pinned to the diff's ETag (four log types; the second device's sms
    // upload found a history).
    const copies = stack.requests.filter((q) => q.copySource);
    assert.equal(copies.length, 4);
    for (const q of copies) {
      assert.equal(q.status, 200);
      assert.match(q.key, /^collated_logs\/current\//);
      assert.match(q.copySource, new RegExp(`^/${BUCKET}/collated_logs/diff/`));
    }
  } finally {
    await stack.stop();
  }
});

test('S3 with ~20% injected faults (503, 500, reset) ends with the same outputs', async (t) => {
  const stack = await startS3Stack({
    bucket: BUCKET,
    seed: 20261124,
    faults: [{ type: '503', probability: 0.07 }, { type: '500', probability: 0.07 }, { type: 'reset', probability: 0.07 }],
  });
  try {
    // More attempts per request than the default 3 so that a seeded run of
    // bad luck cannot fail an upload; the retries themselves are the point.
    const s3 = await runScenario(s3Store(stack, { COLLATOR_S3_MAX_ATTEMPTS: '10' }));
    assertParity(s3, local, 'S3 with faults');
    const faulted = stack.requests.filter((q) => q.fault);
    const kinds = new Set(faulted.map((q) => q.fault));
    t.diagnostic(`${faulted.length} of ${stack.requests.length} requests faulted (${[...kinds].join(', ')})`);
    assert.ok(faulted.length / stack.requests.length > 0.1, `faults on ${faulted.length} of ${stack.requests.length} requests`);
    for (const kind of ['503', '500', 'reset']) assert.ok(kinds.has(kind), `a ${kind} was injected`);
    assert.ok(stack.requests.every((q) => q.signatureOk === true), 'retried requests are signed afresh');
  } finally {
    await stack.stop();
  }
});

test('a libcurl that cannot be loaded is a configuration error naming the library', () => {
  ensureBinary();
  const cases = [
    ['/nonexistent/libcurl.so.4', /cannot load \/nonexistent\/libcurl\.so\.4 \(S3 stores need libcurl\)/],
    // A library that loads but is not libcurl.
    ['libz.so.1', /libz\.so\.1: curl_easy_init is missing/],
  ];
  for (const [library, message] of cases) {
    let failure;
    try {
      execFileSync(BIN, ['process', '--store', 's3://bucket', 'uploads/users/1/s/d/sms_log/a.json'],
        { env: { ...process.env, COLLATOR_LIBCURL: library }, stdio: 'pipe' });
    } catch (error) {
      failure = error;
    }
    assert.ok(failure, `${library}: the command failed`);
    assert.equal(failure.status, 2, `${library}: a usage/configuration exit status`);
    assert.match(failure.stderr.toString(), message);
  }
  // Through the Lambda handler (`collator event`), the failed invocation's
  // error type says configuration, not a retryable upload failure.
  const event = spawnSync(BIN, ['event', '--store', 's3://bucket', '-'], {
    input: '{"bucket": "bucket", "key": "uploads/users/1/s/d/sms_log/a.json"}',
    env: { ...process.env, COLLATOR_LIBCURL: '/nonexistent/libcurl.so.4' }, encoding: 'utf8' });
  assert.equal(event.status, 1, event.stderr);
  assert.match(event.stdout, /"errorType": "InvalidConfiguration"/);
  assert.match(event.stdout, /cannot load \/nonexistent\/libcurl\.so\.4/);
});
