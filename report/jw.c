/*
 * jw.c - streaming JSON writer (see jw.h).
 *
 * Invariants: `first[depth]` is 1 until a member is written at that depth;
 * `after_key` is set between a key and its value so the value takes no
 * comma. Escaping follows RFC 8259: `"` and `\` escaped, controls as
 * \u00XX; invalid UTF-8 (RFC 3629: overlongs, surrogates, > U+10FFFF,
 * truncated sequences) replaced by U+FFFD, one replacement per bad byte.
 *
 * Speed: the JSON report writes every connection (about 10 KB each in
 * full), so bytes are assembled in w->buf and handed to stdio with one
 * unlocked fwrite when it fills, when the outermost value closes, and at
 * jw_flush() / jw_end(): a caller that writes to the same FILE itself
 * calls jw_flush() first. A report's writer (jw_stream) holds 256 KiB
 * instead and hands it over only when full or at jw_flush(), to an
 * unbuffered FILE: stdio then writes it from buf without a copy of its
 * own (issue 19: every byte of a 1.4 GB JSON report was copied twice).
 * Keys are the program's own names (never wire bytes) and are copied as
 * they are, their lengths known where the call is compiled (jw.h); in
 * compact output a key and its value are written in one step, room for
 * both made once (--pretty takes the general path).
 * Strings are scanned for bytes that need escaping 8 at a time. Numbers,
 * hex and times are formatted here rather than by printf, with the bytes
 * printf would give ("%" PRIu64, "\\u%04x", "%04d-%02d-..."). jw_cached()
 * replays fragments that are the same for every connection (a rule's
 * knowledge-base text) from a cache instead of escaping them again.
 */
#include "report/jw.h"
#include "report/esc.h"
#include "dissect/hash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char hx[] = "0123456789abcdef";

/* "00".."ff": a byte as two lowercase hex digits at a time (jw_hex) */
const char jw_hex2[512] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* "00".."99": two decimal digits at a time (jw_fmt_u64) */
const char jw_dig2[200] =
	"00010203040506070809"
	"10111213141516171819"
	"20212223242526272829"
	"30313233343536373839"
	"40414243444546474849"
	"50515253545556575859"
	"60616263646566676869"
	"70717273747576777879"
	"80818283848586878889"
	"90919293949596979899";

/* 1: written as it is inside a JSON string (printable ASCII but " and \) */
static const uint8_t plain[256] = {
	['\x20'] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \ */, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* 0x7f */,
};

/* jw_init_mem: append to w->mem; on failure (no memory, or past
 * JW_MEM_MAX) drop it all: mem NULL, mem_failed set */
static void mem_add(struct jw *w, const void *p, size_t n)
{
	if (w->mem_failed)
		return;
	if (dbuf_add(&w->memb, p, n) != DBUF_OK) {
		dbuf_free(&w->memb);
		w->mem = NULL;
		w->mem_n = 0;
		w->mem_failed = 1;
		return;
	}
	w->mem = (char *)w->memb.p;
	w->mem_n = w->memb.len;
}

static void write_out(struct jw *w, const void *p, size_t n)
{
	w->out += n;
	if (w->f) {
		errno = 0;
		if (fwrite_unlocked(p, 1, n, w->f) != n && !w->werr)
			w->werr = errno ? errno : EIO;
	}
	else
		mem_add(w, p, n);
}

static void flush(struct jw *w)
{
	if (w->n) {
		write_out(w, w->buf, w->n);
		w->n = 0;
	}
}

static inline void put(struct jw *w, const void *p, size_t n)
{
	if (n > w->cap - w->n) {
		flush(w);
		if (n > w->cap) {
			write_out(w, p, n);
			return;
		}
	}
	memcpy(w->buf + w->n, p, n);
	w->n += n;
}

/* Room for n more bytes in buf (n <= sizeof(buf)). */
static inline void reserve(struct jw *w, size_t n)
{
	if (n > w->cap - w->n)
		flush(w);
}

/* The bytes from buf + n to o were written. */
static inline void done(struct jw *w, char *o)
{
	w->n = (size_t)(o - w->buf);
}

void jw_flush(struct jw *w)
{
	flush(w);
}

