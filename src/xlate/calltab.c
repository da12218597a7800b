#include "xlate/calltab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key kinds in the table's index (aliases live in the alias space). */
enum key_kind { K_CONN = 1, K_PEER = 3, K_INSIDE = 4 };

/* Key kinds in the per-host index: each value is a count (host_load). */
enum host_kind { H_CONNS = 1, H_HALF_OPEN, H_CALLS, H_REFUSED, H_PENDING };

static const char *const state_names[CALL_STATE_COUNT] = {
	"free", "requested", "established", "clearing", "refused",
};

static const char *const end_names[END_COUNT] = {
	"cleared", "disconnect-notify", "stop-control", "tcp-close", "idle",
	"failed", "conn-gone", "replaced", "admin", "protocol-error",
};

const char *call_state_name(unsigned s)
{
	return s < CALL_STATE_COUNT ? state_names[s] : "?";
}

const char *call_end_name(unsigned e)
{
	return e < END_COUNT ? end_names[e] : "?";
}

uint32_t calltab_slots(const struct calltab_cfg *cfg)
{
	/* A reserve beyond max_calls carries refusals of calls when full. */
	return cfg->max_calls + cfg->max_calls / 8 + 8;
}

void calltab_alias_cfg(const struct calltab_cfg *cfg, struct alias_cfg *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->max_taken = calltab_slots(cfg);
	ac->max_reserved = cfg->max_reserved;
	ac->holddown_ms = cfg->holddown_ms;
	ac->seed = cfg->seed;
}

int calltab_init(struct calltab *t, const struct calltab_cfg *cfg,
		 struct alias_space *as)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->as = as;
	t->ncalls_cap = calltab_slots(cfg);
	t->calls = calloc(t->ncalls_cap, sizeof(*t->calls));
	t->conns = calloc(cfg->max_conns ? cfg->max_conns : 1, sizeof(*t->conns));
	t->call_free = calloc(t->ncalls_cap, sizeof(uint32_t));
	t->conn_free = calloc(cfg->max_conns ? cfg->max_conns : 1,
			      sizeof(uint32_t));
	if (!t->calls || !t->conns || !t->call_free || !t->conn_free ||
	    hidx_init(&t->idx, t->ncalls_cap * 2 + cfg->max_conns,
		      hidx_mix64(cfg->seed ^ 0x5bd1e995)) < 0 ||
	    /* A host has an entry of a kind only while it holds a record of
	     * that kind: connections, half-open ones and pending segments
	     * (a host with any has a connection) at most one each per
	     * connection, calls and refusals at most one per call. */
	    hidx_init(&t->hosts, cfg->max_conns * 3 + t->ncalls_cap,
		      hidx_mix64(cfg->seed ^ 0x27d4eb2f)) < 0) {
		calltab_destroy(t);
		return -1;
	}
	for (i = 0; i < t->ncalls_cap; i++)
		t->call_free[t->ncall_free++] = t->ncalls_cap - 1 - i;
	for (i = 0; i < cfg->max_conns; i++)
		t->conn_free[t->nconn_free++] = cfg->max_conns - 1 - i;
	return 0;
}

void calltab_set_cfg(struct calltab *t, const struct calltab_cfg *cfg)
{
	/* The sizes shape the tables and the seed the aliases: both stay. */
	t->cfg.holddown_ms = cfg->holddown_ms;
	alias_set_holddown(t->as, cfg->holddown_ms);
}

void calltab_destroy(struct calltab *t)
{
	hidx_destroy(&t->idx);
	hidx_destroy(&t->hosts);
	free(t->calls);
	free(t->conns);
	free(t->call_free);
	free(t->conn_free);
	memset(t, 0, sizeof(*t));
}

static struct hkey conn_key(uint32_t inside, uint16_t iport, uint32_t outside,
			    uint16_t oport)
{
	return hkey_make(K_CONN, inside, outside, (uint32_t)iport << 16 | oport, 0);
}

