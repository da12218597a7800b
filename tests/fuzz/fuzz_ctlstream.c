/*
 * libFuzzer target for ctlstream.c.  The input describes one direction of a
 * control connection (a byte stream, either raw or made of well-formed
 * messages with the odd corrupt header), how the caller decides each message
 * (after how many bytes, whether it refuses), and a schedule of TCP segments
 * cut from the stream: in order, retransmitted (near or far back),
 * overlapping, ahead of the stream, with hold timeouts in between.  The
 * harness plays the caller of ctlstream.h the way gw.c does: it keeps held
 * segments, applies patches from the patch hook to them and to the segment
 * being fed, releases the held segments once the stream stops holding, and on
 * hold overflow or timeout cuts them to the point cs_rewind returns.
 *
 * Besides "no crash", it checks against a model of the stream:
 * - decide and complete see exactly the sender's bytes of message k, in
 *   order; decide sees between 12 and min(length, CS_DECIDE_LEN) bytes, is
 *   asked again while it answers CS_NEED_MORE, gets a last call at
 *   min(length, CS_DECIDE_LEN) bytes, and is never asked again once it
 *   answered; a message completes only after its final answer;
 * - every patch is a rewrite the hooks asked for, at the right stream
 *   position and value, and names only bytes already fed;
 * - every forwarded byte equals the sender's byte with the rewrites applied
 *   (no Call ID leaks out unrewritten), a retransmission comes out exactly
 *   as the first copy did, and nothing beyond a broken header (but its first
 *   11 bytes) or beyond the header of a message that can never be decided is
 *   ever forwarded;
 * - a retransmission of the sender's own bytes, cut anywhere, is never taken
 *   for a changed one (CS_CHANGED); one with a byte of an earlier message
 *   changed (segment byte c & 0x1f of a near segment, when c & 0xe0 is
 *   0xe0) is CS_CHANGED if the byte is among the first CS_KEEP of its
 *   message, and never forwarded so; a change beyond them passes;
 * - held segments exist exactly while cs_holding() says so, and after
 *   CS_REFUSED the stream has rewound to the refused message's header;
 * - no hang: after the schedule, a sender that retransmits from what the
 *   receiver has (with hold timeouts in between) gets the whole decodable
 *   stream through.  Exempt: a retransmission reaching below hist_floor,
 *   whose rewrites were forgotten (dropped by design, see CS_HIST).
 *
 * Input layout: isn[4] cfg[1] hold[1] dpat[8] nseg[1] seg[nseg][3], then with
 * cfg bit 0 a message count and one byte per message, then body bytes (the
 * stream itself when raw).
 *
 * cfg: 0x01 messages (else raw), 0x02/0x04 also rewrite offset 14/16,
 * 0x08 refusals (per dpat), 0x10 rewrites handed back in descending order,
 * 0x20 gw's restart on a retransmission covering all held segments,
 * 0xc0 segment size of the final retransmissions.
 * dpat[k % 8] for message k: bits 0-2 decide at 12 + n bytes (19: never, so
 * the last call decides nothing); 0x08 refuse the first final answer; 0x10
 * refuse the very first call.
 * seg a b c: a = 0x30 is a hold timeout; else a & 0x80 in order, a & 0x40
 * back by (a & 0x3f) * 64 + c bytes (as far as forgotten rewrites), else
 * (a & 0x3f) - 48 from the next byte expected; b: length b, or
 * (b & 0x7f) * 32 with b & 0x80.
 *
 * ctlstream.h does not ask decide for its rewrites in stream order, but the
 * history assumes it (the entry evicted is taken as the oldest): with cfg
 * 0x10 a retransmission can pass an evicted Call ID unrewritten.  gw.c hands
 * them back in order; -DCS_SORTED_REWRITES=1 does too, to fuzz past that.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlate/ctlstream.h"
#include "wire/pptp_msg.h"

#ifndef CS_SORTED_REWRITES
#define CS_SORTED_REWRITES 0
#endif

#define STREAM_MAX 16384
#define MSG_MAX (STREAM_MAX / 16 + 1)
#define HOLD_CAP 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_input.h"

struct seg {
	size_t pos, len;
	uint8_t *b;
	/* A byte of an earlier message changed (SIZE_MAX: none), and
	 * whether ctlstream keeps it (a change there must be dropped). */
	size_t mut;
	int mut_kept;
};

