/*
 * pptpprobe: a minimal PPTP control client (PNS) for the end-to-end tests,
 * and the fake servers and odd clients they need.
 *
 *   pptpprobe --server A [--port P] [--call-id N] [--timeout S] [--hold S]
 *             [--seed N] MODE
 *   pptpprobe --serve KIND --listen A [--port P] [--timeout S] [--ready FILE]
 *   pptpprobe --slow-unix PATH [--timeout S]
 *   pptpprobe --slow-http ADDR:PORT --clients N --pid PID [--timeout S]
 *   pptpprobe --server A [--port P] [--call-id N] [--timeout S] [--hold S]
 *             --call-flood N | --conn-flood N | --ooo-flood N [--gap MS]
 *
 * MODE is one of
 *   --coalesce       Start-Control-Connection-Request and
 *                    Outgoing-Call-Request in ONE write.
 *   --split BYTES    TCP_NODELAY; each message written BYTES bytes at a time
 *                    with a few ms between writes (SCCRQ, wait for SCCRP,
 *                    then OCRQ).  Except the first 12 bytes of the
 *                    connection: pptpd drops a connection whose first read
 *                    is not one whole header, so they go in one write.
 *   --garbage KIND   SCCRQ, wait for SCCRP, then bad bytes of KIND, then a
 *                    valid Echo-Request; report what comes back.  KIND:
 *                      badlen     Echo-Request whose Length is 17
 *                      badcookie  Echo-Request with cookie 0xDEADBEEF
 *                      zerolen    a header whose Length is 0
 *                      random     64 pseudo-random bytes (--seed)
 *                      short      the first 10 bytes of an Echo-Request
 *
 *   --straddle       SCCRQ, wait for SCCRP; then an Echo-Request whose
 *                    first 10 bytes are one segment and whose last 6 share
 *                    a segment with the first 14 bytes of the OCRQ (Call
 *                    ID included); 500 ms later the rest of the OCRQ.  A
 *                    gateway that holds both segments must not let the
 *                    second out before it rewrote the Call ID, even when
 *                    the first one is retransmitted meanwhile.  Same
 *                    success criterion as --split.
 *
 *   --serve KIND     a fake PPTP server (PAC) on A:P (default port 1723),
 *                    serving one connection at a time until killed; FILE
 *                    is created once it listens.  Each connection reads
 *                    the 156 bytes of an SCCRQ, then:
 *                      bad-sccrp  a header with Length 0 (type SCCRP),
 *                                 then 60 bytes of 0xA5, instead of the
 *                                 Start-Control-Connection-Reply
 *                      bad-ocrp   a valid SCCRP; then it reads the 168
 *                                 bytes of an OCRQ and answers with an
 *                                 Outgoing-Call-Reply whose Length is 33
 *                      refuse     a valid SCCRP; the OCRQ answered with
 *                                 result 2 (General Error)
 *                      cdn        a valid SCCRP; the OCRQ answered
 *                                 "connected", and 200 ms later a
 *                                 Call-Disconnect-Notify ends the call
 *                    then reads until the peer closes.  --timeout (10 s
 *                    here) bounds each connection.
 *   --slow-unix PATH a control-socket client that never finishes its
 *                    line: connects to the unix socket PATH, sends "sta",
 *                    and waits (up to --timeout) for the server to close.
 *                    Exit 0 iff it closed without a byte; the result line
 *                    says after how many ms.
 *   --slow-http ADDR:PORT
 *                    N clients of an HTTP listener (pptpgw's /metrics) that
 *                    never finish their request head: client i sends
 *                    "GET /metrics HTTP/1.1\r\nX-Pad: " and 100000 'a' (odd
 *                    i, past the 8 KiB head limit) or 1000 (even i), one
 *                    non-blocking send, whatever part fits.  After 1 s, how
 *                    much the VmRSS of PID (the server) grew; then a fresh
 *                    client sends "GET /metrics HTTP/1.0\r\n\r\n" and reads
 *                    to the end (3 s per step); then up to --timeout (8 s
 *                    here) for the server to close every slow client (end
 *                    of file or error).  Exit 0 iff it grew by less than
 *                    8192 kB, the answer holds "\npptpgw_up 1\n" and no slow
 *                    client is left open.  Raises its own fd limit to N+16.
 *
 * Floods from one inside host (e2e t_flood*.sh); each prints one line of
 * what it saw and exits 0 whenever the program itself ran (the test judges):
 *   --call-flood N   SCCRQ, wait for SCCRP, then N Outgoing-Call-Requests,
 *                    one write each (TCP_NODELAY), Call IDs --call-id,
 *                    --call-id + 1, ...; then reads the replies for --hold
 *                    seconds, counting Outgoing-Call-Replies by result.
 *   --conn-flood N   N connections at once; each one that is answered
 *                    within --timeout sends an SCCRQ; all are held open
 *                    for --hold seconds.  Counts the answered ones.
 *   --ooo-flood N    rounds of N control connections at once, until
 *                    --hold seconds are over (one round at least): each
 *                    sends an SCCRQ and reads the 156 bytes of the SCCRP,
 *                    then writes 17 Echo-Requests, one segment each
 *                    (TCP_NODELAY, 5 ms apart), the first with Identifier
 *                    0x4f4f4f21 ("OOO!"): all in the initial window where
 *                    the route has initcwnd 20 or more (else 10); 1.5 s
 *                    later (past the gateway's hold time) all are reset
 *                    and the next round starts.  Where a rule drops every
 *                    segment that carries that Identifier at byte 12 of
 *                    its payload (the first one and its retransmissions,
 *                    however TCP merges them), the other 16 reach the
 *                    gateway out of order and stay so: what pptpgw keeps
 *                    out of order in one direction at most.
 *                    --gap MS waits that long between rounds (default 0).
 *
 * Replies are read by reassembling the TCP stream and parsed with
 * pptp_parse.  --coalesce and --split succeed iff an Outgoing-Call-Reply
 * arrives whose Peer's Call ID is our own Call ID and whose result is 1
 * (connected): through an aliasing gateway, that means the alias was
 * restored.  --hold S keeps the connection open S seconds after success.
 * --garbage exits 0 whenever the program itself ran (the test judges the
 * reply).  Everything is bounded by --timeout (default 5 s).
 *
 * One result line on stdout.  Exit: 0 success, 1 failure (or no connection),
 * 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wire/pptp_msg.h"

enum mode {
	M_NONE, M_COALESCE, M_SPLIT, M_GARBAGE, M_STRADDLE, M_SERVE, M_SLOW_UNIX,
	M_SLOW_HTTP, M_CALL_FLOOD, M_CONN_FLOOD, M_OOO_FLOOD
};

static const char *const garbage_kinds[] = {
	"badlen", "badcookie", "zerolen", "random", "short", NULL
};

static const char *const serve_kinds[] = { "bad-sccrp", "bad-ocrp", "refuse",
					   "cdn", NULL };

static struct {
	const char *server;
	unsigned port;
	uint16_t call_id;
	double timeout;
	double hold;
	unsigned long seed;
	enum mode mode;
	unsigned split;
	const char *kind;
	const char *listen;     /* --serve */
	const char *ready;
	const char *unix_path;  /* --slow-unix */
	const char *http;       /* --slow-http ADDR:PORT */
	struct sockaddr_in http_sa;
	unsigned clients;
	unsigned long pid;
	unsigned flood;         /* --call-flood, --conn-flood, --ooo-flood N */
	unsigned gap_ms;        /* --ooo-flood: between rounds */
	int timeout_set;
} opt = { .server = NULL, .port = PPTP_PORT, .call_id = 0x4242, .timeout = 5.0,
	  .seed = 1, .mode = M_NONE};

