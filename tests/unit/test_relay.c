/*
 * Tests for relay.c: pptpgw as the PAC toward inside clients and the PNS
 * toward upstream servers.  The test plays both peers with messages built
 * by pptp_build, and fakes the I/O layer with hooks that record everything
 * the relay does: control bytes sent per connection (parsed back with
 * pptp_parse, so a wrong byte on the wire shows as a wrong field), connect
 * requests, closes, GRE packets sent, events, and the Call IDs taken from
 * and put back to a fake allocator that knows which are out.
 *
 * Every test ends in env_done(), which checks the relay's books against a
 * recount of its slots, shuts it down, and then requires that nothing is
 * left: no connection open, no call, no Call ID out, no slot closed twice or
 * closed after the I/O layer reported it gone.
 *
 * Inside clients are 198.18.0.11.., the server 192.0.2.10, our public
 * address 203.0.113.1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pktgen.h"
#include "wire/gre.h"
#include "wire/pptp_msg.h"
#include "relay/relay.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			(uint32_t)(c) << 8 | (uint32_t)(d))
#define CLIENT(n) IP(198, 18, 0, 10 + (n))
#define SERVER IP(192, 0, 2, 10)
#define SERVER2 IP(192, 0, 2, 20)
#define THIRD IP(192, 0, 2, 99)
#define PUB IP(203, 0, 113, 1)

#define T0 1000000ull
#define NSLOT 64
#define MAXMSG 1024
#define MAXGRE 256
#define MAXIDS 512

struct smsg {
	uint32_t conn;
	int read;
	struct pptp_msg m;
};

struct sgre {
	uint32_t src, dst;
	size_t len;
	uint8_t b[2048];
};

struct env {
	struct relay r;
	uint64_t now;
	/* Control messages sent, in order, each with the slot it went to. */
	struct smsg msg[MAXMSG];
	int nmsg;
	int ctl_bad;            /* unparsable bytes, or sent to a dead slot */
	/* GRE sent. */
	struct sgre gre[MAXGRE];
	int ngre, gre_read;
	/* Connect requests. */
	uint32_t connects[NSLOT];
	uint32_t connect_srv[NSLOT];
	int nconnect, connect_read;
	int connect_fail;       /* answer -1 to the next connect requests */
	/* Slots as the I/O layer sees them: open until closed or reported. */
	uint8_t live[NSLOT];
	int nclose[NSLOT];      /* closes since the slot was last opened */
	int bad_close;
	/* The Call ID allocator. */
	struct { uint32_t pub, server; uint16_t id; } ids[MAXIDS];
	int nids;
	uint16_t id_next;
	int id_fail;
	int id_gets, id_puts, bad_put;
	uint16_t last_id;
	/* Events. */
	int ev[8];
	int ends[RLE_COUNT];
	int bad_event;
};

static struct env E;
static struct pptp_msg zero_msg;

/* ---- hooks --------------------------------------------------------------- */

static void h_ctl_send(void *arg, uint32_t conn, const uint8_t *p, size_t len)
{
	struct env *e = arg;
	uint16_t type, mlen;

	if (conn >= NSLOT || !e->live[conn])
		e->ctl_bad++;
	while (len) {
		if (pptp_hdr_check(p, len, &type, &mlen) != PPTP_OK ||
		    mlen > len || e->nmsg >= MAXMSG) {
			e->ctl_bad++;
			return;
		}
		e->msg[e->nmsg].conn = conn;
		e->msg[e->nmsg].read = 0;
		if (pptp_parse(p, mlen, &e->msg[e->nmsg].m) != PPTP_OK)
			e->ctl_bad++;
		e->nmsg++;
		p += mlen;
		len -= mlen;
	}
}

static int h_connect(void *arg, uint32_t conn, uint32_t server)
{
	struct env *e = arg;

	if (conn >= NSLOT || e->live[conn] || e->nconnect >= NSLOT) {
		e->bad_close++;
		return -1;
	}
	e->connects[e->nconnect] = conn;
	e->connect_srv[e->nconnect] = server;
	e->nconnect++;
	if (e->connect_fail)
		return -1;
	e->live[conn] = 1;
	e->nclose[conn] = 0;
	return 0;
}

static void h_close(void *arg, uint32_t conn)
{
	struct env *e = arg;

	if (conn >= NSLOT || !e->live[conn]) {
		e->bad_close++;
		return;
	}
	e->live[conn] = 0;
	e->nclose[conn]++;
}

static void h_gre_send(void *arg, uint32_t src, uint32_t dst,
		       const uint8_t *gre, size_t len)
{
	struct env *e = arg;

	if (e->ngre >= MAXGRE || len > sizeof(e->gre[0].b))
		return;
	e->gre[e->ngre].src = src;
	e->gre[e->ngre].dst = dst;
	e->gre[e->ngre].len = len;
	memcpy(e->gre[e->ngre].b, gre, len);
	e->ngre++;
}

static int id_find(const struct env *e, uint32_t pub, uint32_t server,
		   uint16_t id)
{
	int i;

	for (i = 0; i < e->nids; i++)
		if (e->ids[i].pub == pub && e->ids[i].server == server &&
		    e->ids[i].id == id)
			return i;
	return -1;
}

static int h_id_get(void *arg, uint32_t pub, uint32_t server, uint16_t *id)
{
	struct env *e = arg;

	if (e->id_fail || e->nids >= MAXIDS)
		return -1;
	do
		e->id_next++;
	while (!e->id_next || id_find(e, pub, server, e->id_next) >= 0);
	e->ids[e->nids].pub = pub;
	e->ids[e->nids].server = server;
	e->ids[e->nids].id = e->id_next;
	e->nids++;
	e->id_gets++;
	e->last_id = e->id_next;
	*id = e->id_next;
	return 0;
}

static void h_id_put(void *arg, uint32_t pub, uint32_t server, uint16_t id)
{
	struct env *e = arg;
	int i = id_find(e, pub, server, id);

	e->id_puts++;
	if (i < 0) {
		e->bad_put++;
		return;
	}
	e->ids[i] = e->ids[--e->nids];
}

static void h_event(void *arg, const struct rl_event *ev)
{
	struct env *e = arg;

	if ((unsigned)ev->type >= 8 || !ev->why) {
		e->bad_event++;
		return;
	}
	e->ev[ev->type]++;
	if (ev->type == RLEV_CALL_END || ev->type == RLEV_CONN_DOWN) {
		if ((unsigned)ev->reason >= RLE_COUNT)
			e->bad_event++;
		else if (ev->type == RLEV_CALL_END)
			e->ends[ev->reason]++;
	}
}

/* ---- environment --------------------------------------------------------- */

static void cfg_test(struct rl_cfg *c)
{
	relay_default_cfg(c);
	c->max_conns = 32;
	c->max_calls = 32;
	c->seed = 12345;
}

static void env_init_cfg(const struct rl_cfg *cfg)
{
	struct rl_hooks h;

	memset(&E, 0, sizeof(E));
	E.now = T0;
	E.id_next = 0x4000;
	memset(&h, 0, sizeof(h));
	h.arg = &E;
	h.ctl_send = h_ctl_send;
	h.connect = h_connect;
	h.close = h_close;
	h.gre_send = h_gre_send;
	h.id_get = h_id_get;
	h.id_put = h_id_put;
	h.event = h_event;
	if (relay_init(&E.r, cfg, &h) != 0) {
		fprintf(stderr, "relay_init failed\n");
		exit(2);
	}
}

static void env_init(void)
{
	struct rl_cfg c;

	cfg_test(&c);
	env_init_cfg(&c);
}

/* The relay's counts and links against a recount of its slots. */
static int books_ok(const struct relay *r)
{
	uint32_t i, j, nconn = 0, ncall = 0, n;

	for (i = 0; i < r->cfg.max_conns; i++) {
		const struct rl_conn *c = &r->conns[i];

		if (c->state == RLC_FREE)
			continue;
		nconn++;
		if (c->state >= RLC_STATE_COUNT || i >= r->conns_hwm)
			return 0;
		if (!E.live[i])
			return 0;       /* open in the relay, closed for us */
		n = 0;
		for (j = 0; j < r->calls_hwm; j++)
			if (r->calls[j].state != RLK_FREE &&
			    (c->side == RL_INSIDE ? r->calls[j].inside :
			     r->calls[j].up) == i)
				n++;
		if (n != c->ncalls)
			return 0;
	}
	for (i = 0; i < NSLOT && i < r->cfg.max_conns; i++)
		if (E.live[i] && r->conns[i].state == RLC_FREE)
			return 0;       /* freed without a close */
	for (i = 0; i < r->cfg.max_calls; i++) {
		const struct rl_call *k = &r->calls[i];

		if (k->state == RLK_FREE)
			continue;
		ncall++;
		if (k->state >= RLK_STATE_COUNT || i >= r->calls_hwm)
			return 0;
		if (k->inside >= r->cfg.max_conns ||
		    r->conns[k->inside].state == RLC_FREE ||
		    r->conns[k->inside].side != RL_INSIDE)
			return 0;
		if (k->up != RL_NONE &&
		    (k->up >= r->cfg.max_conns ||
		     r->conns[k->up].state == RLC_FREE ||
		     r->conns[k->up].side != RL_UPSTREAM ||
		     r->conns[k->up].owner != k->inside))
			return 0;
		if (!k->pac_id)
			return 0;
	}
	return nconn == r->nconns && ncall == r->ncalls;
}

/* Call IDs the relay holds: one per call with a pns_id. */
static int ids_held(const struct relay *r)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < r->cfg.max_calls; i++)
		if (r->calls[i].state != RLK_FREE && r->calls[i].pns_id)
			n++;
	return n;
}

static void env_done(void)
{
	int i;

	CHECK(books_ok(&E.r));
	CHECK_EQ(ids_held(&E.r), E.nids);
	relay_shutdown(&E.r, E.now);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(0, E.bad_put);
	CHECK_EQ(E.id_gets, E.id_puts);
	CHECK_EQ(0, E.bad_close);
	CHECK_EQ(0, E.ctl_bad);
	CHECK_EQ(0, E.bad_event);
	for (i = 0; i < NSLOT; i++)
		if (E.live[i]) {
			fprintf(stderr, "slot %d left open\n", i);
			CHECK(!E.live[i]);
		}
	relay_tick(&E.r, E.now + 1);
	CHECK_EQ(0, E.r.conns_hwm);
	CHECK_EQ(0, E.r.calls_hwm);
	relay_destroy(&E.r);
}

/* ---- what the relay sent ------------------------------------------------- */

static int pending(uint32_t conn)
{
	int i, n = 0;

	for (i = 0; i < E.nmsg; i++)
		if (!E.msg[i].read && E.msg[i].conn == conn)
			n++;
	return n;
}

static void drain(uint32_t conn)
{
	int i;

	for (i = 0; i < E.nmsg; i++)
		if (E.msg[i].conn == conn)
			E.msg[i].read = 1;
}

/* The next message sent to conn, which must be of the given type. */
static const struct pptp_msg *expect_at(uint32_t conn, unsigned type,
					int line)
{
	int i;

	for (i = 0; i < E.nmsg; i++) {
		if (E.msg[i].read || E.msg[i].conn != conn)
			continue;
		E.msg[i].read = 1;
		if (E.msg[i].m.type == type) {
			check_passed++;
			return &E.msg[i].m;
		}
		check_failed++;
		fprintf(stderr, "%s:%d: FAIL: conn %u: expected %s, got %s\n",
			__FILE__, line, (unsigned)conn, pptp_type_name(type),
			pptp_type_name(E.msg[i].m.type));
		return &zero_msg;
	}
	check_failed++;
	fprintf(stderr, "%s:%d: FAIL: conn %u: expected %s, got nothing\n",
		__FILE__, line, (unsigned)conn, pptp_type_name(type));
	return &zero_msg;
}

