/*
 * The translator on the TCP stream: messages split at every byte and pair
 * of bytes, coalesced, retransmitted (also while a piece is held),
 * out-of-order, across the sequence wrap; held segments and their timeout;
 * SYNs mid-stream or with data; a FIN overtaking; streams picked up
 * without their SYN.  The bench is in gw_fixture.h.
 */
#include "gw_fixture.h"

static size_t build_stream(uint8_t *s, const unsigned *types,
			   const uint16_t *ids, int n)
{
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += pg_msg(s + len, PPTP_MAX_LEN, types[i], ids[i], 0, 0);
	return len;
}

/*
 * Send the stream s (n bytes) from inside, cut at the given points (sorted,
 * strictly inside 1..n-1), each piece one segment; return the rewritten
 * stream as it left, in out, and how many segments were accepted.
 */
static int send_cut(const uint8_t *s, size_t n, const size_t *cuts, int ncut,
		    uint8_t *out, int *csum_bad, uint64_t *ctr_out)
{
	struct env e;
	struct flow f;
	struct tpkt *t[400];
	uint32_t base;
	size_t from = 0;
	int i, acc = 0, nseg = ncut + 1;

	*csum_bad = 0;
	if (env_init(&e, nseg + 8) < 0)
		return -1;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	base = f.iseq;
	for (i = 0; i < nseg; i++) {
		size_t to = i < ncut ? cuts[i] : n;

		t[i] = seg_at(&e, &f, DIR_OUT, base + (uint32_t)from, PG_ACK,
			      s + from, to - from);
		from = to;
	}
	from = 0;
	for (i = 0; i < nseg; i++) {
		size_t to = i < ncut ? cuts[i] : n;

		if (accepted(t[i])) {
			acc++;
			if (!tcp_ok(t[i]))
				(*csum_bad)++;
			memcpy(out + from,
			       t[i]->buf + pg_tcp_payload_off(t[i]->buf),
			       to - from);
		} else {
			memset(out + from, 0xEE, to - from);
		}
		from = to;
	}
	/* Verdicts in stream order. */
	for (i = 1; i < nseg; i++)
		if (t[i]->order < t[i - 1]->order)
			(*csum_bad) += 1000;
	if (ctr_out)
		memcpy(ctr_out, e.g.ctr, sizeof(e.g.ctr));
	env_done(&e);
	return acc;
}

static void test_split_two(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), k;
	int bad, acc, wrong = 0, notacc = 0, csum = 0;

	acc = send_cut(s, n, NULL, 0, ref, &bad, NULL);
	CHECK_EQ(1, acc);
	CHECK_EQ(0, bad);
	CHECK(pg_get16(ref + 156 + 12) != 1);
	for (k = 1; k < n; k++) {
		acc = send_cut(s, n, &k, 1, out, &bad, NULL);
		if (acc != 2)
			notacc++;
		csum += bad;
		if (memcmp(ref, out, n) != 0) {
			if (wrong < 3)
				fprintf(stderr, "  split at %zu differs\n", k);
			wrong++;
		}
	}
	CHECK_EQ(0, notacc);
	CHECK_EQ(0, wrong);
	CHECK_EQ(0, csum);
}

/*
 * Every message in one-byte segments.  The alias can only be chosen once
 * 18 bytes of the message are in, so 17 segments have to wait for it.
 */
static void test_split_bytes(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), i, cuts[400];
	int bad, acc;
	uint64_t ctr[GC_COUNT];

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	for (i = 1; i < n; i++)
		cuts[i - 1] = i;
	acc = send_cut(s, n, cuts, (int)n - 1, out, &bad, ctr);
	CHECK_EQ((long long)n, acc);
	CHECK_EQ(0, bad);
	CHECK_MEM(ref, out, n);
	CHECK_EQ(0, ctr[GC_CTRL_HOLD_OVERFLOW]);
}

/*
 * Three segments, cut at every pair of points, over two OCRQs: the second
 * cut can end a segment inside the next message's first bytes while the
 * first segment (still held) holds part of the previous message's Call ID.
 */
