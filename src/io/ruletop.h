/*
 * Keeping pptpgw's jumps on top of the built-in chains, the pure part: from
 * the rules pptpgw printed and one table's "iptables -S", the
 * iptables-restore lines that put them back on top (io/rules.c runs them).
 */
#ifndef PPTPGW_RULETOP_H
#define PPTPGW_RULETOP_H

#include <stdio.h>

/* ours: rules_print_iptables' text; listed: "iptables -t TABLE -S".  Writes
 * "-D ..." and "-I CHAIN N ..." lines to fix for every built-in chain of
 * table whose jumps of ours are not all on top (or are missing or doubled);
 * returns how many chains need it. */
int rules_jumps_fix(const char *ours, const char *table, const char *listed,
		    FILE *fix);

/* Has table any jump of ours (nothing to look at if not)? */
int rules_has_jumps(const char *ours, const char *table);

#endif
