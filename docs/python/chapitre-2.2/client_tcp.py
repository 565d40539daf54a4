#!/usr/bin/python3
"""Le client TCP du chapitre 2.2, 1.1 : la liste du cours, une connexion
par nombre.

Le code du cours, rendu lançable ; les défauts dont parle la fiche
(docs/chapitre-2.2.md, section 2) sont marqués `BUG n`. Le pendant Rust
est `prime-client --connection-per-number`.

    python3 docs/python/chapitre-2.2/client_tcp.py           # 127.0.0.1:8809
    python3 docs/python/chapitre-2.2/client_tcp.py 8809 2 3  # port, nombres

Face au serveur du cours (serveur_tcp.py), la deuxième connexion est
refusée : il ne sert qu'une connexion (BUG 4). Face à
`prime-server --forever`, toute la liste passe.
"""

import socket
import sys

# Added for this project: an optional port, then optional numbers.
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8809

params = ('127.0.0.1', PORT)
BUFFER_SIZE = 1024 # default

# 4j is a Python complex number: '%s' % 4j is '4j', not an integer.
chiffres = [4j, 4, 5, -5, 17, 29, 2**50, 2**50-1]
if len(sys.argv) > 2:
    chiffres = sys.argv[2:]

for chiffre in chiffres:
    s=socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # BUG 4: against the course's server, the second connect is refused.
    s.connect(params)
    print("Envoi d'un message %s" % chiffre)
    # BUG 2: the course writes ('s\n' % chiffre), a TypeError ("not all
    # arguments converted"); '%s\n' is what it means.
    s.send(('%s\n' % chiffre).encode('utf8'))
    # BUG 3: one recv taken for the whole answer.
    data = s.recv(BUFFER_SIZE)
    if len(data) == 0:
        print("\tPas de réponses")
    elif data == b'E\n':
        print("\tUne erreur est détectée par le serveur")
    elif data == b'T\n':
        print("\tLe nombre est bien un nombre premier")
    elif data == b'F\n':
        print("\tLe nombre n'est pas un nombre premier")
    else:
        print("\tLa donnée reçue n'est pas comprise : %s" % data)
    s.close()
