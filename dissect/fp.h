/*
 * fp.h - TLS client and server fingerprints: JA3, JA3S (salesforce), JA4
 * and its raw form JA4_r (FoxIO), computed from the handshake record.
 *
 * JA4S and JA4X are deliberately absent: their licence (FoxIO License 1.1)
 * does not allow use in a product. JA4 itself is BSD-3-Clause.
 *
 * Every function fills caller buffers and returns an enum fp_rc:
 *   FP_OK        the fingerprint is exact.
 *   FP_CLIPPED   computed, but over a list the record clipped at its fixed
 *                capacity (hs_client_hello's n < total): it may differ from
 *                what a tool with unbounded lists prints. The capacities are
 *                far above anything real clients send (the public corpus
 *                peaks at 350 suites and 19 extensions), so this flags
 *                hostile or fuzzed input.
 *   FP_NA        not applicable; the buffers hold "" (no message, or a JA3
 *                of an SSLv2-format ClientHello: JA3 is defined on the TLS
 *                handshake only, and tshark gives none either).
 *   FP_ERR       the digest was unavailable (e.g. MD5 in a FIPS-only
 *                OpenSSL); the buffers hold "".
 */
#ifndef TLSWHY_FP_H
#define TLSWHY_FP_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/record.h"

/* Buffer sizes that always hold a full string for the record's capacities
 * (512 suites, 64 extensions, 64 groups, 64 sigalgs, 16 point formats). */
#define FP_FULL_MAX   4608   /* ja3_full, ja3s_full, ja4_r */
#define FP_MD5_HEX    33     /* 32 hex digits + NUL */
#define FP_JA4_LEN    37     /* "t13d1516h2_8daaf6152771_e5627efa2ab1" + NUL */

enum fp_rc {
	FP_OK = 0,
	FP_CLIPPED,
	FP_NA,
	FP_ERR,
};

/* JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats", all
 * decimal, '-' within a field, GREASE (RFC 8701) removed, wire order; md5hex
 * is the lower-case MD5 of `full`. `full` should have FP_FULL_MAX bytes. */
enum fp_rc fp_ja3(const struct hs_client_hello *ch, char *full, size_t fullsz, char md5hex[FP_MD5_HEX]);

/* JA3S: "SSLVersion,Cipher,Extensions" of a ServerHello (or an HRR). */
enum fp_rc fp_ja3s(const struct hs_server_hello *sh, char *full, size_t fullsz, char md5hex[FP_MD5_HEX]);

/* JA4 (t = TLS over TCP) and JA4_r (the same with the sorted lists in clear
 * instead of their truncated SHA-256). `ja4_r` should have FP_FULL_MAX. */
enum fp_rc fp_ja4(const struct hs_client_hello *ch, char ja4[FP_JA4_LEN], char *ja4_r, size_t rsz);

/* The two-character version of JA4 section a: "13", "12", "11", "10", "s3",
 * "s2", "d1".."d3", or "00" when unknown. Exposed for tests. */
const char *fp_ja4_version(uint16_t v);

/* Every field of a hello its fingerprints are computed from (JA3 and JA4
 * for a ClientHello, JA3S for a ServerHello or an HRR), as bytes into out
 * (FP_KEY_MAX of them), for strings of FP_FULL_MAX: their length, or 0
 * when they do not fit. Two hellos with the same key have the same
 * fingerprints (the memo below is keyed by them; report/json.c keys the
 * rendered "fingerprints" with them). */
#define FP_KEY_MAX 1024
size_t fp_ch_key(const struct hs_client_hello *ch, uint8_t *out);
size_t fp_sh_key(const struct hs_server_hello *sh, uint8_t *out);

/* Frees this thread's kept fingerprints (fp.c's memo) and its Community ID
 * digest (fp_cid_free): every thread that calls fp_ja3/fp_ja4/fp_ja3s or
 * fp_community_id calls it before it ends. */
void fp_memo_free(void);

#endif
