/* The gateway process: wires the I/O modules, the engines and the loop. */
#ifndef PPTPGW_DAEMON_H
#define PPTPGW_DAEMON_H

struct pptpgw_cfg;

/*
 * Exit statuses: 0 after a clean stop; EXIT_RUNTIME when something failed
 * that a restart may cure; EXIT_USAGE for a bad command line and
 * EXIT_CONFIG for a configuration this host cannot run (a bad file, a
 * missing WAN interface, the queue taken, the kernel helper in use), which
 * a restart cannot cure: the unit does not restart on those.
 */
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_CONFIG 78

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int daemon_run(struct pptpgw_cfg *cfg);

#endif
