/*
 * vocab.c - the fact vocabulary of rule files: every fact name, its type,
 * how it is read from a handshake record, and how conditions on it are
 * evaluated.
 *
 * Invariants
 *  - rk_facts[] is indexed by enum fact_id; docs/rules.md lists the same
 *    names (a unit test checks that every name here appears there).
 *  - A fact that the capture does not hold (no ServerHello, no alert, no
 *    certificate) is *absent*: rk_fact_get() returns 0 and every `when`
 *    condition on it is false (and every `unless` true). Rules test
 *    presence explicitly with the *.present facts.
 *  - List facts skip GREASE values (RFC 8701) and, for cipher suites, the
 *    signalling values TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00FF) and
 *    TLS_FALLBACK_SCSV (0x5600): they are not offers.
 *  - Nothing here allocates; lists built on the fly live in struct rk_val.
 */
#include "rules/rule_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dissect/names.h"
#include "dissect/record.h"
#include "dissect/servers.h"
#include "dissect/x509.h"

enum fact_id {
	F_STAGE, F_TLS, F_COMPLETE, F_CLIENT_PORT, F_SERVER_PORT,
	F_CLIENT_SYN, F_CLIENT_SYN_FRAME, F_CLIENT_SYN_TIME,
	F_SERVER_SYNACK, F_SERVER_SYNACK_FRAME,
	F_CLIENT_FIN, F_CLIENT_FIN_FRAME, F_CLIENT_RST, F_CLIENT_RST_FRAME,
	F_SERVER_FIN, F_SERVER_FIN_FRAME, F_SERVER_RST, F_SERVER_RST_FRAME,
	F_CLIENT_BYTES, F_SERVER_BYTES, F_CLIENT_PACKETS, F_SERVER_PACKETS,
	F_CLOSED_BY, F_CLOSED_WITH, F_CLOSED_AFTER, F_CLOSED_FRAME, F_CLOSED_TIME,
	F_T_CONNECT, F_T_SYN_UNANSWERED, F_T_CAPTURE_AFTER_SYN,
	F_T_CH_TO_SERVER_BYTE, F_T_CH_UNANSWERED, F_T_CH_TO_CLOSE, F_T_CH_TO_ALERT,
	F_T_CAPTURE_AFTER_CH, F_T_IDLE_BEFORE_CLOSE,
	F_CH_PRESENT, F_CH_FRAME, F_CH_TIME, F_CH_LEGACY, F_CH_MAXV, F_CH_MINV, F_CH_VERSIONS,
	F_CH_SUITES, F_CH_GROUPS, F_CH_KEYSHARES, F_CH_SIGALGS, F_CH_EXTS,
	F_CH_SNI_PRESENT, F_CH_SNI, F_CH_ALPN_PRESENT, F_CH_LENGTH, F_CH_SEGMENTS, F_CH_SSLV2,
	F_CH_COUNT,
	F_CLIENT_IDENTITY, F_CLIENT_AWS, F_CLIENT_DESCRIPTION, F_CLIENT_MATCH,
	F_SH_PRESENT, F_SH_FRAME, F_SH_TIME, F_SH_VERSION, F_SH_SUITE, F_SH_GROUP,
	F_HRR_PRESENT, F_HRR_GROUP,
	F_CERT_PRESENT, F_CERT_KNOWN, F_CERT_FRAME, F_CERT_COUNT, F_CERT_EXPIRED,
	F_CERT_NOT_YET_VALID, F_CERT_CHAIN_EXPIRED, F_CERT_SELF_SIGNED, F_CERT_KEY, F_CERT_BITS,
	F_CERT_SUBJECT, F_CERT_ISSUER, F_CERT_SAN, F_CERT_NOT_AFTER, F_CERT_LINKED,
	F_CERT_LEAF_LINK, F_CERT_COMPLETE, F_CERT_MALFORMED, F_CERT_KEY_SUITES, F_CERT_KEY_SIGALGS,
	F_CERT_REQUEST, F_CERT_REQUEST_FRAME, F_CCERT_PRESENT, F_CCERT_COUNT,
	F_ALERT_PRESENT, F_ALERT_SENDER, F_ALERT_LEVEL, F_ALERT_DESC, F_ALERT_ENC, F_ALERT_AFTER,
	F_ALERT_FRAME, F_ALERT_TIME, F_ALERTS_CLIENT, F_ALERTS_SERVER, F_ALERTS_COUNT,
	F_NONTLS_PRESENT, F_NONTLS_SENDER, F_NONTLS_BYTES, F_NONTLS_FRAME, F_NONTLS_TIME,
	F_ENCHS_CLIENT, F_ENCHS_SERVER, F_APPDATA_CLIENT, F_APPDATA_SERVER, F_RESUMED,
	F_SKE_DH_BITS,
	F_DATA_AFTER_FIN, F_DATA_AFTER_FIN_FRAME, F_STARTTLS,
	F_ANOMALIES, F_LOSSY, F_ONE_SIDED, F_GAPS, F_RETRANS, F_MIDSTREAM,
	F_SUITES_RSA, F_SUITES_ECDSA, F_SUITES_TLS13, F_SUITES_STATIC_RSA,
	F_SRV_OTHERS, F_SRV_TLS, F_SRV_COMPLETED, F_SRV_COMPLETED_SNI, F_SRV_COMPLETED_NOSNI,
	F_SRV_COMPLETED_CONN, F_SRV_COMPLETED_SUITE, F_SRV_SUITES, F_SRV_VERSIONS, F_SRV_SAME_OFFER,
	F_SRV_SAME_OFFER_CONN,
	F_CERT_KEY_GROUP, F_CH_EMS, F_CH_ALPN_H2, F_CH_ALPN_HTTP1, F_SH_ALPN,
	F_CLIENT_FIRST, F_SERVER_FIRST, F_PROXY_PRESENT, F_PROXY_VERSION, F_SERVER_SPOKE_FIRST, F_CLIENT_TLS,
	F_T_CH_TO_SH, F_T_HANDSHAKE, F_T_STALL, F_CERT_GROUP_OFFERED, F_SERVER_TLS, F_CLIENT_HTTP,
	F_SRV_GROUPS, F_SRV_COMPLETED_EMS, F_SRV_COMPLETED_NOEMS, F_SRV_SAME_NAME, F_SRV_COMPLETED_PROXY,
	F_SERVER_RETRANS, F_CLIENT_RETRANS, F_SERVER_AFTER_HS, F_CLIENT_AFTER_HS, F_TIMED_OUT,
	F_DECRYPTED, F_HTTP_STATUS,
	F_CONFLICTS, F_CONFLICT_FRAME, F_CONFLICT_SENDER, F_OUT_OF_WINDOW, F_BAD_CHECKSUMS,
	F_CLIENT_TLS_MALFORMED, F_SERVER_TLS_MALFORMED, F_CLIENT_TLS_CUT, F_SERVER_TLS_CUT,
	F__COUNT
};

