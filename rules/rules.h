/*
 * rules.h - from one handshake record to a verdict: the rules engine, the
 * knowledge base and the verdict, as the rest of tlswhy sees them.
 *
 * Life cycle
 *   struct rule_set *rs = rule_set_new();
 *   rule_load_builtin(rs, err, sizeof err);      the rules compiled in
 *   rule_load_file(rs, "my.rules", err, sizeof err);   each --rules FILE
 *   per connection, once it is finished (record_finish() called):
 *     struct rule_verdict *v = rule_eval(rs, rec, &ctx);
 *     rpt_conn(&report, rec, v);                    report/ renders it
 *     if (rule_verdict_failed(v)) exit_status = 1;
 *     rule_verdict_free(v);
 *
 * Invariants
 *  - Loading is the only step that parses text or allocates for rules; a
 *    load error leaves the set usable with what loaded before the faulty
 *    file, and `err` holds "file:line: reason".
 *  - rule_eval() reads the record and never changes it; it allocates only
 *    the verdict, and returns NULL only when memory runs out (or rs or the
 *    record is NULL), which every function here and in report/ accepts.
 *  - The verdict points into the rule set and may point into the record:
 *    free it before either. It is complete: report/ renders it and never
 *    evaluates a rule or a fact again.
 *
 * The file format and the fact vocabulary are documented in docs/rules.md.
 */
#ifndef TLSWHY_RULES_H
#define TLSWHY_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hs_record;
struct x509_facts;
struct srv_known;
struct rule_set;

/* What the engine needs besides the record. Zero it, then fill in. */
struct rule_ctx {
	int64_t capture_end_us;   /* capture time of the last packet of the capture */
	/* The leaf certificate this server (same address and port) presented in
	 * another connection of the capture, or NULL. Lets a rule name the key
	 * type of a server that refused before sending its certificate. */
	const struct x509_facts *server_leaf_hint;
	/* What the run knows of this server from its other connections
	 * (dissect/servers.h), or NULL (rules: server.others.*). */
	const struct srv_known *server;
	/* Which verdicts get their findings' evidence and ranked workarounds
	 * (enum rule_evidence_mode): a report that prints them only for some
	 * connections spares building them for the rest. 0: every verdict. */
	uint8_t evidence;
};

/* rule_ctx.evidence. Without evidence a finding keeps its rule, title,
 * severity, side, confidence, basis and kb entry; its evidence lines and
 * workarounds are empty (n_evid, n_own and n_wa 0), and so are the
 * differential's supports. */
enum rule_evidence_mode {
	RULE_EVIDENCE_ALL = 0,
	RULE_EVIDENCE_FAILED,                    /* only when the verdict is a failure */
	RULE_EVIDENCE_FAILED_OR_INCONCLUSIVE     /* a failure, or outcome inconclusive */
};

struct rule_set *rule_set_new(void);
void rule_set_free(struct rule_set *rs);

/* Each returns 0 on success, -1 with err = "file:line: reason". */
int rule_load_builtin(struct rule_set *rs, char *err, size_t errlen);
int rule_load_file(struct rule_set *rs, const char *path, char *err, size_t errlen);
/* The same from memory; `name` is the file name used in errors. */
int rule_load_buffer(struct rule_set *rs, const char *name, const char *text, size_t len,
		     char *err, size_t errlen);

/* Counts, for listings and tests. */
size_t rule_set_count(const struct rule_set *rs, size_t *kb_entries, size_t *lists);

/* ---- client identification ----
 * Which client sent the ClientHello, from the identity lists (`list ...
 * identity`, docs/rules.md "Client identity"), and how exact the match is:
 *   exact        the same suites in the same order, and every other key the
 *                list states (versions, groups, extensions) agrees;
 *   same-suites  the same set of suites, but the order, a TLS_FALLBACK_SCSV
 *                or another stated key differs;
 *   close        Jaccard similarity of the suite sets >= 90% and the same
 *                first three suites (in order);
 *   unknown      none of these for any identity list.
 * GREASE values and the renegotiation SCSV (0x00FF) are never compared.
 * rule_eval() puts it in the verdict; the reports match nothing themselves. */
enum rule_match {
	RULE_MATCH_UNKNOWN = 0,
	RULE_MATCH_CLOSE,
	RULE_MATCH_SAME_SUITES,
	RULE_MATCH_EXACT
};

