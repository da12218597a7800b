/*
 * Tests for alias.c, the alias space both engines draw from: scopes, random
 * choice, owners, hold-down with its ring, the relay's bounded reservations,
 * and (with a call table drawing from the same space) that a reservation is
 * never handed to a translated call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alias/alias.h"
#include "xlate/calltab.h"
#include "check.h"

#define IN1 0xC6120001u    /* 198.18.0.1 */
#define SRV1 0xC6130002u   /* 198.19.0.2 */
#define SRV2 0xC6130003u
#define PUB1 0xCB007101u   /* 203.0.113.1 */
#define PUB2 0xCB007102u

static struct alias_cfg acfg(uint32_t taken, uint32_t reserved,
			     uint32_t holddown, uint64_t seed)
{
	struct alias_cfg c;

	memset(&c, 0, sizeof(c));
	c.max_taken = taken;
	c.max_reserved = reserved;
	c.holddown_ms = holddown;
	c.seed = seed;
	return c;
}

static void test_take_put(void)
{
	struct alias_space as;
	struct alias_cfg c = acfg(8, 0, 1000, 1);
	uint16_t a = 0, b = 0;

	CHECK_EQ(0, alias_init(&as, &c));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 3, &a));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 4, &b));
	CHECK(a != 0 && b != 0 && a != b);
	CHECK_EQ(3, alias_owner(&as, PUB1, SRV1, a));
	CHECK_EQ(4, alias_owner(&as, PUB1, SRV1, b));
	/* An alias means something only in its scope. */
	CHECK_EQ(ALIAS_NONE, alias_owner(&as, PUB2, SRV1, a));
	CHECK_EQ(ALIAS_NONE, alias_owner(&as, PUB1, SRV2, a));
	CHECK_EQ(2, as.ntaken);
	/* Only the owner frees it. */
	alias_put(&as, PUB1, SRV1, a, 4, 10);
	CHECK_EQ(3, alias_owner(&as, PUB1, SRV1, a));
	CHECK_EQ(0, alias_held(&as, PUB1, SRV1, a));
	alias_put(&as, PUB1, SRV1, a, 3, 10);
	CHECK_EQ(ALIAS_NONE, alias_owner(&as, PUB1, SRV1, a));
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, a));
	CHECK_EQ(0, alias_held(&as, PUB2, SRV1, a));
	CHECK_EQ(1, as.ntaken);
	CHECK_EQ(1, alias_holds(&as));
	/* Freeing twice changes nothing. */
	alias_put(&as, PUB1, SRV1, a, 3, 10);
	CHECK_EQ(1, as.ntaken);
	CHECK_EQ(1, alias_holds(&as));
	/* The hold-down lasts exactly holddown_ms. */
	alias_expire(&as, 1009);
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, a));
	alias_expire(&as, 1010);
	CHECK_EQ(0, alias_held(&as, PUB1, SRV1, a));
	CHECK_EQ(0, alias_holds(&as));
	/* A reserved owner value is not a slot: refused. */
	CHECK_EQ(-1, alias_take(&as, PUB1, SRV1, ALIAS_RESERVED, &a));
	alias_destroy(&as);
}

static void test_max_taken(void)
{
	struct alias_space as;
	struct alias_cfg c = acfg(3, 0, 1000, 2);
	uint16_t a[4];
	uint32_t i;

	CHECK_EQ(0, alias_init(&as, &c));
	for (i = 0; i < 3; i++)
		CHECK_EQ(0, alias_take(&as, PUB1, i ? SRV2 : SRV1, i, &a[i]));
	CHECK_EQ(-1, alias_take(&as, PUB2, SRV1, 3, &a[3]));
	CHECK_EQ(1, as.st.exhausted);
	alias_put(&as, PUB1, SRV1, a[0], 0, 5);
	CHECK_EQ(0, alias_take(&as, PUB2, SRV1, 3, &a[3]));
	alias_destroy(&as);
}

static void seq_of(uint64_t seed, uint16_t *out, int n)
{
	struct alias_space as;
	struct alias_cfg c = acfg(64, 0, 1000, seed);
	int i;

	if (alias_init(&as, &c) < 0)
		return;
	for (i = 0; i < n; i++)
		if (alias_take(&as, PUB1, SRV1, (uint32_t)i, &out[i]) < 0)
			out[i] = 0;
	alias_destroy(&as);
}

static void test_seed_reproducible(void)
{
	uint16_t a[40], b[40], d[40];

	memset(a, 0, sizeof(a));
	memset(b, 1, sizeof(b));
	memset(d, 2, sizeof(d));
	seq_of(12345, a, 40);
	seq_of(12345, b, 40);
	seq_of(12346, d, 40);
	CHECK_MEM(a, b, sizeof(a));
	CHECK(memcmp(a, d, sizeof(a)) != 0);
}

