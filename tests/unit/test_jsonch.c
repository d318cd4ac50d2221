/*
 * test_jsonch.c - a ClientHello's members in the JSON record are rendered
 * once per distinct set of lists and flags and replayed (report/json.c,
 * jw_cached_key): the replayed bytes must be the bytes rendering gives.
 *
 * The record is rendered with a writer that has a fragment cache and one
 * that has none, for a ClientHello and then for copies that each differ
 * from it in one field the replayed part shows (every list, every count,
 * every flag, the SNI and ALPN bytes). A field the cache's key left out
 * would replay the first hello's members for the changed one, and the
 * two renderings would differ. Also: the cache is really used (a second
 * rendering of the same hello is a replay), a hello with every list at the
 * record's capacity fits the key and is replayed, pretty output replays at
 * its own indentation, and jw_cached_key() on a run of always-new keys stops
 * keeping copies (a window of 1,024 lookups with almost no hits) while
 * the output stays the same.
 *
 * The same for a Certificate message's "certificates" (rendered once per
 * chain: the DER's SHA-256 and length and each certificate's flags), a
 * ServerHello's members from its cipher suite on, a record's
 * "fingerprints" (keyed by the four hellos' fingerprint fields) and the
 * ECS line's leaf certificate and supported_ciphers: every field a key
 * holds is changed in turn, and the cached rendering must still be the
 * rendering. And a client identity's members (kept per list and match).
 */
#include "dissect/record.h"
#include "dissect/x509.h"
#include "report/jw.h"
#include "report/report.h"
#include "rules/rules.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct jw_cache *cache;

/* The record as JSON; with the shared cache or without one. */
static char *render(const struct hs_record *r, int cached, int pretty, size_t *n)
{
	struct jw w;
	char *out;
	jw_init_mem(&w, pretty);
	w.cache = cached ? cache : NULL;
	rpt_json_record(&w, r, 0);
	jw_flush(&w);
	out = w.mem;
	*n = w.mem_n;
	return out;
}

static int same_both_ways(const struct hs_record *r, int pretty, const char *what)
{
	size_t a, b;
	char *x = render(r, 1, pretty, &a), *y = render(r, 0, pretty, &b);
	int ok = x && y && a == b && memcmp(x, y, a) == 0;
	CHECKF(ok, "%s: the cached rendering is the rendering", what);
	free(x);
	free(y);
	return ok;
}

static void base_hello(struct hs_client_hello *c)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0xc02f, 0xc030, 0x009c, 0x00ff };
	static const uint16_t exts[] = { 0, 10, 11, 13, 16, 43, 45, 51 };
	size_t i;
	c->frame = 4;
	c->ts_us = 1700000000000000;
	c->legacy_version = 0x0303;
	c->record_version = 0x0301;
	c->msg_len = 300;
	for (i = 0; i < sizeof(suites) / 2; i++)
		hs_ch_suites(c)[c->n_suites++] = suites[i];
	c->total_suites = c->n_suites;
	hs_ch_comp(c)[c->n_comp++] = 0;
	c->total_comp = 1;
	c->has_extensions = 1;
	for (i = 0; i < sizeof(exts) / 2; i++) {
		hs_ch_ext_type(c)[c->n_exts] = exts[i];
		hs_ch_ext_len(c)[c->n_exts++] = (uint16_t)(4 + i);
	}
	c->total_exts = c->n_exts;
	c->has_sni = 1;
	memcpy(hs_ch_sni(c), "target.example", 14);
	c->sni_len = 14;
	/* ALPN: "h2", "http/1.1" */
	memcpy(hs_ch_alpn(c), "\x02h2\x08http/1.1", 12);
	c->alpn_bytes = 12;
	hs_ch_alpn_off(c)[0] = 0;
	hs_ch_alpn_off(c)[1] = 3;
	c->n_alpn = 2;
	c->has_supported_versions = 1;
	hs_ch_versions(c)[c->n_versions++] = 0x0304;
	hs_ch_versions(c)[c->n_versions++] = 0x0303;
	c->total_versions = c->n_versions;
	hs_ch_groups(c)[c->n_groups++] = 0x001d;
	hs_ch_groups(c)[c->n_groups++] = 0x0017;
	c->total_groups = c->n_groups;
	c->has_key_share = 1;
	hs_ch_key_share(c)[c->n_key_share] = 0x001d;
	hs_ch_key_share_len(c)[c->n_key_share++] = 32;
	hs_ch_sigalgs(c)[c->n_sigalgs++] = 0x0403;
	hs_ch_sigalgs(c)[c->n_sigalgs++] = 0x0804;
	c->total_sigalgs = c->n_sigalgs;
	hs_ch_sigalgs_cert(c)[c->n_sigalgs_cert++] = 0x0401;
	hs_ch_ecpf(c)[c->n_ecpf++] = 0;
	c->total_ecpf = 1;
	hs_ch_psk_modes(c)[c->n_psk_modes++] = 1;
	c->has_session_ticket = 1;
	c->has_extended_master_secret = 1;
	c->has_renegotiation_info = 1;
	c->record_size_limit = 16385;
}

