/*
 * Tests for calltab.c: connections, calls, their aliases from the alias
 * space with its hold-down, and the hash index behind every lookup.  The
 * stress test runs thousands of random operations against a brute-force
 * model, so a slip in the index's backward-shift deletion shows up as a
 * lookup that disagrees.  The alias space's own tests, the relay's
 * reservations among them, are in test_alias.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xlate/calltab.h"
#include "check.h"

#define IN1 0xC6120001u    /* 198.18.0.1 */
#define IN2 0xC6120002u
#define SRV1 0xC6130002u   /* 198.19.0.2 */
#define SRV2 0xC6130003u
#define PUB1 0xCB007101u   /* 203.0.113.1 */
#define PUB2 0xCB007102u

/* The alias space the table under test draws from: one table at a time. */
static struct alias_space tas;

static int tab_init(struct calltab *t, const struct calltab_cfg *cfg)
{
	struct alias_cfg ac;

	calltab_alias_cfg(cfg, &ac);
	if (alias_init(&tas, &ac) < 0)
		return -1;
	if (calltab_init(t, cfg, &tas) < 0) {
		alias_destroy(&tas);
		return -1;
	}
	return 0;
}

static void tab_destroy(struct calltab *t)
{
	calltab_destroy(t);
	alias_destroy(&tas);
}

static struct calltab_cfg cfg_of(uint32_t max_calls, uint32_t max_conns,
				 uint32_t holddown, uint64_t seed)
{
	struct calltab_cfg c;

	memset(&c, 0, sizeof(c));
	c.max_calls = max_calls;
	c.max_conns = max_conns;
	c.holddown_ms = holddown;
	c.seed = seed;
	return c;
}

static struct conn *mkconn(struct calltab *t, uint32_t in, uint16_t iport,
			   uint32_t out, uint32_t pub)
{
	struct conn *c = conn_add(t, in, iport, out, 1723, 0);

	if (c)
		c->pub = pub;
	return c;
}

static void test_names(void)
{
	CHECK(strcmp(call_state_name(CALL_FREE), "free") == 0);
	CHECK(strcmp(call_state_name(CALL_REFUSED), "refused") == 0);
	CHECK(strcmp(call_state_name(CALL_STATE_COUNT), "?") == 0);
	CHECK(strcmp(call_end_name(END_CDN), "disconnect-notify") == 0);
	CHECK(strcmp(call_end_name(END_PROTOCOL), "protocol-error") == 0);
	CHECK(strcmp(call_end_name(END_COUNT), "?") == 0);
	CHECK(strcmp(call_end_name(1000), "?") == 0);
}

static void test_conns(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(16, 3, 1000, 1);
	struct conn *a, *b, *c, *d;

	CHECK_EQ(0, tab_init(&t, &cfg));
	a = conn_add(&t, IN1, 40000, SRV1, 1723, 5);
	b = conn_add(&t, IN1, 40001, SRV1, 1723, 6);
	c = conn_add(&t, IN2, 40000, SRV1, 1723, 7);
	CHECK(a && b && c);
	if (!a || !b || !c) {
		tab_destroy(&t);
		return;
	}
	CHECK(a != b && b != c && a != c);
	CHECK_EQ(CONN_OPEN, a->state);
	CHECK_EQ(5, a->created);
	CHECK_EQ(SLOT_NONE, a->first_call);
	CHECK_EQ(0, a->ncalls);
	CHECK(conn_find(&t, IN1, 40000, SRV1, 1723) == a);
	CHECK(conn_find(&t, IN1, 40001, SRV1, 1723) == b);
	CHECK(conn_find(&t, IN2, 40000, SRV1, 1723) == c);
	/* Every part of the key counts. */
	CHECK(conn_find(&t, IN1, 40000, SRV1, 1724) == NULL);
	CHECK(conn_find(&t, IN1, 40000, SRV2, 1723) == NULL);
	CHECK(conn_find(&t, IN1, 1723, SRV1, 40000) == NULL);
	CHECK(conn_find(&t, SRV1, 1723, IN1, 40000) == NULL);
	CHECK_EQ(3, t.nconns_used);
	/* Table full. */
	d = conn_add(&t, IN2, 40001, SRV1, 1723, 8);
	CHECK(d == NULL);
	CHECK_EQ(1, t.st.conns_refused);
	CHECK_EQ(3, t.st.conns_created);
	conn_del(&t, b, END_TCP, 9, NULL, NULL);
	CHECK(conn_find(&t, IN1, 40001, SRV1, 1723) == NULL);
	CHECK(conn_find(&t, IN1, 40000, SRV1, 1723) == a);
	CHECK(conn_find(&t, IN2, 40000, SRV1, 1723) == c);
	CHECK_EQ(CONN_FREE, b->state);
	CHECK_EQ(2, t.nconns_used);
	d = conn_add(&t, IN2, 40001, SRV1, 1723, 10);
	CHECK(d != NULL);
	CHECK(conn_find(&t, IN2, 40001, SRV1, 1723) == d);
	CHECK_EQ(CONN_OPEN, d ? d->state : 0);
	CHECK(conn_slot(&t, a) < 3 && conn_slot(&t, c) < 3);
	tab_destroy(&t);
}

