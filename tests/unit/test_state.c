/*
 * The saved state (state/state.c): every field of every record survives an
 * image and a load; a table restored from an image carries on with the
 * control connections mid-stream (their next segments, retransmissions of
 * old ones, their calls' GRE); every truncation and every flipped bit of
 * an image, another version, another boot and records that do not fit are
 * refused and leave an empty table.  The bench is in gw_fixture.h.
 */
#include "gw_fixture.h"
#include "state/state.h"
#include "wire/rd.h"

static const struct state_meta META = {
	.boot_id = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
	.now = 2000000,
};

static uint64_t rng = 12345;

static uint64_t rnd(void)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return hidx_mix64(rng);
}

/*
 * A connection as its image has it: a stream waiting for Call IDs rewound,
 * and no bytes beyond what its message and history hold (the parser leaves
 * old ones there, which mean nothing).
 */
static void norm(struct conn *c)
{
	int d;

	for (d = 0; d < 2; d++) {
		struct ctlstream *s = &c->stream[d];

		if (cs_holding(s))
			cs_rewind(s);
		memset(s->msg + s->msg_have, 0, sizeof(s->msg) - s->msg_have);
		memset(s->hist + s->hist_n, 0,
		       (CS_HIST - s->hist_n) * sizeof(s->hist[0]));
	}
}

/* Every record of a and b the same, byte for byte (derived ones too). */
static void same_tables(struct gw *a, struct gw *b)
{
	uint32_t i, bad = 0;

	CHECK_EQ(a->tab.nconns_used, b->tab.nconns_used);
	CHECK_EQ(a->tab.ncalls_used, b->tab.ncalls_used);
	CHECK_EQ(a->tab.nrefused, b->tab.nrefused);
	CHECK_EQ(a->tab.nhalf_open, b->tab.nhalf_open);
	CHECK_EQ(a->aliases.ntaken, b->aliases.ntaken);
	CHECK_EQ(alias_holds(&a->aliases), alias_holds(&b->aliases));
	for (i = 0; i < a->tab.cfg.max_conns; i++) {
		struct conn x = a->tab.conns[i], y = b->tab.conns[i];

		CHECK_EQ(x.state, y.state);
		norm(&x);
		norm(&y);
		if (x.state != CONN_FREE &&
		    memcmp(&x, &y, sizeof(x)) != 0 && bad++ < 3)
			fprintf(stderr, "  connection %u differs\n", i);
	}
	for (i = 0; i < a->tab.ncalls_cap; i++) {
		struct call *x = &a->tab.calls[i], *y = &b->tab.calls[i];

		CHECK_EQ(x->state, y->state);
		if (x->state != CALL_FREE &&
		    memcmp(x, y, sizeof(*x)) != 0 && bad++ < 3)
			fprintf(stderr, "  call %u differs\n", i);
		if (x->state != CALL_FREE)
			CHECK_EQ(i, alias_owner(&b->aliases, x->pub, x->outside,
						x->alias));
	}
	for (i = 0; i < alias_holds(&a->aliases); i++)
		CHECK_MEM(alias_hold_at(&a->aliases, i),
			  alias_hold_at(&b->aliases, i),
			  sizeof(struct alias_hold));
	CHECK_EQ(0, bad);
	CHECK(calltab_recount_ok(&b->tab, NULL, 0));
}

static int encode(struct gw *g, struct state_buf *b)
{
	int r = state_encode(g, &META, b);

	CHECK_EQ(0, r);
	return r;
}

static enum state_err decode(struct gw *g, const struct state_buf *b)
{
	struct state_counts cnt;
	char why[200];

	return state_decode(g, b->p, b->len, &META, &cnt, why, sizeof(why));
}

static int table_empty(struct gw *g)
{
	uint32_t i;

	for (i = 0; i < g->tab.cfg.max_conns; i++)
		if (g->tab.conns[i].state != CONN_FREE)
			return 0;
	for (i = 0; i < g->tab.ncalls_cap; i++)
		if (g->tab.calls[i].state != CALL_FREE)
			return 0;
	return g->tab.nconns_used == 0 && g->tab.ncalls_used == 0 &&
	       g->tab.nrefused == 0 && g->aliases.ntaken == 0 &&
	       alias_holds(&g->aliases) == 0 &&
	       g->tab.ncall_free == g->tab.ncalls_cap &&
	       g->tab.nconn_free == g->tab.cfg.max_conns;
}

/*
 * A table from real traffic: two connections with an established call
 * each (one with a Call-Clear-Request seen), a call only requested, a
 * port-forwarded server's call, and an ended call's hold-down.
 */
