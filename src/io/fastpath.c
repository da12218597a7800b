#include "io/fastpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>

#include "io/fpnl.h"
#include "io/rules.h"
#include "io/tcfast.h"
#include "log.h"

/* A call's batch is a few hundred bytes; a dump part is at most a page
 * per message, several per read. */
#define BATCH_SIZE 8192
#define RECV_SIZE (256 * 1024)
/*
 * Counters are read a slice of calls at a time, one slice a tick (250
 * ms): 2,048 calls a second, each read at least once a second up to that
 * many calls, and never a pause of the loop that grows with the table (a
 * dump of a 50,000-element map took the kernel 0.5 to 1.3 s).
 */
#define READ_SLICE 512
#define GET_MAX 512                      /* bytes of one GET request */
#define RCVBUF_BYTES (4 << 20)           /* a slice's answers, with room */

/*
 * Prerouting: after defragmentation (-400), before the raw table (-300)
 * and conntrack (-200), so that this chain untracks enhanced GRE itself
 * (the queue rules then need no raw chain: a chain less for every
 * packet).  Forward: before the mangle chain that queues GRE (-150).
 */
#define FP_PRE_PRIORITY "-310"
#define FP_FWD_PRIORITY "-160"

#define EGRE "ip protocol gre @th,0,32 & 0xef7fffff == 0x2001880b"

