/*
 * RFC 2637 control messages: header validation, full parse and serialize of
 * all 15 control message types, and the table of Call ID fields that a NAT
 * gateway rewrites.  Pure: no I/O, no globals that change, no logging.
 */
#ifndef PPTPGW_PPTP_MSG_H
#define PPTPGW_PPTP_MSG_H

#include <stddef.h>
#include <stdint.h>

#define PPTP_HDR_LEN 12
#define PPTP_MIN_LEN 12
#define PPTP_MAX_LEN 220
#define PPTP_MAGIC 0x1A2B3C4Du
#define PPTP_MSG_CONTROL 1
#define PPTP_PORT 1723
#define PPTP_VERSION 0x0100   /* Protocol Version 1.0 */

/* Offsets from the start of a message that the translator reads in place. */
enum {
	PPTP_OFF_CTRL_TYPE = 8,       /* every message */
	PPTP_OFF_REPLY_RESULT = 16,   /* OCRP, ICRP: Result Code, Error Code */
	PPTP_OFF_MAX_CHANNELS = 24,   /* SCCRQ, SCCRP */
};

/*
 * Result Codes (RFC 2637 section 2).  1 and 2 mean the same in every reply;
 * the others depend on the message.
 */
enum pptp_result {
	PPTP_RESULT_OK = 1,              /* every reply: OK, connected */
	PPTP_RESULT_GENERAL_ERROR = 2,   /* the Error Code says more */
	PPTP_ICRP_DO_NOT_ACCEPT = 3,     /* ICRP: the PNS takes no call */
	PPTP_CDN_LOST_CARRIER = 1,       /* CDN's Result Code */
	PPTP_CDN_ADMIN_SHUTDOWN = 3,
	PPTP_CDN_REQUEST = 4,            /* answers a Call-Clear-Request */
};

/* Stop-Control-Connection-Request Reason. */
enum pptp_stop_reason {
	PPTP_STOP_NONE = 1,
	PPTP_STOP_PROTOCOL = 2,          /* cannot support the peer's version */
	PPTP_STOP_LOCAL_SHUTDOWN = 3,
};

/* General Error Codes, beside a PPTP_RESULT_GENERAL_ERROR. */
enum pptp_error {
	PPTP_ERROR_NONE = 0,
	PPTP_ERROR_NOT_CONNECTED = 1,
	PPTP_ERROR_BAD_FORMAT = 2,
	PPTP_ERROR_BAD_VALUE = 3,
	PPTP_ERROR_NO_RESOURCE = 4,
	PPTP_ERROR_BAD_CALL_ID = 5,
	PPTP_ERROR_PAC_ERROR = 6,
};

enum pptp_type {
	PPTP_SCCRQ = 1,
	PPTP_SCCRP = 2,
	PPTP_STOPCCRQ = 3,
	PPTP_STOPCCRP = 4,
	PPTP_ECHORQ = 5,
	PPTP_ECHORP = 6,
	PPTP_OCRQ = 7,
	PPTP_OCRP = 8,
	PPTP_ICRQ = 9,
	PPTP_ICRP = 10,
	PPTP_ICCN = 11,
	PPTP_CCRQ = 12,
	PPTP_CDN = 13,
	PPTP_WEN = 14,
	PPTP_SLI = 15,
	PPTP_TYPE_MAX = 15
};

enum pptp_err {
	PPTP_OK = 0,
	PPTP_ERR_SHORT,       /* fewer bytes than the header or the message says */
	PPTP_ERR_LENGTH,      /* length field is not the exact size of the type */
	PPTP_ERR_MSGTYPE,     /* PPTP Message Type is not 1 (control) */
	PPTP_ERR_COOKIE,      /* magic cookie is not 0x1A2B3C4D */
	PPTP_ERR_CTRLTYPE,    /* control message type outside 1..15 */
	PPTP_ERR_COUNT
};

/* Every named field of every message type.  Numeric fields live in
 * pptp_msg.num[], the fixed-size byte fields in pptp_msg.blob[]. */
