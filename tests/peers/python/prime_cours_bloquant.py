#!/usr/bin/python3
# Le serveur de nombres premiers du Chapitre 2.2 (1.1), au plus près du
# cours : isprime par division jusqu'à la racine, int() sur la ligne,
# réponses T, F ou E ; avec ce qu'il faut pour plus d'une connexion et pour
# un flux TCP : une boucle autour d'accept, une réponse par LIGNE
# (makefile), terminée par \n. Bloquant : un client à la fois (TP5b 1.2).
#
# Juste pour le cours. Une réponse exacte et immédiate près de 2**64 est
# au-delà (la division jusqu'à √n y prend des heures, pendant lesquelles
# ce serveur bloquant ne sert plus personne) : une remarque, un échec
# seulement avec --strict.
#     python3 prime_cours_bloquant.py 8809
import socket
import sys

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


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', PORT))
s.listen(1)
print('en écoute sur 127.0.0.1:%d' % s.getsockname()[1], flush=True)

while True:
    conn, addr = s.accept()
    print('Connexion acceptée: %s' % str(addr), flush=True)
    try:
        for data in conn.makefile('rb'):
            try:
                number = int(data)
            except ValueError:
                response = b'E\n'
            else:
                response = b'T\n' if isprime(number) else b'F\n'
            conn.sendall(response)
    except OSError:
        pass
    conn.close()
