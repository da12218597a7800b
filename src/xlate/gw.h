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

#include "wire/pkt.h"
#include "xlate/calltab.h"

/* Held in-order segments per direction: enough for 1-byte segments up to
 * the decision point of a message (CS_DECIDE_LEN - 1), with room to spare. */
#define GW_HOLD_MAX 24
#define GW_OOO_MAX 16    /* out-of-order segments kept per direction */

/*
 * GW_PASS: accepted as it came and unmarked, for this host's own rules to
 * judge like any packet (GRE for no call, delivered here); GW_ACCEPT is
 * pptpgw's own (translated, or part of a tracked flow), marked.
 */
enum gw_verdict { GW_ACCEPT, GW_DROP, GW_PASS };

/*
 * Every counter of the translator, once: X(enum, name, metric, labels,
 * drop, help).  name is its key in "stats" and, for a drop counter, its
 * reason in pptpgw_drops_total; metric (without "pptpgw_") and labels
 * give its own Prometheus sample, NULL for none; help is the HELP text of
 * that family and says what is counted.
 */
#define GW_COUNTERS(X) \
	X(GC_CTRL_PKTS, "ctrl_packets", "control_packets_total", NULL, 0, \
	  "TCP 1723 segments seen.") \
	X(GC_CTRL_MSGS, "ctrl_messages", "control_messages_total", NULL, 0, \
	  "PPTP control messages parsed.") \
	X(GC_CTRL_REWRITES, "ctrl_rewrites", "control_rewrites_total", NULL, \
	  0, "Call ID fields rewritten.") \
	X(GC_CTRL_MALFORMED, "ctrl_malformed", NULL, NULL, 1, \
	  "Framing errors: the connection's stream is dropped.") \
	X(GC_CTRL_UNSYNCED, "ctrl_unsynced", NULL, NULL, 1, \
	  "Data of a connection never seen starting.") \
	X(GC_CTRL_RETRANS_DROP, "ctrl_retransmit_dropped", NULL, NULL, 1, \
	  "Retransmitted segments dropped.") \
	X(GC_CTRL_RETRANS_CHANGED, "ctrl_retrans_changed", NULL, NULL, 1, \
	  "Retransmitted segments dropped: their bytes differ from those " \
	  "parsed first at the same sequence numbers.") \
	X(GC_CTRL_BAD_CHECKSUM, "ctrl_bad_checksum", NULL, NULL, 1, \
	  "TCP 1723 segments dropped unparsed: wrong TCP checksum.") \
	X(GC_CTRL_CLOSE_IGNORED, "ctrl_close_ignored", NULL, NULL, 1, \
	  "FIN or RST not at the sender's next sequence number: passed, calls kept.") \
	X(GC_CTRL_HOLD_OVERFLOW, "ctrl_hold_overflow", NULL, NULL, 1, \
	  "Segments dropped: too many held.") \
	X(GC_CTRL_HOLD_TIMEOUT, "ctrl_hold_timeout", NULL, NULL, 0, \
	  "Held segments cut short after hold_ms.") \
	X(GC_CTRL_OOO_DROP, "ctrl_out_of_order_dropped", NULL, NULL, 1, \
	  "Out-of-order segments dropped.") \
	X(GC_CTRL_UNKNOWN_CALL, "ctrl_unknown_call", NULL, NULL, 0, \
	  "Inside Call IDs never aliased: sent as 0.") \
	X(GC_CTRL_UNKNOWN_ALIAS, "ctrl_unknown_alias", NULL, NULL, 0, \
	  "Aliases named by a peer that we do not have.") \
	X(GC_CTRL_CDN_RESTORED, "ctrl_cdn_restored", NULL, NULL, 0, \
	  "Call-Disconnect-Notify naming our alias, not the server's own " \
	  "Call ID (an upstream kernel PPTP helper rewrote it): matched, " \
	  "and the server's ID restored.") \
	X(GC_CTRL_CONN_FULL, "ctrl_conn_table_full", NULL, NULL, 1, \
	  "Segments dropped: the connection table was full.") \
	X(GC_CTRL_CONN_HOST_LIMIT, "ctrl_conn_host_limit", NULL, NULL, 1, \
	  "New connections dropped: their host had conns_per_host.") \
	X(GC_CTRL_HALF_OPEN_HOST_LIMIT, "ctrl_half_open_host_limit", NULL, \
	  NULL, 1, "New connections dropped: their host had " \
	  "half_open_per_host connections not answered yet.") \
	X(GC_CTRL_HALF_OPEN_LIMIT, "ctrl_half_open_limit", NULL, NULL, 1, \
	  "New connections dropped: half_open connections of all hosts " \
	  "were not answered yet.") \
	X(GC_CTRL_PENDING_HOST_LIMIT, "ctrl_pending_host_limit", NULL, NULL, \
	  1, "Segments dropped instead of held or kept out of order: their " \
	  "host had pending_per_host waiting.") \
	X(GC_CTRL_PENDING_LIMIT, "ctrl_pending_limit", NULL, NULL, 1, \
	  "Segments dropped instead of held or kept out of order: pending " \
	  "segments of all hosts were waiting.") \
	X(GC_CTRL_HALF_OPEN_EXPIRED, "ctrl_half_open_expired", \
	  "half_open_expired_total", NULL, 0, \
	  "Connection records removed: not answered within the half_open " \
	  "timeout.") \
	X(GC_CTRL_NO_BINDING, "ctrl_nat_binding_unknown", NULL, NULL, 1, \
	  "Calls refused until conntrack knows their NAT binding.") \
	X(GC_CALLS_REFUSED, "calls_refused", "calls_refused_total", NULL, 0, \
	  "Calls refused because the call table was full.") \
	X(GC_CALLS_HOST_LIMIT, "calls_refused_host_limit", \
	  "calls_refused_host_limit_total", NULL, 0, \
	  "Calls refused because their host had calls_per_host (counted " \
	  "also when the request was dropped: more than a few refusals of " \
	  "one host waiting for an answer).") \
	X(GC_CALLS_OVER_LIMIT, "calls_over_server_limit", NULL, NULL, 0, \
	  "More calls on a connection than the server allows (its Maximum " \
	  "Channels), or a second call refused by the server.") \
	X(GC_CALLS_NO_GRE_BACK, "calls_no_gre_back", NULL, NULL, 0, \
	  "Established calls whose GRE went out for 10 s with none coming " \
	  "back (pptpgwctl diagnose says what may cause it).") \
	X(GC_GRE_OUT, "gre_out_packets", "gre_packets_total", \
	  "direction=\"out\"", 0, \
	  "GRE packets translated through the queue; out is inside " \
	  "to outside.") \
	X(GC_GRE_IN, "gre_in_packets", "gre_packets_total", \
	  "direction=\"in\"", 0, \
	  "GRE packets translated through the queue; out is inside " \
	  "to outside.") \
	X(GC_GRE_OUT_BYTES, "gre_out_bytes", "gre_bytes_total", \
	  "direction=\"out\"", 0, "GRE bytes translated through the queue.") \
	X(GC_GRE_IN_BYTES, "gre_in_bytes", "gre_bytes_total", \
	  "direction=\"in\"", 0, "GRE bytes translated through the queue.") \
	X(GC_GRE_FAST_OUT, "gre_out_fastpath_packets", \
	  "gre_fastpath_packets_total", "direction=\"out\"", 0, \
	  "GRE packets the kernel's maps translated (as read back: " \
	  "every call once a second up to 2,048 calls).") \
	X(GC_GRE_FAST_IN, "gre_in_fastpath_packets", \
	  "gre_fastpath_packets_total", "direction=\"in\"", 0, \
	  "GRE packets the kernel's maps translated (as read back: " \
	  "every call once a second up to 2,048 calls).") \
	X(GC_GRE_FAST_OUT_BYTES, "gre_out_fastpath_bytes", \
	  "gre_fastpath_bytes_total", "direction=\"out\"", 0, \
	  "GRE bytes the kernel's maps translated.") \
	X(GC_GRE_FAST_IN_BYTES, "gre_in_fastpath_bytes", \
	  "gre_fastpath_bytes_total", "direction=\"in\"", 0, \
	  "GRE bytes the kernel's maps translated.") \
	X(GC_GRE_QUEUED_IN_KERNEL, "gre_queued_in_kernel", \
	  "gre_queued_in_kernel_total", NULL, 0, \
	  "GRE of calls the kernel's maps translate that still came " \
	  "through the queue (in flight while the entries went in, or " \
	  "routed by a fwmark, which the tc-BPF program cannot see).") \
	X(GC_GRE_OUT_LOCAL_NOCALL, "gre_out_local_no_call_passed", NULL, \
	  NULL, 0, "GRE this host sent for no call it knows (a call begun " \
	  "before pptpgw, or not PPTP's): passed, its source is this " \
	  "host's own.") \
	X(GC_GRE_OUT_NOCALL, "gre_out_no_call_dropped", NULL, NULL, 1, \
	  "Outbound GRE for no call, dropped: it would leak an inside " \
	  "address.") \
	X(GC_GRE_IN_NOCALL, "gre_in_no_call_passed", \
	  "gre_in_unmatched_total", NULL, 0, \
	  "Inbound GRE for no call, passed untranslated to this host.") \
	X(GC_GRE_IN_NOCALL_DROP, "gre_in_no_call_dropped", \
	  "gre_in_unmatched_dropped_total", NULL, 0, \
	  "Inbound GRE for no call, dropped: nothing on this host reads " \
	  "GRE.") \
	X(GC_GRE_IN_LATE, "gre_in_late_dropped", NULL, NULL, 1, \
	  "Inbound GRE to an alias in hold-down (or refused), dropped.") \
	X(GC_GRE_MALFORMED, "gre_malformed", NULL, NULL, 1, \
	  "GRE packets that do not parse.") \
	X(GC_PKT_MALFORMED, "packet_malformed", NULL, NULL, 1, \
	  "IPv4 or TCP headers that do not parse.")

