#!/bin/bash
# The "auto" relay policy with the real peers.  pptpgw --relay auto starts
# out translating everything.  Phase 1: host 1 opens 3 pptp tunnels to
# pptpd, which pptp-linux puts on one control connection while pptpd's
# Start-Control-Connection-Reply says Maximum Channels 1: pptpgw must count
# the calls beyond that, log its decision to relay the server, and (being
# translation) cannot save those tunnels.  Phase 2: the same 3 tunnels again,
# on a new control connection: now relayed, all intact.  Before phase 1,
# the control run: the host's pptp and pptpd with no NAT in the way work
# with one call (three on one connection fail there too: that limit is
# pptpd's own, which is why phase 1 fails).
# Usage: t_relay_auto.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-200}
E2E_FRAMES=${E2E_FRAMES:-1000}
E2E_SEND=${E2E_SEND:-1200}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NCALLS=3
PHASE2_TIMEOUT=$E2E_TIMEOUT
e2e_prove_peers 1

gw_log_has() { grep -q "$1" "$E2E_RUN/logs/gw_cmd.log"; }
# Tunnels of this phase that results_summary found good.
good_tunnels() {
	results_summary 2>&1 | sed -n 's/.*tunnels: \([0-9]*\) good.*/\1/p'
}

topo_up 1
start_pptpgw --relay auto || exit 1
start_pptpd

# ---- phase 1: translated, the server refuses in effect
E2E_TIMEOUT=15
start_client 1 $NCALLS
expect "auto: the decision to relay $SRV_IP is logged" wait_until 20 gw_log_has "relay auto: relaying $SRV_IP"
grep -h "relay auto" "$E2E_RUN/logs/gw_cmd.log" >&2
over=$(gwstat calls_over_server_limit)
e2e_log "calls_over_server_limit: $over"
expect "auto: calls beyond the server's Maximum Channels are counted ($over)" [ "${over:-0}" -ge 1 ]
wait_clients 40 >/dev/null
ok1=$E2E_CLIENTS_OK
intact1=$(good_tunnels)
e2e_log "phase 1 (translated): $ok1 of $NCALLS clients succeeded, $intact1 tunnels intact"
expect "auto: phase 1 is translated, and 3 calls on one connection do not all work ($intact1 of $NCALLS)" [ "$intact1" -lt "$NCALLS" ]
policy=$(ctl_json status .relay_policy)
e2e_log "relay policy now: $policy"
[[ "$policy" == *"$SRV_IP"* ]]
e2e_result "auto: status shows the server in the relay policy ($policy)" $?

# ---- phase 2: a new control connection is relayed
reset_run
E2E_TIMEOUT=$PHASE2_TIMEOUT
start_client 1 $NCALLS
relayed=0
for k in $(seq 1 100); do
	relayed=$(ctl_json calls '[.[] | select(.mode == "relay" and .state == "established")] | length')
	[ "${relayed:-0}" -ge "$NCALLS" ] && break
	sleep 0.2
done
ctl calls >&2
expect "auto: phase 2 calls are relayed ($relayed of $NCALLS up at once)" [ "${relayed:-0}" -ge "$NCALLS" ]
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result "$NCALLS" "auto: phase 2, $NCALLS tunnels from one host intact through the relay"
e2e_finish
