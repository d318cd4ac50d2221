/*
 * load.c - reading rule files: lists, knowledge-base entries and rules,
 * compiled once into the structures of rule_int.h.
 *
 * The format (docs/rules.md has the full description):
 *
 *   # a comment: a line whose first non-blank character is '#'
 *   list NAME of KIND              kind: suite group sigalg version alert extension ...
 *     values V V, V ...            repeatable; @OTHER includes another list
 *     identity TEXT                a client identity (rules/identity.c matches it)
 *     versions / groups / extensions V ...   what else that client offers
 *     match exact|same-suites|close   the weakest match reported (default close)
 *     vendor WORD / source TEXT
 *   end
 *   kb ID                          a knowledge-base entry
 *     title / root_cause / workaround ID RATE% TITLE / cmd STACK LINE / deadend ...
 *   end
 *   rule ID
 *     title TEXT
 *     kb ID
 *     when FACT OP VALUE           every `when` must hold, every `unless` must not
 *     evidence TEXT {fact} TEXT
 *   end
 *   disable RULE-ID
 *
 * A line starting with '|' continues the text field above it on a new line.
 *
 * Invariants
 *  - Every error names the file and the line: "file:line: reason".
 *  - A file either loads entirely or not at all: on error everything it
 *    added is taken back, so the set keeps what loaded before.
 *  - Lists must be declared before a condition uses them (load order).
 *    A rule's kb entry is resolved when its file ends, so the entry may
 *    come later in the same file or from a file loaded earlier.
 *  - No limits on counts except memory; a line is at most 4096 bytes and a
 *    file at most 4 MiB.
 */
#include "rules/rule_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dissect/dbuf.h"
#include "dissect/names.h"

#define MAX_LINE 4096
#define MAX_FILE (4u << 20)

enum blk { B_NONE = 0, B_LIST, B_KB, B_RULE };

struct lp {
	struct rule_set *rs;
	const char *file;        /* owned by rs->files */
	uint32_t line;
	char *err;
	size_t errlen;
	int failed;
	enum blk blk;
	size_t cur;              /* index of the open block's object */
	uint32_t blk_line;
	char **last_text;        /* where a '|' continuation goes */
	struct dbuf cont;        /* the text being continued, grown by doubling
				  * (linear in the file); its bytes belong to
				  * *cont_of, never freed through it */
	char **cont_of;
	int last_kind;           /* 1 root cause, 2 workaround, 3 dead end: where `disputed` goes */
	char **disable;
	uint32_t *disable_line;
	size_t n_disable;
};

static int fail(struct lp *p, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int o;
	if (p->failed)
		return -1;
	p->failed = 1;
	o = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (o < 0 || (size_t)o >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + o, p->errlen - (size_t)o, fmt, ap);
	va_end(ap);
	return -1;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d) {
		fprintf(stderr, "tlswhy: out of memory loading rules\n");
		exit(2);
	}
	return d;
}

/* Room for element n (0-based) of an array that grows one element at a
 * time (every array of a rule set; the one growth function of this file): the capacity is implicitly 8 or the next power of two, so the array
 * is reallocated only when n reaches it (doubling: loading stays linear in
 * the file). The new element is zeroed. */
static void *grow1(void *p, size_t n, size_t elem)
{
	void *q;
	if (n >= 8 && (n & (n - 1)))
		return memset((char *)p + n * elem, 0, elem), p;
	if (n && n < 8)
		return memset((char *)p + n * elem, 0, elem), p;
	q = realloc(p, (n ? n * 2 : 8) * elem);
	if (!q) {
		fprintf(stderr, "tlswhy: out of memory loading rules\n");
		exit(2);
	}
	memset((char *)q + n * elem, 0, elem);
	return q;
}

/* Appends one zeroed element to an array counted by a uint16_t. */
#define PUSH16(arr, n) \
	((arr) = xgrow16((arr), &(n), sizeof(*(arr))), &(arr)[(n) - 1])
static void *xgrow16(void *p, uint16_t *n, size_t elem)
{
	if (*n == UINT16_MAX) {
		fprintf(stderr, "tlswhy: too many items in one rule\n");
		exit(2);
	}
	p = grow1(p, *n, elem);
	(*n)++;
	return p;
}

/* ---- freeing ------------------------------------------------------------ */

static void free_tmpl(struct rk_tmpl *t)
{
	uint16_t i;
	for (i = 0; i < t->n; i++)
		free(t->seg[i].lit);
	free(t->seg);
}

static void free_disp(struct rule_dispute *d, uint16_t n)
{
	uint16_t i;
	for (i = 0; i < n; i++) {
		free(d[i].text);
		free(d[i].source);
	}
	free(d);
}

static void free_kb(struct rule_kb *k)
{
	uint16_t i, j;
	free(k->id); free(k->title); free(k->domain); free(k->category);
	free(k->error_code); free(k->verification); free(k->root_cause); free(k->check);
	free_disp(k->rc_disp, k->n_rc_disp);
	for (i = 0; i < k->n_evid; i++)
		free_tmpl(&k->evid[i]);
	free(k->evid);
	for (i = 0; i < k->n_wa; i++) {
		struct rule_workaround *w = &k->wa[i];
		free(w->id); free(w->title); free(w->detail);
		for (j = 0; j < w->n_cmd; j++) {
			free(w->cmd[j].stack);
			free(w->cmd[j].text);
		}
		free(w->cmd);
		free_disp(w->disp, w->n_disp);
	}
	free(k->wa);
	for (i = 0; i < k->n_de; i++) {
		free(k->de[i].title);
		free(k->de[i].reason);
		free_disp(k->de[i].disp, k->de[i].n_disp);
	}
	free(k->de);
	for (i = 0; i < k->n_ver; i++) {
		free(k->ver[i].what); free(k->ver[i].status);
		free(k->ver[i].introduced); free(k->ver[i].deprecated);
	}
	free(k->ver);
	for (i = 0; i < k->n_ref; i++) {
		free(k->ref[i].url);
		free(k->ref[i].title);
	}
	free(k->ref);
	for (i = 0; i < k->n_see; i++)
		free(k->see[i]);
	free(k->see);
	memset(k, 0, sizeof(*k));
}

static void free_rule(struct rk_rule *r)
{
	uint16_t i;
	free(r->id); free(r->title); free(r->kb_id);
	for (i = 0; i < r->n_cond; i++)
		free(r->cond[i].bytes);
	free(r->cond);
	for (i = 0; i < r->n_evid; i++)
		free_tmpl(&r->evid[i]);
	free(r->evid);
	for (i = 0; i < r->n_adj; i++) {
		free(r->adj[i].wa_id);
		free(r->adj[i].why);
	}
	free(r->adj);
	memset(r, 0, sizeof(*r));
}

static void free_list(struct rk_list *l)
{
	free(l->name); free(l->v); free(l->sorted); free(l->identity);
	free(l->vendor); free(l->source);
	free(l->id_versions); free(l->id_groups); free(l->id_exts); free(l->id_prep);
	free(l);
}

/* c (screenable: a comparison of a number with a constant, or `in` /
 * `not in` a list) into *s, deciding as rk_cond_eval() decides c from the
 * fact's number (struct rk_scr). */
