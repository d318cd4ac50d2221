/*
 * test_esc.c - escaping of wire bytes for text, Markdown and HTML
 * (report/esc.c) and UTF-8 validation, table-driven.
 */
#include "report/esc.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <string.h>

struct tcase {
	const char *in;
	size_t len;
	const char *text, *md, *html;
};

#define S(x) x, sizeof(x) - 1

static const struct tcase cases[] = {
	{ S("api.example.com"), "api.example.com", "api.example.com", "api.example.com" },
	{ S("\x1b[31mred"), "\\x1b[31mred", "\\\\x1b\\[31mred", "\\x1b[31mred" },
	{ S("a\\x1b"), "a\\\\x1b", "a\\\\x1b", "a\\x1b" },
	{ S("line\nbreak\r"), "line\\x0abreak\\x0d", "line\\\\x0abreak\\\\x0d", "line\\x0abreak\\x0d" },
	{ S("a|b`c*d_e"), "a|b`c*d_e", "a\\|b\\`c\\*d\\_e", "a|b`c*d_e" },
	{ S("<script>&'\""), "<script>&'\"", "&#60;script&#62;&#38;'\"", "&#60;script&#62;&#38;&#39;&#34;" },
	{ S("caf\xc3\xa9"), "caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9" },            /* valid UTF-8 passes */
	{ S("bad\xff\xc3"), "bad\\xff\\xc3", "bad\\\\xff\\\\xc3", "bad\\xff\\xc3" },   /* invalid bytes escaped */
	{ S("\xc0\xaf"), "\\xc0\\xaf", "\\\\xc0\\\\xaf", "\\xc0\\xaf" },              /* overlong */
	{ S("\xed\xa0\x80"), "\\xed\\xa0\\x80", "\\\\xed\\\\xa0\\\\x80", "\\xed\\xa0\\x80" }, /* surrogate */
	{ S("x\xe2\x80\xaey"), "x\\u{202e}y", "x\\u{202e}y", "x\\u{202e}y" },         /* bidi override */
	{ S("\xc2\x9b"), "\\u{009b}", "\\u{009b}", "\\u{009b}" },                      /* C1 CSI */
	{ S("nul\0x"), "nul\\x00x", "nul\\\\x00x", "nul\\x00x" },
	{ S("del\x7f"), "del\\x7f", "del\\\\x7f", "del\\x7f" },
	/* Markdown never turns a wire string into a link (GitHub's autolinks) */
	{ S("https://evil.example/x"), "https://evil.example/x", "https\\://evil.example/x", "https://evil.example/x" },
	{ S("go www.evil.example"), "go www.evil.example", "go www\\.evil.example", "go www.evil.example" },
	{ S("a@b.example"), "a@b.example", "a\\@b.example", "a@b.example" },
	{ S("fe80::1 and 1.2.3.4:443"), "fe80::1 and 1.2.3.4:443", "fe80::1 and 1.2.3.4:443", "fe80::1 and 1.2.3.4:443" },
};

int main(void)
{
	char buf[256];
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		char what[64];
		snprintf(what, sizeof(what), "text #%zu", i);
		CHECK_STRF(esc_text(buf, sizeof(buf), (const uint8_t *)c->in, c->len), c->text, "%s", what);
		snprintf(what, sizeof(what), "md #%zu", i);
		CHECK_STRF(esc_md(buf, sizeof(buf), (const uint8_t *)c->in, c->len), c->md, "%s", what);
		snprintf(what, sizeof(what), "html #%zu", i);
		CHECK_STRF(esc_html(buf, sizeof(buf), (const uint8_t *)c->in, c->len), c->html, "%s", what);
	}
	/* never overflows, always terminated, says it was cut */
	{
		char small[8];
		memset(small, 'Z', sizeof(small));
		esc_text(small, sizeof(small), (const uint8_t *)"\x1b\x1b\x1b\x1b", 4);
		CHECK_STRF(small, "\\x1b...", "cut at an escape boundary");
		CHECK_STRF(esc_text(small, 1, (const uint8_t *)"abc", 3), "", "cap 1");
	}
	/* utf8_seq_len: lengths of valid sequences, 0 for invalid ones */
	{
		static const struct { const char *s; size_t n, want; } u[] = {
			{ "a", 1, 1 }, { "\xc3\xa9", 2, 2 }, { "\xe2\x82\xac", 3, 3 }, { "\xf0\x9f\x98\x80", 4, 4 },
			{ "\xc3", 1, 0 }, { "\xe2\x82", 2, 0 }, { "\xf4\x90\x80\x80", 4, 0 }, { "\x80", 1, 0 },
		};
		for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
			size_t got = utf8_seq_len((const uint8_t *)u[i].s, u[i].n);
			CHECK_INTF(got, u[i].want, "utf8_seq_len #%zu", i);
		}
	}
	return check_done();
}