#define N_MUT 45

/* Changes field `m` of c, one the replayed members show; 0 past the last. */
static int mutate(struct hs_client_hello *c, int m)
{
	switch (m) {
	case 0: hs_ch_suites(c)[2] = 0xc02b; return 1;
	case 1: c->n_suites--; return 1;
	case 2: c->total_suites = 99; return 1;
	case 3: hs_ch_comp(c)[0] = 1; return 1;
	case 4: c->n_comp = 0; return 1;
	case 5: c->has_extensions = 0; return 1;
	case 6: hs_ch_ext_type(c)[3] = 23; return 1;
	case 7: hs_ch_ext_len(c)[3] = 77; return 1;
	case 8: c->n_exts--; return 1;
	case 9: c->total_exts = 40; return 1;
	case 10: c->has_sni = 0; return 1;
	case 11: hs_ch_sni(c)[0] = 'T'; return 1;
	case 12: c->sni_len = 6; return 1;
	case 13: hs_ch_alpn(c)[1] = 'H'; return 1;
	case 14: c->n_alpn = 1; return 1;
	case 15: hs_ch_alpn_off(c)[1] = 4; hs_ch_alpn(c)[4] = 3; return 1;   /* "ttp" at 4 */
	case 16: c->has_supported_versions = 0; return 1;
	case 17: hs_ch_versions(c)[1] = 0x0302; return 1;
	case 18: c->n_versions = 1; return 1;
	case 19: hs_ch_groups(c)[1] = 0x0018; return 1;
	case 20: c->n_groups = 1; return 1;
	case 21: c->has_key_share = 0; return 1;
	case 22: hs_ch_key_share(c)[0] = 0x0017; return 1;
	case 23: c->n_key_share = 0; return 1;
	case 24: hs_ch_sigalgs(c)[0] = 0x0503; return 1;
	case 25: c->n_sigalgs = 1; return 1;
	case 26: hs_ch_sigalgs_cert(c)[0] = 0x0501; return 1;
	case 27: c->n_sigalgs_cert = 0; return 1;
	case 28: hs_ch_ecpf(c)[0] = 2; return 1;
	case 29: c->n_ecpf = 0; return 1;
	case 30: hs_ch_psk_modes(c)[0] = 0; return 1;
	case 31: c->n_psk_modes = 0; return 1;
	case 32: c->has_psk = 1; return 1;
	case 33: c->psk_identities = 2; return 1;
	case 34: c->has_session_ticket = 0; return 1;
	case 35: c->session_ticket_len = 192; return 1;
	case 36: c->has_ech = 1; return 1;
	case 37: c->has_ech = 1; c->ech_type = 1; c->ech_kdf = 1; return 1;
	case 38: c->has_ech = 1; c->ech_aead = 3; c->ech_config_id = 7; c->ech_enc_len = 32; c->ech_payload_len = 200; return 1;
	case 39: c->has_renegotiation_info = 0; return 1;
	case 40: c->has_extended_master_secret = 0; return 1;
	case 41: c->has_encrypt_then_mac = 1; return 1;
	case 42: c->has_status_request = 1; return 1;
	case 43: c->has_early_data = 1; return 1;
	case 44: c->record_size_limit = 0; c->malformed = 1; return 1;
	default: return 0;
	}
}

