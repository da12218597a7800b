/*
 * libFuzzer target for the control socket's commands (report_parse and
 * report_command in ctl/report.c): the lines a local client of the control
 * socket sends, answered against a small table of translated and relayed
 * calls the input sets up.
 *
 * The input: a few bytes choose the table (translated calls in every state
 * on two connections, relayed calls, whether there is a relay), the WAN
 * interface names as the configuration accepts them (config_add_wan), the
 * fast path's state text and whether a reload works; the rest is command
 * lines, one per '\n', each cut where the daemon cuts it (at a NUL, as the
 * line reader hands over a C string).
 *
 * The properties, for every line:
 *  - the parse: a verb for every line; "json" as the second or third word
 *    and nothing else sets json; a slot only for "clear" and only for plain
 *    decimal digits; the command written back the way pptpgwctl writes it
 *    parses to the same command;
 *  - the answer: not empty, no NUL, ends with a newline; an error (-1) is
 *    one line starting "error: ", a success is not; a successful JSON answer
 *    is one JSON value (checked strictly: strings escaped, numbers well
 *    formed) and a newline, whatever text the WAN names and the fast path's
 *    state hold;
 *  - the table: only "clear" changes it: "clear N" succeeds exactly when
 *    translated call N is live, and then frees that call and no other (its
 *    connection's other calls stay), "clear rN" the same for relayed call N;
 *    the per-host counts match the records after every command.
 * gw_destroy and relay_destroy at the end: ASan's leak check sees the rest.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl/report.h"
#include "relay/relay.h"
#include "xlate/gw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_ctlcmd: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

#include "fuzz_input.h"

#define NCALLS 16               /* translated calls (max_calls) */
#define NSLOTS 32               /* room for their slots (calltab_slots) */
#define NRELAY 4                /* relayed call slots */
#define LINE_MAX_FUZZ 1100      /* a little over the daemon's 1024 */

/* ---- a strict JSON reader (RFC 8259), enough to say "one value" ------- */

static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (;;) {
		unsigned char ch = (unsigned char)*s++;

		if (ch == '"')
			return s;
		if (ch < 0x20)
			return NULL;           /* NUL (the end) or a control */
		if (ch != '\\')
			continue;
		ch = (unsigned char)*s++;
		if (ch == 'u') {
			int i;

			for (i = 0; i < 4; i++)
				if (!isxdigit((unsigned char)*s++))
					return NULL;
		} else if (!strchr("\"\\/bfnrt", ch) || !ch) {
			return NULL;
		}
	}
}

static const char *json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

static const char *json_list(const char *s, int depth, char close, int keyed)
{
	s = json_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keyed) {
			if (!(s = json_string(s)))
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		if (!(s = json_value(s, depth + 1)))
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
		s = json_ws(s);
	}
}

static const char *json_value(const char *s, int depth)
{
	if (depth > 16)
		return NULL;
	s = json_ws(s);
	switch (*s) {
	case '{':
		return json_list(s, depth, '}', 1);
	case '[':
		return json_list(s, depth, ']', 0);
	case '"':
		return json_string(s);
	case 't':
		return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f':
		return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n':
		return strncmp(s, "null", 4) ? NULL : s + 4;
	default:
		return json_number(s);
	}
}

/* Exactly one JSON value, then the newline that ends every answer. */
static int json_ok(const char *s)
{
	const char *e = json_value(s, 0);

	return e && e[0] == '\n' && e[1] == 0;
}

/* ---- the bench --------------------------------------------------------- */

struct bench {
	struct gw g;
	struct relay r;
	int have_relay;
	int reload_works;
	char wan[RULES_MAX_WAN * (CFG_IFNAMSIZ + 1)];
	char fast[64];
	char policy[CONFIG_RELAY_STRLEN];
	struct report_info ri;
};

static struct bench B;

static void no_verdict(void *arg, struct gw_pkt *p, enum gw_verdict v,
		       uint32_t mark)
{
	(void)arg, (void)p, (void)v, (void)mark;
}

