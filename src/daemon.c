/*
 * The daemon wires the modules together: the queue hands packets to the
 * relay or the translator, conntrack tells the translator of dead flows,
 * the control socket and /metrics read the engines, the relay policy turns
 * the translator's "this server fails to cope" into rules, and SIGHUP
 * reloads.  The work itself happens in the modules.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/random.h>
#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "precheck.h"
#include "sdnotify.h"
#include "statekeep.h"
#include "ctl/ctlsock.h"
#include "ctl/metrics.h"
#include "ctl/report.h"
#include "io/ct.h"
#include "io/fastpath.h"
#include "io/hostgre.h"
#include "io/packetpath.h"
#include "io/queue.h"
#include "io/relayio.h"
#include "io/rules.h"
#include "relay/policy.h"
#include "wire/pkt.h"
#include "xlate/gw.h"

struct daemon {
	struct pptpgw_cfg *cfg;
	struct event_base *base;
	struct gw gw;
	struct queue *queue;
	struct ctev *ctev;
	struct ct_query *ctq;
	struct ctlsock *ctl;
	struct metrics *metrics;
	struct event *tick, *sig_term, *sig_int, *sig_hup;
	struct packetpath path;
	char wan_list[128];
	int rules_installed;
	uint64_t rules_restored; /* times our jumps were put back on top */
	uint64_t rules_checked;  /* when they were last looked at (ms) */
	uint64_t started;
	struct relayio *relay;
	struct relay_select relayed;
	char relay_policy[CONFIG_RELAY_STRLEN];
	struct hostgre hostgre;
	struct fastpath *fast;
	char fast_state[160];    /* "on", or why not */
	struct statekeep *sk;    /* the saved call table, NULL: off */
	int keep;                /* stopping with calls kept: rules stay */
	int stop_signal;         /* what stopped the loop */
};

/* ---- translator hooks ------------------------------------------------------ */

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	struct daemon *d = arg;

	(void)mark;
	/* A control segment (the only packets copied) moved a stream. */
	if (p->on_heap)
		statekeep_dirty(d->sk);
	packetpath_verdict(&d->path, p, v);
}

/* ---- relay policy ------------------------------------------------------------ */

/* What the server did, for the log: went over its own limit, or refused. */
static const char *cope_signal(const struct conn *conn, uint32_t ncalls,
			       char *buf, size_t n)
{
	if (conn->max_channels && ncalls >= conn->max_channels)
		snprintf(buf, n, "asked for call %u on one connection, the "
			 "server allows %u (Maximum Channels in its start "
			 "reply)", ncalls + 1, conn->max_channels);
	else
		snprintf(buf, n, "was refused call %u on one connection while "
			 "another was up", ncalls + 1);
	return buf;
}

static void relay_rules_cfg(struct daemon *d, struct rules_cfg *rc,
			    uint32_t servers[RELAY_SELECT_MAX])
{
	int i;

	memset(rc, 0, sizeof(*rc));
	for (i = 0; i < d->cfg->nwan; i++)
		rc->wan[i] = d->cfg->wan[i];
	rc->nwan = d->cfg->nwan;
	rc->queue = d->cfg->queue;
	rc->mark = d->cfg->gw.mark;
	rc->relay = config_relay_wanted(d->cfg);
	rc->relay_all = d->cfg->relay.all;
	rc->relay_port = d->cfg->relay.port;
	rc->relay_servers = servers;
	rc->nrelay = relay_select_servers(&d->relayed, servers);
	rc->gre_untracked = fastpath_untracks_gre(d->fast);
}

