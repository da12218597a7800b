/*
 * Tests for the kernel data plane's records (xlate/fastrec.c) and messages
 * (io/fpnl.c), without a kernel:
 *  - the map entries of calls the translator set up through real control
 *    messages, in every placement it knows (inside PNS calling out, inside
 *    PNS answering an incoming call, inside PAC behind a port forward),
 *    applied to GRE the way the nftables rules apply them, give exactly the
 *    packet the queue path gives;
 *  - several hosts with the same Call ID never share a key; spoofed
 *    sources and unknown aliases match nothing; a call not yet established
 *    has no entries;
 *  - removal uses the entries as installed, and counters of an element
 *    that is no longer its slot's call are not counted;
 *  - the netlink messages: an element added parses back with its key,
 *    value and tag; a dumped element's counter and tag are read back;
 *  - the same placement, same-ID and spoofing cases again with the tc-BPF
 *    engine's entries (xlate/fpbpf.h), applied the way io/tcfast.bpf.c
 *    applies them (one lookup a direction, keyed by the packet's bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "io/fpnl.h"
#include "xlate/fastrec.h"
#include "gw_fixture.h"

/* ---- the kernel's maps, as the rules in io/fastpath.c use them ---------- */

struct kmaps {
	struct fp_elem e[64];
	int n;
	/* the tc-BPF engine's entries: key, value, direction (1 out) */
	struct fpb_key bk[64];
	struct fpb_val bv[64];
	int bout[64], nb;
};

/* Which engine's entries kernel_rewrite applies (the bpf_* cases). */
static int bpf_model;

static void kmaps_add_bpf(struct kmaps *k, const struct call_xlat *x,
			  uint32_t slot)
{
	struct fpb_key ik, ok;
	struct fpb_val iv, ov;

	CHECK_EQ(0, fp_bpf_entries(x, slot, &ik, &iv, &ok, &ov));
	CHECK_EQ(FPB_VERSION, iv.version);
	CHECK_EQ(slot, ov.slot);
	CHECK(ik.pad == 0 && ok.pad == 0 && iv.pkts == 0 && ov.bytes == 0);
	if (k->nb > 62)
		return;
	k->bk[k->nb] = ik, k->bv[k->nb] = iv, k->bout[k->nb++] = 0;
	k->bk[k->nb] = ok, k->bv[k->nb] = ov, k->bout[k->nb++] = 1;
}

/* The program's lookup: the key is the packet's own bytes. */
static const struct fpb_val *blookup(const struct kmaps *k, int out,
				     const uint8_t *pkt)
{
	size_t g = pg_ihl(pkt);
	struct fpb_key key;
	int i;

	memset(&key, 0, sizeof(key));
	memcpy(&key.src, pkt + 12, 4);
	memcpy(&key.dst, pkt + 16, 4);
	memcpy(&key.call, pkt + g + 6, 2);
	for (i = 0; i < k->nb; i++)
		if (k->bout[i] == out && !memcmp(&k->bk[i], &key, sizeof(key)))
			return &k->bv[i];
	return NULL;
}

/* As io/tcfast.bpf.c: in rewrites the destination and the Call ID from
 * one entry, out the source.  (It also forwards: TTL and MACs, which the
 * queue path leaves to the stack, are not compared.) */
static int bpf_rewrite(const struct kmaps *k, int dir, uint8_t *pkt)
{
	const struct fpb_val *v = blookup(k, dir == DIR_OUT, pkt);
	size_t g = pg_ihl(pkt);

	if (!v)
		return 0;
	if (dir == DIR_IN) {
		memcpy(pkt + 16, &v->addr, 4);
		memcpy(pkt + g + 6, &v->call, 2);
	} else {
		memcpy(pkt + 12, &v->addr, 4);
	}
	pkt[10] = pkt[11] = 0;
	return 1;
}

