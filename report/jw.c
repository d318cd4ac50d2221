/*
 * jw.c - streaming JSON writer (see jw.h).
 *
 * Invariants: `first[depth]` is 1 until a member is written at that depth;
 * `after_key` is set between a key and its value so the value takes no
 * comma. Escaping follows RFC 8259: `"` and `\` escaped, controls as
 * \u00XX; invalid UTF-8 (RFC 3629: overlongs, surrogates, > U+10FFFF,
 * truncated sequences) replaced by U+FFFD, one replacement per bad byte.
 */
#include "report/jw.h"
#include "report/esc.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void jw_init(struct jw *w, FILE *f, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = 1;
}

static void indent(struct jw *w)
{
	int i;
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Called before every value or key: comma and indentation as needed. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
	if (w->depth > 0)
		indent(w);
}

static void put_escaped(FILE *f, const uint8_t *s, size_t n)
{
	size_t i = 0;
	fputc('"', f);
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			switch (c) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default:
				if (c < 0x20 || c == 0x7f)
					fprintf(f, "\\u%04x", c);
				else
					fputc(c, f);
			}
			i++;
			continue;
		}
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			fputs("\xef\xbf\xbd", f);   /* U+FFFD */
			i++;
		} else {
			fwrite(s + i, 1, l, f);
			i += l;
		}
	}
	fputc('"', f);
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	put_escaped(w->f, (const uint8_t *)key, strlen(key));
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_key = 1;
}

static void open_(struct jw *w, const char *key, char c)
{
	if (key)
		jw_key(w, key);
	sep(w);
	fputc(c, w->f);
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
	fputc(c, w->f);
}

void jw_obj_open(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

void jw_strn(struct jw *w, const uint8_t *s, size_t n)
{
	sep(w);
	put_escaped(w->f, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, (const uint8_t *)s, strlen(s));
}

void jw_int(struct jw *w, int64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRId64, v);
}

void jw_uint(struct jw *w, uint64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_bool(struct jw *w, int v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	sep(w);
	fputs("null", w->f);
}

void jw_raw(struct jw *w, const char *literal)
{
	sep(w);
	fputs(literal, w->f);
}

void jw_hex(struct jw *w, const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;
	sep(w);
	fputc('"', w->f);
	for (i = 0; i < n; i++) {
		fputc(hx[b[i] >> 4], w->f);
		fputc(hx[b[i] & 15], w->f);
	}
	fputc('"', w->f);
}

void jw_double(struct jw *w, double v, int decimals)
{
	sep(w);
	if (v != v)
		fputs("null", w->f);
	else
		fprintf(w->f, "%.*f", decimals, v);
}

void jw_time_us(struct jw *w, int64_t us)
{
	char buf[64];
	struct tm tm;
	time_t s = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	long frac = (long)(us - (int64_t)s * 1000000);
	if (!gmtime_r(&s, &tm)) {
		jw_null(w);
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	jw_str(w, buf);
}

void jw_key_str(struct jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_key_strn(struct jw *w, const char *k, const uint8_t *s, size_t n) { jw_key(w, k); jw_strn(w, s, n); }
void jw_key_int(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_key_uint(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_uint(w, v); }
void jw_key_bool(struct jw *w, const char *k, int v) { jw_key(w, k); jw_bool(w, v); }
void jw_key_hex(struct jw *w, const char *k, const uint8_t *b, size_t n) { jw_key(w, k); jw_hex(w, b, n); }
void jw_key_null(struct jw *w, const char *k) { jw_key(w, k); jw_null(w); }
void jw_key_time_us(struct jw *w, const char *k, int64_t us) { jw_key(w, k); jw_time_us(w, us); }

void jw_end(struct jw *w)
{
	fputc('\n', w->f);
}
