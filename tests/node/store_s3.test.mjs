// The C S3 backend (src/store/store_s3.c) against s3rver behind the
// verifying proxy, driven through tests/tools/store_tool.c: every operation,
// signatures checked on every request, conditional writes, retries under
// injected faults, a 200 MB multipart upload and streaming download, and
// listing past the 1000-key page size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startS3Stack } from './lib/s3stack.mjs';

const run = promisify(execFile);
const buildDir = process.env.COLLATOR_BUILD_DIR || 'build/gcc';
// COLLATOR_STORE_TOOL: use a store_tool built elsewhere (e.g. with ASan) as is.
const toolPath = process.env.COLLATOR_STORE_TOOL || join(buildDir, 'store_tool');
const BUCKET = 'store-test';
let stack;
let scratch;

function buildTool() {
  const lib = join(buildDir, 'libcollator.a');
  try {
    execFileSync('make', ['-s', `BUILD=${buildDir}`, ...(process.env.COLLATOR_BUILD_DIR ? [] : ['CC=gcc']), lib], { stdio: 'inherit' });
  } catch (error) {
    // Another module mid-edit may break the full library; an existing one still has the store.
    if (!existsSync(lib)) throw error;
    console.error(`# store_s3: make failed, using the existing ${lib}`);
  }
  execFileSync('gcc', ['-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-Isrc', '-O2', 'tests/tools/store_tool.c', lib,
    '-lcrypto', '-lz', '-lsnappy', '-lzstd', '-llz4', '-lutf8proc', '-lisal', '-lm', '-lpthread', '-o', toolPath], { stdio: 'inherit' });
}

// Run store_tool asynchronously (the proxy lives in this process) and parse its JSON.
async function tool(args, env = {}) {
  let stdout;
  try {
    ({ stdout } = await run(toolPath, ['--store', `s3://${BUCKET}`, ...args],
      { env: { ...process.env, ...stack.env, ...env }, maxBuffer: 64 << 20 }));
  } catch (error) {
    if (error.code !== 1 || !error.stdout) throw error;
    stdout = error.stdout;
  }
  return JSON.parse(stdout);
}

const sinceMark = () => {
  const mark = stack.requests.length;
  return () => stack.requests.slice(mark);
};

before(async () => {
  if (!process.env.COLLATOR_STORE_TOOL) buildTool();
  scratch = mkdtempSync(join(tmpdir(), 'collator-store-s3-'));
  stack = await startS3Stack({ bucket: BUCKET });
});

