#!/bin/bash
# The rule files shipped in rules/ are exactly what `pptpgw --print-rules`
# prints for --wan eth0, and both parse: iptables-restore --test, and nft -c
# with the queue statements swapped out (this kernel lacks nft queue).
# Usage: t_rules_files.sh PPTPGW RULES_DIR
set -u
pptpgw=$1 dir=$2 pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"; else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

diff -u "$dir/pptpgw.iptables" <("$pptpgw" --print-rules iptables --wan eth0)
check "rules/pptpgw.iptables is the generator's output" $?
diff -u "$dir/pptpgw.nft" <("$pptpgw" --print-rules nft --wan eth0)
check "rules/pptpgw.nft is the generator's output" $?
"$pptpgw" --print-rules bogus --wan eth0 >/dev/null 2>&1
[ $? = 2 ]; check "unknown rule kind is a usage error" $?

# --relay all: the redirect only for what is routed out of a WAN (nft's fib
# lookup, in table ip pptpgw_relay, since iptables cannot match a route),
# never an iptables REDIRECT of every non-local destination; the INPUT
# accept only for what such a redirect made (to the relay's port from TCP
# 1723 elsewhere, not from a WAN).
ra_ipt=$("$pptpgw" --print-rules iptables --wan eth0 --wan eth1 --relay all)
ra_nft=$("$pptpgw" --print-rules nft --wan eth0 --wan eth1 --relay all)
ra_tab=$(printf '%s\n' "$ra_ipt" | sed -n 's/^# //p' | sed -n '/^table ip pptpgw_relay/,$p')
! printf '%s\n' "$ra_ipt" | grep -q -- '-j REDIRECT'
check "--relay all: no iptables REDIRECT (it cannot see the route)" $?
printf '%s\n' "$ra_tab" | grep -q 'tcp dport 1723 fib daddr type != local fib daddr oifname { "eth0", "eth1" } iifname != { "eth0", "eth1" } redirect to :1724$'
check "--relay all: the iptables form names its nft table, redirecting only what is routed out of a WAN" $?
printf '%s\n' "$ra_nft" | grep -q 'tcp dport 1723 fib daddr type != local fib daddr oifname { "eth0", "eth1" } redirect to :1724$'
check "--relay all: the nft form redirects only what is routed out of a WAN" $?
printf '%s\n' "$ra_ipt" | grep -qx -- '-A PPTPGW-IN -i eth0 -j RETURN' &&
	printf '%s\n' "$ra_ipt" | grep -qx -- '-A PPTPGW-IN -i eth1 -j RETURN' &&
	[ "$(printf '%s\n' "$ra_ipt" | grep -- '-A PPTPGW-IN .*ACCEPT' | grep -vc -- '-p gre -m mark')" = 1 ] &&
	printf '%s\n' "$ra_ipt" | grep -qx -- '-A PPTPGW-IN -p tcp --dport 1724 -m conntrack --ctstate DNAT --ctproto tcp --ctorigdstport 1723 -j ACCEPT'
check "--relay all: INPUT accepts only connections redirected from TCP 1723, not from a WAN" $?

# This host's own PPTP (issue 11, item 2): its control connections by each
# WAN are queued in mangle INPUT and OUTPUT, after the RETURN of our mark
# (which the relay's own upstream connections carry); filter INPUT accepts
# only GRE we marked, ahead of the relay's RETURNs for WAN traffic.
lo=$("$pptpgw" --print-rules iptables --wan eth0 --wan eth1 --relay all)
mangle=$(printf '%s\n' "$lo" | sed -n '/^\*mangle/,/^COMMIT/p')
filter=$(printf '%s\n' "$lo" | sed -n '/^\*filter/,/^COMMIT/p')
ok=0
for w in eth0 eth1; do
	for r in "-A PPTPGW-OUT -o $w -p gre -m u32 --u32 \"0>>22&0x3C@0&0xEF7FFFFF=0x2001880B\"" \
		 "-A PPTPGW-OUT -o $w -p tcp --dport 1723" "-A PPTPGW-OUT -o $w -p tcp --sport 1723" \
		 "-A PPTPGW-IN -i $w -p tcp --sport 1723" "-A PPTPGW-IN -i $w -p tcp --dport 1723"; do
		printf '%s\n' "$mangle" | grep -qx -- "$r -j NFQUEUE --queue-num 1723" || { echo "missing: $r"; ok=1; }
	done
