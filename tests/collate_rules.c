/* The legacy collation rules of the four log types: legacy.md §8 vectors,
 * the [derived] edge vectors, Python str()/int()/parse_datetime, column
 * coercion, deletion markers and batch dates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "collate/logtype.h"
#include "collate/pystr.h"
#include "core/digest.h"
#include "core/utctime.h"
#include "json/json.h"
#include "json_support.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))


/* A cell as text: NULL, decimal, True/False, Python str(datetime), bytes. */
static const char *cell_text(const collate_type *type, const collate_row *row, const char *column)
{
  static char text[1024];
  int c = collate_type_column(type, column);
  const collate_cell *cell;
  if(c < 0)
    return "(no such column)";
  cell = &row->cells[c];
  switch(cell->type) {
  case COLLATE_CELL_NULL:
    return "NULL";
  case COLLATE_CELL_INT:
    if(type->columns[c].kind == COLLATE_KIND_BOOL)
      return cell->i ? "True" : "False";
    snprintf(text, sizeof(text), "%" PRId64, cell->i);
    return text;
  case COLLATE_CELL_TIMESTAMP:
    utc_format_python(cell->i, text, sizeof(text));
    return text;
  case COLLATE_CELL_BYTES:
    snprintf(text, sizeof(text), "%.*s", (int)cell->len, cell->s);
    return text;
  }
  return "?";
}

static void to_row(const char *type_name, const char *entry, int64_t user, const char *device,
                   collate_scratch *scratch, collate_row *row, collate_entry_outcome *outcome)
{
  const collate_type *type = collate_type_find(type_name);
  CHECK(type != NULL);
  CHECK_INT(collate_entry_to_row(type, json_test_parse(entry), user, device, scratch, row,
                                 outcome), CL_OK);
}

TEST(collate_types_are_found_by_name)
{
  static const struct {
    const char *name;
    int id;
  } names[] = {
    {"sms_log", COLLATE_SMS_LOG}, {"call_log", COLLATE_CALL_LOG},
    {"contact_list", COLLATE_CONTACT_LIST}, {"app_packages", COLLATE_APP_PACKAGES},
    {"sms", -1}, {"", -1}, {"SMS_LOG", -1}, {"app_packages ", -1},
  };
  for(size_t k = 0; k < COUNT(names); k++) {
    const collate_type *type = collate_type_find(names[k].name);
    if(names[k].id < 0)
      CHECK(type == NULL);
    else {
      CHECK(type != NULL && (int)type->id == names[k].id);
      CHECK(type == collate_type_get((collate_type_id)names[k].id));
      CHECK_STR(type->name, names[k].name);
    }
  }
  CHECK(collate_type_get((collate_type_id)4) == NULL);
}

TEST(collate_columns_follow_legacy_row_key_order)
{
  static const struct {
    const char *type;
    const char *columns;
  } orders[] = {
    {"app_packages", "user_id device_id is_deleted package_name id row_hash ts_updated"},
    {"sms_log", "user_id device_id is_deleted body_hash message_body sms_type thread_id "
                "contact_id item_id sms_address normalized_sms_address datetime id row_hash "
                "ts_updated"},
    {"call_log", "user_id device_id is_deleted cached_name call_type item_id phone_number "
                 "normalized_phone_number datetime duration id row_hash ts_updated"},
    {"contact_list", "user_id device_id is_deleted display_name last_time_contacted photo_id "
                     "times_contacted item_id phone_numbers id row_hash ts_updated"},
  };
  for(size_t k = 0; k < COUNT(orders); k++) {
    const collate_type *type = collate_type_find(orders[k].type);
    char joined[512] = "";
    for(size_t c = 0; c < type->column_count; c++) {
      if(c)
        strcat(joined, " ");
      strcat(joined, type->columns[c].name);
    }
    CHECK_STR(joined, orders[k].columns);
    CHECK_STR(type->columns[type->col_id].name, "id");
    CHECK_STR(type->columns[type->col_row_hash].name, "row_hash");
    CHECK_STR(type->columns[type->col_ts_updated].name, "ts_updated");
    CHECK_STR(type->columns[type->col_user_id].name, "user_id");
    CHECK_STR(type->columns[type->col_device_id].name, "device_id");
    CHECK_STR(type->columns[type->col_is_deleted].name, "is_deleted");
  }
  CHECK_INT(collate_type_find("sms_log")->detects_deletions, 0);
  CHECK_INT(collate_type_find("sms_log")->clamps_future_datetime, 1);
  CHECK_INT(collate_type_find("call_log")->detects_deletions, 1);
  CHECK_INT(collate_type_find("call_log")->clamps_future_datetime, 0);
  CHECK_STR(collate_type_find("call_log")->columns[collate_type_find("call_log")->col_datetime].name,
            "datetime");
  CHECK_INT(collate_type_find("app_packages")->col_datetime, -1);
}

/* Row-hash vectors of legacy.md §8: the fields as the row holds them. Each
 * value is "s:text", "i:int", "t:micros" or "n" (null); is_deleted last. */
