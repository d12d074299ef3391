/* retry: full-jitter delays stay under their ceiling and spread across it. */
#include <stdint.h>

#include "core/retry.h"
#include "unit.h"

TEST(core_retry_backoff_is_full_jitter_within_the_cap)
{
  uint64_t rng = 12345;
  static const struct {
    unsigned attempt;
    uint64_t ceiling;
  } cases[] = {{1, 100}, {2, 200}, {3, 400}, {8, 12800}, {9, 20000}, {40, 20000}};
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t max = 0, min = UINT64_MAX;
    for(int draw = 0; draw < 2000; draw++) {
      uint64_t ms = retry_backoff_ms(cases[i].attempt, 100, 20000, &rng);
      max = ms > max ? ms : max;
      min = ms < min ? ms : min;
    }
    CHECK(max <= cases[i].ceiling);
    /* Spread over the whole interval, not clustered at the top. */
    CHECK(max > cases[i].ceiling * 9 / 10);
    CHECK(min < cases[i].ceiling / 10 + 1);
  }
}
