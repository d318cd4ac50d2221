/*
 * source.c - one capture input as a byte source: opened once, hashed and
 * spooled as it is read, with the progress line (see source.h).
 *
 *   file/stdin --take()--+--> its first 24 bytes (cap_src_head: the file header)
 *                        +--> cookie stream (cap_src_stream) --fread--> libpcap
 *                        `--> cap_src_read() --------------------------> capture/block.c
 *   take() on the way:   SHA-256 (OpenSSL EVP) of every byte
 *                        copy to an unlinked tmpfile (stdin/pipes, -w only)
 *                        progress on stderr (regular files > 4 MiB, stderr a tty):
 *                        percent of the file, packets/s, ETA
 *
 * The head is read first, once: capture/cap.c lets libpcap read the file
 * header from it, and when capture/block.c then reads the records they
 * come straight from take(), past the head, with no stdio stream between.
 * Otherwise libpcap reads the cookie stream, which gives the head again
 * (not hashed twice) and then the rest. Either way each byte of the input
 * is read from the file once and hashed once.
 *
 * On finishing (cap_src_finish, or libpcap closing the stream) the rest of
 * the file is drained into the hash, so a capture read only in part
 * (truncated) still gets the hash of the whole file. A regular file keeps
 * its descriptor until cap_src_free: the second pass for -w reads it again
 * through a duplicate, without opening the name again. fopencookie is
 * glibc's; this is Debian-only code.
 */
#define _GNU_SOURCE
#include "capture/source.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef TLSWHY_ZLIB
#include <zlib.h>
#endif
#ifdef TLSWHY_ZSTD
#include <zstd.h>
#endif

/* Every input's stream shares one buffer (struct cap_src_shared): inputs
 * are read one after the other, each to its end and closed before the next
 * is begun (capture/cap.c), so no two of them are ever in use at once. */
#define CAP_SRC_BUF (1u << 20)

/* ---- decompression: gzip (zlib) and zstd (libzstd), streaming ---------- */

#define ZIN_BYTES (64u * 1024)   /* compressed bytes read at once */

enum zkind { Z_PLAIN = 0, Z_GZIP, Z_ZSTD };

/* Reads compressed bytes: fewer than n at the end or on an error. */
typedef size_t zpull_fn(void *arg, uint8_t *buf, size_t n);

struct zdec {
	enum zkind kind;
	uint8_t *in;             /* ZIN_BYTES */
	size_t in_len, in_off;
	int in_eof;
	int done;                /* no more output */
	int truncated;           /* the compressed stream ended before its end */
	char err[96];            /* the compressed data is damaged */
#ifdef TLSWHY_ZLIB
	z_stream z;
	int z_init;
#endif
#ifdef TLSWHY_ZSTD
	ZSTD_DCtx *zd;
	size_t zneed;            /* libzstd's last hint: 0 at the end of a frame */
#endif
};

static enum zkind zkind_of(const uint8_t *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return Z_GZIP;
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return Z_ZSTD;
	return Z_PLAIN;
}

int cap_src_can_decompress(const uint8_t *p, size_t n)
{
	switch (zkind_of(p, n)) {
	case Z_GZIP:
#ifdef TLSWHY_ZLIB
		return 1;
#else
		return 0;
#endif
	case Z_ZSTD:
#ifdef TLSWHY_ZSTD
		return 1;
#else
		return 0;
#endif
	case Z_PLAIN:
		break;
	}
	return 1;
}

/* 0, or -1 when the kind is not built in or there is no memory. The first
 * `pre_len` compressed bytes were read already. */