static inline void putch(struct jw *w, char c)
{
	if (w->n == w->cap)
		flush(w);
	w->buf[w->n++] = c;
}

#define PUT_S(w, lit) put((w), (lit), sizeof(lit) - 1)

void jw_init(struct jw *w, FILE *f, int pretty)
{
	/* not the buffer: 8 KiB cleared per JSON Lines line would show */
	w->buf = w->sbuf;
	w->cap = sizeof(w->sbuf);
	w->hold = 0;
	w->no_members = 0;
	w->werr = 0;
	w->f = f;
	w->depth = 0;
	w->pretty = pretty;
	w->errors = 0;
	memset(w->first, 0, sizeof(w->first));
	w->first[0] = 1;
	w->after_key = 0;
	w->tcache_ok = 0;
	w->tcache_s = 0;
	w->tday_ok = 0;
	w->tday = 0;
	w->cache = NULL;
	w->mem = NULL;
	w->mem_n = 0;
	w->mem_failed = 0;
	dbuf_init(&w->memb, 4096, JW_MEM_MAX);
	w->out = 0;
	w->n = 0;
}

void jw_stream(struct jw *w, char *buf, size_t cap)
{
	if (!buf || cap < sizeof(w->sbuf) || !w->f)
		return;
	flush(w);
	w->buf = buf;
	w->cap = cap;
	w->hold = 1;
}

void jw_line(struct jw *w)
{
	w->depth = 0;
	w->errors = 0;
	memset(w->first, 0, sizeof(w->first));
	w->first[0] = 1;
	w->after_key = 0;
	if (w->cap - w->n < JW_LINE_ROOM)
		flush(w);
}

void jw_init_mem(struct jw *w, int pretty)
{
	jw_init(w, NULL, pretty);
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

/* Where a value goes: sep() done, room for `room` more bytes made. */
static inline __attribute__((always_inline)) char *val_at(struct jw *w, size_t room)
{
	char *o;
	if (w->pretty) {
		sep(w);
		reserve(w, room);
		return w->buf + w->n;
	}
	reserve(w, room + 1);
	o = w->buf + w->n;
	if (w->after_key) {
		w->after_key = 0;
	} else {
		if (!w->first[w->depth])
			*o++ = ',';
		w->first[w->depth] = 0;
	}
	return o;
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

/* One byte that is not plain (or the start of a UTF-8 sequence) at s[i]
 * of n, escaped at o; returns the new o, *i moved past what it took. */
static inline char *esc_one(char *o, const uint8_t *s, size_t *i, size_t n)
{
	uint8_t c = s[*i];
	size_t l;
	if (c < 0x80) {
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:   /* below 0x20, or 0x7f: \u00XX */
			memcpy(o, "u00", 3);
			o[3] = hx[c >> 4];
			o[4] = hx[c & 15];
			o += 5;
		}
		++*i;
		return o;
	}
	l = utf8_seq_len(s + *i, n - *i);
	if (l == 0) {
		memcpy(o, "\xef\xbf\xbd", 3);   /* U+FFFD */
		o += 3;
		++*i;
	} else {
		memcpy(o, s + *i, l);
		o += l;
		*i += l;
	}
	return o;
}

/* A string of at most ESC_DIRECT bytes is escaped straight into buf, room
 * for the worst case (6 bytes out per byte in, \u00XX) made once. */
#define ESC_DIRECT JW_STR_MAX

/* s[0..n) (n <= ESC_DIRECT) quoted and escaped at o, which has room for
 * 6 * n + 2 bytes (the worst case, \u00XX); returns the end. */
static inline __attribute__((always_inline)) char *esc_into(char *o, const uint8_t *s, size_t n)
{
	size_t i = 0;
	*o++ = '"';
	while (i < n) {
#ifdef __SSE2__
		/* 16 bytes at a time: a mask of the plain ones (signed
		 * compares: 0x80 and above are below 0x20 too); the
		 * 16 are stored whole (the room made covers them) and
		 * the leading plain ones kept */
		while (i + 16 <= n) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i ok = _mm_andnot_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
				_mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x1f)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f))));
			unsigned m = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
			_mm_storeu_si128((__m128i *)(void *)o, x);
			if (m) {
				unsigned k = (unsigned)__builtin_ctz(m);
				o += k;
				i += k;
				break;
			}
			o += 16;
			i += 16;
		}
