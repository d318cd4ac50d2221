/*
 * rules.h - from one handshake record to findings: the rules engine and the
 * knowledge base, as the rest of tlswhy sees them.
 *
 * Life cycle
 *   struct rule_set *rs = rule_set_new();
 *   rule_load_builtin(rs, err, sizeof err);      the rules compiled in
 *   rule_load_file(rs, "my.rules", err, sizeof err);   each --rules FILE
 *   per connection, once it is finished (record_finish() called):
 *     struct rule_findings *f = rule_eval(rs, rec, &ctx);
 *     rule_report_text(stdout, rec, f, color) or rule_report_json(w, rec, f);
 *     if (rule_findings_failed(f)) exit_status = 1;
 *     rule_findings_free(f);
 *
 * Invariants
 *  - Loading is the only step that parses text or allocates for rules; a
 *    load error leaves the set usable with what loaded before the faulty
 *    file, and `err` holds "file:line: reason".
 *  - rule_eval() reads the record and never changes it; it allocates only
 *    the findings, and returns NULL when there is nothing to report (no
 *    finding and no note), which every other function here accepts.
 *  - The findings point into the rule set: free the findings before the set.
 *  - The record passed to the report functions must be the one evaluated
 *    (evidence is rendered from it at report time).
 *
 * The file format and the fact vocabulary are documented in docs/rules.md.
 */
#ifndef TLSWHY_RULES_H
#define TLSWHY_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hs_record;
struct jw;
struct x509_facts;
struct srv_known;
struct rule_set;
struct rule_findings;

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

struct rule_findings *rule_eval(const struct rule_set *rs, const struct hs_record *r,
				const struct rule_ctx *ctx);
void rule_findings_free(struct rule_findings *f);
int rule_findings_failed(const struct rule_findings *f);    /* 1 when a failure was diagnosed */

/* Accessors (tests, other reports). Index 0 is the diagnosis. */
size_t rule_findings_count(const struct rule_findings *f);  /* findings, not notes */
size_t rule_notes_count(const struct rule_findings *f);
const char *rule_finding_id(const struct rule_findings *f, size_t i);
const char *rule_note_id(const struct rule_findings *f, size_t i);
const char *rule_finding_kb(const struct rule_findings *f, size_t i);

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
 * The reports call this; they do not match anything themselves. */
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

void rule_report_text(FILE *out, const struct hs_record *r, const struct rule_findings *f, int color);
/* Writes "findings": [...] and "notes": [...] into the object the caller has open. */
void rule_report_json(struct jw *w, const struct hs_record *r, const struct rule_findings *f);

/* `tlswhy rules list|check|show|kb ...`: argv[0] is "rules". Returns the exit status. */
int rule_cli(int argc, char **argv);

#endif