struct rule_identity {
	enum rule_match match;
	const char *name;          /* the identity list's name; NULL when unknown */
	const char *description;   /* its `identity` text; NULL when unknown */
	const char *source;        /* its `source` text; NULL when unknown or not given */
	int aws_lb;                /* vendor aws, matched exact or same-suites (rules: client.aws_lb) */
};

/* Fills *id for the record's (first) ClientHello. Returns 0 when there is
 * no ClientHello (*id is then unknown with NULL strings), else 1. The
 * strings point into the rule set. */
int rule_client_identity(const struct rule_set *rs, const struct hs_record *r, struct rule_identity *id);
/* "exact", "same-suites", "close", "unknown" (JSON and rule files). */
const char *rule_match_name(enum rule_match m);
/* One line for people: "AWS load balancer, ... (exact match)", or
 * "unknown (no client profile matches)". Not escaped (the text comes from
 * rule files). Returns buf. */
char *rule_identity_text(const struct rule_identity *id, char *buf, size_t n);

/* ---- the knowledge base, as the verdict cites it ----
 * Read-only text from the rule files, owned by the rule set (load.c). */
struct rule_cmd {
	char *stack;             /* nginx, apache, haproxy, envoy, tomcat, java, go, node, aws, shell ... */
	char *text;
};
struct rule_dispute {
	char *text;
	char *source;
};
struct rule_workaround {
	char *id;
	char *title;
	int rate;                /* success %, as the KB states it */
	char *detail;
	struct rule_cmd *cmd;
	uint16_t n_cmd;
	struct rule_dispute *disp;
	uint16_t n_disp;
};
struct rule_deadend {
	char *title;
	int rate;                /* fail % */
	char *reason;
	struct rule_dispute *disp;
	uint16_t n_disp;
};
struct rule_kb_version {
	char *what, *status, *introduced, *deprecated;
};
struct rule_ref {
	char *url;
	char *title;
};
struct rk_tmpl;              /* compiled evidence templates: private to rules/ */
struct rule_kb {
	char *id;
	char *title;
	char *domain, *category, *error_code, *verification;
	int fix_rate;            /* -1 unknown */
	char *root_cause;
	struct rule_dispute *rc_disp;
	uint16_t n_rc_disp;
	uint8_t side;            /* 0 client, 1 server, 2 network, 3 capture, 4 client-and-server; 255 unset */
	uint8_t confidence;      /* 1 low, 2 medium, 3 high; 0 unset */
	uint8_t basis;           /* 1 aws-doc, 2 vendor, 3 users, 4 inference; 0 unset */
	uint8_t blames_validity; /* a claim that a certificate was invalid */
	char *check;             /* `check`: how to tell this cause from its look-alikes (a command), or NULL */
	struct rk_tmpl *evid;    /* (rules/ only) */
	uint16_t n_evid;
	struct rule_workaround *wa;
	uint16_t n_wa;
	struct rule_deadend *de;
	uint16_t n_de;
	struct rule_kb_version *ver;
	uint16_t n_ver;
	struct rule_ref *ref;
	uint16_t n_ref;
	char **see;
	uint16_t n_see;
	const char *file;
	uint32_t line;
};

/* ---- the verdict: everything rules/ concluded about one connection ----
 *
 * rule_eval() returns it; report/ renders it with the record it was
 * evaluated on, and decides nothing. Evidence is typed values, never text
 * escaped for one output: a wire string is its raw bytes, a frame a
 * number, a time a capture time; report/ formats and escapes each for the
 * format it writes. Strings point into the rule set (rule ids, titles,
 * knowledge-base text) or into the verdict's own storage: free the
 * verdict before the set; the record must outlive it too. */
enum rule_sev { RULE_SEV_NOTE = 0, RULE_SEV_INFO, RULE_SEV_WARNING, RULE_SEV_ERROR };

enum rule_value_kind {
	RULE_V_TEXT = 0,   /* tlswhy's text (names from its tables, numbers, "(none)") or the rule file's */
	RULE_V_WIRE,       /* raw bytes from the wire, possibly hostile: escape for the output */
	RULE_V_FRAME,      /* a frame number (num) */
	RULE_V_TIME,       /* a capture time, microseconds (num); shown with its offset from the first packet */
	RULE_V_DATE,       /* a calendar time, microseconds (num): a certificate's notAfter */
	RULE_V_DURATION    /* microseconds (num) */
};
struct rule_value {
	uint8_t kind;            /* enum rule_value_kind */
	uint8_t absent;          /* the fact has no value here: TEXT "(none)" */
	const char *s;           /* TEXT and WIRE: the bytes (not NUL-terminated for WIRE) */
	size_t n;
	int64_t num;             /* FRAME, TIME, DATE, DURATION */
};
/* One evidence line: its values in order (a rule file's literal text is a
 * TEXT value). */
