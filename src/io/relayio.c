#include "io/relayio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "log.h"
#include "wire/pkt.h"

#define TICK_MS 20
#define OUT_MAX (64 * 1024)      /* a peer that stops reading is dropped */
#define CLOSE_FLUSH_MS 5000      /* a closed socket's last words, at most */
#define CLOSING_MAX 256          /* sockets still saying them, at most */
#define FD_SPARE 64              /* descriptors the rest of the daemon needs */
#define FD_RESERVE 16            /* never taken by accepted clients: the
				    control socket, /metrics, conntrack
				    queries and upstream connections */

/* One socket.  Its slot in the relay may be reused as soon as the relay
 * lets go of it, so a socket being closed no longer names one. */
struct rsock {
	struct relayio *io;
	struct bufferevent *bev;
	uint32_t slot;               /* RL_NONE once the relay let go */
	uint8_t dead;                /* failed; the relay is to be told */
	uint8_t draining;            /* sent all, shut down, reading to EOF */
	/* An upstream connection: its server and our port (0: a client's). */
	uint32_t server;
	uint16_t lport;
	uint64_t closing_since;
	struct rsock *next;          /* in the closing list, once let go */
};

struct relayio {
	struct event_base *base;
	struct relay rl;
	struct alias_space *as;      /* shared with the translator */
	relayio_id_busy_fn *busy;
	void *busy_arg;
	struct evconnlistener *lis;
	uint64_t lis_paused_until;   /* out of descriptors: accept later */
	rlim_t fd_limit;             /* RLIMIT_NOFILE after fd_room() */
	struct rsock **sock;         /* by connection slot */
	struct event *tick, *reaper;
	int rawfd;
	uint32_t mark;               /* on upstream connections (SO_MARK) */
	uint16_t ip_id;
	struct rsock *closing;       /* let go, still flushing */
	uint32_t nclosing;
};

static void sock_free(struct rsock *s)
{
	struct rsock **p;

	if (s->slot == RL_NONE)
		for (p = &s->io->closing; *p; p = &(*p)->next)
			if (*p == s) {
				*p = s->next;
				s->io->nclosing--;
				break;
			}
	bufferevent_free(s->bev);
	free(s);
}

static void sock_discard(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
		       evbuffer_get_length(bufferevent_get_input(bev)));
}

/*
 * All queued bytes are out: shut our side and read to the peer's EOF.
 * Closing with unread bytes would send a reset, which can destroy the last
 * message (an SCCRP error, say) before the peer reads it.
 */
static void sock_flushed(struct bufferevent *bev, void *arg)
{
	struct rsock *s = arg;

	if (s->draining)
		return;
	s->draining = 1;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_enable(bev, EV_READ);
}

static void sock_event_closing(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	sock_free(arg);
}

static void hook_close(void *arg, uint32_t slot)
{
	struct relayio *io = arg;
	struct rsock *s = io->sock[slot];

	io->sock[slot] = NULL;
	if (!s)
		return;
	/* Never freed here: the relay may be running on its read callback. */
	s->slot = RL_NONE;
	s->dead = 0;
	s->closing_since = now_ms();
	s->next = io->closing;
	io->closing = s;
	io->nclosing++;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setcb(s->bev, sock_discard, sock_flushed,
			  sock_event_closing, s);
	if (!evbuffer_get_length(bufferevent_get_output(s->bev)))
		event_active(io->reaper, EV_TIMEOUT, 0);
}

/* Report a socket failure from outside the relay's own calls. */
static void mark_dead(struct relayio *io, uint32_t slot)
{
	struct rsock *s = io->sock[slot];

	if (!s)
		return;
	s->dead = 1;
	event_active(io->reaper, EV_TIMEOUT, 0);
}

