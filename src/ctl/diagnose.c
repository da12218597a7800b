/*
 * pptpgwctl diagnose: what the counters, the call table and the host's
 * rules say about tunnels that do not work, each finding as a likely
 * cause, the evidence it rests on and the fix.  Pure: the host's facts
 * (the kernel helper, rules) come in struct report_info.
 */
#include "ctl/diagnose.h"

#include <stdarg.h>
#include <string.h>

#include "wire/pkt.h"

struct finding {
	char cause[400], evidence[600], fix[400];
};

struct findings {
	struct finding f[DIAG_MAX];
	int n;
};

static struct finding *add(struct findings *fs, const char *cause,
			   const char *fix)
{
	struct finding *f;

	if (fs->n >= DIAG_MAX)
		return NULL;
	f = &fs->f[fs->n++];
	snprintf(f->cause, sizeof(f->cause), "%s", cause);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
	f->evidence[0] = 0;
	return f;
}

static void evidence(struct finding *f, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (!f)
		return;
	len = strlen(f->evidence);
	if (len + 3 >= sizeof(f->evidence))
		return;
	if (len)
		len += (size_t)snprintf(f->evidence + len,
					sizeof(f->evidence) - len, "; ");
	va_start(ap, fmt);
	vsnprintf(f->evidence + len, sizeof(f->evidence) - len, fmt, ap);
	va_end(ap);
}

/* 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT). */
static int private_addr(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
	       (a >> 22) == (100u << 2 | 1);
}

static void gre_not_back(struct findings *fs, const struct gw *g)
{
	uint32_t i, n = 0, priv = 0, pub = 0;
	struct finding *f = NULL;
	char a[16], b[16], p[16];

	for (i = 0; i < g->tab.ncalls_cap; i++) {
		const struct call *c = &g->tab.calls[i];

		if (c->state == CALL_FREE || !c->no_gre_back)
			continue;
		if (!n++)
			f = add(fs, "GRE of established calls goes out and none "
				"comes back: an upstream NAT without PPTP "
				"support (double NAT: a router between this "
				"host and the internet, or VirtualBox's NAT "
				"mode), or a firewall on the way dropping GRE "
				"(IP protocol 47)",
				"on the upstream router, turn on PPTP "
				"passthrough (Linux: the nf_conntrack_pptp "
				"helper on TCP 1723, or pptpgw there), or give "
				"this host the public address (bridge or DMZ); "
				"let IP protocol 47 through every firewall on "
				"the way");
		if (n <= 4)
			evidence(f, "call %u %s:%u -> %s: %llu GRE out, 0 in",
				 i, ip4_str(c->inside, a), c->inside_id,
				 ip4_str(c->outside, b),
				 (unsigned long long)c->pkts[DIR_OUT]);
		if (private_addr(c->pub))
			priv++, pub = c->pub;
	}
	if (n > 4)
		evidence(f, "%u calls in all", n);
	if (priv)
		evidence(f, "this host's WAN address %s is private, so a NAT "
			 "sits upstream", ip4_str(pub, p));
	if (n)
		evidence(f, "calls_no_gre_back %llu",
			 (unsigned long long)g->ctr[GC_CALLS_NO_GRE_BACK]);
}

static void host_facts(struct findings *fs, const struct gw *g,
		       const struct report_info *ri)
{
	struct finding *f;

	if (ri->helper_attached) {
		f = add(fs, "the kernel's PPTP helper is attached on this host: "
			"it rewrites the same Call IDs as pptpgw",
			"remove the rule that attaches it (-j CT --helper "
			"pptp, an nft ct helper of type pptp) or set "
			"nf_conntrack_helper=0");
		evidence(f, "%s", ri->helper_why);
	}
	if (!ri->rules_installed) {
		f = add(fs, "pptpgw's rules were left to the admin "
			"(--no-rules): without them no PPTP reaches it",
			"load the rules pptpgw --print-rules iptables prints "
			"for this WAN, or start it without --no-rules");
		evidence(f, "control connections %u, GRE in %llu, out %llu",
			 g->tab.nconns_used,
			 (unsigned long long)g->ctr[GC_GRE_IN],
			 (unsigned long long)g->ctr[GC_GRE_OUT]);
	}
	if (ri->rules_restored) {
		f = add(fs, "another program put rules above pptpgw's "
			"(libvirt, Docker or a firewall starting after "
			"pptpgw); pptpgw put its own back on top each time",
			"nothing, unless it keeps happening: then start "
			"pptpgw after that program");
		evidence(f, "rules_restored %llu",
			 (unsigned long long)ri->rules_restored);
	}
	if (ri->queue_dropped || ri->queue_user_dropped) {
		f = add(fs, "the kernel dropped packets waiting for pptpgw: "
			"it did not keep up", "see pptpgwctl top; the kernel "
			"fast path carries established calls (fastpath)");
		evidence(f, "queue_dropped %llu, queue_user_dropped %llu",
			 (unsigned long long)ri->queue_dropped,
			 (unsigned long long)ri->queue_user_dropped);
	}
}