static void test_distinct_aliases(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(4000, 4, 1000, 7);
	struct conn *c;
	static uint8_t seen[65536];
	int i, dup = 0, zero = 0, fail = 0;

	memset(seen, 0, sizeof(seen));
	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	for (i = 0; i < 3000; i++) {
		enum calltab_err err;
		/* The same inside ID on every call of a conn is a different
		 * matter: use distinct ones here. */
		struct call *k = call_add(&t, c, (uint16_t)i, 0, 1, &err);

		if (!k || err != CT_OK) {
			fail++;
			continue;
		}
		if (k->alias == 0)
			zero++;
		if (seen[k->alias])
			dup++;
		seen[k->alias] = 1;
	}
	CHECK_EQ(0, fail);
	CHECK_EQ(0, zero);
	CHECK_EQ(0, dup);
	CHECK_EQ(3000, c->ncalls);
	CHECK_EQ(3000, t.ncalls_used);
	CHECK_EQ(3000, t.st.calls_created);
	/* Random, not sequential: a run of 3000 consecutive values from a
	 * counter would fall in few 256-blocks. */
	{
		int blocks = 0, b;

		for (b = 0; b < 256; b++) {
			int j, any = 0;

			for (j = 0; j < 256; j++)
				any |= seen[b * 256 + j];
			blocks += any;
		}
		CHECK(blocks > 200);
	}
	tab_destroy(&t);
}

static void seq_of(uint64_t seed, uint16_t *out, int n)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(64, 1, 1000, seed);
	struct conn *c;
	int i;

	if (tab_init(&t, &cfg) < 0)
		return;
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	for (i = 0; i < n; i++) {
		enum calltab_err err;
		struct call *k = call_add(&t, c, (uint16_t)(i + 1), 0, 0, &err);

		out[i] = k ? k->alias : 0;
	}
	tab_destroy(&t);
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

