/*
 * verdict.c - the verdict on one connection (rules.h): the diagnosis and
 * the notes that matched, each with its evidence as typed values and its
 * workarounds ranked; the differential; the outcome; the client's
 * identity. Built once, from the evaluation that chose the rules, so
 * report/ never evaluates a fact again.
 *
 * Memory: the verdict is one allocation, sized for the findings it holds;
 * the evidence and the ranked workarounds of its findings are a second,
 * sized before it is filled (a value per template segment, RK_VALUE_MAX
 * bytes of text per fact reference), and made only when something
 * matched.
 *
 * Workarounds are ranked by their success rate for this finding: the kb
 * entry's rate, replaced by the rule's `adjust` line when it has one (a
 * cipher finding puts the cipher fix first), highest first, kb order on
 * ties.
 */
#include "rules/rule_int.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/record.h"

/* 1 when every command of the workaround is for the load balancer (aws). */
static int lb_only(const struct rule_workaround *w)
{
	uint16_t i;
	if (!w->n_cmd)
		return 0;
	for (i = 0; i < w->n_cmd; i++)
		if (strcmp(w->cmd[i].stack, "aws") != 0)
			return 0;
	return 1;
}

size_t rk_rank(const struct rk_rule *r, struct rule_ranked *out, size_t cap, int not_lb)
{
	const struct rule_kb *k = r->kb;
	size_t n = 0, i, j;
	uint16_t a;
	for (i = 0; i < k->n_wa && n < cap; i++) {
		struct rule_ranked x = { &k->wa[i], k->wa[i].rate, NULL };
		for (a = 0; a < r->n_adj; a++)
			if (!strcmp(r->adj[a].wa_id, k->wa[i].id)) {
				x.rate = r->adj[a].rate;
				x.why = r->adj[a].why;
			}
		if (x.rate == 0 && x.rate != k->wa[i].rate)
			continue;   /* `adjust ID 0%`: this fix does not apply to this finding */
		if (not_lb && lb_only(&k->wa[i]))
			continue;   /* a load-balancer setting, and the client is not one */
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

/* ---- sizing and filling the evidence ------------------------------------- */

struct space {
	size_t lines, values, facts, wa;
};

static void count_tmpl(struct space *s, const struct rk_tmpl *t, uint16_t n)
{
	uint16_t i, j;
	s->lines += n;
	for (i = 0; i < n; i++) {
		s->values += t[i].n;
		for (j = 0; j < t[i].n; j++)
			s->facts += !t[i].seg[j].lit;
	}
}

/* Where the evidence block is filled from. */
struct fill {
	struct rule_evidence *line;
	struct rule_value *val;
	struct rule_ranked *wa;
	char *text;
	size_t used;
};

/* Fills one line; 1 when it names facts and none of them has a value
 * here (every one "(none)"). */
static int fill_tmpl(struct fill *fl, struct rk_eval *e, const struct rk_tmpl *t)
{
	struct rule_evidence *ev = fl->line++;
	uint16_t i, facts = 0, absent = 0;
	ev->v = fl->val;
	ev->n = t->n;
	for (i = 0; i < t->n; i++) {
		struct rule_value *x = fl->val++;
		const struct rk_seg *sg = &t->seg[i];
		memset(x, 0, sizeof(*x));
		if (sg->lit) {
			x->kind = RULE_V_TEXT;
			x->s = sg->lit;
			x->n = sg->lit_n;
		} else {
			fl->used += rk_fact_value(e, sg->fact, x, fl->text + fl->used, RK_VALUE_MAX);
			facts++;
			absent += x->absent;
		}
	}
	return facts && absent == facts;
}

/* A finding's rule, title, severity, side, confidence, basis and kb
 * entry: all of it without evidence and workarounds (rule_ctx.evidence). */
static void bare_finding(const struct rk_rule *r, struct rule_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->rule = r->id;
	f->title = r->title;
	f->severity = r->severity;
	f->severity_name = rk_sev_name(r->severity);
	f->side = rk_side_name(rk_side_of(r));
	f->confidence = rk_conf_name(rk_conf_of(r));
	f->basis = rk_basis_name(rk_basis_of(r));
	f->kb = r->kb;
}

static void fill_finding(struct fill *fl, struct rk_eval *e, const struct rk_rule *r, struct rule_finding *f,
			 int ranked)
{
	uint16_t i;
	bare_finding(r, f);
	f->evid = fl->line;
	f->n_evid = (uint16_t)(r->n_evid + r->kb->n_evid);
	f->n_own = r->n_evid;
	for (i = 0; i < r->n_evid; i++)
		fill_tmpl(fl, e, &r->evid[i]);
	/* a kb entry's lines serve every rule that cites it: one whose every
	 * fact is absent in this connection ("(none) sent (none) alert (none)
	 * in frame (none)" where the target closed without an alert) says
	 * nothing and is left out; a rule's own lines are kept as written */
	for (i = 0; i < r->kb->n_evid; i++) {
		struct fill at = *fl;
		if (fill_tmpl(fl, e, &r->kb->evid[i])) {
			*fl = at;
			f->n_evid--;
		}
	}
	if (ranked) {
		f->wa = fl->wa;
		f->n_wa = (uint16_t)rk_rank(r, fl->wa, r->kb->n_wa, rk_client_not_lb(e));
		fl->wa += f->n_wa;
	}
}

/* The evidence block for these rules (the diagnosis and its candidates
 * first, r[0..nc), with ranked workarounds; then the notes), laid out as
 * lines, values, workarounds, text. 0 when out of memory. */
static int findings(struct rule_verdict *v, struct rk_eval *e, const struct rk_rule *const *r, size_t n, size_t nc)
{
	struct space s = { 0, 0, 0, 0 };
	struct fill fl;
	size_t i, size;
	char *m;
	for (i = 0; i < n; i++) {
		count_tmpl(&s, r[i]->evid, r[i]->n_evid);
		count_tmpl(&s, r[i]->kb->evid, r[i]->kb->n_evid);
		s.wa += r[i]->kb->n_wa;
	}
	size = s.lines * sizeof(struct rule_evidence) + s.values * sizeof(struct rule_value) +
	       s.wa * sizeof(struct rule_ranked) + s.facts * RK_VALUE_MAX + 1;
	m = malloc(size);
	if (!m)
		return 0;
	v->mem = m;
	fl.line = (struct rule_evidence *)m;
	fl.val = (struct rule_value *)(fl.line + s.lines);
	fl.wa = (struct rule_ranked *)(fl.val + s.values);
	fl.text = (char *)(fl.wa + s.wa);
	fl.used = 0;
	for (i = 0; i < n; i++)
		fill_finding(&fl, e, r[i], &v->f[i], i < nc);
	return 1;
}

/* ---- the verdict ------------------------------------------------------------ */

static void identity(struct rule_verdict *v, const struct rk_eval *e)
{
	if (!e->r->ch)
		return;
	v->has_identity = 1;
	if (e->identity == -2)
		rule_client_identity(e->rs, e->r, &v->identity);
	else
		rk_identity_fill(e->rs, e->identity, e->match, &v->identity);
}

/* The verdict's confidence: the diagnosis rule's, lowered by a
 * differential (medium with one other candidate, low with more), and low
 * when two copies of the connection's bytes differed: the report read the
 * first copy, as the peer's TCP does, but a party on the path may have
 * sent either to steer it (the note-conflicting-copies rule says so). */
static uint8_t verdict_confidence(const struct rk_rule *diag, size_t n_other, const struct hs_record *rec)
{
	uint8_t c = rk_conf_of(diag);
	if (n_other == 1 && c > 2)
		c = 2;
	else if (n_other > 1)
		c = 1;
	if (hs_rare(rec)->d[0].overlap_conflicts || hs_rare(rec)->d[1].overlap_conflicts)
		c = 1;
	return c;
}

/* The verdict's side: the diagnosis's, or undetermined when the
 * candidates blame different sides. */
static uint8_t verdict_side(const struct rk_rule *diag, const struct rk_rule *const *cand, size_t n)
{
	uint8_t s = rk_side_of(diag);
	size_t i;
	for (i = 0; i < n; i++)
		if (rk_side_of(cand[i]) != s)
			return RK_SIDE_UNDETERMINED;
	return s;
}

struct rule_verdict *rk_verdict_new(struct rk_eval *e, const struct rk_rule *diag, const struct rk_rule *const *cand,
				    size_t n_cand, const struct rk_rule *const *also, size_t n_also,
				    const struct rk_rule *const *note, size_t n_note)
{
	struct rule_verdict *v;
	const struct rk_rule *r[RULE_MAX_CANDIDATES + RULE_MAX_NOTES];
	size_t i, n = 0, nc = 0;
	if (diag) {
		r[n++] = diag;
		for (i = 0; i < n_cand && n < RULE_MAX_CANDIDATES; i++)
			r[n++] = cand[i];
		nc = n;
	}
	for (i = 0; i < n_note && i < RULE_MAX_NOTES; i++)
		r[n++] = note[i];
	/* sized for its findings: most verdicts have none or one, and then
	 * fit the allocator's per-thread cache (a verdict of all fifteen took
	 * 1.8 KiB, past it, for every connection: issue 19) */
	v = calloc(1, sizeof(*v) + n * sizeof(v->f[0]));
	if (!v)
		return NULL;
	v->diag = diag ? &v->f[0] : NULL;
	v->failed = diag && diag->severity == SEV_ERROR;
	/* side capture: the capture was cut or lost bytes, so it cannot say */
	if (diag)
		v->outcome = rk_side_of(diag) == 3 && !v->failed ? RULE_OUTCOME_INCONCLUSIVE : RULE_OUTCOME_DIAGNOSED;
	else if (e->r->stage < STAGE_COMPLETE)
		v->outcome = RULE_OUTCOME_INCONCLUSIVE;
	if (e->ctx.evidence == RULE_EVIDENCE_ALL || v->failed ||
	    (e->ctx.evidence == RULE_EVIDENCE_FAILED_OR_INCONCLUSIVE && v->outcome == RULE_OUTCOME_INCONCLUSIVE)) {
		if (n && !findings(v, e, r, n, nc)) {
			free(v);
			return NULL;
		}
	} else {
		for (i = 0; i < n; i++)
			bare_finding(r[i], &v->f[i]);
	}
	v->note = &v->f[nc];
	v->n_note = (uint8_t)(n - nc);
	for (i = 0; i < n_also && i < RULE_MAX_ALSO; i++)
		v->also[v->n_also++] = also[i]->id;
	if (diag) {
		if (v->outcome == RULE_OUTCOME_INCONCLUSIVE)
			v->missing = diag->kb->title;
		for (i = 0; i < nc; i++) {
			v->cand[i].cause = &v->f[i];
			v->cand[i].supports = v->f[i].evid;
			/* what supports a candidate: its rule's own lines (the kb
			 * entry's are the same for every connection it explains) */
			v->cand[i].n_supports = i ? v->f[i].n_own : v->f[i].n_evid;
			v->cand[i].check = r[i]->kb->check;
		}
		v->n_cand = (uint8_t)nc;
		v->f[0].confidence = rk_conf_name(verdict_confidence(diag, nc - 1, e->r));
		v->f[0].side = rk_side_name(verdict_side(diag, r + 1, nc - 1));
	} else if (v->outcome == RULE_OUTCOME_INCONCLUSIVE) {
		v->missing = "no rule explains how this handshake ended: the facts above are all the capture holds";
	}
	identity(v, e);
	return v;
}

void rule_verdict_free(struct rule_verdict *v)
{
	if (!v)
		return;
	free(v->mem);
	free(v);
}

int rule_verdict_failed(const struct rule_verdict *v)
{
	return v && v->failed;
}
