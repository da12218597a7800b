/*
 * The relay at its limits and under hostile input: tables full and no
 * Call ID to be had, damaged headers and garbage from either side (only
 * that connection goes), and a random walk of sessions after which the
 * books balance.  The bench is in relay_fixture.h.
 */
#include "relay_fixture.h"

/* A control message with its header damaged at one place. */
struct hostile_case {
	const char *name;
	int off;                /* byte to overwrite, -1: none */
	uint8_t val;
	unsigned type;          /* message sent */
};

static const struct hostile_case hostile[] = {
	{ "bad cookie", 4, 0x00, PPTP_SCCRQ },
	{ "bad cookie last byte", 7, 0x4E, PPTP_SCCRQ },
	{ "bad length", 1, 100, PPTP_SCCRQ },
	{ "length zero", 1, 0, PPTP_SCCRQ },
	{ "length over 220", 0, 0x10, PPTP_SCCRQ },
	{ "management message", 3, 2, PPTP_SCCRQ },
	{ "control type 0", 9, 0, PPTP_SCCRQ },
	{ "control type 16", 9, 16, PPTP_SCCRQ },
	{ "OCRQ first", -1, 0, PPTP_OCRQ },
	{ "Echo-Request first", -1, 0, PPTP_ECHORQ },
	{ "SCCRP first", -1, 0, PPTP_SCCRP },
};

static void test_hostile(void)
{
	size_t i;
	struct sess s;
	struct callh c;
	uint8_t b[PPTP_MAX_LEN];
	struct pptp_msg m;
	uint32_t bad;
	size_t n;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile_case *h = &hostile[i];
		int f = check_failed;

		env_init();
		s = sess_open(1, 0);
		c = call_up(&s, 0x10, 0x20);
		bad = relay_accept(&E.r, CLIENT(2), 2, SERVER, E.now);
		E.live[bad] = 1;
		m = h->type == PPTP_SCCRQ ? sccrq("x") : M(h->type);
		n = pptp_build(&m, b, sizeof(b));
		if (h->off >= 0)
			b[h->off] = h->val;
		feed_raw(bad, b, n);
		CHECK_EQ(1, E.nclose[bad]);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(0, pending(bad));
		CHECK_EQ(1, E.nconnect);
		CHECK_EQ(2, E.r.nconns);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(0, pending(s.up));
		CALL_CARRIES(&s, &c, 1, 1);
		/* More bytes for the closed slot change nothing. */
		feed_raw(bad, b, n);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		env_done();
		if (check_failed != f)
			fprintf(stderr, "  (hostile case: %s)\n", h->name);
	}

	/* Garbage from an established client ends its calls and only its. */
	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x10, 0x20);
	{
		struct sess s2 = sess_open(2, 0);
		struct callh c2 = call_up(&s2, 0x10, 0x21);

		memset(b, 0x41, sizeof(b));
		feed_raw(s2.in, b, 40);
		CHECK_EQ(1, E.nclose[s2.in]);
		EXPECT(s2.up, PPTP_CCRQ);
		EXPECT(s2.up, PPTP_STOPCCRQ);
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(1, E.r.ncalls);
		CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s2, &c2, 1, 10));
		CALL_CARRIES(&s, &c, 1, 1);
		CHECK_EQ(0, pending(s.in) + pending(s.up));
		/* ... and from a server: the client hears of it. */
		memset(b, 0x41, sizeof(b));
		feed_raw(s.up, b, 40);
		CHECK_EQ(1, E.nclose[s.up]);
		EXPECT(s.in, PPTP_CDN);
		CHECK_EQ(0, pending(s.in));
		CHECK_EQ(2, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(0, E.r.ncalls);
	}
	env_done();
}

/* A bad header is judged as soon as its 12 bytes are in: a peer that sends
 * just a bad header, and then nothing, is dropped at once. */
