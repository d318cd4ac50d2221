/*
 * test_tlsdec.c - dissect/tlsdec.c and dissect/keylog.c on real bytes.
 *
 * 1. RFC 8448 section 3 ("Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256):
 *    the traffic keys and IVs derived from its four traffic secrets, the
 *    server's encrypted flight (EncryptedExtensions, Certificate,
 *    CertificateVerify, Finished), the client's Finished, and both
 *    application data records (the server's at sequence 1, after its
 *    NewSessionTicket), compared with the plaintext the RFC shows.
 * 2. Failures: a wrong secret, a wrong sequence number, a flipped byte, a
 *    truncated record, a record shorter than the tag: an error code and no
 *    plaintext, never a crash. Unsupported suites; a wrong secret length.
 * 3. Every bundled capture with a key log (pcaps/X.pcap + pcaps/X.keylog,
 *    recorded by openssl s_client / curl): read with libpcap, decoded with
 *    dissect/decode.c, both directions reassembled in sequence order (the
 *    captures are clean loopback recordings; a gap stops that direction),
 *    every encrypted record decrypted. The handshake message types, alert
 *    descriptions, HTTP request methods and response codes seen per
 *    connection and direction (plaintext and decrypted together) must
 *    equal what tshark shows with the same key log:
 *      tshark -r X.pcap -o tls.keylog_file:X.keylog -T fields -e tcp.stream
 *        -e tcp.srcport -e tls.handshake.type -e tls.alert_message.desc
 *        -e http.response.code -e http.request.method
 *    tshark does not parse some HTTP/1.0 answers without Content-Length
 *    (openssl s_server -www); a status line it did not dissect is printed
 *    as a note, not counted. Without tshark the comparison is skipped with
 *    a message and every record with keys must still decrypt.
 *    The same for tests/unit/tlsdec/ (recorded by its record.sh): the
 *    suites and options pcaps/ lacks: ChaCha20-Poly1305 (1.2, 1.3), AES-CCM
 *    (1.2, 1.3), AES-128-GCM (1.3), CBC with HMAC-SHA256 MAC-then-encrypt,
 *    HMAC-SHA384 encrypt_then_mac, TLS 1.0 CBC without encrypt_then_mac.
 *    Then the same capture with a key log whose secrets are altered: every
 *    encrypted record fails authentication, no plaintext is counted.
 *
 * Runs from the repository root (make check does). The last line printed
 * is "N passed, N failed"; exit 1 if anything failed.
 */
#include "tests/unit/check.h"
#include "dissect/decode.h"
#include "dissect/keylog.h"
#include "dissect/record.h"
#include "dissect/tls.h"
#include "dissect/tlsdec.h"

#include <fnmatch.h>
#include <glob.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* hex with any separators (the RFC's layout) into out; returns bytes */
static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n] = (uint8_t)(hi << 4 | v);
			n++;
			hi = -1;
		}
	}
	return n;
}

/* ------------------------------------------------- 1. RFC 8448 section 3 */

/* {server} derive secret "tls13 s hs traffic" etc. (the "PRK" of the key
 * derivations), then the keys and IVs the RFC shows for each. */
static const char *S_HS = "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";
static const char *S_HS_KEY = "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc";
static const char *S_HS_IV = "5d 31 3e b2 67 12 76 ee 13 00 0b 30";
static const char *C_HS = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
static const char *C_HS_KEY = "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01";
static const char *C_HS_IV = "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f";
static const char *S_AP = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";
static const char *S_AP_KEY = "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56";
static const char *S_AP_IV = "cf 78 2b 88 dd 83 54 9a ad f1 e9 84";
static const char *C_AP = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
static const char *C_AP_KEY = "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51";
static const char *C_AP_IV = "5b 78 92 3d ee 08 57 90 33 e5 23 d9";

/* {server} send handshake record: complete record (679 octets) */
static const char *S_FLIGHT =
	"17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f"
	"45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca"
	"07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd"
	"05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b"
	"d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e"
	"f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c"
	"7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8"
	"bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92"
	"8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70"
	"a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8"
	"94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea"
	"52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f"
	"44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89"
	"f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3"
	"6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1"
	"00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e"
	"1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84"
	"c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c"
	"f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f"
	"c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be"
	"5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6"
	"fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb"
	"56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10"
	"dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38"
	"eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f"
	"60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78"
	"40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3"
	"79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e"
	"75 0e dc 53 37 0d 2b";

