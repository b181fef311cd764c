#!/usr/bin/env bash
# cpu-ab.sh: server CPU time and throughput of workload a, two server
# binaries side by side (runs alternate, so drifting machine load hits both).
#
# usage: scripts/cpu-ab.sh BIN_A BIN_B [RUNS]    (RUNS default 20)
# Environment: B_FLAGS (extra flags for B, e.g. "-metrics-addr 127.0.0.1:23298"),
# SCRAPE (a URL that is fetched every second while B runs, e.g.
# http://127.0.0.1:23298/metrics), PORT (default 23872).
# Prints one line per run and, at the end, total CPU ticks (user+system,
# from /proc/PID/stat around the loadgen run) and median msgs/s per binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
a="$1" b="$2" runs="${3:-20}" port="${PORT:-23872}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$ROOT" && go build -o "$work/loadgen" ./scripts/loadgen)
run() { # label bin extra-flags...
	local label="$1" bin="$2"
	shift 2
	"$bin" -addr "127.0.0.1:$port" -max-per-ip 0 -connect-rate 0 -msg-rate 0 -max-clients 20000 -log-level warn \
		-max-queue-bytes 67108864 -max-queue-msgs 1000000 -data-dir "$work/data-$label" "$@" </dev/null >/dev/null 2>&1 &
	local pid=$! i scr=""
	for i in $(seq 100); do port_in_use "$port" && break; sleep 0.05; done
	if [[ "$label" == B && -n "${SCRAPE:-}" ]]; then
		(while :; do curl -s -m 2 "$SCRAPE" >/dev/null || true; sleep 1; done) &
		scr=$!
	fi
	local t0 t1
	t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
	"$work/loadgen" -addr "127.0.0.1:$port" -clients 100 -senders 10 -lines 1000 -size 64 -timeout 120s >"$work/lg.out" 2>&1
	t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
	[[ -z "$scr" ]] || kill "$scr"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -rf "$work/data-$label"
	echo "$label $((t1 - t0)) $(grep -o 'msgs_per_s=[0-9.]*' "$work/lg.out" | cut -d= -f2)"
}
read -r -a bflags <<<"${B_FLAGS:-}"
for _ in $(seq "$runs"); do
	run A "$a"
	run B "$b" "${bflags[@]}"
done | tee "$work/runs"
for l in A B; do
	grep "^$l " "$work/runs" | sort -k3,3n | awk -v l="$l" '{t += $2; m[NR] = $3} END {printf "%s cpu_ticks %d median_msgs_per_s %.0f\n", l, t, (m[int((NR+1)/2)] + m[int(NR/2)+1]) / 2}'
done
