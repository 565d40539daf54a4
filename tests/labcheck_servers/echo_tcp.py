# Serveur echo TCP dans le style du TP5b, juste ou avec une erreur
# d'étudiant : python3 echo_tcp.py VARIANTE PORT
import select, socket, sys, threading

variante, port = sys.argv[1], int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)


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


if variante == "tp":
    # Le serveur du TP 1.2 tel quel : un client à la fois, pas de try.
    while True:
        sc, addr = s.accept()
        while True:
            data = sc.recv(1500)
            if len(data) == 0:
                break
            sc.send(data)
        sc.close()
elif variante in ("select", "send"):
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
    while True:
        sc, addr = s.accept()
        handle(sc)
else:
    # TP 2.2 : un thread par client.
    while True:
        sc, addr = s.accept()
        t = threading.Thread(None, handle, None, (sc,))
        t.start()
