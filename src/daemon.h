/* The gateway process: wires the I/O modules, the engines and the loop. */
#ifndef PPTPGW_DAEMON_H
#define PPTPGW_DAEMON_H

struct pptpgw_cfg;

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int daemon_run(struct pptpgw_cfg *cfg);

#endif
