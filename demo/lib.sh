# Shared by the demo scripts: start a server on a free port, read its first
# line, stop everything on exit. Sourced, not run.

TARGET_DIR=$(cd "${TARGET_DIR:-target/debug}" && pwd)
DEMO_TMP=$(mktemp -d)
DEMO_PIDS=()

demo_cleanup() {
	for pid in "${DEMO_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$DEMO_TMP"
}
trap demo_cleanup EXIT

# title "text": a heading in the transcript.
title() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

# show 'COMMAND LINE': print it as typed, then run it (stderr with stdout).
show() {
	printf '$ %s\n' "$1"
	bash -c "$1" 2>&1
}

# start NAME ARGS...: starts target/debug/NAME ARGS in the background, waits
# (5 s at most) for its first line and sets PORT and LOG (its output file).
start() {
	local name=$1
	shift
	LOG="$DEMO_TMP/$name.$RANDOM.log"
	"$TARGET_DIR/$name" "$@" >"$LOG" 2>&1 &
	DEMO_PIDS+=($!)
	local i
	for i in $(seq 50); do
		if [ -s "$LOG" ] && head -n 1 "$LOG" | grep -q ' sur '; then break; fi
		sleep 0.1
	done
	printf '$ %s %s &\n' "$name" "$*"
	head -n 1 "$LOG"
	PORT=$(head -n 1 "$LOG" | sed 's/.*://')
}

# stop [SIGNAL]: stops the last server started (SIGTERM, or SIGNAL such as
# KILL) and prints what it logged.
stop() {
	local pid=${DEMO_PIDS[-1]}
	kill -s "${1:-TERM}" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	printf -- '--- journal du serveur ---\n'
	tail -n +2 "$LOG"
}
