/*
 * bareloop.c - the floor: a bare libpcap read loop over a capture, touching
 * every packet (its length and the first 64 bytes: the link, IP and TCP
 * headers a dissector reads at the least). What tlswhy is measured against.
 *
 *   bareloop FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t packets = 0, bytes = 0, x = 0;
	pcap_t *pc;
	int rc;
	if (argc != 2) {
		fprintf(stderr, "usage: bareloop FILE\n");
		return 2;
	}
	pc = pcap_open_offline(argv[1], eb);
	if (!pc) {
		fprintf(stderr, "bareloop: %s\n", eb);
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		uint32_t i, n = h->caplen < 64 ? h->caplen : 64;
		packets++;
		bytes += h->caplen;
		for (i = 0; i < n; i++)
			x += d[i];
	}
	pcap_close(pc);
	printf("%llu packets, %llu bytes (%llx)\n", (unsigned long long)packets, (unsigned long long)bytes,
	       (unsigned long long)x);
	return rc == -1 ? 1 : 0;
}
