/*
 * A side of the relay going away: the upstream connection lost (the
 * primary, a per-call one), the client lost (also while its upstream is
 * still connecting), Stop-Control from the server or the client, and the
 * relay shut down with calls up.  The bench is in relay_fixture.h.
 */
#include "relay_fixture.h"

static void test_primary_closed(void)
{
	struct sess s;
	struct callh c[3];
	struct pptp_msg m;
	const struct pptp_msg *got;
	int i;

	/* Two calls on the primary; the server's TCP goes.  The client hears
	 * of both calls, and its connection stays for the next one. */
	env_init();
	s = sess_open(1, 0);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	E.live[s.up] = 0;
	relay_closed(&E.r, s.up, E.now);
	CHECK_EQ(0, E.nclose[s.up]);
	for (i = 0; i < 2; i++) {
		got = EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(c[i].pac_id, got->num[PF_CALL_ID]);
		CHECK_EQ(1, got->num[PF_RESULT]);
	}
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(2, E.r.ended[RLE_SERVER_GONE]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(RL_NONE, E.r.conns[s.in].primary);
	CHECK_EQ(1, E.r.nconns);
	CHECK_EQ(0, E.nclose[s.in]);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[0], 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));
	/* The next call opens a connection of its own, which goes with it. */
	c[2] = call_up(&s, 0x23, 0x803);
	CHECK_EQ(1, c[2].own_conn);
	CHECK_EQ(1, E.r.conns[c[2].up].per_call);
	CALL_CARRIES(&s, &c[2], 1, 1);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x23);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(c[2].up, PPTP_CCRQ);
	EXPECT(c[2].up, PPTP_STOPCCRQ);
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[2].up, &m);
	CHECK_EQ(1, E.nclose[c[2].up]);
	CHECK_EQ(1, E.r.nconns);
	/* The client leaves when it likes. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	CHECK_EQ(0, E.r.nconns);
	env_done();

	/* Maximum Channels 1: the primary goes, the per-call connection's
	 * call carries on. */
	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	E.live[s.up] = 0;
	relay_closed(&E.r, s.up, E.now);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[0].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, pending(c[1].up));
	CHECK_EQ(1, E.r.ncalls);
	CALL_CARRIES(&s, &c[1], 1, 1);
	/* The client goes: the per-call call is cleared upstream. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	got = EXPECT(c[1].up, PPTP_CCRQ);
	CHECK_EQ(c[1].pns_id, got->num[PF_CALL_ID]);
	EXPECT(c[1].up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[1].up, &m);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_per_call_closed(void)
{
	struct sess s;
	struct callh c[3];
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x21, 0x801);
	c[1] = call_up(&s, 0x22, 0x802);
	c[2] = call_up(&s, 0x23, 0x803);
	E.live[c[1].up] = 0;
	relay_closed(&E.r, c[1].up, E.now);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[1].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(c[2].up));
	CHECK_EQ(0, E.nclose[c[1].up]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(3, E.r.nconns);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_GONE]);
	CALL_CARRIES(&s, &c[0], 1, 1);
	CALL_CARRIES(&s, &c[2], 1, 1);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));

	/* The server stops a per-call connection: answered, and it ends only
	 * its own call. */
	{
		struct pptp_msg m = stop_msg(PPTP_STOPCCRQ);

		feed(c[2].up, &m);
	}
	EXPECT(c[2].up, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[c[2].up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[2].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(1, E.r.ncalls);
	CALL_CARRIES(&s, &c[0], 2, 2);
	env_done();
}

static void test_server_stop(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x31, 0x701);
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_STOPCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(1, E.nclose[s.up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(0, E.r.ncalls);
	/* The client stops: a reply, and it goes. */
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_client_closed(void)
{
	struct sess s;
	struct callh c[2];
	const struct pptp_msg *got;
	int i;

	env_init();
	s = sess_open(1, 1);
	c[0] = call_up(&s, 0x41, 0x601);
	c[1] = call_up(&s, 0x42, 0x602);
	CHECK_EQ(2, E.nids);
	E.live[s.in] = 0;
	relay_closed(&E.r, s.in, E.now);
	CHECK_EQ(0, E.nclose[s.in]);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(2, E.r.ended[RLE_CLIENT_GONE]);
	for (i = 0; i < 2; i++) {
		got = EXPECT(c[i].up, PPTP_CCRQ);
		CHECK_EQ(c[i].pns_id, got->num[PF_CALL_ID]);
		EXPECT(c[i].up, PPTP_STOPCCRQ);
		CHECK_EQ(0, pending(c[i].up));
		CHECK_EQ(RLC_STOPPING, E.r.conns[c[i].up].state);
	}
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[0], 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 1, 10));
	/* The servers do not answer the stop: closed after stop_ms. */
	relay_tick(&E.r, E.now + E.r.cfg.stop_ms - 1);
	CHECK_EQ(0, E.nclose[c[0].up] + E.nclose[c[1].up]);
	relay_tick(&E.r, E.now + E.r.cfg.stop_ms);
	CHECK_EQ(1, E.nclose[c[0].up]);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.r.conns_hwm);
	CHECK_EQ(E.id_gets, E.id_puts);
	env_done();

	/* A client that goes while its primary is still connecting. */
	env_init();
	{
		uint32_t in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		struct pptp_msg m = sccrq("c");
		uint32_t up;

		E.live[in] = 1;
		feed(in, &m);
		up = next_connect();
		E.live[in] = 0;
		relay_closed(&E.r, in, E.now);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(0, pending(up));
		CHECK_EQ(0, E.r.nconns);
		/* Late news for the freed slot is ignored. */
		relay_connected(&E.r, up, PUB, E.now);
		relay_closed(&E.r, up, E.now);
		CHECK_EQ(0, E.r.nconns);
		CHECK_EQ(0, pending(up));
	}
	env_done();
}

