#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collate/collate.h"
#include "collate/history.h"
#include "collate/logtype.h"
#include "core/utctime.h"
#include "store/store.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

static store *open_store(void)
{
  store *s = NULL;
  cl_error err = {0};
  CHECK_OK(store_open(unit_temp_dir(), &s, &err), &err);
  return s;
}

static void put_text(store *s, const char *key, const char *text)
{
  cl_error err = {0};
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, key, text, strlen(text), &always, NULL, &err), &err);
}

static int64_t at(const char *iso)
{
  int64_t micros = 0;
  cl_error err = {0};
  CHECK_OK(utc_parse_iso8601(iso, &micros, &err), &err);
  return micros;
}

static collate_options options_at(const char *iso)
{
  collate_options options;
  cl_error err = {0};
  CHECK_OK(collate_options_from_env(&options, &err), &err);
  options.now_micros = at(iso);
  return options;
}

/* Put an upload and collate it at time iso. */
static collate_result run(store *s, const char *key, const char *json, const char *iso)
{
  collate_result result;
  cl_error err = {0};
  collate_options options = options_at(iso);
  if(json)
    put_text(s, key, json);
  collate_upload(s, key, &options, &result, &err);
  return result;
}

/* Rows of a collated Parquet file as text, one line per row:
 * "name=value name=value ...", None for null, timestamps as Python str(). */
static int dump(store *s, const char *key, const char *log_type, buf *out)
{
  const collate_type *type = collate_type_find(log_type);
  parquet_schema schema;
  history_file h;
  history_batch batch;
  cl_error err = {0};
  CHECK_OK(history_schema_create(type, 0, &schema, &err), &err);
  history_batch_init(&batch);
  cl_status status = history_fetch(s, key, type, &schema, &h, &err);
  CHECK_OK(status, &err);
  int rows = 0;
  for(size_t rg = 0; !status && h.exists && rg < history_row_group_count(&h); rg++) {
    CHECK_OK(history_read_group(&h, rg, HISTORY_ALL_COLUMNS, &batch, &err), &err);
    for(size_t r = 0; r < batch.count; r++, rows++) {
      collate_row row;
      history_row(&batch, r, &row);
      for(size_t c = 0; c < type->column_count; c++) {
        const collate_cell *cell = &row.cells[c];
        buf_printf(out, "%s%s=", c ? " " : "", type->columns[c].name);
        if(cell->type == COLLATE_CELL_NULL)
          buf_append_str(out, "None");
        else if(cell->type == COLLATE_CELL_INT)
          buf_printf(out, "%lld", (long long)cell->i);
        else if(cell->type == COLLATE_CELL_TIMESTAMP) {
          char text[40];
          utc_format_python(cell->i, text, sizeof(text));
          buf_append_str(out, text);
        } else
          buf_append(out, cell->s, cell->len);
      }
      buf_putc(out, '\n');
    }
  }
  int exists = h.exists;
  history_batch_free(&batch);
  history_close(&h);
  history_schema_free(&schema);
  return exists ? rows : -1;
}

/* Line n (0-based) of text, into line. */
static const char *line_of(const buf *text, int n, char *line, size_t cap)
{
  const char *p = text->data ? text->data : "";
  for(; n > 0 && p; n--) {
    p = strchr(p, '\n');
    if(p)
      p++;
  }
  if(!p || !*p)
    return "";
  size_t len = strcspn(p, "\n");
  if(len >= cap)
    len = cap - 1;
  memcpy(line, p, len);
  line[len] = '\0';
  return line;
}

#define CHECK_LINE_HAS(text, n, needle)                                        \
  do {                                                                         \
    char line_[2048];                                                          \
    const char *got_ = line_of(text, n, line_, sizeof(line_));                 \
    if(!strstr(got_, needle))                                                  \
      unit_fail(__FILE__, __LINE__, "row %d '%s' lacks '%s'", n, got_, needle); \
  } while(0)

static void etag_of(store *s, const char *key, char etag[STORE_ETAG_MAX])
{
  store_info info;
  cl_error err = {0};
  etag[0] = '\0';
  if(!store_head(s, key, &info, &err))
    memcpy(etag, info.etag, STORE_ETAG_MAX);
}

static void get_text(store *s, const char *key, buf *out)
{
  cl_error err = {0};
  CHECK_OK(store_get(s, key, out, NULL, &err), &err);
}

#define APP1 "uploads/users/100/unknown/d1/app_packages/"
#define APP_CURRENT "collated_logs/current/app_packages/user=100/logs.parquet"
#define APP_DIFF(day) "collated_logs/diff/app_packages/ts_update=" day "/user=100/logs.parquet"
#define APP_TXT "collated_logs/user-100/device-d1/collated_app_packages.txt"

/* ---- scenarios ---------------------------------------------------------- */