static void test_bad_header_alone(void)
{
	uint8_t b[PPTP_MAX_LEN];
	struct pptp_msg m = sccrq("x");
	uint32_t in;
	int split;

	for (split = 0; split < 2; split++) {
		env_init();
		in = relay_accept(&E.r, CLIENT(1), 1, SERVER, E.now);
		E.live[in] = 1;
		pptp_build(&m, b, sizeof(b));
		b[4] = 0;      /* cookie */
		if (split) {
			feed_raw(in, b, 5);
			feed_raw(in, b + 5, 7);
		} else {
			feed_raw(in, b, PPTP_HDR_LEN);
		}
		CHECK_EQ(1, E.r.ctr[RLS_CTL_MALFORMED]);
		CHECK_EQ(1, E.nclose[in]);
		CHECK_EQ(0, E.nconnect);
		env_done();
	}
}

static void test_tables_full(void)
{
	struct rl_cfg cfg;
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in;

	/* Two calls at most: the third is refused with an OCRP error. */
	cfg_test(&cfg);
	cfg.max_calls = 2;
	env_init_cfg(&cfg);
	s = sess_open(1, 0);
	call_up(&s, 1, 0x11);
	call_up(&s, 2, 0x12);
	m = ocrq(3, 3);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(1, E.r.ctr[RLS_CALLS_REFUSED]);
	CHECK_EQ(2, E.r.ncalls);
	/* And the server's incoming call: refused upstream. */
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x77);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x77, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.in));
	env_done();

	/* Three connections at most: one client with its primary, a second
	 * accepted whose start cannot go upstream, a third not accepted. */
	cfg_test(&cfg);
	cfg.max_conns = 3;
	env_init_cfg(&cfg);
	s = sess_open(1, 1);
	in = relay_accept(&E.r, CLIENT(2), 2, SERVER, E.now);
	CHECK(in != RL_NONE);
	E.live[in] = 1;
	CHECK_EQ(RL_NONE, relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now));
	CHECK_EQ(1, E.r.ctr[RLS_INSIDE_REFUSED]);
	CHECK_EQ(3, E.r.nconns);
	m = sccrq("late");
	feed(in, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(1, E.nclose[in]);
	CHECK_EQ(2, E.r.nconns);
	/* A slot is free again: the per-call connection takes it; then none
	 * is left for another. */
	call_up(&s, 1, 0x11);
	{
		struct callh c2 = call_up(&s, 2, 0x12);

		CHECK_EQ(1, c2.own_conn);
	}
	CHECK_EQ(3, E.r.nconns);
	m = ocrq(3, 3);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(RL_NONE, relay_accept(&E.r, CLIENT(3), 3, SERVER, E.now));
	env_done();

	/* No Call ID to be had from the allocator. */
	env_init();
	s = sess_open(1, 0);
	E.id_fail = 1;
	m = ocrq(5, 5);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(5, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, E.r.ncalls);
	E.id_fail = 0;
	env_done();
}

/* The session is still the one opened (its slot not reused). */
static int sess_alive(const struct sess *s)
{
	return s->in != RL_NONE && E.live[s->in] &&
	       E.r.conns[s->in].gen == s->in_gen &&
	       E.r.conns[s->in].side == RL_INSIDE;
}

/* Random sessions of a few clients: the books balance after every step,
 * and in the end every Call ID has come back and every slot is closed. */