/* The stream from the server, reassembled. */
static uint8_t rx[8192];
static size_t rx_have;
static char got[512];          /* names of the messages received, in order */
static int fd = -1;
static double deadline;
static double t_start;         /* for the elapsed time in the result line */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long elapsed_ms(void)
{
	return (long)((now_s() - t_start) * 1000);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pptpprobe --server A [--port P] [--call-id N] [--timeout S]\n"
		"                 [--hold S] [--seed N] MODE\n"
		"       pptpprobe --serve KIND --listen A [--port P] [--timeout S]\n"
		"                 [--ready FILE]\n"
		"       pptpprobe --slow-unix PATH [--timeout S]\n"
		"       pptpprobe --slow-http ADDR:PORT --clients N --pid PID [--timeout S]\n"
		"       pptpprobe --server A [--port P] [--call-id N] [--timeout S]\n"
		"                 [--hold S] --call-flood N | --conn-flood N |\n"
		"                 --ooo-flood N [--gap MS]\n"
		"MODE: --coalesce | --split BYTES | --garbage KIND | --straddle\n"
		"KIND: badlen badcookie zerolen random short (--garbage),\n"
		"      bad-sccrp bad-ocrp refuse cdn (--serve)\n");
}

static int bad_arg(const char *what, const char *val)
{
	fprintf(stderr, "pptpprobe: %s: '%s'\n", what, val ? val : "(missing)");
	usage(stderr);
	return 2;
}

static int parse_ul(const char *s, unsigned long lo, unsigned long hi,
		    unsigned long *v)
{
	char *e;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoul(s, &e, 10);
	return errno || *e || *v < lo || *v > hi ? -1 : 0;
}

static int parse_secs(const char *s, double lo, double hi, double *v)
{
	char *e;

	if (!s || !*s)
		return -1;
	errno = 0;
	*v = strtod(s, &e);
	return errno || *e || !(*v >= lo && *v <= hi) ? -1 : 0;
}

