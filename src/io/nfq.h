/* NFQUEUE glue over libmnl: bind a queue, hand packets up, send verdicts. */
#ifndef PPTPGW_NFQ_H
#define PPTPGW_NFQ_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

struct nfq_packet {
	uint32_t id;
	uint8_t hook;
	uint32_t indev, outdev;
	uint32_t mark;
	uint8_t *data;
	size_t len;
};

typedef void (*nfq_handler)(void *arg, const struct nfq_packet *p);

struct nfq;

/* Bind queue num and watch it on base; packets go to h. NULL on failure. */
struct nfq *nfq_start(struct event_base *base, uint16_t num, uint32_t maxlen,
		      nfq_handler h, void *arg);
enum nfq_verdict_kind { NFQ_DROP, NFQ_ACCEPT, NFQ_REPEAT };

/*
 * data is the packet to send instead of the original, or NULL.  mark, if
 * not 0, becomes the packet's mark.
 */
int nfq_verdict(struct nfq *q, uint32_t id, enum nfq_verdict_kind v,
		uint32_t mark, const uint8_t *data, size_t len);
uint64_t nfq_errors(const struct nfq *q);
void nfq_stop(struct nfq *q);

#endif
