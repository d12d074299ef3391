/* The per-device txt that Rails reads (legacy §5, design.md items 9, 10):
 * the latest version of each id, rendered with json.dumps formatting. Each
 * log type is a row of the specs table below; one generic builder runs it.
 *
 * Memory: an sms or call txt lists every row of the user's history, so its
 * rendered rows are sorted in runs of bounded size, spilled to a temp file
 * and merged. Nothing per row stays in memory: a superseded version of an
 * id shares its key with the later one (the key is made of the datetime
 * and item_id the id is hashed from), so the later one wins that key
 * anyway. The exception is an sms datetime clamped to its ts_updated
 * (legacy §3.5): versions clamped at different times have different keys.
 * So the ids of clamped rows, few and far between, are tracked with their
 * latest row, and only their earlier versions are dropped while merging.
 * The app and contact txts list one device's live rows only: every id is
 * tracked (24 bytes) and the rows are sorted in memory.
 *
 * With a helper thread the merge is cut into key ranges at keys sampled
 * from the runs as they were written, and the two threads take every other
 * range each: merged into memory, written to the sink in turn (or straight
 * to it when its turn has come by the time the range starts). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collate/rowid.h"
#include "core/digest.h"
#include "core/mem.h"
#include "core/stream.h"
#include "core/utctime.h"
#include "core/worker.h"
#include "logtype.h"

typedef enum txt_style {
  TXT_DEVICE_BY_FIRST_SEEN, /* app: this device's live rows, first-appearance order */
  TXT_DEVICE_BY_ITEM,       /* contacts: this device's live rows, item_id ascending */
  TXT_TIMELINE              /* sms, call: every row, "{ms}:{item_id}" descending */
} txt_style;

enum {
  TF_CODE = 1,      /* a code name written as its int code, null when unknown */
  TF_MS = 2,        /* a timestamp written as int(dt.timestamp() * 1000) */
  TF_OMIT_NULL = 4, /* the key is left out when the value is null */
  TF_PHONES = 8     /* JSON text parsed, deduplicated by number, re-dumped */
};

typedef struct txt_field_spec {
  const char *key;    /* output key, also the column name */
  int flags;
} txt_field_spec;

#define TXT_MAX_FIELDS 8

typedef struct txt_spec {
  collate_type_id type;
  txt_style style;
  const char *item_column; /* sort (contacts) and map key (timeline) */
  const char *ms_column;   /* timeline map key */
  size_t field_count;
  txt_field_spec fields[TXT_MAX_FIELDS];
} txt_spec;

static const txt_spec specs[] = {
  {COLLATE_SMS_LOG, TXT_TIMELINE, "item_id", "datetime", 7,
   {{"contact_id", 0}, {"datetime", TF_MS}, {"item_id", 0}, {"message_body", TF_OMIT_NULL},
    {"sms_address", 0}, {"sms_type", TF_CODE}, {"thread_id", 0}}},
  {COLLATE_CALL_LOG, TXT_TIMELINE, "item_id", "datetime", 6,
   {{"cached_name", 0}, {"call_type", TF_CODE}, {"item_id", 0}, {"phone_number", 0},
    {"datetime", TF_MS}, {"duration", 0}}},
  {COLLATE_CONTACT_LIST, TXT_DEVICE_BY_ITEM, "item_id", NULL, 3,
   {{"display_name", 0}, {"item_id", 0}, {"phone_numbers", TF_PHONES}}},
  {COLLATE_APP_PACKAGES, TXT_DEVICE_BY_FIRST_SEEN, NULL, NULL, 1, {{"package_name", 0}}},
};

/* The first and latest row of an id, by row number (from 1; 0 marks an
 * empty slot): of every id for app and contacts, of clamped ids for sms. */
typedef struct txt_id_slot {
  uint8_t id[ROWID_LEN];
  uint32_t first_seq, last_seq;
} txt_id_slot;

/* One rendered row. Its bytes sit in the arena: the id (when it has one, to
 * look it up again at the end), the timeline key, then the object. */
typedef struct txt_record {
  uint64_t key_prefix; /* the key's first 8 bytes big-endian, 0-padded: sorts as the key */
  int64_t item_id;
  size_t offset;
  uint32_t seq, first_seq;
  uint32_t key_len, object_len;
  uint8_t item_null, has_id;
} txt_record;

/* A row rendered and not yet added: what render_row works out from the row
 * alone. The object and then the key sit in a text buffer from offset on. */
typedef struct txt_rendered {
  uint8_t id[ROWID_LEN];
  uint8_t has_id, include, clamped, item_null;
  uint32_t key_len, object_len;
  int64_t item_id;
  size_t offset;
} txt_rendered;

/* A sorted run in the spill file: records as [seq, key_len, object_len,
 * has_id][id, when has_id][key][object], native byte order (the file is
 * this process's). */
#define RUN_HEADER_LEN 13

typedef struct txt_run {
  uint64_t start, end;
  size_t first_sample, samples; /* its records sampled every TXT_SAMPLE_EVERY */
} txt_run;

/* A record of a run, remembered to split the merge into key ranges: where
 * it starts, and its key (in the txt's sample_keys). */
typedef struct txt_sample {
  uint64_t offset;
  size_t key_at;
  uint32_t key_len;
} txt_sample;

/* One record in this many is sampled (~1.4 bytes per record): a range's
 * reader of a run starts at the sample before the range and reads past at
 * most this many records of the range before. */
#define TXT_SAMPLE_EVERY 32

/* A range's share of the runs' bytes, in parts of run_bytes: each thread
 * holds one range's text while it waits for its turn, and the two of them
 * take the place of the run memory, freed by then (a quarter, not the
 * whole: 10 MB onto a 100k-row history peaked at 35 instead of 30 MB). */
#define TXT_RANGE_PART 4

/* Each range reads a piece of every run: past this many runs times ranges
 * (both grow with the txt: 128 runs of 4 MB and 512 ranges), the merge
 * stays on one thread rather than read more and more small pieces. */
#define TXT_MAX_RANGE_PIECES 65536

/* Memory for rendered rows before a timeline txt sorts them and writes them
 * out as a run; the runs are merged at the end. An sms txt lists every row
 * of the history, so without this it would hold the whole history's text. */
#define TXT_DEFAULT_RUN_BYTES (4u << 20)
/* Staging for a sink and for the spill file: written in pieces of this size. */
#define TXT_SINK_CHUNK (256 * 1024)
/* The id table grows past this fill (in tenths): linear probing stays short. */
#define ID_TABLE_FILL 7

struct collate_txt {
  const collate_type *type;
  const txt_spec *spec;
  char *device_id;
  size_t device_len;
  int columns[TXT_MAX_FIELDS];
  /* ", \"key\": " of each field, so that a field costs one append before
   * its value (the first field skips the ", "): four calls per field were
   * a measurable part of rendering an sms row. */
  char field_prefix[TXT_MAX_FIELDS][32];
  size_t field_prefix_len[TXT_MAX_FIELDS];
  int col_item, col_ms;
  uint32_t seq;
  txt_id_slot *ids;
  size_t id_cap, id_count;
  txt_record *records;
  size_t record_count, record_cap;
  buf arena;
  size_t run_bytes;
  int spill_fd;
  uint64_t spill_size;
  txt_run *runs;
  size_t run_count, run_cap;
  txt_sample *samples;
  size_t sample_count, sample_cap;
  buf sample_keys;
  buf text;          /* the row being added by collate_txt_add_row */
  json_arena *json;
  json_limits limits;
};

