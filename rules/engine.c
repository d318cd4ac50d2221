/*
 * engine.c - evaluating the rule set against one handshake record, and the
 * `tlswhy rules` subcommands.
 *
 * How the diagnosis is chosen (docs/rules.md "How the diagnosis is
 * chosen", and the comment above rule_eval below): fallback rules last,
 * each cause (kb entry) by its best rule (certainty, then, among possible
 * causes, priority, then conditions, priority, load order); a `possible`
 * diagnosis gets the other possible causes as its differential; the rest
 * is "also matched" (up to RULE_MAX_ALSO). Notes (severity note) never
 * compete: every matching note is kept (up to RULE_MAX_NOTES).
 * rules/verdict.c turns them into the verdict.
 *
 * The certificate guard: a rule whose kb entry says `blames cert-validity`
 * fires only when the client sent a certificate alert (bad_certificate,
 * unsupported_certificate, certificate_revoked, certificate_expired,
 * certificate_unknown or unknown_ca). An AWS load balancer never validates a
 * target's certificate, so without such an alert no rule, built-in or user,
 * may blame the certificate's validity.
 *
 * Cost: one pass over the rules, each condition a few comparisons; then
 * the verdict (rules/verdict.c: its evidence only when something matched).
 */
#include "rules/rule_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/names.h"
#include "dissect/record.h"

int rk_specificity(const struct rk_rule *r)
{
	return r->n_cond;
}

int rk_beats(const struct rk_rule *a, const struct rk_rule *b)
{
	if (a->certainty != b->certainty)
		return a->certainty > b->certainty;
	/* among causes the wire pattern alone suggests, `priority` says which
	 * is more common: it orders the differential */
	if (a->certainty == RK_POSSIBLE && a->priority != b->priority)
		return a->priority > b->priority;
	if (rk_specificity(a) != rk_specificity(b))
		return rk_specificity(a) > rk_specificity(b);
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->order < b->order;
}

static int client_cert_alert(const struct hs_record *r)
{
	uint16_t i;
	for (i = 0; i < r->n_alerts; i++) {
		const struct hs_alert *a = &r->alerts[i];
		if (a->dir != DIR_C2S || a->encrypted)
			continue;
		switch (a->description) {
		case ALERT_BAD_CERTIFICATE: case ALERT_UNSUPPORTED_CERTIFICATE: case ALERT_CERTIFICATE_REVOKED:
		case ALERT_CERTIFICATE_EXPIRED: case ALERT_CERTIFICATE_UNKNOWN: case ALERT_UNKNOWN_CA:
			return 1;
		default:
			break;
		}
	}
	return 0;
}

static int rule_matches(struct rk_eval *e, const struct rk_rule *r)
{
	uint16_t i;
	for (i = 0; i < r->n_cond; i++)
		if (!r->cond[i].screened && !rk_cond_eval(e, &r->cond[i]))
			return 0;
	if (r->kb && r->kb->blames_validity && !client_cert_alert(e->r))
		return 0;
	return 1;
}

/* Inserts ru into v[0..*n) kept best first (rk_beats), at most cap. */
static void rank_insert(const struct rk_rule **v, size_t *n, size_t cap, const struct rk_rule *ru)
{
	size_t j = *n < cap ? *n : cap - 1;
	if (*n >= cap && !rk_beats(ru, v[cap - 1]))
		return;
	for (; j > 0 && rk_beats(ru, v[j - 1]); j--)
		v[j] = v[j - 1];
	v[j] = ru;
	if (*n < cap)
		(*n)++;
}

#define RK_MAX_MATCH 64

/* The matching finding rules: each cause (kb entry) by its best rule, and
 * the rules beaten within their cause. Fallback rules only when nothing
 * else matched. */
struct matched {
	const struct rk_rule *cause[RK_MAX_MATCH];   /* best rule of each kb entry, best first */
	size_t n_cause;
	const struct rk_rule *other[RK_MAX_MATCH];   /* every other finding rule that matched */
	size_t n_other;
};

