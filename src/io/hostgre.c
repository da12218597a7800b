#include "io/hostgre.h"

#include <stdio.h>

#include "wire/pkt.h"

#define HOSTGRE_CACHE_MS 1000

/* /proc/net/raw shows a raw socket's protocol as its local "port". */
int hostgre_reads(struct hostgre *h, uint64_t now)
{
	char line[256];
	unsigned proto;
	FILE *f;

	if (h->checked && now - h->checked < HOSTGRE_CACHE_MS)
		return h->answer;
	h->checked = now;
	h->answer = 0;
	f = fopen("/proc/net/raw", "r");
	if (!f)
		return h->answer;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%x", &proto) == 1 &&
		    proto == IPPROTO_GRE_)
			h->answer = 1;
	fclose(f);
	return h->answer;
}
