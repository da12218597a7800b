/*
 * pppspeak: a PPP frame speaker that stands in for pppd in the end-to-end
 * tests.  It frames PPP packets with async HDLC (RFC 1662: 0x7E flags, 0x7D
 * escapes, FCS-16), sends a paced stream of numbered data frames whose
 * payload carries its own CRC32, and checks every frame it receives.
 *
 *   pppspeak [options]                    speak on fd 0 (in) and fd 1 (out)
 *   pppspeak [options] --exec CMD ARGS... run CMD with its stdin/stdout on a
 *                                         socketpair and speak through it
 *
 * Frame (before HDLC escaping and FCS):
 *   FF 03 00 21                      address, control, protocol (IPv4)
 *   u32 magic 'PPS1'
 *   u8  type (0 hello, 1 data, 2 done)
 *   u8  idlen, id[idlen]             sender's id
 *   u32 seq                          data: 1..count; done: frames intact
 *   u16 plen, pattern[plen]          plen varies with seq
 *   u32 CRC32 of magic..pattern
 *
 * Hello frames go out at once and then every 100 ms until anything arrives
 * from the peer; only then do data frames start, so frames are not thrown
 * at a tunnel that is not up yet.  When a side has sent all its data frames
 * and received the expected number intact, it sends "done" frames and waits
 * (bounded) for the peer's "done" before leaving, so that neither side tears
 * the tunnel down while the other is still receiving.
 *
 * Summary line (stderr, and appended to --report FILE):
 *   pppspeak id=NAME peer=PEERID sent=N recv=M intact=I bad=B dup=D ooo=O
 * sent: data frames sent; recv: frames received other than intact
 * hello/done frames; intact: distinct data frames that passed every check;
 * bad: FCS, format, CRC or wrong-sender frames; dup: a data seq seen again;
 * ooo: data frames that arrived after a higher seq.
 * Exit 0 iff all data frames were sent and at least --expect arrived intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x50505331u /* "PPS1" */
#define T_HELLO 0
#define T_DATA 1
#define T_DONE 2
#define MAX_ID 32
#define MAX_FRAME 4096
#define MAX_PLEN 1300
#define OUTBUF_SZ (256 * 1024)
#define OUTBUF_HIGH (32 * 1024) /* stop producing data frames above this */
#define MAX_TRACK_SEQ (1u << 24)
#define PPP_PROTO 0x0021

static const char *opt_id = "pppspeak";
static long opt_count = 1000;
static long opt_expect = -1;
static double opt_rate = 500.0;
static double opt_timeout = 60.0;
static double opt_linger = 0.5;
static double opt_donewait = 10.0;
static const char *opt_report;
static int opt_verbose;

static volatile sig_atomic_t got_signal;

/* ---- checksums ---- */

static uint16_t fcs_tab[256];
static uint32_t crc_tab[256];

static void init_tables(void)
{
	for (unsigned i = 0; i < 256; i++) {
		unsigned v = i;
		for (int k = 0; k < 8; k++)
			v = (v & 1) ? (v >> 1) ^ 0x8408 : v >> 1;
		fcs_tab[i] = (uint16_t)v;
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
		crc_tab[i] = c;
	}
}

static uint16_t fcs16(uint16_t fcs, const uint8_t *p, size_t n)
{
	while (n--)
		fcs = (uint16_t)((fcs >> 8) ^ fcs_tab[(fcs ^ *p++) & 0xff]);
	return fcs;
}

static uint32_t crc32_buf(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	while (n--)
		c = (c >> 8) ^ crc_tab[(c ^ *p++) & 0xff];
	return c ^ 0xFFFFFFFFu;
}

/* ---- time ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- output buffer ---- */

static uint8_t outbuf[OUTBUF_SZ];
static size_t out_len;

static void out_byte(uint8_t b)
{
	if (b == 0x7E || b == 0x7D || b < 0x20) {
		outbuf[out_len++] = 0x7D;
		outbuf[out_len++] = b ^ 0x20;
	} else {
		outbuf[out_len++] = b;
	}
}