/* {client} send handshake record (Finished) */
static const char *C_FIN =
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51"
	"7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac"
	"ab 68 67 d7 26 c4 05 46";

/* {client} / {server} send application_data record: payload 00 01 .. 31 */
static const char *C_APP =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42"
	"f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97"
	"4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
static const char *S_APP =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32"
	"25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4"
	"9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";

static void check_key_iv(const char *secret_hex, const char *key_hex, const char *iv_hex)
{
	uint8_t s[32], want_k[16], want_iv[12], k[16], iv[12];
	hex(secret_hex, s, sizeof(s));
	hex(key_hex, want_k, sizeof(want_k));
	hex(iv_hex, want_iv, sizeof(want_iv));
	CHECK(tlsdec_expand_label("SHA256", s, 32, "key", NULL, 0, k, 16) == TLSDEC_OK);
	CHECK(tlsdec_expand_label("SHA256", s, 32, "iv", NULL, 0, iv, 12) == TLSDEC_OK);
	CHECK(memcmp(k, want_k, 16) == 0);
	CHECK(memcmp(iv, want_iv, 12) == 0);
}

/* Opens a whole record (header included) at `seq` with `secret`. */
static enum tlsdec_err open13(const char *secret_hex, uint64_t seq, const uint8_t *rec, size_t n,
			      uint8_t *out, size_t *out_len, uint8_t *type)
{
	struct tlsdec_dir d;
	uint8_t s[32];
	enum tlsdec_err rc;
	hex(secret_hex, s, sizeof(s));
	tlsdec_dir_init(&d);
	rc = tlsdec_set13(&d, 0x1301, s, 32);
	if (rc)
		return rc;
	d.seq = seq;
	rc = n < 5 ? TLSDEC_LENGTH
		   : tlsdec_open(&d, rec[0], (uint16_t)(rec[1] << 8 | rec[2]), rec + 5, n - 5, out,
				 n, out_len, type);
	tlsdec_dir_clear(&d);
	return rc;
}

