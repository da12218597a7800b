#!/bin/bash
# cpload.sh: pptpgw's control plane under load, in the network lab
# (lab/netlab.sh), with the load generator bench/cpload.c:
#   - call setups per second (and clears per second): one inside host with
#     NSRC addresses opens SETUP_CONNS control connections to a test PAC
#     (cpload --pac in the server netns) and asks SETUP_CALLS calls in all,
#     real PPTP messages through pptpgw; REPEAT runs, median reported;
#   - pptpgw's memory: VmRSS with 0 calls and with each LADDER count of
#     calls held, so bytes per call;
#   - cost per packet while LADDER calls are held: GRE for one of the calls
#     (its real Call IDs) at GRE_RATE packets/s for GRE_SECS s from the
#     inside host to the server; CPU time of the whole host (/proc/stat
#     busy jiffies, minus the same time idle just before) and of pptpgw
#     alone (/proc/PID/stat) per delivered packet.
# Each measurement runs once per data path pptpgw has: "fastpath" (its
# default when `pptpgw --help` lists --no-fastpath) and "queue"
# (--no-fastpath; the only path of an older build).
# Usage: sudo bench/cpload.sh [BUILD_DIR]
#   env: LADDER ("10 1000 50000"), SETUP_CALLS (20000), SETUP_CONNS (200),
#        NSRC (250), WINDOW (32 unanswered OCRQs per connection), REPEAT (3),
#        GRE_RATE (10000), GRE_SECS (5), GRE_LEN (64), ECHO_MS (20: an
#        Echo-Request every ECHO_MS ms on one connection while the calls
#        are held, for the control messages' round trip), PATHS (detected),
#        OUT (bench/results)
# Writes OUT/cpload.md (tables) and OUT/cpload.csv; prints the tables.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=$(readlink -f "${1:-$top/build}")
LADDER=${LADDER:-10 1000 50000}
SETUP_CALLS=${SETUP_CALLS:-20000}
SETUP_CONNS=${SETUP_CONNS:-200}
NSRC=${NSRC:-250}
WINDOW=${WINDOW:-32}
REPEAT=${REPEAT:-3}
GRE_RATE=${GRE_RATE:-10000}
GRE_SECS=${GRE_SECS:-5}
GRE_LEN=${GRE_LEN:-64}
ECHO_MS=${ECHO_MS:-20}
OUT=${OUT:-$here/results}
CPLOAD=$BUILD/bench/cpload
if [ ! -x "$CPLOAD" ]; then
	echo "error: no $CPLOAD; build it with $top/scripts/build.sh $BUILD" >&2
	exit 1
fi
. "$top/lab/netlab.sh"
e2e_init "$BUILD"
. "$top/lab/gw.sh" "$BUILD"
find_tool GRETOOL gretool
mkdir -p "$OUT"
log() { e2e_log "cpload: $*"; }

# The inside host's extra addresses: 198.18.128.1 on, routed by the gateway
# straight onto its LAN bridge.
SRC0=198.18.128.1
HZ=$(getconf CLK_TCK)

if [ -z "${PATHS:-}" ]; then
	if "$PPTPGW" --help 2>&1 | grep -q -- --no-fastpath; then
		PATHS="fastpath queue"
	else
		PATHS="queue"
	fi
fi

cpu_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2); else print "-"}'; }

# Written aside and moved in place at the end: an interrupted run leaves
# the previous results as they were.
CSV="$OUT/.cpload.csv.$$"
MD="$OUT/.cpload.md.$$"
trap 'rc=$?; rm -f "$CSV" "$MD"; (exit $rc); e2e_exit' EXIT
echo "date,path,metric,calls,value,unit" >"$CSV"
csv() { echo "$(date -u +%FT%TZ),$1,$2,$3,$4,$5" >>"$CSV"; }

