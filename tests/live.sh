#!/bin/bash
# live.sh - live capture on the loopback, end to end (root only).
#
#   bash tests/live.sh [./tlswhy]
#
# For each case: start a (mis)configured server on 127.0.0.1 on a port of
# its own, start `tlswhy -i lo` with a filter for that port in the
# background, connect with `openssl s_client`, and check that the right
# stage and finding are printed within 2 seconds of the connection (JSON
# Lines, flushed per connection); then stop tlswhy with SIGINT (or
# SIGTERM) and check that the report is complete: every line valid JSON,
# a summary line last, the counts right, and the evidence capture (-w)
# readable with the connection in it.
#
# Cases: no shared cipher, plain HTTP on the TLS port (nginx, or a small python3 HTTP responder
# that answers the same way), a silent server (--handshake-timeout 1), a
# healthy handshake, a handshake cut by SIGINT (capture_ended), -Z nobody
# (and the default drop to nobody), -Z with an unknown user, -c and
# --duration, and -D; -o and -w into a 0700 directory of root's (opened
# before the drop), the --max-spool cap under bulk traffic, and file
# capabilities (setcap) dropped once the interface is open.
#
# Traffic goes only to 127.0.0.1. Every process is started here and
# stopped by its PID (trap). Without root the suite skips and says so.
# Last line: "N passed, N failed".
set -u
TLSWHY=${1:-./tlswhy}
case $TLSWHY in /*) ;; *) TLSWHY=$PWD/$TLSWHY ;; esac

if [ "$(id -u)" -ne 0 ]; then
	echo "live: not root, skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
for t in openssl python3 ss; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "live: $t missing, skipped"
		echo "0 passed, 0 failed"
		exit 0
	fi
done

W=$(mktemp -d /tmp/tlswhy-live.XXXXXX)
chmod 755 "$W"   # tlswhy runs as nobody and may need to read nothing here, but -o/-w are opened before the drop
PIDS=()
pass=0 fail=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# a free port: random in 20000-59999, not listening, different each call
NEXT_PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
free_port() {
	local p
	while :; do
		NEXT_PORT=$((NEXT_PORT + 1))
		[ $NEXT_PORT -ge 60000 ] && NEXT_PORT=20000
		p=$NEXT_PORT
		if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
			echo $p
			return
		fi
	done
}

wait_listen() {   # PORT: up to 5 s
	local i
	for i in $(seq 100); do
		[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}

stop() {   # PID [SIGNAL]: signal and reap
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# the certificate every TLS server here uses
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 \
	-subj /CN=localhost >/dev/null 2>&1 || { echo "live: cannot make a certificate"; echo "0 passed, 1 failed"; exit 1; }

# evidence capture: only once -w exists
HAVE_W=0
"$TLSWHY" --help 2>&1 | grep -q -- '-w FILE' && HAVE_W=1

TW_PID=
# start_tlswhy NAME PORT [args...]: report to $W/NAME.jsonl, stderr to $W/NAME.err
start_tlswhy() {
	local name=$1 port=$2 i
	shift 2
	local ev=()
	[ $HAVE_W = 1 ] && ev=(-w "$W/$name.pcap")
	"$TLSWHY" -i lo -F jsonl -o "$W/$name.jsonl" "${ev[@]}" --status always "$@" tcp port "$port" \
		2>"$W/$name.err" &
	TW_PID=$!
	PIDS+=($TW_PID)
	# ready once it says so (after the interface is open and privileges dropped)
	for i in $(seq 100); do
		grep -q "capturing on" "$W/$name.err" 2>/dev/null && return 0
		kill -0 $TW_PID 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_stage NAME STAGE: ms until a connection line with that stage, or -1 after 2 s
wait_stage() {
	local t0=$1 name=$2 stage=$3 i
	for i in $(seq 400); do
		if grep -q "\"stage\":\"$stage\"" "$W/$name.jsonl" 2>/dev/null; then
			echo $(( $(now_ms) - t0 ))
			return
		fi
		[ $(( $(now_ms) - t0 )) -gt 2000 ] && break
		sleep 0.005
	done
	echo -1
}

# check_report NAME STAGE RULE|- CONNECTIONS: the finished report
check_report() {
	python3 - "$W/$1.jsonl" "$2" "$3" "$4" <<'EOF'
import json, sys
path, stage, rule, nconn = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = open(path, encoding="utf-8").read().splitlines()
try:
    docs = [json.loads(l) for l in lines]
except ValueError as e:
    sys.exit("invalid JSON line: %s" % e)
if not docs or docs[-1].get("type") != "summary":
    sys.exit("no summary line at the end")
conns = [d for d in docs if d.get("type") == "connection"]
s = docs[-1]
if len(conns) != nconn or s["summary"]["connections"] != nconn:
    sys.exit("%d connections, summary says %d, expected %d" % (len(conns), s["summary"]["connections"], nconn))
if not isinstance(s["stats"].get("kernel_drops"), int):
    sys.exit("stats.kernel_drops missing: %r" % s["stats"].get("kernel_drops"))
if s["inputs"][0].get("interface") != "lo":
    sys.exit("inputs[0].interface is %r" % s["inputs"][0].get("interface"))
c = conns[0]
if c["stage"] != stage:
    sys.exit("stage %s, expected %s" % (c["stage"], stage))
rules = [f["rule"] for f in c.get("findings") or []]
if rule != "-" and rule not in rules:
    sys.exit("finding %s not among %s" % (rule, rules))
errors = [f["rule"] for f in c.get("findings") or [] if f.get("severity") == "error"]
if rule == "-" and errors:
    sys.exit("unexpected error findings %s" % errors)
EOF
}

# check_evidence NAME STAGE: the -w capture reads back with that connection
check_evidence() {
	[ $HAVE_W = 1 ] || return 0
	"$TLSWHY" -r "$W/$1.pcap" -F jsonl 2>/dev/null | grep -q "\"stage\":\"$2\""
}

# run_case NAME STAGE RULE SIGNAL CLIENT-ARGS... -- TLSWHY-ARGS...   (server on $PORT, started by the caller)
run_case() {
	local name=$1 stage=$2 rule=$3 sig=$4 ms cli_pid
	shift 4
	local cargs=() targs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do cargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	targs=("$@")
	if ! start_tlswhy "$name" "$PORT" "${targs[@]}"; then
		bad "$name: tlswhy did not start: $(head -c 300 "$W/$name.err")"
		return
	fi
	local t0=$(now_ms)
	# s_client reads standard input only once the handshake is done
	openssl s_client -connect 127.0.0.1:$PORT "${cargs[@]}" </dev/null >"$W/$name.cli" 2>&1 &
	cli_pid=$!
	PIDS+=($cli_pid)
	ms=$(wait_stage "$t0" "$name" "$stage")
	if [ "$ms" -ge 0 ]; then
		ok "$name: stage $stage printed $ms ms after the connection"
		echo "# latency $name $ms ms"
	else
		bad "$name: no stage $stage within 2 s: $(head -c 400 "$W/$name.jsonl")"
	fi
	stop $cli_pid KILL
	local t1=$(now_ms)
	stop $TW_PID "$sig"
	local rc=$?
	echo "# stop $name $(( $(now_ms) - t1 )) ms after SIG$sig"
	if [ $rc -le 1 ]; then
		ok "$name: SIG$sig ends tlswhy (exit $rc)"
	else
		bad "$name: SIG$sig: exit $rc: $(tail -c 300 "$W/$name.err")"
	fi
	if err=$(check_report "$name" "$stage" "$rule" 1 2>&1); then
		ok "$name: report complete and valid"
	else
		bad "$name: report: $err"
	fi
	if [ $HAVE_W = 1 ]; then
		if check_evidence "$name" "$stage"; then
			ok "$name: evidence capture holds the connection"
		else
			bad "$name: evidence capture $W/$name.pcap unreadable or without the connection"
		fi
	fi
}

# ---- no shared cipher -------------------------------------------------------
PORT=$(free_port)
openssl s_server -accept 127.0.0.1:$PORT -cert "$W/cert.pem" -key "$W/key.pem" -tls1_2 \
	-cipher AES256-SHA256 -quiet >"$W/srv1.log" 2>&1 &
SRV=$!; PIDS+=($SRV)
wait_listen $PORT || bad "no-shared-cipher: s_server did not listen"
run_case no-shared-cipher alert no-shared-cipher INT \
	-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256
stop $SRV

# ---- plain HTTP on the TLS port ----------------------------------------------
PORT=$(free_port)
if command -v nginx >/dev/null 2>&1; then
	mkdir -p "$W/nginx"
	cat >"$W/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
	uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
	server { listen 127.0.0.1:$PORT; return 200 "plain\n"; }
}
EOF
	nginx -e "$W/nginx/error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf" >"$W/srv2.log" 2>&1 &
else
	# answers the first bytes the way nginx does, then closes
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(4096)
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c.close()' $PORT >"$W/srv2.log" 2>&1 &
fi
SRV=$!; PIDS+=($SRV)
wait_listen $PORT || bad "plain-http: server did not listen"
run_case plain-http non_tls_answer plain-http-on-tls-port TERM
stop $SRV

# ---- silent server, shortened handshake timeout --------------------------------
PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
time.sleep(600)' $PORT >"$W/srv3.log" 2>&1 &
SRV=$!; PIDS+=($SRV)
wait_listen $PORT || bad "silent: listener did not listen"
run_case silent-server client_hello_unanswered target-silent-after-client-hello INT -- --handshake-timeout 1

# ---- the same, cut by SIGINT before the (default, 10 s) timeout -------------------
if start_tlswhy cut-by-sigint "$PORT"; then
	openssl s_client -connect 127.0.0.1:$PORT </dev/null >"$W/cut.cli" 2>&1 &
	cli=$!; PIDS+=($cli)
	sleep 0.5
	if [ -s "$W/cut-by-sigint.jsonl" ]; then
		bad "cut-by-sigint: reported before the timeout: $(head -c 300 "$W/cut-by-sigint.jsonl")"
	else
		ok "cut-by-sigint: nothing reported while the handshake is pending"
	fi
	stop $TW_PID INT
	if err=$(check_report cut-by-sigint capture_ended capture-ended-mid-handshake 1 2>&1); then
		ok "cut-by-sigint: the pending handshake is reported as capture_ended"
	else
		bad "cut-by-sigint: $err"
	fi
	stop $cli KILL
else
	bad "cut-by-sigint: tlswhy did not start"
fi
stop $SRV

# ---- healthy handshake, -Z nobody -----------------------------------------------
PORT=$(free_port)
openssl s_server -accept 127.0.0.1:$PORT -cert "$W/cert.pem" -key "$W/key.pem" -quiet >"$W/srv4.log" 2>&1 &
SRV=$!; PIDS+=($SRV)
wait_listen $PORT || bad "healthy: s_server did not listen"
if start_tlswhy healthy "$PORT" -Z nobody; then
	uid=$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' /proc/$TW_PID/status)
	gid=$(awk '/^Gid:/ { print $2 "," $3 "," $4 "," $5 }' /proc/$TW_PID/status)
	groups=$(awk '/^Groups:/ { $1 = ""; print }' /proc/$TW_PID/status | tr -s ' ' | sed 's/^ //; s/ $//')
	nuid=$(id -u nobody) ngid=$(id -g nobody)
	if [ "$uid" = "$nuid,$nuid,$nuid,$nuid" ] && [ "$gid" = "$ngid,$ngid,$ngid,$ngid" ] &&
	   ! echo " $groups " | grep -q " 0 "; then
		ok "-Z nobody: capture runs as uid $nuid gid $ngid, groups '$groups'"
	else
		bad "-Z nobody: uid $uid gid $gid groups '$groups'"
	fi
	t0=$(now_ms)
	openssl s_client -connect 127.0.0.1:$PORT </dev/null >"$W/healthy.cli" 2>&1 &
	cli=$!; PIDS+=($cli)
	ms=$(wait_stage "$t0" healthy "complete[a-z_]*")
	if [ "$ms" -ge 0 ]; then
		ok "healthy: stage complete printed $ms ms after the connection (running as nobody)"
		echo "# latency healthy $ms ms"
	else
		bad "healthy: no complete stage within 2 s: $(head -c 300 "$W/healthy.jsonl")"
	fi
	wait $cli 2>/dev/null
	stop $TW_PID INT
	rc=$?
	[ $rc -eq 0 ] && ok "healthy: exit 0 (nothing failed)" || bad "healthy: exit $rc"
	st=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[0])["stage"])' "$W/healthy.jsonl" 2>/dev/null)
	if err=$(check_report healthy "${st:-complete}" - 1 2>&1) && [ -n "$st" ]; then
		ok "healthy: report complete and valid, stage $st, no finding"
	else
		bad "healthy: report: $err"
	fi
else
	bad "healthy: tlswhy -Z nobody did not start: $(head -c 300 "$W/healthy.err")"
fi

# ---- started as root without -Z: nobody by default; -Z root keeps root ------------
if start_tlswhy default-user "$PORT"; then
	u=$(awk '/^Uid:/ { print $3 }' /proc/$TW_PID/status)
	[ "$u" = "$(id -u nobody)" ] && ok "no -Z as root: runs as nobody" || bad "no -Z as root: euid $u"
	stop $TW_PID INT
else
	bad "default-user: did not start"
fi
if start_tlswhy keep-root "$PORT" -Z root; then
	u=$(awk '/^Uid:/ { print $3 }' /proc/$TW_PID/status)
	[ "$u" = 0 ] && ok "-Z root: stays root" || bad "-Z root: euid $u"
	stop $TW_PID INT
else
	bad "keep-root: did not start"
fi
"$TLSWHY" -i lo -Z no-such-user-tlswhy tcp port "$PORT" >/dev/null 2>"$W/nouser.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no such user" "$W/nouser.err"; then
	ok "-Z unknown user: refused, exit 2"
else
	bad "-Z unknown user: exit $rc: $(cat "$W/nouser.err")"
fi

# ---- -c and --duration end the capture by themselves ------------------------------
"$TLSWHY" -i lo -F json -o "$W/count.json" -c 3 tcp port "$PORT" 2>/dev/null &
cpid=$!; PIDS+=($cpid)
sleep 0.5
openssl s_client -connect 127.0.0.1:$PORT </dev/null >/dev/null 2>&1
for i in $(seq 60); do kill -0 $cpid 2>/dev/null || break; sleep 0.05; done
if ! kill -0 $cpid 2>/dev/null && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["stats"]["packets"] == 3, d["stats"]["packets"]' "$W/count.json" 2>"$W/count.err"; then
	ok "-c 3: stops after 3 packets, JSON document valid"
else
	bad "-c 3: $(cat "$W/count.err")"
	stop $cpid KILL
fi
t0=$(now_ms)
"$TLSWHY" -i lo -F json -o "$W/dur.json" --duration 1 tcp port "$PORT" 2>/dev/null
rc=$? el=$(( $(now_ms) - t0 ))
if [ $rc -eq 0 ] && [ $el -ge 1000 ] && [ $el -lt 2500 ] && python3 -m json.tool "$W/dur.json" >/dev/null 2>&1; then
	ok "--duration 1: ends after $el ms, JSON document valid"
else
	bad "--duration 1: exit $rc after $el ms"
fi
stop $SRV

# ---- -o and -w into a directory only root may enter (the default drop to nobody) ----
mkdir -m 0700 "$W/private"
PORT=$(free_port)
openssl s_server -accept 127.0.0.1:$PORT -cert "$W/cert.pem" -key "$W/key.pem" -tls1_2 \
	-cipher AES256-SHA256 -quiet >"$W/srv5.log" 2>&1 &
SRV=$!; PIDS+=($SRV)
wait_listen $PORT || bad "private: s_server did not listen"
run_case private/no-shared-cipher alert no-shared-cipher INT \
	-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256
[ "$(ls -A "$W/private" | grep -c '^\.')" = 0 ] && ok "private: no temporary file left" \
	|| bad "private: temporary files left: $(ls -A "$W/private")"

# ---- the live -w spool stays under --max-spool; the report says what it dropped ----
BULK=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv(1 << 16): pass
    c.close()' $BULK >"$W/bulk.log" 2>&1 &
BSRV=$!; PIDS+=($BSRV)
wait_listen $BULK || bad "spool: bulk sink did not listen"
"$TLSWHY" -i lo -F json -o "$W/spool.json" -w "$W/spool.pcapng" --max-spool 1 \
	"tcp port $PORT or tcp port $BULK" 2>"$W/spool.err" &
TW_PID=$!; PIDS+=($TW_PID)
sleep 1
# 4 MiB of unrelated bulk data through the filter, then a failing handshake
python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"x" * (4 << 20)); c.close()' $BULK
sleep 0.5
# the spool's size on disk, through its descriptor (an unlinked file)
size=0
for f in /proc/$TW_PID/fd/*; do
	if readlink "$f" | grep -q '(deleted)'; then
		s=$(stat -L -c %s "$f" 2>/dev/null || echo 0); [ "$s" -gt "$size" ] && size=$s
	fi
done
sleep 2.5   # the bulk connection lingers 2 s, then leaves the flow table
openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 </dev/null >"$W/spool.cli" 2>&1
sleep 1
stop $TW_PID INT
if python3 - "$W/spool.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["evidence"]
assert ev["packets_not_spooled"] > 0, ev
assert ev["connections"] == 1 and ev["packets"] >= 5, ev
PY
	python3 "$(dirname "$0")/validate_json.py" json "$W/spool.json" >/dev/null 2>&1
then
	ok "--max-spool 1: 4 MiB of bulk traffic, packets over the cap counted, the later failure still in the evidence"
else
	bad "--max-spool 1: $(head -c 600 "$W/spool.json") $(cat "$W/spool.err")"
fi
[ "$size" -gt $((1 << 19)) ] && [ "$size" -le $((1 << 20)) ] && ok "--max-spool 1: the spool holds $size bytes (<= 1 MiB)" || bad "--max-spool 1: spool of $size bytes"
"$TLSWHY" -r "$W/spool.pcapng" -F jsonl 2>/dev/null | grep -q '"stage":"alert"' && ok "--max-spool 1: evidence reads back with the failure" \
	|| bad "--max-spool 1: evidence without the failure"
stop $BSRV KILL
stop $SRV

# ---- installed with file capabilities instead of setuid: they go once the capture is open ----
if command -v setcap >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	mkdir -m 0755 "$W/capbin"
	cp "$TLSWHY" "$W/capbin/tlswhy"
	chmod 0755 "$W/capbin/tlswhy"
	if setcap cap_net_raw,cap_net_admin+ep "$W/capbin/tlswhy" 2>/dev/null; then
		mkdir -m 0777 "$W/capout"
		su nobody -s /bin/sh -c "exec '$W/capbin/tlswhy' -i lo -F jsonl -o '$W/capout/caps.jsonl' --status always tcp port 9 2>'$W/capout/caps.err'" &
		cpid=$!; PIDS+=($cpid)
		for i in $(seq 100); do grep -q "capturing on" "$W/capout/caps.err" 2>/dev/null && break; sleep 0.05; done
		tpid=$(pgrep -P $cpid 2>/dev/null | head -1)
		[ -n "$tpid" ] && [ -r /proc/$tpid/status ] || tpid=$cpid
		st=$(awk '/^CapPrm:|^CapEff:|^NoNewPrivs:/ { print $1 $2 }' /proc/$tpid/status | tr '\n' ' ')
		kill -INT $tpid 2>/dev/null; wait $cpid 2>/dev/null
		if grep -q "capturing on" "$W/capout/caps.err" && [ "$st" = "CapPrm:0000000000000000 CapEff:0000000000000000 NoNewPrivs:1 " ]; then
			ok "setcap install: capture opened as nobody, then every capability dropped ($st)"
		else
			bad "setcap install: '$st' $(head -c 300 "$W/capout/caps.err")"
		fi
	else
		echo "# setcap not possible here: file capability check skipped"
	fi
fi

# ---- -D ------------------------------------------------------------------------------
if "$TLSWHY" -D 2>/dev/null | grep -Eq '^[0-9]+\.lo '; then
	ok "-D lists lo"
else
	bad "-D does not list lo"
fi

[ $HAVE_W = 1 ] || echo "# -w (evidence capture) not available: its checks were skipped"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