struct rule_evidence {
	const struct rule_value *v;
	uint16_t n;
};

/* A workaround ranked for one finding: the kb entry's rate, replaced by
 * the rule's `adjust` line when it has one; most likely first, kb order on
 * ties. */
struct rule_ranked {
	const struct rule_workaround *w;
	int rate;                /* for this finding */
	const char *why;         /* the rule's reason for its rate, or NULL */
};

/* One rule that matched: the diagnosis, or a note. */
struct rule_finding {
	const char *rule;        /* rule id */
	const char *title;
	uint8_t severity;        /* enum rule_sev */
	const char *severity_name, *side, *confidence, *basis;   /* the rule's own, else its kb entry's */
	const struct rule_kb *kb;
	const struct rule_evidence *evid;   /* the rule's lines, then the kb entry's */
	uint16_t n_evid;
	uint16_t n_own;                     /* of which the rule's own (the first n_own) */
	const struct rule_ranked *wa;       /* ranked (diagnosis only; 0 for notes) */
	uint16_t n_wa;
};

/* The differential: a cause the capture supports, what supports it, and
 * the check that tells it from the others. cand[0] is the diagnosis; more
 * than one candidate means the capture cannot decide between them ("one
 * of these", most likely first: docs/rules.md "How the diagnosis is
 * chosen"), and the diagnosis's side and confidence are then the
 * verdict's (lowered; "undetermined" when the candidates blame different
 * sides). */
struct rule_candidate {
	const struct rule_finding *cause;
	const struct rule_evidence *supports;
	uint16_t n_supports;
	const char *check;       /* what to look at to tell the candidates apart; NULL none stated */
};

/* The reports print the diagnosis (or nothing); the outcome, `missing`
 * and the differential are filled for the reports issue 14 adds. */
enum rule_outcome {
	RULE_OUTCOME_NONE = 0,      /* nothing to say: a complete handshake and no diagnosis */
	RULE_OUTCOME_DIAGNOSED,     /* `diag` holds the diagnosis */
	RULE_OUTCOME_INCONCLUSIVE   /* the capture cannot decide: no rule explains how an incomplete
	                             * handshake ended (`missing` says so), or the diagnosis is the
	                             * capture's own (side capture: cut short, bytes missing) */
};

#define RULE_MAX_ALSO       4
#define RULE_MAX_NOTES      8
#define RULE_MAX_CANDIDATES 7
struct rule_verdict {
	enum rule_outcome outcome;
	int failed;                          /* the diagnosis is an error: exit status 1 */
	const char *missing;                 /* INCONCLUSIVE: what the capture lacks; else NULL */
	const struct rule_finding *diag;     /* the diagnosis, or NULL */
	const char *also[RULE_MAX_ALSO];     /* other finding rules that matched (ids), less specific */
	uint8_t n_also;
	const struct rule_finding *note;     /* notes, in rule order */
	uint8_t n_note;
	struct rule_candidate cand[RULE_MAX_CANDIDATES];   /* the differential, most likely first */
	uint8_t n_cand;
	int has_identity;                    /* a ClientHello was seen */
	struct rule_identity identity;       /* which client sent it */
	void *mem;
	/* storage (rules/verdict.c): the diagnosis, the other candidates, the
	 * notes; as many as the verdict holds (at most RULE_MAX_CANDIDATES +
	 * RULE_MAX_NOTES), so that a verdict without findings is small */
	struct rule_finding f[];
};

/* The verdict on one finished record (see the invariants above). */
struct rule_verdict *rule_eval(const struct rule_set *rs, const struct hs_record *r,
			       const struct rule_ctx *ctx);
void rule_verdict_free(struct rule_verdict *v);
int rule_verdict_failed(const struct rule_verdict *v);    /* 1 when a failure was diagnosed */

/* `tlswhy rules list|check|show|kb ...`: argv[0] is "rules". Returns the exit status. */
int rule_cli(int argc, char **argv);

#endif
