/*
 * The translator's test bench, shared by the test_gw_*.c programs: gw.c
 * driven with real packets, IPv4 + TCP with correct checksums carrying PPTP
 * control messages built by pptp_build, and IPv4 + enhanced GRE.  The
 * gateway sits in front of 203.0.113.1 doing MASQUERADE for inside hosts
 * 198.18.0.x; the PPTP server is 192.0.2.10.
 *
 * Packets leaving by the WAN (DIR_OUT) still carry the inside source (TCP
 * is queued in FORWARD, GRE before SNAT); TCP arriving (DIR_IN) has already
 * been de-NATed to the inside address and port, while GRE arriving is still
 * addressed to the public address.  Every packet handed in must get exactly
 * one verdict eventually: env_done() checks that for every case, so a case
 * builds its environment with env_init() and ends with env_done().
 */
#ifndef PPTPGW_GW_FIXTURE_H
#define PPTPGW_GW_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlate/calltab.h"
#include "check.h"
#include "xlate/gw.h"
#include "pktgen.h"
#include "wire/pptp_msg.h"

/* A program uses some of these helpers, not all of them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

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
	int ev[16];
	/* The last refusal by a limit (GWE_LIMIT_REFUSED, GWE_CALL_REFUSED),
	 * or segment dropped for what it carries (GWE_SEGMENT_DROPPED). */
	uint32_t refused_host;
	int refused_why;
	int ends[END_COUNT];
	int broken;
	uint64_t now;
	int inited;
	/* nat_lookup hook: answers nat_pub when set, counts the questions;
	 * says the outside opened the connection (DNAT, a port-forwarded
	 * server) when nat_outside_opened is set. */
	uint32_t nat_pub;
	int nat_asked;
	int nat_outside_opened;
};

struct flow {
	uint32_t in, out, pub;
	uint16_t iport, oport, pport;
	uint32_t iseq, oseq;     /* next sequence number of each side */
	int inside_opened;
	uint32_t wan_if;         /* the WAN interface in the meta (0: none) */
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

	if ((unsigned)ev->type < 16)
		e->ev[ev->type]++;
	if (ev->type == GWE_LIMIT_REFUSED || ev->type == GWE_CALL_REFUSED ||
	    ev->type == GWE_SEGMENT_DROPPED) {
		e->refused_host = ev->host;
		e->refused_why = (int)ev->limit;
	}
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
	*port = e->nat_outside_opened ? 1723 : 61000;
	*inside_opened = e->nat_outside_opened ? 0 : 1;
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

/* Every packet got exactly one verdict; calls announced = calls live;
 * the per-host counts are those of the records. */
static void env_done(struct env *e)
{
	int i, bad = 0, born, live;

	if (!e->inited)
		return;
	born = e->ev[GWE_CALL_NEW] + e->ev[GWE_CALL_REFUSED];
	live = (int)(e->g.tab.ncalls_used + e->g.tab.nrefused);
	CHECK_EQ(live, born - e->ev[GWE_CALL_END]);
	CHECK(calltab_recount_ok(&e->g.tab, NULL, 0));
	gw_destroy(&e->g);
	/* every waiting segment's count given back with its verdict */
	CHECK_EQ(0u, e->g.npending);
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
	m->wan_if = f->wan_if;
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

/* Passed unmarked and untouched, for the host's own rules to judge. */
static int passed(const struct tpkt *t)
{
	return t->nverd == 1 && t->verdict == GW_PASS && t->mark == 0;
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

#pragma GCC diagnostic pop

#endif
