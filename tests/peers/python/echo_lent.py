#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2), qui « travaille »
# avant de répondre.
#
# ERREUR : time.sleep(3) avant chaque réponse (un reste de mise au point,
# ou un calcul lent simulé). Tout revient, mais 3 s plus tard : un client
# qui attend sa réponse 2 s la croit perdue. Le serveur n'est pas muet, il
# est lent. Remède : ôter l'attente ; un vrai calcul long se fait sans
# bloquer la réponse des autres messages.
#     python3 echo_lent.py 7777
import socket
import sys
import threading
import time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def servir(conn):
    with conn:
        try:
            while True:
                data = conn.recv(1500)
                if not data:
                    break
                time.sleep(3)  # traitement
                conn.sendall(data)
        except OSError:
            pass


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
