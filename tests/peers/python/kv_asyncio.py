#!/usr/bin/python3
# Serveur clé-valeur (Chapitre 2.2) avec asyncio : une boucle
# d'événements, un seul thread, une coroutine par client.
# Juste : un dictionnaire pour tout le serveur (un seul thread : pas de
# verrou), readline() découpe le flux en lignes, la valeur est le reste de
# la ligne, commandes sans casse, ERR sinon, drain() après chaque réponse.
#     python3 kv_asyncio.py 8807
import asyncio
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8807

store = {}


def execute(line):
    parts = line.split(" ", 2)
    cmd = parts[0].upper()
    if cmd == "SET" and len(parts) == 3 and parts[2]:
        store[parts[1]] = parts[2]
        return "OK"
    if cmd == "GET" and len(parts) == 2:
        if parts[1] in store:
            return "VALUE " + store[parts[1]]
        return "NOTFOUND"
    if cmd == "DEL" and len(parts) == 2:
        if parts[1] in store:
            del store[parts[1]]
            return "OK"
        return "NOTFOUND"
    if cmd == "KEYS" and len(parts) == 1:
        return " ".join(["KEYS"] + sorted(store))
    return "ERR commande inconnue"


async def client(reader, writer):
    try:
        while True:
            try:
                raw = await reader.readline()
            except ValueError:
                # Ligne plus longue que la limite de readline : ERR, puis
                # on jette le reste de cette ligne.
                writer.write(b"ERR ligne trop longue\n")
                await writer.drain()
                while True:
                    try:
                        raw = await reader.readuntil(b"\n")
                        break
                    except asyncio.LimitOverrunError as e:
                        await reader.readexactly(e.consumed)
                continue
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            writer.write((execute(line) + "\n").encode())
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def main():
    server = await asyncio.start_server(client, "127.0.0.1", PORT, limit=70000)
    port = server.sockets[0].getsockname()[1]
    print("en écoute sur 127.0.0.1:%d" % port, flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
