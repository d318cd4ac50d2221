/*
 * test_rules.c - the rules engine: parser, every loader error, specificity
 * and its tie-break, set operations, the certificate guard, client
 * identity, and the built-in rules on hand-built handshake records (for
 * the causes no recorded capture shows yet: a 10 s silence, a post-quantum
 * key share, a keep-alive race, a lossy capture, an Ed25519 target).
 *
 * Run from the top of the tree (it reads tests/rules/ and docs/rules.md).
 * The last line printed is "N passed, N failed"; exit status 1 on failure.
 */
#include "rules/rules.h"
#include "tests/unit/check.h"
#include "rules/rule_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/record.h"
#include "dissect/x509.h"
#include "report/jw.h"
#include "report/report.h"

/* The verdict's findings by index: 0 the diagnosis, then "also matched". */
static const char *finding_id(const struct rule_verdict *v, size_t i)
{
	if (!v || !v->diag)
		return NULL;
	if (i == 0)
		return v->diag->rule;
	return i - 1 < v->n_also ? v->also[i - 1] : NULL;
}

static size_t findings_count(const struct rule_verdict *v)
{
	return v && v->diag ? 1 : 0;
}

static size_t notes_count(const struct rule_verdict *v)
{
	return v ? v->n_note : 0;
}

static const char *note_id(const struct rule_verdict *v, size_t i)
{
	return v && i < v->n_note ? v->note[i].rule : NULL;
}

/* ---- building records by hand ------------------------------------------- */

static const uint16_t elb_2016_08[] = { 0xc02b, 0xc02f, 0xc023, 0xc027, 0xc009, 0xc013, 0xc02c, 0xc030,
					0xc024, 0xc028, 0xc014, 0xc00a, 0x009c, 0x003c, 0x002f, 0x009d,
					0x003d, 0x0035 };

static struct hs_record *rec_tcp(void)
{
	struct hs_record *r = record_new(1);
	r->role_by = ROLE_SYN;
	r->first_ts_us = 1700000000000000;
	r->first_frame = 1;
	record_at(r, 0, HS_AT_SYN, 1, r->first_ts_us);
	r->d[0].packets = 3;
	record_at(r, 1, HS_AT_SYN, 2, r->first_ts_us + 100);
	r->d[1].packets = 2;
	record_at(r, 1, HS_AT_LAST, 5, r->first_ts_us + 200);   /* the record's last packet */
	return r;
}

/* A ClientHello as an AWS ALB on ELBSecurityPolicy-2016-08 sends it
 * (GREASE and the renegotiation SCSV added to check they are ignored). */
static struct hs_client_hello *add_ch(struct hs_record *r, int alb)
{
	struct hs_client_hello *ch = record_new_client_hello();
	size_t i;
	ch->frame = 4;
	ch->ts_us = r->first_ts_us + 300;
	ch->legacy_version = 0x0303;
	ch->msg_len = 170;
	if (alb) {
		hs_ch_suites(ch)[ch->n_suites++] = 0x0a0a;
		for (i = 0; i < sizeof(elb_2016_08) / 2; i++)
			hs_ch_suites(ch)[ch->n_suites++] = elb_2016_08[i];
		hs_ch_suites(ch)[ch->n_suites++] = 0x00ff;
	} else {
		hs_ch_suites(ch)[ch->n_suites++] = 0x1301;
		hs_ch_suites(ch)[ch->n_suites++] = 0xc02f;
		ch->has_sni = 1;
		memcpy(hs_ch_sni(ch), "target.example", 14);
		ch->sni_len = 14;
		ch->has_supported_versions = 1;
		hs_ch_versions(ch)[ch->n_versions++] = 0x3a3a;
		hs_ch_versions(ch)[ch->n_versions++] = 0x0304;
		hs_ch_versions(ch)[ch->n_versions++] = 0x0303;
	}
	ch->total_suites = ch->n_suites;
	hs_ch_groups(ch)[ch->n_groups++] = 0x001d;
	hs_ch_groups(ch)[ch->n_groups++] = 0x0017;
	hs_ch_sigalgs(ch)[ch->n_sigalgs++] = 0x0403;
	hs_ch_sigalgs(ch)[ch->n_sigalgs++] = 0x0804;
	hs_ch_sigalgs(ch)[ch->n_sigalgs++] = 0x0401;
	r->ch = ch;
	r->client_hellos = 1;
	r->is_tls = 1;
	r->d[0].payload_bytes = 200;
	r->d[0].tls = 1;
	record_event(r, DIR_C2S, EV_HANDSHAKE, 4, ch->ts_us, 1, 170);
	return ch;
}

static void add_alert(struct hs_record *r, int dir, int desc, uint64_t frame)
{
	struct hs_alert *a = &record_alerts(r)[r->n_alerts++];
	r->total_alerts++;
	a->frame = frame;
	a->ts_us = r->first_ts_us + 400;
	a->dir = (uint8_t)dir;
	a->level = 2;
	a->description = (uint8_t)desc;
	a->after_hs_type = dir == DIR_S2C ? 1 : 14;
	a->after_kind = EV_HANDSHAKE;
	if (dir == DIR_S2C)
		r->d[1].payload_bytes += 7;
	r->stage = STAGE_ALERT;
}

static void add_server_hello(struct hs_record *r, uint16_t version, uint16_t suite)
{
	struct hs_server_hello *sh = record_new_server_hello();
	sh->frame = 6;
	sh->ts_us = r->first_ts_us + 350;
	sh->version = version;
	sh->cipher = suite;
	r->sh = sh;
	r->d[1].payload_bytes += 2000;
}

static struct x509_facts leaf_facts;

static void add_cert(struct hs_record *r, int key, int bits, int expired, int self_signed)
{
	memset(&leaf_facts, 0, sizeof(leaf_facts));
	leaf_facts.key_type = (uint8_t)key;
	leaf_facts.key_bits = bits;
	leaf_facts.self_issued = (uint8_t)self_signed;
	leaf_facts.not_after = expired ? 1600000000 : 1900000000;
	snprintf(leaf_facts.subject, sizeof(leaf_facts.subject), "CN=target.example");
	snprintf(leaf_facts.issuer, sizeof(leaf_facts.issuer), "CN=Test CA");
	r->server_chain.present = 1;
	record_rat(r, HS_RAT_SERVER_CERTS, 8, 0);
	r->server_chain.n = r->server_chain.total = 1;
	if (!record_chain_certs(&r->server_chain, 1))
		abort();
	r->server_chain.c[0].x = &leaf_facts;
	r->server_chain.c[0].expired = (uint8_t)expired;
	r->server_chain.c[0].issued_by_next = 2;
	r->server_chain.c[0].self_signed = (uint8_t)self_signed;
}

static struct rule_set *builtin(void)
{
	char err[512];
	struct rule_set *rs = rule_set_new();
	if (rule_load_builtin(rs, err, sizeof(err)) < 0) {
		CHECKF(0, "built-in rules do not load: %s", err);
	}
	return rs;
}

static const char *diag(const struct rule_set *rs, const struct hs_record *r, int64_t end_us,
			const struct x509_facts *hint)
{
	static char id[128];
	struct rule_ctx ctx;
	struct rule_verdict *f;
	memset(&ctx, 0, sizeof(ctx));
	ctx.capture_end_us = end_us ? end_us : hs_last_ts(r);
	ctx.server_leaf_hint = hint;
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	snprintf(id, sizeof(id), "%s", finding_id(f, 0) ? finding_id(f, 0) : "(none)");
	rule_verdict_free(f);
	return id;
}

