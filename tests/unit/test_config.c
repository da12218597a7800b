/*
 * The configuration parser: every key takes effect, every mistake is named
 * with its file and line.
 */
#include <stdlib.h>

#include "check.h"
#include "config.h"

struct ok_case {
	const char *text;
	const char *what;
	long long want;
	long long (*get)(const struct pptpgw_cfg *c);
};

static long long g_queue(const struct pptpgw_cfg *c) { return c->queue; }
static long long g_norules(const struct pptpgw_cfg *c) { return c->no_rules; }
/* the fast path as one number: -1 off, else the engine */
static long long g_fast(const struct pptpgw_cfg *c)
{
	return c->no_fastpath ? -1 : c->fast_engine;
}
static long long g_mark(const struct pptpgw_cfg *c) { return c->gw.mark; }
static long long g_calls(const struct pptpgw_cfg *c) { return c->tab.max_calls; }
static long long g_conns(const struct pptpgw_cfg *c) { return c->tab.max_conns; }
static long long g_hold(const struct pptpgw_cfg *c) { return c->tab.holddown_ms; }
static long long g_cidle(const struct pptpgw_cfg *c) { return c->gw.call_idle_ms; }
static long long g_nidle(const struct pptpgw_cfg *c) { return c->gw.conn_idle_ms; }
static long long g_req(const struct pptpgw_cfg *c) { return c->gw.request_ms; }
static long long g_clr(const struct pptpgw_cfg *c) { return c->gw.clearing_ms; }
static long long g_level(const struct pptpgw_cfg *c) { return c->log_level; }
static long long g_syslog(const struct pptpgw_cfg *c) { return c->use_syslog; }
static long long g_nwan(const struct pptpgw_cfg *c) { return c->nwan; }
static long long g_sock(const struct pptpgw_cfg *c)
{
	return strcmp(c->ctl_path, "/run/x/ctl.sock") == 0;
}
/* 1: the test's path, 2: off, 3: the default, 0: anything else. */
static long long g_state(const struct pptpgw_cfg *c)
{
	return !strcmp(c->state_path, "/run/x/state") ? 1 :
	       !strcmp(c->state_path, "off") ? 2 :
	       !strcmp(c->state_path, PPTPGW_STATE_PATH) ? 3 : 0;
}
static long long g_rall(const struct pptpgw_cfg *c) { return c->relay.all; }
static long long g_rauto(const struct pptpgw_cfg *c) { return c->relay.automatic; }
static long long g_rn(const struct pptpgw_cfg *c) { return c->relay.nservers; }
static long long g_rs0(const struct pptpgw_cfg *c) { return c->relay.servers[0]; }
static long long g_rs1(const struct pptpgw_cfg *c) { return c->relay.servers[1]; }
static long long g_rport(const struct pptpgw_cfg *c) { return c->relay.port; }
static long long g_rpercall(const struct pptpgw_cfg *c) { return c->rl.per_call; }
static long long g_recho(const struct pptpgw_cfg *c) { return c->rl.echo_idle_ms; }
static long long g_rreply(const struct pptpgw_cfg *c) { return c->rl.echo_reply_ms; }
static long long g_rstart(const struct pptpgw_cfg *c) { return c->rl.start_ms; }
static long long g_rreorder(const struct pptpgw_cfg *c) { return c->rl.reorder_ms; }
static long long g_rcalls(const struct pptpgw_cfg *c) { return c->rl.max_calls; }
static long long g_rconns(const struct pptpgw_cfg *c) { return c->rl.max_conns; }
static long long g_cph(const struct pptpgw_cfg *c) { return c->gw.conns_per_host; }
static long long g_hph(const struct pptpgw_cfg *c) { return c->gw.half_open_per_host; }
static long long g_hmax(const struct pptpgw_cfg *c) { return c->gw.half_open_max; }
static long long g_kph(const struct pptpgw_cfg *c) { return c->gw.calls_per_host; }
static long long g_spc(const struct pptpgw_cfg *c) { return c->rl.sessions_per_client; }
static long long g_hto(const struct pptpgw_cfg *c) { return c->gw.half_open_ms; }
static long long g_pend(const struct pptpgw_cfg *c) { return c->gw.pending_max; }
static long long g_pph(const struct pptpgw_cfg *c) { return c->gw.pending_per_host; }
static long long g_metrics(const struct pptpgw_cfg *c)
{
	return strcmp(c->metrics, "0.0.0.0:9100") == 0 ? 1 :
	       strcmp(c->metrics, "off") == 0 ? 2 : 0;
}

