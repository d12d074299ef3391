/* Regression tests for hostile inputs found by the reliability suites
 * (tests/node/reliability_*.test.mjs, tests/hostile/): each of these once
 * turned a permanent input error into a failure retried for ever, or let a
 * foreign file be overwritten. */
#include <string.h>

#include "collate/collate.h"
#include "collate/key.h"
#include "unit.h"

#define NOW_2026_11_24 INT64_C(1795514400000000)

/* The rejected record of an upload key must be writable on every store: a
 * segment too long for a file name, or one the local store reserves, sends
 * the record to _invalid/{md5}. */
TEST(collate_hostile_rejected_record_keys)
{
  static const struct {
    const char *key;
    int as_is;
  } vectors[] = {
    {"uploads/users/1/s/d/app_packages/f.json", 1},
    {"uploads/users/1/s/.collator-x/app_packages/f.json", 0},
    {"uploads/users/1/s/.collator-locks/app_packages/f.json", 0},
    {"uploads/users/1/s/.collatorx/app_packages/f.json", 1},
    {"uploads/users/1/s/d/app_packages/", 0},
    {"uploads/users/1/s/./app_packages/f", 0},
  };
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    buf b = BUF_INIT;
    CHECK_INT(collate_key_rejected(vectors[i].key, strlen(vectors[i].key), NOW_2026_11_24, &b),
              CL_OK);
    int as_is = strstr(b.data, "/_invalid/") == NULL;
    CHECK_INT(as_is, vectors[i].as_is);
    buf_free(&b);
  }
  char key[600];
  memset(key, 'd', sizeof(key));
  memcpy(key, "uploads/users/1/s/", 18);
  for(size_t segment = 240; segment <= 260; segment += 10) {
    size_t len = 18 + segment;
    memcpy(key + len, "/app_packages/f.json", 21);
    buf b = BUF_INIT;
    CHECK_INT(collate_key_rejected(key, strlen(key), NOW_2026_11_24, &b), CL_OK);
    CHECK_INT(strstr(b.data, "/_invalid/") == NULL, segment <= 250);
    buf_free(&b);
    memset(key + 18, 'd', sizeof(key) - 18);
  }
}

/* A local store in a fresh directory, and options at a fixed now. */
static store *open_store(collate_options *options)
{
  store *s = NULL;
  cl_error err = {0};
  CHECK_OK(store_open(unit_temp_dir(), &s, &err), &err);
  CHECK_OK(collate_options_from_env(options, &err), &err);
  options->now_micros = NOW_2026_11_24;
  return s;
}

static void put_text(store *s, const char *key, const char *text)
{
  cl_error err = {0};
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, key, text, strlen(text), &always, NULL, &err), &err);
}

static collate_result collate(store *s, const char *key, const collate_options *options,
                              cl_status *status)
{
  collate_result result;
  cl_error err = {0};
  *status = collate_upload(s, key, options, &result, &err);
  return result;
}

/* A history of another log type at this type's current key is not read as
 * this type (which would rewrite it with its columns dropped): the upload
 * fails and the file stays byte for byte. */
TEST(collate_hostile_foreign_history_is_never_overwritten)
{
  collate_options options;
  store *s = open_store(&options);
  if(!s)
    return;
  put_text(s, "uploads/users/5/s/d/sms_log/a.json",
           "[{\"item_id\": 1, \"datetime\": 1487722326477, \"message_body\": \"x\"}]");
  cl_status status;
  collate_result r = collate(s, "uploads/users/5/s/d/sms_log/a.json", &options, &status);
  CHECK_INT(status, CL_OK);
  CHECK_INT(r.outcome, COLLATE_UPDATED);

  buf sms = BUF_INIT;
  store_info info;
  cl_error err = {0};
  CHECK_OK(store_get(s, "collated_logs/current/sms_log/user=5/logs.parquet", &sms, &info, &err),
           &err);
  store_precondition always = {STORE_ALWAYS, NULL};
  const char *app_current = "collated_logs/current/app_packages/user=5/logs.parquet";
  CHECK_OK(store_put(s, app_current, sms.data, sms.len, &always, NULL, &err), &err);
  put_text(s, "uploads/users/5/s/d/app_packages/a.json", "[{\"package_name\": \"p\"}]");
  r = collate(s, "uploads/users/5/s/d/app_packages/a.json", &options, &status);
  CHECK(status != CL_OK);
  CHECK_INT(r.outcome, COLLATE_FAILED);
  CHECK(strstr(r.reason, "is not a column of app_packages") != NULL);
  buf after = BUF_INIT;
  CHECK_OK(store_get(s, app_current, &after, &info, &err), &err);
  CHECK_MEM(after.data, after.len, sms.data, sms.len);
  buf_free(&after);
  buf_free(&sms);
  store_free(s);
}

/* Over COLLATOR_MAX_HISTORY_ROWS is permanent: rejected and recorded, not a
 * failure that Lambda would retry until the dead-letter queue. */
TEST(collate_hostile_history_limit_is_a_rejection)
{
  collate_options options;
  store *s = open_store(&options);
  if(!s)
    return;
  put_text(s, "uploads/users/6/s/d/app_packages/a.json",
           "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}, {\"package_name\": \"c\"}]");
  cl_status status;
  collate_result r = collate(s, "uploads/users/6/s/d/app_packages/a.json", &options, &status);
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  options.limits.max_history_rows = 2;
  put_text(s, "uploads/users/6/s/d/app_packages/b.json", "[{\"package_name\": \"d\"}]");
  r = collate(s, "uploads/users/6/s/d/app_packages/b.json", &options, &status);
  CHECK_INT(status, CL_OK);
  CHECK_INT(r.outcome, COLLATE_REJECTED);
  CHECK(strstr(r.reason, "over the limit of 2") != NULL);
  buf record = BUF_INIT;
  store_info info;
  cl_error err = {0};
  CHECK_OK(store_get(s,
                     "collated_logs/rejected/2026-11-24/uploads/users/6/s/d/app_packages/"
                     "b.json.json",
                     &record, &info, &err),
           &err);
  buf_free(&record);
  store_free(s);
}
