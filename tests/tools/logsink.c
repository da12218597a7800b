/*
 * logsink: a tiny syslog datagram listener for the end-to-end tests.
 *
 *   logsink SOCKET_PATH LOG_FILE [MAX_SECONDS]
 *
 * Binds a Unix datagram socket at SOCKET_PATH (which the tests make visible
 * as /dev/log inside private mount namespaces) and appends every message to
 * LOG_FILE, one per line.  Leaves on SIGTERM/SIGINT or after MAX_SECONDS
 * (default 900), removing the socket, so it can never outlive a test by long.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: logsink SOCKET_PATH LOG_FILE [MAX_SECONDS]\n");
		return 2;
	}
	long max_s = argc == 4 ? strtol(argv[3], NULL, 10) : 900;
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "logsink: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	FILE *out = fopen(argv[2], "a");
	if (!out) {
		perror("logsink: log file");
		return 1;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("logsink: socket");
		return 1;
	}
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		perror("logsink: bind");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	time_t end = time(NULL) + max_s;
	char buf[8192];
	while (!stop && time(NULL) < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = poll(&pf, 1, 500);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n <= 0)
			continue;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0))
			n--;
		buf[n] = 0;
		fprintf(out, "%s\n", buf);
		fflush(out);
	}
	close(fd);
	unlink(argv[1]);
	fclose(out);
	return 0;
}
