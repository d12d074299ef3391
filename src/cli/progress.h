/*
 * progress: the progress display of long CLI runs (backfill).
 *
 * On a terminal it is one line redrawn in place with \r: a bar, done/total,
 * percent, rate and ETA. Anywhere else (a log file, CI, a pipe) redrawing
 * would fill the log with carriage returns, so a plain line goes out every
 * few seconds or whenever another tenth of the work is done. The display
 * keeps no lock of its own: the caller serialises calls, and calls
 * progress_clear() before writing anything else to the same stream so that
 * a log line never lands in the middle of the bar.
 */
#ifndef COLLATOR_CLI_PROGRESS_H
#define COLLATOR_CLI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct progress {
  FILE *out;
  int interactive;     /* redraw in place (a terminal) */
  const char *unit;    /* "uploads" */
  uint64_t total;
  double started;      /* monotonic seconds */
  double last_drawn;
  unsigned last_tenth; /* plain mode: the last tenth reported */
  int bar_shown;       /* interactive: a bar is on the line now */
} progress;

/* now and the other times are utc_monotonic_seconds(). */
void progress_start(progress *p, FILE *out, int interactive, const char *unit,
                    uint64_t total, double now);
/* Draws when due: at most 10 times a second on a terminal, else every 5 s
 * or each tenth of the total. */
void progress_update(progress *p, uint64_t done, uint64_t failed, double now);
/* Erase the bar (terminal only) so that other output starts on a clean line;
 * the next update draws it again. */
void progress_clear(progress *p);
/* The last state, always drawn, and the line ended. */
void progress_finish(progress *p, uint64_t done, uint64_t failed, double now);

#endif
