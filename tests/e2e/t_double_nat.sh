#!/bin/bash
# Double NAT (issue 11): pptpgw on a host (a VM host, say) whose WAN is
# itself behind an upstream router that NATs it again:
#
#   guests 198.18.0.1x -- br0 [pptpgw gateway] wan0 192.0.2.2
#        -- 192.0.2.1 [upstream router, MASQUERADE] 203.0.113.1 -- server 203.0.113.2
#
# Phases:
#   helper     the upstream router has the kernel's PPTP helper: 3 guests
#              with the same Call ID, every tunnel intact through both
#              NATs; pptpgwctl diagnose finds no problem
#   nogre      the upstream router carries only TCP and UDP (as VirtualBox's
#              NAT mode, or a router without PPTP passthrough): its GRE
#              from the server never comes back.  pptpgw says so in its log,
#              in pptpgwctl calls (no_gre_back) and in stats, and
#              pptpgwctl diagnose names the cause (an upstream NAT without
#              PPTP support, or a firewall) with the calls as evidence
#   helper-gw  the kernel's PPTP helper attached on pptpgw's own host after
#              it started: diagnose names it
#   norules    pptpgw started with --no-rules and nothing else: diagnose
#              says the rules are missing
#   firewall   the upstream router does no NAT (it routes the gateway's
#              address) but a firewall there drops GRE coming back:
#              diagnose names the cause, a firewall among its suspects
#   closing    the server (a fake one, pptpprobe --serve) connects each
#              call and ends it at once with a Call-Disconnect-Notify, or
#              (refuse) answers every request with an error: diagnose
#              names the servers ending the calls.  The upstream router's
#              kernel helper rewrites each CDN's Call ID (the server's own)
#              to ours: pptpgw must put it back, so each client hangs up.
# PHASES chooses.  Usage: t_double_nat.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-200}
E2E_FRAMES=${E2E_FRAMES:-1000}
E2E_SEND=${E2E_SEND:-1400}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NHOSTS=3
SAME_ID=4660
PHASES=${PHASES:-helper nogre helper-gw norules firewall closing refuse}
find_tool PPTPPROBE pptpprobe
NS_UP="${E2E_TAG}-up"
up_exec() { ip netns exec "$NS_UP" "$@"; }

# The lab's topology, with the upstream router between the gateway and the
# server.  UP_GRE=drop: the router forwards no GRE coming back.
double_nat_up() {
	topo_up "$NHOSTS"
	ip -n "$NS_GW" link del "$GW_WAN"
	ip netns add "$NS_UP"
	ip -n "$NS_UP" link set lo up
	ip -n "$NS_GW" link add "$GW_WAN" type veth peer name lan0 netns "$NS_UP"
	ip -n "$NS_GW" addr add 192.0.2.2/24 dev "$GW_WAN"
	ip -n "$NS_GW" link set "$GW_WAN" up
	ip -n "$NS_GW" route add default via 192.0.2.1
	ip -n "$NS_UP" addr add 192.0.2.1/24 dev lan0
	ip -n "$NS_UP" link set lan0 up
	ip -n "$NS_UP" link add wan0 type veth peer name eth0 netns "$NS_SRV"
	ip -n "$NS_UP" addr add 203.0.113.1/24 dev wan0
	ip -n "$NS_UP" link set wan0 up
	ip -n "$NS_SRV" addr add "$SRV_IP/24" dev eth0
	ip -n "$NS_SRV" link set eth0 up
	up_exec sysctl -qw net.ipv4.ip_forward=1
	if [ "${UP_GRE:-helper}" = firewall ]; then
		# routed, no NAT: the server reaches the gateway's own address
		ip -n "$NS_SRV" route add 192.0.2.0/24 via 203.0.113.1
	else
		up_exec iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
	fi
	case ${UP_GRE:-helper} in
	helper)
		up_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 \
			-j CT --helper pptp ;;
	drop|firewall)
		# silently: an ICMP error would make pptpd end the call at once
		up_exec iptables -A FORWARD -i wan0 -p gre -j DROP
		up_exec iptables -A INPUT -i wan0 -p gre -j DROP ;;
	esac
	sleep 0.5
	e2e_log "double NAT up: gateway WAN 192.0.2.2 behind an upstream router (${UP_GRE:-helper})"
}