/* Frame one PPP packet (address..payload) into the output buffer. */
static int queue_frame(const uint8_t *pkt, size_t n)
{
	if (out_len + 2 * n + 8 > OUTBUF_SZ)
		return -1;
	uint16_t fcs = fcs16(0xFFFF, pkt, n) ^ 0xFFFF;
	outbuf[out_len++] = 0x7E;
	for (size_t i = 0; i < n; i++)
		out_byte(pkt[i]);
	out_byte(fcs & 0xff);
	out_byte(fcs >> 8);
	outbuf[out_len++] = 0x7E;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t plen_for(uint32_t seq, int type)
{
	if (type != T_DATA)
		return 8;
	return (size_t)((seq * 37u + 11u) % (MAX_PLEN + 1));
}

static uint8_t pattern_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

static int queue_msg(int type, uint32_t seq)
{
	uint8_t pkt[MAX_FRAME];
	size_t idlen = strlen(opt_id), n = 0;
	size_t plen = plen_for(seq, type);

	pkt[n++] = 0xFF;
	pkt[n++] = 0x03;
	pkt[n++] = PPP_PROTO >> 8;
	pkt[n++] = PPP_PROTO & 0xff;
	size_t body = n;
	put32(pkt + n, MAGIC); n += 4;
	pkt[n++] = (uint8_t)type;
	pkt[n++] = (uint8_t)idlen;
	memcpy(pkt + n, opt_id, idlen); n += idlen;
	put32(pkt + n, seq); n += 4;
	pkt[n++] = (uint8_t)(plen >> 8);
	pkt[n++] = (uint8_t)plen;
	for (size_t i = 0; i < plen; i++)
		pkt[n++] = pattern_byte(seq, i);
	put32(pkt + n, crc32_buf(pkt + body, n - body));
	n += 4;
	return queue_frame(pkt, n);
}

/* ---- receive state ---- */

static long n_sent, n_recv, n_intact, n_bad, n_dup, n_ooo, n_hello_rx;
static char peer_id[MAX_ID + 1];
static char other_id[MAX_ID + 1];
static int peer_seen, peer_done;
static uint32_t max_seq;
static uint8_t *seen;
static size_t seen_sz;

static int mark_seen(uint32_t seq)
{
	if (seq >= MAX_TRACK_SEQ)
		return -1;
	if (seq >= seen_sz * 8) {
		size_t nsz = seen_sz ? seen_sz : 1024;
		while (seq >= nsz * 8)
			nsz *= 2;
		uint8_t *p = realloc(seen, nsz);
		if (!p)
			return -1;
		memset(p + seen_sz, 0, nsz - seen_sz);
		seen = p;
		seen_sz = nsz;
	}
	int was = (seen[seq >> 3] >> (seq & 7)) & 1;
	seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
	return was;
}

static void bad(const char *why, size_t n)
{
	n_bad++;
	if (opt_verbose || n_bad <= 5)
		fprintf(stderr, "pppspeak[%s]: bad frame (%s, %zu bytes)\n", opt_id, why, n);
}

static void got_frame(const uint8_t *f, size_t n)
{
	if (n < 4) {
		n_recv++;
		bad("short", n);
		return;
	}
	if (fcs16(0xFFFF, f, n) != 0xF0B8) {
		n_recv++;
		bad("fcs", n);
		return;
	}
	n -= 2;
	size_t o = 0;
	if (n >= 2 && f[0] == 0xFF && f[1] == 0x03)
		o = 2; /* tolerate address/control field compression */
	if (n < o + 2 || ((f[o] << 8) | f[o + 1]) != PPP_PROTO) {
		n_recv++;
		bad("protocol", n);
		return;
	}
	o += 2;
	const uint8_t *b = f + o;
	size_t bl = n - o, k = 0;
	if (bl < 4 + 1 + 1 + 4 + 2 + 4 || get32(b) != MAGIC) {
		n_recv++;
		bad("magic", n);
		return;
	}
	if (crc32_buf(b, bl - 4) != get32(b + bl - 4)) {
		n_recv++;
		bad("crc32", n);
		return;
	}
	k = 4;
	int type = b[k++];
	size_t idlen = b[k++];
	if (idlen > MAX_ID || k + idlen + 4 + 2 + 4 > bl) {
		n_recv++;
		bad("idlen", n);
		return;
	}
	char id[MAX_ID + 1];
	memcpy(id, b + k, idlen);
	id[idlen] = 0;
	k += idlen;
	uint32_t seq = get32(b + k);
	k += 4;
	size_t plen = (size_t)b[k] << 8 | b[k + 1];
	k += 2;
	if (k + plen + 4 != bl || (type == T_DATA && plen != plen_for(seq, type))) {
		n_recv++;
		bad("length", n);
		return;
	}
	for (size_t i = 0; type == T_DATA && i < plen; i++) {
		if (b[k + i] != pattern_byte(seq, i)) {
			n_recv++;
			bad("pattern", n);
			return;
		}
	}
	if (!peer_id[0]) {
		snprintf(peer_id, sizeof peer_id, "%s", id);
	} else if (strcmp(peer_id, id) != 0) {
		/* A frame meant for someone else: the gateway crossed tunnels. */
		if (!other_id[0])
			snprintf(other_id, sizeof other_id, "%s", id);
		n_recv++;
		bad("foreign sender", n);
		return;
	}
	peer_seen = 1;
	if (type == T_HELLO) {
		n_hello_rx++;
		return;
	}
	if (type == T_DONE) {
		peer_done = 1;
		return;
	}
	if (type != T_DATA || seq == 0) {
		n_recv++;
		bad("type", n);
		return;
	}
	n_recv++;
	int was = mark_seen(seq);
	if (was < 0) {
		bad("seq range", n);
		return;
	}
	if (was) {
		n_dup++;
		return;
	}
	if (seq < max_seq)
		n_ooo++;
	else
		max_seq = seq;
	n_intact++;
}

/* HDLC deframer state. */
static uint8_t fbuf[MAX_FRAME];
static size_t flen;
static int fesc, fover;

static void rx_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == 0x7E) {
			if (fover) {
				n_recv++;
				bad("oversize", flen);
			} else if (fesc) {
				n_recv++;
				bad("abort", flen);
			} else if (flen) {
				got_frame(fbuf, flen);
			}
			flen = 0;
			fesc = fover = 0;
			continue;
		}
		if (fover)
			continue;
		if (c == 0x7D) {
			fesc = 1;
			continue;
		}
		if (fesc) {
			c ^= 0x20;
			fesc = 0;
		}
		if (flen >= sizeof fbuf) {
			fover = 1;
			continue;
		}
		fbuf[flen++] = c;
	}
}

