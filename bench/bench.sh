#!/bin/bash
# bench: PPTP through one NAT gateway, three ways, on this machine, inside
# network namespaces of its own (the network lab: lab/netlab.sh):
#   kernel     the Linux PPTP conntrack/NAT helper (nf_conntrack_pptp)
#   translate  pptpgw --wan wan0
#   relay      pptpgw --wan wan0 --relay all
# Each mode: NHOSTS inside hosts, one pptp tunnel each, to one pptpd; each
# end sends FRAMES frames at RATE frames/s.  Measured per mode:
#   delivered  intact frames received / frames sent, both directions summed
#   ooo, dup   out-of-order and duplicate frames at the receiving ends
#   host CPU   busy time of all CPUs during the run (/proc/stat), in CPU
#              seconds: everything on the machine, peers included, so the
#              modes compare; the kernel helper works in softirq, where a
#              per-process figure would miss it
#   pptpgw     its own user+system CPU seconds and peak RSS (VmHWM)
#   queue      packets the kernel dropped because pptpgw's queue was full
#   relay      (relay mode) sequence numbers its legs gave up as lost, frames
#              they put back in order, duplicates they dropped
# Usage: sudo bench/bench.sh [BUILD_DIR] [MODE...]
#   env: NHOSTS (4), RATE (500), FRAMES (5000), REPEAT (1)
# One line per run on stdout (also bench/results-<date>.txt with -o).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${1:-$top/build}
shift || true
MODES=${*:-kernel translate relay}
NHOSTS=${NHOSTS:-4}
RATE=${RATE:-500}
FRAMES=${FRAMES:-5000}
REPEAT=${REPEAT:-1}
export E2E_RATE=$RATE E2E_SEND=$FRAMES
# A run passes whatever arrives; the figures are the result.
export E2E_FRAMES=1
export E2E_TIMEOUT=$((FRAMES / RATE + 30))
. "$top/lab/netlab.sh"
e2e_init "$BUILD"
. "$top/lab/gw.sh" "$BUILD"

cpu_busy_ticks() {
	awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
proc_cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
sum_field() {  # sum_field FIELD FILE...
	cat "${@:2}" 2>/dev/null | tr ' ' '\n' | awk -F= -v f="$1" '$1 == f {s += $2} END {print s + 0}'
}

run_mode() {
	local mode=$1 t0 t1 c0 c1 p0=0 p1=0 hz rss="-" qd="-" sent got ooo dup secs
	topo_up "$NHOSTS"
	case $mode in
	kernel)
		gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp ;;
	translate)
		start_pptpgw || return 1 ;;
	relay)
		start_pptpgw --relay all || return 1 ;;
	*)
		echo "bench: unknown mode $mode" >&2; return 2 ;;
	esac
	start_pptpd
	[ "$mode" = kernel ] || p0=$(proc_cpu_ticks "$PPTPGW_PID")
	c0=$(cpu_busy_ticks)
	t0=$(date +%s%N)
	for i in $(seq 1 "$NHOSTS"); do
		start_client "$i"
	done
	wait_clients "$E2E_TIMEOUT" >/dev/null
	t1=$(date +%s%N)
	c1=$(cpu_busy_ticks)
	if [ "$mode" != kernel ]; then
		p1=$(proc_cpu_ticks "$PPTPGW_PID")
		rss=$(awk '/^VmHWM/ {print $2 " kB"}' "/proc/$PPTPGW_PID/status")
		qd=$(ctl_json stats .queue_dropped)
	fi
	local extra=""
	[ "$mode" = relay ] && extra=" relay_gaps_lost=$(ctl_json stats .relay_gre_lost) relay_reordered=$(ctl_json stats .relay_gre_reordered) relay_dup=$(ctl_json stats .relay_gre_dup)"
	hz=$(getconf CLK_TCK)
	local reps=("$E2E_RUN/results/clients.report" "$E2E_RUN/results/server.report")
	sent=$(sum_field sent "${reps[@]}")
	got=$(sum_field intact "${reps[@]}")
	ooo=$(sum_field ooo "${reps[@]}")
	dup=$(sum_field dup "${reps[@]}")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
	printf '%-9s hosts=%d rate=%d frames=%d  delivered=%d/%d (%s%%) ooo=%d dup=%d  wall=%ss host_cpu=%ss pptpgw_cpu=%s pptpgw_rss=%s queue_dropped=%s%s\n' \
		"$mode" "$NHOSTS" "$RATE" "$FRAMES" "$got" "$sent" \
		"$(awk -v g="$got" -v s="$sent" 'BEGIN {printf "%.2f", s ? 100 * g / s : 0}')" \
		"$ooo" "$dup" "$secs" \
		"$(awk -v a="$c0" -v b="$c1" -v h="$hz" 'BEGIN {printf "%.1f", (b - a) / h}')" \
		"$([ "$mode" = kernel ] && echo - || awk -v a="$p0" -v b="$p1" -v h="$hz" 'BEGIN {printf "%.2fs", (b - a) / h}')" \
		"$rss" "$qd" "$extra"
	[ "$mode" = kernel ] || stop_pptpgw
	topo_down
	reset_run
}

for r in $(seq 1 "$REPEAT"); do
	for m in $MODES; do
		run_mode "$m" 2>>"$E2E_RUN/../bench-$$.log"
	done
done
