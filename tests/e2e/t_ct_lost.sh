#!/bin/bash
# Lost conntrack events (issue 10, item 8).  A control connection through
# pptpgw ends while pptpgw's conntrack event socket is full (pptpgw is
# stopped with SIGSTOP, and a flush of 20,000 other TCP entries fills the
# socket first), so its destroy event is lost.  Before the fix the record
# stayed until its idle timeout (15 minutes), blocking its 4-tuple; now
# the lost events make pptpgw read conntrack's table and remove the
# records conntrack no longer has, and keep those it has.
# Positive control: the same two connections are recorded before, and a
# destroy event that is not lost removes a record (a third connection).
# Usage: t_ct_lost.sh BUILD_DIR
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
find_tool CTFILL ctfill

conns() { ctl_json status .connections; }
# hold_conn HOST CALL_ID: a control connection with a call, held 60 s
hold_conn() {
	host_exec "$1" "$PPTPPROBE" --server "$SRV_IP" --call-id "$2" --timeout 10 \
		--hold 60 --coalesce >"$E2E_RUN/probe-$1-$2.out" 2>&1 &
	E2E_PIDS+=("$!")
}
ct_del_host() {  # ct_del_host HOST: delete its flows to port 1723
	gw_exec conntrack -D -p tcp -s "$(host_ip "$1")" --dport 1723 >/dev/null 2>&1
}

topo_up 2
start_pptpgw || exit 1
start_pptpd
hold_conn 1 301
hold_conn 2 302
wait_until 15 eval '[ "$(conns)" = 2 ]'
expect "positive control: both held control connections recorded" [ "$(conns)" = 2 ]

# A destroy event that arrives ends its record (the usual path).
hold_conn 1 303
wait_until 15 eval '[ "$(conns)" = 3 ]'
gw_exec conntrack -D -p tcp -s "$(host_ip 1)" --dport 1723 --sport \
	"$(gw_exec conntrack -L -p tcp --dport 1723 -s "$(host_ip 1)" 2>/dev/null |
		sed -n 's/.* sport=\([0-9]*\) dport=1723 .*/\1/p' | sort -n | tail -1)" >/dev/null 2>&1
wait_until 5 eval '[ "$(conns)" = 2 ]'
expect "positive control: a destroy event that arrives ends the record" [ "$(conns)" = 2 ]

# ---- lose host 1's destroy: pptpgw not reading, its socket full first
lost0=$(grep -c "conntrack events lost" "$E2E_RUN/logs/gw_cmd.log" 2>/dev/null)
kill -STOP "$PPTPGW_PID"
gw_exec "$CTFILL" 20000 >&2
gw_exec conntrack -D -p tcp --dport 80 >/dev/null 2>&1
ct_del_host 1
e2e_log "conntrack now: $(gw_exec conntrack -L -p tcp --dport 1723 2>/dev/null | wc -l) flow(s) to 1723"
kill -CONT "$PPTPGW_PID"
wait_until 10 eval '[ "$(conns)" = 1 ]'
n=$(conns)
e2e_log "records after the lost events: $n; pptpgw said: $(grep "conntrack events lost" "$E2E_RUN/logs/gw_cmd.log" | tail -1)"
lost1=$(grep -c "conntrack events lost" "$E2E_RUN/logs/gw_cmd.log" 2>/dev/null)
expect "the event socket overflowed (pptpgw logged lost events)" [ "$lost1" -gt "${lost0:-0}" ]
expect "after the lost destroy, host 1's record is gone and host 2's kept ($n left)" [ "$n" = 1 ]
expect "host 2 still sets up calls (a new control connection and call)" \
	host_exec 2 "$PPTPPROBE" --server "$SRV_IP" --call-id 304 --timeout 10 --coalesce
e2e_finish
