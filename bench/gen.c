/*
 * gen.c - writes the benchmark capture: the recorded handshakes of pcaps/
 * replicated into many interleaved connections, deterministically.
 *
 *   gen -o OUT.pcap -m MANIFEST -e expected.tsv -d pcaps
 *       [-n CONNECTIONS] [-c CONCURRENT] [-a APP_PACKETS] [-g GAP_US] [-s SEED]
 *
 * expected.tsv: the "capture" cases of tests/TESTLIST as a table with a
 * header row (capture_table in tests/testlist.sh).
 * Every TCP connection listed in expected.tsv is a template. Connection i
 * of the output is a copy of one template (chosen by a seeded generator
 * with fixed weights: mostly completed handshakes, about 9% plaintext
 * alerts, a few other failures, some plain HTTP) with:
 *   - its own client address and port (never reused in one capture) and one
 *     of eight server addresses per template (the server port is kept), so
 *     every connection to one server presents the same chain;
 *   - its own initial sequence numbers (a random offset per direction);
 *   - for a handshake that completed, APP_PACKETS packets of encrypted
 *     application data (whole TLS type-23 records, 1448-byte segments,
 *     pure ACKs) inserted before the first FIN or RST, every later
 *     sequence and acknowledgement number shifted to match;
 *   - valid IPv4 header and TCP checksums.
 * Plain HTTP connections (GET, a 200 answer in a few segments, FINs) and
 * UDP DNS-sized datagrams are the non-TLS traffic. CONCURRENT connections
 * are open at any moment: each step picks one at random and emits its
 * next packet; a finished one is replaced by the next connection. Packet
 * times start at the earliest template's first packet (so certificate
 * validity is judged as in the recordings) and advance by 0..2*GAP_US.
 *
 * The manifest says what went in, for bench/check.py: one line per
 * template with its copy count, then totals. Same arguments, same bytes.
 * Limits: Ethernet templates with IPv4 or IPv6 and no extension headers
 * (which is what pcaps/record.sh writes).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TMPL 64
#define MAX_PKT  65600
#define POOL     (1u << 16)
#define MSS4     1448u
#define MSS6     1428u
#define REC_BODY 16408u   /* 16384 + AEAD overhead, the largest record we write */

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

struct tpkt {
	uint8_t *data;
	uint32_t len;
	uint8_t dir;          /* 0 = sent by the template's client (first sender) */
	uint16_t l3, l4;      /* offsets of the IP and TCP headers */
	uint32_t paylen;
	uint8_t flags;
};

struct tmpl {
	char file[256];
	int index;            /* 1-based connection index in its file */
	char stage[40];
	int cls;              /* C_OK, C_ALERT, C_FAIL, C_HTTP */
	uint8_t fam;          /* 4 or 6 */
	struct tpkt *p;
	int n;
	int ins;              /* app data goes before packet ins; -1 none */
	uint32_t next_seq[2]; /* each direction's next sequence number at ins */
	uint8_t mac[2][6];    /* source MAC per direction */
	uint16_t srv_port;
	uint64_t count;
	uint64_t packets, bytes;
};

enum { C_OK = 0, C_ALERT, C_FAIL, C_HTTP, C__N };
/* per mille of connections, by class */
static const int class_weight[C__N] = { 800, 90, 30, 80 };

static struct tmpl tm[MAX_TMPL];
static int ntm;
static int by_class[C__N][MAX_TMPL];
static int nby_class[C__N];

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic, fast, good enough for a schedule */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static uint8_t pool[POOL + REC_BODY + 64];

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

static void die(const char *m)
{
	fprintf(stderr, "gen: %s\n", m);
	exit(2);
}

/* ---- templates ------------------------------------------------------- */

