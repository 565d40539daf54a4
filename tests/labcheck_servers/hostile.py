# Des serveurs hostiles, pour vérifier que labcheck ne reste jamais bloqué :
# python3 hostile.py VARIANTE PORT
#   stall    accepte, puis ne lit ni n'écrit jamais
#   flood    accepte, puis envoie des octets sans fin
#   trickle  accepte, puis envoie un octet toutes les 50 ms
#   random   répond n'importe quoi, ferme au hasard
import os, random, socket, sys, threading, time

variante, port = sys.argv[1], int(sys.argv[2])


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


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(None, handle, None, (conn,), daemon=True).start()