static void test_lookups(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(16, 4, 1000, 3);
	struct conn *c1, *c2, *c3;
	struct call *k1, *k2, *k3;
	enum calltab_err err;
	struct call_xlat x;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c1 = mkconn(&t, IN1, 40000, SRV1, PUB1);
	c2 = mkconn(&t, IN2, 40000, SRV1, PUB1);
	c3 = mkconn(&t, IN1, 40001, SRV2, PUB1);
	k1 = call_add(&t, c1, 1, 0, 10, &err);
	CHECK_EQ(CT_OK, err);
	k2 = call_add(&t, c2, 1, 0, 11, &err);
	CHECK_EQ(CT_OK, err);
	k3 = call_add(&t, c3, 1, 0, 12, &err);
	CHECK_EQ(CT_OK, err);
	if (!k1 || !k2 || !k3) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	CHECK(k1->alias != k2->alias);   /* same scope (PUB1, SRV1) */
	CHECK_EQ(CALL_REQUESTED, k1->state);
	CHECK_EQ(1, k1->inside_id);
	CHECK_EQ(IN1, k1->inside);
	CHECK_EQ(SRV1, k1->outside);
	CHECK_EQ(PUB1, k1->pub);
	CHECK_EQ(conn_slot(&t, c1), k1->conn);
	CHECK_EQ(0, k1->peer_known);
	CHECK_EQ(10, k1->created);

	CHECK(call_by_alias(&t, PUB1, SRV1, k1->alias) == k1);
	CHECK(call_by_alias(&t, PUB1, SRV1, k2->alias) == k2);
	CHECK(call_by_alias(&t, PUB1, SRV2, k3->alias) == k3);
	/* The alias is only meaningful in its scope. */
	CHECK(call_by_alias(&t, PUB2, SRV1, k1->alias) == NULL);
	if (k3->alias != k1->alias)
		CHECK(call_by_alias(&t, PUB1, SRV2, k1->alias) == NULL);
	CHECK(call_by_inside(&t, c1, 1) == k1);
	CHECK(call_by_inside(&t, c2, 1) == k2);
	CHECK(call_by_inside(&t, c3, 1) == k3);
	CHECK(call_by_inside(&t, c1, 2) == NULL);

	CHECK(call_by_peer(&t, IN1, SRV1, 500) == NULL);
	call_set_peer(&t, k1, 500);
	call_set_peer(&t, k2, 501);
	call_set_peer(&t, k3, 500);   /* another server: no clash */
	CHECK(call_by_peer(&t, IN1, SRV1, 500) == k1);
	CHECK(call_by_peer(&t, IN2, SRV1, 501) == k2);
	CHECK(call_by_peer(&t, IN1, SRV2, 500) == k3);
	CHECK(call_by_peer(&t, IN2, SRV1, 500) == NULL);
	CHECK_EQ(CALL_REQUESTED, k3->state);
	CHECK_EQ(0, t.st.calls_ended[END_REPLACED]);
	/* Changing the peer ID moves the index entry. */
	call_set_peer(&t, k1, 600);
	CHECK(call_by_peer(&t, IN1, SRV1, 500) == NULL);
	CHECK(call_by_peer(&t, IN1, SRV1, 600) == k1);

	x = call_xlat(k1);
	CHECK_EQ(PUB1, x.pub);
	CHECK_EQ(SRV1, x.outside);
	CHECK_EQ(IN1, x.inside);
	CHECK_EQ(k1->alias, x.alias);
	CHECK_EQ(1, x.inside_id);
	CHECK_EQ(600, x.peer_id);
	CHECK_EQ(1, x.peer_known);

	call_set_state(k1, CALL_ESTABLISHED, 50);
	CHECK_EQ(CALL_ESTABLISHED, k1->state);
	CHECK_EQ(50, k1->state_since);
	call_set_state(k1, CALL_ESTABLISHED, 60);
	CHECK_EQ(50, k1->state_since);
	tab_destroy(&t);
}

static void test_call_end(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(16, 4, 1000, 3);
	struct conn *c;
	struct call *k1, *k2;
	enum calltab_err err;
	uint16_t a1;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	k1 = call_add(&t, c, 1, 0, 10, &err);
	k2 = call_add(&t, c, 2, 0, 10, &err);
	if (!k1 || !k2) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	call_set_peer(&t, k1, 77);
	a1 = k1->alias;
	CHECK_EQ(2, c->ncalls);
	CHECK_EQ(0, alias_held(&tas, PUB1, SRV1, a1));
	call_end(&t, k1, END_CDN, 100);
	CHECK_EQ(CALL_FREE, k1->state);
	CHECK(call_by_alias(&t, PUB1, SRV1, a1) == NULL);
	CHECK(call_by_inside(&t, c, 1) == NULL);
	CHECK(call_by_peer(&t, IN1, SRV1, 77) == NULL);
	CHECK(call_by_inside(&t, c, 2) == k2);
	CHECK_EQ(1, c->ncalls);
	CHECK_EQ(1, t.ncalls_used);
	CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, a1));
	CHECK_EQ(0, alias_held(&tas, PUB2, SRV1, a1));
	CHECK_EQ(1, alias_holds(&tas));
	CHECK_EQ(1, t.st.calls_ended[END_CDN]);
	/* Ending twice changes nothing. */
	call_end(&t, k1, END_CDN, 100);
	CHECK_EQ(1, t.st.calls_ended[END_CDN]);
	CHECK_EQ(1, t.ncalls_used);
	CHECK_EQ(1, c->ncalls);
	/* The hold-down lasts exactly holddown_ms. */
	alias_expire(&tas, 1099);
	CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, a1));
	alias_expire(&tas, 1100);
	CHECK_EQ(0, alias_held(&tas, PUB1, SRV1, a1));
	CHECK_EQ(0, alias_holds(&tas));
	/* The linked list still works after unlinking from the head. */
	call_end(&t, k2, END_CLEAR, 200);
	CHECK_EQ(SLOT_NONE, c->first_call);
	CHECK_EQ(0, c->ncalls);
	tab_destroy(&t);
}

/*
 * The held alias never comes back before its hold-down passes.  Fill the
 * whole scope but one alias plus the held one, so the allocator has nothing
 * else to offer: it must say CT_NO_ALIAS rather than hand out the held one.
 */