/* Ethernet, IPv4/IPv6, TCP: fills the offsets; 0 when not TCP. */
static int parse_tcp(const uint8_t *d, uint32_t len, uint16_t *l3, uint16_t *l4, uint32_t *paylen, uint8_t *fam)
{
	uint32_t o = 14, iplen, thl;
	uint16_t et;
	if (len < 14)
		return 0;
	et = rd16(d + 12);
	if (et == 0x8100 && len >= 18) {
		et = rd16(d + 16);
		o = 18;
	}
	*l3 = (uint16_t)o;
	if (et == 0x0800) {
		uint32_t ihl;
		if (len < o + 20 || d[o + 9] != 6)
			return 0;
		ihl = (d[o] & 15u) * 4;
		iplen = rd16(d + o + 2);
		*l4 = (uint16_t)(o + ihl);
		*fam = 4;
		if (o + iplen > len)
			return 0;
		thl = (d[*l4 + 12] >> 4) * 4u;
		*paylen = iplen - ihl - thl;
		return 1;
	}
	if (et == 0x86dd) {
		if (len < o + 40 || d[o + 6] != 6)
			return 0;
		iplen = rd16(d + o + 4);
		*l4 = (uint16_t)(o + 40);
		*fam = 6;
		if (o + 40 + iplen > len)
			return 0;
		thl = (d[*l4 + 12] >> 4) * 4u;
		*paylen = iplen - thl;
		return 1;
	}
	return 0;
}

/* Loads connection `index` (1-based, order of first packet) of `path`;
 * 0 when the file is not Ethernet (such templates are left out). */
static int load_template(struct tmpl *t, const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, eb);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t keys[MAX_TMPL][2][18];   /* addr(16) port(2) of each connection's first sender, receiver */
	int nconn = 0, cap = 0;
	if (!pc) {
		fprintf(stderr, "gen: %s: %s\n", path, eb);
		exit(2);
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "gen: %s: not Ethernet, left out\n", path);
		pcap_close(pc);
		return 0;
	}
	while (pcap_next_ex(pc, &h, &d) == 1) {
		struct tpkt p;
		uint8_t fam, a[2][18];
		int c, s, k;
		memset(&p, 0, sizeof(p));
		if (h->caplen != h->len || !parse_tcp(d, h->caplen, &p.l3, &p.l4, &p.paylen, &fam))
			continue;
		memset(a, 0, sizeof(a));
		for (s = 0; s < 2; s++) {
			uint32_t alen = fam == 4 ? 4 : 16;
			uint32_t off = fam == 4 ? (s == 0 ? 12u : 16u) : (s == 0 ? 8u : 24u);
			memcpy(a[s], d + p.l3 + off, alen);
			memcpy(a[s] + 16, d + p.l4 + (s == 0 ? 0 : 2), 2);
		}
		c = -1;
		for (k = 0; k < nconn && c < 0; k++) {
			if (memcmp(keys[k][0], a[0], 18) == 0 && memcmp(keys[k][1], a[1], 18) == 0) {
				c = k;
				p.dir = 0;
			} else if (memcmp(keys[k][0], a[1], 18) == 0 && memcmp(keys[k][1], a[0], 18) == 0) {
				c = k;
				p.dir = 1;
			}
		}
		if (c < 0) {
			if (nconn == MAX_TMPL)
				continue;
			c = nconn++;
			memcpy(keys[c][0], a[0], 18);
			memcpy(keys[c][1], a[1], 18);
			p.dir = 0;
		}
		if (c + 1 != t->index)
			continue;
		t->fam = fam;
		p.len = h->caplen;
		p.data = malloc(p.len);
		if (!p.data)
			die("out of memory");
		memcpy(p.data, d, p.len);
		p.flags = d[p.l4 + 13];
		memcpy(t->mac[p.dir], d + 6, 6);
		if (t->n == cap) {
			cap = cap ? cap * 2 : 32;
			t->p = realloc(t->p, (size_t)cap * sizeof(*t->p));
			if (!t->p)
				die("out of memory");
		}
		t->p[t->n++] = p;
	}
	pcap_close(pc);
	if (t->n == 0) {
		fprintf(stderr, "gen: %s: no connection %d\n", path, t->index);
		exit(2);
	}
	t->srv_port = rd16(t->p[0].data + t->p[0].l4 + 2);
	return 1;
}

/* Where a completed handshake gets its application data, and each
 * direction's next sequence number there. */
static void plan_insert(struct tmpl *t)
{
	int i, seen[2] = { 0, 0 };
	t->ins = -1;
	if (t->cls != C_OK)
		return;
	for (i = 0; i < t->n; i++)
		if (t->p[i].flags & (F_FIN | F_RST))
			break;
	t->ins = i;
	for (i = 0; i < t->ins; i++) {
		const struct tpkt *p = &t->p[i];
		uint32_t end = rd32(p->data + p->l4 + 4) + p->paylen + ((p->flags & F_SYN) ? 1u : 0u);
		if (!seen[p->dir] || (int32_t)(end - t->next_seq[p->dir]) > 0)
			t->next_seq[p->dir] = end;
		seen[p->dir] = 1;
	}
	if (!seen[0] || !seen[1])
		t->ins = -1;
}

