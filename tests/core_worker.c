#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/worker.h"
#include "unit.h"

/* A job that appends its number to a shared log after a short sleep, so a
 * producer that did not wait would see it missing; number 0 fails. */
typedef struct job_log {
  int done[16];
  int count;
} job_log;

typedef struct numbered_job {
  job_log *log;
  int number;
  int finished; /* read by the test only after a wait that covers the job */
} numbered_job;

static cl_status run_numbered(void *ctx, cl_error *err)
{
  numbered_job *job = ctx;
  struct timespec pause = {0, 2 * 1000 * 1000};
  nanosleep(&pause, NULL);
  if(!job->number)
    return cl_fail(err, CL_ERR_IO, "job %d: refused", job->number);
  job->log->done[job->log->count++] = job->number;
  job->finished = 1;
  return CL_OK;
}

TEST(core_worker_runs_jobs_in_order_and_waits)
{
  worker *w = NULL;
  cl_error err = {0};
  job_log log = {{0}, 0};
  numbered_job jobs[5];
  CHECK_OK(worker_create(&w, &err), &err);
  if(!w)
    return;
  for(int i = 0; i < 5; i++) {
    jobs[i].log = &log;
    jobs[i].number = i + 1;
    jobs[i].finished = 0;
    CHECK_OK(worker_submit(w, run_numbered, &jobs[i], &err), &err);
    /* Submitting waited for the job before. */
    if(i)
      CHECK_INT(jobs[i - 1].finished, 1);
  }
  CHECK_OK(worker_wait(w, &err), &err);
  CHECK_INT(log.count, 5);
  for(int i = 0; i < 5; i++)
    CHECK_INT(log.done[i], i + 1);
  /* Waiting with nothing in progress returns at once. */
  CHECK_OK(worker_wait(w, &err), &err);
  worker_free(w);
}

TEST(core_worker_reports_a_failure_once)
{
  worker *w = NULL;
  cl_error err = {0};
  job_log log = {{0}, 0};
  numbered_job failing = {&log, 0, 0}, next = {&log, 7, 0};
  CHECK_OK(worker_create(&w, &err), &err);
  if(!w)
    return;
  CHECK_OK(worker_submit(w, run_numbered, &failing, &err), &err);
  /* The next submit gets the failure and does not start its job. */
  CHECK_STATUS(worker_submit(w, run_numbered, &next, &err), CL_ERR_IO);
  CHECK_STR(err.message, "job 0: refused");
  CHECK_OK(worker_wait(w, &err), &err);
  CHECK_INT(log.count, 0);
  /* Reported once: the worker takes jobs again. */
  CHECK_OK(worker_submit(w, run_numbered, &next, &err), &err);
  CHECK_OK(worker_wait(w, &err), &err);
  CHECK_INT(log.count, 1);

  CHECK_OK(worker_submit(w, run_numbered, &failing, &err), &err);
  CHECK_STATUS(worker_wait(w, &err), CL_ERR_IO);
  CHECK_STR(err.message, "job 0: refused");
  CHECK_OK(worker_wait(w, &err), &err);
  worker_free(w);
}

TEST(core_worker_free_waits_for_the_job_in_progress)
{
  worker *w = NULL;
  cl_error err = {0};
  job_log log = {{0}, 0};
  numbered_job job = {&log, 3, 0};
  CHECK_OK(worker_create(&w, &err), &err);
  if(!w)
    return;
  CHECK_OK(worker_submit(w, run_numbered, &job, &err), &err);
  worker_free(w);
  CHECK_INT(log.count, 1);
  worker_free(NULL);
  CHECK(worker_available_cpus() >= 1);
}