static void test_rfc8448(void)
{
	uint8_t rec[1024], out[1024], type = 0;
	size_t n, len = 0, i, off;
	static const uint8_t want_hs[] = { 8, 11, 15, 20 };
	int ok;

	check_key_iv(S_HS, S_HS_KEY, S_HS_IV);
	check_key_iv(C_HS, C_HS_KEY, C_HS_IV);
	check_key_iv(S_AP, S_AP_KEY, S_AP_IV);
	check_key_iv(C_AP, C_AP_KEY, C_AP_IV);

	/* the server's encrypted flight: EE (40), Certificate (445),
	 * CertificateVerify (136), Finished (36) */
	n = hex(S_FLIGHT, rec, sizeof(rec));
	CHECK(n == 679);
	CHECK(open13(S_HS, 0, rec, n, out, &len, &type) == TLSDEC_OK);
	CHECK(type == 22 && len == 657);
	for (i = 0, off = 0; i < 4 && off + 4 <= len; i++) {
		size_t ml = (size_t)out[off + 1] << 16 | (size_t)out[off + 2] << 8 | out[off + 3];
		CHECK(out[off] == want_hs[i]);
		off += 4 + ml;
	}
	CHECK(i == 4 && off == len);
	/* EncryptedExtensions as the RFC prints it */
	{
		uint8_t ee[40];
		hex("08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03"
		    "01 04 00 1c 00 02 40 01 00 00 00 00", ee, sizeof(ee));
		CHECK(memcmp(out, ee, 40) == 0);
	}

	/* the client's Finished */
	n = hex(C_FIN, rec, sizeof(rec));
	CHECK(open13(C_HS, 0, rec, n, out, &len, &type) == TLSDEC_OK);
	CHECK(type == 22 && len == 36 && out[0] == 20);

	/* application data, both ways: 00 01 .. 31 */
	n = hex(C_APP, rec, sizeof(rec));
	CHECK(open13(C_AP, 0, rec, n, out, &len, &type) == TLSDEC_OK);
	for (ok = len == 50, i = 0; ok && i < 50; i++)
		ok = out[i] == i;
	CHECK(type == 23 && ok);
	n = hex(S_APP, rec, sizeof(rec));
	CHECK(open13(S_AP, 1, rec, n, out, &len, &type) == TLSDEC_OK);
	for (ok = len == 50, i = 0; ok && i < 50; i++)
		ok = out[i] == i;
	CHECK(type == 23 && ok);

	/* 2. failures: no plaintext, an error code */
	CHECK(open13(S_AP, 0, rec, n, out, &len, &type) == TLSDEC_AUTH && len == 0);   /* wrong seq */
	CHECK(open13(C_AP, 1, rec, n, out, &len, &type) == TLSDEC_AUTH && len == 0);   /* wrong key */
	rec[20] ^= 1;
	CHECK(open13(S_AP, 1, rec, n, out, &len, &type) == TLSDEC_AUTH && len == 0);   /* flipped */
	rec[20] ^= 1;
	rec[4] = 0x42;   /* header length is in the AAD */
	CHECK(open13(S_AP, 1, rec, n - 1, out, &len, &type) == TLSDEC_AUTH && len == 0);
	CHECK(open13(S_AP, 1, rec, 5 + 16, out, &len, &type) == TLSDEC_LENGTH && len == 0);
	CHECK(open13(S_AP, 1, rec, 5, out, &len, &type) == TLSDEC_LENGTH && len == 0);
	{
		struct tlsdec_dir d, c;
		uint8_t s[48] = { 0 }, r1[32] = { 0 }, r2[32] = { 0 };
		tlsdec_dir_init(&d);
		tlsdec_dir_init(&c);
		CHECK(tlsdec_open(&d, 23, 0x0303, rec, 10, out, sizeof(out), &len, &type) == TLSDEC_NO_KEY);
		CHECK(tlsdec_set13(&d, 0x1302, s, 32) == TLSDEC_NO_KEY);       /* SHA-384 needs 48 */
		CHECK(tlsdec_set13(&d, 0xc02f, s, 32) == TLSDEC_UNSUPPORTED);   /* a TLS 1.2 suite */
		CHECK(tlsdec_set12(&c, &d, 0x0303, 0x1301, s, 48, r1, r2, 0) == TLSDEC_UNSUPPORTED);
		CHECK(tlsdec_set12(&c, &d, 0x0303, 0x000a, s, 48, r1, r2, 0) == TLSDEC_UNSUPPORTED); /* 3DES */
		CHECK(tlsdec_set12(&c, &d, 0x0303, 0xc02f, s, 32, r1, r2, 0) == TLSDEC_NO_KEY);
		CHECK(tlsdec_set12(&c, &d, 0x0303, 0xc030, s, 48, r1, r2, 0) == TLSDEC_OK);
		/* garbage records of every length: errors, never a crash */
		for (i = 0; i < 80; i++)
			CHECK(tlsdec_open(&c, 23, 0x0303, rec, i, out, sizeof(out), &len, &type) != TLSDEC_OK);
		CHECK(tlsdec_set12(&c, &d, 0x0302, 0xc014, s, 48, r1, r2, 0) == TLSDEC_OK);
		for (i = 0; i < 80; i++)
			CHECK(tlsdec_open(&c, 23, 0x0302, rec, i, out, sizeof(out), &len, &type) != TLSDEC_OK);
		CHECK(tlsdec_set12(&c, &d, 0x0303, 0xc027, s, 48, r1, r2, 1) == TLSDEC_OK);
		for (i = 0; i < 80; i++)
			CHECK(tlsdec_open(&c, 23, 0x0303, rec, i, out, sizeof(out), &len, &type) != TLSDEC_OK);
		CHECK(tlsdec_supported(0x1303, 0x0304) && tlsdec_supported(0x1304, 0x0304));
		CHECK(tlsdec_supported(0xcca8, 0x0303) && tlsdec_supported(0xc013, 0x0301));
		CHECK(!tlsdec_supported(0xcca8, 0x0302) && !tlsdec_supported(0x1301, 0x0303));
		tlsdec_dir_clear(&c);
		tlsdec_dir_clear(&d);
	}
}

/* ------------------------------------- 3. bundled captures against tshark */

#define MAXV 64
#define STREAM_CAP (8u << 20)

struct list {
	int n;
	int v[MAXV];
};

static void list_add(struct list *l, int v)
{
	if (l->n < MAXV)
		l->v[l->n++] = v;
}

static int list_eq(const struct list *a, const struct list *b)
{
	return a->n == b->n && memcmp(a->v, b->v, (size_t)a->n * sizeof(int)) == 0;
}

static void list_print(const char *what, const struct list *l)
{
	int i;
	printf("%s [", what);
	for (i = 0; i < l->n; i++)
		printf(i ? ",%d" : "%d", l->v[i]);
	printf("]");
}

