#!/bin/bash
# 2 inside hosts, each with 3 pptp-linux calls on one control connection
# (pptp's call manager), through pptpgw --relay all to pptpd, at 400 frames/s
# per call and 900 frames each way (issue 10: "lose frames in about 1 run of
# 3").  Where frames go is accounted for at every step of the path:
#
#   pppspeak -> pptp (host) -> [hosts' OUTPUT] -> pptpgw relay -> [server's
#   INPUT] -> pptpctrl's raw GRE socket -> pppspeak (server), and back.
#
# Data GRE packets (S bit set) are counted by iptables rules in every host
# and in the server; the relay counts the frames it took in and passed on.
# Each run checks what pptpgw is responsible for:
#  - all calls relayed and established (relay_calls, inside and upstream
#    connections, nothing refused or failed);
#  - every pppspeak on both ends sent all its frames (the tunnels stayed up);
#  - the relay passed on every data frame it took: relay_frames_up == data
#    GRE into the server's IP input, relay_frames_down == data GRE into the
#    hosts; no frame given up, late, duplicated, unusable or failed to send
#    (relay_gre_lost/_late/_dup/_bad/_send_failed), no NFQUEUE drop; and
#    the data GRE it did not take (hosts' out - frames_up, server's out -
#    frames_down: a peer's last frames after the relay ended the call) is
#    no more than pptpgw counted dropping as GRE for no call or for an
#    alias in hold-down;
#  - every frame a pppspeak missed is explained: the raw GRE sockets of the
#    namespace that received it dropped packets (/proc/net/raw "drops",
#    sampled during the run).  pptp-linux and pptpd each open one raw GRE
#    socket per call, connected to the peer's address; behind the relay (or
#    any NAT) all calls reach the server from one address, so each of
#    pptpd's sockets receives every call's GRE and must read and discard
#    the others': 6 calls at 400/s make each of its 6 sockets take 2400+
#    packets/s.  When its process is not scheduled for long enough the
#    socket's receive buffer (rmem_default, 212992 bytes) fills and the
#    kernel drops.  A loss with no such drop fails the test: it would be
#    unexplained.  (Measurements: tests/e2e/README.md, issue 10.)
# Frames lost at the peers are reported (lost per tunnel and direction, raw
# socket drops and peak queue per namespace), not failed on, unless
# E2E_STRICT=1: then every tunnel must be intact as well.
#
# E2E_REPEAT=N runs (default 1, as CI runs it; the issue compared 3, each on a fresh network); E2E_HOSTS and
# E2E_CALLS (2, 3) change the layout, e.g. E2E_HOSTS=6 E2E_CALLS=1 for the
# single-call comparison; E2E_RELAY=0 runs pptpgw translating (then the
# gateway must forward every data GRE packet: hosts out == server in; pptpd
# takes one call per control connection, so use it with E2E_CALLS=1), and
# E2E_RELAY=none only routes (no NAT, no pptpgw: the control, where each of
# pptpd's sockets is connected to a different host and sees only its call).
# Usage: t_relay_multicall.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-400}
E2E_FRAMES=${E2E_FRAMES:-900}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
REPEAT=${E2E_REPEAT:-1}
NH=${E2E_HOSTS:-2}
NC=${E2E_CALLS:-3}
RELAY=${E2E_RELAY:-1}
NT=$((NH * NC))
MODE=relayed
[ "$RELAY" = 0 ] && MODE=translated
[ "$RELAY" = none ] && MODE="routed (no NAT, no pptpgw)"
# enhanced GRE with S set: a data packet (ack-only ones are the hop's own)
U32_DATA='0>>22&0x3C@0>>16&0x1000=0x1000'

data_rules() {
	local i
	for i in $(seq 1 "$NH"); do
		host_exec "$i" iptables -A OUTPUT -p gre -m u32 --u32 "$U32_DATA"
		host_exec "$i" iptables -A INPUT -p gre -m u32 --u32 "$U32_DATA"
	done
	srv_exec iptables -A INPUT -p gre -m u32 --u32 "$U32_DATA"
	srv_exec iptables -A OUTPUT -p gre -m u32 --u32 "$U32_DATA"
}

