/* pptpgw: options, then the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "rules.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: pptpgw --wan IFACE [options]\n"
"       pptpgw --print-rules iptables|nft --wan IFACE [--queue N]\n"
"\n"
"Transparent PPTP NAT gateway: aliases inside Call IDs and translates the\n"
"enhanced GRE of every call, so many inside hosts can hold PPTP tunnels\n"
"through one public address.  Runs in the foreground.\n"
"\n"
"  -w, --wan IFACE        WAN (NAT'd) interface; repeat for several\n"
"  -q, --queue N          NFQUEUE number (default 1723)\n"
"      --no-rules         do not install netfilter rules (see rules/)\n"
"      --print-rules KIND print the rules for iptables-restore or nft\n"
"  -s, --socket PATH      control socket (default " PPTPGW_CTL_PATH ")\n"
"      --metrics ADDR:PORT  Prometheus /metrics (default " PPTPGW_METRICS ", or off)\n"
"      --max-calls N      calls at once (default 4096)\n"
"      --max-conns N      control connections at once (default 4096)\n"
"      --holddown SEC     before a freed alias is reused (default 60)\n"
"      --call-idle SEC    end a call without traffic (default 300)\n"
"      --syslog           log to syslog instead of stderr\n"
"  -v, --verbose          debug logging\n"
"  -h, --help\n");
}

static int num_arg(const char *name, const char *s, unsigned long max,
		   unsigned long *out)
{
	char *end;

	*out = strtoul(s, &end, 10);
	if (!*s || *end || *out > max) {
		fprintf(stderr, "pptpgw: %s: '%s' is not a number up to %lu\n",
			name, s, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wan", required_argument, NULL, 'w' },
		{ "queue", required_argument, NULL, 'q' },
		{ "no-rules", no_argument, NULL, 'N' },
		{ "print-rules", required_argument, NULL, 'P' },
		{ "socket", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "max-calls", required_argument, NULL, 'C' },
		{ "max-conns", required_argument, NULL, 'K' },
		{ "holddown", required_argument, NULL, 'H' },
		{ "call-idle", required_argument, NULL, 'I' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_cfg cfg;
	const char *print = NULL;
	int c, level = LOG_INFO, use_syslog = 0;
	unsigned long v;

	daemon_default_cfg(&cfg);
	while ((c = getopt_long(argc, argv, "w:q:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (cfg.nwan == RULES_MAX_WAN) {
				fprintf(stderr, "pptpgw: at most %d WAN "
					"interfaces\n", RULES_MAX_WAN);
				return 2;
			}
			cfg.wan[cfg.nwan++] = optarg;
			break;
		case 'q':
			if (num_arg("--queue", optarg, 65535, &v))
				return 2;
			cfg.queue = (uint16_t)v;
			break;
		case 'N':
			cfg.no_rules = 1;
			break;
		case 'P':
			print = optarg;
			break;
		case 's':
			cfg.ctl_path = optarg;
			break;
		case 'M':
			cfg.metrics = optarg;
			break;
		case 'C':
			if (num_arg("--max-calls", optarg, 1 << 20, &v) || !v)
				return 2;
			cfg.tab.max_calls = (uint32_t)v;
			break;
		case 'K':
			if (num_arg("--max-conns", optarg, 1 << 20, &v) || !v)
				return 2;
			cfg.tab.max_conns = (uint32_t)v;
			break;
		case 'H':
			if (num_arg("--holddown", optarg, 86400, &v))
				return 2;
			cfg.tab.holddown_ms = (uint32_t)v * 1000;
			break;
		case 'I':
			if (num_arg("--call-idle", optarg, 86400, &v) || !v)
				return 2;
			cfg.gw.call_idle_ms = (uint32_t)v * 1000;
			break;
		case 'S':
			use_syslog = 1;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pptpgw: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (cfg.nwan == 0) {
		fprintf(stderr, "pptpgw: no WAN interface given (--wan IFACE)\n");
		usage(stderr);
		return 2;
	}
	if (print) {
		struct rules_cfg rc = { .nwan = cfg.nwan, .queue = cfg.queue,
					.mark = cfg.gw.mark };

		memcpy(rc.wan, cfg.wan, sizeof(rc.wan));
		if (strcmp(print, "iptables") == 0)
			rules_print_iptables(stdout, &rc);
		else if (strcmp(print, "nft") == 0)
			rules_print_nft(stdout, &rc);
		else {
			fprintf(stderr, "pptpgw: --print-rules takes iptables "
				"or nft\n");
			return 2;
		}
		return 0;
	}
	if (geteuid() != 0)
		fprintf(stderr, "pptpgw: warning: not root; queue and rules "
			"need CAP_NET_ADMIN\n");
	log_init("pptpgw", level, use_syslog);
	return daemon_run(&cfg);
}