/* "A.B.C.D:PORT" into sa. */
static int parse_addr_port(const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    parse_ul(colon + 1, 1, 65535, &port) < 0)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long v;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(o, "--coalesce") || !strcmp(o, "--straddle")) {
			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			opt.mode = !strcmp(o, "--coalesce") ? M_COALESCE : M_STRADDLE;
			continue;
		}
		if (!a)
			return bad_arg("option needs a value", o);
		i++;
		if (!strcmp(o, "--server")) {
			struct in_addr x;

			if (inet_pton(AF_INET, a, &x) != 1)
				return bad_arg("--server is not an IPv4 address", a);
			opt.server = a;
		} else if (!strcmp(o, "--port")) {
			if (parse_ul(a, 1, 65535, &v) < 0)
				return bad_arg("--port is not 1..65535", a);
			opt.port = (unsigned)v;
		} else if (!strcmp(o, "--call-id")) {
			if (parse_ul(a, 0, 65535, &v) < 0)
				return bad_arg("--call-id is not 0..65535", a);
			opt.call_id = (uint16_t)v;
		} else if (!strcmp(o, "--timeout")) {
			if (parse_secs(a, 0.1, 600, &opt.timeout) < 0)
				return bad_arg("--timeout is not 0.1..600 seconds", a);
			opt.timeout_set = 1;
		} else if (!strcmp(o, "--hold")) {
			if (parse_secs(a, 0, 600, &opt.hold) < 0)
				return bad_arg("--hold is not 0..600 seconds", a);
		} else if (!strcmp(o, "--seed")) {
			if (parse_ul(a, 0, 0xffffffffUL, &opt.seed) < 0)
				return bad_arg("--seed is not a number", a);
		} else if (!strcmp(o, "--split")) {
			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			if (parse_ul(a, 1, 4096, &v) < 0)
				return bad_arg("--split is not 1..4096 bytes", a);
			opt.mode = M_SPLIT;
			opt.split = (unsigned)v;
		} else if (!strcmp(o, "--garbage") || !strcmp(o, "--serve")) {
			int serve = !strcmp(o, "--serve");
			const char *const *kinds = serve ? serve_kinds : garbage_kinds;
			int k;

			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			for (k = 0; kinds[k]; k++)
				if (!strcmp(a, kinds[k]))
					break;
			if (!kinds[k])
				return bad_arg(serve ? "unknown --serve KIND" :
					       "unknown --garbage KIND", a);
			opt.mode = serve ? M_SERVE : M_GARBAGE;
			opt.kind = a;
		} else if (!strcmp(o, "--listen")) {
			struct in_addr x;

			if (inet_pton(AF_INET, a, &x) != 1)
				return bad_arg("--listen is not an IPv4 address", a);
			opt.listen = a;
		} else if (!strcmp(o, "--ready")) {
			opt.ready = a;
		} else if (!strcmp(o, "--slow-unix")) {
			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			if (strlen(a) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return bad_arg("--slow-unix path too long", a);
			opt.mode = M_SLOW_UNIX;
			opt.unix_path = a;
		} else if (!strcmp(o, "--slow-http")) {
			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			if (parse_addr_port(a, &opt.http_sa) < 0)
				return bad_arg("--slow-http is not IPV4:PORT", a);
			opt.mode = M_SLOW_HTTP;
			opt.http = a;
		} else if (!strcmp(o, "--call-flood") ||
			   !strcmp(o, "--conn-flood") ||
			   !strcmp(o, "--ooo-flood")) {
			if (opt.mode != M_NONE)
				return bad_arg("only one MODE allowed", o);
			if (parse_ul(a, 1, 10000, &v) < 0)
				return bad_arg("a flood is 1..10000", a);
			opt.mode = o[2] == 'o' ? M_OOO_FLOOD :
				   o[4] == 'l' ? M_CALL_FLOOD : M_CONN_FLOOD;
			opt.flood = (unsigned)v;
		} else if (!strcmp(o, "--gap")) {
			if (parse_ul(a, 0, 60000, &v) < 0)
				return bad_arg("--gap is not 0..60000 ms", a);
			opt.gap_ms = (unsigned)v;
		} else if (!strcmp(o, "--clients")) {
			if (parse_ul(a, 1, 10000, &v) < 0)
				return bad_arg("--clients is not 1..10000", a);
			opt.clients = (unsigned)v;
		} else if (!strcmp(o, "--pid")) {
			if (parse_ul(a, 1, 0x7fffffffUL, &opt.pid) < 0)
				return bad_arg("--pid is not a process id", a);
		} else {
			return bad_arg("unknown option", o);
		}
	}
	if (opt.mode == M_SERVE) {
		if (!opt.listen)
			return bad_arg("--serve needs --listen", NULL);
		if (!opt.timeout_set)
			opt.timeout = 10.0;
		return 0;
	}
	if (opt.mode == M_SLOW_UNIX)
		return 0;
	if (opt.mode == M_SLOW_HTTP) {
		if (!opt.clients || !opt.pid)
			return bad_arg("--slow-http needs --clients and --pid", NULL);
		if (!opt.timeout_set)
			opt.timeout = 8.0;
		return 0;
	}
	if (!opt.server)
		return bad_arg("--server is required", NULL);
	if (opt.mode == M_NONE)
		return bad_arg("a MODE is required (--coalesce, --split, --garbage, "
			       "--straddle, --serve, --slow-unix, --slow-http, "
			       "--call-flood, --conn-flood, --ooo-flood)", NULL);
	return 0;
}

/* ---- socket ---------------------------------------------------------------- */

static int wait_fd(short ev)
{
	for (;;) {
		struct pollfd p = { fd, ev, 0 };
		double left = deadline - now_s();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

static int connect_server(char *why, size_t n)
{
	struct sockaddr_in sa;
	int err = 0, r;
	socklen_t el = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, n, "socket:%s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.server, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		snprintf(why, n, "connect:%s", strerror(errno));
		return -1;
	}
	r = wait_fd(POLLOUT);
	if (r <= 0) {
		snprintf(why, n, r == 0 ? "connect:timeout" : "connect:poll");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		snprintf(why, n, "connect:%s", strerror(err ? err : errno));
		return -1;
	}
	return 0;
}

/* Write len bytes, chunk bytes per write() (0: all at once), gap_ms apart. */
static int send_bytes(const uint8_t *p, size_t len, size_t chunk,
		      unsigned gap_ms, char *why, size_t n)
{
	size_t off = 0;

	if (!chunk)
		chunk = len;
	while (off < len) {
		size_t want = len - off < chunk ? len - off : chunk;
		ssize_t w = send(fd, p + off, want, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(POLLOUT);

			if (r <= 0) {
				snprintf(why, n, "send:timeout");
				return -1;
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(why, n, "send:%s", strerror(errno));
			return -1;
		}
		off += (size_t)w;
		/* A chunk written whole is one segment with TCP_NODELAY. */
		if (gap_ms && off < len && (size_t)w == want)
			sleep_ms(gap_ms);
	}
	return 0;
}

static void note_got(const char *name)
{
	size_t l = strlen(got);

	if (l + strlen(name) + 2 >= sizeof(got))
		return;
	snprintf(got + l, sizeof(got) - l, "%s%s", l ? "," : "", name);
}

/*
 * Next whole message from the server into m.  1: a message; 0: timeout;
 * -1: the server closed; -2: reset or error; -3: the stream is not PPTP
 * (err holds why).
 */
static int read_msg(struct pptp_msg *m, const char **err)
{
	for (;;) {
		if (rx_have >= PPTP_HDR_LEN) {
			uint16_t type, len;
			enum pptp_err e = pptp_hdr_check(rx, rx_have, &type, &len);

			if (e != PPTP_OK) {
				*err = pptp_strerror(e);
				return -3;
			}
			if (rx_have >= len) {
				e = pptp_parse(rx, rx_have, m);
				memmove(rx, rx + len, rx_have - len);
				rx_have -= len;
				if (e != PPTP_OK) {
					*err = pptp_strerror(e);
					return -3;
				}
				note_got(pptp_type_name(m->type));
				return 1;
			}
		}
		{
			int r = wait_fd(POLLIN);
			ssize_t k;

			if (r == 0)
				return 0;
			if (r < 0)
				return -2;
			k = recv(fd, rx + rx_have, sizeof(rx) - rx_have, 0);
			if (k == 0)
				return -1;
			if (k < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return -2;
			}
			rx_have += (size_t)k;
		}
	}
}

static const char *end_name(int r)
{
	switch (r) {
	case 0: return "timeout";
	case -1: return "closed";
	case -2: return "reset";
	case -3: return "malformed";
	default: return "message";
	}
}

/* ---- messages -------------------------------------------------------------- */

static size_t build_sccrq(uint8_t *out, size_t n)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PPTP_SCCRQ;
	m.num[PF_PROTO_VERSION] = 0x0100;
	m.num[PF_FRAMING_CAPS] = 1;
	m.num[PF_BEARER_CAPS] = 1;
	m.num[PF_MAX_CHANNELS] = 0;
	m.num[PF_FIRMWARE_REV] = 1;
	memcpy(m.blob[PB_HOSTNAME], "pptpprobe", 9);
	memcpy(m.blob[PB_VENDOR], "pptpgw e2e", 10);
	return pptp_build(&m, out, n);
}

static size_t build_ocrq(uint8_t *out, size_t n)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PPTP_OCRQ;
	m.num[PF_CALL_ID] = opt.call_id;
	m.num[PF_CALL_SERIAL] = 1;
	m.num[PF_MIN_BPS] = 2400;
	m.num[PF_MAX_BPS] = 10000000;
	m.num[PF_BEARER_TYPE] = 3;
	m.num[PF_FRAMING_TYPE] = 3;
	m.num[PF_RECV_WINDOW] = 64;
	m.num[PF_PROC_DELAY] = 0;
	return pptp_build(&m, out, n);
}

