/*
 * Tests for gw.c, the translator, driven with real packets: IPv4 + TCP with
 * correct checksums carrying PPTP control messages built by pptp_build, and
 * IPv4 + enhanced GRE.  The gateway sits in front of 203.0.113.1 doing
 * MASQUERADE for inside hosts 198.18.0.x; the PPTP server is 192.0.2.10.
 *
 * Packets leaving by the WAN (DIR_OUT) still carry the inside source (TCP
 * is queued in FORWARD, GRE before SNAT); TCP arriving (DIR_IN) has already
 * been de-NATed to the inside address and port, while GRE arriving is still
 * addressed to the public address.  Every packet handed in must get exactly
 * one verdict eventually: env_done() checks that for every test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlate/calltab.h"
#include "check.h"
#include "xlate/gw.h"
#include "pktgen.h"
#include "wire/pptp_msg.h"

#define INSIDE(n) PG_IP(198, 18, 0, 10 + (n))   /* host 1 is 198.18.0.11 */
#define SERVER PG_IP(192, 0, 2, 10)
#define SERVER2 PG_IP(192, 0, 2, 20)
#define PUB PG_IP(203, 0, 113, 1)
#define THIRD PG_IP(192, 0, 2, 99)
#define PAC_IN PG_IP(198, 18, 0, 20)
#define PNS_OUT PG_IP(192, 0, 2, 50)

#define SEED 77
#define HOLDDOWN 60000

struct tpkt {
	struct gw_pkt gp;
	uint8_t buf[1600];
	uint8_t orig[1600];    /* as sent */
	int nverd;
	int verdict;
	uint32_t mark;
	int order;             /* verdict order, from 1 */
};

struct env {
	struct gw g;
	struct tpkt *p;
	int np, cap;
	int vorder;
	int ev[8];
	int ends[END_COUNT];
	int broken;
	uint64_t now;
	int inited;
	/* nat_lookup hook: answers nat_pub when set, counts the questions. */
	uint32_t nat_pub;
	int nat_asked;
};

struct flow {
	uint32_t in, out, pub;
	uint16_t iport, oport, pport;
	uint32_t iseq, oseq;     /* next sequence number of each side */
	int inside_opened;
};

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	struct env *e = arg;
	struct tpkt *t = &e->p[p->user];

	t->nverd++;
	t->verdict = v;
	t->mark = mark;
	t->order = ++e->vorder;
}

static void on_event(void *arg, const struct gw_event *ev)
{
	struct env *e = arg;

	if ((unsigned)ev->type < 8)
		e->ev[ev->type]++;
	if (ev->type == GWE_CALL_END && ev->end < END_COUNT)
		e->ends[ev->end]++;
	if (ev->type == GWE_CONN_BROKEN)
		e->broken++;
}

static int on_nat_lookup(void *arg, const struct conn *c, uint32_t *pub,
			 uint16_t *port, uint8_t *inside_opened)
{
	struct env *e = arg;

	(void)c;
	e->nat_asked++;
	if (!e->nat_pub)
		return -1;
	*pub = e->nat_pub;
	*port = 61000;
	*inside_opened = 1;
	return 0;
}

static int local_gre_answer = -1;   /* -1: no hook */

static int on_local_gre(void *arg)
{
	(void)arg;
	return local_gre_answer;
}

static int env_init_cfg(struct env *e, int cap, uint32_t max_calls,
			const struct gw_cfg *gcfg)
{
	struct gw_cfg cfg;
	struct calltab_cfg tc;
	struct gw_hooks h;

	memset(e, 0, sizeof(*e));
	memset(&h, 0, sizeof(h));
	h.verdict = on_verdict;
	h.event = on_event;
	h.nat_lookup = on_nat_lookup;
	if (local_gre_answer >= 0)
		h.local_gre = on_local_gre;
	e->p = calloc((size_t)cap, sizeof(*e->p));
	e->cap = cap;
	e->now = 1000000;
	if (gcfg)
		cfg = *gcfg;
	else
		gw_default_cfg(&cfg);
	memset(&tc, 0, sizeof(tc));
	tc.max_calls = max_calls;
	tc.max_conns = 32;
	tc.holddown_ms = HOLDDOWN;
	tc.seed = SEED;
	h.arg = e;
	if (!e->p || gw_init(&e->g, &cfg, &tc, &h) < 0) {
		CHECK(0);
		free(e->p);
		e->p = NULL;
		return -1;
	}
	e->inited = 1;
	return 0;
}

static int env_init(struct env *e, int cap)
{
	return env_init_cfg(e, cap, 64, NULL);
}

/* Every packet got exactly one verdict; calls announced = calls live. */
static void env_done(struct env *e)
{
	int i, bad = 0, born, live;

	if (!e->inited)
		return;
	born = e->ev[GWE_CALL_NEW] + e->ev[GWE_CALL_REFUSED];
	live = (int)(e->g.tab.ncalls_used + e->g.tab.nrefused);
	CHECK_EQ(live, born - e->ev[GWE_CALL_END]);
	gw_destroy(&e->g);
	for (i = 0; i < e->np; i++)
		if (e->p[i].nverd != 1) {
			if (bad < 5)
				fprintf(stderr, "  packet %d got %d verdicts\n",
					i, e->p[i].nverd);
			bad++;
		}
	CHECK_EQ(0, bad);
	free(e->p);
	e->p = NULL;
	e->inited = 0;
}

static struct tpkt *new_pkt(struct env *e)
{
	struct tpkt *t;

	if (e->np >= e->cap) {
		fprintf(stderr, "packet pool exhausted\n");
		abort();
	}
	t = &e->p[e->np];
	memset(t, 0, sizeof(*t));
	t->gp.user = (uint32_t)e->np;
	t->gp.id = (uint32_t)e->np;
	t->gp.data = t->buf;
	t->verdict = -1;
	e->np++;
	return t;
}

static void flow_meta(const struct flow *f, int dir, struct gw_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->dir = (uint8_t)dir;
	m->has_ct = 1;
	if (f->inside_opened) {
		m->orig_src = f->in;
		m->orig_dst = f->out;
		m->orig_sport = f->iport;
		m->orig_dport = f->oport;
		m->reply_src = f->out;
		m->reply_dst = f->pub;
		m->reply_sport = f->oport;
		m->reply_dport = f->pport;
	} else {
		/* Port forward: the outside peer opened pub:pport. */
		m->orig_src = f->out;
		m->orig_dst = f->pub;
		m->orig_sport = f->oport;
		m->orig_dport = f->pport;
		m->reply_src = f->in;
		m->reply_dst = f->out;
		m->reply_sport = f->iport;
		m->reply_dport = f->oport;
	}
}

static void flow_init(struct flow *f, uint32_t in, uint16_t iport,
		      uint32_t out, uint16_t nport)
{
	memset(f, 0, sizeof(*f));
	f->in = in;
	f->iport = iport;
	f->out = out;
	f->oport = 1723;
	f->pub = PUB;
	f->pport = nport;
	f->iseq = 1000 + (uint32_t)iport * 7;
	f->oseq = 500000 + (uint32_t)iport * 13;
	f->inside_opened = 1;
}

/* The port-forwarded case: the PAC is inside, the PNS outside opens. */
static void flow_init_pf(struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->in = PAC_IN;
	f->iport = 1723;
	f->out = PNS_OUT;
	f->oport = 40000;
	f->pub = PUB;
	f->pport = 1723;
	f->iseq = 7000;
	f->oseq = 9000;
	f->inside_opened = 0;
}

static struct tpkt *seg_at(struct env *e, struct flow *f, int dir,
			   uint32_t seq, uint8_t flags, const uint8_t *d,
			   size_t n)
{
	struct tpkt *t = new_pkt(e);
	struct gw_meta m;

	if (dir == DIR_OUT)
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->in, f->iport,
				   f->out, f->oport, seq, f->oseq, flags, d, n);
	else
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->out, f->oport,
				   f->in, f->iport, seq, f->iseq, flags, d, n);
	memcpy(t->orig, t->buf, t->gp.len);
	flow_meta(f, dir, &m);
	gw_input(&e->g, &t->gp, &m, e->now);
	return t;
}

static struct tpkt *seg(struct env *e, struct flow *f, int dir, uint8_t flags,
			const uint8_t *d, size_t n)
{
	uint32_t *s = dir == DIR_OUT ? &f->iseq : &f->oseq;
	struct tpkt *t = seg_at(e, f, dir, *s, flags, d, n);

	*s += (uint32_t)n + ((flags & (PG_SYN | PG_FIN)) ? 1 : 0);
	return t;
}

static int accepted(const struct tpkt *t)
{
	return t->nverd == 1 && t->verdict == GW_ACCEPT;
}

static int dropped(const struct tpkt *t)
{
	return t->nverd == 1 && t->verdict == GW_DROP;
}

static void handshake(struct env *e, struct flow *f)
{
	struct tpkt *a, *b, *c;

	if (f->inside_opened) {
		a = seg(e, f, DIR_OUT, PG_SYN, NULL, 0);
		b = seg(e, f, DIR_IN, PG_SYN | PG_ACK, NULL, 0);
		c = seg(e, f, DIR_OUT, PG_ACK, NULL, 0);
	} else {
		a = seg(e, f, DIR_IN, PG_SYN, NULL, 0);
		b = seg(e, f, DIR_OUT, PG_SYN | PG_ACK, NULL, 0);
		c = seg(e, f, DIR_IN, PG_ACK, NULL, 0);
	}
	CHECK(accepted(a));
	CHECK(accepted(b));
	CHECK(accepted(c));
}

static struct tpkt *msg(struct env *e, struct flow *f, int dir, unsigned type,
			uint16_t id, uint16_t peer, uint8_t result)
{
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), type, id, peer, result);

	return seg(e, f, dir, PG_ACK | PG_PSH, m, n);
}

