#!/bin/bash
# pptpgw on a hypervisor or container host (issue 11): the guests sit on the
# host's bridge and the host's own software installs its NAT and filter
# rules, mirrored here as Debian 12's libvirt 9.0 (network "default",
# iptables backend) and Docker (bridge docker0, FORWARD policy DROP) write
# them, with the lab's addresses and each product's bridge name; and a
# VirtualBox host-only network (vboxnet0) with the host doing NAT, what
# replaces VirtualBox's NAT mode.  Three guests, all with the same Call ID,
# hold tunnels to one real pptpd at once, in five phases:
#   virtualbox        the host's MASQUERADE of vboxnet0's network, pptpgw
#   docker            Docker's rules, then pptpgw
#   docker-restart    pptpgw, then Docker's restart (its jumps re-inserted
#                     at the top of FORWARD), nftables engine
#   libvirt           libvirt's rules, then pptpgw
#   libvirt-restart   pptpgw, then libvirt's restart (its chains re-inserted
#                     at the top: their REJECT of what is not ESTABLISHED
#                     would meet pptpgw's untracked GRE), nftables engine:
#                     pptpgw puts its jumps back on top within its 5 s
#                     check, counts it (rules_restored) and logs it
# Each phase: every tunnel intact.  First the control: each product's rules
# with the kernel's PPTP helper in pptpgw's place, one guest, works, so the
# peers and the rules themselves are sound.
# PHASES chooses.  Usage: t_vm_hosts.sh BUILD_DIR
set -u
E2E_RATE=${E2E_RATE:-200}
E2E_FRAMES=${E2E_FRAMES:-1000}
E2E_SEND=${E2E_SEND:-1400}
. "$(dirname "$0")/../../lab/netlab.sh"
e2e_init "${1:-}"
. "$(dirname "$0")/../../lab/gw.sh" "${1:-}"
NGUESTS=3
SAME_ID=4660
PHASES=${PHASES:-virtualbox docker docker-restart libvirt libvirt-restart}
NET=198.18.0.0/24

docker_chains() {
	cat <<EOF
*nat
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s $NET ! -o $GW_LAN -j MASQUERADE
-A DOCKER -i $GW_LAN -j RETURN
COMMIT
*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A DOCKER-ISOLATION-STAGE-1 -i $GW_LAN ! -o $GW_LAN -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o $GW_LAN -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
EOF
}
# What dockerd puts in FORWARD: at its start it puts the jumps to
# DOCKER-USER and DOCKER-ISOLATION-STAGE-1 at the top again.
docker_forward() {
	cat <<EOF
-I FORWARD 1 -j DOCKER-USER
-I FORWARD 2 -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o $GW_LAN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o $GW_LAN -j DOCKER
-A FORWARD -i $GW_LAN ! -o $GW_LAN -j ACCEPT
-A FORWARD -i $GW_LAN -o $GW_LAN -j ACCEPT
COMMIT
EOF
}
docker_restart() {
	printf '*filter\n-D FORWARD -j DOCKER-USER\n-D FORWARD -j DOCKER-ISOLATION-STAGE-1\n'
	printf -- '-I FORWARD 1 -j DOCKER-USER\n-I FORWARD 2 -j DOCKER-ISOLATION-STAGE-1\nCOMMIT\n'
}

