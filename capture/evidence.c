/*
 * evidence.c - the evidence capture, -w FILE (see evidence.h for the
 * design: marks during the run, a second pass at the end).
 *
 * Marks live in a table of 5-tuples keyed by the connection's endpoints in
 * a canonical order (lower address:port first), so a packet finds its
 * connection whichever way it travels; several connections may share a
 * 5-tuple over time (port reuse) and are told apart by frame range. The
 * hash is keyed with a random key per run (dissect/hash.h's mixer), so
 * endpoints chosen on the wire cannot all land in one bucket, and a
 * 5-tuple's ranges are sorted and merged once, before the second pass:
 * frames come in order there, so each 5-tuple keeps a cursor into its
 * ranges and a packet costs O(1) however many connections reused its
 * ports (issue 16: 80,000 reused connections were 25 s with a chain walk
 * per packet). Both arrays are struct dbuf with their maximum set at
 * creation (CAP_EV_MAX_CONNS).
 */
#include "capture/evidence.h"
#include "capture/source.h"
#include "dissect/decode.h"
#include "dissect/dbuf.h"
#include "dissect/frag.h"
#include "dissect/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct ev_mark {
	uint64_t first, last;         /* frame range */
	uint32_t tuple;               /* index into tuples */
};

struct ev_tuple {
	struct hs_addr a, b;          /* canonical order */
	uint32_t next;                /* bucket chain, 0 = end (indices are 1-based) */
	uint32_t lo, hi, cur;         /* after ev_prepare: its merged ranges, marks[lo, hi), the next one */
};

struct cap_evidence {
	char *path;
	int all;
	struct dbuf marks;            /* struct ev_mark, one per marked connection */
	uint32_t n;                   /* marks */
	uint32_t nmerged;             /* after ev_prepare: marks[0, nmerged) are the merged ranges */
	struct dbuf tuples;           /* struct ev_tuple; [0] unused */
	uint32_t nt;                  /* tuples, counting [0] */
	uint32_t *bucket;
	uint32_t nbucket;             /* power of two */
	uint64_t key[4];              /* the hash key, random per run */
	int prepared;
	uint64_t dropped_marks;       /* connections over CAP_EV_MAX_CONNS */
	uint64_t packets, bytes;
	uint64_t skipped_inputs;      /* other link type, or no second pass possible */
	int written;
	char hex[65];
	int dlt, snaplen;
	/* live spool */
	pcap_t *dead;
	pcap_dumper_t *spool;
	FILE *spool_f;
};

