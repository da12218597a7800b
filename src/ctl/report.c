#include "ctl/report.h"
#include "ctl/diagnose.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wire/pkt.h"

static void status_counts(const struct gw *g, unsigned n[CALL_STATE_COUNT])
{
	uint32_t i;

	memset(n, 0, sizeof(unsigned) * CALL_STATE_COUNT);
	for (i = 0; i < g->tab.ncalls_cap; i++)
		n[g->tab.calls[i].state]++;
}

/* Relayed calls by state; all zero without a relay. */
static void relay_counts(const struct relay *r, unsigned n[RLK_STATE_COUNT])
{
	uint32_t i, end = r ? relay_call_slots(r) : 0;
	struct rl_call_view k;

	memset(n, 0, sizeof(unsigned) * RLK_STATE_COUNT);
	for (i = 0; i < end; i++)
		if (relay_call_at(r, i, &k) == 0 && k.state < RLK_STATE_COUNT)
			n[k.state]++;
}

static const char *relay_policy(const struct report_info *ri)
{
	return ri->relay_policy ? ri->relay_policy : "off";
}

static const char *fast_state(const struct report_info *ri)
{
	return ri->fastpath ? ri->fastpath : "off";
}

static int fast_on(const struct report_info *ri)
{
	const char *s = fast_state(ri);

	/* "on", or "on (ENGINE)" */
	return strncmp(s, "on", 2) == 0 && (s[2] == 0 || s[2] == ' ');
}

/*
 * A JSON string.  The WAN names are the admin's (an interface name may hold
 * quotes, backslashes or control characters) and the fast path's state may
 * quote a tool's message: written as they are, they broke the answer.
 */
void report_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void report_status(FILE *f, const struct gw *g, const struct report_info *ri,
		   int json)
{
	unsigned n[CALL_STATE_COUNT], rn[RLK_STATE_COUNT];
	uint64_t up = (ri->now_ms - ri->started_ms) / 1000;
	const struct relay *r = ri->relay;

	status_counts(g, n);
	relay_counts(r, rn);
	if (json) {
		fputs("{\"version\":", f);
		report_json_str(f, ri->version);
		fprintf(f, ",\"uptime_s\":%llu,\"wan\":",
			(unsigned long long)up);
		report_json_str(f, ri->wan);
		fprintf(f, ",\"rules_installed\":%s,"
			"\"connections\":%u,\"calls\":%u,"
			"\"calls_established\":%u,\"max_calls\":%u,"
			"\"held_aliases\":%u,\"queue_errors\":%llu,"
			"\"pending\":%u,\"pending_peak\":%u,"
			"\"pending_host_peak\":%u,\"relay_policy\":",
			ri->rules_installed ? "true" : "false",
			g->tab.nconns_used, g->tab.ncalls_used + g->tab.nrefused,
			n[CALL_ESTABLISHED], g->tab.cfg.max_calls,
			alias_holds(&g->aliases),
			(unsigned long long)ri->queue_errors, g->npending,
			g->pending_peak, g->pending_host_peak);
		report_json_str(f, relay_policy(ri));
		fprintf(f, ",\"relay_conns\":%u,"
			"\"relay_calls_active\":%u,"
			"\"relay_calls_established\":%u,"
			"\"relay_max_calls\":%u,\"fastpath\":%s,"
			"\"fastpath_state\":",
			r ? relay_conns_used(r) : 0,
			r ? relay_calls_used(r) : 0, rn[RLK_ESTABLISHED],
			r ? relay_max_calls(r) : 0,
			fast_on(ri) ? "true" : "false");
		report_json_str(f, fast_state(ri));
		fprintf(f, ",\"fastpath_calls\":%u}\n", ri->fp.calls);
		return;
	}
	fprintf(f, "pptpgw %s, up %llus, WAN %s, rules %s\n", ri->version,
		(unsigned long long)up, ri->wan,
		ri->rules_installed ? "installed" : "left to the admin");
	fprintf(f, "connections %u, calls %u (established %u) of %u, "
		"aliases held down %u\n", g->tab.nconns_used,
		g->tab.ncalls_used + g->tab.nrefused, n[CALL_ESTABLISHED],
		g->tab.cfg.max_calls, alias_holds(&g->aliases));
	fprintf(f, "segments waiting for their verdicts %u (at most %u, of "
		"one host %u)\n", g->npending, g->pending_peak,
		g->pending_host_peak);
	if (r)
		fprintf(f, "relay %s: connections %u, calls %u (established "
			"%u) of %u\n", relay_policy(ri), relay_conns_used(r),
			relay_calls_used(r), rn[RLK_ESTABLISHED],
			relay_max_calls(r));
	else
		fprintf(f, "relay %s\n", relay_policy(ri));
	if (fast_on(ri))
		fprintf(f, "fast path on: %u calls in the kernel's maps\n",
			ri->fp.calls);
	else
		fprintf(f, "fast path %s\n", fast_state(ri));
}

