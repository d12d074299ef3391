#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/stream.h"
#include "unit.h"

/* The inner sink of the buffers under test: keeps the bytes and counts the
 * writes, failing from the write numbered fail_at (1-based) on. */
typedef struct recording_sink {
  buf bytes;
  int writes;
  int fail_at;
} recording_sink;

static cl_status record_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  recording_sink *r = ctx;
  r->writes++;
  if(r->fail_at && r->writes >= r->fail_at)
    return cl_fail(err, CL_ERR_IO, "recording sink: write %d refused", r->writes);
  return buf_append(&r->bytes, data, len);
}

/* Byte i of the test stream: any pattern in which a misplaced piece shows. */
static uint8_t pattern(uint64_t i)
{
  return (uint8_t)(i * 131 + (i >> 8));
}

static const struct {
  const char *name;
  size_t capacity;
  size_t pieces[8]; /* write sizes, 0-terminated */
  int writes_before_flush;
  int writes_after_flush;
  int whole_after_flush;
} buffer_vectors[] = {
  {"small pieces are held until the flush", 64, {4, 13, 10, 17, 9}, 0, 1, 1},
  {"exactly the capacity is still held", 16, {8, 8}, 0, 1, 1},
  {"overflow hands on what is held first", 16, {10, 10}, 1, 2, 0},
  {"a piece over the capacity passes straight through", 16, {3, 40, 2}, 2, 3, 0},
  {"a first piece over the capacity", 16, {40}, 1, 1, 0},
  {"many overflows", 10, {6, 6, 6, 6, 6, 6}, 5, 6, 0},
  {"an empty stream", 16, {0}, 0, 0, 1},
};

TEST(core_stream_buffer_vectors)
{
  for(size_t v = 0; v < sizeof(buffer_vectors) / sizeof(buffer_vectors[0]); v++) {
    const char *name = buffer_vectors[v].name;
    recording_sink inner = {BUF_INIT, 0, 0};
    stream_buffer b;
    cl_error err = {0};
    stream_buffer_init(&b, (stream_sink){record_write, &inner}, buffer_vectors[v].capacity);
    stream_sink sink = stream_sink_to_buffer(&b);
    uint8_t piece[64];
    uint64_t total = 0;
    for(const size_t *len = buffer_vectors[v].pieces; *len; len++) {
      for(size_t i = 0; i < *len; i++)
        piece[i] = pattern(total + i);
      CHECK_OK(sink.write(sink.ctx, piece, *len, &err), &err);
      total += *len;
    }
    if(inner.writes != buffer_vectors[v].writes_before_flush)
      unit_fail(__FILE__, __LINE__, "%s: %d writes before the flush, expected %d", name,
                inner.writes, buffer_vectors[v].writes_before_flush);
    CHECK_INT(stream_buffer_size(&b), total);
    CHECK_OK(stream_buffer_flush(&b, &err), &err);
    CHECK_OK(stream_buffer_flush(&b, &err), &err); /* nothing left: no write */
    if(inner.writes != buffer_vectors[v].writes_after_flush)
      unit_fail(__FILE__, __LINE__, "%s: %d writes after the flush, expected %d", name,
                inner.writes, buffer_vectors[v].writes_after_flush);
    CHECK_INT(inner.bytes.len, total);
    for(uint64_t i = 0; i < total; i++)
      if((uint8_t)inner.bytes.data[i] != pattern(i)) {
        unit_fail(__FILE__, __LINE__, "%s: byte %llu differs", name, (unsigned long long)i);
        break;
      }
    size_t len = 0;
    const uint8_t *whole = stream_buffer_whole(&b, &len);
    if(!!whole != buffer_vectors[v].whole_after_flush)
      unit_fail(__FILE__, __LINE__, "%s: whole is %s", name, whole ? "held" : "not held");
    if(whole)
      CHECK_MEM(whole, len, inner.bytes.data ? inner.bytes.data : "", inner.bytes.len);
    stream_buffer_free(&b);
    buf_free(&inner.bytes);
  }
}

