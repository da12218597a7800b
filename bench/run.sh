#!/bin/bash
# bench/run.sh: the data-plane benchmark (issue 9), one command from a fresh
# machine:  sudo bench/run.sh [BUILD_DIR]
#
# Installs what is missing (scripts/deps.sh, gnuplot-nox), builds
# (scripts/build.sh), then for each mode builds the network lab in
# namespaces of its own (lab/netlab.sh), brings one real pptp-linux call up
# to a real pptpd through the gateway, learns the call's Call IDs and
# sequence numbers from the wire, pauses the two pppspeaks (the pppd
# stand-ins) so that only the benchmark's GRE flows, and drives GRE from a
# C sender (bench/grebench.c) with the call's real IDs, counting what
# arrives at the other end.  Modes, alternated within every repeat:
#   plain     the gateway only routes, no NAT (the ceiling)
#   helper    MASQUERADE + the kernel's PPTP helper (the anchor)
#   fastpath  pptpgw as shipped: established calls translated in the
#             kernel by the engine it picks (tc-BPF where it loads)
#   nftpath   pptpgw --fastpath nftables: the nftables maps engine
#   queue     pptpgw --no-fastpath: every GRE packet through NFQUEUE
#   relay     pptpgw --relay all: GRE terminated and re-originated
# For each payload size (SIZES) and direction (DIRS): offered load
# unlimited (delivered packets/s, loss) and fixed at FIXED_PPS (CPU us per
# delivered packet, latency p50/p99, loss).  Every point REPEAT times; the
# report gives medians and the ratio to the helper's median.
# Writes bench/results/dataplane-<stamp>.{md,csv,png,log} and the same as
# dataplane.{md,csv,png} (the latest run).  If bench/cpload.sh exists, it
# runs after the data plane (control-plane load) and its Markdown and CSV
# join the results (see bench/README.md).
#
# Environment:
#   MODES ("plain helper fastpath nftpath queue relay"), SIZES ("64 1400"),
#   DIRS ("out"; "out in" adds server -> inside), POINT_S (5: seconds per
#   point), REPEAT (3), FIXED_PPS (20000), BASE_S (2: idle seconds before a
#   fixed-load point, whose CPU is subtracted), OUT (bench/results),
#   NO_DEPS=1 (skip scripts/deps.sh and apt-get), NO_BUILD=1 (skip the build),
#   NO_CPLOAD=1 (skip bench/cpload.sh), E2E_KEEP=1 (keep the lab's run dir),
#   PERF_DIR=DIR (a system-wide `perf record -g` of each unlimited point into
#   DIR/MODE-DIR-SIZE.data, for `perf report`).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${1:-$top/build}
MODES=${MODES:-plain helper fastpath nftpath queue relay}
SIZES=${SIZES:-64 1400}
DIRS=${DIRS:-out}
POINT_S=${POINT_S:-5}
REPEAT=${REPEAT:-3}
FIXED_PPS=${FIXED_PPS:-20000}
BASE_S=${BASE_S:-2}
OUT=${OUT:-$here/results}

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root (sudo): it builds network namespaces" >&2
	exit 1
fi
if [ "${NO_DEPS:-0}" != 1 ]; then
	"$top/scripts/deps.sh" || exit 1
	if ! command -v gnuplot >/dev/null; then
		echo "installing gnuplot-nox (the chart)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 \
			gnuplot-nox >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 gnuplot-nox >/dev/null; } ||
			echo "bench: no gnuplot: no chart" >&2
	fi
fi
if [ "${NO_BUILD:-0}" != 1 ]; then
	"$top/scripts/build.sh" "$BUILD" || exit 1
fi

# The calls' own frames: slow (50/s), and never finishing, so the call
# stays up for the whole mode; pppspeak is paused while we measure.
export E2E_RATE=50 E2E_SEND=10000000 E2E_FRAMES=1 E2E_TIMEOUT=3600
. "$top/lab/netlab.sh"
e2e_init "$BUILD"
. "$top/lab/gw.sh" "$BUILD"
find_tool GREBENCH grebench

STAMP=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
CSV="$OUT/dataplane-$STAMP.csv"
LOG="$OUT/dataplane-$STAMP.log"
HZ=$(getconf CLK_TCK)
HOST_IF=eth0  # the inside host's and the server's interface (netlab.sh)
: >"$LOG"
echo "mode,rep,dir,size,load,offered_pps,sent,seconds,delivered,delivered_pps,loss_pct,bad,dup,ooo,ring_drops,lat_p50_us,lat_p99_us,cpu_us_per_pkt,cpu_raw_us_per_pkt,status" >"$CSV"

