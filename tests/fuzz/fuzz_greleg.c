/*
 * libFuzzer target for greleg.c: the input is a script of receive, tick,
 * send and ack calls on one leg, with sequence numbers near the expected one
 * or anywhere, acks, sizes, times and raw GRE bytes all taken from it.
 *
 * Every frame the leg receives carries bytes derived from its sequence
 * number, so a delivery is checked for content as well as order.  The target
 * aborts when a frame is delivered out of order or twice (sequence numbers
 * are unwrapped into a 64-bit position that must strictly rise), when a
 * delivered payload is not the frame's, when the delivered and lost counts
 * do not add up to the span delivered, when the state stops passing
 * greleg_check, or when what greleg_tx and greleg_build_ack send does not
 * parse back to this leg's numbers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gre.h"
#include "relay/greleg.h"
#include "wire/rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_greleg: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

#define OWN 0x1234
#define PEER 0x4321

static struct greleg leg;
static uint8_t pkt[70000], out[70000];

struct model {
	int any;
	uint32_t last_seq;
	int64_t first_pos, last_pos;
	uint64_t deliveries;
};

static uint8_t pay_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (seq >> 13));
}

static void on_deliver(void *arg, uint32_t seq, const uint8_t *ppp, size_t len)
{
	struct model *m = arg;
	size_t i;

	if (m->any) {
		uint32_t d = seq - m->last_seq;

		/* Forward by less than half the space, or it is a repeat or
		 * out of order. */
		if (d == 0 || d >= 0x80000000u)
			FAIL("delivered %u after %u", (unsigned)seq,
			     (unsigned)m->last_seq);
		m->last_pos += d;
	} else {
		m->any = 1;
		m->first_pos = m->last_pos = 0;
	}
	m->last_seq = seq;
	m->deliveries++;
	for (i = 0; i < len; i++)
		if (ppp[i] != pay_byte(seq, i))
			FAIL("frame %u byte %zu is not the frame's",
			     (unsigned)seq, i);
}

static size_t mk(uint8_t *p, int s, uint32_t seq, int a, uint32_t ack,
		 size_t plen)
{
	struct gre_info g;
	size_t n, i;

	memset(&g, 0, sizeof(g));
	g.call_id = OWN;
	g.has_seq = s;
	g.seq = seq;
	g.has_ack = a;
	g.ack = ack;
	g.payload_len = (uint16_t)plen;
	n = gre_build(&g, p, sizeof(pkt));
	for (i = 0; i < plen; i++)
		p[n + i] = pay_byte(seq, i);
	return n + plen;
}

static void check_state(const struct model *m)
{
	if (greleg_check(&leg))
		FAIL("greleg_check failed");
	if (greleg_buffered(&leg) > GRELEG_SLOTS ||
	    leg.pool_used > GRELEG_POOL_BYTES)
		FAIL("buffer beyond its bounds");
	if (m->deliveries != leg.st.rx_delivered)
		FAIL("callback saw %llu frames, counter says %llu",
		     (unsigned long long)m->deliveries,
		     (unsigned long long)leg.st.rx_delivered);
	/* Every number from the first delivered to the last was delivered or
	 * given up, and the leg expects the one after the last. */
	if (m->any) {
		if ((uint64_t)(m->last_pos - m->first_pos + 1) !=
		    leg.st.rx_delivered + leg.st.rx_lost)
			FAIL("span %lld, delivered %llu + lost %llu",
			     (long long)(m->last_pos - m->first_pos + 1),
			     (unsigned long long)leg.st.rx_delivered,
			     (unsigned long long)leg.st.rx_lost);
		if (leg.rx_next != m->last_seq + 1)
			FAIL("expecting %u after delivering %u",
			     (unsigned)leg.rx_next, (unsigned)m->last_seq);
	}
}

