/*
 * libFuzzer target for gw.c (with ctlstream.c, calltab.c and the parsers
 * under it).  The input drives a gateway with a small table through a
 * sequence of IPv4 packets in alternating directions: raw bytes, TCP
 * segments of a few control connections cut from streams of well-formed
 * PPTP messages (in order, retransmitted, ahead, SYN/FIN/RST; now and then
 * with a wrong checksum), and GRE for
 * the calls the table holds; time moves on and gw_tick runs in between.
 *
 * The property: every packet handed to gw_input gets exactly one verdict,
 * now or later (gw_destroy drops whatever is still held), and gw touches
 * neither the packet nor its bytes after its verdict (both are poisoned or
 * freed at once, so ASan sees it).  Also, at the verdict: a packet whose
 * bytes or length changed is marked modified (the daemon hands the kernel
 * only modified packets' bytes), and an accepted packet that came in well
 * formed (every generated TCP and GRE packet) still is: IPv4 total length
 * equal to the packet's, IPv4 and TCP checksums right (patches, address
 * rewrites and the cut of held segments on hold timeout update them), TCP
 * payload no longer than it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "wire/gre.h"
#include "xlate/gw.h"
#include "wire/pkt.h"
#include "wire/pptp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_gw: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

#define MAX_PKTS 1024
#define NIN 4          /* inside hosts */
#define NOUT 2         /* outside servers */
#define NFLOW (NIN * NOUT)
#define STREAM_MAX 4096
#define PUB 0xC6130011u         /* 198.19.0.17 */

#include "fuzz_input.h"

/* One direction of one control connection, as its sender wrote it. */
struct flowdir {
	uint32_t isn;
	uint32_t sent;          /* bytes of the stream sent so far */
	size_t len;             /* bytes generated */
	uint8_t b[STREAM_MAX];
};

struct harness {
	struct gw_pkt pkts[MAX_PKTS];
	uint8_t verdicts[MAX_PKTS];
	uint8_t wellformed[MAX_PKTS];
	uint8_t *orig[MAX_PKTS];      /* the bytes as handed in */
	size_t orig_len[MAX_PKTS];
	size_t npkts;
	uint32_t mark;
	const struct gw *g;
	struct flowdir fd[NFLOW][2];
};

static struct harness H;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The per-host counts and the half-open total are those of the records. */
static void host_books(struct calltab *t)
{
	char why[160];

	if (!calltab_recount_ok(t, why, sizeof(why)))
		FAIL("%s", why);
}

/* Ones' complement checksums: 0 and 0xffff are the same number. */
static int csum_eq(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

/* An accepted packet that came in well formed must still be. */
static void check_accepted(size_t i, const struct gw_pkt *p)
{
	struct ip4_info ip;
	struct tcp_info t, t0;
	struct ip4_info ip0;

	if (ip4_parse(p->data, p->len, &ip) != PKT_OK)
		FAIL("packet %zu accepted, IPv4 header broken", i);
	if (ip.tot_len != p->len)
		FAIL("packet %zu: total length %zu, packet %zu", i, ip.tot_len,
		     p->len);
	if (csum_fold(csum_partial(p->data, ip.hlen, 0)) != 0)
		FAIL("packet %zu: IPv4 header checksum wrong", i);
	if (ip.proto != IPPROTO_TCP_)
		return;
	if (tcp_parse(p->data, &ip, &t) != PKT_OK)
		FAIL("packet %zu accepted, TCP header broken", i);
	if (!csum_eq(be16(p->data + t.off + 16), tcp_csum(p->data, &ip)))
		FAIL("packet %zu: TCP checksum %#x, should be %#x", i,
		     be16(p->data + t.off + 16), tcp_csum(p->data, &ip));
	if (ip4_parse(H.orig[i], H.orig_len[i], &ip0) != PKT_OK ||
	    tcp_parse(H.orig[i], &ip0, &t0) != PKT_OK)
		FAIL("packet %zu: the original does not parse", i);
	if (t.seq != t0.seq || t.payload_len > t0.payload_len)
		FAIL("packet %zu: TCP seq %u len %zu, sent seq %u len %zu", i,
		     t.seq, t.payload_len, t0.seq, t0.payload_len);
}

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	struct harness *h = arg;
	ptrdiff_t i = p - h->pkts;

	/* Found by address alone: p may be poisoned if this is a repeat. */
	if (i < 0 || (size_t)i >= h->npkts)
		FAIL("verdict for a packet never handed in (%p)", (void *)p);
	if (h->verdicts[i]++)
		FAIL("packet %td got a second verdict (%d)", i, (int)v);
	if (v != GW_ACCEPT && v != GW_DROP && v != GW_PASS)
		FAIL("packet %td: verdict %d", i, (int)v);
	if (v == GW_PASS && (mark != 0 || p->modified))
		FAIL("packet %td: passed, yet marked or changed", i);
	if (mark != 0 && mark != h->mark)
		FAIL("packet %td: mark %#x", i, mark);
	if (!p->modified && (p->len != h->orig_len[i] ||
			     memcmp(p->data, h->orig[i], p->len) != 0))
		FAIL("packet %td changed but not marked modified", i);
	if (v == GW_ACCEPT && h->wellformed[i])
		check_accepted((size_t)i, p);
	free(h->orig[i]);
	h->orig[i] = NULL;
	free(p->data);
	p->data = NULL;
	ASAN_POISON_MEMORY_REGION(p, sizeof(*p));
}

