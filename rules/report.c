/*
 * report.c - findings as text and as JSON.
 *
 * Evidence is rendered here, from the record, through the templates the
 * loader compiled: wire strings inside it were escaped for a terminal by
 * rk_render() (esc_text), and the JSON writer escapes again for JSON.
 * Knowledge-base text comes from rule files the operator chose to load.
 *
 * Workarounds are ranked by their success rate for this finding: the kb
 * entry's rate, replaced by the rule's `adjust` line when it has one (a
 * cipher finding puts the cipher fix first), highest first, kb order on
 * ties.
 */
#include "rules/rule_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/record.h"
#include "report/jw.h"

#define EV_LINE 1024
#define EV_FRAMES 16

/* Ranked for this rule: the kb entry's rates, a rule's `adjust` lines
 * replacing them; highest first, kb order on ties. */
size_t rk_rank(const struct rk_rule *r, struct rk_ranked *out, size_t cap)
{
	const struct rk_kb *k = r->kb;
	size_t n = 0, i, j;
	uint16_t a;
	for (i = 0; i < k->n_wa && n < cap; i++) {
		struct rk_ranked x = { &k->wa[i], k->wa[i].rate, NULL };
		for (a = 0; a < r->n_adj; a++)
			if (!strcmp(r->adj[a].wa_id, k->wa[i].id)) {
				x.rate = r->adj[a].rate;
				x.why = r->adj[a].why;
			}
		if (x.rate == 0 && x.rate != k->wa[i].rate)
			continue;   /* `adjust ID 0%`: this fix does not apply to this finding */
		for (j = n; j > 0 && out[j - 1].rate < x.rate; j--)
			out[j] = out[j - 1];
		out[j] = x;
		n++;
	}
	return n;
}

uint8_t rk_side_of(const struct rk_rule *r)
{
	return r->side != 255 ? r->side : r->kb->side;
}

uint8_t rk_conf_of(const struct rk_rule *r)
{
	return r->confidence ? r->confidence : r->kb->confidence;
}

uint8_t rk_basis_of(const struct rk_rule *r)
{
	return r->basis ? r->basis : r->kb->basis;
}

uint8_t rule_findings_side(const struct rule_findings *f)
{
	uint8_t s, i;
	if (!f || !f->diag)
		return 255;
	s = rk_side_of(f->diag);
	for (i = 0; i < f->n_cand; i++)
		if (rk_side_of(f->cand[i]) != s)
			return RK_SIDE_UNDETERMINED;
	return s;
}

/* ---- text ---------------------------------------------------------------- */

static const char *col(int color, const char *c)
{
	return color ? c : "";
}

/* Prints multi-line text with each continuation line indented. */
static void put_indented(FILE *o, const char *s, int indent)
{
	for (; *s; s++) {
		fputc(*s, o);
		if (*s == '\n')
			fprintf(o, "%*s", indent, "");
	}
}

/* Prose, word-wrapped at WRAP columns; `col` is where the cursor is now,
 * continuation lines start at `indent`. Newlines in the text are kept.
 * Returns the column after the text. */
#define WRAP 100
static int put_wrapped(FILE *o, const char *s, int col, int indent)
{
	int space = 0;
	while (*s) {
		size_t w = strcspn(s, " \n");
		if (w) {
			if (col > indent && col + space + (int)w > WRAP) {
				fprintf(o, "\n%*s", indent, "");
				col = indent;
			} else if (space) {
				fputc(' ', o);
				col++;
			}
			fwrite(s, 1, w, o);
			col += (int)w;
			s += w;
			space = 0;
		}
		if (*s == '\n') {
			fprintf(o, "\n%*s", indent, "");
			col = indent;
			space = 0;
			s++;
		} else if (*s == ' ') {
			while (*s == ' ')
				s++;
			space = 1;
		}
	}
	return col;
}

static void text_evidence(FILE *o, struct rk_eval *e, const struct rk_tmpl *t, uint16_t n, int indent)
{
	char line[EV_LINE];
	uint16_t i;
	for (i = 0; i < n; i++) {
		rk_render(e, &t[i], line, sizeof(line), NULL, 0);
		fprintf(o, "%*s- ", indent, "");
		put_wrapped(o, line, indent + 2, indent + 2);
		fputc('\n', o);
	}
}

