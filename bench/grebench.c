/*
 * grebench: the data-plane benchmark's GRE sender, receiver, Call ID
 * learner and CPU meter (bench/run.sh).
 *
 *   grebench send --dst A --call-id N [--seq S] [--size P] [--rate R]
 *                 [--seconds D] [--run ID] [--batch B]
 *     Sends enhanced GRE (RFC 2637 4.1: version 1, K and S set, protocol
 *     0x880B) to A through a raw IPPROTO_GRE socket (the kernel writes the
 *     IP header: the source is this host's own address), Call ID N, GRE
 *     sequence numbers S, S+1, ..., with sendmmsg in batches of B (64).
 *     R packets/s, or as fast as the socket takes them when R is 0 (the
 *     default), for D seconds (5).  The PPP payload is P bytes (64, 28..1400):
 *       FF 03 00 21  'GBN1'  u32 run  u64 pseq  u64 CLOCK_MONOTONIC ns
 *       then byte i (i >= 28) = (pseq + i) & 0xff
 *     pseq counts 0, 1, ... in this run.  One line on stdout:
 *       grebench-send sent=N seconds=T pps=R next_seq=S errors=E
 *
 *   grebench recv --iface IF [--seconds MAX] [--idle I] [--run ID]
 *                 [--call-id N] [--ready FILE]
 *     Counts the GRE arriving on IF through a packet socket (TPACKET_V2
 *     ring, a BPF filter for incoming IP protocol 47): packet taps run
 *     before the IP layer, so a GRE drop rule in the namespace's raw table
 *     keeps the real PPTP peer from seeing the load and we still count it.
 *     Stops MAX seconds (30) after it started, or I seconds (0.5) after the
 *     last packet of the run.  Checks each packet (GRE header, length,
 *     magic, run, pattern), counts duplicates and reordering by pseq, and
 *     the latency from the payload's timestamp to when it reads the frame
 *     (namespaces share CLOCK_MONOTONIC; the figure includes its own
 *     wakeup).  One line on stdout:
 *       grebench-recv ours=N intact=I bad=B dup=D ooo=O wrong_call=W
 *                     other=X ring_drops=R call=C lat_p50_us=.. lat_p99_us=..
 *                     lat_max_us=..
 *     ring_drops: packets that reached IF but found the ring full (a
 *     receiver too slow: then it, not the path, limits the figure).
 *
 *   grebench learn --iface IF [--min N] [--tail T] [--timeout S] [--ready F]
 *     Watches the GRE data packets (S set) leaving and arriving on IF
 *     until N (20) have gone each way, creates F, watches T seconds (1)
 *     more, and prints what a sender needs to continue the call's stream:
 *       grebench-learn out_call=C out_seq=LAST out_src=A out_dst=B out_n=N
 *                      in_call=C in_src=A in_dst=B in_n=N
 *     Exit 1 when N each way did not come within S seconds (30).
 *
 *   grebench cpu [--ns PATH]... [--tree PID]
 *     One line: "T BUSY OURS": CLOCK_MONOTONIC ns; busy ticks of all CPUs
 *     (/proc/stat user+nice+system+irq+softirq); and the ticks of the
 *     benchmark's own processes: user+system time, their reaped children's
 *     included, of every process in one of the network namespaces PATH or
 *     PID or its descendant, plus the ksoftirqd threads.  With tick-based
 *     accounting, softirq work is charged to the task it interrupted; the
 *     packets of a veth path are processed in the sending task's context
 *     (to the receiving end's tap) or in ksoftirqd's, and an NFQUEUE
 *     verdict's in the verdict's sender's: so OURS(b) - OURS(a) holds the
 *     data path's cost, and nothing of what other work on a shared machine
 *     does in its own processes (busy time as a whole does).

 * Exit status: 0 done, 1 system error or nothing learned, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GRE_PROTO_PPP 0x880B
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_A 0x0080
#define GRE_VER 0x0007
#define GRE_HDR 12              /* K and S, no ack: what we send */
#define PL_MIN 28
#define PL_MAX 1400
#define PL_MAGIC 0x47424e31u    /* "GBN1" */
#define BATCH_MAX 256
#define LAT_BUCKETS 1000000     /* 1 us each, up to 1 s */
#define SEQ_BITS (1u << 26)     /* pseqs tracked for duplicates */
#define RING_FRAME 2048
#define RING_BLOCK (1u << 22)
#define RING_BLOCKS 16
#define PF_KTHREAD 0x00200000

