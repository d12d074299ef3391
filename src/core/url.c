#include "url.h"

int url_hex_digit(int c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

cl_status url_decode_form(const char *text, size_t len, buf *out, cl_error *err)
{
  for(size_t i = 0; i < len; i++) {
    char c = text[i];
    if(c == '+')
      c = ' ';
    else if(c == '%') {
      int hi = i + 2 < len ? url_hex_digit((unsigned char)text[i + 1]) : -1;
      int lo = i + 2 < len ? url_hex_digit((unsigned char)text[i + 2]) : -1;
      if(hi < 0 || lo < 0)
        return cl_fail(err, CL_ERR_FORMAT, "bad percent-encoding at byte %zu of '%.*s'",
                       i, (int)len, text);
      c = (char)(hi << 4 | lo);
      i += 2;
    }
    buf_putc(out, c);
  }
  cl_status status = buf_status(out);
  if(status)
    return cl_fail(err, status, "decoding a key: %s",
                   status == CL_ERR_NOMEM ? "out of memory" : "longer than the limit");
  return CL_OK;
}

cl_status url_encode(const char *text, size_t len, int keep_slash, buf *out)
{
  static const char hex[] = "0123456789ABCDEF";
  for(size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
       c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      buf_putc(out, (char)c);
    } else {
      char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
      buf_append(out, enc, 3);
    }
  }
  return buf_status(out);
}
