#include "wire/vbatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* Message head: nlmsghdr, nfgenmsg, verdict header, mark, payload attr. */
#define VB_HEAD (NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + \
		 NLA_HDRLEN + NLA_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr)) + \
		 NLA_HDRLEN + 4 + NLA_HDRLEN)

static const uint8_t zeros[4];

int vbatch_init(struct vbatch *b, uint16_t queue, size_t cap,
		unsigned nrec, size_t max_send)
{
	memset(b, 0, sizeof(*b));
	b->buf = malloc(cap);
	b->rec = calloc(nrec, sizeof(*b->rec));
	if (!b->buf || !b->rec) {
		vbatch_free(b);
		return -1;
	}
	b->cap = cap;
	b->caprec = nrec;
	b->queue = queue;
	b->max_send = max_send;
	return 0;
}

void vbatch_free(struct vbatch *b)
{
	free(b->buf);
	free(b->rec);
	b->buf = NULL;
	b->rec = NULL;
	b->cap = b->used = 0;
	b->caprec = b->nrec = b->start = 0;
}

void vbatch_keep(struct vbatch *b, const void *lo, size_t len)
{
	b->keep_lo = lo;
	b->keep_hi = b->keep_lo + len;
}

static uint8_t *put_attr(uint8_t *p, uint16_t type, const void *v,
			 uint16_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len),
			    .nla_type = type };

	memcpy(p, &a, sizeof(a));
	if (v)
		memcpy(p + NLA_HDRLEN, v, len);
	return p + NLA_HDRLEN + NLA_ALIGN(len);
}

int vbatch_add(struct vbatch *b, uint32_t id, uint32_t verdict, uint32_t mark,
	       const uint8_t *data, size_t len)
{
	struct nlmsghdr nh;
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC,
			      .version = NFNETLINK_V0,
			      .res_id = htons(b->queue) };
	struct nfqnl_msg_verdict_hdr vh = { .verdict = htonl(verdict),
					    .id = htonl(id) };
	struct vbatch_rec *r;
	uint32_t m = htonl(mark);
	uint8_t *start, *p;
	int ref;
	size_t need;

	if (data && len > 0xffff)
		return -1;
	ref = data && (const uint8_t *)data >= b->keep_lo &&
	      (const uint8_t *)data + len <= b->keep_hi;
	need = VB_HEAD + (data && !ref ? NLA_ALIGN(len) : 0);
	if (b->nrec == b->caprec || b->cap - b->used < need)
		return -1;
	start = p = b->buf + b->used;
	p += NLMSG_HDRLEN;
	memcpy(p, &g, sizeof(g));
	p += NLMSG_ALIGN(sizeof(g));
	p = put_attr(p, NFQA_VERDICT_HDR, &vh, sizeof(vh));
	if (mark)
		p = put_attr(p, NFQA_MARK, &m, sizeof(m));
	r = &b->rec[b->nrec];
	r->off = (uint32_t)b->used;
	r->ext = NULL;
	r->extlen = 0;
	if (data) {
		p = put_attr(p, NFQA_PAYLOAD, ref ? NULL : data, (uint16_t)len);
		if (ref) {
			/* The attribute's bytes follow from elsewhere. */
			p -= NLA_ALIGN(len);
			r->ext = data;
			r->extlen = (uint32_t)len;
		} else if (NLA_ALIGN(len) != len) {
			memset(p - (NLA_ALIGN(len) - len), 0,
			       NLA_ALIGN(len) - len);
		}
	}
	r->hlen = (uint32_t)(p - start);
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = r->hlen + (uint32_t)NLA_ALIGN(r->extlen);
	nh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
	nh.nlmsg_flags = NLM_F_REQUEST;
	nh.nlmsg_seq = ++b->seq;
	memcpy(start, &nh, sizeof(nh));
	b->used += r->hlen;
	b->nrec++;
	return 0;
}

int vbatch_grow(struct vbatch *b)
{
	uint8_t *nb = realloc(b->buf, b->cap * 2);
	struct vbatch_rec *nr;

	if (!nb)
		return -1;
	b->buf = nb;
	b->cap *= 2;
	nr = realloc(b->rec, sizeof(*nr) * b->caprec * 2);
	if (!nr)
		return -1;
	b->rec = nr;
	b->caprec *= 2;
	return 0;
}

/* Records [from, *to) in b->iov: as many as fit one datagram. */
static int fill_iov(struct vbatch *b, unsigned from, unsigned *to,
		    size_t *len)
{
	unsigned i;
	int n = 0;

	*len = 0;
	for (i = from; i < b->nrec; i++) {
		const struct vbatch_rec *r = &b->rec[i];
		size_t pad = NLA_ALIGN(r->extlen) - r->extlen;
		size_t sz = r->hlen + r->extlen + pad;
		int k = r->ext ? (pad ? 3 : 2) : 1;

		/* The first always goes, alone if need be. */
		if (i > from && (*len + sz > b->max_send ||
				 n + k > VBATCH_IOV_MAX))
			break;
		/* Heads of consecutive records without payloads merge. */
		if (n && !b->rec[i - 1].ext && i > from &&
		    (uint8_t *)b->iov[n - 1].iov_base + b->iov[n - 1].iov_len ==
		    b->buf + r->off)
			b->iov[n - 1].iov_len += r->hlen;
		else
			b->iov[n++] = (struct iovec){ b->buf + r->off, r->hlen };
		if (r->ext) {
			b->iov[n++] = (struct iovec){ (void *)r->ext, r->extlen };
			if (pad)
				b->iov[n++] = (struct iovec){ (void *)zeros, pad };
		}
		*len += sz;
	}
	*to = i;
	return n;
}

int vbatch_flush(struct vbatch *b, vbatch_send_fn send, void *arg)
{
	while (b->start < b->nrec) {
		unsigned to;
		size_t len;
		int n = fill_iov(b, b->start, &to, &len);

		if (send(arg, b->iov, n, len) < 0)
			return -1;
		b->start = to;
	}
	b->nrec = b->start = 0;
	b->used = 0;
	return 0;
}
