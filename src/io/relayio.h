/*
 * The relay's I/O: the listener that intercepted control connections land
 * on, the upstream sockets, the raw socket both GRE legs are sent from, and
 * the timer.  Everything the protocol decides happens in relay.c.
 */
#ifndef PPTPGW_RELAYIO_H
#define PPTPGW_RELAYIO_H

#include <stddef.h>
#include <stdint.h>

#include "alias/alias.h"
#include "wire/pkt.h"
#include "relay/relay.h"

struct event_base;
struct relayio;

/*
 * Whether GRE from client to server with this Call ID belongs to another
 * engine (a translated call whose server picked that ID).
 */
typedef int relayio_id_busy_fn(void *arg, uint32_t client, uint32_t server,
			       uint16_t id);

/*
 * Listen on port (all addresses) for connections redirected from TCP 1723;
 * Call IDs toward servers come from the shared alias space as.  busy (may
 * be NULL) is asked with busy_arg before the relay takes a client's Call ID
 * as its own.  NULL on failure, with the reason logged.
 */
struct relayio *relayio_start(struct event_base *base, const struct rl_cfg *cfg,
			      uint16_t port, struct alias_space *as,
			      relayio_id_busy_fn *busy, void *busy_arg);

/* The mark the relay's upstream connections and its GRE carry (pptpgw's
 * own, which its rules pass by); 0: none. */
void relayio_set_mark(struct relayio *io, uint32_t mark);

/* Whether a TCP segment from server:1723 to our port lport is one of the
 * relay's own upstream connections. */
int relayio_upstream(struct relayio *io, uint32_t server, uint16_t lport);

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
