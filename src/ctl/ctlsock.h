/*
 * The control socket: a unix stream socket where each client sends one
 * command line and reads the answer (pptpgwctl).  What a command does is
 * the caller's (report_command); this module only carries lines.
 */
#ifndef PPTPGW_CTLSOCK_H
#define PPTPGW_CTLSOCK_H

#include <stdio.h>

struct event_base;
struct ctlsock;

/* Write the answer to one command line into f. */
typedef void (*ctlsock_answer_fn)(void *arg, FILE *f, const char *line);

/*
 * Listen on path (mode 0660, its directory made if missing), refusing to
 * start if another pptpgw answers there.  NULL on failure, logged.
 */
struct ctlsock *ctlsock_open(struct event_base *base, const char *path,
			     ctlsock_answer_fn answer, void *arg);

/* Stop listening and remove the socket file (at shutdown, loop stopped). */
void ctlsock_close(struct ctlsock *c);

#endif