/*
 * A full scope: every alias but one taken, one held down.  The held one is
 * never offered before its hold-down passes, and a full scope fails.
 */
static void test_full_scope_holddown(void)
{
	struct alias_space as;
	struct alias_cfg c = acfg(70000, 0, 5000, 99);
	static uint8_t seen[65536];
	uint16_t held, a;
	int i, fails = 0, dup = 0, got_held = 0;

	memset(seen, 0, sizeof(seen));
	CHECK_EQ(0, alias_init(&as, &c));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 0, &held));
	alias_put(&as, PUB1, SRV1, held, 0, 1000);
	for (i = 0; i < 65534; i++) {
		if (alias_take(&as, PUB1, SRV1, (uint32_t)i + 1, &a) < 0) {
			fails++;
			continue;
		}
		got_held += a == held;
		dup += seen[a] || a == 0;
		seen[a] = 1;
	}
	CHECK_EQ(0, fails);
	CHECK_EQ(0, dup);
	CHECK_EQ(0, got_held);
	CHECK_EQ(-1, alias_take(&as, PUB1, SRV1, 70000, &a));
	alias_expire(&as, 5999);
	CHECK_EQ(-1, alias_take(&as, PUB1, SRV1, 70000, &a));
	CHECK_EQ(2, as.st.exhausted);
	/* Another scope is unaffected. */
	CHECK_EQ(0, alias_take(&as, PUB2, SRV1, 70001, &a));
	alias_expire(&as, 6000);
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 70000, &a));
	CHECK_EQ(held, a);
	alias_destroy(&as);
}

/* The hold-down ring: it never evicts early while it has room, and a full
 * ring ends the oldest hold-down early (counted). */
static void test_hold_ring(void)
{
	struct alias_space as;
	struct alias_cfg c = acfg(4, 1, 100000, 5);
	uint16_t held, a;
	uint32_t i, cap;
	int back = 0;

	CHECK_EQ(0, alias_init(&as, &c));
	cap = as.hold_cap;
	CHECK_EQ(10, cap);
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 0, &held));
	alias_put(&as, PUB1, SRV1, held, 0, 0);
	for (i = 0; i + 1 < cap; i++) {
		if (alias_take(&as, PUB1, SRV1, 0, &a) < 0) {
			CHECK(0);
			break;
		}
		back += a == held;
		alias_put(&as, PUB1, SRV1, a, 0, i);
	}
	CHECK_EQ(0, back);
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, held));
	CHECK_EQ(0, as.st.holddown_evicted);
	CHECK_EQ(cap, alias_holds(&as));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 0, &a));
	alias_put(&as, PUB1, SRV1, a, 0, cap);
	CHECK_EQ(1, as.st.holddown_evicted);
	CHECK_EQ(0, alias_held(&as, PUB1, SRV1, held));
	CHECK_EQ(cap, alias_holds(&as));
	/* A new hold-down time applies to aliases freed from then on. */
	alias_set_holddown(&as, 10);
	alias_expire(&as, cap + 100000);
	CHECK_EQ(0, alias_holds(&as));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV1, 0, &a));
	alias_put(&as, PUB1, SRV1, a, 0, 500000);
	alias_expire(&as, 500009);
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, a));
	alias_expire(&as, 500010);
	CHECK_EQ(0, alias_held(&as, PUB1, SRV1, a));
	alias_destroy(&as);
}

/* Reservations alone: bounded, scoped, not takes, held down on release. */
static void test_reserve_plain(void)
{
	struct alias_space as;
	struct alias_cfg c = acfg(4, 2, 1000, 3);
	uint16_t r1, r2, extra, a;

	CHECK_EQ(0, alias_init(&as, &c));
	CHECK_EQ(0, alias_reserve(&as, PUB1, SRV1, &r1));
	CHECK_EQ(0, alias_reserve(&as, PUB2, SRV1, &r2));
	CHECK_EQ(2, as.nreserved);
	CHECK_EQ(0, as.ntaken);
	CHECK_EQ(-1, alias_reserve(&as, PUB1, SRV2, &extra));
	CHECK_EQ(1, as.st.exhausted);
	CHECK_EQ(ALIAS_RESERVED, alias_owner(&as, PUB1, SRV1, r1));
	/* A take's free is not a release, nor the other way round. */
	alias_put(&as, PUB1, SRV1, r1, ALIAS_RESERVED, 5);
	CHECK_EQ(ALIAS_RESERVED, alias_owner(&as, PUB1, SRV1, r1));
	CHECK_EQ(0, alias_take(&as, PUB1, SRV2, 7, &a));
	alias_release(&as, PUB1, SRV2, a, 5);
	CHECK_EQ(7, alias_owner(&as, PUB1, SRV2, a));
	CHECK_EQ(0, alias_held(&as, PUB1, SRV2, a));
	alias_release(&as, PUB1, SRV1, r1, 5);
	CHECK_EQ(1, as.nreserved);
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, r1));
	CHECK_EQ(ALIAS_NONE, alias_owner(&as, PUB1, SRV1, r1));
	CHECK_EQ(0, alias_reserve(&as, PUB1, SRV2, &extra));
	alias_destroy(&as);
}

