/*
 * Tests for vbatch.c, the NFQUEUE verdict batch: the messages parse back
 * as the kernel reads them, a receive batch's verdicts leave in one send,
 * datagrams respect their byte and iovec limits, copied payloads are
 * copies, and a failed send loses nothing and repeats nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "wire/vbatch.h"
#include "check.h"

#define QNUM 7

/* What the kernel got: the datagrams, concatenated, and their sizes. */
struct sink {
	uint8_t data[1 << 20];
	size_t len;
	unsigned sends;
	size_t max_dgram;
	int max_iov;
	int fail;               /* the next sends to refuse */
	int fail_after;         /* sends to let through before that */
};

static ssize_t sink_send(void *arg, const struct iovec *iov, int niov,
			 size_t len)
{
	struct sink *s = arg;
	size_t got = 0;
	int i;

	if (s->fail_after > 0)
		s->fail_after--;
	else if (s->fail > 0) {
		s->fail--;
		errno = ENOBUFS;
		return -1;
	}
	for (i = 0; i < niov; i++) {
		memcpy(s->data + s->len + got, iov[i].iov_base, iov[i].iov_len);
		got += iov[i].iov_len;
	}
	CHECK_EQ(len, got);
	s->len += got;
	s->sends++;
	if (got > s->max_dgram)
		s->max_dgram = got;
	if (niov > s->max_iov)
		s->max_iov = niov;
	return (ssize_t)got;
}

struct verdict {
	uint32_t id, verdict, mark;
	const uint8_t *data;
	size_t len;
};

/* Parse the sink as nfnetlink_queue would; returns the messages read. */
static unsigned parse(const struct sink *s, struct verdict *out, unsigned max)
{
	size_t off = 0;
	unsigned n = 0;

	while (off < s->len && n < max) {
		struct nlmsghdr nh;
		struct nfgenmsg g;
		size_t a, end;

		memcpy(&nh, s->data + off, sizeof(nh));
		CHECK(nh.nlmsg_len >= NLMSG_HDRLEN + sizeof(g));
		CHECK(off + nh.nlmsg_len <= s->len);
		if (nh.nlmsg_len < NLMSG_HDRLEN + sizeof(g) ||
		    off + nh.nlmsg_len > s->len)
			break;
		CHECK_EQ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT,
			 nh.nlmsg_type);
		CHECK_EQ(NLM_F_REQUEST, nh.nlmsg_flags);
		memcpy(&g, s->data + off + NLMSG_HDRLEN, sizeof(g));
		CHECK_EQ(QNUM, ntohs(g.res_id));
		CHECK_EQ(NFNETLINK_V0, g.version);
		memset(&out[n], 0, sizeof(out[n]));
		out[n].id = UINT32_MAX;
		end = off + nh.nlmsg_len;
		for (a = off + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g)); a < end;) {
			struct nlattr at;
			const uint8_t *v = s->data + a + NLA_HDRLEN;

			memcpy(&at, s->data + a, sizeof(at));
			CHECK(at.nla_len >= NLA_HDRLEN && a + at.nla_len <= end);
			if (at.nla_len < NLA_HDRLEN || a + at.nla_len > end)
				break;
			if (at.nla_type == NFQA_VERDICT_HDR) {
				struct nfqnl_msg_verdict_hdr vh;

				memcpy(&vh, v, sizeof(vh));
				out[n].id = ntohl(vh.id);
				out[n].verdict = ntohl(vh.verdict);
			} else if (at.nla_type == NFQA_MARK) {
				uint32_t m;

				memcpy(&m, v, 4);
				out[n].mark = ntohl(m);
			} else if (at.nla_type == NFQA_PAYLOAD) {
				out[n].data = v;
				out[n].len = at.nla_len - NLA_HDRLEN;
			}
			a += NLA_ALIGN(at.nla_len);
		}
		CHECK_EQ(end, a);
		off += NLMSG_ALIGN(nh.nlmsg_len);
		n++;
	}
	CHECK_EQ(s->len, off);
	return n;
}

static struct sink *sink_new(void)
{
	return calloc(1, sizeof(struct sink));
}

