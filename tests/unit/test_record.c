/*
 * test_record.c - the facts record_finish() derives (dissect/record.c),
 * and that every consumer reads the one value:
 *  - the highest offered version: a ClientHello body written byte by byte
 *    with supported_versions [0x7f1c (TLS 1.3 draft 28), 0x0303] is TLS 1.3
 *    for the record, the rules (ch.max_version) and the JSON and text
 *    reports alike; GREASE never counts; without the extension, or with
 *    nothing usable in it, the legacy_version;
 *  - the alert that ended the handshake (hs_alert_ends_handshake): named
 *    constants that agree with the name tables;
 *  - a ClientHello / ServerHello kept at its real size (issue 19) holds
 *    the full one's fields and lists, right after its structure;
 *  - a direction's first plaintext bytes keep their frame and time with
 *    them, out of the record (issue 19): 0 before the first byte, set
 *    once there is room for them, carried when the directions swap;
 *  - the ladder keeps frames and times as 32-bit offsets from the
 *    record's first packet (issue 19) and turns wide, every value exact,
 *    when one does not fit: a frame 2^32 past the first, a time 2^31 us
 *    away, an earlier frame; growth past the first block, the clip at
 *    HS_MAX_EVENTS, a swap of directions and the ticket's ladder agree;
 *  - a direction's moments (SYN, FIN, RST, first payload, last packet)
 *    are 32-bit offsets from the record's first packet and kept whole
 *    (at_wide) when they do not fit: each limit, none, a swap, and the
 *    JSON report of them; the record's own (completion, non-TLS bytes,
 *    CertificateRequest) alike.
 *
 * The last line printed is "N passed, N failed"; exit status 1 on failure.
 */
#include "tests/unit/check.h"
#include "dissect/record.h"
#include "dissect/names.h"
#include "dissect/tls.h"
#include "report/report.h"
#include "report/ticket.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A ClientHello body (after the 4-byte handshake header): legacy_version
 * TLS 1.2, a zero random, no session id, two suites, null compression,
 * and one extension, supported_versions, whose two entries are patched in
 * at V1 and V2. */
enum { V1 = 50, V2 = 52 };
static const uint8_t ch_body[] = {
	0x03, 0x03,                                       /* legacy_version */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* random */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x00,                                             /* session id */
	0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f,               /* cipher suites */
	0x01, 0x00,                                       /* compression */
	0x00, 0x09,                                       /* extensions length */
	0x00, 0x2b, 0x00, 0x05, 0x04,                     /* supported_versions, 2 entries */
	0x7f, 0x1c, 0x03, 0x03,
};

static struct hs_record *record_with(uint16_t v1, uint16_t v2)
{
	uint8_t b[sizeof(ch_body)];
	struct hs_record *r = record_new(1);
	struct hs_client_hello *ch = record_new_client_hello();
	memcpy(b, ch_body, sizeof(b));
	b[V1] = (uint8_t)(v1 >> 8);
	b[V1 + 1] = (uint8_t)v1;
	b[V2] = (uint8_t)(v2 >> 8);
	b[V2 + 1] = (uint8_t)v2;
	CHECK(tls_parse_client_hello(b, sizeof(b), ch) == 0);
	r->ch = ch;
	r->client_hellos = 1;
	r->is_tls = 1;
	r->cli.family = r->srv.family = 4;
	r->srv.port = 443;
	r->first_ts_us = ch->ts_us = 1700000000000000;
	record_at(r, 0, HS_AT_LAST, 1, r->first_ts_us);
	r->d[DIR_C2S].tls = 1;
	r->stage = STAGE_CH_UNANSWERED;
	record_derive(r);
	return r;
}

/* The report of r in format fmt, into buf. */
static void report(const struct hs_record *r, enum rpt_format fmt, char *buf, size_t n)
{
	struct rpt p;
	size_t got;
	memset(&p, 0, sizeof(p));
	p.out = tmpfile();
	p.fmt = fmt;
	p.all = 1;
	if (!p.out) {
		buf[0] = 0;
		return;
	}
	rpt_begin(&p);
	rpt_conn(&p, r, NULL);
	rewind(p.out);
	got = fread(buf, 1, n - 1, p.out);
	buf[got] = 0;
	fclose(p.out);
	rpt_free(&p);
}

