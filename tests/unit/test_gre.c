/*
 * Unit tests for gre.c: enhanced GRE (RFC 2637 section 4.1) parse and build.
 * The flag word is checked exhaustively against a small model of the rules
 * in the PPTP facts: C=0 R=0 K=1 s=0 recursion=0, the four reserved flag
 * bits zero, version 1; S and A free and each adding four header bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/gre.h"

/* Parse from an exact-size heap copy, so ASan sees any over-read. */
static enum gre_err parse_exact(const uint8_t *p, size_t len,
				struct gre_info *g)
{
	uint8_t *b = malloc(len ? len : 1);
	enum gre_err e;

	memcpy(b, p, len);
	e = gre_parse(b, len, g);
	free(b);
	return e;
}

/*
 * A header: flag word, protocol, payload length, call id, then sequence and
 * acknowledgment when S and A say so, then plen payload bytes.  Returns the
 * total length.
 */
static size_t mk(uint8_t *p, uint16_t fl, uint16_t proto, uint16_t plen,
		 uint16_t call, uint32_t seq, uint32_t ack, size_t payload)
{
	size_t n = 8, i;

	check_put16(p, fl);
	check_put16(p + 2, proto);
	check_put16(p + 4, plen);
	check_put16(p + 6, call);
	if (fl & 0x1000) {
		check_put32(p + n, seq);
		n += 4;
	}
	if (fl & 0x0080) {
		check_put32(p + n, ack);
		n += 4;
	}
	for (i = 0; i < payload; i++)
		p[n + i] = (uint8_t)(0xC0 + i);
	return n + payload;
}

/* The PPTP facts' rule for the flag word. */
static enum gre_err model_flags(uint16_t fl)
{
	if ((fl & 7) != 1)
		return GRE_ERR_VERSION;
	if (fl & 0xC000 || fl & 0x0800 || fl & 0x0700 || !(fl & 0x2000))
		return GRE_ERR_FLAGS;
	if (fl & 0x0078)
		return GRE_ERR_FLAGS;  /* reserved flag bits 9..12 */
	return GRE_OK;
}

static void test_flags_exhaustive(void)
{
	uint8_t buf[64];
	uint32_t fl;
	int mism = 0, reserved_mism = 0, ok = 0;

	for (fl = 0; fl <= 0xffff; fl++) {
		struct gre_info g;
		enum gre_err want = model_flags((uint16_t)fl), got;
		size_t hl = 8 + (fl & 0x1000 ? 4 : 0) + (fl & 0x0080 ? 4 : 0);
		size_t n = mk(buf, (uint16_t)fl, GRE_PROTO_PPP, 3, 0x9c51,
			      0x11223344, 0x55667788, 3);

		got = gre_parse(buf, n, &g);
		if (got != want) {
			/* Reserved-bit cases are counted on their own below. */
			if (model_flags((uint16_t)(fl & ~0x0078)) == got &&
			    fl & 0x0078)
				reserved_mism++;
			else
				mism++;
			if (mism + reserved_mism <= 3)
				fprintf(stderr, "  flags 0x%04x: expected %d, got %d\n",
					(unsigned)fl, want, got);
			continue;
		}
		if (got != GRE_OK)
			continue;
		ok++;
		if (g.hdr_len != hl || g.has_seq != !!(fl & 0x1000) ||
		    g.has_ack != !!(fl & 0x0080) || g.payload_len != 3 ||
		    g.call_id != 0x9c51 ||
		    g.seq != (fl & 0x1000 ? 0x11223344u : 0) ||
		    g.ack != (fl & 0x0080 ? 0x55667788u : 0))
			mism++;
	}
	CHECK_EQ(0, mism);
	/* RFC 2637 and the facts' mask 0xEF7FFFFF: bits 9..12 must be 0. */
	CHECK_EQ(0, reserved_mism);
	CHECK_EQ(4, ok);
}

