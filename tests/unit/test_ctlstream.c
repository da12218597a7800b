/*
 * The reassembler on its own: a stream of messages cut into segments in
 * every way must yield the same messages and the same rewrites.
 */
#include <stdlib.h>

#include "check.h"
#include "xlate/ctlstream.h"
#include "wire/pptp_msg.h"
#include "wire/rd.h"

/* Hooks that rewrite the Call ID at offset 12 of OCRQ to id + 1000. */
struct rec {
	int decided, completed, refuse;
	uint16_t types[64];
	struct cs_patch pt[512];
	int np;
};

static int rec_decide(void *ctx, const uint8_t *m, size_t have,
		      struct cs_rewrite *rw, int max)
{
	struct rec *r = ctx;

	(void)max;
	if (be16_get(m + 8) == PPTP_OCRQ && have < 14)
		return CS_NEED_MORE;
	r->decided++;
	if (r->refuse)
		return -1;
	if (be16_get(m + 8) == PPTP_OCRQ) {
		rw[0].off = 12;
		rw[0].value = (uint16_t)(be16_get(m + 12) + 1000);
		return 1;
	}
	return 0;
}

static void rec_complete(void *ctx, const uint8_t *m, size_t len)
{
	struct rec *r = ctx;

	(void)len;
	if (r->completed < 64)
		r->types[r->completed] = be16_get(m + 8);
	r->completed++;
}

static void rec_patch(void *ctx, uint32_t seq, const uint8_t val[2])
{
	struct rec *r = ctx;

	if (r->np < 512) {
		r->pt[r->np].seq = seq;
		r->pt[r->np].val[0] = val[0];
		r->pt[r->np].val[1] = val[1];
		r->np++;
	}
}

static const struct cs_hooks hooks = {
	.decide = rec_decide,
	.complete = rec_complete,
	.patch = rec_patch,
};

/* Feed one segment, collecting its patches in r->pt[0..r->np). */
static enum cs_result feed(struct ctlstream *s, uint32_t seq,
			   const uint8_t *d, size_t len, struct rec *r)
{
	r->np = 0;
	return cs_feed(s, seq, d, len, &hooks, r);
}

static void apply_all(const struct rec *r, uint32_t seq, uint8_t *d,
		      size_t len)
{
	int i;

	for (i = 0; i < r->np; i++)
		cs_apply(&r->pt[i], seq, d, len, NULL, NULL);
}

static size_t put_msg(uint8_t *out, unsigned type, uint16_t id)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)type;
	m.num[PF_CALL_ID] = id;
	m.num[PF_IDENTIFIER] = 0xabcd;
	return pptp_build(&m, out, PPTP_MAX_LEN);
}

/* The stream SCCRQ, OCRQ(7), Echo-Request, OCRQ(9): 156+168+16+168. */
static size_t make_stream(uint8_t *buf)
{
	size_t n = 0;

	n += put_msg(buf + n, PPTP_SCCRQ, 0);
	n += put_msg(buf + n, PPTP_OCRQ, 7);
	n += put_msg(buf + n, PPTP_ECHORQ, 0);
	n += put_msg(buf + n, PPTP_OCRQ, 9);
	return n;
}

/* Expected: the same bytes with both OCRQ Call IDs rewritten. */
static void expect_stream(uint8_t *buf)
{
	make_stream(buf);
	be16_put(buf + 156 + 12, 1007);
	be16_put(buf + 156 + 168 + 16 + 12, 1009);
}

/*
 * Feed buf cut at the given offsets, the way the gateway does: held
 * segments get later patches applied too.  Returns 0 if every segment was
 * released; out holds the bytes as forwarded.
 */
static int feed_cut(const uint8_t *src, size_t n, const size_t *cuts, int ncut,
		    uint8_t *out, struct rec *r)
{
	struct ctlstream s;
	size_t held_from = SIZE_MAX, pos = 0;
	uint32_t isn = 0xfffffff0u;   /* wraps inside the stream */
	int i;

	memcpy(out, src, n);
	cs_sync(&s, isn);
	for (i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cuts[i] : n;
		enum cs_result res = feed(&s, isn + (uint32_t)pos, out + pos,
					  end - pos, r);
		size_t from = held_from != SIZE_MAX ? held_from : pos;

		apply_all(r, isn + (uint32_t)from, out + from, end - from);
		if (res == CS_HOLD) {
			if (held_from == SIZE_MAX)
				held_from = pos;
		} else if (res == CS_PASS) {
			held_from = SIZE_MAX;
		} else {
			return -1;
		}
		pos = end;
	}
	return held_from == SIZE_MAX ? 0 : -1;
}

