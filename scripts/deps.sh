#!/bin/bash
# Install what pptpgw needs to build, run and be tested, from Debian's
# packages.  Only what is missing; run as root.
set -eu
pkgs=(build-essential cmake pkg-config
      libnetfilter-queue-dev libnetfilter-conntrack-dev libevent-dev libmnl-dev
      iptables nftables iproute2 conntrack ethtool jq
      pptpd pptp-linux
      clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages: ${missing[*]}; run as root (sudo) to install them" >&2
	exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The pptpd package would start a server on this host: not wanted here.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.pptpgw
chmod 755 /usr/sbin/policy-rc.d.pptpgw
had_policy=0
[ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ $had_policy = 1 ] || cp /usr/sbin/policy-rc.d.pptpgw /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.pptpgw
