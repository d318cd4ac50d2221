/*
 * verdict.c - the verdict (rules.h) as text and as JSON, and its evidence
 * lines for every format.
 *
 * Evidence arrives as typed values; this file gives them their text:
 * frames as numbers, capture times as "HH:MM:SS.uuuuuu UTC (+s)" from the
 * connection's first packet, durations in us/ms/s, a certificate date as a
 * date. Wire strings are quoted and escaped here, at output, for the format
 * written: esc_text() for the terminal (and for Markdown and HTML, whose
 * writers escape the line again for their syntax, so control bytes read
 * as \xNN there too); for JSON the raw bytes, which the JSON writer
 * escapes. A line is at most EV_LINE - 1 bytes, a wire string at most
 * EV_WIRE - 1 escaped characters.
 *
 * Knowledge-base text comes from rule files the operator chose to load,
 * which may hold any bytes: the text writer escapes every piece of it
 * (titles, rule and kb ids, prose, commands, evidence lines) with
 * esc_text(), like wire text, so no control byte from a rule file reaches
 * a terminal. esc_text() leaves printable text as it is, so the built-in
 * rules print unchanged.
 */
#include "report/report.h"
#include "report/esc.h"
#include "rules/rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EV_WIRE 400
#define EV_FRAMES 16

const struct rule_identity *rpt_identity(const struct hs_record *rec, const struct rule_verdict *v)
{
	static const struct rule_identity unknown = { RULE_MATCH_UNKNOWN, NULL, NULL, NULL, 0 };
	if (!rec->ch)
		return NULL;
	return v && v->has_identity ? &v->identity : &unknown;
}

/* ---- evidence values ------------------------------------------------------ */

static void fmt_dur(char *b, size_t n, int64_t us)
{
	if (us < 0)
		snprintf(b, n, "-%lld us", (long long)-us);
	else if (us < 1000)
		snprintf(b, n, "%lld us", (long long)us);
	else if (us < 1000000)
		snprintf(b, n, "%.1f ms", (double)us / 1000.0);
	else
		snprintf(b, n, "%.3f s", (double)us / 1e6);
}

static void fmt_time(char *b, size_t n, int64_t us, int64_t base)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char hms[32] = "?";
	if (gmtime_r(&t, &tm))
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	snprintf(b, n, "%s.%06lld UTC (+%.6f s)", hms, (long long)(us % 1000000), (double)(us - base) / 1e6);
}

