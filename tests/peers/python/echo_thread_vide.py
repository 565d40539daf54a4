#!/usr/bin/python3
# Serveur echo TCP, un thread par client (TP5b 2.2).
#
# ERREUR : le thread ne sort jamais de sa boucle. « if data: » renvoie ce
# qui est arrivé, mais quand recv() rend b'' (le client est parti), on
# boucle encore : recv() rend b'' tout de suite, à chaque tour, et le
# thread tourne à vide, un cœur à 100 %, pour toujours. Chaque client parti
# laisse un tel thread derrière lui. Le service, lui, a l'air juste.
# Remède : else: break (puis conn.close()).
#     python3 echo_thread_vide.py 7777
import socket
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


def servir(conn):
    while True:
        data = conn.recv(1500)
        if data:
            conn.sendall(data)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(5)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, addr = s.accept()
    threading.Thread(target=servir, args=(conn,), daemon=True).start()
