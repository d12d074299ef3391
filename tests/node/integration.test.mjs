// End to end (`make integration`): s3rver + the S3 proxy (signature checks,
// conditional writes, fault injection: tests/node/lib/s3stack.mjs) + the
// collator as a Lambda function under @vercel/fun, wired by
// scripts/lambda_stack.mjs as the SAM template wires it in AWS. Uploads go
// into S3 the way phones put them (plain PUTs, independent of the
// collator's S3 client), the S3 notification invokes the function, and the
// outputs are read back from S3 with DuckDB. Then every event shape, through
// `collator event` and the function, and a DLQ re-drive of an upload whose
// primary invocations all failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startLambdaStack } from '../../scripts/lambda_stack.mjs';
import { duckdbQuery, sqlString } from './lib/duckdb.mjs';

const bin = path.resolve(process.env.COLLATOR_BIN || 'build/gcc/collator');
const bucket = 'collator-it';
const execFileAsync = promisify(execFile);

// The examples bucket: three users, two devices for user 100, all four log
// types, some gzipped; uploaded in upload-time order (the file name).
function exampleUploads() {
  const root = 'examples/bucket';
  const keys = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else keys.push(rel);
    }
  };
  walk('uploads');
  keys.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
  return keys.map((key) => ({ key, body: fs.readFileSync(path.join(root, key)) }));
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

function outputKeys(key) {
  const [, , user, , device, logType] = key.split('/');
  return {
    current: `collated_logs/current/${logType}/user=${Number(user)}/logs.parquet`,
    diff: `collated_logs/diff/${logType}/ts_update=${today()}/user=${Number(user)}/logs.parquet`,
    txt: `collated_logs/user-${Number(user)}/device-${device}/collated_${logType}.txt`,
    user: Number(user),
  };
}

