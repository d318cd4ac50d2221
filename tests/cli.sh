#!/bin/bash
# cli.sh - the command line: inputs, filters, formats, exit statuses and
# error lines, on the recorded captures in pcaps/.
set -u
T=${1:-./tlswhy}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
# expect NAME STATUS CMD... : runs CMD, checks its exit status
expect() {
	local name=$1 want=$2 got
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else no "$name" "exit $got, wanted $want; stderr: $(head -c 300 "$tmp/err")"; fi
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); print($1)"; }

expect "help exits 0" 0 "$T" --help
grep -q "Exit status" "$tmp/out" && ok "help documents exit status" || no "help documents exit status"
expect "version exits 0" 0 "$T" --version
grep -q '^tlswhy [0-9]' "$tmp/out" && ok "version line" || no "version line"
expect "no input is a usage error" 2 "$T"
expect "unknown option is a usage error" 2 "$T" --no-such-option -r pcaps/tls12-ok.pcap
expect "bad format is a usage error" 2 "$T" -r pcaps/tls12-ok.pcap --format yaml

expect "missing file exits 2" 2 "$T" -r "$tmp/nope.pcap"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "nope.pcap" "$tmp/err" && ok "missing file: one line naming it" \
	|| no "missing file: one line naming it" "$(cat "$tmp/err")"
printf 'this is not a capture file at all, just text\n' >"$tmp/bad.pcap"
expect "wrong magic exits 2" 2 "$T" -r "$tmp/bad.pcap"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "wrong magic: one line" || no "wrong magic: one line" "$(cat "$tmp/err")"
: >"$tmp/empty.pcap"
expect "empty file exits 2" 2 "$T" -r "$tmp/empty.pcap"
chmod 000 "$tmp/bad.pcap"
if [ "$(id -u)" -ne 0 ]; then expect "unreadable file exits 2" 2 "$T" -r "$tmp/bad.pcap"; fi

# a file that ends mid-packet: processed up to the break, reported
size=$(stat -c %s pcaps/tls12-ok.pcap)
head -c $((size - 40)) pcaps/tls12-ok.pcap >"$tmp/trunc.pcap"
"$T" -r "$tmp/trunc.pcap" --format json >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -ne 2 ] && ok "truncated file is not an input error" || no "truncated file is not an input error" "exit $rc"
grep -q "mid-packet" "$tmp/err" && ok "truncated file warned on stderr" || no "truncated file warned on stderr"
[ "$(json 'd["inputs"][0]["truncated"]')" = "True" ] && ok "truncated file flagged in JSON" || no "truncated file flagged in JSON"
[ "$(json 'len(d["connections"])')" = "1" ] && ok "truncated file still analyzed" || no "truncated file still analyzed"

# standard input, and several files in order
"$T" -r - --format json <pcaps/tls12-ok.pcap >"$tmp/out" 2>"$tmp/err" && \
	[ "$(json 'd["connections"][0]["stage"]')" = "complete_closed" ] && ok "-r - reads stdin" || no "-r - reads stdin"
"$T" -r pcaps/tls12-ok.pcap -r pcaps/tls13-ok.pcap --format json >"$tmp/out" 2>/dev/null
[ "$(json 'len(d["connections"])')" = "2" ] && [ "$(json 'd["inputs"][1]["first_frame"]')" = "$(( $(json 'd["inputs"][0]["packets"]') + 1 ))" ] \
	&& ok "two -r files, frames counted across" || no "two -r files, frames counted across"
v=$(json '[c["server_hello"]["version_name"] for c in d["connections"]]')
[ "$v" = "['TLS 1.2', 'TLS 1.3']" ] && ok "two -r files in order" || no "two -r files in order" "$v"

# a BPF filter as trailing arguments
port=$(python3 -c "import json,subprocess; d=json.loads(subprocess.run(['$T','-r','pcaps/demo-alb-502.pcap','--format','json'],capture_output=True).stdout); print(d['connections'][1]['server']['port'])")
"$T" -r pcaps/demo-alb-502.pcap --format json tcp port "$port" >"$tmp/out" 2>/dev/null
[ "$(json 'len(d["connections"])')" = "1" ] && [ "$(json 'd["filter"]')" = "tcp port $port" ] \
	&& ok "BPF filter selects" || no "BPF filter selects"
expect "bad filter exits 2" 2 "$T" -r pcaps/tls12-ok.pcap "tcp portt 443"
grep -q "filter" "$tmp/err" && ok "bad filter is named" || no "bad filter is named"

# -o writes the report to a file
"$T" -r pcaps/tls12-ok.pcap --format json -o "$tmp/r.json" >/dev/null 2>&1
python3 -c "import json; json.load(open('$tmp/r.json'))" && ok "-o FILE" || no "-o FILE"
expect "-o into a missing directory exits 2" 2 "$T" -r pcaps/tls12-ok.pcap -o "$tmp/no/such/dir/r.json"