static void test_split_three(void)
{
	static const unsigned types[] = { PPTP_OCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 1, 2 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2), c[2];
	int bad, acc, wrong = 0, notacc = 0, csum = 0, shown = 0;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	/* The test needs both alias bytes to differ from the inside ID's. */
	CHECK(ref[12] != 0 && ref[168 + 12] != 0);
	for (c[0] = 1; c[0] < n; c[0]++) {
		for (c[1] = c[0] + 1; c[1] < n; c[1]++) {
			acc = send_cut(s, n, c, 2, out, &bad, NULL);
			if (acc != 3)
				notacc++;
			csum += bad;
			if (memcmp(ref, out, n) != 0) {
				if (shown++ < 3)
					fprintf(stderr, "  cuts %zu,%zu differ\n",
						c[0], c[1]);
				wrong++;
			}
		}
	}
	CHECK_EQ(0, notacc);
	CHECK_EQ(0, wrong);
	CHECK_EQ(0, csum);
}

/* The smallest case of the above, spelled out. */
static void test_held_segment_gets_patch(void)
{
	static const unsigned types[] = { PPTP_OCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 1, 2 };
	uint8_t s[1024], ref[1024], out[1024];
	size_t n = build_stream(s, types, ids, 2);
	size_t cuts[2] = { 13, 168 + 5 };
	int bad, acc;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	acc = send_cut(s, n, cuts, 2, out, &bad, NULL);
	CHECK_EQ(3, acc);
	CHECK_EQ(0, bad);
	/* Byte 12 (the alias's high byte) travels in the first segment. */
	CHECK_EQ(ref[12], out[12]);
	CHECK_EQ(ref[13], out[13]);
	CHECK_MEM(ref, out, n);
}

static void test_coalesced(void)
{
	struct env e;
	struct flow f;
	uint8_t s[1024];
	size_t n = 0;
	struct tpkt *t;
	uint16_t a1, a2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	n += pg_msg(s + n, 300, PPTP_SCCRQ, 0, 0, 0);
	n += pg_msg(s + n, 300, PPTP_OCRQ, 1, 0, 0);
	n += pg_msg(s + n, 300, PPTP_ECHORQ, 0, 0, 0);
	n += pg_msg(s + n, 300, PPTP_OCRQ, 2, 0, 0);
	t = seg(&e, &f, DIR_OUT, PG_ACK, s, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	a1 = pl16(t, 156 + 12);
	a2 = pl16(t, 156 + 168 + 16 + 12);
	CHECK(a1 != 0 && a1 != 1);
	CHECK(a2 != 0 && a2 != 2 && a2 != a1);
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(4, e.g.ctr[GC_CTRL_MSGS]);
	/* Replies coalesced too, with an SLI after them. */
	n = 0;
	n += pg_msg(s + n, 300, PPTP_SCCRP, 0, 0, 1);
	n += pg_msg(s + n, 300, PPTP_OCRP, 500, a1, 1);
	n += pg_msg(s + n, 300, PPTP_OCRP, 501, a2, 1);
	n += pg_msg(s + n, 300, PPTP_SLI, a2, 0, 0);
	t = seg(&e, &f, DIR_IN, PG_ACK, s, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	CHECK_EQ(1, pl16(t, 156 + 14));
	CHECK_EQ(2, pl16(t, 156 + 32 + 14));
	CHECK_EQ(2, pl16(t, 156 + 64 + 12));
	CHECK_EQ(2, e.ev[GWE_CALL_UP]);
	env_done(&e);
}

static void test_retransmit(void)
{
	struct env e;
	struct flow f;
	struct tpkt *q, *q2, *q3;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	q = seg(&e, &f, DIR_OUT, PG_ACK, m, n);
	CHECK(accepted(q));
	q2 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	CHECK(accepted(q2));
	CHECK_EQ(pl16(q, 12), pl16(q2, 12));
	CHECK(tcp_ok(q2));
	CHECK_MEM(q->buf, q2->buf, q->gp.len);
	/* A retransmission of part of it, and one that overlaps new data. */
	q3 = seg_at(&e, &f, DIR_OUT, s0 + 10, PG_ACK, m + 10, 20);
	CHECK(accepted(q3));
	CHECK_EQ(pl16(q, 12), pl16(q3, 2));
	CHECK(tcp_ok(q3));
	{
		uint8_t two[PPTP_MAX_LEN * 2];
		size_t n2 = pg_msg(two, sizeof(two), PPTP_OCRQ, 1, 0, 0);
		struct tpkt *q4;

		n2 += pg_msg(two + n2, sizeof(two) - n2, PPTP_OCRQ, 3, 0, 0);
		q4 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, two, n2);
		f.iseq = s0 + (uint32_t)n2;
		CHECK(accepted(q4));
		CHECK_EQ(pl16(q, 12), pl16(q4, 12));
		CHECK(pl16(q4, 168 + 12) != 3 && pl16(q4, 168 + 12) != 0);
		CHECK(tcp_ok(q4));
	}
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(2, e.ev[GWE_CALL_NEW]);
	env_done(&e);
}

/*
 * The sender retransmits a segment that the gateway is still holding (the
 * message's Call ID has not arrived yet), then the whole message.  Neither
 * copy may leave un-rewritten, only one call may come of it, and the stream
 * must not wedge: at the latest once the held piece times out, the sender's
 * next retransmission goes through, rewritten.
 */
static void test_retransmit_of_held(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b, *c, *d;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;
	int i;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	CHECK_EQ(0, a->nverd);
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	c = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	(void)b;
	/* If the full copy passed at once, it carries the alias. */
	if (accepted(c)) {
		CHECK(pl16(c, 12) != 1 && pl16(c, 12) != 0);
		CHECK(tcp_ok(c));
	}
	/* The sender keeps retransmitting; time passes. */
	d = NULL;
	for (i = 0; i < 4 && !(d && accepted(d)); i++) {
		if (!accepted(c)) {
			e.now += e.g.cfg.hold_ms;
			gw_tick(&e.g, e.now);
		}
		d = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	}
	CHECK(d && accepted(d));
	if (d && accepted(d)) {
		CHECK(pl16(d, 12) != 1 && pl16(d, 12) != 0);
		CHECK(tcp_ok(d));
		if (accepted(c))
			CHECK_EQ(pl16(c, 12), pl16(d, 12));
	}
	CHECK_EQ(1, e.g.tab.ncalls_used);
	/* And the stream still works after it. */
	{
		struct tpkt *r = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0);

		CHECK(accepted(r));
		CHECK(pl16(r, 12) != 2);
	}
	env_done(&e);
}

