/*
 * The control socket's answers: every command, its errors, and JSON that
 * holds together (balanced, with the fields pptpgwctl and scripts rely on);
 * relayed calls next to translated ones.
 */
#include <stdlib.h>

#include "check.h"
#include "ctl/report.h"

static void no_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	(void)arg, (void)p, (void)v, (void)mark;
}

static int reload_ok;

static int fake_reload(void *arg, char *msg, size_t n)
{
	(void)arg;
	snprintf(msg, n, reload_ok ? "configuration reloaded; 1 calls kept"
				   : "reload refused: x.conf:3: bad value");
	return reload_ok ? 0 : -1;
}

static char *run(struct gw *g, const struct report_info *ri, const char *cmd,
		 int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*rc = report_command(f, g, ri, cmd);
	fclose(f);
	return text;
}

/* Brackets and braces balance outside strings, and nothing trails. */
static int json_balanced(const char *s)
{
	int depth = 0, in_str = 0;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = 0;
			continue;
		}
		if (*s == '"')
			in_str = 1;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']') {
			if (--depth < 0)
				return 0;
		}
	}
	return depth == 0 && !in_str;
}

/* ---- relayed calls ----------------------------------------------------- */

static unsigned ctl_sent;

static void rl_ctl_send(void *arg, uint32_t conn, const uint8_t *p, size_t len)
{
	(void)arg, (void)conn, (void)p, (void)len;
	ctl_sent++;
}

static int rl_connect(void *arg, uint32_t conn, uint32_t server)
{
	(void)arg, (void)conn, (void)server;
	return -1;
}

static void rl_close(void *arg, uint32_t conn)
{
	(void)arg, (void)conn;
}

static int rl_gre_send(void *arg, uint32_t src, uint32_t dst,
		       const uint8_t *gre, size_t len)
{
	(void)arg, (void)src, (void)dst, (void)gre, (void)len;
	return 0;
}

/* One relayed call set by hand, as the relay would have left it. */
static void rl_call_put(struct relay *r, uint32_t slot, unsigned state,
			int incoming, uint32_t client, uint16_t client_id,
			uint32_t server, uint16_t server_id, uint16_t pns_id,
			uint32_t pub, uint64_t up, uint64_t down)
{
	struct rl_call *k = &r->calls[slot];

	k->state = (uint8_t)state;
	k->incoming = (uint8_t)incoming;
	k->inside = k->up = RL_NONE;
	k->client = client;
	k->client_id = client_id;
	k->server = server;
	k->server_id = server_id;
	k->pns_id = pns_id;
	k->pac_id = (uint16_t)(100 + slot);
	k->pub = pub;
	k->created = 31000;
	k->state_since = 31000;
	k->hnext[0] = k->hnext[1] = RL_NONE;
	k->leg_client.st.rx_delivered = up;
	k->leg_server.st.rx_delivered = down;
	r->ncalls++;
	if (slot + 1 > r->calls_hwm)
		r->calls_hwm = slot + 1;
}

/* The text line of a call, found by its slot ("3", "r1"), or NULL. */
static const char *line_of(const char *out, const char *slot)
{
	const char *l;
	size_t n = strlen(slot);

	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, slot, n) && l[n] == ' ')
			return l;
	return NULL;
}

/* A Prometheus sample line, whole, as "\nLINE\n". */
static int has_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	return strstr(text, want) != NULL;
}

struct row_case {
	const char *slot;       /* text CALL column */
	const char *text[4];    /* substrings of its text line, in order */
	const char *json;       /* a substring of the JSON answer */
};

