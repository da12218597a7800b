/*
 * Text and JSON views of the gateway state, for the control socket.  Pure:
 * writes to a FILE (a memory stream in the daemon, a file in tests).
 */
#ifndef PPTPGW_REPORT_H
#define PPTPGW_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gw.h"

struct report_info {
	const char *version;
	uint64_t started_ms, now_ms;
	int rules_installed;
	uint64_t queue_errors;
	uint64_t queue_dropped;    /* kernel: queue full */
	uint64_t queue_user_dropped; /* kernel: netlink socket full */
	const char *wan;
	/* "reload": read the configuration again; 0 or -1, message in msg. */
	int (*reload)(void *arg, char *msg, size_t n);
	void *arg;
};

void report_status(FILE *f, const struct gw *g, const struct report_info *ri,
		   int json);
void report_calls(FILE *f, const struct gw *g, uint64_t now, int json);
void report_stats(FILE *f, const struct gw *g, const struct report_info *ri,
		  int json);

/* Prometheus text exposition (version 0.0.4) of the state and counters. */
void report_metrics(FILE *f, const struct gw *g, const struct report_info *ri);

/* Run one control command line; writes the answer, returns 0 or -1. */
int report_command(FILE *f, struct gw *g, const struct report_info *ri,
		   const char *line);

#endif
