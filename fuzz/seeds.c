/*
 * seeds.c - writes seed corpora for the fuzz targets from recorded
 * captures, so every target starts from real bytes.
 *
 *   seeds OUTDIR CAPTURE...
 *
 * For each capture and each of its first 8 TCP connections it writes, under
 * OUTDIR/<target>/:
 *   record/     the TCP payloads, one chunk per segment, in the format of
 *               fuzz_record.c
 *   flow/       the segments (flags, relative seq/ack, payload) in the
 *               format of fuzz_flow.c (first connection only)
 *   handshake/  each plaintext ClientHello / ServerHello body, and each
 *               direction's plaintext handshake stream, for fuzz_handshake.c
 *   x509/       each certificate of a plaintext Certificate message
 *   decode/     the first packets, re-framed for every link type
 * File names are the capture's base name and a counter, so a run is
 * deterministic. Reassembly here is naive (in-order bytes only): seeds need
 * not be perfect, only realistic.
 */
#include "dissect/decode.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CONNS 8
#define MAX_STREAM (1u << 20)

struct segrec {
	int dir;
	uint8_t flags;
	uint32_t seq, ack;
	uint8_t *data;
	uint32_t len;
};

struct conn {
	struct hs_addr a, b;
	struct segrec *segs;
	size_t n, cap;
};

static const char *outdir;
static char base[256];
static unsigned counter;

static void write_file(const char *target, const char *tag, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/%s/%s-%s-%u", outdir, target, base, tag, counter++);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (n && fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "seeds: %s: write failed\n", path);
		exit(1);
	}
	fclose(f);
}

