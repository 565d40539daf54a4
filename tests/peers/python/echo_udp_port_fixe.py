#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : la réponse part vers l'adresse du client mais vers un port
# écrit en dur (celui que le client de l'énoncé utilisait, 7778), pas vers
# le port d'où vient le datagramme. Tout autre client n'a jamais de
# réponse : elle part ailleurs. Remède : sendto(data, addr), addr étant
# ce que recvfrom a rendu (adresse ET port).
#     python3 echo_udp_port_fixe.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777
PORT_CLIENT = 7778

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(65535)
    print("reçu de", addr, flush=True)
    s.sendto(data, (addr[0], PORT_CLIENT))
