/*
 * The alias space: the Call IDs pptpgw itself shows to outside peers, shared
 * by both engines.  The translator takes one for each call it aliases, the
 * relay reserves one for each call it places toward a server; both come from
 * here so that GRE from (outside to pub) names one call whichever engine
 * owns it.
 *
 * Aliases are unique per scope (public address, outside address): the only
 * scope in which the outside peer and the GRE coming back can tell calls
 * apart.  A freed alias is held down for holddown_ms, so late GRE of an
 * ended call never reaches a new one.
 *
 * Records are plain data (owner values are the engines' slot numbers, never
 * pointers), so the space can be saved, restored and copied to a standby.
 * Pure: time comes in as a parameter, randomness from a seed.
 */
#ifndef PPTPGW_ALIAS_H
#define PPTPGW_ALIAS_H

#include <stdint.h>

#include "util/hidx.h"

#define ALIAS_NONE UINT32_MAX              /* no owner: free or held down */
#define ALIAS_RESERVED (UINT32_MAX - 1)    /* owner of a relay reservation */

struct alias_cfg {
	uint32_t max_taken;      /* aliases owned by calls at once */
	uint32_t max_reserved;   /* reservations at once (the relay's) */
	uint32_t holddown_ms;    /* a freed alias is not reused before this */
	uint64_t seed;
};

struct alias_hold {
	uint32_t pub, outside;
	uint16_t alias;
	uint64_t until;          /* ms */
};

struct alias_stats {
	uint64_t exhausted;         /* takes and reservations that failed */
	uint64_t holddown_evicted;  /* hold-downs ended early: ring full */
};

struct alias_space {
	struct alias_cfg cfg;
	uint32_t ntaken, nreserved;
	/* Hold-downs in a ring, oldest first: all last the same time. */
	struct alias_hold *holds;
	uint32_t hold_cap, hold_head, hold_n;
	uint64_t rng;
	struct alias_stats st;
	struct hidx idx;         /* derived from the rest: rebuilt on restore */
};

int alias_init(struct alias_space *as, const struct alias_cfg *cfg);
void alias_destroy(struct alias_space *as);

/* Applies to aliases freed from now on. */
void alias_set_holddown(struct alias_space *as, uint32_t ms);

/*
 * A random alias of (pub, outside), neither in use nor held down, recorded
 * as owner's (a slot number of the caller's, below ALIAS_RESERVED).  0, or
 * -1 when the scope has none free or max_taken aliases are taken.
 */
int alias_take(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint32_t owner, uint16_t *alias);

/* Free an alias taken by owner and hold it down; nothing if it is not
 * owner's. */
void alias_put(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint16_t alias, uint32_t owner, uint64_t now);

/* The owner recorded for an alias in use, ALIAS_RESERVED for a
 * reservation, ALIAS_NONE when it is free or held down. */
uint32_t alias_owner(struct alias_space *as, uint32_t pub, uint32_t outside,
		     uint16_t alias);

/*
 * The relay's Call IDs toward a server: an alias with no owner to look up,
 * bounded by max_reserved.  A released one is held down like any other.
 */
int alias_reserve(struct alias_space *as, uint32_t pub, uint32_t outside,
		  uint16_t *alias);
void alias_release(struct alias_space *as, uint32_t pub, uint32_t outside,
		   uint16_t alias, uint64_t now);

/* Whether an alias is held down (freed less than holddown_ms ago). */
int alias_held(struct alias_space *as, uint32_t pub, uint32_t outside,
	       uint16_t alias);

/*
 * Restore (saved state): record alias of (pub, outside) as owner's, as
 * alias_take had picked it.  -1 if it is 0, in use, held down, or
 * max_taken aliases are taken.
 */
int alias_claim(struct alias_space *as, uint32_t pub, uint32_t outside,
		uint32_t owner, uint16_t alias);
/*
 * Restore a hold-down that lasts until `until`; restored oldest first, like
 * the ring they come from.  -1 if the alias is 0, in use or held already.
 */
int alias_hold_restore(struct alias_space *as, uint32_t pub,
		       uint32_t outside, uint16_t alias, uint64_t until);
/* The i-th hold-down, oldest first (i < alias_holds()). */
const struct alias_hold *alias_hold_at(const struct alias_space *as,
				       uint32_t i);

/* End the hold-downs that have passed. */
void alias_expire(struct alias_space *as, uint64_t now);
uint32_t alias_holds(const struct alias_space *as);

#endif
