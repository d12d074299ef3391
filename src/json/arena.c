#include "json/arena.h"

#include <stdlib.h>
#include <string.h>

/* Blocks start at 4 KiB (a typical element) and double, so a large element
 * costs few mallocs and a reset arena reuses its biggest block. */
#define ARENA_FIRST_BLOCK ((size_t)4 * 1024)

struct json_arena_block {
  json_arena_block *next;
  size_t size;
  /* followed by size bytes of storage */
};

/* Storage starts 16-byte aligned (max_align_t on x86-64 and arm64), so any
 * node type can be carved from the front of a block. */
#define BLOCK_ALIGN ((size_t)16)
#define BLOCK_HEADER ((sizeof(json_arena_block) + BLOCK_ALIGN - 1) & ~(BLOCK_ALIGN - 1))

static char *block_storage(json_arena_block *block)
{
  return (char *)block + BLOCK_HEADER;
}

/* Real elements are flat objects of a few KiB; these bound what one hostile
 * element can cost while staying far above anything a phone uploads. */
void json_limits_default(json_limits *limits)
{
  limits->max_depth = 64;
  limits->max_string = (size_t)16 << 20;
  limits->max_value_bytes = (size_t)64 << 20;
}

json_arena *json_arena_create(size_t limit)
{
  json_arena *arena = calloc(1, sizeof(*arena));
  if(!arena)
    return NULL;
  arena->limit = limit ? limit : SIZE_MAX;
  arena->budget_end = arena->limit;
  return arena;
}

void json_arena_reset(json_arena *arena)
{
  json_arena_block *keep, *block, *next;

  if(!arena)
    return;
  /* Keep the largest block (the head: sizes only grow) for reuse. */
  keep = arena->blocks;
  if(keep) {
    for(block = keep->next; block; block = next) {
      next = block->next;
      free(block);
    }
    keep->next = NULL;
    arena->next = block_storage(keep);
    arena->end = arena->next + keep->size;
  }
  arena->used = 0;
  arena->budget_end = arena->limit;
}

void json_arena_free(json_arena *arena)
{
  json_arena_block *block, *next;

  if(!arena)
    return;
  for(block = arena->blocks; block; block = next) {
    next = block->next;
    free(block);
  }
  free(arena);
}

cl_status json_arena_grow(json_arena *arena, size_t size, void **out)
{
  size_t block_size = arena->blocks ? arena->blocks->size * 2 : ARENA_FIRST_BLOCK;
  size_t room = arena->limit - arena->used;
  json_arena_block *block;

  if(size > room)
    return CL_ERR_LIMIT;
  while(block_size < size)
    block_size = block_size > SIZE_MAX / 4 ? size : block_size * 2;
  /* Never reserve much more than the cap still allows. */
  if(block_size > room)
    block_size = room < size ? size : room;
  block = malloc(BLOCK_HEADER + block_size);
  if(!block)
    return CL_ERR_NOMEM;
  block->size = block_size;
  block->next = arena->blocks;
  arena->blocks = block;
  arena->next = block_storage(block) + size;
  arena->end = block_storage(block) + block_size;
  arena->used += size;
  *out = block_storage(block);
  return CL_OK;
}

void json_arena_begin_budget(json_arena *arena, size_t max_bytes)
{
  size_t room = arena->limit - arena->used;
  arena->budget_end = arena->used + (max_bytes < room ? max_bytes : room);
}

const json_value *json_object_get(const json_value *object, const char *key)
{
  size_t i, key_len;

  if(!object || object->type != JSON_OBJECT || !key)
    return NULL;
  key_len = strlen(key);
  for(i = 0; i < object->u.object.count; i++) {
    const json_member *member = &object->u.object.members[i];
    if(member->key_len == key_len && !memcmp(member->key, key, key_len))
      return member->value;
  }
  return NULL;
}
