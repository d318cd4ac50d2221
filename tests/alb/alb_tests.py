"""alb_tests.py - --alb-log against the bundled captures (run by tests/siem.py).

Log lines are written here to AWS's published field list (docs:
"Access logs for your Application Load Balancer", 29 fields, plus
conn_trace_id and the 2025 transform fields, plus an unknown trailing
field), with times shifted onto the connections of pcaps/demo-alb-502.pcap
(three failed handshakes to 127.0.0.1:44347, one healthy connection to
127.0.0.1:44332). Then: the same log gzipped and split over two files; the
reverse direction (failures without a 502); and hostile lines, which must
each give `file:line: reason` and never a crash.
"""
import datetime
import gzip
import json
import os
import random
import subprocess
import tempfile


def iso(us):
    t = datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def us_of(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + t.microsecond


def entry(time_us, target, elb=502, tgt="-", tpt="-1", req_us=None, reason="-", extra=True, typ="https"):
    req_us = time_us - 20000 if req_us is None else req_us
    f = [typ, iso(time_us), "app/my-alb/50dc6c495c0c9188", "203.0.113.9:51234", target,
         "0.000", tpt, "-1" if tpt == "-1" else "0.000", str(elb), tgt, "216", "272",
         '"GET https://shop.example.com:443/cart HTTP/1.1"', '"Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\""',
         "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2",
         "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
         '"Root=1-58337262-36d228ad5d99923122bbe354"', '"shop.example.com"',
         '"arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"',
         "1", iso(req_us), '"forward"', '"-"', '"%s"' % reason, '"%s"' % (target if target != "-" else "-"),
         '"%s"' % tgt, '"-"', '"-"']
    if extra:
        f += ["TID_1234abcd5678ef90", '"-"', '"-"', '"-"', "future_field_ignored"]
    return " ".join(f)


def alb_tests(tlswhy, pcaps, check):
    pcap = os.path.join(pcaps, "demo-alb-502.pcap")
    out = subprocess.run([tlswhy, "-r", pcap, "-F", "jsonl", "--detail", "full"], capture_output=True, text=True).stdout
    conns = [d for d in map(json.loads, out.splitlines()) if d.get("type") == "connection"]
    fails = [d for d in conns if d["server"]["port"] == 44347]
    ok = [d for d in conns if d["server"]["port"] == 44332]
    check(len(fails) == 3 and len(ok) == 1, "alb: demo capture has 3 failures to :44347 and 1 healthy to :44332")
    if len(fails) != 3 or not ok:
        return
    T = "127.0.0.1:44347"
    first = min(us_of(d["start_time"]) for d in conns)
    lines = []
    for d in fails:   # the 502 is logged a few ms after the handshake failed
        lines.append(entry(us_of(d["end_time"]) + 3000, T, req_us=us_of(d["start_time"]) - 5000))
    lines.append(entry(us_of(ok[0]["end_time"]), "127.0.0.1:44332", elb=200, tgt="200", tpt="0.004"))
    lines.append(entry(first, T))                                # in the span, no failure left for it
    lines.append(entry(first + 1000, T, elb=504, reason="TargetTimeout", extra=False))
    lines.append(entry(first + 2000, T, tgt="502", tpt="0.010"))  # the target itself answered 502
    lines.append(entry(first, "10.9.9.9:443"))                   # a target not in the capture
    lines.append(entry(first + 3600 * 1000000, T))                # an hour later
    lines.append(entry(first, "-", tpt="-1"))                     # no target
    tmp = tempfile.mkdtemp(prefix="tlswhy-alb.")
    try:
        plain = os.path.join(tmp, "a.log")
        open(plain, "w").write("\n".join(lines) + "\n")
        r = subprocess.run([tlswhy, "-r", pcap, "--alb-log", plain], capture_output=True, text=True)
        want = ("3 of the 6 502s and 504s to 127.0.0.1:44347 in the log match failed handshakes in the capture "
                "(cause: alb-target-needs-tls13 x3); 3 match nothing")
        check(want in r.stdout and r.returncode == 1 and r.stderr == "",
              "alb: text says which 502s match (%r)" % [l for l in r.stdout.splitlines() if "44347" in l][:2])
        for s in ("1 502s/504s name targets with no connection in the capture",
                  "1 502s/504s to targets in the capture fall outside its time span",
                  "1 502s/504s have no target", "the target answered", "TargetTimeout"):
            check(s in r.stdout, "alb: text says '%s'" % s)
        # the same as JSON, JSON Lines, ECS, Markdown and HTML
        j = json.loads(subprocess.run([tlswhy, "-r", pcap, "--alb-log", plain, "-F", "json"],
                                      capture_output=True, text=True).stdout)["alb_log"]
        t = j["targets"][0]
        check(j["entries"] == 10 and j["entries_502"] == 8 and j["entries_504"] == 1 and t["ip"] == "127.0.0.1"
              and t["port"] == 44347 and t["matched"] == 3 and t["unmatched"] == 3 and t["entries_502"] == 5
              and t["entries_504"] == 1 and t["causes"] == {"alb-target-needs-tls13": 3}
              and j["target_not_in_capture"] == 1 and j["outside_capture_span"] == 1 and j["no_target"] == 1
              and t["failed_without_entry"] == 0, "alb: json numbers (%s)" % json.dumps(j)[:300])
        for fmt, get in (("jsonl", lambda o: [json.loads(l) for l in o.splitlines()][-1]["alb_log"]),
                         ("ecs", lambda o: [json.loads(l) for l in o.splitlines()][-1]["tlswhy"]["alb_log"])):
            o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", plain, "-F", fmt], capture_output=True, text=True).stdout
            try:
                check(get(o) == j, "alb: %s summary line carries the same alb_log" % fmt)
            except (KeyError, ValueError, IndexError):
                check(False, "alb: %s summary line carries alb_log" % fmt)
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for fmt in ("json", "jsonl"):
            o = os.path.join(tmp, "r." + fmt)
            subprocess.run([tlswhy, "-r", pcap, "--alb-log", plain, "-o", o], capture_output=True)
            v = subprocess.run(["python3", "-W", "ignore", os.path.join(here, "validate_json.py"), fmt, o],
                               capture_output=True, text=True)
            check(v.returncode == 0, "alb: %s with alb_log valid against docs/schema (%s)" % (fmt, v.stdout[-200:]))
        for fmt in ("markdown", "html"):
            o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", plain, "-F", fmt], capture_output=True, text=True).stdout
            check("ALB access log" in o and "3 of the 6 502s and 504s to 127.0.0.1:44347" in o,
                  "alb: %s has the section" % fmt)
        o = subprocess.run([tlswhy, "-r", pcap, "-F", "json"], capture_output=True, text=True).stdout
        check("alb_log" not in json.loads(o), "alb: no alb_log without --alb-log")
        # gzip, split over two files (as S3 holds one per node and 5 minutes)
        g1, g2 = os.path.join(tmp, "1.log.gz"), os.path.join(tmp, "2.log.gz")
        with gzip.open(g1, "wt") as f:
            f.write("\n".join(lines[:4]) + "\n")
        with gzip.open(g2, "wt") as f:
            f.write("\r\n".join(lines[4:]) + "\r\n")
        o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", g1, "--alb-log", g2, "-F", "json"],
                           capture_output=True, text=True)
        jg = json.loads(o.stdout)["alb_log"]
        strip = lambda x: {k: v for k, v in x.items() if k not in ("files", "sentences")}
        check(jg["files"] == 2 and strip(jg) == strip(j) and jg["sentences"][1:] == j["sentences"][1:]
              and o.stderr == "", "alb: two .gz files (CRLF in one) read as the plain one")
        # the reverse: one 502 logged, three failures
        one = os.path.join(tmp, "one.log")
        open(one, "w").write(lines[1] + "\n")
        o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", one], capture_output=True, text=True).stdout
        check("All 1 502s to 127.0.0.1:44347 in the log match" in o and
              "2 failed handshakes to 127.0.0.1:44347 in the log's time span have no 502 or 504" in o,
              "alb: failures without a 502 (%r)" % [l for l in o.splitlines() if "44347" in l])
        # an entry one clock-skew tolerance away still matches, two do not
        d = fails[0]
        near = os.path.join(tmp, "near.log")
        open(near, "w").write(entry(us_of(d["end_time"]) + 900000, T, req_us=us_of(d["end_time"]) + 900000) + "\n")
        o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", near, "-F", "json"], capture_output=True, text=True).stdout
        check(json.loads(o)["alb_log"]["targets"][0]["matched"] == 1, "alb: 0.9 s of clock skew still matches")
        open(near, "w").write(entry(us_of(conns[-1]["end_time"]) + 2000000, T,
                                    req_us=us_of(conns[-1]["end_time"]) + 1500000) + "\n")
        o = subprocess.run([tlswhy, "-r", pcap, "--alb-log", near, "-F", "json"], capture_output=True, text=True).stdout
        a = json.loads(o)["alb_log"]
        check(a["outside_capture_span"] == 1, "alb: 2 s after the capture's end is outside its span")
        # errors
        r = subprocess.run([tlswhy, "-r", pcap, "--alb-log", os.path.join(tmp, "missing.log")],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "missing.log" in r.stderr and r.stdout == "", "alb: a missing file is exit 2")
        hostile(tlswhy, pcap, tmp, lines, check)
    finally:
        for root, dirs, files in os.walk(tmp, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            os.rmdir(root)


def hostile(tlswhy, pcap, tmp, good, check):
    rnd = random.Random(20)
    bad = [
        'https 2026-11-24T13:25:08.381214Z app/x "unterminated 1.2.3.4:5',
        "https not-a-time app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2",
        "https 2026-13-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08.Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:99999 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 [::1:443 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 x -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 5020 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - -1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 -",
        "https  2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2 ",
        'https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2 "a"b',
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2 " + "9" * 70000,
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2\x00zz",
        "\xff\xfe binary \x01\x02",
        "https 2026-11-24T13:25:08Z app/x 1.2.3.4:5 127.0.0.1:44347 99999999999999999999 -1 -1 502 - 1 2",
        "https 9999-12-31T23:59:60.999999999Z app/x 1.2.3.4:5 127.0.0.1:44347 0 -1 -1 502 - 1 2 - - - - - - - - - x",
    ]
    path = os.path.join(tmp, "hostile.log")
    with open(path, "w", encoding="latin-1") as f:
        for i, b in enumerate(bad):
            f.write(b + "\n")
    r = subprocess.run([tlswhy, "-r", pcap, "--alb-log", path, "-F", "json"], capture_output=True, text=True,
                       errors="replace")
    said = [l for l in r.stderr.splitlines() if l.startswith(path + ":")]
    check(r.returncode in (0, 1) and len(said) == len(bad) and all("line skipped" in l for l in said),
          "alb: %d hostile lines, each file:line: reason (%d said; rc %d; %s)"
          % (len(bad), len(said), r.returncode, r.stderr[-300:]))
    check(json.loads(r.stdout)["alb_log"]["malformed_lines"] == len(bad),
          "alb: malformed lines counted")
    # mutations of good lines: truncations, byte flips, quote and space damage
    muts = []
    for _ in range(3000):
        s = list(rnd.choice(good))
        for _ in range(rnd.randint(1, 4)):
            if not s:
                break
            k = rnd.randrange(len(s))
            op = rnd.randrange(4)
            if op == 0:
                s[k] = chr(rnd.randrange(1, 256))
            elif op == 1:
                del s[k:k + rnd.randint(1, 40)]
            elif op == 2:
                s.insert(k, rnd.choice(['"', " ", "\\", ":", "-", "."]))
            else:
                s = s[:k]
        muts.append("".join(s).replace("\n", " ").replace("\r", " "))
    path2 = os.path.join(tmp, "mut.log")
    with open(path2, "w", encoding="latin-1") as f:
        f.write("\n".join(muts) + "\n")
    r = subprocess.run([tlswhy, "-r", pcap, "--alb-log", path2, "--alb-log", path2, "-F", "json"],
                       capture_output=True, text=True, errors="replace")
    ok = r.returncode in (0, 1)
    try:
        a = json.loads(r.stdout)["alb_log"]
        ok = ok and a["lines"] == 2 * len(muts) and a["entries"] + a["malformed_lines"] <= a["lines"]
    except ValueError:
        ok = False
    said = [l for l in r.stderr.splitlines() if l.startswith(path2 + ":")]
    check(ok and len(said) <= 2 * 21, "alb: 3000 mutated lines twice: no crash, complaints capped (%d; rc %d)"
          % (len(said), r.returncode))
    # a gzip file cut short
    gz = gzip.compress(("\n".join(good) + "\n").encode() * 50)
    path3 = os.path.join(tmp, "cut.log.gz")
    open(path3, "wb").write(gz[: len(gz) // 2])
    r = subprocess.run([tlswhy, "-r", pcap, "--alb-log", path3, "-F", "json"], capture_output=True, text=True)
    check(r.returncode in (0, 1) and "read error" in r.stderr and json.loads(r.stdout)["alb_log"]["entries"] > 0,
          "alb: a gzip file cut short: a warning, the entries before it used (%s)" % r.stderr[-200:])
