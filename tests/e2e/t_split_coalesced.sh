#!/bin/bash
# PPTP control messages split across TCP segments and several in one segment.
#  (a) MSS clamped to 64 with offloads off (every 156/168-byte message is
#      split), 4 inside hosts with real pptp through pptpgw: every tunnel
#      carries E2E_FRAMES frames each way, intact; the gateway saw many
#      control packets and no control segment larger than the clamp allows.
#  (b) pptpprobe through pptpgw against the real pptpd: SCCRQ+OCRQ in one
#      write (--coalesce) and written 1, 5, 7, 13 bytes at a time (--split);
#      each must get an OCRP carrying its own Call ID back (pptpgw restored
#      the alias), result 1.  Run under MSS 64 (b1) and with no clamp (b2),
#      where the coalesced write must travel as ONE segment.  Splitting must
#      not overflow pptpgw's hold queue.  Also --straddle: the first 14
#      bytes of the OCRQ end a segment and the rest follows 500 ms later
#      (after the sender's retransmission timer fired), which a gateway that
#      holds segments must not turn into a stall.
#  (d) a TCPMSS rule appended to mangle FORWARD (as mss_clamp adds it)
#      still clamps the control connection while pptpgw runs.
#  (c) controls: (c1) the same probes with pptpgw stopped and plain
#      MASQUERADE still succeed (pptpd answers them); (c2) the kernel helper
#      with MSS 64 and offloads off carries fewer than 4 of 4 real tunnels
#      (the facts say 0), so the split really happens; its control, first:
#      the same 4 hosts under MSS 64 with no NAT in the way all work.
# Usage: t_split_coalesced.sh BUILD_DIR
set -u
# 4 tunnels through one public address: pptpd gives every connection a raw
# GRE socket that sees all of them, and at 1000 frames/s those sockets
# overflow on a 2-CPU machine (drops in /proc/net/raw): 300/s by default.
# (Set before netlab.sh, which defaults it to 1000.)
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NHOSTS=${NHOSTS:-4}
SPLITS="1 5 7 13"

find_tool PPTPPROBE pptpprobe

# ipt_count CHAIN-SPEC...: packets counted by the gateway rule with the
# comment given as the last argument (rules added by this test only).
ipt_count() {
	gw_exec iptables -t mangle -L POSTROUTING -v -x -n 2>/dev/null |
		awk -v c="/* $1 */" 'index($0, c) { print $1; exit }'
}

# count_rules: count this test's control segments on the WAN (after every
# other hook): data segments that fit the 64-byte MSS, larger ones, and
# segments that carry SCCRQ+OCRQ together (324 bytes of payload or more).
count_rules() {
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p tcp --dport 1723 \
		-m length --length 53:124 -m comment --comment small-out
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p tcp --dport 1723 \
		-m length --length 125:65535 -m comment --comment big-out
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p tcp --dport 1723 \
		-m length --length 364:65535 -m comment --comment coalesced-out
}

# probe_all TAG: run every probe from host 1; one e2e_result per probe.
# Probes are 0.7 s apart: pptpd's manager treats a SIGCHLD (the previous
# probe's pptpctrl exiting) during its wait for the first header as a
# "slow initial connection", which is pptpd's own race, not what is tested.
probe_all() {
	local tag=$1 m out rc id=100 ovf0 ovf1
	for m in "--coalesce" $(for s in $SPLITS; do echo "--split:$s"; done) --straddle; do
		m=${m/:/ }
		id=$((id + 1))
		# shellcheck disable=SC2086
		out=$(host_exec 1 "$PPTPPROBE" --server "$SRV_IP" --call-id $id \
			--timeout 5 $m)
		rc=$?
		echo "  $out" >&2
		e2e_result "$tag: pptpprobe $m gets OCRP with its own Call ID $id" $rc
		sleep 0.7
	done
}

# ---- (a) MSS 64, offloads off, 4 hosts with real pptp through pptpgw
topo_up "$NHOSTS"
mss_clamp 64
count_rules
start_pptpgw || exit 1
# mss_clamp appends its TCPMSS rule to mangle FORWARD, behind the jump that
# pptpgw inserts at the top of that chain; a packet pptpgw accepts from the
# queue leaves the chain, so that rule never sees the PPTP SYNs (see (d)).
# Clamp ahead of pptpgw's jump too:
gw_exec iptables -t mangle -I FORWARD 1 -p tcp --tcp-flags SYN,RST SYN \
	-j TCPMSS --set-mss 64
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	start_client "$i"
done
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result "$NHOSTS" "(a) MSS 64: $NHOSTS tunnels through pptpgw, $E2E_FRAMES frames each way, all intact"