static int has_note(const struct rule_set *rs, const struct hs_record *r, const char *note)
{
	struct rule_ctx ctx;
	struct rule_verdict *f;
	size_t i;
	int found = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.capture_end_us = hs_last_ts(r);
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	for (i = 0; i < notes_count(f); i++)
		if (!strcmp(note_id(f, i), note))
			found = 1;
	rule_verdict_free(f);
	return found;
}

/* ---- 1. the parser ------------------------------------------------------ */

static const char mini_kb[] = "kb t/x\n  title T\n  root_cause R\n  workaround w1 50% W1\n"
			      "  workaround w2 60% W2\nend\n";

/* Loads the mini kb plus one rule holding `conds`; returns 1 when it fires on r. */
static int fires(const char *conds, const struct hs_record *r)
{
	char text[4096], err[512];
	struct rule_set *rs = builtin();
	struct rule_ctx ctx;
	struct rule_verdict *f;
	size_t i;
	int hit;
	for (i = 0; i < rs->n_rule; i++)   /* only the test rule may fire */
		rs->rule[i].disabled = 1;
	snprintf(text, sizeof(text), "list pq of group\n  values 11EC 11ED\nend\n%s"
		 "rule t\n  title T\n  kb t/x\n%s\nend\n", mini_kb, conds);
	if (rule_load_buffer(rs, "t.rules", text, strlen(text), err, sizeof(err)) < 0) {
		CHECKF(0, "test rule does not load: %s", err);
		rule_set_free(rs);
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.capture_end_us = hs_last_ts(r);
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	hit = findings_count(f) == 1;
	rule_verdict_free(f);
	rule_set_free(rs);
	return hit;
}

static void test_parser(void)
{
	char err[512];
	struct rule_set *rs = rule_set_new();
	size_t kb, lists, n;
	static const char good[] =
		"# comment\n"
		"   # indented comment\n"
		"\n"
		"list a of suite\n  values C02B, 0xc02f TLS_AES_128_GCM_SHA256\n  values [009C]\nend\n"
		"list b of suite\n  values @a 0035\nend\n"
		"kb k/1\n  title T\n  root_cause line one\n  | line two\n"
		"  workaround w 10% W\n  cmd nginx a;\n  | b;\n  deadend 5% D | why\n  disputed no | https://x.example\n"
		"  version ALB | active | - | -\n  ref https://a.example title\n  see k/2\nend\n"
		"rule r1\n  title R\n  kb k/1\n  when ch.suites subset-of @b\n  unless complete is true\n"
		"  evidence {ch.frame} and {alert.description}\nend\n"
		"disable r1\n";
	CHECK(rule_load_buffer(rs, "good.rules", good, sizeof(good) - 1, err, sizeof(err)) == 0);
	n = rule_set_count(rs, &kb, &lists);
	CHECK(n == 1 && kb == 1 && lists == 2);
	CHECK(rs->list[1]->n == 5);          /* @a (4 values) + 0035 */
	CHECK(rs->list[0]->v[2] == 0x1301);
	CHECK_STR(rs->kb[0].root_cause, "line one\nline two");
	CHECK_STR(rs->kb[0].wa[0].cmd[0].text, "a;\nb;");
	CHECK(rs->kb[0].de[0].n_disp == 1);
	CHECK(rs->rule[0].disabled == 1);
	CHECK(rs->rule[0].n_cond == 2 && rs->rule[0].cond[1].negate == 1);
	CHECK(rs->rule[0].n_evid == 1 && rs->rule[0].evid[0].n == 3);
	/* a failing file leaves the set as it was */
	CHECK(rule_load_buffer(rs, "bad.rules", "rule x\n  title X\n", 17, err, sizeof(err)) < 0);
	CHECK(rule_set_count(rs, NULL, NULL) == 1);
	CHECK_STR(err, "bad.rules:1: rule 'x' is not closed (missing 'end')");
	rule_set_free(rs);

	/* a file that does not exist */
	rs = rule_set_new();
	CHECK(rule_load_file(rs, "tests/rules/no-such-file.rules", err, sizeof(err)) < 0);
	CHECK_STR(err, "tests/rules/no-such-file.rules:0: cannot open: No such file or directory");
	/* the good example in tests/rules/ */
	CHECK(rule_load_builtin(rs, err, sizeof(err)) == 0);
	CHECK(rule_load_file(rs, "tests/rules/good.rules", err, sizeof(err)) == 0);
	rule_set_free(rs);
}

/* ---- 2. every error message ---------------------------------------------- */

static void test_errors(void)
{
	FILE *f = fopen("tests/TESTLIST", "r");
	char line[1024], err[512];
	int n = 0;
	if (!f) {
		CHECKF(0, "tests/TESTLIST missing (run from the top of the tree)");
		return;
	}
	/* the "rule-error" cases: rule-error <TAB> file <TAB> expected error line */
	while (fgets(line, sizeof(line), f)) {
		static const char kind[] = "rule-error\t";
		char *file = line + sizeof(kind) - 1, *tab, *nl;
		struct rule_set *rs;
		if (strncmp(line, kind, sizeof(kind) - 1) != 0 || !(tab = strchr(file, '\t')))
			continue;
		*tab = 0;
		nl = strchr(tab + 1, '\n');
		if (nl)
			*nl = 0;
		rs = builtin();
		err[0] = 0;
		if (rule_load_file(rs, file, err, sizeof(err)) == 0)
			snprintf(err, sizeof(err), "(loaded without error)");
		CHECK_STRF(err, tab + 1, "%s", file);
		rule_set_free(rs);
		n++;
	}
	fclose(f);
	CHECK(n >= 40);
}

/* ---- 3. specificity ------------------------------------------------------ */

static void test_specificity(void)
{
	char err[512];
	struct rule_set *rs = rule_set_new();
	struct hs_record *r = rec_tcp();
	struct rule_verdict *f;
	struct rule_ctx ctx;
	static const char text[] =
		"kb t/x\n  title T\n  root_cause R\nend\n"
		"rule generic\n  title G\n  kb t/x\n  when tls is true\nend\n"
		"rule specific\n  title S\n  kb t/x\n  when tls is true\n  when ch.present is true\nend\n"
		"rule tie-low\n  title L\n  kb t/x\n  when tls is true\n  when ch.sni.present is false\nend\n"
		"rule tie-high\n  title H\n  kb t/x\n  priority 5\n  when tls is true\n  when client.syn is true\nend\n"
		"rule tie-order\n  title O\n  kb t/x\n  priority 5\n  when tls is true\n  when server.synack is true\nend\n"
		"rule a-note\n  title N\n  kb t/x\n  severity note\n  when tls is true\nend\n";
	add_ch(r, 1);
	CHECK(rule_load_buffer(rs, "spec.rules", text, sizeof(text) - 1, err, sizeof(err)) == 0);
	memset(&ctx, 0, sizeof(ctx));
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	/* 2 conditions beat 1; among the 2-condition rules priority 5 beats 0;
	 * between the two priority-5 rules the one loaded first wins */
	CHECK_STR(finding_id(f, 0), "tie-high");
	CHECK_STR(finding_id(f, 1), "tie-order");
	CHECK_STR(finding_id(f, 2), "specific");
	CHECK_STR(finding_id(f, 3), "tie-low");
	CHECK_STR(finding_id(f, 4), "generic");
	CHECK(notes_count(f) == 1);
	CHECK(rule_verdict_failed(f) == 1);
	rule_verdict_free(f);
	rule_set_free(rs);
	record_free(r);
	CHECK(rule_verdict_failed(NULL) == 0);
}

/* ---- 4b. the screen agrees with the conditions ---------------------------- */

/* A record in one of several states for the screen's facts: 0 no
 * ClientHello, 1 a ClientHello without SNI, 2 with SNI; 3 and 4 a server
 * alert (handshake_failure, then bad_certificate) and a close by the
 * server, 5 a close by the client with application data both ways. */
static struct hs_record *screen_rec(int state)
{
	struct hs_record *r = rec_tcp();
	if (state > 0)
		add_ch(r, 0)->has_sni = (uint8_t)(state != 1);
	if (state == 3 || state == 4) {
		add_alert(r, DIR_S2C, state == 3 ? 40 : 42, 7);
		r->closed_by = DIR_S2C;
		r->closed_with = EV_RST;
	}
	if (state == 5) {
		r->closed_by = DIR_C2S;
		r->closed_with = EV_FIN;
		r->d[0].appdata_records = 3;
		r->d[1].appdata_records = 1;
	}
	return r;
}

/* rule_eval() checks a rule's conditions on a number first (its screen,
 * rk_screen_pass()) and evaluates the others only when they all hold; for
 * every form such a condition takes (true/false, a code, a count; is,
 * is not, <, >=, in; when and unless) and every state of its fact (absent
 * or not), the screen must say what evaluating the condition says; a
 * condition on a list or a string stays out of it. */
static void test_screen(void)
{
	static const char *const forms[] = {
		"when ch.sni.present is true", "when ch.sni.present is false", "unless ch.sni.present is true",
		"unless ch.sni.present is false", "when ch.sni.present is not true", "unless ch.sni.present is not false",
		"when ch.sni.present is not false", "unless ch.sni.present is not true",
		"when closed.by is server", "unless closed.by is client", "when closed.by is not server",
		"when alert.description is handshake_failure", "unless alert.description is handshake_failure",
		"when alert.description in @client-cert-missing-alerts",
		"unless alert.description in @client-cert-missing-alerts",
		"when alert.description not in @client-cert-missing-alerts",
		"when client.appdata >= 1", "unless client.appdata >= 1", "when client.appdata < 3",
		"when server.appdata > 0", "unless ch.max_version < TLS1.3", "when ch.max_version is TLS1.3",
		"when client.appdata <= 2", "unless server.appdata > 1", "when client.appdata is not 3",
		"unless client.appdata < 0", "when server.appdata >= 0",
		"unless alert.description not in @client-cert-missing-alerts",
	};
	size_t i;
	int state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char text[512], err[512];
		struct rule_set *rs = builtin();   /* its lists, for `in @...` */
		size_t k = rs->n_rule;
		int n = snprintf(text, sizeof(text), "kb t/x\n  title T\n  root_cause R\nend\n"
						     "rule screen-r\n  title R\n  kb t/x\n  %s\n"
						     "  when ch.suites intersects [1301]\nend\n", forms[i]);
		if (rule_load_buffer(rs, "screen.rules", text, (size_t)n, err, sizeof(err)) != 0)
			fprintf(stderr, "screen: '%s': %s\n", forms[i], err);
		CHECK(rs->n_rule == k + 1);
		if (rs->n_rule != k + 1) {
			rule_set_free(rs);
			continue;
		}
		/* the number condition is screened, the list one is not */
		CHECK(rs->rule[k].n_screen == 1 && rs->rule[k].cond[0].screened && !rs->rule[k].cond[1].screened);
		for (state = 0; state < 6; state++) {
			struct hs_record *r = screen_rec(state);
			struct rule_ctx ctx;
			struct rk_eval e;
			memset(&ctx, 0, sizeof(ctx));
			record_derive(r);
			rk_eval_init(&e, rs, r, &ctx);
			if (rk_screen_pass(&e, &rs->rule[k]) != rk_cond_eval(&e, &rs->rule[k].cond[0]))
				fprintf(stderr, "screen: '%s' in state %d\n", forms[i], state);
			CHECK(rk_screen_pass(&e, &rs->rule[k]) == rk_cond_eval(&e, &rs->rule[k].cond[0]));
			/* read again: from what the first reading kept */
			CHECK(rk_screen_pass(&e, &rs->rule[k]) == rk_cond_eval(&e, &rs->rule[k].cond[0]));
			/* compiled (rk_set_stages()) and read from the condition alike */
			CHECK(rs->scr != NULL);
			{
				struct rk_scr *scr = rs->scr;
				int compiled = rk_screen_pass(&e, &rs->rule[k]), plain;
				rs->scr = NULL;
				plain = rk_screen_pass(&e, &rs->rule[k]);
				rs->scr = scr;
				CHECK(compiled == plain);
			}
			record_free(r);
		}
		rule_set_free(rs);
	}
}

