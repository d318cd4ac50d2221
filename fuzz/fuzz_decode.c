/*
 * fuzz_decode.c - libFuzzer target: link, IP and TCP decoding
 * (dissect/decode.c) over every supported link type.
 *
 * Input: one captured packet. The same bytes go through pkt_decode() for
 * each link type (and one it does not support), with caplen = the input
 * size. On PKT_OK the payload must lie inside the input and paylen must
 * not exceed wirelen.
 * Seeds (fuzz/seeds.c): packets of the recorded captures, re-framed as
 * Ethernet, 802.1Q/802.1ad, Linux cooked v1/v2, BSD loopback and raw IP.
 */
#include "fuzz/fuzz.h"
#include "dissect/decode.h"

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
	return 0;
}
