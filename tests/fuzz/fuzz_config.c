/*
 * libFuzzer target for config.c: the configuration file's parser.  The
 * input is the file's text (cut at a NUL, as config_load refuses a file
 * with one), applied on top of the built-in defaults.
 *
 * The properties:
 *  - any text gives 0, or -1 with "fuzz.conf:LINE: reason": a line that
 *    exists in the text, a reason, one line of message;
 *  - what is accepted is in range: every number in its documented range
 *    (times its unit), WAN names the configuration itself would take, each
 *    once, the socket an absolute path, the metrics address "off" or
 *    ADDR:PORT, a log level the parser knows, relayed servers unicast and
 *    listed once;
 *  - an accepted configuration re-validates: written back as a file (every
 *    setting that differs from the defaults, lists one item a line) it
 *    parses, on fresh defaults, to exactly the same configuration; its relay
 *    policy, as config_relay_str writes it, is taken back by
 *    config_relay_list unchanged; a configuration needs no restart against
 *    itself (config_restart_only).
 * ASan's leak check covers the rest (config_parse allocates nothing).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "wire/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_config: " __VA_ARGS__); \
		       fputc('\n', stderr); abort(); } while (0)

/*
 * The numeric settings, written down again here from the documentation
 * (config.h, pptpgw.conf(5)): where each goes, its range and unit.  A key
 * the parser takes that is missing here makes the round trip fail.
 */
struct key {
	const char *section, *key;
	size_t off;                /* of a uint32_t in struct pptpgw_cfg */
	unsigned long min, max, factor;
};

#define OFF(f) offsetof(struct pptpgw_cfg, f)

static const struct key keys[] = {
	{ "gateway", "mark", OFF(gw.mark), 1, 0xffffffffUL, 1 },
	{ "limits", "max_calls", OFF(tab.max_calls), 1, 1 << 20, 1 },
	{ "limits", "max_conns", OFF(tab.max_conns), 1, 1 << 20, 1 },
	{ "limits", "conns_per_host", OFF(gw.conns_per_host), 0, 1 << 20, 1 },
	{ "limits", "half_open_per_host", OFF(gw.half_open_per_host), 0,
	  1 << 20, 1 },
	{ "limits", "half_open", OFF(gw.half_open_max), 0, 1 << 20, 1 },
	{ "limits", "calls_per_host", OFF(gw.calls_per_host), 0, 1 << 20, 1 },
	{ "limits", "pending", OFF(gw.pending_max), 0, 1 << 20, 1 },
	{ "limits", "pending_per_host", OFF(gw.pending_per_host), 0, 1 << 20,
	  1 },
	{ "limits", "relay_sessions_per_client", OFF(rl.sessions_per_client),
	  0, 1 << 20, 1 },
	{ "timeouts", "half_open", OFF(gw.half_open_ms), 0, 3600, 1000 },
	{ "timeouts", "holddown", OFF(tab.holddown_ms), 0, 86400, 1000 },
	{ "timeouts", "call_idle", OFF(gw.call_idle_ms), 1, 86400, 1000 },
	{ "timeouts", "conn_idle", OFF(gw.conn_idle_ms), 1, 86400, 1000 },
	{ "timeouts", "request", OFF(gw.request_ms), 1, 3600, 1000 },
	{ "timeouts", "clearing", OFF(gw.clearing_ms), 1, 3600, 1000 },
	{ "relay", "max_calls", OFF(rl.max_calls), 1, 65535, 1 },
	{ "relay", "max_conns", OFF(rl.max_conns), 2, 1 << 20, 1 },
	{ "relay", "echo_idle", OFF(rl.echo_idle_ms), 1, 3600, 1000 },
	{ "relay", "echo_reply", OFF(rl.echo_reply_ms), 1, 3600, 1000 },
	{ "relay", "start_timeout", OFF(rl.start_ms), 1, 300, 1000 },
	{ "relay", "reorder_ms", OFF(rl.reorder_ms), 0, 5000, 1 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static uint32_t val(const struct pptpgw_cfg *c, const struct key *k)
{
	uint32_t v;

	memcpy(&v, (const char *)c + k->off, sizeof(v));
	return v;
}

static const char *level_name(int l)
{
	switch (l) {
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	case LOG_DEBUG: return "debug";
	default: return NULL;
	}
}

/* A text of lines, grown as needed. */
struct text {
	char *s;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#include <stdarg.h>

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!t->s) {
		t->cap = 256;
		t->s = malloc(t->cap);
		if (!t->s)
			abort();
		t->len = 0;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n) * 2 + 64;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	t->len += (size_t)n;
}

/* Every setting of c that differs from d, as a configuration file. */
static void write_back(const struct pptpgw_cfg *c, const struct pptpgw_cfg *d,
		       struct text *t)
{
	const char *sec = NULL;
	size_t i;
	int w;

#define SECTION(s) do { if (!sec || strcmp(sec, s)) \
		add(t, "[%s]\n", sec = s); } while (0)
	SECTION("gateway");
	for (w = 0; w < c->nwan; w++)
		add(t, "wan = %s\n", c->wan[w]);
	if (c->queue != d->queue)
		add(t, "queue = %u\n", c->queue);
	if (c->no_rules != d->no_rules)
		add(t, "rules = %s\n", c->no_rules ? "no" : "yes");
	/* the engine, then whether it is off ("tc" then "no" keeps both) */
	if (c->fast_engine != d->fast_engine)
		add(t, "fastpath = %s\n", c->fast_engine == CFG_FAST_TC ? "tc" :
		    c->fast_engine == CFG_FAST_NFT ? "nftables" : "auto");
	if (c->no_fastpath != d->no_fastpath)
		add(t, "fastpath = %s\n", c->no_fastpath ? "no" : "yes");
	for (i = 0; i < NKEYS; i++)
		if (val(c, &keys[i]) != val(d, &keys[i])) {
			SECTION(keys[i].section);
			add(t, "%s = %lu\n", keys[i].key,
			    (unsigned long)val(c, &keys[i]) / keys[i].factor);
		}
	SECTION("relay");
	if (c->relay.port != d->relay.port)
		add(t, "port = %u\n", c->relay.port);
	if (c->rl.per_call != d->rl.per_call)
		add(t, "per_call = %s\n", c->rl.per_call ? "yes" : "no");
	if (c->relay.all)
		add(t, "servers = all\n");
	if (c->relay.automatic)
		add(t, "servers = auto\n");
	for (w = 0; w < c->relay.nservers; w++) {
		char a[16];

		ip4_str(c->relay.servers[w], a);
		add(t, "servers = %s\n", a);
	}
	if (strcmp(c->ctl_path, d->ctl_path))
		add(t, "[control]\nsocket = %s\n", c->ctl_path);
	if (strcmp(c->metrics, d->metrics))
		add(t, "[metrics]\nlisten = %s\n", c->metrics);
	add(t, "[log]\n");
	if (c->log_level != d->log_level)
		add(t, "level = %s\n", level_name(c->log_level));
	if (c->use_syslog != d->use_syslog)
		add(t, "syslog = %s\n", c->use_syslog ? "yes" : "no");
#undef SECTION
}

