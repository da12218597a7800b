/*
 * libFuzzer target for relay.c (with greleg.c, gre.c and pptp_msg.c under
 * it).  The input is a script that drives one relay with small tables and
 * short timers: accept inside connections, feed control bytes to any open
 * connection (well-formed messages of the type that side sends, their Call
 * IDs taken from the calls the relay holds or from a small set, now and then
 * with a byte broken; or raw bytes; cut into pieces), complete or fail
 * upstream connects, close connections, send GRE for the calls (keys exact
 * or off by one part, sequence numbers near the expected ones), move time on
 * and tick, clear calls, shut down, and make the connect hook or the Call ID
 * allocator fail for a while.
 *
 * The hooks play the I/O layer and abort on anything it must never see:
 * - a close, or control bytes, for a slot that is not open; control bytes
 *   on an upstream connection whose TCP connect has not finished; bytes that
 *   are not exactly one well-formed message, or a message that side never
 *   receives from a PAC (to the client) or a PNS (to the server);
 * - a connect for a slot that is open, or not an upstream connection of the
 *   relay, or toward another server than its inside connection's;
 * - a Call ID put back that is not out (or twice); GRE sent that does not
 *   parse, or that is not from (public, server) to the server's Call ID or
 *   from (server, client) to the client's Call ID of an established call,
 *   or whose payload is not the bytes of the frame that came in;
 * - events with slots out of range;
 * - an answer to a server's Call-Disconnect-Notify, or to a client's
 *   Call-Clear-Request, that is about another call than the one with that
 *   Call ID on that connection (Call ID 0 included: pptpd's first call has
 *   it, and a call whose peer's ID is not known yet must not take it).
 * After every step the relay's books must match a recount: connections and
 * calls in use, each connection's call count, the high-water marks, links
 * between calls and connections (a call's upstream connection belongs to
 * its inside connection), the slots open for the I/O layer, the Call IDs out
 * (exactly one per call holding one), every GRE hash chain (acyclic, only
 * calls in use, one entry per key), and no connection half-dropped.  A
 * per-call connection without calls must be stopping, an upstream connection
 * without an owner too, and an inside connection waiting for the server must
 * still have its primary.  At the end, timers alone must bring the relay to
 * empty (nothing stuck), and after a shutdown nothing may be left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gre.h"
#include "wire/pptp_msg.h"
#include "relay/relay.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_relay: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

#define MAX_CONNS 8
#define MAX_CALLS 6
#define NCLIENT 4
#define NSERVER 2
#define NID 12           /* Call IDs the allocator has per (pub, server) */
#define MAX_IDS 64
#define DYING_STATE 0xFF
#define MAX_FRAMES 4096

static uint32_t client_addr(unsigned i) { return 0xC6120010u + i; }
static uint32_t server_addr(unsigned i) { return 0xC0000210u + i; }
static uint32_t pub_addr(unsigned i) { return 0xCB007101u + i; }

struct harness {
	struct relay r;
	uint64_t now;
	uint8_t live[MAX_CONNS];
	uint8_t connecting[MAX_CONNS];   /* connect asked, not yet answered */
	int connect_fail, id_fail;
	struct { uint32_t pub, server; uint16_t id; } ids[MAX_IDS];
	int nids;
	uint32_t seq[MAX_CALLS][2];      /* next GRE sequence number to send */
	/* Hashes of every frame handed in: what comes out must be one. */
	uint64_t frames[MAX_FRAMES];
	int nframes, frames_full;
	/* The message being handed in, when it is whole and alone on a clean
	 * stream: what the relay answers it with is checked. */
	unsigned cur_type;
	uint32_t cur_conn;
	uint16_t cur_id;
};

static struct harness H;

/* ---- hooks: the I/O layer's view ----------------------------------------- */

