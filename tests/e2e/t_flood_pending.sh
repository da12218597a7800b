#!/bin/bash
# One inside host floods out-of-order segments (issue 10): host 3 opens
# rounds of NCONN real control connections to pptpd at once (pptpprobe
# --ooo-flood: SCCRQ, SCCRP, then 17 Echo-Requests one segment each) and a
# rule on the gateway's LAN side, ahead of conntrack and pptpgw, loses the
# first Echo-Request of each and every retransmission of it, as a lossy
# link would: the other 16 (host 3's route has initcwnd 32) reach pptpgw
# out of order, and it can only keep them (for its hold time, 1 s) or drop
# them.  Each round would keep NCONN * 16 segments waiting in the kernel's
# queue.  Rounds are 1 s apart: every connection costs pptpd a process,
# and the tunnels' server shares the machine.
#  1. Control, pending_per_host = 0: pptpgw keeps far more than PER_HOST
#     of host 3's segments waiting at once (its status says how many),
#     and the kernel's queue (its length in the gateway netns's
#     /proc/net/netfilter/nfnetlink_queue) is above 2 * PER_HOST much of
#     the time.
#  2. pending_per_host = PER_HOST: host 3 never has more than that many
#     waiting, the queue is above 2 * PER_HOST only for moments (packets
#     not read yet), the drops are counted in stats and /metrics and logged with its
#     address at most once a second, and hosts 1 and 2's tunnels, started
#     while the flood runs, carry their frames intact.
# FLOOD_LIMIT=N (env) runs phase 2 with pending_per_host = N instead: with 0 (off)
# every check of that phase fails, as it must.
# Usage: t_flood_pending.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
NCONN=15
PER_HOST=16
H3=198.18.0.13
# what a round would keep waiting; without the limit, more than half of it
QUEUE_MAX=$((NCONN * 16 / 2))
# conns_per_host and half_open_per_host lifted: host 3 opens NCONN at once
CONF="[limits]\nconns_per_host = 0\nhalf_open_per_host = 64\n"

# start_flood SECONDS: the lossy link, then host 3's rounds for SECONDS.
start_flood() {
	gw_exec iptables -t raw -A PREROUTING -i "$GW_LAN" -s "$H3" -p tcp --dport 1723 \
		-m u32 --u32 "0>>22&0x3C@12>>26&0x3C@12=0x4f4f4f21" -j DROP
	host_exec 3 ip route change default via "$GW_LAN_IP" initcwnd 32
	host_exec 3 "$PPTPPROBE" --server "$SRV_IP" --hold "$1" --gap 1000 \
		--ooo-flood "$NCONN" >"$E2E_RUN/flood.out" 2>&1 &
	FLOOD_PID=$!
	E2E_PIDS+=("$FLOOD_PID")
}

# The kernel's queue holds the segments pptpgw keeps waiting and, for
# moments, packets it has not read yet (a burst of SYNs, a slow state
# write): start_sampler reads its length 20 times a second (the gateway
# netns's /proc/net/netfilter/nfnetlink_queue, through pptpgw's /proc
# entry) into FILE; stop_sampler ends it.  queue_stats FILE: "MAX FRAC",
# the longest it was and the percentage of samples above 2 * PER_HOST.
start_sampler() {
	local f=$1
	: >"$f"
	(
		while :; do
			awk '{print $3}' "/proc/$PPTPGW_PID/net/netfilter/nfnetlink_queue" \
				2>/dev/null | sort -n | tail -n1 >>"$f"
			sleep 0.05
		done
	) &
	SAMPLER_PID=$!
	E2E_PIDS+=("$SAMPLER_PID")
}
stop_sampler() { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; }
queue_stats() {
	awk -v lim=$((2 * PER_HOST)) '$1 > m {m = $1} $1 > lim {o++} END {
		printf "%d %d\n", m, NR ? 100 * o / NR : 100}' "$1"
}
# The queue above 2 * PER_HOST in at most this percentage of the samples:
# a host that keeps segments waiting holds it there for the hold time of
# every round (about half of the time here).
QUEUE_FRAC=15

