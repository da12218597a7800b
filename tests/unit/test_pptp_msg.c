/*
 * Tests for pptp_msg.c.  The layouts below are a second, independent copy
 * of RFC 2637's field tables: the test builds the expected bytes from them
 * by hand and compares with what the module writes and reads, so a slip in
 * either table shows up as a mismatch instead of agreeing with itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/pptp_msg.h"

struct tfield {
	int id;      /* enum pptp_field, or enum pptp_blob when size >= 64 */
	int off;
	int size;
};

struct tlayout {
	int len;
	int n;
	struct tfield f[12];
};

static const struct tlayout spec[PPTP_TYPE_MAX + 1] = {
	[PPTP_SCCRQ] = { 156, 8, {
		{ PF_PROTO_VERSION, 12, 2 }, { PF_RESERVED1, 14, 2 },
		{ PF_FRAMING_CAPS, 16, 4 }, { PF_BEARER_CAPS, 20, 4 },
		{ PF_MAX_CHANNELS, 24, 2 }, { PF_FIRMWARE_REV, 26, 2 },
		{ PB_HOSTNAME, 28, 64 }, { PB_VENDOR, 92, 64 } } },
	[PPTP_SCCRP] = { 156, 9, {
		{ PF_PROTO_VERSION, 12, 2 }, { PF_RESULT, 14, 1 },
		{ PF_ERROR, 15, 1 }, { PF_FRAMING_CAPS, 16, 4 },
		{ PF_BEARER_CAPS, 20, 4 }, { PF_MAX_CHANNELS, 24, 2 },
		{ PF_FIRMWARE_REV, 26, 2 }, { PB_HOSTNAME, 28, 64 },
		{ PB_VENDOR, 92, 64 } } },
	[PPTP_STOPCCRQ] = { 16, 3, {
		{ PF_REASON, 12, 1 }, { PF_RESERVED1, 13, 1 },
		{ PF_RESERVED2, 14, 2 } } },
	[PPTP_STOPCCRP] = { 16, 3, {
		{ PF_RESULT, 12, 1 }, { PF_ERROR, 13, 1 },
		{ PF_RESERVED2, 14, 2 } } },
	[PPTP_ECHORQ] = { 16, 1, { { PF_IDENTIFIER, 12, 4 } } },
	[PPTP_ECHORP] = { 20, 4, {
		{ PF_IDENTIFIER, 12, 4 }, { PF_RESULT, 16, 1 },
		{ PF_ERROR, 17, 1 }, { PF_RESERVED1, 18, 2 } } },
	[PPTP_OCRQ] = { 168, 12, {
		{ PF_CALL_ID, 12, 2 }, { PF_CALL_SERIAL, 14, 2 },
		{ PF_MIN_BPS, 16, 4 }, { PF_MAX_BPS, 20, 4 },
		{ PF_BEARER_TYPE, 24, 4 }, { PF_FRAMING_TYPE, 28, 4 },
		{ PF_RECV_WINDOW, 32, 2 }, { PF_PROC_DELAY, 34, 2 },
		{ PF_PHONE_LEN, 36, 2 }, { PF_RESERVED1, 38, 2 },
		{ PB_PHONE, 40, 64 }, { PB_SUBADDR, 104, 64 } } },
	[PPTP_OCRP] = { 32, 9, {
		{ PF_CALL_ID, 12, 2 }, { PF_PEER_CALL_ID, 14, 2 },
		{ PF_RESULT, 16, 1 }, { PF_ERROR, 17, 1 },
		{ PF_CAUSE, 18, 2 }, { PF_CONNECT_SPEED, 20, 4 },
		{ PF_RECV_WINDOW, 24, 2 }, { PF_PROC_DELAY, 26, 2 },
		{ PF_PHYS_CHANNEL, 28, 4 } } },
	[PPTP_ICRQ] = { 220, 9, {
		{ PF_CALL_ID, 12, 2 }, { PF_CALL_SERIAL, 14, 2 },
		{ PF_BEARER_TYPE, 16, 4 }, { PF_PHYS_CHANNEL, 20, 4 },
		{ PF_DIALED_LEN, 24, 2 }, { PF_DIALING_LEN, 26, 2 },
		{ PB_DIALED, 28, 64 }, { PB_DIALING, 92, 64 },
		{ PB_SUBADDR, 156, 64 } } },
	[PPTP_ICRP] = { 24, 7, {
		{ PF_CALL_ID, 12, 2 }, { PF_PEER_CALL_ID, 14, 2 },
		{ PF_RESULT, 16, 1 }, { PF_ERROR, 17, 1 },
		{ PF_RECV_WINDOW, 18, 2 }, { PF_PROC_DELAY, 20, 2 },
		{ PF_RESERVED1, 22, 2 } } },
	[PPTP_ICCN] = { 28, 6, {
		{ PF_PEER_CALL_ID, 12, 2 }, { PF_RESERVED1, 14, 2 },
		{ PF_CONNECT_SPEED, 16, 4 }, { PF_RECV_WINDOW, 20, 2 },
		{ PF_PROC_DELAY, 22, 2 }, { PF_FRAMING_TYPE, 24, 4 } } },
	[PPTP_CCRQ] = { 16, 2, {
		{ PF_CALL_ID, 12, 2 }, { PF_RESERVED1, 14, 2 } } },
	[PPTP_CDN] = { 148, 6, {
		{ PF_CALL_ID, 12, 2 }, { PF_RESULT, 14, 1 },
		{ PF_ERROR, 15, 1 }, { PF_CAUSE, 16, 2 },
		{ PF_RESERVED1, 18, 2 }, { PB_STATS, 20, 128 } } },
	[PPTP_WEN] = { 40, 8, {
		{ PF_PEER_CALL_ID, 12, 2 }, { PF_RESERVED1, 14, 2 },
		{ PF_CRC_ERRORS, 16, 4 }, { PF_FRAMING_ERRORS, 20, 4 },
		{ PF_HW_OVERRUNS, 24, 4 }, { PF_BUF_OVERRUNS, 28, 4 },
		{ PF_TIMEOUT_ERRORS, 32, 4 }, { PF_ALIGN_ERRORS, 36, 4 } } },
	[PPTP_SLI] = { 24, 4, {
		{ PF_PEER_CALL_ID, 12, 2 }, { PF_RESERVED1, 14, 2 },
		{ PF_SEND_ACCM, 16, 4 }, { PF_RECV_ACCM, 20, 4 } } },
};

