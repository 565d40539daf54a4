#!/usr/bin/python3
# Serveur echo TCP avec selectors (TP5b 2.1), sockets non bloquantes,
# comme l'exemple de la documentation du module selectors.
#
# ERREUR : conn.send(data) au lieu de sendall, sans regarder ce que send
# rend. Sur une socket non bloquante, send n'envoie que ce qui tient dans
# le tampon d'envoi, ou lève BlockingIOError quand il est plein : le reste
# est perdu. Les petits messages passent ; des mégaoctets reviennent
# troués. Remède : garder ce qui n'est pas parti et l'envoyer quand la
# socket redevient prête en écriture (ou une socket bloquante et sendall).
#     python3 echo_send.py 7777
import selectors
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

sel = selectors.DefaultSelector()


def accept(sock, mask):
    conn, addr = sock.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, read)


def read(conn, mask):
    try:
        data = conn.recv(1000)
    except OSError:
        data = b""
    if data:
        try:
            conn.send(data)  # Hope it won't block
        except BlockingIOError:
            pass
        except OSError:
            pass
    else:
        sel.unregister(conn)
        conn.close()


sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", PORT))
sock.listen(100)
print("en écoute sur 127.0.0.1:%d" % sock.getsockname()[1], flush=True)
sock.setblocking(False)
sel.register(sock, selectors.EVENT_READ, accept)

while True:
    events = sel.select()
    for key, mask in events:
        callback = key.data
        callback(key.fileobj, mask)
