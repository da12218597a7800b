/*
 * The translator's GRE, both ways, for packets that are not plainly a
 * live call's: spoofed sources and foreign destinations, strays with and
 * without a local GRE reader, late GRE after a call ended (held-down
 * alias), GRE of a refused call.  A live call's GRE is in test_gw_ctl.c
 * (basic_call, eight_hosts).  The bench is in gw_fixture.h.
 */
#include "gw_fixture.h"
#include "ctl/diagnose.h"

static void test_cdn_from_server(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	t = msg(&e, &f, DIR_IN, PPTP_CDN, 500, 0, 3);
	CHECK(accepted(t));
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.ends[END_CDN]);
	CHECK_EQ(0, e.g.tab.ncalls_used);
	CHECK_EQ(1, alias_held(&e.g.aliases, PUB, SERVER, alias));
	/* Late GRE is not translated to the inside any more: while the alias
	 * is held down it is dropped (delivered here it would draw an ICMP
	 * error that kills the server's other calls with us). */
	t = gre_in(&e, &f, alias);
	CHECK(dropped(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(0, t->mark);
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_LATE]);
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN_NOCALL]);
	/* After the hold-down, it is a stray for this host, still untranslated. */
	gw_tick(&e.g, e.now + HOLDDOWN);
	e.now += HOLDDOWN;
	t = gre_in(&e, &f, alias);
	CHECK(passed(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_NOCALL]);
	t = gre_out(&e, &f, 500);
	CHECK(dropped(t));
	CHECK_EQ(INSIDE(1), pg_src(t->buf));
	CHECK_EQ(1, e.g.ctr[GC_GRE_OUT_NOCALL]);
	env_done(&e);
}

/*
 * Inbound GRE for no call goes to this host only when something here reads
 * GRE: otherwise it would draw an ICMP protocol-unreachable, on which pptpd
 * drops every call it has with our public address.
 */
/* Malformed inbound GRE is judged as a stray: nothing here reads GRE, so
 * it is dropped (its ICMP answer would end the server's calls). */
static void test_malformed_gre_no_reader(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	struct gw_meta m;
	uint16_t alias;
	int answer;

	memset(&m, 0, sizeof(m));
	m.dir = DIR_IN;
	for (answer = 0; answer <= 1; answer++) {
		local_gre_answer = answer;
		if (env_init(&e, 64) < 0)
			break;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		alias = setup_call(&e, &f, 1, 500, 1);
		t = new_pkt(&e);
		t->gp.len = pg_gre(t->buf, sizeof(t->buf), SERVER, PUB, alias,
				   0, 0, 0, 0, NULL, 0);
		t->buf[21] = 0;   /* version 0 */
		gw_input(&e.g, &t->gp, &m, e.now);
		CHECK(answer ? passed(t) : dropped(t));
		CHECK_EQ(PUB, pg_dst(t->buf));
		CHECK_EQ(1, e.g.ctr[GC_GRE_MALFORMED]);
		env_done(&e);
	}
	local_gre_answer = -1;
}

static void test_stray_gre_no_reader(void)
{
	struct env e;
	struct flow f;
	struct tpkt *t;
	int answer;

	for (answer = 0; answer <= 1; answer++) {
		local_gre_answer = answer;
		if (env_init(&e, 64) < 0)
			break;
		flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
		setup_call(&e, &f, 1, 500, 1);
		t = gre_in(&e, &f, 999);
		CHECK(answer ? passed(t) : dropped(t));
		CHECK_EQ(999, pg_gre_callid(t->buf));
		CHECK_EQ(answer, e.g.ctr[GC_GRE_IN_NOCALL]);
		CHECK_EQ(!answer, e.g.ctr[GC_GRE_IN_NOCALL_DROP]);
		CHECK_EQ(0, e.g.ctr[GC_GRE_IN]);
		env_done(&e);
	}
	local_gre_answer = -1;
}