struct model {
	uint32_t isn;
	uint8_t cfg;
	uint8_t dpat[8];
	size_t hold_max;
	uint8_t orig[STREAM_MAX];
	uint8_t expect[STREAM_MAX];
	uint8_t out[STREAM_MAX];
	uint8_t out_set[STREAM_MAX];
	size_t slen, limit;
	int broken;                /* the stream ends in a corrupt header */
	size_t start[MSG_MAX];
	uint16_t mlen[MSG_MAX];
	uint8_t dl[MSG_MAX];       /* decide once this many bytes are in */
	uint8_t nrw[MSG_MAX];
	uint8_t rwoff[MSG_MAX][3];
	uint8_t final[MSG_MAX];    /* decide gave its final answer */
	uint8_t refused[MSG_MAX];  /* bit 0: early, bit 1: late refusal done */
	size_t nmsg, ncomplete;
	size_t answers;            /* final answers and refusals given */
	struct seg held[HOLD_CAP];
	size_t nheld;
	const struct ctlstream *s;
	struct seg *cur;           /* the segment being fed */
};

static struct model M;

#define FAIL(...) do { fprintf(stderr, "fuzz_ctlstream: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Stream offset of a sequence number. */
static size_t off_of(const struct model *m, uint32_t seq)
{
	return (uint32_t)(seq - m->isn);
}

static uint16_t rw_value(const uint8_t *msg, unsigned off)
{
	/* Every byte differs from the sender's: a leak cannot hide. */
	return (uint16_t)~(msg[off] << 8 | msg[off + 1]);
}

/* Walk the sender's stream: message boundaries and what must come out. */
static void model_stream(struct model *m)
{
	size_t pos = 0;

	memcpy(m->expect, m->orig, m->slen);
	m->nmsg = 0;
	m->limit = 0;
	m->broken = 0;
	for (;;) {
		uint16_t type, len;
		size_t k = m->nmsg, lim, d, i;
		uint8_t p;

		if (pos + PPTP_HDR_LEN > m->slen || k == MSG_MAX) {
			/* Bytes of an unfinished header pass. */
			m->limit = m->slen;
			break;
		}
		if (pptp_hdr_check(m->orig + pos, PPTP_HDR_LEN, &type, &len) !=
		    PPTP_OK) {
			/* The first 11 bytes of a bad header may pass; the
			 * segment with the 12th is dropped, and all after. */
			m->limit = pos + PPTP_HDR_LEN - 1;
			m->broken = 1;
			break;
		}
		p = m->dpat[k % 8];
		m->start[k] = pos;
		m->mlen[k] = len;
		m->dl[k] = (uint8_t)(PPTP_HDR_LEN + (p & 7));
		m->nrw[k] = 0;
		m->nmsg++;
		lim = min_sz(len, CS_DECIDE_LEN);
		d = min_sz(m->dl[k], lim);
		if (pos + d > m->slen) {
			/* Never decided: its ID region never leaves. */
			m->limit = pos + PPTP_HDR_LEN;
			break;
		}
		/* Decided at dl bytes: what lies within them is rewritten;
		 * no answer by the last call means no rewrite at all. */
		if (m->dl[k] <= lim) {
			static const uint8_t offs[3] = { 12, 14, 16 };

			for (i = 0; i < 3; i++) {
				if ((i == 1 && !(m->cfg & 0x02)) ||
				    (i == 2 && !(m->cfg & 0x04)) ||
				    offs[i] + 2u > m->dl[k])
					continue;
				m->rwoff[k][m->nrw[k]++] = offs[i];
			}
		}
		for (i = 0; i < m->nrw[k]; i++) {
			size_t q = pos + m->rwoff[k][i];
			uint16_t v = rw_value(m->orig + pos, m->rwoff[k][i]);

			if (q + 2 > m->slen)
				FAIL("model: rewrite beyond the stream");
			m->expect[q] = (uint8_t)(v >> 8);
			m->expect[q + 1] = (uint8_t)v;
		}
		pos += len;
		if (pos >= m->slen) {
			m->limit = m->slen;
			break;
		}
	}
}

static int on_decide(void *ctx, const uint8_t *msg, size_t have,
		     struct cs_rewrite *rw, int max)
{
	struct model *m = ctx;
	size_t k = m->ncomplete, lim;
	uint8_t p;
	int i, n;

