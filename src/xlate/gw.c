#include "xlate/gw.h"

#include <stdlib.h>
#include <string.h>

#include "wire/gre.h"
#include "wire/pkt.h"
#include "wire/pptp_msg.h"
#include "wire/rd.h"

/* Segments waiting for a verdict: transient, never part of saved state. */
struct gw_dirpend {
	struct gw_pkt *held[GW_HOLD_MAX];
	int nheld;
	struct gw_pkt *ooo[GW_OOO_MAX];
	uint32_t ooo_seq[GW_OOO_MAX];
	int nooo;
};

struct gw_pend {
	struct gw_dirpend d[2];
};

const struct gw_counter_info gw_counters[GC_COUNT] = {
#define GW_COUNTER_INFO(e, name, metric, labels, drop, help) \
	[e] = { name, metric, labels, drop, help },
	GW_COUNTERS(GW_COUNTER_INFO)
#undef GW_COUNTER_INFO
};

const char *gw_counter_name(unsigned c)
{
	return c < GC_COUNT ? gw_counters[c].name : "?";
}

void gw_default_cfg(struct gw_cfg *c)
{
	c->call_idle_ms = 300000;
	c->conn_idle_ms = 900000;
	c->request_ms = 60000;
	c->clearing_ms = 10000;
	c->closing_ms = 10000;
	c->hold_ms = 1000;
	/*
	 * A PPTP server answers a start request within a second or two; a
	 * record nobody answered for 30 s is a SYN to nowhere or a flood.
	 */
	c->half_open_ms = 30000;
	c->mark = 0x10000000;
	/*
	 * Per-host limits against one host taking the shared tables (4,096
	 * connections and calls by default).  pptp-linux carries all of a
	 * host's tunnels to one server on one control connection, and pptpd
	 * takes one call per connection, so even a busy host (a terminal
	 * server, a test rig) needs a few dozen connections and calls: 64
	 * connections and 256 calls per host leave the tables to at least 16
	 * such hosts.  A client opens its connections one at a time and each
	 * is answered within a second, so 16 unanswered ones per host is
	 * plenty, and 1,024 half-open in all keeps three quarters of the
	 * connection table for connections that were answered.
	 */
	c->conns_per_host = 64;
	c->half_open_per_host = 16;
	c->half_open_max = 1024;
	c->calls_per_host = 256;
	/*
	 * The queue holds 16,384 packets by default (queue_maxlen): a
	 * quarter may wait for their verdicts, and one host's share of that
	 * is a sixteenth.  A PPTP connection has rarely more than a segment
	 * or two waiting.
	 */
	c->pending_max = 4096;
	c->pending_per_host = 256;
}

int gw_init(struct gw *g, const struct gw_cfg *cfg,
	    const struct calltab_cfg *tcfg, const struct gw_hooks *hooks)
{
	struct alias_cfg ac;

	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	g->hooks = *hooks;
	calltab_alias_cfg(tcfg, &ac);
	if (alias_init(&g->aliases, &ac) < 0)
		return -1;
	if (calltab_init(&g->tab, tcfg, &g->aliases) < 0) {
		alias_destroy(&g->aliases);
		return -1;
	}
	g->pend = calloc(tcfg->max_conns ? tcfg->max_conns : 1,
			 sizeof(*g->pend));
	if (!g->pend) {
		calltab_destroy(&g->tab);
		alias_destroy(&g->aliases);
		return -1;
	}
	return 0;
}

void gw_set_cfg(struct gw *g, const struct gw_cfg *cfg,
		const struct calltab_cfg *tcfg)
{
	uint32_t mark = g->cfg.mark;

	/* The rules match the mark: it changes only with a restart. */
	g->cfg = *cfg;
	g->cfg.mark = mark;
	calltab_set_cfg(&g->tab, tcfg);
}

static void emit(struct gw *g, struct gw_pkt *p, enum gw_verdict v, int mark)
{
	if (p->pending) {
		p->pending = 0;
		g->npending--;
		calltab_host_pending(&g->tab, p->pending_host, -1);
	}
	g->hooks.verdict(g->hooks.arg, p, v, mark ? g->cfg.mark : 0);
}

static void refused(struct gw *g, enum gw_counter why, uint32_t host);

/*
 * p is to wait for its verdict (held, or out of order): counted against its
 * connection's host and all hosts, unless that is over a limit (then 0:
 * the caller drops it, and TCP sends it again).  A segment moving from the
 * out-of-order list to the held ones is counted already.
 */
static int pend_take(struct gw *g, struct conn *conn, struct gw_pkt *p)
{
	if (p->pending)
		return 1;
	if (g->cfg.pending_per_host &&
	    calltab_host_pending_now(&g->tab, conn->opener) >=
	    g->cfg.pending_per_host) {
		refused(g, GC_CTRL_PENDING_HOST_LIMIT, conn->opener);
		return 0;
	}
	if (g->cfg.pending_max && g->npending >= g->cfg.pending_max) {
		refused(g, GC_CTRL_PENDING_LIMIT, conn->opener);
		return 0;
	}
	p->pending = 1;
	p->pending_host = conn->opener;
	g->npending++;
	calltab_host_pending(&g->tab, conn->opener, 1);
	if (g->npending > g->pending_peak)
		g->pending_peak = g->npending;
	if (calltab_host_pending_now(&g->tab, conn->opener) >
	    g->pending_host_peak)
		g->pending_host_peak =
			calltab_host_pending_now(&g->tab, conn->opener);
	return 1;
}

static void event(struct gw *g, const struct gw_event *ev)
{
	if (g->hooks.event)
		g->hooks.event(g->hooks.arg, ev);
}

/* An event about a call or a connection, with no more to say. */
static void call_event(struct gw *g, enum gw_event_type type,
		       const struct call *c, const struct conn *conn)
{
	struct gw_event ev = { .type = type, .call = c, .conn = conn };

	event(g, &ev);
}

static void over_limit(struct gw *g, const struct conn *conn,
		       uint32_t ncalls)
{
	struct gw_event ev = { .type = GWE_OVER_LIMIT, .conn = conn,
			       .ncalls = ncalls };

	g->ctr[GC_CALLS_OVER_LIMIT]++;
	event(g, &ev);
}

static void drop_pending(struct gw *g, struct gw_dirpend *d)
{
	int i;

	for (i = 0; i < d->nheld; i++)
		emit(g, d->held[i], GW_DROP, 0);
	for (i = 0; i < d->nooo; i++)
		emit(g, d->ooo[i], GW_DROP, 0);
	d->nheld = d->nooo = 0;
}

