/*
 * alb.c - the ALB access-log correlation (rules/alblog.h) in words and in
 * JSON. The sentences are the same in every format: text prints them after
 * the summary line, Markdown and HTML under their own heading, JSON (and
 * the JSON Lines and ECS summary lines) as "alb_log".sentences next to the
 * numbers they come from.
 */
#include "report/report.h"
#include "rules/alblog.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *codes(const struct alb_target *t)
{
	return t->entries_504 == 0 ? "502s" : t->entries_502 == 0 ? "504s" : "502s and 504s";
}

static size_t names(char *b, size_t n, const struct alb_count *c, uint64_t other)
{
	size_t k = 0;
	int i;
	b[0] = 0;
	for (i = 0; i < ALB_CAUSES && c[i].n && k < n; i++)
		k += (size_t)snprintf(b + k, n - k, "%s%s x%" PRIu64, i ? ", " : "", c[i].name, c[i].n);
	if (other && k < n)
		k += (size_t)snprintf(b + k, n - k, ", other causes x%" PRIu64, other);
	return k;
}

void rpt_alb_sentences(const struct alb_result *r, void (*put)(void *arg, const char *s), void *arg)
{
	char s[1024], ep[80], c[512];
	size_t i;
	snprintf(s, sizeof(s), "ALB access log: %d file%s, %" PRIu64 " entries (%" PRIu64 " malformed line%s skipped), %"
		 PRIu64 " 502s and %" PRIu64 " 504s; matching window [request_creation_time - %.1f s, time + %.1f s].",
		 r->files, r->files == 1 ? "" : "s", r->entries, r->malformed, r->malformed == 1 ? "" : "s", r->e502,
		 r->e504, (double)r->skew_us / 1e6, (double)r->skew_us / 1e6);
	put(arg, s);
	for (i = 0; i < r->n; i++) {
		const struct alb_target *t = &r->t[i];
		uint64_t n = t->entries_502 + t->entries_504;
		rpt_endpoint(ep, sizeof(ep), &t->addr);
		if (n) {
			names(c, sizeof(c), t->cause, t->cause_other);
			if (t->matched == n)
				snprintf(s, sizeof(s), "All %" PRIu64 " %s to %s in the log match failed handshakes in the capture (cause: %s).",
					 n, codes(t), ep, c);
			else if (t->matched)
				snprintf(s, sizeof(s), "%" PRIu64 " of the %" PRIu64 " %s to %s in the log match failed handshakes in the capture (cause: %s); %"
					 PRIu64 " match nothing - the capture may have missed them (interface, filter, snaplen).",
					 t->matched, n, codes(t), ep, c, t->unmatched);
			else
				snprintf(s, sizeof(s), "None of the %" PRIu64 " %s to %s in the log matches a failed handshake in the capture - the capture may have missed them (interface, filter, snaplen), or the failure is not in the handshake.",
					 n, codes(t), ep);
			put(arg, s);
			if (t->unmatched) {
				names(c, sizeof(c), t->reason, 0);
				snprintf(s, sizeof(s), "Unmatched %s to %s by error_reason: %s.", codes(t), ep, c);
				put(arg, s);
			}
		}
		if (t->failed_no_entry) {
			snprintf(s, sizeof(s), "%" PRIu64 " failed handshake%s to %s in the log's time span ha%s no 502 or 504 in the log (a retry that succeeded, a health check, or a log file not given).",
				 t->failed_no_entry, t->failed_no_entry == 1 ? "" : "s", ep, t->failed_no_entry == 1 ? "s" : "ve");
			put(arg, s);
		}
	}
	if (r->target_not_seen) {
		snprintf(s, sizeof(s), "%" PRIu64 " 502s/504s name targets with no connection in the capture (another target, or a capture taken elsewhere).",
			 r->target_not_seen);
		put(arg, s);
	}
	if (r->outside_span) {
		snprintf(s, sizeof(s), "%" PRIu64 " 502s/504s to targets in the capture fall outside its time span (+-%.1f s).",
			 r->outside_span, (double)r->skew_us / 1e6);
		put(arg, s);
	}
	if (r->no_target) {
		snprintf(s, sizeof(s), "%" PRIu64 " 502s/504s have no target (target:port -): the load balancer never reached one.",
			 r->no_target);
		put(arg, s);
	}
	if (r->failed_unlogged) {
		snprintf(s, sizeof(s), "%" PRIu64 " failed connection%s in the capture %s to servers the log never names as a target.",
			 r->failed_unlogged, r->failed_unlogged == 1 ? "" : "s", r->failed_unlogged == 1 ? "is" : "are");
		put(arg, s);
	}
	if (r->not_kept || r->failed_not_kept) {
		snprintf(s, sizeof(s), "Caps hit: %" PRIu64 " 502s/504s and %" PRIu64 " failed connections not matched.",
			 r->not_kept, r->failed_not_kept);
		put(arg, s);
	}
}

static void put_json(void *arg, const char *s)
{
	jw_str(arg, s);
}

static void counts(struct jw *w, const char *key, const struct alb_count *c, uint64_t other)
{
	int i;
	jw_obj_open(w, key);
	for (i = 0; i < ALB_CAUSES && c[i].n; i++)
		jw_key_uint(w, c[i].name, c[i].n);
	if (other)
		jw_key_uint(w, "other", other);
	jw_obj_close(w);
}

void rpt_alb_json(struct jw *w, const struct alb_result *r)
{
	size_t i;
	char ip[64];
	jw_obj_open(w, "alb_log");
	jw_key_int(w, "files", r->files);
	jw_key_uint(w, "lines", r->lines);
	jw_key_uint(w, "malformed_lines", r->malformed);
	jw_key_uint(w, "entries", r->entries);
	jw_key_uint(w, "entries_502", r->e502);
	jw_key_uint(w, "entries_504", r->e504);
	if (r->entries) {
		jw_key_time_us(w, "first_time", r->log_first_us);
		jw_key_time_us(w, "last_time", r->log_last_us);
	} else {
		jw_key_null(w, "first_time");
		jw_key_null(w, "last_time");
	}
	jw_key_int(w, "skew_us", r->skew_us);
	jw_arr_open(w, "targets");
	for (i = 0; i < r->n; i++) {
		const struct alb_target *t = &r->t[i];
		jw_obj_open(w, NULL);
		jw_key_str(w, "ip", rpt_ip(ip, sizeof(ip), &t->addr));
		jw_key_uint(w, "port", t->addr.port);
		jw_key_uint(w, "connections", t->conns);
		jw_key_uint(w, "failed_connections", t->failed);
		jw_key_uint(w, "entries_502", t->entries_502);
		jw_key_uint(w, "entries_504", t->entries_504);
		jw_key_uint(w, "matched", t->matched);
		jw_key_uint(w, "unmatched", t->unmatched);
		jw_key_uint(w, "failed_without_entry", t->failed_no_entry);
		counts(w, "causes", t->cause, t->cause_other);
		counts(w, "unmatched_error_reasons", t->reason, 0);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key_uint(w, "target_not_in_capture", r->target_not_seen);
	jw_key_uint(w, "outside_capture_span", r->outside_span);
	jw_key_uint(w, "no_target", r->no_target);
	jw_key_uint(w, "failed_to_unlogged_servers", r->failed_unlogged);
	jw_key_uint(w, "entries_not_kept", r->not_kept);
	jw_key_uint(w, "failed_not_kept", r->failed_not_kept);
	jw_arr_open(w, "sentences");
	rpt_alb_sentences(r, put_json, w);
	jw_arr_close(w);
	jw_obj_close(w);
}