# exit status: 0 for healthy captures, 1 when a failure is diagnosed
expect "healthy capture exits 0" 0 "$T" -r pcaps/tls12-ok.pcap
expect "failing capture exits 1" 1 "$T" -r pcaps/alb-vs-tls13-only.pcap
expect "caps are checked" 2 "$T" -r pcaps/tls12-ok.pcap --max-flows 0
expect "caps accept numbers" 0 "$T" -r pcaps/tls12-ok.pcap --max-flows 1 --max-segments 0 --max-buffer 0 --max-buffer-total 1 --idle-timeout 5
expect "--max-buffer-total needs at least 1 MiB" 2 "$T" -r pcaps/tls12-ok.pcap --max-buffer-total 0

# early reporting (what live capture does) must still judge a completed
# handshake at its close: a keep-alive race only shows then
"$T" -r pcaps/tls12-keepalive-idle-close.pcap --handshake-timeout 10 --format json >"$tmp/out" 2>/dev/null
[ "$(json '[f["rule"] for f in d["connections"][0]["findings"]]')" = "['keepalive-race']" ] \
	&& ok "early reporting waits for the close of a complete handshake" \
	|| no "early reporting waits for the close of a complete handshake" "$(json '[f["rule"] for f in d["connections"][0]["findings"]]')"
"$T" -r pcaps/demo-alb-502.pcap --handshake-timeout 10 --format json >"$tmp/out" 2>/dev/null
[ "$(json '[c["stage"] for c in sorted(d["connections"], key=lambda c: c["id"])]')" = "['alert', 'complete_closed', 'alert', 'alert']" ] \
	&& ok "early reporting gives the same stages" || no "early reporting gives the same stages"

# no colour when piped, colour on request; never raw control bytes otherwise
"$T" -r pcaps/alb-vs-tls13-only.pcap >"$tmp/out" 2>/dev/null
grep -q $'\033' "$tmp/out" && no "no colour when piped" || ok "no colour when piped"
"$T" -r pcaps/alb-vs-tls13-only.pcap --color always >"$tmp/out" 2>/dev/null
grep -q $'\033\[' "$tmp/out" && ok "--color always" || no "--color always"

# NO_COLOR (no-color.org): set and not empty turns colour off on a terminal; empty is ignored
if command -v script >/dev/null 2>&1; then
	NO_COLOR= script -qec "$T -r pcaps/alb-vs-tls13-only.pcap" /dev/null >"$tmp/tty" 2>&1
	grep -q $'\033\[' "$tmp/tty" && ok "an empty NO_COLOR leaves colour on a terminal" || no "an empty NO_COLOR leaves colour on a terminal"
	NO_COLOR=1 script -qec "$T -r pcaps/alb-vs-tls13-only.pcap" /dev/null >"$tmp/tty" 2>&1
	grep -q $'\033\[' "$tmp/tty" && no "NO_COLOR=1 turns colour off" || ok "NO_COLOR=1 turns colour off"
fi

# make install honours PREFIX and DESTDIR, and the installed binary works
if make -s install PREFIX=/opt/tlswhy DESTDIR="$tmp/inst" >"$tmp/out" 2>&1 &&
   [ -x "$tmp/inst/opt/tlswhy/bin/tlswhy" ] && [ -f "$tmp/inst/opt/tlswhy/share/man/man1/tlswhy.1" ] &&
   [ -f "$tmp/inst/opt/tlswhy/share/tlswhy/rules/kb/10-alb-502-legacy.kb" ] &&
   [ -f "$tmp/inst/opt/tlswhy/share/doc/tlswhy/json.md" ] && [ -f "$tmp/inst/opt/tlswhy/share/doc/tlswhy/rules.md" ] &&
   [ -f "$tmp/inst/opt/tlswhy/share/doc/tlswhy/robustness.md" ] &&
   [ -f "$tmp/inst/opt/tlswhy/share/doc/tlswhy/schema/tlswhy.schema.json" ] &&
   "$tmp/inst/opt/tlswhy/bin/tlswhy" -r pcaps/tls12-ok.pcap >/dev/null; then
	ok "make install PREFIX= DESTDIR="
else
	no "make install PREFIX= DESTDIR=" "$(tail -3 "$tmp/out")"
fi

# scripts/deps.sh, not root and a package missing: the exact apt-get line, exit 1
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$tmp/fakebin"
	cat >"$tmp/fakebin/dpkg-query" <<'FAKE'
