#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/internal.h"
#include "parquet/metadata.h"
#include "parquet/parquet.h"

#define DEFAULT_CREATED_BY "collator version 0.1.0 (build c11)"
#define COPY_CHUNK (1u << 20)
/* Readers size page buffers by num_values; keep pages of tiny values
 * (nulls, booleans, repeated dictionary indices) from growing unbounded. */
#define MAX_PAGE_ROWS (1u << 20)
/* Building a dictionary for ids or message bodies until it passes the size
 * limit, or only to find it no smaller than PLAIN, costs a hash insert per
 * value. So when the column's previous chunk in this writer went PLAIN, or
 * its plain values exceed the limit (the dictionary can only pass the limit
 * then), the dictionary gives up once 7/8 of a sample of its first non-null
 * values are distinct: DICT_SAMPLE_VALUES, or half the chunk when that is
 * less, and no sample below DICT_MIN_SAMPLE. Values can be distinct nearby
 * and repeat further on (timestamps): a sample of 8192 sees a stretch of a
 * few thousand distinct ones repeat, and without evidence a chunk that
 * cannot pass the limit is always tried whole. */
#define DICT_SAMPLE_VALUES 8192u
#define DICT_MIN_SAMPLE 1024u
/* Chunks with fewer non-null values keep a dictionary that does not pay:
 * it costs or saves a few bytes there. */
#define DICT_JUDGED_VALUES 4096u
#define DICT_MIN_SLOTS 1024u

/* What the earlier chunks of one column taught this writer. */
typedef struct column_history {
  int fell_back;       /* the last chunk went PLAIN although dictionaries were on */
  size_t last_entries; /* dictionary entries of the last chunk, to size the hash table */
} column_history;

struct parquet_writer {
  stream_sink sink;
  parquet_schema schema;
  parquet_writer_options options;
  char *created_by;
  parquet_key_value *metadata;
  size_t metadata_count;
  uint64_t pos;
  pq_row_group_out *groups;
  size_t group_count, group_cap;
  cl_status failed;
  int finished;
  buf page, compressed, header, dict;
  column_history *history; /* one per schema column */
  /* Dictionary building, reused across chunks. */
  uint32_t *row_index;     /* dictionary id of each row */
  size_t row_cap;
  uint32_t *dict_rows;     /* first row of each dictionary entry */
  uint64_t *dict_hash;
  size_t dict_cap;
  uint64_t *slots;         /* open addressing: hash tag | id + 1, 0 = empty */
  size_t slot_count;       /* in use, a power of two */
  size_t slot_capacity;    /* allocated */
  uint32_t *page_indices;
  size_t page_indices_cap;
  uint8_t *levels;
  size_t levels_cap;
};

void parquet_writer_options_default(parquet_writer_options *options)
{
  memset(options, 0, sizeof(*options));
  options->codec = PARQUET_CODEC_SNAPPY;
  options->page_size = 1u << 20;
  options->dictionary_page_limit = 1u << 20;
  options->dictionary = 1;
  options->statistics = 1;
}

uint64_t parquet_writer_bytes_written(const parquet_writer *writer)
{
  return writer->pos;
}

static void free_groups(parquet_writer *w)
{
  for(size_t g = 0; g < w->group_count; g++) {
    for(size_t c = 0; c < w->schema.column_count; c++)
      free(w->groups[g].columns[c].stats_storage);
    free(w->groups[g].columns);
  }
  free(w->groups);
  w->groups = NULL;
  w->group_count = 0;
}

void parquet_writer_free(parquet_writer *w)
{
  if(!w)
    return;
  free_groups(w);
  for(size_t i = 0; i < w->schema.column_count; i++)
    free(w->schema.columns[i].name);
  free(w->schema.columns);
  for(size_t i = 0; i < w->metadata_count; i++) {
    free((char *)w->metadata[i].key);
    free((char *)w->metadata[i].value);
  }
  free(w->metadata);
  free(w->created_by);
  buf_free(&w->page);
  buf_free(&w->compressed);
  buf_free(&w->header);
  buf_free(&w->dict);
  free(w->row_index);
  free(w->dict_rows);
  free(w->dict_hash);
  free(w->slots);
  free(w->page_indices);
  free(w->levels);
  free(w->history);
  free(w);
}

static cl_status check_column(const parquet_column_schema *c, cl_error *err)
{
  const char *why = NULL;
  if(!c->name || !*c->name)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: a column without a name");
  if(c->physical < PARQUET_BOOLEAN || c->physical > PARQUET_FIXED_LEN_BYTE_ARRAY)
    why = "unknown physical type";
  else if(c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY && c->type_length <= 0)
    why = "FIXED_LEN_BYTE_ARRAY needs a positive type_length";
  else if(c->nested)
    why = "nested columns cannot be written";
  else {
    switch(c->logical) {
    case PARQUET_LOGICAL_NONE: break;
    case PARQUET_LOGICAL_STRING:
      if(c->physical != PARQUET_BYTE_ARRAY)
        why = "STRING needs BYTE_ARRAY";
      break;
    case PARQUET_LOGICAL_TIMESTAMP:
      if(c->physical != PARQUET_INT64 && c->physical != PARQUET_INT96)
        why = "TIMESTAMP needs INT64 or INT96";
      break;
    case PARQUET_LOGICAL_INTEGER:
      if(!((c->physical == PARQUET_INT32 && (c->bit_width == 8 || c->bit_width == 16 ||
                                              c->bit_width == 32)) ||
           (c->physical == PARQUET_INT64 && c->bit_width == 64)))
        why = "INTEGER needs INT32 with 8, 16 or 32 bits or INT64 with 64";
      break;
    case PARQUET_LOGICAL_DATE:
      if(c->physical != PARQUET_INT32)
        why = "DATE needs INT32";
      break;
    case PARQUET_LOGICAL_NULL:
      if(c->physical != PARQUET_INT32 || !c->optional)
        why = "the null type needs an OPTIONAL INT32 column";
      break;
    default: why = "this logical type cannot be written";
    }
  }
  if(why)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: column %s: %s", c->name, why);
  return CL_OK;
}

