/*
 * pptpgw's tc-BPF data plane: the kernel half of io/tcfast.c.  Two tc
 * (cls_bpf, direct action) programs translate the enhanced GRE of
 * established calls from the maps pptpgw fills, and send it on to the
 * next hop themselves (bpf_fib_lookup, bpf_redirect), before the bridge
 * and the IP stack: netfilter never sees these packets.
 *
 *   gre_in   on each WAN's ingress: (outside, pub, alias) -> the inside
 *            address and Call ID;
 *   gre_out  on each inside interface's ingress, and on the ports of an
 *            inside bridge: (inside, outside, peer) -> the public source
 *            address.
 *
 * Anything else goes on as usual (TC_ACT_OK), untouched: GRE of no call,
 * VLAN-tagged frames, fragments, IP options, a TTL that would expire, a
 * packet too big for the next hop, a next hop not yet resolved, a route
 * that does not lead where the call goes.  The stack and pptpgw's queue path handle those,
 * so the kernel program only ever does the common case.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "xlate/fpbpf.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Sizes are set by pptpgw before loading (the call table's slots). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct fpb_key);
	__type(value, struct fpb_val);
} fpb_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct fpb_key);
	__type(value, struct fpb_val);
} fpb_out SEC(".maps");

/* ifindex -> its role: where a translated packet may come from and go. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct fpb_if);
} fpb_ifs SEC(".maps");

#define GRE_LEN 8                /* flags, protocol, length, Call ID */
#define HDRS (sizeof(struct ethhdr) + sizeof(struct iphdr) + GRE_LEN)

/* One's complement update of a checksum for a 32-bit field's change. */
static __always_inline __u16 csum_fix(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += ((~from) & 0xffff) + ((~from) >> 16) + (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * The packet's IPv4 header if it is unfragmented enhanced GRE (version 1,
 * PPP, key present, no checksum or routing) with a plain header and a TTL
 * that survives one more hop; NULL for anything else.
 */
static __always_inline struct iphdr *egre(struct __sk_buff *skb)
{
	void *data, *end;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 *gre;

	if (skb->protocol != __builtin_bswap16(ETH_P_IP) || skb->vlan_present ||
	    skb->gso_segs > 1)
		return NULL;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + HDRS > end) {
		if (bpf_skb_pull_data(skb, HDRS) < 0)
			return NULL;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (data + HDRS > end)
			return NULL;
	}
	eth = data;
	ip = (struct iphdr *)(eth + 1);
	gre = (__u32 *)(ip + 1);
	if (eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->version != 4 ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_GRE || ip->ttl <= 1)
		return NULL;
	/* more fragments, or an offset: whole packets only */
	if (ip->frag_off & __builtin_bswap16(0x3fff))
		return NULL;
	if (__builtin_bswap16(ip->tot_len) + sizeof(*eth) > skb->len)
		return NULL;
	if ((*gre & __builtin_bswap32(0xef7fffff)) !=
	    __builtin_bswap32(0x2001880b))
		return NULL;
	return ip;
}

/*
 * The next hop toward dst for a packet that came in on interface iif (the
 * one whose routes apply), which must lead out of an interface of role
 * want: its ifindex with the MAC addresses in fib, or 0 (leave the packet
 * to the stack).  The kernel checks forwarding is on and the packet fits
 * the next hop's MTU.
 */
static __always_inline __u32 next_hop(struct __sk_buff *skb,
				      struct bpf_fib_lookup *fib,
				      struct iphdr *ip, __u32 iif, __u32 src,
				      __u32 dst, __u32 want)
{
	struct fpb_if *out;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->tos = ip->tos;
	fib->l4_protocol = IPPROTO_GRE;
	fib->ifindex = iif;
	fib->ipv4_src = src;
	fib->ipv4_dst = dst;
	if (bpf_fib_lookup(skb, fib, sizeof(*fib), 0) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	out = bpf_map_lookup_elem(&fpb_ifs, &fib->ifindex);
	if (!out || out->role != want)
		return 0;
	return fib->ifindex;
}

/*
 * The interface whose routes apply to a frame gre_out sees: its own, or,
 * on a bridge port, the bridge's, for frames sent to the bridge (0 for
 * frames bridged to another host: not ours to route).
 */
static __always_inline __u32 routed_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 iif = skb->ingress_ifindex;
	struct fpb_if *in = bpf_map_lookup_elem(&fpb_ifs, &iif);

	if (!in || in->role != FPB_IF_PORT)
		return iif;
	if ((void *)(eth + 1) > end ||
	    *(__u32 *)eth->h_dest != *(__u32 *)in->mac ||
	    *(__u16 *)(eth->h_dest + 4) != *(__u16 *)(in->mac + 4))
		return 0;
	return in->l3;
}