#define EXPECT(conn, type) expect_at((conn), (type), __LINE__)

/* The next connect request, whose slot is returned.  None is a failure;
 * the slot returned then is one the relay does not use, so that the test
 * goes on without touching memory it must not. */
static uint32_t next_connect_at(int line)
{
	if (E.connect_read >= E.nconnect) {
		check_failed++;
		fprintf(stderr, "%s:%d: FAIL: no connect request\n", __FILE__,
			line);
		return E.r.cfg.max_conns - 1;
	}
	check_passed++;
	return E.connects[E.connect_read++];
}

#define next_connect() next_connect_at(__LINE__)

static const struct sgre *next_gre(void)
{
	if (E.gre_read >= E.ngre)
		return NULL;
	return &E.gre[E.gre_read++];
}

/* ---- playing the peers --------------------------------------------------- */

static struct pptp_msg M(unsigned type)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)type;
	return m;
}

static void feed(uint32_t conn, const struct pptp_msg *m)
{
	uint8_t b[PPTP_MAX_LEN];
	size_t n = pptp_build(m, b, sizeof(b));

	if (!n) {
		fprintf(stderr, "pptp_build failed for type %u\n", m->type);
		exit(2);
	}
	relay_ctl_input(&E.r, conn, b, n, E.now);
}

static void feed_raw(uint32_t conn, const uint8_t *p, size_t n)
{
	relay_ctl_input(&E.r, conn, p, n, E.now);
}

static struct pptp_msg sccrq(const char *host)
{
	struct pptp_msg m = M(PPTP_SCCRQ);

	m.num[PF_PROTO_VERSION] = 0x0100;
	m.num[PF_FRAMING_CAPS] = 1;
	m.num[PF_BEARER_CAPS] = 1;
	m.num[PF_FIRMWARE_REV] = 0x0203;
	snprintf((char *)m.blob[PB_HOSTNAME], 64, "%s", host);
	snprintf((char *)m.blob[PB_VENDOR], 64, "vendor of %s", host);
	return m;
}

static struct pptp_msg sccrp(unsigned result, unsigned maxch)
{
	struct pptp_msg m = M(PPTP_SCCRP);

	m.num[PF_PROTO_VERSION] = 0x0100;
	m.num[PF_RESULT] = result;
	m.num[PF_FRAMING_CAPS] = 1;
	m.num[PF_BEARER_CAPS] = 1;
	m.num[PF_MAX_CHANNELS] = maxch;
	snprintf((char *)m.blob[PB_HOSTNAME], 64, "pptpd");
	return m;
}

static struct pptp_msg ocrq(uint16_t id, uint16_t serial)
{
	struct pptp_msg m = M(PPTP_OCRQ);

	m.num[PF_CALL_ID] = id;
	m.num[PF_CALL_SERIAL] = serial;
	m.num[PF_MIN_BPS] = 2400;
	m.num[PF_MAX_BPS] = 10000000;
	m.num[PF_BEARER_TYPE] = 3;
	m.num[PF_FRAMING_TYPE] = 3;
	m.num[PF_RECV_WINDOW] = 64;
	m.num[PF_PROC_DELAY] = 7;
	return m;
}

static struct pptp_msg ocrp(uint16_t id, uint16_t peer, unsigned result)
{
	struct pptp_msg m = M(PPTP_OCRP);

	m.num[PF_CALL_ID] = id;
	m.num[PF_PEER_CALL_ID] = peer;
	m.num[PF_RESULT] = result;
	m.num[PF_CONNECT_SPEED] = 100000000;
	m.num[PF_RECV_WINDOW] = 16;
	return m;
}

static struct pptp_msg msg_id(unsigned type, unsigned field, uint16_t id)
{
	struct pptp_msg m = M(type);

	m.num[field] = id;
	return m;
}

static struct pptp_msg stop_msg(unsigned type)
{
	struct pptp_msg m = M(type);

	m.num[type == PPTP_STOPCCRQ ? PF_REASON : PF_RESULT] = 1;
	return m;
}

/* An inside connection with its primary upstream established; the server
 * says maxch in its reply. */
struct sess {
	uint32_t in, up;
	uint32_t in_gen;        /* the slot's generation when opened */
	int host;
	unsigned maxch;
};

static struct sess sess_open_to(int host, uint32_t server, unsigned maxch)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *rep;

	s.host = host;
	s.maxch = maxch;
	s.in = relay_accept(&E.r, CLIENT(host), (uint16_t)(40000 + host),
			    server, E.now);
	CHECK(s.in != RL_NONE);
	if (s.in == RL_NONE)
		return s;
	E.live[s.in] = 1;
	E.nclose[s.in] = 0;
	s.in_gen = E.r.conns[s.in].gen;
	m = sccrq("client");
	feed(s.in, &m);
	s.up = next_connect();
	CHECK(s.up != RL_NONE);
	if (s.up == RL_NONE)
		return s;
	relay_connected(&E.r, s.up, PUB, E.now);
	EXPECT(s.up, PPTP_SCCRQ);
	m = sccrp(1, maxch);
	feed(s.up, &m);
	rep = EXPECT(s.in, PPTP_SCCRP);
	CHECK_EQ(1, rep->num[PF_RESULT]);
	return s;
}

static struct sess sess_open(int host, unsigned maxch)
{
	return sess_open_to(host, SERVER, maxch);
}

struct callh {
	uint32_t slot, up;
	uint16_t client_id, pac_id, pns_id, server_id;
	int own_conn;           /* got an upstream connection of its own */
};

static uint32_t call_by_pac(uint16_t pac)
{
	uint32_t i;

	for (i = 0; i < E.r.calls_hwm; i++)
		if (E.r.calls[i].state != RLK_FREE &&
		    E.r.calls[i].pac_id == pac)
			return i;
	return RL_NONE;
}

/* The call in use with the lowest slot (0, and a failure, when none). */
static uint32_t first_call(void)
{
	uint32_t i;

	for (i = 0; i < E.r.cfg.max_calls; i++)
		if (E.r.calls[i].state != RLK_FREE)
			return i;
	CHECK(!"a call in use");
	return 0;
}

/*
 * The client places a call; whatever upstream connection it needs is
 * connected and started, and the server accepts with server_id.
 */
static struct callh call_up(const struct sess *s, uint16_t client_id,
			    uint16_t server_id)
{
	struct callh c;
	struct pptp_msg m;
	const struct pptp_msg *got;
	int nc = E.nconnect;

	memset(&c, 0, sizeof(c));
	c.client_id = client_id;
	c.server_id = server_id;
	c.up = s->up;
	m = ocrq(client_id, client_id);
	feed(s->in, &m);
	if (E.nconnect > nc) {
		c.own_conn = 1;
		c.up = next_connect();
		relay_connected(&E.r, c.up, PUB, E.now);
		EXPECT(c.up, PPTP_SCCRQ);
		m = sccrp(1, s->maxch);
		feed(c.up, &m);
	}
	got = EXPECT(c.up, PPTP_OCRQ);
	c.pns_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(E.last_id, c.pns_id);
	m = ocrp(server_id, c.pns_id, 1);
	feed(c.up, &m);
	got = EXPECT(s->in, PPTP_OCRP);
	CHECK_EQ(client_id, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	c.pac_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK(c.pac_id != 0);
	c.slot = call_by_pac(c.pac_id);
	CHECK(c.slot != RL_NONE);
	if (c.slot != RL_NONE)
		CHECK_EQ(RLK_ESTABLISHED, E.r.calls[c.slot].state);
	return c;
}

/* ---- GRE ----------------------------------------------------------------- */

static uint8_t pay_byte(unsigned tag, uint32_t seq, size_t i)
{
	return (uint8_t)(tag * 131u + seq * 31u + i * 7u + 1u);
}

/* A PPTP GRE packet by hand: S and A as asked, plen payload bytes. */
static size_t mk_gre(uint8_t *p, uint16_t call, int s, uint32_t seq, int a,
		     uint32_t ack, unsigned tag, size_t plen)
{
	size_t n = pg_gre_hdr(p, call, s, seq, a, ack, plen), i;

	for (i = 0; i < plen; i++)
		p[n + i] = pay_byte(tag, seq, i);
	return n + plen;
}

#define TAG_UP 1
#define TAG_DOWN 2

static enum rl_gre_result gre_in(uint32_t src, uint32_t dst, uint16_t call,
				 uint32_t seq, unsigned tag, size_t plen)
{
	uint8_t b[2048];
	size_t n = mk_gre(b, call, 1, seq, 0, 0, tag, plen);

	return relay_gre_input(&E.r, src, dst, b, n, E.now);
}

/* Client data for c, sequence number seq. */
static enum rl_gre_result gre_up(const struct sess *s, const struct callh *c,
				 uint32_t seq, size_t plen)
{
	return gre_in(CLIENT(s->host), SERVER, c->pac_id, seq, TAG_UP, plen);
}

static enum rl_gre_result gre_down(const struct callh *c, uint32_t seq,
				   size_t plen)
{
	return gre_in(SERVER, PUB, c->pns_id, seq, TAG_DOWN, plen);
}

/*
 * The next GRE packet sent must go src -> dst for call, carry a frame with
 * sequence number want_seq (or none: ack-only when want_seq is 0) whose
 * payload is the frame seq_in of tag, plen bytes.  Returns its info.
 */
static struct gre_info gre_expect_at(uint32_t src, uint32_t dst,
				     uint16_t call, uint32_t want_seq,
				     unsigned tag, uint32_t seq_in,
				     size_t plen, int line)
{
	const struct sgre *g = next_gre();
	struct gre_info gi;
	size_t i;
	int ok = 1;

	memset(&gi, 0, sizeof(gi));
	if (!g) {
		check_failed++;
		fprintf(stderr, "%s:%d: FAIL: no GRE sent\n", __FILE__, line);
		return gi;
	}
	if (gre_parse(g->b, g->len, &gi) != GRE_OK)
		ok = 0;
	else if (g->src != src || g->dst != dst || gi.call_id != call)
		ok = 0;
	else if (want_seq && (!gi.has_seq || gi.seq != want_seq ||
			      gi.payload_len != plen ||
			      g->len != gi.hdr_len + plen))
		ok = 0;
	else if (!want_seq && (gi.has_seq || !gi.has_ack || gi.payload_len))
		ok = 0;
	for (i = 0; ok && want_seq && i < plen; i++)
		if (g->b[gi.hdr_len + i] != pay_byte(tag, seq_in, i))
			ok = 0;
	if (ok) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "%s:%d: FAIL: GRE %08x -> %08x call %u seq %u "
			"(has %d) len %zu; wanted %08x -> %08x call %u seq %u "
			"len %zu\n", __FILE__, line, (unsigned)g->src,
			(unsigned)g->dst, gi.call_id, (unsigned)gi.seq,
			gi.has_seq, (size_t)gi.payload_len, (unsigned)src,
			(unsigned)dst, call, (unsigned)want_seq, plen);
	}
	return gi;
}

