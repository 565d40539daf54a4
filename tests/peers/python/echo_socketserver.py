#!/usr/bin/python3
# Serveur echo TCP avec le module socketserver : ThreadingTCPServer crée
# un thread par client (TP5b 2.2) et appelle handle() dans ce thread.
# Juste : recv() vide termine handle(), sendall renvoie tout ; une
# exception dans handle() ne termine que ce client (socketserver l'écrit
# sur stderr et continue).
#     python3 echo_socketserver.py 7777
import socketserver
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(8192)
            if not data:
                break
            self.request.sendall(data)


class Serveur(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Serveur(("127.0.0.1", PORT), Echo) as serveur:
    print("en écoute sur 127.0.0.1:%d" % serveur.server_address[1], flush=True)
    serveur.serve_forever()