static cl_status sink_write(parquet_writer *w, const void *data, size_t len, cl_error *err)
{
  if(!len)
    return CL_OK;
  cl_status status = w->sink.write(w->sink.ctx, data, len, err);
  if(status) {
    w->failed = status;
    return status;
  }
  w->pos += len;
  return CL_OK;
}

cl_status parquet_writer_create(stream_sink sink, const parquet_schema *schema,
                                const parquet_writer_options *options,
                                parquet_writer **out, cl_error *err)
{
  cl_status status;
  *out = NULL;
  parquet_writer *w = calloc(1, sizeof(*w));
  if(!w)
    return cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory");
  w->sink = sink;
  if(options)
    w->options = *options;
  else
    parquet_writer_options_default(&w->options);
  if(!w->options.page_size)
    w->options.page_size = 1u << 20;
  if(!pq_codec_writable(w->options.codec)) {
    status = cl_fail(err, CL_ERR_USAGE, "parquet writer: cannot write codec %s",
                     parquet_codec_name(w->options.codec));
    goto fail;
  }
  w->schema.columns = calloc(schema->column_count ? schema->column_count : 1,
                             sizeof(parquet_column_schema));
  if(!w->schema.columns)
    goto nomem;
  for(size_t i = 0; i < schema->column_count; i++) {
    if((status = check_column(&schema->columns[i], err)))
      goto fail;
    for(size_t j = 0; j < i; j++)
      if(!strcmp(schema->columns[i].name, schema->columns[j].name)) {
        status = cl_fail(err, CL_ERR_USAGE, "parquet writer: column %s appears twice",
                         schema->columns[i].name);
        goto fail;
      }
    w->schema.columns[i] = schema->columns[i];
    w->schema.columns[i].name = strdup(schema->columns[i].name);
    w->schema.column_count = i + 1;
    if(!w->schema.columns[i].name)
      goto nomem;
  }
  w->history = calloc(schema->column_count ? schema->column_count : 1, sizeof(column_history));
  if(!w->history)
    goto nomem;
  w->created_by = strdup(w->options.created_by ? w->options.created_by : DEFAULT_CREATED_BY);
  if(!w->created_by)
    goto nomem;
  if(w->options.metadata_count) {
    w->metadata = calloc(w->options.metadata_count, sizeof(parquet_key_value));
    if(!w->metadata)
      goto nomem;
    for(size_t i = 0; i < w->options.metadata_count; i++) {
      const parquet_key_value *kv = &w->options.metadata[i];
      w->metadata[i].key = strdup(kv->key ? kv->key : "");
      w->metadata[i].value = kv->value ? strdup(kv->value) : NULL;
      w->metadata_count = i + 1;
      if(!w->metadata[i].key || (kv->value && !w->metadata[i].value))
        goto nomem;
    }
  }
  w->options.created_by = NULL;
  w->options.metadata = NULL;
  buf_init(&w->page, 0);
  buf_init(&w->compressed, 0);
  buf_init(&w->header, 0);
  buf_init(&w->dict, 0);
  if((status = sink_write(w, "PAR1", 4, err)))
    goto fail;
  *out = w;
  return CL_OK;
nomem:
  status = cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory");
fail:
  parquet_writer_free(w);
  return status;
}

/* ---- values ---- */

static inline uint64_t mix64(uint64_t h)
{
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  while(n >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    h = (h ^ word) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  /* The last 1-7 bytes in at most two fixed-size loads (they may overlap):
   * a memcpy of a variable length was a library call per value. */
  uint64_t tail = 0;
  if(n >= 4) {
    uint32_t first, last;
    memcpy(&first, p, 4);
    memcpy(&last, p + n - 4, 4);
    tail = (uint64_t)first << 32 | last;
  } else if(n) {
    tail = (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1];
  }
  return mix64(h ^ tail);
}

static uint64_t hash_value(parquet_physical_type type, const parquet_column_vector *v, size_t row)
{
  switch(type) {
  case PARQUET_INT32: return mix64((uint32_t)v->values.i32[row]);
  case PARQUET_FLOAT: {
    uint32_t bits;
    memcpy(&bits, &v->values.f32[row], 4);
    return mix64(bits);
  }
  case PARQUET_INT64: return mix64((uint64_t)v->values.i64[row]);
  case PARQUET_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, &v->values.f64[row], 8);
    return mix64(bits);
  }
  case PARQUET_INT96: return hash_bytes(v->values.i96[row].bytes, 12);
  default: return hash_bytes(v->values.bytes[row].data, v->values.bytes[row].len);
  }
}

/* Equality by bit pattern, so NaNs deduplicate and -0.0 stays apart from 0.0. */
static int same_value(parquet_physical_type type, const parquet_column_vector *v, size_t a, size_t b)
{
  switch(type) {
  case PARQUET_INT32: return v->values.i32[a] == v->values.i32[b];
  case PARQUET_FLOAT: return !memcmp(&v->values.f32[a], &v->values.f32[b], 4);
  case PARQUET_INT64: return v->values.i64[a] == v->values.i64[b];
  case PARQUET_DOUBLE: return !memcmp(&v->values.f64[a], &v->values.f64[b], 8);
  case PARQUET_INT96: return !memcmp(v->values.i96[a].bytes, v->values.i96[b].bytes, 12);
  default:
    return v->values.bytes[a].len == v->values.bytes[b].len &&
           (!v->values.bytes[a].len ||
            !memcmp(v->values.bytes[a].data, v->values.bytes[b].data, v->values.bytes[a].len));
  }
}

