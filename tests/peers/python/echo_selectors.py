#!/usr/bin/python3
# Serveur echo TCP avec selectors (TP5b 2.1) : un seul thread, le module
# selectors choisit epoll/poll/select tout seul.
# Juste : on ne s'inscrit qu'en lecture (EVENT_READ), on lit la socket
# que le sélecteur dit prête, recv() vide désinscrit et ferme le client,
# sendall sur une socket bloquante renvoie tout.
#     python3 echo_selectors.py 7777
import selectors
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

sel = selectors.DefaultSelector()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(100)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)


def accepter(sock):
    conn, addr = sock.accept()
    sel.register(conn, selectors.EVENT_READ, lire)


def fermer(conn):
    sel.unregister(conn)
    conn.close()


def lire(conn):
    try:
        data = conn.recv(4096)
        if data:
            conn.sendall(data)
        else:
            fermer(conn)
    except OSError:
        fermer(conn)


sel.register(s, selectors.EVENT_READ, accepter)
while True:
    for cle, masque in sel.select():
        rappel = cle.data
        rappel(cle.fileobj)