	if (k >= m->nmsg)
		FAIL("decide for message %zu of %zu", k, m->nmsg);
	lim = min_sz(m->mlen[k], CS_DECIDE_LEN);
	if (have < PPTP_HDR_LEN || have > lim)
		FAIL("decide message %zu: have %zu, limit %zu", k, have, lim);
	if (m->start[k] + have > m->slen ||
	    memcmp(msg, m->orig + m->start[k], have) != 0)
		FAIL("decide message %zu: bytes differ from the sender's", k);
	if (m->final[k])
		FAIL("decide message %zu (have %zu) asked again after its "
		     "final answer", k, have);
	p = m->dpat[k % 8];
	if (m->cfg & 0x08 && p & 0x10 && !(m->refused[k] & 1)) {
		m->refused[k] |= 1;
		m->answers++;
		return -1;
	}
	if (have < m->dl[k]) {
		/* At the limit this is the last call: nothing to rewrite. */
		if (have == lim) {
			m->final[k] = 1;
			m->answers++;
		}
		return CS_NEED_MORE;
	}
	if (m->cfg & 0x08 && p & 0x08 && !(m->refused[k] & 2)) {
		m->refused[k] |= 2;
		m->answers++;
		return -1;
	}
	n = m->nrw[k];
	if (n > max)
		FAIL("max %d rewrites", max);
	for (i = 0; i < n; i++) {
		int j = m->cfg & 0x10 && !CS_SORTED_REWRITES ? n - 1 - i : i;

		rw[i].off = m->rwoff[k][j];
		rw[i].value = rw_value(msg, m->rwoff[k][j]);
	}
	m->final[k] = 1;
	m->answers++;
	return n;
}

static void on_complete(void *ctx, const uint8_t *msg, size_t len)
{
	struct model *m = ctx;
	size_t k = m->ncomplete;

	if (k >= m->nmsg || m->start[k] + m->mlen[k] > m->slen)
		FAIL("complete for message %zu of %zu", k, m->nmsg);
	if (!m->final[k])
		FAIL("message %zu complete without a final decision", k);
	if (len != m->mlen[k])
		FAIL("complete message %zu: len %zu, expected %u", k, len,
		     m->mlen[k]);
	if (memcmp(msg, m->orig + m->start[k], len) != 0)
		FAIL("complete message %zu: bytes differ from the sender's", k);
	m->ncomplete++;
}

/* Is a patch one of the rewrites the hooks asked for? */
static void check_patch(const struct model *m, uint32_t seq,
			const uint8_t val[2])
{
	size_t pos = off_of(m, seq), fed = off_of(m, m->s->next), k;

	if (pos >= m->slen || pos + 2 > fed)
		FAIL("patch at stream offset %zu beyond the bytes fed (%zu)",
		     pos, fed);
	for (k = 0; k < m->nmsg; k++) {
		int i;

		if (m->start[k] > pos)
			break;
		for (i = 0; i < m->nrw[k]; i++) {
			if (m->start[k] + m->rwoff[k][i] != pos)
				continue;
			if (val[0] != m->expect[pos] ||
			    val[1] != m->expect[pos + 1])
				FAIL("patch at %zu: value %02x%02x, expected "
				     "%02x%02x", pos, val[0], val[1],
				     m->expect[pos], m->expect[pos + 1]);
			return;
		}
	}
	FAIL("patch at stream offset %zu is no rewrite asked for", pos);
}

static void seg_apply(const struct model *m, const struct cs_patch *pt,
		      struct seg *s)
{
	cs_apply(pt, m->isn + (uint32_t)s->pos, s->b, s->len, NULL, NULL);
}

/* As gw does: the bytes may be in the segment fed or in held ones. */
static void on_patch(void *ctx, uint32_t seq, const uint8_t val[2])
{
	struct model *m = ctx;
	struct cs_patch pt = { seq, { val[0], val[1] } };
	size_t i;

	check_patch(m, seq, val);
	for (i = 0; i < m->nheld; i++)
		seg_apply(m, &pt, &m->held[i]);
	if (m->cur)
		seg_apply(m, &pt, m->cur);
}