const struct rk_fact rk_facts[F__COUNT] = {
	[F_STAGE] = { "stage", T_CODE, VK_STAGE, "how far the connection got" },
	[F_TLS] = { "tls", T_BOOL, 0, "some TLS was seen in either direction" },
	[F_COMPLETE] = { "complete", T_BOOL, 0, "both sides finished the handshake" },
	[F_CLIENT_PORT] = { "client.port", T_INT, 0, "client TCP port" },
	[F_SERVER_PORT] = { "server.port", T_INT, 0, "server TCP port" },
	[F_CLIENT_SYN] = { "client.syn", T_BOOL, 0, "the client's SYN was captured" },
	[F_CLIENT_SYN_FRAME] = { "client.syn.frame", T_FRAME, 0, "frame of the SYN" },
	[F_CLIENT_SYN_TIME] = { "client.syn.time", T_TIME, 0, "capture time of the SYN" },
	[F_SERVER_SYNACK] = { "server.synack", T_BOOL, 0, "the server's SYN-ACK was captured" },
	[F_SERVER_SYNACK_FRAME] = { "server.synack.frame", T_FRAME, 0, "frame of the SYN-ACK" },
	[F_CLIENT_FIN] = { "client.fin", T_BOOL, 0, "the client sent a FIN" },
	[F_CLIENT_FIN_FRAME] = { "client.fin.frame", T_FRAME, 0, "frame of the client's first FIN" },
	[F_CLIENT_RST] = { "client.rst", T_BOOL, 0, "the client sent a RST" },
	[F_CLIENT_RST_FRAME] = { "client.rst.frame", T_FRAME, 0, "frame of the client's first RST" },
	[F_SERVER_FIN] = { "server.fin", T_BOOL, 0, "the server sent a FIN" },
	[F_SERVER_FIN_FRAME] = { "server.fin.frame", T_FRAME, 0, "frame of the server's first FIN" },
	[F_SERVER_RST] = { "server.rst", T_BOOL, 0, "the server sent a RST" },
	[F_SERVER_RST_FRAME] = { "server.rst.frame", T_FRAME, 0, "frame of the server's first RST" },
	[F_CLIENT_BYTES] = { "client.bytes", T_INT, 0, "TCP payload bytes the client sent" },
	[F_SERVER_BYTES] = { "server.bytes", T_INT, 0, "TCP payload bytes the server sent" },
	[F_CLIENT_PACKETS] = { "client.packets", T_INT, 0, "packets the client sent" },
	[F_SERVER_PACKETS] = { "server.packets", T_INT, 0, "packets the server sent" },
	[F_CLOSED_BY] = { "closed.by", T_CODE, VK_SIDE, "who closed first (FIN or RST): client, server, none" },
	[F_CLOSED_WITH] = { "closed.with", T_CODE, VK_CLOSE, "how the first close was made: fin, rst, none" },
	[F_CLOSED_AFTER] = { "closed.after", T_CODE, VK_MSG, "the last message or event before the close" },
	[F_CLOSED_FRAME] = { "closed.frame", T_FRAME, 0, "frame of the first FIN or RST" },
	[F_CLOSED_TIME] = { "closed.time", T_TIME, 0, "capture time of the first FIN or RST" },
	[F_T_CONNECT] = { "time.connect", T_DUR, 0, "SYN to SYN-ACK" },
	[F_T_SYN_UNANSWERED] = { "time.syn_unanswered", T_DUR, 0,
		"no SYN-ACK: first SYN to the flow's last packet" },
	[F_T_CAPTURE_AFTER_SYN] = { "time.capture_after_syn", T_DUR, 0,
		"first SYN to the end of the capture (how long the capture could watch)" },
	[F_T_CH_TO_SERVER_BYTE] = { "time.ch_to_server_byte", T_DUR, 0,
		"ClientHello to the server's first payload byte" },
	[F_T_CH_UNANSWERED] = { "time.ch_unanswered", T_DUR, 0,
		"the server sent no byte: ClientHello to the first close, else to the end of the capture" },
	[F_T_CH_TO_CLOSE] = { "time.ch_to_close", T_DUR, 0, "ClientHello to the first FIN or RST" },
	[F_T_CH_TO_ALERT] = { "time.ch_to_alert", T_DUR, 0, "ClientHello to the deciding alert" },
	[F_T_CAPTURE_AFTER_CH] = { "time.capture_after_ch", T_DUR, 0,
		"ClientHello to the end of the capture" },
	[F_T_IDLE_BEFORE_CLOSE] = { "time.idle_before_close", T_DUR, 0,
		"the quiet time between the last event before the close and the close" },
	[F_CH_PRESENT] = { "ch.present", T_BOOL, 0, "a ClientHello was seen" },
	[F_CH_FRAME] = { "ch.frame", T_FRAME, 0, "frame that completed the ClientHello" },
	[F_CH_TIME] = { "ch.time", T_TIME, 0, "capture time of the ClientHello" },
	[F_CH_LEGACY] = { "ch.legacy_version", T_CODE, VK_VERSION, "ClientHello legacy_version" },
	[F_CH_MAXV] = { "ch.max_version", T_CODE, VK_VERSION,
		"highest version offered (supported_versions, GREASE aside, a draft 0x7fXX as TLS 1.3; else legacy_version)" },
	[F_CH_MINV] = { "ch.min_version", T_CODE, VK_VERSION,
		"lowest version offered in supported_versions (absent without that extension)" },
	[F_CH_VERSIONS] = { "ch.versions", T_LIST, VK_VERSION, "supported_versions, in order" },
	[F_CH_SUITES] = { "ch.suites", T_LIST, VK_SUITE, "cipher suites offered, in order" },
	[F_CH_GROUPS] = { "ch.groups", T_LIST, VK_GROUP, "supported_groups, in order" },
	[F_CH_KEYSHARES] = { "ch.key_shares", T_LIST, VK_GROUP, "groups with a key share" },
	[F_CH_SIGALGS] = { "ch.sigalgs", T_LIST, VK_SIGALG, "signature_algorithms, in order" },
	[F_CH_EXTS] = { "ch.extensions", T_LIST, VK_EXT, "extension types, in order" },
	[F_CH_SNI_PRESENT] = { "ch.sni.present", T_BOOL, 0, "the ClientHello carried server_name" },
	[F_CH_SNI] = { "ch.sni", T_STR, 0, "the host name in server_name" },
	[F_CH_ALPN_PRESENT] = { "ch.alpn.present", T_BOOL, 0, "the ClientHello carried ALPN" },
	[F_CH_LENGTH] = { "ch.length", T_INT, 0, "ClientHello message length in bytes" },
	[F_CH_SEGMENTS] = { "ch.segments", T_INT, 0, "TCP segments that carried the ClientHello" },
	[F_CH_SSLV2] = { "ch.sslv2", T_BOOL, 0, "SSLv2-compatible ClientHello" },
	[F_CH_COUNT] = { "ch.count", T_INT, 0, "ClientHellos seen (2 after a HelloRetryRequest)" },
	[F_CLIENT_IDENTITY] = { "client.identity", T_CODE, VK_LISTNAME,
		"the identity list the offer matches best (`list ... identity`; exact, same-suites or close), else absent" },
	[F_CLIENT_AWS] = { "client.aws_lb", T_BOOL, 0,
		"the offer matches an identity list of vendor aws exactly or with the same suites (an AWS load balancer)" },
	[F_CLIENT_DESCRIPTION] = { "client.description", T_STR, 0, "the matched identity's text" },
	[F_CLIENT_MATCH] = { "client.match", T_CODE, VK_MATCH,
		"how exact the identity match is: exact, same-suites, close, unknown (no identity)" },
	[F_SH_PRESENT] = { "sh.present", T_BOOL, 0, "a ServerHello (not a HelloRetryRequest) was seen" },
	[F_SH_FRAME] = { "sh.frame", T_FRAME, 0, "frame of the ServerHello" },
	[F_SH_TIME] = { "sh.time", T_TIME, 0, "capture time of the ServerHello" },
	[F_SH_VERSION] = { "sh.version", T_CODE, VK_VERSION, "version the server selected" },
	[F_SH_SUITE] = { "sh.suite", T_CODE, VK_SUITE, "cipher suite the server selected" },
	[F_SH_GROUP] = { "sh.group", T_CODE, VK_GROUP,
		"key exchange group (TLS 1.3 key_share, else ServerKeyExchange)" },
	[F_HRR_PRESENT] = { "hrr.present", T_BOOL, 0, "a HelloRetryRequest was seen" },
	[F_HRR_GROUP] = { "hrr.group", T_CODE, VK_GROUP, "group the HelloRetryRequest asked for" },
	[F_CERT_PRESENT] = { "cert.present", T_BOOL, 0,
		"the server's Certificate message was seen in this connection" },
	[F_CERT_KNOWN] = { "cert.known", T_BOOL, 0,
		"the server's leaf certificate is known (here, or from another connection to it)" },
	[F_CERT_FRAME] = { "cert.frame", T_FRAME, 0, "frame of the server's Certificate" },
	[F_CERT_COUNT] = { "cert.count", T_INT, 0, "certificates in the server's chain" },
	[F_CERT_EXPIRED] = { "cert.expired", T_BOOL, 0, "the leaf had expired at capture time" },
	[F_CERT_NOT_YET_VALID] = { "cert.not_yet_valid", T_BOOL, 0,
		"the leaf was not yet valid at capture time" },
	[F_CERT_CHAIN_EXPIRED] = { "cert.chain_expired", T_BOOL, 0,
		"some certificate of the chain had expired at capture time" },
	[F_CERT_SELF_SIGNED] = { "cert.self_signed", T_BOOL, 0, "the leaf is self-signed" },
	[F_CERT_KEY] = { "cert.key_type", T_CODE, VK_KEY, "leaf key: rsa, ec, ed25519, ed448, dsa, rsa_pss" },
	[F_CERT_BITS] = { "cert.key_bits", T_INT, 0, "leaf key size in bits" },
	[F_CERT_SUBJECT] = { "cert.subject", T_STR, 0, "leaf subject" },
	[F_CERT_ISSUER] = { "cert.issuer", T_STR, 0, "leaf issuer" },
	[F_CERT_SAN] = { "cert.san", T_STR, 0, "leaf subjectAltName (DNS and IP)" },
	[F_CERT_NOT_AFTER] = { "cert.not_after", T_TIME, 0, "leaf notAfter" },
	[F_CERT_LINKED] = { "cert.chain_linked", T_BOOL, 0,
		"every certificate is issued by the next one in the message" },
	[F_CERT_LEAF_LINK] = { "cert.issued_by_next", T_CODE, VK_LINK,
		"whether the leaf is issued by the next certificate: yes, no, unknown" },
	[F_CERT_COMPLETE] = { "cert.chain_complete", T_BOOL, 0,
		"linked, and ends in a self-issued certificate or holds at least one intermediate" },
	[F_CERT_MALFORMED] = { "cert.malformed", T_BOOL, 0, "a certificate did not parse" },
	[F_CERT_KEY_SUITES] = { "cert.key_suites", T_SET, VK_SUITE,
		"the cipher suites the leaf's key type can authenticate (TLS 1.3 suites: any key)" },
	[F_CERT_KEY_SIGALGS] = { "cert.key_sigalgs", T_SET, VK_SIGALG,
		"the signature schemes the leaf's key type can produce" },
	[F_CERT_REQUEST] = { "cert_request", T_BOOL, 0, "the server sent a CertificateRequest (plaintext)" },
	[F_CERT_REQUEST_FRAME] = { "cert_request.frame", T_FRAME, 0, "frame of the CertificateRequest" },
	[F_CCERT_PRESENT] = { "client_cert.present", T_BOOL, 0, "the client sent a Certificate message" },
	[F_CCERT_COUNT] = { "client_cert.count", T_INT, 0, "certificates in it (0 = an empty message)" },
	[F_ALERT_PRESENT] = { "alert.present", T_BOOL, 0, "an alert was seen" },
	[F_ALERT_SENDER] = { "alert.sender", T_CODE, VK_SIDE,
		"who sent the deciding alert (the first fatal or encrypted one, else the first)" },
	[F_ALERT_LEVEL] = { "alert.level", T_CODE, VK_LEVEL, "warning, fatal, unknown (encrypted)" },
	[F_ALERT_DESC] = { "alert.description", T_CODE, VK_ALERT, "alert description (absent when encrypted)" },
	[F_ALERT_ENC] = { "alert.encrypted", T_BOOL, 0, "the alert was encrypted" },
	[F_ALERT_AFTER] = { "alert.after", T_CODE, VK_MSG,
		"the last handshake message the other side sent before the alert" },
	[F_ALERT_FRAME] = { "alert.frame", T_FRAME, 0, "frame of the deciding alert" },
	[F_ALERT_TIME] = { "alert.time", T_TIME, 0, "capture time of the deciding alert" },
	[F_ALERTS_CLIENT] = { "alerts.client", T_LIST, VK_ALERT, "descriptions of every plaintext alert the client sent" },
	[F_ALERTS_SERVER] = { "alerts.server", T_LIST, VK_ALERT, "descriptions of every plaintext alert the server sent" },
	[F_ALERTS_COUNT] = { "alerts.count", T_INT, 0, "alerts seen, both directions" },
	[F_NONTLS_PRESENT] = { "nontls.present", T_BOOL, 0, "one side answered with bytes that are not TLS" },
	[F_NONTLS_SENDER] = { "nontls.sender", T_CODE, VK_SIDE, "who sent them" },
	[F_NONTLS_BYTES] = { "nontls.bytes", T_BYTES, 0, "their first bytes (up to 64)" },
	[F_NONTLS_FRAME] = { "nontls.frame", T_FRAME, 0, "frame of the first non-TLS bytes" },
	[F_NONTLS_TIME] = { "nontls.time", T_TIME, 0, "capture time of the first non-TLS bytes" },
	[F_ENCHS_CLIENT] = { "client.encrypted_handshake", T_INT, 0, "encrypted handshake records from the client" },
	[F_ENCHS_SERVER] = { "server.encrypted_handshake", T_INT, 0, "encrypted handshake records from the server" },
	[F_APPDATA_CLIENT] = { "client.appdata", T_INT, 0, "application_data records from the client" },
	[F_APPDATA_SERVER] = { "server.appdata", T_INT, 0, "application_data records from the server" },
	[F_RESUMED] = { "resumed", T_BOOL, 0, "TLS 1.2 abbreviated handshake (session resumption)" },
	[F_SKE_DH_BITS] = { "ske.dh_bits", T_INT, 0, "DHE prime size in the ServerKeyExchange" },
	[F_DATA_AFTER_FIN] = { "client.data_after_server_fin", T_BOOL, 0,
		"the client sent application data (not an alert, whatever segments carry it) after the server's FIN: a request raced the close" },
	[F_DATA_AFTER_FIN_FRAME] = { "client.data_after_server_fin.frame", T_FRAME, 0,
		"frame of that payload" },
	[F_STARTTLS] = { "starttls", T_BOOL, 0,
		"the client spoke plaintext before TLS (SMTP/IMAP/POP3 STARTTLS and the like): not a load balancer connection" },
	[F_ANOMALIES] = { "capture.anomalies", T_LIST, VK_ANOMALY, "capture and parse anomalies (names below)" },
	[F_LOSSY] = { "capture.lossy", T_BOOL, 0,
		"bytes or a whole direction are missing: gap, truncation, a cap hit, eviction, one-sided, or a server that answered in TLS a ClientHello the capture lacks" },
	[F_ONE_SIDED] = { "capture.one_sided", T_BOOL, 0, "only one direction was captured: no server packet although the client sent data or the capture began mid-stream, or no client packet" },
	[F_GAPS] = { "capture.gaps", T_INT, 0, "stream gaps, both directions" },
	[F_RETRANS] = { "capture.retransmissions", T_INT, 0, "retransmissions, both directions" },
	[F_MIDSTREAM] = { "capture.midstream", T_BOOL, 0, "the capture started after the SYN" },
	[F_SUITES_RSA] = { "suites.rsa_auth", T_SET, VK_SUITE,
		"every TLS 1.0-1.2 suite that needs an RSA certificate (IANA table)" },
	[F_SUITES_ECDSA] = { "suites.ecdsa_auth", T_SET, VK_SUITE,
		"every TLS 1.0-1.2 suite that needs an ECDSA (or EdDSA) certificate" },
	[F_SUITES_TLS13] = { "suites.tls13", T_SET, VK_SUITE, "every TLS 1.3 suite (any certificate key)" },
	[F_SUITES_STATIC_RSA] = { "suites.static_rsa", T_SET, VK_SUITE,
		"suites with RSA key transport (no forward secrecy)" },
	[F_SRV_OTHERS] = { "server.others", T_INT, 0,
		"other connections to this server (address and port) in the run (per-server knowledge)" },
	[F_SRV_TLS] = { "server.others.tls", T_INT, 0,
		"of those, the ones where the server answered in TLS (a ServerHello or a TLS alert)" },
	[F_SRV_COMPLETED] = { "server.others.completed", T_INT, 0,
		"of those, the ones whose handshake completed" },
	[F_SRV_COMPLETED_SNI] = { "server.others.completed_with_sni", T_INT, 0,
		"completed ones whose ClientHello carried server_name" },
	[F_SRV_COMPLETED_NOSNI] = { "server.others.completed_without_sni", T_INT, 0,
		"completed ones whose ClientHello had no server_name" },
	[F_SRV_COMPLETED_CONN] = { "server.others.completed_conn", T_INT, 0,
		"the id of the first other connection that completed (absent: none)" },
	[F_SRV_COMPLETED_SUITE] = { "server.others.completed_suite", T_CODE, VK_SUITE,
		"the suite the server selected on that connection" },
	[F_SRV_SUITES] = { "server.others.suites", T_LIST, VK_SUITE,
		"cipher suites the server selected on other connections" },
	[F_SRV_VERSIONS] = { "server.others.versions", T_LIST, VK_VERSION,
		"versions the server selected on other connections" },
	[F_SRV_SAME_OFFER] = { "server.others.same_offer_completed", T_BOOL, 0,
		"another connection with this very cipher-suite offer completed with this server" },
	[F_SRV_SAME_OFFER_CONN] = { "server.others.same_offer_conn", T_INT, 0,
		"the id of that connection (absent when unknown)" },
	[F_SRV_COMPLETED_PROXY] = { "server.others.completed_with_proxy", T_INT, 0,
		"completed ones whose client sent a PROXY protocol header first" },
	[F_SERVER_RETRANS] = { "server.retransmissions", T_INT, 0, "segments the server sent again (retransmissions)" },
	[F_CLIENT_RETRANS] = { "client.retransmissions", T_INT, 0, "segments the client sent again (retransmissions)" },
	[F_SERVER_AFTER_HS] = { "server.bytes_after_handshake", T_INT, 0,
		"payload bytes the server sent after the record that completed the handshake, by sequence number (absent: not complete)" },
	[F_CLIENT_AFTER_HS] = { "client.bytes_after_handshake", T_INT, 0,
		"payload bytes the client sent after the record that completed the handshake, by sequence number (absent: not complete)" },
	[F_DECRYPTED] = { "decrypted", T_BOOL, 0,
		"--keylog: records of this connection were decrypted (the facts they showed are in the record)" },
	[F_HTTP_STATUS] = { "server.http_status", T_INT, 0,
		"the HTTP/1.x status code of the server's first decrypted application data (absent without keys or without an HTTP answer)" },
	[F_CONFLICTS] = { "capture.conflicts", T_INT, 0,
		"times a second copy of stream bytes differed from the first (the first was kept), both directions" },
	[F_CONFLICT_FRAME] = { "capture.conflict.frame", T_FRAME, 0,
		"the first frame whose bytes differed from the copy already captured (absent: none)" },
	[F_CONFLICT_SENDER] = { "capture.conflict.sender", T_CODE, VK_SIDE,
		"the direction of that frame: client or server (absent: none)" },
	[F_OUT_OF_WINDOW] = { "capture.out_of_window", T_INT, 0,
		"segments and ACKs far outside the advertised window (ignored), both directions" },
	[F_BAD_CHECKSUMS] = { "capture.bad_checksums", T_INT, 0,
		"segments with a bad checksum in a direction whose checksums are real (ignored: the peer dropped them), both directions" },
	[F_TIMED_OUT] = { "capture.timed_out", T_BOOL, 0,
		"the connection was judged when the handshake timer (--handshake-timeout) ran out while the capture went on, not at the end of the capture" },
	[F_SRV_GROUPS] = { "server.others.groups", T_LIST, VK_GROUP,
		"key-exchange groups the server selected on other connections (key_share or ServerKeyExchange)" },
	[F_SRV_COMPLETED_EMS] = { "server.others.completed_with_ems", T_INT, 0,
		"completed ones whose ClientHello offered extended_master_secret" },
	[F_SRV_COMPLETED_NOEMS] = { "server.others.completed_without_ems", T_INT, 0,
		"completed ones whose ClientHello did not offer extended_master_secret" },
	[F_SRV_SAME_NAME] = { "server.others.same_name_completed", T_BOOL, 0,
		"another connection with this very server_name completed with this server" },
	[F_CERT_KEY_GROUP] = { "cert.key_group", T_CODE, VK_GROUP,
		"the leaf's elliptic curve as a TLS named group (secp256r1, secp521r1, brainpoolP256r1...); absent for other keys" },
	[F_CH_EMS] = { "ch.extended_master_secret", T_BOOL, 0, "the ClientHello offered extended_master_secret (RFC 7627)" },
	[F_CH_ALPN_H2] = { "ch.alpn.h2", T_BOOL, 0, "the ClientHello's ALPN offered h2" },
	[F_CH_ALPN_HTTP1] = { "ch.alpn.http1", T_BOOL, 0, "the ClientHello's ALPN offered http/1.1" },
	[F_SH_ALPN] = { "sh.alpn", T_STR, 0, "the protocol the ServerHello (TLS 1.2) selected by ALPN" },
	[F_CLIENT_FIRST] = { "client.first_bytes", T_BYTES, 0,
		"the client's first bytes when its stream did not begin with TLS (a PROXY header, an HTTP request...), up to 64" },
	[F_SERVER_FIRST] = { "server.first_bytes", T_BYTES, 0,
		"the server's first bytes when its stream did not begin with TLS (a banner, an HTTP answer...), up to 64" },
	[F_PROXY_PRESENT] = { "proxy.present", T_BOOL, 0,
		"the client's stream began with a PROXY protocol header (v1 text or v2 binary)" },
	[F_PROXY_VERSION] = { "proxy.version", T_INT, 0, "1 or 2: the PROXY protocol version of that header" },
	[F_SERVER_SPOKE_FIRST] = { "server.spoke_first", T_BOOL, 0,
		"the server sent payload before the client's first payload (a banner)" },
	[F_CLIENT_TLS] = { "client.tls", T_BOOL, 0, "the client's stream was parsed as TLS" },
	[F_T_CH_TO_SH] = { "time.ch_to_sh", T_DUR, 0, "ClientHello to ServerHello" },
	[F_T_HANDSHAKE] = { "time.handshake", T_DUR, 0,
		"ClientHello to the end of the handshake: completion, else the deciding alert, else the first close, else the end of the capture" },
	[F_CERT_GROUP_OFFERED] = { "cert.key_group_offered", T_BOOL, 0,
		"the leaf's elliptic curve is in the ClientHello's supported_groups (absent for keys that are not EC)" },
	[F_SERVER_TLS] = { "server.tls", T_BOOL, 0, "the server's stream was parsed as TLS" },
	[F_CLIENT_HTTP] = { "client.http_request", T_BOOL, 0,
		"the client's first bytes are a plain HTTP request line (GET / HTTP/1.1 ...)" },
	[F_CLIENT_TLS_MALFORMED] = { "client.tls_malformed", T_BOOL, 0,
		"the client's TLS broke the framing: a record header with a bad version or length, a hello or certificate list that does not parse" },
	[F_SERVER_TLS_MALFORMED] = { "server.tls_malformed", T_BOOL, 0,
		"the server's TLS broke the framing: a record header with a bad version or length, a hello or certificate list that does not parse" },
	[F_CLIENT_TLS_CUT] = { "client.tls_cut", T_BOOL, 0,
		"the client's TLS stream ended inside a record or a handshake message: the bytes its length promised never came" },
	[F_SERVER_TLS_CUT] = { "server.tls_cut", T_BOOL, 0,
		"the server's TLS stream ended inside a record or a handshake message: the bytes its length promised never came" },
	[F_T_STALL] = { "time.handshake_stall", T_DUR, 0,
		"the longest quiet time between two packets' events of the handshake, from the ClientHello to its end (as time.handshake)" },
};
const size_t rk_facts_n = F__COUNT;

