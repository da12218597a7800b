/*
 * grequeue: damage enhanced-GRE streams on an NFQUEUE, for the end-to-end
 * tests of the relay (this kernel has no netem).
 *
 *   grequeue --queue N [--swap K] [--dup K] [--drop K] [--after A]
 *            [--hold-ms T] [--mark M] [--report FILE] [--ready FILE]
 *
 * Run it in a namespace with, e.g.,
 *   iptables -A OUTPUT -p gre -j NFQUEUE --queue-num N --queue-bypass
 * Every packet that reaches the queue gets a verdict.  Only enhanced-GRE
 * data packets (version 1, K and S set) are damaged; everything else (ack-
 * only GRE, other GRE, non-GRE) is accepted at once.  Data packets are
 * counted per flow (source, destination, Call ID), and the n-th data packet
 * of a flow, for n > A (default 0), is
 *   --drop K   dropped when n % K == 0;
 *   --swap K   else held back when n % K == 0, and accepted right after the
 *              flow's next data packet (so the two change places); a held
 *              packet whose flow goes quiet is accepted after T ms anyway
 *              (--hold-ms, default 200);
 *   --dup K    else accepted and then sent once more, right after, through a
 *              raw socket (IPPROTO_RAW) whose packets carry fwmark M
 *              (--mark, default 0x6e71).  The copy passes OUTPUT again: when
 *              it comes back to the queue (its mark tells) it is accepted
 *              untouched.  A rule may also skip it: -m mark ! --mark M.
 * K = 0 (the default) turns that kind of damage off.
 *
 * On SIGTERM or SIGINT: every held packet is accepted, the queue is unbound,
 * and one line is printed on stderr and appended to --report FILE:
 *   grequeue queue=N packets=P data=D swapped=S duplicated=U dropped=X
 *            timeouts=T copies=C flows=F errors=E
 * (timeouts: held packets released by --hold-ms, not by a next packet;
 * copies: our own duplicates seen coming back through the queue), then one
 * line per flow of data packets seen (with no damage asked for, grequeue is
 * a plain observer: this is how a test learns the Call IDs on a wire):
 *   grequeue-flow src=A dst=B call=N data=D
 * --ready FILE is created once the queue is bound.  The queue is configured
 * fail-open: when it overflows the kernel accepts instead of dropping.
 *
 * Exit status: 0 done, 1 system error, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_FLOWS 256
#define MAX_PKT 0xffff
#define GRE_PROTO_PPP 0x880B

struct held {
	int on;
	uint32_t id;
	uint64_t since;       /* ms */
};

struct flow {
	uint32_t src, dst;
	uint16_t call;
	uint64_t n;           /* data packets seen */
	struct held held;
};

static struct {
	unsigned long queue, swap, dup, drop, after, hold_ms, mark;
	const char *report, *ready;
} opt = { .queue = ULONG_MAX, .hold_ms = 200, .mark = 0x6e71 };

static struct {
	uint64_t packets, data, swapped, duplicated, dropped, timeouts,
		copies, errors;
} st;

static struct flow flows[MAX_FLOWS];
static unsigned nflows;
static struct mnl_socket *nl;
static uint32_t portid;
static int rawfd = -1;
static char *buf;
static size_t bufsz;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void verdict(uint32_t id, int v)
{
	char vb[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(vb, NFQNL_MSG_VERDICT,
					     (uint16_t)opt.queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, v);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		st.errors++;
}

static void send_copy(const uint8_t *p, size_t len)
{
	struct sockaddr_in to;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	memcpy(&to.sin_addr, p + 16, 4);
	if (sendto(rawfd, p, len, 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)len)
		st.errors++;
	else
		st.duplicated++;
}

static struct flow *flow_of(uint32_t src, uint32_t dst, uint16_t call)
{
	unsigned i;

	for (i = 0; i < nflows; i++)
		if (flows[i].src == src && flows[i].dst == dst &&
		    flows[i].call == call)
			return &flows[i];
	if (nflows == MAX_FLOWS)
		return NULL;
	memset(&flows[nflows], 0, sizeof(flows[nflows]));
	flows[nflows].src = src;
	flows[nflows].dst = dst;
	flows[nflows].call = call;
	return &flows[nflows++];
}

static void release(struct flow *f)
{
	if (f->held.on) {
		verdict(f->held.id, NF_ACCEPT);
		f->held.on = 0;
	}
}

/* Enhanced GRE data packet?  Fills the flow key. */
static int gre_data(const uint8_t *p, size_t len, uint32_t *src,
		    uint32_t *dst, uint16_t *call)
{
	size_t ihl;
	const uint8_t *g;

	if (len < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_GRE)
		return 0;
	ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || len < ihl + 12)
		return 0;
	if ((p[6] & 0x3f) || p[7])        /* a fragment: leave it alone */
		return 0;
	g = p + ihl;
	/* K set, S set, version 1, protocol PPP */
	if (!(g[0] & 0x20) || !(g[0] & 0x10) || (g[1] & 7) != 1 ||
	    ((g[2] << 8) | g[3]) != GRE_PROTO_PPP)
		return 0;
	memcpy(src, p + 12, 4);
	memcpy(dst, p + 16, 4);
	*call = (uint16_t)((g[6] << 8) | g[7]);
	return 1;
}