static const struct ok_case oks[] = {
	{ "[gateway]\nqueue = 7\n", "queue", 7, g_queue },
	{ "[gateway]\nqueue=0x10 # hex\n", "queue hex", 16, g_queue },
	{ "[gateway]\nrules = no\n", "rules no", 1, g_norules },
	{ "[gateway]\nrules = yes\n", "rules yes", 0, g_norules },
	{ "[gateway]\nmark = 0x20000000\n", "mark", 0x20000000, g_mark },
	{ "", "fastpath default: auto", CFG_FAST_AUTO, g_fast },
	{ "[gateway]\nfastpath = no\n", "fastpath no", -1, g_fast },
	{ "[gateway]\nfastpath = yes\n", "fastpath yes", CFG_FAST_AUTO, g_fast },
	{ "[gateway]\nfastpath = tc\n", "fastpath tc", CFG_FAST_TC, g_fast },
	{ "[gateway]\nfastpath = nftables\n", "fastpath nftables", CFG_FAST_NFT,
	  g_fast },
	{ "[gateway]\nfastpath = no\nfastpath = tc\n", "fastpath no, then tc",
	  CFG_FAST_TC, g_fast },
	{ "[limits]\nmax_calls = 10\n", "max_calls", 10, g_calls },
	{ "[limits]\nmax_conns = 3\n", "max_conns", 3, g_conns },
	{ "[limits]\nconns_per_host = 7\n", "conns_per_host", 7, g_cph },
	{ "[limits]\nconns_per_host = 0\n", "conns_per_host off", 0, g_cph },
	{ "[limits]\nhalf_open_per_host = 3\n", "half_open_per_host", 3,
	  g_hph },
	{ "[limits]\nhalf_open = 99\n", "[limits] half_open", 99, g_hmax },
	{ "[limits]\ncalls_per_host = 12\n", "calls_per_host", 12, g_kph },
	{ "[limits]\nrelay_sessions_per_client = 2\n",
	  "relay_sessions_per_client", 2, g_spc },
	{ "[limits]\npending = 100\n", "pending", 100, g_pend },
	{ "[limits]\npending_per_host = 9\n", "pending_per_host", 9, g_pph },
	{ "", "pending default", 4096, g_pend },
	{ "[timeouts]\nhalf_open = 5\n", "[timeouts] half_open", 5000, g_hto },
	{ "[timeouts]\nhalf_open = 5\n", "[timeouts] half_open is not "
	  "[limits]'", 1024, g_hmax },
	{ "[timeouts]\nholddown = 0\n", "holddown 0", 0, g_hold },
	{ "[timeouts]\nholddown = 5\n", "holddown", 5000, g_hold },
	{ "[timeouts]\ncall_idle = 30\n", "call_idle", 30000, g_cidle },
	{ "[timeouts]\nconn_idle = 40\n", "conn_idle", 40000, g_nidle },
	{ "[timeouts]\nrequest = 9\n", "request", 9000, g_req },
	{ "[timeouts]\nclearing = 2\n", "clearing", 2000, g_clr },
	{ "[control]\nsocket = /run/x/ctl.sock\n", "socket", 1, g_sock },
	{ "[state]\nfile = /run/x/state\n", "state file", 1, g_state },
	{ "[state]\nfile = off\n", "state file off", 2, g_state },
	{ "", "state file default", 3, g_state },
	{ "[metrics]\nlisten = 0.0.0.0:9100\n", "metrics", 1, g_metrics },
	{ "[metrics]\nlisten = off\n", "metrics off", 2, g_metrics },
	{ "[log]\nlevel = debug\n", "level", 7, g_level },
	{ "[log]\nlevel = WARNING\n", "level case", 4, g_level },
	{ "[log]\nsyslog = yes\n", "syslog", 1, g_syslog },
	{ "[gateway]\nwan = eth0, eth1 eth2\nwan = eth3\nwan = eth0\n",
	  "wan list, repeats, duplicates", 4, g_nwan },
	{ "# only comments\n\n   \n\t# more\n", "empty", 0, g_nwan },
	{ "[gateway]\r\nqueue = 9\r\n", "CRLF", 9, g_queue },
	{ "  [ gateway ]  \n  queue   =   11   \n", "spaces", 11, g_queue },
	{ "[gateway]\nqueue = 12", "no final newline", 12, g_queue },
	{ "", "relay port default", RELAY_PORT, g_rport },
	{ "", "relay off by default", 0, g_rn },
	{ "[relay]\nservers = 203.0.113.2\n", "relay server", 0xCB007102, g_rs0 },
	{ "[relay]\nservers = auto, 203.0.113.2\nservers = 198.51.100.7\n",
	  "relay servers accumulate", 2, g_rn },
	{ "[relay]\nservers = 203.0.113.2\nservers = 198.51.100.7\n",
	  "relay second line", 0xC6336407, g_rs1 },
	{ "[relay]\nservers = 203.0.113.2 auto\n", "relay auto", 1, g_rauto },
	{ "[relay]\nservers = all\n", "relay all", 1, g_rall },
	{ "[relay]\nservers = all\nservers = off\n", "relay off clears", 0,
	  g_rall },
	{ "[relay]\nport = 2000\n", "relay port", 2000, g_rport },
	{ "[relay]\nper_call = yes\n", "relay per_call", 1, g_rpercall },
	{ "[relay]\nper_call = yes\nper_call = no\n", "relay per_call no", 0,
	  g_rpercall },
	{ "[relay]\necho_idle = 30\n", "relay echo_idle", 30000, g_recho },
	{ "[relay]\necho_reply = 20\n", "relay echo_reply", 20000, g_rreply },
	{ "[relay]\nstart_timeout = 5\n", "relay start_timeout", 5000, g_rstart },
	{ "[relay]\nreorder_ms = 0\n", "relay reorder_ms 0", 0, g_rreorder },
	{ "[relay]\nreorder_ms = 250\n", "relay reorder_ms", 250, g_rreorder },
	{ "[relay]\nmax_calls = 100\n", "relay max_calls", 100, g_rcalls },
	{ "[relay]\nmax_calls = 100\n", "relay max_calls is not [limits]'",
	  4096, g_calls },
	{ "[relay]\nmax_conns = 300\n", "relay max_conns", 300, g_rconns },
	{ "[limits]\nmax_conns = 5\n[relay]\nmax_conns = 300\n",
	  "[limits] max_conns is not relay's", 5, g_conns },
};

