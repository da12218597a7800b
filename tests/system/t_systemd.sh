#!/bin/bash
# The Debian package under a real systemd: a Debian 12 tree (debootstrap,
# kept in $PPTPGW_SYSTEST_CACHE between runs) booted with systemd-nspawn
# (its own network), the package installed with apt, then checked through
# systemctl and the journal by tests/system/inside.sh, which runs in the
# container: install, a wrong WAN, start, a real PPTP call (pptpd and
# pptp-linux in namespaces inside the container), reload, a bad file,
# kill -9, stop, a restart and an upgrade with a call up (kept), remove,
# purge.
# Usage: t_systemd.sh SOURCE_DIR BUILD_DIR   (root; exit 77 = skipped)
set -u
src=$(readlink -f "$1") build=$(readlink -f "$2")
CACHE=${PPTPGW_SYSTEST_CACHE:-/var/cache/pptpgw-systest}
base=$CACHE/bookworm
PKGS=systemd,systemd-sysv,dbus,iproute2,iptables,nftables,pptpd,pptp-linux,jq,procps,adduser,ethtool,libnetfilter-queue1,libnetfilter-conntrack3,libevent-2.1-7,libmnl0,libnftnl11,conntrack

say() { printf '[system %s] %s\n' "$(date +%T)" "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in debootstrap systemd-nspawn nsenter cpack; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

# The base tree, once.
if [ ! -f "$base/.done" ]; then
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	rm -rf "$base"
	mkdir -p "$CACHE"
	say "debootstrap of Debian 12 into $base (once)"
	debootstrap --variant=minbase --include="$PKGS" bookworm "$base" \
		${mirror:+"$mirror"} >"$CACHE/debootstrap.log" 2>&1 ||
		{ say "debootstrap failed: $CACHE/debootstrap.log"; tail -5 "$CACHE/debootstrap.log" >&2; exit 1; }
	touch "$base/.done"
fi

work=$(mktemp -d /var/tmp/pptpgw-systest.XXXXXX)
NSPID=""
cleanup() {
	local k
	if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
		# SIGTERM: nspawn asks the container's systemd to power off.
		kill -TERM "$NSPID" 2>/dev/null
		for k in $(seq 1 100); do
			kill -0 "$NSPID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$NSPID" 2>/dev/null
		wait "$NSPID" 2>/dev/null
	fi
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Two packages: the release, and the same build as a newer version (the
# upgrade replaces the binary on disk; the running one must be restarted).
cmake -S "$src" -B "$work/b" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null &&
	cmake --build "$work/b" -j2 --target pptpgw pptpgwctl compressed_docs >/dev/null &&
	(cd "$work/b" && cpack -G DEB >/dev/null &&
	 cpack -G DEB -D CPACK_PACKAGE_VERSION=0.1.0+systest1 >/dev/null) ||
	{ say "building the packages failed"; exit 1; }

say "copying the base tree"
cp -a "$base" "$work/root"
t=$work/root/root/systest
mkdir -p "$t/build/tests"
cp "$work"/b/pptpgw_*.deb "$t/"
cp -a "$src/lab" "$t/lab"
cp "$src/tests/system/inside.sh" "$t/"
for tool in pppspeak logsink gretool pptpprobe; do
	cp "$build/tests/$tool" "$t/build/tests/" ||
		{ say "test tool $tool not built in $build"; exit 1; }
done

say "booting the container"
systemd-nspawn -q -D "$work/root" -b --private-network --register=no --keep-unit \
	-M "pgsys$$" >"$work/nspawn.log" 2>&1 &
NSPID=$!
leader=""
for k in $(seq 1 150); do
	for c in $(pgrep -P "$NSPID"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && leader=$c
	done
	[ -n "$leader" ] && break
	kill -0 "$NSPID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$leader" ]; then
	say "systemd-nspawn did not start a container:"
	cat "$work/nspawn.log" >&2
	echo "SKIP: this machine cannot boot a container with systemd-nspawn"
	exit 77
fi
# -r -w: the container's own root and working directory. Entering its mount
# namespace alone leaves the root at that namespace's first mount, which is
# the container's only when this script runs in the machine's own root (in
# a chroot it is the machine's, whose /run has no systemd: "offline").
in_ct() { nsenter -t "$leader" -m -u -i -n -p -r -w -- "$@"; }
# Its manager answers once its own socket is up; then wait for the boot.
state=""
for k in $(seq 1 90); do
	state=$(in_ct timeout 5 systemctl is-system-running 2>/dev/null)
	case $state in
	running|degraded|maintenance|stopping) break ;;
	esac
	sleep 1
done
say "container booted: $state"
case $state in
running|degraded) ;;
initializing|starting)
	# The machine, not the package: say so, and skip.
	tail -n 40 "$work/nspawn.log" >&2
	say "the container's systemd did not come up (state '${state:-none}')"
	echo "SKIP: systemd did not boot in the container on this machine"
	exit 77 ;;
*)
	# The container runs but its manager cannot be asked: this script's
	# fault (a skip here once hid exactly that), not the machine's.
	tail -n 20 "$work/nspawn.log" >&2
	say "FAIL: cannot ask the container's systemd (state '${state:-none}')"
	exit 1 ;;
esac
[ "$state" = degraded ] && in_ct systemctl --failed --no-legend >&2

in_ct env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	bash /root/systest/inside.sh /root/systest
rc=$?
[ $rc = 0 ] || tail -n 30 "$work/nspawn.log" >&2
exit $rc
