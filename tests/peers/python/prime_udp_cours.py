#!/usr/bin/python3
# Le serveur UDP de nombres premiers du Chapitre 2.2 (1.2), comme le
# cours : une boucle recvfrom, int() sur le datagramme, isprime par
# division, la réponse T, F ou E (suivie de \n) renvoyée par sendto à
# l'adresse d'où vient la question ; un datagramme vide l'arrête, comme
# dans le cours.
#
# Juste pour le cours. Près de 2**64, la division prend des heures, et ce
# serveur à une seule boucle ne répond plus à personne pendant ce temps :
# une remarque, pas un échec, et pas la preuve qu'il est mort.
#     python3 prime_udp_cours.py 8808
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8808


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


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', PORT))
print('en attente sur 127.0.0.1:%d' % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(1024)
    print('Connexion reçue: %s' % str(addr), flush=True)
    if not data:
        break
    try:
        number = int(data)
    except ValueError:
        response = b'E\n'
    else:
        response = b'T\n' if isprime(number) else b'F\n'
    s.sendto(response, addr)
