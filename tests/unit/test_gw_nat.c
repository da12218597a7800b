/*
 * Where the translator gets the public address from: conntrack in the
 * packet's meta, or the NAT lookup hook when there is none (and when it
 * cannot answer yet); a port-forwarded server inside, from its handshake
 * or picked up mid-stream.  The bench is in gw_fixture.h.
 */
#include "gw_fixture.h"

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
 * Several public addresses (an SNAT pool, several WAN links): hosts with
 * the same Call ID to one server, NATed to two addresses and leaving by
 * two interfaces.  Aliases are scoped per (public address, server), each
 * call's GRE leaves from its connection's public address, and each call
 * names the WAN its connection leaves by (what the tc-BPF engine checks
 * its route against: a fwmark routes after that program); an inbound
 * segment's interface does not change it.
 */
#define PUB2 PG_IP(192, 0, 2, 1)
static void test_several_pubs(void)
{
	struct env e;
	struct flow f[4];
	struct call *c;
	struct call_xlat x;
	struct tpkt *t;
	uint16_t alias[4];
	int i;

	if (env_init(&e, 128) < 0)
		return;
	for (i = 0; i < 4; i++) {
		flow_init(&f[i], INSIDE(i + 1), 40000, SERVER,
			  (uint16_t)(50000 + i));
		f[i].pub = i < 2 ? PUB : PUB2;
		f[i].wan_if = i < 2 ? 3 : 5;
		alias[i] = setup_call(&e, &f[i], 4660, (uint16_t)(100 + i), 1);
	}
	CHECK(alias[0] != alias[1]);
	CHECK(alias[2] != alias[3]);
	for (i = 0; i < 4; i++) {
		c = call_by_alias(&e.g.tab, f[i].pub, SERVER, alias[i]);
		CHECK(c != NULL);
		if (!c)
			continue;
		CHECK_EQ(INSIDE(i + 1), c->inside);
		x = call_xlat(c);
		CHECK_EQ(f[i].pub, x.pub);
		CHECK_EQ(f[i].wan_if, x.wan_if);
		t = gre_out(&e, &f[i], (uint16_t)(100 + i));
		CHECK(accepted(t));
		CHECK_EQ(f[i].pub, pg_src(t->buf));
		t = gre_in(&e, &f[i], alias[i]);
		CHECK(accepted(t));
		CHECK_EQ(INSIDE(i + 1), pg_dst(t->buf));
		CHECK_EQ(4660, pg_gre_callid(t->buf));
	}
	/* The server's answers come in by another link: the WAN stays. */
	f[3].wan_if = 3;
	CHECK(accepted(msg(&e, &f[3], DIR_IN, PPTP_ECHORQ, 0, 0, 0)));
	c = call_by_alias(&e.g.tab, PUB2, SERVER, alias[3]);
	CHECK_EQ(5u, c ? call_xlat(c).wan_if : 0);
	CHECK_EQ(5u, flow_conn(&e, &f[3]) ? flow_conn(&e, &f[3])->wan_if : 0);
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

/* A segment of f with no conntrack data in its meta. */
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

/*
 * The NAT lookup cannot answer yet when the first call is placed (the hook
 * says "not known (yet)").  Once it can, later calls on the connection must
 * be scoped by the public address, or their GRE never comes back.
 */
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

/* ---- the mirrored placement: the PAC inside, behind a port forward ------ */

#define PAC_IN2 PG_IP(198, 18, 0, 21)

/* A port-forwarded control connection from outside host out:oport to the
 * inside server in:1723 (the public end is PUB:1723). */
static void pf_flow(struct flow *f, uint32_t in, uint32_t out, uint16_t oport)
{
	flow_init_pf(f);
	f->in = in;
	f->out = out;
	f->oport = oport;
	f->iseq = 7000 + (uint32_t)oport * 3;
	f->oseq = 9000 + (uint32_t)oport * 5;
}

/* The outside PNS opens the connection and asks for an outgoing call with
 * its ID pns; the inside PAC answers "connected" with its ID pac.  Checks
 * the rewrites; returns the alias the PNS saw for pac. */
static uint16_t pf_call(struct env *e, struct flow *f, uint16_t pns,
			uint16_t pac)
{
	struct tpkt *t;
	uint16_t alias;

	handshake(e, f);
	CHECK(accepted(msg(e, f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(e, f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	t = msg(e, f, DIR_IN, PPTP_OCRQ, pns, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(e, f, DIR_OUT, PPTP_OCRP, pac, pns, 1);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 0);
	CHECK_EQ(pns, pl16(t, 14));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	return alias;
}

/* GRE both ways of a mirrored call: from the PNS to the alias reaches the
 * PAC with its own ID; from the PAC (keyed by the PNS's ID) leaves from the
 * public address, key unchanged. */
static void pf_gre_ok(struct env *e, const struct flow *f, uint16_t alias,
		      uint16_t pac, uint16_t pns)
{
	struct tpkt *t = gre_in(e, f, alias);

	CHECK(accepted(t));
	CHECK_EQ(f->in, pg_dst(t->buf));
	CHECK_EQ(pac, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
	t = gre_out(e, f, pns);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_src(t->buf));
	CHECK_EQ(f->out, pg_dst(t->buf));
	CHECK_EQ(pns, pg_gre_callid(t->buf));
	CHECK(pg_ip_csum_ok(t->buf));
}

/*
 * An incoming call placed by the inside PAC (Incoming-Call-Request), in the
 * mirrored placement: the PAC's own ID in ICRQ and CDN goes out as the
 * alias; the PNS's reply names it by the alias (restored) and carries its
 * own ID (untouched); ICCN, WEN and the PAC's SLI carry the PNS's ID
 * (untouched); the PNS's SLI carries the alias (restored).  The call's
 * kernel record is the same shape as a client's.
 */
static void test_pf_incoming(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct call *c;
	struct call_xlat xl;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	pf_flow(&f, PAC_IN, PNS_OUT, 40000);
	handshake(&e, &f);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	t = msg(&e, &f, DIR_OUT, PPTP_ICRQ, 5, 0, 0);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 0 && alias != 5);
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.ev[GWE_CALL_NEW]);
	CHECK_EQ(0, e.ev[GWE_CALL_UP]);
	/* The PNS answers with its own ID and the alias as the peer's. */
	t = msg(&e, &f, DIR_IN, PPTP_ICRP, 9, alias, 1);
	CHECK(accepted(t));
	CHECK_EQ(9, pl16(t, 12));
	CHECK_EQ(5, pl16(t, 14));
	CHECK(same_but(t, 14, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(0, e.ev[GWE_CALL_UP]);
	/* ICCN from the PAC names the PNS's ID: untouched; the call is up. */
	t = msg(&e, &f, DIR_OUT, PPTP_ICCN, 9, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.ev[GWE_CALL_UP]);
	c = call_by_alias(&e.g.tab, PUB, PNS_OUT, alias);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(CALL_ESTABLISHED, c->state);
		CHECK_EQ(0, c->inside_pns);
		CHECK_EQ(5, c->inside_id);
		CHECK_EQ(9, c->peer_id);
		xl = call_xlat(c);
		CHECK_EQ(PUB, xl.pub);
		CHECK_EQ(PNS_OUT, xl.outside);
		CHECK_EQ(PAC_IN, xl.inside);
		CHECK_EQ(alias, xl.alias);
		CHECK_EQ(5, xl.inside_id);
		CHECK_EQ(9, xl.peer_id);
		CHECK_EQ(1, xl.peer_known);
	}
	pf_gre_ok(&e, &f, alias, 5, 9);
	/* Set-Link-Info: from the PNS it names the PAC (the alias: restored),
	 * from the PAC it names the PNS (untouched). */
	t = msg(&e, &f, DIR_IN, PPTP_SLI, alias, 0, 0);
	CHECK_EQ(5, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	t = msg(&e, &f, DIR_OUT, PPTP_SLI, 9, 0, 0);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &f, DIR_OUT, PPTP_WEN, 9, 0, 0);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	/* The PAC hangs up: its CDN carries its own ID, as the alias. */
	t = msg(&e, &f, DIR_OUT, PPTP_CDN, 5, 0, 3);
	CHECK(accepted(t));
	CHECK_EQ(alias, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.ends[END_CDN]);
	CHECK(call_by_alias(&e.g.tab, PUB, PNS_OUT, alias) == NULL);
	/* Late GRE to the alias is dropped, not sent to the PAC or to us. */
	CHECK(dropped(gre_in(&e, &f, alias)));
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_LATE]);
	/* So is the PAC's late GRE: no call, it would leak its address. */
	CHECK(dropped(gre_out(&e, &f, 9)));
	env_done(&e);
}

/*
 * Refusals in the mirrored placement: the outside PNS refusing the inside
 * PAC's incoming call, and the inside PAC refusing an outgoing call (its
 * own ID is still aliased on the way out).  Both calls end as failed and
 * leave nothing a GRE packet could reach.
 */
static void test_pf_refusals(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	pf_flow(&f, PAC_IN, PNS_OUT, 40000);
	handshake(&e, &f);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	t = msg(&e, &f, DIR_OUT, PPTP_ICRQ, 5, 0, 0);
	alias = pl16(t, 12);
	t = msg(&e, &f, DIR_IN, PPTP_ICRP, 9, alias, 3);
	CHECK(accepted(t));
	CHECK_EQ(5, pl16(t, 14));
	CHECK_EQ(3, pl8(t, 16));
	CHECK_EQ(1, e.ends[END_FAILED]);
	CHECK_EQ(0u, e.g.tab.ncalls_used);
	CHECK(dropped(gre_in(&e, &f, alias)));
	/* The PAC says no to an outgoing call. */
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_OCRQ, 11, 0, 0)));
	t = msg(&e, &f, DIR_OUT, PPTP_OCRP, 6, 11, 4);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 6 && alias != 0);
	CHECK_EQ(11, pl16(t, 14));
	CHECK_EQ(4, pl8(t, 16));
	CHECK(tcp_ok(t));
	CHECK_EQ(2, e.ends[END_FAILED]);
	CHECK_EQ(0u, e.g.tab.ncalls_used);
	CHECK(dropped(gre_out(&e, &f, 11)));
	env_done(&e);
}

