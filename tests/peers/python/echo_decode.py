#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2).
#
# ERREUR : le message est décodé en texte (decode() : UTF-8) puis
# réencodé. Des octets qui ne sont pas de l'UTF-8 (un fichier binaire, du
# latin-1, ou un caractère accentué coupé entre deux recv) lèvent
# UnicodeDecodeError : le thread meurt, le client n'a plus d'écho. L'écho
# renvoie des octets, pas du texte. Remède : renvoyer data tel quel
# (sendall(data)), décoder seulement pour l'afficher
# (data.decode(errors="replace")).
#     python3 echo_decode.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def client_thread(conn, addr):
    while True:
        data = conn.recv(1024)
        if not data:
            break
        texte = data.decode()
        print(addr, ":", texte, flush=True)
        conn.sendall(texte.encode())
    conn.close()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(10)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=client_thread, args=(conn, addr), daemon=True).start()
