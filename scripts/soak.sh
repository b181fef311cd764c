#!/usr/bin/env bash
# soak.sh MINUTES: builds the telchat server, starts it on 127.0.0.1, runs
# `loadgen -churn` for MINUTES minutes (clients join, chat and leave in every
# way while well-behaved clients check that they get each other's every line
# in order), then checks that the server is still alive and that its
# goroutine and file-descriptor counts went back near their baseline.
# Prints each check and a final PASS or FAIL line; exit status 0 on PASS.
#
# soak.sh --attack MINUTES: the memory attack of issue 14 instead, against a
# server with its default limits: scripts/attack opens ATTACK_ADDRS (default
# 50) source addresses x ATTACK_PER_ADDR (default 2) connections from
# 127.2.x.y that chat into #lobby (a line of 900 bytes a second each) and
# read just enough never to stall (2 KiB every 2 s), reconnecting when cut,
# for MINUTES; after ATTACK_RAMP seconds (default 10) honest chatters
# (loadgen: 10 clients, 5 of them saying 2 lines a second) run beside it
# until the end. It prints the honest users' delay (p50/p99/max), what the
# attack achieved, and the server's peak RSS (VmHWM), and checks that the
# honest users lost nothing and that the peak RSS stayed under
# -max-queue-total (256 MiB) plus RSS_SLACK_MB (default 128). ATTACK_FLAGS
# are more flags for scripts/attack: "-command /help" has every attacker
# ask for its own long answers, which no other queue shares (chat lines are
# rendered once and shared by every queue that holds them). "-command
# /rooms" is the listing attack; "-pm vic -victim vic" the private-message
# attack (the attack exits 1, so the run fails, if the server cuts vic, who
# reads at 200 KB/s); see scripts/README.md.
#
# MINUTES may be fractional (0.5 = 30 s). Environment: PORT (default 23240),
# PPROF_PORT (default 23241), CHURNERS (concurrent churning connections,
# default 20), GOROUTINE_SLACK and FD_SLACK (allowed growth over the
# baseline, default 5 each), SETTLE_SECONDS (how long to wait for the counts
# to come back, default 30), EXTRA_SERVER_FLAGS, TELCHAT_BIN, KEEP_LOGS=1.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

attack=0
if [[ "${1:-}" == --attack ]]; then
	attack=1
	shift