/* What one direction of one connection showed. methods: 1 GET, 2 other. */
struct facts {
	struct list hs, alerts, status, methods;
};

struct half {
	uint8_t *buf;
	size_t len;
	uint32_t next_seq;
	int have_seq, gap;
};

struct conn {
	struct hs_addr c, s;
	struct half h[2];       /* 0 client to server, 1 server to client */
	struct facts mine[2], theirs[2];
	/* decryption */
	int have_cr, have_sh;
	uint8_t cr[32];
	struct hs_server_hello sh;
	uint32_t ok, no_key, failed, plaintext_bytes;
};

#define MAXCONN 8

struct capture {
	struct conn c[MAXCONN];
	int n;
};

static int addr_eq(const struct hs_addr *a, const struct hs_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static void on_packet(struct capture *cap, const struct pkt *p)
{
	struct conn *c = NULL;
	struct half *h;
	int i, dir = 0;
	uint32_t seq = p->seq;
	const uint8_t *data = p->payload;
	size_t n = p->paylen;
	for (i = 0; i < cap->n; i++) {
		if (addr_eq(&cap->c[i].c, &p->src) && addr_eq(&cap->c[i].s, &p->dst))
			c = &cap->c[i], dir = 0;
		else if (addr_eq(&cap->c[i].s, &p->src) && addr_eq(&cap->c[i].c, &p->dst))
			c = &cap->c[i], dir = 1;
	}
	if (!c) {
		if (cap->n == MAXCONN || !(p->flags & TCP_SYN) || (p->flags & TCP_ACK))
			return;
		c = &cap->c[cap->n++];
		c->c = p->src;
		c->s = p->dst;
		dir = 0;
	}
	h = &c->h[dir];
	if (p->flags & TCP_SYN) {
		h->next_seq = seq + 1;
		h->have_seq = 1;
		return;
	}
	if (!h->have_seq || n == 0 || h->gap)
		return;
	if ((int32_t)(seq - h->next_seq) > 0) {
		h->gap = 1;   /* a hole: stop this direction */
		return;
	}
	if ((int32_t)(h->next_seq - seq) >= (int64_t)n)
		return;       /* a retransmission of bytes already kept */
	data += h->next_seq - seq;
	n -= h->next_seq - seq;
	if (h->len + n > STREAM_CAP)
		return;
	if (!h->buf)
		h->buf = malloc(STREAM_CAP);
	if (!h->buf)
		return;
	memcpy(h->buf + h->len, data, n);
	h->len += n;
	h->next_seq += (uint32_t)n;
}

static int read_capture(const char *path, struct capture *cap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *ph;
	const u_char *data;
	int dlt;
	uint64_t frame = 0;
	if (!pc) {
		printf("FAIL %s: %s\n", path, err);
		return -1;
	}
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &ph, &data) == 1) {
		struct pkt p;
		memset(&p, 0, sizeof(p));
		p.frame = ++frame;
		if (pkt_decode(dlt, data, ph->caplen, ph->len, &p) == PKT_OK)
			on_packet(cap, &p);
	}
	pcap_close(pc);
	return 0;
}

/* Handshake messages joined across records, per direction. */
struct hsbuf {
	uint8_t *b;
	size_t len;
};

static void hs_message(struct conn *c, int dir, const uint8_t *m, size_t len)
{
	uint8_t t = m[0];
	list_add(&c->mine[dir].hs, t);
	if (t == 1 && len >= 4 + 2 + 32 && !c->have_cr) {
		memcpy(c->cr, m + 6, 32);
		c->have_cr = 1;
	} else if (t == 2 && dir == 1) {
		struct hs_server_hello *sh = record_new_server_hello();
		if (sh && tls_parse_server_hello(m + 4, len - 4, sh) == 0 && !sh->is_hrr) {
			c->sh = *sh;   /* its fields; the lists are not read */
			c->sh.ext_type = c->sh.ext_len = NULL;
			c->sh.alpn = NULL;
			c->have_sh = 1;
		}
		record_free_server_hello(sh);
	}
}

