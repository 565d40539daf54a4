#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2), qui lit octet par
# octet : recv(1) puis sendall de cet octet.
# Juste, mais lent : deux appels système par octet. Chaque octet revient,
# dans l'ordre, la connexion sert autant qu'on veut, b"" termine le
# client. Un gros envoi met du temps à revenir, sans rien perdre : c'est
# une remarque sur la vitesse, pas une faute.
#     python3 echo_octet.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def client(conn):
    with conn:
        try:
            while True:
                c = conn.recv(1)
                if not c:
                    break
                conn.sendall(c)
        except OSError:
            pass


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=client, args=(conn,), daemon=True).start()