static size_t plain_size(parquet_physical_type type, int32_t type_length,
                         const parquet_column_vector *v, size_t row)
{
  if(type == PARQUET_BYTE_ARRAY)
    return 4 + (size_t)v->values.bytes[row].len;
  if(type == PARQUET_BOOLEAN)
    return 1;
  return pq_plain_width(type, type_length);
}

/* Build the dictionary of the non-null values; returns the number of
 * entries, or 0 when the plain dictionary would exceed the limit. A slot
 * holds the upper half of the hash next to the entry id, so most probes
 * settle on one cache line without touching the values. */
static int rehash(parquet_writer *w, size_t slot_count, size_t entries)
{
  /* The table is rebuilt from dict_hash, so one allocation serves every
   * column and row group and only grows. A table allocated per chunk came
   * as fresh pages each time: 47% of the page faults of a 100 MB upload. */
  if(slot_count > w->slot_capacity) {
    free(w->slots);
    w->slots = malloc(slot_count * sizeof(uint64_t));
    w->slot_capacity = w->slots ? slot_count : 0;
    w->slot_count = 0;
    if(!w->slots)
      return 0;
  }
  uint64_t *slots = w->slots;
  memset(slots, 0, slot_count * sizeof(uint64_t));
  for(size_t i = 0; i < entries; i++) {
    size_t t = (size_t)w->dict_hash[i] & (slot_count - 1);
    while(slots[t])
      t = (t + 1) & (slot_count - 1);
    slots[t] = (w->dict_hash[i] >> 32) << 32 | (uint64_t)(i + 1);
  }
  w->slot_count = slot_count;
  return 1;
}

/* Dictionary ids of the non-null rows go to row_index, the first row of
 * each entry to dict_rows. Returns the number of entries, or 0 when PLAIN is
 * the better choice: the plain dictionary would pass the limit, or a sample
 * of the values is nearly all distinct (see DICT_SAMPLE_VALUES). plain_bytes
 * is the plain size of all non-null values, *bytes_out that of the entries. */
static size_t build_dictionary(parquet_writer *w, const parquet_column_schema *c,
                               const parquet_column_vector *v, size_t rows, size_t non_null,
                               size_t plain_bytes, const column_history *history,
                               size_t *bytes_out, int *nomem)
{
  size_t count = 0, bytes = 0, seen = 0, sample = 0;
  if(history->fell_back || plain_bytes > w->options.dictionary_page_limit) {
    sample = non_null / 2 < DICT_SAMPLE_VALUES ? non_null / 2 : DICT_SAMPLE_VALUES;
    if(sample < DICT_MIN_SAMPLE)
      sample = 0;
  }
  if(MEM_GROW_ARRAY(w->row_index, &w->row_cap, rows, 1024)) {
    *nomem = 1;
    return 0;
  }
  /* Size the table for the entries the last chunk of this column had; it
   * grows by rehashing when the guess is short, and clearing an oversized
   * table for every chunk of a low-cardinality column is wasted work. */
  size_t want = DICT_MIN_SLOTS;
  while(want < 2 * history->last_entries && want < 2 * rows && want < (1u << 24))
    want *= 2;
  if(!rehash(w, want, 0)) {
    *nomem = 1;
    return 0;
  }
  for(size_t row = 0; row < rows; row++) {
    if(v->defined && !v->defined[row])
      continue;
    if(sample && ++seen == sample + 1 && count * 8 >= sample * 7)
      return 0;
    uint64_t h = hash_value(c->physical, v, row);
    uint64_t tag = (h >> 32) << 32;
    size_t mask = w->slot_count - 1, s = (size_t)h & mask;
    uint32_t id;
    for(;;) {
      uint64_t slot = w->slots[s];
      if(!slot) {
        id = (uint32_t)count;
        bytes += plain_size(c->physical, c->type_length, v, row);
        if(bytes > w->options.dictionary_page_limit)
          return 0;
        size_t dict_cap = w->dict_cap, hash_cap = w->dict_cap;
        if(MEM_GROW_ARRAY(w->dict_rows, &dict_cap, count + 1, 1024) ||
           MEM_GROW_ARRAY(w->dict_hash, &hash_cap, count + 1, 1024)) {
          *nomem = 1;
          return 0;
        }
        w->dict_cap = dict_cap < hash_cap ? dict_cap : hash_cap;
        w->dict_rows[count] = (uint32_t)row;
        w->dict_hash[count] = h;
        w->slots[s] = tag | (uint64_t)(id + 1);
        count++;
        if(count * 2 > w->slot_count && !rehash(w, w->slot_count * 2, count)) {
          *nomem = 1;
          return 0;
        }
        break;
      }
      if((slot & 0xffffffff00000000ULL) == tag) {
        uint32_t candidate = (uint32_t)slot - 1;
        if(same_value(c->physical, v, w->dict_rows[candidate], row)) {
          id = candidate;
          break;
        }
      }
      s = (s + 1) & mask;
    }
    w->row_index[row] = id;
  }
  *bytes_out = bytes;
  return count;
}

/* ---- statistics ---- */

static int bytes_less(parquet_bytes a, parquet_bytes b)
{
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.data, b.data, n) : 0;
  return c < 0 || (c == 0 && a.len < b.len);
}

/* The first 8 bytes as a big-endian number, zero-padded. Where two keys
 * differ they order their values as unsigned byte strings do, so ids and
 * hashes mostly compare without a memcmp. */