/*
 * The call table is full when the inside PAC answers an outgoing call: its
 * "connected" goes out as an error, under an alias (never its own ID), and
 * the refusal record ends with the reply.
 */
static void test_pf_table_full(void)
{
	struct env e;
	struct flow f, g2;
	struct tpkt *t;
	uint16_t alias;

	if (env_init_cfg(&e, 64, 1, NULL) < 0)
		return;
	pf_flow(&f, PAC_IN, PNS_OUT, 40000);
	pf_call(&e, &f, 7, 3);
	pf_flow(&g2, PAC_IN, PNS_OUT, 40001);
	handshake(&e, &g2);
	CHECK(accepted(msg(&e, &g2, DIR_IN, PPTP_OCRQ, 8, 0, 0)));
	t = msg(&e, &g2, DIR_OUT, PPTP_OCRP, 4, 8, 1);
	CHECK(accepted(t));
	alias = pl16(t, 12);
	CHECK(alias != 4 && alias != 0);
	CHECK_EQ(8, pl16(t, 14));
	CHECK_EQ(PPTP_RESULT_GENERAL_ERROR, pl8(t, 16));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.g.ctr[GC_CALLS_REFUSED]);
	CHECK_EQ(1u, e.g.tab.ncalls_used);
	CHECK(dropped(gre_out(&e, &g2, 8)));
	env_done(&e);
}

