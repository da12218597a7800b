/*
 * IPv4 and TCP header parsing for queued packets, and Internet checksum
 * helpers: full computation and RFC 1624 incremental updates.  Pure.
 */
#ifndef PPTPGW_PKT_H
#define PPTPGW_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "wire/gre.h"

#define IPPROTO_GRE_ 47
#define IPPROTO_TCP_ 6
#define IP4_HDR_LEN 20      /* a header without options */

enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_SHORT,      /* shorter than a header says */
	PKT_ERR_VERSION,    /* not IPv4 */
	PKT_ERR_HLEN,       /* IHL below 5 or beyond the packet */
	PKT_ERR_TOTLEN,     /* total length below the header or beyond the buffer */
	PKT_ERR_FRAGMENT,   /* a fragment: transport header not reliably present */
	PKT_ERR_TCPHDR,     /* TCP data offset below 5 or beyond the packet */
	PKT_ERR_COUNT
};

struct ip4_info {
	size_t hlen;        /* IP header length in bytes */
	size_t tot_len;     /* from the header; the buffer may hold trailing bytes */
	uint8_t proto;
	uint32_t src, dst;  /* host byte order */
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

struct tcp_info {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	size_t off;         /* offset of the TCP header in the packet */
	size_t payload_off; /* offset of the payload in the packet */
	size_t payload_len;
};

const char *pkt_strerror(enum pkt_err e);

/* Parse the IPv4 header of the packet at p (len bytes). */
enum pkt_err ip4_parse(const uint8_t *p, size_t len, struct ip4_info *ip);

/* Parse the TCP header that follows a parsed IPv4 header. */
enum pkt_err tcp_parse(const uint8_t *p, const struct ip4_info *ip,
		       struct tcp_info *t);

/* Ones' complement sum of n bytes added to sum (not folded, not inverted). */
uint32_t csum_partial(const void *data, size_t n, uint32_t sum);

/* Fold a 32-bit sum and invert it: the value to store in a checksum field. */
uint16_t csum_fold(uint32_t sum);

/*
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data
 * changes from old to new.  Values in host order.
 */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_);

/*
 * Update the checksum stored big-endian at check for n bytes at data[] that
 * change to repl[] (data is changed too).  pos is the byte offset of data
 * from the start of the checksummed area, which decides whether each byte is
 * the high or the low half of its word.
 */
void csum_replace_bytes(uint8_t *check, uint8_t *data, const uint8_t *repl,
			size_t n, size_t pos);

/* Recompute the IPv4 header checksum from scratch. */
void ip4_fix_csum(uint8_t *p, size_t hlen);

/* Full TCP checksum of a parsed packet, with the pseudo header. */
uint16_t tcp_csum(const uint8_t *p, const struct ip4_info *ip);

/*
 * 1 when the TCP checksum stored in a parsed packet is right (either form
 * of zero, as an incremental update may leave it), 0 when not.
 */
int tcp_csum_ok(const uint8_t *p, const struct ip4_info *ip);

/*
 * Rewrite the source or destination address and update the IP header
 * checksum incrementally, and the TCP pseudo-header part when proto is TCP
 * (GRE in PPTP has no checksum of its own).
 */
void ip4_set_src(uint8_t *p, const struct ip4_info *ip, uint32_t addr);
void ip4_set_dst(uint8_t *p, const struct ip4_info *ip, uint32_t addr);

/*
 * One queued IPv4 packet, parsed once by the I/O layer and handed to the
 * engine that owns it: the IPv4 header, then TCP or enhanced GRE.  Offsets,
 * not pointers, beyond data: a copy of the packet takes the view along by
 * setting data.  The engines change data in place, never its geometry.
 */
struct pkt_view {
	uint8_t *data;
	size_t len;
	enum pkt_err err;        /* of the IPv4 header; nothing below if set */
	struct ip4_info ip;
	enum pkt_err tcp_err;    /* proto TCP: PKT_OK when tcp is valid */
	struct tcp_info tcp;
	enum gre_err gre_err;    /* proto GRE: GRE_OK when gre is valid */
	struct gre_info gre;     /* its header at data + ip.hlen */
};

/* Parse data (len bytes) into v: IPv4, then TCP or GRE by protocol. */
void pkt_view_parse(struct pkt_view *v, uint8_t *data, size_t len);

/*
 * Shorten an IPv4/TCP packet's payload to its first keep bytes: the total
 * length, the IP checksum and the TCP checksum follow, and FIN goes (it
 * belongs after the bytes cut off).  *len becomes the packet's new length.
 * 1: trimmed; 0: the payload is not longer than keep, nothing changed;
 * -1: not a parsable IPv4/TCP packet, nothing changed.
 */
int tcp_trim(uint8_t *p, size_t *len, size_t keep);

/*
 * Write an option-less IPv4 header (IP4_HDR_LEN bytes, TTL 64, no flags)
 * for payload_len bytes of proto from src to dst, checksum included.
 * Returns IP4_HDR_LEN, or 0 when the packet would exceed 65535 bytes.
 */
size_t ip4_build(uint8_t *out, uint8_t proto, uint32_t src, uint32_t dst,
		 uint16_t id, size_t payload_len);

/* Dotted-quad text of a host-order address, in a caller buffer (>= 16). */
const char *ip4_str(uint32_t addr, char *buf);

#endif