static void test_out_of_order(void)
{
	size_t cuts[] = { 100, 13, 17, 18 };
	int ci;

	for (ci = 0; ci < 4; ci++) {
		struct env e;
		struct flow f;
		struct tpkt *s1, *s2, *r;
		uint8_t m[PPTP_MAX_LEN];
		size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0), k = cuts[ci];
		uint32_t s0;
		uint16_t alias;

		if (env_init(&e, 64) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		handshake(&e, &f);
		s0 = f.iseq;
		s2 = seg_at(&e, &f, DIR_OUT, s0 + (uint32_t)k, PG_ACK, m + k,
			    n - k);
		CHECK_EQ(0, s2->nverd);
		s1 = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, k);
		f.iseq = s0 + (uint32_t)n;
		CHECK(accepted(s1));
		CHECK(accepted(s2));
		CHECK(s1->order < s2->order);
		CHECK(tcp_ok(s1));
		CHECK(tcp_ok(s2));
		{
			uint8_t hi = k > 12 ? pl8(s1, 12) : pl8(s2, 12 - k);
			uint8_t lo = k > 13 ? pl8(s1, 13) : pl8(s2, 13 - k);

			alias = (uint16_t)(hi << 8 | lo);
		}
		CHECK(alias != 1 && alias != 0);
		CHECK(call_by_alias(&e.g.tab, PUB, SERVER, alias) != NULL);
		CHECK_EQ(1, e.g.tab.ncalls_used);
		r = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 1);
		CHECK_EQ(1, pl16(r, 14));
		env_done(&e);
	}
}

static void test_seq_wrap(void)
{
	static const unsigned types[] = { PPTP_SCCRQ, PPTP_OCRQ };
	static const uint16_t ids[] = { 0, 1 };
	uint8_t s[1024], ref[1024];
	size_t n = build_stream(s, types, ids, 2), k;
	int bad, wrong = 0;

	send_cut(s, n, NULL, 0, ref, &bad, NULL);
	/* The stream crosses 2^32 at every offset around the Call ID. */
	for (k = 150; k < 180; k++) {
		struct env e;
		struct flow f;
		struct tpkt *a, *b;
		size_t cut = 156 + 14;

		if (env_init(&e, 16) < 0)
			return;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		f.iseq = (uint32_t)(0 - k - 1);    /* SYN takes one */
		handshake(&e, &f);
		a = seg(&e, &f, DIR_OUT, PG_ACK, s, cut);
		b = seg(&e, &f, DIR_OUT, PG_ACK, s + cut, n - cut);
		if (!accepted(a) || !accepted(b) ||
		    memcmp(a->buf + 40, ref, cut) != 0 ||
		    memcmp(b->buf + 40, ref + cut, n - cut) != 0 ||
		    !tcp_ok(a) || !tcp_ok(b))
			wrong++;
		/* A retransmission across the wrap is rewritten the same. */
		f.iseq = (uint32_t)(0 - k);
		a = seg(&e, &f, DIR_OUT, PG_ACK, s, n);
		if (!accepted(a) || memcmp(a->buf + 40, ref, n) != 0)
			wrong++;
		env_done(&e);
	}
	CHECK_EQ(0, wrong);
}

