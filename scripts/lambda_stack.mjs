// lambda_stack: the collator Lambda running locally, wired to a local S3,
// the way the SAM template wires it in AWS.
//
//   node scripts/lambda_stack.mjs [--bin build/collator] [--bucket collator-local]
//                                 [--dir DIR] [--port PORT] [--no-verify]
//
// starts (and keeps running until SIGINT/SIGTERM):
//   * s3rver with the bucket (files under DIR, default a temp dir);
//   * a proxy in front of it (the endpoint the function uses): the one of
//     tests/node/lib/s3stack.mjs, which checks SigV4 signatures, enforces
//     conditional writes and injects faults, or with --no-verify a plain
//     forwarding proxy that only injects faults;
//   * two @vercel/fun functions running the native binary as `bootstrap`:
//     the primary and the DLQ function (COLLATOR_FUNCTION_ROLE=dlq);
//   * the trigger: every s3rver ObjectCreated event under uploads/users/ is
//     turned into a real S3 notification (s3rver sends keys without URL
//     encoding; S3 form-encodes them) and invoked asynchronously on the
//     primary, with Lambda's async retry policy (2 retries), then, as the
//     on-failure destination would, an SQS record {requestContext,
//     requestPayload} is delivered to the DLQ function.
// It prints one line "lambda-stack: ready {json}" with the endpoints, for
// scripts (`make up`) to read. s3rver lists with continuation tokens only
// under NODE_OPTIONS=--openssl-legacy-provider on Node 17+ (facts.md); the
// Lambda path never lists, so that is needed only for tools that do.
//
// As a module: const stack = await startLambdaStack({bin, bucket, ...});
// stack.endpoint, stack.putObject(key, body), stack.getObject(key),
// stack.idle(), stack.trigger (on/off), stack.faults (see
// startFaultProxy), stack.invoke(event) / stack.invokeDlq(event),
// stack.invocations, stack.deadLetters, stack.redrive(), stack.stop().
import { createFunction } from '@vercel/fun';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Real S3 form-encodes keys in notifications: a space is "+", other
// characters outside [A-Za-z0-9-_.!~*'()] are %XX, "/" stays.
export function s3EventKey(key) {
  return key.split('/').map((segment) => encodeURIComponent(segment).replace(/%20/g, '+')).join('/');
}

