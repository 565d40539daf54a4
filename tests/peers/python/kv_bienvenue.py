#!/usr/bin/python3
# Le serveur clé-valeur du Chapitre 2.2, un thread par client (TP5b 2.2),
# qui accueille chaque client.
# ERREUR : une ligne de bienvenue envoyée dès la connexion. Le protocole
# dit que le client parle le premier et que chaque commande a UNE ligne de
# réponse : un client lit « Bienvenue… » comme la réponse à son SET, puis
# chaque réponse suivante comme celle de la commande d'avant. Remède : ne
# rien envoyer avant la première commande.
# Le reste est juste : un dictionnaire pour tout le serveur, protégé par
# un verrou ; une ligne par commande ; la valeur est le reste de la ligne ;
# commandes sans casse ; ERR sinon.
#     python3 kv_bienvenue.py 8807
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8807

donnees = {}
verrou = threading.Lock()


def executer(ligne):
    mots = ligne.split(" ", 2)
    cmd = mots[0].upper()
    with verrou:
        if cmd == "SET" and len(mots) == 3 and mots[2]:
            donnees[mots[1]] = mots[2]
            return "OK"
        if cmd == "GET" and len(mots) == 2:
            if mots[1] in donnees:
                return "VALUE " + donnees[mots[1]]
            return "NOTFOUND"
        if cmd == "DEL" and len(mots) == 2:
            if mots[1] in donnees:
                del donnees[mots[1]]
                return "OK"
            return "NOTFOUND"
        if cmd == "KEYS" and len(mots) == 1:
            return " ".join(["KEYS"] + sorted(donnees))
    return "ERR commande inconnue : " + ligne[:40]


def servir(conn):
    with conn:
        try:
            conn.sendall("Bienvenue sur le serveur clé-valeur !\n".encode("utf-8"))
            for brut in conn.makefile("rb"):
                ligne = brut.decode("utf-8", "replace").rstrip("\r\n")
                conn.sendall((executer(ligne) + "\n").encode("utf-8"))
        except OSError:
            pass


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
