/*
 * Calls through the relay and their pairing with upstream connections:
 * the whole path of one call (start, call, GRE both ways with the relay's
 * own numbering and acks), Maximum Channels and per-call connections,
 * refusals and retries, the servers learned to need a connection per call,
 * incoming calls, the Call ID fields of SLI, WEN and CDN, Call ID 0,
 * clearing by the administrator, Call IDs reused or taken elsewhere.  The
 * bench is in relay_fixture.h.
 */
#include "relay_fixture.h"

static void test_happy_path(void)
{
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t in, up, slot, i;
	uint16_t pns, pac;
	struct gre_info gi;

	env_init();
	in = relay_accept(&E.r, CLIENT(1), 40001, SERVER, E.now);
	CHECK(in != RL_NONE);
	E.live[in] = 1;
	CHECK_EQ(1, E.r.nconns);
	CHECK_EQ(RLC_WAIT_SCCRQ, E.r.conns[in].state);
	CHECK_EQ(0, E.nconnect);

	/* The client starts: the relay goes upstream first, and answers the
	 * client only once the server has. */
	m = sccrq("inside-host");
	m.num[PF_MAX_CHANNELS] = 3;
	feed(in, &m);
	CHECK_EQ(1, E.nconnect);
	up = next_connect();
	CHECK(up != RL_NONE && up != in);
	CHECK_EQ(SERVER, E.connect_srv[0]);
	CHECK_EQ(RLC_WAIT_UPSTREAM, E.r.conns[in].state);
	CHECK_EQ(RLC_CONNECTING, E.r.conns[up].state);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));

	E.now += 20;
	relay_connected(&E.r, up, PUB, E.now);
	got = EXPECT(up, PPTP_SCCRQ);
	CHECK_EQ(0x0100, got->num[PF_PROTO_VERSION]);
	CHECK_EQ(0x0203, got->num[PF_FIRMWARE_REV]);
	CHECK(strcmp((const char *)got->blob[PB_HOSTNAME], "inside-host") == 0);
	CHECK(strcmp((const char *)got->blob[PB_VENDOR],
		     "vendor of inside-host") == 0);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(RLC_WAIT_SCCRP, E.r.conns[up].state);

	E.now += 20;
	m = sccrp(1, 1);
	feed(up, &m);
	got = EXPECT(in, PPTP_SCCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(65535, got->num[PF_MAX_CHANNELS]);
	CHECK_EQ(0x0100, got->num[PF_PROTO_VERSION]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[in].state);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[up].state);
	CHECK_EQ(1, E.r.conns[up].max_channels);
	CHECK_EQ(1, E.ev[RLEV_CONN_UP]);
	CHECK_EQ(0, pending(up));

	/* The call: our own Call ID upstream, the client's numbers kept. */
	E.now += 20;
	m = ocrq(0x1234, 77);
	feed(in, &m);
	got = EXPECT(up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(1, E.id_gets);
	CHECK_EQ(E.last_id, pns);
	CHECK_EQ(77, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(2400, got->num[PF_MIN_BPS]);
	CHECK_EQ(10000000, got->num[PF_MAX_BPS]);
	CHECK_EQ(64, got->num[PF_RECV_WINDOW]);
	CHECK_EQ(7, got->num[PF_PROC_DELAY]);
	CHECK_EQ(0, pending(in));
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(1, E.nconnect);    /* the first call rides the primary */

	E.now += 20;
	m = ocrp(0x0777, pns, 1);
	feed(up, &m);
	got = EXPECT(in, PPTP_OCRP);
	pac = (uint16_t)got->num[PF_CALL_ID];
	CHECK(pac != 0);
	CHECK_EQ(0x1234, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(100000000, got->num[PF_CONNECT_SPEED]);
	slot = call_by_pac(pac);
	CHECK(slot != RL_NONE);
	if (slot == RL_NONE) {
		env_done();
		return;
	}
	CHECK_EQ(RLK_ESTABLISHED, E.r.calls[slot].state);
	CHECK_EQ(0x0777, E.r.calls[slot].server_id);
	CHECK_EQ(pns, E.r.calls[slot].pns_id);
	CHECK_EQ(1, E.ev[RLEV_CALL_UP]);
	CHECK_EQ(1, E.r.ctr[RLS_CALLS]);

	/* Client GRE, numbered from 100: sent on from the public address,
	 * to the server's Call ID, numbered by the relay from 1. */
	for (i = 0; i < 5; i++) {
		CHECK_EQ(RL_GRE_TAKEN,
			 gre_in(CLIENT(1), SERVER, pac, 100 + i, TAG_UP,
				40 + i));
		gi = GRE_EXPECT(PUB, SERVER, 0x0777, 1 + i, TAG_UP, 100 + i,
				40 + i);
		CHECK_EQ(0, gi.has_ack);   /* nothing from the server yet */
	}
	CHECK_EQ(5, E.r.ctr[RLS_FRAMES_UP]);
	CHECK_EQ(40 + 41 + 42 + 43 + 44, E.r.ctr[RLS_BYTES_UP]);

	/* Server GRE from 0 (pptpd): to the client, to its own Call ID, with
	 * the client's frames acknowledged. */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(RL_GRE_TAKEN,
			 gre_in(SERVER, PUB, pns, i, TAG_DOWN, 50 + i));
		gi = GRE_EXPECT(SERVER, CLIENT(1), 0x1234, 1 + i, TAG_DOWN, i,
				50 + i);
		if (i == 0) {
			CHECK_EQ(1, gi.has_ack);
			CHECK_EQ(104, gi.ack);
		} else {
			CHECK_EQ(0, gi.has_ack);
		}
	}
	CHECK_EQ(3, E.r.ctr[RLS_FRAMES_DOWN]);
	CHECK_EQ(0, gre_unread());

	/* Nothing goes back to the server: an ack-only after ack_delay. */
	relay_tick(&E.r, E.now + E.r.cfg.ack_delay_ms - 1);
	CHECK_EQ(0, gre_unread());
	E.now += E.r.cfg.ack_delay_ms;
	relay_tick(&E.r, E.now);
	gi = GRE_EXPECT(PUB, SERVER, 0x0777, 0, 0, 0, 0);
	CHECK_EQ(2, gi.ack);
	CHECK_EQ(0, gre_unread());
	CHECK_EQ(1, E.r.ctr[RLS_GRE_ACK_ONLY_SENT]);
	relay_tick(&E.r, E.now + 10 * E.r.cfg.ack_delay_ms);
	CHECK_EQ(0, gre_unread());

	/* One more client frame: the client's leg acks it after a while. */
	CHECK_EQ(RL_GRE_TAKEN,
		 gre_in(CLIENT(1), SERVER, pac, 105, TAG_UP, 10));
	gi = GRE_EXPECT(PUB, SERVER, 0x0777, 6, TAG_UP, 105, 10);
	CHECK_EQ(0, gi.has_ack);
	E.now += E.r.cfg.ack_delay_ms;
	relay_tick(&E.r, E.now);
	gi = GRE_EXPECT(SERVER, CLIENT(1), 0x1234, 0, 0, 0, 0);
	CHECK_EQ(105, gi.ack);
	CHECK_EQ(2, E.r.ctr[RLS_GRE_ACK_ONLY_SENT]);

	/* An ack-only from the client is taken, and forwards nothing. */
	{
		uint8_t b[32];
		size_t n = mk_gre(b, pac, 0, 0, 1, 3, 0, 0);

		CHECK_EQ(RL_GRE_TAKEN,
			 relay_gre_input(&E.r, CLIENT(1), SERVER, b, n,
					 E.now));
		CHECK_EQ(0, gre_unread());
	}
	CHECK_EQ(0, pending(in));
	CHECK_EQ(0, pending(up));
	CHECK_EQ(4, E.r.ctr[RLS_CTL_IN]);
	CHECK_EQ(4, E.r.ctr[RLS_CTL_OUT]);
	env_done();
}

static void test_max_channels_one(void)
{
	struct sess s;
	struct callh c[3];
	struct pptp_msg m;
	const struct pptp_msg *got;
	int i, j;

	env_init();
	s = sess_open(1, 1);
	for (i = 0; i < 3; i++)
		c[i] = call_up(&s, (uint16_t)(0x100 + i),
			       (uint16_t)(0x900 + i));
	CHECK_EQ(0, c[0].own_conn);
	CHECK_EQ(1, c[1].own_conn);
	CHECK_EQ(1, c[2].own_conn);
	CHECK_EQ(3, E.nconnect);
	CHECK_EQ(2, E.r.ctr[RLS_PER_CALL_CONNS]);
	CHECK_EQ(3, E.r.ctr[RLS_UPSTREAM_CONNS]);
	CHECK_EQ(4, E.r.nconns);
	CHECK_EQ(3, E.r.ctr[RLS_CALLS]);
	CHECK(c[1].up != s.up && c[2].up != s.up && c[1].up != c[2].up);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++) {
			CHECK(c[i].pac_id != c[j].pac_id);
			CHECK(c[i].pns_id != c[j].pns_id);
		}
	/* The client saw one start reply only, and nothing else. */
	CHECK_EQ(0, pending(s.in));
	for (i = 0; i < 3; i++)
		CALL_CARRIES(&s, &c[i], 1, 1);

	/* Clearing the second call: CDN to the client (request), CCRQ and
	 * then Stop on its own connection, closed after the reply. */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, c[1].client_id);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c[1].pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(4, got->num[PF_RESULT]);
	got = EXPECT(c[1].up, PPTP_CCRQ);
	CHECK_EQ(c[1].pns_id, got->num[PF_CALL_ID]);
	EXPECT(c[1].up, PPTP_STOPCCRQ);
	CHECK_EQ(RLC_STOPPING, E.r.conns[c[1].up].state);
	CHECK_EQ(0, E.nclose[c[1].up]);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, c[1].pns_id));
	m = stop_msg(PPTP_STOPCCRP);
	feed(c[1].up, &m);
	CHECK_EQ(1, E.nclose[c[1].up]);
	CHECK_EQ(3, E.r.nconns);
	CHECK_EQ(2, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_CLIENT_CLEAR]);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(c[2].up));
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c[1], 2, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c[1], 2, 10));
	CALL_CARRIES(&s, &c[0], 2, 2);
	CALL_CARRIES(&s, &c[2], 2, 2);

	/* Clearing the call on the primary keeps the primary. */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, c[0].client_id);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	/* A fourth call takes the primary again: it carries none now. */
	c[0] = call_up(&s, 0x200, 0x950);
	CHECK_EQ(0, c[0].own_conn);
	CHECK_EQ(3, E.nconnect);
	env_done();
}