static void hs_feed(struct conn *c, int dir, struct hsbuf *hb, const uint8_t *p, size_t n)
{
	size_t off = 0;
	if (hb->len + n > (1u << 20))
		return;
	memcpy(hb->b + hb->len, p, n);
	hb->len += n;
	while (hb->len - off >= 4) {
		size_t ml = (size_t)hb->b[off + 1] << 16 | (size_t)hb->b[off + 2] << 8 | hb->b[off + 3];
		if (hb->len - off < 4 + ml)
			break;
		hs_message(c, dir, hb->b + off, 4 + ml);
		off += 4 + ml;
	}
	memmove(hb->b, hb->b + off, hb->len - off);
	hb->len -= off;
}

static void app_data(struct conn *c, int dir, const uint8_t *p, size_t n)
{
	if (n >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ')
		list_add(&c->mine[dir].status, (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	else if (n >= 4 && memcmp(p, "GET ", 4) == 0)
		list_add(&c->mine[dir].methods, 1);
	else if (n >= 5 && (memcmp(p, "POST ", 5) == 0 || memcmp(p, "HEAD ", 5) == 0))
		list_add(&c->mine[dir].methods, 2);
}

/* Walks one direction's records; keys from the key log. 1.3: handshake
 * keys until this direction's Finished, then application keys. */
static void walk(struct conn *c, int dir, const struct keylog *kl)
{
	struct half *h = &c->h[dir];
	struct hsbuf hb;
	struct tlsdec_dir d;
	const struct keylog_entry *e = c->have_cr ? keylog_find(kl, c->cr) : NULL;
	int tls13 = c->have_sh && c->sh.version == 0x0304;
	int encrypted = 0, keyed = 0, app_keys = 0;
	size_t off = 0;
	uint8_t *out = malloc(TLSDEC_MAX_BODY);
	hb.b = malloc(1u << 20);
	hb.len = 0;
	tlsdec_dir_init(&d);
	if (!out || !hb.b)
		goto done;

	if (e && c->have_sh && tls13) {
		size_t sl = 0;
		const uint8_t *s = keylog_secret(e, dir ? KL_SERVER_HS : KL_CLIENT_HS, &sl);
		keyed = s && tlsdec_set13(&d, c->sh.cipher, s, sl) == TLSDEC_OK;
	} else if (e && c->have_sh) {
		struct tlsdec_dir other;
		size_t ml = 0;
		const uint8_t *ms = keylog_secret(e, KL_MASTER_SECRET, &ml);
		tlsdec_dir_init(&other);
		keyed = ms && (dir ? tlsdec_set12(&other, &d, c->sh.version, c->sh.cipher, ms, ml, c->cr,
						  c->sh.random, c->sh.has_encrypt_then_mac)
				   : tlsdec_set12(&d, &other, c->sh.version, c->sh.cipher, ms, ml, c->cr,
						  c->sh.random, c->sh.has_encrypt_then_mac)) == TLSDEC_OK;
		tlsdec_dir_clear(&other);
	}

	while (h->len - off >= 5) {
		uint8_t ct = h->buf[off];
		uint16_t ver = (uint16_t)(h->buf[off + 1] << 8 | h->buf[off + 2]);
		size_t rl = (size_t)h->buf[off + 3] << 8 | h->buf[off + 4];
		const uint8_t *body = h->buf + off + 5;
		uint8_t type = ct;
		size_t len = rl;
		if (ct < 20 || ct > 24 || h->len - off - 5 < rl)
			break;
		off += 5 + rl;
		if (ct == 20) {
			if (!tls13)
				encrypted = 1;
			continue;
		}
		if (tls13 ? ct == 23 : encrypted) {
			enum tlsdec_err rc;
			if (!keyed) {
				c->no_key++;
				continue;
			}
			rc = tlsdec_open(&d, ct, ver, body, rl, out, TLSDEC_MAX_BODY, &len, &type);
			if (rc) {
				c->failed++;
				continue;
			}
			c->ok++;
			c->plaintext_bytes += (uint32_t)len;
			body = out;
		}
		if (type == 22) {
			int fin_before = c->mine[dir].hs.n;
			hs_feed(c, dir, &hb, body, len);
			/* TLS 1.3: this direction's Finished ends its handshake keys */
			if (tls13 && keyed && !app_keys) {
				int i;
				for (i = fin_before; i < c->mine[dir].hs.n; i++)
					if (c->mine[dir].hs.v[i] == 20) {
						size_t sl = 0;
						const uint8_t *s = keylog_secret(e, dir ? KL_SERVER_AP0 : KL_CLIENT_AP0, &sl);
						app_keys = 1;
						keyed = s && tlsdec_set13(&d, c->sh.cipher, s, sl) == TLSDEC_OK;
					}
			}
		} else if (type == 21 && len >= 2) {
			list_add(&c->mine[dir].alerts, body[1]);
		} else if (type == 23) {
			app_data(c, dir, body, len);
		}
	}
done:
	tlsdec_dir_clear(&d);
	free(out);
	free(hb.b);
}

/* Plaintext pass: the ClientHello random and the ServerHello, so both
 * directions can be keyed before either is walked. */
static void hellos(struct conn *c)
{
	int dir;
	for (dir = 0; dir < 2; dir++) {
		struct half *h = &c->h[dir];
		struct hsbuf hb;
		size_t off = 0;
		struct facts saved = c->mine[dir];
		hb.b = malloc(1u << 20);
		hb.len = 0;
		if (!hb.b)
			return;
		while (h->len - off >= 5) {
			size_t rl = (size_t)h->buf[off + 3] << 8 | h->buf[off + 4];
			if (h->len - off - 5 < rl)
				break;
			if (h->buf[off] == 22 && !(dir == 1 ? c->have_sh : c->have_cr))
				hs_feed(c, dir, &hb, h->buf + off + 5, rl);
			off += 5 + rl;
			if (dir == 1 ? c->have_sh : c->have_cr)
				break;
		}
		c->mine[dir] = saved;
		free(hb.b);
	}
}

/* Splits a tshark comma list into the list. */
static void add_csv(struct list *l, const char *s)
{
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s)
			break;
		list_add(l, (int)v);
		s = *end == ',' ? end + 1 : end;
	}
}

/* Fills c->theirs from tshark; returns 0, or -1 when tshark is absent. */
static int run_tshark(const char *pcap, const char *keylog, struct capture *cap)
{
	char cmd[1024], line[4096];
	FILE *f;
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o 'tls.keylog_file:%s' -T fields -E separator=/t -e tcp.stream "
		 "-e tcp.srcport -e tls.handshake.type -e tls.alert_message.desc -e http.response.code "
		 "-e http.request.method 2>/dev/null", pcap, keylog);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fld[6] = { 0 }, *p = line;
		int i, stream, port, dir;
		struct conn *c;
		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < 6; i++) {
			fld[i] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		if (i < 5)
			continue;
		stream = atoi(fld[0]);
		port = atoi(fld[1]);
		if (stream < 0 || stream >= cap->n)
			continue;
		c = &cap->c[stream];
		dir = port == c->c.port ? 0 : 1;
		add_csv(&c->theirs[dir].hs, fld[2]);
		add_csv(&c->theirs[dir].alerts, fld[3]);
		add_csv(&c->theirs[dir].status, fld[4]);
		if (fld[5] && *fld[5])
			list_add(&c->theirs[dir].methods, strncmp(fld[5], "GET", 3) == 0 ? 1 : 2);
	}
	return pclose(f) == 0 ? 0 : -1;
}

