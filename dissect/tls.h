/*
 * tls.h - TLS record layer and handshake dissection for one connection.
 *
 * The TCP layer hands each direction's bytes over in order (tls_feed), says
 * and where bytes are missing (tls_gap).
 * Everything learned goes into the connection's struct hs_record.
 *
 * Directions are record directions (DIR_C2S, DIR_S2C). When the roles turn
 * out to be the other way round (a capture without the SYN), the flow layer
 * calls tls_swap() together with record_swap_dirs().
 */
#ifndef TLSWHY_TLS_H
#define TLSWHY_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dbuf.h"
#include "dissect/record.h"
#include "dissect/x509.h"

struct tls_dec;

/* Caps (bytes); overridable from the command line through struct
 * tls_limits, which travels with the flow limits (dissect/flow.h). */
#define TLS_DEFAULT_MAX_HANDSHAKE (256u * 1024)  /* one handshake message */
#define TLS_DEFAULT_MAX_SCAN      (64u * 1024)   /* plaintext scanned for STARTTLS */

struct keylog;
struct x509_cache;

/* What the run gives each TLS connection: its caps, the key log
 * (--keylog; NULL: no decryption) and the certificate cache (not owned;
 * NULL: uncached), read-only once packets flow. A connection keeps a
 * pointer to these, not a copy of each (issue 19). */
struct tls_limits {
	uint32_t max_handshake;
	uint32_t max_scan;
	const struct keylog *keylog;
	struct x509_cache *certs;
};
#define TLS_LIMITS_DEFAULT { TLS_DEFAULT_MAX_HANDSHAKE, TLS_DEFAULT_MAX_SCAN, NULL, NULL }

/* Fields by size, widest first: no padding (issue 19). */
struct tls_dir {
	struct dbuf hs;          /* handshake bytes; max max_handshake + 8 (an SSLv2 record: its length + 2) */
	uint32_t rec_len;
	uint32_t body_left;      /* bytes of the current record still to come */
	uint32_t hs_off;         /* bytes of hs already cut into messages */
	uint32_t skip_msg;       /* bytes of an over-long message still to skip */
	uint32_t scanned;        /* plaintext bytes scanned so far */
	uint32_t recs_after_peer_fin;   /* TLS 1.3: records after the client's Finished */
	uint16_t rec_version;
	uint8_t mode;            /* enum in tls.c */
	uint8_t hdr[5];
	uint8_t hdr_have;
	uint8_t ctype;
	uint8_t encrypted;       /* CCS seen (<=1.2) or TLS 1.3 keys in use */
	uint8_t hs_broken;       /* a gap or a malformed message: stop parsing handshake bytes */
	uint8_t finished;        /* sent its (encrypted) Finished */
	uint8_t small[8];        /* alert / CCS body */
	uint8_t small_len;
	uint8_t carry[6];        /* pattern bytes split across deliveries */
	uint8_t carry_len;
	uint8_t rejected;        /* TLS 1.3 server: its first record after that was an alert */
	uint8_t last_hs_type;    /* last plaintext handshake message type, 255 none */
};

struct tls_conn {
	struct hs_record *r;
	const struct tls_limits *lim;   /* the run's caps, key log and certificate cache; not owned */
	struct tls_dec *dec;     /* --keylog: decryption state (dissect/decrypt.h), owned; NULL without keys */
	uint64_t ch_last_frame;
	struct tls_dir d[2];
	struct x509_vbudget vb;         /* signature checks this connection may still make */
	uint16_t ch_segments;    /* client deliveries (TCP segments) until the ClientHello was whole */
	/* one byte for the three (issue 19: struct flow 8 bytes smaller) */
	uint8_t tls13 : 1;
	uint8_t client_hello_seen : 1;
	uint8_t dec_msg : 1;     /* the handshake bytes being parsed were decrypted */
};

/* `lim` NULL: the defaults (no key log, no certificate cache). `lim` must
 * outlive the connection. */
void tls_conn_init(struct tls_conn *t, struct hs_record *r, const struct tls_limits *lim);
void tls_conn_free(struct tls_conn *t);
void tls_feed(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts_us);
void tls_gap(struct tls_conn *t, int dir, uint32_t len, uint64_t frame, int64_t ts_us);
void tls_swap(struct tls_conn *t);
/* 1 when this direction needs no more bytes (handshake over, or not TLS). */
int tls_dir_done(const struct tls_conn *t, int dir);
/* Bytes of direction dir's current record still to come (0 between records
 * or when it reads no more). Right after the bytes that completed the
 * handshake, the rest of the record that completed it. */
uint32_t tls_record_left(const struct tls_conn *t, int dir);
/* Settles what can only be settled at the end (TLS 1.3 completion). */
void tls_finish(struct tls_conn *t);
/* Which raw direction sent a ClientHello first? -1 not yet. Used for roles. */
int tls_client_hello_dir(const uint8_t *p, size_t n);

/* 1 when p starts a plaintext handshake record (content type 22, version
 * 3.0 to 3.4) whose first message is of type `msg` (enum tls_hs_type); the
 * record's length goes to *len when len is not NULL. */
int tls_handshake_record(const uint8_t *p, size_t n, uint8_t msg, uint16_t *len);

/* Message parsers, exposed for unit tests and fuzzing. Return 0 or a cur_err. */
int tls_parse_client_hello(const uint8_t *body, size_t len, struct hs_client_hello *ch);
int tls_parse_server_hello(const uint8_t *body, size_t len, struct hs_server_hello *sh);
int tls_parse_sslv2_client_hello(const uint8_t *rec, size_t len, struct hs_client_hello *ch);

#endif
