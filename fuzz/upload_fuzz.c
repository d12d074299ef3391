/* libFuzzer target: the whole upload path over memory, as collate.c runs it
 * on an upload's bytes: gzip detection and streaming gunzip (upload.c), the
 * streaming JSON array reader, and each entry turned into a row of a log
 * type (logtype.c), its row_hash and the txt rendering. The first input byte
 * picks the log type; the rest is the upload body. Small limits make the
 * limit paths reachable. Every input must either produce rows or fail with a
 * message; nothing may crash, leak or run away with memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collate/logtype.h"
#include "collate/upload.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const type_names[] = {"sms_log", "call_log", "contact_list", "app_packages"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if(size < 1)
    return 0;
  const collate_type *type = collate_type_find(type_names[data[0] & 3]);
  if(!type)
    abort();
  stream_memory memory = {data + 1, size - 1, 0};
  stream_source raw = stream_source_from_memory(&memory);
  cl_error err;
  cl_error_clear(&err);
  upload_source *upload = NULL;
  if(upload_source_create(raw, 1u << 20, &upload, &err)) {
    if(!err.message[0])
      abort();
    return 0;
  }
  json_limits limits;
  json_limits_default(&limits);
  limits.max_depth = 16;
  limits.max_string = 1u << 16;
  limits.max_value_bytes = 1u << 20;
  json_reader *reader = json_reader_create(upload_source_stream(upload), &limits);
  json_arena *arena = json_arena_create(1u << 20);
  collate_scratch *scratch = collate_scratch_create();
  collate_txt *txt = collate_txt_create(type, "device");
  if(!reader || !arena || !scratch || !txt)
    abort();
  cl_status status = json_reader_begin_array(reader, &err);
  for(unsigned entries = 0; !status && entries < 1000; entries++) {
    json_value *item = NULL;
    status = json_reader_next(reader, arena, &item, &err);
    if(status || !item)
      break;
    collate_row row;
    collate_entry_outcome outcome;
    memset(&outcome, 0, sizeof(outcome));
    if(collate_entry_to_row(type, item, 42, "device", scratch, &row, &outcome))
      abort(); /* only out of memory fails, and the fuzzer's inputs are small */
    if(!outcome.rejected) {
      row.cells[type->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
      row.cells[type->col_ts_updated].i = INT64_C(1763942400000000);
      collate_row_clamp_future(type, &row);
      char hex[33];
      if(collate_row_hash(type, &row, scratch, hex) || strlen(hex) != 32)
        abort();
      cl_error txt_err;
      cl_error_clear(&txt_err);
      if(collate_txt_add_row(txt, &row, &txt_err) && !txt_err.message[0])
        abort();
    }
    json_arena_reset(arena);
    collate_scratch_reset(scratch);
  }
  if(status && !err.message[0])
    abort();
  buf out = BUF_INIT;
  cl_error txt_err;
  cl_error_clear(&txt_err);
  if(collate_txt_finish(txt, &out, &txt_err) && !txt_err.message[0])
    abort();
  buf_free(&out);
  collate_txt_free(txt);
  collate_scratch_free(scratch);
  json_arena_free(arena);
  json_reader_free(reader);
  upload_source_free(upload);
  return 0;
}