static int to_client_ok(unsigned t)
{
	switch (t) {
	case PPTP_SCCRP: case PPTP_STOPCCRQ: case PPTP_STOPCCRP:
	case PPTP_ECHORQ: case PPTP_ECHORP: case PPTP_OCRP: case PPTP_ICRQ:
	case PPTP_ICCN: case PPTP_CDN: case PPTP_WEN:
		return 1;
	}
	return 0;
}

static int to_server_ok(unsigned t)
{
	switch (t) {
	case PPTP_SCCRQ: case PPTP_STOPCCRQ: case PPTP_STOPCCRP:
	case PPTP_ECHORQ: case PPTP_ECHORP: case PPTP_OCRQ: case PPTP_ICRP:
	case PPTP_CCRQ: case PPTP_SLI:
		return 1;
	}
	return 0;
}

/* The call of conn whose own ID (ours) in the message sent is id. */
static const struct rl_call *call_of(uint32_t conn, int inside, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < H.r.calls_hwm; i++) {
		const struct rl_call *k = &H.r.calls[i];

		if (k->state != RLK_FREE &&
		    (inside ? k->inside : k->up) == conn &&
		    (inside ? k->pac_id : k->pns_id) == id)
			return k;
	}
	return NULL;
}

/*
 * The answers to a server's Call-Disconnect-Notify and to a client's
 * Call-Clear-Request: they are about the call with that Call ID (the
 * server's own, the client's own) on that connection, and nothing else.
 */
static void check_answer(uint32_t conn, const struct pptp_msg *m)
{
	int inside = H.r.conns[conn].side == RL_INSIDE;
	const struct rl_call *k;

	if (H.cur_type == PPTP_CDN) {
		if (!inside) {
			if (m->type != PPTP_STOPCCRQ || conn != H.cur_conn)
				FAIL("a server's CDN answered with %s",
				     pptp_type_name(m->type));
			return;
		}
		k = call_of(conn, 1, (uint16_t)m->num[PF_CALL_ID]);
		if (m->type != PPTP_CDN || !k || k->up != H.cur_conn ||
		    k->server_id != H.cur_id ||
		    (!k->incoming && k->state != RLK_ESTABLISHED))
			FAIL("a server's CDN for its call %u answered with a "
			     "client's %s for another call", H.cur_id,
			     pptp_type_name(m->type));
		return;
	}
	/* A client's Call-Clear-Request. */
	if (m->type == PPTP_STOPCCRQ && !inside)
		return;
	k = call_of(conn, inside, (uint16_t)m->num[PF_CALL_ID]);
	if (m->type != (inside ? PPTP_CDN : PPTP_CCRQ) || !k ||
	    k->inside != H.cur_conn || k->client_id != H.cur_id)
		FAIL("a client's CCRQ for its call %u answered with %s for "
		     "another call", H.cur_id, pptp_type_name(m->type));
}

static void h_ctl_send(void *arg, uint32_t conn, const uint8_t *p, size_t len)
{
	struct harness *h = arg;
	struct pptp_msg m;
	uint16_t type, mlen;

	if (conn >= MAX_CONNS || !h->live[conn])
		FAIL("control bytes for slot %u, not open", (unsigned)conn);
	if (h->connecting[conn])
		FAIL("control bytes for slot %u before its connect finished",
		     (unsigned)conn);
	if (h->r.conns[conn].state == RLC_FREE ||
	    h->r.conns[conn].state == DYING_STATE)
		FAIL("control bytes for slot %u in state %u", (unsigned)conn,
		     h->r.conns[conn].state);
	if (pptp_hdr_check(p, len, &type, &mlen) != PPTP_OK || mlen != len ||
	    pptp_parse(p, len, &m) != PPTP_OK)
		FAIL("slot %u: %zu bytes that are not one message",
		     (unsigned)conn, len);
	if (h->r.conns[conn].side == RL_INSIDE ? !to_client_ok(type) :
						  !to_server_ok(type))
		FAIL("slot %u (side %u) sent a %s", (unsigned)conn,
		     h->r.conns[conn].side, pptp_type_name(type));
	if (h->cur_type)
		check_answer(conn, &m);
}

