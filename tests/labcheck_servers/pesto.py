# Le serveur de commandes de Pesto sans Twisted, un thread par client :
# python3 pesto.py VARIANTE PORT [FICHIER]
import os, socket, sys, threading

variante, port = sys.argv[1], int(sys.argv[2])
fichier = sys.argv[3] if len(sys.argv) > 3 else os.devnull
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
            for ligne in conn.makefile("rb"):
                if not ligne_recue(conn, ligne):
                    break
    except OSError:
        pass
    finally:
        conn.close()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(None, handle, None, (conn,)).start()
