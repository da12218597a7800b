/*
 * gretool: send or count enhanced GRE (RFC 2637 section 4.1) for the
 * end-to-end tests.
 *
 *   gretool send --src A --dst B --call-id N [--count C] [--interval-ms M]
 *                [--payload-len L] [--seq S]
 *     Sends C packets (default 10) of enhanced GRE version 1 (K and S set,
 *     protocol 0x880B) from address A (spoofed: the IP header is ours, via
 *     IPPROTO_RAW / IP_HDRINCL) to B, Call ID N, sequence numbers S, S+1, ...
 *     (default 0: low numbers, so a live pptp peer drops them as old).  The
 *     payload is an LCP Discard-Request (a PPP peer ignores it) carrying the
 *     marker "GRETOOL!", L bytes in all (default 32, at least 20).
 *     Prints one summary line.
 *
 *   gretool count --seconds S [--call-id N] [--src A] [--not-src A]
 *                 [--marker] [--ready FILE]
 *     Opens a raw IPPROTO_GRE socket, counts for S seconds the GRE packets
 *     that arrive and match every filter given, and prints that number alone
 *     on stdout.  --call-id matches enhanced GRE (K set, version 1) with that
 *     Call ID; --marker matches only packets made by "gretool send"; --ready
 *     creates FILE once the socket is open, so a script can start sending.
 *
 * Exit status: 0 done, 1 system error, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GRE_PROTO_PPP 0x880B
#define GRE_FLAG_K 0x2000
#define GRE_FLAG_S 0x1000
#define GRE_FLAG_A 0x0080
#define GRE_VER_MASK 0x0007
#define IP_HDR 20
#define GRE_HDR 12            /* K and S set, no ack */
#define PAYLOAD_MIN 20
#define PAYLOAD_MAX 1400
#define PAYLOAD_DEFAULT 32
#define MARKER "GRETOOL!"
#define MARKER_OFF 12         /* in the PPP payload, after LCP header+magic */

static const char *prog = "gretool";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gretool send --src A --dst B --call-id N [--count C]\n"
		"                    [--interval-ms M] [--payload-len L] [--seq S]\n"
		"       gretool count --seconds S [--call-id N] [--src A]\n"
		"                    [--not-src A] [--marker] [--ready FILE]\n");
}