#!/bin/sh
for a in "$@"; do last=$a; done
[ "$last" = libnet1-dev ] && exit 1
exec /usr/bin/dpkg-query "$@"
FAKE
	# a copy: the checkout itself may be where nobody cannot read (a mktemp -d clone)
	cp scripts/deps.sh "$tmp/deps.sh"
	chmod -R a+rx "$tmp"
	su nobody -s /bin/sh -c "PATH=$tmp/fakebin:\$PATH sh $tmp/deps.sh build" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q 'run as root:  apt-get update && apt-get install -y --no-install-recommends libnet1-dev$' "$tmp/out"; then
		ok "deps.sh prints the apt-get line when not root"
	else
		no "deps.sh prints the apt-get line when not root" "exit $rc: $(cat "$tmp/out")"
	fi
fi

# --input-hash: the input's SHA-256 in the report, by default only up to 256 MiB
want=$(sha256sum pcaps/tls12-ok.pcap | cut -c1-64)
expect "--input-hash auto on a small file" 0 "$T" -r pcaps/tls12-ok.pcap -F json
[ "$(json "d['inputs'][0]['sha256'], d['inputs'][0]['sha256_note']")" = "$want None" ] \
	&& ok "small file: hashed (sha256sum agrees), no note" || no "small file: hashed" "$(json "d['inputs'][0]")"
expect "--input-hash never" 0 "$T" -r pcaps/tls12-ok.pcap -F json --input-hash never
[ "$(json "d['inputs'][0]['sha256'], d['inputs'][0]['sha256_note']")" = "None not computed (--input-hash never)" ] \
	&& ok "--input-hash never: null, with the reason" || no "--input-hash never" "$(json "d['inputs'][0]")"
expect "--input-hash with a bad value is a usage error" 2 "$T" -r pcaps/tls12-ok.pcap --input-hash sometimes
# a 257 MiB capture (sparse: records of 256 KiB of zeros after one real handshake)
python3 - "$tmp/big.pcap" <<'PY'
import struct, sys
src = open("pcaps/tls12-ok.pcap", "rb").read()
hdr = bytearray(src[:24]); hdr[16:20] = struct.pack("<I", 262144)
with open(sys.argv[1], "wb") as f:
    f.write(hdr); f.write(src[24:])
    pos = len(src); ts = struct.unpack_from("<I", src, 24)[0] + 100
    while pos < 257 * 1024 * 1024:
        f.seek(pos); f.write(struct.pack("<IIII", ts, 0, 262144, 262144)); pos += 16 + 262144
    f.truncate(pos)
PY
expect "--input-hash auto on a 257 MiB file" 0 "$T" -r "$tmp/big.pcap" -F json
[ "$(json "d['inputs'][0]['sha256'], d['inputs'][0]['sha256_note'], d['summary']['complete']")" = \
	"None not computed: the file is over 256 MiB (--input-hash always) 1" ] \
	&& ok "257 MiB file: not hashed by default, said why, still analyzed" || no "257 MiB file, auto" "$(json "d['inputs'][0], d['summary']")"
"$T" -r "$tmp/big.pcap" -F markdown > "$tmp/out.md" 2>/dev/null
grep -q 'SHA-256 not computed: the file is over 256 MiB' "$tmp/out.md" && ok "257 MiB file: the markdown report says the hash was not computed" \
	|| no "257 MiB file: markdown says not computed"
want=$(sha256sum "$tmp/big.pcap" | cut -c1-64)
expect "--input-hash always on a 257 MiB file" 0 "$T" -r "$tmp/big.pcap" -F json --input-hash always
[ "$(json "d['inputs'][0]['sha256']")" = "$want" ] && ok "--input-hash always: sha256sum agrees" \
	|| no "--input-hash always" "$(json "d['inputs'][0]")"
rm -f "$tmp/big.pcap"

# the man page documents every option --help lists (short and long), each in an entry of its own
python3 - "$T" docs/tlswhy.1 >"$tmp/man" 2>&1 <<'PY'
import re, subprocess, sys
h = subprocess.run([sys.argv[1], "--help"], capture_output=True, text=True).stdout
man = open(sys.argv[2]).read()
opts = set(re.findall(r"(?:^|[\s,(])(--[a-z][a-z0-9-]*)", h)) | set(re.findall(r"^\s{2}(-[A-Za-z])\b", h, re.M)) \
    | set(re.findall(r", (-[A-Za-z])\b", h))
heads = [l for l in man.splitlines() if re.match(r"\.(B|BI|BR)\b", l)]
miss = [o for o in sorted(opts)
        if not any(re.search(re.escape(o.replace("-", "\\-")) + r"(?![a-z\\-])", l) for l in heads)]
print(len(opts), "options;", "missing in the man page:", " ".join(miss) if miss else "none")
sys.exit(1 if miss or len(opts) < 20 else 0)
PY
[ $? -eq 0 ] && ok "the man page documents every option of --help ($(cat "$tmp/man"))" || no "the man page documents every option of --help" "$(cat "$tmp/man")"

