#!/bin/bash
# The demo and an end-to-end test as they run on a user's machine, where
# /dev/log exists (nearly every installed Debian or Ubuntu): a live socket
# (rsyslog), journald's symlink /dev/log -> /run/systemd/journal/dev-log,
# and a stale socket nothing reads.  Each run happens in a simulated machine
# (lab/usermachine.sh: a mount namespace with its own /dev and /run), so this
# machine's /dev, /run and syslog are never touched.
#  - the demo (t_demo.sh) passes with a live socket and with the symlink;
#  - t_multi_host.sh (3 hosts) passes with each of the three;
#  - the simulated host's syslog works (a logger line arrives there) and
#    receives no line from pptpd or pptp: the peers log to the test's own sink.
# Usage: t_user_machine.sh BUILD_DIR
set -u
build=$(readlink -f "${1:-.}")
here=$(cd "$(dirname "$0")" && pwd)
lab=$(cd "$here/../../lab" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in pptpd pptp unshare logger; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || { echo "SKIP: $t not installed"; exit 77; }
done
export LOGSINK=${LOGSINK:-$build/tests/logsink}
[ -x "$LOGSINK" ] || { echo "no logsink at $LOGSINK (build the tests first)"; exit 1; }
work=$(mktemp -d /tmp/pptpgw-usermachine.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"; else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

# on_machine KIND NAME CMD...: CMD on a simulated machine with /dev/log of
# KIND; checks its exit status and the simulated host's syslog.
on_machine() {
	local kind=$1 name=$2 dir="$work/$1-$2" rc
	shift 2
	"$lab/usermachine.sh" "$kind" "$dir" "$@" >"$work/$kind-$name.out" 2>&1
	rc=$?
	tail -n 8 "$work/$kind-$name.out" | sed 's/^/  /'
	[ $rc = 0 ] || tail -n 60 "$work/$kind-$name.out" >&2
	check "/dev/log $kind: $name passes (exit $rc)" $rc
	[ "$kind" = stale ] && return
	grep -q "the simulated host's syslog works" "$dir/host-syslog.txt"
	check "/dev/log $kind: the simulated host's syslog receives messages" $?
	! grep -Ei 'pptp' "$dir/host-syslog.txt" >&2
	check "/dev/log $kind: no line of pptpd or pptp reached the host's syslog" $?
}

for kind in socket symlink; do
	on_machine "$kind" demo bash "$here/t_demo.sh" "$build"
done
for kind in socket symlink stale; do
	on_machine "$kind" multi_host env NHOSTS=3 E2E_FRAMES=500 E2E_SEND=800 \
		bash "$here/t_multi_host.sh" "$build"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