static void test_holddown_full_scope(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(70000, 2, 5000, 99);
	struct conn *c;
	struct call *k, *held_call;
	enum calltab_err err;
	uint16_t held;
	int i, fails = 0, got_held = 0;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	held_call = call_add(&t, c, 0, 0, 0, &err);
	if (!held_call) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	held = held_call->alias;
	call_end(&t, held_call, END_CDN, 1000);
	CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, held));
	/* 65534 more aliases exist in the scope. */
	for (i = 0; i < 65534; i++) {
		k = call_add(&t, c, (uint16_t)(i + 1), 0, 1000, &err);
		if (!k)
			fails++;
		else if (k->alias == held)
			got_held++;
	}
	CHECK_EQ(0, fails);
	CHECK_EQ(0, got_held);
	k = call_add(&t, c, 65535, 0, 2000, &err);
	CHECK(k == NULL);
	CHECK_EQ(CT_NO_ALIAS, err);
	alias_expire(&tas, 5999);
	k = call_add(&t, c, 65535, 0, 5999, &err);
	CHECK(k == NULL);
	CHECK_EQ(CT_NO_ALIAS, err);
	CHECK_EQ(2, t.st.alias_exhausted);
	alias_expire(&tas, 6000);
	k = call_add(&t, c, 65535, 0, 6000, &err);
	CHECK(k != NULL);
	CHECK_EQ(CT_OK, err);
	CHECK_EQ(held, k ? k->alias : 0);
	tab_destroy(&t);
}

/*
 * Churn through many calls right after ending one: the ended alias must not
 * come back while held, and the ring must not evict it early as long as it
 * holds fewer entries than its capacity.
 */
static void test_holddown_churn(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(64, 2, 100000, 5);
	struct conn *c;
	struct call *k;
	enum calltab_err err;
	uint16_t held;
	uint32_t i, cap;
	int back = 0;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	k = call_add(&t, c, 1, 0, 0, &err);
	if (!k) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	held = k->alias;
	call_end(&t, k, END_CLEAR, 0);
	cap = tas.hold_cap;
	for (i = 0; i + 1 < cap; i++) {
		k = call_add(&t, c, 2, 0, i, &err);
		if (!k) {
			CHECK(0);
			break;
		}
		if (k->alias == held)
			back++;
		call_end(&t, k, END_CLEAR, i);
	}
	CHECK_EQ(0, back);
	CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, held));
	CHECK_EQ(0, tas.st.holddown_evicted);
	CHECK_EQ(cap, alias_holds(&tas));
	/* One more end: the ring is full, the oldest (held) goes early. */
	k = call_add(&t, c, 2, 0, cap, &err);
	if (k)
		call_end(&t, k, END_CLEAR, cap);
	CHECK_EQ(1, tas.st.holddown_evicted);
	CHECK_EQ(0, alias_held(&tas, PUB1, SRV1, held));
	CHECK_EQ(cap, alias_holds(&tas));
	/* Everything expires at once past the hold-down. */
	alias_expire(&tas, cap + 100000);
	CHECK_EQ(0, alias_holds(&tas));
	tab_destroy(&t);
}

static void test_full_and_refusal(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(8, 2, 1000, 11);
	struct conn *c;
	struct call *k, *first = NULL;
	enum calltab_err err;
	uint32_t reserve, i;
	int ok = 0;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	for (i = 0; i < 8; i++) {
		k = call_add(&t, c, (uint16_t)(i + 1), 0, 0, &err);
		if (k && err == CT_OK)
			ok++;
		if (i == 0)
			first = k;
	}
	CHECK_EQ(8, ok);
	err = CT_OK;
	k = call_add(&t, c, 100, 0, 0, &err);
	CHECK(k == NULL);
	CHECK_EQ(CT_FULL, err);
	CHECK_EQ(1, t.st.refused_full);
	/* The refusal reserve: a few more calls that only carry a refusal. */
	reserve = t.ncalls_cap - 8;
	CHECK(reserve >= 1);
	ok = 0;
	for (i = 0; i < reserve; i++) {
		k = call_add(&t, c, (uint16_t)(200 + i), 1, 0, &err);
		if (k && err == CT_OK && k->state == CALL_REFUSED)
			ok++;
	}
	CHECK_EQ((long long)reserve, ok);
	CHECK_EQ((long long)reserve, t.nrefused);
	CHECK_EQ(8, t.ncalls_used);
	k = call_add(&t, c, 999, 1, 0, &err);
	CHECK(k == NULL);
	CHECK_EQ(CT_FULL, err);
	CHECK_EQ(2, t.st.refused_full);
	/* Refusals do not count against max_calls: ending a normal call makes
	 * room for a normal call even with the reserve in use. */
	if (first)
		call_end(&t, first, END_FAILED, 1);
	k = call_add(&t, c, 300, 0, 1, &err);
	CHECK(k != NULL);
	CHECK_EQ(CT_OK, err);
	CHECK_EQ(CALL_REQUESTED, k ? k->state : 0);
	/* Ending a refused call gives its reserve slot back. */
	k = call_by_inside(&t, c, 200);
	CHECK(k != NULL);
	if (k)
		call_end(&t, k, END_FAILED, 2);
	CHECK_EQ((long long)reserve - 1, t.nrefused);
	k = call_add(&t, c, 400, 1, 2, &err);
	CHECK(k != NULL);
	tab_destroy(&t);
}

