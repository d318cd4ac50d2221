/*
 * cap.h - capture sources and the packet loop.
 *
 * Offline for now: one or more files (pcap or pcapng, through libpcap),
 * "-" for standard input, read in order, with one BPF filter applied to
 * each. Every packet, whatever it is, gets the next frame number; the
 * decoded TCP segments go to the flow table. Time is packet time.
 *
 * Errors that stop the run (a missing, unreadable or unrecognised file, a
 * filter that does not compile) return CAP_ERR_* with a message; a file
 * that ends mid-packet is processed up to the break and flagged truncated.
 */
#ifndef TLSWHY_CAP_H
#define TLSWHY_CAP_H

#include <stdint.h>

#include "dissect/decode.h"
#include "dissect/flow.h"

enum cap_err {
	CAP_OK = 0,
	CAP_ERR_OPEN,        /* missing, unreadable, or not a capture file */
	CAP_ERR_FILTER,      /* the BPF expression does not compile */
	CAP_ERR_LINKTYPE,    /* (reserved) */
};

struct cap_input {
	const char *path;
	char *link_name;         /* owned */
	int dlt;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_frame;
	int64_t first_ts_us, last_ts_us;
	int truncated;           /* the file ended mid-packet */
	char warning[256];
	int link_supported;
};

struct cap_run {
	uint64_t frame;          /* frames read so far, all inputs */
	int64_t first_ts_us, last_ts_us;
	struct pkt_stats ps;
	struct flow_table *ft;
};

const char *cap_strerror(enum cap_err e);
/* Reads one input through to its end. `err` gets one line on failure. */
enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   char *err, size_t errlen);

#endif
