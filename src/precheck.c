#include "precheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define QUEUE_PROC "/proc/net/netfilter/nfnetlink_queue"

int precheck_wans(const struct pptpgw_cfg *c, char *err, size_t n)
{
	int i;

	for (i = 0; i < c->nwan; i++)
		if (!if_nametoindex(c->wan[i])) {
			snprintf(err, n, "WAN interface %s: no such interface",
				 c->wan[i]);
			return -1;
		}
	return 0;
}

int precheck_queue_bound(const char *text, uint16_t q, uint32_t *portid)
{
	const char *line = text;

	/* "queue portid total copy_mode copy_range dropped user_dropped
	 * id_seq 1", one bound queue a line. */
	while (line && *line) {
		unsigned long num, port;
		char *end;

		num = strtoul(line, &end, 10);
		if (end != line) {
			port = strtoul(end, &end, 10);
			if (num == q) {
				*portid = (uint32_t)port;
				return 1;
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

int precheck_queue(uint16_t q, char *err, size_t n)
{
	char text[8192];
	uint32_t port = 0;
	size_t got;
	FILE *f = fopen(QUEUE_PROC, "r");

	if (!f)
		return 0;    /* no queue bound at all, or no nfnetlink_queue */
	got = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[got] = 0;
	if (precheck_queue_bound(text, q, &port)) {
		snprintf(err, n, "queue %u is in use by another program "
			 "(netlink port %u); choose another with 'queue =' in "
			 "[gateway] or --queue", q, port);
		return -1;
	}
	return 0;
}

int precheck_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
	return (d[CAP_NET_ADMIN / 32].effective >> (CAP_NET_ADMIN % 32)) & 1;
}
