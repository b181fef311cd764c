#!/usr/bin/env bash
# demo.sh: builds the telchat server, starts it on 127.0.0.1:$PORT (default
# 2323) with three chatting bots, prints how to join, and stops everything
# on Ctrl-C or after $DURATION seconds (default 300).
#
# Environment: PORT, DURATION, BOT_INTERVAL (mean seconds between bot lines,
# default 8), TELCHAT_BIN (use this server binary instead of building).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-2323}"
DURATION="${DURATION:-300}"
BOT_INTERVAL="${BOT_INTERVAL:-8}"
if [[ ! "$DURATION" =~ ^[0-9]+$ || "$DURATION" -lt 1 ]]; then
	log "DURATION must be a positive number of seconds"
	exit 2
fi

WORK="$(mktemp -d /tmp/telchat-demo.XXXXXX)"
BOT_PIDS=()
SLEEP_PID=""
cleanup() {
	local pid
	[[ -z "$SLEEP_PID" ]] || kill "$SLEEP_PID" 2>/dev/null || true
	for pid in "${BOT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BOT_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	BOT_PIDS=()
	stop_server
	rm -rf "$WORK"
	log "demo stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_tools "$WORK"
start_server "$WORK/telchat" "$PORT" "$WORK/server.log" -data-dir "$WORK/data"
for nick in ada grace linus; do
	"$WORK/bot" -addr "127.0.0.1:$PORT" -nick "$nick" -interval "${BOT_INTERVAL}s" -duration "${DURATION}s" &
	BOT_PIDS+=($!)
done

cat <<MSG

telchat demo is running on 127.0.0.1:$PORT with bots ada, grace and linus.
Join it from another terminal with:

    telnet localhost $PORT
    nc localhost $PORT

Mention a bot by name to get an answer. Stops after $DURATION s or on Ctrl-C.

MSG
sleep "$DURATION" &
SLEEP_PID=$!
wait "$SLEEP_PID" || true
SLEEP_PID=""
