#!/bin/bash
# The tests that expect tunnels to fail must not pass on a machine where the
# peers cannot start at all (a broken /dev/log once made every peer fail, and
# t_no_gateway_fails passed anyway).  Each of them is run with PPPSPEAK=/bin/false
# (no PPP stand-in can start, so no tunnel can work, with or without NAT): each
# must fail (exit 1, not 0, not the skip code 77), and say that its control
# run with nothing in the way failed.  First, in this same run,
# t_no_gateway_fails passes with the real stand-in, so it is the broken peers
# that make it fail.
# Usage: t_harness_broken_peers.sh BUILD_DIR
set -u
build=$(readlink -f "${1:-.}")
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
out=$(mktemp /tmp/pptpgw-broken.XXXXXX)
trap 'rm -f "$out"' EXIT
pass=0 fail=0
check() {
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"; else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

NHOSTS=4 bash "$here/t_no_gateway_fails.sh" "$build" >"$out" 2>&1
rc=$?
[ $rc = 77 ] && { echo "SKIP: t_no_gateway_fails skipped"; exit 77; }
tail -n 4 "$out" | sed 's/^/  /'
check "t_no_gateway_fails passes with working peers (exit $rc)" $rc

for t in t_no_gateway_fails t_baseline_kernel_helper t_split_coalesced t_relay_one_host t_relay_auto; do
	PPPSPEAK=/bin/false bash "$here/$t.sh" "$build" >"$out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL):' "$out" | sed 's/^/  /'
	[ $rc = 1 ]
	check "$t fails when the peers cannot start (exit $rc)" $?
	grep -q '^FAIL: control: with no NAT in the way' "$out"
	check "$t says its control run with nothing in the way failed" $?
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
