/*
 * cap.c - offline capture reading (see cap.h).
 *
 * libpcap opens every file (pcap_fopen_offline on capture/source.c's
 * stream, or pcap_open_offline): pcap in all byte orders and nanosecond
 * variants, and pcapng; "-" is standard input. It checks the file header
 * and says the link type and snapshot length. Then the packets are read
 * one of two ways, with the same result:
 *
 *   blocks   the common case: a classic pcap file in host byte order
 *            (microseconds or nanoseconds), version 2.4, no FCS bits in the
 *            link type, a link type we decode, read through our stream.
 *            capture/block.c reads the records from the stream libpcap
 *            left at the first one, in blocks of CAP_BLK_BYTES (through
 *            capture/source.c's cap_src_read: one read() straight into the
 *            block, hashed and spooled there), and they are walked in
 *            place: no copy per packet. With a filter,
 *            pcap_offline_filter() drops what pcap_next_ex would.
 *   libpcap  everything else: pcap_next_ex, each packet copied into a batch.
 *
 * TLSWHY_PCAP_READER=libpcap forces the second way for every file (tests
 * compare the two); TLSWHY_PCAP_READER=show says on stderr which one read
 * each file. A read that ends with -1 after packets were read is a file
 * that ends mid-packet ("truncated dump file"): processing stops there for
 * that file and the truncation is reported, not fatal; any other message
 * (a record length libpcap refuses) is a corrupt file. block.c gives
 * libpcap's messages word for word. Timestamps are normalised to
 * microseconds whatever the file's precision.
 *
 * Files are read on a second thread: it runs the block reader or
 * pcap_next_ex (and with either the input hashing and spooling of
 * capture/source.c) and fills a ring of RB_NBATCH batches of RB_BATCH
 * bytes; this thread takes them in the same order and does everything
 * else, so the output is the same as single-threaded
 * (TLSWHY_READER_THREAD=0 forces that, for comparisons; so does a failure
 * to start the thread). With blocks, the reader thread also decodes
 * ahead: it counts every frame and decodes it (count_decode: the frame
 * numbers, the statistics, link/IP/TCP, IPv4 reassembly, all of which
 * only it touches while it runs) and hands over, with each block, its TCP
 * segments (struct seg_desc: the decoded packet, its flow hash, and the
 * capture clock after it, which this thread sets before each segment so
 * a connection reported there sees the time a single thread would).
 * This thread then never touches a record or packet header, and warms
 * the flow table a few segments ahead (flow_prefetch_*). The rules and the
 * report run on a third thread (app/rq.c, from app/main.c).
 * Memory: RB_NBATCH x RB_BATCH, the segments of RB_NBATCH blocks (a block
 * of 1 MiB holds at most 18,725 TCP segments, SEGS_MAX, of 176 bytes each
 * here), plus, on the libpcap way only, a batch grown for a packet bigger
 * than a batch. bench/RESULTS.md has the numbers.
 */
#include "capture/cap.h"
#include "capture/block.h"
#include "dissect/frag.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RB_BATCH  CAP_BLK_BYTES  /* bytes a batch holds (libpcap: a packet bigger gets its own) */
#define RB_NBATCH 8u             /* batches in flight between the reader and the analysis */

_Static_assert(RB_BATCH >= CAP_BLK_REC_MAX, "a block holds the largest record");
_Static_assert(RB_NBATCH >= 2, "the reader copies a cut record out of the batch it filled last");

const char *cap_strerror(enum cap_err e)
{
	switch (e) {
	case CAP_OK: return "ok";
	case CAP_ERR_OPEN: return "cannot read capture";
	case CAP_ERR_FILTER: return "bad filter expression";
	case CAP_ERR_LINKTYPE: return "unsupported link type";
	case CAP_ERR_CORRUPT: return "capture corrupt";
	case CAP_ERR_LIVE: return "cannot capture on the interface";
	case CAP_ERR_PRIVS: return "cannot drop privileges";
	}
	return "unknown error";
}

/* Counts a frame and decodes it (everything cap_packet does before the
 * flow table, but the capture clock): the reader thread runs this ahead of
 * the analysis. PKT_OK: *p is a TCP segment for flow_packet. */
