/*
 * The relay's test bench, shared by the test_relay_*.c programs: relay.c
 * as the PAC toward inside clients and the PNS toward upstream servers.
 * The test plays both peers with messages built by pptp_build, and fakes
 * the I/O layer with hooks that record everything the relay does: control
 * bytes sent per connection (parsed back with pptp_parse, so a wrong byte
 * on the wire shows as a wrong field), connect requests, closes, GRE
 * packets sent, events, and the Call IDs taken from and put back to a fake
 * allocator that knows which are out.
 *
 * Every case starts with env_init() (which clears the whole environment E)
 * and ends in env_done(), which checks the relay's books against a recount
 * of its slots, shuts it down, and then requires that nothing is left: no
 * connection open, no call, no Call ID out, no slot closed twice or closed
 * after the I/O layer reported it gone.
 *
 * Inside clients are 198.18.0.11.., the server 192.0.2.10, our public
 * address 203.0.113.1.
 */
#ifndef PPTPGW_RELAY_FIXTURE_H
#define PPTPGW_RELAY_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pktgen.h"
#include "wire/gre.h"
#include "wire/pptp_msg.h"
#include "relay/relay.h"

/* A program uses some of these helpers, not all of them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

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
	int gre_fail;           /* the next GRE sends fail (-1) */
	int gre_failed;         /* ... and how many did */
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

static int h_gre_send(void *arg, uint32_t src, uint32_t dst,
		      const uint8_t *gre, size_t len)
{
	struct env *e = arg;

	if (e->gre_fail) {
		e->gre_failed++;
		return -1;
	}
	if (e->ngre >= MAXGRE || len > sizeof(e->gre[0].b))
		return 0;
	e->gre[e->ngre].src = src;
	e->gre[e->ngre].dst = dst;
	e->gre[e->ngre].len = len;
	memcpy(e->gre[e->ngre].b, gre, len);
	e->ngre++;
	return 0;
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

#pragma GCC diagnostic pop

#endif
