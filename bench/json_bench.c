/* Throughput of src/json on a generated SMS-like upload, next to yajl (the
 * parser design.md first suggested) on the same bytes.
 *
 *   json_bench [MEGABYTES]   (default 100)
 *
 * Measured, each on the same in-memory document fed in 64 KiB chunks:
 *   reader   json_reader building every element's tree (what collate does)
 *   parse    json_parse of the whole document at once
 *   yajl     yajl_parse with no-op callbacks: tokenising only, no tree, so a
 *            lower bound on what yajl would cost in the collator
 *   dumps    json_dumps of every element (re-serialising, e.g. phone numbers)
 * Prints MB/s (10^6 bytes of input per CPU second: the build machines are
 * shared, and CPU time is what the per-core budget is about). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>

#include "json/json.h"

#define CHUNK ((size_t)64 * 1024)

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ull;

static unsigned next_random(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 11);
}

/* Rows shaped like the SMS uploads: short keys, ints, a phone number and a
 * body of 20..180 characters, some with escapes or non-ASCII text. */
static void generate(buf *doc, size_t target)
{
  static const char words[][12] = {"Jambo", "people", "habari", "yako", "M-PESA", "confirmed",
                                   "Ksh", "sent", "to", "on", "at", "balance", "is", "new",
                                   "rafiki", "asante", "sana", "leo", "kesho", "OK"};
  size_t row = 0;

  buf_putc(doc, '[');
  while(doc->len < target) {
    size_t body_len = 20 + next_random() % 160, start;
    unsigned kind = next_random() % 100;

    buf_printf(doc,
               "%s{\"contact_id\": %u, \"datetime\": %llu, \"item_id\": %zu, \"message_body\": \"",
               row ? ", " : "", next_random() % 500, 1487722326477ull + next_random() % 100000000,
               row);
    start = doc->len;
    while(doc->len - start < body_len) {
      buf_append_str(doc, words[next_random() % 20]);
      buf_putc(doc, ' ');
    }
    if(kind < 5)
      buf_append_str(doc, "\\n\\\"quoted\\\"");
    else if(kind < 8)
      buf_append_str(doc, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    else if(kind < 10)
      buf_append_str(doc, "\\u00e9\\ud83d\\ude00");
    buf_printf(doc, "\", \"sms_address\": \"+2547%08u\", \"sms_type\": %u, \"thread_id\": %u}",
               next_random() % 100000000, 1 + next_random() % 6, next_random() % 2000);
    row++;
  }
  buf_putc(doc, ']');
}

static int no_op(void *ctx)
{
  (void)ctx;
  return 1;
}
static int no_op_bool(void *ctx, int b)
{
  (void)ctx;
  (void)b;
  return 1;
}
static int no_op_number(void *ctx, const char *s, size_t l)
{
  (void)ctx;
  (void)s;
  (void)l;
  return 1;
}
static int no_op_string(void *ctx, const unsigned char *s, size_t l)
{
  (void)ctx;
  (void)s;
  (void)l;
  return 1;
}

static double bench_yajl(const buf *doc)
{
  yajl_callbacks callbacks = {no_op, no_op_bool, NULL, NULL, no_op_number, no_op_string,
                              no_op, no_op_string, no_op, no_op, no_op};
  yajl_handle handle = yajl_alloc(&callbacks, NULL, NULL);
  size_t pos;
  double t0 = now();

  for(pos = 0; pos < doc->len; pos += CHUNK) {
    size_t n = doc->len - pos < CHUNK ? doc->len - pos : CHUNK;
    if(yajl_parse(handle, (const unsigned char *)doc->data + pos, n) != yajl_status_ok) {
      fprintf(stderr, "yajl failed\n");
      exit(1);
    }
  }
  if(yajl_complete_parse(handle) != yajl_status_ok) {
    fprintf(stderr, "yajl failed at the end\n");
    exit(1);
  }
  yajl_free(handle);
  return now() - t0;
}

static double bench_reader(const buf *doc, size_t *rows, int dump, double spent,
                           double *dump_seconds)
{
  stream_memory memory = {(const uint8_t *)doc->data, doc->len, 0};
  json_reader *reader = json_reader_create(stream_source_from_memory(&memory), NULL);
  json_arena *arena = json_arena_create(0);
  json_value *item;
  cl_error err;
  buf out = BUF_INIT;
  double t0 = now();

  *rows = 0;
  if(json_reader_begin_array(reader, &err)) {
    fprintf(stderr, "%s\n", err.message);
    exit(1);
  }
  for(;;) {
    json_arena_reset(arena);
    if(json_reader_next(reader, arena, &item, &err)) {
      fprintf(stderr, "%s\n", err.message);
      exit(1);
    }
    if(!item)
      break;
    if(dump) {
      buf_clear(&out);
      json_dumps(item, &out);
    }
    (*rows)++;
  }
  t0 = now() - t0;
  if(dump_seconds)
    *dump_seconds = t0 - spent; /* spent: the same pass without dumps */
  buf_free(&out);
  json_reader_free(reader);
  json_arena_free(arena);
  return t0;
}

static double bench_parse(const buf *doc)
{
  json_limits limits;
  json_arena *arena = json_arena_create(0);
  json_value *value;
  cl_error err;
  double t0;

  json_limits_default(&limits);
  limits.max_value_bytes = (size_t)-1;
  t0 = now();
  if(json_parse(doc->data, doc->len, &limits, arena, &value, &err)) {
    fprintf(stderr, "%s\n", err.message);
    exit(1);
  }
  t0 = now() - t0;
  json_arena_free(arena);
  return t0;
}

int main(int argc, char **argv)
{
  size_t megabytes = argc > 1 ? (size_t)atol(argv[1]) : 100, rows;
  buf doc = BUF_INIT;
  double best_reader = 1e9, best_yajl = 1e9, best_parse = 1e9, dump_seconds = 0, t;
  double mb;
  int round;

  generate(&doc, megabytes * 1000000);
  mb = (double)doc.len / 1e6;
  printf("document: %.1f MB of SMS-like JSON\n", mb);
  /* Best of three: the machine may be shared. */
  for(round = 0; round < 3; round++) {
    t = bench_reader(&doc, &rows, 0, 0, NULL);
    best_reader = t < best_reader ? t : best_reader;
    t = bench_yajl(&doc);
    best_yajl = t < best_yajl ? t : best_yajl;
  }
  t = bench_parse(&doc);
  best_parse = t;
  bench_reader(&doc, &rows, 1, best_reader, &dump_seconds);
  printf("rows: %zu\n", rows);
  printf("json_reader (tree per element): %7.1f MB/s\n", mb / best_reader);
  printf("json_parse (whole document):    %7.1f MB/s\n", mb / best_parse);
  printf("yajl_parse (no-op callbacks):   %7.1f MB/s\n", mb / best_yajl);
  printf("json_dumps (every element):     %7.1f MB/s of input\n", mb / dump_seconds);
  buf_free(&doc);
  return 0;
}