static int addr_cmp(const struct hs_addr *x, const struct hs_addr *y)
{
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void canon(const struct hs_addr *x, const struct hs_addr *y, struct hs_addr *a, struct hs_addr *b)
{
	if (addr_cmp(x, y) <= 0) {
		*a = *x;
		*b = *y;
	} else {
		*a = *y;
		*b = *x;
	}
}

static uint64_t word(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static uint32_t hash(const struct cap_evidence *ev, const struct hs_addr *a, const struct hs_addr *b)
{
	uint64_t h = hash_mum(word(a->addr) ^ ev->key[0], word(a->addr + 8) ^ ev->key[1]);
	h = hash_mum(h ^ word(b->addr) ^ ev->key[2], word(b->addr + 8) ^ ev->key[3]);
	h = hash_mum(h ^ ((uint64_t)a->port << 32 | (uint64_t)b->port << 16 | (uint64_t)a->family << 8 | b->family),
		     ev->key[0] ^ ev->key[3]);
	return (uint32_t)(h ^ h >> 32);
}

static int same(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

static struct ev_tuple *tuple_at(const struct cap_evidence *ev, uint32_t i)
{
	return (struct ev_tuple *)(void *)ev->tuples.p + i;
}

static struct ev_mark *mark_at(const struct cap_evidence *ev, uint32_t i)
{
	return (struct ev_mark *)(void *)ev->marks.p + i;
}

struct cap_evidence *cap_ev_new(const char *path, int all)
{
	struct cap_evidence *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->path = strdup(path);
	ev->all = all;
	ev->nbucket = 1024;
	ev->bucket = calloc(ev->nbucket, sizeof(*ev->bucket));
	ev->dlt = -1;
	dbuf_init(&ev->marks, 256 * sizeof(struct ev_mark), (size_t)CAP_EV_MAX_CONNS * sizeof(struct ev_mark));
	dbuf_init(&ev->tuples, 256 * sizeof(struct ev_tuple), ((size_t)CAP_EV_MAX_CONNS + 1) * sizeof(struct ev_tuple));
	ev->nt = 1;   /* index 0 is "none" */
	if (getrandom(ev->key, sizeof(ev->key), GRND_NONBLOCK) != (ssize_t)sizeof(ev->key)) {
		/* no entropy yet: ASLR bits, spread by splitmix64 */
		uint64_t x = (uint64_t)(uintptr_t)ev ^ 0x2545f491u;
		int i;
		for (i = 0; i < 4; i++)
			ev->key[i] = hash_splitmix64(&x);
	}
	if (!ev->path || !ev->bucket) {
		cap_ev_free(ev);
		return NULL;
	}
	return ev;
}

/* Four times the buckets once there are two tuples a bucket; on failure
 * the chains get longer, still correct. */
static void rehash(struct cap_evidence *ev)
{
	uint32_t nb = ev->nbucket * 4, i, *b;
	if (ev->nt <= ev->nbucket * 2 || nb < ev->nbucket || !(b = calloc(nb, sizeof(*b))))
		return;
	for (i = 1; i < ev->nt; i++) {
		struct ev_tuple *t = tuple_at(ev, i);
		uint32_t h = hash(ev, &t->a, &t->b) & (nb - 1);
		t->next = b[h];
		b[h] = i;
	}
	free(ev->bucket);
	ev->bucket = b;
	ev->nbucket = nb;
}

static uint32_t find_tuple(const struct cap_evidence *ev, const struct hs_addr *a, const struct hs_addr *b)
{
	uint32_t i;
	for (i = ev->bucket[hash(ev, a, b) & (ev->nbucket - 1)]; i; i = tuple_at(ev, i)->next) {
		const struct ev_tuple *t = tuple_at(ev, i);
		if (same(&t->a, a) && same(&t->b, b))
			return i;
	}
	return 0;
}

void cap_ev_mark(struct cap_evidence *ev, const struct hs_record *rec, int findings)
{
	struct hs_addr a, b;
	struct ev_mark *m;
	uint32_t t;
	if (!ev || (!findings && !ev->all))
		return;
	if (ev->prepared || dbuf_grow(&ev->marks, ((size_t)ev->n + 1) * sizeof(*m))) {
		ev->dropped_marks++;
		return;
	}
	canon(&rec->cli, &rec->srv, &a, &b);
	t = find_tuple(ev, &a, &b);
	if (!t) {
		struct ev_tuple *nt;
		uint32_t h;
		if (dbuf_grow(&ev->tuples, ((size_t)ev->nt + 1) * sizeof(*nt))) {
			ev->dropped_marks++;
			return;
		}
		t = ev->nt++;
		nt = tuple_at(ev, t);
		memset(nt, 0, sizeof(*nt));
		nt->a = a;
		nt->b = b;
		h = hash(ev, &a, &b) & (ev->nbucket - 1);
		nt->next = ev->bucket[h];
		ev->bucket[h] = t;
		rehash(ev);
	}
	m = mark_at(ev, ev->n++);
	m->first = rec->first_frame;
	m->last = rec->last_frame;
	m->tuple = t;
}

static int mark_order(const void *x, const void *y)
{
	const struct ev_mark *a = x, *b = y;
	if (a->tuple != b->tuple)
		return a->tuple < b->tuple ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (a->last > b->last) - (a->last < b->last);
}

/* Once, before the second pass: each tuple's ranges sorted by first frame
 * and merged where they overlap or touch, so a cursor can walk them. */
static void ev_prepare(struct cap_evidence *ev)
{
	uint32_t i, out = 0;
	ev->prepared = 1;
	if (!ev->n)
		return;
	qsort(ev->marks.p, ev->n, sizeof(struct ev_mark), mark_order);
	for (i = 0; i < ev->n; i++) {
		struct ev_mark *m = mark_at(ev, i), *o = out ? mark_at(ev, out - 1) : NULL;
		if (o && o->tuple == m->tuple && (o->last == UINT64_MAX || m->first <= o->last + 1)) {
			if (m->last > o->last)
				o->last = m->last;
			continue;
		}
		if (!o || o->tuple != m->tuple)
			tuple_at(ev, m->tuple)->lo = tuple_at(ev, m->tuple)->cur = out;
		tuple_at(ev, m->tuple)->hi = out + 1;
		*mark_at(ev, out++) = *m;
	}
	ev->nmerged = out;
}

/* Frames come in increasing order (the second pass). */
static int wanted(struct cap_evidence *ev, const struct pkt *p, uint64_t frame)
{
	struct hs_addr a, b;
	struct ev_tuple *t;
	uint32_t i;
	if (!ev->prepared)
		ev_prepare(ev);
	canon(&p->src, &p->dst, &a, &b);
	i = find_tuple(ev, &a, &b);
	if (!i)
		return 0;
	t = tuple_at(ev, i);
	while (t->cur < t->hi && mark_at(ev, t->cur)->last < frame)
		t->cur++;
	return t->cur < t->hi && mark_at(ev, t->cur)->first <= frame;
}

int cap_ev_live_begin(struct cap_evidence *ev, int dlt, int snaplen, char *err, size_t errlen)
{
	ev->spool_f = tmpfile();
	ev->dead = pcap_open_dead(dlt, snaplen);
	if (!ev->spool_f || !ev->dead) {
		snprintf(err, errlen, "-w: cannot create a temporary spool: %s", strerror(errno));
		return -1;
	}
	/* the dumper gets its own descriptor; the spool is read back through the original */
	{
		int fd = dup(fileno(ev->spool_f));
		FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (!f || !(ev->spool = pcap_dump_fopen(ev->dead, f))) {
			snprintf(err, errlen, "-w: cannot write the temporary spool");
			return -1;
		}
	}
	return 0;
}

void cap_ev_tap(void *arg, const struct cap_input *in, int64_t ts_us, const uint8_t *data, uint32_t caplen,
	    uint32_t wirelen)
{
	struct cap_evidence *ev = arg;
	struct pcap_pkthdr h;
	(void)in;
	if (!ev->spool)
		return;
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = caplen;
	h.len = wirelen;
	pcap_dump((u_char *)ev->spool, &h, data);
}

/* Reads one input again, writing the marked packets. `frame` runs on. */
static int pass(struct cap_evidence *ev, pcap_t *pc, pcap_dumper_t **dump, pcap_t **dead_out,
		const char *filter, uint64_t *frame, int write, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	struct frag_table *frag = frag_table_new();
	int rc;
	if (filter && *filter) {
		struct bpf_program prog;
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(pc, &prog) < 0) {
			snprintf(err, errlen, "-w: filter: %s", pcap_geterr(pc));
			frag_table_free(frag);
			return -1;
		}
		pcap_freecode(&prog);
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pkt p;
		enum pkt_result r;
		(*frame)++;
		if (!write)
			continue;
		memset(&p, 0, sizeof(p));
		p.frame = *frame;
		p.ts_us = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
		r = pkt_decode_frag(frag, pcap_datalink(pc), data, h->caplen, h->len, &p);
		if (r != PKT_OK || !wanted(ev, &p, *frame))
			continue;
		if (!*dump) {
			*dead_out = pcap_open_dead(ev->dlt, ev->snaplen);
			if (!*dead_out || !(*dump = pcap_dump_open(*dead_out, ev->path))) {
				snprintf(err, errlen, "-w %s: %s", ev->path,
					 *dead_out ? pcap_geterr(*dead_out) : "out of memory");
				frag_table_free(frag);
				return -1;
			}
		}
		pcap_dump((u_char *)*dump, h, data);
		ev->packets++;
	}
	frag_table_free(frag);
	return 0;
}

static int sha_file(const char *path, char hex[65], uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], d[32];
	unsigned int dl = 0, i;
	size_t got;
	*size = 0;
	if (!f || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		if (f)
			fclose(f);
		EVP_MD_CTX_free(md);
		return -1;
	}
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(md, buf, got);
		*size += got;
	}
	fclose(f);
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (i = 0; i < dl && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int cap_ev_write(struct cap_evidence *ev, int nin, struct cap_src *const *src,
	     const char *filter, char *err, size_t errlen)
{
	pcap_dumper_t *dump = NULL;
	pcap_t *dead = NULL;
	uint64_t frame = 0;
	int i, rc = 0;
	char ebuf[PCAP_ERRBUF_SIZE];

	if (ev->spool) {   /* live: the spool is the one input */
		pcap_t *pc;
		FILE *f;
		pcap_dump_close(ev->spool);
		ev->spool = NULL;
		f = ev->spool_f;
		ev->spool_f = NULL;
		rewind(f);
		pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!pc) {
			fclose(f);
			snprintf(err, errlen, "-w: the spool cannot be read back: %s", ebuf);
			return -1;
		}
		ev->dlt = pcap_datalink(pc);
		ev->snaplen = pcap_snapshot(pc);
		rc = pass(ev, pc, &dump, &dead, NULL, &frame, 1, err, errlen);   /* filtered already */
		pcap_close(pc);
	} else {
		for (i = 0; i < nin && rc == 0; i++) {
			FILE *f = src ? cap_src_reopen(src[i]) : NULL;   /* the input opened once, again */
			pcap_t *pc;
			int write;
			if (!f) {
				/* no second pass possible: frame numbers after it would not line up */
				ev->skipped_inputs += (uint64_t)(nin - i);
				break;
			}
			pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
			if (!pc) {
				fclose(f);
				ev->skipped_inputs += (uint64_t)(nin - i);
				break;
			}
			if (ev->dlt < 0) {
				ev->dlt = pcap_datalink(pc);
				ev->snaplen = pcap_snapshot(pc);
			}
			write = pcap_datalink(pc) == ev->dlt;
			if (!write)
				ev->skipped_inputs++;
			else if (pcap_snapshot(pc) > ev->snaplen)
				ev->snaplen = pcap_snapshot(pc);
			rc = pass(ev, pc, &dump, &dead, filter, &frame, write, err, errlen);
			pcap_close(pc);
		}
	}
	if (rc == 0 && !dump) {
		/* nothing to keep: still a valid, empty capture */
		dead = pcap_open_dead(ev->dlt >= 0 ? ev->dlt : DLT_EN10MB, ev->snaplen > 0 ? ev->snaplen : 262144);
		if (!dead || !(dump = pcap_dump_open(dead, ev->path))) {
			snprintf(err, errlen, "-w %s: %s", ev->path, dead ? pcap_geterr(dead) : "out of memory");
			rc = -1;
		}
	}
	if (dump) {
		if (pcap_dump_flush(dump) != 0 && rc == 0) {
			snprintf(err, errlen, "-w %s: %s", ev->path, strerror(errno));
			rc = -1;
		}
		pcap_dump_close(dump);
	}
	if (dead)
		pcap_close(dead);
	if (rc == 0) {
		if (sha_file(ev->path, ev->hex, &ev->bytes)) {
			snprintf(err, errlen, "-w %s: cannot read it back: %s", ev->path, strerror(errno));
			return -1;
		}
		ev->written = 1;
	}
	return rc;
}

const char *cap_ev_path(const struct cap_evidence *ev) { return ev->path; }
const char *cap_ev_sha256(const struct cap_evidence *ev) { return ev->written ? ev->hex : ""; }
uint64_t cap_ev_packets(const struct cap_evidence *ev) { return ev->packets; }
uint64_t cap_ev_connections(const struct cap_evidence *ev) { return ev->n; }
uint64_t cap_ev_bytes(const struct cap_evidence *ev) { return ev->bytes; }
int cap_ev_written(const struct cap_evidence *ev) { return ev->written; }
uint64_t cap_ev_not_kept(const struct cap_evidence *ev) { return ev->dropped_marks; }
uint64_t cap_ev_inputs_skipped(const struct cap_evidence *ev) { return ev->skipped_inputs; }

void cap_ev_free(struct cap_evidence *ev)
{
	if (!ev)
		return;
	if (ev->spool)
		pcap_dump_close(ev->spool);
	if (ev->spool_f)
		fclose(ev->spool_f);
	if (ev->dead)
		pcap_close(ev->dead);
	dbuf_free(&ev->marks);
	dbuf_free(&ev->tuples);
	free(ev->bucket);
	free(ev->path);
	free(ev);
}
