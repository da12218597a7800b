# shellcheck shell=bash
# pptpgw on the lab's gateway: start it, ask it, check it.  Sourced after
# netlab.sh and e2e_init as `. lab/gw.sh BUILD_DIR`.

E2E_BUILD=$(readlink -f "${1:-.}")
PPTPGW=${PPTPGW:-$E2E_BUILD/pptpgw}
PPTPGWCTL=${PPTPGWCTL:-$E2E_BUILD/pptpgwctl}
GW_SOCK="$E2E_RUN/pptpgw.sock"

# start_pptpgw [ARGS...]: pptpgw --wan wan0 in the gateway netns; waits until
# its control socket answers.  Fails the test if it does not come up.
start_pptpgw() {
	local k
	# The saved call table in the run directory, never the host's /run.
	start_gw_cmd "$PPTPGW" --wan "$GW_WAN" -s "$GW_SOCK" \
		--state-file "$E2E_RUN/state" -v "$@"
	PPTPGW_PID=$GW_CMD_PID
	for k in $(seq 1 50); do
		"$PPTPGWCTL" -s "$GW_SOCK" status >/dev/null 2>&1 && return 0
		kill -0 "$PPTPGW_PID" 2>/dev/null || break
		sleep 0.1
	done
	e2e_log "pptpgw did not start"
	cat "$E2E_RUN/logs/gw_cmd.log" >&2
	return 1
}

ctl() { "$PPTPGWCTL" -s "$GW_SOCK" "$@"; }

# stop_pptpgw: SIGTERM, wait for it to remove its rules and exit.
stop_pptpgw() { stop_gw_cmd "$PPTPGW_PID"; }

# ctl_json CMD JQ: a jq expression over a --json answer.
ctl_json() { ctl --json "$1" | jq -r "$2"; }

# gw_alive: pptpgw still running (not crashed)?
gw_alive() { kill -0 "$PPTPGW_PID" 2>/dev/null; }