static int die_arg(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

/* Whole number in [lo, hi]; -1 if it is not one. */
static int parse_ulong(const char *s, unsigned long lo, unsigned long hi,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(const char *s, struct in_addr *a)
{
	return s && inet_pton(AF_INET, s, a) == 1 ? 0 : -1;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
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

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- send ----------------------------------------------------------------- */

static int cmd_send(int argc, char **argv)
{
	struct in_addr src = { 0 }, dst = { 0 };
	unsigned long call_id = 0, count = 10, interval = 10;
	unsigned long plen = PAYLOAD_DEFAULT, seq0 = 0, v;
	int have_src = 0, have_dst = 0, have_id = 0, i, fd, one = 1;
	unsigned long sent = 0, k;
	uint8_t pkt[IP_HDR + GRE_HDR + PAYLOAD_MAX];
	struct sockaddr_in to;
	size_t total;

	/* Options come in pairs: an option and its value. */
	for (i = 0; i < argc; i += 2) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (!a)
			return die_arg("option %s needs a value%s", o, "");
		if (!strcmp(o, "--src")) {
			if (parse_addr(a, &src) < 0)
				return die_arg("--src: '%s' is not an IPv4 address%s", a, "");
			have_src = 1;
		} else if (!strcmp(o, "--dst")) {
			if (parse_addr(a, &dst) < 0)
				return die_arg("--dst: '%s' is not an IPv4 address%s", a, "");
			have_dst = 1;
		} else if (!strcmp(o, "--call-id")) {
			if (parse_ulong(a, 0, 65535, &call_id) < 0)
				return die_arg("--call-id: '%s' is not a number 0..65535%s", a, "");
			have_id = 1;
		} else if (!strcmp(o, "--count")) {
			if (parse_ulong(a, 1, 1000000, &count) < 0)
				return die_arg("--count: '%s' is not a number 1..1000000%s", a, "");
		} else if (!strcmp(o, "--interval-ms")) {
			if (parse_ulong(a, 0, 60000, &interval) < 0)
				return die_arg("--interval-ms: '%s' is not a number 0..60000%s", a, "");
		} else if (!strcmp(o, "--payload-len")) {
			if (parse_ulong(a, PAYLOAD_MIN, PAYLOAD_MAX, &plen) < 0)
				return die_arg("--payload-len: '%s' is not a number 20..1400%s", a, "");
		} else if (!strcmp(o, "--seq")) {
			if (parse_ulong(a, 0, 0xffffffffUL, &v) < 0)
				return die_arg("--seq: '%s' is not a number 0..4294967295%s", a, "");
			seq0 = v;
		} else {
			return die_arg("send: unknown option '%s'%s", o, "");
		}
	}
	if (!have_src || !have_dst || !have_id)
		return die_arg("send needs --src, --dst and --call-id%s%s", "", "");

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		fprintf(stderr, "%s: raw socket: %s (needs root or CAP_NET_RAW)\n",
			prog, strerror(errno));
		return 1;
	}
	/* IPPROTO_RAW implies it; set anyway so the intent is explicit. */
	if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		fprintf(stderr, "%s: IP_HDRINCL: %s\n", prog, strerror(errno));
		close(fd);
		return 1;
	}
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = dst;
	total = IP_HDR + GRE_HDR + plen;

	for (k = 0; k < count; k++) {
		uint8_t *ip = pkt, *gre = pkt + IP_HDR, *ppp = gre + GRE_HDR;
		size_t j;

		memset(pkt, 0, total);
		/* IPv4 header */
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)total);
		put16(ip + 4, (uint16_t)(0x4000 + k));        /* identification */
		ip[8] = 64;                                    /* TTL */
		ip[9] = IPPROTO_GRE;
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		put16(ip + 10, ip_csum(ip, IP_HDR));
		/* enhanced GRE: K and S, version 1, PPP */
		put16(gre, GRE_FLAG_K | GRE_FLAG_S | 1);
		put16(gre + 2, GRE_PROTO_PPP);
		put16(gre + 4, (uint16_t)plen);
		put16(gre + 6, (uint16_t)call_id);
		put32(gre + 8, (uint32_t)(seq0 + k));
		/* PPP: address, control, LCP Discard-Request, magic 0, marker */
		ppp[0] = 0xff;
		ppp[1] = 0x03;
		put16(ppp + 2, 0xc021);
		ppp[4] = 11;                                   /* Discard-Request */
		ppp[5] = (uint8_t)k;                           /* identifier */
		put16(ppp + 6, (uint16_t)(plen - 4));          /* LCP length */
		memcpy(ppp + MARKER_OFF, MARKER, strlen(MARKER));
		for (j = MARKER_OFF + strlen(MARKER); j < plen; j++)
			ppp[j] = (uint8_t)(j + k);
		if (sendto(fd, pkt, total, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0) {
			fprintf(stderr, "%s: sendto: %s\n", prog, strerror(errno));
			if (errno != ENOBUFS && errno != EPERM)
				break;
		} else {
			sent++;
		}
		if (interval && k + 1 < count)
			sleep_ms(interval);
	}
	close(fd);
	printf("gretool: sent %lu of %lu packets src=%s", sent, count,
	       inet_ntoa(src));
	printf(" dst=%s call-id=%lu seq=%lu..%lu payload=%lu\n", inet_ntoa(dst),
	       call_id, seq0, seq0 + count - 1, plen);
	return sent == count ? 0 : 1;
}

/* ---- count ---------------------------------------------------------------- */

struct filter {
	int has_id, has_src, has_not_src, marker;
	uint16_t call_id;
	struct in_addr src, not_src;
};

