# Le serveur de commandes de Pesto sans Twisted, un thread par client :
# python3 pesto.py VARIANTE PORT [FICHIER]
import os
import threading

from commun import arguments, ecoute, un_thread_par_client

variante, port, reste = arguments()
fichier = reste[0] if reste else os.devnull
fin = b"\n" if variante == "lf" else b"\r\n"    # lf : erreur
verrou = threading.Lock()


def send_line(conn, texte):
    conn.sendall(texte + fin)


def ligne_recue(conn, ligne):
    ligne = ligne.rstrip(b"\r\n")
    if ligne == b"hello":
        send_line(conn, b"Hello! How are you?")
    elif ligne == b"goodbye":
        send_line(conn, b"Noooo don't go awayyyyy...")
        return variante == "stay"     # stay : erreur, la connexion reste
    elif ligne.startswith(b"write: "):
        with verrou, open(fichier, "ab") as f:
            f.write(ligne[len(b"write: "):] + b"\n")
        send_line(conn, b"Message saved!")
    else:
        send_line(conn, b"Unknown command: " + ligne)
    return True


def lignes_crlf(conn):
    # Comme LineOnlyReceiver et son delimiter par défaut : une ligne ne
    # finit qu'à b"\r\n" (crlf-only : erreur, nc envoie \n seul).
    reste = b""
    while True:
        data = conn.recv(1024)
        if not data:
            return
        reste += data
        while b"\r\n" in reste:
            ligne, reste = reste.split(b"\r\n", 1)
            yield ligne


def handle(conn):
    try:
        send_line(conn, b"Connection with the server established!")
        if variante == "data":
            # erreur : chaque recv pris pour une ligne (dataReceived)
            while True:
                data = conn.recv(1024)
                if not data or not ligne_recue(conn, data):
                    break
        else:
            lignes = lignes_crlf(conn) if variante == "crlf-only" else conn.makefile("rb")
            for ligne in lignes:
                if not ligne_recue(conn, ligne):
                    break
    except OSError:
        pass
    finally:
        conn.close()


un_thread_par_client(ecoute(port), handle)
