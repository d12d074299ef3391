#include "collate/rowid.h"

#include "core/digest.h"

_Static_assert(ROWID_LEN == DIGEST_MD5_LEN, "a row id is an md5");

void rowid_from_cell(const collate_cell *cell, uint8_t out[ROWID_LEN])
{
  const char *s = cell->type == COLLATE_CELL_BYTES ? cell->s : "";
  size_t len = cell->type == COLLATE_CELL_BYTES ? cell->len : 0;
  if(digest_md5_from_hex(s, len, out))
    return;
  digest_md5_raw(s, len, out);
  out[0] ^= 0x80;
}
