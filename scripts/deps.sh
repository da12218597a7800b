#!/bin/bash
# Install what pptpgw needs to build, run, package and be tested, from
# Debian's (or Ubuntu's) packages.  Only what is missing; run as root.
# Checked on a minimal Debian 12 (debootstrap --variant=minbase), where
# nothing beyond the essential packages is present.
set -eu
pkgs=(build-essential cmake pkg-config
      libnetfilter-queue-dev libnetfilter-conntrack-dev libevent-dev libmnl-dev libnftnl-dev
      # the tc-BPF data plane: its loader (its programs are compiled by clang)
      libbpf-dev
      # run and test: netfilter tools, the real peers, JSON for the scripts
      iptables nftables iproute2 procps conntrack ethtool jq bpftool
      # a TCP listener in e2e_t_relay_routed_only
      python3
      pptpd pptp-linux
      # the Debian package (cpack's DEB generator and dpkg-shlibdeps), and
      # the checks of its man pages and unit
      file dpkg-dev man-db systemd lintian
      # the system test: a Debian 12 tree booted with systemd-nspawn
      debootstrap systemd-container
      # the fuzz targets (libFuzzer comes with clang's runtime, below)
      clang)

missing_of() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			echo "$p"
	done
}

# install PKG...: apt-get install, without letting pptpd start a server on
# this host (policy-rc.d 101 = "not now" for every service).
install() {
	local had_policy=0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages: $*; run as root (sudo) to install them" >&2
		exit 1
	fi
	echo "installing: $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ $had_policy = 0 ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	[ -n "${PPTPGW_APT_UPDATED:-}" ] || apt-get update -qq
	PPTPGW_APT_UPDATED=1
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 "$@" >/dev/null
	if [ $had_policy = 0 ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
}

mapfile -t missing < <(missing_of "${pkgs[@]}")
[ ${#missing[@]} = 0 ] || install "${missing[@]}"

# libFuzzer's runtime is versioned with clang: Debian 12 has clang 14, newer
# releases (Ubuntu 24.04: 18) another.
rt=libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev
mapfile -t missing < <(missing_of "$rt")
[ ${#missing[@]} = 0 ] || install "${missing[@]}"
