#include "wire/pkt.h"
#include "wire/rd.h"

#include <stdio.h>
#include <string.h>

static const char *const pkt_errs[PKT_ERR_COUNT] = {
	[PKT_OK] = "ok",
	[PKT_ERR_SHORT] = "truncated packet",
	[PKT_ERR_VERSION] = "not IPv4",
	[PKT_ERR_HLEN] = "bad IP header length",
	[PKT_ERR_TOTLEN] = "bad IP total length",
	[PKT_ERR_FRAGMENT] = "IP fragment",
	[PKT_ERR_TCPHDR] = "bad TCP header",
};

const char *pkt_strerror(enum pkt_err e)
{
	return (unsigned)e < PKT_ERR_COUNT ? pkt_errs[e] : "?";
}

enum pkt_err ip4_parse(const uint8_t *p, size_t len, struct ip4_info *ip)
{
	if (len < 20)
		return PKT_ERR_SHORT;
	if (p[0] >> 4 != 4)
		return PKT_ERR_VERSION;
	ip->hlen = (size_t)(p[0] & 0x0f) * 4;
	if (ip->hlen < 20 || ip->hlen > len)
		return PKT_ERR_HLEN;
	ip->tot_len = be16_get(p + 2);
	if (ip->tot_len < ip->hlen || ip->tot_len > len)
		return PKT_ERR_TOTLEN;
	/* MF set or a non-zero offset: the transport header may be elsewhere. */
	if (be16_get(p + 6) & 0x3fff)
		return PKT_ERR_FRAGMENT;
	ip->proto = p[9];
	ip->src = be32_get(p + 12);
	ip->dst = be32_get(p + 16);
	return PKT_OK;
}

enum pkt_err tcp_parse(const uint8_t *p, const struct ip4_info *ip,
		       struct tcp_info *t)
{
	size_t avail = ip->tot_len - ip->hlen, doff;
	const uint8_t *h = p + ip->hlen;

	if (avail < 20)
		return PKT_ERR_SHORT;
	doff = (size_t)(h[12] >> 4) * 4;
	if (doff < 20 || doff > avail)
		return PKT_ERR_TCPHDR;
	t->sport = be16_get(h);
	t->dport = be16_get(h + 2);
	t->seq = be32_get(h + 4);
	t->ack = be32_get(h + 8);
	t->flags = h[13];
	t->off = ip->hlen;
	t->payload_off = ip->hlen + doff;
	t->payload_len = avail - doff;
	return PKT_OK;
}