done
for ch in IN OUT; do
	first=$(printf '%s\n' "$mangle" | grep -m1 -- "^-A PPTPGW-$ch ")
	[ "$first" = "-A PPTPGW-$ch -m mark --mark 0x10000000/0x10000000 -j RETURN" ] || { echo "mangle PPTPGW-$ch first: $first"; ok=1; }
done
printf '%s\n' "$mangle" | grep -qx -- '-I INPUT -j PPTPGW-IN' && printf '%s\n' "$mangle" | grep -qx -- '-I OUTPUT -j PPTPGW-OUT' || ok=1
first=$(printf '%s\n' "$filter" | grep -m1 -- '^-A PPTPGW-IN ')
[ "$first" = "-A PPTPGW-IN -p gre -m mark --mark 0x10000000/0x10000000 -j ACCEPT" ] || { echo "filter PPTPGW-IN first: $first"; ok=1; }
check "this host's own PPTP: control queued in mangle INPUT/OUTPUT and its GRE in OUTPUT per WAN, marked GRE accepted in filter INPUT first" $ok
nolo=$("$pptpgw" --print-rules iptables --wan eth0)
printf '%s\n' "$nolo" | sed -n '/^\*filter/,/^COMMIT/p' | grep -qx -- '-I INPUT -j PPTPGW-IN'
check "without the relay too, filter INPUT has our marked-GRE accept" $?
printf '%s\n' "$ra_nft" | grep -q 'tcp dport 1724 ct status dnat ct original proto-dst 1723 accept$'
check "--relay all: the nft INPUT accept is as narrow" $?

if [ "$(id -u)" = 0 ] && command -v iptables-restore >/dev/null && command -v nft >/dev/null; then
	ns="pgrules$$"
	ip netns add "$ns" || exit 1
	trap 'ip netns del "$ns" 2>/dev/null' EXIT
	ip netns exec "$ns" iptables-restore --test --noflush "$dir/pptpgw.iptables"
	check "iptables-restore --test accepts the iptables rules" $?
	ip netns exec "$ns" nft -c -f <(sed 's/queue num [0-9]*/accept/' "$dir/pptpgw.nft")
	check "nft -c accepts the nft rules (queue swapped for accept)" $?
	# Loaded, they must list: nft 1.0.6 aborts listing a raw payload match
	# after "meta l4proto gre", which would break the admin's own
	# `nft list ruleset`.
	ip netns exec "$ns" nft -f <(sed 's/queue num [0-9]*/accept/' "$dir/pptpgw.nft") &&
		ip netns exec "$ns" nft list ruleset >/dev/null 2>&1
	check "the nft rules, loaded, list with nft list ruleset" $?
	ip netns exec "$ns" iptables-restore --test --noflush <(printf '%s\n' "$ra_ipt")
	check "iptables-restore --test accepts the --relay all rules" $?
	ip netns exec "$ns" nft -c -f <(printf '%s\n' "$ra_tab")
	check "nft -c accepts the --relay all table of the iptables form" $?
	ip netns exec "$ns" nft -c -f <(printf '%s\n' "$ra_nft" | sed 's/queue num [0-9]*/accept/')
	check "nft -c accepts the --relay all nft rules" $?
	# The fast path's table (made by the daemon itself) lists too.
	ip netns exec "$ns" nft -f <("$pptpgw" --print-rules fastpath --wan eth0) &&
		ip netns exec "$ns" nft list table ip pptpgw_fp >/dev/null 2>&1
	check "the fast path's table loads and lists" $?
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