TEST(collate_engine_first_upload_then_unchanged)
{
  store *s = open_store();
  collate_result r = run(s, APP1 "1.json",
                         "[{\"package_name\": \"Com.A\"}, {\"package_name\": \"com.b\"}]",
                         "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 2);
  CHECK_INT(r.total_rows, 2);
  CHECK_INT(r.attempts, 1);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 2);
  CHECK_LINE_HAS(&rows, 0, "package_name=com.a");
  CHECK_LINE_HAS(&rows, 0, "user_id=100 device_id=d1");
  CHECK_LINE_HAS(&rows, 0, "is_deleted=0");
  CHECK_LINE_HAS(&rows, 0, "ts_updated=2026-11-20 10:00:00");
  CHECK_LINE_HAS(&rows, 1, "package_name=com.b");
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_DIFF("2026-11-20"), "app_packages", &rows), 2);
  buf txt = BUF_INIT;
  get_text(s, APP_TXT, &txt);
  CHECK(txt.len > 2 && txt.data[0] == '[');
  CHECK(strstr(txt.data, "com.a") != NULL);

  char before[3][STORE_ETAG_MAX], after[3][STORE_ETAG_MAX];
  etag_of(s, APP_CURRENT, before[0]);
  etag_of(s, APP_DIFF("2026-11-20"), before[1]);
  etag_of(s, APP_TXT, before[2]);
  r = run(s, APP1 "2.json", "[{\"package_name\": \"com.b\"}, {\"package_name\": \"com.a\"}]",
          "2026-11-20T11:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UNCHANGED);
  CHECK_INT(r.new_rows, 0);
  CHECK_INT(r.deleted_rows, 0);
  CHECK_INT(r.history_rows, 2);
  CHECK_INT(r.unique_rows, 2);
  CHECK_INT(r.bytes_written, 0);
  etag_of(s, APP_CURRENT, after[0]);
  etag_of(s, APP_DIFF("2026-11-20"), after[1]);
  etag_of(s, APP_TXT, after[2]);
  for(int i = 0; i < 3; i++)
    CHECK_STR(after[i], before[i]);
  buf_free(&rows);
  buf_free(&txt);
  store_free(s);
}

TEST(collate_engine_additions_deletions_and_readd)
{
  store *s = open_store();
  buf rows = BUF_INIT;
  run(s, APP1 "1.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}]",
      "2026-11-20T10:00:00Z");
  collate_result r = run(s, APP1 "2.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"c\"}]",
                         "2026-11-21T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 1);
  CHECK_INT(r.total_rows, 4);
  CHECK_INT(dump(s, APP_DIFF("2026-11-21"), "app_packages", &rows), 2);
  CHECK_LINE_HAS(&rows, 0, "package_name=c");
  CHECK_LINE_HAS(&rows, 1, "package_name=b");
  CHECK_LINE_HAS(&rows, 1, "is_deleted=1");
  CHECK_LINE_HAS(&rows, 1, "ts_updated=2026-11-21 10:00:00");

  /* Re-add b, then delete it again, all on the 21st: add, delete, add. */
  r = run(s, APP1 "3.json",
          "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}, {\"package_name\": \"c\"}]",
          "2026-11-21T11:00:00Z");
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 0);
  r = run(s, APP1 "4.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"c\"}]",
          "2026-11-21T12:00:00Z");
  CHECK_INT(r.deleted_rows, 1);
  r = run(s, APP1 "5.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}, "
                            "{\"package_name\": \"c\"}]", "2026-11-21T13:00:00Z");
  CHECK_INT(r.new_rows, 1);
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_DIFF("2026-11-21"), "app_packages", &rows), 5);
  CHECK_LINE_HAS(&rows, 2, "is_deleted=0");
  CHECK_LINE_HAS(&rows, 2, "package_name=b");
  CHECK_LINE_HAS(&rows, 3, "is_deleted=1");
  CHECK_LINE_HAS(&rows, 3, "package_name=b");
  CHECK_LINE_HAS(&rows, 4, "is_deleted=0");
  CHECK_LINE_HAS(&rows, 4, "package_name=b");
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 7);
  buf txt = BUF_INIT;
  get_text(s, APP_TXT, &txt);
  CHECK(strstr(txt.data, "\"b\"") != NULL); /* the re-added app comes back */

  /* An empty snapshot deletes everything of the device; the txt becomes []. */
  r = run(s, APP1 "6.json", "[]", "2026-11-22T10:00:00Z");
  CHECK_INT(r.deleted_rows, 3);
  buf_clear(&txt);
  get_text(s, APP_TXT, &txt);
  CHECK_STR(txt.data, "[]");
  buf_free(&txt);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_second_device_keeps_first)
{
  store *s = open_store();
  run(s, APP1 "1.json", "[{\"package_name\": \"a\"}]", "2026-11-20T10:00:00Z");
  collate_result r = run(s, "uploads/users/100/unknown/d2/app_packages/1.json",
                         "[{\"package_name\": \"x\"}]", "2026-11-20T11:00:00Z");
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 0);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 2);
  CHECK_LINE_HAS(&rows, 1, "device_id=d2");
  /* A d2 snapshot without x deletes only x. */
  r = run(s, "uploads/users/100/unknown/d2/app_packages/2.json", "[]", "2026-11-20T12:00:00Z");
  CHECK_INT(r.deleted_rows, 1);
  buf txt = BUF_INIT;
  get_text(s, "collated_logs/user-100/device-d2/collated_app_packages.txt", &txt);
  CHECK_STR(txt.data, "[]");
  buf_free(&txt);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_bad_input_is_rejected_and_recorded)
{
  store *s = open_store();
  static const struct {
    const char *key;
    const char *body;
    const char *reason;
  } cases[] = {
    {APP1 "bad.json", "[{\"package_name\": \"a\"", "Expecting"},
    {APP1 "obj.json", "{\"package_name\": \"a\"}", "object"},
    {APP1 "empty.json", "", ""},
    {"uploads/users/abc/unknown/d1/app_packages/x.json", "[]", "int()"},
    {"uploads/users/100/unknown/d1/browser_log/x.json", "[]", "unexpected log type"},
    {"uploads/users/100/d1/app_packages/x.json", "[]", "expected directory"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    collate_result r = run(s, cases[i].key, cases[i].body, "2026-11-20T10:00:00Z");
    CHECK_INT(r.outcome, COLLATE_REJECTED);
    if(!strstr(r.reason, cases[i].reason))
      unit_fail(__FILE__, __LINE__, "case %zu: reason '%s' lacks '%s'", i, r.reason,
                cases[i].reason);
    char record[1200];
    snprintf(record, sizeof(record), "collated_logs/rejected/2026-11-20/%s.json", cases[i].key);
    buf body = BUF_INIT;
    get_text(s, record, &body);
    CHECK(body.data && strstr(body.data, "\"reason\": ") != NULL);
    CHECK(body.data && strstr(body.data, "\"ts\": \"2026-11-20T10:00:00") != NULL);
    buf_free(&body);
  }
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), -1);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_bad_entries_and_duplicates)
{
  store *s = open_store();
  collate_result r = run(s, APP1 "1.json",
                         "[{\"package_name\": \"a\"}, 5, {\"package_name\": \"\"}, {}, "
                         "{\"package_name\": \"A\"}, {\"package_name\": \"b\"}]",
                         "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 2);
  CHECK_INT(r.rejected_entries, 3);
  CHECK_INT(r.duplicate_entries, 1);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 2);
  /* Replaying the same upload changes nothing. */
  r = run(s, APP1 "1.json", NULL, "2026-11-20T10:05:00Z");
  CHECK_INT(r.outcome, COLLATE_UNCHANGED);
  buf_free(&rows);
  store_free(s);
}