static void add_match(struct matched *m, const struct rk_rule *ru)
{
	size_t i;
	for (i = 0; i < m->n_cause; i++) {
		if (m->cause[i]->kb != ru->kb)
			continue;
		if (rk_beats(ru, m->cause[i])) {
			const struct rk_rule *t = m->cause[i];
			memmove(&m->cause[i], &m->cause[i + 1], (m->n_cause - i - 1) * sizeof(m->cause[0]));
			m->n_cause--;
			rank_insert(m->cause, &m->n_cause, RK_MAX_MATCH, ru);
			rank_insert(m->other, &m->n_other, RK_MAX_MATCH, t);
		} else {
			rank_insert(m->other, &m->n_other, RK_MAX_MATCH, ru);
		}
		return;
	}
	rank_insert(m->cause, &m->n_cause, RK_MAX_MATCH, ru);
}

/*
 * How the diagnosis is chosen (docs/rules.md):
 *  1. every rule whose conditions hold matches (the certificate guard
 *     applies); notes are kept apart;
 *  2. `fallback` rules (generic catch-alls) count only when no other
 *     finding rule matched;
 *  3. matching rules are grouped by cause (kb entry), each cause
 *     represented by its best rule: higher certainty, then more
 *     conditions, then higher priority, then load order;
 *  4. the best cause is the diagnosis; when its certainty is `possible`
 *     (the wire pattern alone), every other `possible` cause of the same
 *     severity is a candidate of the differential ("one of these");
 *  5. the rest are listed as "also matched".
 */
struct rule_verdict *rule_eval(const struct rule_set *rs, const struct hs_record *r, const struct rule_ctx *ctx)
{
	struct rk_eval e;
	struct matched m, fb;
	const struct rk_rule *note[RULE_MAX_NOTES], *also[RULE_MAX_ALSO], *cand[RULE_MAX_CANDIDATES];
	const struct rk_rule *diag = NULL;
	size_t i, n_note = 0, n_also = 0, n_cand = 0, n_at;
	const struct rk_stage_rule *at;
	struct matched *use;

	if (!rs || !r)
		return NULL;
	m.n_cause = m.n_other = fb.n_cause = fb.n_other = 0;
	rk_eval_init(&e, rs, r, ctx);
	/* the rules that can match at this stage (rk_set_stages()), else all */
	at = rs->by_stage && r->stage < 32 ? rs->by_stage + rs->by_stage_at[r->stage] : NULL;
	n_at = at ? rs->by_stage_at[r->stage + 1] - rs->by_stage_at[r->stage] : rs->n_rule;
	for (i = 0; i < n_at; i++) {
		const struct rk_rule *ru;
		if (at) {
			/* not disabled, and no `stage` condition of it fails here
			 * (rk_set_stages()); its conditions on a number first, each
			 * fact read once per connection, from its compiled screen
			 * (the rule itself is not read unless they all hold) */
			if (!rk_scr_pass(&e, rs->scr + at[i].scr, at[i].n_scr))
				continue;
			ru = &rs->rule[at[i].rule];
		} else {
			ru = &rs->rule[i];
			if (ru->disabled)
				continue;
			/* a `stage` condition that cannot hold: the rule fails at it */
			if (ru->has_stage_mask && r->stage < 32 && !(ru->stage_mask >> r->stage & 1))
				continue;
			if (!rk_screen_pass(&e, ru))
				continue;
		}
		if (!rule_matches(&e, ru))
			continue;
		if (ru->severity == SEV_NOTE) {
			if (n_note < RULE_MAX_NOTES)
				note[n_note++] = ru;
			continue;
		}
		add_match(ru->fallback ? &fb : &m, ru);
	}
	use = m.n_cause ? &m : &fb;
	if (use->n_cause) {
		diag = use->cause[0];
		for (i = 1; i < use->n_cause; i++) {
			const struct rk_rule *c = use->cause[i];
			/* RULE_MAX_CANDIDATES counts the diagnosis too */
			if (diag->certainty == RK_POSSIBLE && c->certainty == RK_POSSIBLE &&
			    c->severity == diag->severity && n_cand + 1 < RULE_MAX_CANDIDATES)
				cand[n_cand++] = c;
			else
				rank_insert(also, &n_also, RULE_MAX_ALSO, c);
		}
		for (i = 0; i < use->n_other; i++)
			rank_insert(also, &n_also, RULE_MAX_ALSO, use->other[i]);
		if (use == &m)   /* the generic rules that were set aside */
			for (i = 0; i < fb.n_cause + fb.n_other; i++)
				rank_insert(also, &n_also, RULE_MAX_ALSO,
					    i < fb.n_cause ? fb.cause[i] : fb.other[i - fb.n_cause]);
	}
	return rk_verdict_new(&e, diag, cand, n_cand, also, n_also, note, n_note);
}