uint32_t csum_partial(const void *data, size_t n, uint32_t sum)
{
	const uint8_t *b = data;

	for (; n > 1; n -= 2, b += 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_)
{
	/* HC' = ~(~HC + ~m + m'), which never yields the -0 of eqn. 2. */
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new_;
	return csum_fold(sum);
}

void csum_replace_bytes(uint8_t *check, uint8_t *data, const uint8_t *repl,
			size_t n, size_t pos)
{
	uint16_t c = be16_get(check);
	size_t i;

	for (i = 0; i < n; i++) {
		int high = ((pos + i) & 1) == 0;
		uint16_t o = high ? (uint16_t)(data[i] << 8) : data[i];
		uint16_t w = high ? (uint16_t)(repl[i] << 8) : repl[i];

		c = csum_update16(c, o, w);
		data[i] = repl[i];
	}
	be16_put(check, c);
}

void ip4_fix_csum(uint8_t *p, size_t hlen)
{
	p[10] = p[11] = 0;
	be16_put(p + 10, csum_fold(csum_partial(p, hlen, 0)));
}

uint16_t tcp_csum(const uint8_t *p, const struct ip4_info *ip)
{
	size_t tlen = ip->tot_len - ip->hlen;
	uint32_t sum = 0;

	if (tlen < 20)
		return 0;   /* no TCP header to check */
	sum = csum_partial(p + 12, 8, sum);     /* source and destination */
	sum += IPPROTO_TCP_;
	sum += (uint32_t)tlen;
	sum = csum_partial(p + ip->hlen, 16, sum);  /* up to the checksum */
	sum = csum_partial(p + ip->hlen + 18, tlen - 18, sum);
	return csum_fold(sum);
}

int tcp_csum_ok(const uint8_t *p, const struct ip4_info *ip)
{
	size_t tlen = ip->tot_len - ip->hlen;
	uint32_t sum = 0;

	if (ip->tot_len < ip->hlen || tlen < 20)
		return 0;
	sum = csum_partial(p + 12, 8, sum);
	sum += IPPROTO_TCP_;
	sum += (uint32_t)tlen;
	/* The sum over everything, checksum included, folds to all ones. */
	sum = csum_partial(p + ip->hlen, tlen, sum);
	return csum_fold(sum) == 0;
}

static void ip4_set_addr(uint8_t *p, const struct ip4_info *ip, size_t off,
			 uint32_t addr)
{
	uint8_t repl[4];

	be32_put(repl, addr);
	/* The TCP checksum covers the addresses through the pseudo header. */
	if (ip->proto == IPPROTO_TCP_ && ip->tot_len >= ip->hlen + 18) {
		uint8_t tmp[4];

		memcpy(tmp, p + off, 4);
		csum_replace_bytes(p + ip->hlen + 16, tmp, repl, 4, 0);
	}
	csum_replace_bytes(p + 10, p + off, repl, 4, 0);
}

void ip4_set_src(uint8_t *p, const struct ip4_info *ip, uint32_t addr)
{
	ip4_set_addr(p, ip, 12, addr);
}

void ip4_set_dst(uint8_t *p, const struct ip4_info *ip, uint32_t addr)
{
	ip4_set_addr(p, ip, 16, addr);
}

int tcp_trim(uint8_t *p, size_t *len, size_t keep)
{
	struct ip4_info ip;
	struct tcp_info t;
	size_t n;

	if (ip4_parse(p, *len, &ip) != PKT_OK || ip.proto != IPPROTO_TCP_ ||
	    tcp_parse(p, &ip, &t) != PKT_OK)
		return -1;
	if (keep >= t.payload_len)
		return 0;
	n = t.payload_off + keep;
	be16_put(p + 2, (uint16_t)n);
	p[t.off + 13] &= (uint8_t)~TCPF_FIN;
	*len = n;
	ip4_fix_csum(p, ip.hlen);
	ip.tot_len = n;
	be16_put(p + t.off + 16, 0);
	be16_put(p + t.off + 16, tcp_csum(p, &ip));
	return 1;
}

size_t ip4_build(uint8_t *out, uint8_t proto, uint32_t src, uint32_t dst,
		 uint16_t id, size_t payload_len)
{
	if (payload_len > 65535 - IP4_HDR_LEN)
		return 0;
	memset(out, 0, IP4_HDR_LEN);
	out[0] = 0x45;                  /* version 4, 5 words */
	be16_put(out + 2, (uint16_t)(IP4_HDR_LEN + payload_len));
	be16_put(out + 4, id);
	out[8] = 64;                    /* TTL */
	out[9] = proto;
	be32_put(out + 12, src);
	be32_put(out + 16, dst);
	ip4_fix_csum(out, IP4_HDR_LEN);
	return IP4_HDR_LEN;
}

const char *ip4_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
	return buf;
}

void pkt_view_parse(struct pkt_view *v, uint8_t *data, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->data = data;
	v->len = len;
	v->err = ip4_parse(data, len, &v->ip);
	if (v->err != PKT_OK)
		return;
	if (v->ip.proto == IPPROTO_TCP_)
		v->tcp_err = tcp_parse(data, &v->ip, &v->tcp);
	else if (v->ip.proto == IPPROTO_GRE_)
		v->gre_err = gre_parse(data + v->ip.hlen,
				       v->ip.tot_len - v->ip.hlen, &v->gre);
}
