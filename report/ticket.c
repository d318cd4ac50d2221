/*
 * ticket.c - the Markdown and HTML reports' content: grouping and
 * bookkeeping (see ticket.h for the bounds), the ladder model both draw,
 * and every section, table and finding, written once as lines of typed
 * spans (ticket.h) that markdown.c and html.c give their syntax.
 *
 * The ladder: one step per recorded event, client on the left, server on
 * the right. The failing step is chosen from the stage the connection
 * reached (facts, not a new verdict): the fatal alert that ended it, the
 * non-TLS answer, the FIN/RST that closed it, the RST that refused it; for
 * what never happened (no SYN-ACK, an unanswered ClientHello) a final line
 * says so and is the one marked.
 */
#include "report/ticket.h"
#include "dissect/dbuf.h"
#include "dissect/names.h"
#include "dissect/x509.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *tk_time(char *b, size_t n, int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char d[32];
	if (!gmtime_r(&t, &tm)) {
		snprintf(b, n, "?");
		return b;
	}
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b, n, "%s.%06dZ", d, (int)(us % 1000000));
	return b;
}

const char *tk_time_ms(char *b, size_t n, int64_t us)
{
	size_t len;
	tk_time(b, n, us);
	len = strlen(b);
	if (len == 27 && n > 24) {   /* ...T00:00:00.123456Z: keep three digits */
		b[23] = 'Z';
		b[24] = '\0';
	}
	return b;
}

/* ---- the ladder --------------------------------------------------------- */

static void label(const struct hs_record *r, const struct hs_event *e, char *b, size_t n)
{
	const char *s;
	switch ((enum hs_ev_kind)e->kind) {
	case EV_SYN: snprintf(b, n, "SYN"); break;
	case EV_SYNACK: snprintf(b, n, "SYN-ACK"); break;
	case EV_FIN: snprintf(b, n, "FIN"); break;
	case EV_RST: snprintf(b, n, "RST"); break;
	case EV_HANDSHAKE:
		s = names_hs_type(e->hs_type);
		if (s)
			snprintf(b, n, "%s (%" PRIu32 " B)", s, e->len);
		else
			snprintf(b, n, "handshake type %u (%" PRIu32 " B)", e->hs_type, e->len);
		break;
	case EV_ENC_HANDSHAKE: snprintf(b, n, "encrypted handshake (%" PRIu32 " B)", e->len); break;
	case EV_CCS: snprintf(b, n, "ChangeCipherSpec"); break;
	case EV_ALERT:
		if (e->aux < r->n_alerts) {
			const struct hs_alert *a = &r->alerts[e->aux];
			if (a->encrypted)
				snprintf(b, n, "Alert (encrypted%s)", a->inferred ? ", by size" : "");
			else if ((s = names_alert(a->description)))
				snprintf(b, n, "Alert %s %s", a->level == ALERT_LEVEL_FATAL ? "fatal" : a->level == ALERT_LEVEL_WARNING ? "warning" : "level ?",
					 s);
			else
				snprintf(b, n, "Alert %s %u", a->level == ALERT_LEVEL_FATAL ? "fatal" : "warning", a->description);
		} else {
			snprintf(b, n, "Alert");
		}
		break;
	case EV_APPDATA: snprintf(b, n, "application data (%" PRIu32 " B)", e->len); break;
	case EV_HEARTBEAT: snprintf(b, n, "Heartbeat"); break;
	case EV_SSLV2: snprintf(b, n, "SSLv2 record (%" PRIu32 " B)", e->len); break;
	case EV_NON_TLS: snprintf(b, n, "non-TLS bytes (%" PRIu32 " B)", e->len); break;
	case EV_GAP: snprintf(b, n, "%" PRIu32 " bytes missing from the capture", e->len); break;
	case EV__COUNT: snprintf(b, n, "?"); break;
	}
}

static int fatal_alert(const struct hs_record *r, const struct hs_event *e)
{
	const struct hs_alert *a;
	if (e->kind != EV_ALERT || e->aux >= r->n_alerts)
		return 0;
	a = &r->alerts[e->aux];
	return a->encrypted || a->level == ALERT_LEVEL_FATAL;
}

void tk_ladder_build(const struct hs_record *r, struct tk_ladder *l)
{
	uint16_t i;
	int fail = -1;
	memset(l, 0, sizeof(*l));
	for (i = 0; i < r->n_events && l->n < TK_MAX_STEPS; i++) {
		const struct hs_event ev = hs_ev(r, i), *e = &ev;
		struct tk_step *s = &l->s[l->n++];
		s->frame = e->frame;
		s->off_us = e->ts_us - r->first_ts_us;
		s->dir = e->dir;
		s->gap = e->kind == EV_GAP;
		label(r, e, s->label, sizeof(s->label));
	}
	if (r->total_events > r->n_events)
		l->clipped = r->total_events - r->n_events;
	switch ((enum hs_stage)r->stage) {
	case STAGE_ALERT:
		for (i = 0; i < l->n && fail < 0; i++) {
			const struct hs_event e = hs_ev(r, i);
			if (fatal_alert(r, &e))
				fail = i;
		}
		break;
	case STAGE_NON_TLS_ANSWER:
		for (i = 0; i < l->n && fail < 0; i++)
			if (hs_ev(r, i).kind == EV_NON_TLS)
				fail = i;
		break;
	case STAGE_REFUSED:
	case STAGE_CLOSED_BY_PEER:
		for (i = 0; i < l->n && fail < 0; i++)
			if ((hs_ev(r, i).kind == EV_RST || hs_ev(r, i).kind == EV_FIN) &&
			    (r->closed_by == 255 || hs_ev(r, i).dir == r->closed_by))
				fail = i;
		break;
	case STAGE_NO_SYNACK:
		snprintf(l->tail, sizeof(l->tail), "no SYN-ACK from the server (%.3f s observed)",
			 (double)(hs_last_ts(r) - r->first_ts_us) / 1e6);
		l->tail_fail = 1;
		break;
	case STAGE_CH_UNANSWERED:
		snprintf(l->tail, sizeof(l->tail), "no answer from the server for %.3f s after the ClientHello",
			 r->ch ? (double)(hs_last_ts(r) - r->ch->ts_us) / 1e6 : 0.0);
		l->tail_fail = 1;
		/* a close after the silence is the consequence, not the cause */
		break;
	case STAGE_NO_CLIENT_HELLO:
		snprintf(l->tail, sizeof(l->tail), "the client sent no ClientHello");
		l->tail_fail = 1;
		break;
	case STAGE_CAPTURE_ENDED:
		snprintf(l->tail, sizeof(l->tail), "the capture ended mid-handshake");
		break;
	case STAGE_COMPLETE:
	case STAGE_COMPLETE_CLOSED:
	case STAGE__COUNT:
		break;
	}
	if (fail >= 0)
		l->s[fail].fail = 1;
	else if (!l->tail[0] && r->stage < STAGE_COMPLETE && l->n)
		l->s[l->n - 1].fail = 1;   /* nothing better: the last thing seen */
}

/* ---- lines of spans (ticket.h) ------------------------------------------- */

#define TLSWHY_VERSION "0.1.0"

/* A table being laid out as a whole (tk_syntax.grid): its cells so far,
 * row-major. Bounded by the tables the document writes (TK_MAX_GROUPS
 * rows at most). */
struct grid {
	const struct tk_table *t;
	struct dbuf cb;          /* cells' bytes */
	char **cells;            /* cb.p */
	size_t nrows;
	FILE *cm;                /* every cell of the table is rendered here, then copied out: */
	char *cbuf;              /* one memory stream per table, not one per cell */
	size_t clen;
};