enum pptp_field {
	PF_PROTO_VERSION,
	PF_RESERVED1,
	PF_RESERVED2,
	PF_FRAMING_CAPS,
	PF_BEARER_CAPS,
	PF_MAX_CHANNELS,
	PF_FIRMWARE_REV,
	PF_RESULT,
	PF_ERROR,
	PF_REASON,
	PF_IDENTIFIER,
	PF_CALL_ID,
	PF_PEER_CALL_ID,
	PF_CALL_SERIAL,
	PF_MIN_BPS,
	PF_MAX_BPS,
	PF_BEARER_TYPE,
	PF_FRAMING_TYPE,
	PF_RECV_WINDOW,
	PF_PROC_DELAY,
	PF_PHONE_LEN,
	PF_CAUSE,
	PF_CONNECT_SPEED,
	PF_PHYS_CHANNEL,
	PF_DIALED_LEN,
	PF_DIALING_LEN,
	PF_CRC_ERRORS,
	PF_FRAMING_ERRORS,
	PF_HW_OVERRUNS,
	PF_BUF_OVERRUNS,
	PF_TIMEOUT_ERRORS,
	PF_ALIGN_ERRORS,
	PF_SEND_ACCM,
	PF_RECV_ACCM,
	PF_NUM_COUNT
};

enum pptp_blob {
	PB_HOSTNAME,   /* 64 */
	PB_VENDOR,     /* 64 */
	PB_PHONE,      /* 64 */
	PB_SUBADDR,    /* 64 */
	PB_DIALED,     /* 64 */
	PB_DIALING,    /* 64 */
	PB_STATS,      /* 128 */
	PB_COUNT
};

#define PPTP_BLOB_MAX 128

struct pptp_msg {
	uint16_t length;
	uint16_t type;        /* enum pptp_type */
	uint16_t reserved0;   /* Cisco PIX sends non-zero: kept, not rejected */
	uint32_t num[PF_NUM_COUNT];
	uint8_t blob[PB_COUNT][PPTP_BLOB_MAX];
};

/* Whose Call ID a field holds: the sender's own, or the receiver's (the
 * "Peer's Call ID" of RFC 2637). */
enum pptp_id_owner { PPTP_ID_SENDER, PPTP_ID_RECEIVER };

/* Which side sends a message, so which way a field may travel. */
enum pptp_sender {
	PPTP_FROM_PNS = 1,        /* the client */
	PPTP_FROM_PAC = 2,        /* the server */
	PPTP_FROM_EITHER = 3,     /* Set-Link-Info: some PACs send it too */
};

struct pptp_id_field {
	uint16_t offset;          /* from the start of the message */
	enum pptp_id_owner owner;
	enum pptp_sender sender;
};

/* No message type has more Call ID fields than this. */
#define PPTP_ID_FIELDS_MAX 2

/* Exact length of a control message type, 0 for an unknown type. */
size_t pptp_type_len(unsigned type);

/* Short name of a type ("OCRQ"); "?" when unknown. */
const char *pptp_type_name(unsigned type);

/* Name of an error value, e.g. "bad magic cookie". */
const char *pptp_strerror(enum pptp_err e);

/*
 * Validate the 12-byte header at p (len bytes available, at least 12 needed).
 * On PPTP_OK, *type and *length hold the message type and its exact length.
 * Only the header is read: the body may not have arrived yet.
 */
enum pptp_err pptp_hdr_check(const uint8_t *p, size_t len, uint16_t *type,
			     uint16_t *length);

/* Parse one whole message at p.  Fails unless len >= the message length. */
enum pptp_err pptp_parse(const uint8_t *p, size_t len, struct pptp_msg *m);

/*
 * Serialize m (its type selects the layout; length is taken from the type,
 * not from m->length).  Returns the bytes written, or 0 if the type is
 * unknown or out is smaller than the message.
 */
size_t pptp_build(const struct pptp_msg *m, uint8_t *out, size_t outlen);

/*
 * Call ID fields of a message type, as RFC 2637 places them: fills up to
 * max entries and returns how many there are (0 for types without one).
 * CDN's field is the sender's own ID; Set-Link-Info's and WAN-Error-Notify's
 * are the receiver's.  A NAT that aliases one side's Call IDs rewrites that
 * side's own fields as they leave and the receiver's fields coming back,
 * and nothing else: never a PAC's own ID in CDN, nor the PAC's ID in a
 * Set-Link-Info from the PNS.
 */
int pptp_id_fields(unsigned type, struct pptp_id_field *out, int max);

/*
 * The Call ID of the given owner in message m of type (at least as many
 * bytes as that field's end): 0 and *id, or -1 when the type has none.
 */
int pptp_id_get(const uint8_t *m, unsigned type, enum pptp_id_owner owner,
		uint16_t *id);

/* Bytes of a message of type up to the end of its last Call ID field
 * (PPTP_HDR_LEN for types without one). */
size_t pptp_id_end(unsigned type);

#endif
