#!/usr/bin/python3
# Serveur de nombres premiers (Chapitre 2.2, 1.1), bloquant.
#
# ERREUR : un seul recv par connexion, puis close(). Le client qui pose
# plusieurs questions sur la même connexion (le client du cours envoie
# toute sa liste sur une connexion) n'a que la première réponse. Et
# « 4\n5\n » arrivés dans le même recv font un seul int() qui échoue.
# Remède : lire les lignes jusqu'à ce que le client ferme
# (conn.makefile() et for ligne in f).
#     python3 prime_une_reponse.py 8809
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
    data = conn.recv(1024)
    try:
        n = int(data.decode())
        reponse = b"T\n" if isprime(n) else b"F\n"
    except ValueError:
        reponse = b"E\n"
    conn.sendall(reponse)
    conn.close()