#define GRE_EXPECT(src, dst, call, seq, tag, seq_in, plen) \
	gre_expect_at((src), (dst), (call), (seq), (tag), (seq_in), (plen), \
		      __LINE__)

static int gre_unread(void)
{
	return E.ngre - E.gre_read;
}

/* A call carries frames both ways, as a check that it is intact. */
static void call_carries(const struct sess *s, const struct callh *c,
			 uint32_t seq, uint32_t out_seq, int line)
{
	int f = check_failed;

	CHECK_EQ(RL_GRE_TAKEN, gre_up(s, c, seq, 30));
	GRE_EXPECT(PUB, SERVER, c->server_id, out_seq, TAG_UP, seq, 30);
	CHECK_EQ(RL_GRE_TAKEN, gre_down(c, seq, 31));
	GRE_EXPECT(SERVER, CLIENT(s->host), c->client_id, out_seq, TAG_DOWN,
		   seq, 31);
	if (check_failed != f)
		fprintf(stderr, "  (call_carries from line %d)\n", line);
}

#define CALL_CARRIES(s, c, seq, out_seq) \
	call_carries((s), (c), (seq), (out_seq), __LINE__)

/* ---- the tests ----------------------------------------------------------- */

static void test_names(void)
{
	unsigned i;

	for (i = 0; i < RLC_STATE_COUNT; i++)
		CHECK(strcmp(rl_conn_state_name(i), "?") != 0);
	for (i = 0; i < RLK_STATE_COUNT; i++)
		CHECK(strcmp(rl_call_state_name(i), "?") != 0);
	for (i = 0; i < RLE_COUNT; i++)
		CHECK(strcmp(rl_end_name(i), "?") != 0);
	for (i = 0; i < RLS_COUNT; i++)
		CHECK(strcmp(rl_counter_name(i), "?") != 0);
	CHECK(strcmp(rl_conn_state_name(RLC_STATE_COUNT), "?") == 0);
	CHECK(strcmp(rl_call_state_name(RLK_STATE_COUNT), "?") == 0);
	CHECK(strcmp(rl_end_name(RLE_COUNT), "?") == 0);
	CHECK(strcmp(rl_counter_name(RLS_COUNT), "?") == 0);
	CHECK(strcmp(rl_counter_name(RLS_GRE_DUP), "gre_dup") == 0);
	CHECK(strcmp(rl_end_name(RLE_SERVER_CDN), "server_cdn") == 0);
}

static void test_init(void)
{
	struct rl_cfg c;
	struct rl_hooks h;
	struct relay r;

	memset(&h, 0, sizeof(h));
	relay_default_cfg(&c);
	CHECK_EQ(60000, c.echo_idle_ms);
	CHECK_EQ(10000, c.start_ms);
	CHECK_EQ(5000, c.stop_ms);
	CHECK_EQ(0, c.per_call);
	c.max_conns = 0;
	CHECK_EQ(-1, relay_init(&r, &c, &h));
	relay_destroy(&r);
	c.max_conns = 4;
	c.max_calls = 0;
	CHECK_EQ(-1, relay_init(&r, &c, &h));
	relay_destroy(&r);
	c.max_calls = 4;
	CHECK_EQ(0, relay_init(&r, &c, &h));
	CHECK_EQ(0, r.nconns);
	CHECK_EQ(0, r.ncalls);
	CHECK_EQ(0, relay_server_per_call(&r, SERVER));
	CHECK_EQ(-1, relay_call_clear(&r, 0, 0));
	CHECK_EQ(-1, relay_call_clear(&r, 4, 0));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&r, CLIENT(1), SERVER, (const uint8_t *)"", 0,
				 0));
	relay_destroy(&r);
}

static void test_happy_path(void)
{
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up, slot, i;
	uint16_t pns, pac;
	struct gre_info gi;

	env_init();
	in = relay_accept(&E.r, CLIENT(1), 40001, SERVER, E.now);
	CHECK(in != RL_NONE);
	E.live[in] = 1;
	CHECK_EQ(1, E.r.nconns);
	CHECK_EQ(RLC_WAIT_SCCRQ, E.r.conns[in].state);
	CHECK_EQ(0, E.nconnect);

	/* The client starts: the relay goes upstream first, and answers the
	 * client only once the server has. */
	m = sccrq("inside-host");
	m.num[PF_MAX_CHANNELS] = 3;
	feed(in, &m);
	CHECK_EQ(1, E.nconnect);
	up = next_connect();
	CHECK(up != RL_NONE && up != in);
	CHECK_EQ(SERVER, E.connect_srv[0]);
	CHECK_EQ(RLC_WAIT_UPSTREAM, E.r.conns[in].state);
	CHECK_EQ(RLC_CONNECTING, E.r.conns[up].state);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));

	E.now += 20;
	relay_connected(&E.r, up, PUB, E.now);
	got = EXPECT(up, PPTP_SCCRQ);
	CHECK_EQ(0x0100, got->num[PF_PROTO_VERSION]);
	CHECK_EQ(0x0203, got->num[PF_FIRMWARE_REV]);
	CHECK(strcmp((const char *)got->blob[PB_HOSTNAME], "inside-host") == 0);
	CHECK(strcmp((const char *)got->blob[PB_VENDOR],
		     "vendor of inside-host") == 0);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(RLC_WAIT_SCCRP, E.r.conns[up].state);

	E.now += 20;
	m = sccrp(1, 1);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(65535, got->num[PF_MAX_CHANNELS]);
	CHECK_EQ(0x0100, got->num[PF_PROTO_VERSION]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[in].state);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[up].state);
	CHECK_EQ(1, E.r.conns[up].max_channels);
	CHECK_EQ(1, E.ev[RLEV_CONN_UP]);
	CHECK_EQ(0, pending(up));

	/* The call: our own Call ID upstream, the client's numbers kept. */
	E.now += 20;
	m = ocrq(0x1234, 77);
	feed(in, &m);
	got = EXPECT(up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(1, E.id_gets);
	CHECK_EQ(E.last_id, pns);
	CHECK_EQ(77, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(2400, got->num[PF_MIN_BPS]);
	CHECK_EQ(10000000, got->num[PF_MAX_BPS]);
	CHECK_EQ(64, got->num[PF_RECV_WINDOW]);
	CHECK_EQ(7, got->num[PF_PROC_DELAY]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(1, E.nconnect);    /* the first call rides the primary */

	E.now += 20;
	m = ocrp(0x0777, pns, 1);
	feed(up, &m);
	got = EXPECT(in, PPTP_OCRP);
	pac = (uint16_t)got->num[PF_CALL_ID];
	CHECK(pac != 0);
	CHECK_EQ(0x1234, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(100000000, got->num[PF_CONNECT_SPEED]);
	slot = call_by_pac(pac);
	CHECK(slot != RL_NONE);
	if (slot == RL_NONE) {
		env_done();
		return;
	}
	CHECK_EQ(RLK_ESTABLISHED, E.r.calls[slot].state);
	CHECK_EQ(0x0777, E.r.calls[slot].server_id);
	CHECK_EQ(pns, E.r.calls[slot].pns_id);
	CHECK_EQ(1, E.ev[RLEV_CALL_UP]);
	CHECK_EQ(1, E.r.ctr[RLS_CALLS]);

	/* Client GRE, numbered from 100: sent on from the public address,
	 * to the server's Call ID, numbered by the relay from 1. */
	for (i = 0; i < 5; i++) {
		CHECK_EQ(RL_GRE_TAKEN,
			 gre_in(CLIENT(1), SERVER, pac, 100 + i, TAG_UP,
				40 + i));
		gi = GRE_EXPECT(PUB, SERVER, 0x0777, 1 + i, TAG_UP, 100 + i,
				40 + i);
		CHECK_EQ(0, gi.has_ack);   /* nothing from the server yet */
	}
	CHECK_EQ(5, E.r.ctr[RLS_FRAMES_UP]);
	CHECK_EQ(40 + 41 + 42 + 43 + 44, E.r.ctr[RLS_BYTES_UP]);

	/* Server GRE from 0 (pptpd): to the client, to its own Call ID, with
	 * the client's frames acknowledged. */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(RL_GRE_TAKEN,
			 gre_in(SERVER, PUB, pns, i, TAG_DOWN, 50 + i));
		gi = GRE_EXPECT(SERVER, CLIENT(1), 0x1234, 1 + i, TAG_DOWN, i,
				50 + i);
		if (i == 0) {
			CHECK_EQ(1, gi.has_ack);
			CHECK_EQ(104, gi.ack);
		} else {
			CHECK_EQ(0, gi.has_ack);
		}
	}
	CHECK_EQ(3, E.r.ctr[RLS_FRAMES_DOWN]);
	CHECK_EQ(0, gre_unread());

	/* Nothing goes back to the server: an ack-only after ack_delay. */
	relay_tick(&E.r, E.now + E.r.cfg.ack_delay_ms - 1);
	CHECK_EQ(0, gre_unread());
	E.now += E.r.cfg.ack_delay_ms;
	relay_tick(&E.r, E.now);
	gi = GRE_EXPECT(PUB, SERVER, 0x0777, 0, 0, 0, 0);
	CHECK_EQ(2, gi.ack);
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(1, E.r.ctr[RLS_GRE_ACK_ONLY_SENT]);
	relay_tick(&E.r, E.now + 10 * E.r.cfg.ack_delay_ms);
	CHECK_EQ(0, gre_unread());

	/* One more client frame: the client's leg acks it after a while. */
	CHECK_EQ(RL_GRE_TAKEN,
		 gre_in(CLIENT(1), SERVER, pac, 105, TAG_UP, 10));
	gi = GRE_EXPECT(PUB, SERVER, 0x0777, 6, TAG_UP, 105, 10);
	CHECK_EQ(0, gi.has_ack);
	E.now += E.r.cfg.ack_delay_ms;
	relay_tick(&E.r, E.now);
	gi = GRE_EXPECT(SERVER, CLIENT(1), 0x1234, 0, 0, 0, 0);
	CHECK_EQ(105, gi.ack);
	CHECK_EQ(2, E.r.ctr[RLS_GRE_ACK_ONLY_SENT]);

	/* An ack-only from the client is taken, and forwards nothing. */
	{
		uint8_t b[32];
		size_t n = mk_gre(b, pac, 0, 0, 1, 3, 0, 0);

		CHECK_EQ(RL_GRE_TAKEN,
			 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n,
					 E.now));
		CHECK_EQ(0, gre_unread());
	}
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));
	CHECK_EQ(4, E.r.ctr[RLS_CTL_IN]);
	CHECK_EQ(4, E.r.ctr[RLS_CTL_OUT]);
	env_done();
}

