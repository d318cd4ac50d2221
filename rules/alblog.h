/*
 * alblog.h - the load balancer's own evidence: an Application Load
 * Balancer's access log (--alb-log FILE, plain or gzip as AWS writes it to
 * S3) joined with the connections of the capture.
 *
 * Every 502 and 504 entry whose target:port is a server in the capture and
 * whose time falls in the capture's span is matched with at most one
 * failed connection to that target (one-to-one, nearest in time), so the
 * report can say "42 of the 45 502s to 10.0.3.7:443 match failed
 * handshakes (cause: ...); 3 match nothing", and, the other way round,
 * which failed connections to a logged target have no 502 or 504.
 *
 * Matching window. An entry's `time` is when the load balancer answered
 * the client (for a 502 from a failed target handshake: right after the
 * handshake failed) and `request_creation_time` when it received the
 * request; the connection to the target is opened between the two. A
 * connection matches when [its first packet, its last packet] overlaps
 * [request_creation_time - ALB_SKEW_US, time + ALB_SKEW_US] (without
 * request_creation_time: time minus the three processing times). The
 * tolerance covers the clock difference between the capture host and AWS
 * (both normally NTP-synchronised, Amazon Time Sync within milliseconds)
 * and the log's millisecond-or-better rounding.
 *
 * Limits: ALB_MAX_ENTRIES 502/504 entries kept, ALB_MAX_TARGETS targets,
 * ALB_MAX_FAILED failed connections remembered; past them entries and
 * connections are counted, not matched. A line longer than ALB_LINE_MAX is
 * malformed. Malformed lines are reported as `file:line: reason` (the
 * first ALB_MAX_COMPLAINTS per file, then a count) and skipped.
 *
 * Facts in: the log and each reported connection with its verdict (only
 * whether a failure was proven, and the diagnosis's rule id). Out: struct
 * alb_result, plain data report/ renders.
 */
#ifndef TLSWHY_ALBLOG_H
#define TLSWHY_ALBLOG_H

#include <stdint.h>
#include <stdio.h>

#include "dissect/record.h"

#define ALB_SKEW_US         (1LL * 1000000)
#define ALB_MAX_ENTRIES     (1u << 18)
#define ALB_MAX_TARGETS     4096
#define ALB_MAX_FAILED      (1u << 20)
#define ALB_LINE_MAX        65536
#define ALB_MAX_COMPLAINTS  20
#define ALB_CAUSES          4      /* causes, and error reasons, named per target */

struct rule_verdict;
struct alb_log;

struct alb_count {                 /* "cause x count" */
	char name[64];
	uint64_t n;
};

struct alb_target {
	struct hs_addr addr;
	uint64_t conns;                /* connections to it in the capture */
	uint64_t failed;               /* of which failed (a failure proven) */
	uint64_t entries_502, entries_504;   /* in the log, in the capture's span */
	uint64_t matched;              /* of those, matched with a failed connection */
	uint64_t unmatched;
	uint64_t failed_no_entry;      /* failed connections in the log's span with no entry */
	struct alb_count cause[ALB_CAUSES];      /* the matched connections' diagnoses */
	uint64_t cause_other;
	struct alb_count reason[ALB_CAUSES];     /* the unmatched entries' error_reason */
};

struct alb_result {
	int files;
	uint64_t lines, malformed;
	uint64_t entries;              /* well-formed entries */
	uint64_t e502, e504;           /* of which 502, 504 */
	uint64_t no_target;            /* 502/504 with target:port "-" */
	uint64_t target_not_seen;      /* 502/504 to a target with no connection in the capture */
	uint64_t outside_span;         /* 502/504 outside the capture's time span (+- skew) */
	uint64_t not_kept;             /* 502/504 past ALB_MAX_ENTRIES, or ALB_MAX_TARGETS */
	uint64_t failed_unlogged;      /* failed connections to servers the log never names */
	uint64_t failed_not_kept;      /* failed connections past ALB_MAX_FAILED */
	int64_t log_first_us, log_last_us;   /* the entries' time span (0 when none) */
	int64_t skew_us;
	size_t n;                      /* targets with a 502/504 in the capture's span, or a failure */
	struct alb_target *t;          /* sorted by entries, then failures */
};

struct alb_log *alb_new(void);
void alb_free(struct alb_log *a);
/* Reads one log file (plain or gzip). Malformed lines go to `err` as
 * file:line: reason. Returns 0, or -1 when the file cannot be opened or
 * read (the message is in err too); start-up only. */
int alb_load(struct alb_log *a, const char *path, FILE *err);
/* One reported connection, with its verdict (v may be NULL). NULL a: nothing. */
void alb_conn(struct alb_log *a, const struct hs_record *r, const struct rule_verdict *v);
/* Matches the entries with the connections, once, at the end of the run;
 * the capture's span is [cap_first_us, cap_last_us] (no packets: nothing
 * is in it). NULL a: NULL. The result lives until alb_free(). */
const struct alb_result *alb_finish(struct alb_log *a, int64_t cap_first_us, int64_t cap_last_us, int have_packets);
/* Parses one line (no newline) into the fields matching needs; for the
 * tests. Returns NULL when well-formed, else why not. */
const char *alb_parse_line_check(const char *line, size_t len);

#endif
