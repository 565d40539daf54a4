#!/usr/bin/python3
"""Le serveur UDP du chapitre 2.2, 1.2.

Le code du cours, rendu lançable ; ses défauts sont marqués `BUG`. Le
pendant Rust est `prime-udp-server`, qui, lui, répond.

    python3 docs/python/chapitre-2.2/serveur_udp.py          # 127.0.0.1:8808
    python3 docs/python/chapitre-2.2/serveur_udp.py 0        # un port libre

Un datagramme vide l'arrête (le cas particulier du cours).
"""

import socket
import sys


def isprime(n):
    '''check if integer n is a prime'''
    if n < 2:
        return False
    if n == 2:
        return True
    if not n & 1:
        return False
    for x in range(3, int(n**0.5)+1, 2):
        if n % x == 0:
            return False
    return True


# Added for this project: an optional port (0 = a free one), default 8808.
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8808

params = ('127.0.0.1', PORT)
BUFFER_SIZE = 1024 # default

donnees = {}

s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM) #SOCK_STREAM
s.bind(params)
# Added for this project: the first line of every netlabs UDP server.
print('en attente sur %s:%d' % s.getsockname(), flush=True)
# Les lignes suivantes n'ont pas de sens en UDP:
#s.listen(1)
#conn, addr = s.accept()
#print('Connexion acceptée: %s' % str(addr))

while True:
    #data = conn.recv(BUFFER_SIZE)
    # BUG: a datagram longer than BUFFER_SIZE is cut without a word.
    data, addr = s.recvfrom(BUFFER_SIZE)
    print('Connexion reçue: %s' % str(addr), flush=True)
    print('Donnée reçue: %s' % data, flush=True)
    if not data:
        break
    # BUG: 'Donnée reçue' is printed twice.
    print('Donnée reçue: %s' % data, flush=True)
    try:
        number = int(data)
    except:
        response = b'E'
        phrase = "'%s' n'est pas un entier" % data
    else:
        if isprime(number):
            phrase = "'%s' est un nombre premier" % number
            response = b'T'
        else:
            phrase = "'%s' n'est pas est un nombre premier" % number
            response = b'F'
    finally:
        print(response, flush=True)
        # BUG 7: the answer is never sent; the missing line is
        # s.sendto(response, addr)
#conn.close()
