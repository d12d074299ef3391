/* collate_entries_to_rows against collate_entry_to_row one entry at a time:
 * batches of every size up to past COLLATE_BATCH_MAX, drawn from entries of
 * each log type that are accepted, rejected before their md5s, rejected by
 * a lone surrogate in the id or row_hash pre-image, coerced to nulls, not
 * objects, or of message bodies spanning 1..6 md5 blocks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "collate/logtype.h"
#include "json/json.h"
#include "json_support.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const sms_entries[] = {
  ("{\"contact_id\": 0, \"datetime\": 1487722326477, \"item_id\": 122, \"message_body\": "
   "\"Jambo people\", \"sms_address\": \"+075 40269 68\", \"sms_type\": 6, \"thread_id\": 32}"),
  "{\"item_id\": 1, \"datetime\": 1}",
  "{\"item_id\": 2, \"datetime\": 1, \"message_body\": \"\"}",
  "{\"item_id\": 3, \"datetime\": 1, \"thread_id\": \"x\", \"contact_id\": 1.5}",
  "{\"item_id\": 4, \"datetime\": 1, \"sms_address\": \"\\udc00\"}",
  "{\"item_id\": 5, \"datetime\": 1, \"message_body\": \"a\\ud83d\"}",
  "{\"datetime\": 1}",
  "[1]",
  "7",
  "{\"item_id\": 6, \"datetime\": 1, \"surprise\": true, \"type\": 2}",
  "{\"item_id\": 7, \"datetime\": 99999999999999, \"sms_address\": \"0712 345678\"}",
  "{\"item_id\": 123456789012345678901234567890, \"datetime\": 1}",
  "{\"item_id\": 8, \"datetime\": 1, \"sms_address\": 7}",
  "{\"item_id\": 9, \"datetime\": 1, \"message_body\": \"caf\\u00e9 \\ud83d\\ude00\"}",
};

static const char *const call_entries[] = {
  ("{\"cached_name\": \"test\", \"call_type\": \"5\", \"datetime\": \"1466176793178\", "
   "\"duration\": \"15\", \"item_id\": 74, \"phone_number\": \"+0724 417 503\"}"),
  "{\"phone_number\": \"\", \"item_id\": 1, \"datetime\": 1}",
  "{\"phone_number\": \"\\ud800\", \"item_id\": 1, \"datetime\": 1}",
  "{\"phone_number\": \"1\", \"item_id\": 2, \"datetime\": 1, \"cached_name\": \"\\udfff\"}",
  "{\"phone_number\": \"2\", \"item_id\": 3, \"datetime\": 1, \"cached_name\": 12}",
  "{\"phone_number\": \"3\", \"item_id\": \"4\", \"datetime\": 1}",
};

static const char *const contact_entries[] = {
  ("{\"display_name\": \"Deno\", \"item_id\": 201338, \"last_time_contacted\": 1510590105792, "
   "\"phone_numbers\": [{\"item_id\": 417151, \"phone_number\": \"(072) 947-7015\"}], "
   "\"photo_id\": null, \"times_contacted\": 0}"),
  "{\"item_id\": 1, \"display_name\": \"\\udc00\"}",
  "{\"item_id\": 2, \"display_name\": \"x\", \"times_contacted\": \"many\"}",
  "{\"display_name\": \"x\"}",
};

static const char *const app_entries[] = {
  "{\"package_name\": \"App. Name\"}",
  "{\"package_name\": \"\"}",
  "{\"package_name\": \"a\\ud800\"}",
  "{\"package_name\": \"com.example\"}",
  "{}",
};

/* sms entries whose bodies span every md5 block count of the body_hash and
 * id pre-images. */
static const json_value *sms_body_entry(size_t n)
{
  char text[512];
  size_t body = (n * 37) % 330;
  int at = snprintf(text, sizeof(text), "{\"item_id\": %zu, \"datetime\": %zu, \"message_body\": \"",
                    1000 + n, 1487722326477 + n);
  for(size_t i = 0; i < body; i++)
    text[at++] = (char)('a' + (n + i) % 26);
  snprintf(text + at, sizeof(text) - (size_t)at, "\", \"sms_address\": \"+254 7%02zu\"}", n % 100);
  return json_test_parse(text);
}

static int same_cell(const collate_cell *a, const collate_cell *b)
{
  if(a->type != b->type)
    return 0;
  switch(a->type) {
  case COLLATE_CELL_NULL:
    return 1;
  case COLLATE_CELL_INT:
  case COLLATE_CELL_TIMESTAMP:
    return a->i == b->i;
  case COLLATE_CELL_BYTES:
    return a->len == b->len && !memcmp(a->s, b->s, a->len);
  }
  return 0;
}

/* Every batch size 0..70 of entries drawn from pool (and, for sms, bodies
 * of every length) against one call per entry. */