/* Where a document goes: the format's syntax, the stream, the line being
 * built, the table being laid out (grid syntaxes only). */
struct doc {
	const struct tk_syntax *y;
	FILE *o;
	struct tk_line *l;
	struct grid *g;
};

static const struct tk_syntax *syntax(const struct rpt *r)
{
	if (r->fmt == RPT_TEXT)
		return r->color ? &tk_text_color : &tk_text;
	return r->fmt == RPT_HTML ? &tk_html : &tk_markdown;
}

void tk_escaped(FILE *o, char *(*esc)(char *dst, size_t cap, const uint8_t *s, size_t n), const void *s, size_t n,
		int prose)
{
	size_t cap = n * 12 + 16, i;
	char *b = malloc(cap + n);
	uint8_t *c = (uint8_t *)b + cap;
	if (!b)
		return;
	memcpy(c, s, n);
	for (i = 0; prose && i < n; i++)
		if (c[i] == '\n' || c[i] == '\r' || c[i] == '\t')
			c[i] = ' ';
	fputs(esc(b, cap, c, n), o);
	free(b);
}

/* Empties the line (l->only stays as set). */
static void clear(struct tk_line *l)
{
	l->n = l->used = 0;
}

static void addn(struct tk_line *l, enum tk_kind k, const void *s, size_t n)
{
	struct tk_span *p;
	if (l->n >= TK_SPANS)
		return;
	p = &l->sp[l->n++];
	p->s = s;
	p->n = n;
	p->kind = (uint8_t)k;
	p->only = l->only;
	p->cell = 0;
}

static void add(struct tk_line *l, enum tk_kind k, const char *s)
{
	addn(l, k, s, strlen(s));
}

