#include "xlate/calltab.h"

#include <stdlib.h>
#include <string.h>

/*
 * One open-addressing hash index serves every lookup: the kind byte keeps
 * the key spaces apart.  Linear probing with backward-shift deletion keeps
 * lookups O(1) without tombstones; the seeded mix keeps a hostile peer from
 * choosing colliding keys.
 */
enum key_kind { K_CONN = 1, K_ALIAS, K_PEER, K_INSIDE, K_HOLD };

struct hkey {
	uint32_t a, b, c;
	uint16_t d;
	uint8_t kind, pad;
};

struct hslot {
	struct hkey k;
	uint32_t val;
	uint8_t used;
};

struct hidx {
	struct hslot *s;
	uint32_t mask;
	uint64_t seed;
};

struct hold {
	uint32_t pub, outside;
	uint16_t alias;
	uint64_t until;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint32_t hk_hash(const struct hidx *h, const struct hkey *k)
{
	uint64_t x = h->seed;

	x = mix64(x ^ ((uint64_t)k->a << 32 | k->b));
	x = mix64(x ^ ((uint64_t)k->c << 32 | (uint32_t)k->d << 8 | k->kind));
	return (uint32_t)x & h->mask;
}

static int hk_eq(const struct hkey *x, const struct hkey *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d &&
	       x->kind == y->kind;
}

static struct hkey hk(uint8_t kind, uint32_t a, uint32_t b, uint32_t c,
		      uint16_t d)
{
	struct hkey k = { a, b, c, d, kind, 0 };
	return k;
}

static uint32_t *hx_find(struct hidx *h, const struct hkey *k)
{
	uint32_t i = hk_hash(h, k);

	while (h->s[i].used) {
		if (hk_eq(&h->s[i].k, k))
			return &h->s[i].val;
		i = (i + 1) & h->mask;
	}
	return NULL;
}

/* The index is sized for every record the table can hold: never full. */
static void hx_put(struct hidx *h, const struct hkey *k, uint32_t val)
{
	uint32_t i = hk_hash(h, k);

	while (h->s[i].used) {
		if (hk_eq(&h->s[i].k, k)) {
			h->s[i].val = val;
			return;
		}
		i = (i + 1) & h->mask;
	}
	h->s[i].k = *k;
	h->s[i].val = val;
	h->s[i].used = 1;
}

static void hx_del(struct hidx *h, const struct hkey *k)
{
	uint32_t i = hk_hash(h, k), j;

	while (h->s[i].used && !hk_eq(&h->s[i].k, k))
		i = (i + 1) & h->mask;
	if (!h->s[i].used)
		return;
	/* Backward shift: move later entries of the probe run into the gap. */
	j = i;
	for (;;) {
		uint32_t home;

		h->s[i].used = 0;
		for (;;) {
			j = (j + 1) & h->mask;
			if (!h->s[j].used)
				return;
			home = hk_hash(h, &h->s[j].k);
			/* Stay if home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		h->s[i] = h->s[j];
		i = j;
	}
}

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

static uint64_t rng_next(struct calltab *t)
{
	/* splitmix64: seeded by the caller, deterministic in tests. */
	t->rng += 0x9e3779b97f4a7c15ULL;
	return mix64(t->rng);
}

int calltab_init(struct calltab *t, const struct calltab_cfg *cfg)
{
	uint32_t i, need, cap = 16;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	/* A reserve beyond max_calls carries refusals of calls when full. */
	t->ncalls_cap = cfg->max_calls + cfg->max_calls / 8 + 8;
	t->hold_cap = (t->ncalls_cap + cfg->max_reserved) * 2;
	need = t->ncalls_cap * 3 + cfg->max_conns + t->hold_cap +
	       cfg->max_reserved;
	while (cap < need * 2)
		cap <<= 1;
	t->calls = calloc(t->ncalls_cap, sizeof(*t->calls));
	t->conns = calloc(cfg->max_conns ? cfg->max_conns : 1, sizeof(*t->conns));
	t->call_free = calloc(t->ncalls_cap, sizeof(uint32_t));
	t->conn_free = calloc(cfg->max_conns ? cfg->max_conns : 1,
			      sizeof(uint32_t));
	t->holds = calloc(t->hold_cap, sizeof(*t->holds));
	t->idx = calloc(1, sizeof(*t->idx));
	if (t->idx)
		t->idx->s = calloc(cap, sizeof(struct hslot));
	if (!t->calls || !t->conns || !t->call_free || !t->conn_free ||
	    !t->holds || !t->idx || !t->idx->s) {
		calltab_destroy(t);
		return -1;
	}
	t->idx->mask = cap - 1;
	t->idx->seed = mix64(cfg->seed ^ 0x5bd1e995);
	t->rng = cfg->seed;
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
}

void calltab_destroy(struct calltab *t)
{
	if (t->idx)
		free(t->idx->s);
	free(t->idx);
	free(t->calls);
	free(t->conns);
	free(t->call_free);
	free(t->conn_free);
	free(t->holds);
	memset(t, 0, sizeof(*t));
}

static struct hkey conn_key(uint32_t inside, uint16_t iport, uint32_t outside,
			    uint16_t oport)
{
	return hk(K_CONN, inside, outside, (uint32_t)iport << 16 | oport, 0);
}

uint32_t conn_slot(const struct calltab *t, const struct conn *c)
{
	return (uint32_t)(c - t->conns);
}

static uint32_t call_slot(const struct calltab *t, const struct call *c)
{
	return (uint32_t)(c - t->calls);
}

struct conn *conn_find(struct calltab *t, uint32_t inside, uint16_t iport,
		       uint32_t outside, uint16_t oport)
{
	struct hkey k = conn_key(inside, iport, outside, oport);
	uint32_t *v = hx_find(t->idx, &k);

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
	c->created = c->last_seen = c->state_since = now;
	hx_put(t->idx, &k, slot);
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
	hx_del(t->idx, &k);
	c->state = CONN_FREE;
	t->conn_free[t->nconn_free++] = conn_slot(t, c);
	t->nconns_used--;
}

int alias_held(struct calltab *t, uint32_t pub, uint32_t outside,
	       uint16_t alias)
{
	struct hkey k = hk(K_HOLD, pub, outside, 0, alias);

	return hx_find(t->idx, &k) != NULL;
}

static int alias_free(struct calltab *t, uint32_t pub, uint32_t outside,
		      uint16_t alias)
{
	struct hkey k = hk(K_ALIAS, pub, outside, 0, alias);

	return alias != 0 && !hx_find(t->idx, &k) &&
	       !alias_held(t, pub, outside, alias);
}

static int alias_pick(struct calltab *t, uint32_t pub, uint32_t outside,
		      uint16_t *out)
{
	uint32_t i, start;

	/* Random probes find a free alias at once unless the scope is full. */
	for (i = 0; i < 32; i++) {
		uint16_t a = (uint16_t)rng_next(t);

		if (alias_free(t, pub, outside, a)) {
			*out = a;
			return 0;
		}
	}
	start = (uint32_t)rng_next(t);
	for (i = 0; i < 65536; i++) {
		uint16_t a = (uint16_t)(start + i);

		if (alias_free(t, pub, outside, a)) {
			*out = a;
			return 0;
		}
	}
	return -1;
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
	if (alias_pick(t, c->pub, c->outside, &alias) < 0) {
		t->st.alias_exhausted++;
		*err = CT_NO_ALIAS;
		return NULL;
	}
	slot = t->call_free[--t->ncall_free];
	call = &t->calls[slot];
	memset(call, 0, sizeof(*call));
	call->state = refusal ? CALL_REFUSED : CALL_REQUESTED;
	call->inside_id = inside_id;
	call->alias = alias;
	call->inside = c->inside;
	call->outside = c->outside;
	call->pub = c->pub;
	call->created = call->last_seen = call->state_since = now;
	conn_link(t, c, call);
	k = hk(K_ALIAS, call->pub, call->outside, 0, alias);
	hx_put(t->idx, &k, slot);
	k = hk(K_INSIDE, call->conn, 0, 0, inside_id);
	hx_put(t->idx, &k, slot);
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
	uint32_t *v = hx_find(t->idx, &k);

	return v && *v != SLOT_RESERVED ? &t->calls[*v] : NULL;
}

struct call *call_by_alias(struct calltab *t, uint32_t pub, uint32_t outside,
			   uint16_t alias)
{
	return call_lookup(t, hk(K_ALIAS, pub, outside, 0, alias));
}

struct call *call_by_peer(struct calltab *t, uint32_t inside, uint32_t outside,
			  uint16_t peer_id)
{
	return call_lookup(t, hk(K_PEER, inside, outside, 0, peer_id));
}

struct call *call_by_inside(struct calltab *t, const struct conn *c,
			    uint16_t inside_id)
{
	return call_lookup(t, hk(K_INSIDE, conn_slot(t, c), 0, 0, inside_id));
}

void call_set_peer(struct calltab *t, struct call *call, uint16_t peer_id)
{
	struct hkey k;

	if (call->peer_known) {
		k = hk(K_PEER, call->inside, call->outside, 0, call->peer_id);
		hx_del(t->idx, &k);
	}
	call->peer_id = peer_id;
	call->peer_known = 1;
	k = hk(K_PEER, call->inside, call->outside, 0, peer_id);
	/* Server IDs are unique per server: a clash means the old call is dead. */
	{
		uint32_t *v = hx_find(t->idx, &k);

		if (v && &t->calls[*v] != call) {
			struct call *old = &t->calls[*v];

			call_end(t, old, END_REPLACED, call->last_seen);
		}
	}
	hx_put(t->idx, &k, call_slot(t, call));
}

void call_set_state(struct call *call, enum call_state s, uint64_t now)
{
	if (call->state != s) {
		call->state = (uint8_t)s;
		call->state_since = now;
	}
}

static void hold_alias(struct calltab *t, uint32_t pub, uint32_t outside,
		       uint16_t alias, uint64_t now)
{
	struct hold *h;
	struct hkey k;

	if (t->hold_n == t->hold_cap) {
		/* Ring full: the oldest hold-down ends early. */
		h = &t->holds[t->hold_head];
		k = hk(K_HOLD, h->pub, h->outside, 0, h->alias);
		hx_del(t->idx, &k);
		t->hold_head = (t->hold_head + 1) % t->hold_cap;
		t->hold_n--;
		t->st.holddown_evicted++;
	}
	h = &t->holds[(t->hold_head + t->hold_n) % t->hold_cap];
	h->pub = pub;
	h->outside = outside;
	h->alias = alias;
	h->until = now + t->cfg.holddown_ms;
	t->hold_n++;
	k = hk(K_HOLD, h->pub, h->outside, 0, h->alias);
	hx_put(t->idx, &k, 0);
}

void call_end(struct calltab *t, struct call *call, enum call_end reason,
	      uint64_t now)
{
	struct hkey k;

	if (call->state == CALL_FREE)
		return;
	k = hk(K_ALIAS, call->pub, call->outside, 0, call->alias);
	hx_del(t->idx, &k);
	k = hk(K_INSIDE, call->conn, 0, 0, call->inside_id);
	{
		uint32_t *v = hx_find(t->idx, &k);

		/* A newer call may own this inside ID now: leave its entry. */
		if (v && &t->calls[*v] == call)
			hx_del(t->idx, &k);
	}
	if (call->peer_known) {
		uint32_t *v;

		k = hk(K_PEER, call->inside, call->outside, 0, call->peer_id);
		v = hx_find(t->idx, &k);
		if (v && &t->calls[*v] == call)
			hx_del(t->idx, &k);
	}
	hold_alias(t, call->pub, call->outside, call->alias, now);
	conn_unlink(t, call);
	if (call->state == CALL_REFUSED)
		t->nrefused--;
	else
		t->ncalls_used--;
	t->st.calls_ended[reason < END_COUNT ? reason : END_ADMIN]++;
	call->state = CALL_FREE;
	t->call_free[t->ncall_free++] = call_slot(t, call);
}

void calltab_expire_holds(struct calltab *t, uint64_t now)
{
	/* Hold-downs all last the same time, so the ring is in expiry order. */
	while (t->hold_n > 0) {
		struct hold *h = &t->holds[t->hold_head];
		struct hkey k;

		if (h->until > now)
			break;
		k = hk(K_HOLD, h->pub, h->outside, 0, h->alias);
		hx_del(t->idx, &k);
		t->hold_head = (t->hold_head + 1) % t->hold_cap;
		t->hold_n--;
	}
}

uint32_t calltab_holds(const struct calltab *t)
{
	return t->hold_n;
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
	return x;
}

int alias_reserve(struct calltab *t, uint32_t pub, uint32_t outside,
		  uint16_t *alias)
{
	struct hkey k;

	if (t->nreserved >= t->cfg.max_reserved ||
	    alias_pick(t, pub, outside, alias) < 0) {
		t->st.alias_exhausted++;
		return -1;
	}
	k = hk(K_ALIAS, pub, outside, 0, *alias);
	hx_put(t->idx, &k, SLOT_RESERVED);
	t->nreserved++;
	return 0;
}

void alias_release(struct calltab *t, uint32_t pub, uint32_t outside,
		   uint16_t alias, uint64_t now)
{
	struct hkey k = hk(K_ALIAS, pub, outside, 0, alias);
	uint32_t *v = hx_find(t->idx, &k);

	if (!v || *v != SLOT_RESERVED)
		return;
	hx_del(t->idx, &k);
	t->nreserved--;
	hold_alias(t, pub, outside, alias, now);
}
