#!/bin/bash
# 8 inside hosts, one pptp tunnel each, all with the same Call ID, pptpgw
# --relay all: every call is terminated at the gateway and re-originated to
# pptpd.  Checks:
#  - all 8 are relayed calls of the call table at the same moment (mode
#    relay, established), each host once, all with the forced inside Call ID
#    and under 8 distinct aliases (our Call IDs toward the server); no call
#    was translated;
#  - every tunnel carries >= E2E_FRAMES frames each way, intact;
#  - the relay counted 8 inside connections, 8 calls, >= 8 upstream
#    connections and none failed, and relayed at least 8 * E2E_FRAMES PPP
#    frames each way; /metrics shows the same relay_calls count;
#  - afterwards no call and no relay connection is left, pptpgw holds the
#    file descriptors it held before the calls, and still runs.
# Usage: t_relay_many_hosts.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NHOSTS=${NHOSTS:-8}
SAME_ID=4660
# As in t_multi_host.sh: every pptpctrl's raw GRE socket gets every tunnel's
# GRE from the one public address and may overflow under load, so each side
# sends more than the E2E_FRAMES that must arrive intact.
E2E_SEND=${E2E_SEND:-2000}

topo_up "$NHOSTS"
start_pptpgw --relay all || exit 1
start_pptpd
wait_until 5 relay_idle
fd0=$(gw_fds)
c0=$(rstat relay_calls); i0=$(rstat relay_inside_conns)
u0=$(rstat relay_upstream_conns); f0=$(rstat relay_upstream_failed)
up0=$(rstat relay_frames_up); down0=$(rstat relay_frames_down)
e2e_log "pptpgw idle with $fd0 fds"
for i in $(seq 1 "$NHOSTS"); do
	E2E_CALL_ID=$SAME_ID start_client "$i"
done

# Sample the call table while the tunnels run.
sample_calls 40 "$NHOSTS" relay
max_up=$SAMPLED_MAX_UP
modes=$(awk '{print $1}' "$E2E_RUN/calls.uniq" | sort -u | paste -sd,)
ids=$(awk '{print $3}' "$E2E_RUN/calls.uniq" | sort -u | paste -sd,)
aliases=$(awk '{print $4}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
hosts=$(awk '{print $2}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
ends=$(awk '{print $5, $6}' "$E2E_RUN/calls.uniq" | sort -u | paste -sd,)
e2e_log "modes: $modes; inside call ids: $ids; aliases: $aliases; hosts: $hosts; server/public: $ends; most up at once: $max_up"
[ "$modes" = relay ] && [ "$ids" = "$SAME_ID" ] && [ "$aliases" = "$NHOSTS" ] &&
	[ "$hosts" = "$NHOSTS" ] && [ "$max_up" = "$NHOSTS" ] &&
	[ "$ends" = "$SRV_IP $GW_WAN_IP" ]
e2e_result "$NHOSTS relayed calls up at once, all with Call ID $SAME_ID, under $aliases distinct aliases (modes: $modes)" $?

wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
tunnels_result "$NHOSTS" "$NHOSTS relayed tunnels, >= $E2E_FRAMES frames each way, none corrupt or duplicated"

c1=$(rstat relay_calls); i1=$(rstat relay_inside_conns)
u1=$(rstat relay_upstream_conns); f1=$(rstat relay_upstream_failed)
up1=$(rstat relay_frames_up); down1=$(rstat relay_frames_down)
dc=$(delta "$c0" "$c1"); di=$(delta "$i0" "$i1"); du=$(delta "$u0" "$u1")
df=$(delta "$f0" "$f1"); dup=$(delta "$up0" "$up1"); ddown=$(delta "$down0" "$down1")
e2e_log "relay: +$dc calls, +$di inside conns, +$du upstream conns (+$df failed), frames up +$dup, down +$ddown"
[ "$dc" = "$NHOSTS" ] && [ "$di" = "$NHOSTS" ] && ge "$du" "$NHOSTS" && [ "$df" = 0 ] &&
	ge "$dup" $((NHOSTS * E2E_FRAMES)) && ge "$ddown" $((NHOSTS * E2E_FRAMES))
e2e_result "relay counters: $dc calls, $di inside and $du upstream connections, $df failed, $dup frames up, $ddown down" $?

m_calls=$(metric pptpgw_relay_calls_total)
e2e_log "metrics: pptpgw_relay_calls_total $m_calls"
expect "/metrics pptpgw_relay_calls_total matches the stats ($m_calls)" [ "$m_calls" = "$c1" ]

rc=0
wait_until 15 relay_idle || rc=1
wait_until 5 gw_fds_are "$fd0" || rc=1
e2e_log "afterwards: status $(ctl --json status | jq -c .); fds $(gw_fds) (before: $fd0)"
[ $rc = 0 ] || ctl calls >&2
e2e_result "afterwards no call, no relay connection, pptpgw back to $fd0 fds" $rc
relay_counters | sed 's/^/  /' >&2
expect "pptpgw still running" gw_alive

e2e_finish
