#include "xlate/ctlstream.h"

#include <string.h>

/* Signed distance between sequence numbers, wrap-safe. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void cs_sync(struct ctlstream *s, uint32_t seq)
{
	memset(s, 0, sizeof(*s));
	s->state = CS_SYNCED;
	s->next = s->msg_start = s->hist_floor = seq;
}

uint32_t cs_rewind(struct ctlstream *s)
{
	/* Header bytes are never rewritten, so once they are known they stay:
	 * the peer may well have them already. */
	s->msg_have = s->msg_len ? PPTP_HDR_LEN : 0;
	s->next = s->msg_start + s->msg_have;
	s->decided = 0;
	return s->next;
}

static void hist_add(struct ctlstream *s, uint32_t seq, const uint8_t val[2])
{
	struct cs_hist *e = &s->hist[s->hist_pos];

	/*
	 * The floor only rises: a hook may return one message's rewrites in
	 * any order, so the entry evicted is not always the oldest.
	 */
	if (s->hist_n == CS_HIST) {
		if (seq_diff(e->seq + 2, s->hist_floor) > 0)
			s->hist_floor = e->seq + 2;
	} else {
		s->hist_n++;
	}
	e->seq = seq;
	memcpy(e->val, val, 2);
	s->hist_pos = (uint16_t)((s->hist_pos + 1) % CS_HIST);
}

/* The first slot of the kept messages' ring, the oldest. */
static int seen_first(const struct ctlstream *s)
{
	return s->seen_n == CS_SEEN ? s->seen_pos : 0;
}

/*
 * Keep the first bytes of the message just parsed.  Evicting the oldest
 * raises the floor to the next one's start: the bytes in between can no
 * longer be checked, so they may not pass again.
 */
static void seen_add(struct ctlstream *s)
{
	struct cs_seen *e = &s->seen[s->seen_pos];

	e->seq = s->msg_start;
	e->n = (uint8_t)(s->msg_len < CS_KEEP ? s->msg_len : CS_KEEP);
	memcpy(e->b, s->msg, e->n);
	s->seen_pos = (uint16_t)((s->seen_pos + 1) % CS_SEEN);
	if (s->seen_n < CS_SEEN) {
		s->seen_n++;
	} else {
		uint32_t oldest = s->seen[s->seen_pos].seq;

		if (seq_diff(oldest, s->hist_floor) > 0)
			s->hist_floor = oldest;
	}
}

/* Forget kept messages that start below lowest (the oldest come first). */
static void seen_prune(struct ctlstream *s, uint32_t lowest)
{
	struct cs_seen keep[CS_SEEN];
	int i, first = seen_first(s), n = 0;

	if (!s->seen_n || seq_diff(s->seen[first].seq, lowest) >= 0)
		return;
	for (i = 0; i < s->seen_n; i++) {
		const struct cs_seen *e = &s->seen[(first + i) % CS_SEEN];

		if (seq_diff(e->seq, lowest) >= 0)
			keep[n++] = *e;
	}
	memcpy(s->seen, keep, (size_t)n * sizeof(keep[0]));
	s->seen_n = (uint16_t)n;
	s->seen_pos = (uint16_t)(n % CS_SEEN);
}

/*
 * Whether data, bytes [seq, end) of the stream, differ from the n bytes
 * kept from stream position at, where the two overlap.
 */
static int differs(uint32_t at, const uint8_t *kept, size_t n, uint32_t seq,
		   uint32_t end, const uint8_t *data)
{
	int32_t lo = seq_diff(seq, at), hi = seq_diff(end, at);

	if (lo < 0)
		lo = 0;
	if (hi > (int32_t)n)
		hi = (int32_t)n;
	if (lo >= hi)
		return 0;
	return memcmp(kept + lo, data + (at + (uint32_t)lo - seq),
		      (size_t)(hi - lo)) != 0;
}

