# Serveur echo UDP dans le style du TP5b 1.4, avec une erreur d'étudiant :
# python3 echo_udp.py VARIANTE PORT
# (le serveur juste est celui du cours : docs/python/tp5b/echo_udp.py)
import socket

from commun import arguments, ecoute

variante, port, _ = arguments()
s = ecoute(port, udp=True)

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
