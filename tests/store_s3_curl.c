/* libcurl loaded at run time: a preload racing several loaders yields one
 * complete table, and calls through it (variadic setopt/getinfo included)
 * drive a real transfer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/s3_curl.h"
#include "unit.h"

#define LOADERS 4

typedef struct loader {
  const s3_curl *table;
  cl_status status;
} loader;

static void *load_on_thread(void *arg)
{
  loader *result = arg;
  cl_error err;
  cl_error_clear(&err);
  result->status = s3_curl_load(&result->table, &err);
  return NULL;
}

TEST(store_s3_curl_preload_and_concurrent_loads_share_one_table)
{
  s3_curl_preload();
  s3_curl_preload(); /* a second call starts nothing new */
  pthread_t threads[LOADERS];
  loader results[LOADERS];
  memset(results, 0, sizeof(results));
  for(int i = 0; i < LOADERS; i++)
    CHECK_INT(pthread_create(&threads[i], NULL, load_on_thread, &results[i]), 0);
  for(int i = 0; i < LOADERS; i++)
    pthread_join(threads[i], NULL);
  for(int i = 0; i < LOADERS; i++) {
    CHECK_INT(results[i].status, CL_OK);
    CHECK(results[i].table == results[0].table);
  }
  const s3_curl *curl = results[0].table;
  CHECK(curl != NULL);
  /* Every slot is filled: the table is nothing but function pointers. */
  for(size_t offset = 0; offset < sizeof(*curl); offset += sizeof(void (*)(void))) {
    void (*slot)(void);
    memcpy(&slot, (const char *)curl + offset, sizeof(slot));
    CHECK(slot != NULL);
  }
  CHECK_STR(curl->easy_strerror(CURLE_OK), "No error");
  CHECK_STR(curl->multi_strerror(CURLM_OK), "No error");
}

static size_t count_bytes(char *data, size_t size, size_t count, void *total)
{
  (void)data;
  *(size_t *)total += size * count;
  return size * count;
}

TEST(store_s3_curl_table_drives_a_transfer)
{
  cl_error err;
  cl_error_clear(&err);
  const s3_curl *curl = NULL;
  CHECK_OK(s3_curl_load(&curl, &err), &err);

  char path[] = "/tmp/collator-s3-curl-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  static const char body[] = "twelve bytes";
  CHECK_INT(write(fd, body, sizeof(body) - 1), (ssize_t)(sizeof(body) - 1));
  close(fd);
  char url[64];
  snprintf(url, sizeof(url), "file://%s", path);

  struct curl_slist *headers = curl->slist_append(NULL, "X-Test: 1");
  CHECK(headers != NULL);
  CURL *easy = curl->easy_init();
  CURLM *multi = curl->multi_init();
  CHECK(easy && multi);
  size_t received = 0;
  CHECK_INT(curl->easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
  CHECK_INT(curl->easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_bytes), CURLE_OK);
  CHECK_INT(curl->easy_setopt(easy, CURLOPT_WRITEDATA, &received), CURLE_OK);
  CHECK_INT(curl->easy_setopt(easy, CURLOPT_HTTPHEADER, headers), CURLE_OK);
  CHECK_INT(curl->multi_add_handle(multi, easy), CURLM_OK);
  int running = 1;
  for(int turn = 0; running && turn < 1000; turn++) {
    CHECK_INT(curl->multi_perform(multi, &running), CURLM_OK);
    if(running)
      CHECK_INT(curl->multi_poll(multi, NULL, 0, 100, NULL), CURLM_OK);
  }
  int left = 0;
  CURLMsg *msg = curl->multi_info_read(multi, &left);
  CHECK(msg && msg->msg == CURLMSG_DONE);
  CHECK_INT(msg->data.result, CURLE_OK);
  curl_off_t size = -1;
  CHECK_INT(curl->easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &size), CURLE_OK);
  CHECK_INT(size, (curl_off_t)(sizeof(body) - 1));
  CHECK_INT(received, sizeof(body) - 1);
  CHECK_INT(curl->multi_remove_handle(multi, easy), CURLM_OK);
  curl->easy_reset(easy);
  curl->easy_cleanup(easy);
  CHECK_INT(curl->multi_cleanup(multi), CURLM_OK);
  curl->slist_free_all(headers);
  unlink(path);
}
