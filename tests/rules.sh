#!/bin/bash
# rules.sh - the rules engine end to end, with the real binary:
#   1. every "rule" case of tests/TESTLIST: the diagnosis and the notes of
#      each connection of a recorded capture (or of a capture derived from
#      one with tcpdump/editcap/mergecap or pcaps/craft, see the file's head);
#   2. coverage: every rule matches on some case, or is listed as uncovered
#      with the capture it needs;
#   3. `tlswhy rules list|check|show|kb|facts` and `--rules` exit statuses and
#      the exact error line for a bad file.
#
#   bash tests/rules.sh [./tlswhy]
# The last line is "N passed, N failed"; exit 1 when anything failed.
set -u
cd "$(dirname "$0")/.."
. tests/testlist.sh
TLSWHY=${1:-${TLSWHY:-./tlswhy}}
P=pcaps
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

if [ ! -x "$TLSWHY" ]; then
	echo "FAIL: $TLSWHY is not built"
	echo "0 passed, 1 failed"
	exit 1
fi

# Derives a capture described in the case file; prints its path.
derive() {
	local spec=$1 kind args f out
	kind=${spec%%(*}
	args=${spec#*(}
	args=${args%)}
	f=$P/${args%%,*}
	out=$tmp/$(printf '%s' "$spec" | tr -c 'A-Za-z0-9.-' '_').pcap
	case "$kind" in
	one-sided)
		local port
		port=$(tshark -r "$f" -c 1 -T fields -e tcp.dstport 2>/dev/null)
		tcpdump -r "$f" -w "$out" "tcp dst port $port" 2>/dev/null ;;
	snaplen)
		editcap -s "${args#*,}" "$f" "$out" >/dev/null 2>&1 ;;
	frames)
		editcap -r "$f" "$out" "${args#*,}" >/dev/null 2>&1 ;;
	craft)
		# craft(FILE,TRANSFORMATION): pcaps/craft's transformation of it
		"${B:-build}/craft" -t "${args#*,}" -m "$tmp/craft.tsv" -o "$out" "$f" 2>/dev/null ;;
	delay)
		local rest=${args#*,} from secs
		from=${rest%%,*}
		secs=${rest#*,}
		editcap -r "$f" "$tmp/a.pcap" "1-$((from - 1))" >/dev/null 2>&1 &&
		editcap -r "$f" "$tmp/b.pcap" "$from-1000000" >/dev/null 2>&1 &&
		editcap -t "$secs" "$tmp/b.pcap" "$tmp/b2.pcap" >/dev/null 2>&1 &&
		mergecap -a -w "$out" "$tmp/a.pcap" "$tmp/b2.pcap" 2>/dev/null ;;
	*)
		return 1 ;;
	esac
	[ -s "$out" ] && printf '%s' "$out"
}