static enum pkt_result count_decode(struct cap_run *run, struct cap_input *in, int64_t ts, const uint8_t *data,
				    uint32_t caplen, uint32_t wirelen, struct pkt *p)
{
	enum pkt_result r;
	if (ts <= PKT_TS_MIN_S * 1000000 || ts >= PKT_TS_MAX_S * 1000000 + 999999)
		run->ps.ts_clamped++;   /* pkt_ts_us() held it to years 1..9999 */
	if (run->tap)
		run->tap(run->tap_arg, in, ts, data, caplen, wirelen);
	run->frame++;
	in->packets++;
	in->bytes += caplen;
	run->ps.packets++;
	run->ps.bytes += caplen;
	if (in->packets == 1)
		in->first_ts_us = ts;
	in->last_ts_us = ts;
	if (run->ps.packets == 1)
		run->first_ts_us = ts;
	if (ts > run->last_ts_us)
		run->last_ts_us = ts;
	p->frame = run->frame;
	p->ts_us = ts;
	if (!run->frag)
		run->frag = frag_table_new();   /* NULL: fragments are only counted */
	r = pkt_decode_frag(run->frag, in->dlt, data, caplen, wirelen, p);
	run->ps.by_result[r]++;
	if (r != PKT_OK)
		return r;
	if (p->encap.kind == ENCAP_VXLAN)
		run->ps.vxlan++;
	else if (p->encap.kind == ENCAP_GENEVE)
		run->ps.geneve++;
	if (p->reassembled)
		run->ps.reassembled++;
	if (p->src.family == 4)
		run->ps.ipv4++;
	else
		run->ps.ipv6++;
	if (p->vlan_depth)
		run->ps.vlan++;
	if (p->truncated)
		run->ps.truncated_payload++;
	return PKT_OK;
}

void cap_packet(struct cap_run *run, struct cap_input *in, int64_t ts, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen)
{
	struct pkt p;
	enum pkt_result r = count_decode(run, in, ts, data, caplen, wirelen, &p);
	if (ts > run->now_us)
		run->now_us = ts;
	if (r == PKT_OK)
		flow_packet(run->ft, &p);
}

void cap_frag_release(struct cap_run *run)
{
	const struct frag_stats *fs;
	struct frag_table *t = run->frag;
	if (!t)
		return;
	run->frag = NULL;
	frag_flush(t);   /* what is still waiting will never be complete */
	fs = frag_table_stats(t);
	run->ps.frag_dropped += fs->dropped;
	frag_table_free(t);
}

enum cap_err cap_check_file(const char *path, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *pc = pcap_open_offline(path, ebuf);
	if (!pc) {
		/* libpcap names the file in some messages and not in others */
		if (strncmp(ebuf, path, strlen(path)) == 0)
			snprintf(err, errlen, "%s", ebuf);
		else
			snprintf(err, errlen, "%s: %s", path, ebuf);
		return CAP_ERR_OPEN;
	}
	if (filter && *filter) {
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			pcap_close(pc);
			return CAP_ERR_FILTER;
		}
		pcap_freecode(&prog);
	}
	pcap_close(pc);
	return CAP_OK;
}

enum cap_err cap_set_filter(pcap_t *pc, const char *filter, uint32_t mask, char *err, size_t errlen, char *bad,
			    size_t badlen)
{
	struct bpf_program prog;
	if (pcap_compile(pc, &prog, filter, 1, mask) < 0) {
		snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
		if (bad)
			snprintf(bad, badlen, "bad filter: %s", pcap_geterr(pc));
		return CAP_ERR_FILTER;
	}
	if (pcap_setfilter(pc, &prog) < 0) {
		snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
		pcap_freecode(&prog);
		return CAP_ERR_FILTER;
	}
	pcap_freecode(&prog);
	return CAP_OK;
}

/* ---- reading ----------------------------------------------------------------
 *
 * Two producers fill the same batches (struct cap_blk, block.h):
 *   blocks   cap_blk_fill(): the file's own bytes, whole records, walked in
 *            place by cap_blk_rec();
 *   libpcap  pcap_next_ex(), each packet copied behind a struct rb_pkt
 *            (end == used, rc the last pcap_next_ex code).
 * Batches go through a ring of RB_NBATCH from the reader thread to this
 * one, or, single-threaded, one batch is filled and walked in turn (blocks)
 * or pcap_next_ex feeds cap_packet directly (libpcap). */