static void text_disputes(FILE *o, const struct rk_dispute *d, uint16_t n, int indent, int color)
{
	uint16_t i;
	for (i = 0; i < n; i++) {
		fprintf(o, "%*s%sDISPUTED:%s ", indent, "", col(color, "\033[1;35m"), col(color, "\033[0m"));
		put_wrapped(o, d[i].text, indent + 10, indent + 2);
		if (d[i].source)
			fprintf(o, " [%s]", d[i].source);
		fputc('\n', o);
	}
}

static void text_check(FILE *o, const char *check, int indent)
{
	fprintf(o, "%*stells them apart: ", indent, "");
	put_wrapped(o, check, indent + 18, indent + 4);
	fputc('\n', o);
}

/* "one of these": the diagnosis and its candidates, each with the evidence
 * its rule cites and the check that confirms or rules it out. */
static void text_differential(FILE *o, struct rk_eval *e, const struct rule_findings *f)
{
	uint8_t i;
	fprintf(o, "    the capture cannot tell which; one of these (most likely first):\n");
	for (i = 0; i <= f->n_cand; i++) {
		const struct rk_rule *c = i ? f->cand[i - 1] : f->diag;
		fprintf(o, "      %c. ", 'a' + i);
		put_wrapped(o, c->title, 9, 9);
		fprintf(o, "  [%s]\n", c->id);
		if (i)   /* the diagnosis's own evidence follows below */
			text_evidence(o, e, c->evid, c->n_evid, 9);
		if (c->kb->check)
			text_check(o, c->kb->check, 9);
	}
}

static void text_finding(FILE *o, struct rk_eval *e, const struct rk_rule *r, const struct rule_findings *f,
			 int color)
{
	const struct rk_kb *k = r->kb;
	struct rk_ranked rk[64];
	size_t n, i;
	uint16_t j;
	int c;
	const char *sc = r->severity == SEV_ERROR ? "\033[1;31m" : r->severity == SEV_WARNING ? "\033[1;33m"
											: "\033[1;36m";

	fprintf(o, "  %s%s%s %s%s%s  [%s]\n", col(color, sc), rk_sev_name(r->severity), col(color, "\033[0m"),
		col(color, "\033[1m"), r->title, col(color, "\033[0m"), r->id);
	fprintf(o, "    side at fault: %s   confidence: %s (%s)   kb: %s\n",
		rk_side_name(f && f->diag == r ? rule_findings_side(f) : rk_side_of(r)),
		rk_conf_name(f && f->diag == r ? rule_findings_confidence(f) : rk_conf_of(r)),
		rk_basis_name(rk_basis_of(r)), k->id);
	if (f && f->diag == r && f->n_cand)
		text_differential(o, e, f);
	else if (k->check)
		text_check(o, k->check, 4);
	if (r->n_evid || k->n_evid) {
		fprintf(o, "    evidence:\n");
		text_evidence(o, e, r->evid, r->n_evid, 6);
		text_evidence(o, e, k->evid, k->n_evid, 6);
	}
	fprintf(o, "    root cause: ");
	put_wrapped(o, k->root_cause, 16, 6);
	fputc('\n', o);
	text_disputes(o, k->rc_disp, k->n_rc_disp, 6, color);
	n = rk_rank(r, rk, sizeof(rk) / sizeof(rk[0]));
	if (n)
		fprintf(o, "    workarounds (most likely first):\n");
	for (i = 0; i < n; i++) {
		const struct rk_workaround *w = rk[i].w;
		fprintf(o, "      %zu. %3d%%  ", i + 1, rk[i].rate);
		c = put_wrapped(o, w->title, 14, 14);
		if (rk[i].rate != w->rate) {
			char note[256];
			snprintf(note, sizeof(note), " (kb: %d%%%s%s)", w->rate, rk[i].why ? "; " : "",
				 rk[i].why ? rk[i].why : "");
			put_wrapped(o, note, c, 14);
		}
		fputc('\n', o);
		if (w->detail) {
			fprintf(o, "              ");
			put_wrapped(o, w->detail, 14, 14);
			fputc('\n', o);
		}
		for (j = 0; j < w->n_cmd; j++) {
			fprintf(o, "              %s%s:%s\n                ", col(color, "\033[4m"), w->cmd[j].stack,
				col(color, "\033[0m"));
			put_indented(o, w->cmd[j].text, 16);
			fputc('\n', o);
		}
		text_disputes(o, w->disp, w->n_disp, 14, color);
	}
	if (k->n_de)
		fprintf(o, "    dead ends:\n");
	for (j = 0; j < k->n_de; j++) {
		c = fprintf(o, "      - %d%% fail: ", k->de[j].rate);
		if (*k->de[j].title) {
			c = put_wrapped(o, k->de[j].title, c, 8);
			c = put_wrapped(o, " --", c, 8);
			fputc(' ', o);
			c++;
		}
		put_wrapped(o, k->de[j].reason, c, 8);
		fputc('\n', o);
		text_disputes(o, k->de[j].disp, k->de[j].n_disp, 8, color);
	}
	if (k->n_ref)
		fprintf(o, "    references:\n");
	for (j = 0; j < k->n_ref; j++)
		fprintf(o, "      %s%s%s\n", k->ref[j].url, k->ref[j].title ? "  " : "",
			k->ref[j].title ? k->ref[j].title : "");
	for (j = 0; j < k->n_see; j++)
		fprintf(o, "    see also: kb %s\n", k->see[j]);
	if (f && f->n_also) {
		fprintf(o, "    also matched (less specific):");
		for (i = 0; i < f->n_also; i++)
			fprintf(o, " %s", f->also[i]->id);
		fputc('\n', o);
	}
}

