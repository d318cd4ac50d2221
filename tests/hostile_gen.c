/*
 * hostile_gen.c - writes the hostile captures tests/hostile.sh runs
 * tlswhy on. Deterministic: the same bytes on every run and machine.
 *
 *   hostile_gen OUTDIR
 *   hostile_gen --sni IN.pcap OUT.pcap
 *
 * The second form (tests/reports.sh; it replaced tests/gen_hostile.py) takes
 * the first ClientHello with a server_name in IN (classic pcap, Ethernet or
 * raw IPv4, the ClientHello in one segment), replaces the host_name with
 * SNI_HOSTILE below and fixes every length that covers it: server_name
 * entry and list, extension, extensions block, handshake message, record,
 * IPv4 total length and header checksum, TCP checksum. The client's later
 * sequence numbers and the server's acknowledgements are shifted by the
 * size change so the stream still reassembles; everything else is copied
 * byte for byte, so the output depends only on the input.
 *
 * Frames are Ethernet / IPv4 / TCP built by hand (checksums zero, as in a
 * capture on a host whose NIC fills them in, unless a case says otherwise:
 * real_csum) and written with libpcap's pcap_dump(), which
 * writes each record header as given, so lengths can lie on purpose. Files
 * that are not captures at all (wrong magic, empty, cut short) are written
 * or cut with stdio.
 *
 * The adversarial captures of issue 9 were meant to come from the libnet
 * craft tool (pcaps/craft.c); until it exists they are made here.
 *
 * Every TCP connection is 10.0.0.1:40000+i -> 10.0.0.2:443 unless said.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/block.h"   /* CAP_BLK_BYTES: the block reader's block, for frag-blocks.pcap */

#define MSS 1460

static const char *outdir;
static pcap_t *dead;
static pcap_dumper_t *dump;
static int snaplen_cut;           /* 0 = none */
static int real_csum;             /* fill in IPv4 and TCP checksums (else zero) */
static int bad_csum;              /* 1: spoil the next segment's TCP checksum, 2: its IPv4 one,
				   * 3: a payload byte after the checksum (corrupted on the way),
				   * 4: put the pseudo-header's sum in the TCP checksum field (offload) */
static int syn_wscale = -1;       /* >= 0: SYNs carry this window scale option (RFC 7323) */
static unsigned csum(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
static int64_t now_us = 1700000000000000LL;

/* ---- files -------------------------------------------------------------- */

static const char *path_of(const char *name)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/%s", outdir, name);
	return p;
}

static void open_pcap(const char *name, int snaplen)
{
	dead = pcap_open_dead(DLT_EN10MB, snaplen);
	if (!dead) {
		fprintf(stderr, "hostile_gen: pcap_open_dead failed\n");
		exit(1);
	}
	dump = pcap_dump_open(dead, path_of(name));
	if (!dump) {
		fprintf(stderr, "hostile_gen: %s: %s\n", name, pcap_geterr(dead));
		exit(1);
	}
	snaplen_cut = 0;
}

static void close_pcap(void)
{
	pcap_dump_close(dump);
	pcap_close(dead);
	dump = NULL;
	dead = NULL;
}

/* One record with the lengths given, whatever the data holds. */
static void put_raw(const uint8_t *data, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;
	now_us += 100;
	h.ts.tv_sec = (time_t)(now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)dump, &h, data);
}

/* ---- frames --------------------------------------------------------------- */

struct conn {
	uint8_t cip[4], sip[4];
	uint16_t cport, sport;
	uint32_t cseq, sseq;       /* next sequence number of each side */
};

static void conn_init(struct conn *c, unsigned i)
{
	memset(c, 0, sizeof(*c));
	c->cip[0] = 10; c->cip[3] = 1;
	c->sip[0] = 10; c->sip[3] = 2;
	c->cip[1] = (uint8_t)(i >> 16);
	c->cip[2] = (uint8_t)(i >> 8);
	c->cport = (uint16_t)(40000 + (i & 0xff));
	c->sport = 443;
	c->cseq = 0x10000000u + i * 7919u;
	c->sseq = 0x80000000u + i * 104729u;
}

/* One segment from `dir` (0 client, 1 server) at sequence `seq`. */
static void segment_at(struct conn *c, int dir, uint8_t flags, uint32_t seq, const uint8_t *p, size_t n)
{
	static uint8_t f[14 + 20 + 24 + 65536];
	size_t opt = (flags & 0x02) && syn_wscale >= 0 ? 4 : 0;
	size_t tot = 20 + 20 + opt + n;
	uint32_t ack = dir ? c->cseq : c->sseq;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	const uint8_t *src = dir ? c->sip : c->cip, *dst = dir ? c->cip : c->sip;
	uint16_t sp = dir ? c->sport : c->cport, dp = dir ? c->cport : c->sport;
	memset(f, 0, 58);
	f[0] = 2; f[5] = dir ? 1 : 2;
	f[6] = 2; f[11] = dir ? 2 : 1;
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8); ip[3] = (uint8_t)tot;
	ip[6] = 0x40;
	ip[8] = 64; ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp;
	tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
	tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16); tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
	if (flags & 0x10) {
		tcp[8] = (uint8_t)(ack >> 24); tcp[9] = (uint8_t)(ack >> 16);
		tcp[10] = (uint8_t)(ack >> 8); tcp[11] = (uint8_t)ack;
	}
	tcp[12] = (uint8_t)((5 + opt / 4) << 4);
	if (opt) {
		tcp[20] = 1; tcp[21] = 3; tcp[22] = 3; tcp[23] = (uint8_t)syn_wscale;   /* NOP, window scale */
	}
	tcp[13] = flags;
	tcp[14] = 0xff; tcp[15] = 0xff;
	if (n)
		memcpy(tcp + 20 + opt, p, n);
	if (real_csum) {
		uint8_t ph[12];
		unsigned v;
		memcpy(ph, ip + 12, 8);
		ph[8] = 0; ph[9] = 6; ph[10] = (uint8_t)((20 + opt + n) >> 8); ph[11] = (uint8_t)(20 + opt + n);
		v = csum(ph, 12, tcp, 20 + opt + n);
		if (bad_csum == 1)
			v ^= 0x5a5a;
		if (bad_csum == 4)
			v = 0xffff ^ csum(ph, 12, NULL, 0);   /* the sum itself, not its complement */
		tcp[16] = (uint8_t)(v >> 8); tcp[17] = (uint8_t)v;
		if (bad_csum == 3 && n > 5)
			tcp[20 + opt + 5] ^= 0xff;
		v = csum(ip, 20, NULL, 0);
		if (bad_csum == 2)
			v ^= 0x0101;
		ip[10] = (uint8_t)(v >> 8); ip[11] = (uint8_t)v;
		bad_csum = 0;
	}
	{
		uint32_t len = (uint32_t)(14 + tot);
		uint32_t cap = snaplen_cut && len > (uint32_t)snaplen_cut ? (uint32_t)snaplen_cut : len;
		put_raw(f, cap, len);
	}
}

static void segment(struct conn *c, int dir, uint8_t flags, const uint8_t *p, size_t n)
{
	uint32_t *seq = dir ? &c->sseq : &c->cseq;
	segment_at(c, dir, flags, *seq, p, n);
	*seq += (uint32_t)n + ((flags & 0x03) ? 1 : 0);   /* SYN and FIN take one */
}

