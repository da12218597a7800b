#include "io/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "wire/vbatch.h"

/* Packets received per wakeup: the other events of the loop stay alive. */
#define QUEUE_BUDGET 64
/* One queued packet's message: the copy range plus its attributes. */
#define QUEUE_MSG_MAX (0xffff + 4096)
/*
 * The receive buffer holds a whole batch: payloads rewritten in place are
 * referenced by the verdict batch until it is sent.
 */
#define QUEUE_RXBUF (256 << 10)
/* Verdicts and bytes batched before a send (held TCP copies are inline). */
#define QUEUE_VB_RECS 256
#define QUEUE_VB_BYTES (160 << 10)
#define QUEUE_SEND_MAX (256 << 10)
#define QUEUE_SOCKBUF (8 << 20)
/* Immediate retries of a send the kernel refused for want of memory. */
#define QUEUE_SEND_TRIES 3
#define QUEUE_RETRY_MS 10

struct queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	uint32_t seq;
	struct event *ev, *retry;
	queue_handler handler;
	void *arg;
	char *buf;
	size_t bufsz;
	struct vbatch vb;
	void (*presend)(void *arg);
	void *presend_arg;
	int in_rx;              /* dispatching a receive batch */
	int stalled;            /* verdicts failed to go: reading stopped */
	uint64_t errors;
	uint64_t lost;
};

/* Send a config message and wait for the kernel's acknowledgement. */
static int send_cfg(struct queue *q, struct nlmsghdr *nlh)
{
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		log_err("queue %u: netlink send: %s", q->num, strerror(errno));
		return -1;
	}
	n = (int)mnl_socket_recvfrom(q->nl, q->buf, q->bufsz);
	if (n < 0 || mnl_cb_run(q->buf, (size_t)n, q->seq, q->portid, NULL,
				NULL) < 0) {
		log_err("queue %u: configuration refused: %s", q->num,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int configure(struct queue *q, uint32_t maxlen)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(q->buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (send_cfg(q, nlh) < 0)
		return -1;
	nlh = nfq_nlmsg_put(q->buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	/*
	 * No NFQA_CFG_F_FAIL_OPEN: when the queue overflows the kernel drops.
	 * Accepting instead would let untranslated packets out to the WAN.
	 * No NFQA_CFG_F_CONNTRACK either: kernels without
	 * NETFILTER_NETLINK_GLUE_CT refuse it; NAT bindings are queried.
	 */
	return send_cfg(q, nlh);
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct queue_pkt p;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(&p, 0, sizeof(p));
	p.id = ntohl(ph->packet_id);
	p.hook = ph->hook;
	if (attr[NFQA_IFINDEX_INDEV])
		p.indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_MARK])
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_IFINDEX_OUTDEV])
		p.outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	if (attr[NFQA_PAYLOAD]) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	q->handler(q->arg, &p);
	return MNL_CB_OK;
}

/* One datagram of verdicts to the kernel. */
static ssize_t send_verdicts(void *arg, const struct iovec *iov, int niov,
			     size_t len)
{
	struct queue *q = arg;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to),
			     .msg_iov = (struct iovec *)iov,
			     .msg_iovlen = (size_t)niov };
	int tries = 0;
	ssize_t n;

	(void)len;
	for (;;) {
		n = sendmsg(mnl_socket_get_fd(q->nl), &mh, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		q->errors++;
		/* Short of memory (kernel or socket): it may pass at once. */
		if ((errno != ENOBUFS && errno != ENOMEM && errno != EAGAIN) ||
		    ++tries == QUEUE_SEND_TRIES)
			return -1;
	}
}

/*
 * Send the batched verdicts.  When the kernel keeps refusing, they stay
 * pending (a lost verdict would hold its queue slot for good) and reading
 * stops, which keeps the receive buffer they point into, until a timer
 * gets them through.
 */
static int queue_flush(struct queue *q)
{
	static struct log_rl rl;
	struct timeval tv = { 0, QUEUE_RETRY_MS * 1000 };
	int err;

	if (!vbatch_pending(&q->vb))
		return 0;
	if (q->presend)
		q->presend(q->presend_arg);
	if (vbatch_flush(&q->vb, send_verdicts, q) == 0)
		return 0;
	err = errno;
	if (!q->stalled) {
		q->stalled = 1;
		event_del(q->ev);
		log_limited(&rl, LOG_WARNING, "queue %u: %u verdicts not sent "
			    "(%s), retrying", q->num, vbatch_pending(&q->vb),
			    strerror(err));
	}
	evtimer_add(q->retry, &tv);
	return -1;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	(void)fd;
	(void)what;
	if (queue_flush(q) < 0)
		return;
	q->stalled = 0;
	event_add(q->ev, NULL);
}