/* The relay policy changed: its text, and the rules if ours. */
static void relay_rules_apply(struct daemon *d)
{
	uint32_t servers[RELAY_SELECT_MAX];
	struct rules_cfg rc;

	relay_select_str(&d->relayed, d->relay_policy,
			 sizeof(d->relay_policy));
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
static void relay_auto(struct daemon *d, const struct conn *conn,
		       uint32_t ncalls)
{
	char a[16], b[16], why[160];

	/* A server behind the NAT (port-forwarded) is not ours to relay. */
	if (!conn->inside_opened)
		return;
	ip4_str(conn->inside, a);
	ip4_str(conn->outside, b);
	switch (relay_select_auto(&d->relayed, conn->outside, d->relay != NULL)) {
	case RELAY_AUTO_ALREADY:
		break;
	case RELAY_AUTO_OFF: {
		/* Told for each such request: an inside host asking for
		 * calls by the hundred on one connection (each also refused,
		 * or dropped and sent again) must not write a line each. */
		static struct log_sec ls;

		log_per_second(&ls, LOG_INFO, "server %s: %s %s; that call "
			       "fails through translation (\"--relay auto\" "
			       "would relay this server)", b, a,
			       cope_signal(conn, ncalls, why, sizeof(why)));
		break;
	}
	case RELAY_AUTO_FULL:
		log_warn("relay auto: %d servers chosen already; %s is not "
			 "added", d->relayed.nchosen, b);
		break;
	case RELAY_AUTO_ADDED:
		log_msg(LOG_NOTICE, "relay auto: relaying %s from its next "
			"control connection on: %s %s", b, a,
			cope_signal(conn, ncalls, why, sizeof(why)));
		relay_rules_apply(d);
		break;
	}
}

static void log_call(const struct gw_event *ev)
{
	const struct call *c = ev->call;
	char a[16], b[16];

	ip4_str(c->inside, a);
	ip4_str(c->outside, b);
	switch (ev->type) {
	case GWE_CALL_NEW:
		log_info("call %s:%u -> %s alias %u new", a, c->inside_id, b,
			 c->alias);
		break;
	case GWE_CALL_UP:
		log_info("call %s:%u -> %s:%u alias %u up", a, c->inside_id,
			 b, c->peer_id, c->alias);
		break;
	case GWE_CALL_NO_GRE_BACK:
		log_warn("call %s:%u -> %s:%u alias %u: %llu GRE packets sent "
			 "in %u s, none came back (an upstream NAT without PPTP "
			 "support, or a firewall dropping GRE?); see pptpgwctl "
			 "diagnose", a, c->inside_id, b, c->peer_id, c->alias,
			 (unsigned long long)c->pkts[DIR_OUT],
			 GW_GRE_BACK_MS / 1000);
		break;
	case GWE_CALL_END:
		log_info("call %s:%u -> %s:%u alias %u ended (%s), %llu/%llu "
			 "packets out/in", a, c->inside_id, b, c->peer_id,
			 c->alias, call_end_name(ev->end),
			 (unsigned long long)c->pkts[DIR_OUT],
			 (unsigned long long)c->pkts[DIR_IN]);
		break;
	default:
		break;
	}
}

/*
 * A connection or call refused by a limit: one line a second per reason
 * at most, whoever floods, naming the host it counts against.
 */
static void log_refusal(const struct daemon *d, const struct gw_event *ev)
{
	static struct log_sec ls[GC_COUNT];
	const struct gw_cfg *gc = &d->cfg->gw;
	struct log_sec *l = &ls[ev->limit < GC_COUNT ? ev->limit : 0];
	char h[16], b[16];

	ip4_str(ev->host, h);
	switch (ev->limit) {
	case GC_CTRL_CONN_HOST_LIMIT:
		log_per_second(l, LOG_WARNING, "host %s: new control connection "
			       "refused: it has %u (conns_per_host)", h,
			       gc->conns_per_host);
		break;
	case GC_CTRL_HALF_OPEN_HOST_LIMIT:
		log_per_second(l, LOG_WARNING, "host %s: new control connection "
			       "refused: %u of its connections are not answered "
			       "yet (half_open_per_host)", h,
			       gc->half_open_per_host);
		break;
	case GC_CTRL_HALF_OPEN_LIMIT:
		log_per_second(l, LOG_WARNING, "host %s: new control connection "
			       "refused: %u connections are not answered yet "
			       "(half_open)", h, gc->half_open_max);
		break;
	case GC_CTRL_PENDING_HOST_LIMIT:
		log_per_second(l, LOG_WARNING, "host %s: control segment "
			       "dropped: %u of its segments are waiting for "
			       "their verdicts (pending_per_host)", h,
			       gc->pending_per_host);
		break;
	case GC_CTRL_PENDING_LIMIT:
		log_per_second(l, LOG_WARNING, "host %s: control segment "
			       "dropped: %u segments are waiting for their "
			       "verdicts (pending)", h, gc->pending_max);
		break;
	case GC_CALLS_HOST_LIMIT:
		if (ev->call) {
			ip4_str(ev->call->outside, b);
			log_per_second(l, LOG_WARNING, "host %s: call %u -> %s "
				       "refused: it has %u calls "
				       "(calls_per_host)", h,
				       ev->call->inside_id, b,
				       gc->calls_per_host);
		} else {
			log_per_second(l, LOG_WARNING, "host %s: call request "
				       "dropped: it has %u calls "
				       "(calls_per_host) and %u refusals "
				       "waiting", h, gc->calls_per_host,
				       (unsigned)GW_HOST_REFUSALS);
		}
		break;
	case GC_CTRL_RETRANS_CHANGED:
		log_per_second(l, LOG_WARNING, "host %s: control segment "
			       "dropped: a retransmission to %s whose bytes "
			       "differ from those first sent there", h,
			       ev->conn ? ip4_str(ev->conn->inside == ev->host ?
			       ev->conn->outside : ev->conn->inside, b) : "?");
		break;
	case GC_CTRL_BAD_CHECKSUM:
		log_per_second(l, LOG_WARNING, "host %s: control segment "
			       "dropped unread: wrong TCP checksum", h);
		break;
	case GC_CALLS_REFUSED:
		ip4_str(ev->call->outside, b);
		log_per_second(l, LOG_WARNING, "call %s:%u -> %s refused: call "
			       "table full (%u calls)",
			       ip4_str(ev->call->inside, h),
			       ev->call->inside_id, b, d->cfg->tab.max_calls);
		break;
	default:
		break;
	}
}

static void on_fast_count(void *arg, uint32_t slot, int dir, uint64_t pkts,
			  uint64_t bytes)
{
	struct daemon *d = arg;

	gw_call_traffic(&d->gw, slot, dir, pkts, bytes, now_ms());
}

/*
 * An established call goes into the kernel's maps before the message that
 * established it is passed on, so its GRE, which follows that message,
 * finds its entries there; an ended call's entries go before its alias
 * could be handed out again.
 */
static void fast_event(struct daemon *d, const struct gw_event *ev)
{
	uint32_t slot;
	struct call_xlat x;

	if (!d->fast || !ev->call)
		return;
	slot = call_slot(&d->gw.tab, ev->call);
	/*
	 * A call of this host itself stays on the queue: its GRE is
	 * delivered here, which the tc-BPF engine cannot forward, and it is
	 * one host's few calls.
	 */
	if (ev->type == GWE_CALL_UP && !call_is_local(ev->call)) {
		x = call_xlat(ev->call);
		if (fastpath_call_up(d->fast, slot, &x) == 0)
			gw_call_kernel(&d->gw, slot, 1);
	} else if (ev->type == GWE_CALL_END && fastpath_has(d->fast, slot)) {
		fastpath_call_end(d->fast, slot, on_fast_count, d);
		gw_call_kernel(&d->gw, slot, 0);
	}
}

static void on_event(void *arg, const struct gw_event *ev)
{
	struct daemon *d = arg;
	const struct conn *conn = ev->conn;
	char a[16], b[16];

	fast_event(d, ev);
	if (ev->call || ev->type == GWE_CONN_BROKEN)
		statekeep_dirty(d->sk);
	switch (ev->type) {
	case GWE_GRE_STRAY:
	case GWE_GRE_STRAY_DROPPED: {
		static struct log_rl rl;

		log_limited(&rl, LOG_DEBUG, "GRE %s -> %s call %u matches no "
			    "call: %s", ip4_str(ev->stray.src, a),
			    ip4_str(ev->stray.dst, b), ev->stray.call_id,
			    ev->type == GWE_GRE_STRAY ? "passed to this host" :
			    "dropped (nothing here reads GRE)");
		break;
	}
	case GWE_OVER_LIMIT:
		relay_auto(d, conn, ev->ncalls);
		break;
	case GWE_LIMIT_REFUSED:
	case GWE_CALL_REFUSED:
	case GWE_SEGMENT_DROPPED:
		log_refusal(d, ev);
		break;
	case GWE_CONN_BROKEN:
		log_warn("control connection %s:%u - %s:%u: %s; its data is "
			 "dropped from now on", ip4_str(conn->inside, a),
			 conn->inside_port, ip4_str(conn->outside, b),
			 conn->outside_port, pptp_strerror(ev->err));
		break;
	default:
		log_call(ev);
		break;
	}
}

static int on_nat_lookup(void *arg, const struct conn *c, uint32_t *pub,
			 uint16_t *pub_port, uint8_t *inside_opened)
{
	struct daemon *d = arg;
	char a[16], b[16];

	if (!d->ctq)
		return -1;
	if (ct_lookup_nat(d->ctq, c->inside, c->inside_port, c->outside,
			  c->outside_port, pub, pub_port, inside_opened) == 0)
		return 0;
	log_debug("no conntrack entry for %s:%u - %s:%u yet",
		  ip4_str(c->inside, a), c->inside_port,
		  ip4_str(c->outside, b), c->outside_port);
	return -1;
}

static int on_local_gre(void *arg)
{
	struct daemon *d = arg;

	return hostgre_reads(&d->hostgre, now_ms());
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

	statekeep_dirty(d->sk);
	/* Inside host opened it (SNAT) or the outside did (port forward). */
	gw_conn_gone(&d->gw, t->orig_src, t->orig_sport, t->orig_dst,
		     t->orig_dport, now);
	gw_conn_gone(&d->gw, t->reply_src, t->reply_sport, t->orig_src,
		     t->orig_sport, now);
}

struct alive_keys {
	struct gw_tcp_key *k;
	size_t n, cap;
	int nomem;
};

/* A flow conntrack has, as a record would be keyed: both placements. */
static void on_ct_alive(void *arg, const struct ct_tuple *t)
{
	struct alive_keys *a = arg;

	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 256;
		struct gw_tcp_key *k = realloc(a->k, cap * sizeof(*k));

		if (!k) {
			a->nomem = 1;
			return;
		}
		a->k = k;
		a->cap = cap;
	}
	a->k[a->n++] = (struct gw_tcp_key){ t->orig_src, t->orig_dst,
					    t->orig_sport, t->orig_dport };
	a->k[a->n++] = (struct gw_tcp_key){ t->reply_src, t->orig_src,
					    t->reply_sport, t->orig_sport };
}