static void test_max_channels_one(void)
{
	struct sess s;
	struct callh c[3];
	struct pptp_msg m;
	const struct pptp_msg *got;
	int i, j;

	env_init();
	s = sess_open(1, 1);
	for (i = 0; i < 3; i++)
		c[i] = call_up(&s, (uint16_t)(0x100 + i),
			       (uint16_t)(0x900 + i));
	CHECK_EQ(0, c[0].own_conn);
	CHECK_EQ(1, c[1].own_conn);
	CHECK_EQ(1, c[2].own_conn);
	CHECK_EQ(3, E.nconnect);
	CHECK_EQ(2, E.r.ctr[RLS_PER_CALL_CONNS]);
	CHECK_EQ(3, E.r.ctr[RLS_UPSTREAM_CONNS]);
	CHECK_EQ(4, E.r.nconns);
	CHECK_EQ(3, E.r.ctr[RLS_CALLS]);
	CHECK(c[1].up != s.up && c[2].up != s.up && c[1].up != c[2].up);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++) {
			CHECK(c[i].pac_id != c[j].pac_id);
			CHECK(c[i].pns_id != c[j].pns_id);
		}
	/* The client saw one start reply only, and nothing else. */
	CHECK_EQ(0, pending(s.in));
	for (i = 0; i < 3; i++)
		CALL_CARRIES(&s, &c[i], 1, 1);

	/* Clearing the second call: CDN to the client (request), CCRQ and
	 * then Stop on its own connection, closed after the reply. */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, c[1].client_id);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[1].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(4, got->num[PF_RESULT]);
	got = EXPECT(c[1].up, PPTP_CCRQ);
	CHECK_EQ(c[1].pns_id, got->num[PF_CALL_ID]);
	EXPECT(c[1].up, PPTP_STOPCCRQ);
	CHECK_EQ(RLC_STOPPING, E.r.conns[c[1].up].state);
	CHECK_EQ(0, E.nclose[c[1].up]);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, c[1].pns_id));
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[1].up, &m);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(3, E.r.nconns);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_CLIENT_CLEAR]);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(c[2].up));
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[1], 2, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 2, 10));
	CALL_CARRIES(&s, &c[0], 2, 2);
	CALL_CARRIES(&s, &c[2], 2, 2);

	/* Clearing the call on the primary keeps the primary. */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, c[0].client_id);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	/* A fourth call takes the primary again: it carries none now. */
	c[0] = call_up(&s, 0x200, 0x950);
	CHECK_EQ(0, c[0].own_conn);
	CHECK_EQ(3, E.nconnect);
	env_done();
}

static void test_max_channels_unlimited(void)
{
	struct sess s;
	struct callh c[3];
	int i;

	env_init();
	s = sess_open(1, 0);
	for (i = 0; i < 3; i++) {
		c[i] = call_up(&s, (uint16_t)(7 + i), (uint16_t)(0x300 + i));
		CHECK_EQ(0, c[i].own_conn);
		CHECK_EQ(s.up, c[i].up);
	}
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(0, E.r.ctr[RLS_PER_CALL_CONNS]);
	CHECK_EQ(3, E.r.conns[s.up].ncalls);
	CHECK_EQ(3, E.r.conns[s.in].ncalls);
	for (i = 0; i < 3; i++)
		CALL_CARRIES(&s, &c[i], 5, 1);
	env_done();

	/* Maximum Channels 3: the fourth call needs its own connection. */
	env_init();
	s = sess_open(1, 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(0, call_up(&s, (uint16_t)(7 + i),
				    (uint16_t)(0x300 + i)).own_conn);
	CHECK_EQ(1, call_up(&s, 20, 0x400).own_conn);
	env_done();

	/* per_call in the configuration: every call after the first on the
	 * primary gets its own, whatever the server says. */
	{
		struct rl_cfg cfg;

		cfg_test(&cfg);
		cfg.per_call = 1;
		env_init_cfg(&cfg);
	}
	s = sess_open(1, 0);
	CHECK_EQ(0, call_up(&s, 7, 0x300).own_conn);
	CHECK_EQ(1, call_up(&s, 8, 0x301).own_conn);
	CHECK_EQ(1, call_up(&s, 9, 0x302).own_conn);
	env_done();
}

static void test_refused_retry(void)
{
	struct sess s;
	struct callh c0, c2;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t up2;
	uint16_t pns_first, pns2, pac2;
	int puts;

	env_init();
	s = sess_open(1, 0);
	c0 = call_up(&s, 0x11, 0x901);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));

	/* The second call on the shared connection is refused. */
	m = ocrq(0x12, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns_first = (uint16_t)got->num[PF_CALL_ID];
	puts = E.id_puts;
	m = ocrp(0, pns_first, 2);
	feed(s.up, &m);
	CHECK_EQ(1, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER2));
	CHECK_EQ(1, E.r.ctr[RLS_SERVERS_PER_CALL]);
	CHECK_EQ(1, E.ev[RLEV_PER_CALL]);
	CHECK_EQ(puts + 1, E.id_puts);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, pns_first));
	/* The client heard nothing: the call is tried again on a new
	 * connection. */
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(2, E.nconnect);
	up2 = next_connect();
	CHECK_EQ(1, E.r.conns[up2].per_call);
	relay_connected(&E.r, up2, PUB, E.now);
	EXPECT(up2, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up2, &m);
	got = EXPECT(up2, PPTP_OCRQ);
	pns2 = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(2, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(0, pending(s.in));
	m = ocrp(0x902, pns2, 1);
	feed(up2, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(0x12, got->num[PF_PEER_CALL_ID]);
	pac2 = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(0, pending(s.in));
	CHECK(call_by_pac(pac2) != RL_NONE &&
	      E.r.calls[call_by_pac(pac2)].state == RLK_ESTABLISHED);
	CHECK_EQ(0, E.r.ended[RLE_SERVER_REFUSED]);
	CALL_CARRIES(&s, &c0, 1, 1);
	{
		struct callh c1;

		memset(&c1, 0, sizeof(c1));
		c1.client_id = 0x12;
		c1.pac_id = pac2;
		c1.pns_id = pns2;
		c1.server_id = 0x902;
		CALL_CARRIES(&s, &c1, 1, 1);
	}

	/* The server is known now: the next call goes to a connection of
	 * its own at once, though the primary has no limit. */
	c2 = call_up(&s, 0x13, 0x903);
	CHECK_EQ(1, c2.own_conn);
	CHECK_EQ(3, E.nconnect);
	/* A second inside connection to the same server too. */
	{
		struct sess s2 = sess_open(2, 0);

		CHECK_EQ(0, call_up(&s2, 0x11, 0x904).own_conn);
		CHECK_EQ(1, call_up(&s2, 0x12, 0x905).own_conn);
	}
	env_done();

	/* A retried call refused again on its own connection: the client
	 * gets the server's answer, the connection is stopped. */
	env_init();
	s = sess_open(1, 0);
	c0 = call_up(&s, 0x11, 0x901);
	m = ocrq(0x12, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 2);
	feed(s.up, &m);
	up2 = next_connect();
	relay_connected(&E.r, up2, PUB, E.now);
	EXPECT(up2, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up2, &m);
	got = EXPECT(up2, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 7);
	m.num[PF_ERROR] = 6;
	feed(up2, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(7, got->num[PF_RESULT]);
	CHECK_EQ(6, got->num[PF_ERROR]);
	CHECK_EQ(0x12, got->num[PF_PEER_CALL_ID]);
	EXPECT(up2, PPTP_STOPCCRQ);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_REFUSED]);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(2, E.nconnect);
	CALL_CARRIES(&s, &c0, 1, 1);
	env_done();
}

/* A server is learned when it refuses a second call on one connection;
 * the relay remembers RL_MAX_SERVERS of them, forgetting the oldest. */
static void learn_server(uint32_t server)
{
	struct sess s = sess_open_to(1, server, 0);
	struct pptp_msg m;
	const struct pptp_msg *got;

	call_up(&s, 1, 0x11);
	m = ocrq(2, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 2);
	feed(s.up, &m);
	CHECK_EQ(1, relay_server_per_call(&E.r, server));
	relay_shutdown(&E.r, E.now);
	relay_tick(&E.r, E.now);
	E.nmsg = 0;
	E.nconnect = E.connect_read = 0;
}

static void test_servers_remembered(void)
{
	uint32_t i, forgotten = 0, kept = 0;

	env_init();
	for (i = 0; i < RL_MAX_SERVERS; i++) {
		learn_server(IP(10, 9, i >> 8, i & 255));
		E.now += 1000;
	}
	for (i = 0; i < RL_MAX_SERVERS; i++)
		kept += (uint32_t)relay_server_per_call(&E.r,
						IP(10, 9, i >> 8, i & 255));
	CHECK_EQ(RL_MAX_SERVERS, kept);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	/* One more: the one learned first makes room. */
	learn_server(SERVER);
	CHECK_EQ(RL_MAX_SERVERS + 1, E.r.ctr[RLS_SERVERS_PER_CALL]);
	for (i = 0; i < RL_MAX_SERVERS; i++)
		if (!relay_server_per_call(&E.r, IP(10, 9, i >> 8, i & 255)))
			forgotten = forgotten * 1000 + i + 1;
	CHECK_EQ(1, forgotten);
	CHECK_EQ(1, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, relay_server_per_call(&E.r, 0));
	env_done();
}

static void test_refused_first(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint16_t pns;

	/* A refusal of the only call on a connection is just relayed. */
	env_init();
	s = sess_open(1, 0);
	m = ocrq(0x44, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	m = ocrp(0, pns, 3);
	m.num[PF_CAUSE] = 0x55;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x55, got->num[PF_CAUSE]);
	CHECK_EQ(0x44, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_REFUSED]);
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	CHECK_EQ(0, pending(s.up));
	/* An answer for a call that is gone is unexpected, and ignored. */
	m = ocrp(5, pns, 1);
	feed(s.up, &m);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	CHECK_EQ(0, pending(s.in));
	env_done();

	/* Two requests in flight on one connection and the first refused:
	 * no call was up there, so nothing says "one call per connection". */
	env_init();
	s = sess_open(1, 0);
	m = ocrq(0x44, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	m = ocrq(0x45, 2);
	feed(s.in, &m);
	EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, pns, 3);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x44, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(0, pending(s.up));
	drain(s.in);
	env_done();
}

