#include "parquet/metadata.h"

#include <stdlib.h>
#include <string.h>

#include "parquet/thrift.h"

struct pq_arena_block {
  pq_arena_block *next;
  max_align_t align[];
};

static void *arena_alloc(pq_footer *footer, size_t count, size_t size)
{
  if(size && count > (SIZE_MAX - sizeof(pq_arena_block)) / size)
    return NULL;
  pq_arena_block *block = calloc(1, sizeof(pq_arena_block) + count * size);
  if(!block)
    return NULL;
  block->next = footer->arena;
  footer->arena = block;
  return block->align;
}

void pq_footer_free(pq_footer *footer)
{
  if(!footer)
    return;
  pq_arena_block *block = footer->arena;
  while(block) {
    pq_arena_block *next = block->next;
    free(block);
    block = next;
  }
  memset(footer, 0, sizeof(*footer));
}

/* The decoders share one context so that an allocation failure and a
 * format failure unwind the same way: they set the sticky state and return. */
typedef struct decoder {
  thrift_reader r;
  pq_footer *footer;
  uint64_t memory_left;     /* of max_memory */
  cl_status failure;        /* CL_ERR_FORMAT unless memory ran out */
} decoder;

static void *dec_alloc(decoder *d, size_t count, size_t size)
{
  if(!count)
    count = 1;
  /* Each list element takes a byte or more of the footer but decodes to a
   * structure of up to ~200 bytes: without a bound a 64 MiB footer could
   * take gigabytes. */
  if(size && count > d->memory_left / size) {
    d->failure = CL_ERR_LIMIT;
    thrift_reader_fail(&d->r, "decoding needs more memory than the file's size allows");
    return NULL;
  }
  d->memory_left -= count * size;
  void *p = arena_alloc(d->footer, count, size);
  if(!p) {
    d->failure = CL_ERR_NOMEM;
    thrift_reader_fail(&d->r, "out of memory");
  }
  return p;
}

static char *dec_string(decoder *d, int type)
{
  uint32_t len;
  const uint8_t *data = thrift_read_binary(&d->r, type, &len);
  if(d->r.failed)
    return NULL;
  char *s = dec_alloc(d, (size_t)len + 1, 1);
  if(s && len)
    memcpy(s, data, len);
  return s;
}

static void decode_time_unit(decoder *d, pq_schema_element *e)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    if(type == THRIFT_STRUCT && id >= 1 && id <= 3)
      e->ts_unit = id == 1 ? PARQUET_MILLIS : id == 2 ? PARQUET_MICROS : PARQUET_NANOS;
    thrift_skip(r, type);
  }
  thrift_struct_end(r);
}

static void decode_logical_type(decoder *d, pq_schema_element *e)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    if(type != THRIFT_STRUCT) {
      thrift_skip(r, type);
      continue;
    }
    e->logical = id;
    if(id == PQ_LT_TIMESTAMP || id == PQ_LT_INTEGER) {
      int16_t sub;
      int sub_type;
      thrift_struct_begin(r);
      while(thrift_next_field(r, &sub, &sub_type)) {
        if(id == PQ_LT_TIMESTAMP && sub == 1 && (sub_type == THRIFT_TRUE || sub_type == THRIFT_FALSE))
          e->ts_utc = thrift_read_bool_field(r, sub_type);
        else if(id == PQ_LT_TIMESTAMP && sub == 2 && sub_type == THRIFT_STRUCT)
          decode_time_unit(d, e);
        else if(id == PQ_LT_INTEGER && sub == 1 && sub_type == THRIFT_BYTE)
          e->int_bits = thrift_read_i32(r, sub_type);
        else if(id == PQ_LT_INTEGER && sub == 2 && (sub_type == THRIFT_TRUE || sub_type == THRIFT_FALSE))
          e->int_signed = thrift_read_bool_field(r, sub_type);
        else
          thrift_skip(r, sub_type);
      }
      thrift_struct_end(r);
    } else
      thrift_skip(r, type);
  }
  thrift_struct_end(r);
}

