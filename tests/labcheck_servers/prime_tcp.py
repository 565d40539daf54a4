# Serveur de nombres premiers du Chapitre 2.2 (avec la boucle autour
# d'accept, un thread par client) : python3 prime_tcp.py VARIANTE PORT
from commun import arguments, ecoute, un_thread_par_client

variante, port, _ = arguments()


def isprime(n):
    if variante == "abs":         # erreur : -7 pris pour 7
        n = abs(n)
    if n < 2:
        return False
    if variante == "cours":       # juste : la division du cours, lente près de 2**64
        if n == 2:
            return True
        if not n & 1:
            return False
        for x in range(3, int(n**0.5) + 1, 2):
            if n % x == 0:
                return False
        return True
    if variante != "two" and n == 2:   # two : erreur, 2 oublié
        return True
    if not n & 1:
        return False
    # Miller-Rabin déterministe pour n < 3.3e24
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        if n == a:
            return True
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def verdict(data):
    if variante == "crash":       # erreur : int() sans try
        return b"T" if isprime(int(data)) else b"F"
    if variante == "isdigit":     # erreur : refuse -5, +29, « 17 », 1_000
        texte = data.decode("utf-8", "replace").strip()
        if not texte.isdigit():
            return b"E"
        return b"T" if isprime(int(texte)) else b"F"
    try:
        if variante == "float":   # erreur : un float perd les chiffres
            number = int(float(data))
        else:
            number = int(data)
    except ValueError:
        return b"E"
    return b"T" if isprime(number) else b"F"


def handle(conn):
    fin = {"no-newline": b"", "crlf": b"\r\n"}.get(variante, b"\n")   # erreurs
    try:
        if variante == "one-recv":
            # erreur : un recv pris pour un message
            while True:
                data = conn.recv(1024)
                if not data:
                    break
                conn.sendall(verdict(data) + b"\n")
        else:
            for ligne in conn.makefile("rb"):
                conn.sendall(verdict(ligne) + fin)
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


un_thread_par_client(ecoute(port), handle)