struct err_case {
	const char *text;
	const char *want;   /* the message, after "t.conf:" */
};

static const struct err_case errs[] = {
	{ "queue = 1\n", "1: 'queue' comes before any [section]" },
	{ "[gateway]\nqueue\n", "2: 'queue' is not 'key = value'" },
	{ "[gateway]\nqueue =\n", "2: no value for 'queue'" },
	{ "[gateway\n", "1: section header '[gateway' has no closing ']'" },
	{ "[relays]\n", "1: unknown section [relays]" },
	{ "\n\n[limits]\nmax_call = 1\n", "4: unknown key 'max_call' in [limits]" },
	{ "[limits]\nmax_calls = 0\n", "2: bad value for max_calls: expected 1 to 1048576 calls" },
	{ "[limits]\nmax_calls = -1\n", "2: bad value for max_calls" },
	{ "[limits]\nmax_calls = 12x\n", "2: bad value for max_calls" },
	{ "[limits]\nmax_conns = 1048577\n", "2: bad value for max_conns" },
	{ "[timeouts]\nholddown = 86401\n", "2: bad value for holddown" },
	{ "[timeouts]\ncall_idle = 0\n", "2: bad value for call_idle" },
	{ "[gateway]\nqueue = 65536\n", "2: bad value for queue: expected 0 to 65535" },
	{ "[gateway]\nrules = maybe\n", "2: bad value for rules: expected yes or no" },
	{ "[gateway]\nfastpath = bpf\n", "2: bad value for fastpath: expected yes, no, tc or nftables" },
	{ "[gateway]\nmark = 0\n", "2: bad value for mark" },
	{ "[gateway]\nwan = averyveryverylongname0\n", "2: wan: interface name 'averyveryverylongname0' is not 1 to 15 characters" },
	{ "[gateway]\nwan = a b c d e f g h i\n", "2: wan: more than 8 WAN interfaces" },
	{ "[control]\nsocket = relative.sock\n", "2: bad value for socket" },
	{ "[state]\nfile = state\n", "2: bad value for file" },
	{ "[metrics]\nlisten = 127.0.0.1\n", "2: bad value for listen: expected ADDR:PORT or off" },
	{ "[metrics]\nlisten = 127.0.0.1:0\n", "2: bad value for listen" },
	{ "[metrics]\nlisten = :80\n", "2: bad value for listen" },
	{ "[log]\nlevel = loud\n", "2: bad value for level" },
	{ "[log]\nsyslog = sometimes\n", "2: bad value for syslog" },
	{ "[gateway]\nfoo = 1\n", "2: unknown key 'foo' in [gateway]" },
	{ "[relay]\nservers = 203.0.113\n", "2: servers: '203.0.113' is not an "
	  "IPv4 address, 'all', 'auto' or 'off'" },
	{ "[relay]\nservers = 203.0.113.2\nservers = auto 203.0.113.2\n",
	  "3: servers: server 203.0.113.2 is listed twice" },
	{ "[relay]\nservers = ,\n", "2: servers: no server, 'all', 'auto' or "
	  "'off' in ','" },
	{ "[relay]\nservers = off all\n", "2: servers: 'off' must stand alone" },
	{ "[gateway]\nservers = all\n", "2: unknown key 'servers' in [gateway]" },
	{ "[relay]\nport = 0\n", "2: bad value for port: expected 1 to 65535" },
	{ "[relay]\nport = 65536\n", "2: bad value for port: expected 1 to 65535" },
	{ "[relay]\nper_call = sometimes\n", "2: bad value for per_call: "
	  "expected yes or no" },
	{ "[relay]\necho_idle = 0\n", "2: bad value for echo_idle: expected 1 "
	  "to 3600 seconds" },
	{ "[relay]\necho_reply = 3601\n", "2: bad value for echo_reply: "
	  "expected 1 to 3600 seconds" },
	{ "[relay]\nstart_timeout = 301\n", "2: bad value for start_timeout: "
	  "expected 1 to 300 seconds" },
	{ "[relay]\nreorder_ms = 5001\n", "2: bad value for reorder_ms: "
	  "expected 0 to 5000 milliseconds" },
	{ "[relay]\nmax_calls = 65536\n", "2: bad value for max_calls: "
	  "expected 1 to 65535 calls" },
	{ "[relay]\nmax_conns = 1\n", "2: bad value for max_conns: expected 2 "
	  "to 1048576 connections" },
	{ "[relay]\nqueue = 1\n", "2: unknown key 'queue' in [relay]" },
};