static void test_every_split(void)
{
	uint8_t src[600], want[600], out[600];
	size_t n = make_stream(src), c;
	int bad = 0;

	expect_stream(want);
	for (c = 1; c < n; c++) {
		struct rec r = { 0 };

		if (feed_cut(src, n, &c, 1, out, &r) != 0 ||
		    memcmp(out, want, n) != 0 || r.completed != 4) {
			if (!bad)
				fprintf(stderr, "split at %zu failed\n", c);
			bad++;
		}
	}
	CHECK_EQ(0, bad);
}

static void test_one_byte_segments(void)
{
	uint8_t src[600], want[600], out[600];
	size_t n = make_stream(src), cuts[600], i;
	struct rec r = { 0 };

	expect_stream(want);
	for (i = 0; i < n - 1; i++)
		cuts[i] = i + 1;
	CHECK_EQ(0, feed_cut(src, n, cuts, (int)(n - 1), out, &r));
	CHECK_MEM(want, out, n);
	CHECK_EQ(4, r.completed);
	CHECK_EQ(PPTP_SCCRQ, r.types[0]);
	CHECK_EQ(PPTP_OCRQ, r.types[3]);
}

static void test_coalesced(void)
{
	uint8_t src[600], want[600], out[600];
	size_t n = make_stream(src);
	struct rec r = { 0 };

	expect_stream(want);
	CHECK_EQ(0, feed_cut(src, n, NULL, 0, out, &r));
	CHECK_MEM(want, out, n);
	CHECK_EQ(4, r.completed);
	CHECK_EQ(4, r.decided);
}

static void test_retransmission(void)
{
	uint8_t src[600], seg[600];
	size_t n = make_stream(src);
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 1000);
	memcpy(seg, src, n);
	CHECK_EQ(CS_PASS, feed(&s, 1000, seg, n, &r));
	CHECK_EQ(2, r.np);
	/* The whole stream again: same rewrites, no new decisions. */
	memcpy(seg, src, n);
	CHECK_EQ(CS_PASS, feed(&s, 1000, seg, n, &r));
	CHECK_EQ(2, r.np);
	apply_all(&r, 1000, seg, n);
	CHECK_EQ(1007, be16_get(seg + 156 + 12));
	CHECK_EQ(4, r.decided);
	/* A retransmission that runs into new data parses only the new part. */
	{
		uint8_t more[200 + PPTP_MAX_LEN];
		size_t m = put_msg(more + 200, PPTP_OCRQ, 5);
		uint32_t at = 1000 + (uint32_t)n - 200;

		memcpy(more, src + n - 200, 200);
		CHECK_EQ(CS_PASS, feed(&s, at, more, 200 + m, &r));
		apply_all(&r, at, more, 200 + m);
		CHECK_EQ(1009, be16_get(more + 200 - 168 + 12));
		CHECK_EQ(1005, be16_get(more + 200 + 12));
		CHECK_EQ(5, r.decided);
	}
}

static void test_out_of_order_and_undecided(void)
{
	uint8_t src[PPTP_MAX_LEN];
	size_t n = put_msg(src, PPTP_OCRQ, 7);
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 0);
	CHECK_EQ(CS_OOO, feed(&s, 10, src + 10, 20, &r));
	CHECK_EQ(0, r.decided);
	/* Header bytes alone carry nothing to rewrite: never held. */
	CHECK_EQ(CS_PASS, feed(&s, 0, src, 5, &r));
	CHECK_EQ(CS_PASS, feed(&s, 0, src, 5, &r));
	CHECK_EQ(0, cs_holding(&s));
	/* One byte of the Call ID: held, and a retransmission of it dropped. */
	CHECK_EQ(CS_HOLD, feed(&s, 5, src + 5, 8, &r));
	CHECK_EQ(1, cs_holding(&s));
	CHECK_EQ(CS_DROP, feed(&s, 0, src, 13, &r));
	CHECK_EQ(0, r.decided);
	/* Held bytes given up: the stream wants them again from offset 12. */
	CHECK_EQ(12, cs_rewind(&s));
	CHECK_EQ(0, cs_holding(&s));
	CHECK_EQ(CS_PASS, feed(&s, 0, src, n, &r));
	CHECK_EQ(1, r.np);
	apply_all(&r, 0, src, n);
	CHECK_EQ(1007, be16_get(src + 12));
	CHECK_EQ(1, r.completed);
}