static inline uint64_t order_key(parquet_bytes b)
{
  uint64_t key = 0;
  if(b.len >= 8)
    memcpy(&key, b.data, 8);
  else if(b.len)
    memcpy(&key, b.data, b.len);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  key = __builtin_bswap64(key);
#endif
  return key;
}

/* Rows of the minimum and maximum byte string, SIZE_MAX when none. */
static void bytes_min_max(const parquet_column_vector *v, size_t row_count, const uint32_t *rows,
                          size_t n, size_t *lo_out, size_t *hi_out)
{
  size_t total = rows ? n : row_count, lo = SIZE_MAX, hi = SIZE_MAX;
  uint64_t lo_key = 0, hi_key = 0;
  const parquet_bytes *values = v->values.bytes;
  for(size_t k = 0; k < total; k++) {
    size_t row = rows ? rows[k] : k;
    if(!rows && v->defined && !v->defined[row])
      continue;
    uint64_t key = order_key(values[row]);
    if(lo == SIZE_MAX) {
      lo = hi = row;
      lo_key = hi_key = key;
      continue;
    }
    if(key < lo_key || (key == lo_key && bytes_less(values[row], values[lo]))) {
      lo = row;
      lo_key = key;
    }
    if(key > hi_key || (key == hi_key && bytes_less(values[hi], values[row]))) {
      hi = row;
      hi_key = key;
    }
  }
  *lo_out = lo;
  *hi_out = hi;
}

/* Rows of the minimum and maximum of a BOOLEAN or numeric column (NaN
 * ignored), SIZE_MAX when none. */
static void scalar_min_max(const parquet_column_schema *c, const parquet_column_vector *v,
                           size_t row_count, const uint32_t *rows, size_t n, size_t *lo_out,
                           size_t *hi_out)
{
  size_t total = rows ? n : row_count, lo = SIZE_MAX, hi = SIZE_MAX;
  int unsigned_int = c->logical == PARQUET_LOGICAL_INTEGER && !c->is_signed;
  for(size_t k = 0; k < total; k++) {
    size_t row = rows ? rows[k] : k;
    if(!rows && v->defined && !v->defined[row])
      continue;
    if(c->physical == PARQUET_FLOAT && isnan(v->values.f32[row]))
      continue;
    if(c->physical == PARQUET_DOUBLE && isnan(v->values.f64[row]))
      continue;
    if(lo == SIZE_MAX) {
      lo = hi = row;
      continue;
    }
    int less_lo, more_hi;
    switch(c->physical) {
    case PARQUET_BOOLEAN:
      less_lo = v->values.boolean[row] < v->values.boolean[lo];
      more_hi = v->values.boolean[row] > v->values.boolean[hi];
      break;
    case PARQUET_INT32:
      if(unsigned_int) {
        less_lo = (uint32_t)v->values.i32[row] < (uint32_t)v->values.i32[lo];
        more_hi = (uint32_t)v->values.i32[row] > (uint32_t)v->values.i32[hi];
      } else {
        less_lo = v->values.i32[row] < v->values.i32[lo];
        more_hi = v->values.i32[row] > v->values.i32[hi];
      }
      break;
    case PARQUET_INT64:
      if(unsigned_int) {
        less_lo = (uint64_t)v->values.i64[row] < (uint64_t)v->values.i64[lo];
        more_hi = (uint64_t)v->values.i64[row] > (uint64_t)v->values.i64[hi];
      } else {
        less_lo = v->values.i64[row] < v->values.i64[lo];
        more_hi = v->values.i64[row] > v->values.i64[hi];
      }
      break;
    case PARQUET_FLOAT:
      less_lo = v->values.f32[row] < v->values.f32[lo];
      more_hi = v->values.f32[row] > v->values.f32[hi];
      break;
    case PARQUET_DOUBLE:
      less_lo = v->values.f64[row] < v->values.f64[lo];
      more_hi = v->values.f64[row] > v->values.f64[hi];
      break;
    default: /* byte strings go through bytes_min_max() */
      less_lo = more_hi = 0;
      break;
    }
    if(less_lo)
      lo = row;
    if(more_hi)
      hi = row;
  }
  *lo_out = lo;
  *hi_out = hi;
}

/* Whether a min and a max this long go into the footer: a bound on the
 * footer that a reader (ours caps it at 64 MiB) can still take, whatever
 * long strings the rows hold. */
static int statistics_fit(size_t lo_len, size_t hi_len)
{
  return lo_len <= PARQUET_STATISTICS_MAX_VALUE_BYTES &&
         hi_len <= PARQUET_STATISTICS_MAX_VALUE_BYTES;
}

/* Min and max of the non-null values (rows, or all non-null rows when rows
 * is NULL), stored plain-encoded in the chunk description. */
