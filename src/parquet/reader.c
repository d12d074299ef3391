#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/internal.h"
#include "parquet/metadata.h"
#include "parquet/parquet.h"

#define SCHEMA_MAX_DEPTH 64

struct parquet_reader {
  stream_file file;
  parquet_reader_options options;
  uint8_t *footer_bytes;
  uint64_t footer_length;
  pq_footer footer;
  parquet_schema schema;
  parquet_file_info info;
  parquet_row_group_info *row_groups;
  parquet_column_chunk_info *chunks;
  buf chunk;     /* the column chunk being read (fixed-width types) */
  buf page;      /* a decompressed page (fixed-width types) */
  buf indices;   /* dictionary indices of a page */
  buf dict;      /* the dictionary being read */
};

/* Reader-owned memory of a column vector: every block it points into. */
typedef struct vector_storage {
  void **blocks;
  size_t count, cap;
} vector_storage;

static int storage_add(vector_storage *s, void *block)
{
  if(!block)
    return 0;
  if(MEM_GROW_ARRAY(s->blocks, &s->cap, s->count + 1, 8))
    return 0;
  s->blocks[s->count++] = block;
  return 1;
}

void parquet_column_vector_free(parquet_column_vector *vector)
{
  if(!vector)
    return;
  vector_storage *s = vector->storage;
  if(s) {
    for(size_t i = 0; i < s->count; i++)
      free(s->blocks[i]);
    free(s->blocks);
    free(s);
    memset(vector, 0, sizeof(*vector));
  }
}

size_t pq_value_size(parquet_physical_type type)
{
  switch(type) {
  case PARQUET_BOOLEAN: return 1;
  case PARQUET_INT32:
  case PARQUET_FLOAT: return 4;
  case PARQUET_INT64:
  case PARQUET_DOUBLE: return 8;
  case PARQUET_INT96: return sizeof(parquet_int96);
  default: return sizeof(parquet_bytes);
  }
}

void parquet_reader_options_default(parquet_reader_options *options)
{
  options->max_footer_bytes = 64u << 20;
  options->max_page_bytes = 256u << 20;
  options->max_column_values = 1u << 27;
  options->max_read_bytes = 64u << 20;
  options->max_read_bytes_per_file_byte = 16;
}

/* What one read may allocate: see parquet_reader_options. */
static uint64_t read_budget(const parquet_reader *r)
{
  uint64_t per_byte = r->options.max_read_bytes_per_file_byte, scaled = UINT64_MAX, total;
  if(!per_byte || r->file.size <= UINT64_MAX / per_byte)
    scaled = r->file.size * per_byte;
  if(__builtin_add_overflow(scaled, r->options.max_read_bytes, &total))
    total = UINT64_MAX;
  return total;
}

const pq_footer *pq_reader_footer(const parquet_reader *reader)
{
  return &reader->footer;
}

const stream_file *pq_reader_file(const parquet_reader *reader)
{
  return &reader->file;
}

const parquet_schema *parquet_reader_schema(const parquet_reader *reader)
{
  return &reader->schema;
}

const parquet_file_info *parquet_reader_info(const parquet_reader *reader)
{
  return &reader->info;
}

int parquet_reader_find_column(const parquet_reader *reader, const char *name)
{
  for(size_t i = 0; i < reader->schema.column_count; i++) {
    const parquet_column_schema *c = &reader->schema.columns[i];
    if(!c->nested && !strcmp(c->name, name))
      return (int)i;
  }
  return -1;
}

void parquet_reader_free(parquet_reader *reader)
{
  if(!reader)
    return;
  for(size_t i = 0; i < reader->schema.column_count; i++)
    free(reader->schema.columns[i].name);
  free(reader->schema.columns);
  free(reader->row_groups);
  free(reader->chunks);
  pq_footer_free(&reader->footer);
  free(reader->footer_bytes);
  buf_free(&reader->chunk);
  buf_free(&reader->page);
  buf_free(&reader->indices);
  buf_free(&reader->dict);
  free(reader);
}

/* ---- schema ---- */

