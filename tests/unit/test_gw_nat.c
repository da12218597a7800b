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

static const struct check_case cases[] = {
	CHECK_CASE(port_forward),
	CHECK_CASE(nat_lookup),
	CHECK_CASE(port_forward_midstream),
	CHECK_CASE(nat_lookup_later),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
