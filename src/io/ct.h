/* Conntrack glue: destroy events for control connections, helper checks. */
#ifndef PPTPGW_CT_H
#define PPTPGW_CT_H

#include <stdint.h>

struct event_base;
struct nf_conntrack;

/* A TCP flow's tuples, host byte order. */
struct ct_tuple {
	uint32_t orig_src, orig_dst, reply_src, reply_dst;
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
	uint8_t proto;
};

typedef void (*ct_gone_handler)(void *arg, const struct ct_tuple *t);
/* Events were lost (the socket overflowed): some destroys never came. */
typedef void (*ct_lost_handler)(void *arg);

struct ctev;

/*
 * Listen for destroyed TCP flows to or from port 1723 (the kernel passes
 * only TCP flows' events).  lost is called once after a read that found
 * events lost.
 */
struct ctev *ctev_start(struct event_base *base, ct_gone_handler h,
			ct_lost_handler lost, void *arg);
void ctev_stop(struct ctev *c);

/* Read the tuples of a conntrack object. */
void ct_tuple_get(const struct nf_conntrack *ct, struct ct_tuple *t);

struct ct_query;

/* A handle for synchronous conntrack look-ups. */
struct ct_query *ct_query_open(void);
void ct_query_close(struct ct_query *q);

/*
 * The public end NAT gave a TCP connection's inside end, and who opened it:
 * *inside_opened 1 if the inside host connected out (SNAT), 0 if the
 * outside connected in (DNAT: a port-forwarded server).  Returns 0 and
 * fills them, -1 if conntrack has no such flow.
 */
int ct_lookup_nat(struct ct_query *q, uint32_t inside, uint16_t iport,
		  uint32_t outside, uint16_t oport, uint32_t *pub,
		  uint16_t *pub_port, uint8_t *inside_opened);

/*
 * Every TCP flow conntrack has to or from port 1723, to fn; 0, or -1 if
 * the table cannot be read.
 */
int ct_dump_pptp(ct_gone_handler fn, void *arg);

/*
 * Count conntrack entries on TCP port 1723 that have the kernel PPTP
 * helper attached; -1 if the table cannot be read.
 */
int ct_count_pptp_helper(void);

#endif
