/*
 * Unit tests for greleg.c: one leg of a relayed call's GRE data channel.
 * Packets are built by hand here (not by greleg_tx) so the receive side is
 * checked against the wire format itself; the frames' payloads are derived
 * from their sequence numbers, so every delivery can be checked for being the
 * right bytes.  The last test runs random permutations, losses and repeats
 * against a small model: each frame delivered at most once, in increasing
 * order, and everything accounted for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pktgen.h"
#include "wire/gre.h"
#include "relay/greleg.h"

#define OWN 0x4e21
#define PEER 0x0101

static uint8_t pay_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + 1u);
}

/* A PPTP GRE packet by hand: S and A as asked, plen payload bytes. */
static size_t mk(uint8_t *p, uint16_t call, int s, uint32_t seq, int a,
		 uint32_t ack, size_t plen)
{
	size_t n = pg_gre_hdr(p, call, s, seq, a, ack, plen), i;

	for (i = 0; i < plen; i++)
		p[n + i] = pay_byte(seq, i);
	return n + plen;
}

/* What the deliver callback saw. */
#define LOG_MAX 4096
struct dlog {
	size_t n;
	int bad_payload;
	uint32_t seq[LOG_MAX];
	size_t len[LOG_MAX];
};

static void on_deliver(void *arg, uint32_t seq, const uint8_t *ppp, size_t len)
{
	struct dlog *l = arg;
	size_t i;

	for (i = 0; i < len; i++)
		if (ppp[i] != pay_byte(seq, i))
			l->bad_payload++;
	if (l->n < LOG_MAX) {
		l->seq[l->n] = seq;
		l->len[l->n] = len;
	}
	l->n++;
}

static struct greleg leg;          /* large: keep it off the stack */
static struct dlog dl;
static uint8_t pkt[70000];

static void reset(uint32_t first_tx)
{
	greleg_init(&leg, OWN, PEER, first_tx);
	memset(&dl, 0, sizeof(dl));
}

/* Receive a data frame of plen bytes with sequence number seq. */
static enum greleg_rx_result rx(uint32_t seq, size_t plen, uint64_t now)
{
	size_t n = mk(pkt, OWN, 1, seq, 0, 0, plen);

	return greleg_rx(&leg, pkt, n, now, on_deliver, &dl);
}

static int log_is(const uint32_t *want, size_t n)
{
	size_t i;

	if (dl.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (dl.seq[i] != want[i])
			return 0;
	return 1;
}

static void test_names(void)
{
	int r;

	for (r = 0; r < GRELEG_RX_COUNT; r++)
		CHECK(greleg_rx_str(r) != NULL && greleg_rx_str(r)[0] != '?');
	CHECK(strcmp(greleg_rx_str(GRELEG_RX_COUNT), "?") == 0);
}

static void test_in_order(void)
{
	uint32_t s;
	int ok = 1;

	reset(1);
	for (s = 1; s <= 10; s++)
		if (rx(s, 40 + s, 1000 + s) != GRELEG_RX_DELIVERED)
			ok = 0;
	CHECK(ok);
	CHECK_EQ(10, dl.n);
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(1, dl.seq[0]);
	CHECK_EQ(10, dl.seq[9]);
	CHECK_EQ(50, dl.len[9]);
	CHECK_EQ(10, leg.st.rx_delivered);
	CHECK_EQ(0, leg.st.rx_reordered);
	CHECK_EQ(0, leg.st.rx_lost);
	CHECK_EQ(0, greleg_buffered(&leg));
	CHECK_EQ(0, greleg_check(&leg));
}

static void test_first_seq(void)
{
	static const uint32_t firsts[] = { 0, 1, 2, 0x7FFFFFFF, 0x80000000,
					   0xDEADBEEF, 0xFFFFFFFF };
	size_t i;
	int valid;

	for (i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		uint32_t f = firsts[i];

		reset(1);
		CHECK_EQ(0, greleg_rx_ack(&leg, &valid));
		CHECK_EQ(0, valid);
		CHECK_EQ(GRELEG_RX_DELIVERED, rx(f, 10, 5));
		CHECK_EQ(GRELEG_RX_DELIVERED, rx(f + 1, 10, 6));
		CHECK_EQ(GRELEG_RX_DUPLICATE, rx(f, 10, 7));
		/* The one before the first never came through: late. */
		CHECK_EQ(GRELEG_RX_LATE, rx(f - 1, 10, 8));
		CHECK_EQ(2, dl.n);
		CHECK_EQ(f, dl.seq[0]);
		CHECK_EQ((uint32_t)(f + 1), greleg_rx_ack(&leg, &valid));
		CHECK_EQ(1, valid);
		CHECK_EQ(0, leg.st.rx_lost);
	}
}

static void test_swap(void)
{
	static const uint32_t want[] = { 1, 2, 3, 4, 5 };

	reset(1);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(1, 20, 0));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(3, 20, 1));
	CHECK_EQ(1, greleg_buffered(&leg));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(2, 20, 2));
	CHECK_EQ(0, greleg_buffered(&leg));
	/* A longer run, held back by one gap. */
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(5, 20, 3));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(4, 20, 4));
	CHECK(log_is(want, 5));
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(2, leg.st.rx_reordered);
	CHECK_EQ(5, leg.st.rx_delivered);
	CHECK_EQ(0, leg.st.rx_lost);
	CHECK_EQ(0, greleg_check(&leg));
}

