#!/bin/bash
# Hostile input on both legs of the relay while two relayed tunnels run.
#
# pptpgw --relay 203.0.113.2,203.0.113.3,203.0.113.4.  Hosts 1 and 2 hold
# real pptp tunnels to pptpd (203.0.113.2), relayed.  Meanwhile:
#  GRE, server leg (toward the public address 203.0.113.1):
#   - spoofed from 203.0.113.99 with host 1's alias (the relay's Call ID
#     toward the server): host 1 sees none of it, and the relay does not take
#     it for the call (its gre_dup + gre_late + gre_bad stay put); positive
#     control: the same packets (old sequence numbers) from the real server
#     ARE taken for the call (counted duplicate or late), still not
#     forwarded.  (The server's GRE for an unknown Call ID is in
#     t_relay_stray_gre.sh.)
#  GRE, client leg (toward the server):
#   - host 3 sends for a Call ID no call has: the server sees none of it and
#     gre_out_no_call_dropped counts it;
#   - host 3 sends with the Call ID host 1's pptp addresses the relay by (the
#     relay's PAC-side Call ID, learned on host 1's wire with grequeue): the
#     server sees none, the relay does not count it for the call; positive
#     control: the same from host 1's address is taken for the call.
#  Control, client leg: pptpprobe --garbage of every kind from host 3 toward
#   the relayed server: the relay answers the SCCRQ (after pptpd did), then
#   closes at once on each framing error (relay_ctl_malformed); raw garbage
#   on fresh connections before any SCCRQ: each closed within 3 s, counted.
#  Control, server leg: two fake servers (pptpprobe --serve, in a netns
#   behind the server's) answer a relayed client (pptpprobe from host 3)
#   with garbage instead of the Start-Control-Connection-Reply
#   (203.0.113.3), and with a valid one, then a malformed
#   Outgoing-Call-Reply (203.0.113.4): the client is refused at once,
#   relay_ctl_malformed and relay_upstream_failed count.
# Then: both tunnels intact, pptpgw alive; afterwards the relay holds no
# call and no connection, and pptpgw its pre-call number of fds.
# Usage: t_relay_hostile.sh BUILD_DIR
set -u
E2E_FRAMES=${E2E_FRAMES:-7500}
E2E_RATE=${E2E_RATE:-300}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool GRETOOL gretool
find_tool PPTPPROBE pptpprobe
find_grequeue
SPOOF_IP=203.0.113.99
FAKE1=203.0.113.3      # garbage instead of SCCRP
FAKE2=203.0.113.4      # SCCRP, then a malformed OCRP
KINDS="badlen badcookie zerolen random short"
N=40
H1=$(host_ip 1)
H3=$(host_ip 3)

# taken: the sum of the relay counters a GRE packet that the relay took for
# one of its calls ends up in when it is not forwarded.
# "missing" when the daemon lacks one of them.
taken() {
	local a b c
	a=$(rstat relay_gre_dup) b=$(rstat relay_gre_late) c=$(rstat relay_gre_bad)
	if [[ "$a$b$c" =~ ^[0-9]+$ ]]; then echo $((a + b + c)); else echo missing; fi
}

topo_up 3
# The fake servers live in a netns of their own behind the server netns
# (pptpd holds *:1723 there), which routes to them and answers ARP for them.
NS_FAKE="${E2E_TAG}-fake"
ip netns add "$NS_FAKE"
ip -n "$NS_FAKE" link set lo up
ip -n "$NS_SRV" link add vf0 type veth peer name eth0 netns "$NS_FAKE"
ip -n "$NS_SRV" link set vf0 up
srv_exec sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.eth0.proxy_arp=1 \
	net.ipv4.conf.vf0.proxy_arp=1
