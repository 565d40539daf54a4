#!/usr/bin/python3
# Serveur clé-valeur (Chapitre 2.2), un thread par client.
#
# ERREUR : KEYS rend les clés dans l'ordre où elles ont été créées
# (l'ordre d'un dict Python), pas triées. Le protocole dit « KEYS k1 k2 …
# (sorted) » : deux serveurs justes donnent la même ligne pour les mêmes
# données. Remède : sorted(store).
#     python3 kv_keys_desordre.py 8807
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8807

store = {}
lock = threading.Lock()


def handle(line):
    parts = line.split(" ", 2)
    cmd = parts[0].upper()
    with lock:
        if cmd == "SET" and len(parts) == 3 and parts[2]:
            store[parts[1]] = parts[2]
            return "OK"
        if cmd == "GET" and len(parts) == 2:
            if parts[1] in store:
                return "VALUE " + store[parts[1]]
            return "NOTFOUND"
        if cmd == "DEL" and len(parts) == 2:
            if store.pop(parts[1], None) is None:
                return "NOTFOUND"
            return "OK"
        if cmd == "KEYS" and len(parts) == 1:
            return " ".join(["KEYS"] + list(store))
    return "ERR commande inconnue"


def client(conn):
    f = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
    try:
        for line in f:
            answer = handle(line.rstrip("\r\n"))
            if answer is not None:
                conn.sendall((answer + "\n").encode())
    except OSError:
        pass
    conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(16)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, _ = s.accept()
    threading.Thread(target=client, args=(conn,), daemon=True).start()
