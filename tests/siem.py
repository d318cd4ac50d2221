#!/usr/bin/env python3
"""siem.py - what joins tlswhy's output to a SIEM's other evidence.

  python3 tests/siem.py ./tlswhy [pcaps]

1. Community ID: an independent implementation here (hashlib, the
   corelight/community-id-spec algorithm), first checked against the
   specification's own baseline vectors for seed 0 and seed 1, then compared
   with what tlswhy prints (jsonl "community_id", ecs "network.community_id")
   for every connection of the bundled captures, with --community-id-seed
   0, 1, 4242 and 65535; and with Wireshark's (tshark's communityid
   post-dissector) on four captures, IPv6 included, seeds 0, 1 and 65535.
   Seeds out of range are refused (exit 2).
2. --format ecs: every field emitted outside "tlswhy" is in
   tests/ecs-fields.tsv (ECS 8.11.0) with the ECS type; categorization
   fields hold allowed values; "tlswhy" is exactly the jsonl record of the
   same connection; SANs are arrays.
3. --alb-log (when tests/alb/ exists): see alb_tests().
"""
import base64
import glob
import gzip
import hashlib
import ipaddress
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

TLSWHY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./tlswhy")
PCAPS = sys.argv[2] if len(sys.argv) > 2 else "pcaps"
HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok " + what)
    else:
        failed += 1
        print("FAIL " + what)


def run(args, **kw):
    return subprocess.run([TLSWHY] + args, capture_output=True, text=True, **kw)


# ---- 1. Community ID -------------------------------------------------------

def cid(sip, dip, sport, dport, proto, seed=0):
    fam = socket.AF_INET6 if ":" in sip else socket.AF_INET
    a, b = socket.inet_pton(fam, sip), socket.inet_pton(fam, dip)
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    data = struct.pack("!H", seed) + a + b + struct.pack("!BB", proto, 0)
    if proto in (6, 17, 132):
        data += struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