static int fake_reload(void *arg, char *msg, size_t n)
{
	struct bench *b = arg;

	snprintf(msg, n, b->reload_works ? "configuration reloaded; 1 calls kept"
		 : "reload refused: x.conf:3: bad value");
	return b->reload_works ? 0 : -1;
}

static void rl_ctl_send(void *arg, uint32_t conn, const uint8_t *p, size_t len)
{
	(void)arg, (void)conn, (void)p, (void)len;
}

static int rl_connect(void *arg, uint32_t conn, uint32_t server)
{
	(void)arg, (void)conn, (void)server;
	return -1;
}

static void rl_close(void *arg, uint32_t conn)
{
	(void)arg, (void)conn;
}

static int rl_gre_send(void *arg, uint32_t src, uint32_t dst,
		       const uint8_t *gre, size_t len)
{
	(void)arg, (void)src, (void)dst, (void)gre, (void)len;
	return 0;
}

/*
 * A relayed call put in by hand, as the relay leaves one whose connections
 * are gone (no inside or upstream connection, not in the hash): what
 * "calls" lists and "clear rN" ends.
 */
static void rl_call_put(struct relay *r, uint32_t slot, uint8_t how)
{
	static const uint8_t states[] = { RLK_WAIT_CONN, RLK_WAIT_OCRP,
					  RLK_WAIT_ICRP, RLK_ESTABLISHED };
	struct rl_call *k = &r->calls[slot];

	memset(k, 0, sizeof(*k));
	k->state = states[how & 3];
	k->incoming = k->state == RLK_WAIT_ICRP;
	k->inside = k->up = RL_NONE;
	k->client = 0xC6120000u + 10 + slot;
	k->client_id = (uint16_t)(how * 257u);
	k->server = 0xCB007102u;
	k->server_id = (uint16_t)(how >> 2);
	k->pac_id = (uint16_t)(100 + slot);
	k->pub = how & 4 ? 0xCB007101u : 0;
	k->created = 1000u * how;
	k->state_since = k->created;
	k->hnext[0] = k->hnext[1] = RL_NONE;
	k->leg_client.st.rx_delivered = how;
	k->leg_server.st.rx_delivered = 255u - how;
	r->ncalls++;
	if (slot + 1 > r->calls_hwm)
		r->calls_hwm = slot + 1;
}

/* Interface names as the configuration takes them, joined as the daemon
 * joins them for "status". */
static void bench_wan(struct bench *b, struct in *in)
{
	struct pptpgw_cfg *c = calloc(1, sizeof(*c));
	char why[128], name[CFG_IFNAMSIZ + 4];
	unsigned n = take(in) % 4 + 1, i, j;
	size_t off = 0;

	if (!c)
		abort();
	for (i = 0; i < n; i++) {
		unsigned len = take(in) % (CFG_IFNAMSIZ + 2);

		for (j = 0; j < len; j++)
			name[j] = (char)take(in);
		name[j] = 0;
		(void)config_add_wan(c, name, why, sizeof(why));
	}
	if (!c->nwan)
		strcpy(c->wan[c->nwan++], "wan0");
	b->wan[0] = 0;
	for (i = 0; i < (unsigned)c->nwan; i++)
		off += (size_t)snprintf(b->wan + off, sizeof(b->wan) - off,
					"%s%s", i ? "," : "", c->wan[i]);
	free(c);
}