static void test_scope_exhaustion(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(70000, 3, 1000, 21);
	struct conn *a, *b, *d;
	struct call *k;
	enum calltab_err err;
	static uint8_t seen[65536];
	int i, fails = 0, dup = 0;

	memset(seen, 0, sizeof(seen));
	CHECK_EQ(0, tab_init(&t, &cfg));
	/* Two connections share one scope (two inside hosts, one server). */
	a = mkconn(&t, IN1, 40000, SRV1, PUB1);
	d = mkconn(&t, IN2, 40000, SRV1, PUB1);
	b = mkconn(&t, IN1, 40001, SRV2, PUB1);
	for (i = 0; i < 65535; i++) {
		k = call_add(&t, i & 1 ? d : a, (uint16_t)i, 0, 0, &err);
		if (!k) {
			fails++;
			continue;
		}
		if (seen[k->alias] || k->alias == 0)
			dup++;
		seen[k->alias] = 1;
	}
	CHECK_EQ(0, fails);
	CHECK_EQ(0, dup);
	k = call_add(&t, a, 65535, 0, 0, &err);
	CHECK(k == NULL);
	CHECK_EQ(CT_NO_ALIAS, err);
	CHECK_EQ(1, t.st.alias_exhausted);
	CHECK_EQ(0, t.st.refused_full);
	/* Another scope is unaffected, and its alias necessarily exists in the
	 * full scope too: the same alias lives in two scopes at once. */
	k = call_add(&t, b, 1, 0, 0, &err);
	CHECK(k != NULL);
	CHECK_EQ(CT_OK, err);
	if (k) {
		struct call *other = call_by_alias(&t, PUB1, SRV1, k->alias);

		CHECK(other != NULL && other != k);
		CHECK(call_by_alias(&t, PUB1, SRV2, k->alias) == k);
	}
	tab_destroy(&t);
}

struct endrec {
	int n;
	uint32_t slots[64];
	int reasons[64];
	int bad_state;
};

static void on_end_cb(void *arg, const struct call *c, enum call_end why)
{
	struct endrec *r = arg;

	/* The call is still whole when the callback sees it. */
	if (c->state == CALL_FREE)
		r->bad_state++;
	if (r->n < 64) {
		r->slots[r->n] = c->inside_id;
		r->reasons[r->n] = why;
	}
	r->n++;
}

static void test_conn_del_calls(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(32, 4, 1000, 8);
	struct conn *c1, *c2;
	struct call *k, *keep;
	enum calltab_err err;
	struct endrec r;
	uint16_t aliases[5];
	int i, seen[5] = { 0 };

	memset(&r, 0, sizeof(r));
	CHECK_EQ(0, tab_init(&t, &cfg));
	c1 = mkconn(&t, IN1, 40000, SRV1, PUB1);
	c2 = mkconn(&t, IN2, 40000, SRV1, PUB1);
	for (i = 0; i < 5; i++) {
		k = call_add(&t, c1, (uint16_t)i, 0, 0, &err);
		aliases[i] = k ? k->alias : 0;
		if (k)
			call_set_peer(&t, k, (uint16_t)(1000 + i));
	}
	keep = call_add(&t, c2, 0, 0, 0, &err);
	CHECK_EQ(5, c1->ncalls);
	conn_del(&t, c1, END_STOP, 50, on_end_cb, &r);
	CHECK_EQ(5, r.n);
	CHECK_EQ(0, r.bad_state);
	for (i = 0; i < r.n && i < 5; i++) {
		CHECK_EQ(END_STOP, r.reasons[i]);
		if (r.slots[i] < 5)
			seen[r.slots[i]]++;
	}
	for (i = 0; i < 5; i++) {
		CHECK_EQ(1, seen[i]);
		CHECK(call_by_alias(&t, PUB1, SRV1, aliases[i]) == NULL);
		CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, aliases[i]));
		CHECK(call_by_peer(&t, IN1, SRV1, (uint16_t)(1000 + i)) == NULL);
	}
	CHECK_EQ(5, t.st.calls_ended[END_STOP]);
	CHECK(conn_find(&t, IN1, 40000, SRV1, 1723) == NULL);
	CHECK(keep != NULL && call_by_inside(&t, c2, 0) == keep);
	CHECK_EQ(1, t.ncalls_used);
	/* Without a callback it works too. */
	conn_del(&t, c2, END_TCP, 60, NULL, NULL);
	CHECK_EQ(0, t.ncalls_used);
	CHECK_EQ(1, t.st.calls_ended[END_TCP]);
	tab_destroy(&t);
}

