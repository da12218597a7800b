#include "alias/alias.h"

#include <stdlib.h>
#include <string.h>

/* Key kinds in the index: aliases in use, aliases held down. */
enum { K_ALIAS = 1, K_HOLD };

static struct hkey alias_key(uint8_t kind, uint32_t pub, uint32_t outside,
			     uint16_t alias)
{
	return hkey_make(kind, pub, outside, 0, alias);
}

static uint64_t rng_next(struct alias_space *as)
{
	/* splitmix64: seeded by the caller, deterministic in tests. */
	as->rng += 0x9e3779b97f4a7c15ULL;
	return hidx_mix64(as->rng);
}

int alias_init(struct alias_space *as, const struct alias_cfg *cfg)
{
	memset(as, 0, sizeof(*as));
	as->cfg = *cfg;
	as->hold_cap = (cfg->max_taken + cfg->max_reserved) * 2;
	if (as->hold_cap == 0)
		as->hold_cap = 1;
	as->holds = calloc(as->hold_cap, sizeof(*as->holds));
	if (!as->holds ||
	    hidx_init(&as->idx, cfg->max_taken + cfg->max_reserved +
			       as->hold_cap,
		      hidx_mix64(cfg->seed ^ 0x2545f491)) < 0) {
		alias_destroy(as);
		return -1;
	}
	as->rng = cfg->seed;
	return 0;
}

void alias_destroy(struct alias_space *as)
{
	hidx_destroy(&as->idx);
	free(as->holds);
	memset(as, 0, sizeof(*as));
}

void alias_set_holddown(struct alias_space *as, uint32_t ms)
{
	as->cfg.holddown_ms = ms;
}

int alias_held(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint16_t alias)
{
	struct hkey k = alias_key(K_HOLD, pub, outside, alias);

	return hidx_find(&as->idx, &k) != NULL;
}

uint32_t alias_owner(struct alias_space *as, uint32_t pub, uint32_t outside,
		     uint16_t alias)
{
	struct hkey k = alias_key(K_ALIAS, pub, outside, alias);
	uint32_t *v = hidx_find(&as->idx, &k);

	return v ? *v : ALIAS_NONE;
}

static int alias_free(struct alias_space *as, uint32_t pub, uint32_t outside,
		      uint16_t alias)
{
	return alias != 0 &&
	       alias_owner(as, pub, outside, alias) == ALIAS_NONE &&
	       !alias_held(as, pub, outside, alias);
}

static int alias_pick(struct alias_space *as, uint32_t pub, uint32_t outside,
		      uint16_t *out)
{
	uint32_t i, start;

	/* Random probes find a free alias at once unless the scope is full. */
	for (i = 0; i < 32; i++) {
		uint16_t a = (uint16_t)rng_next(as);

		if (alias_free(as, pub, outside, a)) {
			*out = a;
			return 0;
		}
	}
	start = (uint32_t)rng_next(as);
	for (i = 0; i < 65536; i++) {
		uint16_t a = (uint16_t)(start + i);

		if (alias_free(as, pub, outside, a)) {
			*out = a;
			return 0;
		}
	}
	return -1;
}

static void hold_until(struct alias_space *as, uint32_t pub,
		       uint32_t outside, uint16_t alias, uint64_t until)
{
	struct alias_hold *h;
	struct hkey k;

	if (as->hold_n == as->hold_cap) {
		/* Ring full: the oldest hold-down ends early. */
		h = &as->holds[as->hold_head];
		k = alias_key(K_HOLD, h->pub, h->outside, h->alias);
		hidx_del(&as->idx, &k);
		as->hold_head = (as->hold_head + 1) % as->hold_cap;
		as->hold_n--;
		as->st.holddown_evicted++;
	}
	h = &as->holds[(as->hold_head + as->hold_n) % as->hold_cap];
	h->pub = pub;
	h->outside = outside;
	h->alias = alias;
	h->until = until;
	as->hold_n++;
	k = alias_key(K_HOLD, h->pub, h->outside, h->alias);
	hidx_put(&as->idx, &k, 0);
}

