#!/bin/bash
# Soak: several inside hosts set up and tear down real PPTP calls (pptp-linux
# to pptpd, through the lab's MASQUERADE gateway) again and again for
# DURATION seconds, against pptpgw built with ASan+UBSan.  Not in the default
# CI run (ten minutes); run it as root:
#
#   sudo tests/soak/t_soak.sh build [build-asan]     # DURATION=600 by default
#
# Every 10 s it samples pptpgw's resident memory (VmRSS in /proc/PID/status)
# and its open descriptors (entries of /proc/PID/fd).  It passes when:
#  - RSS is flat: the largest sample of the last quarter of the run is at
#    most the largest of the first quarter plus SOAK_RSS_SLACK_KB (2048 KiB);
#  - descriptors are flat: the largest count of the last quarter is at most
#    the largest of the first quarter, and once the calls are over pptpgw
#    holds exactly as many as before the first call;
#  - pptpgw, stopped with SIGTERM, exits 0 by itself with no AddressSanitizer,
#    LeakSanitizer or UBSan report: the leak check at exit ran and was clean
#    (a pptpgw that has to be killed fails: its leak check never ran);
#  - the calls worked all along: every host completed cycles, at least
#    SOAK_MIN_OK_PCT (95) % of all cycles carried their frames intact, and
#    the call table is empty at the end.
# The figures go to stdout and, with SOAK_OUT=FILE, to FILE (one line per
# sample: seconds, RSS KiB, descriptors, calls up, call setups so far).
#
# Tunables: DURATION (600 s), NHOSTS (4), SOAK_FRAMES (150 frames each way
# per call, at SOAK_RATE 100/s), SOAK_MODE=relay (--relay all: every call
# relayed, the relay's sockets opened and closed each cycle).  All hosts use
# the same Call ID, so every call is aliased.
set -u
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
top=$(cd "$(dirname "$0")/../.." && pwd)
asan=$(readlink -f "${2:-$top/build-asan}")
# The lab's tools from BUILD (plain, full speed); pptpgw from the ASan build.
PPTPGW=${PPTPGW:-$asan/pptpgw}
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
if [ ! -x "$PPTPGW" ]; then
	echo "error: no $PPTPGW: build it with scripts/build.sh $asan -DPPTPGW_SANITIZE=ON" >&2
	exit 1
fi
if ! grep -q __asan_init "$PPTPGW" 2>/dev/null; then
	echo "error: $PPTPGW is not built with AddressSanitizer (-DPPTPGW_SANITIZE=ON)" >&2
	exit 1
fi
DURATION=${DURATION:-600}
NHOSTS=${NHOSTS:-4}
SAMPLE_S=10
SOAK_RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-2048}
SOAK_MIN_OK_PCT=${SOAK_MIN_OK_PCT:-95}
SOAK_MODE=${SOAK_MODE:-translate}
SAME_ID=4660
# Per call: hello, then SOAK_FRAMES each way at SOAK_RATE/s, then it ends.
E2E_FRAMES=${SOAK_FRAMES:-150}
E2E_SEND=$E2E_FRAMES
E2E_RATE=${SOAK_RATE:-100}
E2E_TIMEOUT=30
export E2E_SANITIZED=1
# Any report ends pptpgw at once (and shows in its log); leaks at exit.
# ASan keeps freed memory in a quarantine (256 MB by default) to catch a use
# after free: with it RSS was still rising by about 60 KiB/s at 3 minutes
# (34.1 MB at 167 s, against 28.4 MB with 1 MB), hiding whether pptpgw
# itself grows.
# 1 MB is full within seconds, so RSS shows pptpgw's own memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:quarantine_size_mb=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
out=${SOAK_OUT:-$E2E_RUN/soak.samples}
HOST_PIDS=()

topo_up "$NHOSTS"
gwargs=()
[ "$SOAK_MODE" = relay ] && gwargs=(--relay all)
start_pptpgw "${gwargs[@]}" || exit 1
start_pptpd
pid=$PPTPGW_PID

# sample T: one line "T RSS_KB FDS CALLS SETUPS" to $out.
sample() {
	local rss fds calls setups
	rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status" 2>/dev/null)
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	calls=$(ctl_json status '.calls + .relay_calls_active' 2>/dev/null)
	setups=$(ctl_json stats '.calls_created + (.relay_calls // 0)' 2>/dev/null)
	echo "$1 ${rss:-0} $fds ${calls:-?} ${setups:-?}" >>"$out"
}

: >"$out"
sample 0
fds_idle0=$(awk 'NR == 1 {print $3}' "$out")

# One loop per host, in its netns and own mount namespace (own
# /var/run/pptp, as start_client): a call, its frames, its end; again.
end=$(($(date +%s) + DURATION))
rnd_for() {
	local f="$E2E_RUN/clients/h$1.random" fmt
	fmt="\\$(printf %03o $((SAME_ID & 255)))\\$(printf %03o $(((SAME_ID >> 8) & 255)))%.0s"
	# shellcheck disable=SC2059
	printf "$fmt" $(seq 1 256) >"$f"
	echo "$f"
}
for i in $(seq 1 "$NHOSTS"); do
	cat >"$E2E_RUN/clients/h$i.sh" <<EOF