/*
 * Relayed calls, with the columns and keys of translated ones.  Packets out
 * are the frames the client sent up, packets in those the server sent
 * down; bytes are not counted per relayed call.
 */
static void relay_rows(FILE *f, const struct relay *r, uint64_t now,
		       int json, int *first)
{
	uint32_t i, end = r ? relay_call_slots(r) : 0;
	struct rl_call_view kv, *k = &kv;

	for (i = 0; i < end; i++) {
		char a[16], b[16], p[16], cid[8], sid[8], alias[8];
		char in[24], out[24];
		unsigned long long age, up, down;

		if (relay_call_at(r, i, k) < 0)
			continue;
		/* Our Call ID toward the server: 0 until one is taken. */
		if (k->pns_id)
			snprintf(alias, sizeof(alias), "%u", k->pns_id);
		else
			strcpy(alias, json ? "null" : "-");
		ip4_str(k->client, a);
		ip4_str(k->server, b);
		if (k->pub)
			ip4_str(k->pub, p);
		else
			strcpy(p, json ? "null" : "-");
		age = now > k->created ? (now - k->created) / 1000 : 0;
		up = k->frames_up;
		down = k->frames_down;
		if (json) {
			strcpy(cid, "null");
			strcpy(sid, "null");
			if (k->client_id_known)
				snprintf(cid, sizeof(cid), "%u", k->client_id);
			if (k->server_id_known)
				snprintf(sid, sizeof(sid), "%u", k->server_id);
			fprintf(f, "%s{\"call\":%u,\"id\":\"r%u\","
				"\"inside\":\"%s\",\"inside_call_id\":%s,"
				"\"server\":\"%s\",\"server_call_id\":%s,"
				"\"alias\":%s,\"relay_call_id\":%u,"
				"\"public\":%s%s%s,"
				"\"mode\":\"relay\",\"state\":\"%s\","
				"\"age_s\":%llu,\"packets_out\":%llu,"
				"\"packets_in\":%llu,\"bytes_out\":0,"
				"\"bytes_in\":0}",
				*first ? "" : ",", i, i, a, cid, b, sid, alias,
				k->pac_id, k->pub ? "\"" : "", p, k->pub ? "\"" : "",
				rl_call_state_name(k->state), age, up, down);
		} else {
			char slot[16];

			snprintf(slot, sizeof(slot), "r%u", i);
			strcpy(cid, "-");
			strcpy(sid, "-");
			if (k->client_id_known)
				snprintf(cid, sizeof(cid), "%u", k->client_id);
			if (k->server_id_known)
				snprintf(sid, sizeof(sid), "%u", k->server_id);
			snprintf(in, sizeof(in), "%s:%s", a, cid);
			snprintf(out, sizeof(out), "%s:%s", b, sid);
			fprintf(f, "%-5s %-21s %-21s %-5s %-15s %-9s %-11s "
				"%5llus %9llu %9llu %11u %11u\n", slot, in, out,
				alias, p, "relay",
				rl_call_state_name(k->state), age, up, down,
				0, 0);
		}
		*first = 0;
	}
}

