/*
 * tcprog: runs pptpgw's tc-BPF programs (the object file the build makes)
 * on crafted packets with BPF_PROG_TEST_RUN, in the network namespace it
 * is started in (tests/e2e/t_tcprog.sh makes one: a WAN and a LAN veth,
 * routes, permanent neighbours).  Each case gives a packet, the program
 * (gre_in as if it came in on the WAN, gre_out on the LAN) and the verdict
 * and bytes expected: translated and redirected, or left to the stack
 * byte for byte.  Prints one line a case; exits 1 if any failed.
 * PORT stands for a port of a bridge whose routes are LAN's.
 * Usage: tcprog OBJ WAN LAN PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlate/fpbpf.h"

#define PUB "192.0.2.1"          /* the WAN's address */
#define SRV "203.0.113.5"        /* the server, via 192.0.2.254 */
#define IN1 "198.18.0.11"        /* inside host, a permanent neighbour */
#define IN2 "198.18.0.12"        /* inside host with no neighbour entry */
#define IN3 "198.18.0.13"        /* another inside host, a neighbour */
#define SPOOF "203.0.113.99"
#define ALIAS 0x4001
#define IN_ID 0x1234
#define PEER_ID 0x0384
#define GW_LLADDR_WAN "\x02\x00\x00\x00\x00\xfe"  /* the WAN next hop */
#define IN1_LLADDR "\x02\x00\x00\x00\x00\x11"

static int failed, ran;
static int ncpu, fd_in, fd_out, fd_ifs, prog_in, prog_out, wan, lan, port;
/* the MAC the bridge port's entry names as the bridge's */
#define BR_MAC "\x02\x00\x00\x00\x00\xb0"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct pkt {
	uint8_t b[2048];
	size_t len;
};

/* Ethernet + IPv4 + enhanced GRE with a sequence number and payload. */
static void mk(struct pkt *p, const char *src, const char *dst, uint16_t call,
	       size_t payload)
{
	uint8_t *e = p->b, *h = e + 14, *g = h + 20;
	uint32_t s = ip(src), d = ip(dst);
	size_t iplen = 20 + 12 + payload;

	memset(p, 0, sizeof(*p));
	memcpy(e, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	e[12] = 0x08;
	h[0] = 0x45;
	h[2] = (uint8_t)(iplen >> 8);
	h[3] = (uint8_t)iplen;
	h[8] = 64;
	h[9] = 47;
	memcpy(h + 12, &s, 4);
	memcpy(h + 16, &d, 4);
	g[0] = 0x30;                     /* K, S */
	g[1] = 0x01;                     /* version 1 */
	g[2] = 0x88;
	g[3] = 0x0b;
	g[4] = (uint8_t)(payload >> 8);
	g[5] = (uint8_t)payload;
	g[6] = (uint8_t)(call >> 8);
	g[7] = (uint8_t)call;
	g[11] = 7;                       /* sequence number */
	memset(g + 12, 0xa5, payload);
	p->len = 14 + iplen;
}

static void fix_csum(struct pkt *p)
{
	uint16_t c;

	p->b[24] = p->b[25] = 0;
	c = csum(p->b + 14, (size_t)(p->b[14] & 0xf) * 4);
	p->b[24] = (uint8_t)(c >> 8);
	p->b[25] = (uint8_t)c;
}

static int run(int prog, int ifindex, const struct pkt *p, struct pkt *out)
{
	struct __sk_buff ctx = { .ifindex = (uint32_t)ifindex,
				 .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
		    .data_size_in = (uint32_t)p->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o) < 0) {
		fprintf(stderr, "test run: %s\n", strerror(errno));
		return -1;
	}
	out->len = o.data_size_out;
	return (int)o.retval;
}

static void result(const char *name, int ok, const char *why)
{
	ran++;
	if (!ok)
		failed++;
	printf("%s: %s%s%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : ": ",
	       ok ? "" : why);
}

/* Left to the stack: TC_ACT_OK and not a byte changed. */
static void untouched(const char *name, int prog, int ifindex,
		      const struct pkt *p)
{
	struct pkt o;
	int rc = run(prog, ifindex, p, &o);
	char why[64];

	snprintf(why, sizeof(why), "verdict %d, %zu bytes", rc, o.len);
	result(name, rc == TC_ACT_OK && o.len == p->len &&
			     !memcmp(o.b, p->b, p->len), why);
}

static uint64_t count(int fd, uint32_t src, uint32_t dst, uint16_t call)
{
	struct fpb_key k = { src, dst, htons(call), 0 };
	struct fpb_val *v = calloc((size_t)ncpu, sizeof(*v));
	uint64_t n = 0;
	int i;

	if (v && bpf_map_lookup_elem(fd, &k, v) == 0)
		for (i = 0; i < ncpu; i++)
			n += v[i].pkts;
	free(v);
	return n;
}

