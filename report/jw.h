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

#define JW_MAX_DEPTH 32

struct jw {
	FILE *f;
	int depth;
	int pretty;
	int errors;
	uint8_t first[JW_MAX_DEPTH];   /* no member written yet at this depth */
	uint8_t after_key;             /* a key was written, its value comes next */
	uint8_t tcache_ok;             /* tcache holds tcache_s (jw_time_us) */
	int64_t tcache_s;
	char tcache[19];               /* "YYYY-MM-DDTHH:MM:SS" of tcache_s */
	size_t n;                      /* bytes in buf, not yet handed to f (jw.c) */
	char buf[8192];
};

void jw_init(struct jw *w, FILE *f, int pretty);
void jw_obj_open(struct jw *w, const char *key);   /* key NULL inside arrays / at top */
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
void jw_key(struct jw *w, const char *key);
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

/* key + value in one call */
void jw_key_str(struct jw *w, const char *k, const char *s);
void jw_key_strn(struct jw *w, const char *k, const uint8_t *s, size_t n);
void jw_key_int(struct jw *w, const char *k, int64_t v);
void jw_key_uint(struct jw *w, const char *k, uint64_t v);
void jw_key_bool(struct jw *w, const char *k, int v);
void jw_key_hex(struct jw *w, const char *k, const uint8_t *b, size_t n);
void jw_key_null(struct jw *w, const char *k);
void jw_key_time_us(struct jw *w, const char *k, int64_t us);
void jw_end(struct jw *w);   /* final newline, then jw_flush() */
/* Hands what the writer holds to its FILE: before the caller writes to
 * that FILE itself, and before it flushes the FILE (a live report). The
 * outermost value's close flushes too. */
void jw_flush(struct jw *w);

#endif