static void handshake_tcp(struct conn *c)
{
	segment(c, 0, 0x02, NULL, 0);
	segment(c, 1, 0x12, NULL, 0);
	segment(c, 0, 0x10, NULL, 0);
}

/* Payload cut into MSS-sized segments, each acknowledged by the peer. */
static void send_data(struct conn *c, int dir, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = n < MSS ? n : MSS;
		segment(c, dir, 0x18, p, k);
		segment(c, !dir, 0x10, NULL, 0);
		p += k;
		n -= k;
	}
}

static void close_both(struct conn *c)
{
	segment(c, 0, 0x11, NULL, 0);
	segment(c, 1, 0x11, NULL, 0);
	segment(c, 0, 0x10, NULL, 0);
}

/* ---- TLS bytes -------------------------------------------------------------- */

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

static void put8(struct buf *b, unsigned v) { uint8_t x = (uint8_t)v; put(b, &x, 1); }
static void put16(struct buf *b, unsigned v) { put8(b, v >> 8); put8(b, v); }
static void put24(struct buf *b, unsigned v) { put8(b, v >> 16); put8(b, v >> 8); put8(b, v); }

static void record(struct buf *out, unsigned type, const uint8_t *p, size_t n)
{
	put8(out, type);
	put16(out, 0x0303);
	put16(out, (unsigned)n);
	put(out, p, n);
}

/* Handshake messages in records of at most 16384 bytes. */
static void hs_records(struct buf *out, const struct buf *msgs)
{
	size_t off = 0;
	while (off < msgs->n) {
		size_t k = msgs->n - off < 16384 ? msgs->n - off : 16384;
		record(out, 22, msgs->p + off, k);
		off += k;
	}
}

static void msg(struct buf *m, unsigned type, const struct buf *body)
{
	put8(m, type);
	put24(m, (unsigned)body->n);
	put(m, body->p, body->n);
}

static void client_hello(struct buf *m, const char *sni)
{
	struct buf b = { 0 }, ext = { 0 };
	unsigned i;
	size_t sl = strlen(sni);
	put16(&b, 0x0303);
	for (i = 0; i < 32; i++)
		put8(&b, i);
	put8(&b, 0);
	put16(&b, 6);
	put16(&b, 0xc02f); put16(&b, 0xc030); put16(&b, 0x009c);
	put8(&b, 1); put8(&b, 0);
	put16(&ext, 0); put16(&ext, (unsigned)sl + 5); put16(&ext, (unsigned)sl + 3);
	put8(&ext, 0); put16(&ext, (unsigned)sl); put(&ext, sni, sl);
	put16(&ext, 10); put16(&ext, 4); put16(&ext, 2); put16(&ext, 23);
	put16(&ext, 13); put16(&ext, 4); put16(&ext, 2); put16(&ext, 0x0401);
	put16(&b, (unsigned)ext.n);
	put(&b, ext.p, ext.n);
	msg(m, 1, &b);
	free(b.p);
	free(ext.p);
}

static void server_hello(struct buf *m)
{
	struct buf b = { 0 };
	unsigned i;
	put16(&b, 0x0303);
	for (i = 0; i < 32; i++)
		put8(&b, 0x40 + i);
	put8(&b, 0);
	put16(&b, 0xc02f);
	put8(&b, 0);
	msg(m, 2, &b);
	free(b.p);
}

/* A Certificate message holding `n` certificates of the given DER. */
static void certificate(struct buf *m, const uint8_t *der, size_t dl, unsigned n)
{
	struct buf b = { 0 };
	unsigned i;
	put24(&b, (unsigned)((dl + 3) * n));
	for (i = 0; i < n; i++) {
		put24(&b, (unsigned)dl);
		put(&b, der, dl);
	}
	msg(m, 11, &b);
	free(b.p);
}

static void server_hello_done(struct buf *m)
{
	struct buf b = { 0 };
	msg(m, 14, &b);
}

/* Deterministic pseudo-random bytes (xorshift). */
static void garbage(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	size_t i;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* A client hello flight as records. */
static void ch_records(struct buf *out, const char *sni)
{
	struct buf m = { 0 };
	client_hello(&m, sni);
	hs_records(out, &m);
	free(m.p);
}

/* ---- the cases ------------------------------------------------------------ */

/* A TLS 1.2 handshake up to ServerHelloDone, then both close. */
static void write_ok(const char *name, int snaplen)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 };
	uint8_t der[600];
	garbage(der, sizeof(der), 7);
	der[0] = 0x30; der[1] = 0x82; der[2] = 0x02; der[3] = 0x54;
	open_pcap(name, snaplen);
	snaplen_cut = snaplen < 65535 ? snaplen : 0;
	conn_init(&c, 0);
	handshake_tcp(&c);
	ch_records(&out, "ok.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	server_hello(&m);
	certificate(&m, der, sizeof(der), 2);
	server_hello_done(&m);
	hs_records(&out, &m);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
	free(m.p);
}

static void write_truncated(void)
{
	FILE *f;
	long size;
	write_ok("truncated.pcap", 65535);
	f = fopen(path_of("truncated.pcap"), "r+b");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 100) {
		fprintf(stderr, "hostile_gen: truncated.pcap\n");
		exit(1);
	}
	fclose(f);
	/* cut in the middle of the last-but-two packet's data */
	if (truncate(path_of("truncated.pcap"), size - 2 * 70 - 20) != 0) {
		perror("hostile_gen: truncate");
		exit(1);
	}
}

static void write_bytes(const char *name, const void *p, size_t n)
{
	FILE *f = fopen(path_of(name), "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "hostile_gen: %s: write failed\n", name);
		exit(1);
	}
}

static void write_not_captures(void)
{
	static const char text[] = "GET / HTTP/1.1\r\nHost: not-a-capture\r\n\r\n";
	/* a pcap header with the magic of no format libpcap knows */
	static const uint8_t bad_magic[24] = { 0xde, 0xad, 0xbe, 0xef, 2, 0, 4, 0 };
	write_bytes("badmagic.pcap", bad_magic, sizeof(bad_magic));
	write_bytes("text.pcap", text, sizeof(text) - 1);
	write_bytes("empty.pcap", "", 0);
	open_pcap("header-only.pcap", 65535);
	close_pcap();
}

/* Record lengths that say more (or less) than what follows. */
static void write_record_lies(void)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 };
	open_pcap("record-lies.pcap", 65535);
	/* 1: a ClientHello record claiming 16000 bytes, then the client closes */
	conn_init(&c, 1);
	handshake_tcp(&c);
	client_hello(&m, "lie1.example");
	put8(&out, 22); put16(&out, 0x0301); put16(&out, 16000);
	put(&out, m.p, m.n);
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	/* 2: a record length over 2^14 + 2048 (0xffff) */
	out.n = 0;
	conn_init(&c, 2);
	handshake_tcp(&c);
	put8(&out, 22); put16(&out, 0x0301); put16(&out, 0xffff);
	put(&out, m.p, m.n);
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	/* 3: a handshake message longer than its record, and the stream ends */
	out.n = 0;
	conn_init(&c, 3);
	handshake_tcp(&c);
	m.p[1] = 0; m.p[2] = 0x40; m.p[3] = 0;   /* message length 16384 */
	record(&out, 22, m.p, m.n);
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	/* 4: a server answering with a ServerHello record of length 0 then 1 byte */
	out.n = 0;
	m.n = 0;
	conn_init(&c, 4);
	handshake_tcp(&c);
	ch_records(&out, "lie4.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	put8(&out, 22); put16(&out, 0x0303); put16(&out, 0);
	put8(&out, 22); put16(&out, 0x0303); put16(&out, 1); put8(&out, 2);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
	free(m.p);
}

