/* MD5 of short messages: one digest_md5_raw after another (scalar) against
 * each lane path of digest_md5_raw_many this CPU runs, at the lengths of
 * the SMS pre-images (body 40..250 bytes, ids ~90, row hashes ~130).
 *
 *   digest_bench [BATCH...]   (default batches 16 and 256)
 *
 * bench/digest.sh builds it against the core module built with the
 * project's flags (-O2, no -march) and runs it.
 *
 * Each figure is the minimum over 7 runs of CPU time (the machines are
 * shared) hashing 2^18 distinct messages in batches of BATCH: ns per
 * message and MB/s (10^6 message bytes per CPU second). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/digest.h"
#include "core/digest_lanes.h"

#define MESSAGES ((size_t)1 << 18)
#define RUNS 7

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  static const size_t lengths[] = {40, 90, 130, 250};
  size_t batches[8] = {16, 256};
  size_t batch_count = 2;
  const size_t stride = 256;
  unsigned char *bytes = malloc(MESSAGES * stride);
  const void **data = malloc(MESSAGES * sizeof(*data));
  size_t *len = malloc(MESSAGES * sizeof(*len));
  unsigned char (*raw)[DIGEST_MD5_LEN] = malloc(MESSAGES * sizeof(*raw));
  unsigned sink = 0;

  if(argc > 1) {
    batch_count = 0;
    for(int a = 1; a < argc && batch_count < 8; a++)
      batches[batch_count++] = (size_t)strtoul(argv[a], NULL, 10);
  }
  if(!bytes || !data || !len || !raw) {
    fprintf(stderr, "digest_bench: out of memory\n");
    return 1;
  }
  for(size_t i = 0; i < MESSAGES * stride; i++)
    bytes[i] = (unsigned char)(i * 2654435761u >> 13);
  printf("%-10s %6s %6s %10s %9s %8s\n", "path", "batch", "bytes", "ns/msg", "MB/s", "speedup");
  for(size_t b = 0; b < batch_count; b++) {
    size_t batch = batches[b] ? batches[b] : 1;
    for(size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
      double scalar_ns = 0;
      for(size_t i = 0; i < MESSAGES; i++) {
        data[i] = bytes + i * stride;
        len[i] = lengths[k];
      }
      /* Scalar first: the others are compared with it; auto last. */
      for(int q = 1; q <= DIGEST_MD5_PATH_COUNT; q++) {
        int p = q % DIGEST_MD5_PATH_COUNT;
        double best = 1e30;
        char speedup[16] = "";
        if(!digest_md5_path_available((digest_md5_path)p))
          continue;
        for(int run = 0; run < RUNS; run++) {
          double start = cpu_now();
          for(size_t first = 0; first < MESSAGES; first += batch) {
            size_t n = MESSAGES - first < batch ? MESSAGES - first : batch;
            digest_md5_raw_many_on((digest_md5_path)p, n, data + first, len + first,
                                   raw + first);
          }
          double took = cpu_now() - start;
          if(took < best)
            best = took;
          sink += raw[MESSAGES - 1][0];
        }
        double ns = best * 1e9 / (double)MESSAGES;
        if(p == DIGEST_MD5_PATH_SCALAR)
          scalar_ns = ns;
        snprintf(speedup, sizeof(speedup), "%.2fx", scalar_ns / ns);
        printf("%-10s %6zu %6zu %10.1f %9.0f %8s\n", digest_md5_path_name((digest_md5_path)p),
               batch, lengths[k], ns, (double)(MESSAGES * lengths[k]) / best / 1e6, speedup);
      }
    }
  }
  free(bytes);
  free(data);
  free(len);
  free(raw);
  return sink == 12345 ? 2 : 0;
}
