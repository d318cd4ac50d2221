/*
 * cursor.h - bounds-checked reading of wire bytes.
 *
 * Every parser in dissect/ reads through a struct cur: a pointer to the next
 * byte and one past the last. Each reader checks that the bytes it wants are
 * there (`n <= end - p`) before touching them. A failed read sets a sticky
 * error and returns zero, so a parser may read several fields in a row and
 * test `c->err` once; nothing after the first failure reads memory.
 *
 * Two kinds of failure are kept apart because rules care about the
 * difference: CUR_TRUNCATED means the capture ran out of bytes (snaplen, a
 * record cut short); CUR_MALFORMED means the bytes were wrong (a length that
 * contradicts its container, a value outside its domain). Parsers set
 * CUR_MALFORMED themselves through cur_fail(); the readers only ever set
 * CUR_TRUNCATED.
 *
 * Limits: lengths are size_t; no reader allocates.
 */
#ifndef TLSWHY_CURSOR_H
#define TLSWHY_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum cur_err {
	CUR_OK = 0,
	CUR_TRUNCATED,  /* the bytes ended before the field did */
	CUR_MALFORMED,  /* the bytes were present but not valid */
};

struct cur {
	const uint8_t *p;
	const uint8_t *end;
	enum cur_err err;
};

static inline struct cur cur_make(const uint8_t *p, size_t len)
{
	struct cur c = { p, p + len, CUR_OK };
	return c;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->err ? 0 : (size_t)(c->end - c->p);
}

static inline int cur_has(struct cur *c, size_t n)
{
	if (c->err)
		return 0;
	if (n > (size_t)(c->end - c->p)) {
		c->err = CUR_TRUNCATED;
		return 0;
	}
	return 1;
}

static inline void cur_fail(struct cur *c, enum cur_err e)
{
	if (!c->err)
		c->err = e;
}

static inline uint8_t cur_u8(struct cur *c)
{
	if (!cur_has(c, 1))
		return 0;
	return *c->p++;
}

static inline uint16_t cur_u16(struct cur *c)
{
	uint16_t v;
	if (!cur_has(c, 2))
		return 0;
	v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return v;
}

static inline uint32_t cur_u24(struct cur *c)
{
	uint32_t v;
	if (!cur_has(c, 3))
		return 0;
	v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	return v;
}

static inline uint32_t cur_u32(struct cur *c)
{
	uint32_t v;
	if (!cur_has(c, 4))
		return 0;
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	return v;
}

/* Little-endian 32-bit read, for BSD loopback headers written in host order. */
static inline uint32_t cur_u32le(struct cur *c)
{
	uint32_t v;
	if (!cur_has(c, 4))
		return 0;
	v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 |
	    (uint32_t)c->p[1] << 8 | c->p[0];
	c->p += 4;
	return v;
}

/*
 * Peeks: the value `off` bytes past the cursor, without moving it (a
 * header tested before it is consumed). Out of bounds: 0 and CUR_TRUNCATED,
 * like the readers.
 */
static inline int cur_has_at(struct cur *c, size_t off, size_t n)
{
	if (c->err)
		return 0;
	if (n > (size_t)(c->end - c->p) || off > (size_t)(c->end - c->p) - n) {
		c->err = CUR_TRUNCATED;
		return 0;
	}
	return 1;
}

static inline uint8_t cur_peek_u8(struct cur *c, size_t off)
{
	if (!cur_has_at(c, off, 1))
		return 0;
	return c->p[off];
}

static inline uint32_t cur_peek_u24(struct cur *c, size_t off)
{
	const uint8_t *q;
	if (!cur_has_at(c, off, 3))
		return 0;
	q = c->p + off;
	return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}

/* Copies n bytes out and advances; 0 (nothing copied, err set) when they
 * are not all there. */
static inline int cur_copy(struct cur *c, void *dst, size_t n)
{
	if (!cur_has(c, n))
		return 0;
	if (n)
		memcpy(dst, c->p, n);
	c->p += n;
	return 1;
}

/* Returns a pointer to n bytes and advances, or NULL (and sets err). */
static inline const uint8_t *cur_bytes(struct cur *c, size_t n)
{
	const uint8_t *q;
	if (!cur_has(c, n))
		return NULL;
	q = c->p;
	c->p += n;
	return q;
}

static inline void cur_skip(struct cur *c, size_t n)
{
	(void)cur_bytes(c, n);
}

/*
 * Splits off a sub-cursor of n bytes (a length-prefixed vector). When the
 * outer cursor has fewer than n bytes left the outer error is set; the
 * sub-cursor then covers what is left and carries the same error, so the
 * caller can still record what was readable.
 */
static inline struct cur cur_sub(struct cur *c, size_t n)
{
	struct cur s;
	if (c->err) {
		s.p = s.end = c->p;
		s.err = c->err;
		return s;
	}
	if (n > (size_t)(c->end - c->p)) {
		s.p = c->p;
		s.end = c->end;
		s.err = CUR_OK;
		c->p = c->end;
		c->err = CUR_TRUNCATED;
		return s;
	}
	s.p = c->p;
	s.end = c->p + n;
	s.err = CUR_OK;
	c->p += n;
	return s;
}

#endif
