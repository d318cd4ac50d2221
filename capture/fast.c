/*
 * fast.c - reading a file faster than pcap_next_ex one packet at a time,
 * with the same result (see fast.h). capture/cap.c's reference loop is
 * what this must equal; tests/reader.sh and tests/threads.sh compare.
 *
 * Two producers fill the same batches (struct cap_blk, block.h):
 *   blocks   the common case: a classic pcap file in host byte order
 *            (microseconds or nanoseconds), version 2.4, no FCS bits in the
 *            link type, a link type we decode. capture/block.c reads the
 *            records straight from the input's source (cap_src_read: one
 *            read() a block, hashed and spooled there), in blocks of
 *            CAP_BLK_BYTES, and they are walked in place: no copy per
 *            packet. With a filter, pcap_offline_filter() drops what
 *            pcap_next_ex would. block.c gives libpcap's end messages word
 *            for word, and says how the file ended (enum cap_end).
 *   libpcap  everything else: pcap_next_ex, each packet copied into a batch.
 *
 * A reader thread runs the block reader or pcap_next_ex (and with either
 * the input hashing and spooling of capture/source.c) and fills a ring of
 * RB_NBATCH batches of RB_BATCH bytes; the calling thread takes them in
 * the same order and does everything else, so the output is the same as
 * single-threaded. With blocks, the reader thread also decodes ahead: it
 * counts every frame and decodes it (cap_count_decode: the frame numbers,
 * the statistics, link/IP/TCP, IPv4 reassembly, all of which only the
 * thread filling a block touches) and hands over, with each block, its TCP
 * segments (struct seg_desc: the decoded packet, its flow hash, and the
 * capture clock after it, which the calling thread sets before each
 * segment so a connection reported there sees the time a single thread
 * would). The calling thread then never touches a record or packet header,
 * and warms the flow table a few segments ahead (flow_prefetch_*). When it
 * finds no block waiting, it fills and decodes the next one itself instead
 * of sleeping until the reader thread is scheduled (fill_next(): one
 * thread at a time, in file order, so the blocks and their decoding are
 * the same whoever filled them). Without
 * a thread (cap_read_opts.one_thread, or it cannot start), blocks are
 * filled and walked in turn; libpcap reading is then the reference loop.
 * Memory: RB_NBATCH x RB_BATCH, the segments of RB_NBATCH blocks (a block
 * of 512 KiB holds at most 14,564 TCP segments, SEGS_MAX, of 120 bytes each
 * here, plus 64 for one that came through a tunnel; real traffic far fewer:
 * the array grows by doubling), plus, on the libpcap way only, a batch
 * grown for a packet bigger than a batch. bench/RESULTS.md has the numbers.
 */
#include "capture/fast.h"
#include "capture/batch.h"
#include "dissect/dbuf.h"
#include "dissect/flow_ahead.h"
#include "dissect/frag.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RB_BATCH  CAP_BLK_BYTES  /* bytes a batch holds (libpcap: a packet bigger gets its own) */
#ifndef RB_NBATCH                /* -DRB_NBATCH=... to measure others */
#define RB_NBATCH 4u             /* batches in flight between the reader and the analysis */
#endif
/* A reader that filled the ring sleeps until the analysis has taken this
 * many batches, and is woken then, not for every batch taken: it then
 * fills them one after the other (issue 19: a wake-up and a sleep, two
 * futex calls, for every one of the 3,000 blocks of the benchmark). */
#define RB_REFILL (RB_NBATCH / 2)

_Static_assert(RB_BATCH >= CAP_BLK_REC_MAX, "a block holds the largest record");
_Static_assert(RB_NBATCH >= 2, "the reader copies a cut record out of the batch it filled last");

struct rb_pkt {              /* followed by caplen bytes, padded to 8 */
	int64_t ts;
	uint32_t caplen, wirelen;
	int32_t kind, dlt;       /* pcapng: enum cap_item_kind and the packet's link type */
};


