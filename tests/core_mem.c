/* mem: tables come zeroed and go back through their own free, whatever
 * their size; neither the huge-page hint nor keeping freed blocks changes
 * what memory holds. */
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
    mem_free_table(table, sizes[k], sizeof(*table));
  }
  mem_free_table(NULL, (size_t)9 << 20, sizeof(uint64_t));
  mem_free_table(NULL, 1, 1);
}

#if defined(__SANITIZE_ADDRESS__)
#define MEM_TEST_GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_TEST_GLIBC_MALLOC 0
#endif
#endif
#if !defined(MEM_TEST_GLIBC_MALLOC) && defined(__GLIBC__)
#define MEM_TEST_GLIBC_MALLOC 1
#include <malloc.h>
#endif

/* A 4 MiB block, over glibc's first mmap threshold, comes from the heap
 * once freed blocks are kept: no mapping of its own to fault in afresh. */
TEST(core_mem_kept_blocks_come_from_the_heap)
{
  mem_keep_freed_blocks();
#if MEM_TEST_GLIBC_MALLOC
  size_t mapped_before = mallinfo2().hblkhd;
  unsigned char *block = malloc((size_t)4 << 20);
  CHECK(block != NULL);
  CHECK_INT(mallinfo2().hblkhd, mapped_before);
  free(block);
#endif
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
