#include <string.h>

#include "wire/gre.h"
#include "relay/greleg.h"

static const char *const rx_names[GRELEG_RX_COUNT] = {
	[GRELEG_RX_DELIVERED] = "delivered",
	[GRELEG_RX_BUFFERED] = "buffered",
	[GRELEG_RX_DUPLICATE] = "duplicate",
	[GRELEG_RX_LATE] = "late",
	[GRELEG_RX_ACK_ONLY] = "ack-only",
	[GRELEG_RX_UNSEQUENCED] = "unsequenced",
	[GRELEG_RX_BAD_GRE] = "bad GRE",
	[GRELEG_RX_WRONG_CALL] = "wrong call",
};

const char *greleg_rx_str(enum greleg_rx_result r)
{
	return (unsigned)r < GRELEG_RX_COUNT ? rx_names[r] : "?";
}

/*
 * Serial number arithmetic: how far a is ahead of b (negative when behind),
 * modulo 2^32.  Written without the implementation-defined conversion of a
 * large unsigned value to a signed one.
 */
static int64_t seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

/*
 * The peer may hold our frames unacknowledged forever (nothing obliges it to
 * ack), so the distance from tx_acked is capped well below 2^31: beyond that
 * a fresh ack could no longer be told from an old one.
 */
#define TX_FLIGHT_CAP 0x40000000u

void greleg_init(struct greleg *leg, uint16_t own_call_id,
		 uint16_t peer_call_id, uint32_t first_seq)
{
	memset(leg, 0, sizeof(*leg));
	leg->own_call_id = own_call_id;
	leg->peer_call_id = peer_call_id;
	leg->reorder_ms = GRELEG_REORDER_MS;
	leg->ack_delay_ms = GRELEG_ACK_DELAY_MS;
	leg->tx_next = first_seq;
	leg->tx_acked = first_seq - 1;
}

/* Every move of rx_next changes what an ack would say. */
static void ack_moved(struct greleg *leg, uint64_t now)
{
	if (!leg->ack_pending) {
		leg->ack_pending = 1;
		leg->ack_pending_since = now;
	}
}

static void deliver_next(struct greleg *leg, const uint8_t *p, size_t len,
			 uint64_t now, greleg_deliver_fn *deliver, void *arg)
{
	uint32_t seq = leg->rx_next;

	leg->rx_next++;
	leg->rx_history = leg->rx_history << 1 | 1;
	leg->st.rx_delivered++;
	ack_moved(leg, now);
	if (deliver)
		deliver(arg, seq, p, len);
}

/* Skip the sequence numbers from rx_next up to (not including) seq. */
static void skip_to(struct greleg *leg, uint32_t seq, uint64_t now)
{
	uint32_t n = seq - leg->rx_next;

	leg->rx_history = n >= 64 ? 0 : leg->rx_history << n;
	leg->rx_next = seq;
	leg->st.rx_lost += n;
	ack_moved(leg, now);
}

static int find_slot(const struct greleg *leg, uint32_t seq)
{
	int i;

	for (i = 0; i < GRELEG_SLOTS; i++)
		if (leg->slot[i].used && leg->slot[i].seq == seq)
			return i;
	return -1;
}

/* The held frame closest to rx_next, or -1 when none is held. */
static int lowest_slot(const struct greleg *leg)
{
	int i, best = -1;

	for (i = 0; i < GRELEG_SLOTS; i++) {
		if (!leg->slot[i].used)
			continue;
		if (best < 0 || seq_diff(leg->slot[i].seq, leg->rx_next) <
				seq_diff(leg->slot[best].seq, leg->rx_next))
			best = i;
	}
	return best;
}

static void free_slot(struct greleg *leg, int i)
{
	leg->pool_used -= leg->slot[i].len;
	leg->slot[i].used = 0;
	leg->nslots--;
	if (leg->nslots == 0)
		leg->pool_top = 0;
}

/*
 * Hand over the held frames that are now in order.  The slot is freed only
 * after the callback returned, since ppp points into the pool; nothing lands
 * in the pool meanwhile because the callback may not re-enter rx.
 */
