#include "io/rules.h"
#include "io/ruletop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "io/ct.h"
#include "log.h"
#include "wire/pkt.h"

/*
 * Enhanced GRE only (K set, version 1, protocol PPP, S and A free): other
 * GRE on the host, tunnels included, keeps its usual conntrack and NAT.
 */
#define U32_EGRE "0>>22&0x3C@0&0xEF7FFFFF=0x2001880B"

/*
 * Which connections "--relay all" takes: only those the kernel would route
 * out of a WAN interface.  A REDIRECT of every non-local destination took
 * connections between inside segments too; the relay then opened them from
 * the gateway itself, around the FORWARD rules that would have judged them,
 * and the INPUT accept below let them in.  The REDIRECT happens before
 * routing, and iptables has no match for the route a packet is about to
 * take (addrtype only tells local from not, rpfilter looks up the source,
 * and a list of inside subnets would go stale with every route change).
 * nftables' fib expression asks the kernel's routing itself, policy rules
 * included: "fib daddr oifname" is the interface the destination is routed
 * out of, and matches no interface for a local address.  So this one rule
 * lives in an nftables table of pptpgw's own, beside the iptables rules,
 * and the iptables form names it in comments.
 */
#define RELAY_TABLE "pptpgw_relay"

static void print_relay_all_nft(FILE *f, const struct rules_cfg *c,
				const char *pfx)
{
	int i;

	fprintf(f, "%stable ip " RELAY_TABLE " {\n", pfx);
	fprintf(f, "%s\tchain nat_pre {\n%s\t\ttype nat hook prerouting "
		"priority dstnat; policy accept;\n", pfx, pfx);
	fprintf(f, "%s\t\ttcp dport 1723 fib daddr type != local "
		"fib daddr oifname { ", pfx);
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", c->wan[i]);
	fprintf(f, " } iifname != { ");
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", c->wan[i]);
	fprintf(f, " } redirect to :%u\n%s\t}\n%s}\n", c->relay_port, pfx,
		pfx);
}

/* The body of the nat chain: which new connections the relay takes. */
static void print_relay_nat(FILE *f, const struct rules_cfg *c)
{
	char a[16];
	int i;

	for (i = 0; i < c->nwan; i++)
		fprintf(f, "-A PPTPGW-NAT -i %s -j RETURN\n", c->wan[i]);
	/* --relay all: in table ip pptpgw_relay (print_relay_all_nft). */
	for (i = 0; !c->relay_all && i < c->nrelay; i++)
		fprintf(f, "-A PPTPGW-NAT -d %s/32 -p tcp --dport 1723 "
			"-j REDIRECT --to-ports %u\n",
			ip4_str(c->relay_servers[i], a), c->relay_port);
}

static void print_relay_iptables(FILE *f, const struct rules_cfg *c)
{
	fprintf(f, "*nat\n:PPTPGW-NAT - [0:0]\n-I PREROUTING -j PPTPGW-NAT\n");
	print_relay_nat(f, c);
	fprintf(f, "COMMIT\n");
	if (c->relay_all) {
		fprintf(f, "# --relay all redirects only what is routed out of "
			"a WAN, which iptables\n# cannot match: pptpgw loads "
			"this nftables table (nft -f) beside the above.\n");
		print_relay_all_nft(f, c, "# ");
	}
}

/*
 * PPTP of this host itself (a client on the gateway, or a server on it):
 * its control connections are tracked like a guest's, so its Call IDs are
 * known to the alias space and no guest is given one of them.  Its GRE
 * coming in is queued by PPTPGW-PRE with everyone's; what it sends is
 * queued here, counted for its call (GRE of no call passes: the source is
 * this host's own).  The relay's own sockets carry our mark.
 */
static void print_local_queue(FILE *f, const char *w, unsigned q)
{
	fprintf(f, "-A PPTPGW-OUT -o %s -p gre -m u32 --u32 \"%s\" "
		"-j NFQUEUE --queue-num %u\n", w, U32_EGRE, q);
	fprintf(f, "-A PPTPGW-OUT -o %s -p tcp --dport 1723 "
		"-j NFQUEUE --queue-num %u\n", w, q);
	fprintf(f, "-A PPTPGW-OUT -o %s -p tcp --sport 1723 "
		"-j NFQUEUE --queue-num %u\n", w, q);
	fprintf(f, "-A PPTPGW-IN -i %s -p tcp --sport 1723 "
		"-j NFQUEUE --queue-num %u\n", w, q);
	fprintf(f, "-A PPTPGW-IN -i %s -p tcp --dport 1723 "
		"-j NFQUEUE --queue-num %u\n", w, q);
}

