/*
 * The relay's control connections: starting (upstream first, the client
 * answered once the server has), what a client sends while its start
 * waits, start failures and timeouts, Echo both ways, messages split and
 * coalesced.  The bench is in relay_fixture.h.
 */
#include "relay_fixture.h"

static void test_names(void)
{
	unsigned i;

	for (i = 0; i < RLC_STATE_COUNT; i++)
		CHECK(strcmp(rl_conn_state_name(i), "?") != 0);
	for (i = 0; i < RLK_STATE_COUNT; i++)
		CHECK(strcmp(rl_call_state_name(i), "?") != 0);
	for (i = 0; i < RLE_COUNT; i++)
		CHECK(strcmp(rl_end_name(i), "?") != 0);
	for (i = 0; i < RLS_COUNT; i++)
		CHECK(strcmp(rl_counter_name(i), "?") != 0);
	CHECK(strcmp(rl_conn_state_name(RLC_STATE_COUNT), "?") == 0);
	CHECK(strcmp(rl_call_state_name(RLK_STATE_COUNT), "?") == 0);
	CHECK(strcmp(rl_end_name(RLE_COUNT), "?") == 0);
	CHECK(strcmp(rl_counter_name(RLS_COUNT), "?") == 0);
	CHECK(strcmp(rl_counter_name(RLS_GRE_DUP), "gre_dup") == 0);
	CHECK(strcmp(rl_end_name(RLE_SERVER_CDN), "server_cdn") == 0);
}

static void test_init(void)
{
	struct rl_cfg c;
	struct rl_hooks h;
	struct relay r;

	memset(&h, 0, sizeof(h));
	relay_default_cfg(&c);
	CHECK_EQ(60000, c.echo_idle_ms);
	CHECK_EQ(10000, c.start_ms);
	CHECK_EQ(5000, c.stop_ms);
	CHECK_EQ(0, c.per_call);
	c.max_conns = 0;
	CHECK_EQ(-1, relay_init(&r, &c, &h));
	relay_destroy(&r);
	c.max_conns = 4;
	c.max_calls = 0;
	CHECK_EQ(-1, relay_init(&r, &c, &h));
	relay_destroy(&r);
	c.max_calls = 4;
	CHECK_EQ(0, relay_init(&r, &c, &h));
	CHECK_EQ(0, r.nconns);
	CHECK_EQ(0, r.ncalls);
	CHECK_EQ(0, relay_server_per_call(&r, SERVER));
	CHECK_EQ(-1, relay_call_clear(&r, 0, 0));
	CHECK_EQ(-1, relay_call_clear(&r, 4, 0));
	CHECK_EQ(RL_GRE_NOT_MINE,
		 relay_gre_input(&r, CLIENT(1), SERVER, (const uint8_t *)"", 0,
				 0));
	relay_destroy(&r);
}

