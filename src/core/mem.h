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
 */
#ifndef COLLATOR_CORE_MEM_H
#define COLLATOR_CORE_MEM_H

#include <stddef.h>

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

#endif
