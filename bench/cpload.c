/*
 * cpload: control-plane load for pptpgw's benchmark (bench/cpload.sh).
 *
 *   cpload --pac [--listen A] [--max-channels N] [--call-file FILE]
 *     A test PAC: listens on TCP 1723, answers SCCRQ with SCCRP (Maximum
 *     Channels N, default 65535), every OCRQ with an OCRP "connected" and a
 *     Call ID of its own (unique among its live calls), Echo-Request with
 *     Echo-Reply, CCRQ with CDN, StopCCRQ with StopCCRP.  Any number of
 *     calls per control connection.  epoll, nonblocking.  Runs until
 *     SIGTERM/SIGINT; prints one summary line then.  SIGUSR1 writes every
 *     live call to FILE (--call-file), "PAC_CALL_ID PNS_CALL_ID" a line,
 *     the PNS's ID as it arrived (behind pptpgw: the alias).
 *
 *   cpload --pns --server A --src A0 [--nsrc N] --conns C --calls K
 *          [--window W] [--timeout S] [--hold S] [--clear] [--ready FILE]
 *          [--call-file FILE] [--echo-ms M]
 *     C control connections from N source addresses (A0, A0+1, ...; the
 *     script puts them on the interface), round-robin.  Every connection
 *     starts (SCCRQ/SCCRP); once all have, each asks for K calls (OCRQ,
 *     at most W unanswered at a time, Call IDs 1..K on every connection,
 *     so they collide across connections as real clients' do).  The setup
 *     rate is calls answered "connected" over the time from the first OCRQ
 *     to the last OCRP.  Then the calls are held: FILE (--ready) is
 *     created, --call-file gets "SRC PAC_CALL_ID PNS_CALL_ID" of the last
 *     call, and the process waits --hold seconds (0: until a signal).
 *     SIGUSR1, or --clear after the hold, clears every call (CCRQ, wait for
 *     the CDNs; rate reported the same way).  SIGTERM/SIGINT: report, exit.
 *     One "key=value ..." line on stdout after the setup and after a clear.
 *     --echo-ms: while holding, an Echo-Request every M ms on the first
 *     connection; after the hold a line with the round trips' p50, p99
 *     and maximum (how long control messages wait in the gateway).
 *
 *   cpload --gre --src A --dst B --call-id N --rate PPS --seconds S [--len L]
 *     Enhanced GRE (K and S set, protocol 0x880B) from A (raw socket, our
 *     own IP header) to B with Call ID N, at a fixed rate, in sendmmsg
 *     batches.  Prints "sent=N seconds=S cpu_s=C", C its own user and
 *     system CPU time (which holds the softirq work done in its context).
 *
 * Exit status: 0 done, 1 system error or the run fell short, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "wire/pptp_msg.h"

#define MAX_EVENTS 256
#define INBUF 8192
#define ECHO_MAX 100000

static volatile sig_atomic_t got_term, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Many sockets each: take every descriptor the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* A message of type built by the project's own serializer from m's fields. */
static size_t build(uint8_t *out, unsigned type, struct pptp_msg *m)
{
	m->type = (uint16_t)type;
	return pptp_build(m, out, PPTP_MAX_LEN);
}

/* ---- output queue (per socket) ------------------------------------------ */

struct obuf {
	uint8_t *p;
	size_t off, len, cap;
};

static void ob_add(struct obuf *b, const uint8_t *d, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("cpload: realloc");
			exit(1);
		}
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* Write what is queued: 0 all out, 1 some left (wait for EPOLLOUT), -1
 * the connection failed. */
static int ob_flush(struct obuf *b, int fd)
{
	while (b->off < b->len) {
		ssize_t w = send(fd, b->p + b->off, b->len - b->off,
				 MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			if (errno == EINTR)
				continue;
			return -1;
		}
		b->off += (size_t)w;
	}
	b->off = b->len = 0;
	return 0;
}