struct fastpath {
	struct tcfast *tc;               /* the tc-BPF engine, or NULL: nftables */
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char *batch, *rbuf;
	struct fp_rec *recs;
	uint32_t nrecs, cursor;
	struct fp_elem *slice;           /* READ_SLICE calls' counted elements */
	char *qbuf;                      /* their GET requests */
	struct fp_stats st;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Keeps the longest time since t0 in *max. */
static void took(uint32_t *max, uint64_t t0)
{
	uint64_t d = mono_us() - t0;

	if (d > *max)
		*max = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void print_ifs(FILE *f, const struct fastpath_cfg *c)
{
	int i;

	/* One name is one comparison; a set of them, a lookup. */
	if (c->nwan == 1) {
		fprintf(f, "\"%s\"", c->wan[0]);
		return;
	}
	fprintf(f, "{ ");
	for (i = 0; i < c->nwan; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", c->wan[i]);
	fprintf(f, " }");
}

/*
 * One rule per direction does all of a packet's rewrites: a map that has
 * no entry for the packet ends the rule there, so a packet is translated
 * wholly or not at all, and an untranslated one goes on to the queue.
 * Translated packets carry the mark the queue rules let by.
 */
void fastpath_print_nft(FILE *f, const struct fastpath_cfg *c)
{
	const char *key = "ip saddr . ip daddr . @th,48,16";

	fprintf(f, "table ip " FP_TABLE " {\n");
	fprintf(f, "\tmap in_addr {\n\t\ttypeof %s : ip daddr\n"
		"\t\tcounter\n\t}\n", key);
	fprintf(f, "\tmap in_id {\n\t\ttypeof %s : @th,48,16\n\t}\n", key);
	fprintf(f, "\tmap out_addr {\n\t\ttypeof %s : ip saddr\n"
		"\t\tcounter\n\t}\n", key);
	fprintf(f, "\tchain prerouting {\n\t\ttype filter hook prerouting "
		"priority " FP_PRE_PRIORITY "; policy accept;\n"
		"\t\t" EGRE " notrack\n\t\tiifname ");
	print_ifs(f, c);
	fprintf(f, " " EGRE " ip daddr set %s map @in_addr "
		"@th,48,16 set %s map @in_id meta mark set meta mark | 0x%x\n"
		"\t}\n", key, key, c->mark);
	fprintf(f, "\tchain forward {\n\t\ttype filter hook forward "
		"priority " FP_FWD_PRIORITY "; policy accept;\n\t\toifname ");
	print_ifs(f, c);
	fprintf(f, " " EGRE " ip saddr set %s map @out_addr "
		"meta mark set meta mark | 0x%x\n\t}\n}\n", key, c->mark);
}

static int table_load(const struct fastpath_cfg *c, char *why, size_t n)
{
	char *argv[] = { "nft", "-f", "-", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	/* Replace a leftover table in the same transaction. */
	fprintf(f, "table ip " FP_TABLE "\ndelete table ip " FP_TABLE "\n");
	fastpath_print_nft(f, c);
	fclose(f);
	rc = run_cmd(argv, text, NULL, 0);
	free(text);
	if (rc == 127 || rc < 0)
		snprintf(why, n, "cannot run nft");
	else if (rc != 0)
		snprintf(why, n, "nft -f refused the table (exit %d)", rc);
	return rc == 0 ? 0 : -1;
}

static void table_delete(void)
{
	char *argv[] = { "nft", "delete", "table", "ip", FP_TABLE, NULL };
	char sink[256];

	run_cmd(argv, NULL, sink, sizeof(sink));
}

/* Room for a slice's answers, and a bound on waiting for them. */
static void socket_sizes(int fd)
{
	int sz = RCVBUF_BYTES;
	struct timeval tv = { 2, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void fp_free(struct fastpath *fp, int leave)
{
	if (!fp)
		return;
	if (leave)
		tcfast_leave(fp->tc);
	else
		tcfast_close(fp->tc);
	if (fp->nl)
		mnl_socket_close(fp->nl);
	free(fp->batch);
	free(fp->rbuf);
	free(fp->qbuf);
	free(fp->slice);
	free(fp->recs);
	free(fp);
}

static int nft_open(struct fastpath *fp, const struct fastpath_cfg *c,
		    char *why, size_t n)
{
	if (!(fp->batch = malloc(BATCH_SIZE)) ||
	    !(fp->rbuf = malloc(RECV_SIZE)) ||
	    !(fp->qbuf = malloc(2 * READ_SLICE * GET_MAX)) ||
	    !(fp->slice = calloc(2 * READ_SLICE, sizeof(*fp->slice)))) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	fp->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!fp->nl || mnl_socket_bind(fp->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(why, n, "nf_tables netlink: %s", strerror(errno));
		return -1;
	}
	fp->portid = mnl_socket_get_portid(fp->nl);
	socket_sizes(mnl_socket_get_fd(fp->nl));
	fp->seq = (uint32_t)time(NULL);
	return table_load(c, why, n);
}

struct fastpath *fastpath_open(const struct fastpath_cfg *c, char *why,
			       size_t n)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));
	char tcwhy[256];

	if (!fp || !(fp->recs = calloc(c->slots ? c->slots : 1,
				       sizeof(*fp->recs)))) {
		snprintf(why, n, "out of memory");
		fp_free(fp, 0);
		return NULL;
	}
	fp->nrecs = c->slots ? c->slots : 1;
	if (c->engine != FP_ENGINE_NFT) {
		fp->tc = tcfast_open((char (*)[16])c->wan, c->nwan, fp->nrecs,
				     tcwhy, sizeof(tcwhy));
		if (fp->tc) {
			table_delete();  /* an earlier nftables run's */
			return fp;
		}
		if (c->engine == FP_ENGINE_TC) {
			snprintf(why, n, "%s", tcwhy);
			fp_free(fp, 0);
			return NULL;
		}
		log_info("fast path: %s; using nftables", tcwhy);
	}
	if (nft_open(fp, c, why, n) < 0) {
		fp_free(fp, 0);
		return NULL;
	}
	return fp;
}

void fastpath_remove_leftovers(void)
{
	table_delete();
	tcfast_sweep();
}

const char *fastpath_engine(const struct fastpath *fp)
{
	return fp && fp->tc ? "tc-bpf" : "nftables";
}

int fastpath_untracks_gre(const struct fastpath *fp)
{
	return fp && !fp->tc;
}

void fastpath_close(struct fastpath *fp)
{
	if (!fp)
		return;
	if (!fp->tc)
		table_delete();
	fp_free(fp, 0);
}

void fastpath_leave(struct fastpath *fp)
{
	fp_free(fp, 1);
}

/*
 * Sends a batch.  The kernel runs it as one transaction inside the send,
 * so its answer is waiting when the send returns: only errors are asked
 * for (no NLM_F_ACK), and none waiting means it was applied.
 */
static int batch_send(struct fastpath *fp, struct mnl_nlmsg_batch *b)
{
	ssize_t r;

	if (mnl_socket_sendto(fp->nl, mnl_nlmsg_batch_head(b),
			      mnl_nlmsg_batch_size(b)) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh;

		int len;

		r = recv(mnl_socket_get_fd(fp->nl), fp->rbuf, RECV_SIZE,
			 MSG_DONTWAIT);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0
								     : -errno;
		len = (int)r;
		for (nlh = (const struct nlmsghdr *)fp->rbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error)
				return e->error;
		}
	}
}

/* One transaction with the elements e[0..n-1], added or deleted. */
static int elems_apply(struct fastpath *fp, int add, const struct fp_elem *e,
		       int n, uint32_t slot)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(fp->batch,
							  BATCH_SIZE / 2);
	char tag[FP_TAG_MAX];
	size_t taglen = fp_tag_put(tag, slot);
	int i, rc = -ENOSPC;

	if (!b)
		return -ENOMEM;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), fp->seq++);
	mnl_nlmsg_batch_next(b);
	for (i = 0; i < n; i++)
		if (fpnl_elem_msg(b, add, &e[i], tag, taglen, fp->seq++) < 0)
			goto out;
	nftnl_batch_end(mnl_nlmsg_batch_current(b), fp->seq++);
	mnl_nlmsg_batch_next(b);
	rc = batch_send(fp, b);