static void test_unsynced(void)
{
	struct env e;
	struct flow f, g;
	struct tpkt *t;
	uint8_t junk[40];

	if (env_init(&e, 64) < 0)
		return;
	memset(junk, 0x42, sizeof(junk));
	/* No SYN ever seen, data that is not a message: dropped. */
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_ACK, junk, sizeof(junk));
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_UNSYNCED]);
	CHECK(flow_conn(&e, &f) == NULL);
	/* A bare ACK of an unknown connection passes. */
	CHECK(accepted(seg(&e, &f, DIR_OUT, PG_ACK, NULL, 0)));
	/* Picked up mid-stream at a message start (gateway restarted). */
	flow_init(&g, INSIDE(2), 40000, SERVER, 61001);
	t = msg(&e, &g, DIR_OUT, PPTP_OCRQ, 1, 0, 0);
	CHECK(accepted(t));
	CHECK(pl16(t, 12) != 1 && pl16(t, 12) != 0);
	CHECK(tcp_ok(t));
	CHECK(flow_conn(&e, &g) != NULL);
	{
		uint16_t alias = pl16(t, 12);

		t = msg(&e, &g, DIR_IN, PPTP_OCRP, 500, alias, 1);
		CHECK(accepted(t));
		CHECK_EQ(1, pl16(t, 14));
		t = gre_in(&e, &g, alias);
		CHECK_EQ(INSIDE(2), pg_dst(t->buf));
	}
	env_done(&e);
}

static void test_hold_timeout(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	/* A header-only segment carries nothing to rewrite: it passes. */
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 10);
	CHECK(accepted(a));
	/* One byte of the Call ID in: held until the decision or hold_ms. */
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK | PG_FIN, m, 13);
	CHECK_EQ(0, a->nverd);
	gw_tick(&e.g, e.now + e.g.cfg.hold_ms - 1);
	CHECK_EQ(0, a->nverd);
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	/* Then cut before the ID region (and its FIN): the header goes. */
	CHECK(accepted(a));
	CHECK_EQ(40 + 12, a->gp.len);
	CHECK_EQ(40 + 12, a->buf[2] << 8 | a->buf[3]);
	CHECK_EQ(0, a->buf[33] & PG_FIN);
	CHECK(tcp_ok(a));
	CHECK_EQ(1, e.g.ctr[GC_CTRL_HOLD_TIMEOUT]);
	/* The sender retransmits; it is parsed afresh and rewritten. */
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	CHECK(accepted(b));
	CHECK(pl16(b, 12) != 1 && pl16(b, 12) != 0);
	CHECK(tcp_ok(b));
	CHECK_EQ(1, e.g.tab.ncalls_used);
	env_done(&e);
}