/* A ClientHello whose handshake header says 16 MiB - 1, followed by 2 MiB
 * of handshake records. */
static void write_hs_16m(void)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 };
	size_t i;
	open_pcap("hs-16m.pcap", 65535);
	conn_init(&c, 5);
	handshake_tcp(&c);
	put8(&m, 1);
	put24(&m, 0xffffff);
	for (i = 0; m.n < (2u << 20); i++)
		put8(&m, (unsigned)i);
	hs_records(&out, &m);
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
	free(m.p);
}

/* Certificate messages: one of garbage DER, one with thousands of certificates. */
static void write_certs(void)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 };
	uint8_t der[512], tiny[8];
	open_pcap("garbage-cert.pcap", 65535);
	conn_init(&c, 6);
	handshake_tcp(&c);
	ch_records(&out, "garbage.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	garbage(der, sizeof(der), 42);
	der[0] = 0x30; der[1] = 0x82; der[2] = 0x01; der[3] = 0xfc;   /* a SEQUENCE of the right length */
	server_hello(&m);
	certificate(&m, der, sizeof(der), 1);
	server_hello_done(&m);
	hs_records(&out, &m);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();

	open_pcap("many-certs.pcap", 65535);
	conn_init(&c, 7);
	handshake_tcp(&c);
	out.n = m.n = 0;
	ch_records(&out, "many.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	garbage(tiny, sizeof(tiny), 9);
	server_hello(&m);
	certificate(&m, tiny, sizeof(tiny), 5000);
	server_hello_done(&m);
	hs_records(&out, &m);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
	free(m.p);
}

/* After the ClientHello, the server sends 200000 empty handshake records. */
static void write_zero_records(void)
{
	struct conn c;
	struct buf out = { 0 };
	unsigned i;
	open_pcap("zero-records.pcap", 65535);
	conn_init(&c, 8);
	handshake_tcp(&c);
	ch_records(&out, "zero.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	for (i = 0; i < 200000; i++)
		record(&out, i % 2 ? 23 : 22, NULL, 0);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
}

/* Packet records whose lengths lie. */
static void write_length_lies(void)
{
	static uint8_t big[300000];
	struct conn c;
	struct buf out = { 0 };
	/* caplen > snaplen: the file says snaplen 128, its packets are 1514 */
	open_pcap("caplen-over-snaplen.pcap", 128);
	conn_init(&c, 9);
	handshake_tcp(&c);
	ch_records(&out, "over-snaplen.example");
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	close_pcap();
	/* caplen > len: every packet says it was shorter on the wire than captured */
	open_pcap("caplen-over-len.pcap", 65535);
	garbage(big, 200, 3);
	put_raw(big, 200, 60);
	put_raw(big, 1000, 1);
	put_raw(big, 64, 0);
	conn_init(&c, 10);
	handshake_tcp(&c);
	send_data(&c, 0, out.p, out.n);
	close_pcap();
	/* caplen 300000, over anything libpcap accepts for Ethernet (262144) */
	open_pcap("caplen-huge.pcap", 65535);
	conn_init(&c, 11);
	handshake_tcp(&c);
	put_raw(big, sizeof(big), sizeof(big));
	close_pcap();
	free(out.p);
}

/* 802.1Q tags nested past PKT_MAX_VLAN_DEPTH (8): 9 and 64. */
static void write_vlan_nest(void)
{
	uint8_t f[14 + 64 * 4 + 60];
	unsigned depth, i;
	open_pcap("vlan-nest.pcap", 65535);
	for (depth = 9; depth <= 64; depth += 55) {
		memset(f, 0, sizeof(f));
		f[0] = 2; f[6] = 2;
		f[12] = 0x81; f[13] = 0;
		for (i = 0; i < depth; i++) {
			uint8_t *t = f + 14 + i * 4;
			t[0] = 0; t[1] = (uint8_t)(i + 1);
			t[2] = i + 1 < depth ? 0x81 : 0x08;
			t[3] = 0;
		}
		f[14 + depth * 4] = 0x45;
		put_raw(f, 14 + depth * 4 + 40, 14 + depth * 4 + 40);
	}
	close_pcap();
}

/* A ClientHello whose SNI holds terminal escapes, JSON and HTML specials,
 * a NUL and invalid UTF-8: every output must escape them. */
static void write_sni_hostile(void)
{
	static const char sni[] = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\"quote\\back</script><b>\r\n\xff\xfe\xc3(|`*_";
	struct conn c;
	struct buf out = { 0 };
	open_pcap("sni-hostile.pcap", 65535);
	conn_init(&c, 13);
	handshake_tcp(&c);
	ch_records(&out, sni);
	send_data(&c, 0, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
}

/* A TCP SYN inside VXLAN inside VXLAN ... `depth` times (limit:
 * PKT_MAX_ENCAP_DEPTH, 4). Each level: Ethernet, IPv4, UDP to 4789, VXLAN. */
static void write_tunnel_nest(void)
{
	static uint8_t f[4096];
	unsigned depths[2] = { 4, 40 }, k, i;
	open_pcap("tunnel-nest.pcap", 65535);
	for (k = 0; k < 2; k++) {
		size_t n = 0, inner = 14 + 20 + 20, level = 14 + 20 + 8 + 8;
		size_t total = depths[k] * level + inner;
		memset(f, 0, sizeof(f));
		for (i = 0; i < depths[k]; i++) {
			uint8_t *e = f + n, *ip = e + 14, *udp = ip + 20, *vx = udp + 8;
			size_t rest = total - n - 14;   /* IP datagram of this level */
			e[0] = 2; e[6] = 2; e[12] = 0x08;
			ip[0] = 0x45; ip[2] = (uint8_t)(rest >> 8); ip[3] = (uint8_t)rest;
			ip[8] = 64; ip[9] = 17;
			ip[12] = 192; ip[15] = (uint8_t)i; ip[16] = 192; ip[19] = (uint8_t)(i + 100);
			udp[0] = 0x30; udp[2] = 0x12; udp[3] = 0xb5;   /* to 4789 */
			udp[4] = (uint8_t)((rest - 20) >> 8); udp[5] = (uint8_t)(rest - 20);
			vx[0] = 0x08; vx[6] = 1;                       /* flags I, VNI 256 */
			n += level;
		}
		{
			uint8_t *e = f + n, *ip = e + 14, *tcp = ip + 20;
			e[0] = 2; e[6] = 2; e[12] = 0x08;
			ip[0] = 0x45; ip[3] = 40; ip[8] = 64; ip[9] = 6;
			ip[12] = 10; ip[15] = 1; ip[16] = 10; ip[19] = 2;
			tcp[0] = 0x9c; tcp[1] = 0x40; tcp[2] = 0x01; tcp[3] = 0xbb;
			tcp[12] = 0x50; tcp[13] = 0x02;
		}
		put_raw(f, (uint32_t)total, (uint32_t)total);
	}
	close_pcap();
}

/* `n` connections that only ever send a SYN, each from its own client
 * address and port (conn_init spreads i over two address bytes and the
 * port), written to `name`. */
static void write_syn_flood(const char *name, unsigned n)
{
	struct conn c;
	unsigned i;
	open_pcap(name, 96);
	for (i = 0; i < n; i++) {
		conn_init(&c, i);
		segment(&c, 0, 0x02, NULL, 0);
	}
	close_pcap();
}

/* One connection whose client never sends its first 100 bytes: `n`
 * segments that stay out of order forever (nobody acknowledges). Both
 * SYNs offer window scale 14, so the 5 MB of segments lie within the
 * window (a 65535 window unscaled would make most of them out of window). */
static void write_ooo_flood(unsigned n)
{
	struct conn c;
	uint8_t p[1000];
	unsigned i;
	uint32_t base;
	open_pcap("ooo-flood.pcap", 65535);
	conn_init(&c, 12);
	syn_wscale = 14;
	handshake_tcp(&c);
	syn_wscale = -1;
	base = c.cseq + 100;
	garbage(p, sizeof(p), 5);
	for (i = 0; i < n; i++)
		segment_at(&c, 0, 0x08, base + i * (uint32_t)sizeof(p), p, sizeof(p));
	close_pcap();
}

/* ---- issue 16: CPU and memory bounded per byte --------------------------- */

/* Raw IPv4 (LINKTYPE_RAW): one record of an IPv4 header with `flags_off`
 * (MF and offset in 8-byte units) and `n` bytes of payload. */
static void ip4_raw(const uint8_t src[4], const uint8_t dst[4], uint16_t id, uint16_t flags_off,
		    const uint8_t *p, size_t n)
{
	uint8_t f[20 + 1500];
	size_t tot = 20 + n;
	memset(f, 0, 20);
	f[0] = 0x45;
	f[2] = (uint8_t)(tot >> 8); f[3] = (uint8_t)tot;
	f[4] = (uint8_t)(id >> 8); f[5] = (uint8_t)id;
	f[6] = (uint8_t)(flags_off >> 8); f[7] = (uint8_t)flags_off;
	f[8] = 64; f[9] = 6;
	memcpy(f + 12, src, 4);
	memcpy(f + 16, dst, 4);
	if (n)
		memcpy(f + 20, p, n);
	put_raw(f, (uint32_t)tot, (uint32_t)tot);
}

static void open_raw(const char *name)
{
	open_pcap(name, 65535);
	close_pcap();
	dead = pcap_open_dead(DLT_RAW, 65535);
	dump = dead ? pcap_dump_open(dead, path_of(name)) : NULL;
	if (!dump) {
		fprintf(stderr, "hostile_gen: %s: cannot write\n", name);
		exit(1);
	}
}

/* A TCP header (20 bytes) from 10.9.0.1:`sport` to 10.9.0.2:443, ACK, then `extra` zero bytes. */
static size_t tcp_hdr(uint8_t *t, uint16_t sport, uint32_t seq, size_t extra)
{
	memset(t, 0, 20 + extra);
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
	t[2] = 0x01; t[3] = 0xbb;
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
	t[12] = 0x50; t[13] = 0x10; t[14] = 0xff; t[15] = 0xff;
	return 20 + extra;
}

static const uint8_t FRAG_SRC[4] = { 10, 9, 0, 1 }, FRAG_DST[4] = { 10, 9, 0, 2 };

/* The block reader's per-block segment bound (capture/fast.c SEGS_MAX):
 * block 0 (exactly CAP_BLK_BYTES of records after the file header) ends
 * with 1,024 first fragments; block 1 opens with their 1,024 last
 * fragments, 36 bytes each (a record header and an IPv4 header, no
 * payload), each completing a datagram, then plain 56-byte TCP records:
 * more segments in one block than CAP_BLK_BYTES / 56 (19,090 for 1 MiB,
 * 9,711 for 512 KiB). Then as much again. */
static void write_frag_blocks(void)
{
	uint8_t t[256];
	unsigned blk, i;
	uint32_t seq = 1;
	open_raw("frag-blocks.pcap");
	for (blk = 0; blk < 2; blk++) {
		size_t used = 0, plain;
		/* a block - 1024 first fragments (60 bytes each), in plain
		 * records of 56 bytes and one of 56 + the rest */
		size_t fill = CAP_BLK_BYTES - 1024u * 60u;
		plain = fill / 56;
		for (i = 0; i + 1 < plain; i++) {
			ip4_raw(FRAG_SRC, FRAG_DST, 1, 0x4000, t, tcp_hdr(t, 50000, seq, 0));
			used += 56;
		}
		ip4_raw(FRAG_SRC, FRAG_DST, 1, 0x4000, t, tcp_hdr(t, 50000, seq, fill - used - 56));
		for (i = 0; i < 1024; i++)   /* MF, offset 0: a TCP header and 4 bytes */
			ip4_raw(FRAG_SRC, FRAG_DST, (uint16_t)(blk * 1024 + i), 0x2000, t, tcp_hdr(t, 50001, seq, 4));
		/* block 1: the last fragments (offset 3 = 24 bytes, no payload) */
		for (i = 0; i < 1024; i++)
			ip4_raw(FRAG_SRC, FRAG_DST, (uint16_t)(blk * 1024 + i), 3, NULL, 0);
		plain = (CAP_BLK_BYTES - 1024u * 36u) / 56;
		for (i = 0; i < plain; i++)
			ip4_raw(FRAG_SRC, FRAG_DST, 1, 0x4000, t, tcp_hdr(t, 50000, seq, 0));
		/* to the next block boundary */
		used = 1024u * 36u + plain * 56u;
		if (CAP_BLK_BYTES - used >= 56)
			ip4_raw(FRAG_SRC, FRAG_DST, 1, 0x4000, t, tcp_hdr(t, 50000, seq, CAP_BLK_BYTES - used - 56));
	}
	close_pcap();
}

/* `n` first fragments of `n` distinct datagrams (never completed: the
 * table stays full, each new one drops the oldest), 60-byte records, and a
 * benign capture of as many 60-byte records: TCP segments of one
 * connection carrying 4 bytes each. */
static void write_frag_flood(unsigned n)
{
	uint8_t t[256];
	unsigned i;
	open_raw("frag-flood.pcap");
	for (i = 0; i < n; i++) {
		uint8_t src[4] = { 10, 9, (uint8_t)(i >> 24), (uint8_t)(i >> 16) };
		ip4_raw(src, FRAG_DST, (uint16_t)i, 0x2000, t, tcp_hdr(t, 50001, 1, 4));
	}
	close_pcap();
	open_raw("frag-benign.pcap");
	for (i = 0; i < n; i++)
		ip4_raw(FRAG_SRC, FRAG_DST, 1, 0x4000, t, tcp_hdr(t, 50000, 1 + 4 * i, 4));
	close_pcap();
}

/* `n` connections on one 5-tuple (port reuse), each a SYN answered by a
 * RST: every one a reported failure, so -w marks them all. */
static void write_port_reuse(unsigned n)
{
	struct conn c;
	unsigned i;
	open_pcap("port-reuse.pcap", 96);
	for (i = 0; i < n; i++) {
		conn_init(&c, 7);
		c.cseq += i * 100000u;
		segment(&c, 0, 0x02, NULL, 0);
		segment(&c, 1, 0x14, NULL, 0);
		now_us += 3000000;   /* past the closed flow's linger */
	}
	close_pcap();
}

/* ---- certificates whose signature checks cost what the sender chose ------ */

/* DER: a tag, its length (short or long form), the content. */
static void der(struct buf *b, unsigned tag, const struct buf *content)
{
	size_t n = content->n;
	put8(b, tag);
	if (n < 128) {
		put8(b, (unsigned)n);
	} else if (n < 256) {
		put8(b, 0x81); put8(b, (unsigned)n);
	} else if (n < 65536) {
		put8(b, 0x82); put16(b, (unsigned)n);
	} else {
		put8(b, 0x83); put24(b, (unsigned)n);
	}
	put(b, content->p, n);
}

static void der_raw(struct buf *b, unsigned tag, const void *p, size_t n)
{
	struct buf c = { 0 };
	put(&c, p, n);
	der(b, tag, &c);
	free(c.p);
}

/* A positive INTEGER of `n` big-endian bytes. */
static void der_uint(struct buf *b, const uint8_t *p, size_t n)
{
	struct buf c = { 0 };
	if (p[0] & 0x80)
		put8(&c, 0);
	put(&c, p, n);
	der(b, 0x02, &c);
	free(c.p);
}

static void der_name(struct buf *b, const char *cn)
{
	struct buf atv = { 0 }, seq = { 0 }, set = { 0 };
	static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
	der_raw(&atv, 0x06, oid_cn, sizeof(oid_cn));
	der_raw(&atv, 0x0c, cn, strlen(cn));
	der(&seq, 0x30, &atv);
	der(&set, 0x31, &seq);
	der(b, 0x30, &set);
	free(atv.p); free(seq.p); free(set.p);
}

/* An X.509 v3 certificate with an RSA key of an `nbytes`-byte modulus and
 * the public exponent `e` (`ebytes` bytes), names `subject` and `issuer`,
 * and an RSA signature of the modulus's length that verifies with nothing:
 * what a check costs is the modular exponentiation, made whatever the
 * answer. Nothing here is a real key; the bytes are pseudo-random from
 * `seed` (the serial too, so every certificate is distinct). */
static void rsa_cert(struct buf *out, uint32_t seed, const char *subject, const char *issuer, size_t nbytes,
		     const uint8_t *e, size_t ebytes)
{
	static const uint8_t sha256rsa[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
					     0x05, 0x00 };
	static const uint8_t rsaenc[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
					  0x05, 0x00 };
	static const uint8_t v3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
	uint8_t n[1024], sig[1025], serial[8];
	struct buf tbs = { 0 }, t = { 0 }, spki = { 0 }, rsapub = { 0 }, bits = { 0 }, cert = { 0 };
	garbage(n, nbytes, seed);
	n[0] |= 0xc0;
	n[nbytes - 1] |= 1;
	garbage(serial, sizeof(serial), seed ^ 0x5a5a5a5au);
	serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x10);
	put(&tbs, v3, sizeof(v3));
	der_uint(&tbs, serial, sizeof(serial));
	der_raw(&tbs, 0x30, sha256rsa, sizeof(sha256rsa));
	der_name(&tbs, issuer);
	der_raw(&t, 0x17, "230101000000Z", 13);
	der_raw(&t, 0x17, "330101000000Z", 13);
	der(&tbs, 0x30, &t);
	der_name(&tbs, subject);
	der_uint(&rsapub, n, nbytes);
	der_uint(&rsapub, e, ebytes);
	t.n = 0;
	der(&t, 0x30, &rsapub);
	put8(&bits, 0);
	put(&bits, t.p, t.n);
	der_raw(&spki, 0x30, rsaenc, sizeof(rsaenc));
	der(&spki, 0x03, &bits);
	der(&tbs, 0x30, &spki);
	t.n = 0;
	der(&t, 0x30, &tbs);
	der_raw(&t, 0x30, sha256rsa, sizeof(sha256rsa));
	sig[0] = 0;
	garbage(sig + 1, nbytes, seed ^ 0x1234567u);
	sig[1] = 0x01;   /* below the modulus */
	der_raw(&t, 0x03, sig, nbytes + 1);
	der(&cert, 0x30, &t);
	put(out, cert.p, cert.n);
	free(tbs.p); free(t.p); free(spki.p); free(rsapub.p); free(bits.p); free(cert.p);
}

/* `conns` connections, each a ServerHello and a Certificate of 16
 * distinct certificates (never seen before in the capture) with RSA keys
 * of `nbytes` bytes and exponent `e`. hostile: every certificate is
 * self-issued under one name, so each asks for a check of its own
 * signature and of its link to the next (31 a connection); benign: the
 * same sizes, names that link nothing (no check at all). */
static void write_cert_cost(const char *name, int hostile, size_t nbytes, const uint8_t *e, size_t ebytes,
			    unsigned conns)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 }, list = { 0 }, body = { 0 }, one = { 0 };
	unsigned i, k;
	open_pcap(name, 65535);
	for (i = 0; i < conns; i++) {
		conn_init(&c, 1000 + i);
		handshake_tcp(&c);
		out.n = m.n = list.n = body.n = 0;
		ch_records(&out, "cost.example");
		send_data(&c, 0, out.p, out.n);
		out.n = 0;
		server_hello(&m);
		for (k = 0; k < 16; k++) {
			one.n = 0;
			rsa_cert(&one, i * 16 + k + 1, hostile ? "cost-same-name" : "cost-subject-a",
				 hostile ? "cost-same-name" : "cost-issuer-bb", nbytes, e, ebytes);
			put24(&list, (unsigned)one.n);
			put(&list, one.p, one.n);
		}
		put24(&body, (unsigned)list.n);
		put(&body, list.p, list.n);
		msg(&m, 11, &body);
		server_hello_done(&m);
		hs_records(&out, &m);
		send_data(&c, 1, out.p, out.n);
		close_both(&c);
	}
	close_pcap();
	free(out.p); free(m.p); free(list.p); free(body.p); free(one.p);
}

