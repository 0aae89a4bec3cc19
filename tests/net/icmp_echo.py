# icmp_echo.py ADDRESS: an ICMP (or ICMPv6) echo to ADDRESS over a datagram
# ICMP socket (no ping binary needed; the caller allows it with
# net.ipv4.ping_group_range). Prints "reply from ADDRESS", exits non-zero
# when none of 3 requests is answered within 2 s each.
import socket, struct, sys

v6 = ":" in sys.argv[1]
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                  socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(2)
for seq in range(3):
    s.sendto(struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, seq) + b"mpquic", (sys.argv[1], 0))
    try:
        data, peer = s.recvfrom(2048)
        if data[0] == (129 if v6 else 0):
            print("reply from %s" % peer[0])
            sys.exit(0)
    except OSError:
        pass
sys.exit("no echo reply")
