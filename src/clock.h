/* The one clock of the I/O layer: the pure modules take time as a parameter. */
#ifndef PPTPGW_CLOCK_H
#define PPTPGW_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock: only differences mean anything. */
uint64_t now_ms(void);

#endif
