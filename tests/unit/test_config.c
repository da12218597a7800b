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
	long long (*get)(const struct daemon_cfg *c);
};

static long long g_queue(const struct daemon_cfg *c) { return c->queue; }
static long long g_norules(const struct daemon_cfg *c) { return c->no_rules; }
static long long g_mark(const struct daemon_cfg *c) { return c->gw.mark; }
static long long g_calls(const struct daemon_cfg *c) { return c->tab.max_calls; }
static long long g_conns(const struct daemon_cfg *c) { return c->tab.max_conns; }
static long long g_hold(const struct daemon_cfg *c) { return c->tab.holddown_ms; }
static long long g_cidle(const struct daemon_cfg *c) { return c->gw.call_idle_ms; }
static long long g_nidle(const struct daemon_cfg *c) { return c->gw.conn_idle_ms; }
static long long g_req(const struct daemon_cfg *c) { return c->gw.request_ms; }
static long long g_clr(const struct daemon_cfg *c) { return c->gw.clearing_ms; }
static long long g_level(const struct daemon_cfg *c) { return c->log_level; }
static long long g_syslog(const struct daemon_cfg *c) { return c->use_syslog; }
static long long g_nwan(const struct daemon_cfg *c) { return c->nwan; }
static long long g_sock(const struct daemon_cfg *c)
{
	return strcmp(c->ctl_path, "/run/x/ctl.sock") == 0;
}
static long long g_metrics(const struct daemon_cfg *c)
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
	{ "[limits]\nmax_calls = 10\n", "max_calls", 10, g_calls },
	{ "[limits]\nmax_conns = 3\n", "max_conns", 3, g_conns },
	{ "[timeouts]\nholddown = 0\n", "holddown 0", 0, g_hold },
	{ "[timeouts]\nholddown = 5\n", "holddown", 5000, g_hold },
	{ "[timeouts]\ncall_idle = 30\n", "call_idle", 30000, g_cidle },
	{ "[timeouts]\nconn_idle = 40\n", "conn_idle", 40000, g_nidle },
	{ "[timeouts]\nrequest = 9\n", "request", 9000, g_req },
	{ "[timeouts]\nclearing = 2\n", "clearing", 2000, g_clr },
	{ "[control]\nsocket = /run/x/ctl.sock\n", "socket", 1, g_sock },
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
	{ "[relay]\n", "1: unknown section [relay]" },
	{ "\n\n[limits]\nmax_call = 1\n", "4: unknown key 'max_call' in [limits]" },
	{ "[limits]\nmax_calls = 0\n", "2: bad value for max_calls: expected 1 to 1048576 calls" },
	{ "[limits]\nmax_calls = -1\n", "2: bad value for max_calls" },
	{ "[limits]\nmax_calls = 12x\n", "2: bad value for max_calls" },
	{ "[limits]\nmax_conns = 1048577\n", "2: bad value for max_conns" },
	{ "[timeouts]\nholddown = 86401\n", "2: bad value for holddown" },
	{ "[timeouts]\ncall_idle = 0\n", "2: bad value for call_idle" },
	{ "[gateway]\nqueue = 65536\n", "2: bad value for queue: expected 0 to 65535" },
	{ "[gateway]\nrules = maybe\n", "2: bad value for rules: expected yes or no" },
	{ "[gateway]\nmark = 0\n", "2: bad value for mark" },
	{ "[gateway]\nwan = averyveryverylongname0\n", "2: wan: interface name 'averyveryverylongname0' is not 1 to 15 characters" },
	{ "[gateway]\nwan = a b c d e f g h i\n", "2: wan: more than 8 WAN interfaces" },
	{ "[control]\nsocket = relative.sock\n", "2: bad value for socket" },
	{ "[metrics]\nlisten = 127.0.0.1\n", "2: bad value for listen: expected ADDR:PORT or off" },
	{ "[metrics]\nlisten = 127.0.0.1:0\n", "2: bad value for listen" },
	{ "[metrics]\nlisten = :80\n", "2: bad value for listen" },
	{ "[log]\nlevel = loud\n", "2: bad value for level" },
	{ "[log]\nsyslog = sometimes\n", "2: bad value for syslog" },
	{ "[gateway]\nfoo = 1\n", "2: unknown key 'foo' in [gateway]" },
};

int main(void)
{
	size_t i;
	char err[512], big[700];
	struct daemon_cfg c;

	for (i = 0; i < sizeof(oks) / sizeof(oks[0]); i++) {
		daemon_default_cfg(&c);
		err[0] = 0;
		if (config_parse(oks[i].text, "t.conf", &c, err, sizeof(err)) != 0)
			fprintf(stderr, "case '%s': %s\n", oks[i].what, err);
		CHECK_EQ(oks[i].want, oks[i].get(&c));
	}
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		char want[256];

		daemon_default_cfg(&c);
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
	/* An overlong line is an error, not a truncation. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "[log]\n#", 7);
	CHECK_EQ(-1, config_parse(big, "t.conf", &c, err, sizeof(err)));
	CHECK(strstr(err, "t.conf:2: line longer than 511") != NULL);
	/* config_load: a missing file matters only when asked for. */
	daemon_default_cfg(&c);
	CHECK_EQ(0, config_load("/nonexistent/pptpgw.conf", 0, &c, err,
				sizeof(err)));
	CHECK_EQ(-1, config_load("/nonexistent/pptpgw.conf", 1, &c, err,
				 sizeof(err)));
	CHECK(strstr(err, "No such file") != NULL);
	return check_report();
}
