#include "collate/rowid.h"

#include "core/digest.h"

/* A hex digit's value plus one, 0 for anything else: one load a character. */
static const uint8_t hex_plus_one[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
  ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int hex_to_bytes(const char *hex, uint8_t out[ROWID_LEN])
{
  unsigned bad = 0;
  for(size_t i = 0; i < ROWID_LEN; i++) {
    unsigned hi = hex_plus_one[(unsigned char)hex[2 * i]] - 1u;
    unsigned lo = hex_plus_one[(unsigned char)hex[2 * i + 1]] - 1u;
    bad |= hi | lo; /* a non-digit wrapped to UINT_MAX */
    out[i] = (uint8_t)(hi << 4 | (lo & 15));
  }
  return bad < 16;
}

void rowid_from_cell(const collate_cell *cell, uint8_t out[ROWID_LEN])
{
  const char *s = cell->type == COLLATE_CELL_BYTES ? cell->s : "";
  size_t len = cell->type == COLLATE_CELL_BYTES ? cell->len : 0;
  if(len == DIGEST_MD5_HEX_LEN && hex_to_bytes(s, out))
    return;
  char hex[DIGEST_MD5_HEX_LEN + 1];
  digest_md5_hex(s, len, hex);
  hex_to_bytes(hex, out);
  out[0] ^= 0x80;
}
