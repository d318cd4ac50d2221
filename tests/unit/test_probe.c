/*
 * test_probe.c - the probe's pieces without a network: ClientHellos built
 * for each backend policy read back to the same offer (probe/hello.c);
 * every prefix and random bytes read back without a fault; the TLS 1.3
 * flight reader refuses garbage (probe/tls13.c); the rebuilt packets
 * (probe/wire.c) decode with dissect/decode.c and carry valid IPv4 and TCP
 * checksums, over IPv4 and IPv6, with the bytes in order.
 */
#include "tests/unit/check.h"
#include "dissect/decode.h"
#include "probe/hello.h"
#include "probe/tls13.h"
#include "probe/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *what, int ok)
{
	check_that(ok, __LINE__, "%s", what);
}

static int same_list(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
	return na == nb && memcmp(a, b, na * sizeof(*a)) == 0;
}

static void round_trip(const char *name, const struct probe_hello_cfg *c)
{
	uint8_t buf[PROBE_HELLO_MAX];
	char err[128], what[160];
	struct probe_hello_cfg back;
	struct probe_keys keys = { 0 };
	size_t len = probe_hello_build(c, buf, sizeof(buf), &keys, err, sizeof(err)), dropped = 9, cut;
	snprintf(what, sizeof(what), "%s: built", name);
	check(what, len > 9 && buf[0] == 22 && buf[1] == 3 && buf[2] == 1 &&
		    (size_t)(buf[3] << 8 | buf[4]) == len - 5 && buf[5] == 1 &&
		    (size_t)(buf[6] << 16 | buf[7] << 8 | buf[8]) == len - 9);
	snprintf(what, sizeof(what), "%s: one private key per key share", name);
	check(what, keys.n == c->nshares);
	probe_keys_free(&keys);
	snprintf(what, sizeof(what), "%s: read back", name);
	check(what, probe_hello_parse(buf, len, &back, &dropped) == 0 && dropped == 0);
	snprintf(what, sizeof(what), "%s: same offer read back", name);
	check(what, back.legacy_version == c->legacy_version && same_list(back.suites, back.nsuites, c->suites, c->nsuites) &&
		    same_list(back.groups, back.ngroups, c->groups, c->ngroups) &&
		    same_list(back.sigalgs, back.nsigalgs, c->sigalgs, c->nsigalgs) &&
		    same_list(back.versions, back.nversions, c->versions, c->nversions) &&
		    same_list(back.shares, back.nshares, c->shares, c->nshares) && back.ems == c->ems &&
		    strcmp(back.sni, c->sni) == 0 && strcmp(back.alpn[0], c->alpn[0]) == 0 &&
		    back.session_id == c->session_id);
	/* every prefix: refused or read, never a fault (ASan watches) */
	{
		int ok = 1;
		for (cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, buf, cut);
			if (probe_hello_parse(copy, cut, &back, &dropped) == 0 && cut < 9)
				ok = 0;
			free(copy);
		}
		snprintf(what, sizeof(what), "%s: every prefix handled", name);
		check(what, ok);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_hello(void)
{
	struct probe_hello_cfg c;
	int i;
	probe_hello_default(&c, PROBE_POL_2016_08);
	check("2016-08: 18 suites, C02B first, 0035 last, no supported_versions",
	      c.nsuites == 18 && c.suites[0] == 0xc02b && c.suites[17] == 0x0035 && c.nversions == 0 &&
		      c.legacy_version == 0x0303 && !c.sni[0]);
	round_trip("2016-08", &c);
	probe_hello_default(&c, PROBE_POL_TLS13_1_0);
	check("TLS13-1-0: 21 suites, 1301 first, versions 1.3..1.0, x25519 key share",
	      c.nsuites == 21 && c.suites[0] == 0x1301 && c.suites[3] == 0xc02b && c.nversions == 4 &&
		      c.versions[0] == 0x0304 && c.versions[3] == 0x0301 && c.nshares == 1 && c.shares[0] == 0x001d);
	round_trip("TLS13-1-0", &c);
	snprintf(c.sni, sizeof(c.sni), "target.example");
	snprintf(c.alpn[0], sizeof(c.alpn[0]), "h2");
	c.shares[1] = 0x0019;
	c.nshares = 2;
	probe_list_add(c.groups, &c.ngroups, PROBE_MAX_GROUPS, 0x0019, 0);
	round_trip("TLS13-1-0 + SNI, ALPN, P-521 share", &c);
	check("policy names parse", probe_policy_parse("2016-08") == PROBE_POL_2016_08 &&
					    probe_policy_parse("ELBSecurityPolicy-TLS13-1-0-2021-06") == PROBE_POL_TLS13_1_0 &&
					    probe_policy_parse("tls13") == PROBE_POL_TLS13_1_0 &&
					    probe_policy_parse("fips") == PROBE_POL_TLS13_1_0_FIPS &&
					    probe_policy_parse("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04") == PROBE_POL_TLS13_1_0_FIPS &&
					    probe_policy_parse("fips-2019") < 0);
	probe_hello_default(&c, PROBE_POL_TLS13_1_0_FIPS);
	check("TLS13-1-0-FIPS: 20 suites, 1301 1302 then C02B, no CHACHA20, C014 before C00A, versions 1.3..1.0, P-256 share",
	      c.nsuites == 20 && c.suites[0] == 0x1301 && c.suites[1] == 0x1302 && c.suites[2] == 0xc02b &&
		      !probe_list_has(c.suites, c.nsuites, 0x1303) && !probe_list_has(c.suites, c.nsuites, 0xcca8) &&
		      c.suites[12] == 0xc014 && c.suites[13] == 0xc00a && c.nversions == 4 && c.versions[0] == 0x0304 &&
		      c.versions[3] == 0x0301 && c.nshares == 1 && c.shares[0] == 0x0017 &&
		      !probe_list_has(c.groups, c.ngroups, 0x001d));
	round_trip("TLS13-1-0-FIPS", &c);
	/* random bytes, some made to look like a handshake record */
	{
		static uint8_t b[70000];
		struct probe_hello_cfg back;
		size_t dropped;
		int read = 0;
		for (i = 0; i < 20000; i++) {
			size_t n = rnd() % (i < 19000 ? 600 : sizeof(b)), k;
			for (k = 0; k < n; k++)
				b[k] = (uint8_t)rnd();
			if (n > 9 && (i & 1)) {
				b[0] = 22;
				b[3] = (uint8_t)((n - 5) >> 8);
				b[4] = (uint8_t)(n - 5);
				b[5] = 1;
			}
			read += probe_hello_parse(b, n, &back, &dropped) == 0;
		}
		check("random bytes read back without a fault", read >= 0);
	}
}

static void test_tls13(void)
{
	struct probe_hello_cfg c;
	struct probe_keys keys = { 0 };
	struct probe_t13 t;
	uint8_t hello[PROBE_HELLO_MAX], srv[4096];
	char err[128];
	size_t len, i, n;
	int all = 1;
	probe_hello_default(&c, PROBE_POL_TLS13_1_0);
	len = probe_hello_build(&c, hello, sizeof(hello), &keys, err, sizeof(err));
	check("TLS 1.3 hello built with its key", len && keys.n == 1);
	check("no server bytes: not opened", probe_t13_open(&keys, hello + 5, len - 5, srv, 0, &t) < 0 && !t.opened);
	/* a ServerHello-shaped record, then random protected records */
	for (i = 0; i < 2000; i++) {
		size_t k;
		n = 5 + rnd() % (sizeof(srv) - 5);
		for (k = 0; k < n; k++)
			srv[k] = (uint8_t)rnd();
		srv[0] = 22;
		srv[1] = 3;
		srv[2] = 3;
		if (i & 1) {
			srv[5] = 2;
			srv[3] = (uint8_t)((n - 5) >> 8);
			srv[4] = (uint8_t)(n - 5);
		}
		if (probe_t13_open(&keys, hello + 5, len - 5, srv, n, &t) == 0)
			all = 0;
	}
	check("random server bytes never open", all);
	probe_keys_free(&keys);
}

struct sink {
	int v6, bad_ck, bad_decode, n;
	uint8_t got[2][8192];
	size_t gotn[2];
	uint16_t cport;
};

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void on_pkt(void *arg, int64_t ts, const uint8_t *p, uint32_t len)
{
	struct sink *s = arg;
	struct pkt k;
	size_t ipl = s->v6 ? 40 : 20, al = s->v6 ? 16 : 4;
	uint32_t sum;
	(void)ts;
	s->n++;
	if (!s->v6 && fold(sum16(0, p, 20)) != 0xffff)
		s->bad_ck++;
	sum = sum16(0, p + (s->v6 ? 8 : 12), 2 * al) + 6 + (len - (uint32_t)ipl);
	if (fold(sum16(sum, p + ipl, len - ipl)) != 0xffff)
		s->bad_ck++;
	memset(&k, 0, sizeof(k));
	if (pkt_decode(101, p, len, len, &k) != PKT_OK) {
		s->bad_decode++;
		return;
	}
	if (k.paylen) {
		int d = k.src.port == s->cport ? 0 : 1;
		if (s->gotn[d] + k.paylen <= sizeof(s->got[d])) {
			memcpy(s->got[d] + s->gotn[d], k.payload, k.paylen);
			s->gotn[d] += k.paylen;
		}
	}
}

static void test_wire(int v6)
{
	static struct probe_conv cv;
	struct sink s;
	uint8_t a[3000], b[5000];
	size_t i;
	char what[96];
	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7);
	check("conv made", probe_conv_init(&cv) == 0);
	cv.cli.family = cv.srv.family = v6 ? 6 : 4;
	if (v6) {
		cv.cli.addr[15] = 1;
		cv.srv.addr[0] = 0x20;
		cv.srv.addr[1] = 0x01;
		cv.srv.addr[15] = 2;
	} else {
		cv.cli.addr[0] = 10, cv.cli.addr[3] = 1;
		cv.srv.addr[0] = 10, cv.srv.addr[3] = 2;
	}
	cv.cli.port = 40000;
	cv.srv.port = 443;
	probe_conv_add(&cv, 1000, PW_SYN, 0, NULL, 0);
	probe_conv_add(&cv, 2000, PW_SYNACK, 1, NULL, 0);
	probe_conv_add(&cv, 3000, PW_DATA, 0, a, sizeof(a));
	probe_conv_add(&cv, 4000, PW_DATA, 1, b, sizeof(b));
	probe_conv_add(&cv, 5000, PW_FIN, 1, NULL, 0);
	probe_conv_add(&cv, 6000, PW_FIN, 0, NULL, 0);
	memset(&s, 0, sizeof(s));
	s.v6 = v6;
	s.cport = 40000;
	probe_wire_emit(&cv, 0xfffffff0u, on_pkt, &s);   /* sequence numbers wrap */
	snprintf(what, sizeof(what), "IPv%d: checksums valid", v6 ? 6 : 4);
	check(what, s.n > 8 && s.bad_ck == 0);
	snprintf(what, sizeof(what), "IPv%d: every packet decodes", v6 ? 6 : 4);
	check(what, s.bad_decode == 0);
	snprintf(what, sizeof(what), "IPv%d: both streams carried in order", v6 ? 6 : 4);
	check(what, s.gotn[0] == sizeof(a) && memcmp(s.got[0], a, sizeof(a)) == 0 && s.gotn[1] == sizeof(b) &&
			    memcmp(s.got[1], b, sizeof(b)) == 0);
	probe_conv_free(&cv);
}

int main(void)
{
	test_hello();
	test_tls13();
	test_wire(0);
	test_wire(1);
	return check_done();
}
