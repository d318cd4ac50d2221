/*
 * pcapng.h - a streaming pcapng reader (capture/pcapng.c) for the files
 * libpcap 1.10 refuses: interfaces of different link types in one file
 * (dumpcap -i eth0 -i any writes Ethernet, Linux SLL and SLL2 side by
 * side), and the Decryption Secrets Blocks libpcap skips. Internal to
 * capture/.
 *
 * The reader pulls bytes through a callback (the input's source, or memory
 * in the fuzz target) and hands out one event at a time: an interface, a
 * packet (with its interface's link type), a secrets block, or the end.
 * It never seeks and reads each byte once, so a pipe or standard input
 * works as a file does.
 */
#ifndef TLSWHY_CAP_PCAPNG_H
#define TLSWHY_CAP_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "capture/cap.h"

#define CAP_NG_SHB_TYPE    0x0A0D0D0Au
#define CAP_NG_MAX_BLOCK   (16u << 20)   /* libpcap's INITIAL_MAX_BLOCKSIZE: bigger is refused */
#define CAP_NG_MAX_SHB     (1u << 20)    /* libpcap's BT_SHB_INSANE_MAX */
#define CAP_NG_MAX_IFACES  65536u        /* interfaces per section */
#define CAP_NG_WHY         200u

/* Reads up to n bytes into buf: fewer at the end or on an error (*err = errno). */
typedef size_t cap_ng_read_fn(void *arg, uint8_t *buf, size_t n, int *err);

enum cap_ng_ev {
	CAP_NG_PACKET = 1,   /* ev->pkt */
	CAP_NG_IFACE,        /* ev->iface: a new interface (its index in the section, link type, snapshot) */
	CAP_NG_SECRETS,      /* ev->secrets: a Decryption Secrets Block */
	CAP_NG_END,          /* ev->end (and ev->why unless clean); ev->open: before any interface */
};

struct cap_ng_iface {
	uint32_t index;          /* in its section */
	uint32_t seq;            /* interfaces seen in the whole file before it */
	int dlt;                 /* DLT_ value (libpcap's mapping of the LINKTYPE_) */
	uint16_t linktype;       /* as written */
	uint32_t snapshot;       /* libpcap's adjusted snapshot length */
	int64_t tsoffset;        /* seconds */
	uint64_t tsresol;        /* units a second */
	int binary;              /* tsresol is a power of 2 */
};

struct cap_ng_event {
	enum cap_ng_ev kind;
	struct {
		int64_t ts_us;
		uint32_t caplen, len;
		const uint8_t *data;     /* valid until the next call */
		const struct cap_ng_iface *iface;
	} pkt;
	const struct cap_ng_iface *iface;
	struct {
		uint32_t type;
		const uint8_t *data;     /* valid until the next call */
		uint32_t len;
	} secrets;
	enum cap_end end;
	int open;                /* the end came before the first interface: libpcap would not have opened the file */
	char why[CAP_NG_WHY];
};

struct cap_ng;

/* 1 when `head` (len bytes of the input's start) is a pcapng Section Header Block. */
int cap_ng_is(const uint8_t *head, size_t len);
/* A reader on an input whose first `head_len` bytes are `head` (already
 * read; the rest comes from rd). NULL without memory. */
struct cap_ng *cap_ng_new(const uint8_t *head, size_t head_len, cap_ng_read_fn *rd, void *arg);
/* The next event. After CAP_NG_END every call returns it again. */
void cap_ng_next(struct cap_ng *ng, struct cap_ng_event *ev);
void cap_ng_free(struct cap_ng *ng);

#endif
