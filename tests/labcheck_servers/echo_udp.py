# Serveur echo UDP dans le style du TP5b 1.4 : python3 echo_udp.py VARIANTE PORT
import socket, sys

variante, port = sys.argv[1], int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
print("en attente sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

taille = 1500 if variante == "small" else 65535   # small : erreur
while True:
    data, addr = s.recvfrom(taille)
    if variante == "other-port":
        # erreur : la réponse part d'une nouvelle socket, d'un autre port
        autre = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        autre.sendto(data, addr)
        autre.close()
    else:
        s.sendto(data, addr)