static void test_malformed(void)
{
	static const struct { const char *name; size_t off; uint8_t val; } t[] = {
		{ "zero length", 1, 0 },
		{ "length 11", 1, 11 },
		{ "bad cookie", 5, 0x00 },
		{ "bad message type", 3, 2 },
		{ "control type 0", 9, 0 },
		{ "control type 16", 9, 16 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t m[PPTP_MAX_LEN];
		struct ctlstream s;
			struct rec r = { 0 };
		size_t n = put_msg(m, PPTP_ECHORQ, 0);
	
		m[0] = 0;
		m[t[i].off] = t[i].val;
		cs_sync(&s, 0);
		if (feed(&s, 0, m, n, &r) != CS_ERROR)
			fprintf(stderr, "case %s\n", t[i].name);
		CHECK_EQ(CS_BROKEN, s.state);
		/* Broken for good: later data is refused too, without parsing. */
		CHECK_EQ(CS_ERROR, feed(&s, (uint32_t)n, m, n, &r));
		CHECK_EQ(0, r.decided);
	}
}

static void test_refusal_rewinds(void)
{
	uint8_t src[600];
	size_t n = make_stream(src);
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 0);
	r.refuse = 1;
	CHECK_EQ(CS_REFUSED, feed(&s, 0, src, n, &r));
	CHECK_EQ(PPTP_HDR_LEN, s.next);   /* the header may stay delivered */
	r.refuse = 0;
	CHECK_EQ(CS_PASS, feed(&s, 0, src, n, &r));
	CHECK_EQ(4, r.completed);
}

static void test_history_floor(void)
{
	uint8_t m[PPTP_MAX_LEN];
	struct ctlstream s;
	struct rec r = { 0 };
	size_t n = put_msg(m, PPTP_OCRQ, 1);
	uint32_t seq = 0;
	int i;

	cs_sync(&s, 0);
	for (i = 0; i < CS_HIST + 1; i++, seq += (uint32_t)n)
		CHECK_EQ(CS_PASS, feed(&s, seq, m, n, &r));
	/* The first message's rewrite was forgotten: it may not pass again. */
	CHECK_EQ(CS_DROP, feed(&s, 0, m, n, &r));
	/* The latest is still known. */
	CHECK_EQ(CS_PASS, feed(&s, seq - (uint32_t)n, m, n, &r));
	CHECK_EQ(1, r.np);
}

/* As if bytes more of whole messages had passed, then an Echo-Request. */
static uint32_t skip_ahead(struct ctlstream *s, uint32_t bytes, struct rec *r)
{
	uint8_t m[PPTP_MAX_LEN];
	size_t n = put_msg(m, PPTP_ECHORQ, 0);
	uint32_t at = s->next + bytes;

	s->next = s->msg_start = at;
	CHECK_EQ(CS_PASS, feed(s, at, m, n, r));
	return at;
}

/*
 * A long-lived connection with few rewrites: after 2.5 GiB a retransmission
 * of the latest message still passes (the floor followed the stream), and
 * after 4 GiB the first message's rewrite, whose sequence number comes
 * round again, is not replayed over new bytes.
 */
static void test_history_floor_long_stream(void)
{
	uint8_t m[PPTP_MAX_LEN], e[PPTP_MAX_LEN];
	struct ctlstream s;
	struct rec r = { 0 };
	size_t n = put_msg(m, PPTP_OCRQ, 1), ne = put_msg(e, PPTP_ECHORQ, 0);
	uint32_t at = 0;
	int i;

	cs_sync(&s, 0);
	CHECK_EQ(CS_PASS, feed(&s, 0, m, n, &r));
	CHECK_EQ(1, r.np);
	for (i = 0; i < 5; i++)   /* 2.5 GiB on */
		at = skip_ahead(&s, 1u << 29, &r);
	CHECK_EQ(CS_PASS, feed(&s, at, e, ne, &r));
	CHECK_EQ(0, r.np);
	/* round to 4 GiB: the next Echo-Request sits at sequence number 0 */
	for (i = 0; i < 2; i++)
		skip_ahead(&s, 1u << 29, &r);
	at = skip_ahead(&s, 0u - s.next, &r);
	CHECK_EQ(0u, at);
	CHECK_EQ(CS_PASS, feed(&s, 0, e, ne, &r));
	CHECK_EQ(0, r.np);
}