# --- 1. cases -------------------------------------------------------------
declare -A got_cache
: > "$tmp/matched"
while IFS=$'\t' read -r cap conn want_diag want_notes status; do
	if [ -z "${got_cache[$cap]+x}" ]; then
		kl=()
		if [ -f "$P/$cap" ]; then
			file=$P/$cap
		elif [ "${cap%%(*}" = keylog ]; then
			# keylog(FILE): the capture read with its key log, pcaps/FILE's .keylog
			file=${cap#keylog(}
			file=$P/${file%)}
			kl=(--keylog "${file%.pcap}.keylog")
		else
			file=$(derive "$cap") || file=""
		fi
		if [ -z "$file" ]; then
			got_cache[$cap]="ERROR cannot read or derive $cap"
		else
			# one line per connection: id, diagnosis, notes, also-matched
			got_cache[$cap]=$("$TLSWHY" -r "$file" "${kl[@]}" --format json 2>"$tmp/err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["connections"]:
    fs = c.get("findings", []); ns = c.get("notes", [])
    diag = fs[0]["rule"] if fs else "-"
    # a differential: the diagnosis then its candidates, "|"-separated
    cands = [x["rule"] for x in fs[0].get("differential", [])] if fs else []
    diag = "|".join([diag] + cands)
    notes = ",".join(n["rule"] for n in ns) or "-"
    also = ",".join((fs[0].get("also_matched") or []) + cands) if fs else ""
    print("%s\t%s\t%s\t%s" % (c["id"], diag, notes, also))
' 2>&1) || got_cache[$cap]="ERROR $(head -c 300 "$tmp/err")"
		fi
		printf '%s\n' "${got_cache[$cap]}" | awk -F'\t' '{split($2,dd,"|"); print dd[1]; n=split($3,a,","); for(i=1;i<=n;i++) print a[i]; m=split($4,b,","); for(i=1;i<=m;i++) print b[i]}' >> "$tmp/matched"
	fi
	line=$(printf '%s\n' "${got_cache[$cap]}" | awk -F'\t' -v c="$conn" '$1 == c')
	got_diag=$(printf '%s' "$line" | cut -f2)
	got_notes=$(printf '%s' "$line" | cut -f3)
	what="$cap #$conn: diagnosis $want_diag, notes $want_notes"
	if [ "$got_diag" = "$want_diag" ] && [ "$got_notes" = "$want_notes" ]; then
		case "$status" in
		xfail:*) bad "$what (passes now: remove the xfail)" ;;
		*) ok "$what" ;;
		esac
	else
		case "$status" in
		xfail:*) ok "$what (expected failure: ${status#xfail:}; got ${got_diag:-nothing})" ;;
		*) bad "$what; got diagnosis ${got_diag:-nothing}, notes ${got_notes:-nothing}${line:+}$( [ -z "$line" ] && printf ' (%s)' "$(printf '%s' "${got_cache[$cap]}" | head -c 200)")" ;;
		esac
	fi
done < <(testlist rule)

# --- 2. coverage ------------------------------------------------------------
"$TLSWHY" rules list > "$tmp/list" 2>&1 || bad "tlswhy rules list exits non-zero"
awk 'NR > 1 { print $1 }' "$tmp/list" > "$tmp/ids"
testlist uncovered | cut -f1 > "$tmp/uncovered"
while read -r id; do
	if grep -qxF -- "$id" "$tmp/matched"; then
		if grep -qxF -- "$id" "$tmp/uncovered"; then
			bad "rule $id matches a capture now: remove it from the uncovered list"
		else
			ok "rule $id matches a capture"
		fi
	elif grep -qxF -- "$id" "$tmp/uncovered"; then
		ok "rule $id has no capture yet (listed: $(testlist uncovered | awk -F'\t' -v i="$id" '$1==i {print $2}'))"
	else
		bad "rule $id matches no capture and is not listed as uncovered"
	fi
done < "$tmp/ids"
while read -r id; do
	grep -qxF -- "$id" "$tmp/ids" || bad "uncovered list names $id, which is not a rule"
done < "$tmp/uncovered"

# --- 3. the command line ----------------------------------------------------
expect() {   # expect STATUS DESCRIPTION CMD...
	local want=$1 what=$2 rc
	shift 2
	"$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, want $want"; fi
}
expect 0 "rules list" "$TLSWHY" rules list
expect 0 "rules facts" "$TLSWHY" rules facts
expect 0 "rules kb" "$TLSWHY" rules kb
expect 0 "rules kb api/http-502-bad-gateway-aws-alb-ssl-handshake" "$TLSWHY" rules kb api/http-502-bad-gateway-aws-alb-ssl-handshake
grep -q "DISPUTED" "$tmp/out" && ok "the imported kb entry shows its disputes" || bad "no DISPUTED line in rules kb output"
expect 0 "rules show alb-target-needs-tls13" "$TLSWHY" rules show alb-target-needs-tls13
expect 2 "rules show of an unknown rule" "$TLSWHY" rules show no-such-rule
expect 0 "rules check tests/rules/good.rules" "$TLSWHY" rules check tests/rules/good.rules
grep -q "tests/rules/good.rules: ok (1 rules, 1 kb entries, 1 lists)" "$tmp/out" && ok "rules check prints the counts" || bad "rules check output: $(cat "$tmp/out")"
expect 0 "rules list --rules tests/rules/good.rules" "$TLSWHY" rules list --rules tests/rules/good.rules
grep -q "^local-legacy-client " "$tmp/out" && ok "a --rules file's rule is listed" || bad "local-legacy-client not listed"
expect 2 "rules check of a bad file" "$TLSWHY" rules check tests/rules/unknown-fact.rules
want=$(testlist rule-error | awk -F'\t' '$1 == "tests/rules/unknown-fact.rules" { print $2 }')
[ "$(cat "$tmp/err")" = "tlswhy: $want" ] && ok "bad file: exact error line on stderr, after tlswhy:" || bad "bad file: stderr '$(cat "$tmp/err")', want '$want'"
expect 2 "rules check of a missing file" "$TLSWHY" rules check tests/rules/no-such.rules
expect 2 "-r with --rules of a bad file" "$TLSWHY" -r $P/tls12-ok.pcap --rules tests/rules/bad-operator.rules
grep -q '^tlswhy: tests/rules/bad-operator.rules:[0-9]*: ' "$tmp/err" && ok "-r --rules: the error line starts with tlswhy:" \
	|| bad "-r --rules: error line '$(cat "$tmp/err")'"
