#!/bin/bash
# A gateway with several public addresses (issue 11, item 3): every inside
# host forced to the same Call ID, so each call needs an alias, unique per
# (public address, server); each call's GRE must leave from the address NAT
# gave its control connection, and by the interface that connection left by.
#  pool  one WAN, an SNAT pool of 3 addresses (topo_up_multipub pool):
#        NPOOL hosts (5) to one pptpd.
#  persistent  the same with SNAT --persistent, with the tc-BPF engine
#        only (PERSISTENT_ENGINES for more), no control of its own.
#  wans  two WAN links on two subnets to one server address reached by
#        either (topo_up_multipub wans): hosts 1-2 by the main table (wan0),
#        host 3 by an ip rule on its source, host 4 by an ip rule on a
#        fwmark set in mangle PREROUTING, both to wan1; MASQUERADE on both.
# Each (SCENARIOS picks) starts with a control, the kernel PPTP helper on the
# gateway in pptpgw's place: every tunnel intact, or the test stops (the
# peers or the machine are broken).  Then pptpgw once per data plane
# (ENGINES: tc = tc-BPF, nft = nftables maps, queue = NFQUEUE alone):
#  - every tunnel intact, every call up at once;
#  - pptpgw's calls on more than one public address, each call on the one
#    conntrack gave its host's control connection, (public, alias) unique;
#  - at the server, per (interface, source address): GRE only from pairs
#    its TCP 1723 also came from, and no GRE from any other source; per
#    call, the GRE to the server's Call ID came from that call's public
#    address only (grequeue watching the server's input).
# Usage: t_multi_pub.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_grequeue
SAME_ID=4660
NPOOL=${NPOOL:-5}
NWANS=4
# pptpd's per-call GRE sockets each read every call's GRE from one public
# address (see t_multi_host): send more than must arrive intact.
E2E_SEND=${E2E_SEND:-1500}
WATCHQ=4998

nhosts() { if [ "$1" = wans ]; then echo "$NWANS"; else echo "$NPOOL"; fi; }
# the topology of a scenario: persistent is the pool with SNAT --persistent
topo_of() { if [ "$1" = wans ]; then echo wans; else echo pool; fi; }

