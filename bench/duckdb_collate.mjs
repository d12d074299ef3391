// duckdb_collate: the DuckDB reference run of the benchmarks.
//
//   node bench/duckdb_collate.mjs --upload FILE[.gz] --out OUT.parquet
//        [--history HISTORY.parquet] [--user 123] [--device DEV]
//        [--now "2026-01-02 00:00:00"] [--threads 1]
//
// It does, as SQL on one thread, the same collation work the collator does
// for an SMS upload: parse the JSON array, type names, the normalised address,
// the three md5 per row with the legacy stringification (Python str(datetime)
// prints ".ffffff" only when the microseconds are non-zero; None becomes
// "None" where str() is applied and is dropped elsewhere), the future-timestamp
// clamp, an anti-join against the history's row_hash set, DISTINCT, and a
// snappy Parquet file with the sms_log columns in legacy order. The output is
// also a valid history for the collator (INT64 timestamps, which the collator
// rewrites once into its own schema), so history_gen.sh uses it too.
//
// Prints one line: "seconds=S cpu_s=C rows_written=N maxrss_kb=K" where S is
// the wall time and C the CPU time (user + system) of the work inside DuckDB
// (not Node start-up or loading the library) and K the peak RSS of the whole
// Node process. CPU time is what to compare on a busy machine.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';

function parseArgs(argv) {
  const options = {
    user: '123', device: 'bench-device', now: '2026-01-02 00:00:00', threads: '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!['upload', 'out', 'history', 'user', 'device', 'now', 'threads'].includes(name) ||
        i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete option ${argv[i]}`);
    }
    options[name] = argv[++i];
  }
  if (!options.upload || !options.out) throw new Error('--upload and --out are required');
  if (!/^[0-9]+$/.test(options.user)) throw new Error('--user must be a number');
  return options;
}

const sqlString = (text) => `'${String(text).replaceAll("'", "''")}'`;

// One expression per legacy rule; see legacy.md §4 and §5.4.
function collationSql(options) {
  const smsTypes = "['all','inbox','sent','draft','outbox','failed','queued']";
  return `
COPY (
  WITH raw AS (
    SELECT * FROM read_json(${sqlString(options.upload)}, format = 'array', compression = 'auto_detect',
      columns = {contact_id: 'BIGINT', datetime: 'BIGINT', item_id: 'BIGINT',
                 message_body: 'VARCHAR', sms_address: 'VARCHAR', sms_type: 'BIGINT',
                 thread_id: 'BIGINT'})
  ),
  typed AS (
    SELECT
      ${options.user}::BIGINT AS user_id,
      ${sqlString(options.device)} AS device_id,
      false AS is_deleted,
      coalesce(md5(message_body), '') AS body_hash,
      encode(message_body) AS message_body,
      CASE WHEN sms_type IS NULL THEN NULL
           WHEN sms_type BETWEEN 0 AND 6 THEN ${smsTypes}[sms_type + 1]
           ELSE 'unknown' END AS sms_type,
      thread_id, contact_id, item_id, sms_address,
      regexp_replace(lower(sms_address), '[\\s\\W_]', '', 'g') AS normalized_sms_address,
      CASE WHEN length(datetime::VARCHAR) > 10 THEN make_timestamp(datetime * 1000)
           ELSE make_timestamp(datetime * 1000000) END AS datetime
    FROM raw
  ),
  with_id AS (
    SELECT *, md5(concat_ws(':', user_id, device_id,
        coalesce(strftime(datetime, '%Y-%m-%d %H:%M:%S') ||
                 CASE WHEN microsecond(datetime) % 1000000 <> 0
                      THEN strftime(datetime, '.%f') ELSE '' END, 'None'),
        coalesce(item_id::VARCHAR, 'None'), sms_address, body_hash)) AS id
    FROM typed
  ),
  with_hash AS (
    SELECT *, md5(concat_ws(':', id, sms_type, thread_id, contact_id,
                            normalized_sms_address, 'False')) AS row_hash,
           ${sqlString(options.now)}::TIMESTAMP AS ts_updated
    FROM with_id
  )
  SELECT DISTINCT user_id, device_id, is_deleted, body_hash, message_body, sms_type,
         thread_id, contact_id, item_id, sms_address, normalized_sms_address,
         least(datetime, ts_updated) AS datetime, id, row_hash, ts_updated
  FROM with_hash AS upload
  WHERE NOT EXISTS (SELECT 1 FROM history_hashes AS h WHERE h.row_hash = upload.row_hash)
) TO ${sqlString(options.out)} (FORMAT parquet, COMPRESSION snappy)`;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const instance = await DuckDBInstance.create(':memory:', { threads: options.threads });
  const connection = await instance.connect();
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  if (options.history && existsSync(options.history)) {
    await connection.run(`CREATE TEMP TABLE history_hashes AS SELECT row_hash FROM
      read_parquet(${sqlString(options.history)}, hive_partitioning = false)`);
  } else {
    await connection.run('CREATE TEMP TABLE history_hashes (row_hash VARCHAR)');
  }
  const result = await connection.run(collationSql(options));
  const rowsWritten = result.rowsChanged;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  connection.closeSync();
  console.log(`seconds=${seconds.toFixed(6)} cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(6)} ` +
              `rows_written=${rowsWritten} ` +
              `maxrss_kb=${process.resourceUsage().maxRSS}`);
}

main().catch((error) => {
  console.error(`duckdb_collate: ${error.message}`);
  process.exit(1);
});
