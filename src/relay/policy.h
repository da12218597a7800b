/*
 * Which servers are relayed (terminated and re-originated) instead of
 * translated: the configured list, every server, and the servers the
 * "auto" policy chose at run time.  Pure: no I/O, no logging; the daemon
 * logs what it decides and updates the interception rules.
 */
#ifndef PPTPGW_RELAY_POLICY_H
#define PPTPGW_RELAY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct relay_select {
	struct relay_policy cfg;             /* as configured (reloadable) */
	uint32_t chosen[RELAY_MAX_LISTED];   /* added by "auto", kept on reload */
	int nchosen;
};

enum relay_auto_result {
	RELAY_AUTO_ADDED,       /* relayed from its next control connection on */
	RELAY_AUTO_ALREADY,     /* relayed already: nothing to do */
	RELAY_AUTO_OFF,         /* "auto" is not on (or no relay runs) */
	RELAY_AUTO_FULL         /* RELAY_MAX_LISTED chosen already */
};

void relay_select_init(struct relay_select *s, const struct relay_policy *p);

/* Take over a reloaded policy; the servers "auto" chose stay. */
void relay_select_set_cfg(struct relay_select *s, const struct relay_policy *p);

/* Whether connections to server are relayed. */
int relay_select_relayed(const struct relay_select *s, uint32_t server);

/*
 * A translated server failed to cope: relay it from now on if "auto" is on
 * and a relay runs (running).  The caller updates the rules on ADDED.
 */
enum relay_auto_result relay_select_auto(struct relay_select *s,
					 uint32_t server, int running);

/* Room for relay_select_servers' list. */
#define RELAY_SELECT_MAX (2 * RELAY_MAX_LISTED)

/* The listed servers, configured then chosen, into out; returns how many. */
int relay_select_servers(const struct relay_select *s,
			 uint32_t out[RELAY_SELECT_MAX]);

/* The running policy as config_relay_str writes it, chosen servers listed. */
char *relay_select_str(const struct relay_select *s, char *buf, size_t n);

#endif