void gw_destroy(struct gw *g)
{
	uint32_t i;

	for (i = 0; g->pend && i < g->tab.cfg.max_conns; i++) {
		drop_pending(g, &g->pend[i].d[0]);
		drop_pending(g, &g->pend[i].d[1]);
	}
	free(g->pend);
	calltab_destroy(&g->tab);
	alias_destroy(&g->aliases);
}

static void on_call_end(void *arg, const struct call *c, enum call_end why)
{
	struct gw *g = arg;
	struct gw_event ev = { .type = GWE_CALL_END, .call = c,
			       .conn = &g->tab.conns[c->conn], .end = why };

	event(g, &ev);
}

static void end_call(struct gw *g, struct call *c, enum call_end why,
		     uint64_t now)
{
	on_call_end(g, c, why);
	call_end(&g->tab, c, why, now);
}

static void end_conn_calls(struct gw *g, struct conn *conn, enum call_end why,
			   uint64_t now)
{
	while (conn->first_call != SLOT_NONE)
		end_call(g, &g->tab.calls[conn->first_call], why, now);
}

static void del_conn(struct gw *g, struct conn *conn, enum call_end why,
		     uint64_t now)
{
	struct gw_pend *p = &g->pend[conn_slot(&g->tab, conn)];

	drop_pending(g, &p->d[0]);
	drop_pending(g, &p->d[1]);
	conn_del(&g->tab, conn, why, now, on_call_end, g);
}

/* A refusal by a limit: counted by why, and told with the host. */
static void refused(struct gw *g, enum gw_counter why, uint32_t host)
{
	struct gw_event ev = { .type = GWE_LIMIT_REFUSED, .limit = why,
			       .host = host };

	g->ctr[why]++;
	event(g, &ev);
}

/*
 * A control segment dropped for what it carries, counted by why and told
 * with its sender, so that the log can name who sends such things.
 */
static void seg_dropped(struct gw *g, struct gw_pkt *p, enum gw_counter why,
			uint32_t sender, const struct conn *conn)
{
	struct gw_event ev = { .type = GWE_SEGMENT_DROPPED, .limit = why,
			       .host = sender, .conn = conn };

	g->ctr[why]++;
	event(g, &ev);
	emit(g, p, GW_DROP, 0);
}

/*
 * Whether host may have one more connection record: the per-host limits
 * first, so that the flooding host is the one named, then the total of
 * half-open records.
 */
static int conn_allowed(struct gw *g, uint32_t host)
{
	struct host_load l;

	calltab_host_load(&g->tab, host, &l);
	if (g->cfg.conns_per_host && l.conns >= g->cfg.conns_per_host)
		refused(g, GC_CTRL_CONN_HOST_LIMIT, host);
	else if (g->cfg.half_open_per_host &&
		 l.half_open >= g->cfg.half_open_per_host)
		refused(g, GC_CTRL_HALF_OPEN_HOST_LIMIT, host);
	else if (g->cfg.half_open_max &&
		 g->tab.nhalf_open >= g->cfg.half_open_max)
		refused(g, GC_CTRL_HALF_OPEN_LIMIT, host);
	else
		return 1;
	return 0;
}

/* ---- control messages ---------------------------------------------------- */

struct msg_ctx {
	struct gw *g;
	struct conn *conn;
	int dir;
	uint64_t now;
	struct gw_dirpend *pend;   /* segments held in this direction */
	struct gw_pkt *cur;        /* the segment being fed */
};

static void ask_pub(struct gw *g, struct conn *conn);

static struct call *new_call(struct msg_ctx *x, uint16_t own, int inside_pns)
{
	struct calltab *t = &x->g->tab;
	struct call *c = call_by_inside(t, x->conn, own);
	enum gw_counter why = GC_CALLS_REFUSED;
	enum calltab_err err;
	struct host_load l;

	/* The inside host reused an ID the table still holds: start afresh. */
	if (c)
		end_call(x->g, c, END_REPLACED, x->now);
	ask_pub(x->g, x->conn);
	/*
	 * Without the NAT binding the call's GRE could only leave with its
	 * private source: refuse the message until conntrack knows it (the
	 * sender retransmits).  A routed, un-NATed host is no exception: its
	 * binding is known, with the public address its own.
	 */
	if (!x->conn->pub_known) {
		x->g->ctr[GC_CTRL_NO_BINDING]++;
		return NULL;
	}
	/* The server said how many calls it takes on one connection: one
	 * more will fail there, which the relay's "auto" policy acts on. */
	if (inside_pns && x->conn->max_channels &&
	    x->conn->ncalls >= x->conn->max_channels)
		over_limit(x->g, x->conn, x->conn->ncalls);
	calltab_host_load(t, x->conn->opener, &l);
	if (x->g->cfg.calls_per_host && l.calls >= x->g->cfg.calls_per_host) {
		why = GC_CALLS_HOST_LIMIT;
		/* Its refusals are bounded too: they share the reserve that
		 * carries every host's refusals. */
		if (l.refused >= GW_HOST_REFUSALS) {
			refused(x->g, why, x->conn->opener);
			return NULL;
		}
		c = NULL;
		err = CT_FULL;
	} else {
		c = call_add(t, x->conn, own, 0, x->now, &err);
	}
	if (!c && err == CT_FULL) {
		/* Refused the way a full table refuses: the peer's answer
		 * is turned into an error on its way through. */
		c = call_add(t, x->conn, own, 1, x->now, &err);
		if (c) {
			struct gw_event ev = { .type = GWE_CALL_REFUSED,
					       .call = c, .conn = x->conn,
					       .limit = why,
					       .host = x->conn->opener };

			x->g->ctr[why]++;
			event(x->g, &ev);
		}
		return c;
	}
	if (c) {
		c->inside_pns = (uint8_t)inside_pns;
		call_event(x->g, GWE_CALL_NEW, c, x->conn);
	}
	return c;
}

/* Whether a call other than c is established on conn. */
static int other_call_up(struct gw *g, const struct conn *conn,
			 const struct call *c)
{
	uint32_t i;

	for (i = conn->first_call; i != SLOT_NONE;
	     i = g->tab.calls[i].next_in_conn)
		if (&g->tab.calls[i] != c &&
		    g->tab.calls[i].state == CALL_ESTABLISHED)
			return 1;
	return 0;
}

static struct call *by_alias(struct msg_ctx *x, uint16_t alias)
{
	struct call *c = call_by_alias(&x->g->tab, x->conn->pub,
				       x->conn->outside, alias);

