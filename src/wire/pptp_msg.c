/*
 * RFC 2637 control messages.  Each message type has one static table of its
 * fields in wire order; parse and build both walk that table, so every byte
 * after the header belongs to exactly one field (reserved ones included) and
 * a parsed message serializes back to the same bytes.  Parse reads fields
 * in table order while build writes them at their table offsets, so a table
 * with a gap or an overlap fails the round-trip tests at once.
 */
#include <string.h>

#include "wire/pptp_msg.h"
#include "wire/rd.h"

/*
 * One field of a layout.  A size of 1, 2 or 4 means a numeric field kept in
 * pptp_msg.num[id] (an enum pptp_field); 64 or 128 means a byte field kept
 * in pptp_msg.blob[id] (an enum pptp_blob).
 */
struct pptp_fdesc {
	uint8_t id;
	uint8_t off;
	uint8_t size;
};

struct pptp_layout {
	uint16_t len;
	uint8_t nfields;
	const struct pptp_fdesc *f;
};

static const struct pptp_fdesc f_sccrq[] = {
	{ PF_PROTO_VERSION, 12, 2 },
	{ PF_RESERVED1, 14, 2 },
	{ PF_FRAMING_CAPS, 16, 4 },
	{ PF_BEARER_CAPS, 20, 4 },
	{ PF_MAX_CHANNELS, 24, 2 },
	{ PF_FIRMWARE_REV, 26, 2 },
	{ PB_HOSTNAME, 28, 64 },
	{ PB_VENDOR, 92, 64 },
};

static const struct pptp_fdesc f_sccrp[] = {
	{ PF_PROTO_VERSION, 12, 2 },
	{ PF_RESULT, 14, 1 },
	{ PF_ERROR, 15, 1 },
	{ PF_FRAMING_CAPS, 16, 4 },
	{ PF_BEARER_CAPS, 20, 4 },
	{ PF_MAX_CHANNELS, 24, 2 },
	{ PF_FIRMWARE_REV, 26, 2 },
	{ PB_HOSTNAME, 28, 64 },
	{ PB_VENDOR, 92, 64 },
};

static const struct pptp_fdesc f_stopccrq[] = {
	{ PF_REASON, 12, 1 },
	{ PF_RESERVED1, 13, 1 },
	{ PF_RESERVED2, 14, 2 },
};

static const struct pptp_fdesc f_stopccrp[] = {
	{ PF_RESULT, 12, 1 },
	{ PF_ERROR, 13, 1 },
	{ PF_RESERVED2, 14, 2 },
};

static const struct pptp_fdesc f_echorq[] = {
	{ PF_IDENTIFIER, 12, 4 },
};

static const struct pptp_fdesc f_echorp[] = {
	{ PF_IDENTIFIER, 12, 4 },
	{ PF_RESULT, 16, 1 },
	{ PF_ERROR, 17, 1 },
	{ PF_RESERVED1, 18, 2 },
};

static const struct pptp_fdesc f_ocrq[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_CALL_SERIAL, 14, 2 },
	{ PF_MIN_BPS, 16, 4 },
	{ PF_MAX_BPS, 20, 4 },
	{ PF_BEARER_TYPE, 24, 4 },
	{ PF_FRAMING_TYPE, 28, 4 },
	{ PF_RECV_WINDOW, 32, 2 },
	{ PF_PROC_DELAY, 34, 2 },
	{ PF_PHONE_LEN, 36, 2 },
	{ PF_RESERVED1, 38, 2 },
	{ PB_PHONE, 40, 64 },
	{ PB_SUBADDR, 104, 64 },
};

static const struct pptp_fdesc f_ocrp[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_PEER_CALL_ID, 14, 2 },
	{ PF_RESULT, 16, 1 },
	{ PF_ERROR, 17, 1 },
	{ PF_CAUSE, 18, 2 },
	{ PF_CONNECT_SPEED, 20, 4 },
	{ PF_RECV_WINDOW, 24, 2 },
	{ PF_PROC_DELAY, 26, 2 },
	{ PF_PHYS_CHANNEL, 28, 4 },
};

