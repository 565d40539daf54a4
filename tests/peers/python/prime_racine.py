#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), un thread par client.
#
# ERREUR : la boucle de division s'arrête un cran trop tôt :
# range(2, int(n**0.5)) ne contient pas la racine elle-même. 9 (3*3),
# 25 (5*5), 49 sont annoncés premiers. Remède : range(2, int(n**0.5) + 1)
# (ou math.isqrt(n) + 1).
#     python3 prime_racine.py 8809
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809


def isprime(n):
    if n < 2:
        return False
    for x in range(2, int(n**0.5)):
        if n % x == 0:
            return False
    return True


def servir(conn):
    with conn:
        for ligne in conn.makefile("rb"):
            try:
                reponse = b"T\n" if isprime(int(ligne)) else b"F\n"
            except ValueError:
                reponse = b"E\n"
            conn.sendall(reponse)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
