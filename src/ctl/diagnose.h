/*
 * pptpgwctl diagnose: likely causes of tunnels that do not work, from the
 * translator's counters and calls and the host facts in report_info, each
 * with its evidence and its fix.
 */
#ifndef PPTPGW_DIAGNOSE_H
#define PPTPGW_DIAGNOSE_H

#include <stdio.h>

#include "ctl/report.h"

#define DIAG_MAX 8

/* Writes the findings (text or JSON); returns how many. */
int report_diagnose(FILE *f, const struct gw *g,
		    const struct report_info *ri, int json);

#endif