static const struct {
  const char *type;
  const char *values[8];
  const char *row_hash;
} row_hashes[] = {
  {"app_packages", {"id=s:123fgh", "is_deleted=i:0"}, "a518d55eec549d7d8a88390e6ee860ef"},
  {"app_packages", {"id=s:123fgh", "is_deleted=i:1"}, "da91ef587b2dddc0dd48912ad3295922"},
  {"call_log", {"id=s:123fgh", "cached_name=s:name", "call_type=s:5",
                "normalized_phone_number=s:4567895", "duration=i:456", "is_deleted=i:0"},
   "83bafc501b555dfca04a3d37ca5eb573"},
  {"call_log", {"id=s:123fgh", "cached_name=s:name", "call_type=s:5",
                "normalized_phone_number=s:4567895", "duration=i:456", "is_deleted=i:1"},
   "b2e2fd82df0d78c5b1926af61edae852"},
  {"call_log", {"id=s:123fgh", "cached_name=s:new", "call_type=s:5",
                "normalized_phone_number=s:4567895", "duration=i:456", "is_deleted=i:1"},
   "5d4caafb13b524293b13af0991f50da3"},
  {"call_log", {"id=s:123fgh", "cached_name=s:new", "call_type=s:5",
                "normalized_phone_number=s:1234567", "duration=i:456", "is_deleted=i:1"},
   "346c34952b333f23d63d5a6eb8e70ac4"},
  {"call_log", {"id=s:123fgh", "cached_name=s:new", "call_type=s:5",
                "normalized_phone_number=s:1234567", "duration=i:789", "is_deleted=i:1"},
   "346867fa6cc4e884dd08246e9b9347ab"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Leroy", "last_time_contacted=t:1487722326477000",
                    "times_contacted=i:67", "photo_id=s:56645",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:0"},
   "56345efdb7ccf98805fbcc59d3289966"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Leroy", "last_time_contacted=t:1487722326477000",
                    "times_contacted=i:67", "photo_id=s:56645",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:1"},
   "45c2f39966ecf7c55ca37ceaaf1c0666"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Dave", "last_time_contacted=t:1487722326477000",
                    "times_contacted=i:67", "photo_id=s:56645",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:1"},
   "8924614ec9d3dfa74322591b6174a376"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Dave", "last_time_contacted=t:1487722366477000",
                    "times_contacted=i:67", "photo_id=s:56645",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:1"},
   "739c6a07fd411054fe41dc0c55291bf9"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Dave", "last_time_contacted=t:1487722366477000",
                    "times_contacted=i:12", "photo_id=s:56645",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:1"},
   "1a1a7cfb735ec131b289576031f32fcc"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Dave", "last_time_contacted=t:1487722366477000",
                    "times_contacted=i:12", "photo_id=s:56778",
                    "phone_numbers=s:{num: \"+3445435\"}", "is_deleted=i:1"},
   "034e499750b1b0bf3229f29ab6d23216"},
  {"contact_list", {"id=s:123fgh", "display_name=s:Dave", "last_time_contacted=t:1487722366477000",
                    "times_contacted=i:12", "photo_id=s:56778",
                    "phone_numbers=s:{num: \"+3445435\", num: \"3453455\"}", "is_deleted=i:1"},
   "bb95d8858e1c629178820780603af255"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:sent", "thread_id=i:5", "contact_id=i:9",
               "normalized_sms_address=s:4567895", "is_deleted=i:0"},
   "e97347ee50f9a5f1155061c096672498"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:sent", "thread_id=i:5", "contact_id=i:9",
               "normalized_sms_address=s:4567895", "is_deleted=i:1"},
   "0d06f894e0a9b414505c9ce87bc65d84"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:sent", "thread_id=i:8", "contact_id=i:9",
               "normalized_sms_address=s:4567895", "is_deleted=i:1"},
   "1979b8a0627138f78b8e5fcc79e014a3"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:sent", "thread_id=i:8", "contact_id=i:3",
               "normalized_sms_address=s:4567895", "is_deleted=i:1"},
   "301be5ea0834622aae3f2db184a9c846"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:inbox", "thread_id=i:8", "contact_id=i:3",
               "normalized_sms_address=s:4567895", "is_deleted=i:1"},
   "cb29ce1ae0059c5d5aac48c9d3a8e647"},
  {"sms_log", {"id=s:123fgh", "sms_type=s:inbox", "thread_id=i:8", "contact_id=i:3",
               "normalized_sms_address=s:3456643", "is_deleted=i:1"},
   "41edc13b4ff534ea2ac2def36903018a"},
};

static void build_row(const collate_type *type, const char *const *values, collate_row *row)
{
  for(size_t c = 0; c < COLLATE_MAX_COLUMNS; c++)
    row->cells[c].type = COLLATE_CELL_NULL;
  for(size_t k = 0; k < 8 && values[k]; k++) {
    const char *eq = strchr(values[k], '=');
    char name[64];
    int c;
    snprintf(name, sizeof(name), "%.*s", (int)(eq - values[k]), values[k]);
    c = collate_type_column(type, name);
    CHECK(c >= 0);
    if(c < 0)
      continue;
    switch(eq[1]) {
    case 's':
      row->cells[c].type = COLLATE_CELL_BYTES;
      row->cells[c].s = eq + 3;
      row->cells[c].len = strlen(eq + 3);
      break;
    case 'i':
      row->cells[c].type = COLLATE_CELL_INT;
      row->cells[c].i = strtoll(eq + 3, NULL, 10);
      break;
    case 't':
      row->cells[c].type = COLLATE_CELL_TIMESTAMP;
      row->cells[c].i = strtoll(eq + 3, NULL, 10);
      break;
    default:
      break;
    }
  }
}