void rule_report_text(FILE *o, const struct hs_record *rec, const struct rule_findings *f, int color)
{
	struct rk_eval e;
	size_t i;
	if (!f || !rec)
		return;
	rk_eval_init(&e, f->rs, rec, &f->ctx);
	if (f->diag)
		text_finding(o, &e, f->diag, f, color);
	for (i = 0; i < f->n_note; i++) {
		const struct rk_rule *r = f->note[i];
		fprintf(o, "  %snote%s %s  [%s]\n", col(color, "\033[36m"), col(color, "\033[0m"), r->title, r->id);
		text_evidence(o, &e, r->evid, r->n_evid, 6);
		text_evidence(o, &e, r->kb->evid, r->kb->n_evid, 6);
		fprintf(o, "      why: ");
		put_wrapped(o, r->kb->root_cause, 11, 11);
		fputc('\n', o);
	}
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_disputes(struct jw *w, const struct rk_dispute *d, uint16_t n)
{
	uint16_t i;
	if (!n)
		return;
	jw_arr_open(w, "disputed");
	for (i = 0; i < n; i++) {
		jw_obj_open(w, NULL);
		jw_key_str(w, "text", d[i].text);
		if (d[i].source)
			jw_key_str(w, "source", d[i].source);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void json_evidence(struct jw *w, struct rk_eval *e, const struct rk_rule *r)
{
	char line[EV_LINE];
	uint64_t fr[EV_FRAMES];
	size_t nf, i;
	uint16_t t;
	int pass;
	jw_arr_open(w, "evidence");
	for (pass = 0; pass < 2; pass++) {
		const struct rk_tmpl *tm = pass ? r->kb->evid : r->evid;
		uint16_t n = pass ? r->kb->n_evid : r->n_evid;
		for (t = 0; t < n; t++) {
			nf = rk_render(e, &tm[t], line, sizeof(line), fr, EV_FRAMES);
			jw_obj_open(w, NULL);
			jw_key_str(w, "text", line);
			jw_arr_open(w, "frames");
			for (i = 0; i < nf; i++)
				jw_uint(w, fr[i]);
			jw_arr_close(w);
			jw_obj_close(w);
		}
	}
	jw_arr_close(w);
}

static void json_finding(struct jw *w, struct rk_eval *e, const struct rk_rule *r, const struct rule_findings *f)
{
	const struct rk_kb *k = r->kb;
	struct rk_ranked rk[64];
	size_t n, i;
	uint16_t j;

	jw_obj_open(w, NULL);
	jw_key_str(w, "rule", r->id);
	jw_key_str(w, "title", r->title);
	jw_key_str(w, "severity", rk_sev_name(r->severity));
	jw_key_str(w, "confidence", rk_conf_name(f && f->diag == r ? rule_findings_confidence(f) : rk_conf_of(r)));
	jw_key_str(w, "basis", rk_basis_name(rk_basis_of(r)));
	jw_key_str(w, "side", rk_side_name(f && f->diag == r ? rule_findings_side(f) : rk_side_of(r)));
	jw_key_str(w, "kb", k->id);
	jw_key_str(w, "kb_title", k->title);
	json_evidence(w, e, r);
	if (k->check)
		jw_key_str(w, "check", k->check);
	if (f && f->diag == r && f->n_cand) {
		jw_arr_open(w, "differential");
		for (i = 0; i < f->n_cand; i++) {
			const struct rk_rule *c = f->cand[i];
			jw_obj_open(w, NULL);
			jw_key_str(w, "rule", c->id);
			jw_key_str(w, "title", c->title);
			jw_key_str(w, "kb", c->kb->id);
			jw_key_str(w, "side", rk_side_name(rk_side_of(c)));
			json_evidence(w, e, c);
			if (c->kb->check)
				jw_key_str(w, "check", c->kb->check);
			jw_key_str(w, "root_cause", c->kb->root_cause);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	jw_key_str(w, "root_cause", k->root_cause);
	json_disputes(w, k->rc_disp, k->n_rc_disp);
	n = rk_rank(r, rk, sizeof(rk) / sizeof(rk[0]));
	jw_arr_open(w, "workarounds");
	for (i = 0; i < n; i++) {
		const struct rk_workaround *wa = rk[i].w;
		jw_obj_open(w, NULL);
		jw_key_str(w, "id", wa->id);
		jw_key_str(w, "title", wa->title);
		jw_key_int(w, "success_rate", rk[i].rate);
		jw_key_int(w, "kb_success_rate", wa->rate);
		if (rk[i].why)
			jw_key_str(w, "adjusted_because", rk[i].why);
		if (wa->detail)
			jw_key_str(w, "detail", wa->detail);
		jw_arr_open(w, "commands");
		for (j = 0; j < wa->n_cmd; j++) {
			jw_obj_open(w, NULL);
			jw_key_str(w, "stack", wa->cmd[j].stack);
			jw_key_str(w, "text", wa->cmd[j].text);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		json_disputes(w, wa->disp, wa->n_disp);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_arr_open(w, "dead_ends");
	for (j = 0; j < k->n_de; j++) {
		jw_obj_open(w, NULL);
		jw_key_str(w, "title", k->de[j].title);
		jw_key_int(w, "fail_rate", k->de[j].rate);
		jw_key_str(w, "reason", k->de[j].reason);
		json_disputes(w, k->de[j].disp, k->de[j].n_disp);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_arr_open(w, "references");
	for (j = 0; j < k->n_ref; j++) {
		jw_obj_open(w, NULL);
		jw_key_str(w, "url", k->ref[j].url);
		if (k->ref[j].title)
			jw_key_str(w, "title", k->ref[j].title);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (k->n_see) {
		jw_arr_open(w, "see_also");
		for (j = 0; j < k->n_see; j++)
			jw_str(w, k->see[j]);
		jw_arr_close(w);
	}
	if (k->domain || k->n_ver || k->fix_rate >= 0) {
		jw_obj_open(w, "kb_entry");
		if (k->domain)
			jw_key_str(w, "domain", k->domain);
		if (k->category)
			jw_key_str(w, "category", k->category);
		if (k->error_code)
			jw_key_str(w, "error_code", k->error_code);
		if (k->verification)
			jw_key_str(w, "verification", k->verification);
		if (k->fix_rate >= 0)
			jw_key_int(w, "fix_rate", k->fix_rate);
		if (k->n_ver) {
			jw_arr_open(w, "versions");
			for (j = 0; j < k->n_ver; j++) {
				jw_obj_open(w, NULL);
				jw_key_str(w, "version", k->ver[j].what);
				jw_key_str(w, "status", k->ver[j].status);
				jw_key_str(w, "introduced", k->ver[j].introduced);
				jw_key_str(w, "deprecated", k->ver[j].deprecated);
				jw_obj_close(w);
			}
			jw_arr_close(w);
		}
		jw_obj_close(w);
	}
	if (f && f->n_also) {
		jw_arr_open(w, "also_matched");
		for (i = 0; i < f->n_also; i++)
			jw_str(w, f->also[i]->id);
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

void rule_report_json(struct jw *w, const struct hs_record *rec, const struct rule_findings *f)
{
	struct rk_eval e;
	size_t i;
	jw_arr_open(w, "findings");
	if (f && rec) {
		rk_eval_init(&e, f->rs, rec, &f->ctx);
		if (f->diag)
			json_finding(w, &e, f->diag, f);
	}
	jw_arr_close(w);
	jw_arr_open(w, "notes");
	if (f && rec) {
		for (i = 0; i < f->n_note; i++) {
			const struct rk_rule *r = f->note[i];
			jw_obj_open(w, NULL);
			jw_key_str(w, "rule", r->id);
			jw_key_str(w, "title", r->title);
			jw_key_str(w, "kb", r->kb->id);
			json_evidence(w, &e, r);
			jw_key_str(w, "why", r->kb->root_cause);
			jw_obj_close(w);
		}
	}
	jw_arr_close(w);
}
