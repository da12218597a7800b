# shellcheck shell=bash
# netlab.sh: the network lab of pptpgw's end-to-end tests, demo and
# benchmark (tests/e2e/t_*.sh, scripts/demo.sh, bench/bench.sh):
# network namespaces, real pptpd/pptp-linux, pppspeak standing in for pppd
# on both ends.  Source it, then lab/gw.sh for pptpgw on the gateway:
#
#   . "$top/lab/netlab.sh"
#   e2e_init "$1"            # build dir; sets traps, finds the tools
#   topo_up 2; start_pptpd; start_client 1; start_client 2
#   wait_clients 30 >/dev/null; echo "$E2E_CLIENTS_OK ok"; results_summary
#
# Topology (names unique per run, all removed by topo_down):
#
#   host i netns (198.18.0.(10+i)/24, eth0) --veth-- vh<i> -+
#                                                   br0 198.18.0.1/24
#                                     gateway netns  wan0 203.0.113.1/24
#                                                          |veth
#                                   server netns eth0 203.0.113.2/24 (pptpd)
#
# The gateway routes and MASQUERADEs out of $GW_WAN; no PPTP helper unless a
# test adds one.  Only documentation/benchmark address ranges are used.
# The tools (pppspeak, logsink, ...) are the ones CMake built in
# BUILD_DIR/tests; a missing one ends the script (exit 1) with the command
# that builds it.
# Tunables (environment): E2E_FRAMES (1000 data frames each way per tunnel),
# E2E_RATE (frames/s, 1000), E2E_TIMEOUT (s, 40), PPPSPEAK, LOGSINK (a tool
# other than the build's), E2E_KEEP=1 keeps the run directory, E2E_VERBOSE=1
# shows the logs on failure and more, E2E_TMPDIR (/tmp) where the run directory goes.

PATH=$PATH:/usr/sbin:/sbin
LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # the source tree
E2E_TAG="pg$$"
NS_GW="${E2E_TAG}-gw"
NS_SRV="${E2E_TAG}-srv"
GW_LAN=br0
GW_WAN=wan0
GW_LAN_IP=198.18.0.1
GW_WAN_IP=203.0.113.1
SRV_IP=203.0.113.2
SRV_IP_ROUTED=$SRV_IP   # topo_up_srvin changes SRV_IP, topo_down restores it
E2E_FRAMES=${E2E_FRAMES:-1000}
# Frames each side sends; a tunnel passes with >= E2E_FRAMES intact received.
E2E_SEND=${E2E_SEND:-}
E2E_RATE=${E2E_RATE:-1000}
E2E_TIMEOUT=${E2E_TIMEOUT:-40}
E2E_NHOSTS=0
E2E_RUN=""
E2E_PIDS=()        # background processes we started (killed at topo_down)
E2E_CLIENTS=()     # "host:call" of every client started
E2E_LOGSINK_PID=""
E2E_PASS=0
E2E_FAIL=0

e2e_log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*" >&2; }

host_ns() { printf '%s-h%s' "$E2E_TAG" "$1"; }
host_ip() { printf '198.18.0.%d' $((10 + $1)); }

gw_exec()   { ip netns exec "$NS_GW" "$@"; }
srv_exec()  { ip netns exec "$NS_SRV" "$@"; }
# host_exec gw ...: the gateway itself, as a host (a PPTP client on it).
host_exec() {
	local i=$1
	shift
	if [ "$i" = gw ]; then
		ip netns exec "$NS_GW" "$@"
	else
		ip netns exec "$(host_ns "$i")" "$@"
	fi
}

# e2e_init BUILD_DIR: check prerequisites, find the tools, make the run dir and
# install the cleanup trap.  Exits 77 (skip) when the machine cannot run it,
# 1 when a tool is not built.
e2e_init() {
	local build=${1:-.}
	local t
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: e2e tests need root"; exit 77
	fi
	for t in ip iptables pptpd pptp unshare nsenter ethtool; do
		if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
			echo "SKIP: $t not installed"; exit 77
		fi
	done
	lab_tool PPPSPEAK pppspeak "$build"
	lab_tool LOGSINK logsink "$build"
	E2E_RUN=$(mktemp -d "${E2E_TMPDIR:-/tmp}/pptpgw-e2e.XXXXXX")
	chmod 755 "$E2E_RUN"
	mkdir -p "$E2E_RUN/results" "$E2E_RUN/logs" "$E2E_RUN/clients"
	# Every way out goes through e2e_exit (SIGKILL alone cannot be caught).
	trap 'e2e_exit' EXIT
	trap 'e2e_log "interrupted"; exit 130' INT
	trap 'e2e_log "terminated"; exit 143' TERM
	trap 'exit 129' HUP
	trap 'trap "" PIPE; exit 141' PIPE
	PPTP_BIN=$(command -v pptp)
	e2e_write_nsrun
	"$LOGSINK" "$E2E_RUN/log.sock" "$E2E_RUN/logs/syslog.txt" 900 &
	E2E_LOGSINK_PID=$!
}

