/*
 * Bounds-checked big-endian cursor over packet memory.  Parsers read through
 * this and never cast packet bytes to structs; every read fails cleanly when
 * the input is short, so a truncated packet is an error value, not a crash.
 */
#ifndef PPTPGW_RD_H
#define PPTPGW_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t len;
};

static inline struct rd rd_init(const void *p, size_t len)
{
	struct rd r = { (const uint8_t *)p, len };
	return r;
}

static inline int rd_skip(struct rd *r, size_t n)
{
	if (r->len < n)
		return -1;
	r->p += n;
	r->len -= n;
	return 0;
}

static inline int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->len < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->len--;
	return 0;
}

static inline int rd_u16(struct rd *r, uint16_t *v)
{
	if (r->len < 2)
		return -1;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->len -= 2;
	return 0;
}

static inline int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->len < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->len -= 4;
	return 0;
}

static inline int rd_bytes(struct rd *r, void *dst, size_t n)
{
	if (r->len < n)
		return -1;
	memcpy(dst, r->p, n);
	r->p += n;
	r->len -= n;
	return 0;
}

/* Plain big-endian loads and stores for callers that checked bounds. */
static inline uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