static int zdec_init(struct zdec *d, enum zkind kind, const uint8_t *pre, size_t pre_len)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->in = malloc(ZIN_BYTES);
	if (!d->in || pre_len > ZIN_BYTES)
		return -1;
	if (pre_len)   /* nothing read ahead: pre may be NULL */
		memcpy(d->in, pre, pre_len);
	d->in_len = pre_len;
	switch (kind) {
	case Z_GZIP:
#ifdef TLSWHY_ZLIB
		if (inflateInit2(&d->z, 15 + 16) != Z_OK)   /* gzip only */
			return -1;
		d->z_init = 1;
		return 0;
#else
		return -1;
#endif
	case Z_ZSTD:
#ifdef TLSWHY_ZSTD
		d->zd = ZSTD_createDCtx();
		if (!d->zd)
			return -1;
		/* a window over 128 MiB is refused, not allocated */
		ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax, 27);
		return 0;
#else
		return -1;
#endif
	case Z_PLAIN:
		break;
	}
	return -1;
}

static void zdec_free(struct zdec *d)
{
#ifdef TLSWHY_ZLIB
	if (d->z_init)
		inflateEnd(&d->z);
	d->z_init = 0;
#endif
#ifdef TLSWHY_ZSTD
	ZSTD_freeDCtx(d->zd);
	d->zd = NULL;
#endif
	free(d->in);
	d->in = NULL;
}

/* More compressed input when all of it was used: 0 at its end. */
static int zdec_more(struct zdec *d, zpull_fn *pull, void *arg)
{
	if (d->in_off < d->in_len)
		return 1;
	if (d->in_eof)
		return 0;
	d->in_len = pull(arg, d->in, ZIN_BYTES);
	d->in_off = 0;
	if (!d->in_len)
		d->in_eof = 1;
	return d->in_len > 0;
}

/* Up to n decompressed bytes: fewer at the end of the data, on damage
 * (d->err) or when it broke off (d->truncated). */
static size_t zdec_read(struct zdec *d, uint8_t *out, size_t n, zpull_fn *pull, void *arg)
{
	size_t got = 0;
	while (got < n && !d->done) {
		int more = zdec_more(d, pull, arg);
#ifdef TLSWHY_ZLIB
		if (d->kind == Z_GZIP) {
			int rc;
			size_t before = got;
			d->z.next_in = d->in + d->in_off;
			d->z.avail_in = (uInt)(d->in_len - d->in_off);
			d->z.next_out = out + got;
			d->z.avail_out = (uInt)(n - got > 0x40000000u ? 0x40000000u : n - got);
			rc = inflate(&d->z, Z_NO_FLUSH);
			got += (size_t)(d->z.next_out - (out + got));
			d->in_off = d->in_len - d->z.avail_in;
			if (rc == Z_STREAM_END) {
				/* a member ends; another may follow (cat a.gz b.gz, pigz) */
				if (!zdec_more(d, pull, arg)) {
					d->done = 1;
				} else if (d->in[d->in_off] == 0x1f) {
					inflateReset(&d->z);
				} else {
					d->done = 1;   /* trailing bytes that are not gzip: ignored, as gzip -d does */
				}
			} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				snprintf(d->err, sizeof(d->err), "gzip data damaged: %s", d->z.msg ? d->z.msg : "inflate failed");
				d->done = 1;
			} else if (!more && got == before) {
				d->truncated = 1;
				d->done = 1;
			}
			continue;
		}
#endif
#ifdef TLSWHY_ZSTD
		if (d->kind == Z_ZSTD) {
			ZSTD_inBuffer ib = { d->in, d->in_len, d->in_off };
			ZSTD_outBuffer ob = { out, n, got };
			size_t before = got, in_before = d->in_off, r = ZSTD_decompressStream(d->zd, &ob, &ib);
			got = ob.pos;
			d->in_off = ib.pos;
			if (ZSTD_isError(r)) {
				snprintf(d->err, sizeof(d->err), "zstd data damaged: %s", ZSTD_getErrorName(r));
				d->done = 1;
			} else if (got != before || d->in_off != in_before) {
				d->zneed = r;
			} else if (!more) {
				d->truncated = d->zneed != 0;   /* in the middle of a frame */
				d->done = 1;
			}
			continue;
		}
#endif
		(void)more;
		d->done = 1;
	}
	return got;
}