static void test_loss_timeout(void)
{
	static const uint32_t want[] = { 1, 3, 4, 7 };

	reset(1);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(1, 8, 1000));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(3, 8, 1010));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(4, 8, 1050));
	/* The timer goes off when the first held frame waited 100 ms. */
	CHECK_EQ(1000 + GRELEG_ACK_DELAY_MS, greleg_deadline(&leg));
	CHECK_EQ(12, greleg_build_ack(&leg, pkt, sizeof(pkt)));
	CHECK_EQ(1010 + GRELEG_REORDER_MS, greleg_deadline(&leg));
	CHECK_EQ(0, greleg_tick(&leg, 1109, on_deliver, &dl));
	CHECK_EQ(1, dl.n);
	CHECK_EQ(2, greleg_tick(&leg, 1110, on_deliver, &dl));
	CHECK_EQ(1, leg.st.rx_lost);
	CHECK_EQ(1, leg.st.rx_gap_timeouts);
	/* The frame whose gap was given up is late now, never delivered. */
	CHECK_EQ(GRELEG_RX_LATE, rx(2, 8, 1120));
	CHECK_EQ(1, leg.st.rx_late);

	/* A timeout also fires from rx itself, before the new frame. */
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(7, 8, 1200));
	CHECK_EQ(GRELEG_RX_LATE, rx(6, 8, 1300));
	CHECK(log_is(want, 4));
	CHECK_EQ(3, leg.st.rx_lost);
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(7, greleg_rx_ack(&leg, NULL));
	CHECK_EQ(0, greleg_check(&leg));

	/* Two gaps, the later frame held longer: both gaps go at its time. */
	reset(1);
	rx(1, 8, 0);
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(5, 8, 10));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(3, 8, 90));
	CHECK_EQ(2, greleg_tick(&leg, 110, on_deliver, &dl));
	CHECK_EQ(3, dl.n);
	CHECK_EQ(2, leg.st.rx_lost);
	CHECK_EQ(0, greleg_buffered(&leg));

	/* reorder_ms is the caller's to change. */
	reset(1);
	leg.reorder_ms = 10;
	rx(1, 8, 0);
	rx(3, 8, 0);
	CHECK_EQ(10, greleg_deadline(&leg));
	CHECK_EQ(1, greleg_tick(&leg, 10, on_deliver, &dl));
}

static void test_duplicates(void)
{
	static const uint32_t want[] = { 10, 11, 12, 13 };

	reset(1);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(10, 5, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(10, 5, 0));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(12, 5, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(12, 5, 0));
	CHECK_EQ(1, greleg_buffered(&leg));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(11, 5, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(12, 5, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(11, 5, 0));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(13, 5, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(10, 5, 0));
	CHECK(log_is(want, 4));
	CHECK_EQ(5, leg.st.rx_duplicates);
	CHECK_EQ(0, leg.st.rx_late);
	CHECK_EQ(4, leg.st.rx_delivered);
}

static void test_old(void)
{
	uint32_t s;

	reset(1);
	for (s = 100; s < 300; s++)
		rx(s, 4, 0);
	CHECK_EQ(200, dl.n);
	/* Within the 64 remembered: a repeat.  Beyond: late all the same. */
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(299, 4, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(236, 4, 0));
	CHECK_EQ(GRELEG_RX_LATE, rx(235, 4, 0));
	CHECK_EQ(GRELEG_RX_LATE, rx(100, 4, 0));
	CHECK_EQ(GRELEG_RX_LATE, rx(99, 4, 0));
	/* Half the sequence space from the last delivered (299) counts as
	 * behind, never ahead: it must not be delivered after 299. */
	CHECK_EQ(GRELEG_RX_LATE, rx(299u + 0x80000000u, 4, 0));
	CHECK_EQ(GRELEG_RX_LATE, rx(299u + 0x80000001u, 4, 0));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(299u + 0x7FFFFFFFu, 4, 0));
	CHECK_EQ(1, greleg_tick(&leg, 1000, on_deliver, &dl));
	CHECK_EQ(299u + 0x7FFFFFFFu, dl.seq[200]);
	CHECK_EQ(0x7FFFFFFEu, leg.st.rx_lost);
	CHECK_EQ(GRELEG_RX_LATE, rx(299, 4, 1000));
	CHECK_EQ(201, dl.n);
	CHECK_EQ(0, greleg_check(&leg));
}