static void test_set_peer_replaces(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(32, 4, 1000, 8);
	struct conn *c1, *c2;
	struct call *old, *nw;
	enum calltab_err err;
	uint16_t old_alias;

	CHECK_EQ(0, tab_init(&t, &cfg));
	/* Two connections from one host to one server (a restarted client). */
	c1 = mkconn(&t, IN1, 40000, SRV1, PUB1);
	c2 = mkconn(&t, IN1, 40001, SRV1, PUB1);
	old = call_add(&t, c1, 1, 0, 0, &err);
	nw = call_add(&t, c2, 1, 0, 5, &err);
	if (!old || !nw) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	old_alias = old->alias;
	call_set_peer(&t, old, 42);
	nw->last_seen = 5;
	call_set_peer(&t, nw, 42);
	CHECK_EQ(CALL_FREE, old->state);
	CHECK_EQ(1, t.st.calls_ended[END_REPLACED]);
	CHECK(call_by_peer(&t, IN1, SRV1, 42) == nw);
	CHECK(call_by_alias(&t, PUB1, SRV1, old_alias) == NULL);
	CHECK(call_by_inside(&t, c1, 1) == NULL);
	CHECK(call_by_inside(&t, c2, 1) == nw);
	CHECK_EQ(0, c1->ncalls);
	CHECK_EQ(1, alias_held(&tas, PUB1, SRV1, old_alias));
	/* Setting the same peer ID again is not a clash with itself. */
	call_set_peer(&t, nw, 42);
	CHECK_EQ(CALL_REQUESTED, nw->state);
	CHECK(call_by_peer(&t, IN1, SRV1, 42) == nw);
	CHECK_EQ(1, t.st.calls_ended[END_REPLACED]);
	tab_destroy(&t);
}

/*
 * Two calls of one connection with the same inside Call ID: ending the older
 * one must not take the newer one's index entry with it.  (gw.c ends the old
 * call first, but the table's indexes should not depend on that.)
 */
static void test_same_inside_id_index(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(32, 4, 1000, 8);
	struct conn *c;
	struct call *a, *b;
	enum calltab_err err;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	a = call_add(&t, c, 5, 0, 0, &err);
	b = call_add(&t, c, 5, 0, 0, &err);
	if (!a || !b) {
		CHECK(0);
		tab_destroy(&t);
		return;
	}
	CHECK(call_by_inside(&t, c, 5) == b);
	call_end(&t, a, END_REPLACED, 1);
	CHECK(call_by_inside(&t, c, 5) == b);
	tab_destroy(&t);
}

/* ---- hash index stress against a brute-force model ---------------------- */

#define S_CONNS 12
#define S_MAXCALLS 3000

struct mcall {
	int live;
	uint32_t slot;
	int conn;
	uint16_t inside_id, alias, peer;
	int peer_known;
};

struct mhold {
	uint32_t pub, outside;
	uint16_t alias;
	uint64_t until;
};

static struct mcall mc[S_MAXCALLS * 40];
static int nmc;
static struct mhold mh[S_MAXCALLS * 40];
static int nmh;

static uint64_t srng = 88172645463325252ULL;

static uint32_t srand32(void)
{
	srng ^= srng << 13;
	srng ^= srng >> 7;
	srng ^= srng << 17;
	return (uint32_t)srng;
}

static int model_held(uint32_t pub, uint32_t out, uint16_t alias,
		      uint64_t now)
{
	int i;

	for (i = nmh - 1; i >= 0; i--)
		if (mh[i].pub == pub && mh[i].outside == out &&
		    mh[i].alias == alias)
			return mh[i].until > now;
	return 0;
}