static void test_max_channels_unlimited(void)
{
	struct sess s;
	struct callh c[3];
	int i;

	env_init();
	s = sess_open(1, 0);
	for (i = 0; i < 3; i++) {
		c[i] = call_up(&s, (uint16_t)(7 + i), (uint16_t)(0x300 + i));
		CHECK_EQ(0, c[i].own_conn);
		CHECK_EQ(s.up, c[i].up);
	}
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(0, E.r.ctr[RLS_PER_CALL_CONNS]);
	CHECK_EQ(3, E.r.conns[s.up].ncalls);
	CHECK_EQ(3, E.r.conns[s.in].ncalls);
	for (i = 0; i < 3; i++)
		CALL_CARRIES(&s, &c[i], 5, 1);
	env_done();

	/* Maximum Channels 3: the fourth call needs its own connection. */
	env_init();
	s = sess_open(1, 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(0, call_up(&s, (uint16_t)(7 + i),
				    (uint16_t)(0x300 + i)).own_conn);
	CHECK_EQ(1, call_up(&s, 20, 0x400).own_conn);
	env_done();

	/* per_call in the configuration: every call after the first on the
	 * primary gets its own, whatever the server says. */
	{
		struct rl_cfg cfg;

		cfg_test(&cfg);
		cfg.per_call = 1;
		env_init_cfg(&cfg);
	}
	s = sess_open(1, 0);
	CHECK_EQ(0, call_up(&s, 7, 0x300).own_conn);
	CHECK_EQ(1, call_up(&s, 8, 0x301).own_conn);
	CHECK_EQ(1, call_up(&s, 9, 0x302).own_conn);
	env_done();
}

static void test_refused_retry(void)
{
	struct sess s;
	struct callh c0, c2;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t up2;
	uint16_t pns_first, pns2, pac2;
	int puts;

	env_init();
	s = sess_open(1, 0);
	c0 = call_up(&s, 0x11, 0x901);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));

	/* The second call on the shared connection is refused. */
	m = ocrq(0x12, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns_first = (uint16_t)got->num[PF_CALL_ID];
	puts = E.id_puts;
	m = ocrp(0, pns_first, 2);
	feed(s.up, &m);
	CHECK_EQ(1, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER2));
	CHECK_EQ(1, E.r.ctr[RLS_SERVERS_PER_CALL]);
	CHECK_EQ(1, E.ev[RLEV_PER_CALL]);
	CHECK_EQ(puts + 1, E.id_puts);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, pns_first));
	/* The client heard nothing: the call is tried again on a new
	 * connection. */
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(2, E.nconnect);
	up2 = next_connect();
	CHECK_EQ(1, E.r.conns[up2].per_call);
	relay_connected(&E.r, up2, PUB, E.now);
	EXPECT(up2, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up2, &m);
	got = EXPECT(up2, PPTP_OCRQ);
	pns2 = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(2, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(0, pending(s.in));
	m = ocrp(0x902, pns2, 1);
	feed(up2, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(0x12, got->num[PF_PEER_CALL_ID]);
	pac2 = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(0, pending(s.in));
	CHECK(call_by_pac(pac2) != RL_NONE &&
	      E.r.calls[call_by_pac(pac2)].state == RLK_ESTABLISHED);
	CHECK_EQ(0, E.r.ended[RLE_SERVER_REFUSED]);
	CALL_CARRIES(&s, &c0, 1, 1);
	{
		struct callh c1;

		memset(&c1, 0, sizeof(c1));
		c1.client_id = 0x12;
		c1.pac_id = pac2;
		c1.pns_id = pns2;
		c1.server_id = 0x902;
		CALL_CARRIES(&s, &c1, 1, 1);
	}

	/* The server is known now: the next call goes to a connection of
	 * its own at once, though the primary has no limit. */
	c2 = call_up(&s, 0x13, 0x903);
	CHECK_EQ(1, c2.own_conn);
	CHECK_EQ(3, E.nconnect);
	/* A second inside connection to the same server too. */
	{
		struct sess s2 = sess_open(2, 0);

		CHECK_EQ(0, call_up(&s2, 0x11, 0x904).own_conn);
		CHECK_EQ(1, call_up(&s2, 0x12, 0x905).own_conn);
	}
	env_done();

	/* A retried call refused again on its own connection: the client
	 * gets the server's answer, the connection is stopped. */
	env_init();
	s = sess_open(1, 0);
	c0 = call_up(&s, 0x11, 0x901);
	m = ocrq(0x12, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 2);
	feed(s.up, &m);
	up2 = next_connect();
	relay_connected(&E.r, up2, PUB, E.now);
	EXPECT(up2, PPTP_SCCRQ);
	m = sccrp(1, 0);
	feed(up2, &m);
	got = EXPECT(up2, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 7);
	m.num[PF_ERROR] = 6;
	feed(up2, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(7, got->num[PF_RESULT]);
	CHECK_EQ(6, got->num[PF_ERROR]);
	CHECK_EQ(0x12, got->num[PF_PEER_CALL_ID]);
	EXPECT(up2, PPTP_STOPCCRQ);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_REFUSED]);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(2, E.nconnect);
	CALL_CARRIES(&s, &c0, 1, 1);
	env_done();
}