static int have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* A key log with every secret's first hex digit changed. */
static int write_bad_keylog(const char *in, const char *out)
{
	FILE *a = fopen(in, "r"), *b = fopen(out, "w");
	char line[1024];
	int rc = -1;
	if (a && b) {
		while (fgets(line, sizeof(line), a)) {
			char *sp = strrchr(line, ' ');
			if (line[0] != '#' && sp && sp[1])
				sp[1] = sp[1] == '0' ? '1' : '0';
			fputs(line, b);
		}
		rc = 0;
	}
	if (a)
		fclose(a);
	if (b)
		fclose(b);
	return rc;
}

static void free_capture(struct capture *cap)
{
	int i;
	for (i = 0; i < cap->n; i++) {
		free(cap->c[i].h[0].buf);
		free(cap->c[i].h[1].buf);
	}
}

static void test_capture(const char *pcap, const char *keylog, int tshark)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	struct keylog *kl = keylog_new(0);
	char bad[256];
	int i, dir;
	uint32_t total_ok = 0, good[MAXCONN] = { 0 };
	if (!cap || !kl || read_capture(pcap, cap) != 0 || keylog_load_file(kl, keylog) != KEYLOG_OK) {
		check_failed++;
		printf("FAIL %s: cannot read\n", pcap);
		goto out;
	}
	CHECK(cap->n > 0);
	for (i = 0; i < cap->n; i++) {
		struct conn *c = &cap->c[i];
		hellos(c);
		walk(c, 0, kl);
		walk(c, 1, kl);
		total_ok += c->ok;
		printf("ok %s conn %d: %s %04x %04x: %u records decrypted, %u without keys, %u failed\n", pcap, i,
		       c->have_sh && c->sh.version == 0x0304 ? "TLS1.3" : "TLS<=1.2", c->have_sh ? c->sh.version : 0,
		       c->have_sh ? c->sh.cipher : 0, c->ok, c->no_key, c->failed);
		CHECK(c->failed == 0);
		good[i] = c->ok;
	}
	CHECK(total_ok > 0);
	if (tshark && run_tshark(pcap, keylog, cap) != 0) {
		check_failed++;
		printf("FAIL %s: tshark failed\n", pcap);
	}
	for (i = 0; tshark && i < cap->n; i++) {
		struct conn *c = &cap->c[i];
		for (dir = 0; dir < 2; dir++) {
			struct facts *m = &c->mine[dir], *t = &c->theirs[dir];
			int ok = list_eq(&m->hs, &t->hs) && list_eq(&m->alerts, &t->alerts) &&
				 list_eq(&m->methods, &t->methods) && (t->status.n == 0 || list_eq(&m->status, &t->status));
			CHECK(ok);
			if (!ok || (t->status.n == 0 && m->status.n)) {
				printf("%s %s conn %d %s: ", ok ? "ok note:" : "DIFF", pcap, i, dir ? "s2c" : "c2s");
				list_print("mine hs", &m->hs), list_print(" alerts", &m->alerts);
				list_print(" status", &m->status), list_print(" methods", &m->methods);
				list_print(" | tshark hs", &t->hs), list_print(" alerts", &t->alerts);
				list_print(" status", &t->status), list_print(" methods", &t->methods);
				printf("%s\n", ok ? " (status line tshark did not dissect)" : "");
			}
		}
	}

	/* the same capture, every secret altered: nothing decrypts */
	snprintf(bad, sizeof(bad), "%s/tlsdec-bad-%d.keylog", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	if (total_ok && write_bad_keylog(keylog, bad) == 0) {
		struct keylog *kb = keylog_new(0);
		CHECK(kb && keylog_load_file(kb, bad) == KEYLOG_OK);
		for (i = 0; kb && i < cap->n; i++) {
			struct conn *c = &cap->c[i];
			memset(c->mine, 0, sizeof(c->mine));
			c->ok = c->failed = c->no_key = c->plaintext_bytes = 0;
			walk(c, 0, kb);
			walk(c, 1, kb);
			CHECK(c->ok == 0 && c->plaintext_bytes == 0);
			CHECK(c->failed > 0 || good[i] == 0);
		}
		keylog_free(kb);
		remove(bad);
	}
out:
	if (cap)
		free_capture(cap);
	free(cap);
	keylog_free(kl);
}

