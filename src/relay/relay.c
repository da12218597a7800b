/*
 * The relay: see relay.h.  One control-message handler per (side, type),
 * calls paired across the two sides by slot, GRE demultiplexed by a chained
 * hash whose links live in the call records.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gre.h"
#include "relay/relay.h"

#define DYING 0xFF               /* conn state while it is being dropped */
#define OUR_MAX_CHANNELS 65535

static const char *const conn_state_names[RLC_STATE_COUNT] = {
	"free", "wait_sccrq", "wait_upstream", "connecting", "wait_sccrp",
	"established", "stopping"
};
static const char *const call_state_names[RLK_STATE_COUNT] = {
	"free", "wait_conn", "wait_ocrp", "wait_icrp", "wait_iccn",
	"established"
};
static const char *const end_names[RLE_COUNT] = {
	"client_clear", "server_cdn", "server_refused", "client_gone",
	"server_gone", "upstream_failed", "timeout", "protocol", "admin",
	"shutdown"
};
const struct rl_counter_info rl_counters[RLS_COUNT] = {
#define RL_COUNTER_INFO(e, n, h) [e] = { n, h },
	RL_COUNTERS(RL_COUNTER_INFO)
#undef RL_COUNTER_INFO
};

static const char *name_of(const char *const *t, unsigned n, unsigned i)
{
	return i < n ? t[i] : "?";
}

const char *rl_conn_state_name(unsigned s)
{
	return name_of(conn_state_names, RLC_STATE_COUNT, s);
}

const char *rl_call_state_name(unsigned s)
{
	return name_of(call_state_names, RLK_STATE_COUNT, s);
}

const char *rl_end_name(unsigned e)
{
	return name_of(end_names, RLE_COUNT, e);
}

const char *rl_counter_name(unsigned c)
{
	return c < RLS_COUNT ? rl_counters[c].name : "?";
}

int rl_call_client_id_known(const struct rl_call *k)
{
	return !k->incoming || k->state != RLK_WAIT_ICRP;
}

int rl_call_server_id_known(const struct rl_call *k)
{
	return k->incoming ||
	       (k->state != RLK_WAIT_CONN && k->state != RLK_WAIT_OCRP);
}

void relay_set_cfg(struct relay *r, const struct rl_cfg *cfg)
{
	struct rl_cfg c = *cfg;

	/* The tables are sized by the limits, and the seed stays secret. */
	c.max_conns = r->cfg.max_conns;
	c.max_calls = r->cfg.max_calls;
	c.seed = r->cfg.seed;
	r->cfg = c;
}

void relay_default_cfg(struct rl_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 1024;
	cfg->max_calls = 1024;
	/*
	 * The default table holds 512 sessions (an inside connection and
	 * its upstream one each).  pptp-linux carries all of a host's
	 * tunnels to one server on one connection, so 32 is plenty for any
	 * one client and leaves the table to at least 16 of the busiest.
	 */
	cfg->sessions_per_client = 32;
	cfg->echo_idle_ms = 60000;
	cfg->echo_reply_ms = 60000;
	cfg->start_ms = 10000;
	cfg->call_ms = 60000;
	cfg->stop_ms = 5000;
	cfg->reorder_ms = GRELEG_REORDER_MS;
	cfg->ack_delay_ms = GRELEG_ACK_DELAY_MS;
}

/* ---- randomness and the GRE hash --------------------------------------- */

