#!/usr/bin/python3
# Serveur clé-valeur (Chapitre 2.2), un thread par client.
#
# ERREUR : une clé absente répond « NULL » (ce que rend le dictionnaire
# via .get() mis en texte) au lieu de NOTFOUND ; DEL d'une clé absente
# répond OK. Le protocole a un mot pour l'absence : NOTFOUND. Remède :
# tester « cle in store » et répondre NOTFOUND.
#     python3 kv_null.py 8807
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
            value = store.get(parts[1])
            if value is None:
                return "NULL"
            return "VALUE " + value
        if cmd == "DEL" and len(parts) == 2:
            store.pop(parts[1], None)
            return "OK"
        if cmd == "KEYS" and len(parts) == 1:
            return " ".join(["KEYS"] + sorted(store))
    return "ERR commande inconnue"


def client(conn):
    f = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
    try:
        for line in f:
            conn.sendall((handle(line.rstrip("\r\n")) + "\n").encode())
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
