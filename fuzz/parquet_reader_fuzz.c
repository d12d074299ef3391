/* libFuzzer target: open the input as a Parquet file held in memory and read
 * every flat column of every row group. Any crash, over-read, leak or
 * runaway allocation is a finding; clean errors are expected. */
#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  stream_memory memory = {data, size, 0};
  parquet_reader_options options;
  parquet_reader *reader;
  cl_error err;
  parquet_reader_options_default(&options);
  /* Keep each input's allocations well under the fuzzer's RSS limit. */
  options.max_column_values = 1u << 20;
  options.max_page_bytes = 16u << 20;
  options.max_read_bytes = 32u << 20;
  if(parquet_reader_open(stream_file_from_memory(&memory, "fuzz input"), &options, &reader, &err))
    return 0;
  const parquet_schema *schema = parquet_reader_schema(reader);
  const parquet_file_info *info = parquet_reader_info(reader);
  for(size_t g = 0; g < info->row_group_count; g++)
    for(size_t c = 0; c < schema->column_count; c++) {
      parquet_column_vector vector;
      if(schema->columns[c].nested)
        continue;
      if(parquet_reader_read_column(reader, g, c, &vector, &err) == CL_OK) {
        if(schema->columns[c].logical == PARQUET_LOGICAL_TIMESTAMP && vector.count)
          (void)parquet_timestamp_micros(&schema->columns[c], &vector, vector.count - 1);
        parquet_column_vector_free(&vector);
      }
    }
  parquet_reader_free(reader);
  return 0;
}
