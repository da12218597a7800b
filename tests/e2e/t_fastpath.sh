#!/bin/bash
# The kernel data plane: 8 inside hosts (all with the same Call ID), one
# real pptpd, pptpgw on the MASQUERADE gateway.  Run three times:
#   tc      pptpgw as shipped on this kernel (--fastpath auto takes tc-BPF):
#           each established call's GRE is translated and forwarded by
#           pptpgw's tc programs from their BPF maps (checked with bpftool);
#           while the tunnels run, no GRE of theirs crosses the queue, the
#           per-call counters still grow, spoofed GRE (a third source) is
#           not translated, every frame arrives intact; a call's entries go
#           when it ends, and late GRE to its alias is not delivered inside;
#           stopping removes the programs;
#   nft     --fastpath nftables: the same with the nftables maps (table ip
#           pptpgw_fp);
#   queue   --no-fastpath: the same traffic, all through the queue, no
#           table, no programs, the same results.
set -u
E2E_RATE=${E2E_RATE:-120}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
find_tool GRETOOL gretool
NHOSTS=${NHOSTS:-8}
SAME_ID=4660
SPOOF_IP=203.0.113.99
E2E_SEND=${E2E_SEND:-2000}

map_len() {  # map_len MAP: elements in pptpgw's map, "none" without the table
	local j
	j=$(gw_exec nft -j list map ip pptpgw_fp "$1" 2>/dev/null)
	[ -n "$j" ] || { echo none; return; }
	printf '%s\n' "$j" | jq -r '[.nftables[] | select(.map) | .map.elem // [] | length] | .[0] // "none"'
}
# tc_filters: "ID NAME" of pptpgw's tc programs attached in the gateway
tc_filters() {
	local d
	for d in $(gw_exec ls /sys/class/net); do
		gw_exec tc filter show dev "$d" ingress 2>/dev/null |
			sed -n 's/.* id \([0-9]*\) name \(gre_[a-z]*\) .*/\1 \2/p'
	done
}
tc_progs() { tc_filters | awk '{print $2}' | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}'; }
# bpf_len MAP: entries in the BPF map of that name used by the programs
# attached in the gateway (maps are not per namespace: other tests may run
# pptpgw at the same time), "none" without it
bpf_len() {
	local prog id
	for prog in $(tc_filters | awk '{print $1}'); do
		for id in $(gw_exec bpftool -j prog show id "$prog" | jq -r '.map_ids[]?'); do
			if [ "$(gw_exec bpftool -j map show id "$id" | jq -r .name)" = "$1" ]; then
				gw_exec bpftool -j map dump id "$id" | jq -r 'length'
				return
			fi
		done
	done
	echo none
}
kernel_calls() {  # the kernel's entries, both ways, in the engine of $1
	case $1 in
	tc) echo "$(bpf_len fpb_in)/$(bpf_len fpb_out)" ;;
	nft) echo "$(map_len in_addr)/$(map_len out_addr)" ;;
	esac
}
queue_gre() { echo $(($(gwstat gre_out_packets) + $(gwstat gre_in_packets))); }
calls_all_counted() {  # every established call has packets both ways
	ctl --json calls | jq -e --argjson n "$NHOSTS" \
		'[.[] | select(.state == "established" and .packets_out > 0 and .packets_in > 0)] | length == $n' >/dev/null
}

# send_alias SRC COUNT: GRE from SRC (the server's netns) to host 1's alias.
send_alias() {
	srv_exec "$GRETOOL" send --src "$1" --dst "$GW_WAN_IP" --call-id "$alias1" \
		--count "$2" --interval-ms 5 >/dev/null
}
# host1_sees OUT SRC COUNT: how many of COUNT packets from SRC reach host 1.
host1_sees() {
	local out=$E2E_RUN/$1
	gre_count 1 "$out" 2 --src "$2" --marker || { echo fail; return; }
	send_alias "$2" "$3"
	wait "$COUNT_PID"
	cat "$out"
}

