/*
 * app.h - the run context: everything one run of tlswhy holds, in one
 * place, owned by app/main.c and passed down to the layers that need a
 * part of it. No other layer keeps process-wide state: the TLS caps travel
 * in the flow limits (dissect/flow.h), the certificate cache is handed to
 * the flow table, the inputs' shared read buffer and progress line to
 * capture/source.c.
 *
 *   options (struct app_opts)  what the command line asked for
 *   rules, certs               loaded or made once, read by every connection
 *   inputs, srcs, lv, run      capture/: the byte sources and the packet loop
 *   ev                         capture/: the evidence writer (-w)
 *   rpt, out, rq, hints        the report, its thread, the leaf hints the rules use
 */
#ifndef TLSWHY_APP_H
#define TLSWHY_APP_H

#include <stdint.h>
#include <stdio.h>

#include "capture/cap.h"
#include "capture/evidence.h"
#include "capture/outfile.h"
#include "capture/source.h"
#include "dissect/flow.h"
#include "dissect/x509.h"
#include "report/report.h"
#include "rules/alblog.h"

#define MAX_INPUTS 256
#define MAX_RULE_FILES 64
#define MAX_ALB_LOGS 256
#define HINTS 4096    /* servers remembered for the leaf-certificate hint */

struct app_opts {
	const char *inputs[MAX_INPUTS];   /* -r, in order */
	int nin;
	const char *rule_files[MAX_RULE_FILES];
	int nrules;
	const char *outpath;      /* -o */
	int append;               /* --append: open -o FILE for appending */
	const char *evpath;       /* -w */
	const char *user;         /* -Z */
	int fmt;                  /* -F; -1: from -o's extension, else text */
	int all;                  /* --all */
	int detail;               /* --detail: 0 the format's default, 1 lean, 2 full */
	int pretty;               /* --pretty */
	int verbose;              /* -v: text, each connection in full */
	int quiet;                /* -q: text, the verdict and the counts */
	int color;                /* --color: -1 auto */
	int status;               /* --status: -1 auto */
	int list_ifaces;          /* -D */
	enum cap_hash hash;       /* --input-hash */
	int64_t hs_timeout_us;    /* --handshake-timeout; -1 not given */
	struct flow_limits lim;   /* --max-*, --idle-timeout; the TLS caps inside */
	uint64_t max_spool;       /* --max-spool, bytes: the live -w spool */
	struct cap_live_opts lo;  /* -i and the live options */
	char *filter;             /* the BPF expression (owned), or NULL */
	uint16_t cid_seed;        /* --community-id-seed */
	const char *alb_logs[MAX_ALB_LOGS];   /* --alb-log, in order */
	int nalb;
	const char *inner_filter; /* --inner-filter: BPF on the decapsulated VXLAN/GENEVE packet, or NULL */
	struct keylog *keylog;    /* --keylog FILE...: the run's keys (owned), or NULL; lim.tls.keylog points at it */
};

/* A server's leaf certificate, remembered for the connections to it that
 * show none (struct rule_ctx.server_leaf_hint). */
struct hint {
	struct hs_addr srv;
	const struct x509_facts *leaf;
};

/* Offline, a record waits until SRV_WINDOW later records have finished
 * before the rules judge it, so what those taught about its server counts
 * too (dissect/servers.h); live, every record is judged at once, knowing
 * the connections before it. Memory: SRV_WINDOW finished records at most. */
#define SRV_WINDOW 1024

struct srv_table;

struct app {
	struct app_opts o;
	struct rule_set *rules;
	struct alb_log *alb;                 /* --alb-log entries, or NULL (rules/alblog.h) */
	struct srv_table *servers;           /* per-server knowledge (NULL: none) */
	struct hs_record *win[SRV_WINDOW];   /* records waiting for later connections, a ring */
	size_t win_head, win_n, win_cap;     /* win_cap 0: judge at once (live) */
	struct x509_cache *certs;            /* every connection's certificates */
	struct cap_src_shared src_shared;    /* the inputs' read buffer and progress line */
	int src_shared_ok;
	struct cap_read_opts read_opts;      /* how files are read (the tests' switches) */
	int one_report_thread;               /* no report thread (the tests' switch) */
	int judge_on_report;                 /* judge() (servers' table, window) on the report thread */
	double progress_every;               /* seconds between progress updates */
	struct cap_input inputs[MAX_INPUTS];
	struct cap_src *srcs[MAX_INPUTS];    /* one per file input; NULL live */
	int nin;
	struct cap_live *lv;                 /* live capture, or NULL */
	struct cap_run run;
	struct bpf_program *inner_prog;      /* --inner-filter compiled (owned), or NULL */
	struct cap_evidence *ev;             /* -w, or NULL */
	struct rpt rpt;
	struct rpt_input rpt_in[MAX_INPUTS];  /* what the report says of the inputs (report/run.h) */
	FILE *out;                           /* the report's stream */
	struct cap_out *out_file, *ev_file;  /* -o and -w, opened at start-up (capture/outfile.h) */
	int completed;                       /* the report was finished: its files may be put in place */
	struct rq *rq;                       /* offline: records go to the report thread (app/rq.h) */
	int live;                            /* flush after each connection */
	int failed;                          /* a failed handshake was diagnosed */
	int input_error;                     /* an input broke off: exit 2 after the report */
	int status_shown;                    /* a status line is on stderr, unterminated */
	int out_tty;                         /* the report goes to a terminal: clear the progress line first */
	unsigned n_dsb;                      /* pcapng Decryption Secrets Blocks met */
	struct hint hints[HINTS];
};

#endif
