#!/bin/bash
# Baseline that proves the harness, with no pptpgw involved:
#  (a) the Linux kernel's PPTP conntrack/NAT helper attached on the gateway:
#      2 inside hosts, 1 tunnel each; every tunnel must carry E2E_FRAMES
#      frames each way, all intact.
#  (b) plain MASQUERADE, no helper, nothing else: the tunnels must fail
#      (the server's GRE is never translated back).  Its control, first:
#      the same 2 hosts with no NAT in the way all work.
# Passes only if (a) and the control pass and (b) fails as expected.
# Usage: t_baseline_kernel_helper.sh BUILD_DIR   (PPPSPEAK=path overrides)
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"

NHOSTS=2

# ---- (a) kernel helper: every tunnel must work
topo_up $NHOSTS
gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
start_pptpd
for i in $(seq 1 $NHOSTS); do
	start_client "$i"
done
wait_clients "$E2E_TIMEOUT" >/dev/null
tunnels_result "$NHOSTS" "kernel helper: $NHOSTS hosts, $E2E_FRAMES frames each way per tunnel, all intact"
topo_down
reset_run

# ---- (b) plain MASQUERADE: the tunnels must not work
e2e_prove_peers $NHOSTS
E2E_TIMEOUT=15
topo_up $NHOSTS
start_pptpd
for i in $(seq 1 $NHOSTS); do
	start_client "$i"
done
wait_clients $((E2E_TIMEOUT + 5)) >/dev/null
ok=$E2E_CLIENTS_OK
results_summary "$E2E_FRAMES" >/dev/null 2>&1
e2e_log "(b) $ok of $NHOSTS clients succeeded without the helper"
rc=1
[ "$ok" -lt $NHOSTS ] && rc=0
e2e_result "plain MASQUERADE without helper: tunnels fail as expected ($ok of $NHOSTS worked)" $rc
topo_down

e2e_finish