static void ob_free(struct obuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * Read what the socket has into in (fill bytes kept), then hand every whole
 * message to fn.  Returns -1 when the connection closed or broke.
 */
static int read_msgs(int fd, uint8_t *in, size_t *fill,
		     void (*fn)(void *, const uint8_t *, unsigned), void *arg)
{
	for (;;) {
		ssize_t r = recv(fd, in + *fill, INBUF - *fill, 0);
		size_t off = 0;

		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		*fill += (size_t)r;
		while (*fill - off >= PPTP_HDR_LEN) {
			uint16_t type, len;

			if (pptp_hdr_check(in + off, *fill - off, &type, &len) !=
			    PPTP_OK)
				return -1;
			if (*fill - off < len)
				break;
			fn(arg, in + off, type);
			off += len;
		}
		memmove(in, in + off, *fill - off);
		*fill -= off;
	}
}

/* ---- the PAC ------------------------------------------------------------- */

struct pac_call {
	uint16_t pns_id, pac_id;
};

struct pac_conn {
	int fd;
	int closing;
	size_t fill;
	uint8_t in[INBUF];
	struct obuf out;
	struct pac_call *calls;
	uint32_t ncalls, cap;
};

static struct {
	uint16_t max_channels;
	uint8_t used[65536 / 8];       /* PAC Call IDs of live calls */
	uint16_t peer[65536];          /* by PAC Call ID: the PNS's, as seen */
	uint16_t next_id;
	uint64_t msgs, calls, clears, echoes, refused;
	uint32_t conns, live;
} pac;

static int pac_id_take(uint16_t *id)
{
	uint32_t n;

	for (n = 0; n < 65535; n++) {
		uint16_t c = pac.next_id++;

		if (pac.next_id == 0)
			pac.next_id = 1;
		if (c == 0 || (pac.used[c >> 3] & (1u << (c & 7))))
			continue;
		pac.used[c >> 3] |= (uint8_t)(1u << (c & 7));
		*id = c;
		return 0;
	}
	return -1;
}

static void pac_id_put(uint16_t id)
{
	pac.used[id >> 3] &= (uint8_t)~(1u << (id & 7));
}

static void pac_msg(void *arg, const uint8_t *msg, unsigned type)
{
	struct pac_conn *c = arg;
	struct pptp_msg m;
	uint8_t out[PPTP_MAX_LEN];
	size_t n = 0;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	pac.msgs++;
	switch (type) {
	case PPTP_SCCRQ:
		m.num[PF_PROTO_VERSION] = PPTP_VERSION;
		m.num[PF_RESULT] = PPTP_RESULT_OK;
		m.num[PF_FRAMING_CAPS] = 3;
		m.num[PF_BEARER_CAPS] = 3;
		m.num[PF_MAX_CHANNELS] = pac.max_channels;
		m.num[PF_FIRMWARE_REV] = 1;
		memcpy(m.blob[PB_HOSTNAME], "cpload-pac", 10);
		memcpy(m.blob[PB_VENDOR], "cpload", 6);
		n = build(out, PPTP_SCCRP, &m);
		break;
	case PPTP_OCRQ: {
		uint16_t id;

		m.num[PF_PEER_CALL_ID] = get16(msg + 12);
		if (c->ncalls >= pac.max_channels || pac_id_take(&id) < 0) {
			m.num[PF_RESULT] = PPTP_RESULT_GENERAL_ERROR;
			m.num[PF_ERROR] = PPTP_ERROR_NO_RESOURCE;
			pac.refused++;
		} else {
			if (c->ncalls == c->cap) {
				c->cap = c->cap ? c->cap * 2 : 16;
				c->calls = realloc(c->calls,
						   c->cap * sizeof(*c->calls));
				if (!c->calls) {
					perror("cpload: realloc");
					exit(1);
				}
			}
			c->calls[c->ncalls].pns_id = get16(msg + 12);
			pac.peer[id] = get16(msg + 12);
			c->calls[c->ncalls++].pac_id = id;
			m.num[PF_CALL_ID] = id;
			m.num[PF_RESULT] = PPTP_RESULT_OK;
			m.num[PF_CONNECT_SPEED] = 64000;
			m.num[PF_RECV_WINDOW] = 64;
			pac.calls++;
			pac.live++;
		}
		n = build(out, PPTP_OCRP, &m);
		break;
	}
	case PPTP_ECHORQ:
		m.num[PF_IDENTIFIER] = (uint32_t)get16(msg + 12) << 16 |
				       get16(msg + 14);
		m.num[PF_RESULT] = PPTP_RESULT_OK;
		n = build(out, PPTP_ECHORP, &m);
		pac.echoes++;
		break;
	case PPTP_CCRQ:
		/* The PNS names its own Call ID; the CDN carries ours. */
		for (i = 0; i < c->ncalls; i++)
			if (c->calls[i].pns_id == get16(msg + 12))
				break;
		if (i == c->ncalls)
			break;
		m.num[PF_CALL_ID] = c->calls[i].pac_id;
		m.num[PF_RESULT] = PPTP_CDN_REQUEST;
		n = build(out, PPTP_CDN, &m);
		pac_id_put(c->calls[i].pac_id);
		c->calls[i] = c->calls[--c->ncalls];
		pac.clears++;
		pac.live--;
		break;
	case PPTP_STOPCCRQ:
		m.num[PF_RESULT] = PPTP_RESULT_OK;
		n = build(out, PPTP_STOPCCRP, &m);
		c->closing = 1;
		break;
	default:
		break;
	}
	if (n)
		ob_add(&c->out, out, n);
}

static void pac_close(int ep, struct pac_conn *c)
{
	uint32_t i;

	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (i = 0; i < c->ncalls; i++)
		pac_id_put(c->calls[i].pac_id);
	pac.live -= c->ncalls;
	pac.conns--;
	free(c->calls);
	ob_free(&c->out);
	free(c);
}

/* Every live call as "PAC_CALL_ID PNS_CALL_ID", the PNS's ID as it reached
 * us (behind pptpgw: its alias), so a script can send GRE toward the PNS. */
static void pac_dump(const char *path)
{
	char tmp[4096];
	FILE *f;
	uint32_t id;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return;
	for (id = 1; id < 65536; id++)
		if (pac.used[id >> 3] & (1u << (id & 7)))
			fprintf(f, "%u %u\n", id, pac.peer[id]);
	fclose(f);
	rename(tmp, path);
}

static int run_pac(const char *listen_addr, unsigned max_channels,
		   const char *dump)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PPTP_PORT) };
	struct epoll_event ev, evs[MAX_EVENTS];
	int lfd, ep, one = 1, i, n;
	uint64_t accepted = 0;

	pac.max_channels = (uint16_t)max_channels;
	pac.next_id = 1;
	if (inet_pton(AF_INET, listen_addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "cpload: --listen: bad address %s\n",
			listen_addr);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4096) < 0) {
		perror("cpload: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	fprintf(stderr, "cpload-pac listening on %s:1723\n", listen_addr);
	while (!got_term) {
		if (got_usr1) {
			got_usr1 = 0;
			if (dump)
				pac_dump(dump);
		}
		n = epoll_wait(ep, evs, MAX_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			struct pac_conn *c = evs[i].data.ptr;
			int r;

			if (!c) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					pac.conns++;
					accepted++;
				}
				continue;
			}
			r = 0;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				r = read_msgs(c->fd, c->in, &c->fill, pac_msg,
					      c);
			if (r == 0)
				r = ob_flush(&c->out, c->fd);
			if (r < 0 || (r == 0 && c->closing)) {
				pac_close(ep, c);
				continue;
			}
			ev.events = EPOLLIN | (r == 1 ? EPOLLOUT : 0);
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	printf("cpload-pac accepted=%llu conns_open=%u calls=%llu live=%u "
	       "cleared=%llu refused=%llu echoes=%llu messages=%llu\n",
	       (unsigned long long)accepted, pac.conns,
	       (unsigned long long)pac.calls, pac.live,
	       (unsigned long long)pac.clears,
	       (unsigned long long)pac.refused,
	       (unsigned long long)pac.echoes, (unsigned long long)pac.msgs);
	return 0;
}

/* ---- the PNS ------------------------------------------------------------- */

enum pns_state { PN_CONNECTING, PN_STARTING, PN_READY, PN_DEAD };

struct pns_conn {
	int fd;
	uint8_t state;
	uint32_t src;
	size_t fill;
	uint8_t in[INBUF];
	struct obuf out;
	uint32_t sent, answered, up;      /* OCRQs sent, OCRPs, connected */
	uint32_t clr_sent, cleared;       /* CCRQs sent, CDNs */
	uint16_t *pac_id;                 /* by PNS Call ID - 1 */
};

static struct {
	uint32_t conns, calls, window;
	int calling, clearing;
	uint32_t ready, dead;
	uint64_t answered, up, failed, cleared, cdn_unknown, echoes;
	uint8_t ocrq[PPTP_MAX_LEN], ccrq[PPTP_MAX_LEN];
	size_t ocrq_len, ccrq_len;
	double t_first, t_last, c_first, c_last;
	/* Echo round trips on the first connection while the calls are held:
	 * how long a control message waits in the gateway. */
	double echo_every, echo_due;
	double echo_sent[ECHO_MAX];
	uint32_t echo_next, nrtt;
	double rtt[ECHO_MAX];
} pns;

static void pns_dead(int ep, struct pns_conn *c);
static void pns_arm(int ep, struct pns_conn *c, int want_out);

/* Send OCRQs up to the window. */
static void pns_ask(struct pns_conn *c)
{
	while (c->sent < pns.calls && c->sent - c->answered < pns.window) {
		uint16_t id = (uint16_t)(c->sent + 1);

		put16(pns.ocrq + 12, id);
		put16(pns.ocrq + 14, id);     /* serial */
		ob_add(&c->out, pns.ocrq, pns.ocrq_len);
		c->sent++;
	}
}

/* Send CCRQs up to the window, for the calls that are up. */
static void pns_clear(struct pns_conn *c)
{
	while (c->clr_sent < pns.calls &&
	       c->clr_sent - c->cleared < pns.window) {
		uint32_t k = c->clr_sent++;

		if (!c->pac_id[k])
			continue;
		put16(pns.ccrq + 12, (uint16_t)(k + 1));
		ob_add(&c->out, pns.ccrq, pns.ccrq_len);
	}
}

static void pns_msg(void *arg, const uint8_t *msg, unsigned type)
{
	struct pns_conn *c = arg;
	struct pptp_msg m;
	uint8_t out[PPTP_MAX_LEN];
	uint32_t k;

	switch (type) {
	case PPTP_SCCRP:
		if (c->state == PN_STARTING) {
			c->state = msg[14] == PPTP_RESULT_OK ? PN_READY
							     : PN_DEAD;
			if (c->state == PN_READY)
				pns.ready++;
		}
		break;
	case PPTP_OCRP:
		k = get16(msg + 14);
		if (k == 0 || k > c->sent || c->pac_id[k - 1])
			break;
		c->answered++;
		pns.answered++;
		if (msg[16] == PPTP_RESULT_OK && get16(msg + 12)) {
			c->pac_id[k - 1] = get16(msg + 12);
			c->up++;
			pns.up++;
		} else {
			pns.failed++;
		}
		pns.t_last = now_s();
		pns_ask(c);
		break;
	case PPTP_CDN:
		for (k = 0; k < pns.calls; k++)
			if (c->pac_id[k] == get16(msg + 12))
				break;
		if (k == pns.calls) {
			pns.cdn_unknown++;
			break;
		}
		c->pac_id[k] = 0;
		c->cleared++;
		pns.cleared++;
		pns.c_last = now_s();
		if (pns.clearing)
			pns_clear(c);
		break;
	case PPTP_ECHORQ:
		memset(&m, 0, sizeof(m));
		m.num[PF_IDENTIFIER] = (uint32_t)get16(msg + 12) << 16 |
				       get16(msg + 14);
		m.num[PF_RESULT] = PPTP_RESULT_OK;
		ob_add(&c->out, out, build(out, PPTP_ECHORP, &m));
		pns.echoes++;
		break;
	case PPTP_ECHORP:
		k = (uint32_t)get16(msg + 12) << 16 | get16(msg + 14);
		if (k < pns.echo_next && k < ECHO_MAX && pns.echo_sent[k] > 0) {
			pns.rtt[pns.nrtt++] = now_s() - pns.echo_sent[k];
			pns.echo_sent[k] = 0;
		}
		break;
	default:
		break;
	}
}

/* An Echo-Request on the first live connection when one is due. */
static void pns_echo(int ep, struct pns_conn *cs)
{
	struct pptp_msg m;
	uint8_t out[PPTP_MAX_LEN];
	double t = now_s();
	int r;

	if (pns.echo_every <= 0 || t < pns.echo_due || cs[0].state != PN_READY ||
	    pns.echo_next >= ECHO_MAX)
		return;
	pns.echo_due = t + pns.echo_every;
	memset(&m, 0, sizeof(m));
	m.num[PF_IDENTIFIER] = pns.echo_next;
	pns.echo_sent[pns.echo_next++] = t;
	ob_add(&cs[0].out, out, build(out, PPTP_ECHORQ, &m));
	r = ob_flush(&cs[0].out, cs[0].fd);
	if (r < 0)
		pns_dead(ep, &cs[0]);
	else
		pns_arm(ep, &cs[0], r == 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void pns_echo_report(void)
{
	double p50 = 0, p99 = 0, max = 0;

	if (pns.nrtt) {
		qsort(pns.rtt, pns.nrtt, sizeof(pns.rtt[0]), cmp_double);
		p50 = pns.rtt[pns.nrtt / 2];
		p99 = pns.rtt[(pns.nrtt * 99) / 100];
		max = pns.rtt[pns.nrtt - 1];
	}
	printf("cpload-pns phase=hold echo_sent=%u echo_answered=%u "
	       "echo_p50_ms=%.2f echo_p99_ms=%.2f echo_max_ms=%.2f\n",
	       pns.echo_next, pns.nrtt, p50 * 1e3, p99 * 1e3, max * 1e3);
	fflush(stdout);
}

static void pns_dead(int ep, struct pns_conn *c)
{
	if (c->state == PN_DEAD)
		return;
	if (c->state == PN_READY)
		pns.ready--;
	c->state = PN_DEAD;
	pns.dead++;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void pns_arm(int ep, struct pns_conn *c, int want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
				  .data.ptr = c };

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void pns_event(int ep, struct pns_conn *c, uint32_t events)
{
	int r = 0;

	if (c->state == PN_DEAD)
		return;
	if (c->state == PN_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			pns_dead(ep, c);
			return;
		}
		c->state = PN_STARTING;
		{
			struct pptp_msg m;
			uint8_t out[PPTP_MAX_LEN];

			memset(&m, 0, sizeof(m));
			m.num[PF_PROTO_VERSION] = PPTP_VERSION;
			m.num[PF_FRAMING_CAPS] = 3;
			m.num[PF_BEARER_CAPS] = 3;
			m.num[PF_FIRMWARE_REV] = 1;
			memcpy(m.blob[PB_HOSTNAME], "cpload-pns", 10);
			ob_add(&c->out, out, build(out, PPTP_SCCRQ, &m));
		}
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		r = read_msgs(c->fd, c->in, &c->fill, pns_msg, c);
	if (r == 0)
		r = ob_flush(&c->out, c->fd);
	if (r < 0) {
		pns_dead(ep, c);
		return;
	}
	pns_arm(ep, c, r == 1);
}

static void pns_templates(void)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.num[PF_MIN_BPS] = 300;
	m.num[PF_MAX_BPS] = 100000000;
	m.num[PF_BEARER_TYPE] = 3;
	m.num[PF_FRAMING_TYPE] = 3;
	m.num[PF_RECV_WINDOW] = 64;
	pns.ocrq_len = build(pns.ocrq, PPTP_OCRQ, &m);
	memset(&m, 0, sizeof(m));
	pns.ccrq_len = build(pns.ccrq, PPTP_CCRQ, &m);
}

static int never(void);

/* Wait for events until done() holds, a signal, or the deadline.  While
 * holding (done is never) echo round trips are measured too. */
static void pns_loop(int ep, struct pns_conn *cs, double deadline,
		     int (*done)(void))
{
	struct epoll_event evs[MAX_EVENTS];
	uint32_t i;
	int n;

	while (!got_term && !done() && now_s() < deadline) {
		if (got_usr1 && !pns.clearing)
			return;
		if (done == never)
			pns_echo(ep, cs);
		n = epoll_wait(ep, evs, MAX_EVENTS,
			       done == never && pns.echo_every > 0 ? 5 : 100);
		for (i = 0; i < (uint32_t)(n > 0 ? n : 0); i++)
			pns_event(ep, evs[i].data.ptr, evs[i].events);
	}
}

static int all_started(void)
{
	return pns.ready + pns.dead == pns.conns;
}

static int all_answered(void)
{
	return pns.answered >= (uint64_t)pns.ready * pns.calls;
}

static int all_cleared(void)
{
	return pns.cleared >= pns.up;
}

static int never(void)
{
	return 0;
}

/* Push what each live connection has queued. */
static void pns_kick(int ep, struct pns_conn *cs)
{
	uint32_t i;

	for (i = 0; i < pns.conns; i++) {
		struct pns_conn *c = &cs[i];
		int r;

		if (c->state != PN_READY)
			continue;
		r = ob_flush(&c->out, c->fd);
		if (r < 0)
			pns_dead(ep, c);
		else
			pns_arm(ep, c, r == 1);
	}
}

static void pns_report(const char *what, double t_setup_conns)
{
	double st = pns.t_last - pns.t_first;

	printf("cpload-pns phase=%s conns=%u conns_up=%u conns_dead=%u "
	       "calls_per_conn=%u window=%u calls_asked=%llu calls_up=%llu "
	       "calls_failed=%llu conn_setup_s=%.3f setup_s=%.3f "
	       "setups_per_s=%.0f",
	       what, pns.conns, pns.ready, pns.dead, pns.calls, pns.window,
	       (unsigned long long)pns.answered, (unsigned long long)pns.up,
	       (unsigned long long)pns.failed, t_setup_conns, st,
	       st > 0 ? (double)pns.up / st : 0.0);
	if (pns.clearing) {
		double ct = pns.c_last - pns.c_first;

		printf(" calls_cleared=%llu clear_s=%.3f clears_per_s=%.0f "
		       "cdn_unknown=%llu",
		       (unsigned long long)pns.cleared, ct,
		       ct > 0 ? (double)pns.cleared / ct : 0.0,
		       (unsigned long long)pns.cdn_unknown);
	}
	printf(" echoes=%llu\n", (unsigned long long)pns.echoes);
	fflush(stdout);
}

static int run_pns(const char *server, const char *src0, uint32_t nsrc,
		   double timeout, double hold, int clear, const char *ready,
		   const char *call_file)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(PPTP_PORT) };
	struct in_addr a0;
	struct pns_conn *cs;
	double t0, t_conns, end;
	uint32_t i;
	int ep, one = 1;

	if (inet_pton(AF_INET, server, &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, src0, &a0) != 1) {
		fprintf(stderr, "cpload: bad --server or --src address\n");
		return 2;
	}
	pns_templates();
	cs = calloc(pns.conns, sizeof(*cs));
	ep = epoll_create1(0);
	t0 = now_s();
	for (i = 0; i < pns.conns; i++) {
		struct pns_conn *c = &cs[i];
		struct sockaddr_in src = { .sin_family = AF_INET };
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

		c->src = ntohl(a0.s_addr) + i % nsrc;
		src.sin_addr.s_addr = htonl(c->src);
		c->pac_id = calloc(pns.calls, sizeof(uint16_t));
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c->fd < 0) {
			perror("cpload: socket");
			return 1;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
		    (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
		     errno != EINPROGRESS)) {
			perror("cpload: bind/connect");
			return 1;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	pns_loop(ep, cs, t0 + timeout, all_started);
	t_conns = now_s() - t0;
	/* The calls: every started connection asks at once. */
	pns.calling = 1;
	pns.t_first = pns.t_last = now_s();
	for (i = 0; i < pns.conns; i++)
		if (cs[i].state == PN_READY)
			pns_ask(&cs[i]);
	pns_kick(ep, cs);
	pns_loop(ep, cs, pns.t_first + timeout, all_answered);
	pns_report("setup", t_conns);
	if (call_file) {
		/* The last call that is up: its source and both Call IDs. */
		FILE *f = fopen(call_file, "w");

		for (i = pns.conns; f && i-- > 0;) {
			uint32_t k;

			for (k = pns.calls; k-- > 0;)
				if (cs[i].state == PN_READY && cs[i].pac_id[k])
					break;
			if (k < pns.calls) {
				struct in_addr s = { htonl(cs[i].src) };

				fprintf(f, "%s %u %u\n", inet_ntoa(s),
					cs[i].pac_id[k], k + 1);
				break;
			}
		}
		if (f)
			fclose(f);
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	end = hold > 0 ? now_s() + hold : 1e300;
	pns.echo_due = now_s();
	pns_loop(ep, cs, end, never);
	if (pns.echo_every > 0)
		pns_echo_report();
	if (!got_term && (clear || got_usr1)) {
		pns.clearing = 1;
		pns.c_first = pns.c_last = now_s();
		for (i = 0; i < pns.conns; i++)
			if (cs[i].state == PN_READY)
				pns_clear(&cs[i]);
		pns_kick(ep, cs);
		pns_loop(ep, cs, pns.c_first + timeout, all_cleared);
		pns_report("clear", t_conns);
	}
	for (i = 0; i < pns.conns; i++) {
		if (cs[i].fd >= 0)
			close(cs[i].fd);
		free(cs[i].pac_id);
		ob_free(&cs[i].out);
	}
	free(cs);
	return pns.up == (uint64_t)pns.conns * pns.calls ? 0 : 1;
}

/* ---- GRE at a fixed rate ------------------------------------------------- */

#define GRE_BATCH 64

static uint16_t ip_csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int run_gre(const char *src, const char *dst, unsigned call_id,
		   double rate, double seconds, unsigned len)
{
	static uint8_t pk[GRE_BATCH][1500];
	struct mmsghdr mh[GRE_BATCH];
	struct iovec iov[GRE_BATCH];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr s;
	struct rusage ru;
	size_t tot = 20 + 12 + len;
	uint64_t sent = 0, seq = 1;
	double t0, t;
	int fd, i, one = 1;

	if (inet_pton(AF_INET, src, &s) != 1 ||
	    inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
		fprintf(stderr, "cpload: bad --src or --dst address\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("cpload: raw socket");
		return 1;
	}
	memset(mh, 0, sizeof(mh));
	for (i = 0; i < GRE_BATCH; i++) {
		uint8_t *p = pk[i];

		p[0] = 0x45;
		put16(p + 2, (uint16_t)tot);
		p[8] = 64;
		p[9] = IPPROTO_GRE;
		memcpy(p + 12, &s, 4);
		memcpy(p + 16, &to.sin_addr, 4);
		/* K and S set, version 1, PPP, payload length, Call ID */
		put16(p + 20, 0x3001);
		put16(p + 22, 0x880B);
		put16(p + 24, (uint16_t)len);
		put16(p + 26, (uint16_t)call_id);
		memset(p + 32, 0xA5, len);
		iov[i].iov_base = p;
		iov[i].iov_len = tot;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
		mh[i].msg_hdr.msg_name = &to;
		mh[i].msg_hdr.msg_namelen = sizeof(to);
	}
	t0 = now_s();
	while (!got_term && (t = now_s() - t0) < seconds) {
		uint64_t due = (uint64_t)(t * rate);
		int nb, k;

		if (due <= sent) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
			continue;
		}
		nb = due - sent > GRE_BATCH ? GRE_BATCH : (int)(due - sent);
		for (i = 0; i < nb; i++) {
			uint8_t *p = pk[i];

			put16(p + 4, (uint16_t)seq);     /* IP id */
			p[10] = p[11] = 0;
			put16(p + 10, ip_csum(p, 20));
			p[28] = (uint8_t)(seq >> 24);
			p[29] = (uint8_t)(seq >> 16);
			p[30] = (uint8_t)(seq >> 8);
			p[31] = (uint8_t)seq;
			seq++;
		}
		k = sendmmsg(fd, mh, (unsigned)nb, 0);
		if (k < 0) {
			if (errno == EINTR || errno == ENOBUFS ||
			    errno == EAGAIN)
				continue;
			perror("cpload: sendmmsg");
			return 1;
		}
		sent += (uint64_t)k;
	}
	/* Without IRQ time accounting the softirq work done in this task's
	 * context (the whole trip through the lab's veths, the gateway's
	 * netfilter hooks included) is charged to it: report it. */
	getrusage(RUSAGE_SELF, &ru);
	printf("sent=%llu seconds=%.3f cpu_s=%.3f\n",
	       (unsigned long long)sent, now_s() - t0,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}

/* ---- command line -------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: cpload --pac [--listen A] [--max-channels N] [--call-file FILE]\n"
"       cpload --pns --server A --src A0 [--nsrc N] --conns C --calls K\n"
"              [--window W] [--timeout S] [--hold S] [--clear]\n"
"              [--ready FILE] [--call-file FILE] [--echo-ms M]\n"
"       cpload --gre --src A --dst B --call-id N --rate PPS --seconds S\n"
"              [--len L]\n");
}

static int num(const char *s, double lo, double hi, double *out)
{
	char *end;

	if (!s)
		return -1;
	*out = strtod(s, &end);
	return *s && !*end && *out >= lo && *out <= hi ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *listen_addr = "0.0.0.0", *server = NULL;
	const char *src = NULL, *dst = NULL, *ready = NULL, *call_file = NULL;
	double maxch = 65535, nsrc = 1, conns = 1, calls = 1, window = 32;
	double timeout = 60, hold = 0, call_id = -1, rate = 1000, secs = 5;
	double len = 64, echo_ms = 0;
	int clear = 0, i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double *d = NULL, lo = 0, hi = 0;

		if (!strcmp(o, "--pac") || !strcmp(o, "--pns") ||
		    !strcmp(o, "--gre")) {
			mode = o + 2;
			continue;
		}
		if (!strcmp(o, "--clear")) {
			clear = 1;
			continue;
		}
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(o, "--listen"))
			listen_addr = v;
		else if (!strcmp(o, "--server"))
			server = v;
		else if (!strcmp(o, "--src"))
			src = v;
		else if (!strcmp(o, "--dst"))
			dst = v;
		else if (!strcmp(o, "--ready"))
			ready = v;
		else if (!strcmp(o, "--call-file"))
			call_file = v;
		else if (!strcmp(o, "--max-channels"))
			d = &maxch, lo = 1, hi = 65535;
		else if (!strcmp(o, "--nsrc"))
			d = &nsrc, lo = 1, hi = 65536;
		else if (!strcmp(o, "--conns"))
			d = &conns, lo = 1, hi = 1 << 20;
		else if (!strcmp(o, "--calls"))
			d = &calls, lo = 1, hi = 65535;
		else if (!strcmp(o, "--window"))
			d = &window, lo = 1, hi = 65535;
		else if (!strcmp(o, "--timeout"))
			d = &timeout, lo = 0.1, hi = 86400;
		else if (!strcmp(o, "--hold"))
			d = &hold, lo = 0, hi = 86400;
		else if (!strcmp(o, "--call-id"))
			d = &call_id, lo = 0, hi = 65535;
		else if (!strcmp(o, "--rate"))
			d = &rate, lo = 1, hi = 1e8;
		else if (!strcmp(o, "--seconds"))
			d = &secs, lo = 0.01, hi = 86400;
		else if (!strcmp(o, "--len"))
			d = &len, lo = 0, hi = 1400;
		else if (!strcmp(o, "--echo-ms"))
			d = &echo_ms, lo = 0, hi = 60000;
		else {
			fprintf(stderr, "cpload: unknown option %s\n", o);
			usage(stderr);
			return 2;
		}
		if (d && num(v, lo, hi, d) < 0) {
			fprintf(stderr, "cpload: %s: '%s' is not a number from "
				"%.0f to %.0f\n", o, v, lo, hi);
			return 2;
		}
	}
	catch_signals();
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mode && !strcmp(mode, "pac"))
		return run_pac(listen_addr, (unsigned)maxch, call_file);
	if (mode && !strcmp(mode, "pns") && server && src) {
		pns.conns = (uint32_t)conns;
		pns.calls = (uint32_t)calls;
		pns.window = (uint32_t)window;
		pns.echo_every = echo_ms / 1e3;
		return run_pns(server, src, (uint32_t)nsrc, timeout, hold,
			       clear, ready, call_file);
	}
	if (mode && !strcmp(mode, "gre") && src && dst && call_id >= 0)
		return run_gre(src, dst, (unsigned)call_id, rate, secs,
			       (unsigned)len);
	usage(stderr);
	return 2;
}
