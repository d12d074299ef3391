/*
 * `collator cat`: print a Parquet file's rows as JSON lines, CSV or an
 * aligned table. Rows are decoded one row group at a time, and only the
 * projected columns, so memory is bounded by one row group of those columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/parquet_input.h"
#include "cli/parquet_values.h"
#include "core/buf.h"
#include "json/json.h"

/* Output is written in pieces of about this size: few system calls, and the
 * memory held stays bounded however large the file. */
#define OUTPUT_FLUSH_BYTES (1u << 20)
/* Display columns a table cell may take before it is cut with an ellipsis. */
#define TABLE_CELL_WIDTH 32
/* The skipped-nested-columns warning names this many, enough to recognise
 * the structure without flooding the terminal. */
#define NESTED_NAMES_SHOWN 5

typedef enum cat_format { CAT_JSONL, CAT_CSV, CAT_TABLE } cat_format;

typedef struct cat_options {
  cat_format format;
  const char *columns; /* comma-separated, NULL for every flat column */
  const char *store_url;
  const char *path;
} cat_options;

typedef struct cat_state {
  const cat_options *options;
  parquet_reader *reader;
  const parquet_schema *schema;
  size_t *projection; /* schema indexes, in output order */
  size_t projected;
  parquet_column_vector *vectors;
  size_t *widths;     /* table: display width of each output column */
  int header_done;
  buf out;
  buf cell;
} cat_state;

static void cat_usage(FILE *to)
{
  fprintf(to, "usage: collator cat [--store URL] [--format jsonl|csv|table] [--columns a,b] "
              "FILE|KEY\n");
}

/* The exit status when the command ends here (0 after --help, 2 on a usage
 * error), or CLI_PARSED to go on. */
static int parse_options(int argc, char **argv, cat_options *options)
{
  const char *format = NULL;
  memset(options, 0, sizeof(*options));
  const cli_option table[] = {
    {"--format", NULL, &format, NULL},
    {"--columns", NULL, &options->columns, NULL},
    {"--store", NULL, &options->store_url, NULL},
  };
  int operand;
  int exit_status = cli_parse("cat", argc, argv, table, sizeof(table) / sizeof(table[0]),
                              cat_usage, &operand);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(!format || !strcmp(format, "jsonl"))
    options->format = CAT_JSONL;
  else if(!strcmp(format, "csv"))
    options->format = CAT_CSV;
  else if(!strcmp(format, "table"))
    options->format = CAT_TABLE;
  else {
    fprintf(stderr, "collator: cat: unknown format '%s' (jsonl, csv, table)\n", format);
    return EXIT_USAGE;
  }
  if(operand >= argc) {
    cat_usage(stderr);
    return EXIT_USAGE;
  }
  if(operand + 1 < argc) {
    fprintf(stderr, "collator: cat: one FILE|KEY expected, got '%s' too\n", argv[operand + 1]);
    return EXIT_USAGE;
  }
  options->path = argv[operand];
  return CLI_PARSED;
}

static cl_status choose_columns(cat_state *state, cl_error *err)
{
  const parquet_schema *schema = state->schema;
  state->projection = calloc(schema->column_count ? schema->column_count : 1,
                             sizeof(*state->projection));
  if(!state->projection)
    return cl_fail(err, CL_ERR_NOMEM, "column list: out of memory");
  if(!state->options->columns) {
    size_t nested = 0;
    buf names = BUF_INIT;
    for(size_t i = 0; i < schema->column_count; i++) {
      if(!schema->columns[i].nested) {
        state->projection[state->projected++] = i;
        continue;
      }
      if(nested < NESTED_NAMES_SHOWN)
        buf_printf(&names, "%s'%s'", nested ? ", " : "", schema->columns[i].name);
      nested++;
    }
    if(nested)
      fprintf(stderr, "collator: cat: %s: skipping %zu nested column%s (%s%s)\n",
              state->options->path, nested, nested == 1 ? "" : "s",
              names.data ? names.data : "", nested > NESTED_NAMES_SHOWN ? ", ..." : "");
    buf_free(&names);
    if(!state->projected && schema->column_count)
      return cl_fail(err, CL_ERR_UNSUPPORTED, "%s: no flat column to print (nested columns "
                     "are not supported)", state->options->path);
    return CL_OK;
  }
  /* Every comma-separated name must be non-empty: "a,,b", "a," and "" are
   * typos, not requests for fewer columns. */
  const char *list = state->options->columns;
  for(;;) {
    const char *end = strchr(list, ',');
    size_t len = end ? (size_t)(end - list) : strlen(list);
    char name[1024];
    if(len == 0 || len >= sizeof(name))
      return cl_fail(err, CL_ERR_USAGE, "--columns: bad column list '%s'",
                     state->options->columns);
    memcpy(name, list, len);
    name[len] = '\0';
    int index = parquet_reader_find_column(state->reader, name);
    if(index < 0)
      return cl_fail(err, CL_ERR_USAGE, "--columns: no flat column '%s' in %s", name,
                     state->options->path);
    for(size_t k = 0; k < state->projected; k++)
      if(state->projection[k] == (size_t)index)
        return cl_fail(err, CL_ERR_USAGE, "--columns: '%s' is named twice", name);
    state->projection[state->projected++] = (size_t)index;
    if(!end)
      return CL_OK;
    list = end + 1;
  }
}