static uint64_t rng_next(struct relay *r)
{
	uint64_t z = (r->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t hash3(const struct relay *r, uint32_t src, uint32_t dst,
		      uint16_t id)
{
	uint64_t x = ((uint64_t)src << 32 | dst) ^ ((uint64_t)id << 17) ^
		     r->cfg.seed;

	x = (x ^ (x >> 33)) * 0xFF51AFD7ED558CCDull;
	x = (x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53ull;
	return (uint32_t)(x ^ (x >> 33)) & r->hmask;
}

/* A hash entry is (call slot << 1 | kind): kind 0 is the client's GRE
 * (client -> server, our pac_id), kind 1 the server's (server -> pub,
 * our pns_id). */
static void key_of(const struct rl_call *k, int kind, uint32_t *src,
		   uint32_t *dst, uint16_t *id)
{
	*src = kind ? k->server : k->client;
	*dst = kind ? k->pub : k->server;
	*id = kind ? k->pns_id : k->pac_id;
}

static uint32_t hash_find(const struct relay *r, uint32_t src, uint32_t dst,
			  uint16_t id)
{
	uint32_t e = r->hash[hash3(r, src, dst, id)];

	while (e != RL_NONE) {
		const struct rl_call *k = &r->calls[e >> 1];
		uint32_t s, d;
		uint16_t i;

		key_of(k, e & 1, &s, &d, &i);
		if (s == src && d == dst && i == id)
			return e;
		e = k->hnext[e & 1];
	}
	return RL_NONE;
}

static void hash_add(struct relay *r, uint32_t slot, int kind)
{
	struct rl_call *k = &r->calls[slot];
	uint32_t s, d, *b;
	uint16_t i;

	key_of(k, kind, &s, &d, &i);
	b = &r->hash[hash3(r, s, d, i)];
	k->hnext[kind] = *b;
	*b = slot << 1 | (uint32_t)kind;
}

static void hash_del(struct relay *r, uint32_t slot, int kind)
{
	struct rl_call *k = &r->calls[slot];
	uint32_t s, d, *p, want = slot << 1 | (uint32_t)kind;
	uint16_t i;

	key_of(k, kind, &s, &d, &i);
	for (p = &r->hash[hash3(r, s, d, i)]; *p != RL_NONE;
	     p = &r->calls[*p >> 1].hnext[*p & 1]) {
		if (*p == want) {
			*p = k->hnext[kind];
			return;
		}
	}
}

/* ---- init ---------------------------------------------------------------- */

int relay_init(struct relay *r, const struct rl_cfg *cfg,
	       const struct rl_hooks *hooks)
{
	uint32_t nb = 16, i;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->hooks = *hooks;
	if (!cfg->max_conns || !cfg->max_calls || cfg->max_calls > (1u << 24))
		return -1;
	while (nb < 2 * cfg->max_calls)
		nb <<= 1;
	r->hmask = nb - 1;
	r->rng = cfg->seed ^ 0x5EEDull;
	r->conns = calloc(cfg->max_conns, sizeof(*r->conns));
	r->calls = calloc(cfg->max_calls, sizeof(*r->calls));
	r->hash = malloc(nb * sizeof(*r->hash));
	r->scratch = malloc(GRELEG_HDR_MAX + 65536);
	if (!r->conns || !r->calls || !r->hash || !r->scratch) {
		relay_destroy(r);
		return -1;
	}
	for (i = 0; i < nb; i++)
		r->hash[i] = RL_NONE;
	return 0;
}

void relay_destroy(struct relay *r)
{
	free(r->conns);
	free(r->calls);
	free(r->hash);
	free(r->scratch);
	r->conns = NULL;
	r->calls = NULL;
	r->hash = NULL;
	r->scratch = NULL;
}

/* ---- events and servers ---------------------------------------------------- */

static void emit(struct relay *r, int type, uint32_t conn, uint32_t call,
		 enum rl_end reason, const char *why)
{
	struct rl_event ev;

	if (!r->hooks.event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.conn = conn;
	ev.call = call;
	ev.reason = reason;
	ev.why = why;
	r->hooks.event(r->hooks.arg, &ev);
}

static struct rl_server *server_find(struct relay *r, uint32_t addr)
{
	int i;

	for (i = 0; i < RL_MAX_SERVERS; i++)
		if (r->servers[i].addr == addr && addr)
			return &r->servers[i];
	return NULL;
}

int relay_server_per_call(const struct relay *r, uint32_t server)
{
	return server_find((struct relay *)r, server) != NULL &&
	       server_find((struct relay *)r, server)->per_call;
}

static void server_learn_per_call(struct relay *r, uint32_t addr,
				  uint32_t conn, uint64_t now)
{
	struct rl_server *s = server_find(r, addr), *old = &r->servers[0];
	int i;

	if (s && s->per_call)
		return;
	if (!s) {
		/* Forget the server unused the longest. */
		for (i = 0; i < RL_MAX_SERVERS; i++)
			if (r->servers[i].last_used < old->last_used)
				old = &r->servers[i];
		s = old;
		s->addr = addr;
	}
	s->per_call = 1;
	s->last_used = now;
	r->ctr[RLS_SERVERS_PER_CALL]++;
	emit(r, RLEV_PER_CALL, conn, RL_NONE, 0,
	     "a second call on one connection failed");
}

/* ---- slots ----------------------------------------------------------------- */

static uint32_t conn_new(struct relay *r, enum rl_side side, uint64_t now)
{
	uint32_t i;
	struct rl_conn *c;
	uint32_t gen;

	for (i = 0; i < r->cfg.max_conns; i++)
		if (r->conns[i].state == RLC_FREE)
			break;
	if (i == r->cfg.max_conns)
		return RL_NONE;
	c = &r->conns[i];
	gen = c->gen + 1;
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->side = (uint8_t)side;
	c->owner = c->primary = RL_NONE;
	c->created = c->state_since = c->last_rx = now;
	r->nconns++;
	if (i >= r->conns_hwm)
		r->conns_hwm = i + 1;
	return i;
}

static void conn_set_state(struct rl_conn *c, int s, uint64_t now)
{
	c->state = (uint8_t)s;
	c->state_since = now;
}

static void conn_release(struct relay *r, uint32_t s, int close_it)
{
	if (close_it && r->hooks.close)
		r->hooks.close(r->hooks.arg, s);
	r->conns[s].state = RLC_FREE;
	r->nconns--;
}

static int conn_live(const struct relay *r, uint32_t s)
{
	return s != RL_NONE && r->conns[s].state != RLC_FREE &&
	       r->conns[s].state != DYING;
}

static uint32_t call_new(struct relay *r, uint64_t now)
{
	uint32_t i;
	struct rl_call *k;

	if (r->ncalls >= r->cfg.max_calls)
		return RL_NONE;
	for (i = 0; i < r->cfg.max_calls; i++)
		if (r->calls[i].state == RLK_FREE)
			break;
	if (i == r->cfg.max_calls)
		return RL_NONE;
	k = &r->calls[i];
	/* Only the head: the legs are set up when the call connects. */
	memset(k, 0, offsetof(struct rl_call, request));
	k->inside = k->up = RL_NONE;
	k->hnext[0] = k->hnext[1] = RL_NONE;
	k->created = k->state_since = now;
	r->ncalls++;
	if (i >= r->calls_hwm)
		r->calls_hwm = i + 1;
	return i;
}

static void call_set_state(struct rl_call *k, int s, uint64_t now)
{
	k->state = (uint8_t)s;
	k->state_since = now;
}

/* ---- sending control messages ------------------------------------------------ */

static void msg_new(struct pptp_msg *m, unsigned type)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint16_t)type;
}

static void send_msg(struct relay *r, uint32_t s, const struct pptp_msg *m)
{
	uint8_t buf[PPTP_MAX_LEN];
	size_t n = pptp_build(m, buf, sizeof(buf));

	if (!n || !conn_live(r, s))
		return;
	r->ctr[RLS_CTL_OUT]++;
	r->hooks.ctl_send(r->hooks.arg, s, buf, n);
}

static void send_stop_request(struct relay *r, uint32_t s, unsigned reason,
			      uint64_t now)
{
	struct pptp_msg m;

	msg_new(&m, PPTP_STOPCCRQ);
	m.num[PF_REASON] = reason;
	send_msg(r, s, &m);
	conn_set_state(&r->conns[s], RLC_STOPPING, now);
}

static void send_simple_reply(struct relay *r, uint32_t s, unsigned type,
			      unsigned result)
{
	struct pptp_msg m;

	msg_new(&m, type);
	m.num[PF_RESULT] = result;
	send_msg(r, s, &m);
}

/* The client's outgoing call failed on our side: tell it with an OCRP. */
static void send_ocrp_error(struct relay *r, const struct rl_call *k)
{
	struct pptp_msg m;

	msg_new(&m, PPTP_OCRP);
	m.num[PF_CALL_ID] = k->pac_id;
	m.num[PF_PEER_CALL_ID] = k->client_id;
	m.num[PF_RESULT] = PPTP_RESULT_GENERAL_ERROR;
	send_msg(r, k->inside, &m);
}

static void send_cdn(struct relay *r, uint32_t s, uint16_t id,
		     unsigned result)
{
	struct pptp_msg m;

	msg_new(&m, PPTP_CDN);
	m.num[PF_CALL_ID] = id;
	m.num[PF_RESULT] = result;
	send_msg(r, s, &m);
}

/* ---- ending calls and connections ---------------------------------------------- */

static void conn_stop(struct relay *r, uint32_t s, uint64_t now);
static void replay_held(struct relay *r, uint32_t s, uint64_t now);

/* Tell the client its call is over, in the message its state expects. */
static void tell_client_end(struct relay *r, struct rl_call *k,
			    enum rl_end why)
{
	if (!conn_live(r, k->inside) ||
	    r->conns[k->inside].state != RLC_ESTABLISHED)
		return;
	if (!k->incoming && k->state != RLK_ESTABLISHED)
		send_ocrp_error(r, k);
	else
		send_cdn(r, k->inside, k->pac_id,
			 why == RLE_ADMIN || why == RLE_SHUTDOWN ?
			 PPTP_CDN_ADMIN_SHUTDOWN : PPTP_CDN_LOST_CARRIER);
}

static void tell_server_end(struct relay *r, struct rl_call *k)
{
	struct pptp_msg m;

	if (!conn_live(r, k->up) || r->conns[k->up].state != RLC_ESTABLISHED ||
	    k->state == RLK_WAIT_CONN)
		return;
	if (k->state == RLK_WAIT_ICRP) {
		msg_new(&m, PPTP_ICRP);
		m.num[PF_CALL_ID] = k->pns_id;
		m.num[PF_PEER_CALL_ID] = k->server_id;
		m.num[PF_RESULT] = PPTP_ICRP_DO_NOT_ACCEPT;
	} else {
		msg_new(&m, PPTP_CCRQ);
		m.num[PF_CALL_ID] = k->pns_id;
	}
	send_msg(r, k->up, &m);
}

static void call_detach_up(struct relay *r, struct rl_call *k)
{
	uint32_t slot = (uint32_t)(k - r->calls);

	if (k->pns_id) {
		hash_del(r, slot, 1);
		if (r->hooks.id_put)
			r->hooks.id_put(r->hooks.arg, k->pub, k->server,
					k->pns_id);
		k->pns_id = 0;
	}
	if (k->up != RL_NONE) {
		r->conns[k->up].ncalls--;
		k->up = RL_NONE;
	}
}

static void call_end(struct relay *r, uint32_t slot, enum rl_end why,
		     int tell_client, int tell_server, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];
	uint32_t up = k->up;

	if (k->state == RLK_FREE)
		return;
	if (tell_client)
		tell_client_end(r, k, why);
	if (tell_server)
		tell_server_end(r, k);
	r->ended[why]++;
	emit(r, RLEV_CALL_END, RL_NONE, slot, why, rl_end_name(why));
	hash_del(r, slot, 0);
	call_detach_up(r, k);
	if (k->inside != RL_NONE)
		r->conns[k->inside].ncalls--;
	k->state = RLK_FREE;
	r->ncalls--;
	/* A connection of its own goes with its call. */
	if (conn_live(r, up) && r->conns[up].per_call && !r->conns[up].ncalls)
		conn_stop(r, up, now);
}

/* Stop an upstream connection that has no more use: politely if it is up. */
static void conn_stop(struct relay *r, uint32_t s, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];

	if (c->state == RLC_ESTABLISHED) {
		send_stop_request(r, s, PPTP_STOP_NONE, now);
	} else if (c->state != RLC_STOPPING) {
		emit(r, RLEV_CONN_DOWN, s, RL_NONE, RLE_CLIENT_GONE,
		     "not needed any more");
		conn_release(r, s, 1);
	}
}

