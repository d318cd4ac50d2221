/*
 * jw.h - a small streaming JSON writer.
 *
 * Tracks nesting and commas so callers only say what they mean:
 *   jw_obj_open(w, NULL); jw_key_int(w, "a", 1); jw_obj_close(w);
 * Strings are always escaped: `"` `\` and every byte below 0x20 (and 0x7f)
 * become escapes, and bytes that are not valid UTF-8 are replaced by U+FFFD,
 * so output is valid JSON and valid UTF-8 whatever came off the wire.
 *
 * Limits: nesting depth JW_MAX_DEPTH; deeper opens are ignored and counted
 * in `w->errors` (a programming error, caught by tests).
 */
#ifndef TLSWHY_JW_H
#define TLSWHY_JW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dissect/dbuf.h"

#define JW_MAX_DEPTH 32
#define JW_MEM_MAX (64u << 20)         /* what a memory writer holds at most (a table, a fragment) */

struct jw_cache;

struct jw {
	FILE *f;                       /* NULL: bytes go to mem (jw_init_mem) */
	int depth;
	int pretty;
	int errors;
	uint8_t first[JW_MAX_DEPTH];   /* no member written yet at this depth */
	uint8_t after_key;             /* a key was written, its value comes next */
	uint8_t tcache_ok;             /* tcache holds tcache_s (jw_time_us) */
	int64_t tcache_s;
	char tcache[19];               /* "YYYY-MM-DDTHH:MM:SS" of tcache_s */
	uint8_t tday_ok;               /* tcache's date is of day tday, whose seconds gmtime counts 0-86399 */
	int64_t tday;                  /* floor(tcache_s / 86400) when tday_ok */
	struct jw_cache *cache;        /* jw_cached()'s fragments, or NULL (jw_init clears it) */
	char *mem;                     /* jw_init_mem: what was written, malloc'd; NULL if out of memory */
	size_t mem_n;                  /* its length */
	struct dbuf memb;              /* mem's storage (mem and mem_n are its view) */
	uint8_t mem_failed;            /* out of memory, or past JW_MEM_MAX: mem dropped */
	uint64_t out;                  /* bytes handed to f or mem since jw_init */
	size_t n;                      /* bytes in buf, not yet handed to f (jw.c) */
	char *buf;                     /* sbuf, or the larger one jw_stream() gave */
	size_t cap;                    /* buf's size, at least sizeof(sbuf) */
	uint8_t hold;                  /* jw_stream(): bytes go to f only when buf is full (or jw_flush) */
	uint8_t no_members;            /* jw_members() always NULL: every member by its own call (tests) */
	int werr;                      /* errno of the first write to f that failed, 0 none (f's error
					* indicator is set too; an unbuffered f has nothing left to
					* fail at fclose to say why) */
	char sbuf[8192];
};

void jw_init(struct jw *w, FILE *f, int pretty);
/* A report's many values written to f in large pieces (JW_STREAM_BUF is
 * the size meant): buf (cap bytes, the caller's, kept until the writer's
 * last jw_flush) replaces the writer's own, and jw_end() no longer hands
 * each value over: bytes reach f when buf is full and at jw_flush(). With
 * f unbuffered (setvbuf _IONBF), stdio then writes each piece straight
 * from buf, never copying it (glibc's fwrite on an unbuffered stream);
 * f's error indicator says what went wrong, as before. After jw_init. */
#define JW_STREAM_BUF ((size_t)256 << 10)
void jw_stream(struct jw *w, char *buf, size_t cap);
/* The next top-level value (a JSON Lines line): the writer's state as
 * jw_init() leaves it, its fragment cache and what it holds for f kept;
 * with room for at least JW_LINE_ROOM more bytes before buf is handed
 * over, so a line that short can be measured and undone (jw_seek). */
#define JW_LINE_ROOM ((size_t)8192)
void jw_line(struct jw *w);
/* jw_obj_open(w, key) and jw_arr_open(w, key) are below: key NULL inside
 * arrays / at top */
void jw_obj_close(struct jw *w);
void jw_arr_close(struct jw *w);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const uint8_t *s, size_t n);      /* wire bytes */
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_hex(struct jw *w, const uint8_t *b, size_t n);       /* "0a1b..." */
void jw_double(struct jw *w, double v, int decimals);
void jw_time_us(struct jw *w, int64_t us);                   /* "2024-01-02T03:04:05.123456Z" */
void jw_raw(struct jw *w, const char *literal);              /* a pre-formatted JSON value */

/* key + value in one call. The key's length is taken where the call is
 * inlined, so a literal key costs no strlen at run time. */
