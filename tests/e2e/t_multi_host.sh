#!/bin/bash
# 8 inside hosts, each with its own control connection and all with the same
# Call ID, one real pptpd server, pptpgw on the MASQUERADE gateway and no
# kernel helper.  Every tunnel must carry E2E_FRAMES frames each way, all
# intact, under 8 distinct aliases; after the calls end the call table must
# be empty.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/gw.sh" "${1:-}"
NHOSTS=${NHOSTS:-8}
SAME_ID=4660
# pptpd gives every connection its own GRE raw socket, and every one of them
# gets every tunnel's GRE from the one public address: under load their
# buffers overflow (the drops column of /proc/net/raw, with the kernel helper
# too).  So each side sends more than the E2E_FRAMES that must arrive intact.
E2E_RATE=${E2E_RATE:-200}
E2E_SEND=${E2E_SEND:-1300}

topo_up "$NHOSTS"
start_pptpgw || exit 1
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	E2E_CALL_ID=$SAME_ID start_client "$i"
done

# While the tunnels run: one call per host, all with the inside ID forced
# above, each under its own alias.
all_up() { [ "$(ctl_json calls '[.[] | select(.state == "established")] | length')" = "$NHOSTS" ]; }
if wait_until 30 all_up; then
	ctl calls >&2
	ids=$(ctl_json calls '[.[].inside_call_id] | unique | join(",")')
	aliases=$(ctl_json calls '[.[].alias] | unique | length')
	hosts=$(ctl_json calls '[.[].inside] | unique | length')
	rc=0
	[ "$ids" = "$SAME_ID" ] && [ "$aliases" = "$NHOSTS" ] && [ "$hosts" = "$NHOSTS" ] || rc=1
	e2e_log "inside call ids: $ids; distinct aliases: $aliases; hosts: $hosts"
else
	rc=1
	e2e_log "never saw $NHOSTS established calls"
	ctl calls >&2
fi
e2e_result "$NHOSTS hosts share Call ID $SAME_ID and get $NHOSTS distinct aliases" $rc

wait_clients "$E2E_TIMEOUT"
ok=$E2E_CLIENTS_OK
results_summary
rc=$?
[ "$ok" = "$NHOSTS" ] || rc=1
e2e_log "$ok of $NHOSTS clients succeeded"
[ $rc = 0 ] || e2e_dump_logs
e2e_result "$NHOSTS tunnels through pptpgw, >= $E2E_FRAMES frames each way, none corrupt or duplicated" $rc

rc=0
wait_until 15 calls_empty || rc=1
ctl status >&2
ctl stats | grep -E '^(calls_|gre_|ctrl_(malformed|rewrites))' >&2
e2e_result "call table empty after the tunnels closed" $rc
gw_alive
e2e_result "pptpgw still running" $?

e2e_finish