static void test_good(void)
{
	static const struct {
		uint16_t fl;
		size_t hdr;
		int s, a;
	} cases[] = {
		{ 0x2001, 8, 0, 0 },
		{ 0x3001, 12, 1, 0 },
		{ 0x2081, 12, 0, 1 },
		{ 0x3081, 16, 1, 1 },
	};
	static const size_t payloads[] = { 0, 1, 4, 1460 };
	static uint8_t buf[2000];
	size_t i, j;

	for (i = 0; i < 4; i++) {
		for (j = 0; j < 4; j++) {
			struct gre_info g;
			size_t n = mk(buf, cases[i].fl, GRE_PROTO_PPP,
				      (uint16_t)payloads[j], 0xBEEF, 0xFFFFFFFF,
				      0x00000001, payloads[j]);

			memset(&g, 0xEE, sizeof(g));
			CHECK_EQ(GRE_OK, parse_exact(buf, n, &g));
			CHECK_EQ(cases[i].hdr, g.hdr_len);
			CHECK_EQ(cases[i].s, g.has_seq);
			CHECK_EQ(cases[i].a, g.has_ack);
			CHECK_EQ(payloads[j], g.payload_len);
			CHECK_EQ(0xBEEF, g.call_id);
			CHECK_EQ(cases[i].s ? 0xFFFFFFFFu : 0, g.seq);
			CHECK_EQ(cases[i].a ? 1 : 0, g.ack);
			/* Trailing bytes beyond the payload length are fine. */
			CHECK_EQ(GRE_OK, parse_exact(buf, n + 7 > sizeof(buf) ?
						     n : n + 7, &g));
		}
	}

	/* Ack-only: A set, S clear, nothing after the header. */
	{
		struct gre_info g;
		uint8_t b[12] = { 0x20, 0x81, 0x88, 0x0b, 0x00, 0x00,
				  0x00, 0x80, 0x00, 0x00, 0x01, 0x02 };

		CHECK_EQ(GRE_OK, parse_exact(b, 12, &g));
		CHECK_EQ(12, g.hdr_len);
		CHECK_EQ(0, g.has_seq);
		CHECK_EQ(1, g.has_ack);
		CHECK_EQ(0, g.payload_len);
		CHECK_EQ(0x0080, g.call_id);
		CHECK_EQ(0x0102, g.ack);
	}
}

static void test_errors(void)
{
	static const uint16_t combos[] = { 0x2001, 0x3001, 0x2081, 0x3081 };
	static const uint16_t protos[] = { 0x0000, 0x0800, 0x86DD, 0x880A,
					   0x880C, 0x0B88, 0xFFFF, 0x8881 };
	static const struct { uint16_t fl; enum gre_err e; } flags[] = {
		{ 0x2000, GRE_ERR_VERSION },  /* version 0: plain GRE */
		{ 0x3082, GRE_ERR_VERSION },
		{ 0x2007, GRE_ERR_VERSION },
		{ 0xA001, GRE_ERR_FLAGS },    /* C */
		{ 0x6001, GRE_ERR_FLAGS },    /* R */
		{ 0x2801, GRE_ERR_FLAGS },    /* s (strict source route) */
		{ 0x2101, GRE_ERR_FLAGS },    /* recursion 1 */
		{ 0x2701, GRE_ERR_FLAGS },    /* recursion 7 */
		{ 0x0001, GRE_ERR_FLAGS },    /* K clear */
		{ 0x1081, GRE_ERR_FLAGS },    /* K clear, S and A */
		{ 0xFFFF, GRE_ERR_VERSION },
		{ 0xFFF9, GRE_ERR_FLAGS },
	};
	uint8_t buf[64];
	struct gre_info g;
	size_t i, len;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		size_t n = mk(buf, flags[i].fl, GRE_PROTO_PPP, 0, 1, 2, 3, 0);

		CHECK_EQ(flags[i].e, parse_exact(buf, n, &g));
	}
	for (i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		size_t j, n;

		for (j = 0; j < sizeof(protos) / sizeof(protos[0]); j++) {
			n = mk(buf, combos[i], protos[j], 0, 1, 2, 3, 0);
			CHECK_EQ(GRE_ERR_PROTO, parse_exact(buf, n, &g));
		}

		/* Every truncated length, for every S/A combination. */
		n = mk(buf, combos[i], GRE_PROTO_PPP, 0, 1, 2, 3, 0);
		for (len = 0; len < n; len++)
			CHECK_EQ(GRE_ERR_SHORT, parse_exact(buf, len, &g));
		CHECK_EQ(GRE_OK, parse_exact(buf, n, &g));

		/* Payload length one beyond the packet, and far beyond. */
		n = mk(buf, combos[i], GRE_PROTO_PPP, 11, 1, 2, 3, 10);
		CHECK_EQ(GRE_ERR_LENGTH, parse_exact(buf, n, &g));
		CHECK_EQ(GRE_OK, parse_exact(buf, n + 1 > sizeof(buf) ? n : n + 1,
					     &g));
		n = mk(buf, combos[i], GRE_PROTO_PPP, 0xFFFF, 1, 2, 3, 10);
		CHECK_EQ(GRE_ERR_LENGTH, parse_exact(buf, n, &g));
		n = mk(buf, combos[i], GRE_PROTO_PPP, 1, 1, 2, 3, 0);
		CHECK_EQ(GRE_ERR_LENGTH, parse_exact(buf, n, &g));
	}

	/* A truncated header is reported as such before its flags are. */
	mk(buf, 0xA000, 0x0800, 0, 0, 0, 0, 0);
	for (len = 0; len < 8; len++)
		CHECK_EQ(GRE_ERR_SHORT, parse_exact(buf, len, &g));

	for (i = 0; i < GRE_ERR_COUNT; i++) {
		const char *s = gre_strerror((enum gre_err)i);

		CHECK(s && *s && strcmp(s, "?") != 0);
	}
	CHECK(strcmp(gre_strerror(GRE_ERR_COUNT), "?") == 0);
	CHECK(strcmp(gre_strerror((enum gre_err)-1), "?") == 0);
}

