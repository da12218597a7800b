/*
 * The tc-BPF data plane's map records, shared by pptpgw and its kernel
 * program (io/tcfast.bpf.c): the layout is the contract between the two,
 * so it has a version and no pointers.  Addresses and Call IDs are in
 * network byte order, as the program reads them from the packet.
 *
 *   fpb_in   (outside, pub, alias)     -> inside address, inside Call ID
 *   fpb_out  (inside, outside, peer)   -> pub, and the WAN its control
 *                                         connection leaves by
 *
 * Each value also names its call slot, so that entries found in the
 * kernel can be matched with a saved call table, and counts what it
 * translated (per CPU: the map is a per-CPU hash).
 */
#ifndef PPTPGW_FPBPF_H
#define PPTPGW_FPBPF_H

#include <linux/types.h>

#define FPB_VERSION 1

/*
 * The interfaces the programs are on, in the fpb_ifs map (by ifindex):
 * where a translated packet may come from and go to.  A port of an inside
 * bridge carries gre_out too, so that a host's GRE skips the bridge; it
 * then takes only frames sent to the bridge's own MAC (routed through this
 * host), and routes them as the bridge would.
 */
#define FPB_IF_WAN 1
#define FPB_IF_LAN 2
#define FPB_IF_PORT 3

struct fpb_if {
	__u32 role;              /* FPB_IF_* */
	__u32 l3;                /* PORT: the bridge's ifindex */
	__u8 mac[6];             /* PORT: the bridge's MAC address */
	__u16 pad;
};

struct fpb_key {
	__u32 src, dst;          /* the packet's source and destination */
	__u16 call;              /* the GRE key's Call ID */
	__u16 pad;               /* zero */
};

struct fpb_val {
	__u32 addr;              /* in: the inside address; out: pub */
	__u16 call;              /* in: the inside Call ID; out: unused */
	__u16 version;           /* FPB_VERSION */
	__u32 slot;              /* the call's slot in pptpgw's table */
	__u32 oif;               /* out: the WAN to leave by (0: any); in: 0 */
	__u64 pkts, bytes;       /* translated by this CPU */
};

#endif
