/*
 * report.h - rendering handshake records and their verdicts for people and
 * machines. report/ decides nothing: it prints what dissect/ found (the
 * record) and what rules/ concluded (the verdict, rules.h), escaping every
 * wire-derived string for its format at output.
 *
 * Records are rendered as they are retired (streaming), so memory does not
 * grow with the number of connections; the summary comes at the end.
 */
#ifndef TLSWHY_REPORT_H
#define TLSWHY_REPORT_H

#include <stdio.h>

#include "dissect/flow.h"
#include "dissect/record.h"
#include "report/jw.h"
#include "report/run.h"

enum rpt_format { RPT_TEXT = 0, RPT_JSON, RPT_JSONL, RPT_MARKDOWN, RPT_HTML, RPT_ECS };

/* "text", "markdown" (or "md"), "json", "jsonl" (or "ndjson"), "html", "ecs";
 * -1 when unknown. */
int rpt_format_parse(const char *name);
/* The format an output file name implies: .txt .md .markdown .json .jsonl
 * .ndjson .html .htm (case-insensitive); -1 when the extension says nothing. */
int rpt_format_from_path(const char *path);
const char *rpt_format_name(enum rpt_format f);

/* A report to a file or a pipe is written RPT_OUT_BUF bytes at a time, not
 * in the 4 KiB pieces glibc picks (it ignores setvbuf's size when it is
 * given no buffer and takes st_blksize: 4 KiB for files, pipes and
 * /dev/null). The buffer is static, for one stream of the run: 0, or -1
 * when another stream has it already. Called before anything is written
 * to f. */
#define RPT_OUT_BUF (1u << 18)
int rpt_out_buffer(FILE *f);

struct rule_verdict;
struct rule_identity;
struct rule_evidence;
struct rpt_ticket;   /* report/ticket.c: Markdown and HTML state */

/* What every format counts, computed in one place (rpt_count): each
 * reported connection is exactly one of failed, inconclusive, healthy. */
struct rpt_counts {
	uint64_t connections;      /* TCP connections reported */
	uint64_t tls;              /* of which carried TLS */
	uint64_t complete;         /* TLS handshakes that completed */
	uint64_t failed;           /* a failure proven (a diagnosis of severity error): */
	uint64_t failed_tls;       /*   of a connection that carried TLS (during or after the handshake) */
	uint64_t failed_tcp;       /*   of one that never carried TLS (refused, no SYN-ACK, not TLS) */
	uint64_t inconclusive;     /* the capture cannot decide (cut short, bytes missing, nothing explains it) */
	uint64_t healthy;          /* neither */
	uint64_t by_stage[STAGE__COUNT];
	uint64_t untracked;        /* flows not reported (no TLS, not failed) */
};

/* Text output prints a diagnosis in full once per (rule, server); later
 * connections with the same one refer back to it. */
#define RPT_TEXT_GROUPS 256
struct rpt_group {
	char rule[64];
	struct hs_addr srv;
	uint64_t first_id;
	uint64_t count;
};

/* How much the text format says (the other formats ignore it). */
enum rpt_text_mode {
	RPT_TEXT_EACH = 0,         /* every reported connection in full, as it ends (-v, --all, live) */
	RPT_TEXT_SUMMARY,          /* at the end: what the Markdown report says, as text (the default offline) */
	RPT_TEXT_QUIET             /* the verdict line and the counts (-q) */
};

