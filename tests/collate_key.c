#include <stdio.h>
#include <string.h>

#include "collate/key.h"
#include "unit.h"

static const struct {
  const char *key;
  const char *user;   /* NULL: rejected */
  const char *device;
  const char *log_type;
  const char *reason; /* substring of the message when rejected */
} key_vectors[] = {
  {"uploads/users/100/unknown/dev1/sms_log/a.json", "100", "dev1", "sms_log", NULL},
  {"uploads/users/0100/unknown/d/call_log/x.json.gz", "100", "d", "call_log", NULL},
  {"uploads/users/1_000/s/d/contact_list/f", "1000", "d", "contact_list", NULL},
  {"uploads/users/ 7 /s/d/app_packages/f", "7", "d", "app_packages", NULL},
  {"uploads/users/+7/s/d/app_packages/f", "7", "d", "app_packages", NULL},
  {"uploads/users/\xd9\xa1\xd9\xa0\xd9\xa0/s/d/app_packages/f", "100", "d", "app_packages",
   NULL},
  {"uploads/users/\xe3\x80\x80" "42\xe3\x80\x80/s/d/sms_log/f", "42", "d", "sms_log", NULL},
  {"uploads/users/9223372036854775807/s/d/sms_log/f", "9223372036854775807", "d", "sms_log",
   NULL},
  {"uploads/users/9223372036854775808/s/d/sms_log/f", NULL, NULL, NULL, "64 bits"},
  {"uploads/users/1__0/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/_10/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/10_/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/1 0/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/- 1/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/abc/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/0x10/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/1.0/s/d/sms_log/f", NULL, NULL, NULL, "invalid literal"},
  {"uploads/users/100/s/d/browser_log/f", NULL, NULL, NULL, "unexpected log type"},
  {"uploads/users/100/s/d/sms_log", NULL, NULL, NULL, "6 parts"},
  {"uploads/users/100/s/d/sms_log/f/g", NULL, NULL, NULL, "more than 7"},
  {"uploads/users/100/s//sms_log/f", NULL, NULL, NULL, "segment"},
  {"uploads/users/100/s/../sms_log/f", NULL, NULL, NULL, "segment"},
  {"uploads/users/100/s/./sms_log/f", NULL, NULL, NULL, "segment"},
  {"uploads/users/100/s/d/sms_log/..", NULL, NULL, NULL, "segment"},
  {"uploads/users/100/s/d/sms_log/", NULL, NULL, NULL, "segment"},
  {"uploads/users//s/d/sms_log/f", NULL, NULL, NULL, "segment"},
  {"upload/users/100/s/d/sms_log/f", NULL, NULL, NULL, "uploads/users/"},
  {"x/y/100/s/d/sms_log/f", NULL, NULL, NULL, "uploads/users/"},
  {"", NULL, NULL, NULL, "1 parts"},
};

TEST(collate_key_layout_vectors)
{
  for(size_t i = 0; i < sizeof(key_vectors) / sizeof(key_vectors[0]); i++) {
    collate_key key;
    cl_error err = {0};
    const char *k = key_vectors[i].key;
    cl_status status = collate_key_parse(k, strlen(k), &key, &err);
    if(key_vectors[i].user) {
      if(status) {
        unit_fail(__FILE__, __LINE__, "vector %zu (%s): %s", i, k, err.message);
        continue;
      }
      CHECK_STR(key.user_text, key_vectors[i].user);
      CHECK_STR(key.device_id, key_vectors[i].device);
      CHECK_STR(key.log_type, key_vectors[i].log_type);
    } else {
      CHECK_INT(status, CL_ERR_FORMAT);
      if(!strstr(err.message, key_vectors[i].reason))
        unit_fail(__FILE__, __LINE__, "vector %zu (%s): message '%s' lacks '%s'", i, k,
                  err.message, key_vectors[i].reason);
    }
  }
}

TEST(collate_key_rejects_nul_and_oversized)
{
  collate_key key;
  cl_error err = {0};
  static const char with_nul[] = "uploads/users/1/s/d\0x/sms_log/f";
  CHECK_STATUS(collate_key_parse(with_nul, sizeof(with_nul) - 1, &key, &err), CL_ERR_FORMAT);
  char big[1100];
  int n = snprintf(big, sizeof(big), "uploads/users/1/s/d/sms_log/");
  memset(big + n, 'a', sizeof(big) - (size_t)n - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_STATUS(collate_key_parse(big, strlen(big), &key, &err), CL_ERR_FORMAT);
  CHECK(strstr(err.message, "1024") != NULL);
  char device[300];
  memset(device, 'd', sizeof(device));
  char long_device[400];
  snprintf(long_device, sizeof(long_device), "uploads/users/1/s/%.*s/sms_log/f", 290, device);
  CHECK_STATUS(collate_key_parse(long_device, strlen(long_device), &key, &err), CL_ERR_FORMAT);
}

TEST(collate_key_output_keys)
{
  collate_key key;
  cl_error err = {0};
  const char *k = "uploads/users/0100/unknown/dev-9/contact_list/up.json";
  CHECK_OK(collate_key_parse(k, strlen(k), &key, &err), &err);
  buf b = BUF_INIT;
  collate_key_current(&key, &b);
  CHECK_STR(b.data, "collated_logs/current/contact_list/user=100/logs.parquet");
  buf_clear(&b);
  collate_key_diff(&key, "2026-11-24", &b);
  CHECK_STR(b.data, "collated_logs/diff/contact_list/ts_update=2026-11-24/user=100/logs.parquet");
  buf_clear(&b);
  collate_key_txt(&key, &b);
  CHECK_STR(b.data, "collated_logs/user-100/device-dev-9/collated_contact_list.txt");
  buf_clear(&b);
  /* 2026-11-24T10:00:00Z */
  collate_key_rejected(k, strlen(k), INT64_C(1795514400000000), &b);
  CHECK_STR(b.data, "collated_logs/rejected/2026-11-24/uploads/users/0100/unknown/dev-9/"
                    "contact_list/up.json.json");
  buf_clear(&b);
  const char *hostile = "uploads/users/1/../../etc/passwd";
  collate_key_rejected(hostile, strlen(hostile), INT64_C(1795514400000000), &b);
  CHECK(!strncmp(b.data, "collated_logs/rejected/2026-11-24/_invalid/", 43));
  CHECK(strstr(b.data, "..") == NULL);
  buf_free(&b);
}

TEST(collate_key_python_int_bounds)
{
  int64_t v = 0;
  cl_error err = {0};
  CHECK_OK(collate_python_int("-9223372036854775808", 20, &v, &err), &err);
  CHECK(v == INT64_MIN);
  CHECK_STATUS(collate_python_int("-9223372036854775809", 20, &v, &err), CL_ERR_FORMAT);
  CHECK_STATUS(collate_python_int("   ", 3, &v, &err), CL_ERR_FORMAT);
  CHECK_STATUS(collate_python_int("+", 1, &v, &err), CL_ERR_FORMAT);
  /* Mathematical bold digit one U+1D7CF and fullwidth 2 U+FF12. */
  CHECK_OK(collate_python_int("\xf0\x9d\x9f\x8f\xef\xbc\x92", 7, &v, &err), &err);
  CHECK_INT(v, 12);
}
