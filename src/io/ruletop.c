/*
 * Keeping pptpgw's jumps on top of the built-in chains: the comparison of
 * what pptpgw installed with what iptables lists now (see ruletop.h).
 */
#include "io/ruletop.h"

#include <string.h>

#define MAX_JUMPS 16

/* Our jumps of one table, as printed: "-I CHAIN ..." without the "-I ". */
static int our_jumps(const char *ours, const char *table,
		     char jumps[][160])
{
	const char *line, *end;
	int in = 0, n = 0;
	size_t tl = strlen(table);

	for (line = ours; line && *line; line = end ? end + 1 : NULL) {
		size_t len;

		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (line[0] == '*')
			in = len == tl + 1 && !strncmp(line + 1, table, tl);
		else if (in && len > 3 && len < 160 + 3 && n < MAX_JUMPS &&
			 !strncmp(line, "-I ", 3)) {
			memcpy(jumps[n], line + 3, len - 3);
			jumps[n++][len - 3] = 0;
		}
	}
	return n;
}

/* "CHAIN rest": does line, an "-A CHAIN rest" of iptables -S, say it? */
static int is_rule(const char *line, size_t len, const char *spec)
{
	return len == strlen(spec) + 3 && !strncmp(line, "-A ", 3) &&
	       !strncmp(line + 3, spec, len - 3);
}

/* How many of the first k rules of chain in listed are among jumps. */
static int on_top(const char *listed, const char *chain, char jumps[][160],
		  int njumps, int k, int *present)
{
	const char *line, *end;
	size_t cl = strlen(chain);
	int seen = 0, top = 0, j;

	for (line = listed; line && *line; line = end ? end + 1 : NULL) {
		size_t len;

		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len <= cl + 3 || strncmp(line, "-A ", 3) ||
		    strncmp(line + 3, chain, cl) || line[3 + cl] != ' ')
			continue;
		for (j = 0; j < njumps; j++)
			if (is_rule(line, len, jumps[j]))
				break;
		if (j < njumps) {
			present[j]++;
			top += seen < k;
		}
		seen++;
	}
	return top;
}

int rules_has_jumps(const char *ours, const char *table)
{
	char jumps[MAX_JUMPS][160];

	return our_jumps(ours, table, jumps) > 0;
}

int rules_jumps_fix(const char *ours, const char *table, const char *listed,
		    FILE *fix)
{
	char jumps[MAX_JUMPS][160], chain[MAX_JUMPS][32];
	int n = our_jumps(ours, table, jumps), i, j, fixed = 0;

	for (i = 0; i < n; i++)
		sscanf(jumps[i], "%31s", chain[i]);
	for (i = 0; i < n; i++) {
		char group[MAX_JUMPS][160];
		int present[MAX_JUMPS] = { 0 }, k = 0, done = 0, p;

		for (j = 0; j < i; j++)
			done |= !strcmp(chain[j], chain[i]);
		if (done)
			continue;
		for (j = i; j < n; j++)
			if (!strcmp(chain[j], chain[i]))
				memcpy(group[k++], jumps[j], 160);
		if (on_top(listed, chain[i], group, k, k, present) == k) {
			for (j = 0; j < k && present[j] == 1; j++)
				;
			if (j == k)
				continue;
		}
		for (j = 0; j < k; j++)
			for (p = 0; p < present[j]; p++)
				fprintf(fix, "-D %s\n", group[j]);
		for (j = 0; j < k; j++)
			fprintf(fix, "-I %s %d%s\n", chain[i], j + 1,
				group[j] + strlen(chain[i]));
		fixed++;
	}
	return fixed;
}