/* A server is learned when it refuses a second call on one connection;
 * the relay remembers RL_MAX_SERVERS of them, forgetting the oldest. */
static void learn_server(uint32_t server)
{
	struct sess s = sess_open_to(1, server, 0);
	struct pptp_msg m;
	const struct pptp_msg *got;

	call_up(&s, 1, 0x11);
	m = ocrq(2, 2);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, (uint16_t)got->num[PF_CALL_ID], 2);
	feed(s.up, &m);
	CHECK_EQ(1, relay_server_per_call(&E.r, server));
	relay_shutdown(&E.r, E.now);
	relay_tick(&E.r, E.now);
	E.nmsg = 0;
	E.nconnect = E.connect_read = 0;
}

static void test_servers_remembered(void)
{
	uint32_t i, forgotten = 0, kept = 0;

	env_init();
	for (i = 0; i < RL_MAX_SERVERS; i++) {
		learn_server(IP(10, 9, i >> 8, i & 255));
		E.now += 1000;
	}
	for (i = 0; i < RL_MAX_SERVERS; i++)
		kept += (uint32_t)relay_server_per_call(&E.r,
						IP(10, 9, i >> 8, i & 255));
	CHECK_EQ(RL_MAX_SERVERS, kept);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	/* One more: the one learned first makes room. */
	learn_server(SERVER);
	CHECK_EQ(RL_MAX_SERVERS + 1, E.r.ctr[RLS_SERVERS_PER_CALL]);
	for (i = 0; i < RL_MAX_SERVERS; i++)
		if (!relay_server_per_call(&E.r, IP(10, 9, i >> 8, i & 255)))
			forgotten = forgotten * 1000 + i + 1;
	CHECK_EQ(1, forgotten);
	CHECK_EQ(1, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, relay_server_per_call(&E.r, 0));
	env_done();
}