# ---- tcpdump's habits (issue 15) ----------------------------------------------
# options anywhere: the BPF filter is the words that are not options, wherever they are
port=$(tshark -r pcaps/demo-alb-502.pcap -T fields -e tcp.srcport 2>/dev/null | head -1)
[ -n "$port" ] || port=$("$T" -r pcaps/demo-alb-502.pcap -F json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"][0]["client"]["port"])')
expect "options after the filter words" 1 "$T" -r pcaps/demo-alb-502.pcap tcp port "$port" -F json -c 1000
[ "$(json 'd["filter"], len(d["connections"])')" = "tcp port $port 1" ] && ok "options after the filter: filter and format both taken" \
	|| no "options after the filter: filter and format both taken" "$(head -c 200 "$tmp/out")"
# -c applies to -r: stop after COUNT packets read, across the files
expect "-c with -r" 0 "$T" -r pcaps/tls12-ok.pcap -c 5 -r pcaps/demo-alb-502.pcap -F json
[ "$(json 'd["stats"]["packets"], [i["packets"] for i in d["inputs"]]')" = "5 [5]" ] && ok "-c 5 with -r reads 5 packets" \
	|| no "-c 5 with -r reads 5 packets" "$(json 'd["stats"]["packets"], [i["packets"] for i in d["inputs"]]')"
n1=$("$T" -r pcaps/tls12-ok.pcap -F json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["packets"])')
expect "-c across two files" 0 "$T" -r pcaps/tls12-ok.pcap -r pcaps/demo-alb-502.pcap -c $((n1 + 4)) -F json
[ "$(json 'd["stats"]["packets"], [i["packets"] for i in d["inputs"]]')" = "$((n1 + 4)) [$n1, 4]" ] && ok "-c counts across the files" \
	|| no "-c counts across the files" "$(json 'd["stats"]["packets"], [i["packets"] for i in d["inputs"]]')"
grep -q 'apply to live capture' "$tmp/err" && no "-c with -r: no live-only warning" "$(cat "$tmp/err")" || ok "-c with -r: no live-only warning"
expect "-n is accepted" 0 "$T" -n -r pcaps/tls12-ok.pcap -F json
# an unknown option: one line that points at --help, exit 2
expect "unknown long option exits 2" 2 "$T" -r pcaps/tls12-ok.pcap --no-such-option
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^tlswhy: unknown option '--no-such-option'; see 'tlswhy --help'$" "$tmp/err" \
	&& ok "unknown option: one line" || no "unknown option: one line" "$(head -c 300 "$tmp/err")"
expect "unknown short option exits 2" 2 "$T" -x -r pcaps/tls12-ok.pcap
[ "$(cat "$tmp/err")" = "tlswhy: unknown option '-x'; see 'tlswhy --help'" ] && ok "unknown short option: one line" \
	|| no "unknown short option: one line" "$(head -c 300 "$tmp/err")"
expect "missing argument exits 2" 2 "$T" -r
[ "$(cat "$tmp/err")" = "tlswhy: option '-r' needs an argument; see 'tlswhy --help'" ] && ok "missing argument: one line" \
	|| no "missing argument: one line" "$(head -c 300 "$tmp/err")"

# ---- text: summary by default, -v / --all each connection, -q the verdict ------
# -v and --all write today's per-connection text, byte for byte (goldens in
# tests/golden/, written by the text report before the summary mode existed;
# TLSWHY_UPDATE_GOLDEN=1 rewrites them, and the diff is reviewed)
golden() {   # golden NAME ARGS...
	local g=tests/golden/$1
	shift
	"$T" "$@" --color never >"$tmp/g" 2>/dev/null
	[ "${TLSWHY_UPDATE_GOLDEN:-}" = 1 ] && cp "$tmp/g" "$g"
	cmp -s "$tmp/g" "$g" && ok "golden $(basename "$g"): $*" || no "golden $(basename "$g"): $*" "$(diff "$g" "$tmp/g" | head -5)"
}
golden demo-alb-502.each.txt -r pcaps/demo-alb-502.pcap -v
golden midstream-plain-http.all.txt -r pcaps/crafted/midstream-hdrsplit-reversed.pcap -r pcaps/alb-to-plain-http.pcap --all
# the default, on a terminal or not: the summary, ending with the counts line
"$T" -r pcaps/demo-alb-502.pcap >"$tmp/sum" 2>/dev/null
head -n 1 "$tmp/sum" | grep -q '^TLS handshakes: FAILED — 3 of 4 connections failed$' && grep -q '^Failed handshakes$' "$tmp/sum" &&
	tail -n 1 "$tmp/sum" | grep -q '^47 packets, 4 connections reported' && ok "text default: the summary, the counts line last" \
	|| no "text default: the summary, the counts line last" "$(head -n 3 "$tmp/sum")"
# -q: the headline, the verdict, the counts, one line per cause
expect "-q exits as the report does" 1 "$T" -r pcaps/demo-alb-502.pcap -q
printf '%s\n' "TLS handshakes: FAILED — 3 of 4 connections failed" \
	"Verdict: TLS 1.3-only target behind an AWS load balancer whose backend policy stops at TLS 1.2 (side at fault: server, confidence: high)." \
	"" "47 packets, 4 connections reported (4 with TLS, 1 handshake complete): 3 failed, 0 inconclusive, 1 healthy (alert 3)" \
	"      3 x alb-target-needs-tls13  TLS 1.3-only target behind an AWS load balancer whose backend policy stops at TLS 1.2" >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want" && ok "-q: verdict and counts only" || no "-q: verdict and counts only" "$(diff "$tmp/want" "$tmp/out" | head -6)"
"$T" -r pcaps/tls12-ok.pcap -q >"$tmp/out" 2>/dev/null
[ "$(head -n 1 "$tmp/out")" = "TLS handshakes: OK — no failed handshake" ] && [ "$(wc -l <"$tmp/out")" -eq 4 ] && ok "-q on a healthy capture" \
	|| no "-q on a healthy capture" "$(cat "$tmp/out")"
# the demo's 4 connections 200 times over (each copy with its own client
# ports, 10 ms later): 600 identical failures and 200 healthy handshakes;
# the summary tells the story once, where -v repeats the healthy ones' notes
python3 - pcaps/demo-alb-502.pcap "$tmp/many.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"\xd4\xc3\xb2\xa1" and struct.unpack_from("<I", d, 20)[0] == 1   # little-endian, Ethernet
pkts, off = [], 24
while off + 16 <= len(d):
    ts, us, cap, wire = struct.unpack_from("<IIII", d, off)
    pkts.append((ts, us, d[off + 16:off + 16 + cap], wire))
    off += 16 + cap
def tcp(p):
    o = 14 + (p[14] & 15) * 4
    return o, struct.unpack_from(">HH", p, o), p[o + 13]
clients = sorted({tcp(p)[1][0] for _, _, p, _ in pkts if tcp(p)[2] & 0x12 == 0x02})   # SYN senders
assert len(clients) == 4, clients
with open(sys.argv[2], "wb") as f:
    f.write(d[:24])
    for k in range(200):
        for ts, us, p, wire in pkts:
            q = bytearray(p)
            o, (sp, dp), _ = tcp(q)
            new = lambda x: 20000 + 4 * k + clients.index(x) if x in clients else x
            struct.pack_into(">HH", q, o, new(sp), new(dp))
            t = ts * 1000000 + us + k * 10000
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(q), wire)); f.write(q)
PY
"$T" -r "$tmp/many.pcap" >"$tmp/sum" 2>/dev/null; rc=$?
"$T" -r "$tmp/many.pcap" -v >"$tmp/each" 2>/dev/null
[ $rc -eq 1 ] && [ "$(grep -c 'note-aws-lb-client' "$tmp/each")" -ge 200 ] && [ "$(grep -c 'note-aws-lb-client' "$tmp/sum")" -eq 1 ] &&
	[ "$(grep -c '^Handshake ladder' "$tmp/sum")" -eq 1 ] && grep -q '^600 connections like this (same cause, same server 127.0.0.1:44347)' "$tmp/sum" &&
	grep -q '^  1  *600  TLS 1.3-only target' "$tmp/sum" && grep -q '^ *200  127.0.0.1:44332  (none)  complete_closed  TLS 1.2 ' "$tmp/sum" &&
	[ "$(wc -l <"$tmp/sum")" -lt 150 ] &&
	ok "summary: 600 identical failures grouped, 200 healthy counted, each note once ($(wc -l <"$tmp/sum") lines; -v: $(wc -l <"$tmp/each"))" \
	|| no "summary: 600 identical failures grouped, 200 healthy counted, each note once" "exit $rc, $(wc -l <"$tmp/sum") lines, notes: $(grep -c 'note-aws-lb-client' "$tmp/sum") / $(grep -c 'note-aws-lb-client' "$tmp/each")"