static void addf(struct tk_line *l, enum tk_kind k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(struct tk_line *l, enum tk_kind k, const char *fmt, ...)
{
	size_t room = TK_ARENA - l->used;
	va_list ap;
	int w;
	va_start(ap, fmt);
	w = vsnprintf(l->arena + l->used, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room)
		return;
	addn(l, k, l->arena + l->used, (size_t)w);
	l->used += (size_t)w + 1;
}

/* An evidence line, as the text report writes it (wire strings in it
 * esc_text()-escaped, so control bytes read as \xNN, and no line break), as
 * wire bytes: the format's writer escapes it again for its syntax, and
 * reads no markup (backticks) in it. */
static void add_evidence(struct tk_line *l, const struct hs_record *rec, const struct rule_evidence *ev)
{
	size_t room = TK_ARENA - l->used, n;
	char *p = l->arena + l->used;
	if (room < 2)
		return;
	n = rpt_evidence_line(p, room < EV_LINE ? room : EV_LINE, rec, ev, 0);
	addn(l, TK_WIRE, p, n);   /* quotes wire strings: never knowledge-base markup */
	l->used += n + 1;
}

static void cell(struct tk_line *l, uint8_t flags)
{
	size_t n = l->n;
	addn(l, TK_CELL, "", 0);
	if (l->n > n)
		l->sp[n].cell = flags;
}

/* Starts a row of a label/value table: the label, then the value's cell. */
static void kv(struct tk_line *l, const char *label, uint8_t flags)
{
	clear(l);
	cell(l, TK_HEAD);
	add(l, TK_TEXT, label);
	cell(l, flags);
}

static void wire_or_none(struct tk_line *l, int has, const uint8_t *s, size_t n)
{
	if (has)
		addn(l, TK_WIRE, s, n);
	else
		add(l, TK_NONE, "(none)");
}

static int for_us(const struct tk_syntax *y, const struct tk_span *s)
{
	return !s->only || (s->only & y->me);
}

void tk_line_write(const struct tk_syntax *y, FILE *o, const struct tk_line *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (for_us(y, &l->sp[i]))
			y->span(o, &l->sp[i], 0);
}

static void grid_free(struct grid *g)
{
	size_t i;
	if (!g)
		return;
	for (i = 0; g->cells && i < g->nrows * (size_t)g->t->ncols; i++)
		free(g->cells[i]);
	dbuf_free(&g->cb);
	if (g->cm)
		fclose(g->cm);
	free(g->cbuf);
	free(g);
}

/* Opens or closes a table: the format's markup, or (grid syntaxes) the
 * buffer its rows go to, handed over whole at the close. */
static void table(struct doc *d, const struct tk_table *t, int open)
{
	if (!d->y->grid) {
		d->y->table(d->o, t, open);
		return;
	}
	if (open) {
		grid_free(d->g);
		d->g = calloc(1, sizeof(*d->g));
		if (d->g) {
			d->g->t = t;
			dbuf_init(&d->g->cb, 16 * (size_t)t->ncols * sizeof(char *),
				  ((size_t)TK_MAX_GROUPS + 1) * 64 * (size_t)t->ncols * sizeof(char *));
		}
		return;
	}
	if (d->g && d->g->t == t)
		d->y->grid(d->o, t, d->g->cells, d->g->nrows);
	grid_free(d->g);
	d->g = NULL;
}

/* A row into the grid: each cell's spans rendered to a string, from span
 * `from` on; with `cont`, the row continues a value (break_rows): its
 * label is empty and the spans fill the value's cell. A cell that cannot
 * be stored is left empty. */
static void grid_row(struct doc *d, const struct tk_line *l, size_t from, int cont)
{
	struct grid *g = d->g;
	size_t nc = (size_t)g->t->ncols, i, start = 0;
	FILE *m = NULL;   /* g->cm while a cell is being rendered */
	int c = cont ? 1 : -1;
	if (dbuf_grow(&g->cb, (g->nrows + 1) * nc * sizeof(*g->cells)) != DBUF_OK)
		return;
	g->cells = (char **)g->cb.p;
	memset(g->cells + g->nrows * nc, 0, nc * sizeof(*g->cells));
	if (!g->cm && !(g->cm = open_memstream(&g->cbuf, &g->clen)))
		return;   /* the cells stay empty */
	if (cont) {
		m = g->cm;
		start = g->clen;
	}
	for (i = from; i <= l->n; i++) {
		const struct tk_span *s = i < l->n ? &l->sp[i] : NULL;
		int brk;
		if (s && !for_us(d->y, s))
			continue;
		brk = s && s->kind == TK_BREAK && g->t->kv && d->y->break_rows && c == 1;
		if (!s || s->kind == TK_CELL || brk) {
			if (m && fflush(m) == 0 && g->clen >= start && c >= 0 && (size_t)c < nc) {
				char *cell = malloc(g->clen - start + 1);
				if (cell) {
					memcpy(cell, g->cbuf + start, g->clen - start);
					cell[g->clen - start] = 0;
				}
				g->cells[g->nrows * nc + (size_t)c] = cell;
			}
			m = NULL;
			if (brk) {   /* the value goes on in a row of its own */
				g->nrows++;
				grid_row(d, l, i + 1, 1);
				return;
			}
			if (!s)
				break;
			c++;
			if (fflush(g->cm) == 0) {
				m = g->cm;
				start = g->clen;
			}
		} else if (m) {
			d->y->span(m, s, 1);
		}
	}
	g->nrows++;
}

/* Each writes the line, then empties it. A row whose first cell is for
 * the other format only is left out. */
static void row(struct doc *d, const struct tk_table *t)
{
	const struct tk_line *l = d->l;
	uint8_t prev = 0;
	int cells = 0;
	size_t i;
	if (d->y->grid) {
		if (l->n && for_us(d->y, &l->sp[0]) && d->g && d->g->t == t)
			grid_row(d, l, 0, 0);
		clear(d->l);
		return;
	}
	if (l->n && for_us(d->y, &l->sp[0])) {
		for (i = 0; i < l->n; i++) {
			const struct tk_span *s = &l->sp[i];
			if (!for_us(d->y, s))
				continue;
			if (s->kind == TK_BREAK && t->kv && d->y->break_rows && cells == 2) {
				/* end the row; the value goes on under an empty label */
				d->y->cell(d->o, t, cells, prev, TK_END);
				d->y->cell(d->o, t, 0, 0, TK_HEAD);
				d->y->cell(d->o, t, 1, TK_HEAD, prev);
				continue;
			}
			if (s->kind == TK_CELL) {
				d->y->cell(d->o, t, cells++, prev, s->cell);
				prev = s->cell;
			} else {
				d->y->span(d->o, s, 1);
			}
		}
		d->y->cell(d->o, t, cells, prev, TK_END);
	}
	clear(d->l);
}

static void para(struct doc *d, enum tk_para k)
{
	fputs(d->y->para_open[k], d->o);
	tk_line_write(d->y, d->o, d->l);
	fputs(d->y->para_close[k], d->o);
	clear(d->l);
}

static void heading(struct doc *d, int level)
{
	d->y->heading(d->o, level, d->l);
	clear(d->l);
}

static void li(struct doc *d)
{
	d->y->item(d->o, 0, 0, d->l);
	d->y->item_end(d->o, 0);
	clear(d->l);
}

static const char *const C_SECTION[] = { "Connection", "" };
static const struct tk_table T_SECTION = { C_SECTION, "--", 2, 1 };
static const char *const C_SUMMARY[] = { "Item", "Value" };
static const struct tk_table T_SUMMARY = { C_SUMMARY, "--", 2, 1 };
static const char *const C_FAILED[] = { "#", "Connections", "Cause", "Server", "Side at fault", "Rule" };
static const struct tk_table T_FAILED = { C_FAILED, "rr----", 6, 0 };
static const char *const C_OTHER[] = { "Connections", "Server", "SNI", "Stage", "Version", "Cipher suite", "Note",
				       "First (#id at frame)" };
static const struct tk_table T_OTHER = { C_OTHER, "r-------", 8, 0 };
static const char *const C_APPDATA[] = { "#", "From", "Frame", "First bytes (decrypted)", "What they are" };
static const struct tk_table T_APPDATA = { C_APPDATA, "r-r--", 5, 0 };
static const char *const C_ALL[] = { "#", "Client", "Server", "SNI", "Stage", "Version", "Cipher suite", "Frames",
				     "Duration", "Diagnosis" };
static const struct tk_table T_ALL = { C_ALL, "r-------r-", 10, 0 };

/* ---- a finding ----------------------------------------------------------- */

static void disputes(struct doc *d, const struct rule_dispute *x, uint16_t n, int in_item)
{
	struct tk_line *l = d->l;
	uint16_t i;
	for (i = 0; i < n; i++) {
		add(l, TK_STRONG, "Disputed:");
		add(l, TK_TEXT, " ");
		add(l, TK_PROSE, x[i].text);
		if (x[i].source) {
			add(l, TK_TEXT, " (source: ");
			add(l, TK_PROSE, x[i].source);
			add(l, TK_TEXT, ")");
		}
		para(d, !in_item ? TK_P_DISPUTE : i ? TK_P_ITEM_DISPUTE : TK_P_ITEM_DISPUTE1);
	}
}

static void workarounds(struct doc *d, const struct rule_finding *f)
{
	struct tk_line *l = d->l;
	const struct rule_ranked *rk = f->wa;
	size_t n = f->n_wa, i;
	uint16_t j;
	if (!n)
		return;
	add(l, TK_TEXT, "Workarounds (most likely first)");
	heading(d, 3);
	d->y->list(d->o, 1, 1);
	for (i = 0; i < n; i++) {
		const struct rule_workaround *w = rk[i].w;
		addf(l, TK_STRONG, "%d%%", rk[i].rate);
		add(l, TK_TEXT, " ");
		add(l, TK_PROSE, w->title);
		if (rk[i].rate != w->rate) {
			addf(l, TK_TEXT, " (knowledge base: %d%%", w->rate);
			if (rk[i].why) {
				add(l, TK_TEXT, "; ");
				add(l, TK_PROSE, rk[i].why);
			}
			add(l, TK_TEXT, ")");
		}
		d->y->item(d->o, 1, i + 1, l);
		clear(l);
		if (w->detail) {
			add(l, TK_PROSE, w->detail);
			para(d, TK_P_ITEM);
		}
		for (j = 0; j < w->n_cmd; j++)
			d->y->command(d->o, w->cmd[j].stack, w->cmd[j].text);
		disputes(d, w->disp, w->n_disp, 1);
		d->y->item_end(d->o, 1);
	}
	d->y->list(d->o, 1, 0);
}

static void finding(struct doc *d, const struct hs_record *rec, const struct rule_verdict *v)
{
	const struct rule_finding *r = v->diag;
	const struct rule_kb *k = r->kb;
	struct tk_line *l = d->l;
	uint16_t j;
	size_t i;

	add(l, TK_TEXT, "Finding");
	heading(d, 3);
	add(l, TK_SEV, r->severity_name);
	add(l, TK_TEXT, " ");
	l->only = TK_MDT;          /* the bold severity is enough */
	add(l, TK_PROSE, r->title);
	l->only = TK_HTML;
	add(l, TK_STRONG, r->title);
	l->only = 0;
	add(l, TK_BREAK, "");
	add(l, TK_TEXT, "Side at fault: ");
	add(l, TK_STRONG, r->side);
	add(l, TK_TEXT, " · confidence: ");
	add(l, TK_STRONG, r->confidence);
	addf(l, TK_TEXT, " (%s) · rule ", r->basis);
	add(l, TK_CODE, r->rule);
	add(l, TK_TEXT, " · knowledge base ");
	add(l, TK_CODE, k->id);
	para(d, TK_P);
	if (v->n_cand > 1) {
		add(l, TK_STRONG, "The capture cannot tell which; one of these (most likely first):");
		para(d, TK_P);
		d->y->list(d->o, 1, 1);
		for (i = 0; i < v->n_cand; i++) {
			const struct rule_candidate *c = &v->cand[i];
			add(l, TK_PROSE, c->cause->title);
			add(l, TK_TEXT, " ");
			add(l, TK_CODE, c->cause->rule);
			for (j = 0; i && j < c->n_supports; j++) {
				add(l, TK_TEXT, " — ");
				add_evidence(l, rec, &c->supports[j]);
			}
			if (c->check) {
				add(l, TK_TEXT, " — tells them apart: ");
				add(l, TK_PROSE, c->check);
			}
			li(d);
		}
		d->y->list(d->o, 1, 0);
	} else if (k->check) {
		add(l, TK_STRONG, "Check:");
		add(l, TK_TEXT, " ");
		add(l, TK_PROSE, k->check);
		para(d, TK_P);
	}

	if (r->n_evid) {
		add(l, TK_STRONG, "Evidence");
		para(d, TK_P);
		d->y->list(d->o, 0, 1);
		for (i = 0; i < r->n_evid; i++) {
			add_evidence(l, rec, &r->evid[i]);
			li(d);
		}
		d->y->list(d->o, 0, 0);
	}
	add(l, TK_STRONG, "Root cause.");
	add(l, TK_TEXT, " ");
	add(l, TK_PROSE, k->root_cause);
	para(d, TK_P);
	disputes(d, k->rc_disp, k->n_rc_disp, 0);
	workarounds(d, r);

	if (k->n_de) {
		add(l, TK_TEXT, "Dead ends (not worth trying)");
		heading(d, 3);
		d->y->list(d->o, 0, 1);
		for (j = 0; j < k->n_de; j++) {
			addf(l, TK_STRONG, "%d%% fail:", k->de[j].rate);
			add(l, TK_TEXT, " ");
			if (*k->de[j].title) {
				add(l, TK_PROSE, k->de[j].title);
				add(l, TK_TEXT, " — ");
			}
			add(l, TK_PROSE, k->de[j].reason);
			li(d);
		}
		d->y->list(d->o, 0, 0);
	}
	if (k->n_ref) {
		add(l, TK_TEXT, "References");
		heading(d, 3);
		d->y->list(d->o, 0, 1);
		for (j = 0; j < k->n_ref; j++) {
			add(l, TK_URL, k->ref[j].url);
			if (k->ref[j].title) {
				add(l, TK_TEXT, " — ");
				add(l, TK_PROSE, k->ref[j].title);
			}
			li(d);
		}
		d->y->list(d->o, 0, 0);
	}
	add(l, TK_TEXT, "Knowledge base: ");
	add(l, TK_CODE, k->id);
	for (j = 0; j < k->n_see; j++) {
		add(l, TK_TEXT, j ? ", " : " · see also ");
		add(l, TK_CODE, k->see[j]);
	}
	if (v->n_also) {
		add(l, TK_TEXT, " · also matched (less specific):");
		for (i = 0; i < v->n_also; i++) {
			add(l, TK_TEXT, " ");
			add(l, TK_CODE, v->also[i]);
		}
	}
	para(d, TK_P_KB);
}

static void notes(struct doc *d, const struct hs_record *rec, const struct rule_verdict *v)
{
	struct tk_line *l = d->l;
	size_t i, t;
	if (!v->n_note)
		return;
	add(l, TK_TEXT, "Notes");
	heading(d, 3);
	d->y->list(d->o, 0, 1);
	for (i = 0; i < v->n_note; i++) {
		const struct rule_finding *r = &v->note[i];
		add(l, TK_STRONG, r->title);
		l->only = TK_MDT;
		add(l, TK_TEXT, " (");
		add(l, TK_CODE, r->rule);
		add(l, TK_TEXT, ")");
		l->only = 0;
		for (t = 0; t < r->n_evid; t++) {
			add(l, TK_TEXT, t ? "; " : ": ");
			add_evidence(l, rec, &r->evid[t]);
		}
		add(l, TK_TEXT, ". ");
		add(l, TK_PROSE, r->kb->root_cause);
		li(d);
	}
	d->y->list(d->o, 0, 0);
}

/* ---- a section: the first connection of a group of failures ------------- */

static void sni(struct tk_line *l, const struct hs_record *rec)
{
	int has = rec->ch && rec->ch->has_sni;
	wire_or_none(l, has, has ? hs_ch_sni(rec->ch) : NULL, has ? rec->ch->sni_len : 0);
}

static void section(struct doc *d, const struct hs_record *rec, const struct rule_verdict *vd)
{
	struct tk_line *l = d->l;
	char a[80], b[80], v[16], s[64], idt[400];
	uint16_t i;
	int bit;

	table(d, &T_SECTION, 1);
	kv(l, "Client", 0);
	add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &rec->cli));
	row(d, &T_SECTION);
	kv(l, "Server", 0);
	add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &rec->srv));
	row(d, &T_SECTION);
	kv(l, "SNI", TK_MONO);
	sni(l, rec);
	row(d, &T_SECTION);
	if (rec->ch && rec->ch->n_alpn) {
		kv(l, "ALPN", TK_MONO);
		for (i = 0; i < rec->ch->n_alpn; i++) {
			uint16_t off = hs_ch_alpn_off(rec->ch)[i];
			if (i)
				add(l, TK_TEXT, ", ");
			addn(l, TK_WIRE, hs_ch_alpn(rec->ch) + off + 1, hs_ch_alpn(rec->ch)[off]);
		}
		row(d, &T_SECTION);
	}
	kv(l, "Stage", 0);
	add(l, TK_CODE, hs_stage_name((enum hs_stage)rec->stage));
	row(d, &T_SECTION);
	if (rec->ch) {
		kv(l, "Client offered", 0);
		addf(l, TK_TEXT, "up to %s, %u cipher suites", rpt_version(v, sizeof(v), rec->ch->max_offered),
		     rec->ch->total_suites);
		row(d, &T_SECTION);
		kv(l, "Client is", 0);
		add(l, TK_PROSE, rule_identity_text(rpt_identity(rec, vd), idt, sizeof(idt)));
		row(d, &T_SECTION);
	}
	if (rec->sh) {
		kv(l, "Server chose", 0);
		addf(l, TK_TEXT, "%s, ", rpt_version(v, sizeof(v), rec->sh->version));
		add(l, TK_PROSE, rpt_suite(s, sizeof(s), rec->sh->cipher));
		row(d, &T_SECTION);
	}
	if (rec->server_chain.n && rec->server_chain.c[0].x && !rec->server_chain.c[0].x->malformed) {
		kv(l, "Server certificate", TK_MONO);
		add(l, TK_WIRE, rec->server_chain.c[0].x->subject);
		if (rec->server_chain.c[0].expired)
			add(l, TK_TEXT, " (expired at capture time)");
		row(d, &T_SECTION);
	}
	if (rec->nontls_dir != 255) {
		clear(l);
		cell(l, TK_HEAD);
		addf(l, TK_TEXT, "Non-TLS bytes from the %s", rpt_dir_name(rec->nontls_dir));
		cell(l, TK_MONO);
		addn(l, TK_WIRE, hs_rare(rec)->nontls, hs_rare(rec)->nontls_len);
		row(d, &T_SECTION);
	}
	for (i = 0; i < 2; i++) {
		if (!hs_rare(rec)->d[i].pre_len || rec->nontls_dir == i)
			continue;
		clear(l);
		cell(l, TK_HEAD);
		addf(l, TK_TEXT, "Plain-text bytes from the %s before TLS", rpt_dir_name((uint8_t)i));
		cell(l, TK_MONO);
		addn(l, TK_WIRE, hs_rare(rec)->d[i].pre, hs_rare(rec)->d[i].pre_len);
		row(d, &T_SECTION);
	}
	for (i = 0; i < 2; i++) {   /* --keylog: the first application data each way, decrypted */
		struct rpt_appdata ad;
		char ap[160];
		if (!rpt_appdata(rec, (int)i, &ad))
			continue;
		kv(l, i == DIR_C2S ? "First data from the client (decrypted)" : "First data from the server (decrypted)",
		   TK_MONO);
		if (ad.kind == APPD_H1_STATUS || ad.kind == APPD_H1_REQUEST || ad.kind == APPD_OTHER)
			addn(l, TK_WIRE, ad.bytes, ad.kind == APPD_OTHER ? ad.len : ad.line_len);
		rpt_appdata_prose(ap, sizeof(ap), &ad);
		addf(l, TK_TEXT, ad.kind == APPD_H2_PREFACE || ad.kind == APPD_H2_FRAMES ? "%s" : " (%s)", ap);
		addf(l, TK_TEXT, ", frame %" PRIu64, ad.frame);
		row(d, &T_SECTION);
	}
	kv(l, "Frames", 0);
	addf(l, TK_TEXT, "%" PRIu64 "–%" PRIu64 " (connection #%" PRIu64 ", %.3f ms)", rec->first_frame,
	     hs_last_frame(rec), rec->id, (double)(hs_last_ts(rec) - rec->first_ts_us) / 1000.0);
	row(d, &T_SECTION);
	kv(l, "Started", 0);
	l->only = TK_MD | TK_HTML;
	add(l, TK_TEXT, tk_time(a, sizeof(a), rec->first_ts_us));
	l->only = TK_TXT;         /* to the ms, as ALB access logs line up */
	add(l, TK_TEXT, tk_time_ms(b, sizeof(b), rec->first_ts_us));
	l->only = 0;
	row(d, &T_SECTION);
	if (rec->anomalies) {
		kv(l, "Capture problems", 0);
		for (bit = 0, i = 0; bit < 32; bit++)
			if (rec->anomalies & (1u << bit)) {
				if (i++)
					add(l, TK_TEXT, ", ");
				add(l, TK_CODE, hs_anomaly_name((enum hs_anomaly)(1u << bit)));
			}
		row(d, &T_SECTION);
	}
	table(d, &T_SECTION, 0);

	add(l, TK_STRONG, "Handshake ladder");
	add(l, TK_TEXT, " (client left, server right; time from the first packet)");
	l->only = TK_MDT;          /* before a code block */
	add(l, TK_TEXT, ":");
	l->only = 0;
	para(d, TK_P);
	d->y->ladder(d->o, rec);
	if (!vd)
		return;
	if (vd->diag)
		finding(d, rec, vd);
	notes(d, rec, vd);
}

