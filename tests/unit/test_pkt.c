/*
 * Unit tests for pkt.c: IPv4 and TCP header parsing, the Internet checksum,
 * RFC 1624 incremental updates, address rewrites and pkt_view_parse.  Every
 * checksum result is checked against an independent, deliberately naive
 * reference sum, so a shared mistake in pkt.c's own helpers cannot hide
 * itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/pkt.h"

/* ---- helpers -------------------------------------------------------------- */

/* xorshift64*: seeded, so every run checks the same cases. */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Reference ones' complement sum, folded after every addition (the textbook
 * end-around carry), of n bytes padded with a zero byte when n is odd.
 */
static uint16_t ref_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

static uint16_t ref_sum(const uint8_t *p, size_t n, uint16_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s = ref_add(s, (uint16_t)(p[i] << 8 | p[i + 1]));
	if (n & 1)
		s = ref_add(s, (uint16_t)(p[n - 1] << 8));
	return s;
}

/* Sum of the IPv4 header including its checksum: 0xffff when valid. */
static uint16_t ref_ip_verify(const uint8_t *p)
{
	return ref_sum(p, (size_t)(p[0] & 15) * 4, 0);
}

/* Sum over pseudo header and TCP segment including the checksum field. */
static uint16_t ref_tcp_verify(const uint8_t *p)
{
	size_t hlen = (size_t)(p[0] & 15) * 4, tot = get16(p + 2);
	uint16_t s = 0;

	s = ref_sum(p + 12, 8, s);
	s = ref_add(s, 6);
	s = ref_add(s, (uint16_t)(tot - hlen));
	return ref_sum(p + hlen, tot - hlen, s);
}

/* Reference TCP checksum value to store (checksum field taken as 0). */
static uint16_t ref_tcp_csum(const uint8_t *p)
{
	size_t hlen = (size_t)(p[0] & 15) * 4, tot = get16(p + 2);
	uint8_t *copy = malloc(tot);
	uint16_t s;

	memcpy(copy, p, tot);
	copy[hlen + 16] = copy[hlen + 17] = 0;
	s = (uint16_t)~ref_tcp_verify(copy);
	free(copy);
	return s;
}

/* An IPv4 header with the given geometry and a valid checksum. */
static void build_ip(uint8_t *p, size_t hlen, size_t tot, uint8_t proto,
		     uint32_t src, uint32_t dst, uint16_t frag)
{
	size_t i;

	p[0] = (uint8_t)(0x40 | (hlen / 4));
	p[1] = 0;
	check_put16(p + 2, (uint16_t)tot);
	check_put16(p + 4, 0x1234);
	check_put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	p[10] = p[11] = 0;
	check_put32(p + 12, src);
	check_put32(p + 16, dst);
	/* Options: NOPs, then an end-of-list. */
	for (i = 20; i < hlen; i++)
		p[i] = i + 1 == hlen ? 0 : 1;
	check_put16(p + 10, (uint16_t)~ref_sum(p, hlen, 0));
}

/*
 * A complete IPv4+TCP packet with payload bytes from the generator and a
 * valid TCP checksum.  Returns the total length.
 */
static size_t build_tcp(uint8_t *p, size_t hlen, size_t doff, size_t plen,
			uint32_t src, uint32_t dst)
{
	size_t tot = hlen + doff + plen, i;
	uint8_t *t = p + hlen;

	build_ip(p, hlen, tot, IPPROTO_TCP_, src, dst, 0x4000);
	check_put16(t, 40000);
	check_put16(t + 2, 1723);
	check_put32(t + 4, 0x01020304);
	check_put32(t + 8, 0xA0B0C0D0);
	t[12] = (uint8_t)((doff / 4) << 4);
	t[13] = TCPF_ACK;
	check_put16(t + 14, 65535);
	t[16] = t[17] = 0;
	check_put16(t + 18, 0);
	for (i = 20; i < doff; i++)
		t[i] = 1;
	for (i = 0; i < plen; i++)
		t[doff + i] = (uint8_t)check_rand();
	check_put16(t + 16, ref_tcp_csum(p));
	return tot;
}

/* Parse p[0..len) from an exact-size heap copy, so ASan sees over-reads. */
static enum pkt_err parse_exact(const uint8_t *p, size_t len,
				struct ip4_info *ip)
{
	uint8_t *b = malloc(len ? len : 1);
	enum pkt_err e;

	memcpy(b, p, len);
	e = ip4_parse(b, len, ip);
	free(b);
	return e;
}

/* ---- ip4_parse ------------------------------------------------------------ */

static void test_ip4_good(void)
{
	static const struct {
		size_t hlen, tot, buflen;
		uint8_t proto;
		uint16_t frag;
	} cases[] = {
		{ 20, 20, 20, IPPROTO_GRE_, 0 },        /* header only */
		{ 20, 40, 40, IPPROTO_TCP_, 0x4000 },   /* DF is fine */
		{ 20, 40, 100, IPPROTO_TCP_, 0 },       /* trailing bytes */
		{ 24, 64, 64, IPPROTO_GRE_, 0 },
		{ 60, 60, 60, 17, 0 },                  /* IHL 15, no payload */
		{ 60, 1500, 1500, IPPROTO_TCP_, 0x4000 },
	};
	uint8_t buf[1500];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip4_info ip;

		memset(buf, 0xAA, sizeof(buf));
		build_ip(buf, cases[i].hlen, cases[i].tot, cases[i].proto,
			 0xC6130011 + (uint32_t)i, 0xC6120002, cases[i].frag);
		CHECK_EQ(PKT_OK, parse_exact(buf, cases[i].buflen, &ip));
		CHECK_EQ(cases[i].hlen, ip.hlen);
		CHECK_EQ(cases[i].tot, ip.tot_len);
		CHECK_EQ(cases[i].proto, ip.proto);
		CHECK_EQ(0xC6130011 + (uint32_t)i, ip.src);
		CHECK_EQ(0xC6120002, ip.dst);
	}
}

