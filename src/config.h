/*
 * The configuration file, /etc/pptpgw.conf: sections and "key = value"
 * lines, '#' comments.  Pure: parses text into a pptpgw_cfg, and names the
 * file and line of the first error.
 *
 *   [gateway]   wan (a list; may repeat), queue, rules (yes/no), mark,
 *               fastpath (yes/no: established calls in the kernel's maps)
 *   [limits]    max_calls, max_conns (restart); conns_per_host,
 *               half_open_per_host, half_open, calls_per_host,
 *               relay_sessions_per_client (reloadable; 0: no limit)
 *   [timeouts]  holddown, call_idle, conn_idle, request, clearing,
 *               half_open (seconds; half_open 0: never)
 *   [control]   socket
 *   [state]     file (where the call table is kept across restarts, or
 *               off; restart to change)
 *   [metrics]   listen (ADDR:PORT or off)
 *   [log]       level (error, warning, notice, info, debug), syslog (yes/no)
 *   [relay]     servers (a list; may repeat), port, per_call (yes/no),
 *               echo_idle, echo_reply, start_timeout (seconds),
 *               reorder_ms, max_calls, max_conns
 *
 * On SIGHUP the daemon takes over which servers are relayed (servers, with
 * all and auto), per_call and the relay timers; relay port, max_calls and
 * max_conns need a restart, and so does turning the relay on or off (from
 * no servers to some, or back).
 */
#ifndef PPTPGW_CONFIG_H
#define PPTPGW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "xlate/calltab.h"
#include "xlate/gw.h"
#include "relay/relay.h"
#include "io/rules.h"

#define PPTPGW_CONF "/etc/pptpgw.conf"
#define PPTPGW_CTL_PATH "/run/pptpgw/pptpgw.sock"
#define PPTPGW_METRICS "127.0.0.1:9723"
#define PPTPGW_STATE_PATH "/run/pptpgw/state"
#define CFG_IFNAMSIZ 16
#define RELAY_PORT 1724          /* where intercepted control connections land */
#define RELAY_MAX_LISTED 64

/* Which servers pptpgw terminates and re-originates instead of translating. */
struct relay_policy {
	uint8_t all;             /* every server */
	uint8_t automatic;       /* servers seen failing to cope (see README) */
	int nservers;
	uint32_t servers[RELAY_MAX_LISTED];  /* host order */
	uint16_t port;           /* local port the interception redirects to */
};

/* The kernel data plane's engine (io/fastpath.h): fastpath = yes, tc or
 * nftables. */
enum cfg_fast_engine { CFG_FAST_AUTO, CFG_FAST_TC, CFG_FAST_NFT };

/* Parses "yes"/"auto", "tc", "nftables" ("no" is no_fastpath's); -1 if
 * none. */
int config_fast_engine(const char *s, int *engine);

/* Everything the process is told: file, then command line. */
struct pptpgw_cfg {
	char wan[RULES_MAX_WAN][CFG_IFNAMSIZ];
	int nwan;
	uint16_t queue;
	uint32_t queue_maxlen;
	int no_rules;
	int no_fastpath;         /* every GRE packet through the queue */
	int fast_engine;         /* enum cfg_fast_engine */
	char ctl_path[108];
	char state_path[256];    /* the saved call table, or "off" */
	char metrics[64];        /* "ADDR:PORT" for /metrics, or "off" */
	int log_level;
	int use_syslog;
	struct calltab_cfg tab;
	struct gw_cfg gw;
	struct relay_policy relay;
	struct rl_cfg rl;
	/*
	 * Build the configuration anew (file, then command line) for SIGHUP;
	 * 0, or -1 with the reason in err.  NULL: nothing to reload.
	 */
	int (*reload)(struct pptpgw_cfg *out, char *err, size_t errlen);
};

/* The built-in defaults, before any file or option. */
void config_default(struct pptpgw_cfg *c);

/* Whether any server may be relayed (the relay runs at all). */
int config_relay_wanted(const struct pptpgw_cfg *c);

/*
 * The first setting that differs between a running configuration a and a
 * reloaded one b and that a running gateway cannot take over (it needs a
 * restart), as the name the reload refusal shows; NULL if there is none.
 */
const char *config_restart_only(const struct pptpgw_cfg *a,
				const struct pptpgw_cfg *b);

/*
 * Apply the settings in text (NUL-terminated) on top of c.  name is the
 * file name used in messages.  Returns 0, or -1 with "name:line: reason"
 * in err; c may be partly changed then.
 */
int config_parse(const char *text, const char *name, struct pptpgw_cfg *c,
		 char *err, size_t errlen);

/* Read and apply a file; a missing file is an error only if required. */
int config_load(const char *path, int required, struct pptpgw_cfg *c,
		char *err, size_t errlen);

/* A log level name ("error" .. "debug") as a syslog priority, -1 if none. */
int config_level_parse(const char *s);

/* Add a WAN interface; -1 with a reason if the name or the count is bad. */
int config_add_wan(struct pptpgw_cfg *c, const char *name, char *err,
		   size_t errlen);

/*
 * Add to the relay policy from a list of IPv4 server addresses and the
 * words "all" (every server) and "auto" (servers seen failing to cope),
 * separated by commas or blanks: "auto,203.0.113.2".  "off", alone, empties
 * the policy.  Lists accumulate; a server or word given twice, an address
 * that is not unicast, or more than RELAY_MAX_LISTED servers is an error:
 * -1 with the reason in err, and the policy is left as it was.
 */
int config_relay_list(struct pptpgw_cfg *c, const char *list, char *err,
		      size_t errlen);

/* Room for any relay policy as text. */
#define CONFIG_RELAY_STRLEN (RELAY_MAX_LISTED * 16 + 16)

/*
 * The policy as a list config_relay_list takes back: "all", servers,
 * "auto", in that order, or "off" when nothing is relayed.  Returns buf.
 */
char *config_relay_str(const struct relay_policy *p, char *buf, size_t n);

#endif