/* Memory held by open connections: `conns` connections that never close,
 * each with a Certificate of 16 distinct small certificates (RSA-512,
 * about 360 bytes each), all held until the end of the capture; and the
 * benign twin, the same connections closed (FIN both ways, 3 s apart:
 * each is judged and freed as the capture goes). */
static void write_cert_memory(const char *name, unsigned conns, int closed)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 }, list = { 0 }, body = { 0 }, one = { 0 };
	static const uint8_t f4[3] = { 0x01, 0x00, 0x01 };
	unsigned i, k;
	open_pcap(name, 65535);
	for (i = 0; i < conns; i++) {
		conn_init(&c, 5000 + i);
		handshake_tcp(&c);
		out.n = m.n = list.n = body.n = 0;
		ch_records(&out, "memory.example");
		send_data(&c, 0, out.p, out.n);
		out.n = 0;
		server_hello(&m);
		for (k = 0; k < 16; k++) {
			one.n = 0;
			rsa_cert(&one, 0x10000u + i * 16 + k, "mem-subject-a", "mem-issuer-bb", 64, f4, sizeof(f4));
			put24(&list, (unsigned)one.n);
			put(&list, one.p, one.n);
		}
		put24(&body, (unsigned)list.n);
		put(&body, list.p, list.n);
		msg(&m, 11, &body);
		hs_records(&out, &m);
		send_data(&c, 1, out.p, out.n);
		if (closed) {
			close_both(&c);
			now_us += 3000000;
		}
	}
	close_pcap();
	free(out.p); free(m.p); free(list.p); free(body.p); free(one.p);
}

