/*
 * run.h - what the report says about the run besides its connections: the
 * inputs read, the packet counts, the evidence file written. Plain data,
 * filled by the composition root (app/) from what capture/ measured, so
 * report/ renders it without knowing how bytes were read or written.
 * Strings are borrowed: they live until rpt_end() returns.
 */
#ifndef TLSWHY_REPORT_RUN_H
#define TLSWHY_REPORT_RUN_H

#include <stdint.h>

#include "dissect/decode.h"

struct rpt_input {
	const char *path;        /* file, "-", or the interface name when live */
	int live;                /* 1: `path` is an interface */
	const char *link_name;   /* NULL: unknown */
	int link_supported;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_frame;
	int truncated;           /* the file ended mid-packet */
	const char *warning;     /* "" when none */
	const char *error;       /* why the input could not be read to its end; "" when none */
	const char *sha256;      /* 64 hex digits, "" when not hashed */
	const char *hash_note;   /* why it is not hashed, or NULL */
};

struct rpt_run {
	struct pkt_stats ps;
	int64_t first_ts_us, last_ts_us;
	int live;                /* packets came from an interface */
	int have_kstats;         /* the kernel's drop counts are known */
	uint64_t kernel_drops;
	uint64_t if_drops;
};

/* -w FILE once written. */
struct rpt_evidence {
	const char *path;
	const char *sha256;
	uint64_t bytes;
	uint64_t packets;
	uint64_t connections;    /* marked */
	int all;                 /* every reported connection, not only those with findings */
	uint64_t connections_not_kept;
	uint64_t inputs_skipped;
	int pcapng;              /* pcapng with "original frame N" comments; else pcap */
	const uint64_t *map;     /* map[i]: the original frame of evidence frame i + 1 */
	uint32_t nmap;
	int map_partial;         /* the map stops before the last packet */
	int live;                /* the packets came through the live spool */
	uint64_t spool_dropped;  /* live: packets over the spool cap, never evidence */
	uint64_t spool_max_mib;  /* --max-spool */
};

#endif
