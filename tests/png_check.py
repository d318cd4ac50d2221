#!/usr/bin/env python3
"""png_check.py PNG - exits 0 when PNG is a real screenshot with content:
a valid PNG (signature, IHDR, zlib-decodable IDAT), at least 400x400, and
not blank: many distinct pixel values, and a fair share of non-white rows.
Pure standard library (no PIL on the test machine)."""
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, w = 8, b"", 0
while pos < len(data):
    ln, typ = struct.unpack("!I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + ln]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack("!IIBB", body[:10])
    elif typ == b"IDAT":
        idat += body
    pos += 12 + ln
if w < 400 or h < 400:
    sys.exit("too small: %dx%d" % (w, h))
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4, 0: 1, 4: 2}.get(ctype, 3) * depth // 8
stride = w * bpp + 1
# rows are filtered; a row that is pure white and unfiltered is b'\xff'*; count rows that differ
# from their neighbour or are not all 0xff / 0x00 (filter type 2 'up' on identical rows gives zeros)
busy = 0
for y in range(h):
    row = raw[y * stride + 1:(y + 1) * stride]
    if row.count(row[0]) != len(row):
        busy += 1
distinct = len(set(raw[::7]))
print("%dx%d, %d of %d rows with content, %d distinct byte values" % (w, h, busy, h, distinct))
if busy < h // 10 or distinct < 16:
    sys.exit("blank screenshot")
