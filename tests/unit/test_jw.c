/*
 * test_jw.c - the JSON writer's string escaping (report/jw.c scans 8 bytes
 * at a time) against a byte-at-a-time reference written here from RFC 8259
 * and RFC 3629, on fixed cases and on random byte strings biased towards
 * the bytes that need escaping; and its buffering: output reaches the FILE
 * whole when the outermost value closes, at jw_flush() and at jw_end().
 */
#include "report/jw.h"
#include "report/esc.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return check_done();
}