static void map_logical(const pq_schema_element *e, parquet_column_schema *c)
{
  c->logical = PARQUET_LOGICAL_NONE;
  c->unit = PARQUET_MICROS;
  if(c->physical == PARQUET_INT96) {
    c->logical = PARQUET_LOGICAL_TIMESTAMP;
    c->unit = PARQUET_NANOS;
    return;
  }
  switch(e->logical) {
  case PQ_LT_NONE: break;
  case PQ_LT_STRING: c->logical = PARQUET_LOGICAL_STRING; return;
  case PQ_LT_DATE: c->logical = PARQUET_LOGICAL_DATE; return;
  case PQ_LT_UNKNOWN: c->logical = PARQUET_LOGICAL_NULL; return;
  case PQ_LT_TIMESTAMP:
    c->logical = PARQUET_LOGICAL_TIMESTAMP;
    c->unit = (parquet_time_unit)e->ts_unit;
    c->utc_adjusted = e->ts_utc;
    return;
  case PQ_LT_INTEGER:
    c->logical = PARQUET_LOGICAL_INTEGER;
    c->bit_width = e->int_bits;
    c->is_signed = e->int_signed;
    return;
  default: c->logical = PARQUET_LOGICAL_OTHER; return;
  }
  if(!e->has_converted)
    return;
  switch(e->converted) {
  case PQ_CT_UTF8: c->logical = PARQUET_LOGICAL_STRING; return;
  case PQ_CT_DATE: c->logical = PARQUET_LOGICAL_DATE; return;
  case PQ_CT_TIMESTAMP_MILLIS:
  case PQ_CT_TIMESTAMP_MICROS:
    c->logical = PARQUET_LOGICAL_TIMESTAMP;
    c->unit = e->converted == PQ_CT_TIMESTAMP_MILLIS ? PARQUET_MILLIS : PARQUET_MICROS;
    c->utc_adjusted = 1; /* the converted types mean UTC-normalised instants */
    return;
  case PQ_CT_ARROW_NA:
    c->logical = PARQUET_LOGICAL_NULL;
    return;
  default:
    if(e->converted >= PQ_CT_UINT_8 && e->converted <= PQ_CT_INT_64) {
      int k = e->converted - PQ_CT_UINT_8;
      c->logical = PARQUET_LOGICAL_INTEGER;
      c->is_signed = k >= 4;
      c->bit_width = 8 << (k % 4);
    } else
      c->logical = PARQUET_LOGICAL_OTHER;
  }
}

typedef struct schema_walk {
  parquet_reader *reader;
  uint32_t next;      /* next schema element */
  size_t cap;
  cl_error *err;
} schema_walk;

static cl_status add_leaf(schema_walk *w, const pq_schema_element *e, const char *path,
                          int nested)
{
  parquet_schema *s = &w->reader->schema;
  cl_status status = MEM_GROW_ARRAY(s->columns, &w->cap, s->column_count + 1, 16);
  if(status)
    return cl_fail(w->err, status, "%s: out of memory reading the schema",
                   w->reader->file.name);
  parquet_column_schema *c = &s->columns[s->column_count];
  memset(c, 0, sizeof(*c));
  c->name = strdup(path);
  if(!c->name)
    return cl_fail(w->err, CL_ERR_NOMEM, "%s: out of memory reading the schema",
                   w->reader->file.name);
  s->column_count++;
  if(!e->has_type || e->type < PARQUET_BOOLEAN || e->type > PARQUET_FIXED_LEN_BYTE_ARRAY)
    return cl_fail(w->err, CL_ERR_FORMAT, "%s: column %s has no valid physical type",
                   w->reader->file.name, path);
  c->physical = (parquet_physical_type)e->type;
  c->type_length = e->type_length;
  if(c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY && c->type_length <= 0)
    return cl_fail(w->err, CL_ERR_FORMAT, "%s: column %s is FIXED_LEN_BYTE_ARRAY of length %d",
                   w->reader->file.name, path, (int)c->type_length);
  c->optional = e->has_repetition && e->repetition == PQ_OPTIONAL;
  /* REPEATED, and any repetition newer than this reader (VECTOR), needs
   * level handling a flat reader does not do. */
  c->nested = nested || (e->has_repetition && e->repetition != PQ_REQUIRED &&
                         e->repetition != PQ_OPTIONAL);
  map_logical(e, c);
  return CL_OK;
}

static cl_status walk_children(schema_walk *w, int32_t children, const char *prefix, int depth,
                               int nested)
{
  pq_footer *f = &w->reader->footer;
  cl_status status;
  if(depth > SCHEMA_MAX_DEPTH)
    return cl_fail(w->err, CL_ERR_FORMAT, "%s: schema nested too deeply", w->reader->file.name);
  for(int32_t i = 0; i < children; i++) {
    if(w->next >= f->schema_count)
      return cl_fail(w->err, CL_ERR_FORMAT, "%s: schema has fewer elements than its groups claim",
                     w->reader->file.name);
    const pq_schema_element *e = &f->schema[w->next++];
    size_t plen = strlen(prefix), nlen = strlen(e->name);
    char *path = malloc(plen + nlen + 2);
    if(!path)
      return cl_fail(w->err, CL_ERR_NOMEM, "%s: out of memory reading the schema",
                     w->reader->file.name);
    if(plen) {
      memcpy(path, prefix, plen);
      path[plen] = '.';
      memcpy(path + plen + 1, e->name, nlen + 1);
    } else
      memcpy(path, e->name, nlen + 1);
    if(e->num_children > 0)
      status = walk_children(w, e->num_children, path, depth + 1, 1);
    else if(!e->has_type) /* an empty group has no leaves */
      status = CL_OK;
    else
      status = add_leaf(w, e, path, nested);
    free(path);
    if(status)
      return status;
  }
  return CL_OK;
}

