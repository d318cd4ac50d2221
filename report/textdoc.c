/*
 * textdoc.c - the text summary: the document of the Markdown report
 * (ticket.c decides what it says) in plain-text syntax for a terminal or a
 * pipe. The default text report offline; -v and --all write each
 * connection in full instead (report.c), -q only the headline.
 *
 *   TLS handshakes: FAILED — 1501 of 1503 connections failed
 *   Verdict: The target ... (side at fault: target, confidence: high).
 *
 *   Summary
 *   -------
 *     Connections reported   1503
 *     ...
 *
 * Tables are laid out as a whole (tk_syntax.grid): label/value tables as
 * aligned pairs, the others as columns under their titles. Headings are
 * underlined (level 2) or indented (level 3), lists are "- " and "1. ".
 *
 * Escaping: wire strings and knowledge-base prose go through esc_text()
 * (control bytes and bidi overrides as \xNN), prose on one line; the
 * backticks knowledge-base text marks code with are dropped (HTML makes
 * them <code>). Colour (bold, red, green) only in tk_text_color, and never
 * inside a value that came off the wire.
 */
#include "report/ticket.h"
#include "report/esc.h"

#include <stdlib.h>
#include <string.h>

#define BOLD  "\033[1m"
#define RED   "\033[31m"
#define GREEN "\033[32m"
#define OFF   "\033[0m"

static void t_wire(FILE *o, const void *s, size_t n) { tk_escaped(o, esc_text, s, n, 0); }

/* Prose without the backticks that mark code in knowledge-base text. */
static void t_prose(FILE *o, const void *s, size_t n)
{
	const char *p = s;
	size_t i = 0, j;
	while (i < n) {
		for (j = i; j < n && p[j] != '`'; j++)
			;
		if (j > i)
			tk_escaped(o, esc_text, p + i, j - i, 1);
		i = j + 1;
	}
}

static void span(FILE *o, const struct tk_span *s, int in_cell, int color)
{
	switch ((enum tk_kind)s->kind) {
	case TK_TEXT: fwrite(s->s, 1, s->n, o); break;
	case TK_PROSE: t_prose(o, s->s, s->n); break;
	case TK_WIRE: t_wire(o, s->s, s->n); break;
	case TK_CODE: t_prose(o, s->s, s->n); break;   /* ours; escaped all the same */
	case TK_STRONG:
		fputs(color ? BOLD : "", o);
		t_prose(o, s->s, s->n);
		fputs(color ? OFF : "", o);
		break;
	case TK_NONE: fwrite(s->s, 1, s->n, o); break;
	case TK_SEV:
		fputs(color ? (s->n == 5 && !memcmp(s->s, "error", 5) ? BOLD RED : BOLD) : "", o);
		t_prose(o, s->s, s->n);
		fputc(':', o);
		fputs(color ? OFF : "", o);
		break;
	case TK_URL: t_prose(o, s->s, s->n); break;
	case TK_BREAK: fputs(in_cell ? "; " : "\n  ", o); break;
	case TK_CELL: break;
	}
}

static void t_span(FILE *o, const struct tk_span *s, int in_cell) { span(o, s, in_cell, 0); }
static void c_span(FILE *o, const struct tk_span *s, int in_cell) { span(o, s, in_cell, 1); }

/* Columns a string takes on a terminal: UTF-8 continuation bytes and our
 * colour sequences take none. */
static size_t width(const char *s)
{
	size_t w = 0;
	while (*s) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			if (*s)
				s++;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
		s++;
	}
	return w;
}

static void pad(FILE *o, size_t n)
{
	while (n--)
		fputc(' ', o);
}

static void grid(FILE *o, const struct tk_table *t, char *const *cells, size_t nrows)
{
	size_t nc = (size_t)t->ncols, w[16] = { 0 }, r, c;
	if (nc > 16)
		nc = 16;
	for (c = 0; c < nc; c++)
		w[c] = t->kv ? 0 : width(t->cols[c]);
	for (r = 0; r < nrows; r++)
		for (c = 0; c < nc; c++) {
			const char *x = cells[r * (size_t)t->ncols + c];
			size_t k = x ? width(x) : 0;
			if (k > w[c])
				w[c] = k;
		}
	if (!t->kv) {   /* the titles, then the rows under them */
		fputs("  ", o);
		for (c = 0; c < nc; c++) {
			size_t k = width(t->cols[c]);
			if (t->align[c] == 'r')
				pad(o, w[c] - k);
			fputs(t->cols[c], o);
			if (c + 1 < nc)
				pad(o, (t->align[c] == 'r' ? 0 : w[c] - k) + 2);
		}
		fputc('\n', o);
	}
	for (r = 0; r < nrows; r++) {
		size_t last = nc;
		while (last > 0 && !cells[r * (size_t)t->ncols + last - 1])
			last--;
		fputs("  ", o);
		for (c = 0; c < last; c++) {
			const char *x = cells[r * (size_t)t->ncols + c];
			size_t k = x ? width(x) : 0;
			if (t->align[c] == 'r')
				pad(o, w[c] - k);
			fputs(x ? x : "", o);
			if (c + 1 < last)
				pad(o, (t->align[c] == 'r' ? 0 : w[c] - k) + 2);
		}
		fputc('\n', o);
	}
	fputc('\n', o);
}

static void t_cell(FILE *o, const struct tk_table *t, int i, uint8_t prev, uint8_t next)
{
	(void)o; (void)t; (void)i; (void)prev; (void)next;   /* tables go through grid() */
}