/* Values the configuration can hold; the bounds are the documentation's. */
static void check_ranges(const struct pptpgw_cfg *c,
			 const struct pptpgw_cfg *d)
{
	char why[160];
	size_t i;
	int w, x;

	for (i = 0; i < NKEYS; i++) {
		uint32_t v = val(c, &keys[i]);

		if (v == val(d, &keys[i]))
			continue;
		if (v % keys[i].factor || v / keys[i].factor < keys[i].min ||
		    v / keys[i].factor > keys[i].max)
			FAIL("[%s] %s = %u out of range", keys[i].section,
			     keys[i].key, v);
	}
	if (c->nwan < 0 || c->nwan > RULES_MAX_WAN)
		FAIL("%d WAN interfaces", c->nwan);
	for (w = 0; w < c->nwan; w++) {
		struct pptpgw_cfg one;

		if (!memchr(c->wan[w], 0, CFG_IFNAMSIZ))
			FAIL("WAN name %d not terminated", w);
		config_default(&one);
		if (config_add_wan(&one, c->wan[w], why, sizeof(why)) < 0)
			FAIL("WAN name '%s' accepted, refused alone: %s",
			     c->wan[w], why);
		for (x = 0; x < w; x++)
			if (!strcmp(c->wan[x], c->wan[w]))
				FAIL("WAN '%s' listed twice", c->wan[w]);
	}
	if (!memchr(c->ctl_path, 0, sizeof(c->ctl_path)) ||
	    c->ctl_path[0] != '/')
		FAIL("control socket '%.108s'", c->ctl_path);
	if (!memchr(c->metrics, 0, sizeof(c->metrics)))
		FAIL("metrics address not terminated");
	if (strcmp(c->metrics, "off")) {
		const char *colon = strrchr(c->metrics, ':');
		char *end;
		unsigned long port;

		if (!colon || colon == c->metrics)
			FAIL("metrics address '%s'", c->metrics);
		port = strtoul(colon + 1, &end, 0);
		if (*end || port < 1 || port > 65535)
			FAIL("metrics port in '%s'", c->metrics);
	}
	if (!level_name(c->log_level))
		FAIL("log level %d", c->log_level);
	if (c->use_syslog != 0 && c->use_syslog != 1)
		FAIL("syslog %d", c->use_syslog);
	if (c->relay.nservers < 0 || c->relay.nservers > RELAY_MAX_LISTED ||
	    c->relay.all > 1 || c->relay.automatic > 1 || !c->relay.port)
		FAIL("relay policy: %d servers, all %u auto %u, port %u",
		     c->relay.nservers, c->relay.all, c->relay.automatic,
		     c->relay.port);
	for (w = 0; w < c->relay.nservers; w++) {
		uint32_t a = c->relay.servers[w];

		if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xE0000000u)
			FAIL("relayed server %#x is not unicast", a);
		for (x = 0; x < w; x++)
			if (c->relay.servers[x] == a)
				FAIL("relayed server %#x listed twice", a);
	}
}