static void busy_table(struct env *e)
{
	struct flow a, b, c, pf;
	uint16_t alias;

	flow_init(&a, INSIDE(1), 40001, SERVER, 61001);
	flow_init(&b, INSIDE(2), 40002, SERVER, 61002);
	flow_init(&c, INSIDE(3), 40003, SERVER2, 61003);
	flow_init_pf(&pf);
	setup_call(e, &a, 7, 501, 1);
	setup_call(e, &a, 8, 502, 0);
	e->now += 1000;
	setup_call(e, &b, 7, 503, 1);
	CHECK(accepted(msg(e, &b, DIR_OUT, PPTP_CCRQ, 7, 0, 0)));
	handshake(e, &c);
	CHECK(accepted(msg(e, &c, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(e, &c, DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	CHECK(accepted(msg(e, &c, DIR_OUT, PPTP_OCRQ, 9, 0, 0)));
	/* An ended call leaves a hold-down. */
	alias = setup_call(e, &c, 10, 504, 0);
	CHECK(accepted(msg(e, &c, DIR_IN, PPTP_CDN, 504, 0, 0)));
	CHECK(alias_held(&e->g.aliases, PUB, SERVER2, alias));
	handshake(e, &pf);
	CHECK(accepted(msg(e, &pf, DIR_IN, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(e, &pf, DIR_OUT, PPTP_SCCRP, 0, 0, 1)));
	CHECK(accepted(msg(e, &pf, DIR_IN, PPTP_OCRQ, 300, 0, 0)));
	CHECK(accepted(msg(e, &pf, DIR_OUT, PPTP_OCRP, 44, 300, 1)));
	/* GRE counted on a call. */
	CHECK(accepted(gre_out(e, &a, 501)));
}

/* Real traffic's table: an image and a load give every record back. */
static void test_round_trip_traffic(void)
{
	struct env a, b;
	struct state_buf img = { 0 }, again = { 0 };

	if (env_init(&a, 256) < 0 || env_init(&b, 16) < 0)
		return;
	busy_table(&a);
	CHECK(a.g.tab.ncalls_used >= 4);
	if (encode(&a.g, &img) == 0) {
		CHECK_EQ(STATE_OK, decode(&b.g, &img));
		same_tables(&a.g, &b.g);
		/* The load's image is the same bytes. */
		encode(&b.g, &again);
		CHECK_EQ(img.len, again.len);
		if (img.len == again.len)
			CHECK_MEM(img.p, again.p, img.len);
	}
	state_buf_free(&img);
	state_buf_free(&again);
	/* Restored calls were never announced in b. */
	b.ev[GWE_CALL_NEW] += (int)(b.g.tab.ncalls_used + b.g.tab.nrefused);
	env_done(&a);
	env_done(&b);
}

static void rnd_stream(struct ctlstream *s)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ, PPTP_OCRP,
					  PPTP_ECHORQ, PPTP_CDN };
	uint16_t i;

	memset(s, 0, sizeof(*s));
	s->state = (uint8_t)(rnd() % 3);
	s->err = (uint8_t)rnd();
	s->msgs = (uint32_t)rnd();
	s->msg_start = (uint32_t)rnd();
	if (rnd() & 1) {
		uint8_t m[PPTP_MAX_LEN];
		size_t n = pg_msg(m, sizeof(m), types[rnd() % 5],
				  (uint16_t)rnd(), (uint16_t)rnd(), 1);

		s->msg_len = (uint16_t)n;
		s->msg_have = (uint16_t)(PPTP_HDR_LEN + rnd() % (n - 11));
		memcpy(s->msg, m, s->msg_have);
		s->decided = (uint8_t)(rnd() & 1);
		/* A stream waiting for Call IDs is saved rewound. */
		if (!s->decided && s->msg_have > PPTP_HDR_LEN)
			s->decided = 1;
	} else {
		s->msg_have = (uint16_t)(rnd() % PPTP_HDR_LEN);
		for (i = 0; i < s->msg_have; i++)
			s->msg[i] = (uint8_t)rnd();
	}
	s->next = s->msg_start + s->msg_have;
	s->hist_floor = s->msg_start - (uint32_t)(rnd() % 100000);
	s->hist_n = (uint16_t)(rnd() % (CS_HIST + 1));
	s->hist_pos = s->hist_n < CS_HIST ? s->hist_n :
		      (uint16_t)(rnd() % CS_HIST);
	for (i = 0; i < s->hist_n; i++) {
		s->hist[i].seq = (uint32_t)rnd();
		s->hist[i].val[0] = (uint8_t)rnd();
		s->hist[i].val[1] = (uint8_t)rnd();
	}
}

/* Random values in every field (within what the loader accepts): each
 * comes back from an image as it was. */
static void test_round_trip_every_field(void)
{
	struct env a, b;
	struct state_buf img = { 0 };
	uint32_t i, k;
	int round;

	for (round = 0; round < 20; round++) {
		if (env_init(&a, 4) < 0 || env_init(&b, 4) < 0)
			return;
		for (i = 0; i < 12; i++) {
			struct conn c;
			uint32_t slot = (uint32_t)(rnd() % a.g.tab.cfg.max_conns);

			memset(&c, 0, sizeof(c));
			c.state = (uint8_t)(CONN_OPEN + rnd() % 2);
			c.inside_opened = (uint8_t)(rnd() & 1);
			c.fin_seen = (uint8_t)(rnd() % 4);
			c.pub_known = (uint8_t)(rnd() & 1);
			c.answered = (uint8_t)(rnd() & 1);
			c.inside_port = (uint16_t)rnd();
			c.outside_port = (uint16_t)rnd();
			c.pub_port = (uint16_t)rnd();
			c.max_channels = (uint16_t)rnd();
			c.inside = (uint32_t)rnd();
			c.outside = (uint32_t)rnd() % 3 + 1;
			c.pub = (uint32_t)rnd() % 2 + 1;
			c.opener = rnd() & 1 ? c.inside : c.outside;
			c.created = rnd();
			c.last_seen = rnd();
			c.state_since = rnd();
			rnd_stream(&c.stream[0]);
			rnd_stream(&c.stream[1]);
			calltab_restore_conn(&a.g.tab, slot, &c);
		}
		for (i = 0; i < 120; i++) {
			struct call c;
			uint32_t slot = (uint32_t)(rnd() % a.g.tab.ncalls_cap);
			uint32_t cs = (uint32_t)(rnd() % a.g.tab.cfg.max_conns);
			const struct conn *cn = &a.g.tab.conns[cs];

			if (cn->state == CONN_FREE)
				continue;
			memset(&c, 0, sizeof(c));
			c.state = (uint8_t)(CALL_REQUESTED + rnd() % 4);
			c.peer_known = (uint8_t)(rnd() & 1);
			c.inside_pns = (uint8_t)(rnd() & 1);
			c.inside_id = (uint16_t)rnd();
			c.peer_id = (uint16_t)rnd();
			c.alias = (uint16_t)(rnd() | 1);
			c.conn = cs;
			c.inside = cn->inside;
			c.outside = cn->outside;
			c.pub = cn->pub;
			c.created = rnd();
			c.last_seen = rnd();
			c.state_since = rnd();
			for (k = 0; k < 2; k++) {
				c.pkts[k] = rnd();
				c.bytes[k] = rnd();
			}
			calltab_restore_call(&a.g.tab, slot, &c);
		}
		for (i = 0; i < 10; i++)
			alias_hold_restore(&a.g.aliases, (uint32_t)rnd() % 2 + 1,
					   (uint32_t)rnd() % 3 + 1,
					   (uint16_t)(rnd() | 1), rnd() % META.now);
		calltab_restore_done(&a.g.tab);
		CHECK(a.g.tab.nconns_used > 5);
		CHECK(a.g.tab.ncalls_used + a.g.tab.nrefused > 10);
		if (encode(&a.g, &img) == 0) {
			CHECK_EQ(STATE_OK, decode(&b.g, &img));
			same_tables(&a.g, &b.g);
		}
		/* No events for records put in by hand. */
		a.ev[GWE_CALL_NEW] += (int)(a.g.tab.ncalls_used + a.g.tab.nrefused);
		b.ev[GWE_CALL_NEW] += (int)(b.g.tab.ncalls_used + b.g.tab.nrefused);
		env_done(&a);
		env_done(&b);
	}
	state_buf_free(&img);
}

/*
 * A table restored from an image carries on mid-stream: the next message
 * is parsed and rewritten, a retransmission of an old one gets its old
 * rewrite, the call's GRE is translated both ways.  The same in a table
 * that was not restored fails: the control.
 */
static void adopt(int restore)
{
	struct env a, b;
	struct flow f, f0;
	struct state_buf img = { 0 };
	struct tpkt *t;
	uint8_t m[PPTP_MAX_LEN];
	uint32_t ocrq_seq;
	uint16_t alias;
	size_t n;

	if (env_init(&a, 64) < 0 || env_init(&b, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&a, &f);
	CHECK(accepted(msg(&a, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&a, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	ocrq_seq = f.iseq;
	f0 = f;
	alias = setup_call(&a, &f, 5, 600, 0);
	if (restore && encode(&a.g, &img) == 0)
		CHECK_EQ(STATE_OK, decode(&b.g, &img));
	b.ev[GWE_CALL_NEW] += (int)(b.g.tab.ncalls_used + b.g.tab.nrefused);
	b.now = a.now + 500;

	/* The OCRQ again (its sender did not see it acknowledged).  Not in
	 * the control: there it would be a new call, whose alias comes
	 * from the same seed. */
	if (restore) {
		n = pg_msg(m, sizeof(m), PPTP_OCRQ, 5, 0, 0);
		t = seg_at(&b, &f0, DIR_OUT, ocrq_seq, PG_ACK | PG_PSH, m, n);
		CHECK(accepted(t) && pl16(t, 12) == alias && tcp_ok(t));
	}
	/* GRE both ways. */
	t = gre_in(&b, &f, alias);
	CHECK_EQ(restore, accepted(t) && pg_get16(t->buf + 20 + 6) == 5 &&
			  pg_get32(t->buf + 16) == f.in);
	t = gre_out(&b, &f, 600);
	CHECK_EQ(restore, accepted(t) && pg_get32(t->buf + 12) == PUB);
	/* The next messages: an echo, then the call cleared by the inside
	 * host (its ID goes out as the alias) and the server's CDN. */
	CHECK(accepted(msg(&b, &f, DIR_IN, PPTP_ECHORQ, 0, 0, 0)));
	t = msg(&b, &f, DIR_OUT, PPTP_CCRQ, 5, 0, 0);
	CHECK_EQ(restore, accepted(t) && pl16(t, 12) == alias && tcp_ok(t));
	t = msg(&b, &f, DIR_IN, PPTP_CDN, 600, 0, 0);
	CHECK(accepted(t));
	CHECK_EQ(restore, b.ends[END_CDN]);
	CHECK_EQ(0u, b.g.tab.ncalls_used);
	state_buf_free(&img);
	env_done(&a);
	env_done(&b);
}

static void test_adopt_mid_stream(void)
{
	adopt(1);
}

static void test_adopt_control_without_image(void)
{
	adopt(0);
}

/*
 * Killed while a segment with half of a message's Call IDs was held: the
 * image has the stream rewound to the message's header, and the sender's
 * retransmission of the whole message is parsed afresh and rewritten.
 */
static void test_held_stream_rewound(void)
{
	struct env a, b;
	struct flow f;
	struct state_buf img = { 0 };
	struct tpkt *t;
	uint8_t m[PPTP_MAX_LEN];
	uint32_t at;
	size_t n;
	struct conn *c;

	if (env_init(&a, 64) < 0 || env_init(&b, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&a, &f);
	CHECK(accepted(msg(&a, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0)));
	CHECK(accepted(msg(&a, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1)));
	n = pg_msg(m, sizeof(m), PPTP_OCRQ, 9, 0, 0);
	at = f.iseq;
	t = seg_at(&a, &f, DIR_OUT, at, PG_ACK, m, 13);
	CHECK_EQ(0, t->nverd);   /* held */
	CHECK(encode(&a.g, &img) == 0);
	CHECK_EQ(STATE_OK, decode(&b.g, &img));
	c = flow_conn(&b, &f);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(at + PPTP_HDR_LEN, c->stream[DIR_OUT].next);
		CHECK_EQ(PPTP_HDR_LEN, c->stream[DIR_OUT].msg_have);
	}
	b.now = a.now + 100;
	t = seg_at(&b, &f, DIR_OUT, at, PG_ACK | PG_PSH, m, n);
	CHECK(accepted(t));
	CHECK(pl16(t, 12) != 0 && pl16(t, 12) != 9);
	CHECK(tcp_ok(t));
	CHECK_EQ(1u, b.g.tab.ncalls_used);
	state_buf_free(&img);
	env_done(&a);
	env_done(&b);
}

static void refused_leaves_empty(struct env *b, const uint8_t *p, size_t len,
				 int *bad)
{
	struct state_counts cnt;
	enum state_err e = state_decode(&b->g, p, len, &META, &cnt, NULL, 0);

	if (e == STATE_OK || !table_empty(&b->g))
		(*bad)++;
}

/* Every truncation, every flipped bit: refused, the table left empty. */
static void test_corrupt_refused(void)
{
	struct env a, b;
	struct state_buf img = { 0 };
	uint8_t *copy;
	size_t i;
	int bit, bad = 0, tried = 0;

	if (env_init(&a, 256) < 0 || env_init(&b, 4) < 0)
		return;
	busy_table(&a);
	if (encode(&a.g, &img) < 0 || !(copy = malloc(img.len + 1))) {
		env_done(&a);
		env_done(&b);
		return;
	}
	for (i = 0; i < img.len; i++) {
		refused_leaves_empty(&b, img.p, i, &bad);
		tried++;
	}
	for (i = 0; i < img.len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, img.p, img.len);
			copy[i] ^= (uint8_t)(1u << bit);
			refused_leaves_empty(&b, copy, img.len, &bad);
			tried++;
		}
	/* A byte too many. */
	memcpy(copy, img.p, img.len);
	copy[img.len] = 0;
	refused_leaves_empty(&b, copy, img.len + 1, &bad);
	fprintf(stderr, "  %d corrupted images of a %zu-byte image\n", tried,
		img.len);
	CHECK_EQ(0, bad);
	/* The image itself loads (the control). */
	CHECK_EQ(STATE_OK, decode(&b.g, &img));
	b.ev[GWE_CALL_NEW] += (int)(b.g.tab.ncalls_used + b.g.tab.nrefused);
	free(copy);
	state_buf_free(&img);
	env_done(&a);
	env_done(&b);
}

/* Re-seal an image changed in place: a valid checksum again. */
static void reseal(struct state_buf *b)
{
	be32_put(b->p + b->len - 4, state_crc32(b->p, b->len - 4));
}

/* Well-formed but not ours to load: each refused for its own reason. */
static void test_foreign_refused(void)
{
	struct env a, b, small;
	struct state_buf img = { 0 };
	struct state_meta other = META;
	struct state_counts cnt;
	char why[200];
	struct gw_cfg gc;

	if (env_init(&a, 256) < 0 || env_init(&b, 4) < 0)
		return;
	busy_table(&a);
	if (encode(&a.g, &img) == 0) {
		be32_put(img.p + 8, STATE_VERSION + 1);
		reseal(&img);
		CHECK_EQ(STATE_VERSION_BAD, decode(&b.g, &img));
		be32_put(img.p + 8, STATE_VERSION);
		reseal(&img);
		CHECK_EQ(STATE_OK, decode(&b.g, &img));
		b.ev[GWE_CALL_NEW] += (int)(b.g.tab.ncalls_used);
		env_done(&b);
		env_init(&b, 4);
		other.boot_id[0] ^= 1;
		CHECK_EQ(STATE_BOOT, state_decode(&b.g, img.p, img.len, &other,
						  &cnt, why, sizeof(why)));
		other = META;
		other.now = 10;
		CHECK_EQ(STATE_CLOCK, state_decode(&b.g, img.p, img.len, &other,
						   &cnt, why, sizeof(why)));
		CHECK(table_empty(&b.g));
		/* Tables smaller than the slots the image uses. */
		gw_default_cfg(&gc);
		if (env_init_cfg(&small, 4, 1, &gc) == 0) {
			CHECK_EQ(STATE_CONFLICT, state_decode(&small.g, img.p,
				 img.len, &META, &cnt, why, sizeof(why)));
			fprintf(stderr, "  into a 1-call table: %s\n", why);
			CHECK(table_empty(&small.g));
			env_done(&small);
		}
		/* Not a state file at all. */
		CHECK_EQ(STATE_MAGIC_BAD, state_decode(&b.g,
			 (const uint8_t *)"[gateway]\nwan = eth0\n", 21, &META,
			 &cnt, why, sizeof(why)));
	}
	state_buf_free(&img);
	env_done(&a);
	env_done(&b);
}

/* The checksum is CRC-32 (IEEE) as everyone computes it. */
static void test_crc32_check_value(void)
{
	CHECK_EQ(0xcbf43926u, state_crc32((const uint8_t *)"123456789", 9));
	CHECK_EQ(0u, state_crc32(NULL, 0));
	CHECK_EQ(0x414fa339u, state_crc32((const uint8_t *)
		 "The quick brown fox jumps over the lazy dog", 43));
}

static const struct check_case cases[] = {
	CHECK_CASE(crc32_check_value),
	CHECK_CASE(round_trip_traffic),
	CHECK_CASE(round_trip_every_field),
	CHECK_CASE(adopt_mid_stream),
	CHECK_CASE(adopt_control_without_image),
	CHECK_CASE(held_stream_rewound),
	CHECK_CASE(corrupt_refused),
	CHECK_CASE(foreign_refused),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
