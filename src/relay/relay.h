/*
 * The relay: pptpgw as a full PPTP endpoint for sessions the upstream cannot
 * take through translation.  Toward the inside client (a PNS) it is the PAC;
 * toward the upstream server (a PAC) it is the PNS; each relayed call pairs
 * one call on each side and moves PPP frames between their GRE legs (see
 * greleg.h).  PPP itself stays end to end: nothing here reads it.
 *
 * Pure: no sockets, no clock, no logging.  The I/O layer hands in control
 * bytes, GRE packets, connection results and time; the relay answers through
 * hooks (send control bytes, open or close a connection, send GRE).
 *
 * State is plain data in slot-indexed arrays (connections, calls, known
 * servers) that refer to each other by slot, never by pointer, so it can be
 * saved and restored as it is.
 *
 * Connections:
 *  - an inside connection is one the client opened toward the server and the
 *    I/O layer intercepted (relay_accept);
 *  - each inside connection has a primary upstream connection, opened when
 *    the client's Start-Control-Connection-Request arrives; the client gets
 *    its reply once the server has answered, with the server's result;
 *  - calls ride the primary while the server allows it (Maximum Channels in
 *    its reply, 0 meaning no limit); otherwise, or once a server has failed a
 *    second call on one connection, each further call gets an upstream
 *    connection of its own, which is stopped when its call ends;
 *  - an upstream connection never carries calls of two inside connections.
 * Losing an upstream connection ends its calls (the client gets
 * Call-Disconnect-Notify for each); the inside connection stays, since pptpd
 * closes the connection of each call that ends while the client's other
 * calls go on, and its next call opens a connection of its own.  Only a
 * primary lost before the start finished fails the client's start.  A TCP
 * close ends a connection's calls (pptpd closes without
 * Call-Disconnect-Notify).
 */
#ifndef PPTPGW_RELAY_H
#define PPTPGW_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "relay/greleg.h"
#include "wire/pptp_msg.h"

#define RL_NONE UINT32_MAX
#define RL_MAX_SERVERS 256       /* servers whose policy is remembered */
#define RL_HELD_MAX 1024         /* client bytes kept while its start waits */

enum rl_side { RL_INSIDE, RL_UPSTREAM };

enum rl_conn_state {
	RLC_FREE,
	RLC_WAIT_SCCRQ,      /* inside: accepted, nothing heard yet */
	RLC_WAIT_UPSTREAM,   /* inside: SCCRQ in, waiting for the server */
	RLC_CONNECTING,      /* upstream: TCP connect under way */
	RLC_WAIT_SCCRP,      /* upstream: SCCRQ sent */
	RLC_ESTABLISHED,
	RLC_STOPPING,        /* Stop-Control-Connection-Request sent */
	RLC_STATE_COUNT
};

enum rl_call_state {
	RLK_FREE,
	RLK_WAIT_CONN,       /* outgoing: its upstream connection is not up */
	RLK_WAIT_OCRP,       /* outgoing: OCRQ sent upstream */
	RLK_WAIT_ICRP,       /* incoming: ICRQ relayed to the client */
	RLK_WAIT_ICCN,       /* incoming: ICRP relayed to the server */
	RLK_ESTABLISHED,
	RLK_STATE_COUNT
};

/* Why a call or connection ended: counted, logged, shown. */
enum rl_end {
	RLE_CLIENT_CLEAR,    /* client's Call-Clear-Request */
	RLE_SERVER_CDN,      /* server's Call-Disconnect-Notify */
	RLE_SERVER_REFUSED,  /* server's reply was not "connected" */
	RLE_CLIENT_GONE,     /* inside connection closed or stopped */
	RLE_SERVER_GONE,     /* upstream connection closed or stopped */
	RLE_UPSTREAM_FAILED, /* upstream connect or start failed */
	RLE_TIMEOUT,         /* no answer in time, or echo unanswered */
	RLE_PROTOCOL,        /* malformed or out-of-place message */
	RLE_ADMIN,
	RLE_SHUTDOWN,
	RLE_COUNT
};

/*
 * The relay's counters, in one place: enum, the name pptpgwctl stats shows
 * (and, as relay_NAME_total, the metric), and the metric's help text.
 */
