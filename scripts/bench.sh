#!/usr/bin/env bash
# bench.sh: runs the standard telchat workloads, each against a fresh server
# process on 127.0.0.1, and prints a table of the loadgen RESULT lines.
#
# usage: scripts/bench.sh [--smoke] [--peer ngircd|nats] [WORKLOAD...]
#        scripts/bench.sh [--smoke] --cluster N [a d f]
#   --smoke    tiny versions of workloads a and f (seconds), for CI
#   --peer P   run the workloads against another server instead of telchat,
#              for comparison: ngircd (IRC, loadgen -proto irc) or nats
#              (nats-server, loadgen -proto nats); see "Peers" below
#   --cluster N  run workloads a, d and f (or those named) $RUNS times each,
#              alternately on one server and on N servers joined through
#              one local NATS; see "Cluster" below
#   WORKLOAD   any of: a b c2k c10k d e f g (default: all)
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
#   g     as a, with 50 of the 90 readers in Telnet character mode (terminal
#         type xterm: colours, timestamps, each batch bracketed by an erase
#         and a redraw of the input line)
#
# Server flags for every workload: no per-IP limits and no rate limits, so that
# only the server's fan-out is measured:
#   -max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn
#   -max-queue-bytes $QUEUE_BYTES (default 64 MiB) and -max-queue-msgs
#     $QUEUE_MSGS (default 1000000): per-client outbound caps, big so that a
#     reader that lags behind as-fast-as-possible senders is not cut
#   -max-queue-total 0 -max-queue-per-ip 0 -max-behind 0: no server-wide
#     budget, no per-IP share and no far-behind rule, for the same reason
#     (every client is on 127.0.0.1)
#   -data-dir in a temporary directory (nothing is written to the work tree)
# Workload e adds -write-timeout $STALL_TIMEOUT (default 2s) so that the
# never-reading client is cut by the stall timeout well within the run;
# loadgen waits 10 s (-stall-wait) after the readers finish before it checks.
#
# Peers (--peer): the same loadgen flags plus -proto, a fresh peer server per
# workload on 127.0.0.1:$PORT with a config file in the temporary directory:
#   ngircd ($NGIRCD_BIN, default /usr/sbin/ngircd; run as "ngircd -n -f FILE"):
#     Listen 127.0.0.1, Ports $PORT; PAM, Ident and DNS off (no lookups per
#     connection); MaxConnections 0 and MaxConnectionsIP 0 (no limit);
#     MaxJoins 0; MaxPenaltyTime 0 (no flood penalty, i.e. no rate limit);
#     MaxNickLength 30 (loadgen's nicknames are up to 13 characters, the
#     default is 9); PingTimeout/PongTimeout 3600 s (loadgen answers PINGs
#     anyway); IncludeDir is an empty directory (no system snippets). Every
#     client registers (NICK/USER) and JOINs #bench, idle ones too. ngircd
#     has no setting for its per-client send queue: it is fixed at build
#     time (a client whose unsent output outgrows it is disconnected, "Write
#     buffer space exhausted"); a reader lagging behind as-fast-as-possible
#     senders can therefore be cut, and workload e's stalled client is cut
#     that way rather than by a timeout. ngircd listens with a backlog of
#     10 (ss shows it; not configurable): with loadgen's 200 connections in
#     flight the kernel drops SYNs and clients wait for SYN retransmits (1,
#     3, 7, ... s; b did not get its 1000 clients named within 120 s), so
#     loadgen gets -dial-concurrency 10 against ngircd.
#   nats (nats-server $NATS_VERSION, built from the Go module proxy in a
#     throwaway module in the temporary directory, or $NATS_SERVER_BIN; run
#     as "nats-server -a 127.0.0.1 -p $PORT -c FILE"): max_pending
#     $QUEUE_BYTES (per-client outbound cap, as telchat's -max-queue-bytes;
#     the default is 64 MiB too); write_deadline $STALL_TIMEOUT in workload
#     e (as telchat's -write-timeout; default 10s elsewhere); everything else
#     default (no connection limit below 64K). Clients CONNECT with
#     echo false (nobody gets their own lines, as in telchat), SUB bench.>
#     and PUB on bench.NICK.
#   The open file limit (raised to the hard limit, which c10k needs above
#   10100) is inherited by the peer.
#   With --peer, each row shows what loadgen's checks said for that peer
#   (workload e's "stalled client must be cut" included), and the exit
#   status is 0 when every workload produced a RESULT line: the peer is
#   measured, not judged.
#
# Cluster (--cluster N, N from 2 to 9): for each run (RUNS, default 3) and
# each workload (a d f, or those named): first the workload against one
# fresh server as above, then against a fresh cluster: scripts/natsdev (one
# node, JetStream in the temporary directory, client port $NATS_PORT,
# monitoring on $NATS_HTTP) and N telchat servers on 127.0.0.1:PORT+1..N
# with the same flags plus -nats URL -server-id benchI -metrics-addr
# 127.0.0.1:PORT+10+I. loadgen spreads the clients round-robin over the N
# servers (-addr A,B,C: the senders too), so most lines cross between
# servers, and reads NATS's /varz and every server's /metrics when sending
# starts and when the last line has arrived. The table shows, per run:
# delivered lines/s across servers, p50/p99 over all deliveries and p99 of
# the lines that crossed, lost/dup/reordered, and per load line sent: the
# lines the servers published to NATS (target 1.000: one publish per line,
# never one per recipient), every event they published (lines, heartbeats),
# and what the NATS server took in and handed out (in: the publishes plus
# nickname-claim renewals and JetStream traffic; out: each line to each
# server and the publish's acknowledgement, about N+1), and the CPU time
# the telchat servers (summed) and the NATS server used while sending.
# Then a summary with the range (min-max) of each figure over the runs,
# one server against the cluster. Every process is
# stopped on exit or Ctrl-C. Environment: RUNS, NATS_PORT (default 23260),
# NATS_HTTP (23270), CLUSTER_FLAGS (appended to the cluster servers' flags).
#
# Environment: PORT (default 23230), QUEUE_BYTES, QUEUE_MSGS, STALL_TIMEOUT,
# EXTRA_SERVER_FLAGS (appended to every telchat command line), TELCHAT_BIN
# (use this server binary instead of building), KEEP_LOGS=1 (keep the
# per-workload logs), NGIRCD_BIN, NATS_SERVER_BIN, NATS_VERSION (default
# v2.15.2). Exit status: 0 when every workload passed (see --peer above).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-23230}"
QUEUE_BYTES="${QUEUE_BYTES:-67108864}"
QUEUE_MSGS="${QUEUE_MSGS:-1000000}"
STALL_TIMEOUT="${STALL_TIMEOUT:-2s}"
read -r -a EXTRA <<<"${EXTRA_SERVER_FLAGS:-}"
SERVER_FLAGS=(-max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn
	-max-queue-bytes "$QUEUE_BYTES" -max-queue-msgs "$QUEUE_MSGS"
	-max-queue-total 0 -max-queue-per-ip 0 -max-behind 0)

