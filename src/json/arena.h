/*
 * arena (internal to src/json): the bump allocator behind json_arena.
 *
 * A parsed element is many small nodes that die together, so they are carved
 * from large blocks and released by one reset. The parser charges every node
 * to a per-element budget (json_limits.max_value_bytes) on top of the arena's
 * own cap, which is what bounds memory on hostile input. The allocation fast
 * path is inline because the parser calls it for every value.
 */
#ifndef COLLATOR_JSON_ARENA_H
#define COLLATOR_JSON_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "json/json.h"

typedef struct json_arena_block json_arena_block;

struct json_arena {
  char *next;               /* free space of the current block */
  char *end;
  size_t used;              /* bytes handed out since the last reset */
  size_t limit;             /* cap on used; 0 means none */
  size_t budget_end;        /* cap on used for the element being parsed */
  json_arena_block *blocks; /* current block first */
};

/* Slow path: a new block, or CL_ERR_LIMIT / CL_ERR_NOMEM. */
cl_status json_arena_grow(json_arena *arena, size_t size, void **out);

/* size bytes aligned to 8, or CL_ERR_LIMIT when over the cap or the budget. */
static inline cl_status json_arena_alloc(json_arena *arena, size_t size, void **out)
{
  size = (size + 7) & ~(size_t)7;
  if(arena->used + size > arena->budget_end)
    return CL_ERR_LIMIT;
  if((size_t)(arena->end - arena->next) >= size) {
    *out = arena->next;
    arena->next += size;
    arena->used += size;
    return CL_OK;
  }
  return json_arena_grow(arena, size, out);
}

/* Open a budget of max_bytes for the next element (never beyond the cap). */
void json_arena_begin_budget(json_arena *arena, size_t max_bytes);

#endif