static const struct pptp_fdesc f_icrq[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_CALL_SERIAL, 14, 2 },
	{ PF_BEARER_TYPE, 16, 4 },
	{ PF_PHYS_CHANNEL, 20, 4 },
	{ PF_DIALED_LEN, 24, 2 },
	{ PF_DIALING_LEN, 26, 2 },
	{ PB_DIALED, 28, 64 },
	{ PB_DIALING, 92, 64 },
	{ PB_SUBADDR, 156, 64 },
};

static const struct pptp_fdesc f_icrp[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_PEER_CALL_ID, 14, 2 },
	{ PF_RESULT, 16, 1 },
	{ PF_ERROR, 17, 1 },
	{ PF_RECV_WINDOW, 18, 2 },
	{ PF_PROC_DELAY, 20, 2 },
	{ PF_RESERVED1, 22, 2 },
};

static const struct pptp_fdesc f_iccn[] = {
	{ PF_PEER_CALL_ID, 12, 2 },
	{ PF_RESERVED1, 14, 2 },
	{ PF_CONNECT_SPEED, 16, 4 },
	{ PF_RECV_WINDOW, 20, 2 },
	{ PF_PROC_DELAY, 22, 2 },
	{ PF_FRAMING_TYPE, 24, 4 },
};

static const struct pptp_fdesc f_ccrq[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_RESERVED1, 14, 2 },
};

static const struct pptp_fdesc f_cdn[] = {
	{ PF_CALL_ID, 12, 2 },
	{ PF_RESULT, 14, 1 },
	{ PF_ERROR, 15, 1 },
	{ PF_CAUSE, 16, 2 },
	{ PF_RESERVED1, 18, 2 },
	{ PB_STATS, 20, 128 },
};

static const struct pptp_fdesc f_wen[] = {
	{ PF_PEER_CALL_ID, 12, 2 },
	{ PF_RESERVED1, 14, 2 },
	{ PF_CRC_ERRORS, 16, 4 },
	{ PF_FRAMING_ERRORS, 20, 4 },
	{ PF_HW_OVERRUNS, 24, 4 },
	{ PF_BUF_OVERRUNS, 28, 4 },
	{ PF_TIMEOUT_ERRORS, 32, 4 },
	{ PF_ALIGN_ERRORS, 36, 4 },
};

static const struct pptp_fdesc f_sli[] = {
	{ PF_PEER_CALL_ID, 12, 2 },
	{ PF_RESERVED1, 14, 2 },
	{ PF_SEND_ACCM, 16, 4 },
	{ PF_RECV_ACCM, 20, 4 },
};

#define LAYOUT(len, f) { (len), sizeof(f) / sizeof((f)[0]), (f) }

/* Index 0 is empty so the table is indexed by the wire type directly. */
static const struct pptp_layout layouts[PPTP_TYPE_MAX + 1] = {
	[PPTP_SCCRQ] = LAYOUT(156, f_sccrq),
	[PPTP_SCCRP] = LAYOUT(156, f_sccrp),
	[PPTP_STOPCCRQ] = LAYOUT(16, f_stopccrq),
	[PPTP_STOPCCRP] = LAYOUT(16, f_stopccrp),
	[PPTP_ECHORQ] = LAYOUT(16, f_echorq),
	[PPTP_ECHORP] = LAYOUT(20, f_echorp),
	[PPTP_OCRQ] = LAYOUT(168, f_ocrq),
	[PPTP_OCRP] = LAYOUT(32, f_ocrp),
	[PPTP_ICRQ] = LAYOUT(220, f_icrq),
	[PPTP_ICRP] = LAYOUT(24, f_icrp),
	[PPTP_ICCN] = LAYOUT(28, f_iccn),
	[PPTP_CCRQ] = LAYOUT(16, f_ccrq),
	[PPTP_CDN] = LAYOUT(148, f_cdn),
	[PPTP_WEN] = LAYOUT(40, f_wen),
	[PPTP_SLI] = LAYOUT(24, f_sli),
};

static const char *const type_names[PPTP_TYPE_MAX + 1] = {
	[PPTP_SCCRQ] = "SCCRQ",
	[PPTP_SCCRP] = "SCCRP",
	[PPTP_STOPCCRQ] = "StopCCRQ",
	[PPTP_STOPCCRP] = "StopCCRP",
	[PPTP_ECHORQ] = "EchoRQ",
	[PPTP_ECHORP] = "EchoRP",
	[PPTP_OCRQ] = "OCRQ",
	[PPTP_OCRP] = "OCRP",
	[PPTP_ICRQ] = "ICRQ",
	[PPTP_ICRP] = "ICRP",
	[PPTP_ICCN] = "ICCN",
	[PPTP_CCRQ] = "CCRQ",
	[PPTP_CDN] = "CDN",
	[PPTP_WEN] = "WEN",
	[PPTP_SLI] = "SLI",
};

