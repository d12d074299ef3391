#include "core/worker.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  worker_job job;
  void *ctx;
  int busy;      /* a job is handed over and not yet finished */
  int stopping;
  cl_status status; /* of the last finished job, until reported */
  cl_error error;
};

static void *worker_main(void *arg)
{
  worker *w = arg;
  pthread_mutex_lock(&w->lock);
  for(;;) {
    while(!w->busy && !w->stopping)
      pthread_cond_wait(&w->changed, &w->lock);
    if(!w->busy)
      break;
    worker_job job = w->job;
    void *ctx = w->ctx;
    pthread_mutex_unlock(&w->lock);

    cl_error error;
    cl_error_clear(&error);
    cl_status status = job(ctx, &error);

    pthread_mutex_lock(&w->lock);
    w->status = status;
    w->error = error;
    w->busy = 0;
    pthread_cond_broadcast(&w->changed);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

cl_status worker_create(worker **out, cl_error *err)
{
  worker *w = calloc(1, sizeof(*w));
  *out = NULL;
  if(!w)
    return cl_fail(err, CL_ERR_NOMEM, "worker: out of memory");
  if(pthread_mutex_init(&w->lock, NULL)) {
    free(w);
    return cl_fail(err, CL_ERR_NOMEM, "worker: cannot make a mutex");
  }
  if(pthread_cond_init(&w->changed, NULL)) {
    pthread_mutex_destroy(&w->lock);
    free(w);
    return cl_fail(err, CL_ERR_NOMEM, "worker: cannot make a condition variable");
  }
  int rc = pthread_create(&w->thread, NULL, worker_main, w);
  if(rc) {
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return cl_fail(err, CL_ERR_NOMEM, "worker: cannot start a thread: %s", strerror(rc));
  }
  *out = w;
  return CL_OK;
}

cl_status worker_wait(worker *w, cl_error *err)
{
  pthread_mutex_lock(&w->lock);
  while(w->busy)
    pthread_cond_wait(&w->changed, &w->lock);
  cl_status status = w->status;
  if(status && err)
    *err = w->error;
  w->status = CL_OK;
  pthread_mutex_unlock(&w->lock);
  return status;
}

cl_status worker_submit(worker *w, worker_job job, void *ctx, cl_error *err)
{
  cl_status status = worker_wait(w, err);
  if(status)
    return status;
  pthread_mutex_lock(&w->lock);
  w->job = job;
  w->ctx = ctx;
  w->busy = 1;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
  return CL_OK;
}

void worker_free(worker *w)
{
  if(!w)
    return;
  pthread_mutex_lock(&w->lock);
  while(w->busy)
    pthread_cond_wait(&w->changed, &w->lock);
  w->stopping = 1;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->changed);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

unsigned worker_available_cpus(void)
{
  cpu_set_t set;
  if(sched_getaffinity(0, sizeof(set), &set))
    return 1;
  int count = CPU_COUNT(&set);
  return count > 0 ? (unsigned)count : 1;
}