after(async () => {
  if (stack) await stack.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('every operation round-trips, with a signature the proxy verified on every request', async () => {
  const seen = sinceMark();
  const key = 'uploads/users/1/dev ice/+plus&amp<lt>~tilde/é.json';
  const put = await tool(['put', key, '[{"a":1}]']);
  assert.equal(put.ok, true, put.message);
  assert.equal(put.size, 9);
  assert.match(put.etag, /^"[0-9a-f]{32}"$/);

  const head = await tool(['head', key]);
  assert.equal(head.ok, true, head.message);
  assert.equal(head.size, 9);
  assert.equal(head.etag, put.etag);

  const get = await tool(['get', key]);
  assert.equal(get.body, '[{"a":1}]');
  assert.equal(get.etag, put.etag);

  const range = await tool(['range', key, '2', '5', '--etag', put.etag]);
  assert.equal(range.ok, true, range.message);
  assert.equal(range.body, '"a":1');

  const stream = await tool(['stream', key]);
  assert.equal(stream.read, 9);
  assert.equal(stream.md5, createHash('md5').update('[{"a":1}]').digest('hex'));

  const small = join(scratch, 'small.bin');
  const bytes = randomBytes(300000);
  closeSync(openSync(small, 'w'));
  const fd = openSync(small, 'w');
  writeSync(fd, bytes);
  closeSync(fd);
  const putFile = await tool(['put-file', 'files/small.bin', small]);
  assert.equal(putFile.ok, true, putFile.message);
  assert.equal(putFile.size, 300000);
  const out = join(scratch, 'small.out');
  const getFile = await tool(['get', 'files/small.bin', '--out', out]);
  assert.equal(getFile.ok, true, getFile.message);
  assert.deepEqual(readFileSync(out), bytes);

  const list = await tool(['list', 'uploads/users/1/']);
  assert.deepEqual(list.keys.map((k) => k.key), [key]);
  assert.equal(list.keys[0].etag, put.etag);
  assert.equal(list.keys[0].size, 9);

  assert.equal((await tool(['delete', key])).ok, true);
  const gone = await tool(['get', key]);
  assert.equal(gone.ok, false);
  assert.equal(gone.status, 'not_found');
  assert.match(gone.message, /s3:\/\/store-test\/uploads\/users\/1\/dev ice.*HTTP 404 NoSuchKey/);
  assert.equal((await tool(['head', key])).status, 'not_found');
  assert.equal((await tool(['delete', key])).ok, true, 'deleting a missing key succeeds');

  const requests = seen();
  assert.ok(requests.length >= 12);
  for (const r of requests) assert.equal(r.signatureOk, true, `${r.method} ${r.key}?${r.query}`);
});

test('a session token is sent and signed', async () => {
  const seen = sinceMark();
  const put = await tool(['put', 'token/obj', 'x'], { AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEtoken+/=' });
  assert.equal(put.ok, true, put.message);
  assert.equal(seen()[0].signatureOk, true);
});

test('a wrong secret is a 403 SignatureDoesNotMatch, never retried', async () => {
  const seen = sinceMark();
  const result = await tool(['put', 'denied/obj', 'x'], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
  assert.equal(result.ok, false);
  assert.equal(result.status, 'remote');
  assert.match(result.message, /s3:\/\/store-test\/denied\/obj: PUT: HTTP 403 SignatureDoesNotMatch/);
  assert.doesNotMatch(result.message, /not-the-secret/);
  assert.equal(result.stats.requests, 1);
  assert.equal(result.stats.retries, 0);
  assert.equal(seen()[0].signatureOk, false);
  const getDenied = await tool(['get', 'token/obj'], { AWS_SECRET_ACCESS_KEY: 'wrong' });
  assert.match(getDenied.message, /HTTP 403 SignatureDoesNotMatch/);
  const wrongKey = await tool(['head', 'token/obj'], { AWS_ACCESS_KEY_ID: 'NOBODY' });
  assert.equal(wrongKey.status, 'remote');
  assert.match(wrongKey.message, /HTTP 403/);
});

test('conditional writes: If-None-Match and If-Match map 412 to conflict', async () => {
  const first = await tool(['put', 'cond/obj', 'one', '--if-absent']);
  assert.equal(first.ok, true, first.message);
  const again = await tool(['put', 'cond/obj', 'two', '--if-absent']);
  assert.equal(again.ok, false);
  assert.equal(again.status, 'conflict');
  assert.match(again.message, /HTTP 412 PreconditionFailed/);
  assert.equal(again.stats.conflicts, 1);
  assert.equal(again.stats.retries, 0);

  const second = await tool(['put', 'cond/obj', 'two', '--if-match', first.etag]);
  assert.equal(second.ok, true, second.message);
  const stale = await tool(['put', 'cond/obj', 'three', '--if-match', first.etag]);
  assert.equal(stale.status, 'conflict');
  assert.equal((await tool(['get', 'cond/obj'])).body, 'two');
  const missing = await tool(['put', 'cond/none', 'x', '--if-match', first.etag]);
  assert.equal(missing.status, 'conflict');

  const staleRange = await tool(['range', 'cond/obj', '0', '1', '--etag', first.etag]);
  assert.equal(staleRange.status, 'conflict');
  const goodRange = await tool(['range', 'cond/obj', '0', '3', '--etag', second.etag]);
  assert.equal(goodRange.body, 'two');
  const pastEnd = await tool(['range', 'cond/obj', '2', '5']);
  assert.equal(pastEnd.status, 'format');

  // Racing writers with the same If-Match: exactly one wins.
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    tool(['put', 'cond/obj', `writer ${i}`, '--if-match', second.etag])));
  assert.equal(results.filter((r) => r.ok).length, 1);
  assert.equal(results.filter((r) => r.status === 'conflict').length, 7);
});

test('copy is server-side, pinned to the source version, conditional on the destination', async () => {
  const source = 'copy/dir é/source+1';
  const put = await tool(['put', source, 'copied bytes']);
  assert.equal(put.ok, true, put.message);
  const seen = sinceMark();
  const copy = await tool(['copy', source, put.etag, 'copy/dest', '--if-absent']);
  assert.equal(copy.ok, true, copy.message);
  const requests = seen();
  assert.equal(requests.length, 1, 'one request, no bytes through the client');
  assert.equal(requests[0].copySource, `/${BUCKET}/${source}`);
  assert.equal(requests[0].signatureOk, true);
  assert.equal((await tool(['get', 'copy/dest'])).body, 'copied bytes');

  // The destination's condition and the source's version both hold, or it is a conflict.
  const exists = await tool(['copy', source, put.etag, 'copy/dest', '--if-absent']);
  assert.equal(exists.status, 'conflict');
  const stale = await tool(['copy', source, '"00000000000000000000000000000000"', 'copy/other']);
  assert.equal(stale.status, 'conflict');
  assert.match(stale.message, /HTTP 412/);
  const gone = await tool(['copy', 'copy/none', put.etag, 'copy/other']);
  assert.equal(gone.status, 'conflict');
  assert.match(gone.message, /copy source copy\/none is gone/);
  assert.equal((await tool(['head', 'copy/other'])).status, 'not_found');
  const dest = await tool(['head', 'copy/dest']);
  const replaced = await tool(['copy', source, put.etag, 'copy/dest', '--if-match', dest.etag]);
  assert.equal(replaced.ok, true, replaced.message);
  assert.equal((await tool(['get', 'copy/dest'])).body, 'copied bytes');
});

test('transient failures are retried with backoff and counted', async () => {
  stack.setFaults([{ type: '500', count: 2, method: 'PUT' }]);
  const put = await tool(['put', 'retry/obj', 'payload']);
  assert.equal(put.ok, true, put.message);
  assert.equal(put.stats.requests, 3);
  assert.equal(put.stats.retries, 2);

  // libcurl itself silently re-sends a request once when a reused
  // connection turns out dead, so a reset after a kept-alive 503 may not
  // reach our retry counter: count what the proxy saw instead.
  const seenGets = sinceMark();
  stack.setFaults([{ type: '503', count: 1, method: 'GET' }, { type: 'reset', count: 1, method: 'GET' }]);
  const get = await tool(['get', 'retry/obj']);
  assert.equal(get.body, 'payload');
  assert.ok(get.stats.retries >= 1);
  assert.deepEqual(seenGets().map((r) => r.fault), ['503', 'reset', null]);

  stack.setFaults([{ type: 'reset', count: 1, method: 'HEAD' }]);
  const head = await tool(['head', 'retry/obj']);
  assert.equal(head.ok, true, head.message);
  assert.equal(head.stats.retries, 1);

  stack.setFaults([{ type: '503', count: 2 }]);
  const list = await tool(['list', 'retry/']);
  assert.equal(list.count, 1);
  assert.equal(list.stats.retries, 2);

  // Out of attempts: the last failure comes back as transient.
  stack.setFaults([{ type: '503', count: 10, method: 'PUT' }]);
  const failed = await tool(['put', 'retry/obj2', 'x']);
  assert.equal(failed.ok, false);
  assert.equal(failed.status, 'transient');
  assert.match(failed.message, /after 3 attempts.*HTTP 503 SlowDown/);
  assert.equal(failed.stats.requests, 3);
  const more = await tool(['put', 'retry/obj2', 'x'], { COLLATOR_S3_MAX_ATTEMPTS: '5' });
  assert.equal(more.ok, false);
  assert.equal(more.stats.requests, 5);
  stack.setFaults([{ type: '503', count: 3, method: 'PUT' }]);
  const enough = await tool(['put', 'retry/obj2', 'x'], { COLLATOR_S3_MAX_ATTEMPTS: '5' });
  assert.equal(enough.ok, true, enough.message);
  assert.equal(enough.stats.retries, 3);

  // A 412 is an answer, not a failure: no retry.
  stack.setFaults([]);
  const conflict = await tool(['put', 'retry/obj', 'x', '--if-absent']);
  assert.equal(conflict.status, 'conflict');
  assert.equal(conflict.stats.requests, 1);

  // Random faults from a seeded PRNG: everything still lands.
  stack.setFaults([{ type: '500', probability: 0.3 }, { type: 'reset', probability: 0.1 }], 42);
  for (let i = 0; i < 10; i++) {
    const r = await tool(['put', `retry/random/${i}`, `v${i}`], { COLLATOR_S3_MAX_ATTEMPTS: '8' });
    assert.equal(r.ok, true, r.message);
  }
  stack.setFaults([]);
  const all = await tool(['list', 'retry/random/']);
  assert.equal(all.count, 10);
});

test('a download cut off midway resumes from where it stopped, pinned to its ETag', async () => {
  const file = join(scratch, 'resume.bin');
  const bytes = randomBytes(3 << 20);
  const fd = openSync(file, 'w');
  writeSync(fd, bytes);
  closeSync(fd);
  const md5 = createHash('md5').update(bytes).digest('hex');
  assert.equal((await tool(['put-file', 'resume/obj', file])).ok, true);

  const seen = sinceMark();
  stack.setFaults([{ type: 'truncate', count: 1, method: 'GET' }]);
  const stream = await tool(['stream', 'resume/obj']);
  assert.equal(stream.ok, true, stream.message);
  assert.equal(stream.md5, md5);
  assert.equal(stream.stats.retries, 1);
  const resumed = seen().filter((r) => r.method === 'GET');
  assert.equal(resumed.length, 2);

  stack.setFaults([{ type: 'truncate', count: 1, method: 'GET' }]);
  const out = join(scratch, 'resume.out');
  const get = await tool(['get', 'resume/obj', '--out', out]);
  assert.equal(get.ok, true, get.message);
  assert.equal(get.stats.retries, 1);
  assert.equal(createHash('md5').update(readFileSync(out)).digest('hex'), md5);
  stack.setFaults([]);
});

test('200 MB: multipart upload and streaming download', { timeout: 600000 }, async () => {
  const size = 200 * 1000 * 1000;
  const file = join(scratch, 'big.bin');
  const fd = openSync(file, 'w');
  const hash = createHash('md5');
  const chunk = randomBytes(1 << 20);
  for (let written = 0; written < size;) {
    const n = Math.min(chunk.length, size - written);
    writeSync(fd, chunk, 0, n);
    hash.update(chunk.subarray(0, n));
    written += n;
  }
  closeSync(fd);
  const md5 = hash.digest('hex');

  const seen = sinceMark();
  const put = await tool(['put-file', 'big/object.bin', file, '--if-absent']);
  assert.equal(put.ok, true, put.message);
  assert.equal(put.size, size);
  const requests = seen();
  const parts = requests.filter((r) => r.method === 'PUT' && /partNumber=/.test(r.query));
  assert.equal(requests.filter((r) => r.method === 'POST').length, 2, 'initiate and complete');
  assert.equal(parts.length, Math.ceil(size / (8 << 20)));
  for (const r of requests) assert.equal(r.signatureOk, true);
  console.log(`# multipart put: ${size / 1e6} MB in ${put.seconds} s = ${put.mb_per_s} MB/s`);

  const again = await tool(['put-file', 'big/object.bin', file, '--if-absent']);
  assert.equal(again.status, 'conflict');

  // CompleteMultipartUpload takes effect but its answer is lost: the retry
  // fails (s3rver: 500 for the finished upload id; S3: NoSuchUpload or the
  // precondition), and the object's multipart ETag says the first one won.
  stack.setFaults([{ type: 'lost', method: 'POST', query: 'uploadId=', count: 1 }]);
  const lostSeen = sinceMark();
  const lost = await tool(['put-file', 'big/lost.bin', file, '--if-absent']);
  stack.setFaults([]);
  assert.equal(lost.ok, true, lost.message);
  const completes = lostSeen().filter((r) => r.method === 'POST' && /uploadId=/.test(r.query));
  assert.equal(completes.length, 2, 'complete, lost, then retried');
  assert.equal(completes[0].fault, 'lost');
  const lostHead = await tool(['head', 'big/lost.bin']);
  assert.equal(lostHead.size, size);
  assert.equal(lostHead.etag, lost.etag);
  // s3rver gives a multipart object its plain MD5 (facts.md): the file is read again to check it.
  assert.equal(lost.etag.replace(/"/g, ''), md5);
  await tool(['delete', 'big/lost.bin']);

  const head = await tool(['head', 'big/object.bin']);
  assert.equal(head.size, size);

  const stream = await tool(['stream', 'big/object.bin']);
  assert.equal(stream.ok, true, stream.message);
  assert.equal(stream.read, size);
  assert.equal(stream.md5, md5);
  console.log(`# streaming get (store_reader): ${stream.mb_per_s} MB/s`);

  const out = join(scratch, 'big.out');
  const get = await tool(['get', 'big/object.bin', '--out', out]);
  assert.equal(get.ok, true, get.message);
  assert.equal(get.size, size);
  console.log(`# get to file: ${get.mb_per_s} MB/s`);
  rmSync(out);
  rmSync(file);
  await tool(['delete', 'big/object.bin']);
});

// Straight to s3rver (it ignores signatures), to make many keys quickly.
function putDirect(key, body) {
  const url = new URL(stack.s3rverEndpoint);
  const path = `/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, agent: false,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('listing pages through more than 1000 keys in byte order', async () => {
  const keys = Array.from({ length: 1234 }, (_, i) => `paging/k${String(i).padStart(5, '0')}`);
  keys.push('paging/a b', 'paging/a+b', 'paging/a&b<c>', 'paging/Z', 'paging/~');
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => putDirect(k, k)));
  const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  const seen = sinceMark();
  const list = await tool(['list', 'paging/']);
  assert.equal(list.ok, true, list.message);
  assert.equal(list.count, keys.length);
  assert.deepEqual(list.keys.map((k) => k.key), expected);
  const pages = seen().filter((r) => r.method === 'GET');
  assert.equal(pages.length, 2);
  assert.match(pages[1].query, /^continuation-token=[^&]+&list-type=2&prefix=paging%2F$/);

  const narrow = await tool(['list', 'paging/k0012', '--quiet']);
  assert.equal(narrow.count, 10);
  assert.equal(narrow.first, 'paging/k00120');
  assert.equal(narrow.last, 'paging/k00129');
});