/* ---- 4. conditions and set operations ------------------------------------ */

static void test_conditions(void)
{
	struct hs_record *r = rec_tcp();
	struct hs_client_hello *ch = add_ch(r, 1);

	/* lists against named and inline lists; GREASE and SCSV are not offers */
	CHECK(fires("  when ch.suites equals @ELBSecurityPolicy-2016-08", r) == 1);
	CHECK(fires("  when ch.suites same-set @ELBSecurityPolicy-TLS13-1-0-2021-06", r) == 0);
	CHECK(fires("  when ch.suites subset-of @ELBSecurityPolicy-TLS13-1-0-2021-06", r) == 1);
	CHECK(fires("  when ch.suites count = 18", r) == 1);
	CHECK(fires("  when ch.suites has C02F", r) == 1);
	CHECK(fires("  when ch.suites lacks 1301", r) == 1);
	CHECK(fires("  when ch.suites intersects [1301, C02F]", r) == 1);
	CHECK(fires("  when ch.suites disjoint-from [1301 1302]", r) == 1);
	CHECK(fires("  when ch.suites subset-of suites.rsa_auth", r) == 0);
	CHECK(fires("  when ch.suites intersects suites.ecdsa_auth", r) == 1);
	CHECK(fires("  when ch.suites disjoint-from suites.tls13", r) == 1);
	CHECK(fires("  when ch.suites superset-of [C02B 0035]", r) == 1);
	CHECK(fires("  when ch.suites superset-of [C02B 1301]", r) == 0);
	CHECK(fires("  when ch.suites same-set [C02B]", r) == 0);
	CHECK(fires("  when ch.key_shares is empty", r) == 1);
	CHECK(fires("  when ch.key_shares intersects @pq", r) == 0);
	CHECK(fires("  when ch.groups equals [x25519, secp256r1]", r) == 1);
	CHECK(fires("  when ch.groups equals [secp256r1, x25519]", r) == 0);
	CHECK(fires("  when ch.groups same-set [secp256r1, x25519]", r) == 1);
	CHECK(fires("  when ch.sigalgs has ecdsa_secp256r1_sha256", r) == 1);
	/* scalars */
	CHECK(fires("  when ch.max_version is TLS1.2", r) == 1);
	CHECK(fires("  when ch.max_version < TLS1.3", r) == 1);
	CHECK(fires("  when ch.min_version >= TLS1.0", r) == 0);   /* absent without supported_versions */
	CHECK(fires("  unless ch.min_version >= TLS1.0", r) == 1);
	CHECK(fires("  when stage in alert, closed_by_peer", r) == 0);
	CHECK(fires("  when stage not in alert, closed_by_peer", r) == 1);
	CHECK(fires("  when ch.length > 100\n  when ch.length <= 170", r) == 1);
	CHECK(fires("  when client.aws_lb is true", r) == 1);
	CHECK(fires("  when client.identity is ELBSecurityPolicy-2016-08", r) == 1);
	CHECK(fires("  when client.identity in ELBSecurityPolicy-TLS13-1-0-2021-06", r) == 0);
	CHECK(fires("  when time.connect is 100us", r) == 1);
	CHECK(fires("  when time.connect < 1ms", r) == 1);
	/* strings and bytes */
	CHECK(fires("  when ch.sni.present is false", r) == 1);
	CHECK(fires("  when ch.sni is \"x\"", r) == 0);
	ch->has_sni = 1;
	memcpy(hs_ch_sni(ch), "api.example.com", 15);
	ch->sni_len = 15;
	CHECK(fires("  when ch.sni ends-with \".example.com\"", r) == 1);
	CHECK(fires("  when ch.sni starts-with \"api.\"\n  when ch.sni contains \"example\"", r) == 1);
	CHECK(fires("  when ch.sni is not \"api.example.com\"", r) == 0);
	r->nontls_dir = DIR_S2C;
	memcpy(record_nontls(r), "HTTP/1.1 400 Bad Request\r\n", 26);
	r->rare->nontls_len = 26;
	CHECK(fires("  when nontls.bytes starts-with \"HTTP/1.\"", r) == 1);
	CHECK(fires("  when nontls.bytes contains \"\\r\\n\"", r) == 1);
	CHECK(fires("  when nontls.bytes starts-with \"\\x16\\x03\"", r) == 0);
	/* alerts */
	add_alert(r, DIR_S2C, 40, 6);
	add_alert(r, DIR_C2S, 48, 7);
	CHECK(fires("  when alert.sender is server\n  when alert.description is handshake_failure", r) == 1);
	CHECK(fires("  when alert.after is client_hello", r) == 1);
	CHECK(fires("  when alerts.client has unknown_ca\n  when alerts.server lacks unknown_ca", r) == 1);
	CHECK(fires("  when alerts.client intersects [42 45 48]", r) == 1);
	CHECK(fires("  when alert.encrypted is true", r) == 0);
	/* certificate sets */
	CHECK(fires("  when ch.suites disjoint-from cert.key_suites", r) == 0);   /* no certificate known */
	add_cert(r, XK_EC, 256, 0, 0);
	CHECK(fires("  when cert.key_type is ec\n  when ch.suites intersects cert.key_suites", r) == 1);
	ch->n_suites = 0;
	hs_ch_suites(ch)[ch->n_suites++] = 0xc02f;
	hs_ch_suites(ch)[ch->n_suites++] = 0x009c;
	CHECK(fires("  when ch.suites disjoint-from cert.key_suites", r) == 1);
	CHECK(fires("  when ch.sigalgs intersects cert.key_sigalgs", r) == 1);
	CHECK(fires("  when cert.key_sigalgs has ed25519", r) == 0);
	record_free(r);
}