/* ---- tlswhy rules ... ---------------------------------------------------- */

static void print_cond(FILE *o, const struct rule_set *rs, const struct rk_cond *c)
{
	const struct rk_fact *f = &rk_facts[c->fact];
	char nb[64];
	uint16_t i;
	fprintf(o, "%s %s %s", c->negate ? "unless" : "when", f->name, rk_op_name(c->op));
	if (c->op == OP_EMPTY || c->op == OP_NOTEMPTY)
		return;
	if (c->op == OP_COUNT) {
		fprintf(o, " %s %lld", rk_op_name(c->cmp), (long long)c->num);
		return;
	}
	if (c->rhs_fact >= 0) {
		fprintf(o, " %s", rk_facts[c->rhs_fact].name);
		return;
	}
	if (c->list) {
		if (c->list->name) {
			fprintf(o, " @%s", c->list->name);
			return;
		}
		for (i = 0; i < c->list->n; i++)
			fprintf(o, "%s%s", i ? ", " : " ",
				rk_value_name(c->list->kind, c->list->v[i], rs, nb, sizeof(nb)));
		return;
	}
	if (c->bytes) {
		size_t k;
		fputs(" \"", o);
		for (k = 0; k < c->blen; k++) {
			uint8_t b = c->bytes[k];
			if (b == '\r') fputs("\\r", o);
			else if (b == '\n') fputs("\\n", o);
			else if (b == '"' || b == '\\') fprintf(o, "\\%c", b);
			else if (b < 0x20 || b >= 0x7f) fprintf(o, "\\x%02x", b);
			else fputc(b, o);
		}
		fputc('"', o);
		return;
	}
	if (f->type == T_BOOL)
		fprintf(o, " %s", c->num ? "true" : "false");
	else if (f->type == T_CODE || f->type == T_SET || f->type == T_LIST)
		fprintf(o, " %s", rk_value_name(f->kind, c->num, rs, nb, sizeof(nb)));
	else if (f->type == T_DUR)
		fprintf(o, " %.6gs", (double)c->num / 1e6);
	else
		fprintf(o, " %lld", (long long)c->num);
}

static void cmd_list(const struct rule_set *rs)
{
	size_t i;
	printf("%-34s %-8s %5s %4s  %-44s %s\n", "RULE", "SEVERITY", "CONDS", "PRIO", "KB", "TITLE");
	for (i = 0; i < rs->n_rule; i++) {
		const struct rk_rule *r = &rs->rule[i];
		printf("%-34s %-8s %5u %4d  %-44s %s%s\n", r->id, rk_sev_name(r->severity), r->n_cond,
		       r->priority, r->kb_id, r->title, r->disabled ? " (disabled)" : "");
	}
}

