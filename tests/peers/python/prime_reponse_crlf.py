#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), un thread par client.
#
# ERREUR : les réponses finissent par \r\n (« comme telnet ») : T\r\n au
# lieu de T\n. Le protocole dit que la réponse est une lettre suivie de
# \n ; le client du cours compare avec b'T\n' et ne reconnaît rien.
# Remède : b"T\n". (Recevoir \r\n est permis ; l'envoyer ne l'est pas.)
#     python3 prime_reponse_crlf.py 8809
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809


def isprime(n):
    if n < 2:
        return False
    for x in range(2, int(n**0.5) + 1):
        if n % x == 0:
            return False
    return True


def servir(conn):
    with conn:
        for ligne in conn.makefile("rb"):
            try:
                reponse = b"T\r\n" if isprime(int(ligne)) else b"F\r\n"
            except ValueError:
                reponse = b"E\r\n"
            conn.sendall(reponse)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