/* Bytes after a string's end are not part of it (a shorter value copied
 * over a longer one leaves them): zero them before comparing. */
static void clear_tail(char *s, size_t n)
{
	size_t len = strnlen(s, n);

	memset(s + len, 0, n - len);
}

static void normalize(struct pptpgw_cfg *c)
{
	int w;

	for (w = 0; w < RULES_MAX_WAN; w++)
		clear_tail(c->wan[w], sizeof(c->wan[w]));
	clear_tail(c->ctl_path, sizeof(c->ctl_path));
	clear_tail(c->metrics, sizeof(c->metrics));
	/* "servers = off" empties the list, leaving the old entries behind. */
	memset(c->relay.servers + c->relay.nservers, 0,
	       sizeof(uint32_t) * (size_t)(RELAY_MAX_LISTED - c->relay.nservers));
}

/* Written back and parsed again on fresh defaults: the same. */
static void check_round_trip(const struct pptpgw_cfg *c0,
			     const struct pptpgw_cfg *d)
{
	static struct pptpgw_cfg again, cn;
	const struct pptpgw_cfg *c = &cn;
	struct text t = { NULL, 0, 0 };
	char err[512], rs[CONFIG_RELAY_STRLEN];

	cn = *c0;
	normalize(&cn);
	write_back(c, d, &t);
	config_default(&again);
	if (config_parse(t.s, "again.conf", &again, err, sizeof(err)) < 0)
		FAIL("written back, refused: %s\n%s", err, t.s);
	normalize(&again);
	if (memcmp(&again, c, sizeof(again)))
		FAIL("written back, parses to another configuration:\n%s",
		     t.s);
	free(t.s);

	/* The policy as text, taken back (on a policy with none). */
	config_relay_str(&c->relay, rs, sizeof(rs));
	config_default(&again);
	if (config_relay_list(&again, rs, err, sizeof(err)) < 0)
		FAIL("relay policy '%s' written, refused: %s", rs, err);
	if (again.relay.all != c->relay.all ||
	    again.relay.automatic != c->relay.automatic ||
	    again.relay.nservers != c->relay.nservers ||
	    memcmp(again.relay.servers, c->relay.servers,
		   sizeof(uint32_t) * (size_t)c->relay.nservers))
		FAIL("relay policy '%s' taken back differs", rs);
	if (config_restart_only(c, c))
		FAIL("restart needed against itself: %s",
		     config_restart_only(c, c));
}

/* "fuzz.conf:LINE: reason", LINE one of the text's. */
static void check_error(const char *text, const char *err)
{
	unsigned long line, lines = 1;
	const char *p;
	char *end;

	for (p = text; *p; p++)
		lines += *p == '\n';
	if (strncmp(err, "fuzz.conf:", 10))
		FAIL("error without the file name: '%s'", err);
	line = strtoul(err + 10, &end, 10);
	if (end == err + 10 || line < 1 || line > lines)
		FAIL("error at line %lu of %lu: '%s'", line, lines, err);
	if (strncmp(end, ": ", 2) || !end[2])
		FAIL("error without a reason: '%s'", err);
	if (strchr(err, '\n'))
		FAIL("error of several lines: '%s'", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pptpgw_cfg c, d;
	char *text = malloc(size + 1), err[512];
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	config_default(&d);
	config_default(&c);
	err[0] = 0;
	r = config_parse(text, "fuzz.conf", &c, err, sizeof(err));
	if (r == 0) {
		check_ranges(&c, &d);
		check_round_trip(&c, &d);
	} else if (r == -1) {
		check_error(text, err);
	} else {
		FAIL("config_parse returned %d", r);
	}
	free(text);
	return 0;
}