void report_calls(FILE *f, const struct gw *g, const struct report_info *ri,
		  int json)
{
	uint64_t now = ri->now_ms;
	uint32_t i;
	int first = 1;

	if (json)
		fputc('[', f);
	else
		fprintf(f, "%-5s %-21s %-21s %-5s %-15s %-9s %-11s %6s %9s "
			"%9s %11s %11s\n", "CALL", "INSIDE", "OUTSIDE", "ALIAS",
			"PUBLIC", "MODE", "STATE", "AGE", "PKTS_OUT", "PKTS_IN",
			"BYTES_OUT", "BYTES_IN");
	for (i = 0; i < g->tab.ncalls_cap; i++) {
		const struct call *c = &g->tab.calls[i];
		char a[16], b[16], p[16], in[24], out[24];

		if (c->state == CALL_FREE)
			continue;
		ip4_str(c->inside, a);
		ip4_str(c->outside, b);
		ip4_str(c->pub, p);
		if (c->peer_known)
			snprintf(out, sizeof(out), "%u", c->peer_id);
		else
			snprintf(out, sizeof(out), "null");
		if (json) {
			fprintf(f, "%s{\"call\":%u,\"id\":\"%u\","
				"\"inside\":\"%s\","
				"\"inside_call_id\":%u,\"server\":\"%s\","
				"\"server_call_id\":%s,\"alias\":%u,"
				"\"public\":\"%s\",\"mode\":\"translate\","
				"\"state\":\"%s\",\"age_s\":%llu,"
				"\"packets_out\":%llu,\"packets_in\":%llu,"
				"\"bytes_out\":%llu,\"bytes_in\":%llu,"
				"\"no_gre_back\":%s,\"inside_role\":\"%s\","
				"\"this_host\":%s}",
				first ? "" : ",", i, i, a, c->inside_id, b,
				out, c->alias, p,
				call_state_name(c->state),
				(unsigned long long)((now - c->created) / 1000),
				(unsigned long long)c->pkts[DIR_OUT],
				(unsigned long long)c->pkts[DIR_IN],
				(unsigned long long)c->bytes[DIR_OUT],
				(unsigned long long)c->bytes[DIR_IN],
				c->no_gre_back ? "true" : "false",
				c->inside_pns ? "client" : "server",
				call_is_local(c) ? "true" : "false");
		} else {
			snprintf(in, sizeof(in), "%s:%u", a, c->inside_id);
			if (c->peer_known)
				snprintf(out, sizeof(out), "%s:%u", b,
					 c->peer_id);
			else
				snprintf(out, sizeof(out), "%s:-", b);
			fprintf(f, "%-5u %-21s %-21s %-5u %-15s %-9s %-11s "
				"%5llus %9llu %9llu %11llu %11llu\n", i, in, out,
				c->alias, p, "translate", call_state_name(c->state),
				(unsigned long long)((now - c->created) / 1000),
				(unsigned long long)c->pkts[DIR_OUT],
				(unsigned long long)c->pkts[DIR_IN],
				(unsigned long long)c->bytes[DIR_OUT],
				(unsigned long long)c->bytes[DIR_IN]);
		}
		first = 0;
	}
	relay_rows(f, ri->relay, now, json, &first);
	if (json) {
		fputs("]\n", f);
		return;
	}
	for (i = 0; i < g->tab.ncalls_cap; i++) {
		const struct call *c = &g->tab.calls[i];

		if (c->state == CALL_FREE)
			continue;
		if (call_is_local(c))
			fprintf(f, "call %u: this host's own\n", i);
		else if (!c->inside_pns)
			fprintf(f, "call %u: the inside end is the server\n",
				i);
		if (c->no_gre_back)
			fprintf(f, "call %u: GRE goes out, none comes back "
				"(pptpgwctl diagnose)\n", i);
	}
}

