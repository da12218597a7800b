#!/bin/bash
# One inside host floods call requests (issue 10): host 3 opens one control
# connection to the real pptpd through pptpgw and asks for NFLOOD calls on
# it at once (pptpprobe --call-flood; pptpd answers a good part of them
# "connected", which leaves established calls in the table, as a client
# would).  The call table has MAX_CALLS slots.
#  1. Control, calls_per_host = 0 (no per-host limit): host 3's calls take
#     the table, and the real tunnels of hosts 1 and 2, started while the
#     flood runs, are refused (counted as calls_refused, logged for them):
#     the flood matters.
#  2. calls_per_host = PER_HOST: host 3 never holds more than that many
#     calls, its refusals are counted in stats and /metrics and logged
#     with its address at most once a second, and hosts 1 and 2's tunnels,
#     started while the flood still runs, carry their frames intact.
# In both, the requests beyond pptpd's one call per connection, which
# pptpgw notes for "--relay auto", are told at most once a second.
# FLOOD_LIMIT=N (env) runs phase 2 with calls_per_host = N instead: with 0 (off)
# every check of that phase fails, as it must.
# Usage: t_flood_calls.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
NFLOOD=300
MAX_CALLS=16
PER_HOST=8
H3=198.18.0.13

# start_flood: host 3's call flood, held open 60 s (killed at phase end).
start_flood() {
	host_exec 3 "$PPTPPROBE" --server "$SRV_IP" --call-id 1000 --timeout 10 \
		--hold 60 --call-flood "$NFLOOD" >"$E2E_RUN/flood.out" 2>&1 &
	FLOOD_PID=$!
	E2E_PIDS+=("$FLOOD_PID")
}

# host3_calls: calls of host 3 in the table, refusals not counted.
host3_calls() {
	ctl_json calls "[.[] | select(.inside == \"$H3\" and .state != \"refused\")] | length"
}
H3_MAX=0
sample_h3() {
	local n
	n=$(host3_calls)
	[ "${n:-0}" -gt "$H3_MAX" ] 2>/dev/null && H3_MAX=$n
	return 0
}

# over_limit_told WHAT: pptpd takes one call per connection, which pptpgw
# notes for "--relay auto" on each call request beyond it: a line a second
# at most, however many requests (before, one line each: hundreds here).
over_limit_told() {
	local over lines secs=$(($(date +%s) - FLOOD_T0))
	over=$(gwstat calls_over_server_limit)
	lines=$(gw_log_count "server $SRV_IP: $H3 asked for call [0-9]+ on one connection")
	e2e_log "$1: $over requests beyond the server's Maximum Channels in $secs s, $lines log lines"
	expect "$1: those beyond the server's one call are told at most once a second ($lines lines for $over)" \
		per_second_ok "$lines" "$over" "$secs"
}

# ---- 1. control: no per-host limit ------------------------------------------
flood_phase 3 "[limits]\nmax_calls = $MAX_CALLS\ncalls_per_host = 0\n" || exit 1
start_flood
expect "control: without calls_per_host, host 3's flood fills the call table ($MAX_CALLS)" \
	wait_until 20 eval '[ "$(host3_calls)" -ge '"$MAX_CALLS"' ] 2>/dev/null'
start_client 1
start_client 2
while_clients 30 sample_h3
ok=0
tunnel_intact h1c1 && ok=$((ok + 1))
tunnel_intact h2c1 && ok=$((ok + 1))
refused=$(gwstat calls_refused)
# pptp says why its call failed: the reply pptpgw turned into "no resources"
told=0
for id in h1c1 h2c1; do
	grep -qE "$id log.*Our outgoing call request .* has not been accepted" \
		"$E2E_RUN/logs/syslog.txt" && told=$((told + 1))
done
# (pptpgw's own line for them may be among those its once-a-second
# limit leaves out: host 3's refusals have the same reason)
e2e_log "control: $ok of 2 tunnels intact, $told refused calls, calls_refused $refused, host 3 held $H3_MAX calls"
[ "$ok" = 0 ] && [ "$told" = 2 ]
e2e_result "control: hosts 1 and 2's calls are refused, the table is full" $?
over_limit_told control
kill "$FLOOD_PID" 2>/dev/null
cat "$E2E_RUN/flood.out" >&2
flood_phase_end

# ---- 2. calls_per_host ------------------------------------------------------
flood_phase 3 "[limits]\nmax_calls = $MAX_CALLS\ncalls_per_host = ${FLOOD_LIMIT:-$PER_HOST}\n" || exit 1
start_flood
expect "host 3's requests beyond calls_per_host are refused" \
	wait_until 20 eval '[ "$(gwstat calls_refused_host_limit)" -ge 1 ] 2>/dev/null'
H3_MAX=0
sample_h3
start_client 1
start_client 2
while_clients "$E2E_TIMEOUT" sample_h3
t1=$(date +%s)
e2e_log "pptpgw: $(gw_counters_nonzero)"
tunnels_result 2 "hosts 1 and 2's tunnels, started during the flood, carry their frames intact"
expect "the flood was still on when they finished" kill -0 "$FLOOD_PID"
e2e_log "host 3 held at most $H3_MAX calls"
expect "host 3 held $PER_HOST calls, never more ($H3_MAX)" [ "$H3_MAX" = "$PER_HOST" ]
refused=$(gwstat calls_refused_host_limit)
m=$(metric pptpgw_calls_refused_host_limit_total)
expect "refusals counted in stats and /metrics ($refused, $m)" \
	eval '[ "$refused" -ge 1 ] && [ "$m" = "$refused" ]'
lines=$(gw_log_count "host $H3: call (request dropped|[0-9]+ -> $SRV_IP refused): it has $PER_HOST calls \(calls_per_host\)")
e2e_log "host 3: $refused refusals in $((t1 - FLOOD_T0)) s, $lines log lines"
expect "refusals logged with host 3's address, at most once a second ($lines lines for $refused)" \
	per_second_ok "$lines" "$refused" $((t1 - FLOOD_T0))
others=$(gw_log_count "call 198\.18\.0\.1[12]:[0-9]+ -> $SRV_IP refused")
expect "no call of hosts 1 and 2 refused ($others)" [ "$others" = 0 ]
over_limit_told "calls_per_host"
kill "$FLOOD_PID" 2>/dev/null
cat "$E2E_RUN/flood.out" >&2
expect "pptpgw still running" gw_alive
flood_phase_end
e2e_finish