static void test_echo(void)
{
	struct sess s;
	struct callh c;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint64_t t;
	uint32_t id_up, id_in;
	struct rl_cfg cfg;

	cfg_test(&cfg);
	cfg.echo_reply_ms = 20000;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	c = call_up(&s, 0x61, 0x401);
	t = E.now;

	/* Client Echo-Request: answered at once, same identifier. */
	m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = 0xDEADBEEF;
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_ECHORP);
	CHECK_EQ(0xDEADBEEFu, got->num[PF_IDENTIFIER]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	/* Same from the server. */
	m.num[PF_IDENTIFIER] = 7;
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ECHORP);
	CHECK_EQ(7, got->num[PF_IDENTIFIER]);

	/* Silence: an Echo-Request to each peer after echo_idle_ms. */
	relay_tick(&E.r, t + E.r.cfg.echo_idle_ms - 1);
	CHECK_EQ(0, pending(s.in) + pending(s.up));
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	id_up = got->num[PF_IDENTIFIER];
	got = EXPECT(s.in, PPTP_ECHORQ);
	id_in = got->num[PF_IDENTIFIER];
	CHECK_EQ(2, E.r.ctr[RLS_ECHO_SENT]);
	/* Answered: nothing more until the next silence. */
	E.now += 1000;
	m = msg_id(PPTP_ECHORP, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = id_up;
	m.num[PF_RESULT] = 1;
	feed(s.up, &m);
	m.num[PF_IDENTIFIER] = id_in;
	feed(s.in, &m);
	t = E.now;
	relay_tick(&E.r, t + E.r.cfg.echo_idle_ms - 1);
	CHECK_EQ(0, pending(s.in) + pending(s.up));
	CHECK_EQ(0, E.r.ctr[RLS_ECHO_TIMEOUTS]);
	CHECK_EQ(2, E.r.nconns);
	CHECK_EQ(1, E.r.ncalls);

	/* Silence again; this time only the client answers. */
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	CHECK(got->num[PF_IDENTIFIER] != id_up);
	got = EXPECT(s.in, PPTP_ECHORQ);
	m.num[PF_IDENTIFIER] = got->num[PF_IDENTIFIER];
	feed(s.in, &m);
	relay_tick(&E.r, E.now + E.r.cfg.echo_reply_ms - 1);
	CHECK_EQ(0, E.nclose[s.up]);
	E.now += E.r.cfg.echo_reply_ms;
	relay_tick(&E.r, E.now);
	CHECK_EQ(1, E.r.ctr[RLS_ECHO_TIMEOUTS]);
	CHECK_EQ(1, E.nclose[s.up]);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_TIMEOUT]);
	CHECK_EQ(0, pending(s.up));
	env_done();

	/* A client that never answers: dropped, its calls cleared upstream. */
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	c = call_up(&s, 0x61, 0x401);
	t = E.now;
	E.now = t + E.r.cfg.echo_idle_ms;
	relay_tick(&E.r, E.now);
	got = EXPECT(s.up, PPTP_ECHORQ);
	m = msg_id(PPTP_ECHORP, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = got->num[PF_IDENTIFIER];
	m.num[PF_RESULT] = 1;
	feed(s.up, &m);
	EXPECT(s.in, PPTP_ECHORQ);
	E.now += E.r.cfg.echo_reply_ms;
	relay_tick(&E.r, E.now);
	CHECK_EQ(1, E.nclose[s.in]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
	EXPECT(s.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);
	env_done();
}

static void test_timeouts(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	struct rl_cfg cfg;
	int step;

	/* The upstream never connects (0), or never answers the start (1):
	 * the client gets an error reply after start_ms and is closed. */
	for (step = 0; step < 2; step++) {
		env_init();
		in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		E.live[in] = 1;
		m = sccrq("c");
		feed(in, &m);
		up = next_connect();
		if (step == 1) {
			relay_connected(&E.r, up, PUB, E.now + 1);
			EXPECT(up, PPTP_SCCRQ);
		}
		relay_tick(&E.r, E.now + E.r.cfg.start_ms - 1);
		CHECK_EQ(0, pending(in));
		CHECK_EQ(2, E.r.nconns);
		relay_tick(&E.r, E.now + E.r.cfg.start_ms + step);
		got = EXPECT(in, PPTP_SCCRP);
		CHECK(got->num[PF_RESULT] != 1);
		CHECK_EQ(1, E.nclose[in]);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(0, E.r.nconns);
		CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
		env_done();
	}

	/* The connect fails at once. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	E.connect_fail = 1;
	m = sccrq("c");
	feed(in, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
	env_done();

	/* The connect fails later. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("c");
	feed(in, &m);
	up = next_connect();
	E.live[up] = 0;
	relay_closed(&E.r, up, E.now);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	env_done();

	/* The server refuses the start: its answer reaches the client. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("c");
	feed(in, &m);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(2, 1);
	m.num[PF_ERROR] = 4;
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(2, got->num[PF_RESULT]);
	CHECK_EQ(4, got->num[PF_ERROR]);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(1, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	/* It never reached "established": counted as failed. */
	CHECK_EQ(1, E.r.ctr[RLS_UPSTREAM_FAILED]);
	env_done();

	/* A client that never starts. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	relay_tick(&E.r, E.now + E.r.cfg.start_ms - 1);
	CHECK_EQ(0, E.nclose[in]);
	relay_tick(&E.r, E.now + E.r.cfg.start_ms);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, E.nconnect);
	env_done();

	/* No Outgoing-Call-Reply within call_ms. */
	cfg_test(&cfg);
	cfg.echo_idle_ms = 10 * cfg.call_ms;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	m = ocrq(0x71, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	{
		uint16_t pns = (uint16_t)got->num[PF_CALL_ID];
		uint32_t slot = 0;
		uint16_t pac;

		slot = first_call();
		pac = E.r.calls[slot].pac_id;
		relay_tick(&E.r, E.now + cfg.call_ms - 1);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(1, E.r.ncalls);
		relay_tick(&E.r, E.now + cfg.call_ms);
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(pac, got->num[PF_CALL_ID]);
		CHECK_EQ(0x71, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		got = EXPECT(s.up, PPTP_CCRQ);
		CHECK_EQ(pns, got->num[PF_CALL_ID]);
		CHECK_EQ(0, E.r.ncalls);
		CHECK_EQ(0, E.nids);
		CHECK_EQ(1, E.r.ended[RLE_TIMEOUT]);
		/* Its reply after all: unexpected, nothing relayed. */
		m = ocrp(1, pns, 1);
		feed(s.up, &m);
		CHECK_EQ(0, pending(s.in));
	}
	env_done();

	/* A per-call connection that never connects: the call fails with an
	 * OCRP error after start_ms, the rest stays. */
	env_init();
	s = sess_open(1, 1);
	{
		struct callh c0 = call_up(&s, 0x70, 0x300);

		m = ocrq(0x71, 1);
		feed(s.in, &m);
		up = next_connect();
		CHECK(up != RL_NONE);
		relay_tick(&E.r, E.now + E.r.cfg.start_ms);
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(0x71, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		CHECK_EQ(1, E.nclose[up]);
		CHECK_EQ(1, E.r.ncalls);
		CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.in].state);
		E.now += E.r.cfg.start_ms;
		CALL_CARRIES(&s, &c0, 1, 1);
	}
	env_done();
}

static void test_split_and_coalesced(void)
{
	uint8_t b[8 * PPTP_MAX_LEN];
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	size_t n, i;
	uint16_t pns[3];
	int k;

	/* Everything one byte at a time, both ways. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("bytewise");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x33, 3);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	for (i = 0; i < n; i++) {
		feed_raw(in, b + i, 1);
		if (i == 154) {
			CHECK_EQ(0, E.nconnect);
		}
		if (i == 155) {
			CHECK_EQ(1, E.nconnect);
		}
	}
	/* The OCRQ came before the start finished: it waits for it. */
	CHECK_EQ(0, E.r.ctr[RLS_CTL_UNEXPECTED]);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	got = EXPECT(up, PPTP_SCCRQ);
	CHECK(strcmp((const char *)got->blob[PB_HOSTNAME], "bytewise") == 0);
	CHECK_EQ(0, pending(up));
	m = sccrp(1, 0);
	n = pptp_build(&m, b, sizeof(b));
	for (i = 0; i < n; i++)
		feed_raw(up, b + i, 1);
	EXPECT(in, PPTP_SCCRP);
	got = EXPECT(up, PPTP_OCRQ);
	CHECK_EQ(3, got->num[PF_CALL_SERIAL]);
	pns[0] = (uint16_t)got->num[PF_CALL_ID];
	m = ocrp(0x99, pns[0], 1);
	n = pptp_build(&m, b, sizeof(b));
	for (i = 0; i < n; i++)
		feed_raw(up, b + i, 1);
	got = EXPECT(in, PPTP_OCRP);
	CHECK_EQ(0x33, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(0, E.r.ctr[RLS_CTL_MALFORMED]);
	env_done();

	/* Several messages in one read, both ways, at odd cuts. */
	env_init();
	{
		struct sess s = sess_open(1, 0);
		size_t cut;

		n = 0;
		for (k = 0; k < 3; k++) {
			m = ocrq((uint16_t)(0x50 + k), (uint16_t)k);
			n += pptp_build(&m, b + n, sizeof(b) - n);
		}
		m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 42);
		n += pptp_build(&m, b + n, sizeof(b) - n);
		feed_raw(s.in, b, n);
		for (k = 0; k < 3; k++) {
			got = EXPECT(s.up, PPTP_OCRQ);
			CHECK_EQ(k, got->num[PF_CALL_SERIAL]);
			pns[k] = (uint16_t)got->num[PF_CALL_ID];
		}
		got = EXPECT(s.in, PPTP_ECHORP);
		CHECK_EQ(42, got->num[PF_IDENTIFIER]);
		n = 0;
		for (k = 0; k < 3; k++) {
			m = ocrp((uint16_t)(0x70 + k), pns[k], 1);
			n += pptp_build(&m, b + n, sizeof(b) - n);
		}
		/* A cut inside the second header and one inside the third
		 * body. */
		cut = 32 + 5;
		feed_raw(s.up, b, cut);
		feed_raw(s.up, b + cut, 64 + 20 - cut);
		feed_raw(s.up, b + 64 + 20, n - 64 - 20);
		for (k = 0; k < 3; k++) {
			got = EXPECT(s.in, PPTP_OCRP);
			CHECK_EQ(0x50 + k, got->num[PF_PEER_CALL_ID]);
			CHECK_EQ(1, got->num[PF_RESULT]);
		}
		CHECK_EQ(3, E.r.ctr[RLS_CALLS]);
		/* A good message then garbage in one read: the first counts,
		 * then the connection goes. */
		m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x50);
		n = pptp_build(&m, b, sizeof(b));
		memset(b + n, 0xEE, 20);
		feed_raw(s.in, b, n + 20);
		EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(1, E.nclose[s.in]);
		CHECK_EQ(0, E.r.ncalls);
		for (k = 0; k < 3; k++)
			EXPECT(s.up, PPTP_CCRQ);
		EXPECT(s.up, PPTP_STOPCCRQ);
	}
	env_done();
}

/* What a client sends while its start waits for the server is kept, and
 * taken up in order once the server has answered. */
static void test_held_before_start(void)
{
	uint8_t b[8 * PPTP_MAX_LEN];
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up;
	size_t n;
	int k;

	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x61, 1);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	m = msg_id(PPTP_ECHORQ, PF_IDENTIFIER, 0);
	m.num[PF_IDENTIFIER] = 9;
	n += pptp_build(&m, b + n, sizeof(b) - n);
	/* The second call's request arrives split around the wait. */
	m = ocrq(0x62, 2);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	feed_raw(in, b, n - 100);
	CHECK_EQ(0, pending(in));
	up = next_connect();
	feed_raw(in, b + n - 100, 100);
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	CHECK_EQ(0, pending(up));
	CHECK_EQ(0, pending(in));
	m = sccrp(1, 0);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	got = EXPECT(in, PPTP_ECHORP);
	CHECK_EQ(9, got->num[PF_IDENTIFIER]);
	for (k = 0; k < 2; k++) {
		got = EXPECT(up, PPTP_OCRQ);
		CHECK_EQ(k + 1, got->num[PF_CALL_SERIAL]);
	}
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(0, E.r.ctr[RLS_CTL_UNEXPECTED]);
	env_done();

	/* A server that refuses the start: what was kept goes with the
	 * client's connection. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	m = ocrq(0x61, 1);
	n += pptp_build(&m, b + n, sizeof(b) - n);
	feed_raw(in, b, n);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(2, 0);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(2, got->num[PF_RESULT]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(0, E.r.ncalls);
	env_done();

	/* Garbage kept while waiting is judged once the wait is over. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	n = pptp_build(&m, b, sizeof(b));
	memset(b + n, 0x5A, 40);
	feed_raw(in, b, n + 40);
	CHECK_EQ(0, E.nclose[in]);
	up = next_connect();
	relay_connected(&E.r, up, PUB, E.now);
	EXPECT(up, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up, &m);
	EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
	CHECK_EQ(1, E.nclose[in]);
	EXPECT(up, PPTP_STOPCCRQ);
	env_done();

	/* A client that sends without end while it waits is dropped. */
	env_init();
	in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
	E.live[in] = 1;
	m = sccrq("eager");
	feed(in, &m);
	up = next_connect();
	for (k = 0; k < 20 && E.live[in]; k++) {
		m = ocrq((uint16_t)(0x100 + k), (uint16_t)k);
		feed(in, &m);
	}
	CHECK(k > 1 && k < 20);
	CHECK_EQ(0, E.live[in]);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
	CHECK_EQ(1, E.nclose[up]);
	CHECK_EQ(0, E.r.nconns);
	CHECK_EQ(0, pending(in));
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(names),
	CHECK_CASE(init),
	CHECK_CASE(echo),
	CHECK_CASE(timeouts),
	CHECK_CASE(split_and_coalesced),
	CHECK_CASE(held_before_start),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
