/*
 * The control socket's answers: every command, its errors, and JSON that
 * holds together (balanced, with the fields pptpgwctl and scripts rely on).
 */
#include <stdlib.h>

#include "check.h"
#include "report.h"

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

int main(void)
{
	struct gw g;
	struct gw_cfg cfg;
	struct calltab_cfg tc = { 16, 8, 1000, 42 };
	struct gw_hooks h = { no_verdict, NULL, NULL, NULL };
	struct report_info ri = { "test", 1000, 61000, 1, 0, 7, 0, "wan0",
				  fake_reload, NULL };
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
	CHECK(strstr(out, "\"bytes_in\":1234}") != NULL);
	CHECK(strstr(out, "\"state\":\"established\"") != NULL);
	CHECK(strstr(out, "\"state\":\"requested\"") != NULL);
	free(out);

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
	out = run(&g, &ri, "stats", &rc);
	CHECK(strstr(out, "\ngre_out_packets 99\n") != NULL);
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
		CHECK(strstr(text, "\npptpgw_drops_total{reason=\"gre_in_late\"} 3\n")
		      != NULL);
		CHECK(strstr(text, "\npptpgw_queue_dropped_total 7\n") != NULL);
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
	free(out);
	out = run(&g, &ri, "", &rc);
	CHECK_EQ(-1, rc);
	free(out);

	gw_destroy(&g);
	return check_report();
}
