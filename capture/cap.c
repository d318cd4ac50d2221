/*
 * cap.c - offline capture reading through libpcap (see cap.h).
 *
 * pcap_open_offline handles pcap (all byte orders and nanosecond variants)
 * and pcapng; "-" is standard input. pcap_next_ex's -1 after packets were
 * read is a file that ends mid-packet ("truncated dump file"): processing
 * stops there for that file and the truncation is reported, not fatal.
 * Timestamps are normalised to microseconds whatever the file's precision.
 *
 * Files are read on a second thread: it runs pcap_next_ex (and with it the
 * input hashing and spooling of report/source.c) and copies packets into a
 * ring of RB_NBATCH batches of RB_BATCH bytes; this thread takes them in
 * the same order and does everything else, so the output is the same as
 * single-threaded (TLSWHY_READER_THREAD=0 forces that, for comparisons;
 * so does a failure to start the thread). bench/RESULTS.md has the numbers.
 */
#include "capture/cap.h"
#include "dissect/frag.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RB_BATCH  (1u << 20)   /* bytes of packets a batch holds (a packet bigger gets its own) */
#define RB_NBATCH 8u           /* batches in flight between the reader and the analysis */

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

void cap_packet(struct cap_run *run, struct cap_input *in, int64_t ts, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen)
{
	struct pkt p;
	enum pkt_result r;
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
	if (ts > run->now_us)
		run->now_us = ts;
	p.frame = run->frame;
	p.ts_us = ts;
	if (!run->frag)
		run->frag = frag_table_new();   /* NULL: fragments are only counted */
	r = pkt_decode_frag(run->frag, in->dlt, data, caplen, wirelen, &p);
	run->ps.by_result[r]++;
	if (r != PKT_OK)
		return;
	if (p.encap.kind == ENCAP_VXLAN)
		run->ps.vxlan++;
	else if (p.encap.kind == ENCAP_GENEVE)
		run->ps.geneve++;
	if (p.reassembled)
		run->ps.reassembled++;
	if (p.src.family == 4)
		run->ps.ipv4++;
	else
		run->ps.ipv6++;
	if (p.vlan_depth)
		run->ps.vlan++;
	if (p.truncated)
		run->ps.truncated_payload++;
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

/* ---- the reader thread ---------------------------------------------------- */

struct rb_pkt {              /* followed by caplen bytes, padded to 8 */
	int64_t ts;
	uint32_t caplen, wirelen;
};

struct rb_batch {
	uint8_t *buf;
	size_t cap, used;
	int last;                /* the reader's final pcap_next_ex code is in rc */
	int rc;
};

struct rb {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rb_batch b[RB_NBATCH];
	unsigned head, count;    /* filled batches: b[head .. head+count) */
	pcap_t *pc;
};

static struct rb_batch *rb_get_empty(struct rb *q)
{
	struct rb_batch *b;
	pthread_mutex_lock(&q->mu);
	while (q->count == RB_NBATCH)
		pthread_cond_wait(&q->cv, &q->mu);
	b = &q->b[(q->head + q->count) % RB_NBATCH];
	pthread_mutex_unlock(&q->mu);
	b->used = 0;
	b->last = 0;
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
	struct rb_batch *b = rb_get_empty(q);
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(q->pc, &h, &data)) == 1) {
		size_t need = (sizeof(struct rb_pkt) + h->caplen + 7) & ~(size_t)7;
		struct rb_pkt *p;
		if (b->used + need > b->cap) {
			if (b->used) {
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
		p->ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		p->caplen = h->caplen;
		p->wirelen = h->len;
		memcpy(p + 1, data, h->caplen);
		b->used += need;
	}
	b->last = 1;
	b->rc = rc;
	rb_push(q);
	return NULL;
}

/* pcap_next_ex to the end through the reader thread; its last code, or 2
 * when the thread could not be started (nothing was read). */
static int read_threaded(pcap_t *pc, struct cap_run *run, struct cap_input *in)
{
	static struct rb q;   /* one input at a time */
	pthread_t tid;
	unsigned i;
	int rc = 2, done = 0;
	const char *env = getenv("TLSWHY_READER_THREAD");
	if (env && strcmp(env, "0") == 0)
		return 2;
	memset(&q, 0, sizeof(q));
	for (i = 0; i < RB_NBATCH; i++) {
		q.b[i].buf = malloc(RB_BATCH);
		q.b[i].cap = q.b[i].buf ? RB_BATCH : 0;
	}
	q.pc = pc;
	if (pthread_mutex_init(&q.mu, NULL) || pthread_cond_init(&q.cv, NULL) ||
	    pthread_create(&tid, NULL, rb_reader, &q)) {
		for (i = 0; i < RB_NBATCH; i++)
			free(q.b[i].buf);
		return 2;
	}
	while (!done) {
		struct rb_batch *b;
		size_t off = 0;
		pthread_mutex_lock(&q.mu);
		while (q.count == 0)
			pthread_cond_wait(&q.cv, &q.mu);
		b = &q.b[q.head];
		pthread_mutex_unlock(&q.mu);
		while (off < b->used) {
			const struct rb_pkt *p = (const struct rb_pkt *)(const void *)(b->buf + off);
			cap_packet(run, in, p->ts, (const uint8_t *)(p + 1), p->caplen, p->wirelen);
			off += (sizeof(*p) + p->caplen + 7) & ~(size_t)7;
		}
		if (b->last) {
			done = 1;
			rc = b->rc == -2 ? 0 : b->rc;
		}
		pthread_mutex_lock(&q.mu);
		q.head = (q.head + 1) % RB_NBATCH;
		q.count--;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
	}
	pthread_join(tid, NULL);
	pthread_mutex_destroy(&q.mu);
	pthread_cond_destroy(&q.cv);
	for (i = 0; i < RB_NBATCH; i++)
		free(q.b[i].buf);
	return rc;
}

enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc;
	struct pcap_pkthdr *h;
	const u_char *data;
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
	rc = read_threaded(pc, run, in);
	if (rc == 2) {
		while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
			/* libpcap scales every file to the microsecond precision we asked for */
			int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
			cap_packet(run, in, ts, data, h->caplen, h->len);
		}
	}
	if (rc == -1) {
		const char *why = pcap_geterr(pc);
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
