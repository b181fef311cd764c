# bench-cluster.sh: the --cluster N mode of bench.sh (sourced by it after
# the tools are built; not to be run alone). Each run of each workload goes
# first against one fresh telchat server, then against N fresh telchat
# servers joined through one fresh local NATS (scripts/natsdev), with the
# clients spread over them; see bench.sh --help ("Cluster").
#
# Uses from bench.sh: order, cluster, LG, DESC, SERVER_FLAGS, EXTRA, WORK,
# PORT, CLUSTER_PIDS, stop_cluster.

RUNS="${RUNS:-3}"
NATS_PORT="${NATS_PORT:-23260}"
NATS_HTTP="${NATS_HTTP:-23270}"
read -r -a CLUSTER_EXTRA <<<"${CLUSTER_FLAGS:-}"
if [[ ! "$RUNS" =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 20)); then
	log "RUNS=$RUNS: want 1 to 20"
	exit 2
fi

declare -A CRES CSTAT # by "workload:servers:run"
cfailed=0

# bench_single W R: workload W, run R, against one server.
bench_single() {
	local w="$1" r="$2" rc=0 key="$1:1:$2"
	start_server "$WORK/telchat" "$PORT" "$WORK/server-$w-1-$r.log" "${SERVER_FLAGS[@]}" \
		-data-dir "$WORK/data-$w-1-$r" "${EXTRA[@]}"
	read -r -a lg_flags <<<"${LG[$w]}"
	"$WORK/loadgen" -addr "127.0.0.1:$PORT" -pid "$SERVER_PID" "${lg_flags[@]}" \
		>"$WORK/loadgen-$w-1-$r.log" || rc=$?
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		log "server died during workload $w; its log:"
		tail -n 20 "$WORK/server-$w-1-$r.log" >&2 || true
		rc=1
	fi
	stop_server
	bench_record "$key" "$rc" "$WORK/loadgen-$w-1-$r.log"
}

# bench_cluster W R: workload W, run R, against $cluster servers on one NATS.
bench_cluster() {
	local w="$1" r="$2" rc=0 key="$1:$cluster:$2" i port addrs="" pids="" metrics="" pid
	start_natsdev "$WORK/natsdev" "$NATS_PORT" 1 "$WORK/nats-$w-$r" "$WORK/nats-$w-$r.log" -http "$NATS_HTTP"
	for ((i = 1; i <= cluster; i++)); do
		port=$((PORT + i))
		start_server "$WORK/telchat" "$port" "$WORK/server-$w-$cluster-$r-$i.log" "${SERVER_FLAGS[@]}" \
			-data-dir "$WORK/data-$w-$cluster-$r-$i" -nats "$NATS_URLS" -server-id "bench$i" \
			-metrics-addr "127.0.0.1:$((PORT + 10 + i))" "${EXTRA[@]}" "${CLUSTER_EXTRA[@]}"
		CLUSTER_PIDS+=("$SERVER_PID")
		SERVER_PID=""
		addrs+="${addrs:+,}127.0.0.1:$port"
		pids+="${pids:+,}${CLUSTER_PIDS[-1]}"
		metrics+="${metrics:+,}http://127.0.0.1:$((PORT + 10 + i))/metrics"
	done
	read -r -a lg_flags <<<"${LG[$w]}"
	"$WORK/loadgen" -addr "$addrs" -pid "$pids" -nats-pid "$NATS_PID" -nats-varz "http://127.0.0.1:$NATS_HTTP/varz" -metrics "$metrics" \
		"${lg_flags[@]}" >"$WORK/loadgen-$w-$cluster-$r.log" || rc=$?
	i=0
	for pid in "${CLUSTER_PIDS[@]}"; do
		i=$((i + 1))
		if ! kill -0 "$pid" 2>/dev/null; then
			log "server bench$i died during workload $w; its log:"
			tail -n 20 "$WORK/server-$w-$cluster-$r-$i.log" >&2 || true
			rc=1
		fi
	done
	if ! kill -0 "$NATS_PID" 2>/dev/null; then
		log "NATS died during workload $w"
		rc=1
	fi
	stop_cluster
	bench_record "$key" "$rc" "$WORK/loadgen-$w-$cluster-$r.log"
}

# bench_record KEY RC LOG: keeps the RESULT line and the status of a run
# and prints loadgen's summary.
bench_record() {
	local key="$1" rc="$2" file="$3"
	grep -v '^RESULT' "$file" >&2 || true
	CRES[$key]="$(grep '^RESULT' "$file" || true)"
	if ((rc == 0)); then CSTAT[$key]=PASS; else CSTAT[$key]="FAIL($rc)"; cfailed=1; fi
	log "=== ${key%:*} run ${key##*:}: ${CSTAT[$key]}"
}