static uint16_t pl16(const struct tpkt *t, size_t off)
{
	return pg_get16(t->buf + pg_tcp_payload_off(t->buf) + off);
}

static uint8_t pl8(const struct tpkt *t, size_t off)
{
	return t->buf[pg_tcp_payload_off(t->buf) + off];
}

/* Payload unchanged except for the two bytes at off (if off >= 0). */
static int same_but(const struct tpkt *t, int off, int len)
{
	size_t po = pg_tcp_payload_off(t->buf), n = pg_tcp_payload_len(t->buf);
	size_t i;

	for (i = 0; i < n; i++) {
		if (off >= 0 && i >= (size_t)off && i < (size_t)(off + len))
			continue;
		if (t->buf[po + i] != t->orig[po + i])
			return 0;
	}
	/* Headers untouched too (sequence numbers never move). */
	return memcmp(t->buf, t->orig, 16) == 0 &&
	       memcmp(t->buf + 20, t->orig + 20, 16) == 0;
}

static int tcp_ok(const struct tpkt *t)
{
	return pg_ip_csum_ok(t->buf) && pg_tcp_csum_ok(t->buf);
}

static struct tpkt *gre_pkt(struct env *e, int dir, uint32_t src, uint32_t dst,
			    uint16_t id, int has_seq, int has_ack)
{
	struct tpkt *t = new_pkt(e);
	struct gw_meta m;
	static const uint8_t ppp[] = { 0xff, 0x03, 0xc0, 0x21, 1, 2, 0, 4 };

	t->gp.len = pg_gre(t->buf, sizeof(t->buf), src, dst, id, has_seq,
			   has_seq ? 5 : 0, has_ack, 3, has_seq ? ppp : NULL,
			   has_seq ? sizeof(ppp) : 0);
	memcpy(t->orig, t->buf, t->gp.len);
	memset(&m, 0, sizeof(m));
	m.dir = (uint8_t)dir;
	gw_input(&e->g, &t->gp, &m, e->now);
	return t;
}

/* GRE from the inside host of f to its outside peer, carrying peer's ID. */
static struct tpkt *gre_out(struct env *e, const struct flow *f, uint16_t id)
{
	return gre_pkt(e, DIR_OUT, f->in, f->out, id, 1, 1);
}

/* GRE from the outside peer of f to the public address, carrying alias. */
static struct tpkt *gre_in(struct env *e, const struct flow *f, uint16_t id)
{
	return gre_pkt(e, DIR_IN, f->out, f->pub, id, 1, 0);
}

static struct conn *flow_conn(struct env *e, const struct flow *f)
{
	return conn_find(&e->g.tab, f->in, f->iport, f->out, f->oport);
}

/* Start a control connection and place a call with inside Call ID id. */
static uint16_t setup_call(struct env *e, struct flow *f, uint16_t id,
			   uint16_t server_id, int with_sccrq)
{
	struct tpkt *q, *r;
	uint16_t alias;

	if (with_sccrq) {
		handshake(e, f);
		CHECK(accepted(msg(e, f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
		CHECK(accepted(msg(e, f, DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	}
	q = msg(e, f, DIR_OUT, PPTP_OCRQ, id, 0, 0);
	CHECK(accepted(q));
	CHECK(tcp_ok(q));
	alias = pl16(q, 12);
	CHECK(alias != 0);
	CHECK(same_but(q, 12, 2));
	r = msg(e, f, DIR_IN, PPTP_OCRP, server_id, alias, 1);
	CHECK(accepted(r));
	CHECK(tcp_ok(r));
	CHECK_EQ(id, pl16(r, 14));
	CHECK_EQ(server_id, pl16(r, 12));
	CHECK(same_but(r, 14, 2));
	return alias;
}

/* ---- basic call ----------------------------------------------------------- */

static void test_basic_call(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t, *q, *r;
	struct conn *c;
	struct call *k;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	c = flow_conn(&e, &f);
	CHECK(c != NULL);
	CHECK_EQ(PUB, c ? c->pub : 0);
	CHECK_EQ(61000, c ? c->pub_port : 0);
	CHECK_EQ(1, c ? c->inside_opened : 0);
	/* The handshake is not modified. */
	CHECK_MEM(e.p[0].orig, e.p[0].buf, e.p[0].gp.len);
	CHECK_MEM(e.p[1].orig, e.p[1].buf, e.p[1].gp.len);

	t = msg(&e, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, c ? c->max_channels : 0);

	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	CHECK(accepted(q));
	CHECK_EQ(0, q->mark);
	alias = pl16(q, 12);
	CHECK(alias != 0);
	CHECK(alias != 1);
	CHECK(tcp_ok(q));
	CHECK(same_but(q, 12, 2));
	CHECK_EQ(1, e.ev[GWE_CALL_NEW]);
	k = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	CHECK(k != NULL);
	CHECK_EQ(1, k ? k->inside_id : 0);
	CHECK_EQ(CALL_REQUESTED, k ? k->state : 0);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_REWRITES]);

	r = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 1);
	CHECK(accepted(r));
	CHECK_EQ(1, pl16(r, 14));
	CHECK_EQ(500, pl16(r, 12));
	CHECK(tcp_ok(r));
	CHECK(same_but(r, 14, 2));
	CHECK_EQ(CALL_ESTABLISHED, k ? k->state : 0);
	CHECK_EQ(1, e.ev[GWE_CALL_UP]);
	CHECK_EQ(500, k ? k->peer_id : 0);
	CHECK_EQ(4, e.g.ctr[GC_CTRL_MSGS]);

	/* GRE out: source becomes the public address, ID untouched. */
	t = gre_out(&e, &f, 500);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_src(t->buf));
	CHECK_EQ(SERVER, pg_dst(t->buf));
	CHECK_EQ(500, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
	CHECK_EQ(e.g.cfg.mark, t->mark);
	CHECK_MEM(t->orig + 20, t->buf + 20, t->gp.len - 20);
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT]);
	CHECK_EQ((long long)t->gp.len, e.g.ctr[GC_GRE_OUT_BYTES]);

	/* GRE in: to the inside host, with its own Call ID. */
	t = gre_in(&e, &f, alias);
	CHECK(accepted(t));
	CHECK_EQ(INSIDE(1), pg_dst(t->buf));
	CHECK_EQ(SERVER, pg_src(t->buf));
	CHECK_EQ(1, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
	CHECK_EQ(e.g.cfg.mark, t->mark);
	CHECK_MEM(t->orig + 28, t->buf + 28, t->gp.len - 28);
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN]);
	/* An ack-only packet (A set, S clear, no payload) too. */
	t = gre_pkt(&e, DIR_IN, SERVER, PUB, alias, 0, 1);
	CHECK(accepted(t));
	CHECK_EQ(INSIDE(1), pg_dst(t->buf));
	CHECK_EQ(1, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
	CHECK_EQ(2, k ? k->pkts[DIR_IN] : 0);
	CHECK_EQ(1, k ? k->pkts[DIR_OUT] : 0);
	env_done(&e);
}

static void test_eight_hosts(void)
{
	struct env e;
	struct flow f[8];
	uint16_t alias[8];
	int i, j, distinct = 1;

	if (env_init(&e, 256) < 0)
		return;
	for (i = 0; i < 8; i++) {
		flow_init(&f[i], INSIDE(1 + i), 40000, SERVER,
			  (uint16_t)(61000 + i));
		alias[i] = setup_call(&e, &f[i], 1, (uint16_t)(700 + i), 1);
	}
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			if (alias[i] == alias[j])
				distinct = 0;
	CHECK(distinct);
	CHECK_EQ(8, e.g.tab.ncalls_used);
	for (i = 7; i >= 0; i--) {
		struct tpkt *t = gre_in(&e, &f[i], alias[i]);

		CHECK(accepted(t));
		CHECK_EQ(INSIDE(1 + i), pg_dst(t->buf));
		CHECK_EQ(1, pg_gre_callid(t->buf));
		CHECK(pg_ip_csum_ok(t->buf));
		t = gre_out(&e, &f[i], (uint16_t)(700 + i));
		CHECK(accepted(t));
		CHECK_EQ(PUB, pg_src(t->buf));
		CHECK_EQ(700 + i, pg_gre_callid(t->buf));
		/* Host i must not be able to use host j's server ID. */
		t = gre_out(&e, &f[i], (uint16_t)(700 + (i + 1) % 8));
		CHECK(dropped(t));
	}
	env_done(&e);
}

/* ---- messages that must not be rewritten, and those that must ----------- */

static void test_cdn_from_server(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	t = msg(&e, &f, DIR_IN, PPTP_CDN, 500, 0, 3);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.ends[END_CDN]);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, alias_held(&e.g.aliases, PUB, SERVER, alias));
	/* Late GRE is not translated to the inside any more: while the alias
	 * is held down it is dropped (delivered here it would draw an ICMP
	 * error that kills the server's other calls with us). */
	t = gre_in(&e, &f, alias);
	CHECK(dropped(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(0, t->mark);
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_LATE]);
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN_NOCALL]);
	/* After the hold-down, it is a stray for this host, still untranslated. */
	gw_tick(&e.g, e.now + HOLDDOWN);
	e.now += HOLDDOWN;
	t = gre_in(&e, &f, alias);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_NOCALL]);
	t = gre_out(&e, &f, 500);
	CHECK(dropped(t));
	CHECK_EQ(INSIDE(1), pg_src(t->buf));
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT_NOCALL]);
	env_done(&e);
}

/*
 * Inbound GRE for no call goes to this host only when something here reads
 * GRE: otherwise it would draw an ICMP protocol-unreachable, on which pptpd
 * drops every call it has with our public address.
 */