static void conn_drop(struct relay *r, uint32_t s, enum rl_end why,
		      int close_it, uint64_t now);

/* The primary upstream of an inside connection went away. */
static void primary_lost(struct relay *r, uint32_t owner, uint64_t now)
{
	struct rl_conn *o = &r->conns[owner];
	struct pptp_msg m;

	o->primary = RL_NONE;
	if (o->state == RLC_WAIT_UPSTREAM) {
		msg_new(&m, PPTP_SCCRP);
		m.num[PF_PROTO_VERSION] = PPTP_VERSION;
		m.num[PF_RESULT] = PPTP_RESULT_GENERAL_ERROR;
		send_msg(r, owner, &m);
		conn_drop(r, owner, RLE_UPSTREAM_FAILED, 1, now);
	}
	/*
	 * Once started, the client's connection outlives it: pptpd closes
	 * the connection of every call that ends, while the client's other
	 * calls carry on elsewhere, and a later call gets a new one.
	 */
}

/*
 * A connection is gone (closed by its peer, failed, timed out or broken).
 * Its calls end, with word to the other side; an inside connection takes
 * its upstream connections along; a lost primary stops its inside one.
 */
static void conn_drop(struct relay *r, uint32_t s, enum rl_end why,
		      int close_it, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	int inside = c->side == RL_INSIDE;
	uint32_t i;

	if (!conn_live(r, s))
		return;
	if (!inside && c->state != RLC_ESTABLISHED && c->state != RLC_STOPPING)
		r->ctr[RLS_UPSTREAM_FAILED]++;
	c->state = DYING;
	for (i = 0; i < r->calls_hwm && c->ncalls; i++) {
		struct rl_call *k = &r->calls[i];

		if (k->state != RLK_FREE && (k->inside == s || k->up == s))
			call_end(r, i, why, !inside, inside, now);
	}
	if (inside) {
		for (i = 0; i < r->conns_hwm; i++)
			if (conn_live(r, i) && r->conns[i].side == RL_UPSTREAM &&
			    r->conns[i].owner == s) {
				r->conns[i].owner = RL_NONE;
				conn_stop(r, i, now);
			}
	} else if (conn_live(r, c->owner) && r->conns[c->owner].primary == s) {
		primary_lost(r, c->owner, now);
	}
	emit(r, RLEV_CONN_DOWN, s, RL_NONE, why, rl_end_name(why));
	conn_release(r, s, close_it);
}

/* ---- upstream connections ------------------------------------------------------ */

static uint32_t upstream_open(struct relay *r, uint32_t owner, int per_call,
			      uint64_t now)
{
	uint32_t s = conn_new(r, RL_UPSTREAM, now);
	struct rl_conn *c;

	if (s == RL_NONE)
		return RL_NONE;
	c = &r->conns[s];
	c->owner = owner;
	c->server = r->conns[owner].server;
	c->client = r->conns[owner].client;
	c->per_call = (uint8_t)per_call;
	conn_set_state(c, RLC_CONNECTING, now);
	r->ctr[RLS_UPSTREAM_CONNS]++;
	if (per_call)
		r->ctr[RLS_PER_CALL_CONNS]++;
	if (r->hooks.connect(r->hooks.arg, s, c->server) < 0) {
		r->ctr[RLS_UPSTREAM_FAILED]++;
		conn_release(r, s, 0);
		return RL_NONE;
	}
	return s;
}

void relay_connected(struct relay *r, uint32_t s, uint32_t pub, uint64_t now)
{
	struct rl_conn *c;
	struct pptp_msg m;

	if (s >= r->cfg.max_conns || !conn_live(r, s))
		return;
	c = &r->conns[s];
	if (c->side != RL_UPSTREAM || c->state != RLC_CONNECTING)
		return;
	c->pub = pub;
	c->last_rx = now;
	if (!conn_live(r, c->owner)) {
		conn_release(r, s, 1);
		return;
	}
	m = r->conns[c->owner].start;
	send_msg(r, s, &m);
	conn_set_state(c, RLC_WAIT_SCCRP, now);
}

/* ---- calls ------------------------------------------------------------------------ */

static uint16_t pick_pac_id(struct relay *r, uint32_t client, uint32_t server)
{
	uint32_t i;
	uint16_t id;

	for (i = 0; i < 65536 + 64; i++) {
		id = i < 64 ? (uint16_t)rng_next(r) : (uint16_t)(i - 64);
		if (id && hash_find(r, client, server, id) == RL_NONE &&
		    !(r->hooks.client_id_busy &&
		      r->hooks.client_id_busy(r->hooks.arg, client, server,
					      id)))
			return id;
	}
	return 0;
}

static int take_pns_id(struct relay *r, struct rl_call *k)
{
	int tries;
	uint16_t id;

	for (tries = 0; tries < 8; tries++) {
		if (r->hooks.id_get(r->hooks.arg, k->pub, k->server, &id) < 0)
			return -1;
		if (id && hash_find(r, k->server, k->pub, id) == RL_NONE) {
			k->pns_id = id;
			hash_add(r, (uint32_t)(k - r->calls), 1);
			return 0;
		}
		r->hooks.id_put(r->hooks.arg, k->pub, k->server, id);
	}
	return -1;
}