void report_stats(FILE *f, const struct gw *g, const struct report_info *ri,
		  int json)
{
	const struct calltab_stats *s = &g->tab.st;
	unsigned i;

	if (json)
		fputc('{', f);
	for (i = 0; i < GC_COUNT; i++)
		fprintf(f, json ? "%s\"%s\":%llu" : "%s%s %llu\n",
			json && i ? "," : "", gw_counter_name(i),
			(unsigned long long)g->ctr[i]);
	fprintf(f, json ? ",\"calls_created\":%llu" : "calls_created %llu\n",
		(unsigned long long)s->calls_created);
	for (i = 0; i < END_COUNT; i++)
		fprintf(f, json ? ",\"calls_ended_%s\":%llu"
				: "calls_ended_%s %llu\n",
			call_end_name(i), (unsigned long long)s->calls_ended[i]);
	fprintf(f, json ? ",\"queue_errors\":%llu" : "queue_errors %llu\n",
		(unsigned long long)ri->queue_errors);
	fprintf(f, json ? ",\"rules_restored\":%llu"
			: "rules_restored %llu\n",
		(unsigned long long)ri->rules_restored);
	fprintf(f, json ? ",\"queue_dropped\":%llu" : "queue_dropped %llu\n",
		(unsigned long long)ri->queue_dropped);
	fprintf(f, json ? ",\"queue_user_dropped\":%llu"
			: "queue_user_dropped %llu\n",
		(unsigned long long)ri->queue_user_dropped);
	fprintf(f, json ? ",\"fastpath_installed\":%llu,\"fastpath_removed\":%llu,"
			  "\"fastpath_errors\":%llu,\"fastpath_install_us_max\":%u,"
			  "\"fastpath_remove_us_max\":%u,\"fastpath_read_us_last\":%u"
			: "fastpath_installed %llu\nfastpath_removed %llu\n"
			  "fastpath_errors %llu\nfastpath_install_us_max %u\n"
			  "fastpath_remove_us_max %u\nfastpath_read_us_last %u\n",
		(unsigned long long)ri->fp.installed,
		(unsigned long long)ri->fp.removed,
		(unsigned long long)ri->fp.errors, ri->fp.install_us_max,
		ri->fp.remove_us_max, ri->fp.read_us_last);
	fprintf(f, json ? ",\"state_writes\":%llu,\"state_write_errors\":%llu,"
			  "\"state_bytes_last\":%llu,\"state_write_us_last\":%llu,"
			  "\"state_write_us_max\":%llu,\"state_write_us_total\":%llu"
			: "state_writes %llu\nstate_write_errors %llu\n"
			  "state_bytes_last %llu\nstate_write_us_last %llu\n"
			  "state_write_us_max %llu\nstate_write_us_total %llu\n",
		(unsigned long long)ri->state.writes,
		(unsigned long long)ri->state.write_errors,
		(unsigned long long)ri->state.bytes_last,
		(unsigned long long)ri->state.us_last,
		(unsigned long long)ri->state.us_max,
		(unsigned long long)ri->state.us_total);
	/* The relay's counters, zero without a relay: the keys stay put. */
	for (i = 0; i < RLS_COUNT; i++)
		fprintf(f, json ? ",\"relay_%s\":%llu" : "relay_%s %llu\n",
			rl_counter_name(i),
			(unsigned long long)(ri->relay ?
					     relay_counter(ri->relay, i) : 0));
	for (i = 0; i < RLE_COUNT; i++)
		fprintf(f, json ? ",\"relay_ended_%s\":%llu"
				: "relay_ended_%s %llu\n",
			rl_end_name(i),
			(unsigned long long)(ri->relay ?
					     relay_ended(ri->relay, i) : 0));
	if (json)
		fputs("}\n", f);
}

static void metric_head(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP pptpgw_%s %s\n# TYPE pptpgw_%s %s\n", name, help,
		name, type);
}

/*
 * The translator's counters that have a family of their own, from the one
 * table in gw.h: each family's HELP and TYPE once, then its samples.
 */
static void counter_metrics(FILE *f, const struct gw *g)
{
	unsigned i, j;

	for (i = 0; i < GC_COUNT; i++) {
		const struct gw_counter_info *c = &gw_counters[i];

		if (!c->metric)
			continue;
		for (j = 0; j < i; j++)
			if (gw_counters[j].metric &&
			    !strcmp(gw_counters[j].metric, c->metric))
				break;
		if (j < i)
			continue;    /* printed with the family's first */
		metric_head(f, c->metric, "counter", c->help);
		for (j = i; j < GC_COUNT; j++) {
			const struct gw_counter_info *s = &gw_counters[j];

			if (!s->metric || strcmp(s->metric, c->metric))
				continue;
			fprintf(f, "pptpgw_%s%s%s%s %llu\n", s->metric,
				s->labels ? "{" : "", s->labels ? s->labels : "",
				s->labels ? "}" : "",
				(unsigned long long)g->ctr[j]);
		}
	}
	metric_head(f, "drops_total", "counter", "Packets dropped, by reason.");
	for (i = 0; i < GC_COUNT; i++)
		if (gw_counters[i].drop)
			fprintf(f, "pptpgw_drops_total{reason=\"%s\"} %llu\n",
				gw_counters[i].name,
				(unsigned long long)g->ctr[i]);
}

/* HELP text of the relay's counters; any left out get a plain one. */

static void relay_metrics(FILE *f, const struct relay *r)
{
	unsigned i;

	metric_head(f, "relay_conns", "gauge",
		    "Relay: control connections, inside and upstream.");
	fprintf(f, "pptpgw_relay_conns %u\n", r ? relay_conns_used(r) : 0);
	metric_head(f, "relay_calls", "gauge", "Relay: calls in use.");
	fprintf(f, "pptpgw_relay_calls %u\n", r ? relay_calls_used(r) : 0);
	for (i = 0; i < RLS_COUNT; i++) {
		char name[96];

		snprintf(name, sizeof(name), "relay_%s_total",
			 rl_counter_name(i));
		metric_head(f, name, "counter", rl_counters[i].help);
		fprintf(f, "pptpgw_%s %llu\n", name,
			(unsigned long long)(r ? relay_counter(r, i) : 0));
	}
	metric_head(f, "relay_calls_ended_total", "counter",
		    "Relay: calls ended, by reason.");
	for (i = 0; i < RLE_COUNT; i++)
		fprintf(f, "pptpgw_relay_calls_ended_total{reason=\"%s\"} %llu\n",
			rl_end_name(i),
			(unsigned long long)(r ? relay_ended(r, i) : 0));
}

