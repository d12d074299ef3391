/* libFuzzer target: Lambda event decoding (src/lambda/event.c) on arbitrary
 * documents, including the JSON nested inside SNS messages and SQS bodies.
 * Every input must decode or fail with a message; items that decode must be
 * well-formed (a bucket and key without NUL bytes, or a failed SQS message). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lambda/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  lambda_event event;
  cl_error err;
  cl_error_clear(&err);
  cl_status status = lambda_event_decode((const char *)data, size, &event, &err);
  if(status) {
    if(!err.message[0] || event.count)
      abort();
  } else {
    for(size_t i = 0; i < event.count; i++) {
      const lambda_item *item = &event.items[i];
      if(item->decode_status) {
        if(!event.is_sqs || !item->message_id || !item->decode_error || item->key)
          abort();
      } else if(!item->bucket || !item->key || !*item->bucket || !*item->key) {
        abort();
      }
      if(event.is_sqs != (item->message_id != NULL))
        abort();
    }
  }
  lambda_event_free(&event);
  return 0;
}
