#include "ctlstream.h"

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

void cs_rewind(struct ctlstream *s)
{
	s->next = s->msg_start;
	s->msg_have = 0;
	s->msg_len = 0;
	s->decided = 0;
}

static void hist_add(struct ctlstream *s, uint32_t seq, const uint8_t val[2])
{
	struct cs_hist *e = &s->hist[s->hist_pos];

	/* The ring is in stream order, so the entry evicted is the oldest. */
	if (s->hist_n == CS_HIST)
		s->hist_floor = e->seq + 2;
	else
		s->hist_n++;
	e->seq = seq;
	memcpy(e->val, val, 2);
	s->hist_pos = (uint16_t)((s->hist_pos + 1) % CS_HIST);
}

/* Patches from history for a retransmitted range [seq, end). */
static int hist_patches(const struct ctlstream *s, uint32_t seq, uint32_t end,
			struct cs_patch *out, int n)
{
	int i;

	for (i = 0; i < s->hist_n && n < CS_MAX_PATCH; i++) {
		const struct cs_hist *e = &s->hist[i];

		if (seq_diff(e->seq + 2, seq) > 0 && seq_diff(e->seq, end) < 0) {
			out[n].seq = e->seq;
			memcpy(out[n].val, e->val, 2);
			n++;
		}
	}
	return n;
}

static void message_done(struct ctlstream *s, const struct cs_hooks *h,
			 void *ctx)
{
	if (h->complete)
		h->complete(ctx, s->msg, s->msg_len);
	s->msgs++;
	s->msg_start += s->msg_len;
	s->msg_have = 0;
	s->msg_len = 0;
	s->decided = 0;
}

static enum cs_result decide(struct ctlstream *s, const struct cs_hooks *h,
			     void *ctx, struct cs_patch *out, int *n)
{
	struct cs_rewrite rw[4];
	int i, k = h->decide ? h->decide(ctx, s->msg, s->msg_have, rw, 4) : 0;

	if (k < 0)
		return CS_DROP;
	for (i = 0; i < k && *n < CS_MAX_PATCH; i++) {
		struct cs_patch *p;

		if (rw[i].off + 2u > CS_DECIDE_LEN)
			continue;
		p = &out[(*n)++];
		p->seq = s->msg_start + rw[i].off;
		p->val[0] = (uint8_t)(rw[i].value >> 8);
		p->val[1] = (uint8_t)rw[i].value;
		hist_add(s, p->seq, p->val);
	}
	s->decided = 1;
	return CS_PASS;
}

/* Parse new bytes; the first of them is at s->next. */
static enum cs_result parse(struct ctlstream *s, const uint8_t *d, size_t len,
			    const struct cs_hooks *h, void *ctx,
			    struct cs_patch *out, int *n)
{
	while (len > 0) {
		size_t want, take;

		if (s->msg_len == 0) {
			want = PPTP_HDR_LEN - s->msg_have;
		} else if (!s->decided) {
			want = (s->msg_len < CS_DECIDE_LEN ? s->msg_len :
				CS_DECIDE_LEN) - s->msg_have;
		} else {
			want = s->msg_len - s->msg_have;
		}
		take = len < want ? len : want;
		memcpy(s->msg + s->msg_have, d, take);
		s->msg_have = (uint16_t)(s->msg_have + take);
		s->next += (uint32_t)take;
		d += take;
		len -= take;
		if (take < want)
			break;
		if (s->msg_len == 0) {
			uint16_t type, mlen;
			enum pptp_err e = pptp_hdr_check(s->msg, PPTP_HDR_LEN,
							 &type, &mlen);
			if (e != PPTP_OK) {
				s->state = CS_BROKEN;
				s->err = (uint8_t)e;
				return CS_ERROR;
			}
			s->msg_len = mlen;
		} else if (!s->decided) {
			uint32_t start = s->msg_start;
			enum cs_result r = decide(s, h, ctx, out, n);

			if (r != CS_PASS) {
				s->msg_start = start;
				cs_rewind(s);
				return r;
			}
		}
		if (s->decided && s->msg_have == s->msg_len)
			message_done(s, h, ctx);
	}
	/* Bytes of a message whose ID fields are not in yet: hold the segment. */
	if (s->msg_have > 0 && !s->decided)
		return CS_HOLD;
	return CS_PASS;
}

enum cs_result cs_feed(struct ctlstream *s, uint32_t seq, const uint8_t *data,
		       size_t len, const struct cs_hooks *h, void *ctx,
		       struct cs_patch *patches, int *npatch)
{
	uint32_t end = seq + (uint32_t)len;
	int32_t ahead;

	*npatch = 0;
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
		/* Bytes of a message whose rewrites are not decided yet. */
		if (!s->decided && s->msg_have > 0 &&
		    seq_diff(old_end, s->msg_start) > 0)
			return CS_DROP;
		*npatch = hist_patches(s, seq, old_end, patches, 0);
		if (old_end == end)
			return CS_PASS;
		data += s->next - seq;
		len = end - s->next;
	}
	return parse(s, data, len, h, ctx, patches, npatch);
}

void cs_apply(const struct cs_patch *patches, int n, uint32_t seq,
	      uint8_t *data, size_t len,
	      void (*write)(void *arg, size_t off, uint8_t old, uint8_t val),
	      void *arg)
{
	int i, b;

	for (i = 0; i < n; i++) {
		for (b = 0; b < 2; b++) {
			uint32_t at = patches[i].seq + (uint32_t)b;
			int32_t off = seq_diff(at, seq);

			if (off < 0 || (size_t)off >= len)
				continue;
			if (data[off] == patches[i].val[b])
				continue;
			/* The callback writes the byte and fixes checksums. */
			if (write)
				write(arg, (size_t)off, data[off],
				      patches[i].val[b]);
			else
				data[off] = patches[i].val[b];
		}
	}
}
