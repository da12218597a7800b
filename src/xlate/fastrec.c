#include "xlate/fastrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

const char *const fp_map_names[FPM_COUNT] = {
	[FPM_IN_ADDR] = "in_addr",
	[FPM_IN_ID] = "in_id",
	[FPM_OUT_ADDR] = "out_addr",
};

int fp_map_dir(enum fp_map m)
{
	switch (m) {
	case FPM_IN_ADDR:
		return DIR_IN;
	case FPM_OUT_ADDR:
		return DIR_OUT;
	default:
		return -1;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* a . b . id, the id in the first two bytes of its register. */
static void key3(struct fp_elem *e, enum fp_map m, uint32_t a, uint32_t b,
		 uint16_t id)
{
	memset(e, 0, sizeof(*e));
	e->map = m;
	put32(e->key, a);
	put32(e->key + 4, b);
	put16(e->key + 8, id);
}

int fp_elems(const struct call_xlat *x, struct fp_elem e[FPM_COUNT])
{
	if (!x->peer_known || !x->pub || !x->outside || !x->inside ||
	    !x->alias)
		return 0;
	key3(&e[FPM_IN_ADDR], FPM_IN_ADDR, x->outside, x->pub, x->alias);
	put32(e[FPM_IN_ADDR].val, x->inside);
	e[FPM_IN_ADDR].vlen = 4;
	key3(&e[FPM_IN_ID], FPM_IN_ID, x->outside, x->inside, x->alias);
	put16(e[FPM_IN_ID].val, x->inside_id);
	e[FPM_IN_ID].vlen = 2;
	key3(&e[FPM_OUT_ADDR], FPM_OUT_ADDR, x->inside, x->outside,
	     x->peer_id);
	put32(e[FPM_OUT_ADDR].val, x->pub);
	e[FPM_OUT_ADDR].vlen = 4;
	return FPM_COUNT;
}

static void bkey(struct fpb_key *k, uint32_t src, uint32_t dst, uint16_t call)
{
	memset(k, 0, sizeof(*k));
	k->src = htonl(src);
	k->dst = htonl(dst);
	k->call = htons(call);
}

static void bval(struct fpb_val *v, uint32_t addr, uint16_t call,
		 uint32_t slot)
{
	memset(v, 0, sizeof(*v));
	v->addr = htonl(addr);
	v->call = htons(call);
	v->version = FPB_VERSION;
	v->slot = slot;
}

int fp_bpf_entries(const struct call_xlat *x, uint32_t slot,
		   struct fpb_key *ik, struct fpb_val *iv,
		   struct fpb_key *ok, struct fpb_val *ov)
{
	if (!x->peer_known || !x->pub || !x->outside || !x->inside ||
	    !x->alias)
		return -1;
	bkey(ik, x->outside, x->pub, x->alias);
	bval(iv, x->inside, x->inside_id, slot);
	bkey(ok, x->inside, x->outside, x->peer_id);
	bval(ov, x->pub, 0, slot);
	ov->oif = x->wan_if;
	return 0;
}

size_t fp_tag_put(char tag[FP_TAG_MAX], uint32_t slot)
{
	return (size_t)snprintf(tag, FP_TAG_MAX, "pptpgw/%u call %u",
				FP_TAG_VERSION, slot) + 1;
}

int fp_tag_get(const char *tag, size_t n, uint32_t *slot)
{
	char s[FP_TAG_MAX], want[FP_TAG_MAX];
	unsigned long v;
	char *end;
	size_t p;

	if (n == 0 || n >= sizeof(s))
		return -1;
	memcpy(s, tag, n);
	s[n] = 0;
	p = (size_t)snprintf(want, sizeof(want), "pptpgw/%u call ",
			     FP_TAG_VERSION);
	if (strncmp(s, want, p) != 0 || s[p] < '0' || s[p] > '9')
		return -1;
	v = strtoul(s + p, &end, 10);
	if (*end || v > UINT32_MAX)
		return -1;
	*slot = (uint32_t)v;
	return 0;
}

int fp_rec_count(struct fp_rec *rec, enum fp_map m, const uint8_t *key,
		 size_t klen, uint64_t pkts, uint64_t bytes,
		 uint64_t *dpkts, uint64_t *dbytes)
{
	struct fp_elem e[FPM_COUNT];
	int dir = fp_map_dir(m);

	if (dir < 0 || !rec->installed || klen != FP_KEY_LEN ||
	    fp_elems(&rec->x, e) != FPM_COUNT ||
	    memcmp(e[m].key, key, FP_KEY_LEN) != 0)
		return -1;
	/* A counter never goes back; one that did is a new element. */
	if (pkts >= rec->pkts[dir] && bytes >= rec->bytes[dir]) {
		*dpkts = pkts - rec->pkts[dir];
		*dbytes = bytes - rec->bytes[dir];
	} else {
		*dpkts = pkts;
		*dbytes = bytes;
	}
	rec->pkts[dir] = pkts;
	rec->bytes[dir] = bytes;
	return dir;
}