/* One more (delta 1) or one less (-1) record of kind for host. */
static void host_count(struct calltab *t, enum host_kind kind, uint32_t host,
		       int delta)
{
	struct hkey k = hkey_make((uint8_t)kind, host, 0, 0, 0);
	uint32_t *v = hidx_find(&t->hosts, &k);

	if (delta > 0) {
		if (v)
			(*v)++;
		else
			hidx_put(&t->hosts, &k, 1);
	} else if (v) {
		/* A host with nothing left has no entry: the index stays as
		 * small as what is in the tables. */
		if (*v <= 1)
			hidx_del(&t->hosts, &k);
		else
			(*v)--;
	}
}

static uint32_t host_get(struct calltab *t, enum host_kind kind,
			 uint32_t host)
{
	struct hkey k = hkey_make((uint8_t)kind, host, 0, 0, 0);
	uint32_t *v = hidx_find(&t->hosts, &k);

	return v ? *v : 0;
}

void calltab_host_pending(struct calltab *t, uint32_t host, int delta)
{
	host_count(t, H_PENDING, host, delta);
}

uint32_t calltab_host_pending_now(struct calltab *t, uint32_t host)
{
	return host_get(t, H_PENDING, host);
}

void calltab_host_load(struct calltab *t, uint32_t host,
		       struct host_load *out)
{
	out->conns = host_get(t, H_CONNS, host);
	out->half_open = host_get(t, H_HALF_OPEN, host);
	out->calls = host_get(t, H_CALLS, host);
	out->refused = host_get(t, H_REFUSED, host);
}

/* A call counts against the host that opened its connection. */
static enum host_kind call_kind(const struct call *call)
{
	return call->state == CALL_REFUSED ? H_REFUSED : H_CALLS;
}

/* Count (delta 1) or uncount (-1) a connection and its calls for host. */
static void conn_count(struct calltab *t, const struct conn *c, uint32_t host,
		       int delta)
{
	uint32_t i;

	host_count(t, H_CONNS, host, delta);
	if (!c->answered)
		host_count(t, H_HALF_OPEN, host, delta);
	for (i = c->first_call; i != SLOT_NONE; i = t->calls[i].next_in_conn)
		host_count(t, call_kind(&t->calls[i]), host, delta);
}

void conn_set_opener(struct calltab *t, struct conn *c, uint32_t host)
{
	if (c->opener == host)
		return;
	conn_count(t, c, c->opener, -1);
	c->opener = host;
	conn_count(t, c, c->opener, 1);
}

void conn_answered(struct calltab *t, struct conn *c)
{
	if (c->answered)
		return;
	c->answered = 1;
	host_count(t, H_HALF_OPEN, c->opener, -1);
	t->nhalf_open--;
}

uint32_t conn_slot(const struct calltab *t, const struct conn *c)
{
	return (uint32_t)(c - t->conns);
}

uint32_t call_slot(const struct calltab *t, const struct call *c)
{
	return (uint32_t)(c - t->calls);
}

struct conn *conn_find(struct calltab *t, uint32_t inside, uint16_t iport,
		       uint32_t outside, uint16_t oport)
{
	struct hkey k = conn_key(inside, iport, outside, oport);
	uint32_t *v = hidx_find(&t->idx, &k);

	return v ? &t->conns[*v] : NULL;
}

struct conn *conn_add(struct calltab *t, uint32_t inside, uint16_t iport,
		      uint32_t outside, uint16_t oport, uint64_t now)
{
	struct hkey k = conn_key(inside, iport, outside, oport);
	struct conn *c;
	uint32_t slot;

	if (t->nconn_free == 0) {
		t->st.conns_refused++;
		return NULL;
	}
	slot = t->conn_free[--t->nconn_free];
	c = &t->conns[slot];
	memset(c, 0, sizeof(*c));
	c->state = CONN_OPEN;
	c->inside = inside;
	c->inside_port = iport;
	c->outside = outside;
	c->outside_port = oport;
	c->first_call = SLOT_NONE;
	c->opener = inside;
	c->created = c->last_seen = c->state_since = now;
	hidx_put(&t->idx, &k, slot);
	conn_count(t, c, c->opener, 1);
	t->nhalf_open++;
	t->nconns_used++;
	t->st.conns_created++;
	return c;
}

