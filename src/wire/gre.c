#include "wire/gre.h"
#include "wire/rd.h"

static const char *const gre_errs[GRE_ERR_COUNT] = {
	[GRE_OK] = "ok",
	[GRE_ERR_SHORT] = "truncated GRE header",
	[GRE_ERR_VERSION] = "GRE version is not 1",
	[GRE_ERR_FLAGS] = "GRE flags not those of PPTP",
	[GRE_ERR_PROTO] = "GRE protocol is not PPP",
	[GRE_ERR_LENGTH] = "GRE payload length beyond packet",
};

const char *gre_strerror(enum gre_err e)
{
	return (unsigned)e < GRE_ERR_COUNT ? gre_errs[e] : "?";
}

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_SS 0x0800
#define GRE_RECUR 0x0700
#define GRE_A 0x0080
#define GRE_RSVD 0x0078   /* flags RFC 2637 requires to be zero */
#define GRE_VER 0x0007

enum gre_err gre_parse(const uint8_t *p, size_t len, struct gre_info *g)
{
	struct rd r = rd_init(p, len);
	uint16_t fl, proto;

	if (rd_u16(&r, &fl) || rd_u16(&r, &proto) ||
	    rd_u16(&r, &g->payload_len) || rd_u16(&r, &g->call_id))
		return GRE_ERR_SHORT;
	if ((fl & GRE_VER) != 1)
		return GRE_ERR_VERSION;
	if (fl & (GRE_C | GRE_R | GRE_SS | GRE_RECUR | GRE_RSVD) ||
	    !(fl & GRE_K))
		return GRE_ERR_FLAGS;
	if (proto != GRE_PROTO_PPP)
		return GRE_ERR_PROTO;
	g->has_seq = !!(fl & GRE_S);
	g->has_ack = !!(fl & GRE_A);
	g->seq = g->ack = 0;
	if (g->has_seq && rd_u32(&r, &g->seq))
		return GRE_ERR_SHORT;
	if (g->has_ack && rd_u32(&r, &g->ack))
		return GRE_ERR_SHORT;
	g->hdr_len = len - r.len;
	if (g->payload_len > r.len)
		return GRE_ERR_LENGTH;
	return GRE_OK;
}

size_t gre_build(const struct gre_info *g, uint8_t *out, size_t outlen)
{
	size_t n = 8 + (g->has_seq ? 4 : 0) + (g->has_ack ? 4 : 0);
	uint16_t fl = GRE_K | 1;

	if (outlen < n)
		return 0;
	if (g->has_seq)
		fl |= GRE_S;
	if (g->has_ack)
		fl |= GRE_A;
	be16_put(out, fl);
	be16_put(out + 2, GRE_PROTO_PPP);
	be16_put(out + 4, g->payload_len);
	be16_put(out + 6, g->call_id);
	n = 8;
	if (g->has_seq) {
		be32_put(out + n, g->seq);
		n += 4;
	}
	if (g->has_ack) {
		be32_put(out + n, g->ack);
		n += 4;
	}
	return n;
}

void gre_set_call_id(uint8_t *p, uint16_t id)
{
	be16_put(p + GRE_CALLID_OFF, id);
}