/* Whether old bytes [seq, end) are those first parsed there, where kept. */
static int same_as_parsed(const struct ctlstream *s, uint32_t seq,
			  uint32_t end, const uint8_t *data)
{
	int i, first = seen_first(s);

	for (i = 0; i < s->seen_n; i++) {
		const struct cs_seen *e = &s->seen[(first + i) % CS_SEEN];

		if (differs(e->seq, e->b, e->n, seq, end, data))
			return 0;
	}
	return !differs(s->msg_start, s->msg, s->msg_have, seq, end, data);
}

/*
 * Retransmissions reach back at most a window (TCP's largest is 1 GiB), so
 * the floor follows the stream at that distance and rewrites below it are
 * forgotten.  Otherwise the floor, which rises only as the history fills,
 * falls 2 GiB behind on a long connection with few rewrites: sequence
 * comparisons with it wrap and every retransmission is taken for an old
 * one; and after 4 GiB an old rewrite's sequence number comes round again
 * inside new bytes, where a replay would corrupt them.
 */
#define CS_REACH (1u << 30)

static void floor_follow(struct ctlstream *s)
{
	uint32_t lowest = s->next - CS_REACH;
	int i, n = 0;

	if (seq_diff(s->hist_floor, lowest) >= 0)
		return;
	s->hist_floor = lowest;
	seen_prune(s, lowest);
	for (i = 0; i < s->hist_n; i++)
		if (seq_diff(s->hist[i].seq, lowest) >= 0)
			s->hist[n++] = s->hist[i];
	if (n < s->hist_n) {
		s->hist_n = (uint16_t)n;
		s->hist_pos = (uint16_t)n;
	}
}

/* Replay remembered rewrites over a retransmitted range [seq, end). */
static void hist_replay(const struct ctlstream *s, uint32_t seq, uint32_t end,
			const struct cs_hooks *h, void *ctx)
{
	int i;

	for (i = 0; i < s->hist_n; i++) {
		const struct cs_hist *e = &s->hist[i];

		if (seq_diff(e->seq + 2, seq) > 0 && seq_diff(e->seq, end) < 0 &&
		    h->patch)
			h->patch(ctx, e->seq, e->val);
	}
}

int cs_holding(const struct ctlstream *s)
{
	return !s->decided && s->msg_have > PPTP_HDR_LEN;
}


static void message_done(struct ctlstream *s, const struct cs_hooks *h,
			 void *ctx)
{
	if (h->complete)
		h->complete(ctx, s->msg, s->msg_len);
	seen_add(s);
	s->msgs++;
	s->msg_start += s->msg_len;
	s->msg_have = 0;
	s->msg_len = 0;
	s->decided = 0;
}

/*
 * Ask the caller what to rewrite.  last: no more bytes will come before the
 * decision limit, so "need more" means "nothing to rewrite".
 */
static enum cs_result decide(struct ctlstream *s, const struct cs_hooks *h,
			     void *ctx, int last)
{
	struct cs_rewrite rw[4];
	size_t limit = s->msg_len < CS_DECIDE_LEN ? s->msg_len : CS_DECIDE_LEN;
	int i, k = h->decide ? h->decide(ctx, s->msg, s->msg_have, rw, 4) : 0;

	if (k == CS_NEED_MORE) {
		if (!last)
			return CS_PASS;
		k = 0;
	}
	if (k < 0)
		return CS_REFUSED;
	for (i = 0; i < k && i < 4; i++) {
		uint32_t seq = s->msg_start + rw[i].off;
		uint8_t val[2];

		/* Only this message's own ID region, and only bytes that
		 * are in: later ones would leave unrewritten. */
		if (rw[i].off < PPTP_HDR_LEN || rw[i].off + 2u > limit ||
		    rw[i].off + 2u > s->msg_have)
			continue;
		val[0] = (uint8_t)(rw[i].value >> 8);
		val[1] = (uint8_t)rw[i].value;
		hist_add(s, seq, val);
		if (h->patch)
			h->patch(ctx, seq, val);
	}
	s->decided = 1;
	return CS_PASS;
}

