/*
 * test_jw.c - the JSON writer's string escaping (report/jw.c scans 8 bytes
 * at a time) against a byte-at-a-time reference written here from RFC 8259
 * and RFC 3629, on fixed cases and on random byte strings biased towards
 * the bytes that need escaping; and its buffering: output reaches the FILE
 * whole when the outermost value closes, at jw_flush() and at jw_end().
 * Also: every byte value alone and inside long runs, strings across the
 * 8 KiB buffer's edge and around the direct-escape limit; every kind of
 * value, compact and pretty, against the bytes the writer gave before it
 * wrote keys and values in one step (issue 19); and jw_cached(): replayed
 * fragments give the same bytes as rendering them each time, at every
 * depth, comma state and indentation, and the cache is really used.
 * jw_strn_fit(): on random strings and every room, the prefix it gives is
 * whole characters, escapes in exactly the bytes it says (the writer's own
 * output, quotes off), within the room, and one more character would not
 * fit. jw_tell()/jw_seek(): written again after a seek, the output is what
 * writing only the second time gives; a seek past a flush is refused.
 * jw_stream()/jw_line(): a report held in a large buffer reaches an
 * unbuffered FILE only when the buffer is full, as the same bytes.
 * jw_members()/jw_fmt_time_us()/jw_fmt_strn(): members built in place are
 * the member calls' bytes, and the cases where they must not be used are
 * refused.
 */
#include "report/jw.h"
#include "report/esc.h"
#include "report/report.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The reference: every byte looked at on its own. */
static size_t ref_escape(char *o, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i = 0, k = 0;
	o[k++] = '"';
	while (i < n) {
		uint8_t c = s[i];
		size_t l;
		if (c == '"' || c == '\\') {
			o[k++] = '\\';
			o[k++] = (char)c;
		} else if (c == '\n') {
			o[k++] = '\\';
			o[k++] = 'n';
		} else if (c == '\r') {
			o[k++] = '\\';
			o[k++] = 'r';
		} else if (c == '\t') {
			o[k++] = '\\';
			o[k++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(o + k, "\\u00", 4);
			k += 4;
			o[k++] = hx[c >> 4];
			o[k++] = hx[c & 15];
		} else if (c < 0x80) {
			o[k++] = (char)c;
		} else if ((l = utf8_seq_len(s + i, n - i)) == 0) {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
		} else {
			memcpy(o + k, s + i, l);
			k += l;
			i += l;
			continue;
		}
		i++;
	}
	o[k++] = '"';
	return k;
}

/* What the writer makes of s, as the value of a one-element array. */
static size_t jw_escape(char *o, size_t cap, const uint8_t *s, size_t n)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	struct jw w;
	if (!f)
		return 0;
	jw_init(&w, f, 0);
	jw_arr_open(&w, NULL);
	jw_strn(&w, s, n);
	jw_arr_close(&w);
	fclose(f);
	if (len < 2 || len - 2 > cap) {
		free(mem);
		return 0;
	}
	memcpy(o, mem + 1, len - 2);   /* without the brackets */
	free(mem);
	return len - 2;
}

/* The same through the memory sink, after `pad` bytes already written,
 * so the string crosses the 8 KiB buffer's edge where pad says. */
static size_t jw_escape_pad(char *o, size_t cap, const uint8_t *s, size_t n, size_t pad)
{
	struct jw w;
	size_t i, z = 0, len;
	jw_init_mem(&w, 0);
	jw_arr_open(&w, NULL);
	for (i = 0; i + 2 < pad; i += 2, z++)   /* "0," pairs, then the string */
		jw_uint(&w, 0);
	jw_strn(&w, s, n);
	jw_arr_close(&w);
	jw_flush(&w);
	if (!w.mem)
		return 0;
	/* the string is the last value: after '[' and z "0," */
	len = w.mem_n - 1;   /* without ']' */
	i = 1 + 2 * z;
	if (len < i || len - i > cap) {
		free(w.mem);
		return 0;
	}
	memcpy(o, w.mem + i, len - i);
	free(w.mem);
	return len - i;
}

static int same_pad(const uint8_t *s, size_t n, size_t pad)
{
	static char a[6 * 20000 + 8], b[6 * 20000 + 8];
	size_t la = ref_escape(a, s, n), lb = jw_escape_pad(b, sizeof(b), s, n, pad);
	return la == lb && memcmp(a, b, la) == 0;
}

/* Every kind of value, with keys and without: doc_expected is what the
 * writer of commit c432c01 (a key, then its value, each on its own) gave,
 * compact then pretty. */