lab_up() {
	local i
	topo_up 1
	{
		for i in $(seq 0 $((NSRC - 1))); do
			echo "addr add 198.18.$((128 + i / 254)).$((1 + i % 254))/32 dev eth0"
		done
	} >"$E2E_RUN/addrs.batch"
	ip -n "$(host_ns 1)" -batch "$E2E_RUN/addrs.batch"
	gw_exec ip route add 198.18.128.0/17 dev "$GW_LAN"
	# not through srv_exec: $PAC_PID must be cpload's own (SIGUSR1)
	ip netns exec "$NS_SRV" "$CPLOAD" --pac --call-file "$E2E_RUN/pac-calls" \
		>>"$E2E_RUN/logs/pac.log" 2>&1 &
	PAC_PID=$!
	E2E_PIDS+=("$PAC_PID")
	for _ in $(seq 1 50); do
		srv_exec ss -ltnH 2>/dev/null | grep -q ':1723 ' && return 0
		sleep 0.1
	done
	log "the test PAC did not start"; return 1
}

# The configuration the benchmark runs pptpgw with: room for the largest
# load, a short hold-down so the aliases of one step are free for the next,
# no idle timeout within the run, little logging.
write_conf() {
	local max=$1
	cat >"$E2E_RUN/pptpgw.conf" <<EOF
[gateway]
wan = $GW_WAN
[limits]
max_calls = $((max + max / 8 + 64))
max_conns = 4096
[timeouts]
holddown = 1
call_idle = 3600
conn_idle = 3600
[metrics]
listen = off
[log]
level = warning
EOF
}

gw_up() {  # gw_up PATH
	local k extra=""
	[ "$1" = queue ] && [ "$PATHS" != queue ] && extra=--no-fastpath
	start_gw_cmd "$PPTPGW" -f "$E2E_RUN/pptpgw.conf" -s "$GW_SOCK" --state-file "$E2E_RUN/state" $extra
	PPTPGW_PID=$GW_CMD_PID
	for k in $(seq 1 100); do
		ctl status >/dev/null 2>&1 && return 0
		kill -0 "$PPTPGW_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "pptpgw did not start"; cat "$E2E_RUN/logs/gw_cmd.log" >&2
	return 1
}

gw_calls_zero() { [ "$(ctl_json status .calls)" = 0 ]; }
fp_calls_are() { [ "$(ctl_json status '.fastpath_calls // 0')" = "$1" ]; }

# pns_run OUTFILE ARGS...: cpload --pns in the inside host, foreground.
pns_run() {
	local out=$1
	shift
	host_exec 1 "$CPLOAD" --pns --server "$SRV_IP" --src "$SRC0" --nsrc "$NSRC" \
		--window "$WINDOW" "$@" >"$out" 2>>"$E2E_RUN/logs/pns.log"
}

# setup_runs PATH: REPEAT runs of SETUP_CALLS setups and clears.
setup_runs() {
	local path=$1 r per line s c rates="" crates=""
	per=$(((SETUP_CALLS + SETUP_CONNS - 1) / SETUP_CONNS))
	for r in $(seq 1 "$REPEAT"); do
		pns_run "$E2E_RUN/setup-$path-$r.txt" --conns "$SETUP_CONNS" --calls "$per" \
			--timeout 60 --hold 0.5 --clear
		line=$(grep 'phase=setup' "$E2E_RUN/setup-$path-$r.txt")
		s=$(kv "$line" setups_per_s)
		line=$(grep 'phase=clear' "$E2E_RUN/setup-$path-$r.txt")
		c=$(kv "$line" clears_per_s)
		log "$path run $r: $(cat "$E2E_RUN/setup-$path-$r.txt" | tr '\n' ' ')"
		csv "$path" setups_per_s "$((per * SETUP_CONNS))" "${s:-0}" "calls/s (run $r; up $(kv "$(grep phase=setup "$E2E_RUN/setup-$path-$r.txt")" calls_up))"
		csv "$path" clears_per_s "$((per * SETUP_CONNS))" "${c:-0}" "calls/s (run $r)"
		rates="$rates ${s:-0}"
		crates="$crates ${c:-0}"
		wait_until 20 gw_calls_zero || log "pptpgw still has calls: $(ctl status | tr '\n' ' ')"
		sleep 1.2   # the hold-down
	done
	SETUP_MED[$path]=$(echo "$rates" | median)
	CLEAR_MED[$path]=$(echo "$crates" | median)
	SETUP_ALL[$path]=$(echo $rates)
	CLEAR_ALL[$path]=$(echo $crates)
	csv "$path" setups_per_s_median "$((per * SETUP_CONNS))" "${SETUP_MED[$path]}" "calls/s"
	csv "$path" clears_per_s_median "$((per * SETUP_CONNS))" "${CLEAR_MED[$path]}" "calls/s"
}