/*
 * Drain the socket into one buffer, message after message, and answer the
 * whole batch with as few sends as the verdict batch allows.
 */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	size_t off = 0;
	int i;

	(void)what;
	if (queue_flush(q) < 0)
		return;
	q->in_rx = 1;
	for (i = 0; i < QUEUE_BUDGET && !q->stalled; i++) {
		ssize_t n;

		if (q->bufsz - off < QUEUE_MSG_MAX) {
			/* The buffer is reused: what points into it goes first. */
			if (queue_flush(q) < 0)
				break;
			off = 0;
		}
		n = recv(fd, q->buf + off, q->bufsz - off, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				q->errors++;
				continue;
			}
			break;
		}
		/* An error message: the kernel refused one of our verdicts. */
		if (mnl_cb_run(q->buf + off, (size_t)n, 0, q->portid, on_msg,
			       q) < 0)
			q->errors++;
		off += MNL_ALIGN((size_t)n);
	}
	q->in_rx = 0;
	queue_flush(q);
}

/* Datagrams of verdicts no larger than the send buffer takes. */
static void queue_fit_send(struct queue *q, int fd)
{
	int sz = 0;
	socklen_t n = sizeof(sz);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, &n) < 0 || sz < 4096)
		return;
	if ((size_t)sz - 1024 < q->vb.max_send)
		q->vb.max_send = (size_t)sz - 1024;
}

struct queue *queue_start(struct event_base *base, uint16_t num, uint32_t maxlen,
		      queue_handler h, void *arg)
{
	struct queue *q = calloc(1, sizeof(*q));
	int one = 1, sz = QUEUE_SOCKBUF;
	int fd;

	if (!q)
		return NULL;
	q->num = num;
	q->handler = h;
	q->arg = arg;
	q->bufsz = QUEUE_RXBUF;
	q->buf = malloc(q->bufsz);
	if (!q->buf || vbatch_init(&q->vb, num, QUEUE_VB_BYTES, QUEUE_VB_RECS,
				   QUEUE_SEND_MAX) < 0) {
		log_err("queue %u: out of memory", num);
		goto fail;
	}
	vbatch_keep(&q->vb, q->buf, q->bufsz);
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		log_err("queue %u: cannot open netlink: %s", num,
			strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_err("queue %u: bind: %s", num, strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	/*
	 * A full socket buffer costs the packets it drops (counted by the
	 * kernel, see queue_kernel_drops) and not a failed receive.
	 */
	if (mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one,
				  sizeof(one)) < 0)
		log_warn("queue %u: NETLINK_NO_ENOBUFS: %s", num,
			 strerror(errno));
	/* A burst waits in the buffer instead of being dropped. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* A datagram of verdicts must fit the send buffer. */
	sz = 2 * QUEUE_SEND_MAX;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	queue_fit_send(q, fd);
	if (configure(q, maxlen) < 0) {
		log_err("queue %u: cannot bind (is another program using it?)",
			num);
		goto fail;
	}
	q->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, q);
	q->retry = evtimer_new(base, on_retry, q);
	if (!q->ev || !q->retry || event_add(q->ev, NULL) < 0)
		goto fail;
	return q;
fail:
	queue_stop(q);
	return NULL;
}

/*
 * In a receive batch the verdict waits for the batch's send; any other
 * (a held TCP segment released by a timer or a later packet's event) goes
 * at once.  Full: the batch goes first; failing that it grows, since a
 * dropped verdict would hold its packet's queue slot for good.
 */
int queue_verdict(struct queue *q, uint32_t id, enum queue_verdict_kind v,
		uint32_t mark, const uint8_t *data, size_t len)
{
	static const uint32_t nf[] = { NF_DROP, NF_ACCEPT, NF_REPEAT };

	if (vbatch_add(&q->vb, id, nf[v], mark, data, len) < 0) {
		if (queue_flush(q) < 0 && vbatch_grow(&q->vb) < 0) {
			static struct log_rl rl;

			q->lost++;
			log_limited(&rl, LOG_ERR, "queue %u: out of memory: "
				    "verdict for packet %u lost", q->num, id);
			return -1;
		}
		if (vbatch_add(&q->vb, id, nf[v], mark, data, len) < 0) {
			q->lost++;
			return -1;
		}
	}
	if (!q->in_rx)
		return queue_flush(q);
	return 0;
}

uint64_t queue_errors(const struct queue *q)
{
	return q->errors + q->lost;
}

void queue_kernel_drops(uint16_t num, uint64_t *full, uint64_t *user)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned long long q, pid, total, mode, range, drop, udrop;

	*full = *user = 0;
	if (!f)
		return;
	while (fscanf(f, "%llu %llu %llu %llu %llu %llu %llu %*[^\n]", &q,
		      &pid, &total, &mode, &range, &drop, &udrop) == 7) {
		if (q == num) {
			*full = drop;
			*user = udrop;
		}
	}
	fclose(f);
}

void queue_stop(struct queue *q)
{
	if (!q)
		return;
	if (q->ev)
		event_free(q->ev);
	if (q->retry)
		event_free(q->retry);
	if (q->nl) {
		/* Whatever is still pending goes before the unbind. */
		if (q->vb.buf)
			vbatch_flush(&q->vb, send_verdicts, q);
		if (q->buf) {
			struct nlmsghdr *nlh = nfq_nlmsg_put(q->buf,
							     NFQNL_MSG_CONFIG,
							     q->num);
			nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
			mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		}
		mnl_socket_close(q->nl);
	}
	vbatch_free(&q->vb);
	free(q->buf);
	free(q);
}

void queue_set_presend(struct queue *q, void (*fn)(void *arg), void *arg)
{
	q->presend = fn;
	q->presend_arg = arg;
}