static cl_status compute_statistics(const parquet_column_schema *c, const parquet_column_vector *v,
                                    size_t row_count, const uint32_t *rows, size_t n,
                                    pq_chunk_out *out, cl_error *err)
{
  parquet_statistics *s = &out->statistics;
  if(c->physical == PARQUET_INT96 || c->logical == PARQUET_LOGICAL_NULL)
    return CL_OK;
  size_t lo, hi;
  if(c->physical == PARQUET_BYTE_ARRAY || c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY)
    bytes_min_max(v, row_count, rows, n, &lo, &hi);
  else
    scalar_min_max(c, v, row_count, rows, n, &lo, &hi);
  if(lo == SIZE_MAX)
    return CL_OK; /* all null (or NaN): no min/max */
  size_t lo_len, hi_len;
  const void *lo_data, *hi_data;
  float f_lo, f_hi;
  double d_lo, d_hi;
  switch(c->physical) {
  case PARQUET_BOOLEAN:
    lo_data = &v->values.boolean[lo];
    hi_data = &v->values.boolean[hi];
    lo_len = hi_len = 1;
    break;
  case PARQUET_INT32:
    lo_data = &v->values.i32[lo];
    hi_data = &v->values.i32[hi];
    lo_len = hi_len = 4;
    break;
  case PARQUET_INT64:
    lo_data = &v->values.i64[lo];
    hi_data = &v->values.i64[hi];
    lo_len = hi_len = 8;
    break;
  case PARQUET_FLOAT:
    /* The format asks for -0.0 as a zero minimum and +0.0 as a zero maximum. */
    f_lo = v->values.f32[lo] == 0 ? -0.0f : v->values.f32[lo];
    f_hi = v->values.f32[hi] == 0 ? 0.0f : v->values.f32[hi];
    lo_data = &f_lo;
    hi_data = &f_hi;
    lo_len = hi_len = 4;
    break;
  case PARQUET_DOUBLE:
    d_lo = v->values.f64[lo] == 0 ? -0.0 : v->values.f64[lo];
    d_hi = v->values.f64[hi] == 0 ? 0.0 : v->values.f64[hi];
    lo_data = &d_lo;
    hi_data = &d_hi;
    lo_len = hi_len = 8;
    break;
  default:
    lo_data = v->values.bytes[lo].data;
    hi_data = v->values.bytes[hi].data;
    lo_len = v->values.bytes[lo].len;
    hi_len = v->values.bytes[hi].len;
    break;
  }
  if(!statistics_fit(lo_len, hi_len))
    return CL_OK;
  out->stats_storage = malloc(lo_len + hi_len + 1);
  if(!out->stats_storage)
    return cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory for statistics");
  if(lo_len)
    memcpy(out->stats_storage, lo_data, lo_len);
  if(hi_len)
    memcpy(out->stats_storage + lo_len, hi_data, hi_len);
  s->has_min_max = 1;
  s->min_value = (parquet_bytes){out->stats_storage, (uint32_t)lo_len};
  s->max_value = (parquet_bytes){out->stats_storage + lo_len, (uint32_t)hi_len};
  return CL_OK;
}

/* ---- pages ---- */

static cl_status write_page(parquet_writer *w, pq_page_header *h, pq_chunk_out *chunk,
                            cl_error *err)
{
  cl_status status;
  if(w->page.failed)
    return cl_fail(err, w->page.failed, "parquet writer: buffering a page: %s",
                   cl_status_name(w->page.failed));
  if(w->page.len > INT32_MAX)
    return cl_fail(err, CL_ERR_LIMIT, "parquet writer: a page of %zu bytes is too large",
                   w->page.len);
  buf_clear(&w->compressed);
  if((status = pq_compress(w->options.codec, w->options.compression_level,
                           (const uint8_t *)w->page.data, w->page.len, &w->compressed, err)))
    return status;
  if(w->compressed.len > INT32_MAX)
    return cl_fail(err, CL_ERR_LIMIT, "parquet writer: a page of %zu bytes is too large",
                   w->compressed.len);
  h->uncompressed_size = (int32_t)w->page.len;
  h->compressed_size = (int32_t)w->compressed.len;
  buf_clear(&w->header);
  pq_page_header_encode(&w->header, h);
  if(w->header.failed)
    return cl_fail(err, w->header.failed, "parquet writer: encoding a page header");
  if((status = sink_write(w, w->header.data, w->header.len, err)) ||
     (status = sink_write(w, w->compressed.data, w->compressed.len, err)))
    return status;
  chunk->total_uncompressed_size += (int64_t)(w->header.len + w->page.len);
  chunk->total_compressed_size += (int64_t)(w->header.len + w->compressed.len);
  return CL_OK;
}

