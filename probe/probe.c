/*
 * probe.c - `tlswhy probe`: connect to a target as an AWS load balancer
 * would, read its answer, run it through the pipeline, and when it fails,
 * try variants that change one thing each (probe.h).
 *
 * One connection:
 *   resolve once (first address) -> non-blocking connect, PROBE_TIMEOUT_MS
 *   -> [PROXY header] ClientHello -> read until the server's flight is
 *   complete (ServerHelloDone; a HelloRetryRequest; an alert; a TLS 1.3
 *   ServerHello then PROBE_QUIET_MS without bytes; a non-TLS answer then
 *   PROBE_QUIET_MS of silence), the server closes, or the handshake timer
 *   runs out -> after a ServerHello, a warning user_canceled alert (the
 *   probe stops on purpose; rules/probe.rules knows it) -> close (FIN).
 *   A TLS 1.3 flight is opened with the probe's own key share (tls13.c)
 *   to see a CertificateRequest. The conversation becomes packets
 *   (wire.c) for the pipeline and -w.
 *
 * The server's bytes are read by a small bounds-checked record scanner
 * (dissect/cursor.h) only to know when to stop reading; what they mean is
 * decided by the dissector and the rules, from the rebuilt packets.
 *
 * Differential: when the first (load-balancer-like) handshake fails, round
 * 1 tries each applicable one-change variant; if none is accepted and one
 * moved the failure (say protocol_version became handshake_failure), round
 * 2 tries the others on top of it. At most PROBE_MAX_CONNS connections in
 * all. A variant is accepted when the target answers with a ServerHello
 * (or a HelloRetryRequest) and no alert.
 *
 * Limits: PROBE_WIRE_MAX_BYTES read per direction; one address per run.
 */
#include "probe/probe.h"
#include "probe/hello.h"
#include "probe/tls13.h"
#include "probe/wire.h"

#include "capture/cap.h"
#include "dissect/cursor.h"
#include "dissect/flow.h"
#include "dissect/fp.h"
#include "dissect/names.h"
#include "dissect/record.h"
#include "dissect/x509.h"
#include "report/esc.h"
#include "report/report.h"
#include "rules/rules.h"

#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- outcomes ---- */

enum probe_tcp {
	PT_OK = 0,
	PT_REFUSED,       /* RST to the SYN */
	PT_NO_SYNACK,     /* no answer to the SYN within the timer */
	PT_UNREACH,       /* ICMP unreachable, or another connect error */
};

struct probe_res {
	enum probe_tcp tcp;
	int err_no;
	int timed_out;            /* the handshake timer ran out */
	int have_rec;
	uint8_t stage;
	int sh, hrr;
	uint16_t version, cipher, hrr_group;
	int alert;                /* the server sent an alert */
	int alert_enc;
	uint8_t alert_desc;
	int cert_request;
	struct probe_t13 t13;     /* TLS 1.3: the flight opened with our key share */
	int nontls;
	uint8_t nontls_bytes[64];
	uint16_t nontls_len;
	int closed_fin, closed_rst; /* by the server */
	char leaf_key[48];        /* "EC secp521r1", "RSA 2048", ... */
	char rule[64];            /* the pipeline's diagnosis, "" none */
};

/* ---- run state ---- */

