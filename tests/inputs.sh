#!/bin/bash
# inputs.sh - the ways a capture reaches tlswhy (issue 15 "Inputs", issue 17
# secrets blocks), each on real bytes:
#
#   - read once: process substitution, /dev/stdin, "-" and a named pipe give
#     the same connections and SHA-256 as the file;
#   - compressed: gzip and zstd of a bundled capture give the same report as
#     the plain file (JSON connections, input SHA-256 of the decompressed
#     bytes), from a file and from a pipe, and the same -w evidence; a
#     damaged gzip is named; xz gets the command that reads it;
#   - an empty file is "empty file" (file and pipe), exit 2;
#   - pcapng with Ethernet + Linux SLL + SLL2 interfaces (made here from
#     bundled captures and merged by mergecap, as dumpcap -i eth0 -i any
#     writes them) is read to its end, and tlswhy's handshake messages,
#     frame numbers included, are tshark's (skipped without tshark/mergecap);
#   - a Decryption Secrets Block (editcap --inject-secrets) decrypts as
#     --keylog does, and one with garbage keys gives warnings, never a
#     secret, never a crash.
#
#   bash tests/inputs.sh [TLSWHY]     last line: "N passed, N failed"
set -u
cd "$(dirname "$0")/.."
T=${1:-./tlswhy}
pass=0 fail=0
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
export TLSWHY_PROGRESS_MS=100000

ok() { pass=$((pass + 1)); echo "ok $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }

# same_report A.json B.json: the same connections and input SHA-256
same_report() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ok = a["connections"] == b["connections"] and a["connections"] and \
     a["inputs"][0]["sha256"] == b["inputs"][0]["sha256"] and a["stats"] == b["stats"]
sys.exit(0 if ok else 1)
EOF
}

P=pcaps/demo-alb-502.pcap
"$T" -r "$P" -F json > "$tmp/plain.json" 2>/dev/null

# ---- read once --------------------------------------------------------------
"$T" -r <(cat "$P") -F json > "$tmp/ps.json" 2>/dev/null
same_report "$tmp/plain.json" "$tmp/ps.json" && ok "process substitution" || no "process substitution"
cat "$P" | "$T" -r /dev/stdin -F json > "$tmp/ds.json" 2>/dev/null
same_report "$tmp/plain.json" "$tmp/ds.json" && ok "-r /dev/stdin from a pipe" || no "-r /dev/stdin from a pipe"
cat "$P" | "$T" -r - -F json > "$tmp/dash.json" 2>/dev/null
same_report "$tmp/plain.json" "$tmp/dash.json" && ok "-r - from a pipe" || no "-r - from a pipe"
mkfifo "$tmp/fifo"
cat "$P" > "$tmp/fifo" &
pids+=($!)
timeout 60 "$T" -r "$tmp/fifo" -F json > "$tmp/fifo.json" 2>/dev/null
same_report "$tmp/plain.json" "$tmp/fifo.json" && ok "named pipe" || no "named pipe"

# ---- compressed ----------------------------------------------------------------
gzip -c "$P" > "$tmp/c.pcap.gz"
cp "$tmp/c.pcap.gz" "$tmp/c-no-suffix"
for f in c.pcap.gz c-no-suffix; do
	"$T" -r "$tmp/$f" -F json > "$tmp/$f.json" 2>/dev/null
	same_report "$tmp/plain.json" "$tmp/$f.json" && ok "gzip ($f): the plain file's report" || no "gzip ($f): the plain file's report"
done
"$T" -r <(cat "$tmp/c.pcap.gz") -F json > "$tmp/gzpipe.json" 2>/dev/null
same_report "$tmp/plain.json" "$tmp/gzpipe.json" && ok "gzip through a pipe" || no "gzip through a pipe"
"$T" -r "$P" -F markdown 2>/dev/null | grep -v 'Source file' > "$tmp/plain.md"
"$T" -r "$tmp/c.pcap.gz" -F markdown 2>/dev/null | grep -v 'Source file' > "$tmp/gz.md"
cmp -s "$tmp/plain.md" "$tmp/gz.md" && ok "gzip: markdown identical but the file name" || no "gzip: markdown identical but the file name"
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c "$P" > "$tmp/c.pcap.zst"
	"$T" -r "$tmp/c.pcap.zst" -F json > "$tmp/zst.json" 2>/dev/null
	same_report "$tmp/plain.json" "$tmp/zst.json" && ok "zstd: the plain file's report" || no "zstd: the plain file's report"