static int h_connect(void *arg, uint32_t conn, uint32_t server)
{
	struct harness *h = arg;
	const struct rl_conn *c;

	if (conn >= MAX_CONNS || h->live[conn])
		FAIL("connect for slot %u, open already", (unsigned)conn);
	c = &h->r.conns[conn];
	if (c->side != RL_UPSTREAM || c->state != RLC_CONNECTING)
		FAIL("connect for slot %u: side %u state %u", (unsigned)conn,
		     c->side, c->state);
	if (c->owner >= MAX_CONNS || h->r.conns[c->owner].server != server ||
	    h->r.conns[c->owner].side != RL_INSIDE)
		FAIL("connect for slot %u to a server not its client's",
		     (unsigned)conn);
	if (h->connect_fail)
		return -1;
	h->live[conn] = 1;
	h->connecting[conn] = 1;
	return 0;
}

static void h_close(void *arg, uint32_t conn)
{
	struct harness *h = arg;

	if (conn >= MAX_CONNS || !h->live[conn])
		FAIL("close for slot %u, not open", (unsigned)conn);
	if (h->r.conns[conn].state == RLC_FREE)
		FAIL("close for slot %u, free in the relay", (unsigned)conn);
	h->live[conn] = 0;
	h->connecting[conn] = 0;
}

static uint8_t pay_byte(uint32_t tag, size_t i)
{
	return (uint8_t)(tag * 73u + i * 11u + (tag >> 8));
}

