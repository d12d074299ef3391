/* The engine's outputs on both sides of its 1 MB output buffer: a small
 * update's spool and new current stay in memory (the spool never becomes a
 * file, the txt reads current back from memory), a large one's go through
 * temp files; a first upload's spool is stored as both diff and current.
 * Either way the same rows must come out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collate/collate.h"
#include "collate/history.h"
#include "collate/logtype.h"
#include "core/utctime.h"
#include "store/store.h"
#include "unit.h"

#define USER_CURRENT "collated_logs/current/sms_log/user=%d/logs.parquet"
#define USER_DIFF "collated_logs/diff/sms_log/ts_update=%s/user=%d/logs.parquet"
#define USER_TXT "collated_logs/user-%d/device-dev/collated_sms_log.txt"
#define USER_UPLOAD "uploads/users/%d/ser/dev/sms_log/u%d.json"

static void key_of(char *key, size_t cap, const char *format, int user, const char *day)
{
  if(day)
    snprintf(key, cap, format, day, user);
  else
    snprintf(key, cap, format, user);
}

/* count SMS entries with item ids first.. and bodies of body_len letters
 * that snappy cannot shrink much, so row counts translate into bytes. */
static void sms_upload(buf *json, int first, int count, size_t body_len)
{
  uint32_t rng = 12345u + (uint32_t)first;
  buf_putc(json, '[');
  for(int i = first; i < first + count; i++) {
    buf_printf(json, "%s{\"contact_id\": %d, \"datetime\": %lld, \"item_id\": %d, "
               "\"message_body\": \"", i > first ? ", " : "", i % 97,
               1737375171061LL + (long long)i * 60000, 1000 + i);
    for(size_t c = 0; c < body_len; c++) {
      rng = rng * 1103515245u + 12345u;
      buf_putc(json, (char)('a' + (rng >> 16) % 26));
    }
    buf_printf(json, "\", \"sms_address\": \"+2547%08d\", \"sms_type\": %d, \"thread_id\": %d}",
               i * 7919 % 100000000, 1 + i % 2, i % 50);
  }
  buf_putc(json, ']');
  CHECK_INT(buf_status(json), CL_OK);
}

/* threads: 0 keeps the default of the environment. */
static cl_status collate_with(store *s, const char *key, const char *iso, unsigned threads,
                              collate_result *result, cl_error *err)
{
  collate_options options;
  CHECK_OK(collate_options_from_env(&options, err), err);
  CHECK_OK(utc_parse_iso8601(iso, &options.now_micros, err), err);
  if(threads)
    options.threads = threads;
  return collate_upload(s, key, &options, result, err);
}

static collate_result collate_at(store *s, const char *key, const char *iso)
{
  collate_result result;
  cl_error err = {0};
  CHECK_OK(collate_with(s, key, iso, 0, &result, &err), &err);
  return result;
}

/* Rows of a collated file, every column decoded (-1: no such object). */
static long rows_of(store *s, const char *key)
{
  const collate_type *type = collate_type_find("sms_log");
  parquet_schema schema;
  history_file h;
  history_batch batch;
  cl_error err = {0};
  long rows = 0;
  CHECK_OK(history_schema_create(type, 0, &schema, &err), &err);
  history_batch_init(&batch);
  CHECK_OK(history_fetch(s, key, type, &schema, &h, &err), &err);
  if(!h.exists)
    rows = -1;
  for(size_t rg = 0; h.exists && rg < history_row_group_count(&h); rg++) {
    CHECK_OK(history_read_group(&h, rg, HISTORY_ALL_COLUMNS, &batch, &err), &err);
    rows += (long)batch.count;
  }
  history_batch_free(&batch);
  history_close(&h);
  history_schema_free(&schema);
  return rows;
}

static long count_of(const buf *text, const char *needle)
{
  long n = 0;
  for(const char *p = text->data; p && (p = strstr(p, needle)); p++)
    n++;
  return n;
}

