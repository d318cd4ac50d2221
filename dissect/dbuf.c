/*
 * dbuf.c - the bounded growable byte buffer (see dbuf.h).
 *
 * Invariants: len <= cap <= max <= DBUF_MAX_MAX, so every size fits the
 * structure's 32-bit fields; p == NULL exactly when cap == 0; a call that
 * fails changes nothing. Growth: cap = first, then doubled until it
 * holds what was asked, then clamped to max; doubling stops at SIZE_MAX / 2
 * so it cannot wrap.
 *
 * Spare blocks: a thread that asks for them (dbuf_pool_begin(): the
 * analysis thread, which grows and frees the buffers of every connection
 * through the same sizes) keeps freed blocks of every size from 64 bytes
 * to 4 KiB that is a multiple of DPOOL_STEP (what dbuf_fit() and the
 * doublings from a power of two make), at most DPOOL_MAX a size and
 * DBUF_POOL_BYTES in all (less when the owner says: dbuf_pool_cap()). A
 * buffer that grows to a size a spare waits for takes it; otherwise it
 * grows with realloc as without spares. Sizes over 1 KiB are past glibc's
 * per-thread cache, and its large bins sort and split their blocks: a TCP
 * window grown a segment at a time and freed when the peer acknowledged
 * it made about 13 such calls a connection (issue 19: 5% of the analysis
 * thread). A block is a plain malloc() block wherever it goes:
 * dbuf_take()'s owner frees it with free(), a thread without spares frees
 * what it is given, and dbuf_pool_end() frees the spares.
 */
#include "dissect/dbuf.h"

#include <stdlib.h>
#include <string.h>

#define DPOOL_STEP  64u
#define DPOOL_NSIZE 64u                  /* 64, 128, ..., 4096 */
#define DPOOL_MAX   32u                  /* spares a size */

struct dpool {
	void *head;            /* linked through each block's first bytes */
	unsigned n;
};
static _Thread_local struct dpool dpool[DPOOL_NSIZE];
static _Thread_local size_t dpool_bytes;
static _Thread_local size_t dpool_cap = DBUF_POOL_BYTES;
static _Thread_local int dpool_on;

/* The spare list for a block of cap bytes, or -1 when that size is not kept. */
static int dpool_class(size_t cap)
{
	if (!cap || cap % DPOOL_STEP || cap > (size_t)DPOOL_STEP * DPOOL_NSIZE)
		return -1;
	return (int)(cap / DPOOL_STEP) - 1;
}

static void dpool_put(void *p, size_t cap)
{
	int k = dpool_on ? dpool_class(cap) : -1;
	if (!p)
		return;
	if (k < 0 || dpool[k].n >= DPOOL_MAX || dpool_bytes + cap > dpool_cap) {
		free(p);
		return;
	}
	memcpy(p, &dpool[k].head, sizeof(void *));
	dpool[k].head = p;
	dpool[k].n++;
	dpool_bytes += cap;
}

/* A spare block of cap bytes, or NULL. */
static void *dpool_get(size_t cap)
{
	int k = dpool_on ? dpool_class(cap) : -1;
	void *p;
	if (k < 0 || !(p = dpool[k].head))
		return NULL;
	memcpy(&dpool[k].head, p, sizeof(void *));
	dpool[k].n--;
	dpool_bytes -= cap;
	return p;
}

void dbuf_pool_begin(void)
{
	dpool_on = 1;
}

/* Frees spares, the largest sizes first, until they hold at most `keep` bytes. */
static void dpool_trim(size_t keep)
{
	unsigned k = DPOOL_NSIZE;
	while (k-- > 0 && dpool_bytes > keep) {
		while (dpool[k].head && dpool_bytes > keep) {
			void *p = dpool[k].head;
			memcpy(&dpool[k].head, p, sizeof(void *));
			free(p);
			dpool[k].n--;
			dpool_bytes -= (size_t)(k + 1) * DPOOL_STEP;
		}
	}
}

void dbuf_pool_cap(size_t bytes)
{
	dpool_cap = bytes;
	dpool_trim(bytes);
}

size_t dbuf_pool_bytes(void)
{
	return dpool_bytes;
}

void dbuf_pool_end(void)
{
	dpool_on = 0;
	dpool_trim(0);
	dpool_cap = DBUF_POOL_BYTES;
}

void dbuf_init(struct dbuf *b, size_t first, size_t max)
{
	if (max > DBUF_MAX_MAX)
		max = DBUF_MAX_MAX;
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = (uint32_t)max;
	b->first = first ? (uint32_t)(first < max ? first : max) : 1;
}

size_t dbuf_plan(const struct dbuf *b, size_t want)
{
	size_t cap;
	if (want <= b->cap)
		return b->cap;
	if (want > b->max)
		return 0;
	cap = b->cap ? b->cap : b->first;
	while (cap < want && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < want || cap > b->max)
		cap = b->max;   /* want <= max, so max holds it */
	return cap;
}

/* Moves the buffer to a block of cap bytes (cap > b->cap, cap <= b->max),
 * its whole old capacity along, as realloc does. */
static enum dbuf_rc grow_to(struct dbuf *b, size_t cap)
{
	uint8_t *np;
	if ((np = dpool_get(cap)) != NULL) {
		if (b->p) {   /* as realloc: the whole old capacity comes along */
			memcpy(np, b->p, b->cap);
			dpool_put(b->p, b->cap);
		}
	} else {
		np = realloc(b->p, cap);
		if (!np)
			return DBUF_NOMEM;
	}
	b->p = np;
	b->cap = (uint32_t)cap;   /* cap <= max */
	return DBUF_OK;
}

enum dbuf_rc dbuf_grow(struct dbuf *b, size_t want)
{
	size_t cap;
	if (want <= b->cap)
		return DBUF_OK;
	cap = dbuf_plan(b, want);
	if (cap == 0)
		return DBUF_TOO_BIG;
	return grow_to(b, cap);
}

enum dbuf_rc dbuf_fit(struct dbuf *b, size_t want)
{
	size_t cap;
	if (want <= b->cap)
		return DBUF_OK;
	if (want > b->max)
		return DBUF_TOO_BIG;
	cap = want <= SIZE_MAX - DBUF_FIT_STEP ? (want + DBUF_FIT_STEP - 1) & ~(size_t)(DBUF_FIT_STEP - 1) : want;
	if (cap > b->max)
		cap = b->max;   /* want <= max, so max holds it */
	return grow_to(b, cap);
}

enum dbuf_rc dbuf_add(struct dbuf *b, const void *src, size_t n)
{
	enum dbuf_rc rc;
	if (n > SIZE_MAX - b->len)
		return DBUF_TOO_BIG;
	rc = dbuf_grow(b, b->len + n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += (uint32_t)n;    /* len + n <= cap */
	return DBUF_OK;
}

void dbuf_reset(struct dbuf *b)
{
	b->len = 0;
}

uint8_t *dbuf_take(struct dbuf *b)
{
	uint8_t *p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void dbuf_free(struct dbuf *b)
{
	dpool_put(b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

const char *dbuf_strerror(enum dbuf_rc rc)
{
	switch (rc) {
	case DBUF_OK: return "ok";
	case DBUF_TOO_BIG: return "over the buffer's maximum";
	case DBUF_NOMEM: return "out of memory";
	}
	return "?";
}