static void test_wrap(void)
{
	static const uint32_t want[] = { 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF,
					 0, 1, 2 };
	uint8_t out[64];
	struct gre_info g;

	reset(1);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(0xFFFFFFFD, 3, 0));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(0, 3, 0));
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(0xFFFFFFFF, 3, 0));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(0xFFFFFFFE, 3, 0));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(1, 3, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(0xFFFFFFFF, 3, 0));
	CHECK_EQ(GRELEG_RX_DUPLICATE, rx(0, 3, 0));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(2, 3, 0));
	CHECK(log_is(want, 6));
	CHECK_EQ(2, greleg_rx_ack(&leg, NULL));

	/* A gap across the wrap, given up by timeout. */
	reset(1);
	rx(0xFFFFFFFE, 3, 0);
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(1, 3, 0));
	CHECK_EQ(1, greleg_tick(&leg, 1000, on_deliver, &dl));
	CHECK_EQ(2, leg.st.rx_lost);
	CHECK_EQ(GRELEG_RX_LATE, rx(0, 3, 0));
	CHECK_EQ(GRELEG_RX_LATE, rx(0xFFFFFFFF, 3, 0));

	/* Sending across the wrap. */
	reset(0xFFFFFFFF);
	CHECK_EQ(12 + 3, greleg_tx(&leg, (const uint8_t *)"abc", 3, out,
				   sizeof(out)));
	CHECK_EQ(GRE_OK, gre_parse(out, 15, &g));
	CHECK_EQ(0xFFFFFFFFu, g.seq);
	CHECK_EQ(15, greleg_tx(&leg, (const uint8_t *)"abc", 3, out,
			       sizeof(out)));
	CHECK_EQ(GRE_OK, gre_parse(out, 15, &g));
	CHECK_EQ(0, g.seq);
	CHECK_EQ(2, greleg_in_flight(&leg));
	mk(pkt, OWN, 0, 0, 1, 0xFFFFFFFF, 0);
	CHECK_EQ(GRELEG_RX_ACK_ONLY, greleg_rx(&leg, pkt, 12, 0, NULL, NULL));
	CHECK_EQ(1, greleg_in_flight(&leg));
	mk(pkt, OWN, 0, 0, 1, 0, 0);
	greleg_rx(&leg, pkt, 12, 0, NULL, NULL);
	CHECK_EQ(0, greleg_in_flight(&leg));
	CHECK_EQ(0, leg.st.rx_bad_acks);
}

