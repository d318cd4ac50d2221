#!/bin/bash
# reports.sh - the ticket-ready outputs: Markdown (rendered by cmark-gfm),
# JSON and JSON Lines (validated against docs/schema/ by python3-jsonschema),
# HTML (opened and screenshotted by headless Chromium), the evidence capture
# (-w, re-read by tlswhy and by tshark), hostile wire strings in every format,
# format inference from -o, exit statuses, the man page.
#
#   bash tests/reports.sh [./tlswhy]
# Last line: "N passed, N failed"; exit 1 when anything failed.
# The hostile captures in pcaps/hostile/ are made by `tests/hostile_gen.c
# --sni`; this test makes them again under build/ (never in the tree) and
# checks they equal the tracked ones.
set -u
cd "$(dirname "$0")/.."
T=${1:-./tlswhy}
case "$T" in /*) ;; *) T="$PWD/$T" ;; esac
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@" >"$tmp/check.out" 2>&1; then ok "$name"; else no "$name" "$(head -c 400 "$tmp/check.out")"; fi; }

DEMO=pcaps/demo-alb-502.pcap
OK=pcaps/tls12-ok.pcap
GEN=${B:-build}/reports
mkdir -p "$GEN"
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -I. -O2 -Wall -Wextra -o "$GEN/hostile_gen" tests/hostile_gen.c -lpcap &&
	"$GEN/hostile_gen" --sni pcaps/tls12-ok.pcap "$GEN/sni-ok.pcap" &&
	"$GEN/hostile_gen" --sni pcaps/client-rejects-wrong-name.pcap "$GEN/sni-rejected.pcap" &&
	cmp -s "$GEN/sni-ok.pcap" pcaps/hostile/sni-ok.pcap &&
	cmp -s "$GEN/sni-rejected.pcap" pcaps/hostile/sni-rejected.pcap &&
	ok "hostile captures generated (equal to pcaps/hostile/)" ||
	no "hostile captures generated (equal to pcaps/hostile/)"
HOSTILE="-r pcaps/hostile/sni-rejected.pcap -r pcaps/hostile/sni-ok.pcap"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- exit statuses and format selection -----------------------------------
for f in text markdown json jsonl html; do
	"$T" -r "$DEMO" --format $f >"$tmp/o" 2>"$tmp/e"; rc=$?
	[ $rc -eq 1 ] && ok "$f: failure exits 1" || no "$f: failure exits 1" "exit $rc $(head -c 200 "$tmp/e")"
	"$T" -r "$OK" --format $f >"$tmp/o" 2>"$tmp/e"; rc=$?
	[ $rc -eq 0 ] && ok "$f: healthy exits 0" || no "$f: healthy exits 0" "exit $rc"
done
"$T" -r "$DEMO" --format yaml >/dev/null 2>&1; [ $? -eq 2 ] && ok "unknown format exits 2" || no "unknown format exits 2"
infer() {   # infer EXT FIRST-BYTES-REGEX
	"$T" -r "$DEMO" -o "$tmp/r.$1" 2>/dev/null
	head -c 40 "$tmp/r.$1" | head -n 1 | grep -Eq "$2" && ok "-o .$1 picks the format" || no "-o .$1 picks the format" "$(head -c 60 "$tmp/r.$1")"
}
infer md '^# TLS handshakes'
infer markdown '^# TLS handshakes'
infer json '^\{"tlswhy":\{"version"'   # compact unless --pretty or a terminal
infer jsonl '^\{"type":"connection"'
infer ndjson '^\{"type":"connection"'
infer html '^<!DOCTYPE html>'
infer htm '^<!DOCTYPE html>'
infer txt '^TLS handshakes: '
infer JSON '^\{"tlswhy":'
"$T" -r "$DEMO" -o "$tmp/r.md" --format json 2>/dev/null
head -c 1 "$tmp/r.md" | grep -q '{' && ok "--format wins over the extension" || no "--format wins over the extension"
"$T" -r "$DEMO" -o "$tmp/r.unknown" 2>/dev/null
head -n 1 "$tmp/r.unknown" | grep -q '^TLS handshakes: ' && ok "unknown extension: text" || no "unknown extension: text"

# ---- Markdown --------------------------------------------------------------
"$T" -r "$DEMO" -F markdown -w "$tmp/ev.pcap" >"$tmp/demo.md" 2>/dev/null
cmark-gfm -e table "$tmp/demo.md" >"$tmp/demo.html" && ok "markdown: cmark-gfm renders it" || no "markdown: cmark-gfm renders it"
cat >"$tmp/tables.py" <<'PYEOF'
import sys, html.parser
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.tables=[]; s.row=None; s.code=[]; s.incode=False; s.tags=set()
    def handle_starttag(s, t, a):
        s.tags.add(t)
        if t == "table": s.tables.append([])
        elif t == "tr": s.row = 0
        elif t in ("td", "th"): s.row += 1
        elif t == "code" and dict(a).get("class") == "language-text": s.incode=True; s.code.append("")
    def handle_endtag(s, t):
        if t == "tr": s.tables[-1].append(s.row)
        if t == "code": s.incode=False
    def handle_data(s, d):
        if s.incode: s.code[-1] += d
p = P(); p.feed(open(sys.argv[1]).read())
bad = [i for i, t in enumerate(p.tables) if len(set(t)) != 1]
print("tables", len(p.tables), "rows", [len(t) for t in p.tables], "ragged", bad, "ladders", len(p.code))
# no element a wire string could have opened
assert not (p.tags & {"script", "iframe", "img", "a", "style", "object"} - {"a"} ), p.tags
assert not bad, "a table row has a different number of cells than its header"
assert len(p.tables) >= int(sys.argv[2]) and len(p.code) >= int(sys.argv[3])
for c in p.code:
    assert "FAILED HERE" in c and "client" in c and "server" in c, c
PYEOF
check "markdown: tables are whole, one ladder with the failing step" $PY "$tmp/tables.py" "$tmp/demo.html" 3 1
grep -q '^# TLS handshakes: FAILED — 3 of 4 connections failed' "$tmp/demo.md" && ok "markdown: headline verdict" || no "markdown: headline verdict" "$(head -n 1 "$tmp/demo.md")"
grep -q "SHA-256 \`$(sha "$DEMO")\`" "$tmp/demo.md" && ok "markdown: source SHA-256" || no "markdown: source SHA-256"
grep -q "SHA-256 \`$(sha "$tmp/ev.pcap")\`" "$tmp/demo.md" && ok "markdown: evidence file and SHA-256" || no "markdown: evidence file and SHA-256"
grep -q '^\*\*3 connections like this\*\*' "$tmp/demo.md" && [ "$(grep -c '^## [0-9]\. ' "$tmp/demo.md")" -eq 1 ] \
	&& ok "markdown: identical failures grouped in one section" || no "markdown: identical failures grouped in one section"
for s in '### Workarounds' '### Dead ends' '### References' '**Evidence**' '**Root cause.**' 'Knowledge base: `' '| Capture span |' '| Failed by cause |'; do
	grep -qF -- "$s" "$tmp/demo.md" && ok "markdown: has $s" || no "markdown: has $s"
done
grep -q '<pre><code class="language-nginx">' "$tmp/demo.html" && ok "markdown: commands in code blocks" || no "markdown: commands in code blocks"
"$T" -r "$DEMO" -F markdown --all >"$tmp/all.md" 2>/dev/null
grep -q '^## All connections (4)' "$tmp/all.md" && ok "markdown: --all lists every connection" || no "markdown: --all lists every connection"
"$T" -r "$OK" -F markdown >"$tmp/ok.md" 2>/dev/null
grep -q '^# TLS handshakes: OK' "$tmp/ok.md" && ! grep -q '^## 1\. ' "$tmp/ok.md" && ok "markdown: healthy capture, no failure section" || no "markdown: healthy capture, no failure section"
cat "$DEMO" | "$T" -r - -F markdown >"$tmp/stdin.md" 2>/dev/null
grep -A1 "^| Source file | standard input " "$tmp/stdin.md" | grep -q "^|  | SHA-256 \`$(sha "$DEMO")\`" && ok "markdown: SHA-256 of standard input as read" || no "markdown: SHA-256 of standard input as read"
# no raw HTML line break in a Markdown table: a value that breaks goes on in a row of its own
! grep -q '<br>' "$tmp/demo.md" "$tmp/stdin.md" "$tmp/all.md" && grep -A1 '^| Source file | ' "$tmp/demo.md" | grep -q '^|  | SHA-256 `' \
	&& ok "markdown: no <br> in table cells (the SHA-256 on a row of its own)" || no "markdown: no <br> in table cells" "$(grep -m2 '<br>' "$tmp/demo.md")"
! grep -qi 'jira' README.md report/markdown.c docs/tlswhy.1 && ok "no claim of a Jira format" || no "no claim of a Jira format"
# knowledge-base text marks code with backticks: <code> in HTML, plain in the text summary
"$T" -r pcaps/nginx-reject-no-sni.pcap -F html >"$tmp/kb.html" 2>/dev/null
"$T" -r pcaps/nginx-reject-no-sni.pcap -F text >"$tmp/kb.txt" 2>/dev/null
grep -q '<code>ssl_reject_handshake on</code>' "$tmp/kb.html" && ! grep -q '`ssl_reject_handshake' "$tmp/kb.html" \
	&& ok "html: knowledge-base \`code\` as <code>" || no "html: knowledge-base \`code\` as <code>"
grep -q '(nginx ssl_reject_handshake on in the default server' "$tmp/kb.txt" && ! grep -q '`' "$tmp/kb.txt" \
	&& ok "text: knowledge-base \`code\` without the backticks" || no "text: knowledge-base \`code\` without the backticks" "$(grep -m1 'ssl_reject' "$tmp/kb.txt")"
# grouping at scale: the same failing connection many times stays one section
$PY - "$DEMO" "$tmp/many.pcap" <<'PYEOF'
import struct, sys
raw = open(sys.argv[1], "rb").read(); head, body = raw[:24], raw[24:]
pk, off = [], 0
while off + 16 <= len(body):
    ts, tu, incl, orig = struct.unpack("<IIII", body[off:off+16]); pk.append((ts, tu, body[off+16:off+16+incl], orig)); off += 16 + incl
first = [p for p in pk][:10]   # connection 1 (frames 1-10): a failure
out = bytearray(head)
for i in range(200):
    for ts, tu, data, orig in first:
        d = bytearray(data); sport = 20000 + i   # a new client port per copy, Ethernet+IPv4+TCP
        if struct.unpack("!H", d[34:36])[0] != 44347: struct.pack_into("!H", d, 34, sport)
        else: struct.pack_into("!H", d, 36, sport)
        out += struct.pack("<IIII", ts + 10 * i, tu, len(d), orig) + d
open(sys.argv[2], "wb").write(out)
PYEOF
"$T" -r "$tmp/many.pcap" -F markdown >"$tmp/many.md" 2>/dev/null
[ "$(grep -c '^## [0-9]*\. ' "$tmp/many.md")" -eq 1 ] && grep -q '^\*\*200 connections like this\*\*.*and 188 more' "$tmp/many.md" \
	&& ok "markdown: 200 identical failures make one section" || no "markdown: 200 identical failures make one section" "$(grep -c '^## ' "$tmp/many.md") sections"

# ---- JSON and JSON Lines against the schemas -------------------------------
# every capture's reports first, then one validator run per format (its
# start-up is most of a small report's time); a bad file is named in its output
nj=0 bad=""
mkdir -p "$tmp/v"
for f in pcaps/*.pcap pcaps/hostile/*.pcap; do
	nj=$((nj + 1))
	"$T" -r "$f" --all -F json >"$tmp/v/$nj-$(basename "$f").json" 2>/dev/null
	"$T" -r "$f" --all -F jsonl >"$tmp/v/$nj-$(basename "$f").jsonl" 2>/dev/null
done
$PY tests/validate_json.py json "$tmp"/v/*.json >"$tmp/v.out" 2>&1 || bad="$bad json($(head -c 600 "$tmp/v.out"))"
$PY tests/validate_json.py jsonl "$tmp"/v/*.jsonl >"$tmp/v.out" 2>&1 || bad="$bad jsonl($(head -c 600 "$tmp/v.out"))"
[ -z "$bad" ] && ok "json + jsonl: $nj captures valid against docs/schema/" || no "json + jsonl valid against the schemas" "$bad"
"$T" -r "$DEMO" -F json -w "$tmp/ev.pcap" >"$tmp/d.json" 2>/dev/null
check "json: with evidence, valid" $PY tests/validate_json.py json "$tmp/d.json"
$PY -c "import json,sys; d=json.load(open('$tmp/d.json')); d['connections'][0]['stage']='exploded'; json.dump(d,open('$tmp/broken.json','w'))"
! $PY tests/validate_json.py json "$tmp/broken.json" >/dev/null 2>&1 && ok "json: the schema rejects a wrong stage" || no "json: the schema rejects a wrong stage"
$PY - "$tmp/d.json" "$(sha "$DEMO")" "$(sha "$tmp/ev.pcap")" >"$tmp/c.out" 2>&1 <<'PYEOF' && ok "json: input and evidence SHA-256, findings" || no "json: input and evidence SHA-256, findings" "$(cat "$tmp/c.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["inputs"][0]["sha256"] == sys.argv[2]
assert d["evidence"]["sha256"] == sys.argv[3] and d["evidence"]["connections"] == 3
assert sum(1 for c in d["connections"] if c["findings"]) == 3
PYEOF
"$T" -r "$DEMO" -F jsonl -w "$tmp/ev.pcap" >"$tmp/d.jsonl" 2>/dev/null
[ "$(wc -l <"$tmp/d.jsonl")" -eq 5 ] && tail -n 1 "$tmp/d.jsonl" | grep -q '^{"type":"summary"' && ok "jsonl: one line per connection, then the summary" || no "jsonl: one line per connection, then the summary"
check "jsonl: valid" $PY tests/validate_json.py jsonl "$tmp/d.jsonl"

# ---- lean JSON Lines (--detail), compact JSON (--pretty) -------------------
# every healthy connection of every bundled capture: a lean line of at most
# 1 KiB. Where the connection's own strings would make it longer (pcaps/hostile/
# lengthens the SNI on purpose), they are cut to fit and "cut": true says so;
# a line that is not cut is the JSON document's lean object exactly, and a cut
# one has the same keys, each cut string a prefix of the whole one plus "…"
bad= nlean=0 ncut=0
for f in pcaps/*.pcap pcaps/*.pcapng pcaps/*/*.pcap pcaps/*/*.pcapng; do
	[ -f "$f" ] || continue
	"$T" -r "$f" -F jsonl >"$tmp/l.jsonl" 2>/dev/null
	"$T" -r "$f" -F json --detail lean >"$tmp/l.json" 2>/dev/null
	out=$($PY - "$tmp/l.jsonl" "$tmp/l.json" <<'PYEOF'
import json, sys
whole = {}
try:
    for c in json.load(open(sys.argv[2]))["connections"]:
        whole[c["id"]] = c
except (ValueError, KeyError):
    pass
n = cut = 0
def prefix_ok(a, b):
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.endswith("\u2026") and b.startswith(a[:-1]) and len(a.encode()) < len(b.encode()) + 3
    if isinstance(a, list) and isinstance(b, list):
        return len(a) <= len(b) and all(prefix_ok(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(prefix_ok(a[k], b[k]) for k in a)
    return False
for raw in open(sys.argv[1], "rb").read().split(b"\n"):
    if not raw:
        continue
    d = json.loads(raw)
    if d["type"] != "connection":
        continue
    want = "lean" if d["verdict"] == "healthy" else "full"
    if d["detail"] != want:
        print("BAD %s line is %s" % (d["verdict"], d["detail"]))
    if want != "lean":
        continue
    n += 1
    if len(raw) + 1 > 1024:
        print("BAD %d bytes" % (len(raw) + 1))
    w = dict(whole.get(d["id"], {}))
    body = {k: v for k, v in d.items() if k not in ("type", "schema", "cut")}
    if "cut" in d:
        cut += 1
        if d["cut"] is not True or not prefix_ok(body, w):
            print("BAD cut line %d is not the whole object, shortened" % d["id"])
    elif body != w:
        print("BAD line %d differs from the document's lean object" % d["id"])
print(n, cut)
PYEOF
)
	case "$out" in *BAD*) bad="$bad $f:$(echo $out | head -c 80)" ;; *) read -r a b <<<"$out"; nlean=$((nlean + ${a:-0})); ncut=$((ncut + ${b:-0})) ;; esac
	$PY tests/validate_json.py jsonl "$tmp/l.jsonl" >/dev/null 2>&1 || bad="$bad $f:invalid"
done
[ -z "$bad" ] && [ "$nlean" -ge 20 ] && [ "$ncut" -ge 1 ] && ok "jsonl: $nlean healthy connections as lean lines of at most 1 KiB ($ncut cut to fit), the rest whole, all valid" \
	|| no "jsonl: lean lines of at most 1 KiB" "$nlean lean, $ncut cut;$bad"
# a failed connection keeps everything: its line is the --detail full line
"$T" -r "$DEMO" -F jsonl >"$tmp/lean.jsonl" 2>/dev/null
"$T" -r "$DEMO" -F jsonl --detail full >"$tmp/full.jsonl" 2>/dev/null
$PY - "$tmp/lean.jsonl" "$tmp/full.jsonl" >"$tmp/c.out" 2>&1 <<'PYEOF' && ok "jsonl: failed connections whole, the healthy one lean; --detail full: all whole" || no "jsonl: failed connections whole" "$(cat "$tmp/c.out")"
import json, sys
lean = open(sys.argv[1]).read().splitlines()
full = open(sys.argv[2]).read().splitlines()
assert len(lean) == len(full) == 5
kinds = []
for a, b in zip(lean[:-1], full[:-1]):
    da, db = json.loads(a), json.loads(b)
    assert db["detail"] == "full" and "ladder" in db and "client_hello" in db, db.keys()
    if da["verdict"] == "failed":
        assert a == b, "a failed connection's line differs from --detail full"
        assert da["findings"] and da["findings"][0]["workarounds"] is not None
    kinds.append((da["verdict"], da["detail"]))
assert kinds.count(("failed", "full")) == 3 and kinds.count(("healthy", "lean")) == 1, kinds
l = json.loads(lean[1]) if json.loads(lean[1])["detail"] == "lean" else [json.loads(x) for x in lean if '"lean"' in x][0]
for k in ("community_id", "sni", "ja3", "ja4", "ja3s", "version_name", "cipher_suite_name", "certificate", "start_time"):
    assert k in l, k
PYEOF
# --detail lean in the document too; --detail takes lean or full only
"$T" -r "$DEMO" -F json --detail lean >"$tmp/lean.json" 2>/dev/null
check "json --detail lean: valid" $PY tests/validate_json.py json "$tmp/lean.json"
"$T" -r "$DEMO" --detail some >/dev/null 2>&1; [ $? -eq 2 ] && ok "--detail some: usage error" || no "--detail some: usage error"
# --pretty is the compact document indented: the same bytes once the
# whitespace outside strings is taken out, and the same values. Every
# bundled capture: a compact ladder event is built by its own code
# (report/json.c, ladder_event_compact), the indented one by the writer's
bad=
for f in pcaps/*.pcap pcaps/crafted/*.pcap pcaps/hostile/*.pcap; do
	"$T" -r "$f" -F json >"$tmp/c.json" 2>/dev/null
	"$T" -r "$f" -F json --pretty >"$tmp/p.json" 2>/dev/null
	$PY - "$tmp/c.json" "$tmp/p.json" >"$tmp/c.out" 2>&1 <<'PYEOF' || bad="$bad $f"
import json, sys
c, p = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert c.count(b"\n") == 1 and c.endswith(b"}\n"), "compact: one line"
assert p.count(b"\n") > 50, "pretty: indented"
out, instr, esc = bytearray(), False, False
for ch in p:
    if instr:
        out.append(ch)
        if esc: esc = False
        elif ch == 0x5c: esc = True
        elif ch == 0x22: instr = False
    elif ch == 0x22:
        instr = True; out.append(ch)
    elif ch not in b" \n":
        out.append(ch)
assert bytes(out) + b"\n" == c, "pretty minus whitespace differs from compact"
assert json.loads(c) == json.loads(p)
PYEOF
done
[ -z "$bad" ] && ok "json: compact by default, --pretty is the same document indented" || no "json --pretty == reformatted compact" "$bad $(head -c 300 "$tmp/c.out")"
# fragments replayed (a hello's members, a chain's certificates, the
# fingerprints, the ECS leaf and suites, knowledge-base text) are the bytes
# rendering them gives; members built in place (jw_members: a connection's
# head, its TCP statistics...) and a report held in the writer's 256 KiB
# (jw_stream) are the bytes of the writer's member calls through stdio:
# every bundled capture, each way and the default
bad= badj=
for f in pcaps/*.pcap pcaps/crafted/*.pcap pcaps/hostile/*.pcap; do
	for a in "-F json" "-F jsonl --detail full" "-F jsonl" "-F ecs" "-F ecs --detail full"; do
		"$T" -r "$f" --all $a >"$tmp/fc1" 2>/dev/null
		TLSWHY_FRAGMENT_CACHE=0 "$T" -r "$f" --all $a >"$tmp/fc0" 2>/dev/null
		cmp -s "$tmp/fc1" "$tmp/fc0" || bad="$bad $f($a)"
		TLSWHY_FAST_JSON=0 "$T" -r "$f" --all $a >"$tmp/fc0" 2>/dev/null
		cmp -s "$tmp/fc1" "$tmp/fc0" || badj="$badj $f($a)"
	done
done
[ -z "$bad" ] && ok "json, jsonl, ecs: replayed fragments are the rendered bytes, every capture" || no "fragment cache changes a report" "$bad"
[ -z "$badj" ] && ok "json, jsonl, ecs: members built in place and the streamed report are the writer's bytes, every capture" || no "TLSWHY_FAST_JSON=0 changes a report" "$badj"
bad= badj=

# ---- HTML ------------------------------------------------------------------
"$T" -r "$DEMO" -F html -w "$tmp/ev.pcap" --all >"$tmp/demo.html5" 2>/dev/null
! grep -Eiq '<script|<link|<iframe|<img|src=|@import|url\(http' "$tmp/demo.html5" && ok "html: self-contained, no scripts" || no "html: self-contained, no scripts"
[ "$(grep -c '<svg class="ladder"' "$tmp/demo.html5")" -eq 1 ] && grep -q 'failed here' "$tmp/demo.html5" && ok "html: an SVG ladder per failure group, failing step marked" || no "html: an SVG ladder per failure group"
$PY -c "import sys,xml.dom.minidom as m; import re; s=open('$tmp/demo.html5').read(); [m.parseString(x) for x in re.findall(r'<svg.*?</svg>', s, re.S)]" \
	&& ok "html: the SVG is well-formed XML" || no "html: the SVG is well-formed XML"
if command -v chromium >/dev/null 2>&1; then
	for h in demo hostile; do
		if [ $h = hostile ]; then "$T" $HOSTILE -F html --all -o "$tmp/$h.html" 2>/dev/null; else cp "$tmp/demo.html5" "$tmp/$h.html"; fi
		# without the compositor flags a screenshot is sometimes taken before the first
		# paint (blank); a second try covers a slow machine
		for try in 1 2; do
			rm -f "$tmp/$h.png"
			timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
				--disable-background-networking --disable-component-update --disable-sync \
				--run-all-compositor-stages-before-draw --virtual-time-budget=3000 --hide-scrollbars \
				--user-data-dir="$(mktemp -d -p "$tmp")" --screenshot="$tmp/$h.png" --window-size=1200,1600 \
				"file://$tmp/$h.html" >"$tmp/chr.out" 2>&1
			$PY tests/png_check.py "$tmp/$h.png" >/dev/null 2>&1 && break
		done
		check "html: headless Chromium renders the $h report (non-blank screenshot)" $PY tests/png_check.py "$tmp/$h.png"
	done
	[ -n "${KEEP_SCREENSHOT:-}" ] && cp "$tmp/demo.png" "$KEEP_SCREENSHOT"
else
	no "html: chromium installed (scripts/deps.sh test)"
fi

# ---- evidence capture ------------------------------------------------------
failed_set() {   # the failed connections of a capture, by their endpoints, from tlswhy's JSON
	"$T" -r "$1" --all -F json 2>/dev/null | $PY -c "
import json,sys; d=json.load(sys.stdin)
print(' '.join(sorted('%s:%d-%s:%d' % (c['client']['ip'],c['client']['port'],c['server']['ip'],c['server']['port']) for c in d['connections'] if c['findings'])))
print(len(d['connections']))"
}
"$T" -r "$DEMO" -w "$tmp/ev.pcap" >/dev/null 2>&1
orig=$(failed_set "$DEMO"); orig=${orig%%$'\n'*}
evs=$(failed_set "$tmp/ev.pcap")
[ "$(echo "$evs" | head -n 1)" = "$orig" ] && [ "$(echo "$evs" | tail -n 1)" -eq 3 ] && ok "evidence: re-read by tlswhy, the same 3 failed connections and only those" \
	|| no "evidence: re-read by tlswhy" "$evs vs $orig"
ts=$(tshark -r "$tmp/ev.pcap" -T fields -e tcp.srcport -e tcp.dstport 2>/dev/null | awk '{print ($1<$2)?$1"-"$2:$2"-"$1}' | sort -u | tr '\n' ' ')
want=$(echo "$orig" | tr ' ' '\n' | sed -E 's/.*:([0-9]+)-.*:([0-9]+)/\1 \2/' | awk '{print ($1<$2)?$1"-"$2:$2"-"$1}' | sort -u | tr '\n' ' ')
[ "$ts" = "$want" ] && ok "evidence: tshark sees the same connections" || no "evidence: tshark sees the same connections" "$ts vs $want"
n_ev=$(tshark -r "$tmp/ev.pcap" 2>/dev/null | wc -l)
n_orig=$(tshark -r "$DEMO" -Y "$(echo "$want" | sed -E 's/([0-9]+)-([0-9]+)/(tcp.port==\1 \&\& tcp.port==\2)/g; s/\) \(/) || (/g')" 2>/dev/null | wc -l)
[ "$n_ev" -eq "$n_orig" ] && [ "$n_ev" -gt 0 ] && ok "evidence: every packet of those connections ($n_ev), in order" || no "evidence: every packet of those connections" "$n_ev vs $n_orig"
tshark -r "$tmp/ev.pcap" -T fields -e frame.time_epoch 2>/dev/null | sort -c -n && ok "evidence: capture order" || no "evidence: capture order"
[ "$(od -An -tx1 -j20 -N4 "$tmp/ev.pcap" | tr -d ' ')" = "$(od -An -tx1 -j20 -N4 "$DEMO" | tr -d ' ')" ] && ok "evidence: original link type" || no "evidence: original link type"
"$T" -r "$DEMO" -w "$tmp/all.pcap" --all >/dev/null 2>&1
[ "$(tshark -r "$tmp/all.pcap" 2>/dev/null | wc -l)" -eq "$(tshark -r "$DEMO" 2>/dev/null | wc -l)" ] && ok "evidence: --all keeps every reported connection" || no "evidence: --all keeps every reported connection"
cat "$DEMO" | "$T" -r - -w "$tmp/ev-stdin.pcap" >/dev/null 2>&1
cmp -s "$tmp/ev-stdin.pcap" "$tmp/ev.pcap" && ok "evidence: from standard input (spooled), identical" || no "evidence: from standard input, identical"
"$T" -r "$DEMO" -w "$tmp/ev-f.pcap" 'tcp port 44347' >/dev/null 2>&1
fs=$(failed_set "$tmp/ev-f.pcap"); [ "${fs%%$'\n'*}" = "$orig" ] && ok "evidence: with a BPF filter, frames line up" || no "evidence: with a BPF filter"
"$T" -r "$OK" -w "$tmp/none.pcap" >/dev/null 2>&1
[ "$(capinfos -c -M "$tmp/none.pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')" = "0" ] && ok "evidence: nothing failed, an empty valid capture" || no "evidence: nothing failed, an empty valid capture"
cp "$DEMO" "$tmp/in.pcap"
"$T" -r "$tmp/in.pcap" -w "$tmp/in.pcap" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && cmp -s "$tmp/in.pcap" "$DEMO" && ok "evidence: refuses to overwrite its input" || no "evidence: refuses to overwrite its input" "exit $rc"

# ---- hostile strings, every format -----------------------------------------
# text: no control byte but newline from the wire reaches the terminal
"$T" $HOSTILE --all --color never >"$tmp/h.txt" 2>&1
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/h.txt" && grep -q 'x1b\[31mEVIL' "$tmp/h.txt" && ok "hostile text: no control bytes, escapes shown" || no "hostile text: no control bytes"
"$T" $HOSTILE --all --color always >"$tmp/hc.txt" 2>&1
! LC_ALL=C grep -a 'EVIL' "$tmp/hc.txt" | grep -q $'\x1b\]0;\|\x07\|\x1b\[31mEVIL' && ok "hostile text, colour on: only tlswhy's own escapes" || no "hostile text, colour on"
# markdown: rendered, no element or raw HTML from the wire, tables intact
"$T" $HOSTILE --all -F markdown >"$tmp/h.md" 2>/dev/null
! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/h.md" && ok "hostile markdown: no control bytes" || no "hostile markdown: no control bytes"
cmark-gfm -e table "$tmp/h.md" >"$tmp/h.md.html"
check "hostile markdown: tables whole after rendering" $PY "$tmp/tables.py" "$tmp/h.md.html" 3 1
! grep -qi '<script\|javascript:alert(1)"\|<a href="javascript' "$tmp/h.md.html" && grep -q '&lt;script&gt;alert(1)' "$tmp/h.md.html" \
	&& ok "hostile markdown: <script> and links neutralised, text kept" || no "hostile markdown: <script> and links neutralised"
grep -q '\\x1b\[31mEVIL' "$tmp/h.md.html" && ok "hostile markdown: escapes visible after rendering" || no "hostile markdown: escapes visible after rendering"
# json / jsonl: valid UTF-8, invalid bytes replaced, control bytes escaped, round-trips
for f in json jsonl; do
	"$T" $HOSTILE --all -F $f >"$tmp/h.$f" 2>/dev/null
	check "hostile $f: valid against the schema (strict UTF-8)" $PY tests/validate_json.py $f "$tmp/h.$f"
done
$PY - "$tmp/h.json" >"$tmp/c.out" 2>&1 <<'PYEOF' && ok "hostile json: SNI round-trips, invalid UTF-8 as U+FFFD" || no "hostile json: SNI round-trips" "$(cat "$tmp/c.out")"
import json, sys
d = json.load(open(sys.argv[1]))
sni = [c["client_hello"]["sni"] for c in d["connections"] if c["client_hello"]]
assert len(sni) == 2, sni
for s in sni:
    assert s.startswith("\x1b[31mEVIL\x1b[0m\x1b]0;pwned\x07\r\nline2|pipe|`tick`<script>alert(1)</script>"), repr(s)
    assert "\ufffd" in s and s.endswith("end"), repr(s)
PYEOF
# html: nothing from the wire becomes markup
"$T" $HOSTILE --all -F html >"$tmp/h.html" 2>/dev/null
! grep -qi '<script' "$tmp/h.html" && grep -q '&#60;script&#62;alert(1)' "$tmp/h.html" && ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/h.html" \
	&& ok "hostile html: <script> as text, no control bytes" || no "hostile html: <script> as text"
$PY -c "open('$tmp/h.html','rb').read().decode('utf-8')" && ok "hostile html: valid UTF-8" || no "hostile html: valid UTF-8"

# ---- progress line and colour on a terminal (script(1) gives a tty) --------
if command -v script >/dev/null 2>&1; then
	$PY - "$OK" "$tmp/big.pcap" <<'PYEOF'
import sys
raw = open(sys.argv[1], "rb").read(); body = raw[24:]
with open(sys.argv[2], "wb") as f:
    f.write(raw[:24])
    for i in range(6 * 1024 * 1024 // len(body) + 1): f.write(body)
PYEOF
	# a 6 MB file reads in milliseconds: TLSWHY_PROGRESS_MS=0 shows every update
	TLSWHY_PROGRESS_MS=0 script -qec "$T -r $tmp/big.pcap -F json -o /dev/null" /dev/null >"$tmp/tty.out" 2>&1
	grep -aq '%.*packets/s.*ETA' "$tmp/tty.out" && ok "progress line on a terminal for a large file" || no "progress line on a terminal" "$(head -c 200 "$tmp/tty.out" | cat -v)"
	script -qec "$T -r $OK -F json" /dev/null >"$tmp/tty.json" 2>&1
	[ "$(grep -c '^      "id": 1,' "$tmp/tty.json")" = 1 ] && ok "json on a terminal: indented" || no "json on a terminal: indented" "$(head -c 100 "$tmp/tty.json" | cat -v)"
	TLSWHY_PROGRESS_MS=0 "$T" -r "$tmp/big.pcap" -F json -o /dev/null 2>"$tmp/notty.err"
	[ ! -s "$tmp/notty.err" ] && ok "no progress line when stderr is not a terminal" || no "no progress line when stderr is not a terminal"
	script -qec "$T -r $DEMO" /dev/null >"$tmp/tty.txt" 2>&1
	grep -aq $'\x1b\[' "$tmp/tty.txt" && ok "colour on a terminal" || no "colour on a terminal"
	NO_COLOR=1 script -qec "$T -r $DEMO" /dev/null >"$tmp/tty.txt" 2>&1
	! grep -aq $'\x1b\[3' "$tmp/tty.txt" && ok "NO_COLOR turns colour off" || no "NO_COLOR turns colour off"
fi

# ---- man page, --help, --version --------------------------------------------
if [ -f docs/tlswhy.1 ]; then
	LC_ALL=C.UTF-8 MANWIDTH=80 man -l docs/tlswhy.1 >"$tmp/man.txt" 2>"$tmp/man.err"
	grep -q 'EXIT STATUS' "$tmp/man.txt" && ! grep -q 'warning' "$tmp/man.err" && ok "man page renders" || no "man page renders" "$(head -c 300 "$tmp/man.err")"
	for o in --format -o -w --all --rules; do grep -q -- "$o" "$tmp/man.txt" || { no "man page documents $o"; continue; }; ok "man page documents $o"; done
else
	no "docs/tlswhy.1 exists"
fi
"$T" --help | grep -q 'markdown, json, jsonl, html or ecs' && ok "--help lists the formats" || no "--help lists the formats"
"$T" --help | grep -q -- '-w FILE' && ok "--help documents -w" || no "--help documents -w"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
