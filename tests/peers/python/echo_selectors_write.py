#!/usr/bin/python3
# Serveur echo TCP avec selectors (TP5b 2.1), sockets non bloquantes, un
# tampon de sortie par client : la recette de beaucoup de tutoriels.
#
# ERREUR : chaque client est inscrit pour toujours en lecture ET en
# écriture (EVENT_READ | EVENT_WRITE). Une socket est presque toujours
# prête en écriture : select() rend la main tout de suite, encore et
# encore, même quand il n'y a rien à envoyer. Avec un seul client connecté
# qui ne dit rien, le serveur prend un cœur entier (boucle active).
# Remède : ne demander EVENT_WRITE que lorsque le tampon de sortie n'est
# pas vide (sel.modify), et revenir à EVENT_READ seul une fois vidé.
#     python3 echo_selectors_write.py 7777
import selectors
import socket
import sys
import types

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

sel = selectors.DefaultSelector()
lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", PORT))
lsock.listen()
print("en écoute sur 127.0.0.1:%d" % lsock.getsockname()[1], flush=True)
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ, data=None)


def accept_wrapper(sock):
    conn, addr = sock.accept()
    conn.setblocking(False)
    data = types.SimpleNamespace(addr=addr, outb=b"")
    events = selectors.EVENT_READ | selectors.EVENT_WRITE
    sel.register(conn, events, data=data)


def service_connection(key, mask):
    sock = key.fileobj
    data = key.data
    if mask & selectors.EVENT_READ:
        try:
            recv_data = sock.recv(4096)
        except BlockingIOError:
            recv_data = None
        except OSError:
            recv_data = b""
        if recv_data:
            data.outb += recv_data
        elif recv_data == b"":
            sel.unregister(sock)
            sock.close()
            return
    if mask & selectors.EVENT_WRITE:
        if data.outb:
            try:
                sent = sock.send(data.outb)
            except BlockingIOError:
                sent = 0
            except OSError:
                sel.unregister(sock)
                sock.close()
                return
            data.outb = data.outb[sent:]


while True:
    events = sel.select(timeout=None)
    for key, mask in events:
        if key.data is None:
            accept_wrapper(key.fileobj)
        else:
            service_connection(key, mask)