struct probe {
	/* options */
	const char *host;
	char port[8];
	enum probe_policy policy;
	const char *sni;          /* name for the SNI variant (--sni, else a DNS host) */
	int send_sni;
	const char *alpn;
	int proxy;                /* 0, 1 or 2: PROXY header on the first hello */
	const char *chfile;
	int conn_n;               /* --conn, 0 = first from a load balancer */
	int diff;
	int max_conns;
	int timeout_ms;
	const char *wpath;
	int wpath_in_place;       /* privileges dropped: -w written in place, not renamed */
	/* target */
	struct sockaddr_storage sa;
	socklen_t salen;
	char addrtxt[INET6_ADDRSTRLEN];
	/* pipeline */
	struct rule_set *rules;
	struct x509_cache *certs;   /* the run's certificate cache */
	struct rpt rpt;
	struct rpt_probe pr;       /* what the reports say of the probe */
	struct cap_run run;
	struct cap_input in;
	struct flow_stats fs;
	pcap_t *dead;
	pcap_dumper_t *dump;
	char tmppath[4096];
	/* per connection */
	int nconns;
	int report_this;          /* rpt_conn the record being fed */
	struct probe_res *cur;
	int failed;               /* the pipeline diagnosed a failure in a reported record */
	uint8_t replay[65536];    /* --client-hello-from bytes */
	size_t replay_len;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One connection's result for the reports; its index in p->pr.t, -1 when full. */
static int note_try(struct probe *p, int round, const char *variant, const char *outcome, const char *rule, int acc)
{
	struct rpt_probe_try *t;
	if (p->pr.n >= RPT_PROBE_TRIES)
		return -1;
	t = &p->pr.t[p->pr.n];
	t->conn = p->nconns;
	t->round = round;
	t->variant = variant;
	t->accepted = acc;
	snprintf(t->outcome, sizeof(t->outcome), "%s", outcome);
	snprintf(t->rule, sizeof(t->rule), "%s", rule);
	return p->pr.n++;
}

/* The verdict: printed as the "verdict:" line and kept for the reports. */
static void verdict(struct probe *p, FILE *vo, const char *id, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void verdict(struct probe *p, FILE *vo, const char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->pr.text, sizeof(p->pr.text), fmt, ap);
	va_end(ap);
	snprintf(p->pr.verdict, sizeof(p->pr.verdict), "%s", id);
	fprintf(vo, "verdict: %s  %s\n", id, p->pr.text);
}

static void evidence(struct probe *p, int idx)
{
	if (idx >= 0 && p->pr.n_evidence < (int)(sizeof(p->pr.evidence) / sizeof(p->pr.evidence[0])))
		p->pr.evidence[p->pr.n_evidence++] = idx;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- when to stop reading: a record scanner ---- */

struct scan {
	size_t off;               /* stream bytes scanned as whole records */
	uint8_t hs[65536];        /* plaintext handshake bytes, joined across records */
	size_t hslen, hsoff;
	int tls13, enc, done, nontls, quiet;
	int sh, alert;            /* a ServerHello (or HRR); an alert record */
};

static void scan_hs(struct scan *s)
{
	while (!s->done && s->hslen - s->hsoff >= 4) {
		struct cur c = cur_make(s->hs + s->hsoff, s->hslen - s->hsoff);
		uint8_t t = cur_u8(&c);
		uint32_t l = cur_u24(&c);
		const uint8_t *body = cur_bytes(&c, l);
		if (!body)
			return;   /* the rest of the message is still to come */
		s->hsoff += 4 + (size_t)l;
		if (t == 2) {
			s->sh = 1;
			static const uint8_t hrr_random[32] = {
				0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
				0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
			};
			struct cur b = cur_make(body, l);
			const uint8_t *rnd;
			cur_skip(&b, 2);
			rnd = cur_bytes(&b, 32);
			if (rnd && memcmp(rnd, hrr_random, 32) == 0) {
				s->done = 1;   /* HelloRetryRequest: a whole flight */
				return;
			}
			cur_skip(&b, cur_u8(&b));
			cur_skip(&b, 3);
			{
				struct cur e = cur_sub(&b, cur_u16(&b));
				while (!e.err && cur_left(&e) >= 4) {
					uint16_t et = cur_u16(&e);
					struct cur ev = cur_sub(&e, cur_u16(&e));
					if (et == 43 && cur_u16(&ev) == 0x0304)
						s->tls13 = 1;
				}
			}
		} else if (t == 14) {
			s->done = 1;   /* ServerHelloDone */
		}
	}
}

/* `b`: the whole server stream so far. */
static void scan_feed(struct scan *s, const uint8_t *b, size_t n)
{
	while (!s->done && !s->nontls) {
		struct cur c = cur_make(b + s->off, n - s->off);
		uint8_t type;
		uint16_t ver, len;
		const uint8_t *body;
		if (cur_left(&c) >= 1 && (b[s->off] < 20 || b[s->off] > 24)) {
			s->nontls = 1;
			break;
		}
		type = cur_u8(&c);
		ver = cur_u16(&c);
		len = cur_u16(&c);
		if (c.err)
			break;
		if ((ver >> 8) != 3) {
			s->nontls = 1;
			break;
		}
		body = cur_bytes(&c, len);
		if (!body)
			break;
		s->off += 5 + (size_t)len;
		if (type == 21) {
			s->alert = 1;
			s->done = 1;   /* an alert ends the flight (encrypted ones too) */
		} else if (type == 23) {
			s->enc++;
		} else if (type == 22 && !s->enc) {
			if (len > sizeof(s->hs) - s->hslen) {
				s->quiet = 1;   /* too large to follow: wait for silence */
				continue;
			}
			memcpy(s->hs + s->hslen, body, len);
			s->hslen += len;
			scan_hs(s);
		}
	}
	if (s->nontls || (s->tls13 && s->enc) || s->quiet)
		s->quiet = 1;
}

/* ---- the pipeline ---- */

static void on_record(struct hs_record *r, void *arg)
{
	struct probe *p = arg;
	struct probe_res *res = p->cur;
	struct rule_verdict *v;
	struct rule_ctx ctx;
	uint16_t i;
	r->id = (uint64_t)p->nconns;
	if (res) {
		res->have_rec = 1;
		res->stage = r->stage;
		if (r->sh) {
			res->sh = 1;
			res->version = r->sh->version;
			res->cipher = r->sh->cipher;
		}
		if (hs_rare(r)->hrr) {
			res->hrr = 1;
			res->hrr_group = hs_rare(r)->hrr->key_share_group;
		}
		for (i = 0; i < r->n_alerts; i++)
			if (r->alerts[i].dir == DIR_S2C) {
				res->alert = 1;
				res->alert_enc = r->alerts[i].encrypted;
				res->alert_desc = r->alerts[i].description;
				break;
			}
		res->cert_request = r->cert_request;
		if (r->nontls_dir == DIR_S2C) {
			res->nontls = 1;
			res->nontls_len = hs_rare(r)->nontls_len < sizeof(res->nontls_bytes) ? hs_rare(r)->nontls_len
									      : (uint16_t)sizeof(res->nontls_bytes);
			memcpy(res->nontls_bytes, hs_rare(r)->nontls, res->nontls_len);
		}
		if (r->server_chain.n && r->server_chain.c[0].x) {
			const struct x509_facts *x = r->server_chain.c[0].x;
			if (x->key_curve[0])
				snprintf(res->leaf_key, sizeof(res->leaf_key), "%s %s", x509_key_name(x->key_type),
					 x->key_curve);
			else
				snprintf(res->leaf_key, sizeof(res->leaf_key), "%s %d", x509_key_name(x->key_type),
					 x->key_bits);
		}
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.capture_end_us = p->run.last_ts_us;
	ctx.server_leaf_hint = r->server_chain.n ? r->server_chain.c[0].x : NULL;
	v = rule_eval(p->rules, r, &ctx);
	if (res && v && v->diag)
		snprintf(res->rule, sizeof(res->rule), "%s", v->diag->rule);
	if (p->report_this && rpt_wanted(&p->rpt, r)) {
		if (rule_verdict_failed(v))
			p->failed = 1;
		rpt_conn(&p->rpt, r, v);
	}
	rule_verdict_free(v);
	for (i = 0; i < r->server_chain.n; i++)
		x509_put(r->server_chain.c[i].x);
	for (i = 0; i < hs_rare(r)->client_chain.n; i++)
		x509_put(hs_rare(r)->client_chain.c[i].x);
	record_free(r);
}

static void on_packet(void *arg, int64_t ts_us, const uint8_t *pkt, uint32_t len)
{
	struct probe *p = arg;
	if (p->dump) {
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(ts_us / 1000000);
		h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
		h.caplen = h.len = len;
		pcap_dump((u_char *)p->dump, &h, pkt);
	}
	cap_packet(&p->run, &p->in, ts_us, pkt, len, len);
}

/* One flow table per connection: the record is ready when it is freed. */
static void feed(struct probe *p, const struct probe_conv *cv, struct probe_res *res, int report)
{
	struct flow_limits lim;
	const struct flow_stats *s;
	flow_limits_default(&lim);
	lim.certs = p->certs;
	p->run.ft = flow_table_new(&lim, on_record, p);
	if (!p->run.ft)
		return;
	p->cur = res;
	p->report_this = report;
	probe_wire_emit(cv, (uint32_t)(now_us() * 2654435761u), on_packet, p);
	s = flow_table_stats(p->run.ft);
	p->fs.flows_created += s->flows_created;
	p->fs.untracked_segments += s->untracked_segments;
	if (s->flows_active_max > p->fs.flows_active_max)
		p->fs.flows_active_max = s->flows_active_max;
	flow_table_free(p->run.ft, p->run.last_ts_us);
	p->run.ft = NULL;
	p->cur = NULL;
	cap_frag_release(&p->run);
}

/* ---- one connection ---- */

static void ep_from(struct probe_ep *ep, const struct sockaddr_storage *ss)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		ep->family = 6;
		memcpy(ep->addr, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		ep->family = 4;
		memcpy(ep->addr, &s4->sin_addr, 4);
		ep->port = ntohs(s4->sin_port);
	}
}

/* PROXY protocol header (HAProxy's doc/proxy-protocol.txt), with the
 * probe's real addresses. Returns its length. */
static size_t proxy_header(int version, const struct probe_ep *c, const struct probe_ep *s, uint8_t *out,
			   size_t cap)
{
	if (version == 1) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		int af = c->family == 6 ? AF_INET6 : AF_INET, n;
		inet_ntop(af, c->addr, a, sizeof(a));
		inet_ntop(af, s->addr, b, sizeof(b));
		n = snprintf((char *)out, cap, "PROXY %s %s %s %u %u\r\n", c->family == 6 ? "TCP6" : "TCP4", a, b,
			     c->port, s->port);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	} else {
		static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
		size_t al = c->family == 6 ? 16 : 4, n = 16 + 2 * al + 4;
		if (cap < n)
			return 0;
		memcpy(out, sig, 12);
		out[12] = 0x21;                               /* v2, PROXY */
		out[13] = c->family == 6 ? 0x21 : 0x11;       /* TCP over IPv6 / IPv4 */
		out[14] = (uint8_t)((2 * al + 4) >> 8);
		out[15] = (uint8_t)(2 * al + 4);
		memcpy(out + 16, c->addr, al);
		memcpy(out + 16 + al, s->addr, al);
		out[16 + 2 * al] = (uint8_t)(c->port >> 8);
		out[17 + 2 * al] = (uint8_t)c->port;
		out[18 + 2 * al] = (uint8_t)(s->port >> 8);
		out[19 + 2 * al] = (uint8_t)s->port;
		return n;
	}
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd pfd = { fd, ev, 0 };
	int rc;
	do
		rc = poll(&pfd, 1, ms < 0 ? 0 : ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Connects, sends [PROXY] + hello, reads the answer, feeds the pipeline. */
static void run_conn(struct probe *p, int proxy, const uint8_t *hello, size_t hlen,
		     const struct probe_keys *keys, struct probe_res *res, int report)
{
	static struct probe_conv cv;
	static struct scan sc;
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);
	int64_t deadline;

	memset(res, 0, sizeof(*res));
	if (probe_conv_init(&cv)) {
		res->tcp = PT_UNREACH;
		res->err_no = ENOMEM;
		return;
	}
	p->nconns++;
	ep_from(&cv.srv, &p->sa);
	fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		res->tcp = PT_UNREACH;
		res->err_no = errno;
		probe_conv_free(&cv);
		return;
	}
	rc = connect(fd, (struct sockaddr *)&p->sa, p->salen);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
		ep_from(&cv.cli, &local);
	probe_conv_add(&cv, now_us(), PW_SYN, 0, NULL, 0);
	if (rc < 0 && errno != EINPROGRESS) {
		soerr = errno;
	} else if (rc < 0) {
		rc = wait_fd(fd, POLLOUT, p->timeout_ms);
		if (rc == 0)
			soerr = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
	}
	/* the local address may be chosen only once the SYN is out */
	ll = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0) {
		struct probe_ep e;
		static const uint8_t zero[16];
		ep_from(&e, &local);
		if (memcmp(e.addr, zero, sizeof(zero)) != 0) {
			cv.cli = e;
		} else {
			/* still unbound (no SYN-ACK): the source the kernel routes from */
			int u = socket(p->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			struct sockaddr_storage us;
			socklen_t ul = sizeof(us);
			if (u >= 0 && connect(u, (struct sockaddr *)&p->sa, p->salen) == 0 &&
			    getsockname(u, (struct sockaddr *)&us, &ul) == 0) {
				ep_from(&e, &us);
				memcpy(cv.cli.addr, e.addr, sizeof(e.addr));
			}
			if (u >= 0)
				close(u);
		}
	}
	if (soerr) {
		res->err_no = soerr;
		res->tcp = soerr == ECONNREFUSED ? PT_REFUSED : soerr == ETIMEDOUT ? PT_NO_SYNACK : PT_UNREACH;
		if (res->tcp == PT_REFUSED)
			probe_conv_add(&cv, now_us(), PW_REFUSED, 1, NULL, 0);
		close(fd);
		if (res->tcp != PT_UNREACH)
			feed(p, &cv, res, report);
		probe_conv_free(&cv);
		return;
	}
	probe_conv_add(&cv, now_us(), PW_SYNACK, 1, NULL, 0);
	{
		uint8_t buf[PROBE_HELLO_MAX + 65536 + 128];
		size_t n = 0, sent = 0;
		if (proxy)
			n = proxy_header(proxy, &cv.cli, &cv.srv, buf, sizeof(buf));
		if (hlen > sizeof(buf) - n)
			hlen = sizeof(buf) - n;
		memcpy(buf + n, hello, hlen);
		n += hlen;
		deadline = mono_ms() + p->timeout_ms;
		while (sent < n) {
			ssize_t w = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
			if (w > 0) {
				probe_conv_add(&cv, now_us(), PW_DATA, 0, buf + sent, (size_t)w);
				sent += (size_t)w;
			} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd(fd, POLLOUT, (int)(deadline - mono_ms())) == 0)
					break;
			} else {
				break;
			}
		}
	}
	memset(&sc, 0, sizeof(sc));
	for (;;) {
		uint8_t buf[16384];
		ssize_t r;
		int left = (int)(deadline - mono_ms());
		int wait = sc.quiet && left > PROBE_QUIET_MS ? PROBE_QUIET_MS : left;
		if (left <= 0 || wait_fd(fd, POLLIN, wait) == 0) {
			if (left <= 0 || !sc.quiet)
				res->timed_out = 1;
			break;
		}
		r = recv(fd, buf, sizeof(buf), 0);
		if (r > 0) {
			probe_conv_add(&cv, now_us(), PW_DATA, 1, buf, (size_t)r);
			if (cv.nbytes[1] >= PROBE_WIRE_MAX_BYTES)
				break;
			scan_feed(&sc, cv.bytes[1], cv.nbytes[1]);
			if (sc.done)
				break;
		} else if (r == 0) {
			res->closed_fin = 1;
			probe_conv_add(&cv, now_us(), PW_FIN, 1, NULL, 0);
			break;
		} else if (errno != EAGAIN && errno != EINTR) {
			res->closed_rst = errno == ECONNRESET;
			probe_conv_add(&cv, now_us(), res->closed_rst ? PW_RST : PW_FIN, 1, NULL, 0);
			break;
		}
	}
	if (sc.tls13 && keys && keys->n && hlen > 5)
		probe_t13_open(keys, hello + 5, hlen - 5, cv.bytes[1], cv.nbytes[1], &res->t13);
	if (!res->closed_rst) {
		/* anything unread would turn the close into a RST: drain first */
		uint8_t junk[4096];
		while (recv(fd, junk, sizeof(junk), 0) > 0)
			;
		if (sc.sh && !sc.alert && !res->closed_fin) {
			/* the answer is in: stop on purpose, and say so (RFC 5246
			 * 7.2.2 user_canceled, warning) so that no reader of these
			 * packets takes the close for the target's failure */
			static const uint8_t cancel[7] = { 21, 3, 3, 0, 2, 1, 90 };
			if (send(fd, cancel, sizeof(cancel), MSG_NOSIGNAL) == (ssize_t)sizeof(cancel))
				probe_conv_add(&cv, now_us(), PW_DATA, 0, cancel, sizeof(cancel));
		}
		probe_conv_add(&cv, now_us(), PW_FIN, 0, NULL, 0);
	}
	close(fd);
	feed(p, &cv, res, report);
	probe_conv_free(&cv);
}

