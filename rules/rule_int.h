/*
 * rule_int.h - what the files of rules/ share: the compiled form of rules,
 * lists and knowledge-base entries, and the fact vocabulary.
 *
 * Everything here is built once by the loader (load.c) and then only read:
 * conditions hold fact ids and resolved values, templates hold pre-split
 * segments, so evaluating a record parses no text.
 */
#ifndef TLSWHY_RULE_INT_H
#define TLSWHY_RULE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

struct hs_record;
struct hs_client_hello;

/* ---- value kinds: what a scalar or list element means ---- */
enum rk_kind {
	VK_NONE = 0,
	VK_NUM,       /* plain number */
	VK_STAGE,     /* enum hs_stage */
	VK_SIDE,      /* 0 client, 1 server, 255 none */
	VK_MSG,       /* handshake type 0..255, or 256 + enum hs_ev_kind */
	VK_KEY,       /* enum x509_key */
	VK_CLOSE,     /* EV_FIN, EV_RST, 255 none */
	VK_LEVEL,     /* 1 warning, 2 fatal, 0 unknown */
	VK_ANOMALY,   /* bit index of enum hs_anomaly */
	VK_SUITE,
	VK_GROUP,
	VK_SIGALG,
	VK_VERSION,
	VK_ALERT,
	VK_EXT,       /* extension type */
	VK_LINK,      /* issued_by_next: 0 no, 1 yes, 2 unknown */
	VK_LISTNAME,  /* index of a named list */
	VK_MATCH,     /* enum rule_match: unknown, close, same-suites, exact */
	VK__COUNT
};

/* ---- fact types ---- */
enum rk_type {
	T_BOOL = 0,
	T_INT,        /* number, compared with < <= > >= is */
	T_DUR,        /* microseconds; written 10s, 500ms, 2m, 150us */
	T_TIME,       /* capture time in microseconds (evidence) */
	T_FRAME,      /* frame number (evidence) */
	T_CODE,       /* one value of a kind: is / is not / in / not in (and < > for versions) */
	T_LIST,       /* list of values of a kind, in wire order */
	T_SET,        /* membership predicate over values of a kind (not enumerable) */
	T_STR,        /* wire string */
	T_BYTES,      /* wire bytes */
};

struct rk_fact {
	const char *name;
	uint8_t type;
	uint8_t kind;
	const char *doc;
};

extern const struct rk_fact rk_facts[];
extern const size_t rk_facts_n;
int rk_fact_by_name(const char *name);          /* -1 unknown */
const char *rk_type_name(int type);
const char *rk_kind_name(int kind);

/* ---- named lists ---- */
struct rk_list {
	char *name;              /* NULL for anonymous (inline) lists */
	uint8_t kind;
	uint16_t n;
	uint16_t *v;             /* in declared order */
	uint16_t *sorted;        /* for membership */
	char *identity;          /* client identity text, or NULL */
	char *vendor;            /* e.g. "aws" */
	uint16_t max_version;    /* versions the identity offers (0 = not stated) */
	uint16_t min_version;
	/* Identity keys beyond the suites (rules/identity.c); n == 0: not stated. */
	uint16_t *id_versions;   /* `versions`, a set */
	uint16_t n_id_versions;
	uint16_t *id_groups;     /* `groups`, in order */
	uint16_t n_id_groups;
	uint16_t *id_exts;       /* `extensions`, a set (situational ones dropped) */
	uint16_t n_id_exts;
	uint8_t min_match;       /* `match`: weakest enum rule_match reported (0 = close) */
	/* Prepared once at load by rk_identity_prepare() (rules/identity.c), so
	 * identification sorts nothing per connection: the suites (the first
	 * HS_MAX_SUITES of `sorted`), `versions` and `extensions` as sorted sets,
	 * all in one allocation (id_prep). */
	uint16_t *id_prep;
	const uint16_t *id_suite_set, *id_version_set, *id_ext_set;
	uint16_t n_id_suite_set, n_id_version_set, n_id_ext_set;
	uint16_t id_max_version; /* highest of `versions` (0 = not stated) */
	char *source;
	const char *file;
	uint32_t line;
};

/* ---- conditions ---- */
enum rk_op {
	OP_IS = 0, OP_ISNOT, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_IN, OP_NOTIN,
	OP_HAS, OP_LACKS, OP_EMPTY, OP_NOTEMPTY,
	OP_EQUALS, OP_SAMESET, OP_SUBSET, OP_SUPERSET, OP_INTERSECTS, OP_DISJOINT,
	OP_COUNT,               /* count <cmp> n */
	OP_STARTS, OP_ENDS, OP_CONTAINS,
	OP__COUNT
};

