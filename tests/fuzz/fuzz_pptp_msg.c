/*
 * libFuzzer target for pptp_msg.c: whatever the header check and the
 * parser accept must serialize back to exactly the bytes it came from, and
 * the two entry points must agree on what they accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/pptp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[PPTP_MAX_LEN];
	struct pptp_msg m;
	enum pptp_err he, pe;
	uint16_t type = 0, length = 0;
	size_t n;

	he = pptp_hdr_check(data, size, &type, &length);
	pe = pptp_parse(data, size, &m);

	if (he != PPTP_OK) {
		/* The parser runs the same header check first. */
		if (pe != he)
			abort();
		return 0;
	}
	if (type < 1 || type > PPTP_TYPE_MAX || length != pptp_type_len(type))
		abort();
	if (size < length) {
		if (pe != PPTP_ERR_SHORT)
			abort();
		return 0;
	}
	if (pe != PPTP_OK || m.type != type || m.length != length)
		abort();

	n = pptp_build(&m, out, sizeof(out));
	if (n != length || memcmp(out, data, n) != 0)
		abort();
	/* One byte short of room must write nothing and say so. */
	if (pptp_build(&m, out, n - 1) != 0)
		abort();
	return 0;
}
