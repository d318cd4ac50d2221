/*
 * test_rare.c - what a record keeps in its struct hs_rare (record.h,
 * issue 19), on recorded handshakes read through the flow table: a clean
 * handshake makes none, unless it ends with a RST (that is what keeps an
 * open handshake small), and each rare fact lands there and reads back through hs_rare(): a
 * HelloRetryRequest and the second ClientHello, a client certificate, a
 * non-TLS answer, a RST. A record without one reads as empty.
 */
#include "dissect/decode.h"
#include "dissect/flow.h"
#include "dissect/record.h"
#include "dissect/x509.h"
#include "tests/unit/check.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#define MAXREC 16

struct seen {
	unsigned n;
	unsigned rare;          /* records that made a struct hs_rare */
	unsigned complete;
	unsigned hrr, ch2, client_certs, nontls, rst;
};

static void done(struct hs_record *r, void *arg)
{
	struct seen *s = arg;
	const struct hs_rare *x = hs_rare(r);
	uint16_t i;
	s->n++;
	s->rare += r->rare != NULL;
	s->complete += r->complete != 0;
	s->hrr += x->hrr != NULL;
	s->ch2 += x->ch2 != NULL;
	s->client_certs += x->client_chain.present;
	s->nontls += x->nontls_len > 0;
	s->rst += hs_at_frame(r, DIR_C2S, HS_AT_RST) || hs_at_frame(r, DIR_S2C, HS_AT_RST);
	/* without a rare part, the shared empty one: every count 0, pre and
	 * nontls empty arrays, not NULL */
	if (!r->rare)
		CHECK(x == &hs_no_rare && x->d[0].pre && x->d[1].pre && x->nontls && !x->d[0].pre_len &&
		      !x->d[1].retransmissions && !x->steer && !x->dec);
	/* what app/main.c does with a finished record: its certificates' references back */
	for (i = 0; i < r->server_chain.n; i++)
		x509_put(r->server_chain.c[i].x);
	for (i = 0; i < x->client_chain.n; i++)
		x509_put(x->client_chain.c[i].x);
	record_free(r);
}

/* Every TCP segment of `path` through a flow table; 0 when it could not be read. */
static int run(const char *path, struct seen *s)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct flow_table *ft;
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t frame = 0;
	int64_t last = 0;
	memset(s, 0, sizeof(*s));
	if (!p) {
		check_that(0, __LINE__, "%s: %s", path, err);
		return 0;
	}
	ft = flow_table_new(NULL, done, s);
	while (ft && pcap_next_ex(p, &h, &d) == 1) {
		struct pkt k;
		memset(&k, 0, sizeof(k));
		k.frame = ++frame;
		k.ts_us = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
		last = k.ts_us;
		if (pkt_decode(pcap_datalink(p), d, h->caplen, h->len, &k) == PKT_OK)
			flow_packet(ft, &k);
	}
	flow_table_free(ft, last);
	pcap_close(p);
	return ft != NULL;
}

int main(void)
{
	static const char *const clean[] = {
		"pcaps/tls12-ok.pcap", "pcaps/tls13-ok.pcap", "pcaps/alb-tls12-ok.pcap", "pcaps/tls12-ipv6.pcap",
		"pcaps/tls12-long-chain.pcap", "pcaps/hs-http2-200-nginx.pcap",
	};
	struct seen s;
	size_t i;
	unsigned rst = 0;
	for (i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		if (!run(clean[i], &s))
			continue;
		CHECK_INTF((long long)(s.n > 0 && s.complete == s.n), 1, "%s: every connection complete", clean[i]);
		CHECK_INTF((long long)s.rare, (long long)s.rst, "%s: a rare part only for a RST", clean[i]);
		rst += s.rst;
	}
	CHECK(rst >= 1 && rst < sizeof(clean) / sizeof(clean[0]));   /* both kinds were seen */
	if (run("pcaps/tls13-hello-retry.pcap", &s)) {
		CHECK(s.n >= 1 && s.complete == s.n);
		CHECK(s.hrr == s.n && s.ch2 == s.n && s.rare == s.n);
	}
	if (run("pcaps/hs-client-cert-tls12-java.pcap", &s))
		CHECK(s.client_certs >= 1 && s.rare >= s.client_certs);
	if (run("pcaps/alb-to-plain-http.pcap", &s))
		CHECK(s.nontls >= 1 && s.rare >= s.nontls);
	if (run("pcaps/server-rst-after-client-hello.pcap", &s))
		CHECK(s.rst >= 1 && s.rare >= s.rst);
	return check_done();
}