void report_metrics(FILE *f, const struct gw *g, const struct report_info *ri)
{
	unsigned n[CALL_STATE_COUNT], rn[RLK_STATE_COUNT], i;

	status_counts(g, n);
	relay_counts(ri->relay, rn);
	metric_head(f, "up", "gauge", "1 while pptpgw runs.");
	fprintf(f, "pptpgw_up 1\n");
	metric_head(f, "uptime_seconds", "gauge", "Seconds since start.");
	fprintf(f, "pptpgw_uptime_seconds %llu\n",
		(unsigned long long)((ri->now_ms - ri->started_ms) / 1000));
	metric_head(f, "connections", "gauge", "PPTP control connections.");
	fprintf(f, "pptpgw_connections %u\n", g->tab.nconns_used);
	metric_head(f, "pending_segments", "gauge",
		    "Control segments held or out of order, waiting for "
		    "their verdicts in the kernel's queue.");
	fprintf(f, "pptpgw_pending_segments %u\n", g->npending);
	metric_head(f, "pending_segments_peak", "gauge",
		    "The most control segments that waited at once since "
		    "start, of all hosts and of the one host with most.");
	fprintf(f, "pptpgw_pending_segments_peak{hosts=\"all\"} %u\n",
		g->pending_peak);
	fprintf(f, "pptpgw_pending_segments_peak{hosts=\"one\"} %u\n",
		g->pending_host_peak);
	metric_head(f, "calls", "gauge", "Calls by state.");
	for (i = CALL_FREE + 1; i < CALL_STATE_COUNT; i++)
		fprintf(f, "pptpgw_calls{state=\"%s\",mode=\"translate\"} %u\n",
			call_state_name(i), n[i]);
	for (i = RLK_FREE + 1; i < RLK_STATE_COUNT; i++)
		fprintf(f, "pptpgw_calls{state=\"%s\",mode=\"relay\"} %u\n",
			rl_call_state_name(i), rn[i]);
	metric_head(f, "call_setups_total", "counter", "Calls set up.");
	fprintf(f, "pptpgw_call_setups_total %llu\n",
		(unsigned long long)g->tab.st.calls_created);
	metric_head(f, "call_teardowns_total", "counter",
		    "Calls ended, by reason.");
	for (i = 0; i < END_COUNT; i++)
		fprintf(f, "pptpgw_call_teardowns_total{reason=\"%s\"} %llu\n",
			call_end_name(i),
			(unsigned long long)g->tab.st.calls_ended[i]);
	counter_metrics(f, g);
	metric_head(f, "queue_dropped_total", "counter",
		    "Packets the kernel dropped: the queue was full.");
	fprintf(f, "pptpgw_queue_dropped_total %llu\n",
		(unsigned long long)ri->queue_dropped);
	metric_head(f, "queue_user_dropped_total", "counter",
		    "Packets the kernel dropped: the netlink socket was full.");
	fprintf(f, "pptpgw_queue_user_dropped_total %llu\n",
		(unsigned long long)ri->queue_user_dropped);
	metric_head(f, "queue_errors_total", "counter",
		    "Failed verdict sends (retried), refused or lost verdicts.");
	fprintf(f, "pptpgw_queue_errors_total %llu\n",
		(unsigned long long)ri->queue_errors);
	metric_head(f, "rules_restored_total", "counter",
		    "Times pptpgw put its jumps back on top of a built-in "
		    "chain, where another program had put rules above them.");
	fprintf(f, "pptpgw_rules_restored_total %llu\n",
		(unsigned long long)ri->rules_restored);
	metric_head(f, "fastpath_up", "gauge",
		    "1 while the kernel's maps translate established calls.");
	fprintf(f, "pptpgw_fastpath_up %d\n", fast_on(ri));
	metric_head(f, "fastpath_calls", "gauge",
		    "Calls whose GRE the kernel's maps translate.");
	fprintf(f, "pptpgw_fastpath_calls %u\n", ri->fp.calls);
	metric_head(f, "fastpath_errors_total", "counter",
		    "Kernel map updates or reads that failed (those calls "
		    "stay on the queue).");
	fprintf(f, "pptpgw_fastpath_errors_total %llu\n",
		(unsigned long long)ri->fp.errors);
	relay_metrics(f, ri->relay);
}