/* Does one received datagram (IP header included) match every filter? */
static int match(const struct filter *f, const uint8_t *p, size_t n)
{
	size_t ihl, glen;
	const uint8_t *g;
	uint16_t flags;

	if (n < IP_HDR || (p[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < IP_HDR || n < ihl + 4 || p[9] != IPPROTO_GRE)
		return 0;
	if (f->has_src && memcmp(p + 12, &f->src, 4) != 0)
		return 0;
	if (f->has_not_src && memcmp(p + 12, &f->not_src, 4) == 0)
		return 0;
	if (!f->has_id && !f->marker)
		return 1;
	g = p + ihl;
	glen = n - ihl;
	flags = get16(g);
	if (!(flags & GRE_FLAG_K) || (flags & GRE_VER_MASK) != 1 ||
	    get16(g + 2) != GRE_PROTO_PPP || glen < 8)
		return 0;
	if (f->has_id && get16(g + 6) != f->call_id)
		return 0;
	if (f->marker) {
		size_t h = 8 + ((flags & GRE_FLAG_S) ? 4 : 0) +
			   ((flags & GRE_FLAG_A) ? 4 : 0);

		if (glen < h + MARKER_OFF + strlen(MARKER) ||
		    memcmp(g + h + MARKER_OFF, MARKER, strlen(MARKER)) != 0)
			return 0;
	}
	return 1;
}

static int cmd_count(int argc, char **argv)
{
	struct filter f;
	const char *ready = NULL;
	double seconds = -1, end;
	unsigned long v, n = 0;
	int i, fd, rcvbuf = 4 << 20;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--marker")) {
			f.marker = 1;
			continue;
		}
		if (!a)
			return die_arg("option %s needs a value%s", o, "");
		if (!strcmp(o, "--seconds")) {
			char *e;

			errno = 0;
			seconds = strtod(a, &e);
			if (errno || *e || !(seconds > 0 && seconds <= 3600))
				return die_arg("--seconds: '%s' is not a number in (0, 3600]%s", a, "");
		} else if (!strcmp(o, "--call-id")) {
			if (parse_ulong(a, 0, 65535, &v) < 0)
				return die_arg("--call-id: '%s' is not a number 0..65535%s", a, "");
			f.has_id = 1;
			f.call_id = (uint16_t)v;
		} else if (!strcmp(o, "--src")) {
			if (parse_addr(a, &f.src) < 0)
				return die_arg("--src: '%s' is not an IPv4 address%s", a, "");
			f.has_src = 1;
		} else if (!strcmp(o, "--not-src")) {
			if (parse_addr(a, &f.not_src) < 0)
				return die_arg("--not-src: '%s' is not an IPv4 address%s", a, "");
			f.has_not_src = 1;
		} else if (!strcmp(o, "--ready")) {
			ready = a;
		} else {
			return die_arg("count: unknown option '%s'%s", o, "");
		}
		i++;
	}
	if (seconds < 0)
		return die_arg("count needs --seconds%s%s", "", "");

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_GRE);
	if (fd < 0) {
		fprintf(stderr, "%s: raw GRE socket: %s (needs root or "
			"CAP_NET_RAW)\n", prog, strerror(errno));
		return 1;
	}
	/* A burst must not be lost to a small buffer (the count would lie). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (ready) {
		int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (r < 0) {
			fprintf(stderr, "%s: --ready %s: %s\n", prog, ready,
				strerror(errno));
			close(fd);
			return 1;
		}
		close(r);
	}
	end = now_s() + seconds;
	for (;;) {
		uint8_t buf[65536];
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = end - now_s();
		int ms, r;

		if (left <= 0)
			break;
		ms = (int)(left * 1000) + 1;
		r = poll(&pfd, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			close(fd);
			return 1;
		}
		if (r == 0)
			continue;
		/* Drain what is queued, without blocking. */
		for (;;) {
			ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (got < 0)
				break;
			if (match(&f, buf, (size_t)got))
				n++;
		}
	}
	close(fd);
	printf("%lu\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 2, argv + 2);
	if (!strcmp(argv[1], "count"))
		return cmd_count(argc - 2, argv + 2);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr);
	return 2;
}
