/*
 * NFQUEUE glue over libmnl: bind a queue, hand packets up, send verdicts;
 * and the kernel's own drop counters for the queue.
 */
#ifndef PPTPGW_QUEUE_H
#define PPTPGW_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

struct queue_pkt {
	uint32_t id;
	uint8_t hook;
	uint32_t indev, outdev;
	uint32_t mark;
	uint8_t *data;
	size_t len;
};

typedef void (*queue_handler)(void *arg, const struct queue_pkt *p);

struct queue;

/* Bind queue num and watch it on base; packets go to h. NULL on failure. */
struct queue *queue_start(struct event_base *base, uint16_t num, uint32_t maxlen,
		      queue_handler h, void *arg);
enum queue_verdict_kind { QUEUE_DROP, QUEUE_ACCEPT, QUEUE_REPEAT };

/*
 * data is the packet to send instead of the original, or NULL.  mark, if
 * not 0, becomes the packet's mark.  Given while the queue hands packets
 * up, the verdict joins the batch sent when that receive batch is done
 * (data may then point into the packet handed up; anything else is
 * copied); given at any other time it is sent at once.  A send the kernel
 * refuses is retried (the verdict stays pending, and no packet is read
 * meanwhile); -1 only when the verdict could not even be kept (out of
 * memory).
 */
int queue_verdict(struct queue *q, uint32_t id, enum queue_verdict_kind v,
		uint32_t mark, const uint8_t *data, size_t len);
/*
 * Failed verdict sends (each retried until it passes), verdicts the kernel
 * refused or that were lost for want of memory, receive buffer overruns.
 */
uint64_t queue_errors(const struct queue *q);

/*
 * The kernel's drop counters for queue num (/proc/net/netfilter/
 * nfnetlink_queue): full, the queue was full; user, the netlink socket
 * was.  Both 0 when the kernel does not say.
 */
void queue_kernel_drops(uint16_t num, uint64_t *full, uint64_t *user);
void queue_stop(struct queue *q);

/*
 * fn runs before any verdict leaves (the saved state is written there, so
 * that it is never behind what the peers have seen).
 */
void queue_set_presend(struct queue *q, void (*fn)(void *arg), void *arg);

#endif