static void gzip_text(const char *text, buf *out)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  size_t bound = deflateBound(&z, (uLong)strlen(text)) + 32;
  buf_reserve(out, bound);
  z.next_in = (Bytef *)(uintptr_t)text;
  z.avail_in = (uInt)strlen(text);
  z.next_out = (Bytef *)out->data;
  z.avail_out = (uInt)bound;
  deflate(&z, Z_FINISH);
  out->len = bound - z.avail_out;
  deflateEnd(&z);
}

TEST(collate_engine_gzip_upload)
{
  store *s = open_store();
  buf gz = BUF_INIT;
  cl_error err = {0};
  gzip_text("[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}]", &gz);
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, APP1 "1.json.gz", gz.data, gz.len, &always, NULL, &err), &err);
  collate_result r = run(s, APP1 "1.json.gz", NULL, "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 2);
  /* Truncated gzip: rejected, nothing else changes. */
  char etag[STORE_ETAG_MAX], etag2[STORE_ETAG_MAX];
  etag_of(s, APP_CURRENT, etag);
  CHECK_OK(store_put(s, APP1 "2.json.gz", gz.data, gz.len - 5, &always, NULL, &err), &err);
  r = run(s, APP1 "2.json.gz", NULL, "2026-11-20T11:00:00Z");
  CHECK_INT(r.outcome, COLLATE_REJECTED);
  CHECK(strstr(r.reason, "truncated gzip") != NULL);
  etag_of(s, APP_CURRENT, etag2);
  CHECK_STR(etag2, etag);
  buf_free(&gz);
  store_free(s);
}

#define SMS1 "uploads/users/100/unknown/1/sms_log/"
#define SMS_CURRENT "collated_logs/current/sms_log/user=100/logs.parquet"

TEST(collate_engine_sms_alias_clamp_and_null_datetime)
{
  store *s = open_store();
  collate_result r = run(s, SMS1 "1.json",
                         "[{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, "
                         "\"message_body\": \"Jambo people\", \"sms_address\": \"+075 40269 68\", "
                         "\"type\": 6, \"thread_id\": 32},"
                         "{\"datetime\": 1955000000000, \"item_id\": 7, \"thread_id\": 1, "
                         "\"message_body\": \"future\", \"sms_type\": 1},"
                         "{\"datetime\": 99999999999999999, \"item_id\": 8, \"thread_id\": 1, "
                         "\"message_body\": \"no date\", \"sms_type\": 1}]",
                         "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 3);
  CHECK_INT(r.deleted_rows, 0);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, SMS_CURRENT, "sms_log", &rows), 3);
  CHECK_LINE_HAS(&rows, 0, "sms_type=queued");
  CHECK_LINE_HAS(&rows, 0, "normalized_sms_address=0754026968");
  CHECK_LINE_HAS(&rows, 0, "datetime=2017-02-22 00:12:06.477000");
  CHECK_LINE_HAS(&rows, 1, "datetime=2026-11-20 10:00:00"); /* clamped to ts_updated */
  CHECK_LINE_HAS(&rows, 2, "datetime=None");
  /* SMS never deletes: an empty upload changes nothing. */
  r = run(s, SMS1 "2.json", "[]", "2026-11-21T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UNCHANGED);
  /* The clamped row's id is from the raw datetime: re-uploading it is not new. */
  r = run(s, SMS1 "3.json",
          "[{\"datetime\": 1955000000000, \"item_id\": 7, \"thread_id\": 1, "
          "\"message_body\": \"future\", \"sms_type\": 1}]", "2026-11-22T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UNCHANGED);
  buf txt = BUF_INIT;
  get_text(s, "collated_logs/user-100/device-1/collated_sms_log.txt", &txt);
  CHECK(txt.len > 2);
  buf_free(&txt);
  buf_free(&rows);
  store_free(s);
}

#define CONTACTS1 "uploads/users/7/unknown/dev/contact_list/"

TEST(collate_engine_rejected_entry_is_not_deleted)
{
  /* A snapshot entry rejected for one of its values is still on the phone:
   * its row is not deleted when its id (user, device, item_id for contacts)
   * can be made. One whose id cannot be made (no item_id) cannot be matched
   * to a row, so that row goes as before. */
  store *s = open_store();
  run(s, CONTACTS1 "1.json",
      "[{\"display_name\": \"Ann \\ud83d\\ude00\", \"item_id\": 1}, "
      "{\"display_name\": \"Bob\", \"item_id\": 2}, "
      "{\"display_name\": \"Cy\", \"item_id\": 3}]",
      "2026-11-20T10:00:00Z");
  collate_result r = run(s, CONTACTS1 "2.json",
                         "[{\"display_name\": \"Ann \\ud83d\", \"item_id\": 1}, "
                         "{\"display_name\": \"Bob\", \"item_id\": 2, "
                         "\"last_time_contacted\": 1e20}, "
                         "{\"display_name\": \"Cy\"}]",
                         "2026-11-21T10:00:00Z");
  CHECK_INT(r.rejected_entries, 3);
  CHECK_INT(r.new_rows, 0);
  CHECK_INT(r.deleted_rows, 1);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, "collated_logs/diff/contact_list/ts_update=2026-11-21/user=7/logs.parquet",
                 "contact_list", &rows), 1);
  CHECK_LINE_HAS(&rows, 0, "display_name=Cy");
  CHECK_LINE_HAS(&rows, 0, "is_deleted=1");
  buf txt = BUF_INIT;
  get_text(s, "collated_logs/user-7/device-dev/collated_contact_list.txt", &txt);
  CHECK(strstr(txt.data, "Ann") != NULL);
  CHECK(strstr(txt.data, "Bob") != NULL);
  CHECK(strstr(txt.data, "Cy") == NULL);
  buf_free(&txt);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_contacts_update_has_its_diff_row)
{
  store *s = open_store();
  run(s, CONTACTS1 "1.json",
      "[{\"display_name\": \"Deno\", \"item_id\": 201338, \"phone_numbers\": "
      "[{\"item_id\": 1, \"phone_number\": \"0729477015\"}], \"times_contacted\": 1}]",
      "2026-11-20T10:00:00Z");
  collate_result r = run(s, CONTACTS1 "2.json",
                         "[{\"display_name\": \"Deno K\", \"item_id\": 201338, \"phone_numbers\": "
                         "[{\"item_id\": 1, \"phone_number\": \"0729477015\"}], "
                         "\"times_contacted\": 2}]",
                         "2026-11-21T10:00:00Z");
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 0); /* same id, so it was seen */
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, "collated_logs/diff/contact_list/ts_update=2026-11-21/user=7/logs.parquet",
                 "contact_list", &rows), 1);
  CHECK_LINE_HAS(&rows, 0, "display_name=Deno K");
  CHECK_LINE_HAS(&rows, 0, "times_contacted=2");
  buf_clear(&rows);
  CHECK_INT(dump(s, "collated_logs/current/contact_list/user=7/logs.parquet", "contact_list",
                 &rows), 2);
  buf txt = BUF_INIT;
  get_text(s, "collated_logs/user-7/device-dev/collated_contact_list.txt", &txt);
  CHECK(strstr(txt.data, "Deno K") != NULL);
  CHECK(strstr(txt.data, "\"Deno\"") == NULL);
  buf_free(&txt);
  buf_free(&rows);
  store_free(s);
}

