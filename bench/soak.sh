#!/bin/bash
# soak.sh - a long live capture under steady load (a benchmark, not a test;
# `make check` does not run it). Root only.
#
#   bash bench/soak.sh [SECONDS] [PPS]        defaults: 180 s, 20000 packets/s
#   TLSWHY=./tlswhy SAMPLE=5 bash bench/soak.sh 150 20000
#
# It creates a network namespace with a veth pair (ip netns add; nothing
# outside the namespace is touched), concatenates the recorded captures in
# pcaps/ (Ethernet, 41 connections of every kind: complete, alerts, plain
# HTTP, silent servers, refused, IPv6 ...), makes enough copies with other
# addresses (tcprewrite --seed, which maps each address consistently, so
# both directions still pair up; tcpreplay --unique-ip does not) that one
# loop lasts at least LOOP_S (20) seconds - longer than the handshake
# timeout, so a 5-tuple comes back only once its previous connection was
# reported - and replays that in a loop with tcpreplay onto one end,
# while `tlswhy -i` captures on the other end for SECONDS. Every SAMPLE
# seconds it records tlswhy's packets handled (its --status line), kernel
# drops, flows tracked and RSS (/proc/PID/status VmRSS); connections
# reported are counted from the JSON Lines report as it streams. The
# table goes into bench/RESULTS.md, section "Soak" (replaced, the rest of
# the file kept). Memory must stay flat: finished flows are released
# (early reporting + tombstones) and the caps hold.
#
# Needs: iproute2, tcpreplay (installed with apt-get when missing),
# mergecap (wireshark-common, part of the tshark test dependency), python3.
set -u
cd "$(dirname "$0")/.."
DUR=${1:-180}
PPS=${2:-20000}
SAMPLE=${SAMPLE:-5}
LOOP_S=${LOOP_S:-20}
TLSWHY=${TLSWHY:-./tlswhy}
RESULTS=bench/RESULTS.md

if [ "$(id -u)" -ne 0 ]; then
	echo "soak: needs root (network namespace, capture)"; exit 2
fi
if ! command -v tcpreplay >/dev/null 2>&1; then
	echo "soak: installing tcpreplay"
	DEBIAN_FRONTEND=noninteractive apt-get install -y tcpreplay >/dev/null || { echo "soak: no tcpreplay"; exit 2; }
fi
for t in ip mergecap tcprewrite capinfos python3; do
	command -v $t >/dev/null 2>&1 || { echo "soak: $t missing"; exit 2; }
done
[ -x "$TLSWHY" ] || { echo "soak: $TLSWHY not built (make)"; exit 2; }

