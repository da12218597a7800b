#!/bin/bash
# An inside host that opens more control connections than pptpgw has file
# descriptors.  pptpgw --relay runs with a hard limit of 100 descriptors
# (below what [relay] max_conns wants, which it says in its log); host 3
# opens 150 TCP connections to the relayed server and sends nothing.
#  - pptpgw must not spin: while the connections are held, it uses well
#    under a second of CPU in 3 s (a listener left on after EMFILE is told
#    again at once, forever: 100 % of a core);
#  - it says why it stops accepting, and stays up;
#  - it keeps descriptors for the admin: pptpgwctl answers meanwhile;
#  - once the host lets go, a real relayed tunnel works.
# Usage: t_relay_fd_limit.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NCONN=150

topo_up 3
# One client is held to [limits] relay_sessions_per_client (32) before the
# descriptors run out: lift it here, the descriptors are what is tested.
printf '[limits]\nrelay_sessions_per_client = 0\n' >"$E2E_RUN/nolimit.conf"
start_gw_cmd bash -c 'ulimit -n 100 && exec "$0" "$@"' \
	"$PPTPGW" -f "$E2E_RUN/nolimit.conf" --wan "$GW_WAN" -s "$GW_SOCK" -v --state-file "$E2E_RUN/state" \
	--relay "$SRV_IP"
PPTPGW_PID=$GW_CMD_PID
wait_until 10 ctl status >/dev/null || { e2e_log "pptpgw did not start"; cat "$E2E_RUN/logs/gw_cmd.log" >&2; exit 1; }
start_pptpd
grep -h "file descriptors allowed" "$E2E_RUN/logs/gw_cmd.log" >&2
expect "a descriptor limit below what max_conns needs is reported at start" grep -q "file descriptors allowed" "$E2E_RUN/logs/gw_cmd.log"

# Host 3 holds NCONN idle connections for 8 s.
host_exec 3 bash -c '
	for i in $(seq 1 '"$NCONN"'); do
		exec {fd}<>/dev/tcp/'"$SRV_IP"'/1723 || break
	done
	sleep 8' >/dev/null 2>&1 &
holder=$!
E2E_PIDS+=("$holder")
sleep 2
t0=$(awk '{print $14 + $15}' "/proc/$PPTPGW_PID/stat")
sleep 3
t1=$(awk '{print $14 + $15}' "/proc/$PPTPGW_PID/stat")
hz=$(getconf CLK_TCK)
ms=$(((t1 - t0) * 1000 / hz))
open=$(ctl_json status .relay_conns)
e2e_log "with $NCONN connections offered: $open relay connections open, pptpgw used $ms ms of CPU in 3 s"
[ "$ms" -lt 1000 ] && [ "${open:-0}" -gt 0 ]
e2e_result "out of descriptors: no busy loop ($ms ms CPU in 3 s), the connections it could take are open ($open)" $?
# The host took what it could, yet the admin still gets in: the relay never
# takes the descriptors kept for the control socket.
ok=0
for k in 1 2 3 4 5; do
	ctl status >/dev/null 2>&1 && ok=$((ok + 1))
done
e2e_log "pptpgwctl status answered $ok of 5 times while the host held its connections"
expect "out of descriptors: pptpgwctl still answers (5 of 5: $ok)" [ "$ok" = 5 ]
expect "it says why it stops accepting" grep -q "not accepting for 1 s" "$E2E_RUN/logs/gw_cmd.log"
expect "pptpgw still running" gw_alive

# The idle connections go (their start times out, or the host leaves).
wait "$holder" 2>/dev/null
expect "the idle connections are gone afterwards" wait_until 20 relay_idle
start_client 1
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result 1 "a relayed tunnel works after the flood"
e2e_finish