static int bench_init(struct bench *b, struct in *in)
{
	static const struct rl_hooks hk = { .ctl_send = rl_ctl_send,
					    .connect = rl_connect,
					    .close = rl_close,
					    .gre_send = rl_gre_send };
	struct calltab_cfg tc = { .max_calls = NCALLS, .max_conns = 4,
				  .holddown_ms = 1000, .seed = 42 };
	struct gw_hooks h = { .verdict = no_verdict };
	struct gw_cfg cfg;
	struct conn *conn[2];
	struct rl_cfg rc;
	uint8_t mask, ncalls = take(in) % (NCALLS + 1);
	unsigned i, flen;

	memset(b, 0, sizeof(*b));
	gw_default_cfg(&cfg);
	if (gw_init(&b->g, &cfg, &tc, &h) < 0)
		FAIL("gw_init");
	conn[0] = conn_add(&b->g.tab, 0xC612000Bu, 40000, 0xCB007102u, 1723,
			   1000);
	conn[1] = conn_add(&b->g.tab, 0xC612000Cu, 40001, 0xCB007102u, 1723,
			   1000);
	if (!conn[0] || !conn[1])
		FAIL("conn_add");
	conn[0]->pub = conn[1]->pub = 0xCB007101u;
	for (i = 0; i < ncalls; i++) {
		uint8_t how = take(in);
		enum calltab_err err;
		struct call *k = call_add(&b->g.tab, conn[how & 1],
					  (uint16_t)(4660 + i), (how & 6) == 6,
					  1000 + i, &err);

		if (!k)
			continue;
		if (how & 8)
			call_set_peer(&b->g.tab, k, (uint16_t)(how * 3u));
		if ((how & 6) != 6 && (how & 0x30))
			call_set_state(k, (how & 0x30) == 0x10 ?
				       CALL_ESTABLISHED : CALL_CLEARING, 2000);
		k->pkts[DIR_OUT] = how;
		k->bytes[DIR_IN] = (uint64_t)how << 40;
	}
	/* Free slots between live ones: end some again. */
	mask = take(in);
	for (i = 0; i < 8; i++)
		if (mask & (1u << i) && b->g.tab.calls[i * 2].state != CALL_FREE)
			call_end(&b->g.tab, &b->g.tab.calls[i * 2], END_ADMIN,
				 3000);

	mask = take(in);
	b->have_relay = mask & 1;
	b->reload_works = (mask >> 1) & 1;
	if (b->have_relay) {
		relay_default_cfg(&rc);
		rc.max_calls = NRELAY;
		rc.max_conns = 4;
		if (relay_init(&b->r, &rc, &hk) < 0)
			FAIL("relay_init");
		for (i = 1; i < NRELAY; i++)
			if (mask & (4u << i))
				rl_call_put(&b->r, i, take(in));
	}

	bench_wan(b, in);
	/* The fast path's state: "on", or why not (any text). */
	flen = take(in) % sizeof(b->fast);
	for (i = 0; i < flen; i++)
		b->fast[i] = (char)take(in);
	b->fast[i] = 0;
	if (!b->fast[0])
		strcpy(b->fast, "on");
	strcpy(b->policy, mask & 0x80 ? "203.0.113.2,auto" : "off");

	b->ri.version = "fuzz";
	b->ri.started_ms = 1000;
	b->ri.now_ms = 61000 + 1000u * take(in);
	b->ri.rules_installed = mask >> 6 & 1;
	b->ri.wan = b->wan;
	b->ri.reload = fake_reload;
	b->ri.arg = b;
	b->ri.relay = b->have_relay ? &b->r : NULL;
	b->ri.relay_policy = b->policy;
	b->ri.fastpath = b->fast;
	b->ri.fp.calls = take(in);
	return 0;
}

static void bench_done(struct bench *b)
{
	if (b->have_relay)
		relay_destroy(&b->r);
	gw_destroy(&b->g);
}

/* ---- the properties ---------------------------------------------------- */

/* The words the parser sees: cut at white space, a word longer than 31
 * characters read as several (sscanf's %31s). */
static int words(const char *line, char w[3][32])
{
	int n = 0;

	memset(w, 0, 3 * 32);
	while (n < 3) {
		size_t len = 0;

		while (isspace((unsigned char)*line))
			line++;
		if (!*line)
			break;
		while (*line && !isspace((unsigned char)*line) && len < 31)
			w[n][len++] = *line++;
		n++;
	}
	return n;
}

static int plain_slot(const char *s, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isdigit((unsigned char)s[i]) || i >= 10)
			return 0;
		else
			x = x * 10 + (uint64_t)(s[i] - '0');
	if (i == 0 || x >= UINT32_MAX)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

