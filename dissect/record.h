/*
 * record.h - the handshake record: every fact dissect/ learns about one TCP
 * connection, and the only structure rules/ and report/ read.
 *
 * Facts, never verdicts: this header says what was on the wire (who sent
 * which message, in which frame, at what capture time, with which fields)
 * and what the capture lacked (gaps, truncation, caps hit). What it means
 * is for rules/.
 *
 * Invariants
 *  - dir 0 is client -> server, dir 1 is server -> client, once the roles
 *    are known (role_by != ROLE_UNKNOWN). Until then dir 0 is "the sender of
 *    the first packet seen".
 *  - Every list has a fixed capacity; `n` entries are stored and `total`
 *    counts how many the wire carried, so `total > n` means "clipped".
 *  - Times are capture times in microseconds since the Unix epoch; frame
 *    numbers are 1-based and count packets across all inputs in order (for
 *    one file they equal tshark's frame numbers).
 *  - Strings from the wire are stored as raw bytes with a length; they are
 *    escaped only by report/.
 */
#ifndef TLSWHY_RECORD_H
#define TLSWHY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define DIR_C2S 0
#define DIR_S2C 1

/* Capacities of the fixed lists (entries kept; the rest is counted). */
#define HS_MAX_SUITES     512
#define HS_MAX_EXTS       64
#define HS_MAX_GROUPS     64
#define HS_MAX_SIGALGS    64
#define HS_MAX_VERSIONS   16
#define HS_MAX_SMALL      16  /* ec_point_formats, compression, key_share, psk modes */
#define HS_MAX_ALPN       16
#define HS_ALPN_BYTES     512
#define HS_SNI_BYTES      256
#define HS_MAX_CERTS      16
#define HS_MAX_ALERTS     8
#define HS_MAX_EVENTS     64
#define HS_NONTLS_BYTES   64
#define HS_MAX_CA_NAMES   8
#define HS_SH_ALPN_BYTES  256

struct hs_addr {
	uint8_t family;        /* 4 or 6 */
	uint8_t addr[16];      /* IPv4 in the first 4 bytes */
	uint16_t port;
};

/* The tunnel one direction's packets came through (dissect/decode.h):
 * kind and outer addresses of the first such packet, and a count. */
struct hs_encap {
	uint8_t kind;          /* enum pkt_encap: 0 none, 1 VXLAN, 2 GENEVE */
	uint32_t vni;
	struct hs_addr src, dst;   /* outer IP addresses and UDP ports */
	uint32_t packets;      /* this direction's packets that came through a tunnel */
};

/* How the client/server roles were decided. */
enum hs_role_by {
	ROLE_UNKNOWN = 0,
	ROLE_SYN,              /* the SYN sender is the client */
	ROLE_SYNACK,           /* the SYN-ACK sender is the server */
	ROLE_CLIENT_HELLO,     /* the ClientHello sender is the client */
	ROLE_SERVER_HELLO,     /* the ServerHello sender is the server */
	ROLE_PORT_GUESS,       /* nothing better: the lower port is the server */
};

/* How far the connection got. Ordered by progress; rules match by name. */
enum hs_stage {
	STAGE_NO_SYNACK = 0,        /* SYN sent, never answered */
	STAGE_REFUSED,              /* SYN answered with RST */
	STAGE_NO_CLIENT_HELLO,      /* TCP up, the client sent no TLS */
	STAGE_CH_UNANSWERED,        /* ClientHello, then nothing from the server */
	STAGE_NON_TLS_ANSWER,       /* the server answered with bytes that are not TLS */
	STAGE_ALERT,                /* a fatal alert (or an encrypted alert) ended it */
	STAGE_CLOSED_BY_PEER,       /* FIN or RST, no alert, before completion */
	STAGE_CAPTURE_ENDED,        /* the capture stopped mid-handshake */
	STAGE_COMPLETE,             /* both sides finished the handshake */
	STAGE_COMPLETE_CLOSED,      /* complete, then closed (FIN/RST) */
	STAGE__COUNT
};

/* What the ladder records, in wire order. */
enum hs_ev_kind {
	EV_SYN = 0,
	EV_SYNACK,
	EV_FIN,
	EV_RST,
	EV_HANDSHAKE,          /* plaintext handshake message; hs_type set */
	EV_ENC_HANDSHAKE,      /* handshake record after ChangeCipherSpec */
	EV_CCS,
	EV_ALERT,              /* alert; index into alerts[] in `aux` */
	EV_APPDATA,            /* first application_data record of a direction */
	EV_HEARTBEAT,
	EV_SSLV2,              /* SSLv2 record (e.g. SSLv2-compatible ClientHello) */
	EV_NON_TLS,            /* first bytes of a non-TLS payload */
	EV_GAP,                /* bytes missing from the capture */
	EV__COUNT
};

/* One ladder event as readers see it: hs_ev() gives it by value. */
struct hs_event {
	uint64_t frame;
	int64_t ts_us;
	uint8_t dir;
	uint8_t kind;          /* enum hs_ev_kind */
	uint8_t hs_type;       /* TLS HandshakeType for EV_HANDSHAKE */
	uint8_t aux;
	uint32_t len;          /* message/record/gap length in bytes */
};

/* How the ladder is stored (issue 19: 16 bytes an event, not 24): each
 * struct hs_ev_packed holds its frame and time as 32-bit offsets from
 * the record's first_frame and first_ts_us (set with the first packet,
 * before any event, and never changed; see struct hs_at). An event whose
 * offsets do not fit (a frame 2^32 or more past the first, a time more
 * than about 35 minutes from it, or an earlier frame) turns the whole
 * array into struct hs_event entries (r->ev_wide): nothing is clipped.
 * Read with hs_ev() only. */