void rules_print_iptables(FILE *f, const struct rules_cfg *c)
{
	int i;

	fprintf(f, "# pptpgw rules for iptables-restore --noflush\n");
	if (!c->gre_untracked || c->relay)
		fprintf(f, "*raw\n");
	if (!c->gre_untracked) {
		fprintf(f, ":PPTPGW-PRE - [0:0]\n-I PREROUTING -j PPTPGW-PRE\n");
		fprintf(f, "-A PPTPGW-PRE -p gre -m u32 --u32 \"%s\" "
			"-j CT --notrack\n", U32_EGRE);
	}
	if (c->relay) {
		/* The relay's own GRE, sent from a raw socket. */
		fprintf(f, ":PPTPGW-OUT - [0:0]\n-I OUTPUT -j PPTPGW-OUT\n");
		fprintf(f, "-A PPTPGW-OUT -p gre -m u32 --u32 \"%s\" "
			"-j CT --notrack\n", U32_EGRE);
	}
	if (!c->gre_untracked || c->relay)
		fprintf(f, "COMMIT\n");
	fprintf(f, "*mangle\n:PPTPGW-PRE - [0:0]\n:PPTPGW-FWD - [0:0]\n"
		":PPTPGW-IN - [0:0]\n:PPTPGW-OUT - [0:0]\n");
	/* Only what comes in by a WAN is queued before routing: the rest
	 * (all that goes out, at every packet's rate) skips the chain. */
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "-I PREROUTING -i %s -j PPTPGW-PRE\n", c->wan[i]);
	fprintf(f, "-I FORWARD -j PPTPGW-FWD\n-I INPUT -j PPTPGW-IN\n"
		"-I OUTPUT -j PPTPGW-OUT\n");
	/*
	 * pptpgw gives accepted packets back with NF_REPEAT and this mark, so
	 * they run the rest of the chain too (MSS clamping, marks of the
	 * admin's) instead of leaving the table at our queue rule.  The
	 * relay's own upstream connections carry it too (SO_MARK): they are
	 * the relay's, not this host's PPTP clients.
	 */
	fprintf(f, "-A PPTPGW-PRE -m mark --mark 0x%x/0x%x -j RETURN\n",
		c->mark, c->mark);
	fprintf(f, "-A PPTPGW-FWD -m mark --mark 0x%x/0x%x -j RETURN\n",
		c->mark, c->mark);
	fprintf(f, "-A PPTPGW-IN -m mark --mark 0x%x/0x%x -j RETURN\n",
		c->mark, c->mark);
	fprintf(f, "-A PPTPGW-OUT -m mark --mark 0x%x/0x%x -j RETURN\n",
		c->mark, c->mark);
	for (i = 0; i < c->nwan; i++)
		print_local_queue(f, c->wan[i], c->queue);
	for (i = 0; i < c->nwan; i++) {
		const char *w = c->wan[i];
		unsigned q = c->queue;

		fprintf(f, "-A PPTPGW-PRE -i %s -p gre -m u32 --u32 \"%s\" "
			"-j NFQUEUE --queue-num %u\n", w, U32_EGRE, q);
		fprintf(f, "-A PPTPGW-FWD -o %s -p gre -m u32 --u32 \"%s\" "
			"-j NFQUEUE --queue-num %u\n", w, U32_EGRE, q);
		fprintf(f, "-A PPTPGW-FWD -o %s -p tcp --dport 1723 "
			"-j NFQUEUE --queue-num %u\n", w, q);
		fprintf(f, "-A PPTPGW-FWD -i %s -p tcp --sport 1723 "
			"-j NFQUEUE --queue-num %u\n", w, q);
		fprintf(f, "-A PPTPGW-FWD -i %s -p tcp --dport 1723 "
			"-j NFQUEUE --queue-num %u\n", w, q);
		fprintf(f, "-A PPTPGW-FWD -o %s -p tcp --sport 1723 "
			"-j NFQUEUE --queue-num %u\n", w, q);
	}
	fprintf(f, "COMMIT\n*filter\n:PPTPGW-FWD - [0:0]\n");
	fprintf(f, "-I FORWARD -j PPTPGW-FWD\n");
	/* Translated GRE is untracked: "ESTABLISHED" rules cannot let it by.
	 * Nor GRE of this host's own calls, which pptpgw marks too (GRE of
	 * no call is left unmarked, for the admin's rules to judge). */
	fprintf(f, "-A PPTPGW-FWD -p gre -m mark --mark 0x%x/0x%x -j ACCEPT\n",
		c->mark, c->mark);
	fprintf(f, ":PPTPGW-IN - [0:0]\n-I INPUT -j PPTPGW-IN\n");
	fprintf(f, "-A PPTPGW-IN -p gre -m mark --mark 0x%x/0x%x -j ACCEPT\n",
		c->mark, c->mark);
	if (c->relay) {
		/*
		 * Redirected control connections reach the relay whatever
		 * the admin's INPUT policy: ahead of the admin's rules, so
		 * it accepts only what our REDIRECT made, a connection to
		 * TCP 1723 elsewhere (what FORWARD would have judged,
		 * the relay now carries), sent to the relay's port, not
		 * coming in by a WAN.  A connection to the relay's port
		 * itself, or DNAT of anyone else's, meets the admin's rules.
		 */
		for (i = 0; i < c->nwan; i++)
			fprintf(f, "-A PPTPGW-IN -i %s -j RETURN\n", c->wan[i]);
		fprintf(f, "-A PPTPGW-IN -p tcp --dport %u -m conntrack "
			"--ctstate DNAT --ctproto tcp --ctorigdstport 1723 "
			"-j ACCEPT\n", c->relay_port);
	}
	fprintf(f, "COMMIT\n");
	if (c->relay)
		print_relay_iptables(f, c);
}