static void test_primary_closed(void)
{
	struct sess s;
	struct callh c[3];
	struct pptp_msg m;
	const struct pptp_msg *got;
	int i;

	/* Two calls on the primary; the server's TCP goes.  The client hears
	 * of both calls, and its connection stays for the next one. */
	env_init();
	s = sess_open(1, 0);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	E.live[s.up] = 0;
	relay_closed(&E.r, s.up, E.now);
	CHECK_EQ(0, E.nclose[s.up]);
	for (i = 0; i < 2; i++) {
		got = EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(c[i].pac_id, got->num[PF_CALL_ID]);
		CHECK_EQ(1, got->num[PF_RESULT]);
	}
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(2, E.r.ended[RLE_SERVER_GONE]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(RL_NONE, E.r.conns[s.in].primary);
	CHECK_EQ(1, E.r.nconns);
	CHECK_EQ(0, E.nclose[s.in]);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[0], 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));
	/* The next call opens a connection of its own, which goes with it. */
	c[2] = call_up(&s, 0x23, 0x803);
	CHECK_EQ(1, c[2].own_conn);
	CHECK_EQ(1, E.r.conns[c[2].up].per_call);
	CALL_CARRIES(&s, &c[2], 1, 1);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x23);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(c[2].up, PPTP_CCRQ);
	EXPECT(c[2].up, PPTP_STOPCCRQ);
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[2].up, &m);
	CHECK_EQ(1, E.nclose[c[2].up]);
	CHECK_EQ(1, E.r.nconns);
	/* The client leaves when it likes. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	CHECK_EQ(0, E.r.nconns);
	env_done();

	/* Maximum Channels 1: the primary goes, the per-call connection's
	 * call carries on. */
	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	E.live[s.up] = 0;
	relay_closed(&E.r, s.up, E.now);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[0].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, pending(c[1].up));
	CHECK_EQ(1, E.r.ncalls);
	CALL_CARRIES(&s, &c[1], 1, 1);
	/* The client goes: the per-call call is cleared upstream. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	got = EXPECT(c[1].up, PPTP_CCRQ);
	CHECK_EQ(c[1].pns_id, got->num[PF_CALL_ID]);
	EXPECT(c[1].up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[1].up, &m);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_per_call_closed(void)
{
	struct sess s;
	struct callh c[3];
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	c[2] = call_up(&s, 0x23, 0x803);
	E.live[c[1].up] = 0;
	relay_closed(&E.r, c[1].up, E.now);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[1].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(c[2].up));
	CHECK_EQ(0, E.nclose[c[1].up]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(3, E.r.nconns);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_GONE]);
	CALL_CARRIES(&s, &c[0], 1, 1);
	CALL_CARRIES(&s, &c[2], 1, 1);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));

	/* The server stops a per-call connection: answered, and it ends only
	 * its own call. */
	{
		struct pptp_msg m = stop_msg(PPTP_STOPCCRQ);

		feed(c[2].up, &m);
	}
	EXPECT(c[2].up, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[c[2].up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[2].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(1, E.r.ncalls);
	CALL_CARRIES(&s, &c[0], 2, 2);
	env_done();
}

static void test_server_stop(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x31, 0x701);
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_STOPCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(1, E.nclose[s.up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(0, E.r.ncalls);
	/* The client stops: a reply, and it goes. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_client_closed(void)
{
	struct sess s;
	struct callh c[2];
	const struct pptp_msg *got;
	int i;

	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x41, 0x601);
	c[1] = call_up(&s, 0x42, 0x602);
	CHECK_EQ(2, E.nids);
	E.live[s.in] = 0;
	relay_closed(&E.r, s.in, E.now);
	CHECK_EQ(0, E.nclose[s.in]);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(2, E.r.ended[RLE_CLIENT_GONE]);
	for (i = 0; i < 2; i++) {
		got = EXPECT(c[i].up, PPTP_CCRQ);
		CHECK_EQ(c[i].pns_id, got->num[PF_CALL_ID]);
		EXPECT(c[i].up, PPTP_STOPCCRQ);
		CHECK_EQ(0, pending(c[i].up));
		CHECK_EQ(RLC_STOPPING, E.r.conns[c[i].up].state);
	}
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[0], 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));
	/* The servers do not answer the stop: closed after stop_ms. */
	relay_tick(&E.r, E.now + E.r.cfg.stop_ms - 1);
	CHECK_EQ(0, E.nclose[c[0].up] + E.nclose[c[1].up]);
	relay_tick(&E.r, E.now + E.r.cfg.stop_ms);
	CHECK_EQ(1, E.nclose[c[0].up]);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.r.conns_hwm);
	CHECK_EQ(E.id_gets, E.id_puts);
	env_done();

	/* A client that goes while its primary is still connecting. */
	env_init();
	{
		uint32_t in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		struct pptp_msg m = sccrq("c");
		uint32_t up;

		E.live[in] = 1;
		feed(in, &m);
		up = next_connect();
		E.live[in] = 0;
		relay_closed(&E.r, in, E.now);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(0, pending(up));
		CHECK_EQ(0, E.r.nconns);
		/* Late news for the freed slot is ignored. */
		relay_connected(&E.r, up, PUB, E.now);
		relay_closed(&E.r, up, E.now);
		CHECK_EQ(0, E.r.nconns);
		CHECK_EQ(0, pending(up));
	}
	env_done();
}

static void test_client_stop(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x51, 0x501);
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	EXPECT(s.up, PPTP_CCRQ);
	EXPECT(s.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	/* A late CDN from the server for the cleared call, then its stop
	 * reply: the upstream connection is closed. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, c.server_id);
	feed(s.up, &m);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	m = stop_msg(PPTP_STOPCCRP);
	feed(s.up, &m);
	CHECK_EQ(1, E.nclose[s.up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_echo(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint64_t t;
	uint32_t id_up, id_in;
	struct rl_cfg cfg;

	cfg_test(&cfg);
	cfg.echo_reply_ms = 20000;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	c = call_up(&s, 0x61, 0x401);
	t = E.now;

	/* Client Echo-Request: answered at once, same identifier. */
	m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = 0xDEADBEEF;
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_ECHORP);
	CHECK_EQ(0xDEADBEEFu, got->num[PF_IDENTIFIER]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	/* Same from the server. */
	m.num[PF_IDENTIFIER] = 7;
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ECHORP);
	CHECK_EQ(7, got->num[PF_IDENTIFIER]);

	/* Silence: an Echo-Request to each peer after echo_idle_ms. */
	relay_tick(&E.r, t + E.r.cfg.echo_idle_ms - 1);
	CHECK_EQ(0, pending(s.in) + pending(s.up));
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	id_up = got->num[PF_IDENTIFIER];
	got = EXPECT(s.in, PPTP_ECHORQ);
	id_in = got->num[PF_IDENTIFIER];
	CHECK_EQ(2, E.r.ctr[RLS_ECHO_SENT]);
	/* Answered: nothing more until the next silence. */
	E.now += 1000;
	m = msg_id(PPTP_ECHORP, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = id_up;
	m.num[PF_RESULT] = 1;
	feed(s.up, &m);
	m.num[PF_IDENTIFIER] = id_in;
	feed(s.in, &m);
	t = E.now;
	relay_tick(&E.r, t + E.r.cfg.echo_idle_ms - 1);
	CHECK_EQ(0, pending(s.in) + pending(s.up));
	CHECK_EQ(0, E.r.ctr[RLS_ECHO_TIMEOUTS]);
	CHECK_EQ(2, E.r.nconns);
	CHECK_EQ(1, E.r.ncalls);

	/* Silence again; this time only the client answers. */
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	CHECK(got->num[PF_IDENTIFIER] != id_up);
	got = EXPECT(s.in, PPTP_ECHORQ);
	m.num[PF_IDENTIFIER] = got->num[PF_IDENTIFIER];
	feed(s.in, &m);
	relay_tick(&E.r, E.now + E.r.cfg.echo_reply_ms - 1);
	CHECK_EQ(0, E.nclose[s.up]);
	E.now += E.r.cfg.echo_reply_ms;
	relay_tick(&E.r, E.now);
	CHECK_EQ(1, E.r.ctr[RLS_ECHO_TIMEOUTS]);
	CHECK_EQ(1, E.nclose[s.up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_TIMEOUT]);
	CHECK_EQ(0, pending(s.up));
	env_done();

	/* A client that never answers: dropped, its calls cleared upstream. */
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	c = call_up(&s, 0x61, 0x401);
	t = E.now;
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	m = msg_id(PPTP_ECHORP, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = got->num[PF_IDENTIFIER];
	m.num[PF_RESULT] = 1;
	feed(s.up, &m);
	EXPECT(s.in, PPTP_ECHORQ);
	E.now += E.r.cfg.echo_reply_ms;
	relay_tick(&E.r, E.now);
	CHECK_EQ(1, E.nclose[s.in]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
	EXPECT(s.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	env_done();
}

static void test_timeouts(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	struct rl_cfg cfg;
	int step;

	/* The upstream never connects (0), or never answers the start (1):
	 * the client gets an error reply after start_ms and is closed. */
	for (step = 0; step < 2; step++) {
		env_init();
		in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		E.live[in] = 1;
		m = sccrq("c");
		feed(in, &m);
		up = next_connect();
		if (step == 1) {
			relay_connected(&E.r, up, PUB, E.now + 1);
			EXPECT(up, PPTP_SCCRQ);
		}
		relay_tick(&E.r, E.now + E.r.cfg.start_ms - 1);
		CHECK_EQ(0, pending(in));
		CHECK_EQ(2, E.r.nconns);
		relay_tick(&E.r, E.now + E.r.cfg.start_ms + step);
		got = EXPECT(in, PPTP_SCCRP);
		CHECK(got->num[PF_RESULT] != 1);
		CHECK_EQ(1, E.nclose[in]);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(0, E.r.nconns);
		CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
		env_done();
	}

	/* The connect fails at once. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	E.connect_fail = 1;
	m = sccrq("c");
	feed(in, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
	env_done();

	/* The connect fails later. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("c");
	feed(in, &m);
	up = next_connect();
	E.live[up] = 0;
	relay_closed(&E.r, up, E.now);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();

	/* The server refuses the start: its answer reaches the client. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("c");
	feed(in, &m);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(2, 1);
	m.num[PF_ERROR] = 4;
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(2, got->num[PF_RESULT]);
	CHECK_EQ(4, got->num[PF_ERROR]);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(1, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	/* It never reached "established": counted as failed. */
	CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
	env_done();

	/* A client that never starts. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	relay_tick(&E.r, E.now + E.r.cfg.start_ms - 1);
	CHECK_EQ(0, E.nclose[in]);
	relay_tick(&E.r, E.now + E.r.cfg.start_ms);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, E.nconnect);
	env_done();

	/* No Outgoing-Call-Reply within call_ms. */
	cfg_test(&cfg);
	cfg.echo_idle_ms = 10 * cfg.call_ms;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	m = ocrq(0x71, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	{
		uint16_t pns = (uint16_t)got->num[PF_CALL_ID];
		uint32_t slot = 0;
		uint16_t pac;

		slot = first_call();
		pac = E.r.calls[slot].pac_id;
		relay_tick(&E.r, E.now + cfg.call_ms - 1);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(1, E.r.ncalls);
		relay_tick(&E.r, E.now + cfg.call_ms);
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(pac, got->num[PF_CALL_ID]);
		CHECK_EQ(0x71, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		got = EXPECT(s.up, PPTP_CCRQ);
		CHECK_EQ(pns, got->num[PF_CALL_ID]);
		CHECK_EQ(0, E.r.ncalls);
		CHECK_EQ(0, E.nids);
		CHECK_EQ(1, E.r.ended[RLE_TIMEOUT]);
		/* Its reply after all: unexpected, nothing relayed. */
		m = ocrp(1, pns, 1);
		feed(s.up, &m);
		CHECK_EQ(0, pending(s.in));
	}
	env_done();

	/* A per-call connection that never connects: the call fails with an
	 * OCRP error after start_ms, the rest stays. */
	env_init();
	s = sess_open(1, 1);
	{
		struct callh c0 = call_up(&s, 0x70, 0x300);

		m = ocrq(0x71, 1);
		feed(s.in, &m);
		up = next_connect();
		CHECK(up != RL_NONE);
		relay_tick(&E.r, E.now + E.r.cfg.start_ms);
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(0x71, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(1, E.r.ncalls);
		CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
		E.now += E.r.cfg.start_ms;
		CALL_CARRIES(&s, &c0, 1, 1);
	}
	env_done();
}

static void test_incoming(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	struct callh c;
	uint32_t slot;

	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0900);
	m.num[PF_CALL_SERIAL] = 9;
	m.num[PF_BEARER_TYPE] = 2;
	snprintf((char *)m.blob[PB_DIALED], 64, "5551234");
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	memset(&c, 0, sizeof(c));
	c.pac_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK(c.pac_id != 0);
	CHECK_EQ(9, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(2, got->num[PF_BEARER_TYPE]);
	CHECK(strcmp((const char *)got->blob[PB_DIALED], "5551234") == 0);
	slot = call_by_pac(c.pac_id);
	CHECK(slot != RL_NONE);
	if (slot == RL_NONE) {
		env_done();
		return;
	}
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[slot].state);
	CHECK_EQ(1, E.r.calls[slot].incoming);
	/* GRE before the call is up is ours, but dropped. */
	CHECK_EQ(RL_GRE_DROPPED,
		 gre_in(CLIENT(1), SERVER, c.pac_id, 1, TAG_UP, 10));

	m = msg_id(PPTP_ICRP, PF_CALL_ID, 0x55);
	m.num[PF_PEER_CALL_ID] = c.pac_id;
	m.num[PF_RESULT] = 1;
	m.num[PF_RECV_WINDOW] = 32;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	c.pns_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(E.last_id, c.pns_id);
	CHECK_EQ(0x0900, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(32, got->num[PF_RECV_WINDOW]);
	CHECK_EQ(RLK_WAIT_ICCN, E.r.calls[slot].state);

	m = msg_id(PPTP_ICCN, PF_PEER_CALL_ID, c.pns_id);
	m.num[PF_CONNECT_SPEED] = 64000;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICCN);
	CHECK_EQ(0x55, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(64000, got->num[PF_CONNECT_SPEED]);
	CHECK_EQ(RLK_ESTABLISHED, E.r.calls[slot].state);
	CHECK_EQ(1, E.ev[RLEV_CALL_UP]);
	c.client_id = 0x55;
	c.server_id = 0x0900;
	CALL_CARRIES(&s, &c, 1, 1);

	/* The server hangs up: CDN with our ID to the client. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0x0900);
	m.num[PF_RESULT] = 3;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0, E.r.ncalls);
	env_done();

	/* The client refuses an incoming call. */
	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0901);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	m = msg_id(PPTP_ICRP, PF_CALL_ID, 0);
	m.num[PF_PEER_CALL_ID] = got->num[PF_CALL_ID];
	m.num[PF_RESULT] = 3;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x0901, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	env_done();

	/* No Call ID to be had: the server's call is refused at once. */
	env_init();
	s = sess_open(1, 0);
	E.id_fail = 1;
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0902);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x0902, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(1, E.r.ctr[RLS_CALLS_REFUSED]);
	env_done();

	/* The client never answers: after call_ms both are told. */
	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0903);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	c.pac_id = (uint16_t)got->num[PF_CALL_ID];
	relay_tick(&E.r, E.now + E.r.cfg.call_ms);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x0903, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, E.r.ncalls);
	E.now += E.r.cfg.call_ms;
	drain(s.in);
	drain(s.up);
	env_done();
}

static void test_sli_wen_cdn(void)
{
	struct sess s;
	struct callh c, c2;
	struct pptp_msg m;
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x1111, 0x2222);
	c2 = call_up(&s, 0x1112, 0x2223);

	/* Set-Link-Info from the client carries our pac_id: the server gets
	 * its own ID there. */
	m = msg_id(PPTP_SLI, PF_PEER_CALL_ID, c.pac_id);
	m.num[PF_SEND_ACCM] = 0xFFFFFFFF;
	m.num[PF_RECV_ACCM] = 0x0000000A;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_SLI);
	CHECK_EQ(0x2222, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0xFFFFFFFFu, got->num[PF_SEND_ACCM]);
	CHECK_EQ(0x0A, got->num[PF_RECV_ACCM]);
	/* With the client's own ID instead, it is for no call. */
	m.num[PF_PEER_CALL_ID] = 0x1111;
	if (c.pac_id != 0x1111 && c2.pac_id != 0x1111) {
		feed(s.in, &m);
		CHECK_EQ(0, pending(s.up));
		CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	}

	/* WAN-Error-Notify from the server carries our pns_id: the client
	 * gets its own ID. */
	m = msg_id(PPTP_WEN, PF_PEER_CALL_ID, c2.pns_id);
	m.num[PF_CRC_ERRORS] = 5;
	m.num[PF_ALIGN_ERRORS] = 9;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_WEN);
	CHECK_EQ(0x1112, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(5, got->num[PF_CRC_ERRORS]);
	CHECK_EQ(9, got->num[PF_ALIGN_ERRORS]);

	/* Call-Disconnect-Notify from the server carries its own ID; the
	 * client gets ours. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0x2222);
	m.num[PF_RESULT] = 3;
	m.num[PF_CAUSE] = 0x1234;
	snprintf((char *)m.blob[PB_STATS], 128, "stats");
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x1234, got->num[PF_CAUSE]);
	CHECK(strcmp((const char *)got->blob[PB_STATS], "stats") == 0);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_CDN]);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, c.pns_id));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c, 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c, 1, 10));
	CALL_CARRIES(&s, &c2, 1, 1);
	/* The same CDN again is for no call. */
	feed(s.up, &m);
	CHECK_EQ(0, pending(s.in));

	/* SLI and CCRQ for calls that are not there: ignored, counted. */
	m = msg_id(PPTP_SLI, PF_PEER_CALL_ID, c.pac_id);
	feed(s.in, &m);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x1111);
	feed(s.in, &m);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(s.in));
	/* Messages of the wrong side: ignored, counted. */
	m = ocrp(1, 2, 1);
	feed(s.in, &m);
	m = ocrq(1, 1);
	feed(s.up, &m);
	m = sccrq("again");
	feed(s.in, &m);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(s.in));
	CHECK(E.r.ctr[RLS_CTL_UNEXPECTED] >= 6);
	CALL_CARRIES(&s, &c2, 2, 2);
	env_done();
}