/* One row of the --all table. */
static void all_row(struct doc *d, const struct hs_record *rec, const struct rule_verdict *vd)
{
	struct tk_line *l = d->l;
	char a[80], b[80], v[16], s[64];
	clear(l);
	cell(l, 0);
	addf(l, TK_TEXT, "%" PRIu64, rec->id);
	cell(l, 0);
	add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &rec->cli));
	cell(l, 0);
	add(l, TK_CODE, rpt_endpoint(b, sizeof(b), &rec->srv));
	cell(l, TK_MONO);
	sni(l, rec);
	cell(l, 0);
	add(l, TK_CODE, hs_stage_name((enum hs_stage)rec->stage));
	cell(l, 0);
	if (rec->sh)
		add(l, TK_TEXT, rpt_version(v, sizeof(v), rec->sh->version));
	cell(l, 0);
	if (rec->sh)
		add(l, TK_PROSE, rpt_suite(s, sizeof(s), rec->sh->cipher));
	cell(l, 0);
	addf(l, TK_TEXT, "%" PRIu64 "–%" PRIu64, rec->first_frame, hs_last_frame(rec));
	cell(l, 0);
	addf(l, TK_TEXT, "%.3f ms", (double)(hs_last_ts(rec) - rec->first_ts_us) / 1000.0);
	cell(l, 0);
	if (vd && vd->diag)
		add(l, TK_CODE, vd->diag->rule);
	row(d, &T_ALL);
}