# each connection's start, UTC to the millisecond (to line up with ALB access logs)
grep -q '#3 at 28 (2026-11-24T13:25:08\.612Z)' "$tmp/sum" && grep -q '#2 at 11, 2026-11-24T13:25:08\.496Z$' "$tmp/sum" && grep -q '^  Started  *2026-11-24T13:25:08\.381Z$' "$tmp/sum" \
	&& ok "summary: each connection's start time, ISO 8601 with ms" || no "summary: each connection's start time, ISO 8601 with ms" "$(grep -m2 'Started\|like this' "$tmp/sum")"

# ---- tunnels: the BPF filter sees the outer packet, --inner-filter the inner one ----
V=pcaps/crafted/vxlan-mirror-demo-alb-502.pcap G=pcaps/crafted/geneve-gwlb-no-shared-cipher.pcap
conns() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); print(len(d['connections']), sorted({c['server']['port'] for c in d['connections']}))"; }
expect "a filter on the inner port matches no outer packet" 0 "$T" -r "$V" -F json tcp port 44347
[ "$(conns)" = "0 []" ] && grep -q "^tlswhy: warning: filter 'tcp port 44347' matched no packet of $V, which carries VXLAN or GENEVE traffic" "$tmp/err" \
	&& ok "a filter that matched nothing in a tunnel capture: warned" || no "a filter that matched nothing in a tunnel capture: warned" "$(conns) $(cat "$tmp/err")"
