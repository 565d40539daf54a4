#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : pas de boucle autour de recvfrom. Le premier datagramme est
# renvoyé, puis le programme arrive à sa fin et s'arrête : le deuxième
# client n'a plus personne en face (le système répond « port
# injoignable » en ICMP). Remède : while True: autour de recvfrom/sendto.
#     python3 echo_udp_une_fois.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

data, addr = s.recvfrom(65535)
print("reçu de", addr, flush=True)
s.sendto(data, addr)
s.close()