static void test_ip4_errors(void)
{
	uint8_t good[64], b[64];
	struct ip4_info ip;
	size_t len;
	unsigned v, ihl;

	build_ip(good, 20, 40, IPPROTO_TCP_, 0x0A000001, 0x0A000002, 0);
	memset(good + 20, 0x55, 20);

	/* Every length below the minimum header. */
	for (len = 0; len < 20; len++)
		CHECK_EQ(PKT_ERR_SHORT, parse_exact(good, len, &ip));

	/* Every version but 4. */
	for (v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		memcpy(b, good, 40);
		b[0] = (uint8_t)(v << 4 | 5);
		CHECK_EQ(PKT_ERR_VERSION, parse_exact(b, 40, &ip));
	}

	/* IHL below 5. */
	for (ihl = 0; ihl < 5; ihl++) {
		memcpy(b, good, 40);
		b[0] = (uint8_t)(0x40 | ihl);
		CHECK_EQ(PKT_ERR_HLEN, parse_exact(b, 40, &ip));
	}
	/* IHL beyond the buffer: 24-byte header in 20, 60 in 59. */
	memcpy(b, good, 40);
	b[0] = 0x46;
	check_put16(b + 2, 20);
	CHECK_EQ(PKT_ERR_HLEN, parse_exact(b, 20, &ip));
	CHECK_EQ(PKT_ERR_HLEN, parse_exact(b, 23, &ip));
	b[0] = 0x4f;
	check_put16(b + 2, 59);
	CHECK_EQ(PKT_ERR_HLEN, parse_exact(b, 59, &ip));
	check_put16(b + 2, 60);
	memset(b + 20, 1, 40);
	CHECK_EQ(PKT_OK, parse_exact(b, 60, &ip));
	CHECK_EQ(60, ip.hlen);

	/* Total length below the header length. */
	static const struct { uint8_t vihl; uint16_t tot; } lowtot[] = {
		{ 0x45, 0 }, { 0x45, 1 }, { 0x45, 19 },
		{ 0x46, 20 }, { 0x46, 23 }, { 0x4f, 59 },
	};
	size_t i;

	for (i = 0; i < sizeof(lowtot) / sizeof(lowtot[0]); i++) {
		memcpy(b, good, 64);
		memset(b + 20, 1, 44);
		b[0] = lowtot[i].vihl;
		check_put16(b + 2, lowtot[i].tot);
		CHECK_EQ(PKT_ERR_TOTLEN, parse_exact(b, 64, &ip));
	}
	/* Total length beyond the buffer. */
	static const uint16_t hightot[] = { 41, 42, 64, 1500, 65535 };

	for (i = 0; i < sizeof(hightot) / sizeof(hightot[0]); i++) {
		memcpy(b, good, 40);
		check_put16(b + 2, hightot[i]);
		CHECK_EQ(PKT_ERR_TOTLEN, parse_exact(b, 40, &ip));
	}
	/* Exactly the buffer, and one below: both fine. */
	memcpy(b, good, 40);
	CHECK_EQ(PKT_OK, parse_exact(b, 40, &ip));
	check_put16(b + 2, 39);
	CHECK_EQ(PKT_OK, parse_exact(b, 40, &ip));
	CHECK_EQ(39, ip.tot_len);

	/* Fragments: MF, any offset, both; DF alone is not a fragment. */
	static const struct { uint16_t frag; int err; } frags[] = {
		{ 0x0000, PKT_OK },
		{ 0x4000, PKT_OK },           /* DF */
		{ 0x2000, PKT_ERR_FRAGMENT }, /* MF, first fragment */
		{ 0x6000, PKT_ERR_FRAGMENT }, /* DF and MF */
		{ 0x0001, PKT_ERR_FRAGMENT }, /* last fragment, offset 8 */
		{ 0x4001, PKT_ERR_FRAGMENT },
		{ 0x1fff, PKT_ERR_FRAGMENT }, /* largest offset */
		{ 0x2100, PKT_ERR_FRAGMENT }, /* middle fragment */
		{ 0x1000, PKT_ERR_FRAGMENT },
	};

	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		memcpy(b, good, 40);
		check_put16(b + 6, frags[i].frag);
		CHECK_EQ(frags[i].err, parse_exact(b, 40, &ip));
	}

	/* Checks come in order: a short buffer wins over a bad version. */
	memcpy(b, good, 40);
	b[0] = 0x65;
	CHECK_EQ(PKT_ERR_SHORT, parse_exact(b, 19, &ip));
}

/* ---- tcp_parse ------------------------------------------------------------ */