/* ---- 5. the built-in rules on hand-built records ------------------------- */

static void test_builtin(void)
{
	struct rule_set *rs = builtin();
	struct hs_record *r;
	struct hs_client_hello *ch;
	struct x509_facts ed;
	size_t i;

	/* every rule's kb resolved, every kb has a title and root cause */
	for (i = 0; i < rs->n_rule; i++)
		CHECK(rs->rule[i].kb != NULL);
	CHECK(rule_set_count(rs, NULL, NULL) >= 30);

	/* the imported entry, fully encoded, with its disputes */
	for (i = 0; i < rs->n_kb; i++)
		if (!strcmp(rs->kb[i].id, "api/http-502-bad-gateway-aws-alb-ssl-handshake"))
			break;
	CHECK(i < rs->n_kb);
	if (i < rs->n_kb) {
		const struct rule_kb *k = &rs->kb[i];
		CHECK(k->fix_rate == 82 && k->n_wa == 2 && k->n_de == 2 && k->n_ver == 5);
		CHECK(k->wa[0].rate == 90 && k->wa[1].rate == 80);
		CHECK(k->de[0].rate == 90 && k->de[1].rate == 70);
		CHECK(k->n_rc_disp == 1 && k->wa[0].n_disp == 1 && k->de[1].n_disp == 1);
		CHECK_STR(k->verification, "ai_generated");
		CHECK_STR(k->category, "network_error");
		CHECK_STR(k->error_code, "502");
		CHECK(strstr(k->wa[0].title, "custom trust store") != NULL);
	}

	/* ALB offer, target alert 40 before ServerHello, expired certificate
	 * known from another connection: a cipher finding, never the cert */
	r = rec_tcp();
	add_ch(r, 1);
	add_alert(r, DIR_S2C, 40, 6);
	CHECK_STR(diag(rs, r, 0, NULL), "alb-target-no-shared-cipher");
	CHECK(has_note(rs, r, "note-aws-lb-client"));
	CHECK(has_note(rs, r, "note-no-sni-from-alb"));
	add_cert(r, XK_RSA, 2048, 1, 1);
	r->server_chain.present = 0;   /* not in this connection: only the hint knows it */
	CHECK_STR(diag(rs, r, 0, &leaf_facts), "alb-target-no-shared-cipher");
	record_free(r);

	/* complete handshake with an expired, self-signed certificate: no
	 * finding, two notes that say why it does not matter */
	r = rec_tcp();
	add_ch(r, 1);
	add_server_hello(r, 0x0303, 0xc02f);
	add_cert(r, XK_RSA, 2048, 1, 1);
	r->complete = 1;
	r->stage = STAGE_COMPLETE;
	CHECK_STR(diag(rs, r, 0, NULL), "(none)");
	CHECK(has_note(rs, r, "note-expired-cert-not-validated"));
	CHECK(has_note(rs, r, "note-self-signed-cert-not-validated"));
	CHECK(!has_note(rs, r, "note-obsolete-version"));
	r->sh->version = 0x0301;
	CHECK(has_note(rs, r, "note-obsolete-version"));
	/* the same certificate rejected by a validating client: now it is the cause */
	r->complete = 0;
	add_alert(r, DIR_C2S, 45, 9);
	CHECK_STR(diag(rs, r, 0, NULL), "client-rejects-expired-certificate");
	CHECK(!has_note(rs, r, "note-expired-cert-not-validated"));
	record_free(r);

	/* the certificate guard holds for user rules too */
	{
		char err[512];
		static const char text[] = "kb u/cert\n  title C\n  root_cause expired\n  blames cert-validity\nend\n"
					   "rule u-cert\n  title C\n  kb u/cert\n  priority 100\n"
					   "  when cert.expired is true\n  when stage is alert\n"
					   "  when alert.sender is server\n  when sh.present is true\n"
					   "  when cert.present is true\n  when tls is true\n  when complete is false\nend\n";
		CHECK(rule_load_buffer(rs, "guard.rules", text, sizeof(text) - 1, err, sizeof(err)) == 0);
		r = rec_tcp();
		add_ch(r, 1);
		add_server_hello(r, 0x0303, 0xc02f);
		add_cert(r, XK_RSA, 2048, 1, 0);
		add_alert(r, DIR_S2C, 80, 10);
		CHECK(strcmp(diag(rs, r, 0, NULL), "u-cert") != 0);
		add_alert(r, DIR_C2S, 42, 11);
		r->alerts[1].ts_us = r->alerts[0].ts_us + 1;
		CHECK_STR(diag(rs, r, 0, NULL), "u-cert");
		record_free(r);
	}

	/* silent target: short (client gave up at 3 s) vs past the ALB's 10 s timer */
	r = rec_tcp();
	add_ch(r, 1);
	r->stage = STAGE_CH_UNANSWERED;
	record_at(r, 0, HS_AT_FIN, 9, r->ch->ts_us + 3000000);
	r->closed_by = DIR_C2S;
	r->closed_with = EV_FIN;
	CHECK_STR(diag(rs, r, 0, NULL), "target-silent-after-client-hello");
	record_at(r, 0, HS_AT_FIN, 9, r->ch->ts_us + 10000500);
	CHECK_STR(diag(rs, r, 0, NULL), "target-silent-past-alb-timeout");
	/* the same with a lossy capture: not enough evidence */
	r->anomalies |= AN_GAP;
	CHECK(record_rare(r) != NULL);
	r->rare->d[1].gaps = 1;
	CHECK_STR(diag(rs, r, 0, NULL), "capture-incomplete");
	record_free(r);

	/* a post-quantum key share, then a reset from the target */
	r = rec_tcp();
	ch = add_ch(r, 0);
	ch->has_key_share = 1;
	hs_ch_key_share(ch)[ch->n_key_share++] = 0x11ec;
	hs_ch_key_share(ch)[ch->n_key_share++] = 0x001d;
	ch->msg_len = 1500;
	ch->segments = 2;
	record_at(r, 1, HS_AT_RST, 6, ch->ts_us + 100);
	r->closed_by = DIR_S2C;
	r->closed_with = EV_RST;
	r->closed_after_kind = EV_HANDSHAKE;
	r->closed_after_hs_type = 1;
	r->stage = STAGE_CLOSED_BY_PEER;
	CHECK_STR(diag(rs, r, 0, NULL), "pq-key-share-then-reset");
	ch->n_key_share = 1;
	hs_ch_key_share(ch)[0] = 0x001d;
	CHECK_STR(diag(rs, r, 0, NULL), "multi-segment-client-hello-then-reset");
	ch->segments = 1;
	/* nothing specific left: one of the look-alikes of a close after the
	 * ClientHello (the generic explanation is the last candidate) */
	CHECK_STR(diag(rs, r, 0, NULL), "target-expects-proxy");
	record_free(r);

	/* keep-alive race: complete, server FIN, client data after it, server RST */
	r = rec_tcp();
	add_ch(r, 1);
	add_server_hello(r, 0x0303, 0xc02f);
	r->complete = 1;
	r->stage = STAGE_COMPLETE_CLOSED;
	r->d[0].appdata_records = 2;
	record_at(r, 1, HS_AT_FIN, 17, r->first_ts_us + 1000000);
	record_at(r, 1, HS_AT_RST, 20, 0);   /* a time 0: kept whole (struct hs_at_wide) */
	r->closed_by = DIR_S2C;
	r->closed_with = EV_FIN;
	CHECK_STR(diag(rs, r, 0, NULL), "(none)");
	record_at(r, DIR_C2S, HS_AT_DATA_AFTER_PEER_FIN, 19, r->first_ts_us + 1000100);
	CHECK_STR(diag(rs, r, 0, NULL), "keepalive-race");
	record_free(r);

	/* an Ed25519 target known from another connection, a client without 0x0807 */
	r = rec_tcp();
	add_ch(r, 0);
	add_alert(r, DIR_S2C, 40, 6);
	memset(&ed, 0, sizeof(ed));
	ed.key_type = XK_ED25519;
	ed.key_bits = 253;
	ed.not_after = 1900000000;
	CHECK_STR(diag(rs, r, 0, &ed), "cert-ed25519-without-sigalg");
	CHECK_STR(diag(rs, r, 0, NULL), "no-shared-cipher");   /* key type unknown: the generic story */
	record_free(r);

	/* ECDSA certificate known, RSA-only offer */
	r = rec_tcp();
	ch = add_ch(r, 0);
	ch->n_suites = 0;
	hs_ch_suites(ch)[ch->n_suites++] = 0xc02f;
	hs_ch_suites(ch)[ch->n_suites++] = 0x1301;
	add_alert(r, DIR_S2C, 40, 6);
	add_cert(r, XK_EC, 256, 0, 0);
	r->server_chain.present = 0;
	CHECK_STR(diag(rs, r, 0, &leaf_facts), "no-shared-cipher");   /* 1301 works with any key */
	ch->n_suites = 1;
	CHECK_STR(diag(rs, r, 0, &leaf_facts), "cert-key-type-unusable");
	record_free(r);

	/* client refuses a small RSA key */
	r = rec_tcp();
	add_ch(r, 0);
	add_server_hello(r, 0x0303, 0xc02f);
	add_cert(r, XK_RSA, 1024, 0, 0);
	add_alert(r, DIR_C2S, 40, 9);
	CHECK_STR(diag(rs, r, 0, NULL), "cert-rsa-key-too-small");
	record_free(r);

	/* refused (502) and no SYN-ACK (504) */
	r = rec_tcp();
	record_at(r, 1, HS_AT_SYN, 0, 0);
	record_at(r, 1, HS_AT_RST, 2, 0);
	r->stage = STAGE_REFUSED;
	CHECK_STR(diag(rs, r, 0, NULL), "connection-refused");
	record_at(r, 1, HS_AT_RST, 0, 0);
	r->d[1].packets = 0;
	r->stage = STAGE_NO_SYNACK;
	CHECK_STR(diag(rs, r, 0, NULL), "no-synack");
	record_free(r);

	/* a one-sided capture: the client sent data, no server packet at all */
	r = rec_tcp();
	add_ch(r, 1);
	record_at(r, 1, HS_AT_SYN, 0, 0);
	r->d[1].packets = 0;
	r->stage = STAGE_CH_UNANSWERED;
	CHECK_STR(diag(rs, r, r->first_ts_us + 20000000, NULL), "capture-incomplete");
	record_free(r);

	rule_set_free(rs);
}