/* A stdio stream of the decompressed bytes of `in` (taken: closed with the stream). */
struct zfile {
	FILE *in;
	struct zdec d;
};

static size_t zfile_pull(void *arg, uint8_t *buf, size_t n)
{
	return fread(buf, 1, n, ((struct zfile *)arg)->in);
}

static ssize_t zfile_read(void *cookie, char *buf, size_t n)
{
	struct zfile *z = cookie;
	size_t got = zdec_read(&z->d, (uint8_t *)buf, n, zfile_pull, z);
	return !got && z->d.err[0] ? -1 : (ssize_t)got;
}

static int zfile_close(void *cookie)
{
	struct zfile *z = cookie;
	fclose(z->in);
	zdec_free(&z->d);
	free(z);
	return 0;
}

/* `in` positioned at its start; its kind from the first bytes. */
static FILE *zfile_open(FILE *in, enum zkind kind)
{
	cookie_io_functions_t io = { zfile_read, NULL, NULL, zfile_close };
	struct zfile *z = calloc(1, sizeof(*z));
	FILE *f;
	if (!z || zdec_init(&z->d, kind, NULL, 0)) {
		if (z)
			zdec_free(&z->d);
		free(z);
		fclose(in);
		return NULL;
	}
	z->in = in;
	f = fopencookie(z, "rb", io);
	if (!f)
		zfile_close(z);
	return f;
}

struct cap_src {
	char *path;
	FILE *raw;
	FILE *spool;             /* copy of the bytes, or NULL */
	EVP_MD_CTX *md;          /* NULL: the input is not hashed (see `note`) */
	char hex[65];
	char note[96];           /* why it is not hashed, else "" */
	uint64_t size;           /* regular file: its size; else 0 */
	uint64_t done;
	int regular;
	int closed;
	int progress;
	const uint64_t *packets;
	struct timespec t0, last;
	uint64_t last_packets;
	uint8_t head[CAP_SRC_HEAD];   /* the first bytes of the input, zeros past head_len */
	size_t head_len;         /* bytes in head */
	int head_read;           /* head was read */
	size_t head_given;       /* bytes of head the cookie stream gave out */
	FILE *cookie;            /* the stream for libpcap, made on demand */
	struct cap_src_shared *sh;
	int detected;            /* the first bytes were looked at */
	uint8_t magic[6];        /* the input's first bytes as stored (compressed or not) */
	size_t magic_len;
	size_t plain_off;        /* plain input: bytes of magic given out */
	struct zdec z;           /* compressed input: kind != Z_PLAIN */
	uint64_t raw_done;       /* bytes read from the file (progress) */
};

int cap_src_shared_init(struct cap_src_shared *sh, double progress_every)
{
	memset(sh, 0, sizeof(*sh));
	sh->progress_every = progress_every;
	return pthread_mutex_init(&sh->mu, NULL) ? -1 : 0;
}

void cap_src_shared_free(struct cap_src_shared *sh)
{
	free(sh->buf);
	sh->buf = NULL;
	pthread_mutex_destroy(&sh->mu);
}

/* The progress line is drawn on the reader thread and erased by whichever
 * thread writes the report (app/rq.c): one lock for both. */
