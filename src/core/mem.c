#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define HUGE_PAGE_BYTES ((size_t)2 << 20)
#define KEEP_BLOCKS_BELOW ((size_t)32 << 20)
#define KEEP_FREE_HEAP ((size_t)64 << 20)

void mem_keep_freed_blocks(void)
{
#ifdef __GLIBC__
  /* Setting either also stops glibc from moving the threshold by itself. */
  mallopt(M_MMAP_THRESHOLD, (int)KEEP_BLOCKS_BELOW);
  mallopt(M_TRIM_THRESHOLD, (int)KEEP_FREE_HEAP);
#endif
}

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

/* Large tables are mapped by themselves: fresh zero pages that nothing has
 * touched yet, so the hint comes before the first fault, and calloc from a
 * heap that keeps freed blocks would have to clear reused memory instead. */
static int table_is_mapped(size_t count, size_t size)
{
  return count && size <= SIZE_MAX / count && count * size >= HUGE_PAGE_BYTES;
}

void *mem_calloc_table(size_t count, size_t size)
{
  if(!table_is_mapped(count, size))
    return calloc(count, size);
  void *p = mmap(NULL, count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if(p == MAP_FAILED)
    return NULL;
  mem_prefer_huge_pages(p, count * size);
  return p;
}

void mem_free_table(void *table, size_t count, size_t size)
{
  if(!table)
    return;
  if(table_is_mapped(count, size))
    munmap(table, count * size);
  else
    free(table);
}

cl_status mem_grow_array_realloc(void *array_address, size_t *capacity, size_t need,
                                 size_t size, size_t first)
{
  if(!size)
    return CL_ERR_INTERNAL;
  if(need <= *capacity)
    return CL_OK;
  size_t max_count = SIZE_MAX / size;
  size_t count = *capacity ? *capacity : first ? first : 1;
  if(need > max_count || count > max_count)
    return CL_ERR_NOMEM;
  while(count < need) {
    if(count > max_count / 2)
      return CL_ERR_NOMEM;
    count *= 2;
  }
  void *array;
  memcpy(&array, array_address, sizeof(array));
  void *grown = realloc(array, count * size);
  if(!grown)
    return CL_ERR_NOMEM;
  memcpy(array_address, &grown, sizeof(grown));
  *capacity = count;
  return CL_OK;
}
