/* libFuzzer target: collate_key_parse (src/collate/key.c) on arbitrary bytes,
 * and the output keys derived from whatever it accepts. An accepted key must
 * name one of the four log types and yield output keys with no path tricks
 * (no "..", no empty segment), since those keys are written to the store; the
 * rejected-record key must be safe for every input, accepted or not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collate/key.h"
#include "collate/logtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_safe_key(const buf *key)
{
  const char *s = (const char *)key->data;
  if(key->len == 0 || s[0] == '/' || memchr(s, '\0', key->len))
    abort();
  size_t start = 0;
  for(size_t i = 0; i <= key->len; i++) {
    if(i == key->len || s[i] == '/') {
      size_t n = i - start;
      if(n == 0 || (n == 1 && s[start] == '.') || (n == 2 && !memcmp(s + start, "..", 2)))
        abort();
      start = i + 1;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  collate_key key;
  cl_error err;
  cl_error_clear(&err);
  buf out = BUF_INIT;
  if(collate_key_parse((const char *)data, size, &key, &err) == CL_OK) {
    if(!collate_type_find(key.log_type) || !key.device_id[0] || !key.user_text[0])
      abort();
    if(collate_key_current(&key, &out))
      abort();
    check_safe_key(&out);
    buf_clear(&out);
    if(collate_key_diff(&key, "2026-11-24", &out))
      abort();
    check_safe_key(&out);
    buf_clear(&out);
    if(collate_key_txt(&key, &out))
      abort();
    check_safe_key(&out);
    buf_clear(&out);
  } else if(!err.message[0]) {
    abort();
  }
  if(collate_key_rejected((const char *)data, size, INT64_C(1763942400000000), &out))
    abort();
  check_safe_key(&out);
  buf_free(&out);
  return 0;
}
