#!/usr/bin/python3
"""Le serveur TCP du chapitre 2.2, 1.1 : est-ce un nombre premier ?

Le code du cours, remis dans l'ordre et rendu lançable, défauts compris :
chaque défaut dont parle la fiche (docs/chapitre-2.2.md, section 2) est
marqué `BUG n` dans un commentaire. Le pendant Rust est `prime-server`.

    python3 docs/python/chapitre-2.2/serveur_tcp.py          # 127.0.0.1:8809
    python3 docs/python/chapitre-2.2/serveur_tcp.py 0        # un port libre

Comme celui du cours, il sert UNE connexion puis s'arrête.
"""

import socket
import sys


def isprime(n):
    '''check if integer n is a prime'''

    # negative numbers, 0 and 1 are not primes
    if n < 2:
        return False

    # 2 is the only even prime number
    if n == 2:
        return True

    # all other even numbers are not primes
    if not n & 1:
        return False

    # range starts with 3 and only needs to go up the squareroot
    # of n for all odd numbers
    # BUG 8: n**0.5 goes through a float; above 2**52 the rounded root
    # can be off by one.
    for x in range(3, int(n**0.5)+1, 2):
        if n % x == 0:
            return False
    return True


# Added for this project: an optional port (0 = a free one), default 8809.
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809

params = ('127.0.0.1', PORT)
BUFFER_SIZE = 1024 # default

donnees = {}

s=socket.socket(socket.AF_INET, socket.SOCK_STREAM)#Internet, TCP
s.bind(params)
s.listen(1)
# Added for this project: the first line every netlabs server prints, so
# that tests (and you, after port 0) know where it listens.
print('en écoute sur %s:%d' % s.getsockname(), flush=True)

# No loop around accept: one connection, then the end (BUG 4 for a client
# that opens one connection per number).
conn, addr = s.accept()
print('Connexion acceptée: %s' % str(addr), flush=True)

while True:
    # BUG 3: one recv taken for one message; TCP is a stream of bytes.
    data = conn.recv(BUFFER_SIZE)
    if not data:
        break
    # In the course's text this block stands outside the loop; it belongs
    # inside it.
    print('Donnée reçue: %s' % data, flush=True)
    # BUG 5: int() gets bytes with their '\n' and accepts them.
    try : number = int(data)
    except:
        response = b'E'
        phrase = "'%s' n'est pas un entier" % data
    else:
        if isprime(number):
            phrase = "'%s' est un nombre premier" % number
            response = b'T'
        else:
            # BUG 6: "n'est pas est", and `phrase` is never printed.
            phrase = "'%s' n'est pas est un nombre premier" % number
            response = b'F'
    finally:
        # BUG 1: b'T' and not b'T\n', the client waits for b'T\n'.
        print(response, flush=True)
        conn.send(response)
conn.close()