static uint64_t frame_hash(const uint8_t *p, size_t n)
{
	uint64_t x = 0xcbf29ce484222325ull ^ n;
	size_t i;

	for (i = 0; i < n; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	return x;
}

static int frame_known(uint64_t x)
{
	int i;

	for (i = 0; i < H.nframes; i++)
		if (H.frames[i] == x)
			return 1;
	return 0;
}

/* Remember the frame a GRE packet about to be handed in carries. */
static void frame_add(const uint8_t *gre, size_t len)
{
	struct gre_info g;
	uint64_t x;

	if (gre_parse(gre, len, &g) != GRE_OK || !g.payload_len)
		return;
	x = frame_hash(gre + g.hdr_len, g.payload_len);
	if (frame_known(x))
		return;
	if (H.nframes == MAX_FRAMES)
		H.frames_full = 1;
	else
		H.frames[H.nframes++] = x;
}

static int h_gre_send(void *arg, uint32_t src, uint32_t dst,
		      const uint8_t *gre, size_t len)
{
	struct harness *h = arg;
	struct gre_info g;
	uint32_t i;
	int found = 0;

	if (gre_parse(gre, len, &g) != GRE_OK)
		FAIL("GRE sent that does not parse");
	if (len != g.hdr_len + g.payload_len)
		FAIL("GRE sent with %zu bytes, header says %zu", len,
		     g.hdr_len + g.payload_len);
	if (!g.has_seq && (!g.has_ack || g.payload_len))
		FAIL("GRE sent without sequence number, not ack-only");
	if (g.has_seq && !g.payload_len)
		FAIL("GRE sent with a sequence number and no frame");
	for (i = 0; i < h->r.calls_hwm && !found; i++) {
		const struct rl_call *k = &h->r.calls[i];

		if (k->state != RLK_ESTABLISHED)
			continue;
		if (src == k->pub && dst == k->server &&
		    g.call_id == k->server_id)
			found = 1;
		if (src == k->server && dst == k->client &&
		    g.call_id == k->client_id)
			found = 1;
	}
	if (!found)
		FAIL("GRE %08x -> %08x call %u for no established call",
		     (unsigned)src, (unsigned)dst, g.call_id);
	/* What comes out must be a frame that went in, byte for byte. */
	if (g.payload_len && !h->frames_full &&
	    !frame_known(frame_hash(gre + g.hdr_len, g.payload_len)))
		FAIL("GRE sent with a frame that never came in (%u bytes)",
		     g.payload_len);
	return 0;
}

static int id_find(uint32_t pub, uint32_t server, uint16_t id)
{
	int i;

	for (i = 0; i < H.nids; i++)
		if (H.ids[i].pub == pub && H.ids[i].server == server &&
		    H.ids[i].id == id)
			return i;
	return -1;
}

static int h_id_get(void *arg, uint32_t pub, uint32_t server, uint16_t *id)
{
	struct harness *h = arg;
	uint16_t v;

	if (h->id_fail || h->nids >= MAX_IDS)
		return -1;
	for (v = 1; v <= NID; v++)
		if (id_find(pub, server, v) < 0)
			break;
	if (v > NID)
		return -1;
	h->ids[h->nids].pub = pub;
	h->ids[h->nids].server = server;
	h->ids[h->nids].id = v;
	h->nids++;
	*id = v;
	return 0;
}

static void h_id_put(void *arg, uint32_t pub, uint32_t server, uint16_t id)
{
	struct harness *h = arg;
	int i = id_find(pub, server, id);

	if (i < 0)
		FAIL("Call ID %u put back for %08x/%08x, not out", id,
		     (unsigned)pub, (unsigned)server);
	h->ids[i] = h->ids[--h->nids];
}

static void h_event(void *arg, const struct rl_event *ev)
{
	(void)arg;
	if ((unsigned)ev->type > RLEV_BAD_INPUT || !ev->why)
		FAIL("event type %d", (int)ev->type);
	if (ev->conn != RL_NONE && ev->conn >= MAX_CONNS)
		FAIL("event conn %u", (unsigned)ev->conn);
	if (ev->call != RL_NONE && ev->call >= MAX_CALLS)
		FAIL("event call %u", (unsigned)ev->call);
	if ((unsigned)ev->reason >= RLE_COUNT)
		FAIL("event reason %d", (int)ev->reason);
}

/* ---- the books ----------------------------------------------------------- */

static void check_books(const char *after)
{
	const struct relay *r = &H.r;
	uint32_t i, j, nconn = 0, ncall = 0, nhash = 0, want_hash = 0;
	int held = 0;

	for (i = 0; i < r->cfg.max_conns; i++) {
		const struct rl_conn *c = &r->conns[i];
		uint32_t n = 0;

		if (c->state == DYING_STATE)
			FAIL("%s: slot %u left dying", after, (unsigned)i);
		if ((c->state != RLC_FREE) != H.live[i])
			FAIL("%s: slot %u state %u, open for the I/O layer %d",
			     after, (unsigned)i, c->state, H.live[i]);
		if (c->state == RLC_FREE)
			continue;
		nconn++;
		if (c->state >= RLC_STATE_COUNT || i >= r->conns_hwm)
			FAIL("%s: slot %u state %u hwm %u", after,
			     (unsigned)i, c->state, (unsigned)r->conns_hwm);
		if (H.connecting[i] && c->state != RLC_CONNECTING)
			FAIL("%s: slot %u left connecting in state %u", after,
			     (unsigned)i, c->state);
		for (j = 0; j < r->calls_hwm; j++)
			if (r->calls[j].state != RLK_FREE &&
			    (c->side == RL_INSIDE ? r->calls[j].inside :
			     r->calls[j].up) == i)
				n++;
		if (n != c->ncalls)
			FAIL("%s: slot %u counts %u calls, has %u", after,
			     (unsigned)i, (unsigned)c->ncalls, (unsigned)n);
		if (c->side == RL_INSIDE) {
			if (c->state == RLC_WAIT_UPSTREAM &&
			    (c->primary >= r->cfg.max_conns ||
			     r->conns[c->primary].state == RLC_FREE))
				FAIL("%s: slot %u waits for no upstream", after,
				     (unsigned)i);
			if (c->primary != RL_NONE &&
			    (c->primary >= r->cfg.max_conns ||
			     r->conns[c->primary].state == RLC_FREE ||
			     r->conns[c->primary].side != RL_UPSTREAM ||
			     r->conns[c->primary].owner != i))
				FAIL("%s: slot %u's primary %u is not its own",
				     after, (unsigned)i, (unsigned)c->primary);
		} else {
			if (c->owner == RL_NONE) {
				if (c->state != RLC_STOPPING)
					FAIL("%s: upstream slot %u without "
					     "owner in state %u", after,
					     (unsigned)i, c->state);
			} else if (c->owner >= r->cfg.max_conns ||
				   r->conns[c->owner].state == RLC_FREE ||
				   r->conns[c->owner].side != RL_INSIDE) {
				FAIL("%s: upstream slot %u's owner %u is gone",
				     after, (unsigned)i, (unsigned)c->owner);
			}
			if (c->per_call && !c->ncalls &&
			    c->state != RLC_STOPPING)
				FAIL("%s: per-call slot %u without calls in "
				     "state %u", after, (unsigned)i, c->state);
		}
	}
	for (i = 0; i < r->cfg.max_calls; i++) {
		const struct rl_call *k = &r->calls[i];

		if (k->state == RLK_FREE)
			continue;
		ncall++;
		want_hash += 1 + (k->pns_id != 0);
		if (k->state >= RLK_STATE_COUNT || i >= r->calls_hwm)
			FAIL("%s: call %u state %u", after, (unsigned)i,
			     k->state);
		if (k->inside >= r->cfg.max_conns ||
		    r->conns[k->inside].state == RLC_FREE ||
		    r->conns[k->inside].side != RL_INSIDE)
			FAIL("%s: call %u's inside slot %u", after,
			     (unsigned)i, (unsigned)k->inside);
		if (k->up != RL_NONE &&
		    (k->up >= r->cfg.max_conns ||
		     r->conns[k->up].state == RLC_FREE ||
		     r->conns[k->up].side != RL_UPSTREAM ||
		     r->conns[k->up].owner != k->inside))
			FAIL("%s: call %u's upstream slot %u", after,
			     (unsigned)i, (unsigned)k->up);
		if (!k->pac_id)
			FAIL("%s: call %u without pac_id", after, (unsigned)i);
		if (k->state == RLK_ESTABLISHED &&
		    (!k->pns_id || k->up == RL_NONE))
			FAIL("%s: call %u established without pns_id or "
			     "connection", after, (unsigned)i);
		if (k->up == RL_NONE)
			FAIL("%s: call %u in state %u without connection",
			     after, (unsigned)i, k->state);
		if (k->pns_id) {
			held++;
			if (id_find(k->pub, k->server, k->pns_id) < 0)
				FAIL("%s: call %u holds Call ID %u, not out",
				     after, (unsigned)i, k->pns_id);
		}
	}
	if (nconn != r->nconns || ncall != r->ncalls)
		FAIL("%s: %u conns %u calls counted, %u %u in use", after,
		     (unsigned)r->nconns, (unsigned)r->ncalls, (unsigned)nconn,
		     (unsigned)ncall);
	if (held != H.nids)
		FAIL("%s: %d Call IDs out, calls hold %d", after, H.nids, held);
	/* The GRE hash: every chain ends, holds only calls in use, and has
	 * one entry per key. */
	for (i = 0; i <= r->hmask; i++) {
		uint32_t e = r->hash[i], steps = 0;

		while (e != RL_NONE) {
			const struct rl_call *k;

			if ((e >> 1) >= r->cfg.max_calls)
				FAIL("%s: hash entry %u out of range", after,
				     (unsigned)e);
			k = &r->calls[e >> 1];
			if (k->state == RLK_FREE)
				FAIL("%s: hash holds free call %u", after,
				     (unsigned)(e >> 1));
			if ((e & 1) && !k->pns_id)
				FAIL("%s: hash holds call %u's server key "
				     "without pns_id", after,
				     (unsigned)(e >> 1));
			if (++steps > 2 * r->cfg.max_calls)
				FAIL("%s: hash chain %u loops", after,
				     (unsigned)i);
			nhash++;
			e = k->hnext[e & 1];
		}
	}
	if (nhash != want_hash)
		FAIL("%s: %u hash entries, %u wanted", after, (unsigned)nhash,
		     (unsigned)want_hash);
}

/* ---- the script ---------------------------------------------------------- */

/* A slot the I/O layer has open, chosen by b; RL_NONE if none. */
static uint32_t pick_conn(uint8_t b, int want_connecting)
{
	uint32_t i, n = 0, list[MAX_CONNS];

	for (i = 0; i < MAX_CONNS; i++)
		if (H.live[i] && H.connecting[i] == want_connecting)
			list[n++] = i;
	return n ? list[b % n] : RL_NONE;
}

/* A Call ID for a message field: one the relay holds, or a small one. */
static uint16_t pick_id(struct in *in)
{
	uint8_t b = take(in);
	const struct rl_call *k = &H.r.calls[(b >> 3) % H.r.cfg.max_calls];

	switch (b & 7) {
	case 0: return k->client_id;
	case 1: return k->pac_id;
	case 2: return k->pns_id;
	case 3: return k->server_id;
	case 4: return (uint16_t)(k->client_id + 1);
	default: return (uint16_t)(b >> 3);
	}
}

static const uint8_t client_types[] = {
	PPTP_SCCRQ, PPTP_OCRQ, PPTP_OCRQ, PPTP_ICRP, PPTP_CCRQ, PPTP_SLI,
	PPTP_ECHORQ, PPTP_ECHORP, PPTP_STOPCCRQ, PPTP_STOPCCRP
};
static const uint8_t server_types[] = {
	PPTP_SCCRP, PPTP_OCRP, PPTP_OCRP, PPTP_ICRQ, PPTP_ICCN, PPTP_CDN,
	PPTP_WEN, PPTP_ECHORQ, PPTP_ECHORP, PPTP_STOPCCRQ, PPTP_STOPCCRP
};

static void op_ctl(struct in *in)
{
	uint8_t b = take(in), f = take(in);
	uint32_t s = pick_conn(b, 0);
	struct pptp_msg m;
	uint8_t buf[PPTP_MAX_LEN];
	size_t n, cut1, cut2;
	unsigned type;

	if (s == RL_NONE)
		return;
	if (f & 0x80)
		type = 1 + (f & 0x0f) % PPTP_TYPE_MAX;
	else if (H.r.conns[s].side == RL_INSIDE)
		type = client_types[(f & 0x7f) % sizeof(client_types)];
	else
		type = server_types[(f & 0x7f) % sizeof(server_types)];
	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)type;
	m.num[PF_PROTO_VERSION] = 0x0100;
	m.num[PF_CALL_ID] = pick_id(in);
	m.num[PF_PEER_CALL_ID] = pick_id(in);
	b = take(in);
	m.num[PF_RESULT] = b & 0x80 ? (uint32_t)(b & 7) : 1;
	m.num[PF_MAX_CHANNELS] = (b >> 3) & 3;
	m.num[PF_IDENTIFIER] = take(in);
	m.num[PF_REASON] = 1;
	n = pptp_build(&m, buf, sizeof(buf));
	if (!n)
		return;
	if ((type == PPTP_CDN && H.r.conns[s].side == RL_UPSTREAM) ||
	    (type == PPTP_CCRQ && H.r.conns[s].side == RL_INSIDE)) {
		if (H.r.conns[s].rx_have == 0 &&
		    H.r.conns[s].state == RLC_ESTABLISHED)
			H.cur_type = type;
		H.cur_conn = s;
		H.cur_id = (uint16_t)m.num[PF_CALL_ID];
	}
	if (f & 0x40 && (f & 0x80) == 0) {
		/* A byte broken somewhere, header or body. */
		uint8_t at = take(in);

		buf[at % n] ^= (uint8_t)(take(in) | 1);
		H.cur_type = 0;
	}
	/* Cut in up to three pieces. */
	b = take(in);
	cut1 = b & 0x0f ? (b & 0x0f) * n / 16 : n;
	cut2 = cut1 + (n - cut1) * (b >> 4) / 16;
	relay_ctl_input(&H.r, s, buf, cut1, H.now);
	check_books("ctl piece 1");
	if (H.live[s] && !H.connecting[s]) {
		relay_ctl_input(&H.r, s, buf + cut1, cut2 - cut1, H.now);
		check_books("ctl piece 2");
	}
	if (H.live[s] && !H.connecting[s])
		relay_ctl_input(&H.r, s, buf + cut2, n - cut2, H.now);
	H.cur_type = 0;
}