static size_t build_echo(uint8_t *out, size_t n, uint32_t ident)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PPTP_ECHORQ;
	m.num[PF_IDENTIFIER] = ident;
	return pptp_build(&m, out, n);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t build_garbage(const char *kind, uint8_t *out, size_t n)
{
	size_t len;

	if (n < 64)
		return 0;
	if (!strcmp(kind, "random")) {
		uint32_t x = (uint32_t)opt.seed * 2654435761u + 1;
		size_t i;

		for (i = 0; i < 64; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			out[i] = (uint8_t)x;
		}
		return 64;
	}
	len = build_echo(out, n, 0xbad0bad0u);
	if (!strcmp(kind, "badlen")) {
		put16(out, 17);
		out[16] = 0xee;
		return 17;
	}
	if (!strcmp(kind, "badcookie")) {
		out[4] = 0xde, out[5] = 0xad, out[6] = 0xbe, out[7] = 0xef;
		return len;
	}
	if (!strcmp(kind, "zerolen")) {
		put16(out, 0);
		return 12;
	}
	if (!strcmp(kind, "short"))
		return 10;
	return 0;
}

/* ---- modes ----------------------------------------------------------------- */

/* Read until a message of type want; 1 found, else read_msg's result. */
static int read_until(unsigned want, struct pptp_msg *m, const char **err)
{
	for (;;) {
		int r = read_msg(m, err);

		if (r != 1)
			return r;
		if (m->type == want)
			return 1;
	}
}

static void hold_open(void)
{
	double until = now_s() + opt.hold;

	/* Keep reading (and dropping) whatever the server sends. */
	deadline = until;
	while (now_s() < until) {
		struct pptp_msg m;
		const char *err = NULL;
		int r = read_msg(&m, &err);

		if (r < 0)
			break;
	}
}

static int run_call(void)
{
	uint8_t sccrq[PPTP_MAX_LEN], ocrq[PPTP_MAX_LEN], both[2 * PPTP_MAX_LEN];
	size_t ls = build_sccrq(sccrq, sizeof(sccrq));
	size_t lo = build_ocrq(ocrq, sizeof(ocrq));
	struct pptp_msg m;
	const char *err = "";
	char why[128] = "";
	int r, ok;
	const char *mode = opt.mode == M_COALESCE ? "coalesce" :
			   opt.mode == M_STRADDLE ? "straddle" : "split";

	if (opt.mode == M_STRADDLE) {
		uint8_t echo[PPTP_MAX_LEN], seg2[6 + 14];
		size_t le = build_echo(echo, sizeof(echo), 0x53545244u);
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (send_bytes(sccrq, ls, 0, 0, why, sizeof(why)) < 0)
			goto fail;
		r = read_until(PPTP_SCCRP, &m, &err);
		if (r != 1) {
			snprintf(why, sizeof(why), "no SCCRP (%s)", end_name(r));
			goto fail;
		}
		memcpy(seg2, echo + 10, le - 10);
		memcpy(seg2 + (le - 10), ocrq, 14);
		if (send_bytes(echo, 10, 0, 0, why, sizeof(why)) < 0)
			goto fail;
		sleep_ms(20);
		if (send_bytes(seg2, sizeof(seg2), 0, 0, why, sizeof(why)) < 0)
			goto fail;
		sleep_ms(500);
		if (send_bytes(ocrq + 14, lo - 14, 0, 0, why, sizeof(why)) < 0)
			goto fail;
	} else if (opt.mode == M_COALESCE) {
		memcpy(both, sccrq, ls);
		memcpy(both + ls, ocrq, lo);
		if (send_bytes(both, ls + lo, 0, 0, why, sizeof(why)) < 0)
			goto fail;
	} else {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* pptpd's manager peeks at ONE whole header before it starts
		 * pptpctrl and drops the connection if the first read is
		 * shorter ("dropped small initial connection"): the first 12
		 * bytes of the connection go in one write, the rest split. */
		if (send_bytes(sccrq, PPTP_HDR_LEN, 0, 0, why, sizeof(why)) < 0)
			goto fail;
		sleep_ms(3);
		if (send_bytes(sccrq + PPTP_HDR_LEN, ls - PPTP_HDR_LEN, opt.split,
			       3, why, sizeof(why)) < 0)
			goto fail;
		r = read_until(PPTP_SCCRP, &m, &err);
		if (r != 1) {
			snprintf(why, sizeof(why), "no SCCRP (%s%s%s)", end_name(r),
				 r == -3 ? ":" : "", r == -3 ? err : "");
			goto fail;
		}
		if (send_bytes(ocrq, lo, opt.split, 3, why, sizeof(why)) < 0)
			goto fail;
	}
	r = read_until(PPTP_OCRP, &m, &err);
	if (r != 1) {
		snprintf(why, sizeof(why), "no OCRP (%s%s%s)", end_name(r),
			 r == -3 ? ":" : "", r == -3 ? err : "");
		goto fail;
	}
	ok = m.num[PF_PEER_CALL_ID] == opt.call_id && m.num[PF_RESULT] == 1;
	printf("pptpprobe mode=%s split=%u server=%s call_id=%u result=%s "
	       "ocrp_peer_call_id=%u ocrp_result=%u pac_call_id=%u ms=%ld got=%s\n",
	       mode, opt.split, opt.server, opt.call_id, ok ? "ok" : "FAIL",
	       (unsigned)m.num[PF_PEER_CALL_ID], (unsigned)m.num[PF_RESULT],
	       (unsigned)m.num[PF_CALL_ID], elapsed_ms(), got[0] ? got : "none");
	if (ok && opt.hold > 0)
		hold_open();
	return ok ? 0 : 1;
fail:
	printf("pptpprobe mode=%s split=%u server=%s call_id=%u result=FAIL "
	       "why=\"%s\" ms=%ld got=%s\n", mode, opt.split, opt.server,
	       opt.call_id, why, elapsed_ms(), got[0] ? got : "none");
	return 1;
}