fi
if [[ $# -ne 1 || ! "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
	log "usage: $0 [--attack] MINUTES   (a positive number, e.g. 10 or 0.5)"
	exit 2
fi
SECONDS_TOTAL="$(awk -v m="$1" 'BEGIN { printf "%d", m * 60 }')"
if ((SECONDS_TOTAL < 1)); then
	log "MINUTES must be at least 1 second's worth"
	exit 2
fi
PORT="${PORT:-23240}"
PPROF_PORT="${PPROF_PORT:-23241}"
CHURNERS="${CHURNERS:-20}"
GOROUTINE_SLACK="${GOROUTINE_SLACK:-5}"
FD_SLACK="${FD_SLACK:-5}"
SETTLE_SECONDS="${SETTLE_SECONDS:-30}"
read -r -a EXTRA <<<"${EXTRA_SERVER_FLAGS:-}"
SERVER_FLAGS=(-max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn
	-pprof "127.0.0.1:$PPROF_PORT")

raise_nofile
WORK="$(mktemp -d /tmp/telchat-soak.XXXXXX)"
cleanup() {
	stop_server
	if [[ "${KEEP_LOGS:-0}" == 1 ]]; then
		log "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# goroutines prints the server's goroutine count from its pprof endpoint.
goroutines() {
	local url="http://127.0.0.1:$PPROF_PORT/debug/pprof/goroutine?debug=1" body
	if command -v curl >/dev/null 2>&1; then
		body="$(curl -sS --max-time 5 "$url")" || return 1
	else
		body="$(
			exec 3<>"/dev/tcp/127.0.0.1/$PPROF_PORT" || exit 1
			printf 'GET /debug/pprof/goroutine?debug=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
			timeout 5 cat <&3
		)" || return 1
	fi
	sed -n 's/^goroutine profile: total \([0-9][0-9]*\).*/\1/p' <<<"$body" | head -n 1
}

# fds prints the number of open file descriptors of the server.
fds() {
	find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

build_tools "$WORK"
if ((attack)); then
	ATTACK_ADDRS="${ATTACK_ADDRS:-50}"
	ATTACK_PER_ADDR="${ATTACK_PER_ADDR:-2}"
	ATTACK_RAMP="${ATTACK_RAMP:-10}"
	RSS_SLACK_MB="${RSS_SLACK_MB:-128}"
	if ((SECONDS_TOTAL < ATTACK_RAMP + 10)); then
		log "--attack needs at least $((ATTACK_RAMP + 10)) seconds"
		exit 2
	fi
	(cd "$ROOT" && go build -o "$WORK/attack" ./scripts/attack)
	# The server's own defaults: the attack is against the public limits.
	start_server "$WORK/telchat" "$PORT" "$WORK/server.log" -log-level warn -data-dir "$WORK/data" "${EXTRA[@]}"
	read -r -a ATTACK_FLAGS <<<"${ATTACK_FLAGS:-}"
	"$WORK/attack" -addr "127.0.0.1:$PORT" -addrs "$ATTACK_ADDRS" -per-addr "$ATTACK_PER_ADDR" \
		-for "${SECONDS_TOTAL}s" "${ATTACK_FLAGS[@]}" >"$WORK/attack.log" 2>&1 &
	attack_pid=$!
	sleep "$ATTACK_RAMP" # the attack fills the queues first
	honest_s=$((SECONDS_TOTAL - ATTACK_RAMP - 5))
	lg_rc=0
	"$WORK/loadgen" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" -clients 10 -senders 5 -rate 2 -size 80 \
		-lines $((2 * honest_s)) -timeout "$((honest_s + 60))s" -quiet >"$WORK/loadgen.log" 2>&1 || lg_rc=$?
	a_rc=0
	wait "$attack_pid" || a_rc=$?
	tail -n 1 "$WORK/loadgen.log"
	cat "$WORK/attack.log"
	fail=0
	check() { # check NAME OK DETAIL
		if [[ "$2" == 1 ]]; then echo "check $1: ok ($3)"; else echo "check $1: FAILED ($3)"; fail=1; fi
	}
	res="$(grep '^RESULT' "$WORK/loadgen.log" | tail -n 1)"
	kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
	check "honest chatters got every line" "$((lg_rc == 0))" \
		"loadgen exit $lg_rc; lost=$(kv lost) p50_ms=$(kv p50_ms) p99_ms=$(kv p99_ms) max_ms=$(kv max_ms)"
	check "attack ran" "$((a_rc == 0))" "exit status $a_rc"
	alive=0
	kill -0 "$SERVER_PID" 2>/dev/null && alive=1
	check "server alive" "$alive" "pid $SERVER_PID"
	if ((alive)); then
		hwm_kb="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")"
		limit_kb=$(((256 + RSS_SLACK_MB) * 1024))
		check "peak RSS under the queue budget plus slack" "$((hwm_kb <= limit_kb))" \
			"VmHWM ${hwm_kb} kB, limit ${limit_kb} kB"
	fi
	if ((fail)); then
		echo "FAIL"
		exit 1
	fi
	echo "PASS"
	exit 0
fi
start_server "$WORK/telchat" "$PORT" "$WORK/server.log" "${SERVER_FLAGS[@]}" -data-dir "$WORK/data" "${EXTRA[@]}"
sleep 1 # let the server finish starting its background goroutines
base_g="$(goroutines)"
base_fd="$(fds)"
if [[ -z "$base_g" ]]; then
	log "cannot read the goroutine count from 127.0.0.1:$PPROF_PORT (is -pprof supported?)"
	exit 1
fi
log "baseline: goroutines=$base_g fds=$base_fd"

lg_rc=0
"$WORK/loadgen" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" -churn "${SECONDS_TOTAL}s" -churners "$CHURNERS" \
	-clients 10 -senders 10 -rate 5 -size 80 >"$WORK/loadgen.log" || lg_rc=$?
cat "$WORK/loadgen.log"

fail=0
check() { # check NAME OK DETAIL
	if [[ "$2" == 1 ]]; then echo "check $1: ok ($3)"; else echo "check $1: FAILED ($3)"; fail=1; fi
}
check "loadgen churn run" "$((lg_rc == 0))" "exit status $lg_rc"

alive=0
kill -0 "$SERVER_PID" 2>/dev/null && alive=1
check "server alive" "$alive" "pid $SERVER_PID"
if ((alive)); then
	g="" fd=""
	for ((i = 0; i < SETTLE_SECONDS * 2; i++)); do
		g="$(goroutines || true)"
		fd="$(fds)"
		if [[ -n "$g" ]] && ((g <= base_g + GOROUTINE_SLACK && fd <= base_fd + FD_SLACK)); then
			break
		fi
		sleep 0.5
	done
	check "goroutines back near baseline" "$([[ -n "$g" ]] && ((g <= base_g + GOROUTINE_SLACK)) && echo 1 || echo 0)" \
		"now ${g:-unknown}, baseline $base_g, slack $GOROUTINE_SLACK"
	check "fds back near baseline" "$((fd <= base_fd + FD_SLACK))" "now $fd, baseline $base_fd, slack $FD_SLACK"
	if [[ -n "$g" ]] && ((g > base_g + GOROUTINE_SLACK)); then
		log "goroutine dump (top of debug=1 profile):"
		curl -sS --max-time 5 "http://127.0.0.1:$PPROF_PORT/debug/pprof/goroutine?debug=1" 2>/dev/null | head -n 60 >&2 || true
	fi
fi
if ((fail)); then
	echo "FAIL"
	exit 1
fi
echo "PASS"