TEST(collate_row_hash_vectors_of_the_legacy_tests)
{
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(row_hashes); k++) {
    const collate_type *type = collate_type_find(row_hashes[k].type);
    collate_row row;
    char hex[DIGEST_MD5_HEX_LEN + 1];
    build_row(type, row_hashes[k].values, &row);
    CHECK_INT(collate_row_hash(type, &row, scratch, hex), CL_OK);
    if(strcmp(hex, row_hashes[k].row_hash))
      unit_fail(__FILE__, __LINE__, "row_hashes[%zu] (%s): %s, expected %s", k,
                row_hashes[k].type, hex, row_hashes[k].row_hash);
  }
  collate_scratch_free(scratch);
}

/* Happy paths and edge entries, field by field. user 123, device "456" as
 * in the legacy tests unless the vector says otherwise. */
static const struct {
  const char *type;
  int64_t user;
  const char *device;
  const char *entry;
  const char *expect[16]; /* "column=text" as cell_text renders it */
} happy[] = {
  {"app_packages", 123, "456", "{\"package_name\": \"App. Name\"}",
   {"user_id=123", "device_id=456", "is_deleted=False", "package_name=app.name",
    "id=8d11212237eb630501664d6574d9c550", "ts_updated=NULL"}},
  {"call_log", 123, "456",
   "{\"cached_name\": \"test\", \"call_type\": \"5\", \"datetime\": \"1466176793178\", "
   "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}",
   {"cached_name=test", "call_type=rejected", "item_id=74", "phone_number=+0724 417 503",
    "normalized_phone_number=0724417503", "datetime=2016-06-17 15:19:53.178000", "duration=15",
    "id=5e7cfe8e771f922f540fb66d159de7ef", "is_deleted=False"}},
  {"call_log", 123, "456",
   "{\"cached_name\": \"test\", \"call_type\": \"20\", \"datetime\": \"1466176793178\", "
   "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}",
   {"call_type=unknown", "id=5e7cfe8e771f922f540fb66d159de7ef"}},
  {"call_log", 123, "456",
   "{\"call_type\": \"5\", \"datetime\": \"1466176793178\", "
   "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}",
   {"cached_name=NULL", "call_type=rejected", "id=5e7cfe8e771f922f540fb66d159de7ef"}},
  {"call_log", 123, "456",
   "{\"call_type\": null, \"datetime\": 1466176793178, \"item_id\": 74, "
   "\"phone_number\": \"+0724 417 503\", \"normalized_phone_number\": \"ignored\"}",
   {"call_type=NULL", "duration=NULL", "normalized_phone_number=0724417503"}},
  {"call_log", 123, "456",
   "{\"call_type\": true, \"datetime\": 1466176793178, \"item_id\": 74, \"duration\": 15.9, "
   "\"phone_number\": \"+0724 417 503\"}",
   {"call_type=incoming", "duration=15"}},
  {"contact_list", 123, "456",
   "{\"display_name\": \"Deno\", \"item_id\": 201338, \"last_time_contacted\": 1510590105792, "
   "\"phone_numbers\": [{\"item_id\": 417151, \"normalized_phone_number\": \"+254729477015\", "
   "\"phone_number\": \"(072) 947-7015\"}, {\"item_id\": 417166, \"normalized_phone_number\": "
   "\"+254729477015\", \"phone_number\": \"0729477015\"}], \"photo_id\": \"417143\", "
   "\"times_contacted\": 1}",
   {"display_name=Deno", "last_time_contacted=2017-11-13 16:21:45.792000", "item_id=201338",
    "photo_id=417143", "times_contacted=1",
    "phone_numbers=[{\"item_id\": 417151, \"normalized_phone_number\": \"+254729477015\", "
    "\"phone_number\": \"(072) 947-7015\"}, {\"item_id\": 417166, \"normalized_phone_number\": "
    "\"+254729477015\", \"phone_number\": \"0729477015\"}]",
    "id=b3577e0d98aab314bacb05cfb225b92d"}},
  {"contact_list", 123, "456",
   "{\"display_name\": \"Deno\", \"item_id\": 201338, \"last_time_contacted\": 1510590105792, "
   "\"times_contacted\": 1}",
   {"photo_id=NULL", "phone_numbers=NULL", "id=b3577e0d98aab314bacb05cfb225b92d"}},
  {"contact_list", 123, "456",
   "{\"item_id\": 201338, \"last_time_contacted\": \"0\", \"photo_id\": 56645, "
   "\"phone_numbers\": \"+254\", \"display_name\": null}",
   {"last_time_contacted=1970-01-01 00:00:00", "photo_id=56645", "phone_numbers=\"+254\"",
    "display_name=NULL"}},
  {"sms_log", 123, "456",
   "{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"message_body\": "
   "\"Jambo people\", \"sms_address\": \"+075 40269 68\", \"sms_type\": 6, \"thread_id\": 32}",
   {"message_body=Jambo people", "sms_type=queued", "item_id=122", "thread_id=32",
    "contact_id=0", "datetime=2017-02-22 00:12:06.477000", "sms_address=+075 40269 68",
    "normalized_sms_address=0754026968", "body_hash=2e962e16e56aaed080779ea915252cb2",
    "id=1846170e2c6acd9e66f747148519ec34", "is_deleted=False"}},
  {"sms_log", 123, "456",
   "{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"message_body\": "
   "\"Jambo people\", \"sms_address\": \"+075 40269 68\", \"type\": 6, \"thread_id\": 32}",
   {"message_body=Jambo people", "sms_type=queued", "item_id=122", "thread_id=32",
    "contact_id=0", "datetime=2017-02-22 00:12:06.477000", "sms_address=+075 40269 68",
    "normalized_sms_address=0754026968", "body_hash=2e962e16e56aaed080779ea915252cb2",
    "id=1846170e2c6acd9e66f747148519ec34"}},
  {"sms_log", 123, "456",
   "{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"sms_type\": 13}",
   {"sms_type=unknown", "message_body=NULL", "body_hash=", "sms_address=NULL",
    "normalized_sms_address=NULL"}},
  /* The first present key wins, even when its value is null. */
  {"sms_log", 123, "456", "{\"datetime\": 1, \"item_id\": 1, \"sms_type\": null, \"type\": 6}",
   {"sms_type=NULL"}},
  {"sms_log", 123, "456", "{\"datetime\": 1, \"item_id\": 1, \"type\": \"2\", \"sms_type\": 1}",
   {"sms_type=inbox"}},
  {"sms_log", 123, "456", "{\"datetime\": true, \"item_id\": null, \"sms_type\": 0}",
   {"sms_type=all", "datetime=1970-01-01 00:00:01", "item_id=NULL"}},
  /* [derived] edge vectors: user 100, device "1". */
  {"sms_log", 100, "1", "{\"datetime\": 1528237005, \"item_id\": 7}",
   {"id=d1b3ba89e2a2bc553e212b652edb4fc5", "datetime=2018-06-05 22:16:45"}},
  {"sms_log", 100, "1",
   "{\"datetime\": 300000000000000000, \"item_id\": 7, \"sms_address\": \"+254700000000\"}",
   {"id=c1d16654afaa38b8f33a327b73cebff6", "datetime=NULL"}},
  /* Coercion: hashes from raw values, cells of the column kind. */
  {"sms_log", 1, "d",
   "{\"datetime\": 1, \"item_id\": \"0042\", \"thread_id\": 3.0, \"contact_id\": [1]}",
   {"item_id=42", "thread_id=3", "contact_id=NULL"}},
  {"contact_list", 1, "d",
   "{\"item_id\": 99999999999999999999, \"display_name\": {\"a\": 1}, \"photo_id\": 1.5, "
   "\"times_contacted\": true}",
   {"item_id=NULL", "display_name=NULL", "photo_id=1.5", "times_contacted=1"}},
};

