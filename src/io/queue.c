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

#define QUEUE_BUDGET 64

struct queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	uint32_t seq;
	struct event *ev;
	queue_handler handler;
	void *arg;
	char *buf;
	size_t bufsz;
	uint64_t errors;
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

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	int i;

	(void)fd;
	(void)what;
	/* A budget per wakeup keeps the other events of the loop alive. */
	for (i = 0; i < QUEUE_BUDGET; i++) {
		int n = (int)recv(mnl_socket_get_fd(q->nl), q->buf, q->bufsz,
				  MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				q->errors++;
				continue;
			}
			break;
		}
		mnl_cb_run(q->buf, (size_t)n, 0, q->portid, on_msg, q);
	}
}

struct queue *queue_start(struct event_base *base, uint16_t num, uint32_t maxlen,
		      queue_handler h, void *arg)
{
	struct queue *q = calloc(1, sizeof(*q));
	int one = 1, rcv = 8 << 20;

	if (!q)
		return NULL;
	q->num = num;
	q->handler = h;
	q->arg = arg;
	q->bufsz = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	q->buf = malloc(q->bufsz);
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->buf || !q->nl) {
		log_err("queue %u: cannot open netlink: %s", num,
			strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_err("queue %u: bind: %s", num, strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		   sizeof(rcv));
	if (configure(q, maxlen) < 0) {
		log_err("queue %u: cannot bind (is another program using it?)",
			num);
		goto fail;
	}
	q->ev = event_new(base, mnl_socket_get_fd(q->nl), EV_READ | EV_PERSIST,
			  on_readable, q);
	if (!q->ev || event_add(q->ev, NULL) < 0)
		goto fail;
	return q;
fail:
	queue_stop(q);
	return NULL;
}

int queue_verdict(struct queue *q, uint32_t id, enum queue_verdict_kind v,
		uint32_t mark, const uint8_t *data, size_t len)
{
	static const int nf[] = { NF_DROP, NF_ACCEPT, NF_REPEAT };
	char buf[0x10000 + 1024];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, nf[v]);
	if (mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		q->errors++;
		return -1;
	}
	return 0;
}

uint64_t queue_errors(const struct queue *q)
{
	return q->errors;
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
	if (q->nl) {
		if (q->buf) {
			struct nlmsghdr *nlh = nfq_nlmsg_put(q->buf,
							     NFQNL_MSG_CONFIG,
							     q->num);
			nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
			mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		}
		mnl_socket_close(q->nl);
	}
	free(q->buf);
	free(q);
}
