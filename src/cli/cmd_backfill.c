/*
 * collator backfill: re-collate every upload under a prefix.
 *
 * The outputs of one (user, log type) are the current file, its diffs and
 * the txt of each of its devices; no two such groups share an output, so
 * groups run in parallel while the uploads of one group go strictly in key
 * order, exactly as `collator process` would apply them one after another.
 * A failed upload ends its group: applying later uploads first would change
 * which rows count as new, so the rest of the group is left alone and the
 * log names the failed key: `collator process` on it and the group's later
 * keys continues where the backfill stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "collate/collate.h"
#include "collate/key.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/utctime.h"
#include "json/json.h"
#include "store/store.h"

#define BACKFILL_MAX_JOBS 256
/* Rounds of one upload that failed transiently (the store has already
 * retried each request), so that a burst of throttling does not end a group. */
#define BACKFILL_UPLOAD_ATTEMPTS 3
#define BACKFILL_RETRY_BASE_MS 250
/* Skipped keys named in the log; the rest are only counted. */
#define BACKFILL_SKIPPED_LOGGED 10

typedef struct upload_entry {
  char *key;
  uint64_t size;
  int64_t user_id;
  char log_type[32];
} upload_entry;

/* entries[first, first + count) after sorting. */
typedef struct upload_group {
  size_t first, count;
  uint64_t bytes;
} upload_group;

typedef struct upload_listing {
  upload_entry *entries;
  size_t count, cap;
  uint64_t bytes;
  uint64_t skipped;
} upload_listing;

typedef struct backfill_totals {
  uint64_t uploads_done;   /* collated, unchanged, rejected or failed */
  uint64_t updated, unchanged;
  uint64_t rejected_uploads, rejected_entries;
  uint64_t rows_new, rows_deleted;
  uint64_t failures;
  uint64_t not_attempted;  /* after a failure in the same group */
  uint64_t upload_retries;
  store_stats store;
} backfill_totals;

typedef struct backfill_run {
  const upload_listing *listing;
  const upload_group *groups;
  const size_t *order;     /* group indices, largest first */
  size_t group_count;
  const collate_options *options;
  int verbose;

  pthread_mutex_t lock;    /* guards everything below and stderr output */
  pthread_cond_t changed;
  size_t next;             /* position in order */
  unsigned running;
  backfill_totals totals;
  progress bar;
} backfill_run;

typedef struct backfill_worker {
  backfill_run *run;
  store *s;
  pthread_t thread;
} backfill_worker;

static void backfill_usage(FILE *out)
{
  fprintf(out,
          "usage: collator backfill [--store URL] --prefix P [--jobs N] [--dry-run]\n"
          "                         [--now TIME] [--verbose]\n"
          "\n"
          "Re-collate every upload under prefix P (e.g. uploads/users/ or\n"
          "uploads/users/42/): per user and log type in key order, groups in parallel.\n"
          "  --store URL   DIR, file://DIR or s3://BUCKET (default $COLLATOR_STORE, else .)\n"
          "  --prefix P    key prefix to list (required)\n"
          "  --jobs N      worker threads, each with its own store connection\n"
          "                (default: the number of cores)\n"
          "  --dry-run     print the plan (one JSON line per group) and write nothing\n"
          "  --now TIME    processing time (ts_updated), ISO 8601, e.g. 2026-11-24T10:00:00Z\n"
          "  --verbose     the JSON log line of every upload on stderr (failures always)\n"
          "Progress and a summary line go to stderr, a JSON summary to stdout.\n"
          "Exit 0 when no upload failed; 1 when any failed; 2 on bad usage.\n");
}

/* ---- listing and planning ---------------------------------------------- */

static cl_status listing_add(void *ctx, const char *key, const store_info *info, cl_error *err)
{
  upload_listing *listing = ctx;
  collate_key parsed;
  cl_error why = {0};
  if(collate_key_parse(key, strlen(key), &parsed, &why)) {
    /* Outputs and stray objects under a wide prefix are not uploads. */
    if(listing->skipped < BACKFILL_SKIPPED_LOGGED)
      log_message(LOG_WARN, "backfill: skipping %s: %s", key, why.message);
    listing->skipped++;
    return CL_OK;
  }
  cl_status status = MEM_GROW_ARRAY(listing->entries, &listing->cap, listing->count + 1, 1024);
  if(status)
    return cl_fail(err, status, "listing: out of memory at %zu keys", listing->count);
  upload_entry *entry = &listing->entries[listing->count];
  entry->key = strdup(key);
  if(!entry->key)
    return cl_fail(err, CL_ERR_NOMEM, "listing: out of memory at %zu keys", listing->count);
  entry->size = info ? info->size : 0;
  entry->user_id = parsed.user_id;
  snprintf(entry->log_type, sizeof(entry->log_type), "%s", parsed.log_type);
  listing->count++;
  listing->bytes += entry->size;
  return CL_OK;
}

