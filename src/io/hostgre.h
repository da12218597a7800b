/*
 * Does something on this host read GRE (a PPTP client of its own)?  Asked
 * for inbound GRE that matches no call: delivered to a host where nothing
 * reads GRE it draws an ICMP protocol-unreachable, on which pptpd drops
 * every call it has with our public address.
 */
#ifndef PPTPGW_HOSTGRE_H
#define PPTPGW_HOSTGRE_H

#include <stdint.h>

/* The last answer: strays are rare, but it is kept for a second anyway. */
struct hostgre {
	uint64_t checked;    /* when it was asked, 0: never */
	int answer;
};

/* 1 if a raw socket of protocol 47 exists in this network namespace. */
int hostgre_reads(struct hostgre *h, uint64_t now);

#endif
