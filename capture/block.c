/*
 * block.c - the block reader for classic pcap files (see block.h), the
 * fast path cap.c takes instead of pcap_next_ex.
 *
 * The format (pcap-savefile(5)), all fields in the writer's byte order,
 * here only the host's:
 *
 *   file header, 24 bytes             record, 16 bytes + caplen
 *   +--------+-------+-------+        +--------+--------+--------+--------+------
 *   | magic  | major | minor |        | ts sec | ts us  | caplen |  len   | data
 *   | 4      | 2     | 2     |        | s32    | s32    | u32    | u32    | caplen
 *   +--------+-------+-------+        +--------+--------+--------+--------+------
 *   | zone 4 | sigfigs 4     |        ts us is nanoseconds when the magic
 *   | snaplen 4 | linktype 4 |        is a1b23c4d
 *   +------------------------+
 *
 * libpcap stays the authority: it reads and checks the file header
 * (errors, link type, snapshot length); from the first record on this code
 * reads. Invariant: for every
 * file it accepts (cap_blk_eligible), the records, their order, and the
 * end (clean, or -1 with the message) are exactly those of libpcap
 * 1.10.3's pcap_next_ex (sf-pcap.c, pcap_next_packet), byte for byte:
 *
 *   - fewer than 16 header bytes left: "truncated dump file; tried to read
 *     16 header bytes, only got N"; none: the end;
 *   - caplen over CAP_BLK_MAXCAP: "invalid packet capture length %u, bigger
 *     than snaplen of %d" (or "maximum of %u" when the file's snapshot
 *     length is over CAP_BLK_MAXCAP too: libpcap 1.10.3 only replaces 0 and
 *     lengths over INT_MAX);
 *   - caplen over the snapshot length (and not over the maximum): the
 *     first `snapshot` bytes are the packet, the rest is skipped;
 *   - data cut short: "truncated dump file; tried to read C captured bytes,
 *     only got N" (C the snapshot when fewer than it were there);
 *   - nanoseconds are divided by 1000 (towards zero, the fields are signed).
 * fuzz/fuzz_reader.c checks this against the library on arbitrary bytes.
 *
 * Limits: a block holds at least one record of the largest size libpcap
 * accepts, so a record never spans more than two blocks and the part that
 * spans is copied once (at most CAP_BLK_REC_MAX - 1 bytes).
 */
#include "capture/block.h"
#include "capture/source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAGIC_US   0xa1b2c3d4u
#define MAGIC_NS   0xa1b23c4du
#define LT_EXT(x)  ((x) & 0xFC000000u)   /* FCS length bits in the link type */

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t host16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

int cap_blk_nsec(const uint8_t *head)
{
	return host32(head) == MAGIC_NS;
}

int cap_blk_eligible(const uint8_t *head, int dlt_supported, int snapshot)
{
	uint32_t magic;
	if (!head || !dlt_supported || snapshot <= 0)
		return 0;
	magic = host32(head);
	if (magic != MAGIC_US && magic != MAGIC_NS)
		return 0;
	if (host16(head + 4) != 2 || host16(head + 6) != 4)
		return 0;
	return LT_EXT(host32(head + 20)) == 0;
}

/* The file ended `left` bytes into the record at b->end (left > 0). */
static void cut_record(const struct cap_blk_src *s, struct cap_blk *b, size_t left)
{
	uint32_t caplen;
	size_t got;
	b->how = CAP_END_TRUNCATED;
	if (left < CAP_BLK_RECHDR) {
		snprintf(b->why, sizeof(b->why), "truncated dump file; tried to read %u header bytes, only got %zu",
			 CAP_BLK_RECHDR, left);
		return;
	}
	caplen = host32(b->buf + b->end + 8);
	got = left - CAP_BLK_RECHDR;
	/* over the snapshot: libpcap reads `snapshot` bytes first, then discards the rest */
	if (caplen > s->snapshot && got < s->snapshot)
		caplen = s->snapshot;
	snprintf(b->why, sizeof(b->why), "truncated dump file; tried to read %u captured bytes, only got %zu",
		 caplen, got);
}

void cap_blk_fill(const struct cap_blk_src *s, struct cap_blk *b, const struct cap_blk *prev)
{
	size_t carry = prev ? prev->used - prev->end : 0;
	size_t want, got, off = 0;
	int err;
	if (carry)
		memmove(b->buf, prev->buf + prev->end, carry);
	want = b->cap - carry;
	if (s->chunk && s->chunk < want)
		want = s->chunk;
	if (s->from) {
		got = cap_src_read(s->from, b->buf + carry, want, &err);
	} else {
		errno = 0;
		got = fread(b->buf + carry, 1, want, s->fp);
		err = ferror(s->fp) ? (errno ? errno : EIO) : 0;
	}
	b->used = carry + got;
	b->last = 0;
	b->how = CAP_END_CLEAN;
	b->why[0] = '\0';
	/* find where the whole records end; refuse a length libpcap refuses */
	while (b->used - off >= CAP_BLK_RECHDR) {
		uint32_t caplen = host32(b->buf + off + 8);
		if (caplen > CAP_BLK_MAXCAP) {
			b->end = off;
			b->last = 1;
			b->how = CAP_END_CORRUPT;
			if (caplen > s->snapshot)
				snprintf(b->why, sizeof(b->why),
					 "invalid packet capture length %u, bigger than snaplen of %d", caplen,
					 (int)s->snapshot);
			else
				snprintf(b->why, sizeof(b->why),
					 "invalid packet capture length %u, bigger than maximum of %u", caplen,
					 CAP_BLK_MAXCAP);
			return;
		}
		if (b->used - off - CAP_BLK_RECHDR < caplen)
			break;
		off += CAP_BLK_RECHDR + caplen;
	}
	b->end = off;
	if (got == want)
		return;   /* more may follow */
	b->last = 1;
	if (err) {
		/* libpcap's pcap_fmt_errmsg_for_errno() form */
		b->how = CAP_END_CORRUPT;
		snprintf(b->why, sizeof(b->why), "error reading dump file: %s", strerror(err));
		return;
	}
	if (b->used > b->end)
		cut_record(s, b, b->used - b->end);
}
