/*
 * probe.h - `tlswhy probe HOST[:PORT]`: ask a target directly, with the
 * ClientHello an AWS load balancer sends, and pin the cause of a failure
 * by changing one thing at a time.
 *
 * The probe is another source of bytes for the same pipeline: each of its
 * connections is rebuilt as packets (probe/wire.c), fed to capture/cap.c's
 * cap_packet() and so through the dissector, the handshake record, the
 * rules and the report, and optionally written as a pcap (-w).
 *
 * Security: connects only to the one address the name resolves to (first
 * answer), never to ranges; at most PROBE_MAX_CONNS connections per run,
 * PROBE_SPACING_MS apart; sends a PROXY header (when asked or as a
 * variant), ClientHellos and a user_canceled alert, never application
 * data; plain sockets, no root needed (started as root, it runs as -Z
 * USER, nobody by default).
 */
#ifndef TLSWHY_PROBE_H
#define TLSWHY_PROBE_H

#define PROBE_MAX_CONNS     24      /* connections per run, all variants included */
#define PROBE_SPACING_MS    200     /* pause between two connections */
#define PROBE_TIMEOUT_MS    10000   /* the ALB's handshake timer (and connect timer) */
#define PROBE_QUIET_MS      300     /* TLS 1.3 flight or non-TLS answer: done after this silence */

/* `tlswhy probe ...`: argv[0] is "probe". Returns the exit status:
 * 0 healthy or inconclusive, 1 failure proven, 2 usage or input error. */
int probe_cli(int argc, char **argv);

#endif