/*
 * Several control connections on one public address: one server's calls
 * to two clients behind one outside address (a remote NAT), and a second
 * inside server whose Call ID equals the first's.  Every call gets its own
 * alias in (PUB, outside), and GRE of each reaches its own server with its
 * own ID; the servers' GRE leaves from PUB.  Clearing one (CCRQ from its
 * PNS, untouched; CDN from the PAC, aliased) leaves the others whole.
 */
static void test_pf_shared_address(void)
{
	struct env e;
	struct flow a, b, c;
	struct tpkt *t;
	uint16_t aa, ab, ac;

	if (env_init(&e, 128) < 0)
		return;
	pf_flow(&a, PAC_IN, PNS_OUT, 40000);
	pf_flow(&b, PAC_IN, PNS_OUT, 40001);
	pf_flow(&c, PAC_IN2, PNS_OUT, 40002);
	aa = pf_call(&e, &a, 7, 3);
	ab = pf_call(&e, &b, 8, 4);
	ac = pf_call(&e, &c, 9, 3);
	CHECK(aa != ab && aa != ac && ab != ac);
	CHECK_EQ(3, e.ev[GWE_CALL_UP]);
	pf_gre_ok(&e, &a, aa, 3, 7);
	pf_gre_ok(&e, &b, ab, 4, 8);
	pf_gre_ok(&e, &c, ac, 3, 9);
	/* The first client clears: its own ID, untouched. */
	t = msg(&e, &a, DIR_IN, PPTP_CCRQ, 7, 0, 0);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	t = msg(&e, &a, DIR_OUT, PPTP_CDN, 3, 0, 3);
	CHECK_EQ(aa, pl16(t, 12));
	CHECK_EQ(1, e.ends[END_CDN]);
	/* The other server's call with the same inside ID is still there. */
	pf_gre_ok(&e, &b, ab, 4, 8);
	pf_gre_ok(&e, &c, ac, 3, 9);
	t = msg(&e, &c, DIR_OUT, PPTP_CDN, 3, 0, 3);
	CHECK_EQ(ac, pl16(t, 12));
	CHECK_EQ(2, e.ends[END_CDN]);
	pf_gre_ok(&e, &b, ab, 4, 8);
	/* Stop-Control-Connection ends the last. */
	CHECK(accepted(msg(&e, &b, DIR_IN, PPTP_STOPCCRQ, 0, 0, 1)));
	CHECK_EQ(1, e.ends[END_STOP]);
	CHECK_EQ(0u, e.g.tab.ncalls_used);
	env_done(&e);
}