static void print_relay_nft(FILE *f, const struct rules_cfg *c,
			    const char *egre)
{
	char a[16];
	int i;

	fprintf(f, "\tchain raw_out {\n\t\ttype filter hook output "
		"priority raw; policy accept;\n\t\t%s notrack\n\t}\n", egre);
	fprintf(f, "\tchain filter_in {\n\t\ttype filter hook input "
		"priority filter; policy accept;\n");
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "\t\tiifname \"%s\" return\n", c->wan[i]);
	fprintf(f, "\t\ttcp dport %u ct status dnat ct original proto-dst "
		"1723 accept\n\t}\n", c->relay_port);
	fprintf(f, "\tchain nat_pre {\n\t\ttype nat hook prerouting "
		"priority dstnat; policy accept;\n");
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "\t\tiifname \"%s\" return\n", c->wan[i]);
	if (c->relay_all) {
		/* Only what is routed out of a WAN: see RELAY_TABLE. */
		fprintf(f, "\t\ttcp dport 1723 fib daddr type != local "
			"fib daddr oifname { ");
		for (i = 0; i < c->nwan; i++)
			fprintf(f, "%s\"%s\"", i ? ", " : "", c->wan[i]);
		fprintf(f, " } redirect to :%u\n", c->relay_port);
	}
	for (i = 0; !c->relay_all && i < c->nrelay; i++)
		fprintf(f, "\t\tip daddr %s tcp dport 1723 redirect to :%u\n",
			ip4_str(c->relay_servers[i], a), c->relay_port);
	fprintf(f, "\t}\n");
}

/* This host's own PPTP: see print_local_queue. */
static void print_local_nft(FILE *f, const struct rules_cfg *c,
			    const char *egre)
{
	int i;

	fprintf(f, "\tchain mangle_in {\n\t\ttype filter hook input "
		"priority mangle; policy accept;\n");
	fprintf(f, "\t\tmeta mark & 0x%x == 0x%x return\n", c->mark, c->mark);
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "\t\tiifname \"%s\" tcp sport 1723 queue num %u\n"
			"\t\tiifname \"%s\" tcp dport 1723 queue num %u\n",
			c->wan[i], c->queue, c->wan[i], c->queue);
	fprintf(f, "\t}\n\tchain mangle_out {\n\t\ttype filter hook output "
		"priority mangle; policy accept;\n");
	fprintf(f, "\t\tmeta mark & 0x%x == 0x%x return\n", c->mark, c->mark);
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "\t\toifname \"%s\" %s queue num %u\n"
			"\t\toifname \"%s\" tcp dport 1723 queue num %u\n"
			"\t\toifname \"%s\" tcp sport 1723 queue num %u\n",
			c->wan[i], egre, c->queue, c->wan[i], c->queue,
			c->wan[i], c->queue);
	fprintf(f, "\t}\n\tchain filter_in_gre {\n\t\ttype filter hook input "
		"priority filter; policy accept;\n");
	fprintf(f, "\t\tip protocol gre meta mark & 0x%x == 0x%x accept\n"
		"\t}\n", c->mark, c->mark);
}