static int run_garbage(void)
{
	uint8_t sccrq[PPTP_MAX_LEN], bad[64], echo[PPTP_MAX_LEN];
	size_t ls = build_sccrq(sccrq, sizeof(sccrq));
	size_t lb = build_garbage(opt.kind, bad, sizeof(bad));
	size_t le = build_echo(echo, sizeof(echo), 0x50524f42u);   /* "PROB" */
	struct pptp_msg m;
	const char *err = "";
	char why[128] = "";
	int r, one = 1, echo_reply = 0, sccrp = 0;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (send_bytes(sccrq, ls, 0, 0, why, sizeof(why)) < 0)
		goto out;
	r = read_until(PPTP_SCCRP, &m, &err);
	if (r != 1) {
		snprintf(why, sizeof(why), "no SCCRP (%s)", end_name(r));
		goto out;
	}
	sccrp = 1;
	if (send_bytes(bad, lb, 0, 0, why, sizeof(why)) < 0)
		goto out;
	sleep_ms(20);   /* its own segment */
	if (send_bytes(echo, le, 0, 0, why, sizeof(why)) < 0)
		goto out;
	for (;;) {
		r = read_msg(&m, &err);
		if (r != 1)
			break;
		if (m.type == PPTP_ECHORP && m.num[PF_IDENTIFIER] == 0x50524f42u) {
			echo_reply = 1;
			break;
		}
	}
	snprintf(why, sizeof(why), "%s%s%s", r == 1 ? "echo-reply" : end_name(r),
		 r == -3 ? ":" : "", r == -3 ? err : "");
out:
	printf("pptpprobe mode=garbage kind=%s server=%s sccrp=%s "
	       "garbage_bytes=%zu echo_reply=%s end=\"%s\" ms=%ld got=%s\n",
	       opt.kind, opt.server, sccrp ? "yes" : "no", lb,
	       echo_reply ? "yes" : "no", why, elapsed_ms(), got[0] ? got : "none");
	return 0;
}

/* ---- fake server (--serve) ------------------------------------------------ */

/* Read exactly n bytes from fd (discarded); 0, or -1 on close, error, time. */
/* Read n bytes; the first keep of them (at most) go to dst. */
static int read_keep(size_t n, uint8_t *dst, size_t keep)
{
	uint8_t buf[256];
	size_t at = 0;

	while (n > 0) {
		ssize_t k;
		int r = wait_fd(POLLIN);

		if (r <= 0)
			return -1;
		k = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0)
			return -1;
		if (at < keep) {
			size_t c = (size_t)k < keep - at ? (size_t)k : keep - at;

			memcpy(dst + at, buf, c);
			at += c;
		}
		n -= (size_t)k;
	}
	return 0;
}

static int read_exact(size_t n)
{
	return read_keep(n, NULL, 0);
}

/* A PPTP header of the tests' own: Length, type, cookie, Reserved0 0. */
static void put_hdr(uint8_t *p, uint16_t length, uint16_t type)
{
	put16(p, length);
	put16(p + 2, 1);                /* control message */
	p[4] = 0x1a, p[5] = 0x2b, p[6] = 0x3c, p[7] = 0x4d;
	put16(p + 8, type);
	put16(p + 10, 0);
}

static size_t build_sccrp(uint8_t *out, size_t n)
{
	struct pptp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PPTP_SCCRP;
	m.num[PF_PROTO_VERSION] = 0x0100;
	m.num[PF_RESULT] = 1;
	m.num[PF_ERROR] = 0;
	m.num[PF_FRAMING_CAPS] = 3;
	m.num[PF_BEARER_CAPS] = 3;
	m.num[PF_MAX_CHANNELS] = 0;
	m.num[PF_FIRMWARE_REV] = 1;
	memcpy(m.blob[PB_HOSTNAME], "fakepac", 7);
	memcpy(m.blob[PB_VENDOR], "test", 4);
	return pptp_build(&m, out, n);
}

/* Wait for the peer to close. */
static const char *wait_close(void)
{
	uint8_t buf[512];

	for (;;) {
		ssize_t k;

		if (wait_fd(POLLIN) <= 0)
			return "timeout";
		k = recv(fd, buf, sizeof(buf), 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0)
			return "closed";
	}
}

/*
 * A server that will not carry the call asked for with Call ID peer:
 * "refuse" answers the request with result 2 (General Error); "cdn"
 * connects it, then at once ends it with a Call-Disconnect-Notify, as a
 * server whose PPP gave up would.
 */
static const char *serve_call_end(uint16_t peer)
{
	uint8_t out[PPTP_MAX_LEN];
	struct pptp_msg m;
	char why[64];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = PPTP_OCRP;
	m.num[PF_CALL_ID] = 0x5151;
	m.num[PF_PEER_CALL_ID] = peer;
	m.num[PF_RESULT] = strcmp(opt.kind, "refuse") ? 1 : 2;
	len = pptp_build(&m, out, sizeof(out));
	if (!len || send_bytes(out, len, 0, 0, why, sizeof(why)) < 0)
		return "OCRP not sent";
	if (!strcmp(opt.kind, "cdn")) {
		sleep_ms(200);
		memset(&m, 0, sizeof(m));
		m.type = PPTP_CDN;
		m.num[PF_CALL_ID] = 0x5151;
		m.num[PF_RESULT] = 3;   /* Administrative Shutdown */
		len = pptp_build(&m, out, sizeof(out));
		if (!len || send_bytes(out, len, 0, 0, why, sizeof(why)) < 0)
			return "CDN not sent";
	}
	return wait_close();
}