static int rule_sees(const struct hs_record *r, const char *cond)
{
	char text[1024], err[256];
	struct rule_set *rs = rule_set_new();
	struct rule_ctx ctx;
	struct rule_verdict *f;
	int hit;
	snprintf(text, sizeof(text), "kb t/x\n  title T\n  root_cause R\nend\n"
		 "rule t\n  title T\n  kb t/x\n  when %s\nend\n", cond);
	if (!rs || rule_load_buffer(rs, "t.rules", text, strlen(text), err, sizeof(err)) < 0) {
		printf("FAIL: test rule does not load: %s\n", rs ? err : "out of memory");
		check_failed++;
		rule_set_free(rs);
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	f = rule_eval(rs, r, &ctx);
	hit = f && f->diag;
	rule_verdict_free(f);
	rule_set_free(rs);
	return hit;
}

static void test_max_offered(void)
{
	static char buf[1 << 16];
	struct hs_record *r = record_with(0x7f1c, 0x0303);
	CHECK(r->ch->n_versions == 2 && hs_ch_versions(r->ch)[0] == 0x7f1c);
	CHECK(r->ch->max_offered == 0x0304);
	CHECK(hs_max_offered(r->ch) == 0x0304);
	CHECK(rule_sees(r, "ch.max_version is TLS 1.3") == 1);
	CHECK(rule_sees(r, "ch.max_version < TLS 1.3") == 0);
	report(r, RPT_JSONL, buf, sizeof(buf));
	CHECK(strstr(buf, "\"max_offered_version\":772,\"max_offered_version_name\":\"TLS 1.3\"") != NULL);
	report(r, RPT_TEXT, buf, sizeof(buf));
	CHECK(strstr(buf, "up to TLS 1.3,") != NULL);
	record_free(r);

	r = record_with(0x0a0a, 0x0303);              /* GREASE ignored */
	CHECK(r->ch->max_offered == 0x0303);
	record_free(r);
	r = record_with(0x0304, 0x7f17);              /* the final version beside a draft */
	CHECK(r->ch->max_offered == 0x0304);
	record_free(r);
	r = record_with(0x1a1a, 0x2a2a);              /* nothing but GREASE: legacy_version */
	CHECK(r->ch->max_offered == 0x0303);
	r->ch->has_supported_versions = 0;            /* no extension: legacy_version */
	r->ch->legacy_version = 0x0301;
	record_derive(r);
	CHECK(r->ch->max_offered == 0x0301);
	record_free(r);
}

static void test_ending_alert(void)
{
	struct hs_record *r = record_new(1);
	struct hs_alert *a = &record_alerts(r)[0];
	CHECK(!strcmp(names_alert(ALERT_CLOSE_NOTIFY), "close_notify"));
	CHECK(!strcmp(names_alert(ALERT_USER_CANCELED), "user_canceled"));
	CHECK(!strcmp(names_alert(ALERT_NO_RENEGOTIATION), "no_renegotiation"));
	CHECK(!strcmp(names_alert_level(ALERT_LEVEL_WARNING), "warning"));
	CHECK(!strcmp(names_alert_level(ALERT_LEVEL_FATAL), "fatal"));
	a->level = ALERT_LEVEL_WARNING;
	a->description = ALERT_USER_CANCELED;
	CHECK(!hs_alert_ends_handshake(a));
	a->description = 112;                         /* unrecognized_name, as a warning */
	CHECK(hs_alert_ends_handshake(a));
	a->description = ALERT_CLOSE_NOTIFY;
	CHECK(!hs_alert_ends_handshake(a));
	a->encrypted = 1;
	CHECK(hs_alert_ends_handshake(a));
	/* the record keeps the first that ends it */
	r->n_alerts = r->total_alerts = 2;
	a->encrypted = 0;
	r->alerts[1].level = ALERT_LEVEL_FATAL;
	r->alerts[1].description = 40;
	record_derive(r);
	CHECK(r->ending_alert == 1);
	r->n_alerts = 1;
	record_derive(r);
	CHECK(r->ending_alert == 255);
	record_free(r);
}

/* A kept hello (issue 19) holds what the full one held, lists included,
 * in one allocation sized to them: every list filled to its capacity
 * survives, an empty hello is its structure alone, and the record frees
 * both kinds. */
static void test_keep_hello(void)
{
	struct hs_client_hello *f = record_new_client_hello(), *k;
	struct hs_server_hello *sf = record_new_server_hello(), *sk;
	struct hs_record *r = record_new(2);
	uint16_t i;
	if (!f || !sf || !r)
		abort();
	CHECK(!f->compact);
	f->legacy_version = 0x0303;
	f->random[31] = 7;
	for (i = 0; i < HS_MAX_SUITES; i++)
		hs_ch_suites(f)[f->n_suites++] = (uint16_t)(i + 1);
	for (i = 0; i < HS_MAX_EXTS; i++) {
		hs_ch_ext_type(f)[f->n_exts] = (uint16_t)(0x100 + i);
		hs_ch_ext_len(f)[f->n_exts++] = i;
	}
	f->has_sni = 1;
	memset(hs_ch_sni(f), 'a', HS_SNI_BYTES);
	hs_ch_sni(f)[HS_SNI_BYTES - 1] = 'z';
	f->sni_len = HS_SNI_BYTES;
	hs_ch_alpn_off(f)[f->n_alpn++] = 0;
	hs_ch_alpn(f)[0] = 2;
	memcpy(hs_ch_alpn(f) + 1, "h2", 2);
	f->alpn_bytes = 3;
	hs_ch_psk_modes(f)[f->n_psk_modes++] = 1;
	hs_ch_key_share(f)[f->n_key_share] = 0x1d;
	hs_ch_key_share_len(f)[f->n_key_share++] = 32;
	hs_ch_sigalgs_cert(f)[f->n_sigalgs_cert++] = 0x0804;
	k = record_keep_client_hello(f);
	CHECK(k && k != f && k->compact);
	CHECK(k->legacy_version == 0x0303 && k->random[31] == 7);
	CHECK(k->n_suites == HS_MAX_SUITES && hs_ch_suites(k)[0] == 1 &&
	      hs_ch_suites(k)[HS_MAX_SUITES - 1] == HS_MAX_SUITES);
	CHECK(k->n_exts == HS_MAX_EXTS && hs_ch_ext_type(k)[HS_MAX_EXTS - 1] == 0x100 + HS_MAX_EXTS - 1 &&
	      hs_ch_ext_len(k)[HS_MAX_EXTS - 1] == HS_MAX_EXTS - 1);
	CHECK(k->sni_len == HS_SNI_BYTES && hs_ch_sni(k)[0] == 'a' && hs_ch_sni(k)[HS_SNI_BYTES - 1] == 'z');
	CHECK(k->n_alpn == 1 && hs_ch_alpn(k)[hs_ch_alpn_off(k)[0]] == 2 && !memcmp(hs_ch_alpn(k) + 1, "h2", 2));
	CHECK(hs_ch_psk_modes(k)[0] == 1 && hs_ch_key_share(k)[0] == 0x1d && hs_ch_key_share_len(k)[0] == 32);
	CHECK(hs_ch_sigalgs_cert(k)[0] == 0x0804 && k->n_groups == 0);
	/* the lists follow the structure, in the one allocation */
	CHECK(k->lists == (const uint8_t *)(k + 1) && (const uint8_t *)hs_ch_suites(k) == k->lists);
	CHECK(hs_ch_alpn(k) + k->alpn_bytes == (const uint8_t *)(k + 1) + 2 * (HS_MAX_SUITES + 2 * HS_MAX_EXTS + 1 + 1 + 2) +
	      1 + HS_SNI_BYTES + 3);
	CHECK(record_keep_client_hello(k) == k);   /* kept once */
	r->ch = k;
	/* an empty ServerHello: its structure, nothing after */
	sf->cipher = 0x1301;
	sk = record_keep_server_hello(sf);
	CHECK(sk && sk->compact && sk->cipher == 0x1301 && sk->alpn == (uint8_t *)(sk + 1));
	r->sh = sk;
	CHECK(record_rare(r) != NULL);
	r->rare->hrr = record_new_server_hello();   /* a full one, owned as is */
	record_free(r);
}

static void test_pre(void)
{
	struct hs_record *r = record_new(3);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(!r->rare && hs_rare(r)->d[0].pre != NULL && hs_rare(r)->d[0].pre_len == 0);
	record_pre_at(r, 0, 7, 70);          /* no bytes yet: nowhere to keep it */
	CHECK(record_pre_frame(r, 0) == 0 && record_pre_ts(r, 0) == 0);
	CHECK(record_pre(r, 1) != NULL);
	CHECK(r->rare && hs_rare(r)->d[0].pre_len == 0);   /* made with it, empty */
	memcpy(r->rare->d[1].pre, "SSH-2.0-x", 9);
	r->rare->d[1].pre_len = 9;
	record_pre_at(r, 1, 12, 1200);
	CHECK(record_pre_frame(r, 1) == 12 && record_pre_ts(r, 1) == 1200);
	CHECK(record_pre_frame(r, 0) == 0 && record_pre_ts(r, 0) == 0);
	record_swap_dirs(r);
	CHECK(record_pre_frame(r, 0) == 12 && record_pre_ts(r, 0) == 1200 && hs_rare(r)->d[0].pre_len == 9);
	CHECK(memcmp(hs_rare(r)->d[0].pre, "SSH-2.0-x", 9) == 0 && hs_rare(r)->d[1].pre_len == 0);
	CHECK(record_pre_frame(r, 1) == 0);
	record_free(r);
}

/* n events of record r, packed, then (if wide_at < n) one at wide_at
 * whose frame or time does not fit: every value read back exact */
static void ladder_case(int which)
{
	struct hs_record *r = record_new(1);
	static struct tk_ladder l;
	const uint64_t f0 = 1000;
	const int64_t t0 = 1700000000000000LL;
	uint64_t fr[HS_MAX_EVENTS];
	int64_t ts[HS_MAX_EVENTS];
	unsigned i, n = 40, wide_at = 20;
	int ok = 1;
	r->first_frame = f0;
	r->first_ts_us = t0;
	for (i = 0; i < n; i++) {
		fr[i] = f0 + i;
		ts[i] = t0 + (int64_t)i * 1000;
		if (i == 1)
			ts[i] = t0 - 2000000;                    /* earlier: a negative offset */
		if (which == 0 && i == wide_at - 1)
			fr[i] = f0 + UINT32_MAX;                 /* the largest that fits */
		if (which == 0 && i == wide_at)
			fr[i] = f0 + (1ull << 32);               /* frame offset past 32 bits */
		if (which == 1 && i == wide_at - 1)
			ts[i] = t0 + INT32_MAX;
		if (which == 1 && i == wide_at)
			ts[i] = t0 + INT32_MAX + 1LL;            /* time offset past int32 */
		if (which == 2 && i == wide_at - 1)
			ts[i] = t0 + INT32_MIN;
		if (which == 2 && i == wide_at)
			ts[i] = t0 + INT32_MIN - 1LL;
		if (which == 3 && i == wide_at)
			fr[i] = f0 - 1;                          /* earlier than the first */
		CHECK(record_event(r, (uint8_t)(i & 1), i == 3 ? EV_ALERT : EV_HANDSHAKE, fr[i], ts[i],
				   (uint8_t)i, 100 + i) == 1);
		if (i == 3)
			record_event_aux(r, 9);
		CHECK(r->ev_wide == (i >= wide_at));
	}
	CHECK(r->n_events == n && r->cap_events == 64);
	for (i = 0; i < n; i++) {
		struct hs_event e = hs_ev(r, i);
		ok &= e.frame == fr[i] && e.ts_us == ts[i] && e.dir == (i & 1) && e.hs_type == i &&
		      e.len == 100 + i && e.aux == (i == 3 ? 9 : 0) &&
		      e.kind == (i == 3 ? EV_ALERT : EV_HANDSHAKE);
	}
	CHECK(ok);
	record_swap_dirs(r);
	CHECK(hs_ev(r, 0).dir == 1 && hs_ev(r, 1).dir == 0 && hs_ev(r, wide_at).dir == 1);
	record_swap_dirs(r);
	/* a reader (the ticket's ladder) sees the same frames and times */
	tk_ladder_build(r, &l);
	CHECK(l.n == n && l.s[wide_at].frame == fr[wide_at] && l.s[wide_at].off_us == ts[wide_at] - t0 &&
	      l.s[wide_at - 1].frame == fr[wide_at - 1] && l.s[1].off_us == -2000000);
	for (i = n; i < HS_MAX_EVENTS + 2; i++)
		record_event(r, 0, EV_GAP, f0 + i, t0, 0, 1);
	CHECK(r->n_events == HS_MAX_EVENTS && r->total_events == HS_MAX_EVENTS + 2 &&
	      (r->anomalies & AN_EVENTS_CLIPPED));
	record_free(r);
}

static void test_ladder(void)
{
	struct hs_record *r = record_new(1);
	unsigned i;
	int which;
	/* packed: 16 bytes an event */
	CHECK(sizeof(struct hs_ev_packed) == 16);
	for (i = 0; i < 17; i++)
		CHECK(record_event(r, 0, EV_HANDSHAKE, 5 + i, 77 + i, 1, 2) == 1);
	CHECK(!r->ev_wide && r->cap_events == 32 && hs_ev(r, 16).frame == 21 && hs_ev(r, 16).ts_us == 93);
	CHECK(hs_ev(r, 0).frame == 5 && hs_ev(r, 0).ts_us == 77);
	record_free(r);
	/* wide from the second event, while in the first (pooled) block */
	r = record_new(2);
	CHECK(record_event(r, 0, EV_SYN, 1, 0, 0, 0) == 1);
	CHECK(record_event(r, 1, EV_SYNACK, UINT64_MAX, INT64_MAX, 0, 0) == 1);
	CHECK(r->ev_wide && r->cap_events == 8 && hs_ev(r, 1).frame == UINT64_MAX && hs_ev(r, 1).ts_us == INT64_MAX);
	CHECK(record_event(r, 0, EV_FIN, 3, INT64_MIN, 0, 0) == 1 && hs_ev(r, 2).ts_us == INT64_MIN);
	CHECK(hs_ev(r, 0).frame == 1 && hs_ev(r, 0).ts_us == 0);
	record_free(r);
	for (which = 0; which < 4; which++)
		ladder_case(which);
}

static void test_moments(void)
{
	struct hs_record *r = record_new(1);
	const int64_t t0 = 1700000000000000LL;
	char buf[65536], want[160];
	CHECK(sizeof(struct hs_at) == 8);
	r->first_frame = 10;
	r->first_ts_us = t0;
	/* none reads 0 and 0 */
	CHECK(hs_at_frame(r, 0, HS_AT_FIN) == 0 && hs_at_ts(r, 0, HS_AT_FIN) == 0);
	/* the largest that fit */
	CHECK(record_at(r, 0, HS_AT_SYN, 10, t0 + INT32_MIN) == 1);
	CHECK(record_at(r, 0, HS_AT_FIN, 10 + (uint64_t)UINT32_MAX - 2, t0 + INT32_MAX) == 1);
	CHECK(!r->rare);
	CHECK(hs_at_frame(r, 0, HS_AT_SYN) == 10 && hs_at_ts(r, 0, HS_AT_SYN) == t0 + INT32_MIN);
	CHECK(hs_at_frame(r, 0, HS_AT_FIN) == 10 + (uint64_t)UINT32_MAX - 2 && hs_at_ts(r, 0, HS_AT_FIN) == t0 + INT32_MAX);
	/* past them: kept whole */
	CHECK(record_at(r, 1, HS_AT_SYN, 10 + (uint64_t)UINT32_MAX - 1, t0) == 1 && r->rare && r->rare->at_wide);
	CHECK(record_at(r, 1, HS_AT_FIN, 11, t0 + INT32_MAX + 1LL) == 1);
	CHECK(record_at(r, 1, HS_AT_RST, 12, t0 + INT32_MIN - 1LL) == 1);
	CHECK(record_at(r, 1, HS_AT_FIRST_PAYLOAD, 9, t0) == 1);            /* before the first frame */
	CHECK(record_at(r, 1, HS_AT_LAST, UINT64_MAX, INT64_MIN) == 1);
	CHECK(record_at(r, 0, HS_AT_RST, 13, 0) == 1);                      /* a time of 0 */
	CHECK(hs_at_frame(r, 1, HS_AT_SYN) == 10 + (uint64_t)UINT32_MAX - 1 && hs_at_ts(r, 1, HS_AT_SYN) == t0);
	CHECK(hs_at_frame(r, 1, HS_AT_FIN) == 11 && hs_at_ts(r, 1, HS_AT_FIN) == t0 + INT32_MAX + 1LL);
	CHECK(hs_at_frame(r, 1, HS_AT_RST) == 12 && hs_at_ts(r, 1, HS_AT_RST) == t0 + INT32_MIN - 1LL);
	CHECK(hs_at_frame(r, 1, HS_AT_FIRST_PAYLOAD) == 9 && hs_at_ts(r, 1, HS_AT_FIRST_PAYLOAD) == t0);
	CHECK(hs_at_frame(r, 1, HS_AT_LAST) == UINT64_MAX && hs_at_ts(r, 1, HS_AT_LAST) == INT64_MIN);
	CHECK(hs_at_frame(r, 0, HS_AT_RST) == 13 && hs_at_ts(r, 0, HS_AT_RST) == 0);
	/* a wide moment set again small is small again; cleared is none */
	CHECK(record_at(r, 1, HS_AT_FIN, 11, t0 + 5) == 1 && hs_at_ts(r, 1, HS_AT_FIN) == t0 + 5);
	CHECK(record_at(r, 1, HS_AT_FIN, 0, 0) == 1 && hs_at_frame(r, 1, HS_AT_FIN) == 0);
	CHECK(record_at(r, 1, HS_AT_FIN, 11, t0 + INT32_MAX + 1LL) == 1);
	/* the record's own: small and whole */
	CHECK(record_rat(r, HS_RAT_COMPLETE, 20, t0 + 7) == 1 && r->rat[HS_RAT_COMPLETE].frame != HS_AT_WIDE);
	CHECK(record_rat(r, HS_RAT_NONTLS, 21, t0 - (1LL << 40)) == 1 && hs_rat_get(r, HS_RAT_NONTLS)->frame == HS_AT_WIDE);
	CHECK(hs_rat_frame(r, HS_RAT_COMPLETE) == 20 && hs_rat_ts(r, HS_RAT_COMPLETE) == t0 + 7);
	CHECK(hs_rat_frame(r, HS_RAT_NONTLS) == 21 && hs_rat_ts(r, HS_RAT_NONTLS) == t0 - (1LL << 40));
	CHECK(hs_rat_frame(r, HS_RAT_CERT_REQUEST) == 0 && hs_rat_ts(r, HS_RAT_CERT_REQUEST) == 0);
	CHECK(record_rat(r, HS_RAT_SERVER_CERTS, 30, t0 + 9) == 1 && record_rat(r, HS_RAT_CLIENT_CERTS, 31, 5) == 1);
	CHECK(hs_chain_frame(r, &r->server_chain) == 30 && hs_chain_ts(r, &r->server_chain) == t0 + 9);
	CHECK(hs_chain_frame(r, &hs_rare(r)->client_chain) == 31 && hs_chain_ts(r, &hs_rare(r)->client_chain) == 5);
	/* directions swapped: the wide ones follow theirs, the record's stay */
	record_swap_dirs(r);
	CHECK(hs_rat_frame(r, HS_RAT_NONTLS) == 21 && hs_rat_ts(r, HS_RAT_NONTLS) == t0 - (1LL << 40));
	CHECK(hs_at_frame(r, 0, HS_AT_RST) == 12 && hs_at_ts(r, 0, HS_AT_RST) == t0 + INT32_MIN - 1LL);
	CHECK(hs_at_frame(r, 1, HS_AT_RST) == 13 && hs_at_ts(r, 1, HS_AT_RST) == 0);
	CHECK(hs_at_frame(r, 1, HS_AT_FIN) == 10 + (uint64_t)UINT32_MAX - 2);
	record_swap_dirs(r);
	/* the report reads them whole (a last packet at a time it can print:
	 * report/jw.c's time of INT64_MIN overflows, a matter of its own) */
	CHECK(record_at(r, 1, HS_AT_LAST, 50, t0 + 100) == 1);
	r->d[1].packets = 1;
	report(r, RPT_JSON, buf, sizeof(buf));
	snprintf(want, sizeof(want), "\"fin_frame\": %llu,", (unsigned long long)(10 + (uint64_t)UINT32_MAX - 2));
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "\"fin_frame\": 11,\n          \"fin_time\": \"2023-11-14T22:49:07.483648Z\"") != NULL);
	CHECK(strstr(buf, "\"rst_frame\": 13,\n          \"rst_time\": \"1970-01-01T00:00:00.000000Z\"") != NULL);
	record_free(r);
}

