#include "io/tcfast.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#ifdef PPTPGW_TCFAST
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include "io/rules.h"
#include "log.h"

/* The programs, compiled by clang -target bpf and built in (tcfast_obj.S). */
extern const char tcfast_obj[], tcfast_obj_end[];

/*
 * pptpgw's filters on every interface: one handle and priority of its
 * own, so a start replaces what a killed run left, and `tc filter show`
 * shows which they are.  Priority 1723 runs before tc's automatic ones.
 */
#define TC_HANDLE 0x1723
#define TC_PRIO 1723
#define MAX_IFS 256                /* fpb_ifs holds as many */

struct tc_if {
	int ifindex;
	int created;             /* the clsact qdisc is ours */
	uint32_t role;           /* FPB_IF_WAN or FPB_IF_LAN */
};

struct tcfast {
	struct bpf_object *obj;
	int in_fd, out_fd, ifs_fd, prog_in, prog_out;
	int ncpu;
	struct fpb_val *vals;    /* one per CPU, for updates and reads */
	struct tc_if ifs[MAX_IFS];
	int nifs;
	struct mnl_socket *rt;   /* route lookups */
	uint32_t rt_seq;
};

/* libbpf's words, for the reason a load failed (and the debug log); not
 * while asking every interface for a filter most do not have. */
static char bpf_last[200];
static int quiet;

static int on_libbpf(enum libbpf_print_level lvl, const char *fmt,
		     va_list ap)
{
	char line[512];
	size_t n;

	if (lvl == LIBBPF_DEBUG || quiet)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (n)
		snprintf(bpf_last, sizeof(bpf_last), "%s", line);
	log_msg(LOG_DEBUG, "%s", line);
	return 0;
}

/* ARPHRD_ETHER: the programs read and write an Ethernet header. */
static int is_ether(int ifindex)
{
	char name[IF_NAMESIZE], path[64], buf[16];
	FILE *f;
	int ok = 0;

	if (!if_indextoname((unsigned)ifindex, name))
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	f = fopen(path, "r");
	if (f) {
		ok = fgets(buf, sizeof(buf), f) && atoi(buf) == ARPHRD_ETHER;
		fclose(f);
	}
	return ok;
}

static struct tc_if *if_find(struct tcfast *t, int ifindex)
{
	int i;

	for (i = 0; i < t->nifs; i++)
		if (t->ifs[i].ifindex == ifindex)
			return &t->ifs[i];
	return NULL;
}

static int tc_attach(int ifindex, int prog_fd, int *created)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
			    .priority = TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int rc = bpf_tc_hook_create(&hook);

	if (rc < 0 && rc != -EEXIST)
		return rc;
	*created = rc == 0;
	return bpf_tc_attach(&hook, &opts);
}

/* The clsact qdisc of ifindex goes when no filter is left on it. */
static void qdisc_drop_if_empty(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char name[IF_NAMESIZE], in[64], eg[64];
	char *lsi[] = { "tc", "filter", "show", "dev", name, "ingress", NULL };
	char *lse[] = { "tc", "filter", "show", "dev", name, "egress", NULL };

	if (!if_indextoname((unsigned)ifindex, name))
		return;
	in[0] = eg[0] = 0;
	if (run_cmd(lsi, NULL, in, sizeof(in)) == 0 &&
	    run_cmd(lse, NULL, eg, sizeof(eg)) == 0 && !in[0] && !eg[0])
		bpf_tc_hook_destroy(&hook);
}

/* Ours gone; the qdisc too when we made it and nothing else is on it. */
static void tc_detach(int ifindex, int created)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
			    .priority = TC_PRIO);

	bpf_tc_detach(&hook, &opts);
	if (created)
		qdisc_drop_if_empty(ifindex);
}

/* A killed run's filters (ours by handle and priority) go first: their
 * maps hold calls no one keeps any more (a restart puts the saved calls
 * into the new maps).  The qdisc that run made goes with them. */
