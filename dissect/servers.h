/*
 * servers.h - what each server did on every connection of the run: the
 * per-server knowledge that lets one connection's success rule out a cause
 * on another ("this server negotiated ECDHE-RSA-AES128-GCM-SHA256 from this
 * very offer on connection #7").
 *
 * Facts, not verdicts: the table counts what the records say (ServerHello
 * selections, completed handshakes with and without SNI, the leaf
 * certificate, the offers that completed); rules/ decides what that means.
 *
 * Keyed by the server's address and port. The caller passes every record
 * to srv_learn() before it asks about it (srv_snapshot), and the snapshot
 * leaves that record's own contribution out, so a connection sees every
 * other connection learned so far: the caller decides the window (app/).
 *
 * Limits: SRV_MAX_SERVERS servers (the least recently learned one is
 * forgotten past that, and counted); per server SRV_MAX_SUITES selected
 * suites, SRV_MAX_OFFERS offers that completed, SRV_MAX_VERSIONS versions.
 * Memory: about 400 bytes per server, fixed at creation.
 */
#ifndef TLSWHY_SERVERS_H
#define TLSWHY_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/record.h"

#define SRV_MAX_SERVERS  4096
#define SRV_MAX_SUITES   16
#define SRV_MAX_OFFERS   8
#define SRV_MAX_VERSIONS 6
#define SRV_MAX_GROUPS   8
#define SRV_MAX_NAMES    8

/* One server's knowledge, as a connection sees it (a copy: stable while
 * the table changes). The leaf is a reference the snapshot holds. */
struct srv_known {
	uint8_t valid;               /* 0: nothing known about this server */
	uint32_t conns;              /* other connections to it learned */
	uint32_t completed;          /* of which completed the handshake */
	uint32_t completed_sni;      /* completed with server_name in the ClientHello */
	uint32_t completed_nosni;    /* completed without it */
	uint32_t failed_nosni;       /* did not complete, ClientHello without server_name */
	uint32_t tls_conns;          /* spoke TLS (a ServerHello or a TLS alert came back) */
	uint64_t completed_id;       /* the first completed connection (0 none) */
	uint16_t completed_suite;    /* the suite it selected */
	uint16_t completed_version;
	uint64_t completed_sni_id;   /* the first one completed with SNI (0 none) */
	uint16_t n_suites;           /* suites the server selected in any ServerHello */
	uint16_t suites[SRV_MAX_SUITES];
	uint16_t n_versions;         /* versions it selected */
	uint16_t versions[SRV_MAX_VERSIONS];
	uint16_t n_groups;           /* key-exchange groups it selected (key_share, ServerKeyExchange) */
	uint16_t groups[SRV_MAX_GROUPS];
	uint32_t completed_proxy;    /* completed after a PROXY protocol header from the client */
	uint32_t completed_ems;      /* completed with extended_master_secret offered */
	uint32_t completed_noems;    /* completed without it */
	uint16_t n_names;            /* server_name values of completed connections (hashed) */
	uint64_t name_hash[SRV_MAX_NAMES];
	/* Offers (the ClientHello's cipher suites, in order, hashed) that
	 * completed, and one connection id each. */
	uint16_t n_offers;
	uint64_t offer_hash[SRV_MAX_OFFERS];
	uint64_t offer_id[SRV_MAX_OFFERS];
	uint8_t offer_sni[SRV_MAX_OFFERS];   /* that connection sent server_name */
	const struct x509_facts *leaf;       /* a leaf it presented (a reference), or NULL */
	/* About the asking connection itself, worked out once by srv_snapshot: */
	uint8_t same_offer;          /* its cipher-suite offer completed on another connection */
	uint64_t same_offer_id;      /* that connection (0: not known which) */
	uint8_t same_name;           /* its server_name completed on another connection */
};

struct srv_table;

struct srv_table *srv_table_new(void);
void srv_table_free(struct srv_table *t);
/* Adds a finished record's facts (record_finish() called) to its server. */
void srv_learn(struct srv_table *t, const struct hs_record *r);
/* Fills *k with what the table knows of r's server from other connections
 * (r's own contribution left out when it was learned). Returns k->valid.
 * Release with srv_known_release(). */
int srv_snapshot(const struct srv_table *t, const struct hs_record *r, struct srv_known *k);
void srv_known_release(struct srv_known *k);
/* The hash srv_known keeps of a ClientHello's cipher-suite offer (GREASE
 * left out, order kept). 0 for no ClientHello. */
uint64_t srv_offer_hash(const struct srv_table *t, const struct hs_client_hello *ch);
/* The hash srv_known keeps of a ClientHello's server_name (0: none).
 * Both are keyed with t's random key. */
uint64_t srv_name_hash(const struct srv_table *t, const struct hs_client_hello *ch);
/* 1 when a connection with this server_name hash completed. */
int srv_name_completed(const struct srv_known *k, uint64_t hash);
/* 1 when the offer with this hash completed on another connection. Sets
 * *id (when not NULL) to that connection. */
int srv_offer_completed(const struct srv_known *k, uint64_t hash, uint64_t *id);
/* Servers forgotten because the table was full. */
uint64_t srv_table_forgotten(const struct srv_table *t);

#endif
