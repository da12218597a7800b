#!/bin/bash
# What `cmake --install` and the Debian package put on a machine: the two
# programs, the unit, the config (a conffile), rules, man pages; and the
# unit passes systemd-analyze verify.
# Usage: t_package.sh SOURCE_DIR BUILD_DIR
set -u
src=$1 build=$2 pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"; else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
for t in cpack dpkg-deb; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work=$(mktemp -d)
ns=""
trap 'rm -rf "$work"; [ -z "$ns" ] || ip netns del "$ns" 2>/dev/null' EXIT

# A package from a build of its own, with the Debian prefix.
cmake -S "$src" -B "$work/b" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null &&
	cmake --build "$work/b" -j2 --target pptpgw pptpgwctl >/dev/null &&
	(cd "$work/b" && cpack -G DEB >/dev/null)
check "cpack builds a Debian package" $?
deb=$(ls "$work"/b/pptpgw_*.deb 2>/dev/null | head -n1)
files=$(dpkg-deb -c "$deb" 2>/dev/null | awk '{print $6}')
missing=""
for f in ./etc/pptpgw.conf ./usr/sbin/pptpgw ./usr/sbin/pptpgwctl \
	 ./usr/lib/systemd/system/pptpgw.service ./usr/lib/sysusers.d/pptpgw.conf \
	 ./usr/share/man/man8/pptpgw.8.gz ./usr/share/man/man8/pptpgwctl.8.gz \
	 ./usr/share/man/man5/pptpgw.conf.5.gz ./usr/share/pptpgw/rules/pptpgw.iptables \
	 ./usr/share/doc/pptpgw/copyright ./usr/share/doc/pptpgw/changelog.gz \
	 ./usr/share/pptpgw/rules/pptpgw.nft; do
	printf '%s\n' "$files" | grep -qx "$f" || missing="$missing $f"
done
[ -z "$missing" ] || echo "missing:$missing"
check "the package holds binaries, unit, config, rules and man pages" "$([ -z "$missing" ]; echo $?)"
twice=$(printf '%s\n' "$files" | grep -E '^\./usr/s?bin/.' | sed 's|.*/||' | sort | uniq -d)
[ -z "$twice" ] || echo "installed twice: $twice"
check "each program is installed once, in /usr/sbin" "$([ -z "$twice" ] &&
	! printf '%s\n' "$files" | grep -q '^\./usr/bin/.'; echo $?)"
dpkg-deb -e "$deb" "$work/ctl" && grep -qx /etc/pptpgw.conf "$work/ctl/conffiles" &&
	grep -q "adduser --quiet --system --group" "$work/ctl/postinst" &&
	[ -x "$work/ctl/prerm" ] && [ -x "$work/ctl/postrm" ]
check "/etc/pptpgw.conf is a conffile; postinst creates the user; prerm and postrm are there" $?
dpkg-deb -I "$deb" | grep -q "Depends:.*libnetfilter-queue1" &&
	dpkg-deb -I "$deb" | grep -q "Depends:.*libnftnl" &&
	dpkg-deb -I "$deb" | grep -q "Depends:.*adduser"
check "dependencies come from the linked libraries, and adduser" $?
for s in postinst prerm postrm; do sh -n "$work/ctl/$s" || echo "$s does not parse"; done >"$work/sherr"
[ ! -s "$work/sherr" ] || cat "$work/sherr"
check "the maintainer scripts parse" "$([ ! -s "$work/sherr" ]; echo $?)"

# The installed example config is valid as shipped, on a host with its
# WAN interface (eth0): a namespace of the test's own has one.
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
	ns="pgpkg$$"
	ip netns add "$ns" && ip -n "$ns" link add eth0 type veth peer name eth1 &&
		ip netns exec "$ns" "$build/pptpgw" -n -f "$src/etc/pptpgw.conf" >/dev/null
	check "the shipped config passes pptpgw -n" $?
	ip netns del "$ns" 2>/dev/null
	ns=""
fi

command -v man >/dev/null &&
for m in "$src"/man/*.[58]; do
	man -l -Tutf8 "$m" >/dev/null 2>"$work/manerr" && [ ! -s "$work/manerr" ] || {
		cat "$work/manerr"; false; } || break
done
[ $? = 0 ] || ! command -v man >/dev/null
check "man pages render without warnings" $?

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$work/unit"
	sed "s|/usr/sbin/pptpgw|$build/pptpgw|g" "$src/systemd/pptpgw.service" \
		>"$work/unit/pptpgw.service"
	systemd-analyze verify --man=no "$work/unit/pptpgw.service"
	check "systemd-analyze verify accepts the unit" $?
fi
# lintian, where installed: nothing but the tags README explains (the
# project has no maintainer mail address yet).
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$deb" 2>/dev/null |
		grep -v -E ': (bogus-mail-host|bogus-mail-host-in-debian-changelog) ' >"$work/lintian"
	[ ! -s "$work/lintian" ] || cat "$work/lintian"
	check "lintian finds nothing unexplained" "$([ ! -s "$work/lintian" ]; echo $?)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