expect 2 "rules with an unknown subcommand" "$TLSWHY" rules frobnicate
expect 1 "a user rule file applied to a capture (a failure diagnosed)" \
	"$TLSWHY" -r $P/tls11-only-vs-tls12-client.pcap --rules tests/rules/good.rules

# A kb entry's evidence line whose every fact has no value in the connection
# is left out (its literal text around "(none)"s says nothing); a line with
# one value left is kept, and so are the rule's own lines as written.
cat > "$tmp/absent.rules" <<'RULES'
kb local/absent-lines
  title       Evidence lines and absent facts
  side        server
  confidence  low
  basis       inference
  root_cause  A test of the evidence lines.
  evidence    Offered: {ch.suites}
  evidence    Alert {alert.description} in frame {alert.frame}
  evidence    Alert {alert.description}; ClientHello in frame {ch.frame}
end

rule local-absent-lines
  title     Evidence lines and absent facts
  kb        local/absent-lines
  severity  warning
  when      complete is true
  evidence  Rule line: alert {alert.description}
end
RULES
"$TLSWHY" -r $P/tls12-ok.pcap --rules "$tmp/absent.rules" -F json > "$tmp/absent.json" 2>/dev/null
got=$(python3 -c 'import json,re,sys
lines = [e["text"] for c in json.load(open(sys.argv[1]))["connections"]
         for f in c["findings"] if f["rule"] == "local-absent-lines" for e in f["evidence"]]
want = [r"Rule line: alert \(none\)", r"Offered: TLS_\S.*", r"Alert \(none\); ClientHello in frame [0-9]+"]
ok = len(lines) == len(want) and all(re.fullmatch(w, l) for w, l in zip(want, lines))
print("ok" if ok else " | ".join(lines))' "$tmp/absent.json")
if [ "$got" = ok ]; then
	ok "a kb line with no value left out; the partial line and the rule's own line kept"
else
	bad "evidence lines with absent facts: '$got'"
fi

# Rule files load in time linear in their size (issue 16): 4 MB of '|'
# continuation lines against 4 MB of comments, in the same run. Quadratic
# appending took 6 s here; linear takes milliseconds.
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
head = ["kb tls/cont-test", "  title T", "  side server", "  confidence low", "  basis vendor", "  root_cause R"]
body = ["  | " + "x" * 60] * 61000
open(d + "/cont.rules", "w").write("\n".join(head + body + ["end"]) + "\n")
open(d + "/flat.rules", "w").write("\n".join(head + ["# " + "x" * 62] * 61000 + ["end"]) + "\n")
PY
ms() { local s e; s=$(date +%s%N); "$TLSWHY" rules check "$1" > /dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
cont_ms=$(ms "$tmp/cont.rules"); flat_ms=$(ms "$tmp/flat.rules")
"$TLSWHY" rules check "$tmp/cont.rules" 2>&1 | grep -q ': ok (0 rules, 1 kb entries' && ok "a 4 MB run of continuation lines loads" || bad "4 MB continuation file did not load"
[ "$cont_ms" -le $((10 * flat_ms + 300)) ] && ok "continuation lines load in linear time (${cont_ms} ms vs ${flat_ms} ms of comments)" ||
	bad "continuation lines: ${cont_ms} ms vs ${flat_ms} ms for the same size of comments"

echo "rules: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
