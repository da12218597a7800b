#!/bin/bash
# The relayed server's own GRE for Call IDs that are not (or no longer) a
# relayed call's must not hurt the calls that are.
#
# Why it matters: GRE that the gateway's own stack gets and nothing there
# reads draws an ICMP protocol-unreachable back to the server; pptpd's GRE
# sockets are all connected to the one public address, take that error as
# fatal, and every call pptpd has with the public address ends ("GRE: read
# ... failed: Protocol not available").  A real PNS holds a GRE socket, so it
# never answers like that; the relay is the PNS toward its servers.
#
# pptpgw --relay 203.0.113.2; host 1 and host 2 hold relayed tunnels.  A
# counting rule in the server netns counts ICMP protocol-unreachable.
#  1. host 2's call is cleared by the administrator (pptpgwctl clear rN):
#     the relay tells both sides; then the server sends GRE to that call's
#     old alias (late GRE of an ended call);
#  2. the server sends GRE to a Call ID no call ever had.
# After each: no inside host sees the packets, the server got no ICMP
# protocol-unreachable, host 1's relayed call is still established and
# carrying frames.  At the end host 1's tunnel is intact, the relay idle.
# Usage: t_relay_stray_gre.sh BUILD_DIR
set -u
E2E_FRAMES=${E2E_FRAMES:-4500}
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool GRETOOL gretool
N=20
H1=$(host_ip 1)
H2=$(host_ip 2)

# ICMP protocol-unreachable packets the server received (a counting rule).
icmp_unreach() { srv_exec iptables -nvxL INPUT | awk '/icmptype 3 code 2/ {n += $1} END {print n + 0}'; }
h1_in() { ctl_json calls ".[] | select(.mode == \"relay\" and .inside == \"$H1\") | .packets_in"; }
h1_up() { [ "$(ctl_json calls "[.[] | select(.mode == \"relay\" and .inside == \"$H1\" and .state == \"established\")] | length")" = 1 ]; }

# stray WHAT CALLID: the server sends N GRE packets to the public address
# with CALLID; record one result: no host saw them, no ICMP unreachable,
# host 1's call still up and carrying frames a second later.
stray() {
	local what=$1 id=$2 i0 i1 di in0 in1 c1 s1 s2
	i0=$(icmp_unreach)
	gre_count 1 "$E2E_RUN/stray1.count" 2 --marker
	c1=$COUNT_PID
	gre_count 2 "$E2E_RUN/stray2.count" 2 --marker
	srv_exec "$GRETOOL" send --src "$SRV_IP" --dst "$GW_WAN_IP" --call-id "$id" \
		--count $N --interval-ms 10 >&2
	wait "$c1" "$COUNT_PID"
	s1=$(cat "$E2E_RUN/stray1.count"); s2=$(cat "$E2E_RUN/stray2.count")
	in0=$(h1_in); sleep 1; in1=$(h1_in)
	i1=$(icmp_unreach)
	di=$(delta "$i0" "$i1")
	e2e_log "$what (Call ID $id): host 1 saw ${s1:-?}, host 2 ${s2:-?}; ICMP protocol-unreachable to the server +$di; host 1's call: ${in0:-gone} -> ${in1:-gone} frames in"
	[ "$s1" = 0 ] && [ "$s2" = 0 ] && [ "$di" = 0 ] && h1_up &&
		ge "$(delta "${in0:-x}" "${in1:-x}")" 1
	e2e_result "$what: reaches no host, draws no ICMP unreachable, host 1's relayed call carries on" $?
}

topo_up 2
srv_exec iptables -A INPUT -p icmp --icmp-type protocol-unreachable
start_pptpgw --relay "$SRV_IP" || exit 1
start_pptpd
start_client 1
start_client 2
if ! wait_until 30 relay_flowing 2 200; then
	ctl calls >&2; e2e_dump_logs
	e2e_result "two relayed tunnels up" 1
	e2e_finish; exit 1
fi
ctl calls >&2
A2=$(ctl_json calls ".[] | select(.mode == \"relay\" and .inside == \"$H2\") | .alias")
S2=$(ctl_json calls ".[] | select(.mode == \"relay\" and .inside == \"$H2\") | .id")
e2e_log "host 2's relayed call: $S2, alias $A2"

# ---- 1. late GRE of a relayed call the administrator ended
ctl clear "$S2" >&2
expect "pptpgwctl clear $S2 ends host 2's relayed call, host 1's stays" wait_until 5 relay_rows_are 1
stray "late GRE to the ended call's alias" "$A2"

# ---- 2. GRE for a Call ID no call had
unused=999
[ "$unused" = "$A2" ] && unused=998
stray "GRE to a Call ID never used" "$unused"

expect "pptpgw survives" gw_alive

# ---- host 1's tunnel (host 2's was cleared on purpose)
wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
report_lines | sed 's/^/  /' >&2
h2rc=$(cat "$E2E_RUN/clients/h2c1.rc" 2>/dev/null)
tunnel_intact h1c1 && [ "$(cat "$E2E_RUN/clients/h1c1.rc" 2>/dev/null)" = 0 ]
rc=$?
[ $rc = 0 ] || e2e_dump_logs
e2e_result "host 1's relayed tunnel intact through the stray GRE ($E2E_FRAMES frames each way); host 2's client, cleared, exited $h2rc" $rc

expect "afterwards no call and no relay connection" wait_until 15 relay_idle
expect "pptpgw still running" gw_alive

e2e_finish