flood_report() {
	wait "$FLOOD_PID" 2>/dev/null
	cat "$E2E_RUN/flood.out" >&2
	e2e_log "lossy link dropped $(gw_exec iptables -t raw -nvxL PREROUTING | awk '/0x4f4f4f21/ {print $1}') segments"
}

# ---- 1. control: no per-host limit ------------------------------------------
flood_phase 3 "${CONF}pending_per_host = 0\n" || exit 1
start_sampler "$E2E_RUN/queue.control"
start_flood 6
wait "$FLOOD_PID" 2>/dev/null
stop_sampler
flood_report
read -r qmax qfrac < <(queue_stats "$E2E_RUN/queue.control")
peak=$(ctl_json status .pending_host_peak)
e2e_log "control: host 3 had up to $peak segments waiting; the queue up to $qmax packets, above $((2 * PER_HOST)) in $qfrac % of $(wc -l <"$E2E_RUN/queue.control") samples"
expect "control: without pending_per_host, host 3 keeps > $QUEUE_MAX segments waiting ($peak)" \
	[ "$peak" -gt "$QUEUE_MAX" ]
expect "control: the kernel's queue is above $((2 * PER_HOST)) in more than $QUEUE_FRAC % of the samples ($qfrac %)" \
	[ "$qfrac" -gt "$QUEUE_FRAC" ]
flood_phase_end

# ---- 2. pending_per_host ----------------------------------------------------
flood_phase 3 "${CONF}pending_per_host = ${FLOOD_LIMIT:-$PER_HOST}\n" || exit 1
start_sampler "$E2E_RUN/queue.limit"
start_flood 30
expect "host 3's out-of-order segments beyond pending_per_host are dropped" \
	wait_until 20 eval '[ "$(gwstat ctrl_pending_host_limit)" -ge 1 ] 2>/dev/null'
start_client 1
start_client 2
while_clients "$E2E_TIMEOUT" true
t1=$(date +%s)
stop_sampler
read -r qmax qfrac < <(queue_stats "$E2E_RUN/queue.limit")
e2e_log "pptpgw: $(gw_counters_nonzero)"
tunnels_result 2 "hosts 1 and 2's tunnels, started during the flood, carry their frames intact"
expect "the flood was still on when they finished" kill -0 "$FLOOD_PID"
peak=$(ctl_json status .pending_host_peak)
all=$(ctl_json status .pending_peak)
e2e_log "host 3 had up to $peak segments waiting (all hosts $all); the queue up to $qmax packets, above $((2 * PER_HOST)) in $qfrac % of $(wc -l <"$E2E_RUN/queue.limit") samples"
expect "host 3 had $PER_HOST segments waiting at most ($peak)" [ "$peak" = "$PER_HOST" ]
expect "the kernel's queue is above $((2 * PER_HOST)) in at most $QUEUE_FRAC % of the samples ($qfrac %)" \
	[ "$qfrac" -le "$QUEUE_FRAC" ]
refused=$(gwstat ctrl_pending_host_limit)
m=$(metric 'pptpgw_drops_total{reason="ctrl_pending_host_limit"}')
mp=$(metric 'pptpgw_pending_segments_peak{hosts="one"}')
expect "drops counted in stats and /metrics ($refused, $m; peak $mp)" \
	eval '[ "$refused" -ge 1 ] && [ "$m" -ge "$refused" ] && [ "$mp" = "$PER_HOST" ]'
lines=$(gw_log_count "host $H3: control segment dropped: $PER_HOST of its segments are waiting for their verdicts \(pending_per_host\)")
e2e_log "host 3: $refused segments dropped in $((t1 - FLOOD_T0)) s, $lines log lines"
expect "drops logged with host 3's address, at most once a second ($lines lines for $refused)" \
	per_second_ok "$lines" "$refused" $((t1 - FLOOD_T0))
expect "nothing of hosts 1 and 2 dropped for pending_per_host" \
	eval '[ "$(gw_log_count "host 198\.18\.0\.1[12]: control segment dropped")" = 0 ]'
expect "pptpgw still running" gw_alive
kill "$FLOOD_PID" 2>/dev/null
flood_report
flood_phase_end
e2e_finish
