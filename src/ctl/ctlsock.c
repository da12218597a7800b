#include "ctl/ctlsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"

#define CTL_LINE_MAX 1024

struct ctlsock {
	struct event_base *base;
	struct evconnlistener *lis;
	char path[108];
	ctlsock_answer_fn answer;
	void *arg;
};

static void ctl_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void ctl_error(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctlsock *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!line) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	f = open_memstream(&text, &len);
	if (f) {
		c->answer(c->arg, f, line);
		fclose(f);
		bufferevent_write(bev, text, len);
		free(text);
	}
	free(line);
	/* The error callback stays: a client gone before the answer drains
	 * must not leak the connection. */
	bufferevent_setcb(bev, NULL, ctl_written, ctl_error, c);
	bufferevent_disable(bev, EV_READ);
}

static const struct timeval ctl_timeout = { 5, 0 };

static void ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
		       struct sockaddr *sa, int len, void *arg)
{
	struct ctlsock *c = arg;
	struct bufferevent *bev;

	(void)l;
	(void)sa;
	(void)len;
	bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	/* A client that never finishes its line is dropped after 5 s. */
	bufferevent_set_timeouts(bev, &ctl_timeout, &ctl_timeout);
	bufferevent_setcb(bev, ctl_read, NULL, ctl_error, c);
	bufferevent_enable(bev, EV_READ);
}

/* /run/pptpgw may not exist when started by hand (systemd makes it). */
static void make_parent_dir(const char *path)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		log_warn("cannot create %s: %s", dir, strerror(errno));
}

struct ctlsock *ctlsock_open(struct event_base *base, const char *path,
			     ctlsock_answer_fn answer, void *arg)
{
	struct sockaddr_un sun;
	struct ctlsock *c;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	make_parent_dir(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_err("another pptpgw answers on %s", path);
		close(fd);
		return NULL;
	}
	close(fd);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base = base;
	c->answer = answer;
	c->arg = arg;
	strcpy(c->path, sun.sun_path);
	unlink(path);
	c->lis = evconnlistener_new_bind(base, ctl_accept, c,
					 LEV_OPT_CLOSE_ON_FREE |
					 LEV_OPT_CLOSE_ON_EXEC, 16,
					 (struct sockaddr *)&sun, sizeof(sun));
	if (!c->lis) {
		log_err("control socket %s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	/* Root and the pptpgw group only: the socket can clear calls. */
	chmod(path, 0660);
	return c;
}

void ctlsock_close(struct ctlsock *c)
{
	if (!c)
		return;
	evconnlistener_free(c->lis);
	unlink(c->path);
	free(c);
}
