/*
 * jw.c - streaming JSON writer (see jw.h).
 *
 * Invariants: `first[depth]` is 1 until a member is written at that depth;
 * `after_key` is set between a key and its value so the value takes no
 * comma. Escaping follows RFC 8259: `"` and `\` escaped, controls as
 * \u00XX; invalid UTF-8 (RFC 3629: overlongs, surrogates, > U+10FFFF,
 * truncated sequences) replaced by U+FFFD, one replacement per bad byte.
 *
 * Speed: the JSON report writes every connection (about 8 KB each in
 * full), so bytes are assembled in w->buf and handed to stdio with one
 * unlocked fwrite when it fills, when the outermost value closes, and at
 * jw_flush() / jw_end(): a caller that writes to the same FILE itself
 * calls jw_flush() first (jw_raw and jw_double do). Keys are the
 * program's own names (never wire bytes) and are copied as they are;
 * strings are scanned for bytes that need escaping 8 at a time. Numbers,
 * hex and times are formatted here rather than by printf, with the bytes
 * printf would give ("%" PRIu64, "\\u%04x", "%04d-%02d-...").
 */
#include "report/jw.h"
#include "report/esc.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char hx[] = "0123456789abcdef";

/* 1: written as it is inside a JSON string (printable ASCII but " and \) */
static const uint8_t plain[256] = {
	['\x20'] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \ */, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* 0x7f */,
};

static void flush(struct jw *w)
{
	if (w->n) {
		fwrite_unlocked(w->buf, 1, w->n, w->f);
		w->n = 0;
	}
}

static void put(struct jw *w, const void *p, size_t n)
{
	if (n > sizeof(w->buf) - w->n) {
		flush(w);
		if (n > sizeof(w->buf)) {
			fwrite_unlocked(p, 1, n, w->f);
			return;
		}
	}
	memcpy(w->buf + w->n, p, n);
	w->n += n;
}

void jw_flush(struct jw *w)
{
	flush(w);
}

static void putch(struct jw *w, char c)
{
	if (w->n == sizeof(w->buf))
		flush(w);
	w->buf[w->n++] = c;
}

#define PUT_S(w, lit) put((w), (lit), sizeof(lit) - 1)

/* Decimal digits of v, written backwards ending at `end`; returns the start. */
static char *u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static void put_u64(struct jw *w, uint64_t v)
{
	char b[24], *p = u64_digits(b + sizeof(b), v);
	put(w, p, (size_t)(b + sizeof(b) - p));
}

static void put_i64(struct jw *w, int64_t v)
{
	char b[24], *p;
	if (v >= 0) {
		p = u64_digits(b + sizeof(b), (uint64_t)v);
	} else {
		p = u64_digits(b + sizeof(b), (uint64_t)0 - (uint64_t)v);
		*--p = '-';
	}
	put(w, p, (size_t)(b + sizeof(b) - p));
}

void jw_init(struct jw *w, FILE *f, int pretty)
{
	/* not the buffer: 8 KiB cleared per JSON Lines line would show */
	w->f = f;
	w->depth = 0;
	w->pretty = pretty;
	w->errors = 0;
	memset(w->first, 0, sizeof(w->first));
	w->first[0] = 1;
	w->after_key = 0;
	w->tcache_ok = 0;
	w->tcache_s = 0;
	w->n = 0;
}

static void indent(struct jw *w)
{
	/* a newline and two spaces per level (depth < JW_MAX_DEPTH) */
	static const char nl[] = "\n                                                                ";
	if (!w->pretty)
		return;
	if (w->depth >= 0 && (size_t)w->depth * 2 + 1 < sizeof(nl))
		put(w, nl, 1 + (size_t)w->depth * 2);
}

/* Called before every value or key: comma and indentation as needed. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		putch(w, ',');
	w->first[w->depth] = 0;
	if (w->depth > 0)
		indent(w);
}

/* Nonzero when one of the 8 bytes of x needs more than a copy: below
 * 0x20, '"', '\\', 0x7f, or 0x80 and above (exact for "any", which is all
 * the scan asks; the byte loop then finds which). */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define HASZERO(v) (((v) - ONES) & ~(v) & HIGHS)
