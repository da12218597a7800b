/*
 * An open-addressing hash index from small fixed keys to 32-bit values
 * (slot numbers), sized once for the records it must hold so it is never
 * full.  The kind byte keeps several key spaces apart in one index.  Pure:
 * no I/O; the seed comes from the caller.
 */
#ifndef PPTPGW_HIDX_H
#define PPTPGW_HIDX_H

#include <stdint.h>

struct hkey {
	uint32_t a, b, c;
	uint16_t d;
	uint8_t kind, pad;
};

struct hslot;

struct hidx {
	struct hslot *s;
	uint32_t mask;
	uint64_t seed;
};

/* A 64-bit finaliser: hashing, seeding and splitmix-style generators. */
uint64_t hidx_mix64(uint64_t x);

static inline struct hkey hkey_make(uint8_t kind, uint32_t a, uint32_t b,
				    uint32_t c, uint16_t d)
{
	struct hkey k = { a, b, c, d, kind, 0 };

	return k;
}

/* Room for records entries at once (at most half full); 0 or -1. */
int hidx_init(struct hidx *h, uint32_t records, uint64_t seed);
void hidx_destroy(struct hidx *h);

/* The value stored under k, or NULL. */
uint32_t *hidx_find(struct hidx *h, const struct hkey *k);
/* Store val under k, replacing any value there. */
void hidx_put(struct hidx *h, const struct hkey *k, uint32_t val);
void hidx_del(struct hidx *h, const struct hkey *k);

#endif
