/*
 * keylog.h - the NSS key log format (SSLKEYLOGFILE) read into a table keyed
 * by the ClientHello random.
 *
 * A key log is text, one secret per line:
 *
 *     <LABEL> SP <client_random: 64 hex> SP <secret: hex> [SP ...] LF
 *
 * Used: CLIENT_RANDOM (TLS 1.0-1.2 master secret, 48 bytes),
 * CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
 * CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 (TLS 1.3, 32 or 48
 * bytes: the hash length of the suite). Ignored, counted: EXPORTER_SECRET,
 * EARLY_EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA (pre-master by
 * encrypted pre-master, which a passive reader cannot match to a random).
 * Comments ('#') and blank lines are skipped; CR LF endings are accepted.
 *
 * The same text arrives inside a pcapng Decryption Secrets Block (secrets
 * type 0x544c534b "TLSK", written by `editcap --inject-secrets tls,FILE`);
 * keylog_load_dsb() takes that block's secrets data.
 *
 * Limits (named constants below): entries (distinct client randoms) are
 * capped per table, lines longer than KEYLOG_MAX_LINE are malformed, a
 * file is read up to KEYLOG_MAX_FILE_BYTES. Nothing here is fatal: a bad
 * line is counted and the first KEYLOG_MAX_NOTES are kept as
 * "file:line: reason" strings, which never quote the line, so no secret
 * can reach an output through them. Secrets are wiped (OPENSSL_cleanse)
 * when the table is freed.
 */
#ifndef TLSWHY_KEYLOG_H
#define TLSWHY_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#define KEYLOG_DEFAULT_MAX_ENTRIES 65536u  /* distinct client randoms, about 330 B each */
#define KEYLOG_MAX_LINE       512u         /* bytes, LF excluded; a valid line is <= 193 */
#define KEYLOG_MAX_FILE_BYTES (256u << 20) /* read no further than this per file / block */
#define KEYLOG_MAX_SECRET     48u          /* bytes: master secret, SHA-384 traffic secret */
#define KEYLOG_MAX_NOTES      8            /* malformed-line notes kept */
#define KEYLOG_NOTE_BYTES     160
#define KEYLOG_DSB_TLS        0x544c534bu  /* pcapng DSB secrets type "TLSK" */

/* The secrets an entry can hold. */
enum keylog_label {
	KL_MASTER_SECRET = 0,   /* CLIENT_RANDOM */
	KL_CLIENT_HS,           /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	KL_SERVER_HS,           /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	KL_CLIENT_AP0,          /* CLIENT_TRAFFIC_SECRET_0 */
	KL_SERVER_AP0,          /* SERVER_TRAFFIC_SECRET_0 */
	KL__COUNT
};

/* Why a line was not used (counted per reason). */
enum keylog_bad {
	KLB_FIELDS = 0,         /* fewer than three fields */
	KLB_LABEL,              /* a label this format does not define */
	KLB_RANDOM,             /* client random not 64 hex digits */
	KLB_SECRET,             /* secret not hex, or the wrong length for its label */
	KLB_TOO_LONG,           /* line longer than KEYLOG_MAX_LINE */
	KLB_FULL,               /* table full: a new client random not stored */
	KLB__COUNT
};

enum keylog_err {
	KEYLOG_OK = 0,
	KEYLOG_ERR_OPEN,        /* the file could not be opened or read */
	KEYLOG_ERR_NOMEM,
	KEYLOG_ERR_TOO_BIG,     /* stopped at KEYLOG_MAX_FILE_BYTES (what came before is kept) */
	KEYLOG_ERR_DSB_TYPE,    /* a Decryption Secrets Block that is not TLS key log text */
};

struct keylog_entry {
	struct keylog_entry *next;              /* bucket chain */
	uint8_t client_random[32];
	uint8_t have;                           /* bit (1 << label) per secret present */
	uint8_t len[KL__COUNT];
	uint8_t secret[KL__COUNT][KEYLOG_MAX_SECRET];
};

struct keylog_stats {
	uint64_t lines;             /* lines read, comments and blanks included */
	uint64_t secrets;           /* lines whose secret was stored */
	uint64_t replaced;          /* of those, a secret already known for that random and label */
	uint64_t ignored;           /* EXPORTER / EARLY / RSA lines */
	uint64_t bad[KLB__COUNT];
	uint64_t bad_total;
};

struct keylog {
	struct keylog_entry **bucket;
	size_t nbucket;             /* a power of two */
	size_t n, max;
	uint64_t seed[2];           /* bucket hash key (RAND_bytes) */
	struct keylog_stats st;
	int n_notes;
	char notes[KEYLOG_MAX_NOTES][KEYLOG_NOTE_BYTES];
};

/* max_entries 0 means KEYLOG_DEFAULT_MAX_ENTRIES. NULL when out of memory. */
struct keylog *keylog_new(size_t max_entries);
/* Wipes every secret and frees. NULL is fine. */
void keylog_free(struct keylog *kl);

/* Reads a key log file; keys from several files accumulate. Only opening
 * or reading the file can fail; bad lines are counted, never fatal. */
enum keylog_err keylog_load_file(struct keylog *kl, const char *path);
/* The same from memory; `name` is what notes call the source. */
enum keylog_err keylog_load_buf(struct keylog *kl, const char *name, const uint8_t *p, size_t n);
/* A pcapng Decryption Secrets Block's secrets type and data. */
enum keylog_err keylog_load_dsb(struct keylog *kl, const char *name, uint32_t secrets_type,
				const uint8_t *p, size_t n);

/* The entry for a ClientHello random, or NULL. */
const struct keylog_entry *keylog_find(const struct keylog *kl, const uint8_t client_random[32]);
/* A secret of an entry (its length in *len), or NULL when absent. */
const uint8_t *keylog_secret(const struct keylog_entry *e, enum keylog_label l, size_t *len);

const char *keylog_strerror(enum keylog_err e);
const char *keylog_bad_name(enum keylog_bad b);
const char *keylog_label_name(enum keylog_label l);

#endif