static void test_stray_gre_no_reader(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	int answer;

	for (answer = 0; answer <= 1; answer++) {
		local_gre_answer = answer;
		if (env_init(&e, 64) < 0)
			break;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		setup_call(&e, &f, 1, 500, 1);
		t = gre_in(&e, &f, 999);
		CHECK(answer ? accepted(t) : dropped(t));
		CHECK_EQ(999, pg_gre_callid(t->buf));
		CHECK_EQ(answer, e.g.ctr[GC_GRE_IN_NOCALL]);
		CHECK_EQ(!answer, e.g.ctr[GC_GRE_IN_NOCALL_DROP]);
		CHECK_EQ(0, e.g.ctr[GC_GRE_IN]);
		env_done(&e);
	}
	local_gre_answer = -1;
}

/*
 * The "auto" relay's signals: a call beyond the server's Maximum Channels,
 * and a server refusing a second call while one is up.  A refusal of a
 * lone call is no such signal.
 */
/* A control connection started, the server's reply saying max_ch. */
static void start_with_channels(struct env *e, struct flow *f, int max_ch)
{
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_SCCRP, 0, 0, 1);

	flow_init(f, INSIDE(1), 40000, SERVER, 61000);
	handshake(e, f);
	CHECK(accepted(msg(e, f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	m[24] = (uint8_t)(max_ch >> 8);
	m[25] = (uint8_t)max_ch;
	CHECK(accepted(seg(e, f, DIR_IN, PG_ACK | PG_PSH, m, n)));
}

static void test_over_limit(void)
{
	struct env e;
	struct flow f;
	struct tpkt *q;
	uint16_t alias;

	/* Maximum Channels 1, then a second request. */
	if (env_init(&e, 64) < 0)
		return;
	start_with_channels(&e, &f, 1);
	setup_call(&e, &f, 1, 500, 0);
	CHECK_EQ(0, e.ev[GWE_OVER_LIMIT]);
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0)));
	CHECK_EQ(1, e.ev[GWE_OVER_LIMIT]);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_OVER_LIMIT]);
	env_done(&e);

	/* No limit said (0), but the server refuses a second call while the
	 * first is up; then a lone call refused, which is no signal. */
	if (env_init(&e, 64) < 0)
		return;
	start_with_channels(&e, &f, 0);
	setup_call(&e, &f, 1, 500, 0);
	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0);
	alias = pl16(q, 12);
	CHECK_EQ(0, e.ev[GWE_OVER_LIMIT]);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_OCRP, 501, alias, 2)));
	CHECK_EQ(1, e.ev[GWE_OVER_LIMIT]);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_OVER_LIMIT]);
	CHECK_EQ(1, e.ends[END_FAILED]);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_CDN, 500, 0, 3)));
	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 3, 0, 0);
	alias = pl16(q, 12);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_OCRP, 502, alias, 2)));
	CHECK_EQ(1, e.ev[GWE_OVER_LIMIT]);
	CHECK_EQ(2, e.ends[END_FAILED]);
	env_done(&e);
}

static void test_sli_wen(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	/* SLI from the PNS (inside) carries the PAC's ID: untouched. */
	t = msg(&e, &f, DIR_OUT, PPTP_SLI, 500, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	/* SLI and WEN from the server carry the alias: back to the inside ID. */
	t = msg(&e, &f, DIR_IN, PPTP_SLI, alias, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(1, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	t = msg(&e, &f, DIR_IN, PPTP_WEN, alias, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(1, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	/* Echo carries no ID. */
	t = msg(&e, &f, DIR_OUT, PPTP_ECHORQ, 0, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &f, DIR_IN, PPTP_ECHORP, 0, 0, 1);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	/* An alias that is not ours passes as it is, and is counted. */
	t = msg(&e, &f, DIR_IN, PPTP_SLI, (uint16_t)(alias ^ 0x5555), 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_UNKNOWN_ALIAS]);
	env_done(&e);
}

static void test_ccrq(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct call *k;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	t = msg(&e, &f, DIR_OUT, PPTP_CCRQ, 1, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(alias, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	k = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	CHECK_EQ(CALL_CLEARING, k ? k->state : 0);
	/* GRE still flows while clearing. */
	CHECK_EQ(INSIDE(1), pg_dst(gre_in(&e, &f, alias)->buf));
	t = msg(&e, &f, DIR_IN, PPTP_CDN, 500, 0, 3);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.ends[END_CDN]);
	/* A CCRQ for an ID we never aliased goes out as 0, never as is. */
	t = msg(&e, &f, DIR_OUT, PPTP_CCRQ, 9, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(0, pl16(t, 12));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_UNKNOWN_CALL]);
	env_done(&e);
}

static void test_clearing_timeout(void)
{
	struct env e;
	struct flow f;
	uint64_t t0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	msg(&e, &f, DIR_OUT, PPTP_CCRQ, 1, 0, 0);
	t0 = e.now;
	gw_tick(&e.g, t0 + e.g.cfg.clearing_ms - 1);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	gw_tick(&e.g, t0 + e.g.cfg.clearing_ms);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_CLEAR]);
	env_done(&e);
}

static void test_ocrp_failed(void)
{
	struct env e;
	struct flow f;
	struct tpkt *q, *r;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	msg(&e, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	alias = pl16(q, 12);
	r = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 7);
	CHECK(accepted(r));
	CHECK_EQ(1, pl16(r, 14));
	CHECK_EQ(7, pl8(r, 16));
	CHECK(tcp_ok(r));
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_FAILED]);
	CHECK_EQ(0, e.ev[GWE_CALL_UP]);
	CHECK_EQ(1, alias_held(&e.g.aliases, PUB, SERVER, alias));
	CHECK(dropped(gre_in(&e, &f, alias)));
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_LATE]);
	env_done(&e);
}

static void test_stop_control(void)
{
	int dir;

	for (dir = 0; dir < 2; dir++) {
		struct env e;
		struct flow f;
		struct tpkt *t;
		uint16_t a1, a2;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		a1 = setup_call(&e, &f, 1, 500, 1);
		a2 = setup_call(&e, &f, 2, 501, 0);
		CHECK(a1 != a2);
		CHECK_EQ(2, e.g.tab.ncalls_used);
		t = msg(&e, &f, dir, dir == DIR_OUT ? PPTP_STOPCCRQ :
			PPTP_STOPCCRP, 0, 0, 1);
		CHECK(accepted(t));
		CHECK_MEM(t->orig, t->buf, t->gp.len);
		CHECK_EQ(0, e.g.tab.ncalls_used);
		CHECK_EQ(2, e.ends[END_STOP]);
		CHECK_EQ(PUB, pg_dst(gre_in(&e, &f, a2)->buf));
		env_done(&e);
	}
}

static void test_fin_rst(void)
{
	int variant;

	/* 0: FIN from inside, 1: FIN from server, 2: RST from server,
	 * 3: FIN with data from inside (a CCRQ). */
	for (variant = 0; variant < 4; variant++) {
		struct env e;
		struct flow f;
		struct tpkt *t;
		uint16_t alias;
		uint8_t m[PPTP_MAX_LEN];
		size_t n;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		alias = setup_call(&e, &f, 1, 500, 1);
		switch (variant) {
		case 0:
			t = seg(&e, &f, DIR_OUT, PG_FIN | PG_ACK, NULL, 0);
			break;
		case 1:
			t = seg(&e, &f, DIR_IN, PG_FIN | PG_ACK, NULL, 0);
			break;
		case 2:
			t = seg(&e, &f, DIR_IN, PG_RST, NULL, 0);
			break;
		default:
			n = pg_msg(m, sizeof(m), PPTP_CCRQ, 1, 0, 0);
			t = seg(&e, &f, DIR_OUT, PG_FIN | PG_ACK, m, n);
			CHECK_EQ(alias, pl16(t, 12));
			CHECK(tcp_ok(t));
			break;
		}
		CHECK(accepted(t));
		CHECK_EQ(0, e.g.tab.ncalls_used);
		CHECK_EQ(1, e.ends[END_TCP]);
		t = gre_in(&e, &f, alias);
		CHECK(dropped(t));
		CHECK_EQ(PUB, pg_dst(t->buf));
		CHECK(dropped(gre_out(&e, &f, 500)));
		/* The closing record goes away after closing_ms. */
		CHECK(flow_conn(&e, &f) != NULL);
		gw_tick(&e.g, e.now + e.g.cfg.closing_ms);
		CHECK(flow_conn(&e, &f) == NULL);
		env_done(&e);
	}
}

/* A new SYN on a closing 4-tuple starts a fresh connection. */
static void test_tuple_reuse(void)
{
	struct env e;
	struct flow f;
	uint16_t a2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	seg(&e, &f, DIR_OUT, PG_FIN | PG_ACK, NULL, 0);
	seg(&e, &f, DIR_IN, PG_FIN | PG_ACK, NULL, 0);
	f.iseq += 100000;
	f.oseq += 100000;
	a2 = setup_call(&e, &f, 1, 600, 1);
	CHECK(a2 != 0);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(CONN_OPEN, flow_conn(&e, &f) ? flow_conn(&e, &f)->state : 0);
	CHECK_EQ(1, pg_gre_callid(gre_in(&e, &f, a2)->buf));
	env_done(&e);
}

static void test_incoming_call(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint16_t alias;
	struct call *k;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	msg(&e, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	/* The server (PAC) announces an incoming call with its own ID. */
	t = msg(&e, &f, DIR_IN, PPTP_ICRQ, 600, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &f, DIR_OUT, PPTP_ICRP, 4, 600, 1);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 0 && alias != 4);
	CHECK_EQ(600, pl16(t, 14));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	t = msg(&e, &f, DIR_IN, PPTP_ICCN, alias, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(4, pl16(t, 12));
	CHECK(tcp_ok(t));
	k = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	CHECK_EQ(CALL_ESTABLISHED, k ? k->state : 0);
	CHECK_EQ(1, e.ev[GWE_CALL_UP]);
	CHECK_EQ(4, pg_gre_callid(gre_in(&e, &f, alias)->buf));
	CHECK_EQ(PUB, pg_src(gre_out(&e, &f, 600)->buf));
	env_done(&e);
}

/* The inside host reuses its Call ID: the old call is replaced. */
static void test_inside_id_reuse(void)
{
	struct env e;
	struct flow f;
	uint16_t a1, a2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	a1 = setup_call(&e, &f, 1, 500, 1);
	a2 = setup_call(&e, &f, 1, 501, 0);
	CHECK(a1 != a2);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_REPLACED]);
	CHECK_EQ(PUB, pg_dst(gre_in(&e, &f, a1)->buf));
	CHECK_EQ(INSIDE(1), pg_dst(gre_in(&e, &f, a2)->buf));
	env_done(&e);
}