/* Decoding ahead (blocks on the reader thread): each filled block comes
 * with its TCP segments already decoded, so the analysis thread touches
 * neither the record headers nor the link/IP/TCP headers, and can warm
 * the flow table for the segments a few places ahead. */
/* A segment keeps its struct pkt up to the tunnel facts (PKT_CORE bytes:
 * its payload points into the block, or into side when reassembled); the
 * few that came through a tunnel keep those in encaps (issue 19: 120 bytes
 * a segment, not 184, in memory that holds every segment of RB_NBATCH
 * blocks). seg_pkt() puts a segment back together. */
#define PKT_CORE offsetof(struct pkt, encap)
struct seg_desc {
	unsigned char core[PKT_CORE];
	int64_t now_us;          /* the capture clock after this frame (every frame counts) */
	uint32_t side_off;       /* reassembled: where its payload is in side (a dbuf: 32 bits) */
	uint32_t hash;           /* flow_hash_pkt() */
	uint32_t encap;          /* 0: no tunnel; else 1 + its index in encaps */
};

struct decoded {
	struct seg_desc *v;      /* = vb.p */
	size_t n;
	struct dbuf vb;          /* the segments: at most SEGS_MAX(block) of them */
	struct dbuf encaps;      /* struct pkt_encap_info of the segments that came through a tunnel */
	struct dbuf side;        /* payloads of reassembled datagrams (their buffers are the frag table's);
	                          * at most FRAG_MAX_BYTES + the block: every byte of a datagram that
	                          * completes in a block was in the fragment table when the block
	                          * began, or came in one of the block's records */
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
	const struct cap_rd *r;
	/* blocks: who fills the next one holds `fill` (the reader thread, or
	 * the calling thread when it found the ring empty: fill_next()) */
	pthread_mutex_t fill;
	const struct cap_blk *prev;   /* the block filled last: the next fill copies its cut record */
	int ended;               /* the last block was filled (under mu) */
};

/* The next record of a block at *off that the filter keeps, as
 * pcap_next_ex would give it; 0 at the block's end. */
static int next_rec(const struct cap_rd *r, const struct cap_blk *b, size_t *off, struct cap_blk_rec *rec)
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
static void walk(const struct cap_rd *r, const struct cap_blk *b)
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
		if (r->ng) {
			struct cap_item it = { p->kind, p->dlt, p->ts, p->caplen, p->wirelen, (const uint8_t *)(p + 1) };
			cap_ng_deliver(r, &it);
		} else {
			cap_packet(r->run, r->in, p->ts, (const uint8_t *)(p + 1), p->caplen, p->wirelen);
		}
		off += (sizeof(*p) + p->caplen + 7) & ~(size_t)7;
	}
}

/* A record gives at most one TCP segment, and a record that gives one holds
 * at least an IPv4 header: 16 + 20 bytes (raw IPv4). Not 16 + 40: an IPv4
 * datagram can complete on a last fragment with no payload, its TCP header
 * having come in earlier fragments, up to FRAG_MAX_DATAGRAMS of them from
 * earlier blocks (issue 16: 1,024 such completions and 18,066 plain
 * segments in one 1 MiB block passed the old bound, and the input ended
 * with a false "out of memory"). So a block of `bytes` holds at most this
 * many. */
#define SEGS_MAX(bytes) ((bytes) / (CAP_BLK_RECHDR + 20) + 1)

/* The limits of a block's decoded segments (set once, before its first use). */
static void dec_init(struct decoded *d, size_t block_bytes)
{
	dbuf_init(&d->vb, 1024 * sizeof(struct seg_desc), SEGS_MAX(block_bytes) * sizeof(struct seg_desc));
	dbuf_init(&d->side, 65536, (size_t)FRAG_MAX_BYTES + block_bytes);
	dbuf_init(&d->encaps, 64 * sizeof(struct pkt_encap_info),
		  SEGS_MAX(block_bytes) * sizeof(struct pkt_encap_info));
}

