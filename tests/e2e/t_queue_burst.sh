#!/bin/bash
# Bursts through the queue: every queued packet gets its verdict, those
# answered many to a datagram (pptpgw batches its verdicts per receive
# batch) included.  Two tunnels run through pptpgw; meanwhile the server
# fires GRE bursts back-to-back at host 1's alias (rewritten in the queue's
# receive buffer, so sent with their payload) and at an alias nobody has
# (dropped or passed without one).  Afterwards: no packet is left waiting
# in the kernel's queue, the queue's own id count covers the bursts, every
# GRE packet the server sent is accounted for (arrived inside, late, stray,
# or dropped by the kernel because the queue was full), the tunnels' frames
# are intact, and pptpgw counted no verdict error.
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool GRETOOL gretool
NHOSTS=2
BURST=${BURST:-2000}
# Enough frames that both tunnels outlast the bursts (at E2E_RATE 1000/s).
E2E_SEND=${E2E_SEND:-10000}

# nfqueue STATE FIELD: a field of queue 1723's line in the gateway's
# /proc/net/netfilter/nfnetlink_queue (3: packets waiting, 6: dropped as
# full, 7: dropped by the socket, 8: last packet id).
nfqueue() {
	gw_exec awk -v f="$1" '$1 == 1723 {print $f; found = 1}
		END {if (!found) print "missing"}' /proc/net/netfilter/nfnetlink_queue
}
queue_idle() { [ "$(nfqueue 3)" = 0 ]; }

topo_up "$NHOSTS"
count_gre_install
# The queue path is what is tested: with the fast path, GRE to the live
# alias would be rewritten by the kernel's maps and never queued.
start_pptpgw --no-fastpath || exit 1
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	start_client "$i"
done
sample_calls 40 "$NHOSTS"
alias1=$(awk '$2 == "198.18.0.11" {print $4; exit}' "$E2E_RUN/calls.uniq")
e2e_log "host 1's alias: ${alias1:-none}"
[ -n "$alias1" ]
e2e_result "host 1's call is up under an alias" $?
# The bursts carry sequence numbers 0..BURST-1: host 1's pptp must have
# seen more than that already, so it discards them as old instead of
# handing them to its end of the tunnel.
require_flowing 30 "$NHOSTS" packets_in $((BURST + 1000)) \
	"both calls past $((BURST + 1000)) packets in"

id0=$(nfqueue 8)
for k in 1 2; do
	srv_exec "$GRETOOL" send --src "$SRV_IP" --dst "$GW_WAN_IP" \
		--call-id "${alias1:-1}" --count "$BURST" --interval-ms 0 \
		--payload-len 1000 >/dev/null &
	srv_exec "$GRETOOL" send --src "$SRV_IP" --dst "$GW_WAN_IP" \
		--call-id 65000 --count "$BURST" --interval-ms 0 \
		--payload-len 200 >/dev/null
	wait $!
done
# A packet left without its verdict stays in the queue for good, so seeing
# it empty once proves none was left.  Read again later, it may hold one of
# the tunnels' own frames on its way through (they go on at 1000/s each).
if wait_until 10 queue_idle; then
	waiting=0
else
	waiting=$(nfqueue 3)
fi
id1=$(nfqueue 8)
e2e_log "queue after the bursts: $waiting waiting, ids $id0 -> $id1"
[ "$waiting" = 0 ] && [ $((id1 - id0)) -ge $((4 * BURST)) ]
e2e_result "$((4 * BURST)) GRE packets in bursts: each got its verdict, none left waiting in the queue" $?

wait_clients "$E2E_TIMEOUT"
tunnels_result "$NHOSTS" "$NHOSTS tunnels through the bursts, >= $E2E_FRAMES frames each way, none corrupt or duplicated"

wait_until 10 queue_idle
s_out=$(count_gre srv_exec OUTPUT); h_in=$(hosts_gre INPUT)
late=$(gwstat gre_in_late_dropped)
stray=$(($(gwstat gre_in_no_call_passed) + $(gwstat gre_in_no_call_dropped)))
full=$(nfqueue 6); user=$(nfqueue 7); qerr=$(gwstat queue_errors)
e2e_log "GRE server->hosts: sent $s_out, arrived $h_in, late $late, stray $stray; kernel queue drops: full $full, socket $user; pptpgw queue errors $qerr"
[ "$s_out" = $((h_in + late + stray + full + user)) ] && [ "$s_out" -ge $((4 * BURST)) ]
e2e_result "every GRE packet of the server accounted for (arrived, late, stray or dropped by a full queue)" $?
[ "$qerr" = 0 ]
e2e_result "no verdict send failed or was refused" $?
expect "pptpgw still running" gw_alive

e2e_finish
