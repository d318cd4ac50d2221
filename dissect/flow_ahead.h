/*
 * flow_ahead.h - the flow table for a caller that sees segments coming:
 * capture/fast.c's reader thread decodes a block ahead and hashes each
 * segment, and the analysis thread warms the table a few segments ahead.
 * Speed only: flow_packet() (flow.h) gives the same result for every
 * segment; tests/reader.sh and tests/threads.sh compare.
 */
#ifndef TLSWHY_FLOW_AHEAD_H
#define TLSWHY_FLOW_AHEAD_H

#include "dissect/flow.h"

/* The table's hash of a segment (both directions alike). The key is fixed
 * when the table is made, so another thread may compute it. */
uint32_t flow_hash_pkt(const struct flow_table *ft, const struct pkt *p);
/* flow_packet() with the hash flow_hash_pkt() gave. */
void flow_packet_hashed(struct flow_table *ft, const struct pkt *p, uint32_t hash);
/* Hints that change nothing: start loading the segment's hash slot
 * FLOW_PREFETCH_SLOT segments ahead, and the first flow in that slot
 * FLOW_PREFETCH_FLOW segments ahead. */
#define FLOW_PREFETCH_SLOT 8
#define FLOW_PREFETCH_FLOW 4
void flow_prefetch_slot(const struct flow_table *ft, uint32_t hash);
void flow_prefetch_flow(const struct flow_table *ft, uint32_t hash);

#endif
