/*
 * Test helper: builds IPv4 packets carrying TCP (with PPTP control messages)
 * or enhanced GRE, with correct checksums, and checks checksums of packets
 * that come back.  Header-only and independent of src/pkt.c on purpose: the
 * checksum code here is a second implementation, so a slip in the module's
 * incremental updates shows up as a mismatch instead of agreeing with itself.
 */
#ifndef PPTPGW_PKTGEN_H
#define PPTPGW_PKTGEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/pptp_msg.h"

#define PG_IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | \
	 (uint32_t)(d))

#define PG_FIN 0x01
#define PG_SYN 0x02
#define PG_RST 0x04
#define PG_PSH 0x08
#define PG_ACK 0x10

static inline void pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t pg_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pg_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Ones' complement sum, byte by byte, big-endian words. */
static inline uint32_t pg_sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t pg_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline size_t pg_ihl(const uint8_t *pkt)
{
	return (size_t)(pkt[0] & 0x0f) * 4;
}

static inline size_t pg_totlen(const uint8_t *pkt)
{
	return pg_get16(pkt + 2);
}

static inline void pg_ip4_hdr(uint8_t *b, uint32_t src, uint32_t dst,
			      uint8_t proto, size_t tot, uint16_t id)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	pg_put16(b + 2, (uint16_t)tot);
	pg_put16(b + 4, id);
	b[6] = 0x40;                        /* DF */
	b[8] = 64;
	b[9] = proto;
	pg_put32(b + 12, src);
	pg_put32(b + 16, dst);
	pg_put16(b + 10, pg_fold(pg_sum(b, 20, 0)));
}

/* 1 when the IPv4 header checksum verifies. */
static inline int pg_ip_csum_ok(const uint8_t *pkt)
{
	return pg_fold(pg_sum(pkt, pg_ihl(pkt), 0)) == 0;
}

/* TCP checksum over pseudo header and segment, the field taken as zero. */
static inline uint16_t pg_tcp_csum_calc(const uint8_t *pkt)
{
	size_t ihl = pg_ihl(pkt), tl = pg_totlen(pkt) - ihl;
	uint32_t s = 0;

	s = pg_sum(pkt + 12, 8, s);
	s += 6;
	s += (uint32_t)tl;
	s = pg_sum(pkt + ihl, 16, s);
	s = pg_sum(pkt + ihl + 18, tl - 18, s);
	return pg_fold(s);
}

/* 1 when the stored TCP checksum is the right one. */
static inline int pg_tcp_csum_ok(const uint8_t *pkt)
{
	size_t ihl = pg_ihl(pkt);
	uint16_t stored = pg_get16(pkt + ihl + 16), calc = pg_tcp_csum_calc(pkt);

	/* 0x0000 and 0xffff are the same ones' complement value. */
	return stored == calc ||
	       ((stored ^ calc) == 0xffff && (stored == 0 || stored == 0xffff));
}

/*
 * IPv4 + TCP (20-byte header, no options).  Returns the packet length, 0 if
 * cap is too small.
 */
static inline size_t pg_tcp(uint8_t *b, size_t cap, uint32_t src,
			    uint16_t sport, uint32_t dst, uint16_t dport,
			    uint32_t seq, uint32_t ack, uint8_t flags,
			    const uint8_t *payload, size_t plen)
{
	size_t tot = 40 + plen;
	uint8_t *t = b + 20;

	if (cap < tot)
		return 0;
	pg_ip4_hdr(b, src, dst, 6, tot, (uint16_t)(seq ^ 0x5a5a));
	memset(t, 0, 20);
	pg_put16(t, sport);
	pg_put16(t + 2, dport);
	pg_put32(t + 4, seq);
	pg_put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	pg_put16(t + 14, 65535);
	if (plen)
		memcpy(t + 20, payload, plen);
	pg_put16(t + 16, pg_tcp_csum_calc(b));
	return tot;
}

/* Where the TCP payload of a packet starts, and how long it is. */
static inline size_t pg_tcp_payload_off(const uint8_t *pkt)
{
	return pg_ihl(pkt) + (size_t)(pkt[pg_ihl(pkt) + 12] >> 4) * 4;
}

static inline size_t pg_tcp_payload_len(const uint8_t *pkt)
{
	return pg_totlen(pkt) - pg_tcp_payload_off(pkt);
}

/*
 * An enhanced GRE header (RFC 2637 4.1) at g, written field by field here
 * rather than with gre_build, so the module's parser is checked against an
 * independent writer.  seq/ack are present when has_seq/has_ack; plen is
 * the payload length it announces.  Returns the header's length.
 */