static void test_tcp_parse(void)
{
	static const struct {
		size_t hlen, doff, plen;
	} good[] = {
		{ 20, 20, 0 }, { 20, 20, 1 }, { 20, 20, 10 }, { 20, 24, 7 },
		{ 24, 20, 168 }, { 20, 60, 0 }, { 60, 60, 1000 },
	};
	uint8_t buf[1600];
	struct ip4_info ip;
	struct tcp_info t;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t tot = build_tcp(buf, good[i].hlen, good[i].doff,
				       good[i].plen, 0x0A000001, 0x0A000002);

		CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
		memset(&t, 0xEE, sizeof(t));
		CHECK_EQ(PKT_OK, tcp_parse(buf, &ip, &t));
		CHECK_EQ(40000, t.sport);
		CHECK_EQ(1723, t.dport);
		CHECK_EQ(0x01020304, t.seq);
		CHECK_EQ(0xA0B0C0D0u, t.ack);
		CHECK_EQ(TCPF_ACK, t.flags);
		CHECK_EQ(good[i].hlen, t.off);
		CHECK_EQ(good[i].hlen + good[i].doff, t.payload_off);
		CHECK_EQ(good[i].plen, t.payload_len);
		/* Our builder and the reference sum agree with tcp_csum. */
		CHECK_EQ(0xffff, ref_tcp_verify(buf));
		CHECK_EQ(get16(buf + good[i].hlen + 16), tcp_csum(buf, &ip));
	}

	/* Trailing bytes after the IP total length are not payload. */
	{
		size_t tot = build_tcp(buf, 20, 20, 5, 1, 2);

		CHECK_EQ(PKT_OK, ip4_parse(buf, tot + 30, &ip));
		CHECK_EQ(PKT_OK, tcp_parse(buf, &ip, &t));
		CHECK_EQ(5, t.payload_len);
		CHECK_EQ(40, t.payload_off);
	}

	/* Flags come through as they are. */
	{
		size_t tot = build_tcp(buf, 20, 20, 0, 1, 2);

		buf[33] = TCPF_SYN | TCPF_FIN | TCPF_RST | 0x08;
		CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
		CHECK_EQ(PKT_OK, tcp_parse(buf, &ip, &t));
		CHECK_EQ(TCPF_SYN | TCPF_FIN | TCPF_RST | 0x08, t.flags);
	}

	/* Data offset below 5. */
	for (i = 0; i < 5; i++) {
		size_t tot = build_tcp(buf, 20, 20, 20, 1, 2);

		buf[32] = (uint8_t)(i << 4);
		CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
		CHECK_EQ(PKT_ERR_TCPHDR, tcp_parse(buf, &ip, &t));
	}

	/* Data offset beyond the IP total length (not the buffer). */
	static const struct { size_t tcplen; unsigned doff; int err; } beyond[] = {
		{ 20, 6, PKT_ERR_TCPHDR },
		{ 20, 15, PKT_ERR_TCPHDR },
		{ 23, 6, PKT_ERR_TCPHDR },
		{ 24, 6, PKT_OK },
		{ 59, 15, PKT_ERR_TCPHDR },
		{ 60, 15, PKT_OK },
	};

	for (i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++) {
		memset(buf, 0, 200);
		build_tcp(buf, 20, 20, 100, 1, 2);
		check_put16(buf + 2, (uint16_t)(20 + beyond[i].tcplen));
		buf[32] = (uint8_t)(beyond[i].doff << 4);
		CHECK_EQ(PKT_OK, ip4_parse(buf, 140, &ip));
		CHECK_EQ(beyond[i].err, tcp_parse(buf, &ip, &t));
		if (beyond[i].err == PKT_OK) {
			CHECK_EQ(20 + beyond[i].doff * 4, t.payload_off);
			CHECK_EQ(0, t.payload_len);
		}
	}

	/* Fewer than 20 bytes after the IP header: every length. */
	for (i = 0; i < 20; i++) {
		uint8_t *b = malloc(20 + i);

		build_tcp(buf, 20, 20, 0, 1, 2);
		check_put16(buf + 2, (uint16_t)(20 + i));
		memcpy(b, buf, 20 + i);
		CHECK_EQ(PKT_OK, ip4_parse(b, 20 + i, &ip));
		CHECK_EQ(PKT_ERR_SHORT, tcp_parse(b, &ip, &t));
		free(b);
	}
}

/* ---- checksums ------------------------------------------------------------ */

static void test_csum_known(void)
{
	/* RFC 1071 section 3's example. */
	static const uint8_t rfc1071[] = {
		0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7
	};
	/* A real IPv4 header (checksum field zero); its checksum is b861. */
	static const uint8_t iphdr[] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7
	};
	static const uint8_t odd[] = { 0x01, 0x02, 0x03 };
	static const uint8_t ff[] = { 0xff, 0xff, 0xff, 0xff };

	CHECK_EQ(0x2ddf0, csum_partial(rfc1071, sizeof(rfc1071), 0));
	CHECK_EQ(0x220d, csum_fold(0x2ddf0));
	CHECK_EQ(0x220d, csum_fold(csum_partial(rfc1071, 8, 0)));
	/* Split at an even boundary and carried on. */
	CHECK_EQ(0x2ddf0, csum_partial(rfc1071 + 4, 4,
				       csum_partial(rfc1071, 4, 0)));
	CHECK_EQ(0xb861, csum_fold(csum_partial(iphdr, sizeof(iphdr), 0)));
	/* An odd tail is the high byte of a zero-padded word. */
	CHECK_EQ(0x0402, csum_partial(odd, 3, 0));
	CHECK_EQ(0x0100, csum_partial(odd, 1, 0));
	CHECK_EQ(0x1234, csum_partial(odd, 0, 0x1234));
	CHECK_EQ(0x1fffe, csum_partial(ff, 4, 0));

	static const struct { uint32_t sum; uint16_t want; } folds[] = {
		{ 0x00000000, 0xffff },
		{ 0x0000ffff, 0x0000 },
		{ 0x00010000, 0xfffe },
		{ 0x0001fffe, 0x0000 },
		{ 0x0002ddf0, 0x220d },
		{ 0x00001234, 0xedcb },
		{ 0xffffffff, 0x0000 },
		{ 0xfffeffff, 0x0001 },
		{ 0x80000000, 0x7fff },
	};
	size_t i;

	for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++)
		CHECK_EQ(folds[i].want, csum_fold(folds[i].sum));

	/* Random buffers against the reference. */
	for (i = 0; i < 200; i++) {
		uint8_t b[301];
		size_t n = check_rand() % sizeof(b), k;

		for (k = 0; k < n; k++)
			b[k] = (uint8_t)check_rand();
		CHECK_EQ((uint16_t)~ref_sum(b, n, 0),
			 csum_fold(csum_partial(b, n, 0)));
	}
}

