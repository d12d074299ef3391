#include "logtype.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/utctime.h"
#include "normalize.h"
#include "pystr.h"

/* ---- scratch: a bump allocator whose chunks survive resets ---- */

#define SCRATCH_CHUNK (64 * 1024)

typedef struct scratch_chunk {
  struct scratch_chunk *next;
  size_t size, used;
  char data[];
} scratch_chunk;

/* Members remembered per position for the key hint (see collate_entry_to_row). */
#define KEY_HINTS 16

struct collate_scratch {
  scratch_chunk *head, *current;
  /* The key index the member at each position matched in the last entry
   * of hint_type (-1: none): an upload's entries repeat one key order. */
  int hint_type;
  signed char key_hint[KEY_HINTS];
  buf text;   /* one derived string while it is built */
  buf digits; /* int() results that do not fit int64 */
  /* collate_entries_to_rows: each entry's values while the batch's md5s
   * wait to be computed together (allocated by the first batch). */
  struct entry_work *work;
  /* The pre-images of a batch's ids or row_hashes one after another, or
   * of the one row_hash collate_row_hash computes. */
  buf joins;
};

collate_scratch *collate_scratch_create(void)
{
  collate_scratch *scratch = calloc(1, sizeof(*scratch));
  if(!scratch)
    return NULL;
  scratch->hint_type = -1;
  buf_init(&scratch->text, 0);
  buf_init(&scratch->digits, 0);
  buf_init(&scratch->joins, 0);
  return scratch;
}

void collate_scratch_reset(collate_scratch *scratch)
{
  scratch->current = scratch->head;
  if(scratch->head)
    scratch->head->used = 0;
}

