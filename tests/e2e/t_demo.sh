#!/bin/bash
# The demo a newcomer runs first (sudo ./run.sh runs scripts/demo.sh) runs
# to completion, every tunnel works, and it leaves nothing behind.
set -u
build=$(readlink -f "${1:-.}")
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
before=$(ip netns list | sort)
out=$(DEMO_HOSTS=${DEMO_HOSTS:-3} "$top/scripts/demo.sh" "$build" 2>&1)
code=$?
printf '%s\n' "$out" | tail -n 15
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"; else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
[ $code = 0 ]; check "the demo exits 0" $?
printf '%s\n' "$out" | grep -q "tunnels working: 3 of 3"; check "the demo's summary: 3 of 3 tunnels working" $?
printf '%s\n' "$out" | grep -qE "^[0-9]+ +198\.18\.0\.1[1-3]:4660 .*established"
check "the demo showed the live call table with established calls" $?
[ "$(ip netns list | sort)" = "$before" ]; check "no namespace left behind" $?
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