static const struct row_case rows[] = {
	{ "r1", { "198.18.0.12:7 ", "203.0.113.2:300 ",
		  "40017 203.0.113.1     relay     established    30s ",
		  " 12         9           0           0\n" },
	  "{\"call\":1,\"id\":\"r1\",\"inside\":\"198.18.0.12\","
	  "\"inside_call_id\":7,\"server\":\"203.0.113.2\","
	  "\"server_call_id\":300,\"alias\":40017,\"relay_call_id\":101,"
	  "\"public\":\"203.0.113.1\",\"mode\":\"relay\","
	  "\"state\":\"established\",\"age_s\":30,\"packets_out\":12,"
	  "\"packets_in\":9,\"bytes_out\":0,\"bytes_in\":0}" },
	/* Incoming, not yet answered by the client: its Call ID is unknown. */
	{ "r2", { "198.18.0.13:- ", "203.0.113.2:55 ", "41000 203.0.113.1 ",
		  " relay     wait_icrp " },
	  "\"id\":\"r2\",\"inside\":\"198.18.0.13\",\"inside_call_id\":null,"
	  "\"server\":\"203.0.113.2\",\"server_call_id\":55," },
	/* Outgoing, its upstream connection not up: no alias, no public
	 * address, no server Call ID yet. */
	{ "r3", { "198.18.0.14:9 ", "198.51.100.7:- ", " -     -               relay     wait_conn " },
	  "\"id\":\"r3\",\"inside\":\"198.18.0.14\",\"inside_call_id\":9,"
	  "\"server\":\"198.51.100.7\",\"server_call_id\":null,\"alias\":null,"
	  "\"relay_call_id\":103,\"public\":null,\"mode\":\"relay\",\"state\":\"wait_conn\"" },
};

/* "clear" arguments that name no relayed call, and what each answers. */
struct clear_case {
	const char *cmd;
	const char *want;
};

static const struct clear_case bad_clears[] = {
	{ "clear r0", "error: no relayed call r0\n" },      /* free slot */
	{ "clear r4", "error: no relayed call r4\n" },      /* past the table */
	{ "clear r4294967297", "error: no relayed call r4294967297\n" },
	{ "clear r", "error: no relayed call r\n" },
	{ "clear rx", "error: no relayed call rx\n" },
	{ "clear r-1", "error: no relayed call r-1\n" },
	{ "clear r1x", "error: no relayed call r1x\n" },
	{ "clear r 1", "error: no relayed call r\n" },
	/* Translated calls: a number that only wraps to a live slot (1 here),
	 * or is not written as plain digits, names none. */
	{ "clear 4294967297", "error: no call 4294967297\n" },
	{ "clear 18446744073709551617", "error: no call 18446744073709551617\n" },
	{ "clear -4294967295", "error: no call -4294967295\n" },
	{ "clear +1", "error: no call +1\n" },
	{ "clear 0x1", "error: no call 0x1\n" },
	{ "clear  ", "error: no call given\n" },
};