static const char *prog = "grebench";
static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: grebench send --dst A --call-id N [--seq S] [--size P] [--rate R]\n"
	    "                     [--seconds D] [--run ID] [--batch B]\n"
	    "       grebench recv --iface IF [--seconds MAX] [--idle I] [--run ID]\n"
	    "                     [--call-id N] [--ready FILE]\n"
	    "       grebench learn --iface IF [--min N] [--tail T] [--timeout S]\n"
	    "                      [--ready FILE]\n"
	    "       grebench cpu [--ns PATH]... [--tree PID]\n");
}

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "%s: bad value for %s: '%s'\n", prog, opt, val);
	usage();
	return 2;
}

/* A whole number in [lo, hi], or -1. */
static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The pattern every payload byte from PL_MIN on follows: pattern[k] = k &
 * 0xff, so a packet's tail is pattern + ((pseq + PL_MIN) & 0xff). */
static uint8_t pattern[256 + PL_MAX];

static void pattern_init(void)
{
	for (size_t k = 0; k < sizeof(pattern); k++)
		pattern[k] = (uint8_t)k;
}

static void touch(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

/* ---- send ---------------------------------------------------------------- */

struct sender {
	int fd;
	unsigned size, batch;
	uint16_t call;
	uint32_t seq, run;
	uint64_t pseq, sent, errors;
	uint8_t (*buf)[GRE_HDR + PL_MAX];
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
};

/* Fill packet i of the batch: the GRE header, then the payload. */
static void fill(struct sender *s, unsigned i, uint64_t ts)
{
	uint8_t *p = s->buf[i], *pl = p + GRE_HDR;
	uint64_t pseq = s->pseq + i;

	put16(p, GRE_K | GRE_S | 1);
	put16(p + 2, GRE_PROTO_PPP);
	put16(p + 4, (uint16_t)s->size);
	put16(p + 6, s->call);
	put32(p + 8, s->seq + i);
	pl[0] = 0xff;
	pl[1] = 0x03;
	put16(pl + 2, 0x0021);
	put32(pl + 4, PL_MAGIC);
	put32(pl + 8, s->run);
	put64(pl + 12, pseq);
	put64(pl + 20, ts);
	memcpy(pl + PL_MIN, pattern + ((pseq + PL_MIN) & 0xff), s->size - PL_MIN);
}

/* Send n packets in one sendmmsg (fewer if the socket takes fewer). */
static void send_batch(struct sender *s, unsigned n)
{
	uint64_t ts = now_ns();
	int r;

	for (unsigned i = 0; i < n; i++)
		fill(s, i, ts);
	r = sendmmsg(s->fd, s->msg, n, 0);
	if (r < 0) {
		s->errors++;
		/* A full device queue says so with ENOBUFS: back off a moment,
		 * as an application would, instead of spinning on it. */
		if (errno == ENOBUFS || errno == EAGAIN)
			usleep(50);
		return;
	}
	s->sent += (unsigned)r;
	s->seq += (unsigned)r;
	s->pseq += (unsigned)r;
}

static int sender_open(struct sender *s, struct in_addr dst)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };
	int big = 4 << 20, zero = 0;

	s->fd = socket(AF_INET, SOCK_RAW, IPPROTO_GRE);
	if (s->fd < 0) {
		fprintf(stderr, "%s: raw GRE socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* Connected, so the socket only ever receives GRE from dst (none
	 * while the peer is paused); a tiny buffer drops whatever comes. */
	if (connect(s->fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "%s: connect: %s\n", prog, strerror(errno));
		return -1;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero));
	s->buf = calloc(s->batch, sizeof(*s->buf));
	if (!s->buf)
		return -1;
	for (unsigned i = 0; i < s->batch; i++) {
		s->iov[i].iov_base = s->buf[i];
		s->iov[i].iov_len = GRE_HDR + s->size;
		s->msg[i].msg_hdr.msg_iov = &s->iov[i];
		s->msg[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

/* Paced: every millisecond, send what is due by then, in batches. */
static void send_paced(struct sender *s, double rate, uint64_t t0, uint64_t end)
{
	struct timespec ts;
	uint64_t t, next = t0, due;
	uint64_t total = (uint64_t)(rate * (double)(end - t0) / 1e9 + 0.5);

	/* Exactly rate x seconds packets, unless the socket refuses them for
	 * a second past the end. */
	while (!stop && s->sent < total && (t = now_ns()) < end + 1000000000u) {
		due = (uint64_t)(rate * (double)(t - t0) / 1e9);
		if (due > total)
			due = total;
		while (s->sent < due && !stop) {
			uint64_t n = due - s->sent;
			uint64_t before = s->sent;

			send_batch(s, n > s->batch ? s->batch : (unsigned)n);
			if (s->sent == before)
				break;
		}
		next += 1000000;
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void send_unlimited(struct sender *s, uint64_t end)
{
	while (!stop && now_ns() < end)
		send_batch(s, s->batch);
}

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", 1, 0, 'd' }, { "call-id", 1, 0, 'c' }, { "seq", 1, 0, 'q' },
		{ "size", 1, 0, 'p' }, { "rate", 1, 0, 'r' }, { "seconds", 1, 0, 't' },
		{ "run", 1, 0, 'u' }, { "batch", 1, 0, 'b' }, { 0, 0, 0, 0 }
	};
	struct sender s = { .size = 64, .batch = 64 };
	struct in_addr dst = { 0 };
	double rate = 0, secs = 5, v;
	int o, have_dst = 0, have_call = 0;
	uint64_t t0, t1;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				return bad_arg("--dst", optarg);
			have_dst = 1;
			break;
		case 'c':
			if (num(optarg, 0, 65535, &v) < 0)
				return bad_arg("--call-id", optarg);
			s.call = (uint16_t)v;
			have_call = 1;
			break;
		case 'q':
			if (num(optarg, 0, 4294967295.0, &v) < 0)
				return bad_arg("--seq", optarg);
			s.seq = (uint32_t)v;
			break;
		case 'p':
			if (num(optarg, PL_MIN, PL_MAX, &v) < 0)
				return bad_arg("--size", optarg);
			s.size = (unsigned)v;
			break;
		case 'r':
			if (num(optarg, 0, 1e8, &rate) < 0)
				return bad_arg("--rate", optarg);
			break;
		case 't':
			if (num(optarg, 0.01, 3600, &secs) < 0)
				return bad_arg("--seconds", optarg);
			break;
		case 'u':
			if (num(optarg, 0, 4294967295.0, &v) < 0)
				return bad_arg("--run", optarg);
			s.run = (uint32_t)v;
			break;
		case 'b':
			if (num(optarg, 1, BATCH_MAX, &v) < 0)
				return bad_arg("--batch", optarg);
			s.batch = (unsigned)v;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!have_dst || !have_call) {
		fprintf(stderr, "%s: send needs --dst and --call-id\n", prog);
		return 2;
	}
	if (sender_open(&s, dst) < 0)
		return 1;
	t0 = now_ns();
	if (rate > 0)
		send_paced(&s, rate, t0, t0 + (uint64_t)(secs * 1e9));
	else
		send_unlimited(&s, t0 + (uint64_t)(secs * 1e9));
	t1 = now_ns();
	printf("grebench-send sent=%llu seconds=%.3f pps=%.0f next_seq=%u errors=%llu\n",
	    (unsigned long long)s.sent, (double)(t1 - t0) / 1e9,
	    (double)s.sent * 1e9 / (double)(t1 - t0), s.seq,
	    (unsigned long long)s.errors);
	return 0;
}

/* ---- packet socket (recv and learn) --------------------------------------- */

/* Incoming (not outgoing) IPv4 packets of protocol 47; learn also wants the
 * outgoing ones. */
static int attach_gre_filter(int fd, int outgoing_too)
{
	struct sock_filter in_only[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 2, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_GRE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct sock_filter any_dir[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_GRE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct sock_fprog f;

	if (outgoing_too) {
		f.len = sizeof(any_dir) / sizeof(any_dir[0]);
		f.filter = any_dir;
	} else {
		f.len = sizeof(in_only) / sizeof(in_only[0]);
		f.filter = in_only;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &f, sizeof(f));
}

/* A SOCK_DGRAM packet socket on one interface: frames start at the IP
 * header.  Bound only after the filter is on, so nothing slips past it.
 * Only ETH_P_ALL sockets see what the host sends (dev_queue_xmit_nit), so
 * learn binds to that and its filter checks the protocol. */
static int packet_open(const char *iface, int outgoing_too)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
		.sll_protocol = htons(outgoing_too ? ETH_P_ALL : ETH_P_IP) };
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "%s: no interface %s\n", prog, iface);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: packet socket: %s\n", prog, strerror(errno));
		return -1;
	}
	if (attach_gre_filter(fd, outgoing_too) < 0) {
		fprintf(stderr, "%s: filter: %s\n", prog, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "%s: bind %s: %s\n", prog, iface, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* An enhanced-GRE packet inside an IPv4 packet, as far as we need it. */
struct grepkt {
	uint32_t src, dst;       /* network order */
	uint16_t call;
	int has_seq;
	uint32_t seq;
	const uint8_t *pl;
	size_t pl_len;
};

static int parse_gre(const uint8_t *p, size_t n, struct grepkt *g)
{
	size_t ihl, tot, off;
	uint16_t fl;

	if (n < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_GRE)
		return -1;
	ihl = (size_t)(p[0] & 15) * 4;
	tot = get16(p + 2);
	if (ihl < 20 || tot > n || tot < ihl + 8)
		return -1;
	memcpy(&g->src, p + 12, 4);
	memcpy(&g->dst, p + 16, 4);
	p += ihl;
	n = tot - ihl;
	fl = get16(p);
	if ((fl & GRE_VER) != 1 || !(fl & GRE_K) || get16(p + 2) != GRE_PROTO_PPP)
		return -1;
	g->call = get16(p + 6);
	off = 8;
	g->has_seq = !!(fl & GRE_S);
	if (g->has_seq) {
		if (n < off + 4)
			return -1;
		g->seq = get32(p + off);
		off += 4;
	}
	if (fl & GRE_A)
		off += 4;
	if (n < off)
		return -1;
	g->pl = p + off;
	g->pl_len = n - off;
	/* the header's payload length must agree with what came */
	if (get16(p + 4) != g->pl_len)
		return -1;
	return 0;
}

/* ---- recv ----------------------------------------------------------------- */

struct receiver {
	uint32_t run;
	int want_call, call_seen;
	uint16_t call, first_call;
	uint64_t ours, intact, bad, dup, ooo, wrong_call, other, drops;
	uint64_t max_pseq, last_ns;
	int any;
	uint8_t *seen;           /* SEQ_BITS bits */
	uint32_t *lat;           /* LAT_BUCKETS counts */
};

static void account(struct receiver *r, const uint8_t *p, size_t n, uint64_t now)
{
	struct grepkt g;
	uint64_t pseq, ts, us;
	const uint8_t *pl;

	if (parse_gre(p, n, &g) < 0 || g.pl_len < PL_MIN ||
	    get32(g.pl + 4) != PL_MAGIC) {
		r->other++;
		return;
	}
	pl = g.pl;
	if (get32(pl + 8) != r->run) {
		r->other++;      /* a straggler of an earlier point */
		return;
	}
	r->ours++;
	r->any = 1;
	r->last_ns = now;
	if (!r->call_seen) {
		r->first_call = g.call;
		r->call_seen = 1;
	}
	if (r->want_call && g.call != r->call)
		r->wrong_call++;
	pseq = get64(pl + 12);
	ts = get64(pl + 20);
	if (pl[0] != 0xff || pl[1] != 0x03 ||
	    memcmp(pl + PL_MIN, pattern + ((pseq + PL_MIN) & 0xff),
		   g.pl_len - PL_MIN) != 0) {
		r->bad++;
		return;
	}
	if (pseq < SEQ_BITS) {
		if (r->seen[pseq >> 3] & (1u << (pseq & 7))) {
			r->dup++;
			return;
		}
		r->seen[pseq >> 3] |= (uint8_t)(1u << (pseq & 7));
	}
	r->intact++;
	if (pseq < r->max_pseq)
		r->ooo++;
	else
		r->max_pseq = pseq;
	us = now > ts ? (now - ts) / 1000 : 0;
	r->lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
}

static uint64_t percentile(const struct receiver *r, double q)
{
	uint64_t total = 0, want, acc = 0;

	for (size_t i = 0; i < LAT_BUCKETS; i++)
		total += r->lat[i];
	if (!total)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (size_t i = 0; i < LAT_BUCKETS; i++) {
		acc += r->lat[i];
		if (acc > want)
			return i;
	}
	return LAT_BUCKETS - 1;
}

static uint64_t lat_max(const struct receiver *r)
{
	for (size_t i = LAT_BUCKETS; i-- > 0;)
		if (r->lat[i])
			return i;
	return 0;
}

static void ring_stats(int fd, struct receiver *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* reading them resets them: add up */
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		r->drops += st.tp_drops;
}

/* Walk the ring from *cur, handing every filled frame to account(). */
static void drain_ring(uint8_t *ring, unsigned nframes, unsigned *cur,
		       struct receiver *r)
{
	for (;;) {
		struct tpacket2_hdr *h =
		    (struct tpacket2_hdr *)(ring + (size_t)*cur * RING_FRAME);

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return;
		account(r, (uint8_t *)h + h->tp_mac, h->tp_snaplen, now_ns());
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		*cur = (*cur + 1) % nframes;
	}
}

static int cmd_recv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", 1, 0, 'i' }, { "seconds", 1, 0, 't' }, { "idle", 1, 0, 'l' },
		{ "run", 1, 0, 'u' }, { "call-id", 1, 0, 'c' }, { "ready", 1, 0, 'y' },
		{ 0, 0, 0, 0 }
	};
	struct receiver r = { 0 };
	struct tpacket_req req = { RING_BLOCK, RING_BLOCKS, RING_FRAME,
				   RING_BLOCK / RING_FRAME * RING_BLOCKS };
	const char *iface = NULL, *ready = NULL;
	double secs = 30, idle = 0.5, v;
	int o, fd, ver = TPACKET_V2;
	unsigned cur = 0;
	uint8_t *ring;
	uint64_t end;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			iface = optarg;
			break;
		case 't':
			if (num(optarg, 0.01, 3600, &secs) < 0)
				return bad_arg("--seconds", optarg);
			break;
		case 'l':
			if (num(optarg, 0.01, 60, &idle) < 0)
				return bad_arg("--idle", optarg);
			break;
		case 'u':
			if (num(optarg, 0, 4294967295.0, &v) < 0)
				return bad_arg("--run", optarg);
			r.run = (uint32_t)v;
			break;
		case 'c':
			if (num(optarg, 0, 65535, &v) < 0)
				return bad_arg("--call-id", optarg);
			r.call = (uint16_t)v;
			r.want_call = 1;
			break;
		case 'y':
			ready = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!iface) {
		fprintf(stderr, "%s: recv needs --iface\n", prog);
		return 2;
	}
	r.seen = calloc(SEQ_BITS / 8, 1);
	r.lat = calloc(LAT_BUCKETS, sizeof(*r.lat));
	if (!r.seen || !r.lat)
		return 1;
	fd = packet_open(iface, 0);
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		fprintf(stderr, "%s: packet ring: %s\n", prog, strerror(errno));
		return 1;
	}
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", prog, strerror(errno));
		return 1;
	}
	ring_stats(fd, &r);   /* what came before the ring was ours is not */
	r.drops = 0;
	touch(ready);
	end = now_ns() + (uint64_t)(secs * 1e9);
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns();

		if (t >= end || (r.any && t - r.last_ns >= (uint64_t)(idle * 1e9)))
			break;
		drain_ring(ring, req.tp_frame_nr, &cur, &r);
		poll(&pfd, 1, 50);
	}
	drain_ring(ring, req.tp_frame_nr, &cur, &r);
	ring_stats(fd, &r);
	printf("grebench-recv ours=%llu intact=%llu bad=%llu dup=%llu ooo=%llu "
	    "wrong_call=%llu other=%llu ring_drops=%llu call=%d "
	    "lat_p50_us=%llu lat_p99_us=%llu lat_max_us=%llu\n",
	    (unsigned long long)r.ours, (unsigned long long)r.intact,
	    (unsigned long long)r.bad, (unsigned long long)r.dup,
	    (unsigned long long)r.ooo, (unsigned long long)r.wrong_call,
	    (unsigned long long)r.other, (unsigned long long)r.drops,
	    r.call_seen ? r.first_call : -1,
	    (unsigned long long)percentile(&r, 0.50),
	    (unsigned long long)percentile(&r, 0.99),
	    (unsigned long long)lat_max(&r));
	return 0;
}