static void test_full(void)
{
	uint32_t s;
	int ok = 1;

	/* Sixteen held behind one gap; the seventeenth gives the gap up. */
	reset(1);
	rx(1, 10, 0);
	for (s = 3; s < 3 + GRELEG_SLOTS; s++)
		if (rx(s, 10, 0) != GRELEG_RX_BUFFERED)
			ok = 0;
	CHECK(ok);
	CHECK_EQ(GRELEG_SLOTS, greleg_buffered(&leg));
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(3 + GRELEG_SLOTS, 10, 0));
	CHECK_EQ(2 + GRELEG_SLOTS, dl.n);
	CHECK_EQ(1, leg.st.rx_lost);
	CHECK_EQ(1, leg.st.rx_gap_full);
	CHECK_EQ(0, greleg_buffered(&leg));
	CHECK_EQ(GRELEG_RX_LATE, rx(2, 10, 0));

	/* Many gaps: only the oldest goes, and the new frame is held. */
	reset(1);
	rx(1, 10, 0);
	for (s = 0; s < GRELEG_SLOTS; s++)
		rx(3 + 2 * s, 10, 0);
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(100, 10, 0));
	CHECK_EQ(2, dl.n);
	CHECK_EQ(3, dl.seq[1]);
	CHECK_EQ(GRELEG_SLOTS, greleg_buffered(&leg));
	CHECK_EQ(1, leg.st.rx_lost);
	CHECK_EQ(0, greleg_check(&leg));

	/* Full, and the newcomer is below everything held: its own gap is
	 * the oldest, so it is delivered at once. */
	reset(1);
	rx(1, 10, 0);
	for (s = 20; s < 20 + GRELEG_SLOTS; s++)
		rx(s, 10, 0);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(5, 10, 0));
	CHECK_EQ(2, dl.n);
	CHECK_EQ(5, dl.seq[1]);
	CHECK_EQ(3, leg.st.rx_lost);
	CHECK_EQ(GRELEG_SLOTS, greleg_buffered(&leg));
	/* Still full: the next newcomer below everything gives up its gap
	 * too, and the frame of that gap is late when it comes. */
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(7, 10, 0));
	CHECK_EQ(GRELEG_SLOTS, greleg_buffered(&leg));
	CHECK_EQ(GRELEG_RX_LATE, rx(6, 10, 0));
	CHECK_EQ(3, dl.n);
	CHECK_EQ(4, leg.st.rx_lost);
	CHECK_EQ(0, greleg_check(&leg));

	/* The byte bound: three big frames fit, the fourth does not. */
	reset(1);
	rx(1, 10, 0);
	for (s = 3; s < 6; s++)
		CHECK_EQ(GRELEG_RX_BUFFERED, rx(s, 8000, 0));
	CHECK_EQ(24000, leg.pool_used);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(6, 8000, 0));
	CHECK_EQ(5, dl.n);
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(0, leg.pool_used);

	/* Fragmented pool: a hole in the middle, then a frame that fits only
	 * once the pool is compacted; payloads must survive the move. */
	reset(1);
	rx(1, 10, 0);
	rx(3, 8000, 0);
	rx(5, 8000, 0);
	rx(7, 8000, 0);
	rx(2, 10, 0);           /* frees 3's bytes at the bottom */
	CHECK_EQ(3, dl.n);
	CHECK_EQ(24000, leg.pool_top);
	CHECK_EQ(GRELEG_RX_BUFFERED, rx(9, 8000, 0));
	CHECK_EQ(24000, leg.pool_top);   /* 5 and 7 moved down, 9 on top */
	CHECK_EQ(0, greleg_check(&leg));
	CHECK_EQ(3, greleg_tick(&leg, 10000, on_deliver, &dl));
	CHECK_EQ(6, dl.n);
	CHECK_EQ(9, dl.seq[5]);
	CHECK_EQ(0, dl.bad_payload);

	/* A frame bigger than the whole pool cannot wait: everything before
	 * it goes, in order, then the frame itself. */
	reset(1);
	rx(1, 10, 0);
	rx(4, 10, 0);
	CHECK_EQ(GRELEG_RX_DELIVERED, rx(6, 30000, 0));
	CHECK_EQ(3, dl.n);
	CHECK_EQ(4, dl.seq[1]);
	CHECK_EQ(6, dl.seq[2]);
	CHECK_EQ(30000, dl.len[2]);
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(3, leg.st.rx_lost);
}