static void test_hold_overflow_and_ooo_limit(void)
{
	struct env e;
	struct flow f;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	struct tpkt *t[64];
	uint32_t s0;
	int i, dropped_n = 0;

	if (env_init(&e, 128) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	/* Out-of-order: more than GW_OOO_MAX segments beyond a gap. */
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		t[i] = seg_at(&e, &f, DIR_OUT, s0 + 20 + (uint32_t)i, PG_ACK,
			      m + 20 + i, 1);
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		dropped_n += dropped(t[i]);
	CHECK_EQ(2, dropped_n);
	CHECK_EQ(2, e.g.ctr[GC_CTRL_OOO_DROP]);
	/* They time out if the gap is never filled. */
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	dropped_n = 0;
	for (i = 0; i < GW_OOO_MAX + 2; i++)
		dropped_n += dropped(t[i]);
	CHECK_EQ(GW_OOO_MAX + 2, dropped_n);
	/* Then the whole message arrives and passes. */
	t[0] = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	CHECK(accepted(t[0]));
	env_done(&e);
}

/*
 * A PNS clearing many calls at once: its CCRQs coalesce into one segment
 * (70 x 16 bytes fit in one MSS).  Every one must carry its alias, never
 * the inside ID, and a retransmission of the segment must be rewritten the
 * same way.
 */
static void test_many_rewrites_one_segment(void)
{
	enum { N = 70 };
	struct env e;
	struct flow f;
	struct tpkt *t, *r;
	uint8_t b[N * 16];
	uint16_t alias[N];
	size_t n = 0;
	uint32_t s0;
	int i, wrong = 0, wrong_r = 0;

	if (env_init_cfg(&e, 512, 128, NULL) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	for (i = 0; i < N; i++)
		alias[i] = setup_call(&e, &f, (uint16_t)(i + 1),
				      (uint16_t)(900 + i), i == 0);
	CHECK_EQ(N, e.g.tab.ncalls_used);
	for (i = 0; i < N; i++)
		n += pg_msg(b + n, 16, PPTP_CCRQ, (uint16_t)(i + 1), 0, 0);
	s0 = f.iseq;
	t = seg(&e, &f, DIR_OUT, PG_ACK, b, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	for (i = 0; i < N; i++)
		if (pl16(t, (size_t)i * 16 + 12) != alias[i])
			wrong++;
	CHECK_EQ(0, wrong);
	r = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, b, n);
	CHECK(accepted(r));
	if (accepted(r))
		for (i = 0; i < N; i++)
			if (pl16(r, (size_t)i * 16 + 12) != alias[i])
				wrong_r++;
	CHECK_EQ(0, wrong_r);
	env_done(&e);
}

/*
 * A SYN that carries data (TCP Fast Open): the data starts at the SYN's
 * sequence number plus one.
 */
static void test_syn_with_data(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint8_t b[PPTP_MAX_LEN];
	size_t n = pg_msg(b, sizeof(b), PPTP_SCCRQ, 0, 0, 0);

	if (env_init(&e, 16) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	t = seg(&e, &f, DIR_OUT, PG_SYN, b, n);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	env_done(&e);
}

/*
 * The inside host's last segment, with FIN, overtakes the one before it.
 * Once the gap is filled the FIN is in order and must end the calls just as
 * an in-order FIN does.
 */
static void test_fin_out_of_order(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_ECHORQ, 0, 0, 0);
	uint32_t s0;
	struct conn *c;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	s0 = f.iseq;
	b = seg_at(&e, &f, DIR_OUT, s0 + 8, PG_FIN | PG_ACK, m + 8, n - 8);
	CHECK_EQ(0, b->nverd);
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 8);
	f.iseq = s0 + (uint32_t)n + 1;
	CHECK(accepted(a));
	CHECK(accepted(b));
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, e.ends[END_TCP]);
	c = flow_conn(&e, &f);
	CHECK_EQ(CONN_CLOSING, c ? c->state : 0);
	env_done(&e);
}

/*
 * A held segment that already carried a whole OCRQ (its call made, its
 * alias chosen) times out: the retransmission must reuse that alias, not
 * make a second call for it.
 */
static void test_hold_timeout_after_decided(void)
{
	struct env e;
	struct flow f;
	struct tpkt *a, *b;
	uint8_t m[PPTP_MAX_LEN * 2];
	size_t n;
	uint32_t s0;
	uint16_t first;
	struct call *k;

	if (env_init(&e, 64) < 0)
		return;
	n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	n += pg_msg(m + n, sizeof(m) - n, PPTP_OCRQ, 2, 0, 0);
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	a = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 168 + 13);
	CHECK_EQ(0, a->nverd);
	k = call_by_inside(&e.g.tab, flow_conn(&e, &f), 1);
	first = k ? k->alias : 0;
	CHECK(first != 0);
	e.now += e.g.cfg.hold_ms;
	gw_tick(&e.g, e.now);
	/* Cut after the second header: the first OCRQ goes out rewritten. */
	CHECK(accepted(a));
	CHECK_EQ(40 + 168 + 12, a->gp.len);
	CHECK_EQ(first, pl16(a, 12));
	CHECK(tcp_ok(a));
	b = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, n);
	f.iseq = s0 + (uint32_t)n;
	CHECK(accepted(b));
	CHECK_EQ(first, pl16(b, 12));
	CHECK(pl16(b, 168 + 12) != 2 && pl16(b, 168 + 12) != first);
	CHECK(tcp_ok(b));
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(2, e.ev[GWE_CALL_NEW]);
	env_done(&e);
}

