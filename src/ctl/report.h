/*
 * Text and JSON views of the gateway state, for the control socket.  Pure:
 * writes to a FILE (a memory stream in the daemon, a file in tests).
 */
#ifndef PPTPGW_REPORT_H
#define PPTPGW_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "state/state.h"
#include "xlate/gw.h"
#include "relay/relay.h"
#include "xlate/fastrec.h"

struct report_info {
	const char *version;
	uint64_t started_ms, now_ms;
	int rules_installed;
	uint64_t rules_restored;   /* our jumps put back on top */
	uint64_t queue_errors;
	uint64_t queue_dropped;    /* kernel: queue full */
	uint64_t queue_user_dropped; /* kernel: netlink socket full */
	const char *wan;
	/* "reload": read the configuration again; 0 or -1, message in msg. */
	int (*reload)(void *arg, char *msg, size_t n);
	void *arg;
	/*
	 * The relay, or NULL when there is none: its calls are listed with the
	 * translated ones (slot "rN"), its counters are shown, and "clear rN"
	 * clears its call N.  Not const, for that clear.
	 */
	struct relay *relay;
	/* Which servers are relayed, as config_relay_str writes it ("off",
	 * "all", "203.0.113.2,auto"); NULL reads as "off". */
	const char *relay_policy;
	/* The kernel data plane: "on", or why it is off; NULL reads as
	 * "off".  Calls it carries, installs or removals it was refused. */
	const char *fastpath;
	struct fp_stats fp;
	/* Writes of the state file (all zero when it is off). */
	struct state_stats state;
	/* For diagnose only (the daemon looks when asked): the kernel's
	 * PPTP helper attached on this host, and where it was seen. */
	int helper_attached;
	const char *helper_why;
};

void report_status(FILE *f, const struct gw *g, const struct report_info *ri,
		   int json);
/* Translated calls (slot N), then relayed calls (slot rN). */
void report_calls(FILE *f, const struct gw *g, const struct report_info *ri,
		  int json);
void report_stats(FILE *f, const struct gw *g, const struct report_info *ri,
		  int json);

/* Prometheus text exposition (version 0.0.4) of the state and counters. */
void report_metrics(FILE *f, const struct gw *g, const struct report_info *ri);

/* A control command line as report_parse reads it. */
enum ctl_verb {
	CTL_EMPTY,              /* no word at all */
	CTL_STATUS,
	CTL_CALLS,
	CTL_STATS,
	CTL_CLEAR,              /* "clear N": translated call N */
	CTL_CLEAR_RELAYED,      /* "clear rN": relayed call N */
	CTL_RELOAD,
	CTL_DIAGNOSE,
	CTL_UNKNOWN,
};

struct ctl_cmd {
	enum ctl_verb verb;
	int nwords;             /* words read, 0 to 3 (longer lines: ignored) */
	int json;               /* "json" is the second or third word */
	int slot_ok;            /* clear: the slot is plain decimal < 2^32 - 1 */
	uint32_t slot;
	char word[32], arg[32]; /* the first two words, as the answer echoes
				 * them (a word is cut into 31-character ones) */
};

/*
 * Parse one command line (without its newline) as pptpgwctl writes it:
 * "VERB [ARG] [json]".  Pure; every line gives a verb, CTL_EMPTY or
 * CTL_UNKNOWN included.
 */
void report_parse(const char *line, struct ctl_cmd *c);

/* s as a JSON string: quoted, with quotes, backslashes and control
 * characters escaped. */
void report_json_str(FILE *f, const char *s);

/* Run one control command line; writes the answer, returns 0 or -1. */
int report_command(FILE *f, struct gw *g, const struct report_info *ri,
		   const char *line);

#endif
