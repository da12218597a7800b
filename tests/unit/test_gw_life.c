/*
 * Calls and control connections coming and going in the translator: failed
 * replies, clearing and its timeout, Stop-Control, FIN and RST, a 4-tuple
 * reused, Call IDs reused by either side, idle calls and the alias
 * hold-down, request and connection timeouts, conntrack saying the
 * connection is gone, calls cleared by the administrator.  The bench is
 * in gw_fixture.h.
 */
#include "gw_fixture.h"

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

/*
 * A FIN or RST that is not where the sender's stream stands (a third party
 * guessing inside conntrack's window) passes but ends nothing; the real
 * one, at the next sequence number, ends the calls.  Both directions.
 */
static void test_close_out_of_sequence(void)
{
	int variant;

	/* 0: RST from the server, 1: FIN from the inside host, 2: RST from
	 * the inside host, behind the stream (an old sequence number). */
	for (variant = 0; variant < 3; variant++) {
		struct env e;
		struct flow f;
		struct tpkt *t;
		uint16_t alias;
		int dir = variant == 0 ? DIR_IN : DIR_OUT;
		uint32_t next;
		uint8_t fl = variant == 1 ? PG_FIN | PG_ACK : PG_RST;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		alias = setup_call(&e, &f, 1, 500, 1);
		next = dir == DIR_OUT ? f.iseq : f.oseq;
		t = seg_at(&e, &f, dir, variant == 2 ? next - 100 : next + 1000,
			   fl, NULL, 0);
		CHECK(accepted(t));
		CHECK_EQ(1, e.g.tab.ncalls_used);
		CHECK_EQ(0, e.ends[END_TCP]);
		CHECK_EQ(1, e.g.ctr[GC_CTRL_CLOSE_IGNORED]);
		CHECK_EQ(1, pg_gre_callid(gre_in(&e, &f, alias)->buf));
		t = seg_at(&e, &f, dir, next, fl, NULL, 0);
		CHECK(accepted(t));
		CHECK_EQ(0, e.g.tab.ncalls_used);
		CHECK_EQ(1, e.ends[END_TCP]);
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

/*
 * A call the kernel's maps carry never crosses the queue: the traffic read
 * back from the maps keeps it alive and counts for it, and only for a call
 * the data plane said it carries.
 */
static void test_kernel_traffic(void)
{
	struct env e;
	struct flow f;
	struct call *c;
	uint32_t slot;
	uint16_t alias;
	uint64_t t0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	c = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	if (!c) {
		CHECK(0);
		env_done(&e);
		return;
	}
	slot = call_slot(&e.g.tab, c);
	/* Not in the kernel: what the maps say is not this call's. */
	gw_call_traffic(&e.g, slot, DIR_IN, 5, 500, e.now);
	CHECK_EQ(0, c->pkts[DIR_IN]);
	CHECK_EQ(0, e.g.ctr[GC_GRE_FAST_IN]);
	gw_call_kernel(&e.g, slot, 1);
	t0 = e.now;
	e.now += e.g.cfg.call_idle_ms - 1;
	gw_call_traffic(&e.g, slot, DIR_IN, 5, 500, e.now);
	gw_call_traffic(&e.g, slot, DIR_OUT, 7, 700, e.now);
	gw_call_traffic(&e.g, slot, 2, 9, 900, e.now);    /* no such dir */
	CHECK_EQ(5, c->pkts[DIR_IN]);
	CHECK_EQ(500, c->bytes[DIR_IN]);
	CHECK_EQ(7, c->pkts[DIR_OUT]);
	CHECK_EQ(5, e.g.ctr[GC_GRE_FAST_IN]);
	CHECK_EQ(7, e.g.ctr[GC_GRE_FAST_OUT]);
	CHECK_EQ(700, e.g.ctr[GC_GRE_FAST_OUT_BYTES]);
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN]);
	seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0);
	gw_tick(&e.g, t0 + e.g.cfg.call_idle_ms);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* Past its deadline with no read since: the kernel may have carried
	 * traffic nobody has read yet, so it stays. */
	seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0);
	gw_tick(&e.g, t0 + 3 * e.g.cfg.call_idle_ms);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* A read before the deadline with nothing new: not yet idle. */
	gw_call_traffic(&e.g, slot, DIR_IN, 0, 0,
			t0 + 2 * e.g.cfg.call_idle_ms - 2);
	gw_tick(&e.g, t0 + 3 * e.g.cfg.call_idle_ms);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* A read after it with nothing new: idle. */
	gw_call_traffic(&e.g, slot, DIR_OUT, 0, 0,
			t0 + 3 * e.g.cfg.call_idle_ms);
	gw_tick(&e.g, t0 + 3 * e.g.cfg.call_idle_ms);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_IDLE]);
	/* GRE that still came through the queue for it was counted. */
	CHECK_EQ(0, e.g.ctr[GC_GRE_QUEUED_IN_KERNEL]);
	env_done(&e);
}

static void test_queued_while_in_kernel(void)
{
	struct env e;
	struct flow f;
	struct call *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	gre_in(&e, &f, alias);
	CHECK_EQ(0, e.g.ctr[GC_GRE_QUEUED_IN_KERNEL]);
	c = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	if (c)
		gw_call_kernel(&e.g, call_slot(&e.g.tab, c), 1);
	CHECK_EQ(INSIDE(1), pg_dst(gre_in(&e, &f, alias)->buf));
	CHECK_EQ(PUB, pg_src(gre_out(&e, &f, 500)->buf));
	CHECK_EQ(2, e.g.ctr[GC_GRE_QUEUED_IN_KERNEL]);
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

static const struct check_case cases[] = {
	CHECK_CASE(clearing_timeout),
	CHECK_CASE(ocrp_failed),
	CHECK_CASE(stop_control),
	CHECK_CASE(fin_rst),
	CHECK_CASE(close_out_of_sequence),
	CHECK_CASE(tuple_reuse),
	CHECK_CASE(inside_id_reuse),
	CHECK_CASE(peer_reuse_event),
	CHECK_CASE(idle_and_holddown),
	CHECK_CASE(kernel_traffic),
	CHECK_CASE(queued_while_in_kernel),
	CHECK_CASE(request_timeout_and_conn_idle),
	CHECK_CASE(conn_gone_and_admin),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
