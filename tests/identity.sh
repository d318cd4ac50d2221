#!/bin/bash
# identity.sh - client identification end to end (rules/identity.c, rules/*.list).
#
#   1. every capture in the "identity" cases of tests/TESTLIST: each connection's JSON
#      "client_identity" {match, name} equals the table's (pcaps/ from pcaps/record.sh,
#      tests/identity/ from tests/identity/record.sh);
#   2. ../shared/corpus (skipped when absent): no connection is identified as an
#      AWS load balancer (none of those captures comes from one).
#
#   bash tests/identity.sh [./tlswhy]      last line: "N passed, N failed"
set -u
cd "$(dirname "$0")/.."
. tests/testlist.sh
TLSWHY=${1:-./tlswhy}
CORPUS=${TLSWHY_CORPUS:-../shared/corpus}
pass=0 fail=0

got_of() {   # got_of PCAP: "index<TAB>match<TAB>name" per connection
	"$TLSWHY" --format json --all -r "$1" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for c in d.get("connections", []):
    i = c.get("client_identity") or {}
    print("%s\t%s\t%s" % (c["id"], i.get("match") or "-", i.get("name") or "-"))
'
}

prev="" got=""
while IFS=$'\t' read -r pcap idx match name; do
	if [ "$pcap" != "$prev" ]; then
		got=$(got_of "$pcap")
		prev=$pcap
	fi
	line=$(printf '%s\n' "$got" | awk -F'\t' -v i="$idx" '$1 == i { print $2 "\t" $3 }')
	if [ "$line" = "$match"$'\t'"$name" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $pcap #$idx: want $match $name, got ${line:-(no such connection)}"
	fi
done < <(testlist identity)

if [ -d "$CORPUS" ]; then
	n=0
	while IFS= read -r f; do
		n=$((n + 1))
		aws=$(got_of "$f" | awk -F'\t' '$3 ~ /^ELBSecurityPolicy/ { print $1 ":" $3 }' | head -n 3)
		if [ -n "$aws" ]; then
			fail=$((fail + 1))
			echo "FAIL $f: identified as an AWS load balancer: $aws"
		else
			pass=$((pass + 1))
		fi
	done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)
	echo "corpus: $n captures checked for false AWS identifications"
else
	echo "corpus: $CORPUS absent, skipped"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
