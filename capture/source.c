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
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every input's stream shares one buffer (struct cap_src_shared): inputs
 * are read one after the other, each to its end and closed before the next
 * is begun (capture/cap.c), so no two of them are ever in use at once. */
#define CAP_SRC_BUF (1u << 20)

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
	pct = 100.0 * (double)s->done / (double)s->size;
	rate = s->packets ? (double)*s->packets / el : 0;
	eta = s->done ? el * (double)(s->size - s->done) / (double)s->done : 0;
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

/* Reads from the input: hashed, spooled, counted. Fewer than n: the end,
 * or an error (*err). */
static size_t take(struct cap_src *s, void *buf, size_t n, int *err)
{
	size_t got;
	errno = 0;
	got = fread(buf, 1, n, s->raw);
	*err = got < n && ferror(s->raw) ? (errno ? errno : EIO) : 0;
	if (got) {
		if (s->md)
			EVP_DigestUpdate(s->md, buf, got);
		if (s->spool && fwrite(buf, 1, got, s->spool) != got) {
			fclose(s->spool);   /* disk full: no evidence from this input, said at write time */
			s->spool = NULL;
		}
		s->done += got;
		if (s->progress)
			progress(s);
	}
	return got;
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
	if (!s || s->closed)
		return;
	/* drain: hash the whole file even if the reader stopped early (a
	 * regular file that is not hashed has nothing left to do) */
	while ((s->md || s->spool) && (got = fread(buf, 1, sizeof(buf), s->raw)) > 0) {
		if (s->md)
			EVP_DigestUpdate(s->md, buf, got);
		if (s->spool)
			fwrite(buf, 1, got, s->spool);
		s->done += got;
	}
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
	if (!f)
		close(fd);
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
		return f;
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
		return f;
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
	free(s->path);
	free(s);
}
