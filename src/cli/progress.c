#include "cli/progress.h"

#include <string.h>

#define PROGRESS_BAR_WIDTH 28
#define PROGRESS_TERMINAL_INTERVAL 0.1
#define PROGRESS_PLAIN_INTERVAL 5.0

void progress_start(progress *p, FILE *out, int interactive, const char *unit,
                    uint64_t total, double now)
{
  memset(p, 0, sizeof(*p));
  p->out = out;
  p->interactive = interactive;
  p->unit = unit;
  p->total = total;
  p->started = now;
  p->last_drawn = now;
}

/* Longer than this (about four months) is an ETA from a rate measured over
 * too few uploads, not a forecast. */
#define PROGRESS_MAX_SECONDS 1e7

/* "1:02:03" or "2:03"; "?" for a duration that means nothing. */
static void format_duration(double seconds, char *dst, size_t cap)
{
  if(seconds < 0 || seconds > PROGRESS_MAX_SECONDS) {
    snprintf(dst, cap, "?");
    return;
  }
  unsigned long total = (unsigned long)(seconds + 0.5);
  unsigned long h = total / 3600, m = total / 60 % 60, s = total % 60;
  if(h)
    snprintf(dst, cap, "%lu:%02lu:%02lu", h, m, s);
  else
    snprintf(dst, cap, "%lu:%02lu", m, s);
}

static void draw(progress *p, uint64_t done, uint64_t failed, double now, int final)
{
  double elapsed = now - p->started;
  double rate = elapsed > 0 ? (double)done / elapsed : 0;
  double fraction = p->total ? (double)done / (double)p->total : 1.0;
  if(fraction > 1)
    fraction = 1;
  char eta[32], took[32];
  if(rate > 0)
    format_duration((double)(p->total - (done < p->total ? done : p->total)) / rate, eta,
                    sizeof(eta));
  else
    snprintf(eta, sizeof(eta), "?");
  format_duration(elapsed, took, sizeof(took));
  char failures[48] = "";
  if(failed)
    snprintf(failures, sizeof(failures), ", %llu failed", (unsigned long long)failed);

  if(p->interactive) {
    char bar[PROGRESS_BAR_WIDTH + 1];
    size_t filled = (size_t)(fraction * PROGRESS_BAR_WIDTH);
    memset(bar, '#', filled);
    memset(bar + filled, '.', PROGRESS_BAR_WIDTH - filled);
    bar[PROGRESS_BAR_WIDTH] = '\0';
    /* \033[K erases what a longer previous line left behind. */
    fprintf(p->out, "\r[%s] %llu/%llu %s %5.1f%%  %.1f/s  %s %s%s\033[K", bar,
            (unsigned long long)done, (unsigned long long)p->total, p->unit, fraction * 100,
            rate, final ? "took" : "ETA", final ? took : eta, failures);
    if(final)
      fputc('\n', p->out);
    p->bar_shown = !final;
  } else {
    fprintf(p->out, "progress: %llu/%llu %s (%.1f%%), %.1f/s, %s %s%s\n",
            (unsigned long long)done, (unsigned long long)p->total, p->unit, fraction * 100,
            rate, final ? "took" : "ETA", final ? took : eta, failures);
  }
  fflush(p->out);
  p->last_drawn = now;
  p->last_tenth = (unsigned)(fraction * 10);
}

void progress_update(progress *p, uint64_t done, uint64_t failed, double now)
{
  if(p->interactive) {
    if(now - p->last_drawn >= PROGRESS_TERMINAL_INTERVAL || !p->bar_shown)
      draw(p, done, failed, now, 0);
    return;
  }
  if(done >= p->total)
    return; /* progress_finish reports the end */
  unsigned tenth = p->total ? (unsigned)((double)done / (double)p->total * 10) : 10;
  if(now - p->last_drawn >= PROGRESS_PLAIN_INTERVAL || tenth > p->last_tenth)
    draw(p, done, failed, now, 0);
}

void progress_clear(progress *p)
{
  if(p->interactive && p->bar_shown) {
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->bar_shown = 0;
  }
}

void progress_finish(progress *p, uint64_t done, uint64_t failed, double now)
{
  draw(p, done, failed, now, 1);
}