static void test_every_field(void)
{
	struct hs_record *r = record_new(1);
	struct hs_client_hello *base;
	uint64_t hits0, hits1;
	int m, bad = 0;
	char what[64];
	r->first_ts_us = 1700000000000000;
	base = record_new_client_hello();
	base_hello(base);
	r->ch = record_keep_client_hello(base);   /* compact, as the flow table keeps it */
	CHECK(r->ch && r->ch->compact);
	same_both_ways(r, 0, "the base hello");
	jw_cache_key_count(cache, &hits0);
	same_both_ways(r, 0, "the base hello again");
	jw_cache_key_count(cache, &hits1);
	CHECKF(hits1 == hits0 + 2, "the second rendering replays the members and the fingerprints (%llu -> %llu)", (unsigned long long)hits0,
	       (unsigned long long)hits1);
	same_both_ways(r, 1, "the base hello, pretty");
	same_both_ways(r, 1, "the base hello, pretty, replayed");
	for (m = 0; m < N_MUT; m++) {
		struct hs_client_hello *f = record_new_client_hello(), *keep = r->ch;
		base_hello(f);
		CHECK(mutate(f, m));
		r->ch = record_keep_client_hello(f);
		snprintf(what, sizeof(what), "field change %d", m);
		if (!same_both_ways(r, 0, what))
			bad++;
		snprintf(what, sizeof(what), "field change %d, pretty", m);
		same_both_ways(r, 1, what);
		record_free_client_hello(r->ch);
		r->ch = keep;
		snprintf(what, sizeof(what), "the base hello after change %d", m);
		same_both_ways(r, 0, what);
	}
	CHECKF(bad == 0, "%d field changes replayed the base hello's members", bad);
	CHECK(!mutate(base, N_MUT));
	/* every list at the record's capacity still fits the key: replayed too */
	{
		struct hs_client_hello *f = record_new_client_hello(), *keep = r->ch;
		uint16_t i;
		base_hello(f);
		f->n_suites = 0;
		for (i = 0; i < HS_MAX_SUITES; i++)
			hs_ch_suites(f)[f->n_suites++] = (uint16_t)(0x0a0a + i);
		f->n_exts = 0;
		for (i = 0; i < HS_MAX_EXTS; i++) {
			hs_ch_ext_type(f)[f->n_exts] = (uint16_t)(100 + i);
			hs_ch_ext_len(f)[f->n_exts++] = i;
		}
		f->n_sigalgs = 0;
		for (i = 0; i < HS_MAX_SIGALGS; i++)
			hs_ch_sigalgs(f)[f->n_sigalgs++] = (uint16_t)(0x0400 + i);
		f->total_suites = f->n_suites;
		r->ch = record_keep_client_hello(f);
		jw_cache_key_count(cache, &hits0);
		same_both_ways(r, 0, "a hello with full lists");
		same_both_ways(r, 0, "a hello with full lists, again");
		jw_cache_key_count(cache, &hits1);
		CHECKF(hits1 >= hits0 + 1, "a hello with full lists is replayed");
		record_free_client_hello(r->ch);
		r->ch = keep;
	}
	record_free(r);
}

/* jw_cached_key() directly: always-new keys turn the copies off for a
 * while, the same bytes come out, and a slot holds the newest fragment. */
static void frag(struct jw *w, const void *arg)
{
	jw_key_uint(w, "v", *(const unsigned *)arg);
}

static void test_bypass(void)
{
	struct jw_cache *c = jw_cache_new();
	struct jw a, b;
	unsigned i, k;
	uint64_t hits;
	jw_init_mem(&a, 0);
	jw_init_mem(&b, 0);
	a.cache = c;
	jw_obj_open(&a, NULL);
	jw_obj_open(&b, NULL);
	for (i = 0; i < 3000; i++) {
		k = i * 2654435761u;   /* a new key every time */
		jw_cached_key(&a, &k, sizeof(k), 7, frag, &k);
		frag(&b, &k);
	}
	jw_cache_key_count(c, &hits);
	CHECKF(hits == 0, "new keys: no replay (%llu)", (unsigned long long)hits);
	/* after the first window of 1,024 misses, the next 7,168 keep nothing:
	 * the 256 slots hold what the first 1,024 left */
	CHECKF(jw_cache_key_count(c, NULL) <= 256, "at most 256 fragments kept");
	for (i = 0; i < 10000; i++) {
		k = 42;
		jw_cached_key(&a, &k, sizeof(k), 7, frag, &k);
		frag(&b, &k);
	}
	jw_cache_key_count(c, &hits);
	CHECKF(hits > 0, "a key that repeats is replayed once the copies are back on (%llu)", (unsigned long long)hits);
	jw_obj_close(&a);
	jw_obj_close(&b);
	jw_flush(&a);
	jw_flush(&b);
	CHECK(a.mem && b.mem && a.mem_n == b.mem_n && memcmp(a.mem, b.mem, a.mem_n) == 0);
	free(a.mem);
	free(b.mem);
	jw_cache_free(c);
}

