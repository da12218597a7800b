#!/bin/bash
# The configuration file as an admin uses it: pptpgw -f FILE, then SIGHUP
# with a good file, a broken one and one that changes a restart-only
# setting, all while a real tunnel runs.  The call must survive all three,
# the good reload take effect, the others be refused with the reason, and
# `pptpgw -n` name the broken line.
set -u
E2E_RATE=${E2E_RATE:-150}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool PPTPPROBE pptpprobe
E2E_SEND=3000
conf="$E2E_RUN/pptpgw.conf"
log="$E2E_RUN/logs/gw_cmd.log"

write_conf() {   # write_conf CALL_IDLE WAN [EXTRA]
	printf '[gateway]\nwan = %s\n[timeouts]\ncall_idle = %s\n%s\n' "$2" "$1" "${3:-}" >"$conf"
}
calls_now() { ctl_json status .calls; }
hup() { kill -HUP "$PPTPGW_PID"; sleep 0.5; }

topo_up 1
write_conf 300 "$GW_WAN"
start_gw_cmd "$PPTPGW" -f "$conf" -s "$GW_SOCK" --metrics off --state-file "$E2E_RUN/state"
PPTPGW_PID=$GW_CMD_PID
wait_until 5 ctl status >/dev/null || { e2e_log "pptpgw did not start"; cat "$log" >&2; exit 1; }
start_pptpd
start_client 1
expect "a call is up through pptpgw started from a config file" wait_until 20 eval '[ "$(calls_now)" = 1 ]'

# The JSON answers: the fields and types scripts rely on.
ctl --json calls | jq -e 'length == 1 and (.[0] | (.call|type) == "number" and
	(.inside|type) == "string" and (.inside_call_id|type) == "number" and
	(.server|type) == "string" and (.server_call_id|type) == "number" and
	(.alias|type) == "number" and (.public|type) == "string" and
	.mode == "translate" and .state == "established" and
	(.age_s|type) == "number" and (.packets_out|type) == "number" and
	(.packets_in|type) == "number" and (.bytes_out|type) == "number" and
	(.bytes_in|type) == "number")' >/dev/null &&
ctl --json status | jq -e '(.calls == 1) and (.connections == 1) and (.version|type) == "string"' >/dev/null &&
# GRE through the queue or the kernel's maps (read back once a second).
wait_until 3 eval "ctl --json stats | jq -e '(.gre_out_packets + .gre_out_fastpath_packets > 0) and (.calls_created == 1) and (.queue_dropped|type) == \"number\"' >/dev/null"
e2e_result "pptpgwctl --json: calls, status and stats have their fields and types" $?

# pptpgwctl top: a live view with rates (two rounds, one second apart).
out=$(ctl top -n 2 -i 1)
printf '%s\n' "$out" >&2
rate=$(printf '%s\n' "$out" | awk '$2 ~ /^198\.18\.0\.11:/ {r=$6} END {print r+0}')
awk -v r="$rate" 'BEGIN {exit !(r > 0)}'
e2e_result "pptpgwctl top shows the call and its packet rate ($rate/s out)" $?

# pptpgwctl reload does what SIGHUP does, and says how it went.
out=$(ctl reload)
[ "$out" = "configuration reloaded; 1 calls kept" ]
e2e_result "pptpgwctl reload: $out" $?
out=$(ctl frobnicate 2>&1); code=$?
[ $code = 1 ] && printf '%s\n' "$out" | grep -q "unknown command 'frobnicate'"
e2e_result "pptpgwctl names a bad command and exits 1" $?

# A client that connects and never finishes its line is dropped (5 s):
# closed without an answer, 4 to 8 s after it sent "sta".
out=$("$PPTPPROBE" --slow-unix "$GW_SOCK" --timeout 9); code=$?
printf '%s\n' "$out" >&2
ms=$(printf '%s\n' "$out" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
[ $code = 0 ] && [ "${ms:-0}" -ge 4000 ] && [ "$ms" -le 8000 ]
e2e_result "a control client that never finishes its line is dropped after 5 s" $?

write_conf 120 "$GW_WAN" "[log]
level = debug"
hup
grep -q "configuration reloaded; 1 calls kept" "$log" &&
	[ "$(calls_now)" = 1 ]
e2e_result "SIGHUP with a good file: reloaded, the call kept" $?

printf '[gateway]\nwan = %s\n[timeouts]\ncall_idle = soon\n' "$GW_WAN" >"$conf"
hup
rc=0
grep -q "reload refused, the running configuration stays: $conf:4: bad value for call_idle" "$log" || rc=1
[ "$(calls_now)" = 1 ] || rc=1
out=$("$PPTPGW" -n -f "$conf" 2>&1); code=$?
[ $code = 1 ] && printf '%s\n' "$out" | grep -q "$conf:4: bad value for call_idle" || rc=1
e2e_result "a broken file is refused with its line; pptpgw -n names it too" $rc

write_conf 300 "eth9"
hup
grep -q "reload refused: 'wan' changed, which needs a restart" "$log" &&
	[ "$(calls_now)" = 1 ]
e2e_result "a restart-only change is refused, the call kept" $?

wait_clients "$E2E_TIMEOUT"
expect "the tunnel carried its frames through three reloads" results_summary
expect "pptpgw still running" gw_alive
e2e_finish
