# Le serveur clé-valeur annoncé par le Chapitre 2.2, un thread par client :
# python3 kv.py VARIANTE PORT
import threading

from commun import arguments, ecoute, un_thread_par_client

variante, port, _ = arguments()
donnees = {}
verrou = threading.Lock()


def commande(ligne):
    if variante == "strip":       # erreur : les espaces de la valeur perdus
        ligne = ligne.decode("utf-8", "replace").strip()
    else:
        ligne = ligne.decode("utf-8", "replace").rstrip("\r\n")
    if variante == "split":       # erreur : la valeur coupée aux espaces
        mots = ligne.split()
    else:
        mots = ligne.split(" ", 2)
    if not mots or not mots[0]:
        return "ERR ligne vide"
    cmd = mots[0] if variante == "upper" else mots[0].upper()   # upper : erreur
    with verrou:
        if cmd == "SET" and len(mots) >= 3 and mots[2]:
            donnees[mots[1]] = mots[2]
            return "OK"
        if cmd == "GET" and len(mots) == 2:
            if mots[1] in donnees:
                return "VALUE " + donnees[mots[1]]
            return "NOTFOUND"
        if cmd == "DEL" and len(mots) == 2:
            if donnees.pop(mots[1], None) is None:
                return "NOTFOUND"
            return "OK"
        if cmd == "KEYS" and len(mots) == 1:
            cles = list(donnees) if variante == "order" else sorted(donnees)   # order : erreur
            return " ".join(["KEYS"] + cles)
    return "ERR commande inconnue"


def handle(conn):
    try:
        for ligne in conn.makefile("rb"):
            conn.sendall((commande(ligne) + "\n").encode("utf-8"))
    except OSError:
        pass
    finally:
        conn.close()


un_thread_par_client(ecoute(port), handle)