/* ---- learn ---------------------------------------------------------------- */

struct flow {
	uint64_t n;
	uint16_t call;
	uint32_t seq, src, dst;
};

static void flow_note(struct flow *f, const struct grepkt *g)
{
	/* the last in serial order: sequence numbers may wrap */
	if (!f->n || (int32_t)(g->seq - f->seq) > 0)
		f->seq = g->seq;
	f->n++;
	f->call = g->call;
	f->src = g->src;
	f->dst = g->dst;
}

static const char *ip_str(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int cmd_learn(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", 1, 0, 'i' }, { "min", 1, 0, 'm' }, { "tail", 1, 0, 'l' },
		{ "timeout", 1, 0, 't' }, { "ready", 1, 0, 'y' }, { 0, 0, 0, 0 }
	};
	const char *iface = NULL, *ready = NULL;
	double min = 20, tail = 1, timeout = 30;
	struct flow out = { 0 }, in = { 0 };
	uint64_t end, tail_end = 0;
	uint8_t buf[65536];
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN], a3[INET_ADDRSTRLEN],
	     a4[INET_ADDRSTRLEN];
	int o, fd;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			iface = optarg;
			break;
		case 'm':
			if (num(optarg, 1, 1e6, &min) < 0)
				return bad_arg("--min", optarg);
			break;
		case 'l':
			if (num(optarg, 0, 60, &tail) < 0)
				return bad_arg("--tail", optarg);
			break;
		case 't':
			if (num(optarg, 0.1, 3600, &timeout) < 0)
				return bad_arg("--timeout", optarg);
			break;
		case 'y':
			ready = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!iface) {
		fprintf(stderr, "%s: learn needs --iface\n", prog);
		return 2;
	}
	fd = packet_open(iface, 1);
	if (fd < 0)
		return 1;
	end = now_ns() + (uint64_t)(timeout * 1e9);
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct grepkt g;
		uint64_t t = now_ns();
		ssize_t n;

		if (tail_end ? t >= tail_end : t >= end)
			break;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n <= 0 || parse_gre(buf, (size_t)n, &g) < 0 || !g.has_seq)
			continue;
		flow_note(from.sll_pkttype == PACKET_OUTGOING ? &out : &in, &g);
		if (!tail_end && out.n >= min && in.n >= min) {
			touch(ready);
			tail_end = now_ns() + (uint64_t)(tail * 1e9);
		}
	}
	printf("grebench-learn out_call=%u out_seq=%u out_src=%s out_dst=%s out_n=%llu "
	    "in_call=%u in_src=%s in_dst=%s in_n=%llu\n",
	    out.call, out.seq, ip_str(out.src, a1), ip_str(out.dst, a2),
	    (unsigned long long)out.n, in.call, ip_str(in.src, a3),
	    ip_str(in.dst, a4), (unsigned long long)in.n);
	return tail_end ? 0 : 1;
}

