/*
 * The saved call table on disk: state/state.c's image written to one file
 * on every change that matters (calls, connections, stream positions), by
 * atomic replace, and read back at start.  Writes are coalesced: a change
 * marks the table dirty, and the image is written once, before the
 * verdicts of the batch that changed it leave (so the file is never behind
 * what a peer has seen) or at the next tick.
 */
#ifndef PPTPGW_STATEKEEP_H
#define PPTPGW_STATEKEEP_H

#include <stdint.h>

#include "state/state.h"

struct statekeep;


/* NULL when path is "off" (or out of memory, said in the log). */
struct statekeep *statekeep_open(const char *path);
void statekeep_close(struct statekeep *sk);

/* The table changed: write it before the next verdicts leave. */
void statekeep_dirty(struct statekeep *sk);

/*
 * If dirty: g's image to a temporary file beside the state file, fsync,
 * rename over it.  0 (or nothing to do), -1 when it failed (logged, and
 * tried again at the next flush).  sk may be NULL.
 */
int statekeep_flush(struct statekeep *sk, const struct gw *g);

/*
 * Load the state file into g (freshly initialised): how many connections
 * it restored, 0 when there was nothing (or nothing valid: logged, and g
 * stays empty).
 */
uint32_t statekeep_load(struct statekeep *sk, struct gw *g);

/*
 * The saved table is no longer true (pptpgw stops and its rules go, so
 * segments will pass unseen): remove the file, so the next start begins
 * afresh instead of adopting streams that moved on.
 */
void statekeep_forget(struct statekeep *sk);

const struct state_stats *statekeep_stats(const struct statekeep *sk);
const char *statekeep_path(const struct statekeep *sk);

#endif