	if (!c || c->conn != conn_slot(&x->g->tab, x->conn)) {
		x->g->ctr[GC_CTRL_UNKNOWN_ALIAS]++;
		return NULL;
	}
	c->last_seen = x->now;
	return c;
}

static struct call *by_peer(struct msg_ctx *x, uint16_t peer)
{
	struct call *c = call_by_peer(&x->g->tab, x->conn->inside,
				      x->conn->outside, peer);

	if (!c || c->conn != conn_slot(&x->g->tab, x->conn))
		return NULL;
	c->last_seen = x->now;
	return c;
}

/* Server IDs are unique per server: an older call holding it is dead. */
static void set_peer(struct msg_ctx *x, struct call *c, uint16_t peer)
{
	struct call *old = call_by_peer(&x->g->tab, c->inside, c->outside,
					peer);

	if (old && old != c)
		end_call(x->g, old, END_REPLACED, x->now);
	call_set_peer(&x->g->tab, c, peer);
}

static void rw_put(struct cs_rewrite *rw, int *n, uint16_t off, uint16_t v)
{
	rw[*n].off = off;
	rw[*n].value = v;
	(*n)++;
}

/*
 * Rewrite every Call ID field of the message that holds owner's ID (the
 * sender's own, or the receiver's) to v, as the wire table places them.
 */
static void rw_ids(unsigned type, enum pptp_id_owner owner, uint16_t v,
		   struct cs_rewrite *rw, int *n)
{
	struct pptp_id_field f[PPTP_ID_FIELDS_MAX];
	int i, nf = pptp_id_fields(type, f, PPTP_ID_FIELDS_MAX);

	for (i = 0; i < nf; i++)
		if (f[i].owner == owner)
			rw_put(rw, n, f[i].offset, v);
}

/* What a refused call's reply says instead of the peer's "yes". */
static void rw_refusal(struct cs_rewrite *rw, int *n)
{
	rw_put(rw, n, PPTP_OFF_REPLY_RESULT,
	       PPTP_RESULT_GENERAL_ERROR << 8 | PPTP_ERROR_NO_RESOURCE);
}

static int reply_ok(const uint8_t *m)
{
	return m[PPTP_OFF_REPLY_RESULT] == PPTP_RESULT_OK;
}

/*
 * The one place a call becomes established: when the message that says so
 * is decided (Outgoing-Call-Reply "connected", Incoming-Call-Connected).
 */
static void call_up(struct msg_ctx *x, struct call *c)
{
	if (!c || c->state != CALL_REQUESTED)
		return;
	call_set_state(c, CALL_ESTABLISHED, x->now);
	call_event(x->g, GWE_CALL_UP, c, x->conn);
}

/*
 * The inside host speaks: its own Call IDs become aliases.  Fields with the
 * receiver's ID (the outside peer's) pass untouched.
 */
static int decide_out(struct msg_ctx *x, unsigned type, const uint8_t *m,
		      struct cs_rewrite *rw)
{
	uint16_t own = 0, peer = 0;
	struct call *c;
	int n = 0;

	pptp_id_get(m, type, PPTP_ID_SENDER, &own);
	pptp_id_get(m, type, PPTP_ID_RECEIVER, &peer);
	switch (type) {
	case PPTP_OCRQ:
	case PPTP_ICRQ:
	case PPTP_OCRP:
	case PPTP_ICRP:
		c = new_call(x, own, type == PPTP_OCRQ || type == PPTP_ICRP);
		if (!c)
			return -1;
		if (type == PPTP_OCRP || type == PPTP_ICRP)
			set_peer(x, c, peer);
		rw_ids(type, PPTP_ID_SENDER, c->alias, rw, &n);
		/* An inside PAC's "yes" to a refused call goes out as "no". */
		if (c->state == CALL_REFUSED &&
		    (type == PPTP_OCRP || type == PPTP_ICRP))
			rw_refusal(rw, &n);
		if (type == PPTP_OCRP && reply_ok(m))
			call_up(x, c);
		break;
	case PPTP_CCRQ:
	case PPTP_CDN:
		c = call_by_inside(&x->g->tab, x->conn, own);
		if (!c) {
			/* Never let an un-aliased inside ID out. */
			x->g->ctr[GC_CTRL_UNKNOWN_CALL]++;
			rw_ids(type, PPTP_ID_SENDER, 0, rw, &n);
			break;
		}
		rw_ids(type, PPTP_ID_SENDER, c->alias, rw, &n);
		if (type == PPTP_CDN)
			end_call(x->g, c, END_CDN, x->now);
		else
			call_set_state(c, CALL_CLEARING, x->now);
		break;
	case PPTP_ICCN:
		call_up(x, by_peer(x, peer));
		break;
	default:
		/* WEN and SLI from the inside carry the peer's ID: untouched. */
		break;
	}
	return n;
}

/*
 * A CDN whose Call ID is not the server's but our alias of one of this
 * connection's calls.  The Linux PPTP helper of an upstream NAT (double
 * NAT) writes the PNS's Call ID into a CDN, which is the PAC's own field:
 * passed on, the inside client never recognises it and keeps a dead
 * tunnel.  The call ends, and the server's own ID is put back.
 */
static struct call *cdn_rewritten_upstream(struct msg_ctx *x, uint16_t id,
					   struct cs_rewrite *rw, int *n)
{
	struct call *c = call_by_alias(&x->g->tab, x->conn->pub,
				       x->conn->outside, id);

	if (!c || c->conn != conn_slot(&x->g->tab, x->conn) ||
	    !c->peer_known || !c->inside_pns)
		return NULL;
	rw_ids(PPTP_CDN, PPTP_ID_SENDER, c->peer_id, rw, n);
	x->g->ctr[GC_CTRL_CDN_RESTORED]++;
	return c;
}

/*
 * The outside peer speaks: aliases it names in the receiver's fields go
 * back to inside IDs.  Its own Call IDs (a PAC's in CDN, say) are never
 * rewritten.
 */
static int decide_in(struct msg_ctx *x, unsigned type, const uint8_t *m,
		     struct cs_rewrite *rw)
{
	uint16_t own = 0, alias = 0;
	struct call *c;
	int n = 0;