start_all() {
	local i
	start_pptpd
	for i in $(seq 1 "$1"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
}

# ---- what the server receives ------------------------------------------
# srv_ifs: the server's links toward the gateway.
srv_ifs() { if [ "$MPUB_WANS" = "$GW_WAN" ]; then echo eth0; else echo eth0 eth1; fi; }

# server_watch: counting rules in the server's INPUT, one per (interface,
# public address) for GRE and for TCP 1723, one for all GRE; then grequeue
# (watching only) on every GRE packet, for its (source, Call ID) flows.
server_watch() {
	local ifc a
	for ifc in $(srv_ifs); do
		for a in $MPUB_PUBS; do
			srv_exec iptables -A INPUT -i "$ifc" -s "$a" -p gre \
				-m comment --comment "gre $ifc $a"
			srv_exec iptables -A INPUT -i "$ifc" -s "$a" -p tcp --dport 1723 \
				-m comment --comment "tcp $ifc $a"
		done
	done
	srv_exec iptables -A INPUT -p gre -m comment --comment "gre all"
	rm -f "$E2E_RUN/srv-watch.report"   # grequeue appends: this phase's only
	start_grequeue srv "$WATCHQ" "$E2E_RUN/srv-watch.report" || return 1
	srv_exec iptables -A INPUT -p gre -j NFQUEUE --queue-num "$WATCHQ" --queue-bypass
}

server_unwatch() {
	srv_exec iptables -D INPUT -p gre -j NFQUEUE --queue-num "$WATCHQ" --queue-bypass 2>/dev/null
	stop_grequeue srv "$WATCHQ"
}

# server_counts: "KIND IF SRC PACKETS" for every counting rule
server_counts() {
	srv_exec iptables -nvxL INPUT 2>/dev/null |
		sed -n 's/^ *\([0-9][0-9]*\) .*\/\* \(.*\) \*\/.*/\2 \1/p'
}

# server_addr_check: GRE only from (interface, source) pairs that TCP 1723
# came from too, and all GRE from one of them.
server_addr_check() {
	local c="$E2E_RUN/srv.counts" rc=0 total sum
	server_counts >"$c"
	sed 's/^/  server input: /' "$c" >&2
	total=$(awk '$1 == "gre" && $2 == "all" {print $3}' "$c")
	sum=$(awk '$1 == "gre" && $2 != "all" {n += $4} END {print n + 0}' "$c")
	if [ "${total:-0}" != "$sum" ] || [ "$sum" = 0 ]; then
		e2e_log "GRE at the server: $total in all, $sum from the gateway's addresses by their links"
		rc=1
	fi
	if awk '$1 == "tcp" {t[$2 " " $3] = $4} $1 == "gre" && $2 != "all" {g[$2 " " $3] = $4}
		END {for (k in g) if (g[k] > 0 && !(t[k] > 0)) {print "GRE without its control connection: " k " " g[k]; bad = 1}; exit bad}' "$c" >&2; then
		:
	else
		rc=1
	fi
	return $rc
}

# ---- what pptpgw says --------------------------------------------------
# sample: until N calls are up at once (or 40 s), every established call
# as "inside inside_call_id alias server_call_id public" in calls.uniq.
sample() {
	local n=$1 end j up
	SAMPLED_MAX_UP=0
	: >"$E2E_RUN/calls.seen"
	end=$(($(date +%s) + 40))
	while [ "$(date +%s)" -lt "$end" ]; do
		j=$(ctl --json calls) || break
		printf '%s\n' "$j" | jq -r '.[] | select(.state == "established") |
			"\(.inside) \(.inside_call_id) \(.alias) \(.server_call_id) \(.public)"' \
			>>"$E2E_RUN/calls.seen"
		up=$(printf '%s\n' "$j" | jq '[.[] | select(.state == "established")] | length')
		[ "$up" -gt "$SAMPLED_MAX_UP" ] && SAMPLED_MAX_UP=$up
		[ "$SAMPLED_MAX_UP" -ge "$n" ] && ctl calls >&2 && break
		sleep 0.3
	done
	sort -u "$E2E_RUN/calls.seen" >"$E2E_RUN/calls.uniq"
}

# ct_pubs: "inside public" of every TCP 1723 connection conntrack holds on
# the gateway (the address NAT gave it).
ct_pubs() {
	gw_exec conntrack -L -p tcp --dport 1723 2>/dev/null |
		sed -n 's/.*src=\([0-9.]*\) dst=[0-9.]* sport=[0-9]* dport=1723 .*src=[0-9.]* dst=\([0-9.]*\) sport=1723 .*/\1 \2/p' |
		sort -u
}

# calls_check N: N calls up at once; each host once, with the forced ID;
# more than one public address in use; each call's public address the one
# conntrack shows for its host; (public, alias) unique.
calls_check() {
	local n=$1 hosts pubs pairs rc=0 ids
	hosts=$(awk '{print $1}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
	ids=$(awk '{print $2}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
	pubs=$(awk '{print $5}' "$E2E_RUN/calls.uniq" | sort -u | tr '\n' ' ')
	pairs=$(awk '{print $5 "/" $3}' "$E2E_RUN/calls.uniq" | sort -u | wc -l)
	e2e_log "calls seen: $(wc -l <"$E2E_RUN/calls.uniq"), hosts $hosts, inside IDs $ids, public: $pubs, (public, alias) pairs $pairs, most up at once $SAMPLED_MAX_UP"
	[ "$SAMPLED_MAX_UP" = "$n" ] && [ "$hosts" = "$n" ] && [ "$ids" = "$SAME_ID " ] &&
		[ "$(wc -l <"$E2E_RUN/calls.uniq")" = "$n" ] || rc=1
	[ "$(echo "$pubs" | wc -w)" -gt 1 ] || rc=1
	[ "$pairs" = "$n" ] || rc=1
	sed 's/^/  conntrack: /' "$E2E_RUN/ct.pubs" >&2
	if ! awk 'NR == FNR {ct[$1] = $2; next} ct[$1] != $5 {print "call of " $1 " on " $5 ", conntrack says " ct[$1]; bad = 1} END {exit bad}' \
		"$E2E_RUN/ct.pubs" "$E2E_RUN/calls.uniq" >&2; then
		rc=1
	fi
	return $rc
}

# calls_gre_check: the server's GRE flows (grequeue-flow src dst call) to
# its address: each call's Call ID (the server's) came from that call's
# public address, and no flow to the server from any (source, Call ID)
# that is not a call's.
calls_gre_check() {
	local rep="$E2E_RUN/srv-watch.report"
	grep '^grequeue-flow' "$rep" | sed 's/^/  server: /' >&2
	awk -v srv="$SRV_IP" '
		NR == FNR {want[$5 " " $4] = 1; n++; next}
		/^grequeue-flow/ {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			if (f["dst"] != srv) next
			k = f["src"] " " f["call"]
			if (!(k in want)) { print "GRE to the server from " f["src"] " for Call ID " f["call"] ": no call of that public address has it"; bad = 1 }
			else seen[k] = 1
		}
		END {
			for (k in want) if (!(k in seen)) { print "no GRE to the server for the call " k; bad = 1 }
			exit bad
		}' "$E2E_RUN/calls.uniq" "$rep" >&2
}

# ---- the phases --------------------------------------------------------
control() {
	local sc=$1 n
	n=$(nhosts "$sc")
	topo_up_multipub "$(topo_of "$sc")" "$n" || return 1
	modprobe nf_nat_pptp 2>/dev/null || true
	gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
	start_all "$n"
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$n" "$sc control: kernel helper on the gateway, $n hosts, all intact"
	local rc=$?
	topo_down
	reset_run
	return $rc
}

with_pptpgw() {
	local sc=$1 label="$1 ($2)" n rc
	shift 2
	n=$(nhosts "$sc")
	topo_up_multipub "$(topo_of "$sc")" "$n" || return 1
	server_watch || { e2e_result "$label: grequeue watching the server" 1; topo_down; reset_run; return; }
	[ "$sc" != wans ] || set -- "$@" --wan wan1
	start_pptpgw "$@" || { e2e_result "$label: pptpgw started" 1; topo_down; reset_run; return; }
	start_all "$n"
	sample "$n"
	ct_pubs >"$E2E_RUN/ct.pubs"
	expect "$label: $n calls up at once, same inside ID, on more than one public address, each on its connection's, (public, alias) unique" \
		calls_check "$n"
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$n" "$label: $n tunnels intact"
	e2e_log "$label: pptpgw's counters: $(gw_counters_nonzero)"
	server_unwatch
	expect "$label: at the server, GRE only from the (link, address) pairs of the control connections" \
		server_addr_check
	expect "$label: at the server, each call's GRE from its own public address" calls_gre_check
	phase_end "$label"
}

for sc in ${SCENARIOS:-pool persistent wans}; do
	engines=${ENGINES:-tc nft queue}
	E2E_SNAT_PERSISTENT=0
	if [ "$sc" = persistent ]; then
		# the pool's control proved the peers; one engine unless asked
		E2E_SNAT_PERSISTENT=1
		engines=${PERSISTENT_ENGINES:-tc}
	elif [ "${SKIP_CONTROL:-0}" != 1 ] && ! control "$sc"; then
		e2e_log "the peers fail with the kernel helper: this machine cannot run the test"
		e2e_finish
		exit 1
	fi
	for engine in $engines; do
		case $engine in
		tc) with_pptpgw "$sc" tc-BPF --fastpath tc ;;
		nft) with_pptpgw "$sc" "nftables maps" --fastpath nftables ;;
		queue) with_pptpgw "$sc" "queue only" --no-fastpath ;;
		esac
	done
done
e2e_finish
