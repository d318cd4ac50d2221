#!/usr/bin/env bash
# bench.sh - `make bench`: generate the benchmark capture, check tlswhy finds
# exactly what went in, and time tlswhy against a bare libpcap loop and the
# other tools, all in one run. See bench/RESULTS.md.
#
# Environment (make passes TLSWHY, B, BENCH_SCALE, PGO):
#   PGO=1                the binary is profile-guided (Makefile); printed
#                        with the machine, as it moves every tlswhy row
#   BENCH_SCALE=1        1: 150,000 connections, ~3.7 M packets, ~1.5 GB
#   BENCH_CONCURRENT=64  connections open at once
#   BENCH_APP=4          application-data packets per completed handshake
#   BENCH_TOOLS="ssldump ndpi tshark"   the other tools to time (if installed;
#                        BENCH_INSTALL=1, the default when root, apt-installs them)
#   BENCH_TSHARK_DIV=50  tshark reads 1/DIV of the capture; its row is scaled up
#   BENCH_SCALING=1      also the scaling runs (10x/100x/1000x concurrency, 100x
#                        packets per connection), tlswhy and the bare loop only
#   BENCH_CHECK=0        skip the correctness check (timing only)
#   BENCH_RUNS=3         rounds of the bare loop and tlswhy's rows, interleaved
#                        (each row's median wall time is kept; ssldump,
#                        ndpiReader and tshark run once, after)
# The capture goes to build/bench/ and is reused while its parameters match.
set -euo pipefail

TLSWHY=${TLSWHY:-./tlswhy}
B=${B:-build}
SCALE=${BENCH_SCALE:-1}
CONC=${BENCH_CONCURRENT:-64}
APP=${BENCH_APP:-4}
TOOLS=${BENCH_TOOLS:-ssldump ndpi tshark}
TDIV=${BENCH_TSHARK_DIV:-50}
OUT=build/bench
GEN=$B/bench/gen
BARE=$B/bench/bareloop
JTALLY=$B/bench/jtally
mkdir -p "$OUT"
. tests/testlist.sh
capture_table > "$OUT/expected.tsv"   # the "capture" cases of tests/TESTLIST

N=$(awk -v s="$SCALE" 'BEGIN { n = int(150000 * s + 0.5); print n < 1 ? 1 : n }')

# gen OUT_BASE N CONCURRENT APP: (re)generates OUT_BASE.pcap and .man, unless
# they were made with the same arguments, generator and recordings (a
# re-recorded template must not leave a stale capture behind)
gen() {
	local base=$1 args="-n $2 -c $3 -a $4 -s 1" key
	key="$args $({ cat "$GEN" tests/TESTLIST pcaps/*.pcap pcaps/*.pcapng 2> /dev/null || true; } | md5sum | cut -c1-16)"
	if [ -f "$base.pcap" ] && [ -f "$base.man" ] && [ "$(cat "$base.args" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	rm -f "$base.args"
	"$GEN" -o "$base.pcap" -m "$base.man" -e "$OUT/expected.tsv" -d pcaps $args
	echo "$key" > "$base.args"
}

man() { awk -v k="$2" '$1 == k { print $2 }' "$1.man"; }

# timed NAME CMD...: runs CMD (stdout to /dev/null) BENCH_RUNS times (default
# 3; the slow other tools once), leaves the run with the median wall time as
# "wall user sys maxrss_kb" in $T
timed() {
	local name=$1 tf runs=${BENCH_RUNS:-3} i
	shift
	case $name in ssldump | ndpi | tshark) runs=1 ;; esac
	tf=$(mktemp)
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -f "%e %U %S %M" -o "$tf.$i" "$@" > /dev/null 2> "$OUT/$name.err" || true
		tail -n 1 "$tf.$i" >> "$tf"
		rm -f "$tf.$i"
	done
	T=$(sort -n -k1,1 "$tf" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }')
	rm -f "$tf"
}

ROWS=()
BARE_WALL=1
# row TOOL NOTE PACKETS BYTES SCALE: formats $T into a table row (times scaled by SCALE)
row() {
	local tool=$1 note=$2 pk=$3 by=$4 sc=$5
	ROWS+=("$(echo "$T" | awk -v tool="$tool" -v note="$note" -v pk="$pk" -v by="$by" -v sc="$sc" -v bw="$BARE_WALL" '{
		w = $1 * sc; c = ($2 + $3) * sc
		printf "| %s | %.2f | %.2f | %.0f k | %.0f | %.0f | %.1fx | %s |", tool, w, c, pk / (w > 0 ? w : 1e-9) / 1000, by / 1e6 / (w > 0 ? w : 1e-9), $4 / 1024, w / bw, note }')")
}

echo "== machine"
MACHINE="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$MACHINE"

echo "== generating $N connections (scale $SCALE, $CONC concurrent, $APP application packets each)"
gen "$OUT/bench" "$N" "$CONC" "$APP"
PK=$(man "$OUT/bench" packets)
BY=$(man "$OUT/bench" bytes)
echo "$OUT/bench.pcap: $PK packets, $BY bytes"