static void hold(struct alias_space *as, uint32_t pub, uint32_t outside,
		 uint16_t alias, uint64_t now)
{
	hold_until(as, pub, outside, alias, now + as->cfg.holddown_ms);
}

int alias_take(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint32_t owner, uint16_t *alias)
{
	struct hkey k;

	if (owner >= ALIAS_RESERVED || as->ntaken >= as->cfg.max_taken ||
	    alias_pick(as, pub, outside, alias) < 0) {
		as->st.exhausted++;
		return -1;
	}
	k = alias_key(K_ALIAS, pub, outside, *alias);
	hidx_put(&as->idx, &k, owner);
	as->ntaken++;
	return 0;
}

int alias_claim(struct alias_space *as, uint32_t pub, uint32_t outside,
		uint32_t owner, uint16_t alias)
{
	struct hkey k;

	if (owner >= ALIAS_RESERVED || as->ntaken >= as->cfg.max_taken ||
	    !alias_free(as, pub, outside, alias))
		return -1;
	k = alias_key(K_ALIAS, pub, outside, alias);
	hidx_put(&as->idx, &k, owner);
	as->ntaken++;
	return 0;
}

int alias_hold_restore(struct alias_space *as, uint32_t pub,
		       uint32_t outside, uint16_t alias, uint64_t until)
{
	if (!alias_free(as, pub, outside, alias))
		return -1;
	hold_until(as, pub, outside, alias, until);
	return 0;
}

const struct alias_hold *alias_hold_at(const struct alias_space *as,
				       uint32_t i)
{
	return i < as->hold_n ?
	       &as->holds[(as->hold_head + i) % as->hold_cap] : NULL;
}

/* Free an alias owned by owner (a slot or ALIAS_RESERVED); 0 if it was. */
static int drop(struct alias_space *as, uint32_t pub, uint32_t outside,
		uint16_t alias, uint32_t owner, uint64_t now)
{
	struct hkey k = alias_key(K_ALIAS, pub, outside, alias);
	uint32_t *v = hidx_find(&as->idx, &k);

	if (!v || *v != owner)
		return -1;
	hidx_del(&as->idx, &k);
	hold(as, pub, outside, alias, now);
	return 0;
}

void alias_put(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint16_t alias, uint32_t owner, uint64_t now)
{
	if (owner < ALIAS_RESERVED &&
	    drop(as, pub, outside, alias, owner, now) == 0)
		as->ntaken--;
}

int alias_reserve(struct alias_space *as, uint32_t pub, uint32_t outside,
		  uint16_t *alias)
{
	struct hkey k;

	if (as->nreserved >= as->cfg.max_reserved ||
	    alias_pick(as, pub, outside, alias) < 0) {
		as->st.exhausted++;
		return -1;
	}
	k = alias_key(K_ALIAS, pub, outside, *alias);
	hidx_put(&as->idx, &k, ALIAS_RESERVED);
	as->nreserved++;
	return 0;
}

void alias_release(struct alias_space *as, uint32_t pub, uint32_t outside,
		   uint16_t alias, uint64_t now)
{
	if (drop(as, pub, outside, alias, ALIAS_RESERVED, now) == 0)
		as->nreserved--;
}

void alias_expire(struct alias_space *as, uint64_t now)
{
	/* Hold-downs all last the same time, so the ring is in expiry order. */
	while (as->hold_n > 0) {
		struct alias_hold *h = &as->holds[as->hold_head];
		struct hkey k;

		if (h->until > now)
			break;
		k = alias_key(K_HOLD, h->pub, h->outside, h->alias);
		hidx_del(&as->idx, &k);
		as->hold_head = (as->hold_head + 1) % as->hold_cap;
		as->hold_n--;
	}
}

uint32_t alias_holds(const struct alias_space *as)
{
	return as->hold_n;
}
