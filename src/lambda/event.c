#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/url.h"
#include "json/json.h"
#include "lambda/lambda.h"

/* An SQS body can hold an on-failure record whose payload is an SNS-wrapped
 * S3 event: four levels is every real shape, and the bound stops a
 * self-nesting document from recursing without end. */
#define EVENT_MAX_NESTING 6
/* Events are at most 6 MB (the synchronous payload limit); the arena bound
 * leaves room for nested documents parsed from strings. */
#define EVENT_ARENA_LIMIT ((size_t)128 << 20)

typedef struct decoder {
  json_arena *arena;
  json_limits limits;
  lambda_event *event;
  size_t capacity;
  /* Set while decoding the body of one SQS message. */
  const char *message_id;
} decoder;

const char *lambda_source_name(lambda_source source)
{
  switch(source) {
  case LAMBDA_SOURCE_S3: return "s3";
  case LAMBDA_SOURCE_SNS: return "sns";
  case LAMBDA_SOURCE_SQS: return "sqs";
  case LAMBDA_SOURCE_EVENTBRIDGE: return "eventbridge";
  case LAMBDA_SOURCE_DIRECT: return "direct";
  }
  return "unknown";
}

void lambda_event_free(lambda_event *event)
{
  if(!event)
    return;
  for(size_t i = 0; i < event->count; i++) {
    free(event->items[i].bucket);
    free(event->items[i].key);
    free(event->items[i].message_id);
    free(event->items[i].decode_error);
  }
  free(event->items);
  memset(event, 0, sizeof(*event));
}

static const json_value *member_of_type(const json_value *object, const char *name,
                                        json_type type)
{
  const json_value *value = json_object_get(object, name);
  return value && value->type == type ? value : NULL;
}

static int string_equals(const json_value *value, const char *text)
{
  return value && value->type == JSON_STRING && value->u.string.len == strlen(text) &&
         !memcmp(value->u.string.data, text, value->u.string.len);
}

static int string_starts_with(const json_value *value, const char *prefix)
{
  size_t n = strlen(prefix);
  return value && value->type == JSON_STRING && value->u.string.len >= n &&
         !memcmp(value->u.string.data, prefix, n);
}

static char *copy_text(const char *data, size_t len)
{
  char *copy = malloc(len + 1);
  if(copy) {
    memcpy(copy, data, len);
    copy[len] = '\0';
  }
  return copy;
}

static cl_status new_item(decoder *d, lambda_item **out, cl_error *err)
{
  lambda_event *event = d->event;
  cl_status status = MEM_GROW_ARRAY(event->items, &d->capacity, event->count + 1, 4);
  if(status)
    return cl_fail(err, status, "event: out of memory for %zu items", event->count + 1);
  lambda_item *item = &event->items[event->count++];
  memset(item, 0, sizeof(*item));
  if(d->message_id) {
    item->message_id = strdup(d->message_id);
    if(!item->message_id)
      return cl_fail(err, CL_ERR_NOMEM, "event: out of memory");
  }
  *out = item;
  return CL_OK;
}

/* A bucket name or key must be non-empty text without NUL bytes: both go
 * into store paths and log lines as C strings. */
static cl_status check_text(const char *what, const char *data, size_t len, cl_error *err)
{
  if(len == 0)
    return cl_fail(err, CL_ERR_FORMAT, "%s is empty", what);
  if(memchr(data, '\0', len))
    return cl_fail(err, CL_ERR_FORMAT, "%s contains a NUL byte", what);
  return CL_OK;
}

static cl_status add_work(decoder *d, lambda_source source, const json_value *bucket,
                          const json_value *key, int key_form_encoded, cl_error *err)
{
  cl_status status = check_text("bucket name", bucket->u.string.data, bucket->u.string.len,
                                err);
  if(status)
    return status;
  buf decoded = BUF_INIT;
  const char *key_data = key->u.string.data;
  size_t key_len = key->u.string.len;
  if(key_form_encoded) {
    status = url_decode_form(key_data, key_len, &decoded, err);
    if(status) {
      buf_free(&decoded);
      cl_error_prefix(err, "object key");
      return status;
    }
    key_data = decoded.data ? decoded.data : "";
    key_len = decoded.len;
  }
  status = check_text("object key", key_data, key_len, err);
  lambda_item *item = NULL;
  if(!status)
    status = new_item(d, &item, err);
  if(!status) {
    item->source = d->message_id ? LAMBDA_SOURCE_SQS : source;
    item->bucket = copy_text(bucket->u.string.data, bucket->u.string.len);
    item->key = copy_text(key_data, key_len);
    if(!item->bucket || !item->key)
      status = cl_fail(err, CL_ERR_NOMEM, "event: out of memory");
  }
  buf_free(&decoded);
  return status;
}

/* S3 records and EventBridge details both name the object as bucket.name and
 * object.key under one parent; `what` and `parent_name` say where in
 * messages. */