static void legs_start(struct relay *r, struct rl_call *k)
{
	greleg_init(&k->leg_client, k->pac_id, k->client_id, 1);
	greleg_init(&k->leg_server, k->pns_id, k->server_id, 1);
	k->leg_client.reorder_ms = k->leg_server.reorder_ms = r->cfg.reorder_ms;
	k->leg_client.ack_delay_ms = k->leg_server.ack_delay_ms =
		r->cfg.ack_delay_ms;
}

static void call_established(struct relay *r, uint32_t slot, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];

	legs_start(r, k);
	call_set_state(k, RLK_ESTABLISHED, now);
	r->ctr[RLS_CALLS]++;
	emit(r, RLEV_CALL_UP, RL_NONE, slot, 0, "established");
}

/* The call's upstream connection is up: ask the server for the call. */
static void call_send_ocrq(struct relay *r, uint32_t slot, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];
	struct pptp_msg m;

	k->pub = r->conns[k->up].pub;
	if (take_pns_id(r, k) < 0) {
		r->ctr[RLS_CALLS_REFUSED]++;
		call_end(r, slot, RLE_UPSTREAM_FAILED, 1, 0, now);
		return;
	}
	m = k->request;
	m.num[PF_CALL_ID] = k->pns_id;
	send_msg(r, k->up, &m);
	call_set_state(k, RLK_WAIT_OCRP, now);
}

/* Put the call on an upstream connection: the primary while the server
 * takes more calls on it, else one of its own. */
static int call_place(struct relay *r, uint32_t slot, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];
	struct rl_conn *o = &r->conns[k->inside];
	uint32_t up = o->primary;
	struct rl_server *known = server_find(r, o->server);
	int one_per_conn = r->cfg.per_call || (known && known->per_call);

	if (known)
		known->last_used = now;

	if (!conn_live(r, up) || r->conns[up].state != RLC_ESTABLISHED ||
	    (r->conns[up].ncalls &&
	     (one_per_conn || (r->conns[up].max_channels &&
			       r->conns[up].ncalls >= r->conns[up].max_channels))))
		up = upstream_open(r, k->inside, 1, now);
	if (up == RL_NONE)
		return -1;
	k->up = up;
	r->conns[up].ncalls++;
	if (r->conns[up].state == RLC_ESTABLISHED)
		call_send_ocrq(r, slot, now);
	else
		call_set_state(k, RLK_WAIT_CONN, now);
	return 0;
}

enum { F_CLIENT, F_PAC, F_PNS, F_SERVER };

static uint32_t call_on(struct relay *r, uint32_t conn, int by_server_side,
			uint16_t id, int field)
{
	uint32_t i;

	for (i = 0; i < r->calls_hwm; i++) {
		const struct rl_call *k = &r->calls[i];
		uint16_t v;

		if (k->state == RLK_FREE ||
		    (by_server_side ? k->up : k->inside) != conn ||
		    (field == F_CLIENT && !rl_call_client_id_known(k)) ||
		    (field == F_SERVER && !rl_call_server_id_known(k)) ||
		    (field == F_PNS && !k->pns_id))
			continue;
		v = field == 0 ? k->client_id : field == 1 ? k->pac_id :
		    field == 2 ? k->pns_id : k->server_id;
		if (v == id)
			return i;
	}
	return RL_NONE;
}


/* A new call on an inside connection, its client-side fields filled. */
static uint32_t call_open(struct relay *r, uint32_t s, uint16_t client_id,
			  uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	uint32_t slot = call_new(r, now);
	struct rl_call *k;

	if (slot == RL_NONE)
		return RL_NONE;
	k = &r->calls[slot];
	k->client = c->client;
	k->server = c->server;
	k->client_id = client_id;
	k->pac_id = pick_pac_id(r, c->client, c->server);
	if (!k->pac_id) {
		k->state = RLK_FREE;
		r->ncalls--;
		return RL_NONE;
	}
	k->state = RLK_WAIT_CONN;
	k->inside = s;
	c->ncalls++;
	hash_add(r, slot, 0);
	return slot;
}

static void outgoing_call(struct relay *r, uint32_t s,
			  const struct pptp_msg *m, uint64_t now)
{
	uint16_t cid = (uint16_t)m->num[PF_CALL_ID];
	uint32_t slot = call_on(r, s, 0, cid, F_CLIENT);
	struct rl_call fake;

	/* The client reusing a live Call ID has given up the old call. */
	if (slot != RL_NONE)
		call_end(r, slot, RLE_CLIENT_CLEAR, 0, 1, now);
	slot = call_open(r, s, cid, now);
	if (slot == RL_NONE) {
		r->ctr[RLS_CALLS_REFUSED]++;
		memset(&fake, 0, offsetof(struct rl_call, request));
		fake.inside = s;
		fake.client_id = cid;
		send_ocrp_error(r, &fake);
		return;
	}
	r->calls[slot].request = *m;
	if (call_place(r, slot, now) < 0) {
		r->ctr[RLS_CALLS_REFUSED]++;
		call_end(r, slot, RLE_UPSTREAM_FAILED, 1, 0, now);
	}
}

/* ---- messages from the client (we are its PAC) ------------------------------------- */

static void unexpected(struct relay *r, uint32_t s, const char *why)
{
	r->ctr[RLS_CTL_UNEXPECTED]++;
	emit(r, RLEV_BAD_INPUT, s, RL_NONE, RLE_PROTOCOL, why);
}

static void client_start(struct relay *r, uint32_t s, const struct pptp_msg *m,
			 uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	struct pptp_msg rep;

	c->start = *m;
	conn_set_state(c, RLC_WAIT_UPSTREAM, now);
	c->primary = upstream_open(r, s, 0, now);
	if (c->primary != RL_NONE)
		return;
	msg_new(&rep, PPTP_SCCRP);
	rep.num[PF_PROTO_VERSION] = PPTP_VERSION;
	rep.num[PF_RESULT] = PPTP_RESULT_GENERAL_ERROR;
	send_msg(r, s, &rep);
	conn_drop(r, s, RLE_UPSTREAM_FAILED, 1, now);
}

static void client_icrp(struct relay *r, uint32_t s, const struct pptp_msg *m,
			uint64_t now)
{
	uint32_t slot = call_on(r, s, 0, (uint16_t)m->num[PF_PEER_CALL_ID],
				F_PAC);
	struct rl_call *k;
	struct pptp_msg out = *m;

	if (slot == RL_NONE || r->calls[slot].state != RLK_WAIT_ICRP) {
		unexpected(r, s, "ICRP for no incoming call");
		return;
	}
	k = &r->calls[slot];
	k->client_id = (uint16_t)m->num[PF_CALL_ID];
	out.num[PF_CALL_ID] = k->pns_id;
	out.num[PF_PEER_CALL_ID] = k->server_id;
	send_msg(r, k->up, &out);
	if (m->num[PF_RESULT] != PPTP_RESULT_OK) {
		/* The client turned the server's call down. */
		call_end(r, slot, RLE_CLIENT_CLEAR, 0, 0, now);
		return;
	}
	call_set_state(k, RLK_WAIT_ICCN, now);
}