/* Optional columns of the legacy (pyarrow) files the migration tests write
 * by hand. */
#define LEGACY_COLUMN(name_, physical_, logical_)                               \
  {.name = (char *)(name_), .physical = (physical_), .logical = (logical_), .optional = 1}
#define STRING_COLUMN(name_) LEGACY_COLUMN(name_, PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING)
#define INT64_COLUMN(name_) LEGACY_COLUMN(name_, PARQUET_INT64, PARQUET_LOGICAL_NONE)
#define BOOLEAN_COLUMN(name_) LEGACY_COLUMN(name_, PARQUET_BOOLEAN, PARQUET_LOGICAL_NONE)
#define TIMESTAMP_COLUMN(name_, physical_, unit_)                               \
  {.name = (char *)(name_), .physical = (physical_), .logical = PARQUET_LOGICAL_TIMESTAMP,      \
   .unit = (unit_), .optional = 1}

/* The row our engine makes of one JSON entry (its cells borrow scratch and
 * arena). */
static collate_row entry_row(const collate_type *type, const char *entry, int64_t user,
                             const char *device, json_arena *arena, collate_scratch *scratch)
{
  json_value *v = NULL;
  json_limits limits;
  cl_error err = {0};
  collate_row row;
  collate_entry_outcome outcome;
  json_limits_default(&limits);
  memset(&row, 0, sizeof(row));
  memset(&outcome, 0, sizeof(outcome));
  CHECK_OK(json_parse(entry, strlen(entry), &limits, arena, &v, &err), &err);
  CHECK_OK(collate_entry_to_row(type, v, user, device, scratch, &row, &outcome), &err);
  return row;
}

static parquet_bytes cell_bytes(const collate_cell *cell)
{
  return (parquet_bytes){(const uint8_t *)cell->s, (uint32_t)cell->len};
}

/* A one-row-group Parquet file of these columns, stored at key. */
static void put_parquet(store *s, const char *key, parquet_column_schema *columns,
                        size_t column_count, size_t rows, const parquet_column_vector *vectors)
{
  parquet_schema schema = {column_count, columns};
  buf file = BUF_INIT;
  parquet_writer_options options;
  parquet_writer *w = NULL;
  cl_error err = {0};
  parquet_writer_options_default(&options);
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, &options, &w, &err), &err);
  CHECK_OK(parquet_writer_add_row_group(w, rows, vectors, &err), &err);
  CHECK_OK(parquet_writer_finish(w, &err), &err);
  parquet_writer_free(w);
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, key, file.data, file.len, &always, NULL, &err), &err);
  buf_free(&file);
}

/* A legacy pyarrow-style file: columns reordered, ts_updated as INT64 millis,
 * an __index_level_0__ column, package_name present. */