/*
 * The server hands out a Call ID again that the table still gives to an
 * older call of the same host (the older control connection died unseen).
 * The older call is replaced: that must be announced like any other end,
 * or whoever mirrors calls from the events (logs, nftables maps) keeps it.
 */
static void test_peer_reuse_event(void)
{
	struct env e;
	struct flow f1, f2;
	uint16_t a1, a2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f1, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&f2, INSIDE(1), 40001, SERVER, 61001);
	a1 = setup_call(&e, &f1, 1, 500, 1);
	a2 = setup_call(&e, &f2, 1, 500, 1);
	CHECK(a1 != a2);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.g.tab.st.calls_ended[END_REPLACED]);
	CHECK_EQ(1, e.ends[END_REPLACED]);
	CHECK_EQ(PUB, pg_dst(gre_in(&e, &f1, a1)->buf));
	CHECK_EQ(INSIDE(1), pg_dst(gre_in(&e, &f2, a2)->buf));
	env_done(&e);
}

/* ---- segmentation ----------------------------------------------------------- */

static size_t build_stream(uint8_t *s, const unsigned *types,
			   const uint16_t *ids, int n)
{
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += pg_msg(s + len, PPTP_MAX_LEN, types[i], ids[i], 0, 0);
	return len;
}

/*
 * Send the stream s (n bytes) from inside, cut at the given points (sorted,
 * strictly inside 1..n-1), each piece one segment; return the rewritten
 * stream as it left, in out, and how many segments were accepted.
 */
static int send_cut(const uint8_t *s, size_t n, const size_t *cuts, int ncut,
		    uint8_t *out, int *csum_bad, uint64_t *ctr_out)
{
	struct env e;
	struct flow f;
	struct tpkt *t[400];
	uint32_t base;
	size_t from = 0;
	int i, acc = 0, nseg = ncut + 1;

	*csum_bad = 0;
	if (env_init(&e, nseg + 8) < 0)
		return -1;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	base = f.iseq;
	for (i = 0; i < nseg; i++) {
		size_t to = i < ncut ? cuts[i] : n;

		t[i] = seg_at(&e, &f, DIR_OUT, base + (uint32_t)from, PG_ACK,
			      s + from, to - from);
		from = to;
	}
	from = 0;
	for (i = 0; i < nseg; i++) {
		size_t to = i < ncut ? cuts[i] : n;

		if (accepted(t[i])) {
			acc++;
			if (!tcp_ok(t[i]))
				(*csum_bad)++;
			memcpy(out + from,
			       t[i]->buf + pg_tcp_payload_off(t[i]->buf),
			       to - from);
		} else {
			memset(out + from, 0xEE, to - from);
		}
		from = to;
	}
	/* Verdicts in stream order. */
	for (i = 1; i < nseg; i++)
		if (t[i]->order < t[i - 1]->order)
			(*csum_bad) += 1000;
	if (ctr_out)
		memcpy(ctr_out, e.g.ctr, sizeof(e.g.ctr));
	env_done(&e);
	return acc;
}

static void test_split_two(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), k;
	int bad, acc, wrong = 0, notacc = 0, csum = 0;

	acc = send_cut(s, n, NULL, 0, ref, &bad, NULL);
	CHECK_EQ(1, acc);
	CHECK_EQ(0, bad);
	CHECK(pg_get16(ref + 156 + 12) != 1);
	for (k = 1; k < n; k++) {
		acc = send_cut(s, n, &k, 1, out, &bad, NULL);
		if (acc != 2)
			notacc++;
		csum += bad;
		if (memcmp(ref, out, n) != 0) {
			if (wrong < 3)
				fprintf(stderr, "  split at %zu differs\n", k);
			wrong++;
		}
	}
	CHECK_EQ(0, notacc);
	CHECK_EQ(0, wrong);
	CHECK_EQ(0, csum);
}

/*
 * Every message in one-byte segments.  The alias can only be chosen once
 * 18 bytes of the message are in, so 17 segments have to wait for it.
 */
static void test_split_bytes(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), i, cuts[400];
	int bad, acc;
	uint64_t ctr[GC_COUNT];

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	for (i = 1; i < n; i++)
		cuts[i - 1] = i;
	acc = send_cut(s, n, cuts, (int)n - 1, out, &bad, ctr);
	CHECK_EQ((long long)n, acc);
	CHECK_EQ(0, bad);
	CHECK_MEM(ref, out, n);
	CHECK_EQ(0, ctr[GC_CTRL_HOLD_OVERFLOW]);
}

/*
 * Three segments, cut at every pair of points, over two OCRQs: the second
 * cut can end a segment inside the next message's first bytes while the
 * first segment (still held) holds part of the previous message's Call ID.
 */
static void test_split_three(void)
{
	static const unsigned types[] = { PPTP_OCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 1, 2 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), c[2];
	int bad, acc, wrong = 0, notacc = 0, csum = 0, shown = 0;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	/* The test needs both alias bytes to differ from the inside ID's. */
	CHECK(ref[12] != 0 && ref[168 + 12] != 0);
	for (c[0] = 1; c[0] < n; c[0]++) {
		for (c[1] = c[0] + 1; c[1] < n; c[1]++) {
			acc = send_cut(s, n, c, 2, out, &bad, NULL);
			if (acc != 3)
				notacc++;
			csum += bad;
			if (memcmp(ref, out, n) != 0) {
				if (shown++ < 3)
					fprintf(stderr, "  cuts %zu,%zu differ\n",
						c[0], c[1]);
				wrong++;
			}
		}
	}
	CHECK_EQ(0, notacc);
	CHECK_EQ(0, wrong);
	CHECK_EQ(0, csum);
}

/* The smallest case of the above, spelled out. */
static void test_held_segment_gets_patch(void)
{
	static const unsigned types[] = { PPTP_OCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 1, 2 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2);
	size_t cuts[2] = { 13, 168 + 5 };
	int bad, acc;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	acc = send_cut(s, n, cuts, 2, out, &bad, NULL);
	CHECK_EQ(3, acc);
	CHECK_EQ(0, bad);
	/* Byte 12 (the alias's high byte) travels in the first segment. */
	CHECK_EQ(ref[12], out[12]);
	CHECK_EQ(ref[13], out[13]);
	CHECK_MEM(ref, out, n);
}

static void test_coalesced(void)
{
	struct env e;
	struct flow f;
	uint8_t s[1024];
	size_t n = 0;
	struct tpkt *t;
	uint16_t a1, a2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	n += pg_msg(s + n, 300, PPTP_SCCRQ, 0, 0, 0);
	n += pg_msg(s + n, 300, PPTP_OCRQ, 1, 0, 0);
	n += pg_msg(s + n, 300, PPTP_ECHORQ, 0, 0, 0);
	n += pg_msg(s + n, 300, PPTP_OCRQ, 2, 0, 0);
	t = seg(&e, &f, DIR_OUT, PG_ACK, s, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	a1 = pl16(t, 156 + 12);
	a2 = pl16(t, 156 + 168 + 16 + 12);
	CHECK(a1 != 0 && a1 != 1);
	CHECK(a2 != 0 && a2 != 2 && a2 != a1);
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(4, e.g.ctr[GC_CTRL_MSGS]);
	/* Replies coalesced too, with an SLI after them. */
	n = 0;
	n += pg_msg(s + n, 300, PPTP_SCCRP, 0, 0, 1);
	n += pg_msg(s + n, 300, PPTP_OCRP, 500, a1, 1);
	n += pg_msg(s + n, 300, PPTP_OCRP, 501, a2, 1);
	n += pg_msg(s + n, 300, PPTP_SLI, a2, 0, 0);
	t = seg(&e, &f, DIR_IN, PG_ACK, s, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, pl16(t, 156 + 14));
	CHECK_EQ(2, pl16(t, 156 + 32 + 14));
	CHECK_EQ(2, pl16(t, 156 + 64 + 12));
	CHECK_EQ(2, e.ev[GWE_CALL_UP]);
	env_done(&e);
}

static void test_retransmit(void)
{
	struct env e;
	struct flow f;
	struct tpkt *q, *q2, *q3;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	q = seg(&e, &f, DIR_OUT, PG_ACK, m, n);
	CHECK(accepted(q));
	q2 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	CHECK(accepted(q2));
	CHECK_EQ(pl16(q, 12), pl16(q2, 12));
	CHECK(tcp_ok(q2));
	CHECK_MEM(q->buf, q2->buf, q->gp.len);
	/* A retransmission of part of it, and one that overlaps new data. */
	q3 = seg_at(&e, &f, DIR_OUT, s0 + 10, PG_ACK, m + 10, 20);
	CHECK(accepted(q3));
	CHECK_EQ(pl16(q, 12), pl16(q3, 2));
	CHECK(tcp_ok(q3));
	{
		uint8_t two[PPTP_MAX_LEN * 2];
		size_t n2 = pg_msg(two, sizeof(two), PPTP_OCRQ, 1, 0, 0);
		struct tpkt *q4;

		n2 += pg_msg(two + n2, sizeof(two) - n2, PPTP_OCRQ, 3, 0, 0);
		q4 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, two, n2);
		f.iseq = s0 + (uint32_t)n2;
		CHECK(accepted(q4));
		CHECK_EQ(pl16(q, 12), pl16(q4, 12));
		CHECK(pl16(q4, 168 + 12) != 3 && pl16(q4, 168 + 12) != 0);
		CHECK(tcp_ok(q4));
	}
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(2, e.ev[GWE_CALL_NEW]);
	env_done(&e);
}

