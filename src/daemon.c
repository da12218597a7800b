#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "config.h"
#include "io/ct.h"
#include "log.h"
#include "io/nfq.h"
#include "wire/pkt.h"
#include "io/relayio.h"
#include "ctl/report.h"

struct daemon {
	struct daemon_cfg *cfg;
	struct event_base *base;
	struct gw gw;
	struct nfq *nfq;
	struct ctev *ctev;
	struct ct_query *ctq;
	struct evconnlistener *ctl;
	struct evhttp *http;
	struct event *tick, *sig_term, *sig_int, *sig_hup;
	unsigned wan_ifindex[RULES_MAX_WAN];
	char wan_list[128];
	int rules_installed;
	uint64_t started;
	struct relayio *relay;
	/* Servers the "auto" policy chose, on top of the configured ones. */
	uint32_t auto_servers[RELAY_MAX_LISTED];
	int nauto;
	char relay_policy[CONFIG_RELAY_STRLEN];
};

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- translator hooks ------------------------------------------------------ */

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	struct daemon *d = arg;

	(void)mark;
	/*
	 * Accepted packets go round the chain again with our mark, which our
	 * first rule returns on: the admin's later rules (MSS clamping, say)
	 * still see them, and the filter rule lets translated GRE through.
	 */
	if (v == GW_ACCEPT)
		nfq_verdict(d->nfq, p->id, NFQ_REPEAT, p->user | d->cfg->gw.mark,
			    p->modified ? p->data : NULL, p->len);
	else
		nfq_verdict(d->nfq, p->id, NFQ_DROP, 0, NULL, 0);
	free(p);
}

/* ---- relay policy ------------------------------------------------------------ */

/* What the server did, for the log: went over its own limit, or refused. */
static const char *cope_signal(const struct conn *conn, int ncalls,
			       char *buf, size_t n)
{
	if (conn->max_channels && ncalls >= conn->max_channels)
		snprintf(buf, n, "asked for call %d on one connection, the "
			 "server allows %u (Maximum Channels in its start "
			 "reply)", ncalls + 1, conn->max_channels);
	else
		snprintf(buf, n, "was refused call %d on one connection while "
			 "another was up", ncalls + 1);
	return buf;
}

static void log_notice_auto(const struct conn *conn, int ncalls)
{
	char a[16], b[16], why[160];

	log_msg(LOG_NOTICE, "relay auto: relaying %s from its next control "
		"connection on: %s %s", ip4_str(conn->outside, b),
		ip4_str(conn->inside, a), cope_signal(conn, ncalls, why,
						      sizeof(why)));
}

static int relay_wanted(const struct daemon_cfg *c)
{
	return c->relay.all || c->relay.automatic || c->relay.nservers;
}

static int server_relayed(const struct daemon *d, uint32_t server)
{
	int i;

	if (d->cfg->relay.all)
		return 1;
	for (i = 0; i < d->cfg->relay.nservers; i++)
		if (d->cfg->relay.servers[i] == server)
			return 1;
	for (i = 0; i < d->nauto; i++)
		if (d->auto_servers[i] == server)
			return 1;
	return 0;
}

static void relay_rules_cfg(struct daemon *d, struct rules_cfg *rc,
			    uint32_t *servers)
{
	int i, n = 0;

	memset(rc, 0, sizeof(*rc));
	for (i = 0; i < d->cfg->nwan; i++)
		rc->wan[i] = d->cfg->wan[i];
	rc->nwan = d->cfg->nwan;
	rc->queue = d->cfg->queue;
	rc->mark = d->cfg->gw.mark;
	rc->relay = relay_wanted(d->cfg);
	rc->relay_all = d->cfg->relay.all;
	rc->relay_port = d->cfg->relay.port;
	for (i = 0; i < d->cfg->relay.nservers; i++)
		servers[n++] = d->cfg->relay.servers[i];
	for (i = 0; i < d->nauto; i++)
		servers[n++] = d->auto_servers[i];
	rc->relay_servers = servers;
	rc->nrelay = n;
}

static void relay_policy_text(struct daemon *d)
{
	struct relay_policy p = d->cfg->relay;
	int i;

	for (i = 0; i < d->nauto && p.nservers < RELAY_MAX_LISTED; i++)
		p.servers[p.nservers++] = d->auto_servers[i];
	config_relay_str(&p, d->relay_policy, sizeof(d->relay_policy));
}