/*
 * The relay list on its own: after `before` (if any), `list` gives the
 * policy `want` (as config_relay_str writes it) or the error `err`, which
 * leaves the policy as `before` made it.
 */
struct relay_case {
	const char *before, *list;
	const char *want;
	const char *err;
};

static const struct relay_case relay_cases[] = {
	{ NULL, "203.0.113.2", "203.0.113.2", NULL },
	{ NULL, "auto,203.0.113.2", "203.0.113.2,auto", NULL },
	{ NULL, "203.0.113.2,auto", "203.0.113.2,auto", NULL },
	{ NULL, "all", "all", NULL },
	{ NULL, "ALL", "all", NULL },
	{ NULL, "Auto", "auto", NULL },
	{ NULL, "auto,all", "all,auto", NULL },
	{ NULL, " 203.0.113.2 ,198.51.100.7\t192.0.2.1 ",
	  "203.0.113.2,198.51.100.7,192.0.2.1", NULL },
	{ NULL, "1.0.0.1,223.255.255.254", "1.0.0.1,223.255.255.254", NULL },
	{ NULL, "off", "off", NULL },
	{ "203.0.113.2", "198.51.100.7", "203.0.113.2,198.51.100.7", NULL },
	{ "auto", "203.0.113.2", "203.0.113.2,auto", NULL },
	{ "all,auto,203.0.113.2", "off", "off", NULL },
	{ NULL, "203.0.113", NULL,
	  "'203.0.113' is not an IPv4 address, 'all', 'auto' or 'off'" },
	{ NULL, "203.0.113.256", NULL, "'203.0.113.256' is not an IPv4 address" },
	{ NULL, "203.0.113.2/32", NULL, "'203.0.113.2/32' is not an IPv4" },
	{ NULL, "pptp.example.com", NULL, "'pptp.example.com' is not an IPv4" },
	{ NULL, "::1", NULL, "'::1' is not an IPv4 address" },
	{ NULL, "allx", NULL, "'allx' is not an IPv4 address" },
	{ NULL, "0.0.0.0", NULL,
	  "'0.0.0.0' is not a unicast address a server could have" },
	{ NULL, "0.1.2.3", NULL, "'0.1.2.3' is not a unicast address" },
	{ NULL, "127.0.0.1", NULL, "'127.0.0.1' is not a unicast address" },
	{ NULL, "224.0.0.1", NULL, "'224.0.0.1' is not a unicast address" },
	{ NULL, "255.255.255.255", NULL,
	  "'255.255.255.255' is not a unicast address" },
	{ NULL, "203.0.113.2,203.0.113.2", NULL,
	  "server 203.0.113.2 is listed twice" },
	{ "203.0.113.2", "198.51.100.7,203.0.113.2", NULL,
	  "server 203.0.113.2 is listed twice" },
	{ NULL, "auto,auto", NULL, "'auto' is given twice" },
	{ "all", "all", NULL, "'all' is given twice" },
	{ NULL, "", NULL, "no server, 'all', 'auto' or 'off' in ''" },
	{ NULL, " , ", NULL, "no server, 'all', 'auto' or 'off' in ' , '" },
	{ NULL, "off,all", NULL, "'off' must stand alone, in 'off,all'" },
	{ "198.51.100.7", "203.0.113.2,bogus", NULL,
	  "'bogus' is not an IPv4 address" },
};

