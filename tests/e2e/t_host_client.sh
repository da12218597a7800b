#!/bin/bash
# Clients on the gateway itself (issue 11, item 2): a PPTP client on the NAT
# host and its guests hold tunnels to the same server at once, and the
# host's own Call ID can never collide with a guest's alias.
#  (a) control: the gateway's own client alone, nothing in the way (no
#      pptpgw): its tunnel must be intact, or the peers cannot run here.
#  (b) the collision, staged: 3 guests (all with Call ID 4660) hold calls
#      through pptpgw; then the gateway's own client starts with Call ID =
#      one guest's alias.  pptpgw must see the host's call (inside = the
#      public address) and alias it; all 4 tunnels intact.
#  (c) the same with pptpgw's rules for this host's own control connections
#      removed (what pptpgw had before): the host's call is unseen and the
#      staged collision must break a tunnel.  This shows that (b) staged a
#      real collision.
#  (d) the host first, with Call ID 4660, under an admin's INPUT policy DROP
#      (established and related accepted): its call keeps 4660, the 3
#      guests' calls with 4660 are aliased around it, all 4 tunnels intact.
#  (e) pptpgw killed (-9) and started again under the host's call and a
#      guest's: both adopted from the saved state, both tunnels intact.
# Usage: t_host_client.sh BUILD_DIR   (PPPSPEAK=path overrides)
set -u
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NG=3
N=$((NG + 1))
SAME_ID=4660
# pptpd's per-connection GRE sockets each get every tunnel's GRE: send more
# than must arrive intact (see t_multi_host).
E2E_SEND=${E2E_SEND:-1500}

