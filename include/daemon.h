/* The gateway process: the event loop and the I/O around the translator. */
#ifndef PPTPGW_DAEMON_H
#define PPTPGW_DAEMON_H

#include <stdint.h>

#include "calltab.h"
#include "gw.h"
#include "rules.h"

#define PPTPGW_VERSION "0.1.0"
#define PPTPGW_CTL_PATH "/run/pptpgw.sock"
#define PPTPGW_METRICS "127.0.0.1:9723"

struct daemon_cfg {
	const char *wan[RULES_MAX_WAN];
	int nwan;
	uint16_t queue;
	uint32_t queue_maxlen;
	int no_rules;
	const char *ctl_path;
	const char *metrics;     /* "ADDR:PORT" for /metrics, or "off" */
	struct calltab_cfg tab;
	struct gw_cfg gw;
};

void daemon_default_cfg(struct daemon_cfg *c);

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int daemon_run(const struct daemon_cfg *cfg);

uint64_t now_ms(void);

#endif
