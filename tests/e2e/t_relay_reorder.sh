#!/bin/bash
# Reordering, duplication and loss on the GRE legs INTO the relay.
#
# pptpgw --relay 203.0.113.2; host 1 holds 2 tunnels, host 2 holds 1.
# grequeue (tests/tools/grequeue.c) sits on an NFQUEUE in the OUTPUT chain of
#  - the server netns: pptpd's GRE toward the relay (server leg), and
#  - each host netns: pptp's GRE toward the relay (client leg),
# and, per GRE flow, drops every DROP-th data packet, holds every SWAP-th
# back until the flow's next one has passed (they change places), and sends
# every DUP-th twice.  pptpgw's relay renumbers GRE on each leg: a duplicate
# or out-of-order frame it forwarded would reach the far side under a fresh
# sequence number, so the far side's pptp/pptpd would pass it to pppspeak,
# which counts it as dup= or ooo=.  Checks:
#  - the damage happened (each grequeue swapped, duplicated and dropped);
#  - every tunnel, both ends: dup=0, ooo=0, bad=0, and >= E2E_FRAMES intact
#    of E2E_SEND sent (each side sends 1500; 1 in DROP is lost on the way in
#    (about 4%), and the relay may give up a few more in gaps; 1200 must
#    arrive);
#  - the damage reached the relay: relay_gre_dup > 0, relay_gre_reordered > 0
#    and relay_gre_lost > 0 (the dropped frames are given up as gaps);
#  - afterwards the relay is idle and pptpgw still runs.
# Usage: t_relay_reorder.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
E2E_SEND=${E2E_SEND:-1500}
E2E_FRAMES=${E2E_FRAMES:-1200}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_grequeue
SWAP=${SWAP:-7}
DUP=${DUP:-5}
DROP=${DROP:-23}
Q=4711
DAMAGE=(--swap "$SWAP" --dup "$DUP" --drop "$DROP" --hold-ms 200)

topo_up 2
start_pptpgw --relay "$SRV_IP" || exit 1
start_pptpd
mkdir -p "$E2E_RUN/damage"
start_grequeue srv $Q "$E2E_RUN/damage/srv.report" "${DAMAGE[@]}" || exit 1
start_grequeue 1 $Q "$E2E_RUN/damage/h1.report" "${DAMAGE[@]}" || exit 1
start_grequeue 2 $Q "$E2E_RUN/damage/h2.report" "${DAMAGE[@]}" || exit 1
dup0=$(rstat relay_gre_dup); re0=$(rstat relay_gre_reordered)
lost0=$(rstat relay_gre_lost); late0=$(rstat relay_gre_late)

start_client 1 2
start_client 2 1
wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
ctl calls >&2
stop_grequeue srv $Q
stop_grequeue 1 $Q
stop_grequeue 2 $Q

# ---- the damage was done, on every wire
rc=0
for w in srv h1 h2; do
	line=$(grep '^grequeue ' "$E2E_RUN/damage/$w.report" 2>/dev/null | tail -n1)
	echo "  $w: ${line:-no report}" >&2
	grep '^grequeue-flow' "$E2E_RUN/damage/$w.report" 2>/dev/null | sed 's/^/    /' >&2
	ge "$(e2e_field "$line" swapped)" 10 && ge "$(e2e_field "$line" duplicated)" 10 &&
		ge "$(e2e_field "$line" dropped)" 10 && [ "$(e2e_field "$line" errors)" = 0 ] || rc=1
done
e2e_result "grequeue swapped, duplicated and dropped GRE on the server's and both hosts' wires" $rc

# ---- every tunnel intact; nothing duplicated or out of order at either end
tunnels_result 3 "3 relayed tunnels: >= $E2E_FRAMES of $E2E_SEND frames intact each way through the damage"
bad=0
while read -r line; do
	[ -n "$line" ] || continue
	[ "$(e2e_field "$line" dup)" = 0 ] && [ "$(e2e_field "$line" ooo)" = 0 ] &&
		[ "$(e2e_field "$line" bad)" = 0 ] || { e2e_log "damaged: $line"; bad=$((bad + 1)); }
done < <(report_lines)
n=$(report_lines | grep -c .)
e2e_result "no duplicate, out-of-order or bad frame at either end of any tunnel ($bad of $n reports show some)" $((bad > 0 || n < 6))

# ---- the relay saw the damage and absorbed it
dup1=$(rstat relay_gre_dup); re1=$(rstat relay_gre_reordered)
lost1=$(rstat relay_gre_lost); late1=$(rstat relay_gre_late)
ddup=$(delta "$dup0" "$dup1"); dre=$(delta "$re0" "$re1")
dlost=$(delta "$lost0" "$lost1"); dlate=$(delta "$late0" "$late1")
e2e_log "relay: gre_dup +$ddup, gre_reordered +$dre, gre_lost +$dlost, gre_late +$dlate"
ge "$ddup" 1 && ge "$dre" 1 && ge "$dlost" 1
e2e_result "the relay dropped duplicates (+$ddup), put frames back in order (+$dre) and gave up lost ones (+$dlost)" $?

expect "afterwards no call and no relay connection" wait_until 15 relay_idle
relay_counters | sed 's/^/  /' >&2
expect "pptpgw still running" gw_alive

e2e_finish