struct hs_ev_packed {
	uint32_t frame;        /* frame - first_frame */
	int32_t ts_us;         /* ts_us - first_ts_us */
	uint8_t dir;
	uint8_t kind;
	uint8_t hs_type;
	uint8_t aux;
	uint32_t len;
};

/* Facts about the bytes: the capture ran out (truncated) vs the bytes were
 * wrong (malformed). Bit flags; each with a name in record.c. */
enum hs_anomaly {
	AN_TRUNCATED_PACKET  = 1u << 0,   /* a packet cut by snaplen */
	AN_GAP               = 1u << 1,   /* stream bytes missing */
	AN_RETRANSMISSION    = 1u << 2,
	AN_OUT_OF_ORDER      = 1u << 3,
	AN_OVERLAP_CONFLICT  = 1u << 4,   /* a second copy of stream bytes differed (the first was kept) */
	AN_MIDSTREAM         = 1u << 5,   /* no SYN seen for this direction */
	AN_CAP_SEGMENTS      = 1u << 6,   /* out-of-order queue cap hit */
	AN_CAP_BYTES         = 1u << 7,   /* per-direction buffer cap hit */
	AN_TLS_MALFORMED     = 1u << 8,   /* a TLS record or message was invalid */
	AN_TLS_TRUNCATED     = 1u << 9,   /* a TLS message ended with the stream */
	AN_CERT_MALFORMED    = 1u << 10,  /* a certificate's DER did not parse */
	AN_LISTS_CLIPPED     = 1u << 11,  /* a list had more entries than kept */
	AN_HS_TOO_LONG       = 1u << 12,  /* handshake message over the size cap */
	AN_EVENTS_CLIPPED    = 1u << 13,
	AN_EVICTED           = 1u << 14,  /* flow table cap: the flow was dropped early */
	AN_CERT_UNVERIFIED   = 1u << 15,  /* a certificate signature check was skipped (dissect/x509.h) */
	AN_OUT_OF_WINDOW     = 1u << 16,  /* a segment or ACK far outside the advertised window: ignored */
	AN_BAD_CHECKSUM      = 1u << 17,  /* a segment with a bad checksum where the capture's are real: ignored */
};

/* The moments a direction keeps: the first HS_AT_KEPT in struct hs_dir's
 * at[], the others, which few connections have, in its struct hs_rare
 * (issue 19). Read them with hs_at_frame() and hs_at_ts() only. */
enum hs_at_kind {
	HS_AT_LAST = 0,          /* its last packet */
	HS_AT_FIRST_PAYLOAD,     /* its first packet with payload */
	HS_AT_SYN,               /* its SYN (the server's: the SYN-ACK) */
	HS_AT_FIN,
	HS_AT_RST,
	/* First application_data record a direction sent after the *other*
	 * side's FIN: a request racing a keep-alive close (rules:
	 * client.data_after_server_fin). Alerts do not count, encrypted ones
	 * included: a close_notify answering the FIN is the normal close, and
	 * is often met by a RST too. Retransmissions of bytes sent before the
	 * FIN do not count either. Its frame only is read. */
	HS_AT_DATA_AFTER_PEER_FIN,
	HS_AT__N
};
#define HS_AT_KEPT HS_AT_RST

/* A frame and a capture time, kept in 8 bytes (issue 19): frame 0 is
 * "none" (then the time reads 0 too); otherwise frame is the frame number
 * minus the record's first_frame, plus 1, and ts the time minus its
 * first_ts_us. A moment whose frame or time does not fit (2^32 - 2 frames
 * or about 35 minutes away, or before the first packet) is kept whole in
 * the record's hs_rare(r)->at_wide (frame HS_AT_WIDE here): never
 * clipped. The record's first_frame and first_ts_us must be set before any moment is
 * (flow.c sets them with the first packet) and never change after. */
struct hs_at {
	uint32_t frame;
	int32_t ts;
};
#define HS_AT_WIDE UINT32_MAX

/* The record's own moments, kept the same way: the first HS_RAT_KEPT in
 * its rat[], the others in its struct hs_rare. Read them with
 * hs_rat_frame() and hs_rat_ts() only. */
enum hs_rat_kind {
	HS_RAT_COMPLETE = 0,     /* the frame that completed the handshake (none: not complete,
	                            or only settled at the end of the flow); records after it are
	                            not read */
	HS_RAT_SERVER_CERTS,     /* the server's Certificate message (server_chain) */
	HS_RAT_NONTLS,           /* the non-TLS bytes (nontls) */
	HS_RAT_CERT_REQUEST,     /* the CertificateRequest (its frame only is read) */
	HS_RAT_CLIENT_CERTS,     /* the client's (client_chain) */
	HS_RAT__N
};
#define HS_RAT_KEPT HS_RAT_NONTLS

/* Moments that did not fit, whole: a slot each, direction 0's HS_AT__N,
 * direction 1's, then the record's HS_RAT__N (struct hs_at.frame
 * HS_AT_WIDE says the value is here). */
#define HS_AT_SLOTS (2 * HS_AT__N + HS_RAT__N)
struct hs_at_wide {
	uint64_t frame[HS_AT_SLOTS];
	int64_t ts_us[HS_AT_SLOTS];
};

/* Fields by size, widest first (issue 19: two of these in every record).
 * What few connections have is in struct hs_rare_dir instead. */