phase() {
	local mode=$1 args=() up q0 q1 k0 k1 real spoofed late rc
	case $mode in
	tc) args=(--fastpath auto) ;;
	nft) args=(--fastpath nftables) ;;
	queue) args=(--no-fastpath) ;;
	esac
	topo_up "$NHOSTS"
	count_gre_install
	start_pptpgw "${args[@]}" || return 1
	start_pptpd
	for i in $(seq 1 "$NHOSTS"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
	sample_calls 40 "$NHOSTS"
	up=$SAMPLED_MAX_UP
	alias1=$(awk '$2 == "198.18.0.11" {print $4; exit}' "$E2E_RUN/calls.uniq")
	expect "$mode: $NHOSTS calls up at once ($up)" [ "$up" = "$NHOSTS" ]
	case $mode in
	tc)
		e2e_log "tc: status: $(ctl status | tail -1); fpb_in $(bpf_len fpb_in), fpb_out $(bpf_len fpb_out); programs: $(tc_progs)"
		expect "tc: the engine is tc-BPF, no nftables table" \
			[ "$(ctl_json status .fastpath_state)/$(map_len in_addr)" = "on (tc-bpf)/none" ]
		expect "tc: every call in the kernel's maps" \
			[ "$(ctl_json status .fastpath_calls)/$(kernel_calls tc)" = "$NHOSTS/$NHOSTS/$NHOSTS" ]
		expect "tc: gre_in on the WAN, gre_out on the inside bridge and its $NHOSTS ports" \
			[ "$(tc_progs)" = "gre_in x1 gre_out x$((NHOSTS + 1)) " ] ;;
	nft)
		e2e_log "nft: status: $(ctl status | tail -1); in_addr $(map_len in_addr), in_id $(map_len in_id), out_addr $(map_len out_addr)"
		expect "nft: the engine is nftables, no tc programs" \
			[ "$(ctl_json status .fastpath_state)/$(tc_progs)" = "on (nftables)/" ]
		expect "nft: every call in the kernel's maps" \
			[ "$(ctl_json status .fastpath_calls)/$(map_len in_addr)/$(map_len in_id)/$(map_len out_addr)" = "$NHOSTS/$NHOSTS/$NHOSTS/$NHOSTS" ] ;;
	queue)
		expect "queue: no fast path table or programs, none in use" \
			[ "$(map_len in_addr)/$(tc_progs)/$(ctl_json status .fastpath)" = "none//false" ] ;;
	esac
	q0=$(queue_gre); k0=$(gwstat gre_queued_in_kernel)
	sleep 2
	expect "$mode: every call's own counters grow" calls_all_counted
	real=$(host1_sees real.count "$SRV_IP" 20)
	spoofed=$(host1_sees spoof.count "$SPOOF_IP" 20)
	e2e_log "$mode: to alias $alias1: from the server $real of 20 reach host 1, from $SPOOF_IP $spoofed of 20"
	expect "$mode: GRE from the server to a live alias reaches its host" [ "$real" = 20 ]
	expect "$mode: spoofed GRE from $SPOOF_IP is not translated" [ "$spoofed" = 0 ]
	q1=$(queue_gre); k1=$(gwstat gre_queued_in_kernel)
	e2e_log "$mode: GRE translated through the queue while all calls were up: $((q1 - q0)); of calls in the kernel: $((k1 - k0))"
	if [ "$mode" != queue ]; then
		expect "$mode: no GRE of an established call crossed the queue" [ "$((q1 - q0))/$((k1 - k0))" = 0/0 ]
	else
		expect "queue: the tunnels' GRE crossed the queue" [ "$((q1 - q0))" -gt 100 ]
	fi
	wait_clients "$E2E_TIMEOUT"
	tunnels_result "$NHOSTS" "$mode: $NHOSTS tunnels, >= $E2E_FRAMES frames each way, none corrupt or duplicated"
	rc=0
	wait_until 15 calls_empty || rc=1
	expect "$mode: every call ended" [ $rc = 0 ]
	if [ "$mode" != queue ]; then
		expect "$mode: the ended calls' entries are gone" \
			[ "$(kernel_calls "$mode")/$(ctl_json status .fastpath_calls)" = 0/0/0 ]
	fi
	late=$(host1_sees late.count "$SRV_IP" 20)
	expect "$mode: late GRE to the ended alias is not delivered ($late of 20)" [ "$late" = 0 ]
	ctl stats | grep -E '^gre_' >&2
	expect "$mode: pptpgw still running" gw_alive
	stop_pptpgw
	expect "$mode: stopping removes the fast path's table, programs and maps" \
		[ "$(map_len in_addr)/$(tc_progs)/$(bpf_len fpb_in)" = "none//none" ]
	topo_down
	reset_run
}

for m in ${MODES:-tc nft queue}; do phase "$m"; done
e2e_finish
