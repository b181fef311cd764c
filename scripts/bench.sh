#!/usr/bin/env bash
# bench.sh: runs the standard telchat workloads, each against a fresh server
# process on 127.0.0.1, and prints a table of the loadgen RESULT lines.
#
# usage: scripts/bench.sh [--smoke] [WORKLOAD...]
#   --smoke    tiny versions of workloads a and f (seconds), for CI
#   WORKLOAD   any of: a b c2k c10k d e f (default: all)
#
# Workloads:
#   a     100 clients, 10 senders x 1000 lines of 64 B, as fast as possible
#   b     1000 clients, 5 senders x 200 lines of 64 B, as fast as possible
#   c2k   2000 idle named clients: server RSS per connection
#   c10k  10000 idle named clients: server RSS per connection
#   d     1000 clients, 5 senders at 20 lines/s each for 10 s
#   e     20 reading + 1 never-reading client, 5 senders x 20000 lines of 200 B:
#         every reader must get every line in order, the stalled one must be cut
#   f     100 clients, 1 sender at 50 lines/s for 10 s (latency)
#
# Server flags for every workload: no per-IP limits and no rate limits, so that
# only the server's fan-out is measured:
#   -max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn
#   -max-queue-bytes $QUEUE_BYTES (default 64 MiB) and -max-queue-msgs
#     $QUEUE_MSGS (default 1000000): per-client outbound caps, big so that a
#     reader that lags behind as-fast-as-possible senders is not cut
#   -data-dir in a temporary directory (nothing is written to the work tree)
# Workload e adds -write-timeout $STALL_TIMEOUT (default 2s) so that the
# never-reading client is cut by the stall timeout well within the run;
# loadgen waits 10 s (-stall-wait) after the readers finish before it checks.
#
# Environment: PORT (default 23230), QUEUE_BYTES, QUEUE_MSGS, STALL_TIMEOUT,
# EXTRA_SERVER_FLAGS (appended to every server command line), TELCHAT_BIN
# (use this server binary instead of building), KEEP_LOGS=1 (keep the
# per-workload logs). Exit status: 0 when every workload passed.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-23230}"
QUEUE_BYTES="${QUEUE_BYTES:-67108864}"
QUEUE_MSGS="${QUEUE_MSGS:-1000000}"
STALL_TIMEOUT="${STALL_TIMEOUT:-2s}"
read -r -a EXTRA <<<"${EXTRA_SERVER_FLAGS:-}"
SERVER_FLAGS=(-max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn
	-max-queue-bytes "$QUEUE_BYTES" -max-queue-msgs "$QUEUE_MSGS")

smoke=0
selected=()
for arg in "$@"; do
	case "$arg" in
	--smoke) smoke=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	a | b | c2k | c10k | d | e | f) selected+=("$arg") ;;
	*)
		log "unknown argument: $arg (try --help)"
		exit 2
		;;
	esac
done

# Each workload: name, extra server flags (or "-"), loadgen flags.
declare -A DESC LG SRV
add() { DESC[$1]="$2"; SRV[$1]="$3"; LG[$1]="$4"; }
if ((smoke)); then
	add a "smoke: 20 clients, 4 senders x 200 lines of 64 B" - \
		"-clients 20 -senders 4 -lines 200 -size 64 -timeout 30s"
	add f "smoke: 10 clients, 1 sender x 50 lines at 50/s" - \
		"-clients 10 -senders 1 -lines 50 -size 64 -rate 50 -timeout 30s"
	order=(a f)
