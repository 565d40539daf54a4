#!/usr/bin/python3
"""TP5b, 1.4 version UDP : recvfrom, puis sendto du même datagramme.

Le pendant Rust est `echo-udp-server`.

    python3 docs/python/tp5b/echo_udp.py          # [::]:7777 en UDP
    python3 docs/python/tp5b/echo_udp.py 0        # un port libre

Essayez-le avec `nc -u localhost 7777`, et regardez-le avec
`strace -e trace=network python3 docs/python/tp5b/echo_udp.py`.
"""

import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("", PORT))
print("en attente sur [::]:%d" % s.getsockname()[1], flush=True)

while True:
    # 65536: the largest datagram (65507 bytes over IPv4) comes whole; a
    # smaller buffer would cut it without a word.
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
