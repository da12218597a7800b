#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>
#include <syslog.h>
#include <arpa/inet.h>

#include "wire/pkt.h"

#define LINE_MAX_LEN 512

struct ctx {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *x, const char *fmt, const char *a, const char *b)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, a, b);
	snprintf(x->err, x->errlen, "%s:%u: %s", x->name, x->line, msg);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_uint(const char *v, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;

	if (!*v || *v == '-')
		return -1;
	errno = 0;
	*out = strtoul(v, &end, 0);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") ||
		 !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int config_fast_engine(const char *s, int *engine)
{
	if (!strcmp(s, "yes") || !strcmp(s, "auto"))
		*engine = CFG_FAST_AUTO;
	else if (!strcmp(s, "tc") || !strcmp(s, "tc-bpf"))
		*engine = CFG_FAST_TC;
	else if (!strcmp(s, "nftables") || !strcmp(s, "nft"))
		*engine = CFG_FAST_NFT;
	else
		return -1;
	return 0;
}

void config_default(struct pptpgw_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->queue = 1723;
	c->queue_maxlen = 16384;
	strcpy(c->ctl_path, PPTPGW_CTL_PATH);
	strcpy(c->state_path, PPTPGW_STATE_PATH);
	strcpy(c->metrics, PPTPGW_METRICS);
	c->log_level = LOG_INFO;
	c->tab.max_calls = 4096;
	c->tab.max_conns = 4096;
	c->tab.holddown_ms = 60000;
	gw_default_cfg(&c->gw);
	/* No server is relayed unless the configuration says so. */
	c->relay.port = RELAY_PORT;
	relay_default_cfg(&c->rl);
}

int config_relay_wanted(const struct pptpgw_cfg *c)
{
	return c->relay.all || c->relay.automatic || c->relay.nservers;
}

static int relay_listed(const struct relay_policy *p, uint32_t a)
{
	int i;

	for (i = 0; i < p->nservers; i++)
		if (p->servers[i] == a)
			return 1;
	return 0;
}

/*
 * The list is checked whole before any of it is applied, so a bad list
 * leaves the policy as it was.
 */
int config_relay_list(struct pptpgw_cfg *c, const char *list, char *err,
		      size_t errlen)
{
	struct relay_policy p = c->relay;
	/* Room for any policy config_relay_str writes (64 servers do not fit
	 * a config line, but --relay and the round trip take them). */
	char buf[CONFIG_RELAY_STRLEN], *tok, *save = NULL;
	int ntok = 0, off = 0;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "list longer than %zu characters",
			 sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct in_addr in;
		uint32_t a;

		ntok++;
		if (!strcasecmp(tok, "off")) {
			off = 1;
			continue;
		}
		if (!strcasecmp(tok, "all") || !strcasecmp(tok, "auto")) {
			int all = !strcasecmp(tok, "all");
			uint8_t *flag = all ? &p.all : &p.automatic;

			if (*flag) {
				snprintf(err, errlen, "'%s' is given twice",
					 all ? "all" : "auto");
				return -1;
			}
			*flag = 1;
			continue;
		}
		if (inet_pton(AF_INET, tok, &in) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv4 address, "
				 "'all', 'auto' or 'off'", tok);
			return -1;
		}
		a = ntohl(in.s_addr);
		/* A server is some host's own address out beyond the WAN:
		 * never "this network", loopback, multicast or broadcast. */
		if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xE0000000u) {
			snprintf(err, errlen, "'%s' is not a unicast address a "
				 "server could have", tok);
			return -1;
		}
		if (relay_listed(&p, a)) {
			snprintf(err, errlen, "server %s is listed twice", tok);
			return -1;
		}
		if (p.nservers == RELAY_MAX_LISTED) {
			snprintf(err, errlen, "more than %d relayed servers",
				 RELAY_MAX_LISTED);
			return -1;
		}
		p.servers[p.nservers++] = a;
	}
	if (!ntok) {
		snprintf(err, errlen, "no server, 'all', 'auto' or 'off' in "
			 "'%s'", list);
		return -1;
	}
	if (off && ntok > 1) {
		snprintf(err, errlen, "'off' must stand alone, in '%s'", list);
		return -1;
	}
	if (off) {
		p.all = p.automatic = 0;
		p.nservers = 0;
	}
	c->relay = p;
	return 0;
}