/* ---- describing outcomes ---- */

static int accepted(const struct probe_res *r)
{
	return r->tcp == PT_OK && (r->sh || r->hrr) && !r->alert;
}

static void outcome_text(const struct probe_res *r, char *b, size_t n)
{
	if (r->tcp == PT_REFUSED)
		snprintf(b, n, "connection refused (RST to the SYN)");
	else if (r->tcp == PT_NO_SYNACK)
		snprintf(b, n, "no SYN-ACK within the timer");
	else if (r->tcp == PT_UNREACH)
		snprintf(b, n, "connect failed: %s", strerror(r->err_no));
	else if (r->alert && r->alert_enc)
		snprintf(b, n, "%sencrypted alert", r->sh ? "ServerHello, then " : "");
	else if (r->alert)
		snprintf(b, n, "%salert %s (%u)", r->sh ? "ServerHello, then " : "", names_alert(r->alert_desc),
			 r->alert_desc);
	else if (r->sh)
		snprintf(b, n, "ServerHello %s %s%s%s", names_version(r->version), names_suite_name(r->cipher),
			 r->cert_request ? ", CertificateRequest" : "",
			 r->t13.cert_request ? ", CertificateRequest (decrypted with the probe's key share)" :
			 r->t13.opened ? ", no CertificateRequest (decrypted)" : "");
	else if (r->hrr)
		snprintf(b, n, "HelloRetryRequest for %s", names_group(r->hrr_group));
	else if (r->nontls) {
		char e[300];
		esc_text(e, sizeof(e), r->nontls_bytes, r->nontls_len);
		snprintf(b, n, "not TLS: \"%s\"", e);
	} else if (r->closed_rst)
		snprintf(b, n, "reset by the target, no alert");
	else if (r->closed_fin)
		snprintf(b, n, "closed by the target (FIN), no alert");
	else if (r->timed_out)
		snprintf(b, n, "no answer before the timer ran out");
	else
		snprintf(b, n, "no ServerHello");
}

/* Two failures alike (for "did the variant move the failure?"). */
static int same_failure(const struct probe_res *a, const struct probe_res *b)
{
	if (a->tcp != b->tcp || a->alert != b->alert || a->nontls != b->nontls)
		return 0;
	if (a->alert)
		return a->alert_desc == b->alert_desc && a->alert_enc == b->alert_enc;
	return a->closed_rst == b->closed_rst && a->closed_fin == b->closed_fin && a->timed_out == b->timed_out;
}

/* ---- variants ---- */

enum var {
	V_SNI = 0, V_PROXY,
	V_G_X25519, V_G_P256, V_G_P384, V_G_P521, V_G_X448,
	V_S_PSS_RSAE, V_S_PKCS1, V_S_ECDSA, V_S_ED25519, V_S_PSS_PSS,
	V_SU_CHACHA, V_SU_DHE,
	V_EMS, V_ALPN_H2, V_ALPN_H11, V_ALPN_NONE,
	V_TLS13, V_TLS13_ONLY,
	V__COUNT
};

/* What each variant means when it is the one accepted: a cause id, the
 * cause, the target-side fix, the listener-side alternative (or NULL). */
struct var_info {
	const char *id;
	const char *cause;
	const char *fix;
	const char *listener;
};

