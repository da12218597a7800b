/*
 * GRE legs through the relay: reordered, duplicated and lost frames on
 * both legs, packets that are not the relay's (unknown Call ID, spoofed
 * source, wrong destination, bad GRE), GRE of a call not yet up, two
 * clients with the same Call ID kept apart.  The plain path of one call's
 * GRE is test_relay_calls.c's happy_path.  The bench is in relay_fixture.h.
 */
#include "relay_fixture.h"

static void test_gre(void)
{
	struct sess s;
	struct callh c;
	uint8_t b[128];
	size_t n;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x10, 0x20);

	/* Swapped: delivered in order. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 1, 10));
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 3, 12));
	CHECK_EQ(1, gre_unread());
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 2, 11));
	GRE_EXPECT(PUB, SERVER, 0x20, 1, TAG_UP, 1, 10);
	GRE_EXPECT(PUB, SERVER, 0x20, 2, TAG_UP, 2, 11);
	GRE_EXPECT(PUB, SERVER, 0x20, 3, TAG_UP, 3, 12);
	CHECK_EQ(1, E.r.ctr[RLS_GRE_REORDERED]);
	/* Duplicates dropped. */
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 2, 11));
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 3, 12));
	CHECK_EQ(2, E.r.ctr[RLS_GRE_DUP]);
	CHECK_EQ(0, gre_unread());
	/* The same on the server's leg. */
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 0, 10));
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 2, 12));
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 1, 11));
	CHECK_EQ(RL_GRE_DROPPED, gre_down(&c, 1, 11));
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 1, TAG_DOWN, 0, 10);
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 2, TAG_DOWN, 1, 11);
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 3, TAG_DOWN, 2, 12);
	CHECK_EQ(3, E.r.ctr[RLS_GRE_DUP]);
	/* A gap given up after reorder_ms. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 5, 15));
	CHECK_EQ(0, gre_unread());
	E.now += E.r.cfg.reorder_ms;
	relay_tick(&E.r, E.now);
	GRE_EXPECT(PUB, SERVER, 0x20, 4, TAG_UP, 5, 15);
	CHECK_EQ(1, E.r.ctr[RLS_GRE_LOST]);
	CHECK_EQ(RL_GRE_DROPPED, gre_up(&s, &c, 4, 14));
	CHECK_EQ(1, E.r.ctr[RLS_GRE_LATE]);
	/* Drain the ack-only packets the tick may have sent. */
	E.gre_read = E.ngre;

	/* Not ours: unknown Call ID, spoofed source, wrong destination,
	 * the server's leg addressed with the client's key, bad GRE. */
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER, (uint16_t)(c.pac_id + 1), 6,
			TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(2), SERVER, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(THIRD, SERVER, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER2, c.pac_id, 6, TAG_UP, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(THIRD, PUB, c.pns_id, 6, TAG_DOWN, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(SERVER, PUB, c.pac_id == c.pns_id ? 1 : c.pac_id, 6,
			TAG_DOWN, 10));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 gre_in(CLIENT(1), SERVER, c.pns_id == c.pac_id ? 1 : c.pns_id,
			6, TAG_UP, 10));
	n = mk_gre(b, c.pac_id, 1, 6, 0, 0, TAG_UP, 10);
	b[1] = 0x02;    /* version 2 */
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n, E.now));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, 5, E.now));
	CHECK_EQ(0, gre_unread());
	/* Ours but unusable: data without a sequence number. */
	n = mk_gre(b, c.pac_id, 0, 0, 0, 0, TAG_UP, 10);
	CHECK_EQ(RL_GRE_DROPPED,
		 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n, E.now));
	CHECK_EQ(1, E.r.ctr[RLS_GRE_BAD]);
	CHECK_EQ(0, gre_unread());
	/* An empty frame with a sequence number takes its place, sends
	 * nothing. */
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 6, 0));
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 7, 20));
	GRE_EXPECT(PUB, SERVER, 0x20, 5, TAG_UP, 7, 20);
	env_done();

	/* GRE for a call not yet established: its IDs are known, dropped. */
	env_init();
	s = sess_open(1, 0);
	{
		struct pptp_msg m = ocrq(0x10, 1);
		const struct pptp_msg *got;
		uint32_t slot = 0;

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_OCRQ);
		slot = first_call();
		CHECK_EQ(RL_GRE_DROPPED,
			 gre_in(CLIENT(1), SERVER, E.r.calls[slot].pac_id, 1,
				TAG_UP, 10));
		CHECK_EQ(RL_GRE_DROPPED,
			 gre_in(SERVER, PUB, (uint16_t)got->num[PF_CALL_ID], 1,
				TAG_DOWN, 10));
		CHECK_EQ(2, E.r.ctr[RLS_GRE_BAD]);
		CHECK_EQ(0, gre_unread());
	}
	env_done();
}

/* Two clients on one server with the same Call ID: kept apart. */
static void test_two_clients(void)
{
	struct sess s1, s2;
	struct callh c1, c2;

	env_init();
	s1 = sess_open(1, 0);
	s2 = sess_open(2, 0);
	CHECK(s1.up != s2.up);
	c1 = call_up(&s1, 0x4000, 0x10);
	c2 = call_up(&s2, 0x4000, 0x11);
	CHECK_EQ(0, c1.own_conn);
	CHECK_EQ(0, c2.own_conn);
	CHECK(c1.pns_id != c2.pns_id);
	CALL_CARRIES(&s1, &c1, 1, 1);
	CALL_CARRIES(&s2, &c2, 1, 1);
	/* Client 2's GRE with client 1's pac_id is not client 1's call. */
	if (c1.pac_id != c2.pac_id)
		CHECK_EQ(RL_GRE_NOT_MINE,
			 gre_in(CLIENT(2), SERVER, c1.pac_id, 2, TAG_UP, 10));
	/* Clearing client 1's call leaves client 2's alone. */
	{
		struct pptp_msg m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x4000);

		feed(s1.in, &m);
	}
	EXPECT(s1.in, PPTP_CDN);
	EXPECT(s1.up, PPTP_CCRQ);
	CHECK_EQ(0, pending(s2.in));
	CHECK_EQ(0, pending(s2.up));
	CALL_CARRIES(&s2, &c2, 2, 2);
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(gre),
	CHECK_CASE(two_clients),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