/* The segment leaves: every byte must be what the receiver may see. */
static void forward(struct model *m, const struct seg *s)
{
	size_t i;

	for (i = 0; i < s->len; i++) {
		size_t q = s->pos + i;

		if (q >= m->limit)
			FAIL("byte %zu forwarded beyond the decodable stream (%zu)",
			     q, m->limit);
		if (q == s->mut) {
			/* Nobody reads it: it may pass as changed. */
			if (s->mut_kept)
				FAIL("byte %zu changed in a retransmission and "
				     "forwarded", q);
			continue;
		}
		if (s->b[i] != m->expect[q])
			FAIL("byte %zu forwarded as %02x, expected %02x (sender %02x)",
			     q, s->b[i], m->expect[q], m->orig[q]);
		if (m->out_set[q] && m->out[q] != s->b[i])
			FAIL("byte %zu forwarded as %02x, earlier as %02x",
			     q, s->b[i], m->out[q]);
		m->out[q] = s->b[i];
		m->out_set[q] = 1;
	}
}

static void seg_free(struct seg *s)
{
	free(s->b);
	s->b = NULL;
}

static void drop_held(struct model *m)
{
	size_t i;

	for (i = 0; i < m->nheld; i++)
		seg_free(&m->held[i]);
	m->nheld = 0;
}

static void release_held(struct model *m)
{
	size_t i;

	for (i = 0; i < m->nheld; i++)
		forward(m, &m->held[i]);
	drop_held(m);
}

/* gw's cut_held: send what lies before cut, drop the rest. */
static void cut_held(struct model *m, uint32_t cut)
{
	size_t i, c = off_of(m, cut);

	if (c > off_of(m, m->s->next))
		FAIL("rewind to %zu, beyond the parsed %zu", c,
		     off_of(m, m->s->next));
	for (i = 0; i < m->nheld; i++) {
		struct seg *s = &m->held[i];

		if (c <= s->pos)
			continue;
		s->len = min_sz(s->len, c - s->pos);
		forward(m, s);
	}
	drop_held(m);
}

/* gw's covers_held: starts at or before the first held byte and runs past
 * everything parsed. */
static int covers_held(const struct model *m, const struct seg *cur)
{
	return m->nheld && cs_holding(m->s) && cur->pos <= m->held[0].pos &&
	       cur->pos + cur->len > off_of(m, m->s->next);
}

static void check_state(const struct model *m, const struct ctlstream *s)
{
	size_t fed = off_of(m, s->next);

	if (fed > m->slen)
		FAIL("stream parsed to %zu, beyond the %zu bytes sent", fed,
		     m->slen);
	if (s->msg_len > PPTP_MAX_LEN || s->msg_have > PPTP_MAX_LEN ||
	    (s->msg_len && s->msg_have > s->msg_len) ||
	    (!s->msg_len && s->msg_have >= PPTP_HDR_LEN &&
	     s->state != CS_BROKEN))
		FAIL("message state %u/%u", s->msg_have, s->msg_len);
	if (s->state != CS_BROKEN && s->next != s->msg_start + s->msg_have)
		FAIL("next %zu, message at %zu with %u bytes", fed,
		     off_of(m, s->msg_start), s->msg_have);
	if (s->state != CS_BROKEN && !!m->nheld != !!cs_holding(s))
		FAIL("%zu segments held, stream %sholding (message at %zu, "
		     "%u bytes)", m->nheld, cs_holding(s) ? "" : "not ",
		     off_of(m, s->msg_start), s->msg_have);
}

/* Feed one segment and act on the result as gw.c does; cur is consumed. */
static enum cs_result feed(struct model *m, struct ctlstream *s,
			   struct seg *cur, const struct cs_hooks *hooks)
{
	size_t next = off_of(m, s->next);
	enum cs_result r;

	m->cur = cur;
	r = cs_feed(s, m->isn + (uint32_t)cur->pos, cur->b, cur->len, hooks, m);
	m->cur = NULL;