/* ---- cpu ------------------------------------------------------------------ */

static unsigned long long cpu_busy(void)
{
	unsigned long long u, ni, sy, id, io, irq, sirq;
	FILE *f = fopen("/proc/stat", "r");
	int k;

	if (!f)
		return 0;
	k = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu",
		   &u, &ni, &sy, &id, &io, &irq, &sirq);
	fclose(f);
	return k == 7 ? u + ni + sy + irq + sirq : 0;
}

struct proc {
	int pid, ppid;
	unsigned long flags;
	unsigned long long ticks;
	char comm[32];
	ino_t ns;
};

/* Fields of /proc/PID/stat after the command name, which may hold spaces
 * and parentheses: so parse from the last ')'. */
static int proc_read(int pid, struct proc *p)
{
	char path[64], buf[1024], *s;
	unsigned long long ut, st, cut, cst;
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	s = strrchr(buf, ')');
	if (!s)
		return -1;
	if (sscanf(s + 2, "%*c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %llu %llu %llu %llu",
		   &p->ppid, &p->flags, &ut, &st, &cut, &cst) != 6)
		return -1;
	p->pid = pid;
	p->ticks = ut + st + cut + cst;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(s - strchr(buf, '(') - 1),
		 strchr(buf, '(') + 1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	p->ns = stat(path, &sb) == 0 ? sb.st_ino : 0;
	return 0;
}

