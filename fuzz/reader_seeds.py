#!/usr/bin/env python3
"""reader_seeds.py - hand-made corner cases for fuzz/fuzz_reader.c.

    python3 fuzz/reader_seeds.py OUTDIR      (fuzz/corpus/reader)

Classic pcap files, little-endian, each written under the SHA-1 of its
bytes (libFuzzer's naming), so a rerun rewrites the same files. They are
what the block reader (capture/block.c) must read exactly as libpcap
1.10.3 does: a record header cut after 1..15 bytes, data cut short,
caplen 0, caplen over the file's snapshot length but not over 262144 (with
the data whole, cut before the snapshot length and cut after it), caplen
over 262144, snaplen 0 in the file header, nanosecond files, a huge or
negative fraction, negative seconds, len below caplen, the link types we
decode; and some the block reader leaves to libpcap (big-endian, version
2.3, FCS bits in the link type, pcapng magic) so the target sees those too.
tests/reader.sh also runs every one of them through tlswhy both ways.
"""
import hashlib
import os
import struct
import sys

US = 0xA1B2C3D4
NS = 0xA1B23C4D


def fhdr(magic=US, major=2, minor=4, snaplen=65535, linktype=1, endian="<"):
    return struct.pack(endian + "IHHiIII", magic, major, minor, 0, 0, snaplen, linktype)


def tcp_frame(n, seed=0):
    """An Ethernet / IPv4 / TCP frame of n bytes (n >= 54), port 443."""
    eth = bytes(range(12)) + b"\x08\x00"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, min(n - 14, 65535), seed & 0xFFFF, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack(">HHIIBBHHH", 40000 + seed % 1000, 443, 1000 + seed, 0, 0x50, 0x18, 65535, 0, 0)
    pay = bytes((seed + i) & 0xFF for i in range(n - 54))
    return eth + ip + tcp + pay


def udp_frame(n):
    eth = bytes(range(12)) + b"\x08\x00"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, n - 14, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 3]), bytes([10, 0, 0, 4]))
    return (eth + ip + struct.pack(">HHHH", 53, 53, n - 34, 0) + bytes(n - 42))[:n]


def rec(data, sec=1700000000, frac=123456, caplen=None, length=None, endian="<", signed=False):
    caplen = len(data) if caplen is None else caplen
    length = caplen if length is None else length
    fmt = endian + ("iiII" if signed else "IIII")
    return struct.pack(fmt, sec, frac, caplen, length) + data


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: reader_seeds.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = []
    good = b"".join(rec(tcp_frame(60 + 13 * i, i), frac=i * 1000) for i in range(3))
    mixed = good + rec(udp_frame(60)) + rec(tcp_frame(54, 9))
    seeds.append(fhdr())                                   # no records
    seeds.append(fhdr() + good)
    seeds.append(fhdr() + mixed)
    one = rec(tcp_frame(80, 5))
    for cut in range(1, 16):                               # record header cut
        seeds.append(fhdr() + good + one[:cut])
    seeds.append(fhdr() + good + one[:16 + 30])            # data cut
    seeds.append(fhdr() + good + one[:16])                 # header, no data
    seeds.append(fhdr() + rec(b"") + good + rec(b""))      # caplen 0
    big = tcp_frame(200, 7)
    seeds.append(fhdr(snaplen=100) + good + rec(big) + good)          # over the snapshot, whole
    seeds.append(fhdr(snaplen=100) + good + rec(big)[:16 + 50])       # cut before the snapshot
    seeds.append(fhdr(snaplen=100) + good + rec(big)[:16 + 150])      # cut after it
    seeds.append(fhdr(snaplen=100) + good + rec(big)[:16 + 100])      # cut at it
    seeds.append(fhdr() + good + rec(b"\0" * 64, caplen=300000))      # over 262144
    seeds.append(fhdr() + good + rec(b"", caplen=262145))
    seeds.append(fhdr(snaplen=0) + good)                              # snaplen 0
    seeds.append(fhdr(snaplen=0) + rec(tcp_frame(262144, 3)) + good)  # the largest record
    seeds.append(fhdr(snaplen=-5 & 0xFFFFFFFF) + good)
    seeds.append(fhdr(snaplen=1) + good)
    seeds.append(fhdr(snaplen=300000) + good + rec(tcp_frame(70000, 2)))
    seeds.append(fhdr(magic=NS) + b"".join(rec(tcp_frame(60, i), frac=f) for i, f in
                 enumerate([0, 999, 1000, 999999999, 1999999999, 0xFFFFFFFF, 0x80000000])))
    seeds.append(fhdr() + b"".join(rec(tcp_frame(60, i), frac=f) for i, f in
                 enumerate([999999, 1000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])))
    seeds.append(fhdr() + b"".join(rec(tcp_frame(60, i), sec=s) for i, s in
                 enumerate([0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])))
    seeds.append(fhdr(magic=NS) + rec(tcp_frame(60), sec=-3, frac=-1500, signed=True))
    seeds.append(fhdr() + rec(tcp_frame(100), length=20) + rec(tcp_frame(60), length=0xFFFFFFFF))
    for lt in (0, 12, 14, 101, 108, 113, 228, 229, 276, 147):
        seeds.append(fhdr(linktype=lt) + good)
    seeds.append(fhdr(linktype=1 | 0x04000000) + good)               # FCS bits: libpcap's
    seeds.append(fhdr(minor=3) + good)                                # 2.3: libpcap's
    seeds.append(fhdr(endian=">") + b"".join(rec(tcp_frame(60, i), endian=">") for i in range(3)))
    seeds.append(fhdr(magic=0xA1B2CD34) + good)                       # Kuznetzov: libpcap's
    many = b"".join(rec(tcp_frame(54 + (i * 37) % 200, i), frac=i) for i in range(300))
    seeds.append(fhdr() + many)
    seeds.append(fhdr() + many + one[:9])
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(s)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