/* ---- child handling ---- */

static pid_t child = -1;

static void reap_child(void)
{
	if (child <= 0)
		return;
	int st;
	if (waitpid(child, &st, WNOHANG) == child) {
		child = -1;
		return;
	}
	/* The child leads its own process group: signal the group, so that a
	 * wrapper shell's children go too (pptp's call manager detaches with
	 * setsid and is left to the harness). */
	if (kill(-child, SIGTERM) != 0)
		kill(child, SIGTERM);
	for (int i = 0; i < 100; i++) { /* up to 1 s */
		if (waitpid(child, &st, WNOHANG) == child) {
			kill(-child, SIGKILL); /* stragglers in the group, if any */
			child = -1;
			return;
		}
		usleep(10000);
	}
	if (kill(-child, SIGKILL) != 0)
		kill(child, SIGKILL);
	waitpid(child, &st, 0);
	child = -1;
}

static void on_signal(int sig)
{
	got_signal = sig;
}

static void set_raw(int fd)
{
	struct termios t;
	if (!isatty(fd) || tcgetattr(fd, &t) != 0)
		return;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(fd, TCSANOW, &t);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pppspeak [--id NAME] [--count N] [--expect N] [--rate FPS]\n"
		"                [--timeout SEC] [--linger SEC] [--done-wait SEC]\n"
		"                [--report FILE] [--verbose] [--exec CMD ARGS...]\n"
		"Speaks async-HDLC framed PPP on stdin/stdout, or on the stdin/stdout of\n"
		"CMD with --exec.  Non-option arguments (pppd's) are ignored.\n");
}

