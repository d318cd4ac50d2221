/*
 * fuzz_decode.c - libFuzzer target: link, IP and TCP decoding
 * (dissect/decode.c) over every supported link type.
 *
 * Input: one captured packet. The same bytes go through pkt_decode() for
 * each link type (and one it does not support), with caplen = the input
 * size. On PKT_OK the payload must lie inside the input and paylen must
 * not exceed wirelen.
 * Then the input, cut at every "\xfe\xfe\xfe\xfe", goes packet by packet
 * through pkt_decode_frag() as raw IP with one reassembly table, so IPv4
 * fragments can meet (and overlap, and lie).
 * Seeds (fuzz/seeds.c): packets of the recorded captures, re-framed as
 * Ethernet, 802.1Q/802.1ad, Linux cooked v1/v2, BSD loopback and raw IP.
 */
#include "fuzz/fuzz.h"
#include "dissect/decode.h"
#include "dissect/frag.h"

static const int dlts[] = { 0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;
	if (size > 0xffffffffu)
		return 0;
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		struct pkt p;
		enum pkt_result r = pkt_decode(dlts[i], data, (uint32_t)size, (uint32_t)size, &p);
		FUZZ_CHECK((unsigned)r < PKT__COUNT);
		FUZZ_CHECK(pkt_result_name(r) != NULL);
		FUZZ_CHECK(r != PKT_LINK_UNSUPPORTED || !pkt_dlt_supported(dlts[i]));
		if (r == PKT_OK) {
			FUZZ_CHECK(p.paylen <= p.wirelen);
			FUZZ_CHECK(p.payload >= data && p.payload <= data + size);
			FUZZ_CHECK((size_t)(p.payload - data) + p.paylen <= size);
			FUZZ_CHECK(p.truncated == (p.paylen < p.wirelen));
			FUZZ_CHECK(p.vlan_depth <= PKT_MAX_VLAN_DEPTH);
			FUZZ_CHECK(p.src.family == 4 || p.src.family == 6);
		}
	}
	{
		struct frag_table *ft = frag_table_new();
		const uint8_t *p = data, *end = data + size;
		int64_t ts = 1700000000000000LL;
		while (ft && p <= end) {
			const uint8_t *q = p;
			struct pkt k;
			enum pkt_result r;
			while (q + 4 <= end && !(q[0] == 0xfe && q[1] == 0xfe && q[2] == 0xfe && q[3] == 0xfe))
				q++;
			if (q + 4 > end)
				q = end;
			k.frame = 1;
			k.ts_us = ts;
			r = pkt_decode_frag(ft, 101, p, (uint32_t)(q - p), (uint32_t)(q - p), &k);
			if (r == PKT_OK)
				FUZZ_CHECK(k.paylen <= k.wirelen);
			ts += 1000000;
			p = q + 4;
		}
		if (ft) {
			frag_flush(ft);
			frag_table_free(ft);
		}
	}
	return 0;
}