/* Many rewrites in one segment: none may be lost to a fixed-size buffer. */
static void test_many_messages_one_segment(void)
{
	static uint8_t buf[100 * 168];
	struct ctlstream s;
	struct rec r = { 0 };
	size_t n = 0;
	int i, bad = 0;

	for (i = 0; i < 100; i++)
		n += put_msg(buf + n, PPTP_OCRQ, (uint16_t)i);
	cs_sync(&s, 7);
	CHECK_EQ(CS_PASS, feed(&s, 7, buf, n, &r));
	CHECK_EQ(100, r.np);
	apply_all(&r, 7, buf, n);
	for (i = 0; i < 100; i++)
		if (be16_get(buf + (size_t)i * 168 + 12) != 1000 + i)
			bad++;
	CHECK_EQ(0, bad);
}

/*
 * A retransmission must carry the bytes first parsed at its sequence
 * numbers.  The receiver keeps the first copy it gets, and that may be the
 * retransmission: one that differs would reach it unparsed.
 */
static void test_retransmission_changed(void)
{
	uint8_t src[600], seg[600], ccrq[PPTP_MAX_LEN];
	size_t n = make_stream(src), i;
	uint32_t echo = 1000 + 156 + 168;     /* the Echo-Request */
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 1000);
	memcpy(seg, src, n);
	CHECK_EQ(CS_PASS, feed(&s, 1000, seg, n, &r));
	/* The Echo-Request again, now a Call-Clear-Request of the same
	 * length naming inside Call ID 7: no rewrite was remembered there,
	 * so it would leave with 7, never aliased. */
	CHECK_EQ(16, put_msg(ccrq, PPTP_CCRQ, 7));
	CHECK_EQ(CS_CHANGED, feed(&s, echo, ccrq, 16, &r));
	CHECK_EQ(0, r.np);
	/* The same within a longer retransmission, and cut anywhere. */
	memcpy(seg, src, n);
	memcpy(seg + (echo - 1000), ccrq, 16);
	CHECK_EQ(CS_CHANGED, feed(&s, 1000, seg, n, &r));
	CHECK_EQ(CS_CHANGED, feed(&s, echo - 3, seg + (echo - 1000) - 3, 13,
				  &r));
	CHECK_EQ(CS_CHANGED, feed(&s, echo + 8, seg + (echo - 1000) + 8, 2,
				  &r));
	/* One byte of an older message's header (the first OCRQ's type). */
	memcpy(seg, src, n);
	seg[156 + 9] = PPTP_ECHORQ;
	CHECK_EQ(CS_CHANGED, feed(&s, 1000 + 156 + 5, seg + 156 + 5, 10, &r));
	/* Maximum Channels of the SCCRQ: read, so kept too. */
	memcpy(seg, src, n);
	seg[PPTP_OFF_MAX_CHANNELS + 1] ^= 1;
	CHECK_EQ(CS_CHANGED, feed(&s, 1000, seg, 156, &r));
	/* The same bytes pass, cut anywhere, with the rewrites replayed. */
	for (i = 0; i < n; i += 5) {
		size_t j;

		for (j = i + 1; j <= n; j += 7) {
			memcpy(seg, src, n);
			if (feed(&s, 1000 + (uint32_t)i, seg + i, j - i, &r) !=
			    CS_PASS) {
				fprintf(stderr, "  [%zu, %zu) not passed\n", i,
					j);
				CHECK(0);
				return;
			}
		}
	}
	/* Bytes nobody here reads (the OCRQ's phone number) are not kept:
	 * a change there passes, the Call ID still rewritten. */
	memcpy(seg, src, n);
	seg[156 + 100] ^= 0x55;
	CHECK_EQ(CS_PASS, feed(&s, 1000 + 156, seg + 156, 168, &r));
	apply_all(&r, 1000 + 156, seg + 156, 168);
	CHECK_EQ(1007, be16_get(seg + 156 + 12));
	CHECK_EQ(4, r.decided);
}