ksoftirqd_ticks() {
	local p n=0
	for p in $(ps -eo pid=,comm= | awk '$2 ~ /^ksoftirqd\// {print $1}'); do
		n=$((n + $(proc_ticks "$p")))
	done
	echo "$n"
}

# pac_alias PAC_ID: the Call ID the test PAC got in that call's OCRQ (the
# alias pptpgw gave the inside call): the ID of GRE toward the inside host.
pac_alias() {
	rm -f "$E2E_RUN/pac-calls"
	kill -USR1 "$PAC_PID"
	wait_until 10 test -e "$E2E_RUN/pac-calls" || return 1
	awk -v p="$1" '$1 == p {print $2}' "$E2E_RUN/pac-calls"
}

# idle_cpu PATH N: pptpgw's CPU with the calls held and no traffic, over
# GRE_SECS, in % of one CPU (IDLE_TICKS: its ticks).
idle_cpu() {
	local q0 q1
	q0=$(proc_ticks "$PPTPGW_PID")
	sleep "$GRE_SECS"
	q1=$(proc_ticks "$PPTPGW_PID")
	IDLE_TICKS=$((q1 - q0))
	IDLE_PCT=$(awk -v d=$IDLE_TICKS -v h="$HZ" -v s="$GRE_SECS" 'BEGIN {printf "%.1f", d / h / s * 100}')
	csv "$1" pptpgw_idle_cpu_pct "$2" "$IDLE_PCT" "% of one CPU (calls held; no traffic)"
}

# fp_stats PATH N: the fast path's own timings (pptpgwctl stats), when it
# has them: the last counter read-back's wall time, the longest install
# and removal so far.
fp_stats() {
	local j k v
	[ "$1" = fastpath ] || return 0
	j=$(ctl --json stats) || return 0
	for k in fastpath_read_us_last fastpath_install_us_max fastpath_remove_us_max; do
		v=$(printf '%s\n' "$j" | jq -r ".$k // empty")
		[ -n "$v" ] || continue
		csv "$1" "$k" "$2" "$v" us
		FPSTATS[$1]="${FPSTATS[$1]:-}${FPSTATS[$1]:+; }$2 calls: $k $v"
	done
	log "$1 $2 calls: fast path ${FPSTATS[$1]:-}"
}

