#!/bin/bash
# One inside host floods control connections (issue 10): host 3 opens NFLOOD
# TCP connections to the real pptpd at once (pptpprobe --conn-flood); each
# one answered starts a control connection (SCCRQ), and all are held open
# while its kernel keeps sending SYNs for the others.  The connection table
# has MAX_CONNS slots; half_open_per_host is lifted so that the limit under
# test is the one that acts.
#  1. Control, conns_per_host = 0: host 3 takes the table, and the SYNs of
#     hosts 1 and 2's real clients, started while the flood runs, are
#     dropped (their sockets stay in SYN-SENT): the flood matters.
#  2. conns_per_host = PER_HOST: exactly that many of host 3's connections
#     are answered, the rest are dropped, counted by reason in stats and
#     /metrics and logged with its address at most once a second, and hosts
#     1 and 2's tunnels carry their frames intact.
# FLOOD_LIMIT=N (env) runs phase 2 with conns_per_host = N instead: with 0 (off)
# every check of that phase fails, as it must.
# Usage: t_flood_conns.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
NFLOOD=40
MAX_CONNS=16
PER_HOST=8
H3=198.18.0.13

# start_flood: host 3's connections, held 60 s (killed at phase end);
# returns once it says how many were answered (within 8 s).
start_flood() {
	host_exec 3 "$PPTPPROBE" --server "$SRV_IP" --timeout 8 --hold 60 \
		--conn-flood "$NFLOOD" >"$E2E_RUN/flood.out" 2>&1 &
	FLOOD_PID=$!
	E2E_PIDS+=("$FLOOD_PID")
	wait_until 20 grep -q result= "$E2E_RUN/flood.out"
	cat "$E2E_RUN/flood.out" >&2
	FLOOD_UP=$(sed -n 's/.* connected=\([0-9]*\) .*/\1/p' "$E2E_RUN/flood.out")
}

# syn_sent_of I: host I's connections to TCP 1723 still waiting for an
# answer to their SYN, as its own kernel sees them (pptpgw drops such a SYN
# before conntrack confirms it: the gateway keeps no entry of it).
syn_sent_of() {
	host_exec "$1" ss -tnH state syn-sent '( dport = :1723 )' | grep -c .
}

# ---- 1. control: no per-host limit ------------------------------------------
flood_phase 3 "[limits]\nmax_conns = $MAX_CONNS\nconns_per_host = 0\nhalf_open_per_host = 64\n" || exit 1
start_flood
expect "control: without conns_per_host, host 3 takes the table ($FLOOD_UP of $NFLOOD answered)" \
	[ "${FLOOD_UP:-0}" = "$MAX_CONNS" ]
start_client 1
start_client 2
expect "control: hosts 1 and 2's SYNs are not answered" \
	wait_until 15 eval '[ "$(syn_sent_of 1)" -ge 1 ] && [ "$(syn_sent_of 2)" -ge 1 ]'
while_clients 15 true
ok=0
tunnel_intact h1c1 && ok=$((ok + 1))
tunnel_intact h2c1 && ok=$((ok + 1))
e2e_log "control: $ok of 2 tunnels intact, ctrl_conn_table_full $(gwstat ctrl_conn_table_full)"
expect "control: hosts 1 and 2 get no tunnel" [ "$ok" = 0 ]
flood_phase_end

# ---- 2. conns_per_host ------------------------------------------------------
flood_phase 3 "[limits]\nmax_conns = $MAX_CONNS\nconns_per_host = ${FLOOD_LIMIT:-$PER_HOST}\nhalf_open_per_host = 64\n" || exit 1
start_flood
expect "host 3 gets conns_per_host connections ($FLOOD_UP of $NFLOOD answered)" \
	[ "${FLOOD_UP:-0}" = "$PER_HOST" ]
start_client 1
start_client 2
wait_clients "$E2E_TIMEOUT" >/dev/null
t1=$(date +%s)
e2e_log "pptpgw: $(gw_counters_nonzero)"
tunnels_result 2 "hosts 1 and 2's tunnels, started during the flood, carry their frames intact"
expect "the flood was still on when they finished" kill -0 "$FLOOD_PID"
refused=$(gwstat ctrl_conn_host_limit)
m=$(metric 'pptpgw_drops_total{reason="ctrl_conn_host_limit"}')
expect "host 3's other SYNs dropped, counted in stats and /metrics ($refused, $m)" \
	eval '[ "$refused" -ge $((NFLOOD - PER_HOST)) ] && [ "$m" -ge "$refused" ]'
lines=$(gw_log_count "host $H3: new control connection refused: it has $PER_HOST \(conns_per_host\)")
e2e_log "host 3: $refused SYNs dropped in $((t1 - FLOOD_T0)) s, $lines log lines"
expect "refusals logged with host 3's address, at most once a second ($lines lines for $refused)" \
	per_second_ok "$lines" "$refused" $((t1 - FLOOD_T0))
expect "nothing of hosts 1 and 2 refused" \
	eval '[ "$(gw_log_count "host 198\.18\.0\.1[12]: new control connection refused")" = 0 ]'
expect "pptpgw still running" gw_alive
flood_phase_end
e2e_finish
