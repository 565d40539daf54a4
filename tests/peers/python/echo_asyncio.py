#!/usr/bin/python3
# Serveur echo TCP avec asyncio : une boucle d'événements, un seul thread,
# une coroutine par client.
# Juste : read() vide termine le client, await drain() après chaque write
# (sans quoi un client qui ne lit pas fait grossir la mémoire), les erreurs
# d'un client ne touchent que lui.
#     python3 echo_asyncio.py 7777
import asyncio
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7777


async def servir(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    serveur = await asyncio.start_server(servir, "127.0.0.1", PORT)
    port = serveur.sockets[0].getsockname()[1]
    print("en écoute sur 127.0.0.1:%d" % port, flush=True)
    async with serveur:
        await serveur.serve_forever()


asyncio.run(main())
