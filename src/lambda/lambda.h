/*
 * lambda: the collator as an AWS Lambda function.
 *
 * Three layers, usable one at a time. Event decoding turns any event
 * document the function can receive (S3 notification, SNS-wrapped S3 from
 * the legacy DLQ path, SQS batches carrying S3 events, SNS envelopes or
 * Lambda on-failure destination records, EventBridge "Object Created", the
 * S3 test event, or a plain {"bucket", "key"}) into work items. The handler
 * runs those items through collate_upload, logs one JSON line and one
 * CloudWatch EMF line per upload, and builds the invocation response (a
 * summary, or batchItemFailures for SQS). The runtime loop speaks the Lambda
 * Runtime API and feeds invocations to the handler; `collator event` uses
 * the same handler without the loop, so a local run behaves exactly like
 * the function.
 */
#ifndef COLLATOR_LAMBDA_LAMBDA_H
#define COLLATOR_LAMBDA_LAMBDA_H

#include <stddef.h>
#include <stdint.h>

#include "collate/collate.h"
#include "core/buf.h"
#include "core/error.h"

/* ---- event decoding ---- */

typedef enum lambda_source {
  LAMBDA_SOURCE_S3,          /* an S3 notification record */
  LAMBDA_SOURCE_SNS,         /* an S3 event re-published through SNS */
  LAMBDA_SOURCE_SQS,         /* an S3 event (possibly wrapped) in an SQS message */
  LAMBDA_SOURCE_EVENTBRIDGE, /* an EventBridge "Object Created" event */
  LAMBDA_SOURCE_DIRECT       /* {"bucket": ..., "key": ...} */
} lambda_source;

typedef struct lambda_item {
  char *bucket;           /* NULL when decode_status is set */
  char *key;              /* URL-decoded where the source encodes keys */
  char *message_id;       /* the SQS messageId, NULL outside SQS */
  lambda_source source;
  /* For SQS only: a message whose body cannot be decoded becomes one item
   * with this set (and decode_error saying why), so that exactly that
   * message is reported as failed while the rest of the batch proceeds. */
  cl_status decode_status;
  char *decode_error;
} lambda_item;

typedef struct lambda_event {
  int is_sqs;             /* the response is {"batchItemFailures": [...]} */
  lambda_item *items;
  size_t count;
  size_t skipped;         /* test events and records that are not ObjectCreated */
} lambda_event;

/* Decode an event document. A document (or, outside SQS, any record) that
 * is not a recognised shape fails with CL_ERR_FORMAT naming where and what
 * is wrong; an event version we do not know is CL_ERR_UNSUPPORTED. On
 * success the caller frees *event with lambda_event_free (also after a
 * failure, which leaves it empty). */
cl_status lambda_event_decode(const char *text, size_t len, lambda_event *event,
                              cl_error *err);
void lambda_event_free(lambda_event *event);
const char *lambda_source_name(lambda_source source);

/* ---- metrics ---- */

/* One CloudWatch Embedded Metric Format line (namespace "Collator",
 * dimensions LogType x FunctionRole) for an upload's result. retries counts
 * read-modify-write re-applications and store-level retries. */
cl_status lambda_metrics_emf(const collate_result *result, const char *function_role,
                             uint64_t retries, int64_t timestamp_ms, buf *out);

/* ---- handler ---- */

typedef struct lambda_config {
  /* A store URL used for every bucket instead of s3://BUCKET (local runs);
   * NULL for the real thing. Borrowed until lambda_handler_create returns. */
  const char *store_url;
  collate_options options;
  int pinned_now;         /* options.now_micros is fixed (--now); else the clock per upload */
  const char *function_role; /* "primary" or "dlq" */
  int64_t deadline_margin_ms; /* stop starting uploads when less than this remains */
} lambda_config;

/* Defaults and the environment: collate_options_from_env,
 * COLLATOR_FUNCTION_ROLE (primary|dlq), COLLATOR_DEADLINE_MARGIN_MS
 * (default 10000) and COLLATOR_STORE (the store override). A value that
 * does not parse is CL_ERR_USAGE: the Lambda reports it as an init error. */
cl_status lambda_config_from_env(lambda_config *config, cl_error *err);

typedef struct lambda_handler lambda_handler;

cl_status lambda_handler_create(const lambda_config *config, lambda_handler **out,
                                cl_error *err);
void lambda_handler_free(lambda_handler *handler);

typedef struct lambda_invocation {
  const char *request_id;  /* for the log lines; may be NULL */
  int64_t deadline_ms;     /* epoch milliseconds; 0 = no deadline */
} lambda_invocation;

typedef struct lambda_outcome {
  size_t processed, unchanged, rejected, failed, skipped;
} lambda_outcome;

/* Handle one event document. On CL_OK the invocation succeeds and
 * response holds its JSON body (for SQS it may still name failed
 * messages). A failure status means the invocation must fail: err says why
 * (an event that does not decode, or an upload that failed transiently
 * outside SQS, so that Lambda retries and finally re-drives it). */
cl_status lambda_handle_event(lambda_handler *handler, const char *event, size_t len,
                              const lambda_invocation *invocation, buf *response,
                              lambda_outcome *outcome, cl_error *err);

/* The errorType reported for a failed invocation with this status. */
const char *lambda_error_type(cl_status status);

/* Appends the error document a failed invocation reports,
 * {"errorMessage": message, "errorType": lambda_error_type(status)}, so
 * `collator event` prints exactly what the runtime posts. Failures are
 * sticky in out (core/buf.h). */
void lambda_error_document(cl_status status, const char *message, buf *out);

/* ---- runtime ---- */

/* The custom runtime loop: configuration from the environment
 * (AWS_LAMBDA_RUNTIME_API and the variables above), then invocations until
 * the Runtime API goes away. Returns only on a fatal error: a bad
 * configuration (after reporting it to /init/error) or an unreachable
 * Runtime API. */
cl_status lambda_runtime_run(cl_error *err);

/* Lambda-Runtime-Deadline-Ms as epoch milliseconds, or 0 when the value is
 * absent or not plausibly an epoch time (@vercel/fun sends 5000). */
int64_t lambda_parse_deadline(const char *text);

#endif