/* ---- 6. reports ----------------------------------------------------------- */

static void test_reports(void)
{
	struct rule_set *rs = builtin();
	struct hs_record *r = rec_tcp();
	struct rule_verdict *f;
	struct rule_ctx ctx;
	struct jw w;
	FILE *tmp = tmpfile();
	char buf[65536];
	size_t n;

	add_ch(r, 1);
	record_at(r, 1, HS_AT_RST, 6, r->ch->ts_us + 50);
	r->closed_by = DIR_S2C;
	r->closed_with = EV_RST;
	r->closed_after_kind = EV_HANDSHAKE;
	r->closed_after_hs_type = 1;
	r->stage = STAGE_CLOSED_BY_PEER;
	/* hostile bytes in a wire string end up escaped */
	r->ch->has_sni = 1;
	memcpy(hs_ch_sni(r->ch), "a\033[2Jb", 6);
	r->ch->sni_len = 6;
	memset(&ctx, 0, sizeof(ctx));
	ctx.capture_end_us = hs_last_ts(r);
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	CHECK_STR(finding_id(f, 0), "target-expects-proxy");
	CHECK(f->n_cand == 2 && !strcmp(f->cand[1].cause->rule, "target-closed-after-client-hello"));
	rpt_verdict_text(tmp, r, f, 0);
	jw_init(&w, tmp, 0);
	jw_obj_open(&w, NULL);
	rpt_verdict_json(&w, r, f);
	jw_obj_close(&w);
	jw_end(&w);
	CHECK(w.errors == 0 && w.depth == 0);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	CHECK(strchr(buf, 033) == NULL);
	CHECK(strstr(buf, "\"findings\":[{\"rule\":\"target-expects-proxy\"") != NULL);
	CHECK(strstr(buf, "\"differential\":[{\"rule\":\"target-closed-after-client-hello\"") != NULL);
	CHECK(strstr(buf, "one of these") != NULL);
	CHECK(strstr(buf, "\"frames\":[4]") != NULL && strstr(buf, "\"frames\":[6]") != NULL);
	CHECK(strstr(buf, "also matched (less specific): alb-target-handshake-failed") != NULL);
	CHECK(strstr(buf, "\"notes\":[{\"rule\":\"note-aws-lb-client\"") != NULL);
	rule_verdict_free(f);
	fclose(tmp);

	/* the legacy entry shows its disputes */
	tmp = tmpfile();
	r->closed_after_kind = EV_ALERT;   /* nothing specific matches any more */
	record_derive((struct hs_record *)r);   /* built by hand: what record_finish() derives */
	f = rule_eval(rs, r, &ctx);
	CHECK_STR(finding_id(f, 0), "alb-target-handshake-failed");
	rpt_verdict_text(tmp, r, f, 0);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	CHECK(strstr(buf, "DISPUTED: There is no target-group trust store") != NULL);
	CHECK(strstr(buf, "1.  80%  Update the target's cipher suite") != NULL);   /* cipher first */
	CHECK(strstr(buf, "2.   5%  Install a trusted certificate") != NULL);
	rule_verdict_free(f);
	fclose(tmp);

	/* empty findings still write both keys */
	tmp = tmpfile();
	jw_init(&w, tmp, 0);
	jw_obj_open(&w, NULL);
	rpt_verdict_json(&w, r, NULL);
	jw_obj_close(&w);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	CHECK_STR(buf, "{\"findings\":[],\"notes\":[]}");
	fclose(tmp);
	record_free(r);
	rule_set_free(rs);
}

