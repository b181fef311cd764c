#!/usr/bin/env bash
# cluster-demo.sh: a local cluster: a throwaway NATS with JetStream
# (scripts/natsdev, 3 nodes with routes on loopback unless NATS_NODES=1)
# and three telchat servers on 127.0.0.1:PORT to PORT+2 (2323, 2324 and
# 2325 by default) joined through it, with a bot on each. Join any of them
# (telnet localhost 2323, nc localhost 2325): it is one chat. Stops everything on Ctrl-C or after
# $DURATION seconds (default 300).
#
# Environment: PORT (the first server's port, default 2323; the others
# take the next two), DURATION, BOT_INTERVAL (mean seconds between bot
# lines, default 8), NATS_PORT (first NATS client port, default 14222),
# NATS_NODES (1 or 3, default 3), ADMIN_PASSWORD (the /oper password of
# the three servers; default: none, no /oper), TELCHAT_BIN (use this
# server binary instead of building).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-300}"
BOT_INTERVAL="${BOT_INTERVAL:-8}"
NATS_PORT="${NATS_PORT:-14222}"
NATS_NODES="${NATS_NODES:-3}"
PORT="${PORT:-2323}"
if [[ ! "$DURATION" =~ ^[0-9]+$ || "$DURATION" -lt 1 ]]; then
	log "DURATION must be a positive number of seconds"
	exit 2
fi
if [[ ! "$PORT" =~ ^[0-9]+$ || "$PORT" -lt 1 || "$PORT" -gt 65533 ]]; then
	log "PORT must be a port number from 1 to 65533 (the servers take PORT, PORT+1 and PORT+2)"
	exit 2
fi
PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))

WORK="$(mktemp -d /tmp/telchat-cluster-demo.XXXXXX)"
BOT_PIDS=()
SERVER_PIDS=()
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
	for pid in "${SERVER_PIDS[@]}"; do
		stop_pid "$pid" "telchat server"
	done
	SERVER_PIDS=()
	stop_natsdev
	rm -rf "$WORK"
	log "cluster demo stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_tools "$WORK"
log "building natsdev"
(cd "$ROOT" && go build -o "$WORK/natsdev" ./scripts/natsdev)

start_natsdev "$WORK/natsdev" "$NATS_PORT" "$NATS_NODES" "$WORK/nats" "$WORK/nats.log"
URLS="$NATS_URLS"
log "NATS: $URLS"

ADMIN_FLAGS=()
if [[ -n "${ADMIN_PASSWORD:-}" ]]; then
	printf '%s\n' "$ADMIN_PASSWORD" | "$WORK/telchat" hash-password >"$WORK/admin.hash"
	ADMIN_FLAGS=(-admin-password-file "$WORK/admin.hash")
fi

n=0
for port in "${PORTS[@]}"; do
	n=$((n + 1))
	start_server "$WORK/telchat" "$port" "$WORK/server$n.log" -data-dir "$WORK/data$n" \
		-nats "$URLS" -server-id "server$n" -nats-replicas "$NATS_NODES" "${ADMIN_FLAGS[@]}"
	SERVER_PIDS+=("$SERVER_PID")
	SERVER_PID=""
done

BOTS=(ada grace linus)
for i in 0 1 2; do
	"$WORK/bot" -addr "127.0.0.1:${PORTS[$i]}" -nick "${BOTS[$i]}" -interval "${BOT_INTERVAL}s" -duration "${DURATION}s" &
	BOT_PIDS+=($!)
done

cat <<MSG

A telchat cluster is running: three servers joined through a local NATS
($NATS_NODES node(s), JetStream), one bot on each:

    127.0.0.1:${PORTS[0]}  server1  ada    pid ${SERVER_PIDS[0]}
    127.0.0.1:${PORTS[1]}  server2  grace  pid ${SERVER_PIDS[1]}
    127.0.0.1:${PORTS[2]}  server3  linus  pid ${SERVER_PIDS[2]}

Join from other terminals, on any of them; it is one chat:

    telnet localhost ${PORTS[0]}
    nc localhost ${PORTS[2]}

/who and /whois show everyone (and which server they are on).${ADMIN_PASSWORD:+ /oper with
ADMIN_PASSWORD makes you an admin on any of them.} Stops after
$DURATION s or on Ctrl-C. Logs: $WORK (removed at exit).

MSG
sleep "$DURATION" &
SLEEP_PID=$!
wait "$SLEEP_PID" || true
SLEEP_PID=""