enum gw_counter {
#define GW_COUNTER_ENUM(e, ...) e,
	GW_COUNTERS(GW_COUNTER_ENUM)
#undef GW_COUNTER_ENUM
	GC_COUNT
};

struct gw_counter_info {
	const char *name, *metric, *labels;
	uint8_t drop;            /* counts dropped packets: a drop reason */
	const char *help;
};

extern const struct gw_counter_info gw_counters[GC_COUNT];

/* An established call that sent at least GW_GRE_BACK_PKTS GRE packets in
 * GW_GRE_BACK_MS and got none back is reported once (GWE_CALL_NO_GRE_BACK):
 * its GRE is lost on the way back, before this host. */
#define GW_GRE_BACK_MS 10000
#define GW_GRE_BACK_PKTS 5

enum gw_event_type {
	GWE_CALL_NEW, GWE_CALL_UP,
	GWE_CALL_END,           /* why in end */
	GWE_CALL_REFUSED,       /* the call table was full, or its host had
				   calls_per_host: limit says which */
	GWE_CONN_BROKEN,        /* the stream's error in err */
	GWE_OVER_LIMIT,         /* a call beyond what the server takes (its
				   Maximum Channels, or a second call refused):
				   conn, ncalls already on it; no call */
	GWE_GRE_STRAY,          /* inbound GRE for no call: stray; no call */
	GWE_GRE_STRAY_DROPPED,  /* the same, dropped (see local_gre) */
	GWE_LIMIT_REFUSED,      /* a new connection (or a call request, then
				   dropped) refused by a limit of host: why
				   in limit; no call, no conn */
	GWE_CALL_NO_GRE_BACK,   /* an established call's GRE went out for
				   GW_GRE_BACK_MS and none came back */
	GWE_SEGMENT_DROPPED     /* a control segment dropped for what it
				   carries (a changed retransmission, a wrong
				   checksum): why in limit, its sender in
				   host; conn if known; no call */
};