int rk_fact_by_name(const char *name)
{
	size_t i;
	for (i = 0; i < F__COUNT; i++)
		if (strcmp(rk_facts[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *rk_type_name(int type)
{
	switch (type) {
	case T_BOOL: return "bool";
	case T_INT: return "number";
	case T_DUR: return "duration";
	case T_TIME: return "time";
	case T_FRAME: return "frame";
	case T_CODE: return "value";
	case T_LIST: return "list";
	case T_SET: return "set";
	case T_STR: return "string";
	case T_BYTES: return "bytes";
	}
	return "?";
}

const char *rk_kind_name(int kind)
{
	switch (kind) {
	case VK_NONE: return "";
	case VK_NUM: return "number";
	case VK_STAGE: return "stage";
	case VK_SIDE: return "side";
	case VK_MSG: return "message";
	case VK_KEY: return "key";
	case VK_CLOSE: return "close";
	case VK_LEVEL: return "level";
	case VK_ANOMALY: return "anomaly";
	case VK_SUITE: return "suite";
	case VK_GROUP: return "group";
	case VK_SIGALG: return "sigalg";
	case VK_VERSION: return "version";
	case VK_ALERT: return "alert";
	case VK_EXT: return "extension";
	case VK_LINK: return "link";
	case VK_LISTNAME: return "list";
	case VK_MATCH: return "match";
	}
	return "?";
}

/* ---- value names ------------------------------------------------------ */

static const struct tok16 msg_names[] = {
	{ 0, "hello_request" }, { 1, "client_hello" }, { 2, "server_hello" },
	{ 4, "new_session_ticket" }, { 5, "end_of_early_data" }, { 8, "encrypted_extensions" },
	{ 11, "certificate" }, { 12, "server_key_exchange" }, { 13, "certificate_request" },
	{ 14, "server_hello_done" }, { 15, "certificate_verify" }, { 16, "client_key_exchange" },
	{ 20, "finished" }, { 22, "certificate_status" }, { 24, "key_update" },
	{ 256 + EV_SYN, "syn" }, { 256 + EV_SYNACK, "synack" }, { 256 + EV_FIN, "fin" },
	{ 256 + EV_RST, "rst" }, { 256 + EV_ENC_HANDSHAKE, "encrypted_handshake" },
	{ 256 + EV_CCS, "change_cipher_spec" }, { 256 + EV_ALERT, "alert" },
	{ 256 + EV_APPDATA, "application_data" }, { 256 + EV_HEARTBEAT, "heartbeat" },
	{ 256 + EV_SSLV2, "sslv2" }, { 256 + EV_NON_TLS, "non_tls" }, { 256 + EV_GAP, "gap" },
	{ 511, "none" },
};
#define MSG_NONE 511

static const struct tok16 key_names[] = {
	{ XK_UNKNOWN, "unknown" }, { XK_RSA, "rsa" }, { XK_EC, "ec" }, { XK_ED25519, "ed25519" },
	{ XK_ED448, "ed448" }, { XK_DSA, "dsa" }, { XK_RSA_PSS, "rsa_pss" }, { XK_OTHER, "other" },
};
static const struct tok16 side_names[] = { { 0, "client" }, { 1, "server" }, { 255, "none" } };
static const struct tok16 close_names[] = { { EV_FIN, "fin" }, { EV_RST, "rst" }, { 255, "none" } };
static const struct tok16 level_names[] = { { 1, "warning" }, { 2, "fatal" }, { 0, "unknown" } };
static const struct tok16 link_names[] = { { 0, "no" }, { 1, "yes" }, { 2, "unknown" } };
static const struct tok16 match_names[] = {
	{ RULE_MATCH_UNKNOWN, "unknown" }, { RULE_MATCH_CLOSE, "close" },
	{ RULE_MATCH_SAME_SUITES, "same-suites" }, { RULE_MATCH_EXACT, "exact" },
};

#define NTOK(a) (sizeof(a) / sizeof((a)[0]))

static int tok_find(const struct tok16 *t, size_t n, const char *s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcasecmp(t[i].name, s) == 0)
			return t[i].v;
	return -1;
}

static const char *tok_name(const struct tok16 *t, size_t n, int v)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].name;
	return NULL;
}

/* Numbers: decimal, or hex with 0x, or bare 4-digit hex for 16-bit codes. */
static int parse_num(const char *s, int hex4, int64_t *out)
{
	char *end;
	long long v;
	if (!*s)
		return -1;
	if (hex4 && strlen(s) == 4 && strspn(s, "0123456789abcdefABCDEF") == 4) {
		*out = strtoll(s, NULL, 16);
		return 0;
	}
	v = strtoll(s, &end, 0);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int rk_parse_value(int kind, const char *s, const struct rule_set *rs, int64_t *out)
{
	int v = -1;
	int64_t n;
	size_t i;
	switch (kind) {
	case VK_NONE:
	case VK_NUM:
		return parse_num(s, 0, out);
	case VK_STAGE: v = hs_stage_from_name(s); break;
	case VK_SIDE: v = tok_find(side_names, NTOK(side_names), s); break;
	case VK_MSG: v = tok_find(msg_names, NTOK(msg_names), s); break;
	case VK_KEY: v = tok_find(key_names, NTOK(key_names), s); break;
	case VK_CLOSE: v = tok_find(close_names, NTOK(close_names), s); break;
	case VK_LEVEL: v = tok_find(level_names, NTOK(level_names), s); break;
	case VK_LINK: v = tok_find(link_names, NTOK(link_names), s); break;
	case VK_MATCH: v = tok_find(match_names, NTOK(match_names), s); break;
	case VK_ANOMALY:
		for (i = 0; i < 32; i++)
			if (strcmp(hs_anomaly_name((enum hs_anomaly)(1u << i)), s) == 0) {
				v = (int)i;
				break;
			}
		break;
	case VK_SUITE:
		if (parse_num(s, 1, &n) == 0 && n >= 0 && n <= 0xffff)
			v = (int)n;
		else
			v = names_suite_by_name(s);
		break;
	case VK_GROUP:
		if (parse_num(s, 1, &n) == 0 && n >= 0 && n <= 0xffff)
			v = (int)n;
		else
			v = names_group_by_name(s);
		break;
	case VK_SIGALG:
		if (parse_num(s, 1, &n) == 0 && n >= 0 && n <= 0xffff)
			v = (int)n;
		else
			v = names_sigalg_by_name(s);
		break;
	case VK_VERSION:
		if (parse_num(s, 1, &n) == 0 && n >= 0 && n <= 0xffff)
			v = (int)n;
		else
			v = names_version_by_name(s);
		break;
	case VK_EXT:
		if (parse_num(s, 1, &n) == 0 && n >= 0 && n <= 0xffff)
			v = (int)n;
		else
			for (i = 0; i < names_extensions_n; i++)
				if (strcasecmp(names_extensions[i].name, s) == 0) {
					v = names_extensions[i].v;
					break;
				}
		break;
	case VK_ALERT:
		if (parse_num(s, 0, &n) == 0 && n >= 0 && n <= 255)
			v = (int)n;
		else
			v = names_alert_by_name(s);
		break;
	case VK_LISTNAME:
		if (rs)
			for (i = 0; i < rs->n_list; i++)
				if (rs->list[i]->name && strcmp(rs->list[i]->name, s) == 0) {
					v = (int)i;
					break;
				}
		break;
	}
	if (v < 0)
		return -1;
	*out = v;
	return 0;
}

const char *rk_value_name(int kind, int64_t v, const struct rule_set *rs, char *buf, size_t n)
{
	const char *s = NULL;
	uint16_t u = (uint16_t)v;
	switch (kind) {
	case VK_STAGE: s = hs_stage_name((enum hs_stage)v); break;
	case VK_SIDE: s = tok_name(side_names, NTOK(side_names), (int)v); break;
	case VK_MSG: s = tok_name(msg_names, NTOK(msg_names), (int)v); break;
	case VK_KEY: s = tok_name(key_names, NTOK(key_names), (int)v); break;
	case VK_CLOSE: s = tok_name(close_names, NTOK(close_names), (int)v); break;
	case VK_LEVEL: s = tok_name(level_names, NTOK(level_names), (int)v); break;
	case VK_LINK: s = tok_name(link_names, NTOK(link_names), (int)v); break;
	case VK_MATCH: s = tok_name(match_names, NTOK(match_names), (int)v); break;
	case VK_ANOMALY: s = v >= 0 && v < 32 ? hs_anomaly_name((enum hs_anomaly)(1u << v)) : NULL; break;
	case VK_SUITE: s = names_suite_name(u); break;
	case VK_GROUP: s = names_group(u); break;
	case VK_SIGALG: s = names_sigalg(u); break;
	case VK_VERSION: s = names_version(u); break;
	case VK_EXT: s = names_extension(u); break;
	case VK_ALERT: s = names_alert((uint8_t)v); break;
	case VK_LISTNAME: s = rs && v >= 0 && (size_t)v < rs->n_list ? rs->list[v]->name : NULL; break;
	default: break;
	}
	if (s)
		return s;
	if (kind == VK_SUITE || kind == VK_GROUP || kind == VK_SIGALG || kind == VK_VERSION ||
	    kind == VK_EXT)
		snprintf(buf, n, "0x%04x", u);
	else
		snprintf(buf, n, "%lld", (long long)v);
	return buf;
}

int rk_ignored_value(int kind, uint16_t v)
{
	switch (kind) {
	case VK_SUITE:
		return names_is_grease(v) || v == 0x00ff || v == 0x5600;
	case VK_GROUP:
	case VK_SIGALG:
	case VK_VERSION:
	case VK_EXT:
		return names_is_grease(v);
	default:
		return 0;
	}
}

/* ---- reading facts ----------------------------------------------------- */

/* The alert that decided the outcome: the one that ended the handshake
 * (record_derive(): the first fatal, encrypted or non-benign one); else
 * the first. NULL when none. */
static const struct hs_alert *deciding_alert(const struct hs_record *r)
{
	if (r->ending_alert < r->n_alerts)
		return &r->alerts[r->ending_alert];
	return r->n_alerts ? &r->alerts[0] : NULL;
}

void rk_eval_init(struct rk_eval *e, const struct rule_set *rs, const struct hs_record *r,
		  const struct rule_ctx *ctx)
{
	memset(e, 0, offsetof(struct rk_eval, vi));   /* vi[] is read only where vstate[] says */
	e->rs = rs;
	e->r = r;
	if (ctx)
		e->ctx = *ctx;
	if (r->server_chain.present && r->server_chain.n > 0 && r->server_chain.c[0].x &&
	    !r->server_chain.c[0].x->malformed)
		e->leaf = r->server_chain.c[0].x;
	else if (e->ctx.server_leaf_hint)
		e->leaf = e->ctx.server_leaf_hint;
	else if (e->ctx.server && e->ctx.server->leaf && !e->ctx.server->leaf->malformed)
		e->leaf = e->ctx.server->leaf;
	e->identity = -2;
	e->alert = deciding_alert(r);
}

/* The first close (FIN or RST) in either direction: frame and time. */
static int first_close(const struct hs_record *r, uint64_t *frame, int64_t *ts)
{
	uint64_t f = 0;
	int64_t t = 0;
	int d;
	for (d = 0; d < 2; d++) {
		uint64_t fin = hs_at_frame(r, d, HS_AT_FIN), rst = hs_at_frame(r, d, HS_AT_RST);
		if (fin && (!f || fin < f)) {
			f = fin;
			t = hs_at_ts(r, d, HS_AT_FIN);
		}
		if (rst && (!f || rst < f)) {
			f = rst;
			t = hs_at_ts(r, d, HS_AT_RST);
		}
	}
	*frame = f;
	*ts = t;
	return f != 0;
}

static int list_has(const uint16_t *l, uint16_t n, uint16_t x)
{
	uint16_t i;
	for (i = 0; i < n; i++)
		if (l[i] == x)
			return 1;
	return 0;
}

int rk_sorted_has(const struct rk_list *l, uint16_t x)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l->sorted[mid] == x)
			return 1;
		if (l->sorted[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The best identity list for the ClientHello and how exact the match is
 * (rules/identity.c); computed once per record. */
static int identity(struct rk_eval *e)
{
	if (e->identity != -2)
		return e->identity;
	e->match = RULE_MATCH_UNKNOWN;
	e->identity = rk_identify(e->rs, e->r->ch, &e->match);
	return e->identity;
}

/* An AWS load balancer: an identity of vendor aws, matched exact or
 * same-suites (a close match is a hint, not an identification). */
static int aws_lb(struct rk_eval *e)
{
	int i = identity(e);
	return i >= 0 && e->match >= RULE_MATCH_SAME_SUITES && e->rs->list[i]->vendor &&
	       strcmp(e->rs->list[i]->vendor, "aws") == 0;
}

int rk_client_not_lb(struct rk_eval *e)
{
	int i = identity(e);
	return i >= 0 && e->match >= RULE_MATCH_SAME_SUITES && !aws_lb(e);
}

static const struct hs_chain *schain(const struct hs_record *r)
{
	return r->server_chain.present && r->server_chain.n ? &r->server_chain : NULL;
}

/* Can a key of this type authenticate this suite? */
static int key_suite(int key, uint16_t s)
{
	const struct suite_info *si = names_suite(s);
	if (!si)
		return 0;
	if (si->au == AU_ANY)
		return 1;
	switch (key) {
	case XK_RSA: return si->au == AU_RSA;
	case XK_RSA_PSS: return si->au == AU_RSA && si->kx != KX_RSA;
	case XK_EC:
	case XK_ED25519:
	case XK_ED448: return si->au == AU_ECDSA;
	case XK_DSA: return si->au == AU_DSS;
	default: return 0;
	}
}

static int key_sigalg(int key, uint16_t s)
{
	switch (key) {
	case XK_RSA:
		return s == SCHEME_RSA_PKCS1_SHA1 || s == SCHEME_RSA_PKCS1_SHA256 || s == SCHEME_RSA_PKCS1_SHA384 ||
		       s == SCHEME_RSA_PKCS1_SHA512 || (s >= SCHEME_RSA_PSS_RSAE_SHA256 && s <= SCHEME_RSA_PSS_RSAE_SHA512);
	case XK_RSA_PSS: return s >= SCHEME_RSA_PSS_PSS_SHA256 && s <= SCHEME_RSA_PSS_PSS_SHA512;
	case XK_EC:
		return s == SCHEME_ECDSA_SHA1 || s == SCHEME_ECDSA_SECP256R1_SHA256 || s == SCHEME_ECDSA_SECP384R1_SHA384 ||
		       s == SCHEME_ECDSA_SECP521R1_SHA512;
	case XK_ED25519: return s == SCHEME_ED25519;
	case XK_ED448: return s == SCHEME_ED448;
	case XK_DSA: return s == SCHEME_DSA_SHA1 || s == SCHEME_DSA_SHA256 || s == SCHEME_DSA_SHA384 || s == SCHEME_DSA_SHA512;
	default: return 0;
	}
}

static int suite_is(uint16_t s, int au, int kx)
{
	const struct suite_info *si = names_suite(s);
	if (!si)
		return 0;
	return (au < 0 || si->au == au) && (kx < 0 || si->kx == kx);
}

int rk_set_member(struct rk_eval *e, int fact, uint16_t x)
{
	switch (fact) {
	case F_SUITES_RSA: return suite_is(x, AU_RSA, -1);
	case F_SUITES_ECDSA: return suite_is(x, AU_ECDSA, -1);
	case F_SUITES_TLS13: return suite_is(x, AU_ANY, -1);
	case F_SUITES_STATIC_RSA: return suite_is(x, -1, KX_RSA);
	default: break;
	}
	if (!e->leaf)
		return 0;
	switch (fact) {
	case F_CERT_KEY_SUITES: return key_suite(e->leaf->key_type, x);
	case F_CERT_KEY_SIGALGS: return key_sigalg(e->leaf->key_type, x);
	default: return 0;
	}
}

static int leaf_expired(struct rk_eval *e, int which)
{
	const struct hs_chain *c = schain(e->r);
	int64_t at;
	if (c && e->leaf == c->c[0].x)
		return which ? c->c[0].not_yet_valid : c->c[0].expired;
	at = e->r->ch ? e->r->ch->ts_us : e->r->first_ts_us;
	at /= 1000000;
	return which ? e->leaf->not_before > at : e->leaf->not_after < at;
}

#define SETI(x) do { v->i = (int64_t)(x); return 1; } while (0)
#define NEED(c) do { if (!(c)) return 0; } while (0)

/* The curve of an EC key (OpenSSL's short name) as a TLS named group. */
static int curve_group(const char *sn)
{
	static const struct { const char *sn; uint16_t g; } map[] = {
		{ "prime256v1", 0x0017 }, { "secp256r1", 0x0017 }, { "secp384r1", 0x0018 },
		{ "secp521r1", 0x0019 }, { "brainpoolP256r1", 0x001a }, { "brainpoolP384r1", 0x001b },
		{ "brainpoolP512r1", 0x001c }, { "secp256k1", 0x0016 }, { "secp224r1", 0x0015 },
	};
	size_t i;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(sn, map[i].sn))
			return map[i].g;
	return -1;
}

/* 1 when the ALPN list of the ClientHello holds `name`. */
static int ch_alpn_has(const struct hs_client_hello *ch, const char *name)
{
	size_t nl = strlen(name);
	uint8_t i;
	for (i = 0; i < ch->n_alpn; i++) {
		uint16_t off = hs_ch_alpn_off(ch)[i];
		if (off >= ch->alpn_bytes || off >= HS_ALPN_BYTES)
			continue;
		if (hs_ch_alpn(ch)[off] == nl && (size_t)off + 1 + nl <= ch->alpn_bytes &&
		    (size_t)off + 1 + nl <= HS_ALPN_BYTES && !memcmp(hs_ch_alpn(ch) + off + 1, name, nl))
			return 1;
	}
	return 0;
}

/* Capture time at which the handshake ended (time.handshake): completion,
 * the deciding alert, the first close, the end of the capture. */
static int hs_end(struct rk_eval *e, int64_t *end)
{
	const struct hs_record *r = e->r;
	uint64_t cf;
	int64_t ct;
	if (r->complete && hs_rat_ts(r, HS_RAT_COMPLETE))
		*end = hs_rat_ts(r, HS_RAT_COMPLETE);
	else if (e->alert)
		*end = e->alert->ts_us;
	else if (first_close(r, &cf, &ct))
		*end = ct;
	else if (e->ctx.capture_end_us)
		*end = e->ctx.capture_end_us;
	else
		return 0;
	return 1;
}

/* The longest gap between consecutive ladder events from the ClientHello to
 * the end of the handshake. */
static int64_t hs_stall(const struct hs_record *r, int64_t from, int64_t to)
{
	int64_t prev = from, gap = 0;
	uint16_t i;
	for (i = 0; i < r->n_events; i++) {
		int64_t t = hs_ev(r, i).ts_us;
		if (t <= from)
			continue;
		if (t > to)
			t = to;
		if (t - prev > gap)
			gap = t - prev;
		prev = t;
		if (t >= to)
			break;
	}
	if (to - prev > gap)
		gap = to - prev;
	return gap;
}

/* Per-server knowledge (rule_ctx.server) and the facts added for the
 * differential diagnosis; 0 when absent. */
static int server_fact(struct rk_eval *e, int fact, struct rk_val *v)
{
	const struct hs_record *r = e->r;
	const struct hs_client_hello *ch = r->ch;
	const struct srv_known *k = e->ctx.server;
	int64_t end;
	uint64_t id;
	uint16_t i;
	int g;
	switch (fact) {
	case F_SRV_OTHERS: SETI(k ? k->conns : 0);
	case F_SRV_TLS: SETI(k ? k->tls_conns : 0);
	case F_SRV_COMPLETED: SETI(k ? k->completed : 0);
	case F_SRV_COMPLETED_SNI: SETI(k ? k->completed_sni : 0);
	case F_SRV_COMPLETED_NOSNI: SETI(k ? k->completed_nosni : 0);
	case F_SRV_COMPLETED_CONN: NEED(k && k->completed_id); SETI(k->completed_id);
	case F_SRV_COMPLETED_SUITE: NEED(k && k->completed_id); SETI(k->completed_suite);
	case F_SRV_SUITES:
		v->l = k ? k->suites : NULL;
		v->n = k ? k->n_suites : 0;
		v->filter = 1;
		return 1;
	case F_SRV_VERSIONS:
		v->l = k ? k->versions : NULL;
		v->n = k ? k->n_versions : 0;
		return 1;
	case F_SRV_GROUPS:
		v->l = k ? k->groups : NULL;
		v->n = k ? k->n_groups : 0;
		v->filter = 1;
		return 1;
	case F_SRV_COMPLETED_EMS: SETI(k ? k->completed_ems : 0);
	case F_SRV_COMPLETED_PROXY: SETI(k ? k->completed_proxy : 0);
	case F_SERVER_RETRANS: SETI(hs_rare(r)->d[DIR_S2C].retransmissions);
	case F_TIMED_OUT: SETI(r->timed_out);
	case F_CONFLICT_FRAME:
	case F_CONFLICT_SENDER:
		{
			const struct hs_steer *st = hs_rare(r)->steer;
			uint64_t a, b;
			int dir;
			NEED(st);
			a = st->conflict_frame[DIR_C2S];
			b = st->conflict_frame[DIR_S2C];
			dir = a && (!b || a < b) ? DIR_C2S : DIR_S2C;
			NEED(a || b);
			if (fact == F_CONFLICT_FRAME)
				SETI(st->conflict_frame[dir]);
			SETI(dir);
		}
	case F_DECRYPTED: SETI(hs_rare(r)->dec && hs_rare(r)->dec->records_ok[0] + hs_rare(r)->dec->records_ok[1] > 0);
	case F_HTTP_STATUS:
		{
			int st = record_http_status(r);
			NEED(st > 0);
			SETI(st);
		}
	case F_SERVER_AFTER_HS: NEED(hs_rat_frame(r, HS_RAT_COMPLETE)); SETI(r->d[DIR_S2C].payload_after_handshake);
	case F_CLIENT_AFTER_HS: NEED(hs_rat_frame(r, HS_RAT_COMPLETE)); SETI(r->d[DIR_C2S].payload_after_handshake);
	case F_CLIENT_RETRANS: SETI(hs_rare(r)->d[DIR_C2S].retransmissions);
	case F_SRV_COMPLETED_NOEMS: SETI(k ? k->completed_noems : 0);
	case F_SRV_SAME_NAME: SETI(k && ch && k->same_name);
	case F_SRV_SAME_OFFER: SETI(k && ch && k->same_offer);
	case F_SRV_SAME_OFFER_CONN:
		NEED(k && ch && k->same_offer && k->same_offer_id);
		id = k->same_offer_id;
		SETI(id);
	case F_CERT_KEY_GROUP:
		NEED(e->leaf && e->leaf->key_type == XK_EC);
		g = curve_group(e->leaf->key_curve);
		NEED(g >= 0);
		SETI(g);
	case F_CH_EMS: NEED(ch); SETI(ch->has_extended_master_secret);
	case F_CH_ALPN_H2: NEED(ch); SETI(ch_alpn_has(ch, "h2"));
	case F_CH_ALPN_HTTP1: NEED(ch); SETI(ch_alpn_has(ch, "http/1.1"));
	case F_SH_ALPN:
		NEED(r->sh && r->sh->alpn_len);
		v->s = r->sh->alpn;
		v->sn = r->sh->alpn_len < HS_SH_ALPN_BYTES ? r->sh->alpn_len : HS_SH_ALPN_BYTES;
		return 1;
	case F_CLIENT_FIRST:
	case F_SERVER_FIRST:
		{
			int d = fact == F_CLIENT_FIRST ? DIR_C2S : DIR_S2C;
			NEED(hs_rare(r)->d[d].pre_len);
			v->s = hs_rare(r)->d[d].pre;
			v->sn = hs_rare(r)->d[d].pre_len < HS_NONTLS_BYTES ? hs_rare(r)->d[d].pre_len : HS_NONTLS_BYTES;
			return 1;
		}
	case F_PROXY_PRESENT: SETI(record_proxy_header(r) != 0);
	case F_PROXY_VERSION: NEED(record_proxy_header(r)); SETI(record_proxy_header(r));
	case F_CLIENT_TLS: SETI(r->d[DIR_C2S].tls);
	case F_SERVER_TLS: SETI(r->d[DIR_S2C].tls);
	case F_CLIENT_TLS_MALFORMED: SETI(r->d[DIR_C2S].tls_malformed);
	case F_SERVER_TLS_MALFORMED: SETI(r->d[DIR_S2C].tls_malformed);
	case F_CLIENT_TLS_CUT: SETI(r->d[DIR_C2S].tls_cut);
	case F_SERVER_TLS_CUT: SETI(r->d[DIR_S2C].tls_cut);
	case F_CLIENT_HTTP: SETI(record_http_request(r));
	case F_CERT_GROUP_OFFERED:
		NEED(ch && e->leaf && e->leaf->key_type == XK_EC);
		g = curve_group(e->leaf->key_curve);
		NEED(g >= 0);
		for (i = 0; i < ch->n_groups; i++)
			if (hs_ch_groups(ch)[i] == g)
				SETI(1);
		SETI(0);
	case F_T_CH_TO_SH: NEED(ch && r->sh && r->sh->ts_us >= ch->ts_us); SETI(r->sh->ts_us - ch->ts_us);
	case F_T_HANDSHAKE: NEED(ch && hs_end(e, &end) && end >= ch->ts_us); SETI(end - ch->ts_us);
	case F_T_STALL: NEED(ch && hs_end(e, &end) && end >= ch->ts_us); SETI(hs_stall(r, ch->ts_us, end));
	}
	return 0;
}

/* The facts that are a field or two of the record, read without
 * fact_get()'s frame: every connection reads most of them (the rules'
 * first conditions), and the call and its set-up cost several times the
 * read. v as fact_get() leaves it; -1 for a fact read there. */
static inline int fact_quick(const struct rk_eval *e, int fact, struct rk_val *v)
{
	const struct hs_record *r = e->r;
	switch (fact) {
	case F_STAGE: SETI(r->stage);
	case F_TLS: SETI(r->is_tls);
	case F_COMPLETE: SETI(r->complete);
	case F_CLIENT_FIN: SETI(hs_at_frame(r, DIR_C2S, HS_AT_FIN) != 0);
	case F_CLIENT_RST: SETI(hs_at_frame(r, DIR_C2S, HS_AT_RST) != 0);
	case F_SERVER_FIN: SETI(hs_at_frame(r, DIR_S2C, HS_AT_FIN) != 0);
	case F_SERVER_RST: SETI(hs_at_frame(r, DIR_S2C, HS_AT_RST) != 0);
	case F_CLOSED_BY: SETI(r->closed_by <= 1 ? r->closed_by : 255);
	case F_CH_PRESENT: SETI(r->ch != NULL);
	case F_CH_SNI_PRESENT: NEED(r->ch); SETI(r->ch->has_sni);
	case F_SH_PRESENT: SETI(r->sh != NULL);
	case F_SH_VERSION: NEED(r->sh); SETI(r->sh->version);
	case F_SH_SUITE: NEED(r->sh); SETI(r->sh->cipher);
	case F_HRR_PRESENT: SETI(hs_rare(r)->hrr != NULL);
	case F_CERT_PRESENT: SETI(r->server_chain.present);
	case F_CERT_REQUEST: SETI(r->cert_request);
	case F_ALERT_PRESENT: SETI(e->alert != NULL);
	case F_ALERT_SENDER: NEED(e->alert); SETI(e->alert->dir);
	case F_APPDATA_CLIENT: SETI(r->d[DIR_C2S].appdata_records);
	case F_APPDATA_SERVER: SETI(r->d[DIR_S2C].appdata_records);
	case F_CONFLICTS: SETI((int64_t)hs_rare(r)->d[0].overlap_conflicts + hs_rare(r)->d[1].overlap_conflicts);
	case F_OUT_OF_WINDOW:
	case F_BAD_CHECKSUMS:
		{
			const struct hs_steer *st = hs_rare(r)->steer;
			if (!st)
				SETI(0);
			if (fact == F_OUT_OF_WINDOW)
				SETI((int64_t)st->out_of_window[0] + st->out_of_window[1]);
			SETI((int64_t)st->bad_checksums[0] + st->bad_checksums[1]);
		}
	case F_SERVER_SPOKE_FIRST:
		SETI(r->d[DIR_S2C].spoke_first);
	default:
		return -1;
	}
}

static __attribute__((noinline)) int fact_get(struct rk_eval *e, int fact, struct rk_val *v)
{
	const struct hs_record *r = e->r;
	const struct hs_dir *c = &r->d[DIR_C2S], *s = &r->d[DIR_S2C];
	const struct hs_rare_dir *xc = &hs_rare(r)->d[DIR_C2S], *xs = &hs_rare(r)->d[DIR_S2C];
	const struct hs_client_hello *ch = r->ch;
	const struct hs_server_hello *sh = r->sh;
	const struct hs_chain *chain = schain(r);
	const struct hs_alert *al = e->alert;
	uint64_t cf;
	int64_t ct;
	uint16_t i;

	/* v is all zero (rk_fact_get(), its one caller) */
	switch (fact) {
	case F_CLIENT_PORT: SETI(r->cli.port);
	case F_SERVER_PORT: SETI(r->srv.port);
	case F_CLIENT_SYN: SETI(hs_at_frame(r, DIR_C2S, HS_AT_SYN) != 0);
	case F_CLIENT_SYN_FRAME: NEED(hs_at_frame(r, DIR_C2S, HS_AT_SYN)); SETI(hs_at_frame(r, DIR_C2S, HS_AT_SYN));
	case F_CLIENT_SYN_TIME: NEED(hs_at_frame(r, DIR_C2S, HS_AT_SYN)); SETI(hs_at_ts(r, DIR_C2S, HS_AT_SYN));
	case F_SERVER_SYNACK: SETI(hs_at_frame(r, DIR_S2C, HS_AT_SYN) != 0);
	case F_SERVER_SYNACK_FRAME: NEED(hs_at_frame(r, DIR_S2C, HS_AT_SYN)); SETI(hs_at_frame(r, DIR_S2C, HS_AT_SYN));
	case F_CLIENT_FIN_FRAME: NEED(hs_at_frame(r, DIR_C2S, HS_AT_FIN)); SETI(hs_at_frame(r, DIR_C2S, HS_AT_FIN));
	case F_CLIENT_RST_FRAME: NEED(hs_at_frame(r, DIR_C2S, HS_AT_RST)); SETI(hs_at_frame(r, DIR_C2S, HS_AT_RST));
	case F_SERVER_FIN_FRAME: NEED(hs_at_frame(r, DIR_S2C, HS_AT_FIN)); SETI(hs_at_frame(r, DIR_S2C, HS_AT_FIN));
	case F_SERVER_RST_FRAME: NEED(hs_at_frame(r, DIR_S2C, HS_AT_RST)); SETI(hs_at_frame(r, DIR_S2C, HS_AT_RST));
	case F_CLIENT_BYTES: SETI(c->payload_bytes);
	case F_SERVER_BYTES: SETI(s->payload_bytes);
	case F_CLIENT_PACKETS: SETI(c->packets);
	case F_SERVER_PACKETS: SETI(s->packets);
	case F_CLOSED_WITH: SETI(r->closed_by <= 1 ? r->closed_with : 255);
	case F_CLOSED_AFTER:
		NEED(r->closed_by <= 1);
		if (r->closed_after_kind == EV_HANDSHAKE)
			SETI(r->closed_after_hs_type);
		SETI(r->closed_after_kind < EV__COUNT ? 256 + r->closed_after_kind : MSG_NONE);
	case F_CLOSED_FRAME: NEED(first_close(r, &cf, &ct)); SETI(cf);
	case F_CLOSED_TIME: NEED(first_close(r, &cf, &ct)); SETI(ct);
	case F_T_CONNECT: NEED(hs_at_frame(r, DIR_C2S, HS_AT_SYN) && hs_at_frame(r, DIR_S2C, HS_AT_SYN)); SETI(hs_at_ts(r, DIR_S2C, HS_AT_SYN) - hs_at_ts(r, DIR_C2S, HS_AT_SYN));
	case F_T_SYN_UNANSWERED: NEED(hs_at_frame(r, DIR_C2S, HS_AT_SYN) && !hs_at_frame(r, DIR_S2C, HS_AT_SYN)); SETI(hs_last_ts(r) - hs_at_ts(r, DIR_C2S, HS_AT_SYN));
	case F_T_CAPTURE_AFTER_SYN:
		NEED(hs_at_frame(r, DIR_C2S, HS_AT_SYN) && e->ctx.capture_end_us);
		SETI(e->ctx.capture_end_us - hs_at_ts(r, DIR_C2S, HS_AT_SYN));
	case F_T_CH_TO_SERVER_BYTE:
		NEED(ch && hs_at_frame(r, DIR_S2C, HS_AT_FIRST_PAYLOAD) && hs_at_ts(r, DIR_S2C, HS_AT_FIRST_PAYLOAD) >= ch->ts_us);
		SETI(hs_at_ts(r, DIR_S2C, HS_AT_FIRST_PAYLOAD) - ch->ts_us);
	case F_T_CH_UNANSWERED:
		NEED(ch && !s->payload_bytes);
		if (first_close(r, &cf, &ct) && ct >= ch->ts_us)
			SETI(ct - ch->ts_us);
		NEED(e->ctx.capture_end_us >= ch->ts_us);
		SETI(e->ctx.capture_end_us - ch->ts_us);
	case F_T_CH_TO_CLOSE:
		NEED(ch && first_close(r, &cf, &ct) && ct >= ch->ts_us);
		SETI(ct - ch->ts_us);
	case F_T_CH_TO_ALERT: NEED(ch && al && al->ts_us >= ch->ts_us); SETI(al->ts_us - ch->ts_us);
	case F_T_CAPTURE_AFTER_CH:
		NEED(ch && e->ctx.capture_end_us >= ch->ts_us);
		SETI(e->ctx.capture_end_us - ch->ts_us);
	case F_T_IDLE_BEFORE_CLOSE:
		NEED(first_close(r, &cf, &ct));
		for (i = r->n_events; i > 0; i--)
			if (hs_ev(r, i - 1u).frame < cf)
				SETI(ct - hs_ev(r, i - 1u).ts_us);
		return 0;
	case F_CH_FRAME: NEED(ch); SETI(ch->frame);
	case F_CH_TIME: NEED(ch); SETI(ch->ts_us);
	case F_CH_LEGACY: NEED(ch); SETI(ch->legacy_version);
	case F_CH_MAXV: NEED(ch); SETI(ch->max_offered);
	case F_CH_MINV:
		NEED(ch && ch->has_supported_versions);
		{
			uint16_t lo = 0xffff;
			for (i = 0; i < ch->n_versions; i++)
				if (!names_is_grease(hs_ch_versions(ch)[i]) && hs_ch_versions(ch)[i] < lo)
					lo = hs_ch_versions(ch)[i];
			NEED(lo != 0xffff);
			SETI(lo);
		}
	case F_CH_VERSIONS: NEED(ch); v->l = hs_ch_versions(ch); v->n = ch->n_versions; v->filter = 1; return 1;
	case F_CH_SUITES: NEED(ch); v->l = hs_ch_suites(ch); v->n = ch->n_suites; v->filter = 1; return 1;
	case F_CH_GROUPS: NEED(ch); v->l = hs_ch_groups(ch); v->n = ch->n_groups; v->filter = 1; return 1;
	case F_CH_KEYSHARES: NEED(ch); v->l = hs_ch_key_share(ch); v->n = ch->n_key_share; v->filter = 1; return 1;
	case F_CH_SIGALGS: NEED(ch); v->l = hs_ch_sigalgs(ch); v->n = ch->n_sigalgs; v->filter = 1; return 1;
	case F_CH_EXTS: NEED(ch); v->l = hs_ch_ext_type(ch); v->n = ch->n_exts; v->filter = 1; return 1;
	case F_CH_SNI: NEED(ch && ch->has_sni); v->s = hs_ch_sni(ch); v->sn = ch->sni_len; return 1;
	case F_CH_ALPN_PRESENT: NEED(ch); SETI(ch->n_alpn > 0);
	case F_CH_LENGTH: NEED(ch); SETI(ch->msg_len);
	case F_CH_SEGMENTS: NEED(ch && ch->segments); SETI(ch->segments);
	case F_CH_SSLV2: NEED(ch); SETI(ch->sslv2);
	case F_CH_COUNT: SETI(r->client_hellos);
	case F_CLIENT_IDENTITY: NEED(identity(e) >= 0); SETI(identity(e));
	case F_CLIENT_AWS: NEED(ch); SETI(aws_lb(e));
	case F_CLIENT_MATCH: NEED(ch); identity(e); SETI(e->match);
	case F_CLIENT_DESCRIPTION:
		NEED(identity(e) >= 0);
		v->s = (const uint8_t *)e->rs->list[identity(e)]->identity;
		v->sn = strlen(e->rs->list[identity(e)]->identity);
		return 1;
	case F_SH_FRAME: NEED(sh); SETI(sh->frame);
	case F_SH_TIME: NEED(sh); SETI(sh->ts_us);
	case F_SH_GROUP:
		if (sh && sh->has_key_share)
			SETI(sh->key_share_group);
		NEED(r->ske && r->ske_group);
		SETI(r->ske_group);
	case F_HRR_GROUP: NEED(hs_rare(r)->hrr && hs_rare(r)->hrr->has_key_share); SETI(hs_rare(r)->hrr->key_share_group);
	case F_CERT_KNOWN: SETI(e->leaf != NULL);
	case F_CERT_FRAME: NEED(r->server_chain.present); SETI(hs_chain_frame(r, &r->server_chain));
	case F_CERT_COUNT: NEED(r->server_chain.present); SETI(r->server_chain.total);
	case F_CERT_EXPIRED: NEED(e->leaf); SETI(leaf_expired(e, 0));
	case F_CERT_NOT_YET_VALID: NEED(e->leaf); SETI(leaf_expired(e, 1));
	case F_CERT_CHAIN_EXPIRED:
		NEED(chain);
		for (i = 0; i < chain->n; i++)
			if (chain->c[i].expired)
				SETI(1);
		SETI(0);
	case F_CERT_SELF_SIGNED:
		/* this connection's check, else what a check on another one found */
		NEED(e->leaf);
		SETI(chain && chain->n && e->leaf == chain->c[0].x ? chain->c[0].self_signed : x509_self_signed(e->leaf));
	case F_CERT_KEY: NEED(e->leaf); SETI(e->leaf->key_type);
	case F_CERT_BITS: NEED(e->leaf && e->leaf->key_bits > 0); SETI(e->leaf->key_bits);
	case F_CERT_SUBJECT:
		NEED(e->leaf);
		v->s = (const uint8_t *)e->leaf->subject;
		v->sn = strnlen(e->leaf->subject, sizeof(e->leaf->subject));
		return 1;
	case F_CERT_ISSUER:
		NEED(e->leaf);
		v->s = (const uint8_t *)e->leaf->issuer;
		v->sn = strnlen(e->leaf->issuer, sizeof(e->leaf->issuer));
		return 1;
	case F_CERT_SAN:
		NEED(e->leaf);
		v->s = (const uint8_t *)e->leaf->san;
		v->sn = strnlen(e->leaf->san, sizeof(e->leaf->san));
		return 1;
	case F_CERT_NOT_AFTER: NEED(e->leaf); SETI(e->leaf->not_after * 1000000);
	case F_CERT_LINKED:
		NEED(chain);
		for (i = 0; i + 1 < chain->n; i++)
			if (chain->c[i].issued_by_next != 1)
				SETI(0);
		SETI(1);
	case F_CERT_LEAF_LINK: NEED(chain); SETI(chain->n > 1 ? chain->c[0].issued_by_next : 2);
	case F_CERT_COMPLETE:
		NEED(chain && chain->c[0].x);
		for (i = 0; i + 1 < chain->n; i++)
			if (chain->c[i].issued_by_next != 1)
				SETI(0);
		SETI(chain->n >= 2 || chain->c[0].x->self_issued);
	case F_CERT_MALFORMED: NEED(r->server_chain.present); SETI(r->server_chain.malformed);
	case F_CERT_KEY_SUITES:
	case F_CERT_KEY_SIGALGS: NEED(e->leaf); return 1;
	case F_CERT_REQUEST_FRAME: NEED(r->cert_request); SETI(hs_rat_frame(r, HS_RAT_CERT_REQUEST));
	case F_CCERT_PRESENT: SETI(hs_rare(r)->client_chain.present);
	case F_CCERT_COUNT: NEED(hs_rare(r)->client_chain.present); SETI(hs_rare(r)->client_chain.total);
	case F_ALERT_LEVEL: NEED(al); SETI(al->encrypted ? 0 : al->level);
	case F_ALERT_DESC: NEED(al && !al->encrypted); SETI(al->description);
	case F_ALERT_ENC: NEED(al); SETI(al->encrypted);
	case F_ALERT_AFTER:
		NEED(al);
		if (al->after_hs_type != 255)
			SETI(al->after_hs_type);
		SETI(al->after_kind < EV__COUNT ? 256 + al->after_kind : MSG_NONE);
	case F_ALERT_FRAME: NEED(al); SETI(al->frame);
	case F_ALERT_TIME: NEED(al); SETI(al->ts_us);
	case F_ALERTS_CLIENT:
	case F_ALERTS_SERVER:
		for (i = 0; i < r->n_alerts && v->n < 24; i++)
			if (!r->alerts[i].encrypted &&
			    r->alerts[i].dir == (fact == F_ALERTS_CLIENT ? DIR_C2S : DIR_S2C))
				v->buf[v->n++] = r->alerts[i].description;
		v->l = v->buf;
		return 1;
	case F_ALERTS_COUNT: SETI(r->total_alerts);
	case F_NONTLS_PRESENT: SETI(r->nontls_dir <= 1);
	case F_NONTLS_SENDER: NEED(r->nontls_dir <= 1); SETI(r->nontls_dir);
	case F_NONTLS_BYTES:
		NEED(r->nontls_dir <= 1);
		v->s = hs_rare(r)->nontls;
		v->sn = hs_rare(r)->nontls_len < HS_NONTLS_BYTES ? hs_rare(r)->nontls_len : HS_NONTLS_BYTES;
		return 1;
	case F_NONTLS_FRAME: NEED(r->nontls_dir <= 1); SETI(hs_rat_frame(r, HS_RAT_NONTLS));
	case F_NONTLS_TIME: NEED(r->nontls_dir <= 1); SETI(hs_rat_ts(r, HS_RAT_NONTLS));
	case F_ENCHS_CLIENT: SETI(r->d[DIR_C2S].encrypted_hs);
	case F_ENCHS_SERVER: SETI(r->d[DIR_S2C].encrypted_hs);
	case F_RESUMED: SETI(r->abbreviated);
	case F_SKE_DH_BITS: NEED(r->ske && r->ske_dh_bits); SETI(r->ske_dh_bits);
	case F_DATA_AFTER_FIN: SETI(hs_at_frame(r, DIR_C2S, HS_AT_DATA_AFTER_PEER_FIN) != 0);
	case F_DATA_AFTER_FIN_FRAME:
		NEED(hs_at_frame(r, DIR_C2S, HS_AT_DATA_AFTER_PEER_FIN));
		SETI(hs_at_frame(r, DIR_C2S, HS_AT_DATA_AFTER_PEER_FIN));
	case F_STARTTLS: SETI(hs_rare(r)->d[DIR_C2S].plaintext_before_tls != 0 && !record_proxy_header(r));
	case F_ANOMALIES:
		for (i = 0; i < 32 && v->n < 24; i++)
			if (r->anomalies & (1u << i))
				v->buf[v->n++] = i;
		v->l = v->buf;
		return 1;
	case F_LOSSY:
		{
			struct rk_val one;
			rk_fact_get(e, F_ONE_SIDED, &one);
			/* tls_truncated alone is not loss: the stream simply ended
			 * inside a record (a capture stopped early, which the
			 * capture-ended rule tells better, or a lying length).
			 * A server that spoke TLS to a client whose ClientHello
			 * the capture does not hold is: a TLS server never speaks
			 * first, so its bytes answer ones the capture lost. */
			SETI(one.i || (r->anomalies & (AN_GAP | AN_TRUNCATED_PACKET | AN_CAP_SEGMENTS |
							AN_CAP_BYTES | AN_EVICTED)) ||
			     xc->gaps || xs->gaps || (!r->ch && s->records && !s->non_tls));
		}
	case F_ONE_SIDED:
		/* no packet at all from the server, although the client sent data
		 * (which needs a SYN-ACK the capture did not see) or the capture
		 * started after the SYN (so silence cannot be told from a missing
		 * direction); or a server heard without any client packet */
		SETI((c->packets && !s->packets && (c->payload_bytes || !hs_at_frame(r, DIR_C2S, HS_AT_SYN))) ||
		     (s->packets && !c->packets));
	case F_GAPS: SETI((int64_t)xc->gaps + xs->gaps);
	case F_RETRANS: SETI((int64_t)xc->retransmissions + xs->retransmissions);
	case F_MIDSTREAM: SETI((r->anomalies & AN_MIDSTREAM) != 0);
	case F_SUITES_RSA:
	case F_SUITES_ECDSA:
	case F_SUITES_TLS13:
	case F_SUITES_STATIC_RSA: return 1;
	default:
		return server_fact(e, fact, v);
	}
	return 0;
}

/* A fact's value, read once per connection when it is a plain number (no
 * list, no bytes): rules read the same facts again and again (stage, the
 * deciding alert, the versions), and some are found by a walk (a stall, the
 * identity). Every rule, the screen and the evidence read through here. */
int rk_fact_get(struct rk_eval *e, int fact, struct rk_val *v)
{
	int got;
	memset(v, 0, offsetof(struct rk_val, buf));
	if ((unsigned)fact < RK_MAX_FACTS) {
		switch (e->vstate[fact]) {
		case RK_V_ABSENT:
		case RK_V_NUM:
			v->i = e->vi[fact];
			return e->vstate[fact] == RK_V_NUM;
		default: break;
		}
	}
	got = fact_quick(e, fact, v);
	if (got < 0)
		got = fact_get(e, fact, v);
	if ((unsigned)fact < RK_MAX_FACTS && !e->vstate[fact]) {
		if (!v->l && !v->n && !v->filter && !v->s && !v->sn) {
			e->vstate[fact] = got ? RK_V_NUM : RK_V_ABSENT;
			e->vi[fact] = v->i;
		} else {
			e->vstate[fact] = RK_V_OTHER;
		}
	}
	return got;
}

/* ---- conditions ------------------------------------------------------- */

/* Membership in the right-hand side of a set operation. */
static int rhs_has(struct rk_eval *e, const struct rk_cond *c, const struct rk_val *rv, uint16_t x)
{
	if (c->list)
		return rk_sorted_has(c->list, x);
	if (rk_facts[c->rhs_fact].type == T_SET)
		return rk_set_member(e, c->rhs_fact, x);
	return list_has(rv->l, rv->n, x);
}

static uint16_t count_list(const struct rk_val *v, int kind)
{
	uint16_t i, n = 0;
	for (i = 0; i < v->n; i++)
		if (!v->filter || !rk_ignored_value(kind, v->l[i]))
			n++;
	return n;
}

static int eval_list(struct rk_eval *e, const struct rk_cond *c, const struct rk_val *lv)
{
	int kind = rk_facts[c->fact].kind;
	struct rk_val rv;
	uint16_t i, j, n = count_list(lv, kind), m = 0;
	const uint16_t *rl = NULL;
	int all = 1, any = 0;

	if (c->rhs_fact >= 0) {
		if (!rk_fact_get(e, c->rhs_fact, &rv))
			return 0;
		if (rk_facts[c->rhs_fact].type == T_LIST) {
			rl = rv.l;
			m = rv.n;
		}
	} else {
		rv.n = 0;
		rv.l = NULL;
		rv.filter = 0;
		if (c->list) {
			rl = c->list->v;
			m = c->list->n;
		}
	}
	switch (c->op) {
	case OP_HAS:
	case OP_LACKS:
		for (i = 0; i < lv->n; i++)
			if (lv->l[i] == (uint16_t)c->num)
				return c->op == OP_HAS;
		return c->op == OP_LACKS;
	case OP_EMPTY: return n == 0;
	case OP_NOTEMPTY: return n != 0;
	case OP_COUNT: return rk_cmp(c->cmp, n, c->num);
	case OP_EQUALS:
		/* same values, same order */
		j = 0;
		for (i = 0; i < lv->n; i++) {
			if (lv->filter && rk_ignored_value(kind, lv->l[i]))
				continue;
			while (j < m && rv.filter && rk_ignored_value(kind, rl[j]))
				j++;
			if (j >= m || rl[j] != lv->l[i])
				return 0;
			j++;
		}
		while (j < m && rv.filter && rk_ignored_value(kind, rl[j]))
			j++;
		return j == m;
	case OP_SUPERSET:
		for (j = 0; j < m; j++)
			if (!(rv.filter && rk_ignored_value(kind, rl[j])) && !list_has(lv->l, lv->n, rl[j]))
				return 0;
		return 1;
	case OP_SAMESET:
		for (j = 0; j < m; j++)
			if (!(rv.filter && rk_ignored_value(kind, rl[j])) && !list_has(lv->l, lv->n, rl[j]))
				return 0;
		/* fall through: and every left value is on the right */
		/* FALLTHROUGH */
	case OP_SUBSET:
	case OP_INTERSECTS:
	case OP_DISJOINT:
		for (i = 0; i < lv->n; i++) {
			int in;
			if (lv->filter && rk_ignored_value(kind, lv->l[i]))
				continue;
			in = rhs_has(e, c, &rv, lv->l[i]);
			if (in)
				any = 1;
			else
				all = 0;
		}
		if (c->op == OP_INTERSECTS)
			return any;
		if (c->op == OP_DISJOINT)
			return !any;
		return all;
	default:
		return 0;
	}
}

static int mem_find(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn)
{
	size_t i;
	if (nn == 0)
		return 1;
	for (i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, n, nn) == 0)
			return 1;
	return 0;
}

static int eval_pos(struct rk_eval *e, const struct rk_cond *c)
{
	const struct rk_fact *f = &rk_facts[c->fact];
	struct rk_val v;
	if (!rk_fact_get(e, c->fact, &v))
		return 0;
	switch (f->type) {
	case T_BOOL:
	case T_INT:
	case T_DUR:
	case T_TIME:
	case T_FRAME:
		return rk_cmp(c->op, v.i, c->num);
	case T_CODE:
		if (c->op == OP_IN || c->op == OP_NOTIN) {
			int in = c->list ? rk_sorted_has(c->list, (uint16_t)v.i) : 0;
			return c->op == OP_IN ? in : !in;
		}
		return rk_cmp(c->op, v.i, c->num);
	case T_LIST:
		return eval_list(e, c, &v);
	case T_SET:
		if (c->op == OP_HAS)
			return rk_set_member(e, c->fact, (uint16_t)c->num);
		if (c->op == OP_LACKS)
			return !rk_set_member(e, c->fact, (uint16_t)c->num);
		return 0;
	case T_STR:
	case T_BYTES:
		switch (c->op) {
		case OP_IS: return v.sn == c->blen && memcmp(v.s, c->bytes, c->blen) == 0;
		case OP_ISNOT: return !(v.sn == c->blen && memcmp(v.s, c->bytes, c->blen) == 0);
		case OP_STARTS: return v.sn >= c->blen && memcmp(v.s, c->bytes, c->blen) == 0;
		case OP_ENDS: return v.sn >= c->blen && memcmp(v.s + v.sn - c->blen, c->bytes, c->blen) == 0;
		case OP_CONTAINS: return mem_find(v.s, v.sn, c->bytes, c->blen);
		case OP_EMPTY: return v.sn == 0;
		case OP_NOTEMPTY: return v.sn != 0;
		default: return 0;
		}
	}
	return 0;
}

int rk_cond_eval(struct rk_eval *e, const struct rk_cond *c)
{
	int m = eval_pos(e, c);
	return c->negate ? !m : m;
}

_Static_assert(F__COUNT <= RK_MAX_FACTS, "RK_MAX_FACTS below the number of facts");

/* 1 when c compares a fact that holds one number with a constant: its
 * value is then the fact's number, read once per connection, and the
 * screen decides c without eval_pos(). */
static int screenable(const struct rk_cond *c)
{
	switch (rk_facts[c->fact].type) {
	case T_BOOL: case T_INT: case T_DUR: case T_TIME: case T_FRAME: case T_CODE:
		break;
	default:
		return 0;
	}
	if (c->rhs_fact >= 0 || c->bytes)
		return 0;
	if (c->op <= OP_GE)
		return c->list == NULL;
	return rk_facts[c->fact].type == T_CODE && (c->op == OP_IN || c->op == OP_NOTIN);
}

/* `stage` is always present and a T_CODE: each of the rule's conditions on
 * it is evaluated here, as eval_pos() would, for every stage value below 32.
 * rule_eval() then skips the rule at a stage whose bit is clear. The
 * rule's conditions on a number get their screen (rk_screen_pass()). */
void rk_rule_prepare(struct rk_rule *ru)
{
	uint32_t m = 0xffffffffu;
	uint16_t i;
	int v;
	ru->n_screen = 0;
	for (i = 0; i < ru->n_cond; i++) {
		struct rk_cond *c = &ru->cond[i];
		uint32_t s = 0;
		c->screened = 0;
		if (ru->n_screen < RK_SCREEN && i <= UINT8_MAX && screenable(c)) {
			ru->screen_cond[ru->n_screen++] = (uint8_t)i;
			c->screened = 1;
		}
		if (c->fact != F_STAGE)
			continue;
		for (v = 0; v < 32; v++) {
			int in;
			if (c->op == OP_IN || c->op == OP_NOTIN) {
				in = c->list ? rk_sorted_has(c->list, (uint16_t)v) : 0;
				in = c->op == OP_IN ? in : !in;
			} else {
				in = rk_cmp(c->op, v, c->num);
			}
			if (c->negate ? !in : in)
				s |= 1u << v;
		}
		m &= s;
	}
	ru->stage_mask = m;
	ru->has_stage_mask = 1;
}

/* ---- values for evidence ------------------------------------------------- */

/* Appends s at offset o of b[n] as snprintf(b + o, n - o, "%s", s) would
 * (cut to fit, NUL-terminated while o < n); returns o plus s's length. The
 * evidence of every verdict goes through here: no format string to parse. */
static size_t put_at(char *b, size_t n, size_t o, const char *s)
{
	size_t k = strlen(s);
	if (o < n) {
		size_t m = k < n - o - 1 ? k : n - o - 1;
		memcpy(b + o, s, m);
		b[o + m] = 0;
	}
	return o + k;
}

/* v in decimal into d[24]; returns d. */
static const char *dec_i64(int64_t v, char d[24])
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = d + 23;
	*p = 0;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

/* A fact of our own (names from the tables, numbers, lists) as text. */
static void fact_text(struct rk_eval *e, int fact, const struct rk_val *v, char *b, size_t n)
{
	const struct rk_fact *f = &rk_facts[fact];
	char nb[32], d[24];
	size_t o = 0;
	uint16_t i, shown = 0, total;
	switch (f->type) {
	case T_BOOL: put_at(b, n, 0, v->i ? "yes" : "no"); break;
	case T_INT: put_at(b, n, 0, dec_i64(v->i, d)); break;
	case T_CODE: put_at(b, n, 0, rk_value_name(f->kind, v->i, e->rs, nb, sizeof(nb))); break;
	case T_LIST:
		total = count_list(v, f->kind);
		b[0] = 0;
		if (total == 0) {
			/* an empty list and a missing extension read differently */
			if (fact == F_CH_VERSIONS && e->r->ch && !e->r->ch->has_supported_versions)
				put_at(b, n, 0, "(no extension)");
			else
				put_at(b, n, 0, "(empty)");
			break;
		}
		for (i = 0; i < v->n && shown < 6; i++) {
			if (v->filter && rk_ignored_value(f->kind, v->l[i]))
				continue;
			if (shown)
				o = put_at(b, n, o, ", ");
			o = put_at(b, n, o, rk_value_name(f->kind, v->l[i], e->rs, nb, sizeof(nb)));
			if (o >= n)
				break;
			shown++;
		}
		if (shown < total && o < n) {
			o = put_at(b, n, o, ", ... (");
			o = put_at(b, n, o, dec_i64(total, d));
			put_at(b, n, o, " in all)");
		}
		break;
	default: put_at(b, n, 0, "(set)"); break;
	}
}

size_t rk_fact_value(struct rk_eval *e, int fact, struct rule_value *out, char *b, size_t n)
{
	const struct rk_fact *f = &rk_facts[fact];
	struct rk_val v;
	memset(out, 0, sizeof(*out));
	out->kind = RULE_V_TEXT;
	out->s = b;
	if (n == 0)
		return 0;
	if (!rk_fact_get(e, fact, &v)) {
		put_at(b, n, 0, "(none)");
		out->absent = 1;
	} else if (f->type == T_DUR || f->type == T_TIME || f->type == T_FRAME) {
		out->kind = f->type == T_DUR ? RULE_V_DURATION : f->type == T_FRAME ? RULE_V_FRAME
			  : fact == F_CERT_NOT_AFTER ? RULE_V_DATE : RULE_V_TIME;
		out->num = v.i;
		out->s = NULL;
		return 0;
	} else if (f->type == T_STR || f->type == T_BYTES) {
		out->kind = RULE_V_WIRE;
		out->n = v.sn < n ? v.sn : n;
		if (out->n)
			memcpy(b, v.s, out->n);
		return out->n;
	} else {
		fact_text(e, fact, &v, b, n);
	}
	out->n = strlen(b);
	return out->n + 1;
}