static int is_blob(const struct tfield *f)
{
	return f->size >= 64;
}

/*
 * Byte k (big-endian) of field i.  Bytes differ inside a field, so a swapped
 * byte order shows, and between fields, so a misplaced field shows; none is
 * zero, so a field that is never written or read shows too.
 */
static uint8_t field_byte(int i, int k, int size)
{
	if (size >= 64)
		return (uint8_t)((i * 37 + k) % 255 + 1);
	return (uint8_t)(0x10 * (k + 1) + i + 1);
}

static uint32_t field_num(int i, int size)
{
	uint32_t v = 0;
	int k;

	for (k = 0; k < size; k++)
		v = v << 8 | field_byte(i, k, size);
	return v;
}

/* A message with every field set, and the bytes the spec says it has. */
static void make_msg(unsigned t, struct pptp_msg *m, uint8_t *wire)
{
	const struct tlayout *l = &spec[t];
	int i, k;

	memset(m, 0, sizeof(*m));
	m->type = (uint16_t)t;
	m->reserved0 = (uint16_t)(0xA500 + t);	/* non-zero must survive */
	memset(wire, 0, PPTP_MAX_LEN);
	wire[0] = (uint8_t)(l->len >> 8);
	wire[1] = (uint8_t)l->len;
	wire[2] = 0x00;
	wire[3] = 0x01;
	wire[4] = 0x1A;
	wire[5] = 0x2B;
	wire[6] = 0x3C;
	wire[7] = 0x4D;
	wire[8] = 0x00;
	wire[9] = (uint8_t)t;
	wire[10] = 0xA5;
	wire[11] = (uint8_t)t;
	for (i = 0; i < l->n; i++) {
		const struct tfield *f = &l->f[i];

		for (k = 0; k < f->size; k++)
			wire[f->off + k] = field_byte(i, k, f->size);
		if (is_blob(f))
			memcpy(m->blob[f->id], wire + f->off, (size_t)f->size);
		else
			m->num[f->id] = field_num(i, f->size);
	}
}

