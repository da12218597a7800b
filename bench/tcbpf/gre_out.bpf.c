/*
 * A measuring prototype, not pptpgw's data plane: the outbound half of
 * one call's translation as a tc (cls_bpf) program on the inside host's
 * port, to compare with the nftables fast path (bench/README.md, "The
 * fast path's gap").  The call is compiled in (-D INSIDE, SERVER, PUB:
 * IPv4 addresses as network-order u32; CALLID: the server's Call ID as
 * network-order u16; WAN_IFINDEX).  A matching packet gets its source
 * rewritten to the public address, its TTL decremented, and is sent out
 * of the WAN by the neighbour table: the IP stack and netfilter never see
 * it.  Everything else goes on as usual.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))

static long (*redirect_neigh)(__u32 ifindex, void *params, int plen,
			      __u64 flags) = (void *)BPF_FUNC_redirect_neigh;

/* One's complement update of a checksum for a 32-bit field's change. */
static __attribute__((always_inline)) __u16 csum_fix(__u16 check, __u32 from,
						     __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += ((~from) & 0xffff) + ((~from) >> 16) + (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("tc")
int gre_out(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u8 *gre = (__u8 *)(ip + 1);
	__u16 oldttl, newttl;

	if ((void *)(gre + 8) > end)
		return TC_ACT_OK;
	if (eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_GRE || ip->ttl <= 1)
		return TC_ACT_OK;
	if ((*(__u32 *)gre & __builtin_bswap32(0xef7fffff)) !=
	    __builtin_bswap32(0x2001880b))
		return TC_ACT_OK;
	if (ip->saddr != INSIDE || ip->daddr != SERVER ||
	    *(__u16 *)(gre + 6) != CALLID)
		return TC_ACT_OK;
	oldttl = *(__u16 *)&ip->ttl;
	ip->ttl--;
	newttl = *(__u16 *)&ip->ttl;
	ip->check = csum_fix(ip->check, oldttl, newttl);
	ip->check = csum_fix(ip->check, ip->saddr, PUB);
	ip->saddr = PUB;
	return redirect_neigh(WAN_IFINDEX, NULL, 0, 0);
}

char _license[] SEC("license") = "GPL";
