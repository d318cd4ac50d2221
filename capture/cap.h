/*
 * cap.h - capture sources and the packet loop.
 *
 * Offline: one or more files (pcap or pcapng), "-" for standard input,
 * each a byte source (capture/source.h) opened once, read in order, with
 * one BPF filter applied to each. libpcap reads them with pcap_next_ex,
 * one packet at a time: the reference way, in cap.c. capture/fast.c reads
 * the same files faster, with the same result, when it can (classic pcap
 * by blocks, a reader thread); that is its one entry point.
 * Live: one interface (capture/live.c). Both feed cap_packet(), the one
 * per-packet path: every packet, whatever it is, gets the next frame
 * number; the decoded TCP segments go to the flow table. Time is packet
 * time.
 *
 * Errors that stop the run (a missing, unreadable or unrecognised file, a
 * filter that does not compile) return CAP_ERR_* with a message; a file
 * that ends mid-packet is processed up to the break and flagged truncated.
 */
#ifndef TLSWHY_CAP_H
#define TLSWHY_CAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/decode.h"
#include "dissect/flow.h"

struct cap_src;

enum cap_err {
	CAP_OK = 0,
	CAP_ERR_OPEN,        /* missing, unreadable, or not a capture file */
	CAP_ERR_FILTER,      /* the BPF expression does not compile */
	CAP_ERR_CORRUPT,     /* the file broke off mid-way; what came before was processed */
	CAP_ERR_LIVE,        /* the interface cannot be opened or read */
	CAP_ERR_PRIVS,       /* -Z: the user is unknown or the switch failed */
};

struct cap_input {
	const char *path;        /* file, "-", or the interface name when live */
	int live;                /* 1: `path` is an interface */
	char *link_name;         /* owned */
	int dlt;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_frame;
	int64_t first_ts_us, last_ts_us;
	int truncated;           /* the file ended mid-packet */
	char error[256];         /* why the input could not be read (to its end) */
	char warning[256];
	int link_supported;
	struct cap_src *src;     /* a file's bytes (capture/source.h); NULL live */
};

/* How reading an input ended. */
enum cap_end {
	CAP_END_CLEAN = 0,       /* at the end of the file */
	CAP_END_TRUNCATED,       /* the file ends mid-packet: what came before counts */
	CAP_END_CORRUPT,         /* a record libpcap refuses, or a read error */
};

/* Who fills the blocks a reader thread decodes ahead (capture/fast.c).
 * Only the tests choose; the report is the same whichever does. */
enum cap_fills {
	CAP_FILLS_ANY = 0,       /* the reader thread, and the calling thread when it finds none waiting */
	CAP_FILLS_HERE,          /* the calling thread, every block (the reader thread only starts) */
	CAP_FILLS_READER,        /* the reader thread, every block */
};

/* How files are read. All 0: the fastest way that gives the reference's
 * result. The tests compare the ways (app/main.c: TLSWHY_PCAP_READER,
 * TLSWHY_READER_THREAD, TLSWHY_READER_FILLS). */
struct cap_read_opts {
	int reference;           /* pcap_next_ex on this thread for every file */
	int one_thread;          /* no reader thread */
	int fills;               /* blocks decoded ahead: which thread fills them (enum cap_fills) */
	int show;                /* say on stderr which way read each file */
	uint64_t count;          /* -c: stop once the run has this many packets (all inputs; 0: no limit),
				  * read by the reference loop */
};

struct cap_run {
	uint64_t frame;          /* frames read so far, all inputs */
	int64_t first_ts_us, last_ts_us;
	/* Capture time now: last_ts_us, or later when time passed without
	 * packets (live). With the reader thread decoding ahead
	 * (capture/fast.c), the analysis thread sets it for every segment
	 * while the reader thread counts every frame in the fields around
	 * it: the padding keeps it off their cache lines, which would
	 * otherwise move between the two cores at every packet (perf put
	 * the reader's few counters at a tenth of the CPU samples). */
	char now_pad0[64];
	int64_t now_us;
	char now_pad1[64];
	struct pkt_stats ps;
	struct flow_table *ft;
	struct frag_table *frag; /* IPv4 reassembly: made on demand, freed by cap_frag_release() */
	int live;                /* packets came from an interface */
	int have_kstats;         /* pcap_stats() answered */
	uint64_t kernel_drops;   /* ps_drop: no room in the kernel buffer */
	uint64_t if_drops;       /* ps_ifdrop: dropped by the interface or driver */
	/* Optional: sees every packet first, as captured (capture/evidence.c
	 * spools live packets for -w). Never fails. */
	void (*tap)(void *arg, const struct cap_input *in, int64_t ts_us, const uint8_t *data,
		    uint32_t caplen, uint32_t wirelen);
	void *tap_arg;
	/* Optional (--inner-filter): a BPF program compiled for Ethernet, run
	 * on the decapsulated packet of every VXLAN/GENEVE packet (an inner IP
	 * packet gets a blank Ethernet header first); a packet it rejects is
	 * counted as read, then left out. Packets not tunnelled pass. */
	const struct bpf_program *inner_filter;
	uint8_t *inner_buf;      /* CAP_INNER_BUF bytes, for that header */
	uint64_t tunnelled;      /* packets that came through a tunnel */
	uint64_t inner_rejected; /* of which the inner filter left out */
	/* Optional: a pcapng Decryption Secrets Block of an input (type and
	 * data as written), in file order with the packets, on the thread
	 * that analyses them. NULL: secrets blocks are skipped. */
	void (*secrets)(void *arg, const struct cap_input *in, uint32_t type, const uint8_t *data, uint32_t len);
	void *secrets_arg;
};
#define CAP_INNER_BUF (262144 + 14)

