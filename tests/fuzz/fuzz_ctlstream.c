/*
 * libFuzzer target for ctlstream.c.  The input describes one direction of a
 * control connection (a byte stream, either raw or made of well-formed
 * messages with the odd corrupt header) and a schedule of TCP segments cut
 * from it: in order, retransmitted, overlapping, ahead of the stream.  The
 * harness plays the caller of ctlstream.h: it keeps held segments, applies
 * patches with cs_apply and forwards what the stream lets through.
 *
 * Besides "no crash, no hang", it checks against a model of the stream:
 * - decide and complete see exactly the sender's bytes of message k, in
 *   order, and decide sees min(length, CS_DECIDE_LEN) of them;
 * - every patch is a rewrite the hooks asked for, at the right stream
 *   position and value, and names only bytes already fed;
 * - every forwarded byte equals the sender's byte with the rewrites applied
 *   (no Call ID leaks out unrewritten), a retransmission comes out exactly
 *   as the first copy did, and nothing beyond a broken header or beyond a
 *   message whose ID fields never arrived is ever forwarded.
 *
 * Input layout: isn[4] cfg[1] nseg[1] seg[nseg][2], then with cfg bit 0 a
 * message count and one byte per message, then body bytes (the stream
 * itself when raw).
 *
 * After CS_DROP the stream must hold no undecided bytes (the held segments
 * that carried them are gone); -DCS_CHECK_REWIND=0 turns that check off.
 *
 * A segment whose rewrites fill all CS_MAX_PATCH patches may lose the
 * rest; -DCS_IGNORE_PATCH_CAP=1 ends the run there instead of failing.
 *
 * Build with -DCS_GW_RELEASE=1 to model what gw.c does instead of what the
 * header says: every CS_PASS (even of a pure retransmission or an empty
 * segment) releases the held segments, and CS_HOLD patches only the segment
 * just fed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlstream.h"
#include "pptp_msg.h"

#ifndef CS_GW_RELEASE
#define CS_GW_RELEASE 0
#endif
#ifndef CS_IGNORE_PATCH_CAP
#define CS_IGNORE_PATCH_CAP 0
#endif
#ifndef CS_CHECK_REWIND
#define CS_CHECK_REWIND 1
#endif

#define STREAM_MAX 16384
#define MSG_MAX (STREAM_MAX / 16 + 1)
#define SEG_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t len;
};

static uint8_t take(struct in *in)
{
	uint8_t v;

	if (in->len == 0)
		return 0;
	v = *in->p++;
	in->len--;
	return v;
}

struct seg {
	size_t pos, len;
	uint8_t *b;
};

struct model {
	uint32_t isn;
	uint8_t cfg;
	uint8_t orig[STREAM_MAX];
	uint8_t expect[STREAM_MAX];
	uint8_t out[STREAM_MAX];
	uint8_t out_set[STREAM_MAX];
	size_t slen, limit;
	size_t start[MSG_MAX];
	uint16_t mlen[MSG_MAX];
	uint8_t attempts[MSG_MAX];
	size_t nmsg, ncomplete;
	struct seg held[SEG_MAX];
	size_t nheld;
};

static struct model M;

#define FAIL(...) do { fprintf(stderr, "fuzz_ctlstream: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

/* Which rewrites the hooks ask for in message k (offsets 12, 14, 16). */
static int rewrites(const struct model *m, size_t k, uint16_t off[3])
{
	size_t have = m->mlen[k] < CS_DECIDE_LEN ? m->mlen[k] : CS_DECIDE_LEN;
	int n = 0;

	off[n++] = 12;
	if (m->cfg & 0x02 && have >= 16)
		off[n++] = 14;
	if (m->cfg & 0x04 && have >= 18)
		off[n++] = 16;
	return n;
}

static uint16_t rw_value(const uint8_t *msg, uint16_t off)
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
	while (pos + PPTP_HDR_LEN <= m->slen && m->nmsg < MSG_MAX) {
		uint16_t type, len, off[3];
		size_t have, i;
		int n;

		if (pptp_hdr_check(m->orig + pos, PPTP_HDR_LEN, &type, &len) !=
		    PPTP_OK)
			break;
		m->start[m->nmsg] = pos;
		m->mlen[m->nmsg] = len;
		have = len < CS_DECIDE_LEN ? len : CS_DECIDE_LEN;
		if (pos + have > m->slen)
			break;      /* its ID fields never arrive */
		n = rewrites(m, m->nmsg, off);
		for (i = 0; i < (size_t)n; i++) {
			uint16_t v = rw_value(m->orig + pos, off[i]);

			m->expect[pos + off[i]] = (uint8_t)(v >> 8);
			m->expect[pos + off[i] + 1] = (uint8_t)v;
		}
		m->nmsg++;
		pos += len;
		m->limit = pos < m->slen ? pos : m->slen;
	}
	/*
	 * Bytes from the first message that is broken, or whose first
	 * CS_DECIDE_LEN bytes are not all in the stream, must never pass.
	 */
}

