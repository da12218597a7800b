#!/bin/bash
# pptpgw demo: a throw-away network in namespaces on this machine.  Four
# inside hosts run the real pptp client (pptp-linux), all with the same Call
# ID, behind a NAT gateway that runs pptpgw; a real pptpd answers on the
# other side.  Shows the live call table while the tunnels carry PPP frames,
# then a summary; everything is removed on exit or Ctrl-C.
# Usage: demo.sh BUILD_DIR   (as root; run.sh calls it)
set -u
build=$(readlink -f "${1:-$(dirname "$0")/../build}")
lab=$(cd "$(dirname "$0")/../lab" && pwd)
NHOSTS=${DEMO_HOSTS:-4}
E2E_RATE=${E2E_RATE:-100}
E2E_FRAMES=${E2E_FRAMES:-1000}
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
. "$lab/netlab.sh"
e2e_init "$build"
. "$lab/gw.sh" "$build"

cat <<EOT
pptpgw demo
  $NHOSTS inside hosts 198.18.0.11-$((10 + NHOSTS)), each a real pptp client, all using Call ID 4660
  gateway: MASQUERADE to 203.0.113.1 on wan0, pptpgw running, no kernel PPTP helper
  server: real pptpd on 203.0.113.2
  every tunnel sends $E2E_FRAMES PPP frames each way at $E2E_RATE/s

EOT
topo_up "$NHOSTS"
start_pptpgw || exit 1
start_pptpd
for i in $(seq 1 "$NHOSTS"); do
	E2E_CALL_ID=4660 start_client "$i" 2>/dev/null
done

# The live call table, refreshed until every client is done.
end=$(($(date +%s) + E2E_TIMEOUT))
while [ "$(date +%s)" -lt "$end" ]; do
	done_n=$(ls "$E2E_RUN"/clients/*.rc 2>/dev/null | wc -l)
	[ -t 1 ] && printf '\033[H\033[2J'
	echo "pptpgw call table ($(date +%T)), $done_n of $NHOSTS tunnels finished:"
	ctl calls
	echo
	[ "$done_n" -ge "$NHOSTS" ] && break
	sleep 1
done
wait_clients 5 >/dev/null

echo "== summary"
ok=0
for i in $(seq 1 "$NHOSTS"); do
	c=$(grep -E "^pppspeak id=h${i}c1 " "$E2E_RUN/results/clients.report" 2>/dev/null | tail -n1)
	s=$(grep -E "^pppspeak id=server peer=h${i}c1 " "$E2E_RUN/results/server.report" 2>/dev/null | tail -n1)
	cin=$(e2e_field "$c" intact); sin=$(e2e_field "$s" intact)
	printf '  host %d: server->host %s frames intact, host->server %s frames intact\n' \
		"$i" "${cin:-0}" "${sin:-0}"
	[ "${cin:-0}" -ge "$E2E_FRAMES" ] && [ "${sin:-0}" -ge "$E2E_FRAMES" ] && ok=$((ok + 1))
done
echo "  tunnels working: $ok of $NHOSTS"
ctl stats | grep -E '^(calls_created|gre_(in|out)_packets|ctrl_rewrites|calls_ended_tcp-close) '
echo "  (everything this demo created is removed on exit)"
[ "$ok" = "$NHOSTS" ]