static uint8_t *heap_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(c, p, n);
	return c;
}

/* The spec tables themselves: contiguous from 12, ending at the length. */
static void test_spec_tables(void)
{
	unsigned t;
	int i;

	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		const struct tlayout *l = &spec[t];
		int end = PPTP_HDR_LEN;

		for (i = 0; i < l->n; i++) {
			CHECK_EQ(end, l->f[i].off);
			end = l->f[i].off + l->f[i].size;
		}
		CHECK_EQ(l->len, end);
		CHECK_EQ(l->len, pptp_type_len(t));
	}
	CHECK_EQ(0, pptp_type_len(0));
	CHECK_EQ(0, pptp_type_len(PPTP_TYPE_MAX + 1));
}

/* Build, compare with the spec bytes, parse, compare fields, build again. */
static void test_round_trip(void)
{
	uint8_t wire[PPTP_MAX_LEN], out[PPTP_MAX_LEN + 16], out2[PPTP_MAX_LEN];
	struct pptp_msg m, m2;
	unsigned t;
	int i, j;

	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		const struct tlayout *l = &spec[t];
		size_t len = (size_t)l->len, n;
		uint8_t *exact;

		make_msg(t, &m, wire);
		memset(out, 0xEE, sizeof(out));
		n = pptp_build(&m, out, sizeof(out));
		CHECK_EQ(len, n);
		CHECK_MEM(wire, out, len);
		CHECK_EQ(0xEE, out[len]);	/* nothing past the message */

		exact = heap_copy(out, len);
		CHECK_EQ(PPTP_OK, pptp_parse(exact, len, &m2));
		free(exact);
		CHECK_EQ(len, m2.length);
		CHECK_EQ(t, m2.type);
		CHECK_EQ(0xA500 + t, m2.reserved0);
		for (i = 0; i < l->n; i++) {
			const struct tfield *f = &l->f[i];

			if (is_blob(f))
				CHECK_MEM(m.blob[f->id], m2.blob[f->id],
					  (size_t)f->size);
			else
				CHECK_EQ(m.num[f->id], m2.num[f->id]);
		}
		/* Fields the type does not have stay zero. */
		for (j = 0; j < PF_NUM_COUNT; j++) {
			int used = 0;

			for (i = 0; i < l->n; i++)
				if (!is_blob(&l->f[i]) && l->f[i].id == j)
					used = 1;
			if (!used)
				CHECK_EQ(0, m2.num[j]);
		}

		CHECK_EQ(len, pptp_build(&m2, out2, sizeof(out2)));
		CHECK_MEM(out, out2, len);
	}
}

/*
 * Arbitrary body bytes (here a pattern) must come back unchanged: proof
 * that every byte, reserved ones included, belongs to some field.  Bytes
 * after the message must not be consumed.
 */
