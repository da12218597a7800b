/*
 * Lost conntrack destroy events (issue 10, item 8): a control connection
 * whose destroy event never came keeps its record, and a new connection on
 * the same 4-tuple (new sequence numbers) cannot get past it.  After a
 * sync with what conntrack holds (gw_conn_sync, which the daemon runs when
 * the event socket overflowed), the stale record and its calls are gone and
 * the new connection works; records conntrack still has are kept.  The
 * bench is in gw_fixture.h.
 */
#include "gw_fixture.h"

static struct gw_tcp_key key_of(const struct flow *f)
{
	struct gw_tcp_key k = { .inside = f->in, .iport = f->iport,
				.outside = f->out, .oport = f->oport };

	return k;
}

/* The 4-tuple of f opened afresh: new sequence numbers, a new session. */
static int reopen_works(struct env *e, struct flow *f)
{
	struct tpkt *q;

	f->iseq += 7777777;
	f->oseq += 5555555;
	handshake(e, f);
	q = msg(e, f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	if (!accepted(q))
		return 0;
	if (!accepted(msg(e, f, DIR_IN, PPTP_SCCRP, 0, 0, 1)))
		return 0;
	q = msg(e, f, DIR_OUT, PPTP_OCRQ, 9, 0, 0);
	return accepted(q) && pl16(q, 12) != 0;
}

/* Without a sync the stale record is in the way: the defect itself. */
static void test_lost_destroy_blocks(void)
{
	struct env e;
	struct flow f;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	CHECK(!reopen_works(&e, &f));
	env_done(&e);
}

static void test_sync_drops_stale(void)
{
	struct env e;
	struct flow a, b;
	struct gw_tcp_key alive[1];
	uint16_t alias_b;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&a, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&b, INSIDE(2), 40001, SERVER, 61001);
	setup_call(&e, &a, 1, 500, 1);
	alias_b = setup_call(&e, &b, 2, 501, 1);
	CHECK_EQ(2, e.g.tab.ncalls_used);
	/* conntrack still has b, not a (its destroy event was lost) */
	alive[0] = key_of(&b);
	CHECK_EQ(1, gw_conn_sync(&e.g, alive, 1, e.now));
	CHECK(flow_conn(&e, &a) == NULL);
	CHECK(flow_conn(&e, &b) != NULL);
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_CONN_GONE]);
	/* b's call goes on; a's 4-tuple opens afresh */
	CHECK_EQ(2, pg_gre_callid(gre_in(&e, &b, alias_b)->buf));
	CHECK(reopen_works(&e, &a));
	env_done(&e);
}

/* A port-forwarded server inside: conntrack's tuple is the outside
 * client's, the record is keyed by the inside server's end. */
static void test_sync_port_forward(void)
{
	struct env e;
	struct flow f;
	struct gw_tcp_key alive[1];

	if (env_init(&e, 64) < 0)
		return;
	flow_init_pf(&f);
	handshake(&e, &f);
	CHECK(flow_conn(&e, &f) != NULL);
	alive[0] = key_of(&f);
	CHECK_EQ(0, gw_conn_sync(&e.g, alive, 1, e.now));
	CHECK(flow_conn(&e, &f) != NULL);
	CHECK_EQ(1, gw_conn_sync(&e.g, NULL, 0, e.now));
	CHECK(flow_conn(&e, &f) == NULL);
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(lost_destroy_blocks),
	CHECK_CASE(sync_drops_stale),
	CHECK_CASE(sync_port_forward),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