struct rpt {
	FILE *out;
	enum rpt_format fmt;
	enum rpt_text_mode text_mode;
	int color;
	int all;                   /* report every connection, not only TLS/failed */
	int lean;                  /* json, jsonl, ecs: healthy connections as a lean object (rpt_json_lean) */
	int compact;               /* json: no indentation (jsonl lines always are) */
	int no_frag_cache;         /* render every fragment anew (TLSWHY_FRAGMENT_CACHE=0, tests) */
	int no_fast_json;          /* every member by its own writer call, no stream (TLSWHY_FAST_JSON=0, tests) */
	int stream;                /* json, jsonl, ecs: out is unbuffered and the writer holds
				    * JW_STREAM_BUF bytes (jw_stream): a report read from files to
				    * a file or a pipe; live, each connection is flushed instead */
	char *streambuf;           /* owned; that buffer */
	struct jw jw;
	struct rpt_counts n;
	/* Set by main before rpt_begin(), all optional (NULL): */
	const struct rpt_evidence *ev;  /* -w FILE, once written (set before rpt_end()) */
	const struct rpt_probe *probe;  /* tlswhy probe's connections and verdict (set before rpt_end()) */
	struct rpt_ticket *tk;          /* owned; created by rpt_begin() for Markdown, HTML and the text summary */
	struct jw_cache *jwc;           /* owned; created by rpt_begin() for json and jsonl (jw_cached) */
	const char *outpath;            /* -o FILE, for the report's own header */
	uint16_t cid_seed;              /* --community-id-seed (0 by default) */
	const struct alb_result *alb;   /* --alb-log, once matched (set before rpt_end()); NULL none */
	struct rpt_group groups[RPT_TEXT_GROUPS];
	int ngroups;
	uint64_t ungrouped;             /* failures past RPT_TEXT_GROUPS */
};

void rpt_begin(struct rpt *r);
/* The writer for the next JSON Lines or ECS line (jw_line, or jw_init
 * with the fragment cache when the report does not stream). */
void rpt_jw_line(struct rpt *r);
/* 1 when the record belongs in the report (TLS, or a failure before TLS). */
int rpt_wanted(const struct rpt *r, const struct hs_record *rec);
/* Which verdicts this report prints evidence and workarounds of (enum
 * rule_evidence_mode, for rule_ctx.evidence): the summary reports only a
 * failure's, a lean machine report only a failed or inconclusive
 * connection's, the others every one. */
int rpt_evidence_mode(const struct rpt *r);
/* One connection, with the verdict rule_eval() gave it (NULL: none). */
void rpt_conn(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v);
void rpt_end(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
	     const struct flow_stats *fs, const char *filter);

/* Frees what rpt_begin() allocated (after rpt_end()). */
void rpt_free(struct rpt *r);

/* The JSON object of one record (without findings), for reuse; its
 * community_id is computed with cid_seed (--community-id-seed). */
void rpt_json_record(struct jw *w, const struct hs_record *rec, uint16_t cid_seed);
/* The lean object of a healthy connection (--detail lean, docs/json.md
 * "Lean connections"): its members, into the object the caller has open;
 * community_id with cid_seed. */
/* budget: the most bytes the lean fields may take (what is cut to fit:
 * report/json.c), 0 for no limit */
void rpt_json_lean(struct jw *w, const struct hs_record *rec, const struct rule_verdict *v, uint16_t cid_seed,
		   size_t budget);
#define RPT_LEAN_LINE 1024   /* a lean JSON Lines line, its newline included, is at most this long */
/* "healthy", "failed" or "inconclusive", as struct rpt_counts counts it. */
const char *rpt_outcome_name(const struct rule_verdict *v);
/* "client_identity": {name, description, match, source} from the
 * verdict, or null without a ClientHello; v may be NULL (match "unknown"). */
void rpt_json_identity(struct jw *w, const struct hs_record *rec, const struct rule_verdict *v);
/* What the JSON document and the JSON Lines summary hold after the
 * connections (inputs, filter, stats, summary, evidence), into the object
 * the caller has open. */
void rpt_json_tail(struct rpt *r, struct jw *w, const struct rpt_input *in, int nin, const struct rpt_run *run,
		   const struct flow_stats *fs, const char *filter);
/* The ALB access-log correlation (report/alb.c): its sentences, the same
 * in every format, one call of put each; and "alb_log": {...} as JSON. */
struct alb_result;
void rpt_alb_sentences(const struct alb_result *r, void (*put)(void *arg, const char *s), void *arg);
void rpt_alb_json(struct jw *w, const struct alb_result *r);
/* The tags of report/'s jw_cached() fragments (keyed by a pointer into the
 * rule set): report/verdict.c's are below 64; a client identity's members
 * (json.c) RPT_JWC_IDENTITY + how it matched. */