static void dec_free(struct decoded *d)
{
	dbuf_free(&d->vb);
	dbuf_free(&d->side);
	dbuf_free(&d->encaps);
	d->v = NULL;
}

/* -1: out of memory (the limits hold every block: see SEGS_MAX and struct decoded) */
static int dec_push(struct decoded *d, const struct pkt *p, int64_t now_us, uint32_t hash)
{
	struct seg_desc *e;
	if (dbuf_grow(&d->vb, (d->n + 1) * sizeof(*e)))
		return -1;
	d->v = (struct seg_desc *)(void *)d->vb.p;
	e = &d->v[d->n];
	memcpy(e->core, p, PKT_CORE);
	e->now_us = now_us;
	e->side_off = 0;
	e->hash = hash;
	e->encap = 0;
	if (p->encap.kind || p->encap.depth) {
		if (dbuf_add(&d->encaps, &p->encap, sizeof(p->encap)))
			return -1;
		e->encap = d->encaps.len / sizeof(p->encap);
	}
	if (p->reassembled && p->paylen) {
		e->side_off = d->side.len;
		if (dbuf_add(&d->side, p->payload, p->paylen))
			return -1;
	}
	d->n++;
	return 0;
}

/* Reader thread: counts and decodes every record of a filled block (the
 * filter first, as pcap_next_ex would), keeping the TCP segments. */
static void decode_block(struct rb *q, struct cap_blk *b, struct decoded *d)
{
	const struct cap_rd *r = q->r;
	const struct flow_table *ft = r->run->ft;   /* read once: see walk_decoded() */
	struct cap_blk_rec rec;
	struct pkt p;
	size_t off = 0, i;
	d->n = 0;
	dbuf_reset(&d->side);
	dbuf_reset(&d->encaps);
	while (next_rec(r, b, &off, &rec)) {
		if (rec.ts_us > q->now_us)
			q->now_us = rec.ts_us;
		if (cap_count_decode(r->run, r->in, r->in->dlt, rec.ts_us, rec.data, rec.caplen, rec.len, &p) == PKT_OK &&
		    dec_push(d, &p, q->now_us, flow_hash_pkt(ft, &p)) < 0) {
			/* out of memory: the input ends here, said as an error */
			b->last = 1;
			b->how = CAP_END_CORRUPT;
			snprintf(b->why, sizeof(b->why), "out of memory after frame %llu",
				 (unsigned long long)r->run->frame);
			break;
		}
	}
	d->now_end = q->now_us;
	for (i = 0; d->side.len && i < d->n; i++) {   /* only a block with reassembled payloads */
		struct pkt p1;
		memcpy(&p1, d->v[i].core, PKT_CORE);
		if (p1.reassembled && p1.paylen) {
			const uint8_t *at = d->side.p + d->v[i].side_off;
			memcpy(d->v[i].core + offsetof(struct pkt, payload), &at, sizeof(at));
		}
	}
}

/* Segment i as the struct pkt it was decoded into. */
static void seg_pkt(const struct decoded *d, size_t i, struct pkt *p)
{
	const struct seg_desc *e = &d->v[i];
	memcpy(p, e->core, PKT_CORE);
	if (e->encap) {
		memcpy(&p->encap, d->encaps.p + (size_t)(e->encap - 1) * sizeof(p->encap), sizeof(p->encap));
	} else {
		p->encap.kind = ENCAP_NONE;
		p->encap.depth = 0;
	}
	p->frag = NULL;
}

/* Segment i's payload pointer, without the rest. */
static const uint8_t *seg_payload(const struct decoded *d, size_t i)
{
	const uint8_t *at;
	memcpy(&at, d->v[i].core + offsetof(struct pkt, payload), sizeof(at));
	return at;
}

