/*
 * mem: how the collator's memory is handed out.
 *
 * On a virtual machine (Lambda's Firecracker included) a page fault costs
 * ~10-25 us, as much as hashing a few rows. Two patterns paid it again and
 * again. glibc returns every freed block above its mmap threshold (128 KiB
 * at first) to the kernel, so per-row-group buffers (decompressed pages,
 * txt runs, row buffers) came back as fresh pages each time; and hash
 * tables of millions of ids, touched at random, fault on every first touch
 * and miss the TLB. mem_keep_freed_blocks keeps blocks of up to 32 MiB for
 * reuse (measured: a 100-row update of a 1M-row history 18% less CPU);
 * tables of 2 MiB or more are mapped on their own and backed by
 * transparent huge pages, which cut both costs by 512x (measured 5x faster
 * inserts into a 16 MB table). Where huge pages are off, the hint does
 * nothing.
 *
 * It also holds the one way the code grows an array by doubling, so the
 * overflow checks and the keep-the-old-block-on-failure rule are written
 * once rather than at every growing array.
 */
#ifndef COLLATOR_CORE_MEM_H
#define COLLATOR_CORE_MEM_H

#include <stddef.h>

#include "error.h"

/* Set malloc to keep freed blocks below 32 MiB (and up to 64 MiB of free
 * heap) rather than unmapping them. Call once, before the first large
 * allocation; a no-op where malloc is not glibc's. */
void mem_keep_freed_blocks(void);

/* Ask for huge pages under [p, p + bytes) (its whole 2 MiB-aligned part);
 * call it before the memory is first touched. Smaller blocks are left. */
void mem_prefer_huge_pages(void *p, size_t bytes);

/* A zeroed table of count * size bytes that will be touched at random: from
 * calloc when small, else freshly mapped with the huge-page hint. Free it
 * with mem_free_table and the same count and size. */
void *mem_calloc_table(size_t count, size_t size);
void mem_free_table(void *table, size_t count, size_t size);

/* Make the array at array_address (a T ** passed as void *) of *capacity
 * elements of `size` bytes hold at least `need` elements. The capacity
 * starts at `first` (1 if 0) when it is 0 and doubles until it holds need,
 * so n one-at-a-time appends copy O(n) elements in all. Nothing is touched
 * when the array already holds need. CL_ERR_NOMEM when realloc fails or
 * when need or the doubled capacity would take more than SIZE_MAX bytes (no
 * such block could be allocated: it fails before realloc is asked);
 * CL_ERR_INTERNAL for size 0. On failure the array, its contents and
 * *capacity are unchanged, so the caller still owns and frees the old block;
 * the caller says what failed on which input (cl_fail with the status).
 *
 * Call it through MEM_GROW_ARRAY, which takes the element size from the
 * array's type. Why the address goes in as void * and not void **: a T *
 * object read or written through a void * lvalue breaks C's aliasing rule
 * (C11 6.5p7), which gcc and clang optimise on, so a (void **)&p cast could
 * lose the new pointer. The pointer is copied in and out with memcpy
 * instead, which may touch any object. That needs T * to have void *'s
 * representation: C promises it for character pointers, and the ABIs the
 * collator builds for (x86-64, AArch64) give it to every object pointer;
 * MEM_GROW_ARRAY checks the size at compile time. Returning the new pointer
 * instead would cost every call site a temporary and an assignment, the
 * lines this helper exists to remove.
 *
 * The test is inline and the growing out of line (mem_grow_array_realloc):
 * hot loops (JSON values and members) check once per appended element and
 * grow rarely. */
cl_status mem_grow_array_realloc(void *array_address, size_t *capacity, size_t need,
                                 size_t size, size_t first);
static inline cl_status mem_grow_array(void *array_address, size_t *capacity, size_t need,
                                       size_t size, size_t first)
{
  if(need <= *capacity && size)
    return CL_OK;
  return mem_grow_array_realloc(array_address, capacity, need, size, first);
}

/* array: a modifiable lvalue of type T *, evaluated once (the assignment
 * inside sizeof is never run: it makes an array or a const pointer fail to
 * compile); capacity: a size_t *. */
#define MEM_GROW_ARRAY(array, capacity, need, first)                        \
  ((void)sizeof(struct {                                                    \
     _Static_assert(sizeof((array) = (array)) == sizeof(void *),            \
                    "MEM_GROW_ARRAY needs a pointer variable");             \
     int unused;                                                            \
   }),                                                                      \
   mem_grow_array(&(array), (capacity), (need), sizeof(*(array)), (first)))

#endif
