/*
 * Malformed input to the translator: control streams with bad lengths,
 * cookies, types and garbage (the connection is broken for good, the
 * others carry on), and truncated or bad IP, TCP and GRE packets.  The
 * bench is in gw_fixture.h.
 */
#include "gw_fixture.h"

enum mal { MAL_LEN, MAL_COOKIE, MAL_ZERO, MAL_MSGTYPE, MAL_CTRL0, MAL_CTRL16,
	   MAL_GARBAGE, MAL_AFTER_VALID, MAL_HUGE, MAL_COUNT };

static size_t make_malformed(int kind, uint8_t *b)
{
	size_t n = pg_msg(b, PPTP_MAX_LEN, PPTP_OCRQ, 1, 0, 0);

	switch (kind) {
	case MAL_LEN:
		pg_put16(b, 167);
		break;
	case MAL_COOKIE:
		pg_put32(b + 4, 0x1A2B3C4E);
		break;
	case MAL_ZERO:
		pg_put16(b, 0);
		break;
	case MAL_MSGTYPE:
		pg_put16(b + 2, 2);
		break;
	case MAL_CTRL0:
		pg_put16(b + 8, 0);
		break;
	case MAL_CTRL16:
		pg_put16(b + 8, 16);
		break;
	case MAL_GARBAGE:
		memset(b, 0xA5, 40);
		n = 40;
		break;
	case MAL_AFTER_VALID:
		memset(b + n, 0x00, 20);
		n += 20;
		break;
	case MAL_HUGE:
		pg_put16(b, 0xffff);
		break;
	}
	return n;
}

static void test_malformed(void)
{
	int kind;

	for (kind = 0; kind < MAL_COUNT; kind++) {
		struct env e;
		struct flow fa, fb;
		struct tpkt *t;
		uint8_t b[PPTP_MAX_LEN * 2];
		size_t n;
		uint16_t alias_a, alias_b;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&fa, INSIDE(1), 40000, SERVER, 61000);
		flow_init(&fb, INSIDE(2), 40000, SERVER, 61001);
		alias_a = setup_call(&e, &fa, 7, 500, 1);
		handshake(&e, &fb);
		msg(&e, &fb, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
		n = make_malformed(kind, b);
		t = seg(&e, &fa, DIR_OUT, PG_ACK, b, n);
		if (!dropped(t))
			fprintf(stderr, "  malformed kind %d not dropped\n",
				kind);
		CHECK(dropped(t));
		CHECK_EQ(1, e.g.ctr[GC_CTRL_MALFORMED]);
		CHECK_EQ(1, e.broken);
		/* A valid OCRQ before the garbage made a call of its own. */
		CHECK_EQ(kind == MAL_AFTER_VALID ? 2 : 1, e.ends[END_PROTOCOL]);
		CHECK_EQ(PUB, pg_dst(gre_in(&e, &fa, alias_a)->buf));
		/* The broken stream stays broken: nothing more leaks through. */
		t = msg(&e, &fa, DIR_OUT, PPTP_OCRQ, 8, 0, 0);
		CHECK(dropped(t));
		CHECK_EQ(0, e.g.tab.ncalls_used);
		/* Empty ACKs still pass (the TCP connection is not ours). */
		CHECK(accepted(seg(&e, &fa, DIR_OUT, PG_ACK, NULL, 0)));
		/* Another connection is unaffected. */
		alias_b = setup_call(&e, &fb, 7, 501, 0);
		CHECK(alias_b != 0);
		CHECK_EQ(INSIDE(2), pg_dst(gre_in(&e, &fb, alias_b)->buf));
		CHECK_EQ(1, e.g.tab.ncalls_used);
		/* The server side of the broken connection is still parsed. */
		CHECK(accepted(msg(&e, &fa, DIR_IN, PPTP_ECHORQ, 0, 0, 0)));
		env_done(&e);
	}
}

static void test_malformed_packets(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct gw_meta m;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	memset(&m, 0, sizeof(m));
	/* Truncated IP, outbound: dropped; inbound: not ours to judge. */
	t = new_pkt(&e);
	t->gp.len = 10;
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	t = new_pkt(&e);
	t->gp.len = 10;
	m.dir = DIR_IN;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(accepted(t));
	/* GRE with the wrong version, both ways. */
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.in, f.out, 500, 0, 0, 0,
			   0, NULL, 0);
	t->buf[21] = 0;   /* version 0 */
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.out, PUB, alias, 0, 0, 0,
			   0, NULL, 0);
	t->buf[21] = 0;
	m.dir = DIR_IN;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(passed(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(2, e.g.ctr[GC_GRE_MALFORMED]);
	/* GRE payload length beyond the packet. */
	t = new_pkt(&e);
	t->gp.len = pg_gre(t->buf, sizeof(t->buf), f.in, f.out, 500, 0, 0, 0,
			   0, NULL, 0);
	pg_put16(t->buf + 24, 100);
	m.dir = DIR_OUT;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	/* Bad TCP data offset. */
	t = seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0);
	CHECK(accepted(t));
	t = new_pkt(&e);
	t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f.in, f.iport, f.out,
			   f.oport, f.iseq, f.oseq, PG_ACK, NULL, 0);
	t->buf[32] = 0x20;
	m.dir = DIR_OUT;
	m.has_ct = 0;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(dropped(t));
	/* Some other protocol: not ours. */
	t = new_pkt(&e);
	pg_ip4_hdr(t->buf, f.in, f.out, 17, 28, 1);
	t->gp.len = 28;
	gw_input(&e.g, &t->gp, &m, e.now);
	CHECK(accepted(t));
	/* The call survived all of it. */
	CHECK_EQ(1, pg_gre_callid(gre_in(&e, &f, alias)->buf));
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(malformed),
	CHECK_CASE(malformed_packets),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