/* NAT's answer when the meta has no conntrack data: known or not. */
static int on_nat_lookup(void *arg, const struct conn *c, uint32_t *pub,
			 uint16_t *pub_port, uint8_t *inside_opened)
{
	(void)arg;
	if (c->inside_port & 1)
		return -1;
	*pub = PUB;
	*pub_port = (uint16_t)(c->inside_port + 10000);
	/* Usually the inside host opened it; now and then the peer did. */
	*inside_opened = (c->inside_port & 2) == 0;
	return 0;
}

static void on_event(void *arg, const struct gw_event *e)
{
	const struct call *c = e->call;
	const struct conn *conn = e->conn;
	enum gw_event_type ev = e->type;

	(void)arg;
	switch (ev) {
	case GWE_CALL_NEW:
	case GWE_CALL_UP:
	case GWE_CALL_END:
	case GWE_CALL_REFUSED:
		if (!c || !conn)
			FAIL("event %d without its call or connection", ev);
		break;
	case GWE_CONN_BROKEN:
		if (!conn)
			FAIL("connection broken event without a connection");
		break;
	case GWE_CALL_NO_GRE_BACK:
		/* Said once, of an established call that sent GRE and got
		 * none back. */
		if (!c || !conn || c->state != CALL_ESTABLISHED ||
		    !c->no_gre_back || c->pkts[DIR_IN] ||
		    c->pkts[DIR_OUT] < GW_GRE_BACK_PKTS)
			FAIL("no-GRE-back event: call %p conn %p",
			     (const void *)c, (const void *)conn);
		break;
	case GWE_LIMIT_REFUSED:
		/* Nothing was made for it: only the host and the reason. */
		if (c || conn || !e->host ||
		    (e->limit != GC_CTRL_CONN_HOST_LIMIT &&
		     e->limit != GC_CTRL_HALF_OPEN_HOST_LIMIT &&
		     e->limit != GC_CTRL_HALF_OPEN_LIMIT &&
		     e->limit != GC_CALLS_HOST_LIMIT))
			FAIL("limit event: call %p conn %p host %08x limit %d",
			     (const void *)c, (const void *)conn, e->host,
			     (int)e->limit);
		break;
	case GWE_SEGMENT_DROPPED:
		/* A changed retransmission names its connection and sender;
		 * a wrong checksum is dropped before any record is looked
		 * up. */
		if (c || !e->host ||
		    (e->limit == GC_CTRL_RETRANS_CHANGED ?
		     !conn || (e->host != conn->inside &&
			       e->host != conn->outside) :
		     e->limit != GC_CTRL_BAD_CHECKSUM || conn))
			FAIL("segment event: call %p conn %p host %08x why %d",
			     (const void *)c, (const void *)conn, e->host,
			     (int)e->limit);
		break;
	case GWE_GRE_STRAY: {
		/* Given before the verdict of the packet it is about. */
		const struct gw_pkt *p = &H.pkts[H.npkts - 1];
		struct ip4_info ip;

		if (c || conn)
			FAIL("stray GRE event: call %p conn %p id %u",
			     (const void *)c, (const void *)conn,
			     e->stray.call_id);
		if (H.verdicts[H.npkts - 1] ||
		    ip4_parse(p->data, p->len, &ip) != PKT_OK ||
		    ip.proto != IPPROTO_GRE_ || ip.src != e->stray.src ||
		    ip.dst != e->stray.dst ||
		    be16(p->data + ip.hlen + GRE_CALLID_OFF) !=
		    e->stray.call_id)
			FAIL("stray GRE event does not name the packet");
		break;
	}
	default:
		FAIL("event %d", (int)ev);
	}
}