# nfq_drops: packets the gateway's queues dropped (queue full, or the
# daemon's socket overran), summed over its queues.
nfq_drops() {
	gw_exec cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '{n += $6 + $7} END {print n + 0}'
}

# raw_sampler OUT: every 0.2 s until $E2E_RUN/stop-sampler exists (or 120
# s), the raw sockets of the hosts and the server: "ns inode remote
# rx_queue drops" a line.
raw_sampler() {
	local out=$1 end=$(($(date +%s) + 120)) ns
	: >"$out"
	while [ ! -e "$E2E_RUN/stop-sampler" ] && [ "$(date +%s)" -lt "$end" ]; do
		for ns in "$NS_SRV" $(for i in $(seq 1 "$NH"); do host_ns "$i"; echo; done); do
			ip netns exec "$ns" cat /proc/net/raw 2>/dev/null |
				awk -v ns="$ns" 'function hex(h,  i, v) {
					v = 0; h = tolower(h)
					for (i = 1; i <= length(h); i++)
						v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
					return v }
				NR > 1 { split($5, q, ":"); print ns, $10, $3, hex(q[2]), $13 }'
		done >>"$out"
		sleep 0.2
	done
}

# raw_summary SAMPLES NS: "drops peakq sockets" of NS's raw sockets (each
# socket's last drop count, summed; its highest receive queue, the most).
raw_summary() {
	awk -v ns="$2" '$1 == ns { d[$2] = $5; if ($4 > q) q = $4 }
		END { for (k in d) { s += d[k]; n++ } print s + 0, q + 0, n + 0 }' "$1"
}

# lost ID SIDE: data frames the pppspeak of tunnel ID missed (SIDE client:
# the host's end; server: pptpd's end), from sent by the other end.
lost() {
	local id=$1 side=$2 mine theirs cr="$E2E_RUN/results/clients.report"
	local sr="$E2E_RUN/results/server.report"
	if [ "$side" = client ]; then
		mine=$(grep -E "^pppspeak id=$id " "$cr" | tail -n1)
		theirs=$(grep -E "^pppspeak id=server peer=$id " "$sr" | tail -n1)
	else
		mine=$(grep -E "^pppspeak id=server peer=$id " "$sr" | tail -n1)
		theirs=$(grep -E "^pppspeak id=$id " "$cr" | tail -n1)
	fi
	if [ -z "$mine" ] || [ -z "$theirs" ]; then
		echo missing
		return
	fi
	echo $(($(e2e_field "$theirs" sent) - $(e2e_field "$mine" intact)))
}

COUNTERS="relay_calls relay_inside_conns relay_upstream_conns relay_upstream_failed
relay_calls_refused relay_frames_up relay_frames_down relay_gre_lost relay_gre_late
relay_gre_dup relay_gre_bad relay_gre_send_failed gre_out_no_call_dropped
gre_in_late_dropped gre_in_no_call_dropped gre_in_no_call_passed"