/* ---- certificates ------------------------------------------------------ */

static struct x509_facts leaf_x, ca_x, other_x;

static void facts(struct x509_facts *x, const char *subject, const char *issuer, uint8_t tag, int ca)
{
	memset(x, 0, sizeof(*x));
	x->version = 3;
	snprintf(x->subject, sizeof(x->subject), "%s", subject);
	snprintf(x->issuer, sizeof(x->issuer), "%s", issuer);
	snprintf(x->subject_cn, sizeof(x->subject_cn), "%s", subject + 3);
	snprintf(x->san, sizeof(x->san), "%s", ca ? "" : "DNS:target.example, IP:127.0.0.1");
	snprintf(x->serial_hex, sizeof(x->serial_hex), "10%02x", tag);
	x->not_before = 1700000000;
	x->not_after = 1800000000 + tag;
	x->is_ca = (int8_t)ca;
	x->key_type = 1;
	x->key_bits = 2048;
	snprintf(x->sig_alg, sizeof(x->sig_alg), "sha256WithRSAEncryption");
	memset(x->sha256, tag, 32);
	x->der_len = 900u + tag;
}

/* The record's server chain: a leaf and its issuer, flags as a real one's. */
static void base_chain(struct hs_record *r)
{
	struct hs_chain *c = &r->server_chain;
	struct hs_cert *hc;
	c->present = 1;
	c->total = 2;
	c->n = 0;
	hc = c->c ? c->c : record_chain_certs(c, 2);
	CHECK(hc != NULL);
	memset(hc, 0, 2 * sizeof(*hc));
	hc[0].x = &leaf_x;
	hc[0].der_len = leaf_x.der_len;
	memcpy(hc[0].sha256, leaf_x.sha256, 32);
	hc[0].issued_by_next = 1;
	hc[1].x = &ca_x;
	hc[1].der_len = ca_x.der_len;
	memcpy(hc[1].sha256, ca_x.sha256, 32);
	hc[1].issued_by_next = 2;
	c->n = 2;
}

#define N_CMUT 14

/* Changes one thing of the chain that its "certificates" show. */
static int chain_mutate(struct hs_chain *c, int m)
{
	struct hs_cert *hc = c->c;
	switch (m) {
	case 0: hc[0].x = &other_x; hc[0].der_len = other_x.der_len; memcpy(hc[0].sha256, other_x.sha256, 32); return 1;
	case 1: hc[0].sha256[31] ^= 1; return 1;
	case 2: hc[0].der_len++; return 1;
	case 3: hc[0].x = NULL; return 1;
	case 4: hc[0].x = NULL; hc[0].facts_not_kept = 1; return 1;
	case 5: hc[0].expired = 1; return 1;
	case 6: hc[0].not_yet_valid = 1; return 1;
	case 7: hc[0].self_signed = 1; return 1;
	case 8: hc[0].issued_by_next = 0; return 1;
	case 9: hc[0].issued_by_next = 2; return 1;
	case 10: hc[0].verify_skipped = X509_SKIP_KEY_SIZE; return 1;
	case 11: hc[1].sha256[0] ^= 1; return 1;
	case 12: hc[1].verify_skipped = X509_SKIP_CONN_BUDGET; return 1;
	case 13: c->n = 1; return 1;
	default: return 0;
	}
}

