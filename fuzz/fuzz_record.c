/*
 * fuzz_record.c - libFuzzer target: the TLS record layer (dissect/tls.c)
 * fed both directions of one connection, with the split points, gaps and a
 * late role swap chosen by the input.
 *
 * Input:
 *   byte 0        options: bit 0 max_handshake 1024 (instead of the default),
 *                 bit 1 max_scan 256
 *   then chunks:  hdr0 hdr1 [bytes]
 *                   hdr0 bit 7  direction (0 client, 1 server)
 *                   hdr0 bit 6  a gap instead of bytes
 *                   len = (hdr0 & 0x3f) << 8 | hdr1
 *                 bytes: `len` bytes (fewer at the end) to tls_feed();
 *                 gap with len 0: tls_swap() + record_swap_dirs() (roles
 *                 learned late); gap with len > 0: tls_gap(len).
 * Seeds (fuzz/seeds.c) are the TCP payloads of the recorded captures, one
 * chunk per segment, in capture order.
 *
 * Checks: no memory error, no leak, record invariants (fuzz_record_check).
 */
#include "fuzz/fuzz.h"
#include "dissect/record.h"
#include "dissect/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_limits lim = TLS_LIMITS_DEFAULT;
	struct hs_record *r;
	if (size < 1)
		return 0;
	if (data[0] & 1)
		lim.max_handshake = 1024;
	if (data[0] & 2)
		lim.max_scan = 256;
	r = fuzz_tls_run(data, size, &lim);
	fuzz_record_free(r);
	return 0;
}