expect "--inner-filter on VXLAN (the failing server)" 1 "$T" -r "$V" -F json --inner-filter 'tcp port 44347'
[ "$(conns)" = "3 [44347]" ] && [ ! -s "$tmp/err" ] && ok "--inner-filter keeps the inner packets it matches (VXLAN)" || no "--inner-filter on VXLAN" "$(conns) $(cat "$tmp/err")"
expect "--inner-filter on VXLAN (the healthy server)" 0 "$T" -r "$V" -F json --inner-filter 'tcp port 44332' udp port 4789
[ "$(conns)" = "1 [44332]" ] && ok "--inner-filter and an outer filter together" || no "--inner-filter and an outer filter together" "$(conns)"
expect "--inner-filter on GENEVE (inner IP, no Ethernet)" 1 "$T" -r "$G" -F json --inner-filter 'ip and tcp port 44310'
[ "$(conns)" = "1 [44310]" ] && ok "--inner-filter on GENEVE's inner IP packet" || no "--inner-filter on GENEVE's inner IP packet" "$(conns)"
expect "--inner-filter matching nothing" 0 "$T" -r "$G" -F json --inner-filter 'tcp port 9'
[ "$(conns)" = "0 []" ] && grep -q "^tlswhy: warning: --inner-filter 'tcp port 9' matched none of the 10 tunnelled packets$" "$tmp/err" \
	&& ok "--inner-filter that matched nothing: warned" || no "--inner-filter that matched nothing: warned" "$(cat "$tmp/err")"
expect "--inner-filter without tunnels" 0 "$T" -r pcaps/tls12-ok.pcap -F json --inner-filter 'tcp port 9'
[ "$(conns)" = "1 [44303]" ] && grep -q "no VXLAN or GENEVE packet was read" "$tmp/err" && ok "--inner-filter without tunnels: packets pass, warned" \
	|| no "--inner-filter without tunnels: packets pass, warned" "$(conns) $(cat "$tmp/err")"
expect "a bad --inner-filter is a usage error" 2 "$T" -r "$V" --inner-filter 'tcp portt 1'
grep -q "^tlswhy: inner filter 'tcp portt 1': " "$tmp/err" && ok "a bad --inner-filter says why" || no "a bad --inner-filter says why" "$(cat "$tmp/err")"
# ---- output files: never through a symlink, never clobbered by a failed run ----
o="$tmp/outs"
mkdir "$o" && chmod 0777 "$o"
echo "precious" >"$tmp/victim1"; echo "precious" >"$tmp/victim2"
ln -s "$tmp/victim1" "$o/r.md"; ln -s "$tmp/victim2" "$o/ev.pcap"
# links planted by another user (as a shared directory allows)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then chown -h nobody "$o/r.md" "$o/ev.pcap"; fi
expect "-o and -w over planted symlinks" 1 "$T" -r pcaps/demo-alb-502.pcap -o "$o/r.md" -w "$o/ev.pcap"
[ "$(cat "$tmp/victim1")$(cat "$tmp/victim2")" = "preciousprecious" ] && ok "symlink targets unchanged" \
	|| no "symlink targets unchanged" "$(head -c 80 "$tmp/victim1")"
"$T" -r "$o/ev.pcap" >/dev/null 2>&1
rc=$?
[ ! -L "$o/r.md" ] && [ ! -L "$o/ev.pcap" ] && grep -q "alb-target-needs-tls13" "$o/r.md" && [ $rc -eq 1 ] \
	&& ok "the links are replaced by the report and the evidence" \
	|| no "the links are replaced by the report and the evidence" "$(ls -l "$o")"
[ "$(ls -A "$o" | wc -l)" -eq 2 ] && ok "no temporary file left" || no "no temporary file left" "$(ls -A "$o")"
# the permissions of the file replaced are kept
echo old >"$o/perm.json"; chmod 0640 "$o/perm.json"
"$T" -r pcaps/tls12-ok.pcap -o "$o/perm.json" >/dev/null 2>&1
[ "$(stat -c %a "$o/perm.json")" = 640 ] && json_ok=$(python3 -c "import json; json.load(open('$o/perm.json')); print(1)" 2>/dev/null) && \
	[ "$json_ok" = 1 ] && ok "-o keeps the replaced file's permissions" || no "-o keeps the replaced file's permissions" "$(stat -c %a "$o/perm.json")"