static void relay_report(struct gw *g, struct report_info ri)
{
	struct relay r;
	struct rl_cfg rc;
	struct rl_hooks hk = { .ctl_send = rl_ctl_send, .connect = rl_connect,
			       .close = rl_close, .gre_send = rl_gre_send };
	char *out, want[160];
	size_t i;
	int rc_;

	relay_default_cfg(&rc);
	rc.max_calls = 4;
	rc.max_conns = 4;
	CHECK_EQ(0, relay_init(&r, &rc, &hk));
	rl_call_put(&r, 1, RLK_ESTABLISHED, 0, 0xC612000Cu, 7, 0xCB007102u, 300,
		    40017, 0xCB007101u, 12, 9);
	rl_call_put(&r, 2, RLK_WAIT_ICRP, 1, 0xC612000Du, 0, 0xCB007102u, 55,
		    41000, 0xCB007101u, 0, 0);
	rl_call_put(&r, 3, RLK_WAIT_CONN, 0, 0xC612000Eu, 9, 0xC6336407u, 0, 0,
		    0, 0, 0);
	r.nconns = 2;
	r.ctr[RLS_FRAMES_UP] = 21;
	r.ctr[RLS_INSIDE_CLIENT_LIMIT] = 6;
	r.ctr[RLS_GRE_ACK_ONLY_SENT] = 5;
	r.ctr[RLS_SERVERS_PER_CALL] = 1;
	r.ended[RLE_SERVER_GONE] = 4;
	ri.relay = &r;
	ri.relay_policy = "203.0.113.2,auto";
	ri.fastpath = "on";
	ri.fp.calls = 5;
	ri.fp.install_us_max = 321;

	/* calls: translated rows first, then relayed ones, same columns. */
	out = run(g, &ri, "calls", &rc_);
	CHECK_EQ(0, rc_);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *l = line_of(out, rows[i].slot), *at = l;
		size_t j;

		CHECK(l != NULL);
		for (j = 0; at && j < 4 && rows[i].text[j]; j++) {
			const char *nl = strchr(l, '\n');

			at = strstr(at, rows[i].text[j]);
			if (!at || (nl && at >= nl)) {
				fprintf(stderr, "row %s: no '%s' in\n%s\n",
					rows[i].slot, rows[i].text[j], l);
				CHECK(0);
				at = NULL;
			}
		}
	}
	CHECK(line_of(out, "r0") == NULL);
	CHECK(line_of(out, "0") != NULL && line_of(out, "0") < line_of(out, "r1"));
	{
		/* pptpgwctl top reads ten words of each line. */
		char slot[16], in[32], srv[32], al[16], pub[32], mode[16];
		char st[16], age[16];
		unsigned long long po, pi;

		CHECK_EQ(10, sscanf(line_of(out, "r1"), "%15s %31s %31s %15s %31s "
				    "%15s %15s %15s %llu %llu", slot, in, srv, al,
				    pub, mode, st, age, &po, &pi));
		CHECK_EQ(12, po);
		CHECK_EQ(9, pi);
		CHECK_EQ(10, sscanf(line_of(out, "r3"), "%15s %31s %31s %15s %31s "
				    "%15s %15s %15s %llu %llu", slot, in, srv, al,
				    pub, mode, st, age, &po, &pi));
	}
	free(out);
	out = run(g, &ri, "calls json", &rc_);
	CHECK(json_balanced(out));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strstr(out, rows[i].json)) {
			fprintf(stderr, "no '%s' in\n%s\n", rows[i].json, out);
			CHECK(0);
		}
	CHECK(strstr(out, "{\"call\":0,\"id\":\"0\",\"inside\":") != NULL);
	free(out);

	/* status: the relay's line and keys. */
	out = run(g, &ri, "status", &rc_);
	CHECK(strstr(out, "\nrelay 203.0.113.2,auto: connections 2, calls 3 "
		      "(established 1) of 4\n") != NULL);
	CHECK(strstr(out, "\nfast path on: 5 calls in the kernel's maps\n")
	      != NULL);
	free(out);
	out = run(g, &ri, "status json", &rc_);
	CHECK(json_balanced(out));
	CHECK(strstr(out, "\"relay_policy\":\"203.0.113.2,auto\",\"relay_conns\":2,"
		      "\"relay_calls_active\":3,\"relay_calls_established\":1,"
		      "\"relay_max_calls\":4,\"fastpath\":true,"
		      "\"fastpath_state\":\"on\",\"fastpath_calls\":5}") != NULL);
	free(out);
	out = run(g, &ri, "stats json", &rc_);
	CHECK(json_balanced(out));
	CHECK(strstr(out, ",\"fastpath_install_us_max\":321,") != NULL);
	free(out);

	/* stats: every counter and end reason, by name. */
	out = run(g, &ri, "stats", &rc_);
	CHECK(strstr(out, "\nrelay_frames_up 21\n") != NULL);
	CHECK(strstr(out, "\nrelay_inside_client_limit 6\n") != NULL);
	CHECK(strstr(out, "\nrelay_gre_ack_only_sent 5\n") != NULL);
	CHECK(strstr(out, "\nrelay_ended_server_gone 4\n") != NULL);
	for (i = 0; i < RLS_COUNT; i++) {
		snprintf(want, sizeof(want), "\nrelay_%s ", rl_counter_name(i));
		CHECK(strstr(out, want) != NULL);
	}
	for (i = 0; i < RLE_COUNT; i++) {
		snprintf(want, sizeof(want), "\nrelay_ended_%s ", rl_end_name(i));
		CHECK(strstr(out, want) != NULL);
	}
	free(out);
	out = run(g, &ri, "stats json", &rc_);
	CHECK(json_balanced(out));
	CHECK(strstr(out, ",\"relay_servers_per_call\":1,") != NULL);
	CHECK(strstr(out, ",\"relay_ended_server_gone\":4,") != NULL);
	CHECK(strstr(out, "\"relay_ended_shutdown\":0}\n") != NULL);
	free(out);

	/* metrics: counters, end reasons, gauges, relayed calls by state. */
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		report_metrics(f, g, &ri);
		fclose(f);
		CHECK(has_line(text, "pptpgw_relay_frames_up_total 21"));
		CHECK(has_line(text, "pptpgw_relay_inside_client_limit_total 6"));
		CHECK(has_line(text, "# TYPE pptpgw_relay_frames_up_total counter"));
		CHECK(has_line(text, "pptpgw_relay_gre_ack_only_sent_total 5"));
		CHECK(has_line(text, "pptpgw_relay_calls_ended_total{reason=\"server_gone\"} 4"));
		CHECK(has_line(text, "pptpgw_relay_calls_ended_total{reason=\"admin\"} 0"));
		CHECK(has_line(text, "pptpgw_relay_conns 2"));
		CHECK(has_line(text, "# TYPE pptpgw_relay_conns gauge"));
		CHECK(has_line(text, "pptpgw_relay_calls 3"));
		CHECK(has_line(text, "pptpgw_calls{state=\"established\",mode=\"relay\"} 1"));
		CHECK(has_line(text, "pptpgw_calls{state=\"wait_icrp\",mode=\"relay\"} 1"));
		CHECK(has_line(text, "pptpgw_calls{state=\"wait_ocrp\",mode=\"relay\"} 0"));
		CHECK(strstr(text, "pptpgw_calls{state=\"free\"") == NULL);
		for (i = 0; i < RLS_COUNT; i++) {
			snprintf(want, sizeof(want), "# TYPE pptpgw_relay_%s_total "
				 "counter", rl_counter_name(i));
			CHECK(has_line(text, want));
		}
		/* A family's samples follow its own TYPE line, none other. */
		{
			char *l, *save = NULL, fam[128] = "";
			int stray = 0;

			for (l = strtok_r(text, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save)) {
				size_t n;

				if (sscanf(l, "# TYPE pptpgw_%127s", fam) == 1)
					continue;
				if (l[0] == '#')
					continue;
				n = strlen(fam);
				if (strncmp(l + 7, fam, n) ||
				    (l[7 + n] != ' ' && l[7 + n] != '{')) {
					fprintf(stderr, "'%s' not under its TYPE "
						"(%s)\n", l, fam);
					stray++;
				}
			}
			CHECK_EQ(0, stray);
		}
		free(text);
	}

	/* clear rN: the relayed call, not the translated call N. */
	for (i = 0; i < sizeof(bad_clears) / sizeof(bad_clears[0]); i++) {
		out = run(g, &ri, bad_clears[i].cmd, &rc_);
		CHECK_EQ(-1, rc_);
		if (strcmp(out, bad_clears[i].want)) {
			fprintf(stderr, "'%s': expected '%s', got '%s'\n",
				bad_clears[i].cmd, bad_clears[i].want, out);
			CHECK(0);
		}
		free(out);
	}
	CHECK_EQ(3, r.ncalls);
	CHECK(g->tab.calls[1].state != CALL_FREE);
	out = run(g, &ri, "clear r1", &rc_);
	CHECK_EQ(0, rc_);
	CHECK(strcmp(out, "cleared relayed call r1\n") == 0);
	free(out);
	CHECK_EQ(RLK_FREE, r.calls[1].state);
	CHECK_EQ(2, r.ncalls);
	CHECK_EQ(1, r.ended[RLE_ADMIN]);
	CHECK(g->tab.calls[1].state != CALL_FREE);   /* translated 1 stays */
	out = run(g, &ri, "clear r1", &rc_);
	CHECK_EQ(-1, rc_);
	CHECK(strcmp(out, "error: no relayed call r1\n") == 0);
	free(out);
	out = run(g, &ri, "clear r3 json", &rc_);
	CHECK_EQ(0, rc_);
	CHECK(strcmp(out, "{\"cleared\":3,\"mode\":\"relay\"}\n") == 0);
	free(out);
	out = run(g, &ri, "calls", &rc_);
	CHECK(line_of(out, "r1") == NULL && line_of(out, "r3") == NULL &&
	      line_of(out, "r2") != NULL);
	free(out);

	/* Without a relay: policy "off", zero counters, nothing to clear. */
	ri.relay = NULL;
	ri.relay_policy = NULL;
	ri.fastpath = "unavailable: cannot run nft";
	out = run(g, &ri, "status", &rc_);
	CHECK(strstr(out, "\nrelay off\n") != NULL);
	CHECK(strstr(out, "\nfast path unavailable: cannot run nft\n") != NULL);
	free(out);
	out = run(g, &ri, "status json", &rc_);
	CHECK(strstr(out, "\"relay_policy\":\"off\",\"relay_conns\":0,"
		      "\"relay_calls_active\":0,") != NULL);
	free(out);
	out = run(g, &ri, "stats", &rc_);
	CHECK(strstr(out, "\nrelay_frames_up 0\n") != NULL);
	free(out);
	out = run(g, &ri, "calls", &rc_);
	CHECK(strstr(out, " relay ") == NULL);
	free(out);
	out = run(g, &ri, "clear r2", &rc_);
	CHECK_EQ(-1, rc_);
	CHECK(strcmp(out, "error: no relayed call r2\n") == 0);
	free(out);
	relay_destroy(&r);
}

