#include "util/hidx.h"

#include <stdlib.h>

/*
 * Linear probing with backward-shift deletion keeps lookups O(1) without
 * tombstones; the seeded mix keeps a hostile peer from choosing colliding
 * keys.
 */
struct hslot {
	struct hkey k;
	uint32_t val;
	uint8_t used;
};

uint64_t hidx_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint32_t hk_hash(const struct hidx *h, const struct hkey *k)
{
	uint64_t x = h->seed;

	x = hidx_mix64(x ^ ((uint64_t)k->a << 32 | k->b));
	x = hidx_mix64(x ^ ((uint64_t)k->c << 32 | (uint32_t)k->d << 8 |
			    k->kind));
	return (uint32_t)x & h->mask;
}

static int hk_eq(const struct hkey *x, const struct hkey *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d &&
	       x->kind == y->kind;
}

int hidx_init(struct hidx *h, uint32_t records, uint64_t seed)
{
	uint32_t cap = 16;

	while (cap < records * 2)
		cap <<= 1;
	h->s = calloc(cap, sizeof(*h->s));
	h->mask = cap - 1;
	h->seed = seed;
	return h->s ? 0 : -1;
}

void hidx_destroy(struct hidx *h)
{
	free(h->s);
	h->s = NULL;
}

uint32_t *hidx_find(struct hidx *h, const struct hkey *k)
{
	uint32_t i = hk_hash(h, k);

	while (h->s[i].used) {
		if (hk_eq(&h->s[i].k, k))
			return &h->s[i].val;
		i = (i + 1) & h->mask;
	}
	return NULL;
}

/* The index is sized for every record its owner can hold: never full. */
void hidx_put(struct hidx *h, const struct hkey *k, uint32_t val)
{
	uint32_t i = hk_hash(h, k);

	while (h->s[i].used) {
		if (hk_eq(&h->s[i].k, k)) {
			h->s[i].val = val;
			return;
		}
		i = (i + 1) & h->mask;
	}
	h->s[i].k = *k;
	h->s[i].val = val;
	h->s[i].used = 1;
}

void hidx_del(struct hidx *h, const struct hkey *k)
{
	uint32_t i = hk_hash(h, k), j;

	while (h->s[i].used && !hk_eq(&h->s[i].k, k))
		i = (i + 1) & h->mask;
	if (!h->s[i].used)
		return;
	/* Backward shift: move later entries of the probe run into the gap. */
	j = i;
	for (;;) {
		uint32_t home;

		h->s[i].used = 0;
		for (;;) {
			j = (j + 1) & h->mask;
			if (!h->s[j].used)
				return;
			home = hk_hash(h, &h->s[j].k);
			/* Stay if home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		h->s[i] = h->s[j];
		i = j;
	}
}
