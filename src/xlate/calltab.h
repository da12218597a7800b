/*
 * The translator's call table: control connections and the calls in them.
 * Each call's alias comes from the alias space (alias/alias.h) it shares
 * with the relay, owned by the call's slot.  Records are plain data
 * referring to each other by slot index, never by pointer, so the table can
 * be saved and restored, and each call's translation exported as it is (see
 * call_xlat).  Pure: time comes in as a parameter.
 *
 * "Inside" is the host behind the NAT whose Call IDs are aliased; "outside"
 * is its peer; "pub" is the public address the NAT gave the inside host.
 * Aliases are unique per (pub, outside): that is the only scope in which the
 * outside peer and the GRE coming back can tell calls apart.
 */
#ifndef PPTPGW_CALLTAB_H
#define PPTPGW_CALLTAB_H

#include <stddef.h>
#include <stdint.h>

#include "alias/alias.h"
#include "util/hidx.h"
#include "xlate/ctlstream.h"

#define SLOT_NONE UINT32_MAX

enum call_state {
	CALL_FREE,
	CALL_REQUESTED,     /* inside asked (OCRQ/ICRQ); no answer yet */
	CALL_ESTABLISHED,
	CALL_CLEARING,      /* Call-Clear-Request seen */
	CALL_REFUSED,       /* table full: answered with an error */
	CALL_STATE_COUNT
};

enum call_end {
	END_CLEAR,          /* clearing finished or timed out */
	END_CDN,            /* Call-Disconnect-Notify */
	END_STOP,           /* Stop-Control-Connection */
	END_TCP,            /* control connection closed (FIN/RST) */
	END_IDLE,
	END_FAILED,         /* the reply's result was not "connected" */
	END_CONN_GONE,      /* conntrack destroyed the control connection */
	END_REPLACED,       /* the inside host reused its Call ID */
	END_ADMIN,
	END_PROTOCOL,       /* the control stream broke (malformed message) */
	END_COUNT
};

enum conn_state { CONN_FREE, CONN_OPEN, CONN_CLOSING };

/* Direction index for counters: out = inside to outside. */
enum { DIR_OUT = 0, DIR_IN = 1 };

struct call {
	uint8_t state;          /* enum call_state */
	uint8_t peer_known;
	uint8_t inside_pns;     /* inside host is the PNS (client) of this call */
	uint8_t in_kernel;      /* its GRE is translated by the kernel's maps */
	uint8_t no_gre_back;    /* GRE went out, none came back (gw_tick) */
	uint16_t inside_id, peer_id, alias;
	uint32_t conn;          /* slot of its control connection */
	uint32_t inside, outside, pub;
	uint32_t wan_if;        /* its connection's, when the call began */
	uint32_t next_in_conn, prev_in_conn;
	uint64_t created, last_seen, state_since;  /* ms */
	uint64_t kernel_read_at;  /* in_kernel: its counters last read, ms */
	uint64_t pkts[2], bytes[2];
};

struct conn {
	uint8_t state;          /* enum conn_state */
	uint8_t inside_opened;  /* the inside host opened the TCP connection */
	uint8_t fin_seen;       /* bit per direction */
	uint8_t pub_known;      /* pub came from conntrack, not a guess */
	/*
	 * The peer that did not open the connection has sent a complete
	 * PPTP message (its Start-Control-Connection-Reply, normally).
	 * Until then the record is half-open: it costs a slot and proves
	 * nothing, so half-open records have limits and a short timeout.
	 */
	uint8_t answered;
	uint16_t inside_port, outside_port, pub_port;
	uint16_t max_channels;  /* from the outside peer's Start-Control reply */
	uint32_t inside, outside, pub;
	uint32_t opener;        /* who opened it: the host its limits count */
	/* The WAN interface it leaves by (ifindex, 0: not known yet): with
	 * several, routing (by source, by fwmark) picks one per connection,
	 * and its calls' GRE must take the same one, from the same pub. */
	uint32_t wan_if;
	uint32_t ncalls, first_call;
	uint64_t created, last_seen, state_since;
	struct ctlstream stream[2];   /* DIR_OUT, DIR_IN */
};

/*
 * A connection of this host itself: its inside end is the public address
 * (no NAT between them).  Its calls keep their own Call IDs where they can
 * and stay out of the kernel's maps (see call_add, fast_event).
 */
static inline int conn_is_local(const struct conn *c)
{
	return c->pub_known && c->inside == c->pub;
}

static inline int call_is_local(const struct call *c)
{
	return c->inside == c->pub;
}

/* What a call looks like to a stateless translator (nftables maps). */
struct call_xlat {
	/* in: (pub, outside, alias) -> (inside, inside_id) */
	uint32_t pub, outside, inside;
	uint16_t alias, inside_id;
	/* out: (inside, outside, peer_id) -> source pub */
	uint16_t peer_id;
	uint8_t peer_known;
	/* The WAN the outbound GRE must leave by (ifindex; 0: any). */
	uint32_t wan_if;
};

struct calltab_cfg {
	uint32_t max_calls;      /* calls in use at once */
	uint32_t max_conns;
	/* For the alias space the table draws from (calltab_alias_cfg): */
	uint32_t holddown_ms;    /* an alias is not reused before this */
	uint32_t max_reserved;   /* aliases the relay may hold at once */
	uint64_t seed;           /* also seeds the table's own index */
};

struct calltab_stats {
	uint64_t calls_created, calls_ended[END_COUNT];
	uint64_t refused_full, alias_exhausted;
	uint64_t conns_created, conns_refused;
};

