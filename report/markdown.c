/*
 * markdown.c - the report as GitHub-flavoured Markdown, for tickets
 * (GitHub, GitLab): a headline verdict, a summary table (a value that
 * breaks goes on in a row of its own: no raw <br> in a cell),
 * one section per group of identical failures with a ladder diagram in a
 * code block, the findings, ranked workarounds, dead ends, references.
 * What is said comes from ticket.c; this file gives it Markdown syntax.
 *
 * Escaping: every wire string (SNI, ALPN, certificate names, server bytes,
 * and the evidence lines that quote them) goes through esc_md(): control
 * bytes become \xNN, and | ` * _ [ ] < > # \ ~ & ! { } are neutralised, so a
 * value can sit in a table cell or a paragraph and never opens a code
 * span, a link or raw HTML. Wire strings never go inside code spans or
 * code blocks (where escapes are not interpreted): the ladder holds only
 * names from tlswhy's own tables. Knowledge-base text (operator-chosen
 * rule files) is escaped the same way; commands go into fenced blocks whose
 * fence is longer than any backtick run inside.
 */
#include "report/ticket.h"
#include "report/esc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Wire bytes, escaped for Markdown inline text; prose the same, on one line. */
static void md_wire(FILE *o, const void *s, size_t n) { tk_escaped(o, esc_md, s, n, 0); }
static void md_prose(FILE *o, const void *s, size_t n) { tk_escaped(o, esc_md, s, n, 1); }