static void release_run(struct greleg *leg, uint64_t now,
			greleg_deliver_fn *deliver, void *arg)
{
	int i;

	while ((i = find_slot(leg, leg->rx_next)) >= 0) {
		leg->st.rx_reordered++;
		deliver_next(leg, leg->pool + leg->slot[i].off,
			     leg->slot[i].len, now, deliver, arg);
		free_slot(leg, i);
	}
}

/* Give up the gap before the lowest held frame and release from there. */
static void give_up_first_gap(struct greleg *leg, uint64_t now,
			      greleg_deliver_fn *deliver, void *arg)
{
	int i = lowest_slot(leg);

	if (i < 0)
		return;
	skip_to(leg, leg->slot[i].seq, now);
	release_run(leg, now, deliver, arg);
}

static int slot_expired(const struct greleg *leg, int i, uint64_t now)
{
	return leg->slot[i].used &&
	       now >= leg->slot[i].arrived + leg->reorder_ms;
}

size_t greleg_tick(struct greleg *leg, uint64_t now,
		   greleg_deliver_fn *deliver, void *arg)
{
	uint64_t before = leg->st.rx_delivered;
	int i, again = 1;

	/*
	 * A frame that waited reorder_ms means the gaps before it waited that
	 * long too: give up gaps from the lowest until no expired frame is
	 * held.  Each round frees at least one slot, so this ends.
	 */
	while (again) {
		again = 0;
		for (i = 0; i < GRELEG_SLOTS; i++)
			if (slot_expired(leg, i, now)) {
				again = 1;
				break;
			}
		if (again) {
			leg->st.rx_gap_timeouts++;
			give_up_first_gap(leg, now, deliver, arg);
		}
	}
	return (size_t)(leg->st.rx_delivered - before);
}

/* Move the held payloads down to the start of the pool, in place. */
static void compact(struct greleg *leg)
{
	int order[GRELEG_SLOTS], n = 0, i, j;
	uint32_t top = 0;

	for (i = 0; i < GRELEG_SLOTS; i++) {
		if (!leg->slot[i].used)
			continue;
		/* Insertion sort by offset: moving down in offset order never
		 * overwrites a payload not yet moved. */
		for (j = n; j > 0 && leg->slot[order[j - 1]].off >
					    leg->slot[i].off; j--)
			order[j] = order[j - 1];
		order[j] = i;
		n++;
	}
	for (j = 0; j < n; j++) {
		struct greleg_slot *s = &leg->slot[order[j]];

		if (s->off != top)
			memmove(leg->pool + top, leg->pool + s->off, s->len);
		s->off = top;
		top += s->len;
	}
	leg->pool_top = top;
}

static int hold(struct greleg *leg, uint32_t seq, const uint8_t *p,
		uint16_t len, uint64_t now)
{
	int i;

	if (leg->nslots >= GRELEG_SLOTS ||
	    len > GRELEG_POOL_BYTES - leg->pool_used)
		return -1;
	if (len > GRELEG_POOL_BYTES - leg->pool_top)
		compact(leg);
	for (i = 0; leg->slot[i].used; i++)
		;
	leg->slot[i].used = 1;
	leg->slot[i].seq = seq;
	leg->slot[i].len = len;
	leg->slot[i].off = leg->pool_top;
	leg->slot[i].arrived = now;
	memcpy(leg->pool + leg->pool_top, p, len);
	leg->pool_top += len;
	leg->pool_used += len;
	leg->nslots++;
	return 0;
}

/* Acks only move forward, and only over frames this leg has sent. */
static void take_ack(struct greleg *leg, uint32_t ack)
{
	if (seq_diff(ack, leg->tx_acked) <= 0)
		return;         /* old or repeated: acks can be reordered too */
	if (seq_diff(ack, leg->tx_next - 1) > 0) {
		leg->st.rx_bad_acks++;
		return;
	}
	leg->tx_acked = ack;
}

