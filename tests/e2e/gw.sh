# shellcheck shell=bash
# pptpgw on the harness's gateway: start it, ask it, check it.  Sourced after
# lib.sh and e2e_init as `. gw.sh BUILD_DIR`.

E2E_BUILD=$(readlink -f "${1:-.}")
PPTPGW=${PPTPGW:-$E2E_BUILD/pptpgw}
PPTPGWCTL=${PPTPGWCTL:-$E2E_BUILD/pptpgwctl}
GW_SOCK="$E2E_RUN/pptpgw.sock"

# start_pptpgw [ARGS...]: pptpgw --wan wan0 in the gateway netns; waits until
# its control socket answers.  Fails the test if it does not come up.
start_pptpgw() {
	local k
	start_gw_cmd "$PPTPGW" --wan "$GW_WAN" -s "$GW_SOCK" -v "$@"
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