/* Closing sockets past their deadline, or beyond the cap, go at once. */
static void closing_expire(struct relayio *io, uint64_t now)
{
	struct rsock *s, *next;
	uint32_t kept = 0;

	for (s = io->closing; s; s = next) {
		next = s->next;
		/* Newest first: everything past the cap is the oldest. */
		if (now - s->closing_since >= CLOSE_FLUSH_MS ||
		    ++kept > CLOSING_MAX)
			sock_free(s);
	}
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct relayio *io = arg;
	struct rsock *s;
	uint32_t slot;

	(void)fd;
	(void)what;
	/* Sockets let go with nothing left to send. */
	for (s = io->closing; s; s = s->next)
		if (!evbuffer_get_length(bufferevent_get_output(s->bev)))
			sock_flushed(s->bev, s);
	/* The reaper, not the hook that saw the failure, tells the relay:
	 * that hook may have been called by the relay itself. */
	for (slot = 0; slot < io->rl.cfg.max_conns; slot++) {
		s = io->sock[slot];
		if (!s || !s->dead)
			continue;
		io->sock[slot] = NULL;
		sock_free(s);
		relay_closed(&io->rl, slot, now_ms());
	}
}

static void hook_ctl_send(void *arg, uint32_t slot, const uint8_t *p,
			  size_t len)
{
	struct relayio *io = arg;
	struct rsock *s = io->sock[slot];
	struct evbuffer *out;

	if (!s)
		return;
	out = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(out) + len > OUT_MAX) {
		log_warn("relay: connection %u does not read its control "
			 "messages; dropped", slot);
		mark_dead(io, slot);
		return;
	}
	bufferevent_write(s->bev, p, len);
}

static void sock_read(struct bufferevent *bev, void *arg)
{
	struct rsock *s = arg;
	struct relayio *io = s->io;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t buf[4096];
	int n;

	while (s->slot != RL_NONE &&
	       (n = evbuffer_remove(in, buf, sizeof(buf))) > 0)
		relay_ctl_input(&io->rl, s->slot, buf, (size_t)n, now_ms());
	/* The relay may have closed it meanwhile; hook_close took over. */
}

static void sock_event(struct bufferevent *bev, short what, void *arg)
{
	struct rsock *s = arg;
	struct relayio *io = s->io;
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	uint32_t slot = s->slot;

	if (slot == RL_NONE)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (getsockname(bufferevent_getfd(bev), (struct sockaddr *)&me,
				&ml) == 0) {
			relay_connected(&io->rl, slot, ntohl(me.sin_addr.s_addr),
					now_ms());
			return;
		}
	}
	io->sock[slot] = NULL;
	sock_free(s);
	relay_closed(&io->rl, slot, now_ms());
}

static struct rsock *sock_new(struct relayio *io, uint32_t slot, int fd)
{
	struct rsock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->io = io;
	s->slot = slot;
	s->bev = bufferevent_socket_new(io->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		free(s);
		return NULL;
	}
	bufferevent_setcb(s->bev, sock_read, NULL, sock_event, s);
	bufferevent_enable(s->bev, EV_READ);
	io->sock[slot] = s;
	return s;
}

static void remember_upstream(struct rsock *s, int fd, uint32_t server);

/* pptpgw's mark on one of the relay's sockets (0: none). */
static void set_mark(int fd, uint32_t mark, const char *what)
{
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark,
			       sizeof(mark)) < 0)
		log_warn("relay: SO_MARK on %s: %s", what, strerror(errno));
}

static int hook_connect(void *arg, uint32_t slot, uint32_t server)
{
	struct relayio *io = arg;
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct rsock *s = fd < 0 ? NULL : sock_new(io, slot, fd);

	if (!s) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* pptpgw's mark: its rules leave the relay's own connections alone
	 * (they are not this host's PPTP clients). */
	set_mark(fd, io->mark, "an upstream connection");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(PPTP_PORT);
	sin.sin_addr.s_addr = htonl(server);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&sin,
				       sizeof(sin)) < 0) {
		io->sock[slot] = NULL;
		sock_free(s);
		return -1;
	}
	remember_upstream(s, fd, server);
	return 0;
}

/*
 * The port connect() bound, so that the server's segments to it are known
 * as the relay's (relayio_upstream): they come in by a WAN like those of
 * this host's own PPTP clients, which pptpgw queues, but carry no mark.
 */
static void remember_upstream(struct rsock *s, int fd, uint32_t server)
{
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);

	if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0) {
		s->server = server;
		s->lport = ntohs(me.sin_port);
	}
}

static int is_upstream(const struct rsock *s, uint32_t server,
		       uint16_t lport)
{
	return s && s->lport == lport && s->server == server;
}

