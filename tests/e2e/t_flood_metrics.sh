#!/bin/bash
# A local user stalls the metrics port while inside hosts' tunnels run
# (issue 10).  pptpgw runs with --no-fastpath, so that every GRE frame of
# hosts 1 and 2 waits for a verdict from the same event loop that serves
# /metrics.  While their real tunnels run (E2E_FRAMES each way at
# E2E_RATE), round after round of NSLOW clients on the gateway open
# connections to 127.0.0.1:9723 and never finish their request head, half
# of them past its 8 KiB limit (pptpprobe --slow-http).
#  - every round: pptpgw grows by less than 8 MB, a fresh scrape is
#    answered, and every slow client is dropped within the timeout;
#  - hosts 1 and 2's tunnels carry their frames intact.
# Usage: t_flood_metrics.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-300}
E2E_FRAMES=${E2E_FRAMES:-4500}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
NSLOW=300

flood_phase 2 "[limits]\n" --no-fastpath || exit 1
# pptpgw's tables become resident at its first tick (see t_lifecycle)
sleep 1
start_client 1
start_client 2
rounds=0 bad=0
: >"$E2E_RUN/slow.out"
while ! clients_done && [ "$(date +%s)" -lt $((FLOOD_T0 + E2E_TIMEOUT + 20)) ]; do
	gw_exec "$PPTPPROBE" --slow-http 127.0.0.1:9723 --clients "$NSLOW" \
		--pid "$PPTPGW_PID" --timeout 8 >>"$E2E_RUN/slow.out" 2>&1 || bad=$((bad + 1))
	rounds=$((rounds + 1))
done
wait_clients 1 >/dev/null
cat "$E2E_RUN/slow.out" >&2
e2e_log "$rounds rounds of $NSLOW slow clients while the tunnels ran, $bad failed"
# A round starts only while the tunnels run; on a quick machine they may
# end during the first (a round waits out the slow clients' timeout).
expect "every round: pptpgw stays small, a scrape gets in, the slow clients are dropped ($bad of $rounds failed)" \
	eval '[ "$rounds" -ge 1 ] && [ "$bad" = 0 ]'
e2e_log "pptpgw: $(gw_counters_nonzero)"
tunnels_result 2 "hosts 1 and 2's tunnels (every frame through the queue) carry their frames intact meanwhile"
expect "pptpgw still running" gw_alive
flood_phase_end
e2e_finish