static void test_ack_only(void)
{
	static const uint8_t want[] = { 0x20, 0x81, 0x88, 0x0B, 0x00, 0x00,
					0x01, 0x01, 0x00, 0x00, 0x00, 0x05 };
	uint8_t out[64];
	struct gre_info g;
	size_t n;

	reset(1);
	CHECK_EQ(0, greleg_build_ack(&leg, out, sizeof(out)));
	rx(5, 10, 0);
	CHECK_EQ(0, greleg_build_ack(&leg, out, 11));
	n = greleg_build_ack(&leg, out, sizeof(out));
	CHECK_EQ(12, n);
	CHECK_MEM(want, out, sizeof(want));
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(1, g.has_ack);
	CHECK_EQ(0, g.has_seq);
	CHECK_EQ(0, g.payload_len);
	CHECK_EQ(5, g.ack);
	CHECK_EQ(PEER, g.call_id);
	CHECK_EQ(1, leg.st.tx_ack_only);
	CHECK_EQ(0, greleg_ack_due(&leg, 1000000));

	/* Receiving ack-only packets: the ack moves, nothing is delivered,
	 * old acks are ignored, acks for unsent frames are refused. */
	reset(7);
	CHECK_EQ(0, greleg_in_flight(&leg));
	for (n = 0; n < 5; n++)
		greleg_tx(&leg, (const uint8_t *)"x", 1, out, sizeof(out));
	CHECK_EQ(5, greleg_in_flight(&leg));
	n = mk(pkt, OWN, 0, 0, 1, 9, 0);
	CHECK_EQ(GRELEG_RX_ACK_ONLY, greleg_rx(&leg, pkt, n, 0, on_deliver,
					       &dl));
	CHECK_EQ(2, greleg_in_flight(&leg));
	n = mk(pkt, OWN, 0, 0, 1, 8, 0);
	CHECK_EQ(GRELEG_RX_ACK_ONLY, greleg_rx(&leg, pkt, n, 0, on_deliver,
					       &dl));
	CHECK_EQ(2, greleg_in_flight(&leg));
	n = mk(pkt, OWN, 0, 0, 1, 12, 0);
	greleg_rx(&leg, pkt, n, 0, on_deliver, &dl);
	CHECK_EQ(2, greleg_in_flight(&leg));
	CHECK_EQ(1, leg.st.rx_bad_acks);
	CHECK_EQ(3, leg.st.rx_ack_only);
	CHECK_EQ(0, dl.n);
	CHECK_EQ(0, leg.rx_started);
	/* An ack riding on a data frame counts the same. */
	n = mk(pkt, OWN, 1, 50, 1, 11, 4);
	CHECK_EQ(GRELEG_RX_DELIVERED, greleg_rx(&leg, pkt, n, 0, on_deliver,
						&dl));
	CHECK_EQ(0, greleg_in_flight(&leg));

	/* Neither S nor A, or payload without S: not a frame. */
	n = mk(pkt, OWN, 0, 0, 0, 0, 0);
	CHECK_EQ(GRELEG_RX_UNSEQUENCED, greleg_rx(&leg, pkt, n, 0, on_deliver,
						  &dl));
	n = mk(pkt, OWN, 0, 0, 1, 11, 6);
	CHECK_EQ(GRELEG_RX_UNSEQUENCED, greleg_rx(&leg, pkt, n, 0, on_deliver,
						  &dl));
	CHECK_EQ(1, dl.n);
	/* S set, no payload: it takes its place and is delivered empty. */
	n = mk(pkt, OWN, 1, 51, 0, 0, 0);
	CHECK_EQ(GRELEG_RX_DELIVERED, greleg_rx(&leg, pkt, n, 0, on_deliver,
						&dl));
	CHECK_EQ(0, dl.len[1]);
}

static void test_bad_input(void)
{
	size_t n;

	reset(1);
	n = mk(pkt, OWN + 1, 1, 1, 0, 0, 5);
	CHECK_EQ(GRELEG_RX_WRONG_CALL, greleg_rx(&leg, pkt, n, 0, on_deliver,
						 &dl));
	n = mk(pkt, OWN, 1, 1, 0, 0, 5);
	CHECK_EQ(GRELEG_RX_BAD_GRE, greleg_rx(&leg, pkt, n - 1, 0, on_deliver,
					      &dl));
	CHECK_EQ(GRELEG_RX_BAD_GRE, greleg_rx(&leg, pkt, 7, 0, on_deliver,
					      &dl));
	pkt[1] = 0x02;          /* version 2 */
	CHECK_EQ(GRELEG_RX_BAD_GRE, greleg_rx(&leg, pkt, n, 0, on_deliver,
					      &dl));
	CHECK_EQ(0, dl.n);
	CHECK_EQ(0, leg.rx_started);
	CHECK_EQ(3, leg.st.rx_bad_gre);
	CHECK_EQ(1, leg.st.rx_wrong_call);
}