static const struct {
  const char *name;
  int rows, more_rows;
  size_t body_len;
} output_vectors[] = {
  {"small: spool and current stay in memory", 5, 3, 60},
  {"large: spool and current spill to temp files", 4000, 1500, 400},
};

TEST(collate_output_same_rows_in_memory_and_spilled)
{
  for(size_t v = 0; v < sizeof(output_vectors) / sizeof(output_vectors[0]); v++) {
    const char *name = output_vectors[v].name;
    int user = 7000 + (int)v, rows = output_vectors[v].rows, more = output_vectors[v].more_rows;
    store *s = NULL;
    cl_error err = {0};
    char upload[256], current[256], diff1[256], diff2[256], txt[256];
    CHECK_OK(store_open(unit_temp_dir(), &s, &err), &err);
    if(!s)
      return;
    key_of(current, sizeof(current), USER_CURRENT, user, NULL);
    key_of(diff1, sizeof(diff1), USER_DIFF, user, "2026-01-02");
    key_of(diff2, sizeof(diff2), USER_DIFF, user, "2026-01-03");
    key_of(txt, sizeof(txt), USER_TXT, user, NULL);
    store_precondition always = {STORE_ALWAYS, NULL};

    /* First upload: diff and current are the spool, so the same bytes. */
    buf json = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
    sms_upload(&json, 0, rows, output_vectors[v].body_len);
    snprintf(upload, sizeof(upload), USER_UPLOAD, user, 1);
    CHECK_OK(store_put(s, upload, json.data, json.len, &always, NULL, &err), &err);
    collate_result r = collate_at(s, upload, "2026-01-02T00:00:00Z");
    if(r.new_rows != (uint64_t)rows)
      unit_fail(__FILE__, __LINE__, "%s: %llu new rows, expected %d", name,
                (unsigned long long)r.new_rows, rows);
    CHECK_INT(rows_of(s, current), rows);
    CHECK_OK(store_get(s, current, &a, NULL, &err), &err);
    CHECK_OK(store_get(s, diff1, &b, NULL, &err), &err);
    CHECK_MEM(a.data, a.len, b.data, b.len);
    /* One file put twice: the local store links it under both keys, so
     * the ETags (inode, size, mtime) are the same too. */
    store_info current_info, diff_info;
    CHECK_OK(store_head(s, current, &current_info, &err), &err);
    CHECK_OK(store_head(s, diff1, &diff_info, &err), &err);
    CHECK_STR(current_info.etag, diff_info.etag);
    if(v == 1 && a.len <= (1u << 20))
      unit_fail(__FILE__, __LINE__, "%s: current is only %zu bytes, not past the buffer",
                name, a.len);
    buf_clear(&b);
    CHECK_OK(store_get(s, txt, &b, NULL, &err), &err);
    CHECK_INT(count_of(&b, "\"item_id\": "), rows);

    /* Second upload a day later: the old rows again and `more` new ones. */
    buf_clear(&json);
    sms_upload(&json, 0, rows + more, output_vectors[v].body_len);
    snprintf(upload, sizeof(upload), USER_UPLOAD, user, 2);
    CHECK_OK(store_put(s, upload, json.data, json.len, &always, NULL, &err), &err);
    r = collate_at(s, upload, "2026-01-03T00:00:00Z");
    CHECK_INT(r.history_rows, rows);
    if(r.new_rows != (uint64_t)more)
      unit_fail(__FILE__, __LINE__, "%s: %llu new rows, expected %d", name,
                (unsigned long long)r.new_rows, more);
    CHECK_INT(rows_of(s, current), rows + more);
    CHECK_INT(rows_of(s, diff2), more);
    CHECK_INT(rows_of(s, diff1), rows);
    buf_clear(&b);
    CHECK_OK(store_get(s, txt, &b, NULL, &err), &err);
    CHECK_INT(count_of(&b, "\"item_id\": "), rows + more);

    /* A replay changes nothing. */
    buf_clear(&a);
    CHECK_OK(store_get(s, current, &a, NULL, &err), &err);
    r = collate_at(s, upload, "2026-01-03T00:00:00Z");
    CHECK_INT(r.outcome, COLLATE_UNCHANGED);
    buf_clear(&b);
    CHECK_OK(store_get(s, current, &b, NULL, &err), &err);
    CHECK_MEM(a.data, a.len, b.data, b.len);

    buf_free(&json);
    buf_free(&a);
    buf_free(&b);
    store_free(s);
  }
}