TEST(collate_entries_become_rows_field_by_field)
{
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(happy); k++) {
    const collate_type *type = collate_type_find(happy[k].type);
    collate_row row;
    collate_entry_outcome outcome;
    char hex[DIGEST_MD5_HEX_LEN + 1];
    to_row(happy[k].type, happy[k].entry, happy[k].user, happy[k].device, scratch, &row, &outcome);
    if(outcome.rejected) {
      unit_fail(__FILE__, __LINE__, "happy[%zu] rejected: %s", k, outcome.reason);
      continue;
    }
    for(size_t e = 0; e < 16 && happy[k].expect[e]; e++) {
      const char *eq = strchr(happy[k].expect[e], '=');
      char column[64];
      const char *got;
      snprintf(column, sizeof(column), "%.*s", (int)(eq - happy[k].expect[e]), happy[k].expect[e]);
      got = cell_text(type, &row, column);
      if(strcmp(got, eq + 1))
        unit_fail(__FILE__, __LINE__, "happy[%zu] %s is \"%s\", expected \"%s\"", k, column, got,
                  eq + 1);
    }
    /* The stored row_hash is the one recomputed from the stored row as long
     * as coercion kept every hashed value. */
    CHECK_INT(collate_row_hash(type, &row, scratch, hex), CL_OK);
    if(k < 17 && strcmp(hex, cell_text(type, &row, "row_hash")))
      unit_fail(__FILE__, __LINE__, "happy[%zu] row_hash %s differs from recomputed %s", k,
                cell_text(type, &row, "row_hash"), hex);
    collate_scratch_reset(scratch);
    json_arena_reset(json_test_arena());
  }
  collate_scratch_free(scratch);
}