static void doc(struct jw *w)
{
	static const uint8_t wire[] = { 'a', '"', 0, 0xff, 'z' };
	static const uint8_t hexb[] = { 0x00, 0x0f, 0xa5, 0xff };
	jw_obj_open(w, NULL);
	jw_key_str(w, "s", "plain");
	jw_key_str(w, "nul", NULL);
	jw_key_strn(w, "wire", wire, sizeof(wire));
	jw_key_int(w, "neg", INT64_MIN);
	jw_key_int(w, "pos", INT64_MAX);
	jw_key_uint(w, "max", UINT64_MAX);
	jw_key_uint(w, "zero", 0);
	jw_key_bool(w, "t", 1);
	jw_key_bool(w, "f", 0);
	jw_key_null(w, "n");
	jw_key_hex(w, "hex", hexb, sizeof(hexb));
	jw_key_hex(w, "nohex", hexb, 0);
	jw_key_time_us(w, "time", 1700000000123456LL);
	jw_key_time_us(w, "before1970", -1500000);
	jw_arr_open(w, "empty");
	jw_arr_close(w);
	jw_obj_open(w, "emptyobj");
	jw_obj_close(w);
	jw_arr_open(w, "nums");
	jw_uint(w, 9);
	jw_uint(w, 10);
	jw_uint(w, 99);
	jw_uint(w, 100);
	jw_uint(w, 9999);
	jw_uint(w, 10000);
	jw_uint(w, 123456789);
	jw_int(w, -1);
	jw_int(w, -10);
	jw_bool(w, 1);
	jw_null(w);
	jw_str(w, "x");
	jw_double(w, 1.25, 2);
	jw_double(w, 0.0 / 0.0, 1);
	jw_obj_open(w, NULL);
	jw_key(w, "k");
	jw_arr_open(w, NULL);
	jw_arr_close(w);
	jw_obj_close(w);
	jw_arr_close(w);
	jw_obj_close(w);
	jw_end(w);
}

static const char doc_expected[] =
	"{\"s\":\"plain\",\"nul\":null,\"wire\":\"a\\\"\\u0000\357\277\275z\",\"neg\":-9223372036854775808,\"pos\":9223372036854775807,\"max\":18446744073709551615,\"zero\":0,\"t\":true,\"f\":false,\"n\":null,\"hex\":\"000fa5ff\",\"nohex\":\"\",\"time\":\"2023-11-14T22:13:20.123456Z\",\"before1970\":\"1969-12-31T23:59:58.500000Z\",\"empty\":[],\"emptyobj\":{},\"nums\":[9,10,99,100,9999,10000,123456789,-1,-10,true,null,\"x\",1.25,null,{\"k\":[]}]}\n"
		"{\n"
		"  \"s\": \"plain\",\n"
		"  \"nul\": null,\n"
		"  \"wire\": \"a\\\"\\u0000\357\277\275z\",\n"
		"  \"neg\": -9223372036854775808,\n"
		"  \"pos\": 9223372036854775807,\n"
		"  \"max\": 18446744073709551615,\n"
		"  \"zero\": 0,\n"
		"  \"t\": true,\n"
		"  \"f\": false,\n"
		"  \"n\": null,\n"
		"  \"hex\": \"000fa5ff\",\n"
		"  \"nohex\": \"\",\n"
		"  \"time\": \"2023-11-14T22:13:20.123456Z\",\n"
		"  \"before1970\": \"1969-12-31T23:59:58.500000Z\",\n"
		"  \"empty\": [],\n"
		"  \"emptyobj\": {},\n"
		"  \"nums\": [\n"
		"    9,\n"
		"    10,\n"
		"    99,\n"
		"    100,\n"
		"    9999,\n"
		"    10000,\n"
		"    123456789,\n"
		"    -1,\n"
		"    -10,\n"
		"    true,\n"
		"    null,\n"
		"    \"x\",\n"
		"    1.25,\n"
		"    null,\n"
		"    {\n"
		"      \"k\": []\n"
		"    }\n"
		"  ]\n"
		"}\n"
		"";

/* A fragment the way the verdict's knowledge-base text is one: keys,
 * strings that need escaping, nested arrays and objects. */
struct frag_arg {
	const char *title;
	int n;
};

