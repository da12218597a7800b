#!/bin/bash
# The 8-host topology of t_multi_host.sh with plain MASQUERADE and no pptpgw
# (and no kernel helper): the tunnels must fail.  This is what shows that the
# 8-host test can fail at all.  First, in the same run, the same 8 clients
# and pptpd with no NAT in the way must all work: otherwise the failure would
# only show a broken machine (the test then fails).
set -u
# Before netlab.sh, which sets its own default.
E2E_RATE=${E2E_RATE:-200}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
NHOSTS=${NHOSTS:-8}
E2E_TIMEOUT=${E2E_TIMEOUT:-25}

E2E_CALL_ID=4660 e2e_prove_peers "$NHOSTS"

topo_up "$NHOSTS"
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	E2E_CALL_ID=4660 start_client "$i"
done
wait_clients $((E2E_TIMEOUT + 5))
ok=$E2E_CLIENTS_OK
good=0
results_summary >/dev/null 2>&1 || true
for id in "${E2E_CLIENTS[@]}"; do
	line=$(grep -E "^pppspeak id=$id " "$E2E_RUN/results/clients.report" 2>/dev/null | tail -n1)
	v=$(e2e_field "$line" intact)
	[ "${v:-0}" -ge "$E2E_FRAMES" ] && good=$((good + 1))
done
e2e_log "without pptpgw: $ok of $NHOSTS clients succeeded, $good tunnels carried $E2E_FRAMES frames"
rc=1
[ "$good" -lt "$NHOSTS" ] && [ "$ok" -lt "$NHOSTS" ] && rc=0
e2e_result "without pptpgw the $NHOSTS tunnels fail ($good of $NHOSTS carried traffic)" $rc
e2e_finish
