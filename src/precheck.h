/*
 * What can be checked before starting (pptpgw -n, and the start itself):
 * the WAN interfaces exist, the queue number is free, no kernel PPTP
 * helper would rewrite the same Call IDs.  Each says what is wrong in err.
 */
#ifndef PPTPGW_PRECHECK_H
#define PPTPGW_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* 0, or -1: "WAN interface eth0: no such interface". */
int precheck_wans(const struct pptpgw_cfg *c, char *err, size_t n);

/*
 * Whether queue q is bound by a program, from the text of
 * /proc/net/netfilter/nfnetlink_queue: 1 (its netlink port id in *portid),
 * or 0.  Pure, for the tests.
 */
int precheck_queue_bound(const char *proc_text, uint16_t q, uint32_t *portid);

/* 0, or -1: "queue 1723 is in use by another program (netlink port N)". */
int precheck_queue(uint16_t q, char *err, size_t n);

/* Whether this process holds CAP_NET_ADMIN (root or not). */
int precheck_net_admin(void);

#endif
