#!/usr/bin/python3
# Serveur echo TCP bloquant (TP5b 1.2), comme beaucoup de premiers essais.
#
# ERREUR : un seul recv par connexion : le premier message revient, puis
# le serveur ferme la connexion. Un client qui envoie un deuxième message
# sur la même connexion n'a rien (ou « connexion réinitialisée »).
# Remède : une boucle while True autour de recv/sendall, jusqu'à ce que
# recv rende b"" (le client a fermé).
#     python3 echo_une_fois.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    conn, addr = s.accept()
    data = conn.recv(1500)
    conn.sendall(data)
    conn.close()