ip -n "$NS_FAKE" addr add "$FAKE1/32" dev eth0
ip -n "$NS_FAKE" addr add "$FAKE2/32" dev eth0
ip -n "$NS_FAKE" link set eth0 up
ip -n "$NS_FAKE" route add default dev eth0
ip -n "$NS_SRV" route add "$FAKE1/32" dev vf0
ip -n "$NS_SRV" route add "$FAKE2/32" dev vf0
start_pptpgw --relay "$SRV_IP,$FAKE1,$FAKE2" || exit 1
start_pptpd
# A fake PPTP server, one connection at a time: bad-sccrp (garbage for the
# SCCRP) or bad-ocrp (valid SCCRP, then an Outgoing-Call-Reply whose Length
# is 33); each connection bounded by 10 s.
for f in "$FAKE1:bad-sccrp" "$FAKE2:bad-ocrp"; do
	rm -f "$E2E_RUN/fake.ready"
	ip netns exec "$NS_FAKE" "$PPTPPROBE" --serve "${f#*:}" --listen "${f%%:*}" \
		--timeout 10 --ready "$E2E_RUN/fake.ready" 2>>"$E2E_RUN/logs/fakepac.log" &
	E2E_PIDS+=("$!")
	wait_until 5 test -e "$E2E_RUN/fake.ready" || { e2e_log "fake server ${f%%:*} did not start"; exit 1; }
done
wait_until 5 relay_idle
fd0=$(gw_fds)
e2e_log "pptpgw idle with $fd0 fds; fake servers on $FAKE1 and $FAKE2"
start_client 1
start_client 2

if ! wait_until 30 relay_flowing 2 200; then
	ctl calls >&2; e2e_dump_logs
	e2e_result "two relayed tunnels up before the hostile input" 1
	e2e_finish; exit 1
fi
ctl calls >&2
A1=$(ctl_json calls ".[] | select(.mode == \"relay\" and .inside == \"$H1\") | .alias")
P1=$(wire_call_ids 1 "$H1" "$SRV_IP" 1 | head -n1)
e2e_log "host 1: alias (relay's Call ID toward the server) $A1, relay's Call ID toward host 1 $P1"
if ! ge "${A1:-x}" 1 || ! ge "${P1:-x}" 0; then
	e2e_result "learned host 1's Call IDs on both legs" 1
	e2e_finish; exit 1
fi
mal0=$(rstat relay_ctl_malformed); fail0=$(rstat relay_upstream_failed)
nocall0=$(gwstat gre_out_no_call_dropped)

# ---- inside control garbage: pptpprobe --garbage of every kind through the
# relay, all at once, in the background while the GRE checks run
mkdir -p "$E2E_RUN/hostile"
probe_pids=()
for kind in $KINDS; do
	host_exec 3 "$PPTPPROBE" --server "$SRV_IP" --call-id 201 --timeout 5 --seed 1 \
		--garbage "$kind" >"$E2E_RUN/hostile/probe-$kind.out" 2>&1 &
	probe_pids+=("$!:$kind")
	E2E_PIDS+=("$!")
done

# ---- server side: spoofed source, host 1's alias
t0=$(taken)
gre_count 1 "$E2E_RUN/spoof.count" 2 --marker
srv_exec "$GRETOOL" send --src "$SPOOF_IP" --dst "$GW_WAN_IP" --call-id "$A1" \
	--count $N --interval-ms 10 >&2
wait "$COUNT_PID"
seen=$(cat "$E2E_RUN/spoof.count"); t1=$(taken); dt=$(delta "$t0" "$t1")
e2e_log "GRE from $SPOOF_IP to alias $A1: host 1 saw ${seen:-?}, relay counted $dt for the call"
[ "$seen" = 0 ] && [ "$dt" = 0 ]
e2e_result "server leg: GRE spoofed from $SPOOF_IP with a live alias is not the call's ($seen reached host 1, $dt taken)" $?

t0=$(taken)
gre_count 1 "$E2E_RUN/real.count" 2 --marker
srv_exec "$GRETOOL" send --src "$SRV_IP" --dst "$GW_WAN_IP" --call-id "$A1" \
	--seq 0 --count $N --interval-ms 10 >&2
wait "$COUNT_PID"
seen=$(cat "$E2E_RUN/real.count"); t1=$(taken); dt=$(delta "$t0" "$t1")
e2e_log "old GRE from $SRV_IP to alias $A1: host 1 saw ${seen:-?}, relay counted $dt for the call"
[ "$seen" = 0 ] && ge "$dt" $N
e2e_result "positive control: the same GRE from the real server is taken for the call and dropped as old ($dt of $N)" $?