static void test_hash_stress(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(S_MAXCALLS, S_CONNS, 500, 4242);
	struct conn *cs[S_CONNS];
	uint32_t cin[S_CONNS], cout[S_CONNS], cpub[S_CONNS];
	int live_idx[S_MAXCALLS];
	int nlive = 0, op, i, mism = 0, mism_hold = 0, mism_miss = 0;
	uint64_t now = 1;
	static uint8_t inuse[S_CONNS][65536];

	memset(inuse, 0, sizeof(inuse));
	nmc = nmh = 0;
	CHECK_EQ(0, tab_init(&t, &cfg));
	for (i = 0; i < S_CONNS; i++) {
		cin[i] = IN1 + (uint32_t)(i % 4);
		cout[i] = SRV1 + (uint32_t)(i % 3);
		cpub[i] = PUB1 + (uint32_t)(i % 2);
		cs[i] = mkconn(&t, cin[i], (uint16_t)(40000 + i), cout[i],
			       cpub[i]);
	}
	for (op = 0; op < 40000; op++) {
		uint32_t r = srand32() % 100;

		now++;
		alias_expire(&tas, now);
		if ((r < 55 && nlive < S_MAXCALLS) || nlive == 0) {
			int ci = (int)(srand32() % S_CONNS);
			uint16_t id;
			enum calltab_err err;
			struct call *k;

			do
				id = (uint16_t)srand32();
			while (inuse[ci][id]);
			k = call_add(&t, cs[ci], id, 0, now, &err);
			if (!k) {
				CHECK(0);
				break;
			}
			/* A fresh alias is never one held down or in use. */
			if (model_held(cpub[ci], cout[ci], k->alias, now))
				mism_hold++;
			inuse[ci][id] = 1;
			mc[nmc].live = 1;
			mc[nmc].slot = (uint32_t)(k - t.calls);
			mc[nmc].conn = ci;
			mc[nmc].inside_id = id;
			mc[nmc].alias = k->alias;
			mc[nmc].peer_known = 0;
			live_idx[nlive++] = nmc;
			nmc++;
		} else if (r < 80) {
			int li = (int)(srand32() % (uint32_t)nlive);
			struct mcall *m = &mc[live_idx[li]];

			call_end(&t, &t.calls[m->slot], END_CLEAR, now);
			m->live = 0;
			inuse[m->conn][m->inside_id] = 0;
			mh[nmh].pub = cpub[m->conn];
			mh[nmh].outside = cout[m->conn];
			mh[nmh].alias = m->alias;
			mh[nmh].until = now + 500;
			nmh++;
			live_idx[li] = live_idx[--nlive];
		} else {
			int li = (int)(srand32() % (uint32_t)nlive), j;
			struct mcall *m = &mc[live_idx[li]];
			/* Small peer space: clashes (replacements) happen. */
			uint16_t peer = (uint16_t)(srand32() % 2048);

			/* Model the replacement of a call with the same peer. */
			for (j = 0; j < nlive; j++) {
				struct mcall *o = &mc[live_idx[j]];

				if (o != m && o->peer_known && o->peer == peer &&
				    cin[o->conn] == cin[m->conn] &&
				    cout[o->conn] == cout[m->conn]) {
					o->live = 0;
					inuse[o->conn][o->inside_id] = 0;
					mh[nmh].pub = cpub[o->conn];
					mh[nmh].outside = cout[o->conn];
					mh[nmh].alias = o->alias;
					mh[nmh].until = now + 500;
					nmh++;
					live_idx[j] = live_idx[--nlive];
					if (live_idx[j] == (int)(m - mc))
						li = j;
					break;
				}
			}
			/* As gw.c does: the call was just seen. */
			t.calls[m->slot].last_seen = now;
			call_set_peer(&t, &t.calls[m->slot], peer);
			m->peer = peer;
			m->peer_known = 1;
			(void)li;
		}
		/* Full comparison now and then, and at the end. */
		if (op % 97 == 0 || op == 39999) {
			for (i = 0; i < nlive; i++) {
				struct mcall *m = &mc[live_idx[i]];
				struct call *want = &t.calls[m->slot];

				if (call_by_alias(&t, cpub[m->conn], cout[m->conn],
						  m->alias) != want ||
				    call_by_inside(&t, cs[m->conn],
						   m->inside_id) != want ||
				    (m->peer_known &&
				     call_by_peer(&t, cin[m->conn], cout[m->conn],
						  m->peer) != want))
					mism++;
			}
			/* Random probes: absent keys are absent. */
			for (i = 0; i < 200; i++) {
				int ci = (int)(srand32() % S_CONNS), j, found = 0;
				uint16_t a = (uint16_t)srand32();

				for (j = 0; j < nlive; j++) {
					struct mcall *m = &mc[live_idx[j]];

					if (cpub[m->conn] == cpub[ci] &&
					    cout[m->conn] == cout[ci] &&
					    m->alias == a)
						found = 1;
				}
				if (!found && call_by_alias(&t, cpub[ci], cout[ci],
							    a) != NULL)
					mism_miss++;
				if (!found && alias_held(&tas, cpub[ci], cout[ci], a) !=
				    model_held(cpub[ci], cout[ci], a, now))
					mism_hold++;
			}
			/* Every ended alias still held agrees with the model. */
			for (i = nmh > 300 ? nmh - 300 : 0; i < nmh; i++) {
				int h = model_held(mh[i].pub, mh[i].outside,
						   mh[i].alias, now);
				int live = 0, j;

				for (j = 0; j < nlive; j++) {
					struct mcall *m = &mc[live_idx[j]];

					if (cpub[m->conn] == mh[i].pub &&
					    cout[m->conn] == mh[i].outside &&
					    m->alias == mh[i].alias)
						live = 1;
				}
				if (!live && h != alias_held(&tas, mh[i].pub,
							     mh[i].outside,
							     mh[i].alias))
					mism_hold++;
			}
		}
	}
	CHECK_EQ(0, mism);
	CHECK_EQ(0, mism_miss);
	CHECK_EQ(0, mism_hold);
	CHECK_EQ((long long)nlive, t.ncalls_used);
	CHECK_EQ(0, tas.st.holddown_evicted);
	{
		uint32_t sum = 0;

		for (i = 0; i < S_CONNS; i++)
			sum += cs[i]->ncalls;
		CHECK_EQ((long long)nlive, sum);
	}
	/* Deleting every connection leaves an index with no calls at all. */
	for (i = 0; i < S_CONNS; i++)
		conn_del(&t, cs[i], END_ADMIN, now, NULL, NULL);
	CHECK_EQ(0, t.ncalls_used);
	mism = 0;
	for (i = 0; i < nmc; i++) {
		if (call_by_alias(&t, cpub[mc[i].conn], cout[mc[i].conn],
				  mc[i].alias) != NULL)
			mism++;
	}
	CHECK_EQ(0, mism);
	tab_destroy(&t);
}