static cl_status add_bucket_and_key(decoder *d, lambda_source source, const json_value *parent,
                                    const char *what, const char *parent_name,
                                    int key_form_encoded, cl_error *err)
{
  const json_value *bucket = member_of_type(member_of_type(parent, "bucket", JSON_OBJECT),
                                            "name", JSON_STRING);
  if(!bucket)
    return cl_fail(err, CL_ERR_FORMAT, "%s has no %s.bucket.name string", what, parent_name);
  const json_value *key = member_of_type(member_of_type(parent, "object", JSON_OBJECT), "key",
                                         JSON_STRING);
  if(!key)
    return cl_fail(err, CL_ERR_FORMAT, "%s has no %s.object.key string", what, parent_name);
  return add_work(d, source, bucket, key, key_form_encoded, err);
}

static cl_status decode_document(decoder *d, const json_value *doc, lambda_source source,
                                 int depth, cl_error *err);

static cl_status decode_s3_record(decoder *d, const json_value *record, lambda_source source,
                                  cl_error *err)
{
  const json_value *version = json_object_get(record, "eventVersion");
  if(version && !string_starts_with(version, "2."))
    return cl_fail(err, CL_ERR_UNSUPPORTED, "S3 record has eventVersion %.*s, expected 2.x",
                   version->type == JSON_STRING ? (int)version->u.string.len : 7,
                   version->type == JSON_STRING ? version->u.string.data : "(not a string)");
  const json_value *name = member_of_type(record, "eventName", JSON_STRING);
  if(!name)
    return cl_fail(err, CL_ERR_FORMAT, "S3 record has no eventName string");
  /* Only creations change a history; a deletion of an upload does not. */
  if(!string_starts_with(name, "ObjectCreated:")) {
    d->event->skipped++;
    return CL_OK;
  }
  const json_value *s3 = member_of_type(record, "s3", JSON_OBJECT);
  if(!s3)
    return cl_fail(err, CL_ERR_FORMAT, "S3 record has no \"s3\" object");
  return add_bucket_and_key(d, source, s3, "S3 record", "s3", 1, err);
}

/* A JSON document inside a string: an SNS Message or an SQS body. */
static cl_status decode_embedded(decoder *d, const json_value *text, lambda_source source,
                                 int depth, const char *what, cl_error *err)
{
  json_value *inner = NULL;
  cl_status status = json_parse(text->u.string.data, text->u.string.len, &d->limits,
                                d->arena, &inner, err);
  if(!status)
    status = decode_document(d, inner, source, depth + 1, err);
  if(status)
    cl_error_prefix(err, "%s", what);
  return status;
}

static cl_status decode_sqs_record(decoder *d, const json_value *record, int depth,
                                   cl_error *err)
{
  const json_value *id = member_of_type(record, "messageId", JSON_STRING);
  if(!id || check_text("messageId", id->u.string.data, id->u.string.len, NULL))
    return cl_fail(err, CL_ERR_FORMAT, "SQS record has no messageId string");
  const json_value *body = member_of_type(record, "body", JSON_STRING);
  d->message_id = id->u.string.data;
  size_t first = d->event->count, skipped = d->event->skipped;
  cl_error body_err;
  cl_error_clear(&body_err);
  cl_status status = body ? decode_embedded(d, body, LAMBDA_SOURCE_SQS, depth, "body",
                                            &body_err)
                          : cl_fail(&body_err, CL_ERR_FORMAT, "no body string");
  if(status && status != CL_ERR_NOMEM) {
    /* Only this message fails: drop what it produced before the error and
     * stand one failed item in for it. */
    for(size_t i = first; i < d->event->count; i++) {
      free(d->event->items[i].bucket);
      free(d->event->items[i].key);
      free(d->event->items[i].message_id);
      free(d->event->items[i].decode_error);
    }
    d->event->count = first;
    d->event->skipped = skipped;
    lambda_item *item = NULL;
    status = new_item(d, &item, err);
    if(!status) {
      item->source = LAMBDA_SOURCE_SQS;
      item->decode_status = body_err.status ? body_err.status : CL_ERR_FORMAT;
      item->decode_error = strdup(body_err.message);
      if(!item->decode_error)
        status = cl_fail(err, CL_ERR_NOMEM, "event: out of memory");
    }
  } else if(status) {
    *err = body_err;
  }
  d->message_id = NULL;
  return status;
}