static void decode_schema_element(decoder *d, pq_schema_element *e)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    switch(id) {
    case 1: e->type = thrift_read_i32(r, type); e->has_type = 1; break;
    case 2: e->type_length = thrift_read_i32(r, type); break;
    case 3: e->repetition = thrift_read_i32(r, type); e->has_repetition = 1; break;
    case 4: e->name = dec_string(d, type); break;
    case 5: e->num_children = thrift_read_i32(r, type); break;
    case 6: e->converted = thrift_read_i32(r, type); e->has_converted = 1; break;
    case 10:
      if(type == THRIFT_STRUCT)
        decode_logical_type(d, e);
      else
        thrift_skip(r, type);
      break;
    default: thrift_skip(r, type);
    }
  }
  thrift_struct_end(r);
  if(!r->failed && !e->name)
    thrift_reader_fail(r, "schema element without a name");
  if(!r->failed && e->num_children < 0)
    thrift_reader_fail(r, "negative num_children");
}

static void decode_statistics(decoder *d, pq_chunk_meta *c)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type;
  parquet_bytes legacy_min = {0}, legacy_max = {0}, min = {0}, max = {0};
  int has_legacy_min = 0, has_legacy_max = 0, has_min = 0, has_max = 0;
  c->has_statistics = 1;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    switch(id) {
    case 1: legacy_max.data = thrift_read_binary(r, type, &legacy_max.len); has_legacy_max = 1; break;
    case 2: legacy_min.data = thrift_read_binary(r, type, &legacy_min.len); has_legacy_min = 1; break;
    case 3:
      c->statistics.null_count = thrift_read_i64(r, type);
      c->statistics.has_null_count = 1;
      break;
    case 4:
      c->statistics.distinct_count = thrift_read_i64(r, type);
      c->statistics.has_distinct_count = 1;
      break;
    case 5: max.data = thrift_read_binary(r, type, &max.len); has_max = 1; break;
    case 6: min.data = thrift_read_binary(r, type, &min.len); has_min = 1; break;
    default: thrift_skip(r, type);
    }
  }
  thrift_struct_end(r);
  if(has_min && has_max) {
    c->statistics.has_min_max = 1;
    c->statistics.min_value = min;
    c->statistics.max_value = max;
  } else if(has_legacy_min && has_legacy_max) {
    c->statistics.has_min_max = 1;
    c->statistics.min_value = legacy_min;
    c->statistics.max_value = legacy_max;
    c->legacy_min_max = 1;
  }
}

static void decode_column_meta(decoder *d, pq_chunk_meta *c)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type, elem;
  uint32_t count;
  int seen_offset = 0;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    switch(id) {
    case 1: c->type = thrift_read_i32(r, type); break;
    case 2:
      if(thrift_read_list(r, type, &elem, &count)) {
        for(uint32_t i = 0; i < count && !r->failed; i++) {
          int32_t e = thrift_read_i32(r, elem);
          if(e >= 0 && e < 32)
            c->encodings |= 1u << e;
        }
      }
      break;
    case 3:
      if(thrift_read_list(r, type, &elem, &count)) {
        c->path = dec_alloc(d, count, sizeof(char *));
        for(uint32_t i = 0; i < count && !r->failed; i++)
          c->path[i] = dec_string(d, elem);
        c->path_count = count;
      }
      break;
    case 4: c->codec = (parquet_codec)thrift_read_i32(r, type); break;
    case 5: c->num_values = thrift_read_i64(r, type); break;
    case 6: c->total_uncompressed_size = thrift_read_i64(r, type); break;
    case 7: c->total_compressed_size = thrift_read_i64(r, type); break;
    case 9: c->data_page_offset = thrift_read_i64(r, type); seen_offset = 1; break;
    case 11:
      c->dictionary_page_offset = thrift_read_i64(r, type);
      c->has_dictionary_page_offset = 1;
      break;
    case 12:
      if(type == THRIFT_STRUCT)
        decode_statistics(d, c);
      else
        thrift_skip(r, type);
      break;
    default: thrift_skip(r, type);
    }
  }
  thrift_struct_end(r);
  if(r->failed)
    return;
  if(!seen_offset)
    thrift_reader_fail(r, "column metadata without data_page_offset");
  else if(c->num_values < 0 || c->total_compressed_size < 0 || c->total_uncompressed_size < 0 ||
          c->data_page_offset < 0)
    thrift_reader_fail(r, "negative size or offset in column metadata");
}

static void decode_column_chunk(decoder *d, pq_chunk_meta *c)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type, seen_meta = 0;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    if(id == 1 && type == THRIFT_BINARY) {
      uint32_t len;
      thrift_read_binary(r, type, &len);
      c->has_file_path = 1;
    } else if(id == 2)
      c->file_offset = thrift_read_i64(r, type);
    else if(id == 3 && type == THRIFT_STRUCT) {
      decode_column_meta(d, c);
      seen_meta = 1;
    } else
      thrift_skip(r, type);
  }
  thrift_struct_end(r);
  if(!r->failed && !seen_meta)
    thrift_reader_fail(r, "column chunk without metadata (encrypted?)");
}

