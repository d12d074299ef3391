/* The per-device txt, byte for byte: latest version of each id, legacy
 * filters, key order, sort order and json.dumps formatting. */
#include <stdio.h>

#include "collate/logtype.h"
#include "core/utctime.h"
#include "json/json.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS 12

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

TEST(collate_txt_renders_like_the_legacy)
{
  json_limits limits;
  json_arena *arena = json_arena_create(0);
  collate_scratch *scratch = collate_scratch_create();
  buf out = BUF_INIT;
  json_limits_default(&limits);

  for(size_t k = 0; k < COUNT(scenarios); k++) {
    const collate_type *type = collate_type_find(scenarios[k].type);
    collate_txt *txt = collate_txt_create(type, scenarios[k].device);
    cl_error err = {0};
    CHECK(txt != NULL);
    if(!txt)
      continue;
    for(size_t s = 0; s < MAX_STEPS && scenarios[k].history[s].entry; s++) {
      const step *st = &scenarios[k].history[s];
      json_value *entry = NULL;
      collate_row row;
      collate_entry_outcome outcome;
      CHECK_OK(json_parse(st->entry, strlen(st->entry), &limits, arena, &entry, &err), &err);
      CHECK_OK(collate_entry_to_row(type, entry, 1, st->device, scratch, &row, &outcome), &err);
      CHECK(!outcome.rejected);
      row.cells[type->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
      row.cells[type->col_ts_updated].i = INT64_C(1700000000000000) + (int64_t)s;
      if(st->deleted)
        CHECK_OK(collate_row_mark_deleted(type, &row, scratch), &err);
      collate_row_clamp_future(type, &row);
      /* The txt keeps its own copies: reuse everything the row pointed to. */
      CHECK_OK(collate_txt_add_row(txt, &row, &err), &err);
      collate_scratch_reset(scratch);
      json_arena_reset(arena);
      memset(&row, 0x5a, sizeof(row));
    }
    buf_clear(&out);
    CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
    if(strcmp(out.data, scenarios[k].expected))
      unit_fail(__FILE__, __LINE__, "%s:\n  got      %s\n  expected %s", scenarios[k].name,
                out.data, scenarios[k].expected);
    collate_txt_free(txt);
  }
  buf_free(&out);
  collate_scratch_free(scratch);
  json_arena_free(arena);
  collate_txt_free(NULL);
}

TEST(collate_txt_uses_the_clamped_sms_datetime)
{
  const collate_type *sms = collate_type_find("sms_log");
  collate_txt *txt = collate_txt_create(sms, "d");
  collate_scratch *scratch = collate_scratch_create();
  json_arena *arena = json_arena_create(0);
  json_limits limits;
  json_value *entry = NULL;
  collate_row row;
  collate_entry_outcome outcome;
  buf out = BUF_INIT;
  cl_error err = {0};
  const char *text = "{\"item_id\": 1, \"datetime\": 1528237005}";

  json_limits_default(&limits);
  CHECK_OK(json_parse(text, strlen(text), &limits, arena, &entry, &err), &err);
  CHECK_OK(collate_entry_to_row(sms, entry, 1, "d", scratch, &row, &outcome), &err);
  row.cells[sms->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
  row.cells[sms->col_ts_updated].i = INT64_C(1500000000123456);
  collate_row_clamp_future(sms, &row);
  CHECK_OK(collate_txt_add_row(txt, &row, &err), &err);
  CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
  CHECK_STR(out.data, "[{\"contact_id\": null, \"datetime\": 1500000000123, \"item_id\": 1, "
                      "\"sms_address\": null, \"sms_type\": null, \"thread_id\": null}]");
  buf_free(&out);
  collate_txt_free(txt);
  collate_scratch_free(scratch);
  json_arena_free(arena);
}

TEST(collate_txt_many_rows_keep_the_latest_version)
{
  const collate_type *app = collate_type_find("app_packages");
  collate_txt *txt = collate_txt_create(app, "d");
  collate_scratch *scratch = collate_scratch_create();
  json_arena *arena = json_arena_create(0);
  json_limits limits;
  buf out = BUF_INIT;
  cl_error err = {0};
  size_t commas = 0;

  json_limits_default(&limits);
  /* 3000 apps, then every odd one deleted: the index grows and collides. */
  for(int pass = 0; pass < 2; pass++)
    for(int k = pass; k < 3000; k += 1 + pass) {
      char text[64];
      json_value *entry = NULL;
      collate_row row;
      collate_entry_outcome outcome;
      snprintf(text, sizeof(text), "{\"package_name\": \"app.%d\"}", k);
      CHECK_OK(json_parse(text, strlen(text), &limits, arena, &entry, &err), &err);
      CHECK_OK(collate_entry_to_row(app, entry, 1, "d", scratch, &row, &outcome), &err);
      if(pass)
        CHECK_OK(collate_row_mark_deleted(app, &row, scratch), &err);
      CHECK_OK(collate_txt_add_row(txt, &row, &err), &err);
      collate_scratch_reset(scratch);
      json_arena_reset(arena);
    }
  CHECK_OK(collate_txt_finish(txt, &out, &err), &err);
  for(size_t k = 0; k < out.len; k++)
    commas += out.data[k] == ',';
  CHECK_INT(commas, 1499);
  CHECK(!strncmp(out.data, "[{\"package_name\": \"app.0\"}, {\"package_name\": \"app.2\"}", 52));
  buf_free(&out);
  collate_txt_free(txt);
  collate_scratch_free(scratch);
  json_arena_free(arena);
}