/* A lean JSON Lines line stays within 1 KiB whatever the wire sent: a
 * ClientHello with a 255-byte SNI and sixteen 31-byte ALPN names, all
 * control bytes (six bytes each once escaped, about 6 KB in all), gives a
 * line cut to fit and marked; the same connection in a --detail lean JSON
 * document is whole. */
static void test_lean_bound(void)
{
	static uint8_t b[1024];
	static char buf[1 << 16];
	struct hs_record *r = record_new(1);
	struct hs_client_hello *ch = record_new_client_hello();
	struct rpt p;
	size_t n = 0, i, j, got;
	char *nl;
	b[n++] = 3, b[n++] = 3;
	memset(b + n, 0, 33), n += 33;                      /* random, empty session id */
	b[n++] = 0, b[n++] = 2, b[n++] = 0x13, b[n++] = 1;  /* one suite */
	b[n++] = 1, b[n++] = 0;                             /* null compression */
	b[n++] = (uint8_t)(782 >> 8), b[n++] = (uint8_t)782;
	b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)(260 >> 8), b[n++] = (uint8_t)260;   /* server_name */
	b[n++] = (uint8_t)(258 >> 8), b[n++] = (uint8_t)258, b[n++] = 0, b[n++] = 0, b[n++] = 255;
	memset(b + n, 1, 255), n += 255;
	b[n++] = 0, b[n++] = 16, b[n++] = (uint8_t)(514 >> 8), b[n++] = (uint8_t)514;  /* ALPN */
	b[n++] = (uint8_t)(512 >> 8), b[n++] = (uint8_t)512;
	for (i = 0; i < 16; i++) {
		b[n++] = 31;
		for (j = 0; j < 31; j++)
			b[n++] = (uint8_t)(1 + (i + j) % 30);
	}
	CHECK(n <= sizeof(b) && tls_parse_client_hello(b, n, ch) == 0);
	CHECK(ch->has_sni && ch->sni_len == 255 && ch->n_alpn == 16);
	r->ch = ch;
	r->client_hellos = 1;
	r->is_tls = 1;
	r->cli.family = r->srv.family = 4;
	r->srv.port = 443;
	r->first_ts_us = ch->ts_us = 1700000000000000;
	record_at(r, 0, HS_AT_LAST, 1, r->first_ts_us);
	r->d[DIR_C2S].tls = 1;
	r->stage = STAGE_CH_UNANSWERED;
	record_derive(r);
	for (i = 0; i < 2; i++) {
		memset(&p, 0, sizeof(p));
		p.out = tmpfile();
		p.fmt = i ? RPT_JSON : RPT_JSONL;
		p.lean = 1;
		if (!p.out)
			break;
		rpt_begin(&p);
		rpt_conn(&p, r, NULL);
		rewind(p.out);
		got = fread(buf, 1, sizeof(buf) - 1, p.out);
		buf[got] = 0;
		fclose(p.out);
		rpt_free(&p);
		nl = strchr(buf, '\n');
		if (!i) {
			CHECKF(nl && (size_t)(nl - buf) + 1 <= 1024 && strstr(buf, "\"detail\":\"lean\""),
			       "a hostile lean line fits 1 KiB (%zu bytes)", nl ? (size_t)(nl - buf) + 1 : got);
			CHECK(nl && strstr(buf, "\"cut\":true}") == nl - 11);
			CHECK(strstr(buf, "\"sni\":\"\\u0001") != NULL);
		} else {
			CHECKF(strstr(buf, "\"lean\"") && !strstr(buf, "\"cut\"") && got > 4000,
			       "the document's lean object is whole (%zu bytes)", got);
		}
	}
	record_free(r);
}

int main(void)
{
	test_lean_bound();
	test_pre();
	test_max_offered();
	test_ending_alert();
	test_keep_hello();
	test_ladder();
	test_moments();
	record_pools_free();
	return check_done();
}