void jw_key_n(struct jw *w, const char *k, size_t kn);
void jw_key_str_n(struct jw *w, const char *k, size_t kn, const char *s);
void jw_key_strn_n(struct jw *w, const char *k, size_t kn, const uint8_t *s, size_t n);
void jw_key_int_n(struct jw *w, const char *k, size_t kn, int64_t v);
void jw_key_uint_n(struct jw *w, const char *k, size_t kn, uint64_t v);
void jw_key_bool_n(struct jw *w, const char *k, size_t kn, int v);
void jw_key_hex_n(struct jw *w, const char *k, size_t kn, const uint8_t *b, size_t n);
void jw_key_null_n(struct jw *w, const char *k, size_t kn);
void jw_key_time_us_n(struct jw *w, const char *k, size_t kn, int64_t us);
void jw_open_n(struct jw *w, const char *k, size_t kn, char c);   /* k NULL: no key */

static inline void jw_key(struct jw *w, const char *k) { jw_key_n(w, k, strlen(k)); }
static inline void jw_obj_open(struct jw *w, const char *k) { jw_open_n(w, k, k ? strlen(k) : 0, '{'); }
static inline void jw_arr_open(struct jw *w, const char *k) { jw_open_n(w, k, k ? strlen(k) : 0, '['); }
static inline void jw_key_str(struct jw *w, const char *k, const char *s) { jw_key_str_n(w, k, strlen(k), s); }
static inline void jw_key_strn(struct jw *w, const char *k, const uint8_t *s, size_t n)
{
	jw_key_strn_n(w, k, strlen(k), s, n);
}
static inline void jw_key_int(struct jw *w, const char *k, int64_t v) { jw_key_int_n(w, k, strlen(k), v); }
static inline void jw_key_uint(struct jw *w, const char *k, uint64_t v) { jw_key_uint_n(w, k, strlen(k), v); }
static inline void jw_key_bool(struct jw *w, const char *k, int v) { jw_key_bool_n(w, k, strlen(k), v); }
static inline void jw_key_hex(struct jw *w, const char *k, const uint8_t *b, size_t n)
{
	jw_key_hex_n(w, k, strlen(k), b, n);
}
static inline void jw_key_null(struct jw *w, const char *k) { jw_key_null_n(w, k, strlen(k)); }
static inline void jw_key_time_us(struct jw *w, const char *k, int64_t us) { jw_key_time_us_n(w, k, strlen(k), us); }

/* n bytes that are one JSON value already (quoted and escaped when a
 * string), written as they are. */
void jw_rawn(struct jw *w, const char *json, size_t n);
/* Decimal digits of v at o (room for 20, 21 with a sign, bytes past the
 * digits written over): the end. For a
 * caller that builds a compact value itself and hands it to jw_rawn().
 * Inline: a record's numbers are most of the calls of its writers. */
extern const char jw_dig2[200];   /* "00".."99" */
extern const char jw_hex2[512];   /* "00".."ff", lowercase */
/* The eight decimal digits of v < 100000000, leading zeros included, one
 * a byte, the most significant first in memory (little-endian): four
 * digits a 32-bit lane, then two a 16-bit lane, then one a byte, each
 * split by a multiply and a shift that is exact in its range (x * 10486
 * >> 20 is x / 100 for x < 10000, x * 103 >> 10 is x / 10 for x < 100;
 * tests/unit/test_jw.c checks every value of each lane). No branch depends on v: a report's
 * numbers (frames, lengths, offsets) vary in length from one to the next,
 * and the loop below mispredicted its exit (issue 19). */