char *config_relay_str(const struct relay_policy *p, char *buf, size_t n)
{
	size_t len = 0;
	int i;

#define ADD(...) do { \
	if (len < n) \
		len += (size_t)snprintf(buf + len, n - len, __VA_ARGS__); \
} while (0)
	if (n == 0)
		return buf;
	buf[0] = 0;
	if (p->all)
		ADD("all");
	for (i = 0; i < p->nservers; i++) {
		char a[16];

		ip4_str(p->servers[i], a);
		ADD("%s%s", len ? "," : "", a);
	}
	if (p->automatic)
		ADD("%sauto", len ? "," : "");
	if (!len)
		ADD("off");
#undef ADD
	return buf;
}

int config_add_wan(struct pptpgw_cfg *c, const char *name, char *err,
		   size_t errlen)
{
	size_t n = strlen(name), i;

	if (n == 0 || n >= CFG_IFNAMSIZ) {
		snprintf(err, errlen, "interface name '%s' is not 1 to %d "
			 "characters", name, CFG_IFNAMSIZ - 1);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (isspace((unsigned char)name[i]) || name[i] == '/' ||
		    name[i] == ',') {
			snprintf(err, errlen, "interface name '%s' has a "
				 "character no interface name has", name);
			return -1;
		}
	for (i = 0; i < (size_t)c->nwan; i++)
		if (!strcmp(c->wan[i], name))
			return 0;
	if (c->nwan == RULES_MAX_WAN) {
		snprintf(err, errlen, "more than %d WAN interfaces",
			 RULES_MAX_WAN);
		return -1;
	}
	strcpy(c->wan[c->nwan++], name);
	return 0;
}

static int set_wan(struct ctx *x, struct pptpgw_cfg *c, char *v)
{
	char *tok, *save = NULL, why[128];

	for (tok = strtok_r(v, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save))
		if (config_add_wan(c, tok, why, sizeof(why)) < 0)
			return fail(x, "wan: %s%s", why, "");
	return 0;
}

/* A numeric key: where it goes, its range, and its unit factor. */
struct num_key {
	const char *section, *key;
	unsigned long min, max, factor;
	size_t off;        /* offset of a uint32_t in struct pptpgw_cfg */
	const char *unit;
};

#define OFF(f) offsetof(struct pptpgw_cfg, f)

static const struct num_key num_keys[] = {
	{ "limits", "max_calls", 1, 1 << 20, 1, OFF(tab.max_calls), "calls" },
	{ "limits", "max_conns", 1, 1 << 20, 1, OFF(tab.max_conns),
	  "connections" },
	/*
	 * Per-host limits, reloadable (0: none): they apply to what is
	 * opened or asked for after the reload; nothing open is cut.
	 */
	{ "limits", "conns_per_host", 0, 1 << 20, 1, OFF(gw.conns_per_host),
	  "connections" },
	{ "limits", "half_open_per_host", 0, 1 << 20, 1,
	  OFF(gw.half_open_per_host), "connections" },
	{ "limits", "half_open", 0, 1 << 20, 1, OFF(gw.half_open_max),
	  "connections" },
	{ "limits", "calls_per_host", 0, 1 << 20, 1, OFF(gw.calls_per_host),
	  "calls" },
	{ "limits", "pending", 0, 1 << 20, 1, OFF(gw.pending_max),
	  "segments" },
	{ "limits", "pending_per_host", 0, 1 << 20, 1,
	  OFF(gw.pending_per_host), "segments" },
	{ "limits", "relay_sessions_per_client", 0, 1 << 20, 1,
	  OFF(rl.sessions_per_client), "sessions" },
	{ "timeouts", "half_open", 0, 3600, 1000, OFF(gw.half_open_ms),
	  "seconds" },
	{ "timeouts", "holddown", 0, 86400, 1000, OFF(tab.holddown_ms),
	  "seconds" },
	{ "timeouts", "call_idle", 1, 86400, 1000, OFF(gw.call_idle_ms),
	  "seconds" },
	{ "timeouts", "conn_idle", 1, 86400, 1000, OFF(gw.conn_idle_ms),
	  "seconds" },
	{ "timeouts", "request", 1, 3600, 1000, OFF(gw.request_ms),
	  "seconds" },
	{ "timeouts", "clearing", 1, 3600, 1000, OFF(gw.clearing_ms),
	  "seconds" },
	{ "gateway", "mark", 1, 0xffffffffUL, 1, OFF(gw.mark), "a non-zero mark" },
	/*
	 * [relay]: the sizes need a restart (the relay's tables are made
	 * once); the timers are reloadable.
	 */
	{ "relay", "max_calls", 1, 65535, 1, OFF(rl.max_calls), "calls" },
	{ "relay", "max_conns", 2, 1 << 20, 1, OFF(rl.max_conns),
	  "connections" },
	{ "relay", "echo_idle", 1, 3600, 1000, OFF(rl.echo_idle_ms),
	  "seconds" },
	{ "relay", "echo_reply", 1, 3600, 1000, OFF(rl.echo_reply_ms),
	  "seconds" },
	{ "relay", "start_timeout", 1, 300, 1000, OFF(rl.start_ms),
	  "seconds" },
	{ "relay", "reorder_ms", 0, 5000, 1, OFF(rl.reorder_ms),
	  "milliseconds" },
};

static int set_key(struct ctx *x, struct pptpgw_cfg *c, const char *sec,
		   const char *key, char *v)
{
	unsigned long n;
	size_t i;
	int b;

	for (i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++) {
		const struct num_key *k = &num_keys[i];
		char range[64];

		if (strcmp(sec, k->section) || strcmp(key, k->key))
			continue;
		if (parse_uint(v, k->min, k->max, &n) < 0) {
			snprintf(range, sizeof(range), "%lu to %lu %s", k->min,
				 k->max, k->unit);
			return fail(x, "bad value for %s: expected %s", key,
				    range);
		}
		*(uint32_t *)((char *)c + k->off) = (uint32_t)(n * k->factor);
		return 0;
	}
	if (!strcmp(sec, "gateway") && !strcmp(key, "wan"))
		return set_wan(x, c, v);
	if (!strcmp(sec, "gateway") && !strcmp(key, "queue")) {
		if (parse_uint(v, 0, 65535, &n) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "0 to 65535");
		c->queue = (uint16_t)n;
		return 0;
	}
	if (!strcmp(sec, "gateway") && !strcmp(key, "rules")) {
		if (parse_bool(v, &b) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "yes or no");
		c->no_rules = !b;
		return 0;
	}
	if (!strcmp(sec, "gateway") && !strcmp(key, "fastpath")) {
		if (config_fast_engine(v, &c->fast_engine) == 0) {
			c->no_fastpath = 0;
			return 0;
		}
		if (parse_bool(v, &b) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "yes, no, tc or nftables");
		c->no_fastpath = !b;
		return 0;
	}
	if (!strcmp(sec, "control") && !strcmp(key, "socket")) {
		if (v[0] != '/' || strlen(v) >= sizeof(c->ctl_path))
			return fail(x, "bad value for %s: expected %s", key,
				    "an absolute path under 108 characters");
		strcpy(c->ctl_path, v);
		return 0;
	}
	if (!strcmp(sec, "state") && !strcmp(key, "file")) {
		if ((v[0] != '/' && strcmp(v, "off")) ||
		    strlen(v) >= sizeof(c->state_path) - 8)
			return fail(x, "bad value for %s: expected %s", key,
				    "off or an absolute path under 248 "
				    "characters");
		strcpy(c->state_path, v);
		return 0;
	}
	if (!strcmp(sec, "metrics") && !strcmp(key, "listen")) {
		const char *colon = strrchr(v, ':');

		if (strcmp(v, "off") &&
		    (!colon || colon == v || strlen(v) >= sizeof(c->metrics) ||
		     parse_uint(colon + 1, 1, 65535, &n) < 0))
			return fail(x, "bad value for %s: expected %s", key,
				    "ADDR:PORT or off");
		strcpy(c->metrics, v);
		return 0;
	}
	if (!strcmp(sec, "log") && !strcmp(key, "level")) {
		int l = config_level_parse(v);

		if (l < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "error, warning, notice, info or debug");
		c->log_level = l;
		return 0;
	}
	if (!strcmp(sec, "log") && !strcmp(key, "syslog")) {
		if (parse_bool(v, &c->use_syslog) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "yes or no");
		return 0;
	}
	/*
	 * Reloadable while the relay stays on (turning it on or off needs a
	 * restart): the list applies to control connections opened after.
	 */
	if (!strcmp(sec, "relay") && !strcmp(key, "servers")) {
		char why[200];

		if (config_relay_list(c, v, why, sizeof(why)) < 0)
			return fail(x, "servers: %s%s", why, "");
		return 0;
	}
	/* Restart-only: the interception rules and the listener use it. */
	if (!strcmp(sec, "relay") && !strcmp(key, "port")) {
		if (parse_uint(v, 1, 65535, &n) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "1 to 65535");
		c->relay.port = (uint16_t)n;
		return 0;
	}
	if (!strcmp(sec, "relay") && !strcmp(key, "per_call")) {
		if (parse_bool(v, &b) < 0)
			return fail(x, "bad value for %s: expected %s", key,
				    "yes or no");
		c->rl.per_call = (uint8_t)b;
		return 0;
	}
	return fail(x, "unknown key '%s' in [%s]", key, sec);
}

int config_level_parse(const char *s)
{
	static const struct { const char *n; int v; } t[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].n) == 0)
			return t[i].v;
	return -1;
}