/*
 * A port-forwarded connection with no conntrack data in the packets' meta
 * (as the daemon runs): the NAT lookup hook tells the public end and that
 * the outside opened it.  The calls are then scoped by the public address
 * (not the client's), and the connection counts against the client.
 */
static void test_pf_nat_lookup(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct conn *conn;
	struct host_load l;
	uint8_t b[PPTP_MAX_LEN];
	size_t n;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	e.nat_pub = PUB;
	e.nat_outside_opened = 1;
	pf_flow(&f, PAC_IN, PNS_OUT, 40000);
	n = pg_msg(b, sizeof(b), PPTP_OCRQ, 7, 0, 0);
	t = raw_seg(&e, &f, DIR_IN, b, n);
	CHECK(accepted(t));
	n = pg_msg(b, sizeof(b), PPTP_OCRP, 3, 7, 1);
	t = raw_seg(&e, &f, DIR_OUT, b, n);
	CHECK(accepted(t));
	CHECK(e.nat_asked >= 1);
	alias = pl16(t, 12);
	CHECK(alias != 0 && alias != 3);
	conn = flow_conn(&e, &f);
	CHECK(conn != NULL);
	if (conn) {
		CHECK_EQ(PUB, conn->pub);
		CHECK_EQ(0, conn->inside_opened);
		CHECK_EQ(PNS_OUT, conn->opener);
	}
	calltab_host_load(&e.g.tab, PNS_OUT, &l);
	CHECK_EQ(1u, l.conns);
	CHECK_EQ(1u, l.calls);
	pf_gre_ok(&e, &f, alias, 3, 7);
	env_done(&e);
}

/* GRE this host sends itself (OUTPUT) to SERVER with Call ID id. */
static struct tpkt *local_gre_out(struct env *e, uint16_t id)
{
	struct tpkt *t = new_pkt(e);
	struct gw_meta m;

	t->gp.len = pg_gre(t->buf, sizeof(t->buf), PUB, SERVER, id, 1, 7, 0,
			   0, NULL, 0);
	memcpy(t->orig, t->buf, t->gp.len);
	memset(&m, 0, sizeof(m));
	m.dir = DIR_OUT;
	m.local = 1;
	gw_input(&e->g, &t->gp, &m, e->now);
	return t;
}