static inline uint64_t jw_digits8(uint32_t v)
{
	uint64_t m = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32;
	uint64_t top = (m * 10486u >> 20) & (0x7full << 32 | 0x7full);
	uint64_t bot = m - 100 * top;
	uint64_t h = bot << 16 | top;
	uint64_t t = (h * 103u >> 10) & 0x000f000f000f000full;
	return t | (h - 10 * t) << 8;
}
static inline char *jw_fmt_u64(char *o, uint64_t v)
{
	unsigned n = 1;
	uint64_t t = v;
	char *e, *p;
	if (v < 10) {   /* most counts of a healthy connection (each call site its own branch) */
		*o = (char)('0' + v);
		return o + 1;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (v < 100000000u) {
		uint64_t d = jw_digits8((uint32_t)v);
		unsigned z = (unsigned)__builtin_ctzll(d) >> 3;   /* leading zero digits (v >= 10) */
		d = (d + 0x3030303030303030ull) >> (8 * z);
		memcpy(o, &d, 8);   /* within the 20 bytes of room; past the end is scratch */
		return o + 8 - z;
	}
#endif
	while (t >= 10000) {
		t /= 10000;
		n += 4;
	}
	n += (t >= 10) + (t >= 100) + (t >= 1000);
	e = p = o + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, jw_dig2 + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(p - 2, jw_dig2 + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return e;
}
static inline char *jw_fmt_i64(char *o, int64_t v)
{
	if (v >= 0)
		return jw_fmt_u64(o, (uint64_t)v);
	*o++ = '-';
	return jw_fmt_u64(o, (uint64_t)0 - (uint64_t)v);
}

/* Several members of the open object (or values of the open array)
 * written at once by a caller, in compact output: jw_members(w, n) makes
 * room for n bytes and returns where the caller writes `"key":value`
 * members (values), separated by commas, none before the first (the comma
 * the container needs is written); then
 * jw_members_end(w, end), with at least one member written. NULL when
 * the writer is pretty, a key waits for its value, n is over
 * JW_MEMBERS_MAX or no_members is set: the caller then writes them one by
 * one. A caller that
 * changes its mind before jw_members_end() leaves the writer as it was.
 * The bytes must be what the member calls would write. */
#define JW_MEMBERS_MAX 6144
char *jw_members(struct jw *w, size_t n);
void jw_members_end(struct jw *w, char *end);
/* us as jw_time_us() writes it, quoted (29 bytes), at o: the end; NULL
 * when its year is outside 0-9999 (jw_time_us() then writes it). */
char *jw_fmt_time_us(struct jw *w, char *o, int64_t us);
/* s[0..n) as jw_strn() writes it, quoted and escaped, at o (room for
 * JW_STR_ROOM(n) bytes): the end; NULL when n is over JW_STR_MAX. */
#define JW_STR_MAX 1024
#define JW_STR_ROOM(n) (6 * (n) + 2)
char *jw_fmt_strn(char *o, const uint8_t *s, size_t n);
/* s quoted at o (room for max + 2) when it is at most max bytes and none
 * needs an escape (printable ASCII but '"' and '\\'): the end, the bytes
 * jw_str() writes; NULL otherwise. */
char *jw_fmt_plain(char *o, const char *s, size_t max);

/* A writer whose bytes go to w->mem (malloc'd, w->mem_n long; NULL when
 * out of memory) instead of a FILE: jw_flush() before reading them, and
 * free(w->mem) after. */
void jw_init_mem(struct jw *w, int pretty);

/* Fragment cache: writes what render(w, arg) writes, taking the bytes
 * from w->cache when render ran before for the same (id, tag) with the
 * writer in the same state (depth, indentation, whether a comma is due).
 * The caller vouches that render's output depends on (id, tag) only
 * (knowledge-base text, not the connection). Without a cache (w->cache
 * NULL), or when it is full, render writes as it always does. */
typedef void (*jw_render_fn)(struct jw *w, const void *arg);
void jw_cached(struct jw *w, const void *id, int tag, jw_render_fn render, const void *arg);
struct jw_cache *jw_cache_new(void);   /* NULL when out of memory: no caching */
/* The same for a fragment that depends on the bytes key[0..kn) (at most
 * 4 KiB; the caller vouches that render's output depends on them only):
 * what many connections share but no pointer names, such as the lists of
 * a ClientHello. A bounded table where a newer fragment takes an older
 * one's place (256 of them, at most 16 KiB each); when nearly every key
 * of the last 1,024 was new, the next 7,168 are rendered without keeping
 * copies. The output is the same bytes either way. */
void jw_cached_key(struct jw *w, const void *key, size_t kn, int tag, jw_render_fn render, const void *arg);
size_t jw_cache_key_count(const struct jw_cache *c, uint64_t *hits);   /* fragments kept, replays (tests) */
void jw_cache_free(struct jw_cache *c);
/* Fragments the cache holds, and how many times one was replayed (tests). */
size_t jw_cache_count(const struct jw_cache *c, uint64_t *hits);

/* A place in the output to come back to: jw_seek() undoes everything
 * written since jw_tell(), as long as none of it was handed to the FILE
 * yet (the buffer holds 8 KiB: jw_flush() first when it must hold more
 * than what follows). For a budget: write, measure with jw_since(), and
 * write again shorter (report/json.c, a lean JSON Lines line). */
struct jw_pos {
	uint64_t at;               /* bytes written since jw_init */
	int depth;
	uint8_t after_key;
	uint8_t first[JW_MAX_DEPTH];
};
void jw_tell(const struct jw *w, struct jw_pos *p);
uint64_t jw_since(const struct jw *w, const struct jw_pos *p);
int jw_seek(struct jw *w, const struct jw_pos *p);   /* 0, or -1 when bytes since were handed out */

/* The longest prefix of s[0..n), whole characters only, that jw_strn()
 * writes in at most `room` bytes between its quotes: its length; *used
 * (when not NULL) gets the bytes it takes. */
size_t jw_strn_fit(const uint8_t *s, size_t n, size_t room, size_t *used);

void jw_end(struct jw *w);   /* final newline, then jw_flush() */
/* Hands what the writer holds to its FILE: before the caller writes to
 * that FILE itself, and before it flushes the FILE (a live report). The
 * outermost value's close flushes too. */
void jw_flush(struct jw *w);

#endif