#!/bin/sh
n=0
while [ \$(date +%s) -lt $end ]; do
	n=\$((n + 1))
	"$PPPSPEAK" --id "h${i}n\$n" --count "$E2E_SEND" --expect "$E2E_FRAMES" \\
		--rate "$E2E_RATE" --timeout "$E2E_TIMEOUT" \\
		--report "$E2E_RUN/results/clients.report" \\
		--exec "$PPTP_BIN" "$SRV_IP" --nolaunchpppd --nohostroute \\
		--logstring "h${i}n\$n" 2>>"$E2E_RUN/logs/client-h$i.log"
	echo "h${i}n\$n \$?" >>"$E2E_RUN/clients/h$i.cycles"
	sleep 0.5
done
EOF
	chmod 755 "$E2E_RUN/clients/h$i.sh"
	host_exec "$i" env NSRUN_RANDOM="$(rnd_for "$i")" unshare -m "$E2E_RUN/nsrun.sh" \
		/bin/sh "$E2E_RUN/clients/h$i.sh" >>"$E2E_RUN/logs/host$i.log" 2>&1 &
	E2E_PIDS+=("$!")
	HOST_PIDS+=("$!")
	sleep 0.7   # the hosts out of step
done
e2e_log "$NHOSTS hosts calling for $DURATION s ($SOAK_MODE), sampling every $SAMPLE_S s"

t0=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
	sleep "$SAMPLE_S"
	gw_alive || break
	sample $(($(date +%s) - t0))
done
# The last cycles finish (a call takes a few seconds), then the table empties.
for p in "${HOST_PIDS[@]}"; do
	wait "$p" 2>/dev/null
done
expect "pptpgw ran through the soak" gw_alive
wait_until 30 calls_empty
e2e_result "call table empty after the last call" $?
sleep 2
sample end
fds_idle1=$(awk '$1 == "end" {print $3}' "$out")

# Quarters of the samples taken while the hosts called (not 0 or end).
read -r n rss_q1 rss_q4 fds_q1 fds_q4 rss_min rss_max < <(awk '
	BEGIN { n = 0 }
	$1 != "0" && $1 != "end" { t[n] = $1; r[n] = $2; f[n] = $3; n++ }
	END {
		q = int(n / 4); if (q < 1) q = 1
		for (i = 0; i < n; i++) {
			if (i < q) { if (r[i] > r1) r1 = r[i]; if (f[i] > f1) f1 = f[i] }
			if (i >= n - q) { if (r[i] > r4) r4 = r[i]; if (f[i] > f4) f4 = f[i] }
			if (i == 0 || r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i]
		}
		print n, r1 + 0, r4 + 0, f1 + 0, f4 + 0, lo + 0, hi + 0
	}' "$out")
cycles=$(cat "$E2E_RUN"/clients/h*.cycles 2>/dev/null | wc -l)
ok=$(cat "$E2E_RUN"/clients/h*.cycles 2>/dev/null | awk '$2 == 0' | wc -l)
hosts_done=0
for i in $(seq 1 "$NHOSTS"); do
	[ "$(awk '$2 == 0' "$E2E_RUN/clients/h$i.cycles" 2>/dev/null | wc -l)" -gt 0 ] &&
		hosts_done=$((hosts_done + 1))
done
setups=$(ctl_json stats . | jq -r '"calls_created=\(.calls_created) relay_calls=\(.relay_calls // 0)"')

echo "soak: $SOAK_MODE, $NHOSTS hosts, $DURATION s, $n samples every $SAMPLE_S s"
echo "soak: cycles $cycles, intact $ok; pptpgw counters: $setups"
echo "soak: RSS KiB first-quarter max $rss_q1, last-quarter max $rss_q4 (min $rss_min, max $rss_max over the run)"
echo "soak: descriptors first-quarter max $fds_q1, last-quarter max $fds_q4; idle before $fds_idle0, after $fds_idle1"
sed 's/^/  sample: /' "$out"

[ "$hosts_done" = "$NHOSTS" ] && [ "$cycles" -gt 0 ] &&
	[ $((ok * 100)) -ge $((cycles * SOAK_MIN_OK_PCT)) ]
e2e_result "calls kept working: $ok of $cycles cycles intact, every host (>= $SOAK_MIN_OK_PCT %)" $?
[ "$n" -ge 4 ] && [ "$rss_q4" -le $((rss_q1 + SOAK_RSS_SLACK_KB)) ]
e2e_result "RSS flat: last-quarter max $rss_q4 <= first-quarter max $rss_q1 + $SOAK_RSS_SLACK_KB KiB" $?
[ "$n" -ge 4 ] && [ "$fds_q4" -le "$fds_q1" ] && [ "$fds_idle1" = "$fds_idle0" ]
e2e_result "descriptors flat: last-quarter max $fds_q4 <= first-quarter max $fds_q1, idle $fds_idle0 -> $fds_idle1" $?

# The leak check runs as pptpgw exits: stop it here and look.
stop_gw_cmd "$pid"
st=$?
PPTPGW_PID=""
GW_CMD_PID=""
[ "$st" = 0 ] && [ "$E2E_GW_KILLED" = 0 ] && e2e_sanitizer_check
e2e_result "pptpgw exited 0 on SIGTERM, no ASan/LSan/UBSan report (exit status $st)" $?

e2e_finish
