#include "core/retry.h"

uint64_t retry_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t *rng)
{
  uint64_t ceiling = base_ms;
  for(unsigned i = 1; i < attempt && ceiling < cap_ms; i++)
    ceiling *= 2;
  if(ceiling > cap_ms)
    ceiling = cap_ms;
  uint64_t x = *rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *rng = x;
  return x % (ceiling + 1);
}