static void test_random_walk(void)
{
	int round, step;

	for (round = 0; round < 40; round++) {
		struct sess s[3];
		int n = 0, bad = 0;
		uint16_t next_cid = 1;
		struct rl_cfg cfg;
		int i;

		/* Echo far off, so that the helpers' exchanges are not
		 * interleaved with Echo-Requests. */
		cfg_test(&cfg);
		cfg.echo_idle_ms = 1u << 30;
		env_init_cfg(&cfg);
		for (step = 0; step < 60; step++) {
			uint32_t r = check_rand();
			int who = (int)(r % 3);
			struct pptp_msg m;

			/* Only what this step sends is checked. */
			for (i = 0; i < E.nmsg; i++)
				E.msg[i].read = 1;
			E.nmsg = 0;
			E.gre_read = E.ngre = 0;

			switch ((r >> 4) % 8) {
			case 0:
				if (n < 3) {
					s[n] = sess_open(n + 1, (r >> 8) & 1);
					n++;
				}
				break;
			case 1: case 2:
				if (who < n && sess_alive(&s[who]) &&
				    E.r.conns[s[who].in].state ==
				    RLC_ESTABLISHED) {
					call_up(&s[who], next_cid,
						(uint16_t)(r >> 8));
					next_cid++;
				}
				break;
			case 3:
				if (who < n && sess_alive(&s[who])) {
					m = msg_id(PPTP_CCRQ, PF_CALL_ID,
						   (uint16_t)(1 + (r >> 16) %
							      next_cid));
					feed(s[who].in, &m);
				}
				break;
			case 4:
				relay_call_clear(&E.r, (r >> 8) % 32, E.now);
				break;
			case 5:
				E.now += (r >> 8) % 20000;
				relay_tick(&E.r, E.now);
				break;
			case 6:
				if (who < n && sess_alive(&s[who]) &&
				    E.live[s[who].up] &&
				    E.r.conns[s[who].up].owner == s[who].in) {
					E.live[s[who].up] = 0;
					relay_closed(&E.r, s[who].up, E.now);
				}
				break;
			case 7:
				if (who < n && sess_alive(&s[who])) {
					E.live[s[who].in] = 0;
					relay_closed(&E.r, s[who].in, E.now);
				}
				break;
			}
			if (!books_ok(&E.r) || ids_held(&E.r) != E.nids)
				bad++;
		}
		CHECK_EQ(0, bad);
		/* Not every message was read here. */
		for (step = 0; step < E.nmsg; step++)
			E.msg[step].read = 1;
		env_done();
	}
}


/*
 * One client asking for every session the relay has (item 4 of the
 * issue): it gets sessions_per_client of them, the rest are refused
 * (counted apart from a full table), and another client still gets a
 * session and a call.  One of the first client's sessions gone, it may
 * open one again.
 */
static void test_sessions_per_client(void)
{
	struct rl_cfg cfg;
	struct sess s[4], s2;
	uint32_t in, i;
	int refused = 0;

	cfg_test(&cfg);
	cfg.sessions_per_client = 4;
	env_init_cfg(&cfg);
	for (i = 0; i < 4; i++)
		s[i] = sess_open(1, 0);
	/* It asks for as many more as the table has slots. */
	for (i = 0; i < cfg.max_conns; i++) {
		in = relay_accept(&E.r, CLIENT(1), (uint16_t)(41000 + i),
				  SERVER, E.now);
		if (in == RL_NONE) {
			refused++;
			continue;
		}
		E.live[in] = 1;
	}
	CHECK_EQ(cfg.max_conns, refused);
	CHECK_EQ(cfg.max_conns, E.r.ctr[RLS_INSIDE_CLIENT_LIMIT]);
	CHECK_EQ(0, E.r.ctr[RLS_INSIDE_REFUSED]);
	CHECK_EQ(8, E.r.nconns);
	/* Another client is not refused, and its call works. */
	s2 = sess_open(2, 0);
	{
		struct callh c = call_up(&s2, 1, 0x21);

		CALL_CARRIES(&s2, &c, 1, 1);
	}
	CHECK_EQ(cfg.max_conns, E.r.ctr[RLS_INSIDE_CLIENT_LIMIT]);
	/* One session of client 1 closed: it may open one more, only. */
	E.live[s[0].in] = 0;
	relay_closed(&E.r, s[0].in, E.now);
	drain(s[0].up);
	s[0] = sess_open(1, 0);
	CHECK_EQ(RL_NONE, relay_accept(&E.r, CLIENT(1), 42000, SERVER,
				       E.now));
	CHECK_EQ(cfg.max_conns + 1, E.r.ctr[RLS_INSIDE_CLIENT_LIMIT]);
	/* The limit is reloadable: raised, it lets the client in. */
	cfg.sessions_per_client = 5;
	relay_set_cfg(&E.r, &cfg);
	in = relay_accept(&E.r, CLIENT(1), 42001, SERVER, E.now);
	CHECK(in != RL_NONE);
	if (in != RL_NONE)
		E.live[in] = 1;
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(hostile),
	CHECK_CASE(bad_header_alone),
	CHECK_CASE(tables_full),
	CHECK_CASE(random_walk),
	CHECK_CASE(sessions_per_client),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