static const char *verb_word(enum ctl_verb v)
{
	switch (v) {
	case CTL_STATUS: return "status";
	case CTL_CALLS: return "calls";
	case CTL_STATS: return "stats";
	case CTL_CLEAR: case CTL_CLEAR_RELAYED: return "clear";
	case CTL_RELOAD: return "reload";
	case CTL_DIAGNOSE: return "diagnose";
	default: return NULL;
	}
}

static int known_verb(const char *w)
{
	return !strcmp(w, "status") || !strcmp(w, "calls") ||
	       !strcmp(w, "stats") || !strcmp(w, "clear") ||
	       !strcmp(w, "reload") || !strcmp(w, "diagnose");
}

static void check_parse(const char *line, const struct ctl_cmd *c)
{
	char w[3][32], again[96];
	int n = words(line, w);
	struct ctl_cmd d;
	uint32_t slot = 0;
	int json = (n >= 2 && !strcmp(w[1], "json")) ||
		   (n >= 3 && !strcmp(w[2], "json"));

	if (c->nwords != n || strcmp(c->word, w[0]) || strcmp(c->arg, w[1]))
		FAIL("'%s': %d words '%s' '%s', expected %d '%s' '%s'", line,
		     c->nwords, c->word, c->arg, n, w[0], w[1]);
	if (c->json != json)
		FAIL("'%s': json %d", line, c->json);
	if ((c->verb == CTL_EMPTY) != (n == 0))
		FAIL("'%s': empty %d with %d words", line,
		     c->verb == CTL_EMPTY, n);
	if (n && (verb_word(c->verb) ? strcmp(verb_word(c->verb), w[0]) != 0
		  : c->verb != CTL_UNKNOWN || known_verb(w[0])))
		FAIL("'%s': verb %d for '%s'", line, (int)c->verb, w[0]);
	if (c->verb == CTL_CLEAR_RELAYED && w[1][0] != 'r')
		FAIL("'%s': a relayed clear without 'r'", line);
	if (c->verb == CTL_CLEAR && n >= 2 && w[1][0] == 'r')
		FAIL("'%s': 'r%s' taken for a translated call", line, w[1] + 1);
	if (c->verb != CTL_CLEAR && c->verb != CTL_CLEAR_RELAYED && c->slot_ok)
		FAIL("'%s': a slot for verb %d", line, (int)c->verb);
	if (c->verb == CTL_CLEAR || c->verb == CTL_CLEAR_RELAYED) {
		int ok = n >= 2 && plain_slot(w[1] + (c->verb ==
						      CTL_CLEAR_RELAYED), &slot);

		if (c->slot_ok != ok || (ok && c->slot != slot))
			FAIL("'%s': slot_ok %d slot %u, expected %d %u", line,
			     c->slot_ok, c->slot, ok, slot);
	}
	/* Written back as pptpgwctl writes it: the same command. */
	if (c->verb == CTL_EMPTY || c->verb == CTL_UNKNOWN)
		return;
	if (c->slot_ok)
		snprintf(again, sizeof(again), "%s %s%u%s", c->word,
			 c->verb == CTL_CLEAR_RELAYED ? "r" : "", c->slot,
			 c->json ? " json" : "");
	else if ((c->verb == CTL_CLEAR || c->verb == CTL_CLEAR_RELAYED) &&
		 c->nwords >= 2)
		snprintf(again, sizeof(again), "%s %s%s", c->word, c->arg,
			 c->json && strcmp(c->arg, "json") ? " json" : "");
	else
		snprintf(again, sizeof(again), "%s%s", c->word,
			 c->json ? " json" : "");
	report_parse(again, &d);
	if (d.verb != c->verb || d.json != c->json || d.slot_ok != c->slot_ok ||
	    d.slot != c->slot)
		FAIL("'%s' written back as '%s' parses differently", line,
		     again);
}

struct snap {
	uint8_t call[NSLOTS];
	uint8_t rcall[NRELAY];
	uint32_t ncalls, nconns, rncalls;
};

static void take_snap(const struct bench *b, struct snap *s)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < b->g.tab.ncalls_cap; i++)
		s->call[i] = b->g.tab.calls[i].state;
	for (i = 0; b->have_relay && i < NRELAY; i++)
		s->rcall[i] = b->r.calls[i].state;
	s->ncalls = b->g.tab.ncalls_used + b->g.tab.nrefused;
	s->nconns = b->g.tab.nconns_used;
	s->rncalls = b->have_relay ? b->r.ncalls : 0;
}

