#!/bin/bash
# pptpgw's tc-BPF programs on crafted packets (tests/tools/tcprog.c), run
# by the kernel with BPF_PROG_TEST_RUN in a namespace of this test's own:
# a WAN veth (192.0.2.1/24, the server 203.0.113.5 routed via 192.0.2.254)
# and a LAN veth (198.18.0.1/24, hosts .11 and .13 permanent neighbours,
# .12 none).
# A matching call's GRE is translated and redirected with the next hop's
# MAC, TTL and checksum right, and counted; everything unusual (spoofed,
# fragments, options, TTL 1, other GRE, cut or lying lengths, no
# neighbour, another record version, a route back inside, a record
# naming another WAN than the route's, too big for the MTU) is left to
# the stack byte for byte.  On a bridge port (port0,
# standing for a port of a bridge whose routes are lan0's) only frames to
# the bridge's MAC are taken.
set -u
build=$(cd "${1:-build}" && pwd)
tool=$build/tests/tcprog
obj=$build/tcfast.bpf.o
if [ ! -x "$tool" ] || [ ! -f "$obj" ]; then
	echo "SKIP: built without the tc-BPF data plane" >&2
	exit 77
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
ns=pptpgw-tcprog-$$
cleanup() { ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" || exit 1
in_ns() { ip netns exec "$ns" "$@"; }
set -e
in_ns ip link set lo up
in_ns ip link add wan0 type veth peer name wan1
in_ns ip link add lan0 type veth peer name lan1
in_ns ip link add port0 type veth peer name port1
for d in wan0 wan1 lan0 lan1 port0 port1; do in_ns ip link set "$d" up; done
in_ns ip addr add 192.0.2.1/24 dev wan0
in_ns ip addr add 198.18.0.1/24 dev lan0
in_ns ip route add 203.0.113.0/24 via 192.0.2.254
in_ns ip neigh add 192.0.2.254 lladdr 02:00:00:00:00:fe nud permanent dev wan0
in_ns ip neigh add 198.18.0.11 lladdr 02:00:00:00:00:11 nud permanent dev lan0
in_ns ip neigh add 198.18.0.13 lladdr 02:00:00:00:00:13 nud permanent dev lan0
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns ip link set wan0 mtu 1500
set +e
in_ns "$tool" "$obj" wan0 lan0 port0
