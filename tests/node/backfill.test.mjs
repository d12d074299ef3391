// `collator backfill` end to end: a generated bucket of many users, devices
// and log types (some uploads gzip, some bad JSON, some entries rejected, a
// user id spelled two ways, keys outside the layout), backfilled with
// several workers and compared byte for byte with `collator process` run
// over the same keys one after another in group order; then --dry-run, a
// narrower prefix, and the same backfill against S3 through the
// signature-verifying proxy.
//
// BACKFILL_USERS (default 8) scales the bucket; 40 gives the 40 users x 2
// devices x 4 log types of the issue, slower on a small machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collatorBin, spawnCollator } from './lib/collator.mjs';
import { startS3Stack, s3rverRequest, encodeKey } from './lib/s3stack.mjs';

const BIN = collatorBin;

// The default binary is built when missing; a COLLATOR_BIN is used as is.
function ensureBinary() {
  if (!process.env.COLLATOR_BIN && !existsSync(BIN))
    execFileSync('make', ['-s', 'BUILD=build/gcc', 'build/gcc/collator'], { stdio: 'inherit' });
}
const NOW = '2026-11-24T10:00:00Z';
const USERS = Number(process.env.BACKFILL_USERS || 8);
const TYPES = ['app_packages', 'call_log', 'contact_list', 'sms_log'];
const DEVICES = ['dev-a', 'dev-b'];
const BUCKET = 'backfill-test';

let scratch;
let source;  // the generated uploads alone, copied for each run
let bucket;  // what the generator made: keys, expected counts

// The S3 proxy lives in this process: never block the event loop.
const run = spawnCollator;

const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const summaryOf = (r) => {
  const lines = jsonLines(r.stdout);
  assert.ok(lines.length, `no JSON summary on stdout: ${r.stderr}`);
  return lines[lines.length - 1];
};

function entry(type, user, device, i, version) {
  const tag = `${user}-${device}-${i}`;
  switch (type) {
    case 'app_packages':
      return { package_name: `com.example.${tag}${version ? '.v' + version : ''}` };
    case 'call_log':
      return { cached_name: `caller ${tag}`, call_type: String(1 + (i % 3)), datetime: String(1466176793178 + i * 60000),
        duration: String(10 + i + version), item_id: 1000 + i, phone_number: `+254 700 ${String(i).padStart(3, '0')}` };
    case 'contact_list':
      return { display_name: `Contact ${tag}`, item_id: 200000 + i, last_time_contacted: 1510590105792 + i * 1000,
        phone_numbers: [{ item_id: 417000 + i, normalized_phone_number: `+2547290${String(i).padStart(5, '0')}`, phone_number: `0729 ${i}` }],
        photo_id: String(417143 + i), times_contacted: i + version };
    default:
      return { contact_id: i, datetime: 1487722326477 + i * 1000, item_id: 120 + i, message_body: `hello ${tag} v${version}`,
        sms_address: `+075 ${i}`, sms_type: 1 + (i % 6), thread_id: 30 + (i % 4) };
  }
}

// Upload k of one device: items shift between uploads so that later ones add,
// change and delete rows.
function uploadBody(type, user, device, k) {
  const items = [];
  for (let i = k; i < k + 3 + (user % 3); i++) items.push(entry(type, user, device, i, i === k + 1 ? k : 0));
  return items;
}

function generate(dir) {
  const keys = [];
  const put = (key, body) => {
    const file = path.join(dir, key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  };
  let rejectedUploads = 0;
  for (let user = 1; user <= USERS; user++) {
    for (const [d, device] of DEVICES.entries()) {
      // User 2's second device spells its id "002": the same user, so the same group.
      const userText = user === 2 && d === 1 ? '002' : String(user);
      for (const type of TYPES) {
        const uploads = 2 + ((user + d) % 2);
        for (let k = 1; k <= uploads; k++) {
          const key = `uploads/users/${userText}/serial-${d}/${device}/${type}/2026-11-2${k}T08-00-00.json`;
          let body;
          if (user % 5 === 3 && d === 0 && type === 'call_log' && k === 2) {
            body = Buffer.from('[{"item_id": 1,');
            rejectedUploads++;
          } else {
            const items = uploadBody(type, user, device, k);
            if (user % 4 === 2 && k === 1) items.push(7, { unexpected: true }); // rejected entries
            body = Buffer.from(JSON.stringify(items));
            if (user % 3 === 1) body = gzipSync(body);
          }
          put(key, body);
          keys.push({ key, user, type });
        }
      }
    }
  }
  const skipped = ['uploads/users/abc/serial-0/dev-a/app_packages/x.json',
    'uploads/users/1/serial-0/dev-a/no_such_type/x.json', 'uploads/users/1/notes.txt'];
  for (const key of skipped) put(key, '[]');
  // Group order: user id as a number, log type, key bytes; the backfill may
  // run groups in any order since they share no output.
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  keys.sort((a, b) => a.user - b.user || cmp(a.type, b.type) || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  const groups = new Set(keys.map((k) => `${k.user}/${k.type}`)).size;
  return { keys: keys.map((k) => k.key), groups, skipped: skipped.length, rejectedUploads };
}

// Every file under dir except the uploads and the store's lock files.
function outputs(dir) {
  const found = new Map();
  const walk = (rel) => {
    for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) {
        if (child !== 'uploads' && child !== '.collator-locks') walk(child);
      } else found.set(child, readFileSync(path.join(dir, child)));
    }
  };
  walk('');
  return found;
}

