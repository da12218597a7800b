/*
 * The translator's control-message rewrites, message by message: which
 * Call ID fields become the alias or go back to the inside ID, which
 * messages pass untouched (SCCRQ/SCCRP, Echo, SLI from the inside, a CDN
 * from the server), incoming calls, and aliases named on the wrong control
 * connection.  The bench is in gw_fixture.h.
 */
#include "gw_fixture.h"

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
 * Behind an upstream NAT whose kernel PPTP helper rewrote the server's CDN
 * (its own Call ID, 500) into the PNS's, our alias: the call still ends by
 * the CDN, and the inside client gets the server's ID back, the one it
 * knows.  Another connection's alias is not taken for it, and a CDN that
 * names the server's own ID passes untouched (checked above).
 */
static void test_cdn_rewritten_upstream(void)
{
	struct env e;
	struct flow f, g;
	struct tpkt *t;
	uint16_t alias, alias2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&g, INSIDE(2), 40001, SERVER, 61001);
	alias = setup_call(&e, &f, 1, 500, 1);
	alias2 = setup_call(&e, &g, 1, 501, 1);
	/* f's connection naming g's alias: not f's call, untouched. */
	t = msg(&e, &f, DIR_IN, PPTP_CDN, alias2, 0, 3);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(0, e.ends[END_CDN]);
	t = msg(&e, &f, DIR_IN, PPTP_CDN, alias, 0, 3);
	CHECK(accepted(t));
	CHECK_EQ(500, pl16(t, 12));
	CHECK(same_but(t, 12, 2));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, e.ends[END_CDN]);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_CDN_RESTORED]);
	CHECK(call_by_alias(&e.g.tab, PUB, SERVER, alias) == NULL);
	CHECK(call_by_alias(&e.g.tab, PUB, SERVER, alias2) != NULL);
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(basic_call),
	CHECK_CASE(cdn_rewritten_upstream),
	CHECK_CASE(eight_hosts),
	CHECK_CASE(sli_wen),
	CHECK_CASE(ccrq),
	CHECK_CASE(incoming_call),
	CHECK_CASE(cross_conn_alias),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
