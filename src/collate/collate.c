#include "collate/collate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collate/history.h"
#include "collate/key.h"
#include "collate/logtype.h"
#include "collate/rowid.h"
#include "collate/upload.h"
#include "core/digest.h"
#include "core/env.h"
#include "core/mem.h"
#include "core/retry.h"
#include "core/utctime.h"
#include "core/worker.h"
#include "json/json.h"

#ifndef COLLATOR_VERSION
#define COLLATOR_VERSION "0.1.0"
#endif

/* A row group is the unit of memory: rows are buffered until one is full,
 * and readers decode one at a time. So a group ends at whichever comes
 * first, this many rows or this many bytes of values (an sms row group is
 * about 10k rows, an app row group 64k). */
#define ROW_GROUP_ROWS 65536
#define ROW_GROUP_BYTES (4u << 20)
/* What a buffered row costs beyond its strings: a value slot per column. */
#define ROW_BYTES_PER_COLUMN 9
/* More row groups than this in one file and the small ones get merged. */
#define COMPACT_ROW_GROUPS 64
/* Read-modify-write rounds when COLLATOR_MAX_ATTEMPTS is unset (README). */
#define DEFAULT_MAX_ATTEMPTS 8
/* Full-jitter backoff after a lost conditional write (CL_ERR_CONFLICT): the
 * first retry waits up to 10 ms, so a quick rival costs little, and no wait
 * exceeds 2 s, so max_attempts bounds the total. */
#define BACKOFF_BASE_MS 10
#define BACKOFF_CAP_MS 2000

/* ---- the unique set: latest row per id, in first-appearance order ----- */

enum { ENTRY_DELETED = 1, ENTRY_THIS_DEVICE = 2, ENTRY_SEEN = 4 };

typedef struct unique_entry {
  uint8_t id[ROWID_LEN];
  uint8_t row_hash[ROWID_LEN];
  int64_t ts_updated;
  uint32_t row_group;
  uint32_t row : 29;   /* within its row group; 48 bytes an id keeps 1M ids near 50 MB */
  uint32_t flags : 3;
} unique_entry;

#define UNIQUE_MAX_ROW ((UINT32_C(1) << 29) - 1)
_Static_assert(sizeof(unique_entry) == 48, "unique_entry stays 48 bytes");

typedef struct unique_set {
  unique_entry *entries;
  size_t count, capacity;
  uint64_t *by_id;   /* id_tag() | entry index + 1; 0 = empty slot */
  size_t id_mask;
  uint32_t *by_hash;
  size_t hash_mask;
} unique_set;

static void unique_free(unique_set *u)
{
  free(u->entries);
  mem_free_table(u->by_id, u->id_mask + 1, sizeof(*u->by_id));
  mem_free_table(u->by_hash, u->hash_mask + 1, sizeof(*u->by_hash));
  memset(u, 0, sizeof(*u));
}

/* 32 more bits of the id beside its entry in the index: a probe past
 * another id is settled there, without a cache miss into the entries. */
static uint64_t id_tag(const uint8_t id[ROWID_LEN])
{
  uint32_t tag;
  memcpy(&tag, id + 8, sizeof(tag));
  return (uint64_t)tag << 32;
}

#define INDEX_ENTRY(slot) ((uint32_t)(slot))

static long unique_find(const unique_set *u, const uint8_t id[ROWID_LEN])
{
  if(!u->by_id)
    return -1;
  uint64_t tag = id_tag(id);
  for(size_t slot = rowid_hash(id) & u->id_mask;; slot = (slot + 1) & u->id_mask) {
    uint64_t e = u->by_id[slot];
    if(!e)
      return -1;
    if((e & ~(uint64_t)UINT32_MAX) == tag && !memcmp(u->entries[INDEX_ENTRY(e) - 1].id, id,
                                                     ROWID_LEN))
      return (long)INDEX_ENTRY(e) - 1;
  }
}

/* A new id index of `slots` (a power of two) slots. */
static cl_status unique_rebuild_index(unique_set *u, size_t slots, cl_error *err)
{
  uint64_t *index = mem_calloc_table(slots, sizeof(*index));
  if(!index)
    return cl_fail(err, CL_ERR_NOMEM, "unique set of %zu ids: out of memory", u->count);
  for(size_t i = 0; i < u->count; i++) {
    size_t slot = rowid_hash(u->entries[i].id) & (slots - 1);
    while(index[slot])
      slot = (slot + 1) & (slots - 1);
    index[slot] = id_tag(u->entries[i].id) | (uint32_t)(i + 1);
  }
  mem_free_table(u->by_id, u->id_mask + 1, sizeof(*u->by_id));
  u->by_id = index;
  u->id_mask = slots - 1;
  return CL_OK;
}

/* Room for `ids` ids up front: a history's row count bounds its ids, and
 * growing by doubling would copy the entries and rehash the index ~20 times
 * for a million rows. Untouched entries cost no memory until used. */
static cl_status unique_reserve(unique_set *u, size_t ids, cl_error *err)
{
  size_t slots = 1024;
  while(slots < ids * 2)
    slots *= 2;
  if(ids > u->capacity) {
    unique_entry *entries = realloc(u->entries, ids * sizeof(*entries));
    if(!entries)
      return cl_fail(err, CL_ERR_NOMEM, "unique set of %zu ids: out of memory", ids);
    mem_prefer_huge_pages(entries, ids * sizeof(*entries));
    u->entries = entries;
    u->capacity = ids;
  }
  if(slots > u->id_mask + 1)
    return unique_rebuild_index(u, slots, err);
  return CL_OK;
}

/* The legacy rule: a row replaces the kept one of its id unless the kept one
 * has a strictly greater ts_updated. */
static cl_status unique_offer(unique_set *u, const uint8_t id[ROWID_LEN],
                              const uint8_t row_hash[ROWID_LEN], int64_t ts_updated,
                              uint32_t row_group, uint32_t row, uint32_t flags, cl_error *err)
{
  if(row > UNIQUE_MAX_ROW)
    return cl_fail(err, CL_ERR_LIMIT, "row group of more than %u rows", UNIQUE_MAX_ROW);
  long found = unique_find(u, id);
  if(found >= 0) {
    unique_entry *e = &u->entries[found];
    if(e->ts_updated > ts_updated)
      return CL_OK;
    memcpy(e->row_hash, row_hash, ROWID_LEN);
    e->ts_updated = ts_updated;
    e->row_group = row_group;
    e->row = row & UNIQUE_MAX_ROW;
    e->flags = flags & (ENTRY_DELETED | ENTRY_THIS_DEVICE | ENTRY_SEEN);
    return CL_OK;
  }
  if(u->count >= UINT32_MAX - 1)
    return cl_fail(err, CL_ERR_LIMIT, "more than %u ids in one history", UINT32_MAX - 1);
  if(u->count == u->capacity) {
    cl_status status = MEM_GROW_ARRAY(u->entries, &u->capacity, u->count + 1, 1024);
    if(status)
      return cl_fail(err, status, "unique set of %zu ids: out of memory", u->count);
    mem_prefer_huge_pages(u->entries, u->capacity * sizeof(*u->entries));
  }
  if((u->count + 1) * 2 > u->id_mask + 1) {
    cl_status status = unique_rebuild_index(u, u->by_id ? (u->id_mask + 1) * 2 : 1024, err);
    if(status)
      return status;
  }
  unique_entry *e = &u->entries[u->count];
  memcpy(e->id, id, ROWID_LEN);
  memcpy(e->row_hash, row_hash, ROWID_LEN);
  e->ts_updated = ts_updated;
  e->row_group = row_group;
  e->row = row & UNIQUE_MAX_ROW;
  e->flags = flags & (ENTRY_DELETED | ENTRY_THIS_DEVICE | ENTRY_SEEN);
  size_t slot = rowid_hash(id) & u->id_mask;
  while(u->by_id[slot])
    slot = (slot + 1) & u->id_mask;
  u->by_id[slot] = id_tag(id) | (uint32_t)(u->count + 1);
  u->count++;
  return CL_OK;
}

/* existing_row_hashes of the legacy: the row hashes of the unique set. */
static cl_status unique_index_hashes(unique_set *u, cl_error *err)
{
  size_t slots = 1024;
  while(slots < u->count * 2)
    slots *= 2;
  mem_free_table(u->by_hash, u->hash_mask + 1, sizeof(*u->by_hash));
  u->by_hash = mem_calloc_table(slots, sizeof(*u->by_hash));
  if(!u->by_hash)
    return cl_fail(err, CL_ERR_NOMEM, "row hashes of %zu ids: out of memory", u->count);
  u->hash_mask = slots - 1;
  for(size_t i = 0; i < u->count; i++) {
    size_t slot = rowid_hash(u->entries[i].row_hash) & u->hash_mask;
    while(u->by_hash[slot])
      slot = (slot + 1) & u->hash_mask;
    u->by_hash[slot] = (uint32_t)(i + 1);
  }
  return CL_OK;
}

/* Start loading the index slots a lookup of id and row_hash reads first. */
static void unique_prefetch(const unique_set *u, const uint8_t id[ROWID_LEN],
                            const uint8_t row_hash[ROWID_LEN])
{
  if(u->by_id)
    __builtin_prefetch(&u->by_id[rowid_hash(id) & u->id_mask]);
  if(u->by_hash)
    __builtin_prefetch(&u->by_hash[rowid_hash(row_hash) & u->hash_mask]);
}

static int unique_has_hash(const unique_set *u, const uint8_t row_hash[ROWID_LEN])
{
  if(!u->by_hash)
    return 0;
  for(size_t slot = rowid_hash(row_hash) & u->hash_mask;; slot = (slot + 1) & u->hash_mask) {
    uint32_t e = u->by_hash[slot];
    if(!e)
      return 0;
    if(!memcmp(u->entries[e - 1].row_hash, row_hash, ROWID_LEN))
      return 1;
  }
}