static void test_stats(void)
{
	struct calltab t;
	struct calltab_cfg cfg = cfg_of(2, 2, 1000, 1);
	struct conn *c;
	struct call *a, *b;
	enum calltab_err err;

	CHECK_EQ(0, tab_init(&t, &cfg));
	c = mkconn(&t, IN1, 40000, SRV1, PUB1);
	a = call_add(&t, c, 1, 0, 0, &err);
	b = call_add(&t, c, 2, 0, 0, &err);
	call_add(&t, c, 3, 0, 0, &err);
	CHECK_EQ(2, t.st.calls_created);
	CHECK_EQ(1, t.st.refused_full);
	if (a)
		call_end(&t, a, END_IDLE, 1);
	if (b)
		call_end(&t, b, END_ADMIN, 1);
	CHECK_EQ(1, t.st.calls_ended[END_IDLE]);
	CHECK_EQ(1, t.st.calls_ended[END_ADMIN]);
	CHECK_EQ(0, t.st.calls_ended[END_CDN]);
	CHECK_EQ(1, t.st.conns_created);
	CHECK_EQ(0, t.st.alias_exhausted);
	tab_destroy(&t);
}

static const struct check_case cases[] = {
	CHECK_CASE(names),
	CHECK_CASE(conns),
	CHECK_CASE(distinct_aliases),
	CHECK_CASE(seed_reproducible),
	CHECK_CASE(lookups),
	CHECK_CASE(call_end),
	CHECK_CASE(holddown_full_scope),
	CHECK_CASE(holddown_churn),
	CHECK_CASE(full_and_refusal),
	CHECK_CASE(scope_exhaustion),
	CHECK_CASE(conn_del_calls),
	CHECK_CASE(set_peer_replaces),
	CHECK_CASE(same_inside_id_index),
	CHECK_CASE(hash_stress),
	CHECK_CASE(stats),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