static int put_oif(int fd, uint32_t src, uint32_t dst, uint16_t call,
		   uint32_t addr, uint16_t id, uint16_t version, uint32_t oif)
{
	struct fpb_key k = { src, dst, htons(call), 0 };
	struct fpb_val *v = calloc((size_t)ncpu, sizeof(*v));
	int i, rc;

	for (i = 0; v && i < ncpu; i++) {
		v[i].addr = addr;
		v[i].call = htons(id);
		v[i].version = version;
		v[i].slot = 5;
		v[i].oif = oif;
	}
	rc = v ? bpf_map_update_elem(fd, &k, v, BPF_ANY) : -1;
	free(v);
	return rc;
}

static int put(int fd, uint32_t src, uint32_t dst, uint16_t call,
	       uint32_t addr, uint16_t id, uint16_t version)
{
	return put_oif(fd, src, dst, call, addr, id, version, 0);
}

/*
 * A call's record names the WAN its control connection leaves by: when
 * that is where the route leads, the GRE goes; when the route leads out
 * of another (a fwmark, set after this program, routes the connection
 * elsewhere), the stack routes it.
 */
static void wan_of_call(void)
{
	struct pkt p, o;
	int rc;

	mk(&p, IN1, SRV, PEER_ID + 1, 100);
	fix_csum(&p);
	rc = run(prog_out, lan, &p, &o);
	result("out: the record's WAN is the route's: translated and "
	       "redirected", rc == TC_ACT_REDIRECT &&
	       !memcmp(o.b + 14 + 12, &(uint32_t){ ip(PUB) }, 4),
	       "verdict or bytes differ");
	mk(&p, IN1, SRV, PEER_ID + 2, 100);
	fix_csum(&p);
	untouched("out: the record names another WAN than the route's",
		  prog_out, lan, &p);
}

static void translated_in(void)
{
	struct pkt p, o, want;
	uint64_t c0 = count(fd_in, ip(SRV), ip(PUB), ALIAS);
	int rc;

	mk(&p, SRV, PUB, ALIAS, 100);
	fix_csum(&p);
	want = p;
	memcpy(want.b + 14 + 16, &(uint32_t){ ip(IN1) }, 4);
	want.b[14 + 20 + 6] = IN_ID >> 8;
	want.b[14 + 20 + 7] = IN_ID & 0xff;
	want.b[14 + 8]--;
	memcpy(want.b, IN1_LLADDR, 6);
	fix_csum(&want);
	rc = run(prog_in, wan, &p, &o);
	/* the source MAC is the LAN's own: take it from the output */
	memcpy(want.b + 6, o.b + 6, 6);
	result("in: translated, TTL down, checksum right, to the inside "
	       "host's MAC, redirected", rc == TC_ACT_REDIRECT &&
	       o.len == want.len && !memcmp(o.b, want.b, want.len),
	       "verdict or bytes differ");
	result("in: counted once", count(fd_in, ip(SRV), ip(PUB), ALIAS) ==
	       c0 + 1, "count");
}

static void translated_out(void)
{
	struct pkt p, o, want;
	int rc;

	mk(&p, IN1, SRV, PEER_ID, 1400);
	fix_csum(&p);
	want = p;
	memcpy(want.b + 14 + 12, &(uint32_t){ ip(PUB) }, 4);
	want.b[14 + 8]--;
	memcpy(want.b, GW_LLADDR_WAN, 6);
	fix_csum(&want);
	rc = run(prog_out, lan, &p, &o);
	memcpy(want.b + 6, o.b + 6, 6);
	result("out: source set to the public address, TTL down, checksum "
	       "right, to the WAN's next hop, redirected",
	       rc == TC_ACT_REDIRECT && o.len == want.len &&
	       !memcmp(o.b, want.b, want.len), "verdict or bytes differ");
}

/* On a bridge port: only frames sent to the bridge, routed as from it. */
static void bridge_port(void)
{
	struct pkt p, o;
	int rc;

	mk(&p, IN1, SRV, PEER_ID, 100);
	memcpy(p.b, BR_MAC, 6);
	fix_csum(&p);
	rc = run(prog_out, port, &p, &o);
	result("out on a bridge port: a frame to the bridge's MAC is "
	       "translated and redirected", rc == TC_ACT_REDIRECT &&
	       !memcmp(o.b, GW_LLADDR_WAN, 6) &&
	       !memcmp(o.b + 14 + 12, &(uint32_t){ ip(PUB) }, 4),
	       "verdict or bytes differ");
	mk(&p, IN1, SRV, PEER_ID, 100);
	fix_csum(&p);                    /* to 02:..:01, another host */
	untouched("out on a bridge port: a frame to another MAC (bridged, "
		  "or for another router)", prog_out, port, &p);
}