static uint16_t edge_word(void)
{
	static const uint16_t edges[] = { 0x0000, 0xffff, 0x0001, 0xfffe,
					  0x8000, 0x7fff };
	return edges[check_rand() % 6];
}

static void test_csum_update16(void)
{
	int iter, fails = 0;

	/* Hand-picked: RFC 1624 section 4's example and the -0 corner. */
	CHECK_EQ(0x0000, csum_update16(0xdd2f, 0x5555, 0x3285));
	{
		/* Data sum becomes 0xffff: stored checksum must be 0x0000. */
		uint8_t d[4] = { 0x12, 0x34, 0xed, 0xca };   /* sum 0xfffe */
		uint16_t c = csum_fold(csum_partial(d, 4, 0));

		CHECK_EQ(0x0001, c);
		c = csum_update16(c, 0xedca, 0xedcb);
		CHECK_EQ(0x0000, c);
		d[3] = 0xcb;
		CHECK_EQ(csum_fold(csum_partial(d, 4, 0)), c);
		/* 0x0000 and 0xffff are both zero: no change either way. */
		CHECK_EQ(c, csum_update16(c, 0x0000, 0xffff));
		CHECK_EQ(0x4321, csum_update16(0x4321, 0xffff, 0x0000));
		CHECK_EQ(0x4321, csum_update16(0x4321, 0x0000, 0xffff));
		CHECK_EQ(0x4321, csum_update16(0x4321, 0xabcd, 0xabcd));
	}

	/*
	 * Random words in a 40-byte area whose first word is never zero (as
	 * in any IP or TCP header), so the full sum is never +0, the one case
	 * where RFC 1624 eqn. 3 and a recompute may differ by design.
	 */
	for (iter = 0; iter < 20000; iter++) {
		uint16_t w[20], c, old, nw;
		uint8_t b[40];
		int k, idx, j;

		for (k = 0; k < 20; k++) {
			switch (check_rand() % 4) {
			case 0: w[k] = edge_word(); break;
			default: w[k] = (uint16_t)check_rand(); break;
			}
		}
		if (iter % 7 == 0)
			for (k = 1; k < 20; k++)
				w[k] = check_rand() & 1 ? 0xffff : 0x0000;
		if (w[0] == 0)
			w[0] = 0x4500;
		for (k = 0; k < 20; k++)
			check_put16(b + 2 * k, w[k]);
		c = csum_fold(csum_partial(b, 40, 0));

		/* Several changes in a row, each checked. */
		for (j = 0; j < 4; j++) {
			idx = 1 + (int)(check_rand() % 19);
			old = get16(b + 2 * idx);
			nw = check_rand() % 3 == 0 ? edge_word() : (uint16_t)check_rand();
			c = csum_update16(c, old, nw);
			check_put16(b + 2 * idx, nw);
			if (c != csum_fold(csum_partial(b, 40, 0)) ||
			    ref_add(ref_sum(b, 40, 0), c) != 0xffff)
				fails++;
		}
	}
	CHECK_EQ(0, fails);
}

/*
 * Change n payload bytes starting at every position of a real TCP packet
 * with csum_replace_bytes and check the TCP checksum against a recompute.
 */