static void client_clear(struct relay *r, uint32_t s, const struct pptp_msg *m,
			 uint64_t now)
{
	uint32_t slot = call_on(r, s, 0, (uint16_t)m->num[PF_CALL_ID],
				F_CLIENT);

	if (slot == RL_NONE) {
		unexpected(r, s, "Call-Clear-Request for no call");
		return;
	}
	send_cdn(r, s, r->calls[slot].pac_id, PPTP_CDN_REQUEST);
	call_end(r, slot, RLE_CLIENT_CLEAR, 0, 1, now);
}

static void client_link_info(struct relay *r, uint32_t s,
			     const struct pptp_msg *m)
{
	uint32_t slot = call_on(r, s, 0, (uint16_t)m->num[PF_PEER_CALL_ID],
				F_PAC);
	struct pptp_msg out = *m;

	if (slot == RL_NONE || r->calls[slot].state != RLK_ESTABLISHED) {
		unexpected(r, s, "Set-Link-Info for no call");
		return;
	}
	out.num[PF_PEER_CALL_ID] = r->calls[slot].server_id;
	send_msg(r, r->calls[slot].up, &out);
}

static void echo_reply(struct relay *r, uint32_t s, const struct pptp_msg *m)
{
	struct pptp_msg rep;

	msg_new(&rep, PPTP_ECHORP);
	rep.num[PF_IDENTIFIER] = m->num[PF_IDENTIFIER];
	rep.num[PF_RESULT] = PPTP_RESULT_OK;
	send_msg(r, s, &rep);
}

/* Messages either side may send at any time after the start. */
static int common_msg(struct relay *r, uint32_t s, const struct pptp_msg *m,
		      uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	enum rl_end why = c->side == RL_INSIDE ? RLE_CLIENT_GONE :
						 RLE_SERVER_GONE;

	switch (m->type) {
	case PPTP_ECHORQ:
		echo_reply(r, s, m);
		return 1;
	case PPTP_ECHORP:
		c->echo_out = 0;
		return 1;
	case PPTP_STOPCCRQ:
		send_simple_reply(r, s, PPTP_STOPCCRP, PPTP_RESULT_OK);
		conn_drop(r, s, why, 1, now);
		return 1;
	case PPTP_STOPCCRP:
		if (c->state == RLC_STOPPING)
			conn_drop(r, s, why, 1, now);
		else
			unexpected(r, s, "Stop-Control-Connection-Reply unasked");
		return 1;
	}
	return 0;
}

static void client_msg(struct relay *r, uint32_t s, const struct pptp_msg *m,
		       uint64_t now)
{
	struct rl_conn *c = &r->conns[s];

	if (c->state == RLC_WAIT_SCCRQ) {
		if (m->type == PPTP_SCCRQ) {
			client_start(r, s, m, now);
		} else {
			r->ctr[RLS_CTL_MALFORMED]++;
			emit(r, RLEV_BAD_INPUT, s, RL_NONE, RLE_PROTOCOL,
			     "client did not start with SCCRQ");
			conn_drop(r, s, RLE_PROTOCOL, 1, now);
		}
		return;
	}
	if (common_msg(r, s, m, now))
		return;
	if (c->state != RLC_ESTABLISHED) {
		unexpected(r, s, "client message before the start finished");
		return;
	}
	switch (m->type) {
	case PPTP_OCRQ:
		outgoing_call(r, s, m, now);
		break;
	case PPTP_ICRP:
		client_icrp(r, s, m, now);
		break;
	case PPTP_CCRQ:
		client_clear(r, s, m, now);
		break;
	case PPTP_SLI:
		client_link_info(r, s, m);
		break;
	default:
		unexpected(r, s, "message a PNS does not send");
	}
}

/* ---- messages from the server (we are its PNS) --------------------------------------- */

static void flush_waiting_calls(struct relay *r, uint32_t s, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < r->calls_hwm; i++)
		if (r->calls[i].state == RLK_WAIT_CONN && r->calls[i].up == s)
			call_send_ocrq(r, i, now);
}

static void server_start_reply(struct relay *r, uint32_t s,
			       const struct pptp_msg *m, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	struct rl_conn *o;
	struct pptp_msg rep = *m;

	if (!conn_live(r, c->owner)) {
		conn_stop(r, s, now);
		return;
	}
	o = &r->conns[c->owner];
	if (o->primary == s && o->state == RLC_WAIT_UPSTREAM) {
		uint32_t owner = c->owner;

		/* The client hears what the server said, except that we take
		 * any number of calls. */
		if (m->num[PF_RESULT] == PPTP_RESULT_OK)
			rep.num[PF_MAX_CHANNELS] = OUR_MAX_CHANNELS;
		send_msg(r, owner, &rep);
		if (m->num[PF_RESULT] != PPTP_RESULT_OK) {
			o->primary = RL_NONE;
			conn_drop(r, s, RLE_UPSTREAM_FAILED, 1, now);
			conn_drop(r, owner, RLE_UPSTREAM_FAILED, 1, now);
			return;
		}
		conn_set_state(o, RLC_ESTABLISHED, now);
	}
	if (m->num[PF_RESULT] != PPTP_RESULT_OK) {
		conn_drop(r, s, RLE_UPSTREAM_FAILED, 1, now);
		return;
	}
	c->start = *m;
	c->max_channels = (uint16_t)m->num[PF_MAX_CHANNELS];
	conn_set_state(c, RLC_ESTABLISHED, now);
	emit(r, RLEV_CONN_UP, s, RL_NONE, 0, "upstream established");
	flush_waiting_calls(r, s, now);
	replay_held(r, c->owner, now);
}

/* Whether another call on upstream connection up is established. */
static int other_call_up(const struct relay *r, uint32_t up, uint32_t slot)
{
	uint32_t i;

	for (i = 0; i < r->calls_hwm; i++)
		if (i != slot && r->calls[i].up == up &&
		    r->calls[i].state == RLK_ESTABLISHED)
			return 1;
	return 0;
}

/* The server refused a call.  A refusal of a second call on a shared
 * connection means it takes one call per connection: retry on a new one. */
static void call_refused(struct relay *r, uint32_t slot,
			 const struct pptp_msg *m, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];
	uint32_t up = k->up;
	struct pptp_msg out = *m;

	if (other_call_up(r, up, slot) && !r->conns[up].per_call &&
	    !k->retried) {
		server_learn_per_call(r, k->server, up, now);
		call_detach_up(r, k);
		k->retried = 1;
		if (call_place(r, slot, now) == 0)
			return;
		call_end(r, slot, RLE_UPSTREAM_FAILED, 1, 0, now);
		return;
	}
	out.num[PF_CALL_ID] = k->pac_id;
	out.num[PF_PEER_CALL_ID] = k->client_id;
	send_msg(r, k->inside, &out);
	call_end(r, slot, RLE_SERVER_REFUSED, 0, 0, now);
}