void tcfast_sweep(void)
{
	struct if_nameindex *ifs = if_nameindex(), *p;

	if (!ifs)
		return;
	libbpf_set_print(on_libbpf);
	quiet = 1;
	for (p = ifs; p->if_index; p++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook,
				    .ifindex = (int)p->if_index,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
				    .priority = TC_PRIO);

		if (bpf_tc_query(&hook, &opts) == 0) {
			opts.prog_fd = 0;
			opts.prog_id = 0;
			opts.flags = 0;
			bpf_tc_detach(&hook, &opts);
			qdisc_drop_if_empty((int)p->if_index);
			log_info("fast path: removed a tc filter an earlier run "
				 "left on %s", p->if_name);
		}
	}
	quiet = 0;
	if_freenameindex(ifs);
}

static int if_add_as(struct tcfast *t, int ifindex, const struct fpb_if *fi)
{
	struct tc_if *e;
	int prog = fi->role == FPB_IF_WAN ? t->prog_in : t->prog_out;
	int rc, created = 0;

	if (t->nifs == MAX_IFS)
		return -ENOSPC;
	rc = bpf_map_update_elem(t->ifs_fd, &ifindex, fi, BPF_ANY);
	if (rc < 0)
		return rc;
	rc = tc_attach(ifindex, prog, &created);
	if (rc < 0) {
		bpf_map_delete_elem(t->ifs_fd, &ifindex);
		return rc;
	}
	e = &t->ifs[t->nifs++];
	e->ifindex = ifindex;
	e->created = created;
	e->role = fi->role;
	return 0;
}

static int if_add(struct tcfast *t, int ifindex, uint32_t role)
{
	struct fpb_if fi;

	memset(&fi, 0, sizeof(fi));
	fi.role = role;
	return if_add_as(t, ifindex, &fi);
}

static int load(struct tcfast *t, uint32_t max_calls, char *why, size_t n)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "pptpgw");
	struct bpf_map *in, *out;
	int rc;

	t->obj = bpf_object__open_mem(tcfast_obj,
				      (size_t)(tcfast_obj_end - tcfast_obj),
				      &oo);
	if (!t->obj) {
		snprintf(why, n, "tc-BPF: cannot open its programs: %s",
			 strerror(errno));
		return -1;
	}
	in = bpf_object__find_map_by_name(t->obj, "fpb_in");
	out = bpf_object__find_map_by_name(t->obj, "fpb_out");
	if (!in || !out) {
		snprintf(why, n, "tc-BPF: its maps are missing");
		return -1;
	}
	bpf_map__set_max_entries(in, max_calls ? max_calls : 1);
	bpf_map__set_max_entries(out, max_calls ? max_calls : 1);
	bpf_last[0] = 0;
	rc = bpf_object__load(t->obj);
	if (rc < 0) {
		snprintf(why, n, "tc-BPF: the kernel refused the programs: "
			 "%s%s%s", strerror(-rc), bpf_last[0] ? ": " : "",
			 bpf_last);
		return -1;
	}
	t->in_fd = bpf_map__fd(in);
	t->out_fd = bpf_map__fd(out);
	t->ifs_fd = bpf_map__fd(bpf_object__find_map_by_name(t->obj,
							     "fpb_ifs"));
	t->prog_in = bpf_program__fd(bpf_object__find_program_by_name(
		t->obj, "gre_in"));
	t->prog_out = bpf_program__fd(bpf_object__find_program_by_name(
		t->obj, "gre_out"));
	return 0;
}