passed=0 total_lost=0 lossy_runs=0
for r in $(seq 1 "$REPEAT"); do
	reset_run
	if [ "$RELAY" = none ]; then
		E2E_NAT=0 topo_up "$NH"
	else
		topo_up "$NH"
	fi
	if [ "$RELAY" = 1 ]; then
		start_pptpgw --relay all || exit 1
	elif [ "$RELAY" = 0 ]; then
		start_pptpgw || exit 1
	fi
	start_pptpd
	data_rules
	declare -A C0=() C1=() D=()
	for c in $COUNTERS; do C0[$c]=0; done
	[ "$RELAY" = none ] || for c in $COUNTERS; do C0[$c]=$(rstat "$c"); done
	q0=$(nfq_drops)
	log0=$({ wc -l <"$E2E_RUN/logs/gw_cmd.log"; } 2>/dev/null || echo 0)
	rm -f "$E2E_RUN/stop-sampler"
	raw_sampler "$E2E_RUN/raw-$r" &
	E2E_PIDS+=("$!")
	sampler=$!
	t0=$(date +%s)
	for i in $(seq 1 "$NH"); do
		start_client "$i" "$NC"
	done
	wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
	touch "$E2E_RUN/stop-sampler"
	wait "$sampler" 2>/dev/null
	e2e_log "run $r/$REPEAT: clients done after $(($(date +%s) - t0)) s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
	report_lines | sed 's/^/  /' >&2
	for c in $COUNTERS; do
		C1[$c]=0
		[ "$RELAY" = none ] || C1[$c]=$(rstat "$c")
		D[$c]=$(delta "${C0[$c]}" "${C1[$c]}")
	done
	q1=$(nfq_drops)
	h_out=$(hosts_gre OUTPUT); h_in=$(hosts_gre INPUT)
	s_in=$(count_gre srv_exec INPUT); s_out=$(count_gre srv_exec OUTPUT)

	# 1. the calls
	rc=0
	if [ "$RELAY" = 1 ]; then
		[ "${D[relay_calls]}" = "$NT" ] && [ "${D[relay_inside_conns]}" = "$NH" ] &&
			ge "${D[relay_upstream_conns]}" "$NT" && [ "${D[relay_upstream_failed]}" = 0 ] &&
			[ "${D[relay_calls_refused]}" = 0 ] || rc=1
	fi
	sent_ok=0
	for id in "${E2E_CLIENTS[@]}"; do
		a=$(grep -E "^pppspeak id=$id " "$E2E_RUN/results/clients.report" | tail -n1)
		b=$(grep -E "^pppspeak id=server peer=$id " "$E2E_RUN/results/server.report" | tail -n1)
		[ "$(e2e_field "$a" sent)" = "$E2E_FRAMES" ] && [ "$(e2e_field "$b" sent)" = "$E2E_FRAMES" ] &&
			[ "$(e2e_field "$a" bad)" = 0 ] && [ "$(e2e_field "$b" bad)" = 0 ] &&
			[ "$(e2e_field "$a" dup)" = 0 ] && [ "$(e2e_field "$b" dup)" = 0 ] &&
			sent_ok=$((sent_ok + 1))
	done
	[ "$sent_ok" = "$NT" ] || rc=1
	e2e_log "run $r: $sent_ok of $NT tunnels ran to the end (all frames sent both ways, none bad or duplicated); relay: +${D[relay_calls]} calls, +${D[relay_inside_conns]} inside, +${D[relay_upstream_conns]} upstream connections (+${D[relay_upstream_failed]} failed), +${D[relay_calls_refused]} refused"
	[ $rc = 0 ] || e2e_dump_logs
	e2e_result "run $r: $NH hosts x $NC calls, $MODE: every tunnel up and ran to its end ($sent_ok of $NT)" $rc

	# 2. pptpgw forwarded every data frame it was given, each way
	rc=0
	if [ "$RELAY" = 1 ]; then
		what="hosts sent $h_out data GRE, relay took ${D[relay_frames_up]}, server got $s_in; server sent $s_out, relay ${D[relay_frames_down]}, hosts got $h_in; relay lost/late/dup/bad/send-failed ${D[relay_gre_lost]}/${D[relay_gre_late]}/${D[relay_gre_dup]}/${D[relay_gre_bad]}/${D[relay_gre_send_failed]}; queue drops $((q1 - q0))"
		# A frame a peer sends after the relay ended its call is not the
		# relay's (pptpd's last ones, as its connection closes): pptpgw
		# drops it as GRE for no call or for an alias in hold-down, and
		# counts it (those counters also count ack-only packets).
		stale_up=$((h_out - D[relay_frames_up]))
		stale_down=$((s_out - D[relay_frames_down]))
		nocall_up=${D[gre_out_no_call_dropped]}
		nocall_down=$((D[gre_in_late_dropped] + D[gre_in_no_call_dropped] + D[gre_in_no_call_passed]))
		what="$what; not for a live call: $stale_up up, $stale_down down (pptpgw counted $nocall_up and $nocall_down such GRE packets)"
		[ "$s_in" = "${D[relay_frames_up]}" ] && [ "$h_in" = "${D[relay_frames_down]}" ] &&
			ge "$stale_up" 0 && ge "$nocall_up" "$stale_up" &&
			ge "$stale_down" 0 && ge "$nocall_down" "$stale_down" &&
			[ $((D[relay_gre_lost] + D[relay_gre_late] + D[relay_gre_dup] +
			     D[relay_gre_bad] + D[relay_gre_send_failed])) = 0 ] || rc=1
	else
		what="hosts sent $h_out data GRE, server got $s_in; server sent $s_out, hosts got $h_in; queue drops $((q1 - q0))"
		[ "$s_in" = "$h_out" ] && [ "$h_in" = "$s_out" ] || rc=1
	fi
	ge "$h_out" $((NT * E2E_FRAMES)) && ge "$s_out" $((NT * E2E_FRAMES)) &&
		[ "$q1" = "$q0" ] || rc=1
	e2e_log "run $r: $what"
	e2e_result "run $r: the gateway ($MODE) passed on every data frame, both ways ($h_out up, $s_out down)" $rc
	rc_gw=$rc

	# 3. frames the peers lost, and the raw socket drops behind them
	read -r sdrops speak snsock < <(raw_summary "$E2E_RUN/raw-$r" "$NS_SRV")
	e2e_log "run $r: server: $snsock raw GRE sockets (remote $(awk -v ns="$NS_SRV" '$1 == ns {print $3}' "$E2E_RUN/raw-$r" | sort -u | paste -sd,)), $sdrops packets dropped, peak receive queue $speak bytes"
	rc=0 run_lost=0
	for i in $(seq 1 "$NH"); do
		read -r hdrops hpeak hnsock < <(raw_summary "$E2E_RUN/raw-$r" "$(host_ns "$i")")
		e2e_log "run $r: host $i: $hnsock raw GRE sockets, $hdrops packets dropped, peak receive queue $hpeak bytes"
		for k in $(seq 1 "$NC"); do
			id="h${i}c${k}"
			up=$(lost "$id" server); down=$(lost "$id" client)
			[ "$up" = 0 ] && [ "$down" = 0 ] && continue
			e2e_log "run $r: $id lost $up of $E2E_FRAMES frames up (at pptpd), $down down (at pptp)"
			if ! ge "$up" 0 || ! ge "$down" 0; then
				rc=1; continue
			fi
			run_lost=$((run_lost + up + down))
			# a loss at an end whose raw sockets dropped nothing is unexplained
			{ [ "$up" = 0 ] || ge "$sdrops" 1; } && { [ "$down" = 0 ] || ge "$hdrops" 1; } || rc=1
		done
	done
	total_lost=$((total_lost + run_lost))
	[ "$run_lost" = 0 ] || lossy_runs=$((lossy_runs + 1))
	e2e_result "run $r: every frame the peers missed ($run_lost) went with raw GRE socket drops at the receiving end" $rc
	rc_explained=$rc
	if [ "${E2E_STRICT:-0}" = 1 ]; then
		[ "$run_lost" = 0 ]
		e2e_result "run $r (E2E_STRICT): every tunnel intact" $?
	fi
	if [ "$RELAY" = 1 ]; then
		tail -n +$((log0 + 1)) "$E2E_RUN/logs/gw_cmd.log" | grep "relay: call .* ended" |
			sed 's/^.*relay: /  relay: /' >&2
	fi
	[ $rc_gw = 0 ] && [ $rc_explained = 0 ] && passed=$((passed + 1))
	[ "$RELAY" = none ] || stop_pptpgw
	topo_down
done
e2e_log "$passed of $REPEAT runs: pptpgw lost nothing and every loss was explained; peers lost $total_lost frames in $lossy_runs run(s)"
e2e_finish