static void test_every_byte(void)
{
	uint8_t in[PPTP_MAX_LEN + 8], out[PPTP_MAX_LEN];
	struct pptp_msg m;
	unsigned t;
	size_t k, len;

	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		len = pptp_type_len(t);
		for (k = 0; k < sizeof(in); k++)
			in[k] = (uint8_t)(k * 7 + 3 + t);
		in[0] = (uint8_t)(len >> 8);
		in[1] = (uint8_t)len;
		in[2] = 0;
		in[3] = 1;
		in[4] = 0x1A;
		in[5] = 0x2B;
		in[6] = 0x3C;
		in[7] = 0x4D;
		in[8] = 0;
		in[9] = (uint8_t)t;
		CHECK_EQ(PPTP_OK, pptp_parse(in, sizeof(in), &m));
		CHECK_EQ(len, pptp_build(&m, out, sizeof(out)));
		CHECK_MEM(in, out, len);
	}
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Known offsets written out by hand, independent of any table. */
static void test_known_offsets(void)
{
	static const uint8_t echo[16] = {
		0x00, 0x10, 0x00, 0x01, 0x1A, 0x2B, 0x3C, 0x4D,
		0x00, 0x05, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF
	};
	uint8_t buf[PPTP_MAX_LEN];
	struct pptp_msg m;
	uint16_t type = 0, length = 0;

	CHECK_EQ(PPTP_OK, pptp_parse(echo, sizeof(echo), &m));
	CHECK_EQ(PPTP_ECHORQ, m.type);
	CHECK_EQ(0xDEADBEEF, m.num[PF_IDENTIFIER]);
	CHECK_EQ(PPTP_OK, pptp_hdr_check(echo, sizeof(echo), &type, &length));
	CHECK_EQ(PPTP_ECHORQ, type);
	CHECK_EQ(16, length);

	memset(&m, 0, sizeof(m));
	m.type = PPTP_OCRP;
	m.num[PF_CALL_ID] = 0x1234;
	m.num[PF_PEER_CALL_ID] = 0xBEEF;
	m.num[PF_RESULT] = 1;
	CHECK_EQ(32, pptp_build(&m, buf, sizeof(buf)));
	CHECK_EQ(0x00, buf[0]);
	CHECK_EQ(32, buf[1]);
	CHECK_EQ(0x00, buf[2]);
	CHECK_EQ(0x01, buf[3]);
	CHECK_EQ(0x1A, buf[4]);
	CHECK_EQ(0x4D, buf[7]);
	CHECK_EQ(PPTP_OCRP, buf[9]);
	CHECK_EQ(0x12, buf[12]);
	CHECK_EQ(0x34, buf[13]);
	CHECK_EQ(0xBE, buf[14]);
	CHECK_EQ(0xEF, buf[15]);
	CHECK_EQ(1, buf[16]);

	memset(&m, 0, sizeof(m));
	m.type = PPTP_SCCRP;
	m.num[PF_RESULT] = 1;
	m.num[PF_MAX_CHANNELS] = 0x0102;
	CHECK_EQ(156, pptp_build(&m, buf, sizeof(buf)));
	CHECK_EQ(1, buf[14]);
	CHECK_EQ(0x01, buf[24]);
	CHECK_EQ(0x02, buf[25]);

	memset(&m, 0, sizeof(m));
	m.type = PPTP_SLI;
	m.num[PF_RECV_ACCM] = 0xA1B2C3D4;
	CHECK_EQ(24, pptp_build(&m, buf, sizeof(buf)));
	CHECK_EQ(0xA1, buf[20]);
	CHECK_EQ(0xD4, buf[23]);

	memset(&m, 0, sizeof(m));
	m.type = PPTP_ICRQ;
	m.blob[PB_SUBADDR][0] = 0x77;
	m.blob[PB_SUBADDR][63] = 0x88;
	CHECK_EQ(220, pptp_build(&m, buf, sizeof(buf)));
	CHECK_EQ(0x77, buf[156]);
	CHECK_EQ(0x88, buf[219]);

	memset(&m, 0, sizeof(m));
	m.type = PPTP_CDN;
	m.num[PF_CAUSE] = 0x0304;
	m.blob[PB_STATS][127] = 0x99;
	CHECK_EQ(148, pptp_build(&m, buf, sizeof(buf)));
	CHECK_EQ(0x03, buf[16]);
	CHECK_EQ(0x04, buf[17]);
	CHECK_EQ(0x99, buf[147]);
}

/* A valid header of type t in buf (the body is left as it is). */
static void valid_header(uint8_t *buf, unsigned t)
{
	put16(buf, (unsigned)pptp_type_len(t));
	put16(buf + 2, PPTP_MSG_CONTROL);
	buf[4] = 0x1A;
	buf[5] = 0x2B;
	buf[6] = 0x3C;
	buf[7] = 0x4D;
	put16(buf + 8, t);
	put16(buf + 10, 0);
}