void cap_progress_clear(struct cap_src_shared *sh)
{
	pthread_mutex_lock(&sh->mu);
	if (sh->progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		sh->progress_shown = 0;
	}
	pthread_mutex_unlock(&sh->mu);
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress(struct cap_src *s)
{
	struct timespec now;
	double el, pct, rate, eta;
	const char *name;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (secs(&s->last, &now) < s->sh->progress_every)
		return;
	s->last = now;
	el = secs(&s->t0, &now);
	if (el <= 0 || !s->size)
		return;
	pct = 100.0 * (double)s->raw_done / (double)s->size;
	rate = s->packets ? (double)*s->packets / el : 0;
	eta = s->raw_done ? el * (double)(s->size - s->raw_done) / (double)s->raw_done : 0;
	name = strrchr(s->path, '/');
	name = name ? name + 1 : s->path;
	/* the file name is the operator's, but a terminal is no place for its control bytes */
	pthread_mutex_lock(&s->sh->mu);
	fputs("\r\033[Ktlswhy: ", stderr);
	for (; *name; name++)
		fputc((unsigned char)*name < 0x20 || *name == 0x7f ? '?' : *name, stderr);
	fprintf(stderr, " %5.1f%%  %.0f packets/s  ETA %d:%02d", pct, rate, (int)eta / 60, (int)eta % 60);
	fflush(stderr);
	s->sh->progress_shown = 1;
	pthread_mutex_unlock(&s->sh->mu);
}

/* Reads the input as stored: spooled, counted for the progress line. */
static size_t raw_take(struct cap_src *s, void *buf, size_t n, int *err)
{
	size_t got;
	errno = 0;
	got = fread(buf, 1, n, s->raw);
	*err = got < n && ferror(s->raw) ? (errno ? errno : EIO) : 0;
	if (got) {
		if (s->spool && fwrite(buf, 1, got, s->spool) != got) {
			fclose(s->spool);   /* disk full: no evidence from this input, said at write time */
			s->spool = NULL;
		}
		s->raw_done += got;
		if (s->progress)
			progress(s);
	}
	return got;
}

static size_t src_pull(void *arg, uint8_t *buf, size_t n)
{
	int err;
	return raw_take(arg, buf, n, &err);
}

/* The first bytes say whether the input is compressed (by content, never by name). */
static void detect(struct cap_src *s)
{
	int err = 0;
	s->detected = 1;
	while (s->magic_len < sizeof(s->magic)) {
		size_t got = raw_take(s, s->magic + s->magic_len, sizeof(s->magic) - s->magic_len, &err);
		if (!got)
			break;
		s->magic_len += got;
	}
	s->z.kind = zkind_of(s->magic, s->magic_len);
	if (s->z.kind != Z_PLAIN && zdec_init(&s->z, s->z.kind, s->magic, s->magic_len)) {
		/* not built in (said by cap.c) or no memory: the bytes as they are */
		zdec_free(&s->z);
		s->z.kind = Z_PLAIN;
	}
}

/* Reads from the input, decompressed: hashed (the capture's bytes), spooled
 * (as stored), counted. Fewer than n: the end, or an error (*err). */
static size_t take(struct cap_src *s, void *buf, size_t n, int *err)
{
	size_t got = 0;
	*err = 0;
	if (!s->detected)
		detect(s);
	if (s->z.kind != Z_PLAIN) {
		got = zdec_read(&s->z, buf, n, src_pull, s);
		if (got < n && s->z.err[0])
			*err = EIO;
	} else {
		if (s->plain_off < s->magic_len) {
			got = s->magic_len - s->plain_off < n ? s->magic_len - s->plain_off : n;
			memcpy(buf, s->magic + s->plain_off, got);
			s->plain_off += got;
		}
		if (got < n)
			got += raw_take(s, (uint8_t *)buf + got, n - got, err);
	}
	if (got) {
		if (s->md)
			EVP_DigestUpdate(s->md, buf, got);
		s->done += got;
	}
	return got;
}

const char *cap_src_compression(const struct cap_src *s)
{
	return s->z.kind == Z_GZIP ? "gzip" : s->z.kind == Z_ZSTD ? "zstd" : NULL;
}

const char *cap_src_zerror(const struct cap_src *s)
{
	return s->z.kind != Z_PLAIN && s->z.err[0] ? s->z.err : NULL;
}

int cap_src_ztruncated(const struct cap_src *s)
{
	return s->z.kind != Z_PLAIN && s->z.truncated;
}

size_t cap_src_peek(const struct cap_src *s, uint8_t *buf, size_t n)
{
	ssize_t got;
	if (s->detected) {
		memcpy(buf, s->magic, s->magic_len < n ? s->magic_len : n);
		return s->magic_len < n ? s->magic_len : n;
	}
	if (!s->regular)
		return 0;
	got = pread(fileno(s->raw), buf, n, 0);
	return got > 0 ? (size_t)got : 0;
}

const uint8_t *cap_src_magic(struct cap_src *s, size_t *len)
{
	if (!s->detected)
		detect(s);
	*len = s->magic_len;
	return s->magic;
}

const uint8_t *cap_src_head(struct cap_src *s, size_t *len)
{
	if (!s->head_read) {
		int err;
		s->head_read = 1;
		s->head_len = take(s, s->head, sizeof(s->head), &err);
	}
	*len = s->head_len;
	return s->head;
}

size_t cap_src_read(struct cap_src *s, uint8_t *buf, size_t n, int *err)
{
	size_t len;
	cap_src_head(s, &len);   /* the records come after it */
	return take(s, buf, n, err);
}

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
	struct cap_src *s = cookie;
	size_t len, got = 0;
	int err = 0;
	cap_src_head(s, &len);
	if (s->head_given < len) {   /* the head again, for libpcap */
		got = len - s->head_given < n ? len - s->head_given : n;
		memcpy(buf, s->head + s->head_given, got);
		s->head_given += got;
	}
	if (got < n)
		got += take(s, buf + got, n - got, &err);
	return !got && err ? -1 : (ssize_t)got;
}