static void listing_free(upload_listing *listing)
{
  for(size_t i = 0; i < listing->count; i++)
    free(listing->entries[i].key);
  free(listing->entries);
  memset(listing, 0, sizeof(*listing));
}

/* By user id (the int, so "0100" and "100" share a group as they share
 * outputs), then log type, then key bytes: strcmp compares as unsigned char,
 * the order S3 lists in. */
static int compare_entries(const void *a, const void *b)
{
  const upload_entry *x = a, *y = b;
  if(x->user_id != y->user_id)
    return x->user_id < y->user_id ? -1 : 1;
  int c = strcmp(x->log_type, y->log_type);
  return c ? c : strcmp(x->key, y->key);
}

static cl_status plan_groups(upload_listing *listing, upload_group **groups_out,
                             size_t *count_out, cl_error *err)
{
  *groups_out = NULL;
  *count_out = 0;
  if(!listing->count)
    return CL_OK;
  qsort(listing->entries, listing->count, sizeof(*listing->entries), compare_entries);
  upload_group *groups = calloc(listing->count, sizeof(*groups));
  if(!groups)
    return cl_fail(err, CL_ERR_NOMEM, "planning %zu uploads: out of memory", listing->count);
  size_t count = 0;
  for(size_t i = 0; i < listing->count; i++) {
    const upload_entry *e = &listing->entries[i];
    if(!count || e->user_id != listing->entries[i - 1].user_id ||
       strcmp(e->log_type, listing->entries[i - 1].log_type)) {
      groups[count].first = i;
      count++;
    }
    groups[count - 1].count++;
    groups[count - 1].bytes += e->size;
  }
  *groups_out = groups;
  *count_out = count;
  return CL_OK;
}

typedef struct scheduled_group {
  uint64_t bytes;
  size_t index;
} scheduled_group;