/* ---- open ---- */

static int64_t chunk_start(const pq_chunk_meta *m)
{
  /* Some writers record dictionary_page_offset 0 while the dictionary page
   * sits at data_page_offset; only an offset before the data pages counts. */
  if(m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
     m->dictionary_page_offset < m->data_page_offset)
    return m->dictionary_page_offset;
  return m->data_page_offset;
}

cl_status pq_reader_chunk_range(const parquet_reader *reader, size_t row_group, size_t column,
                                uint64_t *start, uint64_t *len, cl_error *err)
{
  const pq_chunk_meta *m = &reader->footer.row_groups[row_group].columns[column];
  int64_t s = chunk_start(m);
  uint64_t data_end = reader->file.size - 8 - reader->footer_length;
  if(m->has_file_path)
    return cl_fail(err, CL_ERR_UNSUPPORTED,
                   "%s: row group %zu, column %s: data lives in another file",
                   reader->file.name, row_group, reader->schema.columns[column].name);
  if(s < 4 || (uint64_t)s > data_end || (uint64_t)m->total_compressed_size > data_end - (uint64_t)s)
    return cl_fail(err, CL_ERR_FORMAT,
                   "%s: row group %zu, column %s: chunk at offset %lld of %lld bytes lies "
                   "outside the data (%llu bytes)",
                   reader->file.name, row_group, reader->schema.columns[column].name,
                   (long long)s, (long long)m->total_compressed_size,
                   (unsigned long long)data_end);
  *start = (uint64_t)s;
  *len = (uint64_t)m->total_compressed_size;
  return CL_OK;
}

static cl_status build_info(parquet_reader *r, cl_error *err)
{
  pq_footer *f = &r->footer;
  size_t columns = r->schema.column_count;
  r->row_groups = calloc(f->row_group_count ? f->row_group_count : 1, sizeof(*r->row_groups));
  if(columns && f->row_group_count > SIZE_MAX / columns / sizeof(*r->chunks))
    return cl_fail(err, CL_ERR_LIMIT, "%s: too many column chunks", r->file.name);
  size_t chunk_count = (size_t)f->row_group_count * columns;
  r->chunks = calloc(chunk_count ? chunk_count : 1, sizeof(*r->chunks));
  if(!r->row_groups || !r->chunks)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory reading the footer", r->file.name);
  for(uint32_t g = 0; g < f->row_group_count; g++) {
    const pq_row_group *rg = &f->row_groups[g];
    parquet_row_group_info *info = &r->row_groups[g];
    if(rg->column_count != columns)
      return cl_fail(err, CL_ERR_FORMAT, "%s: row group %u has %u column chunks, the schema %zu",
                     r->file.name, g, rg->column_count, columns);
    info->row_count = rg->num_rows;
    info->total_byte_size = rg->total_byte_size;
    info->columns = &r->chunks[(size_t)g * columns];
    int64_t sum = 0;
    for(size_t c = 0; c < columns; c++) {
      const pq_chunk_meta *m = &rg->columns[c];
      parquet_column_chunk_info *ci = &info->columns[c];
      ci->codec = m->codec;
      ci->encodings = m->encodings;
      ci->value_count = m->num_values;
      ci->total_compressed_size = m->total_compressed_size;
      ci->total_uncompressed_size = m->total_uncompressed_size;
      ci->data_page_offset = m->data_page_offset;
      ci->dictionary_page_offset = m->has_dictionary_page_offset ? m->dictionary_page_offset : -1;
      ci->statistics = m->statistics;
      if(__builtin_add_overflow(sum, m->total_compressed_size, &sum))
        return cl_fail(err, CL_ERR_FORMAT, "%s: row group %u sizes overflow", r->file.name, g);
    }
    info->file_offset = rg->has_file_offset ? rg->file_offset
                        : columns                ? chunk_start(&rg->columns[0])
                                                 : 4;
    info->compressed_size = rg->has_total_compressed_size ? rg->total_compressed_size : sum;
  }
  r->info.version = f->version;
  r->info.row_count = f->num_rows;
  r->info.created_by = f->created_by;
  r->info.row_group_count = f->row_group_count;
  r->info.row_groups = r->row_groups;
  r->info.metadata_count = f->metadata_count;
  r->info.metadata = f->metadata;
  r->info.footer_length = r->footer_length;
  return CL_OK;
}