struct tcfast *tcfast_open(char wan[][16], int nwan, uint32_t max_calls,
			   char *why, size_t n)
{
	struct tcfast *t = calloc(1, sizeof(*t));
	struct timeval tv = { 1, 0 };
	int i;

	libbpf_set_print(on_libbpf);
	if (!t) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0 ||
	    !(t->vals = calloc((size_t)t->ncpu, sizeof(*t->vals)))) {
		snprintf(why, n, "tc-BPF: cannot count the CPUs");
		goto fail;
	}
	t->rt = mnl_socket_open(NETLINK_ROUTE);
	if (!t->rt || mnl_socket_bind(t->rt, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(why, n, "route netlink: %s", strerror(errno));
		goto fail;
	}
	/* the kernel answers a route lookup at once; never wait long */
	setsockopt(mnl_socket_get_fd(t->rt), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (load(t, max_calls, why, n) < 0)
		goto fail;
	tcfast_sweep();
	for (i = 0; i < nwan; i++) {
		int ifx = (int)if_nametoindex(wan[i]), rc;

		if (!ifx || !is_ether(ifx)) {
			snprintf(why, n, "tc-BPF: WAN %s is %s", wan[i],
				 ifx ? "not Ethernet" : "missing");
			goto fail;
		}
		rc = if_add(t, ifx, FPB_IF_WAN);
		if (rc < 0) {
			snprintf(why, n, "tc-BPF: attaching to %s: %s", wan[i],
				 strerror(-rc));
			goto fail;
		}
	}
	return t;
fail:
	tcfast_close(t);
	return NULL;
}

static void tc_free(struct tcfast *t)
{
	bpf_object__close(t->obj);
	if (t->rt)
		mnl_socket_close(t->rt);
	free(t->vals);
	free(t);
}

void tcfast_close(struct tcfast *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nifs; i++)
		tc_detach(t->ifs[i].ifindex, t->ifs[i].created);
	tc_free(t);
}

void tcfast_leave(struct tcfast *t)
{
	if (t)
		tc_free(t);
}

struct route_ans {
	uint32_t oif;
	uint8_t type;
};

static int route_attr(const struct nlattr *a, void *arg)
{
	struct route_ans *r = arg;

	if (mnl_attr_get_type(a) == RTA_OIF &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		r->oif = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct route_ans *r = arg;
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);

	r->type = rm->rtm_type;
	return mnl_attr_parse(nlh, sizeof(*rm), route_attr, arg);
}

/* The interface the stack sends dst (network order) out of, or 0. */
static uint32_t route_oif(struct tcfast *t, uint32_t dst)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rm;
	struct route_ans r = { 0, 0 };
	uint32_t seq = ++t->rt_seq;
	ssize_t len;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = AF_INET;
	rm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, dst);
	if (mnl_socket_sendto(t->rt, nlh, nlh->nlmsg_len) < 0)
		return 0;
	len = mnl_socket_recvfrom(t->rt, buf, sizeof(buf));
	if (len <= 0 || mnl_cb_run(buf, (size_t)len, seq,
				   mnl_socket_get_portid(t->rt), route_msg,
				   &r) < 0)
		return 0;
	return r.type == RTN_UNICAST ? r.oif : 0;
}

/* A line of sysfs of interface ifindex (attr, e.g. "address"), or -1. */
static int sys_read(int ifindex, const char *attr, char *buf, size_t n)
{
	char name[IF_NAMESIZE], path[128];
	FILE *f;
	int ok;

	if (!if_indextoname((unsigned)ifindex, name))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, attr);
	if (!(f = fopen(path, "r")))
		return -1;
	ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/*
 * gre_out on every port of bridge br not yet carrying it, so the hosts
 * behind them skip the bridge: ports come and go (a VM's tap), so this
 * runs at every call.  A bridge that filters VLANs keeps its frames: the
 * VLAN decides where they may go, and the bridge alone knows it.
 */
