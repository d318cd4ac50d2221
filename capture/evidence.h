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
 * (capture/source.c).
 *
 * Live, the capture tap (cap_ev_tap) spools packets to an unlinked
 * temporary file, each with its frame number. The spool keeps only what
 * may still become evidence: when it outgrows a threshold (4 MiB, then
 * twice what the last compaction kept) it is rewritten without the
 * packets of connections already judged and not marked; it never grows
 * past `spool_max` bytes (--max-spool): packets over it are not spooled,
 * and counted (cap_ev_spool_dropped) so the report says so. A compaction
 * that frees less than half the cap is not tried again before a quarter
 * of the cap more has been offered, or a second of capture time has
 * passed (doubling up to a minute while such retries free little), so the
 * work stays bounded.
 *
 * Output: through the descriptor the run opened at start-up
 * (capture/outfile.c), never by name; hashed (SHA-256) as it is written.
 * A name ending in .pcapng gets pcapng with nanosecond timestamps and a
 * comment "original frame N" on every packet; otherwise pcap (libpcap's
 * writer, microseconds). Either way the evidence renumbers its frames:
 * cap_ev_frame_map() keeps the original frame of each (up to
 * CAP_EV_MAX_MAP packets).
 *
 * Limits: all inputs written must share one link type; inputs of another
 * link type are skipped and counted. IPv4 fragments are matched by the
 * datagram they complete.
 */
#ifndef TLSWHY_CAP_EVIDENCE_H
#define TLSWHY_CAP_EVIDENCE_H

#include <stdint.h>
#include <stdio.h>

#include "capture/cap.h"
#include "dissect/record.h"

#define CAP_EV_MAX_CONNS (1u << 20)
#define CAP_EV_MAX_MAP (1u << 20)          /* evidence packets whose original frame is kept */
#define CAP_EV_SPOOL_SNAP 262144u          /* bytes spooled per packet, at most */
#define CAP_EV_DEFAULT_SPOOL_MIB 128       /* --max-spool */

struct flow_table;

struct cap_evidence;
struct cap_src;

struct cap_evidence *cap_ev_new(const char *path, int all);
/* Called for every reported connection; `findings` is 1 when it has any. */
void cap_ev_mark(struct cap_evidence *ev, const struct hs_record *rec, int findings);
/* Where it is written: a descriptor opened by the caller (not owned). */
void cap_ev_output(struct cap_evidence *ev, int fd);
/* Live capture: spool packets (cap_run.tap), at most spool_max bytes; `ft`
 * tells which connections are still to be judged. Call before the tap. */
int cap_ev_live_begin(struct cap_evidence *ev, int dlt, int snaplen, struct flow_table *ft, uint64_t spool_max,
		      char *err, size_t errlen);
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
int cap_ev_pcapng(const struct cap_evidence *ev);
uint64_t cap_ev_spool_dropped(const struct cap_evidence *ev);   /* live packets over --max-spool */
/* The original frame of each evidence frame (map[i] for frame i + 1);
 * *partial when there were more than CAP_EV_MAX_MAP. */
const uint64_t *cap_ev_frame_map(const struct cap_evidence *ev, uint32_t *n, int *partial);
void cap_ev_free(struct cap_evidence *ev);

#endif