static void op_raw(struct in *in)
{
	uint32_t s = pick_conn(take(in), 0);
	uint8_t buf[64];
	size_t n = take(in) % sizeof(buf), i;

	for (i = 0; i < n; i++)
		buf[i] = take(in);
	if (s != RL_NONE)
		relay_ctl_input(&H.r, s, buf, n, H.now);
}

static void op_gre(struct in *in)
{
	uint8_t b = take(in), f = take(in), d = take(in), pl = take(in);
	uint32_t slot = b % H.r.cfg.max_calls;
	const struct rl_call *k = &H.r.calls[slot];
	int from_server = f & 1;
	uint32_t src, dst, tag, seq;
	uint16_t id;
	struct gre_info g;
	uint8_t pkt[GRELEG_HDR_MAX + 300];
	size_t n, j, plen = pl % 200;

	if (from_server) {
		src = k->server;
		dst = k->pub;
		id = k->pns_id;
	} else {
		src = k->client;
		dst = k->server;
		id = k->pac_id;
	}
	/* Now and then one part of the key is off. */
	switch ((f >> 1) & 7) {
	case 1: src ^= 1; break;
	case 2: dst ^= 1; break;
	case 3: id ^= 1; break;
	}
	/* Near the next number: in order, behind, or ahead. */
	seq = H.seq[slot][from_server] + (uint32_t)((int)(d & 15) - 4);
	if (d & 0x10)
		H.seq[slot][from_server] = seq + 1;
	memset(&g, 0, sizeof(g));
	g.call_id = id;
	g.has_seq = !(f & 0x10) || !(f & 0x20);
	g.seq = seq;
	g.has_ack = (f & 0x40) != 0;
	g.ack = H.seq[slot][!from_server] + (uint32_t)(f >> 7) - 1;
	g.payload_len = (uint16_t)(g.has_seq ? plen : 0);
	n = gre_build(&g, pkt, sizeof(pkt));
	if (!n)
		return;
	tag = slot << 24 | (uint32_t)from_server << 16 | (seq & 0xFFFF);
	for (j = 0; j < g.payload_len; j++)
		pkt[n + j] = j < 4 ? (uint8_t)(tag >> (24 - 8 * j)) :
			     pay_byte(tag, j);
	n += g.payload_len;
	if ((f & 0x0e) == 0x0e && n > 2)
		pkt[take(in) % n] ^= (uint8_t)(take(in) | 1);
	frame_add(pkt, n);
	relay_gre_input(&H.r, src, dst, pkt, n, H.now);
}