	pptp_id_get(m, type, PPTP_ID_SENDER, &own);
	pptp_id_get(m, type, PPTP_ID_RECEIVER, &alias);
	switch (type) {
	case PPTP_OCRP:
	case PPTP_ICRP:
	case PPTP_ICCN:
	case PPTP_WEN:
	case PPTP_SLI:
		c = by_alias(x, alias);
		if (!c)
			break;
		rw_ids(type, PPTP_ID_RECEIVER, c->inside_id, rw, &n);
		if (type == PPTP_OCRP || type == PPTP_ICRP) {
			set_peer(x, c, own);
			/* A refused call: the peer said yes, the inside host
			 * hears no. */
			if (c->state == CALL_REFUSED)
				rw_refusal(rw, &n);
		}
		if ((type == PPTP_OCRP && reply_ok(m)) || type == PPTP_ICCN)
			call_up(x, c);
		break;
	case PPTP_CCRQ:
		c = by_peer(x, own);
		if (c)
			call_set_state(c, CALL_CLEARING, x->now);
		break;
	case PPTP_CDN:
		/* CDN carries the sender's own ID: never rewritten. */
		c = by_peer(x, own);
		if (!c)
			c = cdn_rewritten_upstream(x, own, rw, &n);
		if (c)
			end_call(x->g, c, END_CDN, x->now);
		break;
	default:
		break;
	}
	return n;
}

/* Bytes of a message needed to decide: its Call IDs and reply result. */
static size_t decide_len(unsigned type)
{
	if (type == PPTP_OCRP || type == PPTP_ICRP)
		return PPTP_OFF_REPLY_RESULT + 2;   /* result, error: refusals */
	return pptp_id_end(type);   /* PPTP_HDR_LEN: nothing to wait for */
}

static int on_decide(void *arg, const uint8_t *m, size_t have,
		     struct cs_rewrite *rw, int max)
{
	struct msg_ctx *x = arg;
	unsigned type = be16_get(m + PPTP_OFF_CTRL_TYPE);
	int n;

	(void)max;
	if (have < decide_len(type))
		return CS_NEED_MORE;
	n = x->dir == DIR_OUT ? decide_out(x, type, m, rw)
			      : decide_in(x, type, m, rw);
	if (n > 0)
		x->g->ctr[GC_CTRL_REWRITES] += (uint64_t)n;
	return n;
}

static void on_complete(void *arg, const uint8_t *m, size_t len)
{
	struct msg_ctx *x = arg;
	unsigned type = be16_get(m + PPTP_OFF_CTRL_TYPE);
	struct call *c = NULL;
	uint16_t id;

	x->g->ctr[GC_CTRL_MSGS]++;
	/* The side that did not open the connection has spoken. */
	if (x->dir == (x->conn->opener == x->conn->inside ? DIR_IN : DIR_OUT))
		conn_answered(&x->g->tab, x->conn);
	switch (type) {
	case PPTP_SCCRQ:
	case PPTP_SCCRP:
		if (x->dir == DIR_IN)
			x->conn->max_channels =
				be16_get(m + PPTP_OFF_MAX_CHANNELS);
		break;
	case PPTP_OCRP:
	case PPTP_ICRP:
		/* The reply names the call by the receiver's ID: an alias
		 * coming in, the inside host's own going out. */
		if (x->dir == DIR_IN) {
			pptp_id_get(m, type, PPTP_ID_RECEIVER, &id);
			c = call_by_alias(&x->g->tab, x->conn->pub,
					  x->conn->outside, id);
		} else {
			pptp_id_get(m, type, PPTP_ID_SENDER, &id);
			c = call_by_inside(&x->g->tab, x->conn, id);
		}
		if (!c || c->conn != conn_slot(&x->g->tab, x->conn))
			break;
		if (c->state != CALL_REFUSED && !reply_ok(m) &&
		    type == PPTP_OCRP && x->dir == DIR_IN && c->inside_pns &&
		    other_call_up(x->g, x->conn, c)) {
			/* A server refusing a second call on a connection
			 * with one up: the "auto" relay's other signal. */
			over_limit(x->g, x->conn, x->conn->ncalls - 1);
		}
		if (c->state == CALL_REFUSED || !reply_ok(m))
			end_call(x->g, c, END_FAILED, x->now);
		break;
	case PPTP_STOPCCRQ:
	case PPTP_STOPCCRP:
		end_conn_calls(x->g, x->conn, END_STOP, x->now);
		break;
	default:
		break;
	}
	(void)len;
}

/* ---- TCP segments --------------------------------------------------------- */

struct seg_write {
	struct gw_pkt *p;
	size_t csum_off, payload_off, tcp_off;
};

static void seg_write_byte(void *arg, size_t off, uint8_t val)
{
	struct seg_write *w = arg;
	uint8_t *b = w->p->data + w->payload_off + off;

	csum_replace_bytes(w->p->data + w->csum_off, b, &val, 1,
			   w->payload_off - w->tcp_off + off);
	w->p->modified = 1;
}

/* Segment geometry, re-read from the packet (held packets keep no parse). */
static int seg_parse(struct gw_pkt *p, struct ip4_info *ip, struct tcp_info *t)
{
	return ip4_parse(p->data, p->len, ip) != PKT_OK ||
	       tcp_parse(p->data, ip, t) != PKT_OK ? -1 : 0;
}

static void seg_patch(struct gw_pkt *p, const struct cs_patch *pt)
{
	struct ip4_info ip;
	struct tcp_info t;
	struct seg_write w;

	if (seg_parse(p, &ip, &t) < 0)
		return;
	w.p = p;
	w.tcp_off = t.off;
	w.csum_off = t.off + 16;
	w.payload_off = t.payload_off;
	cs_apply(pt, t.seq, p->data + t.payload_off, t.payload_len,
		 seg_write_byte, &w);
}

/* A rewrite may land in the segment being fed or in ones held before it. */
static void on_patch(void *arg, uint32_t seq, const uint8_t val[2])
{
	struct msg_ctx *x = arg;
	struct cs_patch pt = { seq, { val[0], val[1] } };
	int i;

	for (i = 0; i < x->pend->nheld; i++)
		seg_patch(x->pend->held[i], &pt);
	seg_patch(x->cur, &pt);
}

static const struct cs_hooks msg_hooks = {
	.decide = on_decide,
	.complete = on_complete,
	.patch = on_patch,
};

static void release_held(struct gw *g, struct gw_dirpend *d)
{
	int i;

	for (i = 0; i < d->nheld; i++)
		emit(g, d->held[i], GW_ACCEPT, 0);
	d->nheld = 0;
}

static void drop_held(struct gw *g, struct gw_dirpend *d)
{
	int i;

	for (i = 0; i < d->nheld; i++)
		emit(g, d->held[i], GW_DROP, 0);
	d->nheld = 0;
}