static void test_messages(void)
{
	static uint8_t rx[4096], held[333];
	struct vbatch b;
	struct sink *s = sink_new();
	struct verdict v[8];
	size_t i;

	for (i = 0; i < sizeof(rx); i++)
		rx[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(held); i++)
		held[i] = (uint8_t)(i ^ 0x5a);
	CHECK_EQ(0, vbatch_init(&b, QNUM, 4096, 16, 65536));
	vbatch_keep(&b, rx, sizeof(rx));
	CHECK_EQ(0, vbatch_add(&b, 11, NF_DROP, 0, NULL, 0));
	CHECK_EQ(0, vbatch_add(&b, 12, NF_REPEAT, 0x10000, NULL, 0));
	/* Referenced, odd length: padding comes from elsewhere. */
	CHECK_EQ(0, vbatch_add(&b, 13, NF_REPEAT, 0x40, rx + 100, 1001));
	/* Copied, odd length. */
	CHECK_EQ(0, vbatch_add(&b, 14, NF_ACCEPT, 0, held, sizeof(held)));
	CHECK_EQ(0, vbatch_add(&b, 15, NF_REPEAT, 0x40, rx + 2000, 40));
	CHECK_EQ(5, vbatch_pending(&b));
	/* A held segment's copy is freed right after its verdict. */
	memset(held, 0, sizeof(held));
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(0, vbatch_pending(&b));
	CHECK_EQ(1, s->sends);
	CHECK_EQ(5, parse(s, v, 8));
	CHECK_EQ(11, v[0].id);
	CHECK_EQ(NF_DROP, v[0].verdict);
	CHECK_EQ(0, v[0].mark);
	CHECK(v[0].data == NULL);
	CHECK_EQ(12, v[1].id);
	CHECK_EQ(NF_REPEAT, v[1].verdict);
	CHECK_EQ(0x10000, v[1].mark);
	CHECK_EQ(13, v[2].id);
	CHECK_EQ(0x40, v[2].mark);
	CHECK_EQ(1001, v[2].len);
	CHECK_MEM(rx + 100, v[2].data, 1001);
	CHECK_EQ(14, v[3].id);
	CHECK_EQ(NF_ACCEPT, v[3].verdict);
	CHECK_EQ(333, v[3].len);
	for (i = 0; i < 333; i++)
		held[i] = (uint8_t)(i ^ 0x5a);
	CHECK_MEM(held, v[3].data, 333);
	CHECK_EQ(15, v[4].id);
	CHECK_MEM(rx + 2000, v[4].data, 40);
	vbatch_free(&b);
	free(s);
}

/* A receive batch of 64 rewritten GRE packets: 64 verdicts, one send. */
static void test_one_send(void)
{
	static uint8_t rx[64 * 1500];
	struct vbatch b;
	struct sink *s = sink_new();
	struct verdict v[80];
	unsigned i;

	CHECK_EQ(0, vbatch_init(&b, QNUM, 16384, 128, 256 << 10));
	vbatch_keep(&b, rx, sizeof(rx));
	for (i = 0; i < 64; i++) {
		memset(rx + i * 1500, (int)i, 1500);
		CHECK_EQ(0, vbatch_add(&b, 1000 + i, NF_REPEAT, 0x40,
				       rx + i * 1500, 1397));
	}
	/* Nothing leaves before the flush. */
	CHECK_EQ(0, s->sends);
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(1, s->sends);
	CHECK_EQ(64, parse(s, v, 80));
	for (i = 0; i < 64; i++) {
		CHECK_EQ(1000 + i, v[i].id);
		CHECK_EQ(1397, v[i].len);
		CHECK_MEM(rx + i * 1500, v[i].data, 1397);
	}
	vbatch_free(&b);
	free(s);
}