static void server_ends(struct findings *fs, const struct gw *g)
{
	const struct calltab_stats *s = &g->tab.st;
	uint64_t by_server = s->calls_ended[END_FAILED] +
			     s->calls_ended[END_CDN];
	uint64_t ended = 0;
	struct finding *f;
	unsigned i;

	for (i = 0; i < END_COUNT; i++)
		ended += s->calls_ended[i];
	if (!by_server || by_server * 2 < ended)
		return;
	f = add(fs, "the servers refuse or close most calls (their "
		"Outgoing-Call-Reply says no, or a Call-Disconnect-Notify "
		"ends them)", "read the server's log: authentication, its "
		"call limit, or its PPP giving up because GRE did not reach "
		"it");
	evidence(f, "of %llu calls ended, %llu refused, %llu by "
		 "Call-Disconnect-Notify", (unsigned long long)ended,
		 (unsigned long long)s->calls_ended[END_FAILED],
		 (unsigned long long)s->calls_ended[END_CDN]);
}

static void gre_strays(struct findings *fs, const struct gw *g)
{
	uint64_t n = g->ctr[GC_GRE_IN_NOCALL] + g->ctr[GC_GRE_IN_NOCALL_DROP];
	struct finding *f;

	if (!n)
		return;
	f = add(fs, "GRE arrives that matches no call: late GRE of calls "
		"that ended, GRE for a tunnel this host set up itself, or "
		"an upstream device that changed its Call ID",
		"nothing if it is rare; if calls fail at the same time, "
		"look for a PPTP-aware device upstream that rewrites Call "
		"IDs without telling its NAT");
	evidence(f, "gre_in_no_call_passed %llu, gre_in_no_call_dropped %llu",
		 (unsigned long long)g->ctr[GC_GRE_IN_NOCALL],
		 (unsigned long long)g->ctr[GC_GRE_IN_NOCALL_DROP]);
}

int report_diagnose(FILE *f, const struct gw *g,
		    const struct report_info *ri, int json)
{
	struct findings fs = { .n = 0 };
	int i;

	gre_not_back(&fs, g);
	host_facts(&fs, g, ri);
	server_ends(&fs, g);
	gre_strays(&fs, g);
	if (json) {
		fputs("{\"findings\":[", f);
		for (i = 0; i < fs.n; i++) {
			fprintf(f, "%s{\"cause\":", i ? "," : "");
			report_json_str(f, fs.f[i].cause);
			fputs(",\"evidence\":", f);
			report_json_str(f, fs.f[i].evidence);
			fputs(",\"fix\":", f);
			report_json_str(f, fs.f[i].fix);
			fputc('}', f);
		}
		fputs("]}\n", f);
		return fs.n;
	}
	if (!fs.n)
		fprintf(f, "no problem found: %u calls, %llu GRE packets out "
			"and %llu in\n", g->tab.ncalls_used,
			(unsigned long long)g->ctr[GC_GRE_OUT],
			(unsigned long long)g->ctr[GC_GRE_IN]);
	for (i = 0; i < fs.n; i++)
		fprintf(f, "%d. %s\n   evidence: %s\n   fix: %s\n", i + 1,
			fs.f[i].cause, fs.f[i].evidence, fs.f[i].fix);
	return fs.n;
}
