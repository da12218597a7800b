/*
 * The translator: turns one queued packet plus the call table into verdicts.
 * TCP 1723 segments are reassembled per direction and their Call IDs
 * rewritten; GRE is translated both ways.  Pure: packets come in as buffers
 * owned by the caller, verdicts go out through a callback, time is a
 * parameter.  A packet handed in must stay valid until its verdict is given
 * (segments can be held back for a moment, see ctlstream.h).
 */
#ifndef PPTPGW_GW_H
#define PPTPGW_GW_H

#include <stddef.h>
#include <stdint.h>

#include "xlate/calltab.h"

/* Held in-order segments per direction: enough for 1-byte segments up to
 * the decision point of a message (CS_DECIDE_LEN - 1), with room to spare. */
#define GW_HOLD_MAX 24
#define GW_OOO_MAX 16    /* out-of-order segments kept per direction */

enum gw_verdict { GW_ACCEPT, GW_DROP };

/* Counters; names in gw_counter_name() are what metrics export. */
enum gw_counter {
	GC_CTRL_PKTS,
	GC_CTRL_MSGS,
	GC_CTRL_REWRITES,
	GC_CTRL_MALFORMED,       /* framing error: connection's stream dropped */
	GC_CTRL_UNSYNCED,        /* data of a connection never seen starting */
	GC_CTRL_RETRANS_DROP,
	GC_CTRL_HOLD_OVERFLOW,
	GC_CTRL_HOLD_TIMEOUT,
	GC_CTRL_OOO_DROP,
	GC_CTRL_UNKNOWN_CALL,    /* inside's own ID we never aliased: sent as 0 */
	GC_CTRL_UNKNOWN_ALIAS,   /* peer named an alias we do not have */
	GC_CTRL_CONN_FULL,
	GC_CTRL_NO_BINDING,      /* call refused until conntrack knows its NAT */
	GC_CALLS_REFUSED,
	GC_CALLS_OVER_LIMIT,     /* more calls on a connection than the server
				    allows (its Maximum Channels), or a
				    second call refused by the server */
	GC_GRE_OUT,
	GC_GRE_IN,
	GC_GRE_OUT_BYTES,
	GC_GRE_IN_BYTES,
	GC_GRE_OUT_NOCALL,       /* dropped: would leak an inside address */
	GC_GRE_IN_NOCALL,        /* passed untranslated to this host */
	GC_GRE_IN_NOCALL_DROP,   /* for no call, and nothing here reads GRE */
	GC_GRE_IN_LATE,          /* to an alias in hold-down: dropped */
	GC_GRE_MALFORMED,
	GC_PKT_MALFORMED,
	GC_COUNT
};

enum gw_event { GWE_CALL_NEW, GWE_CALL_UP, GWE_CALL_END, GWE_CALL_REFUSED,
		GWE_CONN_BROKEN,
		GWE_OVER_LIMIT,   /* call beyond the server's Maximum Channels:
				     conn given, detail = calls already on it */
		GWE_GRE_STRAY,    /* inbound GRE for no call: detail is its Call ID,
				     addresses in gw.stray_src/stray_dst */
		GWE_GRE_STRAY_DROPPED  /* the same, dropped (see local_gre) */
};

struct gw_pkt {
	uint32_t id;          /* the queue's packet id */
	uint8_t *data;        /* IPv4 packet, changed in place */
	size_t len;
	uint64_t arrived;
	uint8_t modified;
	uint32_t user;        /* free for the caller (the daemon: packet mark) */
};

/* What the kernel knows of the packet: its direction and conntrack entry. */
struct gw_meta {
	uint8_t dir;          /* DIR_OUT: leaves by the WAN; DIR_IN: came from it */
	uint8_t has_ct;
	uint32_t orig_src, orig_dst, reply_src, reply_dst;
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
};

struct gw_cfg {
	uint32_t call_idle_ms;
	uint32_t conn_idle_ms;
	uint32_t request_ms;     /* call asked for but never answered */
	uint32_t clearing_ms;    /* Call-Clear-Request without a CDN after it */
	uint32_t closing_ms;     /* connection record kept after FIN/RST */
	uint32_t hold_ms;        /* held or out-of-order segment lifetime */
	uint32_t mark;           /* set on every translated packet */
};

struct gw_hooks {
	void (*verdict)(void *arg, struct gw_pkt *p, enum gw_verdict v,
			uint32_t mark);
	void (*event)(void *arg, enum gw_event ev, const struct call *c,
		      const struct conn *conn, int detail);
	/*
	 * Where NAT maps the inside end of a connection (the public address
	 * and port), asked when a packet's meta has no conntrack data.  Also
	 * tells who opened it (1: the inside host).  Returns 0 and fills
	 * the outputs, or -1 if not known (yet).
	 */
	int (*nat_lookup)(void *arg, const struct conn *c, uint32_t *pub,
			  uint16_t *pub_port, uint8_t *inside_opened);
	void *arg;
	/*
	 * Whether something on this host reads GRE (a PPTP client of its
	 * own).  Inbound GRE for no call goes to this host only then: else
	 * the kernel answers it with ICMP protocol-unreachable, and pptpd
	 * drops every call it has with our public address on that.  NULL:
	 * always pass.
	 */
	int (*local_gre)(void *arg);
};

struct gw_pend;

/* The translator holds its call table and the alias space the table draws
 * from; the relay (relay/) takes its Call IDs from the same space. */
struct gw {
	struct alias_space aliases;
	struct calltab tab;
	struct gw_cfg cfg;
	struct gw_hooks hooks;
	struct gw_pend *pend;    /* per connection slot */
	uint64_t ctr[GC_COUNT];
	uint32_t stray_src, stray_dst;
};

const char *gw_counter_name(unsigned c);

void gw_default_cfg(struct gw_cfg *cfg);
/* Sets up the call table and, sized for it, the alias space (aliases). */
int gw_init(struct gw *g, const struct gw_cfg *cfg,
	    const struct calltab_cfg *tcfg, const struct gw_hooks *hooks);
/* Drops every held packet (through the verdict hook) and frees all. */
void gw_destroy(struct gw *g);

/* One queued packet: every packet gets exactly one verdict, now or later. */
void gw_input(struct gw *g, struct gw_pkt *p, const struct gw_meta *m,
	      uint64_t now);

/* Periodic work: held segments, idle and stuck calls, hold-downs. */
void gw_tick(struct gw *g, uint64_t now);

/* The control connection is gone (conntrack said so). */
void gw_conn_gone(struct gw *g, uint32_t inside, uint16_t iport,
		  uint32_t outside, uint16_t oport, uint64_t now);

/* Clear one call by slot (admin request); -1 if no such call. */
int gw_call_clear(struct gw *g, uint32_t slot, uint64_t now);

#endif