# ---- inside: unknown Call ID from host 3
gre_count srv "$E2E_RUN/out.count" 2 --marker
host_exec 3 "$GRETOOL" send --src "$H3" --dst "$SRV_IP" --call-id 999 \
	--count $N --interval-ms 10 >&2
wait "$COUNT_PID"
seen=$(cat "$E2E_RUN/out.count"); nocall1=$(gwstat gre_out_no_call_dropped)
dn=$(delta "$nocall0" "$nocall1")
e2e_log "host 3's GRE for Call ID 999: the server saw ${seen:-?}; gre_out_no_call_dropped +$dn"
[ "$seen" = 0 ] && ge "$dn" $N
e2e_result "client leg: GRE for an unknown Call ID from host 3 is dropped ($seen reached the server)" $?

# ---- inside: host 1's PAC-side Call ID from host 3
t0=$(taken)
gre_count srv "$E2E_RUN/steal.count" 2 --marker
host_exec 3 "$GRETOOL" send --src "$H3" --dst "$SRV_IP" --call-id "$P1" \
	--count $N --interval-ms 10 >&2
wait "$COUNT_PID"
seen=$(cat "$E2E_RUN/steal.count"); t1=$(taken); dt=$(delta "$t0" "$t1")
e2e_log "host 3's GRE with host 1's Call ID $P1: the server saw ${seen:-?}, relay counted $dt for the call"
[ "$seen" = 0 ] && [ "$dt" = 0 ]
e2e_result "client leg: host 1's relay Call ID used by host 3 is not host 1's call ($seen reached the server)" $?

t0=$(taken)
gre_count srv "$E2E_RUN/own.count" 2 --marker
host_exec 1 "$GRETOOL" send --src "$H1" --dst "$SRV_IP" --call-id "$P1" \
	--seq 0 --count $N --interval-ms 10 >&2
wait "$COUNT_PID"
seen=$(cat "$E2E_RUN/own.count"); t1=$(taken); dt=$(delta "$t0" "$t1")
e2e_log "old GRE from host 1 with its Call ID $P1: the server saw ${seen:-?}, relay counted $dt for the call"
[ "$seen" = 0 ] && ge "$dt" $N
e2e_result "positive control: the same GRE from host 1 is taken for its call and dropped as old ($dt of $N)" $?

# ---- inside control garbage: collect the probes started above
# Every probe must get the relay's SCCRP (the relay answers once pptpd did).
# Four kinds are framing errors: the relay must close at once (end="closed",
# no Echo-Reply).  "short" (10 bytes of an Echo-Request, then a whole one)
# frames as one Echo-Request with a non-zero Reserved0 and 10 bytes left
# over, which a byte stream cannot tell from a slow sender: no verdict on its
# end, it only must get its SCCRP.
bad=0 cut=0
for pk in "${probe_pids[@]}"; do
	wait "${pk%%:*}" || bad=$((bad + 1))
	line=$(cat "$E2E_RUN/hostile/probe-${pk#*:}.out")
	echo "  $line" >&2
	case $line in
	*kind=short*sccrp=yes*) ;;
	*sccrp=yes*echo_reply=no*end=\"closed\"*) cut=$((cut + 1)) ;;
	*) bad=$((bad + 1)) ;;
	esac
done
mal1=$(rstat relay_ctl_malformed); dm=$(delta "$mal0" "$mal1")
e2e_log "probes: $cut of 4 cut off after their garbage, $bad wrong; relay_ctl_malformed +$dm"
[ $bad = 0 ] && [ $cut = 4 ] && ge "$dm" 4
e2e_result "client leg: garbage probes get the relay's SCCRP, framing errors cut off at once ($cut of 4, relay_ctl_malformed +$dm)" $?

