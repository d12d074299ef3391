#include "collate/key.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collate/pystr.h"
#include "core/digest.h"
#include "core/utctime.h"

static const char *const log_type_names[] = {"sms_log", "call_log", "contact_list",
                                             "app_packages"};

/* The user id goes through the same int() as the rules' raw values
 * (pystr.c), so "0100", "1_000", " 7 " and Unicode digits mean what the
 * legacy made of them. */
cl_status collate_python_int(const char *text, size_t len, int64_t *out, cl_error *err)
{
  pyval in, result;
  buf digits = BUF_INIT;
  memset(&in, 0, sizeof(in));
  in.type = PY_STR;
  in.s = text;
  in.len = len;
  pyint_status status = pyint(&in, &digits, &result);
  buf_free(&digits);
  if(status != PYINT_OK)
    return cl_fail(err, CL_ERR_FORMAT, "invalid literal for int() with base 10: '%.*s'",
                   (int)(len > 64 ? 64 : len), text);
  if(!result.fits)
    return cl_fail(err, CL_ERR_FORMAT, "user id does not fit in 64 bits");
  *out = result.i;
  return CL_OK;
}

/* A segment is safe as a path component of a store key. */
static int segment_is_safe(const char *s, size_t len)
{
  if(len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
    return 0;
  return memchr(s, '\0', len) == NULL;
}

/* Longest segment every store backend takes as a path component: NAME_MAX
 * of local filesystems, less the ".json" a rejected record appends. */
#define RECORD_SEGMENT_MAX 250

/* The upload key can be embedded in a rejected record's key as is: every
 * segment is safe, fits a local file name and is not one of the names the
 * local store reserves. Otherwise writing the record would fail, and a
 * permanent rejection would turn into a failure retried for ever. */
static int key_is_safe_path(const char *key, size_t len)
{
  if(len == 0 || len > COLLATE_KEY_MAX)
    return 0;
  size_t start = 0;
  for(size_t i = 0; i <= len; i++) {
    if(i == len || key[i] == '/') {
      size_t n = i - start;
      if(!segment_is_safe(key + start, n) || n > RECORD_SEGMENT_MAX ||
         (n >= 10 && !memcmp(key + start, ".collator-", 10)))
        return 0;
      start = i + 1;
    }
  }
  return 1;
}

static cl_status copy_segment(char *dst, size_t cap, const char *s, size_t len,
                              const char *what, cl_error *err)
{
  if(len >= cap)
    return cl_fail(err, CL_ERR_FORMAT, "%s longer than %zu bytes", what, cap - 1);
  memcpy(dst, s, len);
  dst[len] = '\0';
  return CL_OK;
}

cl_status collate_key_parse(const char *key, size_t len, collate_key *out, cl_error *err)
{
  const char *parts[7];
  size_t lens[7];
  size_t count = 0, start = 0;
  cl_status status;

  memset(out, 0, sizeof(*out));
  if(len > COLLATE_KEY_MAX)
    return cl_fail(err, CL_ERR_FORMAT, "key longer than %d bytes", COLLATE_KEY_MAX);
  if(memchr(key, '\0', len))
    return cl_fail(err, CL_ERR_FORMAT, "key contains a NUL byte");
  for(size_t i = 0; i <= len; i++) {
    if(i == len || key[i] == '/') {
      if(count == 7)
        return cl_fail(err, CL_ERR_FORMAT,
                       "file uploaded outside of expected directory: more than 7 parts");
      parts[count] = key + start;
      lens[count] = i - start;
      count++;
      start = i + 1;
    }
  }
  if(count != 7)
    return cl_fail(err, CL_ERR_FORMAT,
                   "file uploaded outside of expected directory: %zu parts, expected 7", count);
  if(lens[0] != 7 || memcmp(parts[0], "uploads", 7) || lens[1] != 5 ||
     memcmp(parts[1], "users", 5))
    return cl_fail(err, CL_ERR_FORMAT, "file uploaded outside of expected directory: "
                                       "key does not start with uploads/users/");
  for(size_t i = 2; i < 7; i++)
    if(!segment_is_safe(parts[i], lens[i]))
      return cl_fail(err, CL_ERR_FORMAT, "empty, '.' or '..' path segment %zu", i);

  status = collate_python_int(parts[2], lens[2], &out->user_id, err);
  if(status) {
    cl_error_prefix(err, "user id");
    return status;
  }
  snprintf(out->user_text, sizeof(out->user_text), "%" PRId64, out->user_id);
  status = copy_segment(out->device_serial, sizeof(out->device_serial), parts[3], lens[3],
                        "device serial", err);
  if(status)
    return status;
  status = copy_segment(out->device_id, sizeof(out->device_id), parts[4], lens[4],
                        "device id", err);
  if(status)
    return status;
  for(size_t i = 0; i < sizeof(log_type_names) / sizeof(log_type_names[0]); i++)
    if(strlen(log_type_names[i]) == lens[5] && !memcmp(log_type_names[i], parts[5], lens[5])) {
      memcpy(out->log_type, parts[5], lens[5]);
      out->log_type[lens[5]] = '\0';
      return CL_OK;
    }
  return cl_fail(err, CL_ERR_FORMAT, "unexpected log type '%.*s'",
                 (int)(lens[5] > 64 ? 64 : lens[5]), parts[5]);
}

cl_status collate_key_current(const collate_key *key, buf *out)
{
  return buf_printf(out, "collated_logs/current/%s/user=%s/logs.parquet", key->log_type,
                    key->user_text);
}

cl_status collate_key_diff(const collate_key *key, const char *batch_date, buf *out)
{
  return buf_printf(out, "collated_logs/diff/%s/ts_update=%s/user=%s/logs.parquet",
                    key->log_type, batch_date, key->user_text);
}

cl_status collate_key_txt(const collate_key *key, buf *out)
{
  return buf_printf(out, "collated_logs/user-%s/device-%s/collated_%s.txt", key->user_text,
                    key->device_id, key->log_type);
}

cl_status collate_key_rejected(const char *upload_key, size_t len, int64_t now_micros,
                               buf *out)
{
  char date[16];
  utc_format_date(now_micros, date, sizeof(date));
  /* ".json" and the prefix must still fit a store key. */
  if(key_is_safe_path(upload_key, len) && len + 64 <= COLLATE_KEY_MAX) {
    buf_printf(out, "collated_logs/rejected/%s/", date);
    buf_append(out, upload_key, len);
    return buf_append_str(out, ".json");
  }
  char hex[DIGEST_MD5_HEX_LEN + 1];
  digest_md5_hex(upload_key, len, hex);
  return buf_printf(out, "collated_logs/rejected/%s/_invalid/%s.json", date, hex);
}