struct rb_pkt {              /* followed by caplen bytes, padded to 8 */
	int64_t ts;
	uint32_t caplen, wirelen;
};

struct rd {                  /* one input being read */
	pcap_t *pc;
	int blocks;              /* 1: the block reader; 0: pcap_next_ex */
	struct cap_blk_src src;
	struct bpf_program prog; /* blocks with a filter: libpcap applies it only in pcap_next_ex */
	int filtered;
	struct cap_run *run;
	struct cap_input *in;
};

/* Decoding ahead (blocks on the reader thread): each filled block comes
 * with its TCP segments already decoded, so the analysis thread touches
 * neither the record headers nor the link/IP/TCP headers, and can warm
 * the flow table for the segments a few places ahead. */
struct seg_desc {
	struct pkt p;            /* p.payload: into the block, or into side (reassembled) */
	int64_t now_us;          /* the capture clock after this frame (every frame counts) */
	size_t side_off;         /* reassembled: where its payload is in side */
	uint32_t hash;           /* flow_hash_pkt() */
};

struct decoded {
	struct seg_desc *v;
	size_t n, cap;
	uint8_t *side;           /* payloads of reassembled datagrams (their buffers are the frag table's) */
	size_t side_len, side_cap;
	int64_t now_end;         /* the clock after the block's last frame */
};

struct rb {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct cap_blk b[RB_NBATCH];
	struct decoded d[RB_NBATCH];
	int ahead;               /* blocks are decoded on the reader thread */
	int64_t now_us;          /* the reader's capture clock */
	unsigned head, count;    /* filled batches: b[head .. head+count) */
	const struct rd *r;
};

/* The next record of a block at *off that the filter keeps, as
 * pcap_next_ex would give it; 0 at the block's end. */
static int next_rec(const struct rd *r, const struct cap_blk *b, size_t *off, struct cap_blk_rec *rec)
{
	while (*off < b->end) {
		cap_blk_rec(&r->src, b, off, rec);
		if (r->filtered) {
			/* what pcap_next_ex would have passed to the filter */
			struct pcap_pkthdr h;
			memset(&h, 0, sizeof(h));
			h.caplen = rec->caplen;
			h.len = rec->len;
			if (!pcap_offline_filter(&r->prog, &h, rec->data))
				continue;
		}
		return 1;
	}
	return 0;
}

/* Hands every packet of a filled batch to cap_packet. */
static void walk(const struct rd *r, const struct cap_blk *b)
{
	size_t off = 0;
	if (r->blocks) {
		struct cap_blk_rec rec;
		while (next_rec(r, b, &off, &rec))
			cap_packet(r->run, r->in, rec.ts_us, rec.data, rec.caplen, rec.len);
		return;
	}
	while (off < b->end) {
		const struct rb_pkt *p = (const struct rb_pkt *)(const void *)(b->buf + off);
		cap_packet(r->run, r->in, p->ts, (const uint8_t *)(p + 1), p->caplen, p->wirelen);
		off += (sizeof(*p) + p->caplen + 7) & ~(size_t)7;
	}
}

/* A TCP segment's record is at least 16 + 40 bytes (raw IPv4, no options),
 * so a block of `bytes` holds at most this many. */
#define SEGS_MAX(bytes) ((bytes) / (CAP_BLK_RECHDR + 40) + 1)

static int dec_push(struct decoded *d, const struct pkt *p, int64_t now_us, uint32_t hash, size_t max)
{
	struct seg_desc *e;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;
		if (cap > max)
			cap = max;
		if (cap <= d->n)
			return -1;
		struct seg_desc *nv = realloc(d->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		d->v = nv;
		d->cap = cap;
	}
	e = &d->v[d->n];
	e->p = *p;
	e->now_us = now_us;
	e->side_off = 0;
	e->hash = hash;
	if (p->reassembled && p->paylen) {
		if (d->side_len + p->paylen > d->side_cap) {
			size_t cap = d->side_cap ? d->side_cap : 65536;
			uint8_t *ns;
			while (cap < d->side_len + p->paylen)
				cap *= 2;
			ns = realloc(d->side, cap);
			if (!ns)
				return -1;
			d->side = ns;
			d->side_cap = cap;
		}
		memcpy(d->side + d->side_len, p->payload, p->paylen);
		e->side_off = d->side_len;
		d->side_len += p->paylen;
	}
	d->n++;
	return 0;
}