static void test_gre(void)
{
	struct sess s;
	struct callh c;
	uint8_t b[128];
	size_t n;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x10, 0x20);

	/* Swapped: delivered in order. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 1, 10));
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 3, 12));
	CHECK_EQ(1, gre_unread());
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 2, 11));
	GRE_EXPECT(PUB, SERVER, 0x20, 1, TAG_UP, 1, 10);
	GRE_EXPECT(PUB, SERVER, 0x20, 2, TAG_UP, 2, 11);
	GRE_EXPECT(PUB, SERVER, 0x20, 3, TAG_UP, 3, 12);
	CHECK_EQ(1, E.r.ctr[RLS_GRE_REORDERED]);
	/* Duplicates dropped. */
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 2, 11));
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 3, 12));
	CHECK_EQ(2, E.r.ctr[RLS_GRE_DUP]);
	CHECK_EQ(0, gre_unread());
	/* The same on the server's leg. */
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 0, 10));
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 2, 12));
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 1, 11));
	CHECK_EQ(RL_GRE_DROPPED, gre_down(&c, 1, 11));
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 1, TAG_DOWN, 0, 10);
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 2, TAG_DOWN, 1, 11);
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 3, TAG_DOWN, 2, 12);
	CHECK_EQ(3, E.r.ctr[RLS_GRE_DUP]);
	/* A gap given up after reorder_ms. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 5, 15));
	CHECK_EQ(0, gre_unread());
	E.now += E.r.cfg.reorder_ms;
	relay_tick(&E.r, E.now);
	GRE_EXPECT(PUB, SERVER, 0x20, 4, TAG_UP, 5, 15);
	CHECK_EQ(1, E.r.ctr[RLS_GRE_LOST]);
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 4, 14));
	CHECK_EQ(1, E.r.ctr[RLS_GRE_LATE]);
	/* Drain the ack-only packets the tick may have sent. */
	E.gre_read = E.ngre;

	/* Not ours: unknown Call ID, spoofed source, wrong destination,
	 * the server's leg addressed with the client's key, bad GRE. */
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER, (uint16_t)(c.pac_id + 1), 6,
			TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(2), SERVER, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(THIRD, SERVER, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER2, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(THIRD, PUB, c.pns_id, 6, TAG_DOWN, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(SERVER, PUB, c.pac_id == c.pns_id ? 1 : c.pac_id, 6,
			TAG_DOWN, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER, c.pns_id == c.pac_id ? 1 : c.pns_id,
			6, TAG_UP, 10));
	n = mk_gre(b, c.pac_id, 1, 6, 0, 0, TAG_UP, 10);
	b[1] = 0x02;    /* version 2 */
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n, E.now));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, 5, E.now));
	CHECK_EQ(0, gre_unread());
	/* Ours but unusable: data without a sequence number. */
	n = mk_gre(b, c.pac_id, 0, 0, 0, 0, TAG_UP, 10);
	CHECK_EQ(RL_GRE_DROPPED,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n, E.now));
	CHECK_EQ(1, E.r.ctr[RLS_GRE_BAD]);
	CHECK_EQ(0, gre_unread());
	/* An empty frame with a sequence number takes its place, sends
	 * nothing. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 6, 0));
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 7, 20));
	GRE_EXPECT(PUB, SERVER, 0x20, 5, TAG_UP, 7, 20);
	env_done();

	/* GRE for a call not yet established: its IDs are known, dropped. */
	env_init();
	s = sess_open(1, 0);
	{
		struct pptp_msg m = ocrq(0x10, 1);
		const struct pptp_msg *got;
		uint32_t slot = 0;

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_OCRQ);
		slot = first_call();
		CHECK_EQ(RL_GRE_DROPPED,
			 gre_in(CLIENT(1), SERVER, E.r.calls[slot].pac_id, 1,
				TAG_UP, 10));
		CHECK_EQ(RL_GRE_DROPPED,
			 gre_in(SERVER, PUB, (uint16_t)got->num[PF_CALL_ID], 1,
				TAG_DOWN, 10));
		CHECK_EQ(2, E.r.ctr[RLS_GRE_BAD]);
		CHECK_EQ(0, gre_unread());
	}
	env_done();
}

/*
 * Call ID 0 is an ID like any other: pptpd gives 0 to its first call, and
 * pptp-linux takes the lowest free one.  A call whose peer's ID is not known
 * yet (an outgoing call before the server's reply, an incoming one before
 * the client's) must not be taken for the call with ID 0.
 */
static void test_call_id_zero(void)
{
	struct sess s;
	struct callh a, x;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t y;

	/* The server hangs up its call 0 while another call waits for the
	 * server's reply in a lower slot. */
	env_init();
	s = sess_open(1, 0);
	a = call_up(&s, 0x10, 0x77);      /* slot 0 */
	x = call_up(&s, 0x11, 0);         /* slot 1: the server's ID is 0 */
	CHECK_EQ(0, a.slot);
	CHECK_EQ(1, x.slot);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x10);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	m = ocrq(0x12, 3);                /* slot 0 again, waiting */
	feed(s.in, &m);
	EXPECT(s.up, PPTP_OCRQ);
	y = first_call();
	CHECK_EQ(0, y);
	CHECK_EQ(RLK_WAIT_OCRP, E.r.calls[y].state);
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0);
	m.num[PF_RESULT] = 3;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(x.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLK_FREE, E.r.calls[x.slot].state);
	CHECK_EQ(RLK_WAIT_OCRP, E.r.calls[y].state);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&x, 1, 10));
	drain(s.in);
	env_done();

	/* The client clears its call 0 while an incoming call waits for the
	 * client's answer in a lower slot. */
	env_init();
	s = sess_open(1, 0);
	a = call_up(&s, 0x10, 0x77);      /* slot 0 */
	x = call_up(&s, 0, 0x78);         /* slot 1: the client's ID is 0 */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x10);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x99);
	feed(s.up, &m);                   /* slot 0, waiting for the client */
	EXPECT(s.in, PPTP_ICRQ);
	y = first_call();
	CHECK_EQ(0, y);
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(x.pac_id, got->num[PF_CALL_ID]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(x.pns_id, got->num[PF_CALL_ID]);
	CHECK_EQ(RLK_FREE, E.r.calls[x.slot].state);
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	/* A new outgoing call with ID 0 does not end the incoming one. */
	m = ocrq(0, 4);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	drain(s.in);
	drain(s.up);
	env_done();
}