TEST(collate_pre_images_of_the_derived_vectors)
{
  static const struct {
    const char *type;
    const char *entry;
    const char *pre_image;
  } vectors[] = {
    {"sms_log",
     "{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"message_body\": "
     "\"Jambo people\", \"sms_address\": \"+075 40269 68\", \"sms_type\": 6, \"thread_id\": 32}",
     "123:456:2017-02-22 00:12:06.477000:122:+075 40269 68:2e962e16e56aaed080779ea915252cb2"},
    {"call_log",
     "{\"cached_name\": \"test\", \"call_type\": \"5\", \"datetime\": \"1466176793178\", "
     "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}",
     "123:456:2016-06-17 15:19:53.178000:74:+0724 417 503"},
    {"contact_list", "{\"item_id\": 201338}", "123:456:201338"},
    {"app_packages", "{\"package_name\": \"App. Name\"}", "123:456:app.name"},
    {"call_log", "{\"datetime\": 99999999999999999, \"item_id\": null, \"phone_number\": \"x\"}",
     "123:456:None:None:x"},
  };
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(vectors); k++) {
    const collate_type *type = collate_type_find(vectors[k].type);
    collate_row row;
    collate_entry_outcome outcome;
    char hex[DIGEST_MD5_HEX_LEN + 1];
    to_row(vectors[k].type, vectors[k].entry, 123, "456", scratch, &row, &outcome);
    CHECK(!outcome.rejected);
    digest_md5_hex(vectors[k].pre_image, strlen(vectors[k].pre_image), hex);
    if(strcmp(cell_text(type, &row, "id"), hex))
      unit_fail(__FILE__, __LINE__, "vectors[%zu]: id %s, expected md5(%s) = %s", k,
                cell_text(type, &row, "id"), vectors[k].pre_image, hex);
  }
  collate_scratch_free(scratch);
}

TEST(collate_rejects_what_the_legacy_could_not_collate)
{
  static const struct {
    const char *type;
    const char *entry;
  } rejected[] = {
    {"app_packages", "{\"package_name\": \"\"}"},
    {"app_packages", "{\"package_name\": null}"},
    {"app_packages", "{}"},
    {"app_packages", "{\"package_name\": 5}"},
    {"app_packages", "{\"package_name\": [\"a\"]}"},
    {"app_packages", "{\"package_name\": \"a\\ud800\"}"},
    {"app_packages", "[1]"},
    {"call_log", "{\"phone_number\": \"\", \"item_id\": 1, \"datetime\": 1}"},
    {"call_log", "{\"phone_number\": null, \"item_id\": 1, \"datetime\": 1}"},
    {"call_log", "{\"item_id\": 1, \"datetime\": 1}"},
    {"call_log", "{\"phone_number\": 5, \"item_id\": 1, \"datetime\": 1}"},
    {"call_log", "{\"phone_number\": \"1\", \"datetime\": 1}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1, \"datetime\": null}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1, \"datetime\": \"soon\"}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1, \"datetime\": 1, \"call_type\": \"x\"}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1, \"datetime\": 1, \"duration\": \"15.0\"}"},
    {"call_log", "{\"phone_number\": \"1\", \"item_id\": 1, \"datetime\": 1e25}"},
    {"contact_list", "{\"display_name\": \"x\"}"},
    {"contact_list", "{\"item_id\": 1, \"last_time_contacted\": \"x\"}"},
    {"contact_list", "{\"item_id\": 1, \"display_name\": \"\\udc00\"}"},
    {"sms_log", "{\"datetime\": 1}"},
    {"sms_log", "{\"item_id\": 1}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1, \"message_body\": null}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1, \"message_body\": 5}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1, \"message_body\": \"a\\ud83d\"}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": \"1487722326477\"}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": \"1\"}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": null}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1e20}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": Infinity}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1, \"sms_address\": 7}"},
    {"sms_log", "{\"item_id\": 1, \"datetime\": 1, \"sms_type\": \"sent\"}"},
  };
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(rejected); k++) {
    collate_row row;
    collate_entry_outcome outcome;
    to_row(rejected[k].type, rejected[k].entry, 1, "d", scratch, &row, &outcome);
    if(!outcome.rejected)
      unit_fail(__FILE__, __LINE__, "rejected[%zu] %s was accepted", k, rejected[k].entry);
    else if(!outcome.reason[0])
      unit_fail(__FILE__, __LINE__, "rejected[%zu] has no reason", k);
  }
  collate_scratch_free(scratch);
}

TEST(collate_counts_unexpected_keys_and_coerced_nulls)
{
  collate_scratch *scratch = collate_scratch_create();
  collate_row row;
  collate_entry_outcome outcome;
  to_row("app_packages", "{\"package_name\": \"a\", \"x\": 1, \"package\": 2, \"\": 3}", 1, "d",
         scratch, &row, &outcome);
  CHECK(!outcome.rejected);
  CHECK_INT(outcome.unexpected_keys, 3);
  CHECK_INT(outcome.coerced_nulls, 0);
  to_row("contact_list", "{\"item_id\": [1], \"display_name\": [], \"photo_id\": \"p\"}", 1, "d",
         scratch, &row, &outcome);
  CHECK(!outcome.rejected);
  CHECK_INT(outcome.coerced_nulls, 2);
  collate_scratch_free(scratch);
}

