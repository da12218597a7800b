/*
 * The netfilter rules pptpgw needs.  One generator prints them for
 * iptables-restore and for nft; the daemon installs the iptables form (this
 * kernel generation has no nft queue statement everywhere) and removes it.
 */
#ifndef PPTPGW_RULES_H
#define PPTPGW_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RULES_MAX_WAN 8

struct rules_cfg {
	const char *wan[RULES_MAX_WAN];
	int nwan;
	uint16_t queue;
	uint32_t mark;
	/* The relay: connections to these servers' TCP 1723 (all of them with
	 * relay_all) are redirected to relay_port, unless they come in by a
	 * WAN.  relay 0: no relay chains at all. */
	int relay, relay_all, nrelay;
	const uint32_t *relay_servers;     /* host order */
	uint16_t relay_port;
	/* The fast path's table untracks enhanced GRE itself (before the raw
	 * table): no raw PREROUTING chain of ours, one chain less for every
	 * packet. */
	int gre_untracked;
};

void rules_print_iptables(FILE *f, const struct rules_cfg *c);
void rules_print_nft(FILE *f, const struct rules_cfg *c);

/* Remove leftovers, then install; -1 with a logged reason on failure. */
int rules_install(const struct rules_cfg *c);
/* Replace the relay's redirect rules (after a reload or an "auto"
 * decision); -1 with a logged reason on failure. */
int rules_relay_update(const struct rules_cfg *c);
/* Remove our chains and the jumps to them; harmless when absent. */
void rules_remove(void);
/* Remove what rules_install installed, quickly; falls back to rules_remove. */
void rules_uninstall(int with_relay);

/*
 * Is the kernel PPTP helper attached to TCP 1723 flows on this host?
 * Returns 1 and a reason in why, 0 if not.
 */
int rules_helper_conflict(char *why, size_t n);

/*
 * Our jumps at the top of the built-in chains again, where a program that
 * started later put rules of its own above them: the number of chains
 * fixed (0: all in place), -1 if iptables refused the fix.
 */
int rules_keep_on_top(void);

/* Run argv, feed it input (may be NULL), keep up to outn bytes of stdout. */
int run_cmd(char *const argv[], const char *input, char *out, size_t outn);

#endif
