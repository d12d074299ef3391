/*
 * retry: how long to wait before trying again.
 *
 * Both kinds of retry in the collator, a storage request that failed
 * transiently and a conditional write that lost a race, wait a full-jitter
 * delay: uniform over [0, ceiling], the ceiling doubling per attempt up to a
 * cap, so that rivals which failed together do not come back together. The
 * random state is the caller's, so threads never share one.
 */
#ifndef COLLATOR_CORE_RETRY_H
#define COLLATOR_CORE_RETRY_H

#include <stdint.h>

/* A uniform delay in [0, min(cap, base * 2^(attempt-1))] ms, drawn from
 * *rng (a xorshift64 state, never 0). attempt counts from 1. */
uint64_t retry_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t *rng);

#endif