static uint32_t in_addr(unsigned i) { return 0x0A000001u + i; }
static uint32_t out_addr(unsigned i) { return 0xC6120002u + i; }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}


/* An IPv4 header with a valid checksum in front of l4 bytes. */
static size_t mk_ip(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst,
		    size_t l4len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + l4len));
	put16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	ip4_fix_csum(p, 20);
	return 20 + l4len;
}

/* Grow a stream by one message whose type and body come from the input. */
static void gen_msg(struct flowdir *f, struct in *in)
{
	uint8_t d = take(in);
	unsigned type = 1 + (d & 0x0f) % PPTP_TYPE_MAX;
	size_t len = pptp_type_len(type), j;
	uint8_t *p = f->b + f->len;

	if (f->len + len > STREAM_MAX)
		return;
	put16(p, (uint16_t)len);
	put16(p + 2, PPTP_MSG_CONTROL);
	put32(p + 4, PPTP_MAGIC);
	put16(p + 8, (uint16_t)type);
	put16(p + 10, 0);
	/* Call IDs and results from a small set, so calls meet again. */
	put16(p + 12, (uint16_t)(d >> 4 & 7));
	put16(p + 14, (uint16_t)(d >> 6));
	for (j = 16; j < len; j++)
		p[j] = j == 16 ? (d & 0x10 ? 1 : take(in)) : 0;
	if ((d & 0xf0) == 0xf0)
		p[take(in) % 12] ^= 0x5a;     /* a broken header now and then */
	f->len += len;
}

/* A TCP segment of flow fl in direction dir. */
static size_t mk_tcp(uint8_t *p, struct in *in, unsigned fl, int dir,
		     int msgs)
{
	struct flowdir *f = &H.fd[fl][dir];
	uint8_t fb = take(in), sb = take(in), lb = take(in);
	uint32_t inside = in_addr(fl % NIN), outside = out_addr(fl / NIN);
	uint16_t iport = (uint16_t)(40000 + fl % NIN);
	uint8_t flags;
	uint32_t off;
	size_t plen, i;
	uint8_t *t = p + 20;

	static const uint8_t flagset[8] = {
		TCPF_ACK, TCPF_ACK, TCPF_ACK | 0x08, TCPF_SYN,
		TCPF_SYN | TCPF_ACK, TCPF_FIN | TCPF_ACK, TCPF_RST,
		TCPF_RST | TCPF_ACK
	};
	flags = flagset[fb & 7];
	if (fb & 0x08)
		flags = fb >> 3;              /* anything at all */

	/* In order, or back (retransmission), or ahead. */
	if (sb & 0x80) {
		off = f->sent;
	} else {
		long d = (long)f->sent + (long)(sb & 0x7f) - 96;

		off = d < 0 ? 0 : (uint32_t)d;
	}
	plen = lb & 0x80 ? (size_t)(lb & 0x7f) * 16 : lb;
	if (flags & TCPF_SYN)
		plen = 0;
	if (msgs) {
		while (f->len < STREAM_MAX && off + plen > f->len &&
		       in->len > 0) {
			size_t before = f->len;

			gen_msg(f, in);
			if (f->len == before)
				break;
		}
	}
	if (plen > 1400)
		plen = 1400;

	put16(t, dir == DIR_OUT ? iport : PPTP_PORT);
	put16(t + 2, dir == DIR_OUT ? PPTP_PORT : iport);
	put32(t + 4, flags & TCPF_SYN ? f->isn : f->isn + 1 + off);
	put32(t + 8, 0x12345678);
	t[12] = 0x50;
	t[13] = flags;
	put16(t + 14, 65535);
	put16(t + 16, 0);
	put16(t + 18, 0);
	for (i = 0; i < plen; i++) {
		uint32_t q = off + (uint32_t)i;

		t[20 + i] = msgs && q < f->len ? f->b[q] : take(in);
	}
	if (!(flags & TCPF_SYN) && (int32_t)(off + (uint32_t)plen - f->sent) > 0)
		f->sent = off + (uint32_t)plen;
	if (dir == DIR_OUT)
		mk_ip(p, IPPROTO_TCP_, inside, outside, 20 + plen);
	else
		mk_ip(p, IPPROTO_TCP_, outside, inside, 20 + plen);
	{
		struct ip4_info ip = { 20, 40 + plen, IPPROTO_TCP_, 0, 0 };

		put16(t + 16, tcp_csum(p, &ip));
	}
	return 40 + plen;
}