TEST(core_stream_buffer_keeps_whole_stream_after_flush_until_it_outgrows)
{
  recording_sink inner = {BUF_INIT, 0, 0};
  stream_buffer b;
  cl_error err = {0};
  stream_buffer_init(&b, (stream_sink){record_write, &inner}, 8);
  stream_sink sink = stream_sink_to_buffer(&b);
  CHECK_OK(sink.write(sink.ctx, "abcd", 4, &err), &err);
  CHECK_OK(stream_buffer_flush(&b, &err), &err);
  /* Flushed but still held: more bytes join it and only they are sent. */
  CHECK_OK(sink.write(sink.ctx, "ef", 2, &err), &err);
  size_t len = 0;
  const uint8_t *whole = stream_buffer_whole(&b, &len);
  CHECK(whole != NULL);
  if(whole)
    CHECK_MEM(whole, len, "abcdef", 6);
  CHECK_OK(stream_buffer_flush(&b, &err), &err);
  CHECK_INT(inner.writes, 2);
  CHECK_MEM(inner.bytes.data, inner.bytes.len, "abcdef", 6);
  /* Outgrowing the capacity drops what is held: no longer whole. */
  CHECK_OK(sink.write(sink.ctx, "ghijk", 5, &err), &err);
  CHECK(stream_buffer_whole(&b, &len) == NULL);
  CHECK_INT(inner.writes, 2);
  CHECK_OK(stream_buffer_flush(&b, &err), &err);
  CHECK_MEM(inner.bytes.data, inner.bytes.len, "abcdefghijk", 11);
  CHECK_INT(stream_buffer_size(&b), 11);
  stream_buffer_free(&b);
  buf_free(&inner.bytes);
}

TEST(core_stream_buffer_passes_inner_failures_on)
{
  recording_sink inner = {BUF_INIT, 0, 1};
  stream_buffer b;
  cl_error err = {0};
  stream_buffer_init(&b, (stream_sink){record_write, &inner}, 4);
  stream_sink sink = stream_sink_to_buffer(&b);
  CHECK_OK(sink.write(sink.ctx, "abc", 3, &err), &err);
  CHECK_STATUS(sink.write(sink.ctx, "def", 3, &err), CL_ERR_IO);
  CHECK(strstr(err.message, "refused") != NULL);
  CHECK_STATUS(stream_buffer_flush(&b, &err), CL_ERR_IO);
  stream_buffer_free(&b);
  buf_free(&inner.bytes);
}

TEST(core_stream_buffer_over_a_file)
{
  int fd = -1;
  cl_error err = {0};
  CHECK_OK(stream_temp_fd(&fd, &err), &err);
  if(fd < 0)
    return;
  stream_fd out = {.fd = fd, .name = "buffered temp file"};
  stream_buffer b;
  stream_buffer_init(&b, stream_sink_to_fd(&out), 1024);
  stream_sink sink = stream_sink_to_buffer(&b);
  char line[32];
  size_t expected = 0;
  for(int i = 0; i < 500; i++) {
    int n = snprintf(line, sizeof(line), "line %d\n", i);
    CHECK_OK(sink.write(sink.ctx, line, (size_t)n, &err), &err);
    expected += (size_t)n;
  }
  CHECK_OK(stream_buffer_flush(&b, &err), &err);
  CHECK_INT(out.written, expected);
  stream_file file = stream_file_from_fd(&out, out.written);
  char head[14];
  CHECK_OK(file.read_at(file.ctx, 0, head, sizeof(head), &err), &err);
  CHECK_MEM(head, sizeof(head), "line 0\nline 1\n", 14);
  stream_buffer_free(&b);
  close(fd);
}

/* Writeback is started in steps of writeback_every bytes and changes
 * nothing about what is written. */
TEST(core_stream_fd_starts_writeback_in_steps)
{
  int fd = -1;
  cl_error err = {0};
  CHECK_OK(stream_temp_fd(&fd, &err), &err);
  if(fd < 0)
    return;
  stream_fd out = {.fd = fd, .name = "temp file", .writeback_every = 100};
  stream_sink sink = stream_sink_to_fd(&out);
  char piece[40];
  for(int i = 0; i < 10; i++) {
    memset(piece, 'a' + i, sizeof(piece));
    CHECK_OK(sink.write(sink.ctx, piece, sizeof(piece), &err), &err);
  }
  /* 400 bytes: handed over at 120, 240 and 360. */
  CHECK_INT(out.written, 400);
  CHECK_INT(out.writeback_started, 360);
  stream_file file = stream_file_from_fd(&out, out.written);
  char tail[2];
  CHECK_OK(file.read_at(file.ctx, 359, tail, sizeof(tail), &err), &err);
  CHECK_MEM(tail, 2, "ij", 2);
  close(fd);
}