log() { printf '[bench %s] %s\n' "$(date -u +%T)" "$*" | tee -a "$LOG" >&2; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

HAVE_FASTPATH=0
"$PPTPGW" --help 2>&1 | grep -q -- '--no-fastpath' && HAVE_FASTPATH=1
HAVE_ENGINES=0
"$PPTPGW" --help 2>&1 | grep -q -- '--fastpath ENGINE' && HAVE_ENGINES=1

# mode_setup MODE: the topology and the gateway for MODE; 2 = not available.
mode_setup() {
	case $1 in
	plain)
		E2E_NAT=0 topo_up 1 ;;
	helper)
		topo_up 1
		gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp ;;
	fastpath)
		[ $HAVE_FASTPATH = 1 ] || return 2
		topo_up 1
		start_pptpgw || return 1
		log "fastpath: $(ctl_json status .fastpath_state)" ;;
	nftpath)
		[ $HAVE_ENGINES = 1 ] || return 2
		topo_up 1
		start_pptpgw --fastpath nftables || return 1 ;;
	queue)
		topo_up 1
		if [ $HAVE_FASTPATH = 1 ]; then
			start_pptpgw --no-fastpath || return 1
		else
			start_pptpgw || return 1  # before the fast path: the queue path
		fi ;;
	relay)
		topo_up 1
		start_pptpgw --relay all || return 1 ;;
	*)
		log "unknown mode $1"; return 1 ;;
	esac
}

# speakers SIG: signal the pppspeak (pppd's stand-in) at both ends of the
# call: STOP pauses them so that the benchmark's GRE alone flows (their
# frames would interleave other sequence numbers with ours), CONT before
# the teardown (a stopped process would not act on its TERM).
speakers() {
	local ns p
	for ns in "$(host_ns 1)" "$NS_SRV"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pppspeak ] && kill "-$1" "$p" 2>/dev/null
		done
	done
	return 0
}

# learn_call: start the call, learn its IDs and sequence numbers at both
# ends (host: H_*, server: S_*), pause the speakers.  1 if it did not come up.
learn_call() {
	local hr="$E2E_RUN/learn-h" sr="$E2E_RUN/learn-s" lh lsv
	rm -f "$hr".* "$sr".*
	host_exec 1 "$GREBENCH" learn --iface "$HOST_IF" --min 20 --tail 1 --timeout 40 \
		--ready "$hr.ready" >"$hr.out" 2>>"$LOG" &
	local ph=$!
	srv_exec "$GREBENCH" learn --iface "$HOST_IF" --min 20 --tail 1 --timeout 40 \
		--ready "$sr.ready" >"$sr.out" 2>>"$LOG" &
	local ps=$!
	E2E_PIDS+=("$ph" "$ps")
	start_pptpd 2>>"$LOG"
	start_client 1 2>>"$LOG"
	# both ends have seen 20 frames each way: the call carries data
	for _ in $(seq 1 400); do
		[ -e "$hr.ready" ] && [ -e "$sr.ready" ] && break
		kill -0 "$ph" 2>/dev/null || kill -0 "$ps" 2>/dev/null || break
		sleep 0.1
	done
	speakers STOP
	wait "$ph"
	wait "$ps"
	lh=$(cat "$hr.out") lsv=$(cat "$sr.out")
	log "learned at the host:   $lh"
	log "learned at the server: $lsv"
	[ -e "$hr.ready" ] && [ -e "$sr.ready" ] || return 1
	H_OUT_CALL=$(field "$lh" out_call) H_IN_CALL=$(field "$lh" in_call)
	S_OUT_CALL=$(field "$lsv" out_call) S_IN_CALL=$(field "$lsv" in_call)
	S_OUT_DST=$(field "$lsv" out_dst)
	# continue each stream where the paused speaker left it (point reads
	# them as NEXT_SEQ_$dir)
	# shellcheck disable=SC2034
	NEXT_SEQ_out=$(($(field "$lh" out_seq) + 1))
	# shellcheck disable=SC2034
	NEXT_SEQ_in=$(($(field "$lsv" out_seq) + 1))
	# the load goes nowhere past the receiver's tap: not into pptpctrl or pptp
	srv_exec iptables -t raw -A PREROUTING -p gre -j DROP
	host_exec 1 iptables -t raw -A PREROUTING -p gre -j DROP
}

# cpu_sample: "t busy ours" (see grebench cpu).
cpu_sample() {
	local ns args=()
	for ns in $(e2e_our_namespaces); do args+=(--ns "/run/netns/$ns"); done
	"$GREBENCH" cpu --tree $$ "${args[@]}"
}

# cpu_ours A B: from samples A and B: our ticks, the nanoseconds between,
# all busy ticks.
cpu_ours() { echo "$1 $2" | awk '{print $6 - $3, $4 - $1, $5 - $2}'; }