static void server_ocrp(struct relay *r, uint32_t s, const struct pptp_msg *m,
			uint64_t now)
{
	uint32_t slot = call_on(r, s, 1, (uint16_t)m->num[PF_PEER_CALL_ID],
				F_PNS);
	struct rl_call *k;
	struct pptp_msg out = *m;

	if (slot == RL_NONE || r->calls[slot].state != RLK_WAIT_OCRP) {
		unexpected(r, s, "OCRP for no call");
		return;
	}
	if (m->num[PF_RESULT] != PPTP_RESULT_OK) {
		call_refused(r, slot, m, now);
		return;
	}
	k = &r->calls[slot];
	k->server_id = (uint16_t)m->num[PF_CALL_ID];
	out.num[PF_CALL_ID] = k->pac_id;
	out.num[PF_PEER_CALL_ID] = k->client_id;
	send_msg(r, k->inside, &out);
	call_established(r, slot, now);
}

static void server_icrq(struct relay *r, uint32_t s, const struct pptp_msg *m,
			uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	uint32_t slot = RL_NONE;
	struct rl_call *k;
	struct pptp_msg out = *m;

	if (conn_live(r, c->owner) &&
	    r->conns[c->owner].state == RLC_ESTABLISHED)
		slot = call_open(r, c->owner, 0, now);
	if (slot == RL_NONE) {
		r->ctr[RLS_CALLS_REFUSED]++;
		msg_new(&out, PPTP_ICRP);
		out.num[PF_PEER_CALL_ID] = m->num[PF_CALL_ID];
		out.num[PF_RESULT] = PPTP_ICRP_DO_NOT_ACCEPT;
		send_msg(r, s, &out);
		return;
	}
	k = &r->calls[slot];
	k->incoming = 1;
	k->up = s;
	c->ncalls++;
	k->pub = c->pub;
	k->server_id = (uint16_t)m->num[PF_CALL_ID];
	if (take_pns_id(r, k) < 0) {
		r->ctr[RLS_CALLS_REFUSED]++;
		call_set_state(k, RLK_WAIT_ICRP, now);
		call_end(r, slot, RLE_UPSTREAM_FAILED, 0, 1, now);
		return;
	}
	out.num[PF_CALL_ID] = k->pac_id;
	send_msg(r, k->inside, &out);
	call_set_state(k, RLK_WAIT_ICRP, now);
}

static void server_iccn(struct relay *r, uint32_t s, const struct pptp_msg *m,
			uint64_t now)
{
	uint32_t slot = call_on(r, s, 1, (uint16_t)m->num[PF_PEER_CALL_ID],
				F_PNS);
	struct pptp_msg out = *m;

	if (slot == RL_NONE || r->calls[slot].state != RLK_WAIT_ICCN) {
		unexpected(r, s, "ICCN for no call");
		return;
	}
	out.num[PF_PEER_CALL_ID] = r->calls[slot].client_id;
	send_msg(r, r->calls[slot].inside, &out);
	call_established(r, slot, now);
}

static void server_cdn(struct relay *r, uint32_t s, const struct pptp_msg *m,
		       uint64_t now)
{
	uint32_t slot = call_on(r, s, 1, (uint16_t)m->num[PF_CALL_ID],
				F_SERVER);
	struct pptp_msg out = *m;

	if (slot == RL_NONE) {
		unexpected(r, s, "Call-Disconnect-Notify for no call");
		return;
	}
	if (r->calls[slot].state == RLK_ESTABLISHED ||
	    r->calls[slot].incoming) {
		out.num[PF_CALL_ID] = r->calls[slot].pac_id;
		send_msg(r, r->calls[slot].inside, &out);
	} else {
		send_ocrp_error(r, &r->calls[slot]);
	}
	call_end(r, slot, RLE_SERVER_CDN, 0, 0, now);
}

static void server_wan_error(struct relay *r, uint32_t s,
			     const struct pptp_msg *m)
{
	uint32_t slot = call_on(r, s, 1, (uint16_t)m->num[PF_PEER_CALL_ID],
				F_PNS);
	struct pptp_msg out = *m;

	if (slot == RL_NONE) {
		unexpected(r, s, "WAN-Error-Notify for no call");
		return;
	}
	out.num[PF_PEER_CALL_ID] = r->calls[slot].client_id;
	send_msg(r, r->calls[slot].inside, &out);
}

static void server_msg(struct relay *r, uint32_t s, const struct pptp_msg *m,
		       uint64_t now)
{
	struct rl_conn *c = &r->conns[s];

	if (c->state == RLC_WAIT_SCCRP && m->type == PPTP_SCCRP) {
		server_start_reply(r, s, m, now);
		return;
	}
	if (common_msg(r, s, m, now))
		return;
	if (c->state != RLC_ESTABLISHED) {
		unexpected(r, s, "server message before the start finished");
		return;
	}
	switch (m->type) {
	case PPTP_OCRP:
		server_ocrp(r, s, m, now);
		break;
	case PPTP_ICRQ:
		server_icrq(r, s, m, now);
		break;
	case PPTP_ICCN:
		server_iccn(r, s, m, now);
		break;
	case PPTP_CDN:
		server_cdn(r, s, m, now);
		break;
	case PPTP_WEN:
		server_wan_error(r, s, m);
		break;
	default:
		unexpected(r, s, "message a PAC does not send");
	}
}

/* ---- control input ---------------------------------------------------------------- */

/* Inside connections of client, counted from the table (a scan as long as
 * the one that finds a free slot). */
static uint32_t client_sessions(const struct relay *r, uint32_t client)
{
	uint32_t i, n = 0;

	for (i = 0; i < r->conns_hwm; i++)
		if (conn_live(r, i) && r->conns[i].side == RL_INSIDE &&
		    r->conns[i].client == client)
			n++;
	return n;
}

uint32_t relay_accept(struct relay *r, uint32_t client, uint16_t client_port,
		      uint32_t server, uint64_t now)
{
	uint32_t s;
	struct rl_conn *c;

	if (r->cfg.sessions_per_client &&
	    client_sessions(r, client) >= r->cfg.sessions_per_client) {
		r->ctr[RLS_INSIDE_CLIENT_LIMIT]++;
		return RL_NONE;
	}
	s = conn_new(r, RL_INSIDE, now);
	if (s == RL_NONE) {
		r->ctr[RLS_INSIDE_REFUSED]++;
		return RL_NONE;
	}
	c = &r->conns[s];
	c->client = client;
	c->client_port = client_port;
	c->server = server;
	conn_set_state(c, RLC_WAIT_SCCRQ, now);
	r->ctr[RLS_INSIDE_CONNS]++;
	return s;
}

static void dispatch(struct relay *r, uint32_t s, const uint8_t *p,
		     uint64_t now)
{
	struct pptp_msg m;

	if (pptp_parse(p, PPTP_MAX_LEN, &m) != PPTP_OK)
		return;   /* cannot happen: the header was checked */
	r->ctr[RLS_CTL_IN]++;
	r->conns[s].last_rx = now;
	r->conns[s].echo_out = 0;
	if (r->conns[s].side == RL_INSIDE)
		client_msg(r, s, &m, now);
	else
		server_msg(r, s, &m, now);
}

