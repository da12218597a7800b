/* pptpgwctl: ask a running pptpgw over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_SOCK "/run/pptpgw.sock"

static void usage(FILE *f)
{
	fprintf(f, "usage: pptpgwctl [-s SOCKET] [--json] "
		"status|calls|stats|clear CALL\n");
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCK;
	char line[256] = "";
	int i, fd, json = 0, nwords = 0, error = 0;
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) &&
		    i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (nwords < 2) {
			if (strlen(line) + strlen(argv[i]) + 2 > 200)
				return 2;
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
	if (json)
		strcat(line, " json");
	strcat(line, "\n");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pptpgwctl: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "pptpgwctl: daemon not running: no socket at "
			"%s (%s)\n", path, strerror(errno));
		return 1;
	}
	if (write(fd, line, strlen(line)) < 0) {
		fprintf(stderr, "pptpgwctl: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!strncmp(buf, "error:", 6))
			error = 1;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	return error ? 1 : 0;
}
