#include "ctl/metrics.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"

struct mconn {
	TAILQ_ENTRY(mconn) entry;    /* oldest first */
	struct metrics *m;
	struct bufferevent *bev;
};

struct metrics {
	struct event_base *base;
	struct evconnlistener *lis;
	TAILQ_HEAD(, mconn) conns;
	unsigned nconns;
	metrics_write_fn write;
	void *arg;
};

static void conn_free(struct mconn *c)
{
	TAILQ_REMOVE(&c->m->conns, c, entry);
	c->m->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_free(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	/* Timeout, end of file or error: whatever was pending is dropped. */
	conn_free(arg);
}

/* Send one answer and close once it is out (the timeout still holds). */
static void reply(struct mconn *c, int code, const char *reason,
		  const char *type, const char *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    code, reason, type, len);
	evbuffer_add(out, body, len);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, on_written, on_event, c);
}

static void reply_text(struct mconn *c, int code, const char *reason,
		       const char *text)
{
	reply(c, code, reason, "text/plain", text, strlen(text));
}

static void reply_metrics(struct mconn *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		reply_text(c, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	c->m->write(c->m->arg, f);
	fclose(f);
	reply(c, 200, "OK", "text/plain; version=0.0.4", text, len);
	free(text);
}

/* Whether the head announces a body, which no request here may carry. */
static int has_body(const char *head)
{
	const char *h;

	for (h = strchr(head, '\n'); h; h = strchr(h + 1, '\n')) {
		unsigned long n;

		if (!strncasecmp(h + 1, "transfer-encoding:", 18))
			return 1;
		if (!strncasecmp(h + 1, "content-length:", 15) &&
		    (n = strtoul(h + 16, NULL, 10)) > 0)
			return 1;
	}
	return 0;
}

static void answer(struct mconn *c, char *head)
{
	char method[16], path[256];

	if (sscanf(head, "%15s %255s HTTP/1.%*1[01]", method, path) != 2) {
		reply_text(c, 400, "Bad Request", "bad request line\n");
		return;
	}
	if (strcmp(method, "GET")) {
		reply_text(c, 405, "Method Not Allowed", "only GET\n");
		return;
	}
	if (has_body(head)) {
		reply_text(c, 413, "Payload Too Large", "no body here\n");
		return;
	}
	if (strcmp(path, "/metrics") && strncmp(path, "/metrics?", 9)) {
		reply_text(c, 404, "Not Found", "see /metrics\n");
		return;
	}
	reply_metrics(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct mconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	size_t n = evbuffer_get_length(in);
	char head[METRICS_HEAD_MAX + 1];

	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos < 0) {
		/* The head may not grow past its limit: the reading stops
		 * there (watermark), and so does the client. */
		if (n >= METRICS_HEAD_MAX)
			reply_text(c, 431, "Request Header Fields Too Large",
				   "request head too large\n");
		return;
	}
	n = (size_t)end.pos < METRICS_HEAD_MAX ? (size_t)end.pos
					       : METRICS_HEAD_MAX;
	evbuffer_remove(in, head, n);
	head[n] = 0;
	answer(c, head);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	static const struct timeval timeout = { METRICS_TIMEOUT_S, 0 };
	struct metrics *m = arg;
	struct mconn *c;

	(void)l;
	(void)sa;
	(void)len;
	/* Full: the oldest connection makes room, so a scrape always gets
	 * in however many idle clients a local user opens. */
	if (m->nconns >= METRICS_MAX_CONNS)
		conn_free(TAILQ_FIRST(&m->conns));
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(m->base, fd,
						BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		free(c);
		close(fd);
		return;
	}
	c->m = m;
	TAILQ_INSERT_TAIL(&m->conns, c, entry);
	m->nconns++;
	bufferevent_set_timeouts(c->bev, &timeout, &timeout);
	bufferevent_setwatermark(c->bev, EV_READ, 0, METRICS_HEAD_MAX);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
}

/* "ADDR:PORT", the address a name or a literal (IPv6 in brackets). */
static int resolve(const char *addr, struct sockaddr_storage *ss,
		   socklen_t *sslen)
{
	struct addrinfo hints, *ai;
	char host[64];
	const char *colon = strrchr(addr, ':');
	const char *h = host;
	size_t hl;
	unsigned long port;
	char *end;

	if (!colon || (hl = (size_t)(colon - addr)) >= sizeof(host) ||
	    (port = strtoul(colon + 1, &end, 10)) == 0 || *end || port > 65535)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		h = host + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai) != 0)
		return -2;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

struct metrics *metrics_open(struct event_base *base, const char *addr,
			     metrics_write_fn write, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct metrics *m;
	int r = resolve(addr, &ss, &sslen);

	if (r == -1) {
		log_err("metrics address '%s' is not ADDR:PORT", addr);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->base = base;
	m->write = write;
	m->arg = arg;
	TAILQ_INIT(&m->conns);
	if (r == 0)
		m->lis = evconnlistener_new_bind(base, on_accept, m,
						 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_CLOSE_ON_EXEC |
						 LEV_OPT_REUSEABLE, 16,
						 (struct sockaddr *)&ss,
						 (int)sslen);
	if (!m->lis) {
		log_err("metrics: cannot listen on %s: %s", addr,
			r ? "no such address" : strerror(errno));
		free(m);
		return NULL;
	}
	return m;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	while (!TAILQ_EMPTY(&m->conns))
		conn_free(TAILQ_FIRST(&m->conns));
	evconnlistener_free(m->lis);
	free(m);
}
