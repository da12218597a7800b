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

/*
 * More control connections than the table holds: the SYN is refused.  One
 * host each, so that no per-host limit refuses first.
 */
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
		flow_init(&f, INSIDE(1 + i), 40000, SERVER, 61000);
		CHECK(accepted(seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0)));
	}
	flow_init(&f, INSIDE(1 + max), 40000, SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0);
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_CONN_FULL]);
	env_done(&e);
}


/* ---- per-host limits ------------------------------------------------------ */

/* The defaults, with the given limits changed (-1: as they are). */
static struct gw_cfg limits_cfg(int conns, int half, int half_max, int calls)
{
	struct gw_cfg c;

	gw_default_cfg(&c);
	if (conns >= 0)
		c.conns_per_host = (uint32_t)conns;
	if (half >= 0)
		c.half_open_per_host = (uint32_t)half;
	if (half_max >= 0)
		c.half_open_max = (uint32_t)half_max;
	if (calls >= 0)
		c.calls_per_host = (uint32_t)calls;
	return c;
}

/* A control connection of host n, port port: its SYN, and if that passes,
 * the rest of the handshake and the start exchange.  1: it was let in. */
static int open_answered(struct env *e, struct flow *f, int n, uint16_t port)
{
	flow_init(f, INSIDE(n), port, SERVER, port);
	if (!accepted(seg(e, f, DIR_OUT, PG_SYN, NULL, 0)))
		return 0;
	CHECK(accepted(seg(e, f, DIR_IN, PG_SYN | PG_ACK, NULL, 0)));
	CHECK(accepted(seg(e, f, DIR_OUT, PG_ACK, NULL, 0)));
	CHECK(accepted(msg(e, f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(e, f, DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	return 1;
}

/*
 * Host 1 opens as many answered connections as the table holds: it gets
 * conns_per_host of them, the rest of its SYNs are dropped (counted), and
 * host 2 still gets in and places a call.  One of host 1's connections
 * gone, it may open one again.
 */
static void test_conns_per_host(void)
{
	struct gw_cfg cfg = limits_cfg(8, -1, -1, -1);
	struct env e;
	struct flow f, first, h2;
	uint32_t i, max;
	int got = 0;

	memset(&first, 0, sizeof(first));
	if (env_init_cfg(&e, 512, 64, &cfg) < 0)
		return;
	max = e.g.tab.cfg.max_conns;
	for (i = 0; i < max; i++) {
		int in = open_answered(&e, &f, 1, (uint16_t)(40000 + i));

		if (in && !got)
			first = f;
		got += in;
	}
	CHECK_EQ(8, got);
	CHECK_EQ(max - 8, e.g.ctr[GC_CTRL_CONN_HOST_LIMIT]);
	CHECK_EQ(max - 8, e.ev[GWE_LIMIT_REFUSED]);
	CHECK_EQ(INSIDE(1), e.refused_host);
	CHECK_EQ(GC_CTRL_CONN_HOST_LIMIT, e.refused_why);
	CHECK_EQ(0, e.g.ctr[GC_CTRL_CONN_FULL]);
	/* Another host is not refused. */
	flow_init(&h2, INSIDE(2), 40000, SERVER, 50000);
	setup_call(&e, &h2, 1, 600, 1);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(max - 8, e.g.ctr[GC_CTRL_CONN_HOST_LIMIT]);
	/* A header-shaped first segment (a stream picked up in the middle)
	 * is a new connection too. */
	flow_init(&f, INSIDE(1), 45000, SERVER, 45000);
	CHECK(dropped(msg(&e, &f, DIR_OUT, PPTP_ECHORQ, 0, 0, 0)));
	CHECK_EQ(max - 8 + 1, e.g.ctr[GC_CTRL_CONN_HOST_LIMIT]);
	/* One of host 1's connections gone: it may open one more, only. */
	gw_conn_gone(&e.g, first.in, first.iport, first.out, first.oport,
		     e.now);
	CHECK_EQ(1, open_answered(&e, &f, 1, 46000));
	CHECK_EQ(0, open_answered(&e, &f, 1, 46001));
	env_done(&e);
}

/*
 * A SYN flood from one host to a server that never answers (item 1 of the
 * issue): at most half_open_per_host of its records are kept, another host
 * still connects, and the records go after the half_open timeout, long
 * before conn_idle, without a word from conntrack.
 */
static void test_half_open_per_host(void)
{
	struct env e;
	struct flow f, h2;
	struct gw_cfg cfg;
	uint32_t i, max, refused;
	int got = 0;

	gw_default_cfg(&cfg);
	if (env_init(&e, 256) < 0)
		return;
	max = e.g.tab.cfg.max_conns;
	CHECK(cfg.half_open_per_host < max);
	for (i = 0; i < max; i++) {
		flow_init(&f, INSIDE(1), (uint16_t)(40000 + i), SERVER, 1);
		got += accepted(seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0));
	}
	refused = max - cfg.half_open_per_host;
	CHECK_EQ(cfg.half_open_per_host, got);
	CHECK_EQ(refused, e.g.ctr[GC_CTRL_HALF_OPEN_HOST_LIMIT]);
	CHECK_EQ(GC_CTRL_HALF_OPEN_HOST_LIMIT, e.refused_why);
	CHECK_EQ(INSIDE(1), e.refused_host);
	CHECK_EQ(cfg.half_open_per_host, e.g.tab.nhalf_open);
	/* Host 2 connects and places a call: answered, not half-open. */
	flow_init(&h2, INSIDE(2), 40000, SERVER, 50000);
	setup_call(&e, &h2, 1, 600, 1);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(cfg.half_open_per_host, e.g.tab.nhalf_open);
	/* Still refused just before the timeout; gone at it. */
	e.now += cfg.half_open_ms - 1;
	gw_tick(&e.g, e.now);
	CHECK_EQ(0, e.g.ctr[GC_CTRL_HALF_OPEN_EXPIRED]);
	flow_init(&f, INSIDE(1), 49000, SERVER, 1);
	CHECK(dropped(seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0)));
	/* Host 2's traffic keeps it from its own (conn_idle) end. */
	msg(&e, &h2, DIR_OUT, PPTP_ECHORQ, 0, 0, 0);
	e.now += 1;
	gw_tick(&e.g, e.now);
	CHECK_EQ(cfg.half_open_per_host,
		 e.g.ctr[GC_CTRL_HALF_OPEN_EXPIRED]);
	CHECK_EQ(0, e.g.tab.nhalf_open);
	CHECK(flow_conn(&e, &h2) != NULL);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* The host's limit is back. */
	flow_init(&f, INSIDE(1), 49001, SERVER, 1);
	CHECK(accepted(seg(&e, &f, DIR_OUT, PG_SYN, NULL, 0)));
	env_done(&e);
}

/*
 * Half-open records of all hosts together: many hosts each under their own
 * limit cannot fill the table with them.  An answer makes room.
 */
static void test_half_open_total(void)
{
	struct gw_cfg cfg = limits_cfg(-1, 4, 8, -1);
	struct env e;
	struct flow f[8], g3;
	int i;

	if (env_init_cfg(&e, 256, 64, &cfg) < 0)
		return;
	for (i = 0; i < 8; i++) {
		flow_init(&f[i], INSIDE(1 + i / 4), (uint16_t)(40000 + i),
			  SERVER, (uint16_t)(50000 + i));
		CHECK(accepted(seg(&e, &f[i], DIR_OUT, PG_SYN, NULL, 0)));
	}
	CHECK_EQ(8, e.g.tab.nhalf_open);
	flow_init(&g3, INSIDE(3), 40000, SERVER, 51000);
	CHECK(dropped(seg(&e, &g3, DIR_OUT, PG_SYN, NULL, 0)));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_HALF_OPEN_LIMIT]);
	CHECK_EQ(INSIDE(3), e.refused_host);
	CHECK_EQ(0, e.g.ctr[GC_CTRL_HALF_OPEN_HOST_LIMIT]);
	/* Host 1's first connection is answered: room for host 3. */
	CHECK(accepted(seg(&e, &f[0], DIR_IN, PG_SYN | PG_ACK, NULL, 0)));
	CHECK(accepted(seg(&e, &f[0], DIR_OUT, PG_ACK, NULL, 0)));
	CHECK_EQ(8, e.g.tab.nhalf_open);   /* TCP alone answers nothing */
	CHECK(accepted(msg(&e, &f[0], DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	CHECK_EQ(8, e.g.tab.nhalf_open);   /* nor the opener's own words */
	CHECK(accepted(msg(&e, &f[0], DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	CHECK_EQ(7, e.g.tab.nhalf_open);
	flow_init(&g3, INSIDE(3), 40001, SERVER, 51001);
	CHECK(accepted(seg(&e, &g3, DIR_OUT, PG_SYN, NULL, 0)));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_HALF_OPEN_LIMIT]);
	env_done(&e);
}

/*
 * A port-forwarded server inside: the outside client that opens the
 * connections is their host, so a flood from it does not count against
 * the server, and another outside client still gets in.
 */
static void test_half_open_port_forward(void)
{
	struct gw_cfg cfg = limits_cfg(-1, 4, -1, -1);
	struct env e;
	struct flow f;
	int i, got = 0;

	if (env_init_cfg(&e, 256, 64, &cfg) < 0)
		return;
	for (i = 0; i < 10; i++) {
		flow_init_pf(&f);
		f.oport = (uint16_t)(40000 + i);
		got += accepted(seg(&e, &f, DIR_IN, PG_SYN, NULL, 0));
	}
	CHECK_EQ(4, got);
	CHECK_EQ(6, e.g.ctr[GC_CTRL_HALF_OPEN_HOST_LIMIT]);
	CHECK_EQ(PNS_OUT, e.refused_host);
	flow_init_pf(&f);
	f.out = THIRD;
	handshake(&e, &f);
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	CHECK_EQ(4, e.g.tab.nhalf_open);
	env_done(&e);
}

/*
 * One host asking for more calls than the table holds on one connection
 * (item 3): calls beyond calls_per_host are refused the way a full table
 * refuses them (an error in the server's reply), another host still gets
 * its call, and once one of host 1's calls ends it may place one again.
 * Past GW_HOST_REFUSALS refusals waiting for an answer, its requests are
 * dropped.
 */
static void test_calls_per_host(void)
{
	struct gw_cfg cfg = limits_cfg(-1, -1, -1, 4);
	struct env e;
	struct flow f, h2;
	struct tpkt *q, *r;
	uint16_t id;
	int i;

	if (env_init_cfg(&e, 256, 8, &cfg) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	for (id = 1; id <= 4; id++)
		setup_call(&e, &f, id, (uint16_t)(500 + id), id == 1);
	CHECK_EQ(4, e.g.tab.ncalls_used);
	/* The fifth: passed on with an alias, and the server's yes turned
	 * into "no resources" on the way back. */
	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 5, 0, 0);
	CHECK(accepted(q));
	CHECK(tcp_ok(q));
	CHECK_EQ(1, e.ev[GWE_CALL_REFUSED]);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_HOST_LIMIT]);
	CHECK_EQ(0, e.g.ctr[GC_CALLS_REFUSED]);
	CHECK_EQ(GC_CALLS_HOST_LIMIT, e.refused_why);
	CHECK_EQ(INSIDE(1), e.refused_host);
	r = msg(&e, &f, DIR_IN, PPTP_OCRP, 505, pl16(q, 12), 1);
	CHECK(accepted(r));
	CHECK_EQ(5, pl16(r, 14));
	CHECK_EQ(2, pl8(r, 16));
	CHECK_EQ(4, pl8(r, 17));
	CHECK(tcp_ok(r));
	CHECK_EQ(0, e.g.tab.nrefused);
	/* Three more of host 1 would fill the table of 8: refused too. */
	for (id = 6; id <= 8; id++) {
		q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, id, 0, 0);
		r = msg(&e, &f, DIR_IN, PPTP_OCRP, (uint16_t)(500 + id),
			pl16(q, 12), 1);
		CHECK_EQ(2, pl8(r, 16));
	}
	CHECK_EQ(4, e.g.ctr[GC_CALLS_HOST_LIMIT]);
	CHECK_EQ(4, e.g.tab.ncalls_used);
	/* Host 2 is not refused. */
	flow_init(&h2, INSIDE(2), 40000, SERVER, 61001);
	setup_call(&e, &h2, 1, 700, 1);
	CHECK_EQ(5, e.g.tab.ncalls_used);
	CHECK_EQ(4, e.g.ctr[GC_CALLS_HOST_LIMIT]);
	CHECK_EQ(0, e.g.ctr[GC_CALLS_REFUSED]);
	/* One of host 1's calls ends: its next call goes through. */
	CHECK(accepted(msg(&e, &f, DIR_IN, PPTP_CDN, 501, 0, 3)));
	setup_call(&e, &f, 9, 509, 0);
	CHECK_EQ(5, e.g.tab.ncalls_used);
	CHECK_EQ(4, e.g.ctr[GC_CALLS_HOST_LIMIT]);
	/* Requests nobody answers: GW_HOST_REFUSALS refusals wait, then
	 * the next request is dropped (its sender sends it again). */
	for (i = 0; i < GW_HOST_REFUSALS; i++)
		CHECK(accepted(msg(&e, &f, DIR_OUT, PPTP_OCRQ,
				   (uint16_t)(20 + i), 0, 0)));
	CHECK_EQ(GW_HOST_REFUSALS, e.g.tab.nrefused);
	q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 40, 0, 0);
	CHECK(dropped(q));
	CHECK_EQ(GW_HOST_REFUSALS, e.g.tab.nrefused);
	CHECK_EQ(4 + GW_HOST_REFUSALS + 1, e.g.ctr[GC_CALLS_HOST_LIMIT]);
	/* Host 2 still places calls meanwhile. */
	setup_call(&e, &h2, 2, 701, 0);
	CHECK_EQ(6, e.g.tab.ncalls_used);
	env_done(&e);
}

