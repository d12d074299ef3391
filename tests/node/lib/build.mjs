// build: compile the C test tools the node suites need against the gcc
// build of the library (what tests/run.sh builds first).
//
//   const gen = buildParquetGen();   // path of build/gcc/parquet_gen
//   const shim = buildFaultShim();   // path of build/gcc/fault_shim.so (LD_PRELOAD)
import { execFileSync } from 'node:child_process';

const LIBS = ['-lcrypto', '-lz', '-lsnappy', '-lzstd', '-llz4', '-lutf8proc', '-lisal', '-lm', '-lpthread'];

export function buildParquetGen({ buildDir = 'build/gcc' } = {}) {
  // A no-op when tests/run.sh has just built the library.
  execFileSync('make', ['-s', `BUILD=${buildDir}`, `${buildDir}/libcollator.a`], { stdio: 'inherit' });
  const out = `${buildDir}/parquet_gen`;
  execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-Isrc', '-Itests',
    'tests/tools/parquet_gen.c', `${buildDir}/libcollator.a`, ...LIBS, '-o', out], { stdio: 'inherit' });
  return out;
}

// The syscall fault injector (tests/tools/fault_shim.c): needs no library.
export function buildFaultShim({ buildDir = 'build/gcc' } = {}) {
  const out = `${buildDir}/fault_shim.so`;
  execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC',
    'tests/tools/fault_shim.c', '-ldl', '-o', out], { stdio: 'inherit' });
  return out;
}