out:
	mnl_nlmsg_batch_stop(b);
	return rc;
}

static int read_one_call(struct fastpath *fp, struct fp_rec *r,
			 fastpath_count_fn fn, void *arg);

/* The call's two tc-BPF entries, in or out; -errno from the first that
 * failed (an add that fails half way takes back what it added). */
static int tc_apply(struct fastpath *fp, int add, const struct call_xlat *x,
		    uint32_t slot)
{
	struct fpb_key ik, ok;
	struct fpb_val iv, ov;
	int rc;

	if (fp_bpf_entries(x, slot, &ik, &iv, &ok, &ov) < 0)
		return -EINVAL;
	if (!add) {
		rc = tcfast_del(fp->tc, 0, &ik);
		return tcfast_del(fp->tc, 1, &ok) < 0 && rc == 0 ? -ENOENT : rc;
	}
	/* The host's interface must carry gre_out before its entry counts. */
	if (tcfast_lan(fp->tc, htonl(x->inside)) < 0)
		return -ENODEV;
	rc = tcfast_put(fp->tc, 0, &ik, &iv);
	if (rc == 0 && (rc = tcfast_put(fp->tc, 1, &ok, &ov)) < 0)
		tcfast_del(fp->tc, 0, &ik);
	return rc;
}

/* The call's entries, in or out, by the engine in use. */
static int call_apply(struct fastpath *fp, int add,
		      const struct call_xlat *x, uint32_t slot)
{
	struct fp_elem e[FPM_COUNT];

	if (fp->tc)
		return tc_apply(fp, add, x, slot);
	if (fp_elems(x, e) != FPM_COUNT)
		return -EINVAL;
	return elems_apply(fp, add, e, FPM_COUNT, slot);
}

