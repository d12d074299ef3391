/* Value conversions and names shared by reader, writer and callers. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/utctime.h"
#include "parquet/parquet.h"

#define NANOS_PER_DAY 86400000000000LL
#define JULIAN_EPOCH 2440588LL

parquet_int96 parquet_int96_from_nanos(int64_t nanos_since_epoch)
{
  parquet_int96 out;
  /* Floor division written out: with the divisor in sight the compiler
   * multiplies instead of calling utc_floor_div's 64-bit divide. */
  int64_t day = nanos_since_epoch / NANOS_PER_DAY;
  int64_t nanos = nanos_since_epoch - day * NANOS_PER_DAY;
  if(nanos < 0) {
    day--;
    nanos += NANOS_PER_DAY;
  }
  uint64_t n = (uint64_t)nanos;
  uint32_t julian = (uint32_t)(day + JULIAN_EPOCH);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* Whole words: the value is returned in registers, and reading them back
   * from twelve byte stores stalled store forwarding (2% of an SMS upload). */
  memcpy(out.bytes, &n, sizeof(n));
  memcpy(out.bytes + 8, &julian, sizeof(julian));
#else
  for(int i = 0; i < 8; i++)
    out.bytes[i] = (uint8_t)(n >> (8 * i));
  for(int i = 0; i < 4; i++)
    out.bytes[8 + i] = (uint8_t)(julian >> (8 * i));
#endif
  return out;
}

int64_t parquet_int96_to_nanos(parquet_int96 value)
{
  uint64_t n = 0;
  uint32_t julian = 0;
  for(int i = 0; i < 8; i++)
    n |= (uint64_t)value.bytes[i] << (8 * i);
  for(int i = 0; i < 4; i++)
    julian |= (uint32_t)value.bytes[8 + i] << (8 * i);
  /* Julian days are stored unsigned by Impala/Spark; treat as signed 32-bit
   * like arrow so that dates before 4713 BC do not wrap to the far future. */
  int64_t day = (int64_t)(int32_t)julian - JULIAN_EPOCH;
  int64_t nanos = (int64_t)n, result;
  if(__builtin_mul_overflow(day, NANOS_PER_DAY, &result) ||
     __builtin_add_overflow(result, nanos, &result))
    return day < 0 ? INT64_MIN : INT64_MAX;
  return result;
}

int64_t parquet_timestamp_micros(const parquet_column_schema *column,
                                 const parquet_column_vector *vector, size_t row)
{
  if(column->physical == PARQUET_INT96) {
    /* From day and time of day directly: microseconds reach years that
     * nanoseconds since the epoch cannot (pandas stops at 2262). */
    const uint8_t *b = vector->values.i96[row].bytes;
    uint64_t n = 0;
    uint32_t julian = 0;
    for(int i = 0; i < 8; i++)
      n |= (uint64_t)b[i] << (8 * i);
    for(int i = 0; i < 4; i++)
      julian |= (uint32_t)b[8 + i] << (8 * i);
    int64_t day = (int64_t)(int32_t)julian - JULIAN_EPOCH, micros;
    int64_t of_day = utc_floor_div((int64_t)n, 1000);
    if(__builtin_mul_overflow(day, 86400000000LL, &micros) ||
       __builtin_add_overflow(micros, of_day, &micros))
      return day < 0 ? INT64_MIN : INT64_MAX;
    return micros;
  }
  int64_t v = column->physical == PARQUET_INT32 ? vector->values.i32[row] : vector->values.i64[row];
  switch(column->unit) {
  case PARQUET_MILLIS: {
    int64_t out;
    if(__builtin_mul_overflow(v, 1000, &out))
      return v < 0 ? INT64_MIN : INT64_MAX;
    return out;
  }
  case PARQUET_NANOS: return utc_floor_div(v, 1000);
  default: return v;
  }
}

const char *parquet_codec_name(parquet_codec codec)
{
  switch(codec) {
  case PARQUET_CODEC_NONE: return "UNCOMPRESSED";
  case PARQUET_CODEC_SNAPPY: return "SNAPPY";
  case PARQUET_CODEC_GZIP: return "GZIP";
  case PARQUET_CODEC_LZO: return "LZO";
  case PARQUET_CODEC_BROTLI: return "BROTLI";
  case PARQUET_CODEC_LZ4: return "LZ4";
  case PARQUET_CODEC_ZSTD: return "ZSTD";
  case PARQUET_CODEC_LZ4_RAW: return "LZ4_RAW";
  }
  return "UNKNOWN";
}

const char *parquet_physical_type_name(parquet_physical_type type)
{
  switch(type) {
  case PARQUET_BOOLEAN: return "BOOLEAN";
  case PARQUET_INT32: return "INT32";
  case PARQUET_INT64: return "INT64";
  case PARQUET_INT96: return "INT96";
  case PARQUET_FLOAT: return "FLOAT";
  case PARQUET_DOUBLE: return "DOUBLE";
  case PARQUET_BYTE_ARRAY: return "BYTE_ARRAY";
  case PARQUET_FIXED_LEN_BYTE_ARRAY: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "UNKNOWN";
}

cl_status parquet_codec_from_name(const char *name, parquet_codec *codec, cl_error *err)
{
  static const struct {
    const char *name;
    parquet_codec codec;
  } names[] = {
    {"snappy", PARQUET_CODEC_SNAPPY}, {"zstd", PARQUET_CODEC_ZSTD},
    {"gzip", PARQUET_CODEC_GZIP},     {"none", PARQUET_CODEC_NONE},
    {"uncompressed", PARQUET_CODEC_NONE},
  };
  for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if(name && !strcasecmp(name, names[i].name)) {
      *codec = names[i].codec;
      return CL_OK;
    }
  return cl_fail(err, CL_ERR_USAGE,
                 "unknown Parquet codec \"%s\" (snappy, zstd, gzip, none or uncompressed)",
                 name ? name : "");
}
