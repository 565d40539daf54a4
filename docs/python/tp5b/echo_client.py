#!/usr/bin/python3
"""TP5b, 1.3 Client Echo : lit des lignes au clavier, les envoie, affiche
l'écho ; une ligne vide termine.

Le pendant Rust est `echo-client`.

    python3 docs/python/tp5b/echo_client.py               # localhost 7777
    python3 docs/python/tp5b/echo_client.py ::1 7777
"""

import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "localhost"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 7777

# create_connection tries every address of HOST (::1, then 127.0.0.1).
s = socket.create_connection((HOST, PORT))
while True:
    line = sys.stdin.readline()
    # An empty line ("\n") or the end of input ("") ends the client.
    if line == "\n" or line == "":
        break
    data = line.encode("utf-8")
    s.sendall(data)
    # BUG (a classic): one recv may return only part of the echo; a long
    # line comes back in pieces. Read until len(data) bytes came back.
    echo = s.recv(1500)
    print(echo.decode("utf-8"), end="")
s.close()