TEST(collate_mark_deleted_rehashes_the_stored_row)
{
  static const struct {
    const char *type;
    const char *entry;
    const char *pre_image; /* of the deleted row's row_hash, "%s" = the id */
  } vectors[] = {
    {"app_packages", "{\"package_name\": \"App. Name\"}", "%s:True"},
    {"call_log",
     "{\"cached_name\": \"test\", \"call_type\": \"5\", \"datetime\": \"1466176793178\", "
     "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}",
     "%s:test:rejected:0724417503:15:True"},
    {"contact_list",
     "{\"display_name\": \"Deno\", \"item_id\": 201338, \"last_time_contacted\": 1510590105792, "
     "\"phone_numbers\": [1, \"a\"], \"times_contacted\": 1}",
     "%s:Deno:2017-11-13 16:21:45.792000:1:[1, \"a\"]:True"},
    {"sms_log", "{\"datetime\": 1, \"item_id\": 7, \"sms_type\": 1}", "%s:inbox:True"},
  };
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(vectors); k++) {
    const collate_type *type = collate_type_find(vectors[k].type);
    collate_row row;
    collate_entry_outcome outcome;
    char pre[256], hex[DIGEST_MD5_HEX_LEN + 1], id[40];
    to_row(vectors[k].type, vectors[k].entry, 123, "456", scratch, &row, &outcome);
    CHECK(!outcome.rejected);
    snprintf(id, sizeof(id), "%s", cell_text(type, &row, "id"));
    CHECK_INT(collate_row_mark_deleted(type, &row, scratch), CL_OK);
    snprintf(pre, sizeof(pre), vectors[k].pre_image, id);
    digest_md5_hex(pre, strlen(pre), hex);
    CHECK_STR(cell_text(type, &row, "is_deleted"), "True");
    if(strcmp(cell_text(type, &row, "row_hash"), hex))
      unit_fail(__FILE__, __LINE__, "vectors[%zu]: row_hash %s, expected md5(%s)", k,
                cell_text(type, &row, "row_hash"), pre);
    CHECK_STR(cell_text(type, &row, "id"), id);
  }
  /* The legacy test vector: id 123fgh. */
  {
    const collate_type *app = collate_type_find("app_packages");
    collate_row row;
    const char *values[] = {"user_id=i:123", "device_id=s:456", "is_deleted=i:0",
                            "package_name=s:app.name", "id=s:123fgh",
                            "row_hash=s:a518d55eec549d7d8a88390e6ee860ef", NULL};
    build_row(app, values, &row);
    CHECK_INT(collate_row_mark_deleted(app, &row, scratch), CL_OK);
    CHECK_STR(cell_text(app, &row, "row_hash"), "da91ef587b2dddc0dd48912ad3295922");
  }
  collate_scratch_free(scratch);
}

