#!/usr/bin/python3
"""TP5b, 1.2 Version TCP : le serveur echo, un client à la fois.

Le serveur que le TP fait écrire, étape par étape. Le pendant Rust est
`echo-server` ; la fiche est docs/tp5b-echo.md.

    python3 docs/python/tp5b/echo_tcp.py          # [::]:7777
    python3 docs/python/tp5b/echo_tcp.py 0        # un port libre

Essayez-le avec `nc -N localhost 7777`, puis avec deux `nc` à la fois.
"""

import socket
import sys

# Added for this project: an optional port (0 = a free one), default 7777.
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

# AF_INET6 serves IPv6 and IPv4 ("::ffff:127.0.0.1") alike.
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 0)
# Before bind: a restarted server need not wait for TIME_WAIT to end.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", PORT))
s.listen(1)
# Added for this project: the first line of every netlabs server.
print("en écoute sur [::]:%d" % s.getsockname()[1], flush=True)

while True:
    sc, addr = s.accept()
    while True:
        # BUG (the TP's recipe): a client that resets its connection (RST)
        # makes recv raise ConnectionResetError, which ends the whole
        # server, not just this client; `labcheck echo` shows it (TP5b
        # sheet, exercise 7).
        data = sc.recv(1500)
        if len(data) == 0:
            break
        # BUG (as the TP says it): send may send only part of data and
        # returns how much; sendall sends everything. See exercise 4.
        sc.send(data)
    sc.close()
