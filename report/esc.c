/*
 * esc.c - escaping wire bytes for text, Markdown and HTML (see esc.h).
 *
 * UTF-8 validity per RFC 3629 (no overlongs, no surrogates, max U+10FFFF).
 * Text escaping also drops C1 controls (U+0080..U+009F) and the bidi
 * controls (U+202A..U+202E, U+2066..U+2069) that can reorder a terminal
 * line, writing them as \u{XXXX}.
 */
#include "report/esc.h"

#include <pthread.h>

#include <stdio.h>
#include <string.h>

size_t utf8_seq_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t l, i;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { l = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { l = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { l = 4; cp = c & 0x07; }
	else return 0;
	if (n < l)
		return 0;
	for (i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return l;
}

static uint32_t utf8_cp(const uint8_t *s, size_t l)
{
	uint32_t cp = l == 1 ? s[0] : l == 2 ? s[0] & 0x1f : l == 3 ? s[0] & 0x0f : s[0] & 0x07;
	size_t i;
	for (i = 1; i < l; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

struct out {
	char *d;
	size_t cap, len;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (o->len + n + 4 > o->cap) {   /* keep room for "..." and NUL */
		o->full = 1;
		if (o->cap >= 4) {
			memcpy(o->d + (o->len <= o->cap - 4 ? o->len : o->cap - 4), "...", 3);
			o->len = (o->len <= o->cap - 4 ? o->len : o->cap - 4) + 3;
		}
		return;
	}
	memcpy(o->d + o->len, s, n);
	o->len += n;
}

enum mode { M_TEXT, M_MD, M_HTML };

static int is_unsafe_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f ||
	       cp == 0x061c || cp == 0xfeff;
}

/* GitHub-flavoured Markdown turns "scheme://..." and "www." in plain text
 * into links: the ':' before "//" and the '.' after "www" are escaped so a
 * wire string renders as text. */
static int md_autolink_at(const uint8_t *s, size_t n, size_t i)
{
	if (s[i] == ':')
		return i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/';
	if (s[i] == '.')
		return i >= 3 && (s[i - 1] | 0x20) == 'w' && (s[i - 2] | 0x20) == 'w' && (s[i - 3] | 0x20) == 'w';
	return 0;
}

/* plain[m][c]: c is copied as it is in mode m (printable ASCII that the
 * mode does not escape; Markdown's ':' and '.' go the slow way, for the
 * autolink check). Filled once, from the same sets the slow path tests. */
static uint8_t plain[3][256];
static void plain_init(void)
{
	int m, c;
	for (m = 0; m < 3; m++)
		for (c = 0x20; c < 0x7f; c++)
			plain[m][c] = !(m == M_HTML && strchr("&<>\"'", c)) &&
				      !(m == M_MD && (strchr("\\`*_[]<>#|~&!{}@", c) || c == ':' || c == '.')) &&
				      !(m == M_TEXT && c == '\\');
}

static char *esc(char *dst, size_t cap, const uint8_t *s, size_t n, enum mode m)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct out o = { dst, cap, 0, 0 };
	char tmp[16];
	size_t i = 0;
	if (cap == 0)
		return dst;
	pthread_once(&once, plain_init);
	while (i < n && !o.full) {
		uint8_t c = s[i];
		if (plain[m][c]) {
			/* a run copied at once; where it does not fit, what fits and
			 * then the byte that ends it, as byte by byte would */
			size_t j = i + 1, room;
			while (j < n && plain[m][s[j]])
				j++;
			room = o.cap >= o.len + 4 ? o.cap - 4 - o.len : 0;
			if (j - i <= room) {
				memcpy(o.d + o.len, s + i, j - i);
				o.len += j - i;
				i = j;
				continue;
			}
			memcpy(o.d + o.len, s + i, room);
			o.len += room;
			i += room;
			put(&o, (const char *)s + i, 1);   /* sets full, adds "..." */
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			if (m == M_HTML && strchr("&<>\"'", c)) {
				snprintf(tmp, sizeof(tmp), "&#%d;", c);
				put(&o, tmp, strlen(tmp));
			} else if (m == M_MD && (strchr("\\`*_[]<>#|~&!{}@", c) || md_autolink_at(s, n, i))) {
				if (c == '<' || c == '>' || c == '&') {
					snprintf(tmp, sizeof(tmp), "&#%d;", c);
					put(&o, tmp, strlen(tmp));
				} else {
					tmp[0] = '\\';
					tmp[1] = (char)c;
					put(&o, tmp, 2);
				}
			} else if (m == M_TEXT && c == '\\') {
				/* doubled, so a literal "\x1b" from the wire cannot pass
				 * for an escaped control byte */
				put(&o, "\\\\", 2);
			} else {
				put(&o, (const char *)&c, 1);
			}
			i++;
			continue;
		}
		size_t l = c >= 0x80 ? utf8_seq_len(s + i, n - i) : 0;
		if (l > 1) {
			uint32_t cp = utf8_cp(s + i, l);
			if (is_unsafe_cp(cp)) {
				snprintf(tmp, sizeof(tmp), "\\u{%04x}", (unsigned)cp);
				put(&o, tmp, strlen(tmp));
			} else {
				put(&o, (const char *)s + i, l);
			}
			i += l;
			continue;
		}
		snprintf(tmp, sizeof(tmp), m == M_MD ? "\\\\x%02x" : "\\x%02x", c);
		put(&o, tmp, strlen(tmp));
		i++;
	}
	dst[o.len < cap ? o.len : cap - 1] = '\0';
	return dst;
}

char *esc_text(char *dst, size_t cap, const uint8_t *s, size_t n) { return esc(dst, cap, s, n, M_TEXT); }
char *esc_md(char *dst, size_t cap, const uint8_t *s, size_t n) { return esc(dst, cap, s, n, M_MD); }
char *esc_html(char *dst, size_t cap, const uint8_t *s, size_t n) { return esc(dst, cap, s, n, M_HTML); }