/* One connection of the fake server: its bad answer, then wait for close. */
static const char *serve_one(void)
{
	uint8_t out[PPTP_MAX_LEN + 64];
	size_t len;
	char why[64];

	if (read_exact(pptp_type_len(PPTP_SCCRQ)) < 0)
		return "no SCCRQ";
	if (!strcmp(opt.kind, "bad-sccrp")) {
		/* Length 0: no message can be framed from it. */
		put_hdr(out, 0, PPTP_SCCRP);
		memset(out + PPTP_HDR_LEN, 0xa5, 60);
		len = PPTP_HDR_LEN + 60;
	} else {
		uint8_t rq[16];

		len = build_sccrp(out, sizeof(out));
		if (send_bytes(out, len, 0, 0, why, sizeof(why)) < 0)
			return "SCCRP not sent";
		if (read_keep(pptp_type_len(PPTP_OCRQ), rq, sizeof(rq)) < 0)
			return "no OCRQ";
		if (strcmp(opt.kind, "bad-ocrp"))
			return serve_call_end(rq[12] << 8 | rq[13]);
		/* One byte longer than an OCRP is. */
		len = pptp_type_len(PPTP_OCRP) + 1;
		memset(out, 0, len);
		put_hdr(out, (uint16_t)len, PPTP_OCRP);
	}
	if (send_bytes(out, len, 0, 0, why, sizeof(why)) < 0)
		return "answer not sent";
	return wait_close();   /* the peer (the relay) closes */
}

static int run_serve(void)
{
	struct sockaddr_in sa;
	int l, one = 1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0) {
		perror("pptpprobe: socket");
		return 1;
	}
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.listen, &sa.sin_addr);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 8) < 0) {
		fprintf(stderr, "pptpprobe: listen %s: %s\n", opt.listen,
			strerror(errno));
		return 1;
	}
	if (opt.ready) {
		FILE *f = fopen(opt.ready, "w");

		if (!f || fclose(f) != 0) {
			fprintf(stderr, "pptpprobe: ready: %s\n", strerror(errno));
			return 1;
		}
	}
	for (;;) {
		const char *end;

		fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("pptpprobe: accept");
			return 1;
		}
		t_start = now_s();
		deadline = t_start + opt.timeout;
		end = serve_one();
		fprintf(stderr, "pptpprobe serve=%s listen=%s end=\"%s\" ms=%ld\n",
			opt.kind, opt.listen, end, elapsed_ms());
		close(fd);
		fd = -1;
	}
}

/* ---- slow control-socket client (--slow-unix) ------------------------------ */

static int run_slow_unix(void)
{
	struct sockaddr_un su;
	uint8_t buf[100];
	const char *end;
	ssize_t k = -1;
	int r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, opt.unix_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    send(fd, "sta", 3, MSG_NOSIGNAL) != 3) {
		printf("pptpprobe mode=slow-unix path=%s result=FAIL why=\"%s\"\n",
		       opt.unix_path, strerror(errno));
		return 1;
	}
	t_start = now_s();
	deadline = t_start + opt.timeout;
	do {
		r = wait_fd(POLLIN);
		if (r > 0)
			k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	} while (r > 0 && k < 0 && (errno == EAGAIN || errno == EINTR));
	end = r == 0 ? "timeout" : r < 0 || k < 0 ? "error" :
	      k == 0 ? "closed" : "answered";
	printf("pptpprobe mode=slow-unix path=%s result=%s end=\"%s\" ms=%ld\n",
	       opt.unix_path, k == 0 ? "ok" : "FAIL", end, elapsed_ms());
	return k == 0 ? 0 : 1;
}

/* ---- slow HTTP clients against /metrics (--slow-http) ---------------------- */