static void decode_row_group(decoder *d, pq_row_group *g)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type, elem;
  uint32_t count;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    switch(id) {
    case 1:
      if(thrift_read_list(r, type, &elem, &count)) {
        if(elem != THRIFT_STRUCT) {
          thrift_reader_fail(r, "row group columns are not structures");
          break;
        }
        g->columns = dec_alloc(d, count, sizeof(pq_chunk_meta));
        for(uint32_t i = 0; i < count && !r->failed; i++)
          decode_column_chunk(d, &g->columns[i]);
        g->column_count = count;
      }
      break;
    case 2: g->total_byte_size = thrift_read_i64(r, type); break;
    case 3: g->num_rows = thrift_read_i64(r, type); break;
    case 5: g->file_offset = thrift_read_i64(r, type); g->has_file_offset = 1; break;
    case 6:
      g->total_compressed_size = thrift_read_i64(r, type);
      g->has_total_compressed_size = 1;
      break;
    default: thrift_skip(r, type);
    }
  }
  thrift_struct_end(r);
  if(!r->failed && g->num_rows < 0)
    thrift_reader_fail(r, "negative num_rows in a row group");
}

static void decode_key_value(decoder *d, parquet_key_value *kv)
{
  thrift_reader *r = &d->r;
  int16_t id;
  int type;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    if(id == 1 && type == THRIFT_BINARY)
      kv->key = dec_string(d, type);
    else if(id == 2 && type == THRIFT_BINARY)
      kv->value = dec_string(d, type);
    else
      thrift_skip(r, type);
  }
  thrift_struct_end(r);
  if(!r->failed && !kv->key)
    thrift_reader_fail(r, "key-value metadata without a key");
  if(!r->failed && !kv->value)
    kv->value = ""; /* value is optional in parquet.thrift */
}

cl_status pq_footer_decode(const uint8_t *data, size_t len, uint64_t max_memory, pq_footer *out,
                           cl_error *err)
{
  decoder d;
  memset(out, 0, sizeof(*out));
  memset(&d, 0, sizeof(d));
  thrift_reader_init(&d.r, data, len);
  d.footer = out;
  d.memory_left = max_memory;
  d.failure = CL_ERR_FORMAT;
  thrift_reader *r = &d.r;
  int16_t id;
  int type, elem;
  uint32_t count;
  int seen_schema = 0;
  thrift_struct_begin(r);
  while(thrift_next_field(r, &id, &type)) {
    switch(id) {
    case 1: out->version = thrift_read_i32(r, type); break;
    case 2:
      if(thrift_read_list(r, type, &elem, &count)) {
        if(elem != THRIFT_STRUCT) {
          thrift_reader_fail(r, "schema elements are not structures");
          break;
        }
        out->schema = dec_alloc(&d, count, sizeof(pq_schema_element));
        for(uint32_t i = 0; i < count && !r->failed; i++)
          decode_schema_element(&d, &out->schema[i]);
        out->schema_count = count;
        seen_schema = 1;
      }
      break;
    case 3: out->num_rows = thrift_read_i64(r, type); break;
    case 4:
      if(thrift_read_list(r, type, &elem, &count)) {
        if(elem != THRIFT_STRUCT) {
          thrift_reader_fail(r, "row groups are not structures");
          break;
        }
        out->row_groups = dec_alloc(&d, count, sizeof(pq_row_group));
        for(uint32_t i = 0; i < count && !r->failed; i++)
          decode_row_group(&d, &out->row_groups[i]);
        out->row_group_count = count;
      }
      break;
    case 5:
      if(thrift_read_list(r, type, &elem, &count)) {
        if(elem != THRIFT_STRUCT) {
          thrift_reader_fail(r, "key-value metadata are not structures");
          break;
        }
        out->metadata = dec_alloc(&d, count, sizeof(parquet_key_value));
        for(uint32_t i = 0; i < count && !r->failed; i++)
          decode_key_value(&d, &out->metadata[i]);
        out->metadata_count = count;
      }
      break;
    case 6:
      if(type == THRIFT_BINARY)
        out->created_by = dec_string(&d, type);
      else
        thrift_skip(r, type);
      break;
    case 8:
      out->encrypted = 1;
      thrift_skip(r, type);
      break;
    default: thrift_skip(r, type);
    }
  }
  thrift_struct_end(r);
  if(!r->failed && !seen_schema)
    thrift_reader_fail(r, "no schema");
  if(!r->failed && out->num_rows < 0)
    thrift_reader_fail(r, "negative num_rows");
  if(r->failed) {
    cl_status status = d.failure;
    cl_fail(err, status, "footer: %s at byte %zu of %zu", r->what,
            (size_t)(r->pos - (const uint8_t *)data), len);
    pq_footer_free(out);
    return status;
  }
  return CL_OK;
}

