/*
 * libFuzzer target for gre.c and the packet parsers of pkt.c.
 *
 * The input is tried as a bare GRE header (whatever gre_parse accepts must
 * build back to a header that parses to the same fields) and as an IPv4
 * packet: what ip4_parse and tcp_parse accept must describe a geometry
 * inside the buffer, and an address rewrite must keep whatever checksums
 * were valid valid, and leave a GRE payload alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gre.h"
#include "wire/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_gre: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

static void check_gre(const uint8_t *data, size_t size)
{
	struct gre_info g, g2;
	uint8_t out[16];
	size_t n;
	enum gre_err e = gre_parse(data, size, &g);

	if (e >= GRE_ERR_COUNT)
		FAIL("gre_parse returned %d", e);
	if (e != GRE_OK)
		return;
	if (g.hdr_len != 8u + (g.has_seq ? 4 : 0) + (g.has_ack ? 4 : 0) ||
	    g.hdr_len > size || g.payload_len > size - g.hdr_len)
		FAIL("geometry: header %zu, payload %u, size %zu", g.hdr_len,
		     g.payload_len, size);
	if (!g.has_seq && g.seq != 0)
		FAIL("seq without S");
	if (!g.has_ack && g.ack != 0)
		FAIL("ack without A");

	n = gre_build(&g, out, sizeof(out));
	if (n != g.hdr_len)
		FAIL("built %zu bytes, parsed header was %zu", n, g.hdr_len);
	/* The header comes back byte for byte, bar reserved flag bits. */
	if (((out[0] << 8 | out[1]) & ~0x0078) !=
	    ((data[0] << 8 | data[1]) & ~0x0078) ||
	    memcmp(out + 2, data + 2, n - 2) != 0)
		FAIL("rebuilt header differs");
	if (gre_build(&g, out, n - 1) != 0)
		FAIL("build into %zu bytes did not fail", n - 1);

	{
		/* Reparse the built header with its payload behind it. */
		uint8_t *pkt = malloc(n + g.payload_len + 1);

		memcpy(pkt, out, n);
		memcpy(pkt + n, data + g.hdr_len, g.payload_len);
		if (gre_parse(pkt, n + g.payload_len, &g2) != GRE_OK)
			FAIL("rebuilt header does not parse");
		if (g2.hdr_len != g.hdr_len || g2.has_seq != g.has_seq ||
		    g2.has_ack != g.has_ack || g2.seq != g.seq ||
		    g2.ack != g.ack || g2.call_id != g.call_id ||
		    g2.payload_len != g.payload_len)
			FAIL("rebuilt header parses to other fields");
		free(pkt);
	}
}

static void check_ip(const uint8_t *data, size_t size)
{
	struct ip4_info ip, ip2;
	struct tcp_info t;
	enum pkt_err e = ip4_parse(data, size, &ip);
	uint8_t *p;
	int ip_ok, tcp_ok = 0;
	uint16_t tsum = 0;
	uint32_t addr;

	if (e >= PKT_ERR_COUNT)
		FAIL("ip4_parse returned %d", e);
	if (e != PKT_OK)
		return;
	if (ip.hlen < 20 || ip.hlen > 60 || ip.hlen % 4 || ip.tot_len < ip.hlen ||
	    ip.tot_len > size)
		FAIL("ip geometry: hlen %zu tot %zu size %zu", ip.hlen,
		     ip.tot_len, size);

	p = malloc(size);
	memcpy(p, data, size);
	ip_ok = csum_fold(csum_partial(p, ip.hlen, 0)) == 0;

	e = tcp_parse(p, &ip, &t);
	if (e == PKT_OK) {
		if (t.off != ip.hlen || t.payload_off < t.off + 20 ||
		    t.payload_off > ip.tot_len ||
		    t.payload_off + t.payload_len != ip.tot_len)
			FAIL("tcp geometry: off %zu payload %zu+%zu tot %zu",
			     t.off, t.payload_off, t.payload_len, ip.tot_len);
		tsum = tcp_csum(p, &ip);
		tcp_ok = ip.proto == IPPROTO_TCP_ &&
			 tsum == (p[ip.hlen + 16] << 8 | p[ip.hlen + 17]);
	} else if (e != PKT_ERR_SHORT && e != PKT_ERR_TCPHDR) {
		FAIL("tcp_parse returned %d", e);
	}

	if (ip.proto == IPPROTO_GRE_ && ip.tot_len > ip.hlen)
		check_gre(p + ip.hlen, ip.tot_len - ip.hlen);

	/* Rewrite both addresses to ones taken from the payload end. */
	addr = (uint32_t)data[size - 1] << 24 | (uint32_t)data[size / 2] << 16 |
	       (uint32_t)data[0] << 8 | data[size - 2];
	{
		uint8_t *before = malloc(size);

		memcpy(before, p, size);
		ip4_set_src(p, &ip, addr);
		ip4_set_dst(p, &ip, ~addr);
		if (ip4_parse(p, size, &ip2) != PKT_OK || ip2.src != addr ||
		    ip2.dst != ~addr)
			FAIL("rewritten addresses do not read back");
		if (ip_ok && csum_fold(csum_partial(p, ip.hlen, 0)) != 0)
			FAIL("IP checksum broken by the rewrite");
		if (tcp_ok && tcp_csum(p, &ip2) !=
		    (p[ip.hlen + 16] << 8 | p[ip.hlen + 17]))
			FAIL("TCP checksum broken by the rewrite");
		/* Only the addresses, the IP checksum and, for TCP, the
		 * TCP checksum may change. */
		{
			size_t i;

			for (i = 0; i < size; i++) {
				if ((i >= 10 && i < 20) ||
				    (ip.proto == IPPROTO_TCP_ &&
				     ip.tot_len >= ip.hlen + 18 &&
				     (i == ip.hlen + 16 || i == ip.hlen + 17)))
					continue;
				if (p[i] != before[i])
					FAIL("byte %zu changed by the rewrite", i);
			}
		}
		free(before);
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[16];

	check_gre(data, size);
	check_ip(data, size);
	if (size >= 4) {
		uint32_t a = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
			     (uint32_t)data[2] << 8 | data[3];
		unsigned b0, b1, b2, b3;

		ip4_str(a, buf);
		if (sscanf(buf, "%u.%u.%u.%u", &b0, &b1, &b2, &b3) != 4 ||
		    b0 != data[0] || b1 != data[1] || b2 != data[2] ||
		    b3 != data[3])
			FAIL("ip4_str %s", buf);
	}
	return 0;
}
