#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2).
# Juste : chaque client a son thread, recv() vide termine le thread, une
# exception ne termine que ce client.
#     python3 echo_threading.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def servir(conn, addr):
    with conn:
        try:
            while True:
                data = conn.recv(1500)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    t = threading.Thread(target=servir, args=(conn, addr), daemon=True)
    t.start()
