// lambda_startup: time from spawning `collator lambda` to its first Runtime
// API request, the cold-start cost the binary adds inside Lambda.
//
//   node bench/lambda_startup.mjs COLLATOR_BIN [RUNS]
//
// A tiny node:http server on 127.0.0.1 plays the Runtime API. Each run
// spawns the collator with AWS_LAMBDA_RUNTIME_API pointing at it and records
// when the first GET /2018-06-01/runtime/invocation/next arrives; the request
// is never answered (a real `next` may block for minutes too) and the child
// is killed. The clock starts just before spawn(), so the figure includes
// Node's fork/exec, an overestimate of what Lambda sees.
//
// Prints "startup_ms=M1,M2,... " with one figure per run, or
// "startup_error=..." when the binary exits or stays silent for 5 s.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const [binary, runsText = '5'] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node bench/lambda_startup.mjs COLLATOR_BIN [RUNS]');
  process.exit(2);
}

let waiting = null; // resolves the running measurement on the first `next`

// A fresh server (and port) per run, so nothing a killed child left in flight
// can be taken for the next child's request.
async function startServer() {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url.endsWith('/runtime/invocation/next') && waiting) {
      const settle = waiting;
      waiting = null;
      settle.resolve(process.hrtime.bigint());
      return; // never answered; the child is killed instead
    }
    response.writeHead(202).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function measureOnce() {
  const server = await startServer();
  const address = `127.0.0.1:${server.address().port}`;
  const arrived = new Promise((resolve, reject) => { waiting = { resolve, reject }; });
  const started = process.hrtime.bigint();
  const child = spawn(binary, ['lambda'], {
    env: {
      ...process.env,
      AWS_LAMBDA_RUNTIME_API: address,
      AWS_LAMBDA_FUNCTION_NAME: 'collator-bench',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_REGION: process.env.AWS_REGION || 'us-east-1',
      _HANDLER: 'handler',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // 'close' also follows a failed spawn ('error'), so kill-and-wait below never hangs.
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const failed = new Promise((resolve, reject) => child.on('error', reject));
  const timer = setTimeout(() => waiting?.reject(new Error('no request within 5 s')), 5000);
  try {
    const outcome = await Promise.race([
      arrived,
      failed,
      exited.then((code) => { throw new Error(`exited with ${code}: ${stderr.trim().slice(-200)}`); }),
    ]);
    return Number(outcome - started) / 1e6;
  } finally {
    clearTimeout(timer);
    waiting = null;
    child.kill('SIGKILL');
    await exited;
    server.closeAllConnections();
    server.close();
  }
}

const figures = [];
try {
  for (let i = 0; i < Number(runsText); i++) figures.push((await measureOnce()).toFixed(3));
  console.log(`startup_ms=${figures.join(',')}`);
} catch (error) {
  console.log(`startup_error=${error.message.replace(/\s+/g, ' ')}`);
}