struct rk_cond {
	uint16_t fact;
	uint8_t op;
	uint8_t cmp;             /* for OP_COUNT: OP_IS..OP_GE */
	uint8_t negate;          /* `unless` */
	uint8_t screened;        /* in its rule's screen (rk_rule_prepare): rule_eval() checked it */
	int64_t num;             /* scalar right-hand side */
	const struct rk_list *list;   /* list right-hand side (named or inline) */
	int rhs_fact;            /* list fact on the right, or -1 */
	uint8_t *bytes;          /* string / bytes right-hand side */
	size_t blen;
	uint32_t line;
};

/* A template: literal text and fact references, split at load. */
struct rk_seg {
	char *lit;               /* NULL for a fact reference */
	size_t lit_n;            /* strlen(lit), counted once at load */
	int fact;
};
struct rk_tmpl {
	uint16_t n;
	struct rk_seg *seg;
};

/* The knowledge base (struct rule_kb and what it holds) is in rules.h:
 * the verdict cites it. */

/* ---- rules ---- */
enum rk_sev { SEV_NOTE = RULE_SEV_NOTE, SEV_INFO = RULE_SEV_INFO, SEV_WARNING = RULE_SEV_WARNING,
	      SEV_ERROR = RULE_SEV_ERROR };
/* How directly a rule's conditions show its cause (docs/rules.md, "How the
 * diagnosis is chosen"): `possible`, the wire pattern only, which other
 * causes share; `likely`, the pattern plus a fact that points to this
 * cause; `proven`, the capture shows the cause itself. */
enum rk_certainty { RK_POSSIBLE = 1, RK_LIKELY = 2, RK_PROVEN = 3 };

struct rk_adjust {
	char *wa_id;             /* workaround id in the rule's KB entry */
	int rate;
	char *why;
	uint32_t line;
};

struct rk_rule {
	char *id;
	char *title;
	uint8_t severity;
	int priority;
	char *kb_id;
	const struct rule_kb *kb;  /* resolved after the file is read */
	uint8_t side, confidence, basis;   /* overrides; 255/0/0 = from the KB */
	struct rk_cond *cond;
	uint16_t n_cond;
	struct rk_tmpl *evid;
	uint16_t n_evid;
	struct rk_adjust *adj;
	uint16_t n_adj;
	uint8_t disabled;
	uint8_t fallback;        /* `fallback yes`: speaks only when no other finding rule matched */
	uint8_t certainty;       /* `certainty`: RK_POSSIBLE, RK_LIKELY (default), RK_PROVEN */
	uint8_t has_stage_mask;  /* stage_mask was computed (rk_rule_prepare) */
	uint32_t stage_mask;     /* stages (bit per enum hs_stage) at which every `stage`
				  * condition holds; the rule cannot match at the others */
	/* The screen: the rule's conditions that compare a fact holding one
	 * number (true/false, a count, a code, a time) with a constant (at
	 * most RK_SCREEN, in the rule's order; rk_rule_prepare). They are
	 * checked first against each fact's number, read once per connection
	 * (rk_screen_pass()); rule_eval() evaluates the rest only when they
	 * all hold. A rule's conditions are all required and read nothing
	 * but the connection, so their order does not change the result. */
	uint8_t n_screen;
	uint8_t screen_cond[8];  /* indexes into cond[] (RK_SCREEN) */
	uint32_t order;          /* load order, for the last tie-break */
	const char *file;
	uint32_t line;
	uint32_t kb_line;
};

/* One condition of a rule's screen, compiled (rk_set_stages()) so that
 * rule_eval() decides it from the fact's number with no more than a range
 * or a list to look at: a comparison holds for a number in [lo, hi] (an
 * empty range, lo > hi, for none), `in` and `not in` by membership in
 * list; neg inverts that (`unless`, `is not`, `not in`); an absent fact
 * gives `absent` (it holds nothing: 1 only for `unless`); a fact that came
 * with more than a number is decided the general way, by c. Each exactly
 * as rk_cond_eval() decides c (test_rules.c test_screen). */
struct rk_scr {
	int64_t lo, hi;
	const struct rk_list *list;
	const struct rk_cond *c;
	uint16_t fact;
	uint8_t is_list;
	uint8_t neg;
	uint8_t absent;
};
/* A rule of a stage as rule_eval() walks them: its index and its screen. */
struct rk_stage_rule {
	uint32_t rule;           /* into rs->rule */
	uint32_t scr;            /* its screen: rs->scr[scr .. scr + n_scr) */
	uint32_t n_scr;
};