static void relay_list_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(relay_cases) / sizeof(relay_cases[0]); i++) {
		const struct relay_case *t = &relay_cases[i];
		struct pptpgw_cfg c;
		char err[256] = "", got[CONFIG_RELAY_STRLEN], before[CONFIG_RELAY_STRLEN];
		int rc;

		config_default(&c);
		if (t->before && config_relay_list(&c, t->before, err,
						   sizeof(err)) < 0) {
			fprintf(stderr, "relay case %zu: before '%s': %s\n", i,
				t->before, err);
			CHECK(0);
			continue;
		}
		config_relay_str(&c.relay, before, sizeof(before));
		rc = config_relay_list(&c, t->list, err, sizeof(err));
		config_relay_str(&c.relay, got, sizeof(got));
		if (t->err) {
			CHECK_EQ(-1, rc);
			if (strncmp(err, t->err, strlen(t->err)) != 0) {
				fprintf(stderr, "relay '%s': expected '%s'\n"
					"     got '%s'\n", t->list, t->err, err);
				CHECK(0);
			}
			/* A bad list changes nothing. */
			if (strcmp(got, before) != 0) {
				fprintf(stderr, "relay '%s': policy '%s' became "
					"'%s'\n", t->list, before, got);
				CHECK(0);
			}
			continue;
		}
		CHECK_EQ(0, rc);
		if (rc == 0 && strcmp(got, t->want) != 0) {
			fprintf(stderr, "relay '%s': expected '%s', got '%s'\n",
				t->list, t->want, got);
			CHECK(0);
		}
		/* What config_relay_str writes reads back the same. */
		{
			struct pptpgw_cfg d;
			char again[CONFIG_RELAY_STRLEN];

			config_default(&d);
			CHECK_EQ(0, config_relay_list(&d, got, err, sizeof(err)));
			config_relay_str(&d.relay, again, sizeof(again));
			if (strcmp(again, got) != 0) {
				fprintf(stderr, "relay '%s' read back as '%s'\n",
					got, again);
				CHECK(0);
			}
		}
	}
}

/* RELAY_MAX_LISTED servers fit, one more does not; the longest policy fits
 * its buffer and is not cut short. */
static void relay_list_full(void)
{
	struct pptpgw_cfg c;
	char err[256], got[CONFIG_RELAY_STRLEN], ip[20];
	int i, rc = 0;

	config_default(&c);
	CHECK_EQ(0, config_relay_list(&c, "all,auto", err, sizeof(err)));
	for (i = 0; i < RELAY_MAX_LISTED; i++) {
		snprintf(ip, sizeof(ip), "203.0.%d.%d", 100 + i, 200 + i % 50);
		rc |= config_relay_list(&c, ip, err, sizeof(err));
	}
	CHECK_EQ(0, rc);
	CHECK_EQ(RELAY_MAX_LISTED, c.relay.nservers);
	CHECK_EQ(-1, config_relay_list(&c, "198.51.100.7", err, sizeof(err)));
	snprintf(ip, sizeof(ip), "more than %d", RELAY_MAX_LISTED);
	CHECK(strncmp(err, ip, strlen(ip)) == 0);
	CHECK(strstr(err, " relayed servers") != NULL);
	CHECK_EQ(RELAY_MAX_LISTED, c.relay.nservers);
	config_relay_str(&c.relay, got, sizeof(got));
	CHECK(strncmp(got, "all,203.0.100.200,", 18) == 0);
	CHECK(strlen(got) > 5 && strcmp(got + strlen(got) - 5, ",auto") == 0);
	/* The longest policy reads back too, though longer than a config line
	 * (fuzz_config's round trip: it was refused as over 511 characters). */
	CHECK(strlen(got) > 511);
	{
		struct pptpgw_cfg d;
		char again[CONFIG_RELAY_STRLEN];

		config_default(&d);
		CHECK_EQ(0, config_relay_list(&d, got, err, sizeof(err)));
		config_relay_str(&d.relay, again, sizeof(again));
		CHECK(strcmp(again, got) == 0);
	}
	/* A buffer too small is cut, still terminated. */
	config_relay_str(&c.relay, got, 8);
	CHECK(strcmp(got, "all,203") == 0);
}