static int in_tree(const struct proc *ps, size_t n, int pid, int root)
{
	for (int hops = 0; pid > 1 && hops < 64; hops++) {
		size_t i;

		if (pid == root)
			return 1;
		for (i = 0; i < n && ps[i].pid != pid; i++)
			;
		if (i == n)
			return 0;
		pid = ps[i].ppid;
	}
	return 0;
}

static int cmd_cpu(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ns", 1, 0, 'n' }, { "tree", 1, 0, 'r' }, { 0, 0, 0, 0 }
	};
	ino_t ours[64];
	size_t nours = 0, n = 0, cap = 1024;
	struct proc *ps = malloc(cap * sizeof(*ps));
	unsigned long long busy, mine = 0;
	struct dirent *de;
	struct stat sb;
	int o, root = 0;
	double v;
	uint64_t t;
	DIR *d;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if (stat(optarg, &sb) < 0 || nours == 64)
				return bad_arg("--ns", optarg);
			ours[nours++] = sb.st_ino;
			break;
		case 'r':
			if (num(optarg, 1, 1e9, &v) < 0)
				return bad_arg("--tree", optarg);
			root = (int)v;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!ps || !(d = opendir("/proc")))
		return 1;
	t = now_ns();
	busy = cpu_busy();
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		if (n == cap) {
			struct proc *np = realloc(ps, 2 * cap * sizeof(*ps));

			if (!np)
				return 1;
			ps = np;
			cap *= 2;
		}
		if (proc_read(pid, &ps[n]) == 0)
			n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (ps[i].flags & PF_KTHREAD) {
			if (!strncmp(ps[i].comm, "ksoftirqd/", 10))
				mine += ps[i].ticks;
			continue;
		}
		for (k = 0; k < nours && ours[k] != ps[i].ns; k++)
			;
		if (k < nours || (root && in_tree(ps, n, ps[i].pid, root)))
			mine += ps[i].ticks;
	}
	printf("%llu %llu %llu\n", (unsigned long long)t, busy, mine);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc < 2) {
		usage();
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pattern_init();
	argv++;
	argc--;
	if (!strcmp(argv[0], "send"))
		return cmd_send(argc, argv);
	if (!strcmp(argv[0], "recv"))
		return cmd_recv(argc, argv);
	if (!strcmp(argv[0], "learn"))
		return cmd_learn(argc, argv);
	if (!strcmp(argv[0], "cpu"))
		return cmd_cpu(argc, argv);
	usage();
	return 2;
}