static void test_captures(void)
{
	glob_t g;
	size_t i;
	int tshark = have_tshark();
	if (!tshark)
		printf("skip: tshark not found; decrypting the captures without comparing\n");
	if (glob("pcaps/*.keylog", 0, NULL, &g) != 0 ||
	    glob("tests/unit/tlsdec/*.keylog", GLOB_APPEND, NULL, &g) != 0) {
		printf("FAIL no pcaps/*.keylog or tests/unit/tlsdec/*.keylog (run from the repository root)\n");
		check_failed++;
		return;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		char pcap[512];
		size_t n = strlen(g.gl_pathv[i]);
		if (n < 7 || n - 7 + 6 >= sizeof(pcap))
			continue;
		memcpy(pcap, g.gl_pathv[i], n - 7);
		strcpy(pcap + n - 7, ".pcap");
		/* this test's own reassembly reads each stream from its first byte
		 * as TLS: the look-alike recordings with plaintext before TLS (a PROXY
		 * header), plain HTTP beside TLS, or cut on purpose are for the
		 * pipeline's test (tests/keylog.sh) */
		if (!fnmatch("pcaps/tx-cut-*", pcap, 0) || !fnmatch("pcaps/tx-snaplen*", pcap, 0) ||
		    !fnmatch("pcaps/tx-proxy-*", pcap, 0) || !fnmatch("pcaps/tx-http-*", pcap, 0))
			continue;
		test_capture(pcap, g.gl_pathv[i], tshark);
	}
	globfree(&g);
}

int main(void)
{
	test_rfc8448();
	test_captures();
	return check_done();
}