static cl_status flush_output(cat_state *state, size_t threshold, cl_error *err)
{
  if(buf_status(&state->out))
    return cl_fail(err, buf_status(&state->out), "output: out of memory");
  if(state->out.len < threshold || state->out.len == 0)
    return CL_OK;
  if(fwrite(state->out.data, 1, state->out.len, stdout) != state->out.len || fflush(stdout))
    return cl_fail(err, CL_ERR_IO, "standard output: write failed");
  buf_clear(&state->out);
  return CL_OK;
}

static const parquet_column_schema *projected_column(const cat_state *state, size_t k)
{
  return &state->schema->columns[state->projection[k]];
}

/* ---- jsonl ---- */

static cl_status write_jsonl_rows(cat_state *state, size_t rows, cl_error *err)
{
  cl_status status;
  for(size_t row = 0; row < rows; row++) {
    buf_putc(&state->out, '{');
    for(size_t k = 0; k < state->projected; k++) {
      const parquet_column_schema *column = projected_column(state, k);
      if(k)
        buf_append_str(&state->out, ", ");
      status = json_write_string(&state->out, column->name, strlen(column->name), 0);
      if(!status)
        status = buf_append_str(&state->out, ": ");
      if(!status)
        status = parquet_value_append(&state->out, PARQUET_VALUE_JSON, column,
                                      &state->vectors[k], row);
      if(status)
        return cl_fail(err, status, "%s: formatting column '%s'", state->options->path,
                       column->name);
    }
    buf_append_str(&state->out, "}\n");
    status = flush_output(state, OUTPUT_FLUSH_BYTES, err);
    if(status)
      return status;
  }
  return CL_OK;
}

/* ---- csv (RFC 4180) ---- */

static void append_csv_field(buf *out, const char *text, size_t len)
{
  if(!memchr(text, ',', len) && !memchr(text, '"', len) && !memchr(text, '\n', len) &&
     !memchr(text, '\r', len)) {
    buf_append(out, text, len);
    return;
  }
  buf_putc(out, '"');
  for(size_t i = 0; i < len; i++) {
    if(text[i] == '"')
      buf_putc(out, '"');
    buf_putc(out, text[i]);
  }
  buf_putc(out, '"');
}

static cl_status write_csv_rows(cat_state *state, size_t rows, cl_error *err)
{
  cl_status status;
  if(!state->header_done) {
    for(size_t k = 0; k < state->projected; k++) {
      const char *name = projected_column(state, k)->name;
      if(k)
        buf_putc(&state->out, ',');
      append_csv_field(&state->out, name, strlen(name));
    }
    buf_append_str(&state->out, "\r\n");
    state->header_done = 1;
  }
  for(size_t row = 0; row < rows; row++) {
    for(size_t k = 0; k < state->projected; k++) {
      const parquet_column_schema *column = projected_column(state, k);
      buf_clear(&state->cell);
      status = parquet_value_append(&state->cell, PARQUET_VALUE_TEXT, column,
                                    &state->vectors[k], row);
      if(status)
        return cl_fail(err, status, "%s: formatting column '%s'", state->options->path,
                       column->name);
      if(k)
        buf_putc(&state->out, ',');
      /* Null is the empty field; an empty string is "" so the two stay apart. */
      if(state->cell.len == 0 && !(state->vectors[k].defined && !state->vectors[k].defined[row]) &&
         column->logical != PARQUET_LOGICAL_NULL)
        buf_append_str(&state->out, "\"\"");
      else
        append_csv_field(&state->out, state->cell.data ? state->cell.data : "", state->cell.len);
    }
    buf_append_str(&state->out, "\r\n");
    status = flush_output(state, OUTPUT_FLUSH_BYTES, err);
    if(status)
      return status;
  }
  return CL_OK;
}

