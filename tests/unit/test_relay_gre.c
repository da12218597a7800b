/*
 * GRE legs through the relay: reordered, duplicated and lost frames on
 * both legs, packets that are not the relay's (unknown Call ID, spoofed
 * source, wrong destination, bad GRE), GRE of a call not yet up, two
 * clients with the same Call ID kept apart, three calls of one client
 * interleaved, sends that fail.  The plain path of one call's
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

/*
 * GRE the I/O layer could not send (sendto failed: ENOBUFS, EPERM from a
 * firewall, ...) is counted, frames and ack-only packets alike: a frame the
 * relay took in and never passed on must show in its counters, or a lost
 * frame cannot be told apart from one a peer dropped.  The leg's numbering
 * goes on: the peer sees a gap, as it would on any lossy hop.
 */
static void test_send_failed(void)
{
	struct sess s;
	struct callh c;
	uint64_t acks;
	uint32_t i;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x10, 0x20);
	CALL_CARRIES(&s, &c, 1, 1);
	CHECK_EQ(0, E.r.ctr[RLS_GRE_SEND_FAILED]);

	E.gre_fail = 1;
	for (i = 2; i <= 4; i++)
		CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, i, 20));
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 2, 21));
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(4, E.gre_failed);
	CHECK_EQ(4, E.r.ctr[RLS_GRE_SEND_FAILED]);
	/* Taken in, so counted as relayed: the two counters together say
	 * what left. */
	CHECK_EQ(4, E.r.ctr[RLS_FRAMES_UP]);
	CHECK_EQ(2, E.r.ctr[RLS_FRAMES_DOWN]);
	/* The ack-only packet due now (the server's leg: its frame was not
	 * answered with data) fails too. */
	acks = E.r.ctr[RLS_GRE_ACK_ONLY_SENT];
	E.now += E.r.cfg.ack_delay_ms;
	relay_tick(&E.r, E.now);
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(acks + 1, E.r.ctr[RLS_GRE_ACK_ONLY_SENT]);
	CHECK_EQ(5, E.r.ctr[RLS_GRE_SEND_FAILED]);
	CHECK_EQ(5, E.gre_failed);

	/* Sending works again: the next frames carry the next numbers. */
	E.gre_fail = 0;
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c, 5, 30));
	GRE_EXPECT(PUB, SERVER, 0x20, 5, TAG_UP, 5, 30);
	CHECK_EQ(RL_GRE_TAKEN, gre_down(&c, 3, 31));
	GRE_EXPECT(SERVER, CLIENT(1), 0x10, 3, TAG_DOWN, 3, 31);
	CHECK_EQ(5, E.r.ctr[RLS_GRE_SEND_FAILED]);
	env_done();
}

/* Pass over the ack-only packets next in what was sent. */
static void skip_acks(void)
{
	struct gre_info gi;

	while (gre_unread() &&
	       gre_parse(E.gre[E.gre_read].b, E.gre[E.gre_read].len, &gi) ==
		       GRE_OK && !gi.has_seq)
		E.gre_read++;
}

/*
 * Three calls of one client on one inside connection (pptp-linux's call
 * manager), the server taking one call per control connection (pptpd),
 * their GRE interleaved as three paced streams arrive: each call's frames
 * go out on its own server leg, numbered 1, 2, ... in order, with its own
 * Call IDs, and nothing is counted lost, late, reordered or failed.  Then
 * one frame of the middle call is lost before the relay: only that call
 * sees the gap, and only once the reorder buffer gives up on it.
 */
static void test_three_calls_one_client(void)
{
	struct sess s;
	struct callh c[3];
	uint32_t seq, k;
	const int nframes = 40;

	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	c[2] = call_up(&s, 0x23, 0x803);
	CHECK_EQ(0, c[0].own_conn);
	CHECK_EQ(1, c[1].own_conn);
	CHECK_EQ(1, c[2].own_conn);
	CHECK(c[0].pac_id != c[1].pac_id && c[1].pac_id != c[2].pac_id &&
	      c[0].pac_id != c[2].pac_id);

	/* pptp-linux numbers each call's frames from 1, pptpd from 0. */
	for (seq = 1; seq <= (uint32_t)nframes; seq++)
		for (k = 0; k < 3; k++) {
			CHECK_EQ(RL_GRE_TAKEN,
				 gre_up(&s, &c[k], seq, 40 + k + seq % 7));
			GRE_EXPECT(PUB, SERVER, c[k].server_id, seq, TAG_UP,
				   seq, 40 + k + seq % 7);
			CHECK_EQ(RL_GRE_TAKEN,
				 gre_down(&c[k], seq - 1, 50 + k + seq % 5));
			GRE_EXPECT(SERVER, CLIENT(1), c[k].client_id, seq,
				   TAG_DOWN, seq - 1, 50 + k + seq % 5);
		}
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(3 * nframes, E.r.ctr[RLS_FRAMES_UP]);
	CHECK_EQ(3 * nframes, E.r.ctr[RLS_FRAMES_DOWN]);
	for (k = 0; k < 3; k++) {
		const struct rl_call *kc = &E.r.calls[c[k].slot];

		CHECK_EQ(nframes, kc->leg_client.st.rx_delivered);
		CHECK_EQ(nframes, kc->leg_server.st.tx_frames);
		CHECK_EQ(nframes, kc->leg_server.st.rx_delivered);
		CHECK_EQ(nframes, kc->leg_client.st.tx_frames);
	}
	CHECK_EQ(0, E.r.ctr[RLS_GRE_LOST] + E.r.ctr[RLS_GRE_LATE] +
		    E.r.ctr[RLS_GRE_DUP] + E.r.ctr[RLS_GRE_REORDERED] +
		    E.r.ctr[RLS_GRE_BAD] + E.r.ctr[RLS_GRE_SEND_FAILED]);

	/* Frame 41 of the middle call never arrives; 42 and 43 wait. */
	seq = nframes + 1;
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c[0], seq, 10));
	GRE_EXPECT(PUB, SERVER, c[0].server_id, seq, TAG_UP, seq, 10);
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c[1], seq + 1, 11));
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c[2], seq, 12));
	GRE_EXPECT(PUB, SERVER, c[2].server_id, seq, TAG_UP, seq, 12);
	CHECK_EQ(RL_GRE_TAKEN, gre_up(&s, &c[1], seq + 2, 13));
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(0, E.r.ctr[RLS_GRE_LOST]);
	E.now += E.r.cfg.reorder_ms;
	relay_tick(&E.r, E.now);
	/* Given up: 42 and 43 go on, numbered on from the last one sent
	 * (among the ack-only packets now due on every call). */
	skip_acks();
	GRE_EXPECT(PUB, SERVER, c[1].server_id, seq, TAG_UP, seq + 1, 11);
	skip_acks();
	GRE_EXPECT(PUB, SERVER, c[1].server_id, seq + 1, TAG_UP, seq + 2, 13);
	skip_acks();
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(1, E.r.ctr[RLS_GRE_LOST]);
	CHECK_EQ(1, E.r.calls[c[1].slot].leg_client.st.rx_lost);
	CHECK_EQ(0, E.r.calls[c[0].slot].leg_client.st.rx_lost);
	CHECK_EQ(0, E.r.calls[c[2].slot].leg_client.st.rx_lost);
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(gre),
	CHECK_CASE(two_clients),
	CHECK_CASE(send_failed),
	CHECK_CASE(three_calls_one_client),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