/* Largest first, so that one big user does not start last and run alone. */
static int compare_scheduled(const void *a, const void *b)
{
  const scheduled_group *x = a, *y = b;
  if(x->bytes != y->bytes)
    return x->bytes > y->bytes ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static size_t *schedule_groups(const upload_group *groups, size_t count)
{
  scheduled_group *sorted = malloc((count ? count : 1) * sizeof(*sorted));
  size_t *order = malloc((count ? count : 1) * sizeof(*order));
  if(!sorted || !order) {
    free(sorted);
    free(order);
    return NULL;
  }
  for(size_t i = 0; i < count; i++)
    sorted[i] = (scheduled_group){groups[i].bytes, i};
  qsort(sorted, count, sizeof(*sorted), compare_scheduled);
  for(size_t i = 0; i < count; i++)
    order[i] = sorted[i].index;
  free(sorted);
  return order;
}

static cl_status print_plan(const upload_listing *listing, const upload_group *groups,
                            size_t count, FILE *out)
{
  buf line = BUF_INIT;
  for(size_t g = 0; g < count; g++) {
    const upload_entry *first = &listing->entries[groups[g].first];
    const upload_entry *last = &listing->entries[groups[g].first + groups[g].count - 1];
    buf_clear(&line);
    buf_printf(&line, "{\"user_id\":%" PRId64 ",\"log_type\":", first->user_id);
    json_write_string(&line, first->log_type, strlen(first->log_type), 0);
    buf_printf(&line, ",\"uploads\":%zu,\"bytes\":%" PRIu64 ",\"first_key\":",
               groups[g].count, groups[g].bytes);
    json_write_string(&line, first->key, strlen(first->key), 0);
    buf_append_str(&line, ",\"last_key\":");
    json_write_string(&line, last->key, strlen(last->key), 0);
    buf_append_str(&line, "}\n");
    if(buf_status(&line)) {
      buf_free(&line);
      return CL_ERR_NOMEM;
    }
    fwrite(line.data, 1, line.len, out);
  }
  buf_free(&line);
  return CL_OK;
}

/* ---- workers ------------------------------------------------------------ */

static void sleep_ms(unsigned ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while(nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

/* One upload with a few extra rounds for transient failures. */
static void collate_with_retries(store *s, const char *key, const collate_options *options,
                                 collate_result *result, uint64_t *retries)
{
  for(unsigned attempt = 1;; attempt++) {
    cl_error err = {0};
    cl_status status = collate_upload(s, key, options, result, &err);
    if(result->outcome != COLLATE_FAILED || attempt >= BACKFILL_UPLOAD_ATTEMPTS ||
       (status != CL_ERR_TRANSIENT && status != CL_ERR_CONFLICT))
      return;
    (*retries)++;
    sleep_ms(BACKFILL_RETRY_BASE_MS << (attempt - 1));
  }
}

/* Called with the lock held. */
static void record_result(backfill_run *run, const char *key, const collate_result *result)
{
  backfill_totals *t = &run->totals;
  t->uploads_done++;
  t->rows_new += result->new_rows;
  t->rows_deleted += result->deleted_rows;
  t->rejected_entries += result->rejected_entries;
  switch(result->outcome) {
  case COLLATE_UPDATED: t->updated++; break;
  case COLLATE_UNCHANGED: t->unchanged++; break;
  case COLLATE_REJECTED: t->rejected_uploads++; break;
  case COLLATE_FAILED: t->failures++; break;
  }
  if(!run->verbose && result->outcome != COLLATE_FAILED)
    return;
  buf line = BUF_INIT;
  progress_clear(&run->bar);
  if(!collate_result_to_json(result, key, NULL, &line))
    log_json_line(line.data, line.len);
  else
    log_message(result->outcome == COLLATE_FAILED ? LOG_ERROR : LOG_INFO, "backfill: %s: %s: %s",
                key, collate_outcome_name(result->outcome), result->reason);
  buf_free(&line);
}

static void run_group(backfill_worker *w, const upload_group *group, uint64_t *retries)
{
  backfill_run *run = w->run;
  for(size_t i = 0; i < group->count; i++) {
    const char *key = run->listing->entries[group->first + i].key;
    collate_result result;
    collate_with_retries(w->s, key, run->options, &result, retries);
    pthread_mutex_lock(&run->lock);
    record_result(run, key, &result);
    if(result.outcome == COLLATE_FAILED && i + 1 < group->count) {
      size_t left = group->count - i - 1;
      progress_clear(&run->bar);
      log_message(LOG_ERROR, "backfill: %zu later upload%s of user %" PRId64 " %s not attempted "
                  "after the failure of %s", left, left == 1 ? "" : "s",
                  run->listing->entries[group->first].user_id,
                  run->listing->entries[group->first].log_type, key);
      run->totals.not_attempted += left;
      pthread_mutex_unlock(&run->lock);
      pthread_cond_signal(&run->changed);
      return;
    }
    pthread_mutex_unlock(&run->lock);
    pthread_cond_signal(&run->changed);
  }
}

static void *worker_main(void *arg)
{
  backfill_worker *w = arg;
  backfill_run *run = w->run;
  uint64_t retries = 0;
  for(;;) {
    pthread_mutex_lock(&run->lock);
    size_t position = run->next < run->group_count ? run->next++ : run->group_count;
    pthread_mutex_unlock(&run->lock);
    if(position >= run->group_count)
      break;
    run_group(w, &run->groups[run->order[position]], &retries);
  }
  store_stats stats;
  store_get_stats(w->s, &stats);
  pthread_mutex_lock(&run->lock);
  run->totals.upload_retries += retries;
  run->totals.store.requests += stats.requests;
  run->totals.store.retries += stats.retries;
  run->totals.store.bytes_read += stats.bytes_read;
  run->totals.store.bytes_written += stats.bytes_written;
  run->totals.store.conflicts += stats.conflicts;
  run->running--;
  pthread_mutex_unlock(&run->lock);
  pthread_cond_signal(&run->changed);
  return NULL;
}

/* Runs the workers to the end, drawing progress meanwhile. Returns how many
 * threads ran; 0 when none could be started. */
static unsigned run_workers(backfill_run *run, backfill_worker *workers, unsigned jobs)
{
  unsigned started = 0;
  pthread_mutex_lock(&run->lock);
  for(unsigned i = 0; i < jobs; i++) {
    workers[i].run = run;
    if(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
      break;
    started++;
    run->running++;
  }
  uint64_t total = run->listing->count;
  double tick = run->bar.interactive ? 0.1 : 1.0;
  while(run->running) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    long ns = deadline.tv_nsec + (long)(tick * 1e9);
    deadline.tv_sec += ns / 1000000000L;
    deadline.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&run->changed, &run->lock, &deadline);
    uint64_t done = run->totals.uploads_done + run->totals.not_attempted;
    if(done < total || run->running)
      progress_update(&run->bar, done, run->totals.failures, utc_monotonic_seconds());
  }
  pthread_mutex_unlock(&run->lock);
  for(unsigned i = 0; i < started; i++)
    pthread_join(workers[i].thread, NULL);
  return started;
}

/* ---- summary ------------------------------------------------------------ */

static cl_status print_summary(FILE *out, const char *store_label, const char *prefix,
                               int dry_run, unsigned jobs, size_t groups,
                               const upload_listing *listing, const backfill_totals *t,
                               double seconds)
{
  buf line = BUF_INIT;
  buf_append_str(&line, "{\"store\":");
  json_write_string(&line, store_label, strlen(store_label), 0);
  buf_append_str(&line, ",\"prefix\":");
  json_write_string(&line, prefix, strlen(prefix), 0);
  buf_printf(&line,
             ",\"dry_run\":%s,\"jobs\":%u,\"groups\":%zu,\"uploads\":%zu,\"bytes\":%" PRIu64
             ",\"skipped_keys\":%" PRIu64 ",\"updated\":%" PRIu64 ",\"unchanged\":%" PRIu64
             ",\"rows_new\":%" PRIu64 ",\"rows_deleted\":%" PRIu64
             ",\"rejected_uploads\":%" PRIu64 ",\"rejected_entries\":%" PRIu64
             ",\"failures\":%" PRIu64 ",\"not_attempted\":%" PRIu64
             ",\"upload_retries\":%" PRIu64 ",\"store_requests\":%" PRIu64
             ",\"store_retries\":%" PRIu64 ",\"seconds\":%.3f}\n",
             dry_run ? "true" : "false", jobs, groups, listing->count, listing->bytes,
             listing->skipped, t->updated, t->unchanged, t->rows_new, t->rows_deleted,
             t->rejected_uploads, t->rejected_entries, t->failures, t->not_attempted,
             t->upload_retries, t->store.requests, t->store.retries, seconds);
  cl_status status = buf_status(&line);
  if(!status) {
    fwrite(line.data, 1, line.len, out);
    fflush(out);
  }
  buf_free(&line);
  return status;
}

/* ---- the command -------------------------------------------------------- */

typedef struct backfill_args {
  const char *store_url, *prefix, *now_text;
  unsigned jobs;
  int dry_run, verbose;
} backfill_args;

/* CLI_PARSED to go on, else the exit status (help or usage). */
static int parse_args(int argc, char **argv, backfill_args *a)
{
  const char *jobs_text = NULL;
  const cli_option table[] = {
    {"--store", NULL, &a->store_url, NULL},
    {"--prefix", NULL, &a->prefix, NULL},
    {"--jobs", NULL, &jobs_text, NULL},
    {"--now", NULL, &a->now_text, NULL},
    {"--dry-run", NULL, NULL, &a->dry_run},
    {"--verbose", "-v", NULL, &a->verbose},
  };
  int operand;
  memset(a, 0, sizeof(*a));
  int exit_status = cli_parse("backfill", argc, argv, table, sizeof(table) / sizeof(table[0]),
                              backfill_usage, &operand);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(operand < argc) {
    fprintf(stderr, "collator: backfill: unexpected argument '%s'\n", argv[operand]);
    backfill_usage(stderr);
    return EXIT_USAGE;
  }
  if(!a->prefix) {
    fprintf(stderr, "collator: backfill: --prefix is required\n");
    backfill_usage(stderr);
    return EXIT_USAGE;
  }
  if(jobs_text) {
    char *end = NULL;
    errno = 0;
    unsigned long jobs = strtoul(jobs_text, &end, 10);
    if(errno || end == jobs_text || *end || jobs_text[0] == '-' || jobs < 1 ||
       jobs > BACKFILL_MAX_JOBS) {
      fprintf(stderr, "collator: backfill: --jobs '%s': expected 1..%d\n", jobs_text,
              BACKFILL_MAX_JOBS);
      return EXIT_USAGE;
    }
    a->jobs = (unsigned)jobs;
  } else {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a->jobs = cores < 1 ? 1 : cores > BACKFILL_MAX_JOBS ? BACKFILL_MAX_JOBS : (unsigned)cores;
  }
  return CLI_PARSED;
}

int command_backfill(int argc, char **argv)
{
  backfill_args args;
  int exit_status = parse_args(argc, argv, &args);
  if(exit_status != CLI_PARSED)
    return exit_status;
  collate_options options;
  exit_status = cli_collate_options("backfill", args.now_text, &options);
  if(exit_status != CLI_PARSED)
    return exit_status;
  cl_error err = {0};

  double started = utc_monotonic_seconds();
  store *lister = NULL;
  cl_status status = store_open(args.store_url, &lister, &err);
  if(status) {
    fprintf(stderr, "collator: backfill: %s\n", err.message);
    return status == CL_ERR_USAGE ? EXIT_USAGE : EXIT_PROCESSING_FAILED;
  }
  upload_listing listing = {0};
  upload_group *groups = NULL;
  size_t group_count = 0;
  size_t *order = NULL;
  backfill_worker *workers = NULL;
  unsigned jobs = args.jobs;
  backfill_totals totals = {0};
  exit_status = EXIT_PROCESSING_FAILED;

  status = store_list(lister, args.prefix, listing_add, &listing, &err);
  if(status) {
    cl_error_prefix(&err, "listing %s", args.prefix);
    goto done;
  }
  if(!listing.count)
    log_message(LOG_WARN, "backfill: no upload keys under '%s' in %s", args.prefix,
                store_name(lister));
  if(listing.skipped > BACKFILL_SKIPPED_LOGGED)
    log_message(LOG_WARN, "backfill: %" PRIu64 " keys skipped in all (not upload keys)",
                listing.skipped);
  status = plan_groups(&listing, &groups, &group_count, &err);
  if(status)
    goto done;

  if(jobs > group_count)
    jobs = group_count ? (unsigned)group_count : 1;
  if(args.dry_run) {
    status = print_plan(&listing, groups, group_count, stdout);
    if(status) {
      cl_fail(&err, status, "printing the plan: out of memory");
      goto done;
    }
  } else if(group_count) {
    order = schedule_groups(groups, group_count);
    workers = calloc(jobs, sizeof(*workers));
    if(!order || !workers) {
      status = cl_fail(&err, CL_ERR_NOMEM, "starting %u workers: out of memory", jobs);
      goto done;
    }
    /* The listing handle is idle from here on, so it becomes worker 0's. */
    workers[0].s = lister;
    lister = NULL;
    for(unsigned i = 1; i < jobs; i++) {
      status = store_open(args.store_url, &workers[i].s, &err);
      if(status)
        goto done;
    }
    backfill_run run = {
      .listing = &listing,
      .groups = groups,
      .order = order,
      .group_count = group_count,
      .options = &options,
      .verbose = args.verbose,
    };
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.changed, NULL);
    progress_start(&run.bar, stderr, isatty(STDERR_FILENO), "uploads", listing.count,
                   utc_monotonic_seconds());
    unsigned ran = run_workers(&run, workers, jobs);
    pthread_cond_destroy(&run.changed);
    pthread_mutex_destroy(&run.lock);
    totals = run.totals;
    if(!ran) {
      status = cl_fail(&err, CL_ERR_INTERNAL, "could not start a worker thread");
      goto done;
    }
    progress_finish(&run.bar, totals.uploads_done + totals.not_attempted, totals.failures,
                    utc_monotonic_seconds());
  }

  if(lister) /* no workers ran: the listing was all the store saw */
    store_get_stats(lister, &totals.store);
  double seconds = utc_monotonic_seconds() - started;
  const char *label = workers ? store_name(workers[0].s) : store_name(lister);
  fprintf(stderr,
          "backfill: %s%zu uploads in %zu groups under %s: %" PRIu64 " updated, %" PRIu64
          " unchanged, %" PRIu64 " rejected (%" PRIu64 " entries), %" PRIu64 " failed"
          "%s; %" PRIu64 " rows new, %" PRIu64 " deleted; %" PRIu64 " keys skipped; %.1f s\n",
          args.dry_run ? "plan (dry run): " : "", listing.count, group_count, args.prefix,
          totals.updated, totals.unchanged, totals.rejected_uploads, totals.rejected_entries,
          totals.failures, totals.not_attempted ? " (and later uploads of their groups not attempted)" : "",
          totals.rows_new, totals.rows_deleted, listing.skipped, seconds);
  status = print_summary(stdout, label, args.prefix, args.dry_run, args.dry_run ? 0 : jobs,
                         group_count, &listing, &totals, seconds);
  if(status)
    cl_fail(&err, status, "printing the summary: out of memory");
  else
    exit_status = totals.failures || totals.not_attempted ? EXIT_PROCESSING_FAILED : 0;

done:
  if(status)
    fprintf(stderr, "collator: backfill: %s\n", err.message);
  if(workers)
    for(unsigned i = 0; i < jobs; i++)
      store_free(workers[i].s);
  free(workers);
  store_free(lister);
  free(order);
  free(groups);
  listing_free(&listing);
  return exit_status;
}