/* What happened, for the log and the relay's "auto" policy. */
struct gw_event {
	enum gw_event_type type;
	const struct call *call;      /* the call, for GWE_CALL_* */
	const struct conn *conn;      /* its control connection, if any */
	enum call_end end;            /* GWE_CALL_END */
	enum pptp_err err;            /* GWE_CONN_BROKEN */
	/* GWE_LIMIT_REFUSED, GWE_CALL_REFUSED, GWE_SEGMENT_DROPPED: the
	 * counter that says why (GC_CALLS_REFUSED: the call table was
	 * full), and the host. */
	enum gw_counter limit;
	uint32_t host;
	uint32_t ncalls;              /* GWE_OVER_LIMIT */
	struct {
		uint32_t src, dst;
		uint16_t call_id;
	} stray;                      /* GWE_GRE_STRAY* */
};

struct gw_pkt {
	uint32_t id;          /* the queue's packet id */
	uint8_t *data;        /* IPv4 packet, changed in place */
	size_t len;
	uint64_t arrived;
	uint8_t modified;
	uint32_t user;        /* free for the caller (the daemon: packet mark) */
	uint8_t on_heap;      /* the caller's: free it after the verdict */
	/* The translator's: held or kept out of order, for that host. */
	uint8_t pending;
	uint32_t pending_host;
};

/* What the kernel knows of the packet: its direction and conntrack entry. */
struct gw_meta {
	uint8_t dir;          /* DIR_OUT: leaves by the WAN; DIR_IN: came from it */
	uint8_t has_ct;
	uint8_t local;        /* sent by this host itself (no input device) */
	/* The WAN interface it crosses (its ifindex; 0: not known): what a
	 * control connection leaves by is where its calls' GRE must leave. */
	uint32_t wan_if;
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
	uint32_t half_open_ms;   /* a connection not answered is removed */
	uint32_t mark;           /* set on every translated packet */
	/*
	 * Per-host limits (0: none), so that one host cannot take what all
	 * share.  The host of a connection is the address that opened it (an
	 * inside client, or the outside client of a port-forwarded server);
	 * its calls count against that host too.  Half-open: see struct
	 * conn's answered.
	 */
	uint32_t conns_per_host;
	uint32_t half_open_per_host;
	uint32_t half_open_max;  /* half-open connections of all hosts */
	uint32_t calls_per_host; /* requested, established and clearing */
	/*
	 * Segments waiting in the kernel's queue for their verdict (held,
	 * or out of order), of all hosts and of one: below the queue's
	 * length, so that no host can fill it for everyone.
	 */
	uint32_t pending_max;
	uint32_t pending_per_host;
};