static inline uint64_t special8(uint64_t x)
{
	return ((x - ONES * 0x20) & ~x & HIGHS) | HASZERO(x ^ (ONES * '"')) | HASZERO(x ^ (ONES * '\\')) |
	       HASZERO(x ^ (ONES * 0x7f)) | (x & HIGHS);
}

/* The length of the run of plain bytes at s (at most n). */
static size_t plain_run(const uint8_t *s, size_t n)
{
	size_t j = 0;
	while (j + 8 <= n) {
		uint64_t x;
		memcpy(&x, s + j, 8);
		if (special8(x))
			break;
		j += 8;
	}
	while (j < n && plain[s[j]])
		j++;
	return j;
}

static void put_escaped(struct jw *w, const uint8_t *s, size_t n)
{
	size_t i = 0, j;
	putch(w, '"');
	while (i < n) {
		uint8_t c;
		/* a run of characters written as they are */
		j = i + plain_run(s + i, n - i);
		if (j > i) {
			put(w, s + i, j - i);
			i = j;
			if (i >= n)
				break;
		}
		c = s[i];
		if (c < 0x80) {
			switch (c) {
			case '"': PUT_S(w, "\\\""); break;
			case '\\': PUT_S(w, "\\\\"); break;
			case '\n': PUT_S(w, "\\n"); break;
			case '\r': PUT_S(w, "\\r"); break;
			case '\t': PUT_S(w, "\\t"); break;
			default: {
				/* below 0x20, or 0x7f: \u00XX */
				char u[6] = { '\\', 'u', '0', '0', hx[c >> 4], hx[c & 15] };
				put(w, u, sizeof(u));
			}
			}
			i++;
			continue;
		}
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			PUT_S(w, "\xef\xbf\xbd");   /* U+FFFD */
			i++;
		} else {
			put(w, s + i, l);
			i += l;
		}
	}
	putch(w, '"');
}

/* Keys are the program's own names: quoted, not escaped. */
static void key_(struct jw *w, const char *key)
{
	size_t n = strlen(key);
	sep(w);
	if (n + 4 > sizeof(w->buf) - w->n)
		flush(w);
	if (n + 4 > sizeof(w->buf)) {   /* never for the names tlswhy uses */
		put_escaped(w, (const uint8_t *)key, n);
	} else {
		char *o = w->buf + w->n;
		*o++ = '"';
		memcpy(o, key, n);
		o += n;
		*o++ = '"';
		w->n += n + 2;
	}
	if (w->pretty)
		PUT_S(w, ": ");
	else
		putch(w, ':');
	w->after_key = 1;
}

void jw_key(struct jw *w, const char *key)
{
	key_(w, key);
}

static void open_(struct jw *w, const char *key, char c)
{
	if (key)
		key_(w, key);
	sep(w);
	putch(w, c);
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->errors++;
		return;
	}
	w->depth++;
	w->first[w->depth] = 1;
}

static void close_(struct jw *w, char c)
{
	int empty;
	if (w->depth <= 0) {
		w->errors++;
		return;
	}
	empty = w->first[w->depth];
	w->depth--;
	if (!empty)
		indent(w);
	putch(w, c);
	if (w->depth == 0)   /* the outermost value is whole */
		flush(w);
}