if [ "${BENCH_CHECK:-1}" != 0 ]; then
	echo "== checking what tlswhy finds"
	"$TLSWHY" -r "$OUT/bench.pcap" -F json --pretty 2> "$OUT/check.err" | "$JTALLY" > "$OUT/bench.tally" || true
	python3 bench/check.py "$OUT/bench.man" "$OUT/bench.tally" "$TLSWHY" pcaps "$OUT/expected.tsv"
fi

# the other tools: Debian 12 packages ssldump, libndpi-bin (ndpiReader), tshark
want_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
install_tool() {
	local cmd=$1 pkg=$2
	command -v "$cmd" > /dev/null && return 0
	[ "${BENCH_INSTALL:-$([ "$(id -u)" = 0 ] && echo 1 || echo 0)}" = 1 ] || return 0
	# (grep reads it all: with pipefail, grep -q would fail the pipe by closing it early)
	apt-cache policy "$pkg" 2> /dev/null | grep 'Candidate: [0-9]' > /dev/null || return 0
	echo "installing $pkg"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" > "$OUT/apt-$pkg.log" 2>&1 || true
}
want_tool ssldump && install_tool ssldump ssldump
want_tool ndpi && install_tool ndpiReader libndpi-bin
want_tool tshark && install_tool tshark tshark

echo "== timing (warm page cache; the bare loop and tlswhy's rows in ${BENCH_RUNS:-3} interleaved rounds, each row its median; ssldump, ndpiReader and tshark once, after)"
cat "$OUT/bench.pcap" > /dev/null
timed cat cat "$OUT/bench.pcap"
CAT_T=$T
# The bare loop and tlswhy's rows run in rounds, one run of each per round,
# and each row keeps its median: a minute in which the machine is slower
# (another tenant, a VM's neighbour) then costs every row one run, not one
# row all of its runs, and the ratios to the bare loop compare runs of the
# same minutes. NAME|ENV|ARGS (ENV: space-separated assignments, or -)
RROWS=(
	"bare|-|"
	"tlswhymd|-|-F markdown"
	"tlswhymdh|-|-F markdown --input-hash always"
	"tlswhymd1|TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0|-F markdown"
	"tlswhy|-|"
	"tlswhy1|TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0|"
	"tlswhyjsonl|-|-F jsonl"
	"tlswhyjson|-|-F json"
	"tlswhyhtml|-|-F html"
	"tlswhyecs|-|-F ecs"
)
for ((round = 0; round < ${BENCH_RUNS:-3}; round++)); do
	for spec in "${RROWS[@]}"; do
		IFS='|' read -r name envs args <<< "$spec"
		# shellcheck disable=SC2086
		if [ "$name" = bare ]; then
			/usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.t" "$BARE" "$OUT/bench.pcap" > /dev/null 2> "$OUT/$name.err" || true
		elif [ "$envs" = - ]; then
			/usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.t" "$TLSWHY" -r "$OUT/bench.pcap" $args > /dev/null 2> "$OUT/$name.err" || true
		else
			env $envs /usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.t" "$TLSWHY" -r "$OUT/bench.pcap" $args > /dev/null 2> "$OUT/$name.err" || true
		fi
		tail -n 1 "$OUT/$name.t" >> "$OUT/$name.runs.$$"
		rm -f "$OUT/$name.t"
	done
done
# median() NAME: the run with the median wall time of NAME's rounds into $T
median() {
	T=$(sort -n -k1,1 "$OUT/$1.runs.$$" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }')
	rm -f "$OUT/$1.runs.$$"
}
median bare
BARE_WALL=$(echo "$T" | awk '{ print ($1 > 0 ? $1 : 0.001) }')
BARE_T=$T
T=$CAT_T
row 'cat file > /dev/null' '' "$PK" "$BY" 1
T=$BARE_T
row 'bare pcap_next_ex loop (bench/bareloop.c)' 'touches 64 bytes of every packet' "$PK" "$BY" 1
# The headline: the summary report of issue 8 (failures grouped, healthy
# connections summarised), what an incident ticket gets.
median tlswhymd
row '**tlswhy --format markdown (summary report)**' 'failures grouped, healthy summarised; reader, analysis and report threads' "$PK" "$BY" 1
HEADLINE=$(echo "$T" | awk -v bw="$BARE_WALL" '{ printf "%.2f s wall, %.2f s CPU, %.2fx the bare loop (wall), %.0f MiB", $1, $2 + $3, $1 / bw, $4 / 1024 }')
median tlswhymdh
row 'tlswhy --format markdown --input-hash always' 'the same, plus the SHA-256 of the 1.5 GB input' "$PK" "$BY" 1
median tlswhymd1
row 'tlswhy --format markdown, one thread' 'TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0' "$PK" "$BY" 1
median tlswhy
row 'tlswhy (text report)' 'a block per TLS connection' "$PK" "$BY" 1
median tlswhy1
row 'tlswhy (text report), one thread' 'TLSWHY_READER_THREAD=0 TLSWHY_REPORT_THREAD=0' "$PK" "$BY" 1
median tlswhyjsonl
row 'tlswhy --format jsonl' 'lean lines for healthy connections, failed ones whole' "$PK" "$BY" 1
median tlswhyjson
row 'tlswhy --format json' 'every connection whole, compact, streamed' "$PK" "$BY" 1
median tlswhyhtml
row 'tlswhy --format html' 'the Markdown report as one HTML page' "$PK" "$BY" 1
median tlswhyecs
row 'tlswhy --format ecs' 'JSON Lines in ECS 8.11 names; under tlswhy healthy connections lean, failed ones whole' "$PK" "$BY" 1
if want_tool ssldump && command -v ssldump > /dev/null; then
	timed ssldump ssldump -r "$OUT/bench.pcap" -n
	row 'ssldump -r -n' '' "$PK" "$BY" 1