pk=$(gwstat ctrl_packets) msgs=$(gwstat ctrl_messages) rw=$(gwstat ctrl_rewrites)
mal=$(gwstat ctrl_malformed) small=$(ipt_count small-out) big=$(ipt_count big-out)
e2e_log "(a) ctrl_packets=$pk ctrl_messages=$msgs ctrl_rewrites=$rw ctrl_malformed=$mal;" \
	"WAN control segments out: $small of 1..72 bytes, $big larger"
rc=0
# per host at least SCCRQ, SCCRP, OCRQ, OCRP, and 156/168-byte messages in
# 3+ segments each
[ "$pk" -ge $((NHOSTS * 12)) ] && [ "$msgs" -ge $((NHOSTS * 4)) ] &&
	[ "$rw" -ge $((NHOSTS * 2)) ] && [ "$mal" = 0 ] || rc=1
e2e_result "(a) pptpgw counted many control packets ($pk) for $msgs messages, none malformed" $rc
[ "${big:-1}" = 0 ] && [ "${small:-0}" -ge $((NHOSTS * 6)) ]
e2e_result "(a) control messages really split: $small small segments, $big over the clamp" $?

# ---- (b1) the probes through pptpgw, still under MSS 64
ovf0=$(gwstat ctrl_hold_overflow)
probe_all "(b1) MSS 64, pptpgw"
ovf1=$(gwstat ctrl_hold_overflow)
ctl stats | grep -E '^ctrl_' >&2
e2e_result "(b1) split probes never overflow pptpgw's hold queue (ctrl_hold_overflow +$((ovf1 - ovf0)))" \
	$((ovf1 != ovf0))
expect "(a,b1) pptpgw still running" gw_alive
topo_down
reset_run

# ---- (b2) no clamp, offloads on: the coalesced write is one segment
topo_up 1
count_rules
start_pptpgw || exit 1
start_pptpd
ovf0=$(gwstat ctrl_hold_overflow)
probe_all "(b2) no clamp, pptpgw"
ovf1=$(gwstat ctrl_hold_overflow)
co=$(ipt_count coalesced-out)
ctl stats | grep -E '^ctrl_' >&2
e2e_log "(b2) segments out with SCCRQ+OCRQ together: $co"
expect "(b2) the coalesced SCCRQ+OCRQ crossed pptpgw as one segment ($co)" [ "${co:-0}" -ge 1 ]
e2e_result "(b2) split probes never overflow pptpgw's hold queue (ctrl_hold_overflow +$((ovf1 - ovf0)))" \
	$((ovf1 != ovf0))
expect "(b2) pptpgw still running" gw_alive

# ---- (c1) same topology, pptpgw stopped: plain MASQUERADE
stop_pptpgw
left=$(gw_exec iptables-save 2>/dev/null | grep -c PPTPGW)
e2e_log "(c1) pptpgw stopped; PPTPGW rule lines left: $left"
expect "(c1) pptpgw removed its rules when stopped" [ "$left" = 0 ]
probe_all "(c1) plain MASQUERADE, no pptpgw"
topo_down
reset_run

# ---- (d) a TCPMSS rule appended to mangle FORWARD, the way mss_clamp and
# most firewall scripts add one, must still clamp the PPTP control
# connection when pptpgw runs: a probe's 324-byte write must leave in
# segments no larger than the clamp allows.
topo_up 1
count_rules
start_pptpgw || exit 1
mss_clamp 64
start_pptpd
out=$(host_exec 1 "$PPTPPROBE" --server "$SRV_IP" --call-id 300 --timeout 5 --coalesce)
echo "  $out" >&2
big=$(ipt_count big-out) small=$(ipt_count small-out)
e2e_log "(d) appended TCPMSS 64 with pptpgw: control segments out: $small small, $big over the clamp"
[ "${big:-1}" = 0 ] && [ "${small:-0}" -ge 6 ]
e2e_result "(d) an appended mangle FORWARD TCPMSS rule still clamps PPTP control with pptpgw running ($big over the clamp)" $?
topo_down
reset_run

# ---- (c2) kernel helper, MSS 64, offloads off: the tunnels must fail
e2e_prove_peers "$NHOSTS" mss_clamp 64
E2E_TIMEOUT=15
topo_up "$NHOSTS"
mss_clamp 64
gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	start_client "$i"
done
wait_clients $((E2E_TIMEOUT + 5)) >/dev/null
ok=$E2E_CLIENTS_OK
results_summary >/dev/null 2>&1
e2e_log "(c2) kernel helper under MSS 64: $ok of $NHOSTS clients succeeded"
rc=1
[ "$ok" -lt "$NHOSTS" ] && rc=0
e2e_result "(c2) kernel helper, MSS 64: split messages break it ($ok of $NHOSTS tunnels worked)" $rc
topo_down

e2e_finish