static void test_csum_replace_bytes(void)
{
	static const struct { size_t hlen, doff, plen; } geo[] = {
		{ 20, 20, 1 }, { 20, 20, 2 }, { 20, 20, 17 }, { 20, 20, 168 },
		{ 24, 20, 33 }, { 20, 32, 16 }, { 60, 60, 9 }, { 20, 20, 220 },
	};
	uint8_t buf[600], repl[4], before[600];
	size_t g, off, n;
	int fails = 0, data_fails = 0, other_fails = 0, ip_fails = 0, even = 0,
	    odd = 0;

	for (g = 0; g < sizeof(geo) / sizeof(geo[0]); g++) {
		for (n = 1; n <= 4; n++) {
			size_t tot = build_tcp(buf, geo[g].hlen, geo[g].doff,
					       geo[g].plen, 0xC0A80001 + (uint32_t)g,
					       0xC6120002);
			size_t poff = geo[g].hlen + geo[g].doff;
			struct ip4_info ip;

			CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
			for (off = poff; off + n <= tot; off++) {
				size_t k, pos = off - geo[g].hlen;

				for (k = 0; k < n; k++) {
					uint32_t r = check_rand();

					repl[k] = r % 5 == 0 ? 0x00 :
						  r % 5 == 1 ? 0xff : (uint8_t)(r >> 8);
				}
				memcpy(before, buf, tot);
				csum_replace_bytes(buf + geo[g].hlen + 16, buf + off,
						   repl, n, pos);
				if (pos & 1)
					odd++;
				else
					even++;
				if (memcmp(buf + off, repl, n) != 0)
					data_fails++;
				/* Nothing else but the checksum moved. */
				for (k = 0; k < tot; k++) {
					if (k >= off && k < off + n)
						continue;
					if (k == geo[g].hlen + 16 ||
					    k == geo[g].hlen + 17)
						continue;
					if (buf[k] != before[k])
						other_fails++;
				}
				if (tcp_csum(buf, &ip) != get16(buf + geo[g].hlen + 16) ||
				    ref_tcp_verify(buf) != 0xffff)
					fails++;
				if (ref_ip_verify(buf) != 0xffff)
					ip_fails++;
			}
		}
	}
	CHECK_EQ(0, fails);
	CHECK_EQ(0, data_fails);
	CHECK_EQ(0, other_fails);
	CHECK_EQ(0, ip_fails);
	CHECK(even > 500);
	CHECK(odd > 500);

	/* In the IP header: TOS (odd position) and TTL (even). */
	{
		uint8_t h[20], v;

		build_ip(h, 20, 20, IPPROTO_GRE_, 0x0A000001, 0x0A000002, 0);
		v = 0xb8;
		csum_replace_bytes(h + 10, h + 1, &v, 1, 1);
		CHECK_EQ(0xb8, h[1]);
		CHECK_EQ(0xffff, ref_ip_verify(h));
		v = 1;
		csum_replace_bytes(h + 10, h + 8, &v, 1, 8);
		CHECK_EQ(1, h[8]);
		CHECK_EQ(0xffff, ref_ip_verify(h));
		/* Zero bytes: nothing happens. */
		memcpy(before, h, 20);
		csum_replace_bytes(h + 10, h + 8, &v, 0, 8);
		CHECK_MEM(before, h, 20);
	}
}

/* ---- address rewrites ----------------------------------------------------- */

static const uint32_t addrs[] = {
	0x00000000, 0xffffffff, 0xC0A80001, 0x0A000001, 0xC6120002,
	0x7f000001, 0x00010000, 0xffff0000, 0x0000ffff,
};

static void test_set_addr_tcp(void)
{
	static const struct { size_t hlen, doff, plen; } geo[] = {
		{ 20, 20, 0 }, { 20, 20, 1 }, { 24, 20, 156 }, { 60, 40, 3 },
	};
	uint8_t buf[400], before[400];
	size_t g, a;
	int which;

	for (g = 0; g < sizeof(geo) / sizeof(geo[0]); g++) {
		for (a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
			for (which = 0; which < 2; which++) {
				size_t tot = build_tcp(buf, geo[g].hlen, geo[g].doff,
						       geo[g].plen, 0xC0A8000B,
						       0xC6120002);
				struct ip4_info ip, ip2;
				size_t k;
				int other = 0;

				CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
				memcpy(before, buf, tot);
				if (which)
					ip4_set_dst(buf, &ip, addrs[a]);
				else
					ip4_set_src(buf, &ip, addrs[a]);
				CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip2));
				CHECK_EQ(which ? 0xC0A8000Bu : addrs[a], ip2.src);
				CHECK_EQ(which ? addrs[a] : 0xC6120002u, ip2.dst);
				/* IP header sums to zero with its checksum. */
				CHECK_EQ(0, csum_fold(csum_partial(buf, ip.hlen, 0)));
				CHECK_EQ(0xffff, ref_ip_verify(buf));
				CHECK_EQ(get16(buf + ip.hlen + 16), tcp_csum(buf, &ip2));
				CHECK_EQ(0xffff, ref_tcp_verify(buf));
				for (k = 0; k < tot; k++) {
					if (k == 10 || k == 11 ||
					    k == ip.hlen + 16 || k == ip.hlen + 17 ||
					    (k >= (which ? 16u : 12u) &&
					     k < (which ? 20u : 16u)))
						continue;
					if (buf[k] != before[k])
						other++;
				}
				CHECK_EQ(0, other);
			}
		}
	}

	/* Both in a row, as a full NAT of both ends would. */
	{
		size_t tot = build_tcp(buf, 20, 20, 50, 0xC0A8000B, 0xC6120002);
		struct ip4_info ip;

		ip4_parse(buf, tot, &ip);
		ip4_set_src(buf, &ip, 0xC6130011);
		ip4_set_dst(buf, &ip, 0x0A0A0A0A);
		ip4_parse(buf, tot, &ip);
		CHECK_EQ(0xC6130011, ip.src);
		CHECK_EQ(0x0A0A0A0A, ip.dst);
		CHECK_EQ(0xffff, ref_ip_verify(buf));
		CHECK_EQ(0xffff, ref_tcp_verify(buf));
	}
}

