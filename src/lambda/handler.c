#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/utctime.h"
#include "json/json.h"
#include "lambda/lambda.h"
#include "store/store.h"

#define DEFAULT_DEADLINE_MARGIN_MS 10000

/* Opening a store is cheap but not free (an S3 backend sets up curl and
 * credentials), and a warm Lambda sees the same bucket invocation after
 * invocation, so stores live as long as the handler. */
typedef struct cached_store {
  char *bucket;
  store *s;
} cached_store;

struct lambda_handler {
  lambda_config config;
  char *store_url;
  char *function_role;
  cached_store *stores;
  size_t store_count, store_cap;
};

cl_status lambda_config_from_env(lambda_config *config, cl_error *err)
{
  memset(config, 0, sizeof(*config));
  cl_status status = log_init_from_env(err);
  if(!status)
    status = collate_options_from_env(&config->options, err);
  if(status)
    return status;
  const char *role = getenv("COLLATOR_FUNCTION_ROLE");
  if(!role || !*role)
    role = "primary";
  if(strcmp(role, "primary") && strcmp(role, "dlq"))
    return cl_fail(err, CL_ERR_USAGE, "COLLATOR_FUNCTION_ROLE=%s: expected primary or dlq",
                   role);
  config->function_role = role;
  uint64_t margin;
  status = env_u64("COLLATOR_DEADLINE_MARGIN_MS", DEFAULT_DEADLINE_MARGIN_MS, &margin, err);
  if(status)
    return status;
  if(margin > INT64_MAX)
    return cl_fail(err, CL_ERR_USAGE, "COLLATOR_DEADLINE_MARGIN_MS=%" PRIu64 ": too large",
                   margin);
  config->deadline_margin_ms = (int64_t)margin;
  const char *store_url = getenv("COLLATOR_STORE");
  config->store_url = store_url && *store_url ? store_url : NULL;
  if(config->store_url && (status = store_check_url(config->store_url, err)))
    cl_error_prefix(err, "COLLATOR_STORE");
  return status;
}

cl_status lambda_handler_create(const lambda_config *config, lambda_handler **out,
                                cl_error *err)
{
  *out = NULL;
  lambda_handler *handler = calloc(1, sizeof(*handler));
  if(!handler)
    return cl_fail(err, CL_ERR_NOMEM, "lambda handler: out of memory");
  handler->config = *config;
  handler->function_role = strdup(config->function_role ? config->function_role : "primary");
  handler->store_url = config->store_url ? strdup(config->store_url) : NULL;
  if(!handler->function_role || (config->store_url && !handler->store_url)) {
    lambda_handler_free(handler);
    return cl_fail(err, CL_ERR_NOMEM, "lambda handler: out of memory");
  }
  handler->config.function_role = handler->function_role;
  handler->config.store_url = handler->store_url;
  *out = handler;
  return CL_OK;
}

void lambda_handler_free(lambda_handler *handler)
{
  if(!handler)
    return;
  for(size_t i = 0; i < handler->store_count; i++) {
    free(handler->stores[i].bucket);
    store_free(handler->stores[i].s);
  }
  free(handler->stores);
  free(handler->store_url);
  free(handler->function_role);
  free(handler);
}

const char *lambda_error_type(cl_status status)
{
  if(cl_status_is_permanent(status))
    return "InvalidEvent";
  switch(status) {
  case CL_ERR_USAGE: return "InvalidConfiguration";
  case CL_ERR_NOMEM: return "OutOfMemory";
  case CL_ERR_INTERNAL: return "InternalError";
  default: return "UploadFailed";
  }
}

void lambda_error_document(cl_status status, const char *message, buf *out)
{
  const char *type = lambda_error_type(status);
  buf_append_str(out, "{\"errorMessage\": ");
  json_write_string(out, message, strlen(message), 0);
  buf_append_str(out, ", \"errorType\": ");
  json_write_string(out, type, strlen(type), 0);
  buf_putc(out, '}');
}