/* ---- the ids this upload has had -------------------------------------- */

/* An id is taken once per upload (its first entry; design item 5), so that
 * applying the upload again finds every id's latest version equal to what
 * the upload says. An id is kept as 12 of its 16 bytes: two ids meet only
 * by a 96-bit accident (about 1e-16 for a 4M-row upload), and a 1 GB
 * upload's set fits in 60 MB. An all-zero key marks an empty slot; the one
 * real all-zero key is a flag. */
typedef struct id_key {
  uint32_t lo, mid, hi;
} id_key;

typedef struct id_set {
  id_key *keys;
  size_t count, cap;
  int has_zero;
} id_set;

/* The set grows past this fill (in tenths), by half again. */
#define ID_SET_FILL 8
/* Raw JSON bytes per gzip byte to expect when sizing it (sms: 4.2). */
#define GZIP_RATIO_GUESS 5

static void id_set_free(id_set *p)
{
  mem_free_table(p->keys, p->cap, sizeof(*p->keys));
  memset(p, 0, sizeof(*p));
}

static int id_key_empty(const id_key *k)
{
  return !(k->lo | k->mid | k->hi);
}

/* The md5 bits are uniform: scale them onto any capacity. */
static size_t id_home(uint32_t mid, size_t cap)
{
  return (size_t)(((uint64_t)mid * cap) >> 32);
}

static id_key *id_slot(id_key *keys, size_t cap, const id_key *key)
{
  size_t slot = id_home(key->mid, cap);
  while(!id_key_empty(&keys[slot]) && memcmp(&keys[slot], key, sizeof(*key)))
    slot = slot + 1 == cap ? 0 : slot + 1;
  return &keys[slot];
}

/* Room for `ids` ids without growing. */
static cl_status id_set_reserve(id_set *p, size_t ids, cl_error *err)
{
  size_t cap = ids * 10 / ID_SET_FILL + 1;
  if(cap <= p->cap)
    return CL_OK;
  if(cap > UINT32_MAX)
    return cl_fail(err, CL_ERR_LIMIT, "more than %zu ids in one upload", p->count);
  id_key *keys = mem_calloc_table(cap, sizeof(*keys));
  if(!keys)
    return cl_fail(err, CL_ERR_NOMEM, "%zu ids of an upload: out of memory", p->count);
  for(size_t i = 0; i < p->cap; i++)
    if(!id_key_empty(&p->keys[i]))
      *id_slot(keys, cap, &p->keys[i]) = p->keys[i];
  mem_free_table(p->keys, p->cap, sizeof(*p->keys));
  p->keys = keys;
  p->cap = cap;
  return CL_OK;
}

/* Start loading the slot where this id goes. */
static void id_set_prefetch(const id_set *p, const uint8_t id[ROWID_LEN])
{
  uint32_t mid;
  memcpy(&mid, id + 4, sizeof(mid));
  if(p->cap)
    __builtin_prefetch(&p->keys[id_home(mid, p->cap)]);
}

/* Adds the id; *added is 0 when it was already there. */
static cl_status id_set_add(id_set *p, const uint8_t id[ROWID_LEN], int *added, cl_error *err)
{
  id_key key;
  memcpy(&key, id, sizeof(key));
  *added = 0;
  if(id_key_empty(&key)) {
    *added = !p->has_zero;
    p->has_zero = 1;
    return CL_OK;
  }
  if((p->count + 1) * 10 > p->cap * ID_SET_FILL) {
    cl_status status = id_set_reserve(p, p->count + p->count / 2 + 1024, err);
    if(status)
      return status;
  }
  id_key *slot = id_slot(p->keys, p->cap, &key);
  if(!id_key_empty(slot))
    return CL_OK;
  *slot = key;
  p->count++;
  *added = 1;
  return CL_OK;
}

/* ---- rows buffered into row groups of a Parquet writer ---------------- */

/* The round's second thread, started when a first row group fills, and
 * only when COLLATOR_THREADS allows it (by default when the process may run
 * on two CPUs or more). */
typedef struct encoder_thread {
  int allowed;
  worker *thread;
} encoder_thread;

static worker *encoder_thread_get(encoder_thread *encoder)
{
  if(!encoder->allowed)
    return NULL;
  /* A thread that cannot start leaves the work to the caller's thread. */
  if(!encoder->thread && worker_create(&encoder->thread, NULL))
    encoder->allowed = 0;
  return encoder->thread;
}

/* Rows one thread adds to (or renders for) the txt between two looks at
 * whether the other thread still needs it to (~0.15 ms of work). */
#define TXT_ROWS_PER_TURN 256

/* How far the encoder thread is with a slot handed to it. */
enum { SLOT_QUEUED, SLOT_TXT_ADDED, SLOT_WRITTEN };

/* A row group being filled, or being encoded on the encoder thread. */
typedef struct row_slot {
  history_rows group;
  collate_scratch *scratch; /* the group's strings */
  size_t count, bytes;
  parquet_writer *writer;
  collate_txt *txt;         /* borrowed: also gets every row written, or NULL */
  size_t txt_rows;          /* the first rows, already in txt (some added before the hand-over) */
  atomic_int stage;         /* SLOT_*: queued at the hand-over, then set by the writing thread */
} row_slot;

/* With an encoder, a full row group is encoded, compressed and written on
 * that thread while the next one fills: the two halves of the work take
 * about the same time on an SMS upload once the parsing thread takes a
 * share of the txt (row_buffer_hand_off). Without one (a single CPU, or
 * COLLATOR_THREADS=1), or until a first group fills, everything happens in
 * the caller's thread; the bytes written are the same either way. */
typedef struct row_buffer {
  const collate_type *type;
  const parquet_schema *schema;
  row_slot slots[2];
  row_slot *filling;
  row_slot *encoding;  /* handed to the encoder and not yet waited for */
  encoder_thread *encoder;
} row_buffer;

static cl_status row_slot_init(row_slot *slot, const row_buffer *rb, cl_error *err)
{
  slot->scratch = collate_scratch_create();
  if(!slot->scratch)
    return cl_fail(err, CL_ERR_NOMEM, "row buffer: out of memory");
  return history_rows_init(&slot->group, rb->type, rb->schema, ROW_GROUP_ROWS, err);
}

static void row_slot_free(row_slot *slot)
{
  history_rows_free(&slot->group);
  collate_scratch_free(slot->scratch);
  slot->scratch = NULL;
}

/* Add the slot's rows up to row `end` to the txt, each once. The txt
 * takes rows in order, one thread at a time: see row_buffer_hand_off. */
static cl_status row_slot_add_txt(row_slot *slot, size_t end, cl_error *err)
{
  if(!slot->txt)
    return CL_OK;
  uint32_t columns = collate_txt_columns(slot->txt);
  for(; slot->txt_rows < end && slot->txt_rows < slot->count; slot->txt_rows++) {
    collate_row row;
    history_rows_get(&slot->group, slot->txt_rows, columns, &row);
    cl_status status = collate_txt_add_row(slot->txt, &row, err);
    if(status)
      return status;
  }
  return CL_OK;
}

/* Encode the slot's rows as one row group (and add them to the txt); the
 * slot is then empty. Runs in either thread. */
static cl_status row_slot_write(void *ctx, cl_error *err)
{
  row_slot *slot = ctx;
  cl_status status = row_slot_add_txt(slot, slot->count, err);
  if(status)
    return status;
  atomic_store_explicit(&slot->stage, SLOT_TXT_ADDED, memory_order_release);
  status = history_rows_write(&slot->group, slot->writer, err);
  if(status)
    return status;
  slot->count = slot->bytes = 0;
  slot->txt_rows = 0;
  collate_scratch_reset(slot->scratch);
  atomic_store_explicit(&slot->stage, SLOT_WRITTEN, memory_order_release);
  return CL_OK;
}

static cl_status row_buffer_init(row_buffer *rb, const collate_type *type,
                                 const parquet_schema *schema, parquet_writer *writer,
                                 encoder_thread *encoder, cl_error *err)
{
  memset(rb, 0, sizeof(*rb));
  rb->type = type;
  rb->schema = schema;
  rb->encoder = encoder;
  rb->filling = &rb->slots[0];
  rb->slots[0].writer = rb->slots[1].writer = writer;
  return row_slot_init(&rb->slots[0], rb, err);
}

/* Wait for the group on the encoder, if any: the writer is then ours. */
static cl_status row_buffer_wait(row_buffer *rb, cl_error *err)
{
  if(!rb->encoding)
    return CL_OK;
  rb->encoding = NULL;
  return worker_wait(rb->encoder->thread, err);
}

/* Every row written from now on is also added to txt, in the same order
 * (mostly on the encoder, where the txt's work overlaps the parsing). */
static void row_buffer_feed_txt(row_buffer *rb, collate_txt *txt)
{
  rb->slots[0].txt = rb->slots[1].txt = txt;
}

static void row_buffer_free(row_buffer *rb)
{
  /* A failed round may leave a group on the encoder: it uses the writer. */
  row_buffer_wait(rb, NULL);
  row_slot_free(&rb->slots[0]);
  row_slot_free(&rb->slots[1]);
}

/* Rows added and not yet handed over or written: 0 when the next row
 * starts a row group of the output. */
static size_t row_buffer_count(const row_buffer *rb)
{
  return rb->filling->count;
}

/* Everything buffered is written when it returns. */
static cl_status row_buffer_flush(row_buffer *rb, cl_error *err)
{
  cl_status status = row_buffer_wait(rb, err);
  if(status || !row_buffer_count(rb))
    return status;
  return row_slot_write(rb->filling, err);
}

