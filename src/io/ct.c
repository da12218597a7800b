#include "io/ct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "log.h"
#include "wire/pptp_msg.h"

struct ctev {
	struct mnl_socket *nl;
	struct event *ev;
	ct_gone_handler handler;
	ct_lost_handler lost;
	void *arg;
	char buf[32768];
};

void ct_tuple_get(const struct nf_conntrack *ct, struct ct_tuple *t)
{
	t->proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	t->orig_src = ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC));
	t->orig_dst = ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST));
	t->reply_src = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC));
	t->reply_dst = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST));
	t->orig_sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
	t->orig_dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	t->reply_sport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	t->reply_dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
}

/* An IPv4 TCP flow to or from port 1723: its tuples in t. */
static int pptp_flow(const struct nf_conntrack *ct, struct ct_tuple *t)
{
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) != AF_INET)
		return 0;
	ct_tuple_get(ct, t);
	return t->proto == IPPROTO_TCP &&
	       (t->orig_dport == PPTP_PORT || t->reply_sport == PPTP_PORT ||
		t->orig_sport == PPTP_PORT);
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct ctev *c = data;
	struct nf_conntrack *ct = nfct_new();
	struct ct_tuple t;

	if (!ct)
		return MNL_CB_OK;
	if (nfct_nlmsg_parse(nlh, ct) >= 0 && pptp_flow(ct, &t))
		c->handler(c->arg, &t);
	nfct_destroy(ct);
	return MNL_CB_OK;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ctev *c = arg;
	int i, lost = 0;

	(void)what;
	for (i = 0; i < 32; i++) {
		int n = (int)recv(fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			break;
		}
		mnl_cb_run(c->buf, (size_t)n, 0, 0, on_event, c);
	}
	/* After the events still queued, so the sync sees their effect. */
	if (lost && c->lost)
		c->lost(c->arg);
}

/* Only TCP flows' events reach the socket: the rest of the host's
 * traffic (DNS, every UDP flow) can no longer overflow it. */
static void filter_tcp(int fd)
{
	struct nfct_filter *f = nfct_filter_create();

	if (!f)
		return;
	nfct_filter_add_attr_u32(f, NFCT_FILTER_L4PROTO, IPPROTO_TCP);
	if (nfct_filter_attach(fd, f) < 0)
		log_warn("conntrack events: no kernel filter (%s): every "
			 "flow's end is read", strerror(errno));
	nfct_filter_destroy(f);
}

struct ctev *ctev_start(struct event_base *base, ct_gone_handler h,
			ct_lost_handler lost, void *arg)
{
	struct ctev *c = calloc(1, sizeof(*c));
	int rcv = 4 << 20;

	if (!c)
		return NULL;
	c->handler = h;
	c->lost = lost;
	c->arg = arg;
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl ||
	    mnl_socket_bind(c->nl, NF_NETLINK_CONNTRACK_DESTROY,
			    MNL_SOCKET_AUTOPID) < 0) {
		log_err("conntrack events: %s", strerror(errno));
		ctev_stop(c);
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		   sizeof(rcv));
	filter_tcp(mnl_socket_get_fd(c->nl));
	c->ev = event_new(base, mnl_socket_get_fd(c->nl), EV_READ | EV_PERSIST,
			  on_readable, c);
	if (!c->ev || event_add(c->ev, NULL) < 0) {
		ctev_stop(c);
		return NULL;
	}
	return c;
}