# "inside inside_call_id alias" of the established calls.
calls_now() {
	ctl --json calls 2>/dev/null | jq -r '.[] | select(.state == "established") |
		"\(.inside) \(.inside_call_id) \(.alias)"'
}
guests_up() { [ "$(calls_now | grep -vc "^$GW_WAN_IP ")" -ge "$NG" ]; }
start_guests() {
	local i
	for i in $(seq 1 "$NG"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
}

# ---- (a) control: the gateway's own client, nothing in the way
topo_up 0
start_pptpd
start_client gw
wait_clients "$E2E_TIMEOUT" >/dev/null
if ! tunnels_result 1 "control: the gateway's own pptp client alone, no pptpgw"; then
	e2e_log "the gateway's own client fails with nothing in the way: this machine cannot run the test"
	e2e_finish
	exit 1
fi
topo_down
reset_run

# collide LABEL [EXPECT]: guests first, then the host with a guest's alias.
# EXPECT=ok: pptpgw sees and aliases the host's call, every tunnel intact;
# EXPECT=broken: the host's rules removed, some tunnel must fail.
collide() {
	local label=$1 expect=$2 alias hostline rc
	topo_up "$NG"
	start_pptpgw || { e2e_result "$label: pptpgw started" 1; topo_down; reset_run; return; }
	if [ "$expect" = broken ]; then
		gw_exec iptables -t mangle -F PPTPGW-IN
		gw_exec iptables -t mangle -F PPTPGW-OUT
		gw_exec iptables -t mangle -A PPTPGW-IN -m mark --mark $GW_MARK/$GW_MARK -j RETURN
		gw_exec iptables -t mangle -A PPTPGW-OUT -m mark --mark $GW_MARK/$GW_MARK -j RETURN
	fi
	start_pptpd
	start_guests
	if ! wait_until 30 guests_up; then
		ctl calls >&2
		e2e_result "$label: $NG guests' calls up" 1
		topo_down; reset_run; return
	fi
	alias=$(calls_now | awk -v me="$GW_WAN_IP" '$1 != me {print $3; exit}')
	e2e_log "$label: a guest holds alias $alias: the gateway's own client starts with Call ID $alias"
	E2E_CALL_ID=$alias start_client gw
	sample_calls 30 "$N"
	hostline=$(awk -v me="$GW_WAN_IP" '$2 == me' "$E2E_RUN/calls.uniq" | head -n1)
	e2e_log "$label: the host's call as pptpgw saw it (mode inside id alias server public): ${hostline:-none}"
	wait_clients "$E2E_TIMEOUT" >/dev/null
	if [ "$expect" = ok ]; then
		set -- $hostline
		[ "${3:-}" = "$alias" ] && [ -n "${4:-}" ] && [ "$4" != "$alias" ] &&
			[ "$SAMPLED_MAX_UP" = "$N" ]
		e2e_result "$label: the host's call (Call ID $alias, a guest's alias) tracked and aliased (${4:-none}); $N calls up at once" $?
		tunnels_result "$N" "$label: the host's and $NG guests' tunnels all intact"
	else
		rc=0
		[ -z "$hostline" ] || rc=1
		results_summary >/dev/null 2>&1 && rc=1
		e2e_log "$label: $E2E_CLIENTS_OK of $N clients succeeded"
		e2e_result "$label: without pptpgw's rules for the host, the staged collision breaks a tunnel (the host's call unseen)" $rc
	fi
	phase_end "$label"
}

# ---- (b) and (c)
collide "collision" ok
collide "no host rules (control)" broken

# ---- (d) the host first, with a strict INPUT policy on the gateway
label="host first, INPUT policy DROP"
topo_up "$NG"
gw_exec iptables -A INPUT -i lo -j ACCEPT
gw_exec iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
gw_exec iptables -P INPUT DROP
if start_pptpgw; then
	start_pptpd
	E2E_CALL_ID=$SAME_ID start_client gw
	wait_until 20 eval '[ "$(calls_now | grep -c "^$GW_WAN_IP ")" = 1 ]'
	start_guests
	sample_calls 40 "$N"
	hostline=$(awk -v me="$GW_WAN_IP" '$2 == me' "$E2E_RUN/calls.uniq" | head -n1)
	galiases=$(awk -v me="$GW_WAN_IP" '$2 != me {print $4}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
	e2e_log "$label: host's call: ${hostline:-none}; guests' aliases: $galiases"
	set -- $hostline
	[ "${3:-}" = "$SAME_ID" ] && [ "${4:-}" = "$SAME_ID" ] &&
		[ "$SAMPLED_MAX_UP" = "$N" ] && ! printf '%s\n' "$galiases" | grep -qw "$SAME_ID"
	e2e_result "$label: the host's call keeps its Call ID $SAME_ID; the guests' calls with $SAME_ID are aliased around it; $N up at once" $?
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$N" "$label: the host's and $NG guests' tunnels all intact"
	dropped_in=$(gw_exec iptables -L INPUT -v -x -n | awk '/policy DROP/ {print $5}')
	e2e_log "$label: INPUT policy dropped $dropped_in packets"
	expect "$label: pptpgw still running" gw_alive
else
	e2e_result "$label: pptpgw started" 1
fi
topo_down
reset_run

# ---- (e) pptpgw killed (-9) and started again under the host's call and a
# guest's (same Call ID): both come back from the saved state with the same
# (inside, Call ID, alias), and both tunnels stay intact.
label="restart (kill -9)"
topo_up 1
if start_pptpgw; then
	start_pptpd
	E2E_CALL_ID=$SAME_ID start_client gw
	E2E_CALL_ID=$SAME_ID start_client 1
	if wait_until 40 calls_flowing 2 packets_in 20; then
		rc=0
		wait_until 10 calls_flowing 2 packets_out 20 || rc=1
		ctl calls >&2
		e2e_result "$label: GRE counted both ways for both calls (the host's own out too)" $rc
		before=$(call_set)
		pid=$PPTPGW_PID
		kill -9 "$pid"
		wait_until 10 eval '! kill -0 '"$pid"' 2>/dev/null'
		wait "$pid" 2>/dev/null
		if start_pptpgw; then
			after=$(call_set)
			printf '%s\n' "$after" >&2
			[ -n "$before" ] && [ "$after" = "$before" ] &&
				printf '%s\n' "$after" | grep -q "^$GW_WAN_IP $SAME_ID $SAME_ID\$"
			e2e_result "$label: the host's call and the guest's are the same after the restart" $?
			wait_clients "$E2E_TIMEOUT" >/dev/null
			tunnels_result 2 "$label: the host's and the guest's tunnels intact across the restart"
		else
			e2e_result "$label: pptpgw started again" 1
		fi
	else
		ctl calls >&2
		e2e_result "$label: both calls up" 1
	fi
else
	e2e_result "$label: pptpgw started" 1
fi
topo_down
reset_run

e2e_finish
