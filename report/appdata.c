/*
 * appdata.c - the first decrypted application data of a direction, read
 * for every format (--keylog only): an HTTP/1.x request or status line, an
 * HTTP/2 connection preface and the types of the frames that follow it, or
 * bytes that are neither. json.c writes the parts as they are; the text,
 * Markdown and HTML reports show the line (escaped for their format by the
 * caller, it is wire bytes) and name the frame types from the table below.
 */
#include "report/report.h"

#include <string.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int rpt_appdata(const struct hs_record *rec, int d, struct rpt_appdata *a)
{
	const struct hs_decrypted *x = hs_rare(rec)->dec;
	const uint8_t *p;
	size_t n, i, off = 0;
	int h2 = 0;

	memset(a, 0, sizeof(*a));
	if (!x || d < 0 || d > 1 || !x->first_len[d])
		return 0;
	p = x->first[d];
	n = x->first_len[d] <= HS_DEC_FIRST ? x->first_len[d] : HS_DEC_FIRST;
	a->frame = x->first_frame[d];
	a->bytes = p;
	a->len = n;
	for (i = 0; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		;
	if (n >= sizeof(h2_preface) - 1 && memcmp(p, h2_preface, sizeof(h2_preface) - 1) == 0) {
		a->kind = APPD_H2_PREFACE;
		off = sizeof(h2_preface) - 1;
		h2 = 1;
	} else if (n >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ' && p[9] >= '1' && p[9] <= '5' &&
		   p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9') {
		a->kind = APPD_H1_STATUS;
		a->status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
		a->line_len = i;
	} else if (i > 0 && i < n && memchr(p, ' ', i) && p[0] >= 'A' && p[0] <= 'Z' &&
		   i >= 9 && memcmp(p + i - 9, " HTTP/1.", 8) == 0) {
		a->kind = APPD_H1_REQUEST;
		a->line_len = i;
	} else if ((x->alpn_len == 2 && memcmp(x->alpn, "h2", 2) == 0) ||
		   (rec->sh && rec->sh->alpn_len == 2 && memcmp(rec->sh->alpn, "h2", 2) == 0)) {
		/* ALPN h2: from EncryptedExtensions (TLS 1.3) or the ServerHello (TLS 1.2) */
		a->kind = APPD_H2_FRAMES;
		h2 = 1;
	} else {
		a->kind = APPD_OTHER;
	}
	/* frame header: length(3) type(1) flags(1) stream(4), RFC 9113 4.1 */
	while (h2 && off + 9 <= n && a->n_h2 < sizeof(a->h2_types)) {
		size_t fl = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
		a->h2_types[a->n_h2++] = p[off + 3];
		off += 9 + fl;
	}
	return 1;
}

const char *rpt_appdata_kind_name(enum rpt_appdata_kind k)
{
	switch (k) {
	case APPD_H2_PREFACE: return "http2_preface";
	case APPD_H1_STATUS:  return "http1_status";
	case APPD_H1_REQUEST: return "http1_request";
	case APPD_H2_FRAMES:  return "http2_frames";
	case APPD_OTHER:      return "other";
	default:              return "none";
	}
}

/* RFC 9113 section 6 */
const char *rpt_h2_frame_name(uint8_t t)
{
	static const char *const n[] = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
					 "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"};
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : NULL;
}

size_t rpt_appdata_prose(char *b, size_t cap, const struct rpt_appdata *a)
{
	size_t k = 0, i;
	int w;
	if (!cap)
		return 0;
	b[0] = 0;
	switch (a->kind) {
	case APPD_H1_STATUS:  w = snprintf(b, cap, "HTTP status %u", a->status); break;
	case APPD_H1_REQUEST: w = snprintf(b, cap, "HTTP/1.x request"); break;
	case APPD_H2_PREFACE: w = snprintf(b, cap, "HTTP/2 connection preface"); break;
	case APPD_H2_FRAMES:  w = snprintf(b, cap, "HTTP/2"); break;
	case APPD_OTHER:      w = snprintf(b, cap, "%zu bytes, not HTTP", a->len); break;
	default:              return 0;
	}
	k = w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
	for (i = 0; i < a->n_h2 && k < cap; i++) {
		const char *fn = rpt_h2_frame_name(a->h2_types[i]);
		char num[8];
		if (!fn) {
			snprintf(num, sizeof(num), "0x%02x", a->h2_types[i]);
			fn = num;
		}
		w = snprintf(b + k, cap - k, "%s%s", i ? ", " : ", frames ", fn);
		k += w < 0 ? 0 : (size_t)w < cap - k ? (size_t)w : cap - k - 1;
	}
	return k;
}