static void test_set_addr_gre(void)
{
	uint8_t buf[200], before[200];
	size_t a, k, hl;
	int which;
	static const size_t hlens[] = { 20, 24, 60 };

	for (hl = 0; hl < 3; hl++) {
		for (a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
			for (which = 0; which < 2; which++) {
				size_t h = hlens[hl], tot = h + 16 + 40;
				struct ip4_info ip;

				build_ip(buf, h, tot, IPPROTO_GRE_, 0xC0A8000B,
					 0xC6120002, 0);
				/* GRE with S and A, whose bytes 16..17 would be
				 * a TCP checksum: they must not move. */
				static const uint8_t gre[16] = {
					0x30, 0x81, 0x88, 0x0b, 0x00, 0x28, 0x9c, 0x51,
					0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05
				};
				memcpy(buf + h, gre, 16);
				for (k = h + 16; k < tot; k++)
					buf[k] = (uint8_t)check_rand();
				memcpy(before, buf, tot);
				CHECK_EQ(PKT_OK, ip4_parse(buf, tot, &ip));
				if (which)
					ip4_set_dst(buf, &ip, addrs[a]);
				else
					ip4_set_src(buf, &ip, addrs[a]);
				CHECK_MEM(before + h, buf + h, tot - h);
				CHECK_EQ(0xffff, ref_ip_verify(buf));
				CHECK_EQ(addrs[a], get32(buf + (which ? 16 : 12)));
				CHECK_EQ(which ? 0xC0A8000Bu : 0xC6120002u,
					 get32(buf + (which ? 12 : 16)));
			}
		}
	}

	/* A TCP packet too short to hold its checksum: only the IP header. */
	{
		struct ip4_info ip;

		build_ip(buf, 20, 30, IPPROTO_TCP_, 0xC0A8000B, 0xC6120002, 0);
		memset(buf + 20, 0x77, 30);
		memcpy(before, buf, 50);
		CHECK_EQ(PKT_OK, ip4_parse(buf, 30, &ip));
		ip4_set_src(buf, &ip, 0x01020304);
		CHECK_EQ(0xffff, ref_ip_verify(buf));
		CHECK_MEM(before + 20, buf + 20, 30);
	}
}

/* ---- strings -------------------------------------------------------------- */

static void test_strings(void)
{
	static const struct { uint32_t a; const char *s; } cases[] = {
		{ 0x00000000, "0.0.0.0" },
		{ 0xffffffff, "255.255.255.255" },
		{ 0xC0A80001, "192.168.0.1" },
		{ 0x0A000102, "10.0.1.2" },
		{ 0xC6130011, "198.19.0.17" },
		{ 0x01020304, "1.2.3.4" },
	};
	char buf[16];
	size_t i;
	unsigned e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		CHECK(ip4_str(cases[i].a, buf) == buf);
		CHECK(strcmp(buf, cases[i].s) == 0);
		if (strcmp(buf, cases[i].s) != 0)
			fprintf(stderr, "  expected %s, got %s\n", cases[i].s, buf);
	}
	for (e = 0; e < PKT_ERR_COUNT; e++) {
		const char *s = pkt_strerror((enum pkt_err)e);

		CHECK(s != NULL && strcmp(s, "?") != 0 && *s);
	}
	CHECK(strcmp(pkt_strerror(PKT_ERR_COUNT), "?") == 0);
	CHECK(strcmp(pkt_strerror((enum pkt_err)-1), "?") == 0);
}

/* ---- tcp_trim and ip4_build ---------------------------------------------- */

/*
 * Every keep length of segments with and without IP and TCP options, with
 * and without FIN: the packet shrinks to exactly the kept payload, both
 * checksums verify, FIN goes only when bytes were cut, and the kept bytes
 * and the other flags stay.
 */
static void test_tcp_trim(void)
{
	static const size_t hl[] = { 20, 24 }, dl[] = { 20, 32 };
	uint8_t p[200], orig[200];
	size_t h, d, keep, len, tot;
	int fin, bad = 0;

	for (h = 0; h < 2; h++)
	for (d = 0; d < 2; d++)
	for (fin = 0; fin < 2; fin++)
	for (keep = 0; keep <= 40; keep++) {
		tot = build_tcp(p, hl[h], dl[d], 30, 0xC6120001u, 0xC6130002u);
		if (fin) {
			p[hl[h] + 13] |= TCPF_FIN;
			p[hl[h] + 16] = p[hl[h] + 17] = 0;
			check_put16(p + hl[h] + 16, ref_tcp_csum(p));
		}
		memcpy(orig, p, tot);
		len = tot;
		if (keep >= 30) {
			bad += tcp_trim(p, &len, keep) != 0;
			bad += len != tot || memcmp(p, orig, tot) != 0;
			continue;
		}
		bad += tcp_trim(p, &len, keep) != 1;
		bad += len != hl[h] + dl[d] + keep;
		bad += get16(p + 2) != len;
		bad += ref_ip_verify(p) != 0xffff;
		bad += ref_tcp_verify(p) != 0xffff;
		bad += (p[hl[h] + 13] & TCPF_FIN) != 0;
		bad += (p[hl[h] + 13] & TCPF_ACK) == 0;
		bad += memcmp(p + hl[h] + dl[d], orig + hl[h] + dl[d], keep);
		bad += memcmp(p + 12, orig + 12, 8) != 0;
	}
	CHECK_EQ(0, bad);

	/* Not TCP, or not parsable: untouched. */
	tot = build_tcp(p, 20, 20, 10, 1, 2);
	p[9] = IPPROTO_GRE_;
	memcpy(orig, p, tot);
	len = tot;
	CHECK_EQ(-1, tcp_trim(p, &len, 2));
	CHECK_EQ(tot, len);
	CHECK_MEM(orig, p, tot);
	len = 19;
	CHECK_EQ(-1, tcp_trim(p, &len, 2));
	CHECK_EQ(19, len);
	/* Bytes beyond the IP total length (padding) go with the cut. */
	tot = build_tcp(p, 20, 20, 10, 1, 2);
	len = tot + 6;
	CHECK_EQ(1, tcp_trim(p, &len, 4));
	CHECK_EQ(44, len);
	CHECK_EQ(0xffff, ref_tcp_verify(p));
}