static void test_refused_first(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint16_t pns;

	/* A refusal of the only call on a connection is just relayed. */
	env_init();
	s = sess_open(1, 0);
	m = ocrq(0x44, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	m = ocrp(0, pns, 3);
	m.num[PF_CAUSE] = 0x55;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x55, got->num[PF_CAUSE]);
	CHECK_EQ(0x44, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_REFUSED]);
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	CHECK_EQ(0, pending(s.up));
	/* An answer for a call that is gone is unexpected, and ignored. */
	m = ocrp(5, pns, 1);
	feed(s.up, &m);
	CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	CHECK_EQ(0, pending(s.in));
	env_done();

	/* Two requests in flight on one connection and the first refused:
	 * no call was up there, so nothing says "one call per connection". */
	env_init();
	s = sess_open(1, 0);
	m = ocrq(0x44, 1);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	pns = (uint16_t)got->num[PF_CALL_ID];
	m = ocrq(0x45, 2);
	feed(s.in, &m);
	EXPECT(s.up, PPTP_OCRQ);
	m = ocrp(0, pns, 3);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_OCRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x44, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, relay_server_per_call(&E.r, SERVER));
	CHECK_EQ(1, E.nconnect);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(0, pending(s.up));
	drain(s.in);
	env_done();
}

static void test_incoming(void)
{
	struct sess s;
	struct pptp_msg m;
	const struct pptp_msg *got;
	struct callh c;
	uint32_t slot;

	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0900);
	m.num[PF_CALL_SERIAL] = 9;
	m.num[PF_BEARER_TYPE] = 2;
	snprintf((char *)m.blob[PB_DIALED], 64, "5551234");
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	memset(&c, 0, sizeof(c));
	c.pac_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK(c.pac_id != 0);
	CHECK_EQ(9, got->num[PF_CALL_SERIAL]);
	CHECK_EQ(2, got->num[PF_BEARER_TYPE]);
	CHECK(strcmp((const char *)got->blob[PB_DIALED], "5551234") == 0);
	slot = call_by_pac(c.pac_id);
	CHECK(slot != RL_NONE);
	if (slot == RL_NONE) {
		env_done();
		return;
	}
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[slot].state);
	CHECK_EQ(1, E.r.calls[slot].incoming);
	/* GRE before the call is up is ours, but dropped. */
	CHECK_EQ(RL_GRE_DROPPED,
		 gre_in(CLIENT(1), SERVER, c.pac_id, 1, TAG_UP, 10));

	m = msg_id(PPTP_ICRP, PF_CALL_ID, 0x55);
	m.num[PF_PEER_CALL_ID] = c.pac_id;
	m.num[PF_RESULT] = 1;
	m.num[PF_RECV_WINDOW] = 32;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	c.pns_id = (uint16_t)got->num[PF_CALL_ID];
	CHECK_EQ(E.last_id, c.pns_id);
	CHECK_EQ(0x0900, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(1, got->num[PF_RESULT]);
	CHECK_EQ(32, got->num[PF_RECV_WINDOW]);
	CHECK_EQ(RLK_WAIT_ICCN, E.r.calls[slot].state);

	m = msg_id(PPTP_ICCN, PF_PEER_CALL_ID, c.pns_id);
	m.num[PF_CONNECT_SPEED] = 64000;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICCN);
	CHECK_EQ(0x55, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(64000, got->num[PF_CONNECT_SPEED]);
	CHECK_EQ(RLK_ESTABLISHED, E.r.calls[slot].state);
	CHECK_EQ(1, E.ev[RLEV_CALL_UP]);
	c.client_id = 0x55;
	c.server_id = 0x0900;
	CALL_CARRIES(&s, &c, 1, 1);

	/* The server hangs up: CDN with our ID to the client. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0x0900);
	m.num[PF_RESULT] = 3;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0, E.r.ncalls);
	env_done();

	/* The client refuses an incoming call. */
	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0901);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	m = msg_id(PPTP_ICRP, PF_CALL_ID, 0);
	m.num[PF_PEER_CALL_ID] = got->num[PF_CALL_ID];
	m.num[PF_RESULT] = 3;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x0901, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(0, E.nids);
	env_done();

	/* No Call ID to be had: the server's call is refused at once. */
	env_init();
	s = sess_open(1, 0);
	E.id_fail = 1;
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0902);
	feed(s.up, &m);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x0902, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(0, E.r.ncalls);
	CHECK_EQ(1, E.r.ctr[RLS_CALLS_REFUSED]);
	env_done();

	/* The client never answers: after call_ms both are told. */
	env_init();
	s = sess_open(1, 0);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x0903);
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_ICRQ);
	c.pac_id = (uint16_t)got->num[PF_CALL_ID];
	relay_tick(&E.r, E.now + E.r.cfg.call_ms);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	got = EXPECT(s.up, PPTP_ICRP);
	CHECK_EQ(0x0903, got->num[PF_PEER_CALL_ID]);
	CHECK(got->num[PF_RESULT] != 1);
	CHECK_EQ(0, E.r.ncalls);
	E.now += E.r.cfg.call_ms;
	drain(s.in);
	drain(s.up);
	env_done();
}