/* Every good line gives its value. */
static void test_ok_lines(void)
{
	size_t i;
	char err[512];
	struct pptpgw_cfg c;

	for (i = 0; i < sizeof(oks) / sizeof(oks[0]); i++) {
		config_default(&c);
		err[0] = 0;
		if (config_parse(oks[i].text, "t.conf", &c, err, sizeof(err)) != 0)
			fprintf(stderr, "case '%s': %s\n", oks[i].what, err);
		CHECK_EQ(oks[i].want, oks[i].get(&c));
	}
}

/* Every bad line is refused with its file, line and reason. */
static void test_error_lines(void)
{
	size_t i;
	char err[512];
	struct pptpgw_cfg c;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		char want[256];

		config_default(&c);
		err[0] = 0;
		snprintf(want, sizeof(want), "t.conf:%s", errs[i].want);
		CHECK_EQ(-1, config_parse(errs[i].text, "t.conf", &c, err,
					  sizeof(err)));
		if (strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "expected '%s'\n     got '%s'\n", want, err);
			CHECK(0);
		} else {
			CHECK(1);
		}
	}
}

/* An overlong line is an error, not a truncation. */
static void test_overlong_line(void)
{
	char err[512], big[700];
	struct pptpgw_cfg c;

	config_default(&c);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "[log]\n#", 7);
	CHECK_EQ(-1, config_parse(big, "t.conf", &c, err, sizeof(err)));
	CHECK(strstr(err, "t.conf:2: line longer than 511") != NULL);
}

/* config_load: a missing file matters only when asked for. */
static void test_load_missing(void)
{
	char err[512];
	struct pptpgw_cfg c;

	config_default(&c);
	CHECK_EQ(0, config_load("/nonexistent/pptpgw.conf", 0, &c, err,
				sizeof(err)));
	CHECK_EQ(-1, config_load("/nonexistent/pptpgw.conf", 1, &c, err,
				 sizeof(err)));
	CHECK(strstr(err, "No such file") != NULL);
}

/* A reload may change timeouts, not what shapes the running gateway. */
static void test_restart_only(void)
{
	struct pptpgw_cfg a, b;

	config_default(&a);
	b = a;
	CHECK(config_restart_only(&a, &b) == NULL);
	b.gw.call_idle_ms += 1000;
	b.tab.holddown_ms += 1000;
	/* The per-host limits are reloadable. */
	b.gw.conns_per_host = 1;
	b.gw.half_open_per_host = 1;
	b.gw.half_open_max = 1;
	b.gw.calls_per_host = 1;
	b.gw.half_open_ms = 1000;
	b.rl.sessions_per_client = 1;
	b.log_level = a.log_level + 1;
	CHECK(config_restart_only(&a, &b) == NULL);
	b = a;
	strcpy(b.wan[0], "eth9");
	b.nwan = 1;
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "wan") == 0);
	b = a;
	b.tab.max_calls++;
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "max_calls") == 0);
	b = a;
	b.relay.all = !a.relay.all;
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "relay on or off") == 0);
	b = a;
	b.fast_engine = CFG_FAST_NFT;
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "fastpath") == 0);
	b = a;
	strcpy(b.state_path, "/tmp/other");
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "state file") == 0);
	b = a;
	strcpy(b.metrics, "127.0.0.1:1");
	CHECK(config_restart_only(&a, &b) != NULL &&
	      strcmp(config_restart_only(&a, &b), "metrics listen") == 0);
}

static const struct check_case cases[] = {
	CHECK_CASE(restart_only),
	CHECK_CASE(ok_lines),
	CHECK_CASE(error_lines),
	{ "relay_list_cases", relay_list_cases },
	{ "relay_list_full", relay_list_full },
	CHECK_CASE(overlong_line),
	CHECK_CASE(load_missing),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