/* stream_fd_copy_from appends after what the destination holds, in the
 * kernel or (a destination copy_file_range refuses: O_APPEND) through
 * memory, and a source shorter than the size asked for is an error that
 * says where it ended. */
static const struct {
  const char *name;
  int append_only;        /* O_APPEND: copy_file_range refuses it */
  size_t source_bytes;
  size_t copy_bytes;
  uint64_t writeback_at;  /* expected writeback_started */
  const char *failure;    /* expected message, or NULL */
} copy_vectors[] = {
  {"nothing to copy", 0, 100, 0, 0, NULL},
  {"one byte", 0, 100, 1, 0, NULL},
  {"part of the source", 0, 300000, 200000, 0, NULL},
  {"two kernel calls, writeback after each", 0, 9u << 20, 9u << 20, (9u << 20) + 7, NULL},
  {"through memory", 1, 9u << 20, 9u << 20, (9u << 20) + 7, NULL},
  {"short source", 0, 1000, 1001, 0,
   "destination: copy: the source ended at 1000 bytes of 1001"},
  {"short source through memory", 1, 1000, 1001, 0,
   "destination: copy: the source ended at 1000 bytes of 1001"},
};

TEST(core_stream_fd_copy_from_vectors)
{
  uint8_t *data = malloc(9u << 20);
  CHECK(data != NULL);
  if(!data)
    return;
  for(size_t i = 0; i < (9u << 20); i++)
    data[i] = pattern(i);
  for(size_t v = 0; v < sizeof(copy_vectors) / sizeof(copy_vectors[0]); v++) {
    cl_error err = {0};
    int from = -1, to = -1;
    CHECK_OK(stream_temp_fd(&from, &err), &err);
    CHECK_OK(stream_temp_fd(&to, &err), &err);
    if(from < 0 || to < 0)
      break;
    CHECK_INT(write(from, data, copy_vectors[v].source_bytes),
              copy_vectors[v].source_bytes);
    stream_fd out = {.fd = to, .name = "destination", .writeback_every = 1u << 20};
    stream_sink sink = stream_sink_to_fd(&out);
    CHECK_OK(sink.write(sink.ctx, "before:", 7, &err), &err);
    if(copy_vectors[v].append_only)
      CHECK_INT(fcntl(to, F_SETFL, O_APPEND), 0);
    cl_status status = stream_fd_copy_from(&out, from, copy_vectors[v].copy_bytes, &err);
    if(copy_vectors[v].failure) {
      CHECK_STATUS(status, CL_ERR_IO);
      CHECK_STR(unit_error_message(&err), copy_vectors[v].failure);
    } else {
      if(status)
        unit_fail(__FILE__, __LINE__, "%s: %s", copy_vectors[v].name, unit_error_message(&err));
      size_t len = 7 + copy_vectors[v].copy_bytes;
      CHECK_INT(out.written, len);
      CHECK_INT(out.writeback_started, copy_vectors[v].writeback_at);
      CHECK_INT(lseek(to, 0, SEEK_END), len);
      uint8_t *back = malloc(len);
      CHECK(back != NULL);
      if(back) {
        CHECK_INT(pread(to, back, len, 0), len);
        CHECK_MEM(back, 7, "before:", 7);
        CHECK_MEM(back + 7, len - 7, data, copy_vectors[v].copy_bytes);
      }
      free(back);
    }
    close(from);
    close(to);
  }
  free(data);
}

TEST(core_stream_trickle_hands_out_at_most_step_bytes)
{
  static const struct {
    size_t step, cap, first; /* the first read's size */
  } cases[] = {{0, 4, 4}, {0, 100, 10}, {1, 4, 1}, {3, 4, 3}, {3, 2, 2}, {20, 8, 8}};
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    stream_trickle t = {{(const uint8_t *)"0123456789", 10, 0}, cases[i].step};
    stream_source s = stream_source_from_trickle(&t);
    char out[100], all[11] = {0};
    size_t got = 0, total = 0;
    CHECK_OK(s.read(s.ctx, out, cases[i].cap, &got, NULL), NULL);
    CHECK_INT(got, cases[i].first);
    do {
      memcpy(all + total, out, got);
      total += got;
      CHECK_OK(s.read(s.ctx, out, cases[i].cap, &got, NULL), NULL);
    } while(got);
    CHECK_STR(all, "0123456789");
  }
}
