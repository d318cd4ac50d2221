/*
 * hash.h - the one hash mixer of dissect/: a 64 x 64 -> 128-bit multiply
 * folded to 64 bits (the mixing step of wyhash), and splitmix64 to spread a
 * weak seed into keys when the kernel has no entropy yet.
 *
 * Every table keyed by wire data (the flow table, the X.509 caches) mixes
 * with a random per-table key, so values chosen on the wire cannot be
 * precomputed to share one bucket. Not cryptographic: a hit is always
 * confirmed by comparing the full key.
 */
#ifndef TLSWHY_HASH_H
#define TLSWHY_HASH_H

#include <stdint.h>

static inline uint64_t hash_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The next value of a splitmix64 sequence whose state is *x. */
static inline uint64_t hash_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