/* Reader thread: counts and decodes every record of a filled block (the
 * filter first, as pcap_next_ex would), keeping the TCP segments. */
static void decode_block(struct rb *q, struct cap_blk *b, struct decoded *d)
{
	const struct rd *r = q->r;
	struct cap_blk_rec rec;
	struct pkt p;
	size_t off = 0, i;
	d->n = 0;
	d->side_len = 0;
	while (next_rec(r, b, &off, &rec)) {
		if (rec.ts_us > q->now_us)
			q->now_us = rec.ts_us;
		if (count_decode(r->run, r->in, rec.ts_us, rec.data, rec.caplen, rec.len, &p) == PKT_OK &&
		    dec_push(d, &p, q->now_us, flow_hash_pkt(r->run->ft, &p), SEGS_MAX(b->cap)) < 0) {
			/* out of memory: the input ends here, said as an error */
			b->last = 1;
			b->rc = -1;
			snprintf(b->why, sizeof(b->why), "out of memory after frame %llu",
				 (unsigned long long)r->run->frame);
			break;
		}
	}
	d->now_end = q->now_us;
	for (i = 0; i < d->n; i++)
		if (d->v[i].p.reassembled && d->v[i].p.paylen)
			d->v[i].p.payload = d->side + d->v[i].side_off;
}

/* Analysis thread: the decoded segments of a block into the flow table. */
static void walk_decoded(const struct rd *r, const struct decoded *d)
{
	struct cap_run *run = r->run;
	size_t i;
	for (i = 0; i < d->n; i++) {
		if (i + FLOW_PREFETCH_SLOT < d->n)
			flow_prefetch_slot(run->ft, d->v[i + FLOW_PREFETCH_SLOT].hash);
		if (i + FLOW_PREFETCH_FLOW < d->n)
			flow_prefetch_flow(run->ft, d->v[i + FLOW_PREFETCH_FLOW].hash);
		run->now_us = d->v[i].now_us;
		flow_packet_hashed(run->ft, &d->v[i].p, d->v[i].hash);
	}
	if (d->now_end > run->now_us)
		run->now_us = d->now_end;
}

static struct cap_blk *rb_get_empty(struct rb *q)
{
	struct cap_blk *b;
	pthread_mutex_lock(&q->mu);
	while (q->count == RB_NBATCH)
		pthread_cond_wait(&q->cv, &q->mu);
	b = &q->b[(q->head + q->count) % RB_NBATCH];
	pthread_mutex_unlock(&q->mu);
	b->used = b->end = 0;
	b->last = 0;
	b->rc = 0;
	return b;
}