static void put_legacy_app_history(store *s)
{
  parquet_column_schema columns[] = {
    STRING_COLUMN("package_name"), STRING_COLUMN("id"),
    INT64_COLUMN("user_id"),       STRING_COLUMN("device_id"),
    BOOLEAN_COLUMN("is_deleted"),  STRING_COLUMN("row_hash"),
    TIMESTAMP_COLUMN("ts_updated", PARQUET_INT64, PARQUET_MILLIS),
    INT64_COLUMN("__index_level_0__"),
  };
  /* The legacy ids of user 100, device d1, packages "a" and "b", not deleted. */
  collate_scratch *scratch = collate_scratch_create();
  const collate_type *type = collate_type_find("app_packages");
  json_arena *arena = json_arena_create(1 << 20);
  parquet_bytes pkg[2], id[2], dev[2], hash[2];
  int64_t user[2] = {100, 100}, ts[2], index[2] = {0, 1};
  uint8_t deleted[2] = {0, 0};
  for(int i = 0; i < 2; i++) {
    const char *text = i ? "{\"package_name\": \"b\"}" : "{\"package_name\": \"a\"}";
    collate_row row = entry_row(type, text, 100, "d1", arena, scratch);
    id[i] = cell_bytes(&row.cells[type->col_id]);
    hash[i] = cell_bytes(&row.cells[type->col_row_hash]);
    pkg[i] = (parquet_bytes){(const uint8_t *)(i ? "b" : "a"), 1};
    dev[i] = (parquet_bytes){(const uint8_t *)"d1", 2};
    ts[i] = at("2023-01-01T00:00:00Z") / 1000;
  }
  parquet_column_vector vectors[8];
  memset(vectors, 0, sizeof(vectors));
  for(int c = 0; c < 8; c++)
    vectors[c].count = 2;
  vectors[0].values.bytes = pkg;
  vectors[1].values.bytes = id;
  vectors[2].values.i64 = user;
  vectors[3].values.bytes = dev;
  vectors[4].values.boolean = deleted;
  vectors[5].values.bytes = hash;
  vectors[6].values.i64 = ts;
  vectors[7].values.i64 = index;
  put_parquet(s, APP_CURRENT, columns, sizeof(columns) / sizeof(columns[0]), 2, vectors);
  json_arena_free(arena);
  collate_scratch_free(scratch);
}

static int current_is_exact(store *s)
{
  const collate_type *type = collate_type_find("app_packages");
  parquet_schema schema;
  history_file h;
  cl_error err = {0};
  CHECK_OK(history_schema_create(type, 0, &schema, &err), &err);
  CHECK_OK(history_fetch(s, APP_CURRENT, type, &schema, &h, &err), &err);
  int exact = h.exists && h.exact;
  history_close(&h);
  history_schema_free(&schema);
  return exact;
}

TEST(collate_engine_legacy_history_migrated_once)
{
  store *s = open_store();
  put_legacy_app_history(s);
  CHECK(!current_is_exact(s));
  collate_result r = run(s, APP1 "1.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"c\"}]",
                         "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.history_rows, 2);
  CHECK_INT(r.unique_rows, 2);
  CHECK_INT(r.new_rows, 1);     /* c; a is known */
  CHECK_INT(r.deleted_rows, 1); /* b */
  CHECK(current_is_exact(s));
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 4);
  CHECK_LINE_HAS(&rows, 0, "package_name=a");
  CHECK_LINE_HAS(&rows, 0, "ts_updated=2023-01-01 00:00:00");
  CHECK_LINE_HAS(&rows, 3, "package_name=b");
  CHECK_LINE_HAS(&rows, 3, "is_deleted=1");
  r = run(s, APP1 "2.json", "[{\"package_name\": \"d\"}]", "2026-11-21T10:00:00Z");
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 2);
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 7);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_corrupt_current_is_never_overwritten)
{
  store *s = open_store();
  put_text(s, APP_CURRENT, "PAR1 this is not parquet PAR1");
  char before[STORE_ETAG_MAX], after[STORE_ETAG_MAX];
  etag_of(s, APP_CURRENT, before);
  collate_options options = options_at("2026-11-20T10:00:00Z");
  collate_result r;
  cl_error err = {0};
  put_text(s, APP1 "1.json", "[{\"package_name\": \"a\"}]");
  CHECK_STATUS(collate_upload(s, APP1 "1.json", &options, &r, &err), CL_ERR_FORMAT);
  CHECK_INT(r.outcome, COLLATE_FAILED);
  CHECK(strstr(err.message, APP_CURRENT) != NULL);
  etag_of(s, APP_CURRENT, after);
  CHECK_STR(after, before);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_DIFF("2026-11-20"), "app_packages", &rows), -1);
  buf_free(&rows);
  store_free(s);
}

typedef struct race {
  store *s;
  int calls;
  int fail_current_once; /* simulate a crash between the diff and current writes */
} race;

/* Another invocation wins the race: it writes current (a different device's
 * upload) between our read and our write. */
static cl_status race_hook(void *ctx, const char *key, cl_error *err)
{
  race *rc = ctx;
  rc->calls++;
  if(rc->fail_current_once && strstr(key, "/current/")) {
    rc->fail_current_once = 0;
    return cl_fail(err, CL_ERR_TRANSIENT, "simulated crash before %s", key);
  }
  if(rc->calls == 1 && strstr(key, "/diff/")) {
    collate_options options = options_at("2026-11-20T10:00:00Z");
    collate_result r;
    cl_error inner = {0};
    put_text(rc->s, "uploads/users/100/unknown/d2/app_packages/1.json",
             "[{\"package_name\": \"x\"}]");
    CHECK_OK(collate_upload(rc->s, "uploads/users/100/unknown/d2/app_packages/1.json", &options,
                            &r, &inner), &inner);
  }
  return CL_OK;
}

/* Options at `now` whose writes go through race_hook with rc. */
static collate_options racing_options(race *rc, const char *now)
{
  collate_options options = options_at(now);
  options.hooks.before_write = race_hook;
  options.hooks.ctx = rc;
  return options;
}