/*
 * The views of one table with two translated calls, then relayed ones.
 * Cold, like the main() it was: inlined run() makes GCC 12 warn, wrongly,
 * of a dangling pointer to its memstream buffer.
 */
static int __attribute__((cold)) report_views(void)
{
	struct gw g;
	struct gw_cfg cfg;
	struct calltab_cfg tc = { .max_calls = 16, .max_conns = 8,
				  .holddown_ms = 1000, .seed = 42 };
	struct gw_hooks h = { .verdict = no_verdict };
	struct report_info ri = { .version = "test", .started_ms = 1000,
				  .now_ms = 61000, .rules_installed = 1,
				  .queue_dropped = 7, .wan = "wan0",
				  .reload = fake_reload };
	enum calltab_err err;
	struct conn *c;
	struct call *a, *b;
	char *out, want[128];
	int rc;

	gw_default_cfg(&cfg);
	if (gw_init(&g, &cfg, &tc, &h) < 0)
		return 1;
	c = conn_add(&g.tab, 0xC6120000u + 11, 40000, 0xCB007102u, 1723, 1000);
	c->pub = 0xCB007101u;
	a = call_add(&g.tab, c, 4660, 0, 1000, &err);
	b = call_add(&g.tab, c, 4661, 0, 1000, &err);
	CHECK(a && b);
	call_set_peer(&g.tab, a, 128);
	call_set_state(a, CALL_ESTABLISHED, 2000);
	a->inside_pns = 1;
	a->pkts[DIR_OUT] = 5;
	a->bytes[DIR_IN] = 1234;

	out = run(&g, &ri, "status\n", &rc);
	CHECK_EQ(0, rc);
	CHECK(strstr(out, "calls 2 (established 1) of 16") != NULL);
	free(out);
	out = run(&g, &ri, "status json", &rc);
	CHECK(json_balanced(out));
	CHECK(strstr(out, "\"calls\":2,") != NULL);
	CHECK(strstr(out, "\"uptime_s\":60,") != NULL);
	free(out);
	/* Free text is escaped: an interface name may hold a quote, a
	 * backslash or a control character, the fast path's reason a quote
	 * (fuzz_ctlcmd; they were written as they are). */
	{
		struct report_info q = ri;

		q.wan = "e\"0\\,w\001";
		q.fastpath = "unavailable: \"nft\" failed";
		out = run(&g, &q, "status json", &rc);
		CHECK(json_balanced(out));
		CHECK(strstr(out, "\"wan\":\"e\\\"0\\\\,w\\u0001\",") != NULL);
		CHECK(strstr(out, "\"fastpath_state\":\"unavailable: \\\"nft\\\" "
			      "failed\",") != NULL);
		free(out);
	}

	out = run(&g, &ri, "calls json", &rc);
	CHECK_EQ(0, rc);
	CHECK(json_balanced(out));
	CHECK(out[0] == '[');
	snprintf(want, sizeof(want), "\"alias\":%u,", a->alias);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "\"inside\":\"198.18.0.11\",\"inside_call_id\":4660,"
		      "\"server\":\"203.0.113.2\",\"server_call_id\":128,")
	      != NULL);
	CHECK(strstr(out, "\"server_call_id\":null,") != NULL);
	CHECK(strstr(out, "\"public\":\"203.0.113.1\"") != NULL);
	CHECK(strstr(out, "\"packets_out\":5,") != NULL);
	CHECK(strstr(out, "\"bytes_in\":1234,\"no_gre_back\":false,"
		      "\"inside_role\":\"client\",\"this_host\":false}") != NULL);
	CHECK(strstr(out, "\"state\":\"established\"") != NULL);
	CHECK(strstr(out, "\"state\":\"requested\"") != NULL);
	free(out);

	/* The placement in words: a server inside, this host's own. */
	a->inside_pns = 0;
	out = run(&g, &ri, "calls", &rc);
	snprintf(want, sizeof(want), "call %u: the inside end is the server\n",
		 call_slot(&g.tab, a));
	CHECK(strstr(out, want) != NULL);
	free(out);
	out = run(&g, &ri, "calls json", &rc);
	CHECK(strstr(out, "\"inside_role\":\"server\"") != NULL);
	free(out);
	a->inside = a->pub;
	out = run(&g, &ri, "calls json", &rc);
	CHECK(strstr(out, "\"this_host\":true}") != NULL);
	free(out);
	out = run(&g, &ri, "calls", &rc);
	snprintf(want, sizeof(want), "call %u: this host's own\n",
		 call_slot(&g.tab, a));
	CHECK(strstr(out, want) != NULL);
	free(out);
	a->inside = 0xC6120000u + 11;
	a->inside_pns = 1;

	out = run(&g, &ri, "calls", &rc);
	CHECK(strncmp(out, "CALL ", 5) == 0);
	CHECK(strstr(out, " BYTES_OUT ") != NULL);
	{
		/* The established call's line, as pptpgwctl top reads it. */
		char in[32], srv[32], pub[32], mode[16], st[16], age[16];
		unsigned slot, al;
		unsigned long long po, pi, bo, bi;
		const char *l = strstr(out, "\n") + 1;
		int found = 0;

		for (; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (sscanf(l, "%u %31s %31s %u %31s %15s %15s %15s %llu %llu "
				   "%llu %llu", &slot, in, srv, &al, pub, mode, st,
				   age, &po, &pi, &bo, &bi) == 12 &&
			    !strcmp(st, "established")) {
				found = 1;
				CHECK_EQ(a->alias, al);
				CHECK(!strcmp(mode, "translate"));
				CHECK_EQ(5, po);
				CHECK_EQ(1234, bi);
			}
		CHECK(found);
	}
	CHECK(strstr(out, "198.18.0.11:4660") != NULL);
	CHECK(strstr(out, "203.0.113.2:128") != NULL);
	free(out);

	g.ctr[GC_GRE_OUT] = 99;
	out = run(&g, &ri, "stats json", &rc);
	CHECK(json_balanced(out));
	CHECK(strstr(out, "\"gre_out_packets\":99,") != NULL);
	CHECK(strstr(out, "\"queue_dropped\":7,") != NULL);
	free(out);
	g.ctr[GC_CTRL_CONN_HOST_LIMIT] = 11;
	g.ctr[GC_CTRL_HALF_OPEN_HOST_LIMIT] = 12;
	g.ctr[GC_CTRL_HALF_OPEN_LIMIT] = 13;
	g.ctr[GC_CTRL_HALF_OPEN_EXPIRED] = 14;
	g.ctr[GC_CALLS_HOST_LIMIT] = 15;
	out = run(&g, &ri, "stats", &rc);
	CHECK(strstr(out, "\ngre_out_packets 99\n") != NULL);
	/* Refusals by the per-host limits, each by its reason. */
	CHECK(strstr(out, "\nctrl_conn_host_limit 11\n") != NULL);
	CHECK(strstr(out, "\nctrl_half_open_host_limit 12\n") != NULL);
	CHECK(strstr(out, "\nctrl_half_open_limit 13\n") != NULL);
	CHECK(strstr(out, "\nctrl_half_open_expired 14\n") != NULL);
	CHECK(strstr(out, "\ncalls_refused_host_limit 15\n") != NULL);
	free(out);

	/* Prometheus text: every sample line is "name[{labels}] value". */
	{
		char *text = NULL, *line, *save = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		int samples = 0, bad = 0;

		g.ctr[GC_GRE_IN_LATE] = 3;
		report_metrics(f, &g, &ri);
		fclose(f);
		CHECK(strstr(text, "\npptpgw_gre_packets_total{direction=\"out\"} 99\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_calls{state=\"established\",mode=\"translate\"} 1\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_calls{state=\"requested\",mode=\"translate\"} 1\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_drops_total{reason=\"gre_in_late_dropped\"} 3\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_queue_dropped_total 7\n") != NULL);
		CHECK(strstr(text, "\npptpgw_drops_total{reason=\"ctrl_conn_host_limit\"} 11\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_drops_total{reason=\"ctrl_half_open_host_limit\"} 12\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_drops_total{reason=\"ctrl_half_open_limit\"} 13\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_half_open_expired_total 14\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_calls_refused_host_limit_total 15\n")
		      != NULL);
		CHECK(strstr(text, "# TYPE pptpgw_call_setups_total counter\n")
		      != NULL);
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char name[128];
			unsigned long long v;

			if (line[0] == '#')
				continue;
			samples++;
			if (sscanf(line, "pptpgw_%127[a-z_]%*[^ ] %llu", name, &v) != 2 &&
			    sscanf(line, "pptpgw_%127[a-z_] %llu", name, &v) != 2)
				bad++;
		}
		CHECK(samples > 30);
		CHECK_EQ(0, bad);
		free(text);
	}

	relay_report(&g, ri);

	/* clear: by slot, then it is gone; errors name the problem. */
	snprintf(want, sizeof(want), "clear %u", (unsigned)(b - g.tab.calls));
	out = run(&g, &ri, want, &rc);
	CHECK_EQ(0, rc);
	CHECK_EQ(1, g.tab.ncalls_used);
	free(out);
	out = run(&g, &ri, want, &rc);
	CHECK_EQ(-1, rc);
	CHECK(strncmp(out, "error: no call", 14) == 0);
	free(out);
	out = run(&g, &ri, "clear banana", &rc);
	CHECK_EQ(-1, rc);
	free(out);
	out = run(&g, &ri, "clear", &rc);
	CHECK_EQ(-1, rc);
	CHECK(strstr(out, "no call given") != NULL);
	free(out);
	reload_ok = 1;
	out = run(&g, &ri, "reload", &rc);
	CHECK_EQ(0, rc);
	CHECK(strcmp(out, "configuration reloaded; 1 calls kept\n") == 0);
	free(out);
	reload_ok = 0;
	out = run(&g, &ri, "reload", &rc);
	CHECK_EQ(-1, rc);
	CHECK(strcmp(out, "error: reload refused: x.conf:3: bad value\n") == 0);
	free(out);
	out = run(&g, &ri, "frobnicate", &rc);
	CHECK_EQ(-1, rc);
	CHECK(strstr(out, "unknown command 'frobnicate'") != NULL);
	CHECK(strstr(out, "diagnose") != NULL);
	free(out);
	/* diagnose, both forms: JSON that holds together, with the helper
	 * the daemon found named as a finding with its evidence. */
	ri.helper_attached = 1;
	ri.helper_why = "raw PREROUTING: -j CT --helper \"pptp\"";
	out = run(&g, &ri, "diagnose json", &rc);
	CHECK_EQ(0, rc);
	CHECK(json_balanced(out));
	CHECK(strstr(out, "{\"findings\":[{\"cause\":\"the kernel's PPTP helper")
	      != NULL);
	CHECK(strstr(out, "--helper \\\"pptp\\\"") != NULL);
	free(out);
	out = run(&g, &ri, "diagnose", &rc);
	CHECK_EQ(0, rc);
	CHECK(strstr(out, "1. the kernel's PPTP helper") != NULL);
	CHECK(strstr(out, "   fix: ") != NULL);
	free(out);
	ri.helper_attached = 0;
	out = run(&g, &ri, "", &rc);
	CHECK_EQ(-1, rc);
	free(out);

	gw_destroy(&g);
	return 0;
}

static void test_views(void)
{
	if (report_views() != 0)
		CHECK(!"gw_init failed");
}

static const struct check_case cases[] = {
	CHECK_CASE(views),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
