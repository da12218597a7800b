/* The gateway process: the event loop and the I/O around the translator. */
#ifndef PPTPGW_DAEMON_H
#define PPTPGW_DAEMON_H

#include <stdint.h>

#include "xlate/calltab.h"
#include "xlate/gw.h"
#include "relay/relay.h"
#include "io/rules.h"

#define PPTPGW_VERSION "0.1.0"
#define PPTPGW_CTL_PATH "/run/pptpgw/pptpgw.sock"
#define PPTPGW_METRICS "127.0.0.1:9723"

#define PPTPGW_CONF "/etc/pptpgw.conf"
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

struct daemon_cfg {
	char wan[RULES_MAX_WAN][CFG_IFNAMSIZ];
	int nwan;
	uint16_t queue;
	uint32_t queue_maxlen;
	int no_rules;
	char ctl_path[108];
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
	int (*reload)(struct daemon_cfg *out, char *err, size_t errlen);
};

void daemon_default_cfg(struct daemon_cfg *c);

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int daemon_run(struct daemon_cfg *cfg);

uint64_t now_ms(void);

#endif