static void test_chain(void)
{
	struct hs_record *r = record_new(2);
	uint64_t hits0, hits1;
	int m, bad = 0;
	char what[64];
	facts(&leaf_x, "CN=target.example", "CN=Test CA", 1, 0);
	facts(&ca_x, "CN=Test CA", "CN=Test Root", 2, 1);
	facts(&other_x, "CN=other.example", "CN=Test CA", 3, 0);
	r->first_ts_us = 1700000000000000;
	base_chain(r);
	same_both_ways(r, 0, "a chain");
	jw_cache_key_count(cache, &hits0);
	same_both_ways(r, 0, "a chain again");
	jw_cache_key_count(cache, &hits1);
	CHECKF(hits1 > hits0, "the second rendering of a chain replays it");
	same_both_ways(r, 1, "a chain, pretty");
	for (m = 0; m < N_CMUT; m++) {
		base_chain(r);
		CHECK(chain_mutate(&r->server_chain, m));
		snprintf(what, sizeof(what), "chain change %d", m);
		if (!same_both_ways(r, 0, what))
			bad++;
		base_chain(r);
		snprintf(what, sizeof(what), "the chain after change %d", m);
		same_both_ways(r, 0, what);
	}
	CHECKF(bad == 0, "%d chain changes replayed the base chain's certificates", bad);
	CHECK(!chain_mutate(&r->server_chain, N_CMUT));
	record_free(r);
}

/* ---- fingerprints: keyed by the fields of the four hellos --------------- */

static struct hs_server_hello *base_sh(int hrr)
{
	static const uint16_t exts[] = { 65281, 11, 23, 43 };
	struct hs_server_hello *s = record_new_server_hello();
	size_t i;
	s->frame = 5;
	s->ts_us = 1700000000000100;
	s->legacy_version = 0x0303;
	s->record_version = 0x0303;
	s->version = 0x0303;
	s->cipher = 0xc02f;
	s->is_hrr = (uint8_t)hrr;
	s->has_extensions = 1;
	for (i = 0; i < sizeof(exts) / 2; i++) {
		s->ext_type[s->n_exts] = exts[i];
		s->ext_len[s->n_exts++] = (uint16_t)i;
	}
	s->total_exts = s->n_exts;
	return s;
}

#define N_FMUT 12

/* Changes one field a fingerprint reads, of one of the four hellos (s: the
 * ServerHello, h: the HRR, c2: the second ClientHello, all full-size). */
static int fp_mutate(struct hs_record *r, struct hs_server_hello *s, int m)
{
	struct hs_rare *x = record_rare(r);
	switch (m) {
	case 0: s->cipher = 0xc030; return 1;
	case 1: s->legacy_version = 0x0302; return 1;
	case 2: s->ext_type[1] = 10; return 1;
	case 3: s->n_exts--; return 1;
	case 4: s->sslv2 = 1; return 1;
	case 5: x->hrr = base_sh(1); return 1;
	case 6: x->hrr = base_sh(1); x->hrr->cipher = 0x1302; return 1;
	case 7: x->ch2 = record_new_client_hello(); base_hello(x->ch2); return 1;
	case 8: x->ch2 = record_new_client_hello(); base_hello(x->ch2); x->ch2->legacy_version = 0x0301; return 1;
	case 9: x->hrr = base_sh(1); x->ch2 = record_new_client_hello(); base_hello(x->ch2);
		hs_ch_groups(x->ch2)[0] = 0x0018; return 1;
	case 10: record_free_server_hello(r->sh); r->sh = NULL; return 1;
	case 11: x->ch2 = record_new_client_hello(); base_hello(x->ch2); x->ch2->sslv2 = 1; return 1;
	default: return 0;
	}
}

/* A record with the base ClientHello (compact, as the flow table keeps it)
 * and a ServerHello; chm, when not NULL, changes the hello first. */
static struct hs_record *hello_rec(uint64_t id, void (*chm)(struct hs_client_hello *))
{
	struct hs_record *t = record_new(id);
	struct hs_client_hello *tc = record_new_client_hello();
	t->first_ts_us = 1700000000000000;
	base_hello(tc);
	if (chm)
		chm(tc);
	t->ch = record_keep_client_hello(tc);
	t->sh = base_sh(0);
	return t;
}

static void tls10_offer(struct hs_client_hello *c)
{
	c->legacy_version = 0x0301;
}

#define N_SMUT 17