static void test_client_stop(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x51, 0x501);
	m = stop_msg(PPTP_STOPCCRQ);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_STOPCCRP);
	CHECK_EQ(1, E.nclose[s.in]);
	EXPECT(s.up, PPTP_CCRQ);
	EXPECT(s.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	/* A late CDN from the server for the cleared call, then its stop
	 * reply: the upstream connection is closed. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, c.server_id);
	feed(s.up, &m);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	m = stop_msg(PPTP_STOPCCRP);
	feed(s.up, &m);
	CHECK_EQ(1, E.nclose[s.up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();
}

static void test_shutdown(void)
{
	struct sess s1, s2;
	struct callh c[4];
	const struct pptp_msg *got;
	uint32_t half;
	int i;

	env_init();
	s1 = sess_open(1, 1);
	s2 = sess_open(2, 1);
	c[0] = call_up(&s1, 1, 0x11);
	c[1] = call_up(&s1, 2, 0x12);
	c[2] = call_up(&s2, 1, 0x13);
	c[3] = call_up(&s2, 2, 0x14);
	/* A client half-way through its start, too. */
	half = relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now);
	E.live[half] = 1;
	{
		struct pptp_msg m = sccrq("half");

		feed(half, &m);
	}
	CHECK_EQ(5, E.nconnect);
	next_connect();
	relay_shutdown(&E.r, E.now);
	for (i = 0; i < 4; i++) {
		uint32_t in = i < 2 ? s1.in : s2.in;

		got = EXPECT(in, PPTP_CDN);
		CHECK_EQ(c[i].pac_id, got->num[PF_CALL_ID]);
		CHECK_EQ(3, got->num[PF_RESULT]);
		got = EXPECT(c[i].up, PPTP_CCRQ);
		CHECK_EQ(c[i].pns_id, got->num[PF_CALL_ID]);
	}
	for (i = 0; i < 4; i++)
		EXPECT(c[i].up, PPTP_STOPCCRQ);
	got = EXPECT(s1.in, PPTP_STOPCCRQ);
	CHECK_EQ(3, got->num[PF_REASON]);
	EXPECT(s2.in, PPTP_STOPCCRQ);
	for (i = 0; i < NSLOT; i++) {
		CHECK_EQ(0, pending((uint32_t)i));
		CHECK_EQ(0, E.live[i]);
		CHECK(E.nclose[i] <= 1);
	}
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(4, E.r.ended[RLE_SHUTDOWN]);
	CHECK_EQ(0, E.nids);
	/* The relay may be used again afterwards. */
	relay_tick(&E.r, E.now + 1);
	s1 = sess_open(1, 0);
	c[0] = call_up(&s1, 1, 0x11);
	CALL_CARRIES(&s1, &c[0], 1, 1);
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(primary_closed),
	CHECK_CASE(per_call_closed),
	CHECK_CASE(server_stop),
	CHECK_CASE(client_closed),
	CHECK_CASE(client_stop),
	CHECK_CASE(shutdown),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