/* VmRSS of opt.pid in kB, or -1. */
static long rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lu/status", opt.pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A blocking TCP connection to --slow-http's address, or -1. */
static int http_connect(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&opt.http_sa, sizeof(opt.http_sa)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* Room for n sockets of our own and a few more. */
static int raise_nofile(unsigned n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_max = want;     /* needs CAP_SYS_RESOURCE; else fails */
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * A scrape on a fresh connection (3 s per step, as the test's old client
 * had): 1 iff the answer holds "\npptpgw_up 1\n".
 */
static int scrape_up(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char answer[1 << 20];
	size_t have = 0;
	char why[64];

	fd = http_connect();
	if (fd < 0)
		return 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	deadline = now_s() + 3;
	if (send_bytes((const uint8_t *)req, sizeof(req) - 1, 0, 0, why,
		       sizeof(why)) < 0)
		goto out;
	for (;;) {
		ssize_t k;

		deadline = now_s() + 3;
		if (wait_fd(POLLIN) <= 0)
			break;
		k = recv(fd, answer + have, sizeof(answer) - 1 - have, 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0 || (have += (size_t)k) == sizeof(answer) - 1)
			break;
	}
out:
	close(fd);
	fd = -1;
	answer[have] = 0;
	return strstr(answer, "\npptpgw_up 1\n") != NULL;
}

/*
 * Wait up to --timeout for the server to close every slow connection (EOF
 * or error; what it sends before is read and dropped).  The ones it closed
 * are set to -1.  Returns how many are still open.
 */
static unsigned wait_closed(int *s, unsigned n)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	unsigned i, open_n = n;
	char buf[65536];

	if (!p)
		return n;
	deadline = t_start + opt.timeout;
	while (open_n > 0 && now_s() < deadline) {
		for (i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = s[i], .events = POLLIN };
		if (poll(p, n, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (s[i] < 0 || !p[i].revents)
				continue;
			k = recv(s[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (k > 0 || (k < 0 && (errno == EAGAIN || errno == EINTR)))
				continue;
			close(s[i]);
			s[i] = -1;
			open_n--;
		}
	}
	free(p);
	return open_n;
}

/*
 * --slow-http: opt.clients connections that each send the start of a
 * request head and never its end, half of them past the server's 8 KiB
 * limit; one second later, how much the server (--pid) grew, then whether
 * a fresh scrape still gets in, then whether the server drops all the slow
 * ones within --timeout.
 */
static int run_slow_http(void)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nX-Pad: ";
	static char req[sizeof(head) - 1 + 100000];
	long rss0, rss1, grown;
	unsigned i, left;
	int *s, scraped, ok;

	if (raise_nofile(opt.clients) < 0) {
		printf("pptpprobe mode=slow-http result=FAIL why=\"fd limit: %s\"\n",
		       strerror(errno));
		return 1;
	}
	s = calloc(opt.clients, sizeof(*s));
	rss0 = rss_kb();
	if (!s || rss0 < 0) {
		printf("pptpprobe mode=slow-http result=FAIL why=\"%s\"\n",
		       s ? "no VmRSS for --pid" : "out of memory");
		return 1;
	}
	memcpy(req, head, sizeof(head) - 1);
	memset(req + sizeof(head) - 1, 'a', sizeof(req) - (sizeof(head) - 1));
	for (i = 0; i < opt.clients; i++) {
		/* Half go past the head limit, half stay under it and wait. */
		size_t len = sizeof(head) - 1 + (i % 2 ? 100000 : 1000);

		s[i] = http_connect();
		if (s[i] < 0 ||
		    fcntl(s[i], F_SETFL, fcntl(s[i], F_GETFL) | O_NONBLOCK) < 0) {
			printf("pptpprobe mode=slow-http server=%s result=FAIL "
			       "why=\"client %u: %s\"\n", opt.http, i, strerror(errno));
			return 1;
		}
		/* Non-blocking: whatever part fits is enough. */
		if (send(s[i], req, len, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
			printf("pptpprobe mode=slow-http server=%s result=FAIL "
			       "why=\"send %u: %s\"\n", opt.http, i, strerror(errno));
			return 1;
		}
	}
	sleep_ms(1000);
	rss1 = rss_kb();
	grown = rss1 < 0 ? -1 : rss1 - rss0;
	scraped = scrape_up();
	t_start = now_s();
	left = wait_closed(s, opt.clients);
	ok = rss1 >= 0 && grown < 8192 && scraped && left == 0;
	printf("pptpprobe mode=slow-http server=%s clients=%u result=%s "
	       "rss_grew_kb=%ld scrape=%s still_open=%u after_s=%.1f\n",
	       opt.http, opt.clients, ok ? "ok" : "FAIL", grown,
	       scraped ? "answered" : "NOT-answered", left, now_s() - t_start);
	return ok ? 0 : 1;
}

/* ---- floods of one host (--call-flood, --conn-flood, --ooo-flood) ------------ */

/*
 * --call-flood: one control connection, then opt.flood call requests with
 * their own Call IDs, as fast as TCP takes them; the replies are counted
 * until --hold is over.  A gateway holding the host to its share of the
 * call table turns the replies to the requests beyond it into errors (or
 * drops the requests for a while, which TCP sends again).
 */
static int run_call_flood(void)
{
	uint8_t sccrq[PPTP_MAX_LEN], ocrq[PPTP_MAX_LEN];
	size_t ls = build_sccrq(sccrq, sizeof(sccrq)), lo;
	unsigned i, ok = 0, err = 0, other = 0, sent = 0;
	uint16_t id0 = opt.call_id;
	struct pptp_msg m;
	const char *e = "";
	char why[128] = "";
	int r, one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (send_bytes(sccrq, ls, 0, 0, why, sizeof(why)) < 0)
		goto fail;
	r = read_until(PPTP_SCCRP, &m, &e);
	if (r != 1) {
		snprintf(why, sizeof(why), "no SCCRP (%s)", end_name(r));
		goto fail;
	}
	for (i = 0; i < opt.flood; i++) {
		opt.call_id = (uint16_t)(id0 + i);
		lo = build_ocrq(ocrq, sizeof(ocrq));
		if (send_bytes(ocrq, lo, 0, 0, why, sizeof(why)) < 0)
			break;
		sent++;
	}
	/* Count the answers until --hold is over (or the server closes). */
	deadline = now_s() + opt.hold;
	got[0] = 0;
	while ((r = read_msg(&m, &e)) == 1) {
		if (m.type != PPTP_OCRP)
			other++;
		else if (m.num[PF_RESULT] == 1)
			ok++;
		else
			err++;
	}
	printf("pptpprobe mode=call-flood server=%s result=ok sent=%u "
	       "ocrp_connected=%u ocrp_error=%u other=%u end=%s ms=%ld\n",
	       opt.server, sent, ok, err, other, end_name(r), elapsed_ms());
	return 0;
fail:
	printf("pptpprobe mode=call-flood server=%s result=FAIL why=\"%s\" "
	       "ms=%ld\n", opt.server, why, elapsed_ms());
	return 1;
}

/* A non-blocking connect to --server:--port; -1 if it failed at once. */
static int flood_socket(void)
{
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.server, &sa.sin_addr);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/* Whether the non-blocking connect of s is done (1), failed (-1) or not
 * yet (0). */
static int flood_connected(int s)
{
	struct pollfd p = { s, POLLOUT, 0 };
	int err = 0;
	socklen_t el = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		return -1;
	return 1;
}

/*
 * --conn-flood: opt.flood connections at once; those answered within
 * --timeout start a control connection (SCCRQ) and all stay open for
 * --hold seconds.  A gateway holding the host to its share of the
 * connection table lets only that many be answered.
 */
static int run_conn_flood(void)
{
	uint8_t sccrq[PPTP_MAX_LEN];
	size_t ls = build_sccrq(sccrq, sizeof(sccrq));
	unsigned i, up = 0, failed = 0, pending;
	int *s, *st;

	if (raise_nofile(opt.flood) < 0 || !(s = calloc(opt.flood, sizeof(*s))) ||
	    !(st = calloc(opt.flood, sizeof(*st)))) {
		printf("pptpprobe mode=conn-flood result=FAIL why=\"%s\"\n",
		       strerror(errno));
		return 1;
	}
	for (i = 0; i < opt.flood; i++) {
		s[i] = flood_socket();
		if (s[i] < 0)
			st[i] = -1, failed++;
	}
	pending = opt.flood - failed;
	while (pending && now_s() < deadline) {
		for (i = 0; i < opt.flood; i++) {
			int r;

			if (st[i])
				continue;
			r = flood_connected(s[i]);
			if (!r)
				continue;
			st[i] = r;
			pending--;
			if (r < 0) {
				failed++;
				continue;
			}
			up++;
			send(s[i], sccrq, ls, MSG_NOSIGNAL);
		}
		sleep_ms(20);
	}
	printf("pptpprobe mode=conn-flood server=%s result=ok tried=%u "
	       "connected=%u failed=%u not_answered=%u ms=%ld\n", opt.server,
	       opt.flood, up, failed, pending, elapsed_ms());
	if (opt.hold > 0)
		sleep_ms((unsigned)(opt.hold * 1000));
	for (i = 0; i < opt.flood; i++)
		if (s[i] >= 0)
			close(s[i]);
	return 0;
}

/* Close s with a reset: no FIN waits behind data that never gets through. */
static void abort_socket(int s)
{
	struct linger l = { 1, 0 };

	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(s);
}

/*
 * --ooo-flood: see the comment at the top.  Each round has N connections
 * with 16 segments each that the gateway cannot pass before the missing
 * first one (which never comes): N * 16 waiting at once if it kept them
 * all.  Few connections for many segments: each one costs the server a
 * process (pptpd), and the test's tunnels share its machine.
 */
#define OOO_SEGS 17
#define OOO_MARK 0x4f4f4f21u

/* Read (and drop) what each connection in s[] gets until it has want
 * bytes, or the deadline; those that closed or failed are aborted and set
 * to -1.  Returns how many have want bytes. */
static unsigned ooo_read(int *s, unsigned *have, unsigned n, unsigned want)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	unsigned i, done = 0;
	uint8_t buf[4096];

	if (!p)
		return 0;
	while (now_s() < deadline) {
		unsigned waiting = 0;

		for (i = 0; i < n; i++) {
			p[i] = (struct pollfd){ .fd = -1 };
			if (s[i] >= 0 && have[i] < want) {
				p[i] = (struct pollfd){ .fd = s[i], .events = POLLIN };
				waiting++;
			}
		}
		if (!waiting || (poll(p, n, 50) < 0 && errno != EINTR))
			break;
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = recv(s[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (k > 0)
				have[i] += (unsigned)k;
			else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				abort_socket(s[i]), s[i] = -1;
		}
	}
	for (i = 0; i < n; i++)
		done += s[i] >= 0 && have[i] >= want;
	free(p);
	return done;
}

static int run_ooo_flood(void)
{
	uint8_t sccrq[PPTP_MAX_LEN], echo[PPTP_MAX_LEN];
	size_t ls = build_sccrq(sccrq, sizeof(sccrq)), le;
	unsigned n = opt.flood, i, k, rounds = 0, tried = 0, up = 0, segs = 0;
	unsigned *have;
	int *s, one = 1;
	double end = now_s() + opt.hold;

	if (raise_nofile(n) < 0 || !(s = calloc(n, sizeof(*s))) ||
	    !(have = calloc(n, sizeof(*have)))) {
		printf("pptpprobe mode=ooo-flood result=FAIL why=\"%s\"\n",
		       strerror(errno));
		return 1;
	}
	do {
		rounds++;
		deadline = now_s() + 3;
		for (i = 0; i < n; i++) {
			s[i] = flood_socket();
			have[i] = 0;
			tried++;
		}
		/* Connected: the SCCRQ; then every SCCRP read whole. */
		for (i = 0; i < n; i++) {
			fd = s[i];
			if (fd < 0)
				continue;
			if (wait_fd(POLLOUT) <= 0 || flood_connected(fd) <= 0 ||
			    send(fd, sccrq, ls, MSG_NOSIGNAL) != (ssize_t)ls) {
				abort_socket(fd);
				s[i] = -1;
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		fd = -1;
		up += ooo_read(s, have, n, 156);
		for (k = 0; k < OOO_SEGS; k++) {
			le = build_echo(echo, sizeof(echo),
					k ? OOO_MARK + k : OOO_MARK);
			for (i = 0; i < n; i++)
				if (s[i] >= 0 && have[i] >= 156 &&
				    send(s[i], echo, le, MSG_NOSIGNAL) == (ssize_t)le)
					segs++;
			/* Long enough for the segments to leave: a write
			 * while the last one still waits to go out is
			 * appended to it, and would be dropped with it. */
			sleep_ms(5);
		}
		sleep_ms(1500);
		for (i = 0; i < n; i++)
			if (s[i] >= 0)
				abort_socket(s[i]);
		if (now_s() < end)
			sleep_ms(opt.gap_ms);
	} while (now_s() < end);
	printf("pptpprobe mode=ooo-flood server=%s result=ok rounds=%u "
	       "tried=%u started=%u segments=%u ms=%ld\n", opt.server, rounds,
	       tried, up, segs, elapsed_ms());
	return 0;
}

int main(int argc, char **argv)
{
	char why[128] = "";
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	r = parse_args(argc, argv);
	if (r)
		return r;
	if (opt.mode == M_SERVE)
		return run_serve();
	if (opt.mode == M_SLOW_UNIX)
		return run_slow_unix();
	if (opt.mode == M_SLOW_HTTP)
		return run_slow_http();
	t_start = now_s();
	deadline = t_start + opt.timeout;
	if (opt.mode == M_CONN_FLOOD)
		return run_conn_flood();
	if (opt.mode == M_OOO_FLOOD)
		return run_ooo_flood();
	if (connect_server(why, sizeof(why)) < 0) {
		printf("pptpprobe mode=%s server=%s result=FAIL why=\"%s\"\n",
		       opt.mode == M_COALESCE ? "coalesce" :
		       opt.mode == M_SPLIT ? "split" :
		       opt.mode == M_STRADDLE ? "straddle" :
		       opt.mode == M_CALL_FLOOD ? "call-flood" : "garbage",
		       opt.server, why);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	r = opt.mode == M_GARBAGE ? run_garbage() :
	    opt.mode == M_CALL_FLOOD ? run_call_flood() : run_call();
	close(fd);
	return r;
}