TEST(collate_future_datetimes_are_clamped_for_sms_only)
{
  /* legacy §8.4 future_timestamps: user 100, device "1". */
  static const struct {
    const char *datetime, *ts_updated, *expected;
  } rows[] = {
    {"2018-06-05 22:16:45", "2018-06-05 23:16:45", "2018-06-05 22:16:45"},
    {"2021-06-05 22:16:45", "2018-06-05 22:16:45", "2018-06-05 22:16:45"},
    {"2022-06-05 22:16:45", "2018-09-05 22:16:45", "2018-09-05 22:16:45"},
  };
  const collate_type *sms = collate_type_find("sms_log"), *call = collate_type_find("call_log");
  collate_scratch *scratch = collate_scratch_create();
  for(size_t k = 0; k < COUNT(rows); k++) {
    collate_row row, before;
    collate_entry_outcome outcome;
    int64_t dt, ts;
    cl_error err;
    CHECK_OK(utc_parse_iso8601(rows[k].datetime, &dt, &err), &err);
    CHECK_OK(utc_parse_iso8601(rows[k].ts_updated, &ts, &err), &err);
    to_row("sms_log", "{\"datetime\": 1, \"item_id\": 7}", 100, "1", scratch, &row, &outcome);
    row.cells[sms->col_datetime].i = dt;
    row.cells[sms->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
    row.cells[sms->col_ts_updated].i = ts;
    before = row;
    collate_row_clamp_future(sms, &row);
    CHECK_STR(cell_text(sms, &row, "datetime"), rows[k].expected);
    CHECK(row.cells[sms->col_id].s == before.cells[sms->col_id].s);
    CHECK(row.cells[sms->col_row_hash].s == before.cells[sms->col_row_hash].s);
  }
  {
    collate_row row;
    collate_entry_outcome outcome;
    to_row("sms_log", "{\"datetime\": 1e15, \"item_id\": 7}", 100, "1", scratch, &row, &outcome);
    row.cells[sms->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
    row.cells[sms->col_ts_updated].i = 0;
    collate_row_clamp_future(sms, &row);
    CHECK_STR(cell_text(sms, &row, "datetime"), "NULL");
    to_row("call_log", "{\"datetime\": 2000000000, \"item_id\": 7, \"phone_number\": \"1\"}", 100,
           "1", scratch, &row, &outcome);
    row.cells[call->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
    row.cells[call->col_ts_updated].i = 0;
    collate_row_clamp_future(call, &row);
    CHECK_STR(cell_text(call, &row, "datetime"), "2033-05-18 03:33:20");
  }
  collate_scratch_free(scratch);
}

TEST(collate_batch_dates_follow_the_legacy_periods)
{
  static const struct {
    const char *ts, *date;
  } dates[] = {
    {"2015-02-01 10:00:00", "2015-01-01"}, {"2015-05-05 00:00:00", "2015-04-01"},
    {"2015-09-30 23:59:59", "2015-07-01"}, {"2015-12-31 23:59:59.999999", "2015-10-01"},
    {"2016-01-01 00:00:00", "2016-01-01"}, {"2016-02-15 12:00:00", "2016-02-01"},
    {"2017-06-30 23:59:59.999999", "2017-06-01"}, {"2017-07-01 00:00:00", "2017-07-01"},
    {"2017-07-15 08:00:00", "2017-07-15"}, {"2026-11-24 03:00:00", "2026-11-24"},
  };
  for(size_t k = 0; k < COUNT(dates); k++) {
    int64_t micros;
    char date[11];
    cl_error err;
    CHECK_OK(utc_parse_iso8601(dates[k].ts, &micros, &err), &err);
    collate_batch_date(micros, date);
    CHECK_STR(date, dates[k].date);
  }
}

/* ---- Python semantics ---- */

TEST(collate_parse_datetime_matches_python)
{
  static const struct {
    const char *raw;      /* JSON */
    const char *expected; /* Python str(), "None" or "CRASH" */
  } vectors[] = {
    {"1487722326477", "2017-02-22 00:12:06.477000"},
    {"1466176793178", "2016-06-17 15:19:53.178000"},
    {"1510590105792", "2017-11-13 16:21:45.792000"},
    {"1528237005", "2018-06-05 22:16:45"},
    {"1528237005.5", "1970-01-18 16:30:37.005500"}, /* float seconds read as ms */
    {"-1", "1969-12-31 23:59:59"},
    {"-1487722326477", "1922-11-09 23:47:53.523000"},
    {"-999999999", "1938-04-24 22:13:21"},
    {"0", "1970-01-01 00:00:00"},
    {"true", "1970-01-01 00:00:01"},
    {"false", "1970-01-01 00:00:00"},
    {"9999999999", "2286-11-20 17:46:39"},   /* ten characters: seconds */
    {"10000000000", "1970-04-26 17:46:40"},  /* eleven: milliseconds */
    {"253402300799", "1978-01-11 21:31:40.799000"},
    {"253402300799999", "9999-12-31 23:59:59.998993"},
    {"1.5e-06", "1970-01-01 00:00:00.000002"},
    {"2.5e-06", "1970-01-01 00:00:00.000002"},
    {"5e-07", "1970-01-01 00:00:00"},
    {"1.0000005", "1970-01-01 00:00:01.000001"},
    {"-1.5", "1969-12-31 23:59:58.500000"},
    {"1487722326.4775", "1970-01-18 05:15:22.326477"},
    {"1000000000000000.0", "None"},
    {"300000000000000000", "None"},
    {"-62135553600000", "None"}, /* lands on 0001-01-01 */
    {"-62135510400000", "0001-01-02 00:00:00"},
    {"-62135596800001", "None"},
    {"NaN", "None"},
    {"9999999999999999999", "None"},  /* beyond int64, year 316889355 */
    {"-9999999999999999999", "None"},
    {"99999999999999999999", "CRASH"}, /* year beyond the C tm range: OSError */
    {"Infinity", "CRASH"},
    {"-Infinity", "CRASH"},
    {"1e20", "CRASH"},
    {"1e25", "CRASH"},
    {"99999999999999999999999", "CRASH"},
    {"\"1487722326477\"", "CRASH"},
    {"\"1\"", "CRASH"},
    {"null", "CRASH"},
    {"[1]", "CRASH"},
  };
  for(size_t k = 0; k < COUNT(vectors); k++) {
    pyval raw;
    int64_t micros = 0;
    char got[40];
    pyval_from_json(json_test_parse(vectors[k].raw), &raw);
    switch(pydatetime_parse(&raw, &micros)) {
    case PYDT_OK:
      utc_format_python(micros, got, sizeof(got));
      break;
    case PYDT_NONE:
      strcpy(got, "None");
      break;
    case PYDT_CRASH:
      strcpy(got, "CRASH");
      break;
    }
    if(strcmp(got, vectors[k].expected))
      unit_fail(__FILE__, __LINE__, "parse_datetime(%s) = %s, expected %s", vectors[k].raw, got,
                vectors[k].expected);
  }
}

TEST(collate_python_int_matches_python)
{
  static const struct {
    const char *raw;      /* JSON */
    const char *expected; /* str(int(raw)), or the exception name */
  } vectors[] = {
    {"\"15\"", "15"}, {"\" 15 \"", "15"}, {"\"+15\"", "15"}, {"\"-15\"", "-15"},
    {"\"0100\"", "100"}, {"\"1_000\"", "1000"}, {"\"1__0\"", "ValueError"},
    {"\"_1\"", "ValueError"}, {"\"1_\"", "ValueError"}, {"\"15.0\"", "ValueError"},
    {"\"\"", "ValueError"}, {"\" \"", "ValueError"}, {"\"- 1\"", "ValueError"},
    {"\"+\"", "ValueError"}, {"\"0x10\"", "ValueError"}, {"\"1 2\"", "ValueError"},
    {"\"\\u0661\\u0660\\u0660\"", "100"},              /* Arabic-Indic digits */
    {"\"\\u0663\\u0034\"", "34"},                      /* mixed scripts */
    {"\"\\u096a\\u096b\"", "45"},                      /* Devanagari */
    {"\"\\uff11\\uff12\"", "12"},                      /* fullwidth */
    {"\"\\u00a012\\u2003\"", "12"},                    /* Unicode whitespace */
    {"\"\\u00b2\"", "ValueError"},                     /* superscript: No, not Nd */
    {"\"1\\u0000\"", "ValueError"},
    {"\"-0\"", "0"}, {"\"-000\"", "0"},
    {"\"99999999999999999999\"", "99999999999999999999"},
    {"\"-9223372036854775808\"", "-9223372036854775808"},
    {"\"9223372036854775808\"", "9223372036854775808"},
    {"15.9", "15"}, {"-15.9", "-15"}, {"1e20", "100000000000000000000"},
    {"-1e19", "-10000000000000000000"},
    {"1e300", "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786"
              "371375080447864043704443832883878176942523235360430575644792184786706982848387200926"
              "575803737830233794788090059368953234970799945081119038967640880074652742780142494579"
              "258788820056842838115669472196386865459400540160"},
    {"true", "1"}, {"false", "0"}, {"42", "42"}, {"123456789012345678901234567890",
                                                  "123456789012345678901234567890"},
    {"NaN", "ValueError"}, {"Infinity", "OverflowError"}, {"null", "TypeError"},
    {"[]", "TypeError"}, {"{}", "TypeError"},
  };
  buf digits = BUF_INIT, text = BUF_INIT;
  for(size_t k = 0; k < COUNT(vectors); k++) {
    pyval raw, result;
    pyint_status status;
    const char *got;
    pyval_from_json(json_test_parse(vectors[k].raw), &raw);
    buf_clear(&digits);
    buf_clear(&text);
    status = pyint(&raw, &digits, &result);
    if(status == PYINT_OK) {
      pystr_append(&text, &result);
      got = text.data;
    }
    else
      got = status == PYINT_VALUE_ERROR  ? "ValueError"
            : status == PYINT_TYPE_ERROR ? "TypeError"
                                         : "OverflowError";
    if(strcmp(got, vectors[k].expected))
      unit_fail(__FILE__, __LINE__, "int(%s) = %s, expected %s", vectors[k].raw, got,
                vectors[k].expected);
  }
  /* CPython refuses more than 4300 digits. */
  {
    char big[4400 + 3];
    pyval raw = {0}, result;
    memset(big, '7', sizeof(big));
    raw.type = PY_STR;
    raw.s = big;
    raw.len = 4300;
    CHECK_INT(pyint(&raw, &digits, &result), PYINT_OK);
    raw.len = 4301;
    CHECK_INT(pyint(&raw, &digits, &result), PYINT_VALUE_ERROR);
  }
  buf_free(&digits);
  buf_free(&text);
}

TEST(collate_python_str_and_repr_match_python)
{
  static const struct {
    const char *raw, *expected;
  } vectors[] = {
    {"15", "15"}, {"-0", "0"}, {"15.0", "15.0"}, {"1e16", "1e+16"}, {"1.5e-05", "1.5e-05"},
    {"true", "True"}, {"false", "False"}, {"null", "None"}, {"\"abc\"", "abc"},
    {"\"it's\"", "it's"},
    {"[1, \"a\", null, true, 1.5]", "[1, 'a', None, True, 1.5]"},
    {"{\"a\": \"it's\"}", "{'a': \"it's\"}"},
    {"{\"a\": \"it's \\\"x\\\"\"}", "{'a': 'it\\'s \"x\"'}"},
    {"[\"\\n\\t\\\\\", \"\\u00e9\", \"\\u00a0\", \"\\u200b\", \"\\ud83d\\ude00\", \"\\u0000\", "
     "\"\\u007f\", \"\\ud800\", \"\\u0085\", \"\\u2028\", \"\\udb40\\udc01\", \"\\r\"]",
     "['\\n\\t\\\\', '\xc3\xa9', '\\xa0', '\\u200b', '\xf0\x9f\x98\x80', '\\x00', '\\x7f', "
     "'\\ud800', '\\x85', '\\u2028', '\\U000e0001', '\\r']"},
    {"{}", "{}"}, {"[]", "[]"}, {"[[], {\"k\": [1, {\"z\": null}]}]", "[[], {'k': [1, {'z': None}]}]"},
  };
  buf out = BUF_INIT;
  for(size_t k = 0; k < COUNT(vectors); k++) {
    pyval value;
    pyval_from_json(json_test_parse(vectors[k].raw), &value);
    buf_clear(&out);
    CHECK_INT(pystr_append(&out, &value), CL_OK);
    if(strcmp(out.data, vectors[k].expected))
      unit_fail(__FILE__, __LINE__, "str(%s) = %s, expected %s", vectors[k].raw, out.data,
                vectors[k].expected);
  }
  buf_free(&out);
}

TEST(collate_scratch_keeps_rows_until_reset)
{
  collate_scratch *scratch = collate_scratch_create();
  const char *first = collate_scratch_copy(scratch, "abc", 3);
  char big[100000];
  const char *large;
  memset(big, 'x', sizeof(big));
  large = collate_scratch_copy(scratch, big, sizeof(big));
  CHECK_STR(first, "abc");
  CHECK(large && large[sizeof(big)] == '\0' && large[0] == 'x');
  for(int k = 0; k < 100000; k++)
    CHECK(collate_scratch_copy(scratch, "0123456789", 10) != NULL);
  CHECK_STR(first, "abc");
  collate_scratch_reset(scratch);
  CHECK_STR(collate_scratch_copy(scratch, "def", 3), "def");
  collate_scratch_free(scratch);
  collate_scratch_free(NULL);
}
