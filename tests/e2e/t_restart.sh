#!/bin/bash
# Restart without losing calls (issue 10): 8 inside hosts, each with its own
# control connection to a real pptpd, tunnels carrying frames through
# pptpgw; pptpgw is killed and started again at once, ROUNDS times.  After
# every restart all 8 calls are listed again with the same inside host,
# Call ID and alias, and traffic goes on; at the end every tunnel has its
# frames intact.  Throughout, no GRE or TCP 1723 packet leaves by the WAN
# without pptpgw's mark: while pptpgw is down the queue stays closed.
#   queue    kill -9, --no-fastpath (every packet through the queue)
#   fast     kill -9, the kernel fast path on
#   term     SIGTERM then start (the systemctl restart path), fast path on
#   off      the control: --state-file off, one kill -9: calls are lost
#   termoff  the control of the "around pptpgw" count: --state-file off,
#            SIGTERM: the stop removes the rules, and in the gap packets
#            leave unmarked
#   relay    --relay all, 2 hosts, kill -9: relayed calls cannot outlive the
#            process; their clients see the end at once (their control
#            connections close), and nothing of them comes back
# PHASES (default "queue fast term off termoff relay") and ROUNDS (10) choose.
set -u
E2E_RATE=${E2E_RATE:-50}
E2E_SEND=${E2E_SEND:-3000}      # 60 s of frames, across every restart
E2E_FRAMES=${E2E_FRAMES:-2000}  # intact each way: gaps cost a few each
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NHOSTS=${NHOSTS:-8}
ROUNDS=${ROUNDS:-10}
PHASES=${PHASES:-queue fast term off termoff relay}
# pptp-linux processes left on hosts 1..N: the call (it names itself
# pptpgw, for "PPTP GRE") and the call manager (pptpcm).
pptp_left() {
	local i p n=0
	for i in $(seq 1 "$1"); do
		for p in $(ip netns pids "$(host_ns "$i")" 2>/dev/null); do
			case $(cat "/proc/$p/comm" 2>/dev/null) in
			pptp|pptpgw|pptpcm) n=$((n + 1)) ;;
			esac
		done
	done
	echo $n
}
no_pptp_left() { [ "$(pptp_left "$1")" = 0 ]; }
clients_running() {
	local id n=0
	for id in "${E2E_CLIENTS[@]}"; do
		[ -f "$E2E_RUN/clients/$id.rc" ] || n=$((n + 1))
	done
	echo $n
}