static void fmt_date(char *b, size_t n, int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(b, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(b, n, "%lld", (long long)t);
}

static const char *tx_n(char *b, size_t n, const char *s, size_t len);

/* One value's text into b (n bytes, NUL-terminated); its length. A wire
 * string is quoted, escaped unless `raw` (and then may hold any byte). */
static size_t value_text(char *b, size_t n, const struct hs_record *rec, const struct rule_value *x, int raw)
{
	char q[EV_WIRE];
	size_t k;
	switch ((enum rule_value_kind)x->kind) {
	case RULE_V_TEXT:
		/* a rule file's own text may hold any byte: escaped like wire
		 * text (tlswhy's names and numbers pass unchanged) */
		if (!raw) {
			tx_n(b, n, x->s, x->n);
		} else {   /* snprintf's "%.*s", without printf: up to a NUL, cut to fit */
			const char *t = x->s ? x->s : x->n >= 6 ? "(null)" : "";   /* as glibc's */
			k = strnlen(t, x->n);
			if (n == 0)
				return 0;
			if (k > n - 1)
				k = n - 1;
			memcpy(b, t, k);
			b[k] = 0;
			return k;
		}
		break;
	case RULE_V_FRAME: {   /* "%" PRIu64, without printf */
		char d[24], *p = d + sizeof(d);
		uint64_t v = (uint64_t)x->num;
		do
			*--p = (char)('0' + v % 10);
		while (v /= 10);
		k = (size_t)(d + sizeof(d) - p);
		if (n == 0)
			return 0;
		if (k > n - 1)
			k = n - 1;
		memcpy(b, p, k);
		b[k] = 0;
		return k;
	}
	case RULE_V_TIME: fmt_time(b, n, x->num, rec->first_ts_us); break;
	case RULE_V_DATE: fmt_date(b, n, x->num); break;
	case RULE_V_DURATION: fmt_dur(b, n, x->num); break;
	case RULE_V_WIRE:
		if (!raw) {
			esc_text(q, sizeof(q), (const uint8_t *)x->s, x->n);
			snprintf(b, n, "\"%s\"", q);
			break;
		}
		k = x->n + 2 < n ? x->n : n > 2 ? n - 3 : 0;
		if (n < 3) {
			b[0] = 0;
			return 0;
		}
		b[0] = '"';
		memcpy(b + 1, x->s, k);
		b[k + 1] = '"';
		b[k + 2] = 0;
		return k + 2;
	}
	return strlen(b);
}

size_t rpt_evidence_line(char *buf, size_t n, const struct hs_record *rec, const struct rule_evidence *ev, int raw)
{
	char piece[EV_LINE];
	size_t o = 0, i, l;
	if (n == 0)
		return 0;
	buf[0] = 0;
	for (i = 0; i < ev->n && o < n - 1; i++) {
		l = value_text(piece, sizeof(piece), rec, &ev->v[i], raw);
		if (l > n - 1 - o)
			l = n - 1 - o;
		memcpy(buf + o, piece, l);
		o += l;
		buf[o] = 0;
	}
	return o;
}

/* ---- text ---------------------------------------------------------------- */

static const char *col(int color, const char *c)
{
	return color ? c : "";
}

/* Rule-file text for the terminal: esc_text(), but a backslash stays one
 * (the text is the rule file's author's, who may write "\\x00" meaning
 * those four characters; only bytes a terminal would act on change). A
 * piece longer than the buffer ends in "...". */
#define TX_MAX 4096
static const char *tx_n(char *b, size_t n, const char *s, size_t len)
{
	size_t o = 0;
	if (n == 0)
		return b;
	b[0] = 0;
	while (len && o + 1 < n) {
		size_t w = 0;
		while (w < len && s[w] != '\\')
			w++;
		if (w) {
			esc_text(b + o, n - o, (const uint8_t *)s, w);
			o += strlen(b + o);
		} else {
			b[o++] = '\\';
			b[o] = 0;
			w = 1;
		}
		s += w;
		len -= w;
	}
	return b;
}

static const char *tx(char *b, size_t n, const char *s)
{
	return tx_n(b, n, s, strlen(s));
}

/* n bytes of rule-file text, escaped. */
static void put_tx(FILE *o, const char *s, size_t n)
{
	char b[TX_MAX];
	fputs(tx_n(b, sizeof(b), s, n), o);
}

/* Prints multi-line text with each continuation line indented. */
static void put_indented(FILE *o, const char *s, int indent)
{
	while (*s) {
		size_t w = strcspn(s, "\n");
		put_tx(o, s, w);
		s += w;
		if (*s == '\n') {
			fputc('\n', o);
			fprintf(o, "%*s", indent, "");
			s++;
		}
	}
}

/* Prose, word-wrapped at WRAP columns; `col` is where the cursor is now,
 * continuation lines start at `indent`. Newlines in the text are kept.
 * Returns the column after the text. */
#define WRAP 100
static int wrap_out(FILE *o, const char *s, int col, int indent, int escape)
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
			if (escape)
				put_tx(o, s, w);
			else
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

/* Rule-file prose (escaped), wrapped. */
static int put_wrapped(FILE *o, const char *s, int col, int indent)
{
	return wrap_out(o, s, col, indent, 1);
}

static void text_lines(FILE *o, const struct hs_record *rec, const struct rule_evidence *ev, uint16_t n, int indent)
{
	char line[EV_LINE];
	uint16_t i;
	for (i = 0; i < n; i++) {
		rpt_evidence_line(line, sizeof(line), rec, &ev[i], 0);   /* escaped already */
		fprintf(o, "%*s- ", indent, "");
		wrap_out(o, line, indent + 2, indent + 2, 0);
		fputc('\n', o);
	}
}

static void text_check(FILE *o, const char *check, int indent)
{
	fprintf(o, "%*stells them apart: ", indent, "");
	put_wrapped(o, check, indent + 18, indent + 4);
	fputc('\n', o);
}

/* "one of these": each candidate with what supports it and its check. */
static void text_differential(FILE *o, const struct hs_record *rec, const struct rule_verdict *v)
{
	char b[256];
	uint8_t i;
	fprintf(o, "    the capture cannot tell which; one of these (most likely first):\n");
	for (i = 0; i < v->n_cand; i++) {
		const struct rule_candidate *c = &v->cand[i];
		fprintf(o, "      %c. ", 'a' + i);
		put_wrapped(o, c->cause->title, 9, 9);
		fprintf(o, "  [%s]\n", tx(b, sizeof(b), c->cause->rule));
		if (i)   /* the diagnosis's own evidence follows below */
			text_lines(o, rec, c->supports, c->n_supports, 9);
		if (c->check)
			text_check(o, c->check, 9);
	}
}

static void text_evidence(FILE *o, const struct hs_record *rec, const struct rule_finding *f, int indent)
{
	char line[EV_LINE];
	uint16_t i;
	for (i = 0; i < f->n_evid; i++) {
		rpt_evidence_line(line, sizeof(line), rec, &f->evid[i], 0);   /* escaped already */
		fprintf(o, "%*s- ", indent, "");
		wrap_out(o, line, indent + 2, indent + 2, 0);
		fputc('\n', o);
	}
}

static void text_disputes(FILE *o, const struct rule_dispute *d, uint16_t n, int indent, int color)
{
	uint16_t i;
	for (i = 0; i < n; i++) {
		fprintf(o, "%*s%sDISPUTED:%s ", indent, "", col(color, "\033[1;35m"), col(color, "\033[0m"));
		put_wrapped(o, d[i].text, indent + 10, indent + 2);
		if (d[i].source) {
			fputs(" [", o);
			put_tx(o, d[i].source, strlen(d[i].source));
			fputc(']', o);
		}
		fputc('\n', o);
	}
}

static void text_workarounds(FILE *o, const struct rule_finding *f, int color)
{
	char b[256];
	uint16_t i, j;
	int c;
	if (f->n_wa)
		fprintf(o, "    workarounds (most likely first):\n");
	for (i = 0; i < f->n_wa; i++) {
		const struct rule_workaround *w = f->wa[i].w;
		fprintf(o, "      %u. %3d%%  ", i + 1u, f->wa[i].rate);
		c = put_wrapped(o, w->title, 14, 14);
		if (f->wa[i].rate != w->rate) {
			char note[256];
			snprintf(note, sizeof(note), " (kb: %d%%%s%s)", w->rate, f->wa[i].why ? "; " : "",
				 f->wa[i].why ? f->wa[i].why : "");   /* put_wrapped escapes it */
			put_wrapped(o, note, c, 14);
		}
		fputc('\n', o);
		if (w->detail) {
			fprintf(o, "              ");
			put_wrapped(o, w->detail, 14, 14);
			fputc('\n', o);
		}
		for (j = 0; j < w->n_cmd; j++) {
			fprintf(o, "              %s%s:%s\n                ", col(color, "\033[4m"),
				tx(b, sizeof(b), w->cmd[j].stack), col(color, "\033[0m"));
			put_indented(o, w->cmd[j].text, 16);
			fputc('\n', o);
		}
		text_disputes(o, w->disp, w->n_disp, 14, color);
	}
}

static void text_kb_tail(FILE *o, const struct rule_kb *k, int color)
{
	char b[TX_MAX];
	uint16_t j;
	int c;
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
	for (j = 0; j < k->n_ref; j++) {
		fprintf(o, "      %s", tx(b, sizeof(b), k->ref[j].url));
		fprintf(o, "%s%s\n", k->ref[j].title ? "  " : "", k->ref[j].title ? tx(b, sizeof(b), k->ref[j].title) : "");
	}
	for (j = 0; j < k->n_see; j++)
		fprintf(o, "    see also: kb %s\n", tx(b, sizeof(b), k->see[j]));
}

static void text_finding(FILE *o, const struct hs_record *rec, const struct rule_verdict *v, int color)
{
	char b[TX_MAX];
	const struct rule_finding *f = v->diag;
	const struct rule_kb *k = f->kb;
	size_t i;
	const char *sc = f->severity == RULE_SEV_ERROR ? "\033[1;31m" : f->severity == RULE_SEV_WARNING ? "\033[1;33m"
												: "\033[1;36m";

	fprintf(o, "  %s%s%s %s", col(color, sc), f->severity_name, col(color, "\033[0m"), col(color, "\033[1m"));
	fprintf(o, "%s%s", tx(b, sizeof(b), f->title), col(color, "\033[0m"));
	fprintf(o, "  [%s]\n", tx(b, sizeof(b), f->rule));
	fprintf(o, "    side at fault: %s   confidence: %s (%s)   kb: %s\n", f->side, f->confidence, f->basis,
		tx(b, sizeof(b), k->id));
	if (v->n_cand > 1)
		text_differential(o, rec, v);
	else if (k->check)
		text_check(o, k->check, 4);
	if (f->n_evid) {
		fprintf(o, "    evidence:\n");
		text_evidence(o, rec, f, 6);
	}
	fprintf(o, "    root cause: ");
	put_wrapped(o, k->root_cause, 16, 6);
	fputc('\n', o);
	text_disputes(o, k->rc_disp, k->n_rc_disp, 6, color);
	text_workarounds(o, f, color);
	text_kb_tail(o, k, color);
	if (v->n_also) {
		fprintf(o, "    also matched (less specific):");
		for (i = 0; i < v->n_also; i++)
			fprintf(o, " %s", tx(b, sizeof(b), v->also[i]));
		fputc('\n', o);
	}
}

void rpt_verdict_text(FILE *o, const struct hs_record *rec, const struct rule_verdict *v, int color)
{
	char b[TX_MAX];
	size_t i;
	if (!v || !rec)
		return;
	if (v->diag)
		text_finding(o, rec, v, color);
	for (i = 0; i < v->n_note; i++) {
		const struct rule_finding *f = &v->note[i];
		fprintf(o, "  %snote%s %s", col(color, "\033[36m"), col(color, "\033[0m"), tx(b, sizeof(b), f->title));
		fprintf(o, "  [%s]\n", tx(b, sizeof(b), f->rule));
		text_evidence(o, rec, f, 6);
		fprintf(o, "      why: ");
		put_wrapped(o, f->kb->root_cause, 11, 11);
		fputc('\n', o);
	}
}

/* ---- JSON ---------------------------------------------------------------- *
 *
 * The knowledge-base text of a finding or note (root cause, workarounds'
 * text, dead ends, references, see-also, the kb entry) is the same for
 * every connection a rule matches: it is rendered once per writer state
 * and replayed (jw_cached, report/jw.h), keyed by the rule set's own
 * structs, which outlive the report. */
enum { JWC_ROOT_CAUSE = 1, JWC_WA_HEAD, JWC_WA_TAIL, JWC_KB_TAIL, JWC_WHY, JWC_CAND_ROOT_CAUSE, JWC_NOTE_HEAD };

static void json_disputes(struct jw *w, const struct rule_dispute *d, uint16_t n)
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

/* The frames a line cites, in order, each once, at most EV_FRAMES. */
static void json_frames(struct jw *w, const struct rule_evidence *ev)
{
	uint64_t fr[EV_FRAMES];
	size_t k = 0, i, j;
	for (i = 0; i < ev->n; i++) {
		uint64_t f = (uint64_t)ev->v[i].num;
		if (ev->v[i].kind != RULE_V_FRAME || !f)
			continue;
		for (j = 0; j < k && fr[j] != f; j++)
			;
		if (j == k && k < EV_FRAMES)
			fr[k++] = f;
	}
	jw_arr_open(w, "frames");
	for (i = 0; i < k; i++)
		jw_uint(w, fr[i]);
	jw_arr_close(w);
}

static void json_evidence(struct jw *w, const struct hs_record *rec, const struct rule_finding *f)
{
	char line[EV_LINE];
	size_t n;
	uint16_t t;
	jw_arr_open(w, "evidence");
	for (t = 0; t < f->n_evid; t++) {
		n = rpt_evidence_line(line, sizeof(line), rec, &f->evid[t], 1);
		jw_obj_open(w, NULL);
		jw_key_strn(w, "text", (const uint8_t *)line, n);
		json_frames(w, &f->evid[t]);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

/* A workaround's parts that are the knowledge base's own text, the same
 * for every connection (jw_cached): before and after the rates. */
static void json_wa_head(struct jw *w, const void *arg)
{
	const struct rule_workaround *wa = arg;
	jw_key_str(w, "id", wa->id);
	jw_key_str(w, "title", wa->title);
}

static void json_wa_tail(struct jw *w, const void *arg)
{
	const struct rule_workaround *wa = arg;
	uint16_t j;
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
}

static void json_workarounds(struct jw *w, const struct rule_finding *f)
{
	uint16_t i;
	jw_arr_open(w, "workarounds");
	for (i = 0; i < f->n_wa; i++) {
		const struct rule_workaround *wa = f->wa[i].w;
		jw_obj_open(w, NULL);
		jw_cached(w, wa, JWC_WA_HEAD, json_wa_head, wa);
		jw_key_int(w, "success_rate", f->wa[i].rate);
		jw_key_int(w, "kb_success_rate", wa->rate);
		if (f->wa[i].why)
			jw_key_str(w, "adjusted_because", f->wa[i].why);
		jw_cached(w, wa, JWC_WA_TAIL, json_wa_tail, wa);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void json_kb_entry(struct jw *w, const struct rule_kb *k)
{
	uint16_t j;
	if (!k->domain && !k->n_ver && k->fix_rate < 0)
		return;
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

static void json_kb_tail(struct jw *w, const void *arg)
{
	const struct rule_kb *k = arg;
	uint16_t j;
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
	json_kb_entry(w, k);
}

static void json_root_cause(struct jw *w, const void *arg)
{
	const struct rule_kb *k = arg;
	jw_key_str(w, "root_cause", k->root_cause);
	json_disputes(w, k->rc_disp, k->n_rc_disp);
}

static void json_why(struct jw *w, const void *arg)
{
	const struct rule_kb *k = arg;
	jw_key_str(w, "why", k->root_cause);
}

static void json_cand_root_cause(struct jw *w, const void *arg)
{
	const struct rule_kb *k = arg;
	jw_key_str(w, "root_cause", k->root_cause);
}

static void json_finding(struct jw *w, const struct hs_record *rec, const struct rule_verdict *v)
{
	const struct rule_finding *f = v->diag;
	const struct rule_kb *k = f->kb;
	size_t i;

	jw_obj_open(w, NULL);
	jw_key_str(w, "rule", f->rule);
	jw_key_str(w, "title", f->title);
	jw_key_str(w, "severity", f->severity_name);
	jw_key_str(w, "confidence", f->confidence);
	jw_key_str(w, "basis", f->basis);
	jw_key_str(w, "side", f->side);
	jw_key_str(w, "kb", k->id);
	jw_key_str(w, "kb_title", k->title);
	json_evidence(w, rec, f);
	if (k->check)
		jw_key_str(w, "check", k->check);
	if (v->n_cand > 1) {
		jw_arr_open(w, "differential");
		for (i = 1; i < v->n_cand; i++) {
			const struct rule_candidate *c = &v->cand[i];
			struct rule_finding own = *c->cause;
			own.n_evid = c->n_supports;   /* what supports it: its rule's own lines */
			jw_obj_open(w, NULL);
			jw_key_str(w, "rule", c->cause->rule);
			jw_key_str(w, "title", c->cause->title);
			jw_key_str(w, "kb", c->cause->kb->id);
			jw_key_str(w, "side", c->cause->side);
			json_evidence(w, rec, &own);
			if (c->check)
				jw_key_str(w, "check", c->check);
			jw_cached(w, c->cause->kb, JWC_CAND_ROOT_CAUSE, json_cand_root_cause, c->cause->kb);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	jw_cached(w, k, JWC_ROOT_CAUSE, json_root_cause, k);
	json_workarounds(w, f);
	jw_cached(w, k, JWC_KB_TAIL, json_kb_tail, k);
	if (v->n_also) {
		jw_arr_open(w, "also_matched");
		for (i = 0; i < v->n_also; i++)
			jw_str(w, v->also[i]);
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

/* A note's rule, title and kb: its rule's own (fill_finding()), so the
 * same bytes for every connection the rule notes (jw_cached by the rule's
 * id, which points into the rule set). */
static void json_note_head(struct jw *w, const void *arg)
{
	const struct rule_finding *f = arg;
	jw_key_str(w, "rule", f->rule);
	jw_key_str(w, "title", f->title);
	jw_key_str(w, "kb", f->kb->id);
}

void rpt_verdict_json(struct jw *w, const struct hs_record *rec, const struct rule_verdict *v)
{
	size_t i;
	jw_arr_open(w, "findings");
	if (v && rec && v->diag)
		json_finding(w, rec, v);
	jw_arr_close(w);
	jw_arr_open(w, "notes");
	for (i = 0; v && rec && i < v->n_note; i++) {
		const struct rule_finding *f = &v->note[i];
		jw_obj_open(w, NULL);
		jw_cached(w, f->rule, JWC_NOTE_HEAD, json_note_head, f);
		json_evidence(w, rec, f);
		jw_cached(w, f->kb, JWC_WHY, json_why, f->kb);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}