int relayio_upstream(struct relayio *io, uint32_t server, uint16_t lport)
{
	const struct rsock *s;
	uint32_t slot;

	for (slot = 0; slot < io->rl.cfg.max_conns; slot++)
		if (is_upstream(io->sock[slot], server, lport))
			return 1;
	for (s = io->closing; s; s = s->next)
		if (is_upstream(s, server, lport))
			return 1;
	return 0;
}

static int hook_gre_send(void *arg, uint32_t src, uint32_t dst,
			 const uint8_t *gre, size_t len)
{
	struct relayio *io = arg;
	uint8_t pkt[IP4_HDR_LEN + GRELEG_HDR_MAX + 65536];
	struct sockaddr_in sin;
	static struct log_rl rl;

	if (ip4_build(pkt, IPPROTO_GRE_, src, dst, ++io->ip_id, len) == 0)
		return -1;
	memcpy(pkt + IP4_HDR_LEN, gre, len);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(dst);
	if (sendto(io->rawfd, pkt, IP4_HDR_LEN + len, 0, (struct sockaddr *)&sin,
		   sizeof(sin)) < 0) {
		log_limited(&rl, LOG_WARNING, "relay: sending GRE: %s",
			    strerror(errno));
		return -1;
	}
	return 0;
}

static int hook_id_get(void *arg, uint32_t pub, uint32_t server, uint16_t *id)
{
	struct relayio *io = arg;

	return alias_reserve(io->as, pub, server, id);
}

static void hook_id_put(void *arg, uint32_t pub, uint32_t server, uint16_t id)
{
	struct relayio *io = arg;

	alias_release(io->as, pub, server, id, now_ms());
}

static int hook_client_id_busy(void *arg, uint32_t client, uint32_t server,
			       uint16_t id)
{
	struct relayio *io = arg;

	return io->busy && io->busy(io->busy_arg, client, server, id);
}

static void hook_event(void *arg, const struct rl_event *ev)
{
	struct relayio *io = arg;
	const struct rl_call *k;
	const struct rl_conn *c;
	char a[16], b[16];
	static struct log_rl rl;

	switch (ev->type) {
	case RLEV_CALL_UP:
	case RLEV_CALL_END:
		k = &io->rl.calls[ev->call];
		if (ev->type == RLEV_CALL_UP) {
			log_info("relay: call %s:%u -> %s:%u (ours %u/%u) up",
				 ip4_str(k->client, a), k->client_id,
				 ip4_str(k->server, b), k->server_id,
				 k->pac_id, k->pns_id);
			break;
		}
		/* What each leg took in and gave up: whether a tunnel that
		 * lost frames lost them here or at a peer. */
		log_info("relay: call %s:%u -> %s:%u (ours %u/%u) ended (%s): "
			 "frames up %llu (lost %llu, late %llu, dup %llu), "
			 "down %llu (lost %llu, late %llu, dup %llu)",
			 ip4_str(k->client, a), k->client_id,
			 ip4_str(k->server, b), k->server_id, k->pac_id,
			 k->pns_id, ev->why,
			 (unsigned long long)k->leg_client.st.rx_delivered,
			 (unsigned long long)k->leg_client.st.rx_lost,
			 (unsigned long long)k->leg_client.st.rx_late,
			 (unsigned long long)k->leg_client.st.rx_duplicates,
			 (unsigned long long)k->leg_server.st.rx_delivered,
			 (unsigned long long)k->leg_server.st.rx_lost,
			 (unsigned long long)k->leg_server.st.rx_late,
			 (unsigned long long)k->leg_server.st.rx_duplicates);
		break;
	case RLEV_CONN_UP:
	case RLEV_CONN_DOWN:
		c = &io->rl.conns[ev->conn];
		log_info("relay: %s connection %s -> %s %s%s%s",
			 c->side == RL_INSIDE ? "client" : "upstream",
			 ip4_str(c->client, a), ip4_str(c->server, b),
			 ev->type == RLEV_CONN_UP ? "up" : "closed (",
			 ev->type == RLEV_CONN_UP ? "" : ev->why,
			 ev->type == RLEV_CONN_UP ? "" : ")");
		break;
	case RLEV_PER_CALL:
		c = &io->rl.conns[ev->conn];
		log_info("relay: server %s refused a second call on one "
			 "control connection: one connection per call from now "
			 "on", ip4_str(c->server, b));
		break;
	case RLEV_BAD_INPUT:
		c = &io->rl.conns[ev->conn];
		log_limited(&rl, LOG_WARNING, "relay: %s connection %s -> %s: "
			    "%s", c->side == RL_INSIDE ? "client" : "upstream",
			    ip4_str(c->client, a), ip4_str(c->server, b),
			    ev->why);
		break;
	}
}