/*
 * What one host holds, from the records of the connections it opened (see
 * calltab_host_load): the per-host limits are checked against this.
 */
struct host_load {
	uint32_t conns;          /* connection records, any state */
	uint32_t half_open;      /* of those, not answered yet */
	uint32_t calls;          /* calls on them, refusals not counted */
	uint32_t refused;        /* refusal records on them */
};

struct calltab {
	struct calltab_cfg cfg;
	struct alias_space *as;  /* shared, not owned */
	struct call *calls;
	struct conn *conns;
	uint32_t ncalls_cap, ncalls_used, nrefused;
	uint32_t nconns_used;
	uint32_t *call_free, ncall_free;
	uint32_t *conn_free, nconn_free;
	uint32_t nhalf_open;     /* connections not answered yet */
	struct hidx idx;         /* derived from the records */
	/* Per-host counts (struct host_load), derived from the records: a
	 * host that holds nothing has no entry. */
	struct hidx hosts;
	struct calltab_stats st;
};

enum calltab_err { CT_OK = 0, CT_FULL, CT_NO_ALIAS, CT_NOMEM };

const char *call_state_name(unsigned s);
const char *call_end_name(unsigned e);

/* Call slots a table of cfg has: max_calls plus a reserve for refusals. */
uint32_t calltab_slots(const struct calltab_cfg *cfg);
/* The alias space a table of cfg needs: room for an alias per call slot. */
void calltab_alias_cfg(const struct calltab_cfg *cfg, struct alias_cfg *ac);

/* as: the alias space the calls' aliases come from, kept by the caller. */
int calltab_init(struct calltab *t, const struct calltab_cfg *cfg,
		 struct alias_space *as);
/* Take over the reloadable settings (hold-down); sizes and seed stay. */
void calltab_set_cfg(struct calltab *t, const struct calltab_cfg *cfg);
void calltab_destroy(struct calltab *t);

/* Control connections, keyed by the inside and outside TCP endpoints. */
struct conn *conn_find(struct calltab *t, uint32_t inside, uint16_t iport,
		       uint32_t outside, uint16_t oport);
struct conn *conn_add(struct calltab *t, uint32_t inside, uint16_t iport,
		      uint32_t outside, uint16_t oport, uint64_t now);
uint32_t conn_slot(const struct calltab *t, const struct conn *c);
/*
 * Who opened the connection (conn_add takes the inside host): the host
 * whose connections, half-open records and calls it counts as.
 */
void conn_set_opener(struct calltab *t, struct conn *c, uint32_t host);
/* The peer that did not open it has spoken: the record is no longer
 * half-open.  Idempotent. */
void conn_answered(struct calltab *t, struct conn *c);
/* Segments of host's connections waiting for their verdict (the
 * translator's count, kept in the same index): one more, one less, now. */
void calltab_host_pending(struct calltab *t, uint32_t host, int delta);
uint32_t calltab_host_pending_now(struct calltab *t, uint32_t host);
/* What host holds now (all zero for a host with nothing). */
void calltab_host_load(struct calltab *t, uint32_t host,
		       struct host_load *out);
/*
 * The per-host counts and the half-open total against a recount of the
 * records (they must be derivable from them): 1 if they agree, else 0 and
 * the first difference in why (may be NULL).  Slow: for tests and checks.
 */
int calltab_recount_ok(struct calltab *t, char *why, size_t n);
uint32_t call_slot(const struct calltab *t, const struct call *c);
/* Ends every call of the connection with reason, then frees it. */
void conn_del(struct calltab *t, struct conn *c, enum call_end reason,
	      uint64_t now, void (*on_end)(void *, const struct call *,
					   enum call_end), void *arg);

/*
 * A new call announced by the inside host with its own Call ID.  Takes a
 * random alias unused and not held down in (pub, outside) from the alias
 * space.  refusal: the call only reserves an alias so the peer's answer can
 * be recognised and turned into an error (it does not count against
 * max_calls).
 */
struct call *call_add(struct calltab *t, struct conn *c, uint16_t inside_id,
		      int refusal, uint64_t now, enum calltab_err *err);

struct call *call_by_alias(struct calltab *t, uint32_t pub, uint32_t outside,
			   uint16_t alias);
struct call *call_by_peer(struct calltab *t, uint32_t inside, uint32_t outside,
			  uint16_t peer_id);
struct call *call_by_inside(struct calltab *t, const struct conn *c,
			    uint16_t inside_id);

/* Record the outside peer's Call ID (the one its GRE expects). */
void call_set_peer(struct calltab *t, struct call *call, uint16_t peer_id);
void call_set_state(struct call *call, enum call_state s, uint64_t now);

/* End a call: leave every index, free its alias (held down), free the
 * slot. */
void call_end(struct calltab *t, struct call *call, enum call_end reason,
	      uint64_t now);

struct call_xlat call_xlat(const struct call *c);

/*
 * Restore saved records into an empty table (xlate's side of state/): each
 * goes into the slot it had, with its indexes, its host's counts and, for
 * a call, its alias in the alias space.  Connections first, then their
 * calls, then calltab_restore_done() once.  -1 when the record cannot be
 * what a running table holds (slot out of range or taken, a key or alias
 * twice, a call on no connection, more calls than max_calls): the table is
 * then unusable and must be destroyed.
 */
int calltab_restore_conn(struct calltab *t, uint32_t slot,
			 const struct conn *src);
int calltab_restore_call(struct calltab *t, uint32_t slot,
			 const struct call *src);
void calltab_restore_done(struct calltab *t);

#endif