static const struct var_info var_info[V__COUNT] = {
	[V_SNI] = { "needs-sni", "The target requires SNI; an AWS load balancer sends none to targets",
		"nginx: give the default server a certificate instead of `ssl_reject_handshake on;` "
		"(listen 443 ssl default_server; ssl_certificate ...;); Envoy/Istio: a filter chain without server_names",
		NULL },
	[V_PROXY] = { "expects-proxy", "The target expects a PROXY protocol header; an ALB never sends one",
		"nginx: `listen 443 ssl;` (drop `proxy_protocol` from the listen line); HAProxy: drop `accept-proxy`",
		"an NLB target group with proxy_protocol_v2.enabled=true sends it (an ALB cannot)" },
	[V_G_X25519] = { "needs-group-x25519", "The target's key exchange needs X25519, which this offer lacks",
		"nginx: ssl_ecdh_curve X25519:prime256v1:secp384r1;",
		"put the listener on a TLS 1.3 policy (its backend offer has X25519)" },
	[V_G_P256] = { "needs-group-p256", "The target needs the P-256 group", "nginx: ssl_ecdh_curve prime256v1:secp384r1;", NULL },
	[V_G_P384] = { "needs-group-p384", "The target needs the P-384 group", "nginx: ssl_ecdh_curve prime256v1:secp384r1;", NULL },
	[V_G_P521] = { "needs-group-p521",
		"The target needs P-521 (its ECDSA certificate's curve, or its only ECDHE group), which the load balancer's offer lacks (P-256 and P-384 only: inferred, see the offer note)",
		"re-issue the certificate on P-256 or P-384 (openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 ...), "
		"or nginx: ssl_ecdh_curve prime256v1:secp384r1:secp521r1;", NULL },
	[V_G_X448] = { "needs-group-x448", "The target accepts only the X448 group, which no AWS backend offer has",
		"nginx: ssl_ecdh_curve X25519:prime256v1:secp384r1:X448; (openssl s_server: -groups X25519:P-256:X448)", NULL },
	[V_S_PSS_RSAE] = { "needs-sigalg-rsa-pss-rsae", "The target signs only with RSA-PSS (rsa_pss_rsae_*), which the TLS 1.2 offer lacks",
		"allow PKCS#1 signatures on the target (OpenSSL: drop a SignatureAlgorithms restriction to PSS)",
		"put the listener on a TLS 1.3 policy" },
	[V_S_PKCS1] = { "needs-sigalg-rsa-pkcs1", "The target needs RSA PKCS#1 signature schemes", "allow rsa_pss_rsae_* on the target", NULL },
	[V_S_ECDSA] = { "needs-sigalg-ecdsa", "The target needs ECDSA signature schemes", "use an RSA certificate on the target", NULL },
	[V_S_ED25519] = { "needs-sigalg-ed25519",
		"The target's certificate key is Ed25519/Ed448; the load balancer offers no EdDSA signature scheme (0x0807/0x0808)",
		"replace the certificate with an ECDSA P-256 or RSA 2048 one (nginx: ssl_certificate/ssl_certificate_key; "
		"nginx may hold both: two ssl_certificate lines)", NULL },
	[V_S_PSS_PSS] = { "needs-sigalg-rsa-pss-pss",
		"The target's key is an RSA-PSS key (id-RSASSA-PSS), usable only with rsa_pss_pss_* schemes (0x0809-0x080b), which the load balancer does not offer",
		"re-issue the key as a plain RSA key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048), "
		"or add an ECDSA certificate beside it", NULL },
	[V_SU_CHACHA] = { "needs-chacha20", "The target accepts only CHACHA20-POLY1305 suites, which this offer lacks (of the AWS backend offers only ELBSecurityPolicy-TLS13-1-0-2021-06 has one, TLS_CHACHA20_POLY1305_SHA256, in TLS 1.3)",
		"nginx: ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
		NULL },
	[V_SU_DHE] = { "needs-dhe", "The target accepts only DHE suites; AWS backend offers have ECDHE and static RSA, no DHE",
		"nginx: ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256;",
		NULL },
	[V_EMS] = { "ems", "The target's answer depends on extended_master_secret (RFC 7627)",
		"OpenSSL: check Options -RequireEMS / -NoEMS style settings on the target", NULL },
	[V_ALPN_H2] = { "needs-alpn-h2", "The target requires ALPN h2",
		"accept http/1.1 or no ALPN on the target", "set the target group's protocol version to HTTP2 (or gRPC): the ALB then offers h2" },
	[V_ALPN_H11] = { "needs-alpn-http1.1", "The target requires ALPN http/1.1",
		"accept a ClientHello without ALPN on the target", "set the target group's protocol version to HTTP1" },
	[V_ALPN_NONE] = { "rejects-alpn", "The target refuses the offered ALPN protocol",
		"enable the protocol on the target (nginx: http2 on;)", "change the target group's protocol version" },
	[V_TLS13] = { "needs-tls13", "The target accepts only TLS 1.3; the ELBSecurityPolicy-2016-08 backend offer stops at TLS 1.2",
		"nginx: ssl_protocols TLSv1.2 TLSv1.3; (Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3)",
		"aws elbv2 modify-listener --listener-arn LISTENER_ARN --ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 "
		"(the backend offer becomes ELBSecurityPolicy-TLS13-1-0-2021-06)" },
	[V_TLS13_ONLY] = { "needs-tls13-suites", "The target accepts only TLS 1.3 suites",
		"nginx: ssl_protocols TLSv1.2 TLSv1.3; with ECDHE-*-AES-GCM TLS 1.2 suites",
		"put the listener on a TLS 1.3 policy" },
};

static const char *const var_label[V__COUNT] = {
	[V_SNI] = "SNI added", [V_PROXY] = "PROXY v2 header",
	[V_G_X25519] = "group x25519 added", [V_G_P256] = "group P-256 added", [V_G_P384] = "group P-384 added",
	[V_G_P521] = "group P-521 added", [V_G_X448] = "group X448 added",
	[V_S_PSS_RSAE] = "sigalgs rsa_pss_rsae added", [V_S_PKCS1] = "sigalgs rsa_pkcs1 added",
	[V_S_ECDSA] = "sigalgs ecdsa added", [V_S_ED25519] = "sigalgs ed25519/ed448 added",
	[V_S_PSS_PSS] = "sigalgs rsa_pss_pss added",
	[V_SU_CHACHA] = "CHACHA20 suites added", [V_SU_DHE] = "DHE suites added",
	[V_EMS] = "extended_master_secret toggled", [V_ALPN_H2] = "ALPN h2", [V_ALPN_H11] = "ALPN http/1.1",
	[V_ALPN_NONE] = "ALPN removed", [V_TLS13] = "TLS 1.3 allowed", [V_TLS13_ONLY] = "TLS 1.3 only",
};

static int add_all(uint16_t *list, size_t *n, size_t cap, const uint16_t *v, size_t nv, int front)
{
	size_t i;
	int changed = 0;
	for (i = nv; i-- > 0;)
		if (!probe_list_has(list, *n, v[front ? i : nv - 1 - i])) {
			if (probe_list_add(list, n, cap, v[front ? i : nv - 1 - i], front))
				return -1;
			changed = 1;
		}
	return changed ? 0 : -1;
}

/* Applies variant v to c (and *proxy); -1 when it would change nothing. */
static int apply_var(const struct probe *p, enum var v, struct probe_hello_cfg *c, int *proxy)
{
	static const uint16_t pss_rsae[] = { 0x0804, 0x0805, 0x0806 }, pkcs1[] = { 0x0401, 0x0501, 0x0601 },
			      ecdsa[] = { 0x0403, 0x0503, 0x0603 }, eddsa[] = { 0x0807, 0x0808 },
			      pss_pss[] = { 0x0809, 0x080a, 0x080b }, chacha[] = { 0xcca9, 0xcca8 },
			      dhe[] = { 0x009e, 0x009f, 0x0067, 0x006b, 0x0033, 0x0039 },
			      t13[] = { 0x1301, 0x1302, 0x1303 };
	int tls13 = probe_list_has(c->versions, c->nversions, 0x0304);
	uint16_t g = 0;
	switch (v) {
	case V_SNI:
		if (c->sni[0] || !p->sni)
			return -1;
		snprintf(c->sni, sizeof(c->sni), "%s", p->sni);
		return 0;
	case V_PROXY:
		*proxy = *proxy ? 0 : 2;
		return 0;
	case V_G_X25519: g = 0x001d; break;
	case V_G_P256: g = 0x0017; break;
	case V_G_P384: g = 0x0018; break;
	case V_G_P521: g = 0x0019; break;
	case V_G_X448: g = 0x001e; break;
	case V_S_PSS_RSAE: return add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, pss_rsae, 3, 0);
	case V_S_PKCS1: return add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, pkcs1, 3, 0);
	case V_S_ECDSA: return add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, ecdsa, 3, 0);
	case V_S_ED25519: return add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, eddsa, 2, 0);
	case V_S_PSS_PSS: return add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, pss_pss, 3, 0);
	case V_SU_CHACHA:
		/* an offer with TLS 1.3 gets TLS_CHACHA20_POLY1305_SHA256 too (the FIPS offer lacks it) */
		if (tls13 && !probe_list_has(c->suites, c->nsuites, 0x1303)) {
			add_all(c->suites, &c->nsuites, PROBE_MAX_SUITES, chacha, 2, 0);
			return add_all(c->suites, &c->nsuites, PROBE_MAX_SUITES, t13 + 2, 1, 0);
		}
		return add_all(c->suites, &c->nsuites, PROBE_MAX_SUITES, chacha, 2, 0);
	case V_SU_DHE: return add_all(c->suites, &c->nsuites, PROBE_MAX_SUITES, dhe, 6, 0);
	case V_EMS:
		c->ems = !c->ems;
		return 0;
	case V_ALPN_H2:
		if (strcmp(c->alpn[0], "h2") == 0)
			return -1;
		snprintf(c->alpn[0], sizeof(c->alpn[0]), "h2");
		c->alpn[1][0] = 0;
		return 0;
	case V_ALPN_H11:
		if (strcmp(c->alpn[0], "http/1.1") == 0)
			return -1;
		snprintf(c->alpn[0], sizeof(c->alpn[0]), "http/1.1");
		c->alpn[1][0] = 0;
		return 0;
	case V_ALPN_NONE:
		if (!c->alpn[0][0])
			return -1;
		c->alpn[0][0] = c->alpn[1][0] = 0;
		return 0;
	case V_TLS13:
		if (tls13)
			return -1;
		{
			static const uint16_t vv[] = { 0x0304, 0x0303, 0x0302, 0x0301 };
			memcpy(c->versions, vv, sizeof(vv));
			c->nversions = 4;
		}
		add_all(c->suites, &c->nsuites, PROBE_MAX_SUITES, t13, 3, 1);
		probe_list_add(c->groups, &c->ngroups, PROBE_MAX_GROUPS, 0x001d, 1);
		c->shares[0] = c->groups[0];
		c->nshares = 1;
		add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, pss_rsae, 3, 1);
		c->session_id = 1;
		return 0;
	case V_TLS13_ONLY:
		if (c->nversions == 1 && c->versions[0] == 0x0304)
			return -1;
		c->versions[0] = 0x0304;
		c->nversions = 1;
		memcpy(c->suites, t13, sizeof(t13));
		c->nsuites = 3;
		probe_list_add(c->groups, &c->ngroups, PROBE_MAX_GROUPS, 0x001d, 1);
		c->shares[0] = c->groups[0];
		c->nshares = 1;
		add_all(c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS, pss_rsae, 3, 1);
		c->session_id = 1;
		return 0;
	case V__COUNT:
		return -1;
	}
	/* a group: offered first, with its key share under TLS 1.3 */
	if (probe_list_has(c->groups, c->ngroups, g))
		return -1;
	if (probe_list_add(c->groups, &c->ngroups, PROBE_MAX_GROUPS, g, 1))
		return -1;
	if (tls13) {
		c->shares[0] = g;
		c->nshares = 1;
	}
	return 0;
}

