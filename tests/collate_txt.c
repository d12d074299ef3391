/* The per-device txt, byte for byte: latest version of each id, legacy
 * filters, key order, sort order and json.dumps formatting. */
#include <stdio.h>

#include "collate/logtype.h"
#include "core/utctime.h"
#include "json/json.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS 12

enum { ROW_DELETED = 1, ROW_WITHOUT_ID = 2 };

/* When set, add_entry renders its row into this batch instead of adding it
 * (the test adds the batch to the txt when it chooses). */
static collate_txt_batch *rendering;

/* Adds one history row to txt: entry as device uploaded it, collated at
 * ts_updated (as its deletion marker with ROW_DELETED; with its id nulled,
 * like a row another writer made, with ROW_WITHOUT_ID), the sms clamp
 * applied. The txt must keep its own copies: everything the row pointed to
 * is freed and the row scribbled over before the next one. */
static void add_entry(collate_txt *txt, const collate_type *type, const char *device,
                      const char *entry, int64_t ts_updated, int flags)
{
  json_limits limits;
  json_arena *arena = json_arena_create(0);
  collate_scratch *scratch = collate_scratch_create();
  json_value *value = NULL;
  collate_row row;
  collate_entry_outcome outcome;
  cl_error err = {0};
  json_limits_default(&limits);
  CHECK_OK(json_parse(entry, strlen(entry), &limits, arena, &value, &err), &err);
  CHECK_OK(collate_entry_to_row(type, value, 1, device, scratch, &row, &outcome), &err);
  CHECK(!outcome.rejected);
  row.cells[type->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
  row.cells[type->col_ts_updated].i = ts_updated;
  if(flags & ROW_DELETED)
    CHECK_OK(collate_row_mark_deleted(type, &row, scratch), &err);
  collate_row_clamp_future(type, &row);
  if(flags & ROW_WITHOUT_ID)
    row.cells[type->col_id].type = COLLATE_CELL_NULL;
  if(rendering)
    CHECK_OK(collate_txt_batch_render(txt, rendering, &row, &err), &err);
  else
    CHECK_OK(collate_txt_add_row(txt, &row, &err), &err);
  memset(&row, 0x5a, sizeof(row));
  collate_scratch_free(scratch);
  json_arena_free(arena);
}

/* One history row: the entry as uploaded by device, or its deletion marker. */
typedef struct step {
  const char *device;
  const char *entry;
  int deleted;
} step;

static const struct {
  const char *name;
  const char *type;
  const char *device; /* the txt's device */
  step history[MAX_STEPS];
  const char *expected;
} scenarios[] = {
  {"empty", "app_packages", "d1", {{NULL, NULL, 0}}, "[]"},
  {"empty timeline", "sms_log", "d1", {{NULL, NULL, 0}}, "[]"},
  {"app: only this device, deletion and re-add, first-appearance order", "app_packages", "d1",
   {{"d1", "{\"package_name\": \"App.One\"}", 0},
    {"d1", "{\"package_name\": \"app.two\"}", 0},
    {"d2", "{\"package_name\": \"app.other\"}", 0},
    {"d1", "{\"package_name\": \"app.gone\"}", 0},
    {"d1", "{\"package_name\": \"App.One\"}", 1},
    {"d1", "{\"package_name\": \"app.gone\"}", 1},
    {"d1", "{\"package_name\": \"\\u00dcn\\u00cf\\ud83d\\ude00\"}", 0},
    {"d1", "{\"package_name\": \"app.one\"}", 0}},
   "[{\"package_name\": \"app.one\"}, {\"package_name\": \"app.two\"}, "
   "{\"package_name\": \"\\u00fcn\\u00ef\\ud83d\\ude00\"}]"},
  {"app: everything deleted", "app_packages", "d1",
   {{"d1", "{\"package_name\": \"a\"}", 0}, {"d1", "{\"package_name\": \"a\"}", 1}}, "[]"},
  {"contacts: by item_id, nulls first, phone numbers deduplicated", "contact_list", "d1",
   {{"d1",
     "{\"item_id\": 5, \"display_name\": \"Ann\", \"phone_numbers\": ["
     "{\"item_id\": 1, \"normalized_phone_number\": \"+254\", \"phone_number\": \"072\"}, "
     "{\"item_id\": 3, \"normalized_phone_number\": \"+254\", \"phone_number\": \"0729\"}, "
     "{\"item_id\": 2, \"normalized_phone_number\": \"\", \"phone_number\": \"555\"}, "
     "{\"phone_number\": \"555\", \"item_id\": 1}, \"junk\", "
     "{\"normalized_phone_number\": null, \"phone_number\": null}, "
     "{\"normalized_phone_number\": \"+1\", \"phone_number\": \"1\", \"primary\": true, "
     "\"label\": null}]}",
     0},
    {"d1", "{\"item_id\": 2, \"display_name\": \"Old\"}", 0},
    {"d1", "{\"item_id\": 2, \"display_name\": \"Z\\u00e9\"}", 0},
    {"d1", "{\"item_id\": 9, \"display_name\": \"Gone\"}", 0},
    {"d1", "{\"item_id\": 9, \"display_name\": \"Gone\"}", 1},
    {"d2", "{\"item_id\": 1, \"display_name\": \"Elsewhere\"}", 0},
    {"d1", "{\"item_id\": null, \"display_name\": \"Nobody\", \"phone_numbers\": []}", 0}},
   "[{\"display_name\": \"Nobody\", \"item_id\": null, \"phone_numbers\": []}, "
   "{\"display_name\": \"Z\\u00e9\", \"item_id\": 2, \"phone_numbers\": null}, "
   "{\"display_name\": \"Ann\", \"item_id\": 5, \"phone_numbers\": [{\"item_id\": 3, "
   "\"normalized_phone_number\": \"+254\", \"phone_number\": \"0729\"}, {\"item_id\": 2, "
   "\"normalized_phone_number\": \"\", \"phone_number\": \"555\"}, {\"normalized_phone_number\": "
   "\"+1\", \"phone_number\": \"1\", \"primary\": true, \"label\": null}]}]"},
  {"contacts: a raw string (double-encoded) has no numbers to list", "contact_list", "d1",
   {{"d1", "{\"item_id\": 1, \"phone_numbers\": \"+254 7\"}", 0}},
   "[{\"display_name\": null, \"item_id\": 1, \"phone_numbers\": []}]"},
  {"contacts: numeric keys compare like Python, unhashable keys stay apart", "contact_list", "d1",
   {{"d1", "{\"item_id\": 1, \"phone_numbers\": [{\"normalized_phone_number\": 254, "
           "\"item_id\": 1}, {\"normalized_phone_number\": 254.0, \"item_id\": 2}, "
           "{\"phone_number\": [1], \"item_id\": 3}, {\"phone_number\": [1], \"item_id\": 4}, "
           "{\"normalized_phone_number\": true, \"item_id\": 5}, "
           "{\"normalized_phone_number\": 1, \"item_id\": 0}, {\"item_id\": 9}]}", 0}},
   "[{\"display_name\": null, \"item_id\": 1, \"phone_numbers\": ["
   "{\"normalized_phone_number\": 254.0, \"item_id\": 2}, {\"phone_number\": [1], "
   "\"item_id\": 3}, {\"phone_number\": [1], \"item_id\": 4}, "
   "{\"normalized_phone_number\": true, \"item_id\": 5}]}]"},
  {"contacts: a phone's item_id compares as Python's >: strings by code point, ints exactly",
   "contact_list", "d1",
   {{"d1", "{\"item_id\": 1, \"phone_numbers\": ["
           "{\"phone_number\": \"a\", \"item_id\": \"417151\"}, "
           "{\"phone_number\": \"a\", \"item_id\": \"417166\"}, "
           "{\"phone_number\": \"a\", \"item_id\": \"41716\"}, "
           "{\"phone_number\": \"b\", \"item_id\": 9007199254740993}, "
           "{\"phone_number\": \"b\", \"item_id\": 9007199254740992}, "
           "{\"phone_number\": \"b\", \"item_id\": 9007199254740992.5}, "
           "{\"phone_number\": \"c\", \"item_id\": 123456789012345678901234567890}, "
           "{\"phone_number\": \"c\", \"item_id\": 123456789012345678901234567891}, "
           "{\"phone_number\": \"c\", \"item_id\": \"9\"}, "
           "{\"phone_number\": \"d\"}, {\"phone_number\": \"d\", \"item_id\": -1}]}", 0}},
   "[{\"display_name\": null, \"item_id\": 1, \"phone_numbers\": ["
   "{\"phone_number\": \"a\", \"item_id\": \"417166\"}, "
   "{\"phone_number\": \"b\", \"item_id\": 9007199254740993}, "
   "{\"phone_number\": \"c\", \"item_id\": 123456789012345678901234567891}, "
   "{\"phone_number\": \"d\"}]}]"},
  {"call: all devices, deleted rows, later wins, descending string keys", "call_log", "d1",
   {{"d1", "{\"item_id\": 9, \"datetime\": 1466176793178, \"call_type\": \"1\", "
           "\"phone_number\": \"+1 2\", \"cached_name\": \"A\", \"duration\": 15}", 0},
    {"d2", "{\"item_id\": 10, \"datetime\": 1466176793178, \"call_type\": 20, "
           "\"phone_number\": \"3\"}", 0},
    {"d2", "{\"item_id\": 9, \"datetime\": 1466176793178, \"call_type\": 7, "
           "\"phone_number\": \"4\", \"cached_name\": \"C\"}", 0},
    {"d1", "{\"item_id\": 7, \"datetime\": 99999999999999999, \"phone_number\": \"5\"}", 0},
    {"d1", "{\"item_id\": 1, \"datetime\": 999999999999, \"phone_number\": \"6\", "
           "\"call_type\": 3}", 0},
    {"d1", "{\"item_id\": 1, \"datetime\": 999999999999, \"phone_number\": \"6\", "
           "\"call_type\": 3}", 1}},
   "[{\"cached_name\": null, \"call_type\": null, \"item_id\": 7, \"phone_number\": \"5\", "
   "\"datetime\": null, \"duration\": null}, "
   "{\"cached_name\": null, \"call_type\": 3, \"item_id\": 1, \"phone_number\": \"6\", "
   "\"datetime\": 999999999999, \"duration\": null}, "
   "{\"cached_name\": \"C\", \"call_type\": 7, \"item_id\": 9, \"phone_number\": \"4\", "
   "\"datetime\": 1466176793178, \"duration\": null}, "
   "{\"cached_name\": null, \"call_type\": null, \"item_id\": 10, \"phone_number\": \"3\", "
   "\"datetime\": 1466176793178, \"duration\": null}]"},
  {"sms: escapes, omitted body, codes, null item id", "sms_log", "d1",
   {{"d1", "{\"item_id\": 122, \"datetime\": 1487722326477, \"message_body\": "
           "\"Jambo \\u00e9 \\ud83d\\ude00 \\\"q\\\"\", \"sms_address\": \"+075\", "
           "\"sms_type\": 2, \"thread_id\": 32, \"contact_id\": 0}", 0},
    {"d2", "{\"item_id\": 3, \"datetime\": 1487722326477, \"sms_type\": 99}", 0},
    {"d2", "{\"item_id\": null, \"datetime\": 1487722326477, \"type\": 1, "
           "\"message_body\": \"\"}", 0}},
   "[{\"contact_id\": null, \"datetime\": 1487722326477, \"item_id\": null, "
   "\"message_body\": \"\", \"sms_address\": null, \"sms_type\": 1, \"thread_id\": null}, "
   "{\"contact_id\": null, \"datetime\": 1487722326477, \"item_id\": 3, \"sms_address\": null, "
   "\"sms_type\": null, \"thread_id\": null}, "
   "{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"message_body\": "
   "\"Jambo \\u00e9 \\ud83d\\ude00 \\\"q\\\"\", \"sms_address\": \"+075\", \"sms_type\": 2, "
   "\"thread_id\": 32}]"},
};

/* Rows added one by one (batch 0), or rendered into a batch that is added
 * every `batch` rows: the same text. */
TEST(collate_txt_renders_like_the_legacy)
{
  buf out = BUF_INIT;
  for(size_t batch = 0; batch <= 3; batch++)
    for(size_t k = 0; k < COUNT(scenarios); k++) {
      const collate_type *type = collate_type_find(scenarios[k].type);
      collate_txt *txt = collate_txt_create(type, scenarios[k].device);
      cl_error err = {0};
      rendering = batch ? collate_txt_batch_create() : NULL;
      CHECK(txt != NULL && (!batch || rendering));
      if(!txt || (batch && !rendering))
        continue;
      size_t s = 0;
      for(; s < MAX_STEPS && scenarios[k].history[s].entry; s++) {
        const step *st = &scenarios[k].history[s];
        add_entry(txt, type, st->device, st->entry, INT64_C(1700000000000000) + (int64_t)s,
                  st->deleted ? ROW_DELETED : 0);
        if(rendering && (s + 1) % batch == 0)
          CHECK_OK(collate_txt_add_batch(txt, rendering, &err), &err);
      }
      if(rendering)
        CHECK_OK(collate_txt_add_batch(txt, rendering, &err), &err);
      buf_clear(&out);
      CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
      if(strcmp(out.data, scenarios[k].expected))
        unit_fail(__FILE__, __LINE__, "%s, batch %zu:\n  got      %s\n  expected %s",
                  scenarios[k].name, batch, out.data, scenarios[k].expected);
      collate_txt_batch_free(rendering);
      rendering = NULL;
      collate_txt_free(txt);
    }
  buf_free(&out);
  collate_txt_free(NULL);
  collate_txt_batch_free(NULL);
}

TEST(collate_txt_uses_the_clamped_sms_datetime)
{
  const collate_type *sms = collate_type_find("sms_log");
  collate_txt *txt = collate_txt_create(sms, "d");
  buf out = BUF_INIT;
  cl_error err = {0};
  add_entry(txt, sms, "d", "{\"item_id\": 1, \"datetime\": 1528237005}",
            INT64_C(1500000000123456), 0);
  CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
  CHECK_STR(out.data, "[{\"contact_id\": null, \"datetime\": 1500000000123, \"item_id\": 1, "
                      "\"sms_address\": null, \"sms_type\": null, \"thread_id\": null}]");
  buf_free(&out);
  collate_txt_free(txt);
}

TEST(collate_txt_many_rows_keep_the_latest_version)
{
  const collate_type *app = collate_type_find("app_packages");
  collate_txt *txt = collate_txt_create(app, "d");
  buf out = BUF_INIT;
  cl_error err = {0};
  size_t commas = 0;

  /* 3000 apps, then every odd one deleted: the index grows and collides. */
  for(int pass = 0; pass < 2; pass++)
    for(int k = pass; k < 3000; k += 1 + pass) {
      char text[64];
      snprintf(text, sizeof(text), "{\"package_name\": \"app.%d\"}", k);
      add_entry(txt, app, "d", text, INT64_C(1700000000000000) + pass, pass ? ROW_DELETED : 0);
    }
  CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
  for(size_t k = 0; k < out.len; k++)
    commas += out.data[k] == ',';
  CHECK_INT(commas, 1499);
  CHECK(!strncmp(out.data, "[{\"package_name\": \"app.0\"}, {\"package_name\": \"app.2\"}", 52));
  buf_free(&out);
  collate_txt_free(txt);
}

/* Rows for the run tests: sms entries from a small space of items and
 * datetimes, so keys collide across devices, and repeated entries whose
 * future datetime is clamped differently: the same id under another key. */
static void add_sms_rows(collate_txt *txt, const collate_type *sms, size_t count)
{
  uint32_t seed = 12345;
  cl_error err = {0};
  for(size_t k = 0; k < count; k++) {
    char text[200];
    seed = seed * 1103515245u + 12345u;
    unsigned r = seed >> 8;
    /* One in eight is a future message (clamped to its ts_updated). */
    long long ms = r % 8 ? 1500000000000LL + (long long)(r % 40) * 1000 : 1800000000000LL;
    snprintf(text, sizeof(text),
             "{\"item_id\": %u, \"datetime\": %lld, \"message_body\": \"m%u\", \"sms_type\": %u}",
             r % 50, ms, r % 7, r % 3);
    add_entry(txt, sms, r % 3 ? "d1" : "d2", text, INT64_C(1700000000000000) + (int64_t)k * 1000,
              r % 97 == 0 ? ROW_WITHOUT_ID : 0);
    if(rendering && (k % 64 == 63 || k + 1 == count))
      CHECK_OK(collate_txt_add_batch(txt, rendering, &err), &err);
  }
}

/* How a run test finishes its txt. */
enum { PLAIN, RENDERED_IN_BATCHES, MERGED_ON_TWO_THREADS, FINISH_WAYS };

static const char *const finish_way[] = {"", ", rendered in batches", ", merged on two threads"};

static void finish_txt(collate_txt *txt, int way, buf *out)
{
  cl_error err = {0};
  worker *helper = NULL;
  if(way == MERGED_ON_TWO_THREADS)
    CHECK_OK(worker_create(&helper, &err), &err);
  CHECK_OK(collate_txt_finish_to(txt, stream_sink_to_buf(out), helper, &err), &err);
  worker_free(helper);
}

TEST(collate_txt_spilled_runs_merge_to_the_same_text)
{
  /* Two threads merge 131, 75 and 8 ranges cut at sampled keys that
   * repeat (40 datetimes, 50 items) with runs of 5000, 20000 and 300000
   * bytes; with 1 and 700 there are too many runs to cut (one thread). */
  static const size_t run_bytes[] = {1, 700, 5000, 20000, 300000};
  const collate_type *sms = collate_type_find("sms_log");
  buf in_memory = BUF_INIT, spilled = BUF_INIT;
  cl_error err = {0};
  collate_txt *txt = collate_txt_create(sms, "d1");
  add_sms_rows(txt, sms, 3000);
  CHECK_OK(collate_txt_finish(txt, &in_memory, &err), &err);
  collate_txt_free(txt);
  CHECK(in_memory.len > 1000);
  for(size_t k = 0; k < FINISH_WAYS * COUNT(run_bytes); k++) {
    int way = (int)(k % FINISH_WAYS);
    txt = collate_txt_create(sms, "d1");
    collate_txt_set_run_bytes(txt, run_bytes[k / FINISH_WAYS]);
    collate_txt_reserve(txt, 3000);
    rendering = way == RENDERED_IN_BATCHES ? collate_txt_batch_create() : NULL;
    add_sms_rows(txt, sms, 3000);
    collate_txt_batch_free(rendering);
    rendering = NULL;
    buf_clear(&spilled);
    finish_txt(txt, way, &spilled);
    if(spilled.len != in_memory.len || memcmp(spilled.data, in_memory.data, spilled.len))
      unit_fail(__FILE__, __LINE__, "runs of %zu bytes%s: %zu bytes of text, %zu in memory",
                run_bytes[k / FINISH_WAYS], finish_way[way], spilled.len, in_memory.len);
    collate_txt_free(txt);
  }
  buf_free(&in_memory);
  buf_free(&spilled);
}

/* A sink that fails once it has taken budget bytes. The two merging
 * threads write to it in turns, never at once. */
typedef struct full_sink {
  size_t taken, budget;
} full_sink;

static cl_status full_sink_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  full_sink *sink = ctx;
  (void)data;
  if(sink->taken + len > sink->budget)
    return cl_fail(err, CL_ERR_IO, "test sink: full after %zu bytes", sink->taken);
  sink->taken += len;
  return CL_OK;
}