static void test_sli_wen_cdn(void)
{
	struct sess s;
	struct callh c, c2;
	struct pptp_msg m;
	const struct pptp_msg *got;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x1111, 0x2222);
	c2 = call_up(&s, 0x1112, 0x2223);

	/* Set-Link-Info from the client carries our pac_id: the server gets
	 * its own ID there. */
	m = msg_id(PPTP_SLI, PF_PEER_CALL_ID, c.pac_id);
	m.num[PF_SEND_ACCM] = 0xFFFFFFFF;
	m.num[PF_RECV_ACCM] = 0x0000000A;
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_SLI);
	CHECK_EQ(0x2222, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(0xFFFFFFFFu, got->num[PF_SEND_ACCM]);
	CHECK_EQ(0x0A, got->num[PF_RECV_ACCM]);
	/* With the client's own ID instead, it is for no call. */
	m.num[PF_PEER_CALL_ID] = 0x1111;
	if (c.pac_id != 0x1111 && c2.pac_id != 0x1111) {
		feed(s.in, &m);
		CHECK_EQ(0, pending(s.up));
		CHECK_EQ(1, E.r.ctr[RLS_CTL_UNEXPECTED]);
	}

	/* WAN-Error-Notify from the server carries our pns_id: the client
	 * gets its own ID. */
	m = msg_id(PPTP_WEN, PF_PEER_CALL_ID, c2.pns_id);
	m.num[PF_CRC_ERRORS] = 5;
	m.num[PF_ALIGN_ERRORS] = 9;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_WEN);
	CHECK_EQ(0x1112, got->num[PF_PEER_CALL_ID]);
	CHECK_EQ(5, got->num[PF_CRC_ERRORS]);
	CHECK_EQ(9, got->num[PF_ALIGN_ERRORS]);

	/* Call-Disconnect-Notify from the server carries its own ID; the
	 * client gets ours. */
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0x2222);
	m.num[PF_RESULT] = 3;
	m.num[PF_CAUSE] = 0x1234;
	snprintf((char *)m.blob[PB_STATS], 128, "stats");
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	CHECK_EQ(0x1234, got->num[PF_CAUSE]);
	CHECK(strcmp((const char *)got->blob[PB_STATS], "stats") == 0);
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(1, E.r.ended[RLE_SERVER_CDN]);
	CHECK_EQ(-1, id_find(&E, PUB, SERVER, c.pns_id));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_up(&s, &c, 1, 10));
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c, 1, 10));
	CALL_CARRIES(&s, &c2, 1, 1);
	/* The same CDN again is for no call. */
	feed(s.up, &m);
	CHECK_EQ(0, pending(s.in));

	/* SLI and CCRQ for calls that are not there: ignored, counted. */
	m = msg_id(PPTP_SLI, PF_PEER_CALL_ID, c.pac_id);
	feed(s.in, &m);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x1111);
	feed(s.in, &m);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(s.in));
	/* Messages of the wrong side: ignored, counted. */
	m = ocrp(1, 2, 1);
	feed(s.in, &m);
	m = ocrq(1, 1);
	feed(s.up, &m);
	m = sccrq("again");
	feed(s.in, &m);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(0, pending(s.in));
	CHECK(E.r.ctr[RLS_CTL_UNEXPECTED] >= 6);
	CALL_CARRIES(&s, &c2, 2, 2);
	env_done();
}