RUN_ID=0
# point MODE REP DIR SIZE LOAD: one measurement; one CSV row.
point() {
	local mode=$1 rep=$2 dir=$3 size=$4 load=$5 rate=0
	local r_ns r_call dst call seq c0 c1 c2 c3 s r
	local -a s_run
	RUN_ID=$((RUN_ID + 1))
	[ "$load" = fixed ] && rate=$FIXED_PPS
	if [ "$dir" = out ]; then
		s_run=(host_exec 1)
		r_ns=$NS_SRV dst=$SRV_IP call=$H_OUT_CALL r_call=$S_IN_CALL
	else
		s_run=(srv_exec)
		r_ns=$(host_ns 1) dst=$S_OUT_DST call=$S_OUT_CALL r_call=$H_IN_CALL
	fi
	local seqvar="NEXT_SEQ_$dir"
	seq=${!seqvar}
	if [ "$load" = fixed ]; then
		c0=$(cpu_sample)
		sleep "$BASE_S"
		c1=$(cpu_sample)
	fi
	rm -f "$E2E_RUN/recv.ready"
	ip netns exec "$r_ns" "$GREBENCH" recv --iface "$HOST_IF" --seconds "$(awk -v t="$POINT_S" 'BEGIN {print 3 * t + 10}')" \
		--idle 0.5 --run "$RUN_ID" --call-id "$r_call" --ready "$E2E_RUN/recv.ready" \
		>"$E2E_RUN/recv.out" 2>>"$LOG" &
	local rp=$!
	E2E_PIDS+=("$rp")
	for _ in $(seq 1 100); do
		[ -e "$E2E_RUN/recv.ready" ] && break
		sleep 0.05
	done
	[ "$load" = fixed ] && c2=$(cpu_sample)
	local pp=""
	if [ -n "${PERF_DIR:-}" ] && [ "$load" = unlimited ]; then
		# a system-wide profile of the point, to explain a gap (bench/README.md)
		perf record -q -a -g -e cpu-clock -o "$PERF_DIR/$mode-$dir-$size.data" \
			-- sleep "$POINT_S" >/dev/null 2>>"$LOG" &
		pp=$!
	fi
	s=$("${s_run[@]}" "$GREBENCH" send --dst "$dst" --call-id "$call" --seq "$seq" \
		--size "$size" --rate "$rate" --seconds "$POINT_S" --run "$RUN_ID" 2>>"$LOG")
	wait "$rp"
	[ -z "$pp" ] || wait "$pp"
	[ "$load" = fixed ] && c3=$(cpu_sample)
	r=$(cat "$E2E_RUN/recv.out")
	printf -v "$seqvar" '%s' "$(field "$s" next_seq)"
	echo "$mode rep=$rep $dir $size $load: $s | $r" >>"$LOG"
	local sent secs got arrived pps loss cpu="" raw="" status=ok
	sent=$(field "$s" sent) secs=$(field "$s" seconds) got=$(field "$r" intact)
	if [ -z "$sent" ] || [ -z "$got" ]; then
		log "$mode $dir $size $load: no result (sender: '$s', receiver: '$r')"
		echo "$mode,$rep,$dir,$size,$load,$rate,,,,,,,,,,,,,,fail" >>"$CSV"
		return
	fi
	# Delivered: what reached the receiving end's interface, the packets
	# its ring had no room for included (the gateway delivered them; the
	# receiver, sharing the CPUs, was behind).
	arrived=$((got + $(field "$r" ring_drops)))
	pps=$(awk -v g="$arrived" -v t="$secs" 'BEGIN {printf "%.0f", (t > 0 ? g / t : 0)}')
	loss=$(awk -v g="$arrived" -v s="$sent" 'BEGIN {printf "%.3f", (s > 0 ? 100 * (s - g) / s : 0)}')
	if [ "$load" = fixed ] && [ "$arrived" -gt 0 ]; then
		# ours during the point, less the idle rate of the moments before
		local idle pt
		idle=$(cpu_ours "$c0" "$c1")
		pt=$(cpu_ours "$c2" "$c3")
		cpu=$(echo "$idle $pt" | awk -v hz="$HZ" -v n="$arrived" '{
			rate = $2 > 0 ? $1 / $2 : 0; net = $4 - rate * $5
			printf "%.2f", net / hz * 1e6 / n }')
		raw=$(echo "$pt" | awk -v hz="$HZ" -v n="$arrived" '{printf "%.2f", $3 / hz * 1e6 / n}')
	fi
	[ "$(field "$r" bad)" = 0 ] && [ "$(field "$r" dup)" = 0 ] || status=corrupt
	[ "$(field "$r" wrong_call)" = 0 ] || status=wrong_call
	echo "$mode,$rep,$dir,$size,$load,$rate,$sent,$secs,$arrived,$pps,$loss,$(field "$r" bad),$(field "$r" dup),$(field "$r" ooo),$(field "$r" ring_drops),$(field "$r" lat_p50_us),$(field "$r" lat_p99_us),$cpu,$raw,$status" >>"$CSV"
	log "$(printf '%-8s %-3s %4sB %-9s sent %8s got %8s  %7s pps  loss %6s%%  cpu %6s us/pkt  p50/p99 %s/%s us  %s' \
		"$mode" "$dir" "$size" "$load" "$sent" "$arrived" "$pps" "$loss" "${cpu:--}" \
		"$(field "$r" lat_p50_us)" "$(field "$r" lat_p99_us)" "$status")"
}