static void cmd_show(const struct rule_set *rs, const struct rk_rule *r)
{
	uint16_t i;
	printf("rule %s    (%s:%u)\n", r->id, r->file, r->line);
	printf("  title      %s\n", r->title);
	printf("  kb         %s\n", r->kb_id);
	printf("  severity   %s\n", rk_sev_name(r->severity));
	printf("  priority   %d\n", r->priority);
	for (i = 0; i < r->n_cond; i++) {
		printf("  ");
		print_cond(stdout, rs, &r->cond[i]);
		printf("\n");
	}
	for (i = 0; i < r->n_adj; i++)
		printf("  adjust     %s %d%%%s%s\n", r->adj[i].wa_id, r->adj[i].rate,
		       r->adj[i].why ? " " : "", r->adj[i].why ? r->adj[i].why : "");
	printf("end\n");
}

static void cmd_kb(const struct rule_kb *k)
{
	uint16_t i, j;
	printf("kb %s    (%s:%u)\n  %s\n", k->id, k->file, k->line, k->title);
	if (k->domain)
		printf("  domain %s, category %s, error code %s, verification %s, fix rate %d%%\n",
		       k->domain, k->category ? k->category : "-", k->error_code ? k->error_code : "-",
		       k->verification ? k->verification : "-", k->fix_rate);
	printf("  side at fault: %s; confidence: %s (%s)\n", rk_side_name(k->side),
	       rk_conf_name(k->confidence), rk_basis_name(k->basis));
	printf("\n  root cause: %s\n", k->root_cause);
	if (k->check)
		printf("  check: %s\n", k->check);
	for (i = 0; i < k->n_rc_disp; i++)
		printf("    DISPUTED: %s%s%s\n", k->rc_disp[i].text, k->rc_disp[i].source ? " -- " : "",
		       k->rc_disp[i].source ? k->rc_disp[i].source : "");
	for (i = 0; i < k->n_ver; i++)
		printf("  version: %s | %s | %s | %s\n", k->ver[i].what, k->ver[i].status,
		       k->ver[i].introduced, k->ver[i].deprecated);
	for (i = 0; i < k->n_wa; i++) {
		const struct rule_workaround *w = &k->wa[i];
		printf("\n  workaround %s (%d%% success): %s\n", w->id, w->rate, w->title);
		if (w->detail)
			printf("    %s\n", w->detail);
		for (j = 0; j < w->n_cmd; j++)
			printf("    [%s]\n      %s\n", w->cmd[j].stack, w->cmd[j].text);
		for (j = 0; j < w->n_disp; j++)
			printf("    DISPUTED: %s%s%s\n", w->disp[j].text, w->disp[j].source ? " -- " : "",
			       w->disp[j].source ? w->disp[j].source : "");
	}
	for (i = 0; i < k->n_de; i++) {
		printf("\n  dead end (%d%% fail): %s -- %s\n", k->de[i].rate,
		       *k->de[i].title ? k->de[i].title : "(untitled)", k->de[i].reason);
		for (j = 0; j < k->de[i].n_disp; j++)
			printf("    DISPUTED: %s%s%s\n", k->de[i].disp[j].text,
			       k->de[i].disp[j].source ? " -- " : "",
			       k->de[i].disp[j].source ? k->de[i].disp[j].source : "");
	}
	for (i = 0; i < k->n_ref; i++)
		printf("  ref %s%s%s\n", k->ref[i].url, k->ref[i].title ? "  " : "",
		       k->ref[i].title ? k->ref[i].title : "");
	for (i = 0; i < k->n_see; i++)
		printf("  see %s\n", k->see[i]);
}

static int usage(FILE *o, int rc)
{
	fprintf(o, "usage: tlswhy rules list [--rules FILE]...\n"
		   "       tlswhy rules check FILE...\n"
		   "       tlswhy rules show RULE-ID [--rules FILE]...\n"
		   "       tlswhy rules kb [KB-ID] [--rules FILE]...\n"
		   "       tlswhy rules facts\n");
	return rc;
}

