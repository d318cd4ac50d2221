/*
 * fuzz_alblog.c - libFuzzer target: the ALB access-log reader and the
 * matching (rules/alblog.c).
 *
 * Input: the bytes of one log file (plain, or gzip when they begin with
 * its magic), read through alb_load() from a memfd as --alb-log reads a
 * file. Then connections to the two targets the seeds name (10.0.3.7:443
 * and 127.0.0.1:44347), failed and healthy, spread over 2026-11-24
 * 13:25:00-13:26:00 UTC, and alb_finish() over that span.
 *
 * Checks: no memory error, no leak; entries + malformed lines <= lines;
 * per target, matched + unmatched == its 502s + 504s and matched <= its
 * failed connections; the sentences render.
 */
#define _GNU_SOURCE
#include "fuzz/fuzz.h"
#include "report/report.h"
#include "rules/alblog.h"
#include "rules/rules.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define T0_US 1795526700000000LL   /* 2026-11-24T13:25:00Z */

static void sink(void *arg, const char *s)
{
	(void)arg;
	(void)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alb_log *a;
	const struct alb_result *r;
	struct rule_finding f;
	struct rule_verdict v;
	struct hs_record rec;
	char path[64];
	size_t i, off = 0;
	int fd = memfd_create("alblog", 0);
	if (fd < 0)
		return 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	a = alb_new();
	if (!a) {
		close(fd);
		return 0;
	}
	if (alb_load(a, path, NULL) == 0) {
		memset(&f, 0, sizeof(f));
		f.rule = "fuzz-cause";
		f.title = "fuzz";
		memset(&v, 0, sizeof(v));
		v.failed = 1;
		v.outcome = RULE_OUTCOME_DIAGNOSED;
		v.diag = &f;
		for (i = 0; i < 64; i++) {
			memset(&rec, 0, sizeof(rec));
			rec.srv.family = 4;
			if (i & 1) {
				static const uint8_t t1[4] = { 10, 0, 3, 7 };
				memcpy(rec.srv.addr, t1, 4);
				rec.srv.port = 443;
			} else {
				static const uint8_t t2[4] = { 127, 0, 0, 1 };
				memcpy(rec.srv.addr, t2, 4);
				rec.srv.port = 44347;
			}
			rec.first_ts_us = T0_US + (int64_t)i * 900000;
			record_at(&rec, 0, HS_AT_LAST, 1, rec.first_ts_us + (int64_t)(i % 7) * 3000);
			alb_conn(a, &rec, i % 3 ? &v : NULL);
		}
		r = alb_finish(a, T0_US, T0_US + 60000000, 1);
		FUZZ_CHECK(r != NULL);
		FUZZ_CHECK(r->entries + r->malformed <= r->lines);
		for (i = 0; i < r->n; i++) {
			const struct alb_target *t = &r->t[i];
			FUZZ_CHECK(t->matched + t->unmatched == t->entries_502 + t->entries_504);
			FUZZ_CHECK(t->matched <= t->failed);
		}
		rpt_alb_sentences(r, sink, NULL);
	}
	alb_free(a);
	close(fd);
	return 0;
}