void rules_print_nft(FILE *f, const struct rules_cfg *c)
{
	const char *egre = "ip protocol gre @th,0,32 & 0xef7fffff == 0x2001880b";
	int i;

	fprintf(f, "# pptpgw rules for nft -f (needs the nft queue statement)\n");
	fprintf(f, "table ip pptpgw {\n");
	fprintf(f, "\tchain raw_pre {\n\t\ttype filter hook prerouting "
		"priority raw; policy accept;\n\t\t%s notrack\n\t}\n", egre);
	fprintf(f, "\tchain mangle_pre {\n\t\ttype filter hook prerouting "
		"priority mangle; policy accept;\n");
	fprintf(f, "\t\tmeta mark & 0x%x == 0x%x return\n", c->mark, c->mark);
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "\t\tiifname \"%s\" %s queue num %u\n", c->wan[i],
			egre, c->queue);
	fprintf(f, "\t}\n\tchain mangle_fwd {\n\t\ttype filter hook forward "
		"priority mangle; policy accept;\n");
	fprintf(f, "\t\tmeta mark & 0x%x == 0x%x return\n", c->mark, c->mark);
	for (i = 0; i < c->nwan; i++) {
		const char *w = c->wan[i];

		fprintf(f, "\t\toifname \"%s\" %s queue num %u\n", w, egre,
			c->queue);
		fprintf(f, "\t\toifname \"%s\" tcp dport 1723 queue num %u\n",
			w, c->queue);
		fprintf(f, "\t\tiifname \"%s\" tcp sport 1723 queue num %u\n",
			w, c->queue);
		fprintf(f, "\t\tiifname \"%s\" tcp dport 1723 queue num %u\n",
			w, c->queue);
		fprintf(f, "\t\toifname \"%s\" tcp sport 1723 queue num %u\n",
			w, c->queue);
	}
	fprintf(f, "\t}\n\tchain filter_fwd {\n\t\ttype filter hook forward "
		"priority filter; policy accept;\n");
	fprintf(f, "\t\tip protocol gre meta mark & 0x%x == 0x%x accept\n"
		"\t}\n", c->mark, c->mark);
	print_local_nft(f, c, egre);
	if (c->relay)
		print_relay_nft(f, c, egre);
	fprintf(f, "}\n");
}

