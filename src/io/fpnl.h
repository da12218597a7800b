/*
 * The kernel data plane's netlink messages (nf_tables, through libnftnl):
 * adding and deleting the elements of a call (xlate/fastrec.h), asking for
 * a map's elements, and reading a dump back with each element's tag and
 * counters.  Builds and parses messages only; io/fastpath.c owns the
 * socket.
 */
#ifndef PPTPGW_FPNL_H
#define PPTPGW_FPNL_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "xlate/fastrec.h"

#define FP_TABLE "pptpgw_fp"

/*
 * Appends to batch b one message adding (add != 0) or deleting e, tagged
 * with tag (a NUL-terminated comment, taglen with the NUL; deleting needs
 * none).  Returns -1 when the batch has gone past its limit (a batch's
 * buffer must be twice its limit, as libmnl wants).
 */
int fpnl_elem_msg(struct mnl_nlmsg_batch *b, int add, const struct fp_elem *e,
		  const char *tag, size_t taglen, uint32_t seq);

/* A request for element e alone (its key), built in buf. */
struct nlmsghdr *fpnl_get_req(char *buf, const struct fp_elem *e,
			      uint32_t seq);

/* A request for every element of map m, built in buf. */
struct nlmsghdr *fpnl_dump_req(char *buf, enum fp_map m, uint32_t seq);

/* One element read back. */
struct fpnl_elem {
	enum fp_map map;
	const uint8_t *key, *val;
	uint32_t klen, vlen;
	const char *tag;        /* its comment, or NULL */
	uint32_t taglen;
	int counted;            /* it has a counter: pkts and bytes are set */
	uint64_t pkts, bytes;
};

typedef void (*fpnl_elem_fn)(void *arg, const struct fpnl_elem *e);

/*
 * Each element of one NEWSETELEM message (a part of a dump) of pptpgw's
 * table, to fn.  Returns the number of elements, or -1 when the message
 * does not parse or belongs to another table or map.
 */
int fpnl_parse(const struct nlmsghdr *nlh, fpnl_elem_fn fn, void *arg);

#endif
