/*
 * One leg of a relayed call's enhanced-GRE data channel (RFC 2637 section
 * 4.1): the sequence and acknowledgment state pptpgw keeps toward one peer
 * when it terminates a call and re-originates it.  Sequence numbers belong to
 * one hop, so each leg numbers its own frames and acknowledges its own peer.
 *
 * Pure: no I/O, no globals, no logging.  Time comes in as a parameter, in
 * milliseconds on any monotonic clock.  The state is plain data with no
 * pointers (the reorder buffer lives inside it), so it can be copied, saved
 * and restored as it is; greleg_check() tells whether a restored copy is
 * sound.
 *
 * Receive side: the first sequence number seen starts the leg, whatever it
 * is (pptpd starts at 0, pptp-linux and the Linux kernel at 1).  Frames are
 * delivered in sequence order, each at most once.  A frame ahead of the next
 * expected one waits in a small bounded buffer until the gap fills, or until
 * it has waited reorder_ms, when the gap is given up and counted as lost.  A
 * full buffer gives up its oldest gap at once.  Nothing older than what was
 * delivered is ever delivered; a frame 2^31 or more past the last delivered
 * one (serial arithmetic, so across the 32-bit wrap) counts as older.
 *
 * Send side: the leg numbers its frames from a caller-chosen value, carries
 * the pending acknowledgment on data, and says when an ack-only packet is due
 * because nothing carried it within ack_delay_ms.  Windows are not enforced
 * (Windows peers ignore them); frames in flight are only counted.
 */
#ifndef PPTPGW_GRELEG_H
#define PPTPGW_GRELEG_H

#include <stddef.h>
#include <stdint.h>

struct gre_info;

#define GRELEG_SLOTS 16              /* frames the reorder buffer holds */
#define GRELEG_POOL_BYTES 24576      /* their payload bytes, together */
#define GRELEG_REORDER_MS 100        /* default wait for a gap to fill */
#define GRELEG_ACK_DELAY_MS 100      /* default delay before an ack-only */
#define GRELEG_HDR_MAX 16            /* GRE header with seq and ack */
#define GRELEG_NEVER UINT64_MAX

enum greleg_rx_result {
	GRELEG_RX_DELIVERED = 0,  /* in order: delivered, with any it freed */
	GRELEG_RX_BUFFERED,       /* ahead of a gap: held */
	GRELEG_RX_DUPLICATE,      /* delivered or held before: dropped */
	GRELEG_RX_LATE,           /* behind a gap already given up: dropped */
	GRELEG_RX_ACK_ONLY,       /* A set, S clear, no payload */
	GRELEG_RX_UNSEQUENCED,    /* payload without S, or neither S nor A */
	GRELEG_RX_BAD_GRE,        /* gre_parse refused it */
	GRELEG_RX_WRONG_CALL,     /* Call ID is not this leg's */
	GRELEG_RX_COUNT
};

struct greleg_stats {
	uint64_t rx_delivered;    /* frames handed to the deliver callback */
	uint64_t rx_reordered;    /* ... of which came from the buffer */
	uint64_t rx_duplicates;
	uint64_t rx_late;
	uint64_t rx_lost;         /* sequence numbers given up in gaps */
	uint64_t rx_gap_timeouts; /* gaps given up because they timed out */
	uint64_t rx_gap_full;     /* gaps given up because the buffer was full */
	uint64_t rx_ack_only;
	uint64_t rx_unsequenced;
	uint64_t rx_bad_gre;
	uint64_t rx_wrong_call;
	uint64_t rx_bad_acks;     /* acks for frames this leg never sent */
	uint64_t tx_frames;
	uint64_t tx_acks_piggybacked;
	uint64_t tx_ack_only;
};

/* A frame held in the reorder buffer; its bytes are pool[off, off + len). */
struct greleg_slot {
	uint8_t used;
	uint16_t len;
	uint32_t seq;
	uint32_t off;
	uint64_t arrived;
};

struct greleg {
	uint16_t own_call_id;     /* what the peer puts in its packets */
	uint16_t peer_call_id;    /* what this leg puts in its packets */
	uint32_t reorder_ms;      /* tunables: init sets the defaults */
	uint32_t ack_delay_ms;

