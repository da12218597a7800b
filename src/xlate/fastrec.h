/*
 * The kernel data plane's records: what one established translated call
 * puts into pptpgw's nftables maps (io/fastpath.c programs them, the
 * kernel rewrites the call's GRE from them).  Built from call_xlat() alone,
 * so the entries of a saved call table can be rebuilt and compared with
 * what the kernel holds.  Pure.
 *
 * Three maps, keys of three 4-byte registers (IPv4 . IPv4 . 16-bit Call ID
 * padded with zeros), all in network byte order:
 *   in_addr   (outside, pub, alias)     -> inside address
 *   in_id     (outside, inside, alias)  -> inside Call ID
 *   out_addr  (inside, outside, peer)   -> pub
 * Inbound GRE is looked up in in_addr and its destination rewritten first;
 * in_id is keyed by what the packet says after that rewrite, which is why
 * its key holds the inside address.  (outside, inside, alias) is as unique
 * as (outside, pub, alias): aliases are unique per (pub, outside).
 */
#ifndef PPTPGW_FASTREC_H
#define PPTPGW_FASTREC_H

#include <stddef.h>
#include <stdint.h>

#include "xlate/calltab.h"
#include "xlate/fpbpf.h"

/*
 * Kept with every element as its comment, returned with its counters, and
 * shown by `nft list map`: the record format and the call slot, e.g.
 * "pptpgw/1 call 17".
 */
#define FP_TAG_VERSION 1
#define FP_TAG_MAX 32

enum fp_map { FPM_IN_ADDR, FPM_IN_ID, FPM_OUT_ADDR, FPM_COUNT };

#define FP_KEY_LEN 12
#define FP_VAL_MAX 4

struct fp_elem {
	uint8_t map;                 /* enum fp_map */
	uint8_t vlen;
	uint8_t key[FP_KEY_LEN];
	uint8_t val[FP_VAL_MAX];
};

/* A call's entries in the kernel: plain data, one per call slot. */
struct fp_rec {
	uint8_t installed;
	uint32_t slot;
	struct call_xlat x;          /* what the entries were built from */
	/* The kernel's counters as last read, per direction (DIR_OUT/IN). */
	uint64_t pkts[2], bytes[2];
};

/* What the data plane did, for stats and metrics. */
struct fp_stats {
	uint32_t calls;          /* calls with entries in the kernel now */
	uint64_t installed, removed;
	uint64_t errors;         /* updates or reads the kernel refused */
	uint64_t reads;          /* counter read-backs */
	/* How long the kernel took to take a call's entries in or out (one
	 * transaction each), and the last read of all counters, in us. */
	uint32_t install_us_max, remove_us_max, read_us_last;
};

extern const char *const fp_map_names[FPM_COUNT];

/* The map's traffic direction, or -1 for a map without counters. */
int fp_map_dir(enum fp_map m);

/*
 * The elements of call x, in e[0..FPM_COUNT-1]; returns FPM_COUNT, or 0
 * when x cannot be translated statelessly (peer's Call ID unknown, an
 * address or alias missing).
 */
int fp_elems(const struct call_xlat *x, struct fp_elem e[FPM_COUNT]);

/*
 * The same call as the tc-BPF engine's two entries (xlate/fpbpf.h):
 * (outside, pub, alias) -> (inside, inside_id) in ik, iv and
 * (inside, outside, peer_id) -> pub in ok, ov, counters zero.  0, or -1
 * when x cannot be translated statelessly (as fp_elems).
 */
int fp_bpf_entries(const struct call_xlat *x, uint32_t slot,
		   struct fpb_key *ik, struct fpb_val *iv,
		   struct fpb_key *ok, struct fpb_val *ov);

/* Writes the tag of slot, NUL included; returns its length with the NUL. */
size_t fp_tag_put(char tag[FP_TAG_MAX], uint32_t slot);
/* The slot of a tag read back (n bytes, NUL or not), or -1 when it is not
 * a tag of this format: another program's element, a newer format. */
int fp_tag_get(const char *tag, size_t n, uint32_t *slot);

/*
 * Counters read back for element key of map m, of rec's slot: the growth
 * since the last read in *dpkts and *dbytes, and rec updated.
 * Returns the direction, or -1 when the element is not rec's (stale tag,
 * another call in that slot now): nothing is counted then.
 */
int fp_rec_count(struct fp_rec *rec, enum fp_map m, const uint8_t *key,
		 size_t klen, uint64_t pkts, uint64_t bytes,
		 uint64_t *dpkts, uint64_t *dbytes);

#endif