#endif
		/* 8 bytes at a time; the lowest flag of special8() is
		 * exact (borrows only carry upwards), so it says how
		 * many leading bytes are plain. The 8 bytes are
		 * stored whole: the room made covers them. */
		while (i + 8 <= n) {
			uint64_t x, m;
			memcpy(&x, s + i, 8);
			m = special8(x);
			memcpy(o, &x, 8);
			if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				unsigned k = (unsigned)__builtin_ctzll(m) >> 3;
				o += k;
				i += k;
#endif
				break;
			}
			o += 8;
			i += 8;
		}
		while (i < n && plain[s[i]])
			*o++ = (char)s[i++];
		if (i < n)
			o = esc_one(o, s, &i, n);
	}
	*o++ = '"';
	return o;
}

char *jw_fmt_plain(char *o, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0;
	if (n > max)
		return NULL;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		if (special8(x))
			return NULL;
	}
	for (; i < n; i++)
		if (!plain[(uint8_t)s[i]])
			return NULL;
	*o++ = '"';
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	return o;
}

char *jw_fmt_strn(char *o, const uint8_t *s, size_t n)
{
	return n <= ESC_DIRECT ? esc_into(o, s, n) : NULL;
}

static void put_escaped(struct jw *w, const uint8_t *s, size_t n)
{
	size_t i = 0, j;
	if (n <= ESC_DIRECT) {
		reserve(w, 6 * n + 2);
		done(w, esc_into(w->buf + w->n, s, n));
		return;
	}
	putch(w, '"');
	while (i < n) {
		char u[8], *e;
		/* a run of characters written as they are */
		j = i + plain_run(s + i, n - i);
		if (j > i) {
			put(w, s + i, j - i);
			i = j;
			if (i >= n)
				break;
		}
		e = esc_one(u, s, &i, n);
		put(w, u, (size_t)(e - u));
	}
	putch(w, '"');
}