static void test_ip4_build(void)
{
	uint8_t p[IP4_HDR_LEN + 8];
	struct ip4_info ip;

	memset(p, 0xAA, sizeof(p));
	CHECK_EQ(IP4_HDR_LEN, ip4_build(p, IPPROTO_GRE_, 0xCB007102u,
					0xC6120001u, 0xBEEF, 8));
	CHECK_EQ(0x45, p[0]);
	CHECK_EQ(0, p[1]);
	CHECK_EQ(28, get16(p + 2));
	CHECK_EQ(0xBEEF, get16(p + 4));
	CHECK_EQ(0, get16(p + 6));      /* no flags, no fragment offset */
	CHECK_EQ(64, p[8]);
	CHECK_EQ(IPPROTO_GRE_, p[9]);
	CHECK_EQ(0xCB007102u, get32(p + 12));
	CHECK_EQ(0xC6120001u, get32(p + 16));
	CHECK_EQ(0xffff, ref_ip_verify(p));
	CHECK_EQ(0xAA, p[IP4_HDR_LEN]);  /* the payload is the caller's */
	CHECK_EQ(PKT_OK, ip4_parse(p, sizeof(p), &ip));
	CHECK_EQ(28, ip.tot_len);
	CHECK_EQ(IPPROTO_GRE_, ip.proto);
	CHECK_EQ(0xCB007102u, ip.src);
	CHECK_EQ(0xC6120001u, ip.dst);
	/* The largest packet IPv4 can carry, and one byte more. */
	CHECK_EQ(IP4_HDR_LEN, ip4_build(p, IPPROTO_TCP_, 1, 2, 0,
					65535 - IP4_HDR_LEN));
	CHECK_EQ(65535, get16(p + 2));
	CHECK_EQ(0xffff, ref_ip_verify(p));
	memset(p, 0xAA, sizeof(p));
	CHECK_EQ(0, ip4_build(p, IPPROTO_TCP_, 1, 2, 0, 65536 - IP4_HDR_LEN));
	CHECK_EQ(0xAA, p[0]);
}

/* ---- pkt_view_parse ------------------------------------------------------- */

static void check_tcp_same(const struct tcp_info *want, const struct tcp_info *got)
{
	CHECK_EQ(want->sport, got->sport);
	CHECK_EQ(want->dport, got->dport);
	CHECK_EQ(want->seq, got->seq);
	CHECK_EQ(want->ack, got->ack);
	CHECK_EQ(want->flags, got->flags);
	CHECK_EQ(want->off, got->off);
	CHECK_EQ(want->payload_off, got->payload_off);
	CHECK_EQ(want->payload_len, got->payload_len);
}

static void check_gre_same(const struct gre_info *want, const struct gre_info *got)
{
	CHECK_EQ(want->payload_len, got->payload_len);
	CHECK_EQ(want->call_id, got->call_id);
	CHECK_EQ(want->has_seq, got->has_seq);
	CHECK_EQ(want->has_ack, got->has_ack);
	CHECK_EQ(want->seq, got->seq);
	CHECK_EQ(want->ack, got->ack);
	CHECK_EQ(want->hdr_len, got->hdr_len);
}

/* Nothing of TCP in v: no error, every field zero. */
static void check_no_tcp(const struct pkt_view *v)
{
	static const struct tcp_info zero;

	CHECK_EQ(PKT_OK, v->tcp_err);
	check_tcp_same(&zero, &v->tcp);
}

static void check_no_gre(const struct pkt_view *v)
{
	static const struct gre_info zero;

	CHECK_EQ(GRE_OK, v->gre_err);
	check_gre_same(&zero, &v->gre);
}

/* IPv4 (hlen h) carrying a GRE header of flags f0 f1, Call ID 0x9c51, seq 7
 * and ack 5 as the flags have them, and plen payload bytes; the buffer has
 * extra bytes after the packet.  Returns the total length. */
static size_t build_gre(uint8_t *p, size_t h, uint8_t f0, uint8_t f1,
			size_t plen, size_t extra)
{
	size_t gh = 8, tot, i;
	uint8_t *g = p + h;

	g[0] = f0;
	g[1] = f1;
	check_put16(g + 2, 0x880b);
	check_put16(g + 4, (uint16_t)plen);
	check_put16(g + 6, 0x9c51);
	if (f0 & 0x10)
		check_put32(g + gh, 7), gh += 4;
	if (f1 & 0x80)
		check_put32(g + gh, 5), gh += 4;
	tot = h + gh + plen;
	for (i = h + gh; i < tot + extra; i++)
		p[i] = (uint8_t)check_rand();
	build_ip(p, h, tot, IPPROTO_GRE_, 0xC0A8000B, 0xC6120002, 0);
	return tot;
}