/* Move up to (upto - msg_have) bytes from the segment into the message. */
static void take(struct ctlstream *s, const uint8_t **d, size_t *len,
		 size_t upto)
{
	size_t n = upto > s->msg_have ? upto - s->msg_have : 0;

	if (n > *len)
		n = *len;
	memcpy(s->msg + s->msg_have, *d, n);
	s->msg_have = (uint16_t)(s->msg_have + n);
	s->next += (uint32_t)n;
	*d += n;
	*len -= n;
}

/* Parse new bytes; the first of them is at s->next. */
static enum cs_result parse(struct ctlstream *s, const uint8_t *d, size_t len,
			    const struct cs_hooks *h, void *ctx)
{
	for (;;) {
		if (s->msg_len == 0) {
			uint16_t type, mlen;
			enum pptp_err e;

			if (len == 0)
				break;
			take(s, &d, &len, PPTP_HDR_LEN);
			if (s->msg_have < PPTP_HDR_LEN)
				break;
			e = pptp_hdr_check(s->msg, PPTP_HDR_LEN, &type, &mlen);
			if (e != PPTP_OK) {
				s->state = CS_BROKEN;
				s->err = (uint8_t)e;
				return CS_ERROR;
			}
			s->msg_len = mlen;
		}
		if (!s->decided) {
			size_t limit = s->msg_len < CS_DECIDE_LEN ?
				       s->msg_len : CS_DECIDE_LEN;
			uint32_t start = s->msg_start;

			take(s, &d, &len, limit);
			if (decide(s, h, ctx, s->msg_have == limit) != CS_PASS) {
				s->msg_start = start;
				cs_rewind(s);
				return CS_REFUSED;
			}
			if (!s->decided)
				break;   /* the ID fields are still to come */
		}
		take(s, &d, &len, s->msg_len);
		if (s->msg_have < s->msg_len)
			break;
		message_done(s, h, ctx);
	}
	/* Bytes of an undecided ID region must not leave yet: hold them. */
	return cs_holding(s) ? CS_HOLD : CS_PASS;
}

enum cs_result cs_feed(struct ctlstream *s, uint32_t seq, const uint8_t *data,
		       size_t len, const struct cs_hooks *h, void *ctx)
{
	uint32_t end = seq + (uint32_t)len;
	enum cs_result r;
	int32_t ahead;

	if (len == 0)
		return CS_PASS;
	if (s->state == CS_BROKEN)
		return CS_ERROR;
	ahead = seq_diff(seq, s->next);
	if (ahead > 0)
		return CS_OOO;
	if (ahead < 0) {
		uint32_t old_end = seq_diff(end, s->next) < 0 ? end : s->next;

		/* Rewrites of bytes this old may have been forgotten. */
		if (seq_diff(seq, s->hist_floor) < 0)
			return CS_DROP;
		/* Bytes of an ID region whose rewrites are not decided yet. */
		if (cs_holding(s) &&
		    seq_diff(old_end, s->msg_start + PPTP_HDR_LEN) > 0)
			return CS_DROP;
		/* Checked before the replay writes into the segment. */
		if (!same_as_parsed(s, seq, old_end, data))
			return CS_CHANGED;
		hist_replay(s, seq, old_end, h, ctx);
		if (old_end == end)
			return CS_PASS;
		data += s->next - seq;
		len = end - s->next;
	}
	r = parse(s, data, len, h, ctx);
	floor_follow(s);
	return r;
}

int cs_apply(const struct cs_patch *p, uint32_t seq, uint8_t *data, size_t len,
	     void (*write)(void *arg, size_t off, uint8_t val), void *arg)
{
	int b, n = 0;

	for (b = 0; b < 2; b++) {
		int32_t off = seq_diff(p->seq + (uint32_t)b, seq);

		if (off < 0 || (size_t)off >= len || data[off] == p->val[b])
			continue;
		/* The callback writes the byte and fixes checksums. */
		if (write)
			write(arg, (size_t)off, p->val[b]);
		else
			data[off] = p->val[b];
		n++;
	}
	return n;
}