static void kmaps_add_call(struct kmaps *k, const struct call *c)
{
	struct call_xlat x = call_xlat(c);
	struct fp_elem e[FPM_COUNT];
	int i;

	CHECK_EQ(FPM_COUNT, fp_elems(&x, e));
	for (i = 0; i < FPM_COUNT && k->n < 64; i++)
		k->e[k->n++] = e[i];
	kmaps_add_bpf(k, &x, (uint32_t)k->nb / 2);
}

static const struct fp_elem *klookup(const struct kmaps *k, enum fp_map m,
				     uint32_t a, uint32_t b, uint16_t id)
{
	uint8_t key[FP_KEY_LEN] = { 0 };
	int i;

	pg_put32(key, a);
	pg_put32(key + 4, b);
	pg_put16(key + 8, id);
	for (i = 0; i < k->n; i++)
		if (k->e[i].map == m && !memcmp(k->e[i].key, key, FP_KEY_LEN))
			return &k->e[i];
	return NULL;
}

/*
 * Inbound (prerouting): in_addr gives the destination, then in_id, keyed
 * by the rewritten packet, the Call ID.  Outbound (forward): out_addr gives
 * the source.  1 if translated, 0 if a lookup missed (the packet then goes
 * to the queue as it was).
 */
static int kernel_rewrite(const struct kmaps *k, int dir, uint8_t *pkt)
{
	size_t g = pg_ihl(pkt);
	uint32_t src = pg_src(pkt), dst = pg_dst(pkt);
	const struct fp_elem *a, *b;

	if (bpf_model)
		return bpf_rewrite(k, dir, pkt);
	if (dir == DIR_IN) {
		a = klookup(k, FPM_IN_ADDR, src, dst, pg_gre_callid(pkt));
		if (!a)
			return 0;
		b = klookup(k, FPM_IN_ID, src, pg_get32(a->val),
			    pg_gre_callid(pkt));
		/* Installed in one transaction: never one without the other. */
		CHECK(b != NULL);
		if (!b)
			return 0;
		pg_put32(pkt + 16, pg_get32(a->val));
		pkt[g + 6] = b->val[0];
		pkt[g + 7] = b->val[1];
	} else {
		a = klookup(k, FPM_OUT_ADDR, src, dst, pg_gre_callid(pkt));
		if (!a)
			return 0;
		pg_put32(pkt + 12, pg_get32(a->val));
	}
	/* The IPv4 checksum is the kernel's to fix: compare without it. */
	pkt[10] = pkt[11] = 0;
	return 1;
}

/* The same GRE through the kernel's maps and through the queue path. */
static void check_same(struct env *e, const struct kmaps *k, int dir,
		       uint32_t src, uint32_t dst, uint16_t id)
{
	struct tpkt *t = gre_pkt(e, dir, src, dst, id, 1, dir == DIR_OUT);
	uint8_t kp[1600];
	size_t len = t->gp.len;

	memcpy(kp, t->orig, len);
	CHECK(accepted(t));
	CHECK_EQ(1, kernel_rewrite(k, dir, kp));
	t->buf[10] = t->buf[11] = 0;
	CHECK_MEM(t->buf, kp, len);
}

static struct call *only_call(struct env *e, uint32_t outside, uint16_t alias)
{
	struct call *c = call_by_alias(&e->g.tab, PUB, outside, alias);

	CHECK(c != NULL && c->state == CALL_ESTABLISHED);
	return c && c->state == CALL_ESTABLISHED ? c : NULL;
}

static void test_inside_pns_outgoing(void)
{
	struct env e;
	struct flow f;
	struct kmaps k = { .n = 0 };
	struct call *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 4660, 900, 1);
	c = only_call(&e, SERVER, alias);
	if (c) {
		kmaps_add_call(&k, c);
		check_same(&e, &k, DIR_IN, SERVER, PUB, alias);
		check_same(&e, &k, DIR_OUT, INSIDE(1), SERVER, 900);
	}
	env_done(&e);
}