static struct conn *mkconn(struct calltab *t, uint32_t in, uint16_t iport,
			   uint32_t out, uint32_t pub)
{
	struct conn *c = conn_add(t, in, iport, out, 1723, 0);

	if (c)
		c->pub = pub;
	return c;
}

/*
 * The relay's reservations share the alias space: a reserved alias is never
 * handed to a translated call in the same scope, is not a call for lookups,
 * is held down when released, and the reservation count is bounded.
 */
static void test_reserve_vs_calls(void)
{
	struct alias_space as;
	struct alias_cfg ac;
	struct calltab t;
	struct calltab_cfg cfg;
	struct conn *c;
	struct call *k;
	enum calltab_err err;
	uint16_t r1 = 0, r2 = 0, extra;
	int i, clash = 0, fails = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_calls = 70000;
	cfg.max_conns = 4;
	cfg.holddown_ms = 1000;
	cfg.seed = 11;
	cfg.max_reserved = 2;
	calltab_alias_cfg(&cfg, &ac);
	CHECK_EQ(2, ac.max_reserved);
	CHECK_EQ(0, alias_init(&as, &ac));
	CHECK_EQ(0, calltab_init(&t, &cfg, &as));
	CHECK_EQ(0, alias_reserve(&as, PUB1, SRV1, &r1));
	CHECK_EQ(0, alias_reserve(&as, PUB1, SRV1, &r2));
	CHECK(r1 != 0 && r2 != 0 && r1 != r2);
	CHECK_EQ(2, as.nreserved);
	/* Bounded: the third is refused and counted. */
	CHECK_EQ(-1, alias_reserve(&as, PUB1, SRV1, &extra));
	CHECK_EQ(1, as.st.exhausted);
	CHECK(call_by_alias(&t, PUB1, SRV1, r1) == NULL);
	/* Translated calls take every other alias of the scope, never a
	 * reserved one, and then there is none left. */
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	for (i = 0; i < 65533; i++) {
		k = call_add(&t, c, (uint16_t)i, 0, 10, &err);
		if (!k) {
			fails++;
			continue;
		}
		clash += k->alias == r1 || k->alias == r2;
	}
	CHECK_EQ(0, fails);
	CHECK_EQ(0, clash);
	CHECK(call_add(&t, c, 65533, 0, 10, &err) == NULL);
	CHECK_EQ(CT_NO_ALIAS, err);
	/* Releasing holds the alias down; a wrong scope releases nothing. */
	alias_release(&as, PUB2, SRV1, r1, 100);
	CHECK_EQ(2, as.nreserved);
	alias_release(&as, PUB1, SRV1, r1, 100);
	CHECK_EQ(1, as.nreserved);
	CHECK_EQ(1, alias_held(&as, PUB1, SRV1, r1));
	CHECK(call_add(&t, c, 65533, 0, 200, &err) == NULL);
	/* A translated call's alias cannot be released as a reservation. */
	k = call_by_inside(&t, c, 1);
	CHECK(k != NULL);
	if (k) {
		alias_release(&as, PUB1, SRV1, k->alias, 100);
		CHECK(call_by_alias(&t, PUB1, SRV1, k->alias) == k);
	}
	/* After the hold-down the released alias is the one left to take. */
	alias_expire(&as, 1100);
	CHECK_EQ(0, alias_held(&as, PUB1, SRV1, r1));
	k = call_add(&t, c, 65533, 0, 1200, &err);
	CHECK(k != NULL && k->alias == r1);
	calltab_destroy(&t);
	alias_destroy(&as);
}

int main(void)
{
	test_take_put();
	test_max_taken();
	test_seed_reproducible();
	test_full_scope_holddown();
	test_hold_ring();
	test_reserve_plain();
	test_reserve_vs_calls();
	return check_report();
}