static inline size_t pg_gre_hdr(uint8_t *g, uint16_t call_id, int has_seq,
				uint32_t seq, int has_ack, uint32_t ack,
				size_t plen)
{
	size_t o = 8;
	uint16_t fl = 0x2001;   /* K, version 1 */

	if (has_seq)
		fl |= 0x1000;
	if (has_ack)
		fl |= 0x0080;
	pg_put16(g, fl);
	pg_put16(g + 2, 0x880B);
	pg_put16(g + 4, (uint16_t)plen);
	pg_put16(g + 6, call_id);
	if (has_seq) {
		pg_put32(g + o, seq);
		o += 4;
	}
	if (has_ack) {
		pg_put32(g + o, ack);
		o += 4;
	}
	return o;
}

/* IPv4 + enhanced GRE + payload. */
static inline size_t pg_gre(uint8_t *b, size_t cap, uint32_t src,
			    uint32_t dst, uint16_t call_id, int has_seq,
			    uint32_t seq, int has_ack, uint32_t ack,
			    const uint8_t *payload, size_t plen)
{
	size_t gh = 8 + (has_seq ? 4 : 0) + (has_ack ? 4 : 0);
	size_t tot = 20 + gh + plen;

	if (cap < tot)
		return 0;
	pg_ip4_hdr(b, src, dst, 47, tot, (uint16_t)(call_id ^ seq));
	pg_gre_hdr(b + 20, call_id, has_seq, seq, has_ack, ack, plen);
	if (plen)
		memcpy(b + 20 + gh, payload, plen);
	return tot;
}

static inline uint16_t pg_gre_callid(const uint8_t *pkt)
{
	return pg_get16(pkt + pg_ihl(pkt) + 6);
}

static inline uint32_t pg_src(const uint8_t *pkt)
{
	return pg_get32(pkt + 12);
}

static inline uint32_t pg_dst(const uint8_t *pkt)
{
	return pg_get32(pkt + 16);
}

/*
 * A control message of the given type with the fields a gateway cares
 * about.  For SCCRQ/SCCRP max channels is set; call_id/peer_id/result are
 * put where the type has them.  Returns the length (0 for a bad type).
 */
static inline size_t pg_msg(uint8_t *out, size_t cap, unsigned type,
			    uint16_t call_id, uint16_t peer_id,
			    uint8_t result)
{
	static struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)type;
	switch (type) {
	case PPTP_SCCRQ:
	case PPTP_SCCRP:
		m.num[PF_PROTO_VERSION] = 0x0100;
		m.num[PF_RESULT] = result;
		m.num[PF_FRAMING_CAPS] = 1;
		m.num[PF_BEARER_CAPS] = 1;
		m.num[PF_MAX_CHANNELS] = 1;
		memcpy(m.blob[PB_HOSTNAME], "pktgen", 6);
		break;
	case PPTP_OCRQ:
	case PPTP_ICRQ:
		m.num[PF_CALL_ID] = call_id;
		m.num[PF_CALL_SERIAL] = 0x4242;
		m.num[PF_MIN_BPS] = 2400;
		m.num[PF_MAX_BPS] = 10000000;
		m.num[PF_RECV_WINDOW] = 64;
		break;
	case PPTP_OCRP:
	case PPTP_ICRP:
		m.num[PF_CALL_ID] = call_id;
		m.num[PF_PEER_CALL_ID] = peer_id;
		m.num[PF_RESULT] = result;
		m.num[PF_RECV_WINDOW] = 64;
		break;
	case PPTP_CCRQ:
	case PPTP_CDN:
		m.num[PF_CALL_ID] = call_id;
		m.num[PF_RESULT] = result;
		break;
	case PPTP_ICCN:
	case PPTP_WEN:
	case PPTP_SLI:
		m.num[PF_PEER_CALL_ID] = call_id;
		m.num[PF_SEND_ACCM] = 0xffffffff;
		break;
	case PPTP_STOPCCRQ:
		m.num[PF_REASON] = 1;
		break;
	case PPTP_STOPCCRP:
	case PPTP_ECHORP:
		m.num[PF_RESULT] = result;
		m.num[PF_IDENTIFIER] = 0x01020304;
		break;
	case PPTP_ECHORQ:
		m.num[PF_IDENTIFIER] = 0x01020304;
		break;
	default:
		break;
	}
	return pptp_build(&m, out, cap);
}

#endif