/* Analysis thread: the decoded segments of a block into the flow table.
 * Each segment's description is fetched SEG_PREFETCH segments ahead, the
 * first bytes of its payload SEG_PREFETCH_DATA ahead (both were written on
 * the reader thread's core), its flow as flow_ahead.h says. */
#define SEG_PREFETCH 16
#define SEG_PREFETCH_DATA 4

static void walk_decoded(const struct cap_rd *r, const struct decoded *d)
{
	struct cap_run *run = r->run;
	/* read once, not for every segment: run->ft shares a cache line with
	 * the statistics the reader thread counts every frame in, and every
	 * read here would pull that line over from the reader's core */
	struct flow_table *ft = run->ft;
	struct pkt p;
	size_t i;
	for (i = 0; i < d->n; i++) {
		if (i + SEG_PREFETCH < d->n) {
			/* the reader thread wrote these on the other core */
			const char *a = (const char *)&d->v[i + SEG_PREFETCH];
			size_t o;
			for (o = 0; o < sizeof(d->v[0]); o += 64)
				__builtin_prefetch(a + o);
			__builtin_prefetch(a + sizeof(d->v[0]) - 1);
		}
		if (i + SEG_PREFETCH_DATA < d->n && seg_payload(d, i + SEG_PREFETCH_DATA))
			__builtin_prefetch(seg_payload(d, i + SEG_PREFETCH_DATA));
		if (i + FLOW_PREFETCH_SLOT < d->n)
			flow_prefetch_slot(ft, d->v[i + FLOW_PREFETCH_SLOT].hash);
		if (i + FLOW_PREFETCH_FLOW < d->n)
			flow_prefetch_flow(ft, d->v[i + FLOW_PREFETCH_FLOW].hash);
		run->now_us = d->v[i].now_us;
		seg_pkt(d, i, &p);
		flow_packet_hashed(ft, &p, d->v[i].hash);
	}
	if (d->now_end > run->now_us)
		run->now_us = d->now_end;
}

static struct cap_blk *rb_get_empty(struct rb *q)
{
	struct cap_blk *b;
	pthread_mutex_lock(&q->mu);
	if (q->count == RB_NBATCH)
		while (q->count > RB_NBATCH - RB_REFILL)
			pthread_cond_wait(&q->cv, &q->mu);
	b = &q->b[(q->head + q->count) % RB_NBATCH];
	pthread_mutex_unlock(&q->mu);
	b->used = b->end = 0;
	b->last = 0;
	b->how = CAP_END_CLEAN;
	return b;
}