/* A SYN on a running stream (a spoofed SYN-ACK, say) must not resync it. */
static void test_syn_midstream(void)
{
	struct env e;
	struct flow f;
	struct tpkt *held, *t, *rest;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 1, 0, 0);
	uint32_t s0;
	struct call *k;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	s0 = f.iseq;
	held = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, m, 13);
	CHECK_EQ(0, held->nverd);
	t = seg_at(&e, &f, DIR_OUT, 0x12345678, PG_SYN | PG_ACK, NULL, 0);
	CHECK_EQ(1, t->nverd);
	t = seg_at(&e, &f, DIR_OUT, s0 + 13, PG_ACK, NULL, 0);
	CHECK(accepted(t));
	CHECK_EQ(0, held->nverd);   /* still held: its Call ID is undecided */
	rest = seg_at(&e, &f, DIR_OUT, s0 + 13, PG_ACK, m + 13, n - 13);
	CHECK(accepted(held));
	CHECK(accepted(rest));
	/* The Call ID straddles the two: byte 12 held, byte 13 in rest. */
	k = call_by_inside(&e.g.tab, flow_conn(&e, &f), 1);
	alias = (uint16_t)((pl16(held, 12) & 0xff00) | (pl16(rest, 0) >> 8));
	CHECK_EQ(k ? k->alias : 0, alias);
	CHECK(tcp_ok(held));
	CHECK(tcp_ok(rest));
	f.iseq = s0 + (uint32_t)n;
	/* From the server's side too: its stream keeps its place. */
	t = seg_at(&e, &f, DIR_IN, 0x0badf00d, PG_SYN | PG_ACK, NULL, 0);
	CHECK_EQ(1, t->nverd);
	t = msg(&e, &f, DIR_IN, PPTP_OCRP, 500, alias, 1);
	CHECK(accepted(t));
	CHECK_EQ(1, pl16(t, 14));

	CHECK_EQ(0, e.g.ctr[GC_CTRL_OOO_DROP]);
	env_done(&e);
}

/*
 * A retransmission whose bytes differ from what passed first at its
 * sequence numbers: an Echo-Request sent again as a Call-Clear-Request of
 * the same length, naming an inside Call ID.  Passed, it would leave with
 * that ID never aliased (nothing was rewritten there the first time), to a
 * server that lost the first copy.  Dropped, counted, told with the host.
 */
static void test_retransmit_changed(void)
{
	struct env e;
	struct flow f;
	struct tpkt *q, *r, *t;
	uint8_t echo[PPTP_MAX_LEN], ccrq[PPTP_MAX_LEN], two[2 * PPTP_MAX_LEN];
	size_t ne = pg_msg(echo, sizeof(echo), PPTP_ECHORQ, 0, 0, 0);
	size_t nc = pg_msg(ccrq, sizeof(ccrq), PPTP_CCRQ, 1, 0, 0);
	uint16_t alias;
	uint32_t s0;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 900, 1);
	CHECK_EQ(ne, nc);
	s0 = f.iseq;
	q = seg(&e, &f, DIR_OUT, PG_ACK, echo, ne);
	CHECK(accepted(q));
	r = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, ccrq, nc);
	CHECK(dropped(r));
	if (accepted(r))
		fprintf(stderr, "  left with Call ID %u (alias %u)\n",
			pl16(r, 12), alias);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_RETRANS_CHANGED]);
	CHECK_EQ(1, e.ev[GWE_SEGMENT_DROPPED]);
	CHECK_EQ(INSIDE(1), e.refused_host);
	CHECK_EQ(GC_CTRL_RETRANS_CHANGED, e.refused_why);
	/* Running into new data: dropped whole, the new part is sent
	 * again by its sender and then parsed. */
	memcpy(two, ccrq, nc);
	memcpy(two + nc, echo, ne);
	t = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, two, nc + ne);
	CHECK(dropped(t));
	CHECK_EQ(2, e.g.ctr[GC_CTRL_RETRANS_CHANGED]);
	/* The call is still up and the honest copy still passes. */
	CHECK_EQ(1, e.g.tab.ncalls_used);
	t = seg_at(&e, &f, DIR_OUT, s0, PG_ACK, echo, ne);
	CHECK(accepted(t));
	CHECK(same_but(t, -1, 0));
	/* The same from the server's side, named by its address. */
	s0 = f.oseq;
	q = seg(&e, &f, DIR_IN, PG_ACK, echo, ne);
	CHECK(accepted(q));
	echo[15] ^= 1;
	r = seg_at(&e, &f, DIR_IN, s0, PG_ACK, echo, ne);
	CHECK(dropped(r));
	CHECK_EQ(SERVER, e.refused_host);
	CHECK_EQ(3, e.g.ctr[GC_CTRL_RETRANS_CHANGED]);
	env_done(&e);
}

