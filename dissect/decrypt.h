/*
 * decrypt.h - one connection's record decryption with the run's key log:
 * the glue between dissect/tls.c (records as they stream by) and
 * dissect/keylog.c + dissect/tlsdec.c (secrets and ciphers).
 *
 * tls.c calls, per protected record: tls_dec_begin (header), tls_dec_body
 * (body bytes, any split), tls_dec_end (decrypts; returns the plaintext and
 * its real content type). Decrypted handshake bytes go through tls.c's own
 * handshake reassembly; each message is then shown to tls_dec_message,
 * which keeps the facts in r->dec and, in TLS 1.3, switches a direction to
 * its application traffic keys after its Finished.
 *
 * Limits: a record body is buffered only while it streams in (at most
 * TLSDEC_MAX_BODY bytes, freed when the record ends); a direction stops
 * decrypting at its first failure (wrong keys do not get better) and once
 * its first application data is seen. Not handled: KeyUpdate, 0-RTT early
 * data, renegotiation.
 */
#ifndef TLSWHY_DECRYPT_H
#define TLSWHY_DECRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/record.h"

struct keylog;
struct tls_dec;

/* The run's key log (--keylog) travels in struct tls_limits (dissect/tls.h),
 * set once at start-up before any packet and read-only afterwards, so
 * every thread may look keys up. NULL: no decryption at all. */

/* After the ServerHello: r->dec is allocated (the facts, even "no keys");
 * the state is returned when some direction can be keyed, else NULL. */
struct tls_dec *tls_dec_new(const struct keylog *kl, struct hs_record *r);
void tls_dec_free(struct tls_dec *x);
void tls_dec_swap(struct tls_dec *x);

/* 1 while this direction has keys and something left to show. */
int tls_dec_want(const struct tls_dec *x, int dir);
/* A protected record starts; `alerts_before` is r->n_alerts before
 * tls.c looked at its header (so an alert inferred from its size can be
 * replaced by the real one). */
void tls_dec_begin(struct tls_dec *x, int dir, uint8_t ctype, uint16_t version, uint32_t len,
		   uint16_t alerts_before);
int tls_dec_active(const struct tls_dec *x, int dir);
void tls_dec_body(struct tls_dec *x, int dir, const uint8_t *p, size_t n);
/* The record's last byte came: decrypts. Returns the plaintext (valid
 * until the next call for this connection) and sets *len and *inner, or
 * NULL (no keys, or the record failed: counted in r->dec). */
const uint8_t *tls_dec_end(struct tls_dec *x, struct hs_record *r, int dir, uint64_t frame,
			   size_t *len, uint8_t *inner, uint16_t *alerts_before);
/* A decrypted handshake message (type, body). */
void tls_dec_message(struct tls_dec *x, struct hs_record *r, int dir, uint8_t type,
		     const uint8_t *body, size_t len);

#endif