guests_start() {
	local i
	start_pptpd
	for i in $(seq 1 "$NHOSTS"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
}

diag() { ctl diagnose 2>&1; }
diag_has() { diag | grep -q -- "$1"; }
ended_by() { ctl --json stats | jq -r --arg k "$1" '.[$k] // 0'; }

for phase in $PHASES; do
	case $phase in
	helper)
		UP_GRE=helper double_nat_up
		start_pptpgw || exit 1
		guests_start
		wait_clients "$E2E_TIMEOUT" >/dev/null
		tunnels_result "$NHOSTS" "helper: $NHOSTS guests through pptpgw and an upstream NAT with the kernel helper, every tunnel intact"
		diag | sed 's/^/  diagnose| /' >&2
		expect "helper: diagnose finds no problem" diag_has "no problem found"
		expect "helper: no call reported without GRE back" \
			eval '[ "$(gwstat calls_no_gre_back)" = 0 ]'
		;;
	nogre)
		UP_GRE=drop double_nat_up
		start_pptpgw || exit 1
		E2E_TIMEOUT=25 guests_start
		expect "nogre: within 20 s pptpgw reports the calls whose GRE never comes back" \
			wait_until 20 eval '[ "$(ctl --json calls | jq "[.[] | select(.no_gre_back)] | length")" -ge 1 ]'
		ctl calls >&2
		diag | sed 's/^/  diagnose| /' >&2
		expect "nogre: ... in pptpgwctl calls" eval 'ctl calls | grep -q "GRE goes out, none comes back"'
		expect "nogre: ... in stats ($(gwstat calls_no_gre_back))" \
			eval '[ "$(gwstat calls_no_gre_back)" -ge 1 ]'
		expect "nogre: ... in the log" \
			grep -q "none came back (an upstream NAT without PPTP" "$E2E_RUN/logs/gw_cmd.log"
		expect "nogre: diagnose names an upstream NAT without PPTP support, with the calls" \
			eval 'diag_has "^1. GRE of established calls goes out and none comes back: an upstream NAT without PPTP support" &&
			      diag_has "evidence: call [0-9]* 198.18.0.1[1-3]:$SAME_ID -> $SRV_IP: [0-9]* GRE out, 0 in"'
		expect "nogre: diagnose as JSON" \
			eval 'ctl --json diagnose | jq -e ".findings[0].fix | test(\"passthrough\")" >/dev/null'
		wait_clients 40 >/dev/null
		expect "nogre (control): the tunnels did fail ($E2E_CLIENTS_OK of $NHOSTS worked)" \
			[ "$E2E_CLIENTS_OK" = 0 ]
		;;
	helper-gw)
		UP_GRE=helper double_nat_up
		start_pptpgw || exit 1
		expect "helper-gw: before, diagnose finds no problem" diag_has "no problem found"
		gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
		diag | sed 's/^/  diagnose| /' >&2
		expect "helper-gw: the kernel helper attached after the start: diagnose names it" \
			diag_has "the kernel's PPTP helper is attached on this host"
		gw_exec iptables -t raw -D PREROUTING -p tcp --dport 1723 -j CT --helper pptp
		;;
	norules)
		UP_GRE=helper double_nat_up
		start_pptpgw --no-rules || exit 1
		diag | sed 's/^/  diagnose| /' >&2
		expect "norules: diagnose says pptpgw's rules are missing" \
			diag_has "pptpgw's rules were left to the admin"
		;;
	firewall)
		UP_GRE=firewall double_nat_up
		start_pptpgw || exit 1
		E2E_TIMEOUT=25 guests_start
		expect "firewall: within 20 s pptpgw reports the calls whose GRE never comes back" \
			wait_until 20 eval '[ "$(ctl --json calls | jq "[.[] | select(.no_gre_back)] | length")" -ge 1 ]'
		diag | sed 's/^/  diagnose| /' >&2
		expect "firewall: diagnose names GRE not coming back, a firewall dropping GRE among the causes, with the calls" \
			eval 'diag_has "^1. GRE of established calls goes out and none comes back" &&
			      diag_has "a firewall on the way dropping GRE" &&
			      diag_has "evidence: call [0-9]* 198.18.0.1[1-3]:$SAME_ID -> $SRV_IP: [0-9]* GRE out, 0 in"'
		expect "firewall: the calls are on the gateway's own address (no NAT upstream)" \
			eval '[ "$(ctl --json calls | jq -r "[.[] | .public] | unique | join(\" \")")" = 192.0.2.2 ]'
		wait_clients 40 >/dev/null
		expect "firewall (control): the tunnels did fail ($E2E_CLIENTS_OK of $NHOSTS worked)" \
			[ "$E2E_CLIENTS_OK" = 0 ]
		;;
	closing|refuse)
		UP_GRE=helper double_nat_up
		start_pptpgw || exit 1
		kind=cdn
		[ "$phase" = refuse ] && kind=refuse
		rm -f "$E2E_RUN/fake.ready"
		srv_exec "$PPTPPROBE" --serve "$kind" --listen "$SRV_IP" --timeout 10 \
			--ready "$E2E_RUN/fake.ready" 2>>"$E2E_RUN/logs/fakepac.log" &
		E2E_PIDS+=("$!")
		wait_until 5 test -e "$E2E_RUN/fake.ready" || e2e_log "$phase: the fake server did not start"
		for i in $(seq 1 "$NHOSTS"); do
			E2E_TIMEOUT=15 start_client "$i"
		done
		ended=0
		key=calls_ended_disconnect-notify
		[ "$kind" = refuse ] && key=calls_ended_failed
		wait_until 40 eval '[ "$(ended_by "$key")" -ge "$NHOSTS" ]' && ended=1
		ctl stats | grep '^calls_ended' >&2
		diag | sed 's/^/  diagnose| /' >&2
		expect "$phase: all $NHOSTS calls ended by the server" [ "$ended" = 1 ]
		expect "$phase: diagnose names the servers refusing or closing the calls, with the counts" \
			eval 'diag_has "the servers refuse or close most calls" &&
			      diag_has "evidence: of [0-9]* calls ended, [0-9]* refused, [0-9]* by Call-Disconnect-Notify"'
		wait_clients 30 >/dev/null
		if [ "$kind" = cdn ]; then
			# The upstream router's kernel helper wrote our alias
			# into each CDN (the server's own field); pptpgw put the
			# server's ID back, so each client hung up at once.
			cat "$E2E_RUN/logs/fakepac.log" >&2
			expect "closing: the CDNs the upstream helper rewrote were restored ($(gwstat ctrl_cdn_restored))" \
				eval '[ "$(gwstat ctrl_cdn_restored)" = "$NHOSTS" ]'
			expect "closing: each client hung up within 2 s of its CDN" \
				eval '[ "$(grep -c "end=\"closed\" ms=\([0-9]\|[0-9][0-9]\|[0-9][0-9][0-9]\|1[0-9][0-9][0-9]\)$" "$E2E_RUN/logs/fakepac.log")" = "$NHOSTS" ]'
		fi
		;;
	esac
	expect "$phase: pptpgw running" gw_alive
	stop_pptpgw
	topo_down
	reset_run
done
e2e_finish
