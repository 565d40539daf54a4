#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : recvfrom(1024). Un datagramme plus long est tronqué : le
# système n'en donne que les 1024 premiers octets et jette le reste, sans
# erreur en Python. Le client reçoit un écho plus court que son envoi.
# Remède : recvfrom(65535) (un datagramme UDP tient en 65507 octets).
#     python3 echo_udp_1024.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(1024)
    s.sendto(data, addr)