/* A call slot as "calls" shows it: plain decimal digits below 2^32 - 1,
 * nothing that strtoul would also take (a sign, spaces, a wrap-around). */
static int parse_slot(const char *s, uint32_t *slot)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || v >= UINT32_MAX)
		return -1;
	*slot = (uint32_t)v;
	return 0;
}

/* "clear rN": relayed call N, as "calls" shows it; both sides are told. */
static int clear_relayed(FILE *f, const struct report_info *ri,
			 const struct ctl_cmd *c)
{
	struct relay *r = ri->relay;
	struct rl_call_view k;

	if (!c->slot_ok || !r || relay_call_at(r, c->slot, &k) < 0 ||
	    relay_call_clear(r, c->slot, ri->now_ms) < 0) {
		fprintf(f, "error: no relayed call %s\n", c->arg);
		return -1;
	}
	fprintf(f, c->json ? "{\"cleared\":%u,\"mode\":\"relay\"}\n"
			   : "cleared relayed call r%u\n", c->slot);
	return 0;
}

void report_parse(const char *line, struct ctl_cmd *c)
{
	static const struct { const char *w; enum ctl_verb v; } verbs[] = {
		{ "status", CTL_STATUS }, { "calls", CTL_CALLS },
		{ "stats", CTL_STATS }, { "clear", CTL_CLEAR },
		{ "reload", CTL_RELOAD }, { "diagnose", CTL_DIAGNOSE },
	};
	char arg2[32] = "";
	size_t i;

	memset(c, 0, sizeof(*c));
	c->nwords = sscanf(line, "%31s %31s %31s", c->word, c->arg, arg2);
	if (c->nwords < 1) {
		c->nwords = 0;
		c->verb = CTL_EMPTY;
		return;
	}
	c->json = (c->nwords >= 2 && strcmp(c->arg, "json") == 0) ||
		  (c->nwords >= 3 && strcmp(arg2, "json") == 0);
	c->verb = CTL_UNKNOWN;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(c->word, verbs[i].w) == 0)
			c->verb = verbs[i].v;
	if (c->verb != CTL_CLEAR || c->nwords < 2)
		return;
	/* "clear rN" names relayed call N, "clear N" translated call N. */
	if (c->arg[0] == 'r')
		c->verb = CTL_CLEAR_RELAYED;
	c->slot_ok = parse_slot(c->arg + (c->verb == CTL_CLEAR_RELAYED), &c->slot)
		     == 0;
}

int report_command(FILE *f, struct gw *g, const struct report_info *ri,
		   const char *line)
{
	struct ctl_cmd c;

	report_parse(line, &c);
	switch (c.verb) {
	case CTL_EMPTY:
		fprintf(f, "error: empty command\n");
		return -1;
	case CTL_STATUS:
		report_status(f, g, ri, c.json);
		return 0;
	case CTL_CALLS:
		report_calls(f, g, ri, c.json);
		return 0;
	case CTL_STATS:
		report_stats(f, g, ri, c.json);
		return 0;
	case CTL_CLEAR_RELAYED:
		return clear_relayed(f, ri, &c);
	case CTL_CLEAR:
		if (c.nwords < 2 || !c.slot_ok ||
		    gw_call_clear(g, c.slot, ri->now_ms) < 0) {
			fprintf(f, "error: no call %s\n",
				c.nwords < 2 ? "given" : c.arg);
			return -1;
		}
		fprintf(f, c.json ? "{\"cleared\":%u}\n" : "cleared call %u\n",
			c.slot);
		return 0;
	case CTL_RELOAD: {
		char msg[512] = "";
		int r = ri->reload ? ri->reload(ri->arg, msg, sizeof(msg)) : -1;

		if (r < 0) {
			fprintf(f, "error: %s\n", ri->reload ? msg :
				"reload not available");
			return -1;
		}
		fprintf(f, c.json ? "{\"reloaded\":true}\n" : "%s\n", msg);
		return 0;
	}
	case CTL_DIAGNOSE:
		report_diagnose(f, g, ri, c.json);
		return 0;
	case CTL_UNKNOWN:
		break;
	}
	fprintf(f, "error: unknown command '%s' (status, calls, stats, "
		"clear CALL|rN, reload, diagnose)\n", c.word);
	return -1;
}