/* A full group goes to the encoder when there is one (started on the
 * first full group, so small uploads never start a thread), else is
 * written here. */
static cl_status row_buffer_hand_off(row_buffer *rb, cl_error *err)
{
  row_slot *next = rb->filling == &rb->slots[0] ? &rb->slots[1] : &rb->slots[0];
  if(!encoder_thread_get(rb->encoder))
    return row_slot_write(rb->filling, err);
  if(!next->scratch) {
    cl_status status = row_slot_init(next, rb, err);
    if(status)
      return status;
  }
  /* The encoder is the busier thread of a first upload (Parquet encoding
   * and snappy, and the txt's rows). While it encodes the last group, its
   * rows already in the txt, this thread, which would only wait, adds this
   * group's rows to the txt, a few at a time; the encoder adds the rest.
   * The txt gets every row in order, from one thread at a time, and the
   * two threads stay busy: the whole txt here made this one the busier. */
  row_slot *full = rb->filling;
  while(rb->encoding && full->txt && full->txt_rows < full->count &&
        atomic_load_explicit(&rb->encoding->stage, memory_order_acquire) == SLOT_TXT_ADDED) {
    cl_status status = row_slot_add_txt(full, full->txt_rows + TXT_ROWS_PER_TURN, err);
    if(status)
      return status;
  }
  atomic_store_explicit(&full->stage, SLOT_QUEUED, memory_order_relaxed);
  /* Waits for `next`, the group handed over last time, to be written. */
  cl_status status = worker_submit(rb->encoder->thread, row_slot_write, full, err);
  if(status) {
    rb->encoding = NULL;
    return status;
  }
  rb->encoding = full;
  rb->filling = next;
  return CL_OK;
}

/* Copies the row's strings, so the source may go away. */
static cl_status row_buffer_add(row_buffer *rb, const collate_row *row, cl_error *err)
{
  row_slot *slot = rb->filling;
  collate_row copy;
  size_t bytes = rb->type->column_count * ROW_BYTES_PER_COLUMN;
  for(size_t c = 0; c < rb->type->column_count; c++) {
    copy.cells[c] = row->cells[c];
    if(row->cells[c].type == COLLATE_CELL_BYTES) {
      copy.cells[c].s = collate_scratch_copy(slot->scratch, row->cells[c].s, row->cells[c].len);
      if(!copy.cells[c].s)
        return cl_fail(err, CL_ERR_NOMEM, "row buffer: out of memory");
      bytes += row->cells[c].len;
    }
  }
  history_rows_put(&slot->group, &copy);
  slot->bytes += bytes;
  if(++slot->count == ROW_GROUP_ROWS || slot->bytes >= ROW_GROUP_BYTES)
    return row_buffer_hand_off(rb, err);
  return CL_OK;
}

/* Whole row groups of a file copied after the rows buffered so far. */
static cl_status row_buffer_copy_row_groups(row_buffer *rb, parquet_reader *reader,
                                            size_t first, size_t count, cl_error *err)
{
  cl_status status = row_buffer_flush(rb, err);
  if(status)
    return status;
  return parquet_writer_copy_row_groups(rb->slots[0].writer, reader, first, count, err);
}

/* ---- temp Parquet outputs ---------------------------------------------- */

/* Writes to an output's file go through this much memory: a small upload's
 * spool, diff and current (a few KB each) are then one write() each instead
 * of two per page, and the spool and the txt's copy of current are read
 * back from memory. A 1 GB upload's outputs stream through it in 1 MB
 * writes. */
#define OUTPUT_BUFFER_BYTES (1u << 20)
/* A stored output's file is fsynced when it is stored (local store): the
 * kernel starts writing it out after every this many bytes, so that the
 * fsync of a 100 MB file does not wait for all of it (measured: ~60 ms
 * each for diff, txt and current of a 100 MB upload). */
#define OUTPUT_WRITEBACK_BYTES (8u << 20)

/* The file is made on the first write that reaches it, so an output that
 * stays in its buffer and is never stored (the spool of a small upload)
 * costs no file at all. */
typedef struct output_file {
  int fd;       /* -1 until made */
  store *s;     /* stored outputs: the store that makes the file */
  stream_fd sfd;
  stream_buffer buffered;
  parquet_writer *writer;
  row_buffer buffer;
} output_file;

typedef struct engine {
  store *s;
  const collate_options *options;
  collate_result *result;
  const char *upload_key;
  collate_key key;
  const collate_type *type;
  parquet_schema schema;
  parquet_writer_options writer_options;
  parquet_key_value metadata[1];
  char batch_date[16];
  buf current_key, diff_key, txt_key;
  encoder_thread encoder;
  int rejected; /* the failure being returned is a permanent input error */
} engine;

static void output_init(output_file *o)
{
  memset(o, 0, sizeof(*o));
  o->fd = -1;
}

static void output_close(output_file *o)
{
  row_buffer_free(&o->buffer);
  parquet_writer_free(o->writer);
  o->writer = NULL;
  stream_buffer_free(&o->buffered);
  if(o->fd >= 0)
    close(o->fd);
  o->fd = -1;
}

/* The buffer's inner sink: the output's file, made on first use. */
static cl_status output_file_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  output_file *o = ctx;
  if(o->fd < 0) {
    cl_status status = o->s ? store_temp_fd(o->s, &o->fd, err) : stream_temp_fd(&o->fd, err);
    if(status)
      return status;
    memset(&o->sfd, 0, sizeof(o->sfd));
    o->sfd.fd = o->fd;
    o->sfd.name = "temp output";
    if(o->s && store_syncs_temp_files(o->s))
      o->sfd.writeback_every = OUTPUT_WRITEBACK_BYTES;
  }
  stream_sink sink = stream_sink_to_fd(&o->sfd);
  return sink.write(sink.ctx, data, len, err);
}

/* stored: the file becomes an object (diff, current), so it is made where
 * the store can put it without a copy (the local store links it in). */
static cl_status output_open(engine *e, output_file *o, int stored, cl_error *err)
{
  output_init(o);
  o->s = stored ? e->s : NULL;
  stream_buffer_init(&o->buffered, (stream_sink){output_file_write, o}, OUTPUT_BUFFER_BYTES);
  cl_status status = parquet_writer_create(stream_sink_to_buffer(&o->buffered), &e->schema,
                                           &e->writer_options, &o->writer, err);
  if(status)
    return status;
  return row_buffer_init(&o->buffer, e->type, &e->schema, o->writer, &e->encoder, err);
}

/* Completes the Parquet file. A stored output is then all in its file; the
 * spool stays in memory when it fits (output_whole). */
static cl_status output_finish(output_file *o, uint64_t *size, cl_error *err)
{
  cl_status status = row_buffer_flush(&o->buffer, err);
  if(status)
    return status;
  status = parquet_writer_finish(o->writer, err);
  if(status)
    return status;
  row_buffer_free(&o->buffer);
  size_t held;
  if(o->s || !stream_buffer_whole(&o->buffered, &held)) {
    status = stream_buffer_flush(&o->buffered, err);
    if(status)
      return status;
  }
  *size = stream_buffer_size(&o->buffered);
  return CL_OK;
}

/* A finished output's bytes when they are all still in memory, else NULL. */
static const uint8_t *output_whole(const output_file *o, size_t *len)
{
  return stream_buffer_whole(&o->buffered, len);
}

typedef enum append_mode {
  APPEND_COPY,     /* row groups byte for byte */
  APPEND_REENCODE, /* every row decoded and re-encoded in our schema */
  APPEND_COMPACT   /* large row groups copied, small ones merged */
} append_mode;

static cl_status append_file(output_file *o, history_file *h, append_mode mode,
                             uint64_t *coerced, cl_error *err)
{
  const parquet_file_info *info = parquet_reader_info(h->reader);
  history_batch batch;
  cl_status status = CL_OK;
  history_batch_init(&batch);
  for(size_t rg = 0; rg < info->row_group_count && !status; rg++) {
    /* Large enough to keep: half the rows, or a quarter of the bytes (the
     * encoded size runs below the buffered estimate where dictionaries pay). */
    const parquet_row_group_info *group = &info->row_groups[rg];
    int copy = mode == APPEND_COPY ||
               (mode == APPEND_COMPACT && (group->row_count >= ROW_GROUP_ROWS / 2 ||
                                           group->total_byte_size >= ROW_GROUP_BYTES / 4));
    if(copy) {
      status = row_buffer_copy_row_groups(&o->buffer, h->reader, rg, 1, err);
      continue;
    }
    status = history_read_group(h, rg, HISTORY_ALL_COLUMNS, &batch, err);
    for(size_t r = 0; !status && r < batch.count; r++) {
      collate_row row;
      history_row(&batch, r, &row);
      status = row_buffer_add(&o->buffer, &row, err);
    }
  }
  if(coerced)
    *coerced += batch.coerced_nulls;
  history_batch_free(&batch);
  return status;
}

/* A write conditional on the version read (or its absence), after the
 * test hook. */
static cl_status start_write(engine *e, const char *key, const history_file *previous,
                             store_precondition *pre, cl_error *err)
{
  pre->condition = previous->exists ? STORE_IF_MATCH : STORE_IF_ABSENT;
  pre->etag = previous->exists ? previous->info.etag : NULL;
  if(e->options->hooks.before_write)
    return e->options->hooks.before_write(e->options->hooks.ctx, key, err);
  return CL_OK;
}

/* "DOING KEY: " before a store's failure ("writing", "copying A to"),
 * unless the store already named the object ("file:///root/KEY: rename
 * into place: ..."): then DOING alone, so the message names it once. */