struct rule_set {
	struct rk_rule *rule;
	size_t n_rule;
	struct rule_kb *kb;
	size_t n_kb;
	struct rk_list **list;   /* named and inline lists (stable addresses) */
	size_t n_list;
	char **files;            /* file names, owned (rules point at them) */
	size_t n_files;
	uint64_t gen;            /* new at creation and after every load (rk_set_touch): what
	                          * per-thread memos of results over this set are keyed by */
	/* The rules that can match at each stage below 32 (not disabled, the
	 * stage's bit set in their stage_mask), in load order, each with its
	 * compiled screen: by_stage[by_stage_at[s] .. by_stage_at[s + 1])
	 * (rk_set_stages(), after every load; NULL: rule_eval() goes through
	 * every rule). */
	struct rk_stage_rule *by_stage;
	uint32_t by_stage_at[33];
	/* every rule's screen compiled (rk_set_stages()): rule i's is
	 * scr[scr_at[i] .. scr_at[i] + rule[i].n_screen); NULL with by_stage */
	struct rk_scr *scr;
	uint32_t *scr_at;
};
/* Makes rs->by_stage and rs->scr for the rules as they are now (both NULL
 * if out of memory). */
void rk_set_stages(struct rule_set *rs);
/* Gives rs a generation no rule set had before: memos keyed by the old one miss. */
void rk_set_touch(struct rule_set *rs);

/* ---- evaluation ---- */
#define RK_MAX_FACTS 512   /* at least the number of facts (checked in vocab.c) */
struct rk_eval {
	const struct rule_set *rs;
	const struct hs_record *r;
	struct rule_ctx ctx;
	const struct x509_facts *leaf;   /* this connection's leaf, else the hint */
	const struct hs_alert *alert;    /* the deciding alert, or NULL */
	int identity;                    /* index into rs->list, -1 none, -2 not computed */
	int match;                       /* enum rule_match of that identity */
	uint8_t vstate[RK_MAX_FACTS];    /* RK_V_* of each fact, 0 not read yet (rk_fact_get) */
	int64_t vi[RK_MAX_FACTS];        /* the number of a RK_V_NUM or RK_V_ABSENT fact (last: not cleared) */
};
enum { RK_V_ABSENT = 1, RK_V_NUM = 2, RK_V_OTHER = 3 };

#define RK_SCREEN 8

struct rk_val {
	int64_t i;
	const uint16_t *l;
	uint16_t n;
	uint8_t filter;          /* skip GREASE and signalling values when iterating */
	const uint8_t *s;
	size_t sn;
	uint16_t buf[24];
};

void rk_eval_init(struct rk_eval *e, const struct rule_set *rs, const struct hs_record *r,
		  const struct rule_ctx *ctx);
int rk_fact_get(struct rk_eval *e, int fact, struct rk_val *v);   /* 0 absent */
int rk_set_member(struct rk_eval *e, int fact, uint16_t x);        /* for T_SET facts */
int rk_cond_eval(struct rk_eval *e, const struct rk_cond *c);
int rk_sorted_has(const struct rk_list *l, uint16_t x);          /* membership in a list */

/* a `op` b for the comparison operators (0 for the others) */
static inline int rk_cmp(int op, int64_t a, int64_t b)
{
	switch (op) {
	case OP_IS: return a == b;
	case OP_ISNOT: return a != b;
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	default: return 0;
	}
}

/* s (a compiled screen condition) as rk_cond_eval() decides its
 * condition. Inline: rule_eval() checks a few of these for every rule of
 * the stage. */
static inline int rk_scr_holds(struct rk_eval *e, const struct rk_scr *s)
{
	uint8_t st = e->vstate[s->fact];
	if (!st) {
		struct rk_val v;
		(void)rk_fact_get(e, s->fact, &v);
		st = e->vstate[s->fact];
	}
	if (st == RK_V_NUM) {
		int64_t x = e->vi[s->fact];
		int m = s->is_list ? (s->list ? rk_sorted_has(s->list, (uint16_t)x) : 0) : (x >= s->lo && x <= s->hi);
		return m ^ s->neg;
	}
	if (st == RK_V_ABSENT)
		return s->absent;
	return rk_cond_eval(e, s->c);   /* a number that came with more: the general way */
}

/* 1 when every condition of a compiled screen holds for the connection. */
static inline int rk_scr_pass(struct rk_eval *e, const struct rk_scr *s, uint32_t n)
{
	uint32_t k;
	for (k = 0; k < n; k++)
		if (!rk_scr_holds(e, &s[k]))
			return 0;
	return 1;
}

/* 1 when every condition of the rule's screen holds for the connection
 * (each exactly as rk_cond_eval() decides it): compiled when the rule set
 * has its screens (rk_set_stages()), else (out of memory) by
 * rk_cond_eval() itself. */
