#!/usr/bin/env bash
# make demo, TP5b: each echo server with its client, on a free port, in
# the sheet's order (1.2, 1.3, 1.4, 2.1, 2.2; the reactor's echo comes
# with the Twisted tour).
set -euo pipefail
cd "$(dirname "$0")/.."
source demo/lib.sh
PATH="$TARGET_DIR:$PATH"

title "TP5b 1.2 — echo-server (bloquant) et 1.3 — echo-client"
start echo-server --port 0
show "printf 'hého\nligne 2\n\n' | echo-client --port $PORT"
printf '# Un client à la fois : le second attend que le premier (1 s) parte.\n'
show "(printf 'premier\n'; sleep 1) | echo-client --port $PORT & sleep 0.2; date +%T.%3N; printf 'second\n' | echo-client --port $PORT; date +%T.%3N; wait"
stop

title "TP5b 1.4 — echo-udp-server et echo-udp-client"
start echo-udp-server --port 0
show "printf 'un datagramme\nun autre\n' | echo-udp-client --port $PORT"
stop
printf '# Sans serveur : sur la boucle locale, le système le dit aussitôt (ICMP) ; le client\n# écrit quand même une ligne par ligne envoyée.\n'
show "printf 'personne ?\n' | echo-udp-client --port $PORT"

title "TP5b 2.1 — echo-poll-server : poll(2), un seul thread"
start echo-poll-server --port 0
show "(printf 'client A\n'; sleep 0.3) | echo-client --port $PORT & (printf 'client B\n'; sleep 0.3) | echo-client --port $PORT; wait"
stop

title "TP5b 2.2 — echo-thread-server : un thread par client"
start echo-thread-server --port 0
show "printf 'par IPv4\n' | echo-client --host 127.0.0.1 --port $PORT"
show "printf 'par IPv6\n' | echo-client --host ::1 --port $PORT"
stop
