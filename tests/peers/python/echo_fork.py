#!/usr/bin/python3
# Serveur echo TCP avec os.fork() : un processus enfant par client.
# Juste : le parent ferme sa copie de la socket du client et retourne à
# accept ; l'enfant ferme la socket d'écoute, sert son client puis
# os._exit(0) ; SIGCHLD ignoré pour que les enfants finis ne restent pas
# en zombies ; recv() vide termine le client.
#     python3 echo_fork.py 7777
import os
import signal
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777

signal.signal(signal.SIGCHLD, signal.SIG_IGN)

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(16)
print("en écoute sur 127.0.0.1:%d" % s.getsockname()[1], flush=True)

while True:
    conn, addr = s.accept()
    pid = os.fork()
    if pid == 0:
        s.close()
        try:
            while True:
                data = conn.recv(1500)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        conn.close()
        os._exit(0)
    conn.close()
