#!/usr/bin/env python3
"""keylog_tshark.py - tlswhy --keylog against tshark with the same key log.

    python3 tests/keylog_tshark.py CAPTURE KEYLOG REPORT.json

Per connection (tshark's tcp.stream = the report's connection order) and
direction: the handshake message types tlswhy saw, plaintext and decrypted
(its ladder's handshake events), must equal tshark's tls.handshake.type
list; the alert descriptions it read must be the first ones tshark lists
(tlswhy stops reading a direction after its first application data, so a
closing close_notify may be missing, never different). The first HTTP/1.x
message each way, where tshark decodes one (its HTTP dissector put on each
server port with -d tls.port==PORT,http): the status code must be tlswhy's
http_status, the request's method and URI the start of tlswhy's request
line. HTTP/2 (ALPN h2): tlswhy's frame types (those whose header lies in
the first decrypted bytes) must be the first of tshark's http2.type list
for that direction. Prints one line per difference; exit 1 on any.
"""
import json
import subprocess
import sys

pcap, keylog, report = sys.argv[1:4]
d = json.load(open(report))
out = subprocess.run(["tshark", "-r", pcap, "-o", "tls.keylog_file:" + keylog, "-T", "fields",
                      "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tls.handshake.type",
                      "-e", "tls.alert_message.desc"], capture_output=True, text=True, check=True).stdout
theirs = {}
for line in out.splitlines():
    f = line.split("\t")
    if len(f) < 4 or not f[0]:
        continue
    hs, al = theirs.setdefault(int(f[0]), {}).setdefault(int(f[1]), ([], []))
    hs += [int(x) for x in f[2].split(",") if x]
    al += [int(x) for x in f[3].split(",") if x]
bad = 0
for i, c in enumerate(d["connections"]):
    for who in ("client", "server"):
        hs = [e["message_type"] for e in c["ladder"] if e["kind"] == "handshake" and e["from"] == who]
        al = [a["description"] for a in c["alerts"] if a["sender"] == who and a["description"] is not None]
        th, ta = theirs.get(i, {}).get(c[who]["port"], ([], []))
        if hs != th or al != ta[:len(al)]:
            print("DIFF %s conn %d %s: tlswhy %s %s, tshark %s %s" % (pcap, i + 1, who, hs, al, th, ta))
            bad += 1
# the first HTTP/1.x message of each connection and direction, as tshark decodes it
ports = sorted({c["server"]["port"] for c in d["connections"] if c.get("decrypted") and c.get("server")})
if ports:
    cmd = ["tshark", "-r", pcap, "-o", "tls.keylog_file:" + keylog, "-Y", "http", "-T", "fields",
           "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "http.response.code", "-e", "http.request.method",
           "-e", "http.request.uri"]
    for p in ports:
        cmd[3:3] = ["-d", "tls.port==%d,http" % p]
    first = {}
    for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split("\t")
        if len(f) < 5 or not f[0]:
            continue
        first.setdefault((int(f[0]), int(f[1])), f[2:5])
    for i, c in enumerate(d["connections"]):
        if not c.get("decrypted"):
            continue
        for who in ("client", "server"):
            t = first.get((i, c[who]["port"]))
            mine = c["decrypted"][who]["first_application_data"]
            if not t:
                continue
            code, method, uri = (x.split(",")[0] for x in t)
            if code and (not mine or mine.get("http_status") != int(code)):
                print("DIFF %s conn %d %s: tshark HTTP status %s, tlswhy %s" % (pcap, i + 1, who, code, mine))
                bad += 1
            if method and (not mine or not mine.get("line", "").startswith("%s %s " % (method, uri))):
                print("DIFF %s conn %d %s: tshark request %s %s, tlswhy %s" % (pcap, i + 1, who, method, uri, mine))
                bad += 1
# HTTP/2 frame types per connection and direction, as tshark decodes them (it follows ALPN h2)
if any((c.get("decrypted") or {}).get("alpn") == "h2" or
       any(((c.get("decrypted") or {}).get(w) or {}).get("first_application_data") and
           "http2_frame_types" in c["decrypted"][w]["first_application_data"] for w in ("client", "server"))
       for c in d["connections"]):
    h2 = {}
    for line in subprocess.run(["tshark", "-r", pcap, "-o", "tls.keylog_file:" + keylog, "-Y", "http2", "-T", "fields",
                                "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "http2.type"],
                               capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split("\t")
        if len(f) < 3 or not f[0]:
            continue
        h2.setdefault((int(f[0]), int(f[1])), []).extend(int(x) for x in f[2].split(",") if x)
    for i, c in enumerate(d["connections"]):
        for who in ("client", "server"):
            mine = ((c.get("decrypted") or {}).get(who) or {}).get("first_application_data") or {}
            if "http2_frame_types" not in mine:
                continue
            ft = mine["http2_frame_types"]
            th = h2.get((i, c[who]["port"]), [])
            if not ft or ft != th[:len(ft)]:
                print("DIFF %s conn %d %s: tlswhy HTTP/2 frame types %s, tshark %s" % (pcap, i + 1, who, ft, th))
                bad += 1
sys.exit(1 if bad else 0)
