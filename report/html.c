/*
 * html.c - the report as one self-contained HTML file: inline CSS, inline
 * SVG ladder diagrams, no scripts, no external assets (a Content Security
 * Policy meta tag forbids them, so even an escaping slip could not run
 * code). What is said comes from ticket.c, as for the Markdown report;
 * this file gives it HTML syntax.
 *
 * Escaping: every wire string goes through esc_html() (control bytes as
 * \xNN, & < > " ' as entities); our own and knowledge-base text through
 * the same, with newlines as spaces. Attribute values are ours only.
 */
#include "report/ticket.h"
#include "report/esc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Wire bytes, escaped; our or knowledge-base prose the same, on one line. */
static void h_wire(FILE *o, const void *s, size_t n) { tk_escaped(o, esc_html, s, n, 0); }
static void h_text(FILE *o, const void *s, size_t n) { tk_escaped(o, esc_html, s, n, 1); }

/* Preformatted (commands): newlines kept, everything else escaped. */
static void h_pre(FILE *o, const char *s)
{
	const char *p = s;
	fputs("<pre>", o);
	while (*p) {
		size_t l = strcspn(p, "\n");
		h_wire(o, (const uint8_t *)p, l);
		p += l;
		if (*p == '\n') {
			fputc('\n', o);
			p++;
		}
	}
	fputs("</pre>\n", o);
}

/* ---- the SVG ladder ------------------------------------------------------ */

#define SV_W 900
#define SV_CX 230
#define SV_SX 700
#define SV_ROW 30
#define SV_TOP 56

static void h_ladder(FILE *o, const struct hs_record *rec)
{
	static struct tk_ladder l;
	static unsigned seq;
	char cli[80], srv[80];
	size_t i, rows;
	int h;
	unsigned id = ++seq;
	tk_ladder_build(rec, &l);
	rows = l.n + (l.tail[0] ? 1 : 0) + (l.clipped ? 1 : 0);
	h = SV_TOP + (int)rows * SV_ROW + 20;
	rpt_endpoint(cli, sizeof(cli), &rec->cli);
	rpt_endpoint(srv, sizeof(srv), &rec->srv);
	fprintf(o, "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"handshake ladder\">\n", SV_W, h, SV_W, h);
	fprintf(o, "<defs><marker id=\"a%u\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" "
		"orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#444\"/></marker>"
		"<marker id=\"f%u\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\">"
		"<path d=\"M0,0 L10,4 L0,8 z\" fill=\"#c62828\"/></marker></defs>\n", id, id);
	fprintf(o, "<text x=\"10\" y=\"20\" class=\"hd\">frame</text><text x=\"70\" y=\"20\" class=\"hd\">time (ms)</text>\n");
	fprintf(o, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"hd\">client %s</text>\n", SV_CX, cli);
	fprintf(o, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"hd\">server %s</text>\n", SV_SX, srv);
	fprintf(o, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n", SV_CX, SV_CX, h - 10);
	fprintf(o, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n", SV_SX, SV_SX, h - 10);
	for (i = 0; i < l.n; i++) {
		const struct tk_step *s = &l.s[i];
		int y = SV_TOP + (int)i * SV_ROW;
		int x1 = s->dir == DIR_C2S ? SV_CX : SV_SX, x2 = s->dir == DIR_C2S ? SV_SX - 2 : SV_CX + 2;
		fprintf(o, "<text x=\"10\" y=\"%d\" class=\"fr\">%" PRIu64 "</text><text x=\"70\" y=\"%d\" class=\"fr\">%.3f</text>\n",
			y + 4, s->frame, y + 4, (double)s->off_us / 1000.0);
		if (s->gap)
			fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"gap\"/>\n", x1, y, x2, y);
		else
			fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\" marker-end=\"url(#%c%u)\"/>\n",
				x1, y, x2, y, s->fail ? "arrow fail" : "arrow", s->fail ? 'f' : 'a', id);
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"%s\">", (SV_CX + SV_SX) / 2, y - 5,
			s->fail ? "lbl fail" : "lbl");
		h_text(o, s->label, strlen(s->label));
		fputs("</text>\n", o);
		if (s->fail)
			fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"lbl fail\">&#x2717; failed here</text>\n", SV_SX + 10,
				y + 4);
	}
	rows = l.n;
	if (l.clipped) {
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"lbl\">(%" PRIu64
			" more events not kept)</text>\n", (SV_CX + SV_SX) / 2, SV_TOP + (int)rows * SV_ROW, l.clipped);
		rows++;
	}
	if (l.tail[0]) {
		int y = SV_TOP + (int)rows * SV_ROW;
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"%s\">", (SV_CX + SV_SX) / 2, y,
			l.tail_fail ? "lbl fail" : "lbl");
		h_text(o, l.tail, strlen(l.tail));
		fputs("</text>\n", o);
		if (l.tail_fail)
			fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"lbl fail\">&#x2717; failed here</text>\n", SV_SX + 10, y);
	}
	fputs("</svg>\n", o);
}