static void test_tx(void)
{
	uint8_t out[100], buf[100];
	struct gre_info g;
	size_t n, i;

	reset(0);
	for (i = 0; i < 20; i++)
		buf[i] = (uint8_t)i;
	/* Too short, or too long a payload: nothing is consumed. */
	CHECK_EQ(0, greleg_tx(&leg, buf, 20, out, 31));
	CHECK_EQ(0, greleg_tx(&leg, buf, 0x10000, pkt, sizeof(pkt)));
	CHECK_EQ(0, leg.tx_next);
	n = greleg_tx(&leg, buf, 20, out, 32);
	CHECK_EQ(32, n);
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(1, g.has_seq);
	CHECK_EQ(0, g.has_ack);
	CHECK_EQ(0, g.seq);
	CHECK_EQ(20, g.payload_len);
	CHECK_EQ(PEER, g.call_id);
	CHECK_MEM(buf, out + 12, 20);
	/* The payload may already sit in out, where the header will go. */
	memcpy(out, buf, 20);
	n = greleg_tx(&leg, out, 20, out, sizeof(out));
	CHECK_EQ(32, n);
	CHECK_MEM(buf, out + 12, 20);
	memcpy(out + GRELEG_HDR_MAX, buf, 20);
	n = greleg_tx(&leg, out + GRELEG_HDR_MAX, 20, out, sizeof(out));
	CHECK_MEM(buf, out + 12, 20);
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(2, g.seq);
	CHECK_EQ(3, leg.st.tx_frames);
	CHECK_EQ(3, greleg_in_flight(&leg));
}

static void test_piggyback(void)
{
	uint8_t out[64];
	struct gre_info g;
	size_t n;

	reset(100);
	rx(1, 4, 0);
	rx(2, 4, 0);
	rx(4, 4, 0);
	n = greleg_tx(&leg, (const uint8_t *)"data", 4, out, sizeof(out));
	CHECK_EQ(20, n);
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(1, g.has_seq);
	CHECK_EQ(1, g.has_ack);
	CHECK_EQ(100, g.seq);
	CHECK_EQ(2, g.ack);     /* highest in order, not the held 4 */
	CHECK_MEM("data", out + 16, 4);
	/* Nothing new to acknowledge: no A on the next one. */
	n = greleg_tx(&leg, (const uint8_t *)"data", 4, out, sizeof(out));
	CHECK_EQ(16, n);
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(0, g.has_ack);
	CHECK_EQ(101, g.seq);
	rx(3, 4, 0);            /* releases 4 */
	n = greleg_tx(&leg, (const uint8_t *)"data", 4, out, sizeof(out));
	CHECK_EQ(GRE_OK, gre_parse(out, n, &g));
	CHECK_EQ(1, g.has_ack);
	CHECK_EQ(4, g.ack);
	CHECK_EQ(2, leg.st.tx_acks_piggybacked);
}

/* Two legs facing each other: what one sends, the other takes. */
static void test_pair(void)
{
	static struct greleg a, b;
	static struct dlog la, lb;
	uint8_t out[64], p[8];
	size_t n;
	int i;

	greleg_init(&a, 0x1111, 0x2222, 0);     /* pptpd-like */
	greleg_init(&b, 0x2222, 0x1111, 1);     /* pptp-linux-like */
	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	for (i = 0; i < 10; i++) {
		memset(p, 0, sizeof(p));
		n = greleg_tx(&a, p, 0, out, sizeof(out));
		CHECK_EQ(GRELEG_RX_DELIVERED,
			 greleg_rx(&b, out, n, (uint64_t)i, on_deliver, &lb));
		if (i % 3 == 0) {
			n = greleg_tx(&b, p, 0, out, sizeof(out));
			CHECK_EQ(GRELEG_RX_DELIVERED,
				 greleg_rx(&a, out, n, (uint64_t)i,
					   on_deliver, &la));
		}
	}
	CHECK_EQ(10, lb.n);
	CHECK_EQ(4, la.n);
	/* b's last data (i = 9) carried the ack of a's frame 9, and b has
	 * nothing left to acknowledge; a owes b an ack for b's frame 4. */
	CHECK_EQ(0, greleg_in_flight(&a));
	CHECK_EQ(1, greleg_in_flight(&b));
	CHECK_EQ(0, greleg_ack_due(&b, 1000));
	CHECK_EQ(0, greleg_ack_due(&a, 9 + GRELEG_ACK_DELAY_MS - 1));
	CHECK_EQ(1, greleg_ack_due(&a, 9 + GRELEG_ACK_DELAY_MS));
	n = greleg_build_ack(&a, out, sizeof(out));
	CHECK_EQ(GRELEG_RX_ACK_ONLY, greleg_rx(&b, out, n, 200, on_deliver,
					       &lb));
	CHECK_EQ(0, greleg_in_flight(&b));
	CHECK_EQ(4, b.tx_acked);
	CHECK_EQ(10, lb.n);
	CHECK_EQ(0, lb.bad_payload + la.bad_payload);
}