/* ---- table ---- */

static int char_width(utf8proc_int32_t cp)
{
  if(cp < 0x20 || cp == 0x7F)
    return 1; /* shown as a space */
  int width = utf8proc_charwidth(cp);
  return width > 0 ? width : 0;
}

/* The next code point of text; invalid bytes count as U+FFFD, one byte each. */
static size_t next_char(const char *text, size_t len, utf8proc_int32_t *cp)
{
  utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text,
                                        (utf8proc_ssize_t)len, cp);
  if(n <= 0) {
    *cp = 0xFFFD;
    return 1;
  }
  return (size_t)n;
}

static size_t display_width(const char *text, size_t len)
{
  size_t width = 0, i = 0;
  while(i < len) {
    utf8proc_int32_t cp;
    i += next_char(text + i, len - i, &cp);
    width += (size_t)char_width(cp);
  }
  return width;
}

/* Append text as one table cell of exactly `width` display columns:
 * control characters become spaces and a longer text is cut with "…". */
static void append_table_cell(buf *out, const char *text, size_t len, size_t width)
{
  size_t total = display_width(text, len);
  size_t room = total <= width ? width : width - 1; /* one column for the ellipsis */
  size_t used = 0, i = 0;
  while(i < len) {
    utf8proc_int32_t cp;
    size_t n = next_char(text + i, len - i, &cp);
    size_t cw = (size_t)char_width(cp);
    if(used + cw > room)
      break;
    if(cp < 0x20 || cp == 0x7F) {
      buf_putc(out, ' ');
    } else if(cp == 0xFFFD) {
      char replacement[4];
      buf_append(out, replacement, (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)replacement));
    } else {
      buf_append(out, text + i, n);
    }
    used += cw;
    i += n;
  }
  if(total > width) {
    buf_append_str(out, "\xE2\x80\xA6");
    used++;
  }
  if(used < width)
    buf_fill(out, ' ', width - used);
}

static cl_status format_table_cell(cat_state *state, size_t k, size_t row, cl_error *err)
{
  const parquet_column_schema *column = projected_column(state, k);
  const parquet_column_vector *vector = &state->vectors[k];
  cl_status status;
  buf_clear(&state->cell);
  if(vector->defined && !vector->defined[row])
    status = buf_append_str(&state->cell, "null");
  else
    status = parquet_value_append(&state->cell, PARQUET_VALUE_TEXT, column, vector, row);
  if(status)
    return cl_fail(err, status, "%s: formatting column '%s'", state->options->path,
                   column->name);
  return CL_OK;
}

/* Widths come from the header and the first row group: later cells that are
 * wider are cut, so the table streams instead of buffering the whole file. */
static cl_status write_table_rows(cat_state *state, size_t rows, cl_error *err)
{
  cl_status status;
  if(!state->header_done) {
    for(size_t k = 0; k < state->projected; k++) {
      const char *name = projected_column(state, k)->name;
      size_t width = display_width(name, strlen(name));
      for(size_t row = 0; row < rows && width < TABLE_CELL_WIDTH; row++) {
        status = format_table_cell(state, k, row, err);
        if(status)
          return status;
        size_t w = display_width(state->cell.data ? state->cell.data : "", state->cell.len);
        if(w > width)
          width = w;
      }
      state->widths[k] = width < TABLE_CELL_WIDTH ? width : TABLE_CELL_WIDTH;
      if(state->widths[k] == 0)
        state->widths[k] = 1;
    }
    for(size_t k = 0; k < state->projected; k++) {
      const char *name = projected_column(state, k)->name;
      if(k)
        buf_append_str(&state->out, " | ");
      append_table_cell(&state->out, name, strlen(name), state->widths[k]);
    }
    buf_putc(&state->out, '\n');
    for(size_t k = 0; k < state->projected; k++) {
      if(k)
        buf_append_str(&state->out, "-+-");
      buf_fill(&state->out, '-', state->widths[k]);
    }
    buf_putc(&state->out, '\n');
    state->header_done = 1;
  }
  for(size_t row = 0; row < rows; row++) {
    for(size_t k = 0; k < state->projected; k++) {
      status = format_table_cell(state, k, row, err);
      if(status)
        return status;
      if(k)
        buf_append_str(&state->out, " | ");
      append_table_cell(&state->out, state->cell.data ? state->cell.data : "", state->cell.len,
                        state->widths[k]);
    }
    /* Padding of the last cell is noise at the end of a line. */
    size_t end = state->out.len;
    while(end && state->out.data[end - 1] == ' ')
      end--;
    buf_truncate(&state->out, end);
    buf_putc(&state->out, '\n');
    status = flush_output(state, OUTPUT_FLUSH_BYTES, err);
    if(status)
      return status;
  }
  return CL_OK;
}