/*
 * The sender retransmits a segment that the gateway is still holding (the
 * message's Call ID has not arrived yet), then the whole message.  Neither
 * copy may leave un-rewritten, only one call may come of it, and the stream
 * must not wedge: at the latest once the held piece times out, the sender's
 * next retransmission goes through, rewritten.
 */
static void test_retransmit_of_held(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b, *c, *d;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;
	int i;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	CHECK_EQ(0, a->nverd);
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	c = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	(void)b;
	/* If the full copy passed at once, it carries the alias. */
	if (accepted(c)) {
		CHECK(pl16(c, 12) != 1 && pl16(c, 12) != 0);
		CHECK(tcp_ok(c));
	}
	/* The sender keeps retransmitting; time passes. */
	d = NULL;
	for (i = 0; i < 4 && !(d && accepted(d)); i++) {
		if (!accepted(c)) {
			e.now += e.g.cfg.hold_ms;
			gw_tick(&e.g, e.now);
		}
		d = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	}
	CHECK(d && accepted(d));
	if (d && accepted(d)) {
		CHECK(pl16(d, 12) != 1 && pl16(d, 12) != 0);
		CHECK(tcp_ok(d));
		if (accepted(c))
			CHECK_EQ(pl16(c, 12), pl16(d, 12));
	}
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* And the stream still works after it. */
	{
		struct tpkt *r = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0);

		CHECK(accepted(r));
		CHECK(pl16(r, 12) != 2);
	}
	env_done(&e);
}

static void test_out_of_order(void)
{
	size_t cuts[] = { 100, 13, 17, 18 };
	int ci;

	for (ci = 0; ci < 4; ci++) {
		struct env e;
		struct flow f;
		struct tpkt *s1, *s2, *r;
		uint8_t m[PPTP_MAX_LEN];
		size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0), k = cuts[ci];
		uint32_t s0;
		uint16_t alias;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		handshake(&e, &f);
		s0 = f.iseq;
		s2 = seg_at(&e, &f, DIR_OUT, s0 + (uint32_t)k, PG_ACK, m + k,
			    n - k);
		CHECK_EQ(0, s2->nverd);
		s1 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, k);
		f.iseq = s0 + (uint32_t)n;
		CHECK(accepted(s1));
		CHECK(accepted(s2));
		CHECK(s1->order < s2->order);
		CHECK(tcp_ok(s1));
		CHECK(tcp_ok(s2));
		{
			uint8_t hi = k > 12 ? pl8(s1, 12) : pl8(s2, 12 - k);
			uint8_t lo = k > 13 ? pl8(s1, 13) : pl8(s2, 13 - k);

			alias = (uint16_t)(hi << 8 | lo);
		}
		CHECK(alias != 1 && alias != 0);
		CHECK(call_by_alias(&e.g.tab, PUB, SERVER, alias) != NULL);
		CHECK_EQ(1, e.g.tab.ncalls_used);
		r = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 1);
		CHECK_EQ(1, pl16(r, 14));
		env_done(&e);
	}
}

static void test_seq_wrap(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024];
	size_t n = build_stream(s, types, ids, 2), k;
	int bad, wrong = 0;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	/* The stream crosses 2^32 at every offset around the Call ID. */
	for (k = 150; k < 180; k++) {
		struct env e;
		struct flow f;
		struct tpkt *a, *b;
		size_t cut = 156 + 14;

		if (env_init(&e, 16) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		f.iseq = (uint32_t)(0 - k - 1);    /* SYN takes one */
		handshake(&e, &f);
		a = seg(&e, &f, DIR_OUT, PG_ACK, s, cut);
		b = seg(&e, &f, DIR_OUT, PG_ACK, s + cut, n - cut);
		if (!accepted(a) || !accepted(b) ||
		    memcmp(a->buf + 40, ref, cut) != 0 ||
		    memcmp(b->buf + 40, ref + cut, n - cut) != 0 ||
		    !tcp_ok(a) || !tcp_ok(b))
			wrong++;
		/* A retransmission across the wrap is rewritten the same. */
		f.iseq = (uint32_t)(0 - k);
		a = seg(&e, &f, DIR_OUT, PG_ACK, s, n);
		if (!accepted(a) || memcmp(a->buf + 40, ref, n) != 0)
			wrong++;
		env_done(&e);
	}
	CHECK_EQ(0, wrong);
}

/* ---- malformed input -------------------------------------------------------- */

enum mal { MAL_LEN, MAL_COOKIE, MAL_ZERO, MAL_MSGTYPE, MAL_CTRL0, MAL_CTRL16,
	   MAL_GARBAGE, MAL_AFTER_VALID, MAL_HUGE, MAL_COUNT };

static size_t make_malformed(int kind, uint8_t *b)
{
	size_t n = pg_msg(b, PPTP_MAX_LEN, PPTP_OCRQ, 1, 0, 0);

	switch (kind) {
	case MAL_LEN:
		pg_put16(b, 167);
		break;
	case MAL_COOKIE:
		pg_put32(b + 4, 0x1A2B3C4E);
		break;
	case MAL_ZERO:
		pg_put16(b, 0);
		break;
	case MAL_MSGTYPE:
		pg_put16(b + 2, 2);
		break;
	case MAL_CTRL0:
		pg_put16(b + 8, 0);
		break;
	case MAL_CTRL16:
		pg_put16(b + 8, 16);
		break;
	case MAL_GARBAGE:
		memset(b, 0xA5, 40);
		n = 40;
		break;
	case MAL_AFTER_VALID:
		memset(b + n, 0x00, 20);
		n += 20;
		break;
	case MAL_HUGE:
		pg_put16(b, 0xffff);
		break;
	}
	return n;
}

static void test_malformed(void)
{
	int kind;

	for (kind = 0; kind < MAL_COUNT; kind++) {
		struct env e;
		struct flow fa, fb;
		struct tpkt *t;
		uint8_t b[PPTP_MAX_LEN * 2];
		size_t n;
		uint16_t alias_a, alias_b;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&fa, INSIDE(1), 40000, SERVER, 61000);
		flow_init(&fb, INSIDE(2), 40000, SERVER, 61001);
		alias_a = setup_call(&e, &fa, 7, 500, 1);
		handshake(&e, &fb);
		msg(&e, &fb, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
		n = make_malformed(kind, b);
		t = seg(&e, &fa, DIR_OUT, PG_ACK, b, n);
		if (!dropped(t))
			fprintf(stderr, "  malformed kind %d not dropped\n",
				kind);
		CHECK(dropped(t));
		CHECK_EQ(1, e.g.ctr[GC_CTRL_MALFORMED]);
		CHECK_EQ(1, e.broken);
		/* A valid OCRQ before the garbage made a call of its own. */
		CHECK_EQ(kind == MAL_AFTER_VALID ? 2 : 1, e.ends[END_PROTOCOL]);
		CHECK_EQ(PUB, pg_dst(gre_in(&e, &fa, alias_a)->buf));
		/* The broken stream stays broken: nothing more leaks through. */
		t = msg(&e, &fa, DIR_OUT, PPTP_OCRQ, 8, 0, 0);
		CHECK(dropped(t));
		CHECK_EQ(0, e.g.tab.ncalls_used);
		/* Empty ACKs still pass (the TCP connection is not ours). */
		CHECK(accepted(seg(&e, &fa, DIR_OUT, PG_ACK, NULL, 0)));
		/* Another connection is unaffected. */
		alias_b = setup_call(&e, &fb, 7, 501, 0);
		CHECK(alias_b != 0);
		CHECK_EQ(INSIDE(2), pg_dst(gre_in(&e, &fb, alias_b)->buf));
		CHECK_EQ(1, e.g.tab.ncalls_used);
		/* The server side of the broken connection is still parsed. */
		CHECK(accepted(msg(&e, &fa, DIR_IN, PPTP_ECHORQ, 0, 0, 0)));
		env_done(&e);
	}
}

static void test_malformed_packets(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct gw_meta m;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	memset(&m, 0, sizeof(m));
	/* Truncated IP, outbound: dropped; inbound: not ours to judge. */
	t = new_pkt(&e);
	t->gp.len = 10;
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	t = new_pkt(&e);
	t->gp.len = 10;
	m.dir = DIR_IN;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(accepted(t));
	/* GRE with the wrong version, both ways. */
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.in, f.out, 500, 0, 0, 0,
			   0, NULL, 0);
	t->buf[21] = 0;   /* version 0 */
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.out, PUB, alias, 0, 0, 0,
			   0, NULL, 0);
	t->buf[21] = 0;
	m.dir = DIR_IN;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(2, e.g.ctr[GC_GRE_MALFORMED]);
	/* GRE payload length beyond the packet. */
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.in, f.out, 500, 0, 0, 0,
			   0, NULL, 0);
	pg_put16(t->buf + 24, 100);
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	/* Bad TCP data offset. */
	t = seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0);
	CHECK(accepted(t));
	t = new_pkt(&e);
	t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f.in, f.iport, f.out,
			   f.oport, f.iseq, f.oseq, PG_ACK, NULL, 0);
	t->buf[32] = 0x20;
	m.dir = DIR_OUT;
	m.has_ct = 0;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	/* Some other protocol: not ours. */
	t = new_pkt(&e);
	pg_ip4_hdr(t->buf, f.in, f.out, 17, 28, 1);
	t->gp.len = 28;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(accepted(t));
	/* The call survived all of it. */
	CHECK_EQ(1, pg_gre_callid(gre_in(&e, &f, alias)->buf));
	env_done(&e);
}

