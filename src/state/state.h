/*
 * The translator's saved state: the call table, each control connection's
 * stream state (sequence numbers, the current message, the remembered
 * rewrites that retransmissions need) and the alias hold-downs, as one
 * versioned, checksummed binary image.  A restarted pptpgw loads it and
 * carries on with every translated call as if it had never stopped.
 *
 * Only plain records go in (slot numbers, addresses, sequence numbers,
 * times): never pointers, held packets or kernel handles.  What is derived
 * (indexes, per-host counts, free lists, the kernel's map entries) is
 * rebuilt on load.  Pure: no I/O, no clock (the caller gives the time and
 * the boot it runs in).
 *
 * Image, all integers big-endian:
 *
 *   "PPTPGWST"  u32 version  u32 body length  body  u32 CRC-32 of all before
 *
 *   body: boot id (16 bytes)  u64 saved at (ms, CLOCK_MONOTONIC)
 *         u32 connections, each: u32 slot, the record, two streams
 *         u32 calls, each: u32 slot, the record
 *         u32 hold-downs, each: u32 pub, u32 outside, u16 alias, u64 until
 *
 * Times are the monotonic clock's: valid across a restart within one boot,
 * so an image from another boot (whose connections conntrack no longer
 * has in any case) is refused.
 */
#ifndef PPTPGW_STATE_H
#define PPTPGW_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "xlate/gw.h"

#define STATE_VERSION 1
#define STATE_MAGIC "PPTPGWST"

enum state_err {
	STATE_OK = 0,
	STATE_SHORT,        /* truncated: shorter than its header says */
	STATE_MAGIC_BAD,    /* not a pptpgw state file */
	STATE_VERSION_BAD,  /* written by another version of the format */
	STATE_CHECKSUM,     /* the bytes changed after they were written */
	STATE_BOOT,         /* written before the last boot */
	STATE_CLOCK,        /* written in the future of this clock */
	STATE_FORMAT,       /* a field out of range */
	STATE_CONFLICT,     /* records that no running table can hold */
	STATE_NOMEM,
	STATE_ERR_COUNT
};

const char *state_strerror(enum state_err e);

/* Where and when an image is written or read. */
struct state_meta {
	uint8_t boot_id[16];
	uint64_t now;            /* ms, the monotonic clock */
};

/* A buffer the image is built in, kept between saves (its capacity too). */
struct state_buf {
	uint8_t *p;
	size_t len, cap;
	int nomem;
};

void state_buf_free(struct state_buf *b);

/*
 * The image of g's state into b (replacing what it held).  A stream that
 * waits for the rest of a message's Call ID fields is saved rewound to
 * that message's header (cs_rewind): the segments it held never left, so
 * their sender sends them again.  0, or -1 out of memory.
 */
int state_encode(const struct gw *g, const struct state_meta *m,
		 struct state_buf *b);

/* Counts of what an image restored. */
struct state_counts {
	uint32_t conns, calls, holds;
};

/*
 * Restore an image into g, which must be freshly initialised and empty.
 * Everything is checked (checksum first, then every field, then whether
 * the records fit g's tables): on any error g is left empty (re-initialised
 * with its own settings), the reason is returned and said in why.
 */
enum state_err state_decode(struct gw *g, const uint8_t *img, size_t len,
			    const struct state_meta *m,
			    struct state_counts *cnt, char *why, size_t n);

/* What writing the state file cost (the daemon's, for stats). */
struct state_stats {
	uint64_t writes, write_errors;
	uint64_t bytes_last;
	uint64_t us_last, us_max, us_total;
};

/* CRC-32 (IEEE), as the image's trailer uses it. */
uint32_t state_crc32(const uint8_t *p, size_t n);

#endif
