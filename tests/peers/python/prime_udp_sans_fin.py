#!/usr/bin/python3
# Serveur UDP de nombres premiers (Chapitre 2.2, 1.2).
#
# ERREUR : la réponse est b"T", b"F" ou b"E", sans \n. Le protocole est
# le même qu'en TCP : une ligne, T\n ; le client du cours compare avec
# b'T\n'. Remède : sendto(b"T\n", addr).
#     python3 prime_udp_sans_fin.py 8808
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8808


def isprime(n):
    if n < 2:
        return False
    for x in range(2, int(n**0.5) + 1):
        if n % x == 0:
            return False
    return True


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", PORT))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    data, addr = s.recvfrom(1024)
    print("Connexion reçue:", addr, flush=True)
    try:
        reponse = b"T" if isprime(int(data)) else b"F"
    except ValueError:
        reponse = b"E"
    s.sendto(reponse, addr)