static void test_unsynced(void)
{
	struct env e;
	struct flow f, g;
	struct tpkt *t;
	uint8_t junk[40];

	if (env_init(&e, 64) < 0)
		return;
	memset(junk, 0x42, sizeof(junk));
	/* No SYN ever seen, data that is not a message: dropped. */
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_ACK, junk, sizeof(junk));
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_UNSYNCED]);
	CHECK(flow_conn(&e, &f) == NULL);
	/* A bare ACK of an unknown connection passes. */
	CHECK(accepted(seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0)));
	/* Picked up mid-stream at a message start (gateway restarted). */
	flow_init(&g, INSIDE(2), 40000, SERVER, 61001);
	t = msg(&e, &g, DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	CHECK(accepted(t));
	CHECK(pl16(t, 12) != 1 && pl16(t, 12) != 0);
	CHECK(tcp_ok(t));
	CHECK(flow_conn(&e, &g) != NULL);
	{
		uint16_t alias = pl16(t, 12);

		t = msg(&e, &g, DIR_IN, PPTP_OCRP, 500, alias, 1);
		CHECK(accepted(t));
		CHECK_EQ(1, pl16(t, 14));
		t = gre_in(&e, &g, alias);
		CHECK_EQ(INSIDE(2), pg_dst(t->buf));
	}
	env_done(&e);
}

/* ---- GRE ---------------------------------------------------------------------- */

static void test_gre_spoof(void)
{
	struct env e;
	struct flow f, other;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	/* A third address uses a valid alias: untranslated, to this host. */
	t = gre_pkt(&e, DIR_IN, THIRD, PUB, alias, 1, 0);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(0, t->mark);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_NOCALL]);
	/* The right server, but to another public address. */
	t = gre_pkt(&e, DIR_IN, SERVER, PUB + 1, alias, 1, 0);
	CHECK(accepted(t));
	CHECK_EQ(PUB + 1, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	/* GRE out with an unknown call: dropped, never leaks the source. */
	t = gre_out(&e, &f, 501);
	CHECK(dropped(t));
	/* Another inside host using this call's server ID. */
	flow_init(&other, INSIDE(5), 40000, SERVER, 61005);
	t = gre_out(&e, &other, 500);
	CHECK(dropped(t));
	/* To another server. */
	flow_init(&other, INSIDE(1), 40000, SERVER2, 61005);
	t = gre_out(&e, &other, 500);
	CHECK(dropped(t));
	CHECK_EQ(3, e.g.ctr[GC_GRE_OUT_NOCALL]);
	/* GRE before the server's reply: the alias works, the way out not. */
	{
		struct tpkt *q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0);
		uint16_t a2 = pl16(q, 12);

		t = gre_in(&e, &f, a2);
		CHECK_EQ(INSIDE(1), pg_dst(t->buf));
		CHECK_EQ(2, pg_gre_callid(t->buf));
	}
	env_done(&e);
}

/* ---- time ------------------------------------------------------------------------ */

static void test_hold_timeout(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	/* A header-only segment carries nothing to rewrite: it passes. */
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 10);
	CHECK(accepted(a));
	/* One byte of the Call ID in: held until the decision or hold_ms. */
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK | PG_FIN, m, 13);
	CHECK_EQ(0, a->nverd);
	gw_tick(&e.g, e.now + e.g.cfg.hold_ms - 1);
	CHECK_EQ(0, a->nverd);
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	/* Then cut before the ID region (and its FIN): the header goes. */
	CHECK(accepted(a));
	CHECK_EQ(40 + 12, a->gp.len);
	CHECK_EQ(40 + 12, a->buf[2] << 8 | a->buf[3]);
	CHECK_EQ(0, a->buf[33] & PG_FIN);
	CHECK(tcp_ok(a));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_HOLD_TIMEOUT]);
	/* The sender retransmits; it is parsed afresh and rewritten. */
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	CHECK(accepted(b));
	CHECK(pl16(b, 12) != 1 && pl16(b, 12) != 0);
	CHECK(tcp_ok(b));
	CHECK_EQ(1, e.g.tab.ncalls_used);
	env_done(&e);
}

static void test_hold_overflow_and_ooo_limit(void)
{
	struct env e;
	struct flow f;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	struct tpkt *t[64];
	uint32_t s0;
	int i, dropped_n = 0;

	if (env_init(&e, 128) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	/* Out-of-order: more than GW_OOO_MAX segments beyond a gap. */
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		t[i] = seg_at(&e, &f, DIR_OUT, s0 + 20 + (uint32_t)i, PG_ACK,
			      m + 20 + i, 1);
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		dropped_n += dropped(t[i]);
	CHECK_EQ(2, dropped_n);
	CHECK_EQ(2, e.g.ctr[GC_CTRL_OOO_DROP]);
	/* They time out if the gap is never filled. */
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	dropped_n = 0;
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		dropped_n += dropped(t[i]);
	CHECK_EQ(GW_OOO_MAX + 2, dropped_n);
	/* Then the whole message arrives and passes. */
	t[0] = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	CHECK(accepted(t[0]));
	env_done(&e);
}

static void test_idle_and_holddown(void)
{
	struct env e;
	struct flow f;
	uint16_t alias;
	uint64_t t0;
	struct tpkt *t;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	/* GRE keeps the call alive. */
	e.now += e.g.cfg.call_idle_ms - 1;
	gre_in(&e, &f, alias);
	seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0);
	t0 = e.now;
	gw_tick(&e.g, t0 + e.g.cfg.call_idle_ms - 1);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	gw_tick(&e.g, t0 + e.g.cfg.call_idle_ms);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_IDLE]);
	CHECK_EQ(1, alias_held(&e.g.aliases, PUB, SERVER, alias));
	gw_tick(&e.g, t0 + e.g.cfg.call_idle_ms + HOLDDOWN - 1);
	CHECK_EQ(1, alias_held(&e.g.aliases, PUB, SERVER, alias));
	e.now = t0 + e.g.cfg.call_idle_ms + HOLDDOWN;
	gw_tick(&e.g, e.now);
	CHECK_EQ(0, alias_held(&e.g.aliases, PUB, SERVER, alias));
	t = gre_in(&e, &f, alias);
	CHECK_EQ(PUB, pg_dst(t->buf));
	env_done(&e);
}

static void test_request_timeout_and_conn_idle(void)
{
	struct env e;
	struct flow f;
	uint64_t t0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	msg(&e, &f, DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	t0 = e.now;
	gw_tick(&e.g, t0 + e.g.cfg.request_ms - 1);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	gw_tick(&e.g, t0 + e.g.cfg.request_ms);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_FAILED]);
	CHECK(flow_conn(&e, &f) != NULL);
	gw_tick(&e.g, t0 + e.g.cfg.conn_idle_ms);
	CHECK(flow_conn(&e, &f) == NULL);
	env_done(&e);
}

static void test_conn_gone_and_admin(void)
{
	struct env e;
	struct flow f, g;
	uint16_t a1;
	struct call *k;
	struct tpkt *held;
	uint8_t m[PPTP_MAX_LEN];

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&g, INSIDE(2), 40000, SERVER, 61001);
	setup_call(&e, &f, 1, 500, 1);
	a1 = setup_call(&e, &g, 1, 501, 1);
	/* A held segment on f is dropped when the connection goes. */
	pg_msg(m, sizeof(m), PPTP_OCRQ, 2, 0, 0);
	held = seg_at(&e, &f, DIR_OUT, f.iseq, PG_ACK, m, 13);
	CHECK_EQ(0, held->nverd);
	gw_conn_gone(&e.g, f.in, f.iport, f.out, f.oport, e.now);
	CHECK(dropped(held));
	CHECK_EQ(1, e.ends[END_CONN_GONE]);
	CHECK(flow_conn(&e, &f) == NULL);
	k = call_by_alias(&e.g.tab, PUB, SERVER, a1);
	CHECK(k != NULL);
	CHECK_EQ(-1, gw_call_clear(&e.g, e.g.tab.ncalls_cap, e.now));
	if (k) {
		CHECK_EQ(0, gw_call_clear(&e.g, (uint32_t)(k - e.g.tab.calls),
					  e.now));
		CHECK_EQ(-1, gw_call_clear(&e.g, (uint32_t)(k - e.g.tab.calls),
					   e.now));
	}
	CHECK_EQ(1, e.ends[END_ADMIN]);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	env_done(&e);
}

/* ---- table full ------------------------------------------------------------------ */

static void test_table_full(void)
{
	struct env e;
	struct flow f[3];
	struct tpkt *q, *r;
	uint16_t alias;
	int i;

	if (env_init_cfg(&e, 128, 2, NULL) < 0)
		return;
	for (i = 0; i < 2; i++) {
		flow_init(&f[i], INSIDE(1 + i), 40000, SERVER,
			  (uint16_t)(61000 + i));
		setup_call(&e, &f[i], 1, (uint16_t)(500 + i), 1);
	}
	flow_init(&f[2], INSIDE(3), 40000, SERVER, 61002);
	handshake(&e, &f[2]);
	msg(&e, &f[2], DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f[2], DIR_IN, PPTP_SCCRP, 0, 0, 1);
	q = msg(&e, &f[2], DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	CHECK(accepted(q));
	alias = pl16(q, 12);
	CHECK(alias != 0 && alias != 1);
	CHECK(tcp_ok(q));
	CHECK_EQ(1, e.ev[GWE_CALL_REFUSED]);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_REFUSED]);
	CHECK_EQ(1, e.g.tab.nrefused);
	/* GRE of a refused call is never translated. */
	CHECK_EQ(PUB, pg_dst(gre_in(&e, &f[2], alias)->buf));
	r = msg(&e, &f[2], DIR_IN, PPTP_OCRP, 502, alias, 1);
	CHECK(accepted(r));
	CHECK_EQ(1, pl16(r, 14));
	CHECK_EQ(2, pl8(r, 16));
	CHECK_EQ(4, pl8(r, 17));
	CHECK_EQ(502, pl16(r, 12));
	CHECK(tcp_ok(r));
	CHECK(same_but(r, 14, 4));
	CHECK_EQ(0, e.g.tab.nrefused);
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK(dropped(gre_out(&e, &f[2], 502)));
	/* After one call ends, a new one gets through. */
	msg(&e, &f[0], DIR_IN, PPTP_CDN, 500, 0, 3);
	q = msg(&e, &f[2], DIR_OUT, PPTP_OCRQ, 2, 0, 0);
	r = msg(&e, &f[2], DIR_IN, PPTP_OCRP, 503, pl16(q, 12), 1);
	CHECK_EQ(1, pl8(r, 16));
	CHECK_EQ(2, pl16(r, 14));
	CHECK_EQ(2, e.g.tab.ncalls_used);
	env_done(&e);
}

