#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), un thread par client.
#
# ERREUR : la réponse est str(isprime(n)), soit « True » ou « False »,
# au lieu de T ou F (et « Error » au lieu de E). Le protocole dit une
# lettre : T, F ou E, puis \n. Le client du cours lit T/F/E et ne
# comprend pas « True ». Remède : "T\n" if isprime(n) else "F\n".
#     python3 prime_true_false.py 8809
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809


def isprime(n):
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def servir(conn):
    f = conn.makefile("rb")
    for ligne in f:
        try:
            reponse = str(isprime(int(ligne)))
        except ValueError:
            reponse = "Error"
        conn.sendall((reponse + "\n").encode())
    conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