static void test_bad_lengths(void)
{
	uint8_t buf[0x10000];
	struct pptp_msg m;
	unsigned t, u;
	size_t i;

	memset(buf, 0, sizeof(buf));
	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		unsigned size = (unsigned)pptp_type_len(t);
		unsigned bad[] = { 0, 1, 11, 12, size - 1, size + 1, 221,
				   0xFFFF };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			valid_header(buf, t);
			put16(buf, bad[i]);
			CHECK_EQ(PPTP_ERR_LENGTH,
				 pptp_hdr_check(buf, PPTP_HDR_LEN, NULL, NULL));
			/* Enough bytes for any length: still the length. */
			CHECK_EQ(PPTP_ERR_LENGTH,
				 pptp_parse(buf, sizeof(buf), &m));
		}
		/* Another type's size is no better. */
		for (u = 1; u <= PPTP_TYPE_MAX; u++) {
			if (pptp_type_len(u) == size)
				continue;
			valid_header(buf, t);
			put16(buf, (unsigned)pptp_type_len(u));
			CHECK_EQ(PPTP_ERR_LENGTH,
				 pptp_parse(buf, sizeof(buf), &m));
		}
	}
}

static void test_bad_header(void)
{
	uint8_t buf[PPTP_MAX_LEN];
	uint16_t type = 0xAAAA, length = 0xAAAA;
	struct pptp_msg m;
	int k;

	memset(buf, 0, sizeof(buf));
	for (k = 4; k < 8; k++) {
		valid_header(buf, PPTP_OCRQ);
		buf[k] ^= 0x01;
		CHECK_EQ(PPTP_ERR_COOKIE, pptp_hdr_check(buf, 12, NULL, NULL));
		CHECK_EQ(PPTP_ERR_COOKIE, pptp_parse(buf, sizeof(buf), &m));
	}
	valid_header(buf, PPTP_OCRQ);
	put16(buf + 2, 2);
	CHECK_EQ(PPTP_ERR_MSGTYPE, pptp_parse(buf, sizeof(buf), &m));
	put16(buf + 2, 0);
	CHECK_EQ(PPTP_ERR_MSGTYPE, pptp_parse(buf, sizeof(buf), &m));
	put16(buf + 2, 0x0100);
	CHECK_EQ(PPTP_ERR_MSGTYPE, pptp_parse(buf, sizeof(buf), &m));

	valid_header(buf, PPTP_OCRQ);
	put16(buf + 8, 0);
	CHECK_EQ(PPTP_ERR_CTRLTYPE, pptp_parse(buf, sizeof(buf), &m));
	put16(buf + 8, 16);
	CHECK_EQ(PPTP_ERR_CTRLTYPE, pptp_parse(buf, sizeof(buf), &m));
	put16(buf + 8, 0x0107);	/* 7 in the wrong byte */
	CHECK_EQ(PPTP_ERR_CTRLTYPE, pptp_parse(buf, sizeof(buf), &m));

	/* Outputs are left alone on failure. */
	CHECK_EQ(PPTP_ERR_CTRLTYPE, pptp_hdr_check(buf, 12, &type, &length));
	CHECK_EQ(0xAAAA, type);
	CHECK_EQ(0xAAAA, length);

	/* Non-zero reserved0 is accepted and kept. */
	valid_header(buf, PPTP_OCRQ);
	put16(buf + 10, 0xFFFF);
	CHECK_EQ(PPTP_OK, pptp_parse(buf, sizeof(buf), &m));
	CHECK_EQ(0xFFFF, m.reserved0);

	/* Check order: short, msgtype, cookie, ctrltype, length. */
	valid_header(buf, PPTP_OCRQ);
	put16(buf, 0);
	put16(buf + 2, 2);
	buf[4] = 0;
	put16(buf + 8, 0);
	CHECK_EQ(PPTP_ERR_SHORT, pptp_hdr_check(buf, 11, NULL, NULL));
	CHECK_EQ(PPTP_ERR_MSGTYPE, pptp_hdr_check(buf, 12, NULL, NULL));
	put16(buf + 2, 1);
	CHECK_EQ(PPTP_ERR_COOKIE, pptp_hdr_check(buf, 12, NULL, NULL));
	buf[4] = 0x1A;
	CHECK_EQ(PPTP_ERR_CTRLTYPE, pptp_hdr_check(buf, 12, NULL, NULL));
	put16(buf + 8, PPTP_OCRQ);
	CHECK_EQ(PPTP_ERR_LENGTH, pptp_hdr_check(buf, 12, NULL, NULL));
	put16(buf, 168);
	CHECK_EQ(PPTP_OK, pptp_hdr_check(buf, 12, NULL, NULL));
}