static void scr_compile(const struct rk_cond *c, struct rk_scr *s)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->fact = c->fact;
	s->absent = c->negate ? 1 : 0;   /* an absent fact holds nothing */
	s->neg = c->negate ? 1 : 0;
	s->lo = 1;
	s->hi = 0;                       /* empty until the operator says */
	switch (c->op) {
	case OP_IN:
	case OP_NOTIN:
		s->is_list = 1;
		s->list = c->list;
		s->neg ^= c->op == OP_NOTIN;
		return;
	case OP_IS: s->lo = s->hi = c->num; return;
	case OP_ISNOT: s->lo = s->hi = c->num; s->neg ^= 1; return;
	case OP_LT: if (c->num != INT64_MIN) { s->lo = INT64_MIN; s->hi = c->num - 1; } return;
	case OP_LE: s->lo = INT64_MIN; s->hi = c->num; return;
	case OP_GT: if (c->num != INT64_MAX) { s->lo = c->num + 1; s->hi = INT64_MAX; } return;
	case OP_GE: s->lo = c->num; s->hi = INT64_MAX; return;
	default: return;   /* not screenable (rk_rule_prepare() does not put it in a screen) */
	}
}

/* rs without its stage lists and compiled screens: rule_eval() then goes
 * through every rule, and rk_screen_pass() reads the conditions. */
static void stages_free(struct rule_set *rs)
{
	free(rs->by_stage);
	free(rs->scr);
	free(rs->scr_at);
	rs->by_stage = NULL;
	rs->scr = NULL;
	rs->scr_at = NULL;
	memset(rs->by_stage_at, 0, sizeof(rs->by_stage_at));
}

void rk_set_stages(struct rule_set *rs)
{
	size_t i, n = 0, n_scr = 0;
	int st;
	stages_free(rs);
	if (!rs->n_rule || rs->n_rule > UINT32_MAX / 32 / RK_SCREEN)
		return;
	for (i = 0; i < rs->n_rule; i++)
		n_scr += rs->rule[i].n_screen;
	rs->by_stage = malloc(rs->n_rule * 32 * sizeof(*rs->by_stage));
	rs->scr = malloc((n_scr ? n_scr : 1) * sizeof(*rs->scr));
	rs->scr_at = malloc(rs->n_rule * sizeof(*rs->scr_at));
	if (!rs->by_stage || !rs->scr || !rs->scr_at) {
		stages_free(rs);
		return;
	}
	for (i = 0, n_scr = 0; i < rs->n_rule; i++) {
		const struct rk_rule *ru = &rs->rule[i];
		uint8_t k;
		rs->scr_at[i] = (uint32_t)n_scr;
		for (k = 0; k < ru->n_screen; k++)
			scr_compile(&ru->cond[ru->screen_cond[k]], &rs->scr[n_scr++]);
	}
	for (st = 0; st < 32; st++) {
		rs->by_stage_at[st] = (uint32_t)n;
		for (i = 0; i < rs->n_rule; i++) {
			const struct rk_rule *ru = &rs->rule[i];
			if (!ru->disabled && (!ru->has_stage_mask || (ru->stage_mask >> st & 1))) {
				rs->by_stage[n].rule = (uint32_t)i;
				rs->by_stage[n].scr = rs->scr_at[i];
				rs->by_stage[n].n_scr = ru->n_screen;
				n++;
			}
		}
	}
	rs->by_stage_at[32] = (uint32_t)n;
}

void rk_set_touch(struct rule_set *rs)
{
	static atomic_uint_fast64_t gen;
	rs->gen = (uint64_t)atomic_fetch_add(&gen, 1) + 1;
}

struct rule_set *rule_set_new(void)
{
	struct rule_set *rs = calloc(1, sizeof(struct rule_set));
	if (rs)
		rk_set_touch(rs);
	return rs;
}

void rule_set_free(struct rule_set *rs)
{
	size_t i;
	if (!rs)
		return;
	for (i = 0; i < rs->n_rule; i++)
		free_rule(&rs->rule[i]);
	for (i = 0; i < rs->n_kb; i++)
		free_kb(&rs->kb[i]);
	for (i = 0; i < rs->n_list; i++)
		free_list(rs->list[i]);
	for (i = 0; i < rs->n_files; i++)
		free(rs->files[i]);
	free(rs->rule); free(rs->kb); free(rs->list); free(rs->files);
	stages_free(rs);
	free(rs);
}

size_t rule_set_count(const struct rule_set *rs, size_t *kb_entries, size_t *lists)
{
	size_t i, named = 0;
	for (i = 0; i < rs->n_list; i++)
		if (rs->list[i]->name)
			named++;
	if (kb_entries)
		*kb_entries = rs->n_kb;
	if (lists)
		*lists = named;
	return rs->n_rule;
}

/* ---- small parsers ------------------------------------------------------ */

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

/* Splits off the first word; returns the rest (trimmed). */
static char *word(char *s, char **rest)
{
	char *p = s;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p) {
		*p++ = 0;
		*rest = trim(p);
	} else {
		*rest = p;
	}
	return s;
}

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._/-+", *s))
			return 0;
	return 1;
}

static int parse_percent(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || (*end && strcmp(end, "%") != 0) || v < 0 || v > 100)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_dur(const char *s, int64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double mul;
	if (end == s || v < 0)
		return -1;
	if (strcmp(end, "us") == 0)
		mul = 1;
	else if (strcmp(end, "ms") == 0)
		mul = 1e3;
	else if (strcmp(end, "s") == 0)
		mul = 1e6;
	else if (strcmp(end, "m") == 0)
		mul = 60e6;
	else if (strcmp(end, "h") == 0)
		mul = 3600e6;
	else if (*end == 0 && v == 0)
		mul = 0;
	else
		return -1;
	/* a duration no clock holds (or not a number): an error, not a
	 * conversion out of range (fuzz_rules) */
	if (!(v * mul < 9.0e18))
		return -1;
	*out = (int64_t)(v * mul + 0.5);
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;
	if (!*s)
		return -1;
	v = strtoll(s, &end, 0);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* A quoted string with \" \\ \r \n \t \0 \xNN escapes. Returns malloc'd bytes. */
static int parse_quoted(struct lp *p, const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), o = 0, i;
	uint8_t *b;
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return fail(p, p->line, "expected a quoted string, got '%s'", s);
	b = malloc(n);
	if (!b)
		exit(2);
	for (i = 1; i < n - 1; i++) {
		char ch = s[i];
		if (ch == '"') {
			free(b);
			return fail(p, p->line, "unescaped '\"' inside a string");
		}
		if (ch != '\\') {
			b[o++] = (uint8_t)ch;
			continue;
		}
		if (++i >= n - 1) {
			free(b);
			return fail(p, p->line, "unterminated escape in a string");
		}
		switch (s[i]) {
		case 'r': b[o++] = '\r'; break;
		case 'n': b[o++] = '\n'; break;
		case 't': b[o++] = '\t'; break;
		case '0': b[o++] = 0; break;
		case '\\': b[o++] = '\\'; break;
		case '"': b[o++] = '"'; break;
		case 'x':
			if (i + 2 < n - 1 && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
				char hx[3] = { s[i + 1], s[i + 2], 0 };
				b[o++] = (uint8_t)strtol(hx, NULL, 16);
				i += 2;
				break;
			}
			/* FALLTHROUGH */
		default:
			free(b);
			return fail(p, p->line, "bad escape '\\%c' in a string", s[i]);
		}
	}
	*out = b;
	*outlen = o;
	return 0;
}