/* ---- 6b. client identification and how exact it is ------------------------ */

static const char id_lists[] =
	"list P of suite\n"
	"  values 1301 1302 C02B C02F C02C C030 CCA9 CCA8 C013 C014\n"
	"  values 009C 009D 002F 0035 C009 C00A 009E 009F 0033 0039\n"
	"  versions TLS1.3 TLS1.2\n"
	"  groups x25519 secp256r1\n"
	"  extensions supported_groups signature_algorithms supported_versions key_share\n"
	"  identity Profile P\n"
	"  source test\n"
	"end\n"
	"list Q of suite\n"
	"  values C02B C02F\n"
	"  identity Profile Q\n"
	"  match exact\n"
	"end\n";
static const uint16_t id_p[] = { 0x1301, 0x1302, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
				 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0xc009, 0xc00a, 0x009e, 0x009f,
				 0x0033, 0x0039 };

/* A ClientHello that offers profile P exactly (with GREASE sprinkled in). */
static struct hs_record *id_rec(void)
{
	struct hs_record *r = rec_tcp();
	struct hs_client_hello *ch = add_ch(r, 0);
	size_t i;
	ch->n_suites = 0;
	hs_ch_suites(ch)[ch->n_suites++] = 0x2a2a;
	for (i = 0; i < sizeof(id_p) / 2; i++)
		hs_ch_suites(ch)[ch->n_suites++] = id_p[i];
	ch->total_suites = ch->n_suites;
	ch->n_groups = 0;
	hs_ch_groups(ch)[ch->n_groups++] = 0x4a4a;
	hs_ch_groups(ch)[ch->n_groups++] = 0x001d;
	hs_ch_groups(ch)[ch->n_groups++] = 0x0017;
	ch->n_exts = 0;
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x0000;    /* server_name: not compared */
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x000a;
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x6a6a;    /* GREASE */
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x000d;
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x002b;
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x0033;
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x0015;    /* padding: not compared */
	ch->total_exts = ch->n_exts;
	return r;
}

static const char *id_match(const struct rule_set *rs, const struct hs_record *r, const char **name)
{
	struct rule_identity id;
	rule_client_identity(rs, r, &id);
	*name = id.name ? id.name : "-";
	return rule_match_name(id.match);
}

