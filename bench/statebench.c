/*
 * What keeping the call table costs: a table of N control connections with
 * a call each (established, streams with H remembered rewrites per
 * direction, as after a call's setup and a few messages), its image built
 * and written to DIR/state the way the daemon writes it (temp file, fsync,
 * rename), R times.  Prints the image size and the time per write.
 *
 *   statebench DIR [N [H [R]]]     defaults: 4096 connections, 4, 50
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "statekeep.h"

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	(void)arg;
	(void)p;
	(void)v;
	(void)mark;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct gw g;
	struct gw_cfg cfg;
	struct calltab_cfg tc;
	struct gw_hooks h = { .verdict = on_verdict };
	struct statekeep *sk;
	char path[512];
	uint32_t n, hist, reps, i, k;
	double t0, enc = 0, wr = 0;
	struct state_buf b = { 0 };
	struct state_meta m = { .now = 1 };

	if (argc < 2) {
		fprintf(stderr, "usage: statebench DIR [N [H [R]]]\n");
		return 2;
	}
	n = argc > 2 ? (uint32_t)atoi(argv[2]) : 4096;
	hist = argc > 3 ? (uint32_t)atoi(argv[3]) : 4;
	reps = argc > 4 ? (uint32_t)atoi(argv[4]) : 50;
	if (hist > CS_HIST)
		hist = CS_HIST;
	log_init("statebench", LOG_WARNING, 0);
	gw_default_cfg(&cfg);
	memset(&tc, 0, sizeof(tc));
	tc.max_calls = n;
	tc.max_conns = n;
	tc.holddown_ms = 60000;
	tc.seed = 7;
	if (gw_init(&g, &cfg, &tc, &h) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		struct conn c;
		struct call call;
		int d;

		memset(&c, 0, sizeof(c));
		c.state = CONN_OPEN;
		c.inside_opened = c.pub_known = c.answered = 1;
		c.inside = 0xc6120000u + i / 60000 * 65536 + 10 + i % 200;
		c.inside_port = (uint16_t)(1024 + i);
		c.outside = 0xcb007102u;
		c.outside_port = 1723;
		c.pub = 0xcb007101u;
		c.pub_port = (uint16_t)(20000 + i);
		c.opener = c.inside;
		c.created = c.last_seen = c.state_since = 1000;
		for (d = 0; d < 2; d++) {
			struct ctlstream *s = &c.stream[d];

			cs_sync(s, 1000u * i);
			s->next = s->msg_start = 1000u * i + 500;
			s->msgs = 5;
			s->hist_n = s->hist_pos = (uint16_t)hist;
			if (hist == CS_HIST)
				s->hist_pos = 0;
			for (k = 0; k < hist; k++)
				s->hist[k].seq = 1000u * i + 100 + 20 * k;
		}
		if (calltab_restore_conn(&g.tab, i, &c) < 0)
			return 1;
		memset(&call, 0, sizeof(call));
		call.state = CALL_ESTABLISHED;
		call.peer_known = call.inside_pns = 1;
		call.inside_id = (uint16_t)i;
		call.peer_id = (uint16_t)i;
		call.alias = (uint16_t)(i + 1);
		call.conn = i;
		call.inside = c.inside;
		call.outside = c.outside;
		call.pub = c.pub;
		if (calltab_restore_call(&g.tab, i, &call) < 0)
			return 1;
	}
	calltab_restore_done(&g.tab);
	snprintf(path, sizeof(path), "%s/state", argv[1]);
	sk = statekeep_open(path);
	if (!sk)
		return 1;
	for (i = 0; i < reps; i++) {
		t0 = now_s();
		state_encode(&g, &m, &b);
		enc += now_s() - t0;
		statekeep_dirty(sk);
		t0 = now_s();
		if (statekeep_flush(sk, &g) < 0)
			return 1;
		wr += now_s() - t0;
	}
	printf("%u connections and calls, %u rewrites remembered per "
	       "direction: image %zu bytes; build %.2f ms, build and write "
	       "(temp file, fsync, rename) %.2f ms on average over %u\n",
	       n, hist, b.len, enc * 1e3 / reps, wr * 1e3 / reps, reps);
	statekeep_close(sk);
	state_buf_free(&b);
	gw_destroy(&g);
	return 0;
}
