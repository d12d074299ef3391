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

/* mem_grow_array on a block of `held` elements that claims `capacity`
 * (more than held only in the overflow cases, which fail before realloc is
 * asked and so never look past the block). */
typedef struct grow_case {
  const char *name;
  size_t held, capacity, need, size, first;
  cl_status status;
  size_t capacity_after;
} grow_case;

static const grow_case grow_cases[] = {
  {"first growth starts at first", 0, 0, 1, 8, 256, CL_OK, 256},
  {"first growth doubles first up to need", 0, 0, 1000, 4, 256, CL_OK, 1024},
  {"a first of 0 counts as 1", 0, 0, 3, 2, 0, CL_OK, 4},
  {"nothing to do when it holds need", 16, 16, 16, 8, 4, CL_OK, 16},
  {"nothing to do when need is 0", 0, 0, 0, 8, 4, CL_OK, 0},
  {"one more element doubles", 16, 16, 17, 8, 4, CL_OK, 32},
  {"need far beyond double doubles until it fits", 16, 16, 1000, 8, 4, CL_OK, 1024},
  {"first is ignored once there is a capacity", 3, 3, 4, 1, 1000, CL_OK, 6},
  {"need * size overflows", 4, 4, SIZE_MAX / 8 + 1, 8, 4, CL_ERR_NOMEM, 4},
  {"need * size overflows with an empty array", 0, 0, SIZE_MAX / 2 + 1, 2, 1, CL_ERR_NOMEM, 0},
  {"first * size overflows", 0, 0, 1, 16, SIZE_MAX / 8, CL_ERR_NOMEM, 0},
  {"doubling overflows though need fits", 4, SIZE_MAX / 16 + 1, SIZE_MAX / 16 + 2, 8, 4,
   CL_ERR_NOMEM, SIZE_MAX / 16 + 1},
  {"an element size of 0 is a bug", 4, 4, 5, 0, 4, CL_ERR_INTERNAL, 4},
};

static void check_grow_case(const grow_case *t)
{
  size_t held_bytes = t->held * (t->size ? t->size : 1);
  unsigned char *array = held_bytes ? malloc(held_bytes) : NULL;
  CHECK(!held_bytes || array);
  if(held_bytes && !array)
    return;
  for(size_t i = 0; i < held_bytes; i++)
    array[i] = (unsigned char)(i * 7 + 1);
  unsigned char *before = array;
  size_t capacity = t->capacity;

  cl_status status = mem_grow_array(&array, &capacity, t->need, t->size, t->first);
  if(status != t->status)
    unit_fail(__FILE__, __LINE__, "%s: returned %s, expected %s", t->name,
              cl_status_name(status), cl_status_name(t->status));
  if(capacity != t->capacity_after)
    unit_fail(__FILE__, __LINE__, "%s: capacity %zu, expected %zu", t->name, capacity,
              t->capacity_after);
  if(status || t->need <= t->capacity)
    CHECK(array == before);
  size_t intact = 0;
  while(intact < held_bytes && array[intact] == (unsigned char)(intact * 7 + 1))
    intact++;
  if(intact != held_bytes)
    unit_fail(__FILE__, __LINE__, "%s: byte %zu of %zu changed", t->name, intact, held_bytes);
  if(!status && capacity)
    array[capacity * t->size - 1] = 1; /* the whole new capacity is ours */
  free(array);
}

TEST(core_mem_grow_array_vectors)
{
  for(size_t k = 0; k < sizeof(grow_cases) / sizeof(grow_cases[0]); k++)
    check_grow_case(&grow_cases[k]);
}

/* A real realloc failure: glibc refuses blocks over PTRDIFF_MAX bytes
 * (AddressSanitizer would abort on them instead, so it is left out there). */
TEST(core_mem_grow_array_failed_realloc_keeps_the_array)
{
#if MEM_TEST_GLIBC_MALLOC
  static const grow_case refused = {"realloc refuses", 4, 4, SIZE_MAX / 2 + 1, 1, 4,
                                    CL_ERR_NOMEM, 4};
  check_grow_case(&refused);
#endif
}

typedef struct grow_pair {
  uint64_t key;
  uint32_t value;
} grow_pair;

/* The macro takes the element size from the array's type and evaluates
 * the array expression once. */
TEST(core_mem_grow_array_macro_appends_one_at_a_time)
{
  grow_pair *pairs[2] = {NULL, NULL};
  size_t capacity = 0, grows = 0, k = 0;
  for(size_t i = 0; i < 1000; i++) {
    size_t before = capacity;
    k = 1;
    CHECK_OK(MEM_GROW_ARRAY(pairs[k--], &capacity, i + 1, 16), NULL);
    CHECK_INT(k, 0);
    grows += capacity != before;
    pairs[1][i].key = i;
    pairs[1][i].value = (uint32_t)(i * 3);
  }
  CHECK_INT(capacity, 1024);
  CHECK_INT(grows, 7); /* 16, 32, ..., 1024 */
  CHECK(pairs[0] == NULL);
  size_t wrong = 0;
  for(size_t i = 0; i < 1000; i++)
    wrong += pairs[1][i].key != i || pairs[1][i].value != i * 3;
  CHECK_INT(wrong, 0);
  free(pairs[1]);
}
