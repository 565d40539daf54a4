#!/usr/bin/python3
# Serveur echo TCP (TP5b 1.2), la toute première étape du sujet.
#
# ERREUR : un accept, un recv, un sendall, puis fin du programme. Le
# premier message du premier client revient ; après, plus rien n'écoute.
# Remède : une boucle autour d'accept, et dedans une boucle recv/sendall
# jusqu'à ce que recv rende b''.
#     python3 echo_un_message.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
conn, addr = s.accept()
data = conn.recv(1500)
conn.sendall(data)
conn.close()
s.close()
