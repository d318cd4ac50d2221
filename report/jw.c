/*
 * jw.c - streaming JSON writer (see jw.h).
 *
 * Invariants: `first[depth]` is 1 until a member is written at that depth;
 * `after_key` is set between a key and its value so the value takes no
 * comma. Escaping follows RFC 8259: `"` and `\` escaped, controls as
 * \u00XX; invalid UTF-8 (RFC 3629: overlongs, surrogates, > U+10FFFF,
 * truncated sequences) replaced by U+FFFD, one replacement per bad byte.
 *
 * Speed: the JSON report writes every connection (about 15 KB each), so
 * a public call assembles its bytes in w->buf and hands them to stdio with
 * one unlocked fwrite before it returns (the buffer is empty between calls,
 * so callers may write to the same FILE in between); numbers, hex and
 * times are formatted here rather than by printf, with the bytes printf
 * would give ("%" PRIu64, "\\u%04x", "%04d-%02d-...").
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
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = 1;
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

static void put_escaped(struct jw *w, const uint8_t *s, size_t n)
{
	size_t i = 0, j;
	putch(w, '"');
	while (i < n) {
		uint8_t c;
		/* a run of characters written as they are */
		for (j = i; j < n && plain[s[j]]; j++)
			;
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

static void key_(struct jw *w, const char *key)
{
	sep(w);
	put_escaped(w, (const uint8_t *)key, strlen(key));
	if (w->pretty)
		PUT_S(w, ": ");
	else
		putch(w, ':');
	w->after_key = 1;
}

void jw_key(struct jw *w, const char *key)
{
	key_(w, key);
	flush(w);
}

static void open_(struct jw *w, const char *key, char c)
{
	if (key)
		key_(w, key);
	sep(w);
	putch(w, c);
	flush(w);
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
	flush(w);
}

void jw_obj_open(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

/* The values, without the flush: the public calls below flush once. */
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

void jw_strn(struct jw *w, const uint8_t *s, size_t n) { strn_(w, s, n); flush(w); }
void jw_str(struct jw *w, const char *s) { str_(w, s); flush(w); }
void jw_int(struct jw *w, int64_t v) { int_(w, v); flush(w); }
void jw_uint(struct jw *w, uint64_t v) { uint_(w, v); flush(w); }
void jw_bool(struct jw *w, int v) { bool_(w, v); flush(w); }
void jw_null(struct jw *w) { null_(w); flush(w); }
void jw_hex(struct jw *w, const uint8_t *b, size_t n) { hex_(w, b, n); flush(w); }
void jw_time_us(struct jw *w, int64_t us) { time_us_(w, us); flush(w); }

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

void jw_key_str(struct jw *w, const char *k, const char *s) { key_(w, k); str_(w, s); flush(w); }
void jw_key_strn(struct jw *w, const char *k, const uint8_t *s, size_t n) { key_(w, k); strn_(w, s, n); flush(w); }
void jw_key_int(struct jw *w, const char *k, int64_t v) { key_(w, k); int_(w, v); flush(w); }
void jw_key_uint(struct jw *w, const char *k, uint64_t v) { key_(w, k); uint_(w, v); flush(w); }
void jw_key_bool(struct jw *w, const char *k, int v) { key_(w, k); bool_(w, v); flush(w); }
void jw_key_hex(struct jw *w, const char *k, const uint8_t *b, size_t n) { key_(w, k); hex_(w, b, n); flush(w); }
void jw_key_null(struct jw *w, const char *k) { key_(w, k); null_(w); flush(w); }
void jw_key_time_us(struct jw *w, const char *k, int64_t us) { key_(w, k); time_us_(w, us); flush(w); }

void jw_end(struct jw *w)
{
	putc_unlocked('\n', w->f);
}
