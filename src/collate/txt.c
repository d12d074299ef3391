/* The per-device txt that Rails reads (legacy §5, design.md items 9, 10):
 * the latest version of each id, rendered with json.dumps formatting. Each
 * log type is a row of the specs table below; one generic builder runs it. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/stream.h"
#include "core/utctime.h"
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

/* One a history id, so kept small (88 bytes): a million-row history holds
 * a million of them. */
typedef struct txt_entry {
  char id[DIGEST_MD5_HEX_LEN]; /* hex, no NUL; all zero for a row without an id */
  uint64_t first_seq, last_seq;
  uint64_t key_prefix; /* the key's first 8 bytes big-endian, 0-padded: sorts as the key */
  int64_t item_id;
  char *object;        /* the rendered JSON object, then the timeline map key; NULL
                        * when not included */
  uint32_t object_len, key_len;
  uint8_t include, item_null;
} txt_entry;

static const char *entry_key(const txt_entry *entry)
{
  return entry->object + entry->object_len;
}

/* Rendered objects live in chunks freed with the txt: one bump a row instead
 * of a malloc and a free (a replaced version's bytes stay until then). */
#define TXT_CHUNK_SIZE (1024 * 1024)

typedef struct txt_chunk {
  struct txt_chunk *next;
  size_t size, used;
  char data[];
} txt_chunk;

struct collate_txt {
  txt_chunk *chunks;
  const collate_type *type;
  const txt_spec *spec;
  char *device_id;
  size_t device_len;
  int columns[TXT_MAX_FIELDS];
  int col_item, col_ms;
  txt_entry *entries;
  size_t count, cap;
  size_t *slots; /* open addressing by id: entry index + 1, 0 when empty */
  size_t slot_cap;
  uint64_t seq;
  buf object, key;
  json_arena *arena;
  json_limits limits;
};

