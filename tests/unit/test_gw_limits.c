/*
 * The translator at its limits: the call table full (a refusal in the
 * server's reply, also for a port-forwarded server), the connection table
 * full, and the signals the "auto" relay takes from a server's limit
 * (calls beyond Maximum Channels, a second call refused).  The bench is
 * in gw_fixture.h.
 */
#include "gw_fixture.h"

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

/*
 * The "auto" relay's signals: a call beyond the server's Maximum Channels,
 * and a server refusing a second call while one is up.  A refusal of a
 * lone call is no such signal.
 */
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

static const struct check_case cases[] = {
	CHECK_CASE(over_limit),
	CHECK_CASE(table_full),
	CHECK_CASE(port_forward_full),
	CHECK_CASE(conn_table_full),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
