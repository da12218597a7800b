#!/bin/bash
# Runs inside the booted container of t_systemd.sh: the package as an admin
# meets it, through apt, systemctl and the journal.  The service runs in the
# lab's gateway namespace (a drop-in sets NetworkNamespacePath=), where the
# lab's real pptpd and pptp-linux call through it.
# Usage: inside.sh DIR   (DIR holds the .debs, lab/ and build/tests/)
set -u
dir=$1
cd "$dir" || exit 1
. "$dir/lab/netlab.sh"
e2e_init "$dir/build"
. "$dir/lab/gw.sh" "$dir/build"
PPTPGWCTL=/usr/sbin/pptpgwctl
GW_SOCK=/run/pptpgw/pptpgw.sock
export SYSTEMD_PAGER=cat
deb1=$(ls "$dir"/pptpgw_0.1.0_*.deb)
deb2=$(ls "$dir"/pptpgw_0.1.0+systest1_*.deb)
conf=/etc/pptpgw.conf
apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >"$E2E_RUN/apt.log" 2>&1 ||
	{ tail -n 20 "$E2E_RUN/apt.log" >&2; return 1; }; }
unit() { systemctl show pptpgw -p "$1" --value; }
journal() { journalctl -u pptpgw --no-pager -q 2>/dev/null; }
our_rules() { gw_exec iptables-save 2>/dev/null | grep -c PPTPGW; }
fast_table() { gw_exec nft list table ip pptpgw_fp >/dev/null 2>&1; }

topo_up 1

# ---- install: not enabled, not started (its WAN must be set first)
expect "apt-get install of the package, offline" apt_quiet install "$deb1"
grep -i -E 'warning|adduser' "$E2E_RUN/apt.log" >&2
expect "apt-get printed no warning" eval '! grep -q -i warning "$E2E_RUN/apt.log"'
e2e_log "installed: $(systemctl is-enabled pptpgw)/$(systemctl is-active pptpgw)"
expect "installed: the unit is there, disabled and inactive" \
	eval '[ "$(systemctl is-enabled pptpgw)/$(systemctl is-active pptpgw)" = disabled/inactive ]'
expect "the pptpgw user exists" getent passwd pptpgw

# The service joins the lab's gateway namespace.
mkdir -p /etc/systemd/system/pptpgw.service.d
printf '[Service]\nNetworkNamespacePath=/run/netns/%s\n' "$NS_GW" \
	>/etc/systemd/system/pptpgw.service.d/lab.conf
systemctl daemon-reload

# ---- the shipped config names eth0, which this gateway lacks
systemctl start pptpgw 2>"$E2E_RUN/start.err"
st=$?
sleep 1
systemctl status pptpgw --no-pager -l >"$E2E_RUN/status" 2>&1
sed 's/^/  | /' "$E2E_RUN/status" >&2
expect "a wrong WAN: systemctl start fails ($st)" [ "$st" != 0 ]
expect "... and the service is failed, not restarting" \
	eval '[ "$(systemctl is-active pptpgw)" = failed ] && [ "$(unit NRestarts)" = 0 ]'
expect "... with 'WAN interface eth0: no such interface' in the journal" \
	eval 'journal | grep -q "WAN interface eth0: no such interface"'
expect "... and the reason in systemctl status" \
	grep -q "not started: WAN interface eth0: no such interface" "$E2E_RUN/status"
systemctl reset-failed pptpgw

# ---- a good config: start, rules, a real call
sed -i "s/^wan *=.*/wan = $GW_WAN/" "$conf"
grep -q "^wan = $GW_WAN" "$conf" || printf '[gateway]\nwan = %s\n' "$GW_WAN" >>"$conf"
expect "systemctl start returns 0 with the right WAN" systemctl start pptpgw
expect "active, ready, its rules and fast path table in place" \
	eval '[ "$(systemctl is-active pptpgw)" = active ] && [ "$(our_rules)" -gt 0 ] && fast_table'
expect "pptpgwctl answers root" ctl status
start_pptpd
start_client 1
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result 1 "a real PPTP call through the packaged service"
expect "the call went through pptpgw" eval '[ "$(ctl_json stats .calls_created)" -ge 1 ]'

# ---- reload: accepted, and refused (a restart-only change)
cp "$conf" "$E2E_RUN/conf.good"
sed -i 's/^call_idle *=.*/call_idle = 200/' "$conf"
expect "systemctl reload of a good file succeeds" systemctl reload pptpgw
sed -i "s/^wan = .*/wan = lo/" "$conf"
systemctl reload pptpgw 2>"$E2E_RUN/reload.err"
st=$?
expect "systemctl reload of a refused file fails ($st)" [ "$st" != 0 ]
expect "... and says why in the journal" eval 'journal | grep -q "reload refused"'
expect "... and the service still runs" eval '[ "$(systemctl is-active pptpgw)" = active ]'
cp "$E2E_RUN/conf.good" "$conf"

# ---- kill -9: back within 5 s (RestartSec=1, then a start, which takes
# 0.3 s on a quiet machine and up to 3 s on a loaded one: iptables-restore
# and nft are processes of their own)
pid=$(unit MainPID)
t0=$(date +%s%N)
kill -9 "$pid"
back=""
for k in $(seq 1 60); do
	p=$(unit MainPID)
	if [ "$p" != 0 ] && [ "$p" != "$pid" ] && [ "$(systemctl is-active pptpgw)" = active ]; then
		back=$((($(date +%s%N) - t0) / 1000000)); break
	fi
	sleep 0.1
