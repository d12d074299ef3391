// Parquet encode/decode throughput of the collator's codec beside DuckDB
// (one thread) on the same SMS-shaped table, run by bench/parquet.sh.
//
//   node bench/parquet_bench.mjs BENCH_BINARY WORK_DIR ROWS RUNS
//
// collator: parquet_bench builds the table in memory, then times writing it
// (snappy) and decoding every column of the file back. DuckDB: the same
// table is loaded from our file into memory (not timed), then
// COPY ... TO (FORMAT parquet, COMPRESSION snappy) is timed, and reading is
// timed as CREATE TEMP TABLE AS SELECT * FROM read_parquet(...), which
// decodes every column. Figures are medians of RUNS runs; MB = 2^20 bytes of
// raw values (the same table for both). Wall time and CPU time are both
// shown: on a busy machine wall time also measures the neighbours, while CPU
// time (process CPU; DuckDB runs in this process with one thread) does not.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { duckdbClose, duckdbQuery, sqlString } from '../tests/node/lib/duckdb.mjs';

const [bench, work, rowsArg, runsArg] = process.argv.slice(2);
const rows = Number(rowsArg || 1000000);
const runs = Number(runsArg || 3);
const ours = path.join(work, 'collator.parquet');
const theirs = path.join(work, 'duckdb.parquet');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runBench = (args) => JSON.parse(execFileSync(bench, args, { encoding: 'utf8' }));

async function timed(sql) {
  const start = performance.now();
  const cpu = process.cpuUsage();
  await duckdbQuery(sql);
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const oursRuns = [];
for (let i = 0; i < runs; i++) oursRuns.push(runBench(['encode', ours, String(rows)]));
const rawBytes = oursRuns[0].raw_bytes;

await duckdbQuery('SET threads = 1');
await duckdbQuery(`CREATE OR REPLACE TABLE sms AS SELECT * FROM read_parquet(${sqlString(ours)})`);
const duckEncode = [];
const duckDecode = [];
for (let i = 0; i < runs; i++) {
  duckEncode.push(await timed(`COPY sms TO ${sqlString(theirs)} (FORMAT parquet, COMPRESSION snappy)`));
  duckDecode.push(await timed(`CREATE OR REPLACE TEMP TABLE sms_read AS SELECT * FROM read_parquet(${sqlString(theirs)})`));
}
await duckdbQuery('DROP TABLE IF EXISTS sms_read');
await duckdbClose();
const oursOnTheirs = [];
for (let i = 0; i < runs; i++) oursOnTheirs.push(runBench(['decode', theirs]));

const MB = 1 << 20;
const step = {
  encodeOurs: { wall: median(oursRuns.map((r) => r.encode_seconds)), cpu: median(oursRuns.map((r) => r.encode_cpu_seconds)) },
  encodeDuck: { wall: median(duckEncode.map((t) => t.wall)), cpu: median(duckEncode.map((t) => t.cpu)) },
  decodeOurs: { wall: median(oursRuns.map((r) => r.decode_seconds)), cpu: median(oursRuns.map((r) => r.decode_cpu_seconds)) },
  decodeDuck: { wall: median(duckDecode.map((t) => t.wall)), cpu: median(duckDecode.map((t) => t.cpu)) },
  decodeOursOnDuck: {
    wall: median(oursOnTheirs.map((r) => r.decode_seconds)), cpu: median(oursOnTheirs.map((r) => r.decode_cpu_seconds)),
  },
};

const num = (x, digits = 1) => x.toFixed(digits).padStart(9);
const line = (label, t, ref) => {
  const cells = [label.padEnd(38), num(t.wall, 3), num(t.cpu, 3), num(rawBytes / MB / t.cpu),
    String(Math.round(rows / t.cpu)).padStart(9)];
  if (ref) cells.push(`${num(ref.wall / t.wall, 2)}x`, `${num(ref.cpu / t.cpu, 2)}x`);
  return cells.join('  ');
};

console.log(`Parquet codec, SMS-shaped table: ${rows} rows, ${(rawBytes / MB).toFixed(1)} MB raw values, snappy; median of ${runs} runs`);
console.log(`file size: collator ${(statSync(ours).size / MB).toFixed(1)} MB, DuckDB ${(statSync(theirs).size / MB).toFixed(1)} MB`);
console.log(['step'.padEnd(38), 'wall s'.padStart(9), 'cpu s'.padStart(9), 'MB/s cpu'.padStart(9), 'rows/s'.padStart(9),
  'vs DuckDB'.padStart(10), '(cpu)'.padStart(10)].join('  '));
console.log(line('encode: collator writer', step.encodeOurs, step.encodeDuck));
console.log(line('encode: DuckDB COPY (1 thread)', step.encodeDuck));
console.log(line('decode: collator reader', step.decodeOurs, step.decodeDuck));
console.log(line('decode: DuckDB read_parquet (1 thread)', step.decodeDuck));
console.log(line('decode: collator reader, DuckDB file', step.decodeOursOnDuck, step.decodeDuck));
console.log('MB/s and rows/s from CPU time; vs DuckDB = DuckDB time / collator time (above 1: collator is faster)');