static void bridge_ports(struct tcfast *t, int br)
{
	char name[IF_NAMESIZE], path[128], buf[32];
	struct fpb_if fi;
	struct dirent *d;
	unsigned m[6];
	DIR *dir;
	int i;

	/* (no such file: a kernel without VLAN filtering) */
	if ((sys_read(br, "bridge/vlan_filtering", buf, sizeof(buf)) == 0 &&
	     atoi(buf) != 0) ||
	    sys_read(br, "address", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) != 6 || !if_indextoname((unsigned)br, name))
		return;
	memset(&fi, 0, sizeof(fi));
	fi.role = FPB_IF_PORT;
	fi.l3 = (uint32_t)br;
	for (i = 0; i < 6; i++)
		fi.mac[i] = (uint8_t)m[i];
	snprintf(path, sizeof(path), "/sys/class/net/%s/brif", name);
	if (!(dir = opendir(path)))
		return;
	while ((d = readdir(dir))) {
		int port = (int)if_nametoindex(d->d_name);

		if (d->d_name[0] == '.' || !port || if_find(t, port) ||
		    !is_ether(port))
			continue;
		if (if_add_as(t, port, &fi) < 0)
			log_msg(LOG_DEBUG, "fast path: no tc-BPF on bridge "
				"port %s", d->d_name);
	}
	closedir(dir);
}

int tcfast_lan(struct tcfast *t, uint32_t inside_addr)
{
	int oif = (int)route_oif(t, inside_addr);
	struct tc_if *e;
	char buf[32];

	if (!oif)
		return -1;
	e = if_find(t, oif);
	if (e && e->role != FPB_IF_LAN)
		return -1;
	if (!e && (!is_ether(oif) || if_add(t, oif, FPB_IF_LAN) < 0))
		return -1;
	if (sys_read(oif, "bridge/forward_delay", buf, sizeof(buf)) == 0)
		bridge_ports(t, oif);
	return 0;
}

static int map_fd(struct tcfast *t, int out)
{
	return out ? t->out_fd : t->in_fd;
}

int tcfast_put(struct tcfast *t, int out, const struct fpb_key *k,
	       const struct fpb_val *v)
{
	int i;

	for (i = 0; i < t->ncpu; i++)
		t->vals[i] = *v;
	return bpf_map_update_elem(map_fd(t, out), k, t->vals, BPF_ANY) < 0
		       ? -errno : 0;
}

int tcfast_del(struct tcfast *t, int out, const struct fpb_key *k)
{
	return bpf_map_delete_elem(map_fd(t, out), k) < 0 ? -errno : 0;
}

int tcfast_count(struct tcfast *t, int out, const struct fpb_key *k,
		 uint64_t *pkts, uint64_t *bytes, uint32_t *slot)
{
	int i;

	if (bpf_map_lookup_elem(map_fd(t, out), k, t->vals) < 0)
		return -errno;
	*pkts = *bytes = 0;
	for (i = 0; i < t->ncpu; i++) {
		*pkts += t->vals[i].pkts;
		*bytes += t->vals[i].bytes;
	}
	*slot = t->vals[0].slot;
	return 0;
}

#else /* built without libbpf */

void tcfast_sweep(void)
{
}

struct tcfast *tcfast_open(char wan[][16], int nwan, uint32_t max_calls,
			   char *why, size_t n)
{
	(void)wan;
	(void)nwan;
	(void)max_calls;
	snprintf(why, n, "tc-BPF: this pptpgw was built without it");
	return NULL;
}

void tcfast_close(struct tcfast *t)
{
	(void)t;
}

void tcfast_leave(struct tcfast *t)
{
	(void)t;
}

int tcfast_lan(struct tcfast *t, uint32_t inside_addr)
{
	(void)t;
	(void)inside_addr;
	return -1;
}

int tcfast_put(struct tcfast *t, int out, const struct fpb_key *k,
	       const struct fpb_val *v)
{
	(void)t, (void)out, (void)k, (void)v;
	return -ENOSYS;
}

int tcfast_del(struct tcfast *t, int out, const struct fpb_key *k)
{
	(void)t, (void)out, (void)k;
	return -ENOSYS;
}

int tcfast_count(struct tcfast *t, int out, const struct fpb_key *k,
		 uint64_t *pkts, uint64_t *bytes, uint32_t *slot)
{
	(void)t, (void)out, (void)k, (void)pkts, (void)bytes, (void)slot;
	return -ENOSYS;
}
#endif
