/*
 * One direction of a PPTP control connection, reassembled by TCP sequence
 * number.  The stream finds message boundaries across segment borders,
 * validates each header as soon as its 12 bytes are in, and asks the caller
 * what to rewrite once the first 18 bytes of a message (every Call ID
 * field, and the result of a call reply) are in.  Rewrites are returned as patches by stream sequence
 * number, so the caller can apply them to whichever queued segment holds the
 * bytes, and they are remembered so a retransmission is rewritten the same
 * way.  The state is plain data: no pointers, serializable as is.
 */
#ifndef PPTPGW_CTLSTREAM_H
#define PPTPGW_CTLSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "wire/pptp_msg.h"

/* Call IDs end by byte 16, the OCRP/ICRP result and error by 18. */
#define CS_DECIDE_LEN 18
/*
 * Rewrites remembered per direction for retransmissions.  Honest peers have
 * a few messages in flight; a sender that outruns this has the oldest
 * retransmissions dropped rather than sent un-rewritten.
 */
#define CS_HIST 128
/*
 * What a retransmission may not change.  The receiver takes the first copy
 * of a byte it gets, and that copy may be the retransmission (the first was
 * lost after us): a retransmission whose bytes differ from what was parsed
 * at those sequence numbers would reach it unparsed, a Call ID where none
 * was rewritten, say.  So the bytes pptpgw reads of every message are kept,
 * as the sender wrote them, for the last CS_SEEN messages, and a
 * retransmission must carry the same bytes there (CS_CHANGED otherwise).
 * Kept: the first CS_KEEP bytes of a message, which hold everything the
 * translator reads (header, Call IDs, reply result and error, Maximum
 * Channels); of the message being parsed, all of it.  Bytes after those
 * are read by nobody here, so a change there cannot make anything leave
 * untranslated.  Bytes, not a hash per segment: a retransmission may start
 * or end anywhere (a sender re-cuts at its current MSS, collapses small
 * segments, the kernel cuts a GSO packet), and each byte must be checked
 * whatever the cut.  A retransmission reaching back beyond the oldest kept
 * message is dropped, as one beyond the rewrite history is: as many
 * messages as rewrites are remembered (a PNS clearing 70 calls at once
 * sends 70 messages in one segment).  Cost: 4 KiB per direction.
 */
#define CS_KEEP (PPTP_OFF_MAX_CHANNELS + 2)
#define CS_SEEN 128

enum cs_state { CS_UNSYNCED, CS_SYNCED, CS_BROKEN };

enum cs_result {
	CS_PASS,         /* forward the segment (after applying patches) */
	CS_HOLD,         /* segment ends before a message's ID fields: keep it */
	CS_OOO,          /* starts beyond the next expected byte: keep it */
	CS_DROP,         /* drop this segment only: a retransmission that
			    cannot be rewritten (yet); held segments stay */
	CS_REFUSED,      /* the caller refused a message: drop this and every
			    held segment; the stream rewound (cs_rewind) */
	CS_ERROR,        /* framing error: the stream is broken for good */
	CS_CHANGED       /* a retransmission whose bytes differ from those
			    first parsed there: drop it, held segments stay */
};

struct cs_rewrite {
	uint16_t off;    /* from the start of the message */
	uint16_t value;
};

struct cs_patch {
	uint32_t seq;    /* stream position of the first of two bytes */
	uint8_t val[2];
};

#define CS_NEED_MORE (-2)

struct cs_hooks {
	/*
	 * have (>= 12) bytes of a message are in msg.  Fill up to max rewrites
	 * and return how many, -1 to refuse the message, or CS_NEED_MORE to be
	 * asked again when more bytes are in; at min(length, CS_DECIDE_LEN)
	 * bytes CS_NEED_MORE counts as no rewrite.  Act only on a final answer.
	 */
	int (*decide)(void *ctx, const uint8_t *msg, size_t have,
		      struct cs_rewrite *rw, int max);
	/* The whole message, as the sender wrote it. */
	void (*complete)(void *ctx, const uint8_t *msg, size_t len);
	/*
	 * Write val at stream position seq (two bytes).  The bytes may lie in
	 * this segment or in segments held earlier.  Called for new rewrites
	 * and, for retransmissions, for remembered ones.
	 */
	void (*patch)(void *ctx, uint32_t seq, const uint8_t val[2]);
};

struct cs_hist {
	uint32_t seq;
	uint8_t val[2];
};

/* The first bytes of one parsed message, as its sender wrote them. */
struct cs_seen {
	uint32_t seq;           /* of the message's first byte */
	uint8_t n;              /* bytes kept: min(length, CS_KEEP) */
	uint8_t b[CS_KEEP];
};

struct ctlstream {
	uint8_t state;          /* enum cs_state */
	uint8_t decided;        /* the current message's rewrites are known */
	uint16_t msg_len;       /* 0 until the header is validated */
	uint16_t msg_have;
	uint16_t hist_n, hist_pos;
	uint8_t err;            /* enum pptp_err when broken */
	uint32_t next;          /* first sequence number not yet parsed */
	uint32_t msg_start;     /* sequence number of the current message */
	uint32_t hist_floor;    /* history below this may be forgotten, and
				   bytes below it are no longer kept */
	uint32_t msgs;          /* messages completed */
	uint8_t msg[PPTP_MAX_LEN];
	struct cs_hist hist[CS_HIST];
	uint16_t seen_n, seen_pos;
	struct cs_seen seen[CS_SEEN];   /* a ring in stream order; the oldest
					   at seen_pos once full */
};

/* Start parsing at sequence number seq (the byte after the SYN). */
void cs_sync(struct ctlstream *s, uint32_t seq);

/* Feed one segment; rewrites come through h->patch. */
enum cs_result cs_feed(struct ctlstream *s, uint32_t seq, const uint8_t *data,
		       size_t len, const struct cs_hooks *h, void *ctx);

/*
 * Bytes of a message's ID region (from offset 12) are in but its rewrites
 * are not decided: the segments carrying them must be held.  Header bytes
 * alone are never rewritten, so they never need holding.
 */
int cs_holding(const struct ctlstream *s);


/*
 * Forget the bytes of the current message after its 12-byte header (header
 * bytes carry nothing to rewrite, and the peer may have them), so that the
 * sender's retransmission of the rest is parsed afresh.  Used when held
 * segments are dropped or cut.  Returns the new next sequence number: held
 * segments may still send whatever lies before it.
 */
uint32_t cs_rewind(struct ctlstream *s);

/*
 * Apply one patch to a segment holding bytes [seq, seq+len), where they
 * overlap.  With a write callback, the callback changes each byte (and can
 * fix a checksum).  Returns how many bytes changed.
 */
int cs_apply(const struct cs_patch *p, uint32_t seq, uint8_t *data, size_t len,
	     void (*write)(void *arg, size_t off, uint8_t val), void *arg);

#endif