/* A fenced code block, each line indented by `ind` spaces. */
static void md_code(FILE *o, const char *text, int ind, const char *lang)
{
	int run = 0, max = 0, fence;
	const char *p;
	for (p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	fence = max >= 3 ? max + 1 : 3;
	fprintf(o, "%*s%.*s%s\n%*s", ind, "", fence, "``````````````````````````````````", lang, ind, "");
	for (p = text; *p;) {   /* a line at a time, not a byte */
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		fwrite(p, 1, n, o);
		p += n;
		if (nl)
			fprintf(o, "%*s", ind, "");
	}
	if (p > text && p[-1] != '\n')
		fprintf(o, "\n%*s", ind, "");
	fprintf(o, "%.*s\n", fence, "``````````````````````````````````");
}

static const char *lang_of(const char *stack)
{
	if (!strcmp(stack, "aws") || !strcmp(stack, "shell"))
		return "sh";
	if (!strcmp(stack, "tomcat"))
		return "xml";
	if (!strcmp(stack, "envoy"))
		return "yaml";
	if (!strcmp(stack, "node"))
		return "js";
	if (!strcmp(stack, "nginx") || !strcmp(stack, "apache") || !strcmp(stack, "haproxy") ||
	    !strcmp(stack, "go") || !strcmp(stack, "java"))
		return stack;
	return "text";
}

/* ---- the ladder as text --------------------------------------------------- */

static void dashes(FILE *o, int n, char c)
{
	while (n-- > 0)
		fputc(c, o);
}

void tk_ladder_text(FILE *o, const struct hs_record *rec)
{
	static struct tk_ladder l;
	char cli[80], srv[80];
	size_t i;
	int w = 56, cl, sl;
	tk_ladder_build(rec, &l);
	for (i = 0; i < l.n; i++)
		if ((int)strlen(l.s[i].label) + 10 > w)
			w = (int)strlen(l.s[i].label) + 10;
	rpt_endpoint(cli, sizeof(cli), &rec->cli);
	rpt_endpoint(srv, sizeof(srv), &rec->srv);
	cl = (int)strlen(cli) + 7;
	sl = (int)strlen(srv) + 7;
	if (cl + sl + 2 > w + 2)
		w = cl + sl;
	fprintf(o, "%6s  %11s  client %s%*sserver %s\n", "frame", "time (ms)", cli, w + 2 - cl - sl, "", srv);
	for (i = 0; i < l.n; i++) {
		const struct tk_step *s = &l.s[i];
		int ll = (int)strlen(s->label);
		fprintf(o, "%6" PRIu64 "  %11.3f  ", s->frame, (double)s->off_us / 1000.0);
		if (s->gap) {
			fprintf(o, "|~~ %s ", s->label);
			dashes(o, w - ll - 4, '~');
			fputc('|', o);
		} else if (s->dir == DIR_C2S) {
			fprintf(o, "|-- %s ", s->label);
			dashes(o, w - ll - 5, '-');
			fputs(">|", o);
		} else {
			fputs("|<", o);
			dashes(o, w - ll - 5, '-');
			fprintf(o, " %s --|", s->label);
		}
		if (s->fail)
			fputs("  <== FAILED HERE", o);
		fputc('\n', o);
	}
	if (l.clipped)
		fprintf(o, "%6s  %11s  (%" PRIu64 " more events not kept)\n", "", "", l.clipped);
	if (l.tail[0])
		fprintf(o, "%6s  %11s  :  %s%s\n", "", "", l.tail, l.tail_fail ? "  <== FAILED HERE" : "");
}

/* ---- the syntax of ticket.c's lines ------------------------------------ */

/* Characters that keep a URL out of an autolink (<https://...>). */
static int md_autolink(const char *s, size_t n)
{
	size_t i;
	if (n < 8 || strncmp(s, "https://", 8))
		return 0;
	for (i = 0; i < n; i++)
		if (strchr(" <>\"'`\\|", s[i]))
			return 0;
	return 1;
}

/* Escaped prose between two marks of ours. */
static void md_in(FILE *o, const char *open, const struct tk_span *s, const char *close)
{
	fputs(open, o);
	md_prose(o, s->s, s->n);
	fputs(close, o);
}

static void md_span(FILE *o, const struct tk_span *s, int in_cell)
{
	switch ((enum tk_kind)s->kind) {
	case TK_TEXT: fwrite(s->s, 1, s->n, o); break;
	case TK_PROSE: md_prose(o, s->s, s->n); break;
	case TK_WIRE: md_wire(o, s->s, s->n); break;
	case TK_CODE: fprintf(o, "`%.*s`", (int)s->n, s->s); break;   /* ours: no backtick */
	case TK_STRONG: md_in(o, "**", s, "**"); break;
	case TK_NONE: fprintf(o, "*%.*s*", (int)s->n, s->s); break;
	case TK_SEV: md_in(o, "**", s, ":**"); break;
	case TK_URL:
		if (md_autolink(s->s, s->n))
			fprintf(o, "<%.*s>", (int)s->n, s->s);
		else
			md_prose(o, s->s, s->n);
		break;
	case TK_BREAK: fputs(in_cell ? "; " : "  \n", o); break;   /* break_rows: rarely in a cell */
	case TK_CELL: break;
	}
}

static void md_begin(FILE *o, int failed)
{
	(void)o;
	(void)failed;
}

static void md_end(FILE *o, const struct tk_line *footer)
{
	fputs("---\n\n*", o);
	tk_line_write(&tk_markdown, o, footer);
	fputs("*\n", o);
}

static void md_headline(FILE *o, int failed, const char *title, const struct tk_line *verdict)
{
	(void)failed;
	fprintf(o, "# %s\n\n**Verdict:** ", title);
	tk_line_write(&tk_markdown, o, verdict);
	fputs("\n\n", o);
}

static void md_heading(FILE *o, int level, const struct tk_line *l)
{
	fprintf(o, "%.*s ", level, "######");
	tk_line_write(&tk_markdown, o, l);
	fputs("\n\n", o);
}

static void md_section(FILE *o, int open)
{
	(void)o;
	(void)open;
}

static void md_table(FILE *o, const struct tk_table *t, int open)
{
	int i;
	if (!open) {
		fputc('\n', o);
		return;
	}
	fputc('|', o);
	for (i = 0; i < t->ncols; i++)
		if (*t->cols[i])
			fprintf(o, " %s |", t->cols[i]);
		else
			fputs(" |", o);
	fputs("\n|", o);
	for (i = 0; i < t->ncols; i++)
		fputs(t->align[i] == 'r' ? "---:|" : "---|", o);
	fputc('\n', o);
}

static void md_cell(FILE *o, const struct tk_table *t, int i, uint8_t prev, uint8_t next)
{
	if (!(next & TK_END)) {
		fputs(i ? " | " : "| ", o);
		return;
	}
	if (i)
		fputs(" |", o);
	for (; prev & TK_FILL && i < t->ncols; i++)
		fputs(" |", o);
	fputc('\n', o);
}

static void md_list(FILE *o, int ordered, int open)
{
	if (!ordered && !open)
		fputc('\n', o);
}

static void md_item(FILE *o, int ordered, size_t n, const struct tk_line *l)
{
	if (ordered)
		fprintf(o, "%zu. ", n);
	else
		fputs("- ", o);
	tk_line_write(&tk_markdown, o, l);
	fputc('\n', o);
}

static void md_item_end(FILE *o, int ordered)
{
	if (ordered)
		fputc('\n', o);
}

static void md_command(FILE *o, const char *stack, const char *text)
{
	fputs("\n   ", o);
	md_prose(o, stack, strlen(stack));
	fputs(":\n\n", o);
	md_code(o, text, 3, lang_of(stack));
}

static void md_ladder(FILE *o, const struct hs_record *rec)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (m) {
		tk_ladder_text(m, rec);
		fclose(m);
		md_code(o, buf, 0, "text");
		free(buf);
	}
	fputc('\n', o);
}

const struct tk_syntax tk_markdown = {
	.me = TK_MD, .break_rows = 1, .span = md_span, .cell = md_cell,
	/* paragraphs; inside a list item, blocks are indented by 3 (past "1. ") */
	.para_open = { [TK_P] = "", [TK_P_KB] = "", [TK_P_DISPUTE] = "> ",
	               [TK_P_ITEM] = "\n   ", [TK_P_ITEM_DISPUTE] = "   > ", [TK_P_ITEM_DISPUTE1] = "\n   > " },
	.para_close = { [TK_P] = "\n\n", [TK_P_KB] = "\n\n", [TK_P_DISPUTE] = "\n\n",
	                [TK_P_ITEM] = "\n", [TK_P_ITEM_DISPUTE] = "\n\n", [TK_P_ITEM_DISPUTE1] = "\n\n" },
	.begin = md_begin, .end = md_end, .headline = md_headline, .heading = md_heading,
	.section = md_section, .table = md_table, .list = md_list, .item = md_item,
	.item_end = md_item_end, .command = md_command, .ladder = md_ladder,
};
