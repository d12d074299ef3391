/*
 * normalize: Python's Unicode text rules that the legacy collator applied to
 * package names and phone addresses, over utf8proc: str.lower() (full
 * lowercase mapping, so U+0130 becomes "i" + U+0307, and the Greek final
 * sigma rule), str.isspace(), and the \w class of Python's re. Internal to
 * collate. Pure-ASCII input takes a table-free fast path; utf8proc is only
 * consulted for the rest.
 *
 * Input is UTF-8, or WTF-8 when the JSON held a lone surrogate escape; a
 * surrogate is passed through by lower() and is never a word character,
 * exactly as in Python.
 */
#ifndef COLLATOR_COLLATE_NORMALIZE_H
#define COLLATOR_COLLATE_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Package names: s.lower() with every isspace() character removed. */
cl_status normalize_lower_strip_space(buf *out, const char *s, size_t len);

/* The legacy address normaliser: lower(), remove whitespace, then remove
 * every character that is not \w, and "_" ("+075 40269 68" -> "0754026968"). */
cl_status normalize_address(buf *out, const char *s, size_t len);

/* Python str.isspace() of one code point. */
int normalize_is_space(int32_t cp);

/* Decode the code point at s[*pos] (UTF-8 or WTF-8) and advance *pos. Bytes
 * that are not well-formed decode one at a time as U+FFFD's stand-in -1. */
int32_t normalize_next(const char *s, size_t len, size_t *pos);

/* The decimal value of a Unicode Nd digit, -1 for any other code point. */
int normalize_decimal_value(int32_t cp);

/* Append the UTF-8 (WTF-8 for surrogates) bytes of one code point. */
cl_status normalize_put_cp(buf *out, int32_t cp);

#endif