na_rows() {  # na_rows MODE REP STATUS
	local dir size load
	for dir in $DIRS; do for size in $SIZES; do for load in unlimited fixed; do
		echo "$1,$2,$dir,$size,$load,,,,,,,,,,,,,,,$3" >>"$CSV"
	done; done; done
}

session() {
	local mode=$1 rep=$2 rc dir size load
	log "---- $mode (repeat $rep of $REPEAT)"
	mode_setup "$mode" 2>>"$LOG"
	rc=$?
	if [ $rc = 2 ]; then
		log "$mode: n/a (this pptpgw has no --no-fastpath)"
		na_rows "$mode" "$rep" n/a
		topo_down 2>>"$LOG"
		return
	fi
	if [ $rc != 0 ] || ! learn_call; then
		log "$mode: the call did not come up; see $LOG"
		na_rows "$mode" "$rep" fail
		speakers CONT
		topo_down 2>>"$LOG"
		reset_run
		return
	fi
	for dir in $DIRS; do
		for size in $SIZES; do
			for load in unlimited fixed; do
				point "$mode" "$rep" "$dir" "$size" "$load"
			done
		done
	done
	if [ "$mode" != plain ] && [ "$mode" != helper ]; then
		log "$mode: pptpgw queue_dropped=$(gwstat queue_dropped 2>/dev/null)" \
			"calls=$(ctl_json status .calls 2>/dev/null)"
		# everything pptpgw counted (queue, fast path, relay), for the log
		ctl --json stats 2>/dev/null | jq -c . >>"$LOG" 2>&1
		stop_pptpgw
	fi
	speakers CONT
	topo_down 2>>"$LOG"
	reset_run
}

# Sourced with BENCH_LIB=1 (bench/tcbpf/proto.sh): the functions only.
[ "${BENCH_LIB:-0}" = 1 ] && return 0
T0=$(date +%s)
log "data plane: modes '$MODES', sizes '$SIZES', dirs '$DIRS', ${POINT_S}s points," \
	"$REPEAT repeats, fixed load $FIXED_PPS pps; fast path in this pptpgw: $HAVE_FASTPATH"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPEAT"); do
	for mode in $MODES; do
		session "$mode" "$rep"
	done
done
log "data plane done in $(($(date +%s) - T0)) s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# The control-plane load generator (issue 9, item 3, its other half), if
# present: `OUT=DIR bench/cpload.sh BUILD_DIR` writes DIR/cpload.md and
# DIR/cpload.csv; they join this run's results as cpload-<stamp>.*.
CPLOAD_MD=""
if [ -f "$here/cpload.sh" ] && [ "${NO_CPLOAD:-0}" != 1 ]; then
	log "control plane: bench/cpload.sh"
	touch "$E2E_RUN/cpload.start"
	if OUT="$OUT" STAMP="$STAMP" bash "$here/cpload.sh" "$BUILD" >>"$LOG" 2>&1; then
		for f in md csv; do
			[ "$OUT/cpload.$f" -nt "$E2E_RUN/cpload.start" ] &&
				cp "$OUT/cpload.$f" "$OUT/cpload-$STAMP.$f"
		done
		[ -f "$OUT/cpload-$STAMP.md" ] && CPLOAD_MD="$OUT/cpload-$STAMP.md"
	else
		log "bench/cpload.sh failed (see $LOG)"
	fi
fi

bash "$here/report.sh" "$CSV" "$OUT/dataplane-$STAMP" "$CPLOAD_MD" \
	"pptpgw $(git -C "$top" describe --always --dirty 2>/dev/null), fast path: $([ $HAVE_FASTPATH = 1 ] && echo yes || echo no)" |
	tee -a "$LOG"
for f in md csv png log; do
	[ -e "$OUT/dataplane-$STAMP.$f" ] && cp "$OUT/dataplane-$STAMP.$f" "$OUT/dataplane.$f"
done
log "results: $OUT/dataplane-$STAMP.{md,csv,png,log}"
