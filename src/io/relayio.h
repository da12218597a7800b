/*
 * The relay's I/O: the listener that intercepted control connections land
 * on, the upstream sockets, the raw socket both GRE legs are sent from, and
 * the timer.  Everything the protocol decides happens in relay.c.
 */
#ifndef PPTPGW_RELAYIO_H
#define PPTPGW_RELAYIO_H

#include <stddef.h>
#include <stdint.h>

#include "wire/pkt.h"
#include "xlate/calltab.h"
#include "relay/relay.h"

struct event_base;
struct relayio;

/*
 * Listen on port (all addresses) for connections redirected from TCP 1723;
 * Call IDs toward servers come from tab's alias space.  NULL on failure,
 * with the reason logged.
 */
struct relayio *relayio_start(struct event_base *base, const struct rl_cfg *cfg,
			      uint16_t port, struct calltab *tab);

/* Tell every peer we are going, close everything and free. */
void relayio_stop(struct relayio *io);

/*
 * A queued packet, parsed.  RL_GRE_NOT_MINE: not GRE of a relayed call,
 * hand it to the translator; otherwise the relay took it (or counted it as
 * bad) and the packet is dropped.
 */
enum rl_gre_result relayio_gre(struct relayio *io, const struct pkt_view *v,
			       uint64_t now);

struct relay *relayio_relay(struct relayio *io);
/* Reloaded settings for the relay (see relay_set_cfg). */
void relayio_set_cfg(struct relayio *io, const struct rl_cfg *cfg);
int relayio_call_clear(struct relayio *io, uint32_t call);

#endif
