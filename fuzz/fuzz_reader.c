/*
 * fuzz_reader.c - libFuzzer target, differential: the bytes of a capture
 * file read by libpcap (fmemopen + pcap_fopen_offline, pcap_next_ex) and
 * by capture/block.c's block reader must give the same packets (time,
 * caplen, len, data) in the same order and end the same way (the end of
 * the file, or -1 with the same message). Any difference aborts.
 *
 * Files the block reader does not take (cap_blk_eligible: pcapng, the
 * other byte order, versions other than 2.4, ...) are only opened. For
 * the others the block reader runs several times, reading the stream in
 * pieces of 1, 7, 16, 17 and N bytes and whole blocks, so records cut
 * across blocks are met with small inputs; one of the runs in two has a
 * BPF filter on both sides (libpcap applies it in pcap_next_ex, cap.c
 * with pcap_offline_filter on the records).
 * pcapng files go to capture/pcapng.c too, read in pieces of 1, 7 and N
 * bytes: where libpcap reads the file to its end, the packets must be the
 * same and the end clean; where libpcap stops, the packets before its stop
 * must be the same (pcapng.c reads on past what it refuses on purpose:
 * interfaces of other link types, sections of the other byte order).
 * Seeds: fuzz/corpus/reader/ (hand-made corner cases, written by
 * fuzz/reader_seeds.py) and the recorded captures in pcaps/.
 */
#include "fuzz/fuzz.h"
#include "capture/block.h"
#include "capture/fast.h"
#include "capture/pcapng.h"
#include "dissect/decode.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTER "tcp or len <= 60"

struct seen {
	int64_t ts;
	uint32_t caplen, len;
	size_t at;               /* offset of the data in `bytes` */
};

struct ref {                 /* what libpcap gave */
	struct seen *p;
	size_t n, cap;
	uint8_t *bytes;
	size_t used, bcap;
	int rc;                  /* pcap_next_ex's last code */
	char why[PCAP_ERRBUF_SIZE];
};

static uint8_t *block_buf;

static pcap_t *open_mem(const uint8_t *data, size_t size, FILE **fp)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc;
	*fp = fmemopen((void *)data, size, "rb");
	if (!*fp)
		return NULL;
	pc = pcap_fopen_offline_with_tstamp_precision(*fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc)
		fclose(*fp);
	return pc;
}

static int set_filter(pcap_t *pc, struct bpf_program *prog)
{
	if (pcap_compile(pc, prog, FILTER, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return -1;
	return 0;
}

static void ref_add(struct ref *r, const struct pcap_pkthdr *h, const uint8_t *d)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->p = realloc(r->p, r->cap * sizeof(*r->p));
		FUZZ_CHECK(r->p != NULL);
	}
	while (r->used + h->caplen > r->bcap) {
		r->bcap = r->bcap ? 2 * r->bcap : 65536;
		r->bytes = realloc(r->bytes, r->bcap);
		FUZZ_CHECK(r->bytes != NULL);
	}
	r->p[r->n].ts = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
	r->p[r->n].caplen = h->caplen;
	r->p[r->n].len = h->len;
	r->p[r->n].at = r->used;
	if (h->caplen)
		memcpy(r->bytes + r->used, d, h->caplen);
	r->used += h->caplen;
	r->n++;
}

/* libpcap's view, with or without the filter. 0, or -1 when libpcap does
 * not open the bytes or the filter does not compile for the link type. */
static int run_libpcap(const uint8_t *data, size_t size, int filtered, struct ref *r)
{
	FILE *fp;
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc = open_mem(data, size, &fp);
	if (!pc)
		return -1;
	if (filtered) {
		if (set_filter(pc, &prog) != 0) {   /* not for every link type */
			pcap_close(pc);
			return -1;
		}
		FUZZ_CHECK(pcap_setfilter(pc, &prog) == 0);
		pcap_freecode(&prog);
	}
	r->n = 0;
	r->used = 0;
	while ((r->rc = pcap_next_ex(pc, &h, &d)) == 1)
		ref_add(r, h, d);
	snprintf(r->why, sizeof(r->why), "%s", r->rc == -1 ? pcap_geterr(pc) : "");
	/* capture/cap.c tells a cut file from a damaged one without reading
	 * libpcap's words: they must agree */
	if (r->rc == -1)
		FUZZ_CHECK((strstr(r->why, "truncated") != NULL) == (cap_pcap_end(pc) == CAP_END_TRUNCATED));
	pcap_close(pc);
	return 0;
}

/* The block reader over the same bytes, reading `chunk` at a time, checked
 * against `r` as it goes. */