int run_cmd(char *const argv[], const char *input, char *out, size_t outn)
{
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, status = 0;
	size_t got = 0;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		sigset_t none;

		/* the daemon holds its stop signals back while it starts */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(in[0], 0);
		dup2(out ? op[1] : null, 1);
		if (out)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(op[1]);
	if (input) {
		/* A dead child must not kill us with SIGPIPE. */
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		if (write(in[1], input, strlen(input)) < 0)
			log_debug("%s: write: %s", argv[0], strerror(errno));
		signal(SIGPIPE, old);
	}
	close(in[1]);
	for (;;) {
		char tmp[4096];
		ssize_t n = read(op[0], tmp, sizeof(tmp));

		if (n <= 0)
			break;
		if (out && got + 1 < outn) {
			size_t k = (size_t)n < outn - 1 - got ? (size_t)n
							       : outn - 1 - got;
			memcpy(out + got, tmp, k);
			got += k;
		}
	}
	if (out)
		out[got] = 0;
	close(op[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
fail:
	if (in[0] >= 0) {
		close(in[0]);
		close(in[1]);
	}
	if (op[0] >= 0) {
		close(op[0]);
		close(op[1]);
	}
	return -1;
}

/* iptables -t table, then line split at spaces (no quoting). */
static int ipt_line(const char *table, char *line)
{
	char *argv[24] = { "iptables", "-w", "-t", (char *)table };
	char sink[64], *tok, *save = NULL;
	int n = 4;

	for (tok = strtok_r(line, " ", &save); tok && n < 23;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return run_cmd(argv, NULL, sink, sizeof(sink));
}

static int ipt(const char *table, const char *op, const char *chain)
{
	char *argv[] = { "iptables", "-w", "-t", (char *)table, (char *)op,
			 (char *)chain, NULL };
	char sink[64];

	return run_cmd(argv, NULL, sink, sizeof(sink));
}

/*
 * Deletes every rule of builtin that jumps to chain, whatever its matches
 * (a run with other WAN interfaces may have left them), then the chain.
 */
static void remove_chain(const char *table, const char *builtin,
			 const char *chain)
{
	char *list[] = { "iptables", "-w", "-t", (char *)table, "-S",
			 (char *)builtin, NULL };
	static char out[1 << 16];
	char jump[64];
	char *line, *next;

	snprintf(jump, sizeof(jump), " -j %s", chain);
	if (run_cmd(list, NULL, out, sizeof(out)) == 0) {
		for (line = out; line && *line; line = next) {
			size_t len;

			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			len = strlen(line);
			if (strncmp(line, "-A ", 3) ||
			    len < strlen(jump) ||
			    strcmp(line + len - strlen(jump), jump))
				continue;
			line[1] = 'D';
			ipt_line(table, line);
		}
	}
	ipt(table, "-F", chain);
	ipt(table, "-X", chain);
}

/* Our chains and the built-in chains that jump to them, per table. */
enum { ANY_JUMP, RELAY_ONLY, TRACKED_ONLY, PER_WAN_IN };
static const struct {
	const char *table, *builtin, *chain;
	int when;
} our_chains[] = {
	{ "raw", "PREROUTING", "PPTPGW-PRE", TRACKED_ONLY },
	{ "raw", "OUTPUT", "PPTPGW-OUT", RELAY_ONLY },
	{ "mangle", "PREROUTING", "PPTPGW-PRE", PER_WAN_IN },
	{ "mangle", "FORWARD", "PPTPGW-FWD", ANY_JUMP },
	{ "mangle", "INPUT", "PPTPGW-IN", ANY_JUMP },
	{ "mangle", "OUTPUT", "PPTPGW-OUT", ANY_JUMP },
	{ "filter", "FORWARD", "PPTPGW-FWD", ANY_JUMP },
	{ "filter", "INPUT", "PPTPGW-IN", ANY_JUMP },
	{ "nat", "PREROUTING", "PPTPGW-NAT", RELAY_ONLY },
};

/* What rules_install put in, as printed: empty when nothing is (or it did
 * not fit), and then nothing is kept on top. */
static char installed_text[1 << 15];

/* What rules_install put in, for a quick removal. */
static struct {
	char wan[RULES_MAX_WAN][16];
	int nwan, gre_untracked;
} installed;

/*
 * Put table ip pptpgw_relay in (on: --relay all) or take it out, in one
 * nft transaction (a table of an earlier run goes either way).  nft's exit
 * code, 0 when done.
 */
static int relay_table(const struct rules_cfg *c, int on)
{
	char *argv[] = { "nft", "-f", "-", NULL };
	char *text = NULL, sink[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -1;
	fprintf(f, "table ip " RELAY_TABLE "\ndelete table ip " RELAY_TABLE
		"\n");
	if (on)
		print_relay_all_nft(f, c, "");
	fclose(f);
	r = run_cmd(argv, text, sink, sizeof(sink));
	free(text);
	return r;
}

/*
 * Remove what rules_install put in, in one iptables-restore run (one
 * transaction per table, quick even on a busy host).  Fails if anything
 * is missing, e.g. an admin removed a rule by hand.
 */
static int remove_installed(int with_relay)
{
	char *argv[] = { "iptables-restore", "-w", "--noflush", NULL };
	char *text = NULL, sink[512];
	size_t len = 0, i;
	const char *table = NULL;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -1;
	for (i = 0; i < sizeof(our_chains) / sizeof(our_chains[0]); i++) {
		int w, when = our_chains[i].when;

		if ((when == RELAY_ONLY && !with_relay) ||
		    (when == TRACKED_ONLY && installed.gre_untracked))
			continue;
		if (!table || strcmp(table, our_chains[i].table)) {
			if (table)
				fprintf(f, "COMMIT\n");
			table = our_chains[i].table;
			fprintf(f, "*%s\n", table);
		}
		if (when != PER_WAN_IN)
			fprintf(f, "-D %s -j %s\n", our_chains[i].builtin,
				our_chains[i].chain);
		for (w = 0; when == PER_WAN_IN && w < installed.nwan; w++)
			fprintf(f, "-D %s -i %s -j %s\n", our_chains[i].builtin,
				installed.wan[w], our_chains[i].chain);
		fprintf(f, "-F %s\n-X %s\n", our_chains[i].chain,
			our_chains[i].chain);
	}
	fprintf(f, "COMMIT\n");
	fclose(f);
	r = run_cmd(argv, text, sink, sizeof(sink));
	free(text);
	return r == 0 ? 0 : -1;
}

/*
 * iptables-nft makes a table and its base chains the first time a rule
 * goes into it, and leaves them when the rules go.  Tables that came with
 * our rules, and hold no rule when ours are gone, go too, so a stop leaves
 * the ruleset as the start found it.
 */
static const char *const ipt_tables[] = { "raw", "mangle", "filter", "nat" };
static unsigned tables_before;

/* A bit per table of ipt_tables that nftables has now (family ip). */
static unsigned nft_tables_now(void)
{
	char *argv[] = { "nft", "list", "tables", "ip", NULL };
	char out[4096], name[64];
	unsigned bits = 0, i;
	const char *line;

	if (run_cmd(argv, NULL, out, sizeof(out)) != 0)
		return 0;
	for (line = out; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (sscanf(line, "table ip %63s", name) != 1)
			continue;
		for (i = 0; i < sizeof(ipt_tables) / sizeof(ipt_tables[0]); i++)
			if (!strcmp(name, ipt_tables[i]))
				bits |= 1u << i;
	}
	return bits;
}

static void drop_tables_we_made(void)
{
	static char out[1 << 16];
	unsigned now = nft_tables_now(), i;

	for (i = 0; i < sizeof(ipt_tables) / sizeof(ipt_tables[0]); i++) {
		char *list[] = { "nft", "-j", "list", "table", "ip",
				 (char *)ipt_tables[i], NULL };
		char *del[] = { "nft", "delete", "table", "ip",
				(char *)ipt_tables[i], NULL };

		if (!(now & ~tables_before & (1u << i)))
			continue;
		if (run_cmd(list, NULL, out, sizeof(out)) == 0 &&
		    !strstr(out, "\"rule\""))
			run_cmd(del, NULL, out, sizeof(out));
	}
}

void rules_uninstall(int with_relay)
{
	static const struct rules_cfg none;

	installed_text[0] = 0;
	if (remove_installed(with_relay) < 0)
		rules_remove();
	else if (with_relay)
		relay_table(&none, 0);
	drop_tables_we_made();
}

/* The nat chain's new body, for iptables-restore. */
static void print_relay_update(FILE *f, const struct rules_cfg *c)
{
	fprintf(f, "*nat\n-F PPTPGW-NAT\n");
	print_relay_nat(f, c);
	fprintf(f, "COMMIT\n");
}

/* Feed what print writes to iptables-restore --noflush; its exit code. */
static int restore(void (*print)(FILE *, const struct rules_cfg *),
		   const struct rules_cfg *c)
{
	char *argv[] = { "iptables-restore", "-w", "--noflush", NULL };
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -1;
	print(f, c);
	fclose(f);
	r = run_cmd(argv, text, err, sizeof(err));
	free(text);
	return r;
}

/*
 * Keeping our jumps on top.  Programs that start after pptpgw put their
 * own rules at the top of the built-in chains (libvirt's LIBVIRT_FWI, which
 * rejects what conntrack does not call ESTABLISHED; Docker's DOCKER-USER; a
 * firewall's reload), and pptpgw's GRE is untracked: below such a rule, the
 * accept of translated GRE in filter FORWARD is never reached.  The daemon
 * checks every few seconds and puts its jumps back on top.
 */

static void remember_installed(const struct rules_cfg *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	installed_text[0] = 0;
	if (!f)
		return;
	rules_print_iptables(f, c);
	fclose(f);
	if (len < sizeof(installed_text))
		memcpy(installed_text, text, len + 1);
	free(text);
}

int rules_keep_on_top(void)
{
	char *argv[] = { "iptables-restore", "-w", "--noflush", NULL };
	static char listed[1 << 16];
	char *text = NULL, err[512];
	size_t len = 0;
	int fixed = 0, r = 0;
	unsigned t;
	FILE *f;

	if (!installed_text[0] || !(f = open_memstream(&text, &len)))
		return 0;
	for (t = 0; t < 4; t++) {
		char *list[] = { "iptables", "-w", "-t", (char *)ipt_tables[t],
				 "-S", NULL };
		char *part = NULL;
		size_t plen = 0;
		FILE *pf;
		int n;

		if (!rules_has_jumps(installed_text, ipt_tables[t]) ||
		    run_cmd(list, NULL, listed, sizeof(listed)) != 0 ||
		    !(pf = open_memstream(&part, &plen)))
			continue;
		n = rules_jumps_fix(installed_text, ipt_tables[t], listed, pf);
		fclose(pf);
		if (n > 0)
			fprintf(f, "*%s\n%sCOMMIT\n", ipt_tables[t], part);
		fixed += n;
		free(part);
	}
	fclose(f);
	if (fixed)
		r = run_cmd(argv, text, err, sizeof(err));
	free(text);
	return r ? -1 : fixed;
}

int rules_relay_update(const struct rules_cfg *c)
{
	int r = restore(print_relay_update, c);

	if (r != 0)
		log_err("updating the relay's redirect rules failed (exit %d)",
			r);
	else if ((r = relay_table(c, c->relay_all)) != 0)
		log_err("%s nftables table ip " RELAY_TABLE " failed (nft "
			"exit %d)", c->relay_all ? "loading" : "removing", r);
	if (r == 0)
		remember_installed(c);
	return r == 0 ? 0 : -1;
}

void rules_remove(void)
{
	static const struct rules_cfg none;
	size_t i;

	installed_text[0] = 0;
	relay_table(&none, 0);

	for (i = 0; i < sizeof(our_chains) / sizeof(our_chains[0]); i++)
		remove_chain(our_chains[i].table, our_chains[i].builtin,
			     our_chains[i].chain);
}

/*
 * What an earlier run left in one table (a killed pptpgw, or one stopped
 * with its calls kept): "-D" lines for every jump to a chain of ours, and
 * the names of our chains there.  0, or -1 if the table cannot be read.
 */
struct leftover {
	char *del;               /* "-D ..." lines */
	size_t ndel;
	char chains[8][32];
	int nchains;
};

static int leftover_read(const char *table, struct leftover *l)
{
	char *argv[] = { "iptables", "-w", "-t", (char *)table, "-S", NULL };
	static char out[1 << 16];
	char *line, *next;
	FILE *f;

	memset(l, 0, sizeof(*l));
	if (run_cmd(argv, NULL, out, sizeof(out)) != 0)
		return -1;
	f = open_memstream(&l->del, &l->ndel);
	if (!f)
		return -1;
	for (line = out; line && *line; line = next) {
		const char *j;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "-N PPTPGW-", 10)) {
			if (l->nchains < 8)
				snprintf(l->chains[l->nchains++], 32, "%s",
					 line + 3);
			continue;
		}
		j = strstr(line, " -j PPTPGW-");
		if (strncmp(line, "-A ", 3) || !strncmp(line, "-A PPTPGW-", 10) ||
		    !j || strchr(j + 4, ' '))
			continue;
		fprintf(f, "-D %s\n", line + 3);
	}
	fclose(f);
	return 0;
}

/*
 * Our rules in place of an earlier run's in one iptables-restore run: per
 * table, the old jumps go and the new rules come in one transaction, and
 * the chains are flushed by being declared again.  A restart leaves no
 * moment without the queue rules, in which a packet could pass
 * untranslated (or GRE reach this host and draw an ICMP error that makes
 * pptpd drop every call).  -1 if anything failed (nothing changed then).
 */
static int replace_leftovers(const struct rules_cfg *c)
{
	char *argv[] = { "iptables-restore", "-w", "--noflush", NULL };
	struct leftover lo[4];
	char *text = NULL, *out = NULL, *line, *next, err[512];
	char declared[8][32];
	size_t len = 0, olen = 0;
	int cur = -1, ndecl = 0, any = 0, r = -1, used[4] = { 0 };
	unsigned t;
	FILE *f;

	memset(lo, 0, sizeof(lo));
	for (t = 0; t < 4; t++) {
		if (leftover_read(ipt_tables[t], &lo[t]) < 0)
			goto done;
		any |= lo[t].ndel > 0 || lo[t].nchains > 0;
	}
	if (!any)
		goto done;
	f = open_memstream(&text, &len);
	if (!f)
		goto done;
	rules_print_iptables(f, c);
	fclose(f);
	f = open_memstream(&out, &olen);
	if (!f)
		goto done;
	for (line = text; line && *line; line = next) {
		int i, k;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (line[0] == '*') {
			fprintf(f, "%s\n", line);
			for (cur = -1, t = 0; t < 4; t++)
				if (!strcmp(line + 1, ipt_tables[t]))
					cur = (int)t;
			ndecl = 0;
			if (cur >= 0) {
				used[cur] = 1;
				fputs(lo[cur].del ? lo[cur].del : "", f);
			}
			continue;
		}
		if (line[0] == ':' && ndecl < 8) {
			snprintf(declared[ndecl], 32, "%s", line + 1);
			*strchrnul(declared[ndecl++], ' ') = 0;
		}
		if (!strcmp(line, "COMMIT") && cur >= 0) {
			/* Chains of ours this run does not have any more. */
			for (i = 0; i < lo[cur].nchains; i++) {
				for (k = 0; k < ndecl; k++)
					if (!strcmp(declared[k],
						    lo[cur].chains[i]))
						break;
				if (k == ndecl)
					fprintf(f, "-F %s\n-X %s\n",
						lo[cur].chains[i],
						lo[cur].chains[i]);
			}
		}
		fprintf(f, "%s\n", line);
	}
	for (t = 0; t < 4; t++) {
		int i;

		if (used[t] || (!lo[t].ndel && !lo[t].nchains))
			continue;
		fprintf(f, "*%s\n%s", ipt_tables[t], lo[t].del ? lo[t].del : "");
		for (i = 0; i < lo[t].nchains; i++)
			fprintf(f, "-F %s\n-X %s\n", lo[t].chains[i],
				lo[t].chains[i]);
		fprintf(f, "COMMIT\n");
	}
	fclose(f);
	r = run_cmd(argv, out, err, sizeof(err)) == 0 ? 0 : -1;
	if (r < 0)
		log_warn("replacing an earlier run's rules in one step failed: "
			 "removing them first");
done:
	for (t = 0; t < 4; t++)
		free(lo[t].del);
	free(text);
	free(out);
	return r;
}

int rules_install(const struct rules_cfg *c)
{
	int r, i;

	tables_before = nft_tables_now();
	memset(&installed, 0, sizeof(installed));
	for (i = 0; i < c->nwan && i < RULES_MAX_WAN; i++)
		snprintf(installed.wan[i], sizeof(installed.wan[i]), "%s",
			 c->wan[i]);
	installed.nwan = i;
	installed.gre_untracked = c->gre_untracked;
	if (replace_leftovers(c) == 0) {
		remember_installed(c);
		return 0;
	}
	rules_remove();
	memset(&installed, 0, sizeof(installed));
	for (i = 0; i < c->nwan && i < RULES_MAX_WAN; i++)
		snprintf(installed.wan[i], sizeof(installed.wan[i]), "%s",
			 c->wan[i]);
	installed.nwan = i;
	installed.gre_untracked = c->gre_untracked;
	r = restore(rules_print_iptables, c);
	if (r != 0) {
		log_err("installing rules with iptables-restore failed (exit %d); "
			"is iptables installed?", r);
		rules_remove();
		return -1;
	}
	if (c->relay && c->relay_all && (r = relay_table(c, 1)) != 0) {
		log_err("loading nftables table ip " RELAY_TABLE " for --relay "
			"all failed (nft exit %d); is nft installed?", r);
		rules_remove();
		return -1;
	}
	remember_installed(c);
	return 0;
}

static int text_has_pptp_helper(const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char buf[512];

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = 0;
		/* "-j CT --helper pptp", "ct helper set ..." naming a pptp
		 * helper, or an nft helper object of type "pptp". */
		if ((strstr(buf, "helper") && strstr(buf, "pptp")) ||
		    strstr(buf, "type \"pptp\""))
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

static int legacy_table_exists(const char *name)
{
	FILE *f = fopen("/proc/net/ip_tables_names", "r");
	char line[64];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, name, strlen(name)) == 0 &&
			(line[strlen(name)] == '\n' || !line[strlen(name)]);
	fclose(f);
	return found;
}

int rules_helper_conflict(char *why, size_t n)
{
	static char out[1 << 20];
	char *nft[] = { "nft", "list", "ruleset", NULL };
	char *ipt[] = { "iptables-save", "-t", "raw", NULL };
	char *legacy[] = { "iptables-legacy-save", "-t", "raw", NULL };
	FILE *f;
	int k;

	if (run_cmd(nft, NULL, out, sizeof(out)) == 0 &&
	    text_has_pptp_helper(out)) {
		snprintf(why, n, "a ruleset rule attaches the pptp helper "
			 "(see 'nft list ruleset', e.g. 'CT --helper pptp')");
		return 1;
	}
	/* iptables-nft rules show up in nft only as "xt target CT". */
	if (run_cmd(ipt, NULL, out, sizeof(out)) == 0 &&
	    text_has_pptp_helper(out)) {
		snprintf(why, n, "an iptables raw rule attaches it "
			 "('-j CT --helper pptp', see iptables-save -t raw)");
		return 1;
	}
	/* iptables-legacy-save makes the legacy raw table it reads (and
	 * iptables then warns of legacy tables on every run): only read it
	 * where it is already there. */
	if (legacy_table_exists("raw") &&
	    run_cmd(legacy, NULL, out, sizeof(out)) == 0 &&
	    text_has_pptp_helper(out)) {
		snprintf(why, n, "an iptables-legacy raw rule attaches the "
			 "pptp helper");
		return 1;
	}
	f = fopen("/proc/sys/net/netfilter/nf_conntrack_helper", "r");
	if (f) {
		int v = 0;

		if (fscanf(f, "%d", &v) == 1 && v == 1) {
			fclose(f);
			snprintf(why, n, "net.netfilter.nf_conntrack_helper=1 "
				 "assigns the pptp helper automatically");
			return 1;
		}
		fclose(f);
	}
	k = ct_count_pptp_helper();
	if (k > 0) {
		snprintf(why, n, "%d tracked connections already use the pptp "
			 "helper", k);
		return 1;
	}
	return 0;
}