/*
 * Every prefix shorter than the message, each in an exact-size heap copy so
 * that ASan reports any read past the end.
 */
static void test_truncated(void)
{
	uint8_t wire[PPTP_MAX_LEN];
	struct pptp_msg m;
	unsigned t;
	size_t len, k;

	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		len = pptp_type_len(t);
		make_msg(t, &m, wire);
		for (k = 0; k < len; k++) {
			uint8_t *c = heap_copy(wire, k);
			uint16_t type = 0, length = 0;

			CHECK_EQ(PPTP_ERR_SHORT, pptp_parse(c, k, &m));
			if (k < PPTP_HDR_LEN) {
				CHECK_EQ(PPTP_ERR_SHORT,
					 pptp_hdr_check(c, k, &type, &length));
			} else {
				/* The header alone is enough to judge it. */
				CHECK_EQ(PPTP_OK,
					 pptp_hdr_check(c, k, &type, &length));
				CHECK_EQ(t, type);
				CHECK_EQ(len, length);
			}
			free(c);
		}
	}
}

static void test_build_small(void)
{
	uint8_t wire[PPTP_MAX_LEN];
	struct pptp_msg m;
	unsigned t;
	size_t len, k;
	uint8_t *c;

	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		len = pptp_type_len(t);
		make_msg(t, &m, wire);
		c = heap_copy(wire, len - 1);

		memset(c, 0xEE, len - 1);
		CHECK_EQ(0, pptp_build(&m, c, len - 1));
		for (k = 0; k < len - 1 && c[k] == 0xEE; k++)
			;
		CHECK_EQ(len - 1, k);	/* nothing written */
		free(c);
		CHECK_EQ(0, pptp_build(&m, wire, 0));
	}
	memset(&m, 0, sizeof(m));
	m.type = 0;
	CHECK_EQ(0, pptp_build(&m, wire, sizeof(wire)));
	m.type = 16;
	CHECK_EQ(0, pptp_build(&m, wire, sizeof(wire)));
}