# wait_until SECONDS CMD...: poll CMD every 0.2 s.
wait_until() {
	local end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

calls_empty() { [ "$(ctl_json status .calls)" = 0 ]; }

# GRE packet accounting at both ends, to prove the gateway loses nothing:
# count_gre_install adds counting rules on every host and on the server.
count_gre_install() {
	local i
	for i in $(seq 1 "$E2E_NHOSTS"); do
		host_exec "$i" iptables -A OUTPUT -p gre
		host_exec "$i" iptables -A INPUT -p gre
	done
	srv_exec iptables -A INPUT -p gre
	srv_exec iptables -A OUTPUT -p gre
}

# count_gre NS-RUNNER CHAIN: packets counted by the GRE rule of CHAIN.
count_gre() {
	"$1" iptables -nvxL "$2" 2>/dev/null | awk '$3 == "47" || $3 == "gre" {n += $1} END {print n + 0}'
}

# hosts_gre CHAIN: the sum over all inside hosts.
hosts_gre() {
	local i n=0
	for i in $(seq 1 "$E2E_NHOSTS"); do
		n=$((n + $(host_exec "$i" iptables -nvxL "$1" 2>/dev/null |
			awk '$3 == "47" || $3 == "gre" {n += $1} END {print n + 0}')))
	done
	echo "$n"
}

# find_tool VAR NAME: VAR from the environment, else the test tool NAME
# that CMake built ($BUILD/tests/NAME); exits 1 when it is not built.
find_tool() { lab_tool "$1" "$2" "$E2E_BUILD"; }

# gwstat NAME: one pptpgw counter
gwstat() { ctl_json stats ".$1"; }

# gre_count WHERE OUT SECONDS FILTERS...: start "gretool count" in the
# background in WHERE (srv or a host number) writing to OUT; returns once
# its raw socket is open.  Its pid is in $COUNT_PID (bounded by SECONDS).
gre_count() {
	local where=$1 out=$2 secs=$3 k
	shift 3
	rm -f "$out.ready"
	if [ "$where" = srv ]; then
		srv_exec "$GRETOOL" count --seconds "$secs" --ready "$out.ready" "$@" >"$out" &
	else
		host_exec "$where" "$GRETOOL" count --seconds "$secs" --ready "$out.ready" "$@" >"$out" &
	fi
	COUNT_PID=$!
	E2E_PIDS+=("$COUNT_PID")
	for k in $(seq 1 50); do
		[ -e "$out.ready" ] && return 0
		sleep 0.05
	done
	e2e_log "gretool count in $where did not start"
	return 1
}

# scrape: pptpgw's Prometheus endpoint, over plain HTTP/1.0 from the gateway
# netns (no curl needed); metric 'NAME{LABELS}': one sample's value.
scrape() {
	gw_exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/9723 &&
		printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && cat <&3'
}
metric() { scrape | awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print "missing"}'; }

# calls_flowing N FIELD MIN: N established calls, each with FIELD > MIN
# (packets_out or packets_in).
calls_flowing() {
	[ "$(ctl_json calls "[.[] | select(.state == \"established\" and .$2 > $3)] | length")" = "$1" ]
}

# require_flowing SECONDS N FIELD MIN WHAT: wait for calls_flowing, or end
# the test with WHAT failed.
require_flowing() {
	if ! wait_until "$1" calls_flowing "$2" "$3" "$4"; then
		ctl calls >&2
		e2e_result "$5" 1
		e2e_finish
		exit 1
	fi
	ctl calls >&2
}

# ---- relay mode (t_relay_*.sh) ---------------------------------------------

# rstat NAME / rstatus NAME: a counter from `stats` / a field of `status`;
# "missing" when the daemon has no such field (which fails any numeric test).
rstat() { ctl_json stats ".$1 // \"missing\""; }
rstatus() { ctl_json status ".$1 // \"missing\""; }

# ge A B: A >= B, both numbers (false, not an error, when either is not).
ge() { [ "$1" -ge "$2" ] 2>/dev/null; }

# relay_rows [STATE]: relayed calls in the call table (in STATE if given).
relay_rows() {
	if [ -n "${1:-}" ]; then
		ctl_json calls "[.[] | select(.mode == \"relay\" and .state == \"$1\")] | length"
	else
		ctl_json calls '[.[] | select(.mode == "relay")] | length'
	fi
}

# relay_idle: no call of either mode, no relay connection, no relayed call.
relay_idle() {
	calls_empty && [ "$(rstatus relay_conns)" = 0 ] &&
		[ "$(rstatus relay_calls_active)" = 0 ]
}

# gw_fds: how many file descriptors pptpgw holds open.
gw_fds() { ls "/proc/$PPTPGW_PID/fd" 2>/dev/null | wc -l; }

# relay_counters: the relay_* counters, one "name value" a line, for logs.
relay_counters() {
	ctl_json stats 'to_entries[] | select(.key | startswith("relay_")) | "\(.key) \(.value)"'
}

# find_grequeue: GREQUEUE from the environment, else the build's.
find_grequeue() { find_tool GREQUEUE grequeue; }

# start_grequeue WHERE QUEUE REPORT [ARGS...]: grequeue on QUEUE in WHERE
# (srv, or a host number), fed by a GRE rule in WHERE's OUTPUT chain; ARGS
# are its damage options (none: it only watches).  Returns once the queue is
# bound.  stop_grequeue WHERE QUEUE removes the rule, then stops it (held
# packets are released) and waits; its line is then in REPORT.
declare -A GREQUEUE_PIDS=()
start_grequeue() {
	local where=$1 q=$2 rep=$3 ns
	local -a run=(srv_exec)
	shift 3
	[ "$where" = srv ] || run=(host_exec "$where")
	rm -f "$rep.ready"
	ns=$NS_SRV
	[ "$where" = srv ] || ns=$(host_ns "$where")
	# not through srv_exec/host_exec: the pid must be grequeue's own
	ip netns exec "$ns" "$GREQUEUE" --queue "$q" --report "$rep" \
		--ready "$rep.ready" "$@" 2>>"$E2E_RUN/logs/grequeue-$where.log" &
	GREQUEUE_PIDS[$where:$q]=$!
	E2E_PIDS+=("$!")
	for _ in $(seq 1 50); do
		[ -e "$rep.ready" ] && break
		sleep 0.05
	done
	if [ ! -e "$rep.ready" ]; then
		e2e_log "grequeue in $where did not start"
		return 1
	fi
	"${run[@]}" iptables -A OUTPUT -p gre -j NFQUEUE --queue-num "$q" --queue-bypass
	e2e_log "grequeue on queue $q in $where (pid ${GREQUEUE_PIDS[$where:$q]}): ${*:-watch only}"
}

stop_grequeue() {
	local where=$1 q=$2 p
	local -a run=(srv_exec)
	[ "$where" = srv ] || run=(host_exec "$where")
	"${run[@]}" iptables -D OUTPUT -p gre -j NFQUEUE --queue-num "$q" --queue-bypass 2>/dev/null
	p=${GREQUEUE_PIDS[$where:$q]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "GREQUEUE_PIDS[$where:$q]"
}

# kill_server: the upstream goes away: SIGKILL every process in the server
# netns (pptpd, its pptpctrl children, their pppspeak), all started by this
# test; the kernel then closes their TCP connections.  Returns once they are
# gone.
kill_server() {
	local p
	for p in $(ip netns pids "$NS_SRV" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait "$PPTPD_PID" 2>/dev/null
	# that pid is gone: topo_down must not signal it (it may be reused)
	local -a keep=()
	for p in "${E2E_PIDS[@]}"; do
		[ "$p" = "$PPTPD_PID" ] || keep+=("$p")
	done
	E2E_PIDS=("${keep[@]}")
	for _ in $(seq 1 50); do
		[ -z "$(ip netns pids "$NS_SRV" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	e2e_log "processes left in the server netns: $(ip netns pids "$NS_SRV" | tr '\n' ' ')"
	return 1
}

# delta A B: B - A when both are numbers, else "missing" (so a counter the
# daemon lacks fails the comparison instead of ending the script).
delta() {
	if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo missing
	fi
}

# relay_flowing N MIN: N relayed calls established, each with more than MIN
# frames relayed each way.
relay_flowing() {
	[ "$(ctl_json calls "[.[] | select(.mode == \"relay\" and .state == \"established\"
		and .packets_out > $2 and .packets_in > $2)] | length")" = "$1" ]
}

# wire_call_ids WHERE SRC DST SECONDS: the Call IDs of the GRE data packets
# WHERE (srv or a host number) sends from SRC to DST during SECONDS, one a
# line (grequeue watching only, on queue 4999).  This is how a test learns
# the Call ID a relayed client addresses the relay by.
wire_call_ids() {
	local where=$1 src=$2 dst=$3 secs=$4 rep="$E2E_RUN/wire-$1-$$-$RANDOM.report"
	start_grequeue "$where" 4999 "$rep" >&2 || return 1
	sleep "$secs"
	stop_grequeue "$where" 4999
	sed -n "s/^grequeue-flow src=$src dst=$dst call=\([0-9]*\) .*/\1/p" "$rep"
}

# gw_fds_are N: pptpgw holds exactly N file descriptors.
gw_fds_are() { [ "$(gw_fds)" = "$1" ]; }

# relay_rows_are N: exactly N relayed calls in the call table.
relay_rows_are() { [ "$(relay_rows)" = "$1" ]; }

# sample_calls SECONDS N [MODE]: sample the call table until N calls (of
# MODE, default any) are established at once, or SECONDS pass.  Every
# established call seen goes to $E2E_RUN/calls.uniq, one line each:
# "mode inside inside_call_id alias server public".  The most seen up at
# once is in $SAMPLED_MAX_UP.
sample_calls() {
	local secs=$1 n=$2 mode=${3:-} end j up
	SAMPLED_MAX_UP=0
	: >"$E2E_RUN/calls.seen"
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		j=$(ctl --json calls) || break
		printf '%s\n' "$j" | jq -r '.[] | select(.state == "established") |
			"\(.mode) \(.inside) \(.inside_call_id) \(.alias) \(.server) \(.public)"' \
			>>"$E2E_RUN/calls.seen"
		up=$(printf '%s\n' "$j" | jq --arg m "$mode" \
			'[.[] | select(.state == "established" and ($m == "" or .mode == $m))] | length')
		[ "$up" -gt "$SAMPLED_MAX_UP" ] && SAMPLED_MAX_UP=$up
		[ "$SAMPLED_MAX_UP" -ge "$n" ] && ctl calls >&2 && break
		sleep 0.3
	done
	sort -u "$E2E_RUN/calls.seen" >"$E2E_RUN/calls.uniq"
}

# pptpgw's packet mark (the default [gateway] mark): what left the WAN without
# it went around pptpgw.
GW_MARK=0x10000000

# The established calls as "inside call-id alias", sorted.
call_set() {
	ctl --json calls 2>/dev/null | jq -r '.[] | select(.state == "established") |
		"\(.inside) \(.inside_call_id) \(.alias)"' | sort
}
gre_total_in() {
	ctl --json calls 2>/dev/null | jq '[.[] | .packets_in] | add // 0'
}
# Packets that left by the WAN without our mark: GRE or TCP 1723 that went
# around pptpgw (counted after every chain of ours, in POSTROUTING).
unmarked_install() {
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p gre \
		-m mark ! --mark $GW_MARK/$GW_MARK -m comment --comment unmarked
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p tcp --dport 1723 \
		-m mark ! --mark $GW_MARK/$GW_MARK -m comment --comment unmarked
	gw_exec iptables -t mangle -A POSTROUTING -o "$GW_WAN" -p tcp --sport 1723 \
		-m mark ! --mark $GW_MARK/$GW_MARK -m comment --comment unmarked
}
unmarked() {
	gw_exec iptables -t mangle -L POSTROUTING -v -x -n 2>/dev/null |
		awk 'index($0, "/* unmarked */") { n += $1 } END { print n + 0 }'
}

# ---- one host's floods (t_flood_*.sh) ---------------------------------------

# flood_phase N CONF [ARGS...]: a fresh topology of N hosts, pptpgw with the
# configuration text CONF (printf format) and ARGS, and pptpd.  Each phase of
# a flood test starts so, and ends with flood_phase_end, so that nothing of
# one phase (a saved call table, conntrack entries, pptpd's children) is
# there in the next.
flood_phase() {
	local n=$1 conf=$2
	shift 2
	topo_up "$n"
	# shellcheck disable=SC2059
	printf "$conf" >"$E2E_RUN/phase.conf"
	# pptpgw's log is kept whole (the sanitizer check reads all of it at
	# exit): this phase's lines are those after the ones there now
	FLOOD_LOG_FROM=$(($({ wc -l <"$E2E_RUN/logs/gw_cmd.log"; } 2>/dev/null || echo 0) + 1))
	start_pptpgw -f "$E2E_RUN/phase.conf" "$@" || return 1
	start_pptpd
	# shellcheck disable=SC2034  # read by the tests: when the phase began
	FLOOD_T0=$(date +%s)
}

flood_phase_end() {
	topo_down
	reset_run
	rm -f "$E2E_RUN/state"
}

# clients_done: every client started has finished.
clients_done() {
	local id
	for id in "${E2E_CLIENTS[@]}"; do
		[ -f "$E2E_RUN/clients/$id.rc" ] || return 1
	done
}

# while_clients SECONDS CMD...: run CMD every half second until every client
# finished or SECONDS passed (then wait_clients for E2E_CLIENTS_OK).
while_clients() {
	local end=$(($(date +%s) + $1))
	shift
	while ! clients_done && [ "$(date +%s)" -lt "$end" ]; do
		"$@"
		sleep 0.5
	done
	wait_clients 1 >/dev/null
}

# gw_log_count ERE: lines of pptpgw's log in this phase that match.
gw_log_count() {
	tail -n "+${FLOOD_LOG_FROM:-1}" "$E2E_RUN/logs/gw_cmd.log" | grep -cE "$1"
}

# per_second_ok LINES COUNT SECS: a refusal logged (LINES >= 1), at most
# once a second over SECS (+2 for the edges), for many more refusals.
per_second_ok() {
	[ "${1:-0}" -ge 1 ] && [ "$1" -le $(($3 + 2)) ] && [ "${2:-0}" -gt "$1" ] 2>/dev/null
}

# gw_counters_nonzero: every pptpgw counter that is not 0, on one line (for
# the log of a test that failed, or to say what a flood did).
gw_counters_nonzero() {
	ctl_json stats '[to_entries[] | select(.value != 0 and (.key | startswith("state_") | not)) | "\(.key)=\(.value)"] | join(" ")'
}

# phase_end LABEL: a phase's last checks (the call table empty within 15 s
# of the tunnels closing, pptpgw still running), then the network down for
# the next phase.
phase_end() {
	expect "$1: call table empty after the tunnels closed" wait_until 15 calls_empty
	expect "$1: pptpgw still running" gw_alive
	topo_down
	reset_run
}