TEST(collate_engine_conflict_is_reapplied)
{
  store *s = open_store();
  race rc = {s, 0, 0};
  collate_options options = racing_options(&rc, "2026-11-20T10:00:00Z");
  collate_result r;
  cl_error err = {0};
  put_text(s, APP1 "1.json", "[{\"package_name\": \"a\"}]");
  CHECK_OK(collate_upload(s, APP1 "1.json", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.attempts, 2);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 2);
  CHECK_LINE_HAS(&rows, 0, "device_id=d2");
  CHECK_LINE_HAS(&rows, 1, "device_id=d1");
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_DIFF("2026-11-20"), "app_packages", &rows), 2);
  buf_free(&rows);
  store_free(s);
}

/* Replaces the diff, same bytes but a new version, right before the first
 * upload's current is copied from it. */
static cl_status diff_replaced_hook(void *ctx, const char *key, cl_error *err)
{
  store *s = ctx;
  if(!strstr(key, "/current/"))
    return CL_OK;
  buf bytes = BUF_INIT;
  store_precondition always = {STORE_ALWAYS, NULL};
  cl_status status = store_get(s, APP_DIFF("2026-11-20"), &bytes, NULL, err);
  if(!status)
    status = store_put(s, APP_DIFF("2026-11-20"), bytes.data, bytes.len, &always, NULL, err);
  buf_free(&bytes);
  return status;
}

TEST(collate_engine_first_current_is_a_copy_of_the_diff)
{
  store *s = open_store();
  collate_options options = options_at("2026-11-20T10:00:00Z");
  collate_result r;
  cl_error err = {0};
  put_text(s, APP1 "1.json", "[{\"package_name\": \"a\"}]");
  CHECK_OK(collate_upload(s, APP1 "1.json", &options, &r, &err), &err);
  char diff[STORE_ETAG_MAX], current[STORE_ETAG_MAX];
  etag_of(s, APP_DIFF("2026-11-20"), diff);
  etag_of(s, APP_CURRENT, current);
  CHECK_STR(current, diff);
  store_free(s);

  /* The diff replaced meanwhile: the copy loses, and the spool is put. */
  s = open_store();
  options.hooks.before_write = diff_replaced_hook;
  options.hooks.ctx = s;
  put_text(s, APP1 "1.json", "[{\"package_name\": \"a\"}]");
  CHECK_OK(collate_upload(s, APP1 "1.json", &options, &r, &err), &err);
  CHECK_INT(r.attempts, 1);
  etag_of(s, APP_DIFF("2026-11-20"), diff);
  etag_of(s, APP_CURRENT, current);
  CHECK(strcmp(current, diff) != 0);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 1);
  CHECK_LINE_HAS(&rows, 0, "package_name=a");
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_crash_between_writes_replays_cleanly)
{
  store *s = open_store();
  race rc = {s, 5, 1};
  collate_options options = racing_options(&rc, "2026-11-20T10:00:00Z");
  collate_result r;
  cl_error err = {0};
  put_text(s, APP1 "1.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}]");
  CHECK_STATUS(collate_upload(s, APP1 "1.json", &options, &r, &err), CL_ERR_TRANSIENT);
  CHECK_INT(r.outcome, COLLATE_FAILED);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_DIFF("2026-11-20"), "app_packages", &rows), 2);
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), -1);
  /* The retry: the diff already has these rows and is not touched. */
  char before[STORE_ETAG_MAX], after[STORE_ETAG_MAX];
  etag_of(s, APP_DIFF("2026-11-20"), before);
  options.now_micros = at("2026-11-20T10:01:00Z");
  CHECK_OK(collate_upload(s, APP1 "1.json", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  etag_of(s, APP_DIFF("2026-11-20"), after);
  CHECK_STR(after, before);
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 2);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_two_versions_of_an_id_replay_cleanly)
{
  /* One upload holds the same message twice with two sms_types: the first
   * entry of an id is taken and the other is a duplicate, so a replay (after
   * a crash between the diff and current, or a second delivery) finds
   * every id as the upload says and adds nothing. Taking both, as the
   * legacy did, made each replay append the earlier one again. */
  store *s = open_store();
  race rc = {s, 5, 1};
  collate_options options = racing_options(&rc, "2026-11-20T10:00:00Z");
  collate_result r;
  cl_error err = {0};
  put_text(s, SMS1 "1.json",
           "[{\"item_id\": 1, \"datetime\": 1700000000000, \"message_body\": \"hi\", "
           "\"sms_address\": \"+254700000001\", \"sms_type\": 4}, "
           "{\"item_id\": 1, \"datetime\": 1700000000000, \"message_body\": \"hi\", "
           "\"sms_address\": \"+254700000001\", \"sms_type\": 2}]");
  CHECK_STATUS(collate_upload(s, SMS1 "1.json", &options, &r, &err), CL_ERR_TRANSIENT);
  char diff_key[200], before[STORE_ETAG_MAX], after[STORE_ETAG_MAX];
  snprintf(diff_key, sizeof(diff_key), "collated_logs/diff/sms_log/ts_update=2026-11-20/%s",
           "user=100/logs.parquet");
  etag_of(s, diff_key, before);
  options.now_micros = at("2026-11-20T10:01:00Z");
  CHECK_OK(collate_upload(s, SMS1 "1.json", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.duplicate_entries, 1);
  etag_of(s, diff_key, after);
  CHECK_STR(after, before);
  options.now_micros = at("2026-11-20T10:02:00Z");
  CHECK_OK(collate_upload(s, SMS1 "1.json", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_UNCHANGED);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, SMS_CURRENT, "sms_log", &rows), 1);
  CHECK_LINE_HAS(&rows, 0, "sms_type=outbox");
  buf_clear(&rows);
  CHECK_INT(dump(s, diff_key, "sms_log", &rows), 1);
  buf_free(&rows);
  store_free(s);
}