static void test_inside_pns_incoming(void)
{
	struct env e;
	struct flow f;
	struct kmaps k = { .n = 0 };
	struct call *c;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	handshake(&e, &f);
	msg(&e, &f, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	msg(&e, &f, DIR_IN, PPTP_ICRQ, 600, 0, 0);
	t = msg(&e, &f, DIR_OUT, PPTP_ICRP, 4, 600, 1);
	alias = pl16(t, 12);
	/* Not established yet: nothing for the kernel. */
	c = call_by_alias(&e.g.tab, PUB, SERVER, alias);
	if (c && c->state != CALL_ESTABLISHED) {
		struct call_xlat x = call_xlat(c);
		struct fp_elem el[FPM_COUNT];

		x.peer_known = 0;
		CHECK_EQ(0, fp_elems(&x, el));
	}
	msg(&e, &f, DIR_IN, PPTP_ICCN, alias, 0, 0);
	c = only_call(&e, SERVER, alias);
	if (c) {
		kmaps_add_call(&k, c);
		check_same(&e, &k, DIR_IN, SERVER, PUB, alias);
		check_same(&e, &k, DIR_OUT, INSIDE(1), SERVER, 600);
	}
	env_done(&e);
}

static void test_inside_pac_port_forward(void)
{
	struct env e;
	struct flow f;
	struct kmaps k = { .n = 0 };
	struct call *c;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init_pf(&f);
	handshake(&e, &f);
	msg(&e, &f, DIR_IN, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &f, DIR_OUT, PPTP_SCCRP, 0, 0, 1);
	msg(&e, &f, DIR_IN, PPTP_OCRQ, 7, 0, 0);
	t = msg(&e, &f, DIR_OUT, PPTP_OCRP, 3, 7, 1);
	alias = pl16(t, 12);
	c = only_call(&e, PNS_OUT, alias);
	if (c) {
		kmaps_add_call(&k, c);
		check_same(&e, &k, DIR_IN, PNS_OUT, PUB, alias);
		check_same(&e, &k, DIR_OUT, PAC_IN, PNS_OUT, 7);
	}
	env_done(&e);
}

/* Three hosts, one Call ID, one server: nine entries, no key shared, and
 * each host's GRE goes to that host alone. */
static void test_same_id_hosts(void)
{
	struct env e;
	struct flow f[3];
	struct kmaps k = { .n = 0 };
	uint16_t alias[3];
	int i, j;

	if (env_init(&e, 64) < 0)
		return;
	for (i = 0; i < 3; i++) {
		struct call *c;

		flow_init(&f[i], INSIDE(i + 1), 40000, SERVER,
			  (uint16_t)(61000 + i));
		alias[i] = setup_call(&e, &f[i], 4660, (uint16_t)(900 + i), 1);
		c = only_call(&e, SERVER, alias[i]);
		if (c)
			kmaps_add_call(&k, c);
	}
	CHECK_EQ(9, k.n);
	for (i = 0; i < k.n; i++)
		for (j = i + 1; j < k.n; j++)
			CHECK(k.e[i].map != k.e[j].map ||
			      memcmp(k.e[i].key, k.e[j].key, FP_KEY_LEN) != 0);
	for (i = 0; i < 3; i++) {
		check_same(&e, &k, DIR_IN, SERVER, PUB, alias[i]);
		check_same(&e, &k, DIR_OUT, INSIDE(i + 1), SERVER,
			   (uint16_t)(900 + i));
	}
	env_done(&e);
}

/* A third address using a live alias, or a live host naming another
 * server's call, matches no entry: the queue decides about it. */
static void test_spoofed_no_match(void)
{
	struct env e;
	struct flow f;
	struct kmaps k = { .n = 0 };
	uint8_t pkt[200];
	struct call *c;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 4660, 900, 1);
	c = only_call(&e, SERVER, alias);
	if (c)
		kmaps_add_call(&k, c);
	pg_gre(pkt, sizeof(pkt), THIRD, PUB, alias, 1, 1, 0, 0, NULL, 0);
	CHECK_EQ(0, kernel_rewrite(&k, DIR_IN, pkt));
	pg_gre(pkt, sizeof(pkt), SERVER, PUB, (uint16_t)(alias + 1), 1, 1, 0,
	       0, NULL, 0);
	CHECK_EQ(0, kernel_rewrite(&k, DIR_IN, pkt));
	pg_gre(pkt, sizeof(pkt), INSIDE(1), SERVER2, 900, 1, 1, 0, 0, NULL, 0);
	CHECK_EQ(0, kernel_rewrite(&k, DIR_OUT, pkt));
	pg_gre(pkt, sizeof(pkt), INSIDE(2), SERVER, 900, 1, 1, 0, 0, NULL, 0);
	CHECK_EQ(0, kernel_rewrite(&k, DIR_OUT, pkt));
	env_done(&e);
}

