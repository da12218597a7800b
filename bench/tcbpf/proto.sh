#!/bin/bash
# bench/tcbpf/proto.sh: measures a tc (cls_bpf) prototype of the outbound
# half of one call's translation against the same call on pptpgw's queue
# path, in the benchmark's lab (bench/run.sh's functions).  It brings one
# real call up through `pptpgw --no-fastpath`, compiles gre_out.bpf.c with
# that call's addresses and Call ID, attaches it to the inside host's
# bridge port (ingress, before the bridge and netfilter) and drives GRE at
# the unlimited load, N points per payload size.  A measurement for the
# choice of data plane (bench/README.md), not a part of pptpgw.
# Usage: sudo bench/tcbpf/proto.sh [BUILD_DIR]   (needs clang; env N=3)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export NO_DEPS=1 NO_BUILD=1 NO_CPLOAD=1 REPEAT=1 BENCH_LIB=1
export POINT_S=${POINT_S:-4} OUT=${OUT:-$top/bench/results/tcbpf}
N=${N:-3}
command -v clang >/dev/null || { echo "proto.sh: needs clang" >&2; exit 1; }
# shellcheck source=../run.sh
. "$top/bench/run.sh" "${1:-$top/build}"

pt() {  # pt LABEL SIZE: one unlimited point, its CSV row's key figures
	point "$1" 1 out "$2" unlimited
	tail -1 "$CSV" | awk -F, '{printf "%-8s %5s B  delivered %8s pps  loss %s %%  bad %s  %s\n", $1, $4, $10, $11, $12, $20}'
}
# an IPv4 address, or a 16-bit Call ID, as the u32/u16 the program compares
# with the packet's bytes (read little-endian)
le32() { IFS=. read -r a b c d <<<"$1"; echo $(((d << 24) | (c << 16) | (b << 8) | a)); }

mode_setup queue 2>>"$LOG" && learn_call || { echo "the call did not come up (see $LOG)" >&2; exit 1; }
for s in $SIZES; do for _ in $(seq 1 "$N"); do pt queue "$s"; done; done
obj=$E2E_RUN/gre_out.o
clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" \
	-DINSIDE="$(le32 "$(host_ip 1)")u" -DSERVER="$(le32 "$SRV_IP")u" -DPUB="$(le32 "$GW_WAN_IP")u" \
	-DCALLID=$((((H_OUT_CALL & 0xff) << 8) | (H_OUT_CALL >> 8))) \
	-DWAN_IFINDEX="$(gw_exec cat "/sys/class/net/$GW_WAN/ifindex")" \
	-c "$top/bench/tcbpf/gre_out.bpf.c" -o "$obj" || exit 1
gw_exec tc qdisc add dev vh1 clsact &&
	gw_exec tc filter add dev vh1 ingress bpf da obj "$obj" sec tc || exit 1
q0=$(ctl_json stats .gre_out_packets)
for s in $SIZES; do for _ in $(seq 1 "$N"); do pt tc-bpf "$s"; done; done
echo "GRE packets pptpgw's queue saw while the program ran: $(($(ctl_json stats .gre_out_packets) - q0))"
stop_pptpgw
speakers CONT
topo_down 2>>"$LOG"
reset_run