/* Shorten a segment to its first keep payload bytes (FIN goes too). */
static void seg_trim(struct gw_pkt *p, size_t keep)
{
	size_t len = p->len;

	if (tcp_trim(p->data, &len, keep) > 0) {
		p->len = len;
		p->modified = 1;
	}
}

/*
 * Send what the held segments carry before cut and drop the rest: the
 * receiver acknowledges up to cut and the sender sends the remainder again,
 * from a segment boundary of its own.  This is how a sender stuck with a
 * one-segment window (after a timeout) gets past a held ID region.
 */
static void cut_held(struct gw *g, struct gw_dirpend *d, uint32_t cut)
{
	int i;

	for (i = 0; i < d->nheld; i++) {
		struct gw_pkt *p = d->held[i];
		struct ip4_info ip;
		struct tcp_info t;
		int32_t keep;

		if (seg_parse(p, &ip, &t) < 0 ||
		    (keep = (int32_t)(cut - t.seq)) <= 0) {
			emit(g, p, GW_DROP, 0);
			continue;
		}
		seg_trim(p, (size_t)keep);
		emit(g, p, GW_ACCEPT, 0);
	}
	d->nheld = 0;
}

/*
 * A retransmission that starts at or before the first held byte and runs
 * past everything parsed so far holds all the held segments carry.
 */
static int covers_held(const struct ctlstream *s, const struct gw_dirpend *d,
		       const struct tcp_info *t)
{
	struct ip4_info ip;
	struct tcp_info h;

	if (!d->nheld || !cs_holding(s) || seg_parse(d->held[0], &ip, &h) < 0)
		return 0;
	return (int32_t)(t->seq - h.seq) <= 0 &&
	       (int32_t)(t->seq + (uint32_t)t->payload_len - s->next) > 0;
}

/* Feed one segment: every path gives it a verdict or keeps it pending. */
static void feed_segment(struct gw *g, struct conn *conn, int dir,
			 struct gw_pkt *p, const struct tcp_info *t,
			 uint64_t now)
{
	struct ctlstream *s = &conn->stream[dir];
	struct gw_dirpend *d = &g->pend[conn_slot(&g->tab, conn)].d[dir];
	struct msg_ctx x = { g, conn, dir, now, d, p };
	int was_broken = s->state == CS_BROKEN;
	enum cs_result r;

	r = cs_feed(s, t->seq, p->data + t->payload_off, t->payload_len,
		    &msg_hooks, &x);
	switch (r) {
	case CS_PASS:
		/* A retransmission or bare ACK must not free held segments. */
		if (!cs_holding(s))
			release_held(g, d);
		emit(g, p, GW_ACCEPT, 0);
		break;
	case CS_HOLD:
		if (d->nheld == GW_HOLD_MAX || !pend_take(g, conn, p)) {
			if (d->nheld == GW_HOLD_MAX)
				g->ctr[GC_CTRL_HOLD_OVERFLOW]++;
			cut_held(g, d, cs_rewind(s));
			emit(g, p, GW_DROP, 0);
			break;
		}
		d->held[d->nheld++] = p;
		break;
	case CS_OOO:
		if (d->nooo == GW_OOO_MAX || !pend_take(g, conn, p)) {
			if (d->nooo == GW_OOO_MAX)
				g->ctr[GC_CTRL_OOO_DROP]++;
			emit(g, p, GW_DROP, 0);
			break;
		}
		d->ooo_seq[d->nooo] = t->seq;
		d->ooo[d->nooo++] = p;
		break;
	case CS_DROP:
		if (covers_held(s, d, t)) {
			/* It carries all that is held and more: start over
			 * from it instead of waiting for the hold to expire. */
			drop_held(g, d);
			cs_rewind(s);
			feed_segment(g, conn, dir, p, t, now);
			break;
		}
		g->ctr[GC_CTRL_RETRANS_DROP]++;
		emit(g, p, GW_DROP, 0);
		break;
	case CS_CHANGED:
		/* Passed, it could carry an inside Call ID never aliased to
		 * a receiver that lost the first copy; held segments stay. */
		seg_dropped(g, p, GC_CTRL_RETRANS_CHANGED,
			    dir == DIR_OUT ? conn->inside : conn->outside, conn);
		break;
	case CS_REFUSED:
		/* The stream rewound to the refused message: all of it again. */
		drop_held(g, d);
		emit(g, p, GW_DROP, 0);
		break;
	case CS_ERROR:
		g->ctr[GC_CTRL_MALFORMED]++;
		drop_held(g, d);
		emit(g, p, GW_DROP, 0);
		/* A desynchronised stream cannot carry its calls any more. */
		if (!was_broken) {
			struct gw_event ev = { .type = GWE_CONN_BROKEN,
					       .conn = conn, .err = s->err };

			event(g, &ev);
			end_conn_calls(g, conn, END_PROTOCOL, now);
		}
		break;
	}
}

/*
 * A FIN or RST ends the calls only where the sender's stream stands: its
 * sequence number (a FIN's own, after its data) is the next one expected.
 * Anything else in conntrack's window could come from a third party (RFC
 * 5961 makes a stack ask back for the same reason); it passes, and the
 * calls are kept: a real close that comes out of order is retransmitted,
 * and conntrack's destroy event ends the calls in any case.  A stream
 * never synchronised cannot be checked.
 */
static int close_in_sequence(const struct ctlstream *s, uint32_t at)
{
	return s->state == CS_UNSYNCED || at == s->next;
}

/* A FIN whose sequence number is at: ends the calls if in sequence. */
static void fin_close(struct gw *g, struct conn *conn, int dir, uint32_t at,
		      uint64_t now)
{
	if (!close_in_sequence(&conn->stream[dir], at)) {
		g->ctr[GC_CTRL_CLOSE_IGNORED]++;
		return;
	}
	end_conn_calls(g, conn, END_TCP, now);
	conn->fin_seen |= (uint8_t)(1u << dir);
	if (conn->state == CONN_OPEN) {
		conn->state = CONN_CLOSING;
		conn->state_since = now;
	}
}

