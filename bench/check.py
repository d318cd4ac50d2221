#!/usr/bin/env python3
"""check.py - does tlswhy find exactly what bench/gen.c put into the capture?

    check.py MANIFEST TALLY TLSWHY PCAPS_DIR EXPECTED_TSV

MANIFEST is gen's, TALLY is `tlswhy -F json | jtally` of the generated
capture. Every template connection is analyzed on its own (its recorded
pcap): its stage (and, before completion, its alerts) must match
the expected table (the "capture" cases of tests/TESTLIST), and its certificate count what tshark decodes (when
tshark is installed and BENCH_TSHARK_CERTS is not 0). The capture's tally must then equal the templates'
signatures times their copy counts, and the report's counters must match
the manifest (packets, flows, non-TCP packets). Exit 0 when all agree.
"""
import collections
import json
import os
import shutil
import subprocess
import sys


def sig_of(conn):
    alerts = []
    for a in conn.get("alerts") or []:
        alerts.append("%s:%s" % (a["sender"], "encrypted" if a["encrypted"] else a.get("description_name")))
    srv = (conn.get("server_certificates") or {}).get("count", 0)
    cli = (conn.get("client_certificates") or {}).get("count", 0)
    return "%s|%s|%d|%d" % (conn["stage"], ",".join(alerts) or "-", srv, cli)


def tshark_certs(path):
    """certificates per 0-based TCP stream, as tshark decodes them"""
    if not shutil.which("tshark") or os.environ.get("BENCH_TSHARK_CERTS") == "0":
        return None
    out = subprocess.run(["tshark", "-r", path, "-Y", "tls.handshake.type == 11", "-T", "fields",
                          "-e", "tcp.stream", "-e", "tls.handshake.certificate_length"],
                         capture_output=True, text=True).stdout
    n = collections.Counter()
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 2 and f[1]:
            n[int(f[0])] += len(f[1].split(","))
    return n


def main():
    manifest, tally, tlswhy, pcaps, expected = sys.argv[1:6]
    man, templates = {}, []
    for line in open(manifest):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if f[0] == "template":
            templates.append((f[1], int(f[2]), f[3], int(f[4])))
        else:
            man[f[0]] = f[1]
    exp = {}
    for line in open(expected):
        f = line.rstrip("\n").split("\t")
        if f[0] != "file":
            exp[(f[0], int(f[1]))] = (f[2], f[3])
    problems = []
    want = collections.Counter()
    reported = 0
    cache = {}
    for file, idx, stage, count in templates:
        if file.startswith("("):
            continue   # plain HTTP: not reported (no TLS, not a failure)
        if file not in cache:
            path = "%s/%s" % (pcaps, file)
            rep = json.loads(subprocess.run([tlswhy, "-r", path, "-F", "json"], capture_output=True,
                                            text=True).stdout)
            cache[file] = (rep["connections"], tshark_certs(path))
        conns, certs = cache[file]
        conn = next((c for c in conns if c["id"] == idx), None)
        if conn is None:
            problems.append("%s #%d: tlswhy reports no such connection" % (file, idx))
            continue
        s = sig_of(conn)
        e_stage, e_alerts = exp[(file, idx)]
        if conn["stage"] != e_stage:
            problems.append("%s #%d: stage %s, expected.tsv says %s" % (file, idx, conn["stage"], e_stage))
        if not conn["complete"] and s.split("|")[1] != e_alerts:
            problems.append("%s #%d: alerts %s, expected.tsv says %s" % (file, idx, s.split("|")[1], e_alerts))
        if certs is not None:
            got = int(s.split("|")[2]) + int(s.split("|")[3])
            if got != certs.get(idx - 1, 0):
                problems.append("%s #%d: %d certificates, tshark decodes %d" % (file, idx, got, certs.get(idx - 1, 0)))
        want[s] += count
        reported += count
    got = collections.Counter()
    stats = []
    for line in open(tally):
        if line.startswith("# "):
            stats.append(line[2:])
            continue
        n, s = line.rstrip("\n").split("\t", 1)
        got[s] += int(n)
    tail = json.loads("{" + "".join(stats)) if stats else {}
    for s in sorted(set(want) | set(got)):
        if want[s] != got[s]:
            problems.append("%-60s put in %7d, found %7d" % (s, want[s], got[s]))
    st, sm = tail.get("stats", {}), tail.get("summary", {})
    for key, have, should in (("packets", st.get("packets"), int(man["packets"])),
                              ("flows", st.get("flows"), int(man["connections"])),
                              ("not_tcp (DNS)", st.get("not_tcp"), int(man["dns_packets"])),
                              ("connections reported", sm.get("connections"), reported)):
        if have != should:
            problems.append("%s: report says %s, the capture holds %s" % (key, have, should))
    certs = sum(int(s.split("|")[2]) * n + int(s.split("|")[3]) * n for s, n in want.items())
    alerts = sum((0 if s.split("|")[1] == "-" else len(s.split("|")[1].split(","))) * n for s, n in want.items())
    plain = sum(n for s, n in want.items() if s.split("|")[1] != "-" and "encrypted" not in s.split("|")[1])
    if problems:
        print("bench check: FAILED")
        for p in problems:
            print("  " + p)
        return 1
    print("bench check: ok: %s packets, %s TCP connections (%d reported, %d complete, %d with plaintext "
          "alerts), %d alerts, %d certificates, %s DNS packets: all found" %
          (man["packets"], man["connections"], reported, sm.get("complete", 0), plain, alerts, certs,
           man["dns_packets"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