/* GRE for one of the calls the table holds (or any call ID). */
static size_t mk_gre(uint8_t *p, struct in *in, struct gw *g, int dir)
{
	uint8_t cb = take(in), fb = take(in), lb = take(in);
	uint32_t src, dst, slot = cb % g->tab.ncalls_cap;
	const struct call *c = &g->tab.calls[slot];
	uint16_t id;
	size_t n = 8, i, plen = lb & 0x3f;
	uint8_t *h = p + 20;

	if (c->state != CALL_FREE && !(cb & 0x80)) {
		id = dir == DIR_OUT ? c->peer_id : c->alias;
		src = dir == DIR_OUT ? c->inside : c->outside;
		dst = dir == DIR_OUT ? c->outside : c->pub;
	} else {
		id = (uint16_t)(take(in) << 8 | take(in));
		src = dir == DIR_OUT ? in_addr(cb % NIN) : out_addr(cb % NOUT);
		dst = dir == DIR_OUT ? out_addr(cb % NOUT) : PUB;
	}
	put16(h, (uint16_t)(0x2001 | (fb & 1 ? 0x1000 : 0) |
			    (fb & 2 ? 0x0080 : 0)));
	if (fb & 4)
		h[0] ^= take(in);                   /* bad flags */
	put16(h + 2, fb & 8 ? take(in) : GRE_PROTO_PPP);
	put16(h + 4, (uint16_t)(fb & 0x10 ? plen + 1 : plen));
	put16(h + 6, id);
	if (fb & 1) {
		put32(h + n, take(in));
		n += 4;
	}
	if (fb & 2) {
		put32(h + n, take(in));
		n += 4;
	}
	for (i = 0; i < plen; i++)
		h[n + i] = take(in);
	return mk_ip(p, IPPROTO_GRE_, src, dst, n + plen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness *h = &H;
	struct in in = { data, size };
	struct gw_cfg cfg;
	struct calltab_cfg tcfg;
	struct gw_hooks hooks;
	struct gw g;
	uint64_t now = 1000;
	uint8_t c0 = take(&in), c1 = take(&in);
	uint8_t buf[1600];
	size_t i;
	unsigned f;

	h->npkts = 0;
	for (f = 0; f < NFLOW; f++) {
		/* Some streams start just below the sequence number wrap. */
		h->fd[f][0].isn = c1 & 1 ? 0xFFFFFF00u + f : 1000u * f;
		h->fd[f][1].isn = c1 & 2 ? 0xFFFFFFF0u - f : 7000u * f;
		h->fd[f][0].sent = h->fd[f][1].sent = 0;
		h->fd[f][0].len = h->fd[f][1].len = 0;
	}
	hooks = (struct gw_hooks){
		.arg = h,
		.verdict = on_verdict,
		.event = on_event,
		.nat_lookup = c1 & 0x40 ? on_nat_lookup : NULL,
	};
	gw_default_cfg(&cfg);
	cfg.hold_ms = 100 + (c1 >> 2 & 3) * 400;
	cfg.request_ms = 3000;
	cfg.clearing_ms = 2000;
	cfg.closing_ms = 2000;
	cfg.call_idle_ms = 20000;
	cfg.conn_idle_ms = 60000;
	/* The per-host limits, small enough to be reached, or off. */
	cfg.half_open_ms = 5000;
	cfg.conns_per_host = c1 & 0x10 ? 2 : 0;
	cfg.half_open_per_host = c1 & 0x20 ? 1 : 0;
	cfg.half_open_max = c1 & 0x80 ? 2 : 0;
	cfg.calls_per_host = c1 & 0x10 ? 2 : 0;
	h->mark = cfg.mark;
	memset(&tcfg, 0, sizeof(tcfg));
	tcfg.max_calls = 1 + (c0 & 7);
	tcfg.max_conns = 1 + (c0 >> 3 & 3);
	tcfg.holddown_ms = (c0 >> 5 & 1) ? 0 : 5000;
	tcfg.seed = (uint64_t)c0 << 8 | c1;
	if (gw_init(&g, &cfg, &tcfg, &hooks) < 0)
		return 0;
	h->g = &g;

	while (in.len > 0 && h->npkts < MAX_PKTS) {
		uint8_t op = take(&in), tb = take(&in);
		int dir = (int)(h->npkts & 1);
		struct gw_meta m;
		struct gw_pkt *p;
		size_t len;
		unsigned fl = (op >> 3) % NFLOW;
		int wellformed = 1;

		/* Time moves on; sometimes the periodic work runs. */
		now += (uint64_t)(tb & 0x7f) * (tb & 0x80 ? 97 : 3);
		if (tb & 1)
			gw_tick(&g, now);

		switch (op & 7) {
		case 0: {
			size_t n = take(&in), k;

			for (k = 0; k < n; k++)
				buf[k] = take(&in);
			len = n;
			wellformed = 0;
			break;
		}
		case 1:
			len = mk_tcp(buf, &in, fl, dir, 0);
			break;
		case 2:
		case 5:
			len = mk_gre(buf, &in, &g, dir);
			break;
		case 6:
			gw_conn_gone(&g, in_addr(fl % NIN),
				     (uint16_t)(40000 + fl % NIN),
				     out_addr(fl / NIN), PPTP_PORT, now);
			continue;
		case 7:
			gw_call_clear(&g, take(&in), now);
			continue;
		default:
			len = mk_tcp(buf, &in, fl, dir, 1);
			break;
		}
		/* Now and then a segment's checksum is wrong. */
		if ((op & 7) != 0 && (op & 7) != 2 && (op & 7) != 5 &&
		    (op & 0xc0) == 0xc0) {
			buf[20 + 17] ^= 0x01;
			wellformed = 0;
		}

		memset(&m, 0, sizeof(m));
		m.dir = (uint8_t)dir;
		m.has_ct = !(tb & 0x40);
		/* Now and then sent by the gateway itself (OUTPUT). */
		m.local = dir == DIR_OUT && (tb & 0x10);
		m.orig_src = in_addr(fl % NIN);
		m.orig_dst = out_addr(fl / NIN);
		m.orig_sport = (uint16_t)(40000 + fl % NIN);
		m.orig_dport = PPTP_PORT;
		m.reply_src = m.orig_dst;
		m.reply_dst = tb & 0x20 ? PUB + 1 : PUB;
		m.reply_sport = PPTP_PORT;
		m.reply_dport = (uint16_t)(50000 + fl);

		p = &h->pkts[h->npkts];
		ASAN_UNPOISON_MEMORY_REGION(p, sizeof(*p));
		memset(p, 0, sizeof(*p));
		p->id = (uint32_t)h->npkts;
		p->len = len;
		p->data = malloc(len ? len : 1);
		memcpy(p->data, buf, len);
		h->verdicts[h->npkts] = 0;
		h->wellformed[h->npkts] = (uint8_t)wellformed;
		h->orig[h->npkts] = malloc(len ? len : 1);
		memcpy(h->orig[h->npkts], buf, len);
		h->orig_len[h->npkts] = len;
		h->npkts++;
		gw_input(&g, p, &m, now);
		host_books(&g.tab);
	}
	gw_tick(&g, now + 1);
	host_books(&g.tab);
	gw_destroy(&g);
	/* Every waiting segment's count was given back with its verdict. */
	if (g.npending)
		FAIL("%u segments still counted as waiting", g.npending);

	for (i = 0; i < h->npkts; i++) {
		if (h->verdicts[i] != 1)
			FAIL("packet %zu got %u verdicts", i, h->verdicts[i]);
	}
	for (i = 0; i < h->npkts; i++)
		ASAN_UNPOISON_MEMORY_REGION(&h->pkts[i], sizeof(h->pkts[i]));
	return 0;
}