/* A write failing on either thread of a two-thread merge fails the finish
 * with the sink's message, and the other thread stops waiting for its
 * turn (a hang here is the bug). */
TEST(collate_txt_two_thread_merge_fails_with_its_sink)
{
  static const size_t budgets[] = {0, 1, 5000, 20000, 40000, 56000};
  const collate_type *sms = collate_type_find("sms_log");
  for(size_t b = 0; b < COUNT(budgets); b++) {
    cl_error err = {0};
    worker *helper = NULL;
    full_sink full = {0, budgets[b]};
    stream_sink sink = {full_sink_write, &full};
    collate_txt *txt = collate_txt_create(sms, "d1");
    collate_txt_set_run_bytes(txt, 5000);
    add_sms_rows(txt, sms, 3000);
    CHECK_OK(worker_create(&helper, &err), &err);
    CHECK_STATUS(collate_txt_finish_to(txt, sink, helper, &err), CL_ERR_IO);
    if(!strstr(err.message, "test sink: full after"))
      unit_fail(__FILE__, __LINE__, "budget %zu: %s", budgets[b], err.message);
    CHECK(full.taken <= budgets[b]);
    worker_free(helper);
    collate_txt_free(txt);
  }
}

/* design.md item 9 on a timeline: an id's earlier version is not shown
 * even where its key differs from the latest one's (an sms datetime clamped
 * at two different ts_updated, or clamped once only, when a rival
 * invocation's rows landed first), and another id then holds that key. */
