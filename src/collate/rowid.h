/*
 * rowid: ids and row hashes as 16 raw bytes.
 *
 * Every id and row_hash we write is an md5 in 32 lower-case hex characters.
 * Sets of them (the history's unique set, the rows of one upload, the txt's
 * latest version of each id) hold millions, so they keep the raw bytes: half
 * the memory of the hex, and a fixed-size key that compares in two loads.
 */
#ifndef COLLATOR_COLLATE_ROWID_H
#define COLLATOR_COLLATE_ROWID_H

#include <stdint.h>
#include <string.h>

#include "collate/logtype.h"

#define ROWID_LEN 16

/* The 16 bytes of a hex md5 cell. Anything else (a hand-edited or damaged
 * history, a null) is hashed, with its top bit flipped, so it still has a
 * stable key that no well-formed hex value shares by accident. */
void rowid_from_cell(const collate_cell *cell, uint8_t out[ROWID_LEN]);

/* md5 output is uniform: its first 8 bytes are a good hash as they are. */
static inline uint64_t rowid_hash(const uint8_t id[ROWID_LEN])
{
  uint64_t h;
  memcpy(&h, id, sizeof(h));
  return h;
}

#endif