// A forwarding proxy in front of s3rver. faults.add({method, match, status,
// times}) makes the next `times` (default: all) requests whose method and
// decoded path (/BUCKET/KEY) match (a substring or RegExp) answer `status`
// (default 503) with an S3 error body instead of reaching s3rver;
// faults.clear() removes them all; faults.hits counts failed requests.
export async function startFaultProxy(targetPort, port = 0) {
  const rules = [];
  const faults = {
    hits: 0,
    add(rule) {
      const entry = { method: null, status: 503, times: Infinity, ...rule };
      rules.push(entry);
      return entry;
    },
    clear() {
      rules.length = 0;
    },
  };
  const server = http.createServer((req, res) => {
    let decoded = req.url;
    try {
      decoded = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      // keep the raw URL for matching
    }
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === req.method) &&
      (typeof r.match === 'string' ? decoded.includes(r.match) : r.match.test(decoded)));
    if (rule) {
      rule.times--;
      faults.hits++;
      req.resume();
      req.on('end', () => {
        res.writeHead(rule.status, { 'Content-Type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${rule.status === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected fault</Message></Error>`);
      });
      return;
    }
    const upstream = http.request({
      host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers,
    }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: server.address().port, faults, close: () => new Promise((r) => server.close(r)) };
}

function taskDirectory(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collator-fn-'));
  // fun runs $LAMBDA_TASK_ROOT/bootstrap; the binary runs `lambda` when its
  // name is bootstrap.
  fs.symlinkSync(path.resolve(bin), path.join(dir, 'bootstrap'));
  return dir;
}

function s3Record(bucket, key, eventName, size) {
  return {
    eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(), eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0', configurationId: 'collator-uploads',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key: s3EventKey(key), size: size || 0, sequencer: Date.now().toString(16) },
    },
  };
}

// The S3 side: tests/node/lib/s3stack.mjs when present (s3rver behind the
// proxy that verifies SigV4 signatures and enforces conditional writes, as
// S3 does), else s3rver behind the plain fault proxy above. Either way
// faults.add({method, match, status, times}) / faults.clear() / faults.hits.
async function startStorage({ bucket, directory, port, onEvent, verify }) {
  const lib = path.join(repoRoot, 'tests/node/lib/s3stack.mjs');
  if (verify && fs.existsSync(lib)) {
    const { startS3Stack } = await import(pathToFileURL(lib).href);
    const s3 = await startS3Stack({ bucket, inProcess: true, onEvent, directory, port });
    const rules = [];
    const faults = {
      get hits() {
        return s3.requests.filter((r) => r.fault).length;
      },
      add({ method, match, status = 503, times }) {
        const rule = { type: String(status), method, key: match };
        if (times === undefined) rule.probability = 1;
        else rule.count = times;
        rules.push(rule);
        s3.setFaults(rules);
        return rule;
      },
      clear() {
        rules.length = 0;
        s3.setFaults([]);
      },
    };
    return {
      endpoint: s3.endpoint, s3Endpoint: s3.s3rverEndpoint, directory: s3.directory, faults,
      verifying: true, stop: () => s3.stop(),
    };
  }
  const { default: S3rver } = await import('s3rver');
  const dir = directory || fs.mkdtempSync(path.join(os.tmpdir(), 'collator-s3-'));
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  s3.on('event', onEvent);
  const { port: s3Port } = await s3.run();
  const proxy = await startFaultProxy(s3Port, port);
  return {
    endpoint: `http://127.0.0.1:${proxy.port}`, s3Endpoint: `http://127.0.0.1:${s3Port}`, directory: dir,
    faults: proxy.faults, verifying: false,
    async stop() {
      await proxy.close();
      await s3.close();
      if (!directory) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startLambdaStack({
  bin = process.env.COLLATOR_BIN || path.join(repoRoot, 'build/collator'),
  bucket = 'collator-local',
  directory,
  port = 0,
  env = {},
  retries = 2,
  autoRedrive = true,
  // false: s3rver behind the plain fault proxy, without signature checks
  // or conditional-write enforcement.
  verify = true,
  log = () => {},
} = {}) {
  if (!fs.existsSync(bin)) throw new Error(`lambda-stack: ${bin} not built`);
  // The trigger needs s3rver's events, so s3rver runs in this process.
  const storage = await startStorage({ bucket, directory, port, verify, onEvent: (event) => onS3Event(event) });
  const endpoint = storage.endpoint;

  const functionEnv = {
    S3_ENDPOINT: endpoint,
    COLLATOR_LOG_LEVEL: process.env.COLLATOR_LOG_LEVEL || 'info',
    ...env,
  };
  const common = {
    Code: { Directory: taskDirectory(bin) },
    Handler: 'collator',
    Runtime: 'provided',
    Region: 'us-east-1',
    AccessKeyId: 'S3RVER',
    SecretAccessKey: 'S3RVER',
    Timeout: 300,
  };
  const primary = await createFunction({
    ...common, FunctionName: 'collator', MemorySize: 1769,
    Environment: { Variables: { ...functionEnv, COLLATOR_FUNCTION_ROLE: 'primary' } },
  });
  const dlq = await createFunction({
    ...common, FunctionName: 'collator-dlq', MemorySize: 6144, Timeout: 900,
    Environment: { Variables: { ...functionEnv, COLLATOR_FUNCTION_ROLE: 'dlq' } },
  });

  let stack = null;
  const invocations = []; // {function, event, response, error}
  const deadLetters = []; // SQS records waiting for the DLQ function
  const pending = new Set();

  async function invoke(fn, event) {
    const result = await fn.invoke({ InvocationType: 'RequestResponse', Payload: JSON.stringify(event) });
    const payload = result.Payload ? JSON.parse(String(result.Payload)) : null;
    const record = { function: fn.functionName, event, response: payload, error: result.FunctionError || null };
    invocations.push(record);
    log(`${fn.functionName}: ${record.error ? `error ${JSON.stringify(payload)}` : JSON.stringify(payload)}`);
    return record;
  }

  async function redrive() {
    const batch = deadLetters.splice(0);
    if (!batch.length) return null;
    return invoke(dlq, { Records: batch });
  }

  // Lambda's asynchronous invocation: the first attempt, `retries` more on
  // failure, then the on-failure destination (an SQS message to the DLQ).
  async function invokeAsync(event) {
    let record;
    for (let attempt = 0; attempt <= retries; attempt++) {
      record = await invoke(primary, event);
      if (!record.error) return record;
    }
    const failure = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: randomUUID(), functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:collator:$LATEST',
        condition: 'RetriesExhausted', approximateInvokeCount: retries + 1,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Handled' },
      responsePayload: record.response,
    };
    deadLetters.push({
      messageId: randomUUID(), receiptHandle: 'local', body: JSON.stringify(failure),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      messageAttributes: {}, eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:collator-dlq', awsRegion: 'us-east-1',
    });
    if (autoRedrive) return redrive();
    return record;
  }

  function track(promise) {
    pending.add(promise);
    promise.catch((err) => log(`invocation failed: ${err.stack || err}`)).finally(() => pending.delete(promise));
    return promise;
  }

  function onS3Event(event) {
    if (!stack || !stack.trigger) return;
    for (const record of event.Records || []) {
      const key = record.s3 && record.s3.object && record.s3.object.key;
      // The bucket notification's prefix filter: the collator's own writes
      // under collated_logs/ must not trigger it.
      if (!key || !key.startsWith('uploads/users/') || !String(record.eventName).startsWith('ObjectCreated:')) continue;
      track(invokeAsync({ Records: [s3Record(bucket, key, record.eventName, record.s3.object.size)] }));
    }
  }

  stack = {
    // Set to false to upload without invoking the function (tests that
    // deliver their own event shapes).
    trigger: true,
    bucket,
    directory: storage.directory,
    endpoint,
    s3Endpoint: storage.s3Endpoint,
    verifying: storage.verifying,
    faults: storage.faults,
    invocations,
    deadLetters,
    primary,
    dlq,
    invoke: (event) => invoke(primary, event),
    invokeDlq: (event) => invoke(dlq, event),
    redrive,
    // Resolves when every triggered invocation (with its retries and
    // re-drive) has finished, including ones started meanwhile.
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    // Unsigned requests straight to s3rver (it accepts them): the path a
    // phone upload takes, independent of the collator's S3 client.
    async putObject(key, body) {
      const res = await fetch(`${stack.s3Endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, {
        method: 'PUT', body, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      if (res.status !== 200) throw new Error(`PUT ${key}: HTTP ${res.status} ${await res.text()}`);
    },
    async getObject(key) {
      const res = await fetch(`${stack.s3Endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
      if (res.status === 404) return null;
      if (res.status !== 200) throw new Error(`GET ${key}: HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    },
    async stop() {
      await stack.idle();
      await Promise.allSettled([primary.destroy(), dlq.destroy()]);
      await storage.stop();
      fs.rmSync(common.Code.Directory, { recursive: true, force: true });
    },
  };
  return stack;
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
  };
  const stack = await startLambdaStack({
    bin: option('--bin', process.env.COLLATOR_BIN || path.join(repoRoot, 'build/collator')),
    bucket: option('--bucket', 'collator-local'),
    directory: option('--dir', undefined),
    port: Number(option('--port', '0')),
    verify: !args.includes('--no-verify'),
    log: (line) => console.error(`lambda-stack: ${line}`),
  });
  console.log(`lambda-stack: ready ${JSON.stringify({
    bucket: stack.bucket, endpoint: stack.endpoint, s3: stack.s3Endpoint, directory: stack.directory,
  })}`);
  const stop = async () => {
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`lambda-stack: ${err.stack || err}`);
    process.exit(1);
  });
}