#define RPT_JWC_IDENTITY 64
/* The tags of report/'s jw_cached_key() fragments, one per kind. */
enum rpt_jwk {
	RPT_JWK_CH_TAIL = 1,   /* a ClientHello's members from its cipher suites on (json.c) */
	RPT_JWK_CHAIN_CERTS,   /* a Certificate message's "certificates" (json.c) */
	RPT_JWK_ECS_LEAF,      /* ECS tls.server's hash and leaf fields (ecs.c) */
	RPT_JWK_ECS_SUITES,    /* ECS tls.client.supported_ciphers (ecs.c) */
	RPT_JWK_FINGERPRINTS,  /* a record's "fingerprints" (json.c) */
	RPT_JWK_SH_TAIL,       /* a ServerHello's members from its cipher suite on (json.c) */
};
/* --format ecs (report/ecs.c): one connection (lean: its "tlswhy" object
 * is the lean one, rpt_json_lean without a budget), and the run's last line. */
void rpt_ecs_conn(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v, int lean);
void rpt_ecs_end(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
		 const struct flow_stats *fs, const char *filter);
/* Formats an address as "1.2.3.4" or "2001:db8::1". */
const char *rpt_ip(char *buf, size_t n, const struct hs_addr *a);
const char *rpt_endpoint(char *buf, size_t n, const struct hs_addr *a);
const char *rpt_dir_name(uint8_t dir);   /* "client" / "server" */
/* A version's or cipher suite's name ("TLS 1.2"), else "0x0a0a" in b. */
const char *rpt_version(char *b, size_t n, uint16_t v);
const char *rpt_suite(char *b, size_t n, uint16_t s);

/* The -w evidence file, said the same way in every format (report.c):
 * which frame numbers the report uses, and the spool cap's note. */
const char *rpt_ev_numbering(const struct rpt_evidence *ev);
const char *rpt_ev_spool_note(char *buf, size_t n, const struct rpt_evidence *ev);
/* ---- the first decrypted application data (report/appdata.c) ---- */
enum rpt_appdata_kind { APPD_NONE = 0, APPD_H2_PREFACE, APPD_H1_STATUS, APPD_H1_REQUEST, APPD_H2_FRAMES, APPD_OTHER };
struct rpt_appdata {
	enum rpt_appdata_kind kind;
	uint64_t frame;
	const uint8_t *bytes;      /* wire bytes (the record's), escape before printing */
	size_t len;
	size_t line_len;           /* HTTP/1.x: the request or status line, bytes[0..line_len) */
	unsigned status;           /* APPD_H1_STATUS */
	uint8_t h2_types[HS_DEC_FIRST / 9 + 1];  /* HTTP/2 frame types after the preface */
	size_t n_h2;
};
/* Direction d's first decrypted application data (d: DIR_C2S/DIR_S2C);
 * 0 when there is none (no key log, nothing decrypted). */
int rpt_appdata(const struct hs_record *rec, int d, struct rpt_appdata *a);
/* "http2_preface", "http1_status", "http1_request", "http2_frames", "other" */
const char *rpt_appdata_kind_name(enum rpt_appdata_kind k);
/* "SETTINGS"... (RFC 9113), NULL when unknown */
const char *rpt_h2_frame_name(uint8_t t);
/* What it is, in words from our tables only (no wire bytes): "HTTP status
 * 400", "HTTP/2 connection preface, frames SETTINGS, WINDOW_UPDATE". */
size_t rpt_appdata_prose(char *b, size_t cap, const struct rpt_appdata *a);

/* ---- the verdict (report/verdict.c; report/ only) ---- */
/* The client's identity as the verdict states it; NULL without a
 * ClientHello; "unknown" when there is no verdict. */
const struct rule_identity *rpt_identity(const struct hs_record *rec, const struct rule_verdict *v);
/* An evidence line as text into buf (n bytes, NUL-terminated), at most
 * EV_LINE - 1 bytes; returns its length. Wire strings are quoted and
 * esc_text()-escaped, or with `raw` copied as they are (for JSON, whose
 * writer escapes them; the line may then hold any byte). */
#define EV_LINE 1024
size_t rpt_evidence_line(char *buf, size_t n, const struct hs_record *rec, const struct rule_evidence *ev, int raw);
/* The diagnosis in full and the notes, as text. */
void rpt_verdict_text(FILE *o, const struct hs_record *rec, const struct rule_verdict *v, int color);
/* "findings": [...] and "notes": [...] into the object the caller has open. */
void rpt_verdict_json(struct jw *w, const struct hs_record *rec, const struct rule_verdict *v);

#endif
