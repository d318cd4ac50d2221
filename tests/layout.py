#!/usr/bin/env python3
"""layout.py - the architecture of issue 13, checked on the source tree.

  python3 tests/layout.py

- Layers: dissect/ includes only dissect/; rules/ only dissect/ and rules/;
  report/ no capture/, app/ or rules/rule_int.h; capture/ no report/,
  rules/ or app/. Only app/ (the composition root) and probe/ see them all.
- No include cycle between any two files of the project.
- The hand-written grow-by-realloc sites are the known ones (the bounded
  buffer dissect/dbuf.c, and the few listed below with their reason); a
  new one fails here, to be written with dbuf instead.
- One hash mixer: no FNV constants outside tests.
The last line is "N passed, N failed"; exit 1 when anything failed.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DIRS = ["app", "capture", "dissect", "probe", "report", "rules"]
# what each directory may include (besides itself and system headers)
MAY = {
    "dissect": set(),
    "rules": {"dissect"},
    "report": {"dissect", "rules"},
    "capture": {"dissect"},
    "probe": {"dissect", "rules", "report", "capture"},
    "app": {"dissect", "rules", "report", "capture", "probe"},
}
PRIVATE = {"rules/rule_int.h": {"rules"}}   # header: directories that may include it
# realloc outside dissect/dbuf.c, each with why it is not a dbuf
REALLOC_OK = {
    "rules/load.c": "grow1(): start-up only, one function for every array of a rule set",
    "capture/fast.c": "the libpcap path's batch, grown once for a packet bigger than a batch",
    "dissect/record.c": "the event array: its first block comes from a pool (dbuf has none)",
}

passed = failed = 0


def ok(m):
    global passed
    passed += 1
    print("ok   " + m)


def bad(m):
    global failed
    failed += 1
    print("FAIL " + m)


inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
files = {}
for d in DIRS:
    for dp, _, fs in os.walk(os.path.join(ROOT, d)):
        for f in fs:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(dp, f), ROOT)
                with open(os.path.join(ROOT, rel), errors="replace") as fh:
                    files[rel] = fh.read()

edges = {}
layer_bad = []
for rel, text in sorted(files.items()):
    top = rel.split("/")[0]
    edges[rel] = []
    for inc in inc_re.findall(text):
        if "/" not in inc:
            continue
        itop = inc.split("/")[0]
        if inc in files:
            edges[rel].append(inc)
        if itop in MAY and itop != top and itop not in MAY[top]:
            layer_bad.append(f"{rel} includes {inc}")
        if inc in PRIVATE and top not in PRIVATE[inc]:
            layer_bad.append(f"{rel} includes the private {inc}")
if layer_bad:
    for b in layer_bad:
        bad("layer: " + b)
else:
    ok(f"layers: {len(files)} files include only the layers below them")

# cycles: iterative DFS, colouring
WHITE, GREY, BLACK = 0, 1, 2
colour = {f: WHITE for f in edges}
cycles = []
for start in edges:
    if colour[start] != WHITE:
        continue
    stack = [(start, iter(edges[start]))]
    path = [start]
    colour[start] = GREY
    while stack:
        node, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            colour[node] = BLACK
            stack.pop()
            path.pop()
            continue
        if colour.get(nxt) == GREY:
            cycles.append(path[path.index(nxt):] + [nxt])
        elif colour.get(nxt) == WHITE:
            colour[nxt] = GREY
            stack.append((nxt, iter(edges[nxt])))
            path.append(nxt)
if cycles:
    for c in cycles:
        bad("include cycle: " + " -> ".join(c))
else:
    ok("no include cycle")

for rel, text in sorted(files.items()):
    if not rel.endswith(".c") or rel == "dissect/dbuf.c":
        continue
    n = len(re.findall(r"\brealloc\s*\(", text))
    if n and rel not in REALLOC_OK:
        bad(f"{rel}: {n} realloc call(s): grow with dissect/dbuf.h")
ok("realloc only where listed: " + "; ".join(f"{k} ({v})" for k, v in REALLOC_OK.items()))

fnv = [rel for rel, t in files.items() if re.search(r"2166136261|16777619|1469598103934665603|1099511628211", t)]
if fnv:
    bad("FNV constants (use dissect/hash.h): " + ", ".join(sorted(fnv)))
else:
    ok("one hash mixer: no FNV outside tests")

print(f"layout: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