static void on_packet(uint32_t id, uint32_t mark, const uint8_t *p,
		      size_t len)
{
	uint32_t src, dst;
	uint16_t call;
	struct flow *f;
	uint64_t n;

	st.packets++;
	if (mark == opt.mark) {           /* our own copy, back again */
		st.copies++;
		verdict(id, NF_ACCEPT);
		return;
	}
	if (!gre_data(p, len, &src, &dst, &call) ||
	    !(f = flow_of(src, dst, call))) {
		verdict(id, NF_ACCEPT);
		return;
	}
	st.data++;
	n = ++f->n;
	if (n <= opt.after) {
		verdict(id, NF_ACCEPT);
		release(f);
		return;
	}
	if (opt.drop && n % opt.drop == 0) {
		st.dropped++;
		verdict(id, NF_DROP);
		/* a held packet stays held: the next one that passes frees it */
		return;
	}
	if (opt.swap && n % opt.swap == 0 && !f->held.on) {
		st.swapped++;
		f->held.on = 1;
		f->held.id = id;
		f->held.since = now_ms();
		return;
	}
	verdict(id, NF_ACCEPT);
	release(f);
	if (opt.dup && n % opt.dup == 0)
		send_copy(p, len);
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t mark = 0;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_MARK])
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (!attr[NFQA_PAYLOAD]) {
		verdict(ntohl(ph->packet_id), NF_ACCEPT);
		return MNL_CB_OK;
	}
	on_packet(ntohl(ph->packet_id), mark,
		  mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
		  mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]));
	return MNL_CB_OK;
}

static int cfg_send(struct nlmsghdr *nlh, uint32_t seq)
{
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = (int)mnl_socket_recvfrom(nl, buf, bufsz);
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		return -1;
	return 0;
}

static int bind_queue(void)
{
	struct nlmsghdr *nlh;
	int one = 1, rcv = 4 << 20;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		   sizeof(rcv));
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (uint16_t)opt.queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (cfg_send(nlh, 1) < 0)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (uint16_t)opt.queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, MAX_PKT);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	return cfg_send(nlh, 2);
}

static void unbind_queue(void)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (uint16_t)opt.queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(nl);
}

/* Drain what the kernel already queued, without blocking. */
static void drain(void)
{
	int i;

	for (i = 0; i < 256; i++) {
		int n = (int)recv(mnl_socket_get_fd(nl), buf, bufsz,
				  MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				st.errors++;
				continue;
			}
			break;
		}
		mnl_cb_run(buf, (size_t)n, 0, portid, on_msg, NULL);
	}
}

static void report(void)
{
	char line[512];
	FILE *f;
	unsigned k;

	snprintf(line, sizeof(line),
		 "grequeue queue=%lu packets=%llu data=%llu swapped=%llu "
		 "duplicated=%llu dropped=%llu timeouts=%llu copies=%llu "
		 "flows=%u errors=%llu\n",
		 opt.queue, (unsigned long long)st.packets,
		 (unsigned long long)st.data, (unsigned long long)st.swapped,
		 (unsigned long long)st.duplicated,
		 (unsigned long long)st.dropped,
		 (unsigned long long)st.timeouts,
		 (unsigned long long)st.copies, nflows,
		 (unsigned long long)st.errors);
	f = opt.report ? fopen(opt.report, "a") : NULL;
	fputs(line, stderr);
	if (f)
		fputs(line, f);
	for (k = 0; k < nflows; k++) {
		struct in_addr s, d;
		char sa[INET_ADDRSTRLEN], da[INET_ADDRSTRLEN];

		memcpy(&s, &flows[k].src, 4);
		memcpy(&d, &flows[k].dst, 4);
		snprintf(line, sizeof(line),
			 "grequeue-flow src=%s dst=%s call=%u data=%llu\n",
			 inet_ntop(AF_INET, &s, sa, sizeof(sa)),
			 inet_ntop(AF_INET, &d, da, sizeof(da)),
			 flows[k].call, (unsigned long long)flows[k].n);
		fputs(line, stderr);
		if (f)
			fputs(line, f);
	}
	if (f)
		fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: grequeue --queue N [--swap K] [--dup K] [--drop K]\n"
		"                [--after A] [--hold-ms T] [--mark M]\n"
		"                [--report FILE] [--ready FILE]\n");
}