void ctev_stop(struct ctev *c)
{
	if (!c)
		return;
	if (c->ev)
		event_free(c->ev);
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

struct ct_query {
	struct nfct_handle *h;
	struct ct_tuple found;
	int hit;
};

static int on_get(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		  void *data)
{
	struct ct_query *q = data;

	(void)type;
	ct_tuple_get(ct, &q->found);
	q->hit = 1;
	/* CONTINUE, not STOP: the library must read the whole answer, or its
	 * tail is taken as the answer to the next query. */
	return NFCT_CB_CONTINUE;
}

struct ct_query *ct_query_open(void)
{
	struct ct_query *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->h = nfct_open(CONNTRACK, 0);
	if (!q->h) {
		free(q);
		return NULL;
	}
	nfct_callback_register(q->h, NFCT_T_ALL, on_get, q);
	return q;
}

void ct_query_close(struct ct_query *q)
{
	if (!q)
		return;
	nfct_close(q->h);
	free(q);
}

int ct_lookup_nat(struct ct_query *q, uint32_t inside, uint16_t iport,
		  uint32_t outside, uint16_t oport, uint32_t *pub,
		  uint16_t *pub_port, uint8_t *inside_opened)
{
	struct nf_conntrack *ct = nfct_new();
	const struct ct_tuple *f = &q->found;
	int r;

	if (!ct)
		return -1;
	/*
	 * The flow as the inside end sends it.  The kernel finds an entry by
	 * either of its tuples, so this one query finds both placements: the
	 * original tuple of a connection the inside host opened (SNAT), the
	 * reply tuple of one an outside host opened (DNAT, a port-forwarded
	 * server).  Which of the two matched says who opened it.  (Asking by
	 * the reply tuple alone does not work: libnetfilter_conntrack sends
	 * an empty original tuple with it, which the kernel rejects.)
	 */
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, htonl(inside));
	nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, htonl(outside));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(iport));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(oport));
	q->hit = 0;
	r = nfct_query(q->h, NFCT_Q_GET, ct);
	nfct_destroy(ct);
	if (r < 0 || !q->hit)
		return -1;
	if (f->orig_src == inside && f->orig_sport == iport &&
	    f->orig_dst == outside && f->orig_dport == oport) {
		*inside_opened = 1;
		*pub = f->reply_dst;
		*pub_port = f->reply_dport;
	} else if (f->reply_src == inside && f->reply_sport == iport &&
		   f->reply_dst == outside && f->reply_dport == oport) {
		*inside_opened = 0;
		*pub = f->orig_dst;
		*pub_port = f->orig_dport;
	} else {
		return -1;
	}
	return *pub ? 0 : -1;
}

static int count_helper(enum nf_conntrack_msg_type type,
			struct nf_conntrack *ct, void *data)
{
	int *n = data;
	const char *helper;

	(void)type;
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_TCP ||
	    !nfct_attr_is_set(ct, ATTR_HELPER_NAME))
		return NFCT_CB_CONTINUE;
	helper = nfct_get_attr(ct, ATTR_HELPER_NAME);
	if (helper && strcmp(helper, "pptp") == 0)
		(*n)++;
	return NFCT_CB_CONTINUE;
}

int ct_count_pptp_helper(void)
{
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	uint32_t family = AF_INET;
	int n = 0, r;

	if (!h)
		return -1;
	nfct_callback_register(h, NFCT_T_ALL, count_helper, &n);
	r = nfct_query(h, NFCT_Q_DUMP, &family);
	nfct_close(h);
	return r < 0 ? -1 : n;
}

struct dump_pptp {
	ct_gone_handler fn;
	void *arg;
};

static int on_dumped(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		     void *data)
{
	struct dump_pptp *d = data;
	struct ct_tuple t;

	(void)type;
	if (pptp_flow(ct, &t))
		d->fn(d->arg, &t);
	return NFCT_CB_CONTINUE;
}

int ct_dump_pptp(ct_gone_handler fn, void *arg)
{
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	struct dump_pptp d = { fn, arg };
	uint32_t family = AF_INET;
	int r;

	if (!h)
		return -1;
	nfct_callback_register(h, NFCT_T_ALL, on_dumped, &d);
	r = nfct_query(h, NFCT_Q_DUMP, &family);
	nfct_close(h);
	return r < 0 ? -1 : 0;
}