collate_txt *collate_txt_create(const collate_type *type, const char *device_id)
{
  collate_txt *txt = calloc(1, sizeof(*txt));
  if(!txt)
    return NULL;
  txt->type = type;
  txt->spill_fd = -1;
  txt->run_bytes = TXT_DEFAULT_RUN_BYTES;
  for(size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
    if(specs[k].type == type->id)
      txt->spec = &specs[k];
  txt->device_len = strlen(device_id);
  txt->device_id = malloc(txt->device_len + 1);
  txt->json = json_arena_create(0);
  if(!txt->spec || !txt->device_id || !txt->json) {
    collate_txt_free(txt);
    return NULL;
  }
  memcpy(txt->device_id, device_id, txt->device_len + 1);
  for(size_t f = 0; f < txt->spec->field_count; f++) {
    txt->columns[f] = collate_type_column(type, txt->spec->fields[f].key);
    /* The keys are plain ASCII names: json.dumps writes them as they are. */
    int n = snprintf(txt->field_prefix[f], sizeof(txt->field_prefix[f]), ", \"%s\": ",
                     txt->spec->fields[f].key);
    if(n < 0 || (size_t)n >= sizeof(txt->field_prefix[f])) {
      collate_txt_free(txt);
      return NULL;
    }
    txt->field_prefix_len[f] = (size_t)n;
  }
  txt->col_item = txt->spec->item_column ? collate_type_column(type, txt->spec->item_column) : -1;
  txt->col_ms = txt->spec->ms_column ? collate_type_column(type, txt->spec->ms_column) : -1;
  buf_init(&txt->text, 0);
  buf_init(&txt->arena, 0);
  buf_init(&txt->sample_keys, 0);
  json_limits_default(&txt->limits);
  return txt;
}

void collate_txt_free(collate_txt *txt)
{
  if(!txt)
    return;
  mem_free_table(txt->ids, txt->id_cap, sizeof(*txt->ids));
  free(txt->records);
  free(txt->runs);
  free(txt->samples);
  buf_free(&txt->sample_keys);
  if(txt->spill_fd >= 0)
    close(txt->spill_fd);
  free(txt->device_id);
  buf_free(&txt->arena);
  buf_free(&txt->text);
  json_arena_free(txt->json);
  free(txt);
}

void collate_txt_set_run_bytes(collate_txt *txt, size_t bytes)
{
  txt->run_bytes = bytes;
}

/* Python datetime.timestamp() * 1000, truncated by int(): in doubles. */
static int64_t timestamp_ms(int64_t micros)
{
  int64_t seconds = micros / 1000000, us = micros % 1000000;
  double ts;
  if(us < 0) {
    us += 1000000;
    seconds -= 1;
  }
  ts = (double)seconds + (double)us / 1e6;
  return (int64_t)(ts * 1000.0);
}

static int json_truthy(const json_value *v)
{
  if(!v)
    return 0;
  switch(v->type) {
  case JSON_NULL:
    return 0;
  case JSON_BOOL:
    return v->u.boolean;
  case JSON_INT:
    return !v->u.integer.fits || v->u.integer.value != 0;
  case JSON_FLOAT:
    return v->u.number.value != 0.0;
  case JSON_STRING:
    return v->u.string.len != 0;
  case JSON_ARRAY:
    return v->u.array.count != 0;
  case JSON_OBJECT:
    return v->u.object.count != 0;
  }
  return 0;
}

static double json_number(const json_value *v)
{
  if(!v)
    return 0;
  switch(v->type) {
  case JSON_BOOL:
    return v->u.boolean;
  case JSON_INT:
    return v->u.integer.fits ? (double)v->u.integer.value : strtod(v->u.integer.text, NULL);
  case JSON_FLOAT:
    return v->u.number.value;
  default:
    return 0;
  }
}

/* Python's comparison of two ints, from their canonical decimal text: any
 * size, as Python's ints. */
static int int_compare(const json_value *a, const json_value *b)
{
  int a_neg = a->u.integer.text[0] == '-', b_neg = b->u.integer.text[0] == '-';
  if(a_neg != b_neg)
    return a_neg ? -1 : 1;
  size_t a_len = a->u.integer.text_len, b_len = b->u.integer.text_len;
  int magnitude = a_len != b_len ? (a_len > b_len ? 1 : -1)
                                 : memcmp(a->u.integer.text, b->u.integer.text, a_len);
  magnitude = (magnitude > 0) - (magnitude < 0);
  return a_neg ? -magnitude : magnitude;
}

/* Python's a > b for two phones' item_ids, a missing one counting as 0:
 * ints exactly, strings by code point (UTF-8 byte order), other numbers as
 * floats. Pairs Python cannot order (a string and a number: the legacy txt
 * step raised TypeError) are not greater, so the entry seen first stays. */
static int item_id_greater(const json_value *a, const json_value *b)
{
  static const json_value zero = {.type = JSON_INT, .u.integer = {0, 1, "0", 1}};
  a = a ? a : &zero;
  b = b ? b : &zero;
  if(a->type == JSON_STRING && b->type == JSON_STRING) {
    size_t n = a->u.string.len < b->u.string.len ? a->u.string.len : b->u.string.len;
    int order = memcmp(a->u.string.data, b->u.string.data, n);
    return order > 0 || (!order && a->u.string.len > b->u.string.len);
  }
  int a_num = a->type == JSON_INT || a->type == JSON_FLOAT || a->type == JSON_BOOL;
  int b_num = b->type == JSON_INT || b->type == JSON_FLOAT || b->type == JSON_BOOL;
  if(!a_num || !b_num)
    return 0;
  if(a->type == JSON_INT && b->type == JSON_INT)
    return int_compare(a, b) > 0;
  return json_number(a) > json_number(b);
}

/* Python == of two dict keys, as far as JSON values can make them. */
static int json_key_equal(const json_value *a, const json_value *b)
{
  int a_num = a->type == JSON_INT || a->type == JSON_FLOAT || a->type == JSON_BOOL;
  int b_num = b->type == JSON_INT || b->type == JSON_FLOAT || b->type == JSON_BOOL;
  if(a_num && b_num) {
    if(a->type == JSON_INT && b->type == JSON_INT)
      return a->u.integer.text_len == b->u.integer.text_len &&
             !memcmp(a->u.integer.text, b->u.integer.text, a->u.integer.text_len);
    return json_number(a) == json_number(b);
  }
  if(a->type != b->type)
    return 0;
  if(a->type == JSON_STRING)
    return a->u.string.len == b->u.string.len &&
           !memcmp(a->u.string.data, b->u.string.data, a->u.string.len);
  return 0;
}

static uint64_t key_hash(const json_value *key)
{
  uint64_t h = 1469598103934665603u;
  const unsigned char *p;
  size_t len;
  double number;
  if(key->type == JSON_STRING) {
    p = (const unsigned char *)key->u.string.data;
    len = key->u.string.len;
  }
  else {
    /* Numbers equal in Python (1, 1.0, True) must land together. */
    number = json_number(key);
    if(number == 0)
      number = 0; /* -0.0 */
    p = (const unsigned char *)&number;
    len = sizeof(number);
    h ^= 0x9e3779b97f4a7c15u;
  }
  for(size_t k = 0; k < len; k++)
    h = (h ^ p[k]) * 1099511628211u;
  return h;
}

/* Contacts' phone_numbers: the legacy deduplication by number, keeping the
 * entry with the larger item_id (a missing one counts as 0), in first-seen
 * order, with a hash index like the legacy dict. */
static cl_status render_phones(const collate_txt *txt, json_arena *json, const char *text,
                               size_t len, buf *out)
{
  json_value *parsed = NULL;
  const json_value **keys = NULL, **kept = NULL;
  size_t count = 0, cap = 16, *index = NULL, n;
  cl_status status;

  json_arena_reset(json);
  if(json_parse(text, len, &txt->limits, json, &parsed, NULL) != CL_OK)
    /* Not JSON (a file another writer made): keep the text as it is. */
    return json_write_string(out, text, len, 1);
  if(parsed->type != JSON_ARRAY || !parsed->u.array.count)
    return buf_append(out, "[]", 2);
  n = parsed->u.array.count;
  while(cap < 2 * n)
    cap *= 2;
  keys = malloc(n * sizeof(*keys));
  kept = malloc(n * sizeof(*kept));
  index = calloc(cap, sizeof(*index));
  if(!keys || !kept || !index) {
    free(keys);
    free(kept);
    free(index);
    return CL_ERR_NOMEM;
  }
  for(size_t k = 0; k < n; k++) {
    const json_value *phone = parsed->u.array.items[k], *key;
    size_t at, found = count;
    int hashable;
    if(phone->type != JSON_OBJECT)
      continue;
    key = json_object_get(phone, "normalized_phone_number");
    if(!json_truthy(key))
      key = json_object_get(phone, "phone_number");
    if(!json_truthy(key))
      continue;
    /* Lists and dicts are unhashable in Python: never equal to another key. */
    hashable = key->type != JSON_ARRAY && key->type != JSON_OBJECT;
    at = hashable ? (size_t)key_hash(key) & (cap - 1) : 0;
    while(hashable && index[at]) {
      if(json_key_equal(keys[index[at] - 1], key)) {
        found = index[at] - 1;
        break;
      }
      at = (at + 1) & (cap - 1);
    }
    if(found == count) {
      if(hashable)
        index[at] = count + 1;
      keys[count] = key;
      kept[count++] = phone;
    }
    else if(item_id_greater(json_object_get(phone, "item_id"),
                            json_object_get(kept[found], "item_id")))
      kept[found] = phone;
  }
  buf_putc(out, '[');
  for(size_t j = 0; j < count; j++) {
    if(j)
      buf_append(out, ", ", 2);
    json_dumps(kept[j], out);
  }
  status = buf_putc(out, ']');
  free(keys);
  free(kept);
  free(index);
  return status;
}

/* Decimal of an int64 without printf: a txt renders several per row. */
static cl_status append_int(buf *out, int64_t value)
{
  char digits[24];
  char *end = digits + sizeof(digits), *p = end;
  uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
  do {
    *--p = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while(magnitude);
  if(value < 0)
    *--p = '-';
  return buf_append(out, p, (size_t)(end - p));
}

static cl_status render_value(const collate_txt *txt, json_arena *json,
                              const txt_field_spec *field, int column, const collate_cell *cell,
                              buf *out)
{
  char text[40];
  size_t n;
  int64_t code;
  switch(cell->type) {
  case COLLATE_CELL_NULL:
    return buf_append(out, "null", 4);
  case COLLATE_CELL_INT:
    if(txt->type->columns[column].kind == COLLATE_KIND_BOOL)
      return buf_append_str(out, cell->i ? "true" : "false");
    return append_int(out, cell->i);
  case COLLATE_CELL_TIMESTAMP:
    if(field->flags & TF_MS)
      return append_int(out, timestamp_ms(cell->i));
    n = utc_format_python(cell->i, text, sizeof(text));
    return json_write_string(out, text, n, 1);
  case COLLATE_CELL_BYTES:
    if(field->flags & TF_CODE) {
      if(collate_type_code(txt->type, cell->s, cell->len, &code))
        return append_int(out, code);
      return buf_append(out, "null", 4);
    }
    if((field->flags & TF_PHONES) && cell->len)
      return render_phones(txt, json, cell->s, cell->len, out);
    return json_write_string(out, cell->s, cell->len, 1);
  }
  return buf_status(out);
}

/* Python str() of a map-key part: the value, or "None". */
static void key_part(const collate_cell *cell, int ms, buf *out)
{
  switch(cell->type) {
  case COLLATE_CELL_NULL:
    buf_append(out, "None", 4);
    return;
  case COLLATE_CELL_INT:
    append_int(out, cell->i);
    return;
  case COLLATE_CELL_TIMESTAMP:
    append_int(out, ms ? timestamp_ms(cell->i) : cell->i);
    return;
  case COLLATE_CELL_BYTES:
    buf_append(out, cell->s, cell->len);
    return;
  }
}


/* ---- ids: the first and latest row of each ----------------------------- */

static size_t id_home(const uint8_t id[ROWID_LEN], size_t cap)
{
  /* The top 32 bits of a uniform hash, scaled: any capacity works, so the
   * table can be sized to the rows instead of the next power of two. */
  return (size_t)(((rowid_hash(id) >> 32) * (uint64_t)cap) >> 32);
}

static txt_id_slot *id_probe(txt_id_slot *ids, size_t cap, const uint8_t id[ROWID_LEN])
{
  size_t at = id_home(id, cap);
  while(ids[at].last_seq && memcmp(ids[at].id, id, ROWID_LEN))
    at = at + 1 == cap ? 0 : at + 1;
  return &ids[at];
}

static cl_status id_table_resize(collate_txt *txt, size_t cap)
{
  if(cap > UINT32_MAX)
    return CL_ERR_LIMIT;
  txt_id_slot *ids = mem_calloc_table(cap, sizeof(*ids));
  if(!ids)
    return CL_ERR_NOMEM;
  for(size_t k = 0; k < txt->id_cap; k++)
    if(txt->ids[k].last_seq)
      *id_probe(ids, cap, txt->ids[k].id) = txt->ids[k];
  mem_free_table(txt->ids, txt->id_cap, sizeof(*txt->ids));
  txt->ids = ids;
  txt->id_cap = cap;
  return CL_OK;
}

void collate_txt_reserve(collate_txt *txt, uint64_t rows)
{
  uint64_t cap = rows * 10 / ID_TABLE_FILL + 1;
  /* A hint: without room now, the table grows as rows come. A timeline
   * tracks its clamped ids only: no telling how many. */
  if(txt->spec->style != TXT_TIMELINE && cap > txt->id_cap && cap <= UINT32_MAX)
    (void)id_table_resize(txt, (size_t)cap);
}

/* The slot of this id, created with first_seq = seq when new. */
static cl_status id_seen(collate_txt *txt, const uint8_t id[ROWID_LEN], txt_id_slot **out)
{
  if((txt->id_count + 1) * 10 > txt->id_cap * ID_TABLE_FILL) {
    cl_status status = id_table_resize(txt, txt->id_cap ? txt->id_cap * 2 : 1024);
    if(status)
      return status;
  }
  txt_id_slot *slot = id_probe(txt->ids, txt->id_cap, id);
  if(!slot->last_seq) {
    memcpy(slot->id, id, ROWID_LEN);
    slot->first_seq = txt->seq;
    txt->id_count++;
  }
  *out = slot;
  return CL_OK;
}

/* The slot of a tracked id, or NULL. */
static const txt_id_slot *id_find(const collate_txt *txt, const uint8_t id[ROWID_LEN])
{
  if(!txt->id_count)
    return NULL;
  const txt_id_slot *slot = id_probe(txt->ids, txt->id_cap, id);
  return slot->last_seq ? slot : NULL;
}

/* A clamped sms datetime equals its ts_updated (legacy §3.5 step 2). A raw
 * datetime that happens to equal it only costs a tracked id. */
static int clamped(const collate_txt *txt, const collate_row *row)
{
  const collate_type *type = txt->type;
  if(!type->clamps_future_datetime || type->col_datetime < 0)
    return 0;
  const collate_cell *dt = &row->cells[type->col_datetime];
  const collate_cell *ts = &row->cells[type->col_ts_updated];
  return dt->type == COLLATE_CELL_TIMESTAMP && ts->type == COLLATE_CELL_TIMESTAMP &&
         dt->i == ts->i;
}

/* Every id of a device txt; a timeline's ids from their first clamped row
 * on, so that its slot ends up holding the id's latest row. */
static cl_status track_id(collate_txt *txt, int clamped_row, const uint8_t id[ROWID_LEN],
                          cl_error *err)
{
  txt_id_slot *slot;
  if(txt->spec->style == TXT_TIMELINE && !clamped_row && !id_find(txt, id))
    return CL_OK;
  cl_status status = id_seen(txt, id, &slot);
  if(status)
    return cl_fail(err, status, "txt: ids of %zu rows", txt->id_count);
  slot->last_seq = txt->seq;
  return CL_OK;
}

/* ---- rendered rows --------------------------------------------------------- */

static const char *record_key(const collate_txt *txt, const txt_record *r)
{
  return txt->arena.data + r->offset + (r->has_id ? ROWID_LEN : 0);
}

static const char *record_object(const collate_txt *txt, const txt_record *r)
{
  return record_key(txt, r) + r->key_len;
}

/* The key's 8 bytes from `from` on as a big-endian number, 0-padded: where
 * two keys' first prefixes differ, they order the keys (keys hold no NUL). */
static uint64_t key_prefix(const char *key, size_t len, size_t from)
{
  uint64_t prefix = 0;
  for(size_t k = from; k < from + 8; k++)
    prefix = prefix << 8 | (k < len ? (unsigned char)key[k] : 0);
  return prefix;
}

/* Python str order of two keys (they are ASCII): < 0, 0 or > 0. */
static int key_compare(const char *ka, uint32_t la, const char *kb, uint32_t lb)
{
  int c = memcmp(ka, kb, la < lb ? la : lb);
  if(c)
    return c;
  return la < lb ? -1 : la > lb;
}

/* Timeline order: key descending, then the later row first, so the first
 * live row of each key is the one the legacy map kept. */
static int timeline_order(const char *ka, uint32_t la, uint32_t sa, const char *kb, uint32_t lb,
                          uint32_t sb)
{
  int c = key_compare(ka, la, kb, lb);
  if(c)
    return -c;
  return sa > sb ? -1 : sa < sb;
}

static int by_timeline(const void *a, const void *b, void *context)
{
  const txt_record *x = a, *y = b;
  const collate_txt *txt = context;
  /* Most keys differ in their first 8 bytes: settle those without memcmp. */
  if(x->key_prefix != y->key_prefix)
    return x->key_prefix > y->key_prefix ? -1 : 1;
  return timeline_order(record_key(txt, x), x->key_len, x->seq, record_key(txt, y), y->key_len,
                        y->seq);
}

static int by_item(const void *a, const void *b)
{
  const txt_record *x = *(const txt_record *const *)a, *y = *(const txt_record *const *)b;
  if(x->item_null != y->item_null)
    return x->item_null ? -1 : 1;
  if(x->item_id != y->item_id)
    return x->item_id < y->item_id ? -1 : 1;
  return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static int by_first_seen(const void *a, const void *b)
{
  const txt_record *x = *(const txt_record *const *)a, *y = *(const txt_record *const *)b;
  return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static cl_status write_all(int fd, const char *data, size_t len, cl_error *err)
{
  while(len) {
    ssize_t n = write(fd, data, len);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0)
      return cl_fail(err, CL_ERR_IO, "txt: writing a sorted run: %s", strerror(errno));
    data += n;
    len -= (size_t)n;
  }
  return CL_OK;
}

/* Remembers the record that starts at offset of the spill file. */
static cl_status sample_add(collate_txt *txt, txt_run *run, uint64_t offset,
                            const txt_record *r, cl_error *err)
{
  cl_status status = MEM_GROW_ARRAY(txt->samples, &txt->sample_cap, txt->sample_count + 1, 256);
  if(status)
    return cl_fail(err, status, "txt: out of memory");
  txt_sample *sample = &txt->samples[txt->sample_count++];
  sample->offset = offset;
  sample->key_at = txt->sample_keys.len;
  sample->key_len = r->key_len;
  buf_append(&txt->sample_keys, record_key(txt, r), r->key_len);
  run->samples++;
  status = buf_status(&txt->sample_keys);
  return status ? cl_fail(err, status, "txt: out of memory") : CL_OK;
}

/* The rows in memory, sorted, appended to the spill file as one run. */
static cl_status spill_run(collate_txt *txt, cl_error *err)
{
  cl_status status = CL_OK;
  buf out = BUF_INIT;
  if(txt->spill_fd < 0) {
    status = stream_temp_fd(&txt->spill_fd, err);
    if(status)
      return status;
  }
  status = MEM_GROW_ARRAY(txt->runs, &txt->run_cap, txt->run_count + 1, 16);
  if(status)
    return cl_fail(err, status, "txt: out of memory");
  qsort_r(txt->records, txt->record_count, sizeof(*txt->records), by_timeline, txt);
  txt_run *run = &txt->runs[txt->run_count++];
  run->start = run->end = txt->spill_size;
  run->first_sample = txt->sample_count;
  run->samples = 0;
  for(size_t k = 0; k < txt->record_count && !status; k++) {
    const txt_record *r = &txt->records[k];
    if(k % TXT_SAMPLE_EVERY == 0)
      status = sample_add(txt, run, run->end + out.len, r, err);
    char header[RUN_HEADER_LEN];
    memcpy(header, &r->seq, 4);
    memcpy(header + 4, &r->key_len, 4);
    memcpy(header + 8, &r->object_len, 4);
    header[12] = (char)r->has_id;
    buf_append(&out, header, sizeof(header));
    buf_append(&out, txt->arena.data + r->offset,
               (r->has_id ? ROWID_LEN : 0) + (size_t)r->key_len + r->object_len);
    if(out.len >= TXT_SINK_CHUNK || k + 1 == txt->record_count) {
      status = buf_status(&out);
      if(status)
        status = cl_fail(err, status, "txt: out of memory");
      else
        status = write_all(txt->spill_fd, out.data, out.len, err);
      run->end += out.len;
      buf_clear(&out);
    }
  }
  buf_free(&out);
  txt->spill_size = run->end;
  txt->record_count = 0;
  buf_clear(&txt->arena);
  return status;
}

static cl_status record_add(collate_txt *txt, const txt_rendered *rendered, const char *text,
                            cl_error *err)
{
  cl_status status = MEM_GROW_ARRAY(txt->records, &txt->record_cap, txt->record_count + 1, 256);
  if(status)
    return cl_fail(err, status, "txt: out of memory");
  const char *object = text + rendered->offset, *key = object + rendered->object_len;
  txt_record *r = &txt->records[txt->record_count];
  memset(r, 0, sizeof(*r));
  r->offset = txt->arena.len;
  r->seq = r->first_seq = txt->seq;
  r->has_id = rendered->has_id;
  r->item_null = rendered->item_null;
  r->item_id = rendered->item_id;
  r->key_len = rendered->key_len;
  r->object_len = rendered->object_len;
  if(rendered->has_id)
    buf_append(&txt->arena, rendered->id, ROWID_LEN);
  buf_append(&txt->arena, key, rendered->key_len);
  buf_append(&txt->arena, object, rendered->object_len);
  if(buf_status(&txt->arena))
    return cl_fail(err, buf_status(&txt->arena), "txt: out of memory");
  r->key_prefix = key_prefix(key, rendered->key_len, 0);
  txt->record_count++;
  if(txt->spec->style == TXT_TIMELINE &&
     txt->arena.len + txt->record_count * sizeof(txt_record) >= txt->run_bytes)
    return spill_run(txt, err);
  return CL_OK;
}

/* Everything about a row that needs only the txt's settings, so that it
 * can run on another thread than the one adding rows: the object and its
 * key appended to text, in that order. json is this thread's arena. */
static cl_status render_row(const collate_txt *txt, json_arena *json, const collate_row *row,
                            txt_rendered *out, buf *text, cl_error *err)
{
  const collate_type *type = txt->type;
  const collate_cell *device = &row->cells[type->col_device_id];
  const collate_cell *deleted = &row->cells[type->col_is_deleted];
  const collate_cell *id_cell = &row->cells[type->col_id];
  int first = 1;

  memset(out, 0, sizeof(*out));
  out->offset = text->len;
  out->item_null = 1;
  /* A row without an id (not one we wrote) is never merged with another. */
  out->has_id = id_cell->type == COLLATE_CELL_BYTES && id_cell->len == DIGEST_MD5_HEX_LEN;
  if(out->has_id)
    rowid_from_cell(id_cell, out->id);
  out->clamped = (uint8_t)clamped(txt, row);
  if(txt->spec->style == TXT_TIMELINE)
    out->include = 1;
  else
    out->include = device->type == COLLATE_CELL_BYTES && device->len == txt->device_len &&
                   !memcmp(device->s, txt->device_id, device->len) &&
                   !(deleted->type == COLLATE_CELL_INT && deleted->i);
  /* Only included rows are ever written: another device's or a deleted
   * contact costs no rendering, and leaves its id's earlier rows out. */
  if(!out->include)
    return CL_OK;
  if(txt->col_item >= 0) {
    const collate_cell *item = &row->cells[txt->col_item];
    out->item_null = item->type != COLLATE_CELL_INT;
    out->item_id = item->type == COLLATE_CELL_INT ? item->i : 0;
  }

  buf_putc(text, '{');
  for(size_t f = 0; f < txt->spec->field_count; f++) {
    const txt_field_spec *field = &txt->spec->fields[f];
    int column = txt->columns[f];
    const collate_cell *cell = &row->cells[column];
    if((field->flags & TF_OMIT_NULL) && cell->type == COLLATE_CELL_NULL)
      continue;
    size_t skip = first ? 2 : 0;
    first = 0;
    buf_append(text, txt->field_prefix[f] + skip, txt->field_prefix_len[f] - skip);
    cl_status status = render_value(txt, json, field, column, cell, text);
    if(status)
      return cl_fail(err, status, "txt: rendering %s failed", field->key);
  }
  buf_putc(text, '}');
  size_t object_end = text->len;
  if(txt->spec->style == TXT_TIMELINE) {
    key_part(&row->cells[txt->col_ms], 1, text);
    buf_putc(text, ':');
    key_part(&row->cells[txt->col_item], 0, text);
  }
  if(buf_status(text))
    return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  if(object_end - out->offset > UINT32_MAX || text->len - object_end > UINT32_MAX)
    return cl_fail(err, CL_ERR_LIMIT, "txt: a row of %zu bytes", object_end - out->offset);
  out->object_len = (uint32_t)(object_end - out->offset);
  out->key_len = (uint32_t)(text->len - object_end);
  return CL_OK;
}

/* The rendered row, added: the part that depends on the rows before it. */
static cl_status add_rendered(collate_txt *txt, const txt_rendered *rendered, const char *text,
                              cl_error *err)
{
  if(txt->seq == UINT32_MAX - 1)
    return cl_fail(err, CL_ERR_LIMIT, "txt: more than %u rows", UINT32_MAX - 1);
  txt->seq++;
  if(rendered->has_id) {
    cl_status status = track_id(txt, rendered->clamped, rendered->id, err);
    if(status)
      return status;
  }
  if(!rendered->include)
    return CL_OK;
  return record_add(txt, rendered, text, err);
}

cl_status collate_txt_add_row(collate_txt *txt, const collate_row *row, cl_error *err)
{
  txt_rendered rendered;
  buf_clear(&txt->text);
  cl_status status = render_row(txt, txt->json, row, &rendered, &txt->text, err);
  if(status)
    return status;
  return add_rendered(txt, &rendered, txt->text.data, err);
}

struct collate_txt_batch {
  txt_rendered *rows;
  size_t count, cap;
  buf text;
  json_arena *json;
};

collate_txt_batch *collate_txt_batch_create(void)
{
  collate_txt_batch *batch = calloc(1, sizeof(*batch));
  if(!batch)
    return NULL;
  batch->json = json_arena_create(0);
  if(!batch->json) {
    free(batch);
    return NULL;
  }
  buf_init(&batch->text, 0);
  return batch;
}

void collate_txt_batch_free(collate_txt_batch *batch)
{
  if(!batch)
    return;
  free(batch->rows);
  buf_free(&batch->text);
  json_arena_free(batch->json);
  free(batch);
}

cl_status collate_txt_batch_render(const collate_txt *txt, collate_txt_batch *batch,
                                   const collate_row *row, cl_error *err)
{
  cl_status status = MEM_GROW_ARRAY(batch->rows, &batch->cap, batch->count + 1, 256);
  if(status)
    return cl_fail(err, status, "txt: out of memory");
  status = render_row(txt, batch->json, row, &batch->rows[batch->count], &batch->text, err);
  if(status)
    return status;
  batch->count++;
  return CL_OK;
}

cl_status collate_txt_add_batch(collate_txt *txt, collate_txt_batch *batch, cl_error *err)
{
  cl_status status = CL_OK;
  for(size_t r = 0; r < batch->count && !status; r++)
    status = add_rendered(txt, &batch->rows[r], batch->text.data, err);
  batch->count = 0;
  buf_clear(&batch->text);
  return status;
}

uint32_t collate_txt_columns(const collate_txt *txt)
{
  const collate_type *type = txt->type;
  uint32_t columns = UINT32_C(1) << type->col_id | UINT32_C(1) << type->col_device_id |
                     UINT32_C(1) << type->col_is_deleted;
  for(size_t f = 0; f < txt->spec->field_count; f++)
    if(txt->columns[f] >= 0)
      columns |= UINT32_C(1) << txt->columns[f];
  if(txt->col_item >= 0)
    columns |= UINT32_C(1) << txt->col_item;
  if(txt->col_ms >= 0)
    columns |= UINT32_C(1) << txt->col_ms;
  if(type->clamps_future_datetime)
    columns |= UINT32_C(1) << type->col_ts_updated;
  return columns;
}

/* ---- the text ---------------------------------------------------------------- */

/* The array's text on its way to a sink, in pieces of about TXT_SINK_CHUNK;
 * a timeline writes the first live row of each key only. Without a sink
 * (a range merged on the helper) the text is held whole in pending. */
typedef struct txt_emitter {
  stream_sink sink;
  buf pending, last_key;
  size_t written;
  int timeline;
} txt_emitter;

static cl_status emitter_flush(txt_emitter *out, cl_error *err)
{
  cl_status status = buf_status(&out->pending);
  if(status)
    return cl_fail(err, status, "txt: output buffer");
  if(out->pending.len)
    status = out->sink.write(out->sink.ctx, out->pending.data, out->pending.len, err);
  buf_clear(&out->pending);
  return status;
}

static cl_status emit(txt_emitter *out, const char *key, uint32_t key_len, const char *object,
                      uint32_t object_len, cl_error *err)
{
  if(out->timeline) {
    if(out->written && out->last_key.len == key_len && !memcmp(out->last_key.data, key, key_len))
      return CL_OK;
    buf_clear(&out->last_key);
    buf_append(&out->last_key, key, key_len);
  }
  if(out->written++)
    buf_append(&out->pending, ", ", 2);
  else
    buf_putc(&out->pending, '[');
  buf_append(&out->pending, object, object_len);
  if(out->sink.write && out->pending.len >= TXT_SINK_CHUNK)
    return emitter_flush(out, err);
  return CL_OK;
}

/* Live = not superseded by a later row of a tracked id. */
static int is_live(const collate_txt *txt, const char *id, uint32_t seq)
{
  if(!id)
    return 1;
  const txt_id_slot *slot = id_find(txt, (const uint8_t *)id);
  return !slot || slot->last_seq == seq;
}

/* One run of the spill file being merged: its current record points into
 * data, valid until the run moves on. */
typedef struct run_reader {
  uint64_t pos, end;
  uint64_t key_prefix[2]; /* the key's bytes 0-7 and 8-15 (see key_prefix) */
  char *data;
  size_t cap, start, len;
  uint32_t seq, key_len, object_len;
  const char *id, *key, *object;
} run_reader;

#define RUN_READ_BYTES (64 * 1024)

/* At least need bytes buffered from start, or CL_ERR_INTERNAL: the run was
 * written by this process and must be whole. */
static cl_status run_fill(int fd, run_reader *r, size_t need, cl_error *err)
{
  if(r->len - r->start >= need)
    return CL_OK;
  if(r->start) {
    memmove(r->data, r->data + r->start, r->len - r->start);
    r->len -= r->start;
    r->start = 0;
  }
  if(need > r->cap) {
    size_t cap = r->cap ? 2 * r->cap : RUN_READ_BYTES;
    if(cap < need)
      cap = need;
    char *data = realloc(r->data, cap);
    if(!data)
      return cl_fail(err, CL_ERR_NOMEM, "txt: a row of %zu bytes", need);
    r->data = data;
    r->cap = cap;
  }
  while(r->len < need) {
    size_t room = r->cap - r->len;
    if(room > r->end - r->pos)
      room = (size_t)(r->end - r->pos);
    if(!room)
      return cl_fail(err, CL_ERR_INTERNAL, "txt: a sorted run ends inside a row");
    ssize_t n = pread(fd, r->data + r->len, room, (off_t)r->pos);
    if(n < 0 && errno == EINTR)
      continue;
    if(n <= 0)
      return cl_fail(err, CL_ERR_IO, "txt: reading a sorted run: %s",
                     n < 0 ? strerror(errno) : "unexpected end of file");
    r->len += (size_t)n;
    r->pos += (uint64_t)n;
  }
  return CL_OK;
}

/* The run's next record; *more = 0 at its end. */
static cl_status run_next(int fd, run_reader *r, int *more, cl_error *err)
{
  r->start += r->key ? RUN_HEADER_LEN + (r->id ? ROWID_LEN : 0) + (size_t)r->key_len +
                        r->object_len
                      : 0;
  r->id = r->key = r->object = NULL;
  *more = r->start < r->len || r->pos < r->end;
  if(!*more)
    return CL_OK;
  cl_status status = run_fill(fd, r, RUN_HEADER_LEN, err);
  if(status)
    return status;
  const char *h = r->data + r->start;
  memcpy(&r->seq, h, 4);
  memcpy(&r->key_len, h + 4, 4);
  memcpy(&r->object_len, h + 8, 4);
  size_t id_len = h[12] ? ROWID_LEN : 0;
  status = run_fill(fd, r, RUN_HEADER_LEN + id_len + (size_t)r->key_len + r->object_len, err);
  if(status)
    return status;
  r->id = id_len ? r->data + r->start + RUN_HEADER_LEN : NULL;
  r->key = r->data + r->start + RUN_HEADER_LEN + id_len;
  r->object = r->key + r->key_len;
  r->key_prefix[0] = key_prefix(r->key, r->key_len, 0);
  r->key_prefix[1] = key_prefix(r->key, r->key_len, 8);
  return CL_OK;
}

static int run_before(const run_reader *a, const run_reader *b)
{
  /* Two memcmp calls per row were a tenth of the merge's time. The runs'
   * heads are close in time once runs overlap (an update's history), so
   * their first 8 bytes (of 13 milliseconds digits) are mostly the same. */
  for(int k = 0; k < 2; k++)
    if(a->key_prefix[k] != b->key_prefix[k])
      return a->key_prefix[k] > b->key_prefix[k];
  return timeline_order(a->key, a->key_len, a->seq, b->key, b->key_len, b->seq) < 0;
}

/* Restores the heap (of run indexes, first record first) below slot k. */
static void heap_down(size_t *heap, size_t n, const run_reader *runs, size_t k)
{
  for(;;) {
    size_t l = 2 * k + 1, r = l + 1, best = k;
    if(l < n && run_before(&runs[heap[l]], &runs[heap[best]]))
      best = l;
    if(r < n && run_before(&runs[heap[r]], &runs[heap[best]]))
      best = r;
    if(best == k)
      return;
    size_t t = heap[k];
    heap[k] = heap[best];
    heap[best] = t;
    k = best;
  }
}

/* The keys k with lower < k <= upper (Python str order; NULL: no end).
 * Each run holds a range's records one after the other. */
typedef struct merge_range {
  const char *upper, *lower;
  uint32_t upper_len, lower_len;
} merge_range;

/* A merge's readers of every run, reused from one range to the next. */
typedef struct run_merge {
  run_reader *runs;
  size_t *heap;
  size_t count;
} run_merge;

static cl_status run_merge_init(run_merge *m, size_t runs, cl_error *err)
{
  m->count = runs;
  m->runs = calloc(runs, sizeof(*m->runs));
  m->heap = calloc(runs, sizeof(*m->heap));
  return m->runs && m->heap ? CL_OK : cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
}

static void run_merge_free(run_merge *m)
{
  for(size_t k = 0; m->runs && k < m->count; k++)
    free(m->runs[k].data);
  free(m->runs);
  free(m->heap);
}

/* The first of the run's samples whose key is at or below key. */
static size_t sample_at_or_below(const collate_txt *txt, const txt_run *run, const char *key,
                                 uint32_t key_len)
{
  const txt_sample *samples = txt->samples + run->first_sample;
  size_t lo = 0, hi = run->samples;
  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *at = txt->sample_keys.data + samples[mid].key_at;
    if(key_compare(at, samples[mid].key_len, key, key_len) <= 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Where the run's records of the range lie, give or take: from the last
 * sample above the range (or the run's start) to the first sample below it
 * (or the run's end). range_next skips the records outside. */
static void range_piece(const collate_txt *txt, const txt_run *run, const merge_range *range,
                        run_reader *r)
{
  const txt_sample *samples = txt->samples + run->first_sample;
  r->pos = run->start;
  r->end = run->end;
  if(range->upper) {
    size_t first = sample_at_or_below(txt, run, range->upper, range->upper_len);
    if(first)
      r->pos = samples[first - 1].offset;
  }
  if(range->lower) {
    size_t below = sample_at_or_below(txt, run, range->lower, range->lower_len);
    if(below < run->samples)
      r->end = samples[below].offset;
  }
}

/* The run's next record in the range; *more = 0 past its end. */
static cl_status range_next(int fd, run_reader *r, const merge_range *range, int *more,
                            cl_error *err)
{
  for(;;) {
    cl_status status = run_next(fd, r, more, err);
    if(status || !*more)
      return status;
    if(range->lower && key_compare(r->key, r->key_len, range->lower, range->lower_len) <= 0) {
      *more = 0;
      return CL_OK;
    }
    if(!range->upper || key_compare(r->key, r->key_len, range->upper, range->upper_len) <= 0)
      return CL_OK;
  }
}

static cl_status merge_range_to(const collate_txt *txt, run_merge *m, const merge_range *range,
                                txt_emitter *out, cl_error *err)
{
  size_t live = 0;
  size_t *heap = m->heap;
  cl_status status = CL_OK;
  for(size_t k = 0; k < m->count && !status; k++) {
    run_reader *r = &m->runs[k];
    int more;
    r->start = r->len = 0;
    r->id = r->key = r->object = NULL;
    range_piece(txt, &txt->runs[k], range, r);
    status = range_next(txt->spill_fd, r, range, &more, err);
    if(!status && more)
      heap[live++] = k;
  }
  for(size_t k = live / 2; k-- > 0 && !status;)
    heap_down(heap, live, m->runs, k);
  while(live && !status) {
    run_reader *r = &m->runs[heap[0]];
    int more;
    if(is_live(txt, r->id, r->seq))
      status = emit(out, r->key, r->key_len, r->object, r->object_len, err);
    if(!status)
      status = range_next(txt->spill_fd, r, range, &more, err);
    if(!status && !more)
      heap[0] = heap[--live];
    heap_down(heap, live, m->runs, 0);
  }
  return status;
}

/* A range's text, written after what out wrote before. held was merged
 * without a sink, every row after a ", " (see merge_held): the first one's
 * is mended into the "[" when nothing came before. */
static cl_status emit_held(txt_emitter *out, const txt_emitter *held, cl_error *err)
{
  size_t rows = held->written - 1;
  if(!rows)
    return CL_OK;
  cl_status status = emitter_flush(out, err);
  const char *text = held->pending.data;
  size_t len = held->pending.len;
  if(!status && !out->written) {
    text += 2;
    len -= 2;
    status = out->sink.write(out->sink.ctx, "[", 1, err);
  }
  if(!status)
    status = out->sink.write(out->sink.ctx, text, len, err);
  out->written += rows;
  buf_clear(&out->last_key);
  buf_append(&out->last_key, held->last_key.data, held->last_key.len);
  return status;
}

static int by_sample_key(const void *a, const void *b, void *context)
{
  const collate_txt *txt = context;
  const txt_sample *x = *(const txt_sample *const *)a, *y = *(const txt_sample *const *)b;
  return -key_compare(txt->sample_keys.data + x->key_at, x->key_len,
                      txt->sample_keys.data + y->key_at, y->key_len);
}

/* Ranges of about run_bytes / TXT_RANGE_PART each, cut at sampled keys:
 * *count of them, in output order; *out = NULL and *count = 1 when the
 * merge stays whole. */
static cl_status merge_ranges(const collate_txt *txt, merge_range **out, size_t *count,
                              cl_error *err)
{
  size_t n = txt->sample_count, range_bytes = txt->run_bytes / TXT_RANGE_PART;
  uint64_t want = txt->spill_size / (range_bytes ? range_bytes : 1) + 1;
  *out = NULL;
  *count = 1;
  if(want > n)
    want = n;
  if(want < 2 || want * txt->run_count > TXT_MAX_RANGE_PIECES)
    return CL_OK;
  const txt_sample **order = malloc(n * sizeof(*order));
  merge_range *ranges = calloc(want, sizeof(*ranges));
  if(!order || !ranges) {
    free(order);
    free(ranges);
    return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  }
  for(size_t k = 0; k < n; k++)
    order[k] = &txt->samples[k];
  qsort_r(order, n, sizeof(*order), by_sample_key, (void *)txt);
  size_t ranges_count = 1;
  for(size_t j = 1; j < want; j++) {
    const txt_sample *cut = order[(uint64_t)j * n / want];
    const char *key = txt->sample_keys.data + cut->key_at;
    merge_range *last = &ranges[ranges_count - 1];
    /* Equal keys stay in one range: a cut equal to the one before is none. */
    if(last->upper && !key_compare(key, cut->key_len, last->upper, last->upper_len))
      continue;
    last->lower = key;
    last->lower_len = cut->key_len;
    ranges[ranges_count].upper = key;
    ranges[ranges_count].upper_len = cut->key_len;
    ranges_count++;
  }
  free(order);
  *out = ranges;
  *count = ranges_count;
  return CL_OK;
}

/* Whose turn it is to write: range j is written once ranges 0 to j - 1
 * are. A thread that fails stops the other's waiting. */
typedef struct merge_turns {
  pthread_mutex_t lock;
  pthread_cond_t moved;
  size_t written;
  int stopped;
} merge_turns;

enum { TURN_LATER, TURN_NOW, TURN_NEVER };

/* Whether range j may be written now, later, or never (the other thread
 * failed); with wait, blocks while it is later. */
static int turn_of(merge_turns *turns, size_t j, int wait)
{
  pthread_mutex_lock(&turns->lock);
  while(wait && turns->written != j && !turns->stopped)
    pthread_cond_wait(&turns->moved, &turns->lock);
  int turn = turns->stopped ? TURN_NEVER : turns->written == j ? TURN_NOW : TURN_LATER;
  pthread_mutex_unlock(&turns->lock);
  return turn;
}

/* After range j is written, or (failed) never will be. */
static void turn_pass(merge_turns *turns, size_t j, int failed)
{
  pthread_mutex_lock(&turns->lock);
  if(failed)
    turns->stopped = 1;
  else
    turns->written = j + 1;
  pthread_cond_broadcast(&turns->moved);
  pthread_mutex_unlock(&turns->lock);
}

/* One thread's share of a merge cut into ranges: every other range. Each
 * thread writes the ranges it merges, in turn: straight to the sink when
 * the turn is already there as the range starts, else merged into held
 * and written when it comes. Writing a range (a copy into the page cache)
 * took as long as merging it on the VM measured, so one thread writing
 * both threads' ranges kept the other idle half the time. */
typedef struct range_share {
  const collate_txt *txt;
  const merge_range *ranges;
  size_t count, first;
  merge_turns *turns;
  txt_emitter *out; /* shared: used only by the thread whose turn it is */
  txt_emitter held;
  run_merge readers;
} range_share;

static cl_status merge_held(range_share *share, const merge_range *range, cl_error *err)
{
  buf_clear(&share->held.pending);
  buf_clear(&share->held.last_key);
  /* As if a row came before: every row gets its ", ". The empty last_key
   * matches no row's key, which always holds the ':' of "{ms}:{item_id}". */
  share->held.written = 1;
  cl_status status = merge_range_to(share->txt, &share->readers, range, &share->held, err);
  if(!status && buf_status(&share->held.pending))
    status = cl_fail(err, buf_status(&share->held.pending), "txt: out of memory");
  return status;
}

static cl_status range_share_run(void *ctx, cl_error *err)
{
  range_share *share = ctx;
  cl_status status = CL_OK;
  for(size_t j = share->first; j < share->count && !status; j += 2) {
    int turn = turn_of(share->turns, j, 0);
    if(turn == TURN_NOW) {
      status = merge_range_to(share->txt, &share->readers, &share->ranges[j], share->out, err);
    } else if(turn == TURN_LATER) {
      status = merge_held(share, &share->ranges[j], err);
      if(!status)
        turn = turn_of(share->turns, j, 1);
      if(!status && turn == TURN_NOW)
        status = emit_held(share->out, &share->held, err);
    }
    if(turn == TURN_NEVER)
      return CL_OK; /* the other thread failed: its status tells */
    turn_pass(share->turns, j, status != CL_OK);
  }
  return status;
}

static void range_share_free(range_share *share)
{
  run_merge_free(&share->readers);
  buf_free(&share->held.pending);
  buf_free(&share->held.last_key);
}

/* Ranges 0, 2, 4... merged on this thread, 1, 3, 5... on the helper. */
static cl_status merge_runs_parallel(collate_txt *txt, worker *helper, const merge_range *ranges,
                                     size_t count, txt_emitter *out, cl_error *err)
{
  merge_turns turns;
  range_share shares[2];
  memset(&turns, 0, sizeof(turns));
  memset(shares, 0, sizeof(shares));
  pthread_mutex_init(&turns.lock, NULL);
  pthread_cond_init(&turns.moved, NULL);
  cl_status status = CL_OK;
  for(size_t k = 0; k < 2; k++) {
    range_share *share = &shares[k];
    share->txt = txt;
    share->ranges = ranges;
    share->count = count;
    share->first = k;
    share->turns = &turns;
    share->out = out;
    share->held.timeline = 1;
    if(!status)
      status = run_merge_init(&share->readers, txt->run_count, err);
  }
  if(!status)
    status = worker_submit(helper, range_share_run, &shares[1], err);
  if(!status) {
    status = range_share_run(&shares[0], err);
    cl_status helped = worker_wait(helper, status ? NULL : err);
    if(!status)
      status = helped;
  }
  for(size_t k = 0; k < 2; k++)
    range_share_free(&shares[k]);
  pthread_cond_destroy(&turns.moved);
  pthread_mutex_destroy(&turns.lock);
  return status;
}

static cl_status merge_runs(collate_txt *txt, worker *helper, txt_emitter *out, cl_error *err)
{
  merge_range *ranges = NULL;
  size_t count = 1;
  cl_status status = helper ? merge_ranges(txt, &ranges, &count, err) : CL_OK;
  if(!status && count > 1) {
    status = merge_runs_parallel(txt, helper, ranges, count, out, err);
  } else if(!status) {
    merge_range whole = {NULL, NULL, 0, 0};
    run_merge m;
    memset(&m, 0, sizeof(m));
    status = run_merge_init(&m, txt->run_count, err);
    if(!status)
      status = merge_range_to(txt, &m, &whole, out, err);
    run_merge_free(&m);
  }
  free(ranges);
  return status;
}

static cl_status finish_timeline(collate_txt *txt, worker *helper, txt_emitter *out,
                                 cl_error *err)
{
  cl_status status = CL_OK;
  if(txt->run_count) {
    if(txt->record_count)
      status = spill_run(txt, err);
    /* No row comes any more: the run's memory goes to the merge's. */
    buf_free(&txt->arena);
    free(txt->records);
    txt->records = NULL;
    txt->record_cap = 0;
    if(!status)
      status = merge_runs(txt, helper, out, err);
    return status;
  }
  size_t kept = 0;
  for(size_t k = 0; k < txt->record_count; k++) {
    const txt_record *r = &txt->records[k];
    if(is_live(txt, r->has_id ? txt->arena.data + r->offset : NULL, r->seq))
      txt->records[kept++] = *r;
  }
  if(kept > 1) /* records is NULL when no row was added */
    qsort_r(txt->records, kept, sizeof(*txt->records), by_timeline, txt);
  for(size_t k = 0; k < kept && !status; k++) {
    const txt_record *r = &txt->records[k];
    status = emit(out, record_key(txt, r), r->key_len, record_object(txt, r), r->object_len, err);
  }
  return status;
}

static cl_status finish_device(collate_txt *txt, txt_emitter *out, cl_error *err)
{
  const txt_record **order = malloc((txt->record_count ? txt->record_count : 1) * sizeof(*order));
  size_t n = 0;
  cl_status status = CL_OK;
  if(!order)
    return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  for(size_t k = 0; k < txt->record_count; k++) {
    txt_record *r = &txt->records[k];
    if(r->has_id) {
      const txt_id_slot *slot =
        id_probe(txt->ids, txt->id_cap, (const uint8_t *)txt->arena.data + r->offset);
      if(slot->last_seq != r->seq)
        continue;
      r->first_seq = slot->first_seq;
    }
    order[n++] = r;
  }
  qsort(order, n, sizeof(*order),
        txt->spec->style == TXT_DEVICE_BY_ITEM ? by_item : by_first_seen);
  for(size_t k = 0; k < n && !status; k++)
    status = emit(out, NULL, 0, record_object(txt, order[k]), order[k]->object_len, err);
  free(order);
  return status;
}

cl_status collate_txt_finish_to(collate_txt *txt, stream_sink sink, worker *helper,
                                cl_error *err)
{
  txt_emitter out;
  memset(&out, 0, sizeof(out));
  out.sink = sink;
  out.timeline = txt->spec->style == TXT_TIMELINE;
  cl_status status = out.timeline ? finish_timeline(txt, helper, &out, err)
                                  : finish_device(txt, &out, err);
  if(!status) {
    buf_append(&out.pending, out.written ? "]" : "[]", out.written ? 1 : 2);
    status = emitter_flush(&out, err);
  }
  buf_free(&out.pending);
  buf_free(&out.last_key);
  return status;
}

cl_status collate_txt_finish(collate_txt *txt, buf *out, cl_error *err)
{
  return collate_txt_finish_to(txt, stream_sink_to_buf(out), NULL, err);
}