static cl_status store_for_bucket(lambda_handler *handler, const char *bucket, store **out,
                                  cl_error *err)
{
  /* With an override every bucket shares one store, cached under "". */
  const char *cache_key = handler->store_url ? "" : bucket;
  for(size_t i = 0; i < handler->store_count; i++)
    if(!strcmp(handler->stores[i].bucket, cache_key)) {
      *out = handler->stores[i].s;
      return CL_OK;
    }
  buf url = BUF_INIT;
  if(handler->store_url)
    buf_append_str(&url, handler->store_url);
  else
    buf_printf(&url, "s3://%s", bucket);
  cl_status status = buf_status(&url);
  if(!status)
    status = MEM_GROW_ARRAY(handler->stores, &handler->store_cap, handler->store_count + 1, 4);
  if(status) {
    buf_free(&url);
    return cl_fail(err, status, "store for bucket %s: out of memory", bucket);
  }
  store *s = NULL;
  status = store_open(url.data, &s, err);
  buf_free(&url);
  if(status)
    return status;
  char *key_copy = strdup(cache_key);
  if(!key_copy) {
    store_free(s);
    return cl_fail(err, CL_ERR_NOMEM, "store for bucket %s: out of memory", bucket);
  }
  handler->stores[handler->store_count].bucket = key_copy;
  handler->stores[handler->store_count].s = s;
  handler->store_count++;
  *out = s;
  return CL_OK;
}

static int64_t now_ms(void)
{
  return utc_now_micros() / 1000;
}

/* Log the per-upload line and its metrics. Failures to format a log line
 * are not worth failing an upload that succeeded. */
static void log_upload(lambda_handler *handler, const collate_result *result, const char *key,
                       const char *request_id, uint64_t retries)
{
  buf line = BUF_INIT;
  if(!collate_result_to_json(result, key, request_id, &line) && line.len)
    log_json_line(line.data, line.len);
  buf_clear(&line);
  if(!lambda_metrics_emf(result, handler->function_role, retries, now_ms(), &line))
    log_json_line(line.data, line.len);
  buf_free(&line);
}

/* Run one item. Returns 1 when it failed (must be retried), 0 otherwise;
 * first_error receives the first failure's message. */
static int run_item(lambda_handler *handler, const lambda_item *item,
                    const lambda_invocation *invocation, lambda_outcome *outcome,
                    cl_error *first_error)
{
  cl_error err;
  cl_error_clear(&err);
  if(item->decode_status) {
    log_message(LOG_ERROR, "request %s: SQS message %s: %s",
                invocation->request_id ? invocation->request_id : "-",
                item->message_id ? item->message_id : "-", item->decode_error);
    if(!first_error->status)
      cl_fail(first_error, item->decode_status, "SQS message %s: %s",
              item->message_id ? item->message_id : "-", item->decode_error);
    outcome->failed++;
    return 1;
  }
  int64_t deadline = invocation->deadline_ms;
  if(deadline && now_ms() + handler->config.deadline_margin_ms > deadline) {
    cl_fail(&err, CL_ERR_TRANSIENT, "not started: %" PRId64 " ms left before the deadline",
            deadline - now_ms());
  } else {
    store *s = NULL;
    cl_status status = store_for_bucket(handler, item->bucket, &s, &err);
    if(!status) {
      collate_options options = handler->config.options;
      if(!handler->config.pinned_now)
        options.now_micros = utc_now_micros();
      store_stats before, after;
      store_get_stats(s, &before);
      collate_result result;
      memset(&result, 0, sizeof(result));
      status = collate_upload(s, item->key, &options, &result, &err);
      store_get_stats(s, &after);
      if(status || result.outcome == COLLATE_FAILED) {
        result.outcome = COLLATE_FAILED;
        if(!result.reason[0])
          snprintf(result.reason, sizeof(result.reason), "%s", err.message);
        if(!status)
          cl_fail(&err, CL_ERR_TRANSIENT, "%s", result.reason);
      }
      uint64_t retries = (result.attempts > 1 ? result.attempts - 1 : 0) +
                         (after.retries - before.retries);
      log_upload(handler, &result, item->key, invocation->request_id, retries);
      switch(result.outcome) {
      case COLLATE_UPDATED: outcome->processed++; return 0;
      case COLLATE_UNCHANGED: outcome->unchanged++; return 0;
      case COLLATE_REJECTED: outcome->rejected++; return 0;
      case COLLATE_FAILED: break;
      }
    }
  }
  /* Store and collate messages usually name the key already. */
  if(!strstr(err.message, item->key)) {
    if(handler->store_url)
      cl_error_prefix(&err, "%s (bucket %s)", item->key, item->bucket);
    else
      cl_error_prefix(&err, "s3://%s/%s", item->bucket, item->key);
  }
  log_message(LOG_ERROR, "request %s: %s", invocation->request_id ? invocation->request_id : "-",
              err.message);
  if(!first_error->status)
    *first_error = err;
  outcome->failed++;
  return 1;
}