static void prefix_store_failure(const engine *e, const char *doing, const char *key,
                                 cl_error *err)
{
  if(!err)
    return;
  buf name = BUF_INIT;
  buf_printf(&name, "%s/%s", store_name(e->s), key);
  if(!buf_status(&name) && cl_error_after_name(err, name.data)) {
    char said[CL_ERROR_MESSAGE_MAX];
    memcpy(said, err->message, sizeof(said));
    cl_fail(err, err->status, "%s %s", doing, said);
  } else
    cl_error_prefix(err, "%s %s", doing, key);
  buf_free(&name);
}

/* PUT a finished output; written (may be NULL) gets the new version. */
static cl_status put_finished(engine *e, output_file *o, uint64_t size, const char *key,
                              const history_file *previous, store_info *written,
                              cl_error *err)
{
  store_precondition pre;
  cl_status status = start_write(e, key, previous, &pre, err);
  if(!status)
    status = store_put_fd(e->s, key, o->fd, size, &pre, written, err);
  if(status)
    prefix_store_failure(e, "writing", key, err);
  return status;
}

/* The new current as a copy of the diff just put as `diff_etag`, when both
 * are the spool: the store copies it (S3's CopyObject, a link on a local
 * store) rather than this process sending its bytes again. If the copy
 * loses a race, on the diff (a concurrent upload of the day replaced it)
 * or on the current, the spool is put instead, and that put's own
 * condition decides; so is it where the store cannot copy. */
static cl_status put_current_as_diff(engine *e, output_file *spool, uint64_t size,
                                     const char *diff_etag, const history_file *current,
                                     cl_error *err)
{
  const char *key = e->current_key.data;
  store_precondition pre;
  cl_status status = start_write(e, key, current, &pre, err);
  if(!status)
    status = store_copy(e->s, e->diff_key.data, diff_etag, key, &pre, err);
  if(status == CL_ERR_CONFLICT || status == CL_ERR_UNSUPPORTED)
    return put_finished(e, spool, size, key, current, NULL, err);
  if(status) {
    char doing[CL_ERROR_MESSAGE_MAX]; /* no more of it fits the message */
    snprintf(doing, sizeof(doing), "copying %s to", e->diff_key.data);
    prefix_store_failure(e, doing, key, err);
  }
  return status;
}

static cl_status put_output(engine *e, output_file *o, const char *key,
                            const history_file *previous, cl_error *err)
{
  uint64_t size = 0;
  cl_status status = output_finish(o, &size, err);
  if(status)
    return status;
  return put_finished(e, o, size, key, previous, NULL, err);
}

/* ---- one read-modify-write round --------------------------------------- */

/* One row group of a history decoded into a batch; then, when `rendered`
 * is set, its first rows rendered for txt into it until `stop` is set
 * (looked at every TXT_ROWS_PER_TURN rows). Runs in either thread. */
typedef struct group_read {
  history_file *file;
  size_t row_group;
  uint32_t columns;
  history_batch batch;
  const collate_txt *txt;
  collate_txt_batch *rendered;
  size_t rendered_rows;
  atomic_int stop;
} group_read;

static cl_status group_read_run(void *ctx, cl_error *err)
{
  group_read *g = ctx;
  cl_status status = history_read_group(g->file, g->row_group, g->columns, &g->batch, err);
  g->rendered_rows = 0;
  for(size_t r = 0; !status && g->rendered && r < g->batch.count; r++) {
    if(r % TXT_ROWS_PER_TURN == 0 && atomic_load_explicit(&g->stop, memory_order_relaxed))
      break;
    collate_row row;
    history_row(&g->batch, r, &row);
    status = collate_txt_batch_render(g->txt, g->rendered, &row, err);
    g->rendered_rows = r + 1;
  }
  return status;
}

/* Both group_reads of each_row_group over file, decoding columns; with
 * txt, each gets a batch to render rows into. */
static cl_status group_reads_init(group_read reads[2], history_file *file, uint32_t columns,
                                  const collate_txt *txt, cl_error *err)
{
  memset(reads, 0, 2 * sizeof(*reads));
  for(int i = 0; i < 2; i++) {
    reads[i].file = file;
    reads[i].columns = columns;
    reads[i].txt = txt;
    history_batch_init(&reads[i].batch);
  }
  for(int i = 0; txt && i < 2; i++)
    if(!(reads[i].rendered = collate_txt_batch_create()))
      return cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  return CL_OK;
}

static void group_reads_free(group_read reads[2])
{
  for(int i = 0; i < 2; i++) {
    history_batch_free(&reads[i].batch);
    collate_txt_batch_free(reads[i].rendered);
  }
}

typedef cl_status (*group_visitor)(void *ctx, group_read *g, cl_error *err);

/* visit sees every row group of a history in order, decoded into g->batch
 * (its number in g->row_group). With reader, group k + 1 is decoded on
 * that thread (and its first rows rendered, see group_read) while visit
 * has group k; the rendering stops when visit returns. Without, one
 * group_read serves: group k is done with when group k + 1 is read into
 * it. */
static cl_status each_row_group(group_read reads[2], size_t groups, worker *reader,
                                group_visitor visit, void *ctx, cl_error *err)
{
  cl_status status = CL_OK;
  /* The first group renders nothing ahead: there is nothing to overlap. */
  atomic_store_explicit(&reads[0].stop, 1, memory_order_relaxed);
  if(groups)
    status = group_read_run(&reads[0], err);
  for(size_t rg = 0; rg < groups && !status; rg++) {
    group_read *now = &reads[reader ? rg & 1 : 0], *next = &reads[reader ? (rg + 1) & 1 : 0];
    int reading = 0;
    if(reader && rg + 1 < groups) {
      next->row_group = rg + 1;
      atomic_store_explicit(&next->stop, 0, memory_order_relaxed);
      status = worker_submit(reader, group_read_run, next, err);
      reading = !status;
    }
    if(!status)
      status = visit(ctx, now, err);
    if(reading) {
      atomic_store_explicit(&next->stop, 1, memory_order_relaxed);
      cl_status read = worker_wait(reader, status ? NULL : err);
      if(!status)
        status = read;
    } else if(!reader && !status && rg + 1 < groups) {
      next->row_group = rg + 1;
      status = group_read_run(next, err);
    }
  }
  return status;
}

#define COLUMN_BIT(index) (UINT32_C(1) << (index))

/* Rows ahead whose index slot is prefetched: about one memory latency. */
#define INDEX_PREFETCH 8

/* Histories with at least this many row groups decode group k + 1 on the
 * encoder thread while group k's ids go into the unique set: decompressing
 * and decoding are ~20% of loading them, and a second decoded group of
 * five columns costs under 1 MB. */
#define UNIQUE_READ_AHEAD_GROUPS 4

typedef struct unique_load {
  const collate_type *type;
  const char *device_id;
  size_t device_len;
  unique_set *unique;
} unique_load;

static cl_status unique_add_group(void *ctx, group_read *g, cl_error *err)
{
  const unique_load *load = ctx;
  const collate_type *t = load->type;
  unique_set *unique = load->unique;
  history_batch *batch = &g->batch;
  cl_status status = CL_OK;
  for(size_t r = 0; !status && r < batch->count; r++) {
    collate_cell id_cell, hash_cell, ts, deleted, device;
    uint8_t id[ROWID_LEN], row_hash[ROWID_LEN];
    /* A million ids make each index probe a miss to memory: ask for the
     * slot of a row a few ahead while this one is looked up. */
    if(r + INDEX_PREFETCH < batch->count) {
      uint8_t ahead[ROWID_LEN];
      history_cell(batch, (size_t)t->col_id, r + INDEX_PREFETCH, &id_cell);
      rowid_from_cell(&id_cell, ahead);
      __builtin_prefetch(&unique->by_id[rowid_hash(ahead) & unique->id_mask]);
    }
    history_cell(batch, (size_t)t->col_id, r, &id_cell);
    history_cell(batch, (size_t)t->col_row_hash, r, &hash_cell);
    history_cell(batch, (size_t)t->col_ts_updated, r, &ts);
    history_cell(batch, (size_t)t->col_is_deleted, r, &deleted);
    history_cell(batch, (size_t)t->col_device_id, r, &device);
    rowid_from_cell(&id_cell, id);
    rowid_from_cell(&hash_cell, row_hash);
    uint32_t flags = 0;
    if(deleted.type == COLLATE_CELL_INT && deleted.i)
      flags |= ENTRY_DELETED;
    if(device.type == COLLATE_CELL_BYTES && device.len == load->device_len &&
       !memcmp(device.s, load->device_id, load->device_len))
      flags |= ENTRY_THIS_DEVICE;
    status = unique_offer(unique, id, row_hash,
                          ts.type == COLLATE_CELL_TIMESTAMP ? ts.i : INT64_MIN,
                          (uint32_t)g->row_group, (uint32_t)r, flags, err);
  }
  return status;
}

static cl_status load_unique_set(engine *e, history_file *current, unique_set *unique,
                                 cl_error *err)
{
  const collate_type *t = e->type;
  uint32_t columns = COLUMN_BIT(t->col_id) | COLUMN_BIT(t->col_row_hash) |
                     COLUMN_BIT(t->col_ts_updated) | COLUMN_BIT(t->col_is_deleted) |
                     COLUMN_BIT(t->col_device_id);
  unique_load load = {t, e->key.device_id, strlen(e->key.device_id), unique};
  group_read reads[2];
  size_t groups = history_row_group_count(current);
  worker *reader = groups >= UNIQUE_READ_AHEAD_GROUPS ? encoder_thread_get(&e->encoder) : NULL;
  cl_status status = group_reads_init(reads, current, columns, NULL, err);
  if(!status && !unique->count)
    status = unique_reserve(unique, (size_t)history_row_count(current), err);
  if(!status)
    status = each_row_group(reads, groups, reader, unique_add_group, &load, err);
  group_reads_free(reads);
  if(!status)
    status = unique_index_hashes(unique, err);
  return status;
}

