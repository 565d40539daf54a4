#!/usr/bin/python3
# Le serveur de nombres premiers du Chapitre 2.2 (1.1), écrit comme le
# cours : isprime par division jusqu'à la racine, int() sur la ligne reçue,
# réponse T, F ou E. Avec ce que le TP ajoute : une boucle autour
# d'accept, un thread par client (TP5b 2.2), une réponse par LIGNE
# (makefile découpe le flux TCP en lignes) terminée par \n.
#
# Juste pour le cours. Deux promesses vont au-delà de ce qu'il enseigne :
# une réponse exacte et immédiate près de 2**64 (la division jusqu'à √n y
# prend des heures ; il faudrait Miller–Rabin) et les bizarreries d'int()
# (1_000, que int() accepte d'ailleurs). Ce sont des remarques, pas des
# échecs, sauf avec --strict.
#     python3 prime_cours.py 8809
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809


def isprime(n):
    '''check if integer n is a prime'''
    if n < 2:
        return False
    if n == 2:
        return True
    if not n & 1:
        return False
    for x in range(3, int(n**0.5) + 1, 2):
        if n % x == 0:
            return False
    return True


def servir(conn, addr):
    print('Connexion acceptée: %s' % str(addr), flush=True)
    with conn:
        try:
            for ligne in conn.makefile('rb'):
                try:
                    number = int(ligne)
                except ValueError:
                    response = b'E\n'
                    print("'%s' n'est pas un entier" % ligne, flush=True)
                else:
                    if isprime(number):
                        response = b'T\n'
                        print("'%s' est un nombre premier" % number, flush=True)
                    else:
                        response = b'F\n'
                        print("'%s' n'est pas un nombre premier" % number, flush=True)
                conn.sendall(response)
        except OSError:
            pass


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', PORT))
s.listen(5)
print('en écoute sur 127.0.0.1:%d' % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn, addr), daemon=True).start()