static void relay_rules_apply(struct daemon *d)
{
	uint32_t servers[2 * RELAY_MAX_LISTED];
	struct rules_cfg rc;

	relay_policy_text(d);
	if (!d->rules_installed || !d->relay)
		return;
	relay_rules_cfg(d, &rc, servers);
	rules_relay_update(&rc);
}

/*
 * "auto": the translator saw a server fail to cope on a translated control
 * connection (a call beyond its Maximum Channels, or a second call refused).
 * That call fails through translation; the server's next control
 * connections are relayed.
 */
static void relay_auto(struct daemon *d, const struct conn *conn, int ncalls)
{
	char a[16], b[16];

	/* A server behind the NAT (port-forwarded) is not ours to relay. */
	if (server_relayed(d, conn->outside) || !conn->inside_opened)
		return;
	if (!d->cfg->relay.automatic || !d->relay) {
		char why[160];

		log_info("server %s: %s %s; that call fails through "
			 "translation (\"--relay auto\" would relay this server)",
			 ip4_str(conn->outside, b), ip4_str(conn->inside, a),
			 cope_signal(conn, ncalls, why, sizeof(why)));
		return;
	}
	if (d->nauto == RELAY_MAX_LISTED) {
		log_warn("relay auto: %d servers chosen already; %s is not "
			 "added", d->nauto, ip4_str(conn->outside, b));
		return;
	}
	d->auto_servers[d->nauto++] = conn->outside;
	log_notice_auto(conn, ncalls);
	relay_rules_apply(d);
}

static void on_event(void *arg, enum gw_event ev, const struct call *c,
		     const struct conn *conn, int detail)
{
	struct daemon *d = arg;
	char a[16], b[16];

	if (ev == GWE_GRE_STRAY || ev == GWE_GRE_STRAY_DROPPED) {
		static struct log_rl rl;

		log_limited(&rl, LOG_DEBUG, "GRE %s -> %s call %d matches no "
			    "call: %s", ip4_str(d->gw.stray_src, a),
			    ip4_str(d->gw.stray_dst, b), detail,
			    ev == GWE_GRE_STRAY ? "passed to this host" :
			    "dropped (nothing here reads GRE)");
		return;
	}
	if (ev == GWE_OVER_LIMIT) {
		relay_auto(d, conn, detail);
		return;
	}
	if (ev == GWE_CONN_BROKEN) {
		log_warn("control connection %s:%u - %s:%u: %s; its data is "
			 "dropped from now on", ip4_str(conn->inside, a),
			 conn->inside_port, ip4_str(conn->outside, b),
			 conn->outside_port, pptp_strerror(detail));
		return;
	}
	ip4_str(c->inside, a);
	ip4_str(c->outside, b);
	switch (ev) {
	case GWE_CALL_NEW:
		log_info("call %s:%u -> %s alias %u new", a, c->inside_id, b,
			 c->alias);
		break;
	case GWE_CALL_UP:
		log_info("call %s:%u -> %s:%u alias %u up", a, c->inside_id,
			 b, c->peer_id, c->alias);
		break;
	case GWE_CALL_END:
		log_info("call %s:%u -> %s:%u alias %u ended (%s), %llu/%llu "
			 "packets out/in", a, c->inside_id, b, c->peer_id,
			 c->alias, call_end_name(detail),
			 (unsigned long long)c->pkts[DIR_OUT],
			 (unsigned long long)c->pkts[DIR_IN]);
		break;
	case GWE_CALL_REFUSED:
		log_warn("call %s:%u -> %s refused: call table full (%u calls)",
			 a, c->inside_id, b, d->cfg->tab.max_calls);
		break;
	default:
		break;
	}
}

/* ---- queue ------------------------------------------------------------------ */

static int is_wan(const struct daemon *d, unsigned ifindex)
{
	int i;

	for (i = 0; i < d->cfg->nwan; i++)
		if (ifindex && d->wan_ifindex[i] == ifindex)
			return 1;
	return 0;
}