static void test_identity(void)
{
	char err[512], buf[400];
	struct rule_set *rs = rule_set_new(), *b = builtin();
	struct hs_record *r;
	struct hs_client_hello *ch;
	struct rule_identity id;
	const char *name;
	uint16_t t;

	CHECK(rule_load_buffer(rs, "id.list", id_lists, sizeof(id_lists) - 1, err, sizeof(err)) == 0);
	CHECK(rs->list[0]->n_id_versions == 2 && rs->list[0]->n_id_groups == 2 && rs->list[0]->n_id_exts == 4);
	CHECK(rs->list[1]->min_match == RULE_MATCH_EXACT);

	/* exact: same suites in order, versions/groups/extensions agree; GREASE,
	 * server_name and padding are not compared */
	r = id_rec();
	CHECK_STR(id_match(rs, r, &name), "exact");
	CHECK_STR(name, "P");
	CHECK(rule_client_identity(rs, r, &id) == 1);
	CHECK_STR(id.description, "Profile P");
	CHECK_STR(id.source, "test");
	CHECK(id.aws_lb == 0);
	CHECK_STR(rule_identity_text(&id, buf, sizeof(buf)), "Profile P (exact match)");
	ch = r->ch;
	/* the renegotiation SCSV is not an offer: still exact */
	hs_ch_suites(ch)[ch->n_suites++] = 0x00ff;
	CHECK_STR(id_match(rs, r, &name), "exact");
	/* TLS_FALLBACK_SCSV: a retry, at best same-suites */
	hs_ch_suites(ch)[ch->n_suites - 1] = 0x5600;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	ch->n_suites--;
	/* other order */
	t = hs_ch_suites(ch)[3]; hs_ch_suites(ch)[3] = hs_ch_suites(ch)[4]; hs_ch_suites(ch)[4] = t;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	CHECK_STR(name, "P");
	t = hs_ch_suites(ch)[3]; hs_ch_suites(ch)[3] = hs_ch_suites(ch)[4]; hs_ch_suites(ch)[4] = t;
	CHECK_STR(id_match(rs, r, &name), "exact");
	/* versions differ: TLS 1.1 added */
	hs_ch_versions(ch)[ch->n_versions++] = 0x0302;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	ch->n_versions--;
	/* no supported_versions at all: legacy 0x0303 cannot offer TLS 1.3 */
	ch->has_supported_versions = 0;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	ch->has_supported_versions = 1;
	/* groups in another order */
	hs_ch_groups(ch)[1] = 0x0017; hs_ch_groups(ch)[2] = 0x001d;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	hs_ch_groups(ch)[1] = 0x001d; hs_ch_groups(ch)[2] = 0x0017;
	/* an extra extension (ALPN) */
	hs_ch_ext_type(ch)[ch->n_exts++] = 0x0010;
	CHECK_STR(id_match(rs, r, &name), "same-suites");
	ch->n_exts--;
	CHECK_STR(id_match(rs, r, &name), "exact");
	/* GREASE anywhere, new values each time (a browser's): still exact,
	 * and an offer that differs besides the GREASE is judged as itself
	 * (the per-thread memo leaves GREASE out of its key) */
	{
		static const uint16_t grease[] = { 0x0a0a, 0x1a1a, 0xfafa };
		struct hs_record *g2;
		struct hs_client_hello *c2;
		size_t g;
		for (g = 0; g < sizeof(grease) / sizeof(grease[0]); g++) {
			g2 = id_rec();
			c2 = g2->ch;
			hs_ch_suites(c2)[0] = grease[g];   /* in place of the 2A2A */
			hs_ch_versions(c2)[c2->n_versions++] = grease[(g + 1) % 3];
			hs_ch_groups(c2)[0] = grease[(g + 2) % 3];
			hs_ch_ext_type(c2)[c2->n_exts++] = grease[g];
			CHECKF(!strcmp(id_match(rs, g2, &name), "exact") && !strcmp(name, "P"), "GREASE %04x: exact",
			       grease[g]);
			hs_ch_suites(c2)[c2->n_suites - 1] = grease[(g + 1) % 3];   /* the last real suite gone */
			CHECKF(!strcmp(id_match(rs, g2, &name), "close"), "GREASE %04x, one suite less: close",
			       grease[g]);
			record_free(g2);
		}
		/* more distinct offers than the memo holds, then the first again */
		g2 = id_rec();
		c2 = g2->ch;
		for (g = 0; g < 1000; g++) {
			hs_ch_suites(c2)[c2->n_suites - 1] = (uint16_t)(0x1000 + g);
			if (strcmp(id_match(rs, g2, &name), "close"))
				break;
		}
		CHECKF(g == 1000, "1000 offers one suite off: close (%zu)", g);
		record_free(g2);
		g2 = id_rec();
		CHECK_STR(id_match(rs, g2, &name), "exact");
		record_free(g2);
	}
	/* close: one suite of 20 missing (Jaccard 19/20 = 95%), first three the same */
	ch->n_suites--;
	CHECK_STR(id_match(rs, r, &name), "close");
	CHECK_STR(rule_identity_text(rule_client_identity(rs, r, &id) ? &id : &id, buf, sizeof(buf)),
		  "Profile P (close match: most suites the same, not identical)");
	/* two missing and one foreign: 18/21 = 86% < 90%: unknown */
	ch->n_suites--;
	hs_ch_suites(ch)[ch->n_suites++] = 0xc028;
	CHECK_STR(id_match(rs, r, &name), "unknown");
	CHECK_STR(name, "-");
	CHECK(rule_client_identity(rs, r, &id) == 1 && id.description == NULL);
	CHECK_STR(rule_identity_text(&id, buf, sizeof(buf)), "unknown (no client profile matches)");
	/* close needs the same first suites: 19/20 but the first two swapped */
	ch->n_suites -= 2;
	hs_ch_suites(ch)[ch->n_suites++] = 0x0033;
	t = hs_ch_suites(ch)[1]; hs_ch_suites(ch)[1] = hs_ch_suites(ch)[2]; hs_ch_suites(ch)[2] = t;
	CHECK_STR(id_match(rs, r, &name), "unknown");
	record_free(r);

	/* Q is reported only when exact */
	r = id_rec();
	ch = r->ch;
	ch->n_suites = 0;
	hs_ch_suites(ch)[ch->n_suites++] = 0xc02b;
	hs_ch_suites(ch)[ch->n_suites++] = 0xc02f;
	CHECK_STR(id_match(rs, r, &name), "exact");
	CHECK_STR(name, "Q");
	hs_ch_suites(ch)[0] = 0xc02f;
	hs_ch_suites(ch)[1] = 0xc02b;
	CHECK_STR(id_match(rs, r, &name), "unknown");
	/* the answer is kept per thread for the last offers (rules/identity.c);
	 * a list loaded later into the same set, and a new set that may sit
	 * where a freed one was, must still be asked */
	{
		static const char other[] = "list R of suite\n  values C02F C02B\n  identity Profile R\nend\n";
		struct rule_set *s2;
		CHECK(rule_load_buffer(rs, "r.list", other, sizeof(other) - 1, err, sizeof(err)) == 0);
		CHECK_STR(id_match(rs, r, &name), "exact");
		CHECK_STR(name, "R");
		s2 = rule_set_new();
		CHECK(s2 && rule_load_buffer(s2, "id.list", id_lists, sizeof(id_lists) - 1, err, sizeof(err)) == 0);
		CHECK_STR(id_match(s2, r, &name), "unknown");
		rule_set_free(s2);
		s2 = rule_set_new();
		CHECK(s2 && rule_load_buffer(s2, "r.list", other, sizeof(other) - 1, err, sizeof(err)) == 0);
		CHECK_STR(id_match(s2, r, &name), "exact");
		rule_set_free(s2);
	}
	/* no ClientHello: 0, unknown */
	free(r->ch);
	r->ch = NULL;
	CHECK(rule_client_identity(rs, r, &id) == 0 && id.match == RULE_MATCH_UNKNOWN && !id.name);
	record_free(r);

	/* the built-in AWS policies: exact only, and then client.aws_lb */
	r = rec_tcp();
	ch = add_ch(r, 1);
	CHECK_STR(id_match(b, r, &name), "exact");
	CHECK_STR(name, "ELBSecurityPolicy-2016-08");
	CHECK(rule_client_identity(b, r, &id) == 1 && id.aws_lb == 1);
	CHECK(fires("  when client.match is exact\n  when client.aws_lb is true", r) == 1);
	CHECK(fires("  when client.match in same-suites, close", r) == 0);
	/* the same 18 suites in another order (a real client in the corpus does
	 * this): not a load balancer */
	t = hs_ch_suites(ch)[1]; hs_ch_suites(ch)[1] = hs_ch_suites(ch)[2]; hs_ch_suites(ch)[2] = t;
	CHECK_STR(id_match(b, r, &name), "unknown");
	CHECK(fires("  when client.aws_lb is false\n  when client.match is unknown", r) == 1);
	CHECK(fires("  when client.identity is ELBSecurityPolicy-2016-08", r) == 0);
	t = hs_ch_suites(ch)[1]; hs_ch_suites(ch)[1] = hs_ch_suites(ch)[2]; hs_ch_suites(ch)[2] = t;
	/* TLS 1.3 offered with the 2016-08 suites: versions disagree */
	ch->has_supported_versions = 1;
	hs_ch_versions(ch)[ch->n_versions++] = 0x0304;
	hs_ch_versions(ch)[ch->n_versions++] = 0x0303;
	CHECK_STR(id_match(b, r, &name), "unknown");
	record_free(r);

	rule_set_free(rs);
	rule_set_free(b);
}

/* Wire strings in evidence are escaped at output, for the format: \xNN in
 * the text report; in JSON the raw bytes, which the JSON writer escapes
 * (\u001b), never the terminal escaping inside the JSON string. */
static void test_evidence_escaping(void)
{
	static const char text[] = "kb t/x\n  title T\n  root_cause R\nend\n"
				   "rule t\n  title T\n  kb t/x\n  when tls is true\n"
				   "  evidence name {ch.sni} in frame {ch.frame}\nend\n";
	struct rule_set *rs = rule_set_new();
	struct hs_record *r = rec_tcp();
	struct rule_verdict *v;
	struct rule_ctx ctx;
	char err[256], buf[8192];
	FILE *tmp = tmpfile();
	struct jw w;
	size_t n;
	CHECK(rs && tmp && rule_load_buffer(rs, "t.rules", text, sizeof(text) - 1, err, sizeof(err)) == 0);
	add_ch(r, 0);
	memcpy(hs_ch_sni(r->ch), "a\033[31mb\r\n", 9);
	r->ch->sni_len = 9;
	record_derive(r);
	memset(&ctx, 0, sizeof(ctx));
	v = rule_eval(rs, r, &ctx);
	CHECK(v && v->diag && v->diag->n_evid == 1);
	/* typed values: the wire string raw, the frame a number */
	CHECK(v->diag->evid[0].n == 4 && v->diag->evid[0].v[1].kind == RULE_V_WIRE &&
	      v->diag->evid[0].v[1].n == 9 && !memcmp(v->diag->evid[0].v[1].s, "a\033[31mb\r\n", 9));
	CHECK(v->diag->evid[0].v[3].kind == RULE_V_FRAME && v->diag->evid[0].v[3].num == 4);
	rpt_verdict_text(tmp, r, v, 0);
	jw_init(&w, tmp, 0);
	jw_obj_open(&w, NULL);
	rpt_verdict_json(&w, r, v);
	jw_obj_close(&w);
	jw_end(&w);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	CHECK(strchr(buf, 033) == NULL);
	CHECK(strstr(buf, "- name \"a\\x1b[31mb\\x0d\\x0a\" in frame 4") != NULL);
	CHECK(strstr(buf, "\"text\":\"name \\\"a\\u001b[31mb\\r\\n\\\" in frame 4\",\"frames\":[4]") != NULL);
	CHECK(strstr(buf, "\\\\x1b") == NULL);
	rule_verdict_free(v);
	record_free(r);
	rule_set_free(rs);
	if (tmp)
		fclose(tmp);
}

