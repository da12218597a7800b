#!/bin/bash
# A PPTP server behind the gateway (issue 11, item 1): TCP 1723 to the
# public address is DNATed to an inside pptpd; 3 outside clients on
# addresses of their own and 2 more behind one remote NAT (a home router
# with MASQUERADE and the kernel's PPTP helper, as a real one would need for
# two PPTP clients behind one address) dial the public address at once.
#  (a) control: the kernel helper on the gateway (no pptpgw): every tunnel
#      must carry E2E_FRAMES frames each way, all intact.  If not, the peers
#      or the machine are broken and (b) would prove nothing.
#  (b) pptpgw on the gateway (no helper there), once per data plane (tc-BPF,
#      nftables maps, queue only; ENGINES="tc nft queue"): the same, and
#      pptpgw must show 5 calls up at once, all on the public address, whose
#      inside Call IDs (the server's) went out under aliases distinct per
#      outside peer, and none left afterwards.
#  (c) pptpgw killed (-9) and started again under the 5 calls: the same
#      calls come back from the saved state and every tunnel stays intact.
#  (d) the server side of one call dies: its client ends at once, pptpgw
#      ends the call, the other tunnels stay intact.
# Usage: t_server_inside.sh BUILD_DIR   (PPPSPEAK=path overrides)
set -u
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NOUT=3
NBEHIND=2
N=$((NOUT + NBEHIND))
# pptpd's per-connection GRE sockets each get every tunnel's GRE (see
# t_multi_host): send more than must arrive intact.
E2E_SEND=${E2E_SEND:-1500}