static struct rk_list *list_by_name(const struct rule_set *rs, const char *name)
{
	size_t i;
	for (i = 0; i < rs->n_list; i++)
		if (rs->list[i]->name && strcmp(rs->list[i]->name, name) == 0)
			return rs->list[i];
	return NULL;
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

static void list_finish(struct rk_list *l)
{
	free(l->sorted);
	l->sorted = malloc(((size_t)l->n + 1) * sizeof(uint16_t));
	if (!l->sorted)
		exit(2);
	if (l->n)
		memcpy(l->sorted, l->v, l->n * sizeof(uint16_t));
	qsort(l->sorted, l->n, sizeof(uint16_t), cmp_u16);
	rk_identity_prepare(l);
}

/* Most values a list may hold: more than any registry has entries, and
 * far below the 16-bit count. */
#define RK_LIST_MAX 8192

/* Appends, growing the array by doubling; -1 when the list is full. */
static int list_add(struct rk_list *l, uint16_t x)
{
	if (l->n >= RK_LIST_MAX)
		return -1;
	l->v = grow1(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = x;
	return 0;
}

/* Values separated by spaces and commas, optionally in [ ]; @NAME
 * includes a named list of the same kind. */
static int parse_values(struct lp *p, struct rk_list *l, char *s)
{
	char *t, *save = NULL;
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s[n - 1] = 0;
		s++;
	}
	for (t = strtok_r(s, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		int64_t v;
		if (t[0] == '@') {
			const struct rk_list *o = list_by_name(p->rs, t + 1);
			uint16_t i;
			if (!o)
				return fail(p, p->line, "unknown list '%s'", t);
			if (o == l)
				return fail(p, p->line, "list '%s' includes itself", t + 1);
			if (o->kind != l->kind)
				return fail(p, p->line, "list '%s' holds %s values, not %s", t,
					    rk_kind_name(o->kind), rk_kind_name(l->kind));
			for (i = 0; i < o->n; i++)
				if (list_add(l, o->v[i]))
					return fail(p, p->line, "list '%s' has more than %d values", l->name,
						    RK_LIST_MAX);
			continue;
		}
		if (rk_parse_value(l->kind, t, p->rs, &v) < 0 || v < 0 || v > 0xffff)
			return fail(p, p->line, "unknown %s '%s'", rk_kind_name(l->kind), t);
		if (list_add(l, (uint16_t)v))
			return fail(p, p->line, "list '%s' has more than %d values", l->name, RK_LIST_MAX);
	}
	return 0;
}

static struct rk_list *new_list(struct lp *p, const char *name, int kind)
{
	struct rule_set *rs = p->rs;
	struct rk_list *l = calloc(1, sizeof(*l));
	if (!l)
		exit(2);
	l->name = name ? xstrdup(name) : NULL;
	l->kind = (uint8_t)kind;
	l->file = p->file;
	l->line = p->line;
	rs->list = grow1(rs->list, rs->n_list, sizeof(*rs->list));
	rs->list[rs->n_list++] = l;
	return l;
}

/* ---- templates ---------------------------------------------------------- */

static int parse_tmpl(struct lp *p, const char *s, struct rk_tmpl *t)
{
	const char *q = s;
	memset(t, 0, sizeof(*t));
	while (*q) {
		const char *open = strchr(q, '{');
		struct rk_seg *g;
		if (open != q) {
			size_t l = open ? (size_t)(open - q) : strlen(q);
			g = PUSH16(t->seg, t->n);
			g->lit = malloc(l + 1);
			if (!g->lit)
				exit(2);
			memcpy(g->lit, q, l);
			g->lit[l] = 0;
			g->lit_n = l;
			g->fact = -1;
			q += l;
			continue;
		}
		{
			const char *close = strchr(open, '}');
			char name[128];
			size_t l;
			int f;
			if (!close)
				return fail(p, p->line, "'{' without '}' in text");
			l = (size_t)(close - open - 1);
			if (l == 0 || l >= sizeof(name))
				return fail(p, p->line, "empty or over-long {fact} in text");
			memcpy(name, open + 1, l);
			name[l] = 0;
			f = rk_fact_by_name(name);
			if (f < 0)
				return fail(p, p->line, "unknown fact '%s' in text", name);
			g = PUSH16(t->seg, t->n);
			g->lit = NULL;
			g->lit_n = 0;
			g->fact = f;
			q = close + 1;
		}
	}
	return 0;
}

/* ---- conditions --------------------------------------------------------- */

static const struct { const char *w; int op; } op_words[] = {
	{ "is", OP_IS }, { "=", OP_IS }, { "==", OP_IS }, { "!=", OP_ISNOT },
	{ "<", OP_LT }, { "<=", OP_LE }, { ">", OP_GT }, { ">=", OP_GE },
	{ "in", OP_IN }, { "has", OP_HAS }, { "lacks", OP_LACKS },
	{ "equals", OP_EQUALS }, { "same-set", OP_SAMESET }, { "subset-of", OP_SUBSET },
	{ "superset-of", OP_SUPERSET }, { "intersects", OP_INTERSECTS },
	{ "disjoint-from", OP_DISJOINT }, { "count", OP_COUNT },
	{ "starts-with", OP_STARTS }, { "ends-with", OP_ENDS }, { "contains", OP_CONTAINS },
};

const char *rk_op_name(int op)
{
	switch (op) {
	case OP_IS: return "is";
	case OP_ISNOT: return "is not";
	case OP_LT: return "<";
	case OP_LE: return "<=";
	case OP_GT: return ">";
	case OP_GE: return ">=";
	case OP_IN: return "in";
	case OP_NOTIN: return "not in";
	case OP_HAS: return "has";
	case OP_LACKS: return "lacks";
	case OP_EMPTY: return "is empty";
	case OP_NOTEMPTY: return "is not empty";
	case OP_EQUALS: return "equals";
	case OP_SAMESET: return "same-set";
	case OP_SUBSET: return "subset-of";
	case OP_SUPERSET: return "superset-of";
	case OP_INTERSECTS: return "intersects";
	case OP_DISJOINT: return "disjoint-from";
	case OP_COUNT: return "count";
	case OP_STARTS: return "starts-with";
	case OP_ENDS: return "ends-with";
	case OP_CONTAINS: return "contains";
	}
	return "?";
}

static int op_allowed(int type, int kind, int op)
{
	switch (type) {
	case T_BOOL: return op == OP_IS || op == OP_ISNOT;
	case T_INT:
	case T_DUR:
	case T_FRAME:
	case T_TIME: return op <= OP_GE;
	case T_CODE:
		if (op == OP_IS || op == OP_ISNOT || op == OP_IN || op == OP_NOTIN)
			return 1;
		return op <= OP_GE && (kind == VK_VERSION || kind == VK_NUM);
	case T_LIST:
		return op == OP_HAS || op == OP_LACKS || op == OP_EMPTY || op == OP_NOTEMPTY ||
		       (op >= OP_EQUALS && op <= OP_COUNT);
	case T_SET: return op == OP_HAS || op == OP_LACKS;
	case T_STR:
	case T_BYTES:
		return op == OP_IS || op == OP_ISNOT || op == OP_EMPTY || op == OP_NOTEMPTY ||
		       op == OP_STARTS || op == OP_ENDS || op == OP_CONTAINS;
	}
	return 0;
}

static int parse_cond(struct lp *p, struct rk_cond *c, char *s, int negate)
{
	char *fname, *rest, *opw, *arg;
	const struct rk_fact *f;
	int fid, op = -1;
	size_t i;

	c->line = p->line;
	c->negate = (uint8_t)negate;
	c->rhs_fact = -1;
	fname = word(s, &rest);
	if (!*fname)
		return fail(p, p->line, "missing fact after '%s'", negate ? "unless" : "when");
	fid = rk_fact_by_name(fname);
	if (fid < 0)
		return fail(p, p->line, "unknown fact '%s'", fname);
	f = &rk_facts[fid];
	c->fact = (uint16_t)fid;
	if (!*rest)
		return fail(p, p->line, "missing operator after '%s'", fname);
	opw = word(rest, &arg);
	for (i = 0; i < sizeof(op_words) / sizeof(op_words[0]); i++)
		if (strcmp(op_words[i].w, opw) == 0)
			op = op_words[i].op;
	/* two-word forms: is not, not in, is empty, is not empty */
	if (op == OP_IS && strncmp(arg, "not", 3) == 0 && (arg[3] == ' ' || arg[3] == 0)) {
		op = OP_ISNOT;
		arg = trim(arg + 3);
	} else if (strcmp(opw, "not") == 0 && strncmp(arg, "in", 2) == 0 && (arg[2] == ' ' || !arg[2])) {
		op = OP_NOTIN;
		arg = trim(arg + 2);
	}
	if (op < 0)
		return fail(p, p->line, "unknown operator '%s'", opw);
	if ((op == OP_IS || op == OP_ISNOT) && strcmp(arg, "empty") == 0 &&
	    (f->type == T_LIST || f->type == T_STR || f->type == T_BYTES)) {
		op = op == OP_IS ? OP_EMPTY : OP_NOTEMPTY;
		arg = "";
	}
	if (!op_allowed(f->type, f->kind, op))
		return fail(p, p->line, "operator '%s' does not apply to %s (%s)", rk_op_name(op), fname,
			    f->type == T_CODE ? rk_kind_name(f->kind) : rk_type_name(f->type));
	c->op = (uint8_t)op;
	if (op == OP_EMPTY || op == OP_NOTEMPTY) {
		if (*arg)
			return fail(p, p->line, "unexpected '%s' after '%s'", arg, rk_op_name(op));
		return 0;
	}
	if (!*arg)
		return fail(p, p->line, "missing value after '%s'", rk_op_name(op));

	switch (f->type) {
	case T_BOOL:
		if (!strcmp(arg, "true") || !strcmp(arg, "yes"))
			c->num = 1;
		else if (!strcmp(arg, "false") || !strcmp(arg, "no"))
			c->num = 0;
		else
			return fail(p, p->line, "%s is true or false, not '%s'", fname, arg);
		return 0;
	case T_INT:
	case T_FRAME:
	case T_TIME:
		if (parse_int(arg, &c->num) < 0)
			return fail(p, p->line, "bad number '%s'", arg);
		return 0;
	case T_DUR:
		if (parse_dur(arg, &c->num) < 0)
			return fail(p, p->line, "bad duration '%s' (write 10s, 500ms, 2m, 150us)", arg);
		return 0;
	case T_CODE:
		if (op == OP_IN || op == OP_NOTIN) {
			struct rk_list *l = new_list(p, NULL, f->kind);
			if (parse_values(p, l, arg) < 0)
				return -1;
			list_finish(l);
			c->list = l;
			return 0;
		}
		if (rk_parse_value(f->kind, arg, p->rs, &c->num) < 0)
			return fail(p, p->line, "unknown %s '%s'", rk_kind_name(f->kind), arg);
		return 0;
	case T_SET:
		if (rk_parse_value(f->kind, arg, p->rs, &c->num) < 0)
			return fail(p, p->line, "unknown %s '%s'", rk_kind_name(f->kind), arg);
		return 0;
	case T_LIST:
		if (op == OP_HAS || op == OP_LACKS) {
			if (rk_parse_value(f->kind, arg, p->rs, &c->num) < 0)
				return fail(p, p->line, "unknown %s '%s'", rk_kind_name(f->kind), arg);
			return 0;
		}
		if (op == OP_COUNT) {
			char *cw, *num;
			int k = -1;
			cw = word(arg, &num);
			for (i = 0; i < sizeof(op_words) / sizeof(op_words[0]); i++)
				if (strcmp(op_words[i].w, cw) == 0 && op_words[i].op <= OP_GE)
					k = op_words[i].op;
			if (k < 0)
				return fail(p, p->line, "'count' needs a comparison (= != < <= > >=), not '%s'", cw);
			c->cmp = (uint8_t)k;
			if (parse_int(num, &c->num) < 0)
				return fail(p, p->line, "bad number '%s'", num);
			return 0;
		}
		{
			int rf = rk_fact_by_name(arg);
			if (rf >= 0) {
				const struct rk_fact *g = &rk_facts[rf];
				if ((g->type != T_LIST && g->type != T_SET) || g->kind != f->kind)
					return fail(p, p->line, "%s is not a list of %s values", arg,
						    rk_kind_name(f->kind));
				if (g->type == T_SET && (op == OP_EQUALS || op == OP_SAMESET || op == OP_SUPERSET))
					return fail(p, p->line, "'%s' needs a list it can enumerate; %s is a set",
						    rk_op_name(op), arg);
				c->rhs_fact = rf;
				return 0;
			}
		}
		{
			struct rk_list *l;
			if (arg[0] == '@' && !strpbrk(arg, " ,\t")) {
				l = list_by_name(p->rs, arg + 1);
				if (!l)
					return fail(p, p->line, "unknown list '%s'", arg);
				if (l->kind != f->kind)
					return fail(p, p->line, "list '%s' holds %s values, not %s", arg,
						    rk_kind_name(l->kind), rk_kind_name(f->kind));
				c->list = l;
				return 0;
			}
			l = new_list(p, NULL, f->kind);
			if (parse_values(p, l, arg) < 0)
				return -1;
			list_finish(l);
			c->list = l;
			return 0;
		}
	case T_STR:
	case T_BYTES:
		return parse_quoted(p, arg, &c->bytes, &c->blen);
	}
	return 0;
}

/* ---- block fields ------------------------------------------------------- */

static int parse_side(const char *s)
{
	if (!strcmp(s, "client")) return 0;
	if (!strcmp(s, "server")) return 1;
	if (!strcmp(s, "network")) return 2;
	if (!strcmp(s, "capture")) return 3;
	if (!strcmp(s, "both")) return 4;
	if (!strcmp(s, "none")) return 5;
	return -1;
}

const char *rk_side_name(int s)
{
	switch (s) {
	case 0: return "client";
	case 1: return "server";
	case 2: return "network";
	case 3: return "capture";
	case 4: return "both";
	case 5: return "none";
	case RK_SIDE_UNDETERMINED: return "undetermined";
	}
	return "unknown";
}

static int parse_conf(const char *s)
{
	if (!strcmp(s, "low")) return 1;
	if (!strcmp(s, "medium")) return 2;
	if (!strcmp(s, "high")) return 3;
	return -1;
}

const char *rk_conf_name(int c)
{
	switch (c) {
	case 1: return "low";
	case 2: return "medium";
	case 3: return "high";
	}
	return "unknown";
}

static int parse_basis(const char *s)
{
	if (!strcmp(s, "aws-doc")) return 1;
	if (!strcmp(s, "vendor")) return 2;
	if (!strcmp(s, "users")) return 3;
	if (!strcmp(s, "inference")) return 4;
	return -1;
}

const char *rk_basis_name(int b)
{
	switch (b) {
	case 1: return "aws-doc";
	case 2: return "vendor";
	case 3: return "users";
	case 4: return "inference";
	}
	return "unknown";
}

static int parse_sev(const char *s)
{
	if (!strcmp(s, "note")) return SEV_NOTE;
	if (!strcmp(s, "info")) return SEV_INFO;
	if (!strcmp(s, "warning")) return SEV_WARNING;
	if (!strcmp(s, "error")) return SEV_ERROR;
	return -1;
}

const char *rk_sev_name(int s)
{
	switch (s) {
	case SEV_NOTE: return "note";
	case SEV_INFO: return "info";
	case SEV_WARNING: return "warning";
	case SEV_ERROR: return "error";
	}
	return "?";
}

static int set_text(struct lp *p, char **dst, const char *key, const char *v)
{
	if (*dst)
		return fail(p, p->line, "'%s' given twice", key);
	if (!*v)
		return fail(p, p->line, "'%s' needs a value", key);
	*dst = xstrdup(v);
	p->last_text = dst;
	return 0;
}

static int side_conf_basis(struct lp *p, const char *key, const char *v, uint8_t *side,
			   uint8_t *conf, uint8_t *basis)
{
	int x;
	if (!strcmp(key, "side")) {
		if ((x = parse_side(v)) < 0)
			return fail(p, p->line, "side must be client, server, network, capture, both or none");
		*side = (uint8_t)x;
		return 1;
	}
	if (!strcmp(key, "confidence")) {
		if ((x = parse_conf(v)) < 0)
			return fail(p, p->line, "confidence must be high, medium or low");
		*conf = (uint8_t)x;
		return 1;
	}
	if (!strcmp(key, "basis")) {
		if ((x = parse_basis(v)) < 0)
			return fail(p, p->line, "basis must be aws-doc, vendor, users or inference");
		*basis = (uint8_t)x;
		return 1;
	}
	return 0;
}

/* "A | B | C" into up to n trimmed parts; returns the count. */
static int split_bar(char *s, char **part, int n)
{
	int k = 0;
	while (k < n - 1) {
		char *b = strchr(s, '|');
		if (!b)
			break;
		*b = 0;
		part[k++] = trim(s);
		s = b + 1;
	}
	part[k++] = trim(s);
	return k;
}

static int add_dispute(struct lp *p, struct rule_kb *k, char *v)
{
	char *part[2] = { NULL, NULL };
	struct rule_dispute *d;
	int n = split_bar(v, part, 2);
	if (!*part[0])
		return fail(p, p->line, "'disputed' needs a text");
	switch (p->last_kind) {
	case 1: d = PUSH16(k->rc_disp, k->n_rc_disp); break;
	case 2: d = PUSH16(k->wa[k->n_wa - 1].disp, k->wa[k->n_wa - 1].n_disp); break;
	case 3: d = PUSH16(k->de[k->n_de - 1].disp, k->de[k->n_de - 1].n_disp); break;
	default: return fail(p, p->line, "'disputed' must follow root_cause, a workaround or a deadend");
	}
	d->text = xstrdup(part[0]);
	d->source = n > 1 ? xstrdup(part[1]) : NULL;
	p->last_text = &d->text;
	return 0;
}

static int kb_field(struct lp *p, struct rule_kb *k, const char *key, char *v)
{
	int x;
	if (!strcmp(key, "title")) return set_text(p, &k->title, key, v);
	if (!strcmp(key, "domain")) return set_text(p, &k->domain, key, v);
	if (!strcmp(key, "category")) return set_text(p, &k->category, key, v);
	if (!strcmp(key, "error_code")) return set_text(p, &k->error_code, key, v);
	if (!strcmp(key, "verification")) return set_text(p, &k->verification, key, v);
	if (!strcmp(key, "root_cause")) {
		p->last_kind = 1;
		return set_text(p, &k->root_cause, key, v);
	}
	if (!strcmp(key, "fix_rate")) {
		if (parse_percent(v, &x) < 0)
			return fail(p, p->line, "fix_rate must be a percentage 0-100, not '%s'", v);
		k->fix_rate = x;
		return 0;
	}
	if ((x = side_conf_basis(p, key, v, &k->side, &k->confidence, &k->basis)) != 0)
		return x < 0 ? -1 : 0;
	if (!strcmp(key, "check")) {
		p->last_kind = 0;
		return set_text(p, &k->check, key, v);
	}
	if (!strcmp(key, "blames")) {
		if (strcmp(v, "cert-validity") != 0)
			return fail(p, p->line, "'blames' takes only cert-validity");
		k->blames_validity = 1;
		return 0;
	}
	if (!strcmp(key, "disputed"))
		return add_dispute(p, k, v);
	if (!strcmp(key, "evidence")) {
		struct rk_tmpl *t = PUSH16(k->evid, k->n_evid);
		p->last_text = NULL;
		return parse_tmpl(p, v, t);
	}
	if (!strcmp(key, "version")) {
		char *part[4] = { "", "", "", "" };
		struct rule_kb_version *ver;
		if (split_bar(v, part, 4) != 4)
			return fail(p, p->line, "version needs 4 parts: WHAT | STATUS | INTRODUCED | DEPRECATED");
		ver = PUSH16(k->ver, k->n_ver);
		ver->what = xstrdup(part[0]);
		ver->status = xstrdup(part[1]);
		ver->introduced = xstrdup(part[2]);
		ver->deprecated = xstrdup(part[3]);
		p->last_text = NULL;
		return 0;
	}
	if (!strcmp(key, "workaround")) {
		char *id, *rest, *rate, *title;
		struct rule_workaround *w;
		uint16_t i;
		id = word(v, &rest);
		rate = word(rest, &title);
		if (!valid_id(id))
			return fail(p, p->line, "workaround needs: ID RATE%% TITLE");
		if (parse_percent(rate, &x) < 0)
			return fail(p, p->line, "workaround rate must be a percentage 0-100, not '%s'", rate);
		if (!*title)
			return fail(p, p->line, "workaround '%s' needs a title", id);
		for (i = 0; i < k->n_wa; i++)
			if (!strcmp(k->wa[i].id, id))
				return fail(p, p->line, "duplicate workaround id '%s'", id);
		w = PUSH16(k->wa, k->n_wa);
		w->id = xstrdup(id);
		w->rate = x;
		w->title = xstrdup(title);
		p->last_text = &w->title;
		p->last_kind = 2;
		return 0;
	}
	if (!strcmp(key, "detail")) {
		if (!k->n_wa)
			return fail(p, p->line, "'detail' before any 'workaround'");
		return set_text(p, &k->wa[k->n_wa - 1].detail, key, v);
	}
	if (!strcmp(key, "cmd")) {
		char *stack, *text;
		struct rule_cmd *cm;
		struct rule_workaround *w;
		if (!k->n_wa)
			return fail(p, p->line, "'cmd' before any 'workaround'");
		w = &k->wa[k->n_wa - 1];
		stack = word(v, &text);
		if (!*stack || !*text)
			return fail(p, p->line, "cmd needs: STACK TEXT");
		cm = PUSH16(w->cmd, w->n_cmd);
		cm->stack = xstrdup(stack);
		cm->text = xstrdup(text);
		p->last_text = &cm->text;
		return 0;
	}
	if (!strcmp(key, "deadend")) {
		char *rate, *rest, *part[2] = { NULL, NULL };
		struct rule_deadend *d;
		rate = word(v, &rest);
		if (parse_percent(rate, &x) < 0)
			return fail(p, p->line, "deadend needs: RATE%% TITLE | REASON");
		if (split_bar(rest, part, 2) != 2)
			return fail(p, p->line, "deadend needs: RATE%% TITLE | REASON");
		d = PUSH16(k->de, k->n_de);
		d->rate = x;
		d->title = xstrdup(part[0]);
		d->reason = xstrdup(part[1]);
		p->last_text = &d->reason;
		p->last_kind = 3;
		return 0;
	}
	if (!strcmp(key, "ref")) {
		char *url, *title;
		struct rule_ref *r;
		url = word(v, &title);
		if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
			return fail(p, p->line, "ref needs a URL first, not '%s'", url);
		r = PUSH16(k->ref, k->n_ref);
		r->url = xstrdup(url);
		r->title = *title ? xstrdup(title) : NULL;
		p->last_text = NULL;
		return 0;
	}
	if (!strcmp(key, "see")) {
		char **s;
		if (!valid_id(v))
			return fail(p, p->line, "see needs a kb id");
		s = PUSH16(k->see, k->n_see);
		*s = xstrdup(v);
		p->last_text = NULL;
		return 0;
	}
	return fail(p, p->line, "unknown field '%s' in kb entry", key);
}

static int rule_field(struct lp *p, struct rk_rule *r, const char *key, char *v)
{
	int x;
	if (!strcmp(key, "title")) return set_text(p, &r->title, key, v);
	if (!strcmp(key, "kb")) {
		if (r->kb_id)
			return fail(p, p->line, "'kb' given twice");
		if (!valid_id(v))
			return fail(p, p->line, "kb needs an id, not '%s'", v);
		r->kb_id = xstrdup(v);
		r->kb_line = p->line;
		return 0;
	}
	if (!strcmp(key, "severity")) {
		if ((x = parse_sev(v)) < 0)
			return fail(p, p->line, "severity must be error, warning, info or note");
		r->severity = (uint8_t)x;
		return 0;
	}
	if (!strcmp(key, "priority")) {
		int64_t n;
		if (parse_int(v, &n) < 0 || n < -1000 || n > 1000)
			return fail(p, p->line, "priority must be a number from -1000 to 1000");
		r->priority = (int)n;
		return 0;
	}
	if ((x = side_conf_basis(p, key, v, &r->side, &r->confidence, &r->basis)) != 0)
		return x < 0 ? -1 : 0;
	if (!strcmp(key, "fallback")) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return fail(p, p->line, "fallback must be yes or no");
		r->fallback = v[0] == 'y';
		return 0;
	}
	if (!strcmp(key, "certainty")) {
		if (!strcmp(v, "proven"))
			r->certainty = RK_PROVEN;
		else if (!strcmp(v, "likely"))
			r->certainty = RK_LIKELY;
		else if (!strcmp(v, "possible"))
			r->certainty = RK_POSSIBLE;
		else
			return fail(p, p->line, "certainty must be proven, likely or possible");
		return 0;
	}
	if (!strcmp(key, "when") || !strcmp(key, "unless")) {
		struct rk_cond *c = PUSH16(r->cond, r->n_cond);
		p->last_text = NULL;
		return parse_cond(p, c, v, key[0] == 'u');
	}
	if (!strcmp(key, "evidence")) {
		struct rk_tmpl *t = PUSH16(r->evid, r->n_evid);
		p->last_text = NULL;
		return parse_tmpl(p, v, t);
	}
	if (!strcmp(key, "adjust")) {
		char *id, *rest, *rate, *why;
		struct rk_adjust *a;
		id = word(v, &rest);
		rate = word(rest, &why);
		if (!valid_id(id) || parse_percent(rate, &x) < 0)
			return fail(p, p->line, "adjust needs: WORKAROUND-ID RATE%% [WHY]");
		a = PUSH16(r->adj, r->n_adj);
		a->wa_id = xstrdup(id);
		a->rate = x;
		a->why = *why ? xstrdup(why) : NULL;
		a->line = p->line;
		p->last_text = a->why ? &a->why : NULL;
		return 0;
	}
	return fail(p, p->line, "unknown field '%s' in rule", key);
}

/* An identity key of a list (`versions`, `groups`, `extensions`): values of
 * one kind, repeatable (each line adds), no GREASE; `extensions` refuses the
 * situational extensions that identification never compares. */
static int id_key(struct lp *p, const char *key, char *v, int kind,
		  uint16_t **out, uint16_t *n)
{
	char *t, *save = NULL;
	uint16_t before = *n;
	for (t = strtok_r(v, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		int64_t x;
		uint16_t *q;
		if (rk_parse_value(kind, t, p->rs, &x) < 0 || x < 0 || x > 0xffff)
			return fail(p, p->line, "unknown %s '%s'", rk_kind_name(kind), t);
		if (names_is_grease((uint16_t)x))
			return fail(p, p->line, "'%s' is a GREASE value: identification ignores GREASE, leave it out", t);
		if (kind == VK_EXT && rk_situational_ext((uint16_t)x))
			return fail(p, p->line, "extension '%s' depends on the connection, not the client: leave it out", t);
		if (*n == UINT16_MAX)
			return fail(p, p->line, "too many values in '%s'", key);
		q = grow1(*out, *n, sizeof(**out));
		*out = q;
		(*out)[(*n)++] = (uint16_t)x;
	}
	if (*n == before)
		return fail(p, p->line, "'%s' needs a value", key);
	return 0;
}

static int list_field(struct lp *p, struct rk_list *l, const char *key, char *v)
{
	if (!strcmp(key, "values"))
		return parse_values(p, l, v);
	if (!strcmp(key, "identity"))
		return set_text(p, &l->identity, key, v);
	if (!strcmp(key, "vendor"))
		return set_text(p, &l->vendor, key, v);
	if (!strcmp(key, "source"))
		return set_text(p, &l->source, key, v);
	if (!strcmp(key, "versions")) {
		uint16_t i;
		if (id_key(p, key, v, VK_VERSION, &l->id_versions, &l->n_id_versions) < 0)
			return -1;
		for (i = 0; i < l->n_id_versions; i++) {
			uint16_t x = l->id_versions[i];
			if (!l->min_version || x < l->min_version)
				l->min_version = x;
			if (x > l->max_version)
				l->max_version = x;
		}
		return 0;
	}
	if (!strcmp(key, "match")) {
		int64_t m;
		if (l->min_match)
			return fail(p, p->line, "'match' given twice");
		if (rk_parse_value(VK_MATCH, v, p->rs, &m) < 0 || m == RULE_MATCH_UNKNOWN)
			return fail(p, p->line, "match must be exact, same-suites or close");
		l->min_match = (uint8_t)m;
		return 0;
	}
	if (!strcmp(key, "groups"))
		return id_key(p, key, v, VK_GROUP, &l->id_groups, &l->n_id_groups);
	if (!strcmp(key, "extensions"))
		return id_key(p, key, v, VK_EXT, &l->id_exts, &l->n_id_exts);
	return fail(p, p->line, "unknown field '%s' in list", key);
}

/* ---- blocks ------------------------------------------------------------- */

static int find_rule(const struct rule_set *rs, const char *id)
{
	size_t i;
	for (i = 0; i < rs->n_rule; i++)
		if (!strcmp(rs->rule[i].id, id))
			return (int)i;
	return -1;
}

static const struct rule_kb *find_kb(const struct rule_set *rs, const char *id)
{
	size_t i;
	for (i = 0; i < rs->n_kb; i++)
		if (!strcmp(rs->kb[i].id, id))
			return &rs->kb[i];
	return NULL;
}

static int open_block(struct lp *p, const char *kw, char *rest)
{
	struct rule_set *rs = p->rs;
	char *id, *tail;
	id = word(rest, &tail);
	if (!strcmp(kw, "rule") || !strcmp(kw, "kb")) {
		if (!*id)
			return fail(p, p->line, "'%s' needs an id", kw);
		if (!valid_id(id))
			return fail(p, p->line, "id '%s' has characters other than letters, digits and ._/-+", id);
		if (*tail)
			return fail(p, p->line, "unexpected '%s' after the id", tail);
	}
	if (!strcmp(kw, "rule")) {
		int o = find_rule(rs, id);
		struct rk_rule *r;
		if (o >= 0)
			return fail(p, p->line, "duplicate rule id '%s' (first at %s:%u)", id,
				    rs->rule[o].file, rs->rule[o].line);
		rs->rule = grow1(rs->rule, rs->n_rule, sizeof(*rs->rule));
		r = &rs->rule[rs->n_rule];
		memset(r, 0, sizeof(*r));
		r->id = xstrdup(id);
		r->file = p->file;
		r->line = p->line;
		r->severity = SEV_ERROR;
		r->side = 255;
		r->certainty = RK_LIKELY;
		r->order = (uint32_t)rs->n_rule;
		p->cur = rs->n_rule++;
		p->blk = B_RULE;
	} else if (!strcmp(kw, "kb")) {
		const struct rule_kb *o = find_kb(rs, id);
		struct rule_kb *k;
		if (o)
			return fail(p, p->line, "duplicate kb id '%s' (first at %s:%u)", id, o->file, o->line);
		rs->kb = grow1(rs->kb, rs->n_kb, sizeof(*rs->kb));
		k = &rs->kb[rs->n_kb];
		memset(k, 0, sizeof(*k));
		k->id = xstrdup(id);
		k->file = p->file;
		k->line = p->line;
		k->side = 255;
		k->fix_rate = -1;
		p->cur = rs->n_kb++;
		p->blk = B_KB;
	} else {
		/* list NAME of KIND */
		char *of, *kind;
		const struct rk_list *o;
		int k;
		if (!*id)
			return fail(p, p->line, "'list' needs a name");
		if (!valid_id(id))
			return fail(p, p->line, "list name '%s' has characters other than letters, digits and ._/-+", id);
		of = word(tail, &kind);
		if (strcmp(of, "of") != 0 || !*kind)
			return fail(p, p->line, "list needs: list NAME of KIND");
		for (k = VK_NUM; k < VK__COUNT; k++)
			if (k != VK_LISTNAME && k != VK_MATCH && !strcmp(rk_kind_name(k), kind))
				break;
		if (k == VK__COUNT)
			return fail(p, p->line, "unknown list kind '%s'", kind);
		o = list_by_name(rs, id);
		if (o)
			return fail(p, p->line, "duplicate list '%s' (first at %s:%u)", id, o->file, o->line);
		new_list(p, id, k);
		p->cur = rs->n_list - 1;
		p->blk = B_LIST;
	}
	p->blk_line = p->line;
	p->last_text = NULL;
	p->last_kind = 0;
	return 0;
}

static int close_block(struct lp *p)
{
	struct rule_set *rs = p->rs;
	if (p->blk == B_RULE) {
		struct rk_rule *r = &rs->rule[p->cur];
		if (!r->title)
			return fail(p, p->blk_line, "rule '%s' has no title", r->id);
		if (!r->kb_id)
			return fail(p, p->blk_line, "rule '%s' has no kb entry", r->id);
		if (!r->n_cond)
			return fail(p, p->blk_line, "rule '%s' has no condition", r->id);
		rk_rule_prepare(r);
	} else if (p->blk == B_KB) {
		struct rule_kb *k = &rs->kb[p->cur];
		if (!k->title)
			return fail(p, p->blk_line, "kb entry '%s' has no title", k->id);
		if (!k->root_cause)
			return fail(p, p->blk_line, "kb entry '%s' has no root_cause", k->id);
	} else if (p->blk == B_LIST) {
		struct rk_list *l = rs->list[p->cur];
		if (!l->n)
			return fail(p, p->blk_line, "list '%s' has no values", l->name);
		if ((l->identity || l->vendor) && l->kind != VK_SUITE)
			return fail(p, p->blk_line, "list '%s' has an identity but holds %s values: identities are lists of suite",
				    l->name, rk_kind_name(l->kind));
		if (!l->identity && (l->vendor || l->n_id_groups || l->n_id_exts || l->n_id_versions || l->min_match))
			return fail(p, p->blk_line, "list '%s' has %s but no identity", l->name,
				    l->vendor ? "vendor" : l->n_id_groups ? "groups" : l->n_id_exts ? "extensions" :
				    l->min_match ? "match" : "versions");
		list_finish(l);
	}
	p->blk = B_NONE;
	p->last_text = NULL;
	return 0;
}

/* Appends "\n" + add to *p->last_text. The text moves into p->cont on
 * its first continuation, so a long run of '|' lines costs one copy each,
 * not a strlen and a realloc of everything before it. */
static int continue_text(struct lp *p, const char *add)
{
	char *t = *p->last_text;
	if (p->cont_of != p->last_text || t != (char *)p->cont.p) {
		(void)dbuf_take(&p->cont);   /* the bytes stay with their field */
		dbuf_init(&p->cont, 256, 2 * (size_t)MAX_FILE);
		if (dbuf_add(&p->cont, t, strlen(t) + 1) != DBUF_OK)
			exit(2);
		free(t);
		p->cont_of = p->last_text;
	}
	p->cont.len--;   /* over the NUL */
	if (dbuf_add(&p->cont, "\n", 1) != DBUF_OK || dbuf_add(&p->cont, add, strlen(add) + 1) != DBUF_OK)
		exit(2);     /* start-up only: loading rules may exit */
	*p->last_text = (char *)p->cont.p;
	return 0;
}

static int do_line(struct lp *p, char *line)
{
	char *s = trim(line), *kw, *rest;
	if (!*s || *s == '#')
		return 0;
	if (*s == '|') {
		char *add = s + 1;
		if (*add == ' ')
			add++;
		if (!p->last_text || !*p->last_text)
			return fail(p, p->line, "'|' continuation with nothing to continue");
		return continue_text(p, add);
	}
	kw = word(s, &rest);
	if (!strcmp(kw, "end")) {
		if (p->blk == B_NONE)
			return fail(p, p->line, "'end' without a block");
		if (*rest)
			return fail(p, p->line, "unexpected '%s' after 'end'", rest);
		return close_block(p);
	}
	if ((!strcmp(kw, "rule") || !strcmp(kw, "kb") || !strcmp(kw, "list")) &&
	    !(p->blk == B_RULE && !strcmp(kw, "kb"))) {
		if (p->blk != B_NONE)
			return fail(p, p->line, "'%s' inside a block: close the block at line %u with 'end' first",
				    kw, p->blk_line);
		return open_block(p, kw, rest);
	}
	if (!strcmp(kw, "disable") && p->blk == B_NONE) {
		char **d;
		uint32_t *dl;
		if (!valid_id(rest))
			return fail(p, p->line, "disable needs a rule id");
		d = grow1(p->disable, p->n_disable, sizeof(*d));
		p->disable = d;
		dl = grow1(p->disable_line, p->n_disable, sizeof(*dl));
		p->disable_line = dl;
		p->disable[p->n_disable] = xstrdup(rest);
		p->disable_line[p->n_disable++] = p->line;
		return 0;
	}
	switch (p->blk) {
	case B_NONE: return fail(p, p->line, "unknown keyword '%s' (expected rule, kb, list or disable)", kw);
	case B_RULE: return rule_field(p, &p->rs->rule[p->cur], kw, rest);
	case B_KB: return kb_field(p, &p->rs->kb[p->cur], kw, rest);
	case B_LIST: return list_field(p, p->rs->list[p->cur], kw, rest);
	}
	return 0;
}

/* Resolves kb references and adjustments of the rules this load added. */
static int link_rules(struct lp *p, size_t from)
{
	struct rule_set *rs = p->rs;
	size_t i;
	uint16_t j, w;
	for (i = from; i < rs->n_rule; i++) {
		struct rk_rule *r = &rs->rule[i];
		r->kb = find_kb(rs, r->kb_id);
		if (!r->kb)
			return fail(p, r->kb_line, "rule '%s' refers to unknown kb entry '%s'", r->id, r->kb_id);
		for (j = 0; j < r->n_adj; j++) {
			for (w = 0; w < r->kb->n_wa; w++)
				if (!strcmp(r->kb->wa[w].id, r->adj[j].wa_id))
					break;
			if (w == r->kb->n_wa)
				return fail(p, r->adj[j].line, "adjust: kb entry '%s' has no workaround '%s'",
					    r->kb_id, r->adj[j].wa_id);
		}
	}
	for (i = 0; i < p->n_disable; i++)
		if (find_rule(rs, p->disable[i]) < 0)
			return fail(p, p->disable_line[i], "disable: unknown rule '%s'", p->disable[i]);
	return 0;
}

int rule_load_buffer(struct rule_set *rs, const char *name, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct lp p;
	size_t n_rule = rs->n_rule, n_kb = rs->n_kb, n_list = rs->n_list, i;
	const char *q = text, *end = text + len;
	char **files;
	char line[MAX_LINE + 2];
	int rc = 0;

	memset(&p, 0, sizeof(p));
	files = grow1(rs->files, rs->n_files, sizeof(*files));
	rs->files = files;
	rs->files[rs->n_files++] = xstrdup(name);
	p.rs = rs;
	p.file = rs->files[rs->n_files - 1];
	p.err = err;
	p.errlen = errlen;
	if (errlen)
		err[0] = 0;
	if (len > MAX_FILE)
		rc = fail(&p, 0, "file larger than %u bytes", MAX_FILE);
	while (!rc && q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t l = nl ? (size_t)(nl - q) : (size_t)(end - q);
		p.line++;
		if (l > MAX_LINE) {
			rc = fail(&p, p.line, "line longer than %d bytes", MAX_LINE);
			break;
		}
		if (memchr(q, 0, l)) {
			rc = fail(&p, p.line, "NUL byte in the line");
			break;
		}
		memcpy(line, q, l);
		line[l] = 0;
		rc = do_line(&p, line);
		q += l + (nl ? 1 : 0);
	}
	if (!rc && p.blk != B_NONE) {
		const char *what = p.blk == B_RULE ? "rule" : p.blk == B_KB ? "kb entry" : "list";
		const char *id = p.blk == B_RULE ? rs->rule[p.cur].id : p.blk == B_KB ? rs->kb[p.cur].id
							 : rs->list[p.cur]->name;
		rc = fail(&p, p.blk_line, "%s '%s' is not closed (missing 'end')", what, id);
	}
	if (!rc)
		rc = link_rules(&p, n_rule);
	if (!rc) {
		for (i = 0; i < p.n_disable; i++)
			rs->rule[find_rule(rs, p.disable[i])].disabled = 1;
	} else {
		/* take back everything this file added */
		for (i = n_rule; i < rs->n_rule; i++)
			free_rule(&rs->rule[i]);
		for (i = n_kb; i < rs->n_kb; i++)
			free_kb(&rs->kb[i]);
		for (i = n_list; i < rs->n_list; i++)
			free_list(rs->list[i]);
		rs->n_rule = n_rule;
		rs->n_kb = n_kb;
		rs->n_list = n_list;
	}
	for (i = 0; i < p.n_disable; i++)
		free(p.disable[i]);
	free(p.disable);
	free(p.disable_line);
	rk_set_stages(rs);
	rk_set_touch(rs);
	return rc ? -1 : 0;
}

int rule_load_file(struct rule_set *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct dbuf b;
	int rc;
	if (!f) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	dbuf_init(&b, 65536, (size_t)MAX_FILE + 1);   /* one byte over says "too large" */
	for (;;) {
		size_t got;
		enum dbuf_rc g = dbuf_grow(&b, b.len + 1);
		if (g == DBUF_TOO_BIG) {
			fclose(f);
			dbuf_free(&b);
			snprintf(err, errlen, "%s:0: file larger than %u bytes", path, MAX_FILE);
			return -1;
		}
		if (g != DBUF_OK)
			exit(2);   /* start-up only: loading rules may exit */
		got = fread(b.p + b.len, 1, b.cap - b.len, f);
		b.len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		dbuf_free(&b);
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	rc = rule_load_buffer(rs, path, (const char *)b.p, b.len, err, errlen);
	dbuf_free(&b);
	return rc;
}

int rule_load_builtin(struct rule_set *rs, char *err, size_t errlen)
{
	size_t i;
	for (i = 0; i < rk_builtin_n; i++)
		if (rule_load_buffer(rs, rk_builtin[i].name, rk_builtin[i].text, rk_builtin[i].len, err,
				     errlen) < 0)
			return -1;
	return 0;
}