struct hs_dir {
	uint64_t packets;
	uint64_t payload_bytes;     /* TCP payload bytes seen (retransmissions included) */
	uint64_t stream_bytes;      /* bytes delivered in order to the TLS parser */
	uint64_t payload_after_handshake; /* payload bytes after those that completed the handshake, by sequence */
	/* When this direction's last packet, first payload, SYN (or SYN-ACK),
	 * FIN and RST came, and HS_AT_DATA_AFTER_PEER_FIN (below): 32-bit
	 * offsets from the record's first packet, read with hs_at_frame() and
	 * hs_at_ts(), written with record_at(); see struct hs_at. */
	struct hs_at at[HS_AT_KEPT];
	uint32_t records;            /* TLS records seen */
	uint32_t encrypted_hs;       /* encrypted handshake records */
	uint32_t appdata_records;
	uint8_t tls : 1;             /* this direction's stream parsed as TLS */
	uint8_t non_tls : 1;         /* this direction's stream was not TLS */
	uint8_t spoke_first : 1;     /* its payload came before any of the other side's, in the
				      * order its sender had it (flow.c: the sides out of step) */
	uint8_t tls_malformed : 1;   /* its TLS broke the framing: a record header with a bad
				      * version or length, a hello or certificate list that does
				      * not parse (the tls_malformed anomaly, by sender) */
	uint8_t tls_cut : 1;         /* its TLS stream ended inside a record, or inside a
				      * handshake message, with the rest never seen (tls_truncated,
				      * by sender) */
};

/* A direction's facts that are 0 (or empty) for most connections: in the
 * record's struct hs_rare (issue 19). */
struct hs_rare_dir {
	uint64_t gap_bytes;
	/* Encapsulation facts, (rules: capture.encapsulation): NULL until a
	 * packet of this direction came through a tunnel (record_encap());
	 * owned. */
	struct hs_encap *encap;
	/* The first bytes of this direction's stream when it did not begin with a
	 * TLS record, whether or not TLS followed: a PROXY protocol header, a
	 * server banner, an HTTP request or answer (up to HS_NONTLS_BYTES, as
	 * sent; report/ escapes them). pre_len 0: the stream began with TLS,
	 * or carried nothing. (rules: client.first_bytes, proxy.*, ...)
	 * HS_NONTLS_BYTES allocated with the first byte (record_pre()); until
	 * then an empty array, never NULL. The first byte's frame and time are
	 * kept with them: record_pre_frame(), record_pre_ts(). */
	uint8_t *pre;
	uint32_t retransmissions;
	uint32_t out_of_order;
	uint32_t overlap_conflicts;
	uint32_t gaps;
	/* Plaintext bytes before the first TLS record: a
	 * STARTTLS protocol (SMTP, IMAP, POP3...) or a server banner; 0 when
	 * TLS began with the first byte (rules: starttls). */
	uint32_t plaintext_before_tls;
	uint32_t truncated_packets;  /* packets cut by snaplen */
	uint16_t pre_len;
};

struct hs_u16list {
	uint16_t n, total;
	uint16_t v[];
};

/* A ClientHello. Its lists are read with hs_ch_suites(ch) and the like
 * (below): each is at an offset (o_*) into one block, `lists`. A hello
 * being parsed (or built by hand) comes from record_new_client_hello()
 * with every list at its full capacity (HS_MAX_SUITES suites,
 * HS_SNI_BYTES of name...); the parser then keeps a compact copy
 * (record_keep_client_hello()) whose lists hold exactly the `n` entries
 * (sni_len, alpn_bytes bytes) the message had, in the same allocation.
 * Readers index them the same way; none may read past `n`, nor write to a
 * kept hello's lists. A copy of the structure shares the block (issue 19:
 * one pointer and 16-bit offsets, not a pointer a list, make an open
 * handshake's hello 80 bytes smaller). */
struct hs_client_hello {
	uint64_t frame;             /* frame that completed the message */
	int64_t ts_us;
	uint32_t msg_len;
	uint16_t record_version;
	uint16_t legacy_version;
	uint8_t session_id_len;
	uint8_t random[32];
	uint8_t session_id[32];
	/* How many entries of each list below are kept (n_*) and were on the
	 * wire (total_*). */
	uint16_t n_suites, total_suites;
	uint16_t n_exts, total_exts;
	uint16_t sni_len;           /* host_name bytes kept; 0 with has_sni = empty */
	uint16_t alpn_bytes;
	uint16_t n_groups, total_groups;
	uint16_t n_sigalgs, total_sigalgs;
	uint16_t n_sigalgs_cert;
	uint16_t n_versions;
	uint16_t total_versions;    /* supported_versions on the wire (n_versions kept) */
	uint16_t n_key_share;
	uint16_t total_ecpf;        /* ec_point_formats on the wire (n_ecpf kept); for fingerprints' clip check */
	uint8_t n_comp, total_comp;
	uint8_t n_alpn;
	uint8_t n_ecpf;
	uint8_t n_psk_modes;
	/* flags: one bit each (issue 19: 272 bytes, not 280) */
	uint8_t sslv2 : 1;              /* SSLv2-compatible ClientHello */
	uint8_t has_extensions : 1;     /* the extensions block was present */
	uint8_t has_sni : 1;
	uint8_t has_supported_versions : 1;
	uint8_t has_key_share : 1;
	uint8_t has_psk : 1;
	uint8_t has_session_ticket : 1;
	uint8_t has_ech : 1;            /* encrypted_client_hello (0xfe0d) */
	uint8_t ech_type;           /* 0 outer, 1 inner */
	uint8_t ech_config_id;
	uint8_t has_renegotiation_info : 1;
	uint8_t has_extended_master_secret : 1;
	uint8_t has_encrypt_then_mac : 1;
	uint8_t has_status_request : 1;
	uint8_t has_early_data : 1;
	uint8_t malformed : 1;          /* fields after the fault were not read */
	uint8_t compact : 1;            /* made by record_keep_client_hello() (freed with free()) */
	uint16_t psk_identities;
	uint16_t session_ticket_len;
	uint16_t ech_kdf, ech_aead;
	uint16_t ech_enc_len, ech_payload_len;
	uint16_t record_size_limit; /* 0 = absent */
	uint16_t segments;          /* TCP segments that carried the message, 0 = not counted (rules: ch.segments) */
	/* Derived by record_finish() (record_derive()): the highest version
	 * offered (hs_max_offered()), the one value every output and rule uses. */
	uint16_t max_offered;
	/* The lists (see above: full capacity while parsed, `n` entries once
	 * kept): byte offsets into `lists`, the 16-bit lists' even */
	uint16_t o_suites;
	uint16_t o_ext_type;
	uint16_t o_ext_len;
	uint16_t o_alpn_off;        /* offsets into alpn[]; each entry <len><bytes>, within alpn_bytes */
	uint16_t o_groups;
	uint16_t o_sigalgs;
	uint16_t o_sigalgs_cert;
	uint16_t o_versions;
	uint16_t o_key_share;
	uint16_t o_key_share_len;
	uint16_t o_comp;
	uint16_t o_ecpf;
	uint16_t o_psk_modes;
	uint16_t o_sni;
	uint16_t o_alpn;
	uint8_t *lists;
};

