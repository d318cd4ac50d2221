#!/usr/bin/env python3
"""pcap_cases.py - every recorded capture in pcaps/ against its expected facts.

The "capture" cases of tests/TESTLIST (written by pcaps/record.sh from tshark's view of each
capture, decrypted with its key log) gives, per TCP connection in order of
first packet: the stage, the alerts as sender:description, and the
negotiated version. tlswhy sees no keys, so an alert it reports as
`encrypted` matches any description from the same sender, and alerts sent
after a completed handshake (close_notify) are not its business.

Connections where tlswhy's view differs from tshark's for a stated reason
are the "capture-known" cases of tests/TESTLIST; such a case passes only
when tlswhy shows exactly the stage listed there.

Usage: pcap_cases.py TLSWHY PCAPDIR
Prints one line per case and 'N passed, N failed'; exits 1 on any failure.
"""
import json, subprocess, sys, os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlist import cases  # noqa: E402

VERSIONS = {0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2", 0x0304: "TLS1.3"}


def run(tlswhy, path):
    p = subprocess.run([tlswhy, "-r", path, "--format", "json"], capture_output=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return json.loads(p.stdout)


def alerts_ok(expected, conn):
    got = [(a["sender"], a["description_name"] if not a["encrypted"] else "encrypted") for a in conn["alerts"]]
    exp = [tuple(x.split(":", 1)) for x in expected.split(",")] if expected != "-" else []
    if conn["complete"]:
        # after completion only the handshake's own alerts matter: none expected
        exp = [e for e in exp if e[1] != "encrypted"]
        got = [g for g in got if g[1] != "encrypted"]
    if len(got) < len(exp):
        return False, "alerts %s, expected %s" % (got, exp)
    for (es, ed), (gs, gd) in zip(exp, got):
        if es != gs or (gd != "encrypted" and ed != gd):
            return False, "alerts %s, expected %s" % (got, exp)
    return True, ""


def main():
    tlswhy, pdir = sys.argv[1], sys.argv[2]
    rows = cases("capture")
    known = {}
    for kf, ki, kstage, kalerts, kwhy in cases("capture-known"):
        known[(kf, ki)] = (kstage, kalerts, kwhy)
    cache, passed, failed = {}, 0, 0
    for f, idx, stage, alerts, version in rows:
        name = "%s#%s" % (f, idx)
        kn = known.pop((f, idx), None)
        if kn:
            stage = kn[0]
            if kn[1] == "-":
                alerts = None
        try:
            if f not in cache:
                cache[f] = run(tlswhy, os.path.join(pdir, f))
            conns = cache[f]["connections"]
            conn = sorted(conns, key=lambda c: c["id"])[int(idx) - 1]
            why = []
            if conn["stage"] != stage:
                why.append("stage %s, expected %s" % (conn["stage"], stage))
            ok, w = alerts_ok(alerts, conn) if alerts is not None else (True, "")
            if not ok:
                why.append(w)
            sh = conn["server_hello"]
            got_v = VERSIONS.get(sh["version"], hex(sh["version"])) if sh else "-"
            if got_v != version:
                why.append("version %s, expected %s" % (got_v, version))
        except Exception as e:  # a crash or bad JSON is a failure, not an abort
            why = ["error: %s" % e]
        if why:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(why)))
        else:
            passed += 1
            print("ok   %s%s" % (name, " (known difference: %s)" % kn[2] if kn else ""))
    for (kf, ki) in known:
        failed += 1
        print("FAIL %s#%s: a capture-known case without its capture case" % (kf, ki))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
