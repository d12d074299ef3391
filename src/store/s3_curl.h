/*
 * s3_curl: libcurl, loaded when the S3 backend first needs it (internal to
 * src/store).
 *
 * A binary linked with libcurl pays at every start for the dynamic loader's
 * work on libcurl's dependencies (OpenSSL, GnuTLS, Kerberos, LDAP, IDN and
 * more: ~30 libraries on Debian, ~15 ms of the ~17 ms from process start to
 * the first Lambda Runtime API request), though a local store, the CLI's
 * other commands and a Lambda runtime waiting for its first event never
 * touch S3. So the collator does not link libcurl: store_s3.c calls it
 * through the table below, filled by dlopen of libcurl.so.4, or of what
 * COLLATOR_LIBCURL names (a file name is found through the binary's
 * RUNPATH, LD_LIBRARY_PATH and the system's library paths).
 *
 * s3_curl_preload starts the load on a background thread for a process that
 * will soon need S3; s3_curl_load returns the table, waiting for a load
 * already under way or doing it in the caller's thread. Either way the load
 * happens once per process: dlopen, dlsym of every function below, a check
 * that the library is 7.75.0 or later (CURLOPT_AWS_SIGV4), and
 * curl_global_init.
 */
#ifndef COLLATOR_STORE_S3_CURL_H
#define COLLATOR_STORE_S3_CURL_H

#include <curl/curl.h>

#include "core/error.h"

#define S3_CURL_LIBRARY "libcurl.so.4"

typedef struct s3_curl {
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *easy);
  void (*easy_reset)(CURL *easy);
  CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
  CURLcode (*easy_pause)(CURL *easy, int bitmask);
  const char *(*easy_strerror)(CURLcode code);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *multi);
  CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_perform)(CURLM *multi, int *running);
  CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra_fds[], unsigned extra_nfds,
                          int timeout_ms, int *ret);
  CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
  const char *(*multi_strerror)(CURLMcode code);
  struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
  void (*slist_free_all)(struct curl_slist *list);
} s3_curl;

/* Start loading libcurl on a detached background thread, unless a load has
 * started already. If no thread can be created, s3_curl_load does the work. */
void s3_curl_preload(void);

/* The loaded table (borrowed, valid for the life of the process). A library
 * that is missing, lacks a function or is too old is CL_ERR_USAGE (the
 * installation's fault, not the input's), a failed curl_global_init
 * CL_ERR_INTERNAL; the message names the library and what failed. */
cl_status s3_curl_load(const s3_curl **out, cl_error *err);

#endif