/* The common tail: one hop on, new MACs, counted, out of oif. */
static __always_inline int forward(struct __sk_buff *skb,
				   struct bpf_fib_lookup *fib,
				   struct fpb_val *v, __u32 oif)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	__u16 old, new;

	if ((void *)(ip + 1) > end)
		return TC_ACT_OK;
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new = *(__u16 *)&ip->ttl;
	ip->check = csum_fix(ip->check, old, new);
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	v->pkts++;
	v->bytes += __builtin_bswap16(ip->tot_len);
	return bpf_redirect(oif, 0);
}

SEC("tc")
int gre_in(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib;
	struct fpb_key k = {};
	struct fpb_val *v;
	struct iphdr *ip = egre(skb);
	__u16 *call;
	__u32 oif;

	if (!ip)
		return TC_ACT_OK;
	call = (__u16 *)((__u8 *)(ip + 1) + 6);
	k.src = ip->saddr;
	k.dst = ip->daddr;
	k.call = *call;
	v = bpf_map_lookup_elem(&fpb_in, &k);
	if (!v || v->version != FPB_VERSION)
		return TC_ACT_OK;
	oif = next_hop(skb, &fib, ip, skb->ingress_ifindex, ip->saddr,
		       v->addr, FPB_IF_LAN);
	if (!oif)
		return TC_ACT_OK;
	ip = egre(skb);          /* packet pointers, as the verifier wants */
	if (!ip)
		return TC_ACT_OK;
	call = (__u16 *)((__u8 *)(ip + 1) + 6);
	ip->check = csum_fix(ip->check, ip->daddr, v->addr);
	ip->daddr = v->addr;
	*call = v->call;         /* enhanced GRE has no checksum */
	return forward(skb, &fib, v, oif);
}

SEC("tc")
int gre_out(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib;
	struct fpb_key k = {};
	struct fpb_val *v;
	struct iphdr *ip = egre(skb);
	__u32 iif, oif;

	if (!ip)
		return TC_ACT_OK;
	k.src = ip->saddr;
	k.dst = ip->daddr;
	k.call = *(__u16 *)((__u8 *)(ip + 1) + 6);
	v = bpf_map_lookup_elem(&fpb_out, &k);
	if (!v || v->version != FPB_VERSION)
		return TC_ACT_OK;
	iif = routed_in(skb);
	if (!iif)
		return TC_ACT_OK;
	ip = egre(skb);
	if (!ip)
		return TC_ACT_OK;
	/* routed as the stack would, before NAT: from the inside address */
	oif = next_hop(skb, &fib, ip, iif, ip->saddr, ip->daddr, FPB_IF_WAN);
	if (!oif)
		return TC_ACT_OK;
	/*
	 * Not by the WAN its control connection leaves by: routing by a
	 * fwmark (set in mangle PREROUTING, after this program) sends it
	 * elsewhere, and so must this packet go, with the pub of that link.
	 * The stack routes it with the mark and pptpgw's queue translates it.
	 */
	if (v->oif && oif != v->oif)
		return TC_ACT_OK;
	ip = egre(skb);
	if (!ip)
		return TC_ACT_OK;
	ip->check = csum_fix(ip->check, ip->saddr, v->addr);
	ip->saddr = v->addr;
	return forward(skb, &fib, v, oif);
}

char _license[] SEC("license") = "GPL";
