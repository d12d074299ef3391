/*
 * `collator schema`: print what a Parquet footer says: the columns, the row
 * count and writer, every row group's column chunks (codec, encodings, sizes,
 * decoded statistics) and the key-value metadata. Only the footer is read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/parquet_input.h"
#include "cli/parquet_values.h"
#include "core/buf.h"

/* Statistics and metadata values longer than this are cut ("..."). */
#define SCHEMA_VALUE_MAX 60
#define SCHEMA_METADATA_MAX 200

static void schema_usage(FILE *to)
{
  fprintf(to, "usage: collator schema [--store URL] FILE|KEY\n");
}

static const char *encoding_name(int encoding)
{
  static const char *const names[] = {
    "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
    "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
    "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return encoding >= 0 && encoding < (int)(sizeof(names) / sizeof(names[0])) ? names[encoding]
                                                                             : NULL;
}

static void append_encodings(buf *out, uint32_t encodings)
{
  int first = 1;
  for(int bit = 0; bit < 32; bit++) {
    if(!(encodings & (UINT32_C(1) << bit)))
      continue;
    if(!first)
      buf_putc(out, ',');
    first = 0;
    const char *name = encoding_name(bit);
    if(name)
      buf_append_str(out, name);
    else
      buf_printf(out, "ENCODING_%d", bit);
  }
  if(first)
    buf_putc(out, '-');
}

/* Cut text to max bytes on a UTF-8 boundary and mark the cut. */
static void append_truncated(buf *out, const char *text, size_t len, size_t max)
{
  if(len <= max) {
    buf_append(out, text, len);
    return;
  }
  size_t cut = max;
  while(cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
    cut--;
  buf_append(out, text, cut);
  buf_printf(out, "... (%zu bytes)", len);
}

/* Newlines and tabs in metadata (pandas JSON, Arrow schemas) would break
 * the one-line-per-item layout. */
static void append_one_line(buf *out, const char *text, size_t len, size_t max)
{
  buf line = BUF_INIT;
  for(size_t i = 0; i < len; i++)
    buf_putc(&line, (unsigned char)text[i] < 0x20 ? ' ' : text[i]);
  append_truncated(out, line.data ? line.data : "", line.len, max);
  buf_free(&line);
}

static void append_statistic(buf *out, const parquet_column_schema *column, parquet_bytes value)
{
  buf text = BUF_INIT;
  parquet_value_append_plain(&text, column, value);
  append_one_line(out, text.data ? text.data : "", text.len, SCHEMA_VALUE_MAX);
  buf_free(&text);
}

static void append_columns(buf *out, const parquet_schema *schema)
{
  buf_printf(out, "columns: %zu\n", schema->column_count);
  for(size_t i = 0; i < schema->column_count; i++) {
    const parquet_column_schema *column = &schema->columns[i];
    char logical[64];
    parquet_value_logical_name(column, logical, sizeof(logical));
    buf_printf(out, "  %zu. %s: %s", i, column->name, parquet_physical_type_name(column->physical));
    if(column->physical == PARQUET_FIXED_LEN_BYTE_ARRAY)
      buf_printf(out, "(%" PRId32 ")", column->type_length);
    if(logical[0])
      buf_printf(out, " %s", logical);
    buf_printf(out, " %s%s\n", column->optional ? "OPTIONAL" : "REQUIRED",
               column->nested ? " (nested, not readable by cat)" : "");
  }
}

static void append_row_group(buf *out, const parquet_schema *schema,
                             const parquet_row_group_info *group, size_t index)
{
  buf_printf(out, "row group %zu: %" PRId64 " rows, %" PRId64 " bytes (%" PRId64
                  " compressed) at offset %" PRId64 "\n",
             index, group->row_count, group->total_byte_size, group->compressed_size,
             group->file_offset);
  for(size_t i = 0; i < schema->column_count; i++) {
    const parquet_column_schema *column = &schema->columns[i];
    const parquet_column_chunk_info *chunk = &group->columns[i];
    const parquet_statistics *stats = &chunk->statistics;
    buf_printf(out, "  %s: %s ", column->name, parquet_codec_name(chunk->codec));
    append_encodings(out, chunk->encodings);
    buf_printf(out, ", %" PRId64 " values, %" PRId64 " bytes (%" PRId64 " uncompressed)",
               chunk->value_count, chunk->total_compressed_size, chunk->total_uncompressed_size);
    if(chunk->dictionary_page_offset >= 0)
      buf_printf(out, ", dictionary at %" PRId64, chunk->dictionary_page_offset);
    buf_printf(out, ", data at %" PRId64 "\n", chunk->data_page_offset);
    if(!stats->has_min_max && !stats->has_null_count && !stats->has_distinct_count)
      continue;
    buf_append_str(out, "    statistics:");
    if(stats->has_min_max) {
      buf_append_str(out, " min ");
      append_statistic(out, column, stats->min_value);
      buf_append_str(out, ", max ");
      append_statistic(out, column, stats->max_value);
    }
    if(stats->has_null_count)
      buf_printf(out, "%s nulls %" PRId64, stats->has_min_max ? "," : "", stats->null_count);
    if(stats->has_distinct_count)
      buf_printf(out, "%s distinct %" PRId64,
                 stats->has_min_max || stats->has_null_count ? "," : "", stats->distinct_count);
    buf_putc(out, '\n');
  }
}

static void append_schema(buf *out, const char *name, parquet_reader *reader)
{
  const parquet_schema *schema = parquet_reader_schema(reader);
  const parquet_file_info *info = parquet_reader_info(reader);
  buf_printf(out, "file: %s\n", name);
  buf_printf(out, "version: %" PRId32 "\n", info->version);
  buf_append_str(out, "created_by: ");
  if(info->created_by)
    append_one_line(out, info->created_by, strlen(info->created_by), SCHEMA_METADATA_MAX);
  else
    buf_append_str(out, "(absent)");
  buf_printf(out, "\nrows: %" PRId64 "\nrow groups: %zu\nfooter: %" PRIu64 " bytes\n",
             info->row_count, info->row_group_count, info->footer_length);
  append_columns(out, schema);
  for(size_t g = 0; g < info->row_group_count; g++)
    append_row_group(out, schema, &info->row_groups[g], g);
  buf_printf(out, "metadata: %zu\n", info->metadata_count);
  for(size_t m = 0; m < info->metadata_count; m++) {
    const parquet_key_value *kv = &info->metadata[m];
    buf_append_str(out, "  ");
    append_one_line(out, kv->key, strlen(kv->key), SCHEMA_METADATA_MAX);
    buf_append_str(out, ": ");
    if(kv->value)
      append_one_line(out, kv->value, strlen(kv->value), SCHEMA_METADATA_MAX);
    else
      buf_append_str(out, "(no value)");
    buf_putc(out, '\n');
  }
}

int command_schema(int argc, char **argv)
{
  const char *store_url = NULL;
  const cli_option table[] = {
    {"--store", NULL, &store_url, NULL},
  };
  int operand;
  int exit_status = cli_parse("schema", argc, argv, table, sizeof(table) / sizeof(table[0]),
                              schema_usage, &operand);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(operand >= argc) {
    schema_usage(stderr);
    return EXIT_USAGE;
  }
  if(operand + 1 < argc) {
    fprintf(stderr, "collator: schema: one FILE|KEY expected, got '%s' too\n", argv[operand + 1]);
    return EXIT_USAGE;
  }
  const char *path = argv[operand];

  cl_error err;
  cl_error_clear(&err);
  parquet_input *input = NULL;
  cl_status status = parquet_input_open(store_url, path, &input, &err);
  if(status) {
    parquet_input_report("schema", path, &err);
    return parquet_input_exit_status(status);
  }
  buf out = BUF_INIT;
  append_schema(&out, parquet_input_name(input), parquet_input_reader(input));
  exit_status = 0;
  if(buf_status(&out)) {
    fprintf(stderr, "collator: schema: %s: out of memory\n", parquet_input_name(input));
    exit_status = EXIT_PROCESSING_FAILED;
  } else if(fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
    fprintf(stderr, "collator: schema: standard output: write failed\n");
    exit_status = EXIT_PROCESSING_FAILED;
  }
  buf_free(&out);
  parquet_input_free(input);
  return exit_status;
}
