#!/bin/bash
# What an admin meets at start and stop, without systemd (the unit relies on
# each of these):
#  - pptpgw -n and the start both name a missing WAN interface; the start
#    exits 78 (a configuration error: the unit does not restart on it);
#  - readiness goes to $NOTIFY_SOCKET (Type=notify) once pptpgw runs, and a
#    failed start leaves its reason as the STATUS;
#  - a queue number another program holds is named by -n and refused at
#    start (78); a running pptpgw's own queue is not an error for -n;
#  - the capability, not the user id, decides the "no CAP_NET_ADMIN" warning;
#  - pptpgwctl tells "not running" from "permission denied";
#  - start and stop leave the ruleset as they found it, and the kernel
#    helper check creates no iptables-legacy table.
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool LOGSINK logsink
topo_up 1

out=$E2E_RUN/out
run_gw() {  # run_gw ARGS...: pptpgw in the gateway netns; status in $st
	gw_exec "$PPTPGW" --state-file "$E2E_RUN/state" "$@" >"$out" 2>&1
	st=$?
	sed 's/^/  | /' "$out" >&2
}
said() { grep -q -- "$1" "$out"; }

# ---- a missing WAN interface
run_gw -n -f /dev/null --wan "$GW_WAN" -s "$E2E_RUN/x.sock"
expect "control: pptpgw -n passes with the real WAN ($st)" [ "$st" = 0 ]
run_gw -n -f /dev/null --wan nosuch0
expect "pptpgw -n: 'WAN interface nosuch0: no such interface', exit 1 ($st)" \
	eval '[ "$st" = 1 ] && said "WAN interface nosuch0: no such interface"'
sink_start() {
	rm -f "$E2E_RUN/notify.log"
	"$LOGSINK" "$E2E_RUN/notify.sock" "$E2E_RUN/notify.log" 120 &
	SINK_PID=$!
	E2E_PIDS+=("$SINK_PID")
	wait_until 5 test -S "$E2E_RUN/notify.sock"
}
sink_stop() { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
sink_start
NOTIFY_SOCKET=$E2E_RUN/notify.sock run_gw -f /dev/null --wan nosuch0 -s "$E2E_RUN/x.sock" --metrics off
sleep 0.3
expect "the start names the missing interface and exits 78 ($st)" \
	eval '[ "$st" = 78 ] && said "WAN interface nosuch0: no such interface"'
expect "the failed start leaves its reason as the STATUS" \
	grep -q "STATUS=not started: WAN interface nosuch0: no such interface" "$E2E_RUN/notify.log"
sink_stop

# ---- readiness, and the ruleset as found
rules0=$(gw_exec nft list ruleset)
sink_start
NOTIFY_SOCKET=$E2E_RUN/notify.sock start_pptpgw
expect "readiness (READY=1) reaches the notify socket" \
	wait_until 5 grep -q "READY=1" "$E2E_RUN/notify.log"
grep -h . "$E2E_RUN/notify.log" >&2
# Its own queue, while it runs: a note, not an error.
run_gw -n -f /dev/null --wan "$GW_WAN" -s "$GW_SOCK"
expect "pptpgw -n beside the running pptpgw: its queue is no error ($st)" \
	eval '[ "$st" = 0 ] && said "in use by the pptpgw running now"'
# The same queue for another instance: named by -n, refused at start.
run_gw -n -f /dev/null --wan "$GW_WAN" -s "$E2E_RUN/other.sock"
expect "pptpgw -n names a queue another program holds ($st)" \
	eval '[ "$st" = 1 ] && said "queue 1723 is in use by another program"'
run_gw -f /dev/null --wan "$GW_WAN" -s "$E2E_RUN/other.sock" --metrics off
expect "a second pptpgw on the same queue refuses to start, exit 78 ($st)" \
	eval '[ "$st" = 78 ] && said "queue 1723 is in use"'
expect "the first one still runs" gw_alive

# ---- clients that leave before their answer: the control socket and
# /metrics write to a closed peer; that must not end pptpgw (SIGPIPE).
hang_up_early() {
	kill -STOP "$PPTPGW_PID"
	timeout 0.5 "$PPTPGWCTL" -s "$GW_SOCK" stats >/dev/null 2>&1
	gw_exec timeout 0.5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9723 &&
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && exec 3>&-' 2>/dev/null
	kill -CONT "$PPTPGW_PID"
	sleep 0.5
}
hang_up_early
expect "clients leaving before their answer (control socket, /metrics) do not end pptpgw" gw_alive
expect "... which still answers" ctl status

# ---- pptpgwctl: not running, and not allowed
"$PPTPGWCTL" -s "$E2E_RUN/none.sock" status >"$out" 2>&1
expect "pptpgwctl without a daemon: 'daemon not running'" said "daemon not running: no socket"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PPTPGWCTL" -s "$GW_SOCK" status >"$out" 2>&1
prc=$?
sed 's/^/  | /' "$out" >&2
expect "pptpgwctl for a user outside the group: 'permission denied', exit 1 ($prc)" \
	eval '[ "$prc" = 1 ] && said "permission denied"'

stop_pptpgw
sink_stop
rules1=$(gw_exec nft list ruleset)
if [ "$rules0" != "$rules1" ]; then
	diff <(printf '%s\n' "$rules0") <(printf '%s\n' "$rules1") >&2
fi
expect "start and stop leave the ruleset as they found it" [ "$rules0" = "$rules1" ]
expect "no iptables-legacy table was made (the helper check reads what exists)" \
	eval '[ -z "$(gw_exec cat /proc/net/ip_tables_names)" ]'

# ---- the capability, not the user id
caps=(setpriv --reuid=nobody --regid=nogroup --clear-groups
      --inh-caps=+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw)
gw_exec "${caps[@]}" "$PPTPGW" -f /dev/null --wan nosuch0 -s "$E2E_RUN/x.sock" --metrics off >"$out" 2>&1
expect "a non-root user with CAP_NET_ADMIN gets no capability warning" \
	eval '! said "no CAP_NET_ADMIN"'
gw_exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$PPTPGW" \
	-f /dev/null --wan nosuch0 -s "$E2E_RUN/x.sock" --metrics off >"$out" 2>&1
expect "control: one without it is warned" said "no CAP_NET_ADMIN"

e2e_finish