static void test_gre_spoof(void)
{
	struct env e;
	struct flow f, other;
	struct tpkt *t;
	uint16_t alias;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	alias = setup_call(&e, &f, 1, 500, 1);
	/* A third address uses a valid alias: untranslated, to this host. */
	t = gre_pkt(&e, DIR_IN, THIRD, PUB, alias, 1, 0);
	CHECK(passed(t));
	CHECK_EQ(PUB, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	CHECK_EQ(0, t->mark);
	CHECK_MEM(t->orig, t->buf, t->gp.len);
	CHECK_EQ(1, e.g.ctr[GC_GRE_IN_NOCALL]);
	/* The right server, but to another public address. */
	t = gre_pkt(&e, DIR_IN, SERVER, PUB + 1, alias, 1, 0);
	CHECK(passed(t));
	CHECK_EQ(PUB + 1, pg_dst(t->buf));
	CHECK_EQ(alias, pg_gre_callid(t->buf));
	/* GRE out with an unknown call: dropped, never leaks the source. */
	t = gre_out(&e, &f, 501);
	CHECK(dropped(t));
	/* Another inside host using this call's server ID. */
	flow_init(&other, INSIDE(5), 40000, SERVER, 61005);
	t = gre_out(&e, &other, 500);
	CHECK(dropped(t));
	/* To another server. */
	flow_init(&other, INSIDE(1), 40000, SERVER2, 61005);
	t = gre_out(&e, &other, 500);
	CHECK(dropped(t));
	CHECK_EQ(3, e.g.ctr[GC_GRE_OUT_NOCALL]);
	/* GRE before the server's reply: the alias works, the way out not. */
	{
		struct tpkt *q = msg(&e, &f, DIR_OUT, PPTP_OCRQ, 2, 0, 0);
		uint16_t a2 = pl16(q, 12);

		t = gre_in(&e, &f, a2);
		CHECK_EQ(INSIDE(1), pg_dst(t->buf));
		CHECK_EQ(2, pg_gre_callid(t->buf));
	}
	env_done(&e);
}

/* Inbound GRE to a refused call's alias is neither translated nor given to
 * this host (an ICMP error back would end the server's other calls). */
static void test_refused_call_gre_dropped(void)
{
	struct env e;
	struct flow f, g;
	struct tpkt *q, *t;
	uint16_t alias;

	if (env_init_cfg(&e, 64, 1, NULL) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&g, INSIDE(2), 40000, SERVER, 61001);
	setup_call(&e, &f, 1, 500, 1);
	handshake(&e, &g);
	msg(&e, &g, DIR_OUT, PPTP_SCCRQ, 0, 0, 0);
	msg(&e, &g, DIR_IN, PPTP_SCCRP, 0, 0, 1);
	q = msg(&e, &g, DIR_OUT, PPTP_OCRQ, 7, 0, 0);
	CHECK(accepted(q));
	alias = pl16(q, 12);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_REFUSED]);
	t = gre_in(&e, &g, alias);
	CHECK(dropped(t));
	CHECK_EQ(0, e.g.ctr[GC_GRE_IN_NOCALL]);
	env_done(&e);
}


/* diagnose's text answer for the bench's translator, nothing else known. */
static int diag_says(struct env *e, const char *what)
{
	struct report_info ri = { .now_ms = e->now, .rules_installed = 1 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	report_diagnose(f, &e->g, &ri, 0);
	fclose(f);
	r = strstr(text, what) != NULL;
	if (!r)
		fprintf(stderr, "diagnose said: %s", text);
	free(text);
	return r;
}

/*
 * GRE that goes out and never comes back (a double NAT without PPTP
 * support): reported once, GW_GRE_BACK_MS after the call came up, when at
 * least GW_GRE_BACK_PKTS went out; cleared when GRE comes back; and
 * pptpgwctl diagnose names it.  A call with GRE both ways, or too little
 * out, is not reported.
 */
static void test_no_gre_back(void)
{
	struct env e;
	struct flow f, f2;
	uint16_t alias, alias2;
	int i;

	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	flow_init(&f2, INSIDE(2), 40000, SERVER, 61001);
	alias = setup_call(&e, &f, 1, 500, 1);
	alias2 = setup_call(&e, &f2, 2, 501, 1);
	CHECK(diag_says(&e, "no problem found"));
	for (i = 0; i < GW_GRE_BACK_PKTS; i++) {
		CHECK(accepted(gre_out(&e, &f, 500)));
		CHECK(accepted(gre_out(&e, &f2, 501)));
		CHECK(accepted(gre_in(&e, &f2, alias2)));
	}
	gw_tick(&e.g, e.now + GW_GRE_BACK_MS - 1);
	CHECK_EQ(0, e.ev[GWE_CALL_NO_GRE_BACK]);
	gw_tick(&e.g, e.now + GW_GRE_BACK_MS);
	gw_tick(&e.g, e.now + GW_GRE_BACK_MS + 1000);
	CHECK_EQ(1, e.ev[GWE_CALL_NO_GRE_BACK]);
	CHECK_EQ(1, e.g.ctr[GC_CALLS_NO_GRE_BACK]);
	CHECK_EQ(1, e.g.tab.calls[0].no_gre_back + e.g.tab.calls[1].no_gre_back);
	CHECK(diag_says(&e, "none comes back"));
	CHECK(diag_says(&e, "198.18.0.11:1 -> 192.0.2.10: 5 GRE out, 0 in"));
	/* It comes back: the call is fine again, and so is the diagnosis. */
	CHECK(accepted(gre_in(&e, &f, alias)));
	gw_tick(&e.g, e.now + GW_GRE_BACK_MS + 2000);
	CHECK_EQ(0, e.g.tab.calls[0].no_gre_back + e.g.tab.calls[1].no_gre_back);
	CHECK(diag_says(&e, "no problem found"));
	env_done(&e);

	/* Too little out: nothing to say. */
	if (env_init(&e, 64) < 0)
		return;
	flow_init(&f, INSIDE(1), 40000, SERVER, 61000);
	setup_call(&e, &f, 1, 500, 1);
	for (i = 0; i + 1 < GW_GRE_BACK_PKTS; i++)
		CHECK(accepted(gre_out(&e, &f, 500)));
	gw_tick(&e.g, e.now + 2 * GW_GRE_BACK_MS);
	CHECK_EQ(0, e.ev[GWE_CALL_NO_GRE_BACK]);
	env_done(&e);
}

static const struct check_case cases[] = {
	CHECK_CASE(cdn_from_server),
	CHECK_CASE(no_gre_back),
	CHECK_CASE(stray_gre_no_reader),
	CHECK_CASE(malformed_gre_no_reader),
	CHECK_CASE(gre_spoof),
	CHECK_CASE(refused_call_gre_dropped),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
