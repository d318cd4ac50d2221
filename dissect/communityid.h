/*
 * communityid.h - Community ID v1 of a flow (corelight/community-id-spec):
 * the flow hash Zeek, Suricata, Elastic and Arkime print, so a tlswhy
 * connection can be joined with their records in a SIEM.
 *
 *   "1:" base64( SHA-1( seed(2, big-endian) | addr A | addr B | proto(1) | 0(1)
 *                       [| port A(2) | port B(2)] ) )
 *
 * with the endpoints ordered so that (A, port A) is the smaller one (address
 * bytes first, then the port), which makes both directions hash alike.
 * Ports are hashed for protocols that have them (TCP 6, UDP 17, SCTP 132);
 * ICMP's type/code mapping is not needed here (tlswhy tracks TCP) and such
 * protocols are hashed without ports.
 */
#ifndef TLSWHY_COMMUNITYID_H
#define TLSWHY_COMMUNITYID_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/record.h"

#define FP_CID_LEN 32   /* "1:" + 28 base64 characters + NUL, rounded up */

/* Writes the Community ID of the flow between two endpoints (struct
 * hs_addr: family 4 or 6, address bytes, port) over IP protocol `proto`
 * into out (at least FP_CID_LEN bytes). Returns out, or NULL when the
 * families differ or are unknown (out is then ""). */
char *fp_community_id(const struct hs_addr *a, const struct hs_addr *b, uint8_t proto, uint16_t seed,
		      char *out, size_t n);
/* SHA-1 of p[0..n) into md by the CPU's SHA instructions, for n <= 55 (one
 * block): 1; 0 when this CPU or build has none, or n is over (the caller
 * then asks libcrypto). Exported for its test. */
int fp_sha1_short(const uint8_t *p, size_t n, uint8_t md[20]);
/* 0: fp_sha1_short() declines whatever the CPU has, so every hash goes
 * through libcrypto (for the tests of that path); 1: as the CPU allows. */
void fp_sha1_cpu(int on);
/* Frees this thread's digest context (fp_memo_free() calls it). */
void fp_cid_free(void);

#endif