/* Datagrams stay within max_send bytes and VBATCH_IOV_MAX iovecs. */
static void test_limits(void)
{
	static uint8_t rx[2048];
	struct vbatch b;
	struct sink *s = sink_new();
	static struct verdict v[2100];
	unsigned i;

	CHECK_EQ(0, vbatch_init(&b, QNUM, 1 << 20, 2000, 8192));
	vbatch_keep(&b, rx, sizeof(rx));
	for (i = 0; i < 100; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_REPEAT, 1, rx, 1001));
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK(s->sends >= 100 * 1001 / 8192 + 1);
	CHECK(s->max_dgram <= 8192);
	CHECK_EQ(100, parse(s, v, 2100));
	for (i = 0; i < 100; i++)
		CHECK_EQ(i, v[i].id);

	/* Three iovecs each (head, payload, padding): the iovec cap. */
	memset(s, 0, sizeof(*s));
	b.max_send = 1 << 30;
	for (i = 0; i < 1000; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_REPEAT, 1, rx, 3));
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(4, s->sends);
	CHECK(s->max_iov <= VBATCH_IOV_MAX);
	CHECK_EQ(1000, parse(s, v, 2100));
	for (i = 0; i < 1000; i++)
		CHECK_EQ(i, v[i].id);

	/* Heads without payloads share one iovec. */
	memset(s, 0, sizeof(*s));
	for (i = 0; i < 1500; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_DROP, 0, NULL, 0));
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(1, s->sends);
	CHECK_EQ(1, s->max_iov);
	CHECK_EQ(1500, parse(s, v, 2100));
	vbatch_free(&b);
	free(s);
}

/* Full: -1, and nothing appended; a flush makes room. */
static void test_full(void)
{
	struct vbatch b;
	struct sink *s = sink_new();
	unsigned i;

	CHECK_EQ(0, vbatch_init(&b, QNUM, 4096, 8, 65536));
	for (i = 0; i < 8; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_DROP, 0, NULL, 0));
	CHECK_EQ(-1, vbatch_add(&b, 8, NF_DROP, 0, NULL, 0));
	CHECK_EQ(8, vbatch_pending(&b));
	/* Bytes run out too: a copied payload larger than the room. */
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	{
		static uint8_t big[5000];

		CHECK_EQ(-1, vbatch_add(&b, 9, NF_ACCEPT, 0, big, sizeof(big)));
		CHECK_EQ(0, vbatch_pending(&b));
		CHECK_EQ(0, vbatch_grow(&b));
		CHECK_EQ(0, vbatch_add(&b, 9, NF_ACCEPT, 0, big, sizeof(big)));
	}
	CHECK_EQ(1, vbatch_pending(&b));
	vbatch_free(&b);
	free(s);
}

/*
 * The kernel refuses a send: every verdict stays pending; the next flush
 * sends each exactly once, in order, those added meanwhile too.
 */
static void test_failed_send(void)
{
	static uint8_t rx[4096];
	struct vbatch b;
	struct sink *s = sink_new();
	static struct verdict v[400];
	unsigned i;

	CHECK_EQ(0, vbatch_init(&b, QNUM, 8192, 64, 4096));
	vbatch_keep(&b, rx, sizeof(rx));
	for (i = 0; i < 64; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_REPEAT, 1, rx + i, 200));
	/* The first datagram passes, the second is refused. */
	s->fail_after = 1;
	s->fail = 1;
	CHECK_EQ(-1, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(ENOBUFS, errno);
	CHECK(vbatch_pending(&b) > 0 && vbatch_pending(&b) < 64);
	/* Still failing, and full: it grows. */
	s->fail = 2;
	CHECK_EQ(-1, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(-1, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(-1, vbatch_add(&b, 64, NF_DROP, 0, NULL, 0));
	CHECK_EQ(0, vbatch_grow(&b));
	for (i = 64; i < 100; i++)
		CHECK_EQ(0, vbatch_add(&b, i, NF_DROP, 0, NULL, 0));
	CHECK_EQ(0, vbatch_flush(&b, sink_send, s));
	CHECK_EQ(0, vbatch_pending(&b));
	CHECK_EQ(100, parse(s, v, 400));
	for (i = 0; i < 100; i++)
		CHECK_EQ(i, v[i].id);
	for (i = 0; i < 64; i++)
		CHECK_MEM(rx + i, v[i].data, 200);
	vbatch_free(&b);
	free(s);
}

static const struct check_case cases[] = {
	CHECK_CASE(messages),
	CHECK_CASE(one_send),
	CHECK_CASE(limits),
	CHECK_CASE(full),
	CHECK_CASE(failed_send),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
