#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : la réponse part d'une socket neuve, créée pour chaque
# datagramme, donc d'un autre port que celui où le client a écrit. Un
# client qui a fait connect() (ou qui vérifie l'adresse de la réponse)
# ne la reçoit pas : pour lui, elle vient d'un inconnu. Remède : répondre
# avec la socket qui a reçu (s.sendto(data, addr)).
#     python3 echo_udp_autre_socket.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(65535)
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.sendto(data, addr)
    r.close()
