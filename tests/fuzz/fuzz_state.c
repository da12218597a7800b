/*
 * libFuzzer target for the state file's loader (state/state.c).  The input
 * is an image's body: the harness frames it (magic, version, length, the
 * boot it expects, a checksum that matches), so the fuzzer reaches every
 * field check instead of stopping at the checksum.  The first byte of
 * input chooses whether to frame it at all (odd: the input is taken as a
 * whole file, checksum and all).
 *
 * Besides "no crash": a refused image leaves the table empty; a loaded one
 * is a table the translator can run (its counts agree with its records), its
 * image loads again into a fresh table and gives the same bytes, and the
 * translator's periodic work runs over it.
 */
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "wire/rd.h"

static const struct state_meta META = {
	.boot_id = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 },
	.now = 5000000,
};

static void on_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	(void)arg;
	(void)p;
	(void)v;
	(void)mark;
}

static int fresh(struct gw *g)
{
	struct gw_cfg cfg;
	struct calltab_cfg tc;
	struct gw_hooks h = { .verdict = on_verdict };

	gw_default_cfg(&cfg);
	memset(&tc, 0, sizeof(tc));
	tc.max_calls = 16;
	tc.max_conns = 8;
	tc.holddown_ms = 60000;
	tc.seed = 1;
	return gw_init(g, &cfg, &tc, &h);
}

static int empty(const struct gw *g)
{
	return g->tab.nconns_used == 0 && g->tab.ncalls_used == 0 &&
	       g->tab.nrefused == 0 && g->aliases.ntaken == 0 &&
	       alias_holds(&g->aliases) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw g, g2;
	struct state_buf b1 = { 0 }, b2 = { 0 };
	struct state_counts cnt;
	uint8_t *img;
	size_t len;
	char why[200];

	if (size < 1 || size > 1 << 16)
		return 0;
	img = malloc(size + 64);
	if (!img)
		return 0;
	if (data[0] & 1) {
		len = size - 1;
		memcpy(img, data + 1, len);
	} else {
		len = 16 + 16 + (size - 1) + 4;
		memcpy(img, STATE_MAGIC, 8);
		be32_put(img + 8, STATE_VERSION);
		be32_put(img + 12, (uint32_t)(16 + size - 1));
		memcpy(img + 16, META.boot_id, 16);
		memcpy(img + 32, data + 1, size - 1);
		be32_put(img + len - 4, state_crc32(img, len - 4));
	}
	if (fresh(&g) < 0) {
		free(img);
		return 0;
	}
	if (state_decode(&g, img, len, &META, &cnt, why, sizeof(why)) !=
	    STATE_OK) {
		if (!empty(&g))
			abort();
	} else {
		if (!calltab_recount_ok(&g.tab, NULL, 0))
			abort();
		if (state_encode(&g, &META, &b1) < 0 || fresh(&g2) < 0)
			abort();
		if (state_decode(&g2, b1.p, b1.len, &META, &cnt, why,
				 sizeof(why)) != STATE_OK)
			abort();
		if (state_encode(&g2, &META, &b2) < 0 || b1.len != b2.len ||
		    memcmp(b1.p, b2.p, b1.len))
			abort();
		gw_tick(&g2, META.now + 3600000);
		if (!calltab_recount_ok(&g2.tab, NULL, 0))
			abort();
		gw_destroy(&g2);
	}
	gw_destroy(&g);
	state_buf_free(&b1);
	state_buf_free(&b2);
	free(img);
	return 0;
}