cl_status parquet_reader_open(stream_file file, const parquet_reader_options *options,
                              parquet_reader **out, cl_error *err)
{
  cl_status status;
  uint8_t tail[8], head[4];
  *out = NULL;
  parquet_reader *r = calloc(1, sizeof(*r));
  if(!r)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", file.name);
  r->file = file;
  if(options)
    r->options = *options;
  else
    parquet_reader_options_default(&r->options);
  buf_init(&r->chunk, 0);
  buf_init(&r->page, 0);
  buf_init(&r->indices, 0);
  buf_init(&r->dict, 0);
  if(file.size < 12) {
    status = cl_fail(err, CL_ERR_FORMAT, "%s: %llu bytes is too small for a Parquet file",
                     file.name, (unsigned long long)file.size);
    goto fail;
  }
  if((status = file.read_at(file.ctx, 0, head, 4, err)) ||
     (status = file.read_at(file.ctx, file.size - 8, tail, 8, err))) {
    cl_error_prefix(err, "%s", file.name);
    goto fail;
  }
  if(!memcmp(tail + 4, "PARE", 4)) {
    status = cl_fail(err, CL_ERR_UNSUPPORTED, "%s: encrypted Parquet footers are not supported",
                     file.name);
    goto fail;
  }
  if(memcmp(head, "PAR1", 4) || memcmp(tail + 4, "PAR1", 4)) {
    status = cl_fail(err, CL_ERR_FORMAT, "%s: not a Parquet file (no PAR1 magic)", file.name);
    goto fail;
  }
  r->footer_length = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 | (uint64_t)tail[2] << 16 |
                     (uint64_t)tail[3] << 24;
  if(r->footer_length > file.size - 12) {
    status = cl_fail(err, CL_ERR_FORMAT, "%s: footer length %llu exceeds the file size %llu",
                     file.name, (unsigned long long)r->footer_length,
                     (unsigned long long)file.size);
    goto fail;
  }
  if(r->footer_length > r->options.max_footer_bytes) {
    status = cl_fail(err, CL_ERR_LIMIT, "%s: footer of %llu bytes exceeds the limit of %llu",
                     file.name, (unsigned long long)r->footer_length,
                     (unsigned long long)r->options.max_footer_bytes);
    goto fail;
  }
  r->footer_bytes = malloc(r->footer_length ? r->footer_length : 1);
  if(!r->footer_bytes) {
    status = cl_fail(err, CL_ERR_NOMEM, "%s: out of memory for the footer", file.name);
    goto fail;
  }
  if((status = file.read_at(file.ctx, file.size - 8 - r->footer_length, r->footer_bytes,
                            r->footer_length, err))) {
    cl_error_prefix(err, "%s", file.name);
    goto fail;
  }
  if((status = pq_footer_decode(r->footer_bytes, r->footer_length, read_budget(r), &r->footer,
                                 err))) {
    cl_error_prefix(err, "%s", file.name);
    goto fail;
  }
  if(r->footer.encrypted) {
    status = cl_fail(err, CL_ERR_UNSUPPORTED, "%s: encrypted Parquet files are not supported",
                     file.name);
    goto fail;
  }
  if(r->footer.schema_count == 0) {
    status = cl_fail(err, CL_ERR_FORMAT, "%s: empty schema", file.name);
    goto fail;
  }
  schema_walk walk = {r, 1, 0, err};
  if((status = walk_children(&walk, r->footer.schema[0].num_children, "", 0, 0)))
    goto fail;
  if((status = build_info(r, err)))
    goto fail;
  *out = r;
  return CL_OK;
fail:
  parquet_reader_free(r);
  return status;
}

/* ---- column reading ---- */

typedef struct column_read {
  parquet_reader *r;
  size_t row_group, column;
  const parquet_column_schema *schema;
  size_t value_size;
  int bytes_type;           /* BYTE_ARRAY or FLBA: values point into page memory */
  int chunk_kept;           /* the chunk buffer belongs to the vector */
  parquet_column_vector *out;
  vector_storage *storage;
  size_t rows, produced;
  uint64_t budget;          /* what out may take: read_budget() */
  uint64_t kept_bytes;      /* allocated for out so far */
  cl_status failure;        /* why keep_block() returned NULL */
  uint8_t *values;          /* out's values array */
  void *dict;
  size_t dict_count;
  size_t page_index;
  uint64_t page_offset;
  cl_error *err;
} column_read;

static cl_status page_fail(column_read *c, cl_status status, const char *what)
{
  return cl_fail(c->err, status, "%s: row group %zu, column %s, page %zu (offset %llu): %s",
                 c->r->file.name, c->row_group, c->schema->name, c->page_index,
                 (unsigned long long)c->page_offset, what);
}

static cl_status page_prefix(column_read *c, cl_status status)
{
  cl_error_prefix(c->err, "%s: row group %zu, column %s, page %zu (offset %llu)", c->r->file.name,
                  c->row_group, c->schema->name, c->page_index,
                  (unsigned long long)c->page_offset);
  return status;
}

/* Levels, or RLE booleans, behind the 4-byte little-endian length that data
 * page v1 puts in front of them; *used counts the length too. */
