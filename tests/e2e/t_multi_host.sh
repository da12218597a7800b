#!/bin/bash
# 8 inside hosts, each with its own control connection and all with the same
# Call ID, one real pptpd server, pptpgw on the MASQUERADE gateway and no
# kernel helper.  Every tunnel must carry E2E_FRAMES frames each way, all
# intact, under 8 distinct aliases; after the calls end the call table must
# be empty.
set -u
# Before netlab.sh, which sets its own default.
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool GRETOOL gretool
NHOSTS=${NHOSTS:-8}
SAME_ID=4660
# pptpd gives every connection its own GRE raw socket, and every one of them
# gets every tunnel's GRE from the one public address: under load their
# buffers overflow (the drops column of /proc/net/raw, with the kernel helper
# too).  So each side sends more than the E2E_FRAMES that must arrive intact
# (which also keeps all tunnels up long enough to overlap).
E2E_SEND=${E2E_SEND:-2000}

topo_up "$NHOSTS"
count_gre_install
start_pptpgw || exit 1
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	E2E_CALL_ID=$SAME_ID start_client "$i"
done

# While the tunnels run: sample the call table.  Every host's call must carry
# the inside ID forced above under an alias of its own, and all 8 calls must
# be up at the same moment at least once.
sample_calls 40 "$NHOSTS"
max_up=$SAMPLED_MAX_UP
ids=$(awk '{print $3}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
aliases=$(awk '{print $4}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
hosts=$(awk '{print $2}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
e2e_log "inside call ids: $ids; aliases: $aliases; hosts: $hosts; most up at once: $max_up"
[ "$ids" = "$SAME_ID " ] && [ "$aliases" = "$NHOSTS" ] && [ "$hosts" = "$NHOSTS" ] &&
	[ "$max_up" = "$NHOSTS" ]
e2e_result "$NHOSTS hosts up at once, all with Call ID $SAME_ID, under $NHOSTS distinct aliases" $?

# Host 1's alias, while its call is up: GRE from the server to it reaches
# host 1 (the control for the late-GRE check below).
alias1=$(awk '$2 == "198.18.0.11" {print $4; exit}' "$E2E_RUN/calls.uniq")
send_to_alias() {
	srv_exec "$GRETOOL" send --src "$SRV_IP" --dst "$GW_WAN_IP" \
		--call-id "$alias1" --count 20 --interval-ms 5 >/dev/null
}
rc=1
if [ -n "$alias1" ] && gre_count 1 "$E2E_RUN/live.count" 2 --marker; then
	send_to_alias
	wait "$COUNT_PID"
	live=$(cat "$E2E_RUN/live.count")
	e2e_log "20 GRE packets to live alias $alias1: $live reached host 1"
	[ "$live" = 20 ] && rc=0
fi
e2e_result "GRE to a live alias reaches its inside host" $rc

wait_clients "$E2E_TIMEOUT"
tunnels_result "$NHOSTS" "$NHOSTS tunnels through pptpgw, >= $E2E_FRAMES frames each way, none corrupt or duplicated"

# Packet conservation through the gateway: every GRE packet the hosts sent
# reached the server, and every one the server sent reached a host, except
# late ones to calls already over (which pptpgw drops and counts).
h_out=$(hosts_gre OUTPUT); s_in=$(count_gre srv_exec INPUT)
s_out=$(count_gre srv_exec OUTPUT); h_in=$(hosts_gre INPUT)
late=$(ctl_json stats .gre_in_late_dropped)
stray=$(($(ctl_json stats .gre_in_no_call_passed) + $(ctl_json stats .gre_in_no_call_dropped)))
nocall=$(ctl_json stats .gre_out_no_call_dropped); qdrop=$(ctl_json stats .queue_dropped)
e2e_log "GRE hosts->server: sent $h_out, arrived $s_in, no call $nocall; server->hosts: sent $s_out, arrived $h_in, late $late, stray $stray; queue overflow $qdrop"
[ "$h_out" = $((s_in + nocall)) ] && [ "$s_out" = $((h_in + late + stray)) ] &&
	[ "$h_out" -ge $((NHOSTS * E2E_FRAMES)) ] && [ "$h_in" -ge $((NHOSTS * E2E_FRAMES)) ]
e2e_result "no GRE packet lost or leaked through pptpgw in either direction" $?

# The metrics endpoint counts the same traffic: what pptpgw translated
# itself and what the kernel's maps did (read back once a second).
sleep 1.5
m_out=$(($(metric 'pptpgw_gre_packets_total{direction="out"}') +
	$(metric 'pptpgw_gre_fastpath_packets_total{direction="out"}')))
m_in=$(($(metric 'pptpgw_gre_packets_total{direction="in"}') +
	$(metric 'pptpgw_gre_fastpath_packets_total{direction="in"}')))
m_setups=$(metric pptpgw_call_setups_total)
e2e_log "metrics: gre out $m_out, in $m_in, setups $m_setups"
[ "$m_out" = "$s_in" ] && [ "$m_in" = "$h_in" ] && [ "$m_setups" = "$NHOSTS" ]
e2e_result "/metrics counts what crossed: $m_out out, $m_in in, $m_setups call setups" $?

rc=0
wait_until 15 calls_empty || rc=1
ctl status >&2
# Late GRE to host 1's old alias must not reach host 1 any more.
late0=$(gwstat gre_in_late_dropped)
rc2=1
if gre_count 1 "$E2E_RUN/late.count" 2 --marker; then
	send_to_alias
	wait "$COUNT_PID"
	late=$(cat "$E2E_RUN/late.count")
	late1=$(gwstat gre_in_late_dropped)
	e2e_log "20 GRE packets to the ended alias $alias1: $late reached host 1, pptpgw dropped $((late1 - late0)) as late"
	[ "$late" = 0 ] && [ $((late1 - late0)) = 20 ] && rc2=0
fi
e2e_result "late GRE after the calls ended is not forwarded inside" $rc2
ctl stats | grep -E '^(calls_|gre_|ctrl_(malformed|rewrites))' >&2
e2e_result "call table empty after the tunnels closed" $rc
expect "pptpgw still running" gw_alive

e2e_finish