static void write_cert_costs(void)
{
	uint8_t e[384], e32[4] = { 0xff, 0xff, 0xff, 0xff }, f4[3] = { 0x01, 0x00, 0x01 };
	/* the reproducer: RSA-3072 with a 3071-bit exponent (odd,
	 * below the modulus), which OpenSSL accepts: about 8 ms a check */
	garbage(e, sizeof(e), 77);
	e[0] = (uint8_t)((e[0] & 0x3f) | 0x40);
	e[sizeof(e) - 1] |= 1;
	write_cert_cost("cert-exponent.pcap", 1, 384, e, sizeof(e), 20);
	write_cert_cost("cert-exponent-benign.pcap", 0, 384, e, sizeof(e), 20);
	/* within the key limits but the dearest they allow: RSA-8192 with
	 * e = 2^32 - 1 (54 units a check): the budgets bound it */
	write_cert_cost("cert-budget.pcap", 1, 1024, e32, sizeof(e32), 120);
	write_cert_cost("cert-budget-benign.pcap", 0, 1024, e32, sizeof(e32), 120);
	/* an even exponent, and a 8200-bit modulus: refused outright */
	e32[3] = 0xfe;
	write_cert_cost("cert-even-exponent.pcap", 1, 384, e32, sizeof(e32), 1);
	write_cert_cost("cert-big-modulus.pcap", 1, 1025, f4, sizeof(f4), 1);
}