void collate_scratch_free(collate_scratch *scratch)
{
  if(!scratch)
    return;
  for(scratch_chunk *c = scratch->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  buf_free(&scratch->text);
  buf_free(&scratch->digits);
  buf_free(&scratch->joins);
  free(scratch->work);
  free(scratch);
}

const char *collate_scratch_copy(collate_scratch *scratch, const void *data, size_t len)
{
  scratch_chunk *c = scratch->current;
  char *dst;

  while(c && c->size - c->used < len + 1) {
    c = c->next;
    if(c)
      c->used = 0;
  }
  if(!c) {
    size_t size = len + 1 > SCRATCH_CHUNK ? len + 1 : SCRATCH_CHUNK;
    c = malloc(sizeof(*c) + size);
    if(!c)
      return NULL;
    c->size = size;
    c->used = 0;
    if(scratch->current) {
      c->next = scratch->current->next;
      scratch->current->next = c;
    }
    else {
      c->next = scratch->head;
      scratch->head = c;
    }
  }
  scratch->current = c;
  dst = c->data + c->used;
  if(len)
    memcpy(dst, data, len);
  dst[len] = '\0';
  c->used += len + 1;
  return dst;
}

/* ---- the four log types as data ---- */

/* How a column's legacy value is derived from the raw entry. */
typedef enum derive {
  D_USER_ID,
  D_DEVICE_ID,
  D_IS_DELETED,   /* False on every new row */
  D_TS_UPDATED,   /* left null: the engine stamps it */
  D_RAW,          /* the raw value; None when missing */
  D_LOWER_NOSPACE,/* lower(), whitespace removed */
  D_INT,          /* int(raw); None stays None */
  D_DATETIME,     /* parse_datetime(raw) */
  D_DATETIME_INT, /* parse_datetime(int(raw)); None stays None */
  D_CODE_NAME,    /* codes[int(raw)], "unknown" for other ints; None stays None */
  D_BODY_BYTES,   /* UTF-8 bytes of a string; absent stays absent */
  D_JSON_DUMPS,   /* json.dumps(raw); None stays None */
  /* Derived from other columns, so evaluated after the ones above. */
  D_ADDRESS,      /* the address normaliser of column `source`; None stays None */
  D_MD5_OF,       /* md5 hex of column `source`'s bytes; "" when it is absent */
  D_ID,
  D_ROW_HASH
} derive;

enum {
  F_REQUIRED = 1,        /* a missing key rejects the entry (legacy KeyError) */
  F_NONEMPTY_STRING = 2  /* falsy rejects ("return false"), a non-string too */
};

typedef struct raw_key {
  const char *name;
  size_t len;
} raw_key;

#define KEY(name) {name, sizeof(name) - 1}
#define MAX_KEYS 12

typedef struct column_rule {
  derive how;
  int key;       /* index in the type's keys, -1 for derived columns */
  int alias;     /* key tried when `key` is absent (not when null), -1 */
  int source;    /* column read by D_ADDRESS and D_MD5_OF */
  int flags;
} column_rule;

/* A field of an id or row_hash pre-image. str_mode: Python str() was applied
 * before the join, so None is kept as "None"; otherwise None is dropped. */
typedef struct hash_field {
  int column;
  int str_mode;
} hash_field;

typedef struct logtype_def {
  collate_type type;
  const raw_key *keys;
  size_t key_count;
  const column_rule *rules;      /* aligned with type.columns */
  const hash_field *id_fields;
  size_t id_count;
  const hash_field *hash_fields;
  size_t hash_count;
  const char *const *codes;      /* names of int codes code_base.. */
  int code_base;
  size_t code_count;
} logtype_def;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define COMMON_HEAD                                                         \
  {"user_id", COLLATE_KIND_INT64}, {"device_id", COLLATE_KIND_STRING},      \
  {"is_deleted", COLLATE_KIND_BOOL}
#define COMMON_TAIL                                                         \
  {"id", COLLATE_KIND_STRING}, {"row_hash", COLLATE_KIND_STRING},           \
  {"ts_updated", COLLATE_KIND_TIMESTAMP}
#define RULE_HEAD                                                           \
  {D_USER_ID, -1, -1, -1, 0}, {D_DEVICE_ID, -1, -1, -1, 0},                 \
  {D_IS_DELETED, -1, -1, -1, 0}
#define RULE_TAIL                                                           \
  {D_ID, -1, -1, -1, 0}, {D_ROW_HASH, -1, -1, -1, 0},                       \
  {D_TS_UPDATED, -1, -1, -1, 0}

/* sms_log */
enum { SMS_USER, SMS_DEVICE, SMS_DELETED, SMS_BODY_HASH, SMS_BODY, SMS_TYPE, SMS_THREAD,
       SMS_CONTACT, SMS_ITEM, SMS_ADDRESS, SMS_NORM_ADDRESS, SMS_DATETIME, SMS_ID,
       SMS_ROW_HASH, SMS_TS };
enum { SK_BODY, SK_THREAD, SK_SMS_TYPE, SK_TYPE, SK_CONTACT, SK_DATETIME, SK_ADDRESS,
       SK_NORM_ADDRESS, SK_ITEM, SK_BODY_HASH };
static const raw_key sms_keys[] = {
  KEY("message_body"), KEY("thread_id"), KEY("sms_type"), KEY("type"), KEY("contact_id"),
  KEY("datetime"), KEY("sms_address"), KEY("normalized_sms_address"), KEY("item_id"),
  KEY("body_hash"),
};
static const collate_column sms_columns[] = {
  COMMON_HEAD,
  {"body_hash", COLLATE_KIND_STRING},   {"message_body", COLLATE_KIND_BINARY},
  {"sms_type", COLLATE_KIND_STRING},    {"thread_id", COLLATE_KIND_INT64},
  {"contact_id", COLLATE_KIND_INT64},   {"item_id", COLLATE_KIND_INT64},
  {"sms_address", COLLATE_KIND_STRING}, {"normalized_sms_address", COLLATE_KIND_STRING},
  {"datetime", COLLATE_KIND_TIMESTAMP},
  COMMON_TAIL,
};
static const column_rule sms_rules[] = {
  RULE_HEAD,
  {D_MD5_OF, -1, -1, SMS_BODY, 0},
  {D_BODY_BYTES, SK_BODY, -1, -1, 0},
  {D_CODE_NAME, SK_SMS_TYPE, SK_TYPE, -1, 0},
  {D_RAW, SK_THREAD, -1, -1, 0},
  {D_RAW, SK_CONTACT, -1, -1, 0},
  {D_RAW, SK_ITEM, -1, -1, F_REQUIRED},
  {D_RAW, SK_ADDRESS, -1, -1, 0},
  {D_ADDRESS, -1, -1, SMS_ADDRESS, 0},
  {D_DATETIME, SK_DATETIME, -1, -1, F_REQUIRED},
  RULE_TAIL,
};
static const hash_field sms_id[] = {
  {SMS_USER, 1}, {SMS_DEVICE, 0}, {SMS_DATETIME, 1}, {SMS_ITEM, 1}, {SMS_ADDRESS, 0},
  {SMS_BODY_HASH, 0},
};
static const hash_field sms_hash[] = {
  {SMS_ID, 0}, {SMS_TYPE, 0}, {SMS_THREAD, 0}, {SMS_CONTACT, 0}, {SMS_NORM_ADDRESS, 0},
  {SMS_DELETED, 0},
};
static const char *const sms_codes[] = {"all", "inbox", "sent", "draft", "outbox",
                                        "failed", "queued"};

/* call_log */
enum { CALL_USER, CALL_DEVICE, CALL_DELETED, CALL_NAME, CALL_TYPE, CALL_ITEM, CALL_PHONE,
       CALL_NORM_PHONE, CALL_DATETIME, CALL_DURATION, CALL_ID, CALL_ROW_HASH, CALL_TS };
enum { CK_NAME, CK_TYPE, CK_ITEM, CK_PHONE, CK_NORM_PHONE, CK_DATETIME, CK_DURATION };
static const raw_key call_keys[] = {
  KEY("cached_name"), KEY("call_type"), KEY("item_id"), KEY("phone_number"),
  KEY("normalized_phone_number"), KEY("datetime"), KEY("duration"),
};
static const collate_column call_columns[] = {
  COMMON_HEAD,
  {"cached_name", COLLATE_KIND_STRING},  {"call_type", COLLATE_KIND_STRING},
  {"item_id", COLLATE_KIND_INT64},       {"phone_number", COLLATE_KIND_STRING},
  {"normalized_phone_number", COLLATE_KIND_STRING},
  {"datetime", COLLATE_KIND_TIMESTAMP},  {"duration", COLLATE_KIND_INT64},
  COMMON_TAIL,
};
static const column_rule call_rules[] = {
  RULE_HEAD,
  {D_RAW, CK_NAME, -1, -1, 0},
  {D_CODE_NAME, CK_TYPE, -1, -1, 0},
  {D_RAW, CK_ITEM, -1, -1, F_REQUIRED},
  {D_RAW, CK_PHONE, -1, -1, F_REQUIRED | F_NONEMPTY_STRING},
  {D_ADDRESS, -1, -1, CALL_PHONE, 0},
  {D_DATETIME_INT, CK_DATETIME, -1, -1, F_REQUIRED},
  {D_INT, CK_DURATION, -1, -1, 0},
  RULE_TAIL,
};
static const hash_field call_id[] = {
  {CALL_USER, 1}, {CALL_DEVICE, 0}, {CALL_DATETIME, 1}, {CALL_ITEM, 1}, {CALL_PHONE, 0},
};
static const hash_field call_hash[] = {
  {CALL_ID, 0}, {CALL_NAME, 0}, {CALL_TYPE, 0}, {CALL_NORM_PHONE, 0}, {CALL_DURATION, 0},
  {CALL_DELETED, 0},
};
static const char *const call_codes[] = {"incoming", "outgoing", "missed", "voicemail",
                                         "rejected", "blocked", "answered_externally"};

/* contact_list */
enum { CON_USER, CON_DEVICE, CON_DELETED, CON_NAME, CON_LAST, CON_PHOTO, CON_TIMES,
       CON_ITEM, CON_PHONES, CON_ID, CON_ROW_HASH, CON_TS };
enum { NK_NAME, NK_ITEM, NK_LAST, NK_PHOTO, NK_TIMES, NK_PHONES };
static const raw_key contact_keys[] = {
  KEY("display_name"), KEY("item_id"), KEY("last_time_contacted"), KEY("photo_id"),
  KEY("times_contacted"), KEY("phone_numbers"),
};
static const collate_column contact_columns[] = {
  COMMON_HEAD,
  {"display_name", COLLATE_KIND_STRING}, {"last_time_contacted", COLLATE_KIND_TIMESTAMP},
  {"photo_id", COLLATE_KIND_STRING},     {"times_contacted", COLLATE_KIND_INT64},
  {"item_id", COLLATE_KIND_INT64},       {"phone_numbers", COLLATE_KIND_STRING},
  COMMON_TAIL,
};
static const column_rule contact_rules[] = {
  RULE_HEAD,
  {D_RAW, NK_NAME, -1, -1, 0},
  {D_DATETIME_INT, NK_LAST, -1, -1, 0},
  {D_RAW, NK_PHOTO, -1, -1, 0},
  {D_RAW, NK_TIMES, -1, -1, 0},
  {D_RAW, NK_ITEM, -1, -1, F_REQUIRED},
  {D_JSON_DUMPS, NK_PHONES, -1, -1, 0},
  RULE_TAIL,
};
static const hash_field contact_id[] = {{CON_USER, 1}, {CON_DEVICE, 0}, {CON_ITEM, 1}};
static const hash_field contact_hash[] = {
  {CON_ID, 0}, {CON_NAME, 0}, {CON_LAST, 0}, {CON_TIMES, 0}, {CON_PHOTO, 0},
  {CON_PHONES, 0}, {CON_DELETED, 0},
};

/* app_packages */
enum { APP_USER, APP_DEVICE, APP_DELETED, APP_PACKAGE, APP_ID, APP_ROW_HASH, APP_TS };
static const raw_key app_keys[] = {KEY("package_name")};
static const collate_column app_columns[] = {
  COMMON_HEAD, {"package_name", COLLATE_KIND_STRING}, COMMON_TAIL,
};
static const column_rule app_rules[] = {
  RULE_HEAD, {D_LOWER_NOSPACE, 0, -1, -1, F_REQUIRED | F_NONEMPTY_STRING}, RULE_TAIL,
};
static const hash_field app_id[] = {{APP_USER, 1}, {APP_DEVICE, 0}, {APP_PACKAGE, 0}};
static const hash_field app_hash[] = {{APP_ID, 0}, {APP_DELETED, 0}};

#define TYPE(tid, tname, cols, deletions, clamps, dt)                       \
  {tid, tname, COUNT(cols), cols, 0, 1, 2, COUNT(cols) - 3, COUNT(cols) - 2,  \
   COUNT(cols) - 1, dt, deletions, clamps}

/* Indexed by collate_type_id. */
static const logtype_def defs[] = {
  {TYPE(COLLATE_SMS_LOG, "sms_log", sms_columns, 0, 1, SMS_DATETIME), sms_keys,
   COUNT(sms_keys), sms_rules, sms_id, COUNT(sms_id), sms_hash, COUNT(sms_hash), sms_codes,
   0, COUNT(sms_codes)},
  {TYPE(COLLATE_CALL_LOG, "call_log", call_columns, 1, 0, CALL_DATETIME), call_keys,
   COUNT(call_keys), call_rules, call_id, COUNT(call_id), call_hash, COUNT(call_hash),
   call_codes, 1, COUNT(call_codes)},
  {TYPE(COLLATE_CONTACT_LIST, "contact_list", contact_columns, 1, 0, -1), contact_keys,
   COUNT(contact_keys), contact_rules, contact_id, COUNT(contact_id), contact_hash,
   COUNT(contact_hash), NULL, 0, 0},
  {TYPE(COLLATE_APP_PACKAGES, "app_packages", app_columns, 1, 0, -1), app_keys,
   COUNT(app_keys), app_rules, app_id, COUNT(app_id), app_hash, COUNT(app_hash), NULL, 0, 0},
};

_Static_assert(COUNT(sms_columns) == COUNT(sms_rules), "sms rules align with columns");
_Static_assert(COUNT(call_columns) == COUNT(call_rules), "call rules align with columns");
_Static_assert(COUNT(contact_columns) == COUNT(contact_rules), "contact rules align");
_Static_assert(COUNT(app_columns) == COUNT(app_rules), "app rules align with columns");
_Static_assert(COUNT(sms_columns) <= COLLATE_MAX_COLUMNS, "sms fits a row");
_Static_assert(COUNT(sms_keys) <= MAX_KEYS, "sms keys fit");

static const logtype_def *def_of(const collate_type *type)
{
  return &defs[type->id];
}

const collate_type *collate_type_get(collate_type_id id)
{
  if((unsigned)id >= COUNT(defs))
    return NULL;
  return &defs[id].type;
}

const collate_type *collate_type_find(const char *name)
{
  for(size_t k = 0; k < COUNT(defs); k++)
    if(!strcmp(defs[k].type.name, name))
      return &defs[k].type;
  return NULL;
}

int collate_type_column(const collate_type *type, const char *name)
{
  for(size_t k = 0; k < type->column_count; k++)
    if(!strcmp(type->columns[k].name, name))
      return (int)k;
  return -1;
}

/* ---- one raw entry to one row ---- */

static int find_key(const logtype_def *def, const char *name, size_t len)
{
  /* At most ten keys: comparing lengths first rejects almost every
   * candidate without touching the bytes. */
  for(size_t k = 0; k < def->key_count; k++)
    if(def->keys[k].len == len && def->keys[k].name[0] == name[0] &&
       !memcmp(def->keys[k].name, name, len))
      return (int)k;
  return -1;
}

static void reject(collate_entry_outcome *outcome, const char *fmt, const char *column,
                   const char *detail)
{
  outcome->rejected = 1;
  snprintf(outcome->reason, sizeof(outcome->reason), fmt, column, detail);
}

static const char *pyint_error_name(pyint_status status)
{
  switch(status) {
  case PYINT_VALUE_ERROR:
    return "ValueError";
  case PYINT_TYPE_ERROR:
    return "TypeError";
  case PYINT_OVERFLOW_ERROR:
    return "OverflowError";
  case PYINT_OK:
    break;
  }
  return "ok";
}

static int has_lone_surrogate(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while((p = memchr(p, 0xed, (size_t)(end - p))) != NULL) {
    if(p + 1 < end && p[1] >= 0xa0)
      return 1;
    p++;
  }
  return 0;
}

/* Append the pre-image of an id or row_hash, joined from values, to join. */
static cl_status join_fields(buf *join, const hash_field *fields, size_t count,
                             const pyval *values)
{
  int first = 1;
  for(size_t k = 0; k < count; k++) {
    const pyval *v = &values[fields[k].column];
    if(v->type == PY_NONE && !fields[k].str_mode)
      continue;
    if(!first) {
      /* In place when it fits: a call per separator showed in profiles. */
      if(!join->failed && !join->limit && join->len + 1 < join->cap) {
        join->data[join->len++] = ':';
        join->data[join->len] = '\0';
      }
      else
        buf_putc(join, ':');
    }
    first = 0;
    pystr_append(join, v);
  }
  return buf_status(join);
}

static int falsy(const pyval *v)
{
  switch(v->type) {
  case PY_NONE:
    return 1;
  case PY_BOOL:
    return !v->i;
  case PY_INT:
    return v->fits && v->i == 0;
  case PY_FLOAT:
    return v->f == 0.0;
  case PY_STR:
  case PY_BYTES:
    return v->len == 0;
  case PY_JSON:
    return v->json->type == JSON_ARRAY ? v->json->u.array.count == 0
                                       : v->json->u.object.count == 0;
  case PY_DATETIME:
    return 0;
  }
  return 0;
}

/* Keep a derived string: copied once into the scratch. */
static cl_status keep_text(collate_scratch *scratch, pyval *v)
{
  const char *copy = collate_scratch_copy(scratch, scratch->text.data ? scratch->text.data : "",
                                          scratch->text.len);
  if(!copy)
    return CL_ERR_NOMEM;
  memset(v, 0, sizeof(*v));
  v->type = PY_STR;
  v->s = copy;
  v->len = scratch->text.len;
  return CL_OK;
}

/* Keep a 32-character hex digest: copied straight into the scratch. */
static cl_status keep_hex(collate_scratch *scratch, const char *hex, pyval *v)
{
  const char *copy = collate_scratch_copy(scratch, hex, DIGEST_MD5_HEX_LEN);
  if(!copy)
    return CL_ERR_NOMEM;
  memset(v, 0, sizeof(*v));
  v->type = PY_STR;
  v->s = copy;
  v->len = DIGEST_MD5_HEX_LEN;
  return CL_OK;
}

/* Evaluate the first-pass rule of column c. Returns CL_OK (with the entry
 * possibly rejected) or an allocation failure. */
static cl_status derive_column(const logtype_def *def, size_t c, const json_value *const *raw,
                               int64_t user_id, const char *device_id,
                               collate_scratch *scratch, pyval *values, int *owned,
                               collate_entry_outcome *outcome)
{
  const column_rule *rule = &def->rules[c];
  const char *name = def->type.columns[c].name;
  const json_value *value = NULL;
  pyval *out = &values[c];
  pyval in, as_int;
  pyint_status int_status;
  cl_status status;

  memset(out, 0, sizeof(*out));
  out->type = PY_NONE;
  if(rule->key >= 0) {
    value = raw[rule->key];
    if(!value && rule->alias >= 0)
      value = raw[rule->alias];
    if(!value && (rule->flags & F_REQUIRED)) {
      reject(outcome, "%s missing%s", name, "");
      return CL_OK;
    }
  }
  pyval_from_json(value, &in);

  switch(rule->how) {
  case D_USER_ID:
    out->type = PY_INT;
    out->fits = 1;
    out->i = user_id;
    return CL_OK;
  case D_DEVICE_ID:
    out->type = PY_STR;
    out->s = device_id;
    out->len = strlen(device_id);
    *owned = 0;
    return CL_OK;
  case D_IS_DELETED:
    out->type = PY_BOOL;
    out->i = 0;
    return CL_OK;
  case D_TS_UPDATED:
  case D_ADDRESS:
  case D_MD5_OF:
  case D_ID:
  case D_ROW_HASH:
    return CL_OK;
  case D_RAW:
    if((rule->flags & F_NONEMPTY_STRING) && falsy(&in)) {
      reject(outcome, "%s is empty%s", name, "");
      return CL_OK;
    }
    if((rule->flags & F_NONEMPTY_STRING) && in.type != PY_STR) {
      reject(outcome, "%s is not a string%s", name, "");
      return CL_OK;
    }
    *out = in;
    return CL_OK;
  case D_LOWER_NOSPACE:
    if(falsy(&in)) {
      reject(outcome, "%s is empty%s", name, "");
      return CL_OK;
    }
    if(in.type != PY_STR) {
      reject(outcome, "%s is not a string%s", name, "");
      return CL_OK;
    }
    buf_clear(&scratch->text);
    status = normalize_lower_strip_space(&scratch->text, in.s, in.len);
    if(status)
      return status;
    *owned = 1;
    return keep_text(scratch, out);
  case D_INT:
  case D_DATETIME_INT:
  case D_CODE_NAME:
    if(in.type == PY_NONE && !(rule->flags & F_REQUIRED))
      return CL_OK;
    int_status = pyint(&in, &scratch->digits, &as_int);
    if(int_status != PYINT_OK) {
      reject(outcome, "%s: int() raised %s", name, pyint_error_name(int_status));
      return CL_OK;
    }
    if(!as_int.fits && !as_int.s)
      return CL_ERR_NOMEM;
    if(!as_int.fits) {
      /* The digits buffer is reused; the value must outlive it. */
      const char *copy = collate_scratch_copy(scratch, as_int.s, as_int.len);
      if(!copy)
        return CL_ERR_NOMEM;
      as_int.s = copy;
      buf_clear(&scratch->digits);
    }
    if(rule->how == D_INT) {
      *out = as_int;
      return CL_OK;
    }
    if(rule->how == D_CODE_NAME) {
      const char *code = "unknown";
      if(as_int.fits && as_int.i >= def->code_base &&
         as_int.i < def->code_base + (int64_t)def->code_count)
        code = def->codes[as_int.i - def->code_base];
      out->type = PY_STR;
      out->s = code;
      out->len = strlen(code);
      /* The code names are static: a row may point at them directly. */
      *owned = 1;
      return CL_OK;
    }
    in = as_int;
    /* fall through: parse_datetime of the int */
    /* FALLTHROUGH */
  case D_DATETIME: {
    int64_t micros;
    switch(pydatetime_parse(&in, &micros)) {
    case PYDT_OK:
      out->type = PY_DATETIME;
      out->i = micros;
      break;
    case PYDT_NONE:
      break;
    case PYDT_CRASH:
      reject(outcome, "%s: %s cannot be a timestamp", name,
             in.type == PY_INT || in.type == PY_FLOAT ? "a value this large" : "this value");
      break;
    }
    return CL_OK;
  }
  case D_BODY_BYTES:
    if(!value)
      return CL_OK;
    if(value->type != JSON_STRING) {
      reject(outcome, "%s is %s", name, value->type == JSON_NULL ? "null" : "not a string");
      return CL_OK;
    }
    if(value->u.string.lone_surrogate) {
      reject(outcome, "%s has a lone surrogate%s", name, "");
      return CL_OK;
    }
    out->type = PY_BYTES;
    out->s = value->u.string.data;
    out->len = value->u.string.len;
    return CL_OK;
  case D_JSON_DUMPS:
    if(in.type == PY_NONE)
      return CL_OK;
    buf_clear(&scratch->text);
    status = json_dumps(value, &scratch->text);
    if(status)
      return status;
    *owned = 1;
    return keep_text(scratch, out);
  }
  return CL_OK;
}

/* D_ADDRESS, and D_MD5_OF of a non-string. The md5 of a string is left to
 * the batch: *md5_column is set to c and the value stays None until then. */
static cl_status derive_dependent(const logtype_def *def, size_t c, collate_scratch *scratch,
                                  pyval *values, int *owned, int *md5_column,
                                  collate_entry_outcome *outcome)
{
  const column_rule *rule = &def->rules[c];
  const pyval *src = &values[rule->source];
  pyval *out = &values[c];
  cl_status status;

  if(rule->how == D_ADDRESS) {
    if(src->type == PY_NONE)
      return CL_OK;
    if(src->type != PY_STR) {
      reject(outcome, "%s is not a string%s", def->type.columns[rule->source].name, "");
      return CL_OK;
    }
    buf_clear(&scratch->text);
    status = normalize_address(&scratch->text, src->s, src->len);
    if(status)
      return status;
    *owned = 1;
    return keep_text(scratch, out);
  }
  if(rule->how == D_MD5_OF) {
    *owned = 1;
    if(src->type == PY_BYTES || src->type == PY_STR) {
      *md5_column = (int)c;
      return CL_OK;
    }
    buf_clear(&scratch->text);
    return keep_text(scratch, out);
  }
  return CL_OK;
}

/* Store a legacy value into a cell of the column's kind (design.md item 6). */
static cl_status coerce(collate_kind kind, const pyval *v, int owned, collate_scratch *scratch,
                        collate_cell *cell, collate_entry_outcome *outcome)
{
  const char *copy;

  memset(cell, 0, sizeof(*cell));
  cell->type = COLLATE_CELL_NULL;
  if(v->type == PY_NONE)
    return CL_OK;
  switch(kind) {
  case COLLATE_KIND_INT64:
  case COLLATE_KIND_BOOL:
    if((v->type == PY_INT && v->fits) || v->type == PY_BOOL) {
      cell->type = COLLATE_CELL_INT;
      cell->i = v->i;
      return CL_OK;
    }
    /* Range first: converting an out-of-range double is undefined. */
    if(v->type == PY_FLOAT && v->f >= -9223372036854775808.0 && v->f < 9223372036854775808.0 &&
       v->f == (double)(int64_t)v->f) {
      cell->type = COLLATE_CELL_INT;
      cell->i = (int64_t)v->f;
      return CL_OK;
    }
    if(v->type == PY_STR && kind == COLLATE_KIND_INT64) {
      pyval as_int;
      size_t mark = scratch->digits.len;
      pyint_status st = pyint(v, &scratch->digits, &as_int);
      buf_truncate(&scratch->digits, mark);
      if(st == PYINT_OK && as_int.fits) {
        cell->type = COLLATE_CELL_INT;
        cell->i = as_int.i;
        return CL_OK;
      }
    }
    break;
  case COLLATE_KIND_STRING:
  case COLLATE_KIND_BINARY:
    if(v->type == PY_STR || v->type == PY_BYTES) {
      copy = owned ? v->s : collate_scratch_copy(scratch, v->s, v->len);
      if(!copy)
        return CL_ERR_NOMEM;
      cell->type = COLLATE_CELL_BYTES;
      cell->s = copy;
      cell->len = v->len;
      return CL_OK;
    }
    if(v->type == PY_INT || v->type == PY_FLOAT || v->type == PY_BOOL) {
      buf_clear(&scratch->text);
      pystr_append(&scratch->text, v);
      if(buf_status(&scratch->text))
        return buf_status(&scratch->text);
      copy = collate_scratch_copy(scratch, scratch->text.data, scratch->text.len);
      if(!copy)
        return CL_ERR_NOMEM;
      cell->type = COLLATE_CELL_BYTES;
      cell->s = copy;
      cell->len = scratch->text.len;
      return CL_OK;
    }
    break;
  case COLLATE_KIND_TIMESTAMP:
    if(v->type == PY_DATETIME) {
      cell->type = COLLATE_CELL_TIMESTAMP;
      cell->i = v->i;
      return CL_OK;
    }
    break;
  }
  outcome->coerced_nulls++;
  return CL_OK;
}

/* One entry's values between the steps of collate_entries_to_rows. */
typedef struct entry_work {
  pyval values[COLLATE_MAX_COLUMNS];
  int owned[COLLATE_MAX_COLUMNS];
  int md5_column; /* the D_MD5_OF column waiting for its digest, -1 for none */
} entry_work;

/* raw[k]: the value of the entry's member named keys[k], NULL if none
 * (the entry is an object). */
static void match_keys(const logtype_def *def, const json_value *entry, collate_scratch *scratch,
                       const json_value *raw[MAX_KEYS], collate_entry_outcome *outcome)
{
  const collate_type *type = &def->type;
  if(scratch->hint_type != (int)type->id) {
    scratch->hint_type = (int)type->id;
    memset(scratch->key_hint, -1, sizeof(scratch->key_hint));
  }
  for(size_t m = 0; m < entry->u.object.count; m++) {
    const json_member *member = &entry->u.object.members[m];
    int k = -1;
    if(m < KEY_HINTS && scratch->key_hint[m] >= 0) {
      const raw_key *hint = &def->keys[scratch->key_hint[m]];
      if(hint->len == member->key_len && !memcmp(hint->name, member->key, hint->len))
        k = scratch->key_hint[m];
    }
    if(k < 0 && member->key_len) {
      k = find_key(def, member->key, member->key_len);
      if(m < KEY_HINTS)
        scratch->key_hint[m] = (signed char)k;
    }
    if(k < 0)
      outcome->unexpected_keys++;
    else
      raw[k] = member->value;
  }
}

/* Everything of one entry before its md5s: raw keys, then the first-pass
 * and dependent columns (rejecting the entry as the legacy did). */
static cl_status entry_derive(const logtype_def *def, const json_value *entry, int64_t user_id,
                              const char *device_id, collate_scratch *scratch, entry_work *w,
                              collate_row *row, collate_entry_outcome *outcome)
{
  const collate_type *type = &def->type;
  const json_value *raw[MAX_KEYS] = {0};
  cl_status status;

  memset(outcome, 0, sizeof(*outcome));
  memset(w->owned, 0, sizeof(w->owned));
  w->md5_column = -1;
  for(size_t c = 0; c < COLLATE_MAX_COLUMNS; c++)
    row->cells[c].type = COLLATE_CELL_NULL;
  if(!entry || entry->type != JSON_OBJECT) {
    reject(outcome, "entry is not an object%s%s", "", "");
    return CL_OK;
  }
  match_keys(def, entry, scratch, raw, outcome);
  for(size_t c = 0; c < type->column_count; c++) {
    status = derive_column(def, c, raw, user_id, device_id, scratch, w->values, &w->owned[c],
                           outcome);
    if(status || outcome->rejected)
      return status;
  }
  for(size_t c = 0; c < type->column_count; c++) {
    status = derive_dependent(def, c, scratch, w->values, &w->owned[c], &w->md5_column,
                              outcome);
    if(status || outcome->rejected)
      return status;
  }
  return CL_OK;
}

/* The md5s waiting in a batch: message j is data[j]/len[j], and its hex
 * becomes column of entry entry[j]. */
typedef struct pending_md5 {
  size_t count;
  const void *data[COLLATE_BATCH_MAX];
  size_t len[COLLATE_BATCH_MAX];
  size_t entry[COLLATE_BATCH_MAX];
} pending_md5;

static cl_status keep_pending(collate_scratch *scratch, entry_work *work, const pending_md5 *p,
                              int column, size_t *failed)
{
  char hex[COLLATE_BATCH_MAX][DIGEST_MD5_HEX_LEN + 1];
  digest_md5_hex_many(p->count, p->data, p->len, hex);
  for(size_t j = 0; j < p->count; j++) {
    entry_work *w = &work[p->entry[j]];
    cl_status status = keep_hex(scratch, hex[j], &w->values[column]);
    if(status) {
      *failed = p->entry[j];
      return status;
    }
    w->owned[column] = 1;
  }
  return CL_OK;
}

/* The id or row_hash column of every entry still standing: pre-images
 * joined one after another into scratch->joins, one rejecting its entry
 * when it holds a lone surrogate (the legacy UnicodeEncodeError), and the
 * md5s of the rest computed together. */
static cl_status batch_digest(collate_scratch *scratch, size_t count, entry_work *work,
                              collate_entry_outcome *outcomes, const hash_field *fields,
                              size_t field_count, int column, const char *name, size_t *failed)
{
  buf *joins = &scratch->joins;
  size_t start[COLLATE_BATCH_MAX];
  pending_md5 p;
  cl_status status;

  p.count = 0;
  buf_clear(joins);
  for(size_t i = 0; i < count; i++) {
    if(outcomes[i].rejected)
      continue;
    size_t at = joins->len;
    status = join_fields(joins, fields, field_count, work[i].values);
    if(status) {
      *failed = i;
      return status;
    }
    if(has_lone_surrogate(joins->data ? joins->data + at : "", joins->len - at)) {
      reject(&outcomes[i], "%s: a lone surrogate cannot be encoded%s", name, "");
      buf_truncate(joins, at);
      continue;
    }
    start[p.count] = at;
    p.len[p.count] = joins->len - at;
    p.entry[p.count++] = i;
  }
  /* Only now: joins may have moved while it grew. */
  for(size_t j = 0; j < p.count; j++)
    p.data[j] = joins->data ? joins->data + start[j] : "";
  return keep_pending(scratch, work, &p, column, failed);
}

cl_status collate_entries_to_rows(const collate_type *type, size_t count,
                                  const json_value *const entries[], int64_t user_id,
                                  const char *device_id, collate_scratch *scratch,
                                  collate_row rows[], collate_entry_outcome outcomes[],
                                  size_t *failed)
{
  const logtype_def *def = def_of(type);
  size_t failed_in_part = 0;
  cl_status status;

  *failed = 0;
  if(!scratch->work) {
    scratch->work = malloc(COLLATE_BATCH_MAX * sizeof(*scratch->work));
    if(!scratch->work)
      return CL_ERR_NOMEM;
  }
  if(count > COLLATE_BATCH_MAX) {
    /* In parts, all in the one scratch. */
    for(size_t first = 0; first < count; first += COLLATE_BATCH_MAX) {
      size_t n = count - first < COLLATE_BATCH_MAX ? count - first : COLLATE_BATCH_MAX;
      status = collate_entries_to_rows(type, n, entries + first, user_id, device_id, scratch,
                                       rows + first, outcomes + first, &failed_in_part);
      if(status) {
        *failed = first + failed_in_part;
        return status;
      }
    }
    return CL_OK;
  }

  entry_work *work = scratch->work;
  for(size_t i = 0; i < count; i++) {
    status = entry_derive(def, entries[i], user_id, device_id, scratch, &work[i], &rows[i],
                          &outcomes[i]);
    if(status) {
      *failed = i;
      return status;
    }
  }

  /* body_hash, then id (which joins body_hash), then row_hash (which joins
   * id): each step's md5s side by side. */
  pending_md5 bodies;
  int md5_column = -1;
  bodies.count = 0;
  for(size_t i = 0; i < count; i++) {
    if(outcomes[i].rejected || work[i].md5_column < 0)
      continue;
    const pyval *src = &work[i].values[def->rules[work[i].md5_column].source];
    md5_column = work[i].md5_column;
    bodies.data[bodies.count] = src->s;
    bodies.len[bodies.count] = src->len;
    bodies.entry[bodies.count++] = i;
  }
  if(bodies.count) {
    status = keep_pending(scratch, work, &bodies, md5_column, failed);
    if(status)
      return status;
  }
  status = batch_digest(scratch, count, work, outcomes, def->id_fields, def->id_count,
                        type->col_id, "id", failed);
  if(status)
    return status;
  status = batch_digest(scratch, count, work, outcomes, def->hash_fields, def->hash_count,
                        type->col_row_hash, "row_hash", failed);
  if(status)
    return status;

  for(size_t i = 0; i < count; i++) {
    if(outcomes[i].rejected)
      continue;
    for(size_t c = 0; c < type->column_count; c++) {
      status = coerce(type->columns[c].kind, &work[i].values[c], work[i].owned[c], scratch,
                      &rows[i].cells[c], &outcomes[i]);
      if(status) {
        *failed = i;
        return status;
      }
    }
  }
  return CL_OK;
}

cl_status collate_rejected_entry_id(const collate_type *type, const json_value *entry,
                                   int64_t user_id, const char *device_id,
                                   collate_scratch *scratch, char hex[33], int *has_id)
{
  const logtype_def *def = def_of(type);
  const json_value *raw[MAX_KEYS] = {0};
  entry_work w;
  collate_entry_outcome outcome;

  *has_id = 0;
  if(!entry || entry->type != JSON_OBJECT)
    return CL_OK;
  memset(&w, 0, sizeof(w));
  memset(&outcome, 0, sizeof(outcome));
  match_keys(def, entry, scratch, raw, &outcome);
  for(size_t k = 0; k < def->id_count; k++) {
    size_t c = (size_t)def->id_fields[k].column;
    if(def->rules[c].how == D_ADDRESS || def->rules[c].how == D_MD5_OF)
      return CL_OK; /* made from other columns: not worth redoing here */
    cl_status status = derive_column(def, c, raw, user_id, device_id, scratch, w.values,
                                     &w.owned[c], &outcome);
    if(status || outcome.rejected)
      return status;
  }
  buf *join = &scratch->joins;
  buf_clear(join);
  cl_status status = join_fields(join, def->id_fields, def->id_count, w.values);
  if(status || has_lone_surrogate(join->data ? join->data : "", join->len))
    return status;
  digest_md5_hex(join->data ? join->data : "", join->len, hex);
  *has_id = 1;
  return CL_OK;
}

cl_status collate_entry_to_row(const collate_type *type, const json_value *entry,
                               int64_t user_id, const char *device_id,
                               collate_scratch *scratch, collate_row *row,
                               collate_entry_outcome *outcome)
{
  size_t failed;
  return collate_entries_to_rows(type, 1, &entry, user_id, device_id, scratch, row, outcome,
                                 &failed);
}

/* ---- rows read back ---- */

/* The Python value a cell had after the legacy read it back from Parquet. */
static void pyval_from_cell(collate_kind kind, const collate_cell *cell, pyval *out)
{
  memset(out, 0, sizeof(*out));
  out->type = PY_NONE;
  switch(cell->type) {
  case COLLATE_CELL_NULL:
    return;
  case COLLATE_CELL_INT:
    out->type = kind == COLLATE_KIND_BOOL ? PY_BOOL : PY_INT;
    out->fits = 1;
    out->i = kind == COLLATE_KIND_BOOL ? cell->i != 0 : cell->i;
    return;
  case COLLATE_CELL_TIMESTAMP:
    out->type = PY_DATETIME;
    out->i = cell->i;
    return;
  case COLLATE_CELL_BYTES:
    out->type = PY_STR;
    out->s = cell->s;
    out->len = cell->len;
    return;
  }
}

cl_status collate_row_hash(const collate_type *type, const collate_row *row,
                           collate_scratch *scratch, char hex[DIGEST_MD5_HEX_LEN + 1])
{
  const logtype_def *def = def_of(type);
  pyval values[COLLATE_MAX_COLUMNS];
  cl_status status;

  for(size_t c = 0; c < type->column_count; c++)
    pyval_from_cell(type->columns[c].kind, &row->cells[c], &values[c]);
  buf_clear(&scratch->joins);
  status = join_fields(&scratch->joins, def->hash_fields, def->hash_count, values);
  if(status)
    return status;
  /* Only a row built by hand can hold a lone surrogate: its bytes are
   * hashed as they are. */
  digest_md5_hex(scratch->joins.data ? scratch->joins.data : "", scratch->joins.len, hex);
  return CL_OK;
}

cl_status collate_row_mark_deleted(const collate_type *type, collate_row *row,
                                   collate_scratch *scratch)
{
  char hex[DIGEST_MD5_HEX_LEN + 1];
  const char *copy;
  cl_status status;

  row->cells[type->col_is_deleted].type = COLLATE_CELL_INT;
  row->cells[type->col_is_deleted].i = 1;
  status = collate_row_hash(type, row, scratch, hex);
  if(status)
    return status;
  copy = collate_scratch_copy(scratch, hex, DIGEST_MD5_HEX_LEN);
  if(!copy)
    return CL_ERR_NOMEM;
  row->cells[type->col_row_hash].type = COLLATE_CELL_BYTES;
  row->cells[type->col_row_hash].s = copy;
  row->cells[type->col_row_hash].len = DIGEST_MD5_HEX_LEN;
  return CL_OK;
}

void collate_row_clamp_future(const collate_type *type, collate_row *row)
{
  collate_cell *dt, *ts;
  if(!type->clamps_future_datetime || type->col_datetime < 0)
    return;
  dt = &row->cells[type->col_datetime];
  ts = &row->cells[type->col_ts_updated];
  /* design.md item 10: a null datetime (or ts_updated) is left alone. */
  if(dt->type != COLLATE_CELL_TIMESTAMP || ts->type != COLLATE_CELL_TIMESTAMP)
    return;
  if(dt->i > ts->i)
    dt->i = ts->i;
}

void collate_batch_date(int64_t ts_updated_micros, char dst[11])
{
  utc_civil c;
  int day, month;
  utc_civil_from_micros(ts_updated_micros, &c);
  month = c.month;
  day = c.day;
  if(c.year < 2016) {
    month = (c.month - 1) / 3 * 3 + 1;
    day = 1;
  }
  else if(c.year < 2017 || (c.year == 2017 && c.month < 7))
    day = 1;
  snprintf(dst, 11, "%04d-%02d-%02d", (int)c.year, month, day);
}

int collate_type_code(const collate_type *type, const char *name, size_t len, int64_t *code)
{
  const logtype_def *def = def_of(type);
  for(size_t k = 0; k < def->code_count; k++)
    if(strlen(def->codes[k]) == len && !memcmp(def->codes[k], name, len)) {
      *code = def->code_base + (int64_t)k;
      return 1;
    }
  return 0;
}