	switch (r) {
	case CS_PASS:
		/* Held segments go once the stream stops holding; a
		 * retransmission or empty segment leaves them be. */
		if (!cs_holding(s))
			release_held(m);
		forward(m, cur);
		seg_free(cur);
		break;
	case CS_HOLD:
		if (!cs_holding(s))
			FAIL("CS_HOLD, but the stream is not holding");
		if (m->nheld == m->hold_max) {
			cut_held(m, cs_rewind(s));
			seg_free(cur);
			break;
		}
		m->held[m->nheld++] = *cur;
		cur->b = NULL;
		break;
	case CS_OOO:
		if (cur->len == 0 || cur->pos <= next)
			FAIL("out of order at %zu, next %zu", cur->pos, next);
		seg_free(cur);
		break;
	case CS_DROP:
		if (cur->pos >= next)
			FAIL("CS_DROP of new bytes at %zu, next %zu", cur->pos,
			     next);
		if (m->cfg & 0x20 && covers_held(m, cur)) {
			drop_held(m);
			cs_rewind(s);
			check_state(m, s);
			return feed(m, s, cur, hooks);
		}
		seg_free(cur);
		break;
	case CS_REFUSED:
		drop_held(m);
		seg_free(cur);
		if (cs_holding(s) || s->msg_have != PPTP_HDR_LEN ||
		    s->next != s->msg_start + PPTP_HDR_LEN)
			FAIL("CS_REFUSED: stream not rewound to the header "
			     "(message at %zu, %u bytes, next %zu)",
			     off_of(m, s->msg_start), s->msg_have,
			     off_of(m, s->next));
		break;
	case CS_ERROR:
		drop_held(m);
		seg_free(cur);
		if (s->state != CS_BROKEN)
			FAIL("error but not broken");
		break;
	case CS_CHANGED:
		/* Only a change among the kept bytes is one. */
		if (cur->mut == SIZE_MAX || !cur->mut_kept)
			FAIL("retransmission at %zu (%zu bytes) taken as "
			     "changed (byte changed: %lld)", cur->pos,
			     cur->len, cur->mut == SIZE_MAX ? -1LL
			     : (long long)cur->mut);
		seg_free(cur);
		break;
	default:
		FAIL("result %d", (int)r);
	}
	check_state(m, s);
	return r;
}

static void mk_seg(const struct model *m, struct seg *cur, size_t pos,
		   size_t len)
{
	if (pos > m->slen)
		pos = m->slen;
	if (len > m->slen - pos)
		len = m->slen - pos;
	cur->pos = pos;
	cur->len = len;
	cur->mut = SIZE_MAX;
	cur->mut_kept = 0;
	cur->b = malloc(len ? len : 1);
	memcpy(cur->b, m->orig + pos, len);
}

/*
 * Change byte at of the segment if it belongs to a message parsed whole
 * already (a rewind never reaches back there, so it stays old), noting
 * whether ctlstream keeps it: the first CS_KEEP bytes of a message.
 */
static void change_old_byte(const struct model *m, struct seg *cur,
			    size_t at)
{
	size_t q = cur->pos + at % cur->len, k;

	for (k = 0; k < m->ncomplete; k++) {
		if (q < m->start[k] || q >= m->start[k] + m->mlen[k])
			continue;
		cur->b[q - cur->pos] ^= 0x5a;
		cur->mut = q;
		cur->mut_kept = q - m->start[k] < CS_KEEP;
		return;
	}
}

/* What the receiver has in order: where a retransmission starts. */
static size_t acked(const struct model *m)
{
	size_t q = 0;

	while (q < m->slen && m->out_set[q])
		q++;
	return q;
}

/*
 * No hang: the sender retransmits from the receiver's ack point, a window at
 * a time, with hold timeouts in between, until all that can pass has.
 */
static void drain(struct model *m, struct ctlstream *s,
		  const struct cs_hooks *hooks)
{
	static const size_t seglen[4] = { 7, 64, 536, 1400 };
	size_t L = seglen[m->cfg >> 6], stuck = 0, ack = acked(m);

	if (m->broken)
		return;   /* the segment with the bad header never passes */
	while (ack < m->limit) {
		size_t pos, prev = ack, answers = m->answers;

		if (s->state == CS_BROKEN)
			FAIL("stream broken, no bad header in it");
		if (m->nheld)
			cut_held(m, cs_rewind(s));
		ack = acked(m);
		/* Rewrites this old were forgotten: dropped by design. */
		if ((int32_t)(m->isn + (uint32_t)ack - s->hist_floor) < 0)
			return;
		for (pos = ack; pos < m->limit && pos < ack + 8 * 1400;
		     pos += L) {
			struct seg cur;

			enum cs_result r;

			mk_seg(m, &cur, pos, L);
			r = feed(m, s, &cur, hooks);
			/* After these the rest of the window is ahead. */
			if (r != CS_PASS && r != CS_HOLD)
				break;
		}
		ack = acked(m);
		/* A refusal costs the sender a round (the whole segment
		 * goes); no progress and no answer for rounds is a hang. */
		stuck = ack > prev || m->answers > answers ? 0 : stuck + 1;
		if (stuck == 3)
			FAIL("stalled: receiver has %zu of %zu bytes, stream "
			     "parsed to %zu, message at %zu has %u bytes",
			     ack, m->limit, off_of(m, s->next),
			     off_of(m, s->msg_start), s->msg_have);
	}
}