static int on_decide(void *ctx, const uint8_t *msg, size_t have,
		     struct cs_rewrite *rw, int max)
{
	struct model *m = ctx;
	size_t k = m->ncomplete, want;
	uint16_t off[3];
	int n, i;

	if (k >= m->nmsg)
		FAIL("decide for message %zu of %zu", k, m->nmsg);
	want = m->mlen[k] < CS_DECIDE_LEN ? m->mlen[k] : CS_DECIDE_LEN;
	if (have != want)
		FAIL("decide message %zu: have %zu, expected %zu", k, have, want);
	if (memcmp(msg, m->orig + m->start[k], have) != 0)
		FAIL("decide message %zu: bytes differ from the sender's", k);
	/* Refuse the first attempt at some messages: the stream rewinds. */
	if (m->cfg & 0x08 && m->attempts[k]++ == 0 && k % 2 == 0)
		return -1;
	n = rewrites(m, k, off);
	if (n > max)
		FAIL("max %d rewrites", max);
	for (i = 0; i < n; i++) {
		rw[i].off = off[i];
		rw[i].value = rw_value(msg, off[i]);
	}
	return n;
}

static void on_complete(void *ctx, const uint8_t *msg, size_t len)
{
	struct model *m = ctx;
	size_t k = m->ncomplete;

	if (k >= m->nmsg || m->start[k] + m->mlen[k] > m->slen)
		FAIL("complete for message %zu of %zu", k, m->nmsg);
	if (len != m->mlen[k])
		FAIL("complete message %zu: len %zu, expected %u", k, len,
		     m->mlen[k]);
	if (memcmp(msg, m->orig + m->start[k], len) != 0)
		FAIL("complete message %zu: bytes differ from the sender's", k);
	m->ncomplete++;
}