static void conn_link(struct calltab *t, struct conn *c, struct call *call)
{
	uint32_t s = call_slot(t, call);

	call->conn = conn_slot(t, c);
	call->prev_in_conn = SLOT_NONE;
	call->next_in_conn = c->first_call;
	if (c->first_call != SLOT_NONE)
		t->calls[c->first_call].prev_in_conn = s;
	c->first_call = s;
	c->ncalls++;
}

static void conn_unlink(struct calltab *t, struct call *call)
{
	struct conn *c = &t->conns[call->conn];

	if (call->prev_in_conn != SLOT_NONE)
		t->calls[call->prev_in_conn].next_in_conn = call->next_in_conn;
	else
		c->first_call = call->next_in_conn;
	if (call->next_in_conn != SLOT_NONE)
		t->calls[call->next_in_conn].prev_in_conn = call->prev_in_conn;
	c->ncalls--;
}

void conn_del(struct calltab *t, struct conn *c, enum call_end reason,
	      uint64_t now, void (*on_end)(void *, const struct call *,
					   enum call_end), void *arg)
{
	struct hkey k = conn_key(c->inside, c->inside_port, c->outside,
				 c->outside_port);

	while (c->first_call != SLOT_NONE) {
		struct call *call = &t->calls[c->first_call];

		if (on_end)
			on_end(arg, call, reason);
		call_end(t, call, reason, now);
	}
	hidx_del(&t->idx, &k);
	conn_count(t, c, c->opener, -1);
	if (!c->answered)
		t->nhalf_open--;
	c->state = CONN_FREE;
	t->conn_free[t->nconn_free++] = conn_slot(t, c);
	t->nconns_used--;
}

/*
 * A call of this host itself (a PPTP client or server on the gateway: its
 * inside end is the public address) keeps its own Call ID when that is free
 * in the scope: then no guest can be given it, and the host's GRE needs no
 * rewriting.  When a guest holds it already, the host's call is aliased
 * like a guest's.
 */
static int take_alias(struct calltab *t, const struct conn *c,
		      uint16_t inside_id, uint32_t slot, uint16_t *alias)
{
	if (conn_is_local(c) && inside_id != 0 &&
	    alias_claim(t->as, c->pub, c->outside, slot, inside_id) == 0) {
		*alias = inside_id;
		return 0;
	}
	return alias_take(t->as, c->pub, c->outside, slot, alias);
}

struct call *call_add(struct calltab *t, struct conn *c, uint16_t inside_id,
		      int refusal, uint64_t now, enum calltab_err *err)
{
	struct call *call;
	struct hkey k;
	uint16_t alias;
	uint32_t slot;

	if ((!refusal && t->ncalls_used >= t->cfg.max_calls) ||
	    t->ncall_free == 0) {
		t->st.refused_full++;
		*err = CT_FULL;
		return NULL;
	}
	slot = t->call_free[t->ncall_free - 1];
	if (take_alias(t, c, inside_id, slot, &alias) < 0) {
		t->st.alias_exhausted++;
		*err = CT_NO_ALIAS;
		return NULL;
	}
	t->ncall_free--;
	call = &t->calls[slot];
	memset(call, 0, sizeof(*call));
	call->state = refusal ? CALL_REFUSED : CALL_REQUESTED;
	call->inside_id = inside_id;
	call->alias = alias;
	call->inside = c->inside;
	call->outside = c->outside;
	call->pub = c->pub;
	call->wan_if = c->wan_if;
	call->created = call->last_seen = call->state_since = now;
	conn_link(t, c, call);
	host_count(t, call_kind(call), c->opener, 1);
	k = hkey_make(K_INSIDE, call->conn, 0, 0, inside_id);
	hidx_put(&t->idx, &k, slot);
	if (refusal)
		t->nrefused++;
	else
		t->ncalls_used++;
	t->st.calls_created++;
	*err = CT_OK;
	return call;
}

static struct call *call_lookup(struct calltab *t, struct hkey k)
{
	uint32_t *v = hidx_find(&t->idx, &k);

	return v ? &t->calls[*v] : NULL;
}

struct call *call_by_alias(struct calltab *t, uint32_t pub, uint32_t outside,
			   uint16_t alias)
{
	uint32_t slot = alias_owner(t->as, pub, outside, alias);

	/* Reservations (the relay's) and other owners' slots are no call. */
	return slot < t->ncalls_cap && t->calls[slot].state != CALL_FREE &&
	       t->calls[slot].alias == alias && t->calls[slot].pub == pub &&
	       t->calls[slot].outside == outside ? &t->calls[slot] : NULL;
}