done
e2e_log "after kill -9: back in ${back:-never} ms"
expect "kill -9: systemd has it running again within 5 s (${back:-never} ms)" \
	eval '[ -n "$back" ] && [ "$back" -le 5000 ]'

# ---- a bad file: failed, with the line named, no restart loop
printf '[limits]\nmax_calls = lots\n' >>"$conf"
line=$(grep -n 'max_calls = lots' "$conf" | cut -d: -f1)
systemctl restart pptpgw 2>/dev/null
st=$?
sleep 5
expect "a bad file: restart fails ($st) and the unit is failed after 5 s, 0 restarts" \
	eval '[ "$st" != 0 ] && [ "$(systemctl is-active pptpgw)" = failed ] && [ "$(unit NRestarts)" = 0 ]'
expect "... with the file and line in the journal ($conf:$line)" \
	eval 'journal | grep -q "$conf:$line"'
cp "$E2E_RUN/conf.good" "$conf"
systemctl reset-failed pptpgw

# ---- stop: rules gone
systemctl start pptpgw
expect "stop: the daemon's rules and table are gone" \
	eval 'systemctl stop pptpgw && [ "$(our_rules)" = 0 ] && ! fast_table'

# ---- restart and upgrade with a call up: the new process adopts the call
# (same inside host, Call ID and alias), its frames go on, and nothing
# leaves the WAN around pptpgw meanwhile.  40 s of frames at 50/s; both
# steps take a few seconds, so a lost call would miss a third of them.
systemctl start pptpgw
kill_server
reset_run
E2E_RATE=50 E2E_SEND=2000 E2E_FRAMES=1800 E2E_TIMEOUT=90
start_pptpd
start_client 1
wait_until 20 eval '[ -n "$(call_set)" ]'
calls=$(call_set)
e2e_log "call up: ${calls:-none}"
unmarked_install
# has_new_pid OLD: the unit runs a process other than OLD and is active
has_new_pid() {
	local p
	p=$(unit MainPID)
	[ "$p" != 0 ] && [ "$p" != "$1" ] && [ "$(systemctl is-active pptpgw)" = active ]
}
# carries CALLS: the same established calls listed, and GRE still arriving
carries() {
	local in0
	[ -n "$1" ] && [ "$(call_set)" = "$1" ] || return 1
	in0=$(gre_total_in)
	wait_until 5 eval '[ "$(gre_total_in)" -gt "$in0" ]'
}
old=$(unit MainPID)
expect "restart with a call up: systemctl restart returns 0" systemctl restart pptpgw
expect "... a new process runs" has_new_pid "$old"
expect "... it adopted the call: same host, Call ID and alias, GRE flowing" carries "$calls"
expect "... and said so in the journal" \
	eval 'journal | grep -q "state: adopted 1 control connections and 1 calls"'

old=$(unit MainPID)
expect "upgrade with a call up: apt-get install of a newer version" apt_quiet install "$deb2"
new=$(unit MainPID)
# The same file (device and inode), not the same name: seen from a chroot,
# readlink names the file by the machine's path.
e2e_log "upgrade: MainPID $old -> $new, exe $(readlink "/proc/$new/exe" 2>/dev/null)"
expect "upgrade: restarted, the running binary is the new one" \
	eval 'has_new_pid "$old" && [ "/proc/$new/exe" -ef /usr/sbin/pptpgw ]'
expect "... it adopted the call, GRE flowing" carries "$calls"
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result 1 "the call carried its frames across the restart and the upgrade"
u=$(unmarked)
expect "no GRE or TCP 1723 left the WAN around pptpgw meanwhile ($u packets)" [ "$u" = 0 ]

# ---- remove: daemon and rules gone; purge: nothing left
systemctl enable pptpgw 2>/dev/null
expect "apt-get remove" apt_quiet remove pptpgw
e2e_log "after remove: process $(pgrep -x pptpgw || echo none), rules $(our_rules)," \
	"table $(fast_table && echo present || echo gone), unit $(systemctl is-active pptpgw)"
expect "remove: no pptpgw process, no rules, no table" \
	eval '! pgrep -x pptpgw >/dev/null && [ "$(our_rules)" = 0 ] && ! fast_table' ||
	{ journal | tail -n 40 | sed 's/^/  journal| /' >&2; gw_exec nft list ruleset | sed 's/^/  nft| /' >&2; }
expect "apt-get purge" apt_quiet purge pptpgw
left=$(ls -d /etc/pptpgw.conf /etc/systemd/system/multi-user.target.wants/pptpgw.service \
	/run/pptpgw /usr/sbin/pptpgw 2>/dev/null)
e2e_log "after purge: ${left:-nothing} left; user pptpgw: $(getent passwd pptpgw >/dev/null && echo kept || echo gone)"
expect "purge: no config, no enablement link, no run directory, no binary" [ -z "$left" ]
expect "a reinstall after purge starts disabled" \
	eval 'apt_quiet install "$deb1" && [ "$(systemctl is-enabled pptpgw)" = disabled ]'
apt_quiet purge pptpgw
rm -rf /etc/systemd/system/pptpgw.service.d

e2e_finish
