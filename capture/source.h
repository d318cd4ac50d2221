/*
 * source.h - what the report needs to know about its inputs besides the
 * packets: the SHA-256 of each capture file, a copy of standard input for
 * a second pass (-w), and the progress line.
 *
 * cap_src_open() hands libpcap a stdio stream (fopencookie) that reads the
 * real file and feeds every byte through SHA-256 on the way, so the hash
 * is of exactly the bytes analyzed, stdin included, with no extra read.
 * When the input cannot be read twice (stdin, a pipe) and a second pass is
 * wanted, the bytes are also copied to an unlinked temporary file.
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
	double progress_every;    /* seconds between progress updates (TLSWHY_PROGRESS_MS) */
	pthread_mutex_t mu;       /* the progress line */
	int progress_shown;
};
int cap_src_shared_init(struct cap_src_shared *sh);
/* Once every stream is closed. */
void cap_src_shared_free(struct cap_src_shared *sh);

/* Opens `path` ("-" = stdin). Returns the stream for libpcap (it closes it
 * with pcap_close), or NULL with *srcp NULL when the file cannot be opened
 * (libpcap then reports the error as usual). `spool`: keep a copy when the
 * input is not a regular file. `progress`: a progress line on stderr for
 * regular files over CAP_PROGRESS_MIN bytes; `packets` is read for it. */
#define CAP_PROGRESS_MIN (4u * 1024 * 1024)
/* `hash` (--input-hash): AUTO hashes standard input and regular files up to
 * CAP_HASH_AUTO_MAX bytes. SHA-256 runs at about 2 GB/s here, so above that
 * it would cost more than the whole analysis (bench/RESULTS.md). */
enum cap_hash { CAP_HASH_AUTO = 0, CAP_HASH_ALWAYS, CAP_HASH_NEVER };
#define CAP_HASH_AUTO_MAX ((uint64_t)256 << 20)
FILE *cap_src_open(struct cap_src **srcp, struct cap_src_shared *sh, const char *path, enum cap_hash hash,
		   int spool, int progress, const uint64_t *packets);
/* "" until the stream was closed, or when the input is not hashed; then
 * 64 hex digits. */
const char *cap_src_sha256(const struct cap_src *s);
/* Why the input is not hashed ("not computed: ..."), or NULL. */
const char *cap_src_hash_note(const struct cap_src *s);
uint64_t cap_src_bytes(const struct cap_src *s);
/* The first 24 bytes that were read (a pcap file header), zeros until
 * they were; lives as long as `s`. NULL when `s` is. */
const uint8_t *cap_src_head(const struct cap_src *s);
/* Reads up to n bytes of the input past what the stream returned so far:
 * what its buffer holds, then straight into buf (hashed, spooled and
 * counted as the stream's own reads are), without the stream's copy.
 * Fewer than n: the end, or an error (*err = errno). For capture/block.c,
 * which reads nothing through the stream after this. `arg`: the cap_src. */
size_t cap_src_read(void *arg, uint8_t *buf, size_t n, int *err);
/* A fresh stream positioned at the start, for a second pass: the spool
 * copy, or the file reopened. NULL when neither is possible. */
FILE *cap_src_reopen(const struct cap_src *s);
void cap_src_free(struct cap_src *s);
/* Erases the progress line if one is showing (before other terminal output). */
void cap_progress_clear(struct cap_src_shared *sh);

#endif
