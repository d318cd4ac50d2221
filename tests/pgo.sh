#!/usr/bin/env bash
# pgo.sh - the shipped ./tlswhy is compiled at -O3 from the counts of a
# training run (Makefile, "The shipped binary"); the unit tests and the
# sanitizer builds use the plain -O2 objects. The two must not differ in
# anything they say: for every capture in the repository (and the public
# corpus when it is there), several report formats, stdout and stderr
# together and the exit status, the profile-built binary and PLAIN (the
# same sources linked from the -O2 objects) agree byte for byte; so they
# do on a generated capture of 3,000 connections, read threaded (the
# report queue full, the reader's blocks handed over) and on one thread.
#
#   tests/pgo.sh ./tlswhy build/tlswhy-plain
# Without PLAIN (a sanitizer build, PGO=0, not GCC): nothing to compare.
set -u
cd "$(dirname "$0")/.."
TLSWHY=${1:-./tlswhy}
PLAIN=${2:-}
B=${B:-build}
CORPUS=${CORPUS:-../shared/corpus}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }
if [ -z "$PLAIN" ]; then
	echo "pgo: not a profile-built binary (SANITIZE, PGO=0 or not GCC): nothing to compare"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$PLAIN" ]; then
	echo "pgo: $PLAIN is not built"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run BIN OUT ARGS...: report and stderr in OUT, exit status appended
run() {
	local bin=$1 out=$2
	shift 2
	"$bin" "$@" > "$out" 2>&1
	echo "exit $?" >> "$out"
}

# same NAME ARGS...: the two binaries agree
same() {
	local name=$1
	shift
	run "$TLSWHY" "$tmp/a" "$@"
	run "$PLAIN" "$tmp/b" "$@"
	if cmp -s "$tmp/a" "$tmp/b"; then
		ok "$name"
	else
		no "$name: the profile-built binary differs from the -O2 one"
		diff "$tmp/b" "$tmp/a" | head -n 8
	fi
}

files=$(ls pcaps/*.pcap pcaps/*.pcapng pcaps/crafted/*.pcap pcaps/crafted/*.pcapng 2> /dev/null)
if [ -d "$CORPUS" ]; then
	files="$files $(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)"
else
	echo "pgo: no corpus at $CORPUS (skipped)"
fi
for f in $files; do
	k=${f%.*}.keylog
	kl=()
	[ -f "$k" ] && kl=(--keylog "$k")
	for a in "" "-F markdown --all" "-F json" "-F jsonl" "-F ecs" "-F html"; do
		# shellcheck disable=SC2086
		same "$f ${kl[*]} $a" -r "$f" "${kl[@]}" $a
	done
done

# the threaded paths at work: more connections than the report queue holds
if [ -x "$B/bench/gen" ]; then
	. tests/testlist.sh
	capture_table > "$tmp/expected.tsv"
	"$B/bench/gen" -o "$tmp/g.pcap" -m "$tmp/g.man" -e "$tmp/expected.tsv" -d pcaps -n 3000 -c 64 -a 4 -s 5
	for a in "" "-F json" "-F jsonl" "-F ecs"; do
		# shellcheck disable=SC2086
		same "generated, threaded $a" -r "$tmp/g.pcap" $a
		# shellcheck disable=SC2086
		TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 same "generated, one thread $a" -r "$tmp/g.pcap" $a
	done
else
	no "$B/bench/gen is not built"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