/* The order in which accepted variants are taken as the cause: the most
 * specific first (TLS 1.3 also cures a curve or a signature scheme). */
static const enum var cause_order[] = {
	V_SNI, V_PROXY, V_G_P521, V_G_X448, V_G_X25519, V_G_P256, V_G_P384, V_S_ED25519, V_S_PSS_PSS,
	V_S_PSS_RSAE, V_S_PKCS1, V_S_ECDSA, V_SU_DHE, V_SU_CHACHA, V_EMS, V_ALPN_H2, V_ALPN_H11, V_ALPN_NONE,
	V_TLS13, V_TLS13_ONLY,
};

/* ---- ClientHello from a capture ---- */

struct ch_conn {
	struct hs_addr c, s;
	uint32_t next;            /* next client sequence number expected */
	int started, done, syn;
	uint8_t buf[16384 + 5];
	size_t len;
};

/* Bytes needed for the whole ClientHello message at the head of b (its
 * records included), 0 when not known yet. */
static size_t ch_need(const uint8_t *b, size_t n)
{
	size_t off = 0, hs = 0, want = 0;
	while (off + 5 <= n) {
		size_t rl = (size_t)b[off + 3] << 8 | b[off + 4];
		if (b[off] != 22)
			return off ? off : (size_t)-1;
		if (hs == 0 && off + 9 <= n)
			want = 4 + ((size_t)b[off + 6] << 16 | (size_t)b[off + 7] << 8 | b[off + 8]);
		if (off + 5 + rl > n)
			return 0;
		hs += rl;
		off += 5 + rl;
		if (want && hs >= want)
			return off;
	}
	return 0;
}

static int ch_suites_match(const uint8_t *b, size_t n)
{
	struct probe_hello_cfg d;
	struct cur c = cur_make(b, n);
	int pol;
	uint16_t i, nsu;
	cur_skip(&c, 5 + 4 + 2 + 32);
	cur_skip(&c, cur_u8(&c));
	nsu = cur_u16(&c) / 2;
	if (c.err)
		return 0;
	for (pol = 0; pol < PROBE_POL__COUNT; pol++) {
		size_t k = 0;
		struct cur s = c;
		probe_hello_default(&d, (enum probe_policy)pol);
		for (i = 0; i < nsu && !s.err; i++) {
			uint16_t v = cur_u16(&s);
			if (v == 0x00ff || names_is_grease(v))
				continue;
			if (k >= d.nsuites || d.suites[k] != v)
				break;
			k++;
		}
		if (i == nsu && k == d.nsuites && !s.err)
			return 1;
	}
	return 0;
}