static const char *const sections[] = {
	"gateway", "limits", "timeouts", "control", "state", "metrics", "log",
	"relay",
};

int config_parse(const char *text, const char *name, struct pptpgw_cfg *c,
		 char *err, size_t errlen)
{
	struct ctx x = { name, 0, err, errlen };
	char sec[32] = "";
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char buf[LINE_MAX_LEN], *line, *eq, *hash;

		x.line++;
		if (n >= sizeof(buf))
			return fail(&x, "line longer than %s characters%s",
				    "511", "");
		memcpy(buf, p, n);
		buf[n] = 0;
		p += n + (nl ? 1 : 0);
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = 0;
		line = trim(buf);
		if (!*line)
			continue;
		if (*line == '[') {
			size_t i, len = strlen(line);

			if (line[len - 1] != ']')
				return fail(&x, "section header '%s' has no "
					    "closing ']'%s", line, "");
			line[len - 1] = 0;
			line = trim(line + 1);
			for (i = 0; i < sizeof(sections) / sizeof(sections[0]);
			     i++)
				if (!strcmp(line, sections[i]))
					break;
			if (i == sizeof(sections) / sizeof(sections[0]))
				return fail(&x, "unknown section [%s]%s", line,
					    "");
			snprintf(sec, sizeof(sec), "%s", line);
			continue;
		}
		eq = strchr(line, '=');
		if (!eq)
			return fail(&x, "'%s' is not 'key = value'%s", line, "");
		*eq = 0;
		if (!*sec)
			return fail(&x, "'%s' comes before any [section]%s",
				    trim(line), "");
		if (!*trim(eq + 1))
			return fail(&x, "no value for '%s'%s", trim(line), "");
		if (set_key(&x, c, sec, trim(line), trim(eq + 1)) < 0)
			return -1;
	}
	return 0;
}