static const char CSS[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;"
	"color:#1a1a1a;padding:0 16px}"
	"h1{font-size:24px;margin:0 0 8px}h1.bad{color:#b71c1c}h1.good{color:#1b5e20}"
	"h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:16px}"
	"table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;"
	"vertical-align:top}th{background:#f4f4f4}"
	"code,pre,.wire{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px}"
	"pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:8px;overflow:auto;white-space:pre-wrap;margin:4px 0}"
	".verdict{font-size:17px;padding:10px 14px;border-radius:4px}.verdict.bad{background:#ffebee}"
	".verdict.good{background:#e8f5e9}.sev{font-weight:bold;text-transform:uppercase}.sev.error{color:#b71c1c}"
	".sev.warning{color:#e65100}.stack{font-weight:bold;margin-top:6px}.disp{color:#6a1b9a}"
	"section.fail{border-left:4px solid #c62828;padding-left:14px;margin:24px 0}"
	"svg.ladder{display:block;margin:8px 0;background:#fff;border:1px solid #eee;max-width:100%;height:auto}"
	".lane{stroke:#888;stroke-width:2}.arrow{stroke:#444;stroke-width:1.5}.arrow.fail{stroke:#c62828;stroke-width:2.5}"
	".gap{stroke:#999;stroke-dasharray:4 4}"
	"svg text{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;fill:#222}"
	"svg .hd{font-weight:bold}svg .fr{fill:#666}svg .fail{fill:#c62828;font-weight:bold}"
	"footer{color:#666;font-size:13px;margin-top:32px}";

/* ---- the syntax of ticket.c's lines ------------------------------------ */

/* Prose, escaped; knowledge-base text marks code with backticks, as
 * Markdown does: a `quoted` part becomes <code> (a lone backtick stays). */
static void h_prose(FILE *o, const char *s, size_t n)
{
	size_t i = 0, a, b;
	while (i < n) {
		for (a = i; a < n && s[a] != '`'; a++)
			;
		for (b = a + 1; b < n && s[b] != '`'; b++)
			;
		if (a >= n || b >= n || b == a + 1) {   /* no pair left */
			h_text(o, s + i, n - i);
			return;
		}
		h_text(o, s + i, a - i);
		fputs("<code>", o);
		h_text(o, s + a + 1, b - a - 1);
		fputs("</code>", o);
		i = b + 1;
	}
}

/* Escaped prose between two tags of ours. */
static void h_in(FILE *o, const char *open, const struct tk_span *s, const char *close)
{
	fputs(open, o);
	h_text(o, s->s, s->n);
	fputs(close, o);
}

static void h_span(FILE *o, const struct tk_span *s, int in_cell)
{
	(void)in_cell;
	switch ((enum tk_kind)s->kind) {
	case TK_TEXT: fwrite(s->s, 1, s->n, o); break;
	case TK_PROSE: h_prose(o, s->s, s->n); break;
	case TK_WIRE: h_wire(o, s->s, s->n); break;
	case TK_CODE: h_in(o, "<code>", s, "</code>"); break;
	case TK_STRONG: h_in(o, "<b>", s, "</b>"); break;
	case TK_NONE: h_in(o, "<i>", s, "</i>"); break;
	case TK_SEV:
		fprintf(o, "<span class=\"sev %.*s\">", (int)s->n, s->s);   /* a name of ours */
		h_in(o, "", s, "</span>");
		break;
	case TK_URL:
		if (s->n >= 8 && !strncmp(s->s, "https://", 8)) {
			h_in(o, "<a href=\"", s, "\">");
			h_in(o, "", s, "</a>");
		} else {
			h_text(o, s->s, s->n);
		}
		break;
	case TK_BREAK: fputs("<br>", o); break;
	case TK_CELL: break;
	}
}

static void h_begin(FILE *o, int failed)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "img-src data:\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", o);
	fprintf(o, "<title>tlswhy: %s</title>\n<style>%s</style>\n</head>\n<body>\n",
		failed ? "failed TLS handshakes" : "TLS handshakes OK", CSS);
}

