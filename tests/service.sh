#!/bin/bash
# service.sh - tlswhy as a fleet service: the systemd unit, logrotate,
# SIGHUP reopening the output during a live capture, --append, and the
# shipping agents' example configurations.
#
#   bash tests/service.sh [./tlswhy]
#
# 1. dist/systemd/tlswhy@.service passes `systemd-analyze verify` (with
#    the binary path filled in), and a broken copy does not (the check
#    bites). The unit is not started: this container has no systemd as
#    PID 1, so the hardening is checked statically only.
# 2. Live, on 127.0.0.1 only, run as the unit runs it: an unprivileged
#    user holding only CAP_NET_RAW and CAP_NET_ADMIN (setpriv: ambient
#    capabilities, that bounding set, no_new_privs), --append -o FILE. A
#    connection, then logrotate (the shipped snippet, paths pointed at a
#    temporary directory, its postrotate signalling this tlswhy) moves the
#    file and sends SIGHUP; a second connection must land in the new file,
#    the first stay in the rotated one, and tlswhy finish normally on SIGINT.
#    SIGHUP without -o does not end a capture.
# 3. --append: two runs into one file keep both.
# 4. `make install DESTDIR=...` installs the unit (paths filled in) and the
#    logrotate snippet.
# 5. dist/filebeat/tlswhy.yml parses as YAML and dist/vector/tlswhy.toml as
#    TOML, with the keys each tool requires; neither filebeat nor vector is
#    a Debian 12 package, so neither tool has checked them ("untested" by
#    the tools themselves).
# Root is needed for 2 (capture) and 4 is done anywhere; without root the
# live part is skipped and says so. Last line: "service: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
TLSWHY=${1:-./tlswhy}
case $TLSWHY in /*) ;; *) TLSWHY=$PWD/$TLSWHY ;; esac
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }
W=$(mktemp -d /tmp/tlswhy-svc.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 1. the unit ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s#@BINDIR@#$(dirname "$TLSWHY")#" dist/systemd/tlswhy@.service >"$W/tlswhy@lo.service"
	if (cd "$W" && systemd-analyze verify --man=no ./tlswhy@lo.service) >"$W/verify.out" 2>&1 && [ ! -s "$W/verify.out" ]; then
		ok "systemd-analyze verify tlswhy@lo.service: clean"
	else
		bad "systemd-analyze verify: $(head -c 400 "$W/verify.out")"
	fi
	sed 's#^ExecStart=.*#ExecStart=/nonexistent/tlswhy -i %I#' "$W/tlswhy@lo.service" >"$W/broken@lo.service"
	(cd "$W" && systemd-analyze verify --man=no ./broken@lo.service) >/dev/null 2>&1 &&
		bad "systemd-analyze verify accepts a unit with a missing binary" ||
		ok "systemd-analyze verify rejects a unit with a missing binary"
	for k in 'DynamicUser=yes' 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN' \
		'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
		'ReadWritePaths=/var/log/tlswhy' 'ExecReload=/bin/kill -HUP $MAINPID'; do
		grep -qxF "$k" dist/systemd/tlswhy@.service && ok "unit: $k" || bad "unit lacks $k"
	done
else
	echo "service: systemd-analyze missing: the unit is untested"
fi

# ---- 2. live: SIGHUP reopens, as the unit runs it ----------------------------------
conn() {   # PORT: one TLS attempt against the plain responder
	timeout 5 openssl s_client -connect 127.0.0.1:"$1" </dev/null >/dev/null 2>&1
}
lines() {   # FILE: connection lines in it
	[ -f "$1" ] && grep -c '"type":"connection"' "$1" || echo 0
}
wait_lines() {   # FILE N: up to 3 s
	local i
	for i in $(seq 300); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.01
	done
	return 1
}
if [ "$(id -u)" -ne 0 ] || ! command -v openssl >/dev/null || ! command -v setpriv >/dev/null; then
	echo "service: not root (or no openssl/setpriv): the live SIGHUP test is skipped"
else
	PORT=$(( 20000 + RANDOM % 30000 ))
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(4096)
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c.close()' $PORT >"$W/srv.log" 2>&1 &
	SRV=$!
	PIDS+=($SRV)
	for i in $(seq 100); do ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done
	mkdir -p "$W/log"
	chown nobody "$W/log"
	# the unit's privileges: not root, only the two capabilities, no way to more
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_raw,+net_admin \
		--ambient-caps=-all,+net_raw,+net_admin --bounding-set=-all,+net_raw,+net_admin --no-new-privs \
		"$TLSWHY" -i lo --format jsonl --append -o "$W/log/lo.jsonl" --status never tcp port $PORT \
		2>"$W/tw.err" &
	TW=$!
	PIDS+=($TW)
	for i in $(seq 100); do grep -q "capturing on" "$W/tw.err" 2>/dev/null && break; kill -0 $TW 2>/dev/null || break; sleep 0.05; done
	if ! kill -0 $TW 2>/dev/null; then
		bad "tlswhy with only CAP_NET_RAW and CAP_NET_ADMIN did not start: $(head -c 300 "$W/tw.err")"
	else
		ok "tlswhy captures as an unprivileged user with only CAP_NET_RAW and CAP_NET_ADMIN"
		grep -q '^Uid:.*65534' /proc/$TW/status && ok "it runs as nobody" || bad "it does not run as nobody"
		conn $PORT
		wait_lines "$W/log/lo.jsonl" 1 && ok "first connection written" || bad "first connection not written"
		# logrotate, with the shipped snippet pointed here and at this process
		sed -e "s#/var/log/tlswhy#$W/log#" \
			-e "s#systemctl kill .*#kill -HUP $TW#" dist/logrotate/tlswhy >"$W/logrotate.conf"
		if command -v logrotate >/dev/null 2>&1; then
			logrotate -d -s "$W/lr.state" "$W/logrotate.conf" >"$W/lr-d.out" 2>&1 &&
				ok "logrotate -d accepts the snippet" || bad "logrotate -d: $(tail -c 300 "$W/lr-d.out")"
			logrotate -f -s "$W/lr.state" "$W/logrotate.conf" >"$W/lr.out" 2>&1 ||
				bad "logrotate -f: $(tail -c 300 "$W/lr.out")"
		else
			echo "service: logrotate missing: rotated by hand"
			mv "$W/log/lo.jsonl" "$W/log/lo.jsonl.1"
			kill -HUP $TW
		fi
		for i in $(seq 100); do [ -f "$W/log/lo.jsonl" ] && break; sleep 0.02; done
		kill -0 $TW 2>/dev/null && ok "tlswhy survives SIGHUP" || bad "SIGHUP ended tlswhy"
		[ -f "$W/log/lo.jsonl" ] && ok "SIGHUP created a new lo.jsonl" || bad "no new lo.jsonl after SIGHUP"
		conn $PORT
		wait_lines "$W/log/lo.jsonl" 1 && ok "the next connection goes to the new file" ||
			bad "the next connection is not in the new file"
		kill -INT $TW
		wait $TW
		rc=$?
		[ $rc -eq 1 ] && ok "SIGINT: exit 1 (failures diagnosed)" || bad "exit $rc after SIGINT"
		[ "$(lines "$W/log/lo.jsonl.1")" = 1 ] && ok "the rotated file keeps the first connection" ||
			bad "rotated file: $(lines "$W/log/lo.jsonl.1") connections"
		if python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert [l["type"] for l in ls] == ["connection", "summary"], [l["type"] for l in ls]
assert ls[1]["summary"]["connections"] == 2 and ls[1]["summary"]["failed"] == 2
' "$W/log/lo.jsonl" 2>"$W/py.err"; then
			ok "the new file: the second connection, then a summary of both"
		else
			bad "the new file: $(tail -c 300 "$W/py.err")"
		fi
	fi
	# SIGHUP without -o: nothing to reopen, and the capture goes on
	"$TLSWHY" -i lo --format jsonl --status never tcp port $PORT >"$W/stdout.jsonl" 2>"$W/tw2.err" &
	TW2=$!
	PIDS+=($TW2)
	for i in $(seq 100); do grep -q "capturing on" "$W/tw2.err" 2>/dev/null && break; sleep 0.05; done
	kill -HUP $TW2
	sleep 0.2
	conn $PORT
	wait_lines "$W/stdout.jsonl" 1
	kill -0 $TW2 2>/dev/null && [ "$(lines "$W/stdout.jsonl")" = 1 ] && ok "SIGHUP without -o: the capture goes on" ||
		bad "SIGHUP without -o ended the capture"
	kill -INT $TW2
	wait $TW2
	kill $SRV
	wait $SRV 2>/dev/null
fi

# ---- 3. --append ------------------------------------------------------------------
"$TLSWHY" -r pcaps/demo-alb-502.pcap -F jsonl -o "$W/a.jsonl" >/dev/null 2>&1
"$TLSWHY" -r pcaps/demo-alb-502.pcap -F jsonl --append -o "$W/a.jsonl" >/dev/null 2>&1
[ "$(grep -c '"type":"summary"' "$W/a.jsonl")" = 2 ] && ok "--append keeps the earlier run" || bad "--append: $(grep -c summary "$W/a.jsonl") summaries"
"$TLSWHY" -r pcaps/demo-alb-502.pcap -F jsonl -o "$W/a.jsonl" >/dev/null 2>&1
[ "$(grep -c '"type":"summary"' "$W/a.jsonl")" = 1 ] && ok "without --append -o replaces the file" || bad "-o did not replace"

# ---- 4. make install -------------------------------------------------------------
if make -s install DESTDIR="$W/root" PREFIX=/usr/local >"$W/install.out" 2>&1; then
	u=$W/root/usr/local/lib/systemd/system/tlswhy@.service
	[ -f "$u" ] && grep -q '^ExecStart=/usr/local/bin/tlswhy -i %I' "$u" && ! grep -q @BINDIR@ "$u" &&
		ok "make install: the unit, with /usr/local/bin filled in" || bad "make install: unit missing or unfilled"
	[ -f "$W/root/etc/logrotate.d/tlswhy" ] && ok "make install: /etc/logrotate.d/tlswhy" || bad "make install: no logrotate snippet"
else
	bad "make install: $(tail -c 300 "$W/install.out")"
fi

# ---- 5. the agents' configurations -----------------------------------------------
python3 - dist/filebeat/tlswhy.yml dist/vector/tlswhy.toml <<'EOF' && ok "filebeat YAML and vector TOML parse, with their required keys (the tools themselves: untested)" || bad "agent configurations"
import sys, tomllib, yaml
fb = yaml.safe_load(open(sys.argv[1]))
i = fb["filebeat.inputs"][0]
assert i["type"] == "filestream" and i["id"] and i["paths"] == ["/var/log/tlswhy/*.jsonl"], i
assert "ndjson" in i["parsers"][0] and "output.elasticsearch" in fb
v = tomllib.load(open(sys.argv[2], "rb"))
assert v["sources"]["tlswhy"]["include"] == ["/var/log/tlswhy/*.jsonl"]
for name, sink in v["sinks"].items():
    assert sink["inputs"] == ["tlswhy_parse"], name
assert "parse_json" in v["transforms"]["tlswhy_parse"]["source"]
EOF
command -v filebeat >/dev/null 2>&1 && { filebeat test config -c dist/filebeat/tlswhy.yml && ok "filebeat test config" || bad "filebeat test config"; }
command -v vector >/dev/null 2>&1 && { vector validate --no-environment dist/vector/tlswhy.toml && ok "vector validate" || bad "vector validate"; }

echo "service: $pass passed, $fail failed"
[ $fail -eq 0 ]