NGIRCD_BIN="${NGIRCD_BIN:-/usr/sbin/ngircd}"
NATS_VERSION="${NATS_VERSION:-v2.15.2}"

smoke=0
peer=""
cluster=0
selected=()
while (($#)); do
	case "$1" in
	--smoke) smoke=1 ;;
	--cluster)
		(($# >= 2)) || { log "--cluster needs a number of servers"; exit 2; }
		cluster="$2"
		shift
		;;
	--cluster=*) cluster="${1#--cluster=}" ;;
	--peer)
		(($# >= 2)) || { log "--peer needs a value: ngircd or nats"; exit 2; }
		peer="$2"
		shift
		;;
	--peer=*) peer="${1#--peer=}" ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	a | b | c2k | c10k | d | e | f | g) selected+=("$1") ;;
	*)
		log "unknown argument: $1 (try --help)"
		exit 2
		;;
	esac
	shift
done
case "$peer" in
"" | ngircd | nats) ;;
*)
	log "unknown peer: $peer (ngircd or nats)"
	exit 2
	;;
esac
if [[ ! "$cluster" =~ ^[0-9]$ ]] || ((cluster == 1)); then
	log "--cluster $cluster: want 2 to 9 servers"
	exit 2
fi
if ((cluster)) && [[ -n "$peer" ]]; then
	log "--cluster and --peer do not go together"
	exit 2