/*
 * Call ID 0 is an ID like any other: pptpd gives 0 to its first call, and
 * pptp-linux takes the lowest free one.  A call whose peer's ID is not known
 * yet (an outgoing call before the server's reply, an incoming one before
 * the client's) must not be taken for the call with ID 0.
 */
static void test_call_id_zero(void)
{
	struct sess s;
	struct callh a, x;
	struct pptp_msg m;
	const struct pptp_msg *got;
	uint32_t y;

	/* The server hangs up its call 0 while another call waits for the
	 * server's reply in a lower slot. */
	env_init();
	s = sess_open(1, 0);
	a = call_up(&s, 0x10, 0x77);      /* slot 0 */
	x = call_up(&s, 0x11, 0);         /* slot 1: the server's ID is 0 */
	CHECK_EQ(0, a.slot);
	CHECK_EQ(1, x.slot);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x10);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	m = ocrq(0x12, 3);                /* slot 0 again, waiting */
	feed(s.in, &m);
	EXPECT(s.up, PPTP_OCRQ);
	y = first_call();
	CHECK_EQ(0, y);
	CHECK_EQ(RLK_WAIT_OCRP, E.r.calls[y].state);
	m = msg_id(PPTP_CDN, PF_CALL_ID, 0);
	m.num[PF_RESULT] = 3;
	feed(s.up, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(x.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(0, pending(s.in));
	CHECK_EQ(RLK_FREE, E.r.calls[x.slot].state);
	CHECK_EQ(RLK_WAIT_OCRP, E.r.calls[y].state);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&x, 1, 10));
	drain(s.in);
	env_done();

	/* The client clears its call 0 while an incoming call waits for the
	 * client's answer in a lower slot. */
	env_init();
	s = sess_open(1, 0);
	a = call_up(&s, 0x10, 0x77);      /* slot 0 */
	x = call_up(&s, 0, 0x78);         /* slot 1: the client's ID is 0 */
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0x10);
	feed(s.in, &m);
	EXPECT(s.in, PPTP_CDN);
	EXPECT(s.up, PPTP_CCRQ);
	m = msg_id(PPTP_ICRQ, PF_CALL_ID, 0x99);
	feed(s.up, &m);                   /* slot 0, waiting for the client */
	EXPECT(s.in, PPTP_ICRQ);
	y = first_call();
	CHECK_EQ(0, y);
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	m = msg_id(PPTP_CCRQ, PF_CALL_ID, 0);
	feed(s.in, &m);
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(x.pac_id, got->num[PF_CALL_ID]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(x.pns_id, got->num[PF_CALL_ID]);
	CHECK_EQ(RLK_FREE, E.r.calls[x.slot].state);
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	/* A new outgoing call with ID 0 does not end the incoming one. */
	m = ocrq(0, 4);
	feed(s.in, &m);
	got = EXPECT(s.up, PPTP_OCRQ);
	CHECK_EQ(0, pending(s.up));
	CHECK_EQ(RLK_WAIT_ICRP, E.r.calls[y].state);
	drain(s.in);
	drain(s.up);
	env_done();
}