# lab_tool VAR NAME BUILD_DIR: VAR (e.g. PPPSPEAK) from the environment,
# else the test tool NAME that CMake built, BUILD_DIR/tests/NAME; an absolute
# path either way.  Exits 1, naming the tool and how to build it, when there
# is no such program.
lab_tool() {
	local var=$1 name=$2 build bin
	build=$(readlink -f "$3")
	bin=${!var:-$build/tests/$name}
	if [ ! -x "$bin" ] || [ -d "$bin" ]; then
		if [ -n "${!var:-}" ]; then
			echo "error: $var=$bin is not a program" >&2
		else
			echo "error: test tool $name missing: no $bin; build it with" \
				"$LAB_TOP/scripts/build.sh $build (or set $var=)" >&2
		fi
		exit 1
	fi
	printf -v "$var" '%s' "$(readlink -f "$bin")"
}

# nsrun.sh CMD...: run inside a fresh `unshare -m` (private propagation).
# Gives the mount namespace its own /dev whose entries link to the real ones,
# except /dev/log, which is always the test's syslog socket whatever the host
# has there (a live socket, journald's symlink, a stale socket or nothing),
# and a private tmpfs on /run (so pptp-linux's /var/run/pptp is per
# namespace).  The host's /dev and /run are not touched.
e2e_write_nsrun() {
	cat >"$E2E_RUN/nsrun.sh" <<EOF
#!/bin/sh
set -e
d=\$(mktemp -d "$E2E_RUN/dev.XXXXXX")
mount --rbind /dev "\$d"
mount -t tmpfs -o mode=755,size=1m e2edev /dev
for e in "\$d"/* "\$d"/.[!.]*; do
	[ -e "\$e" ] || [ -L "\$e" ] || continue
	case "\${e##*/}" in
	log) continue ;;  # the test's own, below
	random) [ -z "\${NSRUN_RANDOM:-}" ] || continue ;;
	esac
	ln -s "\$e" "/dev/\${e##*/}"
done
ln -s "$E2E_RUN/log.sock" /dev/log
# a file of fixed bytes as /dev/random: pptp-linux draws its Call ID there
[ -z "\${NSRUN_RANDOM:-}" ] || ln -s "\$NSRUN_RANDOM" /dev/random
mount -t tmpfs -o mode=755,size=4m e2erun /run
exec "\$@"
EOF
	chmod 755 "$E2E_RUN/nsrun.sh"
}

# topo_up NHOSTS: build the namespaces described above.  E2E_NAT=0: no
# MASQUERADE; the server routes 198.18.0.0/24 back through the gateway.
topo_up() {
	local n=${1:-1} i ns
	E2E_NHOSTS=$n
	ip netns add "$NS_GW"
	ip netns add "$NS_SRV"
	ip -n "$NS_GW" link set lo up
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_GW" link add "$GW_LAN" type bridge
	ip -n "$NS_GW" addr add "$GW_LAN_IP/24" dev "$GW_LAN"
	ip -n "$NS_GW" link set "$GW_LAN" up
	ip -n "$NS_GW" link add "$GW_WAN" type veth peer name eth0 netns "$NS_SRV"
	ip -n "$NS_GW" addr add "$GW_WAN_IP/24" dev "$GW_WAN"
	ip -n "$NS_GW" link set "$GW_WAN" up
	ip -n "$NS_SRV" addr add "$SRV_IP/24" dev eth0
	ip -n "$NS_SRV" link set eth0 up
	for i in $(seq 1 "$n"); do
		ns=$(host_ns "$i")
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$NS_GW" link add "vh$i" type veth peer name eth0 netns "$ns"
		ip -n "$NS_GW" link set "vh$i" master "$GW_LAN"
		ip -n "$NS_GW" link set "vh$i" up
		ip -n "$ns" addr add "$(host_ip "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "$GW_LAN_IP"
	done
	gw_exec sysctl -qw net.ipv4.ip_forward=1
	if [ "${E2E_NAT:-1}" = 1 ]; then
		gw_exec iptables -t nat -A POSTROUTING -o "$GW_WAN" -j MASQUERADE
	else
		# nothing in the way: the gateway only routes, the server routes back
		ip -n "$NS_SRV" route add 198.18.0.0/24 via "$GW_WAN_IP"
	fi
	# wait until every link reports carrier (veth is usually up at once)
	local k
	for k in $(seq 1 50); do
		e2e_links_up && break
		sleep 0.1
	done
	e2e_log "topology up: $n host(s)$([ "${E2E_NAT:-1}" = 1 ] || echo ", no NAT"), run dir $E2E_RUN"
}