struct call *call_by_peer(struct calltab *t, uint32_t inside, uint32_t outside,
			  uint16_t peer_id)
{
	return call_lookup(t, hkey_make(K_PEER, inside, outside, 0, peer_id));
}

struct call *call_by_inside(struct calltab *t, const struct conn *c,
			    uint16_t inside_id)
{
	return call_lookup(t, hkey_make(K_INSIDE, conn_slot(t, c), 0, 0, inside_id));
}

void call_set_peer(struct calltab *t, struct call *call, uint16_t peer_id)
{
	struct hkey k;

	if (call->peer_known) {
		k = hkey_make(K_PEER, call->inside, call->outside, 0, call->peer_id);
		hidx_del(&t->idx, &k);
	}
	call->peer_id = peer_id;
	call->peer_known = 1;
	k = hkey_make(K_PEER, call->inside, call->outside, 0, peer_id);
	/* Server IDs are unique per server: a clash means the old call is dead. */
	{
		uint32_t *v = hidx_find(&t->idx, &k);

		if (v && &t->calls[*v] != call) {
			struct call *old = &t->calls[*v];

			call_end(t, old, END_REPLACED, call->last_seen);
		}
	}
	hidx_put(&t->idx, &k, call_slot(t, call));
}

void call_set_state(struct call *call, enum call_state s, uint64_t now)
{
	/*
	 * A refusal stays one until it ends (a Call-Clear-Request for it
	 * changes nothing): the table counts refusals apart from calls, and
	 * call_end must uncount it as what it was counted as.
	 */
	if (call->state == CALL_REFUSED)
		return;
	if (call->state != s) {
		call->state = (uint8_t)s;
		call->state_since = now;
	}
}

void call_end(struct calltab *t, struct call *call, enum call_end reason,
	      uint64_t now)
{
	struct hkey k;

	if (call->state == CALL_FREE)
		return;
	k = hkey_make(K_INSIDE, call->conn, 0, 0, call->inside_id);
	{
		uint32_t *v = hidx_find(&t->idx, &k);

		/* A newer call may own this inside ID now: leave its entry. */
		if (v && &t->calls[*v] == call)
			hidx_del(&t->idx, &k);
	}
	if (call->peer_known) {
		uint32_t *v;

		k = hkey_make(K_PEER, call->inside, call->outside, 0, call->peer_id);
		v = hidx_find(&t->idx, &k);
		if (v && &t->calls[*v] == call)
			hidx_del(&t->idx, &k);
	}
	alias_put(t->as, call->pub, call->outside, call->alias,
		  call_slot(t, call), now);
	host_count(t, call_kind(call), t->conns[call->conn].opener, -1);
	conn_unlink(t, call);
	if (call->state == CALL_REFUSED)
		t->nrefused--;
	else
		t->ncalls_used--;
	t->st.calls_ended[reason < END_COUNT ? reason : END_ADMIN]++;
	call->state = CALL_FREE;
	t->call_free[t->ncall_free++] = call_slot(t, call);
}

struct call_xlat call_xlat(const struct call *c)
{
	struct call_xlat x;

	memset(&x, 0, sizeof(x));
	x.pub = c->pub;
	x.outside = c->outside;
	x.inside = c->inside;
	x.alias = c->alias;
	x.inside_id = c->inside_id;
	x.peer_id = c->peer_id;
	x.peer_known = c->peer_known;
	x.wan_if = c->wan_if;
	return x;
}

