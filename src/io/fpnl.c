#include "io/fpnl.h"

#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

static struct nftnl_set *set_of(enum fp_map m)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FP_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, fp_map_names[m]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	return s;
}

/* The tag as the element's user data: one comment attribute, as nft
 * writes comments, so `nft list` shows it. */
static int put_tag(struct nftnl_set_elem *el, const char *tag, size_t len)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
	int ok;

	if (!u)
		return -1;
	ok = nftnl_udata_put(u, NFTNL_UDATA_SET_ELEM_COMMENT, (uint32_t)len,
			     tag);
	if (ok)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return ok ? 0 : -1;
}

int fpnl_elem_msg(struct mnl_nlmsg_batch *b, int add, const struct fp_elem *e,
		  const char *tag, size_t taglen, uint32_t seq)
{
	struct nftnl_set *s = set_of(e->map);
	struct nftnl_set_elem *el;
	struct nlmsghdr *nlh;
	int rc = -1;

	if (!s)
		return -1;
	el = nftnl_set_elem_alloc();
	if (!el)
		goto out;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, FP_KEY_LEN);
	if (add) {
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->val, e->vlen);
		if (tag && put_tag(el, tag, taglen) < 0) {
			nftnl_set_elem_free(el);
			goto out;
		}
	}
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
				    add ? NFT_MSG_NEWSETELEM :
					  NFT_MSG_DELSETELEM,
				    NFPROTO_IPV4,
				    add ? NLM_F_CREATE | NLM_F_EXCL : 0, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	/* false: past the batch's limit (its buffer has room for one more
	 * message, which is this one). */
	rc = mnl_nlmsg_batch_next(b) ? 0 : -1;
out:
	nftnl_set_free(s);
	return rc;
}

struct nlmsghdr *fpnl_get_req(char *buf, const struct fp_elem *e,
			      uint32_t seq)
{
	struct nftnl_set *s = set_of(e->map);
	struct nftnl_set_elem *el;
	struct nlmsghdr *nlh;

	if (!s)
		return NULL;
	el = nftnl_set_elem_alloc();
	if (!el) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, FP_KEY_LEN);
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
				    NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

struct nlmsghdr *fpnl_dump_req(char *buf, enum fp_map m, uint32_t seq)
{
	struct nftnl_set *s = set_of(m);
	struct nlmsghdr *nlh;

	if (!s)
		return NULL;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
				    NLM_F_DUMP, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

static int counter_of(struct nftnl_expr *x, void *arg)
{
	struct fpnl_elem *e = arg;
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);

	if (name && strcmp(name, "counter") == 0) {
		e->counted = 1;
		e->pkts = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		e->bytes = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int comment_of(const struct nftnl_udata *a, void *arg)
{
	struct fpnl_elem *e = arg;

	if (nftnl_udata_type(a) == NFTNL_UDATA_SET_ELEM_COMMENT) {
		e->tag = nftnl_udata_get(a);
		e->taglen = nftnl_udata_len(a);
	}
	return 0;
}

struct parse_ctx {
	enum fp_map map;
	fpnl_elem_fn fn;
	void *arg;
	int n;
};

static int one_elem(struct nftnl_set_elem *el, void *arg)
{
	struct parse_ctx *c = arg;
	struct fpnl_elem e;
	const void *ud;
	uint32_t udlen = 0;

	memset(&e, 0, sizeof(e));
	e.map = c->map;
	e.key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &e.klen);
	e.val = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &e.vlen);
	if (!e.key)
		return 0;
	ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &udlen);
	if (ud)
		nftnl_udata_parse(ud, udlen, comment_of, &e);
	nftnl_set_elem_expr_foreach(el, counter_of, &e);
	c->fn(c->arg, &e);
	c->n++;
	return 0;
}

static int map_named(const char *name)
{
	int m;

	for (m = 0; name && m < FPM_COUNT; m++)
		if (strcmp(name, fp_map_names[m]) == 0)
			return m;
	return -1;
}

int fpnl_parse(const struct nlmsghdr *nlh, fpnl_elem_fn fn, void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct parse_ctx c = { .fn = fn, .arg = arg };
	const char *table;
	int m, rc = -1;

	if (!s)
		return -1;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
		goto out;
	table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	m = map_named(nftnl_set_get_str(s, NFTNL_SET_NAME));
	if (!table || strcmp(table, FP_TABLE) != 0 || m < 0)
		goto out;
	c.map = (enum fp_map)m;
	nftnl_set_elem_foreach(s, one_elem, &c);
	rc = c.n;
out:
	nftnl_set_free(s);
	return rc;
}
