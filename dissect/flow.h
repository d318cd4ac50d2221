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
 *   max_total     out-of-order bytes queued in all flows together (so memory
 *                 does not grow with max_flows x max_bytes); counted as a
 *                 max_bytes hit of the flow that asked
 * A direction stops being buffered once its TLS handshake is over.
 *
 * Early reporting (live capture; on when hs_timeout_us > 0): a record is
 * handed to `done` as soon as the handshake's outcome is known, instead of
 * when the flow is retired:
 *   - the connection closed (FIN both ways, or an RST): at once;
 *   - complete, an alert, a FIN from one side, a non-TLS answer, or a
 *     client that never spoke TLS: after settle_us, unless it closes first
 *     (so the close that follows an alert is part of the record);
 *   - nothing of that, and silent for hs_timeout_us: on the silence.
 * The flow then stays as a small "tombstone" (no record, no buffers) that
 * absorbs the connection's later packets until it closes or goes idle, so
 * they do not start a new flow. Time still only moves with packets, or
 * with flow_tick() when the caller knows time passed without any. When
 * the table is freed, flows still waiting for their outcome are cut: a
 * stage of no_client_hello or client_hello_unanswered becomes
 * capture_ended (the timeout had not run out).
 */
#ifndef TLSWHY_FLOW_H
#define TLSWHY_FLOW_H

#include <stdint.h>

#include "dissect/decode.h"
#include "dissect/record.h"
#include "dissect/tls.h"

#define FLOW_DEFAULT_MAX_FLOWS     65536u     /* about 1.9 KiB each while idle: ~120 MB at worst */
#define FLOW_DEFAULT_MAX_SEGMENTS  256u
#define FLOW_DEFAULT_MAX_BYTES     (1024u * 1024)
#define FLOW_DEFAULT_MAX_TOTAL     (256ull * 1024 * 1024)  /* out-of-order bytes, all flows together */
#define FLOW_DEFAULT_IDLE_US       (300LL * 1000000)   /* retire a silent flow */
#define FLOW_DEFAULT_LINGER_US     (2LL * 1000000)     /* keep a closed flow for late packets */
#define FLOW_DEFAULT_HS_TIMEOUT_US (10LL * 1000000)    /* early reporting: silence that ends a handshake (the ALB's) */
#define FLOW_DEFAULT_SETTLE_US     (300LL * 1000)      /* early reporting: wait for the close after an outcome */

struct flow_limits {
	uint32_t max_flows;
	uint32_t max_segments;
	uint32_t max_bytes;
	uint64_t max_total;      /* out-of-order bytes queued in all flows together; hitting it
				  * is a cap_bytes hit for the flow that asked (docs/robustness.md) */
	int64_t idle_us;
	int64_t linger_us;
	int64_t hs_timeout_us;   /* 0 (default): report at retirement; > 0: early reporting */
	int64_t settle_us;
	struct tls_limits tls;   /* each connection's TLS decoder (--max-handshake) */
	struct x509_cache *certs;   /* the run's certificate cache (not owned); NULL: none */
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
struct keylog;

struct flow_table *flow_table_new(const struct flow_limits *lim, flow_done_fn *done, void *arg);
/* Retires every remaining flow (in order of first packet) and frees the table. */
void flow_table_free(struct flow_table *ft, int64_t capture_end_us);
/* One TCP segment (or anything flow_packet ignores) into the table. The
 * fast reader's variant, with the hash computed on another thread and
 * prefetch hints, is in dissect/flow_ahead.h. */
void flow_packet(struct flow_table *ft, const struct pkt *p);
/* Time passed without packets (live capture): expire and report what is due
 * at `now_us` (capture time). */
void flow_tick(struct flow_table *ft, int64_t now_us);
const struct flow_stats *flow_table_stats(const struct flow_table *ft);
uint64_t flow_table_active(const struct flow_table *ft);   /* flows held, tombstones included */
/* Keys that arrived with the packets (a pcapng Decryption Secrets Block):
 * connections whose ServerHello comes later decrypt with `kl`. */
void flow_table_set_keylog(struct flow_table *ft, const struct keylog *kl);
/* 1 when the table holds a flow for p's endpoints that is not reported yet
 * (the live evidence spool keeps such packets). */
int flow_unreported(struct flow_table *ft, const struct pkt *p);
void flow_limits_default(struct flow_limits *lim);

/* Wrap-safe TCP sequence comparisons (RFC 1982 serial arithmetic). */
static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif
