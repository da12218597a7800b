#include "relay/policy.h"

#include <string.h>

void relay_select_init(struct relay_select *s, const struct relay_policy *p)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *p;
}

void relay_select_set_cfg(struct relay_select *s, const struct relay_policy *p)
{
	s->cfg = *p;
}

int relay_select_relayed(const struct relay_select *s, uint32_t server)
{
	int i;

	if (s->cfg.all)
		return 1;
	for (i = 0; i < s->cfg.nservers; i++)
		if (s->cfg.servers[i] == server)
			return 1;
	for (i = 0; i < s->nchosen; i++)
		if (s->chosen[i] == server)
			return 1;
	return 0;
}

enum relay_auto_result relay_select_auto(struct relay_select *s,
					 uint32_t server, int running)
{
	if (relay_select_relayed(s, server))
		return RELAY_AUTO_ALREADY;
	if (!s->cfg.automatic || !running)
		return RELAY_AUTO_OFF;
	if (s->nchosen == RELAY_MAX_LISTED)
		return RELAY_AUTO_FULL;
	s->chosen[s->nchosen++] = server;
	return RELAY_AUTO_ADDED;
}

int relay_select_servers(const struct relay_select *s,
			 uint32_t out[RELAY_SELECT_MAX])
{
	int i, n = 0;

	for (i = 0; i < s->cfg.nservers; i++)
		out[n++] = s->cfg.servers[i];
	for (i = 0; i < s->nchosen; i++)
		out[n++] = s->chosen[i];
	return n;
}

char *relay_select_str(const struct relay_select *s, char *buf, size_t n)
{
	struct relay_policy p = s->cfg;
	int i;

	/* Chosen servers read back as listed ones: what a restart needs. */
	for (i = 0; i < s->nchosen && p.nservers < RELAY_MAX_LISTED; i++)
		p.servers[p.nservers++] = s->chosen[i];
	return config_relay_str(&p, buf, n);
}
