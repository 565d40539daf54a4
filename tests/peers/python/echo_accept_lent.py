#!/usr/bin/python3
# Serveur echo TCP bloquant (TP5b 1.2) qui note chaque connexion dans un
# journal.
#
# ERREUR : après chaque accept, time.sleep(3) (« laisser au client le temps
# de s'installer », ou l'attente d'un service de noms lent). Chaque
# nouvelle connexion attend 3 s avant d'être servie : un client patient a
# tout, un client qui attend 2 s croit le serveur muet. Remède : ôter
# l'attente ; rien n'est à attendre après accept, recv attend déjà.
#     python3 echo_accept_lent.py 7777
import socket
import sys
import time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    sc, addr = s.accept()
    time.sleep(3)
    print("connexion de", addr, flush=True)
    try:
        while True:
            data = sc.recv(1500)
            if not data:
                break
            sc.sendall(data)
    except OSError:
        pass
    sc.close()
