#!/usr/bin/python3
# Serveur echo TCP avec socketserver.ThreadingTCPServer et
# StreamRequestHandler : un thread par client, lecture par ligne.
#
# ERREUR : self.rfile.readline() attend la fin de ligne. L'écho renvoie
# les octets dès qu'ils arrivent, pas des lignes : un client qui envoie
# « abc » sans \n n'a jamais son écho (et un gros bloc sans \n est
# gardé tout entier en mémoire). Remède : self.request.recv(1500) et
# sendall, ou self.rfile.read1(1500).
#     python3 echo_readline.py 7777
import socketserver
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        print("connexion de", self.client_address, flush=True)
        while True:
            ligne = self.rfile.readline()
            if not ligne:
                break
            self.wfile.write(ligne)


class Serveur(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Serveur(("127.0.0.1", PORT), EchoHandler) as serveur:
    print("en écoute sur 127.0.0.1:%d" % serveur.server_address[1], flush=True)
    serveur.serve_forever()