async function readParquet(stack, key) {
  const bytes = await stack.getObject(key);
  assert.ok(bytes, `${key} exists`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'collator-it-')), 'logs.parquet');
  fs.writeFileSync(file, bytes);
  try {
    const { rows } = await duckdbQuery(
      `SELECT count(*) AS n, min(user_id) AS lo, max(user_id) AS hi, count(DISTINCT id) AS ids ` +
      `FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`);
    const [n, lo, hi, ids] = rows[0];
    return { rows: Number(n), minUser: Number(lo), maxUser: Number(hi), ids: Number(ids) };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

// `collator event` against the same S3, asynchronously: a synchronous child
// would block the in-process s3rver it talks to.
async function collatorEvent(stack, event) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collator-ev-'));
  const file = path.join(dir, 'event.json');
  fs.writeFileSync(file, JSON.stringify(event));
  try {
    const { stdout } = await execFileAsync(bin, ['event', '--store', `s3://${bucket}`, file], {
      env: {
        PATH: process.env.PATH, S3_ENDPOINT: stack.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', COLLATOR_LOG_LEVEL: 'warn',
      },
    });
    return { status: 0, response: JSON.parse(stdout) };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { status: err.code, response: err.stdout ? JSON.parse(err.stdout) : null, stderr: err.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const s3Record = (key, eventName = 'ObjectCreated:Put') => ({
  eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventName,
  s3: { bucket: { name: bucket }, object: { key: key.split('/').map((s) => encodeURIComponent(s).replace(/%20/g, '+')).join('/') } },
});
const s3Event = (key, eventName) => ({ Records: [s3Record(key, eventName)] });
const appsUpload = (names) => Buffer.from(JSON.stringify(names.map((n) => ({ package_name: n }))));

test('integration: S3 -> Lambda (fun) -> collated outputs, event shapes, DLQ re-drive', async (t) => {
  const stack = await startLambdaStack({
    bin, bucket, autoRedrive: false,
    // COLLATOR_IT_VERIFY=0: a plain proxy, to tell a signing problem from
    // anything else.
    verify: process.env.COLLATOR_IT_VERIFY !== '0',
    // One attempt per S3 request, so that an injected fault fails the
    // invocation at once instead of being retried inside it.
    env: { COLLATOR_S3_MAX_ATTEMPTS: '1', COLLATOR_LOG_LEVEL: 'warn' },
  });
  t.after(() => stack.stop());

  await t.test('uploads put into S3 are collated by the triggered function', async () => {
    const uploads = exampleUploads();
    assert.ok(uploads.length >= 10);
    for (const { key, body } of uploads) {
      await stack.putObject(key, body);
      // One at a time, so that each upload's outputs and invocation are
      // deterministic (concurrency is the collate suite's subject).
      await stack.idle();
    }
    const primary = stack.invocations.filter((i) => i.function === 'collator');
    assert.equal(primary.length, uploads.length, 'one invocation per upload');
    for (const inv of primary) assert.equal(inv.error, null, JSON.stringify(inv.response));
    const seen = new Set();
    for (const { key } of uploads) {
      const out = outputKeys(key);
      if (seen.has(out.current)) continue;
      seen.add(out.current);
      const current = await readParquet(stack, out.current);
      assert.ok(current.rows > 0, `${out.current} has rows`);
      assert.equal(current.minUser, out.user);
      assert.equal(current.maxUser, out.user);
      const diff = await readParquet(stack, out.diff);
      assert.ok(diff.rows > 0 && diff.rows <= current.rows, `${out.diff}`);
      const txt = await stack.getObject(out.txt);
      assert.ok(txt, `${out.txt} exists`);
      assert.ok(Array.isArray(JSON.parse(txt.toString('utf8'))));
    }
    // Both devices of user 100 wrote their own txt.
    assert.ok(await stack.getObject('collated_logs/user-100/device-a1b2c3/collated_app_packages.txt'));
    assert.ok(await stack.getObject('collated_logs/user-100/device-d4e5f6/collated_app_packages.txt'));
  });

  await t.test('keys with spaces and "+" survive the notification encoding', async () => {
    const key = 'uploads/users/77/unknown/dev 1/app_packages/a b+c.json';
    await stack.putObject(key, appsUpload(['com.example.one', 'com.example.two']));
    await stack.idle();
    const last = stack.invocations.at(-1);
    assert.equal(last.error, null, JSON.stringify(last.response));
    assert.equal(last.event.Records[0].s3.object.key, 'uploads/users/77/unknown/dev+1/app_packages/a+b%2Bc.json');
    assert.deepEqual(last.response, { processed: 1, rejected: 0, unchanged: 0, skipped: 0 });
    const txt = JSON.parse((await stack.getObject('collated_logs/user-77/device-dev 1/collated_app_packages.txt')).toString());
    assert.equal(txt.length, 2);
  });

  await t.test('every event shape, through `collator event` and the function', async () => {
    stack.trigger = false;
    try {
      const put = async (user) => {
        const key = `uploads/users/${user}/unknown/shape/app_packages/1.json`;
        await stack.putObject(key, appsUpload([`com.shape.u${user}`]));
        return key;
      };
      const collated = async (key) => (await readParquet(stack, outputKeys(key).current)).rows;

      // S3 notification, via `collator event`; a replay is unchanged.
      let key = await put(501);
      let r = await collatorEvent(stack, s3Event(key));
      assert.deepEqual(r, { status: 0, response: { processed: 1, rejected: 0, unchanged: 0, skipped: 0 } });
      assert.equal(await collated(key), 1);
      r = await collatorEvent(stack, s3Event(key));
      assert.equal(r.response.unchanged, 1);

      // SNS-wrapped (the legacy DLQ path), via the function.
      key = await put(502);
      let inv = await stack.invoke({ Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', Message: JSON.stringify(s3Event(key)) } }] });
      assert.equal(inv.error, null, JSON.stringify(inv.response));
      assert.equal(inv.response.processed, 1);
      assert.equal(await collated(key), 1);

      // SQS: an S3 body, an SNS envelope body, an on-failure record body,
      // and one that is not an event: only that one is named.
      const keys = [await put(503), await put(504), await put(505)];
      inv = await stack.invokeDlq({
        Records: [
          { messageId: 'sqs-s3', eventSource: 'aws:sqs', body: JSON.stringify(s3Event(keys[0])) },
          { messageId: 'sqs-sns', eventSource: 'aws:sqs', body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify(s3Event(keys[1])) }) },
          { messageId: 'sqs-onfailure', eventSource: 'aws:sqs', body: JSON.stringify({ requestContext: { condition: 'RetriesExhausted' }, requestPayload: s3Event(keys[2]) }) },
          { messageId: 'sqs-junk', eventSource: 'aws:sqs', body: '{"neither": "an event"}' },
        ],
      });
      assert.equal(inv.error, null);
      assert.deepEqual(inv.response, { batchItemFailures: [{ itemIdentifier: 'sqs-junk' }] });
      for (const k of keys) assert.equal(await collated(k), 1, k);

      // EventBridge "Object Created" (keys not URL-encoded), via `collator event`.
      key = await put(506);
      r = await collatorEvent(stack, {
        'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: bucket }, object: { key } },
      });
      assert.equal(r.status, 0);
      assert.equal(r.response.processed, 1);

      // {"bucket", "key"}, via the function.
      key = await put(507);
      inv = await stack.invoke({ bucket, key });
      assert.equal(inv.response.processed, 1);

      // Skipped: the S3 test event and a removal.
      r = await collatorEvent(stack, { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: bucket });
      assert.deepEqual(r.response, { processed: 0, rejected: 0, unchanged: 0, skipped: 1 });
      r = await collatorEvent(stack, s3Event(key, 'ObjectRemoved:Delete'));
      assert.equal(r.response.skipped, 1);

      // A key outside the layout is rejected (recorded), not retried.
      await stack.putObject('uploads/users/abc/unknown/x/app_packages/1.json', appsUpload(['x']));
      r = await collatorEvent(stack, s3Event('uploads/users/abc/unknown/x/app_packages/1.json'));
      assert.equal(r.status, 0, JSON.stringify(r));
      assert.equal(r.response.rejected, 1);

      // A malformed event fails the invocation (exit 1, errorType InvalidEvent).
      r = await collatorEvent(stack, { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' }] });
      assert.equal(r.status, 1);
      assert.equal(r.response.errorType, 'InvalidEvent');
    } finally {
      stack.trigger = true;
    }
  });

  await t.test('DLQ re-drive: fails on the primary (retried twice), succeeds from the DLQ', async () => {
    const key = 'uploads/users/600/unknown/redrive/app_packages/1.json';
    stack.faults.add({ method: 'GET', match: 'uploads/users/600/' });
    const hitsBefore = stack.faults.hits;
    const before = stack.invocations.length;
    await stack.putObject(key, appsUpload(['com.redrive.a', 'com.redrive.b']));
    await stack.idle();
    const attempts = stack.invocations.slice(before);
    assert.equal(attempts.length, 3, 'the first attempt and two retries');
    for (const a of attempts) {
      assert.equal(a.error, 'Handled');
      assert.equal(a.response.errorType, 'UploadFailed');
    }
    assert.ok(stack.faults.hits - hitsBefore >= 3, 'every attempt met the fault');
    assert.equal(stack.deadLetters.length, 1);
    assert.equal(await stack.getObject(outputKeys(key).current), null, 'nothing written while failing');

    stack.faults.clear();
    const redriven = await stack.redrive();
    assert.equal(redriven.function, 'collator-dlq');
    assert.equal(redriven.error, null);
    assert.deepEqual(redriven.response, { batchItemFailures: [] });
    const current = await readParquet(stack, outputKeys(key).current);
    assert.equal(current.rows, 2);
  });
});