/* Out-of-order segments whose turn has come. */
static void feed_ooo(struct gw *g, struct conn *conn, int dir, uint64_t now)
{
	struct gw_dirpend *d = &g->pend[conn_slot(&g->tab, conn)].d[dir];
	int progress = 1;

	while (progress && d->nooo > 0 && conn->state != CONN_FREE) {
		int i;

		progress = 0;
		for (i = 0; i < d->nooo; i++) {
			struct ip4_info ip;
			struct tcp_info t;
			struct gw_pkt *p = d->ooo[i];

			if ((int32_t)(d->ooo_seq[i] - conn->stream[dir].next) > 0)
				continue;
			d->ooo[i] = d->ooo[--d->nooo];
			d->ooo_seq[i] = d->ooo_seq[d->nooo];
			if (seg_parse(p, &ip, &t) < 0) {
				emit(g, p, GW_DROP, 0);
			} else {
				feed_segment(g, conn, dir, p, &t, now);
				if ((t.flags & TCPF_FIN) &&
				    conn->state != CONN_FREE)
					fin_close(g, conn, dir,
						  t.seq + t.payload_len, now);
			}
			progress = 1;
			break;
		}
	}
}

/*
 * Conntrack knows who opened the connection, whatever packet we saw first
 * (a stream picked up in the middle was taken as the inside host's): its
 * records count against that host from now on.
 */
static void set_opener(struct gw *g, struct conn *conn)
{
	conn_set_opener(&g->tab, conn,
			conn->inside_opened ? conn->inside : conn->outside);
}

/* Ask the NAT lookup hook for the public end, while no call depends on it. */
static void ask_pub(struct gw *g, struct conn *conn)
{
	uint32_t pub;
	uint16_t port;
	uint8_t opened = conn->inside_opened;

	if (conn->pub_known || conn->ncalls > 0 || !g->hooks.nat_lookup)
		return;
	if (g->hooks.nat_lookup(g->hooks.arg, conn, &pub, &port, &opened) < 0)
		return;
	conn->pub = pub;
	conn->pub_port = port;
	conn->inside_opened = opened;
	conn->pub_known = 1;
	set_opener(g, conn);
}

