/*
 * ticket.h - what the Markdown and HTML reports share (report/ only).
 *
 * Both are documents for an incident ticket: a headline verdict and a
 * summary first, so they are written at the end of the run. Records are
 * freed as they are retired, so while the capture is read ticket.c keeps
 * only what the document needs, bounded:
 *  - failed handshakes, grouped by (diagnosis rule, server address:port):
 *    the first connection of a group is rendered at once into its section
 *    (at most TK_SECTION_MAX bytes), later ones only add to a count, a
 *    time span and the first TK_IDS connection ids and frames. At most
 *    TK_MAX_GROUPS groups; failures beyond them are counted by cause.
 *  - counts per cause (diagnosis rule);
 *  - the other connections summarised by (server, stage, version, suite),
 *    at most TK_MAX_OTHER rows plus a remainder;
 *  - with --all, one table row per connection, spooled to a temporary file
 *    (disk, not memory) and copied into the document at the end.
 */
#ifndef TLSWHY_TICKET_H
#define TLSWHY_TICKET_H

#include <stdio.h>

#include "report/report.h"
#include "rules/rule_int.h"

#define TK_MAX_GROUPS  256
#define TK_IDS         12
#define TK_SECTION_MAX (512 * 1024)
#define TK_MAX_OTHER   64
#define TK_MAX_CAUSES  128
#define TK_MAX_STEPS   (HS_MAX_EVENTS + 1)

/* One arrow of the ladder diagram. */
struct tk_step {
	uint64_t frame;
	int64_t off_us;          /* from the connection's first packet */
	uint8_t dir;             /* DIR_C2S / DIR_S2C */
	uint8_t fail;            /* the failing step */
	uint8_t gap;             /* bytes missing, not a message */
	char label[96];          /* names from our tables only: no wire bytes */
};

struct tk_ladder {
	struct tk_step s[TK_MAX_STEPS];
	size_t n;
	char tail[160];          /* what did not happen ("no answer for 10.000 s"), or "" */
	int tail_fail;           /* the tail is the failing step */
	uint64_t clipped;        /* events beyond the ones kept */
};

void tk_ladder_build(const struct hs_record *r, struct tk_ladder *l);

/* Workarounds ranked for this rule (same order as the text report). */
struct tk_ranked {
	const struct rk_workaround *w;
	int rate;
	const char *why;
};
size_t tk_rank(const struct rk_rule *r, struct tk_ranked *out, size_t cap);
uint8_t tk_side(const struct rk_rule *r);
uint8_t tk_conf(const struct rk_rule *r);
uint8_t tk_basis(const struct rk_rule *r);

/* Version and cipher suite names ("TLS 1.2", "0x0a0a"...). */
const char *tk_version(char *b, size_t n, uint16_t v);
const char *tk_suite(char *b, size_t n, uint16_t s);
const char *tk_time(char *b, size_t n, int64_t us);     /* ISO 8601 UTC */
uint16_t tk_max_offered(const struct hs_client_hello *c);

/* The state, and the data a document is written from. */
struct tk_group {
	const struct rk_rule *rule;
	struct hs_addr srv;
	char *body;
	size_t body_len;
	uint64_t count;
	uint64_t ids[TK_IDS], frames[TK_IDS];
	int64_t first_ts, last_ts;
};
struct tk_cause {
	const struct rk_rule *rule;
	uint64_t count;
};
struct tk_other {
	struct hs_addr srv;
	uint8_t stage;
	uint16_t version, cipher;
	uint8_t sni[64];
	uint16_t sni_len;
	uint8_t has_sni;
	const struct rk_rule *diag;   /* a non-error diagnosis (warning), or NULL */
	uint64_t count, first_id, first_frame;
};
struct rpt_ticket {
	struct tk_group g[TK_MAX_GROUPS];
	size_t ng;
	uint64_t failed_ungrouped;        /* groups full */
	struct tk_cause c[TK_MAX_CAUSES];
	size_t nc;
	struct tk_other o[TK_MAX_OTHER];
	size_t no;
	uint64_t other_rest;              /* connections beyond the rows */
	FILE *all;                        /* --all spool, rows */
	uint64_t all_rows;
};

/* The format's renderers (markdown.c, html.c). */
void md_section(FILE *o, const struct hs_record *rec, const struct rule_findings *f);
void md_all_row(FILE *o, const struct hs_record *rec, const struct rule_findings *f);
void md_document(struct rpt *r, const struct cap_input *in, int nin, const struct cap_run *run,
		 const struct flow_stats *fs, const char *filter);
void html_section(FILE *o, const struct hs_record *rec, const struct rule_findings *f);
void html_all_row(FILE *o, const struct hs_record *rec, const struct rule_findings *f);
void html_document(struct rpt *r, const struct cap_input *in, int nin, const struct cap_run *run,
		   const struct flow_stats *fs, const char *filter);

/* ticket.c */
struct rpt_ticket *tk_new(void);
void tk_add(struct rpt *r, const struct hs_record *rec, const struct rule_findings *f);
void tk_free(struct rpt_ticket *t);
/* Copies the --all spool to `o`. */
void tk_copy_all(struct rpt_ticket *t, FILE *o);

#endif
