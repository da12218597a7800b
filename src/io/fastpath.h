/*
 * The kernel data plane: each established translated call's GRE is
 * rewritten by nftables from maps that pptpgw fills (one table of its own,
 * "ip pptpgw_fp"), so it never crosses the queue.  GRE that matches no
 * entry (a call's first packets, relayed calls, strays, spoofed sources)
 * goes on to the queue as before.  The entries are built by
 * xlate/fastrec.c; the netlink messages by io/fpnl.c.
 */
#ifndef PPTPGW_FASTPATH_H
#define PPTPGW_FASTPATH_H

#include <stdint.h>
#include <stdio.h>

#include "xlate/fastrec.h"

/*
 * Which kernel machinery carries the calls.  tc-BPF translates and
 * forwards a call's GRE at the interfaces' ingress, before the bridge,
 * the IP stack and netfilter (the host's own FORWARD rules do not see
 * it); nftables rewrites it inside netfilter from maps, as a stateless
 * NAT, and the host's rules still apply.  Auto takes tc-BPF where this
 * host can load it, else nftables.
 */
enum fp_engine { FP_ENGINE_AUTO, FP_ENGINE_TC, FP_ENGINE_NFT };

struct fastpath_cfg {
	enum fp_engine engine;
	char wan[8][16];
	int nwan;
	uint32_t mark;          /* set on what the maps translated */
	uint32_t slots;         /* call slots of the call table */
};

struct fastpath;

/* The table, its maps and chains, as nft -f reads them. */
void fastpath_print_nft(FILE *f, const struct fastpath_cfg *c);

/*
 * Creates the table afresh (a leftover of an earlier run is replaced).
 * NULL when nftables cannot be used here, with the reason in why.
 */
struct fastpath *fastpath_open(const struct fastpath_cfg *c, char *why,
			       size_t n);
/* Removes what an earlier run left of either engine (its table, its tc
 * filters): for a start with the fast path off. */
void fastpath_remove_leftovers(void);
/* "tc-bpf" or "nftables": the engine fastpath_open took. */
const char *fastpath_engine(const struct fastpath *fp);
/* The engine untracks enhanced GRE itself (nftables does, in its table's
 * prerouting chain); otherwise the queue rules must. */
int fastpath_untracks_gre(const struct fastpath *fp);
/* Deletes the table: from then on every GRE packet takes the queue. */
void fastpath_close(struct fastpath *fp);
/* Frees the handle and leaves the engine in the kernel (the nftables
 * table; the tc filters with their maps): its calls go on while pptpgw
 * restarts (the next start replaces it). */
void fastpath_leave(struct fastpath *fp);

/* The call in slot is established: install its entries (0), or leave it
 * on the queue path (-1, counted). */
int fastpath_call_up(struct fastpath *fp, uint32_t slot,
		     const struct call_xlat *x);
/*
 * Reads the kernel's counters of the next slice of calls (up to 512, from
 * where the last read stopped) and gives each call's growth since its last
 * read to fn, per direction (DIR_OUT or DIR_IN), nothing new included.
 * 0, or -1 when the read failed.
 */
typedef void (*fastpath_count_fn)(void *arg, uint32_t slot, int dir,
				  uint64_t pkts, uint64_t bytes);
int fastpath_read(struct fastpath *fp, fastpath_count_fn fn, void *arg);

/* The call in slot ended: its last counts go to fn (may be NULL), then its
 * entries go, if it had any. */
void fastpath_call_end(struct fastpath *fp, uint32_t slot,
		       fastpath_count_fn fn, void *arg);
int fastpath_has(const struct fastpath *fp, uint32_t slot);

/* The record of slot (NULL past the end): for the saved state. */
const struct fp_rec *fastpath_rec(const struct fastpath *fp, uint32_t slot);
struct fp_stats fastpath_stats(const struct fastpath *fp);

#endif
