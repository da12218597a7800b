/*
 * The packet path: every queued packet is parsed once into a view and
 * handed to the engine that owns it (GRE of a relayed call to the relay,
 * everything else crossing a WAN interface to the translator), and every
 * one gets exactly one verdict back on the queue.  Only a TCP segment,
 * which the translator may hold back, is copied; GRE goes through in the
 * queue's own buffer.
 */
#ifndef PPTPGW_PACKETPATH_H
#define PPTPGW_PACKETPATH_H

#include <stdint.h>

#include "io/queue.h"
#include "io/rules.h"
#include "xlate/gw.h"

struct relayio;

struct packetpath {
	struct queue *queue;
	struct gw *gw;
	struct relayio *relay;          /* NULL: no relay */
	uint32_t mark;                  /* ours: on every packet we pass */
	unsigned wan_ifindex[RULES_MAX_WAN];
	int nwan;
};

/* The queue's handler (arg: the packetpath). */
void packetpath_input(void *arg, const struct queue_pkt *qp);

/* The translator's verdict for p, sent to the queue; frees a copy. */
void packetpath_verdict(struct packetpath *pp, struct gw_pkt *p,
			enum gw_verdict v);

#endif
