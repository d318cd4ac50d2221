/*
 * jtally.c - counts what tlswhy's JSON report found, streaming, in constant
 * memory, so the benchmark capture's multi-gigabyte report need not be
 * stored or parsed whole.
 *
 *   tlswhy -r bench.pcap -F json --pretty | jtally > tally
 *
 * Relies on the report's fixed pretty-printing (--pretty; report/jw.c, two spaces
 * a level): a connection is an object at depth 2 of "connections"; its
 * "stage", "alerts" and "server_certificates"/"client_certificates"."count"
 * are read from their lines. Each connection becomes one signature
 *
 *   stage|sender:alert,sender:alert|server certificates|client certificates
 *
 * (an alert is its description name, or "encrypted"), and the output is one
 * "count<TAB>signature" line per distinct signature, then the report's
 * "stats" and "summary" objects verbatim, each line prefixed by "# ".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIG 1024
#define SIG_LEN 512

static char sigs[MAX_SIG][SIG_LEN * 2];
static unsigned long long counts[MAX_SIG];
static int nsig;

static void add(const char *s)
{
	int i;
	for (i = 0; i < nsig; i++)
		if (strcmp(sigs[i], s) == 0) {
			counts[i]++;
			return;
		}
	if (nsig == MAX_SIG) {
		fprintf(stderr, "jtally: too many distinct signatures\n");
		exit(2);
	}
	snprintf(sigs[nsig], sizeof(sigs[nsig]), "%s", s);
	counts[nsig++] = 1;
}

/* The string value of a `"key": "value",` line into v. */
static void strval(const char *line, char *v, size_t n)
{
	const char *p = strchr(line, ':'), *q;
	size_t k;
	v[0] = 0;
	if (!p || !(p = strchr(p, '"')))
		return;
	p++;
	q = strchr(p, '"');
	k = q ? (size_t)(q - p) : strlen(p);
	if (k >= n)
		k = n - 1;
	memcpy(v, p, k);
	v[k] = 0;
}

int main(void)
{
	static char line[1 << 16];
	char stage[64] = "", alerts[SIG_LEN] = "", sender[16] = "", desc[64] = "", sig[SIG_LEN * 2];
	long srv = 0, cli = 0;
	int in_conns = 0, in_alerts = 0, cert = 0, enc = 0, tail = 0;
	while (fgets(line, sizeof(line), stdin)) {
		if (tail) {
			fputs("# ", stdout);
			fputs(line, stdout);
			continue;
		}
		if (!in_conns) {
			if (strncmp(line, "  \"connections\": [", 18) == 0)
				in_conns = 1;
			else if (strncmp(line, "  \"stats\": {", 12) == 0) {
				tail = 1;
				fputs("# ", stdout);
				fputs(line, stdout);
			}
			continue;
		}
		if (strncmp(line, "  ]", 3) == 0) {
			in_conns = 0;
			continue;
		}
		if (in_alerts) {
			if (strncmp(line, "      ]", 7) == 0) {
				in_alerts = 0;
			} else if (strncmp(line, "          \"sender\":", 19) == 0) {
				strval(line, sender, sizeof(sender));
			} else if (strncmp(line, "          \"encrypted\":", 22) == 0) {
				enc = strstr(line, "true") != NULL;
			} else if (strncmp(line, "          \"description_name\":", 29) == 0) {
				strval(line, desc, sizeof(desc));
			} else if (strncmp(line, "        }", 9) == 0) {
				size_t l = strlen(alerts);
				snprintf(alerts + l, sizeof(alerts) - l, "%s%s:%s", l ? "," : "", sender,
					 enc ? "encrypted" : desc);
				sender[0] = desc[0] = 0;
				enc = 0;
			}
			continue;
		}
		if (strncmp(line, "      \"stage\":", 14) == 0) {
			strval(line, stage, sizeof(stage));
		} else if (strncmp(line, "      \"alerts\": [", 17) == 0) {
			in_alerts = strstr(line, "[]") == NULL;
		} else if (strncmp(line, "      \"server_certificates\": {", 30) == 0) {
			cert = 1;
		} else if (strncmp(line, "      \"client_certificates\": {", 30) == 0) {
			cert = 2;
		} else if (cert && strncmp(line, "        \"count\":", 16) == 0) {
			long v = strtol(strchr(line, ':') + 1, NULL, 10);
			if (cert == 1)
				srv = v;
			else
				cli = v;
			cert = 0;
		} else if (strncmp(line, "    }", 5) == 0) {
			snprintf(sig, sizeof(sig), "%s|%s|%ld|%ld", stage, alerts[0] ? alerts : "-", srv, cli);
			add(sig);
			stage[0] = alerts[0] = 0;
			srv = cli = 0;
			cert = 0;
		}
	}
	{
		int i;
		for (i = 0; i < nsig; i++)
			printf("%llu\t%s\n", counts[i], sigs[i]);
	}
	return 0;
}