static double parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "pppspeak: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "id", required_argument, 0, 'i' },
		{ "count", required_argument, 0, 'n' },
		{ "expect", required_argument, 0, 'e' },
		{ "rate", required_argument, 0, 'r' },
		{ "timeout", required_argument, 0, 't' },
		{ "report", required_argument, 0, 'o' },
		{ "linger", required_argument, 0, 'l' },
		{ "done-wait", required_argument, 0, 'w' },
		{ "verbose", no_argument, 0, 'v' },
		{ "exec", no_argument, 0, 'x' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	char **exec_argv = NULL;
	int c;

	opterr = 1;
	while (!exec_argv && (c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (strlen(optarg) == 0 || strlen(optarg) > MAX_ID) {
				fprintf(stderr, "pppspeak: --id must be 1..%d chars\n", MAX_ID);
				return 2;
			}
			opt_id = optarg;
			break;
		case 'n': opt_count = (long)parse_num(optarg, "--count"); break;
		case 'e': opt_expect = (long)parse_num(optarg, "--expect"); break;
		case 'r': opt_rate = parse_num(optarg, "--rate"); break;
		case 't': opt_timeout = parse_num(optarg, "--timeout"); break;
		case 'o': opt_report = optarg; break;
		case 'l': opt_linger = parse_num(optarg, "--linger"); break;
		case 'w': opt_donewait = parse_num(optarg, "--done-wait"); break;
		case 'v': opt_verbose = 1; break;
		case 'x':
			if (optind >= argc) {
				fprintf(stderr, "pppspeak: --exec needs a command\n");
				return 2;
			}
			exec_argv = argv + optind;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!exec_argv && optind < argc && opt_verbose) {
		/* pppd-style arguments from pptpd: ignored on purpose. */
		for (int i = optind; i < argc; i++)
			fprintf(stderr, "pppspeak[%s]: ignoring argument '%s'\n", opt_id, argv[i]);
	}
	if (opt_expect < 0)
		opt_expect = opt_count;
	if (opt_rate <= 0)
		opt_rate = 1e9;
	if ((unsigned long)opt_count >= MAX_TRACK_SEQ) {
		fprintf(stderr, "pppspeak: --count too large\n");
		return 2;
	}

	init_tables();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int rfd = 0, wfd = 1;
	if (exec_argv) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
			perror("pppspeak: socketpair");
			return 1;
		}
		child = fork();
		if (child < 0) {
			perror("pppspeak: fork");
			return 1;
		}
		if (child == 0) {
			setpgid(0, 0);
			signal(SIGPIPE, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
				_exit(127);
			execvp(exec_argv[0], exec_argv);
			fprintf(stderr, "pppspeak: exec %s: %s\n", exec_argv[0], strerror(errno));
			_exit(127);
		}
		setpgid(child, child); /* also here: no race with the kill above */
		close(sv[1]);
		rfd = wfd = sv[0];
	} else {
		set_raw(0);
		if (isatty(1))
			set_raw(1);
	}
	set_nonblock(rfd);
	if (wfd != rfd)
		set_nonblock(wfd);

	double t0 = now_s();
	double deadline = t0 + opt_timeout;
	double interval = 1.0 / opt_rate;
	double next_data = 0, next_ctl = t0; /* hello now */
	double done_at = 0, leave_at = 0;
	int in_eof = 0, out_err = 0;
	uint32_t next_seq = 1;

	for (;;) {
		double t = now_s();
		if (got_signal || t >= deadline || out_err)
			break;
		if (leave_at && t >= leave_at && out_len == 0)
			break;
		int complete = n_sent >= opt_count && n_intact >= opt_expect;
		if (complete && !done_at) {
			done_at = t;
			next_ctl = t;
		}
		if (done_at && !leave_at && (peer_done || t >= done_at + opt_donewait))
			leave_at = t + opt_linger;
		if (in_eof && (!complete || leave_at == 0 || t >= leave_at))
			break; /* the other side is gone: nothing more will arrive */

		/* control frames: hello until the peer is seen, done once complete */
		if (t >= next_ctl && out_len < OUTBUF_HIGH) {
			if (done_at) {
				queue_msg(T_DONE, (uint32_t)n_intact);
				next_ctl = t + 0.1;
			} else if (!peer_seen) {
				queue_msg(T_HELLO, 0);
				next_ctl = t + 0.1;
			} else {
				next_ctl = deadline;
			}
		}
		/* data frames, paced; catch up after a late wake-up within reason */
		if (peer_seen && n_sent < opt_count) {
			if (next_data == 0)
				next_data = t;
			int burst = 0;
			while (n_sent < opt_count && t >= next_data && out_len < OUTBUF_HIGH && burst < 64) {
				if (queue_msg(T_DATA, next_seq) != 0)
					break;
				next_seq++;
				n_sent++;
				burst++;
				next_data += interval;
			}
			if (t - next_data > 0.5)
				next_data = t; /* do not accumulate a huge backlog */
		}

		/* write what we can */
		if (out_len) {
			ssize_t w = write(wfd, outbuf, out_len);
			if (w > 0) {
				memmove(outbuf, outbuf + w, out_len - (size_t)w);
				out_len -= (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				if (opt_verbose)
					fprintf(stderr, "pppspeak[%s]: write: %s\n", opt_id, strerror(errno));
				out_err = 1;
				continue;
			}
		}

		/* wait */
		double wake = deadline;
		if (next_ctl < wake)
			wake = next_ctl;
		if (peer_seen && n_sent < opt_count && next_data < wake)
			wake = next_data;
		if (done_at && !leave_at) {
			double dw = done_at + opt_donewait;
			if (dw < wake)
				wake = dw;
		}
		if (leave_at && leave_at < wake)
			wake = leave_at;
		struct pollfd pf[2];
		int np = 0, ri = -1, wi = -1;
		if (!in_eof) {
			pf[np].fd = rfd;
			pf[np].events = POLLIN;
			ri = np++;
		}
		if (out_len) {
			if (ri >= 0 && wfd == rfd) {
				pf[ri].events |= POLLOUT;
				wi = ri;
			} else {
				pf[np].fd = wfd;
				pf[np].events = POLLOUT;
				wi = np++;
			}
		}
		double dt = wake - now_s();
		int ms = dt <= 0 ? 0 : (int)(dt * 1000.0) + 1;
		if (ms > 1000)
			ms = 1000;
		int r = poll(pf, (nfds_t)np, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("pppspeak: poll");
			break;
		}
		(void)wi;
		if (ri >= 0 && (pf[ri].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint8_t buf[16384];
			ssize_t n = read(rfd, buf, sizeof buf);
			if (n > 0)
				rx_bytes(buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				in_eof = 1; /* EOF, or EIO on a pty whose master closed */
		}
	}

	int ok = n_sent >= opt_count && n_intact >= opt_expect;
	char peer[2 * MAX_ID + 2];
	if (!peer_id[0])
		snprintf(peer, sizeof peer, "-");
	else if (other_id[0])
		snprintf(peer, sizeof peer, "%s,%s", peer_id, other_id);
	else
		snprintf(peer, sizeof peer, "%s", peer_id);
	char line[512];
	snprintf(line, sizeof line,
		 "pppspeak id=%s peer=%s sent=%ld recv=%ld intact=%ld bad=%ld dup=%ld ooo=%ld\n",
		 opt_id, peer, n_sent, n_recv, n_intact, n_bad, n_dup, n_ooo);
	fputs(line, stderr);
	if (opt_verbose)
		fprintf(stderr, "pppspeak[%s]: %s after %.2f s (hello rx %ld, peer done %d%s)\n",
			opt_id, ok ? "ok" : "FAILED", now_s() - t0, n_hello_rx, peer_done,
			got_signal ? ", signalled" : "");
	if (opt_report) {
		int fd = open(opt_report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			ssize_t w = write(fd, line, strlen(line));
			(void)w;
			close(fd);
		} else {
			fprintf(stderr, "pppspeak: %s: %s\n", opt_report, strerror(errno));
		}
	}
	if (exec_argv) {
		close(rfd);
		reap_child();
	}
	free(seen);
	return ok ? 0 : 1;
}