TEST(collate_engine_result_json_line)
{
  collate_result r;
  memset(&r, 0, sizeof(r));
  r.outcome = COLLATE_REJECTED;
  strcpy(r.user_id, "100");
  strcpy(r.reason, "bad \"json\"");
  r.new_rows = 3;
  buf out = BUF_INIT;
  CHECK_OK(collate_result_to_json(&r, "uploads/k", "req-1", &out), NULL);
  CHECK(!strncmp(out.data, "{\"key\": \"uploads/k\", \"request_id\": \"req-1\", \"user\": \"100\", "
                           "\"device\": null, \"log_type\": null, \"outcome\": \"rejected\"", 100));
  CHECK(strstr(out.data, "\"new_rows\": 3") != NULL);
  CHECK(strstr(out.data, "\"reason\": \"bad \\\"json\\\"\"}") != NULL);
  buf_free(&out);
}

static size_t current_row_groups(store *s)
{
  const collate_type *type = collate_type_find("app_packages");
  parquet_schema schema;
  history_file h;
  cl_error err = {0};
  CHECK_OK(history_schema_create(type, 0, &schema, &err), &err);
  CHECK_OK(history_fetch(s, APP_CURRENT, type, &schema, &h, &err), &err);
  size_t groups = history_row_group_count(&h);
  history_close(&h);
  history_schema_free(&schema);
  return groups;
}

TEST(collate_engine_many_updates_compact_row_groups)
{
  store *s = open_store();
  buf upload = BUF_INIT;
  char key[128], now[32];
  size_t most = 0;
  buf_append_str(&upload, "[");
  for(int i = 0; i < 70; i++) {
    buf_printf(&upload, "%s{\"package_name\": \"app%d\"}", i ? ", " : "", i);
    snprintf(key, sizeof(key), APP1 "%03d.json", i);
    snprintf(now, sizeof(now), "2026-11-20T10:%02d:00Z", i % 60);
    buf_putc(&upload, ']');
    collate_result r = run(s, key, upload.data, now);
    buf_truncate(&upload, upload.len - 1);
    CHECK_INT(r.new_rows, 1);
    size_t groups = current_row_groups(s);
    if(groups > most)
      most = groups;
  }
  CHECK(most <= 65);
  CHECK(current_row_groups(s) < 10);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), 70);
  CHECK_LINE_HAS(&rows, 0, "package_name=app0");
  CHECK_LINE_HAS(&rows, 69, "package_name=app69");
  buf_clear(&rows);
  CHECK_INT(dump(s, APP_DIFF("2026-11-20"), "app_packages", &rows), 70);
  buf_free(&rows);
  buf_free(&upload);
  store_free(s);
}

/* pyarrow drift in a contacts history: photo_id written as int64, an
 * all-null last_time_contacted of the null type, INT96 ts_updated, columns
 * in another order and a pandas index column. */
TEST(collate_engine_legacy_drifted_contacts_history)
{
  store *s = open_store();
  const collate_type *type = collate_type_find("contact_list");
  collate_scratch *scratch = collate_scratch_create();
  json_arena *arena = json_arena_create(1 << 20);
  collate_row row = entry_row(type,
                              "{\"display_name\": \"Dave\", \"item_id\": 1, \"photo_id\": 56645, "
                              "\"times_contacted\": 12}",
                              7, "dev", arena, scratch);

  parquet_column_schema columns[] = {
    STRING_COLUMN("id"),
    STRING_COLUMN("row_hash"),
    INT64_COLUMN("user_id"),
    STRING_COLUMN("device_id"),
    BOOLEAN_COLUMN("is_deleted"),
    STRING_COLUMN("display_name"),
    LEGACY_COLUMN("last_time_contacted", PARQUET_INT32, PARQUET_LOGICAL_NULL),
    INT64_COLUMN("photo_id"),
    INT64_COLUMN("times_contacted"),
    INT64_COLUMN("item_id"),
    TIMESTAMP_COLUMN("ts_updated", PARQUET_INT96, PARQUET_NANOS),
    INT64_COLUMN("__index_level_0__"),
  };
  parquet_bytes id = cell_bytes(&row.cells[type->col_id]);
  parquet_bytes hash = cell_bytes(&row.cells[type->col_row_hash]);
  parquet_bytes dev = {(const uint8_t *)"dev", 3}, name = {(const uint8_t *)"Dave", 4};
  int64_t user = 7, photo = 56645, times = 12, item = 1, index = 0;
  int32_t null32 = 0;
  uint8_t no = 0, undefined = 0;
  parquet_int96 ts = parquet_int96_from_nanos(at("2023-05-01T08:00:00Z") * 1000);
  parquet_column_vector vectors[12];
  memset(vectors, 0, sizeof(vectors));
  for(int c = 0; c < 12; c++)
    vectors[c].count = 1;
  vectors[0].values.bytes = &id;
  vectors[1].values.bytes = &hash;
  vectors[2].values.i64 = &user;
  vectors[3].values.bytes = &dev;
  vectors[4].values.boolean = &no;
  vectors[5].values.bytes = &name;
  vectors[6].values.i32 = &null32;
  vectors[6].defined = &undefined;
  vectors[7].values.i64 = &photo;
  vectors[8].values.i64 = &times;
  vectors[9].values.i64 = &item;
  vectors[10].values.i96 = &ts;
  vectors[11].values.i64 = &index;
  const char *current = "collated_logs/current/contact_list/user=7/logs.parquet";
  put_parquet(s, current, columns, sizeof(columns) / sizeof(columns[0]), 1, vectors);

  /* Dave unchanged (his id and row_hash match), Eve new. */
  collate_result r = run(s, CONTACTS1 "1.json",
                         "[{\"display_name\": \"Dave\", \"item_id\": 1, \"photo_id\": \"56645\", "
                         "\"times_contacted\": 12}, {\"display_name\": \"Eve\", \"item_id\": 2}]",
                         "2026-11-20T10:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.new_rows, 1);
  CHECK_INT(r.deleted_rows, 0);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, current, "contact_list", &rows), 2);
  CHECK_LINE_HAS(&rows, 0, "display_name=Dave last_time_contacted=None photo_id=56645 "
                           "times_contacted=12 item_id=1");
  CHECK_LINE_HAS(&rows, 0, "ts_updated=2023-05-01 08:00:00");
  CHECK_LINE_HAS(&rows, 1, "display_name=Eve");
  /* Dave removed: his deletion marker is built from the migrated values. */
  r = run(s, CONTACTS1 "2.json", "[{\"display_name\": \"Eve\", \"item_id\": 2}]",
          "2026-11-21T10:00:00Z");
  CHECK_INT(r.deleted_rows, 1);
  buf_clear(&rows);
  CHECK_INT(dump(s, current, "contact_list", &rows), 3);
  CHECK_LINE_HAS(&rows, 2, "display_name=Dave");
  CHECK_LINE_HAS(&rows, 2, "is_deleted=1");
  buf_free(&rows);
  json_arena_free(arena);
  collate_scratch_free(scratch);
  store_free(s);
}

