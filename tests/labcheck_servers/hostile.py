# Des serveurs hostiles, pour vérifier que labcheck ne reste jamais bloqué :
# python3 hostile.py VARIANTE PORT
#   stall    accepte, puis ne lit ni n'écrit jamais
#   flood    accepte, puis envoie des octets sans fin
#   trickle  accepte, puis envoie un octet toutes les 50 ms
#   random   répond n'importe quoi, ferme au hasard
import os
import random
import time

from commun import arguments, ecoute, un_thread_par_client

variante, port, _ = arguments()


def handle(conn):
    try:
        if variante == "stall":
            time.sleep(3600)
        elif variante == "flood":
            bloc = os.urandom(65536)
            while True:
                conn.sendall(bloc)
        elif variante == "trickle":
            while True:
                conn.sendall(b"x")
                time.sleep(0.05)
        else:
            while random.random() < 0.8:
                if not conn.recv(random.randint(1, 4096)):
                    break
                conn.sendall(os.urandom(random.randint(0, 3000)))
    except OSError:
        pass
    finally:
        conn.close()


un_thread_par_client(ecoute(port), handle)