/* Keep what a client sends while its start waits for the server: it may
 * well send its first call request right behind its start request. */
static void hold_input(struct relay *r, uint32_t s, const uint8_t *p,
		       size_t len, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];

	if (c->held_len + len > sizeof(c->held)) {
		r->ctr[RLS_CTL_MALFORMED]++;
		emit(r, RLEV_BAD_INPUT, s, RL_NONE, RLE_PROTOCOL,
		     "too much sent before the start finished");
		conn_drop(r, s, RLE_PROTOCOL, 1, now);
		return;
	}
	memcpy(c->held + c->held_len, p, len);
	c->held_len = (uint16_t)(c->held_len + len);
}

static void replay_held(struct relay *r, uint32_t s, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	uint8_t buf[sizeof(c->held)];
	size_t n = c->held_len;

	if (!n || c->state != RLC_ESTABLISHED)
		return;
	memcpy(buf, c->held, n);
	c->held_len = 0;
	relay_ctl_input(r, s, buf, n, now);
}

/* The framing error of a complete header, or PPTP_OK with its length. */
static enum pptp_err header_of(struct relay *r, uint32_t s, uint16_t *mlen,
			       uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	uint16_t type;
	enum pptp_err e = pptp_hdr_check(c->rx, PPTP_HDR_LEN, &type, mlen);

	if (e != PPTP_OK) {
		r->ctr[RLS_CTL_MALFORMED]++;
		emit(r, RLEV_BAD_INPUT, s, RL_NONE, RLE_PROTOCOL,
		     pptp_strerror(e));
		conn_drop(r, s, RLE_PROTOCOL, 1, now);
	}
	return e;
}

void relay_ctl_input(struct relay *r, uint32_t s, const uint8_t *p,
		     size_t len, uint64_t now)
{
	struct rl_conn *c;
	uint16_t mlen = PPTP_HDR_LEN;
	uint32_t gen;
	size_t want;

	if (s >= r->cfg.max_conns || !conn_live(r, s))
		return;
	c = &r->conns[s];
	gen = c->gen;
	if (c->rx_have >= PPTP_HDR_LEN &&
	    header_of(r, s, &mlen, now) != PPTP_OK)
		return;
	while (len) {
		if (c->side == RL_INSIDE && c->state == RLC_WAIT_UPSTREAM) {
			hold_input(r, s, p, len, now);
			return;
		}
		want = (c->rx_have < PPTP_HDR_LEN ? PPTP_HDR_LEN : mlen) -
		       c->rx_have;
		if (want > len)
			want = len;
		memcpy(c->rx + c->rx_have, p, want);
		c->rx_have = (uint16_t)(c->rx_have + want);
		p += want;
		len -= want;
		/* A header is judged the moment its 12 bytes are in. */
		if (c->rx_have == PPTP_HDR_LEN &&
		    header_of(r, s, &mlen, now) != PPTP_OK)
			return;
		if (c->rx_have < PPTP_HDR_LEN || c->rx_have < mlen)
			continue;
		c->rx_have = 0;
		mlen = PPTP_HDR_LEN;
		dispatch(r, s, c->rx, now);
		if (c->state == RLC_FREE || c->gen != gen)
			return;
	}
}

void relay_closed(struct relay *r, uint32_t s, uint64_t now)
{
	struct rl_conn *c;

	if (s >= r->cfg.max_conns || !conn_live(r, s))
		return;
	c = &r->conns[s];
	if (c->side == RL_INSIDE)
		conn_drop(r, s, RLE_CLIENT_GONE, 0, now);
	else
		conn_drop(r, s, c->state == RLC_ESTABLISHED ||
			  c->state == RLC_STOPPING ? RLE_SERVER_GONE :
			  RLE_UPSTREAM_FAILED, 0, now);
}

/* ---- GRE ---------------------------------------------------------------------------- */

struct relay_ctx {
	struct relay *r;
	struct rl_call *k;
};

static void forward(struct relay *r, struct greleg *leg, uint32_t src,
		    uint32_t dst, const uint8_t *ppp, size_t len)
{
	size_t n;

	if (!len)   /* a sequence number without a frame: nothing to carry */
		return;
	n = greleg_tx(leg, ppp, len, r->scratch, GRELEG_HDR_MAX + 65536);
	if (n && r->hooks.gre_send(r->hooks.arg, src, dst, r->scratch, n) < 0)
		r->ctr[RLS_GRE_SEND_FAILED]++;
}

static void deliver_up(void *arg, uint32_t seq, const uint8_t *ppp,
		       size_t len)
{
	struct relay_ctx *x = arg;

	(void)seq;
	x->r->ctr[RLS_FRAMES_UP]++;
	x->r->ctr[RLS_BYTES_UP] += len;
	forward(x->r, &x->k->leg_server, x->k->pub, x->k->server, ppp, len);
}

static void deliver_down(void *arg, uint32_t seq, const uint8_t *ppp,
			 size_t len)
{
	struct relay_ctx *x = arg;

	(void)seq;
	x->r->ctr[RLS_FRAMES_DOWN]++;
	x->r->ctr[RLS_BYTES_DOWN] += len;
	forward(x->r, &x->k->leg_client, x->k->server, x->k->client, ppp, len);
}

/* Fold what a leg counted since last time into the relay's counters. */
static void leg_account(struct relay *r, const struct greleg_stats *before,
			const struct greleg *leg)
{
	r->ctr[RLS_GRE_LOST] += leg->st.rx_lost - before->rx_lost;
	r->ctr[RLS_GRE_REORDERED] += leg->st.rx_reordered -
				     before->rx_reordered;
}

enum rl_gre_result relay_gre_input(struct relay *r, uint32_t src,
				   uint32_t dst, const uint8_t *gre,
				   size_t len, uint64_t now)
{
	struct gre_info gi;

	if (gre_parse(gre, len, &gi) != GRE_OK)
		return RL_GRE_NOT_MINE;
	return relay_gre_parsed(r, src, dst, &gi, gre, now);
}

enum rl_gre_result relay_gre_parsed(struct relay *r, uint32_t src,
				    uint32_t dst, const struct gre_info *gip,
				    const uint8_t *gre, uint64_t now)
{
	const struct gre_info gi = *gip;
	struct relay_ctx x;
	struct greleg *leg;
	struct greleg_stats before;
	enum greleg_rx_result res;
	uint32_t e;
	int from_server;

	e = hash_find(r, src, dst, gi.call_id);
	if (e == RL_NONE)
		return RL_GRE_NOT_MINE;
	x.r = r;
	x.k = &r->calls[e >> 1];
	if (x.k->state != RLK_ESTABLISHED) {
		r->ctr[RLS_GRE_BAD]++;
		return RL_GRE_DROPPED;
	}
	from_server = e & 1;
	leg = from_server ? &x.k->leg_server : &x.k->leg_client;
	before = leg->st;
	res = greleg_rx_parsed(leg, &gi, gre, now,
			       from_server ? deliver_down : deliver_up, &x);
	leg_account(r, &before, leg);
	switch (res) {
	case GRELEG_RX_DELIVERED:
	case GRELEG_RX_BUFFERED:
	case GRELEG_RX_ACK_ONLY:
		return RL_GRE_TAKEN;
	case GRELEG_RX_DUPLICATE:
		r->ctr[RLS_GRE_DUP]++;
		return RL_GRE_DROPPED;
	case GRELEG_RX_LATE:
		r->ctr[RLS_GRE_LATE]++;
		return RL_GRE_DROPPED;
	default:
		r->ctr[RLS_GRE_BAD]++;
		return RL_GRE_DROPPED;
	}
}