cl_status pq_page_header_decode(const uint8_t *data, size_t len, pq_page_header *out,
                                size_t *used, cl_error *err)
{
  thrift_reader r;
  int16_t id, sub;
  int type, sub_type;
  int seen_type = 0, seen_sizes = 0;
  memset(out, 0, sizeof(*out));
  out->is_compressed = 1;
  out->encoding = -1;
  thrift_reader_init(&r, data, len);
  thrift_struct_begin(&r);
  while(thrift_next_field(&r, &id, &type)) {
    if(id == 1) {
      out->type = thrift_read_i32(&r, type);
      seen_type = 1;
    } else if(id == 2) {
      out->uncompressed_size = thrift_read_i32(&r, type);
      seen_sizes |= 1;
    } else if(id == 3) {
      out->compressed_size = thrift_read_i32(&r, type);
      seen_sizes |= 2;
    } else if((id == 5 || id == 7 || id == 8) && type == THRIFT_STRUCT) {
      /* Data page v1 (5), dictionary (7) and data page v2 (8) headers share
       * num_values as field 1; the other fields differ by struct. */
      thrift_struct_begin(&r);
      while(thrift_next_field(&r, &sub, &sub_type)) {
        if(sub == 1)
          out->num_values = thrift_read_i32(&r, sub_type);
        else if(id == 5 && sub == 2)
          out->encoding = thrift_read_i32(&r, sub_type);
        else if(id == 5 && sub == 3)
          out->def_encoding = thrift_read_i32(&r, sub_type);
        else if(id == 7 && sub == 2)
          out->encoding = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 2)
          out->num_nulls = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 3)
          out->num_rows = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 4)
          out->encoding = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 5)
          out->def_length = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 6)
          out->rep_length = thrift_read_i32(&r, sub_type);
        else if(id == 8 && sub == 7 && (sub_type == THRIFT_TRUE || sub_type == THRIFT_FALSE))
          out->is_compressed = thrift_read_bool_field(&r, sub_type);
        else
          thrift_skip(&r, sub_type);
      }
      thrift_struct_end(&r);
    } else
      thrift_skip(&r, type);
  }
  thrift_struct_end(&r);
  if(!r.failed && (!seen_type || seen_sizes != 3))
    thrift_reader_fail(&r, "page header without type or sizes");
  if(!r.failed && (out->uncompressed_size < 0 || out->compressed_size < 0 ||
                   out->num_values < 0 || out->num_nulls < 0 || out->def_length < 0 ||
                   out->rep_length < 0))
    thrift_reader_fail(&r, "negative size or count in page header");
  if(r.failed)
    return cl_fail(err, CL_ERR_FORMAT, "page header: %s", r.what);
  *used = (size_t)(r.pos - data);
  return CL_OK;
}

void pq_page_header_encode(buf *out, const pq_page_header *h)
{
  thrift_writer w;
  thrift_writer_init(&w, out);
  thrift_write_struct_begin(&w);
  thrift_write_i32_field(&w, 1, h->type);
  thrift_write_i32_field(&w, 2, h->uncompressed_size);
  thrift_write_i32_field(&w, 3, h->compressed_size);
  if(h->type == PQ_PAGE_DATA) {
    thrift_write_field(&w, 5, THRIFT_STRUCT);
    thrift_write_struct_begin(&w);
    thrift_write_i32_field(&w, 1, h->num_values);
    thrift_write_i32_field(&w, 2, h->encoding);
    thrift_write_i32_field(&w, 3, PQ_ENC_RLE);
    thrift_write_i32_field(&w, 4, PQ_ENC_RLE);
    thrift_write_struct_end(&w);
  } else if(h->type == PQ_PAGE_DICTIONARY) {
    thrift_write_field(&w, 7, THRIFT_STRUCT);
    thrift_write_struct_begin(&w);
    thrift_write_i32_field(&w, 1, h->num_values);
    thrift_write_i32_field(&w, 2, h->encoding);
    thrift_write_struct_end(&w);
  }
  thrift_write_struct_end(&w);
}

