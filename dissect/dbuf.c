/*
 * dbuf.c - the bounded growable byte buffer (see dbuf.h).
 *
 * Invariants: len <= cap <= max <= DBUF_MAX_MAX, so every size fits the
 * structure's 32-bit fields; p == NULL exactly when cap == 0; a call that
 * fails changes nothing. Growth: cap = first, then doubled until it
 * holds what was asked, then clamped to max; doubling stops at SIZE_MAX / 2
 * so it cannot wrap.
 */
#include "dissect/dbuf.h"

#include <stdlib.h>
#include <string.h>

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

enum dbuf_rc dbuf_grow(struct dbuf *b, size_t want)
{
	size_t cap;
	uint8_t *np;
	if (want <= b->cap)
		return DBUF_OK;
	cap = dbuf_plan(b, want);
	if (cap == 0)
		return DBUF_TOO_BIG;
	np = realloc(b->p, cap);
	if (!np)
		return DBUF_NOMEM;
	b->p = np;
	b->cap = (uint32_t)cap;   /* cap <= max */
	return DBUF_OK;
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
	free(b->p);
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
