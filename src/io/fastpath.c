#include "io/fastpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>

#include "io/fpnl.h"
#include "io/rules.h"
#include "log.h"

/* A call's batch is a few hundred bytes; a dump part is at most a page
 * per message, several per read. */
#define BATCH_SIZE 8192
#define RECV_SIZE (256 * 1024)

/* After the queue rules' raw notrack (-300) and conntrack, before the
 * mangle chains that queue GRE (-150). */
#define FP_PRIORITY "-160"

#define EGRE "ip protocol gre @th,0,32 & 0xef7fffff == 0x2001880b"

struct fastpath {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char *batch, *rbuf;
	struct fp_rec *recs;
	uint32_t nrecs;
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
		"priority " FP_PRIORITY "; policy accept;\n\t\tiifname ");
	print_ifs(f, c);
	fprintf(f, " " EGRE " ip daddr set %s map @in_addr "
		"@th,48,16 set %s map @in_id meta mark set meta mark | 0x%x\n"
		"\t}\n", key, key, c->mark);
	fprintf(f, "\tchain forward {\n\t\ttype filter hook forward "
		"priority " FP_PRIORITY "; policy accept;\n\t\toifname ");
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

struct fastpath *fastpath_open(const struct fastpath_cfg *c, char *why,
			       size_t n)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));

	if (!fp || !(fp->batch = malloc(BATCH_SIZE)) ||
	    !(fp->rbuf = malloc(RECV_SIZE)) ||
	    !(fp->recs = calloc(c->slots, sizeof(*fp->recs)))) {
		snprintf(why, n, "out of memory");
		goto fail;
	}
	fp->nrecs = c->slots;
	fp->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!fp->nl || mnl_socket_bind(fp->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(why, n, "nf_tables netlink: %s", strerror(errno));
		goto fail;
	}
	fp->portid = mnl_socket_get_portid(fp->nl);
	fp->seq = (uint32_t)time(NULL);
	if (table_load(c, why, n) < 0)
		goto fail;
	return fp;
fail:
	if (fp && fp->nl)
		mnl_socket_close(fp->nl);
	if (fp) {
		free(fp->batch);
		free(fp->rbuf);
		free(fp->recs);
	}
	free(fp);
	return NULL;
}

void fastpath_close(struct fastpath *fp)
{
	if (!fp)
		return;
	table_delete();
	mnl_socket_close(fp->nl);
	free(fp->batch);
	free(fp->rbuf);
	free(fp->recs);
	free(fp);
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

static int read_one(struct fastpath *fp, const struct fp_elem *e,
		    fastpath_count_fn fn, void *arg);

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
	rc = elems_apply(fp, 1, e, FPM_COUNT, slot);
	took(&fp->st.install_us_max, t0);
	if (rc < 0) {
		static struct log_rl rl;

		fp->st.errors++;
		log_limited(&rl, LOG_WARNING, "fast path: call %u stays on the "
			    "queue: the kernel refused its entries: %s", slot,
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
	struct fp_elem e[FPM_COUNT];
	struct fp_rec *r;
	uint64_t t0;
	int rc;

	if (!fp || slot >= fp->nrecs || !fp->recs[slot].installed)
		return;
	r = &fp->recs[slot];
	fp_elems(&r->x, e);
	/* What it carried since the last read would be lost with it. */
	if (fn && (read_one(fp, &e[FPM_IN_ADDR], fn, arg) < 0 ||
		   read_one(fp, &e[FPM_OUT_ADDR], fn, arg) < 0))
		fp->st.errors++;
	t0 = mono_us();
	rc = elems_apply(fp, 0, e, FPM_COUNT, slot);
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
	if (dir >= 0 && dp)
		c->fn(c->arg, slot, dir, dp, db);
}

static int dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	fpnl_parse(nlh, count_elem, arg);
	return MNL_CB_OK;
}

/* The answer to one request: elements to count_elem, until its end. */
static int answer(struct fastpath *fp, uint32_t seq, struct read_ctx *c)
{
	ssize_t r;
	int rc;

	do {
		r = mnl_socket_recvfrom(fp->nl, fp->rbuf, RECV_SIZE);
		if (r <= 0)
			return -1;
		rc = mnl_cb_run(fp->rbuf, (size_t)r, seq, fp->portid,
				dump_cb, c);
	} while (rc > MNL_CB_STOP);
	return rc < 0 ? -1 : 0;
}

static int read_map(struct fastpath *fp, enum fp_map m, struct read_ctx *c)
{
	uint32_t seq = fp->seq++;
	struct nlmsghdr *nlh = fpnl_dump_req(fp->batch, m, seq);

	if (!nlh || mnl_socket_sendto(fp->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return answer(fp, seq, c);
}

static int read_one(struct fastpath *fp, const struct fp_elem *e,
		    fastpath_count_fn fn, void *arg)
{
	struct read_ctx c = { fp, fn, arg };
	uint32_t seq = fp->seq++;
	struct nlmsghdr *nlh = fpnl_get_req(fp->batch, e, seq);

	if (!nlh || mnl_socket_sendto(fp->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return answer(fp, seq, &c);
}

int fastpath_read(struct fastpath *fp, fastpath_count_fn fn, void *arg)
{
	struct read_ctx c = { fp, fn, arg };
	uint64_t t0 = mono_us();
	int rc = 0;

	if (!fp)
		return 0;
	fp->st.reads++;
	if (!fp->st.calls)
		return 0;
	if (read_map(fp, FPM_IN_ADDR, &c) < 0 ||
	    read_map(fp, FPM_OUT_ADDR, &c) < 0) {
		fp->st.errors++;
		rc = -1;
	}
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