# topo_up_srvin NOUT NBEHIND: the mirrored placement, a PPTP server behind
# the gateway with TCP 1723 port-forwarded to it (the same namespace names,
# so start_pptpd, start_client, host_exec and topo_down work unchanged):
#
#   server netns (NS_SRV) eth0 198.18.0.2/24 (pptpd) --veth-- br0 of the
#   gateway netns 198.18.0.1/24; gateway wan0 203.0.113.1/24 --veth--
#   "internet" netns (${E2E_TAG}-net, a plain bridge) with
#     hosts 1..NOUT: 203.0.113.(10+i)/24, each on its own address;
#     remote NAT netns (${E2E_TAG}-rnat) wan0 203.0.113.50/24, lan0
#       192.0.2.1/24, MASQUERADE out of wan0 and the kernel's PPTP helper
#       (a home router): hosts NOUT+1..NOUT+NBEHIND at 192.0.2.(10+j)/24
#       behind it, all seen outside as 203.0.113.50.
#
# The gateway DNATs TCP 1723 to its public address to the server and
# MASQUERADEs what leaves wan0; nothing else (no PPTP helper, no pptpgw
# unless the test adds one).  SRV_IP becomes the public address: what the
# clients dial.  E2E_RNAT_HELPER=0: the remote NAT has no PPTP helper.
NS_NET="${E2E_TAG}-net"
NS_RNAT="${E2E_TAG}-rnat"
SRVIN_IP=198.18.0.2
RNAT_IP=203.0.113.50
rnat_exec() { ip netns exec "$NS_RNAT" "$@"; }
topo_up_srvin() {
	local nout=${1:-1} nbehind=${2:-0} n i ns
	n=$((nout + nbehind))
	E2E_NHOSTS=$n
	SRV_IP=$GW_WAN_IP
	ip netns add "$NS_GW"
	ip netns add "$NS_SRV"
	ip netns add "$NS_NET"
	for ns in "$NS_GW" "$NS_SRV" "$NS_NET"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_NET" link add br0 type bridge
	ip -n "$NS_NET" link set br0 up
	ip -n "$NS_GW" link add "$GW_LAN" type bridge
	ip -n "$NS_GW" addr add "$GW_LAN_IP/24" dev "$GW_LAN"
	ip -n "$NS_GW" link set "$GW_LAN" up
	ip -n "$NS_GW" link add vsrv type veth peer name eth0 netns "$NS_SRV"
	ip -n "$NS_GW" link set vsrv master "$GW_LAN" up
	ip -n "$NS_SRV" addr add "$SRVIN_IP/24" dev eth0
	ip -n "$NS_SRV" link set eth0 up
	ip -n "$NS_SRV" route add default via "$GW_LAN_IP"
	ip -n "$NS_GW" link add "$GW_WAN" type veth peer name vgw netns "$NS_NET"
	ip -n "$NS_NET" link set vgw master br0 up
	ip -n "$NS_GW" addr add "$GW_WAN_IP/24" dev "$GW_WAN"
	ip -n "$NS_GW" link set "$GW_WAN" up
	for i in $(seq 1 "$nout"); do
		ns=$(host_ns "$i")
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$NS_NET" link add "vh$i" type veth peer name eth0 netns "$ns"
		ip -n "$NS_NET" link set "vh$i" master br0 up
		ip -n "$ns" addr add "203.0.113.$((10 + i))/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
	if [ "$nbehind" -gt 0 ]; then
		ip netns add "$NS_RNAT"
		ip -n "$NS_RNAT" link set lo up
		ip -n "$NS_RNAT" link add wan0 type veth peer name vrnat netns "$NS_NET"
		ip -n "$NS_NET" link set vrnat master br0 up
		ip -n "$NS_RNAT" addr add "$RNAT_IP/24" dev wan0
		ip -n "$NS_RNAT" link set wan0 up
		ip -n "$NS_RNAT" link add lan0 type bridge
		ip -n "$NS_RNAT" addr add 192.0.2.1/24 dev lan0
		ip -n "$NS_RNAT" link set lan0 up
		rnat_exec sysctl -qw net.ipv4.ip_forward=1
		rnat_exec iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
		if [ "${E2E_RNAT_HELPER:-1}" = 1 ]; then
			modprobe nf_nat_pptp 2>/dev/null || true
			rnat_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 \
				-j CT --helper pptp
		fi
		for i in $(seq $((nout + 1)) "$n"); do
			ns=$(host_ns "$i")
			ip netns add "$ns"
			ip -n "$ns" link set lo up
			ip -n "$NS_RNAT" link add "vh$i" type veth peer name eth0 netns "$ns"
			ip -n "$NS_RNAT" link set "vh$i" master lan0 up
			ip -n "$ns" addr add "192.0.2.$((10 + i))/24" dev eth0
			ip -n "$ns" link set eth0 up
			ip -n "$ns" route add default via 192.0.2.1
		done
	fi
	gw_exec sysctl -qw net.ipv4.ip_forward=1
	gw_exec iptables -t nat -A PREROUTING -i "$GW_WAN" -d "$GW_WAN_IP" -p tcp \
		--dport 1723 -j DNAT --to-destination "$SRVIN_IP"
	gw_exec iptables -t nat -A POSTROUTING -o "$GW_WAN" -j MASQUERADE
	local k
	for k in $(seq 1 50); do
		e2e_links_up && break
		sleep 0.1
	done
	e2e_log "topology up: server inside at $SRVIN_IP behind $GW_WAN_IP (TCP 1723 forwarded), $nout outside host(s), $nbehind behind the remote NAT $RNAT_IP, run dir $E2E_RUN"
}