static void run_blocks(const uint8_t *data, size_t size, int filtered, size_t chunk, const struct ref *r)
{
	FILE *fp;
	struct bpf_program prog;
	struct cap_blk_src s;
	struct cap_blk b;
	size_t i = 0;
	pcap_t *pc = open_mem(data, size, &fp);
	FUZZ_CHECK(pc != NULL);   /* libpcap opened the same bytes a moment ago */
	if (filtered)
		FUZZ_CHECK(set_filter(pc, &prog) == 0);
	memset(&s, 0, sizeof(s));
	s.fp = pcap_file(pc);
	FUZZ_CHECK(s.fp == fp);
	s.snapshot = (uint32_t)pcap_snapshot(pc);
	s.nsec = cap_blk_nsec(data);
	s.chunk = chunk;
	memset(&b, 0, sizeof(b));
	b.buf = block_buf;
	b.cap = chunk ? CAP_BLK_REC_MAX - 1 + chunk : CAP_BLK_REC_MAX;
	cap_blk_fill(&s, &b, NULL);
	for (;;) {
		size_t off = 0;
		struct cap_blk_rec rec;
		FUZZ_CHECK(b.end <= b.used && b.used <= b.cap);
		while (off < b.end) {
			struct pcap_pkthdr h;
			cap_blk_rec(&s, &b, &off, &rec);
			FUZZ_CHECK(off <= b.end);
			memset(&h, 0, sizeof(h));
			h.caplen = rec.caplen;
			h.len = rec.len;
			if (filtered && !pcap_offline_filter(&prog, &h, rec.data))
				continue;
			FUZZ_CHECK(i < r->n);
			FUZZ_CHECK(rec.ts_us == r->p[i].ts);
			FUZZ_CHECK(rec.caplen == r->p[i].caplen);
			FUZZ_CHECK(rec.len == r->p[i].len);
			FUZZ_CHECK(rec.caplen == 0 || memcmp(rec.data, r->bytes + r->p[i].at, rec.caplen) == 0);
			i++;
		}
		if (b.last)
			break;
		cap_blk_fill(&s, &b, &b);
	}
	FUZZ_CHECK(i == r->n);
	if (r->rc == -1) {
		if (b.how == CAP_END_CLEAN || strcmp(b.why, r->why) != 0)
			fprintf(stderr, "libpcap: %s\nblocks:  %d %s\n", r->why, (int)b.how, b.why);
		FUZZ_CHECK(b.how != CAP_END_CLEAN);
		FUZZ_CHECK(strcmp(b.why, r->why) == 0);
		/* the typed end says what libpcap's words say */
		FUZZ_CHECK((b.how == CAP_END_TRUNCATED) == (strstr(r->why, "truncated") != NULL));
	} else {
		if (b.how != CAP_END_CLEAN)
			fprintf(stderr, "libpcap: end (%d)\nblocks:  %d %s\n", r->rc, (int)b.how, b.why);
		FUZZ_CHECK(b.how == CAP_END_CLEAN);
	}
	if (filtered)
		pcap_freecode(&prog);
	pcap_close(pc);
}

struct memsrc {
	const uint8_t *p;
	size_t n, off, chunk;
};

static size_t mem_read(void *arg, uint8_t *buf, size_t n, int *err)
{
	struct memsrc *m = arg;
	size_t k = m->n - m->off;
	*err = 0;
	if (k > n)
		k = n;
	if (m->chunk && k > m->chunk)
		k = m->chunk;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return k;
}

/* capture/pcapng.c over the same bytes, checked against libpcap's `r`. */
static void run_pcapng(const uint8_t *data, size_t size, size_t chunk, const struct ref *r)
{
	struct memsrc m = { data, size, 12, chunk };
	struct cap_ng *ng = cap_ng_new(data, 12, mem_read, &m);
	struct cap_ng_event ev;
	size_t i = 0;
	FUZZ_CHECK(ng != NULL);
	for (;;) {
		cap_ng_next(ng, &ev);
		if (ev.kind == CAP_NG_END)
			break;
		if (ev.kind != CAP_NG_PACKET)
			continue;
		FUZZ_CHECK(ev.pkt.caplen <= ev.pkt.iface->snapshot);
		if (i < r->n) {
			const struct seen *s = &r->p[i];
			FUZZ_CHECK(s->ts == ev.pkt.ts_us && s->caplen == ev.pkt.caplen && s->len == ev.pkt.len);
			FUZZ_CHECK(memcmp(r->bytes + s->at, ev.pkt.data, s->caplen) == 0);
		} else {
			FUZZ_CHECK(r->rc == -1);   /* libpcap stopped; pcapng.c may go on */
		}
		i++;
	}
	if (r->rc != -1)
		FUZZ_CHECK(i == r->n && ev.end == CAP_END_CLEAN);
	cap_ng_free(ng);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref r;
	FILE *fp;
	pcap_t *pc;
	int eligible, f;
	size_t k;
	const size_t chunks[] = { 0, 1, 7, 16, 17, 0 };
	if (size < CAP_BLK_HDR)
		return 0;
	if (!block_buf) {
		block_buf = malloc(CAP_BLK_REC_MAX + 4096);
		FUZZ_CHECK(block_buf != NULL);
	}
	pc = open_mem(data, size, &fp);
	if (!pc)
		return 0;
	if (cap_ng_is(data, size)) {
		pcap_close(pc);
		if (run_libpcap(data, size, 0, &r) == 0) {
			run_pcapng(data, size, 0, &r);
			run_pcapng(data, size, 1, &r);
			run_pcapng(data, size, 7, &r);
			run_pcapng(data, size, 1 + size % 4000, &r);
		}
		return 0;
	}
	eligible = cap_blk_eligible(data, pkt_dlt_supported(pcap_datalink(pc)), pcap_snapshot(pc));
	pcap_close(pc);
	if (!eligible)
		return 0;
	for (f = 0; f < 2; f++) {
		if (run_libpcap(data, size, f, &r) != 0)
			continue;
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			size_t chunk = chunks[k];
			if (k == sizeof(chunks) / sizeof(chunks[0]) - 1)
				chunk = 1 + size % 4000;   /* one more size, from the input */
			run_blocks(data, size, f, chunk, &r);
		}
	}
	return 0;
}
