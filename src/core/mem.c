#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE_BYTES ((size_t)2 << 20)

void mem_prefer_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
  uintptr_t start = ((uintptr_t)p + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1);
  uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1);
  if(p && end > start)
    (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void *mem_calloc_table(size_t count, size_t size)
{
  void *p = calloc(count, size);
  /* calloc of a block this large maps fresh zero pages without touching
   * them, so the hint still comes before the first touch. */
  if(p)
    mem_prefer_huge_pages(p, count * size);
  return p;
}
