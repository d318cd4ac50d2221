#!/bin/bash
# reader.sh - the block reader (capture/block.c) and the pcapng reader
# (capture/pcapng.c) against libpcap's pcap_next_ex on every capture we
# have: the output of tlswhy must not depend on which read the file. A
# pcapng file libpcap refuses for its interfaces' different link types or
# snapshot lengths, or sections of different byte orders, is read past that
# point by pcapng.c on purpose: then its runs must agree among themselves.
#
#   bash tests/reader.sh [TLSWHY]        default ./tlswhy
#
# Captures: pcaps/*.pcap*, pcaps/crafted/, pcaps/hostile/, the files
# tests/hostile_gen.c writes (built here as tests/hostile.sh does, in
# $HOSTILE_DIR, default build/hostile/), the hand-made corner cases of
# fuzz/corpus/reader/ (fuzz/reader_seeds.py), and the public corpus in
# ../shared/corpus when it is there (read in place, never copied).
#
# For each capture tlswhy --format json runs with the block reader and with
# TLSWHY_PCAP_READER=libpcap, each without a filter, with "tcp port 443"
# and with a filter that matches nothing, and the block reader also with
# TLSWHY_READER_THREAD=0 (with and without a filter). Standard output,
# standard error and the exit status must be byte-identical to libpcap's.
# The runs with the block reader say which reader ran
# (TLSWHY_PCAP_READER=show); a little-endian Ethernet pcap 2.4 file that
# libpcap opens must have been read by blocks, so the comparison is not
# empty.
#
# The captures are checked READER_JOBS at a time (default: the number of
# CPUs). Exit status 0 when every capture passed, 1 otherwise. The last line is
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
TLSWHY=${1:-${TLSWHY:-./tlswhy}}
B=${B:-build}
HOSTILE=${HOSTILE_DIR:-build/hostile}
CORPUS=${CORPUS_DIR:-../shared/corpus}
OUT=$B/reader
CC=${CC:-cc}
NOMATCH="host 192.0.2.77 and udp port 9"
pass=0 fail=0 nblocks=0 nlibpcap=0 npcapng=0 nng=0
# libpcap's refusals that capture/pcapng.c reads past on purpose
NG_ONLY="different from the type of the first interface|different from the snapshot length of the first|sections with different byte orders"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export TLSWHY_PROGRESS_MS=100000

if [ ! -x "$TLSWHY" ]; then
	echo "reader: $TLSWHY is not built"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$OUT" "$HOSTILE"
