"""pcapgen.py - the smallest classic pcap writer, for the captures the shell
tests build inline (tests/hostile.sh): an Ethernet / IPv4 / TCP frame per
record, checksums left zero."""
import socket
import struct

# classic pcap, microseconds, snaplen 262144, Ethernet
HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)


def rec(ts, src, dst, sp, dp, seq, ack, flags, payload=b""):
    """One record: time ts in microseconds, a TCP segment src:sp -> dst:dp."""
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 1, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    d = b"\x00" * 6 + b"\x11" * 6 + b"\x08\x00" + ip + tcp + payload
    return struct.pack("<IIII", ts // 1000000, ts % 1000000, len(d), len(d)) + d