static void test_call_clear(void)
{
	struct sess s;
	struct callh c, c2;
	const struct pptp_msg *got;
	uint32_t slot;

	env_init();
	s = sess_open(1, 1);
	c = call_up(&s, 0x81, 0x181);
	c2 = call_up(&s, 0x82, 0x182);
	CHECK_EQ(0, relay_call_clear(&E.r, c.slot, E.now));
	got = EXPECT(s.in, PPTP_CDN);
	CHECK_EQ(c.pac_id, got->num[PF_CALL_ID]);
	CHECK_EQ(3, got->num[PF_RESULT]);
	got = EXPECT(s.up, PPTP_CCRQ);
	CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
	CHECK_EQ(RLC_ESTABLISHED, E.r.conns[s.up].state);
	CHECK_EQ(1, E.r.ended[RLE_ADMIN]);
	CHECK_EQ(-1, relay_call_clear(&E.r, c.slot, E.now));
	CHECK_EQ(-1, relay_call_clear(&E.r, E.r.cfg.max_calls, E.now));
	CHECK_EQ(-1, relay_call_clear(&E.r, RL_NONE, E.now));
	CALL_CARRIES(&s, &c2, 1, 1);
	/* The per-call one: its connection is stopped with it. */
	CHECK_EQ(0, relay_call_clear(&E.r, c2.slot, E.now));
	EXPECT(s.in, PPTP_CDN);
	EXPECT(c2.up, PPTP_CCRQ);
	EXPECT(c2.up, PPTP_STOPCCRQ);
	CHECK_EQ(0, E.r.ncalls);

	/* A call still waiting for its reply gets an OCRP error instead. */
	{
		struct pptp_msg m = ocrq(0x83, 1);

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_OCRQ);
		slot = 0;
		slot = first_call();
		CHECK_EQ(0, relay_call_clear(&E.r, slot, E.now));
		got = EXPECT(s.in, PPTP_OCRP);
		CHECK_EQ(0x83, got->num[PF_PEER_CALL_ID]);
		CHECK(got->num[PF_RESULT] != 1);
		EXPECT(s.up, PPTP_CCRQ);
	}
	env_done();
}