# gre_cost PATH N DIR: GRE of one held call at a fixed rate, DIR out (the
# inside host to the server: the server's Call ID, pptpgw rewrites the
# source) or in (the server to the public address: the alias, pptpgw
# restores the inside host's address and Call ID).
# The packet's whole trip is done by three kinds of task: the sender (its
# syscall and the softirq work in its context: without IRQ time accounting
# the kernel charges that to it), pptpgw (the queue path: verdicts, and the
# reinjected packet's way on), and ksoftirqd when softirqs pile up.  Their
# CPU time per delivered packet is the path's cost; the host-wide busy time
# is kept in the CSV but other jobs on the machine swamp it.
gre_cost() {
	local path=$1 n=$2 dir=$3 src pac pns alias c0 c1 p0 p1 k0 k1 sent got line
	local cpu host pathus netus gwus
	read -r src pac pns <"$E2E_RUN/call"
	ROW_GRE="- | - | - | -"
	if [ "$dir" = out ]; then
		gre_count srv "$E2E_RUN/count-$path-$n-$dir.txt" "$((GRE_SECS + 3))" --call-id "$pac" || return 1
	else
		alias=$(pac_alias "$pac")
		[ -n "$alias" ] || { log "no alias for PAC call $pac"; return 1; }
		gre_count 1 "$E2E_RUN/count-$path-$n-$dir.txt" "$((GRE_SECS + 3))" --call-id "$pns" || return 1
	fi
	c0=$(cpu_busy_ticks); p0=$(proc_ticks "$PPTPGW_PID"); k0=$(ksoftirqd_ticks)
	if [ "$dir" = out ]; then
		line=$(host_exec 1 "$CPLOAD" --gre --src "$src" --dst "$SRV_IP" --call-id "$pac" \
			--rate "$GRE_RATE" --seconds "$GRE_SECS" --len "$GRE_LEN")
	else
		line=$(srv_exec "$CPLOAD" --gre --src "$SRV_IP" --dst "$GW_WAN_IP" --call-id "$alias" \
			--rate "$GRE_RATE" --seconds "$GRE_SECS" --len "$GRE_LEN")
	fi
	c1=$(cpu_busy_ticks); p1=$(proc_ticks "$PPTPGW_PID"); k1=$(ksoftirqd_ticks)
	wait "$COUNT_PID"
	sent=$(kv "$line" sent)
	cpu=$(kv "$line" cpu_s)
	got=$(cat "$E2E_RUN/count-$path-$n-$dir.txt")
	host=$(awk -v d=$((c1 - c0)) -v g="$got" -v h="$HZ" 'BEGIN {printf "%.2f", g ? d / h * 1e6 / g : 0}')
	gwus=$(awk -v d=$((p1 - p0)) -v g="$got" -v h="$HZ" 'BEGIN {printf "%.2f", g ? d / h * 1e6 / g : 0}')
	pathus=$(awk -v c="${cpu:-0}" -v d=$((p1 - p0 + k1 - k0)) -v g="$got" -v h="$HZ" \
		'BEGIN {printf "%.2f", g ? (c + d / h) * 1e6 / g : 0}')
	netus=$(awk -v c="${cpu:-0}" -v d=$((p1 - p0 + k1 - k0 - IDLE_TICKS)) -v g="$got" -v h="$HZ" \
		'BEGIN {printf "%.2f", g ? (c + d / h) * 1e6 / g : 0}')
	log "$path $n calls, GRE $dir: src=$src pac=$pac pns=$pns alias=${alias:-} sent=$sent delivered=$got sender_cpu=${cpu}s pptpgw=$((p1 - p0)) ksoftirqd=$((k1 - k0)) ticks: path=${pathus}us net=${netus}us pptpgw=${gwus}us host=${host}us per packet"
	csv "$path" "${dir}_gre_sent" "$n" "$sent" packets
	csv "$path" "${dir}_gre_delivered" "$n" "$got" packets
	csv "$path" "${dir}_sender_cpu_us_per_pkt" "$n" "$(awk -v c="${cpu:-0}" -v g="$got" 'BEGIN {printf "%.2f", g ? c * 1e6 / g : 0}')" "us (the sender with its softirq work: the whole trip on the fast path)"
	csv "$path" "${dir}_path_cpu_us_per_pkt" "$n" "$pathus" "us (sender incl. its softirq + pptpgw + ksoftirqd)"
	csv "$path" "${dir}_path_cpu_net_us_per_pkt" "$n" "$netus" "us (path CPU minus pptpgw's CPU when idle for as long)"
	csv "$path" "${dir}_pptpgw_cpu_us_per_pkt" "$n" "$gwus" "us (pptpgw utime+stime)"
	csv "$path" "${dir}_host_busy_us_per_pkt" "$n" "$host" "us (all CPUs busy jiffies; shared machine)"
	ROW_GRE="$got/$sent | $pathus | $netus | $gwus"
}