/* A frame that is ahead of rx_next and not held yet. */
static enum greleg_rx_result rx_ahead(struct greleg *leg, uint32_t seq,
				      const uint8_t *p, uint16_t len,
				      uint64_t now, greleg_deliver_fn *deliver,
				      void *arg)
{
	for (;;) {
		int low;

		if (hold(leg, seq, p, len, now) == 0)
			return GRELEG_RX_BUFFERED;
		/*
		 * Full: give up the oldest gap, which may be the one before
		 * this very frame.  A frame too big for the pool ends up
		 * there too, once every held frame is out.
		 */
		leg->st.rx_gap_full++;
		low = lowest_slot(leg);
		if (low < 0 || seq_diff(seq, leg->slot[low].seq) < 0) {
			skip_to(leg, seq, now);
		} else {
			give_up_first_gap(leg, now, deliver, arg);
			if (seq_diff(seq, leg->rx_next) > 0)
				continue;
		}
		deliver_next(leg, p, len, now, deliver, arg);
		release_run(leg, now, deliver, arg);
		return GRELEG_RX_DELIVERED;
	}
}

enum greleg_rx_result greleg_rx(struct greleg *leg, const uint8_t *gre,
				size_t len, uint64_t now,
				greleg_deliver_fn *deliver, void *arg)
{
	struct gre_info g;

	if (gre_parse(gre, len, &g) != GRE_OK) {
		leg->st.rx_bad_gre++;
		return GRELEG_RX_BAD_GRE;
	}
	return greleg_rx_parsed(leg, &g, gre, now, deliver, arg);
}

enum greleg_rx_result greleg_rx_parsed(struct greleg *leg,
				       const struct gre_info *gi,
				       const uint8_t *gre, uint64_t now,
				       greleg_deliver_fn *deliver, void *arg)
{
	const struct gre_info g = *gi;
	const uint8_t *p;
	int64_t d;

	if (g.call_id != leg->own_call_id) {
		leg->st.rx_wrong_call++;
		return GRELEG_RX_WRONG_CALL;
	}
	greleg_tick(leg, now, deliver, arg);
	if (g.has_ack)
		take_ack(leg, g.ack);
	if (!g.has_seq) {
		if (g.has_ack && g.payload_len == 0) {
			leg->st.rx_ack_only++;
			return GRELEG_RX_ACK_ONLY;
		}
		leg->st.rx_unsequenced++;
		return GRELEG_RX_UNSEQUENCED;
	}
	p = gre + g.hdr_len;
	if (!leg->rx_started) {
		/* Whatever the peer starts with is its first frame. */
		leg->rx_started = 1;
		leg->rx_next = g.seq;
		leg->rx_history = 0;
	}
	/*
	 * Distance from the last frame delivered, not from the next expected:
	 * a frame half the sequence space away from what was delivered is as
	 * much behind as ahead, and must never be delivered after it.
	 */
	d = seq_diff(g.seq, leg->rx_next - 1);
	if (d <= 0) {
		/* History tells a repeat from a frame whose gap was given up,
		 * for the last 64; anything older is late. */
		uint64_t back = (uint64_t)-d;

		if (back < 64 && leg->rx_history >> back & 1) {
			leg->st.rx_duplicates++;
			return GRELEG_RX_DUPLICATE;
		}
		leg->st.rx_late++;
		return GRELEG_RX_LATE;
	}
	if (d == 1) {
		deliver_next(leg, p, g.payload_len, now, deliver, arg);
		release_run(leg, now, deliver, arg);
		return GRELEG_RX_DELIVERED;
	}
	if (find_slot(leg, g.seq) >= 0) {
		leg->st.rx_duplicates++;
		return GRELEG_RX_DUPLICATE;
	}
	return rx_ahead(leg, g.seq, p, g.payload_len, now, deliver, arg);
}

