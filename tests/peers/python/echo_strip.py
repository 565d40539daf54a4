#!/usr/bin/python3
# Serveur echo TCP bloquant (TP5b 1.2).
#
# ERREUR : le message est nettoyé avec strip() avant d'être renvoyé : la
# fin de ligne (\n, \r\n) et les espaces des bords disparaissent. Le
# client envoie « bonjour\n » et reçoit « bonjour » : il attend sa fin de
# ligne pour toujours. Remède : renvoyer les octets reçus, tels quels ;
# strip() seulement sur ce qu'on affiche.
#     python3 echo_strip.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    conn, addr = s.accept()
    try:
        while True:
            data = conn.recv(1500)
            if not data:
                break
            msg = data.strip()
            print("reçu :", msg, flush=True)
            conn.sendall(msg)
    except OSError:
        pass
    conn.close()