static void on_packet(void *arg, const struct nfq_packet *np)
{
	struct daemon *d = arg;
	struct gw_meta m;
	struct gw_pkt *p;

	memset(&m, 0, sizeof(m));
	/* Already been through us: rules without our RETURN rule must not
	 * make it loop. */
	if ((np->mark & d->cfg->gw.mark) == d->cfg->gw.mark) {
		nfq_verdict(d->nfq, np->id, NFQ_ACCEPT, 0, NULL, 0);
		return;
	}
	if (is_wan(d, np->outdev))
		m.dir = DIR_OUT;
	else if (is_wan(d, np->indev))
		m.dir = DIR_IN;
	else {
		/* Not crossing a WAN interface: not ours to translate. */
		nfq_verdict(d->nfq, np->id, NFQ_REPEAT, np->mark | d->cfg->gw.mark,
			    NULL, 0);
		return;
	}
	if (d->relay && relayio_gre(d->relay, np->data, np->len) !=
	    RL_GRE_NOT_MINE) {
		/* The relay took it (or counted it as bad): never forwarded. */
		nfq_verdict(d->nfq, np->id, NFQ_DROP, 0, NULL, 0);
		return;
	}
	p = malloc(sizeof(*p) + np->len);
	if (!p) {
		/* Out of memory: drop, which never leaks anything. */
		nfq_verdict(d->nfq, np->id, NFQ_DROP, 0, NULL, 0);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->id = np->id;
	p->data = (uint8_t *)(p + 1);
	p->len = np->len;
	p->user = np->mark;
	memcpy(p->data, np->data, np->len);
	gw_input(&d->gw, p, &m, now_ms());
}

static int on_nat_lookup(void *arg, const struct conn *c, uint32_t *pub,
			 uint16_t *pub_port, uint8_t *inside_opened)
{
	struct daemon *d = arg;
	int opened;

	if (!d->ctq)
		return -1;
	/* Try the likely direction first; a flow picked up mid-stream may
	 * have been opened by either side. */
	for (opened = c->inside_opened; ; opened = !opened) {
		if (ct_lookup_nat(d->ctq, opened, c->inside, c->inside_port,
				  c->outside, c->outside_port, pub,
				  pub_port) == 0) {
			*inside_opened = (uint8_t)opened;
			return 0;
		}
		if (opened != c->inside_opened) {
			char a[16], b[16];

			log_debug("no conntrack entry for %s:%u - %s:%u yet",
				  ip4_str(c->inside, a), c->inside_port,
				  ip4_str(c->outside, b), c->outside_port);
			return -1;
		}
	}
}

/*
 * Does a raw socket of protocol 47 exist in this network namespace (a PPTP
 * client on this host)?  /proc/net/raw shows a raw socket's protocol as its
 * local "port".  Strays are rare; the answer is kept for a second anyway.
 */
static int on_local_gre(void *arg)
{
	static uint64_t checked;
	static int answer;
	uint64_t now = now_ms();
	char line[256];
	unsigned proto;
	FILE *f;

	(void)arg;
	if (checked && now - checked < 1000)
		return answer;
	checked = now;
	answer = 0;
	f = fopen("/proc/net/raw", "r");
	if (!f)
		return answer;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%x", &proto) == 1 &&
		    proto == IPPROTO_GRE_)
			answer = 1;
	fclose(f);
	return answer;
}

/* The relay must not take a client's Call ID that a translated call's
 * server chose for the same client and server. */
static int on_relay_id_busy(void *arg, uint32_t client, uint32_t server,
			    uint16_t id)
{
	struct daemon *d = arg;

	return call_by_peer(&d->gw.tab, client, server, id) != NULL;
}

static void on_ct_gone(void *arg, const struct ct_tuple *t)
{
	struct daemon *d = arg;
	uint64_t now = now_ms();

	/* Inside host opened it (SNAT) or the outside did (port forward). */
	gw_conn_gone(&d->gw, t->orig_src, t->orig_sport, t->orig_dst,
		     t->orig_dport, now);
	gw_conn_gone(&d->gw, t->reply_src, t->reply_sport, t->orig_src,
		     t->orig_sport, now);
}

/* ---- control socket ---------------------------------------------------------- */

