/* pptpgwctl: ask a running pptpgw over its control socket. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_SOCK "/run/pptpgw/pptpgw.sock"

static void usage(FILE *f)
{
	fprintf(f, "usage: pptpgwctl [-s SOCKET] [--json] "
		"status|calls|stats|clear CALL|reload|diagnose\n"
		"       pptpgwctl [-s SOCKET] top [-i SECONDS] [-n COUNT]\n"
		"\n"
		"  status       version, uptime, connections, calls, relay policy\n"
		"  calls        the call table: translated calls (slot N) and\n"
		"               relayed calls (slot rN)\n"
		"  stats        every counter, the relay's included\n"
		"  clear CALL   end a call by its slot: N, or rN for a relayed one\n"
		"  reload       read the configuration again (as SIGHUP)\n"
		"  diagnose     likely causes of tunnels that do not work, with\n"
		"               the evidence and the fix\n"
		"  top          live call table with packet rates\n");
}

/* Not running, and not allowed to ask, are told apart. */
static void say_why(const char *path, int err)
{
	if (err == EACCES || err == EPERM)
		fprintf(stderr, "pptpgwctl: permission denied on %s: run it as "
			"root or as a member of group pptpgw\n", path);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "pptpgwctl: daemon not running (%s is left "
			"from an earlier run)\n", path);
	else if (err == ENOENT)
		fprintf(stderr, "pptpgwctl: daemon not running: no socket at "
			"%s\n", path);
	else
		fprintf(stderr, "pptpgwctl: cannot reach the daemon at %s: "
			"%s\n", path, strerror(err));
}

/* One command, one answer: the answer in a malloc'd buffer. */
static int ask(const char *path, const char *line, char **answer)
{
	struct sockaddr_un sun;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pptpgwctl: socket path too long\n");
		free(buf);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		say_why(path, errno);
		if (fd >= 0)
			close(fd);
		free(buf);
		return -1;
	}
	if (write(fd, line, strlen(line)) < 0) {
		fprintf(stderr, "pptpgwctl: %s\n", strerror(errno));
		close(fd);
		free(buf);
		return -1;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 1024) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = 0;
	*answer = buf;
	return 0;
}

/* A call's slot as "calls" shows it: "7", or "r7" for a relayed call. */
struct seen {
	char slot[16];
	unsigned long long out, in;
};

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

/* Earlier packet counts of a slot (from the last screen), or NULL. */
static struct seen *find(struct seen *v, int n, const char *slot)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].slot, slot))
			return &v[i];
	return NULL;
}

static int top(const char *path, double interval, long count)
{
	struct seen *prev = NULL, *cur = NULL;
	int nprev = 0, tty = isatty(1);
	long round;

	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	for (round = 0; !stop && (count <= 0 || round < count); round++) {
		char *ans, *line, *save = NULL;
		int ncur = 0, cap = 64;
		struct pollfd pfd = { 0, POLLIN, 0 };

		if (ask(path, "calls\n", &ans) < 0)
			return 1;
		cur = calloc((size_t)cap, sizeof(*cur));
		if (tty)
			printf("\033[H\033[2J");
		printf("pptpgw calls, every %.1fs (q to quit)\n", interval);
		printf("%-5s %-21s %-21s %-5s %-11s %9s %9s\n", "CALL", "INSIDE",
		       "SERVER", "ALIAS", "STATE", "PPS_OUT", "PPS_IN");
		for (line = strtok_r(ans, "\n", &save); line && cur;
		     line = strtok_r(NULL, "\n", &save)) {
			char slot[16], in[32], srv[32], alias[16], pub[32];
			char mode[16], state[16], age[16];
			unsigned long long po, pi;
			struct seen *p;

			/* Relayed calls' slots are "rN", and their alias is
			 * "-" until they have one. */
			if (sscanf(line, "%15s %31s %31s %15s %31s %15s %15s %15s "
				   "%llu %llu", slot, in, srv, alias, pub, mode,
				   state, age, &po, &pi) != 10 ||
			    !strcmp(slot, "CALL"))
				continue;
			p = find(prev, nprev, slot);
			printf("%-5s %-21s %-21s %-5s %-11s %9.1f %9.1f\n", slot,
			       in, srv, alias, state,
			       p && round ? (double)(po - p->out) / interval : 0.0,
			       p && round ? (double)(pi - p->in) / interval : 0.0);
			if (ncur == cap) {
				struct seen *nc = realloc(cur, sizeof(*cur) *
							  (size_t)cap * 2);
				if (!nc)
					break;
				cur = nc;
				cap *= 2;
			}
			strcpy(cur[ncur].slot, slot);
			cur[ncur].out = po;
			cur[ncur].in = pi;
			ncur++;
		}
		fflush(stdout);
		free(ans);
		free(prev);
		prev = cur;
		nprev = ncur;
		if (count > 0 && round + 1 >= count)
			break;
		/* Sleep the interval, or leave at once on 'q'. */
		if (poll(&pfd, tty ? 1 : 0, (int)(interval * 1000)) > 0) {
			char c;

			if (read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				break;
		}
	}
	free(prev);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCK;
	char line[256] = "", *ans;
	int i, json = 0, nwords = 0, error;
	double interval = 1;
	long count = 0;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) &&
		    i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
			interval = atof(argv[++i]);
			if (interval < 0.1 || interval > 3600) {
				fprintf(stderr, "pptpgwctl: -i takes 0.1 to "
					"3600 seconds\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			count = atol(argv[++i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (nwords < 2 && strlen(argv[i]) < 64) {
			if (nwords++)
				strcat(line, " ");
			strcat(line, argv[i]);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!nwords) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(line, "top"))
		return top(path, interval, count);
	if (json)
		strcat(line, " json");
	strcat(line, "\n");
	if (ask(path, line, &ans) < 0)
		return 1;
	error = !strncmp(ans, "error:", 6);
	fputs(ans, error ? stderr : stdout);
	free(ans);
	return error ? 1 : 0;
}