static void rb_push(struct rb *q)
{
	pthread_mutex_lock(&q->mu);
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void *rb_reader(void *arg)
{
	struct rb *q = arg;
	const struct rd *r = q->r;
	struct cap_blk *b = rb_get_empty(q);
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	if (r->blocks) {
		/* the cut record at the end of a block is copied out of it before
		 * the block is handed over (cap_blk_fill of the next one): the
		 * previous batch is never refilled first, RB_NBATCH >= 2 */
		const struct cap_blk *prev = NULL;
		for (;;) {
			int last;
			cap_blk_fill(&r->src, b, prev);
			if (q->ahead)
				decode_block(q, b, &q->d[b - q->b]);
			last = b->last;
			prev = b;
			rb_push(q);
			if (last)
				return NULL;
			b = rb_get_empty(q);
		}
	}
	while ((rc = pcap_next_ex(r->pc, &h, &data)) == 1) {
		size_t need = (sizeof(struct rb_pkt) + h->caplen + 7) & ~(size_t)7;
		struct rb_pkt *p;
		if (b->used + need > b->cap) {
			if (b->used) {
				b->end = b->used;
				rb_push(q);
				b = rb_get_empty(q);
			}
			if (need > b->cap) {
				uint8_t *nb = realloc(b->buf, need);
				if (!nb) {
					rc = -2;   /* out of memory: end the input as if it ended here */
					break;
				}
				b->buf = nb;
				b->cap = need;
			}
		}
		p = (struct rb_pkt *)(void *)(b->buf + b->used);
		/* libpcap scales every file to the microsecond precision we asked for */
		p->ts = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
		p->caplen = h->caplen;
		p->wirelen = h->len;
		memcpy(p + 1, data, h->caplen);
		b->used += need;
	}
	b->end = b->used;
	b->last = 1;
	b->rc = rc == -1 ? -1 : 0;
	rb_push(q);
	return NULL;
}

/* Reads the input to its end through the reader thread. Returns 0 at the
 * end, -1 when it broke off (`why` says why, for blocks), 2 when the
 * thread could not be started (nothing was read). */
static int read_threaded(const struct rd *r, char *why, size_t whylen)
{
	struct rb *qp;
	pthread_t tid;
	unsigned i;
	int rc = 2, done = 0;
	const char *env = getenv("TLSWHY_READER_THREAD");
	if (env && strcmp(env, "0") == 0)
		return 2;
	qp = calloc(1, sizeof(*qp));   /* the ring of one input */
	if (!qp)
		return 2;
	for (i = 0; i < RB_NBATCH; i++) {
		qp->b[i].buf = malloc(RB_BATCH);
		qp->b[i].cap = qp->b[i].buf ? RB_BATCH : 0;
		if (!qp->b[i].buf && r->blocks)
			goto fail;   /* a block needs its whole size; pcap batches grow */
	}
	qp->r = r;
	/* decoding ahead needs nothing from this thread but the clock it
	 * starts from; a tap (live -w spooling) sees packets as they come */
	qp->ahead = r->blocks && !r->run->tap;
	qp->now_us = r->run->now_us;
	if (pthread_mutex_init(&qp->mu, NULL) || pthread_cond_init(&qp->cv, NULL) ||
	    pthread_create(&tid, NULL, rb_reader, qp))
		goto fail;
	while (!done) {
		struct cap_blk *b;
		pthread_mutex_lock(&qp->mu);
		while (qp->count == 0)
			pthread_cond_wait(&qp->cv, &qp->mu);
		b = &qp->b[qp->head];
		pthread_mutex_unlock(&qp->mu);
		if (qp->ahead)
			walk_decoded(r, &qp->d[qp->head]);
		else
			walk(r, b);
		if (b->last) {
			done = 1;
			rc = b->rc;
			if (rc)
				snprintf(why, whylen, "%s", r->blocks ? b->why : pcap_geterr(r->pc));
		}
		pthread_mutex_lock(&qp->mu);
		qp->head = (qp->head + 1) % RB_NBATCH;
		qp->count--;
		pthread_cond_broadcast(&qp->cv);
		pthread_mutex_unlock(&qp->mu);
	}
	pthread_join(tid, NULL);
	pthread_mutex_destroy(&qp->mu);
	pthread_cond_destroy(&qp->cv);
	for (i = 0; i < RB_NBATCH; i++) {
		free(qp->b[i].buf);
		free(qp->d[i].v);
		free(qp->d[i].side);
	}
	free(qp);
	return rc;
fail:
	for (i = 0; i < RB_NBATCH; i++)
		free(qp->b[i].buf);
	free(qp);
	return 2;
}

/* The same on this thread alone. 0 at the end, -1 when it broke off. */
static int read_here(const struct rd *r, char *why, size_t whylen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	if (r->blocks) {
		struct cap_blk b;
		memset(&b, 0, sizeof(b));
		b.buf = malloc(RB_BATCH);
		if (!b.buf)
			return 2;
		b.cap = RB_BATCH;
		cap_blk_fill(&r->src, &b, NULL);
		for (;;) {
			walk(r, &b);
			if (b.last)
				break;
			cap_blk_fill(&r->src, &b, &b);
		}
		rc = b.rc;
		if (rc)
			snprintf(why, whylen, "%s", b.why);
		free(b.buf);
		return rc;
	}
	while ((rc = pcap_next_ex(r->pc, &h, &data)) == 1) {
		/* libpcap scales every file to the microsecond precision we asked for */
		int64_t ts = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
		cap_packet(r->run, r->in, ts, data, h->caplen, h->len);
	}
	if (rc == -1) {
		snprintf(why, whylen, "%s", pcap_geterr(r->pc));
		return -1;
	}
	return 0;
}

/* The block reader when the file is one it reads exactly as libpcap does
 * (block.c) and TLSWHY_PCAP_READER does not ask for libpcap. */
static int blocks_apply(struct rd *r, const char *filter)
{
	int snap = pcap_snapshot(r->pc);
	if (!r->in->fp || pcap_file(r->pc) != r->in->fp || pcap_is_swapped(r->pc) ||
	    !cap_blk_eligible(r->in->head, r->in->link_supported, snap))
		return 0;
	if (filter && *filter) {
		/* compiled as cap_set_filter did, which succeeded */
		if (pcap_compile(r->pc, &r->prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
			return 0;
		r->filtered = 1;
	}
	r->src.fp = r->in->fp;
	r->src.read = r->in->read;
	r->src.read_arg = r->in->read_arg;
	r->src.snapshot = (uint32_t)snap;
	r->src.nsec = cap_blk_nsec(r->in->head);
	return 1;
}

static void choose_reader(struct rd *r, const char *filter)
{
	const char *env = getenv("TLSWHY_PCAP_READER");
	r->blocks = !(env && strcmp(env, "libpcap") == 0) && blocks_apply(r, filter);
	if (env && strcmp(env, "show") == 0)   /* tests/reader.sh: which one ran */
		fprintf(stderr, "tlswhy: reader: %s: %s\n", r->blocks ? "blocks" : "libpcap", r->in->path);
}

enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	char why[CAP_BLK_WHY] = "";   /* how the read ended, from libpcap or block.c */
	struct rd r;
	pcap_t *pc;
	int rc;
	const char *name;

	if (in->fp)
		pc = pcap_fopen_offline_with_tstamp_precision(in->fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	else
		pc = pcap_open_offline_with_tstamp_precision(in->path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", strcmp(in->path, "-") ? in->path : "(stdin)", ebuf);
		snprintf(in->error, sizeof(in->error), "%s", ebuf);
		return CAP_ERR_OPEN;
	}
	in->dlt = pcap_datalink(pc);
	name = pcap_datalink_val_to_name(in->dlt);
	in->link_name = strdup(name ? name : "unknown");
	in->link_supported = pkt_dlt_supported(in->dlt);
	in->first_frame = run->frame + 1;
	if (filter && *filter &&
	    cap_set_filter(pc, filter, PCAP_NETMASK_UNKNOWN, err, errlen, in->error, sizeof(in->error)) != CAP_OK) {
		pcap_close(pc);
		return CAP_ERR_FILTER;
	}
	memset(&r, 0, sizeof(r));
	r.pc = pc;
	r.run = run;
	r.in = in;
	choose_reader(&r, filter);
	rc = read_threaded(&r, why, sizeof(why));
	if (rc == 2)
		rc = read_here(&r, why, sizeof(why));
	if (rc == 2)
		rc = 0;   /* no memory for a block: nothing was read, as when pcap batches run out */
	if (r.filtered)
		pcap_freecode(&r.prog);
	if (rc == -1) {
		if (strstr(why, "truncated")) {
			/* the file ends mid-packet: what came before counts */
			in->truncated = 1;
			snprintf(in->warning, sizeof(in->warning), "%s", why);
		} else {
			/* damaged mid-way (a record length libpcap refuses): the
			 * packets before it were analyzed; the caller reports both */
			snprintf(err, errlen, "%s: corrupt after %llu packets: %s",
				 strcmp(in->path, "-") ? in->path : "(stdin)",
				 (unsigned long long)in->packets, why);
			snprintf(in->error, sizeof(in->error), "corrupt after %llu packets: %s",
				 (unsigned long long)in->packets, why);
			pcap_close(pc);
			return CAP_ERR_CORRUPT;
		}
	}
	pcap_close(pc);
	cap_frag_release(run);
	return CAP_OK;
}