/* Set (or, for NULL, unset) an environment variable; returns what it was
 * (a copy, or NULL when it was unset) for env_restore, which frees it. */
static char *env_replace(const char *name, const char *value)
{
  char *saved = getenv(name) ? strdup(getenv(name)) : NULL;
  if(value)
    setenv(name, value, 1);
  else
    unsetenv(name);
  return saved;
}

static void env_restore(const char *name, char *saved)
{
  if(saved)
    setenv(name, saved, 1);
  else
    unsetenv(name);
  free(saved);
}

/* Bytes of the object at key; "" when there is none. */
static void object_of(store *s, const char *key, buf *out)
{
  cl_error err = {0};
  buf_clear(out);
  cl_status status = store_get(s, key, out, NULL, &err);
  if(status != CL_ERR_NOT_FOUND)
    CHECK_OK(status, &err);
}

static void check_same_object(store *a, store *b, const char *key)
{
  buf x = BUF_INIT, y = BUF_INIT;
  object_of(a, key, &x);
  object_of(b, key, &y);
  if(!x.len)
    unit_fail(__FILE__, __LINE__, "%s: missing", key);
  if(x.len != y.len || memcmp(x.data, y.data, x.len))
    unit_fail(__FILE__, __LINE__, "%s: %zu and %zu bytes, not the same", key, x.len, y.len);
  buf_free(&x);
  buf_free(&y);
}

/* Fails the write of one key, once. */
typedef struct failing_write {
  const char *key;
  int failed;
} failing_write;

static cl_status fail_write_of(void *ctx, const char *key, cl_error *err)
{
  failing_write *f = ctx;
  if(f->failed || strcmp(key, f->key))
    return CL_OK;
  f->failed = 1;
  return cl_fail(err, CL_ERR_TRANSIENT, "%s: write refused by the test", key);
}

/* A first upload that dies before its current is written leaves the diff
 * (its spool, put as it is); the retry finds the diff and no current, so
 * it spools the rows again, keeps the diff and writes the current from the
 * new spool: the bytes of an upload that never died. */
