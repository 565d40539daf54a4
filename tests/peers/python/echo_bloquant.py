#!/usr/bin/python3
# Serveur echo TCP bloquant (TP5b 1.2) : un client à la fois.
# Juste : la boucle recv/sendall, recv() vide termine le client, un try
# pour qu'un client brutal (RST) ne tue pas le serveur.
#     python3 echo_bloquant.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    sc, addr = s.accept()
    print("connexion de", addr, flush=True)
    try:
        while True:
            data = sc.recv(1500)
            if len(data) == 0:
                break
            sc.sendall(data)
    except OSError as e:
        print("client perdu :", e, flush=True)
    sc.close()