# range prints the smallest and largest of its numeric arguments ("-" and
# "na" are left out) as MIN-MAX, or one value when they are equal.
range() {
	printf '%s\n' "$@" | awk '
		$1 ~ /^-?[0-9.]+$/ { v = $1 + 0; if (n == 0 || v < lo) { lo = v; los = $1 } if (n == 0 || v > hi) { hi = v; his = $1 } n++ }
		END { if (n == 0) print "-"; else if (los == his) print los; else print los "-" his }'
}

log "cluster mode: $cluster servers on one NATS against one server, workloads ${order[*]}, $RUNS runs each"
for ((r = 1; r <= RUNS; r++)); do
	for w in "${order[@]}"; do
		log ""
		log "=== workload $w run $r/$RUNS, one server: ${DESC[$w]}"
		bench_single "$w" "$r"
		log ""
		log "=== workload $w run $r/$RUNS, $cluster servers + NATS: ${DESC[$w]}"
		bench_cluster "$w" "$r"
	done
done

fmt_row="%-5s %7s %3s %-8s %10s %9s %9s %9s %12s %9s %9s %9s %9s  %s\n"
echo
echo "every run (per load line sent: pub = lines the servers published to NATS, ev = all events they published, in/out = NATS server messages;"
echo "cpu: CPU seconds the telchat servers (summed) and the NATS server used while sending)"
# shellcheck disable=SC2059
printf "$fmt_row" work servers run status msgs/s p50_ms p99_ms xp99_ms lost/dup/reo pub/line ev/line in/line out/line cpu_s:telchat+nats
for w in "${order[@]}"; do
	for ((r = 1; r <= RUNS; r++)); do
		for n in 1 "$cluster"; do
			res="${CRES[$w:$n:$r]}"
			f() { result_field "$res" "$1"; }
			# shellcheck disable=SC2059
			printf "$fmt_row" "$w" "$n" "$r" "${CSTAT[$w:$n:$r]}" "$(f msgs_per_s)" "$(f p50_ms)" "$(f p99_ms)" \
				"$(f cross_p99_ms)" "$(f lost)/$(f dup)/$(f reordered)" "$(f pub_lines_per_line)" \
				"$(f pub_events_per_line)" "$(f nats_in_per_line)" "$(f nats_out_per_line)" "$(f server_cpu_s)+$(f nats_cpu_s)"
		done
	done
done

fmt_sum="%-5s %7s %19s %17s %17s %17s %9s %11s %13s %13s %11s %11s\n"
echo
echo "summary over $RUNS runs (min-max)"
# shellcheck disable=SC2059
printf "$fmt_sum" work servers msgs/s p50_ms p99_ms xp99_ms lost+dup+reo pub/line in/line out/line cpu_telchat cpu_nats
for w in "${order[@]}"; do
	for n in 1 "$cluster"; do
		vals() {
			local r
			for ((r = 1; r <= RUNS; r++)); do
				result_field "${CRES[$w:$n:$r]}" "$1"
				echo
			done
		}
		bad=0
		for ((r = 1; r <= RUNS; r++)); do
			res="${CRES[$w:$n:$r]}"
			for k in lost dup reordered; do
				v="$(result_field "$res" "$k")"
				[[ "$v" =~ ^[0-9]+$ ]] && bad=$((bad + v))
			done
		done
		# shellcheck disable=SC2046,SC2059
		printf "$fmt_sum" "$w" "$n" "$(range $(vals msgs_per_s))" "$(range $(vals p50_ms))" "$(range $(vals p99_ms))" \
			"$(range $(vals cross_p99_ms))" "$bad" "$(range $(vals pub_lines_per_line))" \
			"$(range $(vals nats_in_per_line))" "$(range $(vals nats_out_per_line))" \
			"$(range $(vals server_cpu_s))" "$(range $(vals nats_cpu_s))"
	done
done
echo
for w in "${order[@]}"; do
	for ((r = 1; r <= RUNS; r++)); do
		for n in 1 "$cluster"; do
			echo "$w/$n/$r: ${CRES[$w:$n:$r]:-no RESULT line}"
		done
	done
done
if ((cfailed)); then
	echo "bench: FAIL"
	exit 1
fi
echo "bench: PASS"
exit 0
