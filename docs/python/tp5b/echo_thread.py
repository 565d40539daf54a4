#!/usr/bin/python3
"""TP5b, 2.2 version thread : le thread principal fait accept, chaque
client a son thread qui fait la boucle recv/send.

Le pendant Rust est `echo-thread-server`.

    python3 docs/python/tp5b/echo_thread.py       # [::]:7777
"""

import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def handle(sc):
    while True:
        data = sc.recv(1500)
        if len(data) == 0:
            break
        sc.sendall(data)
    sc.close()


s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", PORT))
s.listen(1)
print("en écoute sur [::]:%d" % s.getsockname()[1], flush=True)

while True:
    sc, addr = s.accept()
    t = threading.Thread(None, handle, None, (sc,))
    t.start()