/* Bytes of the message being parsed: all of them are checked. */
static void test_retransmission_changed_current(void)
{
	uint8_t m[PPTP_MAX_LEN], x[PPTP_MAX_LEN];
	size_t n = put_msg(m, PPTP_SCCRQ, 0);
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 0);
	CHECK_EQ(CS_PASS, feed(&s, 0, m, 100, &r));
	memcpy(x, m, n);
	x[0] = 0;
	x[1] = 16;              /* the length of an Echo-Request */
	CHECK_EQ(CS_CHANGED, feed(&s, 0, x, 12, &r));
	memcpy(x, m, n);
	x[60] ^= 1;             /* a host name byte, in the current message */
	CHECK_EQ(CS_CHANGED, feed(&s, 40, x + 40, 100, &r));
	CHECK_EQ(100u, s.next);  /* nothing of it parsed */
	CHECK_EQ(CS_PASS, feed(&s, 40, m + 40, n - 40, &r));
	CHECK_EQ(1, r.completed);
}

/* The kept messages are bounded: beyond them, as beyond the history. */
static void test_retransmission_kept_floor(void)
{
	uint8_t m[PPTP_MAX_LEN];
	struct ctlstream s;
	struct rec r = { 0 };
	size_t n = put_msg(m, PPTP_ECHORQ, 0);
	uint32_t seq = 0;
	int i;

	cs_sync(&s, 0);
	for (i = 0; i < CS_SEEN + 1; i++, seq += (uint32_t)n)
		CHECK_EQ(CS_PASS, feed(&s, seq, m, n, &r));
	CHECK_EQ(CS_DROP, feed(&s, 0, m, n, &r));
	CHECK_EQ(CS_DROP, feed(&s, (uint32_t)n - 1, m + n - 1, 1, &r));
	/* The oldest kept message and the latest pass. */
	CHECK_EQ(CS_PASS, feed(&s, (uint32_t)n, m, n, &r));
	CHECK_EQ(CS_PASS, feed(&s, seq - (uint32_t)n, m, n, &r));
	m[12] ^= 1;
	CHECK_EQ(CS_CHANGED, feed(&s, (uint32_t)n, m, n, &r));
}

/* A bare ACK or an old retransmission while a header is incomplete. */
static void test_waiting_survives_other_segments(void)
{
	uint8_t src[600];
	size_t n = make_stream(src);
	struct ctlstream s;
	struct rec r = { 0 };

	cs_sync(&s, 0);
	CHECK_EQ(CS_PASS, feed(&s, 0, src, 156, &r));        /* SCCRQ */
	CHECK_EQ(CS_HOLD, feed(&s, 156, src + 156, 13, &r)); /* OCRQ, 13 B */
	CHECK_EQ(1, cs_holding(&s));
	CHECK_EQ(CS_PASS, feed(&s, 169, src, 0, &r));        /* bare ACK */
	CHECK_EQ(1, cs_holding(&s));
	CHECK_EQ(CS_PASS, feed(&s, 0, src, 156, &r));        /* SCCRQ again */
	CHECK_EQ(1, cs_holding(&s));
	CHECK_EQ(CS_DROP, feed(&s, 156, src + 156, 13, &r)); /* held bytes */
	CHECK_EQ(CS_PASS, feed(&s, 169, src + 169, n - 169, &r));
	CHECK_EQ(0, cs_holding(&s));
	CHECK_EQ(2, r.np);
}

static const struct check_case cases[] = {
	CHECK_CASE(every_split),
	CHECK_CASE(one_byte_segments),
	CHECK_CASE(coalesced),
	CHECK_CASE(retransmission),
	CHECK_CASE(out_of_order_and_undecided),
	CHECK_CASE(malformed),
	CHECK_CASE(refusal_rewinds),
	CHECK_CASE(history_floor),
	CHECK_CASE(history_floor_long_stream),
	CHECK_CASE(many_messages_one_segment),
	CHECK_CASE(waiting_survives_other_segments),
	CHECK_CASE(retransmission_changed),
	CHECK_CASE(retransmission_changed_current),
	CHECK_CASE(retransmission_kept_floor),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