/*
 * Refusals of one host waiting for the peer's answer (each holds a slot of
 * the table's reserve, which carries every host's refusals): beyond this
 * many, a request over calls_per_host is dropped instead, and its sender
 * sends it again later.
 */
#define GW_HOST_REFUSALS 8

struct gw_hooks {
	void *arg;               /* the first argument of every hook */
	void (*verdict)(void *arg, struct gw_pkt *p, enum gw_verdict v,
			uint32_t mark);
	void (*event)(void *arg, const struct gw_event *ev);
	/*
	 * Where NAT maps the inside end of a connection (the public address
	 * and port), asked when a packet's meta has no conntrack data.  Also
	 * tells who opened it (1: the inside host).  Returns 0 and fills
	 * the outputs, or -1 if not known (yet).
	 */
	int (*nat_lookup)(void *arg, const struct conn *c, uint32_t *pub,
			  uint16_t *pub_port, uint8_t *inside_opened);
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
	uint32_t npending;       /* segments held or out of order */
	/* The most that waited at once since start, of all hosts and of any
	 * one host: how close the limits came (status, metrics). */
	uint32_t pending_peak, pending_host_peak;
	uint64_t ctr[GC_COUNT];
};

/* A counter's stats name, "?" if out of range. */
const char *gw_counter_name(unsigned c);

void gw_default_cfg(struct gw_cfg *cfg);
/* Sets up the call table and, sized for it, the alias space (aliases). */
int gw_init(struct gw *g, const struct gw_cfg *cfg,
	    const struct calltab_cfg *tcfg, const struct gw_hooks *hooks);
/*
 * Reload: new timeouts take effect from now on, for every call and
 * connection; tcfg's hold-down too.  The mark and the table sizes stay.
 */
void gw_set_cfg(struct gw *g, const struct gw_cfg *cfg,
		const struct calltab_cfg *tcfg);
/* Drops every held packet (through the verdict hook) and frees all. */
void gw_destroy(struct gw *g);

/*
 * One queued packet, parsed into v (v->data is p->data): every packet gets
 * exactly one verdict, now or later.  GRE and every packet that is not a
 * well-formed TCP segment get theirs before this returns, so only TCP
 * segments need to outlive the call (p may be on the caller's stack
 * otherwise).  v is not kept.
 */
void gw_input_view(struct gw *g, struct gw_pkt *p, const struct pkt_view *v,
		   const struct gw_meta *m, uint64_t now);

/* The same for a packet not parsed yet. */
void gw_input(struct gw *g, struct gw_pkt *p, const struct gw_meta *m,
	      uint64_t now);

/* Periodic work: held segments, idle and stuck calls, hold-downs. */
void gw_tick(struct gw *g, uint64_t now);

/*
 * The kernel data plane (io/fastpath.c) tells the translator which calls
 * it carries (on), and what it carried for them since it last read their
 * counters (told on every read, nothing new included): that counts as the
 * call's traffic (idle timeout, counters) as if it had come through the
 * queue.  Such a call ends idle only after a read past its deadline.
 */
void gw_call_kernel(struct gw *g, uint32_t slot, int on);
void gw_call_traffic(struct gw *g, uint32_t slot, int dir, uint64_t pkts,
		     uint64_t bytes, uint64_t now);

/* A TCP control connection as the records key it, host byte order. */
struct gw_tcp_key {
	uint32_t inside, outside;
	uint16_t iport, oport;
};

/*
 * Destroy events were lost: keep only the connections conntrack still has
 * (alive[0..n-1], in any order; sorted here), ending the others and their
 * calls as if their destroy events had come.  Returns how many ended.
 */
uint32_t gw_conn_sync(struct gw *g, struct gw_tcp_key *alive, size_t n,
		      uint64_t now);

/* The control connection is gone (conntrack said so). */
void gw_conn_gone(struct gw *g, uint32_t inside, uint16_t iport,
		  uint32_t outside, uint16_t oport, uint64_t now);

/* Clear one call by slot (admin request); -1 if no such call. */
int gw_call_clear(struct gw *g, uint32_t slot, uint64_t now);

#endif
