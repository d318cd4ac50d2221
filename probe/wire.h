/*
 * wire.h - the packets of one probe connection, rebuilt from what the
 * socket saw, for the pipeline and for -w.
 *
 * A probe connects with a plain socket (no root), so it sees bytes and
 * events, not packets. probe_wire_emit() turns a conversation (connect,
 * refused, bytes each way, FIN or RST, with their times) into raw IP
 * packets (pcap LINKTYPE_RAW): the real addresses, ports, payload bytes and
 * times; TCP sequence numbers, IP ids and windows are synthesized (the
 * kernel's are not visible to the socket), checksums computed.
 */
#ifndef TLSWHY_PROBE_WIRE_H
#define TLSWHY_PROBE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_WIRE_MAX_EVENTS 512
#define PROBE_WIRE_MAX_BYTES  (256u * 1024)   /* per direction */

struct probe_ep {
	int family;            /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

enum probe_wire_ev {
	PW_SYN = 0,            /* client: connect() started */
	PW_SYNACK,             /* server accepted (connect() succeeded) */
	PW_REFUSED,            /* server answered the SYN with RST */
	PW_DATA,               /* bytes; dir 0 client -> server */
	PW_FIN,
	PW_RST,
};

struct probe_wire_event {
	int64_t ts_us;
	uint8_t kind;          /* enum probe_wire_ev */
	uint8_t dir;
	uint32_t off, len;     /* PW_DATA: bytes [off, off+len) of the direction's stream */
};

struct probe_conv {
	struct probe_ep cli, srv;
	struct probe_wire_event ev[PROBE_WIRE_MAX_EVENTS];
	size_t nev;
	uint8_t *bytes[2];     /* each PROBE_WIRE_MAX_BYTES, owned */
	uint32_t nbytes[2];
	int clipped;           /* an event or bytes did not fit (counted, not kept) */
};

int probe_conv_init(struct probe_conv *c);
void probe_conv_free(struct probe_conv *c);
/* Records an event; PW_DATA copies the bytes (what does not fit is dropped
 * and `clipped` set). */
void probe_conv_add(struct probe_conv *c, int64_t ts_us, enum probe_wire_ev kind, int dir,
		    const uint8_t *data, size_t len);

typedef void probe_wire_sink(void *arg, int64_t ts_us, const uint8_t *pkt, uint32_t len);
/* Calls `sink` for each packet of the conversation, in order. `isn` seeds
 * the synthesized sequence numbers. */
void probe_wire_emit(const struct probe_conv *c, uint32_t isn, probe_wire_sink *sink, void *arg);

#endif
