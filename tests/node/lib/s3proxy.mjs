// s3proxy: an HTTP proxy in front of s3rver that fills its gaps for tests.
//
// s3rver accepts any signature and ignores conditional writes, so this proxy
//  - verifies every request's SigV4 signature by recomputing it with
//    @smithy/signature-v4 from the request's own SignedHeaders and the known
//    secret (a mismatch is S3's 403 SignatureDoesNotMatch), and checks a
//    hex x-amz-content-sha256 against the body it received;
//  - enforces If-Match / If-None-Match: * on PUT (CopyObject included) and
//    CompleteMultipartUpload, x-amz-copy-source-if-match on CopyObject's
//    source, and If-Match on GET/HEAD against the object's current ETag (a
//    HEAD to s3rver), serialised per key so that check-then-write is atomic
//    (a copy holds its destination's lock, and its source's too); s3rver
//    decodes x-amz-copy-source with decodeURI, which leaves %2B, %3D and the
//    other reserved escapes as they are, so the proxy re-encodes it that way;
//  - serialises every object write and read per key: s3rver writes an object
//    in place as its body arrives, so a GET while a PUT is still being
//    written (one a killed client sent just before it died) would read a
//    truncated object where S3 gives the old or the new one whole;
//  - injects faults on demand: 500 InternalError, 503 SlowDown, a connection
//    reset, a response cut off midway, a response lost after the request
//    took effect, or a delay; for the next N matching requests or with a
//    probability drawn from a seeded PRNG;
//  - records every request (method, key, query, status, fault) for asserts.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const errorXml = (code, message, resource) =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  `<Error><Code>${code}</Code><Message>${message}</Message>` +
  `<Resource>${resource}</Resource><RequestId>s3proxy</RequestId></Error>`;

// mulberry32: small, seedable, good enough to pick which requests fail.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stripQuotes = (etag) => (etag || '').replace(/^"|"$/g, '');

function parseAuthorization(header) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(header || '');
  if (!m) return null;
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4], signedHeaders: m[5].split(';'), signature: m[6] };
}

function amzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// Decoded query parameters as the signer wants them ({name: value}).
function queryObject(rawQuery) {
  const query = {};
  if (!rawQuery) return query;
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    query[name] = value;
  }
  return query;
}

export async function verifySignature(req, { path, rawQuery }, credentials) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return { ok: false, code: 'AccessDenied', message: 'Missing or malformed Authorization header' };
  if (auth.accessKeyId !== credentials.accessKeyId) {
    return { ok: false, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const signingDate = amzDate(req.headers['x-amz-date']);
  if (!signingDate) return { ok: false, code: 'AccessDenied', message: 'Missing x-amz-date' };
  if (!req.headers['x-amz-content-sha256']) {
    return { ok: false, code: 'InvalidRequest', message: 'Missing required header for this request: x-amz-content-sha256' };
  }
  const headers = {};
  for (const name of auth.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return { ok: false, code: 'AccessDenied', message: `Signed header ${name} is missing` };
    headers[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    uriEscapePath: false, // S3 signs the path exactly as sent
    applyChecksum: false,
  });
  const [hostname, port] = String(req.headers.host || '').split(':');
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined, path, query: queryObject(rawQuery), headers },
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  const expectedHeaders = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization)[1];
  if (expected !== auth.signature || expectedHeaders !== auth.signedHeaders.join(';')) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return { ok: true };
}