static void learn_pub(struct gw *g, struct conn *conn,
		      const struct gw_meta *m, const struct tcp_info *t)
{
	/* Before the handshake completes NAT may not have bound the flow. */
	if ((t->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN || conn->ncalls > 0)
		return;
	if (!m->has_ct) {
		ask_pub(g, conn);
		return;
	}
	/* Who opened the flow is in the tuple, whatever packet we saw first. */
	conn->inside_opened = m->orig_src == conn->inside;
	conn->pub = conn->inside_opened ? m->reply_dst : m->orig_dst;
	conn->pub_port = conn->inside_opened ? m->reply_dport : m->orig_dport;
	conn->pub_known = conn->pub != 0;
	set_opener(g, conn);
}

static int looks_like_header(const uint8_t *p, size_t len)
{
	uint16_t type, mlen;

	return len >= PPTP_HDR_LEN &&
	       pptp_hdr_check(p, len, &type, &mlen) == PPTP_OK;
}

static void tcp_input(struct gw *g, struct gw_pkt *p,
		      const struct pkt_view *v, const struct gw_meta *m,
		      uint64_t now)
{
	const struct ip4_info *ip = &v->ip;
	struct tcp_info t = v->tcp;
	struct conn *conn;
	uint32_t inside, outside;
	uint16_t iport, oport;
	int dir = m->dir, syn_only;

	if (v->tcp_err != PKT_OK) {
		g->ctr[GC_PKT_MALFORMED]++;
		emit(g, p, GW_DROP, 0);
		return;
	}
	g->ctr[GC_CTRL_PKTS]++;
	/*
	 * A segment with a wrong checksum is not what its sender wrote.  A
	 * receiver should drop it, but one that trusts offloads (veth marks
	 * what it carries as checked) may not; and what pptpgw would act on
	 * (a SYN's record, a RST's end of calls, a message's rewrites and
	 * state) would follow bytes that no honest peer sent.  So it is
	 * dropped before anything is read from it: its sender's TCP sends
	 * the real one again.  The queue hands us complete checksums (no
	 * NFQA_CFG_F_GSO: the kernel fills in partial ones first).
	 */
	if (!tcp_csum_ok(p->data, ip)) {
		seg_dropped(g, p, GC_CTRL_BAD_CHECKSUM, ip->src, NULL);
		return;
	}
	if (dir == DIR_OUT) {
		inside = ip->src, iport = t.sport;
		outside = ip->dst, oport = t.dport;
	} else {
		inside = ip->dst, iport = t.dport;
		outside = ip->src, oport = t.sport;
	}
	syn_only = (t.flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
	conn = conn_find(&g->tab, inside, iport, outside, oport);
	if (conn && syn_only && conn->state == CONN_CLOSING) {
		del_conn(g, conn, END_TCP, now);   /* the 4-tuple is reused */
		conn = NULL;
	}
	if (!conn) {
		/* Who opens it: the SYN's sender; a stream picked up in the
		 * middle is taken as the inside host's. */
		uint32_t opener = syn_only && dir == DIR_IN ? outside : inside;

		if (!syn_only && !(t.payload_len &&
		    looks_like_header(p->data + t.payload_off, t.payload_len))) {
			if (t.payload_len)
				g->ctr[GC_CTRL_UNSYNCED]++;
			/* No payload: nothing to translate or leak. */
			emit(g, p, t.payload_len ? GW_DROP : GW_ACCEPT, 0);
			return;
		}
		if (!conn_allowed(g, opener)) {
			emit(g, p, GW_DROP, 0);
			return;
		}
		conn = conn_add(&g->tab, inside, iport, outside, oport, now);
		if (!conn) {
			g->ctr[GC_CTRL_CONN_FULL]++;
			emit(g, p, GW_DROP, 0);
			return;
		}
		conn->inside_opened = (uint8_t)(syn_only ? dir == DIR_OUT : 1);
		conn_set_opener(&g->tab, conn, opener);
	}
	conn->last_seen = now;
	learn_pub(g, conn, m, &t);
	if (dir == DIR_OUT && m->wan_if)
		conn->wan_if = m->wan_if;
	if (t.flags & TCPF_SYN) {
		/*
		 * Only a stream not yet started takes its start from a SYN: a
		 * SYN on a running stream (a spoofed SYN-ACK, say) would
		 * otherwise throw away held segments and desynchronise it.
		 */
		if (conn->stream[dir].state == CS_UNSYNCED)
			cs_sync(&conn->stream[dir], t.seq + 1);
		t.seq++;   /* data on a SYN (Fast Open) starts after it */
	}
	else if (conn->stream[dir].state == CS_UNSYNCED && t.payload_len &&
		 looks_like_header(p->data + t.payload_off, t.payload_len))
		cs_sync(&conn->stream[dir], t.seq);
	if (t.flags & TCPF_RST) {
		if (!close_in_sequence(&conn->stream[dir], t.seq)) {
			g->ctr[GC_CTRL_CLOSE_IGNORED]++;
			emit(g, p, GW_ACCEPT, 0);
			return;
		}
		end_conn_calls(g, conn, END_TCP, now);
		conn->state = CONN_CLOSING;
		conn->state_since = now;
		emit(g, p, GW_ACCEPT, 0);
		return;
	}
	if (t.payload_len && conn->stream[dir].state == CS_UNSYNCED) {
		g->ctr[GC_CTRL_UNSYNCED]++;
		emit(g, p, GW_DROP, 0);
		return;
	}
	if (t.flags & TCPF_FIN) {
		/* PPTP has no half-close: a FIN ends every call on it. */
		if (t.payload_len)
			feed_segment(g, conn, dir, p, &t, now);
		else
			emit(g, p, GW_ACCEPT, 0);
		if (conn->state == CONN_FREE)
			return;
		/* Out of order, with data: held, and judged in its turn. */
		if (t.payload_len && (int32_t)(t.seq - conn->stream[dir].next) > 0)
			return;
		fin_close(g, conn, dir, t.seq + t.payload_len, now);
		return;
	}
	feed_segment(g, conn, dir, p, &t, now);
	feed_ooo(g, conn, dir, now);
}

/* ---- GRE ------------------------------------------------------------------ */

/* Whether this host reads GRE itself (a PPTP client of its own): without
 * the hook, assume it does. */
static int host_reads_gre(struct gw *g)
{
	return !g->hooks.local_gre || g->hooks.local_gre(g->hooks.arg);
}

static void gre_input(struct gw *g, struct gw_pkt *p,
		      const struct pkt_view *v, const struct gw_meta *m,
		      uint64_t now)
{
	const struct ip4_info *ip = &v->ip;
	const struct gre_info gr = v->gre;
	struct call *c;
	uint8_t *gh = p->data + ip->hlen;

	if (v->gre_err != GRE_OK) {
		g->ctr[GC_GRE_MALFORMED]++;
		/*
		 * Outbound it could leak.  Inbound it is a stray's kin: it
		 * goes to this host only if something here reads GRE, since
		 * otherwise the host's ICMP answer reaches the (maybe
		 * spoofed) server, and pptpd drops every call it has with
		 * our public address on one.
		 */
		emit(g, p, m->dir == DIR_IN && host_reads_gre(g) ? GW_PASS
								 : GW_DROP, 0);
		return;
	}
	if (m->dir == DIR_OUT) {
		c = call_by_peer(&g->tab, ip->src, ip->dst, gr.call_id);
		if (!c && m->local) {
			g->ctr[GC_GRE_OUT_LOCAL_NOCALL]++;
			emit(g, p, GW_PASS, 0);
			return;
		}
		if (!c || c->state == CALL_REFUSED) {
			g->ctr[GC_GRE_OUT_NOCALL]++;
			emit(g, p, GW_DROP, 0);
			return;
		}
		ip4_set_src(p->data, ip, c->pub);
	} else {
		c = call_by_alias(&g->tab, ip->dst, ip->src, gr.call_id);
		if (!c && alias_held(&g->aliases, ip->dst, ip->src,
				     gr.call_id)) {
			/*
			 * Late GRE of a call that just ended.  Delivered to
			 * this host it would draw an ICMP protocol-unreachable,
			 * and pptpd then tears down every call it has with our
			 * public address.
			 */
			g->ctr[GC_GRE_IN_LATE]++;
			emit(g, p, GW_DROP, 0);
			return;
		}
		if (c && c->state == CALL_REFUSED) {
			/* Our alias, so not for this host either: drop. */
			g->ctr[GC_GRE_IN_LATE]++;
			emit(g, p, GW_DROP, 0);
			return;
		}
		if (!c) {
			/* Addressed to this host (or routed): never inside. */
			int pass = host_reads_gre(g);
			struct gw_event ev = {
				.type = pass ? GWE_GRE_STRAY :
					       GWE_GRE_STRAY_DROPPED,
				.stray = { ip->src, ip->dst, gr.call_id } };

			g->ctr[pass ? GC_GRE_IN_NOCALL :
				      GC_GRE_IN_NOCALL_DROP]++;
			event(g, &ev);
			emit(g, p, pass ? GW_PASS : GW_DROP, 0);
			return;
		}
		ip4_set_dst(p->data, ip, c->inside);
		gre_set_call_id(gh, c->inside_id);
	}
	p->modified = 1;
	if (c->in_kernel)
		g->ctr[GC_GRE_QUEUED_IN_KERNEL]++;
	c->last_seen = now;
	c->pkts[m->dir]++;
	c->bytes[m->dir] += ip->tot_len;
	g->ctr[m->dir == DIR_OUT ? GC_GRE_OUT : GC_GRE_IN]++;
	g->ctr[m->dir == DIR_OUT ? GC_GRE_OUT_BYTES : GC_GRE_IN_BYTES] +=
		ip->tot_len;
	emit(g, p, GW_ACCEPT, 1);
}

void gw_input_view(struct gw *g, struct gw_pkt *p, const struct pkt_view *v,
		   const struct gw_meta *m, uint64_t now)
{
	p->arrived = now;
	p->pending = 0;
	if (v->err != PKT_OK) {
		g->ctr[GC_PKT_MALFORMED]++;
		emit(g, p, m->dir == DIR_IN ? GW_ACCEPT : GW_DROP, 0);
		return;
	}
	if (v->ip.proto == IPPROTO_TCP_)
		tcp_input(g, p, v, m, now);
	else if (v->ip.proto == IPPROTO_GRE_)
		gre_input(g, p, v, m, now);
	else
		emit(g, p, GW_ACCEPT, 0);   /* not queued by our rules */
}

void gw_input(struct gw *g, struct gw_pkt *p, const struct gw_meta *m,
	      uint64_t now)
{
	struct pkt_view v;

	pkt_view_parse(&v, p->data, p->len);
	gw_input_view(g, p, &v, m, now);
}

/* ---- time ----------------------------------------------------------------- */

static void tick_pending(struct gw *g, struct conn *conn, uint64_t now)
{
	struct gw_pend *pe = &g->pend[conn_slot(&g->tab, conn)];
	int dir, i;

	for (dir = 0; dir < 2; dir++) {
		struct gw_dirpend *d = &pe->d[dir];

		if (d->nheld && d->held[0]->arrived + g->cfg.hold_ms <= now) {
			g->ctr[GC_CTRL_HOLD_TIMEOUT]++;
			cut_held(g, d, cs_rewind(&conn->stream[dir]));
		}
		for (i = 0; i < d->nooo; i++) {
			if (d->ooo[i]->arrived + g->cfg.hold_ms > now)
				continue;
			g->ctr[GC_CTRL_OOO_DROP]++;
			emit(g, d->ooo[i], GW_DROP, 0);
			d->ooo[i] = d->ooo[--d->nooo];
			d->ooo_seq[i] = d->ooo_seq[d->nooo];
			i--;
		}
	}
}

/*
 * GRE that goes out and never comes back: lost after this host (an upstream
 * NAT that cannot carry PPTP, a firewall) or ignored by the peer.  Said
 * once per call; a call whose GRE starts coming back is cleared.
 */
static void check_gre_back(struct gw *g, struct call *c, uint64_t now)
{
	if (c->pkts[DIR_IN]) {
		c->no_gre_back = 0;
		return;
	}
	if (c->no_gre_back || c->pkts[DIR_OUT] < GW_GRE_BACK_PKTS ||
	    c->state_since + GW_GRE_BACK_MS > now)
		return;
	c->no_gre_back = 1;
	g->ctr[GC_CALLS_NO_GRE_BACK]++;
	call_event(g, GWE_CALL_NO_GRE_BACK, c, &g->tab.conns[c->conn]);
}

static void tick_call(struct gw *g, struct call *c, uint64_t now)
{
	const struct gw_cfg *cf = &g->cfg;

	if (c->state == CALL_ESTABLISHED)
		check_gre_back(g, c, now);

	if (c->state == CALL_REQUESTED || c->state == CALL_REFUSED) {
		if (c->state_since + cf->request_ms <= now)
			end_call(g, c, END_FAILED, now);
	} else if (c->state == CALL_CLEARING) {
		if (c->state_since + cf->clearing_ms <= now)
			end_call(g, c, END_CLEAR, now);
	} else if (c->last_seen + cf->call_idle_ms <= now &&
		   (!c->in_kernel ||
		    c->kernel_read_at >= c->last_seen + cf->call_idle_ms)) {
		/* A call the kernel carries is idle only when a read of its
		 * counters after the deadline still found nothing new. */
		end_call(g, c, END_IDLE, now);
	}
}

void gw_call_kernel(struct gw *g, uint32_t slot, int on)
{
	if (slot < g->tab.ncalls_cap)
		g->tab.calls[slot].in_kernel = on ? 1 : 0;
}

void gw_call_traffic(struct gw *g, uint32_t slot, int dir, uint64_t pkts,
		     uint64_t bytes, uint64_t now)
{
	struct call *c;

	if (slot >= g->tab.ncalls_cap || (dir != DIR_OUT && dir != DIR_IN))
		return;
	c = &g->tab.calls[slot];
	if (c->state == CALL_FREE || !c->in_kernel)
		return;
	c->kernel_read_at = now;
	c->pkts[dir] += pkts;
	c->bytes[dir] += bytes;
	if (pkts)
		c->last_seen = now;
	g->ctr[dir == DIR_OUT ? GC_GRE_FAST_OUT : GC_GRE_FAST_IN] += pkts;
	g->ctr[dir == DIR_OUT ? GC_GRE_FAST_OUT_BYTES :
				GC_GRE_FAST_IN_BYTES] += bytes;
}

void gw_tick(struct gw *g, uint64_t now)
{
	struct calltab *t = &g->tab;
	uint32_t i;

	for (i = 0; i < t->cfg.max_conns; i++) {
		struct conn *conn = &t->conns[i];

		if (conn->state == CONN_FREE)
			continue;
		tick_pending(g, conn, now);
		if (conn->state == CONN_CLOSING &&
		    conn->state_since + g->cfg.closing_ms <= now) {
			del_conn(g, conn, END_TCP, now);
		} else if (!conn->answered && !conn->ncalls &&
			   g->cfg.half_open_ms &&
			   conn->created + g->cfg.half_open_ms <= now) {
			/*
			 * Nobody answered: the record goes long before
			 * conn_idle, whether conntrack tells of it or not.
			 * A call asked for on it ends first, by its own
			 * timeout (request), and says so.
			 */
			g->ctr[GC_CTRL_HALF_OPEN_EXPIRED]++;
			del_conn(g, conn, END_IDLE, now);
		} else if (conn->last_seen + g->cfg.conn_idle_ms <= now) {
			del_conn(g, conn, END_IDLE, now);
		}
	}
	for (i = 0; i < t->ncalls_cap; i++)
		if (t->calls[i].state != CALL_FREE)
			tick_call(g, &t->calls[i], now);
	alias_expire(&g->aliases, now);
}

void gw_conn_gone(struct gw *g, uint32_t inside, uint16_t iport,
		  uint32_t outside, uint16_t oport, uint64_t now)
{
	struct conn *conn = conn_find(&g->tab, inside, iport, outside, oport);

	if (conn)
		del_conn(g, conn, END_CONN_GONE, now);
}

int gw_call_clear(struct gw *g, uint32_t slot, uint64_t now)
{
	if (slot >= g->tab.ncalls_cap || g->tab.calls[slot].state == CALL_FREE)
		return -1;
	end_call(g, &g->tab.calls[slot], END_ADMIN, now);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct gw_tcp_key *x = a, *y = b;

	if (x->inside != y->inside)
		return x->inside < y->inside ? -1 : 1;
	if (x->outside != y->outside)
		return x->outside < y->outside ? -1 : 1;
	if (x->iport != y->iport)
		return x->iport < y->iport ? -1 : 1;
	return x->oport < y->oport ? -1 : x->oport > y->oport;
}

uint32_t gw_conn_sync(struct gw *g, struct gw_tcp_key *alive, size_t n,
		      uint64_t now)
{
	struct calltab *t = &g->tab;
	uint32_t i, ended = 0;

	if (n > 1)
		qsort(alive, n, sizeof(*alive), key_cmp);
	for (i = 0; i < t->cfg.max_conns; i++) {
		struct conn *conn = &t->conns[i];
		struct gw_tcp_key k = { .inside = conn->inside,
					.outside = conn->outside,
					.iport = conn->inside_port,
					.oport = conn->outside_port };

		if (conn->state == CONN_FREE ||
		    (n && bsearch(&k, alive, n, sizeof(*alive), key_cmp)))
			continue;
		del_conn(g, conn, END_CONN_GONE, now);
		ended++;
	}
	return ended;
}
