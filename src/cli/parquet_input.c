#include "cli/parquet_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "store/store.h"

struct parquet_input {
  char *name;
  /* local file */
  stream_fd fd;
  /* store key */
  store *store;
  char *key;
  store_info info;
  stream_file file;
  parquet_reader *reader;
};

static cl_status store_key_read_at(void *ctx, uint64_t offset, void *dst, size_t len,
                                   cl_error *err)
{
  parquet_input *input = ctx;
  if(offset > input->info.size || len > input->info.size - offset)
    return cl_fail(err, CL_ERR_FORMAT, "read of %zu bytes at offset %llu is past the end", len,
                   (unsigned long long)offset);
  /* The store names the object in its messages, as the reader of this
   * stream_file does: pass on the reason alone. */
  cl_error inner;
  cl_error_clear(&inner);
  cl_status status = store_read_range(input->store, input->key, input->info.etag, offset, dst,
                                      len, &inner);
  if(!status)
    return CL_OK;
  const char *reason = cl_error_after_name(&inner, input->name);
  return cl_fail(err, status, "%s", reason ? reason : inner.message);
}

static cl_status open_local(parquet_input *input, const char *path, cl_error *err)
{
  struct stat st;
  input->fd.fd = open(path, O_RDONLY | O_CLOEXEC);
  if(input->fd.fd < 0)
    return cl_fail(err, errno == ENOENT ? CL_ERR_NOT_FOUND : CL_ERR_IO, "%s: %s", path,
                   strerror(errno));
  if(fstat(input->fd.fd, &st) < 0)
    return cl_fail(err, CL_ERR_IO, "%s: %s", path, strerror(errno));
  if(!S_ISREG(st.st_mode))
    return cl_fail(err, CL_ERR_IO, "%s: not a regular file", path);
  input->fd.name = input->name;
  input->file = stream_file_from_fd(&input->fd, (uint64_t)st.st_size);
  return CL_OK;
}

static cl_status open_store_key(parquet_input *input, const char *store_url, const char *key,
                                cl_error *err)
{
  cl_status status = store_open(store_url, &input->store, err);
  if(status)
    return status;
  input->key = strdup(key);
  if(!input->key)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", key);
  free(input->name);
  buf name = BUF_INIT;
  buf_printf(&name, "%s/%s", store_name(input->store), key);
  if(buf_status(&name)) {
    buf_free(&name);
    input->name = NULL;
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", key);
  }
  input->name = buf_take(&name, NULL);
  status = store_head(input->store, key, &input->info, err);
  if(status)
    return status;
  input->file = (stream_file){store_key_read_at, input, input->info.size, input->name};
  return CL_OK;
}

cl_status parquet_input_open(const char *store_url, const char *path, parquet_input **out,
                             cl_error *err)
{
  cl_status status;
  parquet_input *input = calloc(1, sizeof(*input));
  *out = NULL;
  if(!input)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", path);
  input->fd.fd = -1;
  input->name = strdup(path);
  if(!input->name) {
    parquet_input_free(input);
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", path);
  }
  status = store_url ? open_store_key(input, store_url, path, err) : open_local(input, path, err);
  if(!status) {
    parquet_reader_options options;
    parquet_reader_options_default(&options);
    status = parquet_reader_open(input->file, &options, &input->reader, err);
  }
  if(status) {
    parquet_input_free(input);
    return status;
  }
  *out = input;
  return CL_OK;
}

void parquet_input_free(parquet_input *input)
{
  if(!input)
    return;
  parquet_reader_free(input->reader);
  if(input->fd.fd >= 0)
    close(input->fd.fd);
  store_free(input->store);
  free(input->key);
  free(input->name);
  free(input);
}

parquet_reader *parquet_input_reader(parquet_input *input)
{
  return input->reader;
}

const char *parquet_input_name(const parquet_input *input)
{
  return input->name;
}

int parquet_input_exit_status(cl_status status)
{
  return status == CL_ERR_USAGE ? EXIT_USAGE : EXIT_PROCESSING_FAILED;
}

void parquet_input_report(const char *command, const char *name, const cl_error *err)
{
  const char *message = err->message[0] ? err->message : cl_status_name(err->status);
  if(strstr(message, name))
    fprintf(stderr, "collator: %s: %s\n", command, message);
  else
    fprintf(stderr, "collator: %s: %s: %s\n", command, name, message);
}