/* Keys are the program's own names: quoted, not escaped. */
static void key_slow(struct jw *w, const char *key, size_t n)
{
	sep(w);
	if (n + 4 > w->cap - w->n)
		flush(w);
	if (n + 4 > w->cap) {   /* never for the names tlswhy uses */
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

/* n bytes from k to o, n small (a key): fixed-size copies, no call */
static inline void copy_small(char *o, const char *k, size_t n)
{
	if (n > 32) {
		memcpy(o, k, n);
	} else if (n >= 16) {
		memcpy(o, k, 16);
		memcpy(o + n - 16, k + n - 16, 16);
	} else if (n >= 8) {
		memcpy(o, k, 8);
		memcpy(o + n - 8, k + n - 8, 8);
	} else if (n >= 4) {
		memcpy(o, k, 4);
		memcpy(o + n - 4, k + n - 4, 4);
	} else if (n) {
		o[0] = k[0];
		o[n / 2] = k[n / 2];
		o[n - 1] = k[n - 1];
	}
}

/* A key, and room for `room` bytes of its value: where the value goes.
 * Compact output writes [,]"key": at once; the value takes no sep(). */
static inline __attribute__((always_inline)) char *kv_at(struct jw *w, const char *k, size_t kn, size_t room)
{
	char *o;
	if (w->pretty || w->after_key || kn + room + 5 > w->cap) {
		key_slow(w, k, kn);
		return val_at(w, room);
	}
	reserve(w, kn + 4 + room);
	o = w->buf + w->n;
	if (!w->first[w->depth])
		*o++ = ',';
	w->first[w->depth] = 0;
	*o++ = '"';
	copy_small(o, k, kn);
	o += kn;
	*o++ = '"';
	*o++ = ':';
	return o;
}

/* A key whose value a value call writes next. */
static inline void key_(struct jw *w, const char *k, size_t kn)
{
	done(w, kv_at(w, k, kn, 0));
	w->after_key = 1;
}

void jw_key_n(struct jw *w, const char *k, size_t kn)
{
	key_(w, k, kn);
}

void jw_open_n(struct jw *w, const char *k, size_t kn, char c)
{
	char *o = k ? kv_at(w, k, kn, 1) : val_at(w, 1);
	*o++ = c;
	done(w, o);
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
	if (w->depth == 0 && !w->hold)   /* the outermost value is whole */
		flush(w);
}

void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

/* The values (the public calls below are the same with a key or not). */
/* Strings this short are escaped where the value goes, room for both
 * made once (most of a report's strings: names, addresses, versions). */
#define STR_SHORT 128

static void strn_(struct jw *w, const uint8_t *s, size_t n)
{
	if (n <= STR_SHORT) {
		done(w, esc_into(val_at(w, 6 * n + 2), s, n));
		return;
	}
	done(w, val_at(w, 0));
	put_escaped(w, s, n);
}

/* A key and its string value, room for both made once when it is short. */
static void key_strn(struct jw *w, const char *k, size_t kn, const uint8_t *s, size_t n)
{
	if (n <= STR_SHORT) {
		done(w, esc_into(kv_at(w, k, kn, 6 * n + 2), s, n));
		return;
	}
	key_(w, k, kn);
	strn_(w, s, n);
}

static inline char *w_null(char *o)
{
	memcpy(o, "null", 4);
	return o + 4;
}

static inline char *w_bool(char *o, int v)
{
	if (v) {
		memcpy(o, "true", 4);
		return o + 4;
	}
	memcpy(o, "false", 5);
	return o + 5;
}

static void null_(struct jw *w)
{
	done(w, w_null(val_at(w, 4)));
}

static void str_(struct jw *w, const char *s)
{
	if (!s)
		null_(w);
	else
		strn_(w, (const uint8_t *)s, strlen(s));
}

static void hex_(struct jw *w, const uint8_t *b, size_t n)
{
	char buf[2 * 64];
	size_t i, k = 0;
	if (n <= 512) {   /* all of it at once */
		char *o = val_at(w, 2 * n + 2);
		*o++ = '"';
		for (i = 0; i < n; i++, o += 2)
			memcpy(o, jw_hex2 + 2 * b[i], 2);
		*o++ = '"';
		done(w, o);
		return;
	}
	done(w, val_at(w, 0));
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
	memcpy(p, jw_dig2 + 2 * v, 2);
}

/* Splits us into whole seconds (floor) and microseconds; 1 when the second
 * is in w->tcache as "YYYY-MM-DDTHH:MM:SS" (made now if not), 0 when its
 * year is outside 0-9999 or gmtime fails (*tm then holds what gmtime gave,
 * *ok 0 when it failed). */
static int tcache_for(struct jw *w, int64_t us, long *frac, struct tm *tm, int *ok)
{
	/* floor division, without overflow at INT64_MIN */
	int64_t q = us / 1000000, r = us % 1000000;
	time_t s;
	int k;
	if (r < 0) {
		q--;
		r += 1000000;
	}
	s = (time_t)q;
	*frac = (long)r;
	*ok = 1;
	/* "YYYY-MM-DDTHH:MM:SS" is kept for the last second written: times of
	 * one connection are mostly in the same second */
	if (w->tcache_ok && w->tcache_s == (int64_t)s)
		return 1;
	/* another second of the same day: its time of day by arithmetic, the
	 * date kept (connections reported at their end interleave their
	 * start times, so the last second alone missed; gmtime_r took 3% of
	 * the JSON report thread, issue 19). Only when gmtime_r counted that
	 * day's seconds plainly: a TZ with leap seconds (right/...) goes the
	 * long way every time. */
	{
		int64_t day = q / 86400 - (q % 86400 < 0), tod = q - day * 86400;
		if (w->tcache_ok && w->tday_ok && w->tday == day) {
			two(w->tcache + 11, (int)(tod / 3600));
			two(w->tcache + 14, (int)(tod / 60 % 60));
			two(w->tcache + 17, (int)(tod % 60));
			w->tcache_s = q;
			return 1;
		}
		w->tday = day;
		w->tday_ok = 0;
	}
	if (!gmtime_r(&s, tm)) {
		*ok = 0;
		return 0;
	}
	if (tm->tm_year + 1900 < 0 || tm->tm_year + 1900 > 9999)
		return 0;
	k = tm->tm_year + 1900;
	two(w->tcache, k / 100);
	two(w->tcache + 2, k % 100);
	w->tcache[4] = '-';
	two(w->tcache + 5, tm->tm_mon + 1);
	w->tcache[7] = '-';
	two(w->tcache + 8, tm->tm_mday);
	w->tcache[10] = 'T';
	two(w->tcache + 11, tm->tm_hour);
	w->tcache[13] = ':';
	two(w->tcache + 14, tm->tm_min);
	w->tcache[16] = ':';
	two(w->tcache + 17, tm->tm_sec);
	w->tcache_s = (int64_t)s;
	w->tcache_ok = 1;
	w->tday_ok = (int64_t)tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec == q - w->tday * 86400;
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ", quoted (29 bytes), at o from w->tcache. */
static char *w_time(const struct jw *w, char *o, long frac)
{
	unsigned f = (unsigned)frac;   /* 0..999999: three pairs of digits */
	o[0] = '"';
	memcpy(o + 1, w->tcache, 19);
	o[20] = '.';
	memcpy(o + 21, jw_dig2 + 2 * (f / 10000), 2);
	memcpy(o + 23, jw_dig2 + 2 * (f / 100 % 100), 2);
	memcpy(o + 25, jw_dig2 + 2 * (f % 100), 2);
	o[27] = 'Z';
	o[28] = '"';
	return o + 29;
}

static void time_us_(struct jw *w, int64_t us)
{
	char buf[64];
	struct tm tm;
	long frac;
	int ok;
	if (!tcache_for(w, us, &frac, &tm, &ok)) {
		if (!ok) {
			null_(w);
			return;
		}
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		str_(w, buf);
		return;
	}
	/* "...SS.ffffffZ", quoted: nothing in it needs escaping */
	done(w, w_time(w, val_at(w, 29), frac));
}

char *jw_fmt_time_us(struct jw *w, char *o, int64_t us)
{
	struct tm tm;
	long frac;
	int ok;
	if (!tcache_for(w, us, &frac, &tm, &ok))
		return NULL;
	return w_time(w, o, frac);
}

char *jw_members(struct jw *w, size_t n)
{
	char *o;
	if (w->pretty || w->after_key || n > JW_MEMBERS_MAX || w->depth <= 0 || w->no_members)
		return NULL;
	reserve(w, n + 1);
	o = w->buf + w->n;
	if (!w->first[w->depth])
		*o++ = ',';
	return o;
}

void jw_members_end(struct jw *w, char *end)
{
	w->first[w->depth] = 0;
	done(w, end);
}

void jw_strn(struct jw *w, const uint8_t *s, size_t n) { strn_(w, s, n); }

size_t jw_strn_fit(const uint8_t *s, size_t n, size_t room, size_t *used)
{
	size_t i = 0, u = 0;
	while (i < n) {
		size_t k = i, len;
		if (plain[s[i]]) {
			len = 1;
			k = i + 1;
		} else {
			char e[8];   /* one character escaped: at most 6 bytes */
			len = (size_t)(esc_one(e, s, &k, n) - e);
		}
		if (len > room - u)
			break;
		u += len;
		i = k;
	}
	if (used)
		*used = u;
	return i;
}

void jw_tell(const struct jw *w, struct jw_pos *p)
{
	p->at = w->out + w->n;
	p->depth = w->depth;
	p->after_key = w->after_key;
	memcpy(p->first, w->first, sizeof(p->first));
}

uint64_t jw_since(const struct jw *w, const struct jw_pos *p)
{
	return w->out + w->n - p->at;
}

int jw_seek(struct jw *w, const struct jw_pos *p)
{
	if (w->out > p->at)
		return -1;
	w->n = (size_t)(p->at - w->out);
	w->depth = p->depth;
	w->after_key = p->after_key;
	memcpy(w->first, p->first, sizeof(w->first));
	return 0;
}
void jw_str(struct jw *w, const char *s) { str_(w, s); }
void jw_int(struct jw *w, int64_t v) { done(w, jw_fmt_i64(val_at(w, 21), v)); }
void jw_uint(struct jw *w, uint64_t v) { done(w, jw_fmt_u64(val_at(w, 20), v)); }
void jw_bool(struct jw *w, int v) { done(w, w_bool(val_at(w, 5), v)); }
void jw_null(struct jw *w) { null_(w); }
void jw_hex(struct jw *w, const uint8_t *b, size_t n) { hex_(w, b, n); }
void jw_time_us(struct jw *w, int64_t us) { time_us_(w, us); }

void jw_rawn(struct jw *w, const char *json, size_t n)
{
	if (n <= 256) {
		char *o = val_at(w, n);
		memcpy(o, json, n);
		done(w, o + n);
		return;
	}
	done(w, val_at(w, 0));
	put(w, json, n);
}

void jw_raw(struct jw *w, const char *literal)
{
	jw_rawn(w, literal, strlen(literal));
}

void jw_double(struct jw *w, double v, int decimals)
{
	char b[512];
	int n;
	if (v != v) {
		null_(w);
		return;
	}
	n = snprintf(b, sizeof(b), "%.*f", decimals, v);
	if (n >= 0 && (size_t)n < sizeof(b)) {
		jw_rawn(w, b, (size_t)n);
	} else if (n > 0) {   /* longer than b: as printf gives it */
		char *p = malloc((size_t)n + 1);
		done(w, val_at(w, 0));
		if (p) {
			snprintf(p, (size_t)n + 1, "%.*f", decimals, v);
			put(w, p, (size_t)n);
			free(p);
		}
	}
}

void jw_key_str_n(struct jw *w, const char *k, size_t kn, const char *s)
{
	if (!s) {
		key_(w, k, kn);
		null_(w);
		return;
	}
	key_strn(w, k, kn, (const uint8_t *)s, strlen(s));
}
void jw_key_strn_n(struct jw *w, const char *k, size_t kn, const uint8_t *s, size_t n)
{
	key_strn(w, k, kn, s, n);
}
void jw_key_int_n(struct jw *w, const char *k, size_t kn, int64_t v) { done(w, jw_fmt_i64(kv_at(w, k, kn, 21), v)); }
void jw_key_uint_n(struct jw *w, const char *k, size_t kn, uint64_t v) { done(w, jw_fmt_u64(kv_at(w, k, kn, 20), v)); }
void jw_key_bool_n(struct jw *w, const char *k, size_t kn, int v) { done(w, w_bool(kv_at(w, k, kn, 5), v)); }
void jw_key_hex_n(struct jw *w, const char *k, size_t kn, const uint8_t *b, size_t n)
{
	key_(w, k, kn);
	hex_(w, b, n);
}
void jw_key_null_n(struct jw *w, const char *k, size_t kn) { done(w, w_null(kv_at(w, k, kn, 4))); }
void jw_key_time_us_n(struct jw *w, const char *k, size_t kn, int64_t us)
{
	key_(w, k, kn);
	time_us_(w, us);
}

void jw_end(struct jw *w)
{
	putch(w, '\n');
	if (!w->hold)
		flush(w);
}

/* ---- fragment cache (jw_cached) ----------------------------------------
 *
 * Open addressing on (id, tag, depth, pretty, first[depth]); a fragment is
 * kept only when rendering it left the writer as deep as it found it,
 * with no error and no key waiting for its value. Bounded: JW_CACHE_SLOTS
 * fragments, JW_CACHE_BYTES bytes; past either, fragments are rendered
 * each time. */
#define JW_CACHE_SLOTS 2048
#define JW_CACHE_PROBE 8
#define JW_CACHE_BYTES ((size_t)16 << 20)

/* A kept fragment: the writer's state it was rendered in, and its bytes. */
struct jw_fragbody {
	int tag, depth;
	uint8_t pretty, first, first_after;
	char *p;          /* NULL when empty */
	size_t n;
};

struct jw_frag {
	const void *id;   /* NULL: free slot */
	struct jw_fragbody b;
};

/* jw_cached_key()'s fragments: a direct-mapped table, a newer fragment
 * taking an older one's place, so what a run keeps is bounded by
 * JW_KCACHE_SLOTS x (JW_KCACHE_KEY + JW_KCACHE_FRAG) whatever its inputs. */
#define JW_KCACHE_SLOTS 256
#define JW_KCACHE_KEY   4096u
#define JW_KCACHE_FRAG  (16u << 10)
#define JW_KCACHE_WINDOW 1024u   /* lookups between looks at the hit rate */

struct jw_kfrag {
	uint64_t h;
	uint8_t *key;     /* NULL: free slot */
	size_t kn;
	struct jw_fragbody b;
};

/* b was rendered for (tag) with w in the state it is in now (first: whether
 * a comma is due at w's depth) */
static int frag_fits(const struct jw_fragbody *b, const struct jw *w, int tag, uint8_t first)
{
	return b->tag == tag && b->depth == w->depth && b->pretty == (w->pretty != 0) && b->first == first;
}

static void frag_replay(struct jw *w, const struct jw_fragbody *b);

/* Keeps what the memory writer t rendered for (tag) from w's state. */
static void frag_keep(struct jw_fragbody *b, const struct jw *w, int tag, uint8_t first, const struct jw *t)
{
	b->tag = tag;
	b->depth = w->depth;
	b->pretty = w->pretty != 0;
	b->first = first;
	b->first_after = t->first[t->depth];
	b->p = t->mem;
	b->n = t->mem_n;
}

struct jw_cache {
	struct jw_frag slot[JW_CACHE_SLOTS];
	size_t count, bytes;
	uint64_t hits;
	struct jw_kfrag kslot[JW_KCACHE_SLOTS];
	uint32_t klook, khit;   /* in the current window */
	uint32_t kbypass;       /* lookups left to render directly (a window with few hits) */
	uint64_t khits;
};

struct jw_cache *jw_cache_new(void)
{
	return calloc(1, sizeof(struct jw_cache));
}

void jw_cache_free(struct jw_cache *c)
{
	size_t i;
	if (!c)
		return;
	for (i = 0; i < JW_CACHE_SLOTS; i++)
		free(c->slot[i].b.p);
	for (i = 0; i < JW_KCACHE_SLOTS; i++) {
		free(c->kslot[i].key);
		free(c->kslot[i].b.p);
	}
	free(c);
}

size_t jw_cache_count(const struct jw_cache *c, uint64_t *hits)
{
	if (hits)
		*hits = c ? c->hits : 0;
	return c ? c->count : 0;
}

/* render(arg) into a memory writer that starts where w is (depth, commas,
 * indentation): the writer, its bytes in ->mem; NULL when that failed
 * (no memory, or render left it elsewhere), render having then written
 * to w itself. */
static struct jw *render_mem(struct jw *w, jw_render_fn render, const void *arg)
{
	struct jw *t = malloc(sizeof(*t));
	if (!t) {
		render(w, arg);
		return NULL;
	}
	jw_init_mem(t, w->pretty);
	t->depth = w->depth;
	memcpy(t->first, w->first, sizeof(t->first));
	render(t, arg);
	flush(t);
	if (t->mem_failed || t->errors || t->after_key || t->depth != w->depth) {
		free(t->mem);
		free(t);
		render(w, arg);
		return NULL;
	}
	return t;
}

void jw_cached(struct jw *w, const void *id, int tag, jw_render_fn render, const void *arg)
{
	struct jw_cache *c = w->cache;
	struct jw_frag *e = NULL;
	struct jw *t;
	size_t h, i;
	uint8_t first;
	if (!c || !id || w->after_key || w->depth < 0 || w->depth >= JW_MAX_DEPTH) {
		render(w, arg);
		return;
	}
	first = w->first[w->depth];
	h = (size_t)(((uintptr_t)id >> 3) * 0x9e3779b97f4a7c15ull >> 40) ^ (size_t)tag * 31 ^ (size_t)w->depth * 7 ^
	    (size_t)first * 3 ^ (size_t)(w->pretty != 0);
	for (i = 0; i < JW_CACHE_PROBE; i++) {
		struct jw_frag *s = &c->slot[(h + i) % JW_CACHE_SLOTS];
		if (!s->id) {
			if (!e)
				e = s;
			break;
		}
		if (s->id == id && frag_fits(&s->b, w, tag, first)) {
			c->hits++;
			frag_replay(w, &s->b);
			return;
		}
	}
	if (!e || c->count >= JW_CACHE_SLOTS * 3 / 4 || c->bytes >= JW_CACHE_BYTES) {
		render(w, arg);
		return;
	}
	if (!(t = render_mem(w, render, arg)))
		return;
	e->id = id;
	frag_keep(&e->b, w, tag, first, t);
	c->count++;
	c->bytes += e->b.n;
	free(t);
	frag_replay(w, &e->b);
}

static void frag_replay(struct jw *w, const struct jw_fragbody *b)
{
	put(w, b->p, b->n);
	w->first[w->depth] = b->first_after;
}

size_t jw_cache_key_count(const struct jw_cache *c, uint64_t *hits)
{
	size_t i, n = 0;
	if (hits)
		*hits = c ? c->khits : 0;
	if (!c)
		return 0;
	for (i = 0; i < JW_KCACHE_SLOTS; i++)
		n += c->kslot[i].key != NULL;
	return n;
}

/* A fragment's key hashed 32 bytes a step in four independent lanes (a
 * hello's key is a few hundred bytes, and one chain of multiplies was the
 * lookup's cost: issue 19), then 8 at a time, then the rest. */
static uint64_t key_hash(const uint8_t *k, size_t n, int tag)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n ^ (uint64_t)(unsigned)tag << 32;
	size_t i = 0;
	if (n >= 32) {
		uint64_t a = h, b = h ^ 0x2545f4914f6cdd1dull, c = h ^ 0x632be59bd9b4e019ull, d = h ^ 0x85ebca77c2b2ae63ull;
		for (; i + 32 <= n; i += 32) {
			uint64_t v[4];
			memcpy(v, k + i, 32);
			a = hash_mum(a ^ v[0], 0xbf58476d1ce4e5b9ull);
			b = hash_mum(b ^ v[1], 0x94d049bb133111ebull);
			c = hash_mum(c ^ v[2], 0xd6e8feb86659fd93ull);
			d = hash_mum(d ^ v[3], 0xa0761d6478bd642full);
		}
		h = hash_mum(a ^ hash_mum(b, 0xe7037ed1a0b428dbull), c ^ hash_mum(d, 0x8ebc6af09c88c6e3ull));
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, k + i, 8);
		h = hash_mum(h ^ v, 0xbf58476d1ce4e5b9ull);
	}
	if (i < n) {
		uint64_t v = 0;
		memcpy(&v, k + i, n - i);
		h = hash_mum(h ^ v, 0x94d049bb133111ebull);
	}
	return h;
}

void jw_cached_key(struct jw *w, const void *key, size_t kn, int tag, jw_render_fn render, const void *arg)
{
	struct jw_cache *c = w->cache;
	struct jw_kfrag *e;
	struct jw *t;
	uint8_t *kc;
	uint64_t h;
	uint8_t first;
	if (!c || !key || !kn || kn > JW_KCACHE_KEY || w->after_key || w->depth < 0 || w->depth >= JW_MAX_DEPTH) {
		render(w, arg);
		return;
	}
	if (c->kbypass) {   /* the last window's keys were nearly all new: no copies to keep */
		c->kbypass--;
		render(w, arg);
		return;
	}
	if (++c->klook == JW_KCACHE_WINDOW) {
		if (c->khit < JW_KCACHE_WINDOW / 8)
			c->kbypass = 7 * JW_KCACHE_WINDOW;
		c->klook = c->khit = 0;
	}
	first = w->first[w->depth];
	h = key_hash(key, kn, tag) ^ (uint64_t)w->depth << 8 ^ (uint64_t)first << 1 ^ (uint64_t)(w->pretty != 0);
	e = &c->kslot[(h ^ h >> 32) % JW_KCACHE_SLOTS];
	if (e->key && e->h == h && e->kn == kn && frag_fits(&e->b, w, tag, first) && memcmp(e->key, key, kn) == 0) {
		c->khit++;
		c->khits++;
		frag_replay(w, &e->b);
		return;
	}
	if (!(t = render_mem(w, render, arg)))
		return;
	put(w, t->mem, t->mem_n);
	w->first[w->depth] = t->first[t->depth];
	if (t->mem_n <= JW_KCACHE_FRAG && (kc = malloc(kn)) != NULL) {
		memcpy(kc, key, kn);
		free(e->key);
		free(e->b.p);
		e->key = kc;
		e->kn = kn;
		e->h = h;
		frag_keep(&e->b, w, tag, first, t);
	} else {
		free(t->mem);
	}
	free(t);
}