/* Ends IPv4 reassembly for an input (fragments do not span inputs); counts
 * datagrams still incomplete as dropped. */
void cap_frag_release(struct cap_run *run);
/* Compiles `filter` for the decapsulated packets (--inner-filter) into
 * *prog; 0, or -1 with `err` ("inner filter 'F': why"). */
struct bpf_program;
int cap_inner_filter_compile(const char *filter, struct bpf_program *prog, char *err, size_t errlen);
/* Whether the capture file `path` (a file, not a pipe) holds VXLAN or
 * GENEVE packets among its first `max` packets: 1 yes, 0 no or unknown. */
int cap_file_has_tunnels(const char *path, uint64_t max);

/* Lets start-up refuse a bad input before any report is written: libpcap
 * reads the file's headers from a duplicate of its source and the filter
 * is compiled for its link type. Inputs that can be read only once
 * (standard input, a pipe) are checked as they are read. */
enum cap_err cap_check_file(struct cap_input *in, const char *filter, char *err, size_t errlen);
/* Compiles a BPF filter and sets it on an open capture (cap.c and live.c;
 * `mask`: the interface's netmask, or PCAP_NETMASK_UNKNOWN). On failure
 * `err` gets "filter 'F': why", and `bad`, when not NULL, gets why a
 * filter that does not compile is bad. The caller still closes pc. */
struct pcap;
enum cap_err cap_set_filter(struct pcap *pc, const char *filter, uint32_t mask, char *err, size_t errlen, char *bad,
			    size_t badlen);
/* Reads one input (in->src) through to its end. `err` gets one line on failure. */
enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   const struct cap_read_opts *ro, char *err, size_t errlen);
/* ---- live capture (live.c) ---- */

#define CAP_DEFAULT_SNAPLEN 262144
#define CAP_DEFAULT_BUFFER_KIB 16384       /* -B: libpcap's 2 MiB drops bursts in immediate mode */
#define CAP_TICK_US         (100LL * 1000)   /* time moves at least this often without packets */

struct cap_live;

struct cap_live_opts {
	const char *iface;       /* "any" for all */
	int snaplen;             /* -s; 0 = CAP_DEFAULT_SNAPLEN */
	int buffer_kib;          /* -B; 0 = libpcap's default */
	int promisc;             /* 1 unless -p */
	int immediate;           /* 1: packets are handed over as they arrive */
	uint64_t count;          /* -c; 0 = no limit */
	int64_t duration_us;     /* --duration; 0 = no limit */
	int64_t tick_us;
	int64_t status_us;       /* 0 = no status calls */
	void (*status)(void *arg, const struct cap_run *run);   /* kernel drops fresh in run */
	void *arg;
	/* SIGHUP: called from the loop (not the handler) between packets, to
	 * reopen the output after a log rotation; NULL: SIGHUP is ignored */
	void (*reopen)(void *arg);
	void *reopen_arg;
};

void cap_live_opts_default(struct cap_live_opts *o);
/* -D: one interface a line, tcpdump style. -1 with `err` when none. */
int cap_list_interfaces(FILE *out, char *err, size_t errlen);
/* pcap_create, options, pcap_activate, filter. A warning from pcap_activate
 * lands in in->warning; `in` becomes the interface's input. */
enum cap_err cap_live_open(struct cap_live **lv, struct cap_input *in, const struct cap_live_opts *o,
			   const char *filter, char *err, size_t errlen);
/* -Z: initgroups, setgid, setuid to `user`, then checks root cannot come
 * back, then PR_SET_NO_NEW_PRIVS. "root" (uid 0) keeps the privileges. The
 * `ngive` files in `give` (outputs opened only later, like the probe's -w
 * capture) are created (truncated) first and given to the user, so it can
 * write them. */
enum cap_err cap_drop_privs(const char *user, const char *const *give, int ngive, char *err, size_t errlen);
/* Before cap_drop_privs: 1 when it would switch users (the caller puts its
 * outputs in place first), 0 when it would not, -1 with `err` when it
 * would fail (no such user, not root). */
int cap_privs_check(const char *user, char *err, size_t errlen);
/* Installed with file capabilities (setcap cap_net_raw,cap_net_admin+ep)
 * rather than setuid: once the capture is open, every capability goes
 * (permitted, effective, inheritable, ambient), then PR_SET_NO_NEW_PRIVS.
 * 1 when some were held and dropped, 0 when none were, -1 with `err`. */
int cap_drop_caps(char *err, size_t errlen);
/* The loop: until SIGINT/SIGTERM, -c or --duration. `end_us` gets the
 * capture time it stopped at. Installs the signal handlers; SIGHUP calls
 * o->reopen between packets. */
enum cap_err cap_live_run(struct cap_live *lv, struct cap_run *run, struct cap_input *in,
			  const struct cap_live_opts *o, int64_t *end_us, char *err, size_t errlen);
/* Refreshes run->kernel_drops / if_drops from pcap_stats(). */
void cap_live_stats(struct cap_live *lv, struct cap_run *run);
void cap_live_close(struct cap_live *lv);

/* The per-packet path, shared by files and interfaces: counts the frame,
 * decodes it and hands a TCP segment to the flow table. Never fails. */
void cap_packet(struct cap_run *run, struct cap_input *in, int64_t ts_us, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen);
/* The same for a packet of another link type than the input's first
 * (pcapng: each interface has its own). */
void cap_packet_link(struct cap_run *run, struct cap_input *in, int dlt, int64_t ts_us, const uint8_t *data,
		     uint32_t caplen, uint32_t wirelen);

#endif