/*
 * The record kept at install is what removal deletes, whatever the slot
 * holds by then; counters of its elements are counted only while the slot
 * still has that call.
 */
static void test_removal_and_stale_counters(void)
{
	struct env e;
	struct flow f;
	struct fp_rec rec;
	struct fp_elem old[FPM_COUNT], now[FPM_COUNT];
	struct call *c;
	uint64_t dp = 0, db = 0;
	uint16_t alias, alias2;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 4660, 900, 1);
	c = only_call(&e, SERVER, alias);
	if (!c) {
		env_done(&e);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.installed = 1;
	rec.slot = call_slot(&e.g.tab, c);
	rec.x = call_xlat(c);
	CHECK_EQ(FPM_COUNT, fp_elems(&rec.x, old));
	CHECK_EQ(DIR_IN, fp_rec_count(&rec, FPM_IN_ADDR, old[FPM_IN_ADDR].key,
				      FP_KEY_LEN, 10, 1000, &dp, &db));
	CHECK_EQ(10, dp);
	CHECK_EQ(1000, db);
	CHECK_EQ(DIR_IN, fp_rec_count(&rec, FPM_IN_ADDR, old[FPM_IN_ADDR].key,
				      FP_KEY_LEN, 25, 2500, &dp, &db));
	CHECK_EQ(15, dp);
	CHECK_EQ(1500, db);
	CHECK_EQ(DIR_OUT, fp_rec_count(&rec, FPM_OUT_ADDR,
				       old[FPM_OUT_ADDR].key, FP_KEY_LEN, 4,
				       400, &dp, &db));
	CHECK_EQ(4, dp);
	/* in_id has no counter. */
	CHECK_EQ(-1, fp_rec_count(&rec, FPM_IN_ID, old[FPM_IN_ID].key,
				  FP_KEY_LEN, 1, 1, &dp, &db));
	/* The call ends; a new one (another server ID) takes the slot. */
	msg(&e, &f, DIR_IN, PPTP_CDN, 900, 0, 0);
	CHECK(call_by_alias(&e.g.tab, PUB, SERVER, alias) == NULL ||
	      call_by_alias(&e.g.tab, PUB, SERVER, alias)->state !=
	      CALL_ESTABLISHED);
	alias2 = setup_call(&e, &f, 4661, 901, 0);
	c = only_call(&e, SERVER, alias2);
	if (c) {
		struct fp_rec fresh = rec;

		fresh.x = call_xlat(c);
		fresh.pkts[DIR_IN] = fresh.bytes[DIR_IN] = 0;
		CHECK_EQ(FPM_COUNT, fp_elems(&fresh.x, now));
		/* The old call's element, read back under the slot's new
		 * call, counts for nothing. */
		CHECK_EQ(-1, fp_rec_count(&fresh, FPM_IN_ADDR,
					  old[FPM_IN_ADDR].key, FP_KEY_LEN, 99,
					  9900, &dp, &db));
		CHECK(memcmp(old[FPM_IN_ADDR].key, now[FPM_IN_ADDR].key,
			     FP_KEY_LEN) != 0);
	}
	/* Removal deletes what was installed: the record's own elements. */
	{
		struct fp_elem again[FPM_COUNT];

		CHECK_EQ(FPM_COUNT, fp_elems(&rec.x, again));
		CHECK_MEM(old, again, sizeof(old));
	}
	/* A counter that went back is a new element: counted from zero. */
	CHECK_EQ(DIR_IN, fp_rec_count(&rec, FPM_IN_ADDR, old[FPM_IN_ADDR].key,
				      FP_KEY_LEN, 3, 300, &dp, &db));
	CHECK_EQ(3, dp);
	rec.installed = 0;
	CHECK_EQ(-1, fp_rec_count(&rec, FPM_IN_ADDR, old[FPM_IN_ADDR].key,
				  FP_KEY_LEN, 5, 500, &dp, &db));
	env_done(&e);
}