static void run(struct in *in)
{
	uint8_t op;

	while (in->len) {
		uint8_t b;
		uint32_t s;

		op = take(in);
		switch (op % 12) {
		case 0:
			b = take(in);
			s = relay_accept(&H.r, client_addr(b % NCLIENT),
					 (uint16_t)(1024 + b),
					 server_addr((b >> 2) % NSERVER),
					 H.now);
			if (s != RL_NONE) {
				if (s >= MAX_CONNS || H.live[s])
					FAIL("accept gave slot %u",
					     (unsigned)s);
				H.live[s] = 1;
			}
			break;
		case 1: case 2: case 3:
			op_ctl(in);
			break;
		case 4:
			op_raw(in);
			break;
		case 5:
			b = take(in);
			s = pick_conn(b, 1);
			if (s == RL_NONE)
				break;
			H.connecting[s] = 0;
			if (b & 0x80) {
				H.live[s] = 0;
				relay_closed(&H.r, s, H.now);
			} else {
				relay_connected(&H.r, s,
						pub_addr((b >> 6) & 1), H.now);
			}
			break;
		case 6:
			b = take(in);
			s = pick_conn(b, 0);
			if (s == RL_NONE)
				break;
			H.live[s] = 0;
			relay_closed(&H.r, s, H.now);
			break;
		case 7: case 8:
			op_gre(in);
			break;
		case 9:
			b = take(in);
			H.now += b & 0x80 ? (uint64_t)(b & 0x7f) * 100 : b;
			relay_tick(&H.r, H.now);
			break;
		case 10:
			b = take(in);
			if (b < 0xF0) {
				relay_call_clear(&H.r, b % (MAX_CALLS + 2),
						 H.now);
			} else {
				relay_shutdown(&H.r, H.now);
				check_books("shutdown");
				if (H.r.nconns || H.r.ncalls || H.nids)
					FAIL("left after shutdown");
			}
			break;
		case 11:
			b = take(in);
			H.connect_fail = b & 1;
			H.id_fail = (b >> 1) & 1;
			break;
		}
		check_books("step");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct rl_cfg cfg;
	struct rl_hooks hk;
	uint8_t c0, c1;
	uint64_t far;
	int i;

	memset(&H, 0, sizeof(H));
	H.now = 1000;
	c0 = take(&in);
	c1 = take(&in);
	relay_default_cfg(&cfg);
	cfg.max_conns = 1 + c0 % MAX_CONNS;
	cfg.max_calls = 1 + (c0 >> 3) % MAX_CALLS;
	cfg.per_call = (c0 >> 6) & 1;
	cfg.echo_idle_ms = 2000;
	cfg.echo_reply_ms = 1000 + (c1 & 3) * 500;
	cfg.start_ms = 1000;
	cfg.call_ms = 1500;
	cfg.stop_ms = 500;
	cfg.reorder_ms = 20 + (c1 >> 2 & 3) * 40;
	cfg.ack_delay_ms = 20 + (c1 >> 4 & 3) * 40;
	cfg.seed = c1;
	memset(&hk, 0, sizeof(hk));
	hk.arg = &H;
	hk.ctl_send = h_ctl_send;
	hk.connect = h_connect;
	hk.close = h_close;
	hk.gre_send = h_gre_send;
	hk.id_get = h_id_get;
	hk.id_put = h_id_put;
	hk.event = h_event;
	if (relay_init(&H.r, &cfg, &hk) != 0)
		FAIL("relay_init");
	run(&in);

	/* Timers alone must empty the relay: unanswered echoes, starts and
	 * stops all end.  The I/O layer answers nothing from here on, except
	 * that a connect still pending fails. */
	H.connect_fail = 1;
	far = 10ull * (cfg.echo_idle_ms + cfg.echo_reply_ms + cfg.start_ms +
		       cfg.call_ms + cfg.stop_ms);
	for (i = 0; i < 4; i++) {
		H.now += far;
		relay_tick(&H.r, H.now);
		check_books("final tick");
	}
	if (H.r.nconns || H.r.ncalls)
		FAIL("%u conns and %u calls left after every timer",
		     (unsigned)H.r.nconns, (unsigned)H.r.ncalls);
	relay_shutdown(&H.r, H.now);
	check_books("final shutdown");
	if (H.r.nconns || H.r.ncalls || H.nids)
		FAIL("left after shutdown");
	for (i = 0; i < MAX_CONNS; i++)
		if (H.live[i])
			FAIL("slot %d left open", i);
	relay_destroy(&H.r);
	return 0;
}