typedef struct upload_reader {
  store_reader *raw;
  upload_source *source;
  json_reader *json;
  json_arena *arena;
} upload_reader;

static void upload_reader_close(upload_reader *u)
{
  json_reader_free(u->json);
  upload_source_free(u->source);
  store_reader_free(u->raw);
  json_arena_free(u->arena);
  memset(u, 0, sizeof(*u));
}

/* A failure of the upload's content (not of the store) rejects the file. */
static cl_status upload_failure(engine *e, cl_status status)
{
  if(status == CL_ERR_FORMAT || status == CL_ERR_LIMIT || status == CL_ERR_UNSUPPORTED ||
     status == CL_ERR_NOT_FOUND)
    e->rejected = 1;
  return status;
}

/* *size: the stored size of the upload (compressed when gzip). */
static cl_status upload_open(engine *e, upload_reader *u, uint64_t *size, cl_error *err)
{
  store_info info;
  json_limits limits;
  cl_status status = store_reader_open(e->s, e->upload_key, &u->raw, &info, err);
  if(status) {
    if(status == CL_ERR_NOT_FOUND)
      cl_fail(err, status, "upload not found");
    /* A key the store cannot hold at all (the local store's reserved names)
     * will never be readable: retrying it would only loop. */
    if(status == CL_ERR_USAGE)
      e->rejected = 1;
    return upload_failure(e, status);
  }
  *size = info.size;
  status = upload_source_create(store_reader_source(u->raw),
                                e->options->limits.max_upload_bytes, &u->source, err);
  if(status)
    return status;
  json_limits_default(&limits);
  if(e->options->limits.max_depth)
    limits.max_depth = e->options->limits.max_depth;
  if(e->options->limits.max_string_bytes)
    limits.max_string = e->options->limits.max_string_bytes;
  u->json = json_reader_create(upload_source_stream(u->source), &limits);
  /* No cap on the arena as a whole: it holds a batch of entries (see
   * build_spool), and the reader still gives each entry max_value_bytes. */
  u->arena = json_arena_create(0);
  if(!u->json || !u->arena)
    return cl_fail(err, CL_ERR_NOMEM, "upload reader: out of memory");
  status = json_reader_begin_array(u->json, err);
  return status ? upload_failure(e, status) : CL_OK;
}

typedef struct deletion {
  uint32_t row_group, row;
  size_t ordinal;
} deletion;

static int deletion_by_location(const void *a, const void *b)
{
  const deletion *x = a, *y = b;
  if(x->row_group != y->row_group)
    return x->row_group < y->row_group ? -1 : 1;
  if(x->row != y->row)
    return x->row < y->row ? -1 : 1;
  return 0;
}

/* Deletions whose rows are held at once: each batch reads the row groups
 * it needs, so memory stays bounded (~10 MB) however much a snapshot drops,
 * and only a device dropping more than this re-reads groups. */
#define DELETION_BATCH 16384

/* Deletion markers (legacy §3.4) appended to the spool in unique-set order.
 * Only the rows being deleted are read in full. */
