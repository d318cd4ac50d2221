/*
 * tls13.h - reading a TLS 1.3 server's encrypted first flight with the
 * probe's own key share, to see what a capture cannot: whether the target
 * asks for a client certificate (CertificateRequest) after its ServerHello.
 *
 * The probe made the key share, so it holds the private key: with the
 * server's key share it derives the server handshake traffic secret
 * (RFC 8446 section 7.1) and opens the records that follow the ServerHello
 * (section 5.2). Nothing is sent; no client Finished is made.
 *
 * Limits: suites 0x1301, 0x1302, 0x1303; groups X25519, X448, P-256,
 * P-384, P-521; no HelloRetryRequest (a second ClientHello is never sent);
 * at most PROBE_T13_MAX_HS plaintext handshake bytes are looked at.
 */
#ifndef TLSWHY_PROBE_TLS13_H
#define TLSWHY_PROBE_TLS13_H

#include <stddef.h>
#include <stdint.h>

#include "probe/hello.h"

#define PROBE_T13_MAX_HS 65536

/* The private halves of a ClientHello's key shares (EVP_PKEY *), owned. */
struct probe_keys {
	size_t n;
	uint16_t group[PROBE_MAX_SHARES];
	void *pkey[PROBE_MAX_SHARES];
};

void probe_keys_free(struct probe_keys *k);

struct probe_t13 {
	int opened;             /* the flight decrypted */
	uint16_t suite, group;
	int encrypted_extensions, cert_request, certificate, cert_verify, finished;
	char why[128];          /* when not opened */
};

/* `ch`: the ClientHello handshake message (type, length, body) as sent;
 * `srv`: the server's bytes from the first. Fills *out; 0 when opened. */
int probe_t13_open(const struct probe_keys *k, const uint8_t *ch, size_t chlen, const uint8_t *srv,
		   size_t srvlen, struct probe_t13 *out);

#endif