static void t_table(FILE *o, const struct tk_table *t, int open)
{
	(void)o; (void)t; (void)open;
}

static void t_begin(FILE *o, int failed)
{
	(void)o;
	(void)failed;
}

static void t_end(FILE *o, const struct tk_line *footer)
{
	(void)o;
	(void)footer;   /* the counts line closes the text report (report.c) */
}

static void headline(FILE *o, int failed, const char *title, const struct tk_line *verdict, int color,
		     const struct tk_syntax *y)
{
	if (color)
		fputs(failed ? BOLD RED : BOLD GREEN, o);
	fputs(title, o);
	fputs(color ? OFF "\n" : "\n", o);
	fputs("Verdict: ", o);
	tk_line_write(y, o, verdict);
	fputs("\n\n", o);
}

static void t_headline(FILE *o, int failed, const char *title, const struct tk_line *verdict)
{
	headline(o, failed, title, verdict, 0, &tk_text);
}

static void c_headline(FILE *o, int failed, const char *title, const struct tk_line *verdict)
{
	headline(o, failed, title, verdict, 1, &tk_text_color);
}

/* Level 2 underlined; level 3 indented, as the paragraphs under it. */
static void heading(FILE *o, int level, const struct tk_line *l, const struct tk_syntax *y)
{
	char *buf = NULL;
	size_t n = 0, k;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return;
	tk_line_write(y, m, l);
	if (fclose(m) != 0) {
		free(buf);
		return;
	}
	if (level <= 2) {
		fprintf(o, "%s\n", buf);
		for (k = width(buf); k; k--)
			fputc('-', o);
		fputs("\n", o);
	} else {
		fprintf(o, "%s\n", buf);
	}
	free(buf);
}

static void t_heading(FILE *o, int level, const struct tk_line *l) { heading(o, level, l, &tk_text); }
static void c_heading(FILE *o, int level, const struct tk_line *l) { heading(o, level, l, &tk_text_color); }

static void t_section(FILE *o, int open)
{
	(void)o;
	(void)open;
}

static void t_list(FILE *o, int ordered, int open)
{
	if (!ordered && !open)
		fputc('\n', o);
}

static void item(FILE *o, int ordered, size_t n, const struct tk_line *l, const struct tk_syntax *y)
{
	if (ordered)
		fprintf(o, "  %zu. ", n);
	else
		fputs("  - ", o);
	tk_line_write(y, o, l);
	fputc('\n', o);
}

static void t_item(FILE *o, int ordered, size_t n, const struct tk_line *l) { item(o, ordered, n, l, &tk_text); }
static void c_item(FILE *o, int ordered, size_t n, const struct tk_line *l)
{
	item(o, ordered, n, l, &tk_text_color);
}

static void t_item_end(FILE *o, int ordered)
{
	if (ordered)
		fputc('\n', o);
}

/* A command under its stack's name, each line indented; knowledge-base
 * text, so escaped (a newline stays a newline). */
static void t_command(FILE *o, const char *stack, const char *text)
{
	const char *p = text;
	fputs("\n     ", o);
	t_prose(o, stack, strlen(stack));
	fputs(":\n", o);
	while (*p) {
		size_t k = strcspn(p, "\n");
		fputs("       ", o);
		t_wire(o, p, k);
		fputc('\n', o);
		p += k;
		if (*p == '\n')
			p++;
	}
}

static void t_ladder(FILE *o, const struct hs_record *rec)
{
	char *buf = NULL, *p;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return;
	tk_ladder_text(m, rec);
	if (fclose(m) == 0) {
		for (p = buf; *p;) {
			size_t k = strcspn(p, "\n");
			fprintf(o, "  %.*s\n", (int)k, p);
			p += k;
			if (*p == '\n')
				p++;
		}
	}
	free(buf);
	fputc('\n', o);
}

#define TEXT_PARAS                                                                                          \
	.para_open = { [TK_P] = "", [TK_P_KB] = "", [TK_P_DISPUTE] = "  > ", [TK_P_ITEM] = "     ",           \
		       [TK_P_ITEM_DISPUTE] = "     > ", [TK_P_ITEM_DISPUTE1] = "     > " },                     \
	.para_close = { [TK_P] = "\n\n", [TK_P_KB] = "\n\n", [TK_P_DISPUTE] = "\n\n", [TK_P_ITEM] = "\n",     \
			[TK_P_ITEM_DISPUTE] = "\n", [TK_P_ITEM_DISPUTE1] = "\n" }

const struct tk_syntax tk_text = {
	.me = TK_TXT, .break_rows = 1, .span = t_span, .cell = t_cell, TEXT_PARAS,
	.begin = t_begin, .end = t_end, .headline = t_headline, .heading = t_heading,
	.section = t_section, .table = t_table, .list = t_list, .item = t_item,
	.item_end = t_item_end, .command = t_command, .ladder = t_ladder, .grid = grid,
};

const struct tk_syntax tk_text_color = {
	.me = TK_TXT, .break_rows = 1, .span = c_span, .cell = t_cell, TEXT_PARAS,
	.begin = t_begin, .end = t_end, .headline = c_headline, .heading = c_heading,
	.section = t_section, .table = t_table, .list = t_list, .item = c_item,
	.item_end = t_item_end, .command = t_command, .ladder = t_ladder, .grid = grid,
};
