#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2).
#
# ERREUR : la réponse est décorée : b"Echo: " + data. Un écho renvoie les
# octets reçus, rien de plus : le client qui compare ce qu'il a envoyé à
# ce qu'il reçoit (le client du TP attend autant d'octets qu'il en a
# envoyé) se trompe. Remède : sendall(data), et print() pour décorer.
#     python3 echo_prefixe.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def client(conn):
    with conn:
        while True:
            data = conn.recv(1500)
            if not data:
                break
            conn.sendall(b"Echo: " + data)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=client, args=(conn,), daemon=True).start()
