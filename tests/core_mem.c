/* mem: the huge-page hint never changes what memory holds. */
#include <stdint.h>
#include <stdlib.h>

#include "core/mem.h"
#include "unit.h"

TEST(core_mem_tables_are_zeroed_whatever_their_size)
{
  static const size_t sizes[] = {1, 4096, (size_t)3 << 20, (size_t)9 << 20};
  for(size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    uint64_t *table = mem_calloc_table(sizes[k], sizeof(*table));
    CHECK(table != NULL);
    if(!table)
      continue;
    uint64_t sum = 0;
    for(size_t i = 0; i < sizes[k]; i += 509)
      sum |= table[i];
    CHECK_INT(sum, 0);
    table[sizes[k] - 1] = 7; /* the last slot is ours */
    free(table);
  }
}

TEST(core_mem_hint_accepts_small_unaligned_and_null_blocks)
{
  char small[100];
  mem_prefer_huge_pages(NULL, 0);
  mem_prefer_huge_pages(NULL, (size_t)4 << 20);
  mem_prefer_huge_pages(small + 1, sizeof(small) - 1);
  small[0] = 1;
  CHECK_INT(small[0], 1);
}