static void test_ack_due(void)
{
	uint8_t out[64];

	reset(1);
	CHECK_EQ(0, greleg_ack_due(&leg, 0));
	CHECK_EQ(GRELEG_NEVER, greleg_deadline(&leg));
	rx(1, 4, 1000);
	rx(2, 4, 1050);         /* does not push the deadline back */
	CHECK_EQ(1000 + GRELEG_ACK_DELAY_MS, greleg_deadline(&leg));
	CHECK_EQ(0, greleg_ack_due(&leg, 1000 + GRELEG_ACK_DELAY_MS - 1));
	CHECK_EQ(1, greleg_ack_due(&leg, 1000 + GRELEG_ACK_DELAY_MS));
	CHECK_EQ(12, greleg_build_ack(&leg, out, sizeof(out)));
	CHECK_EQ(0, greleg_ack_due(&leg, 5000));
	CHECK_EQ(GRELEG_NEVER, greleg_deadline(&leg));

	/* Data went out in time and carried the ack: nothing due. */
	rx(3, 4, 2000);
	greleg_tx(&leg, (const uint8_t *)"d", 1, out, sizeof(out));
	CHECK_EQ(0, greleg_ack_due(&leg, 2000 + GRELEG_ACK_DELAY_MS));
	CHECK_EQ(0, greleg_ack_due(&leg, 9000));

	/* Duplicates and late frames do not call for an ack; held frames
	 * neither, as the ack cannot move past the gap. */
	rx(3, 4, 3000);
	rx(5, 4, 3000);
	CHECK_EQ(0, greleg_ack_due(&leg, 3000 + GRELEG_ACK_DELAY_MS - 1));
	CHECK_EQ(3000 + GRELEG_REORDER_MS, greleg_deadline(&leg));
	/* A gap given up moves the ack, so that is due after the delay. */
	greleg_tick(&leg, 3000 + GRELEG_REORDER_MS, on_deliver, &dl);
	CHECK_EQ(0, greleg_ack_due(&leg, 3000 + GRELEG_REORDER_MS));
	CHECK_EQ(1, greleg_ack_due(&leg, 3000 + GRELEG_REORDER_MS +
				   GRELEG_ACK_DELAY_MS));
	CHECK_EQ(5, greleg_rx_ack(&leg, NULL));

	/* ack_delay_ms is the caller's to change. */
	reset(1);
	leg.ack_delay_ms = 0;
	rx(1, 4, 10);
	CHECK_EQ(1, greleg_ack_due(&leg, 10));
}

/* greleg_check refuses a restored state that does not hold together. */
static void test_check(void)
{
	static struct greleg good;
	uint8_t out[32];

	reset(1);
	rx(1, 10, 0);
	rx(3, 10, 0);
	rx(5, 10, 0);
	CHECK_EQ(0, greleg_check(&leg));
	good = leg;

	leg.nslots++;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.pool_used--;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.slot[1].seq = leg.slot[0].seq;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.slot[0].seq = 2;    /* behind rx_next */
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.slot[1].off = leg.slot[0].off;      /* overlapping bytes */
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.slot[0].off = GRELEG_POOL_BYTES;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.slot[0].used = 2;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.pool_top = GRELEG_POOL_BYTES + 1;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.rx_started = 0;
	CHECK_EQ(-1, greleg_check(&leg));
	leg = good;
	leg.tx_acked = leg.tx_next + 5;         /* acked beyond what was sent */
	CHECK_EQ(-1, greleg_check(&leg));

	/* A peer that never acks: in flight stops at the cap, so later acks
	 * are still told apart from old ones. */
	reset(1);
	leg.tx_acked = leg.tx_next - 1 - 0x40000000u;
	CHECK_EQ(0x40000000u, greleg_in_flight(&leg));
	CHECK_EQ(0, greleg_check(&leg));
	greleg_tx(&leg, (const uint8_t *)"x", 1, out, sizeof(out));
	CHECK_EQ(0x40000000u, greleg_in_flight(&leg));
	CHECK_EQ(0, greleg_check(&leg));
}

/*
 * The model test.  A sender numbers n frames from first; the path moves
 * each by up to disp places, loses some and repeats some; time moves on by
 * step ms per packet.  Whatever happens, the frames delivered must come in
 * increasing order, each once, with the right bytes, and none that was never
 * sent; every sequence number up to the end must be delivered or counted as
 * lost; with no loss, a small enough displacement and no time passing,
 * everything must arrive.
 */
struct perm_case {
	uint32_t first;
	unsigned n, disp, drop_pct, dup_pct, step;
	int expect_all;
};