NS=tlswhy-soak-$$
W=$(mktemp -d /tmp/tlswhy-soak.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" || exit 2
ip -n "$NS" link add vs0 type veth peer name vs1 || exit 2
ip -n "$NS" link set lo up
ip -n "$NS" link set vs0 up
ip -n "$NS" link set vs1 up

mergecap -a -F pcap -w "$W/one.pcap" pcaps/*.pcap || exit 2
ONE=$(capinfos -c -M "$W/one.pcap" 2>/dev/null | awk '/Number of packets/ { print $NF }')
COPIES=$(( (LOOP_S * PPS + ONE - 1) / ONE ))
mkdir "$W/v"
for i in $(seq 1 "$COPIES"); do
	tcprewrite --seed="$i" -i "$W/one.pcap" -o "$W/v/$i.pcap" || exit 2
done
mergecap -a -F pcap -w "$W/replay.pcap" $(seq -f "$W/v/%g.pcap" 1 "$COPIES") || exit 2
rm -rf "$W/v"
NPKT=$(capinfos -c -M "$W/replay.pcap" 2>/dev/null | awk '/Number of packets/ { print $NF }')

# the report streams into a counter: connections and stages, not kept on disk
mkfifo "$W/report"
python3 -c '
import json, re, sys, collections
n = 0; stages = collections.Counter(); last = None
stage = re.compile(r"\"stage\":\"([a-z_]+)\"")
for line in sys.stdin:
    if line.startswith("{\"type\":\"connection\""):
        n += 1
        m = stage.search(line)
        stages[m.group(1) if m else "?"] += 1
        if n % 1000 == 0:
            open(sys.argv[1], "w").write("%d\n" % n)
    else:
        try:
            last = json.loads(line)
        except ValueError:
            stages["<invalid JSON line>"] += 1
open(sys.argv[1], "w").write("%d\n" % n)
json.dump({"connections": n, "stages": stages, "summary": last}, open(sys.argv[2], "w"))
' "$W/count" "$W/final.json" <"$W/report" &
CNT=$!; PIDS+=($CNT)

ip netns exec "$NS" "$TLSWHY" -i vs1 -F jsonl -o "$W/report" --status always 2>"$W/tlswhy.err" &
TW=$!; PIDS+=($TW)
for i in $(seq 100); do
	grep -q "capturing on" "$W/tlswhy.err" 2>/dev/null && break
	sleep 0.05
done

ip netns exec "$NS" tcpreplay -i vs0 --loop=0 --pps="$PPS" --duration="$DUR" \
	"$W/replay.pcap" >"$W/tcpreplay.log" 2>&1 &
TR=$!; PIDS+=($TR)

status() {   # the last status line: packets flows drops
	tr '\r' '\n' <"$W/tlswhy.err" | grep 'packets, TLS' | tail -n 1 |
		sed -E 's/.*tlswhy: ([0-9]+) packets, TLS handshakes ([0-9]+) ok \/ ([0-9]+) failed, ([0-9]+) flows tracked, ([0-9]+) kernel drops.*/\1 \4 \5 \2 \3/'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/$TW/status 2>/dev/null; }

echo "soak: ${DUR}s at ${PPS} packets/s, ${NPKT} packets a loop ($COPIES copies), sampling every ${SAMPLE}s"
printf '%6s %12s %10s %8s %8s %10s %9s\n' t_s packets pkt_per_s flows drops reported rss_kib | tee "$W/table"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
prev_p=0 prev_t=0
while kill -0 $TR 2>/dev/null; do
	sleep "$SAMPLE"
	t=$(( $(date +%s) - t0 ))
	read -r p fl dr ok bad <<<"$(status)"
	p=${p:-0} fl=${fl:-0} dr=${dr:-0}
	rate=$(( (p - prev_p) / (t - prev_t > 0 ? t - prev_t : 1) ))
	printf '%6d %12d %10d %8d %8d %10s %9s\n' "$t" "$p" "$rate" "$fl" "$dr" "$(cat "$W/count" 2>/dev/null || echo 0)" \
		"$(rss_kb)" | tee -a "$W/table"
	prev_p=$p prev_t=$t
done
wait $TR
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
sent=$(grep -E 'Actual: [0-9]+ packets' "$W/tcpreplay.log" | sed -E 's/.*Actual: ([0-9]+) packets.*/\1/' | tail -n 1)
# the end: SIGINT, pending handshakes reported, the summary line written
sleep 1
kill -INT $TW
wait $TW
twrc=$?
wait $CNT
python3 - "$W/final.json" "$W/table" "$RESULTS" "$DUR" "$PPS" "$NPKT" "${sent:-?}" "$twrc" "$(uname -r)" "$COPIES" "$ONE" "$(nproc)" "$LOAD0" "$LOAD1" <<'EOF'
import json, sys, re, datetime
final, table, results, dur, pps, npkt, sent, rc, kernel, copies, one, ncpu, load0, load1 = sys.argv[1:]
f = json.load(open(final))
s = (f.get("summary") or {})
stats = s.get("stats", {})
rows = [l.split() for l in open(table).read().splitlines()]
hdr, rows = rows[0], rows[1:]
rss = [int(r[6]) for r in rows if len(r) > 6 and r[6].isdigit()]
rates = [int(r[2]) for r in rows[1:] if len(r) > 2]
half = rss[len(rss) // 2:] if rss else []
out = []
out.append("## Soak")
out.append("")
out.append("`bash bench/soak.sh %s %s` on %s (kernel %s): the recorded captures in pcaps/ (%s packets), "
           "%s copies with other addresses (`tcprewrite --seed`), %s packets a loop, replayed with "
           "`tcpreplay --loop=0 --pps=%s` onto a veth pair in a private network namespace; "
           "`tlswhy -i vs1 -F jsonl` (defaults: -B 16384, handshake timeout 10 s, idle timeout 300 s) "
           "capturing on the other end, its report streamed to a counter." %
           (dur, pps, datetime.date.today().isoformat(), kernel, one, copies, npkt, pps))
out.append("")
out.append("| t (s) | packets handled | packets/s | flows tracked | kernel drops | connections reported | RSS (KiB) |")
out.append("|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if len(r) >= 7:
        out.append("| " + " | ".join(r[:7]) + " |")
out.append("")
out.append("- tcpreplay sent %s packets; tlswhy handled %s (stats.packets), kernel drops %s, exit status %s." %
           (sent, stats.get("packets"), stats.get("kernel_drops"), rc))
out.append("- connections reported: %d; by stage: %s." % (f["connections"], ", ".join(
    "%s %d" % (k, v) for k, v in sorted(f["stages"].items(), key=lambda x: -x[1]))))
out.append("- flows created %s, evicted %s, most at once %s." % (stats.get("flows"), stats.get("flows_evicted"),
           stats.get("flows_active_max")))
if rates:
    out.append("- packets/s handled: min %d, max %d (the replay rate is %s)." % (min(rates), max(rates), pps))
if rss:
    out.append("- RSS: first sample %d KiB, peak %d KiB, last %d KiB; second half of the run %d-%d KiB%s." %
               (rss[0], max(rss), rss[-1], min(half), max(half),
                " (flat)" if max(half) - min(half) <= max(1024, max(half) // 20) else " (GROWING)"))
out.append("- machine: %s CPUs; load average %s at the start, %s at the end (everything else running "
           "on it counts: kernel drops rise when tlswhy is starved of CPU)." % (ncpu, load0, load1))
out.append("")
text = "\n".join(out) + "\n"
try:
    old = open(results).read()
except FileNotFoundError:
    old = "# Benchmark results\n\n"
m = re.search(r"^## Soak\n.*?(?=^## |\Z)", old, flags=re.S | re.M)
new = old[:m.start()] + text + old[m.end():] if m else old.rstrip("\n") + "\n\n" + text
open(results, "w").write(new)
print(text)
EOF
