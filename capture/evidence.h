/*
 * evidence.h - the evidence capture (-w FILE): only the packets of the
 * connections that have findings (every reported connection with --all),
 * in capture order, with the original link type and snap length, so a
 * ticket gets kilobytes instead of gigabytes.
 *
 * Design: a second pass. While the capture is analyzed, each retired
 * connection that qualifies is marked by its 5-tuple and frame range
 * (about 64 bytes per connection, bounded by CAP_EV_MAX_CONNS). At the end the
 * inputs are read again with the same filter, so frame numbers line up,
 * and every packet whose 5-tuple and frame fall in a marked range is
 * written. Regular files are read through a duplicate of the descriptor
 * their source keeps (never opened again by name); standard input and pipes
 * were copied to an unlinked temporary file as they were read
 * (capture/source.c); a live capture is spooled through the capture tap
 * (cap_ev_tap) to a temporary pcap. Memory does not grow with the capture.
 *
 * Limits: all inputs written must share one link type (libpcap writes
 * pcap, not pcapng); inputs of another link type are skipped and counted.
 * IPv4 fragments are matched by the datagram they complete.
 */
#ifndef TLSWHY_CAP_EVIDENCE_H
#define TLSWHY_CAP_EVIDENCE_H

#include <stdint.h>
#include <stdio.h>

#include "capture/cap.h"
#include "dissect/record.h"

#define CAP_EV_MAX_CONNS (1u << 20)

struct cap_evidence;
struct cap_src;

struct cap_evidence *cap_ev_new(const char *path, int all);
/* Called for every reported connection; `findings` is 1 when it has any. */
void cap_ev_mark(struct cap_evidence *ev, const struct hs_record *rec, int findings);
/* Live capture: spool every packet (cap_run.tap). Call cap_ev_live_begin first. */
int cap_ev_live_begin(struct cap_evidence *ev, int dlt, int snaplen, char *err, size_t errlen);
void cap_ev_tap(void *arg, const struct cap_input *in, int64_t ts_us, const uint8_t *data, uint32_t caplen,
	    uint32_t wirelen);
/* The second pass: writes the file. 0, or -1 with `err`. */
int cap_ev_write(struct cap_evidence *ev, int nin, struct cap_src *const *src,
	     const char *filter, char *err, size_t errlen);
/* After cap_ev_write: what was written. */
const char *cap_ev_path(const struct cap_evidence *ev);
const char *cap_ev_sha256(const struct cap_evidence *ev);    /* "" when not written */
uint64_t cap_ev_packets(const struct cap_evidence *ev);
uint64_t cap_ev_connections(const struct cap_evidence *ev);   /* marked */
uint64_t cap_ev_bytes(const struct cap_evidence *ev);         /* file size */
int cap_ev_written(const struct cap_evidence *ev);
uint64_t cap_ev_not_kept(const struct cap_evidence *ev);        /* connections over CAP_EV_MAX_CONNS */
uint64_t cap_ev_inputs_skipped(const struct cap_evidence *ev);  /* another link type, or no second pass */
void cap_ev_free(struct cap_evidence *ev);

#endif
