#!/bin/bash
# pptpgw as an admin meets it: it installs its rules and removes them on
# exit, leaves the host's own NAT alone, refuses to start next to the kernel
# PPTP helper, and with --no-rules touches no rule at all.
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe

topo_up 1
# The rules and user chains (empty built-in tables may stay behind).
ruleset() { gw_exec iptables-save 2>/dev/null | grep -E '^(-A|:[A-Z-]*PPTPGW)' ; }
before=$(ruleset)

start_pptpgw --fastpath nftables
rc=0
during=$(ruleset)
printf '%s\n' "$during" | grep -q 'NFQUEUE --queue-num 1723' || rc=1
printf '%s\n' "$during" | grep -q 'MASQUERADE' || rc=1
# The nftables engine's table untracks enhanced GRE: no raw chain of ours;
# what goes out never enters the mangle PREROUTING chain of ours.
gw_exec nft list chain ip pptpgw_fp prerouting 2>/dev/null | grep -q 'notrack' || rc=1
printf '%s\n' "$during" | grep -q -- '-j CT --notrack' && rc=1
printf '%s\n' "$during" | grep -qx -- "-A PREROUTING -i $GW_WAN -j PPTPGW-PRE" || rc=1
[ $rc = 0 ] || printf '%s\n' "$during" >&2
e2e_result "rules installed (GRE untracked by the nftables engine's table), host MASQUERADE kept" $rc

# /metrics on a shared host: 200 local clients that send a request head
# without its end neither grow pptpgw nor keep a scrape out, and are all
# dropped within the 5 s timeout.  Measured from pptpgw's steady state: its
# tables (about 11 MB at the default sizes) are allocated zeroed at start and
# become resident when its first periodic tick reads them, 250 ms in.
sleep 1
gw_exec "$PPTPPROBE" --slow-http 127.0.0.1:9723 --clients 200 --pid "$PPTPGW_PID" \
	--timeout 8
e2e_result "/metrics: 200 clients sending an endless head: pptpgw stays small, a scrape gets in, all dropped within the timeout" $?

stop_gw_cmd "$PPTPGW_PID"
after=$(ruleset)
rc=0
[ "$before" = "$after" ] || { rc=1; diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2; }
grep -q "signal 15: shutting down" "$E2E_RUN/logs/gw_cmd.log" || rc=1
[ -e "$GW_SOCK" ] && rc=1
e2e_result "SIGTERM: rules and control socket removed, ruleset as before" $rc

# The tc-BPF engine (the default here): gre_in on the WAN, GRE untracked by
# a raw chain of ours; a killed run's filter is replaced by the next start,
# and a stop leaves no filter and no qdisc of ours.
wan_filters() { gw_exec tc filter show dev "$GW_WAN" ingress 2>/dev/null | grep -c 'name gre_in'; }
wan_clsact() { gw_exec tc qdisc show dev "$GW_WAN" | grep -c clsact; }
start_pptpgw
rc=0
during=$(ruleset)
[ "$(ctl_json status .fastpath_state)" = "on (tc-bpf)" ] || rc=1
[ "$(wan_filters)" = 1 ] || rc=1
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-PRE -p gre .*-j CT --notrack' || rc=1
kill -9 "$PPTPGW_PID"
wait "$PPTPGW_PID" 2>/dev/null
[ "$(wan_filters)" = 1 ] || rc=1     # left, as a killed run leaves it
e2e_log "tc-BPF: after kill -9: $(wan_filters) filter(s) on $GW_WAN"
start_pptpgw
[ "$(wan_filters)" = 1 ] || rc=1
grep -q "removed a tc filter an earlier run left on $GW_WAN" "$E2E_RUN/logs/gw_cmd.log" || rc=1
stop_gw_cmd "$PPTPGW_PID"
e2e_log "tc-BPF: after SIGTERM: $(wan_filters) filter(s), $(wan_clsact) clsact qdisc(s) on $GW_WAN"
[ "$(wan_filters)/$(wan_clsact)" = 0/0 ] || rc=1
[ "$(ruleset)" = "$before" ] || rc=1
e2e_result "tc-BPF engine: filter on the WAN, raw chain, a killed run's filter replaced, nothing left after SIGTERM" $rc

# A stop while it starts (systemctl stop during activation): whenever the
# SIGTERM lands, nothing of pptpgw's stays behind, with either engine.
left_behind() {
	local what=""
	[ "$(ruleset)" = "$before" ] || what="$what rules"
	gw_exec nft list table ip pptpgw_fp >/dev/null 2>&1 && what="$what table"
	[ "$(wan_filters)" = 0 ] || what="$what tc-filter"
	[ "$(wan_clsact)" = 0 ] || what="$what clsact"
	echo "${what:- nothing}"
}
rc=0
for engine in auto nftables; do
	for d in 0.05 0.1 0.15 0.2 0.25 0.3 0.4 0.5 0.7; do
		start_gw_cmd "$PPTPGW" --wan "$GW_WAN" -s "$GW_SOCK" --fastpath "$engine"
		sleep "$d"
		stop_gw_cmd "$GW_CMD_PID"
		left=$(left_behind)
		if [ "$left" != " nothing" ]; then
			e2e_log "SIGTERM $d s into a start ($engine): left$left"
			rc=1
			gw_exec nft delete table ip pptpgw_fp 2>/dev/null
			gw_exec tc qdisc del dev "$GW_WAN" clsact 2>/dev/null
			start_pptpgw && stop_gw_cmd "$PPTPGW_PID"   # clean up
		fi
	done