/* One fact of r, as the rules read it: present or not, and its number. */
static int fact_of(const struct rule_set *rs, const struct hs_record *r, const char *name, int64_t *x)
{
	struct rk_eval e;
	struct rk_val v;
	struct rule_ctx ctx;
	int f = rk_fact_by_name(name), got;
	memset(&ctx, 0, sizeof(ctx));
	rk_eval_init(&e, rs, r, &ctx);
	CHECKF(f >= 0, "fact %s", name);
	if (f < 0)
		return -1;
	got = rk_fact_get(&e, f, &v);
	CHECKF(!v.l && !v.n && !v.s && !v.sn && !v.filter, "fact %s is a plain number", name);
	*x = v.i;
	return got;
}

/* The facts read inline (vocab.c fact_quick()): each from its field of the
 * record, present or absent as before, on a record that has them (with
 * values no other field holds) and on one that has not. */
static void test_quick_facts(void)
{
	static const struct {
		const char *name;
		int present;   /* in the full record */
		int64_t value;
		int bare_present;   /* in the bare one (then its value is 0) */
	} want[] = {
		{ "tls", 1, 1, 1 }, { "complete", 1, 0, 1 }, { "ch.present", 1, 1, 1 },
		{ "ch.sni.present", 1, 1, 0 }, { "sh.present", 1, 1, 1 }, { "sh.version", 1, 0x0303, 0 },
		{ "sh.suite", 1, 0xc02f, 0 }, { "hrr.present", 1, 1, 1 }, { "cert.present", 1, 1, 1 },
		{ "cert_request", 1, 1, 1 }, { "alert.present", 1, 1, 1 }, { "alert.sender", 1, DIR_S2C, 0 },
		{ "client.appdata", 1, 3, 1 }, { "server.appdata", 1, 5, 1 }, { "capture.conflicts", 1, 7, 1 },
		{ "capture.out_of_window", 1, 11 + 13, 1 }, { "capture.bad_checksums", 1, 17 + 19, 1 },
		{ "server.spoke_first", 1, 1, 1 }, { "client.fin", 1, 0, 1 }, { "server.fin", 1, 1, 1 },
		{ "client.rst", 1, 1, 1 }, { "server.rst", 1, 0, 1 },
	};
	struct rule_set *rs = rule_set_new();
	struct hs_record *full = rec_tcp(), *bare = rec_tcp();
	struct hs_steer *st;
	int64_t x;
	size_t i;
	add_ch(full, 0);
	add_server_hello(full, 0x0303, 0xc02f);
	add_alert(full, DIR_S2C, 40, 7);
	record_rare(full)->hrr = record_new_server_hello();
	full->server_chain.present = 1;
	full->cert_request = 1;
	full->d[0].appdata_records = 3;
	full->d[1].appdata_records = 5;
	full->d[1].spoke_first = 1;
	record_rare(full)->d[0].overlap_conflicts = 3;
	record_rare(full)->d[1].overlap_conflicts = 4;
	st = record_steer(full);
	CHECK(st != NULL);
	if (st) {
		st->out_of_window[0] = 11;
		st->out_of_window[1] = 13;
		st->bad_checksums[0] = 17;
		st->bad_checksums[1] = 19;
	}
	record_at(full, DIR_S2C, HS_AT_FIN, 8, full->first_ts_us + 500);
	record_at(full, DIR_C2S, HS_AT_RST, 9, full->first_ts_us + 600);
	record_derive(full);
	record_derive(bare);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int got = fact_of(rs, full, want[i].name, &x);
		CHECKF(got == want[i].present && x == want[i].value, "%s in the full record: %d %lld", want[i].name,
		       got, (long long)x);
		got = fact_of(rs, bare, want[i].name, &x);
		CHECKF(got == want[i].bare_present && x == 0, "%s in the bare record: %d %lld", want[i].name, got,
		       (long long)x);
	}
	/* the stage and the closing side: whatever record_derive() made them */
	CHECK(fact_of(rs, full, "stage", &x) == 1 && x == full->stage);
	CHECK(fact_of(rs, full, "closed.by", &x) == 1 && x == (full->closed_by <= 1 ? full->closed_by : 255));
	CHECK(fact_of(rs, bare, "closed.by", &x) == 1 && x == (bare->closed_by <= 1 ? bare->closed_by : 255));
	record_free(full);
	record_free(bare);
	rule_set_free(rs);
}

/* rule_ctx.evidence: the summary and lean reports ask for the evidence of
 * failures (and of inconclusive verdicts) alone; every other verdict keeps
 * its findings' rule, title, side and kb entry, with no evidence lines
 * and no workarounds, and the same outcome. */
static void test_evidence_modes(void)
{
	static const char text[] = "kb t/x\n  title T\n  root_cause R\n  workaround w1 50% W1\nend\n"
				   "kb t/n\n  title N\n  root_cause R\nend\n"
				   "rule t-fail\n  title T\n  kb t/x\n  severity error\n  when tls is true\n"
				   "  when ch.sni.present is true\n  evidence name {ch.sni} in frame {ch.frame}\nend\n"
				   "rule t-note\n  title N\n  kb t/n\n  severity note\n  when tls is true\n"
				   "  evidence the frame {ch.frame}\nend\n";
	struct rule_set *rs = rule_set_new();
	char err[256];
	int sni, mode;
	CHECK(rs && rule_load_buffer(rs, "t.rules", text, sizeof(text) - 1, err, sizeof(err)) == 0);
	for (sni = 0; sni < 2; sni++) {
		for (mode = RULE_EVIDENCE_ALL; mode <= RULE_EVIDENCE_FAILED_OR_INCONCLUSIVE; mode++) {
			struct hs_record *r = rec_tcp();
			struct rule_verdict *v;
			struct rule_ctx ctx;
			int full;
			add_ch(r, 0);
			r->ch->has_sni = (uint8_t)sni;
			record_derive(r);
			memset(&ctx, 0, sizeof(ctx));
			ctx.evidence = (uint8_t)mode;
			v = rule_eval(rs, r, &ctx);
			/* sni: the failure fires; else the handshake, which has no
			 * ServerHello, is inconclusive */
			CHECK(v && (sni || v->outcome == RULE_OUTCOME_INCONCLUSIVE));
			full = mode == RULE_EVIDENCE_ALL || sni || mode == RULE_EVIDENCE_FAILED_OR_INCONCLUSIVE;
			CHECK(v && v->n_note == 1 && !strcmp(v->note[0].rule, "t-note") && v->note[0].kb &&
			      !strcmp(v->note[0].title, "N"));
			CHECK(v && v->n_note == 1 && v->note[0].n_evid == (full ? 1 : 0));
			CHECK(v && rule_verdict_failed(v) == sni && (v->diag != NULL) == sni);
			if (v && v->diag) {
				CHECK(!strcmp(v->diag->rule, "t-fail") && v->diag->n_evid == 1 && v->diag->n_wa == 1);
				CHECK(v->n_cand == 1 && v->cand[0].n_supports == 1);
			}
			rule_verdict_free(v);
			record_free(r);
		}
	}
	rule_set_free(rs);
}

/* ---- 7. the vocabulary is documented ------------------------------------- */

static void test_docs(void)
{
	FILE *f = fopen("docs/rules.md", "r");
	static char doc[262144];
	size_t n, i;
	if (!f) {
		CHECKF(0, "docs/rules.md missing");
		return;
	}
	n = fread(doc, 1, sizeof(doc) - 1, f);
	doc[n] = 0;
	fclose(f);
	for (i = 0; i < rk_facts_n; i++) {
		char pat[80];
		snprintf(pat, sizeof(pat), "`%s`", rk_facts[i].name);
		CHECKF(strstr(doc, pat) != NULL, "fact %s is not documented in docs/rules.md", rk_facts[i].name);
	}
}

int main(void)
{
	test_parser();
	test_errors();
	test_specificity();
	test_conditions();
	test_screen();
	test_builtin();
	test_reports();
	test_evidence_escaping();
	test_evidence_modes();
	test_quick_facts();
	test_identity();
	test_docs();
	return check_done();
}
