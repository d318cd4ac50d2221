#!/usr/bin/env python3
"""gen_hostile.py - make a hostile capture from a recorded one, deterministically.

    python3 tests/gen_hostile.py IN.pcap OUT.pcap

Takes the first ClientHello with a server_name in IN (classic pcap, Ethernet
or raw IPv4, the ClientHello in one segment), replaces the host_name with
HOSTILE below, and fixes every length that covers it: server_name entry,
server_name list, extension, extensions block, handshake message, TLS
record, IPv4 total length and header checksum, TCP checksum. The client's
later sequence numbers and the server's acknowledgements are shifted by the
size change so the stream still reassembles. Everything else is copied byte
for byte, so the output depends only on the input.

HOSTILE holds what a report must never pass through raw: a terminal escape
(colour and title-setting), CR/LF, Markdown table and code metacharacters,
an HTML script, a Markdown link to javascript:, a bidi override, and bytes
that are not UTF-8.
"""
import struct
import sys

HOSTILE = (b"\x1b[31mEVIL\x1b[0m\x1b]0;pwned\x07\r\nline2|pipe|`tick`<script>alert(1)</script>"
           b"*star*_u_[x](javascript:alert(1))#h &amp; \xe2\x80\xae\xff\xfe\xc0\xafend")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_pcap(path):
    raw = open(path, "rb").read()
    magic = raw[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        e = ">"
    else:
        sys.exit("gen_hostile: %s: only classic microsecond pcap is supported" % path)
    linktype = struct.unpack(e + "I", raw[20:24])[0]
    pkts, off = [], 24
    while off + 16 <= len(raw):
        ts, tu, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        pkts.append([ts, tu, bytearray(raw[off + 16:off + 16 + incl]), orig])
        off += 16 + incl
    return raw[:24], e, linktype, pkts


def ip_offset(linktype, frame):
    if linktype == 1:  # Ethernet
        return 14 if frame[12:14] == b"\x08\x00" else None
    if linktype in (101, 12, 228):  # raw IPv4
        return 0
    return None


def tcp_parts(linktype, frame):
    ip = ip_offset(linktype, frame)
    if ip is None or frame[ip] >> 4 != 4 or frame[ip + 9] != 6:
        return None
    ihl = (frame[ip] & 15) * 4
    tcp = ip + ihl
    doff = (frame[tcp + 12] >> 4) * 4
    tot = struct.unpack("!H", frame[ip + 2:ip + 4])[0]
    return ip, tcp, tcp + doff, ip + tot


def rewrite_sni(payload):
    """Returns (new payload, delta) or None when this is not a ClientHello with SNI."""
    p = bytes(payload)
    if len(p) < 9 or p[0] != 0x16 or p[5] != 0x01:
        return None
    rec_len = struct.unpack("!H", p[3:5])[0]
    if 5 + rec_len > len(p):
        return None
    q = 9 + 2 + 32                      # after record+handshake header, version, random
    q += 1 + p[q]                       # session id
    q += 2 + struct.unpack("!H", p[q:q + 2])[0]   # cipher suites
    q += 1 + p[q]                       # compression
    ext_block = q
    ext_end = q + 2 + struct.unpack("!H", p[q:q + 2])[0]
    q += 2
    while q + 4 <= ext_end:
        etype, elen = struct.unpack("!HH", p[q:q + 4])
        if etype == 0:
            # server_name: list_len(2) type(1) name_len(2) name
            name_len = struct.unpack("!H", p[q + 7:q + 9])[0]
            delta = len(HOSTILE) - name_len
            ext = struct.pack("!HHHBH", 0, elen + delta, elen - 2 + delta, 0, len(HOSTILE)) + HOSTILE
            ext += p[q + 9 + name_len:q + 4 + elen]
            out = bytearray(p[:q] + ext + p[q + 4 + elen:])
            struct.pack_into("!H", out, ext_block, ext_end - ext_block - 2 + delta)
            hs_len = struct.unpack("!I", b"\0" + p[6:9])[0] + delta
            out[6:9] = struct.pack("!I", hs_len)[1:]
            struct.pack_into("!H", out, 3, rec_len + delta)
            return out, delta
        q += 4 + elen
    return None


def fix_checksums(frame, ip, tcp):
    """IPv4 header checksum and TCP checksum over the frame as it now is."""
    ihl = (frame[ip] & 15) * 4
    tot = struct.unpack("!H", frame[ip + 2:ip + 4])[0]
    struct.pack_into("!H", frame, ip + 10, 0)
    struct.pack_into("!H", frame, ip + 10, csum(bytes(frame[ip:ip + ihl])))
    seg = bytearray(frame[tcp:ip + tot])
    struct.pack_into("!H", seg, 16, 0)
    pseudo = bytes(frame[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", frame, tcp + 16, csum(pseudo + bytes(seg)))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    head, e, linktype, pkts = read_pcap(sys.argv[1])
    flow, delta = None, 0
    for pk in pkts:
        frame = pk[2]
        parts = tcp_parts(linktype, frame)
        if not parts:
            continue
        ip, tcp, pay, end = parts
        key = (bytes(frame[ip + 12:ip + 16]), bytes(frame[tcp:tcp + 2]),
               bytes(frame[ip + 16:ip + 20]), bytes(frame[tcp + 2:tcp + 4]))
        if flow is None:
            r = rewrite_sni(frame[pay:end])
            if not r:
                continue
            new, delta = r
            frame[pay:end] = new
            struct.pack_into("!H", frame, ip + 2, end - ip + delta)
            pk[3] += delta
            flow = key
        elif key == flow:       # client -> server after the ClientHello
            seq = struct.unpack("!I", frame[tcp + 4:tcp + 8])[0]
            struct.pack_into("!I", frame, tcp + 4, (seq + delta) & 0xFFFFFFFF)
        elif key == (flow[2], flow[3], flow[0], flow[1]) and frame[tcp + 13] & 0x10:
            ack = struct.unpack("!I", frame[tcp + 8:tcp + 12])[0]
            struct.pack_into("!I", frame, tcp + 8, (ack + delta) & 0xFFFFFFFF)
        else:
            continue
        if pk[3] == len(frame):   # checksums only over whole packets
            fix_checksums(frame, ip, tcp)
    if flow is None:
        sys.exit("gen_hostile: no ClientHello with server_name in %s" % sys.argv[1])
    with open(sys.argv[2], "wb") as f:
        f.write(head)
        for ts, tu, frame, orig in pkts:
            f.write(struct.pack(e + "IIII", ts, tu, len(frame), orig))
            f.write(frame)


if __name__ == "__main__":
    main()