/* The kernel's own drop counters for our queue. */
static void queue_drops(unsigned num, uint64_t *full, uint64_t *user)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned long long q, pid, total, mode, range, drop, udrop;

	*full = *user = 0;
	if (!f)
		return;
	while (fscanf(f, "%llu %llu %llu %llu %llu %llu %llu %*[^\n]", &q,
		      &pid, &total, &mode, &range, &drop, &udrop) == 7) {
		if (q == num) {
			*full = drop;
			*user = udrop;
		}
	}
	fclose(f);
}

static int ctl_reload(void *arg, char *msg, size_t n);

static void fill_info(struct daemon *d, struct report_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->version = PPTPGW_VERSION;
	ri->started_ms = d->started;
	ri->now_ms = now_ms();
	ri->rules_installed = d->rules_installed;
	ri->queue_errors = nfq_errors(d->nfq);
	queue_drops(d->cfg->queue, &ri->queue_dropped, &ri->queue_user_dropped);
	ri->wan = d->wan_list;
	ri->reload = ctl_reload;
	ri->arg = d;
	ri->relay = d->relay ? relayio_relay(d->relay) : NULL;
	ri->relay_policy = d->relay_policy;
}

/* ---- metrics ---------------------------------------------------------------- */

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *out = evbuffer_new();
	struct report_info ri;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		evbuffer_free(out);
		return;
	}
	fill_info(d, &ri);
	f = open_memstream(&text, &len);
	if (f) {
		report_metrics(f, &d->gw, &ri);
		fclose(f);
		evbuffer_add(out, text, len);
		free(text);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static void on_http_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "see /metrics");
}

static int metrics_open(struct daemon *d)
{
	char host[64];
	const char *colon;
	unsigned long port;
	char *end;

	if (!strcmp(d->cfg->metrics, "off"))
		return 0;
	colon = strrchr(d->cfg->metrics, ':');
	if (!colon || (size_t)(colon - d->cfg->metrics) >= sizeof(host) ||
	    (port = strtoul(colon + 1, &end, 10)) == 0 || *end || port > 65535) {
		log_err("metrics address '%s' is not ADDR:PORT", d->cfg->metrics);
		return -1;
	}
	memcpy(host, d->cfg->metrics, (size_t)(colon - d->cfg->metrics));
	host[colon - d->cfg->metrics] = 0;
	d->http = evhttp_new(d->base);
	if (!d->http ||
	    evhttp_bind_socket(d->http, host, (uint16_t)port) < 0) {
		log_err("metrics: cannot listen on %s: %s", d->cfg->metrics,
			strerror(errno));
		return -1;
	}
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET);
	evhttp_set_cb(d->http, "/metrics", on_metrics, d);
	evhttp_set_gencb(d->http, on_http_other, d);
	return 0;
}

static void ctl_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void ctl_error(struct bufferevent *bev, short what, void *arg);

static void ctl_read(struct bufferevent *bev, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF);
	struct report_info ri;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!line) {
		if (evbuffer_get_length(in) > 1024)
			bufferevent_free(bev);
		return;
	}
	fill_info(d, &ri);
	f = open_memstream(&text, &len);
	if (f) {
		report_command(f, &d->gw, &ri, line);
		fclose(f);
		bufferevent_write(bev, text, len);
		free(text);
	}
	free(line);
	/* The error callback stays: a client gone before the answer drains
	 * must not leak the connection. */
	bufferevent_setcb(bev, NULL, ctl_written, ctl_error, d);
	bufferevent_disable(bev, EV_READ);
}

static void ctl_error(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static const struct timeval ctl_timeout = { 5, 0 };

static void ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
		       struct sockaddr *sa, int len, void *arg)
{
	struct daemon *d = arg;
	struct bufferevent *bev;