static cl_status write_chunk(parquet_writer *w, size_t column, const parquet_column_vector *v,
                             size_t rows, pq_chunk_out *chunk, cl_error *err)
{
  const parquet_column_schema *c = &w->schema.columns[column];
  cl_status status;
  int all_null = c->logical == PARQUET_LOGICAL_NULL;
  size_t non_null = 0, plain_bytes = 0;
  if(!all_null) {
    if(v->count != rows)
      return cl_fail(err, CL_ERR_USAGE, "parquet writer: column %s has %zu values for %zu rows",
                     c->name, v->count, rows);
    if(v->defined) {
      for(size_t i = 0; i < rows; i++)
        non_null += v->defined[i] != 0;
    } else
      non_null = rows;
    if(!c->optional && non_null != rows)
      return cl_fail(err, CL_ERR_USAGE, "parquet writer: REQUIRED column %s has nulls", c->name);
    if(c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY || c->physical == PARQUET_BYTE_ARRAY)
      for(size_t i = 0; i < rows; i++) {
        if(v->defined && !v->defined[i])
          continue;
        if(c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY &&
           v->values.bytes[i].len != (uint32_t)c->type_length)
          return cl_fail(err, CL_ERR_USAGE,
                         "parquet writer: column %s row %zu has %u bytes, not %d", c->name, i,
                         v->values.bytes[i].len, (int)c->type_length);
        if(v->values.bytes[i].len && !v->values.bytes[i].data)
          return cl_fail(err, CL_ERR_USAGE, "parquet writer: column %s row %zu has no data",
                         c->name, i);
        plain_bytes += plain_size(c->physical, c->type_length, v, i);
      }
    else if(c->physical != PARQUET_BOOLEAN)
      plain_bytes = non_null * pq_plain_width(c->physical, c->type_length);
  }
  chunk->type = (int32_t)c->physical;
  chunk->codec = w->options.codec;
  chunk->name = c->name;
  chunk->num_values = (int64_t)rows;
  chunk->dictionary_page_offset = -1;
  chunk->encodings = 1u << PQ_ENC_PLAIN | 1u << PQ_ENC_RLE;
  chunk->has_statistics = w->options.statistics;
  chunk->statistics.has_null_count = 1;
  chunk->statistics.null_count = (int64_t)(rows - non_null);

  size_t dict_count = 0, dict_bytes = 0;
  int nomem = 0;
  column_history *history = &w->history[column];
  if(w->options.dictionary && !all_null && non_null && c->physical != PARQUET_BOOLEAN) {
    dict_count = build_dictionary(w, c, v, rows, non_null, plain_bytes, history, &dict_bytes,
                                  &nomem);
    if(nomem)
      return cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory for a dictionary");
    /* Mostly distinct values (row numbers, ids) make a dictionary as large
     * as the plain values plus the indices: PLAIN is smaller and cheaper to
     * read. */
    if(dict_count && non_null >= DICT_JUDGED_VALUES &&
       dict_bytes + non_null / 8 * (size_t)pq_bit_width(dict_count - 1) >= plain_bytes)
      dict_count = 0;
    history->fell_back = !dict_count;
    history->last_entries = dict_count;
  }
  if(w->options.statistics && !all_null && non_null &&
     (status = compute_statistics(c, v, rows, dict_count ? w->dict_rows : NULL, dict_count, chunk,
                                  err)))
    return status;

  pq_page_header h;
  int bit_width = 0;
  if(dict_count) {
    chunk->dictionary_page_offset = (int64_t)w->pos;
    chunk->encodings |= 1u << PQ_ENC_RLE_DICTIONARY;
    buf_clear(&w->page);
    pq_plain_encode(&w->page, c->physical, c->type_length, v, 0, 0, w->dict_rows, dict_count);
    memset(&h, 0, sizeof(h));
    h.type = PQ_PAGE_DICTIONARY;
    h.num_values = (int32_t)dict_count;
    h.encoding = PQ_ENC_PLAIN;
    if((status = write_page(w, &h, chunk, err)))
      return status;
    bit_width = pq_bit_width(dict_count - 1);
  }
  chunk->data_page_offset = (int64_t)w->pos;

  if(c->optional &&
     (status = MEM_GROW_ARRAY(w->levels, &w->levels_cap, rows ? rows : 1, 1024)))
    return cl_fail(err, status, "parquet writer: out of memory for levels");
  if(dict_count &&
     (status = MEM_GROW_ARRAY(w->page_indices, &w->page_indices_cap, rows, 1024)))
    return cl_fail(err, status, "parquet writer: out of memory for indices");

  size_t begin = 0;
  do {
    /* Page boundaries follow the plain size of the values, so dictionary
     * and plain chunks split alike. */
    size_t end = begin, estimate = 0;
    if(c->physical == PARQUET_BYTE_ARRAY && !all_null) {
      while(end < rows && end - begin < MAX_PAGE_ROWS &&
            (estimate < w->options.page_size || end == begin)) {
        if(!v->defined || v->defined[end])
          estimate += 4 + (size_t)v->values.bytes[end].len;
        estimate++;
        end++;
      }
    } else {
      /* Fixed width: every row counts as a value plus a level byte. */
      size_t per_row = (all_null ? 0 : plain_size(c->physical, c->type_length, v, 0)) + 1;
      size_t page_rows = w->options.page_size / per_row + 1;
      if(page_rows > MAX_PAGE_ROWS)
        page_rows = MAX_PAGE_ROWS;
      end = rows - begin < page_rows ? rows : begin + page_rows;
    }
    buf_clear(&w->page);
    if(c->optional) {
      buf_fill(&w->page, 0, 4);
      if(all_null || non_null == rows) {
        /* One level for the whole page: the single RLE run the general
         * encoder would produce, without building the levels. */
        pq_rle_encode_run(&w->page, !all_null, end - begin, 1);
      } else {
        uint8_t *levels = w->levels;
        const uint8_t *defined = v->defined + begin;
        for(size_t i = 0; i < end - begin; i++)
          levels[i] = defined[i] != 0;
        pq_rle_encode_levels(&w->page, levels, end - begin, 1);
      }
      if(!w->page.failed) {
        uint32_t l = (uint32_t)(w->page.len - 4);
        uint8_t le[4] = {(uint8_t)l, (uint8_t)(l >> 8), (uint8_t)(l >> 16), (uint8_t)(l >> 24)};
        memcpy(w->page.data, le, 4);
      }
    }
    memset(&h, 0, sizeof(h));
    h.type = PQ_PAGE_DATA;
    h.num_values = (int32_t)(end - begin);
    if(dict_count) {
      size_t k = 0;
      for(size_t i = begin; i < end; i++)
        if(!v->defined || v->defined[i])
          w->page_indices[k++] = w->row_index[i];
      buf_putc(&w->page, (char)bit_width);
      pq_rle_encode(&w->page, w->page_indices, k, bit_width);
      h.encoding = PQ_ENC_RLE_DICTIONARY;
    } else {
      if(!all_null)
        pq_plain_encode(&w->page, c->physical, c->type_length, v, begin, end, NULL, 0);
      h.encoding = PQ_ENC_PLAIN;
    }
    if((status = write_page(w, &h, chunk, err)))
      return status;
    begin = end;
  } while(begin < rows);
  return CL_OK;
}

static cl_status new_group(parquet_writer *w, pq_row_group_out **out, cl_error *err)
{
  cl_status status = MEM_GROW_ARRAY(w->groups, &w->group_cap, w->group_count + 1, 1024);
  if(status)
    return cl_fail(err, status, "parquet writer: out of memory");
  pq_row_group_out *g = &w->groups[w->group_count];
  memset(g, 0, sizeof(*g));
  g->columns = calloc(w->schema.column_count ? w->schema.column_count : 1, sizeof(pq_chunk_out));
  if(!g->columns)
    return cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory");
  w->group_count++;
  *out = g;
  return CL_OK;
}

