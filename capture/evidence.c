/*
 * evidence.c - the evidence capture, -w FILE (see evidence.h for the
 * design: marks during the run, a second pass at the end).
 *
 * Marks live in a chained hash table keyed by the connection's endpoints
 * in a canonical order (lower address:port first), so a packet finds its
 * connection whichever way it travels; several connections may share a
 * 5-tuple over time (port reuse) and are told apart by frame range.
 */
#include "capture/evidence.h"
#include "capture/source.h"
#include "dissect/decode.h"
#include "dissect/frag.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ev_mark {
	struct hs_addr a, b;          /* canonical order */
	uint64_t first, last;         /* frame range */
	uint32_t next;                /* chain, 0 = end (indices are 1-based) */
};

struct cap_evidence {
	char *path;
	int all;
	struct ev_mark *m;            /* m[0] unused */
	uint32_t n, cap;
	uint32_t *bucket;
	uint32_t nbucket;             /* power of two */
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

static uint32_t hash(const struct hs_addr *a, const struct hs_addr *b)
{
	uint32_t h = 2166136261u;
	size_t i;
	for (i = 0; i < 16; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ b->addr[i]) * 16777619u;
	h = (h ^ a->port) * 16777619u;
	h = (h ^ b->port) * 16777619u;
	return h;
}

static int same(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
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
	if (!ev->path || !ev->bucket) {
		cap_ev_free(ev);
		return NULL;
	}
	return ev;
}

static int grow(struct cap_evidence *ev)
{
	uint32_t ncap = ev->cap ? ev->cap * 2 : 256, i;
	struct ev_mark *m;
	if (ncap > CAP_EV_MAX_CONNS + 1)
		ncap = CAP_EV_MAX_CONNS + 1;
	if (ncap <= ev->cap)
		return -1;
	m = realloc(ev->m, (size_t)ncap * sizeof(*m));
	if (!m)
		return -1;
	ev->m = m;
	if (ev->n == 0)
		ev->n = 1;   /* index 0 is "none" */
	ev->cap = ncap;
	if (ncap > ev->nbucket * 2) {   /* rehash at load 2 */
		uint32_t nb = ev->nbucket * 4, *b = calloc(nb, sizeof(*b));
		if (!b)
			return 0;   /* longer chains, still correct */
		for (i = 1; i < ev->n; i++) {
			uint32_t h = hash(&m[i].a, &m[i].b) & (nb - 1);
			m[i].next = b[h];
			b[h] = i;
		}
		free(ev->bucket);
		ev->bucket = b;
		ev->nbucket = nb;
	}
	return 0;
}

void cap_ev_mark(struct cap_evidence *ev, const struct hs_record *rec, int findings)
{
	struct ev_mark *m;
	uint32_t h;
	if (!ev || (!findings && !ev->all))
		return;
	if ((ev->n == 0 || ev->n >= ev->cap) && grow(ev)) {
		ev->dropped_marks++;
		return;
	}
	m = &ev->m[ev->n];
	canon(&rec->cli, &rec->srv, &m->a, &m->b);
	m->first = rec->first_frame;
	m->last = rec->last_frame;
	h = hash(&m->a, &m->b) & (ev->nbucket - 1);
	m->next = ev->bucket[h];
	ev->bucket[h] = ev->n++;
}

static int wanted(const struct cap_evidence *ev, const struct pkt *p, uint64_t frame)
{
	struct hs_addr a, b;
	uint32_t i;
	canon(&p->src, &p->dst, &a, &b);
	for (i = ev->bucket[hash(&a, &b) & (ev->nbucket - 1)]; i; i = ev->m[i].next) {
		const struct ev_mark *m = &ev->m[i];
		if (frame >= m->first && frame <= m->last && same(&m->a, &a) && same(&m->b, &b))
			return 1;
	}
	return 0;
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
uint64_t cap_ev_connections(const struct cap_evidence *ev) { return ev->n ? ev->n - 1 : 0; }
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
	free(ev->m);
	free(ev->bucket);
	free(ev->path);
	free(ev);
}
