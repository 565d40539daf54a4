#!/usr/bin/python3
# Serveur echo UDP (TP5b 1.4).
#
# ERREUR : une socket neuve pour chaque réponse. La réponse part alors d'un
# autre port (choisi par le système) que celui où le client a écrit : un
# client « connecté » (connect, nc -u) ne la voit jamais.
# Remède : répondre avec sendto sur la socket du recvfrom.
#     python3 echo_udp_autre_port.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(1500)
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.sendto(data, addr)
    r.close()