/*
 * Destroy events were lost: a connection whose end went unheard would
 * keep its record, and block a new connection on its 4-tuple, until its
 * idle timeout.  Keep only what conntrack still has.
 */
static void on_ct_lost(void *arg)
{
	struct daemon *d = arg;
	struct alive_keys a = { 0 };
	uint32_t ended;

	if (ct_dump_pptp(on_ct_alive, &a) < 0 || a.nomem) {
		log_warn("conntrack events lost, and the table could not be "
			 "read: stale connections end by their idle timeout");
		free(a.k);
		return;
	}
	ended = gw_conn_sync(&d->gw, a.k, a.n, now_ms());
	statekeep_dirty(d->sk);
	log_warn("conntrack events lost (socket overflow): %u connection "
		 "record(s) conntrack no longer has removed, %zu flow(s) kept",
		 ended, a.n / 2);
	free(a.k);
}

/* ---- control socket and metrics ---------------------------------------------- */

static int ctl_reload(void *arg, char *msg, size_t n);

static void fill_info(struct daemon *d, struct report_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->version = PPTPGW_VERSION;
	ri->started_ms = d->started;
	ri->now_ms = now_ms();
	ri->rules_installed = d->rules_installed;
	ri->rules_restored = d->rules_restored;
	ri->queue_errors = queue_errors(d->queue);
	queue_kernel_drops(d->cfg->queue, &ri->queue_dropped,
			   &ri->queue_user_dropped);
	ri->wan = d->wan_list;
	ri->reload = ctl_reload;
	ri->arg = d;
	ri->relay = d->relay ? relayio_relay(d->relay) : NULL;
	ri->relay_policy = d->relay_policy;
	ri->fastpath = d->fast_state;
	ri->fp = fastpath_stats(d->fast);
	if (d->sk)
		ri->state = *statekeep_stats(d->sk);
}