	(void)l;
	(void)sa;
	(void)len;
	bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	/* A client that never finishes its line is dropped after 5 s. */
	bufferevent_set_timeouts(bev, &ctl_timeout, &ctl_timeout);
	bufferevent_setcb(bev, ctl_read, NULL, ctl_error, d);
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

static int ctl_open(struct daemon *d)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(d->cfg->ctl_path) >= sizeof(sun.sun_path)) {
		log_err("control socket path too long: %s", d->cfg->ctl_path);
		return -1;
	}
	strcpy(sun.sun_path, d->cfg->ctl_path);
	make_parent_dir(d->cfg->ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_err("another pptpgw answers on %s", d->cfg->ctl_path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(d->cfg->ctl_path);
	d->ctl = evconnlistener_new_bind(d->base, ctl_accept, d,
					 LEV_OPT_CLOSE_ON_FREE |
					 LEV_OPT_CLOSE_ON_EXEC, 16,
					 (struct sockaddr *)&sun, sizeof(sun));
	if (!d->ctl) {
		log_err("control socket %s: %s", d->cfg->ctl_path,
			strerror(errno));
		return -1;
	}
	/* Root and the pptpgw group only: the socket can clear calls. */
	chmod(d->cfg->ctl_path, 0660);
	return 0;
}

/* ---- loop ------------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	gw_tick(&d->gw, now_ms());
}

/* Settings a running gateway cannot take over: they need a restart. */
static const char *restart_only(const struct daemon_cfg *a,
				const struct daemon_cfg *b)
{
	if (a->nwan != b->nwan || memcmp(a->wan, b->wan, sizeof(a->wan)))
		return "wan";
	if (a->queue != b->queue)
		return "queue";
	if (a->no_rules != b->no_rules)
		return "rules";
	if (a->gw.mark != b->gw.mark)
		return "mark";
	if (a->tab.max_calls != b->tab.max_calls)
		return "max_calls";
	if (a->tab.max_conns != b->tab.max_conns)
		return "max_conns";
	if (strcmp(a->ctl_path, b->ctl_path))
		return "socket";
	if (strcmp(a->metrics, b->metrics))
		return "metrics listen";
	if (a->use_syslog != b->use_syslog)
		return "syslog";
	if (a->relay.port != b->relay.port)
		return "relay port";
	if (relay_wanted(a) != relay_wanted(b))
		return "relay on or off";
	if (a->rl.max_calls != b->rl.max_calls ||
	    a->rl.max_conns != b->rl.max_conns)
		return "relay max_calls or max_conns";
	return NULL;
}

/*
 * SIGHUP: read the configuration again.  A bad file changes nothing; a good
 * one takes effect at once for timeouts, hold-down and log level, without
 * touching a call.
 */
static int reload(struct daemon *d, char *msg, size_t msglen)
{
	struct daemon_cfg n;
	const char *what;
	char err[400];

	if (!d->cfg->reload || d->cfg->reload(&n, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "reload refused, the running "
			 "configuration stays: %s",
			 d->cfg->reload ? err : "nothing to reload");
		log_err("%s", msg);
		return -1;
	}
	what = restart_only(d->cfg, &n);
	if (what) {
		snprintf(msg, msglen, "reload refused: '%s' changed, which "
			 "needs a restart; the running configuration stays",
			 what);
		log_err("%s", msg);
		return -1;
	}
	n.gw.mark = d->cfg->gw.mark;
	d->gw.cfg = n.gw;
	d->gw.tab.cfg.holddown_ms = n.tab.holddown_ms;
	alias_set_holddown(&d->gw.aliases, n.tab.holddown_ms);
	log_set_level(n.log_level);
	*d->cfg = n;
	if (d->relay) {
		struct relay *rl = relayio_relay(d->relay);

		/* Timers apply from now on, to every connection and call. */
		n.rl.seed = rl->cfg.seed;
		rl->cfg = n.rl;
		relay_rules_apply(d);
	}
	snprintf(msg, msglen, "configuration reloaded; %u calls kept",
		 d->gw.tab.ncalls_used);
	log_info("%s", msg);
	return 0;
}

static int ctl_reload(void *arg, char *msg, size_t n)
{
	return reload(arg, msg, n);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		char msg[512];

		reload(d, msg, sizeof(msg));
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(d->base);
}

static void libevent_log(int severity, const char *msg)
{
	log_msg(severity >= EVENT_LOG_ERR ? LOG_ERR : LOG_DEBUG, "libevent: %s",
		msg);
}

static int resolve_wans(struct daemon *d)
{
	int i;
	size_t off = 0;

	for (i = 0; i < d->cfg->nwan; i++) {
		d->wan_ifindex[i] = if_nametoindex(d->cfg->wan[i]);
		if (!d->wan_ifindex[i]) {
			log_err("WAN interface %s: no such interface",
				d->cfg->wan[i]);
			return -1;
		}
		off += (size_t)snprintf(d->wan_list + off,
					sizeof(d->wan_list) - off, "%s%s",
					i ? "," : "", d->cfg->wan[i]);
		if (off >= sizeof(d->wan_list))
			off = sizeof(d->wan_list) - 1;
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	/* The relay says goodbye to its peers while its rules still hold. */
	relayio_stop(d->relay);
	d->relay = NULL;
	/* Rules first: from then on packets take the host's normal path. */
	if (d->rules_installed)
		rules_uninstall(relay_wanted(d->cfg));
	if (d->nfq)
		gw_destroy(&d->gw);
	if (d->http)
		evhttp_free(d->http);
	if (d->ctl) {
		evconnlistener_free(d->ctl);
		unlink(d->cfg->ctl_path);
	}
	ctev_stop(d->ctev);
	ct_query_close(d->ctq);
	nfq_stop(d->nfq);
	if (d->tick)
		event_free(d->tick);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->base)
		event_base_free(d->base);
}

int daemon_run(struct daemon_cfg *cfg)
{
	struct daemon dd, *d = &dd;
	struct gw_hooks hooks = { on_verdict, on_event, on_nat_lookup, d,
				  on_local_gre };
	struct calltab_cfg tab = cfg->tab;
	struct timeval tv = { 0, 250000 };
	struct rules_cfg rc;
	uint32_t servers[2 * RELAY_MAX_LISTED];
	char why[256];
	int rc_exit = 1;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->started = now_ms();
	event_set_log_callback(libevent_log);
	if (resolve_wans(d) < 0)
		return 1;
	if (rules_helper_conflict(why, sizeof(why))) {
		log_err("refusing to start: the kernel PPTP helper is in use on "
			"this host: %s. Both would rewrite the same Call IDs; "
			"remove the helper rule first.", why);
		return 1;
	}
	if (getrandom(&tab.seed, sizeof(tab.seed), 0) != sizeof(tab.seed))
		tab.seed = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
	if (relay_wanted(cfg))
		tab.max_reserved = cfg->rl.max_calls;
	d->base = event_base_new();
	if (!d->base || gw_init(&d->gw, &cfg->gw, &tab, &hooks) < 0) {
		log_err("out of memory");
		goto out;
	}
	d->nfq = nfq_start(d->base, cfg->queue, cfg->queue_maxlen, on_packet,
			   d);
	if (!d->nfq) {
		gw_destroy(&d->gw);
		goto out;
	}
	d->ctq = ct_query_open();
	if (!d->ctq) {
		log_err("cannot open conntrack (is nf_conntrack_netlink "
			"available?): %s", strerror(errno));
		goto out;
	}
	d->ctev = ctev_start(d->base, on_ct_gone, d);
	if (!d->ctev)
		log_warn("no conntrack events: dead connections end by timeout");
	if (ctl_open(d) < 0 || metrics_open(d) < 0)
		goto out;
	if (relay_wanted(cfg)) {
		d->relay = relayio_start(d->base, &cfg->rl, cfg->relay.port,
					 &d->gw.aliases, on_relay_id_busy, d);
		if (!d->relay)
			goto out;
	}
	relay_policy_text(d);
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	if (!d->tick || !d->sig_term || !d->sig_int || !d->sig_hup ||
	    event_add(d->tick, &tv) < 0 || event_add(d->sig_term, NULL) < 0 ||
	    event_add(d->sig_int, NULL) < 0 || event_add(d->sig_hup, NULL) < 0)
		goto out;
	if (!cfg->no_rules) {
		relay_rules_cfg(d, &rc, servers);
		if (rules_install(&rc) < 0)
			goto out;
		d->rules_installed = 1;
	}
	log_info("pptpgw %s running: WAN %s, queue %u, rules %s, control %s, "
		 "metrics %s, relay %s", PPTPGW_VERSION, d->wan_list, cfg->queue,
		 d->rules_installed ? "installed" : "left to the admin",
		 cfg->ctl_path, cfg->metrics, d->relay_policy);
	event_base_dispatch(d->base);
	rc_exit = 0;
out:
	teardown(d);
	return rc_exit;
}
