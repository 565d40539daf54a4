#!/usr/bin/python3
# Serveur echo TCP bloquant (TP5b 1.2), écrit avec send() et non sendall().
# Juste : la socket est bloquante, et sous Linux un send() bloquant attend
# que tout soit parti (il ne rend moins qu'en cas de signal) ; recv() vide
# termine le client ; un try garde le serveur en vie. Pas de SO_REUSEADDR,
# ce n'est pas une faute. labcheck doit le laisser passer.
#     python3 echo_send_bloquant.py 7777
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

serveur = socket.socket()
serveur.bind(("127.0.0.1", PORT))
serveur.listen(5)
print("en écoute sur 127.0.0.1:%d" % serveur.getsockname()[1], flush=True)

while True:
    client, adresse = serveur.accept()
    print("Connexion de", adresse, flush=True)
    try:
        while True:
            message = client.recv(1024)
            if not message:
                break
            client.send(message)
    except OSError as erreur:
        print("erreur :", erreur, flush=True)
    client.close()
    print("Déconnexion de", adresse, flush=True)
