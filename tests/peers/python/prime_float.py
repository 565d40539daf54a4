#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), un thread par client.
#
# ERREUR : la ligne est convertie par int(float(ligne)). « 4.5 » devient
# 4 (F), « 1e3 » devient 1000 (F), « 17.0 » devient 17 (T) : ce ne sont
# pas des entiers, la réponse doit être E. Remède : int(ligne), qui lève
# ValueError pour tout ce qui n'est pas un entier écrit en décimal.
#     python3 prime_float.py 8809
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
                n = int(float(ligne))
                reponse = b"T\n" if isprime(n) else b"F\n"
            except (ValueError, OverflowError):
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
