# Serveur echo TCP dans le style du TP5b, juste ou avec une erreur
# d'étudiant : python3 echo_tcp.py VARIANTE PORT
# (le serveur du TP 1.2 tel quel et la version thread juste sont ceux du
# cours : docs/python/tp5b/echo_tcp.py et echo_thread.py)
import select

from commun import arguments, ecoute, un_thread_par_client

variante, port, _ = arguments()
s = ecoute(port)


def repondre(sc, data):
    if variante == "decode":      # erreur : les octets pris pour du texte
        sc.sendall(data.decode("utf-8").encode("utf-8"))
    elif variante == "strip":     # erreur : le texte « nettoyé »
        sc.sendall(data.strip() + b"\n")
    else:
        sc.sendall(data)


def handle(sc):
    # Juste : une exception (RST…) termine ce client, pas le serveur.
    try:
        if variante == "readline":    # erreur : attend une ligne entière
            f = sc.makefile("rb")
            for ligne in f:
                sc.sendall(ligne)
            return
        while True:
            data = sc.recv(1500)
            if len(data) == 0:
                break
            repondre(sc, data)
            if variante == "once":    # erreur : pas de boucle recv/send
                break
    except OSError:
        pass
    finally:
        sc.close()


if variante in ("select", "send"):
    # TP 2.1 : select sur la socket serveur et les clients.
    l = []
    while True:
        prets, _, _ = select.select(l + [s], [], [])
        for sc in prets:
            if sc is s:
                c, addr = s.accept()
                if variante == "send":
                    c.setblocking(False)
                l.append(c)
                continue
            try:
                data = sc.recv(1500)
            except OSError:
                data = b""
            if len(data) == 0:
                sc.close()
                l.remove(sc)
            elif variante == "send":
                # erreur : send envoie ce qu'il peut, le reste est perdu
                try:
                    sc.send(data)
                except BlockingIOError:
                    pass
            else:
                try:
                    sc.sendall(data)
                except OSError:
                    sc.close()
                    l.remove(sc)
elif variante == "blocking":
    # TP 1.2 avec son try : un client à la fois.
    while True:
        sc, addr = s.accept()
        handle(sc)
else:
    # TP 2.2 : un thread par client, avec l'erreur de la variante.
    un_thread_par_client(s, handle)