TEST(collate_engine_limits_reject_the_file)
{
  store *s = open_store();
  cl_error err = {0};
  /* A gzip bomb: a valid array padded with a megabyte of spaces. */
  size_t pad = 1u << 20;
  char *text = malloc(pad + 3);
  text[0] = '[';
  memset(text + 1, ' ', pad);
  text[pad + 1] = ']';
  text[pad + 2] = '\0';
  buf gz = BUF_INIT;
  gzip_text(text, &gz);
  free(text);
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, APP1 "bomb.json.gz", gz.data, gz.len, &always, NULL, &err), &err);
  collate_options options = options_at("2026-11-20T10:00:00Z");
  options.limits.max_upload_bytes = 64 * 1024;
  collate_result r;
  CHECK_OK(collate_upload(s, APP1 "bomb.json.gz", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_REJECTED);
  CHECK(strstr(r.reason, "larger than 65536 bytes after gunzip") != NULL);
  CHECK(r.bytes_read < 64 * 1024);

  put_text(s, APP1 "many.json", "[{\"package_name\": \"a\"}, {\"package_name\": \"b\"}, "
                                "{\"package_name\": \"c\"}]");
  options = options_at("2026-11-20T10:00:00Z");
  options.limits.max_entries = 2;
  CHECK_OK(collate_upload(s, APP1 "many.json", &options, &r, &err), &err);
  CHECK_INT(r.outcome, COLLATE_REJECTED);
  CHECK(strstr(r.reason, "more than 2 entries") != NULL);
  buf rows = BUF_INIT;
  CHECK_INT(dump(s, APP_CURRENT, "app_packages", &rows), -1);
  buf_free(&rows);
  buf_free(&gz);
  store_free(s);
}

/* More deletions than one batch holds (16384): markers still come in the
 * order the ids first appeared, although half of the rows they delete were
 * re-added later in the opposite order. */
static void app_list(buf *json, int count, int step, int reverse)
{
  buf_clear(json);
  buf_putc(json, '[');
  for(int k = 0; k < count; k++) {
    int n = reverse ? count - 1 - k : k;
    buf_printf(json, "%s{\"package_name\": \"app.%05d\"}", k ? ", " : "", (n * step) % 20000);
  }
  buf_putc(json, ']');
}

TEST(collate_engine_large_snapshot_drop_keeps_unique_set_order)
{
  enum { APPS = 20000 };
  store *s = open_store();
  buf json = BUF_INIT, text = BUF_INIT;
  /* Out of alphabetical order, so that a sort by name would show. */
  app_list(&json, APPS, 7919, 0);
  collate_result r = run(s, "uploads/users/7/s/d/app_packages/1.json", json.data,
                         "2024-03-01T00:00:00Z");
  CHECK_INT(r.new_rows, APPS);
  app_list(&json, APPS / 2, 7919, 0); /* the second half is removed */
  r = run(s, "uploads/users/7/s/d/app_packages/2.json", json.data, "2024-03-02T00:00:00Z");
  CHECK_INT(r.deleted_rows, APPS / 2);
  app_list(&json, APPS, 7919, 1); /* and comes back, last first */
  r = run(s, "uploads/users/7/s/d/app_packages/3.json", json.data, "2024-03-03T00:00:00Z");
  CHECK_INT(r.new_rows, APPS / 2);
  r = run(s, "uploads/users/7/s/d/app_packages/4.json", "[{\"package_name\": \"app.00000\"}]",
          "2024-03-04T00:00:00Z");
  CHECK_INT(r.outcome, COLLATE_UPDATED);
  CHECK_INT(r.deleted_rows, APPS - 1);
  int rows = dump(s, "collated_logs/current/app_packages/user=7/logs.parquet", "app_packages",
                  &text);
  CHECK_INT(rows, 3 * APPS - 1);
  /* The last APPS - 1 rows: the markers of the apps of upload 1, in its order. */
  char line[512], expected[64];
  for(int j = 0; j < APPS - 1; j++) {
    snprintf(expected, sizeof(expected), "package_name=app.%05d ", ((j + 1) * 7919) % APPS);
    line_of(&text, rows - (APPS - 1) + j, line, sizeof(line));
    if(!strstr(line, expected) || !strstr(line, "is_deleted=1")) {
      unit_fail(__FILE__, __LINE__, "deletion %d: %s (expected %s)", j, line, expected);
      break;
    }
  }
  buf_free(&json);
  buf_free(&text);
  store_free(s);
}