static void test_build(void)
{
	uint8_t out[32], want[32], pkt[64];
	int s, a, iter;

	for (iter = 0; iter < 200; iter++) {
		for (s = 0; s < 2; s++) {
			for (a = 0; a < 2; a++) {
				struct gre_info in, got;
				size_t n, wn, plen = check_rand() % 16;

				memset(&in, 0, sizeof(in));
				in.has_seq = s ? (int)(1 + check_rand() % 3) : 0;
				in.has_ack = a ? (int)(1 + check_rand() % 3) : 0;
				in.seq = check_rand();
				in.ack = check_rand();
				in.call_id = (uint16_t)check_rand();
				in.payload_len = (uint16_t)plen;
				if (iter == 0) {
					in.seq = in.ack = 0xFFFFFFFF;
					in.call_id = 0xFFFF;
				} else if (iter == 1) {
					in.seq = in.ack = 0;
					in.call_id = 0;
				}
				wn = mk(want, (uint16_t)(0x2001 | (s ? 0x1000 : 0) |
							 (a ? 0x0080 : 0)),
					GRE_PROTO_PPP, in.payload_len, in.call_id,
					in.seq, in.ack, 0);
				memset(out, 0xA5, sizeof(out));
				n = gre_build(&in, out, sizeof(out));
				CHECK_EQ(wn, n);
				CHECK_MEM(want, out, wn);
				/* Nothing written past the header. */
				CHECK_EQ(0xA5, out[n]);

				/* Room for exactly the header is enough. */
				memset(out, 0xA5, sizeof(out));
				CHECK_EQ(wn, gre_build(&in, out, wn));

				memcpy(pkt, out, n);
				memset(pkt + n, 0x7e, plen);
				memset(&got, 0xEE, sizeof(got));
				CHECK_EQ(GRE_OK, parse_exact(pkt, n + plen, &got));
				CHECK_EQ(n, got.hdr_len);
				CHECK_EQ(s, got.has_seq);
				CHECK_EQ(a, got.has_ack);
				CHECK_EQ(in.call_id, got.call_id);
				CHECK_EQ(in.payload_len, got.payload_len);
				CHECK_EQ(s ? in.seq : 0, got.seq);
				CHECK_EQ(a ? in.ack : 0, got.ack);
			}
		}
	}

	/* Short buffers: 0 and nothing written, for every size below. */
	for (s = 0; s < 2; s++) {
		for (a = 0; a < 2; a++) {
			struct gre_info in = { 8, 0x1234, s, a, 5, 6, 0 };
			size_t need = 8 + (size_t)(4 * s + 4 * a), len;

			for (len = 0; len < need; len++) {
				memset(out, 0xA5, sizeof(out));
				CHECK_EQ(0, gre_build(&in, out, len));
				CHECK_EQ(0xA5, out[0]);
				CHECK_EQ(0xA5, out[len ? len - 1 : 0]);
			}
		}
	}
}

/* The Call ID changes in place; every other byte and the parse stay. */
static void test_set_call_id(void)
{
	uint8_t p[32], orig[32];
	struct gre_info g;
	int s, a;

	for (s = 0; s < 2; s++)
		for (a = 0; a < 2; a++) {
			size_t n = mk(p, (uint16_t)(0x2001 | (s ? 0x1000 : 0) |
						    (a ? 0x0080 : 0)),
				      GRE_PROTO_PPP, 4, 0x1234, 7, 9, 0);

			memset(p + n, 0x7e, 4);
			memcpy(orig, p, n + 4);
			gre_set_call_id(p, 0xBEEF);
			CHECK_EQ(0xBE, p[6]);
			CHECK_EQ(0xEF, p[7]);
			CHECK_MEM(orig, p, 6);
			CHECK_MEM(orig + 8, p + 8, n + 4 - 8);
			CHECK_EQ(GRE_OK, parse_exact(p, n + 4, &g));
			CHECK_EQ(0xBEEF, g.call_id);
			CHECK_EQ(s, g.has_seq);
			CHECK_EQ(a, g.has_ack);
		}
}

static const struct check_case cases[] = {
	CHECK_CASE(flags_exhaustive),
	CHECK_CASE(good),
	CHECK_CASE(errors),
	CHECK_CASE(build),
	CHECK_CASE(set_call_id),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