size_t greleg_tx(struct greleg *leg, const uint8_t *ppp, size_t len,
		 uint8_t *out, size_t outlen)
{
	struct gre_info g;
	size_t hl;

	memset(&g, 0, sizeof(g));
	g.call_id = leg->peer_call_id;
	g.has_seq = 1;
	g.seq = leg->tx_next;
	/* Like the Linux kernel, carry an ack only when it says something
	 * new: the peer gains nothing from a repeat. */
	g.has_ack = leg->ack_pending;
	g.ack = leg->rx_next - 1;
	hl = 12 + (g.has_ack ? 4 : 0);
	if (len > 0xFFFF || outlen < hl || outlen - hl < len)
		return 0;
	g.payload_len = (uint16_t)len;
	/* Payload first: ppp may lie inside out, under the header to be. */
	memmove(out + hl, ppp, len);
	if (gre_build(&g, out, outlen) != hl)
		return 0;
	leg->tx_next++;
	if ((uint32_t)(leg->tx_next - 1 - leg->tx_acked) > TX_FLIGHT_CAP)
		leg->tx_acked = leg->tx_next - 1 - TX_FLIGHT_CAP;
	leg->st.tx_frames++;
	if (g.has_ack) {
		leg->ack_pending = 0;
		leg->st.tx_acks_piggybacked++;
	}
	return hl + len;
}

int greleg_ack_due(const struct greleg *leg, uint64_t now)
{
	return leg->ack_pending &&
	       now >= leg->ack_pending_since + leg->ack_delay_ms;
}

size_t greleg_build_ack(struct greleg *leg, uint8_t *out, size_t outlen)
{
	struct gre_info g;
	size_t n;

	if (!leg->rx_started)
		return 0;
	memset(&g, 0, sizeof(g));
	g.call_id = leg->peer_call_id;
	g.has_ack = 1;
	g.ack = leg->rx_next - 1;
	n = gre_build(&g, out, outlen);
	if (n == 0)
		return 0;
	leg->ack_pending = 0;
	leg->st.tx_ack_only++;
	return n;
}

uint64_t greleg_deadline(const struct greleg *leg)
{
	uint64_t t = GRELEG_NEVER;
	int i;

	if (leg->ack_pending)
		t = leg->ack_pending_since + leg->ack_delay_ms;
	for (i = 0; i < GRELEG_SLOTS; i++)
		if (leg->slot[i].used &&
		    leg->slot[i].arrived + leg->reorder_ms < t)
			t = leg->slot[i].arrived + leg->reorder_ms;
	return t;
}

uint32_t greleg_rx_ack(const struct greleg *leg, int *valid)
{
	if (valid)
		*valid = leg->rx_started;
	return leg->rx_started ? leg->rx_next - 1 : 0;
}

uint32_t greleg_in_flight(const struct greleg *leg)
{
	return leg->tx_next - 1 - leg->tx_acked;
}

size_t greleg_buffered(const struct greleg *leg)
{
	return leg->nslots;
}

int greleg_check(const struct greleg *leg)
{
	uint32_t n = 0, bytes = 0;
	int i, j;

	if (leg->pool_top > GRELEG_POOL_BYTES ||
	    leg->rx_started > 1 || leg->ack_pending > 1 ||
	    (!leg->rx_started && leg->ack_pending) ||
	    greleg_in_flight(leg) > TX_FLIGHT_CAP)
		return -1;
	for (i = 0; i < GRELEG_SLOTS; i++) {
		const struct greleg_slot *s = &leg->slot[i];

		if (s->used > 1)
			return -1;
		if (!s->used)
			continue;
		/* Held frames are strictly ahead of rx_next, and less than
		 * half the space from the last delivered, each once. */
		if (!leg->rx_started ||
		    seq_diff(s->seq, leg->rx_next - 1) <= 1 ||
		    s->off > leg->pool_top || s->len > leg->pool_top - s->off)
			return -1;
		for (j = i + 1; j < GRELEG_SLOTS; j++) {
			const struct greleg_slot *o = &leg->slot[j];

			if (o->used && (o->seq == s->seq ||
					(s->len && o->len &&
					 o->off < s->off + s->len &&
					 s->off < o->off + o->len)))
				return -1;
		}
		n++;
		bytes += s->len;
	}
	if (n != leg->nslots || bytes != leg->pool_used)
		return -1;
	return 0;
}