static cl_status decode_prefixed_levels(column_read *c, const char *what, const uint8_t *data,
                                        size_t len, uint8_t *out, size_t n, size_t *used)
{
  if(len < 4)
    return page_prefix(c, cl_fail(c->err, CL_ERR_FORMAT, "%s without a length", what));
  uint32_t l = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
               (uint32_t)data[3] << 24;
  if(l > len - 4)
    return page_prefix(c, cl_fail(c->err, CL_ERR_FORMAT, "%s past the end of the page", what));
  pq_rle_decoder d;
  pq_rle_init(&d, data + 4, l, 1);
  const char *why = pq_rle_decode_levels(&d, out, n, 1);
  if(why)
    return page_fail(c, CL_ERR_FORMAT, why);
  *used = 4 + (size_t)l;
  return CL_OK;
}

/* A block the vector keeps, or NULL after recording the failure in
 * c->failure. */
static void *keep_block(column_read *c, size_t size)
{
  if(size > c->budget - c->kept_bytes) {
    c->failure = cl_fail(c->err, CL_ERR_LIMIT,
                         "%s: row group %zu, column %s: decoding needs more than the %llu bytes "
                         "of memory allowed for a file of %llu bytes", c->r->file.name,
                         c->row_group, c->schema->name, (unsigned long long)c->budget,
                         (unsigned long long)c->r->file.size);
    return NULL;
  }
  c->kept_bytes += size;
  void *p = malloc(size ? size : 1);
  if(!p || !storage_add(c->storage, p)) {
    free(p);
    c->failure = page_fail(c, CL_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return p;
}

/* Decompress a page body; byte-array values will point into the result, so
 * for those types it is kept with the vector. */
static cl_status page_body(column_read *c, parquet_codec codec, const uint8_t *src,
                           size_t src_len, size_t raw_len, int keep, const uint8_t **body)
{
  if(codec == PARQUET_CODEC_NONE) {
    if(src_len != raw_len)
      return page_fail(c, CL_ERR_FORMAT, "uncompressed page sizes disagree");
    if(keep && !c->chunk_kept) {
      /* An uncompressed v2 page inside a compressed chunk. */
      uint8_t *copy = keep_block(c, raw_len);
      if(!copy)
        return c->failure;
      if(raw_len)
        memcpy(copy, src, raw_len);
      src = copy;
    }
    *body = src;
    return CL_OK;
  }
  uint8_t *dst;
  if(keep) {
    if(!(dst = keep_block(c, raw_len)))
      return c->failure;
  } else {
    buf_clear(&c->r->page);
    if(buf_reserve(&c->r->page, raw_len))
      return page_fail(c, CL_ERR_NOMEM, "out of memory for a page");
    dst = (uint8_t *)c->r->page.data;
  }
  if(raw_len == 0 && src_len == 0) {
    *body = dst;
    return CL_OK;
  }
  cl_status status = pq_decompress(codec, src, src_len, dst, raw_len, c->err);
  if(status)
    return page_prefix(c, status);
  *body = dst;
  return CL_OK;
}

static cl_status decode_dictionary(column_read *c, const uint8_t *data, size_t len, int32_t n,
                                   int32_t encoding)
{
  const parquet_column_schema *s = c->schema;
  if(c->dict)
    return page_fail(c, CL_ERR_FORMAT, "a second dictionary page");
  if(encoding != PQ_ENC_PLAIN && encoding != PQ_ENC_PLAIN_DICTIONARY)
    return page_fail(c, CL_ERR_UNSUPPORTED, "dictionary page not PLAIN-encoded");
  size_t w = pq_plain_width(s->physical, s->type_length);
  size_t most = s->physical == PARQUET_BYTE_ARRAY ? len / 4
                : s->physical == PARQUET_BOOLEAN  ? len * 8
                                                  : len / (w ? w : 1);
  if((size_t)n > most)
    return page_fail(c, CL_ERR_FORMAT, "dictionary holds more entries than its bytes allow");
  /* Gathering copies entries out of the dictionary, so its array is only
   * scratch; byte-array entries point into the page body, which is kept. */
  buf_clear(&c->r->dict);
  if(buf_reserve(&c->r->dict, (size_t)n * c->value_size))
    return page_fail(c, CL_ERR_NOMEM, "out of memory for a dictionary");
  void *dict = c->r->dict.data;
  size_t used;
  const char *why = pq_plain_decode(s->physical, s->type_length, data, len, (size_t)n, dict, &used);
  if(why)
    return page_fail(c, CL_ERR_FORMAT, why);
  c->dict = dict;
  c->dict_count = (size_t)n;
  return CL_OK;
}

#define GATHER(type)                                                       \
  do {                                                                     \
    const type *from = c->dict;                                            \
    type *to = (type *)dst;                                                \
    for(size_t i = 0; i < k; i++)                                          \
      to[i] = from[idx[i]];                                                \
  } while(0)

static cl_status decode_values(column_read *c, int32_t encoding, const uint8_t *data, size_t len,
                               size_t k, uint8_t *dst)
{
  const parquet_column_schema *s = c->schema;
  const char *why = NULL;
  size_t used;
  switch(encoding) {
  case PQ_ENC_PLAIN:
    why = pq_plain_decode(s->physical, s->type_length, data, len, k, dst, &used);
    break;
  case PQ_ENC_PLAIN_DICTIONARY:
  case PQ_ENC_RLE_DICTIONARY: {
    if(!c->dict)
      return page_fail(c, CL_ERR_FORMAT, "dictionary-encoded page without a dictionary page");
    if(k == 0)
      return CL_OK;
    if(len < 1)
      return page_fail(c, CL_ERR_FORMAT, "dictionary page data without a bit width");
    int width = data[0];
    if(width > 32)
      return page_fail(c, CL_ERR_FORMAT, "dictionary index bit width above 32");
    buf_clear(&c->r->indices);
    if(buf_reserve(&c->r->indices, k * sizeof(uint32_t)))
      return page_fail(c, CL_ERR_NOMEM, "out of memory for dictionary indices");
    uint32_t *idx = (uint32_t *)(void *)c->r->indices.data;
    pq_rle_decoder d;
    pq_rle_init(&d, data + 1, len - 1, width);
    if((why = pq_rle_decode(&d, idx, k)))
      break;
    uint32_t bad = 0;
    for(size_t i = 0; i < k; i++)
      bad |= idx[i] >= c->dict_count;
    if(bad)
      return page_fail(c, CL_ERR_FORMAT, "dictionary index out of range");
    switch(c->value_size) {
    case 1: GATHER(uint8_t); break;
    case 4: GATHER(uint32_t); break;
    case 8: GATHER(uint64_t); break;
    case sizeof(parquet_int96): GATHER(parquet_int96); break;
    default: GATHER(parquet_bytes); break;
    }
    break;
  }
  case PQ_ENC_RLE: {
    if(s->physical != PARQUET_BOOLEAN)
      return page_fail(c, CL_ERR_UNSUPPORTED, "RLE encoding for a non-boolean column");
    return decode_prefixed_levels(c, "RLE booleans", data, len, dst, k, &used);
  }
  case PQ_ENC_DELTA_BINARY_PACKED:
    if(s->physical != PARQUET_INT32 && s->physical != PARQUET_INT64)
      return page_fail(c, CL_ERR_FORMAT, "DELTA_BINARY_PACKED for a non-integer column");
    why = pq_delta_binary_decode(data, len, k, s->physical == PARQUET_INT64, dst, &used);
    break;
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    if(s->physical != PARQUET_BYTE_ARRAY)
      return page_fail(c, CL_ERR_FORMAT, "DELTA_LENGTH_BYTE_ARRAY for a non-BYTE_ARRAY column");
    why = pq_delta_length_decode(data, len, k, (parquet_bytes *)(void *)dst, &used);
    break;
  case PQ_ENC_DELTA_BYTE_ARRAY: {
    if(!c->bytes_type)
      return page_fail(c, CL_ERR_FORMAT, "DELTA_BYTE_ARRAY for a non-byte-array column");
    uint8_t *heap = NULL;
    parquet_bytes *v = (parquet_bytes *)(void *)dst;
    uint64_t room = c->budget - c->kept_bytes;
    uint64_t limit = c->r->options.max_page_bytes < room ? c->r->options.max_page_bytes : room;
    why = pq_delta_byte_array_decode(data, len, k, limit, v, &heap);
    if(why)
      break;
    if(!storage_add(c->storage, heap)) {
      free(heap);
      return page_fail(c, CL_ERR_NOMEM, "out of memory");
    }
    for(size_t i = 0; i < k; i++) {
      c->kept_bytes += v[i].len;
      if(s->physical == PARQUET_FIXED_LEN_BYTE_ARRAY && v[i].len != (uint32_t)s->type_length)
        return page_fail(c, CL_ERR_FORMAT, "DELTA_BYTE_ARRAY value of the wrong fixed length");
    }
    break;
  }
  case PQ_ENC_BYTE_STREAM_SPLIT: {
    if(s->physical == PARQUET_FIXED_LEN_BYTE_ARRAY) {
      size_t w = (size_t)s->type_length;
      if(k > len / w)
        return page_fail(c, CL_ERR_FORMAT, "BYTE_STREAM_SPLIT values past the end of the page");
      uint8_t *heap = keep_block(c, k * w);
      if(!heap)
        return c->failure;
      if(!(why = pq_byte_stream_split_decode(data, len, k, w, heap))) {
        parquet_bytes *v = (parquet_bytes *)(void *)dst;
        for(size_t i = 0; i < k; i++)
          v[i] = (parquet_bytes){heap + i * w, (uint32_t)w};
      }
    } else if(s->physical == PARQUET_INT32 || s->physical == PARQUET_INT64 ||
              s->physical == PARQUET_FLOAT || s->physical == PARQUET_DOUBLE)
      why = pq_byte_stream_split_decode(data, len, k, c->value_size, dst);
    else
      return page_fail(c, CL_ERR_FORMAT, "BYTE_STREAM_SPLIT for an unsupported type");
    break;
  }
  default:
    return page_fail(c, CL_ERR_UNSUPPORTED, "unsupported value encoding");
  }
  if(why)
    return page_fail(c, CL_ERR_FORMAT, why);
  return CL_OK;
}

/* Spread k compact values at the start of [base, base + n) to the defined
 * positions, back to front so that no value is overwritten before it moves. */
#define SCATTER(type)                                                      \
  do {                                                                     \
    type *v = (type *)base;                                                \
    size_t j = k;                                                          \
    for(size_t i = n; i-- > 0;) {                                          \
      if(defined[i])                                                       \
        v[i] = v[--j];                                                     \
      else                                                                 \
        memset(&v[i], 0, sizeof(type));                                    \
    }                                                                      \
  } while(0)

static void scatter(column_read *c, uint8_t *base, const uint8_t *defined, size_t n, size_t k)
{
  if(k == n)
    return;
  switch(c->value_size) {
  case 1: SCATTER(uint8_t); break;
  case 4: SCATTER(uint32_t); break;
  case 8: SCATTER(uint64_t); break;
  case sizeof(parquet_int96): SCATTER(parquet_int96); break;
  default: SCATTER(parquet_bytes); break;
  }
}

static cl_status decode_data_page(column_read *c, const pq_page_header *h, parquet_codec codec,
                                  const uint8_t *src, size_t src_len)
{
  size_t n = (size_t)h->num_values;
  cl_status status;
  if(n > c->rows - c->produced)
    return page_fail(c, CL_ERR_FORMAT, "more values than the row group has rows");
  const uint8_t *body, *values;
  size_t values_len;
  uint8_t *defined = c->out->defined ? c->out->defined + c->produced : NULL;
  size_t k = n;
  if(h->type == PQ_PAGE_DATA) {
    if((status = page_body(c, codec, src, src_len, (size_t)h->uncompressed_size, c->bytes_type, &body)))
      return status;
    values = body;
    values_len = (size_t)h->uncompressed_size;
    if(defined) {
      if(h->def_encoding != PQ_ENC_RLE)
        return page_fail(c, CL_ERR_UNSUPPORTED, "definition levels not RLE-encoded");
      size_t used;
      if((status = decode_prefixed_levels(c, "definition levels", body, values_len, defined, n,
                                          &used)))
        return status;
      values = body + used;
      values_len -= used;
    }
  } else {
    size_t levels = (size_t)h->def_length + (size_t)h->rep_length;
    if(levels > src_len || levels > (size_t)h->uncompressed_size)
      return page_fail(c, CL_ERR_FORMAT, "level lengths exceed the page");
    /* A flat column's repetition levels are all zero; some writers still
     * store them, and skipping them is all a reader needs. */
    if(h->num_rows != h->num_values)
      return page_fail(c, CL_ERR_FORMAT, "row count differs from value count in a flat column");
    if(defined) {
      pq_rle_decoder d;
      pq_rle_init(&d, src + h->rep_length, (size_t)h->def_length, 1);
      const char *why = pq_rle_decode_levels(&d, defined, n, 1);
      if(why)
        return page_fail(c, CL_ERR_FORMAT, why);
    }
    size_t raw = (size_t)h->uncompressed_size - levels;
    if((status = page_body(c, h->is_compressed ? codec : PARQUET_CODEC_NONE, src + levels,
                           src_len - levels, raw, c->bytes_type, &body)))
      return status;
    values = body;
    values_len = raw;
  }
  if(defined) {
    k = 0;
    for(size_t i = 0; i < n; i++)
      k += defined[i];
  }
  uint8_t *base = c->values + c->produced * c->value_size;
  if((status = decode_values(c, h->encoding, values, values_len, k, base)))
    return status;
  if(defined)
    scatter(c, base, defined, n, k);
  c->produced += n;
  return CL_OK;
}

cl_status parquet_reader_read_column(parquet_reader *reader, size_t row_group, size_t column,
                                     parquet_column_vector *out, cl_error *err)
{
  cl_status status;
  memset(out, 0, sizeof(*out));
  if(row_group >= reader->footer.row_group_count || column >= reader->schema.column_count)
    return cl_fail(err, CL_ERR_USAGE, "%s: no row group %zu column %zu", reader->file.name,
                   row_group, column);
  const parquet_column_schema *s = &reader->schema.columns[column];
  const pq_row_group *rg = &reader->footer.row_groups[row_group];
  const pq_chunk_meta *m = &rg->columns[column];
  if(s->nested)
    return cl_fail(err, CL_ERR_UNSUPPORTED,
                   "%s: column %s is nested (a group or repeated field); only flat columns are read",
                   reader->file.name, s->name);
  if(m->type != (int32_t)s->physical)
    return cl_fail(err, CL_ERR_FORMAT, "%s: row group %zu, column %s: chunk type %d differs from "
                   "the schema's %s", reader->file.name, row_group, s->name, (int)m->type,
                   parquet_physical_type_name(s->physical));
  if((uint64_t)rg->num_rows > reader->options.max_column_values ||
     (uint64_t)rg->num_rows > SIZE_MAX / sizeof(parquet_bytes))
    return cl_fail(err, CL_ERR_LIMIT, "%s: row group %zu has %lld rows, above the limit of %llu",
                   reader->file.name, row_group, (long long)rg->num_rows,
                   (unsigned long long)reader->options.max_column_values);
  uint64_t start = 0, len = 0;
  /* An empty row group's chunks may carry no pages and no valid offsets. */
  if(rg->num_rows > 0 &&
     (status = pq_reader_chunk_range(reader, row_group, column, &start, &len, err)))
    return status;

  column_read c;
  memset(&c, 0, sizeof(c));
  c.r = reader;
  c.row_group = row_group;
  c.column = column;
  c.schema = s;
  c.value_size = pq_value_size(s->physical);
  c.bytes_type = s->physical == PARQUET_BYTE_ARRAY || s->physical == PARQUET_FIXED_LEN_BYTE_ARRAY;
  c.out = out;
  c.rows = (size_t)rg->num_rows;
  c.budget = read_budget(reader);
  c.err = err;
  c.storage = calloc(1, sizeof(vector_storage));
  if(!c.storage)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", reader->file.name);
  out->storage = c.storage;
  out->count = c.rows;

  if(!(c.values = keep_block(&c, c.rows * c.value_size))) {
    status = c.failure;
    goto fail;
  }
  out->values.boolean = c.values;
  if(s->optional) {
    if(!(out->defined = keep_block(&c, c.rows))) {
      status = c.failure;
      goto fail;
    }
  }

  /* Byte-array values point into page memory. An uncompressed chunk is
   * therefore the vector's; a compressed one goes to a reusable buffer
   * (fresh memory is costly: first touches of pages dominate decoding). */
  uint8_t *chunk;
  c.chunk_kept = c.bytes_type && m->codec == PARQUET_CODEC_NONE;
  if(c.chunk_kept) {
    if(!(chunk = keep_block(&c, (size_t)len))) {
      status = c.failure;
      goto fail;
    }
  } else {
    buf_clear(&reader->chunk);
    if(buf_reserve(&reader->chunk, (size_t)len)) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: out of memory for a column chunk", reader->file.name);
      goto fail;
    }
    chunk = (uint8_t *)reader->chunk.data;
  }
  if((status = reader->file.read_at(reader->file.ctx, start, chunk, (size_t)len, err))) {
    cl_error_prefix(err, "%s: row group %zu, column %s", reader->file.name, row_group, s->name);
    goto fail;
  }

  size_t pos = 0;
  while(c.produced < c.rows) {
    pq_page_header h;
    size_t used;
    c.page_offset = start + pos;
    if(pos >= len) {
      status = cl_fail(err, CL_ERR_FORMAT,
                       "%s: row group %zu, column %s: pages hold %zu values, the row group %zu rows",
                       reader->file.name, row_group, s->name, c.produced, c.rows);
      goto fail;
    }
    if((status = pq_page_header_decode(chunk + pos, (size_t)len - pos, &h, &used, err))) {
      page_prefix(&c, status);
      goto fail;
    }
    pos += used;
    if((size_t)h.compressed_size > len - pos) {
      status = page_fail(&c, CL_ERR_FORMAT, "page runs past the end of the column chunk");
      goto fail;
    }
    if((uint64_t)h.uncompressed_size > reader->options.max_page_bytes ||
       (uint64_t)h.compressed_size > reader->options.max_page_bytes) {
      status = page_fail(&c, CL_ERR_LIMIT, "page larger than the configured limit");
      goto fail;
    }
    const uint8_t *src = chunk + pos;
    size_t src_len = (size_t)h.compressed_size;
    pos += src_len;
    if(h.type == PQ_PAGE_DICTIONARY) {
      const uint8_t *body;
      if((status = page_body(&c, m->codec, src, src_len, (size_t)h.uncompressed_size,
                             c.bytes_type, &body)) ||
         (status = decode_dictionary(&c, body, (size_t)h.uncompressed_size, h.num_values,
                                     h.encoding)))
        goto fail;
    } else if(h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2) {
      if((status = decode_data_page(&c, &h, m->codec, src, src_len)))
        goto fail;
    }
    c.page_index++;
  }
  return CL_OK;
fail:
  parquet_column_vector_free(out);
  return status;
}