# topo_up_multipub pool NHOSTS | wans NHOSTS: the gateway with several
# public addresses (issue 11, item 3); the same namespace names as topo_up,
# so start_pptpd, start_client, host_exec and topo_down work unchanged.
#   pool: topo_up's network, with MPUB_POOL (3 addresses, 203.0.113.5-7)
#         on wan0 as well and SNAT to that range in place of MASQUERADE
#         (E2E_SNAT_PERSISTENT=1 adds --persistent).  SRV_IP as topo_up's.
#   wans: two WAN links to one server, each on its own subnet:
#         gateway wan0 203.0.113.1/24 -- server eth0 203.0.113.2/24,
#         gateway wan1 192.0.2.1/24   -- server eth1 192.0.2.2/24;
#         the server's address is 198.19.0.2 (on its lo), reached by either
#         link: the gateway's main table goes by wan0; table 101 by wan1,
#         taken by host 3's source address (ip rule from) and by packets
#         marked 0x1, which host 4's get in mangle PREROUTING (ip rule
#         fwmark); MASQUERADE out of both.  MPUB_WANS: "wan0 wan1".
# MPUB_PUBS: every public address of the gateway, for the tests' checks.
MPUB_POOL_FIRST=203.0.113.5
MPUB_POOL_LAST=203.0.113.7
MPUB_WAN1_IP=192.0.2.1
MPUB_SRV_IP=198.19.0.2
MPUB_PUBS=""
MPUB_WANS=""
topo_up_multipub() {
	local mode=$1 n=${2:-1} a persist=""
	case $mode in
	pool)
		topo_up "$n"
		for a in 5 6 7; do
			ip -n "$NS_GW" addr add "203.0.113.$a/24" dev "$GW_WAN"
		done
		[ "${E2E_SNAT_PERSISTENT:-0}" = 1 ] && persist=--persistent
		gw_exec iptables -t nat -F POSTROUTING
		gw_exec iptables -t nat -A POSTROUTING -o "$GW_WAN" -j SNAT \
			--to-source "$MPUB_POOL_FIRST-$MPUB_POOL_LAST" $persist
		MPUB_PUBS="$GW_WAN_IP 203.0.113.5 203.0.113.6 203.0.113.7"
		MPUB_WANS=$GW_WAN
		e2e_log "SNAT pool $MPUB_POOL_FIRST-$MPUB_POOL_LAST${persist:+ ($persist)} on $GW_WAN"
		;;
	wans)
		topo_up "$n"
		ip -n "$NS_GW" link add wan1 type veth peer name eth1 netns "$NS_SRV"
		ip -n "$NS_GW" addr add "$MPUB_WAN1_IP/24" dev wan1
		ip -n "$NS_GW" link set wan1 up
		ip -n "$NS_SRV" addr add 192.0.2.2/24 dev eth1
		ip -n "$NS_SRV" link set eth1 up
		ip -n "$NS_SRV" addr add "$MPUB_SRV_IP/32" dev lo
		ip -n "$NS_GW" route add default via "$SRV_IP" dev "$GW_WAN"
		ip -n "$NS_GW" route add default via 192.0.2.2 dev wan1 table 101
		ip -n "$NS_GW" route add 198.18.0.0/24 dev "$GW_LAN" table 101
		ip -n "$NS_GW" rule add from "$(host_ip 3)" lookup 101 pref 1001
		ip -n "$NS_GW" rule add fwmark 0x1/0x1 lookup 101 pref 1002
		gw_exec iptables -t mangle -A PREROUTING -i "$GW_LAN" -s "$(host_ip 4)" \
			-j MARK --set-xmark 0x1/0x1
		# a reply arrives by the link its request left by, whatever
		# the main table says of the server
		for a in all default "$GW_WAN" wan1; do
			gw_exec sysctl -qw "net.ipv4.conf.$a.rp_filter=0"
		done
		gw_exec iptables -t nat -A POSTROUTING -o wan1 -j MASQUERADE
		SRV_IP=$MPUB_SRV_IP
		# shellcheck disable=SC2034  # read by the tests
		MPUB_PUBS="$GW_WAN_IP $MPUB_WAN1_IP"
		# shellcheck disable=SC2034
		MPUB_WANS="$GW_WAN wan1"
		local k
		for k in $(seq 1 50); do
			ip -n "$NS_GW" link show wan1 | grep -q 'state UP' && break
			sleep 0.1
		done
		e2e_log "two WAN links: $GW_WAN $GW_WAN_IP (main table), wan1 $MPUB_WAN1_IP (table 101: host 3 by source, host 4 by fwmark); server $SRV_IP by either"
		;;
	*)
		e2e_log "topo_up_multipub: unknown mode $mode"
		return 1
		;;
	esac
}

