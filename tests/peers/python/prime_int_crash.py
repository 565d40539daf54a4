#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), bloquant, avec la
# boucle d'accept.
#
# ERREUR : int() sans try/except. « 4j » lève ValueError, que rien
# n'attrape : le programme entier s'arrête, et plus aucun client n'est
# servi. Remède : try: n = int(ligne) except ValueError: répondre E.
#     python3 prime_int_crash.py 8809
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809


def isprime(n):
    if n < 2:
        return False
    for x in range(2, int(n**0.5) + 1):
        if n % x == 0:
            return False
    return True


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    conn, addr = s.accept()
    print("Connexion reçue:", addr, flush=True)
    f = conn.makefile("rb")
    for ligne in f:
        n = int(ligne)
        if isprime(n):
            conn.sendall(b"T\n")
        else:
            conn.sendall(b"F\n")
    conn.close()