/* Spoil the TCP checksum of a segment about to be handed in. */
static struct tpkt *seg_bad_csum(struct env *e, struct flow *f, int dir,
				 uint8_t flags, const uint8_t *d, size_t n)
{
	struct tpkt *t = new_pkt(e);
	struct gw_meta m;
	uint32_t *s = dir == DIR_OUT ? &f->iseq : &f->oseq;
	size_t co;

	if (dir == DIR_OUT)
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->in, f->iport,
				   f->out, f->oport, *s, f->oseq, flags, d, n);
	else
		t->gp.len = pg_tcp(t->buf, sizeof(t->buf), f->out, f->oport,
				   f->in, f->iport, *s, f->iseq, flags, d, n);
	co = pg_ihl(t->buf) + 16;
	t->buf[co + 1] ^= 0x40;
	memcpy(t->orig, t->buf, t->gp.len);
	flow_meta(f, dir, &m);
	gw_input(&e->g, &t->gp, &m, e->now);
	return t;
}

/*
 * A segment with a wrong TCP checksum is dropped before anything is read
 * from it: no record from a SYN, no call from an Outgoing-Call-Request, no
 * end of calls from a RST in sequence; the right copy then works.
 */
static void test_bad_checksum(void)
{
	struct env e;
	struct flow f, g2;
	struct tpkt *t;
	uint8_t m[PPTP_MAX_LEN];
	size_t n = pg_msg(m, sizeof(m), PPTP_OCRQ, 5, 0, 0);

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&g2, INSIDE(2), 40001, SERVER, 61001);
	t = seg_bad_csum(&e, &g2, DIR_OUT, PG_SYN, NULL, 0);
	CHECK(dropped(t));
	CHECK(flow_conn(&e, &g2) == NULL);
	CHECK_EQ(1, e.g.ctr[GC_CTRL_BAD_CHECKSUM]);
	CHECK_EQ(INSIDE(2), e.refused_host);
	CHECK_EQ(GC_CTRL_BAD_CHECKSUM, e.refused_why);

	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 900, 1);
	t = seg_bad_csum(&e, &f, DIR_OUT, PG_ACK, m, n);
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(2, e.g.ctr[GC_CTRL_BAD_CHECKSUM]);
	t = seg_bad_csum(&e, &f, DIR_IN, PG_RST, NULL, 0);
	CHECK(dropped(t));
	CHECK_EQ(1, e.g.tab.ncalls_used);
	CHECK_EQ(0, e.ends[END_TCP]);
	CHECK_EQ(SERVER, e.refused_host);
	/* The sender's retransmission, right this time. */
	t = seg(&e, &f, DIR_OUT, PG_ACK, m, n);
	CHECK(accepted(t));
	CHECK(tcp_ok(t));
	CHECK(pl16(t, 12) != 5 && pl16(t, 12) != 0);
	CHECK_EQ(2, e.g.tab.ncalls_used);
	CHECK_EQ(3, e.g.ctr[GC_CTRL_BAD_CHECKSUM]);
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(split_two),
	CHECK_CASE(split_bytes),
	CHECK_CASE(split_three),
	CHECK_CASE(held_segment_gets_patch),
	CHECK_CASE(coalesced),
	CHECK_CASE(retransmit),
	CHECK_CASE(retransmit_of_held),
	CHECK_CASE(out_of_order),
	CHECK_CASE(seq_wrap),
	CHECK_CASE(unsynced),
	CHECK_CASE(hold_timeout),
	CHECK_CASE(hold_overflow_and_ooo_limit),
	CHECK_CASE(many_rewrites_one_segment),
	CHECK_CASE(syn_with_data),
	CHECK_CASE(fin_out_of_order),
	CHECK_CASE(hold_timeout_after_decided),
	CHECK_CASE(syn_midstream),
	CHECK_CASE(retransmit_changed),
	CHECK_CASE(bad_checksum),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