int config_load(const char *path, int required, struct pptpgw_cfg *c,
		char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;
	int r;

	if (!f) {
		if (!required && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    len > 1 << 20 || fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB",
			 path);
		fclose(f);
		return -1;
	}
	text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len] = 0;
	if (memchr(text, 0, (size_t)len)) {
		snprintf(err, errlen, "%s: not a text file", path);
		free(text);
		return -1;
	}
	r = config_parse(text, path, c, err, errlen);
	free(text);
	return r;
}

const char *config_restart_only(const struct pptpgw_cfg *a,
				const struct pptpgw_cfg *b)
{
	if (a->nwan != b->nwan || memcmp(a->wan, b->wan, sizeof(a->wan)))
		return "wan";
	if (a->queue != b->queue)
		return "queue";
	if (a->no_rules != b->no_rules)
		return "rules";
	if (a->no_fastpath != b->no_fastpath ||
	    a->fast_engine != b->fast_engine)
		return "fastpath";
	if (a->gw.mark != b->gw.mark)
		return "mark";
	if (a->tab.max_calls != b->tab.max_calls)
		return "max_calls";
	if (a->tab.max_conns != b->tab.max_conns)
		return "max_conns";
	if (strcmp(a->ctl_path, b->ctl_path))
		return "socket";
	if (strcmp(a->metrics, b->metrics))
		return "metrics listen";
	if (strcmp(a->state_path, b->state_path))
		return "state file";
	if (a->use_syslog != b->use_syslog)
		return "syslog";
	if (a->relay.port != b->relay.port)
		return "relay port";
	if (config_relay_wanted(a) != config_relay_wanted(b))
		return "relay on or off";
	if (a->rl.max_calls != b->rl.max_calls ||
	    a->rl.max_conns != b->rl.max_conns)
		return "relay max_calls or max_conns";
	return NULL;
}