fi

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
	add g "as a, with 50 of the 90 readers in character mode (xterm: colours, timestamps, redrawn input line)" - \
		"-clients 100 -senders 10 -lines 1000 -size 64 -char-mode 50 -timeout 120s"
	order=(a b c2k c10k d e f g)
	((cluster == 0)) || order=(a d f)
fi
if ((${#selected[@]})); then
	order=("${selected[@]}")
fi
if ((cluster)); then
	for w in "${order[@]}"; do
		case "$w" in
		a | d | f) ;;
		*)
			log "--cluster runs workloads a, d and f only (not $w)"
			exit 2
			;;
		esac
	done
fi

raise_nofile
log "open file limit: $(ulimit -n)"

WORK="$(mktemp -d /tmp/telchat-bench.XXXXXX)"
CLUSTER_PIDS=()
cleanup() {
	stop_cluster
	stop_server
	if [[ "${KEEP_LOGS:-0}" == 1 ]]; then
		log "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_cluster: stops the cluster's telchat servers, then its NATS.
stop_cluster() {
	local pid
	for pid in "${CLUSTER_PIDS[@]}"; do
		stop_pid "$pid" "telchat server"
	done
	CLUSTER_PIDS=()
	stop_natsdev
}

if [[ -n "$peer" ]]; then
	log "building loadgen"
	(cd "$ROOT" && go build -o "$WORK/loadgen" ./scripts/loadgen)
else
	build_tools "$WORK"
fi
if ((cluster)); then
	log "building natsdev"
	(cd "$ROOT" && go build -o "$WORK/natsdev" ./scripts/natsdev)
	# shellcheck source=bench-cluster.sh
	source "$(dirname "${BASH_SOURCE[0]}")/bench-cluster.sh"
	exit "$?"
fi

# setup_peer: finds or builds the peer server and sets PEER_BIN, PEER_PROTO
# and SERVER_NAME.
setup_peer() {
	case "$peer" in
	ngircd)
		[[ -x "$NGIRCD_BIN" ]] || { log "error: $NGIRCD_BIN not found (set NGIRCD_BIN)"; exit 2; }
		PEER_BIN="$NGIRCD_BIN"
		PEER_PROTO=irc
		PEER_LG=(-dial-concurrency 10) # ngircd's listen backlog is 10
		SERVER_NAME="ngircd $("$PEER_BIN" --version 2>/dev/null | sed -n '1s/^ngIRCd \([^-]*\).*/\1/p')"
		mkdir -p "$WORK/ngircd.conf.d"
		;;
	nats)
		if [[ -n "${NATS_SERVER_BIN:-}" ]]; then
			PEER_BIN="$NATS_SERVER_BIN"
		else
			log "building nats-server $NATS_VERSION (throwaway module in $WORK/natspeer)"
			mkdir -p "$WORK/natspeer"
			(cd "$WORK/natspeer" && export GOWORK=off GOFLAGS=-mod=mod &&
				go mod init natspeer >/dev/null 2>&1 &&
				go get "github.com/nats-io/nats-server/v2@$NATS_VERSION" &&
				go build -o "$WORK/nats-server" github.com/nats-io/nats-server/v2)
			PEER_BIN="$WORK/nats-server"
		fi
		PEER_PROTO=nats
		SERVER_NAME="nats-server $("$PEER_BIN" --version 2>/dev/null | sed -n 's/^nats-server: //p')"
		;;
	esac
}

