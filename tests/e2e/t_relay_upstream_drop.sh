#!/bin/bash
# The upstream goes away under relayed calls, then comes back.
#
# pptpgw --relay 203.0.113.2.  Host 1 holds 2 tunnels (one inside control
# connection; pptpd's Maximum Channels 1 gives the 2nd call an upstream
# connection of its own), host 2 holds 1: 2 inside and 3 upstream
# connections.  The tunnels are set to run for minutes.  Once all 3 carry
# frames, every process in the server netns (pptpd, its pptpctrl children
# and their pppspeak) is SIGKILLed: the kernel closes their TCP connections,
# which is how pptpd "drops" (it never sends Call-Disconnect-Notify).
# Then, within 20 s (the clients' own timeout is 120 s):
#  - every pptp client has exited (the relay told the inside side);
#  - the call table is empty, relay_conns and relay_calls_active are 0,
#    and the 3 calls ended (as server_gone, or as the client's clear or close
#    when the client reacted to the first CDN before the relay read the
#    other upstream closes);
#  - pptpgw holds exactly the file descriptors it held before the calls (no
#    leaked socket) and still runs.
# Then pptpd starts again and 3 new tunnels (same layout) carry E2E_FRAMES
# frames each way intact; afterwards the relay is idle, fds at the baseline.
# Usage: t_relay_upstream_drop.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-200}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"

# Relayed calls ended so far, for every reason.
ended_total() {
	ctl --json stats | jq '[to_entries[] | select(.key | startswith("relay_ended_")) | .value] | add'
}
FRAMES_PHASE2=${E2E_FRAMES}

clients_done() {
	local id
	for id in "${E2E_CLIENTS[@]}"; do
		[ -f "$E2E_RUN/clients/$id.rc" ] || return 1
	done
}

topo_up 2
start_pptpgw --relay "$SRV_IP" || exit 1
# Tunnels that would run for minutes, on both ends: only the drop can end
# them in time.
E2E_FRAMES=100000 E2E_TIMEOUT=120 start_pptpd
wait_until 5 relay_idle
fd0=$(gw_fds)
e2e_log "pptpgw idle with $fd0 fds"

# ---------------------------------------------- phase 1: calls, then the drop
E2E_FRAMES=100000 E2E_TIMEOUT=120 start_client 1 2
E2E_FRAMES=100000 E2E_TIMEOUT=120 start_client 2 1
if ! wait_until 30 relay_flowing 3 100; then
	ctl calls >&2
	e2e_dump_logs
	e2e_result "3 relayed calls up and carrying frames before the drop" 1
	e2e_finish; exit 1
fi
ctl calls >&2
conns=$(rstatus relay_conns); fds_busy=$(gw_fds)
gone0=$(rstat relay_ended_server_gone)
ended0=$(ended_total)
cli0=$(($(rstat relay_ended_client_clear) + $(rstat relay_ended_client_gone)))
e2e_log "before the drop: relay_conns $conns, pptpgw fds $fds_busy"
expect "3 relayed calls up: 2 inside + 3 upstream connections ($conns)" [ "$conns" = 5 ]

t0=$(date +%s)
kill_server
e2e_log "server processes killed"

wait_until 20 clients_done
rc=$?
t1=$(date +%s)
for id in "${E2E_CLIENTS[@]}"; do
	echo "  $id: exit $(cat "$E2E_RUN/clients/$id.rc" 2>/dev/null || echo 'still running')" >&2
done
e2e_log "clients gone $((t1 - t0)) s after the drop"
e2e_result "every inside client ended within 20 s of the upstream drop ($((t1 - t0)) s)" $rc

rc=0
wait_until 20 relay_idle || rc=1
gone1=$(rstat relay_ended_server_gone)
dgone=$(delta "$gone0" "$gone1")
dended=$(delta "$ended0" "$(ended_total)")
e2e_log "status: $(ctl --json status | jq -c .); calls ended +$dended, of which server_gone +$dgone"
ctl --json stats | jq -c 'with_entries(select(.key | startswith("relay_ended_")))' >&2
[ $rc = 0 ] || ctl calls >&2
# Each upstream close ends its call.  Host 1's client may answer the first
# CDN by clearing its other call, or closing its connection, before the
# relay has read that call's upstream close: that call then ends as the
# client's doing.  Either way all 3 end, at least one by the server's going.
dcli=$(delta "$cli0" "$(($(rstat relay_ended_client_clear) + $(rstat relay_ended_client_gone)))")
[ "$dended" = 3 ] && ge "$dgone" 1 && [ $((dgone + dcli)) = 3 ] || rc=1
e2e_result "inside calls cleared: no call, relay_conns 0, relay_calls_active 0, all 3 ended (+$dended), by the server's going (+$dgone) or the client's answer to it" $rc

wait_until 5 gw_fds_are "$fd0"
rc=$?
e2e_log "pptpgw fds: $fd0 before the calls, $fds_busy with them, $(gw_fds) now"
[ $rc = 0 ] || ls -l "/proc/$PPTPGW_PID/fd" >&2
e2e_result "pptpgw back to its $fd0 file descriptors after the drop" $rc
expect "pptpgw still running after the drop" gw_alive

# ---------------------------------------------- phase 2: the server is back
reset_run
E2E_FRAMES=$FRAMES_PHASE2
start_pptpd
start_client 1 2
start_client 2 1
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result 3 "server back: 3 new relayed tunnels intact, >= $E2E_FRAMES frames each way"

rc=0
wait_until 15 relay_idle || rc=1
wait_until 5 gw_fds_are "$fd0" || rc=1
e2e_log "afterwards: status $(ctl --json status | jq -c .); fds $(gw_fds) (before: $fd0)"
e2e_result "afterwards no call, no relay connection, pptpgw back to $fd0 fds" $rc
relay_counters | sed 's/^/  /' >&2
expect "pptpgw still running" gw_alive

e2e_finish