/* Expected Call ID fields, from PPTP-FACTS.md. */
static void test_id_fields(void)
{
	struct pptp_id_field f[4];
	unsigned t;

	for (t = 0; t <= PPTP_TYPE_MAX + 1; t++) {
		int n = pptp_id_fields(t, f, 4);

		switch (t) {
		case PPTP_OCRQ:
		case PPTP_ICRQ:
		case PPTP_CCRQ:
		case PPTP_CDN:	/* the PAC's own ID: never an alias */
			CHECK_EQ(1, n);
			CHECK_EQ(12, f[0].offset);
			CHECK_EQ(PPTP_ID_SENDER, f[0].owner);
			CHECK_EQ(t == PPTP_OCRQ || t == PPTP_CCRQ ?
				 PPTP_FROM_PNS : PPTP_FROM_PAC, f[0].sender);
			break;
		case PPTP_OCRP:
		case PPTP_ICRP:
			CHECK_EQ(2, n);
			CHECK_EQ(12, f[0].offset);
			CHECK_EQ(PPTP_ID_SENDER, f[0].owner);
			CHECK_EQ(14, f[1].offset);
			CHECK_EQ(PPTP_ID_RECEIVER, f[1].owner);
			CHECK_EQ(t == PPTP_OCRP ? PPTP_FROM_PAC : PPTP_FROM_PNS,
				 f[0].sender);
			CHECK_EQ(f[0].sender, f[1].sender);
			break;
		case PPTP_ICCN:
		case PPTP_WEN:
		case PPTP_SLI:	/* the peer's ID, whoever sends it */
			CHECK_EQ(1, n);
			CHECK_EQ(12, f[0].offset);
			CHECK_EQ(PPTP_ID_RECEIVER, f[0].owner);
			CHECK_EQ(t == PPTP_SLI ? PPTP_FROM_EITHER :
				 PPTP_FROM_PAC, f[0].sender);
			break;
		default:
			CHECK_EQ(0, n);
			break;
		}
		CHECK(n <= PPTP_ID_FIELDS_MAX);
		CHECK_EQ(n == 2 ? 16 : n == 1 ? 14 : PPTP_HDR_LEN,
			 pptp_id_end(t));
	}

	/* pptp_id_get reads the field of the owner asked for. */
	{
		uint8_t m[PPTP_MAX_LEN];
		uint16_t id = 0x5555;

		memset(m, 0, sizeof(m));
		check_put16(m + 12, 0x1112);
		check_put16(m + 14, 0x1314);
		CHECK_EQ(0, pptp_id_get(m, PPTP_OCRP, PPTP_ID_SENDER, &id));
		CHECK_EQ(0x1112, id);
		CHECK_EQ(0, pptp_id_get(m, PPTP_OCRP, PPTP_ID_RECEIVER, &id));
		CHECK_EQ(0x1314, id);
		CHECK_EQ(0, pptp_id_get(m, PPTP_SLI, PPTP_ID_RECEIVER, &id));
		CHECK_EQ(0x1112, id);
		id = 0x5555;
		CHECK_EQ(-1, pptp_id_get(m, PPTP_SLI, PPTP_ID_SENDER, &id));
		CHECK_EQ(-1, pptp_id_get(m, PPTP_CDN, PPTP_ID_RECEIVER, &id));
		CHECK_EQ(-1, pptp_id_get(m, PPTP_SCCRQ, PPTP_ID_SENDER, &id));
		CHECK_EQ(-1, pptp_id_get(m, 0, PPTP_ID_SENDER, &id));
		CHECK_EQ(-1, pptp_id_get(m, 16, PPTP_ID_SENDER, &id));
		CHECK_EQ(0x5555, id);
	}

	/* A short output array gets what fits; the count is still whole. */
	f[1].offset = 0x5555;
	CHECK_EQ(2, pptp_id_fields(PPTP_OCRP, f, 1));
	CHECK_EQ(12, f[0].offset);
	CHECK_EQ(0x5555, f[1].offset);
	CHECK_EQ(1, pptp_id_fields(PPTP_CDN, NULL, 0));
}

static void test_names(void)
{
	unsigned t, u;
	int e, g;

	CHECK(strcmp(pptp_type_name(PPTP_SCCRQ), "SCCRQ") == 0);
	CHECK(strcmp(pptp_type_name(PPTP_OCRP), "OCRP") == 0);
	CHECK(strcmp(pptp_type_name(PPTP_CDN), "CDN") == 0);
	CHECK(strcmp(pptp_type_name(PPTP_SLI), "SLI") == 0);
	CHECK(strcmp(pptp_type_name(0), "?") == 0);
	CHECK(strcmp(pptp_type_name(16), "?") == 0);
	for (t = 1; t <= PPTP_TYPE_MAX; t++) {
		CHECK(pptp_type_name(t) != NULL);
		CHECK(strcmp(pptp_type_name(t), "?") != 0);
		for (u = 1; u < t; u++)
			CHECK(strcmp(pptp_type_name(t), pptp_type_name(u)));
	}
	for (e = 0; e < PPTP_ERR_COUNT; e++) {
		CHECK(pptp_strerror((enum pptp_err)e) != NULL);
		for (g = 0; g < e; g++)
			CHECK(strcmp(pptp_strerror((enum pptp_err)e),
				     pptp_strerror((enum pptp_err)g)));
	}
	CHECK(strcmp(pptp_strerror(PPTP_ERR_COOKIE), "bad magic cookie") == 0);
	CHECK(pptp_strerror(PPTP_ERR_COUNT) != NULL);
}

static const struct check_case cases[] = {
	CHECK_CASE(spec_tables),
	CHECK_CASE(round_trip),
	CHECK_CASE(every_byte),
	CHECK_CASE(known_offsets),
	CHECK_CASE(bad_lengths),
	CHECK_CASE(bad_header),
	CHECK_CASE(truncated),
	CHECK_CASE(build_small),
	CHECK_CASE(id_fields),
	CHECK_CASE(names),
};

int main(int argc, char **argv)
{
	return check_main(argc, argv, cases, CHECK_NCASES(cases));
}