static void test_tags(void)
{
	char tag[FP_TAG_MAX];
	uint32_t slot = 0;
	size_t n = fp_tag_put(tag, 4294967295u);

	CHECK_EQ(strlen(tag) + 1, n);
	CHECK_EQ(0, fp_tag_get(tag, n, &slot));
	CHECK_EQ(4294967295u, slot);
	n = fp_tag_put(tag, 17);
	CHECK_EQ(0, fp_tag_get(tag, n - 1, &slot));   /* without its NUL */
	CHECK_EQ(17, slot);
	CHECK_EQ(-1, fp_tag_get("pptpgw/2 call 17", 17, &slot));
	CHECK_EQ(-1, fp_tag_get("pptpgw/10 call 17", 18, &slot));
	CHECK_EQ(-1, fp_tag_get("pptpgw/1 call ", 15, &slot));
	CHECK_EQ(-1, fp_tag_get("pptpgw/1 call 17x", 18, &slot));
	CHECK_EQ(-1, fp_tag_get("pptpgw/1 call 4294967296", 25, &slot));
	CHECK_EQ(-1, fp_tag_get("an admin's comment", 19, &slot));
	CHECK_EQ(-1, fp_tag_get(tag, 0, &slot));
}

/* ---- netlink ------------------------------------------------------------ */

struct seen {
	int n;
	struct fpnl_elem e;
	uint8_t key[FP_KEY_LEN], val[FP_VAL_MAX];
	char tag[FP_TAG_MAX];
};

static void keep(void *arg, const struct fpnl_elem *e)
{
	struct seen *s = arg;

	s->n++;
	s->e = *e;
	if (e->key && e->klen <= sizeof(s->key))
		memcpy(s->key, e->key, e->klen);
	if (e->val && e->vlen <= sizeof(s->val))
		memcpy(s->val, e->val, e->vlen);
	if (e->tag && e->taglen < sizeof(s->tag)) {
		memcpy(s->tag, e->tag, e->taglen);
		s->tag[e->taglen] = 0;
	}
}

static struct fp_elem sample_elem(enum fp_map m)
{
	struct call_xlat x = {
		.pub = PUB, .outside = SERVER, .inside = INSIDE(1),
		.alias = 0xBEEF, .inside_id = 4660, .peer_id = 900,
		.peer_known = 1,
	};
	struct fp_elem e[FPM_COUNT];

	fp_elems(&x, e);
	return e[m];
}

/* The first message after a batch's begin message. */
static struct nlmsghdr *second(char *buf)
{
	struct nlmsghdr *b = (struct nlmsghdr *)buf;

	return (struct nlmsghdr *)(buf + NLMSG_ALIGN(b->nlmsg_len));
}

