/*
 * ctfill: inserts N established TCP entries into this namespace's
 * conntrack table over netlink, quickly (the conntrack command takes a
 * process per entry), for the tests that need a burst of conntrack events:
 * a flush of them overflows an event listener that is not reading.
 * Tuples: 198.18.N.M:P -> 192.0.2.7:80, all different, never port 1723.
 * Usage: ctfill N        prints "inserted K"; exit 1 if none could be.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

static int insert(struct nfct_handle *h, unsigned i)
{
	struct nf_conntrack *ct = nfct_new();
	/* i = (third octet, fourth octet, port) in base 40000, 200, 200 */
	uint32_t src = htonl(0xc6120000u | (1 + i / 40000) << 8 |
			     (1 + i / 200 % 200));
	int r;

	if (!ct)
		return -1;
	nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u32(ct, ATTR_IPV4_SRC, src);
	nfct_set_attr_u32(ct, ATTR_IPV4_DST, htonl(0xc0000207u));
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons((uint16_t)(20000 + i % 200)));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(80));
	nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
	nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, 600);
	r = nfct_query(h, NFCT_Q_CREATE, ct);
	nfct_destroy(ct);
	return r;
}

int main(int argc, char **argv)
{
	struct nfct_handle *h;
	unsigned n, i, ok = 0;

	if (argc != 2 || (n = (unsigned)strtoul(argv[1], NULL, 10)) == 0 ||
	    n > 1000000) {
		fprintf(stderr, "usage: ctfill N (1..1000000)\n");
		return 2;
	}
	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		perror("ctfill: nfct_open");
		return 1;
	}
	for (i = 0; i < n; i++)
		if (insert(h, i) == 0)
			ok++;
	nfct_close(h);
	printf("inserted %u\n", ok);
	return ok ? 0 : 1;
}