e2e_links_up() {
	local i
	ip -n "$NS_GW" link show "$GW_WAN" | grep -q 'state UP' || return 1
	ip -n "$NS_SRV" link show eth0 | grep -q 'state UP' || return 1
	for i in $(seq 1 "$E2E_NHOSTS"); do
		ip -n "$(host_ns "$i")" link show eth0 | grep -q 'state UP' || return 1
	done
}

# e2e_our_namespaces: every namespace of this run that still exists.
e2e_our_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${E2E_TAG}-" || true
}

# e2e_kill_ns_procs SIG: signal every process inside our namespaces.
e2e_kill_ns_procs() {
	local sig=$1 ns p
	for ns in $(e2e_our_namespaces); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "-$sig" "$p" 2>/dev/null || true
		done
	done
}

e2e_any_ns_procs() {
	local ns
	for ns in $(e2e_our_namespaces); do
		[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && return 0
	done
	return 1
}

# topo_down: kill what we started, then anything left in our namespaces, and
# delete the namespaces.  Idempotent: a test may call it between phases; the
# EXIT trap calls it again (through e2e_exit).
topo_down() {
	local p k ns alive
	for p in "${E2E_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	e2e_kill_ns_procs TERM
	for k in $(seq 1 30); do
		alive=0
		for p in "${E2E_PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		e2e_any_ns_procs && alive=1
		[ $alive = 0 ] && break
		sleep 0.1
	done
	# pptpgw's own exit (its rules removed, a sanitizer's leak check) is
	# not cut short: it gets 10 s, as from stop_gw_cmd.
	gw_cmd_wait_exit "$GW_CMD_PID" 70
	for p in "${E2E_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# pptpctrl ignores SIGTERM; pptp's call manager is detached: KILL the rest
	e2e_kill_ns_procs KILL
	for p in "${E2E_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	E2E_PIDS=()
	GW_CMD_PID=""
	for k in $(seq 1 30); do
		e2e_any_ns_procs || break
		sleep 0.1
	done
	for ns in $(e2e_our_namespaces); do
		ip netns del "$ns" 2>/dev/null || e2e_log "could not delete netns $ns"
	done
	E2E_NHOSTS=0
	SRV_IP=$SRV_IP_ROUTED
}

# e2e_exit: the EXIT trap: topo_down, stop the log sink, remove the run dir.
e2e_exit() {
	local rc=$?
	trap - EXIT INT TERM HUP
	trap '' PIPE  # stdout may be a closed pipe: never die half-way through
	topo_down
	if [ -n "$E2E_RUN" ] && ! e2e_sanitizer_check && { [ $rc = 0 ] || [ $rc = 77 ]; }; then
		rc=1
	fi
	if [ -n "$E2E_LOGSINK_PID" ]; then
		kill -TERM "$E2E_LOGSINK_PID" 2>/dev/null || true
		wait "$E2E_LOGSINK_PID" 2>/dev/null || true
		E2E_LOGSINK_PID=""
	fi
	if [ -n "$E2E_RUN" ] && [ -d "$E2E_RUN" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			e2e_log "kept run dir $E2E_RUN"
		else
			rm -rf "$E2E_RUN"
		fi
	fi
	E2E_RUN=""
	exit $rc
}

# start_gw_cmd CMD...: run a command (e.g. pptpgw) in the gateway netns in
# the background; killed (TERM, KILL after 10 s) by topo_down / stop_gw_cmd.
GW_CMD_PID=""
start_gw_cmd() {
	# Not through gw_exec: a function in the background is a subshell, and
	# its pid is not the command's.  ip netns exec execs the command itself.
	ip netns exec "$NS_GW" "$@" >>"$E2E_RUN/logs/gw_cmd.log" 2>&1 &
	GW_CMD_PID=$!
	E2E_PIDS+=("$GW_CMD_PID")
	e2e_log "gateway command started (pid $GW_CMD_PID): $*"
}

stop_gw_cmd() {
	local p=${1:-$GW_CMD_PID}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	# A daemon removing its netfilter rules may take a moment on a busy host.
	gw_cmd_wait_exit "$p" 100
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null
}

# gw_cmd_wait_exit PID TENTHS: wait up to TENTHS/10 s for a gateway command
# told to stop; one still running then is about to be killed, which is noted
# (E2E_GW_KILLED=1): under a sanitizer its exit checks never run.
E2E_GW_KILLED=0
gw_cmd_wait_exit() {
	local p=$1 k
	[ -n "$p" ] || return 0
	for k in $(seq 1 "$2"); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -0 "$p" 2>/dev/null || return 0
	e2e_log "gateway command $p still running $(($2 / 10)) s after SIGTERM: killed"
	E2E_GW_KILLED=1
}

# e2e_sanitizer_check: what the gateway commands (pptpgw) wrote holds no
# report of AddressSanitizer, LeakSanitizer or UBSan.  Checked at exit, after
# every process is gone, so a report is not lost however pptpgw ended: a
# leak is reported only as it exits, after the test's own checks, when it
# was stopped by the test's signal.  With E2E_SANITIZED=1 (pptpgw built with
# the sanitizers) a pptpgw that had to be killed fails too: its leak check
# never ran.  Returns 1, having said why, or 0.
e2e_sanitizer_check() {
	local log="$E2E_RUN/logs/gw_cmd.log"
	local pat='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'
	if [ -s "$log" ] && grep -qE "$pat" "$log"; then
		echo "FAIL: sanitizer report in pptpgw's output:"
		grep -m1 -B2 -A60 -E "$pat" "$log"
		return 1
	fi
	if [ "${E2E_SANITIZED:-0}" = 1 ] && [ ! -e "$log" ]; then
		echo "FAIL: pptpgw's output ($log) is gone: nothing to check"
		return 1
	fi
	if [ "${E2E_SANITIZED:-0}" = 1 ] && [ "$E2E_GW_KILLED" = 1 ]; then
		echo "FAIL: pptpgw killed after SIGTERM: its leak check did not run"
		return 1
	fi
	return 0
}

# start_pptpd: real pptpd in the foreground in the server netns, in its own
# mount namespace (private /dev/log), with pppspeak in pppd's place.
start_pptpd() {
	local d="$E2E_RUN/pptpd"
	mkdir -p "$d"
	: >"$d/options"
	cat >"$d/ppp-wrapper.sh" <<EOF
#!/bin/sh
# pptpctrl runs this in pppd's place, the pty on stdin/stdout.
fd0=\$(readlink /proc/\$\$/fd/0) fd1=\$(readlink /proc/\$\$/fd/1) fd2=\$(readlink /proc/\$\$/fd/2)
echo "argv: \$* | stdin=\$fd0 stdout=\$fd1 stderr=\$fd2" >>"$E2E_RUN/logs/ppp-invocations.log"
exec "$PPPSPEAK" --id server --count "${E2E_SEND:-$E2E_FRAMES}" --expect "$E2E_FRAMES" --rate "$E2E_RATE" \\
	--timeout "$((E2E_TIMEOUT + 10))" --report "$E2E_RUN/results/server.report" \\
	${E2E_VERBOSE:+--verbose} 2>>"$E2E_RUN/logs/server-pppspeak.log"
EOF
	chmod 755 "$d/ppp-wrapper.sh"
	cat >"$d/pptpd.conf" <<EOF
ppp $d/ppp-wrapper.sh
option $d/options
localip 198.51.100.1
remoteip 198.51.100.100-199
connections 100
EOF
	srv_exec unshare -m "$E2E_RUN/nsrun.sh" /usr/sbin/pptpd -f ${E2E_VERBOSE:+-d} \
		-c "$d/pptpd.conf" -p "$d/pptpd.pid" >>"$E2E_RUN/logs/pptpd.log" 2>&1 &
	PPTPD_PID=$!
	E2E_PIDS+=("$PPTPD_PID")
	local k
	for k in $(seq 1 50); do
		srv_exec ss -ltnH 2>/dev/null | grep -q ':1723 ' && break
		sleep 0.1
	done
	e2e_log "pptpd started (pid $PPTPD_PID)"
}

# start_client I [NCALLS]: NCALLS pptp-linux calls from host I (default 1;
# I = gw: from the gateway itself, a client on the NAT host),
# each wrapped by pppspeak --exec, all in one private mount namespace (own
# /var/run/pptp, so this host has its own control connection; the calls of
# one host share it).  Results: $E2E_RUN/clients/h<I>c<K>.rc
# E2E_CALL_ID=N (env) forces this host's pptp Call ID to N (1..65535), e.g.
# to make two hosts collide behind the NAT.  pptpd carries only one call per
# control connection, so NCALLS > 1 only shows how a server copes with it.
start_client() {
	local i=$1 n=${2:-1} k ids=""
	for k in $(seq 1 "$n"); do
		ids="$ids h${i}c${k}"
		E2E_CLIENTS+=("h${i}c${k}")
	done
	cat >"$E2E_RUN/clients/h$i.sh" <<EOF
#!/bin/sh
# runs inside host $i's netns and private mount namespace
pids=""
for id in $ids; do
	"$PPPSPEAK" --id "\$id" --count "${E2E_SEND:-$E2E_FRAMES}" --expect "$E2E_FRAMES" --rate "$E2E_RATE" \\
		--timeout "$E2E_TIMEOUT" --report "$E2E_RUN/results/clients.report" \\
		${E2E_VERBOSE:+--verbose} \\
		--exec "$PPTP_BIN" "$SRV_IP" --nolaunchpppd --nohostroute --logstring "\$id" \\
		2>>"$E2E_RUN/logs/client-\$id.log" &
	echo \$! >"$E2E_RUN/clients/\$id.pid"
	pids="\$pids \$!:\$id"
	sleep 0.3  # let the first call start pptp's call manager
done
for pi in \$pids; do
	wait "\${pi%%:*}"
	echo \$? >"$E2E_RUN/clients/\${pi#*:}.rc"
done
EOF
	chmod 755 "$E2E_RUN/clients/h$i.sh"
	local rnd=""
	if [ -n "${E2E_CALL_ID:-}" ]; then
		# pptp-linux 1.10 takes its Call ID from 2 bytes of /dev/random,
		# little-endian: hand it a file of fixed bytes instead.
		rnd="$E2E_RUN/clients/h$i.random"
		local fmt
		fmt="\\$(printf %03o $((E2E_CALL_ID & 255)))"
		fmt="$fmt\\$(printf %03o $(((E2E_CALL_ID >> 8) & 255)))%.0s"
		# shellcheck disable=SC2059
		printf "$fmt" $(seq 1 256) >"$rnd"
	fi
	host_exec "$i" env NSRUN_RANDOM="$rnd" unshare -m "$E2E_RUN/nsrun.sh" \
		/bin/sh "$E2E_RUN/clients/h$i.sh" >>"$E2E_RUN/logs/host$i.log" 2>&1 &
	E2E_PIDS+=("$!")
	e2e_log "host $i: started $n call(s):$ids"
}

# wait_clients TIMEOUT: wait until every client finished (or TIMEOUT s).
# Prints how many succeeded, sets E2E_CLIENTS_OK to it and returns it as the
# status (capped at 255).  Prefer `wait_clients 30 >/dev/null` then
# $E2E_CLIENTS_OK over ok=$(wait_clients 30): in $(...) a signal to the test
# is only handled once the wait is over.
E2E_CLIENTS_OK=0
wait_clients() {
	local timeout=${1:-$E2E_TIMEOUT} end id ok finished
	end=$(($(date +%s) + timeout))
	while :; do
		finished=0
		for id in "${E2E_CLIENTS[@]}"; do
			[ -f "$E2E_RUN/clients/$id.rc" ] && finished=$((finished + 1))
		done
		[ "$finished" -ge "${#E2E_CLIENTS[@]}" ] && break
		[ "$(date +%s)" -ge "$end" ] && break
		sleep 0.2
	done
	ok=0
	for id in "${E2E_CLIENTS[@]}"; do
		[ "$(cat "$E2E_RUN/clients/$id.rc" 2>/dev/null)" = 0 ] && ok=$((ok + 1))
	done
	# shellcheck disable=SC2034  # read by the tests
	E2E_CLIENTS_OK=$ok
	echo "$ok"
	return $((ok > 255 ? 255 : ok))
}

# e2e_field LINE KEY: the value of KEY=... in a report line
e2e_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

# results_summary [FRAMES]: print every report line; check each client got
# >= FRAMES intact from the server, the server side got >= FRAMES intact from
# each client, nothing bad or crossed.  Returns 0 when all tunnels are good.
results_summary() {
	local n=${1:-$E2E_FRAMES} id line bad=0 v
	local cr="$E2E_RUN/results/clients.report" sr="$E2E_RUN/results/server.report"
	cat "$cr" "$sr" 2>/dev/null | sed 's/^/  /' >&2
	for id in "${E2E_CLIENTS[@]}"; do
		line=$(grep -E "^pppspeak id=$id " "$cr" 2>/dev/null | tail -n1)
		if [ -z "$line" ]; then
			e2e_log "$id: no client report"; bad=$((bad + 1)); continue
		fi
		v=$(e2e_field "$line" intact)
		if [ "$v" -lt "$n" ] || [ "$(e2e_field "$line" peer)" != server ] ||
		   [ "$(e2e_field "$line" bad)" != 0 ] || [ "$(e2e_field "$line" dup)" != 0 ]; then
			e2e_log "$id: client side failed: $line"; bad=$((bad + 1)); continue
		fi
		line=$(grep -E "^pppspeak id=server peer=$id " "$sr" 2>/dev/null | tail -n1)
		if [ -z "$line" ]; then
			e2e_log "$id: no server report for this tunnel"; bad=$((bad + 1)); continue
		fi
		v=$(e2e_field "$line" intact)
		if [ "$v" -lt "$n" ] || [ "$(e2e_field "$line" bad)" != 0 ] ||
		   [ "$(e2e_field "$line" dup)" != 0 ]; then
			e2e_log "$id: server side failed: $line"; bad=$((bad + 1)); continue
		fi
	done
	e2e_log "tunnels: $((${#E2E_CLIENTS[@]} - bad)) good, $bad bad"
	return $((bad > 0))
}

# tunnels_result N LABEL: after wait_clients, record one result: all N
# clients succeeded and results_summary found every tunnel good (logs are
# dumped when not).
tunnels_result() {
	local n=$1 rc
	results_summary
	rc=$?
	[ "$E2E_CLIENTS_OK" = "$n" ] || rc=1
	e2e_log "$E2E_CLIENTS_OK of $n clients succeeded"
	[ $rc = 0 ] || e2e_dump_logs
	e2e_result "$2" $rc
	return $rc
}

# e2e_prove_peers N [SETUP...]: the control run of a test that expects
# tunnels to fail, made first in the same run: the same N hosts (one call
# each; E2E_CALL_ID applies) and pptpd with nothing in the way (the gateway
# only routes: no NAT, no pptpgw, no helper), after SETUP (a command such as
# `mss_clamp 64`) on the fresh topology.  Every tunnel must be intact.  If
# not, the peers or the machine are broken and an expected failure would
# prove nothing: the test ends here, failed.
e2e_prove_peers() {
	local n=$1 i rc
	shift
	E2E_NAT=0 topo_up "$n"
	[ $# = 0 ] || "$@"
	start_pptpd
	for i in $(seq 1 "$n"); do
		start_client "$i"
	done
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$n" "control: with no NAT in the way, the same $n client(s) and pptpd work"
	rc=$?
	topo_down
	reset_run
	if [ $rc != 0 ]; then
		e2e_log "the peers fail with nothing in the way: this machine cannot run the test"
		e2e_finish
		exit 1
	fi
}

# mss_clamp MSS: clamp TCP MSS on the gateway and turn offloads off on the
# hosts' and the server's interfaces, so PPTP control messages really get
# split across segments.
mss_clamp() {
	local mss=${1:-64} i
	gw_exec iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN \
		-j TCPMSS --set-mss "$mss"
	for i in $(seq 1 "$E2E_NHOSTS"); do
		host_exec "$i" ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
	done
	srv_exec ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
	e2e_log "MSS clamped to $mss, offloads off"
}

# reset_run: forget the clients and results of a previous phase (same topology
# or a new one), keeping the tools and the log sink.
reset_run() {
	E2E_CLIENTS=()
	rm -f "$E2E_RUN"/results/* "$E2E_RUN"/clients/*
}

# e2e_result NAME STATUS: count one sub-test; e2e_finish prints the final line.
e2e_result() {
	if [ "$2" = 0 ]; then
		E2E_PASS=$((E2E_PASS + 1)); echo "PASS: $1"
	else
		E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL: $1"
	fi
}

# expect WHAT CMD...: run CMD (one command: a test, a function, a program)
# and record its status as the sub-test WHAT; returns that status.
# `expect "pptpgw still running" gw_alive` is
# `gw_alive; e2e_result "pptpgw still running" $?`.
expect() {
	local what=$1 rc
	shift
	"$@"
	rc=$?
	e2e_result "$what" $rc
	return $rc
}

e2e_dump_logs() {
	local f
	for f in "$E2E_RUN"/logs/*; do
		[ -s "$f" ] || continue
		echo "---- ${f##*/} (last 40 lines)"
		tail -n 40 "$f"
	done >&2
}

e2e_finish() {
	echo "$E2E_PASS passed, $E2E_FAIL failed"
	[ "$E2E_FAIL" = 0 ]
}

# tunnel_intact ID [FRAMES]: the one tunnel ID passed the checks of
# results_summary (>= FRAMES intact each way, nothing bad, duplicated or
# crossed), without printing anything.  Used where only some tunnels are
# expected to work.
tunnel_intact() {
	local id=$1 n=${2:-$E2E_FRAMES} line
	local cr="$E2E_RUN/results/clients.report" sr="$E2E_RUN/results/server.report"
	line=$(grep -E "^pppspeak id=$id " "$cr" 2>/dev/null | tail -n1)
	[ -n "$line" ] || return 1
	[ "$(e2e_field "$line" intact)" -ge "$n" ] && [ "$(e2e_field "$line" peer)" = server ] &&
		[ "$(e2e_field "$line" bad)" = 0 ] && [ "$(e2e_field "$line" dup)" = 0 ] || return 1
	line=$(grep -E "^pppspeak id=server peer=$id " "$sr" 2>/dev/null | tail -n1)
	[ -n "$line" ] || return 1
	[ "$(e2e_field "$line" intact)" -ge "$n" ] && [ "$(e2e_field "$line" bad)" = 0 ] &&
		[ "$(e2e_field "$line" dup)" = 0 ]
}

# report_lines: every pppspeak report line of this phase, both ends.
report_lines() {
	cat "$E2E_RUN/results/clients.report" "$E2E_RUN/results/server.report" 2>/dev/null
}