#define RL_COUNTERS(X) \
	X(RLS_INSIDE_CONNS, "inside_conns", \
	  "Relay: inside control connections accepted.") \
	X(RLS_INSIDE_REFUSED, "inside_refused", \
	  "Relay: inside control connections refused, the table was full.") \
	X(RLS_INSIDE_CLIENT_LIMIT, "inside_client_limit", \
	  "Relay: inside control connections refused, the client had " \
	  "sessions_per_client.") \
	X(RLS_UPSTREAM_CONNS, "upstream_conns", \
	  "Relay: upstream control connections opened.") \
	X(RLS_UPSTREAM_FAILED, "upstream_failed", \
	  "Relay: upstream control connections that never got established.") \
	X(RLS_PER_CALL_CONNS, "per_call_conns", \
	  "Relay: upstream control connections made for one call.") \
	X(RLS_SERVERS_PER_CALL, "servers_per_call", \
	  "Relay: servers switched to one call per control connection.") \
	X(RLS_CALLS, "calls", \
	  "Relay: calls relayed up to established.") \
	X(RLS_CALLS_REFUSED, "calls_refused", \
	  "Relay: calls refused by pptpgw (table full, no Call ID).") \
	X(RLS_CTL_IN, "ctl_in", \
	  "Relay: control messages received, both sides.") \
	X(RLS_CTL_OUT, "ctl_out", \
	  "Relay: control messages sent, both sides.") \
	X(RLS_CTL_MALFORMED, "ctl_malformed", \
	  "Relay: control framing errors (the connection was closed).") \
	X(RLS_CTL_UNEXPECTED, "ctl_unexpected", \
	  "Relay: control messages out of place, ignored.") \
	X(RLS_ECHO_SENT, "echo_sent", \
	  "Relay: Echo-Requests sent.") \
	X(RLS_ECHO_TIMEOUTS, "echo_timeouts", \
	  "Relay: Echo-Requests never answered.") \
	X(RLS_FRAMES_UP, "frames_up", \
	  "Relay: PPP frames from clients to servers.") \
	X(RLS_FRAMES_DOWN, "frames_down", \
	  "Relay: PPP frames from servers to clients.") \
	X(RLS_BYTES_UP, "bytes_up", \
	  "Relay: PPP bytes from clients to servers.") \
	X(RLS_BYTES_DOWN, "bytes_down", \
	  "Relay: PPP bytes from servers to clients.") \
	X(RLS_GRE_DUP, "gre_dup", \
	  "Relay: duplicate GRE frames dropped, both legs.") \
	X(RLS_GRE_LATE, "gre_late", \
	  "Relay: GRE frames behind a given-up gap, dropped.") \
	X(RLS_GRE_LOST, "gre_lost", \
	  "Relay: GRE sequence numbers given up as lost.") \
	X(RLS_GRE_REORDERED, "gre_reordered", \
	  "Relay: GRE frames delivered from a reorder buffer.") \
	X(RLS_GRE_ACK_ONLY_SENT, "gre_ack_only_sent", \
	  "Relay: GRE ack-only packets sent.") \
	X(RLS_GRE_BAD, "gre_bad", \
	  "Relay: GRE packets for a relayed call, unusable.") \
	X(RLS_GRE_SEND_FAILED, "gre_send_failed", \
	  "Relay: GRE packets the relay could not send (frames and acks).")

enum rl_counter {
#define RL_COUNTER_ENUM(e, ...) e,
	RL_COUNTERS(RL_COUNTER_ENUM)
#undef RL_COUNTER_ENUM
	RLS_COUNT
};

struct rl_counter_info {
	const char *name, *help;
};

extern const struct rl_counter_info rl_counters[RLS_COUNT];

struct rl_cfg {
	uint32_t max_conns;        /* inside + upstream connections */
	uint32_t max_calls;
	/* Inside connections one client address may hold (0: no limit):
	 * each takes an upstream one too, so one client could otherwise
	 * hold every session the table has. */
	uint32_t sessions_per_client;
	uint32_t echo_idle_ms;     /* silence before an Echo-Request (60 s) */
	uint32_t echo_reply_ms;    /* wait for its reply (60 s) */
	uint32_t start_ms;         /* upstream connect + start reply (10 s) */
	uint32_t call_ms;          /* call reply, either side (60 s) */
	uint32_t stop_ms;          /* Stop-Control reply before closing (5 s) */
	uint32_t reorder_ms;       /* GRE legs: see greleg.h */
	uint32_t ack_delay_ms;
	uint8_t per_call;          /* one upstream connection per call always */
	uint64_t seed;             /* Call ID randomness */
};

