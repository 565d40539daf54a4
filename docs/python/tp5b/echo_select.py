#!/usr/bin/python3
"""TP5b, 2.1 Version select : un seul thread, select sur la socket
d'écoute et sur chaque client.

Le pendant Rust est `echo-poll-server` (poll au lieu de select).

    python3 docs/python/tp5b/echo_select.py       # [::]:7777
"""

import select
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", PORT))
s.listen(1)
print("en écoute sur [::]:%d" % s.getsockname()[1], flush=True)

l = []
while True:
    ready, _, _ = select.select(l + [s], [], [])
    for sock in ready:
        if sock is s:
            sc, addr = s.accept()
            l.append(sc)
        else:
            # BUG: a client that resets its connection makes recv raise
            # ConnectionResetError, and the one loop of the server ends.
            data = sock.recv(1500)
            if len(data) == 0:
                sock.close()
                # Removing from l while looping over ready (not l) is safe.
                l.remove(sock)
            else:
                # BUG (the TP's recipe): sendall blocks the whole loop on a
                # client that sends without reading; every other client
                # waits with it. See exercise 5.
                sock.sendall(data)