int fastpath_call_up(struct fastpath *fp, uint32_t slot,
		     const struct call_xlat *x)
{
	struct fp_elem e[FPM_COUNT];
	struct fp_rec *r;
	uint64_t t0;
	int rc;

	if (!fp || slot >= fp->nrecs)
		return -1;
	r = &fp->recs[slot];
	if (r->installed)
		fastpath_call_end(fp, slot, NULL, NULL);
	if (fp_elems(x, e) != FPM_COUNT)
		return -1;
	t0 = mono_us();
	rc = call_apply(fp, 1, x, slot);
	took(&fp->st.install_us_max, t0);
	if (rc < 0) {
		static struct log_rl rl;

		fp->st.errors++;
		log_limited(&rl, LOG_WARNING, "fast path: call %u stays on the "
			    "queue: %s", slot, rc == -ENODEV ?
			    "its host's interface cannot carry tc-BPF" :
			    strerror(-rc));
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->installed = 1;
	r->slot = slot;
	r->x = *x;
	fp->st.installed++;
	fp->st.calls++;
	return 0;
}

void fastpath_call_end(struct fastpath *fp, uint32_t slot,
		       fastpath_count_fn fn, void *arg)
{
	struct fp_rec *r;
	uint64_t t0;
	int rc;

	if (!fp || slot >= fp->nrecs || !fp->recs[slot].installed)
		return;
	r = &fp->recs[slot];
	/* What it carried since the last read would be lost with it. */
	if (fn && read_one_call(fp, r, fn, arg) < 0)
		fp->st.errors++;
	t0 = mono_us();
	rc = call_apply(fp, 0, &r->x, slot);
	took(&fp->st.remove_us_max, t0);
	if (rc < 0) {
		static struct log_rl rl;

		/* The alias is held down: GRE that still matches goes to a
		 * host whose call just ended, as with late queued GRE. */
		fp->st.errors++;
		log_limited(&rl, LOG_WARNING, "fast path: removing call %u's "
			    "entries: %s", slot, strerror(-rc));
	}
	r->installed = 0;
	fp->st.removed++;
	fp->st.calls--;
}

int fastpath_has(const struct fastpath *fp, uint32_t slot)
{
	return fp && slot < fp->nrecs && fp->recs[slot].installed;
}

struct read_ctx {
	struct fastpath *fp;
	fastpath_count_fn fn;
	void *arg;
};

static void count_elem(void *arg, const struct fpnl_elem *e)
{
	struct read_ctx *c = arg;
	uint64_t dp = 0, db = 0;
	uint32_t slot;
	int dir;

	if (!e->counted || !e->tag ||
	    fp_tag_get(e->tag, e->taglen, &slot) < 0 ||
	    slot >= c->fp->nrecs)
		return;
	dir = fp_rec_count(&c->fp->recs[slot], e->map, e->key, e->klen,
			   e->pkts, e->bytes, &dp, &db);
	/* Nothing new is news too: the call was read (its idle time). */
	if (dir >= 0)
		c->fn(c->arg, slot, dir, dp, db);
}

/*
 * GETs for e[0..n-1], all in one datagram.  The kernel answers inside the
 * send (each element, then an ack; an element already gone, an error
 * instead), so the answers wait in our receive buffer, which is sized for
 * a slice at start; SO_RCVTIMEO bounds the wait if one went missing.
 */
static int get_elems(struct fastpath *fp, const struct fp_elem *e, int n,
		     struct read_ctx *c)
{
	uint32_t first = fp->seq;
	size_t off = 0;
	int i, done = 0;

	for (i = 0; i < n; i++) {
		struct nlmsghdr *nlh = fpnl_get_req(fp->qbuf + off, &e[i],
						    fp->seq++);

		if (!nlh)
			return -1;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (n == 0)
		return 0;
	if (mnl_socket_sendto(fp->nl, fp->qbuf, off) < 0)
		return -1;
	while (done < n) {
		const struct nlmsghdr *nlh;
		ssize_t r = recv(mnl_socket_get_fd(fp->nl), fp->rbuf,
				 RECV_SIZE, 0);
		int len;

		if (r <= 0)
			return -1;
		len = (int)r;
		for (nlh = (const struct nlmsghdr *)fp->rbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq - first >= (uint32_t)n)
				continue;    /* an answer to something older */
			if (nlh->nlmsg_type == NLMSG_ERROR)
				done++;
			else
				fpnl_parse(nlh, count_elem, c);
		}
	}
	return 0;
}

/* One call's tc-BPF counters, both ways, given to fn as growth. */
static int tc_read_call(struct fastpath *fp, struct fp_rec *r,
			fastpath_count_fn fn, void *arg)
{
	struct fp_elem e[FPM_COUNT];
	struct fpb_key k[2];
	struct fpb_val v[2];
	static const enum fp_map m[2] = { FPM_IN_ADDR, FPM_OUT_ADDR };
	int i, rc = 0;

	if (fp_elems(&r->x, e) != FPM_COUNT ||
	    fp_bpf_entries(&r->x, r->slot, &k[0], &v[0], &k[1], &v[1]) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		uint64_t p, b, dp = 0, db = 0;
		uint32_t slot;
		int dir;

		if (tcfast_count(fp->tc, i, &k[i], &p, &b, &slot) < 0) {
			rc = -1;
			continue;
		}
		if (slot != r->slot)
			continue;        /* another call's entry now */
		dir = fp_rec_count(r, m[i], e[m[i]].key, FP_KEY_LEN, p, b,
				   &dp, &db);
		if (dir >= 0)
			fn(arg, r->slot, dir, dp, db);
	}
	return rc;
}

static int read_one_call(struct fastpath *fp, struct fp_rec *r,
			 fastpath_count_fn fn, void *arg)
{
	struct read_ctx c = { fp, fn, arg };
	struct fp_elem e[FPM_COUNT], q[2];

	if (fp->tc)
		return tc_read_call(fp, r, fn, arg);
	fp_elems(&r->x, e);
	q[0] = e[FPM_IN_ADDR];
	q[1] = e[FPM_OUT_ADDR];
	return get_elems(fp, q, 2, &c);
}

/* The next READ_SLICE calls from where the last read stopped, one by one
 * (a lookup each, no pause of the loop). */
static int tc_read(struct fastpath *fp, fastpath_count_fn fn, void *arg)
{
	uint32_t seen, ncalls = 0;
	int rc = 0;

	for (seen = 0; seen < fp->nrecs && ncalls < READ_SLICE; seen++) {
		struct fp_rec *r = &fp->recs[fp->cursor];

		fp->cursor = (fp->cursor + 1) % fp->nrecs;
		if (!r->installed)
			continue;
		if (tc_read_call(fp, r, fn, arg) < 0)
			rc = -1;
		ncalls++;
	}
	return rc;
}

int fastpath_read(struct fastpath *fp, fastpath_count_fn fn, void *arg)
{
	struct read_ctx c = { fp, fn, arg };
	uint64_t t0 = mono_us();
	uint32_t seen, ncalls = 0;
	int rc = 0;

	if (!fp || !fp->st.calls)
		return 0;
	fp->st.reads++;
	if (fp->tc) {
		rc = tc_read(fp, fn, arg);
		if (rc < 0)
			fp->st.errors++;
		goto out;
	}
	/* The next READ_SLICE calls from where the last slice stopped. */
	for (seen = 0; seen < fp->nrecs && ncalls < READ_SLICE; seen++) {
		const struct fp_rec *r = &fp->recs[fp->cursor];
		struct fp_elem e[FPM_COUNT];

		fp->cursor = (fp->cursor + 1) % fp->nrecs;
		if (!r->installed)
			continue;
		fp_elems(&r->x, e);
		fp->slice[2 * ncalls] = e[FPM_IN_ADDR];
		fp->slice[2 * ncalls + 1] = e[FPM_OUT_ADDR];
		ncalls++;
	}
	if (get_elems(fp, fp->slice, (int)(2 * ncalls), &c) < 0) {
		fp->st.errors++;
		rc = -1;
	}
out:
	fp->st.read_us_last = 0;
	took(&fp->st.read_us_last, t0);
	return rc;
}

const struct fp_rec *fastpath_rec(const struct fastpath *fp, uint32_t slot)
{
	return fp && slot < fp->nrecs ? &fp->recs[slot] : NULL;
}

struct fp_stats fastpath_stats(const struct fastpath *fp)
{
	struct fp_stats z;

	if (fp)
		return fp->st;
	memset(&z, 0, sizeof(z));
	return z;
}
