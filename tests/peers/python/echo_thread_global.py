#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2).
#
# ERREUR : la fonction du thread lit la variable globale conn, celle que
# la boucle d'accept remplace à chaque nouveau client, au lieu du
# paramètre qu'on lui passe. Dès qu'un deuxième client arrive, les deux
# threads lisent SA socket : le premier client n'a plus d'écho. Remède :
# utiliser le paramètre de la fonction (def client(sock): sock.recv…).
#     python3 echo_thread_global.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def client(sock):
    try:
        while True:
            data = conn.recv(1500)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    sock.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=client, args=(conn,), daemon=True).start()
