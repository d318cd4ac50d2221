/*
 * test_communityid.c - Community ID v1 against the specification's own
 * baseline (corelight/community-id-spec, baseline/baseline_deflt.json and
 * baseline_seed1.json: TCP, UDP and SCTP over IPv4 and IPv6, both
 * directions) and Zeek's test of community_id_v1; and the SHA-1 the CPU's
 * SHA instructions compute (fp_sha1_short) against libcrypto's for every
 * length it takes, where this CPU has them.
 */
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/communityid.h"

#include <openssl/evp.h>

static struct hs_addr ep(const char *ip, uint16_t port)
{
	struct hs_addr e;
	memset(&e, 0, sizeof(e));
	if (strchr(ip, ':')) {
		e.family = 6;
		inet_pton(AF_INET6, ip, e.addr);
	} else {
		e.family = 4;
		inet_pton(AF_INET, ip, e.addr);
	}
	e.port = port;
	return e;
}

static const struct {
	const char *s, *d;
	uint16_t sp, dp;
	uint8_t proto;
	uint16_t seed;
	const char *want;
} vec[] = {
	{ "128.232.110.120", "66.35.250.204", 34855, 80, 6, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ "66.35.250.204", "128.232.110.120", 80, 34855, 6, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ "128.232.110.120", "66.35.250.204", 34855, 80, 6, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 6, 0,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 6, 1,
	  "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ "192.168.1.52", "8.8.8.8", 54585, 53, 17, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ "8.8.8.8", "192.168.1.52", 53, 54585, 17, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ "192.168.170.8", "192.168.170.56", 7, 7, 132, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ "10.1.12.1", "10.1.12.2", 0, 0, 46, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ "10.1.12.2", "10.1.12.1", 0, 0, 46, 1, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
	/* more of baseline_seed1.json (every TCP, UDP, SCTP and portless entry,
	 * both directions; its ICMP/ICMPv6 entries need the type/code mapping,
	 * which tlswhy does not use) */
	{ "66.35.250.204", "128.232.110.120", 80, 34855, 6, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 6, 1,
	  "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ "192.168.1.52", "8.8.8.8", 54585, 53, 17, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ "192.168.170.8", "192.168.170.56", 7, 7, 132, 1, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ "192.168.170.56", "192.168.170.8", 7, 7, 132, 1, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ "10.1.12.1", "10.1.12.2", 0, 0, 46, 1, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
	/* Zeek's testing/btest for community_id_v1 */
	{ "1.2.3.4", "5.6.7.8", 1122, 3344, 6, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
};

int main(void)
{
	char out[FP_CID_LEN];
	size_t i;
	int way;
	/* the vectors through libcrypto's SHA-1 (way 0), then as the CPU
	 * allows (way 1: its SHA instructions where it has them); the flows
	 * alternate so the last-flow memo never answers */
	for (way = 0; way <= 1; way++) {
		fp_sha1_cpu(way);
		for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
			struct hs_addr a = ep(vec[i].s, vec[i].sp), b = ep(vec[i].d, vec[i].dp);
			struct hs_addr z = ep("192.0.2.1", (uint16_t)(1000 + i));
			CHECK_STRF(fp_community_id(&a, &b, vec[i].proto, vec[i].seed, out, sizeof(out)), vec[i].want,
				   "vector %zu (%s): %s:%u -> %s:%u proto %u seed %u", i, way ? "CPU" : "libcrypto",
				   vec[i].s, vec[i].sp, vec[i].d, vec[i].dp, vec[i].proto, vec[i].seed);
			CHECK(fp_community_id(&z, &z, 6, 0, out, sizeof(out)) != NULL);
		}
	}
	{
		uint8_t md[20];
		fp_sha1_cpu(0);
		CHECK(fp_sha1_short((const uint8_t *)"abc", 3, md) == 0);
		fp_sha1_cpu(1);
	}
	{
		struct hs_addr a = ep("1.2.3.4", 1), b = ep("::1", 2);
		CHECK(fp_community_id(&a, &b, 6, 0, out, sizeof(out)) == NULL && out[0] == 0);
		CHECK(fp_community_id(&a, &a, 6, 0, out, 8) == NULL);
	}
	/* the last result is kept for the same flow asked again: every vector
	 * twice in a row, then each after another, still its own value */
	for (i = 0; i < 2 * sizeof(vec) / sizeof(vec[0]); i++) {
		size_t j = i / 2, k = (j * 7 + 3) % (sizeof(vec) / sizeof(vec[0]));
		struct hs_addr a = ep(vec[j].s, vec[j].sp), b = ep(vec[j].d, vec[j].dp);
		struct hs_addr c = ep(vec[k].s, vec[k].sp), d = ep(vec[k].d, vec[k].dp);
		CHECK_STRF(fp_community_id(&a, &b, vec[j].proto, vec[j].seed, out, sizeof(out)), vec[j].want,
			   "vector %zu asked again", j);
		CHECK_STRF(fp_community_id(&b, &a, vec[j].proto, vec[j].seed, out, sizeof(out)), vec[j].want,
			   "vector %zu asked again, reversed", j);
		CHECK_STRF(fp_community_id(&c, &d, vec[k].proto, vec[k].seed, out, sizeof(out)), vec[k].want,
			   "vector %zu after vector %zu", k, j);
	}
	{
		/* the same flow with another seed, another protocol, or one
		 * port changed is another flow */
		struct hs_addr a = ep(vec[0].s, vec[0].sp), b = ep(vec[0].d, vec[0].dp);
		char first[FP_CID_LEN];
		CHECK(fp_community_id(&a, &b, 6, 0, first, sizeof(first)) != NULL);
		CHECK(fp_community_id(&a, &b, 6, 1, out, sizeof(out)) && strcmp(out, first) != 0);
		CHECK(fp_community_id(&a, &b, 17, 0, out, sizeof(out)) && strcmp(out, first) != 0);
		b.port++;
		CHECK(fp_community_id(&a, &b, 6, 0, out, sizeof(out)) && strcmp(out, first) != 0);
		b.port--;
		CHECK(fp_community_id(&a, &b, 6, 0, out, sizeof(out)) && strcmp(out, first) == 0);
	}
	/* fp_sha1_short: FIPS 180's "abc", then random messages of every
	 * length 0-55 against libcrypto's SHA-1; nothing over 55 bytes */
	{
		static const uint8_t abc_md[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
						    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
		uint8_t msg[64], md[20], ref[EVP_MAX_MD_SIZE];
		unsigned seed = 7, rl;
		size_t n, t;
		int bad = 0;
		if (!fp_sha1_short((const uint8_t *)"abc", 3, md)) {
			fprintf(stderr, "test_communityid: no SHA instructions on this CPU: libcrypto's SHA-1 only\n");
		} else {
			CHECK(memcmp(md, abc_md, 20) == 0);
			for (n = 0; n <= 55; n++) {
				for (t = 0; t < 200; t++) {
					size_t j;
					for (j = 0; j < n; j++)
						msg[j] = (uint8_t)(rand_r(&seed) >> 7);
					if (!fp_sha1_short(msg, n, md) || !EVP_Digest(msg, n, ref, &rl, EVP_sha1(), NULL) ||
					    rl != 20 || memcmp(md, ref, 20) != 0) {
						if (bad++ < 3)
							CHECKF(0, "fp_sha1_short differs from libcrypto for %zu bytes", n);
					}
				}
			}
			CHECKF(bad == 0, "fp_sha1_short: %d of %d messages differ", bad, 56 * 200);
		}
		CHECK(fp_sha1_short(msg, 56, md) == 0);
	}
	return check_done();
}