/* ---- grouping ----------------------------------------------------------- */

struct rpt_ticket *tk_new(void)
{
	return calloc(1, sizeof(struct rpt_ticket));
}

void tk_free(struct rpt_ticket *t)
{
	size_t i;
	if (!t)
		return;
	for (i = 0; i < t->ng; i++)
		free(t->g[i].body);
	if (t->all)
		fclose(t->all);
	free(t);
}

static int addr_eq(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

/* Renders one section into memory, capped at TK_SECTION_MAX. */
static char *render(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return NULL;
	{
		struct doc d = { syntax(r), m, &r->tk->line, NULL };
		clear(d.l);
		section(&d, rec, v);
	}
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	if (n > TK_SECTION_MAX) {
		static const char cut[] = "\n\n(section cut at its size limit; the JSON report has everything)\n";
		memcpy(buf + TK_SECTION_MAX - sizeof(cut), cut, sizeof(cut));
		n = TK_SECTION_MAX - 1;
	}
	*len = n;
	return buf;
}

/* What the document says of a verdict's diagnosis (none: id NULL). */
static struct tk_rule tk_rule_of(const struct rule_verdict *v)
{
	struct tk_rule x = { NULL, NULL, NULL, NULL };
	if (v && v->diag) {
		x.id = v->diag->rule;
		x.title = v->diag->title;
		x.side = v->diag->side;
		x.confidence = v->diag->confidence;
	}
	return x;
}

static void add_failed(struct rpt *r, struct rpt_ticket *t, const struct hs_record *rec,
		       const struct rule_verdict *v)
{
	const struct tk_rule rule = tk_rule_of(v);
	struct tk_group *g = NULL;
	size_t i;
	for (i = 0; i < t->nc; i++)
		if (t->c[i].rule.id == rule.id)
			break;
	if (i < t->nc)
		t->c[i].count++;
	else if (t->nc < TK_MAX_CAUSES)
		t->c[t->nc++] = (struct tk_cause){ rule, 1 };
	for (i = 0; i < t->ng; i++)
		if (t->g[i].rule.id == rule.id && addr_eq(&t->g[i].srv, &rec->srv)) {
			g = &t->g[i];
			break;
		}
	if (!g) {
		if (t->ng >= TK_MAX_GROUPS) {
			t->failed_ungrouped++;
			return;
		}
		g = &t->g[t->ng++];
		memset(g, 0, sizeof(*g));
		g->rule = rule;
		g->srv = rec->srv;
		g->first_ts = rec->first_ts_us;
		g->body = render(r, rec, v, &g->body_len);
	}
	if (g->count < TK_IDS) {
		g->ids[g->count] = rec->id;
		g->frames[g->count] = rec->first_frame;
		g->ts[g->count] = rec->first_ts_us;
	}
	g->count++;
	if (rec->first_ts_us < g->first_ts)
		g->first_ts = rec->first_ts_us;
	if (hs_last_ts(rec) > g->last_ts)
		g->last_ts = hs_last_ts(rec);
}

static void add_other(struct rpt_ticket *t, const struct hs_record *rec, const struct rule_verdict *v)
{
	uint16_t ver = rec->sh ? rec->sh->version : 0, cs = rec->sh ? rec->sh->cipher : 0;
	const struct tk_rule d = tk_rule_of(v);
	size_t i;
	for (i = 0; i < t->no; i++) {
		struct tk_other *o = &t->o[i];
		if (addr_eq(&o->srv, &rec->srv) && o->stage == rec->stage && o->version == ver && o->cipher == cs &&
		    o->diag.id == d.id) {
			o->count++;
			return;
		}
	}
	if (t->no >= TK_MAX_OTHER) {
		t->other_rest++;
		return;
	}
	{
		struct tk_other *o = &t->o[t->no++];
		memset(o, 0, sizeof(*o));
		o->srv = rec->srv;
		o->stage = rec->stage;
		o->version = ver;
		o->cipher = cs;
		o->diag = d;
		o->count = 1;
		o->first_id = rec->id;
		o->first_frame = rec->first_frame;
		o->first_ts = rec->first_ts_us;
		if (rec->ch && rec->ch->has_sni) {
			o->has_sni = 1;
			o->sni_len = rec->ch->sni_len < sizeof(o->sni) ? rec->ch->sni_len : sizeof(o->sni);
			memcpy(o->sni, hs_ch_sni(rec->ch), o->sni_len);
		}
	}
}

/* Keeps what the key log let us read of a connection's first application
 * data, each way (copied: the record is freed before the document). */
static void add_appdata(struct rpt_ticket *t, const struct hs_record *rec)
{
	struct rpt_appdata a;
	int d;
	for (d = 0; d < 2; d++) {
		struct tk_appdata *x;
		if (!rpt_appdata(rec, d, &a))
			continue;
		if (t->nad >= TK_MAX_APPDATA) {
			t->ad_rest++;
			continue;
		}
		x = &t->ad[t->nad++];
		x->id = rec->id;
		x->frame = a.frame;
		x->dir = (uint8_t)d;
		x->kind = (uint8_t)a.kind;
		x->status = (uint16_t)a.status;
		x->len = (uint16_t)a.len;
		x->line_len = (uint16_t)a.line_len;
		memcpy(x->bytes, a.bytes, a.len);
		x->n_h2 = (uint8_t)a.n_h2;
		memcpy(x->h2_types, a.h2_types, a.n_h2);
	}
}

void tk_add(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v)
{
	struct rpt_ticket *t = r->tk;
	if (!t)
		return;
	add_appdata(t, rec);
	if (rule_verdict_failed(v))
		add_failed(r, t, rec, v);
	else
		add_other(t, rec, v);
	if (r->all && r->fmt != RPT_TEXT) {   /* text --all writes each connection instead */
		if (!t->all)
			t->all = tmpfile();
		if (t->all) {
			struct doc d = { syntax(r), t->all, &t->line, NULL };
			all_row(&d, rec, v);
			t->all_rows++;
		}
	}
}

/* ---- the document ---------------------------------------------------------- */

static void copy_all(struct rpt_ticket *t, FILE *o)
{
	char buf[65536];
	size_t n;
	if (!t->all)
		return;
	rewind(t->all);
	while ((n = fread(buf, 1, sizeof(buf), t->all)) > 0)
		fwrite(buf, 1, n, o);
}

static void headline(struct doc *d, const struct rpt *r, const struct rpt_ticket *t)
{
	struct tk_line *l = d->l;
	char title[128];
	size_t i, j;
	if (r->n.failed) {
		snprintf(title, sizeof(title), "TLS handshakes: FAILED — %" PRIu64 " of %" PRIu64 " connection%s failed",
			 r->n.failed, r->n.connections, r->n.connections == 1 ? "" : "s");
		if (t->nc == 1) {
			add(l, TK_PROSE, t->c[0].rule.title);
			addf(l, TK_TEXT, " (side at fault: %s, confidence: %s).", t->c[0].rule.side,
			     t->c[0].rule.confidence);
		} else {
			addf(l, TK_TEXT, "%zu different causes; the most frequent: ", t->nc);
			for (i = 1, j = 0; i < t->nc; i++)
				if (t->c[i].count > t->c[j].count)
					j = i;
			add(l, TK_PROSE, t->c[j].rule.title);
			addf(l, TK_TEXT, " (%" PRIu64 " connections).", t->c[j].count);
		}
	} else if (!r->n.connections) {
		snprintf(title, sizeof(title), "TLS handshakes: no data — no connection in the capture");
		add(l, TK_TEXT, "The capture holds no connection to report.");
	} else if (r->n.inconclusive) {
		snprintf(title, sizeof(title), "TLS handshakes: INCONCLUSIVE — no failure proven, %" PRIu64 " of %" PRIu64
			 " connection%s undecided", r->n.inconclusive, r->n.connections, r->n.connections == 1 ? "" : "s");
		addf(l, TK_TEXT, "%" PRIu64 " connection%s, %" PRIu64 " TLS handshake%s complete; the capture cannot decide %"
		     PRIu64 " (cut short or missing bytes: see below).", r->n.connections, r->n.connections == 1 ? "" : "s",
		     r->n.complete, r->n.complete == 1 ? "" : "s", r->n.inconclusive);
	} else {
		snprintf(title, sizeof(title), "TLS handshakes: OK — no failed handshake");
		addf(l, TK_TEXT, "%" PRIu64 " TLS handshake%s, %" PRIu64 " complete, none failed.", r->n.tls,
		     r->n.tls == 1 ? "" : "s", r->n.complete);
	}
	d->y->headline(d->o, r->n.failed != 0, title, l);
	clear(l);
}

static void summary(struct doc *d, const struct rpt *r, const struct rpt_input *in, int nin,
		    const struct rpt_run *run, const struct flow_stats *fs, const char *filter)
{
	const struct rpt_ticket *t = r->tk;
	struct tk_line *l = d->l;
	char tb[48], tb2[48];
	size_t i;
	int k;

	add(l, TK_TEXT, "Summary");
	heading(d, 2);
	table(d, &T_SUMMARY, 1);
	kv(l, "Connections reported", 0);
	addf(l, TK_TEXT, "%" PRIu64, r->n.connections);
	row(d, &T_SUMMARY);
	kv(l, "TLS handshakes", 0);
	addf(l, TK_TEXT, "%" PRIu64 ", %" PRIu64 " complete", r->n.tls, r->n.complete);
	row(d, &T_SUMMARY);
	kv(l, "Outcome", 0);
	addf(l, TK_TEXT, "%" PRIu64 " failed (%" PRIu64 " with TLS, %" PRIu64 " before TLS), %" PRIu64
	     " inconclusive, %" PRIu64 " healthy", r->n.failed, r->n.failed_tls, r->n.failed_tcp, r->n.inconclusive,
	     r->n.healthy);
	row(d, &T_SUMMARY);
	kv(l, "Failed by cause", 0);
	if (!t->nc)
		add(l, TK_TEXT, "none");
	for (i = 0; i < t->nc; i++) {
		if (i)
			add(l, TK_BREAK, "");   /* one line (Markdown, text: one row) per cause */
		addf(l, TK_TEXT, "%" PRIu64 " × ", t->c[i].count);
		add(l, TK_PROSE, t->c[i].rule.title);
		add(l, TK_TEXT, " (");
		add(l, TK_CODE, t->c[i].rule.id);
		add(l, TK_TEXT, ")");
	}
	row(d, &T_SUMMARY);
	kv(l, "By stage", 0);
	for (k = 0, i = 0; k < STAGE__COUNT; k++)
		if (r->n.by_stage[k]) {
			if (i++)
				add(l, TK_TEXT, ", ");
			add(l, TK_CODE, hs_stage_name((enum hs_stage)k));
			addf(l, TK_TEXT, " %" PRIu64, r->n.by_stage[k]);
		}
	row(d, &T_SUMMARY);
	if (run->ps.packets) {
		int64_t us = run->last_ts_us - run->first_ts_us;
		kv(l, "Capture span", 0);
		addf(l, TK_TEXT, "%s → %s (", tk_time(tb, sizeof(tb), run->first_ts_us),
		     tk_time(tb2, sizeof(tb2), run->last_ts_us));
		l->only = TK_MDT;           /* a short span in ms */
		if (us < 1000000)
			addf(l, TK_TEXT, "%.3f ms", (double)us / 1000.0);
		else
			addf(l, TK_TEXT, "%.3f s", (double)us / 1e6);
		l->only = TK_HTML;
		addf(l, TK_TEXT, "%.3f s", (double)us / 1e6);
		l->only = 0;
		addf(l, TK_TEXT, ", %" PRIu64 " packets)", run->ps.packets);
		row(d, &T_SUMMARY);
	} else {
		l->only = TK_MDT;           /* HTML leaves the row out */
		kv(l, "Capture span", 0);
		add(l, TK_TEXT, "no packets");
		row(d, &T_SUMMARY);
		l->only = 0;
	}
	for (k = 0; k < nin; k++) {
		const char *sha = in[k].sha256;
		kv(l, in[k].live ? "Interface" : "Source file", 0);
		add(l, TK_PROSE, in[k].live || strcmp(in[k].path, "-") ? in[k].path : "standard input");
		addf(l, TK_TEXT, " (%s, %" PRIu64 " packets%s)", in[k].link_name ? in[k].link_name : "?", in[k].packets,
		     in[k].truncated ? ", ends mid-packet" : "");
		if (*sha) {
			add(l, TK_BREAK, "");
			add(l, TK_TEXT, "SHA-256 ");
			add(l, TK_CODE, sha);
		} else if (in[k].hash_note) {
			add(l, TK_BREAK, "");
			addf(l, TK_TEXT, "SHA-256 %s", in[k].hash_note);
		}
		row(d, &T_SUMMARY);
	}
	if (filter && *filter) {
		kv(l, "Filter", 0);
		l->only = TK_MDT;           /* a code span would not escape it */
		add(l, TK_PROSE, filter);
		l->only = TK_HTML;
		add(l, TK_CODE, filter);
		l->only = 0;
		row(d, &T_SUMMARY);
	}
	if (run->live && run->have_kstats) {
		kv(l, "Kernel drops", 0);
		addf(l, TK_TEXT, "%" PRIu64 " by the kernel, %" PRIu64 " by the interface", run->kernel_drops,
		     run->if_drops);
		row(d, &T_SUMMARY);
	}
	if (fs->flows_evicted || fs->cap_segments_hit || fs->cap_bytes_hit) {
		kv(l, "Caps hit", 0);
		addf(l, TK_TEXT, "%" PRIu64 " flows evicted, %" PRIu64 " queue-segment caps, %" PRIu64 " queue-byte caps",
		     fs->flows_evicted, fs->cap_segments_hit, fs->cap_bytes_hit);
		row(d, &T_SUMMARY);
	}
	if (r->ev) {
		kv(l, "Evidence capture", 0);
		add(l, TK_PROSE, r->ev->path);
		addf(l, TK_TEXT, " (%" PRIu64 " packets of %" PRIu64 " connections, %" PRIu64 " bytes)",
		     r->ev->packets, r->ev->connections, r->ev->bytes);
		add(l, TK_BREAK, "");
		add(l, TK_TEXT, "SHA-256 ");
		add(l, TK_CODE, r->ev->sha256);
		row(d, &T_SUMMARY);
		kv(l, "Frame numbers", 0);
		add(l, TK_TEXT, rpt_ev_numbering(r->ev));
		row(d, &T_SUMMARY);
		if (r->ev->spool_dropped) {
			char note[200];
			kv(l, "Evidence incomplete", 0);
			add(l, TK_TEXT, rpt_ev_spool_note(note, sizeof(note), r->ev));
			row(d, &T_SUMMARY);
		}
	}
	kv(l, "Generated by", 0);
	add(l, TK_TEXT, "tlswhy " TLSWHY_VERSION);
	row(d, &T_SUMMARY);
	table(d, &T_SUMMARY, 0);
}

static void failed(struct doc *d, const struct rpt_ticket *t)
{
	struct tk_line *l = d->l;
	char a[80], tb[48], tb2[48];
	size_t i, j;
	if (t->ng) {
		add(l, TK_TEXT, "Failed handshakes");
		heading(d, 2);
		table(d, &T_FAILED, 1);
		for (i = 0; i < t->ng; i++) {
			clear(l);
			cell(l, 0);
			addf(l, TK_TEXT, "%zu", i + 1);
			cell(l, 0);
			addf(l, TK_TEXT, "%" PRIu64, t->g[i].count);
			cell(l, 0);
			add(l, TK_PROSE, t->g[i].rule.title);
			cell(l, 0);
			add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &t->g[i].srv));
			cell(l, 0);
			add(l, TK_TEXT, t->g[i].rule.side);
			cell(l, 0);
			add(l, TK_CODE, t->g[i].rule.id);
			row(d, &T_FAILED);
		}
		table(d, &T_FAILED, 0);
		if (t->failed_ungrouped) {
			addf(l, TK_TEXT, "%" PRIu64 " more failed connections fall in further groups that are not shown "
			     "(the JSON report has them all).", t->failed_ungrouped);
			para(d, TK_P);
		}
	}
	for (i = 0; i < t->ng; i++) {
		const struct tk_group *g = &t->g[i];
		d->y->section(d->o, 1);
		addf(l, TK_TEXT, "%zu. ", i + 1);
		add(l, TK_PROSE, g->rule.title);
		heading(d, 2);
		if (g->count > 1) {
			addf(l, TK_STRONG, "%" PRIu64 " connections like this", g->count);
			add(l, TK_TEXT, " (same cause, same server ");
			add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &g->srv));
			addf(l, TK_TEXT, "), first at %s, last ending %s. Connections (#id at frame):",
			     tk_time(tb, sizeof(tb), g->first_ts), tk_time(tb2, sizeof(tb2), g->last_ts));
			for (j = 0; j < g->count && j < TK_IDS; j++) {
				addf(l, TK_TEXT, "%s#%" PRIu64 " at %" PRIu64, j ? ", " : " ", g->ids[j], g->frames[j]);
				l->only = TK_TXT;   /* each start, to line up with access logs */
				addf(l, TK_TEXT, " (%s)", tk_time_ms(tb, sizeof(tb), g->ts[j]));
				l->only = 0;
			}
			if (g->count > TK_IDS)
				addf(l, TK_TEXT, ", … and %" PRIu64 " more", g->count - TK_IDS);
			add(l, TK_TEXT, ". The first is shown.");
			para(d, TK_P);
		}
		if (g->body)
			fwrite(g->body, 1, g->body_len, d->o);
		d->y->section(d->o, 0);
	}
}