static int classify(const char *stage, const char *alerts)
{
	if (strcmp(stage, "complete") == 0 || strcmp(stage, "complete_closed") == 0)
		return C_OK;
	if (strcmp(stage, "alert") == 0 && !strstr(alerts, "encrypted"))
		return C_ALERT;
	return C_FAIL;
}

static void load_expected(const char *tsv, const char *dir)
{
	FILE *f = fopen(tsv, "r");
	char line[1024];
	if (!f)
		die("cannot open expected.tsv");
	while (fgets(line, sizeof(line), f)) {
		char file[256], stage[40], alerts[512], version[40];
		int idx;
		struct tmpl *t;
		if (strncmp(line, "file\t", 5) == 0)
			continue;
		if (sscanf(line, "%255[^\t]\t%d\t%39[^\t]\t%511[^\t]\t%39s", file, &idx, stage, alerts, version) != 5)
			continue;
		if (ntm == MAX_TMPL)
			die("too many templates");
		t = &tm[ntm];
		memset(t, 0, sizeof(*t));
		snprintf(t->file, sizeof(t->file), "%s", file);
		snprintf(t->stage, sizeof(t->stage), "%s", stage);
		t->index = idx;
		t->cls = classify(stage, alerts);
		{
			char path[1200];
			snprintf(path, sizeof(path), "%.500s/%.255s", dir, file);
			if (!load_template(t, path))
				continue;
		}
		plan_insert(t);
		by_class[t->cls][nby_class[t->cls]++] = ntm;
		ntm++;
	}
	fclose(f);
}

/* ---- packet building ------------------------------------------------- */