static const char *const err_names[PPTP_ERR_COUNT] = {
	[PPTP_OK] = "ok",
	[PPTP_ERR_SHORT] = "truncated message",
	[PPTP_ERR_LENGTH] = "bad length for type",
	[PPTP_ERR_MSGTYPE] = "not a control message",
	[PPTP_ERR_COOKIE] = "bad magic cookie",
	[PPTP_ERR_CTRLTYPE] = "unknown control message type",
};

/*
 * Call ID fields per type.  CDN carries the PAC's own ID and SLI/WEN carry
 * the receiver's: a gateway that rewrites them by position breaks calls.
 */
static const struct pptp_id_field id_pns12[] = {
	{ 12, PPTP_ID_SENDER, PPTP_FROM_PNS },
};
static const struct pptp_id_field id_pac12[] = {
	{ 12, PPTP_ID_SENDER, PPTP_FROM_PAC },
};
static const struct pptp_id_field id_pac12_pns14[] = {
	{ 12, PPTP_ID_SENDER, PPTP_FROM_PAC },
	{ 14, PPTP_ID_RECEIVER, PPTP_FROM_PAC },
};
static const struct pptp_id_field id_pns12_pac14[] = {
	{ 12, PPTP_ID_SENDER, PPTP_FROM_PNS },
	{ 14, PPTP_ID_RECEIVER, PPTP_FROM_PNS },
};
static const struct pptp_id_field id_to_pns12[] = {
	{ 12, PPTP_ID_RECEIVER, PPTP_FROM_PAC },
};
static const struct pptp_id_field id_to_either12[] = {
	{ 12, PPTP_ID_RECEIVER, PPTP_FROM_EITHER },
};

static const struct {
	uint8_t n;
	const struct pptp_id_field *f;
} id_tables[PPTP_TYPE_MAX + 1] = {
	[PPTP_OCRQ] = { 1, id_pns12 },
	[PPTP_OCRP] = { 2, id_pac12_pns14 },
	[PPTP_ICRQ] = { 1, id_pac12 },
	[PPTP_ICRP] = { 2, id_pns12_pac14 },
	[PPTP_ICCN] = { 1, id_to_pns12 },
	[PPTP_CCRQ] = { 1, id_pns12 },
	[PPTP_CDN] = { 1, id_pac12 },
	[PPTP_WEN] = { 1, id_to_pns12 },
	[PPTP_SLI] = { 1, id_to_either12 },
};

static const struct pptp_layout *layout_of(unsigned type)
{
	if (type < 1 || type > PPTP_TYPE_MAX)
		return NULL;
	return &layouts[type];
}

size_t pptp_type_len(unsigned type)
{
	const struct pptp_layout *l = layout_of(type);

	return l ? l->len : 0;
}

const char *pptp_type_name(unsigned type)
{
	if (type < 1 || type > PPTP_TYPE_MAX)
		return "?";
	return type_names[type];
}

const char *pptp_strerror(enum pptp_err e)
{
	if ((unsigned)e >= PPTP_ERR_COUNT)
		return "unknown error";
	return err_names[e];
}

/*
 * Checks run in a fixed order, and the first failure is the result:
 * short, message type, magic cookie, control type, length.  The length can
 * only be judged once the control type is known, and a wrong cookie says
 * "not PPTP at all" more reliably than anything after it.
 */
enum pptp_err pptp_hdr_check(const uint8_t *p, size_t len, uint16_t *type,
			     uint16_t *length)
{
	struct rd r = rd_init(p, len);
	uint16_t l, mt, ct;
	uint32_t cookie;

	if (len < PPTP_HDR_LEN || rd_u16(&r, &l) < 0 ||
	    rd_u16(&r, &mt) < 0 || rd_u32(&r, &cookie) < 0 ||
	    rd_u16(&r, &ct) < 0)
		return PPTP_ERR_SHORT;
	if (mt != PPTP_MSG_CONTROL)
		return PPTP_ERR_MSGTYPE;
	if (cookie != PPTP_MAGIC)
		return PPTP_ERR_COOKIE;
	if (ct < 1 || ct > PPTP_TYPE_MAX)
		return PPTP_ERR_CTRLTYPE;
	/* Exact size only: this also rejects 0, which would stall a stream
	 * reader that advances by the length field. */
	if (l != pptp_type_len(ct))
		return PPTP_ERR_LENGTH;
	if (type)
		*type = ct;
	if (length)
		*length = l;
	return PPTP_OK;
}