/* ---- port-forwarded server inside --------------------------------------------- */

static void test_port_forward(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct conn *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init_pf(&f);
	handshake(&e, &f);
	c = flow_conn(&e, &f);
	CHECK(c != NULL);
	CHECK_EQ(0, c ? c->inside_opened : 1);
	CHECK_EQ(PUB, c ? c->pub : 0);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	/* The outside PNS's own ID passes untouched. */
	t = msg(&e, &f, DIR_IN, PPTP_OCRQ, 7, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	/* The inside PAC's ID is aliased in its reply. */
	t = msg(&e, &f, DIR_OUT, PPTP_OCRP, 3, 7, 1);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 0 && alias != 3);
	CHECK_EQ(7, pl16(t, 14));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.ev[GWE_CALL_UP]);
	/* GRE from the PNS to the alias reaches the PAC with its own ID. */
	t = gre_in(&e, &f, alias);
	CHECK(accepted(t));
	CHECK_EQ(PAC_IN, pg_dst(t->buf));
	CHECK_EQ(3, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
	t = gre_out(&e, &f, 7);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_src(t->buf));
	CHECK_EQ(7, pg_gre_callid(t->buf));
	/* SLI from the PNS names the PAC's ID (the alias): restored. */
	t = msg(&e, &f, DIR_IN, PPTP_SLI, alias, 0, 0);
	CHECK_EQ(3, pl16(t, 12));
	CHECK(tcp_ok(t));
	/* WEN from the PAC names the PNS's ID: untouched. */
	t = msg(&e, &f, DIR_OUT, PPTP_WEN, 7, 0, 0);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	/* The PNS clears with its own ID; the PAC's CDN carries its own. */
	t = msg(&e, &f, DIR_IN, PPTP_CCRQ, 7, 0, 0);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(CALL_CLEARING, call_by_alias(&e.g.tab, PUB, PNS_OUT, alias) ?
		 call_by_alias(&e.g.tab, PUB, PNS_OUT, alias)->state : 0);
	t = msg(&e, &f, DIR_OUT, PPTP_CDN, 3, 0, 3);
	CHECK(accepted(t));
	CHECK_EQ(alias, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.ends[END_CDN]);
	CHECK_EQ(PUB, pg_dst(gre_in(&e, &f, alias)->buf));
	env_done(&e);
}

/*
 * Port forward with the table full: the PAC's reply is the only message
 * the gateway can turn into a refusal, so it should carry one.
 */
static void test_port_forward_full(void)
{
	struct env e;
	struct flow f, h;
	struct tpkt *t;

	if (env_init_cfg(&e, 64, 1, NULL) < 0)
		return;
	flow_init(&h, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &h, 1, 500, 1);
	flow_init_pf(&f);
	handshake(&e, &f);
	msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1);
	msg(&e, &f, DIR_IN, PPTP_OCRQ, 7, 0, 0);
	{
		/* The reply in two pieces: the call is known (refused) before
		 * the reply is complete.  Its GRE must not go out meanwhile. */
		uint8_t b[PPTP_MAX_LEN];
		size_t n = pg_msg(b, sizeof(b), PPTP_OCRP, 3, 7, 1);
		struct tpkt *a;

		a = seg(&e, &f, DIR_OUT, PG_ACK, b, 20);
		CHECK(accepted(a));
		CHECK_EQ(1, e.ev[GWE_CALL_REFUSED]);
		CHECK(dropped(gre_out(&e, &f, 7)));
		CHECK(pl16(a, 12) != 3);
		t = seg(&e, &f, DIR_OUT, PG_ACK, b + 20, n - 20);
		CHECK(accepted(t));
		/* The result byte travels in the first piece. */
		t = a;
	}
	/* The outside PNS must not be told "connected" for a call whose GRE
	 * the gateway will never carry. */
	CHECK(pl8(t, 16) != 1);
	CHECK(tcp_ok(t));
	env_done(&e);
}

/* No conntrack data in the meta: the public address comes from the hook. */
static void test_nat_lookup(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct gw_meta m;
	uint8_t b[PPTP_MAX_LEN];
	size_t n;
	uint16_t alias;
	int i;

	if (env_init(&e, 64) < 0)
		return;
	e.nat_pub = PUB;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	/* Handshake and OCRQ without conntrack data. */
	for (i = 0; i < 4; i++) {
		t = new_pkt(&e);
		if (i == 3) {
			n = pg_msg(b, sizeof(b), PPTP_OCRQ, 1, 0, 0);
			t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f.in, f.iport,
					   f.out, f.oport, f.iseq, f.oseq,
					   PG_ACK, b, n);
			f.iseq += (uint32_t)n;
		} else if (i == 1) {
			t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f.out,
					   f.oport, f.in, f.iport, f.oseq++,
					   f.iseq, PG_SYN | PG_ACK, NULL, 0);
		} else {
			t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f.in, f.iport,
					   f.out, f.oport, f.iseq, f.oseq,
					   i == 0 ? PG_SYN : PG_ACK, NULL, 0);
			if (i == 0)
				f.iseq++;
		}
		memcpy(t->orig, t->buf, t->gp.len);
		memset(&m, 0, sizeof(m));
		m.dir = i == 1 ? DIR_IN : DIR_OUT;
		gw_input(&e.g, &t->gp, &m, e.now);
		CHECK(accepted(t));
	}
	CHECK(e.nat_asked >= 1);
	CHECK_EQ(PUB, flow_conn(&e, &f) ? flow_conn(&e, &f)->pub : 0);
	alias = pl16(t, 12);
	CHECK(alias != 0 && alias != 1);
	t = gre_in(&e, &f, alias);
	CHECK_EQ(INSIDE(1), pg_dst(t->buf));
	CHECK_EQ(1, pg_gre_callid(t->buf));
	env_done(&e);
}

/*
 * The gateway restarts while a port-forwarded server (the PAC, inside) has
 * a control connection open: the first packet it sees is the outside PNS's
 * OCRQ.  Conntrack still says who opened the connection (orig_src is the
 * outside PNS), so the public address is orig_dst, not reply_dst.
 */
static void test_port_forward_midstream(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct conn *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init_pf(&f);
	t = msg(&e, &f, DIR_IN, PPTP_OCRQ, 7, 0, 0);
	CHECK(accepted(t));
	c = flow_conn(&e, &f);
	CHECK(c != NULL);
	CHECK_EQ(PUB, c ? c->pub : 0);
	t = msg(&e, &f, DIR_OUT, PPTP_OCRP, 3, 7, 1);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 3);
	t = gre_in(&e, &f, alias);
	CHECK_EQ(PAC_IN, pg_dst(t->buf));
	CHECK_EQ(3, pg_gre_callid(t->buf));
	t = gre_out(&e, &f, 7);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_src(t->buf));
	env_done(&e);
}

/*
 * A PNS clearing many calls at once: its CCRQs coalesce into one segment
 * (70 x 16 bytes fit in one MSS).  Every one must carry its alias, never
 * the inside ID, and a retransmission of the segment must be rewritten the
 * same way.
 */
static void test_many_rewrites_one_segment(void)
{
	enum { N = 70 };
	struct env e;
	struct flow f;
	struct tpkt *t, *r;
	uint8_t b[N * 16];
	uint16_t alias[N];
	size_t n = 0;
	uint32_t s0;
	int i, wrong = 0, wrong_r = 0;

	if (env_init_cfg(&e, 512, 128, NULL) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	for (i = 0; i < N; i++)
		alias[i] = setup_call(&e, &f, (uint16_t)(i + 1),
				      (uint16_t)(900 + i), i == 0);
	CHECK_EQ(N, e.g.tab.ncalls_used);
	for (i = 0; i < N; i++)
		n += pg_msg(b + n, 16, PPTP_CCRQ, (uint16_t)(i + 1), 0, 0);
	s0 = f.iseq;
	t = seg(&e, &f, DIR_OUT, PG_ACK, b, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	for (i = 0; i < N; i++)
		if (pl16(t, (size_t)i * 16 + 12) != alias[i])
			wrong++;
	CHECK_EQ(0, wrong);
	r = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, b, n);
	CHECK(accepted(r));
	if (accepted(r))
		for (i = 0; i < N; i++)
			if (pl16(r, (size_t)i * 16 + 12) != alias[i])
				wrong_r++;
	CHECK_EQ(0, wrong_r);
	env_done(&e);
}

/*
 * A SYN that carries data (TCP Fast Open): the data starts at the SYN's
 * sequence number plus one.
 */
static void test_syn_with_data(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint8_t b[PPTP_MAX_LEN];
	size_t n = pg_msg(b, sizeof(b), PPTP_SCCRQ, 0, 0, 0);

	if (env_init(&e, 16) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_SYN, b, n);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	env_done(&e);
}

/* More control connections than the table holds: the SYN is refused. */
static void test_conn_table_full(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint32_t i, max;

	if (env_init(&e, 256) < 0)
		return;
	max = e.g.tab.cfg.max_conns;
	for (i = 0; i < max; i++) {
		flow_init(&f, INSIDE(1), (uint16_t)(40000 + i), SERVER, 61000);
		CHECK(accepted(seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0)));
	}
	flow_init(&f, INSIDE(1), (uint16_t)(40000 + max), SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0);
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_CONN_FULL]);
	env_done(&e);
}