# ladder PATH: hold each LADDER count of calls, measure memory and GRE cost.
ladder() {
	local path=$1 n conns per pid rss0 rss hwm up line est fpc dir prev_rss prev_n=0
	sleep 1   # let it settle after its start
	rss0=$(rss_kb "$PPTPGW_PID" VmRSS)
	prev_rss=$rss0
	log "$path: pptpgw with no call: VmRSS $rss0 kB, RssAnon $(rss_kb "$PPTPGW_PID" RssAnon) kB, RssFile $(rss_kb "$PPTPGW_PID" RssFile) kB"
	csv "$path" vmrss_kb 0 "$rss0" kB
	csv "$path" rssanon_kb 0 "$(rss_kb "$PPTPGW_PID" RssAnon)" kB
	ROWS[$path]="| $path | 0 | - | - | $rss0 | - | - | - | - | - | - | - | - | - | - |"
	for n in $LADDER; do
		if [ "$n" -le 100 ]; then conns=1; else conns=$(((n + 99) / 100)); fi
		per=$(((n + conns - 1) / conns))
		rm -f "$E2E_RUN/ready" "$E2E_RUN/call"
		# not through host_exec: $! must be cpload's own pid (ip netns
		# exec execs it), not a subshell's that would leave it running
		ip netns exec "$(host_ns 1)" "$CPLOAD" --pns --server "$SRV_IP" --src "$SRC0" --nsrc "$NSRC" \
			--window "$WINDOW" --conns "$conns" --calls "$per" --timeout 120 \
			--ready "$E2E_RUN/ready" --call-file "$E2E_RUN/call" --echo-ms "$ECHO_MS" \
			>"$E2E_RUN/ladder-$path-$n.txt" 2>>"$E2E_RUN/logs/pns.log" &
		pid=$!
		E2E_PIDS+=("$pid")
		wait_until 150 test -e "$E2E_RUN/ready" || { log "no ready after 150 s"; }
		line=$(grep phase=setup "$E2E_RUN/ladder-$path-$n.txt")
		up=$(kv "$line" calls_up)
		# the fast path's entries at the first look after the last OCRP
		# (pptpgw installs a call's before passing its OCRP on)
		fpc=$(ctl_json status '.fastpath_calls // "-"')
		sleep 1
		est=$(ctl_json status .calls_established)
		rss=$(rss_kb "$PPTPGW_PID" VmRSS)
		log "$path $n calls: RssAnon $(rss_kb "$PPTPGW_PID" RssAnon) kB, RssFile $(rss_kb "$PPTPGW_PID" RssFile) kB"
		log "$path hold $n: $line; pptpgw established=$est VmRSS=${rss} kB"
		csv "$path" calls_up "$n" "${up:-0}" calls
		csv "$path" pptpgw_established "$n" "${est:-0}" calls
		csv "$path" ladder_setups_per_s "$n" "$(kv "$line" setups_per_s)" "calls/s"
		csv "$path" vmrss_kb "$n" "$rss" kB
		csv "$path" rssanon_kb "$n" "$(rss_kb "$PPTPGW_PID" RssAnon)" kB
		csv "$path" fastpath_calls "$n" "$fpc" calls
		local bpc mpc
		bpc=$(awk -v a="$rss0" -v b="$rss" -v n="${est:-0}" 'BEGIN {printf "%.0f", n ? (b - a) * 1024 / n : 0}')
		mpc=$(awk -v a="$prev_rss" -v b="$rss" -v n="${est:-0}" -v m="$prev_n" 'BEGIN {printf "%.0f", (n > m) ? (b - a) * 1024 / (n - m) : 0}')
		csv "$path" rss_bytes_per_call "$n" "$bpc" "bytes (over no call)"
		csv "$path" rss_bytes_per_added_call "$n" "$mpc" "bytes (over the previous step)"
		prev_rss=$rss prev_n=${est:-0}
		IDLE_TICKS=0 IDLE_PCT=-
		[ -s "$E2E_RUN/call" ] && idle_cpu "$path" "$n"
		fp_stats "$path" "$n"
		local -A grerow=()
		for dir in out in; do
			ROW_GRE="- | - | - | -"
			[ -s "$E2E_RUN/call" ] && gre_cost "$path" "$n" "$dir"
			grerow[$dir]=$ROW_GRE
		done
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# control messages' round trips through the gateway meanwhile
		local hl rtt
		hl=$(grep phase=hold "$E2E_RUN/ladder-$path-$n.txt")
		rtt="$(kv "$hl" echo_p50_ms) / $(kv "$hl" echo_p99_ms) / $(kv "$hl" echo_max_ms)"
		log "$path $n calls: $hl"
		csv "$path" echo_rtt_p50_ms "$n" "$(kv "$hl" echo_p50_ms)" "ms (Echo-Request every $ECHO_MS ms while held)"
		csv "$path" echo_rtt_p99_ms "$n" "$(kv "$hl" echo_p99_ms)" ms
		csv "$path" echo_rtt_max_ms "$n" "$(kv "$hl" echo_max_ms)" ms
		for dir in out in; do
			ROWS[$path]="${ROWS[$path]}
| $path | $n | ${up:-0}/${est:-0} | $fpc | $rss | $bpc | $mpc | $(kv "$line" setups_per_s) | $rtt | $IDLE_PCT | $dir | ${grerow[$dir]} |"
		done
		wait_until 30 gw_calls_zero || log "pptpgw still has calls: $(ctl status | tr '\n' ' ')"
		sleep 1.2
	done
	hwm=$(rss_kb "$PPTPGW_PID" VmHWM)
	HWM[$path]=$hwm
	csv "$path" vmhwm_kb max "$hwm" kB
}

