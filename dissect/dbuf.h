/*
 * dbuf.h - the one bounded growable byte buffer (after curl's dynbuf).
 *
 * Every buffer that grows with the traffic has its maximum set at
 * dbuf_init(): growth doubles from a first size (dbuf_fit(): goes to the
 * size asked) and never passes the maximum; asking for more fails with DBUF_TOO_BIG and leaves the buffer as
 * it was, and so does a failed allocation (DBUF_NOMEM). dbuf_free() is the
 * one way to release it. Sizes are passed as size_t and every sum is
 * checked for overflow before it is used; the structure keeps them in 32
 * bits (a maximum is at most DBUF_MAX_MAX, 4 GiB - 1: the largest any
 * owner sets is 24 MiB), so a buffer costs 24 bytes, not 40: a flow holds
 * four (issue 19).
 *
 * Two ways to use it: dbuf_add() appends at len (the handshake buffer);
 * dbuf_grow() only makes room for `want` bytes and the owner keeps its own
 * layout inside p[0..cap) (the TCP ring window, the fragment reassembly
 * buffer written at offsets). dbuf_fit() makes room as dbuf_grow() does,
 * to the size asked instead of a doubling (the TCP window, the handshake
 * buffer before it appends).
 */
#ifndef TLSWHY_DBUF_H
#define TLSWHY_DBUF_H

#include <stddef.h>
#include <stdint.h>

enum dbuf_rc {
	DBUF_OK = 0,
	DBUF_TOO_BIG,   /* past the maximum set at init (or a size overflow) */
	DBUF_NOMEM,     /* the allocator said no */
};

#define DBUF_MAX_MAX UINT32_MAX

struct dbuf {
	uint8_t *p;     /* owned; NULL until the first growth */
	uint32_t len;   /* bytes in use, for dbuf_add() */
	uint32_t cap;   /* bytes allocated at p */
	uint32_t first; /* the first allocation */
	uint32_t max;   /* cap never passes it */
};

/* An empty buffer; nothing is allocated until it grows. max > DBUF_MAX_MAX
 * is clamped to DBUF_MAX_MAX, first > max to max. */
void dbuf_init(struct dbuf *b, size_t first, size_t max);

/* Capacity at least `want`: doubling from `first` (or the current cap),
 * clamped to max. */
enum dbuf_rc dbuf_grow(struct dbuf *b, size_t want);

/* Capacity at least `want`, grown to `want` rounded up to DBUF_FIT_STEP
 * bytes, not doubled (clamped to max; the first size is not used): for
 * buffers that wait, holding what came (the TCP window while it fills,
 * the handshake buffer while a message is cut across segments), so an
 * open connection holds no doubling's slack (issue 19). The spare blocks
 * serve it only when the size is one they keep. */
#define DBUF_FIT_STEP 64u
enum dbuf_rc dbuf_fit(struct dbuf *b, size_t want);

/* The capacity dbuf_grow(b, want) would leave, without allocating: the
 * current cap when it holds `want` already, 0 when `want` is past max. For
 * owners that budget memory across buffers before they grow one. */
size_t dbuf_plan(const struct dbuf *b, size_t want);

/* Appends n bytes at len. */
enum dbuf_rc dbuf_add(struct dbuf *b, const void *src, size_t n);

/* Drops the bytes (len = 0), keeps the memory. */
void dbuf_reset(struct dbuf *b);

/* Hands the bytes over: returns p (the caller now owns it and frees it with
 * free()) and leaves the buffer empty, with the same limits. */
uint8_t *dbuf_take(struct dbuf *b);

/* Frees the memory; the limits stay, so the buffer can grow again. */
void dbuf_free(struct dbuf *b);

const char *dbuf_strerror(enum dbuf_rc rc);

/* This thread keeps spare blocks of the sizes 64 B to 4 KiB that are
 * multiples of 64 (at most 32 a size, DBUF_POOL_BYTES in all) for the
 * buffers it grows, until dbuf_pool_end(), which frees them (call it
 * before the thread ends). Blocks stay plain malloc() blocks. */
#define DBUF_POOL_BYTES (256u * 1024)
void dbuf_pool_begin(void);
void dbuf_pool_end(void);
/* At most `bytes` of spares on this thread from now on (0: none), the
 * ones past it freed now; dbuf_pool_end() sets it back to DBUF_POOL_BYTES. */
void dbuf_pool_cap(size_t bytes);
/* The bytes this thread's spares hold now. */
size_t dbuf_pool_bytes(void);

#endif