int rule_cli(int argc, char **argv)
{
	struct rule_set *rs;
	char err[512];
	const char *sub, *arg = NULL;
	int i, rc = 0, nfiles = 0;
	const char *files[64];

	if (argc < 2)
		return usage(stderr, 2);
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help"))
		return usage(stdout, 0);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--rules") || !strncmp(argv[i], "--rules=", 8)) {
			const char *v = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return usage(stderr, 2);
			if (nfiles < 64)
				files[nfiles++] = v;
		} else if (!strcmp(sub, "check")) {
			if (nfiles < 64)
				files[nfiles++] = argv[i];
		} else if (!arg) {
			arg = argv[i];
		} else {
			return usage(stderr, 2);
		}
	}
	if (strcmp(sub, "list") && strcmp(sub, "check") && strcmp(sub, "show") && strcmp(sub, "kb") &&
	    strcmp(sub, "facts")) {
		fprintf(stderr, "tlswhy rules: unknown subcommand '%s'\n", sub);
		return usage(stderr, 2);
	}
	if (!strcmp(sub, "facts")) {
		size_t k;
		for (k = 0; k < rk_facts_n; k++) {
			char ty[32];
			const struct rk_fact *f = &rk_facts[k];
			if (f->type == T_LIST || f->type == T_SET)
				snprintf(ty, sizeof(ty), "%s %s", rk_kind_name(f->kind), rk_type_name(f->type));
			else
				snprintf(ty, sizeof(ty), "%s",
					 f->type == T_CODE ? rk_kind_name(f->kind) : rk_type_name(f->type));
			printf("%-36s %-14s %s\n", f->name, ty, f->doc);
		}
		return 0;
	}
	if (!strcmp(sub, "check") && nfiles == 0)
		return usage(stderr, 2);
	rs = rule_set_new();
	if (!rs)
		return 2;
	if (rule_load_builtin(rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswhy: built-in rules: %s\n", err);
		rule_set_free(rs);
		return 2;
	}
	for (i = 0; i < nfiles; i++) {
		size_t r0 = rs->n_rule, k0 = rs->n_kb, l0, n_l, n_k;
		rule_set_count(rs, NULL, &l0);
		if (rule_load_file(rs, files[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tlswhy: %s\n", err);
			rc = 2;
			continue;
		}
		rule_set_count(rs, &n_k, &n_l);
		if (!strcmp(sub, "check"))
			printf("%s: ok (%zu rules, %zu kb entries, %zu lists)\n", files[i],
			       rs->n_rule - r0, n_k - k0, n_l - l0);
	}
	if (rc || !strcmp(sub, "check")) {
		rule_set_free(rs);
		return rc;
	}
	if (!strcmp(sub, "list")) {
		cmd_list(rs);
	} else if (!strcmp(sub, "show")) {
		size_t k;
		if (!arg) {
			rule_set_free(rs);
			return usage(stderr, 2);
		}
		for (k = 0; k < rs->n_rule; k++)
			if (!strcmp(rs->rule[k].id, arg))
				break;
		if (k == rs->n_rule) {
			fprintf(stderr, "tlswhy rules: no rule '%s'\n", arg);
			rc = 2;
		} else {
			cmd_show(rs, &rs->rule[k]);
			printf("\n");
			cmd_kb(rs->rule[k].kb);
		}
	} else {
		size_t k;
		for (k = 0; k < rs->n_kb; k++) {
			if (!arg)
				printf("%-52s %s\n", rs->kb[k].id, rs->kb[k].title);
			else if (!strcmp(rs->kb[k].id, arg))
				break;
		}
		if (arg && k == rs->n_kb) {
			fprintf(stderr, "tlswhy rules: no kb entry '%s'\n", arg);
			rc = 2;
		} else if (arg) {
			cmd_kb(&rs->kb[k]);
		}
	}
	rule_set_free(rs);
	return rc;
}