static void test_add_message_round_trip(void)
{
	static char buf[2 * 8192];
	struct mnl_nlmsg_batch *b;
	struct fp_elem e = sample_elem(FPM_IN_ADDR);
	struct seen s;
	char tag[FP_TAG_MAX];
	size_t tl = fp_tag_put(tag, 42);
	struct nlmsghdr *nlh;

	memset(&s, 0, sizeof(s));
	b = mnl_nlmsg_batch_start(buf, 8192);
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), 1);
	mnl_nlmsg_batch_next(b);
	CHECK_EQ(0, fpnl_elem_msg(b, 1, &e, tag, tl, 2));
	nlh = second(buf);
	CHECK_EQ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM,
		 nlh->nlmsg_type);
	CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
	CHECK(nlh->nlmsg_flags & NLM_F_EXCL);
	CHECK_EQ(1, fpnl_parse(nlh, keep, &s));
	CHECK_EQ(1, s.n);
	CHECK_EQ(FPM_IN_ADDR, s.e.map);
	CHECK_EQ(FP_KEY_LEN, s.e.klen);
	CHECK_MEM(e.key, s.key, FP_KEY_LEN);
	CHECK_EQ(4, s.e.vlen);
	CHECK_EQ(INSIDE(1), pg_get32(s.val));
	CHECK(strcmp(tag, s.tag) == 0);
	CHECK_EQ(0, s.e.counted);
	mnl_nlmsg_batch_stop(b);

	/* A deletion names the key alone, in the right map. */
	memset(&s, 0, sizeof(s));
	e = sample_elem(FPM_IN_ID);
	b = mnl_nlmsg_batch_start(buf, 8192);
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), 1);
	mnl_nlmsg_batch_next(b);
	CHECK_EQ(0, fpnl_elem_msg(b, 0, &e, NULL, 0, 2));
	nlh = second(buf);
	CHECK_EQ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELSETELEM,
		 nlh->nlmsg_type);
	CHECK_EQ(1, fpnl_parse(nlh, keep, &s));
	CHECK_EQ(FPM_IN_ID, s.e.map);
	CHECK_MEM(e.key, s.key, FP_KEY_LEN);
	CHECK_EQ(0, s.e.vlen);
	CHECK(s.e.tag == NULL);
	mnl_nlmsg_batch_stop(b);
}

/* What the kernel sends in a dump: the element with its counter. */
static struct nlmsghdr *dumped(char *buf, const char *table, const char *map,
			       const struct fp_elem *e, const char *tag,
			       size_t tl, uint64_t pkts, uint64_t bytes)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct nftnl_expr *ctr = nftnl_expr_alloc("counter");
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, FP_KEY_LEN);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->val, e->vlen);
	nftnl_udata_put(u, NFTNL_UDATA_SET_ELEM_COMMENT, (uint32_t)tl, tag);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA,
			   nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_PACKETS, pkts);
	nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_BYTES, bytes);
	nftnl_set_elem_add_expr(el, ctr);
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
				    NLM_F_MULTI, 7);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

