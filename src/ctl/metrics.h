/*
 * The Prometheus endpoint: GET /metrics over HTTP on a local TCP address.
 * A deliberately small HTTP server with the limits a listener on a shared
 * host needs: a request head of at most METRICS_HEAD_MAX bytes, no body,
 * METRICS_TIMEOUT_S to send the request and read the answer, and at most
 * METRICS_MAX_CONNS connections (a new one closes the oldest), so no local
 * user can make pptpgw grow or stop answering.  One request per connection.
 */
#ifndef PPTPGW_METRICS_H
#define PPTPGW_METRICS_H

#include <stdio.h>

#define METRICS_HEAD_MAX 8192
#define METRICS_TIMEOUT_S 5
#define METRICS_MAX_CONNS 32

struct event_base;
struct metrics;

/* Write the exposition text into f. */
typedef void (*metrics_write_fn)(void *arg, FILE *f);

/* Listen on "ADDR:PORT".  NULL on failure, with the reason logged. */
struct metrics *metrics_open(struct event_base *base, const char *addr,
			     metrics_write_fn write, void *arg);

/* Close the listener and every connection. */
void metrics_close(struct metrics *m);

#endif