static void check_type(const char *name, const char *const *texts, size_t text_count)
{
  enum { MOST = 70 };
  const collate_type *type = collate_type_find(name);
  const json_value *pool[40];
  const json_value *entries[MOST];
  static collate_row rows[MOST];
  static collate_entry_outcome outcomes[MOST];
  collate_scratch *batch_scratch = collate_scratch_create();
  collate_scratch *one_scratch = collate_scratch_create();
  size_t pool_count = 0;

  CHECK(type != NULL && batch_scratch && one_scratch);
  if(!type || !batch_scratch || !one_scratch)
    goto done;
  for(size_t k = 0; k < text_count; k++)
    pool[pool_count++] = json_test_parse(texts[k]);
  if(type->id == COLLATE_SMS_LOG)
    while(pool_count < COUNT(pool))
      pool[pool_count] = sms_body_entry(pool_count), pool_count++;

  for(size_t count = 0; count <= MOST; count++) {
    size_t failed = 99;
    for(size_t i = 0; i < count; i++)
      entries[i] = pool[(i * 7 + count) % pool_count];
    collate_scratch_reset(batch_scratch);
    CHECK_INT(collate_entries_to_rows(type, count, entries, 42, "dev", batch_scratch, rows,
                                      outcomes, &failed),
              CL_OK);
    CHECK_INT(failed, 0);
    for(size_t i = 0; i < count; i++) {
      collate_row row;
      collate_entry_outcome outcome;
      collate_scratch_reset(one_scratch);
      CHECK_INT(collate_entry_to_row(type, entries[i], 42, "dev", one_scratch, &row, &outcome),
                CL_OK);
      if(outcome.rejected != outcomes[i].rejected || strcmp(outcome.reason, outcomes[i].reason) ||
         outcome.coerced_nulls != outcomes[i].coerced_nulls ||
         outcome.unexpected_keys != outcomes[i].unexpected_keys) {
        unit_fail(__FILE__, __LINE__, "%s batch of %zu, entry %zu: outcome \"%s\" (%d), alone \"%s\" (%d)",
                  name, count, i, outcomes[i].reason, outcomes[i].rejected, outcome.reason,
                  outcome.rejected);
        continue;
      }
      for(size_t c = 0; c < type->column_count; c++)
        if(!same_cell(&rows[i].cells[c], &row.cells[c]))
          unit_fail(__FILE__, __LINE__, "%s batch of %zu, entry %zu: column %s differs", name,
                    count, i, type->columns[c].name);
    }
  }
done:
  collate_scratch_free(batch_scratch);
  collate_scratch_free(one_scratch);
}

TEST(collate_batch_sms_matches_one_by_one)
{
  check_type("sms_log", sms_entries, COUNT(sms_entries));
}

TEST(collate_batch_call_matches_one_by_one)
{
  check_type("call_log", call_entries, COUNT(call_entries));
}

TEST(collate_batch_contacts_match_one_by_one)
{
  check_type("contact_list", contact_entries, COUNT(contact_entries));
}

TEST(collate_batch_apps_match_one_by_one)
{
  check_type("app_packages", app_entries, COUNT(app_entries));
}

/* The lone-surrogate rejections come from the id and row_hash steps of the
 * batch, next to entries that are hashed. */
TEST(collate_batch_rejects_lone_surrogates_in_pre_images)
{
  const collate_type *sms = collate_type_find("sms_log");
  const collate_type *contacts = collate_type_find("contact_list");
  const json_value *entries[3];
  collate_row rows[3];
  collate_entry_outcome outcomes[3];
  collate_scratch *scratch = collate_scratch_create();
  size_t failed;

  CHECK(scratch != NULL);
  if(!scratch)
    return;
  entries[0] = json_test_parse("{\"item_id\": 1, \"datetime\": 1}");
  entries[1] = json_test_parse("{\"item_id\": 2, \"datetime\": 1, \"sms_address\": \"\\udc00\"}");
  entries[2] = json_test_parse("{\"item_id\": 3, \"datetime\": 1}");
  CHECK_OK(collate_entries_to_rows(sms, 3, entries, 1, "d", scratch, rows, outcomes, &failed),
           NULL);
  CHECK_INT(outcomes[0].rejected, 0);
  CHECK_INT(outcomes[1].rejected, 1);
  CHECK_STR(outcomes[1].reason, "id: a lone surrogate cannot be encoded");
  CHECK_INT(outcomes[2].rejected, 0);
  CHECK_INT(rows[2].cells[sms->col_id].len, 32);

  entries[0] = json_test_parse("{\"item_id\": 1, \"display_name\": \"\\udc00\"}");
  entries[1] = json_test_parse("{\"item_id\": 2, \"display_name\": \"ok\"}");
  CHECK_OK(collate_entries_to_rows(contacts, 2, entries, 1, "d", scratch, rows, outcomes,
                                   &failed),
           NULL);
  CHECK_INT(outcomes[0].rejected, 1);
  CHECK_STR(outcomes[0].reason, "row_hash: a lone surrogate cannot be encoded");
  CHECK_INT(outcomes[1].rejected, 0);
  collate_scratch_free(scratch);
}
