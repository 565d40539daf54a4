#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : chaque datagramme est renvoyé deux fois (un sendto pour
# « accuser réception », puis l'écho). Le client qui envoie un deuxième
# message lit d'abord le doublon du premier : chaque réponse a un tour de
# retard. Remède : un seul sendto par datagramme reçu.
#     python3 echo_udp_double.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(65535)
    s.sendto(data, addr)
    print("reçu", len(data), "octets de", addr, flush=True)
    s.sendto(data, addr)