libvirt_chains() {
	cat <<EOF
*mangle
:LIBVIRT_PRT - [0:0]
-A LIBVIRT_PRT -o $GW_LAN -p udp --dport 68 -j CHECKSUM --checksum-fill
COMMIT
*nat
:LIBVIRT_PRT - [0:0]
-A LIBVIRT_PRT -s $NET -d 224.0.0.0/24 -j RETURN
-A LIBVIRT_PRT -s $NET -d 255.255.255.255/32 -j RETURN
-A LIBVIRT_PRT -s $NET ! -d $NET -p tcp -j MASQUERADE --to-ports 1024-65535
-A LIBVIRT_PRT -s $NET ! -d $NET -p udp -j MASQUERADE --to-ports 1024-65535
-A LIBVIRT_PRT -s $NET ! -d $NET -j MASQUERADE
COMMIT
*filter
:LIBVIRT_INP - [0:0]
:LIBVIRT_OUT - [0:0]
:LIBVIRT_FWO - [0:0]
:LIBVIRT_FWI - [0:0]
:LIBVIRT_FWX - [0:0]
-A LIBVIRT_INP -i $GW_LAN -p udp --dport 53 -j ACCEPT
-A LIBVIRT_INP -i $GW_LAN -p tcp --dport 53 -j ACCEPT
-A LIBVIRT_INP -i $GW_LAN -p udp --dport 67 -j ACCEPT
-A LIBVIRT_OUT -o $GW_LAN -p udp --dport 53 -j ACCEPT
-A LIBVIRT_OUT -o $GW_LAN -p udp --dport 68 -j ACCEPT
-A LIBVIRT_FWO -s $NET -i $GW_LAN -j ACCEPT
-A LIBVIRT_FWO -i $GW_LAN -j REJECT --reject-with icmp-port-unreachable
-A LIBVIRT_FWI -d $NET -o $GW_LAN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LIBVIRT_FWI -o $GW_LAN -j REJECT --reject-with icmp-port-unreachable
-A LIBVIRT_FWX -i $GW_LAN -o $GW_LAN -j ACCEPT
COMMIT
EOF
}
# libvirtd inserts its jumps at the top of each chain at its start.
libvirt_jumps() {
	local op=$1
	cat <<EOF
*mangle
$op POSTROUTING -j LIBVIRT_PRT
COMMIT
*nat
$op POSTROUTING -j LIBVIRT_PRT
COMMIT
*filter
$op INPUT -j LIBVIRT_INP
$op OUTPUT -j LIBVIRT_OUT
$op FORWARD -j LIBVIRT_FWO
$op FORWARD -j LIBVIRT_FWI
$op FORWARD -j LIBVIRT_FWX
COMMIT
EOF
}

# product_up NAME: the topology with NAME's rules in place of the lab's
# MASQUERADE.
product_up() {
	case $1 in
	docker) GW_LAN=docker0 ;;
	libvirt) GW_LAN=virbr0 ;;
	virtualbox) GW_LAN=vboxnet0 ;;
	esac
	topo_up "$NGUESTS"
	gw_exec iptables -t nat -F POSTROUTING
	case $1 in
	virtualbox)
		gw_exec iptables -t nat -A POSTROUTING -s "$NET" -o "$GW_WAN" -j MASQUERADE ;;
	docker)
		{ docker_chains; docker_forward; } | gw_exec iptables-restore --noflush ;;
	libvirt)
		{ libvirt_chains; libvirt_jumps -I; } | gw_exec iptables-restore --noflush ;;
	esac
}
# product_restart NAME: its jumps taken out and put at the top again.
product_restart() {
	case $1 in
	docker) docker_restart | gw_exec iptables-restore --noflush ;;
	libvirt)
		{ libvirt_jumps -D; libvirt_jumps -I; } |
			gw_exec iptables-restore --noflush ;;
	esac
	e2e_log "$1 restarted: FORWARD now: $(gw_exec iptables -S FORWARD | tr '\n' ';')"
}

forward_first_ours() {
	[ "$(gw_exec iptables -S FORWARD | sed -n 2p)" = "-A FORWARD -j PPTPGW-FWD" ]
}

guests_work() {
	local what=$1 i
	start_pptpd
	for i in $(seq 1 "$NGUESTS"); do
		E2E_CALL_ID=$SAME_ID start_client "$i"
	done
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result "$NGUESTS" "$what"
}

# Control: each product's rules with no pptpgw, one guest (no collision).
for p in virtualbox docker libvirt; do
	case " $PHASES " in *" $p"*) ;; *) continue ;; esac
	product_up "$p"
	gw_exec iptables -t raw -A PREROUTING -p tcp --dport 1723 -j CT --helper pptp
	start_pptpd
	start_client 1
	wait_clients "$E2E_TIMEOUT" >/dev/null
	tunnels_result 1 "control: $p's rules and the kernel helper, no pptpgw, one guest: its tunnel works"
	topo_down
	reset_run
done

for phase in $PHASES; do
	product=${phase%-restart}
	product_up "$product"
	case $phase in
	*-restart)
		start_pptpgw --fastpath nftables || exit 1
		sleep 1
		product_restart "$product"
		expect "$phase: pptpgw's jumps on top of FORWARD again within 7 s" \
			wait_until 7 forward_first_ours
		expect "$phase: ... counted ($(gwstat rules_restored)) and logged" \
			eval '[ "$(gwstat rules_restored)" -ge 1 ] &&
			      grep -q "pptpgw.s jumps are on top again" "$E2E_RUN/logs/gw_cmd.log"' ;;
	*)
		start_pptpgw || exit 1 ;;
	esac
	e2e_log "$phase: fast path $(ctl_json status .fastpath_state)"
	guests_work "$phase: $NGUESTS guests with the same Call ID, every tunnel intact"
	expect "$phase: pptpgw running" gw_alive
	stop_pptpgw
	topo_down
	reset_run
done
e2e_finish
