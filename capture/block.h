/*
 * block.h - reading a classic pcap file by blocks of whole records, the
 * fast path of capture/cap.c (see block.c for the format and the rules).
 *
 * The reader (cap_blk_fill) reads big blocks from the stream and finds
 * where the last whole record ends; the walker (cap_blk_rec) then takes
 * the records of a block in place, one after the other. Neither keeps any
 * state but the block, so cap.c can run them on two threads and
 * fuzz/fuzz_reader.c on a memory stream against libpcap.
 */
#ifndef TLSWHY_BLOCK_H
#define TLSWHY_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/cap.h"

#define CAP_BLK_HDR     24u                        /* the file header */
#define CAP_BLK_RECHDR  16u                        /* a record header */
#define CAP_BLK_MAXCAP  262144u                    /* libpcap 1.10's max_snaplen_for_dlt for the link types we decode */
#define CAP_BLK_REC_MAX (CAP_BLK_RECHDR + CAP_BLK_MAXCAP)   /* the largest record libpcap accepts */
#define CAP_BLK_WHY     200u                       /* an end's message (libpcap's are under 100 bytes) */
#ifndef CAP_BLK_BYTES                              /* -DCAP_BLK_BYTES=... to measure other sizes */
#define CAP_BLK_BYTES   (1u << 19)                 /* a block: bytes read at once (>= CAP_BLK_REC_MAX) */
#endif

struct cap_blk_src {
	struct cap_src *from;    /* the input past its file header (capture/source.h), or NULL: */
	FILE *fp;                /* a stream positioned at the first record (fuzz/fuzz_reader.c) */
	uint32_t snapshot;       /* pcap_snapshot(), > 0 (may be over CAP_BLK_MAXCAP) */
	int nsec;                /* the file has nanoseconds: scaled down to microseconds */
	size_t chunk;            /* bytes one fill reads at most; 0: as many as fit (the
	                          * fuzz target reads in small pieces: the block then needs
	                          * CAP_BLK_REC_MAX - 1 + chunk bytes) */
};

struct cap_blk {
	uint8_t *buf;            /* owned by whoever made the block; cap bytes */
	size_t cap;              /* >= CAP_BLK_REC_MAX (+ chunk - 1) */
	size_t used;             /* bytes in buf */
	size_t end;              /* buf[0, end) holds whole records; what follows up to used is the next one, cut */
	int last;                /* the file ends in this block: `how` says how */
	enum cap_end how;        /* CLEAN (or not the last block); else `why` says what went wrong */
	char why[CAP_BLK_WHY];   /* libpcap 1.10.3's message for the same file, word for word */
};

/* The record as pcap_next_ex would give it (microsecond precision asked). */
struct cap_blk_rec {
	int64_t ts_us;
	uint32_t caplen;         /* at most the snapshot length */
	uint32_t len;            /* the length on the wire, as written */
	const uint8_t *data;     /* in the block */
};

/* 1 when a file whose first 24 bytes are `head` can be read by blocks:
 * classic pcap in host byte order (microseconds or nanoseconds), version
 * 2.4, no FCS bits in the link type; `dlt_supported`: pkt_dlt_supported()
 * of its link type; `snapshot`: pcap_snapshot(). */
int cap_blk_eligible(const uint8_t *head, int dlt_supported, int snapshot);
/* 1 when `head` is the nanosecond variant. */
int cap_blk_nsec(const uint8_t *head);
/* Fills `b`: first the cut record that followed prev->end in `prev` (NULL
 * for the first block; `prev` may be `b`), then as much of the stream as
 * fits. Sets end, and last/how/why when the stream ended or a record is
 * one libpcap refuses. Never fails otherwise. */
void cap_blk_fill(const struct cap_blk_src *s, struct cap_blk *b, const struct cap_blk *prev);

/* The record at *off (< b->end), which moves on to the next one. */
static inline void cap_blk_rec(const struct cap_blk_src *s, const struct cap_blk *b, size_t *off,
			       struct cap_blk_rec *r)
{
	const uint8_t *h = b->buf + *off;
	int32_t sec, frac;
	uint32_t caplen, len;
	/* host byte order; the seconds and fraction are signed, as in libpcap 1.10.3 */
	memcpy(&sec, h, 4);
	memcpy(&frac, h + 4, 4);
	memcpy(&caplen, h + 8, 4);
	memcpy(&len, h + 12, 4);
	if (s->nsec)
		frac /= 1000;
	r->ts_us = (int64_t)sec * 1000000 + frac;
	r->caplen = caplen > s->snapshot ? s->snapshot : caplen;
	r->len = len;
	r->data = h + CAP_BLK_RECHDR;
	*off += CAP_BLK_RECHDR + (size_t)caplen;
}

#endif
