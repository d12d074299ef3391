// collator: run the collator binary from tests and read its JSON output
// without losing int64 precision.
//
//   const r = runCollator(['cat', '--format', 'jsonl', path]);  // {status, signal, stdout, stderr}
//   const rows = parseJsonLines(r.stdout);
//
// The binary is process.env.COLLATOR_BIN, default build/gcc/collator
// relative to the repository root (the tests run from there).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export const collatorBin = path.resolve(process.env.COLLATOR_BIN || 'build/gcc/collator');

export function runCollator(args, { timeout = 60000, env } = {}) {
  const r = spawnSync(collatorBin, args, {
    encoding: 'utf8',
    timeout,
    maxBuffer: 1 << 30,
    env: env ? { ...process.env, ...env } : process.env,
  });
  if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: !!r.error };
}

// JSON.parse, except that integer literals become BigInt (so int64 values
// survive) and other numbers stay Number.
export function parseJsonLossless(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (what) => {
    throw new SyntaxError(`JSON: ${what} at ${i}: ${text.slice(i, i + 30)}`);
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = {};
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected key');
        const key = string();
        ws();
        if (text[i++] !== ':') fail('expected :');
        obj[key] = value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    i += m[0].length;
    if (m[0] === '-0') return -0; // keeps the sign a double column can have
    return m[2] || m[3] ? Number(m[0]) : BigInt(m[0]);
  };
  const string = () => {
    const start = i;
    i++;
    while (text[i] !== '"') {
      if (i >= text.length) fail('unterminated string');
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

export function parseJsonLines(text) {
  return text.split('\n').filter((line) => line.length).map(parseJsonLossless);
}

// Run the collator without blocking the event loop (tests that run an S3
// proxy or a Runtime API server in their own process need that). Resolves
// with status, signal, stdout, stderr and `lines`, the per-upload JSON log
// lines of stderr; killAfterMs sends SIGKILL after that long.
export function spawnCollator(args, env = {}, { killAfterMs } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(collatorBin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer;
    if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const lines = stderr.split('\n').filter((l) => l.startsWith('{"key"')).map((l) => JSON.parse(l));
      resolve({ status, signal, stdout, stderr, lines });
    });
  });
}
