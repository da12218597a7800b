#!/bin/bash
# `--relay all` takes only control connections routed out of the WAN.  The
# gateway has a second inside segment (a "dmz" netns, 198.19.7.2 behind the
# gateway's lan2, 198.19.7.1) with a TCP listener on port 1723, a FORWARD
# policy DROP and an INPUT policy DROP (loopback and established accepted):
# the admin lets no inside segment reach another.  Checks:
#  - inside host 1 cannot reach the dmz host's port 1723: the connection is
#    not redirected to the relay (relay_inside_conns does not grow), the
#    listener sees no connection (before the fix the relay opened one from
#    the gateway itself, 198.19.7.1, around the FORWARD policy);
#  - a connection to the gateway's own inside address, port 1723, is not
#    relayed either, and one straight to the relay's port is not accepted
#    (the INPUT accept of ours only takes what our redirect made);
#  - pptp from host 1 to the server on the WAN still works through the
#    relay (a relayed call, the tunnel intact);
#  - the redirect sits in nftables table ip pptpgw_relay (a fib lookup of
#    the route), gone once pptpgw stops.
# Usage: t_relay_routed_only.sh BUILD_DIR
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
command -v python3 >/dev/null || { e2e_log "no python3 for the listener"; exit 77; }

NS_DMZ="${E2E_TAG}-dmz"
DMZ_GW=198.19.7.1
DMZ_IP=198.19.7.2
RELAY_PORT=1724
H1=$(host_ip 1)

topo_up 1
ip netns add "$NS_DMZ"
ip -n "$NS_DMZ" link set lo up
ip -n "$NS_GW" link add lan2 type veth peer name eth0 netns "$NS_DMZ"
ip -n "$NS_GW" addr add "$DMZ_GW/24" dev lan2
ip -n "$NS_GW" link set lan2 up
ip -n "$NS_DMZ" addr add "$DMZ_IP/24" dev eth0
ip -n "$NS_DMZ" link set eth0 up
ip -n "$NS_DMZ" route add default via "$DMZ_GW"
# The admin's policy: nothing forwarded, nothing in but replies.
gw_exec iptables -P FORWARD DROP
gw_exec iptables -A INPUT -i lo -j ACCEPT
gw_exec iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
gw_exec iptables -P INPUT DROP

# The dmz listener writes the peer of every connection it accepts.
HITS="$E2E_RUN/dmz.hits"
: >"$HITS"
ip netns exec "$NS_DMZ" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 1723)); s.listen(16)
open(sys.argv[2] + ".ready", "w").close()
while True:
    c, a = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write(a[0] + "\n")
    c.settimeout(2)
    try:
        c.recv(4096)
    except OSError:
        pass
    c.close()
' "$DMZ_IP" "$HITS" 2>>"$E2E_RUN/logs/dmz.log" &
E2E_PIDS+=("$!")
wait_until 5 test -e "$HITS.ready" || { e2e_log "dmz listener did not start"; exit 1; }

start_pptpgw --relay all || exit 1
start_pptpd
wait_until 5 relay_idle
gw_exec nft list table ip pptpgw_relay >"$E2E_RUN/relay-table.txt" 2>&1
sed 's/^/  /' "$E2E_RUN/relay-table.txt" >&2

# The dmz host's port 1723 from host 1: a start request, then wait.
i0=$(rstat relay_inside_conns)
host_exec 1 timeout 10 "$PPTPPROBE" --server "$DMZ_IP" --call-id 77 --timeout 4 --coalesce \
	>"$E2E_RUN/probe-dmz.out" 2>&1
sleep 1
i1=$(rstat relay_inside_conns)
hits=$(sort -u "$HITS" | paste -sd, -)
e2e_log "dmz listener saw: ${hits:-nothing}; relay_inside_conns $i0 -> $i1; probe: $(tr '\n' ' ' <"$E2E_RUN/probe-dmz.out")"
[ -z "$hits" ] && [ "$i1" = "$i0" ]
e2e_result "host 1 -> $DMZ_IP:1723 (another inside segment, FORWARD policy DROP): not relayed, never reaches it (saw: ${hits:-nothing})" $?

# The gateway's own inside address, and the relay's port itself.
host_exec 1 timeout 3 bash -c "exec 3<>/dev/tcp/$GW_LAN_IP/1723" 2>/dev/null
i2=$(rstat relay_inside_conns)
e2e_log "host 1 -> $GW_LAN_IP:1723: relay_inside_conns $i1 -> $i2"
expect "host 1 -> the gateway's own $GW_LAN_IP:1723: not relayed" [ "$i2" = "$i1" ]
host_exec 1 timeout 3 bash -c "exec 3<>/dev/tcp/$GW_LAN_IP/$RELAY_PORT" 2>/dev/null
rc=$?
i3=$(rstat relay_inside_conns)
e2e_log "host 1 -> $GW_LAN_IP:$RELAY_PORT directly: exit $rc, relay_inside_conns $i2 -> $i3"
[ "$rc" != 0 ] && [ "$i3" = "$i2" ]
e2e_result "host 1 -> the relay's port directly: not accepted past the INPUT policy" $?

# PPTP to the server on the WAN goes through the relay.
c0=$(rstat relay_calls)
start_client 1
wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
tunnels_result 1 "host 1 -> $SRV_IP (routed out of the WAN): the relayed tunnel carries >= $E2E_FRAMES frames each way"
c1=$(rstat relay_calls)
e2e_log "relay_calls $c0 -> $c1"
expect "that call was relayed (relay_calls $c0 -> $c1)" [ "$(delta "$c0" "$c1")" = 1 ]
hits=$(sort -u "$HITS" | paste -sd, -)
expect "the dmz listener still saw nothing (${hits:-nothing})" [ -z "$hits" ]
grep -q 'fib daddr oifname' "$E2E_RUN/relay-table.txt"
e2e_result "the redirect is in table ip pptpgw_relay, by the route (fib daddr oifname)" $?

wait_until 15 relay_idle
stop_pptpgw
! gw_exec nft list table ip pptpgw_relay >/dev/null 2>&1
e2e_result "table ip pptpgw_relay gone after pptpgw stopped" $?
e2e_finish