TEST(collate_output_first_upload_retried_after_its_current_failed)
{
  for(size_t v = 0; v < sizeof(output_vectors) / sizeof(output_vectors[0]); v++) {
    int user = 7010 + (int)v, rows = output_vectors[v].rows;
    store *s = NULL, *clean = NULL;
    cl_error err = {0};
    char upload[256], current[256], diff[256], txt[256];
    CHECK_OK(store_open(unit_temp_dir(), &s, &err), &err);
    CHECK_OK(store_open(unit_temp_dir(), &clean, &err), &err);
    if(!s || !clean)
      return;
    key_of(current, sizeof(current), USER_CURRENT, user, NULL);
    key_of(diff, sizeof(diff), USER_DIFF, user, "2026-01-02");
    key_of(txt, sizeof(txt), USER_TXT, user, NULL);
    snprintf(upload, sizeof(upload), USER_UPLOAD, user, 1);
    store_precondition always = {STORE_ALWAYS, NULL};
    buf json = BUF_INIT;
    sms_upload(&json, 0, rows, output_vectors[v].body_len);
    CHECK_OK(store_put(clean, upload, json.data, json.len, &always, NULL, &err), &err);
    collate_at(clean, upload, "2026-01-02T00:00:00Z");
    CHECK_OK(store_put(s, upload, json.data, json.len, &always, NULL, &err), &err);

    collate_options options;
    collate_result r;
    failing_write refuse = {current, 0};
    CHECK_OK(collate_options_from_env(&options, &err), &err);
    CHECK_OK(utc_parse_iso8601("2026-01-02T00:00:00Z", &options.now_micros, &err), &err);
    options.hooks.before_write = fail_write_of;
    options.hooks.ctx = &refuse;
    options.max_attempts = 1;
    CHECK_STATUS(collate_upload(s, upload, &options, &r, &err), CL_ERR_TRANSIENT);
    CHECK_INT(rows_of(s, current), -1);
    CHECK_INT(rows_of(s, diff), rows);
    store_info before, after;
    CHECK_OK(store_head(s, diff, &before, &err), &err);

    CHECK_OK(collate_upload(s, upload, &options, &r, &err), &err);
    CHECK_INT(r.new_rows, rows);
    CHECK_OK(store_head(s, diff, &after, &err), &err);
    CHECK_STR(after.etag, before.etag);
    const char *keys[] = {current, diff, txt};
    for(size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
      check_same_object(s, clean, keys[k]);
    buf_free(&json);
    store_free(s);
    store_free(clean);
  }
}

/* Row groups encoded on a second thread, with the first upload's txt fed
 * from the spool as it is written, give the same bytes as one thread; and
 * a txt fed that way is the txt read back from a current of the same rows. */
TEST(collate_output_same_bytes_with_an_encoder_thread)
{
  enum { ROWS = 14000, MORE = 3000, USER = 7100 };
  store *stores[3] = {NULL, NULL, NULL};
  cl_error err = {0};
  char upload1[256], upload2[256], current[256], diff1[256], diff2[256], txt[256];
  buf json = BUF_INIT, all = BUF_INIT;
  store_precondition always = {STORE_ALWAYS, NULL};
  for(int i = 0; i < 3; i++)
    CHECK_OK(store_open(unit_temp_dir(), &stores[i], &err), &err);
  if(!stores[0] || !stores[1] || !stores[2])
    goto done;
  key_of(current, sizeof(current), USER_CURRENT, USER, NULL);
  key_of(diff1, sizeof(diff1), USER_DIFF, USER, "2026-01-02");
  key_of(diff2, sizeof(diff2), USER_DIFF, USER, "2026-01-03");
  key_of(txt, sizeof(txt), USER_TXT, USER, NULL);
  snprintf(upload1, sizeof(upload1), USER_UPLOAD, USER, 1);
  snprintf(upload2, sizeof(upload2), USER_UPLOAD, USER, 2);
  sms_upload(&json, 0, ROWS, 300);
  sms_upload(&all, 0, ROWS + MORE, 300);

  /* stores[0] one thread, stores[1] two: a first upload, then more rows. */
  for(unsigned t = 0; t < 2; t++) {
    collate_result r;
    CHECK_OK(store_put(stores[t], upload1, json.data, json.len, &always, NULL, &err), &err);
    CHECK_OK(collate_with(stores[t], upload1, "2026-01-02T00:00:00Z", t + 1, &r, &err), &err);
    CHECK_INT(r.new_rows, ROWS);
    CHECK_OK(store_put(stores[t], upload2, all.data, all.len, &always, NULL, &err), &err);
    CHECK_OK(collate_with(stores[t], upload2, "2026-01-03T00:00:00Z", t + 1, &r, &err), &err);
    CHECK_INT(r.new_rows, MORE);
  }
  CHECK(rows_of(stores[1], diff1) == ROWS);
  const char *keys[] = {current, diff1, diff2, txt};
  for(size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
    check_same_object(stores[0], stores[1], keys[k]);

  /* stores[2]: every row in one first upload, so its txt is fed. */
  collate_result r;
  CHECK_OK(store_put(stores[2], upload2, all.data, all.len, &always, NULL, &err), &err);
  CHECK_OK(collate_with(stores[2], upload2, "2026-01-03T00:00:00Z", 2, &r, &err), &err);
  CHECK_INT(r.new_rows, ROWS + MORE);
  check_same_object(stores[1], stores[2], txt);

done:
  buf_free(&json);
  buf_free(&all);
  for(int i = 0; i < 3; i++)
    store_free(stores[i]);
}

/* A first upload of several row groups: while the encoder thread encodes
 * one group, the parsing thread may add the next group's first rows to the
 * txt, and the encoder the rest. Whichever thread adds which rows, each
 * run gives the bytes of one thread. */
TEST(collate_output_txt_shared_by_two_threads_same_bytes)
{
  enum { ROWS = 40000, RUNS = 3, USER = 7400 };
  store *stores[1 + RUNS] = {NULL};
  cl_error err = {0};
  char upload[256], current[256], diff[256], txt[256];
  buf json = BUF_INIT;
  store_precondition always = {STORE_ALWAYS, NULL};
  key_of(current, sizeof(current), USER_CURRENT, USER, NULL);
  key_of(diff, sizeof(diff), USER_DIFF, USER, "2026-01-02");
  key_of(txt, sizeof(txt), USER_TXT, USER, NULL);
  snprintf(upload, sizeof(upload), USER_UPLOAD, USER, 1);
  sms_upload(&json, 0, ROWS, 300); /* ~7,500 rows per row group */
  for(int i = 0; i <= RUNS; i++) {
    collate_result r;
    CHECK_OK(store_open(unit_temp_dir(), &stores[i], &err), &err);
    if(!stores[i])
      goto done;
    CHECK_OK(store_put(stores[i], upload, json.data, json.len, &always, NULL, &err), &err);
    CHECK_OK(collate_with(stores[i], upload, "2026-01-02T00:00:00Z", i ? 2 : 1, &r, &err), &err);
    CHECK_INT(r.new_rows, ROWS);
  }
  for(int i = 1; i <= RUNS; i++) {
    check_same_object(stores[0], stores[i], txt);
    check_same_object(stores[0], stores[i], current);
    check_same_object(stores[0], stores[i], diff);
  }
done:
  buf_free(&json);
  for(int i = 0; i <= RUNS; i++)
    store_free(stores[i]);
}

/* A failure on the encoder thread (here: no temp file for the spool) fails
 * the round with its message, and nothing is stored; the retry succeeds. */
TEST(collate_output_encoder_failure_stores_nothing)
{
  enum { ROWS = 14000, USER = 7200 };
  store *s = NULL;
  cl_error err = {0};
  char upload[256], current[256], txt[256];
  buf json = BUF_INIT;
  store_precondition always = {STORE_ALWAYS, NULL};
  collate_result r;
  CHECK_OK(store_open(unit_temp_dir(), &s, &err), &err);
  if(!s)
    return;
  key_of(current, sizeof(current), USER_CURRENT, USER, NULL);
  key_of(txt, sizeof(txt), USER_TXT, USER, NULL);
  snprintf(upload, sizeof(upload), USER_UPLOAD, USER, 1);
  sms_upload(&json, 0, ROWS, 300);
  CHECK_OK(store_put(s, upload, json.data, json.len, &always, NULL, &err), &err);

  char *saved = env_replace("TMPDIR", "/nonexistent-collator-tmp");
  CHECK_STATUS(collate_with(s, upload, "2026-01-02T00:00:00Z", 2, &r, &err), CL_ERR_IO);
  env_restore("TMPDIR", saved);
  if(!strstr(err.message, "temp file in /nonexistent-collator-tmp"))
    unit_fail(__FILE__, __LINE__, "unexpected message: %s", err.message);
  CHECK_INT(r.outcome, COLLATE_FAILED);
  CHECK_INT(rows_of(s, current), -1);
  buf text = BUF_INIT;
  object_of(s, txt, &text);
  CHECK_INT(text.len, 0);

  CHECK_OK(collate_with(s, upload, "2026-01-02T00:00:00Z", 2, &r, &err), &err);
  CHECK_INT(r.new_rows, ROWS);
  CHECK_INT(rows_of(s, current), ROWS);
  buf_free(&text);
  buf_free(&json);
  store_free(s);
}

/* A current of more than 32 row groups (one per upload here) has its txt
 * read back one row group ahead on the encoder thread, which also renders
 * the first rows of each group for the txt, as many as it gets to before
 * this thread is done with the group before (groups of 300 rows: some,
 * none or all); from the 23rd upload on, the txt (over 4 MB) is sorted in
 * runs, whose merge is then cut into 4-7 ranges, every other one merged on
 * the encoder thread: the same bytes as one thread doing it all in turn. */
TEST(collate_output_txt_read_ahead_same_bytes)
{
  enum { UPLOADS = 36, ROWS = 300, USER = 7300 };
  store *stores[2] = {NULL, NULL};
  cl_error err = {0};
  char upload[256], current[256], txt[256];
  store_precondition always = {STORE_ALWAYS, NULL};
  for(int i = 0; i < 2; i++)
    CHECK_OK(store_open(unit_temp_dir(), &stores[i], &err), &err);
  if(!stores[0] || !stores[1])
    goto done;
  key_of(current, sizeof(current), USER_CURRENT, USER, NULL);
  key_of(txt, sizeof(txt), USER_TXT, USER, NULL);
  for(int u = 0; u < UPLOADS; u++) {
    buf json = BUF_INIT;
    sms_upload(&json, u * ROWS, ROWS, 400);
    snprintf(upload, sizeof(upload), USER_UPLOAD, USER, u);
    for(unsigned t = 0; t < 2; t++) {
      collate_result r;
      CHECK_OK(store_put(stores[t], upload, json.data, json.len, &always, NULL, &err), &err);
      CHECK_OK(collate_with(stores[t], upload, "2026-01-02T00:00:00Z", t + 1, &r, &err), &err);
      CHECK_INT(r.new_rows, ROWS);
    }
    buf_free(&json);
  }
  CHECK_INT(rows_of(stores[1], current), UPLOADS * ROWS);
  check_same_object(stores[0], stores[1], current);
  check_same_object(stores[0], stores[1], txt);
done:
  for(int i = 0; i < 2; i++)
    store_free(stores[i]);
}

/* COLLATOR_THREADS: 1 or 2; anything else is a usage error naming it. */
TEST(collate_output_threads_from_the_environment)
{
  static const struct {
    const char *value;
    cl_status status;
    unsigned threads;
  } vectors[] = {
    {"1", CL_OK, 1}, {"2", CL_OK, 2}, {"3", CL_ERR_USAGE, 0},
    {"0", CL_ERR_USAGE, 0}, {"two", CL_ERR_USAGE, 0},
  };
  char *saved = env_replace("COLLATOR_THREADS", NULL);
  for(size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
    collate_options options;
    cl_error err = {0};
    setenv("COLLATOR_THREADS", vectors[v].value, 1);
    CHECK_STATUS(collate_options_from_env(&options, &err), vectors[v].status);
    if(vectors[v].status == CL_OK)
      CHECK_INT(options.threads, vectors[v].threads);
    else if(!strstr(err.message, "COLLATOR_THREADS="))
      unit_fail(__FILE__, __LINE__, "%s: message does not name the variable: %s",
                vectors[v].value, err.message);
  }
  unsetenv("COLLATOR_THREADS");
  collate_options options;
  cl_error err = {0};
  CHECK_OK(collate_options_from_env(&options, &err), &err);
  CHECK(options.threads == 1 || options.threads == 2);
  env_restore("COLLATOR_THREADS", saved);
}