static size_t plen_of(uint8_t b)
{
	/* Mostly small, sometimes big enough to fill the pool fast, now and
	 * then bigger than the whole pool. */
	if (b < 200)
		return b;
	if (b < 250)
		return (size_t)(b - 199) * 500;
	return 30000 + (size_t)b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_init(data, size);
	struct model m;
	uint32_t first_tx, tx_expect;
	uint64_t now = 0;
	uint8_t op, a, b;

	memset(&m, 0, sizeof(m));
	if (rd_u32(&r, &first_tx) || rd_u8(&r, &a) || rd_u8(&r, &b))
		return 0;
	greleg_init(&leg, OWN, PEER, first_tx);
	leg.reorder_ms = a;
	leg.ack_delay_ms = b;
	tx_expect = first_tx;

	while (rd_u8(&r, &op) == 0) {
		uint8_t x = 0, y = 0;
		uint32_t v = 0;
		size_t n;

		rd_u8(&r, &x);
		now += x & 0x0F;
		switch (op % 8) {
		case 0: case 1: case 2: {
			/* Near the expected number: the usual mess. */
			uint32_t seq;

			rd_u8(&r, &y);
			seq = leg.rx_next + (uint32_t)((int)(y % 40) - 8);
			n = mk(pkt, 1, seq, x & 0x10, tx_expect - (x >> 5),
			       plen_of((uint8_t)(op ^ y)));
			greleg_rx(&leg, pkt, n, now, on_deliver, &m);
			break;
		}
		case 3:
			/* Anywhere at all, with or without S and A. */
			rd_u32(&r, &v);
			n = mk(pkt, !(x & 0x10), v, x & 0x20, v ^ first_tx,
			       x & 0x40 ? 0 : plen_of((uint8_t)v));
			greleg_rx(&leg, pkt, n, now, on_deliver, &m);
			break;
		case 4: {
			/* Raw bytes: parsed or refused, never trusted. */
			struct gre_info g;

			rd_u8(&r, &y);
			n = y < r.len ? y : r.len;
			memcpy(pkt, r.p, n);
			rd_skip(&r, n);
			if (x & 0x10 && n >= 8) {
				pkt[6] = OWN >> 8;
				pkt[7] = OWN & 0xFF;
			}
			/* Keep the payload the frame's own, for the check. */
			if (gre_parse(pkt, n, &g) == GRE_OK && g.has_seq) {
				size_t i;

				for (i = 0; i < g.payload_len; i++)
					pkt[g.hdr_len + i] = pay_byte(g.seq, i);
			}
			greleg_rx(&leg, pkt, n, now, on_deliver, &m);
			break;
		}
		case 5:
			rd_u8(&r, &y);
			now += (uint64_t)y * (x & 0x80 ? 10 : 1);
			greleg_tick(&leg, now, on_deliver, &m);
			break;
		case 6: {
			/* Send: numbers run on from first_tx, and an ack rides
			 * along exactly when one is pending. */
			struct gre_info g;
			int pending = leg.ack_pending;
			uint32_t ack = greleg_rx_ack(&leg, NULL);
			size_t len = plen_of(x), room;

			rd_u8(&r, &y);
			room = y == 0 ? 3 : len + GRELEG_HDR_MAX;
			memset(out, 0xAB, len);
			n = greleg_tx(&leg, out, len, out, room);
			if (y == 0) {
				if (n != 0)
					FAIL("tx into 3 bytes gave %zu", n);
				break;
			}
			if (n == 0 || gre_parse(out, n, &g) != GRE_OK ||
			    !g.has_seq || g.seq != tx_expect ||
			    g.call_id != PEER || g.payload_len != len ||
			    g.has_ack != pending || (pending && g.ack != ack))
				FAIL("tx built a wrong packet");
			tx_expect++;
			if (leg.ack_pending)
				FAIL("ack still pending after tx");
			break;
		}
		case 7: {
			struct gre_info g;
			int due = greleg_ack_due(&leg, now);

			if (due && !leg.ack_pending)
				FAIL("ack due with none pending");
			if (due && greleg_deadline(&leg) > now)
				FAIL("ack due before the deadline");
			if (!due && !(x & 0x10))
				break;
			n = greleg_build_ack(&leg, out, sizeof(out));
			if (!leg.rx_started) {
				if (n)
					FAIL("ack built before any frame");
				break;
			}
			if (n != 12 || gre_parse(out, n, &g) != GRE_OK ||
			    g.has_seq || !g.has_ack || g.payload_len ||
			    g.ack != leg.rx_next - 1 ||
			    greleg_ack_due(&leg, now))
				FAIL("ack-only built wrong");
			break;
		}
		}
		check_state(&m);
		if (greleg_in_flight(&leg) != (uint32_t)(tx_expect - 1 -
							 leg.tx_acked))
			FAIL("in flight");
	}
	/* Long after: nothing may stay held. */
	greleg_tick(&leg, now + 100000, on_deliver, &m);
	check_state(&m);
	if (greleg_buffered(&leg))
		FAIL("frames held after every gap timed out");
	return 0;
}
