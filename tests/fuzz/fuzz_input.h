/* The fuzz input as a stream of bytes the targets draw their choices from. */
#ifndef PPTPGW_FUZZ_INPUT_H
#define PPTPGW_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct in {
	const uint8_t *p;
	size_t len;
};

/* The next byte, or 0 once the input is used up. */
static inline uint8_t take(struct in *in)
{
	uint8_t v;

	if (in->len == 0)
		return 0;
	v = *in->p++;
	in->len--;
	return v;
}

#endif
