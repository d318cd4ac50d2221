/*
 * outsum.c - what tests/reader.sh keeps of a report instead of the report:
 * reads standard input to its end and prints one line,
 *
 *     BYTES SHA256-HEX decrypted|-
 *
 * its size, its SHA-256, and whether the text "decrypted" (with its
 * quotes: a JSON key) occurs in it. The million-connection captures give
 * gigabytes of JSON, more than a CI disk should hold eight times over; a
 * Python process per run did the same at 0.1-0.2 s of start-up each, most
 * of that suite's time (2,840 runs).
 *
 *   cc -O2 -o outsum tests/outsum.c -lcrypto
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static unsigned char buf[CHUNK + 16];

int main(void)
{
	static const char key[] = "\"decrypted\"";
	const size_t klen = sizeof(key) - 1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	unsigned long long total = 0;
	size_t keep = 0;   /* bytes of the previous chunk's end, kept in front of the next */
	int found = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		fprintf(stderr, "outsum: no SHA-256\n");
		return 2;
	}
	for (;;) {
		ssize_t n = read(0, buf + keep, CHUNK);
		size_t have;
		if (n < 0) {
			perror("outsum: read");
			return 2;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf + keep, (size_t)n)) {
			fprintf(stderr, "outsum: SHA-256 failed\n");
			return 2;
		}
		total += (unsigned long long)n;
		have = keep + (size_t)n;
		if (!found && have >= klen && memmem(buf, have, key, klen))
			found = 1;
		/* a key cut between two reads: the last klen-1 bytes go first next time */
		keep = have < klen - 1 ? have : klen - 1;
		memmove(buf, buf + have - keep, keep);
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		fprintf(stderr, "outsum: SHA-256 failed\n");
		return 2;
	}
	EVP_MD_CTX_free(ctx);
	printf("%llu ", total);
	for (i = 0; i < mdlen; i++)
		printf("%02x", md[i]);
	printf(" %s\n", found ? "decrypted" : "-");
	return 0;
}