collate_txt *collate_txt_create(const collate_type *type, const char *device_id)
{
  collate_txt *txt = calloc(1, sizeof(*txt));
  if(!txt)
    return NULL;
  txt->type = type;
  for(size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
    if(specs[k].type == type->id)
      txt->spec = &specs[k];
  txt->device_len = strlen(device_id);
  txt->device_id = malloc(txt->device_len + 1);
  txt->arena = json_arena_create(0);
  if(!txt->spec || !txt->device_id || !txt->arena) {
    collate_txt_free(txt);
    return NULL;
  }
  memcpy(txt->device_id, device_id, txt->device_len + 1);
  for(size_t f = 0; f < txt->spec->field_count; f++)
    txt->columns[f] = collate_type_column(type, txt->spec->fields[f].key);
  txt->col_item = txt->spec->item_column ? collate_type_column(type, txt->spec->item_column) : -1;
  txt->col_ms = txt->spec->ms_column ? collate_type_column(type, txt->spec->ms_column) : -1;
  buf_init(&txt->object, 0);
  buf_init(&txt->key, 0);
  json_limits_default(&txt->limits);
  return txt;
}

void collate_txt_free(collate_txt *txt)
{
  if(!txt)
    return;
  for(txt_chunk *c = txt->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(txt->entries);
  free(txt->slots);
  free(txt->device_id);
  buf_free(&txt->object);
  buf_free(&txt->key);
  json_arena_free(txt->arena);
  free(txt);
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
static cl_status render_phones(collate_txt *txt, const char *text, size_t len, buf *out)
{
  json_value *parsed = NULL;
  const json_value **keys = NULL, **kept = NULL;
  size_t count = 0, cap = 16, *index = NULL, n;
  cl_status status;

  json_arena_reset(txt->arena);
  if(json_parse(text, len, &txt->limits, txt->arena, &parsed, NULL) != CL_OK)
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
    else if(json_number(json_object_get(phone, "item_id")) >
            json_number(json_object_get(kept[found], "item_id")))
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

static cl_status render_value(collate_txt *txt, const txt_field_spec *field, int column,
                              const collate_cell *cell, buf *out)
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
      return render_phones(txt, cell->s, cell->len, out);
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

/* Ids are md5 hex: 16 of their characters mixed are as good as all 32, at a
 * fraction of a byte-by-byte hash. */
static uint64_t id_hash(const char *id)
{
  uint64_t a, b;
  memcpy(&a, id, sizeof(a));
  memcpy(&b, id + 24, sizeof(b));
  uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15u)) * 0xff51afd7ed558ccdu;
  return h ^ h >> 29;
}

static char *txt_alloc(collate_txt *txt, size_t len)
{
  txt_chunk *c = txt->chunks;
  if(!c || c->size - c->used < len) {
    size_t size = len > TXT_CHUNK_SIZE ? len : TXT_CHUNK_SIZE;
    c = malloc(sizeof(*c) + size);
    if(!c)
      return NULL;
    c->size = size;
    c->used = 0;
    c->next = txt->chunks;
    txt->chunks = c;
  }
  char *p = c->data + c->used;
  c->used += len;
  return p;
}

static cl_status grow_index(collate_txt *txt)
{
  size_t cap = txt->slot_cap ? txt->slot_cap * 2 : 1024;
  size_t *slots = calloc(cap, sizeof(*slots));
  if(!slots)
    return CL_ERR_NOMEM;
  for(size_t k = 0; k < txt->count; k++) {
    size_t at;
    if(!txt->entries[k].id[0])
      continue;
    at = (size_t)id_hash(txt->entries[k].id) & (cap - 1);
    while(slots[at])
      at = (at + 1) & (cap - 1);
    slots[at] = k + 1;
  }
  free(txt->slots);
  txt->slots = slots;
  txt->slot_cap = cap;
  return CL_OK;
}

/* The entry of this id, created (first seen now) when new. */
static cl_status entry_for(collate_txt *txt, const collate_cell *id, txt_entry **out)
{
  int has_id = id->type == COLLATE_CELL_BYTES && id->len == DIGEST_MD5_HEX_LEN;
  size_t at = 0;
  txt_entry *entry;

  if(has_id) {
    if((txt->count + 1) * 2 > txt->slot_cap && grow_index(txt))
      return CL_ERR_NOMEM;
    at = (size_t)id_hash(id->s) & (txt->slot_cap - 1);
    while(txt->slots[at]) {
      entry = &txt->entries[txt->slots[at] - 1];
      if(!memcmp(entry->id, id->s, DIGEST_MD5_HEX_LEN)) {
        *out = entry;
        return CL_OK;
      }
      at = (at + 1) & (txt->slot_cap - 1);
    }
  }
  if(txt->count == txt->cap) {
    size_t cap = txt->cap ? txt->cap * 2 : 256;
    txt_entry *grown = realloc(txt->entries, cap * sizeof(*grown));
    if(!grown)
      return CL_ERR_NOMEM;
    txt->entries = grown;
    txt->cap = cap;
  }
  entry = &txt->entries[txt->count++];
  memset(entry, 0, sizeof(*entry));
  entry->first_seq = txt->seq;
  if(has_id) {
    /* A row without an id (not one we wrote) is never merged with another. */
    memcpy(entry->id, id->s, DIGEST_MD5_HEX_LEN);
    txt->slots[at] = txt->count;
  }
  *out = entry;
  return CL_OK;
}

cl_status collate_txt_add_row(collate_txt *txt, const collate_row *row, cl_error *err)
{
  const collate_type *type = txt->type;
  const collate_cell *device = &row->cells[type->col_device_id];
  const collate_cell *deleted = &row->cells[type->col_is_deleted];
  txt_entry *entry;
  char *object;
  cl_status status;
  int first = 1;

  txt->seq++;
  status = entry_for(txt, &row->cells[type->col_id], &entry);
  if(status)
    return cl_fail(err, status, "txt: out of memory");
  entry->last_seq = txt->seq;
  if(txt->spec->style == TXT_TIMELINE)
    entry->include = 1;
  else
    entry->include = device->type == COLLATE_CELL_BYTES && device->len == txt->device_len &&
                     !memcmp(device->s, txt->device_id, device->len) &&
                     !(deleted->type == COLLATE_CELL_INT && deleted->i);
  if(txt->col_item >= 0) {
    const collate_cell *item = &row->cells[txt->col_item];
    entry->item_null = item->type != COLLATE_CELL_INT;
    entry->item_id = item->type == COLLATE_CELL_INT ? item->i : 0;
  }
  entry->object = NULL;
  entry->object_len = entry->key_len = 0;
  /* Only included rows are ever written: another device's or a deleted
   * contact costs no rendering unless a later version brings it back. */
  if(!entry->include)
    return CL_OK;

  buf_clear(&txt->object);
  buf_putc(&txt->object, '{');
  for(size_t f = 0; f < txt->spec->field_count; f++) {
    const txt_field_spec *field = &txt->spec->fields[f];
    int column = txt->columns[f];
    const collate_cell *cell = &row->cells[column];
    if((field->flags & TF_OMIT_NULL) && cell->type == COLLATE_CELL_NULL)
      continue;
    if(!first)
      buf_append(&txt->object, ", ", 2);
    first = 0;
    /* The keys are plain ASCII names: json.dumps writes them as they are. */
    buf_putc(&txt->object, '"');
    buf_append(&txt->object, field->key, strlen(field->key));
    buf_append(&txt->object, "\": ", 3);
    status = render_value(txt, field, column, cell, &txt->object);
    if(status)
      return cl_fail(err, status, "txt: rendering %s failed", field->key);
  }
  buf_putc(&txt->object, '}');
  if(txt->spec->style == TXT_TIMELINE) {
    buf_clear(&txt->key);
    key_part(&row->cells[txt->col_ms], 1, &txt->key);
    buf_putc(&txt->key, ':');
    key_part(&row->cells[txt->col_item], 0, &txt->key);
    if(buf_status(&txt->key))
      return cl_fail(err, buf_status(&txt->key), "txt: out of memory");
  }
  if(buf_status(&txt->object))
    return cl_fail(err, buf_status(&txt->object), "txt: out of memory");
  /* Object and key side by side in the chunks: the key is found after the object. */
  size_t key_len = txt->spec->style == TXT_TIMELINE ? txt->key.len : 0;
  if(txt->object.len > UINT32_MAX || key_len > UINT32_MAX)
    return cl_fail(err, CL_ERR_LIMIT, "txt: a row of %zu bytes", txt->object.len);
  object = txt_alloc(txt, txt->object.len + key_len);
  if(!object)
    return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  memcpy(object, txt->object.data, txt->object.len);
  entry->object = object;
  entry->object_len = (uint32_t)txt->object.len;
  if(txt->spec->style == TXT_TIMELINE) {
    if(key_len)
      memcpy(object + txt->object.len, txt->key.data, key_len);
    entry->key_len = (uint32_t)key_len;
    uint64_t prefix = 0;
    for(size_t k = 0; k < 8; k++)
      prefix = prefix << 8 | (k < key_len ? (unsigned char)txt->key.data[k] : 0);
    entry->key_prefix = prefix;
  }
  return CL_OK;
}

static int by_item(const void *a, const void *b)
{
  const txt_entry *x = *(const txt_entry *const *)a, *y = *(const txt_entry *const *)b;
  if(x->item_null != y->item_null)
    return x->item_null ? -1 : 1;
  if(x->item_id != y->item_id)
    return x->item_id < y->item_id ? -1 : 1;
  return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Key descending (Python str order: the keys are ASCII), then the later row
 * first, so that the first of each key is the one the legacy map kept. */
static int by_key_desc(const void *a, const void *b)
{
  const txt_entry *x = *(const txt_entry *const *)a, *y = *(const txt_entry *const *)b;
  /* Most keys differ in their first 8 bytes: settle those without memcmp. */
  if(x->key_prefix != y->key_prefix)
    return x->key_prefix > y->key_prefix ? -1 : 1;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(entry_key(x), entry_key(y), n);
  if(c)
    return -c;
  if(x->key_len != y->key_len)
    return x->key_len > y->key_len ? -1 : 1;
  return x->last_seq > y->last_seq ? -1 : x->last_seq < y->last_seq;
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
  return columns;
}

/* Staging for a sink: the text goes out in pieces of about this size. */
#define TXT_SINK_CHUNK (256 * 1024)

static cl_status sink_flush(stream_sink sink, buf *pending, cl_error *err)
{
  cl_status status = buf_status(pending);
  if(status)
    return cl_fail(err, status, "txt: output buffer");
  if(pending->len)
    status = sink.write(sink.ctx, pending->data, pending->len, err);
  buf_clear(pending);
  return status;
}

cl_status collate_txt_finish_to(collate_txt *txt, stream_sink sink, cl_error *err)
{
  const txt_entry **order;
  size_t n = 0, written = 0;
  cl_status status = CL_OK;
  buf pending = BUF_INIT;

  order = malloc((txt->count ? txt->count : 1) * sizeof(*order));
  if(!order)
    return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  for(size_t k = 0; k < txt->count; k++)
    if(txt->entries[k].include)
      order[n++] = &txt->entries[k];
  if(txt->spec->style == TXT_DEVICE_BY_ITEM)
    qsort(order, n, sizeof(*order), by_item);
  else if(txt->spec->style == TXT_TIMELINE)
    qsort(order, n, sizeof(*order), by_key_desc);
  buf_putc(&pending, '[');
  for(size_t k = 0; k < n && !status; k++) {
    if(txt->spec->style == TXT_TIMELINE && k && order[k]->key_len == order[k - 1]->key_len &&
       !memcmp(entry_key(order[k]), entry_key(order[k - 1]), order[k]->key_len))
      continue;
    if(written++)
      buf_append(&pending, ", ", 2);
    buf_append(&pending, order[k]->object, order[k]->object_len);
    if(pending.len >= TXT_SINK_CHUNK)
      status = sink_flush(sink, &pending, err);
  }
  if(!status) {
    buf_putc(&pending, ']');
    status = sink_flush(sink, &pending, err);
  }
  buf_free(&pending);
  free(order);
  return status;
}

cl_status collate_txt_finish(collate_txt *txt, buf *out, cl_error *err)
{
  return collate_txt_finish_to(txt, stream_sink_to_buf(out), err);
}