int calltab_recount_ok(struct calltab *t, char *why, size_t n)
{
	uint32_t i, j, k, nhalf = 0;

	for (i = 0; i < t->cfg.max_conns; i++) {
		const struct conn *c = &t->conns[i];
		struct host_load want, got;

		if (c->state == CONN_FREE)
			continue;
		nhalf += !c->answered;
		memset(&want, 0, sizeof(want));
		for (j = 0; j < t->cfg.max_conns; j++) {
			const struct conn *d = &t->conns[j];

			if (d->state == CONN_FREE || d->opener != c->opener)
				continue;
			want.conns++;
			want.half_open += !d->answered;
			for (k = d->first_call; k != SLOT_NONE;
			     k = t->calls[k].next_in_conn) {
				if (t->calls[k].state == CALL_REFUSED)
					want.refused++;
				else
					want.calls++;
			}
		}
		calltab_host_load(t, c->opener, &got);
		if (memcmp(&want, &got, sizeof(want)) != 0) {
			if (why)
				snprintf(why, n, "host %08x: counts %u/%u/%u/%u, "
					 "records say %u/%u/%u/%u", c->opener,
					 got.conns, got.half_open, got.calls,
					 got.refused, want.conns, want.half_open,
					 want.calls, want.refused);
			return 0;
		}
	}
	if (nhalf != t->nhalf_open) {
		if (why)
			snprintf(why, n, "%u half-open counted, %u in the records",
				 t->nhalf_open, nhalf);
		return 0;
	}
	return 1;
}

int calltab_restore_conn(struct calltab *t, uint32_t slot,
			 const struct conn *src)
{
	struct hkey k = conn_key(src->inside, src->inside_port, src->outside,
				 src->outside_port);
	struct conn *c;

	if (slot >= t->cfg.max_conns || t->conns[slot].state != CONN_FREE ||
	    (src->state != CONN_OPEN && src->state != CONN_CLOSING) ||
	    hidx_find(&t->idx, &k))
		return -1;
	c = &t->conns[slot];
	*c = *src;
	/* The calls link themselves in as they are restored. */
	c->first_call = SLOT_NONE;
	c->ncalls = 0;
	hidx_put(&t->idx, &k, slot);
	conn_count(t, c, c->opener, 1);
	if (!c->answered)
		t->nhalf_open++;
	t->nconns_used++;
	return 0;
}

int calltab_restore_call(struct calltab *t, uint32_t slot,
			 const struct call *src)
{
	const struct conn *c;
	struct call *call;
	struct hkey ki, kp;

	if (slot >= t->ncalls_cap || t->calls[slot].state != CALL_FREE ||
	    src->state == CALL_FREE || src->state >= CALL_STATE_COUNT ||
	    src->conn >= t->cfg.max_conns)
		return -1;
	c = &t->conns[src->conn];
	/* A call carries its connection's addresses from its start on. */
	if (c->state == CONN_FREE || src->inside != c->inside ||
	    src->outside != c->outside || src->pub != c->pub)
		return -1;
	/* Refusals may take any slot; calls only max_calls of them. */
	if (src->state != CALL_REFUSED && t->ncalls_used >= t->cfg.max_calls)
		return -1;
	ki = hkey_make(K_INSIDE, src->conn, 0, 0, src->inside_id);
	kp = hkey_make(K_PEER, src->inside, src->outside, 0, src->peer_id);
	if (hidx_find(&t->idx, &ki) ||
	    (src->peer_known && hidx_find(&t->idx, &kp)) ||
	    alias_claim(t->as, src->pub, src->outside, slot, src->alias) < 0)
		return -1;
	call = &t->calls[slot];
	*call = *src;
	/* Derived: the kernel's entries are installed anew after a start. */
	call->in_kernel = 0;
	call->kernel_read_at = 0;
	conn_link(t, &t->conns[src->conn], call);
	host_count(t, call_kind(call), c->opener, 1);
	hidx_put(&t->idx, &ki, slot);
	if (call->peer_known)
		hidx_put(&t->idx, &kp, slot);
	if (call->state == CALL_REFUSED)
		t->nrefused++;
	else
		t->ncalls_used++;
	return 0;
}

void calltab_restore_done(struct calltab *t)
{
	uint32_t i;

	/* The free lists as calltab_init makes them, less the slots in use. */
	t->ncall_free = t->nconn_free = 0;
	for (i = t->ncalls_cap; i-- > 0;)
		if (t->calls[i].state == CALL_FREE)
			t->call_free[t->ncall_free++] = i;
	for (i = t->cfg.max_conns; i-- > 0;)
		if (t->conns[i].state == CONN_FREE)
			t->conn_free[t->nconn_free++] = i;
}