fi
if want_tool ndpi && command -v ndpiReader > /dev/null; then
	timed ndpi ndpiReader -i "$OUT/bench.pcap" -v 0
	row 'ndpiReader -i -v 0' '' "$PK" "$BY" 1
fi
if want_tool tshark && command -v tshark > /dev/null && command -v editcap > /dev/null; then
	SL=$(( PK / TDIV ))
	editcap -r "$OUT/bench.pcap" "$OUT/slice.pcap" "1-$SL" > /dev/null 2>&1
	timed tshark tshark -n -r "$OUT/slice.pcap" -Y tls.handshake -T fields -e frame.number \
		-e tls.handshake.type -e tls.handshake.ja3 -e tls.handshake.ja3s -e tls.alert_message.desc
	row 'tshark, TLS handshake fields' "first $SL packets, times x$TDIV" "$PK" "$BY" "$TDIV"
fi

if [ "${BENCH_SCALING:-0}" = 1 ]; then
	echo "== scaling (same capture size; more connections open at once; more packets per connection; the markdown report)"
	for mult in 10 100 1000; do
		gen "$OUT/scale-c$mult" "$N" $(( CONC * mult )) "$APP"
		spk=$(man "$OUT/scale-c$mult" packets); sby=$(man "$OUT/scale-c$mult" bytes)
		timed bare "$BARE" "$OUT/scale-c$mult.pcap"
		row "bare loop, $((CONC * mult)) concurrent" '' "$spk" "$sby" 1
		timed tlswhy "$TLSWHY" -r "$OUT/scale-c$mult.pcap" -F markdown
		row "tlswhy, $((CONC * mult)) concurrent" "$(echo "$T" | awk -v p="$spk" '{ printf "%.0f ns CPU/packet", ($2 + $3) * 1e9 / p }')" "$spk" "$sby" 1
		rm -f "$OUT/scale-c$mult.pcap" "$OUT/scale-c$mult.args"
	done
	gen "$OUT/scale-p100" $(( N / 100 > 0 ? N / 100 : 1 )) "$CONC" $(( APP * 100 * 6 ))
	spk=$(man "$OUT/scale-p100" packets); sby=$(man "$OUT/scale-p100" bytes)
	timed bare "$BARE" "$OUT/scale-p100.pcap"
	row "bare loop, 1/100 the connections, ~100x packets each" '' "$spk" "$sby" 1
	timed tlswhy "$TLSWHY" -r "$OUT/scale-p100.pcap" -F markdown
	row "tlswhy, 1/100 the connections, ~100x packets each" "$(echo "$T" | awk -v p="$spk" '{ printf "%.0f ns CPU/packet", ($2 + $3) * 1e9 / p }')" "$spk" "$sby" 1
	rm -f "$OUT/scale-p100.pcap" "$OUT/scale-p100.args"
	# the base case, for the per-packet cost
	timed tlswhy "$TLSWHY" -r "$OUT/bench.pcap" -F markdown
	row "tlswhy, $CONC concurrent (base)" "$(echo "$T" | awk -v p="$PK" '{ printf "%.0f ns CPU/packet", ($2 + $3) * 1e9 / p }')" "$PK" "$BY" 1
fi

echo
echo "$MACHINE"
echo "tlswhy: $([ "${PGO:-0}" = 1 ] && echo "profile-guided build (PGO=1, -O3)" || echo "plain build (PGO=0, -O2)")"
echo "capture: $PK packets, $(awk -v b="$BY" 'BEGIN { printf "%.2f GB", b / 1e9 }'), $N connections (BENCH_SCALE=$SCALE)"
echo
echo "| tool | wall s | CPU s | packets/s | MB/s | peak RSS MiB | vs bare loop | note |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "headline (tlswhy --format markdown): $HEADLINE; target: at most 1.5x, 64 MiB (issue 8)"
