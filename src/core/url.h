/*
 * url: the two URL encodings the collator meets.
 *
 * S3 event notifications carry object keys form-encoded ("+" for a space,
 * "%XX" for other bytes; design.md item 7), and SigV4 signs query strings
 * that must be RFC 3986-encoded by us because libcurl signs them verbatim.
 */
#ifndef COLLATOR_CORE_URL_H
#define COLLATOR_CORE_URL_H

#include <stddef.h>

#include "buf.h"

/* Decode an S3 event key: "+" becomes a space, then "%XX" a byte. A "%" not
 * followed by two hex digits fails with CL_ERR_FORMAT. Appends to out. */
cl_status url_decode_form(const char *text, size_t len, buf *out, cl_error *err);

/* The value of one hex digit of either case, or -1 when c is not one: the
 * digits of "%XX" here, of JSON's "\uXXXX" and of XML's "&#xHH;". */
int url_hex_digit(int c);

/* RFC 3986 percent-encoding: unreserved characters stay, everything else is
 * "%XX" (upper-case hex). With keep_slash, "/" stays too (object key paths). */
cl_status url_encode(const char *text, size_t len, int keep_slash, buf *out);

#endif