static const char *const C_PROBE[] = { "#", "What changed", "Result", "Diagnosis" };
static const struct tk_table T_PROBE = { C_PROBE, "r---", 4, 0 };

/* `tlswhy probe`: the connections it made, one change each, and the
 * verdict with the connections it rests on. */
static void probe(struct doc *d, const struct rpt_probe *p)
{
	struct tk_line *l = d->l;
	int i;
	if (!p)
		return;
	add(l, TK_TEXT, "Probe");
	heading(d, 2);
	add(l, TK_TEXT, "Target ");
	add(l, TK_PROSE, p->target);
	add(l, TK_TEXT, " port ");
	add(l, TK_PROSE, p->port);
	add(l, TK_TEXT, ", resolved once to ");
	add(l, TK_CODE, p->address);
	add(l, TK_TEXT, "; offer: ");
	add(l, TK_PROSE, p->offer);
	add(l, TK_TEXT, ".");
	para(d, TK_P);
	d->y->table(d->o, &T_PROBE, 1);
	for (i = 0; i < p->n; i++) {
		const struct rpt_probe_try *t = &p->t[i];
		clear(l);
		cell(l, 0);
		addf(l, TK_TEXT, "%d", t->conn);
		cell(l, 0);
		if (t->variant) {
			if (t->round == 2)
				add(l, TK_TEXT, "+ ");
			add(l, TK_PROSE, t->variant);
		} else
			add(l, TK_TEXT, "nothing (the load balancer's handshake)");
		cell(l, 0);
		add(l, TK_PROSE, t->outcome);
		if (t->accepted) {
			add(l, TK_TEXT, " ");
			add(l, TK_STRONG, "accepted");
		}
		cell(l, 0);
		if (t->rule[0])
			add(l, TK_CODE, t->rule);
		row(d, &T_PROBE);
	}
	d->y->table(d->o, &T_PROBE, 0);
	if (p->cap_reached) {
		add(l, TK_TEXT, "The connection cap was reached; the remaining variants were not tried.");
		para(d, TK_P);
	}
	add(l, TK_STRONG, "Probe verdict:");
	add(l, TK_TEXT, " ");
	add(l, TK_CODE, p->verdict);
	add(l, TK_TEXT, " — ");
	add(l, TK_PROSE, p->text);
	para(d, TK_P);
	if (p->n_evidence) {
		add(l, TK_STRONG, "Evidence:");
		for (i = 0; i < p->n_evidence; i++) {
			const struct rpt_probe_try *t;
			if (p->evidence[i] < 0 || p->evidence[i] >= p->n)
				continue;
			t = &p->t[p->evidence[i]];
			addf(l, TK_TEXT, "%s connection %d (", i ? ";" : "", t->conn);
			add(l, TK_PROSE, t->variant ? t->variant : "the load balancer's handshake");
			add(l, TK_TEXT, "): ");
			add(l, TK_PROSE, t->outcome);
		}
		para(d, TK_P);
	}
	if (p->fix) {
		add(l, TK_STRONG, "Fix on the target:");
		add(l, TK_TEXT, " ");
		add(l, TK_PROSE, p->fix);
		if (p->fix2) {
			add(l, TK_TEXT, "; and: ");
			add(l, TK_PROSE, p->fix2);
		}
		para(d, TK_P);
	}
	if (p->listener) {
		add(l, TK_STRONG, "Listener side:");
		add(l, TK_TEXT, " ");
		add(l, TK_PROSE, p->listener);
		para(d, TK_P);
	}
}

