/*
 * source.h - one capture input as a byte source (capture/source.c): the
 * file or standard input, opened once, read once, with the SHA-256 of
 * exactly the bytes analyzed, a copy of standard input or a pipe for a
 * second pass (-w), and the progress line.
 *
 * The readers: libpcap through a stdio stream (cap_src_stream), or the
 * block reader (capture/block.c) straight from the input (cap_src_read),
 * after libpcap read the file header from cap_src_head.
 */
#ifndef TLSWHY_CAP_SOURCE_H
#define TLSWHY_CAP_SOURCE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct cap_src;

/* What the inputs of one run share (the run owns it): the one read buffer
 * and the progress line, drawn on the reader thread and erased by the
 * thread that writes the report. */
struct cap_src_shared {
	char *buf;                /* the streams' buffer, made by the first cap_src_open */
	double progress_every;    /* seconds between progress updates */
	pthread_mutex_t mu;       /* the progress line */
	int progress_shown;
};
#define CAP_PROGRESS_EVERY 0.5   /* seconds */
int cap_src_shared_init(struct cap_src_shared *sh, double progress_every);
/* Once every stream is closed. */
void cap_src_shared_free(struct cap_src_shared *sh);

/* `progress`: a progress line on stderr for regular files over
 * CAP_PROGRESS_MIN bytes; `packets` is read for it. */
#define CAP_PROGRESS_MIN (4u * 1024 * 1024)
/* `hash` (--input-hash): AUTO hashes standard input and regular files up to
 * CAP_HASH_AUTO_MAX bytes. SHA-256 runs at about 2 GB/s here, so above that
 * it would cost more than the whole analysis (bench/RESULTS.md). */
enum cap_hash { CAP_HASH_AUTO = 0, CAP_HASH_ALWAYS, CAP_HASH_NEVER };
#define CAP_HASH_AUTO_MAX ((uint64_t)256 << 20)
#define CAP_SRC_HEAD 24u   /* a classic pcap file header */

/* Opens `path` ("-" = stdin); nothing is read yet. NULL with `err` (in
 * libpcap's words when the file cannot be opened). `spool`: keep a copy
 * when the input is not a regular file. */
struct cap_src *cap_src_open(struct cap_src_shared *sh, const char *path, enum cap_hash hash, int spool,
			     int progress, const uint64_t *packets, char *err, size_t errlen);
/* Before anything is read: a stream on a duplicate of the input, from its
 * start, for a look that must not consume it (the start-up check); NULL
 * when the input cannot be looked at twice (standard input, a pipe). The
 * caller closes it, then calls cap_src_check_done. */
FILE *cap_src_check_stream(struct cap_src *s);
int cap_src_check_done(struct cap_src *s);
/* The first CAP_SRC_HEAD bytes of the input (fewer when it is shorter:
 * *len), read on the first call; they live as long as `s`. */
const uint8_t *cap_src_head(struct cap_src *s, size_t *len);
/* Reads up to n bytes of the input past the head, straight into buf
 * (hashed, spooled, counted). Fewer than n: the end, or an error (*err =
 * errno). For capture/block.c; then nothing reads the stream. */
size_t cap_src_read(struct cap_src *s, uint8_t *buf, size_t n, int *err);
/* The whole input as a stdio stream for libpcap (the head, then the rest),
 * made on the first call; pcap_close closes it, which finishes the source. */
FILE *cap_src_stream(struct cap_src *s);
/* Reading is over: the rest is drained into the hash. Idempotent. */
void cap_src_finish(struct cap_src *s);
/* "" until finished, or when the input is not hashed; then 64 hex digits. */
const char *cap_src_sha256(const struct cap_src *s);
/* Why the input is not hashed ("not computed: ..."), or NULL. */
const char *cap_src_hash_note(const struct cap_src *s);
/* A fresh stream positioned at the start, for a second pass: the spool
 * copy, or a duplicate of the file's descriptor. NULL when neither is
 * possible. */
FILE *cap_src_reopen(const struct cap_src *s);
/* Compressed inputs (gzip with zlib, zstd with libzstd, when built in)
 * are read decompressed, found by their first bytes, never by name: every
 * reader, the SHA-256 and the second pass (-w) see the capture's bytes;
 * the spool keeps them as stored. "gzip", "zstd", or NULL for a plain
 * input. */
const char *cap_src_compression(const struct cap_src *s);
/* Why the compressed data could not be read on (damaged), or NULL. */
const char *cap_src_zerror(const struct cap_src *s);
/* 1: the compressed stream ended before its end. */
int cap_src_ztruncated(const struct cap_src *s);
/* The input's first bytes as stored (up to 6), read on the first call. */
const uint8_t *cap_src_magic(struct cap_src *s, size_t *len);
/* The first bytes as stored without reading them: known already, or a
 * regular file (pread); 0 otherwise. */
size_t cap_src_peek(const struct cap_src *s, uint8_t *buf, size_t n);
/* 0 when `p` starts a compressed format that is not built in. */
int cap_src_can_decompress(const uint8_t *p, size_t n);
/* Closes the input. */
void cap_src_free(struct cap_src *s);
/* Erases the progress line if one is showing (before other terminal output). */
void cap_progress_clear(struct cap_src_shared *sh);

#endif