/* Is a patch one of the rewrites the hooks asked for? */
static void check_patch(const struct model *m, const struct cs_patch *p,
			size_t fed)
{
	size_t pos = (uint32_t)(p->seq - m->isn), k;

	if (pos >= m->slen || pos + 2 > fed)
		FAIL("patch at stream offset %zu beyond the bytes fed (%zu)",
		     pos, fed);
	for (k = 0; k < m->nmsg; k++) {
		uint16_t off[3];
		int n, i;

		if (m->start[k] > pos)
			break;
		n = rewrites(m, k, off);
		for (i = 0; i < n; i++) {
			if (m->start[k] + off[i] != pos)
				continue;
			if (p->val[0] != m->expect[pos] ||
			    p->val[1] != m->expect[pos + 1])
				FAIL("patch at %zu: value %02x%02x, expected %02x%02x",
				     pos, p->val[0], p->val[1], m->expect[pos],
				     m->expect[pos + 1]);
			return;
		}
	}
	FAIL("patch at stream offset %zu is no rewrite asked for", pos);
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

static void apply(struct model *m, const struct cs_patch *pt, int n,
		  struct seg *s)
{
	cs_apply(pt, n, m->isn + (uint32_t)s->pos, s->b, s->len, NULL, NULL);
}

static void build_stream(struct model *m, struct in *in, int synth)
{
	if (!synth) {
		m->slen = in->len < STREAM_MAX ? in->len : STREAM_MAX;
		memcpy(m->orig, in->p, m->slen);
		return;
	}
	{
		size_t nmsg = take(in), i;
		uint8_t desc[256];

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model *m = &M;
	struct in in = { data, size };
	struct ctlstream s;
	struct cs_hooks hooks = { on_decide, on_complete };
	uint8_t segdesc[2 * 256];
	size_t nseg, i;

	memset(m->out_set, 0, sizeof(m->out_set));
	memset(m->attempts, 0, sizeof(m->attempts));
	m->nheld = 0;
	m->ncomplete = 0;
	m->isn = (uint32_t)take(&in) << 24 | (uint32_t)take(&in) << 16 |
		 (uint32_t)take(&in) << 8 | take(&in);
	m->cfg = take(&in);
	nseg = take(&in);
	for (i = 0; i < 2 * nseg; i++)
		segdesc[i] = take(&in);
	build_stream(m, &in, m->cfg & 0x01);
	model_stream(m);

	cs_sync(&s, m->isn);
	for (i = 0; i < nseg; i++) {
		uint8_t a = segdesc[2 * i], b = segdesc[2 * i + 1];
		size_t next = (uint32_t)(s.next - m->isn), pos, len, fed;
		struct cs_patch pt[CS_MAX_PATCH];
		struct seg cur;
		enum cs_result r;
		int np = -1, k, release;

		if (next > m->slen)
			FAIL("stream parsed to %zu, beyond the %zu bytes sent",
			     next, m->slen);
		if (a & 0x80) {
			pos = next;
		} else {
			long d = (long)next + (long)(a & 0x7f) - 96;

			pos = d < 0 ? 0 : (size_t)d;
		}
		if (pos > m->slen)
			pos = m->slen;
		len = b & 0x80 ? (size_t)(b & 0x7f) * 32 : b;
		if (pos + len > m->slen)
			len = m->slen - pos;
		cur.pos = pos;
		cur.len = len;
		cur.b = malloc(len ? len : 1);
		memcpy(cur.b, m->orig + pos, len);

		r = cs_feed(&s, m->isn + (uint32_t)pos, cur.b, len, &hooks, m,
			    pt, &np);
		if (np < 0 || np > CS_MAX_PATCH)
			FAIL("npatch %d", np);
		if (s.msg_len > PPTP_MAX_LEN || s.msg_have > PPTP_MAX_LEN ||
		    (s.msg_len && s.msg_have > s.msg_len))
			FAIL("message state %u/%u", s.msg_have, s.msg_len);
		fed = (uint32_t)(s.next - m->isn);
		if (fed > m->slen)
			FAIL("stream parsed to %zu, beyond the %zu bytes sent",
			     fed, m->slen);
		if (r == CS_PASS || r == CS_HOLD)
			for (k = 0; k < np; k++)
				check_patch(m, &pt[k], fed);
		if (CS_IGNORE_PATCH_CAP && np == CS_MAX_PATCH) {
			/* Rewrites past the cap may be lost: known, skip. */
			seg_free(&cur);
			break;
		}

		switch (r) {
		case CS_PASS:
			/*
			 * Held segments go when the message they began has
			 * its rewrites decided; a PASS of a retransmission
			 * (or of an empty segment) says nothing about them.
			 */
			release = CS_GW_RELEASE ||
				  !(s.msg_have > 0 && !s.decided);
			for (k = 0; release && k < (int)m->nheld; k++) {
				apply(m, pt, np, &m->held[k]);
				forward(m, &m->held[k]);
			}
			if (release)
				drop_held(m);
			else
				for (k = 0; k < (int)m->nheld; k++)
					apply(m, pt, np, &m->held[k]);
			apply(m, pt, np, &cur);
			forward(m, &cur);
			seg_free(&cur);
			break;
		case CS_HOLD:
			if (!CS_GW_RELEASE)
				for (k = 0; k < (int)m->nheld; k++)
					apply(m, pt, np, &m->held[k]);
			apply(m, pt, np, &cur);
			if (m->nheld == SEG_MAX)
				FAIL("too many held segments");
			m->held[m->nheld++] = cur;
			break;
		case CS_OOO:
			if (len == 0 || pos <= next)
				FAIL("out of order at %zu, next %zu", pos, next);
			seg_free(&cur);
			break;
		case CS_DROP:
		case CS_ERROR:
			drop_held(m);
			seg_free(&cur);
			break;
		default:
			FAIL("result %d", (int)r);
		}
		if (r == CS_ERROR && s.state != CS_BROKEN)
			FAIL("error but not broken");
		/*
		 * CS_DROP makes the caller drop its held segments, so the
		 * stream must forget the undecided bytes they carried
		 * ("the stream rewound"); otherwise it waits for bytes that
		 * only a retransmission brings, and drops that too.
		 */
		if (CS_CHECK_REWIND && r == CS_DROP && s.msg_have > 0 &&
		    !s.decided)
			FAIL("CS_DROP left %u undecided bytes of the message at "
			     "%u parsed (next %u): not rewound", s.msg_have,
			     (unsigned)(s.msg_start - m->isn),
			     (unsigned)(s.next - m->isn));
	}
	drop_held(m);
	return 0;
}
