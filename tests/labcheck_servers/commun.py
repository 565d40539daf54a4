# Ce que partagent les serveurs d'essai de labcheck : la ligne de commande
# (python3 FICHIER.py VARIANTE PORT), la socket d'écoute sur 127.0.0.1 et
# sa première ligne (celle des serveurs du dépôt, que les tests attendent),
# et la boucle « un thread par client » du TP5b 2.2.
import socket
import sys
import threading


def arguments():
    """La variante et le port (0 : un port libre) ; le reste des arguments."""
    return sys.argv[1], int(sys.argv[2]), sys.argv[3:]


def ecoute(port, udp=False):
    """La socket du serveur, liée à 127.0.0.1:port ; affiche
    « en écoute sur 127.0.0.1:PORT » (TCP) ou « en attente sur … » (UDP)."""
    if udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    if not udp:
        s.listen(1)     # comme au TP : labcheck doit s'en accommoder
    mot = "attente" if udp else "écoute"
    print("en %s sur 127.0.0.1:%d" % (mot, s.getsockname()[1]), flush=True)
    return s


def un_thread_par_client(s, handle):
    """accept, puis handle(conn) dans un thread à lui (TP5b 2.2)."""
    while True:
        conn, addr = s.accept()
        threading.Thread(None, handle, None, (conn,), daemon=True).start()
