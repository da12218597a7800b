/*
 * Enhanced GRE (RFC 2637 section 4.1), the PPTP data channel.  Pure.
 */
#ifndef PPTPGW_GRE_H
#define PPTPGW_GRE_H

#include <stddef.h>
#include <stdint.h>

#define GRE_PROTO_PPP 0x880B
#define GRE_CALLID_OFF 6

enum gre_err {
	GRE_OK = 0,
	GRE_ERR_SHORT,     /* shorter than the header its flags announce */
	GRE_ERR_VERSION,   /* version is not 1 */
	GRE_ERR_FLAGS,     /* C, R, s, recursion or reserved set, or K clear */
	GRE_ERR_PROTO,     /* protocol is not PPP (0x880B) */
	GRE_ERR_LENGTH,    /* payload length beyond the packet */
	GRE_ERR_COUNT
};

struct gre_info {
	uint16_t payload_len;
	uint16_t call_id;
	int has_seq, has_ack;
	uint32_t seq, ack;
	size_t hdr_len;
};

const char *gre_strerror(enum gre_err e);

/* Parse an enhanced GRE header at p (len bytes: GRE header and payload). */
enum gre_err gre_parse(const uint8_t *p, size_t len, struct gre_info *g);

/* Rewrite the Call ID of the header at p (at least GRE_CALLID_OFF + 2
 * bytes).  PPTP's GRE has no checksum to follow. */
void gre_set_call_id(uint8_t *p, uint16_t id);

/* Build a header with the given fields; returns its length or 0 if short. */
size_t gre_build(const struct gre_info *g, uint8_t *out, size_t outlen);

#endif
