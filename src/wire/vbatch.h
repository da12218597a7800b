/*
 * A batch of NFQUEUE verdict messages (NFQNL_MSG_VERDICT), sent to the
 * kernel several at a time: one netlink datagram carries many messages,
 * which the kernel handles one by one.  Pure: the caller sends.
 *
 * A replacement payload that lies in the keep region (the queue's receive
 * buffer, left untouched until the batch is flushed) is referenced by an
 * iovec; any other payload (a held TCP segment's copy, freed right after
 * its verdict) is copied into the batch.  Everything is preallocated; the
 * batch grows only on request, while a failed send keeps it pending.
 *
 * Not NFQNL_MSG_VERDICT_BATCH: that one settles every id up to its own,
 * held TCP segments included.
 */
#ifndef PPTPGW_VBATCH_H
#define PPTPGW_VBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Most iovecs in one send (the kernel takes up to 1024). */
#define VBATCH_IOV_MAX 960

struct vbatch_rec {
	uint32_t off;           /* of the message in buf */
	uint32_t hlen;          /* bytes there (a copied payload included) */
	const uint8_t *ext;     /* referenced payload, or NULL */
	uint32_t extlen;
};

struct vbatch {
	uint8_t *buf;           /* message heads and copied payloads */
	size_t cap, used;
	struct vbatch_rec *rec;
	unsigned caprec, nrec, start;   /* start: first not yet sent */
	uint16_t queue;
	const uint8_t *keep_lo, *keep_hi;
	size_t max_send;        /* bytes in one datagram */
	uint32_t seq;
	struct iovec iov[VBATCH_IOV_MAX];
};

/* Returns 0 (or -1 when out of memory). */
int vbatch_init(struct vbatch *b, uint16_t queue, size_t cap,
		unsigned nrec, size_t max_send);
void vbatch_free(struct vbatch *b);

/* Payloads within [lo, lo + len) stay valid until the batch is flushed. */
void vbatch_keep(struct vbatch *b, const void *lo, size_t len);

/*
 * Append one verdict (NF_ACCEPT, NF_DROP, NF_REPEAT, host order); mark, if
 * not 0, becomes the packet's; data, if not NULL, replaces the packet.
 * Returns 0, or -1 when the batch is full: flush (or grow) first.
 */
int vbatch_add(struct vbatch *b, uint32_t id, uint32_t verdict, uint32_t mark,
	       const uint8_t *data, size_t len);

/* Double the room (for a batch that could not be sent).  0 or -1. */
int vbatch_grow(struct vbatch *b);

/* Verdicts appended and not yet sent. */
static inline unsigned vbatch_pending(const struct vbatch *b)
{
	return b->nrec - b->start;
}

/*
 * One datagram: returns the bytes taken, or -1 with errno set.  Transient
 * errors are the sender's to retry; -1 leaves the verdicts pending.
 */
typedef ssize_t (*vbatch_send_fn)(void *arg, const struct iovec *iov,
				  int niov, size_t len);

/*
 * Send every pending verdict, in datagrams of at most max_send bytes and
 * VBATCH_IOV_MAX iovecs, in the order appended.  Returns 0 when the batch
 * is empty again, -1 when a send failed: what it carried and everything
 * after stays pending for the next flush.
 */
int vbatch_flush(struct vbatch *b, vbatch_send_fn send, void *arg);

#endif