static int converted_type(const parquet_column_schema *c)
{
  switch(c->logical) {
  case PARQUET_LOGICAL_STRING: return PQ_CT_UTF8;
  case PARQUET_LOGICAL_DATE: return PQ_CT_DATE;
  case PARQUET_LOGICAL_TIMESTAMP:
    if(c->physical != PARQUET_INT64)
      return -1;
    return c->unit == PARQUET_MILLIS ? PQ_CT_TIMESTAMP_MILLIS
           : c->unit == PARQUET_MICROS ? PQ_CT_TIMESTAMP_MICROS : -1;
  case PARQUET_LOGICAL_INTEGER: {
    int base = c->is_signed ? PQ_CT_INT_8 : PQ_CT_UINT_8;
    switch(c->bit_width) {
    case 8: return base;
    case 16: return base + 1;
    case 32: return base + 2;
    case 64: return base + 3;
    default: return -1;
    }
  }
  default: return -1;
  }
}

static void encode_logical_type(thrift_writer *w, const parquet_column_schema *c)
{
  switch(c->logical) {
  case PARQUET_LOGICAL_STRING:
  case PARQUET_LOGICAL_DATE:
  case PARQUET_LOGICAL_NULL:
    thrift_write_field(w, 10, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_empty_struct_field(w, c->logical == PARQUET_LOGICAL_STRING ? PQ_LT_STRING
                                       : c->logical == PARQUET_LOGICAL_DATE ? PQ_LT_DATE
                                                                            : PQ_LT_UNKNOWN);
    thrift_write_struct_end(w);
    return;
  case PARQUET_LOGICAL_TIMESTAMP:
    if(c->physical != PARQUET_INT64)
      return; /* INT96 carries no annotation */
    thrift_write_field(w, 10, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_field(w, PQ_LT_TIMESTAMP, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_bool_field(w, 1, c->utc_adjusted);
    thrift_write_field(w, 2, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_empty_struct_field(w, c->unit == PARQUET_MILLIS ? 1 : c->unit == PARQUET_MICROS ? 2 : 3);
    thrift_write_struct_end(w);
    thrift_write_struct_end(w);
    thrift_write_struct_end(w);
    return;
  case PARQUET_LOGICAL_INTEGER:
    thrift_write_field(w, 10, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_field(w, PQ_LT_INTEGER, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    thrift_write_byte_field(w, 1, (int8_t)c->bit_width);
    thrift_write_bool_field(w, 2, c->is_signed);
    thrift_write_struct_end(w);
    thrift_write_struct_end(w);
    return;
  default:
    return;
  }
}

static void encode_chunk(thrift_writer *w, const pq_chunk_out *c)
{
  int64_t start = c->dictionary_page_offset >= 0 ? c->dictionary_page_offset : c->data_page_offset;
  thrift_write_struct_begin(w);
  thrift_write_i64_field(w, 2, start);
  thrift_write_field(w, 3, THRIFT_STRUCT);
  thrift_write_struct_begin(w);
  thrift_write_i32_field(w, 1, c->type);
  uint32_t n = 0;
  for(int e = 0; e < 32; e++)
    n += (c->encodings >> e) & 1;
  thrift_write_field(w, 2, THRIFT_LIST);
  thrift_write_list_begin(w, THRIFT_I32, n);
  for(int e = 0; e < 32; e++)
    if((c->encodings >> e) & 1)
      thrift_write_zigzag(w, e);
  thrift_write_field(w, 3, THRIFT_LIST);
  thrift_write_list_begin(w, THRIFT_BINARY, 1);
  thrift_write_binary(w, c->name, strlen(c->name));
  thrift_write_i32_field(w, 4, (int32_t)c->codec);
  thrift_write_i64_field(w, 5, c->num_values);
  thrift_write_i64_field(w, 6, c->total_uncompressed_size);
  thrift_write_i64_field(w, 7, c->total_compressed_size);
  thrift_write_i64_field(w, 9, c->data_page_offset);
  if(c->dictionary_page_offset >= 0)
    thrift_write_i64_field(w, 11, c->dictionary_page_offset);
  if(c->has_statistics) {
    const parquet_statistics *s = &c->statistics;
    thrift_write_field(w, 12, THRIFT_STRUCT);
    thrift_write_struct_begin(w);
    if(s->has_min_max && c->legacy_min_max) {
      thrift_write_binary_field(w, 1, s->max_value.data, s->max_value.len);
      thrift_write_binary_field(w, 2, s->min_value.data, s->min_value.len);
    }
    if(s->has_null_count)
      thrift_write_i64_field(w, 3, s->null_count);
    if(s->has_distinct_count)
      thrift_write_i64_field(w, 4, s->distinct_count);
    if(s->has_min_max && !c->legacy_min_max) {
      thrift_write_binary_field(w, 5, s->max_value.data, s->max_value.len);
      thrift_write_binary_field(w, 6, s->min_value.data, s->min_value.len);
    }
    thrift_write_struct_end(w);
  }
  thrift_write_struct_end(w);
  thrift_write_struct_end(w);
}

void pq_footer_encode(buf *out, const parquet_schema *schema, const pq_row_group_out *groups,
                      size_t group_count, const parquet_key_value *metadata,
                      size_t metadata_count, const char *created_by)
{
  thrift_writer w;
  int64_t rows = 0;
  thrift_writer_init(&w, out);
  for(size_t g = 0; g < group_count; g++)
    rows += groups[g].num_rows;
  thrift_write_struct_begin(&w);
  thrift_write_i32_field(&w, 1, 2);

  thrift_write_field(&w, 2, THRIFT_LIST);
  thrift_write_list_begin(&w, THRIFT_STRUCT, (uint32_t)schema->column_count + 1);
  thrift_write_struct_begin(&w);
  thrift_write_binary_field(&w, 4, "schema", 6);
  thrift_write_i32_field(&w, 5, (int32_t)schema->column_count);
  thrift_write_struct_end(&w);
  for(size_t i = 0; i < schema->column_count; i++) {
    const parquet_column_schema *c = &schema->columns[i];
    thrift_write_struct_begin(&w);
    thrift_write_i32_field(&w, 1, (int32_t)c->physical);
    if(c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY)
      thrift_write_i32_field(&w, 2, c->type_length);
    thrift_write_i32_field(&w, 3, c->optional ? PQ_OPTIONAL : PQ_REQUIRED);
    thrift_write_binary_field(&w, 4, c->name, strlen(c->name));
    int converted = converted_type(c);
    if(converted >= 0)
      thrift_write_i32_field(&w, 6, converted);
    encode_logical_type(&w, c);
    thrift_write_struct_end(&w);
  }

  thrift_write_i64_field(&w, 3, rows);

  thrift_write_field(&w, 4, THRIFT_LIST);
  thrift_write_list_begin(&w, THRIFT_STRUCT, (uint32_t)group_count);
  for(size_t g = 0; g < group_count; g++) {
    const pq_row_group_out *group = &groups[g];
    thrift_write_struct_begin(&w);
    thrift_write_field(&w, 1, THRIFT_LIST);
    thrift_write_list_begin(&w, THRIFT_STRUCT, (uint32_t)schema->column_count);
    for(size_t i = 0; i < schema->column_count; i++)
      encode_chunk(&w, &group->columns[i]);
    thrift_write_i64_field(&w, 2, group->total_byte_size);
    thrift_write_i64_field(&w, 3, group->num_rows);
    thrift_write_i64_field(&w, 5, group->file_offset);
    thrift_write_i64_field(&w, 6, group->total_compressed_size);
    thrift_write_field(&w, 7, THRIFT_I16);
    thrift_write_zigzag(&w, (int16_t)g);
    thrift_write_struct_end(&w);
  }

  if(metadata_count) {
    thrift_write_field(&w, 5, THRIFT_LIST);
    thrift_write_list_begin(&w, THRIFT_STRUCT, (uint32_t)metadata_count);
    for(size_t i = 0; i < metadata_count; i++) {
      thrift_write_struct_begin(&w);
      thrift_write_binary_field(&w, 1, metadata[i].key, strlen(metadata[i].key));
      if(metadata[i].value)
        thrift_write_binary_field(&w, 2, metadata[i].value, strlen(metadata[i].value));
      thrift_write_struct_end(&w);
    }
  }
  if(created_by)
    thrift_write_binary_field(&w, 6, created_by, strlen(created_by));

  thrift_write_field(&w, 7, THRIFT_LIST);
  thrift_write_list_begin(&w, THRIFT_STRUCT, (uint32_t)schema->column_count);
  for(size_t i = 0; i < schema->column_count; i++) {
    thrift_write_struct_begin(&w);
    thrift_write_empty_struct_field(&w, 1);
    thrift_write_struct_end(&w);
  }
  thrift_write_struct_end(&w);
}