else
	add a "100 clients, 10 senders x 1000 lines of 64 B, max speed" - \
		"-clients 100 -senders 10 -lines 1000 -size 64 -timeout 120s"
	add b "1000 clients, 5 senders x 200 lines of 64 B, max speed" - \
		"-clients 1000 -senders 5 -lines 200 -size 64 -timeout 120s"
	add c2k "2000 idle named clients" - \
		"-clients 0 -senders 0 -idle 2000 -hold 3s -timeout 120s"
	add c10k "10000 idle named clients" - \
		"-clients 0 -senders 0 -idle 10000 -hold 3s -dial-concurrency 100 -timeout 180s"
	add d "1000 clients, 5 senders at 20 lines/s for 10 s" - \
		"-clients 1000 -senders 5 -lines 200 -rate 20 -size 64 -timeout 120s"
	add e "20 readers + 1 stalled, 5 senders x 20000 lines of 200 B" "-write-timeout $STALL_TIMEOUT" \
		"-clients 20 -stalled 1 -senders 5 -lines 20000 -size 200 -stall-wait 10s -expect-stalled-cut -timeout 180s"
	add f "100 clients, 1 sender at 50 lines/s for 10 s" - \
		"-clients 100 -senders 1 -lines 500 -rate 50 -size 64 -timeout 60s"
	order=(a b c2k c10k d e f)
fi
if ((${#selected[@]})); then
	order=("${selected[@]}")
fi

raise_nofile
log "open file limit: $(ulimit -n)"

WORK="$(mktemp -d /tmp/telchat-bench.XXXXXX)"
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

build_tools "$WORK"

declare -A RESULTS STATUS
failed=0
for w in "${order[@]}"; do
	[[ -n "${LG[$w]:-}" ]] || { log "workload $w is not part of this mode"; exit 2; }
	log ""
	log "=== workload $w: ${DESC[$w]}"
	srv_extra=()
	[[ "${SRV[$w]}" == - ]] || read -r -a srv_extra <<<"${SRV[$w]}"
	start_server "$WORK/telchat" "$PORT" "$WORK/server-$w.log" "${SERVER_FLAGS[@]}" -data-dir "$WORK/data-$w" \
		"${srv_extra[@]}" "${EXTRA[@]}"
	read -r -a lg_flags <<<"${LG[$w]}"
	rc=0
	"$WORK/loadgen" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" "${lg_flags[@]}" >"$WORK/loadgen-$w.log" || rc=$?
	grep -v '^RESULT' "$WORK/loadgen-$w.log" >&2 || true
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		log "server died during workload $w; its log:"
		tail -n 20 "$WORK/server-$w.log" >&2 || true
		rc=1
	fi
	stop_server
	RESULTS[$w]="$(grep '^RESULT' "$WORK/loadgen-$w.log" || true)"
	if ((rc == 0)); then STATUS[$w]=PASS; else STATUS[$w]="FAIL($rc)"; failed=1; fi
	log "=== workload $w: ${STATUS[$w]}"
done

echo
printf '%-5s %-8s %7s %9s %10s %9s %9s %9s %12s %9s %10s %9s\n' \
	work status clients connect_s msgs/s p50_ms p99_ms max_ms lost/dup/reo rss_peakMB rss/conn_B syscw/msg
for w in "${order[@]}"; do
	r="${RESULTS[$w]}"
	f() { result_field "$r" "$1"; }
	peak="$(f rss_peak_kb)"
	[[ "$peak" =~ ^[0-9]+$ ]] && peak="$((peak / 1024))"
	printf '%-5s %-8s %7s %9s %10s %9s %9s %9s %12s %9s %10s %9s\n' \
		"$w" "${STATUS[$w]}" "$(($(f clients) + $(f idle) + $(f stalled)))" "$(f connect_s)" "$(f msgs_per_s)" \
		"$(f p50_ms)" "$(f p99_ms)" "$(f max_ms)" "$(f lost)/$(f dup)/$(f reordered)" "$peak" \
		"$(f rss_per_conn_b)" "$(f syscw_per_delivery)"
done
echo
for w in "${order[@]}"; do
	echo "$w: ${RESULTS[$w]:-no RESULT line}"
done
if ((failed)); then
	echo "bench: FAIL"
	exit 1
fi
echo "bench: PASS"