/* ---- timers --------------------------------------------------------------------------- */

static void leg_timers(struct relay *r, struct rl_call *k, struct greleg *leg,
		       greleg_deliver_fn *deliver, uint32_t src, uint32_t dst,
		       uint64_t now)
{
	struct relay_ctx x = { r, k };
	struct greleg_stats before = leg->st;
	size_t n;

	if (greleg_deadline(leg) > now)
		return;
	greleg_tick(leg, now, deliver, &x);
	leg_account(r, &before, leg);
	if (greleg_ack_due(leg, now)) {
		n = greleg_build_ack(leg, r->scratch, GRELEG_HDR_MAX + 65536);
		if (n) {
			r->ctr[RLS_GRE_ACK_ONLY_SENT]++;
			if (r->hooks.gre_send(r->hooks.arg, src, dst,
					      r->scratch, n) < 0)
				r->ctr[RLS_GRE_SEND_FAILED]++;
		}
	}
}

static void call_timers(struct relay *r, uint32_t slot, uint64_t now)
{
	struct rl_call *k = &r->calls[slot];

	if (k->state == RLK_ESTABLISHED) {
		/* Gaps on the client's leg free frames for the server and
		 * the client's leg acks go to the client, and vice versa. */
		leg_timers(r, k, &k->leg_client, deliver_up, k->server,
			   k->client, now);
		leg_timers(r, k, &k->leg_server, deliver_down, k->pub,
			   k->server, now);
	} else if (now - k->state_since >= r->cfg.call_ms) {
		call_end(r, slot, RLE_TIMEOUT, 1, 1, now);
	}
}

static void conn_timers(struct relay *r, uint32_t s, uint64_t now)
{
	struct rl_conn *c = &r->conns[s];
	uint64_t in_state = now - c->state_since;
	struct pptp_msg m;

	switch (c->state) {
	case RLC_WAIT_SCCRQ:
	case RLC_CONNECTING:
	case RLC_WAIT_SCCRP:
		if (in_state >= r->cfg.start_ms)
			conn_drop(r, s, RLE_TIMEOUT, 1, now);
		break;
	case RLC_STOPPING:
		if (in_state >= r->cfg.stop_ms)
			conn_drop(r, s, c->side == RL_INSIDE ? RLE_CLIENT_GONE
				  : RLE_SERVER_GONE, 1, now);
		break;
	case RLC_ESTABLISHED:
		if (c->echo_out && now - c->echo_sent >= r->cfg.echo_reply_ms) {
			r->ctr[RLS_ECHO_TIMEOUTS]++;
			conn_drop(r, s, RLE_TIMEOUT, 1, now);
		} else if (!c->echo_out &&
			   now - c->last_rx >= r->cfg.echo_idle_ms) {
			msg_new(&m, PPTP_ECHORQ);
			m.num[PF_IDENTIFIER] = ++c->echo_id;
			send_msg(r, s, &m);
			c->echo_out = 1;
			c->echo_sent = now;
			r->ctr[RLS_ECHO_SENT]++;
		}
		break;
	}
}

void relay_tick(struct relay *r, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < r->calls_hwm; i++)
		if (r->calls[i].state != RLK_FREE)
			call_timers(r, i, now);
	for (i = 0; i < r->conns_hwm; i++)
		if (conn_live(r, i))
			conn_timers(r, i, now);
	while (r->calls_hwm && r->calls[r->calls_hwm - 1].state == RLK_FREE)
		r->calls_hwm--;
	while (r->conns_hwm && r->conns[r->conns_hwm - 1].state == RLC_FREE)
		r->conns_hwm--;
}

/* ---- admin ------------------------------------------------------------------------------ */

int relay_call_clear(struct relay *r, uint32_t slot, uint64_t now)
{
	if (slot >= r->cfg.max_calls || r->calls[slot].state == RLK_FREE)
		return -1;
	call_end(r, slot, RLE_ADMIN, 1, 1, now);
	return 0;
}

void relay_shutdown(struct relay *r, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < r->calls_hwm; i++)
		if (r->calls[i].state != RLK_FREE)
			call_end(r, i, RLE_SHUTDOWN, 1, 1, now);
	for (i = 0; i < r->conns_hwm; i++) {
		if (!conn_live(r, i))
			continue;
		if (r->conns[i].state == RLC_ESTABLISHED) {
			struct pptp_msg m;

			msg_new(&m, PPTP_STOPCCRQ);
			m.num[PF_REASON] = PPTP_STOP_LOCAL_SHUTDOWN;
			send_msg(r, i, &m);
		}
		r->conns[i].state = DYING;
		emit(r, RLEV_CONN_DOWN, i, RL_NONE, RLE_SHUTDOWN, "shutdown");
		conn_release(r, i, 1);
	}
}

uint32_t relay_call_slots(const struct relay *r)
{
	if (!r->calls)
		return 0;
	return r->calls_hwm < r->cfg.max_calls ? r->calls_hwm
					       : r->cfg.max_calls;
}

int relay_call_at(const struct relay *r, uint32_t slot,
		  struct rl_call_view *v)
{
	const struct rl_call *k;

	if (slot >= relay_call_slots(r) || r->calls[slot].state == RLK_FREE)
		return -1;
	k = &r->calls[slot];
	memset(v, 0, sizeof(*v));
	v->state = k->state;
	v->incoming = k->incoming;
	v->client_id_known = (uint8_t)rl_call_client_id_known(k);
	v->server_id_known = (uint8_t)rl_call_server_id_known(k);
	v->client_id = k->client_id;
	v->pac_id = k->pac_id;
	v->pns_id = k->pns_id;
	v->server_id = k->server_id;
	v->client = k->client;
	v->server = k->server;
	v->pub = k->pub;
	v->created = k->created;
	v->state_since = k->state_since;
	v->frames_up = k->leg_client.st.rx_delivered;
	v->frames_down = k->leg_server.st.rx_delivered;
	return 0;
}

uint32_t relay_conns_used(const struct relay *r)
{
	return r->nconns;
}

uint32_t relay_calls_used(const struct relay *r)
{
	return r->ncalls;
}

uint32_t relay_max_calls(const struct relay *r)
{
	return r->cfg.max_calls;
}

uint64_t relay_counter(const struct relay *r, unsigned c)
{
	return c < RLS_COUNT ? r->ctr[c] : 0;
}

uint64_t relay_ended(const struct relay *r, unsigned e)
{
	return e < RLE_COUNT ? r->ended[e] : 0;
}
