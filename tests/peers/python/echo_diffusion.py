#!/usr/bin/python3
# Serveur echo TCP avec select (TP5b 2.1).
#
# ERREUR : le message reçu est renvoyé à TOUS les clients connectés (un
# bout de serveur de discussion recopié), pas seulement à celui qui l'a
# envoyé. Seul, un client ne voit rien ; à deux, chacun reçoit les
# messages de l'autre au milieu de son écho. Remède : sendall seulement
# sur la socket qui a été lue.
#     python3 echo_diffusion.py 7777
import select
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

serveur = socket.socket()
serveur.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
serveur.bind(("127.0.0.1", PORT))
serveur.listen(10)
print("en écoute sur 127.0.0.1:%d" % serveur.getsockname()[1], flush=True)
clients = []

while True:
    prets, _, _ = select.select([serveur] + clients, [], [])
    for s in prets:
        if s is serveur:
            conn, addr = serveur.accept()
            clients.append(conn)
            continue
        try:
            data = s.recv(1500)
        except OSError:
            data = b""
        if not data:
            clients.remove(s)
            s.close()
            continue
        for c in clients:
            try:
                c.sendall(data)
            except OSError:
                pass