declare -A SETUP_MED CLEAR_MED SETUP_ALL CLEAR_ALL ROWS HWM FPSTATS
max=0
for n in $LADDER $SETUP_CALLS; do [ "$n" -gt "$max" ] && max=$n; done
t_start=$(date +%s)
for path in $PATHS; do
	lab_up || exit 1
	write_conf "$max"
	gw_up "$path" || exit 1
	log "$path: pptpgw pid $PPTPGW_PID, $(ctl status | head -n2 | tail -n1)"
	ladder "$path"
	setup_runs "$path"
	log "$path: pptpgw stats: $(ctl --json stats | tr -d '\n' | cut -c1-600)"
	stop_pptpgw
	topo_down
done

{
	echo "## Control plane under load (bench/cpload.sh)"
	echo
	echo "$(date -u '+%F %H:%M UTC'), $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); shared machine, timings are noisy."
	echo "One inside host with $NSRC addresses, MASQUERADE gateway running pptpgw, test PAC (cpload --pac); window $WINDOW OCRQs per connection."
	echo
	echo "### Call setups per second ($SETUP_CALLS calls over $SETUP_CONNS control connections, $REPEAT runs)"
	echo
	echo "| path | setups/s median | runs | clears/s median | runs |"
	echo "|---|---|---|---|---|"
	for path in $PATHS; do
		echo "| $path | ${SETUP_MED[$path]} | ${SETUP_ALL[$path]} | ${CLEAR_MED[$path]} | ${CLEAR_ALL[$path]} |"
	done
	echo
	echo "### Calls held: pptpgw memory and cost per GRE packet ($GRE_RATE pkt/s for ${GRE_SECS} s, $GRE_LEN-byte payload; out: inside host to server, in: server to the public address)"
	echo
	echo "| path | calls | up (cpload/pptpgw) | fast-path entries right after the last OCRP | pptpgw VmRSS kB | RSS bytes/call over no call | RSS bytes per call added since the previous step | setups/s of this step | control RTT while held p50 / p99 / max, ms | pptpgw idle CPU % | GRE | delivered/sent | path CPU us/pkt | path CPU us/pkt without pptpgw's idle work | pptpgw CPU us/pkt |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for path in $PATHS; do
		echo "${ROWS[$path]}"
	done
	echo
	for path in $PATHS; do
		echo "- $path: pptpgw VmHWM ${HWM[$path]} kB over the whole run."
		[ -z "${FPSTATS[$path]:-}" ] || echo "- $path, pptpgwctl stats (us, wall time) after each step's idle time: ${FPSTATS[$path]}."
	done
	echo "- path CPU: the sender's CPU time (its syscalls and the softirq work in its context, the gateway's netfilter hooks included; this kernel has no IRQ time accounting, so that is charged to it) + pptpgw's + ksoftirqd's, per delivered packet. pptpgw idle CPU: with the calls held and no traffic, over ${GRE_SECS} s."
	echo "- RSS per call: VmRSS differences over calls. pptpgw's tables are allocated for max_calls and max_conns at start, and its 250 ms tick reads every slot of both, so most of its memory is resident from the first tick on whatever the load; the hash indexes' pages become resident as calls land in them (most of them by 1,000 calls). The per-call figures are therefore not a model of the memory: see bench/README.md."
	echo "- Run time $(( $(date +%s) - t_start )) s."
} >"$MD"
mv "$CSV" "$OUT/cpload.csv"
mv "$MD" "$OUT/cpload.md"
cat "$OUT/cpload.md"