static void test_pkt_view(void)
{
	uint8_t buf[256];
	struct pkt_view v;
	struct ip4_info ip;
	struct tcp_info t;
	struct gre_info g;
	size_t tot, k;

	/* TCP, with IP options and trailing bytes in the buffer: the same
	 * fields as ip4_parse and tcp_parse give for the same bytes. */
	tot = build_tcp(buf, 24, 28, 33, 0xC0A8000B, 0xC6120002);
	memset(buf + tot, 0xee, 8);
	pkt_view_parse(&v, buf, tot + 8);
	CHECK(v.data == buf);
	CHECK_EQ(tot + 8, v.len);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(PKT_OK, ip4_parse(buf, tot + 8, &ip));
	CHECK_EQ(ip.hlen, v.ip.hlen);
	CHECK_EQ(ip.tot_len, v.ip.tot_len);
	CHECK_EQ(ip.proto, v.ip.proto);
	CHECK_EQ(ip.src, v.ip.src);
	CHECK_EQ(ip.dst, v.ip.dst);
	CHECK_EQ(24, v.ip.hlen);
	CHECK_EQ(tot, v.ip.tot_len);
	CHECK_EQ(PKT_OK, v.tcp_err);
	CHECK_EQ(PKT_OK, tcp_parse(buf, &ip, &t));
	check_tcp_same(&t, &v.tcp);
	CHECK_EQ(1723, v.tcp.dport);
	CHECK_EQ(24 + 28, v.tcp.payload_off);
	CHECK_EQ(33, v.tcp.payload_len);
	check_no_gre(&v);

	/* Enhanced GRE with seq and ack, ack only, neither: gre_parse's
	 * fields over the IP payload (tot_len, not the buffer). */
	{
		static const uint8_t flags[][2] = {
			{ 0x30, 0x81 }, { 0x20, 0x81 }, { 0x30, 0x01 },
			{ 0x20, 0x01 }
		};

		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			tot = build_gre(buf, 20, flags[k][0], flags[k][1], 40, 6);
			pkt_view_parse(&v, buf, tot + 6);
			CHECK_EQ(PKT_OK, v.err);
			CHECK_EQ(IPPROTO_GRE_, v.ip.proto);
			CHECK_EQ(GRE_OK, v.gre_err);
			CHECK_EQ(GRE_OK, gre_parse(buf + 20, tot - 20, &g));
			check_gre_same(&g, &v.gre);
			CHECK_EQ(0x9c51, v.gre.call_id);
			CHECK_EQ(40, v.gre.payload_len);
			CHECK_EQ(!!(flags[k][0] & 0x10), v.gre.has_seq);
			CHECK_EQ(!!(flags[k][1] & 0x80), v.gre.has_ack);
			if (v.gre.has_seq)
				CHECK_EQ(7, v.gre.seq);
			if (v.gre.has_ack)
				CHECK_EQ(5, v.gre.ack);
			CHECK_EQ(tot - 20 - 40, v.gre.hdr_len);
			check_no_tcp(&v);
		}
	}

	/* A truncated IPv4 header: err, and nothing below it. */
	tot = build_tcp(buf, 20, 20, 10, 0xC0A8000B, 0xC6120002);
	pkt_view_parse(&v, buf, 19);
	CHECK_EQ(PKT_ERR_SHORT, v.err);
	CHECK(v.data == buf);
	CHECK_EQ(19, v.len);
	check_no_tcp(&v);
	check_no_gre(&v);

	/* A valid IPv4 header with too little TCP: 10 bytes (shorter than
	 * any TCP header), then 24 bytes whose data offset says 28. */
	build_ip(buf, 20, 30, IPPROTO_TCP_, 0xC0A8000B, 0xC6120002, 0);
	memset(buf + 20, 0x50, 10);
	pkt_view_parse(&v, buf, 30);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(PKT_ERR_SHORT, v.tcp_err);
	check_no_gre(&v);
	build_tcp(buf, 20, 20, 4, 0xC0A8000B, 0xC6120002);
	buf[20 + 12] = 0x70;
	pkt_view_parse(&v, buf, 44);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(PKT_OK, ip4_parse(buf, 44, &ip));
	CHECK_EQ(tcp_parse(buf, &ip, &t), v.tcp_err);
	CHECK_EQ(PKT_ERR_TCPHDR, v.tcp_err);
	check_no_gre(&v);

	/* Bad GRE: version 0; and a payload length that fits the buffer but
	 * not the IP packet's total length. */
	tot = build_gre(buf, 20, 0x30, 0x80, 40, 0);
	pkt_view_parse(&v, buf, tot);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(GRE_ERR_VERSION, v.gre_err);
	check_no_tcp(&v);
	tot = build_gre(buf, 20, 0x30, 0x81, 40, 30);
	check_put16(buf + 24, 60);
	pkt_view_parse(&v, buf, tot + 30);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(GRE_ERR_LENGTH, v.gre_err);
	check_no_tcp(&v);

	/* UDP whose payload is a valid GRE header and payload: neither filled. */
	{
		static const uint8_t gre[16] = {
			0x30, 0x81, 0x88, 0x0b, 0x00, 0x28, 0x9c, 0x51,
			0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05
		};

		build_ip(buf, 20, 76, 17, 0xC0A8000B, 0xC6120002, 0);
		memcpy(buf + 20, gre, 16);
		memset(buf + 36, 0x50, 40);
		CHECK_EQ(GRE_OK, gre_parse(buf + 20, 56, &g));
	}
	pkt_view_parse(&v, buf, 76);
	CHECK_EQ(PKT_OK, v.err);
	CHECK_EQ(17, v.ip.proto);
	check_no_tcp(&v);
	check_no_gre(&v);
}

static const struct check_case cases[] = {
	CHECK_CASE(ip4_good),
	CHECK_CASE(ip4_errors),
	CHECK_CASE(tcp_parse),
	CHECK_CASE(csum_known),
	CHECK_CASE(csum_update16),
	CHECK_CASE(csum_replace_bytes),
	CHECK_CASE(set_addr_tcp),
	CHECK_CASE(set_addr_gre),
	CHECK_CASE(strings),
	CHECK_CASE(tcp_trim),
	CHECK_CASE(ip4_build),
	CHECK_CASE(pkt_view),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