static void h_end(FILE *o, const struct tk_line *footer)
{
	fputs("<footer>", o);
	tk_line_write(&tk_html, o, footer);
	fputs("</footer>\n</body>\n</html>\n", o);
}

static void h_headline(FILE *o, int failed, const char *title, const struct tk_line *verdict)
{
	const char *c = failed ? "bad" : "good";
	fprintf(o, "<h1 class=\"%s\">%s</h1>\n<p class=\"verdict %s\"><b>Verdict:</b> ", c, title, c);
	tk_line_write(&tk_html, o, verdict);
	fputs("</p>\n", o);
}

static void h_heading(FILE *o, int level, const struct tk_line *l)
{
	fprintf(o, "<h%d>", level);
	tk_line_write(&tk_html, o, l);
	fprintf(o, "</h%d>\n", level);
}

static void h_section(FILE *o, int open)
{
	fputs(open ? "<section class=\"fail\">\n" : "</section>\n", o);
}

static void h_table(FILE *o, const struct tk_table *t, int open)
{
	int i;
	if (!open) {
		fputs("</table>\n", o);
		return;
	}
	if (t->kv) {
		fputs("<table class=\"kv\">\n", o);
		return;
	}
	fputs("<table>\n<tr>", o);
	for (i = 0; i < t->ncols; i++)
		fprintf(o, "<th>%s</th>", t->cols[i]);
	fputs("</tr>\n", o);
}

static void h_cell(FILE *o, const struct tk_table *t, int i, uint8_t prev, uint8_t next)
{
	if (i)
		fputs(prev & TK_HEAD ? "</th>" : "</td>", o);
	else
		fputs("<tr>", o);
	if (next & TK_END)
		fputs("</tr>\n", o);
	else if (next & TK_HEAD)
		fputs("<th>", o);
	else if (next & TK_FILL)
		fprintf(o, "<td colspan=\"%d\">", t->ncols - i);
	else
		fputs(next & TK_MONO ? "<td class=\"wire\">" : "<td>", o);
}

static void h_list(FILE *o, int ordered, int open)
{
	fprintf(o, "<%s%s>\n", open ? "" : "/", ordered ? "ol" : "ul");
}

static void h_item(FILE *o, int ordered, size_t n, const struct tk_line *l)
{
	(void)ordered;
	(void)n;
	fputs("<li>", o);
	tk_line_write(&tk_html, o, l);
}

static void h_item_end(FILE *o, int ordered)
{
	(void)ordered;
	fputs("</li>\n", o);
}

static void h_command(FILE *o, const char *stack, const char *text)
{
	fputs("<div class=\"stack\">", o);
	h_text(o, stack, strlen(stack));
	fputs("</div>", o);
	h_pre(o, text);
}

const struct tk_syntax tk_html = {
	.me = TK_HTML, .span = h_span, .cell = h_cell,
	/* paragraphs */
	.para_open = { [TK_P] = "<p>", [TK_P_KB] = "<p class=\"kb\">", [TK_P_DISPUTE] = "<p class=\"disp\">",
	               [TK_P_ITEM] = "<p>", [TK_P_ITEM_DISPUTE] = "<p class=\"disp\">",
	               [TK_P_ITEM_DISPUTE1] = "<p class=\"disp\">" },
	.para_close = { [TK_P] = "</p>\n", [TK_P_KB] = "</p>\n", [TK_P_DISPUTE] = "</p>\n",
	                [TK_P_ITEM] = "</p>", [TK_P_ITEM_DISPUTE] = "</p>\n", [TK_P_ITEM_DISPUTE1] = "</p>\n" },
	.begin = h_begin, .end = h_end, .headline = h_headline, .heading = h_heading,
	.section = h_section, .table = h_table, .list = h_list, .item = h_item,
	.item_end = h_item_end, .command = h_command, .ladder = h_ladder,
};