/* Changes one field a ServerHello's replayed members show. */
static int sh_mutate(struct hs_server_hello *s, int m)
{
	switch (m) {
	case 0: s->cipher = 0x1301; return 1;
	case 1: s->compression = 1; return 1;
	case 2: s->has_extensions = 0; return 1;
	case 3: s->ext_type[2] = 16; return 1;
	case 4: s->ext_len[2] = 9; return 1;
	case 5: s->n_exts = 2; return 1;
	case 6: s->has_supported_version = 1; return 1;
	case 7: s->has_supported_version = 1; s->supported_version = 0x0304; return 1;
	case 8: s->has_key_share = 1; return 1;
	case 9: s->has_key_share = 1; s->key_share_group = 0x001d; return 1;
	case 10: memcpy(s->alpn, "h2", 2); s->alpn_len = 2; return 1;
	case 11: memcpy(s->alpn, "h3", 2); s->alpn_len = 2; return 1;
	case 12: s->has_renegotiation_info = 1; return 1;
	case 13: s->has_extended_master_secret = 1; return 1;
	case 14: s->has_encrypt_then_mac = 1; return 1;
	case 15: s->has_session_ticket = 1; return 1;
	case 16: s->malformed = 1; return 1;
	default: return 0;
	}
}

static void test_fingerprints(void)
{
	struct hs_record *r = hello_rec(4, NULL);
	uint64_t hits0, hits1;
	int m, bad = 0;
	char what[64];
	same_both_ways(r, 0, "fingerprints");
	jw_cache_key_count(cache, &hits0);
	same_both_ways(r, 0, "fingerprints again");
	jw_cache_key_count(cache, &hits1);
	CHECKF(hits1 == hits0 + 3, "the second rendering replays both hellos' members and the fingerprints (%llu -> %llu)",
	       (unsigned long long)hits0, (unsigned long long)hits1);
	for (m = 0; m < N_FMUT; m++) {
		struct hs_record *t = hello_rec(5, NULL);
		CHECK(fp_mutate(t, t->sh, m));
		snprintf(what, sizeof(what), "fingerprint change %d", m);
		if (!same_both_ways(t, 0, what))
			bad++;
		record_free(t);
		snprintf(what, sizeof(what), "fingerprints after change %d", m);
		same_both_ways(r, 0, what);
	}
	/* every field of the ServerHello's replayed members (an ALPN of "h2"
	 * first, so that "h3" is a change of the bytes alone) */
	for (m = 0; m < N_SMUT; m++) {
		struct hs_record *t = hello_rec(7, NULL);
		if (m == 11)
			sh_mutate(t->sh, 10);
		if (m == 11)
			same_both_ways(t, 0, "ServerHello with ALPN h2");
		CHECK(sh_mutate(t->sh, m));
		snprintf(what, sizeof(what), "ServerHello change %d", m);
		if (!same_both_ways(t, 0, what))
			bad++;
		record_free(t);
	}
	CHECK(!sh_mutate(r->sh, N_SMUT));
	/* the ClientHello's legacy_version and SSLv2 form: JA3 and JA4 read them */
	{
		struct hs_record *t = hello_rec(6, tls10_offer);
		if (!same_both_ways(t, 0, "ClientHello legacy_version"))
			bad++;
		record_free(t);
	}
	CHECKF(bad == 0, "%d fingerprint changes replayed the base record's fingerprints", bad);
	CHECK(!fp_mutate(r, r->sh, N_FMUT));
	record_free(r);
}

/* ---- the ECS line: the leaf's fields and supported_ciphers ------------- */

static char *render_ecs(const struct hs_record *rec, int cached, size_t *n)
{
	struct rpt r;
	char *out = NULL;
	FILE *f = open_memstream(&out, n);
	memset(&r, 0, sizeof(r));
	r.fmt = RPT_ECS;
	r.out = f;
	r.jwc = cached ? cache : NULL;
	rpt_ecs_conn(&r, rec, NULL, 0);
	fclose(f);
	return out;
}

static int ecs_same(const struct hs_record *r, const char *what)
{
	size_t a = 0, b = 0;
	char *x = render_ecs(r, 1, &a), *y = render_ecs(r, 0, &b);
	int ok = x && y && a == b && memcmp(x, y, a) == 0;
	CHECKF(ok, "ecs, %s: the cached rendering is the rendering", what);
	free(x);
	free(y);
	return ok;
}

#define N_EMUT 8