# a run that fails keeps the old report, and leaves no temporary file
echo "last week's report" >"$o/keep.md"; echo "old evidence" >"$o/keep.pcap"
expect "input error with -o and -w" 2 "$T" -r "$tmp/nonexistent.pcap" -o "$o/keep.md" -w "$o/keep.pcap"
[ "$(cat "$o/keep.md")" = "last week's report" ] && [ "$(cat "$o/keep.pcap")" = "old evidence" ] \
	&& ok "an input error keeps the existing report and evidence" || no "an input error keeps the existing report" "$(head -c 100 "$o/keep.md")"
[ -z "$(ls -A "$o" | grep -v -x -e r.md -e ev.pcap -e perm.json -e keep.md -e keep.pcap)" ] \
	&& ok "an input error leaves no temporary file" || no "an input error leaves no temporary file" "$(ls -A "$o")"
# every output is checked before the first packet: a bad -w fails at once, no report
"$T" -r pcaps/demo-alb-502.pcap -w "$tmp/no/such/dir/ev.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "no/such/dir/ev.pcap" "$tmp/err" \
	&& ok "-w into a missing directory fails before the analysis" || no "-w into a missing directory fails before the analysis" "exit $rc, $(wc -c <"$tmp/out") bytes of report"
# -o never replaces a capture being read
cp pcaps/tls12-ok.pcap "$o/in.pcap"
expect "-o naming an input is refused" 2 "$T" -r "$o/in.pcap" -o "$o/in.pcap"
cmp -s pcaps/tls12-ok.pcap "$o/in.pcap" && ok "-o naming an input: the capture is unchanged" || no "-o naming an input: the capture is unchanged"
rm -f "$o/in.pcap"
# write errors, as coreutils says them
"$T" -r pcaps/tls12-ok.pcap >/dev/full 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(cat "$tmp/err")" = "tlswhy: write error: No space left on device" ] \
	&& ok "> /dev/full: write error, exit 2" || no "> /dev/full: write error, exit 2" "exit $rc: $(cat "$tmp/err")"
"$T" -r pcaps/tls12-ok.pcap -o /dev/full 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "write error: No space left on device" "$tmp/err" \
	&& ok "-o /dev/full: write error, exit 2" || no "-o /dev/full: write error, exit 2" "exit $rc: $(cat "$tmp/err")"
# the machine formats hold the report in their writer and write it
# unbuffered (jw_stream): the reason is still said
for fmt in json jsonl ecs; do
	"$T" -r pcaps/tls12-ok.pcap -F $fmt >/dev/full 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(cat "$tmp/err")" = "tlswhy: write error: No space left on device" ] \
		&& ok "-F $fmt > /dev/full: write error and why, exit 2" || no "-F $fmt > /dev/full: write error and why, exit 2" "exit $rc: $(cat "$tmp/err")"
	"$T" -r pcaps/tls12-ok.pcap -F $fmt -o /dev/full 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "write error: No space left on device" "$tmp/err" \
		&& ok "-F $fmt -o /dev/full: write error and why, exit 2" || no "-F $fmt -o /dev/full: write error and why, exit 2" "exit $rc: $(cat "$tmp/err")"
done
"$T" -r pcaps/demo-alb-502.pcap -w /dev/full >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "write error: No space left on device" "$tmp/err" \
	&& ok "-w /dev/full: write error, exit 2" || no "-w /dev/full: write error, exit 2" "exit $rc: $(cat "$tmp/err")"
# a FIFO or a pipe is written in place
"$T" -r pcaps/tls12-ok.pcap -F json -o >(cat >"$tmp/procsub.json") 2>/dev/null
sleep 0.2
python3 -c "import json; json.load(open('$tmp/procsub.json'))" 2>/dev/null && ok "-o >(...) writes into the pipe" || no "-o >(...) writes into the pipe"

# ---- evidence as pcapng: nanoseconds kept, each packet says its original frame ----
if command -v tshark >/dev/null 2>&1; then
	# the demo capture with nanosecond timestamps (the pcap magic for them, +123 ns each)
	python3 - pcaps/demo-alb-502.pcap "$tmp/ns.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out = bytearray(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, *struct.unpack_from("<II", d, 16)))
pos = 24
while pos + 16 <= len(d):
    s, us, cl, wl = struct.unpack_from("<IIII", d, pos)
    out += struct.pack("<IIII", s, us * 1000 + 123, cl, wl) + d[pos + 16:pos + 16 + cl]
    pos += 16 + cl
