/*
 * The tc-BPF engine of the kernel data plane (io/fastpath.c chooses it):
 * loads pptpgw's tc programs (io/tcfast.bpf.c, built into the binary),
 * attaches gre_in to each WAN's ingress and gre_out to the ingress of
 * every inside interface a translated call's host is routed through,
 * and keeps the calls' entries in their maps.  Entries are the plain
 * records of xlate/fpbpf.h, built by xlate/fastrec.c.
 */
#ifndef PPTPGW_TCFAST_H
#define PPTPGW_TCFAST_H

#include <stddef.h>
#include <stdint.h>

#include "xlate/fpbpf.h"

struct tcfast;

/*
 * Loads the programs with maps for max_calls calls and attaches gre_in
 * to the WANs (by name).  NULL, with the reason in why, when this host
 * cannot: no BPF, no permission, a WAN that is not Ethernet.
 */
struct tcfast *tcfast_open(char wan[][16], int nwan, uint32_t max_calls,
			   char *why, size_t n);
/* Removes the filters (and their qdiscs) an earlier run left anywhere. */
void tcfast_sweep(void);
/* Detaches every program it attached and frees the maps. */
void tcfast_close(struct tcfast *t);
/* Frees the handle, the programs left attached: they and their maps live
 * on in the kernel, and carry the calls while pptpgw restarts (the next
 * start replaces them). */
void tcfast_leave(struct tcfast *t);

/*
 * Makes sure the interface the stack routes inside_addr (network order)
 * through carries gre_out.  0, or -1 when that interface cannot (not
 * Ethernet, a WAN, loopback, too many): the call stays on the queue.
 */
int tcfast_lan(struct tcfast *t, uint32_t inside_addr);

/* An entry in fpb_in (out 0) or fpb_out (out 1): added or replaced,
 * deleted; 0 or -errno. */
int tcfast_put(struct tcfast *t, int out, const struct fpb_key *k,
	       const struct fpb_val *v);
int tcfast_del(struct tcfast *t, int out, const struct fpb_key *k);

/* The entry's counts summed over the CPUs, and its slot; 0 or -errno
 * (-ENOENT when it is gone). */
int tcfast_count(struct tcfast *t, int out, const struct fpb_key *k,
		 uint64_t *pkts, uint64_t *bytes, uint32_t *slot);

#endif