static void rb_push(struct rb *q)
{
	pthread_mutex_lock(&q->mu);
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void rb_read(struct rb *q);

/* Blocks: fills the next block of the ring and hands it over, when there is
 * room and the input has not ended; 1 = it did. Called with q->fill held,
 * so one thread at a time reads the input, decodes (its clock, the frame
 * numbers and statistics, the fragment table) and keeps `prev`. The slot
 * after the last filled one is free while count < RB_NBATCH, and the
 * block before it (`prev`, whose cut record the fill copies out) is only
 * refilled RB_NBATCH fills later. */
static int fill_next(struct rb *q)
{
	struct cap_blk *b;
	pthread_mutex_lock(&q->mu);
	if (q->ended || q->count == RB_NBATCH) {
		pthread_mutex_unlock(&q->mu);
		return 0;
	}
	b = &q->b[(q->head + q->count) % RB_NBATCH];
	pthread_mutex_unlock(&q->mu);
	b->used = b->end = 0;
	b->last = 0;
	b->how = CAP_END_CLEAN;
	cap_blk_fill(&q->r->src, b, q->prev);
	if (q->ahead)
		decode_block(q, b, &q->d[b - q->b]);
	q->prev = b;
	pthread_mutex_lock(&q->mu);
	q->count++;
	if (b->last)
		q->ended = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 1;
}

/* The reader thread; it keeps spare buffer blocks (dissect/dbuf.h) for the
 * datagrams it reassembles, and gives them back when the input ends. Woken
 * each time the analysis thread takes a block, it does not preempt it
 * (capture/batch.h). */
static void *rb_reader(void *arg)
{
	thread_batch();
	dbuf_pool_begin();
	rb_read(arg);
	dbuf_pool_end();
	return NULL;
}

static void rb_read(struct rb *q)
{
	const struct cap_rd *r = q->r;
	struct cap_blk *b;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	if (r->blocks && q->ahead && r->fills == CAP_FILLS_HERE)
		return;   /* the tests' switch: the calling thread fills every block */
	if (r->blocks) {
		/* the cut record at the end of a block is copied out of it before
		 * the block is handed over (cap_blk_fill of the next one): the
		 * previous batch is never refilled first, RB_NBATCH >= 2. The
		 * calling thread fills a block itself when it finds none waiting
		 * (read_threaded()), so each fill takes q->fill. */
		for (;;) {
			int ended;
			pthread_mutex_lock(&q->mu);
			if (q->count == RB_NBATCH)
				while (q->count > RB_NBATCH - RB_REFILL && !q->ended)
					pthread_cond_wait(&q->cv, &q->mu);
			ended = q->ended;
			pthread_mutex_unlock(&q->mu);
			if (ended)
				return;
			pthread_mutex_lock(&q->fill);
			fill_next(q);
			pthread_mutex_unlock(&q->fill);
		}
	}
	b = rb_get_empty(q);
	for (;;) {
		struct cap_item it;
		size_t need;
		struct rb_pkt *p;
		if (r->ng) {
			if (!cap_ng_pull(r, &it, &b->how, b->why, sizeof(b->why)))
				break;
		} else {
			if ((rc = pcap_next_ex(r->pc, &h, &data)) != 1) {
				b->how = rc == -1 ? cap_pcap_end(r->pc) : CAP_END_CLEAN;
				break;
			}
			/* libpcap scales every file to the microsecond precision we asked for */
			it.kind = CAP_ITEM_PACKET;
			it.dlt = r->in->dlt;
			it.ts_us = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
			it.caplen = h->caplen;
			it.len = h->len;
			it.data = data;
		}
		need = (sizeof(struct rb_pkt) + it.caplen + 7) & ~(size_t)7;
		if (b->used + need > b->cap) {
			if (b->used) {
				b->end = b->used;
				rb_push(q);
				b = rb_get_empty(q);
			}
			if (need > b->cap) {
				uint8_t *nb = realloc(b->buf, need);
				if (!nb) {   /* out of memory: end the input as if it ended here */
					b->how = CAP_END_CLEAN;
					break;
				}
				b->buf = nb;
				b->cap = need;
			}
		}
		p = (struct rb_pkt *)(void *)(b->buf + b->used);
		p->ts = it.ts_us;
		p->caplen = it.caplen;
		p->wirelen = it.len;
		p->kind = it.kind;
		p->dlt = it.dlt;
		if (it.caplen)   /* interface and secrets items carry no bytes (data NULL) */
			memcpy(p + 1, it.data, it.caplen);
		b->used += need;
	}
	b->end = b->used;
	b->last = 1;
	rb_push(q);
}

/* Reads the input to its end through the reader thread: 0 with *end (and
 * `why` unless clean), or 1 when the thread could not be started (nothing
 * was read). */
static int read_threaded(const struct cap_rd *r, enum cap_end *end, char *why, size_t whylen)
{
	struct rb *qp;
	pthread_t tid;
	unsigned i;
	int done = 0;
	qp = calloc(1, sizeof(*qp));   /* the ring of one input */
	if (!qp)
		return 1;
	for (i = 0; i < RB_NBATCH; i++) {
		qp->b[i].buf = malloc(RB_BATCH);
		qp->b[i].cap = qp->b[i].buf ? RB_BATCH : 0;
		dec_init(&qp->d[i], RB_BATCH);
		if (!qp->b[i].buf && r->blocks)
			goto fail;   /* a block needs its whole size; pcap batches grow */
	}
	qp->r = r;
	/* decoding ahead needs nothing from this thread but the clock it
	 * starts from; a tap (live -w spooling) sees packets as they come */
	qp->ahead = r->blocks && !r->run->tap;
	qp->now_us = r->run->now_us;
	if (pthread_mutex_init(&qp->mu, NULL) || pthread_mutex_init(&qp->fill, NULL) ||
	    pthread_cond_init(&qp->cv, NULL) || pthread_create(&tid, NULL, rb_reader, qp))
		goto fail;
	while (!done) {
		struct cap_blk *b;
		pthread_mutex_lock(&qp->mu);
		if (qp->count == 0 && qp->ahead && !qp->ended && r->fills != CAP_FILLS_READER) {
			/* nothing waiting: rather than sleep until the reader thread
			 * is scheduled (on two cores it often waits behind the report
			 * thread), fill the next block here, unless the reader is
			 * filling it now (issue 19: the analysis thread slept a third
			 * of a JSON Lines run) */
			pthread_mutex_unlock(&qp->mu);
			if (r->fills == CAP_FILLS_HERE) {
				pthread_mutex_lock(&qp->fill);
				fill_next(qp);
				pthread_mutex_unlock(&qp->fill);
			} else if (pthread_mutex_trylock(&qp->fill) == 0) {
				fill_next(qp);
				pthread_mutex_unlock(&qp->fill);
			}
			pthread_mutex_lock(&qp->mu);
		}
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
			*end = b->how;
			if (b->how != CAP_END_CLEAN)
				snprintf(why, whylen, "%s", r->blocks || r->ng ? b->why : pcap_geterr(r->pc));
		}
		pthread_mutex_lock(&qp->mu);
		qp->head = (qp->head + 1) % RB_NBATCH;
		qp->count--;
		if (qp->count <= RB_NBATCH - RB_REFILL)   /* what a reader waiting on a full ring waits for */
			pthread_cond_broadcast(&qp->cv);
		pthread_mutex_unlock(&qp->mu);
	}
	pthread_join(tid, NULL);
	pthread_mutex_destroy(&qp->mu);
	pthread_mutex_destroy(&qp->fill);
	pthread_cond_destroy(&qp->cv);
	for (i = 0; i < RB_NBATCH; i++) {
		free(qp->b[i].buf);
		dec_free(&qp->d[i]);
	}
	free(qp);
	return 0;
fail:
	for (i = 0; i < RB_NBATCH; i++)
		free(qp->b[i].buf);
	free(qp);
	return 1;
}

/* Blocks on this thread alone: 0 with *end, 1 without memory for a block
 * (nothing was read). */
static int read_blocks_here(const struct cap_rd *r, enum cap_end *end, char *why, size_t whylen)
{
	struct cap_blk b;
	memset(&b, 0, sizeof(b));
	b.buf = malloc(RB_BATCH);
	if (!b.buf)
		return 1;
	b.cap = RB_BATCH;
	cap_blk_fill(&r->src, &b, NULL);
	for (;;) {
		walk(r, &b);
		if (b.last)
			break;
		cap_blk_fill(&r->src, &b, &b);
	}
	*end = b.how;
	if (b.how != CAP_END_CLEAN)
		snprintf(why, whylen, "%s", b.why);
	free(b.buf);
	return 0;
}

int cap_fast_read(const struct cap_rd *r, int threads, enum cap_end *end, char *why, size_t whylen)
{
	if (threads && read_threaded(r, end, why, whylen) == 0)
		return 0;
	if (r->blocks)
		return read_blocks_here(r, end, why, whylen);
	return 1;   /* pcap_next_ex on this thread: that is the reference loop */
}