/* ---- a report that cannot be steered (issue 16) ---------------------------
 * Each capture holds one connection whose real ClientHello names
 * "real.example"; a forged or corrupt segment tries to make tlswhy read
 * something else, or nothing. tests/hostile.sh checks that the real bytes
 * win and that the attempt is a fact on the connection. */

/* A ClientHello record naming `sni`. */
static void ch_bytes(struct buf *out, const char *sni)
{
	out->n = 0;
	ch_records(out, sni);
}

/* The server refuses the ClientHello: a fatal handshake_failure, then both close. */
static void server_refuses(struct conn *c)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	segment(c, 1, 0x18, alert, sizeof(alert));
	close_both(c);
}

/* Two copies of ClientHello bytes, the real one naming "real.example" and
 * a forged one naming "evil.example":
 *   OV_QUEUED   the real tail arrives first, out of order (queued); the
 *               forged copy next, starting 20 bytes lower; then the real head;
 *   OV_INORDER  the real tail queued, then the whole forged ClientHello in
 *               order, before the head;
 *   OV_WINDOW   the real ClientHello delivered in order, then the forged
 *               copy at the same sequence numbers, before the server
 *               acknowledged the real one (the receiver may still take
 *               either copy: a conflict);
 *   OV_ACKED    the same, the copy after the acknowledgement (the receiver
 *               has the real bytes and drops any copy: a retransmission,
 *               with nothing left to compare it with). */
enum { OV_QUEUED, OV_INORDER, OV_WINDOW, OV_ACKED };
static void write_overlap(const char *name, int mode)
{
	struct conn c;
	struct buf real = { 0 }, evil = { 0 };
	const uint32_t k = 60;
	uint32_t base;
	open_pcap(name, 65535);
	conn_init(&c, 20 + (unsigned)mode);
	handshake_tcp(&c);
	ch_bytes(&real, "real.example");
	ch_bytes(&evil, "evil.example");
	base = c.cseq;
	if (mode == OV_WINDOW || mode == OV_ACKED) {
		segment(&c, 0, 0x18, real.p, real.n);
		if (mode == OV_ACKED)
			segment(&c, 1, 0x10, NULL, 0);
		segment_at(&c, 0, 0x18, base, evil.p, evil.n);
		if (mode == OV_WINDOW)
			segment(&c, 1, 0x10, NULL, 0);
	} else {
		segment_at(&c, 0, 0x18, base + k, real.p + k, real.n - k);
		if (mode == OV_INORDER) {
			segment_at(&c, 0, 0x18, base, evil.p, evil.n);
		} else {
			segment_at(&c, 0, 0x18, base + k - 20, evil.p + k - 20, evil.n - k + 20);
			segment_at(&c, 0, 0x18, base, real.p, k);
		}
		c.cseq += (uint32_t)real.n;
		segment(&c, 1, 0x10, NULL, 0);
	}
	server_refuses(&c);
	close_pcap();
	free(real.p);
	free(evil.p);
}

/* Before the ClientHello, the "server" acknowledges 1 GB of client bytes
 * never sent (`far_segments` 0), or 257 one-byte client segments land
 * 100 MB beyond the window (`far_segments` 1); then the real handshake
 * up to ServerHelloDone. */
static void write_far(const char *name, int far_segments)
{
	struct conn c;
	struct buf out = { 0 }, m = { 0 };
	uint8_t der[600];
	garbage(der, sizeof(der), 7);
	der[0] = 0x30; der[1] = 0x82; der[2] = 0x02; der[3] = 0x54;
	open_pcap(name, 65535);
	conn_init(&c, 30 + (unsigned)far_segments);
	handshake_tcp(&c);
	if (far_segments) {
		unsigned i;
		for (i = 0; i < 257; i++)
			segment_at(&c, 0, 0x18, c.cseq + 100000000u + 2 * i, (const uint8_t *)"x", 1);
	} else {
		uint32_t real_seq = c.cseq;
		c.cseq += 1000000000u;
		segment(&c, 1, 0x10, NULL, 0);
		c.cseq = real_seq;
	}
	ch_bytes(&out, "real.example");
	send_data(&c, 0, out.p, out.n);
	out.n = 0;
	server_hello(&m);
	certificate(&m, der, sizeof(der), 1);
	server_hello_done(&m);
	hs_records(&out, &m);
	send_data(&c, 1, out.p, out.n);
	close_both(&c);
	close_pcap();
	free(out.p);
	free(m.p);
}

/* Real checksums throughout: the real ClientHello and the server's flight
 * (which tell tlswhy that each direction's checksums are real), then a
 * forged client fatal alert with a bad TCP checksum and a forged server
 * RST with a bad IPv4 header checksum, then a normal close. `offloaded`:
 * the same with every checksum zero (a capture on the sending host),
 * where nothing can be judged by checksum. */
static void write_bad_csum(const char *name, int offloaded)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	struct conn c;
	struct buf real = { 0 }, m = { 0 };
	uint8_t der[600];
	garbage(der, sizeof(der), 7);
	der[0] = 0x30; der[1] = 0x82; der[2] = 0x02; der[3] = 0x54;
	open_pcap(name, 65535);
	real_csum = !offloaded;
	conn_init(&c, 40 + (unsigned)offloaded);
	handshake_tcp(&c);
	ch_bytes(&real, "real.example");
	send_data(&c, 0, real.p, real.n);
	real.n = 0;
	server_hello(&m);
	certificate(&m, der, sizeof(der), 1);
	server_hello_done(&m);
	hs_records(&real, &m);
	send_data(&c, 1, real.p, real.n);
	bad_csum = 1;
	segment_at(&c, 0, 0x18, c.cseq, alert, sizeof(alert));
	bad_csum = 2;
	segment_at(&c, 1, 0x14, c.sseq, NULL, 0);
	close_both(&c);
	real_csum = 0;
	close_pcap();
	free(real.p);
	free(m.p);
}