static void check_table(const char *line, const struct ctl_cmd *c, int rc,
			const struct snap *was, const struct snap *now)
{
	int want = -1, gone = -1, rgone = -1;
	unsigned i;

	if (c->verb == CTL_CLEAR && c->slot_ok)
		want = c->slot < NSLOTS && was->call[c->slot] != CALL_FREE;
	else if (c->verb == CTL_CLEAR_RELAYED && c->slot_ok)
		want = c->slot < NRELAY && was->rcall[c->slot] != RLK_FREE;
	else if (c->verb == CTL_CLEAR || c->verb == CTL_CLEAR_RELAYED)
		want = 0;
	if (want >= 0 && (rc == 0) != want)
		FAIL("'%s': rc %d, the call %s", line, rc,
		     want ? "is live" : "is not");
	if (rc == 0 && c->verb == CTL_CLEAR)
		gone = (int)c->slot;
	if (rc == 0 && c->verb == CTL_CLEAR_RELAYED)
		rgone = (int)c->slot;
	for (i = 0; i < NSLOTS; i++)
		if ((int)i == gone ? now->call[i] != CALL_FREE
				   : now->call[i] != was->call[i])
			FAIL("'%s': call %u state %u -> %u", line, i,
			     was->call[i], now->call[i]);
	for (i = 0; i < NRELAY; i++)
		if ((int)i == rgone ? now->rcall[i] != RLK_FREE
				    : now->rcall[i] != was->rcall[i])
			FAIL("'%s': relayed call %u state %u -> %u", line, i,
			     was->rcall[i], now->rcall[i]);
	if (now->ncalls != was->ncalls - (gone >= 0) ||
	    now->rncalls != was->rncalls - (rgone >= 0) ||
	    now->nconns != was->nconns)
		FAIL("'%s': counts %u/%u/%u -> %u/%u/%u", line, was->ncalls,
		     was->rncalls, was->nconns, now->ncalls, now->rncalls,
		     now->nconns);
}

static void check_answer(const char *line, const struct ctl_cmd *c, int rc,
			 const char *out, size_t len)
{
	const char *nl;

	if (rc != 0 && rc != -1)
		FAIL("'%s': rc %d", line, rc);
	if (!out || len == 0 || strlen(out) != len || out[len - 1] != '\n')
		FAIL("'%s': answer of %zu bytes not one or more whole lines",
		     line, len);
	if (rc < 0) {
		nl = strchr(out, '\n');
		if (strncmp(out, "error: ", 7) || nl[1])
			FAIL("'%s': error answer '%s'", line, out);
		return;
	}
	if (!strncmp(out, "error:", 6))
		FAIL("'%s': success that reads as an error: '%s'", line, out);
	if (c->json && !json_ok(out))
		FAIL("'%s': not one JSON value: '%s'", line, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct bench *b = &B;
	char why[160];

	bench_init(b, &in);
	while (in.len) {
		char line[LINE_MAX_FUZZ], *text = NULL;
		size_t n = 0, len = 0;
		struct ctl_cmd c;
		struct snap was, now;
		FILE *f;
		int rc;

		while (in.len && *in.p != '\n' && n < sizeof(line) - 1)
			line[n++] = (char)take(&in);
		line[n] = 0;
		if (in.len && *in.p == '\n')
			take(&in);
		report_parse(line, &c);
		check_parse(line, &c);
		take_snap(b, &was);
		f = open_memstream(&text, &len);
		if (!f)
			abort();
		rc = report_command(f, &b->g, &b->ri, line);
		fclose(f);
		take_snap(b, &now);
		check_answer(line, &c, rc, text, len);
		check_table(line, &c, rc, &was, &now);
		free(text);
		if (!calltab_recount_ok(&b->g.tab, why, sizeof(why)))
			FAIL("'%s': %s", line, why);
	}
	bench_done(b);
	return 0;
}
