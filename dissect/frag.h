/*
 * frag.h - bounded IPv4 fragment reassembly (RFC 791, RFC 815).
 *
 * pkt_decode_frag() hands every IPv4 fragment here; when the last hole of
 * a datagram is filled, frag_add() returns the whole IP payload and the
 * decoder carries on with it as if it had arrived in one piece. The
 * returned bytes belong to the table and stay valid until the next
 * frag_add() or frag_table_free(): long enough for one pass through the
 * flow table, which copies what it keeps.
 *
 * Caps (named constants, all counted in struct frag_stats):
 *   FRAG_MAX_DATAGRAMS   datagrams in reassembly at once; the oldest is
 *                        dropped to make room
 *   FRAG_MAX_BYTES       bytes buffered across all datagrams
 *   FRAG_MAX_PIECES      fragments per datagram
 *   FRAG_TIMEOUT_US      packet time a datagram may wait for its last
 *                        fragment (Linux ipfrag_time: 30 s)
 * A datagram is dropped, never guessed, when its fragments overlap with
 * different bytes, claim more than 65535 bytes, were cut by the snaplen,
 * or hit a cap.
 */
#ifndef TLSWHY_FRAG_H
#define TLSWHY_FRAG_H

#include <stdint.h>

#define FRAG_MAX_DATAGRAMS 1024u
#define FRAG_MAX_BYTES     (8u * 1024 * 1024)
#define FRAG_MAX_PIECES    256u
#define FRAG_TIMEOUT_US    (30LL * 1000000)

struct frag_stats {
	uint64_t fragments;          /* IPv4 fragments seen */
	uint64_t reassembled;        /* datagrams completed */
	uint64_t dropped;            /* datagrams given up (timeout, caps, conflicts, truncation) */
	uint64_t timeouts;           /* of which: timed out */
	uint64_t conflicts;          /* of which: overlapping fragments with different bytes */
};

/* One fragment: its datagram key, where it goes, and its bytes. */
struct frag_in {
	uint8_t src[4], dst[4];
	uint16_t id;
	uint8_t proto;
	uint16_t offset;             /* in bytes (the header's field times 8) */
	uint8_t more;                /* MF */
	const uint8_t *data;
	uint32_t len;                /* bytes the header says this fragment carries */
	uint32_t have;               /* bytes captured (< len: cut by the snaplen) */
	int64_t ts_us;
};

struct frag_table;

struct frag_table *frag_table_new(void);
void frag_table_free(struct frag_table *t);
/* Gives up every datagram still incomplete (counted as dropped). */
void frag_flush(struct frag_table *t);
/*
 * Adds one fragment. Returns the reassembled IP payload (and its length in
 * *len) when this fragment completed its datagram, else NULL.
 */
const uint8_t *frag_add(struct frag_table *t, const struct frag_in *f, uint32_t *len);
const struct frag_stats *frag_table_stats(const struct frag_table *t);

#endif