export async function startS3Proxy({ target, credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, faults = [], seed = 1, port = 0 } = {}) {
  const targetUrl = new URL(target);
  let rules = [];
  let random = prng(seed);
  const requests = [];
  const keyLocks = new Map(); // "bucket/key" -> tail of a promise chain

  const setFaults = (list, newSeed) => {
    rules = (list || []).map((rule) => ({ ...rule }));
    if (newSeed !== undefined) random = prng(newSeed);
  };
  setFaults(faults);

  // A rule: {type: '500'|'503'|'reset'|'truncate'|'lost'|'delay', count?, probability?,
  // method?, key? (substring or RegExp), query? (substring), delayMs?}
  function pickFault(method, key, rawQuery) {
    for (const rule of rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.key && !(rule.key instanceof RegExp ? rule.key.test(key) : key.includes(rule.key))) continue;
      if (rule.query !== undefined && !rawQuery.includes(rule.query)) continue;
      if (rule.count !== undefined) {
        if (rule.count <= 0) continue;
        rule.count--;
        return rule;
      }
      if (rule.probability !== undefined && random() < rule.probability) return rule;
    }
    return null;
  }

  async function withKeyLock(lockKey, fn) {
    const previous = keyLocks.get(lockKey) || Promise.resolve();
    let release;
    const current = new Promise((resolve) => { release = resolve; });
    const tail = previous.then(() => current);
    keyLocks.set(lockKey, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (keyLocks.get(lockKey) === tail) keyLocks.delete(lockKey);
    }
  }

  function upstream(method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: targetUrl.hostname, port: targetUrl.port, method, path, headers }, resolve);
      req.on('error', reject);
      if (body && body.length) req.end(body);
      else req.end();
    });
  }

  async function currentEtag(path) {
    const res = await upstream('HEAD', path, { host: targetUrl.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    return res.statusCode === 200 ? stripQuotes(res.headers.etag) : null;
  }

  // The whole body, or a rejection when the client went away before sending
  // all of it (S3 never stores a body that was cut short).
  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
      req.on('close', () => { if (!req.complete) reject(new Error('client closed before the body was complete')); });
    });
  }

  function reply(res, record, status, code, message, resource) {
    record.status = status;
    record.code = code;
    const body = status === 304 || record.method === 'HEAD' ? '' : errorXml(code, message, resource);
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function handle(req, res) {
    const [path, rawQuery = ''] = req.url.split(/\?(.*)/s);
    const decodedPath = decodeURIComponent(path);
    const slash = decodedPath.indexOf('/', 1);
    const bucket = slash < 0 ? decodedPath.slice(1) : decodedPath.slice(1, slash);
    const key = slash < 0 ? '' : decodedPath.slice(slash + 1);
    const record = {
      method: req.method, bucket, key, query: rawQuery, status: 0, fault: null, time: Date.now(),
      ifMatch: req.headers['if-match'], ifNoneMatch: req.headers['if-none-match'],
    };
    requests.push(record);

    const verdict = await verifySignature(req, { path, rawQuery }, credentials);
    record.signatureOk = verdict.ok;
    const hashHeader = req.headers['x-amz-content-sha256'];
    const hexHash = /^[0-9a-f]{64}$/.test(hashHeader || '');
    // Bodies with a real hash are buffered here and checked against it.
    let body = null;
    if (hexHash || !verdict.ok) body = await readBody(req);
    if (!verdict.ok) return reply(res, record, 403, verdict.code, verdict.message, path);
    if (hexHash && createHash('sha256').update(body).digest('hex') !== hashHeader) {
      return reply(res, record, 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", path);
    }

    const fault = pickFault(req.method, key, rawQuery);
    if (fault) {
      record.fault = fault.type;
      if (fault.type === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs || 100));
      else if (fault.type === 'reset') {
        record.status = -1;
        req.socket.destroy();
        return;
      } else if (fault.type === '500') {
        if (body === null) await readBody(req);
        return reply(res, record, 500, 'InternalError', 'We encountered an internal error. Please try again.', path);
      } else if (fault.type === '503') {
        if (body === null) await readBody(req);
        return reply(res, record, 503, 'SlowDown', 'Please reduce your request rate.', path);
      }
    }

    // A streamed (UNSIGNED-PAYLOAD) body is forwarded only once it is all
    // here: piped through, a client killed mid-upload would leave s3rver a
    // truncated object where S3 would store nothing.
    if (body === null && (req.method === 'PUT' || req.method === 'POST')) {
      try {
        body = await readBody(req);
      } catch {
        record.status = -1;
        return;
      }
    }

    const isObjectWrite = (req.method === 'PUT' && !/(^|&)partNumber=/.test(rawQuery)) ||
      (req.method === 'POST' && /(^|&)uploadId=/.test(rawQuery));
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    const conditional = key && ((isObjectWrite && (ifMatch || ifNoneMatch === '*')) || (isRead && ifMatch));
    const copySource = req.method === 'PUT' ? req.headers['x-amz-copy-source'] : undefined;
    const copySourceIfMatch = req.headers['x-amz-copy-source-if-match'];
    if (copySource) record.copySource = decodeURIComponent(copySource);

    const forward = async () => {
      if (conditional) {
        const etag = await currentEtag(path);
        const failed = ifNoneMatch === '*' && isObjectWrite ? etag !== null : etag === null || stripQuotes(ifMatch) !== etag;
        if (failed) {
          if (body === null) await readBody(req);
          return reply(res, record, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', path);
        }
      }
      if (copySource && copySourceIfMatch) {
        const etag = await currentEtag(copySource.startsWith('/') ? copySource : `/${copySource}`);
        if (etag === null) return reply(res, record, 404, 'NoSuchKey', 'The specified key does not exist.', copySource);
        if (stripQuotes(copySourceIfMatch) !== etag) {
          return reply(res, record, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', path);
        }
      }
      const headers = { ...req.headers, host: targetUrl.host };
      delete headers['if-match'];
      delete headers['x-amz-copy-source-if-match'];
      if (copySource) headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(copySource));
      if (isObjectWrite) delete headers['if-none-match'];
      const up = await new Promise((resolve, reject) => {
        const upReq = http.request({ host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers }, resolve);
        upReq.on('error', reject);
        if (body !== null) upReq.end(body);
        else req.pipe(upReq);
      });
      record.status = up.statusCode;
      if (fault && fault.type === 'lost') {
        // The request took effect; its answer never reaches the client.
        up.resume();
        await new Promise((resolve) => { up.on('end', resolve); up.on('error', resolve); });
        req.socket.destroy();
        return;
      }
      res.writeHead(up.statusCode, up.headers);
      if (fault && fault.type === 'truncate' && req.method === 'GET') {
        // Send about half of the body, then drop the connection.
        const length = Number(up.headers['content-length'] || 0);
        let sent = 0;
        await new Promise((resolve) => {
          up.on('data', (chunk) => {
            if (sent + chunk.length >= length / 2) {
              res.write(chunk.subarray(0, Math.max(0, Math.floor(length / 2) - sent)));
              sent = length;
              up.destroy();
              res.socket.destroy();
              resolve();
              return;
            }
            sent += chunk.length;
            res.write(chunk);
          });
          up.on('end', () => { res.end(); resolve(); });
        });
        return;
      }
      await new Promise((resolve) => {
        // A client that went away (killed) must not hold the key.
        const gone = () => { up.destroy(); resolve(); };
        if (res.destroyed) return gone();
        res.on('close', gone);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', resolve);
      });
    };
    const sourceLock = copySource && decodeURIComponent(copySource).replace(/^\//, '');
    const locked = sourceLock && sourceLock !== `${bucket}/${key}`
      ? () => withKeyLock(sourceLock, forward)
      : forward;
    if (key && (isObjectWrite || isRead)) await withKeyLock(`${bucket}/${key}`, locked);
    else await forward();
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(errorXml('InternalError', String(error && error.message), req.url));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    requests,
    setFaults,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
