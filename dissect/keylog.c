/*
 * keylog.c - NSS key log (SSLKEYLOGFILE) reader: text in, a hash table of
 * secrets by client random out.
 *
 * Format (NSS "Key Log Format"; the labels of RFC 8446 for TLS 1.3):
 *
 *   CLIENT_RANDOM 8d4f...(64 hex) 0a1b...(96 hex: 48-byte master secret)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET 8d4f... 77e1...(64 or 96 hex)
 *   # a comment
 *
 * How it reads: bytes go through one line assembler (struct feed) whether
 * they come from a file (read in 64 KiB blocks) or from memory (a pcapng
 * Decryption Secrets Block). A line is at most KEYLOG_MAX_LINE bytes; the
 * rest of a longer one is skipped up to its LF and the line counted as
 * too long. A last line without LF (a truncated file) is still parsed, so
 * a cut secret shows up as a bad hex length, not as silence.
 *
 * Invariants:
 *   - at most kl->max entries; a new client random past that is counted
 *     (KLB_FULL), never stored;
 *   - a stored secret has exactly the length its label allows (48 for a
 *     master secret, 32 or 48 for a TLS 1.3 traffic secret);
 *   - notes name the source, the line number and the reason, never the
 *     line's content; the line buffer and the table are wiped with
 *     OPENSSL_cleanse before they are released.
 *   - lookups hash the 32-byte random with a key from RAND_bytes, so lines
 *     written to collide cannot chain into one bucket.
 *
 * Later lines win: a second secret for the same random and label replaces
 * the first (counted as `replaced`), as a log appended to by a restarted
 * client would want.
 */
#include "dissect/keylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static const struct {
	const char *name;
	int label;              /* enum keylog_label, or -1: ignored */
} labels[] = {
	{ "CLIENT_RANDOM", KL_MASTER_SECRET },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KL_CLIENT_HS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", KL_SERVER_HS },
	{ "CLIENT_TRAFFIC_SECRET_0", KL_CLIENT_AP0 },
	{ "SERVER_TRAFFIC_SECRET_0", KL_SERVER_AP0 },
	{ "EXPORTER_SECRET", -1 },
	{ "EARLY_EXPORTER_SECRET", -1 },
	{ "CLIENT_EARLY_TRAFFIC_SECRET", -1 },
	{ "RSA", -1 },
};

const char *keylog_label_name(enum keylog_label l)
{
	switch (l) {
	case KL_MASTER_SECRET: return "CLIENT_RANDOM";
	case KL_CLIENT_HS: return "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
	case KL_SERVER_HS: return "SERVER_HANDSHAKE_TRAFFIC_SECRET";
	case KL_CLIENT_AP0: return "CLIENT_TRAFFIC_SECRET_0";
	case KL_SERVER_AP0: return "SERVER_TRAFFIC_SECRET_0";
	case KL__COUNT: break;
	}
	return "?";
}

const char *keylog_bad_name(enum keylog_bad b)
{
	switch (b) {
	case KLB_FIELDS: return "fewer than three fields";
	case KLB_LABEL: return "unknown label";
	case KLB_RANDOM: return "client random is not 64 hex digits";
	case KLB_SECRET: return "secret is not hex of the length its label needs";
	case KLB_TOO_LONG: return "line too long";
	case KLB_FULL: return "key log table full, client random not stored";
	case KLB__COUNT: break;
	}
	return "?";
}

const char *keylog_strerror(enum keylog_err e)
{
	switch (e) {
	case KEYLOG_OK: return "ok";
	case KEYLOG_ERR_OPEN: return "cannot read the key log";
	case KEYLOG_ERR_NOMEM: return "out of memory";
	case KEYLOG_ERR_TOO_BIG: return "key log larger than the read limit, rest ignored";
	case KEYLOG_ERR_DSB_TYPE: return "decryption secrets block is not a TLS key log";
	}
	return "?";
}

struct keylog *keylog_new(size_t max_entries)
{
	struct keylog *kl = calloc(1, sizeof(*kl));
	size_t nb = 64;
	if (!kl)
		return NULL;
	kl->max = max_entries ? max_entries : KEYLOG_DEFAULT_MAX_ENTRIES;
	while (nb < kl->max && nb < ((size_t)1 << 20))
		nb <<= 1;
	kl->nbucket = nb;
	kl->bucket = calloc(nb, sizeof(*kl->bucket));
	if (!kl->bucket) {
		free(kl);
		return NULL;
	}
	if (RAND_bytes((unsigned char *)kl->seed, sizeof(kl->seed)) != 1) {
		/* no entropy: still correct, only predictable buckets */
		kl->seed[0] = 0x9e3779b97f4a7c15ULL;
		kl->seed[1] = 0xc2b2ae3d27d4eb4fULL;
	}
	return kl;
}