struct arrival {
	uint32_t key;
	uint32_t idx;
};

static int cmp_arrival(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void run_perm(const struct perm_case *c, int round)
{
	static struct arrival arr[2 * LOG_MAX];
	static uint8_t sent[LOG_MAX], got[LOG_MAX];
	unsigned i, m = 0, order_bad = 0, twice = 0, unsent = 0, insane = 0;
	uint64_t now = 0;
	int64_t last = -1;
	size_t k;

	reset(1);
	memset(sent, 0, sizeof(sent));
	memset(got, 0, sizeof(got));
	for (i = 0; i < c->n; i++) {
		if (check_rand() % 100 < c->drop_pct)
			continue;
		sent[i] = 1;
		/* The first frame goes first: a call starts with one frame
		 * and waits for the answer. */
		arr[m].key = i == 0 ? 0 : i + check_rand() % (c->disp + 1);
		arr[m++].idx = i;
		if (check_rand() % 100 < c->dup_pct) {
			arr[m].key = i + check_rand() % (c->disp + 20);
			arr[m++].idx = i;
		}
	}
	qsort(arr, m, sizeof(arr[0]), cmp_arrival);
	for (i = 0; i < m; i++) {
		rx(c->first + arr[i].idx, 1 + (arr[i].idx * 37) % 600, now);
		now += c->step;
		if (greleg_check(&leg))
			insane++;
	}
	greleg_tick(&leg, now + 100000, on_deliver, &dl);
	for (k = 0; k < dl.n; k++) {
		uint32_t off = dl.seq[k] - c->first;

		if (off >= c->n) {
			unsent++;
			continue;
		}
		if ((int64_t)off <= last)
			order_bad++;
		last = off;
		if (got[off]++)
			twice++;
		if (!sent[off])
			unsent++;
	}
	if (order_bad || twice || unsent || insane || dl.bad_payload)
		fprintf(stderr, "  perm case first %u n %u disp %u round %d\n",
			(unsigned)c->first, c->n, c->disp, round);
	CHECK_EQ(0, order_bad);
	CHECK_EQ(0, twice);
	CHECK_EQ(0, unsent);
	CHECK_EQ(0, insane);
	CHECK_EQ(0, dl.bad_payload);
	CHECK_EQ(0, greleg_buffered(&leg));
	/* Everything from the first frame seen to the last delivered was
	 * delivered or given up. */
	if (dl.n) {
		CHECK_EQ((uint32_t)(dl.seq[dl.n - 1] - dl.seq[0] + 1),
			 leg.st.rx_delivered + leg.st.rx_lost);
		CHECK_EQ(dl.n, leg.st.rx_delivered);
	}
	if (c->expect_all) {
		CHECK_EQ(c->n, dl.n);
		CHECK_EQ(0, leg.st.rx_lost);
	}
}

static void test_permutations(void)
{
	static const struct perm_case cases[] = {
		{ 1, 1000, 0, 0, 0, 0, 1 },
		{ 0, 1000, 3, 0, 0, 0, 1 },
		{ 0xFFFFFF00, 1000, 8, 0, 0, 0, 1 },
		{ 0xFFFFFFF0, 1000, GRELEG_SLOTS, 0, 0, 0, 1 },
		{ 7, 1000, 15, 0, 10, 0, 0 },
		{ 1, 1000, 40, 0, 0, 0, 0 },      /* beyond the buffer */
		{ 1, 2000, 10, 5, 5, 1, 0 },      /* loss, repeats, time */
		{ 0xFFFFFFFF, 2000, 30, 20, 20, 7, 0 },
		{ 0x7FFFFFF0, 2000, 100, 1, 1, 30, 0 },
		{ 3, 2000, 5, 50, 0, 60, 0 },
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (r = 0; r < 20; r++)
			run_perm(&cases[i], r);
}

static const struct check_case cases[] = {
	CHECK_CASE(names),
	CHECK_CASE(in_order),
	CHECK_CASE(first_seq),
	CHECK_CASE(swap),
	CHECK_CASE(loss_timeout),
	CHECK_CASE(duplicates),
	CHECK_CASE(old),
	CHECK_CASE(wrap),
	CHECK_CASE(full),
	CHECK_CASE(ack_only),
	CHECK_CASE(bad_input),
	CHECK_CASE(tx),
	CHECK_CASE(piggyback),
	CHECK_CASE(pair),
	CHECK_CASE(ack_due),
	CHECK_CASE(check),
	CHECK_CASE(permutations),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