static void left_alone(void)
{
	struct pkt p;

	mk(&p, SPOOF, PUB, ALIAS, 100);
	fix_csum(&p);
	untouched("in: spoofed source (no entry)", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS + 1, 100);
	fix_csum(&p);
	untouched("in: another alias (no entry)", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 6] = 0x20;              /* more fragments */
	fix_csum(&p);
	untouched("in: a first fragment", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 7] = 0x10;              /* an offset */
	fix_csum(&p);
	untouched("in: a later fragment", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 8] = 1;
	fix_csum(&p);
	untouched("in: TTL 1 (the stack answers it)", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 20 + 1] = 0x00;         /* GRE version 0 */
	fix_csum(&p);
	untouched("in: GRE version 0", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 20] |= 0x80;            /* checksum present */
	fix_csum(&p);
	untouched("in: GRE with a checksum", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 20 + 3] = 0x00;         /* not PPP */
	fix_csum(&p);
	untouched("in: GRE of another protocol", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.b[14 + 2] = 0x05;              /* IP length beyond the frame */
	fix_csum(&p);
	untouched("in: IP length beyond the frame", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	p.len = 14 + 20 + 6;             /* cut inside the GRE header */
	untouched("in: cut inside the GRE header", prog_in, wan, &p);
	mk(&p, SRV, PUB, ALIAS, 100);
	memmove(p.b + 14 + 24, p.b + 14 + 20, p.len - 14 - 20);
	memset(p.b + 14 + 20, 1, 4);     /* NOP options */
	p.b[14] = 0x46;
	p.b[14 + 3] += 4;
	p.len += 4;
	fix_csum(&p);
	untouched("in: IP options", prog_in, wan, &p);
	mk(&p, IN1, SRV, PEER_ID, 100);
	fix_csum(&p);
	untouched("in: the right keys but arriving as gre_in from the "
		  "other side's addresses", prog_in, wan, &p);
	mk(&p, SRV, PUB, 0x4002, 100);
	fix_csum(&p);
	untouched("in: an entry for a host with no neighbour entry",
		  prog_in, wan, &p);
	mk(&p, SRV, PUB, 0x4003, 100);
	fix_csum(&p);
	untouched("in: an entry of another format version", prog_in, wan, &p);
	mk(&p, IN1, IN3, PEER_ID, 100);
	fix_csum(&p);
	untouched("out: an entry whose route leads back inside", prog_out,
		  lan, &p);
	mk(&p, IN1, SRV, PEER_ID, 1700);
	fix_csum(&p);
	untouched("out: too big for the WAN's MTU", prog_out, lan, &p);
}

static int setup(const char *obj_path)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct fpb_if fi;

	/* sized at load, as pptpgw sizes them for its call table */
	if (obj) {
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj,
						"fpb_in"), 16);
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj,
						"fpb_out"), 16);
	}
	if (!obj || bpf_object__load(obj) < 0) {
		fprintf(stderr, "cannot load %s\n", obj_path);
		return -1;
	}
	ncpu = libbpf_num_possible_cpus();
	fd_in = bpf_map__fd(bpf_object__find_map_by_name(obj, "fpb_in"));
	fd_out = bpf_map__fd(bpf_object__find_map_by_name(obj, "fpb_out"));
	fd_ifs = bpf_map__fd(bpf_object__find_map_by_name(obj, "fpb_ifs"));
	prog_in = bpf_program__fd(bpf_object__find_program_by_name(obj,
								   "gre_in"));
	prog_out = bpf_program__fd(bpf_object__find_program_by_name(obj,
								    "gre_out"));
	memset(&fi, 0, sizeof(fi));
	fi.role = FPB_IF_WAN;
	bpf_map_update_elem(fd_ifs, &wan, &fi, BPF_ANY);
	fi.role = FPB_IF_LAN;
	bpf_map_update_elem(fd_ifs, &lan, &fi, BPF_ANY);
	fi.role = FPB_IF_PORT;
	fi.l3 = (uint32_t)lan;
	memcpy(fi.mac, BR_MAC, 6);
	bpf_map_update_elem(fd_ifs, &port, &fi, BPF_ANY);
	if (put(fd_in, ip(SRV), ip(PUB), ALIAS, ip(IN1), IN_ID, FPB_VERSION) ||
	    put(fd_out, ip(IN1), ip(SRV), PEER_ID, ip(PUB), 0, FPB_VERSION) ||
	    put(fd_out, ip(IN1), ip(IN3), PEER_ID, ip(PUB), 0, FPB_VERSION) ||
	    put(fd_in, ip(SRV), ip(PUB), 0x4002, ip(IN2), IN_ID, FPB_VERSION) ||
	    put(fd_in, ip(SRV), ip(PUB), 0x4003, ip(IN1), IN_ID, 99) ||
	    put_oif(fd_out, ip(IN1), ip(SRV), PEER_ID + 1, ip(PUB), 0,
		    FPB_VERSION, (uint32_t)wan) ||
	    put_oif(fd_out, ip(IN1), ip(SRV), PEER_ID + 2, ip(PUB), 0,
		    FPB_VERSION, (uint32_t)wan + 1000)) {
		fprintf(stderr, "cannot fill the maps: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: tcprog OBJ WAN LAN PORT\n");
		return 2;
	}
	wan = (int)if_nametoindex(argv[2]);
	lan = (int)if_nametoindex(argv[3]);
	port = (int)if_nametoindex(argv[4]);
	if (!wan || !lan || !port || setup(argv[1]) < 0)
		return 2;
	translated_in();
	translated_out();
	bridge_port();
	wan_of_call();
	left_alone();
	printf("%d passed, %d failed\n", ran - failed, failed);
	return failed ? 1 : 0;
}