/* Out of descriptors: a listener left on would be told again at once,
 * forever.  Pause it for a second. */
static void listen_pause(struct relayio *io, const char *why)
{
	static struct log_rl rl;

	log_limited(&rl, LOG_WARNING, "relay: %s; not accepting for 1 s", why);
	evconnlistener_disable(io->lis);
	io->lis_paused_until = now_ms() + 1000;
}

static void on_listen_error(struct evconnlistener *l, void *arg)
{
	char why[128];

	(void)l;
	snprintf(why, sizeof(why), "accepting a connection failed (%s)",
		 strerror(errno));
	listen_pause(arg, why);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct relayio *io = arg;
	struct sockaddr_in dst, *src = (struct sockaddr_in *)sa;
	socklen_t dl = sizeof(dst);
	uint32_t slot;
	uint64_t limited;
	char a[16];

	(void)l;
	(void)salen;
	/*
	 * Descriptors are handed out lowest first, so this one's number is
	 * how many are open.  Clients never take the last FD_RESERVE: one
	 * host opening connections must not lock the admin out of the
	 * control socket, nor the relay out of its upstream connections.
	 */
	if (io->fd_limit != RLIM_INFINITY &&
	    (rlim_t)fd + FD_RESERVE >= io->fd_limit) {
		close(fd);
		listen_pause(io, "descriptors nearly all in use, the last ones "
			     "are kept for the control socket and upstream "
			     "connections");
		return;
	}
	/* Only connections the nat rule redirected have another address
	 * behind them; one made to this port directly has none. */
	if (src->sin_family != AF_INET ||
	    getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &dl) < 0 ||
	    ntohs(dst.sin_port) != PPTP_PORT) {
		log_debug("relay: connection from %s was not redirected from "
			  "TCP 1723: closed",
			  ip4_str(ntohl(src->sin_addr.s_addr), a));
		close(fd);
		return;
	}
	limited = relay_counter(&io->rl, RLS_INSIDE_CLIENT_LIMIT);
	slot = relay_accept(&io->rl, ntohl(src->sin_addr.s_addr),
			    ntohs(src->sin_port), ntohl(dst.sin_addr.s_addr),
			    now_ms());
	if (slot == RL_NONE) {
		static struct log_sec full, client;

		ip4_str(ntohl(src->sin_addr.s_addr), a);
		if (relay_counter(&io->rl, RLS_INSIDE_CLIENT_LIMIT) != limited)
			log_per_second(&client, LOG_WARNING, "relay: client %s "
				       "refused: it has %u sessions "
				       "(sessions_per_client)", a,
				       io->rl.cfg.sessions_per_client);
		else
			log_per_second(&full, LOG_WARNING, "relay: client %s "
				       "refused: connection table full (%u)",
				       a, io->rl.cfg.max_conns);
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	if (!sock_new(io, slot, fd)) {
		close(fd);
		relay_closed(&io->rl, slot, now_ms());
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct relayio *io = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	relay_tick(&io->rl, now);
	closing_expire(io, now);
	if (io->lis_paused_until && now >= io->lis_paused_until) {
		io->lis_paused_until = 0;
		evconnlistener_enable(io->lis);
	}
}


enum rl_gre_result relayio_gre(struct relayio *io, const struct pkt_view *v,
			       uint64_t now)
{
	if (v->err != PKT_OK || v->ip.proto != IPPROTO_GRE_ ||
	    v->gre_err != GRE_OK)
		return RL_GRE_NOT_MINE;
	return relay_gre_parsed(&io->rl, v->ip.src, v->ip.dst, &v->gre,
				v->data + v->ip.hlen, now);
}

struct relay *relayio_relay(struct relayio *io)
{
	return io ? &io->rl : NULL;
}

void relayio_set_mark(struct relayio *io, uint32_t mark)
{
	io->mark = mark;
	/* Its GRE too: the queue rules for this host's own GRE pass it by. */
	if (io->rawfd >= 0)
		set_mark(io->rawfd, mark, "the GRE socket");
}

void relayio_set_cfg(struct relayio *io, const struct rl_cfg *cfg)
{
	relay_set_cfg(&io->rl, cfg);
}

int relayio_call_clear(struct relayio *io, uint32_t call)
{
	return relay_call_clear(&io->rl, call, now_ms());
}

static int listen_on(struct relayio *io, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	io->lis = evconnlistener_new_bind(io->base, on_accept, io,
					  LEV_OPT_CLOSE_ON_FREE |
					  LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
					  64, (struct sockaddr *)&sin,
					  sizeof(sin));
	if (!io->lis) {
		log_err("relay: cannot listen on TCP port %u: %s", port,
			strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(io->lis, on_listen_error);
	return 0;
}

/* Every relayed connection is a descriptor: make room for all of them, so
 * a host opening connections runs into max_conns, not into EMFILE. */
static void fd_room(uint32_t max_conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_conns + CLOSING_MAX + FD_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ?
		      need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_warn("relay: %llu file descriptors allowed, %llu wanted "
			 "for max_conns %u: raise the hard limit (LimitNOFILE) "
			 "or lower max_conns", (unsigned long long)rl.rlim_cur,
			 (unsigned long long)need, max_conns);
}

struct relayio *relayio_start(struct event_base *base, const struct rl_cfg *cfg,
			      uint16_t port, struct alias_space *as,
			      relayio_id_busy_fn *busy, void *busy_arg)
{
	struct rlimit lim;
	struct rl_hooks hooks = {
		.ctl_send = hook_ctl_send,
		.connect = hook_connect,
		.close = hook_close,
		.gre_send = hook_gre_send,
		.id_get = hook_id_get,
		.id_put = hook_id_put,
		.event = hook_event,
		.client_id_busy = hook_client_id_busy,
	};
	struct relayio *io = calloc(1, sizeof(*io));
	struct rl_cfg c = *cfg;
	struct timeval tv = { 0, TICK_MS * 1000 };

	if (!io)
		return NULL;
	io->base = base;
	io->as = as;
	io->busy = busy;
	io->busy_arg = busy_arg;
	io->rawfd = -1;
	hooks.arg = io;
	if (getrandom(&c.seed, sizeof(c.seed), 0) != sizeof(c.seed))
		c.seed ^= now_ms();
	if (relay_init(&io->rl, &c, &hooks) < 0)
		goto fail;
	fd_room(c.max_conns);
	io->fd_limit = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur
							   : RLIM_INFINITY;
	io->sock = calloc(c.max_conns, sizeof(*io->sock));
	/* Send-only: IPPROTO_RAW sockets never receive, and carry our own
	 * IP header (the client's leg is sent from the server's address). */
	io->rawfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (!io->sock || io->rawfd < 0) {
		log_err("relay: %s: %s", io->rawfd < 0 ? "raw socket" :
			"out of memory", strerror(errno));
		goto fail;
	}
	io->tick = event_new(base, -1, EV_PERSIST, on_tick, io);
	io->reaper = event_new(base, -1, 0, on_reap, io);
	if (!io->tick || !io->reaper || event_add(io->tick, &tv) < 0 ||
	    listen_on(io, port) < 0)
		goto fail;
	return io;
fail:
	relayio_stop(io);
	return NULL;
}

void relayio_stop(struct relayio *io)
{
	uint32_t i;

	if (!io)
		return;
	if (io->sock) {
		struct timeval tv = { 0, 300000 };

		if (io->lis)
			evconnlistener_disable(io->lis);
		relay_shutdown(&io->rl, now_ms());
		/* A moment for the goodbyes to leave, then let go of the rest. */
		if (io->closing) {
			event_base_loopexit(io->base, &tv);
			event_base_dispatch(io->base);
		}
		while (io->closing)
			sock_free(io->closing);
		for (i = 0; i < io->rl.cfg.max_conns; i++)
			if (io->sock[i])
				sock_free(io->sock[i]);
	}
	if (io->lis)
		evconnlistener_free(io->lis);
	if (io->tick)
		event_free(io->tick);
	if (io->reaper)
		event_free(io->reaper);
	if (io->rawfd >= 0)
		close(io->rawfd);
	relay_destroy(&io->rl);
	free(io->sock);
	free(io);
}