/* The ClientHello is missing from the capture and the server refuses it
 * with a fatal alert: connection 1, the server acknowledges the missing
 * bytes; connection 2, nothing tells their length (the server's
 * segments acknowledge only the SYN, and the client sends nothing more). */
static void write_gap_over_ch(void)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	struct conn c;
	struct buf out = { 0 };
	open_pcap("steer-gap-over-ch.pcap", 65535);
	conn_init(&c, 50);
	handshake_tcp(&c);
	ch_bytes(&out, "real.example");
	c.cseq += (uint32_t)out.n;
	segment(&c, 1, 0x10, NULL, 0);
	server_refuses(&c);
	conn_init(&c, 51);
	handshake_tcp(&c);
	segment(&c, 1, 0x18, alert, sizeof(alert));
	segment(&c, 1, 0x11, NULL, 0);
	close_pcap();
	free(out.p);
}

/* Real checksums, data segments with bad ones (issue 16). The server's
 * flight (ServerHello, a certificate of `dl` bytes, ServerHelloDone): its
 * first 100 bytes intact (they tell that the server's checksums are
 * real), then the rest:
 *   retransmit: first with one byte spoiled (the checksum no longer
 *     matches: the client's TCP drops it), then again intact; nothing
 *     acknowledges the first copy;
 *   lost: in three segments, the first two spoiled and never sent again;
 *     the client acknowledges all of it (it got the bytes some way the
 *     capture did not see), so the first two segments' bytes are a gap;
 *   partial: in one segment larger than the MSS whose checksum field holds
 *     the pseudo-header's sum (the capture host's checksum offload: TSO);
 *   partial-small: the same in one segment within the MSS (offload
 *     without TSO, or GRO);
 *   tso: in one segment larger than the MSS with a checksum that is just
 *     wrong (neither pseudo-header sum nor zero): made by the capture host,
 *     the wire carried it in pieces. */
static void write_csum_data(const char *name, int how, size_t dl)
{
	struct conn c;
	struct buf real = { 0 }, m = { 0 };
	static uint8_t der[4000];
	const uint8_t *rest;
	size_t n;
	garbage(der, dl, 11);
	der[0] = 0x30; der[1] = 0x82; der[2] = (uint8_t)((dl - 4) >> 8); der[3] = (uint8_t)(dl - 4);
	open_pcap(name, 65535);
	real_csum = 1;
	conn_init(&c, 60 + (unsigned)how);
	handshake_tcp(&c);
	ch_bytes(&real, "real.example");
	send_data(&c, 0, real.p, real.n);
	real.n = 0;
	server_hello(&m);
	certificate(&m, der, dl, 1);
	server_hello_done(&m);
	hs_records(&real, &m);
	/* its first 100 bytes as they should be: the server's checksums are real */
	segment(&c, 1, 0x18, real.p, 100);
	segment(&c, 0, 0x10, NULL, 0);
	rest = real.p + 100;
	n = real.n - 100;
	switch (how) {
	case 0:
		bad_csum = 3;
		segment_at(&c, 1, 0x18, c.sseq, rest, n);
		segment(&c, 1, 0x18, rest, n);
		segment(&c, 0, 0x10, NULL, 0);
		break;
	case 1:
		bad_csum = 3;
		segment(&c, 1, 0x18, rest, n / 3);
		bad_csum = 3;
		segment(&c, 1, 0x18, rest + n / 3, n / 3);
		segment(&c, 1, 0x18, rest + 2 * (n / 3), n - 2 * (n / 3));
		segment(&c, 0, 0x10, NULL, 0);
		break;
	case 2:
	case 3:
		bad_csum = 4;
		segment(&c, 1, 0x18, rest, n);
		segment(&c, 0, 0x10, NULL, 0);
		break;
	default:
		bad_csum = 1;
		segment(&c, 1, 0x18, rest, n);
		segment(&c, 0, 0x10, NULL, 0);
		break;
	}
	close_both(&c);
	real_csum = 0;
	close_pcap();
	free(real.p);
	free(m.p);
}

static void write_steer(void)
{
	write_overlap("steer-overlap-queued.pcap", OV_QUEUED);
	write_overlap("steer-overlap-inorder.pcap", OV_INORDER);
	write_overlap("steer-overlap-window.pcap", OV_WINDOW);
	write_overlap("steer-overlap-acked.pcap", OV_ACKED);
	write_far("steer-forged-ack.pcap", 0);
	write_far("steer-far-segments.pcap", 1);
	write_bad_csum("steer-bad-checksum.pcap", 0);
	write_bad_csum("steer-offloaded-checksum.pcap", 1);
	write_csum_data("csum-data-retransmitted.pcap", 0, 600);
	write_csum_data("csum-data-lost.pcap", 1, 600);
	write_csum_data("csum-partial-large.pcap", 2, 3000);
	write_csum_data("csum-partial-small.pcap", 3, 600);
	write_csum_data("csum-tso-large.pcap", 4, 3000);
	write_gap_over_ch();
}

/* ---- --sni: a recorded capture with a hostile server_name ---------------- */

/* What a report must never pass through raw: a terminal escape (colour and
 * title-setting), CR/LF, Markdown table and code metacharacters, an HTML
 * script, a Markdown link to javascript:, a bidi override, bytes that are
 * not UTF-8. */
static const char SNI_HOSTILE[] =
	"\x1b[31mEVIL\x1b[0m\x1b]0;pwned\x07\r\nline2|pipe|`tick`<script>alert(1)</script>"
	"*star*_u_[x](javascript:alert(1))#h &amp; \xe2\x80\xae\xff\xfe\xc0\xaf" "end";
#define SNI_HOSTILE_LEN (sizeof(SNI_HOSTILE) - 1)

static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void set16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void set32(uint8_t *p, uint32_t v) { set16(p, v >> 16); set16(p + 2, v & 0xffff); }

/* Record-header fields in the file's byte order. */
static uint32_t file32(const uint8_t *p, int be)
{
	return be ? get32(p) : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put_file32(uint8_t *p, uint32_t v, int be)
{
	if (be) {
		set32(p, v);
	} else {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)(v >> 24);
	}
}