static void frag(struct jw *w, const void *p)
{
	const struct frag_arg *a = p;
	int i;
	jw_key_str(w, "title", a->title);
	jw_arr_open(w, "items");
	for (i = 0; i < a->n; i++) {
		jw_obj_open(w, NULL);
		jw_key_int(w, "i", i);
		jw_key_str(w, "text", "a \"quoted\" line\twith caf\xc3\xa9 and \x01");
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (a->n > 2)
		jw_key_null(w, "extra");
}

/* A fragment that leaves a key waiting for its value: never cached. */
static void frag_key(struct jw *w, const void *p)
{
	(void)p;
	jw_key(w, "dangling");
}

/* One document of `conns` "connections", each with fragments at several
 * depths and comma states; with or without a cache. */
static char *frag_doc(int pretty, struct jw_cache *c, size_t pad, size_t *len)
{
	static const struct frag_arg fa = { "first \\ fragment", 3 }, fb = { "second", 0 },
				     fc = { "third, long enough to cross the buffer's edge now and then", 40 };
	struct jw w;
	int k;
	size_t i;
	jw_init_mem(&w, pretty);
	w.cache = c;
	jw_obj_open(&w, NULL);
	jw_arr_open(&w, "pad");
	for (i = 0; i < pad; i++)
		jw_uint(&w, i % 10);
	jw_arr_close(&w);
	jw_arr_open(&w, "connections");
	for (k = 0; k < 200; k++) {
		jw_obj_open(&w, NULL);
		if (k % 3 == 0)   /* the fragment first in its object, or after a member */
			jw_cached(&w, &fa, 1, frag, &fa);
		jw_key_int(&w, "id", k);
		jw_cached(&w, &fa, 1, frag, &fa);
		jw_cached(&w, &fb, 1, frag, &fb);
		jw_cached(&w, &fa, 2, frag, &fb);   /* same id, another tag: another fragment */
		jw_obj_open(&w, "deeper");
		jw_cached(&w, &fc, 1, frag, &fc);
		jw_obj_open(&w, "deepest");
		jw_cached(&w, &fc, 1, frag, &fc);
		jw_obj_close(&w);
		jw_obj_close(&w);
		jw_cached(&w, &fb, 3, frag_key, NULL);
		jw_uint(&w, (uint64_t)k);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_end(&w);
	*len = w.mem_n;
	return w.mem;
}

static int same(const uint8_t *s, size_t n)
{
	static char a[6 * 4096 + 8], b[6 * 4096 + 8];
	size_t la = ref_escape(a, s, n), lb = jw_escape(b, sizeof(b), s, n);
	return la == lb && memcmp(a, b, la) == 0;
}

int main(void)
{
	static const char *fixed[] = {
		"", "a", "plain ascii words, longer than eight bytes", "\"quoted\"", "back\\slash",
		"tab\there", "ctl\x01\x1f\x7f", "caf\xc3\xa9 and \xe2\x82\xac", "bad \xff\xfe utf-8 \xc3",
		"12345678\"", "1234567\\", "123456789012345\x7f", "\xf0\x9f\x98\x80 emoji", "\xed\xa0\x80 surrogate",
	};
	uint8_t buf[4096];
	size_t i, j;
	unsigned seed = 12345;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		CHECKF(same((const uint8_t *)fixed[i], strlen(fixed[i])), "fixed #%zu", i);
	/* random strings: mostly plain, with every special byte somewhere */
	{
		static const uint8_t hot[] = { '"', '\\', 0, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xa9, 0xe2, 0x82,
					       0xac, 0xf0, 0x9f, 0xff, '\n' };
		int bad = 0;
		for (i = 0; i < 20000; i++) {
			size_t n = (size_t)(rand_r(&seed) % (i % 10 == 0 ? sizeof(buf) : 40));
			for (j = 0; j < n; j++) {
				unsigned r = (unsigned)rand_r(&seed);
				buf[j] = r % 8 == 0 ? hot[(r >> 8) % sizeof(hot)] : r % 8 == 1 ? (uint8_t)(r >> 8)
											 : (uint8_t)(0x20 + (r >> 8) % 0x5f);
			}
			if (!same(buf, n) && bad++ < 3)
				CHECKF(0, "random string %zu (%zu bytes) differs from the reference", i, n);
		}
		CHECKF(bad == 0, "%d of 20000 random strings differ", bad);
	}
	/* every byte value alone, and in the middle of a long plain run at
	 * every offset from a 16-byte block's start */
	{
		int bad = 0;
		unsigned c;
		for (c = 0; c < 256; c++) {
			uint8_t one = (uint8_t)c;
			if (!same(&one, 1) && bad++ < 3)
				CHECKF(0, "byte 0x%02x alone differs from the reference", c);
			for (j = 0; j < 40; j++) {
				memset(buf, 'a', 80);
				buf[j] = (uint8_t)c;
				if (!same(buf, 80) && bad++ < 3)
					CHECKF(0, "byte 0x%02x at %zu of 80 differs from the reference", c, j);
				if (!same(buf + j, 80 - j) && bad++ < 3)
					CHECKF(0, "byte 0x%02x first of %zu differs from the reference", c, 80 - j);
			}
		}
		CHECKF(bad == 0, "%d single-byte cases differ", bad);
	}
	/* long strings, around the direct-escape limit (1024), crossing the
	 * 8 KiB buffer's edge at every offset near it */
	{
		static uint8_t big[20000];
		static const size_t lens[] = { 1023, 1024, 1025, 1400, 4096, 8191, 8192, 8193, 20000 };
		static const uint8_t edge[] = "ab\"\x01\xe2\x82\xac\xff cdefghijklmnopq\\";
		int bad = 0;
		size_t pad;
		for (i = 0; i < sizeof(big); i++)
			big[i] = i % 97 == 5 ? '"' : i % 131 == 7 ? 0x01 : i % 89 == 3 ? 0xc3 : (uint8_t)('a' + i % 26);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (pad = 8150; pad < 8200; pad += 3)
				if (!same_pad(big, lens[i], pad) && bad++ < 3)
					CHECKF(0, "%zu bytes after %zu differ from the reference", lens[i], pad);
			if (!same(big, lens[i]) && bad++ < 3)
				CHECKF(0, "%zu bytes differ from the reference", lens[i]);
		}
		for (i = 0; i < 300; i++)   /* a short string with escapes across the edge */
			if (!same_pad(edge, sizeof(edge) - 1, 8050 + i) && bad++ < 3)
				CHECKF(0, "a short string after %zu differs from the reference", 8050 + i);
		CHECKF(bad == 0, "%d long or edge cases differ", bad);
	}
	/* jw_strn_fit against the writer itself */
	{
		static const uint8_t hot[] = { '"', '\\', 0, 0x1f, 0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f,
					       0x98, 0x80, 0xff, '\n' };
		static char o[6 * 300 + 8];
		int bad = 0;
		for (i = 0; i < 3000; i++) {
			size_t n = (size_t)(rand_r(&seed) % 300), room, k, used, lo;
			for (j = 0; j < n; j++) {
				unsigned r = (unsigned)rand_r(&seed);
				buf[j] = r % 3 == 0 ? hot[(r >> 8) % sizeof(hot)] : (uint8_t)(0x20 + (r >> 8) % 0x5f);
			}
			room = (size_t)(rand_r(&seed) % 400);
			k = jw_strn_fit(buf, n, room, &used);
			lo = jw_escape(o, sizeof(o), buf, k);   /* the prefix as written, quotes on */
			if ((k > n || used > room || lo != used + 2) && bad++ < 3)
				CHECKF(0, "fit %zu: prefix %zu of %zu in room %zu says %zu bytes, writes %zu", i, k, n,
				       room, used, lo - 2);
			if (k < n) {   /* the next whole character would not fit */
				size_t cost = 1;
				while (cost < 8 && jw_strn_fit(buf + k, n - k, cost, NULL) == 0)
					cost++;
				if ((cost == 8 || used + cost <= room) && bad++ < 3)
					CHECKF(0, "fit %zu: the character at %zu (%zu bytes) would fit in room %zu", i, k,
					       cost, room);
			}
		}
		CHECKF(bad == 0, "jw_strn_fit: %d of 3000 random strings wrong", bad);
		CHECK(jw_strn_fit((const uint8_t *)"abc", 3, 0, NULL) == 0);
		CHECK(jw_strn_fit((const uint8_t *)"\xe2\x82\xac!", 4, 2, NULL) == 0);   /* never half a character */
		CHECK(jw_strn_fit((const uint8_t *)"\xe2\x82\xac!", 4, 3, NULL) == 3);
		CHECK(jw_strn_fit((const uint8_t *)"\x01x", 2, 5, NULL) == 0);              /* \u0001 is 6 */
		CHECK(jw_strn_fit((const uint8_t *)"\x01x", 2, 6, NULL) == 1);
	}
	/* jw_tell / jw_seek: a value written, undone, written again */
	{
		struct jw w, w2;
		struct jw_pos at;
		jw_init_mem(&w, 0);
		jw_init_mem(&w2, 0);
		jw_obj_open(&w, NULL);
		jw_obj_open(&w2, NULL);
		jw_key_str(&w, "a", "x");
		jw_key_str(&w2, "a", "x");
		jw_tell(&w, &at);
		jw_key_str(&w, "long", "first try, to be undone");
		jw_arr_open(&w, "list");
		jw_uint(&w, 1);
		CHECK(jw_since(&w, &at) == strlen(",\"long\":\"first try, to be undone\",\"list\":[1"));
		CHECK_INT(jw_seek(&w, &at), 0);
		CHECK(jw_since(&w, &at) == 0);
		jw_key_str(&w, "short", "y");
		jw_key_str(&w2, "short", "y");
		jw_obj_close(&w);
		jw_obj_close(&w2);
		jw_flush(&w);
		jw_flush(&w2);
		CHECK(w.mem && w2.mem && w.mem_n == w2.mem_n && !memcmp(w.mem, w2.mem, w.mem_n));
		free(w.mem);
		free(w2.mem);
		/* bytes since the mark handed out: refused, nothing changed */
		jw_init_mem(&w, 0);
		jw_arr_open(&w, NULL);
		jw_tell(&w, &at);
		for (i = 0; i < 3000; i++)
			jw_uint(&w, 1234);
		CHECK(jw_since(&w, &at) == 3000 * 5 - 1);
		CHECK_INT(jw_seek(&w, &at), -1);
		jw_arr_close(&w);
		jw_flush(&w);
		CHECK(w.mem && w.mem_n == 1 + 3000 * 5 - 1 + 1);
		free(w.mem);
	}
	/* times at the ends of the range: no overflow (UBSan), valid output */
	{
		struct jw w;
		static const char want[] = "[\"1970-01-01T00:00:00.000000Z\",\"1969-12-31T23:59:59.999999Z\","
					   "\"1969-12-31T23:59:58.000001Z\"";
		jw_init_mem(&w, 0);
		jw_arr_open(&w, NULL);
		jw_time_us(&w, 0);
		jw_time_us(&w, -1);
		jw_time_us(&w, -1999999);
		jw_time_us(&w, INT64_MIN);
		jw_time_us(&w, INT64_MAX);
		jw_arr_close(&w);
		jw_flush(&w);
		CHECK(w.mem && w.mem_n > sizeof(want) - 1 && !memcmp(w.mem, want, sizeof(want) - 1));
		CHECK(w.mem && w.mem[w.mem_n - 1] == ']');
		free(w.mem);
	}
	/* every kind of value, compact and pretty: the bytes of before */
	{
		char *out = NULL;
		size_t olen = 0;
		int pretty;
		for (pretty = 0; pretty < 2; pretty++) {
			struct jw w;
			jw_init_mem(&w, pretty);
			doc(&w);
			out = realloc(out, olen + w.mem_n);
			if (out && w.mem)
				memcpy(out + olen, w.mem, w.mem_n);
			olen += w.mem_n;
			free(w.mem);
		}
		CHECKF(out && olen == sizeof(doc_expected) - 1 && !memcmp(out, doc_expected, olen),
		       "every value kind, compact and pretty, as before (%zu bytes, expected %zu)", olen,
		       sizeof(doc_expected) - 1);
		free(out);
	}
	/* jw_cached: the same bytes as rendering each time, and really cached */
	{
		int pretty;
		size_t pad;
		for (pretty = 0; pretty < 2; pretty++) {
			for (pad = 0; pad < 4000; pad += 1333) {
				struct jw_cache *c = jw_cache_new();
				size_t la, lb, lc, kept;
				uint64_t hits = 0;
				char *a = frag_doc(pretty, NULL, pad, &la);
				char *b = frag_doc(pretty, c, pad, &lb);
				char *d = frag_doc(pretty, c, pad + 1, &lc);   /* warm cache, shifted edges */
				char *e;
				size_t le;
				CHECKF(c && a && b && la == lb && !memcmp(a, b, la),
				       "cached fragments, %s, pad %zu: the same bytes as rendered (%zu vs %zu)",
				       pretty ? "pretty" : "compact", pad, la, lb);
				e = frag_doc(pretty, NULL, pad + 1, &le);
				CHECKF(d && e && lc == le && !memcmp(d, e, le), "warm cache, %s, pad %zu: the same bytes",
				       pretty ? "pretty" : "compact", pad + 1);
				kept = jw_cache_count(c, &hits);
				/* per document 5 calls a connection, one more in every third */
				CHECKF(kept == 6 && hits == 2 * (200 * 5 + 67) - 6,
				       "six fragments kept (not the dangling key), the rest replayed: %zu kept, %llu hits",
				       kept, (unsigned long long)hits);
				free(a);
				free(b);
				free(d);
				free(e);
				jw_cache_free(c);
			}
		}
	}
	/* buffering: nothing lost or reordered across many values and a flush */
	{
		char *mem = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&mem, &len);
		struct jw w;
		jw_init(&w, f, 0);
		jw_obj_open(&w, NULL);
		jw_arr_open(&w, "n");
		for (i = 0; i < 5000; i++)
			jw_uint(&w, i);
		jw_arr_close(&w);
		jw_flush(&w);
		fflush(f);
		CHECKF(len > 20000 && mem[len - 1] == ']', "jw_flush hands over everything written (%zu bytes)", len);
		jw_key_str(&w, "k", "v");
		jw_obj_close(&w);
		fflush(f);
		CHECKF(len > 0 && mem[len - 1] == '}', "closing the outermost value flushes");
		jw_end(&w);
		fclose(f);
		CHECKF(len > 0 && mem[len - 1] == '\n' && !memcmp(mem, "{\"n\":[0,1,2,", 12) &&
			       !memcmp(mem + len - 15, "4999],\"k\":\"v\"}\n", 15),
		       "the document is whole and in order");
		free(mem);
	}
	/* rpt_endpoint: "ip:port" and "[ip]:port", cut to the buffer as
	 * snprintf would cut them */
	{
		static const struct {
			int fam;
			uint8_t addr[16];
			uint16_t port;
			const char *ip;
		} ep[] = {
			{ 4, { 10, 0, 0, 1 }, 443, "10.0.0.1" },
			{ 4, { 255, 255, 255, 255 }, 65535, "255.255.255.255" },
			{ 4, { 0, 0, 0, 0 }, 0, "0.0.0.0" },
			{ 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 8443, "2001:db8::1" },
			{ 6, { 0xfe, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }, 1, "fe80:102:304:506:708:90a:b0c:d0e" },
		};
		size_t e, n;
		int bad = 0;
		for (e = 0; e < sizeof(ep) / sizeof(ep[0]); e++) {
			struct hs_addr a;
			char want[80], got[80];
			memset(&a, 0, sizeof(a));
			a.family = (uint8_t)ep[e].fam;
			memcpy(a.addr, ep[e].addr, 16);
			a.port = ep[e].port;
			for (n = 1; n <= sizeof(got); n++) {
				if (ep[e].fam == 6)
					snprintf(want, n, "[%s]:%u", ep[e].ip, ep[e].port);
				else
					snprintf(want, n, "%s:%u", ep[e].ip, ep[e].port);
				memset(got, 'x', sizeof(got));
				rpt_endpoint(got, n, &a);
				if (strcmp(got, want) != 0 || (n < sizeof(got) && got[n] != 'x'))
					bad++;
			}
		}
		CHECKF(bad == 0, "rpt_endpoint: %d renderings differ from printf's, or wrote past the buffer", bad);
	}
	/* rpt_out_buffer: a report to a file is written RPT_OUT_BUF bytes at a
	 * time (glibc alone would write every 4 KiB: st_blksize) */
	{
		FILE *f = tmpfile(), *g = tmpfile();
		char line[100];
		struct stat st;
		size_t k, n = 0;
		memset(line, 'x', sizeof(line));
		CHECK(f && g);
		CHECK_INT(rpt_out_buffer(f), 0);
		CHECKF(rpt_out_buffer(g) == -1, "a second stream is refused the one buffer");
		for (k = 0; n + sizeof(line) < RPT_OUT_BUF; k++)
			n += fwrite(line, 1, sizeof(line), f);
		CHECK(fstat(fileno(f), &st) == 0);
		CHECKF(st.st_size == 0, "%zu bytes are still in the buffer, none written (%lld on disk)", n,
		       (long long)st.st_size);
		n += fwrite(line, 1, sizeof(line), f);
		CHECK(fstat(fileno(f), &st) == 0);
		CHECKF(st.st_size >= (off_t)RPT_OUT_BUF - (off_t)sizeof(line), "a full buffer is one write (%lld on disk)",
		       (long long)st.st_size);
		fflush(f);
		CHECK(fstat(fileno(f), &st) == 0);
		CHECK_INT(st.st_size, (long long)n);
		fclose(f);
		fclose(g);
	}
	/* jw_stream: a report's lines held in the writer's large buffer and
	 * handed to an unbuffered FILE only when it is full or at jw_flush();
	 * the bytes are those of a writer that hands each line over */
	{
		static char big[JW_STREAM_BUF];
		FILE *f = tmpfile(), *g = tmpfile();
		struct jw a, b;
		struct stat st;
		long k, lines = 0;
		int early = 0, room = 1;
		CHECK(f && g);
		setvbuf(f, NULL, _IONBF, 0);
		jw_init(&a, f, 0);
		jw_stream(&a, big, sizeof(big));
		CHECK(a.hold && a.cap == sizeof(big));
		for (k = 0; k < 6000; k++) {
			jw_line(&a);
			room &= a.cap - a.n >= JW_LINE_ROOM;
			jw_obj_open(&a, NULL);
			jw_key_uint(&a, "line", (uint64_t)k);
			jw_key_str(&a, "text", k % 7 ? "a short one" : "\"quoted\" and \\ escaped, and a good deal longer than the others");
			jw_obj_close(&a);
			jw_end(&a);
			jw_init(&b, g, 0);
			jw_obj_open(&b, NULL);
			jw_key_uint(&b, "line", (uint64_t)k);
			jw_key_str(&b, "text", k % 7 ? "a short one" : "\"quoted\" and \\ escaped, and a good deal longer than the others");
			jw_obj_close(&b);
			jw_end(&b);
			if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && !lines)
				lines = k;
			early |= st.st_size > 0 && (uint64_t)st.st_size + sizeof(big) - JW_LINE_ROOM < a.out + a.n - 200;
		}
		CHECKF(lines > 1000, "the first bytes reach the file after %ld lines, not when the buffer is full", lines);
		CHECKF(room, "jw_line leaves room for a line to be measured and undone");
		CHECK(!early);
		jw_flush(&a);
		fflush(g);
		CHECK(ferror(f) == 0);
		{
			long na = ftell(f), nb = ftell(g);
			char *x = malloc((size_t)na + 1), *y = malloc((size_t)nb + 1);
			CHECK(x && y && na == nb && na > 0);
			if (x && y && na == nb && na > 0) {
				rewind(f);
				rewind(g);
				CHECK(fread(x, 1, (size_t)na, f) == (size_t)na && fread(y, 1, (size_t)nb, g) == (size_t)nb);
				CHECKF(memcmp(x, y, (size_t)na) == 0, "a streamed report is byte for byte the one written line by line");
			}
			free(x);
			free(y);
		}
		fclose(f);
		fclose(g);
	}
	/* jw_members: members built in place are the bytes of the member calls;
	 * NULL where the caller must use them (pretty, a key waiting, too
	 * long, no_members); given up before jw_members_end, nothing changes.
	 * jw_fmt_time_us: jw_time_us's bytes, NULL outside years 0-9999. */
	{
		static const int64_t times[] = { 0, 1, 999999, 1700000000123456, 1700000000999999, -1, -1000001,
						 -62135596800000000, 253402300799999999, 253402300800000000,
						 -62167219200000001, INT64_MAX, INT64_MIN };
		size_t t;
		int bad = 0, nulls = 0;
		for (t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
			struct jw a, b;
			char *o;
			jw_init_mem(&a, 0);
			jw_init_mem(&b, 0);
			jw_obj_open(&a, NULL);
			jw_obj_open(&b, NULL);
			jw_key_uint(&a, "x", t);
			jw_key_uint(&b, "x", t);
			o = jw_members(&a, 128);
			if (o && (o = (char *)memcpy(o, "\"t\":", 4) + 4, o = jw_fmt_time_us(&a, o, times[t])) != NULL) {
				o = memcpy(o, ",\"n\":", 5);
				o = jw_fmt_i64(o + 5, times[t]);
				jw_members_end(&a, o);
			} else {
				nulls++;
				jw_key_time_us(&a, "t", times[t]);   /* given up: the general way */
				jw_key_int(&a, "n", times[t]);
			}
			jw_key_time_us(&b, "t", times[t]);
			jw_key_int(&b, "n", times[t]);
			jw_obj_close(&a);
			jw_obj_close(&b);
			jw_flush(&a);
			jw_flush(&b);
			bad += !a.mem || !b.mem || a.mem_n != b.mem_n || memcmp(a.mem, b.mem, a.mem_n) != 0;
			free(a.mem);
			free(b.mem);
		}
		CHECKF(bad == 0, "%d members built in place differ from the member calls' bytes", bad);
		/* times against printf's bytes from gmtime_r, across seconds and
		 * within one (the writer keeps the last second's text) */
		{
			int64_t us;
			int wrong = 0;
			struct jw m;
			jw_init_mem(&m, 0);
			jw_arr_open(&m, NULL);
			for (us = -3000000; us < 3000000; us += 123457)
				jw_time_us(&m, 1700000000000000 + us);
			jw_arr_close(&m);
			jw_flush(&m);
			{
				char ref[96], *p = m.mem ? m.mem + 1 : NULL;
				for (us = -3000000; p && us < 3000000; us += 123457) {
					int64_t at = 1700000000000000 + us;
					time_t sec = (time_t)(at / 1000000);
					struct tm tm;
					gmtime_r(&sec, &tm);
					snprintf(ref, sizeof(ref), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"", tm.tm_year + 1900,
						 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(at % 1000000));
					wrong += strncmp(p, ref, 29) != 0;
					p += 30;
				}
			}
			CHECKF(wrong == 0, "%d times differ from printf's", wrong);
			free(m.mem);
		}
		/* jw_fmt_strn: jw_strn's bytes for every length up to its limit, NULL past it */
		{
			static uint8_t str[JW_STR_MAX + 1];
			static char out[JW_STR_ROOM(JW_STR_MAX + 1)];
			size_t n, k;
			int diff = 0;
			for (k = 0; k < sizeof(str); k++)
				str[k] = (uint8_t)(k % 7 == 3 ? '"' : k % 11 == 5 ? 0x01 : k % 13 == 2 ? 0xc3 : 'a' + k % 26);
			for (n = 0; n <= JW_STR_MAX; n += n < 40 ? 1 : 37) {
				struct jw m;
				char *e = jw_fmt_strn(out, str, n);
				jw_init_mem(&m, 0);
				jw_strn(&m, str, n);
				jw_flush(&m);
				diff += !e || !m.mem || (size_t)(e - out) != m.mem_n || memcmp(out, m.mem, m.mem_n) != 0;
				free(m.mem);
			}
			CHECKF(diff == 0, "jw_fmt_strn differs from jw_strn at %d lengths", diff);
			CHECK(jw_fmt_strn(out, str, JW_STR_MAX + 1) == NULL);
			/* jw_fmt_plain: jw_str's bytes for a plain string, NULL for one
			 * that needs an escape (at any place in it) or is too long */
			{
				static const char *const yes[] = { "", "a", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "1:abc+/=",
								   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
				char pt[80], u[80];
				size_t y, pos;
				int wrongp = 0;
				for (y = 0; y < sizeof(yes) / sizeof(yes[0]); y++) {
					struct jw m;
					char *e = jw_fmt_plain(out, yes[y], 64);
					jw_init_mem(&m, 0);
					jw_str(&m, yes[y]);
					jw_flush(&m);
					wrongp += !e || !m.mem || (size_t)(e - out) != m.mem_n || memcmp(out, m.mem, m.mem_n) != 0;
					free(m.mem);
				}
				for (pos = 0; pos < 20; pos++) {
					static const char nonplain[] = { '"', '\\', 0x01, 0x1f, 0x7f, (char)0x80, (char)0xc3 };
					size_t q;
					for (q = 0; q < sizeof(nonplain); q++) {
						memset(pt, 'x', 20);
						pt[20] = 0;
						pt[pos] = nonplain[q];
						wrongp += jw_fmt_plain(u, pt, 64) != NULL;
					}
				}
				memset(pt, 'x', 65);
				pt[65] = 0;
				wrongp += jw_fmt_plain(u, pt, 64) != NULL;
				CHECKF(wrongp == 0, "jw_fmt_plain: %d wrong answers", wrongp);
			}
		}
		CHECKF(nulls == 4, "jw_fmt_time_us gives up on the 4 times outside years 0-9999 (%d)", nulls);
		{
			struct jw w;
			jw_init_mem(&w, 1);
			jw_obj_open(&w, NULL);
			CHECK(jw_members(&w, 10) == NULL);   /* pretty */
			jw_init_mem(&w, 0);
			CHECK(jw_members(&w, 10) == NULL);   /* no object open */
			jw_obj_open(&w, NULL);
			CHECK(jw_members(&w, JW_MEMBERS_MAX + 1) == NULL);
			jw_key(&w, "k");
			CHECK(jw_members(&w, 10) == NULL);   /* a key waits for its value */
			jw_uint(&w, 1);
			w.no_members = 1;
			CHECK(jw_members(&w, 10) == NULL);
			w.no_members = 0;
			CHECK(jw_members(&w, 10) != NULL);   /* given up: nothing written */
			jw_key_uint(&w, "z", 2);
			jw_obj_close(&w);
			jw_flush(&w);
			CHECK(w.mem && w.mem_n == 13 && memcmp(w.mem, "{\"k\":1,\"z\":2}", 13) == 0);
			free(w.mem);
		}
	}
	/* jw_fmt_u64 / jw_fmt_i64: snprintf's digits for every value below a
	 * million, every value of each four-digit half of the eight-digit
	 * fast path (the halves are split in separate lanes that cannot carry
	 * into each other), the values about each power of ten, and random
	 * values over the whole range; the bytes past the end are free */
	{
		char ref[32], got[48];
		uint64_t v, p10 = 1;
		int bad = 0, k;
		unsigned long long checked = 0;
#define FMT_ONE(val)                                                                        \
	do {                                                                                \
		uint64_t x_ = (val);                                                        \
		char *e_ = jw_fmt_u64(got, x_);                                             \
		int n_ = snprintf(ref, sizeof(ref), "%llu", (unsigned long long)x_);        \
		checked++;                                                                  \
		if ((e_ - got != n_ || memcmp(got, ref, (size_t)n_)) && bad++ < 3)          \
			CHECKF(0, "jw_fmt_u64(%llu) gave \"%.*s\"", (unsigned long long)x_, \
			       (int)(e_ - got), got);                                       \
	} while (0)
		for (v = 0; v < 1000000; v++)
			FMT_ONE(v);
		for (v = 0; v < 10000; v++)
			FMT_ONE(v * 10000 + (v * 7919 + 13) % 10000);
		for (k = 0; k < 20; k++, p10 *= 10) {
			int dj;
			for (dj = -3; dj <= 3; dj++)
				FMT_ONE(p10 + (uint64_t)(int64_t)dj);
		}
		FMT_ONE(UINT64_MAX);
		FMT_ONE(UINT64_MAX - 1);
		FMT_ONE(99999999);
		FMT_ONE(100000000);
		{
			uint64_t x = 0x9e3779b97f4a7c15ull;
			for (k = 0; k < 200000; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				FMT_ONE(x >> (x % 64));
			}
		}
#undef FMT_ONE
		CHECKF(bad == 0, "jw_fmt_u64 differs from snprintf for %d of %llu values", bad, checked);
		{
			char *e = jw_fmt_i64(got, INT64_MIN);
			CHECK(e - got == 20 && memcmp(got, "-9223372036854775808", 20) == 0);
			e = jw_fmt_i64(got, -7);
			CHECK(e - got == 2 && memcmp(got, "-7", 2) == 0);
			e = jw_fmt_i64(got, -12345678);
			CHECK(e - got == 9 && memcmp(got, "-12345678", 9) == 0);
		}
	}
	/* jw_time_us through one writer over times in no order: seconds of
	 * one day, of the days either side, across midnight, before 1970 and
	 * far apart, each against gmtime_r and snprintf (the writer keeps the
	 * last second's text and the day's date between calls) */
	{
		char want[64];
		struct jw w;
		uint64_t x = 0x243f6a8885a308d3ull;
		int k, bad = 0;
		size_t at = 0;
		static const int64_t base[] = { 1700000000, 1700006399, 86399, 0, -1, -86400, -86401, 951782400,
						 4102444799 };
		jw_init_mem(&w, 0);
		jw_arr_open(&w, NULL);
		jw_flush(&w);
		at = w.mem_n;
		for (k = 0; k < 30000; k++) {
			int64_t us, q, r;
			time_t s;
			struct tm tm;
			int n;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			us = (base[x % (sizeof(base) / sizeof(base[0]))] + (int64_t)(x >> 8 & 0x3ffff) - 131072) * 1000000 +
			     (int64_t)(x >> 32) % 1000000;
			q = us / 1000000, r = us % 1000000;
			if (r < 0)
				q--, r += 1000000;
			s = (time_t)q;
			if (!gmtime_r(&s, &tm))
				continue;
			n = snprintf(want, sizeof(want), "%s\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"", k && at ? "," : "",
				     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)r);
			jw_time_us(&w, us);
			jw_flush(&w);
			if ((!w.mem || w.mem_n - at != (size_t)n || memcmp(w.mem + at, want, (size_t)n) != 0) && bad++ < 3)
				CHECKF(0, "jw_time_us(%lld) wrote \"%.*s\", not %s", (long long)us,
				       w.mem ? (int)(w.mem_n - at) : 0, w.mem ? w.mem + at : "", want);
			at = w.mem ? w.mem_n : 0;
		}
		CHECKF(bad == 0, "jw_time_us differs from gmtime_r for %d of 30000 times", bad);
		free(w.mem);
	}
	return check_done();
}
