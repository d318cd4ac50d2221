/*
 * source.c - hashing and spooling capture inputs as libpcap (or
 * capture/block.c) reads them, and the progress line (see source.h).
 *
 *   file/stdin --read--> cookie stream --fread--> libpcap, capture/block.c
 *                          |  the first 24 bytes kept (cap_src_head: the file header)
 *                          |  SHA-256 (OpenSSL EVP) of every byte
 *                          |  copy to an unlinked tmpfile (stdin/pipes, -w only)
 *                          `- progress on stderr (regular files > 4 MiB, stderr a tty):
 *                             percent of the file, packets/s, ETA, every 0.5 s
 *                             (TLSWHY_PROGRESS_MS overrides the interval)
 *
 * On close (pcap_close) the rest of the file is drained into the hash, so
 * a capture that libpcap stopped reading early (truncated) still gets the
 * hash of the whole file. fopencookie is glibc's; this is Debian-only code.
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
	uint8_t head[24];        /* the first bytes read, zeros until then */
	FILE *cookie;            /* the stream handed out */
	struct cap_src_shared *sh;
};

int cap_src_shared_init(struct cap_src_shared *sh)
{
	const char *e = getenv("TLSWHY_PROGRESS_MS");   /* the update interval (tests set 0) */
	memset(sh, 0, sizeof(*sh));
	sh->progress_every = e && *e ? atof(e) / 1000.0 : 0.5;
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

static ssize_t src_read(void *cookie, char *buf, size_t n)
{
	struct cap_src *s = cookie;
	size_t got = fread(buf, 1, n, s->raw);
	if (got) {
		if (s->done < sizeof(s->head)) {
			size_t k = sizeof(s->head) - (size_t)s->done;
			memcpy(s->head + s->done, buf, got < k ? got : k);
		}
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
	if (!got && ferror(s->raw))
		return -1;
	return (ssize_t)got;
}

static int src_close(void *cookie)
{
	struct cap_src *s = cookie;
	char buf[65536];
	size_t got;
	unsigned char d[32];
	unsigned int dl = 0, i;
	/* drain: hash the whole file even if libpcap stopped early (a
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
	if (s->raw != stdin)
		fclose(s->raw);
	s->raw = NULL;
	s->closed = 1;
	if (s->progress)
		cap_progress_clear(s->sh);
	return 0;
}

FILE *cap_src_open(struct cap_src **srcp, struct cap_src_shared *sh, const char *path, enum cap_hash hash,
		   int spool, int prog, const uint64_t *packets)
{
	struct cap_src *s;
	struct stat st;
	cookie_io_functions_t io = { src_read, NULL, NULL, src_close };
	FILE *f;
	*srcp = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sh = sh;
	s->path = strdup(path);
	if (!s->path)
		goto fail;
	s->raw = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!s->raw)
		goto fail;
	/* no buffer under ours: each src_read is one read() straight into it */
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
	f = fopencookie(s, "rb", io);
	if (!f)
		goto fail;
	/* A cookie stream reads through its buffer whatever the fread size
	 * (glibc's _IO_default_xsgetn), in BUFSIZ pieces by default: a big one
	 * makes libpcap's reading (pcapng, and the files capture/block.c does
	 * not take) one read() a MiB, not 128. The block reader takes what is
	 * buffered here, then reads past it (cap_src_read). */
	if (!sh->buf)
		sh->buf = malloc(CAP_SRC_BUF);
	if (sh->buf)
		setvbuf(f, sh->buf, _IOFBF, CAP_SRC_BUF);
	s->cookie = f;
	*srcp = s;
	return f;
fail:
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

size_t cap_src_read(void *arg, uint8_t *buf, size_t n, int *err)
{
	struct cap_src *s = arg;
	FILE *f = s->cookie;
	size_t got = 0, avail;
	*err = 0;
	/* first what the stream has buffered (it was hashed on the way in);
	 * glibc's FILE keeps it between these two pointers */
	avail = (size_t)(f->_IO_read_end - f->_IO_read_ptr);
	if (avail)
		got = fread(buf, 1, avail < n ? avail : n, f);
	while (got < n) {
		ssize_t r;
		errno = 0;
		r = src_read(s, (char *)buf + got, n - got);
		if (r < 0) {
			*err = errno ? errno : EIO;
			break;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

const uint8_t *cap_src_head(const struct cap_src *s)
{
	return s ? s->head : NULL;
}

uint64_t cap_src_bytes(const struct cap_src *s)
{
	return s ? s->done : 0;
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
	if (s->regular)
		return fopen(s->path, "rb");
	return NULL;
}

void cap_src_free(struct cap_src *s)
{
	if (!s)
		return;
	if (s->raw && s->raw != stdin)
		fclose(s->raw);
	if (s->spool)
		fclose(s->spool);
	EVP_MD_CTX_free(s->md);
	free(s->path);
	free(s);
}
