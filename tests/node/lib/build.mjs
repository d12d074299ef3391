// build: compile the C test tools the node suites need against the gcc
// build of the library (what tests/run.sh builds first).
//
//   const gen = buildParquetGen();   // path of build/gcc/parquet_gen
import { execFileSync } from 'node:child_process';

const LIBS = ['-lcrypto', '-lz', '-lsnappy', '-lzstd', '-llz4', '-lutf8proc', '-lm', '-lpthread'];

export function buildParquetGen({ buildDir = 'build/gcc' } = {}) {
  // A no-op when tests/run.sh has just built the library.
  execFileSync('make', ['-s', `BUILD=${buildDir}`, `${buildDir}/libcollator.a`], { stdio: 'inherit' });
  const out = `${buildDir}/parquet_gen`;
  execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-Isrc', '-Itests',
    'tests/tools/parquet_gen.c', `${buildDir}/libcollator.a`, ...LIBS, '-o', out], { stdio: 'inherit' });
  return out;
}