static int ep_eq(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

/* ---- buffers ---------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			exit(1);
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(b, x, 4);
}

/* ---- per-target writers ----------------------------------------------- */

static void seed_record(const struct conn *c)
{
	struct buf b = { 0 };
	size_t i;
	put8(&b, 0);
	for (i = 0; i < c->n; i++) {
		const struct segrec *s = &c->segs[i];
		uint32_t off = 0;
		while (off < s->len) {
			uint32_t k = s->len - off > 0x3fff ? 0x3fff : s->len - off;
			put8(&b, (uint8_t)((s->dir << 7) | (k >> 8)));
			put8(&b, (uint8_t)k);
			put(&b, s->data + off, k);
			off += k;
		}
	}
	write_file("record", "conn", b.p, b.n);
	free(b.p);
}

static void seed_flow(const struct conn *c)
{
	struct buf b = { 0 };
	uint32_t isn[2] = { 0, 0 };
	int have[2] = { 0, 0 };
	size_t i;
	for (i = 0; i < c->n; i++)
		if (!have[c->segs[i].dir]) {
			have[c->segs[i].dir] = 1;
			isn[c->segs[i].dir] = c->segs[i].seq;
		}
	put8(&b, 0);
	for (i = 0; i < c->n; i++) {
		const struct segrec *s = &c->segs[i];
		put8(&b, s->flags);
		put8(&b, (uint8_t)s->dir);
		put32(&b, s->seq - isn[s->dir]);
		put32(&b, s->ack - isn[!s->dir]);
		put8(&b, (uint8_t)(s->len >> 8));
		put8(&b, (uint8_t)s->len);
		put8(&b, 0);
		put8(&b, 0);
		put(&b, s->data, s->len);
	}
	write_file("flow", "conn", b.p, b.n);
	free(b.p);
}

static uint32_t u24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void seed_certs(const uint8_t *body, size_t len)
{
	size_t total, off = 3;
	if (len < 3)
		return;
	total = u24(body);
	if (total + 3 > len)
		total = len - 3;
	while (off + 3 <= 3 + total) {
		uint32_t n = u24(body + off);
		off += 3;
		if (off + n > 3 + total)
			break;
		write_file("x509", "cert", body + off, n);
		off += n;
	}
}

/* One direction: naive in-order reassembly, then records, then messages. */
static void seed_handshake(const struct conn *c, int dir)
{
	struct buf s = { 0 }, hs = { 0 };
	uint32_t next = 0;
	int started = 0;
	size_t i, off;
	for (i = 0; i < c->n; i++) {
		const struct segrec *g = &c->segs[i];
		uint32_t skip;
		if (g->dir != dir || !g->len)
			continue;
		if (!started) {
			started = 1;
			next = g->seq;
		}
		skip = next - g->seq;
		if ((int32_t)skip < 0 || skip >= g->len)
			continue;   /* ahead (lost) or a full retransmission */
		if (s.n + g->len - skip > MAX_STREAM)
			break;
		put(&s, g->data + skip, g->len - skip);
		next += g->len - skip;
	}
	/* records: plaintext handshake bodies up to the first ChangeCipherSpec */
	for (off = 0; off + 5 <= s.n;) {
		uint8_t type = s.p[off];
		size_t rl = (size_t)s.p[off + 3] << 8 | s.p[off + 4];
		if (type < 20 || type > 24 || s.p[off + 1] != 3 || off + 5 + rl > s.n)
			break;
		if (type == 20)
			break;
		if (type == 22)
			put(&hs, s.p + off + 5, rl);
		off += 5 + rl;
	}
	if (hs.n) {
		uint8_t sel = dir ? 3 : 4;
		struct buf w = { 0 };
		put8(&w, sel);
		put(&w, hs.p, hs.n);
		write_file("handshake", dir ? "s2c" : "c2s", w.p, w.n);
		w.p[0] = (uint8_t)((dir ? 5 : 6) | (6 << 3));   /* 7-byte records */
		write_file("handshake", dir ? "s2c-frag" : "c2s-frag", w.p, w.n);
		free(w.p);
	}
	for (off = 0; off + 4 <= hs.n;) {
		uint8_t type = hs.p[off];
		uint32_t ml = u24(hs.p + off + 1);
		struct buf w = { 0 };
		if (off + 4 + ml > hs.n)
			break;
		if (type == 1 || type == 2) {
			put8(&w, type == 1 ? 0 : 1);
			put(&w, hs.p + off + 4, ml);
			write_file("handshake", type == 1 ? "ch" : "sh", w.p, w.n);
		} else if (type == 11) {
			seed_certs(hs.p + off + 4, ml);
		}
		if (type != 1 && type != 2) {
			put8(&w, 7);
			put(&w, hs.p + off, 1);
			put(&w, hs.p + off + 4, ml);
			write_file("handshake", "msg", w.p, w.n);
		}
		free(w.p);
		off += 4 + ml;
	}
	if (s.n >= 3 && (s.p[0] & 0x80) && s.p[2] == 1) {   /* SSLv2 ClientHello */
		struct buf w = { 0 };
		size_t rl = 2 + ((size_t)(s.p[0] & 0x7f) << 8 | s.p[1]);
		put8(&w, 2);
		put(&w, s.p, rl < s.n ? rl : s.n);
		write_file("handshake", "sslv2", w.p, w.n);
		free(w.p);
	}
	free(s.p);
	free(hs.p);
}

/* Re-frames an IP packet for each link type fuzz_decode tries. */
static void seed_decode(const uint8_t *ip, size_t n, int v6)
{
	struct buf b = { 0 };
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint8_t et[2] = { v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00 };
	uint8_t af_le[4] = { v6 ? 10 : 2, 0, 0, 0 };
	uint8_t af_be[4] = { 0, 0, 0, v6 ? 24 : 2 };
	uint8_t sll[14] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t sll2[18] = { 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t vlan[8] = { 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0xc8 };
	write_file("decode", "raw", ip, n);
	put(&b, mac, 12); put(&b, et, 2); put(&b, ip, n);
	write_file("decode", "eth", b.p, b.n); b.n = 0;
	put(&b, mac, 12); put(&b, vlan, 8); put(&b, et, 2); put(&b, ip, n);
	write_file("decode", "qinq", b.p, b.n); b.n = 0;
	put(&b, sll, 14); put(&b, et, 2); put(&b, ip, n);
	write_file("decode", "sll", b.p, b.n); b.n = 0;
	put(&b, et, 2); put(&b, sll2, 18); put(&b, ip, n);
	write_file("decode", "sll2", b.p, b.n); b.n = 0;
	put(&b, af_le, 4); put(&b, ip, n);
	write_file("decode", "null", b.p, b.n); b.n = 0;
	put(&b, af_be, 4); put(&b, ip, n);
	write_file("decode", "loop", b.p, b.n); b.n = 0;
	free(b.p);
}

static size_t link_len(int dlt, const uint8_t *d, size_t n)
{
	switch (dlt) {
	case 1: return n >= 14 ? 14 : n;
	case 113: return n >= 16 ? 16 : n;
	case 276: return n >= 20 ? 20 : n;
	case 0: case 108: return n >= 4 ? 4 : n;
	default: (void)d; return 0;
	}
}

static void one_capture(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, ebuf);
	struct conn conns[MAX_CONNS];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t nconn = 0, i, decoded = 0;
	int dlt;
	const char *slash = strrchr(path, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : path);
	if (strchr(base, '.'))
		*strrchr(base, '.') = 0;
	counter = 0;
	if (!pc) {
		fprintf(stderr, "seeds: %s\n", ebuf);
		return;
	}
	dlt = pcap_datalink(pc);
	memset(conns, 0, sizeof(conns));
	while (pcap_next_ex(pc, &h, &d) == 1) {
		struct pkt p;
		struct conn *c = NULL;
		int dir = 0;
		if (pkt_decode(dlt, d, h->caplen, h->len, &p) != PKT_OK)
			continue;
		if (decoded < 6) {
			size_t ll = link_len(dlt, d, h->caplen);
			seed_decode(d + ll, h->caplen - ll, p.src.family == 6);
			decoded++;
		}
		for (i = 0; i < nconn; i++) {
			if (ep_eq(&conns[i].a, &p.src) && ep_eq(&conns[i].b, &p.dst)) {
				c = &conns[i];
				dir = 0;
				break;
			}
			if (ep_eq(&conns[i].a, &p.dst) && ep_eq(&conns[i].b, &p.src)) {
				c = &conns[i];
				dir = 1;
				break;
			}
		}
		if (!c) {
			if (nconn == MAX_CONNS)
				continue;
			c = &conns[nconn++];
			c->a = p.src;
			c->b = p.dst;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 64;
			c->segs = realloc(c->segs, c->cap * sizeof(*c->segs));
			if (!c->segs)
				exit(1);
		}
		c->segs[c->n].dir = dir;
		c->segs[c->n].flags = p.flags;
		c->segs[c->n].seq = p.seq;
		c->segs[c->n].ack = p.ack;
		c->segs[c->n].len = p.paylen;
		c->segs[c->n].data = malloc(p.paylen ? p.paylen : 1);
		if (!c->segs[c->n].data)
			exit(1);
		memcpy(c->segs[c->n].data, p.payload, p.paylen);
		c->n++;
	}
	pcap_close(pc);
	for (i = 0; i < nconn; i++) {
		size_t k;
		seed_record(&conns[i]);
		if (i == 0)
			seed_flow(&conns[i]);
		seed_handshake(&conns[i], 0);
		seed_handshake(&conns[i], 1);
		for (k = 0; k < conns[i].n; k++)
			free(conns[i].segs[k].data);
		free(conns[i].segs);
	}
}

int main(int argc, char **argv)
{
	int i;
	if (argc < 3) {
		fprintf(stderr, "usage: seeds OUTDIR CAPTURE...\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0777);
	for (i = 2; i < argc; i++)
		one_capture(argv[i]);
	return 0;
}
