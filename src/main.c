/* pptpgw: configuration (file, then command line), then the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "precheck.h"
#include "io/fastpath.h"
#include "io/rules.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: pptpgw [-f FILE] [--wan IFACE ...] [options]\n"
"       pptpgw -n [-f FILE]            check the configuration and exit\n"
"       pptpgw --print-rules iptables|nft|fastpath --wan IFACE [--queue N]\n"
"\n"
"Transparent PPTP NAT gateway: aliases inside Call IDs and translates the\n"
"enhanced GRE of every call, so many inside hosts can hold PPTP tunnels\n"
"through one public address.  Runs in the foreground.  Settings come from\n"
"the configuration file (" PPTPGW_CONF " if present), then from the\n"
"command line.  SIGHUP reloads the file without dropping calls.\n"
"\n"
"  -f, --config FILE      configuration file (default " PPTPGW_CONF ")\n"
"  -n, --check            check the configuration, print what is wrong\n"
"      --cleanup          remove what a stopped pptpgw left for its next\n"
"                         start (rules, kernel maps, state file) and exit\n"
"  -w, --wan IFACE        WAN (NAT'd) interface; repeat for several\n"
"  -q, --queue N          NFQUEUE number (default 1723)\n"
"      --no-rules         do not install netfilter rules (see rules/)\n"
"      --fastpath ENGINE  established calls' GRE in the kernel by tc-BPF (tc),\n"
"                         nftables maps (nftables), or the first of them\n"
"                         this host can run (auto, the default)\n"
"      --no-fastpath      translate every GRE packet in pptpgw, none in the\n"
"                         kernel (see README)\n"
"      --print-rules KIND print the rules for iptables-restore or nft, or\n"
"                         the fast path's table (fastpath)\n"
"  -s, --socket PATH      control socket (default " PPTPGW_CTL_PATH ")\n"
"      --state-file PATH  where translated calls are kept across restarts\n"
"                         (default " PPTPGW_STATE_PATH ", or off)\n"
"      --metrics ADDR:PORT  Prometheus /metrics (default " PPTPGW_METRICS ", or off)\n"
"      --max-calls N      calls at once (default 4096)\n"
"      --max-conns N      control connections at once (default 4096)\n"
"      --holddown SEC     before a freed alias is reused (default 60)\n"
"      --call-idle SEC    end a call without traffic (default 300)\n"
"      --relay LIST       relay, not translate, calls to these servers: IPv4\n"
"                         addresses, 'all', 'auto' (servers seen failing to\n"
"                         cope) or 'off', comma-separated; may repeat, and\n"
"                         replaces the file's list\n"
"      --relay-port N     local port for intercepted control connections\n"
"                         (default 1724)\n"
"      --relay-per-call   one upstream control connection per relayed call\n"
"      --syslog           log to syslog instead of stderr\n"
"  -v, --verbose          debug logging\n"
"  -h, --help\n");
}

/* Long options without a short form. */
enum {
	OPT_RELAY = 256,
	OPT_RELAY_PORT,
	OPT_RELAY_PER_CALL,
	OPT_NO_FASTPATH,
	OPT_FASTPATH,
	OPT_STATE_FILE,
	OPT_CLEANUP,
};

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'f' },
	{ "check", no_argument, NULL, 'n' },
	{ "cleanup", no_argument, NULL, OPT_CLEANUP },
	{ "wan", required_argument, NULL, 'w' },
	{ "queue", required_argument, NULL, 'q' },
	{ "no-rules", no_argument, NULL, 'N' },
	{ "no-fastpath", no_argument, NULL, OPT_NO_FASTPATH },
	{ "fastpath", required_argument, NULL, OPT_FASTPATH },
	{ "print-rules", required_argument, NULL, 'P' },
	{ "socket", required_argument, NULL, 's' },
	{ "state-file", required_argument, NULL, OPT_STATE_FILE },
	{ "metrics", required_argument, NULL, 'M' },
	{ "max-calls", required_argument, NULL, 'C' },
	{ "max-conns", required_argument, NULL, 'K' },
	{ "holddown", required_argument, NULL, 'H' },
	{ "call-idle", required_argument, NULL, 'I' },
	{ "relay", required_argument, NULL, OPT_RELAY },
	{ "relay-port", required_argument, NULL, OPT_RELAY_PORT },
	{ "relay-per-call", no_argument, NULL, OPT_RELAY_PER_CALL },
	{ "syslog", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const char *optstr = "f:nw:q:s:vh";

/* What the first pass finds: the file, and what to do instead of running. */
static const char *conf_path = PPTPGW_CONF;
static int conf_required, check_only, cleanup;
static const char *print_kind;
static int saved_argc;
static char **saved_argv;

static int num_arg(const char *name, const char *s, unsigned long min,
		   unsigned long max, unsigned long *out, char *err, size_t n)
{
	char *end;

	*out = strtoul(s, &end, 10);
	if (!*s || *end || *s == '-' || *out < min || *out > max) {
		snprintf(err, n, "%s: '%s' is not a number from %lu to %lu",
			 name, s, min, max);
		return -1;
	}
	return 0;
}

static int copy_str(char *dst, size_t size, const char *name, const char *v,
		    char *err, size_t n)
{
	if (strlen(v) >= size) {
		snprintf(err, n, "%s: '%s' is too long", name, v);
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

/* Apply the command line on top of c; returns 0, -1 (err), or 1 (help). */
static int apply_args(int argc, char **argv, struct pptpgw_cfg *c, char *err,
		      size_t n)
{
	unsigned long v;
	int ch, cli_wan = 0, cli_relay = 0;

	optind = 0;   /* glibc: start over, options anywhere */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
		case 'n':
		case 'P':
		case OPT_CLEANUP:
			break;
		case 'w':
			/* The command line's WAN list replaces the file's. */
			if (!cli_wan++)
				c->nwan = 0;
			if (config_add_wan(c, optarg, err, n) < 0)
				return -1;
			break;
		case 'q':
			if (num_arg("--queue", optarg, 0, 65535, &v, err, n))
				return -1;
			c->queue = (uint16_t)v;
			break;
		case 'N':
			c->no_rules = 1;
			break;
		case OPT_NO_FASTPATH:
			c->no_fastpath = 1;
			break;
		case OPT_FASTPATH:
			if (config_fast_engine(optarg, &c->fast_engine) < 0) {
				snprintf(err, n, "--fastpath: expected auto, tc "
					 "or nftables, not '%s'", optarg);
				return -1;
			}
			c->no_fastpath = 0;
			break;
		case 's':
			if (copy_str(c->ctl_path, sizeof(c->ctl_path),
				     "--socket", optarg, err, n))
				return -1;
			break;
		case OPT_STATE_FILE:
			if ((optarg[0] != '/' && strcmp(optarg, "off")) ||
			    strlen(optarg) >= sizeof(c->state_path) - 8) {
				snprintf(err, n, "--state-file: '%s' is not off "
					 "or an absolute path", optarg);
				return -1;
			}
			strcpy(c->state_path, optarg);
			break;
		case 'M':
			if (copy_str(c->metrics, sizeof(c->metrics),
				     "--metrics", optarg, err, n))
				return -1;
			break;
		case 'C':
			if (num_arg("--max-calls", optarg, 1, 1 << 20, &v, err, n))
				return -1;
			c->tab.max_calls = (uint32_t)v;
			break;
		case 'K':
			if (num_arg("--max-conns", optarg, 1, 1 << 20, &v, err, n))
				return -1;
			c->tab.max_conns = (uint32_t)v;
			break;
		case 'H':
			if (num_arg("--holddown", optarg, 0, 86400, &v, err, n))
				return -1;
			c->tab.holddown_ms = (uint32_t)v * 1000;
			break;
		case 'I':
			if (num_arg("--call-idle", optarg, 1, 86400, &v, err, n))
				return -1;
			c->gw.call_idle_ms = (uint32_t)v * 1000;
			break;
		case OPT_RELAY: {
			char why[256];

			/* Like --wan: the command line's list replaces the
			 * file's, and repeats add to it. */
			if (!cli_relay++) {
				c->relay.all = c->relay.automatic = 0;
				c->relay.nservers = 0;
			}
			if (config_relay_list(c, optarg, why, sizeof(why)) < 0) {
				snprintf(err, n, "--relay: %s", why);
				return -1;
			}
			break;
		}
		case OPT_RELAY_PORT:
			if (num_arg("--relay-port", optarg, 1, 65535, &v, err, n))
				return -1;
			c->relay.port = (uint16_t)v;
			break;
		case OPT_RELAY_PER_CALL:
			c->rl.per_call = 1;
			break;
		case 'S':
			c->use_syslog = 1;
			break;
		case 'v':
			c->log_level = LOG_DEBUG;
			break;
		case 'h':
			return 1;
		default:
			snprintf(err, n, "unknown option or missing argument: "
				 "'%s'", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, n, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

/* Defaults, then the file, then the command line: also what SIGHUP does. */
static int build_config(struct pptpgw_cfg *c, char *err, size_t n)
{
	config_default(c);
	c->reload = build_config;
	if (config_load(conf_path, conf_required, c, err, n) < 0)
		return -1;
	return apply_args(saved_argc, saved_argv, c, err, n) < 0 ? -1 : 0;
}

static void first_pass(int argc, char **argv)
{
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, opts, NULL)) != -1) {
		if (ch == 'f') {
			conf_path = optarg;
			conf_required = 1;
		} else if (ch == 'n') {
			check_only = 1;
		} else if (ch == 'P') {
			print_kind = optarg;
		} else if (ch == OPT_CLEANUP) {
			cleanup = 1;
		}
	}
}

/*
 * pptpgw --cleanup: a pptpgw stopped with translated calls up leaves its
 * rules, the kernel's maps and the state file for its next start; when no
 * start is to come (the package removed, the kernel helper to be used
 * instead), this removes them: the calls end.
 */
static int do_cleanup(const struct pptpgw_cfg *c)
{
	struct fastpath_cfg fc;
	struct fastpath *fp;
	char why[128];
	int i;

	rules_remove();
	/* Opening the table replaces it; closing deletes it. */
	memset(&fc, 0, sizeof(fc));
	for (i = 0; i < c->nwan && i < 8; i++)
		snprintf(fc.wan[i], sizeof(fc.wan[i]), "%s", c->wan[i]);
	fc.nwan = i;
	fc.mark = c->gw.mark;
	fc.slots = 1;
	fp = fastpath_open(&fc, why, sizeof(why));
	fastpath_close(fp);
	if (strcmp(c->state_path, "off"))
		unlink(c->state_path);
	printf("pptpgw: rules, kernel maps and state file removed\n");
	return 0;
}

/* The table the daemon makes for the kernel data plane, empty. */
static void print_fastpath(const struct pptpgw_cfg *c)
{
	struct fastpath_cfg fc;
	int i;

	memset(&fc, 0, sizeof(fc));
	for (i = 0; i < c->nwan && i < 8; i++)
		snprintf(fc.wan[i], sizeof(fc.wan[i]), "%s", c->wan[i]);
	fc.nwan = i;
	fc.mark = c->gw.mark;
	printf("# pptpgw's kernel data plane (the daemon makes it itself)\n");
	fastpath_print_nft(stdout, &fc);
}

static int print_rules(const struct pptpgw_cfg *c)
{
	struct rules_cfg rc = { .nwan = c->nwan, .queue = c->queue,
				.mark = c->gw.mark };
	int i;

	for (i = 0; i < c->nwan; i++)
		rc.wan[i] = c->wan[i];
	/* With --relay, the relay's chains too (auto adds servers later). */
	rc.relay = c->relay.all || c->relay.automatic || c->relay.nservers;
	rc.relay_all = c->relay.all;
	rc.relay_servers = c->relay.servers;
	rc.nrelay = c->relay.nservers;
	rc.relay_port = c->relay.port;
	if (strcmp(print_kind, "iptables") == 0)
		rules_print_iptables(stdout, &rc);
	else if (strcmp(print_kind, "nft") == 0)
		rules_print_nft(stdout, &rc);
	else if (strcmp(print_kind, "fastpath") == 0)
		print_fastpath(c);
	else {
		fprintf(stderr, "pptpgw: --print-rules takes iptables, nft or "
			"fastpath\n");
		return 2;
	}
	return 0;
}

/* Whether a pptpgw answers on the control socket of c. */
static int running(const struct pptpgw_cfg *c)
{
	struct sockaddr_un sun;
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* A WAN without an IPv4 address yet is worth a word, not a refusal: DHCP
 * may still be at work. */
static void note_addresses(const struct pptpgw_cfg *c)
{
	struct ifaddrs *ifa, *a;
	int i;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = 0; i < c->nwan; i++) {
		for (a = ifa; a; a = a->ifa_next)
			if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET &&
			    !strcmp(a->ifa_name, c->wan[i]))
				break;
		if (!a)
			printf("note: WAN interface %s has no IPv4 address "
			       "yet\n", c->wan[i]);
	}
	freeifaddrs(ifa);
}

/*
 * pptpgw -n: the file, then what can be checked on this host without
 * starting: the WAN interfaces, the queue number, the kernel helper.
 */
static int check_host(const struct pptpgw_cfg *c)
{
	char relay[CONFIG_RELAY_STRLEN], why[256];
	int bad = 0;

	if (precheck_wans(c, why, sizeof(why)) < 0) {
		fprintf(stderr, "pptpgw: %s\n", why);
		bad = 1;
	} else {
		note_addresses(c);
	}
	if (precheck_queue(c->queue, why, sizeof(why)) < 0) {
		if (running(c)) {
			printf("note: queue %u is in use by the pptpgw running "
			       "now\n", c->queue);
		} else {
			fprintf(stderr, "pptpgw: %s\n", why);
			bad = 1;
		}
	}
	if (!precheck_net_admin())
		printf("note: not checked without CAP_NET_ADMIN: whether the "
		       "kernel PPTP helper is in use\n");
	else if (rules_helper_conflict(why, sizeof(why))) {
		fprintf(stderr, "pptpgw: the kernel PPTP helper is in use on "
			"this host: %s\n", why);
		bad = 1;
	}
	if (bad)
		return 1;
	printf("%s: OK (WAN %s%s, queue %u, relay %s)\n",
	       access(conf_path, R_OK) == 0 ? conf_path : "defaults",
	       c->wan[0], c->nwan > 1 ? ", ..." : "", c->queue,
	       config_relay_str(&c->relay, relay, sizeof(relay)));
	return 0;
}

int main(int argc, char **argv)
{
	static struct pptpgw_cfg cfg;
	char err[512];
	int r;

	saved_argc = argc;
	saved_argv = argv;
	first_pass(argc, argv);
	config_default(&cfg);
	r = apply_args(argc, argv, &cfg, err, sizeof(err));
	if (r == 1) {
		usage(stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "pptpgw: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (build_config(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pptpgw: %s\n", err);
		return check_only ? 1 : EXIT_CONFIG;
	}
	if (cleanup)
		return do_cleanup(&cfg);
	if (cfg.nwan == 0) {
		fprintf(stderr, "pptpgw: no WAN interface: give --wan IFACE or "
			"'wan =' in [gateway] of %s\n", conf_path);
		return check_only ? 1 : EXIT_CONFIG;
	}
	if (print_kind)
		return print_rules(&cfg);
	if (check_only)
		return check_host(&cfg);
	if (!precheck_net_admin())
		fprintf(stderr, "pptpgw: warning: no CAP_NET_ADMIN; the queue, "
			"conntrack and the rules need it\n");
	log_init("pptpgw", cfg.log_level, cfg.use_syslog);
	return daemon_run(&cfg);
}