if [ ! -x "$HOSTILE/hostile_gen" ] || [ tests/hostile_gen.c -nt "$HOSTILE/hostile_gen" ] || [ capture/block.h -nt "$HOSTILE/hostile_gen" ]; then
	if ! $CC -std=c11 -D_DEFAULT_SOURCE -I. -O2 -Wall -Wextra -o "$HOSTILE/hostile_gen" tests/hostile_gen.c -lpcap; then
		echo "reader: cannot build tests/hostile_gen.c"
		echo "0 passed, 1 failed"
		exit 1
	fi
	rm -f "$HOSTILE"/*.pcap
fi
[ -f "$HOSTILE/sni-hostile.pcap" ] || "$HOSTILE/hostile_gen" "$HOSTILE" > /dev/null ||
	{ echo "reader: hostile_gen failed"; echo "0 passed, 1 failed"; exit 1; }
SUM=$OUT/outsum
if [ ! -x "$SUM" ] || [ tests/outsum.c -nt "$SUM" ]; then
	if ! $CC -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$SUM" tests/outsum.c -lcrypto; then
		echo "reader: cannot build tests/outsum.c"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
# the comparisons below are only as good as outsum: a known digest (FIPS
# 180-2's "abc"), and the key cut across two reads
want="3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad -"
got=$(printf abc | "$SUM")
[ "$got" = "$want" ] || { echo "FAIL outsum: '$got' for abc"; echo "0 passed, 1 failed"; exit 1; }
got=$({ printf '{"decry'; sleep 0.1; printf 'pted":1}'; } | "$SUM")
[ "${got##* }" = decrypted ] || { echo "FAIL outsum: no \"decrypted\" across two reads ('$got')"; echo "0 passed, 1 failed"; exit 1; }

# run TAG FILE [FILTER]: tlswhy with the environment already set; leaves
# $OUT/TAG.{out,err,rc}. TAG.out holds the output's size, SHA-256 and
# whether it has a "decrypted" object (tests/outsum.c), not the output
# itself: the million-connection captures give gigabytes of JSON, more
# than a CI disk should hold eight times over.
run() {
	local tag=$1 file=$2
	shift 2
	timeout 300 "$TLSWHY" -r "$file" --format json "$@" 2> "$OUT/$tag.err" | "$SUM" > "$OUT/$tag.out"
	echo "${PIPESTATUS[0]}" > "$OUT/$tag.rc"
}

# same A B: the two runs gave the same bytes and status
same() {
	cmp -s "$OUT/$1.out" "$OUT/$2.out" && cmp -s "$OUT/$1.err" "$OUT/$2.err" && cmp -s "$OUT/$1.rc" "$OUT/$2.rc"
}

# blocks_expected FILE: a little-endian pcap 2.4 Ethernet file (magic, version and link type bytes)
blocks_expected() {
	local h
	h=$(od -An -tx1 -N24 "$1" 2>/dev/null | tr -d ' \n')
	case "$h" in
	d4c3b2a102000400????????????????????????01000000) return 0 ;;
	4d3cb2a102000400????????????????????????01000000) return 0 ;;
	esac
	return 1
}

check() {
	local f=$1 name=$1 tag why="" which
	# blocks, saying so; the line is taken out before comparing
	TLSWHY_PCAP_READER=show run b "$f"
	which=$(sed -n 's/^tlswhy: reader: \([a-z]*\): .*/\1/p' "$OUT/b.err" | head -n 1)
	sed -i '/^tlswhy: reader: /d' "$OUT/b.err"
	TLSWHY_PCAP_READER=libpcap run l "$f"
	TLSWHY_READER_THREAD=0 run b0 "$f"
	TLSWHY_PCAP_READER=libpcap run lf "$f" "tcp port 443"
	run bf "$f" "tcp port 443"
	TLSWHY_READER_THREAD=0 run bf0 "$f" "tcp port 443"
	TLSWHY_PCAP_READER=libpcap run ln "$f" "$NOMATCH"
	run bn "$f" "$NOMATCH"
	if [ "$which" = pcapng ] && { grep -qE "$NG_ONLY" "$OUT/l.err" ||
		{ grep -q ' decrypted$' "$OUT/b.out" && ! grep -q ' decrypted$' "$OUT/l.out"; }; }; then
		# (the second: keys from a Decryption Secrets Block, which libpcap skips)
		# what capture/pcapng.c reads on purpose and libpcap refuses: the
		# readers must then agree with each other, and read past libpcap's stop
		same b b0 && same bf bf0 || why="$why pcapng-threads-differ"
		[ "$(cat "$OUT/b.rc")" -le 1 ] || why="$why pcapng-refused($(head -c 200 "$OUT/b.err"))"
		nng=$((nng + 1))
	else
		same b l || why="$why no-filter"
		same b0 l || why="$why one-thread"
		same bf lf || why="$why filter"
		same bf0 lf || why="$why filter-one-thread"
		same bn ln || why="$why filter-matching-nothing"
	fi
	for tag in b l b0 lf bf bf0 ln bn; do
		if [ "$(cat "$OUT/$tag.rc")" -eq 99 ] || [ "$(cat "$OUT/$tag.rc")" -gt 128 ]; then
			why="$why crash($tag: $(grep -m1 -E 'ERROR|runtime error' "$OUT/$tag.err"))"
		fi
	done
	case "$which" in
	blocks) nblocks=$((nblocks + 1)) ;;
	libpcap) nlibpcap=$((nlibpcap + 1)) ;;
	pcapng) npcapng=$((npcapng + 1)) ;;
	esac
	if blocks_expected "$f" && [ "$(cat "$OUT/l.rc")" -ne 2 -o "$(cut -d' ' -f1 "$OUT/l.out")" != 0 ] && [ "$which" != blocks ]; then
		why="$why not-read-by-blocks($which)"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "ok   $name ($which)"
	else
		fail=$((fail + 1))
		echo "FAIL $name:$why"
		for tag in b l bf lf; do
			echo "  $tag: exit $(cat "$OUT/$tag.rc"), $(cut -d' ' -f1 "$OUT/$tag.out") bytes, stderr: $(head -c 300 "$OUT/$tag.err")"
		done
	fi
}

files=()
for f in pcaps/*.pcap* pcaps/crafted/*.pcap* pcaps/hostile/*.pcap* "$HOSTILE"/*.pcap fuzz/corpus/reader/*; do
	[ -f "$f" ] && files+=("$f")
done
if [ -d "$CORPUS" ]; then
	while IFS= read -r f; do
		files+=("$f")
	done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)
else
	echo "reader: no corpus at $CORPUS, skipped"
fi
# The captures are shared out among READER_JOBS workers (tests/workers.sh),
# each with its own directory for the runs' files.
. tests/workers.sh
BASE=$OUT
check_here() {   # check, in this worker's directory
	OUT=$BASE/w$WORKER
	mkdir -p "$OUT"
	check "$1"
}
workers_run "$(workers_jobs READER_JOBS)" "$BASE/workers" "pass fail nblocks nlibpcap npcapng nng" check_here "${files[@]}" ||
	fail=$((fail + 1))
echo "reader: $nblocks captures read by blocks, $npcapng by capture/pcapng.c ($nng of them refused by libpcap), $nlibpcap by libpcap"
if [ "$nblocks" -eq 0 ]; then
	fail=$((fail + 1))
	echo "FAIL no capture was read by blocks"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