# Every client draws the same Call ID: the 3 with addresses of their own
# reach the server with it (told apart by address alone), the remote NAT's
# helper gives its 2 IDs of its own.
SAME_ID=4660
start_all_n() {
	local i
	start_pptpd
	for i in $(seq 1 "$1"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
}
start_all() { start_all_n "$N"; }

# ---- (a) control: the kernel helper on the gateway
if [ "${SKIP_CONTROL:-0}" != 1 ]; then
	topo_up_srvin "$NOUT" "$NBEHIND"
	modprobe nf_nat_pptp 2>/dev/null || true
	gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
	start_all
	wait_clients "$E2E_TIMEOUT" >/dev/null
	if ! tunnels_result "$N" "control: kernel helper on the gateway, $N clients to the inside server"; then
		e2e_log "the peers fail with the kernel helper: this machine cannot run the test"
		e2e_finish
		exit 1
	fi
	topo_down
	reset_run
fi

# ---- (b) pptpgw on the gateway, with each engine of the data plane:
# tc-BPF (the default here), the nftables maps, and the queue alone.
srvin_gw() {
	local label=$1 max_up pairs peers rc
	shift
	topo_up_srvin "$NOUT" "$NBEHIND"
	start_pptpgw "$@" || { e2e_result "$label: pptpgw started" 1; topo_down; reset_run; return; }
	start_all
	sample_calls 40 "$N"
	max_up=$SAMPLED_MAX_UP
	# "mode inside inside_call_id alias server public": "inside" is the
	# server, "server" the outside peer (its address), "public" ours.
	pairs=$(awk '{print $5 "/" $4}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
	peers=$(awk '{print $5}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
	pubs=$(awk '{print $6}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
	e2e_log "$label: calls seen: $(wc -l <"$E2E_RUN/calls.uniq"); outside peers: $peers; public: $pubs; (peer, alias) pairs: $pairs; most up at once: $max_up"
	[ "$max_up" = "$N" ] && [ "$pairs" -ge "$N" ] && [ "$pubs" = "$GW_WAN_IP " ]
	e2e_result "$label: $N calls up at once, each under its own (outside peer, alias), all on $GW_WAN_IP" $?
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$N" "$label: $N outside clients ($NBEHIND behind one remote NAT) to the inside server, all intact"
	rc=0
	wait_until 15 calls_empty || rc=1
	ctl stats | grep -E '^(calls_ended|gre_|ctrl_(malformed|rewrites|unknown))' | grep -v ' 0$' >&2
	e2e_result "$label: call table empty after the tunnels closed" $rc
	expect "$label: pptpgw still running" gw_alive
	topo_down
	reset_run
}

# ---- (c) restart: pptpgw killed (-9) and started again while the 5 calls
# run; the saved state brings them back with the same (server, server's
# Call ID, alias) and traffic goes on.  Adoption goes through conntrack's
# tuples, which for these calls were opened from outside.
call_set() {
	ctl --json calls 2>/dev/null | jq -r '.[] | select(.state == "established") |
		"\(.inside) \(.inside_call_id) \(.alias) \(.server) \(.public)"' | sort
}
gre_total_in() {
	ctl --json calls 2>/dev/null | jq '[.[] | .packets_in] | add // 0'
}
srvin_restart() {
	local label="pptpgw restarted (kill -9)" before after pid i rc
	topo_up_srvin "$NOUT" "$NBEHIND"
	start_pptpgw --fastpath auto || { e2e_result "$label: pptpgw started" 1; topo_down; reset_run; return; }
	start_all
	if ! wait_until 40 calls_flowing "$N" packets_in 20; then
		ctl calls >&2
		e2e_result "$label: $N tunnels up through pptpgw" 1
		topo_down; reset_run; return
	fi
	before=$(call_set)
	pid=$PPTPGW_PID
	kill -9 "$pid"
	wait_until 10 eval '! kill -0 '"$pid"' 2>/dev/null'
	wait "$pid" 2>/dev/null
	start_pptpgw --fastpath auto || { e2e_result "$label: pptpgw started again" 1; topo_down; reset_run; return; }
	after=$(call_set)
	printf '%s\n' "$after" >&2
	[ -n "$before" ] && [ "$after" = "$before" ]
	e2e_result "$label: the same $N calls (server, its Call ID, alias, peer, public) after the restart" $?
	i=$(gre_total_in)
	wait_until 5 eval '[ "$(gre_total_in)" -gt '"$i"' ]'
	e2e_result "$label: traffic goes on after the restart" $?
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$N" "$label: $N tunnels intact across the restart"
	rc=0
	wait_until 15 calls_empty || rc=1
	e2e_result "$label: call table empty after the tunnels closed" $rc
	topo_down
	reset_run
}

# ---- (d) the server hangs up: its pppd stand-in dies under one call.
# pptpd then closes the control connection (it sends no
# Call-Disconnect-Notify: measured here, so the CDN rewrite is covered by
# the unit tests only); the outside client must hear of it at once and
# pptpgw must end the call, while the other clients' calls go on.
srvin_hangup() {
	local label="server hang-up" p victim="" t0 ms rc
	topo_up_srvin "$NOUT" 0
	start_pptpgw --fastpath auto || { e2e_result "$label: pptpgw started" 1; topo_down; reset_run; return; }
	start_all_n "$NOUT"
	if ! wait_until 40 calls_flowing "$NOUT" packets_in 20; then
		ctl calls >&2
		e2e_result "$label: $NOUT tunnels up through pptpgw" 1
		topo_down; reset_run; return
	fi
	# The server side of host 1's tunnel: pppspeak reports its peer only
	# at the end, so pick the pptpctrl serving 203.0.113.11 and its child.
	for p in $(ip netns pids "$NS_SRV"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pppspeak ] || continue
		grep -q "\\[203\\.0\\.113\\.11:" "/proc/$(awk '{print $4}' "/proc/$p/stat")/cmdline" 2>/dev/null &&
			victim=$p
	done
	if [ -z "$victim" ]; then
		e2e_result "$label: found the server side of host 1's tunnel" 1
		topo_down; reset_run; return
	fi
	t0=$(date +%s%N)
	kill -9 "$victim"
	wait_until 10 eval '[ -f "$E2E_RUN/clients/h1c1.rc" ]'
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	e2e_log "$label: host 1's client ended $ms ms after its server side died"
	e2e_result "$label: the outside client hears of it within 10 s" $rc
	wait_until 5 eval '[ "$(ctl_json calls "[.[] | select(.server == \"203.0.113.11\")] | length")" = 0 ]'
	e2e_result "$label: pptpgw ended that call" $?
	[ "$(ctl_json calls '[.[] | select(.state == "established")] | length')" = $((NOUT - 1)) ]
	e2e_result "$label: the other $((NOUT - 1)) calls are still up" $?
	E2E_CLIENTS=(h2c1 h3c1)
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result $((NOUT - 1)) "$label: the other tunnels intact"
	topo_down
	reset_run
}

for engine in ${ENGINES:-tc nft queue restart hangup}; do
	case $engine in
	tc) srvin_gw "pptpgw (tc-BPF)" --fastpath auto ;;
	nft) srvin_gw "pptpgw (nftables maps)" --fastpath nftables ;;
	queue) srvin_gw "pptpgw (queue only)" --no-fastpath ;;
	restart) srvin_restart ;;
	hangup) srvin_hangup ;;
	esac
done
e2e_finish