/* --keylog: the first application data each way, as decrypted (nothing
 * without a key log or when no record decrypted). */
static void appdata(struct doc *d, const struct rpt_ticket *t)
{
	struct tk_line *l = d->l;
	char w[160];
	size_t i;
	if (!t->nad)
		return;
	add(l, TK_TEXT, "Decrypted application data");
	heading(d, 2);
	add(l, TK_TEXT, "What each side sent first after the handshake, read with the key log:");
	para(d, TK_P);
	d->y->table(d->o, &T_APPDATA, 1);
	for (i = 0; i < t->nad; i++) {
		const struct tk_appdata *x = &t->ad[i];
		struct rpt_appdata a;
		memset(&a, 0, sizeof(a));
		a.kind = (enum rpt_appdata_kind)x->kind;
		a.status = x->status;
		a.len = x->len;
		a.n_h2 = x->n_h2;
		memcpy(a.h2_types, x->h2_types, x->n_h2);
		clear(l);
		cell(l, 0);
		addf(l, TK_TEXT, "%" PRIu64, x->id);
		cell(l, 0);
		add(l, TK_TEXT, rpt_dir_name(x->dir));
		cell(l, 0);
		addf(l, TK_TEXT, "%" PRIu64, x->frame);
		cell(l, TK_MONO);
		if (a.kind == APPD_H1_STATUS || a.kind == APPD_H1_REQUEST || a.kind == APPD_OTHER)
			addn(l, TK_WIRE, x->bytes, a.kind == APPD_OTHER ? x->len : x->line_len);
		cell(l, 0);
		rpt_appdata_prose(w, sizeof(w), &a);
		addf(l, TK_TEXT, "%s", w);
		row(d, &T_APPDATA);
	}
	if (t->ad_rest) {
		clear(l);
		cell(l, 0);
		addf(l, TK_TEXT, "%" PRIu64, t->ad_rest);
		cell(l, TK_FILL);
		add(l, TK_TEXT, "(more; every one is in the JSON report)");
		row(d, &T_APPDATA);
	}
	d->y->table(d->o, &T_APPDATA, 0);
}

