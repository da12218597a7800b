/*
 * The relay's I/O: the listener that intercepted control connections land
 * on, the upstream sockets, the raw socket both GRE legs are sent from, and
 * the timer.  Everything the protocol decides happens in relay.c.
 */
#ifndef PPTPGW_RELAYIO_H
#define PPTPGW_RELAYIO_H

#include <stddef.h>
#include <stdint.h>

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
 * An IPv4 packet carrying GRE, from the queue.  RL_GRE_NOT_MINE: hand it to
 * the translator; otherwise the relay took it and the packet is dropped.
 */
enum rl_gre_result relayio_gre(struct relayio *io, const uint8_t *ip,
			       size_t len);

struct relay *relayio_relay(struct relayio *io);
int relayio_call_clear(struct relayio *io, uint32_t call);

#endif