static inline int rk_screen_pass(struct rk_eval *e, const struct rk_rule *ru)
{
	uint8_t k;
	if (e->rs->scr && ru >= e->rs->rule && ru < e->rs->rule + e->rs->n_rule)
		return rk_scr_pass(e, e->rs->scr + e->rs->scr_at[ru - e->rs->rule], ru->n_screen);
	for (k = 0; k < ru->n_screen; k++)
		if (!rk_cond_eval(e, &ru->cond[ru->screen_cond[k]]))
			return 0;
	return 1;
}
/* Precomputes what lets rule_eval() skip a rule without evaluating it
 * (the stage mask); called by the loader once a rule is complete. */
void rk_rule_prepare(struct rk_rule *ru);
/* Value names: parse (load time) and print (evidence, `tlswhy rules`). */
int rk_parse_value(int kind, const char *s, const struct rule_set *rs, int64_t *out);
const char *rk_value_name(int kind, int64_t v, const struct rule_set *rs, char *buf, size_t n);
/* The value of one fact for evidence (rules/vocab.c): TEXT for names,
 * numbers, lists and "(none)" (written into buf, n bytes), WIRE for wire
 * strings (copied into buf, at most n bytes: they may point into a scratch
 * value), FRAME, TIME, DATE, DURATION as numbers. Returns the bytes of buf
 * used. */
size_t rk_fact_value(struct rk_eval *e, int fact, struct rule_value *out, char *buf, size_t n);
/* The most buf bytes rk_fact_value() uses for one fact. */
#define RK_VALUE_MAX 512
int rk_ignored_value(int kind, uint16_t v);   /* GREASE and signalling suites */

/* Client identification (rules/identity.c): the identity list that best
 * matches the ClientHello, or -1; *match gets its enum rule_match. */
int rk_identify(const struct rule_set *rs, const struct hs_client_hello *ch, int *match);
/* Builds the prepared sets of an identity list (called by the loader once a
 * list is complete; any list may be passed). */
void rk_identity_prepare(struct rk_list *l);
/* Extensions an identity's `extensions` key never compares: their presence
 * depends on the connection (server_name, padding, pre_shared_key,
 * early_data, cookie), not on the client's code. */
int rk_situational_ext(uint16_t ext);
/* Fills *id for identity list i (-1: unknown) matched as m. */
void rk_identity_fill(const struct rule_set *rs, int i, int m, struct rule_identity *id);

/* The verdict on the record e was evaluated on (rules/verdict.c): the
 * diagnosis (or NULL), the other candidates of its differential (at most
 * RULE_MAX_CANDIDATES - 1), the other finding rules that matched, best
 * first, and the notes. NULL when out of memory. */
struct rule_verdict *rk_verdict_new(struct rk_eval *e, const struct rk_rule *diag, const struct rk_rule *const *cand,
				    size_t n_cand, const struct rk_rule *const *also, size_t n_also,
				    const struct rk_rule *const *note, size_t n_note);

/* The rule files compiled into the binary (generated by rules/embed.sh). */
struct rk_blob {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct rk_blob rk_builtin[];
extern const size_t rk_builtin_n;

/* Names shared by the loader, `tlswhy rules` and the verdict. */
const char *rk_sev_name(int s);
const char *rk_side_name(int s);
const char *rk_conf_name(int c);
const char *rk_basis_name(int b);
const char *rk_op_name(int op);

/* What the verdict says of a rule (rules/verdict.c): side, confidence and
 * basis (the rule's own, else its kb entry's), and the workarounds ranked
 * for it, highest rate first. */
uint8_t rk_side_of(const struct rk_rule *r);
uint8_t rk_conf_of(const struct rk_rule *r);
uint8_t rk_basis_of(const struct rk_rule *r);
/* Ranks the rule's workarounds (rules/verdict.c); `not_lb`: the client is
 * identified as something other than a load balancer, so fixes made only on
 * the load balancer (every command of stack `aws`) are left out. */
size_t rk_rank(const struct rk_rule *r, struct rule_ranked *out, size_t cap, int not_lb);
/* 1 when the ClientHello matches (exact or same suites) an identity that is
 * not an AWS load balancer (curl, a browser, Java...). */
int rk_client_not_lb(struct rk_eval *e);

int rk_specificity(const struct rk_rule *r);
/* A side no single rule names: the candidates of a differential blame
 * different sides (rk_side_name: "undetermined"). */
#define RK_SIDE_UNDETERMINED 6
/* 1 when rule a beats rule b. */
int rk_beats(const struct rk_rule *a, const struct rk_rule *b);

#endif