done
e2e_result "SIGTERM at any point of a start (9 points, both engines): nothing left behind" $rc

# Without the fast path, the raw chain untracks GRE, and goes at the stop.
start_pptpgw --no-fastpath
during=$(ruleset)
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-PRE -p gre .*-j CT --notrack'
rc=$?
stop_gw_cmd "$PPTPGW_PID"
[ "$(ruleset)" = "$before" ] || rc=1
e2e_result "--no-fastpath: GRE untracked by a raw chain of ours, removed on SIGTERM" $rc

# A start cleans up what a killed run left, whatever WAN it had: here a
# jump from an interface this run does not use.
gw_exec iptables -t mangle -N PPTPGW-PRE
gw_exec iptables -t mangle -I PREROUTING -i "$GW_LAN" -j PPTPGW-PRE
start_pptpgw
stop_gw_cmd "$PPTPGW_PID"
[ "$(ruleset)" = "$before" ]
e2e_result "a start removes a killed run's jumps from other interfaces" $?

# With the relay: its redirect, input and raw output chains come and go too,
# and the time it takes to stop is bounded (its goodbyes get 300 ms).
start_pptpgw --relay 203.0.113.2,auto
rc=0
during=$(ruleset)
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-NAT -d 203.0.113.2/32 -p tcp -m tcp --dport 1723 -j REDIRECT --to-ports 1724' || rc=1
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-NAT -i wan0 -j RETURN' || rc=1
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-IN -p tcp -m tcp --dport 1724' || rc=1
printf '%s\n' "$during" | grep -q -- '-A PPTPGW-OUT -p gre' || rc=1
gw_exec ss -ltnH | grep -q ':1724 ' || rc=1
[ $rc = 0 ] || printf '%s\n' "$during" >&2
t0=$(date +%s%N)
stop_gw_cmd "$PPTPGW_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
after=$(ruleset)
[ "$before" = "$after" ] || { rc=1; diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2; }
e2e_log "relay chains removed; stopped in $ms ms"
e2e_result "--relay: redirect, input and raw chains installed, listener up, all removed on SIGTERM" $rc

# --no-rules: nothing installed, nothing removed.
start_pptpgw --no-rules
rc=0
[ "$(ruleset)" = "$before" ] || rc=1
stop_gw_cmd "$PPTPGW_PID"
[ "$(ruleset)" = "$before" ] || rc=1
e2e_result "--no-rules leaves the ruleset untouched" $rc

# The kernel helper on the same flows: refuse, clearly, and install nothing.
gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
helper_rules=$(ruleset)
out=$(gw_exec timeout 10 "$PPTPGW" --wan "$GW_WAN" -s "$GW_SOCK" --state-file "$E2E_RUN/state" 2>&1)
code=$?
e2e_log "pptpgw with the helper present exited $code: $out"
[ "$code" != 0 ] && [ "$code" != 124 ] &&
	printf '%s\n' "$out" | grep -q "kernel PPTP helper" &&
	[ "$(ruleset)" = "$helper_rules" ]
e2e_result "refuses to start when the kernel PPTP helper is attached" $?
gw_exec iptables -t raw -D PREROUTING -p tcp --dport 1723 -j CT --helper pptp

# As the service runs it: an unprivileged user with only CAP_NET_ADMIN,
# CAP_NET_RAW and CAP_BPF (what pptpgw.service grants).  It must install its
# rules and the tc-BPF engine, answer on its socket, and remove the rules
# again; without CAP_BPF it takes the nftables engine.
unpriv() {  # unpriv CAPS ENGINE
	local udir="$E2E_RUN/unpriv" caps="-all,$1"
	mkdir -p "$udir" && chmod 777 "$udir"
	start_gw_cmd setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps="$caps" --ambient-caps="$caps" --bounding-set="$caps" \
		"$PPTPGW" --wan "$GW_WAN" -s "$udir/ctl.sock" --state-file "$udir/state"
	upid=$GW_CMD_PID
	rc=0
	wait_until 10 "$PPTPGWCTL" -s "$udir/ctl.sock" status >/dev/null || rc=1
	[ "$("$PPTPGWCTL" -s "$udir/ctl.sock" --json status | jq -r .fastpath_state)" = "on ($2)" ] || rc=1
	[ "$(stat -c %U "$udir/ctl.sock" 2>/dev/null)" = nobody ] || rc=1
	ruleset | grep -q 'NFQUEUE --queue-num 1723' || rc=1
	grep -q "Uid:.*65534" "/proc/$upid/status" 2>/dev/null || rc=1
	stop_gw_cmd "$upid"
	[ "$(ruleset)" = "$before" ] || rc=1
	[ $rc = 0 ] || tail -5 "$E2E_RUN/logs/gw_cmd.log" >&2
	return $rc
}
if command -v setpriv >/dev/null; then
	unpriv +net_admin,+net_raw,+bpf tc-bpf
	e2e_result "as user nobody with CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF only: rules, tc-BPF, socket, clean exit" $rc
	unpriv +net_admin,+net_raw nftables
	e2e_result "as user nobody without CAP_BPF: the nftables engine, rules, socket, clean exit" $rc
fi

# A WAN interface that does not exist: a clear error, exit non-zero.
out=$(gw_exec timeout 10 "$PPTPGW" --wan nosuch0 -s "$GW_SOCK" 2>&1)
code=$?
[ "$code" != 0 ] && printf '%s\n' "$out" | grep -q "nosuch0: no such interface"
e2e_result "unknown WAN interface: clear error" $?

e2e_finish