void keylog_free(struct keylog *kl)
{
	size_t i;
	if (!kl)
		return;
	for (i = 0; i < kl->nbucket; i++) {
		struct keylog_entry *e = kl->bucket[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			OPENSSL_cleanse(e, sizeof(*e));
			free(e);
		}
	}
	free(kl->bucket);
	OPENSSL_cleanse(kl, sizeof(*kl));
	free(kl);
}

/* Keyed mix of the random's four 64-bit words (not cryptographic; the key
 * only keeps crafted randoms from sharing a bucket on purpose). */
static size_t bucket_of(const struct keylog *kl, const uint8_t r[32])
{
	uint64_t h = kl->seed[0], w;
	int i;
	for (i = 0; i < 4; i++) {
		memcpy(&w, r + 8 * i, 8);
		h ^= w + kl->seed[1];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return (size_t)(h & (kl->nbucket - 1));
}

const struct keylog_entry *keylog_find(const struct keylog *kl, const uint8_t client_random[32])
{
	const struct keylog_entry *e;
	if (!kl)
		return NULL;
	for (e = kl->bucket[bucket_of(kl, client_random)]; e; e = e->next)
		if (memcmp(e->client_random, client_random, 32) == 0)
			return e;
	return NULL;
}

const uint8_t *keylog_secret(const struct keylog_entry *e, enum keylog_label l, size_t *len)
{
	if (!e || (unsigned)l >= KL__COUNT || !(e->have & (1u << l)))
		return NULL;
	if (len)
		*len = e->len[l];
	return e->secret[l];
}

/* ------------------------------------------------------------- parsing */

struct feed {
	struct keylog *kl;
	const char *name;
	uint64_t lineno;
	size_t len;
	int too_long;
	char line[KEYLOG_MAX_LINE + 1];
};

static void note(struct feed *f, enum keylog_bad why)
{
	struct keylog *kl = f->kl;
	kl->st.bad[why]++;
	kl->st.bad_total++;
	if (kl->n_notes < KEYLOG_MAX_NOTES) {
		/* the source name and the line number only: never the line */
		snprintf(kl->notes[kl->n_notes], KEYLOG_NOTE_BYTES, "%s:%llu: %s",
			 f->name ? f->name : "key log", (unsigned long long)f->lineno, keylog_bad_name(why));
		kl->n_notes++;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2*n hex digits of s[0..slen) into out[n]; 0 on success. */
static int unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;
	if (slen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static struct keylog_entry *entry_get(struct keylog *kl, const uint8_t r[32], int *full)
{
	size_t b = bucket_of(kl, r);
	struct keylog_entry *e;
	*full = 0;
	for (e = kl->bucket[b]; e; e = e->next)
		if (memcmp(e->client_random, r, 32) == 0)
			return e;
	if (kl->n >= kl->max) {
		*full = 1;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->client_random, r, 32);
	e->next = kl->bucket[b];
	kl->bucket[b] = e;
	kl->n++;
	return e;
}

/* One complete line (no LF), NUL-terminated in f->line. */
static enum keylog_err parse_line(struct feed *f)
{
	const char *fld[3];
	size_t flen[3];
	const char *p = f->line, *end = f->line + f->len;
	uint8_t random[32], secret[KEYLOG_MAX_SECRET];
	int nf = 0, label = -2, full;
	size_t i, slen;
	struct keylog_entry *e;

	f->kl->st.lines++;
	while (p < end && is_space(*p))
		p++;
	if (p == end || *p == '#')
		return KEYLOG_OK;
	while (p < end && nf < 3) {
		fld[nf] = p;
		while (p < end && !is_space(*p))
			p++;
		flen[nf] = (size_t)(p - fld[nf]);
		nf++;
		while (p < end && is_space(*p))
			p++;
	}
	if (nf < 3) {
		note(f, KLB_FIELDS);
		return KEYLOG_OK;
	}
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strlen(labels[i].name) == flen[0] && memcmp(labels[i].name, fld[0], flen[0]) == 0)
			label = labels[i].label;
	if (label == -2) {
		note(f, KLB_LABEL);
		return KEYLOG_OK;
	}
	if (label == -1) {
		f->kl->st.ignored++;
		return KEYLOG_OK;
	}
	if (unhex(fld[1], flen[1], random, 32)) {
		note(f, KLB_RANDOM);
		return KEYLOG_OK;
	}
	/* a master secret is 48 bytes; a traffic secret is the suite's hash
	 * length: SHA-256 or SHA-384 */
	slen = flen[2] / 2;
	if ((label == KL_MASTER_SECRET && slen != 48) ||
	    (label != KL_MASTER_SECRET && slen != 32 && slen != 48) ||
	    unhex(fld[2], flen[2], secret, slen)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		note(f, KLB_SECRET);
		return KEYLOG_OK;
	}
	e = entry_get(f->kl, random, &full);
	if (!e) {
		OPENSSL_cleanse(secret, sizeof(secret));
		if (full) {
			note(f, KLB_FULL);
			return KEYLOG_OK;
		}
		return KEYLOG_ERR_NOMEM;
	}
	if (e->have & (1u << label))
		f->kl->st.replaced++;
	memcpy(e->secret[label], secret, slen);
	e->len[label] = (uint8_t)slen;
	e->have |= (uint8_t)(1u << label);
	f->kl->st.secrets++;
	OPENSSL_cleanse(secret, sizeof(secret));
	return KEYLOG_OK;
}

static enum keylog_err end_line(struct feed *f)
{
	enum keylog_err rc = KEYLOG_OK;
	f->lineno++;
	if (f->too_long) {
		f->kl->st.lines++;
		note(f, KLB_TOO_LONG);
	} else {
		f->line[f->len] = '\0';
		rc = parse_line(f);
	}
	OPENSSL_cleanse(f->line, f->len);
	f->len = 0;
	f->too_long = 0;
	return rc;
}

static enum keylog_err feed_bytes(struct feed *f, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			enum keylog_err rc = end_line(f);
			if (rc)
				return rc;
			continue;
		}
		if (f->too_long)
			continue;
		if (f->len >= KEYLOG_MAX_LINE) {
			f->too_long = 1;
			continue;
		}
		/* a NUL inside a line can never be valid; keep it from ending the string early */
		f->line[f->len++] = p[i] ? (char)p[i] : '?';
	}
	return KEYLOG_OK;
}

static enum keylog_err feed_end(struct feed *f)
{
	if (f->len || f->too_long)
		return end_line(f);
	return KEYLOG_OK;
}

enum keylog_err keylog_load_buf(struct keylog *kl, const char *name, const uint8_t *p, size_t n)
{
	struct feed *f;
	enum keylog_err rc = KEYLOG_OK;
	if (!kl)
		return KEYLOG_ERR_NOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		return KEYLOG_ERR_NOMEM;
	f->kl = kl;
	f->name = name;
	if (n > KEYLOG_MAX_FILE_BYTES) {
		n = KEYLOG_MAX_FILE_BYTES;
		rc = KEYLOG_ERR_TOO_BIG;
	}
	{
		enum keylog_err r2 = feed_bytes(f, p, n);
		if (!r2)
			r2 = feed_end(f);
		if (r2)
			rc = r2;
	}
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
	return rc;
}

enum keylog_err keylog_load_dsb(struct keylog *kl, const char *name, uint32_t secrets_type,
				const uint8_t *p, size_t n)
{
	if (secrets_type != KEYLOG_DSB_TLS)
		return KEYLOG_ERR_DSB_TYPE;
	return keylog_load_buf(kl, name, p, n);
}

enum keylog_err keylog_load_file(struct keylog *kl, const char *path)
{
	FILE *fp;
	struct feed *f;
	uint8_t *buf;
	size_t total = 0, got;
	enum keylog_err rc = KEYLOG_OK;
	if (!kl)
		return KEYLOG_ERR_NOMEM;
	fp = fopen(path, "rb");
	if (!fp)
		return KEYLOG_ERR_OPEN;
	f = calloc(1, sizeof(*f));
	buf = malloc(65536);
	if (!f || !buf) {
		free(f);
		free(buf);
		fclose(fp);
		return KEYLOG_ERR_NOMEM;
	}
	f->kl = kl;
	f->name = path;
	while ((got = fread(buf, 1, 65536, fp)) > 0) {
		if (got > KEYLOG_MAX_FILE_BYTES - total) {
			got = KEYLOG_MAX_FILE_BYTES - total;
			rc = KEYLOG_ERR_TOO_BIG;
		}
		total += got;
		{
			enum keylog_err r2 = feed_bytes(f, buf, got);
			if (r2) {
				rc = r2;
				break;
			}
		}
		if (rc)
			break;
	}
	if (ferror(fp) && !rc)
		rc = KEYLOG_ERR_OPEN;
	if (rc != KEYLOG_ERR_NOMEM) {
		enum keylog_err r2 = feed_end(f);
		if (r2)
			rc = r2;
	}
	OPENSSL_cleanse(buf, 65536);
	free(buf);
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
	fclose(fp);
	return rc;
}
