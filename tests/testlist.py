"""testlist.py - the cases of one kind from tests/TESTLIST, for the Python
tests (the format is described at the head of that file).

    from testlist import cases
    for capture, idx, stage, alerts, version in cases("capture"): ...

Each case is the list of its fields after the kind; with `numbered`, a
(line number, fields) pair, for error messages that point at the line.
"""
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "TESTLIST")


def cases(kind, path=PATH, numbered=False):
    out = []
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t")
            if fields[0] != kind:
                continue
            out.append((n, fields[1:]) if numbered else fields[1:])
    return out