static cl_status append_deletions(engine *e, history_file *current, const unique_set *unique,
                                  row_buffer *spool, cl_error *err)
{
  const collate_type *t = e->type;
  size_t count = 0;
  for(size_t i = 0; i < unique->count; i++) {
    uint32_t f = unique->entries[i].flags;
    if(!(f & ENTRY_DELETED) && (f & ENTRY_THIS_DEVICE) && !(f & ENTRY_SEEN))
      count++;
  }
  if(!count)
    return CL_OK;
  size_t batch_max = count < DELETION_BATCH ? count : DELETION_BATCH;
  deletion *list = malloc(count * sizeof(*list));
  collate_row *rows = malloc(batch_max * sizeof(*rows));
  collate_scratch *scratch = collate_scratch_create();
  history_batch batch;
  cl_status status = CL_OK;
  history_batch_init(&batch);
  if(!list || !rows || !scratch)
    status = cl_fail(err, CL_ERR_NOMEM, "%zu deletions: out of memory", count);
  size_t n = 0;
  for(size_t i = 0; !status && i < unique->count; i++) {
    const unique_entry *u = &unique->entries[i];
    if(!(u->flags & ENTRY_DELETED) && (u->flags & ENTRY_THIS_DEVICE) &&
       !(u->flags & ENTRY_SEEN)) {
      list[n].row_group = u->row_group;
      list[n].row = u->row;
      list[n].ordinal = n;
      n++;
    }
  }
  for(size_t first = 0; !status && first < count; first += batch_max) {
    size_t size = count - first < batch_max ? count - first : batch_max;
    deletion *part = list + first;
    qsort(part, size, sizeof(*part), deletion_by_location);
    collate_scratch_reset(scratch);
    for(size_t i = 0; !status && i < size;) {
      uint32_t rg = part[i].row_group;
      status = history_read_group(current, rg, HISTORY_ALL_COLUMNS, &batch, err);
      for(; !status && i < size && part[i].row_group == rg; i++) {
        collate_row *dst = &rows[part[i].ordinal - first];
        history_row(&batch, part[i].row, dst);
        for(size_t c = 0; c < t->column_count && !status; c++)
          if(dst->cells[c].type == COLLATE_CELL_BYTES) {
            dst->cells[c].s = collate_scratch_copy(scratch, dst->cells[c].s, dst->cells[c].len);
            if(!dst->cells[c].s)
              status = cl_fail(err, CL_ERR_NOMEM, "deletions: out of memory");
          }
        if(!status)
          status = collate_row_mark_deleted(t, dst, scratch);
        dst->cells[t->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
        dst->cells[t->col_ts_updated].i = e->options->now_micros;
      }
    }
    for(size_t i = 0; !status && i < size; i++)
      status = row_buffer_add(spool, &rows[i], err);
  }
  if(!status)
    e->result->deleted_rows = count;
  history_batch_free(&batch);
  collate_scratch_free(scratch);
  free(rows);
  free(list);
  return status;
}

/* A batch of entries ends early once it has read this much JSON: the arena
 * then holds a few MB at most besides the last entry (whose own budget is
 * max_value_bytes), however large the entries. Real entries are ~250
 * bytes, so batches are full. */
#define BATCH_INPUT_BYTES ((uint64_t)64 * 1024)

/* A rejected entry of a snapshot upload is still on the device: when its
 * id can be made, its row is seen, not deleted (the legacy failed the whole
 * upload and deleted nothing). */
static cl_status keep_rejected_entry(engine *e, const collate_type *t, const json_value *entry,
                                     collate_scratch *scratch, unique_set *unique, cl_error *err)
{
  char hex[33];
  int has_id;
  cl_status status = collate_rejected_entry_id(t, entry, e->key.user_id, e->key.device_id,
                                               scratch, hex, &has_id);
  if(status)
    return cl_fail(err, status, "rejected entry: out of memory");
  if(!has_id)
    return CL_OK;
  uint8_t id[ROWID_LEN];
  collate_cell cell = {.type = COLLATE_CELL_BYTES, .s = hex, .len = 32};
  rowid_from_cell(&cell, id);
  long found = unique_find(unique, id);
  if(found >= 0)
    unique->entries[found].flags |= ENTRY_SEEN;
  return CL_OK;
}

/* Stream the upload into the spool: new or changed rows, then deletions. */
static cl_status build_spool(engine *e, history_file *current, unique_set *unique,
                             output_file *spool, cl_error *err)
{
  const collate_type *t = e->type;
  collate_result *result = e->result;
  upload_reader upload;
  id_set upload_ids;
  collate_scratch *scratch = collate_scratch_create();
  uint64_t entries = 0, upload_bytes = 0;
  memset(&upload, 0, sizeof(upload));
  memset(&upload_ids, 0, sizeof(upload_ids));
  cl_status status = scratch ? CL_OK : cl_fail(err, CL_ERR_NOMEM, "out of memory");
  if(!status)
    status = upload_open(e, &upload, &upload_bytes, err);
  /* Sized once from the upload: growing copies the set, and the copy would
   * double its peak (measured: 1 GB gzip 135 MB against 77 MB plain). An
   * sms entry is ~250 bytes of JSON, which gzip shrinks about 4x; never
   * more than the limit on what a gzip upload may expand to. */
  if(!status) {
    uint64_t raw = upload_bytes;
    if(upload_source_is_gzip(upload.source)) {
      raw = upload_bytes > UINT64_MAX / GZIP_RATIO_GUESS ? UINT64_MAX
                                                          : upload_bytes * GZIP_RATIO_GUESS;
      if(e->options->limits.max_upload_bytes && raw > e->options->limits.max_upload_bytes)
        raw = e->options->limits.max_upload_bytes;
    }
    status = id_set_reserve(&upload_ids, (size_t)(raw / 256), err);
  }
  /* Entries are parsed, converted and appended a batch at a time, so that
   * their md5s are computed side by side (collate_entries_to_rows); the
   * arena and scratch hold one batch. A failure to read entry k (or the
   * entry limit) is reported after the entries before it are appended, as
   * when they went one by one. */
  const json_value *items[COLLATE_BATCH_MAX];
  uint64_t numbers[COLLATE_BATCH_MAX];
  collate_row rows[COLLATE_BATCH_MAX];
  collate_entry_outcome outcomes[COLLATE_BATCH_MAX];
  uint8_t ids[COLLATE_BATCH_MAX][ROWID_LEN], row_hashes[COLLATE_BATCH_MAX][ROWID_LEN];
  int upload_done = 0;
  while(!status && !upload_done) {
    cl_status read_status = CL_OK;
    size_t n = 0;
    uint64_t batch_start = json_reader_offset(upload.json);
    json_arena_reset(upload.arena);
    collate_scratch_reset(scratch);
    while(n < COLLATE_BATCH_MAX &&
          json_reader_offset(upload.json) - batch_start < BATCH_INPUT_BYTES) {
      json_value *item = NULL;
      read_status = json_reader_next(upload.json, upload.arena, &item, err);
      if(read_status) {
        upload_failure(e, read_status);
        break;
      }
      if(!item) {
        upload_done = 1;
        break;
      }
      if(e->options->limits.max_entries && ++entries > e->options->limits.max_entries) {
        e->rejected = 1;
        read_status = cl_fail(err, CL_ERR_LIMIT, "more than %" PRIu64 " entries",
                              e->options->limits.max_entries);
        break;
      }
      items[n] = item;
      numbers[n++] = entries;
    }
    if(n) {
      size_t failed = 0;
      status = collate_entries_to_rows(t, n, items, e->key.user_id, e->key.device_id, scratch,
                                       rows, outcomes, &failed);
      if(status) {
        cl_fail(err, status, "entry %" PRIu64 ": out of memory", numbers[failed]);
        break;
      }
    }
    /* Every lookup below is a cache miss into a table of up to millions
     * of slots: the whole batch's slots are requested before the first. */
    for(size_t i = 0; !status && i < n; i++) {
      if(outcomes[i].rejected)
        continue;
      rowid_from_cell(&rows[i].cells[t->col_id], ids[i]);
      rowid_from_cell(&rows[i].cells[t->col_row_hash], row_hashes[i]);
      unique_prefetch(unique, ids[i], row_hashes[i]);
      id_set_prefetch(&upload_ids, ids[i]);
    }
    for(size_t i = 0; !status && i < n; i++) {
      collate_row *row = &rows[i];
      const uint8_t *id = ids[i], *row_hash = row_hashes[i];
      result->coerced_nulls += outcomes[i].coerced_nulls;
      if(outcomes[i].rejected) {
        result->rejected_entries++;
        if(t->detects_deletions)
          status = keep_rejected_entry(e, t, items[i], scratch, unique, err);
        continue;
      }
      long found = unique_find(unique, id);
      if(found >= 0)
        unique->entries[found].flags |= ENTRY_SEEN;
      int added = 0;
      status = id_set_add(&upload_ids, id, &added, err);
      if(status)
        break;
      if(!added) {
        result->duplicate_entries++;
        continue;
      }
      if(unique_has_hash(unique, row_hash))
        continue;
      row->cells[t->col_ts_updated].type = COLLATE_CELL_TIMESTAMP;
      row->cells[t->col_ts_updated].i = e->options->now_micros;
      /* Legacy §3.5 step 2: only rows appended now can be in the future
       * relative to their ts_updated; id and row_hash keep the raw datetime. */
      if(t->clamps_future_datetime && t->col_datetime >= 0) {
        collate_cell *dt = &row->cells[t->col_datetime];
        if(dt->type == COLLATE_CELL_TIMESTAMP && dt->i > e->options->now_micros)
          dt->i = e->options->now_micros;
      }
      status = row_buffer_add(&spool->buffer, row, err);
      if(!status)
        result->new_rows++;
    }
    if(!status)
      status = read_status;
  }
  if(!status) {
    result->bytes_read += upload_source_bytes_in(upload.source);
    if(t->detects_deletions)
      status = append_deletions(e, current, unique, &spool->buffer, err);
  }
  upload_reader_close(&upload);
  id_set_free(&upload_ids);
  collate_scratch_free(scratch);
  return status;
}

/* The finished spool opened to be read back: from memory when it fits, else
 * from its file, whose descriptor a stored spool keeps for its puts. */
static cl_status spool_open(engine *e, output_file *spool, int stored, history_file *out,
                            cl_error *err)
{
  size_t whole_len = 0;
  const uint8_t *whole = output_whole(spool, &whole_len);
  if(whole) {
    /* Borrows the spool's buffer: out is closed before spool. */
    return history_open_memory(whole, whole_len, "spool of new rows", e->type, &e->schema,
                               out, err);
  }
  int fd = stored ? dup(spool->fd) : spool->fd;
  if(fd < 0)
    return cl_fail(err, CL_ERR_IO, "spool of new rows: dup: %s", strerror(errno));
  if(!stored)
    spool->fd = -1; /* taken by out */
  return history_open_fd(fd, "spool of new rows", e->type, &e->schema, out, err);
}

/* The day's diff (`diff`, as fetched): old rows, then each spooled row
 * unless the diff's latest row of its id already has its row_hash (a
 * replay). */
static cl_status write_diff(engine *e, history_file *diff, history_file *spool, cl_error *err)
{
  const collate_type *t = e->type;
  unique_set latest;
  output_file out;
  history_batch batch;
  uint64_t appended = 0;
  cl_status status = CL_OK;
  memset(&latest, 0, sizeof(latest));
  output_init(&out);
  history_batch_init(&batch);
  if(diff->exists) {
    uint32_t columns = COLUMN_BIT(t->col_id) | COLUMN_BIT(t->col_row_hash) |
                       COLUMN_BIT(t->col_ts_updated);
    size_t groups = history_row_group_count(diff);
    for(size_t rg = 0; rg < groups && !status; rg++) {
      status = history_read_group(diff, rg, columns, &batch, err);
      for(size_t r = 0; !status && r < batch.count; r++) {
        uint8_t id[ROWID_LEN], row_hash[ROWID_LEN];
        collate_cell id_cell, hash_cell, ts;
        history_cell(&batch, (size_t)t->col_id, r, &id_cell);
        history_cell(&batch, (size_t)t->col_row_hash, r, &hash_cell);
        history_cell(&batch, (size_t)t->col_ts_updated, r, &ts);
        rowid_from_cell(&id_cell, id);
        rowid_from_cell(&hash_cell, row_hash);
        status = unique_offer(&latest, id, row_hash,
                              ts.type == COLLATE_CELL_TIMESTAMP ? ts.i : INT64_MIN,
                              (uint32_t)rg, (uint32_t)r, 0, err);
      }
    }
  }
  if(!status)
    status = output_open(e, &out, 1, err);
  if(!status && diff->exists) {
    int compact = history_row_group_count(diff) > COMPACT_ROW_GROUPS;
    status = append_file(&out, diff, diff->exact ? (compact ? APPEND_COMPACT : APPEND_COPY)
                                                  : APPEND_REENCODE, NULL, err);
  }
  size_t groups = history_row_group_count(spool);
  for(size_t rg = 0; rg < groups && !status; rg++) {
    /* A spool group none of whose rows is a replay, starting a row group of
     * the output, encodes to the same bytes as the spool's: copy it rather
     * than decode and re-encode every column. */
    if(!row_buffer_count(&out.buffer)) {
      int replays = 0;
      if(latest.count) {
        status = history_read_group(spool, rg, COLUMN_BIT(t->col_id) |
                                    COLUMN_BIT(t->col_row_hash), &batch, err);
        for(size_t r = 0; !status && r < batch.count && !replays; r++) {
          uint8_t id[ROWID_LEN], row_hash[ROWID_LEN];
          collate_cell id_cell, hash_cell;
          history_cell(&batch, (size_t)t->col_id, r, &id_cell);
          history_cell(&batch, (size_t)t->col_row_hash, r, &hash_cell);
          rowid_from_cell(&id_cell, id);
          rowid_from_cell(&hash_cell, row_hash);
          long found = unique_find(&latest, id);
          replays = found >= 0 && !memcmp(latest.entries[found].row_hash, row_hash, ROWID_LEN);
        }
      }
      if(!status && !replays) {
        status = row_buffer_copy_row_groups(&out.buffer, spool->reader, rg, 1, err);
        appended += parquet_reader_info(spool->reader)->row_groups[rg].row_count;
        continue;
      }
    }
    if(!status)
      status = history_read_group(spool, rg, HISTORY_ALL_COLUMNS, &batch, err);
    for(size_t r = 0; !status && r < batch.count; r++) {
      uint8_t id[ROWID_LEN], row_hash[ROWID_LEN];
      collate_row row;
      history_row(&batch, r, &row);
      rowid_from_cell(&row.cells[t->col_id], id);
      rowid_from_cell(&row.cells[t->col_row_hash], row_hash);
      long found = unique_find(&latest, id);
      if(found >= 0 && !memcmp(latest.entries[found].row_hash, row_hash, ROWID_LEN))
        continue;
      status = row_buffer_add(&out.buffer, &row, err);
      appended++;
    }
  }
  if(!status && appended)
    status = put_output(e, &out, e->diff_key.data, diff, err);
  output_close(&out);
  history_batch_free(&batch);
  unique_free(&latest);
  return status;
}

/* The new current file into out, finished but not yet written: the txt is
 * built from it first. */
static cl_status build_current(engine *e, history_file *current, history_file *spool,
                               output_file *out, uint64_t *size, cl_error *err)
{
  size_t groups = history_row_group_count(current) + history_row_group_count(spool);
  int compact = groups > COMPACT_ROW_GROUPS;
  cl_status status = output_open(e, out, 1, err);
  if(!status && current->exists)
    status = append_file(out, current, current->exact ? (compact ? APPEND_COMPACT : APPEND_COPY)
                                                      : APPEND_REENCODE,
                         &e->result->coerced_nulls, err);
  if(!status)
    status = append_file(out, spool, compact ? APPEND_COMPACT : APPEND_COPY, NULL, err);
  if(!status)
    status = output_finish(out, size, err);
  return status;
}

/* Row groups a new current needs before its txt decodes one ahead: more
 * memory at the peak (a second decoded group, ~5 MB of SMS, and up to two
 * groups' rendered rows, ~3 MB each), which a 10 MB upload onto a 100k-row
 * history (14 groups, read back in ~0.1 s) cannot afford under its 32 MB
 * and a 1M-row one (~100 groups) can. */
#define TXT_READ_AHEAD_GROUPS 32

/* A decoded group of the new current into txt: the rows rendered ahead,
 * then the rest, rendered here. */
static cl_status txt_add_group(void *ctx, group_read *g, cl_error *err)
{
  collate_txt *txt = ctx;
  cl_status status = CL_OK;
  if(g->rendered)
    status = collate_txt_add_batch(txt, g->rendered, err);
  for(size_t r = g->rendered_rows; r < g->batch.count && !status; r++) {
    collate_row row;
    history_row(&g->batch, r, &row);
    status = collate_txt_add_row(txt, &row, err);
  }
  return status;
}

/* Every row of the new current into txt, read back from written. */
static cl_status txt_add_current(engine *e, collate_txt *txt, output_file *written,
                                 cl_error *err)
{
  history_file current;
  group_read reads[2];
  memset(reads, 0, sizeof(reads));
  memset(&current, 0, sizeof(current));
  current.fd = -1;
  cl_status status = CL_OK;
  /* The new current is read back from memory when it is small, else from
   * its file (a descriptor of our own: history_close closes it). */
  size_t whole_len = 0;
  const uint8_t *whole = output_whole(written, &whole_len);
  if(whole) {
    status = history_open_memory(whole, whole_len, e->current_key.data, e->type, &e->schema,
                                 &current, err);
  } else {
    int fd = dup(written->fd);
    if(fd < 0)
      status = cl_fail(err, CL_ERR_IO, "txt: dup: %s", strerror(errno));
    else
      status = history_open_fd(fd, e->current_key.data, e->type, &e->schema, &current, err);
  }
  if(!status)
    collate_txt_reserve(txt, history_row_count(&current));
  size_t groups = status ? 0 : history_row_group_count(&current);
  uint32_t columns = collate_txt_columns(txt);
  /* Once the history is long enough for a second decoded group and two
   * groups' rendered rows to pay (TXT_READ_AHEAD_GROUPS), row group k + 1
   * is decoded on the encoder thread and its first rows rendered there,
   * while this thread adds row group k to the txt: the rows rendered there,
   * then the rest, rendered here. When this thread is done with group k,
   * the encoder stops rendering: the rendering (~60% of the work with the
   * decoding) is shared as the two threads' speeds allow. */
  worker *reader = groups >= TXT_READ_AHEAD_GROUPS ? encoder_thread_get(&e->encoder) : NULL;
  if(!status)
    status = group_reads_init(reads, &current, columns, reader ? txt : NULL, err);
  if(!status)
    status = each_row_group(reads, groups, reader, txt_add_group, txt, err);
  group_reads_free(reads);
  history_close(&current);
  return status;
}

/* The txt of all rows added, rendered into a temp file (an sms txt is
 * about as large as the history) and then stored. */
typedef struct txt_output {
  store *s;
  collate_txt *txt;
  worker *helper; /* idle while the txt renders, or NULL */
  stream_fd text;
} txt_output;

static void txt_output_init(txt_output *t, engine *e, collate_txt *txt)
{
  memset(t, 0, sizeof(*t));
  t->s = e->s;
  t->txt = txt;
  t->text.fd = -1;
  t->text.name = "txt temp file";
  if(store_syncs_temp_files(e->s))
    t->text.writeback_every = OUTPUT_WRITEBACK_BYTES;
}

/* Runs in either thread: it touches only the txt and its own file. */
static cl_status txt_output_render(void *ctx, cl_error *err)
{
  txt_output *t = ctx;
  cl_status status = store_temp_fd(t->s, &t->text.fd, err);
  if(status)
    return status;
  return collate_txt_finish_to(t->txt, stream_sink_to_fd(&t->text), t->helper, err);
}

static cl_status txt_output_store(engine *e, txt_output *t, cl_error *err)
{
  store_precondition always = {STORE_ALWAYS, NULL};
  cl_status status = store_put_fd(e->s, e->txt_key.data, t->text.fd, t->text.written, &always,
                                  NULL, err);
  if(status)
    prefix_store_failure(e, "writing", e->txt_key.data, err);
  return status;
}

static void txt_output_close(txt_output *t)
{
  if(t->text.fd >= 0)
    close(t->text.fd);
  t->text.fd = -1;
}

static cl_status attempt(engine *e, cl_error *err)
{
  collate_result *r = e->result;
  history_file current, diff, spool_file;
  unique_set unique;
  output_file spool, written;
  collate_txt *txt = NULL;
  txt_output text;
  memset(&unique, 0, sizeof(unique));
  output_init(&spool);
  output_init(&written);
  memset(&spool_file, 0, sizeof(spool_file));
  spool_file.fd = -1;
  memset(&diff, 0, sizeof(diff));
  diff.fd = -1;
  r->history_rows = r->unique_rows = r->new_rows = r->deleted_rows = 0;
  r->rejected_entries = r->coerced_nulls = r->duplicate_entries = r->total_rows = 0;

  cl_status status = history_fetch(e->s, e->current_key.data, e->type, &e->schema, &current,
                                   err);
  if(!status && current.exists) {
    r->history_rows = history_row_count(&current);
    if(e->options->limits.max_history_rows &&
       r->history_rows > e->options->limits.max_history_rows) {
      /* Permanent until an operator acts: a retry would hit it again. */
      e->rejected = 1;
      status = cl_fail(err, CL_ERR_LIMIT, "%s: %" PRIu64 " rows, over the limit of %" PRIu64,
                       e->current_key.data, r->history_rows,
                       e->options->limits.max_history_rows);
    }
    if(!status)
      status = load_unique_set(e, &current, &unique, err);
    r->unique_rows = unique.count;
  }
  if(!status && e->options->write_txt) {
    txt = collate_txt_create(e->type, e->key.device_id);
    if(!txt)
      status = cl_fail(err, CL_ERR_NOMEM, "txt: out of memory");
  }
  txt_output_init(&text, e, txt);
  /* With no history the new current is the spool, and so is the diff when
   * the day has none yet: the spool is then made as a stored output, put
   * as it is, and its rows go to the txt as they are written. */
  int spool_is_current = !current.exists;
  if(!status)
    status = output_open(e, &spool, spool_is_current, err);
  if(!status && txt && spool_is_current)
    row_buffer_feed_txt(&spool.buffer, txt);
  if(!status)
    status = build_spool(e, &current, &unique, &spool, err);
  unique_free(&unique);
  if(!status && (r->new_rows || r->deleted_rows)) {
    uint64_t spool_size = 0;
    store_info spool_as_diff = {0}; /* the diff when that is the spool */
    status = output_finish(&spool, &spool_size, err);
    if(!status)
      status = history_fetch(e->s, e->diff_key.data, e->type, &e->schema, &diff, err);
    /* With no diff yet, a first upload's diff is every spooled row in the
     * spool's own row groups: the spool is put as it is, and not read back. */
    if(!status && spool_is_current && !diff.exists) {
      status = put_finished(e, &spool, spool_size, e->diff_key.data, &diff, &spool_as_diff,
                            err);
    } else if(!status) {
      status = spool_open(e, &spool, spool_is_current, &spool_file, err);
      if(!status)
        status = write_diff(e, &diff, &spool_file, err);
    }
    history_close(&diff);
    /* diff, txt, then current: whether an upload is new is decided against
     * current, so everything written before it is redone by a replay after
     * a crash at any point (design.md item 4), the txt included. */
    output_file *new_current = &spool;
    uint64_t size = spool_size;
    if(!status && !spool_is_current) {
      new_current = &written;
      status = build_current(e, &current, &spool_file, &written, &size, err);
      if(!status && txt)
        status = txt_add_current(e, txt, &written, err);
    }
    /* The encoder thread, when the upload or the history was large enough
     * to start it, has nothing else to do now: the txt's runs merge on both
     * threads. */
    text.helper = e->encoder.thread;
    if(!status && txt)
      status = txt_output_render(&text, err);
    if(!status && txt)
      status = txt_output_store(e, &text, err);
    if(!status && spool_as_diff.etag[0] && size <= STORE_COPY_MAX_BYTES)
      status = put_current_as_diff(e, &spool, size, spool_as_diff.etag, &current, err);
    else if(!status)
      status = put_finished(e, new_current, size, e->current_key.data, &current, NULL, err);
    r->total_rows = r->history_rows + r->new_rows + r->deleted_rows;
  } else if(!status)
    r->total_rows = r->history_rows;
  txt_output_close(&text);
  history_close(&spool_file);
  output_close(&spool);
  output_close(&written);
  collate_txt_free(txt);
  history_close(&current);
  return status;
}

/* ---- entry point -------------------------------------------------------- */

static void backoff(unsigned attempt)
{
  /* Per thread: backfill workers collate concurrently, and a shared state
   * would be a data race; the stack address differs per thread, so workers
   * that conflict with each other do not back off in lockstep. */
  static _Thread_local uint64_t rng;
  if(!rng)
    rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&attempt;
  if(!rng)
    rng = 0x9e3779b97f4a7c15u;
  uint64_t ms = retry_backoff_ms(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS, &rng);
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static cl_status write_rejected_record(engine *e, const char *reason, cl_status why,
                                       cl_error *err)
{
  buf key = BUF_INIT, body = BUF_INIT;
  char ts[40];
  utc_format_iso8601(e->options->now_micros, ts, sizeof(ts));
  cl_status status = collate_key_rejected(e->upload_key, strlen(e->upload_key),
                                         e->options->now_micros, &key);
  buf_append_str(&body, "{\"key\": ");
  json_write_string(&body, e->upload_key, strlen(e->upload_key), 1);
  buf_append_str(&body, ", \"reason\": ");
  json_write_string(&body, reason, strlen(reason), 1);
  buf_printf(&body, ", \"status\": \"%s\", \"ts\": \"%s\"}", cl_status_name(why), ts);
  if(!status)
    status = buf_status(&body);
  if(status)
    cl_fail(err, status, "rejected record: out of memory");
  else {
    store_precondition always = {STORE_ALWAYS, NULL};
    status = store_put(e->s, key.data, body.data, body.len, &always, NULL, err);
    if(status)
      prefix_store_failure(e, "writing", key.data, err);
  }
  buf_free(&key);
  buf_free(&body);
  return status;
}

static void set_reason(collate_result *result, const char *message)
{
  snprintf(result->reason, sizeof(result->reason), "%s", message);
}

cl_status collate_upload(store *s, const char *key, const collate_options *options,
                         collate_result *result, cl_error *err)
{
  engine e;
  cl_error local;
  store_stats before, after;
  double started = utc_monotonic_seconds();
  cl_status status;

  memset(&e, 0, sizeof(e));
  memset(result, 0, sizeof(*result));
  cl_error_clear(&local);
  if(!err)
    err = &local;
  e.s = s;
  e.options = options;
  e.result = result;
  e.upload_key = key;
  e.encoder.allowed = options->threads >= 2;
  store_get_stats(s, &before);

  status = collate_key_parse(key, strlen(key), &e.key, err);
  if(status) {
    e.rejected = 1;
  } else {
    snprintf(result->user_id, sizeof(result->user_id), "%s", e.key.user_text);
    snprintf(result->device_id, sizeof(result->device_id), "%s", e.key.device_id);
    snprintf(result->log_type, sizeof(result->log_type), "%s", e.key.log_type);
    e.type = collate_type_find(e.key.log_type);
    if(!e.type) {
      e.rejected = 1;
      status = cl_fail(err, CL_ERR_FORMAT, "unexpected log type '%s'", e.key.log_type);
    }
  }
  if(!status)
    status = history_schema_create(e.type, options->timestamp_micros, &e.schema, err);
  if(!status) {
    parquet_writer_options_default(&e.writer_options);
    e.writer_options.codec = options->codec;
    e.metadata[0].key = "collator.version";
    e.metadata[0].value = COLLATOR_VERSION;
    e.writer_options.metadata = e.metadata;
    e.writer_options.metadata_count = 1;
    collate_batch_date(options->now_micros, e.batch_date);
    collate_key_current(&e.key, &e.current_key);
    collate_key_diff(&e.key, e.batch_date, &e.diff_key);
    collate_key_txt(&e.key, &e.txt_key);
    if(buf_status(&e.current_key) || buf_status(&e.diff_key) || buf_status(&e.txt_key))
      status = cl_fail(err, CL_ERR_NOMEM, "output keys: out of memory");
  }
  unsigned max_attempts = options->max_attempts ? options->max_attempts : DEFAULT_MAX_ATTEMPTS;
  while(!status || (status == CL_ERR_CONFLICT && !e.rejected)) {
    if(result->attempts >= max_attempts)
      break;
    if(result->attempts)
      backoff((unsigned)result->attempts);
    result->attempts++;
    e.rejected = 0;
    cl_error_clear(err);
    status = attempt(&e, err);
    if(status != CL_ERR_CONFLICT)
      break;
  }

  if(status && e.rejected) {
    cl_status why = status;
    set_reason(result, err->message);
    result->outcome = COLLATE_REJECTED;
    status = write_rejected_record(&e, result->reason, why, err);
    if(status) {
      result->outcome = COLLATE_FAILED;
      set_reason(result, err->message);
    }
  } else if(status) {
    result->outcome = COLLATE_FAILED;
    set_reason(result, err->message);
  } else
    result->outcome = result->new_rows || result->deleted_rows ? COLLATE_UPDATED
                                                               : COLLATE_UNCHANGED;
  /* Rows counted before a rejection or failure were never committed; the
   * log line and the NewRows metric must not report them. */
  if(result->outcome == COLLATE_REJECTED || result->outcome == COLLATE_FAILED)
    result->new_rows = result->deleted_rows = 0;
  store_get_stats(s, &after);
  result->bytes_read = after.bytes_read - before.bytes_read;
  result->bytes_written = after.bytes_written - before.bytes_written;
  result->seconds = utc_monotonic_seconds() - started;
  worker_free(e.encoder.thread);
  history_schema_free(&e.schema);
  buf_free(&e.current_key);
  buf_free(&e.diff_key);
  buf_free(&e.txt_key);
  return status;
}

/* ---- options and the log line ------------------------------------------ */

cl_status collate_options_from_env(collate_options *options, cl_error *err)
{
  uint64_t v;
  cl_status status;
  memset(options, 0, sizeof(*options));
  options->now_micros = utc_now_micros();
  options->codec = PARQUET_CODEC_SNAPPY;

  status = env_u64("COLLATOR_MAX_UPLOAD_BYTES", UINT64_C(2) << 30,
                   &options->limits.max_upload_bytes, err);
  if(!status)
    status = env_u64("COLLATOR_MAX_ENTRIES", 0, &options->limits.max_entries, err);
  if(!status)
    status = env_u64("COLLATOR_MAX_HISTORY_ROWS", 0, &options->limits.max_history_rows, err);
  if(!status)
    status = env_u64("COLLATOR_MAX_STRING_BYTES", 16u << 20, &v, err);
  if(status)
    return status;
  options->limits.max_string_bytes = (size_t)v;
  status = env_u64("COLLATOR_MAX_JSON_DEPTH", 64, &v, err);
  if(status)
    return status;
  options->limits.max_depth = (size_t)v;
  status = env_u64("COLLATOR_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, &v, err);
  if(status)
    return status;
  options->max_attempts = v ? (unsigned)v : 1;
  status = env_u64("COLLATOR_THREADS", worker_available_cpus() >= 2 ? 2 : 1, &v, err);
  if(status)
    return status;
  if(v < 1 || v > 2)
    return cl_fail(err, CL_ERR_USAGE, "COLLATOR_THREADS=%" PRIu64 ": expected 1 or 2", v);
  options->threads = (unsigned)v;

  const char *write_txt = getenv("WRITE_TXT");
  options->write_txt = 1;
  if(write_txt) {
    /* Python's value.lower() == "true". */
    options->write_txt = strlen(write_txt) == 4 && !strncasecmp(write_txt, "true", 4);
  }
  const char *ts = getenv("COLLATOR_TIMESTAMP");
  if(ts && *ts) {
    if(!strcmp(ts, "micros"))
      options->timestamp_micros = 1;
    else if(strcmp(ts, "int96"))
      return cl_fail(err, CL_ERR_USAGE, "COLLATOR_TIMESTAMP=%s: expected int96 or micros", ts);
  }
  const char *codec = getenv("COLLATOR_COMPRESSION");
  if(codec && *codec) {
    status = parquet_codec_from_name(codec, &options->codec, err);
    if(status) {
      cl_error_prefix(err, "COLLATOR_COMPRESSION");
      return status;
    }
  }
  return CL_OK;
}

const char *collate_outcome_name(collate_outcome outcome)
{
  switch(outcome) {
  case COLLATE_UPDATED: return "updated";
  case COLLATE_UNCHANGED: return "unchanged";
  case COLLATE_REJECTED: return "rejected";
  case COLLATE_FAILED: return "failed";
  }
  return "unknown";
}

static void json_field_string(buf *out, const char *name, const char *value)
{
  buf_printf(out, ", \"%s\": ", name);
  if(value)
    json_write_string(out, value, strlen(value), 1);
  else
    buf_append_str(out, "null");
}

cl_status collate_result_to_json(const collate_result *result, const char *key,
                                 const char *request_id, buf *out)
{
  buf_append_str(out, "{\"key\": ");
  json_write_string(out, key ? key : "", key ? strlen(key) : 0, 1);
  json_field_string(out, "request_id", request_id);
  json_field_string(out, "user", result->user_id[0] ? result->user_id : NULL);
  json_field_string(out, "device", result->device_id[0] ? result->device_id : NULL);
  json_field_string(out, "log_type", result->log_type[0] ? result->log_type : NULL);
  json_field_string(out, "outcome", collate_outcome_name(result->outcome));
  buf_printf(out,
             ", \"history_rows\": %" PRIu64 ", \"unique_rows\": %" PRIu64
             ", \"new_rows\": %" PRIu64 ", \"deleted_rows\": %" PRIu64
             ", \"rejected_entries\": %" PRIu64 ", \"duplicate_entries\": %" PRIu64
             ", \"coerced_nulls\": %" PRIu64 ", \"total_rows\": %" PRIu64
             ", \"attempts\": %" PRIu64 ", \"bytes_read\": %" PRIu64
             ", \"bytes_written\": %" PRIu64 ", \"seconds\": %.6f",
             result->history_rows, result->unique_rows, result->new_rows, result->deleted_rows,
             result->rejected_entries, result->duplicate_entries, result->coerced_nulls,
             result->total_rows, result->attempts, result->bytes_read, result->bytes_written,
             result->seconds);
  json_field_string(out, "reason", result->reason[0] ? result->reason : NULL);
  buf_putc(out, '}');
  return buf_status(out);
}