/* Two clients on one server with the same Call ID: kept apart. */
static void test_two_clients(void)
{
	struct sess s1, s2;
	struct callh c1, c2;

	env_init();
	s1 = sess_open(1, 0);
	s2 = sess_open(2, 0);
	CHECK(s1.up != s2.up);
	c1 = call_up(&s1, 0x4000, 0x10);
	c2 = call_up(&s2, 0x4000, 0x11);
	CHECK_EQ(0, c1.own_conn);
	CHECK_EQ(0, c2.own_conn);
	CHECK(c1.pns_id != c2.pns_id);
	CALL_CARRIES(&s1, &c1, 1, 1);
	CALL_CARRIES(&s2, &c2, 1, 1);
	/* Client 2's GRE with client 1's pac_id is not client 1's call. */
	if (c1.pac_id != c2.pac_id)
		CHECK_EQ(RL_GRE_NOT_MINE,
			 gre_in(CLIENT(2), SERVER, c1.pac_id, 2, TAG_UP, 10));
	/* Clearing client 1's call leaves client 2's alone. */
	{
		struct pptp_msg m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x4000);

		feed(s1.in, &m);
	}
	EXPECT(s1.in, PPTP_CDN);
	EXPECT(s1.up, PPTP_CCRQ);
	CHECK_EQ(0, pending(s2.in));
	CHECK_EQ(0, pending(s2.up));
	CALL_CARRIES(&s2, &c2, 2, 2);
	env_done();
}

/* A control message with its header damaged at one place. */
struct hostile_case {
	const char *name;
	int off;                /* byte to overwrite, -1: none */
	uint8_t val;
	unsigned type;          /* message sent */
};

static const struct hostile_case hostile[] = {
	{ "bad cookie", 4, 0x00, PPTP_SCCRQ },
	{ "bad cookie last byte", 7, 0x4E, PPTP_SCCRQ },
	{ "bad length", 1, 100, PPTP_SCCRQ },
	{ "length zero", 1, 0, PPTP_SCCRQ },
	{ "length over 220", 0, 0x10, PPTP_SCCRQ },
	{ "management message", 3, 2, PPTP_SCCRQ },
	{ "control type 0", 9, 0, PPTP_SCCRQ },
	{ "control type 16", 9, 16, PPTP_SCCRQ },
	{ "OCRQ first", -1, 0, PPTP_OCRQ },
	{ "Echo-Request first", -1, 0, PPTP_ECHORQ },
	{ "SCCRP first", -1, 0, PPTP_SCCRP },
};

static void test_hostile(void)
{
	size_t i;
	struct sess s;
	struct callh c;
	uint8_t b[PPTP_MAX_LEN];
	struct pptp_msg m;
	uint32_t bad;
	size_t n;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile_case *h = &hostile[i];
		int f = check_failed;

		env_init();
		s = sess_open(1, 0);
		c = call_up(&s, 0x10, 0x20);
		bad = relay_accept(&E.r, CLIENT(2), 2, SERVER, E.now);
		E.live[bad] = 1;
		m = h->type == PPTP_SCCRQ ? sccrq("x") : M(h->type);
		n = pptp_build(&m, b, sizeof(b));
		if (h->off >= 0)
			b[h->off] = h->val;
		feed_raw(bad, b, n);
		CHECK_EQ(1, E.nclose[bad]);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(0, pending(bad));
		CHECK_EQ(1, E.nconnect);
		CHECK_EQ(2, E.r.nconns);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(0, pending(s.up));
		CALL_CARRIES(&s, &c, 1, 1);
		/* More bytes for the closed slot change nothing. */
		feed_raw(bad, b, n);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		env_done();
		if (check_failed != f)
			fprintf(stderr, "  (hostile case: %s)\n", h->name);
	}

	/* Garbage from an established client ends its calls and only its. */
	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x10, 0x20);
	{
		struct sess s2 = sess_open(2, 0);
		struct callh c2 = call_up(&s2, 0x10, 0x21);

		memset(b, 0x41, sizeof(b));
		feed_raw(s2.in, b, 40);
		CHECK_EQ(1, E.nclose[s2.in]);
		EXPECT(s2.up, PPTP_CCRQ);
		EXPECT(s2.up, PPTP_STOPCCRQ);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(1, E.r.ncalls);
		CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s2, &c2, 1, 10));
		CALL_CARRIES(&s, &c, 1, 1);
		CHECK_EQ(0, pending(s.in) + pending(s.up));
		/* ... and from a server: the client hears of it. */
		memset(b, 0x41, sizeof(b));
		feed_raw(s.up, b, 40);
		CHECK_EQ(1, E.nclose[s.up]);
		EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(2, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(0, E.r.ncalls);
	}
	env_done();
}

/* A bad header is judged as soon as its 12 bytes are in: a peer that sends
 * just a bad header, and then nothing, is dropped at once. */
static void test_bad_header_alone(void)
{
	uint8_t b[PPTP_MAX_LEN];
	struct pptp_msg m = sccrq("x");
	uint32_t in;
	int split;

	for (split = 0; split < 2; split++) {
		env_init();
		in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		E.live[in] = 1;
		pptp_build(&m, b, sizeof(b));
		b[4] = 0;      /* cookie */
		if (split) {
			feed_raw(in, b, 5);
			feed_raw(in, b + 5, 7);
		} else {
			feed_raw(in, b, PPTP_HDR_LEN);
		}
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(1, E.nclose[in]);
		CHECK_EQ(0, E.nconnect);
		env_done();
	}
}

static void test_split_and_coalesced(void)
{
	uint8_t b[8 * PPTP_MAX_LEN];
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	size_t n, i;
	uint16_t pns[3];
	int k;

	/* Everything one byte at a time, both ways. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("bytewise");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x33, 3);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	for (i = 0; i < n; i++) {
		feed_raw(in, b + i, 1);
		if (i == 154) {
			CHECK_EQ(0, E.nconnect);
		}
		if (i == 155) {
			CHECK_EQ(1, E.nconnect);
		}
	}
	/* The OCRQ came before the start finished: it waits for it. */
	CHECK_EQ(0, E.r.ctr[RLS_CTL_UNEXPECTED]);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	got = EXPECT(up, PPTP_SCCRQ);
	CHECK(strcmp((const char *)got->blob[PB_HOSTNAME], "bytewise") == 0);
	CHECK_EQ(0, pending(up));
	m = sccrp(1, 0);
	n = pptp_build(&m, b, sizeof(b));
	for (i = 0; i < n; i++)
		feed_raw(up, b + i, 1);
	EXPECT(in, PPTP_SCCRP);
	got = EXPECT(up, PPTP_OCRQ);
	CHECK_EQ(3, got->num[PF_CALL_SERIAL]);
	pns[0] = (uint16_t)got->num[PF_CALL_ID];
	m = ocrp(0x99, pns[0], 1);
	n = pptp_build(&m, b, sizeof(b));
	for (i = 0; i < n; i++)
		feed_raw(up, b + i, 1);
	got = EXPECT(in, PPTP_OCRP);
	CHECK_EQ(0x33, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(0, E.r.ctr[RLS_CTL_MALFORMED]);
	env_done();

	/* Several messages in one read, both ways, at odd cuts. */
	env_init();
	{
		struct sess s = sess_open(1, 0);
		size_t cut;

		n = 0;
		for (k = 0; k < 3; k++) {
			m = ocrq((uint16_t)(0x50 + k), (uint16_t)k);
			n += pptp_build(&m, b + n, sizeof(b) - n);
		}
		m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 42);
		n += pptp_build(&m, b + n, sizeof(b) - n);
		feed_raw(s.in, b, n);
		for (k = 0; k < 3; k++) {
			got = EXPECT(s.up, PPTP_OCRQ);
			CHECK_EQ(k, got->num[PF_CALL_SERIAL]);
			pns[k] = (uint16_t)got->num[PF_CALL_ID];
		}
		got = EXPECT(s.in, PPTP_ECHORP);
		CHECK_EQ(42, got->num[PF_IDENTIFIER]);
		n = 0;
		for (k = 0; k < 3; k++) {
			m = ocrp((uint16_t)(0x70 + k), pns[k], 1);
			n += pptp_build(&m, b + n, sizeof(b) - n);
		}
		/* A cut inside the second header and one inside the third
		 * body. */
		cut = 32 + 5;
		feed_raw(s.up, b, cut);
		feed_raw(s.up, b + cut, 64 + 20 - cut);
		feed_raw(s.up, b + 64 + 20, n - 64 - 20);
		for (k = 0; k < 3; k++) {
			got = EXPECT(s.in, PPTP_OCRP);
			CHECK_EQ(0x50 + k, got->num[PF_PEER_CALL_ID]);
			CHECK_EQ(1, got->num[PF_RESULT]);
		}
		CHECK_EQ(3, E.r.ctr[RLS_CALLS]);
		/* A good message then garbage in one read: the first counts,
		 * then the connection goes. */
		m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x50);
		n = pptp_build(&m, b, sizeof(b));
		memset(b + n, 0xEE, 20);
		feed_raw(s.in, b, n + 20);
		EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(1, E.nclose[s.in]);
		CHECK_EQ(0, E.r.ncalls);
		for (k = 0; k < 3; k++)
			EXPECT(s.up, PPTP_CCRQ);
		EXPECT(s.up, PPTP_STOPCCRQ);
	}
	env_done();
}

/* What a client sends while its start waits for the server is kept, and
 * taken up in order once the server has answered. */
