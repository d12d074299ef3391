/*
 * worker: one background thread that runs one job at a time.
 *
 * It lets a producer prepare the next piece of work while the last one is
 * being finished elsewhere (double buffering): the collator parses and
 * hashes the rows of one row group while the worker encodes, compresses
 * and writes the one before. A job is a function with its context; its
 * status and error message come back to the producer at the next
 * worker_submit or worker_wait, which is also where the producer may touch
 * what the job used again. Everything the producer wrote before submitting
 * is visible to the job, and everything the job wrote is visible after the
 * wait (the hand-over goes through a mutex).
 */
#ifndef COLLATOR_CORE_WORKER_H
#define COLLATOR_CORE_WORKER_H

#include "error.h"

typedef cl_status (*worker_job)(void *ctx, cl_error *err);

typedef struct worker worker;

/* Starts the thread. */
cl_status worker_create(worker **out, cl_error *err);

/* Waits for the job in progress, then hands job over and returns at once.
 * When the job before failed, returns its failure (with its message in err)
 * and job is not started. */
cl_status worker_submit(worker *w, worker_job job, void *ctx, cl_error *err);

/* Waits until the job in progress (if any) is done; returns its status. */
cl_status worker_wait(worker *w, cl_error *err);

/* Waits for the job in progress and stops the thread; accepts NULL. */
void worker_free(worker *w);

/* CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned worker_available_cpus(void);

#endif