static cl_status writer_usable(parquet_writer *w, cl_error *err)
{
  if(w->finished)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: already finished");
  if(w->failed)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: an earlier write failed (%s)",
                   cl_status_name(w->failed));
  return CL_OK;
}

cl_status parquet_writer_add_row_group(parquet_writer *w, size_t row_count,
                                       const parquet_column_vector *columns, cl_error *err)
{
  cl_status status;
  pq_row_group_out *g;
  if((status = writer_usable(w, err)))
    return status;
  if(row_count == 0)
    return CL_OK; /* an empty row group adds nothing a reader needs */
  if(row_count > UINT32_MAX)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: %zu rows in one row group", row_count);
  if((status = new_group(w, &g, err)))
    return status;
  g->num_rows = (int64_t)row_count;
  g->file_offset = (int64_t)w->pos;
  for(size_t c = 0; c < w->schema.column_count; c++) {
    pq_chunk_out *chunk = &g->columns[c];
    if((status = write_chunk(w, c, &columns[c], row_count, chunk, err))) {
      /* Bytes may be out already; the file cannot be finished consistently. */
      w->failed = status;
      return status;
    }
    g->total_byte_size += chunk->total_uncompressed_size;
    g->total_compressed_size += chunk->total_compressed_size;
  }
  return CL_OK;
}

static int same_schema(const parquet_schema *a, const parquet_schema *b)
{
  if(a->column_count != b->column_count)
    return 0;
  for(size_t i = 0; i < a->column_count; i++) {
    const parquet_column_schema *x = &a->columns[i], *y = &b->columns[i];
    if(strcmp(x->name, y->name) || x->physical != y->physical || x->optional != y->optional ||
       x->nested || y->nested)
      return 0;
    /* INT96 is a timestamp whether or not the caller said so; the reader
     * always reports it as one. */
    if(x->logical != y->logical && x->physical != PARQUET_INT96)
      return 0;
    if(x->physical == PARQUET_FIXED_LEN_BYTE_ARRAY && x->type_length != y->type_length)
      return 0;
    if(x->logical == PARQUET_LOGICAL_TIMESTAMP && x->physical == PARQUET_INT64 &&
       (x->unit != y->unit || !x->utc_adjusted != !y->utc_adjusted))
      return 0;
    if(x->logical == PARQUET_LOGICAL_INTEGER &&
       (x->bit_width != y->bit_width || !x->is_signed != !y->is_signed))
      return 0;
  }
  return 1;
}

cl_status parquet_writer_copy_row_groups(parquet_writer *w, parquet_reader *source,
                                         size_t first, size_t count, cl_error *err)
{
  cl_status status;
  const pq_footer *f = pq_reader_footer(source);
  const stream_file *file = pq_reader_file(source);
  if((status = writer_usable(w, err)))
    return status;
  if(!same_schema(&w->schema, parquet_reader_schema(source)))
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: %s has a different schema", file->name);
  if(first > f->row_group_count || count > f->row_group_count - first)
    return cl_fail(err, CL_ERR_USAGE, "parquet writer: %s has no row groups %zu..%zu", file->name,
                   first, first + count);
  uint8_t *block = malloc(COPY_CHUNK);
  if(!block)
    return cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory");
  for(size_t g = first; g < first + count; g++) {
    const pq_row_group *src = &f->row_groups[g];
    pq_row_group_out *out;
    if(src->num_rows == 0)
      continue;
    /* Check every chunk before the first byte goes out, so a bad source
     * leaves the writer usable. */
    for(size_t c = 0; c < w->schema.column_count; c++) {
      uint64_t start, len;
      if((status = pq_reader_chunk_range(source, g, c, &start, &len, err)))
        goto done;
    }
    if((status = new_group(w, &out, err)))
      goto done;
    out->num_rows = src->num_rows;
    out->total_byte_size = src->total_byte_size;
    out->file_offset = (int64_t)w->pos;
    for(size_t c = 0; c < w->schema.column_count; c++) {
      const pq_chunk_meta *m = &src->columns[c];
      pq_chunk_out *chunk = &out->columns[c];
      uint64_t start, len;
      if((status = pq_reader_chunk_range(source, g, c, &start, &len, err))) {
        w->failed = status;
        goto done;
      }
      int64_t delta = (int64_t)w->pos - (int64_t)start;
      chunk->type = m->type;
      chunk->encodings = m->encodings;
      chunk->codec = m->codec;
      chunk->name = w->schema.columns[c].name;
      chunk->num_values = m->num_values;
      chunk->total_uncompressed_size = m->total_uncompressed_size;
      chunk->total_compressed_size = m->total_compressed_size;
      chunk->data_page_offset = m->data_page_offset + delta;
      chunk->dictionary_page_offset = (int64_t)start < m->data_page_offset
                                        ? (int64_t)start + delta : -1;
      chunk->has_statistics = m->has_statistics;
      chunk->legacy_min_max = m->legacy_min_max;
      chunk->statistics = m->statistics;
      if(m->statistics.has_min_max &&
         !statistics_fit(m->statistics.min_value.len, m->statistics.max_value.len))
        chunk->statistics.has_min_max = 0;
      if(chunk->statistics.has_min_max) {
        size_t lo = m->statistics.min_value.len, hi = m->statistics.max_value.len;
        chunk->stats_storage = malloc(lo + hi + 1);
        if(!chunk->stats_storage) {
          status = cl_fail(err, CL_ERR_NOMEM, "parquet writer: out of memory");
          w->failed = status;
          goto done;
        }
        if(lo)
          memcpy(chunk->stats_storage, m->statistics.min_value.data, lo);
        if(hi)
          memcpy(chunk->stats_storage + lo, m->statistics.max_value.data, hi);
        chunk->statistics.min_value.data = chunk->stats_storage;
        chunk->statistics.max_value.data = chunk->stats_storage + lo;
      }
      for(uint64_t done_bytes = 0; done_bytes < len;) {
        size_t n = len - done_bytes < COPY_CHUNK ? (size_t)(len - done_bytes) : COPY_CHUNK;
        if((status = file->read_at(file->ctx, start + done_bytes, block, n, err))) {
          cl_error_prefix(err, "%s: copying row group %zu", file->name, g);
          w->failed = status;
          goto done;
        }
        if((status = sink_write(w, block, n, err)))
          goto done;
        done_bytes += n;
      }
      out->total_compressed_size += m->total_compressed_size;
    }
  }
  status = CL_OK;
done:
  free(block);
  return status;
}

