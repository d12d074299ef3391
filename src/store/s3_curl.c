#include "s3_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utctime.h"

/* CURLOPT_AWS_SIGV4 appeared in 7.75.0; older libraries would ignore it and
 * send unsigned requests. */
#define S3_CURL_MIN_VERSION 0x074b00

static const struct {
  const char *symbol;
  size_t offset;
} s3_curl_functions[] = {
  {"curl_easy_init", offsetof(s3_curl, easy_init)},
  {"curl_easy_cleanup", offsetof(s3_curl, easy_cleanup)},
  {"curl_easy_reset", offsetof(s3_curl, easy_reset)},
  {"curl_easy_setopt", offsetof(s3_curl, easy_setopt)},
  {"curl_easy_getinfo", offsetof(s3_curl, easy_getinfo)},
  {"curl_easy_pause", offsetof(s3_curl, easy_pause)},
  {"curl_easy_strerror", offsetof(s3_curl, easy_strerror)},
  {"curl_multi_init", offsetof(s3_curl, multi_init)},
  {"curl_multi_cleanup", offsetof(s3_curl, multi_cleanup)},
  {"curl_multi_add_handle", offsetof(s3_curl, multi_add_handle)},
  {"curl_multi_remove_handle", offsetof(s3_curl, multi_remove_handle)},
  {"curl_multi_perform", offsetof(s3_curl, multi_perform)},
  {"curl_multi_poll", offsetof(s3_curl, multi_poll)},
  {"curl_multi_info_read", offsetof(s3_curl, multi_info_read)},
  {"curl_multi_strerror", offsetof(s3_curl, multi_strerror)},
  {"curl_slist_append", offsetof(s3_curl, slist_append)},
  {"curl_slist_free_all", offsetof(s3_curl, slist_free_all)},
};

/* POSIX guarantees that dlsym's object pointer converts to a function
 * pointer; the copy below relies on both having the same size. */
_Static_assert(sizeof(void *) == sizeof(((s3_curl *)0)->easy_init),
               "function and object pointers differ in size");

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static atomic_flag preload_started = ATOMIC_FLAG_INIT;
static s3_curl loaded;
static cl_status load_status;
static char load_failure[CL_ERROR_MESSAGE_MAX];
static double load_seconds;
static const char *library_name = S3_CURL_LIBRARY;

static void *find(void *library, const char *symbol)
{
  void *address = dlsym(library, symbol);
  if(!address)
    snprintf(load_failure, sizeof(load_failure), "%s: %s is missing", library_name, symbol);
  return address;
}

static cl_status resolve_and_init(void *library)
{
  for(size_t i = 0; i < sizeof(s3_curl_functions) / sizeof(s3_curl_functions[0]); i++) {
    void *address = find(library, s3_curl_functions[i].symbol);
    if(!address)
      return CL_ERR_USAGE;
    memcpy((char *)&loaded + s3_curl_functions[i].offset, &address, sizeof(address));
  }
  void *version_address = find(library, "curl_version_info");
  void *init_address = version_address ? find(library, "curl_global_init") : NULL;
  if(!init_address)
    return CL_ERR_USAGE;
  curl_version_info_data *(*version_info)(CURLversion);
  CURLcode (*global_init)(long flags);
  memcpy(&version_info, &version_address, sizeof(version_address));
  memcpy(&global_init, &init_address, sizeof(init_address));

  const curl_version_info_data *version = version_info(CURLVERSION_NOW);
  if(!version || version->version_num < S3_CURL_MIN_VERSION) {
    snprintf(load_failure, sizeof(load_failure),
             "%s is version %s; S3 stores need 7.75.0 or later (SigV4 signing)", library_name,
             version && version->version ? version->version : "unknown");
    return CL_ERR_USAGE;
  }
  CURLcode code = global_init(CURL_GLOBAL_DEFAULT);
  if(code != CURLE_OK) {
    snprintf(load_failure, sizeof(load_failure), "%s: curl_global_init: %s", library_name,
             loaded.easy_strerror(code));
    return CL_ERR_INTERNAL;
  }
  return CL_OK;
}

static void load(void)
{
  double started = utc_monotonic_seconds();
  const char *configured = getenv("COLLATOR_LIBCURL");
  if(configured && *configured)
    library_name = configured;
  /* RTLD_LOCAL: libcurl's OpenSSL stays apart from the libcrypto the
   * binary may carry for its own digests. */
  void *library = dlopen(library_name, RTLD_NOW | RTLD_LOCAL);
  if(!library) {
    snprintf(load_failure, sizeof(load_failure), "cannot load %s (S3 stores need libcurl): %s",
             library_name, dlerror());
    load_status = CL_ERR_USAGE;
    return;
  }
  load_status = resolve_and_init(library);
  if(load_status)
    dlclose(library);
  load_seconds = utc_monotonic_seconds() - started;
}

static void *preload_thread(void *unused)
{
  (void)unused;
  pthread_once(&load_once, load);
  return NULL;
}

void s3_curl_preload(void)
{
  if(atomic_flag_test_and_set(&preload_started))
    return;
  pthread_attr_t attr;
  if(pthread_attr_init(&attr))
    return;
  pthread_t thread;
  if(!pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED))
    pthread_create(&thread, &attr, preload_thread, NULL);
  pthread_attr_destroy(&attr);
}

cl_status s3_curl_load(const s3_curl **out, cl_error *err)
{
  double started = utc_monotonic_seconds();
  pthread_once(&load_once, load);
  /* Whether a preload hid the loader's work is worth seeing in a cold start. */
  log_message(LOG_DEBUG, "s3: %s took %.3f ms to load; this store waited %.3f ms",
              library_name, load_seconds * 1000.0, (utc_monotonic_seconds() - started) * 1000.0);
  *out = load_status ? NULL : &loaded;
  return load_status ? cl_fail(err, load_status, "%s", load_failure) : CL_OK;
}