static int ecs_mutate(struct hs_record *r, int m)
{
	struct hs_cert *hc = r->server_chain.c;
	struct hs_client_hello *c = (struct hs_client_hello *)r->ch;
	switch (m) {
	case 0: hc[0].x = &other_x; hc[0].der_len = other_x.der_len; memcpy(hc[0].sha256, other_x.sha256, 32); return 1;
	case 1: hc[0].sha256[5] ^= 1; return 1;
	case 2: hc[0].der_len--; return 1;
	case 3: hc[0].x = NULL; return 1;
	case 4: other_x.malformed = 1; hc[0].x = &other_x; hc[0].der_len = other_x.der_len; memcpy(hc[0].sha256, other_x.sha256, 32); return 1;
	case 5: hs_ch_suites(c)[0] = 0x1303; return 1;
	case 6: c->n_suites--; return 1;
	case 7: hs_ch_suites(c)[1] = 0x0a0a; return 1;   /* GREASE: left out */
	default: return 0;
	}
}

static void test_ecs(void)
{
	struct hs_record *r = record_new(3);
	struct hs_client_hello *base;
	uint64_t hits0, hits1;
	int m, bad = 0;
	char what[64];
	facts(&other_x, "CN=other.example", "CN=Test CA", 3, 0);
	r->first_ts_us = 1700000000000000;
	r->is_tls = 1;
	base = record_new_client_hello();
	base_hello(base);
	r->ch = record_keep_client_hello(base);
	base_chain(r);
	ecs_same(r, "a connection");
	jw_cache_key_count(cache, &hits0);
	ecs_same(r, "a connection again");
	jw_cache_key_count(cache, &hits1);
	CHECKF(hits1 >= hits0 + 2, "the second line replays the leaf and the suites (%llu -> %llu)",
	       (unsigned long long)hits0, (unsigned long long)hits1);
	for (m = 0; m < N_EMUT; m++) {
		struct hs_client_hello *f = record_new_client_hello();
		struct hs_client_hello *keep = r->ch;
		base_hello(f);
		r->ch = f;   /* not compact: ecs_mutate changes it in place */
		base_chain(r);
		CHECK(ecs_mutate(r, m));
		snprintf(what, sizeof(what), "change %d", m);
		if (!ecs_same(r, what))
			bad++;
		record_free_client_hello(f);
		r->ch = keep;
		base_chain(r);
		other_x.malformed = 0;
		snprintf(what, sizeof(what), "the base after change %d", m);
		ecs_same(r, what);
	}
	CHECKF(bad == 0, "%d ECS changes replayed the base connection's fields", bad);
	CHECK(!ecs_mutate(r, N_EMUT));
	record_free(r);
}

/* A client identity's members are replayed per (list, match): for two
 * identities and every match, in turn and again, the cached rendering is
 * the rendering. */
static char *render_id(const struct hs_record *r, const struct rule_verdict *v, int cached, size_t *n)
{
	struct jw w;
	jw_init_mem(&w, 0);
	w.cache = cached ? cache : NULL;
	jw_obj_open(&w, NULL);
	rpt_json_identity(&w, r, v);
	jw_obj_close(&w);
	jw_flush(&w);
	*n = w.mem_n;
	return w.mem;
}

static void test_identity(void)
{
	static const char *const names[] = { "list-a", "list-b" };
	static const char *const descr[] = { "A \"client\"", "B client" };
	static const char *const src[] = { "capture: a.pcap", NULL };
	struct hs_record *r = hello_rec(9, NULL);
	struct rule_verdict v;
	int round, k, m, bad = 0;
	memset(&v, 0, sizeof(v));
	v.has_identity = 1;
	for (round = 0; round < 2; round++)
		for (k = 0; k < 2; k++)
			for (m = RULE_MATCH_UNKNOWN; m <= RULE_MATCH_EXACT; m++) {
				size_t a, b;
				char *x, *y;
				v.identity.name = names[k];
				v.identity.description = descr[k];
				v.identity.source = src[k];
				v.identity.match = (enum rule_match)m;
				x = render_id(r, &v, 1, &a);
				y = render_id(r, &v, 0, &b);
				bad += !x || !y || a != b || memcmp(x, y, a) != 0;
				free(x);
				free(y);
			}
	CHECKF(bad == 0, "client identity: %d cached renderings differ", bad);
	record_free(r);
}

int main(void)
{
	cache = jw_cache_new();
	test_identity();
	CHECK(cache != NULL);
	test_every_field();
	test_chain();
	test_fingerprints();
	test_ecs();
	test_bypass();
	jw_cache_free(cache);
	record_pools_free();
	return check_done();
}
