// s3stack: a local S3 for tests, s3rver behind the verifying proxy.
//
//   const stack = await startS3Stack({ bucket: 'test-bucket', faults: [] });
//   // run the collator or store_tool with { ...process.env, ...stack.env }
//   stack.setFaults([{ type: '503', count: 2 }]);   // see s3proxy.mjs
//   stack.requests                                   // what the proxy saw
//   await stack.stop();
//
// s3rver runs as a child process by default: on Node 20 its continuation
// tokens need --openssl-legacy-provider (facts.md), which can only be given
// to a process when it starts, and a child also cannot be deadlocked by a
// test that waits synchronously. With { inProcess: true, onEvent } it runs
// inside this process instead, so a test can receive its S3 event
// notifications; that mode needs NODE_OPTIONS=--openssl-legacy-provider on
// the test process for listings longer than one page, and the test must
// then never block the event loop (no execFileSync).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startS3Proxy } from './s3proxy.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const require = createRequire(import.meta.url);

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function startChildS3rver({ directory, bucket }) {
  const bin = join(repoRoot, 'node_modules', 's3rver', 'bin', 's3rver.js');
  const nodeOptions = [process.env.NODE_OPTIONS, '--openssl-legacy-provider'].filter(Boolean).join(' ');
  const child = spawn(process.execPath,
    [bin, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', '--allow-mismatched-signatures', '--configure-bucket', bucket],
    { env: { ...process.env, NODE_OPTIONS: nodeOptions }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const m = /S3rver listening on ([\d.]+):(\d+)/.exec(output);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining so the child never blocks on a full pipe
        resolve({ endpoint: `http://${m[1]}:${m[2]}`, pid: child.pid, stop: () => stopChild(child) });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
    child.on('error', reject);
  });
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function startInProcessS3rver({ directory, bucket, onEvent }) {
  const S3rver = require('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  if (onEvent) server.on('event', onEvent);
  const { address, port } = await server.run();
  return { endpoint: `http://${address}:${port}`, stop: () => server.close() };
}

// directory: where s3rver keeps its objects (kept on stop; default a temp
// directory, removed on stop). port: the proxy's port (default any free one).
export async function startS3Stack({ bucket = 'test-bucket', faults = [], seed = 1, inProcess = false, onEvent, credentials = S3RVER_CREDENTIALS, region = 'us-east-1', directory: keptDirectory, port = 0 } = {}) {
  const directory = keptDirectory || mkdtempSync(join(tmpdir(), 'collator-s3rver-'));
  if (keptDirectory) mkdirSync(keptDirectory, { recursive: true });
  const removeDirectory = () => { if (!keptDirectory) rmSync(directory, { recursive: true, force: true }); };
  let s3rver;
  try {
    s3rver = inProcess
      ? await startInProcessS3rver({ directory, bucket, onEvent })
      : await startChildS3rver({ directory, bucket });
  } catch (error) {
    removeDirectory();
    throw error;
  }
  let proxy;
  try {
    proxy = await startS3Proxy({ target: s3rver.endpoint, credentials, faults, seed, port });
  } catch (error) {
    await s3rver.stop();
    removeDirectory();
    throw error;
  }
  const env = {
    S3_ENDPOINT: proxy.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    COLLATOR_STORE: `s3://${bucket}`,
  };
  return {
    bucket,
    endpoint: proxy.endpoint,
    s3rverEndpoint: s3rver.endpoint,
    s3rverPid: s3rver.pid,
    directory,
    env,
    requests: proxy.requests,
    setFaults: proxy.setFaults,
    stop: async () => {
      await proxy.close();
      await s3rver.stop();
      removeDirectory();
    },
  };
}

// Straight to s3rver, unsigned and past the proxy: tests seed uploads and
// read outputs this way so that the proxy's request log holds the
// collator's requests alone. Resolves with the body; rejects on >= 300.
export function s3rverRequest(stack, method, pathAndQuery, body) {
  return new Promise((resolve, reject) => {
    const url = new URL(stack.s3rverEndpoint);
    const req = http.request({ host: url.hostname, port: url.port, method, path: pathAndQuery,
      headers: body ? { 'content-length': body.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        if (res.statusCode >= 300) reject(new Error(`${method} ${pathAndQuery}: ${res.statusCode} ${data}`));
        else resolve(data);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A key as a URL path (each segment percent-encoded, "/" kept).
export const encodeKey = (key) => key.split('/').map(encodeURIComponent).join('/');
// The five XML entities of ListObjectsV2 keys.
export const unescapeXml = (s) => s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"')
  .replaceAll('&apos;', "'").replaceAll('&amp;', '&');