static int num(const char *o, const char *s, unsigned long hi,
	       unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || *end || *out > hi)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "grequeue: %s: '%s' is not a number 0..%lu\n", o,
		s ? s : "", hi);
	usage(stderr);
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, orig;
	int i, mark;
	unsigned k;

	/* Every option but --help takes a value. */
	for (i = 1; i < argc; i += 2) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long *dst = NULL, hi = 1000000;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--queue")) {
			dst = &opt.queue;
			hi = 65535;
		} else if (!strcmp(o, "--swap")) {
			dst = &opt.swap;
		} else if (!strcmp(o, "--dup")) {
			dst = &opt.dup;
		} else if (!strcmp(o, "--drop")) {
			dst = &opt.drop;
		} else if (!strcmp(o, "--after")) {
			dst = &opt.after;
		} else if (!strcmp(o, "--hold-ms")) {
			dst = &opt.hold_ms;
			hi = 60000;
		} else if (!strcmp(o, "--mark")) {
			dst = &opt.mark;
			hi = UINT32_MAX;
		} else if (!strcmp(o, "--report") && a) {
			opt.report = a;
		} else if (!strcmp(o, "--ready") && a) {
			opt.ready = a;
		} else {
			fprintf(stderr, "grequeue: unknown or incomplete option '%s'\n", o);
			usage(stderr);
			return 2;
		}
		if (dst && num(o, a, hi, dst) < 0)
			return 2;
	}
	if (opt.queue == ULONG_MAX) {
		fprintf(stderr, "grequeue: --queue is required\n");
		usage(stderr);
		return 2;
	}
	if (opt.swap == 1 || opt.mark == 0) {
		fprintf(stderr, "grequeue: --swap needs K >= 2, --mark non-zero\n");
		return 2;
	}

	bufsz = MAX_PKT + MNL_SOCKET_BUFFER_SIZE;
	buf = malloc(bufsz);
	if (!buf)
		return 1;
	rawfd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	mark = (int)opt.mark;
	if (rawfd < 0 ||
	    setsockopt(rawfd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		perror("grequeue: raw socket");
		return 1;
	}
	if (bind_queue() < 0) {
		fprintf(stderr, "grequeue: cannot bind queue %lu: %s\n",
			opt.queue, strerror(errno));
		return 1;
	}

	/* Signals only while waiting in ppoll: no lost wake-up. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);

	if (opt.ready) {
		int fd = open(opt.ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}

	while (!stop) {
		struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };
		struct timespec ts, *tp = NULL;
		uint64_t now = now_ms(), next = UINT64_MAX;

		for (k = 0; k < nflows; k++) {
			struct flow *f = &flows[k];

			if (!f->held.on)
				continue;
			if (now - f->held.since >= opt.hold_ms) {
				st.timeouts++;
				release(f);
			} else if (f->held.since + opt.hold_ms < next) {
				next = f->held.since + opt.hold_ms;
			}
		}
		if (next != UINT64_MAX) {
			ts.tv_sec = (time_t)((next - now) / 1000);
			ts.tv_nsec = (long)((next - now) % 1000) * 1000000;
			tp = &ts;
		}
		if (ppoll(&pfd, 1, tp, &orig) < 0) {
			if (errno == EINTR)
				continue;
			perror("grequeue: ppoll");
			break;
		}
		if (pfd.revents & POLLIN)
			drain();
	}

	/* Leave nothing behind: what is held, then what is already queued. */
	for (k = 0; k < nflows; k++)
		release(&flows[k]);
	opt.swap = opt.dup = opt.drop = 0;
	drain();
	for (k = 0; k < nflows; k++)
		release(&flows[k]);
	unbind_queue();
	close(rawfd);
	report();
	free(buf);
	return 0;
}