static void test_counter_read_back(void)
{
	static char buf[8192];
	struct fp_elem e = sample_elem(FPM_OUT_ADDR);
	char tag[FP_TAG_MAX];
	size_t tl = fp_tag_put(tag, 9);
	struct seen s;
	struct nlmsghdr *nlh;
	uint32_t slot = 0;

	memset(&s, 0, sizeof(s));
	nlh = dumped(buf, FP_TABLE, "out_addr", &e, tag, tl,
		     123456789012ull, 987654321098ull);
	CHECK_EQ(1, fpnl_parse(nlh, keep, &s));
	CHECK_EQ(FPM_OUT_ADDR, s.e.map);
	CHECK_EQ(1, s.e.counted);
	CHECK_EQ(123456789012ll, (long long)s.e.pkts);
	CHECK_EQ(987654321098ll, (long long)s.e.bytes);
	CHECK_MEM(e.key, s.key, FP_KEY_LEN);
	CHECK_EQ(0, fp_tag_get(s.tag, strlen(s.tag), &slot));
	CHECK_EQ(9, slot);
	/* Another table's or an unknown map's elements are not ours. */
	memset(&s, 0, sizeof(s));
	nlh = dumped(buf, "filter", "out_addr", &e, tag, tl, 1, 1);
	CHECK_EQ(-1, fpnl_parse(nlh, keep, &s));
	nlh = dumped(buf, FP_TABLE, "blocklist", &e, tag, tl, 1, 1);
	CHECK_EQ(-1, fpnl_parse(nlh, keep, &s));
	CHECK_EQ(0, s.n);
	/* A request for one element and for a whole map. */
	nlh = fpnl_get_req(buf, &e, 3);
	CHECK_EQ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
		 nlh->nlmsg_type);
	CHECK(!(nlh->nlmsg_flags & NLM_F_DUMP));
	nlh = fpnl_dump_req(buf, FPM_IN_ADDR, 4);
	CHECK((nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
}

/* The same cases with the tc-BPF engine's entries. */
#define BPF_CASE(name)                                                    \
	static void test_bpf_##name(void)                                 \
	{                                                                 \
		bpf_model = 1;                                            \
		test_##name();                                            \
		bpf_model = 0;                                            \
	}
BPF_CASE(inside_pns_outgoing)
BPF_CASE(inside_pns_incoming)
BPF_CASE(inside_pac_port_forward)
BPF_CASE(same_id_hosts)
BPF_CASE(spoofed_no_match)

/* A call the engine cannot translate statelessly has no entries either. */
static void test_bpf_incomplete_call(void)
{
	struct call_xlat x = { .pub = PUB, .outside = SERVER,
			       .inside = INSIDE(1), .alias = 7,
			       .inside_id = 4660, .peer_id = 900,
			       .peer_known = 1 };
	struct fpb_key ik, ok;
	struct fpb_val iv, ov;

	CHECK_EQ(0, fp_bpf_entries(&x, 3, &ik, &iv, &ok, &ov));
	CHECK_EQ(htonl(SERVER), ik.src);
	CHECK_EQ(htonl(PUB), ik.dst);
	CHECK_EQ(htons(7), ik.call);
	CHECK_EQ(htonl(INSIDE(1)), iv.addr);
	CHECK_EQ(htons(4660), iv.call);
	CHECK_EQ(htonl(INSIDE(1)), ok.src);
	CHECK_EQ(htonl(SERVER), ok.dst);
	CHECK_EQ(htons(900), ok.call);
	CHECK_EQ(htonl(PUB), ov.addr);
	CHECK_EQ(0u, ov.oif);        /* its WAN not known: any */
	CHECK_EQ(0u, iv.oif);
	/* The WAN its control connection leaves by: outbound GRE only. */
	x.wan_if = 7;
	CHECK_EQ(0, fp_bpf_entries(&x, 3, &ik, &iv, &ok, &ov));
	CHECK_EQ(7u, ov.oif);
	CHECK_EQ(0u, iv.oif);
	x.peer_known = 0;
	CHECK_EQ(-1, fp_bpf_entries(&x, 3, &ik, &iv, &ok, &ov));
	x.peer_known = 1;
	x.alias = 0;
	CHECK_EQ(-1, fp_bpf_entries(&x, 3, &ik, &iv, &ok, &ov));
}

static const struct check_case cases[] = {
	CHECK_CASE(inside_pns_outgoing),
	CHECK_CASE(inside_pns_incoming),
	CHECK_CASE(inside_pac_port_forward),
	CHECK_CASE(same_id_hosts),
	CHECK_CASE(spoofed_no_match),
	CHECK_CASE(removal_and_stale_counters),
	CHECK_CASE(tags),
	CHECK_CASE(add_message_round_trip),
	CHECK_CASE(counter_read_back),
	CHECK_CASE(bpf_inside_pns_outgoing),
	CHECK_CASE(bpf_inside_pns_incoming),
	CHECK_CASE(bpf_inside_pac_port_forward),
	CHECK_CASE(bpf_same_id_hosts),
	CHECK_CASE(bpf_spoofed_no_match),
	CHECK_CASE(bpf_incomplete_call),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