# phase NAME SIGNAL ROUNDS [pptpgw ARGS...]
phase() {
	local name=$1 sig=$2 rounds=$3 r i before after kept=0 flowing=0 t0 t1
	local ms total=0 worst=0 bypass running pid inkernel=0 fast=1 u
	shift 3
	case " $* " in *" --no-fastpath "*|*" --state-file off "*) fast=0 ;; esac
	topo_up "$NHOSTS"
	unmarked_install
	start_pptpgw "$@" || { e2e_result "$name: pptpgw starts" 1; topo_down; reset_run; return; }
	start_pptpd
	for i in $(seq 1 "$NHOSTS"); do
		start_client "$i"
	done
	if ! wait_until 40 calls_flowing "$NHOSTS" packets_in 20; then
		ctl calls >&2
		e2e_result "$name: $NHOSTS tunnels up through pptpgw" 1
		topo_down; reset_run; return
	fi
	before=$(call_set)
	printf '%s\n' "$before" >&2
	bypass=$(gw_exec iptables-save | grep -c -- '-j NFQUEUE.*bypass')
	for r in $(seq 1 "$rounds"); do
		pid=$PPTPGW_PID
		t0=$(date +%s%N)
		kill -"$sig" "$pid"
		wait_until 10 eval '! kill -0 '"$pid"' 2>/dev/null'
		wait "$pid" 2>/dev/null
		# Down: the rules stay, and take no bypass.
		[ "$(gw_exec iptables-save | grep -c -- '-j NFQUEUE')" -gt 0 ] ||
			e2e_log "$name round $r: no NFQUEUE rule while pptpgw is down"
		start_pptpgw "$@" || break
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		total=$((total + ms)); [ "$ms" -gt "$worst" ] && worst=$ms
		after=$(call_set)
		running=$(clients_running)
		# With the fast path, the adopted calls are in the kernel's maps.
		if [ $fast = 1 ] && wait_until 3 eval \
			'[ "$(ctl_json status .fastpath_calls)" = '"$NHOSTS"' ]'; then
			inkernel=$((inkernel + 1))
		fi
		if [ "$after" = "$before" ]; then
			kept=$((kept + 1))
		else
			e2e_log "$name round $r: calls after the restart differ:"
			printf '%s\n' "$after" >&2
		fi
		# Traffic goes on: the calls' inbound packets grow within 5 s.
		i=$(gre_total_in)
		if wait_until 5 eval '[ "$(gre_total_in)" -gt '"$i"' ]'; then
			flowing=$((flowing + 1))
		fi
		e2e_log "$name round $r: down for $ms ms, $(printf '%s\n' "$after" | grep -c .) calls listed, $running clients still sending"
		sleep 1
	done
	e2e_log "$name: $kept of $rounds restarts kept all $NHOSTS calls; traffic resumed after $flowing; down $((total / (rounds > 0 ? rounds : 1))) ms on average, $worst ms at most"
	grep -h "state file\|state: adopted\|stopping with" "$E2E_RUN/logs/gw_cmd.log" | tail -n 3 >&2
	if [ "$name" = off ] || [ "$name" = termoff ]; then
		# Nothing to wait for: the clients would only time out.
		e2e_result "$name (control): without the state file a restart loses the calls ($kept of $rounds kept them, traffic resumed after $flowing)" \
			$((kept != 0 || flowing != 0))
		if [ "$name" = termoff ]; then
			u=$(unmarked)
			e2e_result "termoff (control): a stop that removes the rules lets packets leave around pptpgw ($u unmarked): the count sees them" \
				$((u == 0))
		fi
	else
		e2e_result "$name: every restart kept all $NHOSTS calls, same hosts, Call IDs and aliases ($kept of $rounds)" \
			$((kept != rounds))
		e2e_result "$name: traffic went on after every restart ($flowing of $rounds)" \
			$((flowing != rounds))
		[ $fast = 0 ] || e2e_result "$name: after every restart the $NHOSTS calls were in the kernel's maps again ($inkernel of $rounds)" \
			$((inkernel != rounds))
		wait_clients "$E2E_TIMEOUT" >/dev/null
		tunnels_result "$NHOSTS" "$name: $NHOSTS tunnels through $rounds restarts, >= $E2E_FRAMES frames each way intact"
		u=$(unmarked)
		e2e_result "$name: no GRE or TCP 1723 left by the WAN around pptpgw ($u unmarked packets); queue rules without bypass ($bypass)" \
			$((u != 0 || bypass != 0))
	fi
	e2e_log "$name: state file writes of the last pptpgw: $(ctl stats | grep '^state_' | tr '\n' ' ')"
	expect "$name: pptpgw running" gw_alive
	topo_down
	reset_run
}

# Relayed calls end with the process: what their clients see.
relay_phase() {
	local pid t0 ms rc left
	topo_up 2
	start_pptpgw --relay all || { e2e_result "relay: pptpgw starts" 1; topo_down; reset_run; return; }
	start_pptpd
	start_client 1
	start_client 2
	if ! wait_until 40 calls_flowing 2 packets_in 20; then
		ctl calls >&2
		e2e_result "relay: 2 relayed tunnels up" 1
		topo_down; reset_run; return
	fi
	ctl calls >&2
	left=$(pptp_left 2)
	e2e_log "relay: pptp processes on the hosts before the kill: $left"
	e2e_result "relay: each host's call and call manager run before the kill ($left processes)" \
		$((left != 4))
	pid=$PPTPGW_PID
	t0=$(date +%s%N)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	wait_until 20 no_pptp_left 2
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	left=$(pptp_left 2)
	grep -h -E "h[12]c1 .*(peer has closed|reset by peer|Closing connection)" \
		"$E2E_RUN/logs/syslog.txt" 2>/dev/null | head -n 6 >&2
	e2e_log "relay: $left pptp processes left $ms ms after the kill"
	e2e_result "relay: kill -9 ends the relayed sessions at once: every client saw its control connection close and ended ($left pptp processes left after $ms ms)" $rc
	start_pptpgw --relay all || { e2e_result "relay: pptpgw restarts" 1; topo_down; reset_run; return; }
	expect "relay: nothing of the relayed calls comes back ($(ctl_json status .calls) calls listed)" \
		[ "$(ctl_json status .calls)" = 0 ]
	expect "relay: pptpgw running" gw_alive
	topo_down
	reset_run
}

for p in $PHASES; do
	case $p in
	queue) phase queue KILL "$ROUNDS" --no-fastpath ;;
	fast) phase fast KILL "$ROUNDS" ;;
	term) phase term TERM "${TERM_ROUNDS:-3}" ;;
	off) phase off KILL 1 --state-file off ;;
	termoff) phase termoff TERM 1 --state-file off ;;
	relay) relay_phase ;;
	esac
done
e2e_finish