/* The client places a call with the Call ID of a live one: the old call is
 * given up (cleared upstream), the new one goes on. */
static void test_client_id_reuse(void)
{
	struct sess s;
	struct callh c, c2;

	env_init();
	s = sess_open(1, 0);
	c = call_up(&s, 0x99, 0x199);
	{
		struct pptp_msg m = ocrq(0x99, 2);
		const struct pptp_msg *got;

		feed(s.in, &m);
		got = EXPECT(s.up, PPTP_CCRQ);
		CHECK_EQ(c.pns_id, got->num[PF_CALL_ID]);
		got = EXPECT(s.up, PPTP_OCRQ);
		c2.pns_id = (uint16_t)got->num[PF_CALL_ID];
		m = ocrp(0x200, c2.pns_id, 1);
		feed(s.up, &m);
		got = EXPECT(s.in, PPTP_OCRP);
		c2.pac_id = (uint16_t)got->num[PF_CALL_ID];
		c2.client_id = 0x99;
		c2.server_id = 0x200;
	}
	CHECK_EQ(1, E.r.ncalls);
	CHECK_EQ(RL_GRE_NOT_MINE, gre_down(&c, 1, 10));
	CALL_CARRIES(&s, &c2, 1, 1);
	env_done();
}

/* IDs taken by someone else (a translated call's server ID): all but one. */
static uint16_t only_free_id;
static unsigned busy_asked;

static int h_client_id_busy(void *arg, uint32_t client, uint32_t server,
			    uint16_t id)
{
	(void)arg;
	(void)server;
	busy_asked++;
	return client == CLIENT(1) && id != only_free_id;
}

/* The relay never takes a Call ID toward the client that GRE from that
 * client to that server already carries for a translated call. */
static void test_client_id_busy(void)
{
	struct sess s;
	struct callh c;

	env_init();
	E.r.hooks.client_id_busy = h_client_id_busy;
	only_free_id = 0x1234;
	busy_asked = 0;
	s = sess_open(1, 0);
	c = call_up(&s, 7, 70);
	CHECK_EQ(0x1234, c.pac_id);
	CHECK(busy_asked > 1);
	drain(s.in);
	env_done();
}

static const struct check_case cases[] = {
	CHECK_CASE(happy_path),
	CHECK_CASE(max_channels_one),
	CHECK_CASE(max_channels_unlimited),
	CHECK_CASE(refused_retry),
	CHECK_CASE(servers_remembered),
	CHECK_CASE(refused_first),
	CHECK_CASE(incoming),
	CHECK_CASE(sli_wen_cdn),
	CHECK_CASE(call_id_zero),
	CHECK_CASE(call_clear),
	CHECK_CASE(client_id_reuse),
	CHECK_CASE(client_id_busy),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