fi
"$T" -r "$P" -w "$tmp/ev-plain.pcap" > /dev/null 2>&1
"$T" -r "$tmp/c.pcap.gz" -w "$tmp/ev-gz.pcap" > /dev/null 2>&1
cat "$tmp/c.pcap.gz" | "$T" -r - -w "$tmp/ev-gzpipe.pcap" > /dev/null 2>&1
cmp -s "$tmp/ev-plain.pcap" "$tmp/ev-gz.pcap" && cmp -s "$tmp/ev-plain.pcap" "$tmp/ev-gzpipe.pcap" &&
	[ -s "$tmp/ev-plain.pcap" ] && ok "gzip: the same -w evidence (file and pipe)" || no "gzip: the same -w evidence"
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[len(d) // 2] ^= 0xff; open(sys.argv[2], 'wb').write(d)" \
	"$tmp/c.pcap.gz" "$tmp/bad.gz"
"$T" -r "$tmp/bad.gz" > /dev/null 2> "$tmp/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'gzip data damaged' "$tmp/bad.err" && ok "damaged gzip named, exit 2" ||
	no "damaged gzip: exit $rc, $(head -n 1 "$tmp/bad.err")"
if command -v xz >/dev/null 2>&1; then
	xz -c "$P" > "$tmp/c.xz"
	"$T" -r "$tmp/c.xz" > /dev/null 2> "$tmp/xz.err"
	rc=$?
	[ $rc -eq 2 ] && grep -q 'xzcat' "$tmp/xz.err" && ok "xz: the command that reads it" || no "xz: exit $rc, $(head -n 1 "$tmp/xz.err")"
fi

# ---- empty -----------------------------------------------------------------
: > "$tmp/empty.pcap"
"$T" -r "$tmp/empty.pcap" > /dev/null 2> "$tmp/empty.err"
rc=$?
[ $rc -eq 2 ] && grep -qx 'tlswhy: .*empty.pcap: empty file' "$tmp/empty.err" && ok "empty file" ||
	no "empty file: exit $rc, $(head -n 1 "$tmp/empty.err")"
"$T" -r - < /dev/null > /dev/null 2> "$tmp/empty2.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'empty file' "$tmp/empty2.err" && ok "empty standard input" ||
	no "empty standard input: exit $rc, $(head -n 1 "$tmp/empty2.err")"

# ---- pcapng, three link types ------------------------------------------------
# cooked FROM TO 113|276: the Ethernet frames of a classic pcap as Linux SLL / SLL2
cooked() {
	python3 - "$@" <<'EOF'
import struct, sys
src, dst, lt = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = open(src, "rb").read()
e = "<" if struct.unpack("<I", d[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
hdr = bytearray(d[:24]); struct.pack_into(e + "I", hdr, 20, lt)
out, o = [bytes(hdr)], 24
while o + 16 <= len(d):
    s, us, cl, wl = struct.unpack_from(e + "IIII", d, o); o += 16
    f = d[o:o + cl]; o += cl
    if lt == 113:
        h = struct.pack(">HHH", 0, 1, 6) + f[6:12] + b"\0\0" + f[12:14]
    else:
        h = f[12:14] + b"\0\0" + struct.pack(">IHBB", 2, 1, 0, 6) + f[6:12] + b"\0\0"
    out.append(struct.pack(e + "IIII", s, us, len(h) + cl - 14, wl - 14 + len(h)) + h + f[14:])
open(dst, "wb").write(b"".join(out))
EOF
}

if command -v mergecap >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1; then
	cooked pcaps/demo-alb-502.pcap "$tmp/sll.pcap" 113
	cooked pcaps/hs-alpn-h2-vs-http11-node.pcap "$tmp/sll2.pcap" 276
	mergecap -w "$tmp/m.pcapng" pcaps/alb-tls12-ok.pcap "$tmp/sll.pcap" "$tmp/sll2.pcap"
	"$T" -r "$tmp/m.pcapng" -F json > "$tmp/m.json" 2> "$tmp/m.err"
	rc=$?
	n=$(tshark -r "$tmp/m.pcapng" 2>/dev/null | wc -l)
	python3 - "$tmp/m.json" "$n" <<'EOF' && ok "pcapng Ethernet+SLL+SLL2: every packet, the three link types" || no "pcapng Ethernet+SLL+SLL2 read fully (exit $rc, $(head -n 1 "$tmp/m.err"))"
import json, sys
d = json.load(open(sys.argv[1]))
i = d["inputs"][0]
sys.exit(0 if i["packets"] == int(sys.argv[2]) and i["link_type"] == "EN10MB+LINUX_SLL+LINUX_SLL2" else 1)
EOF
	tshark -r "$tmp/m.pcapng" -T fields -e frame.number -e tls.handshake.type > "$tmp/m.tshark" 2>/dev/null
	python3 - "$tmp/m.json" "$tmp/m.tshark" <<'EOF' && ok "pcapng Ethernet+SLL+SLL2: handshakes and frame numbers are tshark's" || no "pcapng Ethernet+SLL+SLL2 against tshark"
import json, sys
d = json.load(open(sys.argv[1]))
ours = {(e["frame"], e["message_type"]) for c in d["connections"] for e in c["ladder"] if e["kind"] == "handshake"}
theirs = set()
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 2 and f[1]:
        theirs |= {(int(f[0]), int(t)) for t in f[1].split(",")}
if ours != theirs or len(ours) < 20:
    print("tlswhy only", sorted(ours - theirs), "tshark only", sorted(theirs - ours))
    sys.exit(1)
EOF
	"$T" -r "$tmp/m.pcapng" -F json "tcp port 8461" > "$tmp/mf.json" 2>/dev/null
	python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); p = {c['server']['port'] for c in d['connections']}
sys.exit(0 if p == {8461} else 1)" "$tmp/mf.json" && ok "pcapng: a filter on an SLL2 interface" || no "pcapng: a filter on an SLL2 interface"
	gzip -c "$tmp/m.pcapng" > "$tmp/m.pcapng.gz"
	cat "$tmp/m.pcapng.gz" | "$T" -r - -F json > "$tmp/mgz.json" 2>/dev/null
	same_report "$tmp/m.json" "$tmp/mgz.json" && ok "pcapng.gz through a pipe" || no "pcapng.gz through a pipe"
else
	echo "skip: mergecap/tshark not found, no multi-link pcapng"
fi

# ---- Decryption Secrets Block ------------------------------------------------
if command -v editcap >/dev/null 2>&1; then
	for n in alb-tls12-ok hs-alpn-h2-vs-http11-node hs-client-cert-tls12-node; do
		[ -f "pcaps/$n.keylog" ] || continue
		editcap --inject-secrets "tls,pcaps/$n.keylog" "pcaps/$n.pcap" "$tmp/$n.pcapng" 2>/dev/null
		"$T" -r "$tmp/$n.pcapng" -F json > "$tmp/$n.dsb.json" 2> "$tmp/$n.dsb.err"
		"$T" -r "pcaps/$n.pcap" --keylog "pcaps/$n.keylog" -F json > "$tmp/$n.kl.json" 2>/dev/null
		python3 - "$tmp/$n.dsb.json" "$tmp/$n.kl.json" <<'EOF' && ok "$n: secrets block decrypts as --keylog" || no "$n: secrets block decrypts as --keylog"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ca, cb = a["connections"], b["connections"]
sys.exit(0 if ca == cb and any(c.get("decrypted", {}).get("keys") for c in ca) else 1)
EOF
		secret=$(awk '{print $3; exit}' "pcaps/$n.keylog")
		! grep -qi "$secret" "$tmp/$n.dsb.json" "$tmp/$n.dsb.err" && ok "$n: no secret in the output" || no "$n: a secret in the output"
	done
	printf 'CLIENT_RANDOM zz 11\nCLIENT_RANDOM %064d abcd\nSERVER_TRAFFIC_SECRET_0 %064d %096d\n' 0 1 7 > "$tmp/garbage.keylog"
	editcap --inject-secrets "tls,$tmp/garbage.keylog" pcaps/alb-tls12-ok.pcap "$tmp/garbage.pcapng" 2>/dev/null
	"$T" -r "$tmp/garbage.pcapng" -F json > "$tmp/garbage.json" 2> "$tmp/garbage.err"
	rc=$?
	[ $rc -le 1 ] && grep -q 'secrets block 1:1: ' "$tmp/garbage.err" && ! grep -q '0000000000000007' "$tmp/garbage.err" "$tmp/garbage.json" &&
		python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); sys.exit(0 if d['connections'][0]['decrypted']['keys'] is False else 1)" "$tmp/garbage.json" &&
		ok "secrets block with garbage keys: named by line, no plaintext, no secret" ||
		no "secrets block with garbage keys: exit $rc, $(head -n 2 "$tmp/garbage.err")"
else
	echo "skip: editcap not found, no secrets blocks"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