/* A ClientHello's list `f` as an array of T: const when the hello is. */
#define HS_CH_LIST(c, f, T)                                                                \
	_Generic((c), const struct hs_client_hello *: (const T *)(const void *)((c)->lists + (c)->o_##f), \
		 default: (T *)(void *)((c)->lists + (c)->o_##f))
#define hs_ch_suites(c)        HS_CH_LIST(c, suites, uint16_t)
#define hs_ch_ext_type(c)      HS_CH_LIST(c, ext_type, uint16_t)
#define hs_ch_ext_len(c)       HS_CH_LIST(c, ext_len, uint16_t)
#define hs_ch_alpn_off(c)      HS_CH_LIST(c, alpn_off, uint16_t)
#define hs_ch_groups(c)        HS_CH_LIST(c, groups, uint16_t)
#define hs_ch_sigalgs(c)       HS_CH_LIST(c, sigalgs, uint16_t)
#define hs_ch_sigalgs_cert(c)  HS_CH_LIST(c, sigalgs_cert, uint16_t)
#define hs_ch_versions(c)      HS_CH_LIST(c, versions, uint16_t)
#define hs_ch_key_share(c)     HS_CH_LIST(c, key_share, uint16_t)
#define hs_ch_key_share_len(c) HS_CH_LIST(c, key_share_len, uint16_t)
#define hs_ch_comp(c)          HS_CH_LIST(c, comp, uint8_t)
#define hs_ch_ecpf(c)          HS_CH_LIST(c, ecpf, uint8_t)
#define hs_ch_psk_modes(c)     HS_CH_LIST(c, psk_modes, uint8_t)
#define hs_ch_sni(c)           HS_CH_LIST(c, sni, uint8_t)
#define hs_ch_alpn(c)          HS_CH_LIST(c, alpn, uint8_t)

/* A ServerHello or HelloRetryRequest; its lists, like the ClientHello's,
 * are full-size while parsed and exact once kept (record_keep_server_hello()). */
struct hs_server_hello {
	uint64_t frame;
	int64_t ts_us;
	uint16_t record_version;
	uint16_t legacy_version;
	uint16_t version;           /* selected: supported_versions if present, else legacy */
	uint16_t cipher;
	uint8_t random[32];
	uint8_t session_id[32];
	uint8_t session_id_len;
	uint8_t compression;
	/* flags: one bit each (issue 19: 128 bytes, not 136) */
	uint8_t is_hrr : 1;         /* HelloRetryRequest (special random) */
	uint8_t sslv2 : 1;
	uint8_t has_extensions : 1;
	uint8_t has_supported_version : 1;
	uint8_t has_key_share : 1;
	uint8_t has_renegotiation_info : 1;
	uint8_t has_extended_master_secret : 1;
	uint8_t has_encrypt_then_mac : 1;
	uint8_t has_session_ticket : 1;
	uint8_t malformed : 1;
	uint8_t compact : 1;        /* made by record_keep_server_hello() */
	uint16_t n_exts, total_exts;
	uint16_t supported_version;
	uint16_t key_share_group;   /* the selected (or, in an HRR, requested) group */
	uint16_t alpn_len;
	uint16_t *ext_type;
	uint16_t *ext_len;
	uint8_t *alpn;              /* HS_SH_ALPN_BYTES while parsed */
};

/* Segments a party on the path could use to steer the report, per record
 * direction (allocated with the first, record_steer(); NULL: none): the
 * first frame where a copy of bytes already held differed (the first copy
 * was kept; hs_dirstats.overlap_conflicts counts them), segments and ACKs
 * far outside the window (ignored), and segments with a bad checksum in a
 * direction whose checksums are real (ignored: the peer dropped them; those
 * with data, and the bytes of theirs that never came again: a gap). */
struct hs_steer {
	uint64_t conflict_frame[2];
	uint64_t out_of_window_frame[2];
	uint64_t bad_checksum_frame[2];
	uint32_t out_of_window[2];   /* saturate, never wrap */
	uint32_t bad_checksums[2];
	uint32_t bad_checksum_data[2];        /* of bad_checksums, the segments with payload */
	uint32_t bad_checksum_gap_bytes[2];   /* bytes of those declared missing (gap_bytes) */
};

struct x509_facts;  /* dissect/x509.h */
struct srv_known;   /* dissect/servers.h */

struct hs_cert {
	const struct x509_facts *x;  /* shared, owned by the x509 cache (refcounted) */
	uint32_t der_len;
	uint8_t sha256[32];          /* of the DER, even when it did not parse */
	uint8_t expired;             /* notAfter < capture time of the message */
	uint8_t not_yet_valid;       /* notBefore > capture time */
	uint8_t issued_by_next;      /* 1 yes, 0 no, 2 unknown (last, malformed, or its check skipped) */
	uint8_t self_signed;         /* self-issued and its own key verifies it (0 when that check was skipped) */
	uint8_t verify_skipped;      /* enum x509_skip: why a check of this certificate was not made, 0 none */
	uint8_t facts_not_kept;      /* decoded, judged, then its facts given back (x509_hold); x is NULL */
	uint8_t held;                /* counted by x509_hold() until the connection is judged (tls_conn_free) */
};

/* Fields by size (issue 19: 16 bytes, two in every record). The
 * message's frame and time are the record's moments HS_RAT_SERVER_CERTS
 * and HS_RAT_CLIENT_CERTS: hs_chain_frame(), hs_chain_ts(). */
struct hs_chain {
	struct hs_cert *c;           /* `cap` entries (at most HS_MAX_CERTS), allocated for
	                                the message's certificates (record_chain_certs); owned */
	uint32_t total;              /* certificates in the message (never wraps: it saturates) */
	uint8_t n;                   /* certificates kept (at most HS_MAX_CERTS) */
	uint8_t present;             /* a Certificate message was seen */
	uint8_t malformed;
	uint8_t cap;                 /* entries c has room for */
};

struct hs_alert {
	uint64_t frame;
	int64_t ts_us;
	uint8_t dir;
	uint8_t encrypted;           /* level/description unknown */
	uint8_t level;
	uint8_t description;
	uint8_t after_hs_type;       /* last plaintext handshake type the *other* side sent, 255 none */
	uint8_t after_kind;          /* kind of the last event before it (enum hs_ev_kind), 255 none */
	uint8_t inferred : 1;        /* TLS 1.3: a protected (type 23) record of an alert's size */
	uint8_t decrypted : 1;       /* level and description read by decrypting it (--keylog) */
	uint8_t before_close : 1;    /* the closing side's FIN acknowledged it, though the capture
				      * shows it after that FIN (the sides out of step) */
};

/* What decryption with a key log showed (dissect/decrypt.c); NULL in the
 * record when no key log was given. Every fact here came from decrypted
 * records. Directions are record directions. */
#define HS_DEC_TYPES 24
#define HS_DEC_FIRST 64
struct hs_decrypted {
	uint8_t keys;                /* the key log had secrets for this client random */
	uint8_t keyed[2];            /* this direction could be keyed (suite and secrets) */
	uint16_t suite;              /* the suite keyed, 0 none */
	uint32_t records_ok[2];      /* records decrypted */
	uint32_t records_failed[2];  /* records that failed; decryption stops at the first */
	uint8_t first_error[2];      /* enum tlsdec_err of that failure, 0 none */
	uint8_t n_hs[2];
	uint16_t total_hs[2];
	uint8_t hs_types[2][HS_DEC_TYPES];  /* decrypted handshake message types, in order */
	uint8_t encrypted_extensions;
	uint16_t alpn_len;           /* the protocol EncryptedExtensions selected (TLS 1.3) */
	uint8_t alpn[255];
	uint8_t cert_request;        /* CertificateRequest decrypted */
	uint8_t client_cert;         /* 0 none seen, 1 an empty Certificate, 2 with certificates */
	uint16_t first_len[2];       /* first application data bytes each way */
	uint8_t first[2][HS_DEC_FIRST];
	uint64_t first_frame[2];
};

/* A record's facts that are 0, empty or absent for most connections
 * (issue 19: an open handshake's record is 152 bytes smaller without
 * them): allocated with the first one set (record_rare(), the writers'
 * way), read with hs_rare(), which gives a shared empty one (every count
 * 0, every pointer NULL but `pre` and `nontls`, empty arrays) until then. */
struct hs_rare {
	struct hs_rare_dir d[2];
	struct hs_server_hello *hrr; /* a HelloRetryRequest, if any; owned */
	struct hs_client_hello *ch2; /* the second ClientHello after an HRR; owned */
	struct hs_chain client_chain;
	uint8_t *nontls;             /* HS_NONTLS_BYTES, allocated with the first (record_nontls());
	                                like `pre`, an empty array until then, never NULL */
	struct hs_decrypted *dec;    /* --keylog only; owned */
	struct hs_steer *steer;      /* NULL until a segment tried to steer the report; owned */
	struct hs_at_wide *at_wide;  /* NULL until a moment did not fit struct hs_at; owned */
	struct hs_at at[2][HS_AT__N - HS_AT_KEPT];   /* the directions' other moments (enum hs_at_kind) */
	struct hs_at rat[HS_RAT__N - HS_RAT_KEPT];   /* the record's (enum hs_rat_kind) */
	uint32_t ip_reassembled;     /* TCP segments rebuilt from IPv4 fragments */
	uint16_t n_ca_names;         /* distinguished names in CertificateRequest */
	uint16_t nontls_len;
};

struct hs_record {
	uint64_t id;                 /* 1-based, in order of the flow's first packet */
	struct hs_addr cli, srv;     /* after role resolution */
	uint8_t role_by;             /* enum hs_role_by */
	uint8_t stage;               /* enum hs_stage, set by record_finish() */
	uint8_t closed_by;           /* dir that closed first (FIN/RST), 255 none */
	uint8_t closed_with;         /* EV_FIN or EV_RST */
	uint8_t closed_after_kind;   /* last event kind before the close */
	uint8_t closed_after_hs_type;
	uint8_t is_tls;              /* some TLS was seen in either direction */
	uint8_t complete;            /* both directions passed the handshake */
	uint32_t anomalies;          /* enum hs_anomaly bits */
	uint32_t client_hellos;      /* ClientHellos seen (2 after an HRR) */
	/* The first packet's frame and time (the base of every moment: struct
	 * hs_at); the last packet's are the later of the directions'
	 * HS_AT_LAST, hs_last_frame() and hs_last_ts() (issue 19). */
	uint64_t first_frame;
	int64_t first_ts_us;
	struct hs_dir d[2];

	struct hs_client_hello *ch;  /* NULL until seen; owned */
	struct hs_server_hello *sh;  /* the ServerHello (not the HRR) */

	struct hs_chain server_chain;

	uint8_t ske;                 /* ServerKeyExchange seen */
	uint8_t ske_curve_type;      /* 3 = named_curve */
	uint16_t ske_group;          /* named group, 0 = none/DHE */
	uint16_t ske_dh_bits;        /* DHE prime size in bits */
	uint16_t ske_sigalg;         /* TLS 1.2 signature scheme, 0 = absent */
	uint8_t server_hello_done;
	uint8_t new_session_ticket;
	uint8_t client_key_exchange;
	uint8_t abbreviated;         /* TLS <= 1.2 session resumption */
	uint8_t cert_request;        /* CertificateRequest seen (plaintext) */
	/* Judged because the handshake timer (--handshake-timeout) ran out while
	 * the capture went on, not because the capture ended (rules:
	 * capture.timed_out). */
	uint8_t timed_out;
	uint8_t ev_wide;             /* ev holds struct hs_event entries (see struct hs_ev_packed) */

	uint16_t n_alerts;
	uint32_t total_alerts;       /* alerts seen (saturates, never wraps) */
	struct hs_alert *alerts;     /* HS_MAX_ALERTS entries, allocated with the first
	                                (record_alerts()); owned; NULL while n_alerts is 0 */

	uint8_t nontls_dir;          /* 255 none */
	/* Derived by record_finish() (record_derive()), from the facts above:
	 * the alert that ended the handshake (hs_alert_ends_handshake()), as an
	 * index into alerts[]; 255 when no alert did. */
	uint8_t ending_alert;
	/* The record's moments (enum hs_rat_kind: completion, the non-TLS
	 * bytes, the CertificateRequest), read with hs_rat_frame() and
	 * hs_rat_ts(), written with record_rat(); see struct hs_at. */
	struct hs_at rat[HS_RAT_KEPT];

	uint16_t n_events, cap_events;
	uint32_t total_events;       /* events seen (saturates, never wraps) */
	void *ev;                    /* the ladder (struct hs_ev_packed above; read it with
	                                hs_ev()); grows by doubling up to HS_MAX_EVENTS;
	                                owned. Lazily, so an idle or SYN-only flow stays small */

	/* What the run knew of this server from its other connections when the
	 * record was handed to the rules (dissect/servers.h), or NULL; owned. */
	struct srv_known *known;
	/* What few connections have, allocated with the first such fact
	 * (record_rare()); NULL until then. Read it with hs_rare(). Owned. */
	struct hs_rare *rare;

	void *user;                  /* rules/report may hang data here; once reported,
	                                capture/rq.c links records awaiting release through it */



	/* Capture time at which the record was judged (record_finish): the
	 * end of the capture, or the moment a live handshake timed out. A
	 * silence lasts until then, not until the last packet. */
	int64_t judged_us;
};

/* The record's rare facts for reading: its own, or the shared empty one. */
extern const struct hs_rare hs_no_rare;
static inline const struct hs_rare *hs_rare(const struct hs_record *r)
{
	return r->rare ? r->rare : &hs_no_rare;
}
/* For writing: the record's own, allocated (zeroed, `pre` and `nontls`
 * empty) on first use; NULL when memory runs out (the fact is then not
 * kept; an anomaly bit set with it still tells). */
struct hs_rare *record_rare(struct hs_record *r);

/* Names for the enums above, for every output (stable: JSON uses them). */
const char *hs_stage_name(enum hs_stage s);
const char *hs_role_by_name(enum hs_role_by r);
const char *hs_ev_kind_name(enum hs_ev_kind k);
const char *hs_anomaly_name(enum hs_anomaly a);   /* one bit */
int hs_stage_from_name(const char *s);             /* -1 when unknown */

/* ClientHello / ServerHello (or HRR) structures, zeroed, with every list
 * at full capacity, for the parser (or a test) to fill; a record may own
 * one as is (record_free frees it). They come from small per-thread free
 * lists (record.c). The free functions free either kind. */
struct hs_client_hello *record_new_client_hello(void);
struct hs_server_hello *record_new_server_hello(void);
/* A compact copy of a filled hello, its lists sized to their `n` entries
 * in the same allocation; frees `full`. When memory runs out, `full`
 * itself is returned. */
struct hs_client_hello *record_keep_client_hello(struct hs_client_hello *full);
struct hs_server_hello *record_keep_server_hello(struct hs_server_hello *full);
void record_free_client_hello(struct hs_client_hello *ch);
void record_free_server_hello(struct hs_server_hello *sh);
/* Frees what the calling thread's free lists hold (at exit, for leak checkers). */
void record_pools_free(void);
struct hs_record *record_new(uint64_t id);
void record_free(struct hs_record *r);
/* Appends to the ladder; clips (and flags) past HS_MAX_EVENTS. Returns
 * 1 when the event was kept, 0 when not. The common case here (room in
 * the packed ladder, offsets that fit), the rest in record_event_slow(). */
int record_event_slow(struct hs_record *r, uint8_t dir, enum hs_ev_kind k,
		      uint64_t frame, int64_t ts_us, uint8_t hs_type, uint32_t len);
static inline int record_event(struct hs_record *r, uint8_t dir, enum hs_ev_kind k,
			       uint64_t frame, int64_t ts_us, uint8_t hs_type, uint32_t len)
{
	/* offsets modulo 2^64, kept when both fit 32 bits (frame in [0,
	 * 2^32), time in [-2^31, 2^31)): adding them back gives the exact
	 * values */
	uint64_t df = frame - r->first_frame;
	uint64_t dt = (uint64_t)ts_us - (uint64_t)r->first_ts_us;
	if (r->n_events < r->cap_events && !r->ev_wide && (df | (dt + 0x80000000u)) >> 32 == 0) {
		struct hs_ev_packed *e = (struct hs_ev_packed *)r->ev + r->n_events++;
		if (r->total_events < UINT32_MAX)
			r->total_events++;
		e->frame = (uint32_t)df;
		e->ts_us = (int32_t)(uint32_t)dt;
		e->dir = dir;
		e->kind = (uint8_t)k;
		e->hs_type = hs_type;
		e->aux = 0;
		e->len = len;
		return 1;
	}
	return record_event_slow(r, dir, k, frame, ts_us, hs_type, len);
}
/* Sets `aux` of the last event kept (n_events > 0). */
void record_event_aux(struct hs_record *r, uint8_t aux);

/* Sets moment k of direction dir (frame 0: none). Returns 0 when a
 * moment that does not fit in 32 bits, or one kept in the struct hs_rare,
 * could not be kept (out of memory: it then reads as none), else 1.
 * record_rat(): the record's moment k. */
__attribute__((cold)) int record_at_wide(struct hs_record *r, struct hs_at *a, unsigned slot, uint64_t frame,
					  int64_t ts_us);
/* Differences modulo 2^64 (no overflow to trap): dt is kept when it is
 * within [-2^31, 2^31) as such, and the reader adds it back modulo 2^64,
 * which gives the exact time whatever the two values were. */
static inline int record_at_in(struct hs_record *r, struct hs_at *a, unsigned slot, uint64_t frame, int64_t ts_us)
{
	uint64_t df = frame - r->first_frame;
	uint64_t dt = (uint64_t)ts_us - (uint64_t)r->first_ts_us;
	if (frame && df < HS_AT_WIDE - 1 && dt + 0x80000000u <= UINT32_MAX) {
		a->frame = (uint32_t)df + 1;
		a->ts = (int32_t)(uint32_t)dt;   /* two's complement: the low 32 bits of dt */
		return 1;
	}
	if (!frame) {
		a->frame = 0;
		a->ts = 0;
		return 1;
	}
	return record_at_wide(r, a, slot, frame, ts_us);
}

/* Where moment k (HS_AT_KEPT or after) of direction dir is kept, in the
 * record's struct hs_rare (allocated on first use; NULL when memory runs
 * out); record_rat_rare(): the record's moment k (HS_RAT_KEPT or after). */
struct hs_at *record_at_rare(struct hs_record *r, int dir, enum hs_at_kind k);
struct hs_at *record_rat_rare(struct hs_record *r, enum hs_rat_kind k);

static inline int record_at(struct hs_record *r, int dir, enum hs_at_kind k, uint64_t frame, int64_t ts_us)
{
	struct hs_at *a;
	if (k < HS_AT_KEPT)
		a = &r->d[dir].at[k];
	else if (!frame && !r->rare)
		return 1;               /* none, as it reads */
	else if (!(a = record_at_rare(r, dir, k)))
		return 0;               /* out of memory: it reads as none */
	return record_at_in(r, a, (unsigned)dir * HS_AT__N + k, frame, ts_us);
}

static inline int record_rat(struct hs_record *r, enum hs_rat_kind k, uint64_t frame, int64_t ts_us)
{
	struct hs_at *a;
	if (k < HS_RAT_KEPT)
		a = &r->rat[k];
	else if (!frame && !r->rare)
		return 1;
	else if (!(a = record_rat_rare(r, k)))
		return 0;
	return record_at_in(r, a, 2 * HS_AT__N + k, frame, ts_us);
}

/* Moment k of direction dir (of the record: hs_rat_get()) as kept. */
static inline const struct hs_at *hs_at_get(const struct hs_record *r, int dir, enum hs_at_kind k)
{
	return k < HS_AT_KEPT ? &r->d[dir].at[k] : &hs_rare(r)->at[dir][k - HS_AT_KEPT];
}

static inline const struct hs_at *hs_rat_get(const struct hs_record *r, enum hs_rat_kind k)
{
	return k < HS_RAT_KEPT ? &r->rat[k] : &hs_rare(r)->rat[k - HS_RAT_KEPT];
}

/* Frame and time of moment k of direction dir (hs_rat_*: of the record);
 * 0 and 0 when none. */
static inline uint64_t hs_at_frame_in(const struct hs_record *r, const struct hs_at *a, unsigned slot)
{
	if (a->frame == HS_AT_WIDE)
		return r->rare->at_wide->frame[slot];
	return a->frame ? r->first_frame + a->frame - 1 : 0;
}

static inline int64_t hs_at_ts_in(const struct hs_record *r, const struct hs_at *a, unsigned slot)
{
	if (a->frame == HS_AT_WIDE)
		return r->rare->at_wide->ts_us[slot];
	return a->frame ? (int64_t)((uint64_t)r->first_ts_us + (uint64_t)(int64_t)a->ts) : 0;
}

static inline uint64_t hs_at_frame(const struct hs_record *r, int dir, enum hs_at_kind k)
{
	return hs_at_frame_in(r, hs_at_get(r, dir, k), (unsigned)dir * HS_AT__N + k);
}

static inline int64_t hs_at_ts(const struct hs_record *r, int dir, enum hs_at_kind k)
{
	return hs_at_ts_in(r, hs_at_get(r, dir, k), (unsigned)dir * HS_AT__N + k);
}

static inline uint64_t hs_rat_frame(const struct hs_record *r, enum hs_rat_kind k)
{
	return hs_at_frame_in(r, hs_rat_get(r, k), 2 * HS_AT__N + k);
}

static inline int64_t hs_rat_ts(const struct hs_record *r, enum hs_rat_kind k)
{
	return hs_at_ts_in(r, hs_rat_get(r, k), 2 * HS_AT__N + k);
}

/* The record's last packet: frame and time (0 and 0 before any). */
static inline uint64_t hs_last_frame(const struct hs_record *r)
{
	uint64_t a = hs_at_frame(r, 0, HS_AT_LAST), b = hs_at_frame(r, 1, HS_AT_LAST);
	return a > b ? a : b;
}

static inline int64_t hs_last_ts(const struct hs_record *r)
{
	uint64_t a = hs_at_frame(r, 0, HS_AT_LAST), b = hs_at_frame(r, 1, HS_AT_LAST);
	if (!a && !b)
		return 0;
	return hs_at_ts(r, a > b ? 0 : 1, HS_AT_LAST);
}

/* Frame and time of chain c's Certificate message (c is r's server_chain
 * or hs_rare(r)->client_chain). */
static inline uint64_t hs_chain_frame(const struct hs_record *r, const struct hs_chain *c)
{
	return hs_rat_frame(r, c == &r->server_chain ? HS_RAT_SERVER_CERTS : HS_RAT_CLIENT_CERTS);
}

static inline int64_t hs_chain_ts(const struct hs_record *r, const struct hs_chain *c)
{
	return hs_rat_ts(r, c == &r->server_chain ? HS_RAT_SERVER_CERTS : HS_RAT_CLIENT_CERTS);
}

/* Event i (< n_events) of the ladder. */
static inline struct hs_event hs_ev(const struct hs_record *r, unsigned i)
{
	const struct hs_ev_packed *p;
	struct hs_event e;
	if (r->ev_wide)
		return ((const struct hs_event *)r->ev)[i];
	p = (const struct hs_ev_packed *)r->ev + i;
	e.frame = r->first_frame + p->frame;
	e.ts_us = (int64_t)((uint64_t)r->first_ts_us + (uint64_t)(int64_t)p->ts_us);   /* modulo 2^64, as stored */
	e.dir = p->dir;
	e.kind = p->kind;
	e.hs_type = p->hs_type;
	e.aux = p->aux;
	e.len = p->len;
	return e;
}
/* The certificate array of a chain, allocated on first use with room for
 * `want` certificates (the message's count: 1 to HS_MAX_CERTS, clipped to
 * that range); NULL when memory runs out (the certificates are then
 * counted, not kept). */
struct hs_cert *record_chain_certs(struct hs_chain *ch, uint32_t want);
/* The record's steering facts, allocated on first use; NULL when memory
 * runs out (the anomaly bit and hs_dirstats counters still tell). */
struct hs_steer *record_steer(struct hs_record *r);
/* The record's rarely used parts, allocated on first use (an open
 * connection that needs none stays small); NULL when memory runs out
 * (the fact is then not kept). record_pre() and record_nontls() give
 * HS_NONTLS_BYTES writable bytes, record_alerts() HS_MAX_ALERTS entries. */
uint8_t *record_pre(struct hs_record *r, int dir);
/* When direction `dir`'s first plaintext byte came (record_pre_at() sets
 * it, after record_pre()); 0 while pre_len is 0. */
void record_pre_at(struct hs_record *r, int dir, uint64_t frame, int64_t ts_us);
uint64_t record_pre_frame(const struct hs_record *r, int dir);
int64_t record_pre_ts(const struct hs_record *r, int dir);
uint8_t *record_nontls(struct hs_record *r);
struct hs_alert *record_alerts(struct hs_record *r);
struct hs_encap *record_encap(struct hs_record *r, int dir);
/* Swaps the two directions (roles learned late). */
void record_swap_dirs(struct hs_record *r);
/* 1 or 2 when the client's stream began with a PROXY protocol header of
 * that version (its first bytes, `pre`), else 0. */
int record_proxy_header(const struct hs_record *r);
/* 1 when the client's first bytes are an HTTP/1.x request line (a method,
 * a target, " HTTP/1." before the line ends). */
int record_http_request(const struct hs_record *r);
/* The HTTP/1.x status code of the server's first decrypted application
 * data (--keylog), else 0. */
int record_http_status(const struct hs_record *r);
/* Decides the stage from the facts, after record_derive(); called once the
 * flow is over. */
void record_finish(struct hs_record *r, int64_t capture_end_us);
/* Computes the derived facts (ch->max_offered, ch2->max_offered,
 * ending_alert) from the others; idempotent. record_finish() calls it: a
 * record built by hand (tests) calls it before the rules read it. */
void record_derive(struct hs_record *r);

/* The highest version a ClientHello offers: the highest non-GREASE entry
 * of supported_versions, a TLS 1.3 draft (0x7fXX) counting as TLS 1.3
 * (0x0304); without the extension, or with no such entry in it, the
 * legacy_version. */
uint16_t hs_max_offered(const struct hs_client_hello *c);

/* 1 when this alert ends a handshake: encrypted (level unknown), fatal, or
 * a warning other than close_notify, user_canceled and no_renegotiation
 * (named in dissect/names.h: ALERT_LEVEL_WARNING, ALERT_CLOSE_NOTIFY...). */
int hs_alert_ends_handshake(const struct hs_alert *a);

#endif