static int load_client_hello(struct probe *p, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(p->chfile, ebuf);
	struct pcap_pkthdr *h;
	const u_char *d;
	static struct ch_conn conns[64];
	int nconn = 0, i, dlt, pick = -1, first = -1;
	if (!pc) {
		snprintf(err, errlen, "--client-hello-from %s: %s", p->chfile, ebuf);
		return -1;
	}
	dlt = pcap_datalink(pc);
	memset(conns, 0, sizeof(conns));
	while (pcap_next_ex(pc, &h, &d) == 1) {
		struct pkt k;
		struct ch_conn *cc = NULL;
		int dir = -1;
		memset(&k, 0, sizeof(k));
		if (pkt_decode(dlt, d, h->caplen, h->len, &k) != PKT_OK)
			continue;
		for (i = 0; i < nconn; i++) {
			if (memcmp(&conns[i].c, &k.src, sizeof(k.src)) == 0 && memcmp(&conns[i].s, &k.dst, sizeof(k.dst)) == 0)
				dir = 0;
			else if (memcmp(&conns[i].c, &k.dst, sizeof(k.dst)) == 0 && memcmp(&conns[i].s, &k.src, sizeof(k.src)) == 0)
				dir = 1;
			if (dir >= 0) {
				cc = &conns[i];
				break;
			}
		}
		if (!cc) {
			int syn = (k.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
			if (nconn >= 64 || (!syn && !(k.paylen && k.payload[0] == 22)))
				continue;
			cc = &conns[nconn++];
			cc->c = k.src;
			cc->s = k.dst;
			cc->syn = syn;
			cc->next = syn ? k.seq + 1 : k.seq;
			dir = 0;
		}
		if (dir != 0 || cc->done || !k.paylen)
			continue;
		if (!cc->started) {
			if (k.payload[0] != 22) {
				cc->done = 1;
				continue;
			}
			cc->started = 1;
			cc->next = k.seq;
		}
		if (k.seq != cc->next)
			continue;   /* only in-order bytes; a retransmission or a gap is skipped */
		{
			size_t room = sizeof(cc->buf) - cc->len, n = k.paylen < room ? k.paylen : room, need;
			memcpy(cc->buf + cc->len, k.payload, n);
			cc->len += n;
			cc->next += k.paylen;
			need = ch_need(cc->buf, cc->len);
			if (need == (size_t)-1)
				cc->done = 1, cc->len = 0;
			else if (need) {
				cc->len = need;
				cc->done = 2;
			} else if (cc->len == sizeof(cc->buf)) {
				cc->done = 1, cc->len = 0;
			}
		}
	}
	pcap_close(pc);
	for (i = 0; i < nconn; i++) {
		if (conns[i].done != 2)
			continue;
		if (p->conn_n && i + 1 == p->conn_n)
			pick = i;
		if (first < 0)
			first = i;
		if (!p->conn_n && pick < 0 && ch_suites_match(conns[i].buf, conns[i].len))
			pick = i;
	}
	if (p->conn_n && pick < 0) {
		snprintf(err, errlen, "--client-hello-from %s: connection %d has no whole ClientHello (%d connections)",
			 p->chfile, p->conn_n, nconn);
		return -1;
	}
	if (pick < 0 && first >= 0) {
		fprintf(stderr, "tlswhy probe: no ClientHello in %s matches an AWS backend policy; using the first one "
			"(connection %d)\n", p->chfile, first + 1);
		pick = first;
	}
	if (pick < 0) {
		snprintf(err, errlen, "--client-hello-from %s: no whole ClientHello found", p->chfile);
		return -1;
	}
	memcpy(p->replay, conns[pick].buf, conns[pick].len);
	p->replay_len = conns[pick].len;
	fprintf(stderr, "tlswhy probe: replaying the ClientHello of connection %d of %s (%zu bytes)\n", pick + 1,
		p->chfile, p->replay_len);
	return 0;
}

/* ---- the command ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tlswhy probe HOST[:PORT] [options]\n"
		"\n"
		"Connects to one target (port 443 by default; [v6addr]:port for IPv6) with the\n"
		"ClientHello an AWS load balancer sends it, runs the answer through the same\n"
		"dissector, rules and report as a capture, and when the handshake fails, tries\n"
		"variants that change one thing each to name the cause.\n"
		"\n"
		"  --policy P             the backend offer: 2016-08 (ELBSecurityPolicy-2016-08, the\n"
		"                         default), tls13 (ELBSecurityPolicy-TLS13-1-0-2021-06, when the\n"
		"                         listener is on a TLS 1.3 policy) or fips\n"
		"                         (ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04, on a FIPS policy)\n"
		"  --sni NAME             the name for the SNI variant (default: HOST when it is a name)\n"
		"  --send-sni             send --sni NAME in the first hello too (an ALB sends no SNI)\n"
		"  --alpn h2|http/1.1     offer ALPN, as a target group with protocol version HTTP2 / HTTP1\n"
		"  --proxy-v1, --proxy-v2 send a PROXY header first, as an NLB with proxy protocol does\n"
		"                         (an ALB never sends one)\n"
		"  --client-hello-from F  send the exact ClientHello of a connection in capture F (the\n"
		"                         first that matches an AWS backend policy)\n"
		"  --conn N               with --client-hello-from: connection N (1-based) instead\n"
		"  --no-diff              only the first handshake, no variants\n"
		"  --max-conns N          connections per run, at most %d (the default)\n"
		"  --timeout S            handshake and connect timer in seconds (default 10, the ALB's)\n"
		"  -w FILE                write the probe's packets as a pcap (raw IP)\n"
		"  -Z USER                started as root, run as USER (default nobody; -Z root keeps\n"
		"                         root): the probe needs no privilege\n"
		"  -F, --format FMT       text (default), markdown, json, jsonl or html; -o FILE\n"
		"      --color WHEN       auto, always or never\n"
		"\n"
		"Connections are %d ms apart; only HOST's first address is used; nothing but a PROXY\n"
		"header and ClientHellos is sent; no root needed.\n"
		"Exit status: 0 healthy or inconclusive, 1 failure proven, 2 usage or input error.\n",
		PROBE_MAX_CONNS, PROBE_SPACING_MS);
}

static int split_target(struct probe *p, char *arg)
{
	char *colon;
	snprintf(p->port, sizeof(p->port), "443");
	if (arg[0] == '[') {
		char *end = strchr(arg, ']');
		if (!end)
			return -1;
		*end = 0;
		p->host = arg + 1;
		if (end[1] == ':')
			snprintf(p->port, sizeof(p->port), "%s", end + 2);
		else if (end[1])
			return -1;
	} else if ((colon = strrchr(arg, ':')) && strchr(arg, ':') == colon) {
		*colon = 0;
		p->host = arg;
		snprintf(p->port, sizeof(p->port), "%s", colon + 1);
	} else {
		p->host = arg;
	}
	{
		char *e;
		long v = strtol(p->port, &e, 10);
		if (*e || v < 1 || v > 65535 || !p->host[0])
			return -1;
	}
	return 0;
}

static int resolve(struct probe *p)
{
	struct addrinfo hints, *ai = NULL;
	int rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(p->host, p->port, &hints, &ai);
	if (rc || !ai) {
		fprintf(stderr, "tlswhy probe: cannot resolve '%s': %s\n", p->host, rc ? gai_strerror(rc) : "no address");
		return -1;
	}
	memcpy(&p->sa, ai->ai_addr, ai->ai_addrlen);
	p->salen = ai->ai_addrlen;
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, p->addrtxt, sizeof(p->addrtxt));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, p->addrtxt, sizeof(p->addrtxt));
	freeaddrinfo(ai);
	return 0;
}

static void cfg_summary(FILE *o, const struct probe_hello_cfg *c)
{
	size_t i;
	fprintf(o, "  groups:");
	for (i = 0; i < c->ngroups; i++)
	{
		char nb[32];
		fprintf(o, " %s", names_fmt16(nb, sizeof(nb), names_group, c->groups[i]));
	}
	fprintf(o, "; signature schemes:");
	for (i = 0; i < c->nsigalgs; i++)
	{
		char nb[32];
		fprintf(o, " %s", names_fmt16(nb, sizeof(nb), names_sigalg, c->sigalgs[i]));
	}
	fprintf(o, "\n");
}

enum { O_POLICY = 256, O_SNI, O_SEND_SNI, O_ALPN, O_PV1, O_PV2, O_CHF, O_CONN, O_NODIFF, O_MAXC, O_TIMEOUT, O_COLOR };

#define PROBE_DEFAULT_USER "nobody"   /* started as root without -Z */

int probe_cli(int argc, char **argv)
{
	static struct probe p;
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, O_POLICY },
		{ "sni", required_argument, NULL, O_SNI },
		{ "send-sni", no_argument, NULL, O_SEND_SNI },
		{ "alpn", required_argument, NULL, O_ALPN },
		{ "proxy-v1", no_argument, NULL, O_PV1 },
		{ "proxy-v2", no_argument, NULL, O_PV2 },
		{ "client-hello-from", required_argument, NULL, O_CHF },
		{ "conn", required_argument, NULL, O_CONN },
		{ "no-diff", no_argument, NULL, O_NODIFF },
		{ "max-conns", required_argument, NULL, O_MAXC },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "format", required_argument, NULL, 'F' },
		{ "color", required_argument, NULL, O_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *outpath = NULL, *user = NULL;
	FILE *out = stdout, *vo;
	int c, fmt = -1, color = -1, status;
	char err[512], line[512];
	struct probe_hello_cfg base;
	struct probe_res res0, vres[V__COUNT], res2;
	int tidx[2][V__COUNT];   /* each variant's connection in p.pr.t, per round */
	int vran[V__COUNT];
	uint8_t hello[PROBE_HELLO_MAX];
	size_t hlen;

	memset(&p, 0, sizeof(p));
	p.diff = 1;
	p.max_conns = PROBE_MAX_CONNS;
	p.timeout_ms = PROBE_TIMEOUT_MS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:F:o:Z:h", longopts, NULL)) != -1) {
		char *e;
		long v;
		switch (c) {
		case O_POLICY:
			v = probe_policy_parse(optarg);
			if (v < 0) {
				fprintf(stderr, "tlswhy probe: --policy takes 2016-08, tls13 or fips (ELBSecurityPolicy-2016-08, "
					"ELBSecurityPolicy-TLS13-1-0-2021-06, ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04)\n");
				return 2;
			}
			p.policy = (enum probe_policy)v;
			break;
		case O_SNI:
			if (!optarg[0] || strlen(optarg) > 253) {
				fprintf(stderr, "tlswhy probe: --sni needs a name of 1 to 253 bytes\n");
				return 2;
			}
			p.sni = optarg;
			break;
		case O_SEND_SNI: p.send_sni = 1; break;
		case O_ALPN:
			if (strcmp(optarg, "h2") && strcmp(optarg, "http/1.1")) {
				fprintf(stderr, "tlswhy probe: --alpn takes h2 or http/1.1\n");
				return 2;
			}
			p.alpn = optarg;
			break;
		case O_PV1: p.proxy = 1; break;
		case O_PV2: p.proxy = 2; break;
		case O_CHF: p.chfile = optarg; break;
		case O_CONN:
			v = strtol(optarg, &e, 10);
			if (*e || v < 1 || v > 64) {
				fprintf(stderr, "tlswhy probe: --conn takes 1 to 64\n");
				return 2;
			}
			p.conn_n = (int)v;
			break;
		case O_NODIFF: p.diff = 0; break;
		case O_MAXC:
			v = strtol(optarg, &e, 10);
			if (*e || v < 1 || v > PROBE_MAX_CONNS) {
				fprintf(stderr, "tlswhy probe: --max-conns takes 1 to %d\n", PROBE_MAX_CONNS);
				return 2;
			}
			p.max_conns = (int)v;
			break;
		case O_TIMEOUT:
			v = strtol(optarg, &e, 10);
			if (*e || v < 1 || v > 60) {
				fprintf(stderr, "tlswhy probe: --timeout takes 1 to 60 seconds\n");
				return 2;
			}
			p.timeout_ms = (int)v * 1000;
			break;
		case 'w': p.wpath = optarg; break;
		case 'Z': user = optarg; break;
		case 'o': outpath = optarg; break;
		case 'F':
			fmt = rpt_format_parse(optarg);
			if (fmt < 0) {
				fprintf(stderr, "tlswhy probe: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		case O_COLOR:
			color = strcmp(optarg, "always") == 0 ? 1 : strcmp(optarg, "never") == 0 ? 0 : -1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "tlswhy probe: give exactly one target, HOST[:PORT]\n");
		usage(stderr);
		return 2;
	}
	if (split_target(&p, argv[optind])) {
		fprintf(stderr, "tlswhy probe: bad target '%s' (HOST, HOST:PORT or [IPv6]:PORT)\n", argv[optind]);
		return 2;
	}
	if (p.conn_n && !p.chfile) {
		fprintf(stderr, "tlswhy probe: --conn goes with --client-hello-from\n");
		return 2;
	}
	if (!p.sni) {
		struct in6_addr a6;
		if (inet_pton(AF_INET, p.host, &a6) != 1 && inet_pton(AF_INET6, p.host, &a6) != 1)
			p.sni = p.host;
	}
	if (p.send_sni && !p.sni) {
		fprintf(stderr, "tlswhy probe: --send-sni needs --sni NAME (the target is an address)\n");
		return 2;
	}
	if (p.chfile && load_client_hello(&p, err, sizeof(err))) {
		fprintf(stderr, "tlswhy probe: %s\n", err);
		return 2;
	}
	if (fmt < 0 && outpath && rpt_format_from_path(outpath) >= 0)
		fmt = rpt_format_from_path(outpath);
	p.rpt.fmt = fmt < 0 ? RPT_TEXT : (enum rpt_format)fmt;
	p.rules = rule_set_new();
	p.certs = x509_cache_new();
	if (!p.certs) {
		fprintf(stderr, "tlswhy probe: out of memory\n");
		return 2;
	}
	if (!p.rules || rule_load_builtin(p.rules, err, sizeof(err))) {
		fprintf(stderr, "tlswhy probe: built-in rules: %s\n", p.rules ? err : "out of memory");
		return 2;
	}
	if (outpath && strcmp(outpath, "-")) {
		out = fopen(outpath, "w");
		if (!out) {
			fprintf(stderr, "tlswhy probe: %s: %s\n", outpath, strerror(errno));
			return 2;
		}
	}
	/* Plain sockets need no privilege: started as root, the probe runs as
	 * -Z USER (default nobody; -Z root keeps root), like live capture. The
	 * -w file is then made before the switch and written in place. */
	if (!user && geteuid() == 0)
		user = PROBE_DEFAULT_USER;
	if (user && geteuid() == 0 && strcmp(user, "root") != 0) {
		const char *give[1] = { p.wpath };
		if (cap_drop_privs(user, give, p.wpath ? 1 : 0, err, sizeof(err))) {
			fprintf(stderr, "tlswhy probe: %s (-Z root keeps root)\n", err);
			return 2;
		}
		p.wpath_in_place = 1;
	}
	if (p.wpath) {
		int fd = -1;
		if (p.wpath_in_place) {
			snprintf(p.tmppath, sizeof(p.tmppath), "%s", p.wpath);
		} else {
			snprintf(p.tmppath, sizeof(p.tmppath), "%s.tmpXXXXXX", p.wpath);
			fd = mkstemp(p.tmppath);
		}
		p.dead = pcap_open_dead(DLT_RAW, 65535);
		if ((!p.wpath_in_place && fd < 0) || !p.dead) {
			fprintf(stderr, "tlswhy probe: -w %s: %s\n", p.wpath, strerror(errno));
			return 2;
		}
		if (fd >= 0)
			close(fd);
		p.dump = pcap_dump_open(p.dead, p.tmppath);
		if (!p.dump) {
			fprintf(stderr, "tlswhy probe: -w %s: %s\n", p.wpath, pcap_geterr(p.dead));
			if (!p.wpath_in_place)
				unlink(p.tmppath);
			return 2;
		}
	}
	if (color < 0)
		color = isatty(fileno(out)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	p.rpt.out = out;
	p.rpt.color = color;
	/* the probe's own lines go with a text report, to stderr otherwise */
	vo = p.rpt.fmt == RPT_TEXT ? out : stderr;

	if (resolve(&p)) {
		if (p.dump) {
			pcap_dump_close(p.dump);
			if (!p.wpath_in_place)
				unlink(p.tmppath);
		}
		return 2;
	}
	fprintf(vo, "probe: target %s port %s, resolved once to %s\n", p.host, p.port, p.addrtxt);
	p.pr.target = p.host;
	p.pr.port = p.port;
	p.pr.address = p.addrtxt;
	if (p.replay_len)
		snprintf(p.pr.offer, sizeof(p.pr.offer), "the exact ClientHello from %s", p.chfile);
	else
		snprintf(p.pr.offer, sizeof(p.pr.offer), "%s as AWS documents it%s%s%s", probe_policy_name(p.policy),
			 p.send_sni ? ", with SNI" : "", p.alpn ? ", ALPN " : "", p.alpn ? p.alpn : "");
	if (p.proxy)
		snprintf(p.pr.offer + strlen(p.pr.offer), sizeof(p.pr.offer) - strlen(p.pr.offer),
			 ", after a PROXY v%d header", p.proxy);
	probe_hello_default(&base, p.policy);
	if (p.send_sni)
		snprintf(base.sni, sizeof(base.sni), "%s", p.sni);
	if (p.alpn)
		snprintf(base.alpn[0], sizeof(base.alpn[0]), "%s", p.alpn);
	if (p.replay_len) {
		struct probe_hello_cfg rc;
		size_t dropped = 0;
		if (probe_hello_parse(p.replay, p.replay_len, &rc, &dropped) == 0) {
			base = rc;
			fprintf(vo, "probe: offer: the exact ClientHello from %s; variants rebuild it with one change "
				"(%zu extension%s of it not rebuilt)\n", p.chfile, dropped, dropped == 1 ? "" : "s");
		} else {
			fprintf(vo, "probe: offer: the exact ClientHello from %s (not readable as a ClientHello); variants "
				"are built from the %s offer\n", p.chfile, probe_policy_name(p.policy));
		}
		cfg_summary(vo, &base);
	} else {
		fprintf(vo, "probe: offer: %s as AWS documents it (versions, cipher suites in order, no SNI%s);\n"
			"  AWS does not document the groups, signature schemes and extensions a load balancer\n"
			"  sends to targets: these follow s2n-tls's policy of the same name (an inference;\n"
			"  --client-hello-from replays a real one)\n",
			probe_policy_name(p.policy), p.send_sni ? ": --send-sni adds one" : "");
		cfg_summary(vo, &base);
	}
	if (p.proxy)
		fprintf(vo, "probe: a PROXY v%d header goes first, as an NLB with proxy protocol sends it; an ALB never does\n",
			p.proxy);

	p.in.path = p.host;
	p.in.link_name = (char *)"RAW";
	p.in.dlt = DLT_RAW;
	p.in.link_supported = pkt_dlt_supported(DLT_RAW);
	p.in.first_frame = 1;
	rpt_begin(&p.rpt);

	/* the load balancer's own handshake */
	if (p.replay_len) {
		hlen = p.replay_len;
		memcpy(hello, p.replay, hlen < sizeof(hello) ? hlen : sizeof(hello));
		run_conn(&p, p.proxy, p.replay, p.replay_len, NULL, &res0, 1);
	} else {
		struct probe_keys keys = { 0 };
		hlen = probe_hello_build(&base, hello, sizeof(hello), &keys, err, sizeof(err));
		if (!hlen) {
			fprintf(stderr, "tlswhy probe: %s\n", err);
			return 2;
		}
		run_conn(&p, p.proxy, hello, hlen, &keys, &res0, 1);
		probe_keys_free(&keys);
	}
	outcome_text(&res0, line, sizeof(line));

	status = 0;
	memset(vran, 0, sizeof(vran));
	memset(tidx, 0xff, sizeof(tidx));
	fprintf(vo, "\nprobe: connection 1 (the load balancer's handshake): %s%s%s%s\n", line,
		res0.rule[0] ? "  [" : "", res0.rule, res0.rule[0] ? "]" : "");
	evidence(&p, note_try(&p, 0, NULL, line, res0.rule, accepted(&res0)));
	if (res0.tcp == PT_REFUSED) {
		verdict(&p, vo, "refused", "The target refused the TCP connection: an ALB returns 502 (nothing listens on %s port %s, "
			"or a firewall rejects)", p.addrtxt, p.port);
		status = 1;
	} else if (res0.tcp == PT_NO_SYNACK) {
		verdict(&p, vo, "no-synack", "No SYN-ACK within %d s: an ALB returns 504 (security group, NACL or a dead target)",
			p.timeout_ms / 1000);
		status = 1;
	} else if (res0.tcp == PT_UNREACH) {
		verdict(&p, vo, "unreachable", "%s: an ALB returns 502 or 504", strerror(res0.err_no));
		status = 1;
	} else if (res0.nontls) {
		char e[300];
		esc_text(e, sizeof(e), res0.nontls_bytes, res0.nontls_len);
		verdict(&p, vo, "non-tls-answer", "The target answered the ClientHello with bytes that are not TLS: \"%s\" "
			"(an HTTPS target group on a plain-HTTP port?); fix: serve TLS on this port or set the target group "
			"protocol to HTTP", e);
		status = 1;
	} else if (accepted(&res0)) {
		if (res0.cert_request || res0.t13.cert_request) {
			verdict(&p, vo, "client-cert-requested", "The target asks for a client certificate "
				"(CertificateRequest); an AWS load balancer never presents one. If the target requires it, the "
				"handshake fails (OpenSSL: alert 40 in TLS 1.2, 116 in TLS 1.3); nginx `ssl_verify_client on` "
				"answers HTTP 400 instead. Fix: `ssl_verify_client optional;` or off on the port the load "
				"balancer uses; listener side: authenticate clients at the ALB (mutual TLS with a trust store)");
		} else {
			verdict(&p, vo, "healthy", "The target accepts the load balancer's ClientHello (%s)%s", line,
				res0.hrr ? " after a HelloRetryRequest" : "");
		}
	} else {
		/* the handshake failed: the differential */
		int round, found = -1, budget = p.max_conns - p.nconns, pivot = -1, silent = res0.timed_out && !res0.alert;
		struct probe_hello_cfg pivot_cfg;
		int pivot_proxy = 0;
		status = 1;
		if (!p.diff || budget <= 0) {
			verdict(&p, vo, res0.rule[0] ? res0.rule : "failed", "The load balancer's handshake fails (%s); no variants tried (%s)",
				line, p.diff ? "connection cap reached" : "--no-diff");
		} else {
			fprintf(vo, "probe: differential: one change at a time, each a fresh connection, %d ms apart, "
				"at most %d connections in all%s\n", PROBE_SPACING_MS, p.max_conns,
				silent ? " (the target is silent: only the PROXY variant is tried, each would wait the whole timer)" : "");
			for (round = 1; round <= 2 && found < 0; round++) {
				int v;
				for (v = 0; v < V__COUNT; v++) {
					struct probe_hello_cfg cfg = round == 1 ? base : pivot_cfg;
					int proxy = round == 1 ? p.proxy : pivot_proxy;
					struct probe_res *r = round == 1 ? &vres[v] : &res2;
					char vl[512];
					if (silent && v != V_PROXY)
						continue;
					if (round == 2 && (v == pivot || vran[v] == 2))
						continue;
					if (apply_var(&p, (enum var)v, &cfg, &proxy))
						continue;
					if (p.nconns >= p.max_conns) {
						fprintf(vo, "  (connection cap of %d reached; the remaining variants were not tried)\n",
							p.max_conns);
						p.pr.cap_reached = 1;
						break;
					}
					struct probe_keys keys = { 0 };
					hlen = probe_hello_build(&cfg, hello, sizeof(hello), &keys, err, sizeof(err));
					if (!hlen) {
						probe_keys_free(&keys);
						continue;
					}
					sleep_ms(PROBE_SPACING_MS);
					run_conn(&p, proxy, hello, hlen, &keys, r, 0);
					probe_keys_free(&keys);
					vran[v] = round;
					outcome_text(r, vl, sizeof(vl));
					tidx[round - 1][v] = note_try(&p, round, var_label[v], vl, r->rule, accepted(r));
					fprintf(vo, "  %2d  %s%-32s %s%s\n", p.nconns, round == 2 ? "+ " : "",
						var_label[v], vl, accepted(r) ? "   <- accepted" : "");
					if (round == 2 && accepted(r)) {
						found = v;
						vres[v] = *r;
						break;
					}
					if (round == 1 && pivot < 0 && !accepted(r) && r->tcp == PT_OK && !same_failure(r, &res0) &&
					    (r->alert || r->sh)) {
						pivot = v;
						pivot_cfg = cfg;
						pivot_proxy = proxy;
					}
				}
				if (round == 1) {
					size_t k;
					for (k = 0; k < sizeof(cause_order) / sizeof(cause_order[0]); k++)
						if (vran[cause_order[k]] == 1 && accepted(&vres[cause_order[k]])) {
							found = cause_order[k];
							break;
						}
					if (found < 0 && pivot >= 0)
						fprintf(vo, "  no single change is accepted; \"%s\" moved the failure, so the others "
							"are tried on top of it:\n", var_label[pivot]);
					if (found < 0 && pivot < 0)
						break;
				}
			}
			if (found >= 0) {
				const struct var_info *vi = &var_info[found];
				if (vran[found] == 2) {
					const struct var_info *pi = &var_info[pivot];
					char id2[96];
					snprintf(id2, sizeof(id2), "%s+%s", pi->id, vi->id);
					verdict(&p, vo, id2, "Two changes are needed: %s, and %s.", pi->cause, vi->cause);
					evidence(&p, tidx[0][pivot]);
					evidence(&p, tidx[1][found]);
					p.pr.fix = pi->fix;
					p.pr.fix2 = vi->fix;
					p.pr.listener = pi->listener;
					fprintf(vo, "  fix on the target: %s\n  and: %s\n", pi->fix, vi->fix);
					if (pi->listener)
						fprintf(vo, "  listener side: %s\n", pi->listener);
				} else {
					char al[256];
					outcome_text(&vres[found], al, sizeof(al));
					verdict(&p, vo, vi->id, "%s (accepted with \"%s\": %s%s%s)", vi->cause,
						var_label[found], al, vres[found].leaf_key[0] ? "; certificate key " : "",
						vres[found].leaf_key);
					evidence(&p, tidx[0][found]);
					p.pr.fix = vi->fix;
					p.pr.listener = vi->listener ? vi->listener : "none: the backend offer cannot be changed on an "
						"AWS load balancer";
					fprintf(vo, "  fix on the target: %s\n", vi->fix);
					fprintf(vo, "  listener side: %s\n", vi->listener ? vi->listener : "none: the backend offer "
						"cannot be changed on an AWS load balancer");
					if (vres[found].cert_request || vres[found].t13.cert_request)
						fprintf(vo, "  and then: the target asks for a client certificate (CertificateRequest), "
							"which an AWS load balancer never presents: once this is fixed, make client "
							"certificates optional (ssl_verify_client optional;) on this port\n");
				}
			} else if (silent) {
				verdict(&p, vo, "silent", "The target accepted the TCP connection but never answered the "
					"ClientHello within %d s: an ALB gives up after 10 s (502). A PROXY header did not help either; "
					"check the process behind the port (stalled, or not speaking TLS until it hears something)",
					p.timeout_ms / 1000);
			} else {
				verdict(&p, vo, "nothing-worked", "No single change made the target accept (%d connections); the pipeline's "
					"diagnosis of the first handshake stands%s%s", p.nconns,
					res0.rule[0] ? ": " : "", res0.rule);
			}
		}
	}
	{
		int64_t end = p.run.last_ts_us;
		p.run.now_us = end;
		struct rpt_input ri = { p.in.path, 0, p.in.link_name, p.in.link_supported, p.in.packets, p.in.bytes,
					p.in.first_frame, p.in.truncated, "", "", "", NULL };
		struct rpt_run rr;
		memset(&rr, 0, sizeof(rr));
		rr.ps = p.run.ps;
		rr.first_ts_us = p.run.first_ts_us;
		rr.last_ts_us = p.run.last_ts_us;
		p.rpt.probe = &p.pr;
		rpt_end(&p.rpt, &ri, 1, &rr, &p.fs, NULL);
		rpt_free(&p.rpt);
	}
	if (p.dump) {
		pcap_dump_close(p.dump);
		pcap_close(p.dead);
		if (!p.wpath_in_place && rename(p.tmppath, p.wpath)) {
			fprintf(stderr, "tlswhy probe: -w %s: %s\n", p.wpath, strerror(errno));
			unlink(p.tmppath);
			status = 2;
		} else {
			chmod(p.wpath, 0644);
			fprintf(vo, "probe: %d connections written to %s\n", p.nconns, p.wpath);
		}
	}
	rule_set_free(p.rules);
	record_pools_free();
	fp_memo_free();
	x509_cache_free(p.certs);
	if (out != stdout)
		fclose(out);
	else
		fflush(stdout);
	return status;
}