# corelight/community-id-spec baseline/baseline_deflt.json and baseline_seed1.json
SPEC = [
    ("128.232.110.120", "66.35.250.204", 34855, 80, 6, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    ("128.232.110.120", "66.35.250.204", 34855, 80, 6, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
    ("2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 6, 1,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="),
    ("8.8.8.8", "192.168.1.52", 53, 54585, 17, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="),
]


def jsonl_conns(out):
    return [d for d in map(json.loads, out.splitlines()) if d.get("type") == "connection"]


def cid_tests(pcaps):
    for v in SPEC:
        check(cid(*v[:6]) == v[6], "oracle: spec vector %s:%d seed %d" % (v[0], v[2], v[5]))
    n = 0
    for seed in (None, 0, 1, 4242, 65535):
        bad = []
        for p in pcaps:
            extra = [] if seed is None else ["--community-id-seed", str(seed)]
            for fmt in ("jsonl", "ecs"):
                r = run(["-r", p, "--all", "-F", fmt] + extra)
                for d in map(json.loads, r.stdout.splitlines()):
                    if fmt == "jsonl":
                        if d.get("type") != "connection":
                            continue
                        got, c, s = d["community_id"], d["client"], d["server"]
                    else:
                        if d["event"]["kind"] != "event":
                            continue
                        got = d["network"]["community_id"]
                        c, s = d["source"], d["destination"]
                    want = cid(c["ip"], s["ip"], c["port"], s["port"], 6, seed or 0)
                    n += 1
                    if got != want:
                        bad.append("%s %s: %s != %s" % (p, fmt, got, want))
        check(not bad, "community_id of every connection, seed %s (%s)" % (seed, bad[:2]))
    check(n > 100, "community_id compared on %d connections" % n)
    # Wireshark's own Community ID (its communityid post-dissector), where tshark is installed
    if shutil.which("tshark"):
        bad, n = [], 0
        for p in [os.path.join(PCAPS, f) for f in ("demo-alb-502.pcap", "tls12-ipv6.pcap",
                                                   "hs-curve-p521-openssl.pcap", "connection-refused.pcap")]:
            for seed in (0, 1, 65535):
                t = subprocess.run(["tshark", "-r", p, "--enable-protocol", "communityid", "-o",
                                    "communityid.seed:%d" % seed, "-T", "fields", "-e", "ip.src", "-e", "ipv6.src",
                                    "-e", "tcp.srcport", "-e", "communityid", "-Y", "tcp"],
                                   capture_output=True, text=True).stdout
                ws = {}
                for line in t.splitlines():
                    f = line.split("\t")
                    if len(f) == 4 and f[3]:
                        ws[(f[0] or f[1], int(f[2]))] = f[3]
                r = run(["-r", p, "--all", "-F", "jsonl", "--detail", "full", "--community-id-seed", str(seed)])
                for d in jsonl_conns(r.stdout):
                    want = ws.get((d["client"]["ip"], d["client"]["port"]))
                    n += 1
                    if want != d["community_id"]:
                        bad.append("%s seed %d: %s vs tshark %s" % (p, seed, d["community_id"], want))
        check(not bad and n >= 12, "community_id equals Wireshark's (tshark communityid) on %d connections %s"
              % (n, bad[:2]))
    else:
        print("siem: tshark missing: the comparison with Wireshark's Community ID is skipped")
    for arg in ("65536", "-1", "x", ""):
        r = run(["-r", pcaps[0], "--community-id-seed", arg])
        check(r.returncode == 2 and "community-id-seed" in r.stderr, "--community-id-seed '%s' refused" % arg)


# ---- 2. ECS ----------------------------------------------------------------

def load_table():
    types, allowed = {}, {}
    for line in open(os.path.join(HERE, "ecs-fields.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if f[0] == "allowed":
            allowed[f[1]] = set(f[2].split(","))
        else:
            types[f[0]] = (f[1], f[2] == "array")
    return types, allowed


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def type_ok(t, v):
    if t in ("keyword", "match_only_text", "wildcard", "constant_keyword", "text"):
        return isinstance(v, str)
    if t == "long":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "date":
        return isinstance(v, str) and bool(ISO.match(v))
    if t == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except (ValueError, TypeError):
            return False
    if t == "object":
        return isinstance(v, dict)
    return False


def flatten(d, prefix=""):
    for k, v in d.items():
        name = prefix + k
        if isinstance(v, dict) and name not in ("labels",):
            yield from flatten(v, name + ".")
        else:
            yield name, v


def ecs_tests(pcaps):
    types, allowed = load_table()
    problems, seen, events, sans = [], set(), 0, 0
    leans = 0
    for p, detail in ((p, d) for p in pcaps for d in ("lean", "full")):
        # the default is lean: a healthy connection's "tlswhy" is the lean
        # object the JSON document has with --detail lean; --detail full:
        # every connection's is its jsonl --detail full line
        args = [] if detail == "lean" else ["--detail", "full"]
        ecs = run(["-r", p, "--all", "-F", "ecs"] + args).stdout.splitlines()
        if detail == "lean":
            jl = json.loads(run(["-r", p, "--all", "-F", "json", "--detail", "lean"]).stdout)["connections"]
        else:
            jl = jsonl_conns(run(["-r", p, "--all", "-F", "jsonl", "--detail", "full"]).stdout)
        conns = []
        for line in ecs:
            d = json.loads(line)
            events += 1
            own = d.pop("tlswhy", None)
            if not isinstance(own, dict):
                problems.append("%s: no tlswhy object" % p)
            for name, v in flatten(d):
                seen.add(name)
                if name not in types:
                    problems.append("%s: %s is not an ECS 8.11 field" % (p, name))
                    continue
                t, arr = types[name]
                vals = v if arr else [v]
                if arr and not isinstance(v, list):
                    problems.append("%s: %s should be an array" % (p, name))
                    continue
                if not arr and isinstance(v, list):
                    problems.append("%s: %s is an array" % (p, name))
                    continue
                for x in vals:
                    if not type_ok(t, x):
                        problems.append("%s: %s=%r is not an ECS %s" % (p, name, x, t))
                    if name in allowed and x not in allowed[name]:
                        problems.append("%s: %s=%r not an allowed value" % (p, name, x))
                if name == "tls.server.x509.alternative_names":
                    sans += len(v)
            if d["event"]["kind"] == "event":
                conns.append(own)
                if own.get("detail") == "lean":
                    leans += 1
                    if detail != "lean" or own.get("verdict") != "healthy" or d["event"]["outcome"] == "failure":
                        problems.append("%s: a lean tlswhy object for a %s connection (--detail %s)"
                                        % (p, d["event"]["outcome"], detail))
        # "tlswhy" is the JSON record, field for field
        same = len(conns) == len(jl)
        for a, b in zip(conns, jl):
            a = {k: v for k, v in a.items() if k not in ("type", "schema")}
            if detail == "full" or b.get("detail") != "lean":
                b = {k: v for k, v in b.items() if k not in ("type", "schema", "tlswhy_version", "detail", "verdict")}
            same = same and a == b
        if not same:
            problems.append("%s: tlswhy object differs from the JSON record (--detail %s)" % (p, detail))
    check(not problems, "ecs: every field an ECS 8.11 field of its type, tlswhy == the JSON record, lean by "
          "default (%d events; %s)" % (events, problems[:3]))
    check(leans > 0, "ecs: healthy connections lean by default (%d)" % leans)
    for f in ("@timestamp", "source.ip", "destination.port", "network.community_id", "network.transport",
              "tls.version", "tls.version_protocol", "tls.cipher", "tls.client.server_name", "tls.client.ja3",
              "tls.server.ja3s", "tls.server.x509.subject.distinguished_name",
              "tls.server.x509.issuer.distinguished_name", "tls.server.x509.not_after",
              "tls.server.x509.alternative_names", "tls.established", "event.outcome", "event.reason",
              "event.kind", "event.category", "event.type"):
        check(f in seen, "ecs: %s emitted somewhere" % f)
    check(sans > 0, "ecs: SANs as arrays (%d names)" % sans)


def main():
    pcaps = sorted(glob.glob(os.path.join(PCAPS, "*.pcap")))
    cid_tests(pcaps)
    ecs_tests(pcaps)
    if os.path.isdir(os.path.join(HERE, "alb")):
        import importlib.util
        spec = importlib.util.spec_from_file_location("alb", os.path.join(HERE, "alb", "alb_tests.py"))
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        m.alb_tests(TLSWHY, PCAPS, check)
    print("siem: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