void jw_obj_open(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

/* The values (the public calls below are the same with a key or not). */
static void strn_(struct jw *w, const uint8_t *s, size_t n)
{
	sep(w);
	put_escaped(w, s, n);
}

static void null_(struct jw *w)
{
	sep(w);
	PUT_S(w, "null");
}

static void str_(struct jw *w, const char *s)
{
	if (!s)
		null_(w);
	else
		strn_(w, (const uint8_t *)s, strlen(s));
}

static void int_(struct jw *w, int64_t v)
{
	sep(w);
	put_i64(w, v);
}

static void uint_(struct jw *w, uint64_t v)
{
	sep(w);
	put_u64(w, v);
}

static void bool_(struct jw *w, int v)
{
	sep(w);
	if (v)
		PUT_S(w, "true");
	else
		PUT_S(w, "false");
}

static void hex_(struct jw *w, const uint8_t *b, size_t n)
{
	char buf[2 * 64];
	size_t i, k = 0;
	sep(w);
	putch(w, '"');
	for (i = 0; i < n; i++) {
		buf[k++] = hx[b[i] >> 4];
		buf[k++] = hx[b[i] & 15];
		if (k == sizeof(buf)) {
			put(w, buf, k);
			k = 0;
		}
	}
	put(w, buf, k);
	putch(w, '"');
}

static void two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

static void time_us_(struct jw *w, int64_t us)
{
	char buf[64];
	struct tm tm;
	time_t s = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	long frac = (long)(us - (int64_t)s * 1000000);
	int k;
	/* "YYYY-MM-DDTHH:MM:SS" is kept for the last second written: times of
	 * one connection are mostly in the same second */
	if (!w->tcache_ok || w->tcache_s != (int64_t)s) {
		if (!gmtime_r(&s, &tm)) {
			null_(w);
			return;
		}
		if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
			snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
			str_(w, buf);
			return;
		}
		k = tm.tm_year + 1900;
		two(w->tcache, k / 100);
		two(w->tcache + 2, k % 100);
		w->tcache[4] = '-';
		two(w->tcache + 5, tm.tm_mon + 1);
		w->tcache[7] = '-';
		two(w->tcache + 8, tm.tm_mday);
		w->tcache[10] = 'T';
		two(w->tcache + 11, tm.tm_hour);
		w->tcache[13] = ':';
		two(w->tcache + 14, tm.tm_min);
		w->tcache[16] = ':';
		two(w->tcache + 17, tm.tm_sec);
		w->tcache_s = (int64_t)s;
		w->tcache_ok = 1;
	}
	/* "...SS.ffffffZ", quoted: nothing in it needs escaping */
	buf[0] = '"';
	memcpy(buf + 1, w->tcache, 19);
	buf[20] = '.';
	for (k = 26; k > 20; k--) {
		buf[k] = (char)('0' + frac % 10);
		frac /= 10;
	}
	buf[27] = 'Z';
	buf[28] = '"';
	sep(w);
	put(w, buf, 29);
}

void jw_strn(struct jw *w, const uint8_t *s, size_t n) { strn_(w, s, n); }
void jw_str(struct jw *w, const char *s) { str_(w, s); }
void jw_int(struct jw *w, int64_t v) { int_(w, v); }
void jw_uint(struct jw *w, uint64_t v) { uint_(w, v); }
void jw_bool(struct jw *w, int v) { bool_(w, v); }
void jw_null(struct jw *w) { null_(w); }
void jw_hex(struct jw *w, const uint8_t *b, size_t n) { hex_(w, b, n); }
void jw_time_us(struct jw *w, int64_t us) { time_us_(w, us); }

void jw_raw(struct jw *w, const char *literal)
{
	sep(w);
	flush(w);
	fputs(literal, w->f);
}

void jw_double(struct jw *w, double v, int decimals)
{
	sep(w);
	flush(w);
	if (v != v)
		fputs("null", w->f);
	else
		fprintf(w->f, "%.*f", decimals, v);
}

void jw_key_str(struct jw *w, const char *k, const char *s) { key_(w, k); str_(w, s); }
void jw_key_strn(struct jw *w, const char *k, const uint8_t *s, size_t n) { key_(w, k); strn_(w, s, n); }
void jw_key_int(struct jw *w, const char *k, int64_t v) { key_(w, k); int_(w, v); }
void jw_key_uint(struct jw *w, const char *k, uint64_t v) { key_(w, k); uint_(w, v); }
void jw_key_bool(struct jw *w, const char *k, int v) { key_(w, k); bool_(w, v); }
void jw_key_hex(struct jw *w, const char *k, const uint8_t *b, size_t n) { key_(w, k); hex_(w, b, n); }
void jw_key_null(struct jw *w, const char *k) { key_(w, k); null_(w); }
void jw_key_time_us(struct jw *w, const char *k, int64_t us) { key_(w, k); time_us_(w, us); }

void jw_end(struct jw *w)
{
	putch(w, '\n');
	flush(w);
}