static void build_stream(struct model *m, struct in *in, int synth)
{
	size_t nmsg, i;
	uint8_t desc[256];

	if (!synth) {
		m->slen = in->len < STREAM_MAX ? in->len : STREAM_MAX;
		memcpy(m->orig, in->p, m->slen);
		return;
	}
	nmsg = take(in);
	for (i = 0; i < nmsg; i++)
		desc[i] = take(in);
	m->slen = 0;
	for (i = 0; i < nmsg; i++) {
		unsigned type = 1 + (desc[i] & 0x0f) % PPTP_TYPE_MAX;
		size_t len = pptp_type_len(type), j;
		uint8_t *p = m->orig + m->slen;

		if (m->slen + len > STREAM_MAX)
			break;
		p[0] = (uint8_t)(len >> 8);
		p[1] = (uint8_t)len;
		p[2] = 0;
		p[3] = PPTP_MSG_CONTROL;
		p[4] = 0x1A;
		p[5] = 0x2B;
		p[6] = 0x3C;
		p[7] = 0x4D;
		p[8] = 0;
		p[9] = (uint8_t)type;
		p[10] = 0;
		p[11] = desc[i] & 0x10;
		for (j = 12; j < len; j++)
			p[j] = take(in);
		/* Now and then a corrupt header. */
		if ((desc[i] & 0xc0) == 0xc0) {
			switch ((desc[i] >> 4) & 3) {
			case 0: p[1]++; break;
			case 1: p[7] ^= 0xff; break;
			case 2: p[9] = 0; break;
			default: p[3] = 2; break;
			}
		}
		m->slen += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model *m = &M;
	struct in in = { data, size };
	struct ctlstream s;
	struct cs_hooks hooks = {
		.decide = on_decide,
		.complete = on_complete,
		.patch = on_patch,
	};
	uint8_t segdesc[3 * 256];
	size_t nseg, i;

	memset(m->out_set, 0, sizeof(m->out_set));
	memset(m->final, 0, sizeof(m->final));
	memset(m->refused, 0, sizeof(m->refused));
	m->nheld = 0;
	m->ncomplete = 0;
	m->answers = 0;
	m->isn = (uint32_t)take(&in) << 24 | (uint32_t)take(&in) << 16 |
		 (uint32_t)take(&in) << 8 | take(&in);
	m->cfg = take(&in);
	m->hold_max = 1 + take(&in) % HOLD_CAP;
	for (i = 0; i < 8; i++)
		m->dpat[i] = take(&in);
	nseg = take(&in);
	for (i = 0; i < 3 * nseg; i++)
		segdesc[i] = take(&in);
	build_stream(m, &in, m->cfg & 0x01);
	model_stream(m);

	cs_sync(&s, m->isn);
	m->s = &s;
	for (i = 0; i < nseg; i++) {
		uint8_t a = segdesc[3 * i], b = segdesc[3 * i + 1];
		uint8_t c = segdesc[3 * i + 2];
		size_t next = off_of(m, s.next), pos;
		long d;
		struct seg cur;

		if (a == 0x30) {
			/* The hold timer fires: gw cuts at the rewind point. */
			if (m->nheld)
				cut_held(m, cs_rewind(&s));
			check_state(m, &s);
			continue;
		}
		if (a & 0x80)
			d = (long)next;
		else if (a & 0x40)
			d = (long)next - (long)(a & 0x3f) * 64 - c;
		else
			d = (long)next + (long)(a & 0x3f) - 48;
		pos = d < 0 ? 0 : (size_t)d;
		mk_seg(m, &cur, pos, b & 0x80 ? (size_t)(b & 0x7f) * 32 : b);
		if (!(a & 0xc0) && (c & 0xe0) == 0xe0 && cur.len)
			change_old_byte(m, &cur, c & 0x1f);
		feed(m, &s, &cur, &hooks);
	}
	drain(m, &s, &hooks);
	drop_held(m);
	return 0;
}
