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
	# The fast path's table (made by the daemon itself) lists too.
	ip netns exec "$ns" nft -f <("$pptpgw" --print-rules fastpath --wan eth0) &&
		ip netns exec "$ns" nft list table ip pptpgw_fp >/dev/null 2>&1
	check "the fast path's table loads and lists" $?
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