static uint32_t csum_add(uint32_t s, const uint8_t *p, uint32_t n)
{
	uint32_t i;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Recomputes the IPv4 header and TCP checksums of a built frame. */
static void fix_checksums(uint8_t *d, uint16_t l3, uint16_t l4, uint8_t fam, uint32_t tcplen)
{
	uint32_t s;
	if (fam == 4) {
		uint32_t ihl = (d[l3] & 15u) * 4;
		d[l3 + 10] = d[l3 + 11] = 0;
		wr16(d + l3 + 10, csum_fold(csum_add(0, d + l3, ihl)));
		s = csum_add(0, d + l3 + 12, 8);
	} else {
		s = csum_add(0, d + l3 + 8, 32);
	}
	s += 6 + tcplen;
	d[l4 + 16] = d[l4 + 17] = 0;
	s = csum_add(s, d + l4, tcplen);
	wr16(d + l4 + 16, csum_fold(s));
}

/* ---- connections ----------------------------------------------------- */

struct stream {
	uint32_t left;        /* bytes of the current message still to write */
	uint32_t body_left;   /* of the current record's body */
	uint8_t hdr[5];
	uint8_t hpos;         /* header bytes written; 5 = none pending */
};

struct conn {
	int t;                /* template */
	uint64_t id;          /* 0-based connection number in the capture */
	uint8_t cli[16], srv[16];
	uint16_t cport;
	uint32_t isn[2];
	int j;                /* next template packet */
	int app_left;         /* application packets still to insert */
	uint32_t app_bytes[2];
	int resp_segs;        /* response segments still to send this round */
	int unacked;          /* server segments since the client's last ACK */
	struct stream st[2];
};

static int app_per_conn = 4;      /* -a */
static int resp_segs_avg = 2;     /* grows with -a: bulk responses */
static uint8_t frame[MAX_PKT];

static uint32_t build_hdr(const struct tmpl *t, const struct conn *c, int dir, uint8_t flags,
			  uint32_t seq, uint32_t ack, uint32_t paylen, uint16_t *l4)
{
	uint8_t *d = frame;
	const uint8_t *sa = dir ? c->srv : c->cli, *da = dir ? c->cli : c->srv;
	uint16_t sp = dir ? t->srv_port : c->cport, dp = dir ? c->cport : t->srv_port;
	memcpy(d, t->mac[1 - dir], 6);
	memcpy(d + 6, t->mac[dir], 6);
	if (t->fam == 4) {
		wr16(d + 12, 0x0800);
		d[14] = 0x45;
		d[15] = 0;
		wr16(d + 16, (uint16_t)(20 + 20 + paylen));
		wr16(d + 18, (uint16_t)c->id);
		wr16(d + 20, 0x4000);
		d[22] = 64;
		d[23] = 6;
		memcpy(d + 26, sa, 4);
		memcpy(d + 30, da, 4);
		*l4 = 34;
	} else {
		wr16(d + 12, 0x86dd);
		wr32(d + 14, 0x60000000u);
		wr16(d + 18, (uint16_t)(20 + paylen));
		d[20] = 6;
		d[21] = 64;
		memcpy(d + 22, sa, 16);
		memcpy(d + 38, da, 16);
		*l4 = 54;
	}
	wr16(d + *l4, sp);
	wr16(d + *l4 + 2, dp);
	wr32(d + *l4 + 4, seq);
	wr32(d + *l4 + 8, ack);
	d[*l4 + 12] = 5 << 4;
	d[*l4 + 13] = flags;
	wr16(d + *l4 + 14, 502);
	wr16(d + *l4 + 16, 0);
	wr16(d + *l4 + 18, 0);
	return *l4 + 20u + paylen;
}

/* Starts a message of `len` bytes (>= 6) in a direction's record stream. */
static void stream_start(struct stream *s, uint32_t len)
{
	s->left = len;
	s->body_left = 0;
	s->hpos = 5;
}

/* Writes `n` bytes of the stream: type-23 record headers and bodies. */
static void stream_fill(struct stream *s, uint64_t salt, uint8_t *out, uint32_t n)
{
	while (n) {
		if (s->hpos == 5 && s->body_left == 0) {
			uint32_t body = s->left - 5;
			if (body > REC_BODY)
				body = s->left - 5 - REC_BODY < 6 ? REC_BODY - 16 : REC_BODY;
			s->hdr[0] = 23;
			s->hdr[1] = 3;
			s->hdr[2] = 3;
			s->hdr[3] = (uint8_t)(body >> 8);
			s->hdr[4] = (uint8_t)body;
			s->hpos = 0;
			s->body_left = body;
		}
		if (s->hpos < 5) {
			*out++ = s->hdr[s->hpos++];
			s->left--;
			n--;
			continue;
		}
		{
			uint32_t k = n < s->body_left ? n : s->body_left;
			memcpy(out, pool + ((salt * 4099u + s->left) & (POOL - 1)), k);
			out += k;
			n -= k;
			s->left -= k;
			s->body_left -= k;
		}
	}
}

/* The next inserted application-data packet of c into frame[]; its length. */
static uint32_t app_packet(struct conn *c)
{
	const struct tmpl *t = &tm[c->t];
	uint32_t mss = t->fam == 4 ? MSS4 : MSS6, len = 0, flen;
	int dir;
	uint8_t flags = F_ACK;
	uint16_t l4;
	if (c->resp_segs == 0 && c->unacked == 0) {
		/* a request, and the plan of its response */
		int segs = 1 + (int)rnd_below((uint32_t)(2 * resp_segs_avg - 1));
		dir = 0;
		len = 120 + rnd_below(400);
		stream_start(&c->st[0], len);
		stream_start(&c->st[1], (uint32_t)(segs - 1) * mss + 200 + rnd_below(mss - 200));
		c->resp_segs = segs;
		flags |= F_PSH;
	} else if (c->resp_segs && c->unacked < 2) {
		dir = 1;
		len = c->st[1].left < mss ? c->st[1].left : mss;
		c->resp_segs--;
		c->unacked++;
		if (!c->resp_segs)
			flags |= F_PSH;
	} else {
		dir = 0;   /* a pure ACK */
		c->unacked = 0;
	}
	flen = build_hdr(t, c, dir, flags, t->next_seq[dir] + c->isn[dir] + c->app_bytes[dir],
			 t->next_seq[1 - dir] + c->isn[1 - dir] + c->app_bytes[1 - dir], len, &l4);
	if (len)
		stream_fill(&c->st[dir], c->id * 2 + (uint64_t)dir, frame + l4 + 20, len);
	c->app_bytes[dir] += len;
	c->app_left--;
	fix_checksums(frame, 14, l4, t->fam, 20 + len);
	return flen;
}

/* The next template packet of c, rewritten, into frame[]; its length. */
static uint32_t tmpl_packet(struct conn *c)
{
	const struct tmpl *t = &tm[c->t];
	const struct tpkt *p = &t->p[c->j];
	uint8_t *d = frame;
	int dir = p->dir, after = t->ins >= 0 && c->j >= t->ins;
	uint32_t alen = t->fam == 4 ? 4 : 16, tcplen;
	uint32_t soff = t->fam == 4 ? 12 : 8, doff = t->fam == 4 ? 16 : 24;
	memcpy(d, p->data, p->len);
	memcpy(d + p->l3 + soff, dir ? c->srv : c->cli, alen);
	memcpy(d + p->l3 + doff, dir ? c->cli : c->srv, alen);
	if (dir)
		wr16(d + p->l4 + 2, c->cport);
	else
		wr16(d + p->l4, c->cport);
	wr32(d + p->l4 + 4, rd32(d + p->l4 + 4) + c->isn[dir] + (after ? c->app_bytes[dir] : 0));
	if (p->flags & F_ACK)
		wr32(d + p->l4 + 8, rd32(d + p->l4 + 8) + c->isn[1 - dir] + (after ? c->app_bytes[1 - dir] : 0));
	if (t->fam == 4)
		tcplen = rd16(d + p->l3 + 2) - (d[p->l3] & 15u) * 4;
	else
		tcplen = rd16(d + p->l3 + 4);
	fix_checksums(d, p->l3, p->l4, t->fam, tcplen);
	c->j++;
	return p->len;
}

static int conn_done(const struct conn *c)
{
	return c->j >= tm[c->t].n;
}

static uint32_t conn_packet(struct conn *c)
{
	const struct tmpl *t = &tm[c->t];
	if (c->j == t->ins && (c->app_left > 0 || c->resp_segs || c->unacked))
		return app_packet(c);
	return tmpl_packet(c);
}

static void conn_start(struct conn *c, uint64_t id)
{
	int cls, k, w = (int)rnd_below(1000), acc = 0;
	uint64_t v = id / 60000 + 1;
	struct tmpl *t;
	for (cls = 0; cls < C__N - 1; cls++) {
		acc += class_weight[cls];
		if (w < acc && nby_class[cls])
			break;
	}
	k = by_class[cls][rnd_below((uint32_t)nby_class[cls])];
	t = &tm[k];
	memset(c, 0, sizeof(*c));
	c->t = k;
	c->id = id;
	if (t->fam == 4) {
		c->cli[0] = 10;
		c->cli[1] = (uint8_t)(v >> 16);
		c->cli[2] = (uint8_t)(v >> 8);
		c->cli[3] = (uint8_t)v;
		c->srv[0] = 172;
		c->srv[1] = 16;
		c->srv[2] = (uint8_t)k;
		c->srv[3] = (uint8_t)(1 + rnd_below(8));
	} else {
		c->cli[0] = 0xfd;
		c->cli[13] = (uint8_t)(v >> 16);
		c->cli[14] = (uint8_t)(v >> 8);
		c->cli[15] = (uint8_t)v;
		c->srv[0] = 0xfd;
		c->srv[1] = 0x01;
		c->srv[14] = (uint8_t)k;
		c->srv[15] = (uint8_t)(1 + rnd_below(8));
	}
	c->cport = (uint16_t)(1024 + id % 60000);
	c->isn[0] = (uint32_t)rnd();
	c->isn[1] = (uint32_t)rnd();
	c->app_left = t->ins >= 0 ? app_per_conn : 0;
	t->count++;
}

/* ---- plain HTTP template ---------------------------------------------- */

static void http_add(struct tmpl *t, int dir, uint8_t flags, uint32_t seq, uint32_t ack, const char *pay, uint32_t len)
{
	struct conn c;
	struct tpkt p;
	uint16_t l4;
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	p.len = build_hdr(t, &c, dir, flags, seq, ack, len, &l4);
	if (len)
		memcpy(frame + l4 + 20, pay, len);
	p.data = malloc(p.len);
	if (!p.data)
		die("out of memory");
	memcpy(p.data, frame, p.len);
	p.dir = (uint8_t)dir;
	p.l3 = 14;
	p.l4 = l4;
	p.paylen = len;
	p.flags = flags;
	t->p = realloc(t->p, (size_t)(t->n + 1) * sizeof(*t->p));
	if (!t->p)
		die("out of memory");
	t->p[t->n++] = p;
}

static void make_http(void)
{
	static char body[3000];
	static const char req[] = "GET /status HTTP/1.1\r\nHost: intranet.example\r\nUser-Agent: bench/1\r\nAccept: */*\r\n\r\n";
	struct tmpl *t = &tm[ntm];
	uint32_t c = 1000, s = 5000, rl = (uint32_t)strlen(req), n;
	if (ntm == MAX_TMPL)
		die("too many templates");
	memset(t, 0, sizeof(*t));
	snprintf(t->file, sizeof(t->file), "(plain-http)");
	snprintf(t->stage, sizeof(t->stage), "untracked");
	t->index = 1;
	t->cls = C_HTTP;
	t->fam = 4;
	t->ins = -1;
	t->srv_port = 80;
	memcpy(t->mac[0], "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(t->mac[1], "\x02\x00\x00\x00\x00\x02", 6);
	n = (uint32_t)snprintf(body, sizeof(body), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2000\r\n\r\n");
	memset(body + n, 'a', sizeof(body) - n);
	http_add(t, 0, F_SYN, c - 1, 0, NULL, 0);
	http_add(t, 1, F_SYN | F_ACK, s - 1, c, NULL, 0);
	http_add(t, 0, F_ACK, c, s, NULL, 0);
	http_add(t, 0, F_ACK | F_PSH, c, s, req, rl);
	c += rl;
	http_add(t, 1, F_ACK, s, c, body, MSS4);
	http_add(t, 1, F_ACK | F_PSH, s + MSS4, c, body + MSS4, n + 2000 - MSS4);
	s += n + 2000;
	http_add(t, 0, F_ACK, c, s, NULL, 0);
	http_add(t, 1, F_ACK | F_FIN, s, c, NULL, 0);
	http_add(t, 0, F_ACK | F_FIN, c, s + 1, NULL, 0);
	http_add(t, 1, F_ACK, s + 1, c + 1, NULL, 0);
	by_class[C_HTTP][nby_class[C_HTTP]++] = ntm;
	ntm++;
}

/* ---- output ------------------------------------------------------------ */

static FILE *out;
static uint64_t out_packets, out_bytes, dns_packets;

static void put_packet(int64_t ts_us, const uint8_t *d, uint32_t len)
{
	uint32_t h[4];
	h[0] = (uint32_t)(ts_us / 1000000);
	h[1] = (uint32_t)(ts_us % 1000000);
	h[2] = h[3] = len;
	if (fwrite(h, sizeof(h), 1, out) != 1 || fwrite(d, len, 1, out) != 1)
		die("write failed");
	out_packets++;
	out_bytes += 16 + len;
}

/* A UDP datagram the size of a DNS query or answer (non-TLS traffic). */
static uint32_t dns_packet(uint64_t k)
{
	uint8_t *d = frame;
	int resp = (int)(k & 1);
	uint32_t plen = resp ? 120 : 40, i;
	uint8_t cli[4] = { 10, 200, (uint8_t)(k >> 9), (uint8_t)(k >> 1) }, srv[4] = { 172, 31, 0, 53 };
	memcpy(d, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	wr16(d + 12, 0x0800);
	d[14] = 0x45;
	d[15] = 0;
	wr16(d + 16, (uint16_t)(28 + plen));
	wr16(d + 18, (uint16_t)k);
	wr16(d + 20, 0);
	d[22] = 64;
	d[23] = 17;
	memcpy(d + 26, resp ? srv : cli, 4);
	memcpy(d + 30, resp ? cli : srv, 4);
	wr16(d + 34, resp ? 53 : (uint16_t)(20000 + (k >> 1) % 40000));
	wr16(d + 36, resp ? (uint16_t)(20000 + (k >> 1) % 40000) : 53);
	wr16(d + 38, (uint16_t)(8 + plen));
	wr16(d + 40, 0);   /* no UDP checksum (allowed for IPv4) */
	for (i = 0; i < plen; i++)
		d[42 + i] = pool[(k * 7 + i) & (POOL - 1)];
	d[24] = d[25] = 0;
	wr16(d + 24, csum_fold(csum_add(0, d + 14, 20)));
	return 42 + plen;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen -o OUT.pcap -m MANIFEST -e expected.tsv -d pcaps [-n CONNS] [-c CONCURRENT]\n"
			"           [-a APP_PACKETS] [-g GAP_US] [-s SEED]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *outpath = NULL, *manifest = NULL, *tsv = NULL, *dir = NULL;
	uint64_t nconn = 150000, started = 0, seed = 1, dns_next = 0;
	uint32_t conc = 64, gap_us = 160, i;
	struct conn *slot;
	uint32_t active = 0;
	int64_t ts = INT64_MAX;
	FILE *mf;
	int opt, k;
	static char obuf[1 << 22];

	while ((opt = getopt(argc, argv, "o:m:e:d:n:c:a:g:s:")) != -1) {
		switch (opt) {
		case 'o': outpath = optarg; break;
		case 'm': manifest = optarg; break;
		case 'e': tsv = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': nconn = strtoull(optarg, NULL, 10); break;
		case 'c': conc = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'a': app_per_conn = atoi(optarg); break;
		case 'g': gap_us = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!outpath || !manifest || !tsv || !dir || nconn == 0 || conc == 0 || app_per_conn < 0)
		usage();
	/* bulk transfers when connections carry many packets */
	resp_segs_avg = app_per_conn / 8 > 2 ? (app_per_conn / 8 > 32 ? 32 : app_per_conn / 8) : 2;
	rng_state = seed;
	for (i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rnd();
	load_expected(tsv, dir);
	make_http();
	/* the earliest template time: certificates are judged as recorded */
	{
		for (k = 0; k < ntm; k++) {
			char path[1200];
			char eb[PCAP_ERRBUF_SIZE];
			pcap_t *pc;
			struct pcap_pkthdr *h;
			const u_char *d;
			if (tm[k].cls == C_HTTP)
				continue;
			snprintf(path, sizeof(path), "%.500s/%.255s", dir, tm[k].file);
			pc = pcap_open_offline(path, eb);
			if (pc && pcap_next_ex(pc, &h, &d) == 1) {
				int64_t t0 = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
				if (t0 < ts)
					ts = t0;
			}
			if (pc)
				pcap_close(pc);
		}
	}
	out = fopen(outpath, "wb");
	if (!out)
		die("cannot create the output");
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	{
		struct { uint32_t magic; uint16_t vmaj, vmin; int32_t zone; uint32_t sigfigs, snaplen, linktype; } gh =
			{ 0xa1b2c3d4u, 2, 4, 0, 0, 262144, DLT_EN10MB };
		if (fwrite(&gh, sizeof(gh), 1, out) != 1)
			die("write failed");
		out_bytes = sizeof(gh);
	}
	slot = calloc(conc, sizeof(*slot));
	if (!slot)
		die("out of memory");
	while (active < conc && started < nconn)
		conn_start(&slot[active++], started++);
	/* about 2% of the packets are DNS-sized UDP */
	while (active) {
		uint32_t s = rnd_below(active), len;
		ts += rnd_below(2 * gap_us + 1);
		if (rnd_below(50) == 0) {
			len = dns_packet(dns_next++);
			put_packet(ts, frame, len);
			dns_packets++;
			continue;
		}
		len = conn_packet(&slot[s]);
		put_packet(ts, frame, len);
		if (conn_done(&slot[s])) {
			if (started < nconn)
				conn_start(&slot[s], started++);
			else
				slot[s] = slot[--active];
		}
	}
	if (fclose(out) != 0)
		die("write failed");
	mf = fopen(manifest, "w");
	if (!mf)
		die("cannot create the manifest");
	fprintf(mf, "# bench/gen.c manifest: what the capture holds\n");
	fprintf(mf, "connections\t%llu\n", (unsigned long long)nconn);
	fprintf(mf, "packets\t%llu\n", (unsigned long long)out_packets);
	fprintf(mf, "bytes\t%llu\n", (unsigned long long)out_bytes);
	fprintf(mf, "dns_packets\t%llu\n", (unsigned long long)dns_packets);
	fprintf(mf, "concurrent\t%u\n", conc);
	fprintf(mf, "app_packets\t%d\n", app_per_conn);
	for (k = 0; k < ntm; k++)
		fprintf(mf, "template\t%s\t%d\t%s\t%llu\n", tm[k].file, tm[k].index, tm[k].stage,
			(unsigned long long)tm[k].count);
	fclose(mf);
	return 0;
}