void cap_src_finish(struct cap_src *s)
{
	char buf[65536];
	size_t got;
	unsigned char d[32];
	unsigned int dl = 0, i;
	int err;
	if (!s || s->closed)
		return;
	/* drain: hash the whole file even if the reader stopped early (a
	 * regular file that is not hashed has nothing left to do) */
	while ((s->md || s->spool) && (got = take(s, (uint8_t *)buf, sizeof(buf), &err)) > 0)
		;
	if (s->md) {
		EVP_DigestFinal_ex(s->md, d, &dl);
		for (i = 0; i < dl && i < 32; i++)
			snprintf(s->hex + 2 * i, 3, "%02x", d[i]);
	}
	if (!s->regular && s->raw != stdin) {
		fclose(s->raw);
		s->raw = NULL;
	}
	s->closed = 1;
	if (s->progress)
		cap_progress_clear(s->sh);
}

static int cookie_close(void *cookie)
{
	struct cap_src *s = cookie;
	s->cookie = NULL;   /* libpcap closed it */
	cap_src_finish(s);
	return 0;
}

FILE *cap_src_stream(struct cap_src *s)
{
	cookie_io_functions_t io = { cookie_read, NULL, NULL, cookie_close };
	if (s->cookie)
		return s->cookie;
	s->cookie = fopencookie(s, "rb", io);
	if (!s->cookie)
		return NULL;
	/* A cookie stream reads through its buffer whatever the fread size
	 * (glibc's _IO_default_xsgetn), in BUFSIZ pieces by default: a big one
	 * makes libpcap's reading (pcapng, and the files capture/block.c does
	 * not take) one read() a MiB, not 128. */
	if (!s->sh->buf)
		s->sh->buf = malloc(CAP_SRC_BUF);
	if (s->sh->buf)
		setvbuf(s->cookie, s->sh->buf, _IOFBF, CAP_SRC_BUF);
	return s->cookie;
}

FILE *cap_src_check_stream(struct cap_src *s)
{
	int fd;
	FILE *f;
	if (s->raw == stdin || s->head_read || lseek(fileno(s->raw), 0, SEEK_CUR) < 0)
		return NULL;   /* a pipe or a terminal: what is read once is gone */
	fd = dup(fileno(s->raw));
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return NULL;
	}
	{
		/* compressed: libpcap looks at what it holds */
		uint8_t m[6];
		ssize_t n = pread(fd, m, sizeof(m), 0);
		enum zkind k = n > 0 ? zkind_of(m, (size_t)n) : Z_PLAIN;
		if (k != Z_PLAIN && cap_src_can_decompress(m, (size_t)n))
			return zfile_open(f, k);
	}
	return f;
}

