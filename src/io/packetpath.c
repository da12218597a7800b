#include "io/packetpath.h"

#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>

#include "clock.h"
#include "io/relayio.h"
#include "wire/pkt.h"
#include "wire/pptp_msg.h"

void packetpath_verdict(struct packetpath *pp, struct gw_pkt *p,
			enum gw_verdict v)
{
	/*
	 * Accepted packets go round the chain again with our mark, which our
	 * first rule returns on: the admin's later rules (MSS clamping, say)
	 * still see them, and the filter rule lets translated GRE through.
	 */
	if (v == GW_ACCEPT)
		queue_verdict(pp->queue, p->id, QUEUE_REPEAT, p->user | pp->mark,
			      p->modified ? p->data : NULL, p->len);
	else if (v == GW_PASS)
		/* Unmarked: filter INPUT accepts only our marked GRE, so the
		 * admin's rules judge GRE of no call addressed here. */
		queue_verdict(pp->queue, p->id, QUEUE_ACCEPT, 0, NULL, 0);
	else
		queue_verdict(pp->queue, p->id, QUEUE_DROP, 0, NULL, 0);
	/*
	 * The verdict may wait for the end of the receive batch, but the
	 * queue copies a payload outside its own buffer: the copy can go.
	 */
	if (p->on_heap)
		free(p);
}

static int is_wan(const struct packetpath *pp, unsigned ifindex)
{
	int i;

	for (i = 0; i < pp->nwan; i++)
		if (ifindex && pp->wan_ifindex[i] == ifindex)
			return 1;
	return 0;
}

/* To the translator; only a TCP segment may be held, so only it is copied. */
static void to_translator(struct packetpath *pp, const struct queue_pkt *qp,
			  struct pkt_view *v, const struct gw_meta *m,
			  uint64_t now)
{
	struct gw_pkt stack, *p = &stack;

	if (v->err == PKT_OK && v->ip.proto == IPPROTO_TCP_ &&
	    v->tcp_err == PKT_OK) {
		p = malloc(sizeof(*p) + qp->len);
		if (!p) {
			/* Out of memory: drop, which never leaks anything. */
			queue_verdict(pp->queue, qp->id, QUEUE_DROP, 0, NULL, 0);
			return;
		}
		memcpy(p + 1, qp->data, qp->len);
		v->data = (uint8_t *)(p + 1);
	}
	*p = (struct gw_pkt){ .id = qp->id, .data = v->data, .len = qp->len,
			      .user = qp->mark, .on_heap = p != &stack };
	gw_input_view(pp->gw, p, v, m, now);
}

/*
 * The server's side of one of the relay's own upstream connections: it
 * comes in by a WAN to this host, as this host's own PPTP clients' does,
 * but is the relay's (its own side carries our mark and is never queued).
 */
static int relay_upstream_segment(struct packetpath *pp,
				  const struct queue_pkt *qp,
				  const struct pkt_view *v)
{
	return pp->relay && qp->hook == NF_INET_LOCAL_IN &&
	       v->err == PKT_OK && v->ip.proto == IPPROTO_TCP_ &&
	       v->tcp_err == PKT_OK && v->tcp.sport == PPTP_PORT &&
	       relayio_upstream(pp->relay, v->ip.src, v->tcp.dport);
}

void packetpath_input(void *arg, const struct queue_pkt *qp)
{
	struct packetpath *pp = arg;
	struct gw_meta m = { 0 };
	struct pkt_view v;
	uint64_t now;

	/* Already been through us: rules without our RETURN rule must not
	 * make it loop. */
	if ((qp->mark & pp->mark) == pp->mark) {
		queue_verdict(pp->queue, qp->id, QUEUE_ACCEPT, 0, NULL, 0);
		return;
	}
	if (is_wan(pp, qp->outdev)) {
		m.dir = DIR_OUT;
		m.wan_if = qp->outdev;
		m.local = qp->hook == NF_INET_LOCAL_OUT;
	} else if (is_wan(pp, qp->indev)) {
		m.dir = DIR_IN;
		m.wan_if = qp->indev;
	} else {
		/* Not crossing a WAN interface: not ours to translate. */
		queue_verdict(pp->queue, qp->id, QUEUE_REPEAT, qp->mark | pp->mark,
			      NULL, 0);
		return;
	}
	now = now_ms();
	pkt_view_parse(&v, qp->data, qp->len);
	if (relay_upstream_segment(pp, qp, &v)) {
		queue_verdict(pp->queue, qp->id, QUEUE_REPEAT,
			      qp->mark | pp->mark, NULL, 0);
		return;
	}
	if (pp->relay && relayio_gre(pp->relay, &v, now) != RL_GRE_NOT_MINE) {
		/* The relay took it (or counted it as bad): never forwarded. */
		queue_verdict(pp->queue, qp->id, QUEUE_DROP, 0, NULL, 0);
		return;
	}
	to_translator(pp, qp, &v, &m, now);
}