struct rl_conn {
	uint8_t side;              /* enum rl_side */
	uint8_t state;             /* enum rl_conn_state */
	uint8_t per_call;          /* upstream: carries one call, then stops */
	uint8_t echo_out;          /* an Echo-Request awaits its reply */
	uint32_t client, server, pub;   /* addresses (host order) */
	uint16_t client_port;
	uint16_t max_channels;     /* upstream: from the server's reply */
	uint32_t owner;            /* upstream: its inside connection */
	uint32_t primary;          /* inside: its primary upstream */
	uint32_t ncalls;
	uint32_t echo_id;
	uint32_t gen;              /* bumped at each reuse of the slot */
	uint64_t created, state_since, last_rx, echo_sent;
	uint16_t rx_have;          /* bytes of a partial message in rx */
	uint8_t rx[PPTP_MAX_LEN];
	/* inside: what the client sent while its start waited for the
	 * server, taken up once the server has answered */
	uint16_t held_len;
	uint8_t held[RL_HELD_MAX];
	/* inside: the client's Start-Control-Connection-Request, sent again
	 * on every upstream connection it needs; upstream: the reply. */
	struct pptp_msg start;
};

struct rl_call {
	uint8_t state;             /* enum rl_call_state */
	uint8_t incoming;          /* the server placed it (ICRQ) */
	uint8_t retried;           /* moved to its own connection once */
	uint32_t inside, up;       /* connection slots */
	uint16_t client_id;        /* the client's Call ID */
	uint16_t pac_id;           /* ours toward the client */
	uint16_t pns_id;           /* ours toward the server (an alias) */
	uint16_t server_id;        /* the server's Call ID */
	uint32_t client, server, pub;
	uint64_t created, state_since;
	uint32_t hnext[2];         /* GRE hash chains: [0] client, [1] server */
	struct pptp_msg request;   /* OCRQ as the client sent it, for retries */
	struct greleg leg_client;  /* own = pac_id, peer = client_id */
	struct greleg leg_server;  /* own = pns_id, peer = server_id */
};

struct rl_server {
	uint32_t addr;
	uint8_t per_call;          /* learned: one call per connection */
	uint64_t last_used;
};

struct rl_event {
	enum { RLEV_CONN_UP, RLEV_CONN_DOWN, RLEV_CALL_UP, RLEV_CALL_END,
	       RLEV_PER_CALL, RLEV_BAD_INPUT } type;
	uint32_t conn, call;       /* slots, or RL_NONE */
	enum rl_end reason;        /* CONN_DOWN, CALL_END */
	const char *why;           /* short text for the log */
};

struct rl_hooks {
	void *arg;
	/* Queue len bytes for the connection's socket. */
	void (*ctl_send)(void *arg, uint32_t conn, const uint8_t *p, size_t len);
	/* Start connecting upstream connection conn to server:1723.  0: the
	 * answer comes later (relay_connected or relay_closed); -1: failed. */
	int (*connect)(void *arg, uint32_t conn, uint32_t server);
	/* Close the socket once what was queued is sent.  The slot is freed:
	 * the I/O layer must not report anything more for it. */
	void (*close)(void *arg, uint32_t conn);
	/* Send a GRE packet (header and payload) from src to dst.  0 sent,
	 * -1 not (counted: a frame the relay received and could not pass
	 * on must show in its counters, not only in a log line). */
	int (*gre_send)(void *arg, uint32_t src, uint32_t dst,
			const uint8_t *gre, size_t len);
	/* A Call ID toward server from pub that no other call (translated or
	 * relayed) uses there; 0, or -1 when none is free. */
	int (*id_get)(void *arg, uint32_t pub, uint32_t server, uint16_t *id);
	void (*id_put)(void *arg, uint32_t pub, uint32_t server, uint16_t id);
	void (*event)(void *arg, const struct rl_event *ev);
	/* Optional: whether GRE from client to server with this Call ID
	 * already belongs to someone else (a translated call whose server
	 * picked it), so the relay must not take it as its own. */
	int (*client_id_busy)(void *arg, uint32_t client, uint32_t server,
			      uint16_t id);
};

/*
 * The relay's state.  Only relay.c, its I/O layer (relayio.c) and its tests
 * look inside; every other module reads it through the accessors below.
 */
struct relay {
	struct rl_cfg cfg;
	struct rl_hooks hooks;
	struct rl_conn *conns;
	struct rl_call *calls;
	uint32_t nconns, ncalls;          /* in use */
	uint32_t conns_hwm, calls_hwm;    /* slots below these may be in use */
	uint32_t *hash;                   /* GRE demux: bucket heads, 2 per call */
	uint32_t hmask;
	struct rl_server servers[RL_MAX_SERVERS];
	uint64_t rng;
	uint64_t ctr[RLS_COUNT];
	uint64_t ended[RLE_COUNT];
	uint8_t *scratch;                 /* one GRE packet being built */
};

enum rl_gre_result {
	RL_GRE_NOT_MINE,     /* no relayed call has this (src, dst, Call ID) */
	RL_GRE_TAKEN,        /* consumed (forwarded, buffered or acked) */
	RL_GRE_DROPPED       /* for a relayed call, but dropped (counted) */
};