static void test_held_before_start(void)
{
	uint8_t b[8 * PPTP_MAX_LEN];
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	size_t n;
	int k;

	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x61, 1);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = 9;
	n += pptp_build(&m, b + n, sizeof(b) - n);
	/* The second call's request arrives split around the wait. */
	m = ocrq(0x62, 2);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	feed_raw(in, b, n - 100);
	CHECK_EQ(0, pending(in));
	up = next_connect();
	feed_raw(in, b + n - 100, 100);
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	CHECK_EQ(0, pending(up));
	CHECK_EQ(0, pending(in));
	m = sccrp(1, 0);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	got = EXPECT(in, PPTP_ECHORP);
	CHECK_EQ(9, got->num[PF_IDENTIFIER]);
	for (k = 0; k < 2; k++) {
		got = EXPECT(up, PPTP_OCRQ);
		CHECK_EQ(k + 1, got->num[PF_CALL_SERIAL]);
	}
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(0, E.r.ctr[RLS_CTL_UNEXPECTED]);
	env_done();

	/* A server that refuses the start: what was kept goes with the
	 * client's connection. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x61, 1);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	feed_raw(in, b, n);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(2, 0);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(2, got->num[PF_RESULT]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.r.ncalls);
	env_done();

	/* Garbage kept while waiting is judged once the wait is over. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	memset(b + n, 0x5A, 40);
	feed_raw(in, b, n + 40);
	CHECK_EQ(0, E.nclose[in]);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up, &m);
	EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
	CHECK_EQ(1, E.nclose[in]);
	EXPECT(up, PPTP_STOPCCRQ);
	env_done();

	/* A client that sends without end while it waits is dropped. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	feed(in, &m);
	up = next_connect();
	for (k = 0; k < 20 && E.live[in]; k++) {
		m = ocrq((uint16_t)(0x100 + k), (uint16_t)k);
		feed(in, &m);
	}
	CHECK(k > 1 && k < 20);
	CHECK_EQ(0, E.live[in]);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
	CHECK_EQ(1, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, pending(in));
	env_done();
}

static void test_shutdown(void)
{
	struct sess s1, s2;
	struct callh c[4];
	const struct pptp_msg *got;
	uint32_t half;
	int i;

	env_init();
	s1 = sess_open(1, 1);
	s2 = sess_open(2, 1);
	c[0] = call_up(&s1, 1, 0x11);
	c[1] = call_up(&s1, 2, 0x12);
	c[2] = call_up(&s2, 1, 0x13);
	c[3] = call_up(&s2, 2, 0x14);
	/* A client half-way through its start, too. */
	half = relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now);
	E.live[half] = 1;
	{
		struct pptp_msg m = sccrq("half");

		feed(half, &m);
	}
	CHECK_EQ(5, E.nconnect);
	next_connect();
	relay_shutdown(&E.r, E.now);
	for (i = 0; i < 4; i++) {
		uint32_t in = i < 2 ? s1.in : s2.in;

		got = EXPECT(in, PPTP_CDN);
		CHECK_EQ(c[i].pac_id, got->num[PF_CALL_ID]);
		CHECK_EQ(3, got->num[PF_RESULT]);
		got = EXPECT(c[i].up, PPTP_CCRQ);
		CHECK_EQ(c[i].pns_id, got->num[PF_CALL_ID]);
	}
	for (i = 0; i < 4; i++)
		EXPECT(c[i].up, PPTP_STOPCCRQ);
	got = EXPECT(s1.in, PPTP_STOPCCRQ);
	CHECK_EQ(3, got->num[PF_REASON]);
	EXPECT(s2.in, PPTP_STOPCCRQ);
	for (i = 0; i < NSLOT; i++) {
		CHECK_EQ(0, pending((uint32_t)i));
		CHECK_EQ(0, E.live[i]);
		CHECK(E.nclose[i] <= 1);
	}
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(4, E.r.ended[RLE_SHUTDOWN]);
	CHECK_EQ(0, E.nids);
	/* The relay may be used again afterwards. */
	relay_tick(&E.r, E.now + 1);
	s1 = sess_open(1, 0);
	c[0] = call_up(&s1, 1, 0x11);
	CALL_CARRIES(&s1, &c[0], 1, 1);
	env_done();
}

static void test_call_clear(void)
{
	struct sess s;
	struct callh c, c2;
	const struct pptp_msg *got;
	uint32_t slot;

	env_init();
	s = sess_open(1, 1);
	c = call_up(&s, 0x81, 0x181);
	c2 = call_up(&s, 0x82, 0x182);
	CHECK_EQ(0, relay_call_clear(&E.r, c.slot, E.now));
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	CHECK_EQ(1, E.r.ended[RLE_ADMIN]);
	CHECK_EQ(-1, relay_call_clear(&E.r, c.slot, E.now));
	CHECK_EQ(-1, relay_call_clear(&E.r, E.r.cfg.max_calls, E.now));
	CHECK_EQ(-1, relay_call_clear(&E.r, RL_NONE, E.now));
	CALL_CARRIES(&s, &c2, 1, 1);
	/* The per-call one: its connection is stopped with it. */
	CHECK_EQ(0, relay_call_clear(&E.r, c2.slot, E.now));
	EXPECT(s.in, PPTP_CDN);
	EXPECT(c2.up, PPTP_CCRQ);
	EXPECT(c2.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);

	/* A call still waiting for its reply gets an OCRP error instead. */
	{
		struct pptp_msg m = ocrq(0x83, 1);

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_OCRQ);
		slot = 0;
		slot = first_call();
		CHECK_EQ(0, relay_call_clear(&E.r, slot, E.now));
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(0x83, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		EXPECT(s.up, PPTP_CCRQ);
	}
	env_done();
}

static void test_tables_full(void)
{
	struct rl_cfg cfg;
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in;

	/* Two calls at most: the third is refused with an OCRP error. */
	cfg_test(&cfg);
	cfg.max_calls = 2;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	call_up(&s, 1, 0x11);
	call_up(&s, 2, 0x12);
	m = ocrq(3, 3);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(1, E.r.ctr[RLS_CALLS_REFUSED]);
	CHECK_EQ(2, E.r.ncalls);
	/* And the server's incoming call: refused upstream. */
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x77);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x77, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.in));
	env_done();

	/* Three connections at most: one client with its primary, a second
	 * accepted whose start cannot go upstream, a third not accepted. */
	cfg_test(&cfg);
	cfg.max_conns = 3;
	env_init_cfg(&cfg);
	s = sess_open(1, 1);
	in = relay_accept(&E.r, CLIENT(2), 2, SERVER, E.now);
	CHECK(in != RL_NONE);
	E.live[in] = 1;
	CHECK_EQ(RL_NONE, relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now));
	CHECK_EQ(1, E.r.ctr[RLS_INSIDE_REFUSED]);
	CHECK_EQ(3, E.r.nconns);
	m = sccrq("late");
	feed(in, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(2, E.r.nconns);
	/* A slot is free again: the per-call connection takes it; then none
	 * is left for another. */
	call_up(&s, 1, 0x11);
	{
		struct callh c2 = call_up(&s, 2, 0x12);

		CHECK_EQ(1, c2.own_conn);
	}
	CHECK_EQ(3, E.r.nconns);
	m = ocrq(3, 3);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(RL_NONE, relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now));
	env_done();

	/* No Call ID to be had from the allocator. */
	env_init();
	s = sess_open(1, 0);
	E.id_fail = 1;
	m = ocrq(5, 5);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(5, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, E.r.ncalls);
	E.id_fail = 0;
	env_done();
}

/* The client places a call with the Call ID of a live one: the old call is
 * given up (cleared upstream), the new one goes on. */
static void test_client_id_reuse(void)
{
	struct sess s;
	struct callh c, c2;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x99, 0x199);
	{
		struct pptp_msg m = ocrq(0x99, 2);
		const struct pptp_msg *got;

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_CCRQ);
		CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
		got = EXPECT(s.up, PPTP_OCRQ);
		c2.pns_id = (uint16_t)got->num[PF_CALL_ID];
		m = ocrp(0x200, c2.pns_id, 1);
		feed(s.up, &m);
		got = EXPECT(s.in, PPTP_OCRP);
		c2.pac_id = (uint16_t)got->num[PF_CALL_ID];
		c2.client_id = 0x99;
		c2.server_id = 0x200;
	}
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c, 1, 10));
	CALL_CARRIES(&s, &c2, 1, 1);
	env_done();
}

/* Random sessions of a few clients: the books balance after every step,
 * and in the end every Call ID has come back and every slot is closed. */
static int sess_alive(const struct sess *s)
{
	return s->in != RL_NONE && E.live[s->in] &&
	       E.r.conns[s->in].gen == s->in_gen &&
	       E.r.conns[s->in].side == RL_INSIDE;
}

/* IDs taken by someone else (a translated call's server ID): all but one. */
static uint16_t only_free_id;
static unsigned busy_asked;

static int h_client_id_busy(void *arg, uint32_t client, uint32_t server,
			    uint16_t id)
{
	(void)arg;
	(void)server;
	busy_asked++;
	return client == CLIENT(1) && id != only_free_id;
}

/* The relay never takes a Call ID toward the client that GRE from that
 * client to that server already carries for a translated call. */
static void test_client_id_busy(void)
{
	struct sess s;
	struct callh c;

	env_init();
	E.r.hooks.client_id_busy = h_client_id_busy;
	only_free_id = 0x1234;
	busy_asked = 0;
	s = sess_open(1, 0);
	c = call_up(&s, 7, 70);
	CHECK_EQ(0x1234, c.pac_id);
	CHECK(busy_asked > 1);
	drain(s.in);
	env_done();
}

static void test_random_walk(void)
{
	int round, step;

	for (round = 0; round < 40; round++) {
		struct sess s[3];
		int n = 0, bad = 0;
		uint16_t next_cid = 1;
		struct rl_cfg cfg;
		int i;

		/* Echo far off, so that the helpers' exchanges are not
		 * interleaved with Echo-Requests. */
		cfg_test(&cfg);
		cfg.echo_idle_ms = 1u << 30;
		env_init_cfg(&cfg);
		for (step = 0; step < 60; step++) {
			uint32_t r = check_rand();
			int who = (int)(r % 3);
			struct pptp_msg m;

			/* Only what this step sends is checked. */
			for (i = 0; i < E.nmsg; i++)
				E.msg[i].read = 1;
			E.nmsg = 0;
			E.gre_read = E.ngre = 0;

			switch ((r >> 4) % 8) {
			case 0:
				if (n < 3) {
					s[n] = sess_open(n + 1, (r >> 8) & 1);
					n++;
				}
				break;
			case 1: case 2:
				if (who < n && sess_alive(&s[who]) &&
				    E.r.conns[s[who].in].state ==
				    RLC_ESTABLISHED) {
					call_up(&s[who], next_cid,
						(uint16_t)(r >> 8));
					next_cid++;
				}
				break;
			case 3:
				if (who < n && sess_alive(&s[who])) {
					m = msg_id(PPTP_CCRQ, PF_CALL_ID,
						   (uint16_t)(1 + (r >> 16) %
							      next_cid));
					feed(s[who].in, &m);
				}
				break;
			case 4:
				relay_call_clear(&E.r, (r >> 8) % 32, E.now);
				break;
			case 5:
				E.now += (r >> 8) % 20000;
				relay_tick(&E.r, E.now);
				break;
			case 6:
				if (who < n && sess_alive(&s[who]) &&
				    E.live[s[who].up] &&
				    E.r.conns[s[who].up].owner == s[who].in) {
					E.live[s[who].up] = 0;
					relay_closed(&E.r, s[who].up, E.now);
				}
				break;
			case 7:
				if (who < n && sess_alive(&s[who])) {
					E.live[s[who].in] = 0;
					relay_closed(&E.r, s[who].in, E.now);
				}
				break;
			}
			if (!books_ok(&E.r) || ids_held(&E.r) != E.nids)
				bad++;
		}
		CHECK_EQ(0, bad);
		/* Not every message was read here. */
		for (step = 0; step < E.nmsg; step++)
			E.msg[step].read = 1;
		env_done();
	}
}

int main(void)
{
	test_names();
	test_init();
	test_happy_path();
	test_max_channels_one();
	test_max_channels_unlimited();
	test_refused_retry();
	test_refused_first();
	test_servers_remembered();
	test_primary_closed();
	test_per_call_closed();
	test_server_stop();
	test_client_closed();
	test_client_stop();
	test_echo();
	test_timeouts();
	test_incoming();
	test_sli_wen_cdn();
	test_gre();
	test_two_clients();
	test_call_id_zero();
	test_hostile();
	test_bad_header_alone();
	test_split_and_coalesced();
	test_held_before_start();
	test_shutdown();
	test_call_clear();
	test_tables_full();
	test_client_id_reuse();
	test_client_id_busy();
	test_random_walk();
	return check_report();
}