int cap_src_check_done(struct cap_src *s)
{
	return fseek(s->raw, 0, SEEK_SET);   /* the duplicate moved the offset they share */
}

struct cap_src *cap_src_open(struct cap_src_shared *sh, const char *path, enum cap_hash hash, int spool,
			     int prog, const uint64_t *packets, char *err, size_t errlen)
{
	struct cap_src *s;
	struct stat st;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->sh = sh;
	s->path = strdup(path);
	if (!s->path)
		goto fail;
	s->raw = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!s->raw) {
		/* libpcap's words for the same failure */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(s->path);
		free(s);
		return NULL;
	}
	/* no buffer under ours: each take() is one read() straight into the caller's buffer */
	setvbuf(s->raw, NULL, _IONBF, 0);
	if (fstat(fileno(s->raw), &st) == 0 && S_ISREG(st.st_mode)) {
		s->regular = s->raw != stdin;
		s->size = (uint64_t)st.st_size;
	}
	if (hash == CAP_HASH_NEVER) {
		snprintf(s->note, sizeof(s->note), "not computed (--input-hash never)");
	} else if (hash == CAP_HASH_AUTO && s->regular && s->size > CAP_HASH_AUTO_MAX) {
		snprintf(s->note, sizeof(s->note), "not computed: the file is over %u MiB (--input-hash always)",
			 (unsigned)(CAP_HASH_AUTO_MAX >> 20));
	} else {
		s->md = EVP_MD_CTX_new();
		if (!s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
			goto fail;
	}
	if (spool && !s->regular)
		s->spool = tmpfile();
	s->progress = prog && s->regular && s->size > CAP_PROGRESS_MIN && isatty(STDERR_FILENO);
	s->packets = packets;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->last = s->t0;
	return s;
fail:
	snprintf(err, errlen, "%s: out of memory", path);
	if (s->raw && s->raw != stdin)
		fclose(s->raw);
	EVP_MD_CTX_free(s->md);
	free(s->path);
	free(s);
	return NULL;
}

const char *cap_src_sha256(const struct cap_src *s)
{
	return s && s->closed ? s->hex : "";
}

const char *cap_src_hash_note(const struct cap_src *s)
{
	return s && s->note[0] ? s->note : NULL;
}

FILE *cap_src_reopen(const struct cap_src *s)
{
	if (!s)
		return NULL;
	if (s->spool) {
		int fd;
		FILE *f;
		if (fflush(s->spool) != 0)
			return NULL;
		fd = dup(fileno(s->spool));
		if (fd < 0)
			return NULL;
		f = fdopen(fd, "rb");
		if (!f) {
			close(fd);
			return NULL;
		}
		rewind(f);   /* the duplicate shares the offset: it moves the spool's too, which is done */
		return s->z.kind != Z_PLAIN ? zfile_open(f, s->z.kind) : f;
	}
	if (s->regular && s->raw) {
		/* the same file, not the same name: a duplicate from its start */
		int fd = dup(fileno(s->raw));
		FILE *f;
		if (fd < 0)
			return NULL;
		f = fdopen(fd, "rb");
		if (!f) {
			close(fd);
			return NULL;
		}
		rewind(f);   /* moves the original's offset too: it is read to its end already */
		return s->z.kind != Z_PLAIN ? zfile_open(f, s->z.kind) : f;
	}
	return NULL;
}

void cap_src_free(struct cap_src *s)
{
	if (!s)
		return;
	if (s->cookie)
		fclose(s->cookie);   /* never handed over (libpcap could not open it) */
	if (s->raw && s->raw != stdin)
		fclose(s->raw);
	if (s->spool)
		fclose(s->spool);
	EVP_MD_CTX_free(s->md);
	zdec_free(&s->z);
	free(s->path);
	free(s);
}