/* An Echo-Request one message (16 bytes) ahead of f's inside stream: kept out of order
 * (no verdict yet) unless a limit drops it.  1 if kept. */
static int ooo_kept(struct env *e, struct flow *f)
{
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_ECHORQ, 0, 0, 0);
	struct tpkt *t = seg_at(e, f, DIR_OUT, f->iseq + 16, PG_ACK | PG_PSH,
				m, n);

	return t->nverd == 0;
}

/*
 * Segments waiting for their verdicts (out of order here; held ones count
 * the same): host 1 gets pending_per_host of them over its connections,
 * the rest are dropped (counted), and host 2 may still have its own kept.
 * Then the total: with the per-host limit off, pending in all.  Waiting
 * segments released (the connection gone) free the room again.
 */
static void test_pending_limits(void)
{
	struct gw_cfg cfg = limits_cfg(-1, -1, -1, -1);
	struct env e;
	struct flow f[8], h2;
	int i, kept = 0;

	cfg.pending_per_host = 5;
	cfg.pending_max = 0;
	if (env_init_cfg(&e, 512, 64, &cfg) < 0)
		return;
	for (i = 0; i < 8; i++) {
		CHECK(open_answered(&e, &f[i], 1, (uint16_t)(40000 + i)));
		kept += ooo_kept(&e, &f[i]);
		kept += ooo_kept(&e, &f[i]);
	}
	CHECK_EQ(5, kept);
	CHECK_EQ(11, e.g.ctr[GC_CTRL_PENDING_HOST_LIMIT]);
	CHECK_EQ(5, e.g.npending);
	CHECK(open_answered(&e, &h2, 2, 41000));
	CHECK(ooo_kept(&e, &h2));
	CHECK_EQ(11, e.g.ctr[GC_CTRL_PENDING_HOST_LIMIT]);
	/* the peaks status shows: 6 in all, 5 of one host */
	CHECK_EQ(6, e.g.pending_peak);
	CHECK_EQ(5, e.g.pending_host_peak);
	/* host 1's connections gone: their segments dropped, room again */
	for (i = 0; i < 8; i++)
		gw_conn_gone(&e.g, f[i].in, f[i].iport, f[i].out, f[i].oport,
			     e.now);
	CHECK_EQ(1, e.g.npending);
	CHECK_EQ(0u, calltab_host_pending_now(&e.g.tab, INSIDE(1)));
	CHECK(open_answered(&e, &f[0], 1, 42000));
	CHECK(ooo_kept(&e, &f[0]));
	CHECK_EQ(6, e.g.pending_peak);
	env_done(&e);

	cfg.pending_per_host = 0;
	cfg.pending_max = 4;
	if (env_init_cfg(&e, 512, 64, &cfg) < 0)
		return;
	kept = 0;
	for (i = 0; i < 3; i++) {
		CHECK(open_answered(&e, &f[i], 1 + i, (uint16_t)(40000 + i)));
		kept += ooo_kept(&e, &f[i]);
		kept += ooo_kept(&e, &f[i]);
	}
	CHECK_EQ(4, kept);
	CHECK_EQ(2, e.g.ctr[GC_CTRL_PENDING_LIMIT]);
	/* the gap filled: host 1's two waiting segments go, and their room */
	CHECK(accepted(msg(&e, &f[0], DIR_OUT, PPTP_ECHORQ, 0, 0, 0)));
	CHECK_EQ(2, e.g.npending);
	CHECK(ooo_kept(&e, &f[2]));
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(over_limit),
	CHECK_CASE(table_full),
	CHECK_CASE(port_forward_full),
	CHECK_CASE(conn_table_full),
	CHECK_CASE(conns_per_host),
	CHECK_CASE(half_open_per_host),
	CHECK_CASE(half_open_total),
	CHECK_CASE(half_open_port_forward),
	CHECK_CASE(calls_per_host),
	CHECK_CASE(pending_limits),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