# ---- inside control garbage on fresh connections (before any SCCRQ): the
# relay must close each one at once (within 3 s; its start timeout is 10 s).
raw_garbage() {
	# $1: what the bytes are; $2: how to make them.  Exit 124: still open.
	local rc
	host_exec 3 timeout 3 bash -c '
		exec 3<>/dev/tcp/'"$SRV_IP"'/1723 || exit 1
		'"$2"' >&3 2>/dev/null
		cat <&3 >/dev/null' >/dev/null 2>&1
	rc=$?
	e2e_log "raw garbage ($1): $([ $rc = 124 ] && echo 'still open after 3 s' || echo "closed (exit $rc)")"
	[ $rc != 124 ]
}
open=0
raw_garbage "HTTP request" 'printf "GET / HTTP/1.0\r\n\r\n"' || open=$((open + 1))
raw_garbage "3000 random bytes" 'head -c 3000 /dev/urandom' || open=$((open + 1))
raw_garbage "a lone header, Length 0" 'printf "\000\000\000\001\032\053\074\115\000\001\000\000"' || open=$((open + 1))
raw_garbage "a lone header, Length 65535" 'printf "\377\377\000\001\032\053\074\115\000\001\000\000"' || open=$((open + 1))
mal2=$(rstat relay_ctl_malformed); dm=$(delta "$mal1" "$mal2")
e2e_log "raw garbage: $open of 4 connections left open; relay_ctl_malformed +$dm"
[ $open = 0 ] && ge "$dm" 4
e2e_result "client leg: 4 garbage streams before SCCRQ closed at once and counted as malformed ($open left open, +$dm)" $?

# ---- server side control garbage: fake servers
host_exec 3 "$PPTPPROBE" --server "$FAKE1" --call-id 202 --timeout 5 --split 4096 \
	>"$E2E_RUN/hostile/fake1.out" 2>&1
r1=$?
host_exec 3 "$PPTPPROBE" --server "$FAKE2" --call-id 203 --timeout 5 --split 4096 \
	>"$E2E_RUN/hostile/fake2.out" 2>&1
r2=$?
sed 's/^/  /' "$E2E_RUN/hostile/fake1.out" "$E2E_RUN/hostile/fake2.out" >&2
mal3=$(rstat relay_ctl_malformed); fail1=$(rstat relay_upstream_failed)
dm=$(delta "$mal2" "$mal3"); df=$(delta "$fail0" "$fail1")
e2e_log "fake servers: probe exits $r1 $r2; relay_ctl_malformed +$dm, relay_upstream_failed +$df"
# Both must fail promptly (the relay tells the client), not by the probe's
# own timeout.
slow=$(cat "$E2E_RUN/hostile/fake1.out" "$E2E_RUN/hostile/fake2.out" | grep -c timeout)
[ $r1 = 1 ] && [ $r2 = 1 ] && [ "$slow" = 0 ] && ge "$dm" 2 &&
	ge "$df" 1
e2e_result "server leg: garbage SCCRP and malformed OCRP: the client is refused at once ($slow timed out), counted (malformed +$dm, upstream failed +$df)" $?

# Odd but valid framing: a client that sends its call request in the same
# write as its start request (the relay keeps it until the server has
# answered the start), and one that writes 3 bytes at a time.
rc=0
for mode in "--coalesce" "--split 3"; do
	# shellcheck disable=SC2086  # the mode is two words
	out=$(host_exec 3 "$PPTPPROBE" --server "$SRV_IP" --call-id 204 --timeout 5 $mode 2>&1)
	echo "  $out" >&2
	case $out in *result=ok*ocrp_peer_call_id=204*) ;; *) rc=1 ;; esac
done
e2e_result "odd framing through the relay: coalesced start and call request, 3-byte writes, both answered" $rc

expect "pptpgw survives the hostile input" gw_alive

# ---- the real tunnels
wait_clients $((E2E_TIMEOUT + 20)) >/dev/null
tunnels_result 2 "2 relayed tunnels intact through the hostile traffic ($E2E_FRAMES frames each way)"

rc=0
wait_until 15 relay_idle || rc=1
wait_until 5 gw_fds_are "$fd0" || rc=1
e2e_log "afterwards: status $(ctl --json status | jq -c .); fds $(gw_fds) (before: $fd0)"
[ $rc = 0 ] || { ctl calls >&2; ls -l "/proc/$PPTPGW_PID/fd" >&2; }
e2e_result "afterwards no call, no relay connection, pptpgw back to $fd0 fds" $rc
relay_counters | sed 's/^/  /' >&2
expect "pptpgw still running at the end" gw_alive
tail -n 30 "$E2E_RUN/logs/gw_cmd.log" >&2

e2e_finish