/*
 * A PPTP client on the gateway itself (issue 11, item 2): its control
 * connection leaves from the public address with no NAT, so its inside end
 * is the public address.  Its Call ID is free in the scope: the call keeps
 * it (the OCRQ passes untouched), it is taken in the alias space (no guest
 * can be given it), and GRE to it is delivered here with it, marked.
 */
static void test_local_keeps_own_id(void)
{
	struct env e;
	struct flow h;
	struct tpkt *t;
	struct call *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&h, PUB, 41000, SERVER, 41000);
	alias = setup_call(&e, &h, 777, 500, 1);
	CHECK_EQ(777, alias);
	c = call_by_alias(&e.g.tab, PUB, SERVER, 777);
	CHECK(c != NULL);
	CHECK(c && call_is_local(c));
	CHECK_EQ(c ? call_slot(&e.g.tab, c) : 0,
		 alias_owner(&e.g.aliases, PUB, SERVER, 777));
	t = gre_in(&e, &h, 777);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(777, pg_gre_callid(t->buf));
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN]);
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN_NOCALL]);
	/* A guest's call to the same server cannot be given 777 now. */
	CHECK_EQ(-1, alias_claim(&e.g.aliases, PUB, SERVER, 63, 777));
	/* What the host sends (OUTPUT) is counted for its call, untouched;
	 * its GRE of no call passes unmarked (its source is the host's own),
	 * where a forwarded one of no call is dropped. */
	t = local_gre_out(&e, 500);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, c ? c->pkts[DIR_OUT] : 0);
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT]);
	t = local_gre_out(&e, 999);
	CHECK(passed(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT_LOCAL_NOCALL]);
	t = gre_out(&e, &h, 999);
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT_NOCALL]);
	env_done(&e);
}

/*
 * The collision the issue measured only by luck: a guest's call holds alias
 * A to a server, then the gateway's own client picks A as its Call ID.
 * The host's call is aliased like a guest's (its OCRQ rewritten, the reply
 * restored), and GRE under either ID reaches its own call: A to the guest,
 * the host's alias to this host with A.
 */
static void test_local_collides_with_guest(void)
{
	struct env e;
	struct flow g, h;
	struct tpkt *t;
	uint16_t ga, ha;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&g, INSIDE(1), 40000, SERVER, 61000);
	ga = setup_call(&e, &g, 1, 500, 1);
	flow_init(&h, PUB, 41000, SERVER, 41000);
	ha = setup_call(&e, &h, ga, 501, 1);
	CHECK(ha != ga);
	t = gre_in(&e, &h, ha);
	CHECK(accepted(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(ga, pg_gre_callid(t->buf));
	t = gre_in(&e, &g, ga);
	CHECK(accepted(t));
	CHECK_EQ(INSIDE(1), pg_dst(t->buf));
	CHECK_EQ(1, pg_gre_callid(t->buf));
	CHECK_EQ(2, e.g.ctr[GC_GRE_IN]);
	env_done(&e);
}

/*
 * pptpd on the gateway itself: an outside PNS opens TCP 1723 of the public
 * address.  The PAC's own ID in its reply is kept (free in the scope), so
 * the PAC's calls are reserved against guests' aliases too.
 */
static void test_local_server(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;

	if (env_init(&e, 64) < 0)
		return;
	pf_flow(&f, PUB, PNS_OUT, 40000);
	handshake(&e, &f);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_OCRQ, 7, 0, 0)));
	t = msg(&e, &f, DIR_OUT, PPTP_OCRP, 3, 7, 1);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK(alias_owner(&e.g.aliases, PUB, PNS_OUT, 3) < ALIAS_RESERVED);
	pf_gre_ok(&e, &f, 3, 3, 7);
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(port_forward),
	CHECK_CASE(nat_lookup),
	CHECK_CASE(port_forward_midstream),
	CHECK_CASE(nat_lookup_later),
	CHECK_CASE(pf_incoming),
	CHECK_CASE(pf_refusals),
	CHECK_CASE(pf_table_full),
	CHECK_CASE(pf_shared_address),
	CHECK_CASE(pf_nat_lookup),
	CHECK_CASE(local_keeps_own_id),
	CHECK_CASE(local_collides_with_guest),
	CHECK_CASE(local_server),
	CHECK_CASE(several_pubs),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
