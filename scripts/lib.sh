# Shared helpers for demo.sh, bench.sh and soak.sh. Source it; do not run it.
# Everything here works on 127.0.0.1 only and is bounded in time.

# ROOT is the repository root (the telchat module).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# log prints a message on stderr.
log() { printf '%s\n' "$*" >&2; }

# raise_nofile raises the soft open-file limit to the hard limit.
raise_nofile() {
	local hard
	hard="$(ulimit -Hn)"
	ulimit -n "$hard" 2>/dev/null || true
}

# build_tools DIR: builds the server (or copies $TELCHAT_BIN when set) and
# the loadgen and bot tools into DIR.
build_tools() {
	local dir="$1"
	if [[ -n "${TELCHAT_BIN:-}" ]]; then
		log "using prebuilt server $TELCHAT_BIN"
		cp "$TELCHAT_BIN" "$dir/telchat"
	else
		log "building server"
		(cd "$ROOT" && go build -o "$dir/telchat" .)
	fi
	log "building loadgen and bot"
	(cd "$ROOT" && go build -o "$dir/loadgen" ./scripts/loadgen && go build -o "$dir/bot" ./scripts/bot)
}

# port_in_use PORT: true when something listens on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# SERVER_PID is the pid of the server started by start_server ("" when none).
SERVER_PID=""

# start_server BIN PORT LOGFILE [FLAGS...]: starts the server on
# 127.0.0.1:PORT in the background and waits (at most 15 s) until it listens.
start_server() {
	local bin="$1" port="$2" logfile="$3"
	shift 3
	start_command "$port" "$logfile" "$bin" -addr "127.0.0.1:$port" "$@"
}

# start_command PORT LOGFILE COMMAND [ARGS...]: like start_server for any
# server command line that makes it listen on 127.0.0.1:PORT (used for the
# peer servers of bench.sh --peer). The command must stay in the foreground.
start_command() {
	local port="$1" logfile="$2"
	shift 2
	if port_in_use "$port"; then
		log "error: 127.0.0.1:$port is already in use (set PORT to another port)"
		return 1
	fi
	"$@" </dev/null >"$logfile" 2>&1 &
	SERVER_PID=$!
	local i
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "error: server exited at start; its log ($logfile):"
			tail -n 20 "$logfile" >&2 || true
			wait "$SERVER_PID" 2>/dev/null || true
			SERVER_PID=""
			return 1
		fi
		if listening "$port"; then
			return 0
		fi
		sleep 0.1
	done
	log "error: server did not listen on 127.0.0.1:$port within 15 s"
	stop_server
	return 1
}

# listening PORT: true when a socket listens on 127.0.0.1:PORT. Uses ss when
# available (no connection made), else a connect probe.
listening() {
	if command -v ss >/dev/null 2>&1; then
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
	else
		port_in_use "$1"
	fi
}

# stop_server: SIGTERM, up to 5 s grace, then SIGKILL; reaps the process.
stop_server() {
	[[ -n "$SERVER_PID" ]] || return 0
	local pid="$SERVER_PID" i
	SERVER_PID=""
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "server $pid did not stop within 5 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# result_field LINE KEY: prints the value of KEY in a RESULT line ("-" if absent).
result_field() {
	local v
	v="$(sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1")"
	printf '%s' "${v:--}"
}

# stop_pid PID [NAME]: like stop_server for any process we started.
stop_pid() {
	local pid="$1" name="${2:-process}" i
	[[ -n "$pid" ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name $pid did not stop within 5 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# NATS_PID and NATS_URLS are set by start_natsdev ("" when none runs).
NATS_PID=""
NATS_URLS=""

# start_natsdev BIN PORT NODES DIR LOGFILE [FLAGS...]: starts scripts/natsdev
# (NODES 1 or 3, client ports from 127.0.0.1:PORT, JetStream in DIR) in the
# background and waits (at most 30 s) until it prints its client URLs.
start_natsdev() {
	local bin="$1" port="$2" nodes="$3" dir="$4" logfile="$5" i
	shift 5
	if port_in_use "$port"; then
		log "error: 127.0.0.1:$port is already in use (set NATS_PORT to another port)"
		return 1
	fi
	"$bin" -port "$port" -nodes "$nodes" -dir "$dir" "$@" >"$logfile.url" 2>"$logfile" </dev/null &
	NATS_PID=$!
	NATS_URLS=""
	for ((i = 0; i < 300; i++)); do
		NATS_URLS="$(head -n1 "$logfile.url" 2>/dev/null || true)"
		[[ -z "$NATS_URLS" ]] || return 0
		if ! kill -0 "$NATS_PID" 2>/dev/null; then
			log "error: natsdev exited at start; its log ($logfile):"
			tail -n 20 "$logfile" >&2 || true
			wait "$NATS_PID" 2>/dev/null || true
			NATS_PID=""
			return 1
		fi
		sleep 0.1
	done
	log "error: NATS did not start within 30 s"
	stop_natsdev
	return 1
}

# stop_natsdev: stops the NATS started by start_natsdev.
stop_natsdev() {
	local pid="$NATS_PID"
	NATS_PID=""
	NATS_URLS=""
	stop_pid "$pid" natsdev
}
