/*
 * fuzz.h - the libFuzzer entry points every target in fuzz/ defines.
 *
 * Each fuzz_*.c is one target: built with clang -fsanitize=fuzzer into
 * build-fuzz/fuzz_<name>, and with gcc next to replay.c into
 * <build>/fuzz/replay_<name>, a plain main() that runs the same function
 * over every file of fuzz/corpus/<name>/ (see `make fuzz`, `make fuzz-replay`).
 *
 * Targets never keep state from one input to the next except caches that
 * the product keeps too (the X.509 cache), so every crash replays alone.
 */
#ifndef TLSWHY_FUZZ_H
#define TLSWHY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A violated invariant: prints and aborts, so both libFuzzer and the
 * replayer report it as a crash. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *what);

struct hs_record;
/* Drops the record's certificate references and frees it. */
void fuzz_record_free(struct hs_record *r);
/* Aborts when a record breaks an invariant of record.h. */
void fuzz_record_check(const struct hs_record *r);
/* The record-layer targets' input (fuzz_record, fuzz_decrypt): after the
 * first byte, chunks of a 2-byte header (bit 15: direction, bit 14: a gap of
 * the 14-bit length, or a role swap when that length is 0) and the bytes.
 * Runs them through a TLS connection with these limits, finishes the
 * record and checks it; returns the record (the caller frees it with
 * fuzz_record_free after its own checks). NULL when out of memory. */
struct tls_limits;
struct hs_record *fuzz_tls_run(const uint8_t *data, size_t size, const struct tls_limits *lim);

#endif
