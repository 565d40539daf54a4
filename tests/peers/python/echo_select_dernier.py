#!/usr/bin/python3
# Serveur echo TCP avec select (TP5b 2.1).
#
# ERREUR, la classique : dans la boucle sur les sockets prêtes, on lit sc,
# la dernière socket acceptée, au lieu de sock, celle que select dit
# prête. Avec un seul client c'est la même ; avec deux clients connectés,
# quand le premier parle, recv() attend sur le second : le serveur reste
# bloqué et le premier n'a pas sa réponse. Remède : data = sock.recv(1500).
#     python3 echo_select_dernier.py 7777
import select
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

l = []
while True:
    ready, _, _ = select.select(l + [s], [], [])
    for sock in ready:
        if sock is s:
            sc, addr = s.accept()
            l.append(sc)
        else:
            try:
                data = sc.recv(1500)
                if len(data) > 0:
                    sc.sendall(data)
                    continue
            except OSError:
                pass
            sc.close()
            if sc in l:
                l.remove(sc)