enum pptp_err pptp_parse(const uint8_t *p, size_t len, struct pptp_msg *m)
{
	const struct pptp_layout *lay;
	enum pptp_err e;
	uint16_t type, length, v16 = 0;
	uint8_t v8 = 0;
	uint32_t v32 = 0;
	struct rd r;
	unsigned i;

	memset(m, 0, sizeof(*m));
	e = pptp_hdr_check(p, len, &type, &length);
	if (e != PPTP_OK)
		return e;
	if (len < length)
		return PPTP_ERR_SHORT;
	lay = layout_of(type);

	/* The cursor covers this message only, never bytes of the next one. */
	r = rd_init(p, length);
	if (rd_skip(&r, 10) < 0 || rd_u16(&r, &m->reserved0) < 0)
		return PPTP_ERR_SHORT;
	m->length = length;
	m->type = type;

	for (i = 0; i < lay->nfields; i++) {
		const struct pptp_fdesc *f = &lay->f[i];
		int rc;

		switch (f->size) {
		case 1:
			rc = rd_u8(&r, &v8);
			m->num[f->id] = v8;
			break;
		case 2:
			rc = rd_u16(&r, &v16);
			m->num[f->id] = v16;
			break;
		case 4:
			rc = rd_u32(&r, &v32);
			m->num[f->id] = v32;
			break;
		default:
			rc = rd_bytes(&r, m->blob[f->id], f->size);
			break;
		}
		if (rc < 0)
			return PPTP_ERR_SHORT;
	}
	return PPTP_OK;
}

/*
 * Numeric values wider than their field are truncated to its size, as the
 * wire cannot carry more; a parsed message never has such values.
 */
size_t pptp_build(const struct pptp_msg *m, uint8_t *out, size_t outlen)
{
	const struct pptp_layout *lay = layout_of(m->type);
	unsigned i;

	if (!lay || outlen < lay->len)
		return 0;
	memset(out, 0, lay->len);
	be16_put(out, lay->len);
	be16_put(out + 2, PPTP_MSG_CONTROL);
	be32_put(out + 4, PPTP_MAGIC);
	be16_put(out + 8, m->type);
	be16_put(out + 10, m->reserved0);

	for (i = 0; i < lay->nfields; i++) {
		const struct pptp_fdesc *f = &lay->f[i];

		switch (f->size) {
		case 1:
			out[f->off] = (uint8_t)m->num[f->id];
			break;
		case 2:
			be16_put(out + f->off, (uint16_t)m->num[f->id]);
			break;
		case 4:
			be32_put(out + f->off, m->num[f->id]);
			break;
		default:
			memcpy(out + f->off, m->blob[f->id], f->size);
			break;
		}
	}
	return lay->len;
}

int pptp_id_fields(unsigned type, struct pptp_id_field *out, int max)
{
	int i, n;

	if (type < 1 || type > PPTP_TYPE_MAX)
		return 0;
	n = id_tables[type].n;
	for (i = 0; i < n && i < max; i++)
		out[i] = id_tables[type].f[i];
	return n;
}

int pptp_id_get(const uint8_t *m, unsigned type, enum pptp_id_owner owner,
		uint16_t *id)
{
	int i;

	if (type < 1 || type > PPTP_TYPE_MAX)
		return -1;
	for (i = 0; i < id_tables[type].n; i++)
		if (id_tables[type].f[i].owner == owner) {
			*id = be16_get(m + id_tables[type].f[i].offset);
			return 0;
		}
	return -1;
}

size_t pptp_id_end(unsigned type)
{
	size_t end = PPTP_HDR_LEN;
	int i;

	if (type < 1 || type > PPTP_TYPE_MAX)
		return end;
	for (i = 0; i < id_tables[type].n; i++)
		if (id_tables[type].f[i].offset + 2u > end)
			end = id_tables[type].f[i].offset + 2u;
	return end;
}