cl_status parquet_writer_finish(parquet_writer *w, cl_error *err)
{
  cl_status status;
  if((status = writer_usable(w, err)))
    return status;
  buf footer;
  buf_init(&footer, 0);
  pq_footer_encode(&footer, &w->schema, w->groups, w->group_count, w->metadata,
                   w->metadata_count, w->created_by);
  if(footer.failed || footer.len > UINT32_MAX) {
    buf_free(&footer);
    return cl_fail(err, footer.failed ? footer.failed : CL_ERR_LIMIT,
                   "parquet writer: encoding the footer");
  }
  uint32_t l = (uint32_t)footer.len;
  uint8_t tail[8] = {(uint8_t)l, (uint8_t)(l >> 8), (uint8_t)(l >> 16), (uint8_t)(l >> 24),
                     'P', 'A', 'R', '1'};
  status = sink_write(w, footer.data, footer.len, err);
  if(!status)
    status = sink_write(w, tail, 8, err);
  buf_free(&footer);
  if(!status)
    w->finished = 1;
  return status;
}

/* ---- compaction ---- */

static cl_status merge_and_write(parquet_writer *w, parquet_reader *source, size_t first,
                                 size_t count, size_t rows, cl_error *err)
{
  size_t columns = w->schema.column_count;
  cl_status status = CL_OK;
  size_t part_count = count * columns;
  parquet_column_vector *parts = calloc(part_count ? part_count : 1, sizeof(*parts));
  parquet_column_vector *merged = calloc(columns ? columns : 1, sizeof(*merged));
  if(!parts || !merged) {
    status = cl_fail(err, CL_ERR_NOMEM, "parquet rewrite: out of memory");
    goto done;
  }
  for(size_t c = 0; c < columns; c++) {
    const parquet_column_schema *s = &w->schema.columns[c];
    size_t size = pq_value_size(s->physical), at = 0;
    merged[c].count = rows;
    merged[c].values.boolean = malloc(rows * size);
    if(s->optional)
      merged[c].defined = malloc(rows);
    if(!merged[c].values.boolean || (s->optional && !merged[c].defined)) {
      status = cl_fail(err, CL_ERR_NOMEM, "parquet rewrite: out of memory");
      goto done;
    }
    for(size_t g = 0; g < count; g++) {
      parquet_column_vector *part = &parts[g * columns + c];
      if((status = parquet_reader_read_column(source, first + g, c, part, err)))
        goto done;
      if(part->count > rows - at) {
        status = cl_fail(err, CL_ERR_FORMAT, "parquet rewrite: row counts disagree");
        goto done;
      }
      if(part->count)
        memcpy(merged[c].values.boolean + at * size, part->values.boolean, part->count * size);
      if(merged[c].defined) {
        if(part->defined)
          memcpy(merged[c].defined + at, part->defined, part->count);
        else
          memset(merged[c].defined + at, 1, part->count);
      }
      at += part->count;
    }
  }
  status = parquet_writer_add_row_group(w, rows, merged, err);
done:
  if(parts)
    for(size_t i = 0; i < part_count; i++)
      parquet_column_vector_free(&parts[i]);
  if(merged)
    for(size_t c = 0; c < columns; c++) {
      free(merged[c].values.boolean);
      free(merged[c].defined);
    }
  free(parts);
  free(merged);
  return status;
}

cl_status parquet_rewrite(parquet_reader *source, size_t first, size_t count,
                          parquet_writer *writer, size_t target_rows, cl_error *err)
{
  cl_status status;
  const parquet_file_info *info = parquet_reader_info(source);
  const stream_file *file = pq_reader_file(source);
  if((status = writer_usable(writer, err)))
    return status;
  if(!same_schema(&writer->schema, parquet_reader_schema(source)))
    return cl_fail(err, CL_ERR_USAGE, "parquet rewrite: %s has a different schema", file->name);
  if(first > info->row_group_count || count > info->row_group_count - first)
    return cl_fail(err, CL_ERR_USAGE, "parquet rewrite: %s has no row groups %zu..%zu",
                   file->name, first, first + count);
  if(target_rows == 0)
    target_rows = 1;
  size_t run_start = first, run_rows = 0;
  for(size_t g = first; g < first + count; g++) {
    int64_t n = info->row_groups[g].row_count;
    if(n < 0 || (uint64_t)n > UINT32_MAX - run_rows)
      return cl_fail(err, CL_ERR_LIMIT, "parquet rewrite: %s: row group %zu is too large",
                     file->name, g);
    run_rows += (size_t)n;
    if(run_rows >= target_rows || g + 1 == first + count) {
      if(run_rows &&
         (status = merge_and_write(writer, source, run_start, g + 1 - run_start, run_rows, err)))
        return status;
      run_start = g + 1;
      run_rows = 0;
    }
  }
  return CL_OK;
}
