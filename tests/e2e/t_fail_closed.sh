#!/bin/bash
# pptpgw fails closed: a real tunnel runs through pptpgw, then pptpgw is
# killed with SIGKILL mid-call, so its netfilter rules stay installed with
# nobody reading the queue.  The inside host keeps sending GRE (its pptp is
# still running, and gretool sends more with the host's own address); the
# server must see no GRE whose source is not the public address (no private
# 198.18.x source leaks untranslated).
# Positive control before the kill: the same count shows 0 too, while a
# count of GRE from the public address is > 0 (the translated traffic is
# visible to the count).
# Usage: t_fail_closed.sh BUILD_DIR
set -u
E2E_FRAMES=${E2E_FRAMES:-3000}
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NSEND=100

find_tool GRETOOL gretool


# gre_from_lan: GRE packets the gateway received from the inside (counted
# by a rule of this test, after pptpgw's own raw-table jump).
gre_from_lan() {
	gw_exec iptables -t raw -L PREROUTING -v -x -n 2>/dev/null |
		awk 'index($0, "/* gre-from-lan */") { print $1; exit }'
}

topo_up 1
gw_exec iptables -t raw -A PREROUTING -i "$GW_LAN" -p gre -m comment --comment gre-from-lan
# The queue path alone: with a fast path, the kernel engine a killed
# pptpgw leaves goes on translating the established call (t_restart relies
# on it), so its GRE would never reach the queue this test watches.
start_pptpgw --no-fastpath || exit 1
start_pptpd
start_client 1
H1=$(host_ip 1)
require_flowing 30 1 packets_out 100 "a real tunnel up through pptpgw"
SRV_CALL=$(ctl_json calls '.[0].server_call_id')
mkdir -p "$E2E_RUN/fc"

# ---- before the kill: nothing untranslated, translated traffic visible
gre_count srv "$E2E_RUN/fc/pre-leak" 2 --not-src "$GW_WAN_IP"
p1=$COUNT_PID
gre_count srv "$E2E_RUN/fc/pre-pub" 2 --src "$GW_WAN_IP"
wait "$p1" "$COUNT_PID"
pre_leak=$(cat "$E2E_RUN/fc/pre-leak") pre_pub=$(cat "$E2E_RUN/fc/pre-pub")
e2e_log "before the kill, GRE at the server: $pre_pub from $GW_WAN_IP, $pre_leak from elsewhere"
[ "$pre_leak" = 0 ] && [ "${pre_pub:-0}" -gt 0 ]
e2e_result "positive control: translated GRE seen at the server ($pre_pub), none untranslated ($pre_leak)" $?

# ---- SIGKILL pptpgw itself ($PPTPGW_PID is pptpgw: ip netns exec execs it)
daemon=$PPTPGW_PID
if [ "$(cat /proc/"$daemon"/comm 2>/dev/null)" != pptpgw ]; then
	e2e_log "pid $PPTPGW_PID is not pptpgw"
	e2e_result "SIGKILL pptpgw mid-call" 1
	e2e_finish
	exit 1
fi
kill -KILL "$daemon"
wait_until 5 eval '! kill -0 '"$daemon"' 2>/dev/null'
dead=$?
rules=$(gw_exec iptables-save 2>/dev/null | grep -c -- '-j NFQUEUE')
e2e_log "pptpgw (pid $daemon) killed; NFQUEUE rules still installed: $rules"
[ $dead = 0 ] && [ "$rules" -gt 0 ]
e2e_result "pptpgw killed with SIGKILL mid-call, its rules left behind ($rules NFQUEUE rules)" $?

# ---- after the kill: the host keeps sending; nothing may leak
lan0=$(gre_from_lan)
gre_count srv "$E2E_RUN/fc/post-leak" 3 --not-src "$GW_WAN_IP"
p1=$COUNT_PID
gre_count srv "$E2E_RUN/fc/post-all" 3
host_exec 1 "$GRETOOL" send --src "$H1" --dst "$SRV_IP" --call-id "$SRV_CALL" \
	--seq 100000 --count $NSEND --interval-ms 20 >&2
wait "$p1" "$COUNT_PID"
lan1=$(gre_from_lan)
post_leak=$(cat "$E2E_RUN/fc/post-leak") post_all=$(cat "$E2E_RUN/fc/post-all")
pptp_alive=0
for p in $(ip netns pids "$(host_ns 1)" 2>/dev/null); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pptp ] && pptp_alive=$((pptp_alive + 1))
done
e2e_log "after the kill: gateway got $((lan1 - lan0)) GRE from the LAN (pptp processes on host 1: $pptp_alive);" \
	"server saw $post_all GRE in all, $post_leak not from $GW_WAN_IP"
expect "the inside host kept sending GRE into the gateway ($((lan1 - lan0)) packets)" [ $((lan1 - lan0)) -ge $NSEND ]
expect "fail closed: no GRE with an untranslated source reached the server ($post_leak)" [ "$post_leak" = 0 ]

e2e_finish
