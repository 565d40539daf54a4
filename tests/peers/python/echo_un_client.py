#!/usr/bin/python3
# Serveur echo TCP (TP5b 1.2), tel qu'on l'écrit d'abord.
#
# ERREUR : pas de boucle autour d'accept. Le premier client est bien servi
# jusqu'à son départ, puis le programme se termine : le suivant trouve
# porte close (connexion refusée).
# Remède : while True: conn, addr = s.accept(), puis la boucle recv/sendall.
#     python3 echo_un_client.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
conn, addr = s.accept()
while True:
    data = conn.recv(1500)
    if not data:
        break
    conn.sendall(data)
conn.close()
s.close()