static void free_vectors(cat_state *state)
{
  for(size_t k = 0; k < state->projected; k++) {
    parquet_column_vector_free(&state->vectors[k]);
    memset(&state->vectors[k], 0, sizeof(state->vectors[k]));
  }
}

static cl_status cat_row_groups(cat_state *state, cl_error *err)
{
  const parquet_file_info *info = parquet_reader_info(state->reader);
  cl_status status;
  state->vectors = calloc(state->projected ? state->projected : 1, sizeof(*state->vectors));
  state->widths = calloc(state->projected ? state->projected : 1, sizeof(*state->widths));
  if(!state->vectors || !state->widths)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", state->options->path);
  for(size_t group = 0; group < info->row_group_count; group++) {
    size_t rows = (size_t)info->row_groups[group].row_count;
    for(size_t k = 0; k < state->projected; k++) {
      status = parquet_reader_read_column(state->reader, group, state->projection[k],
                                          &state->vectors[k], err);
      if(status) {
        free_vectors(state);
        return status;
      }
      if(state->vectors[k].count != rows) {
        size_t got = state->vectors[k].count;
        free_vectors(state);
        return cl_fail(err, CL_ERR_FORMAT, "%s: row group %zu column '%s' has %zu values, "
                       "the row group %zu rows", state->options->path, group,
                       projected_column(state, k)->name, got, rows);
      }
    }
    if(state->options->format == CAT_JSONL)
      status = write_jsonl_rows(state, rows, err);
    else if(state->options->format == CAT_CSV)
      status = write_csv_rows(state, rows, err);
    else
      status = write_table_rows(state, rows, err);
    free_vectors(state);
    if(status)
      return status;
  }
  /* Headers still belong in the output of a file without rows. */
  if(state->options->format == CAT_CSV)
    status = write_csv_rows(state, 0, err);
  else if(state->options->format == CAT_TABLE)
    status = write_table_rows(state, 0, err);
  else
    status = CL_OK;
  if(status)
    return status;
  return flush_output(state, 0, err);
}

int command_cat(int argc, char **argv)
{
  cat_options options;
  int exit_status = parse_options(argc, argv, &options);
  if(exit_status != CLI_PARSED)
    return exit_status;

  cl_error err;
  cl_error_clear(&err);
  parquet_input *input = NULL;
  cl_status status = parquet_input_open(options.store_url, options.path, &input, &err);
  if(status) {
    parquet_input_report("cat", options.path, &err);
    return parquet_input_exit_status(status);
  }
  cat_state state = {0};
  state.options = &options;
  state.reader = parquet_input_reader(input);
  state.schema = parquet_reader_schema(state.reader);
  buf_init(&state.out, 0);
  buf_init(&state.cell, 0);
  status = choose_columns(&state, &err);
  if(!status)
    status = cat_row_groups(&state, &err);
  if(status) {
    /* Rows decoded before the failure still go out, then the reason. */
    if(status != CL_ERR_IO)
      flush_output(&state, 0, &(cl_error){0});
    parquet_input_report("cat", parquet_input_name(input), &err);
  }
  free(state.projection);
  free(state.vectors);
  free(state.widths);
  buf_free(&state.out);
  buf_free(&state.cell);
  parquet_input_free(input);
  return status ? parquet_input_exit_status(status) : 0;
}
