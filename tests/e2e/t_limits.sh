#!/bin/bash
# The per-host limits in the running daemon ([limits], issue 10).  Host 3
# floods SYNs to TCP 1723 of a WAN address nobody answers (40 connections at
# once, each SYN retried by its kernel for 12 s): with half_open_per_host = 4
#  - pptpgw keeps 4 records of host 3 and drops the rest of its SYNs,
#    counted by reason in stats and /metrics;
#  - it logs that at most once a second, however many it drops;
#  - host 1's real tunnel comes up meanwhile and carries its frames;
#  - host 3's records go after [timeouts] half_open (5 s here), not
#    conn_idle.
# Usage: t_limits.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NOWHERE=203.0.113.77
NFLOOD=40
FLOOD_SECS=12

topo_up 3
printf '[limits]\nhalf_open_per_host = 4\n[timeouts]\nhalf_open = 5\n' \
	>"$E2E_RUN/limits.conf"
start_pptpgw -f "$E2E_RUN/limits.conf" || exit 1
start_pptpd
H3=$(host_ip 3)

# Host 3: NFLOOD connects at once to an address that never answers.
host_exec 3 bash -c '
	for i in $(seq 1 '"$NFLOOD"'); do
		timeout '"$FLOOD_SECS"' bash -c "exec 3<>/dev/tcp/'"$NOWHERE"'/1723" &
	done
	wait' >/dev/null 2>&1 &
flood=$!
E2E_PIDS+=("$flood")
t0=$(date +%s)
expect "host 3's SYNs beyond half_open_per_host are dropped and counted" \
	wait_until 10 eval '[ "$(gwstat ctrl_half_open_host_limit)" -ge $((NFLOOD - 4)) ] 2>/dev/null'

# Host 1 meanwhile: a real tunnel.
start_client 1
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result 1 "host 1's tunnel works while host 3 floods"
wait "$flood" 2>/dev/null
t1=$(date +%s)

refused=$(gwstat ctrl_half_open_host_limit)
lines=$(grep -c "host $H3: new control connection refused: .* (half_open_per_host)" \
	"$E2E_RUN/logs/gw_cmd.log")
e2e_log "host 3: $refused SYNs refused in $((t1 - t0)) s, $lines log lines"
[ "${lines:-0}" -ge 1 ] && [ "$lines" -le $((t1 - t0 + 2)) ] &&
	[ "${refused:-0}" -gt $((lines * 4)) ]
e2e_result "refusals are logged with the host, at most once a second ($lines lines for $refused)" $?
m=$(metric 'pptpgw_drops_total{reason="ctrl_half_open_host_limit"}')
expect "/metrics counts them as drops by reason ($m)" [ "$m" = "$refused" ]

# The flood is over: its records go after half_open, not conn_idle.
expect "host 3's half-open records expire after half_open" \
	wait_until 15 eval '[ "$(gwstat ctrl_half_open_expired)" -ge 4 ] 2>/dev/null'
expect "pptpgw still running" gw_alive
e2e_finish