# start_peer WORKLOAD: writes the peer's config for WORKLOAD and starts it.
start_peer() {
	local w="$1" conf
	case "$peer" in
	ngircd)
		conf="$WORK/ngircd-$w.conf"
		cat >"$conf" <<-EOF
			[Global]
			Name = bench.localhost
			Info = telchat bench peer
			AdminInfo1 = bench
			AdminInfo2 = bench
			AdminEMail = bench@localhost
			Listen = 127.0.0.1
			Ports = $PORT
			MotdPhrase = bench
			[Limits]
			MaxConnections = 0
			MaxConnectionsIP = 0
			MaxJoins = 0
			MaxNickLength = 30
			MaxPenaltyTime = 0
			PingTimeout = 3600
			PongTimeout = 3600
			[Options]
			PAM = no
			Ident = no
			DNS = no
			IncludeDir = $WORK/ngircd.conf.d
		EOF
		start_command "$PORT" "$WORK/server-$w.log" "$PEER_BIN" -n -f "$conf"
		;;
	nats)
		conf="$WORK/nats-$w.conf"
		{
			echo "max_pending: $QUEUE_BYTES"
			[[ "$w" == e ]] && echo "write_deadline: \"$STALL_TIMEOUT\""
		} >"$conf"
		start_command "$PORT" "$WORK/server-$w.log" "$PEER_BIN" -a 127.0.0.1 -p "$PORT" -c "$conf"
		;;
	esac
}

SERVER_NAME=telchat
PEER_PROTO=telchat
PEER_LG=() # loadgen flags added for the peer (after the workload's own)
[[ -z "$peer" ]] || setup_peer
log "server: $SERVER_NAME (loadgen -proto $PEER_PROTO)"

declare -A RESULTS STATUS
failed=0
missing=0 # a workload without a RESULT line (not measured at all)
for w in "${order[@]}"; do
	[[ -n "${LG[$w]:-}" ]] || { log "workload $w is not part of this mode"; exit 2; }
	log ""
	log "=== workload $w ($SERVER_NAME): ${DESC[$w]}"
	if [[ -n "$peer" ]]; then
		start_peer "$w"
	else
		srv_extra=()
		[[ "${SRV[$w]}" == - ]] || read -r -a srv_extra <<<"${SRV[$w]}"
		start_server "$WORK/telchat" "$PORT" "$WORK/server-$w.log" "${SERVER_FLAGS[@]}" -data-dir "$WORK/data-$w" \
			"${srv_extra[@]}" "${EXTRA[@]}"
	fi
	read -r -a lg_flags <<<"${LG[$w]}"
	[[ -z "$peer" ]] || lg_flags+=(-proto "$PEER_PROTO" "${PEER_LG[@]}")
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
	[[ -n "${RESULTS[$w]}" ]] || missing=1
	log "=== workload $w ($SERVER_NAME): ${STATUS[$w]}"
done

echo
label_width=5
if [[ -n "$peer" ]]; then
	echo "server: $SERVER_NAME (loadgen -proto $PEER_PROTO)"
	label_width=$((${#peer} + 5))
fi
printf "%-${label_width}s %-8s %7s %9s %10s %9s %9s %9s %12s %9s %10s %9s\n" \
	work status clients connect_s msgs/s p50_ms p99_ms max_ms lost/dup/reo rss_peakMB rss/conn_B syscw/msg
for w in "${order[@]}"; do
	r="${RESULTS[$w]}"
	f() { result_field "$r" "$1"; }
	peak="$(f rss_peak_kb)"
	[[ "$peak" =~ ^[0-9]+$ ]] && peak="$((peak / 1024))"
	label="$w"
	[[ -z "$peer" ]] || label="$peer:$w"
	printf "%-${label_width}s %-8s %7s %9s %10s %9s %9s %9s %12s %9s %10s %9s\n" \
		"$label" "${STATUS[$w]}" "$(($(f clients) + $(f idle) + $(f stalled)))" "$(f connect_s)" "$(f msgs_per_s)" \
		"$(f p50_ms)" "$(f p99_ms)" "$(f max_ms)" "$(f lost)/$(f dup)/$(f reordered)" "$peak" \
		"$(f rss_per_conn_b)" "$(f syscw_per_delivery)"
done
echo
for w in "${order[@]}"; do
	echo "$w: ${RESULTS[$w]:-no RESULT line}"
done
if [[ -n "$peer" ]]; then
	if ((missing)); then
		echo "bench: peer $peer: some workload produced no RESULT line"
		exit 1
	fi
	echo "bench: peer $peer measured (the status column shows loadgen's checks)"
	exit 0
fi
if ((failed)); then
	echo "bench: FAIL"
	exit 1
fi
echo "bench: PASS"