static unsigned csum(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	uint32_t s = 0;
	size_t i;
	uint8_t t[2];
	/* a is always even-length here (pseudo header or IP header) */
	for (i = 0; i + 1 < an; i += 2)
		s += get16(a + i);
	for (i = 0; i + 1 < bn; i += 2)
		s += get16(b + i);
	if (bn % 2) {
		t[0] = b[bn - 1];
		t[1] = 0;
		s += get16(t);
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* Rewrites the ClientHello at p (len bytes of TCP payload; `avail` bytes to
 * the end of the frame, with room for SNI_HOSTILE_LEN more) in place;
 * returns the size change, or INT32_MIN when it is not a ClientHello with a
 * server_name. */
static long rewrite_sni(uint8_t *p, size_t len, size_t avail)
{
	size_t q, ext_block, ext_end, rec_len;
	if (len < 9 || p[0] != 0x16 || p[5] != 0x01)
		return INT32_MIN;
	rec_len = get16(p + 3);
	if (5 + rec_len > len)
		return INT32_MIN;
	q = 9 + 2 + 32;                  /* after record+handshake header, version, random */
	q += 1 + (size_t)p[q];           /* session id */
	q += 2 + (size_t)get16(p + q);   /* cipher suites */
	q += 1 + (size_t)p[q];           /* compression */
	ext_block = q;
	ext_end = q + 2 + get16(p + q);
	q += 2;
	while (q + 4 <= ext_end) {
		unsigned etype = get16(p + q), elen = get16(p + q + 2);
		if (etype == 0) {
			/* server_name: list_len(2) type(1) name_len(2) name */
			size_t name_len = get16(p + q + 7);
			long delta = (long)SNI_HOSTILE_LEN - (long)name_len;
			size_t tail = q + 9 + name_len;
			memmove(p + q + 9 + SNI_HOSTILE_LEN, p + tail, avail - tail);
			memcpy(p + q + 9, SNI_HOSTILE, SNI_HOSTILE_LEN);
			p[q] = 0;   /* the extension rebuilt: server_name, host_name */
			p[q + 1] = 0;
			p[q + 6] = 0;
			set16(p + q + 2, (unsigned)((long)elen + delta));
			set16(p + q + 4, (unsigned)((long)elen - 2 + delta));
			set16(p + q + 7, (unsigned)SNI_HOSTILE_LEN);
			set16(p + ext_block, (unsigned)((long)(ext_end - ext_block - 2) + delta));
			{
				uint32_t hs = ((uint32_t)p[6] << 16 | get16(p + 7)) + (uint32_t)delta;
				p[6] = (uint8_t)(hs >> 16);
				set16(p + 7, hs & 0xffff);
			}
			set16(p + 3, (unsigned)((long)rec_len + delta));
			return delta;
		}
		q += 4 + elen;
	}
	return INT32_MIN;
}

struct rec {
	uint8_t hdr[16];
	uint8_t *frame;
	uint32_t caplen;
};

static int sni_main(const char *in, const char *out)
{
	FILE *f = fopen(in, "rb");
	uint8_t head[24];
	struct rec *v = NULL;
	size_t n = 0, cap = 0, i;
	int be, have_flow = 0;
	uint32_t linktype;
	long delta = 0;
	uint8_t key[12] = { 0 };
	if (!f || fread(head, 1, 24, f) != 24) {
		fprintf(stderr, "hostile_gen: %s: cannot read\n", in);
		return 1;
	}
	if (get32(head) == 0xd4c3b2a1)
		be = 0;
	else if (get32(head) == 0xa1b2c3d4)
		be = 1;
	else {
		fprintf(stderr, "hostile_gen: %s: only classic microsecond pcap is supported\n", in);
		return 1;
	}
	linktype = file32(head + 20, be);
	for (;;) {
		struct rec r;
		if (fread(r.hdr, 1, 16, f) != 16)
			break;
		r.caplen = file32(r.hdr + 8, be);
		r.frame = malloc((size_t)r.caplen + SNI_HOSTILE_LEN + 1);
		if (!r.frame || fread(r.frame, 1, r.caplen, f) != r.caplen) {
			free(r.frame);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));   /* a test tool: out of memory ends it */
			if (!v)
				return 1;
		}
		v[n++] = r;
	}
	fclose(f);
	for (i = 0; i < n; i++) {
		uint8_t *fr = v[i].frame, k[12];
		size_t ip, tcp, pay, end, ihl;
		if (linktype == 1)
			ip = v[i].caplen >= 14 && fr[12] == 0x08 && fr[13] == 0x00 ? 14 : SIZE_MAX;
		else if (linktype == 101 || linktype == 12 || linktype == 228)
			ip = 0;
		else
			ip = SIZE_MAX;
		if (ip == SIZE_MAX || fr[ip] >> 4 != 4 || fr[ip + 9] != 6)
			continue;
		ihl = (size_t)(fr[ip] & 15) * 4;
		tcp = ip + ihl;
		pay = tcp + (size_t)(fr[tcp + 12] >> 4) * 4;
		end = ip + get16(fr + ip + 2);
		memcpy(k, fr + ip + 12, 4);
		memcpy(k + 4, fr + tcp, 2);
		memcpy(k + 6, fr + ip + 16, 4);
		memcpy(k + 10, fr + tcp + 2, 2);
		if (!have_flow) {
			long d = rewrite_sni(fr + pay, end - pay, v[i].caplen - pay);
			if (d == INT32_MIN)
				continue;
			/* the frame grows or shrinks by d; bytes after `end` move along */
			delta = d;
			set16(fr + ip + 2, (unsigned)((long)(end - ip) + delta));
			v[i].caplen = (uint32_t)((long)v[i].caplen + delta);
			put_file32(v[i].hdr + 8, v[i].caplen, be);
			put_file32(v[i].hdr + 12, (uint32_t)((long)file32(v[i].hdr + 12, be) + delta), be);
			memcpy(key, k, 12);
			have_flow = 1;
		} else if (memcmp(k, key, 12) == 0) {
			set32(fr + tcp + 4, get32(fr + tcp + 4) + (uint32_t)delta);
		} else if (memcmp(k, key + 6, 6) == 0 && memcmp(k + 6, key, 6) == 0 && (fr[tcp + 13] & 0x10)) {
			set32(fr + tcp + 8, get32(fr + tcp + 8) + (uint32_t)delta);
		} else {
			continue;
		}
		if (file32(v[i].hdr + 12, be) == v[i].caplen) {
			/* checksums only over whole packets */
			size_t tot = get16(fr + ip + 2), seglen = ip + tot - tcp;
			uint8_t pseudo[12];
			set16(fr + ip + 10, 0);
			set16(fr + ip + 10, csum(fr + ip, ihl, NULL, 0));
			set16(fr + tcp + 16, 0);
			memcpy(pseudo, fr + ip + 12, 8);
			pseudo[8] = 0;
			pseudo[9] = 6;
			set16(pseudo + 10, (unsigned)seglen);
			set16(fr + tcp + 16, csum(pseudo, 12, fr + tcp, seglen));
		}
	}
	if (!have_flow) {
		fprintf(stderr, "hostile_gen: no ClientHello with server_name in %s\n", in);
		return 1;
	}
	f = fopen(out, "wb");
	if (!f)
		return 1;
	fwrite(head, 1, 24, f);
	for (i = 0; i < n; i++) {
		fwrite(v[i].hdr, 1, 16, f);
		fwrite(v[i].frame, 1, v[i].caplen, f);
		free(v[i].frame);
	}
	free(v);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--sni") == 0)
		return sni_main(argv[2], argv[3]);
	if (argc != 2) {
		fprintf(stderr, "usage: hostile_gen OUTDIR | hostile_gen --sni IN.pcap OUT.pcap\n");
		return 2;
	}
	outdir = argv[1];
	write_ok("ok.pcap", 65535);
	write_truncated();
	write_not_captures();
	write_ok("snaplen-96.pcap", 96);
	write_record_lies();
	write_hs_16m();
	write_certs();
	write_zero_records();
	write_length_lies();
	write_vlan_nest();
	write_sni_hostile();
	write_tunnel_nest();
	write_syn_flood("syn-flood.pcap", 50000);
	write_syn_flood("syn-flood-million.pcap", 1000000);
	write_ooo_flood(5000);
	write_frag_blocks();
	write_frag_flood(1000000);
	write_port_reuse(80000);
	write_cert_costs();
	write_cert_memory("cert-memory.pcap", 400, 0);
	write_steer();
	return 0;
}