/* Which Call IDs a relayed call knows yet: an outgoing call learns the
 * server's from its reply, an incoming one the client's. */
int rl_call_client_id_known(const struct rl_call *k);
int rl_call_server_id_known(const struct rl_call *k);

const char *rl_conn_state_name(unsigned s);
const char *rl_call_state_name(unsigned s);
const char *rl_end_name(unsigned e);
const char *rl_counter_name(unsigned c);

void relay_default_cfg(struct rl_cfg *cfg);
/* Reload: timers, per_call and sessions_per_client apply from now on to
 * every connection and call; the table sizes and the seed stay. */
void relay_set_cfg(struct relay *r, const struct rl_cfg *cfg);
int relay_init(struct relay *r, const struct rl_cfg *cfg,
	       const struct rl_hooks *hooks);
/* Frees memory only: call relay_shutdown first to tell the peers. */
void relay_destroy(struct relay *r);

/*
 * A client connected to server:1723 and was intercepted.  Returns the new
 * inside connection's slot, or RL_NONE when the table is full or the client
 * has sessions_per_client inside connections (counted: RLS_INSIDE_REFUSED,
 * RLS_INSIDE_CLIENT_LIMIT); the I/O layer closes the socket then.
 */
uint32_t relay_accept(struct relay *r, uint32_t client, uint16_t client_port,
		      uint32_t server, uint64_t now);

/* Bytes read from a connection's socket, any amount. */
void relay_ctl_input(struct relay *r, uint32_t conn, const uint8_t *p,
		     size_t len, uint64_t now);

/* An upstream connection's TCP connect finished; pub is its local address. */
void relay_connected(struct relay *r, uint32_t conn, uint32_t pub,
		     uint64_t now);

/* A connection's socket closed or failed (read EOF, reset, connect error).
 * The slot is freed before this returns; close is not called for it. */
void relay_closed(struct relay *r, uint32_t conn, uint64_t now);

/*
 * A GRE packet (from its GRE header on) from src to dst, as the queue saw it.
 * GRE from the client to the server carries our pac_id; GRE from the server
 * to the public address carries our pns_id.
 */
enum rl_gre_result relay_gre_input(struct relay *r, uint32_t src,
				   uint32_t dst, const uint8_t *gre,
				   size_t len, uint64_t now);
/* The same for a packet the I/O layer parsed already (gi from gre). */
enum rl_gre_result relay_gre_parsed(struct relay *r, uint32_t src,
				    uint32_t dst, const struct gre_info *gi,
				    const uint8_t *gre, uint64_t now);

/* Timers: echo, answers, stops, GRE gaps and ack-only packets.  Cheap when
 * nothing is due; call it every few tens of milliseconds. */
void relay_tick(struct relay *r, uint64_t now);

/* Clear one call by slot (admin): both sides are told.  -1: no such call. */
int relay_call_clear(struct relay *r, uint32_t call, uint64_t now);

/* Tell every peer we are going (calls disconnected, connections stopped)
 * and close every connection. */
void relay_shutdown(struct relay *r, uint64_t now);

/* Whether the relay remembers server as needing one call per connection. */
int relay_server_per_call(const struct relay *r, uint32_t server);

/* ---- read-only views, for the control socket and metrics ---------------- */

/* One relayed call, copied out as plain values. */
struct rl_call_view {
	uint8_t state;             /* enum rl_call_state, never RLK_FREE */
	uint8_t incoming;
	uint8_t client_id_known;   /* see rl_call_client_id_known */
	uint8_t server_id_known;
	uint16_t client_id, pac_id, pns_id, server_id;   /* pns_id 0: none yet */
	uint32_t client, server, pub;                    /* pub 0: not known */
	uint64_t created, state_since;
	uint64_t frames_up, frames_down;   /* PPP frames delivered each way */
};

/* Call slots to look at: every slot from this one on is free. */
uint32_t relay_call_slots(const struct relay *r);
/* The call in slot: 0 and *v, or -1 when the slot is free or beyond. */
int relay_call_at(const struct relay *r, uint32_t slot,
		  struct rl_call_view *v);

uint32_t relay_conns_used(const struct relay *r);
uint32_t relay_calls_used(const struct relay *r);
uint32_t relay_max_calls(const struct relay *r);
/* A counter (enum rl_counter) and calls ended by reason (enum rl_end);
 * 0 for values out of range. */
uint64_t relay_counter(const struct relay *r, unsigned c);
uint64_t relay_ended(const struct relay *r, unsigned e);

#endif
