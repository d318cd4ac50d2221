/*
 * flow.h - bidirectional flow table and per-direction TCP reassembly.
 *
 * flow_packet() takes each decoded TCP segment. A flow is created only by a
 * SYN or by a segment carrying payload (bare ACKs, FINs and RSTs of unknown
 * flows are counted, not tracked). Each flow owns one struct hs_record and
 * one struct tls_conn; when the flow is retired (closed and lingered,
 * idle, evicted, or at the end of the capture) its record is finished and
 * handed to the `done` callback, which takes ownership of it.
 *
 * Caps (all counted, all reported; see struct flow_limits):
 *   max_flows     flows tracked at once; the least recently active is
 *                 evicted (its record is flagged AN_EVICTED)
 *   max_segments  out-of-order segments queued per direction
 *   max_bytes     out-of-order bytes queued per direction
 * A direction stops being buffered once its TLS handshake is over.
 */
#ifndef TLSWHY_FLOW_H
#define TLSWHY_FLOW_H

#include <stdint.h>

#include "dissect/decode.h"
#include "dissect/record.h"

#define FLOW_DEFAULT_MAX_FLOWS     262144u
#define FLOW_DEFAULT_MAX_SEGMENTS  256u
#define FLOW_DEFAULT_MAX_BYTES     (1024u * 1024)
#define FLOW_DEFAULT_IDLE_US       (300LL * 1000000)   /* retire a silent flow */
#define FLOW_DEFAULT_LINGER_US     (2LL * 1000000)     /* keep a closed flow for late packets */

struct flow_limits {
	uint32_t max_flows;
	uint32_t max_segments;
	uint32_t max_bytes;
	int64_t idle_us;
	int64_t linger_us;
};

struct flow_stats {
	uint64_t flows_created;
	uint64_t flows_evicted;
	uint64_t flows_active_max;
	uint64_t untracked_segments;   /* ACK/FIN/RST for no known flow */
	uint64_t cap_segments_hit;
	uint64_t cap_bytes_hit;
	uint64_t ooo_bytes_max;        /* peak out-of-order bytes held, all flows */
};

typedef void flow_done_fn(struct hs_record *r, void *arg);

struct flow_table;

struct flow_table *flow_table_new(const struct flow_limits *lim, flow_done_fn *done, void *arg);
/* Retires every remaining flow (in order of first packet) and frees the table. */
void flow_table_free(struct flow_table *ft, int64_t capture_end_us);
void flow_packet(struct flow_table *ft, const struct pkt *p);
const struct flow_stats *flow_table_stats(const struct flow_table *ft);
uint64_t flow_table_active(const struct flow_table *ft);
void flow_limits_default(struct flow_limits *lim);

/* Wrap-safe TCP sequence comparisons (RFC 1982 serial arithmetic). */
static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif
