#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/pptp_msg.h"
#include "wire/rd.h"

#define HDR_LEN 16          /* magic, version, body length */
#define TRAILER_LEN 4

static const char *const err_names[STATE_ERR_COUNT] = {
	"ok", "truncated", "not a pptpgw state file",
	"another version of the format", "checksum mismatch",
	"written before the last boot", "written in the future",
	"a field out of range", "records that do not fit the tables",
	"out of memory",
};

const char *state_strerror(enum state_err e)
{
	return (unsigned)e < STATE_ERR_COUNT ? err_names[e] : "?";
}

/* ---- checksum ------------------------------------------------------------ */

/*
 * Table-driven, eight bytes a step ("slicing by 8"): the checksum is most of
 * an image's cost otherwise.
 */
static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	uint32_t i, k;

	for (i = 0; i < 256; i++) {
		uint32_t v = i;

		for (k = 0; k < 8; k++)
			v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
		crc_tab[0][i] = v;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_tab[k][i] = (crc_tab[k - 1][i] >> 8) ^
					crc_tab[0][crc_tab[k - 1][i] & 0xff];
}

uint32_t state_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	if (!crc_tab[0][1])
		crc_init();
	for (; n >= 8; p += 8, n -= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

		c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		    crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		    crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^
		    crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
	}
	while (n--)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- writing ------------------------------------------------------------- */

void state_buf_free(struct state_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static uint8_t *room(struct state_buf *b, size_t n)
{
	if (b->nomem)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->nomem = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

static void put_bytes(struct state_buf *b, const void *v, size_t n)
{
	uint8_t *p = room(b, n);

	if (p && n)
		memcpy(p, v, n);
}

static void put_u8(struct state_buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u16(struct state_buf *b, uint16_t v)
{
	uint8_t x[2];

	be16_put(x, v);
	put_bytes(b, x, 2);
}

static void put_u32(struct state_buf *b, uint32_t v)
{
	uint8_t x[4];

	be32_put(x, v);
	put_bytes(b, x, 4);
}

static void put_u64(struct state_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

static void put_stream(struct state_buf *b, const struct ctlstream *s)
{
	uint16_t i, have = s->msg_have;
	size_t kept;
	uint8_t decided = s->decided;
	uint8_t *p;

	/*
	 * Bytes of an undecided ID region sit in held segments that never
	 * left: the image says they were never parsed (cs_rewind: the header
	 * stays), and the sender's retransmission brings them to the next
	 * process.
	 */
	if (cs_holding(s)) {
		have = s->msg_len ? PPTP_HDR_LEN : 0;
		decided = 0;
	}
	p = room(b, 27 + have + (size_t)s->hist_n * 6);
	if (!p)
		return;
	p[0] = s->state;
	p[1] = decided;
	p[2] = s->err;
	be16_put(p + 3, s->msg_len);
	be16_put(p + 5, have);
	be16_put(p + 7, s->hist_n);
	be16_put(p + 9, s->hist_pos);
	be32_put(p + 11, s->msg_start + have);
	be32_put(p + 15, s->msg_start);
	be32_put(p + 19, s->hist_floor);
	be32_put(p + 23, s->msgs);
	memcpy(p + 27, s->msg, have);
	p += 27 + have;
	for (i = 0; i < s->hist_n; i++, p += 6) {
		be32_put(p, s->hist[i].seq);
		p[4] = s->hist[i].val[0];
		p[5] = s->hist[i].val[1];
	}
	/* The bytes first parsed, which retransmissions must repeat. */
	for (i = 0, kept = 4; i < s->seen_n; i++)
		kept += 5 + s->seen[i].n;
	p = room(b, kept);
	if (!p)
		return;
	be16_put(p, s->seen_n);
	be16_put(p + 2, s->seen_pos);
	p += 4;
	for (i = 0; i < s->seen_n; i++) {
		be32_put(p, s->seen[i].seq);
		p[4] = s->seen[i].n;
		memcpy(p + 5, s->seen[i].b, s->seen[i].n);
		p += 5 + s->seen[i].n;
	}
}

static void put_conn(struct state_buf *b, uint32_t slot, const struct conn *c)
{
	put_u32(b, slot);
	put_u8(b, c->state);
	put_u8(b, c->inside_opened);
	put_u8(b, c->fin_seen);
	put_u8(b, c->pub_known);
	put_u8(b, c->answered);
	put_u16(b, c->inside_port);
	put_u16(b, c->outside_port);
	put_u16(b, c->pub_port);
	put_u16(b, c->max_channels);
	put_u32(b, c->inside);
	put_u32(b, c->outside);
	put_u32(b, c->pub);
	put_u32(b, c->opener);
	put_u64(b, c->created);
	put_u64(b, c->last_seen);
	put_u64(b, c->state_since);
	put_stream(b, &c->stream[0]);
	put_stream(b, &c->stream[1]);
}

static void put_call(struct state_buf *b, uint32_t slot, const struct call *c)
{
	put_u32(b, slot);
	put_u8(b, c->state);
	put_u8(b, c->peer_known);
	put_u8(b, c->inside_pns);
	put_u16(b, c->inside_id);
	put_u16(b, c->peer_id);
	put_u16(b, c->alias);
	put_u32(b, c->conn);
	put_u32(b, c->inside);
	put_u32(b, c->outside);
	put_u32(b, c->pub);
	put_u64(b, c->created);
	put_u64(b, c->last_seen);
	put_u64(b, c->state_since);
	put_u64(b, c->pkts[0]);
	put_u64(b, c->pkts[1]);
	put_u64(b, c->bytes[0]);
	put_u64(b, c->bytes[1]);
}

int state_encode(const struct gw *g, const struct state_meta *m,
		 struct state_buf *b)
{
	const struct calltab *t = &g->tab;
	uint32_t i, n, *order = NULL;
	size_t at;

	b->len = 0;
	b->nomem = 0;
	put_bytes(b, STATE_MAGIC, 8);
	put_u32(b, STATE_VERSION);
	put_u32(b, 0);                 /* body length, below */
	put_bytes(b, m->boot_id, 16);
	put_u64(b, m->now);
	put_u32(b, t->nconns_used);
	for (i = 0; i < t->cfg.max_conns; i++)
		if (t->conns[i].state != CONN_FREE)
			put_conn(b, i, &t->conns[i]);
	put_u32(b, t->ncalls_used + t->nrefused);
	/*
	 * Each connection's calls from the last of its list to the first:
	 * restoring links each at the head, which gives the list back in
	 * its order.
	 */
	if (t->ncalls_used + t->nrefused) {
		order = malloc((t->ncalls_used + t->nrefused) * sizeof(*order));
		if (!order)
			return -1;
	}
	for (i = 0; i < t->cfg.max_conns; i++) {
		uint32_t k;

		if (t->conns[i].state == CONN_FREE)
			continue;
		n = 0;
		for (k = t->conns[i].first_call; k != SLOT_NONE &&
		     n < t->ncalls_used + t->nrefused; k = t->calls[k].next_in_conn)
			order[n++] = k;
		while (n-- > 0)
			put_call(b, order[n], &t->calls[order[n]]);
	}
	free(order);
	n = alias_holds(&g->aliases);
	put_u32(b, n);
	for (i = 0; i < n; i++) {
		const struct alias_hold *h = alias_hold_at(&g->aliases, i);

		put_u32(b, h->pub);
		put_u32(b, h->outside);
		put_u16(b, h->alias);
		put_u64(b, h->until);
	}
	if (b->nomem)
		return -1;
	be32_put(b->p + 12, (uint32_t)(b->len - HDR_LEN));
	at = b->len;
	put_u32(b, state_crc32(b->p, at));
	return b->nomem ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------- */

static int rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (rd_u32(r, &hi) < 0 || rd_u32(r, &lo) < 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* Reads fail as one: the first short read sets bad, the rest do nothing. */
struct rdx {
	struct rd r;
	int bad;
};

static uint8_t g8(struct rdx *x)
{
	uint8_t v = 0;

	if (!x->bad && rd_u8(&x->r, &v) < 0)
		x->bad = 1;
	return v;
}

static uint16_t g16(struct rdx *x)
{
	uint16_t v = 0;

	if (!x->bad && rd_u16(&x->r, &v) < 0)
		x->bad = 1;
	return v;
}

static uint32_t g32(struct rdx *x)
{
	uint32_t v = 0;

	if (!x->bad && rd_u32(&x->r, &v) < 0)
		x->bad = 1;
	return v;
}

static uint64_t g64(struct rdx *x)
{
	uint64_t v = 0;

	if (!x->bad && rd_u64(&x->r, &v) < 0)
		x->bad = 1;
	return v;
}

static void gbytes(struct rdx *x, void *dst, size_t n)
{
	if (!x->bad && rd_bytes(&x->r, dst, n) < 0)
		x->bad = 1;
}

/* A stream as ctlstream.c could have left it, or a reason it could not. */
static const char *get_stream(struct rdx *x, struct ctlstream *s)
{
	uint16_t i, type, mlen;

	memset(s, 0, sizeof(*s));
	s->state = g8(x);
	s->decided = g8(x);
	s->err = g8(x);
	s->msg_len = g16(x);
	s->msg_have = g16(x);
	s->hist_n = g16(x);
	s->hist_pos = g16(x);
	s->next = g32(x);
	s->msg_start = g32(x);
	s->hist_floor = g32(x);
	s->msgs = g32(x);
	if (x->bad)
		return NULL;
	if (s->state > CS_BROKEN || s->decided > 1)
		return "stream state";
	if (s->msg_have > PPTP_MAX_LEN ||
	    (s->msg_len == 0 && s->msg_have >= PPTP_HDR_LEN) ||
	    (s->msg_len && (s->msg_len < PPTP_HDR_LEN ||
			    s->msg_len > PPTP_MAX_LEN ||
			    s->msg_have < PPTP_HDR_LEN ||
			    s->msg_have > s->msg_len)))
		return "stream message length";
	/* The parser's invariant: next is always where the message stands. */
	if (s->next != s->msg_start + s->msg_have)
		return "stream position";
	if (s->hist_n > CS_HIST || s->hist_pos >= CS_HIST ||
	    (s->hist_n < CS_HIST && s->hist_pos != s->hist_n))
		return "stream history";
	gbytes(x, s->msg, s->msg_have);
	if (!x->bad && s->msg_len &&
	    (pptp_hdr_check(s->msg, PPTP_HDR_LEN, &type, &mlen) != PPTP_OK ||
	     mlen != s->msg_len))
		return "stream message header";
	for (i = 0; i < s->hist_n; i++) {
		s->hist[i].seq = g32(x);
		gbytes(x, s->hist[i].val, 2);
	}
	s->seen_n = g16(x);
	s->seen_pos = g16(x);
	if (x->bad)
		return NULL;
	if (s->seen_n > CS_SEEN || s->seen_pos >= CS_SEEN ||
	    (s->seen_n < CS_SEEN && s->seen_pos != s->seen_n))
		return "stream kept bytes";
	for (i = 0; i < s->seen_n; i++) {
		s->seen[i].seq = g32(x);
		s->seen[i].n = g8(x);
		if (s->seen[i].n > CS_KEEP)
			return "stream kept bytes";
		gbytes(x, s->seen[i].b, s->seen[i].n);
	}
	return NULL;
}

static const char *get_conn(struct rdx *x, uint32_t *slot, struct conn *c)
{
	const char *bad;

	memset(c, 0, sizeof(*c));
	*slot = g32(x);
	c->state = g8(x);
	c->inside_opened = g8(x);
	c->fin_seen = g8(x);
	c->pub_known = g8(x);
	c->answered = g8(x);
	c->inside_port = g16(x);
	c->outside_port = g16(x);
	c->pub_port = g16(x);
	c->max_channels = g16(x);
	c->inside = g32(x);
	c->outside = g32(x);
	c->pub = g32(x);
	c->opener = g32(x);
	c->created = g64(x);
	c->last_seen = g64(x);
	c->state_since = g64(x);
	if (x->bad)
		return NULL;
	if ((c->state != CONN_OPEN && c->state != CONN_CLOSING) ||
	    c->inside_opened > 1 || c->fin_seen > 3 || c->pub_known > 1 ||
	    c->answered > 1)
		return "connection flags";
	if ((bad = get_stream(x, &c->stream[0])) ||
	    (bad = get_stream(x, &c->stream[1])))
		return bad;
	return NULL;
}

static const char *get_call(struct rdx *x, uint32_t *slot, struct call *c)
{
	memset(c, 0, sizeof(*c));
	*slot = g32(x);
	c->state = g8(x);
	c->peer_known = g8(x);
	c->inside_pns = g8(x);
	c->inside_id = g16(x);
	c->peer_id = g16(x);
	c->alias = g16(x);
	c->conn = g32(x);
	c->inside = g32(x);
	c->outside = g32(x);
	c->pub = g32(x);
	c->created = g64(x);
	c->last_seen = g64(x);
	c->state_since = g64(x);
	c->pkts[0] = g64(x);
	c->pkts[1] = g64(x);
	c->bytes[0] = g64(x);
	c->bytes[1] = g64(x);
	if (x->bad)
		return NULL;
	if (c->state == CALL_FREE || c->state >= CALL_STATE_COUNT ||
	    c->peer_known > 1 || c->inside_pns > 1)
		return "call flags";
	return NULL;
}

/* Back to an empty table with g's own settings. */
static enum state_err reset(struct gw *g, enum state_err e)
{
	struct gw_cfg cfg = g->cfg;
	struct gw_hooks hooks = g->hooks;
	struct calltab_cfg tcfg = g->tab.cfg;

	gw_destroy(g);
	if (gw_init(g, &cfg, &tcfg, &hooks) < 0)
		return STATE_NOMEM;
	return e;
}

static enum state_err fail(char *why, size_t n, enum state_err e,
			   const char *fmt, const char *what, uint32_t i)
{
	if (why && n)
		snprintf(why, n, fmt, state_strerror(e), what ? what : "", i);
	return e;
}

/* The header and the trailer: whether the body can be trusted at all. */
static enum state_err check_frame(const uint8_t *img, size_t len,
				  char *why, size_t n)
{
	uint32_t version, body;

	if (len < 8 || memcmp(img, STATE_MAGIC, 8) != 0)
		return fail(why, n, len < 8 ? STATE_SHORT : STATE_MAGIC_BAD,
			    "%s%s", "", 0);
	if (len < HDR_LEN)
		return fail(why, n, STATE_SHORT, "%s%s", "", 0);
	version = be32_get(img + 8);
	body = be32_get(img + 12);
	if (version != STATE_VERSION)
		return fail(why, n, STATE_VERSION_BAD,
			    "%s%s (version %u)", "", version);
	if (len - HDR_LEN < TRAILER_LEN || body > len - HDR_LEN - TRAILER_LEN)
		return fail(why, n, STATE_SHORT, "%s%s (%u bytes)", "",
			    (uint32_t)len);
	if (body != len - HDR_LEN - TRAILER_LEN)
		return fail(why, n, STATE_FORMAT,
			    "%s%s: bytes after the image (%u)", "",
			    (uint32_t)len);
	if (be32_get(img + HDR_LEN + body) != state_crc32(img, HDR_LEN + body))
		return fail(why, n, STATE_CHECKSUM, "%s%s", "", 0);
	return STATE_OK;
}

enum state_err state_decode(struct gw *g, const uint8_t *img, size_t len,
			    const struct state_meta *m,
			    struct state_counts *cnt, char *why, size_t n)
{
	struct rdx x;
	uint8_t boot[16];
	uint64_t saved;
	uint32_t i, count, slot;
	enum state_err e;
	const char *bad;
	struct conn c;
	struct call call;

	memset(cnt, 0, sizeof(*cnt));
	if ((e = check_frame(img, len, why, n)) != STATE_OK)
		return e;
	x.r = rd_init(img + HDR_LEN, len - HDR_LEN - TRAILER_LEN);
	x.bad = 0;
	gbytes(&x, boot, sizeof(boot));
	saved = g64(&x);
	if (x.bad)
		return fail(why, n, STATE_SHORT, "%s%s", "", 0);
	if (memcmp(boot, m->boot_id, sizeof(boot)) != 0)
		return fail(why, n, STATE_BOOT, "%s%s", "", 0);
	if (saved > m->now)
		return fail(why, n, STATE_CLOCK, "%s%s", "", 0);

	count = g32(&x);
	for (i = 0; i < count && !x.bad; i++) {
		if ((bad = get_conn(&x, &slot, &c)))
			return reset(g, fail(why, n, STATE_FORMAT,
					     "%s: %s of connection %u", bad, i));
		if (!x.bad && calltab_restore_conn(&g->tab, slot, &c) < 0)
			return reset(g, fail(why, n, STATE_CONFLICT,
					     "%s: connection %s%u", "", slot));
	}
	cnt->conns = count;
	count = g32(&x);
	for (i = 0; i < count && !x.bad; i++) {
		if ((bad = get_call(&x, &slot, &call)))
			return reset(g, fail(why, n, STATE_FORMAT,
					     "%s: %s of call %u", bad, i));
		if (!x.bad && calltab_restore_call(&g->tab, slot, &call) < 0)
			return reset(g, fail(why, n, STATE_CONFLICT,
					     "%s: call %s%u", "", slot));
	}
	cnt->calls = count;
	count = g32(&x);
	for (i = 0; i < count && !x.bad; i++) {
		uint32_t pub = g32(&x), outside = g32(&x);
		uint16_t alias = g16(&x);
		uint64_t until = g64(&x);

		if (!x.bad && alias_hold_restore(&g->aliases, pub, outside,
						 alias, until) < 0)
			return reset(g, fail(why, n, STATE_CONFLICT,
					     "%s: hold-down %s%u", "", i));
	}
	cnt->holds = count;
	if (x.bad)
		return reset(g, fail(why, n, STATE_SHORT, "%s%s", "", 0));
	if (x.r.len != 0)
		return reset(g, fail(why, n, STATE_FORMAT,
				     "%s: %s%u bytes left over", "",
				     (uint32_t)x.r.len));
	calltab_restore_done(&g->tab);
	return STATE_OK;
}