open(sys.argv[2], "wb").write(out)
PY
	"$T" -r "$tmp/ns.pcap" -F json -w "$tmp/ev.pcapng" >"$tmp/out" 2>"$tmp/err"
	tshark -r "$tmp/ev.pcapng" -T fields -e frame.number -e frame.comment -e frame.time_epoch >"$tmp/tshark.txt" 2>"$tmp/tshark.err"
	tshark -r "$tmp/ns.pcap" -T fields -e frame.number -e frame.time_epoch >"$tmp/tshark-orig.txt" 2>/dev/null
	if python3 - "$tmp/out" "$tmp/tshark.txt" "$tmp/tshark-orig.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["evidence"]
rows = [l.split("\t") for l in open(sys.argv[2]).read().splitlines()]
orig = dict(l.split("\t") for l in open(sys.argv[3]).read().splitlines())
assert ev["format"] == "pcapng" and ev["frame_numbering"] == "original" and ev["frame_map_complete"], ev
assert len(rows) == ev["packets"] > 0, (len(rows), ev["packets"])
for num, comment, t in rows:
    assert comment.startswith("original frame "), comment
    o = comment.split()[-1]
    assert ev["frame_map"][o] == int(num), (o, num)
    assert t == orig[o] and t.endswith("123"), (t, orig[o])   # nanoseconds kept
# the report's frames are the original ones: each finding's frames are in the map
frames = [f for c in d["connections"] for fd in c["findings"] for e in fd["evidence"] for f in e.get("frames", [])]
assert frames and all(str(f) in ev["frame_map"] for f in frames), frames
PY
	then ok "pcapng evidence: tshark reads 'original frame N' comments matching the JSON frame_map, nanoseconds kept"
		python3 tests/validate_json.py json "$tmp/out" >/dev/null 2>&1 && ok "pcapng evidence: JSON valid against the schema" \
			|| no "pcapng evidence: JSON valid against the schema" "$(python3 tests/validate_json.py json "$tmp/out" 2>&1 | head -c 300)"
	else no "pcapng evidence: comments, map and nanoseconds" "$(head -c 300 "$tmp/tshark.err")"
	fi
fi
"$T" -r pcaps/demo-alb-502.pcap -w "$tmp/ev2.pcap" >"$tmp/out" 2>/dev/null
grep -q "frame numbers in this report are the original capture's" "$tmp/out" && ok "text report says which frame numbers it uses" \
	|| no "text report says which frame numbers it uses"
"$T" -r pcaps/demo-alb-502.pcap -w "$tmp/ev2.pcapng" -F markdown >"$tmp/out" 2>/dev/null
grep -q "| Frame numbers | frame numbers in this report are the original capture's; in the evidence file each packet's comment" "$tmp/out" \
	&& ok "markdown report says which frame numbers it uses" || no "markdown report says which frame numbers it uses"

# ---- -Z applies offline too (root only): inputs and outputs opened, then the switch ----
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	p="$tmp/private"; mkdir "$p"; chmod 0700 "$p"
	cp pcaps/demo-alb-502.pcap "$p/in.pcap"
	mkfifo "$tmp/slow.pcap"
	# the capture comes slowly through a FIFO: its header first, the rest a second later
	python3 -c '
import sys, time
d = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    f.write(d[:24]); f.flush(); time.sleep(1.5); f.write(d[24:])' "$p/in.pcap" "$tmp/slow.pcap" &
	feeder=$!
	"$T" -r "$tmp/slow.pcap" -Z nobody -F json -o "$p/r.json" -w "$p/ev.pcapng" 2>"$tmp/err" &
	tw=$!
	sleep 0.7
	st=$(awk '/^Uid:/ { print $1 $3 } /^NoNewPrivs:/ { print $1 $2 }' /proc/$tw/status 2>/dev/null | tr '\n' ' ')
	wait $tw; rc=$?
	wait $feeder
	[ "$st" = "Uid:$(id -u nobody) NoNewPrivs:1 " ] && ok "-Z nobody offline: runs as nobody with no_new_privs" \
		|| no "-Z nobody offline: runs as nobody with no_new_privs" "status '$st'"
	[ $rc -eq 1 ] && python3 -c "import json; d=json.load(open('$p/r.json')); assert d['evidence']['packets'] == 30" 2>/dev/null && \
		[ "$(tshark -r "$p/ev.pcapng" 2>/dev/null | wc -l)" = 30 ] && ! grep -q warning "$tmp/err" \
		&& ok "-Z nobody offline: report and evidence written in a 0700 root directory" \
		|| no "-Z nobody offline: report and evidence in a 0700 directory" "exit $rc: $(cat "$tmp/err")"
	expect "-Z unknown user offline: exit 2" 2 "$T" -r pcaps/tls12-ok.pcap -Z no-such-user-tlswhy -o "$o/keep.md"
	[ "$(cat "$o/keep.md")" = "last week's report" ] && ok "-Z unknown user: the old report kept" || no "-Z unknown user: the old report kept"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
