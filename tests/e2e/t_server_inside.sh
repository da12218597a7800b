#!/bin/bash
# A PPTP server behind the gateway (issue 11, item 1): TCP 1723 to the
# public address is DNATed to an inside pptpd; 3 outside clients on
# addresses of their own and 2 more behind one remote NAT (a home router
# with MASQUERADE and the kernel's PPTP helper, as a real one would need for
# two PPTP clients behind one address) dial the public address at once.
#  (a) control: the kernel helper on the gateway (no pptpgw): every tunnel
#      must carry E2E_FRAMES frames each way, all intact.  If not, the peers
#      or the machine are broken and (b) would prove nothing.
#  (b) pptpgw on the gateway (no helper there): the same, and pptpgw must
#      show 5 calls up at once whose inside Call IDs (the server's) went out
#      under aliases distinct per outside peer, and none left afterwards.
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
E2E_SEND=${E2E_SEND:-2000}

start_all() {
	local i
	start_pptpd
	for i in $(seq 1 "$N"); do
		start_client "$i"
	done
}

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

# ---- (b) pptpgw on the gateway
topo_up_srvin "$NOUT" "$NBEHIND"
start_pptpgw ${PPTPGW_ARGS:-} || exit 1
start_all
sample_calls 40 "$N"
max_up=$SAMPLED_MAX_UP
# "mode inside inside_call_id alias server public": here "inside" is the
# server, "server" column the outside peer.
pairs=$(awk '{print $5 "/" $4}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
peers=$(awk '{print $5}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
e2e_log "calls seen: $(wc -l <"$E2E_RUN/calls.uniq"); outside peers: $peers; (peer, alias) pairs: $pairs; most up at once: $max_up"
[ "$max_up" = "$N" ] && [ "$pairs" -ge "$N" ]
e2e_result "$N calls up at once through pptpgw, each under its own (outside peer, alias)" $?

wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result "$N" "pptpgw: $N outside clients ($NBEHIND behind one remote NAT) to the inside server, all intact"
rc=0
wait_until 15 calls_empty || rc=1
ctl stats | grep -E '^(calls_|gre_|ctrl_(malformed|rewrites|unknown))' >&2
e2e_result "call table empty after the tunnels closed" $rc
expect "pptpgw still running" gw_alive
e2e_finish
