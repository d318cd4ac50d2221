#!/usr/bin/env bash
# threads.sh - offline, tlswhy reads on one thread, analyzes on a second and
# runs the rules and writes the report on a third (capture/cap.c,
# app/rq.c). None of that may show: for every capture in the repository
# (and the public corpus when it is there), every report format, stdout and
# stderr together (warnings must land where one thread puts them), the exit
# status and the -w evidence capture must be byte for byte what
# TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 (one thread) gives. A
# generated capture of 3,000 connections fills the report queue
# (RQ_CAP 1024) so that the analysis thread waits on it, and is read with
# its blocks filled by either thread (TLSWHY_READER_FILLS).
#
#   tests/threads.sh [./tlswhy]
set -u
cd "$(dirname "$0")/.."
TLSWHY=${1:-./tlswhy}
B=${B:-build}
CC=${CC:-cc}
CORPUS=${CORPUS:-../shared/corpus}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/testlist.sh
capture_table > "$tmp/expected.tsv"   # the "capture" cases of tests/TESTLIST
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }

# run OUT ARGS...: report and stderr in OUT, exit status appended
run() {
	local out=$1
	shift
	"$TLSWHY" "$@" > "$out" 2>&1
	echo "exit $?" >> "$out"
}

# same NAME ARGS...: threaded and one-thread runs agree
same() {
	local name=$1
	shift
	run "$tmp/a" "$@"
	TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 run "$tmp/b" "$@"
	if cmp -s "$tmp/a" "$tmp/b"; then
		ok "$name"
	else
		no "$name: threaded output differs from one thread"
		diff "$tmp/a" "$tmp/b" | head -n 6
	fi
}

files=()
for f in pcaps/*.pcap pcaps/*.pcapng pcaps/crafted/*.pcap pcaps/hostile/*.pcap; do
	[ -f "$f" ] && files+=("$f")
done
if [ -d "$CORPUS" ]; then
	while IFS= read -r f; do files+=("$f"); done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)
else
	echo "note: $CORPUS not present; the corpus captures are skipped"
fi

n=0 bad=0
for f in "${files[@]}"; do
	for fmt in text json markdown; do
		run "$tmp/a" -r "$f" -F "$fmt" --all
		TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 run "$tmp/b" -r "$f" -F "$fmt" --all
		n=$((n + 1))
		if ! cmp -s "$tmp/a" "$tmp/b"; then
			bad=$((bad + 1))
			echo "differs: $f ($fmt)"
		fi
	done
done
[ "$bad" -eq 0 ] && ok "$n runs (${#files[@]} captures x text, json, markdown): threaded = one thread" \
	|| no "$bad of $n runs differ between threaded and one thread"

# several inputs in one run, one of them ending mid-packet (its warning is on stderr)
head -c 3000 pcaps/tls12-ok.pcap > "$tmp/cut.pcap"
same "three inputs, the middle one cut: report and warning in order" \
	-r pcaps/demo-alb-502.pcap -r "$tmp/cut.pcap" -r pcaps/tls13-ok.pcap -F markdown

# more connections than the report queue holds, every format, and -w
mkdir -p "$B/bench"
if [ ! -x "$B/bench/gen" ] || [ bench/gen.c -nt "$B/bench/gen" ]; then
	$CC -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -o "$B/bench/gen" bench/gen.c -lpcap
fi
"$B/bench/gen" -o "$tmp/big.pcap" -m "$tmp/big.man" -e "$tmp/expected.tsv" -d pcaps -n 3000 -c 64 -a 4 -s 11 > /dev/null
for fmt in text markdown json jsonl html; do
	same "3,000 connections, $fmt" -r "$tmp/big.pcap" -F "$fmt"
done
run "$tmp/a" -r "$tmp/big.pcap" -F json -w "$tmp/ev.pcap"
mv "$tmp/ev.pcap" "$tmp/ev1.pcap"
TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 run "$tmp/b" -r "$tmp/big.pcap" -F json -w "$tmp/ev.pcap"
if [ -s "$tmp/ev1.pcap" ] && cmp -s "$tmp/ev1.pcap" "$tmp/ev.pcap" && cmp -s "$tmp/a" "$tmp/b"; then
	ok "3,000 connections: the -w evidence capture is the same"
else
	no "3,000 connections: the -w evidence capture differs"
fi
# who fills the blocks decoded ahead (capture/fast.c: the reader thread,
# and the analysis thread when it finds none waiting): the analysis thread
# every time, or the reader thread every time, gives what one thread gives
for fills in here reader; do
	who=$([ "$fills" = here ] && echo analysis || echo reader)
	for fmt in json markdown; do
		TLSWHY_READER_FILLS=$fills run "$tmp/a" -r "$tmp/big.pcap" -F "$fmt"
		TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 run "$tmp/b" -r "$tmp/big.pcap" -F "$fmt"
		cmp -s "$tmp/a" "$tmp/b" && ok "3,000 connections, $fmt, blocks filled by the $who thread" \
			|| no "3,000 connections, $fmt, blocks filled by the $who thread: differs from one thread"
	done
done
# standard input goes the same way
"$TLSWHY" -r - -F json < "$tmp/big.pcap" > "$tmp/a" 2>&1
TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0 "$TLSWHY" -r - -F json < "$tmp/big.pcap" > "$tmp/b" 2>&1
cmp -s "$tmp/a" "$tmp/b" && ok "standard input: threaded = one thread" || no "standard input: threaded output differs"

echo "threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