#define MAX_VERSIONS 3
static const struct {
  const char *name;
  struct {
    const char *entry;
    int64_t ts_updated;
  } rows[MAX_VERSIONS];
  const char *expected;
} superseded[] = {
  {"clamped twice",
   {{"{\"item_id\": 1, \"datetime\": 1500000000000, \"sms_type\": 1}", 1600000000000000},
    {"{\"item_id\": 1, \"datetime\": 1900000000000, \"sms_type\": 1}", 1500000000000000},
    {"{\"item_id\": 1, \"datetime\": 1900000000000, \"sms_type\": 2}", 1550000000000000}},
   "[{\"contact_id\": null, \"datetime\": 1550000000000, \"item_id\": 1, "
   "\"sms_address\": null, \"sms_type\": 2, \"thread_id\": null}, "
   "{\"contact_id\": null, \"datetime\": 1500000000000, \"item_id\": 1, "
   "\"sms_address\": null, \"sms_type\": 1, \"thread_id\": null}]"},
  {"not clamped, then clamped by an earlier ts_updated",
   {{"{\"item_id\": 1, \"datetime\": 1500000000000, \"sms_address\": \"a\"}",
     1600000000000000},
    {"{\"item_id\": 1, \"datetime\": 1500000000000, \"sms_type\": 1}", 1600000000000000},
    {"{\"item_id\": 1, \"datetime\": 1500000000000, \"sms_type\": 2}", 1450000000000000}},
   "[{\"contact_id\": null, \"datetime\": 1500000000000, \"item_id\": 1, "
   "\"sms_address\": \"a\", \"sms_type\": null, \"thread_id\": null}, "
   "{\"contact_id\": null, \"datetime\": 1450000000000, \"item_id\": 1, "
   "\"sms_address\": null, \"sms_type\": 2, \"thread_id\": null}]"},
};

TEST(collate_txt_superseded_version_leaves_its_key_to_others)
{
  const collate_type *sms = collate_type_find("sms_log");
  buf out = BUF_INIT;
  /* c % 3: in memory, every row a run, and that merged on two threads. */
  for(size_t c = 0; c < 3 * COUNT(superseded); c++) {
    size_t k = c / 3;
    collate_txt *txt = collate_txt_create(sms, "d");
    if(c % 3)
      collate_txt_set_run_bytes(txt, 1);
    for(size_t v = 0; v < MAX_VERSIONS; v++)
      add_entry(txt, sms, "d", superseded[k].rows[v].entry, superseded[k].rows[v].ts_updated, 0);
    buf_clear(&out);
    finish_txt(txt, c % 3 == 2 ? MERGED_ON_TWO_THREADS : PLAIN, &out);
    if(strcmp(out.data, superseded[k].expected))
      unit_fail(__FILE__, __LINE__, "%s%s:\n  got      %s\n  expected %s", superseded[k].name,
                c % 3 == 2 ? " (spilled, two threads)" : c % 3 ? " (spilled)" : "", out.data,
                superseded[k].expected);
    collate_txt_free(txt);
  }
  buf_free(&out);
}