static cl_status decode_records(decoder *d, const json_value *records, lambda_source source,
                                int depth, cl_error *err)
{
  for(size_t i = 0; i < records->u.array.count; i++) {
    const json_value *record = records->u.array.items[i];
    cl_status status;
    if(record->type != JSON_OBJECT) {
      status = cl_fail(err, CL_ERR_FORMAT, "not an object");
    } else if(json_object_get(record, "Sns")) {
      const json_value *message =
        member_of_type(member_of_type(record, "Sns", JSON_OBJECT), "Message", JSON_STRING);
      status = message ? decode_embedded(d, message, LAMBDA_SOURCE_SNS, depth, "Sns.Message",
                                         err)
                       : cl_fail(err, CL_ERR_FORMAT, "SNS record has no Sns.Message string");
    } else if(string_equals(json_object_get(record, "eventSource"), "aws:sqs") ||
              (json_object_get(record, "messageId") && json_object_get(record, "body"))) {
      if(depth > 0 || d->message_id)
        status = cl_fail(err, CL_ERR_FORMAT, "SQS record nested inside another event");
      else if(i > 0 && !d->event->is_sqs)
        status = cl_fail(err, CL_ERR_FORMAT, "SQS record mixed with other records");
      else {
        d->event->is_sqs = 1;
        status = decode_sqs_record(d, record, depth, err);
      }
    } else if(d->event->is_sqs && depth == 0) {
      status = cl_fail(err, CL_ERR_FORMAT, "record mixed with SQS records");
    } else if(json_object_get(record, "s3") ||
              string_equals(json_object_get(record, "eventSource"), "aws:s3")) {
      status = decode_s3_record(d, record, source, err);
    } else {
      status = cl_fail(err, CL_ERR_FORMAT, "neither an S3, SNS nor SQS record");
    }
    if(status) {
      cl_error_prefix(err, "Records[%zu]", i);
      return status;
    }
  }
  return CL_OK;
}

static cl_status decode_eventbridge(decoder *d, const json_value *doc, cl_error *err)
{
  const json_value *type = json_object_get(doc, "detail-type");
  if(!string_equals(type, "Object Created")) {
    d->event->skipped++;
    return CL_OK;
  }
  const json_value *detail = member_of_type(doc, "detail", JSON_OBJECT);
  /* EventBridge, unlike S3 notifications, sends keys as they are. */
  return add_bucket_and_key(d, LAMBDA_SOURCE_EVENTBRIDGE, detail, "EventBridge event", "detail", 0,
                            err);
}

static cl_status decode_document(decoder *d, const json_value *doc, lambda_source source,
                                 int depth, cl_error *err)
{
  if(depth > EVENT_MAX_NESTING)
    return cl_fail(err, CL_ERR_FORMAT, "events nested more than %d deep", EVENT_MAX_NESTING);
  if(doc->type != JSON_OBJECT)
    return cl_fail(err, CL_ERR_FORMAT, "event is not a JSON object");
  const json_value *records = json_object_get(doc, "Records");
  if(records) {
    if(records->type != JSON_ARRAY)
      return cl_fail(err, CL_ERR_FORMAT, "Records is not an array");
    return decode_records(d, records, source, depth, err);
  }
  if(string_equals(json_object_get(doc, "Event"), "s3:TestEvent")) {
    d->event->skipped++;
    return CL_OK;
  }
  if(string_equals(json_object_get(doc, "source"), "aws.s3") &&
     json_object_get(doc, "detail-type"))
    return decode_eventbridge(d, doc, err);
  /* An SNS envelope as SQS delivers it without raw message delivery. */
  const json_value *message = member_of_type(doc, "Message", JSON_STRING);
  if(message && string_equals(json_object_get(doc, "Type"), "Notification"))
    return decode_embedded(d, message, source == LAMBDA_SOURCE_SQS ? source : LAMBDA_SOURCE_SNS,
                           depth, "Message", err);
  /* A Lambda on-failure destination record: the original event is the payload. */
  const json_value *payload = json_object_get(doc, "requestPayload");
  if(payload) {
    cl_status status = decode_document(d, payload, source, depth + 1, err);
    if(status)
      cl_error_prefix(err, "requestPayload");
    return status;
  }
  const json_value *bucket = json_object_get(doc, "bucket");
  const json_value *key = json_object_get(doc, "key");
  if(bucket || key) {
    if(!bucket || bucket->type != JSON_STRING)
      return cl_fail(err, CL_ERR_FORMAT, "\"bucket\" is missing or not a string");
    if(!key || key->type != JSON_STRING)
      return cl_fail(err, CL_ERR_FORMAT, "\"key\" is missing or not a string");
    return add_work(d, source == LAMBDA_SOURCE_S3 ? LAMBDA_SOURCE_DIRECT : source, bucket, key,
                    0, err);
  }
  return cl_fail(err, CL_ERR_FORMAT,
                 "unrecognised event: no Records, S3 test event, EventBridge event, SNS "
                 "envelope, requestPayload or bucket/key");
}

cl_status lambda_event_decode(const char *text, size_t len, lambda_event *event,
                              cl_error *err)
{
  memset(event, 0, sizeof(*event));
  decoder d;
  memset(&d, 0, sizeof(d));
  d.event = event;
  json_limits_default(&d.limits);
  d.arena = json_arena_create(EVENT_ARENA_LIMIT);
  if(!d.arena)
    return cl_fail(err, CL_ERR_NOMEM, "event: out of memory");
  json_value *doc = NULL;
  cl_status status = json_parse(text, len, &d.limits, d.arena, &doc, err);
  if(!status)
    status = decode_document(&d, doc, LAMBDA_SOURCE_S3, 0, err);
  json_arena_free(d.arena);
  if(status) {
    lambda_event_free(event);
    cl_error_prefix(err, "event");
  }
  return status;
}
