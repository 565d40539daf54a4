#!/usr/bin/env bash
# make demo, Chapitre 2.2, in the sheet's order: the prime server over TCP
# and UDP, oneshot (woof), then the key-value store, each on a free port,
# transcript printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source demo/lib.sh
PATH="$TARGET_DIR:$PATH"

# wait_for FILE TEXT: waits (5 s at most) until FILE contains TEXT.
wait_for() {
	local i
	for i in $(seq 50); do
		if grep -qF -- "$2" "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "(délai dépassé en attendant « $2 » dans $1)" >&2
	return 1
}

title "Chapitre 2.2, 1.1 — prime-server et prime-client : la liste du cours sur une connexion"
start prime-server --port 0
show "prime-client --port $PORT"
wait_for "$LOG" "Fin du serveur"
printf "(le serveur s'est arrêté seul après la connexion, comme celui du cours)\n"
stop

title "TCP est un flux : trois nombres dans une seule écriture, trois réponses"
start prime-server --port 0 --forever
# bash's /dev/tcp opens a TCP connection: no nc needed. `env printf` is
# /usr/bin/printf, which writes its output at once; bash's own printf
# writes line by line, three writes that may reach the server apart.
show "exec 3<>/dev/tcp/127.0.0.1/$PORT; env printf '2\n3\n4\n' >&3; head -n 3 <&3; exec 3<&-"
show "prime-client --port $PORT 18446744073709551557 18446744073709551616 -- -99999999999999999999999 1_000_003 4j"
stop

title "Chapitre 2.2, 1.2 — prime-udp-server et prime-udp-client : un datagramme par nombre"
start prime-udp-server --port 0
show "prime-udp-client --port $PORT --stop 4 17 abc"
wait_for "$LOG" "fin du serveur"
stop

# From here on, in the demo's own folder: message.txt and data.kv are
# written there, and shown.
cd "$DEMO_TMP"

title "oneshot, le woof du chapitre : un fichier, un téléchargement, puis l'arrêt"
show "printf 'Bonjour, voici le fichier promis.\\n' > message.txt"
start oneshot --port 0 message.txt
wait_for "$LOG" "Donnez cette adresse"
URL="http://127.0.0.1:$PORT/message.txt"
if command -v curl >/dev/null; then
	show "curl -sI $URL"
	show "curl -s $URL"
else
	show "python3 -c 'import urllib.request; print(urllib.request.urlopen(\"$URL\").read().decode(), end=\"\")'"
fi
wait_for "$LOG" "fin du serveur"
stop

title "Le serveur clé-valeur annoncé par le chapitre : kv-server et kv-client"
DATA=data.kv
start kv-server --port 0 --save "$DATA"
show "kv-client --port $PORT SET ville Lyon"
show "kv-client --port $PORT GET ville"
show "printf 'SET langue Rust\nset phrase une valeur avec des espaces\nKEYS\nDEL ville\nGET ville\nBONJOUR\n' | kv-client --port $PORT"
wait_for "$DATA" "SET phrase"
show "cat data.kv"
printf '(arrêt brutal : kill -9, puis relance sur le même fichier)\n'
stop KILL
start kv-server --port 0 --save "$DATA"
show "kv-client --port $PORT KEYS"
stop