	/* Receive. */
	uint8_t rx_started;
	uint8_t ack_pending;      /* rx_next moved since the last ack sent */
	uint32_t rx_next;         /* next sequence number to deliver */
	uint64_t rx_history;      /* bit i: rx_next - 1 - i was delivered */
	uint64_t ack_pending_since;

	/* Send. */
	uint32_t tx_next;         /* sequence number of the next frame */
	uint32_t tx_acked;        /* highest of ours the peer acknowledged */

	/* Reorder buffer: slots in no order, bytes compacted on demand. */
	uint32_t nslots;
	uint32_t pool_used, pool_top;
	struct greleg_slot slot[GRELEG_SLOTS];
	uint8_t pool[GRELEG_POOL_BYTES];

	struct greleg_stats st;
};

/*
 * Called once per delivered frame, in sequence order.  ppp points into the
 * packet or the leg and is valid only during the call.  The callback must not
 * call greleg_rx or greleg_tick on the same leg; sending on the other leg of
 * the relay (or on this one) is fine.  A frame with S set and no payload is
 * delivered with len 0: it used a sequence number, so it takes its place.
 */
typedef void greleg_deliver_fn(void *arg, uint32_t seq, const uint8_t *ppp,
			       size_t len);

const char *greleg_rx_str(enum greleg_rx_result r);

/*
 * Start a leg.  own_call_id is the Call ID the peer addresses this leg by,
 * peer_call_id the peer's own, which this leg's packets carry; first_seq is
 * the sequence number of this leg's first frame.
 */
void greleg_init(struct greleg *leg, uint16_t own_call_id,
		 uint16_t peer_call_id, uint32_t first_seq);

/*
 * Take one GRE packet (header and payload, len bytes) from the peer at time
 * now.  Gaps that timed out by now are given up first.  Deliverable frames go
 * to deliver(arg, ...) before this returns; the result says what became of
 * this packet itself.  An acknowledgment it carries is taken whatever else
 * happens to it, as long as the packet parses and is for this leg.
 */
enum greleg_rx_result greleg_rx(struct greleg *leg, const uint8_t *gre,
				size_t len, uint64_t now,
				greleg_deliver_fn *deliver, void *arg);

/* The same for a packet gre_parse already accepted into gi. */
enum greleg_rx_result greleg_rx_parsed(struct greleg *leg,
				       const struct gre_info *gi,
				       const uint8_t *gre, uint64_t now,
				       greleg_deliver_fn *deliver, void *arg);

/* Give up gaps that have waited reorder_ms by now, delivering what they held
 * back.  Returns the number of frames delivered. */
size_t greleg_tick(struct greleg *leg, uint64_t now,
		   greleg_deliver_fn *deliver, void *arg);

/*
 * Build a data packet: GRE header with this leg's next sequence number and
 * the pending acknowledgment if there is one, then the len bytes of ppp
 * (which may lie inside out).  Returns the packet's length, or 0 when len
 * does not fit the 16-bit payload length or out is too short (nothing is
 * consumed then).  GRELEG_HDR_MAX + len bytes are always enough.
 */
size_t greleg_tx(struct greleg *leg, const uint8_t *ppp, size_t len,
		 uint8_t *out, size_t outlen);

/* Whether an ack-only packet should go out now: something was received and
 * has not been acknowledged for ack_delay_ms. */
int greleg_ack_due(const struct greleg *leg, uint64_t now);

/*
 * Build an ack-only packet (A set, S clear, no payload) for the highest
 * in-order sequence number received.  Returns its length (12), or 0 when
 * nothing was received yet or out is too short.
 */
size_t greleg_build_ack(struct greleg *leg, uint8_t *out, size_t outlen);

/* The earliest time greleg_tick or an ack-only packet is needed, or
 * GRELEG_NEVER: what the caller's timer should be set to. */
uint64_t greleg_deadline(const struct greleg *leg);

/* The highest in-order sequence number received (what an ack carries); 0
 * with *valid 0 before the first frame. */
uint32_t greleg_rx_ack(const struct greleg *leg, int *valid);

/* Frames sent and not yet acknowledged by the peer. */
uint32_t greleg_in_flight(const struct greleg *leg);

/* Frames in the reorder buffer. */
size_t greleg_buffered(const struct greleg *leg);

/* 0 if the state is consistent (e.g. after a restore), -1 if not. */
int greleg_check(const struct greleg *leg);

#endif
