#!/bin/bash
# The benchmark's GRE tools agree with each other (bench/grebench.c): over a
# veth pair between two namespaces of this test,
#  (a) a paced send of 10000 packets (1400-byte payloads) arrives as 10000
#      intact packets: none bad, duplicated, out of order or dropped by the
#      receiver's ring, with the Call ID sent, and a latency measured;
#  (b) an unlimited send (64 bytes) arrives with nothing bad or duplicated
#      and no more than was sent;
#  (c) packets of another run are not counted (the receiver can say 0);
#  (d) learn reports the Call IDs and last sequence number of a stream each
#      way, and cpu prints its three numbers.
# Quick (a few seconds); not a benchmark: no figure is checked beyond counts.
# Usage: t_grebench.sh BUILD_DIR
set -u
PATH=$PATH:/usr/sbin:/sbin
BUILD=$(readlink -f "${1:-build}")
GB=${GREBENCH:-$BUILD/tests/grebench}
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
for t in ip iptables; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$GB" ] || { echo "error: $GB not built (scripts/build.sh $BUILD)" >&2; exit 1; }

TAG="gbs$$"
A="$TAG-a" B="$TAG-b"
RUN=$(mktemp -d /tmp/grebench-t.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$RUN"
}
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add a0 type veth peer name b0 netns "$B"
ip -n "$A" addr add 198.19.255.1/30 dev a0
ip -n "$B" addr add 198.19.255.2/30 dev b0
ip -n "$A" link set a0 up
ip -n "$B" link set b0 up
ip -n "$A" link set lo up
ip -n "$B" link set lo up
# The receiver taps the device; the stack behind it need not see the load.
ip netns exec "$B" iptables -t raw -A PREROUTING -p gre -j DROP
ip netns exec "$A" iptables -t raw -A PREROUTING -p gre -j DROP
for _ in $(seq 1 50); do
	ip -n "$A" link show a0 | grep -q 'state UP' && break
	sleep 0.1
done

PASS=0 FAIL=0
result() {
	if [ "$2" = 0 ]; then PASS=$((PASS + 1)); echo "PASS: $1"
	else FAIL=$((FAIL + 1)); echo "FAIL: $1"; fi
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# recv_start RUN ARGS...: receiver in B on b0, returns once its ring is open.
recv_start() {
	local run=$1
	shift
	rm -f "$RUN/ready"
	ip netns exec "$B" "$GB" recv --iface b0 --seconds 20 --idle 0.5 --run "$run" \
		--ready "$RUN/ready" "$@" >"$RUN/recv.out" &
	RPID=$!
	PIDS+=("$RPID")
	for _ in $(seq 1 50); do
		[ -e "$RUN/ready" ] && return 0
		sleep 0.05
	done
	return 1
}
# recv_wait: wait for it (not in $(...): a subshell cannot wait for it); its
# line is then in $r.
recv_wait() { wait "$RPID"; r=$(cat "$RUN/recv.out"); }

# (a) paced
recv_start 11 --call-id 4242
s=$(ip netns exec "$A" "$GB" send --dst 198.19.255.2 --call-id 4242 --seq 100 \
	--size 1400 --rate 20000 --seconds 0.5 --run 11)
recv_wait
echo "  $s"; echo "  $r"
sent=$(field "$s" sent)
[ "$sent" = 10000 ] && [ "$(field "$r" intact)" = 10000 ] &&
	[ "$(field "$r" ours)" = 10000 ] && [ "$(field "$r" bad)" = 0 ] &&
	[ "$(field "$r" dup)" = 0 ] && [ "$(field "$r" ooo)" = 0 ] &&
	[ "$(field "$r" ring_drops)" = 0 ] && [ "$(field "$r" wrong_call)" = 0 ] &&
	[ "$(field "$r" call)" = 4242 ] && [ "$(field "$s" next_seq)" = 10100 ] &&
	[ "$(field "$r" lat_max_us)" -gt 0 ]
result "paced: 10000 sent, 10000 intact received, latency measured" $?

# (b) unlimited
recv_start 12
s=$(ip netns exec "$A" "$GB" send --dst 198.19.255.2 --call-id 7 --size 64 --seconds 0.3 --run 12)
recv_wait
echo "  $s"; echo "  $r"
got=$(field "$r" intact)
[ "$(field "$s" sent)" -gt 0 ] && [ "$got" -gt 0 ] && [ "$got" -le "$(field "$s" sent)" ] &&
	[ "$(field "$r" bad)" = 0 ] && [ "$(field "$r" dup)" = 0 ] &&
	[ "$((got + $(field "$r" ring_drops)))" -le "$(field "$s" sent)" ]
result "unlimited: something arrived, nothing bad or duplicated, no more than sent" $?

# (c) another run's packets are not ours
recv_start 13
ip netns exec "$A" "$GB" send --dst 198.19.255.2 --call-id 7 --rate 10000 --seconds 0.2 --run 99 >/dev/null
recv_wait
echo "  $r"
[ "$(field "$r" ours)" = 0 ] && [ "$(field "$r" other)" -gt 0 ]
result "packets of another run are not counted" $?

# (d) learn: a stream each way on a0, seen from A
rm -f "$RUN/lready"
ip netns exec "$A" "$GB" learn --iface a0 --min 20 --tail 0.3 --timeout 10 \
	--ready "$RUN/lready" >"$RUN/learn.out" &
LPID=$!
PIDS+=("$LPID")
sleep 0.2
ip netns exec "$A" "$GB" send --dst 198.19.255.2 --call-id 501 --seq 1000 --rate 1000 --seconds 0.1 >/dev/null &
ip netns exec "$B" "$GB" send --dst 198.19.255.1 --call-id 502 --seq 7 --rate 1000 --seconds 0.1 >/dev/null
wait $!
wait "$LPID"
l=$(cat "$RUN/learn.out")
echo "  $l"
[ "$(field "$l" out_call)" = 501 ] && [ "$(field "$l" out_seq)" = 1099 ] &&
	[ "$(field "$l" in_call)" = 502 ] && [ "$(field "$l" out_dst)" = 198.19.255.2 ] &&
	[ "$(field "$l" in_src)" = 198.19.255.2 ]
result "learn: Call IDs and the last sequence number each way" $?
# cpu: a spinning child of this script is ours; time ours goes up by
# about its time (at least 10 of its ~50 ticks on a busy machine).
c0=$("$GB" cpu --tree $$ --ns "/run/netns/$A")
timeout 0.5 sh -c 'while :; do :; done'
c1=$("$GB" cpu --tree $$ --ns "/run/netns/$A")
echo "  cpu: $c0 / $c1"
[[ $c0 =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] && [[ $c1 =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] &&
	[ $((${c1##* } - ${c0##* })) -ge 10 ]
result "cpu: time, busy ticks, our processes' ticks (a spinning child's among them)" $?

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
