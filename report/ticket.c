/*
 * ticket.c - grouping and bookkeeping for the Markdown and HTML reports,
 * and the ladder model both draw (see ticket.h for the bounds).
 *
 * The ladder: one step per recorded event, client on the left, server on
 * the right. The failing step is chosen from the stage the connection
 * reached (facts, not a new verdict): the fatal alert that ended it, the
 * non-TLS answer, the FIN/RST that closed it, the RST that refused it; for
 * what never happened (no SYN-ACK, an unanswered ClientHello) a final line
 * says so and is the one marked.
 */
#include "report/ticket.h"
#include "report/esc.h"
#include "dissect/names.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *tk_version(char *b, size_t n, uint16_t v)
{
	const char *s = names_version(v);
	if (s)
		return s;
	snprintf(b, n, "0x%04x", v);
	return b;
}

const char *tk_suite(char *b, size_t n, uint16_t s)
{
	const char *x = names_suite_name(s);
	if (x)
		return x;
	snprintf(b, n, "0x%04x", s);
	return b;
}

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

uint16_t tk_max_offered(const struct hs_client_hello *c)
{
	uint16_t i, m = 0;
	if (!c->has_supported_versions)
		return c->legacy_version;
	for (i = 0; i < c->n_versions; i++)
		if (!names_is_grease(c->versions[i]) && c->versions[i] < 0x7f00 && c->versions[i] > m)
			m = c->versions[i];
	return m;
}

/* ---- ranking: the same order as rules/report.c's text and JSON ---------- */

size_t tk_rank(const struct rk_rule *r, struct tk_ranked *out, size_t cap)
{
	const struct rk_kb *k = r->kb;
	size_t n = 0, i, j;
	uint16_t a;
	for (i = 0; i < k->n_wa && n < cap; i++) {
		struct tk_ranked x = { &k->wa[i], k->wa[i].rate, NULL };
		for (a = 0; a < r->n_adj; a++)
			if (!strcmp(r->adj[a].wa_id, k->wa[i].id)) {
				x.rate = r->adj[a].rate;
				x.why = r->adj[a].why;
			}
		for (j = n; j > 0 && out[j - 1].rate < x.rate; j--)
			out[j] = out[j - 1];
		out[j] = x;
		n++;
	}
	return n;
}

uint8_t tk_side(const struct rk_rule *r) { return r->side != 255 ? r->side : r->kb->side; }
uint8_t tk_conf(const struct rk_rule *r) { return r->confidence ? r->confidence : r->kb->confidence; }
uint8_t tk_basis(const struct rk_rule *r) { return r->basis ? r->basis : r->kb->basis; }

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
				snprintf(b, n, "Alert %s %s", a->level == 2 ? "fatal" : a->level == 1 ? "warning" : "level ?",
					 s);
			else
				snprintf(b, n, "Alert %s %u", a->level == 2 ? "fatal" : "warning", a->description);
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
	return a->encrypted || a->level == 2;
}

void tk_ladder_build(const struct hs_record *r, struct tk_ladder *l)
{
	uint16_t i;
	int fail = -1;
	memset(l, 0, sizeof(*l));
	for (i = 0; i < r->n_events && l->n < TK_MAX_STEPS; i++) {
		const struct hs_event *e = &r->ev[i];
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
		for (i = 0; i < l->n && fail < 0; i++)
			if (fatal_alert(r, &r->ev[i]))
				fail = i;
		break;
	case STAGE_NON_TLS_ANSWER:
		for (i = 0; i < l->n && fail < 0; i++)
			if (r->ev[i].kind == EV_NON_TLS)
				fail = i;
		break;
	case STAGE_REFUSED:
	case STAGE_CLOSED_BY_PEER:
		for (i = 0; i < l->n && fail < 0; i++)
			if ((r->ev[i].kind == EV_RST || r->ev[i].kind == EV_FIN) &&
			    (r->closed_by == 255 || r->ev[i].dir == r->closed_by))
				fail = i;
		break;
	case STAGE_NO_SYNACK:
		snprintf(l->tail, sizeof(l->tail), "no SYN-ACK from the server (%.3f s observed)",
			 (double)(r->last_ts_us - r->first_ts_us) / 1e6);
		l->tail_fail = 1;
		break;
	case STAGE_CH_UNANSWERED:
		snprintf(l->tail, sizeof(l->tail), "no answer from the server for %.3f s after the ClientHello",
			 r->ch ? (double)(r->last_ts_us - r->ch->ts_us) / 1e6 : 0.0);
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
static char *render(struct rpt *r, const struct hs_record *rec, const struct rule_findings *f, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return NULL;
	if (r->fmt == RPT_HTML)
		html_section(m, rec, f);
	else
		md_section(m, rec, f);
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

static void add_failed(struct rpt *r, struct rpt_ticket *t, const struct hs_record *rec,
		       const struct rule_findings *f)
{
	const struct rk_rule *rule = f->diag;
	struct tk_group *g = NULL;
	size_t i;
	for (i = 0; i < t->nc; i++)
		if (t->c[i].rule == rule)
			break;
	if (i < t->nc)
		t->c[i].count++;
	else if (t->nc < TK_MAX_CAUSES)
		t->c[t->nc++] = (struct tk_cause){ rule, 1 };
	for (i = 0; i < t->ng; i++)
		if (t->g[i].rule == rule && addr_eq(&t->g[i].srv, &rec->srv)) {
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
		g->body = render(r, rec, f, &g->body_len);
	}
	if (g->count < TK_IDS) {
		g->ids[g->count] = rec->id;
		g->frames[g->count] = rec->first_frame;
	}
	g->count++;
	if (rec->first_ts_us < g->first_ts)
		g->first_ts = rec->first_ts_us;
	if (rec->last_ts_us > g->last_ts)
		g->last_ts = rec->last_ts_us;
}

static void add_other(struct rpt_ticket *t, const struct hs_record *rec, const struct rule_findings *f)
{
	uint16_t ver = rec->sh ? rec->sh->version : 0, cs = rec->sh ? rec->sh->cipher : 0;
	const struct rk_rule *d = f ? f->diag : NULL;
	size_t i;
	for (i = 0; i < t->no; i++) {
		struct tk_other *o = &t->o[i];
		if (addr_eq(&o->srv, &rec->srv) && o->stage == rec->stage && o->version == ver && o->cipher == cs &&
		    o->diag == d) {
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
		if (rec->ch && rec->ch->has_sni) {
			o->has_sni = 1;
			o->sni_len = rec->ch->sni_len < sizeof(o->sni) ? rec->ch->sni_len : sizeof(o->sni);
			memcpy(o->sni, rec->ch->sni, o->sni_len);
		}
	}
}

void tk_add(struct rpt *r, const struct hs_record *rec, const struct rule_findings *f)
{
	struct rpt_ticket *t = r->tk;
	if (!t)
		return;
	if (rule_findings_failed(f))
		add_failed(r, t, rec, f);
	else
		add_other(t, rec, f);
	if (r->all) {
		if (!t->all)
			t->all = tmpfile();
		if (t->all) {
			if (r->fmt == RPT_HTML)
				html_all_row(t->all, rec, f);
			else
				md_all_row(t->all, rec, f);
			t->all_rows++;
		}
	}
}

void tk_copy_all(struct rpt_ticket *t, FILE *o)
{
	char buf[65536];
	size_t n;
	if (!t->all)
		return;
	rewind(t->all);
	while ((n = fread(buf, 1, sizeof(buf), t->all)) > 0)
		fwrite(buf, 1, n, o);
}
