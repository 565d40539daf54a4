#!/usr/bin/env bash
# make demo, the reactor tour (docs/twisted.md): the triforce Protocol,
# Transport, Factory on our reactor, server by server, on free ports, in
# the sheet's order (twisted-echo, obstinate, pesto, the reactor's echo,
# boom).
set -euo pipefail
cd "$(dirname "$0")/.."
source demo/lib.sh
PATH="$TARGET_DIR:$PATH"

# The client's name behind each descriptor, so that every line of the
# transcript says whose it is.
declare -A CLIENT

# open FD NAME: connects descriptor FD to 127.0.0.1:$PORT (bash's /dev/tcp,
# what `nc 127.0.0.1 $PORT` does), and says so.
open() {
	CLIENT[$1]=$2
	printf '$ nc 127.0.0.1 %s     # client %s\n' "$PORT" "$2"
	eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
}

# send FD TEXT: sends TEXT (printf escapes allowed) on descriptor FD.
send() {
	printf '%s> %s\n' "${CLIENT[$1]}" "$2"
	printf "$2" >&"$1"
}

# receive FD: prints one line received on descriptor FD (2 s at most).
receive() {
	local line=''
	if IFS= read -r -t 2 line <&"$1"; then
		printf '%s< %s\n' "${CLIENT[$1]}" "${line%$'\r'}"
	else
		printf '%s< (fin de connexion)\n' "${CLIENT[$1]}"
	fi
}

title "twisted-echo : Echo + EchoFactory, la fabrique compte les connexions (--max 2)"
start twisted-echo --port 0 --max 2
open 3 A
receive 3
send 3 'ping de A\r\n'
receive 3
open 4 B
receive 4
open 5 C
receive 5
printf '  (C est refusée : build_protocol a renvoyé None, le réacteur ferme aussitôt)\n'
exec 3>&- 4>&- 5>&-
sleep 0.2
stop

title "obstinate-server : ObstinateProtocol répond no à chaque lecture"
start obstinate-server --port 0
open 3 A
send 3 'Are you there?\r\n'
receive 3
send 3 'Are you lying?\r\n'
receive 3
exec 3>&-
sleep 0.2
stop

title "pesto-server et pesto-client : des commandes ligne à ligne, le client en deux threads"
start pesto-server --port 0 --file "$DEMO_TMP/file.txt"
show "printf 'hello\nwrite: bonjour depuis la démo\nwrite: test\nquoi ?\ngoodbye\n' | pesto-client --port $PORT"
sleep 0.2
stop
show "cat $DEMO_TMP/file.txt"

title "echo-reactor-server : l'echo de TP5b sur le réacteur (un thread, poll)"
start echo-reactor-server --port 0
open 3 A
send 3 'bonjour le réacteur\n'
receive 3
exec 3>&-
sleep 0.2
stop

title "boom-server : un Bomberman en telnet (les bombes sur call_later, un plateau pour tous)"

# screen FD TEXT: reads descriptor FD until its last screen shows TEXT (5 s
# at most), then prints that screen without its escape codes, as telnet
# would show it.
screen() {
	: >"$DEMO_TMP/screen"
	local i
	for i in $(seq 20); do
		timeout 0.25 cat <&"$1" >>"$DEMO_TMP/screen" || true
		if last_screen | grep -qF -- "$2"; then break; fi
	done
	last_screen
}

# last_screen: what came after the last "clear screen" (ESC [H ESC [2J).
last_screen() {
	sed 's/\x1b\[H\x1b\[2J/\n@@\n/g' "$DEMO_TMP/screen" | tr -d '\r' |
		awk '/^@@$/ { last = ""; next } { last = last "  " $0 "\n" } END { printf "%s", last }'
}

start boom-server --port 0 --width 7 --height 7
open 3 A
screen 3 'A (vous) en vie'
open 4 B
printf '  (A pose une bombe en (1, 0) puis se met à l'\''abri en (0, 1) ; B pose la sienne sous ses pieds)\n'
send 3 'de'
send 4 'e'
send 3 'as'
screen 4 '| A # % # % # % |'
printf '  (2 s plus tard, sans que personne n'\''ait rien tapé : les mèches, des call_later)\n'
screen 3 'B mort'
printf '  (1 s de plus : le feu est éteint, les cases molles touchées sont vides ; B reste mort)\n'
screen 3 '| % % % % % . b |'
printf '  (B part avec Ctrl-C, l'\''octet 3 : il disparaît de l'\''écran de A)\n'
send 4 '\003'
exec 4>&-
screen 3 'joueurs : A (vous) en vie'
exec 3>&-
sleep 0.2
stop