function assertSameOutputs(got, want, what) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same output keys`);
  for (const [key, bytes] of want) assert.ok(bytes.equals(got.get(key)), `${what}: ${key} differs`);
}

function freshStore(name) {
  const dir = path.join(scratch, name);
  cpSync(source, dir, { recursive: true });
  return dir;
}

let reference; // outputs of `collator process` in group order
let backfilled;

before(async () => {
  ensureBinary();
  scratch = mkdtempSync(path.join(tmpdir(), 'collator-backfill-'));
  source = path.join(scratch, 'source');
  bucket = generate(source);
  const dir = freshStore('sequential');
  const r = await run(['process', '--store', dir, '--now', NOW, ...bucket.keys]);
  assert.equal(r.status, 0, r.stderr);
  reference = { files: outputs(dir), lines: jsonLines(r.stderr) };
  assert.equal(reference.lines.length, bucket.keys.length);
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('backfill with 4 workers: summary numbers and the outputs of sequential process', async () => {
  const dir = freshStore('parallel');
  const r = await run(['backfill', '--store', dir, '--prefix', 'uploads/users/', '--jobs', '4', '--now', NOW]);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r);
  const sum = (field) => reference.lines.reduce((n, l) => n + l[field], 0);
  const count = (outcome) => reference.lines.filter((l) => l.outcome === outcome).length;
  assert.equal(s.dry_run, false);
  assert.equal(s.jobs, 4);
  assert.equal(s.uploads, bucket.keys.length);
  assert.equal(s.groups, bucket.groups);
  assert.equal(s.skipped_keys, bucket.skipped);
  assert.equal(s.failures, 0);
  assert.equal(s.not_attempted, 0);
  assert.equal(s.rejected_uploads, bucket.rejectedUploads);
  assert.ok(s.rejected_entries > 0);
  assert.ok(s.rows_deleted > 0);
  for (const [field, want] of [['updated', count('updated')], ['unchanged', count('unchanged')],
    ['rejected_uploads', count('rejected')], ['rows_new', sum('new_rows')],
    ['rows_deleted', sum('deleted_rows')], ['rejected_entries', sum('rejected_entries')]])
    assert.equal(s[field], want, field);
  assert.equal(typeof s.seconds, 'number');
  // Not a terminal: plain progress lines, no carriage returns, and no
  // per-upload JSON without --verbose.
  assert.match(r.stderr, /progress: \d+\/\d+ uploads/);
  assert.ok(!r.stderr.includes('\r'));
  assert.equal(jsonLines(r.stderr).length, 0);
  assert.match(r.stderr, /backfill: \d+ uploads in \d+ groups/);
  assert.match(r.stderr, /skipping uploads\/users\/abc\//);
  backfilled = outputs(dir);
  assertSameOutputs(backfilled, reference.files, 'backfill vs process');
  assert.ok([...backfilled.keys()].some((k) => k.startsWith('collated_logs/rejected/')));
});

test('--verbose logs one JSON line per upload', async () => {
  const dir = freshStore('verbose');
  const r = await run(['backfill', '--store', dir, '--prefix', 'uploads/users/5/', '--jobs', '3', '--now', NOW, '--verbose']);
  assert.equal(r.status, 0, r.stderr);
  const lines = jsonLines(r.stderr);
  const mine = bucket.keys.filter((k) => k.startsWith('uploads/users/5/'));
  assert.deepEqual(lines.map((l) => l.key).sort(), [...mine].sort());
  // Within a group the log shows key order.
  for (const type of TYPES) {
    const order = lines.filter((l) => l.log_type === type).map((l) => l.key);
    assert.deepEqual(order, [...order].sort(), type);
  }
});

test('--dry-run prints the plan and writes nothing', async () => {
  const dir = freshStore('dry');
  const r = await run(['backfill', '--store', dir, '--prefix', 'uploads/users/', '--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const s = lines.pop();
  assert.equal(s.dry_run, true);
  assert.equal(s.uploads, bucket.keys.length);
  assert.equal(s.groups, bucket.groups);
  assert.equal(lines.length, bucket.groups);
  assert.equal(lines.reduce((n, g) => n + g.uploads, 0), bucket.keys.length);
  assert.equal(lines.reduce((n, g) => n + g.bytes, 0), s.bytes);
  const user2 = lines.filter((g) => g.user_id === 2);
  assert.equal(user2.length, TYPES.length);
  assert.ok(user2.every((g) => g.first_key.startsWith('uploads/users/002/')), 'keys of 002 and 2 in one group');
  assert.ok(!existsSync(path.join(dir, 'collated_logs')));
});

test('a narrower prefix touches only that user', async () => {
  const dir = freshStore('narrow');
  const r = await run(['backfill', '--store', dir, '--prefix', 'uploads/users/3/', '--now', NOW]);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r);
  assert.equal(s.groups, TYPES.length);
  assert.equal(s.skipped_keys, 0);
  const got = outputs(dir);
  assert.ok(got.size > 0);
  const mine = new Map([...reference.files].filter(([k]) => /user[=-]3\/|uploads\/users\/3\//.test(k)));
  assertSameOutputs(got, mine, 'user 3 alone');
});

test('usage errors exit 2 and --help exits 0', async () => {
  assert.equal((await run(['backfill'])).status, 2);
  assert.equal((await run(['backfill', '--prefix', 'x', '--jobs', '0'])).status, 2);
  assert.equal((await run(['backfill', '--prefix', 'x', '--bogus'])).status, 2);
  assert.equal((await run(['backfill', '--prefix', 'x', '--now', 'yesterday'])).status, 2);
  const help = await run(['backfill', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: collator backfill/);
});

test('a failing group fails the run (exit 1) and leaves its later uploads', async () => {
  const dir = freshStore('failing');
  // An unreadable current file fails the user's uploads; other groups go on.
  const current = path.join(dir, 'collated_logs/current/sms_log/user=1/logs.parquet');
  mkdirSync(path.dirname(current), { recursive: true });
  writeFileSync(current, 'PAR1garbagePAR1');
  const r = await run(['backfill', '--store', dir, '--prefix', 'uploads/users/1/', '--now', NOW, '--jobs', '2']);
  assert.equal(r.status, 1);
  const s = summaryOf(r);
  assert.equal(s.failures, 1);
  assert.equal(s.not_attempted, bucket.keys.filter((k) => /^uploads\/users\/1\/.*\/sms_log\//.test(k)).length - 1);
  assert.equal(s.updated, s.uploads - s.failures - s.not_attempted - s.unchanged - s.rejected_uploads);
  const failed = jsonLines(r.stderr).filter((l) => l.outcome === 'failed');
  assert.equal(failed.length, 1, 'failures are logged without --verbose');
  assert.equal(readFileSync(current, 'utf8'), 'PAR1garbagePAR1');
});

// ---- S3 -------------------------------------------------------------------


// A few requests at a time: s3rver is one process, and seeding hundreds of
// objects one by one would dominate the test's run time.
async function inBatches(items, fn, width = 16) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}


async function s3Objects(stack, prefix) {
  const keys = [];
  let token = null;
  do {
    const query = `list-type=2&prefix=${encodeURIComponent(prefix)}` +
      (token ? `&continuation-token=${encodeURIComponent(token)}` : '');
    const xml = (await s3rverRequest(stack, 'GET', `/${BUCKET}?${query}`)).toString('utf8');
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g))
      keys.push(m[1].replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'"));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)[1] : null;
  } while (token);
  const found = new Map();
  await inBatches(keys, async (key) => { found.set(key, await s3rverRequest(stack, 'GET', `/${BUCKET}/${encodeKey(key)}`)); });
  return found;
}

test('the same backfill against S3 gives byte-identical outputs', async () => {
  const stack = await startS3Stack({ bucket: BUCKET });
  try {
    // Uploads go straight to s3rver: the test seeds the bucket, the collator
    // alone goes through the verifying proxy.
    await inBatches([...bucket.keys, 'uploads/users/abc/serial-0/dev-a/app_packages/x.json'], (key) =>
      s3rverRequest(stack, 'PUT', `/${BUCKET}/${encodeKey(key)}`, readFileSync(path.join(source, key))));
    const r = await run(['backfill', '--store', `s3://${BUCKET}`, '--prefix', 'uploads/users/', '--jobs', '4', '--now', NOW], stack.env);
    assert.equal(r.status, 0, r.stderr);
    const s = summaryOf(r);
    assert.equal(s.store, `s3://${BUCKET}`);
    assert.equal(s.uploads, bucket.keys.length);
    assert.equal(s.failures, 0);
    assert.equal(s.skipped_keys, 1);
    const got = await s3Objects(stack, 'collated_logs/');
    assertSameOutputs(got, backfilled || reference.files, 'S3 vs local');
    const bad = stack.requests.filter((q) => q.signatureOk !== true);
    assert.equal(bad.length, 0, 'every request signed correctly');
    assert.equal(s.store_requests, stack.requests.length);
  } finally {
    await stack.stop();
  }
});