static void on_command(void *arg, FILE *f, const char *line)
{
	struct daemon *d = arg;
	struct report_info ri;

	char why[256];

	fill_info(d, &ri);
	if (!strncmp(line, "diagnose", 8)) {
		ri.helper_attached = rules_helper_conflict(why, sizeof(why));
		ri.helper_why = why;
	}
	report_command(f, &d->gw, &ri, line);
}

static void on_metrics(void *arg, FILE *f)
{
	struct daemon *d = arg;
	struct report_info ri;

	fill_info(d, &ri);
	report_metrics(f, &d->gw, &ri);
}

/* ---- reload ------------------------------------------------------------------ */

/*
 * SIGHUP: read the configuration again.  A bad file changes nothing; a good
 * one takes effect at once for timeouts, hold-down and log level, without
 * touching a call.
 */
static int reload(struct daemon *d, char *msg, size_t msglen)
{
	struct pptpgw_cfg n;
	const char *what;
	char err[400];

	if (!d->cfg->reload || d->cfg->reload(&n, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "reload refused, the running "
			 "configuration stays: %s",
			 d->cfg->reload ? err : "nothing to reload");
		log_err("%s", msg);
		return -1;
	}
	what = config_restart_only(d->cfg, &n);
	if (what) {
		snprintf(msg, msglen, "reload refused: '%s' changed, which "
			 "needs a restart; the running configuration stays",
			 what);
		log_err("%s", msg);
		return -1;
	}
	gw_set_cfg(&d->gw, &n.gw, &n.tab);
	log_set_level(n.log_level);
	*d->cfg = n;
	relay_select_set_cfg(&d->relayed, &n.relay);
	if (d->relay) {
		/* Timers apply from now on, to every connection and call. */
		relayio_set_cfg(d->relay, &n.rl);
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

/* ---- loop ------------------------------------------------------------------- */

/*
 * The kernel's counters are read a slice of calls a tick (io/fastpath.c):
 * every call at least once a second up to 2,048 calls, less often beyond,
 * in steps of a few milliseconds.  A call's idle end waits for a read.
 */
static void fast_read(struct daemon *d)
{
	if (d->fast && fastpath_read(d->fast, on_fast_count, d) < 0) {
		static struct log_rl rl;

		log_limited(&rl, LOG_WARNING, "fast path: reading the "
			    "kernel's counters failed: %s", strerror(errno));
	}
}

/*
 * Every RULES_CHECK_MS: our jumps still on top of the built-in chains?  A
 * program started after pptpgw (libvirt, Docker, a firewall) puts its own
 * above them; libvirt's then rejects the translated GRE, which is
 * untracked.  The check runs iptables -S per table, a few milliseconds.
 */
#define RULES_CHECK_MS 5000

static void rules_check(struct daemon *d, uint64_t now)
{
	static struct log_rl rl;
	int n;

	if (!d->rules_installed || now - d->rules_checked < RULES_CHECK_MS)
		return;
	d->rules_checked = now;
	n = rules_keep_on_top();
	if (n > 0) {
		d->rules_restored += (unsigned)n;
		log_limited(&rl, LOG_WARNING, "rules: another program put "
			    "rules above pptpgw's in %d built-in chain(s) "
			    "(libvirt, Docker or a firewall starting after "
			    "pptpgw?): pptpgw's jumps are on top again", n);
	} else if (n < 0) {
		log_limited(&rl, LOG_WARNING, "rules: another program put "
			    "rules above pptpgw's, and putting pptpgw's back "
			    "on top failed: translated GRE may be refused");
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = now_ms();
	uint32_t nconns = d->gw.tab.nconns_used;

	(void)fd;
	(void)what;
	fast_read(d);
	gw_tick(&d->gw, now);
	rules_check(d, now);
	/* Calls that ended say so by events; connections may go quietly. */
	if (d->gw.tab.nconns_used != nconns)
		statekeep_dirty(d->sk);
	statekeep_flush(d->sk, &d->gw);
}

/* The queue is about to send verdicts: the state they imply goes first. */
static void on_presend(void *arg)
{
	struct daemon *d = arg;

	statekeep_flush(d->sk, &d->gw);
}

/*
 * The call table a killed or stopped pptpgw left: loaded, cut to the
 * control connections conntrack still has, and the established calls
 * given back to the kernel's maps.  Their streams are picked up where the
 * saved positions say; their aliases stay, so the GRE goes on.
 */
static void state_adopt(struct daemon *d)
{
	struct alive_keys a = { 0 };
	uint32_t i, gone = 0, inkernel = 0;
	uint64_t now = now_ms();

	if (!statekeep_load(d->sk, &d->gw))
		return;
	if (ct_dump_pptp(on_ct_alive, &a) < 0 || a.nomem)
		log_warn("state: conntrack cannot be read: every saved "
			 "connection is kept until its end is seen");
	else
		gone = gw_conn_sync(&d->gw, a.k, a.n, now);
	free(a.k);
	for (i = 0; d->fast && i < d->gw.tab.ncalls_cap; i++) {
		const struct call *c = &d->gw.tab.calls[i];
		struct call_xlat x;

		if (c->state != CALL_ESTABLISHED || call_is_local(c))
			continue;
		x = call_xlat(c);
		if (fastpath_call_up(d->fast, i, &x) == 0) {
			gw_call_kernel(&d->gw, i, 1);
			inkernel++;
		}
	}
	log_info("state: adopted %u control connections and %u calls (%u "
		 "connections gone from conntrack ended; %u calls in the "
		 "kernel's maps)", d->gw.tab.nconns_used, d->gw.tab.ncalls_used,
		 gone, inkernel);
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
	d->stop_signal = (int)sig;
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
		d->path.wan_ifindex[i] = if_nametoindex(d->cfg->wan[i]);
		if (!d->path.wan_ifindex[i]) {
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
	/* The maps go while the queue still translates what they did;
	 * calls kept for the next start keep theirs, and the rules. */
	if (d->keep)
		fastpath_leave(d->fast);
	else
		fastpath_close(d->fast);
	d->fast = NULL;
	/* Rules first: from then on packets take the host's normal path. */
	if (d->rules_installed && !d->keep)
		rules_uninstall(config_relay_wanted(d->cfg));
	statekeep_close(d->sk);
	d->sk = NULL;
	if (d->queue)
		gw_destroy(&d->gw);
	metrics_close(d->metrics);
	ctlsock_close(d->ctl);
	ctev_stop(d->ctev);
	ct_query_close(d->ctq);
	queue_stop(d->queue);
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

/* The periodic tick and the signals we act on. */
static int events_add(struct daemon *d)
{
	struct timeval tv = { 0, 250000 };

	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	if (!d->tick || !d->sig_term || !d->sig_int || !d->sig_hup ||
	    event_add(d->tick, &tv) < 0 || event_add(d->sig_term, NULL) < 0 ||
	    event_add(d->sig_int, NULL) < 0 || event_add(d->sig_hup, NULL) < 0)
		return -1;
	return 0;
}

static int translator_start(struct daemon *d)
{
	const struct gw_hooks hooks = {
		.arg = d,
		.verdict = on_verdict,
		.event = on_event,
		.nat_lookup = on_nat_lookup,
		.local_gre = on_local_gre,
	};
	struct calltab_cfg tab = d->cfg->tab;

	if (getrandom(&tab.seed, sizeof(tab.seed), 0) != sizeof(tab.seed))
		tab.seed = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
	if (config_relay_wanted(d->cfg))
		tab.max_reserved = d->cfg->rl.max_calls;
	if (gw_init(&d->gw, &d->cfg->gw, &tab, &hooks) < 0) {
		log_err("out of memory");
		return -1;
	}
	d->path.gw = &d->gw;
	d->path.mark = d->cfg->gw.mark;
	d->path.nwan = d->cfg->nwan;
	d->queue = queue_start(d->base, d->cfg->queue, d->cfg->queue_maxlen,
			       packetpath_input, &d->path);
	if (!d->queue) {
		gw_destroy(&d->gw);
		return -1;
	}
	d->path.queue = d->queue;
	queue_set_presend(d->queue, on_presend, d);
	return 0;
}

/* The kernel data plane, unless it is turned off or nftables cannot. */
static void fast_start(struct daemon *d)
{
	struct fastpath_cfg fc;
	char why[128];
	int i;

	if (d->cfg->no_fastpath) {
		/* a run that kept its calls may have left its engine */
		fastpath_remove_leftovers();
		snprintf(d->fast_state, sizeof(d->fast_state),
			 "off (turned off)");
		return;
	}
	memset(&fc, 0, sizeof(fc));
	for (i = 0; i < d->cfg->nwan && i < 8; i++)
		snprintf(fc.wan[i], sizeof(fc.wan[i]), "%s", d->cfg->wan[i]);
	fc.nwan = i;
	fc.mark = d->cfg->gw.mark;
	fc.slots = d->gw.tab.ncalls_cap;
	fc.engine = d->cfg->fast_engine == CFG_FAST_TC ? FP_ENGINE_TC :
		    d->cfg->fast_engine == CFG_FAST_NFT ? FP_ENGINE_NFT :
		    FP_ENGINE_AUTO;
	d->fast = fastpath_open(&fc, why, sizeof(why));
	if (!d->fast) {
		snprintf(d->fast_state, sizeof(d->fast_state),
			 "unavailable: %s", why);
		log_warn("fast path unavailable (%s): every GRE packet goes "
			 "through the queue", why);
		return;
	}
	snprintf(d->fast_state, sizeof(d->fast_state), "on (%s)",
		 fastpath_engine(d->fast));
}

/*
 * Stopping by SIGTERM (systemctl stop or restart, an upgrade): with
 * translated calls up and their state saved, the rules and the kernel's
 * maps stay, so the calls go on in the kernel and the queue stays closed
 * to everything else until the next start adopts them (pptpgw --cleanup
 * removes them when none is to come).  Without calls, or by SIGINT
 * (Ctrl-C), everything goes, the state file too: segments will pass
 * unseen, and a next start must not adopt streams that moved on.
 */
static void stop_keep(struct daemon *d)
{
	if (!d->sk)
		return;
	if (d->stop_signal != SIGINT && d->gw.tab.ncalls_used > 0) {
		statekeep_dirty(d->sk);
		d->keep = statekeep_flush(d->sk, &d->gw) == 0;
	}
	if (d->keep)
		log_info("stopping with %u translated calls saved in %s: the "
			 "rules and the kernel's maps stay for the next start",
			 d->gw.tab.ncalls_used, statekeep_path(d->sk));
	else
		statekeep_forget(d->sk);
	/* Held segments are dropped below: no more writes. */
	statekeep_close(d->sk);
	d->sk = NULL;
}

/* systemd (Type=notify): started, and what it runs. */
static void notify_ready(struct daemon *d)
{
	char msg[1600];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=translating PPTP on WAN "
		 "%s; relay %s; fast path %s", d->wan_list, d->relay_policy,
		 d->fast_state);
	sd_notify_send(msg);
}

/* The start failed: systemctl status shows why (the log says more). */
static int start_failed(const char *why, int code)
{
	char msg[320];

	snprintf(msg, sizeof(msg), "STATUS=not started: %s", why);
	sd_notify_send(msg);
	return code;
}

int daemon_run(struct pptpgw_cfg *cfg)
{
	struct daemon dd, *d = &dd;
	struct rules_cfg rc;
	uint32_t servers[RELAY_SELECT_MAX];
	char why[256];
	int rc_exit = 1;
	sigset_t stops;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	/*
	 * A peer that goes away before its answer (pptpgwctl, a /metrics
	 * scraper, a relayed client) must cost a write error, not the process:
	 * libevent writes sockets with writev, which raises SIGPIPE.
	 */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A stop during the start (systemctl stop while activating) must not
	 * kill the process half way, with rules or kernel entries in place:
	 * the signals wait until the loop that acts on them runs, and a stop
	 * then undoes everything the start did.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, NULL);
	d->started = now_ms();
	relay_select_init(&d->relayed, &cfg->relay);
	event_set_log_callback(libevent_log);
	if (precheck_wans(cfg, why, sizeof(why)) < 0) {
		log_err("%s", why);
		return start_failed(why, EXIT_CONFIG);
	}
	if (resolve_wans(d) < 0)
		return start_failed("WAN interface missing", EXIT_CONFIG);
	if (rules_helper_conflict(why, sizeof(why))) {
		log_err("refusing to start: the kernel PPTP helper is in use on "
			"this host: %s. Both would rewrite the same Call IDs; "
			"remove the helper rule first.", why);
		return start_failed("the kernel PPTP helper is in use",
				    EXIT_CONFIG);
	}
	if (precheck_queue(cfg->queue, why, sizeof(why)) < 0) {
		log_err("refusing to start: %s", why);
		return start_failed("queue in use", EXIT_CONFIG);
	}
	d->base = event_base_new();
	if (!d->base) {
		log_err("out of memory");
		goto out;
	}
	d->sk = statekeep_open(cfg->state_path);
	if (translator_start(d) < 0)
		goto out;
	d->ctq = ct_query_open();
	if (!d->ctq) {
		log_err("cannot open conntrack (is nf_conntrack_netlink "
			"available?): %s", strerror(errno));
		goto out;
	}
	d->ctev = ctev_start(d->base, on_ct_gone, on_ct_lost, d);
	if (!d->ctev)
		log_warn("no conntrack events: dead connections end by timeout");
	d->ctl = ctlsock_open(d->base, cfg->ctl_path, on_command, d);
	if (!d->ctl)
		goto out;
	if (strcmp(cfg->metrics, "off") &&
	    !(d->metrics = metrics_open(d->base, cfg->metrics, on_metrics, d)))
		goto out;
	if (config_relay_wanted(cfg)) {
		d->relay = relayio_start(d->base, &cfg->rl, cfg->relay.port,
					 &d->gw.aliases, on_relay_id_busy, d);
		if (!d->relay)
			goto out;
		relayio_set_mark(d->relay, cfg->gw.mark);
		d->path.relay = d->relay;
	}
	relay_select_str(&d->relayed, d->relay_policy, sizeof(d->relay_policy));
	fast_start(d);
	state_adopt(d);
	if (events_add(d) < 0)
		goto out;
	if (!cfg->no_rules) {
		relay_rules_cfg(d, &rc, servers);
		if (rules_install(&rc) < 0)
			goto out;
		d->rules_installed = 1;
	}
	log_info("pptpgw %s running: WAN %s, queue %u, rules %s, control %s, "
		 "metrics %s, relay %s, fast path %s", PPTPGW_VERSION,
		 d->wan_list, cfg->queue,
		 d->rules_installed ? "installed" : "left to the admin",
		 cfg->ctl_path, cfg->metrics, d->relay_policy, d->fast_state);
	notify_ready(d);
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
	event_base_dispatch(d->base);
	sd_notify_send("STOPPING=1");
	stop_keep(d);
	rc_exit = 0;
out:
	teardown(d);
	if (rc_exit)
		start_failed("see the log", rc_exit);
	return rc_exit;
}