/*
 * The inside host's last segment, with FIN, overtakes the one before it.
 * Once the gap is filled the FIN is in order and must end the calls just as
 * an in-order FIN does.
 */
static void test_fin_out_of_order(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_ECHORQ, 0, 0, 0);
	uint32_t s0;
	struct conn *c;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	s0 = f.iseq;
	b = seg_at(&e, &f, DIR_OUT, s0 + 8, PG_FIN | PG_ACK, m + 8, n - 8);
	CHECK_EQ(0, b->nverd);
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 8);
	f.iseq = s0 + (uint32_t)n + 1;
	CHECK(accepted(a));
	CHECK(accepted(b));
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_TCP]);
	c = flow_conn(&e, &f);
	CHECK_EQ(CONN_CLOSING, c ? c->state : 0);
	env_done(&e);
}

/*
 * The NAT lookup cannot answer yet when the first call is placed (the hook
 * says "not known (yet)").  Once it can, later calls on the connection must
 * be scoped by the public address, or their GRE never comes back.
 */
static struct tpkt *raw_seg(struct env *e, struct flow *f, int dir,
			    const uint8_t *d, size_t n)
{
	struct tpkt *t = new_pkt(e);
	struct gw_meta m;

	if (dir == DIR_OUT) {
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->in, f->iport,
				   f->out, f->oport, f->iseq, f->oseq, PG_ACK,
				   d, n);
		f->iseq += (uint32_t)n;
	} else {
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->out, f->oport,
				   f->in, f->iport, f->oseq, f->iseq, PG_ACK,
				   d, n);
		f->oseq += (uint32_t)n;
	}
	memcpy(t->orig, t->buf, t->gp.len);
	memset(&m, 0, sizeof(m));   /* no conntrack data */
	m.dir = (uint8_t)dir;
	gw_input(&e->g, &t->gp, &m, e->now);
	return t;
}

static void test_nat_lookup_later(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint8_t b[PPTP_MAX_LEN];
	uint16_t alias;
	uint32_t s0;
	size_t n = pg_msg(b, sizeof(b), PPTP_OCRQ, 1, 0, 0);

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	/* The lookup cannot answer: the call is refused for now (its GRE
	 * could only leave with the private source), nothing leaves. */
	s0 = f.iseq;
	t = raw_seg(&e, &f, DIR_OUT, b, n);
	CHECK(dropped(t));
	CHECK(e.nat_asked >= 1);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_NO_BINDING]);
	/* Now it can; the sender's retransmission makes the call, scoped by
	 * the public address. */
	e.nat_pub = PUB;
	f.iseq = s0;
	t = raw_seg(&e, &f, DIR_OUT, b, n);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 1 && alias != 0);
	CHECK_EQ(PUB, flow_conn(&e, &f) ? flow_conn(&e, &f)->pub : 0);
	t = gre_in(&e, &f, alias);
	CHECK_EQ(INSIDE(1), pg_dst(t->buf));
	CHECK_EQ(1, pg_gre_callid(t->buf));
	env_done(&e);
}

/*
 * A server may only name aliases of calls on the connection it speaks on:
 * another host's alias on this connection is not translated (it would
 * reveal that host's Call ID and let one control connection touch another's
 * call).
 */
static void test_cross_conn_alias(void)
{
	struct env e;
	struct flow f1, f2;
	struct tpkt *t;
	struct call *k;
	uint16_t a1;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f1, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&f2, INSIDE(2), 40000, SERVER, 61001);
	a1 = setup_call(&e, &f1, 0x1234, 500, 1);
	handshake(&e, &f2);
	t = msg(&e, &f2, DIR_IN, PPTP_SLI, a1, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &f2, DIR_IN, PPTP_OCRP, 777, a1, 7);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(2, e.g.ctr[GC_CTRL_UNKNOWN_ALIAS]);
	k = call_by_alias(&e.g.tab, PUB, SERVER, a1);
	CHECK(k != NULL);
	CHECK_EQ(CALL_ESTABLISHED, k ? k->state : 0);
	CHECK_EQ(500, k ? k->peer_id : 0);
	/* A CDN on the wrong connection does not end host 1's call either. */
	msg(&e, &f2, DIR_IN, PPTP_CDN, 500, 0, 3);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(0x1234, pg_gre_callid(gre_in(&e, &f1, a1)->buf));
	env_done(&e);
}

/*
 * A held segment that already carried a whole OCRQ (its call made, its
 * alias chosen) times out: the retransmission must reuse that alias, not
 * make a second call for it.
 */
static void test_hold_timeout_after_decided(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN * 2];
	size_t n;
	uint32_t s0;
	uint16_t first;
	struct call *k;

	if (env_init(&e, 64) < 0)
		return;
	n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	n += pg_msg(m + n, sizeof(m) - n, PPTP_OCRQ, 2, 0, 0);
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 168 + 13);
	CHECK_EQ(0, a->nverd);
	k = call_by_inside(&e.g.tab, flow_conn(&e, &f), 1);
	first = k ? k->alias : 0;
	CHECK(first != 0);
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	/* Cut after the second header: the first OCRQ goes out rewritten. */
	CHECK(accepted(a));
	CHECK_EQ(40 + 168 + 12, a->gp.len);
	CHECK_EQ(first, pl16(a, 12));
	CHECK(tcp_ok(a));
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	CHECK(accepted(b));
	CHECK_EQ(first, pl16(b, 12));
	CHECK(pl16(b, 168 + 12) != 2 && pl16(b, 168 + 12) != first);
	CHECK(tcp_ok(b));
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(2, e.ev[GWE_CALL_NEW]);
	env_done(&e);
}

/* A SYN on a running stream (a spoofed SYN-ACK, say) must not resync it. */
static void test_syn_midstream(void)
{
	struct env e;
	struct flow f;
	struct tpkt *held, *t, *rest;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;
	struct call *k;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	held = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	CHECK_EQ(0, held->nverd);
	t = seg_at(&e, &f, DIR_OUT, 0x12345678, PG_SYN | PG_ACK, NULL, 0);
	CHECK_EQ(1, t->nverd);
	t = seg_at(&e, &f, DIR_OUT, s0 + 13, PG_ACK, NULL, 0);
	CHECK(accepted(t));
	CHECK_EQ(0, held->nverd);   /* still held: its Call ID is undecided */
	rest = seg_at(&e, &f, DIR_OUT, s0 + 13, PG_ACK, m + 13, n - 13);
	CHECK(accepted(held));
	CHECK(accepted(rest));
	/* The Call ID straddles the two: byte 12 held, byte 13 in rest. */
	k = call_by_inside(&e.g.tab, flow_conn(&e, &f), 1);
	alias = (uint16_t)((pl16(held, 12) & 0xff00) | (pl16(rest, 0) >> 8));
	CHECK_EQ(k ? k->alias : 0, alias);
	CHECK(tcp_ok(held));
	CHECK(tcp_ok(rest));
	f.iseq = s0 + (uint32_t)n;
	/* From the server's side too: its stream keeps its place. */
	t = seg_at(&e, &f, DIR_IN, 0x0badf00d, PG_SYN | PG_ACK, NULL, 0);
	CHECK_EQ(1, t->nverd);
	t = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 1);
	CHECK(accepted(t));
	CHECK_EQ(1, pl16(t, 14));

	CHECK_EQ(0, e.g.ctr[GC_CTRL_OOO_DROP]);
	env_done(&e);
}

/* Inbound GRE to a refused call's alias is neither translated nor given to
 * this host (an ICMP error back would end the server's other calls). */
static void test_refused_call_gre_dropped(void)
{
	struct env e;
	struct flow f, g;
	struct tpkt *q, *t;
	uint16_t alias;

	if (env_init_cfg(&e, 64, 1, NULL) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&g, INSIDE(2), 40000, SERVER, 61001);
	setup_call(&e, &f, 1, 500, 1);
	handshake(&e, &g);
	msg(&e, &g, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &g, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	q = msg(&e, &g, DIR_OUT, PPTP_OCRQ, 7, 0, 0);
	CHECK(accepted(q));
	alias = pl16(q, 12);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_REFUSED]);
	t = gre_in(&e, &g, alias);
	CHECK(dropped(t));
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN_NOCALL]);
	env_done(&e);
}

int main(void)
{
	test_syn_midstream();
	test_refused_call_gre_dropped();
	test_basic_call();
	test_eight_hosts();
	test_cdn_from_server();
	test_stray_gre_no_reader();
	test_over_limit();
	test_sli_wen();
	test_ccrq();
	test_clearing_timeout();
	test_ocrp_failed();
	test_stop_control();
	test_fin_rst();
	test_tuple_reuse();
	test_incoming_call();
	test_inside_id_reuse();
	test_peer_reuse_event();
	test_split_two();
	test_split_bytes();
	test_split_three();
	test_held_segment_gets_patch();
	test_coalesced();
	test_retransmit();
	test_retransmit_of_held();
	test_out_of_order();
	test_seq_wrap();
	test_malformed();
	test_malformed_packets();
	test_unsynced();
	test_gre_spoof();
	test_hold_timeout();
	test_hold_overflow_and_ooo_limit();
	test_idle_and_holddown();
	test_request_timeout_and_conn_idle();
	test_conn_gone_and_admin();
	test_table_full();
	test_port_forward();
	test_port_forward_full();
	test_nat_lookup();
	test_port_forward_midstream();
	test_many_rewrites_one_segment();
	test_syn_with_data();
	test_conn_table_full();
	test_fin_out_of_order();
	test_nat_lookup_later();
	test_cross_conn_alias();
	test_hold_timeout_after_decided();
	return check_report();
}