static void others(struct doc *d, const struct rpt *r, const struct rpt_ticket *t)
{
	struct tk_line *l = d->l;
	char a[80], v[16], s[64];
	size_t i;
	add(l, TK_TEXT, "Healthy and other connections");
	heading(d, 2);
	if (!t->no) {
		add(l, TK_TEXT, "None.");
		para(d, TK_P);
		return;
	}
	addf(l, TK_TEXT, "%" PRIu64 " complete handshake%s. Grouped by server, stage and what was negotiated:",
	     r->n.complete, r->n.complete == 1 ? "" : "s");
	para(d, TK_P);
	table(d, &T_OTHER, 1);
	for (i = 0; i < t->no; i++) {
		const struct tk_other *x = &t->o[i];
		clear(l);
		cell(l, 0);
		addf(l, TK_TEXT, "%" PRIu64, x->count);
		cell(l, 0);
		add(l, TK_CODE, rpt_endpoint(a, sizeof(a), &x->srv));
		cell(l, TK_MONO);
		wire_or_none(l, x->has_sni, x->sni, x->sni_len);
		cell(l, 0);
		add(l, TK_CODE, hs_stage_name((enum hs_stage)x->stage));
		cell(l, 0);
		if (x->version)
			add(l, TK_TEXT, rpt_version(v, sizeof(v), x->version));
		cell(l, 0);
		if (x->version)
			add(l, TK_PROSE, rpt_suite(s, sizeof(s), x->cipher));
		cell(l, 0);
		if (x->diag.id) {
			add(l, TK_PROSE, x->diag.title);
			l->only = TK_MDT;
			add(l, TK_TEXT, " (");
			add(l, TK_CODE, x->diag.id);
			add(l, TK_TEXT, ")");
			l->only = 0;
		}
		cell(l, 0);
		addf(l, TK_TEXT, "#%" PRIu64 " at %" PRIu64, x->first_id, x->first_frame);
		l->only = TK_TXT;
		addf(l, TK_TEXT, ", %s", tk_time_ms(s, sizeof(s), x->first_ts));
		l->only = 0;
		row(d, &T_OTHER);
	}
	if (t->other_rest) {
		clear(l);
		cell(l, 0);
		addf(l, TK_TEXT, "%" PRIu64, t->other_rest);
		cell(l, TK_FILL);
		add(l, TK_TEXT, "(other servers and outcomes)");
		row(d, &T_OTHER);
	}
	table(d, &T_OTHER, 0);
	if (!r->all) {
		l->only = TK_MD | TK_HTML;
		add(l, TK_TEXT, "Every connection is listed with ");
		add(l, TK_CODE, "--all");
		add(l, TK_TEXT, ".");
		l->only = TK_TXT;
		add(l, TK_TEXT, "Each connection in full: ");
		add(l, TK_CODE, "-v");
		add(l, TK_TEXT, " (");
		add(l, TK_CODE, "--all");
		add(l, TK_TEXT, " adds the connections without TLS).");
		l->only = 0;
		para(d, TK_P);
	}
}

/* --alb-log: the load balancer's log against the capture (report/alb.c). */
static void alb_sentence(void *arg, const char *s)
{
	struct doc *d = arg;
	add(d->l, TK_TEXT, s);
	para(d, TK_P);
}

static void alb_section(struct doc *d, const struct rpt *r)
{
	if (!r->alb)
		return;
	add(d->l, TK_TEXT, "ALB access log");
	heading(d, 2);
	rpt_alb_sentences(r->alb, alb_sentence, d);
}

void tk_headline(struct rpt *r)
{
	struct rpt_ticket *t = r->tk;
	struct doc d = { syntax(r), r->out, &t->line, NULL };
	clear(d.l);
	headline(&d, r, t);
}

void tk_document(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
		 const struct flow_stats *fs, const char *filter)
{
	struct rpt_ticket *t = r->tk;
	struct doc d = { syntax(r), r->out, &t->line, NULL };
	struct tk_line *l = d.l;

	clear(l);
	d.y->begin(d.o, r->n.failed != 0);
	headline(&d, r, t);
	summary(&d, r, in, nin, run, fs, filter);
	probe(&d, r->probe);
	failed(&d, t);
	alb_section(&d, r);
	others(&d, r, t);
	appdata(&d, t);
	if (r->all && t->all_rows && !d.y->grid) {
		addf(l, TK_TEXT, "All connections (%" PRIu64 ")", t->all_rows);
		heading(&d, 2);
		table(&d, &T_ALL, 1);
		copy_all(t, d.o);
		table(&d, &T_ALL, 0);
	}
	add(l, TK_TEXT, "Generated by tlswhy " TLSWHY_VERSION "; every fact above is in the JSON report (");
	add(l, TK_CODE, "--format json");
	add(l, TK_TEXT, ").");
	d.y->end(d.o, l);
	clear(l);
}