static cl_status build_batch_response(const lambda_event *event, const unsigned char *failed,
                                      buf *response)
{
  buf_append_str(response, "{\"batchItemFailures\": [");
  size_t written = 0;
  for(size_t i = 0; i < event->count; i++) {
    if(!failed[i])
      continue;
    const char *id = event->items[i].message_id ? event->items[i].message_id : "";
    /* A message with several uploads is named once. */
    int seen = 0;
    for(size_t j = 0; j < i && !seen; j++)
      seen = failed[j] && event->items[j].message_id && !strcmp(event->items[j].message_id, id);
    if(seen)
      continue;
    buf_append_str(response, written++ ? ", {\"itemIdentifier\": " : "{\"itemIdentifier\": ");
    json_write_string(response, id, strlen(id), 1);
    buf_putc(response, '}');
  }
  buf_append_str(response, "]}");
  return buf_status(response);
}

cl_status lambda_handle_event(lambda_handler *handler, const char *event_text, size_t len,
                              const lambda_invocation *invocation, buf *response,
                              lambda_outcome *outcome, cl_error *err)
{
  memset(outcome, 0, sizeof(*outcome));
  lambda_event event;
  cl_status status = lambda_event_decode(event_text, len, &event, err);
  if(status)
    return status;
  outcome->skipped = event.skipped;
  unsigned char *failed = calloc(event.count ? event.count : 1, 1);
  if(!failed) {
    lambda_event_free(&event);
    return cl_fail(err, CL_ERR_NOMEM, "event: out of memory");
  }
  cl_error first_error;
  cl_error_clear(&first_error);
  for(size_t i = 0; i < event.count; i++)
    failed[i] = (unsigned char)run_item(handler, &event.items[i], invocation, outcome,
                                        &first_error);
  if(event.is_sqs) {
    status = build_batch_response(&event, failed, response);
    if(status)
      cl_fail(err, status, "response: out of memory");
  } else if(outcome->failed) {
    /* The invocation fails so that it is retried: permanent input errors
     * never reach here (they are recorded). A configuration the store
     * refused (no libcurl, say) says so in its error type. */
    status = cl_fail(err, first_error.status == CL_ERR_USAGE ? CL_ERR_USAGE : CL_ERR_TRANSIENT,
                     "%zu of %zu uploads failed; first: %s", outcome->failed, event.count,
                     first_error.message);
  } else {
    buf_printf(response,
               "{\"processed\": %zu, \"rejected\": %zu, \"unchanged\": %zu, \"skipped\": %zu}",
               outcome->processed, outcome->rejected, outcome->unchanged, outcome->skipped);
    status = buf_status(response);
    if(status)
      cl_fail(err, status, "response: out of memory");
  }
  free(failed);
  lambda_event_free(&event);
  return status;
}
