/*
 * Keeping pptpgw's jumps on top of the built-in chains (rules_jumps_fix):
 * from the rules pptpgw printed and a table's "iptables -S", the lines that
 * put them back, as programs starting later (libvirt, Docker, a firewall)
 * put their own rules above them.
 */
#include <stdlib.h>

#include "check.h"
#include "io/ruletop.h"

/* What rules_print_iptables prints (its jumps and a few of its rules),
 * for one WAN or two: the e2e tests run the real thing (t_vm_hosts). */
static char *ours(int nwan)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "# pptpgw rules for iptables-restore --noflush\n"
		"*mangle\n:PPTPGW-PRE - [0:0]\n:PPTPGW-FWD - [0:0]\n");
	fprintf(f, "-I PREROUTING -i wan0 -j PPTPGW-PRE\n");
	if (nwan > 1)
		fprintf(f, "-I PREROUTING -i wan1 -j PPTPGW-PRE\n");
	fprintf(f, "-I FORWARD -j PPTPGW-FWD\n"
		"-A PPTPGW-PRE -m mark --mark 0x10000000/0x10000000 -j RETURN\n"
		"-A PPTPGW-FWD -o wan0 -p tcp --dport 1723 -j NFQUEUE "
		"--queue-num 1723\nCOMMIT\n"
		"*filter\n:PPTPGW-FWD - [0:0]\n-I FORWARD -j PPTPGW-FWD\n"
		"-A PPTPGW-FWD -p gre -m mark --mark 0x10000000/0x10000000 "
		"-j ACCEPT\nCOMMIT\n");
	fclose(f);
	return text;
}

/* The fix for table given listed, and how many chains it fixes. */
static int fix(const char *table, const char *listed, char *out, size_t n,
	       int nwan)
{
	char *text = ours(nwan), *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);
	int r = rules_jumps_fix(text, table, listed, f);

	fclose(f);
	snprintf(out, n, "%s", got);
	free(got);
	free(text);
	return r;
}

static void test_in_place(void)
{
	char out[1024];

	CHECK_EQ(0, fix("filter", "-P FORWARD DROP\n"
			"-N PPTPGW-FWD\n"
			"-A FORWARD -j PPTPGW-FWD\n"
			"-A FORWARD -j LIBVIRT_FWI\n"
			"-A PPTPGW-FWD -p gre -j ACCEPT\n", out, sizeof(out), 1));
	CHECK_EQ(0, strlen(out));
}

static void test_libvirt_above(void)
{
	char out[1024];

	CHECK_EQ(1, fix("filter", "-P FORWARD ACCEPT\n"
			"-A FORWARD -j LIBVIRT_FWX\n"
			"-A FORWARD -j LIBVIRT_FWI\n"
			"-A FORWARD -j LIBVIRT_FWO\n"
			"-A FORWARD -j PPTPGW-FWD\n", out, sizeof(out), 1));
	CHECK(!strcmp(out, "-D FORWARD -j PPTPGW-FWD\n"
			   "-I FORWARD 1 -j PPTPGW-FWD\n"));
}

static void test_missing(void)
{
	char out[1024];

	/* Someone flushed FORWARD: the jump comes back. */
	CHECK_EQ(1, fix("filter", "-P FORWARD ACCEPT\n-N PPTPGW-FWD\n",
			out, sizeof(out), 1));
	CHECK(!strcmp(out, "-I FORWARD 1 -j PPTPGW-FWD\n"));
}

static void test_two_wans(void)
{
	char out[1024];

	/* One of the two WANs' jumps under another rule: both go back on
	 * top; FORWARD, in place, is left alone. */
	CHECK_EQ(1, fix("mangle", "-A PREROUTING -i wan1 -j PPTPGW-PRE\n"
			"-A PREROUTING -j LIBVIRT_PRT\n"
			"-A PREROUTING -i wan0 -j PPTPGW-PRE\n"
			"-A FORWARD -j PPTPGW-FWD\n", out, sizeof(out), 2));
	CHECK(strstr(out, "-D PREROUTING -i wan0 -j PPTPGW-PRE\n") != NULL);
	CHECK(strstr(out, "-D PREROUTING -i wan1 -j PPTPGW-PRE\n") != NULL);
	CHECK(strstr(out, "-I PREROUTING 1 -i wan") != NULL);
	CHECK(strstr(out, "-I PREROUTING 2 -i wan") != NULL);
	CHECK(strstr(out, "FORWARD") == NULL);
	/* Both on top, in either order: nothing to do. */
	CHECK_EQ(0, fix("mangle", "-A PREROUTING -i wan0 -j PPTPGW-PRE\n"
			"-A PREROUTING -i wan1 -j PPTPGW-PRE\n"
			"-A PREROUTING -j LIBVIRT_PRT\n"
			"-A FORWARD -j PPTPGW-FWD\n", out, sizeof(out), 2));
}

static void test_duplicate_and_lookalike(void)
{
	char out[1024];

	/* Twice on top is once too many; a jump with other matches is not
	 * ours and does not count as one. */
	CHECK_EQ(1, fix("filter", "-A FORWARD -j PPTPGW-FWD\n"
			"-A FORWARD -j PPTPGW-FWD\n", out, sizeof(out), 1));
	CHECK(!strcmp(out, "-D FORWARD -j PPTPGW-FWD\n"
			   "-D FORWARD -j PPTPGW-FWD\n"
			   "-I FORWARD 1 -j PPTPGW-FWD\n"));
	CHECK_EQ(1, fix("filter", "-A FORWARD -i br0 -j PPTPGW-FWD\n",
			out, sizeof(out), 1));
	CHECK(!strcmp(out, "-I FORWARD 1 -j PPTPGW-FWD\n"));
	/* A table with none of our jumps (nat, no relay): not even read. */
	{
		char *text = ours(1);

		CHECK(rules_has_jumps(text, "filter"));
		CHECK(rules_has_jumps(text, "mangle"));
		CHECK(!rules_has_jumps(text, "nat"));
		CHECK(!rules_has_jumps(text, "raw"));
		free(text);
	}
	CHECK_EQ(0, fix("nat", "-A POSTROUTING -j MASQUERADE\n",
			out, sizeof(out), 1));
}

static const struct check_case cases[] = {
	CHECK_CASE(in_place),
	CHECK_CASE(libvirt_above),
	CHECK_CASE(missing),
	CHECK_CASE(two_wans),
	CHECK_CASE(duplicate_and_lookalike),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
