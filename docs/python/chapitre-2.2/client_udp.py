#!/usr/bin/python3
"""Le client UDP du chapitre 2.2, 1.2 : un datagramme par nombre, sans
attendre de réponse (le serveur du cours n'en envoie pas), puis le
datagramme vide qui arrête le serveur.

    python3 docs/python/chapitre-2.2/client_udp.py           # 127.0.0.1:8808
    python3 docs/python/chapitre-2.2/client_udp.py 8808 2 3  # port, nombres

Le pendant Rust est `prime-udp-client --stop`, qui attend, lui, chaque
réponse une seconde au plus.
"""

import socket
import sys

# Added for this project: an optional port, then optional numbers.
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8808

params = ('127.0.0.1', PORT)
BUFFER_SIZE = 1024 # default

s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
#s.connect(params)

chiffres = [4j, 4, 5, -5, 17, 29, 2**50, 2**50-1]
if len(sys.argv) > 2:
    chiffres = sys.argv[2:]

for chiffre in chiffres:
    print("Envoi d'un message %s" % chiffre)
    # No connect: the address goes with every datagram.
    s.sendto(('%s\n' % chiffre).encode('utf8'), params)

# The course's special case: an empty datagram ends the server.
print("Envoi du datagramme vide")
s.sendto(b'', params)
s.close()
